"""One client connection: an asyncio Protocol that parses requests, runs them through the
dispatcher and writes every reply of one read as a single ``transport.write``.

Group commit: the first read of a loop iteration opens a *tick* (:meth:`Server.open_tick`);
commits of every client in that iteration share one RocksDB write, done when the tick
closes, and replies are held until then — nothing is acknowledged before it is in the WAL.

A handler returns reply bytes, or an awaitable for commands that block (BLPOP, WAIT, ...);
then the connection stops reading, awaits it, writes its reply and carries on with the rest
of the pipeline — so a blocked client never blocks the server. The same parking serves a
command postponed by CLIENT PAUSE and a slow command run off the event loop; SLOWLOG sees
such a command when its reply is ready (:meth:`_unblocked`), as Redis logs a blocked command
when it is unblocked.

Memory per client stays bounded (see docs at :meth:`Connection.pause_writing`): one read's
commands stop running once their replies pass ``OUT_CHUNK`` bytes (the rest wait until the
output is written), and a client whose transport buffer is above its high-water mark is not
read from — unless its class has a hard client-output-buffer-limit, which then cuts it off
(Redis keeps reading such a client until the limit is reached).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from pikadb.commands import blocking, monitor, slowlog, transactions
from pikadb.commands._acl_check import on_connect as acl_on_connect
from pikadb.commands._gate import refresh_gate
from pikadb.commands.context import REPLY_ON, REPLY_SKIP, REPLY_SKIP_NEXT, ClientState
from pikadb.commands.pubsub import (
    client_class,
    log_output_limit,
    over_output_limit,
    unsubscribe_all,
)
from pikadb.config.obuf import DEFAULT as OBUF_DEFAULT
from pikadb.core import errors
from pikadb.protocol.parser import QUERY_BUFFER_LIMIT_ERROR, RequestParser
from pikadb.protocol.reply import error
from pikadb.server.dispatch import execute, is_postponed

if TYPE_CHECKING:
    from pikadb.server.app import Server

log = logging.getLogger("pikadb.server")

# Commands queued behind a blocked command before we stop reading the client.
BACKLOG_LIMIT = 100_000
# Reply bytes one batch of pipelined commands may produce before the rest of the batch waits
# for the output to be written (a pipeline of big GETs must not build gigabytes at once).
OUT_CHUNK = 4 << 20
# Per-connection memory outside the buffers (the objects of a Connection, its transport and
# parser), measured with tests/integration/test_many_clients.py; CLIENT LIST tot-mem adds it.
CONN_BASE_MEM = 4800


class Connection(asyncio.Protocol, ClientState):
    def __init__(self, server: Server) -> None:
        ClientState.__init__(self, server, server.next_client_id())
        self.srv = server
        self.transport: asyncio.Transport | None = None
        s = server.settings.server
        self.parser = RequestParser(s.proto_max_bulk_len, s.client_query_buffer_limit)
        self.authenticated = not server.requires_auth()
        self._pending: asyncio.Future[Any] | None = None
        self._out: list[bytes] = []  # replies held until the tick's write is done
        self.held = False  # registered with the server's current tick
        self._backlog: list[list[bytes]] = []
        self._yielded = False  # the batch stopped at OUT_CHUNK: the backlog runs when written
        self._paused_writing = False
        self._read_on = False  # paused writing, but an output limit lets it go on (Redis-like)
        self._closed = False
        self._pushed = 0  # bytes pushed (pub/sub) since the held output was last written
        # the parked command (args, start ns, waits for a key) for SLOWLOG when it completes
        self._parked: tuple[list[bytes], int, bool] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        self.addr = _fmt_addr(peer)
        self.laddr = _fmt_addr(sock)
        s = transport.get_extra_info("socket")
        self.fd = s.fileno() if s is not None else -1
        srv = self.srv
        srv.stats.total_connections_received += 1
        if len(srv.clients) >= srv.settings.server.maxclients:
            srv.stats.rejected_connections += 1
            transport.write(error(errors.MAX_CLIENTS))
            transport.close()
            self._closed = True
            return
        srv.clients[self.id] = self
        slowlog.install(srv)  # the dispatcher's slow_us threshold, kept current
        refresh_gate(self)  # on if clients are paused right now
        acl_on_connect(self)  # ACL: the default user; protected mode may refuse the client

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.srv.clients.pop(self.id, None)
        if self.subscribed:  # pub/sub: a gone client leaves its channels
            unsubscribe_all(self)
        if self.gate:  # MULTI / WATCH / MONITOR state
            transactions.forget_client(self)
            monitor.stop(self)
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()

    def pause_writing(self) -> None:
        """The transport's buffer passed its high-water mark: the client does not read its
        replies. Stop reading its requests until it drains, so its memory stays bounded —
        unless its class has an output limit that can still act: then keep serving it (as
        Redis does) until the limit cuts it off (:meth:`_check_output`)."""
        self._paused_writing = True
        if self.transport is not None and not self._closed:
            self._check_output()

    def resume_writing(self) -> None:
        self._paused_writing = False
        self._read_on = False
        if self.obuf_soft_since:
            self.obuf_soft_since = 0.0
        if self._closed:
            return
        if self._yielded:
            self._continue()
        elif self.transport is not None and self._pending is None:
            self.transport.resume_reading()

    def _check_output(self) -> None:
        """checkClientOutputBufferLimits on the transport's pending output (normal, replica
        and pubsub classes alike), while it is above the high-water mark: close the client
        when over its limit. Otherwise decide whether to go on serving it (``_read_on``):
        yes below a hard limit, or below a soft one; a client held at its soft limit is
        checked again once the limit's seconds have passed; with no limit, it waits."""
        t = self.transport
        if t is None or self._closed or not self._paused_writing:
            return
        used = t.get_write_buffer_size()
        if over_output_limit(self, used):
            log_output_limit(self, used)
            self._closed = True
            self._out = []
            self._backlog = []
            t.abort()
            return
        hard, soft, secs = (self.srv.obuf_limits or OBUF_DEFAULT)[client_class(self)]
        self._read_on = bool(hard) or (bool(soft) and used < soft)
        if not self._read_on:
            t.pause_reading()
            if soft and self.obuf_soft_since and self.srv.loop is not None:
                self.srv.loop.call_later(secs + 0.2, self._check_output)

    def data_received(self, data: bytes) -> None:
        srv = self.srv
        srv.stats.net_input_bytes += len(data)
        self.last_interaction = time.time()
        if not self.authenticated:
            self._received_unauth(data)
            return
        cmds = self.parser.feed(data)
        if self._pending is not None or self._yielded:  # queue behind the parked command
            self._backlog += cmds
            if len(self._backlog) > BACKLOG_LIMIT and self.transport is not None:
                self.transport.pause_reading()  # resumed when the blocked command ends
            return
        self._run(cmds, 0)

    def _received_unauth(self, data: bytes) -> None:
        """Before AUTH: Redis's request limits, and each request is parsed only after the
        previous one ran (an AUTH lifts the limits for the next request of the pipeline)."""
        p = self.parser
        p.unauth = True
        cmds = p.feed(data)
        if self._pending is not None or self._yielded:
            self._backlog += cmds
            return
        self._run_unauth(cmds)

    def _run_unauth(self, cmds: list[list[bytes]]) -> None:
        p = self.parser
        while True:
            self._run(cmds, 0)
            if self._pending is not None or self._yielded or self._closed:
                return
            if self.close_after_reply or p.error is not None:
                return
            if self.authenticated:
                p.unauth = False
            if not p.has_rest:
                return
            cmds = p.resume()

    # -- execution ------------------------------------------------------------------------
    def _run(self, cmds: list[list[bytes]], start: int) -> None:
        srv = self.srv
        srv.open_tick()
        out = self._out
        n = len(cmds)
        i = start
        size = 0
        while i < n:
            reply = execute(self, cmds[i])
            i += 1
            if blocking.READY:  # serve woken blocked clients after each command, as Redis
                blocking.serve_all_ready()
            if type(reply) is not bytes and isinstance(reply, Awaitable):
                self._block(reply, cmds, i)
                break
            if self.reply_mode == REPLY_ON:
                out.append(reply)
                size += len(reply)
                if size > OUT_CHUNK and i < n:  # the rest waits until this is written
                    self._yield(cmds, i)
                    break
            else:
                self._suppressed()
            if self.close_after_reply:
                break
        else:
            perr = self.parser.error
            if perr is not None and not self.close_after_reply:
                self.close_after_reply = True
                if perr.message == QUERY_BUFFER_LIMIT_ERROR:  # Redis: no reply, a log line
                    log.warning(
                        "Closing client that reached max query buffer length: id=%d addr=%s",
                        self.id,
                        self.addr,
                    )
                else:
                    out.append(error(perr.message))
        if out or self.close_after_reply:
            srv.hold_output(self)

    def _suppressed(self) -> None:
        """A reply was dropped (CLIENT REPLY OFF/SKIP): advance the SKIP states."""
        if self.reply_mode == REPLY_SKIP:
            self.reply_mode = REPLY_ON
        elif self.reply_mode == REPLY_SKIP_NEXT:
            self.reply_mode = REPLY_SKIP

    def _yield(self, cmds: list[list[bytes]], resume_at: int) -> None:
        """Stop the batch: its replies so far go out first, the rest runs after."""
        self._backlog = cmds[resume_at:] + self._backlog
        self._yielded = True
        if self.transport is not None:
            self.transport.pause_reading()

    def _continue(self) -> None:
        """Run the rest of a yielded batch (its earlier replies were handed to the socket)."""
        if not self._yielded or self._closed or self._pending is not None:
            return
        self._yielded = False
        backlog, self._backlog = self._backlog, []
        if (not self._paused_writing or self._read_on) and self.transport is not None:
            self.transport.resume_reading()
        if self.parser.unauth:
            self._run_unauth(backlog)
        else:
            self._run(backlog, 0)

    def send_held(self) -> None:
        """Write the replies held during the tick (called by the server after the write)."""
        out = self._out
        if out:
            self._out = []
            if self.transport is not None and not self._closed:
                data = out[0] if len(out) == 1 else b"".join(out)
                self.srv.stats.net_output_bytes += len(data)
                self.transport.write(data)
                if self._paused_writing:  # above the high-water mark: the output limits
                    self._check_output()
        if self.close_after_reply:
            self.close()
        elif (
            self._yielded
            and (not self._paused_writing or self._read_on)
            and self.srv.loop is not None
        ):
            self.srv.loop.call_soon(self._continue)

    def fail_held(self, message: str) -> None:
        """The tick's write failed: nothing held may be acknowledged."""
        self._out = [error(message)]
        self.close_after_reply = True
        self.send_held()

    def _block(self, awaitable: Awaitable[bytes], cmds: list[list[bytes]], resume_at: int) -> None:
        # Keep reading while blocked (as Redis): a disconnect must be noticed so the dead
        # waiter leaves its queue; commands that arrive wait in the backlog.
        self._backlog = cmds[resume_at:]
        if not is_postponed(awaitable):  # (a postponed command is logged when it runs)
            waits = self.id in blocking.registry(self.srv).by_client
            self._parked = (cmds[resume_at - 1], perf_counter_ns(), waits)
        fut = asyncio.ensure_future(awaitable)
        self._pending = fut
        fut.add_done_callback(self._unblocked)

    def _unblocked(self, fut: asyncio.Future[Any]) -> None:
        self._pending = None
        parked, self._parked = self._parked, None
        if fut.cancelled() or self._closed:
            return
        if parked is not None:
            args, t0, waited = parked
            # a blocked command's own work is the pop when served (~0); an offloaded one
            # ran all along
            slowlog.observe_done(self, args, 0 if waited else (perf_counter_ns() - t0) // 1000)
        exc = fut.exception()
        if exc is not None:
            msg = exc.message if isinstance(exc, errors.CommandError) else f"ERR {exc}"
            reply = error(msg)
        else:
            reply = fut.result()
        self.srv.open_tick()
        if self.reply_mode == REPLY_ON:
            self._out.append(reply)
        else:
            self._suppressed()
        backlog, self._backlog = self._backlog, []
        if not self._paused_writing and self.transport is not None:
            self.transport.resume_reading()
        if self.parser.unauth:
            self._run_unauth(backlog)
        else:
            self._run(backlog, 0)

    # -- ClientState ----------------------------------------------------------------------
    def close(self) -> None:
        if self.transport is not None and not self._closed:
            self._closed = True
            self.transport.close()

    def kill(self) -> None:
        self.close()

    def idle_timeout_applies(self) -> bool:
        """Whether ``timeout`` may close this client: not replicas/masters, subscribers,
        monitors, nor a client blocked in a command (clientsCronHandleTimeout)."""
        return (
            self.kind == "normal"
            and self._pending is None
            and not self.monitoring
            and not self.subscribed
        )

    # -- pub/sub pushes (commands/pubsub.py) ----------------------------------------------
    def push(self, data: bytes) -> None:
        """Queue ``data`` behind this client's pending replies (written with the tick's
        held output, so ordering holds); disconnect the client if its pending output passes
        client-output-buffer-limit for its class instead of buffering without bound."""
        if self._closed:
            return
        if not self.held:  # nothing of ours is waiting: start counting afresh
            self._pushed = 0
            self.srv.open_tick()
            self.srv.hold_output(self)
        self._out.append(data)
        self._pushed += len(data)
        t = self.transport
        if t is not None:
            used = t.get_write_buffer_size() + self._pushed
            if used < self.srv.obuf_floor:  # under every limit (the common case)
                if self.obuf_soft_since:
                    self.obuf_soft_since = 0.0
            elif over_output_limit(self, used):
                log_output_limit(self, used)
                self._closed = True  # nothing more is written; memory is released now
                self._out = []
                t.abort()

    # -- end pub/sub pushes ----------------------------------------------------------------
    def query_buffer_size(self) -> int:
        return self.parser.buffered

    def output_buffer_size(self) -> int:
        t = self.transport
        held = sum(map(len, self._out))
        return held + (t.get_write_buffer_size() if t is not None and not self._closed else 0)

    def memory_stats(self) -> dict[str, int]:
        """The buffer figures of CLIENT LIST / CLIENT INFO (Redis 7.0's names), measured on
        our buffers: qbuf = unparsed input; argv-mem = the args of a parked (blocked)
        command and of the commands queued behind it; multi-mem = args queued by MULTI;
        obl = replies held for the current tick; oll/omem = chunks and bytes waiting in the
        transport; tot-mem = all of that plus the fixed cost of a connection
        (CONN_BASE_MEM). The caller adds the args of the command it is running."""
        qbuf = self.parser.buffered
        parked = self._parked
        argv = sum(map(len, parked[0])) if parked is not None else 0
        for cmd in self._backlog:
            argv += sum(map(len, cmd))
        obl = sum(map(len, self._out))
        t = self.transport
        omem = t.get_write_buffer_size() if t is not None and not self._closed else 0
        multi = 0
        if self.multi is not None:
            for item in self.multi:
                args = item[1] if isinstance(item, tuple) and len(item) > 1 else ()
                multi += sum(len(a) for a in args if type(a) is bytes)
        return {
            "qbuf": qbuf,
            "qbuf-free": 0,
            "argv-mem": argv,
            "multi-mem": multi,
            "obl": obl,
            "oll": 1 if omem else 0,
            "omem": omem,
            "tot-mem": CONN_BASE_MEM + qbuf + argv + multi + obl + omem,
        }


def _fmt_addr(addr: Any) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        return f"{addr[0]}:{addr[1]}"
    return str(addr or "?:0")
