"""Busy scripts: what other clients get while a script runs past ``busy-reply-threshold``
(Redis's processEventsWhileBlocked, script.c scriptInterrupt).

The design, and why. The server is one asyncio (uvloop) thread; a script runs inside the
caller's command on that thread, synchronously, as Redis runs it: that is what makes a script
atomic and one binlog unit (group commit writes the tick at its end), and it keeps EVALSHA of a
small script cheap (~µs; handing every script to a worker thread and back costs 35-70 µs on
this machine, measured, plus a second thread touching storage). The price: while a script
runs, the event loop does not. Redis has the same problem and solves it from the Lua count
hook: every 100k instructions the hook checks the elapsed time and, past the threshold,
*itself* reads the other clients' sockets and answers them (BUSY to everything but
SCRIPT KILL / FUNCTION KILL / FUNCTION STATS / SHUTDOWN NOSAVE / MULTI...).

We do exactly that: :func:`process_events`, called from the count hook
(``_lua_runtime._interrupt``), polls the other clients' sockets (``select.poll``, timeout 0),
reads what arrived with ``os.read`` (the sockets are non-blocking; uvloop simply finds
nothing to read later), feeds it to the connection's own request parser (so a partial
command stays buffered for the loop to finish), and answers each complete command at once
with ``transport.write`` (legal: we are on the loop thread, inside a callback).
``SCRIPT KILL`` sets ``run.killed``; the hook then raises "Script killed by user with SCRIPT
KILL..." in the script, and keeps raising it on every line so ``pcall`` cannot swallow it.
``SHUTDOWN NOSAVE`` exits the process at once, as Redis does (a script's partial writes are
never committed: the tick's RocksDB write has not happened).

When the script becomes busy (:func:`enter_busy`), what the tick staged *before* the script
began is written out as its own RocksDB write and binlog record
(``store.flush_before_atomic()``): the commands other clients ran earlier in the same tick
become durable, so their held replies can be sent now instead of hanging behind the script,
while the script's own writes stay pending and still become ONE write and record.

Clients skipped (their bytes stay in the kernel until the loop runs again): the script's
caller (Redis's protectClient), clients with a blocked/parked command, closed ones.

New connections (``redis-cli script kill`` from a shell) are accepted here too: we
``accept()`` on the listening sockets, answer the new client's complete commands straight on
its socket (bytes are consumed with ``MSG_PEEK`` + exactly the length the complete commands
took, so a partial command stays in the kernel), and when the script ends the socket is
handed to asyncio (``loop.connect_accepted_socket``) with a connection made like the
caller's: from then on it is an ordinary client (state set while busy, AUTH included, is not
carried over).

The server-layer attributes used (``parser``, ``transport``, ``held``, ``_pending``,
``_closed`` of connections, ``_servers`` of the server) are read with ``getattr``; anything
missing is skipped. A ``ServerState`` hook for this would be cleaner (asked for in the report).
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import socket
import time
from typing import TYPE_CHECKING, Any

from pikadb.commands._call import call, reject, resolve
from pikadb.commands.context import REPLY_ON, ClientState
from pikadb.commands.table import Command
from pikadb.core import errors
from pikadb.protocol.parser import RequestParser
from pikadb.protocol.reply import error

if TYPE_CHECKING:
    from pikadb.commands._lua_runtime import Run

log = logging.getLogger("pikadb.scripting")
_READ = 1 << 16


def _usable(c: ClientState, caller: ClientState) -> bool:
    return (
        c is not caller
        and c.fd >= 0
        and getattr(c, "parser", None) is not None
        and getattr(c, "transport", None) is not None
        and not getattr(c, "held", True)
        and getattr(c, "_pending", None) is None
        and not getattr(c, "_closed", True)
    )


class _Accepted:
    """A connection accepted while a script is busy, not yet known to asyncio."""

    __slots__ = ("client", "sock")

    def __init__(self, sock: socket.socket, client: ClientState) -> None:
        self.sock = sock
        self.client = client


_accepted: list[_Accepted] = []


def _listeners(server: Any) -> list[int]:
    fds = []
    for srv in getattr(server, "_servers", ()):
        for s in getattr(srv, "sockets", None) or ():
            try:
                fds.append(s.fileno())
            except (OSError, ValueError):
                continue
    return fds


def enter_busy(run: Run) -> None:
    """The script just passed busy-reply-threshold: write the tick out and send the replies
    other clients are owed (see the module docstring)."""
    server = run.caller.server
    server.store.flush_before_atomic()
    for c in list(server.clients.values()):
        if c is run.caller or not getattr(c, "held", False):
            continue
        send = getattr(c, "send_held", None)
        if send is not None:
            c.held = False  # type: ignore[attr-defined]
            send()


def process_events(run: Run) -> None:
    """Read and answer what the other clients sent (see the module docstring)."""
    server = run.caller.server
    by_fd: dict[int, ClientState] = {}
    for c in list(server.clients.values()):
        if _usable(c, run.caller):
            by_fd[c.fd] = c
    listening = _listeners(server)
    accepted = {a.sock.fileno(): a for a in _accepted}
    poller = select.poll()
    for fd in (*by_fd, *listening, *accepted):
        poller.register(fd, select.POLLIN)
    for fd, _ in poller.poll(0):
        c = by_fd.get(fd)
        if c is not None:
            try:
                data = os.read(fd, _READ)
            except OSError:  # EAGAIN, reset...: the loop will see it
                continue
            if data:  # (EOF: the loop notices it after the script)
                _serve(c, data, run)
        elif fd in accepted:
            _serve_accepted(accepted[fd], run)
        else:
            _accept(fd, server)


def _accept(lfd: int, server: Any) -> None:
    ls = socket.socket(fileno=os.dup(lfd))
    try:
        sock, peer = ls.accept()
    except OSError:
        return
    finally:
        ls.close()
    sock.setblocking(False)
    c = ClientState(server, server.next_client_id())
    c.addr = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "?:0")
    requires_auth = getattr(server, "requires_auth", None)
    c.authenticated = not requires_auth() if requires_auth is not None else True
    _accepted.append(_Accepted(sock, c))


def _serve_accepted(a: _Accepted, run: Run) -> None:
    """Answer a busy-time connection's complete commands, consuming exactly their bytes."""
    try:
        data = a.sock.recv(_READ, socket.MSG_PEEK)
    except OSError:
        return
    if not data:
        return
    st = a.client.server.settings.server
    parser = RequestParser(st.proto_max_bulk_len, st.client_query_buffer_limit)
    cmds = parser.feed(data)
    used = len(data) if parser.error is not None else len(data) - parser.buffered
    if used:
        a.sock.recv(used)
    out = [_execute(a.client, args, run) for args in cmds]
    if parser.error is not None:
        out.append(error(parser.error.message))
    if out:
        try:
            a.sock.send(b"".join(out))
        except OSError:
            pass
    if parser.error is not None or a.client.close_after_reply:
        _accepted.remove(a)
        a.sock.close()


def _serve(c: Any, data: bytes, run: Run) -> None:
    server = c.server
    server.stats.net_input_bytes += len(data)
    c.last_interaction = time.time()
    out = []
    parser = c.parser
    for args in parser.feed(data):
        reply = _execute(c, args, run)
        if c.reply_mode == REPLY_ON:
            out.append(reply)
        if c.close_after_reply:
            break
    if parser.error is not None and not c.close_after_reply:
        out.append(error(parser.error.message))
        c.close_after_reply = True
    if out:
        data_out = b"".join(out)
        server.stats.net_output_bytes += len(data_out)
        c.transport.write(data_out)
    if c.close_after_reply:
        c.close()


def _execute(c: ClientState, args: list[bytes], run: Run) -> bytes:
    """processCommand while a script is busy: lookup, arity, AUTH, then BUSY for all but
    ``allow_busy`` commands."""
    try:
        found = resolve(c, args)
    except (AttributeError, TypeError, IndexError):
        c.close_after_reply = True
        return error(errors.ProtocolError(errors.proto_expected_dollar("*")).message)
    if type(found) is bytes:
        return found
    cmd: Command = found  # type: ignore[assignment]
    n = len(args)
    if (cmd.arity > 0 and n != cmd.arity) or n < -cmd.arity:
        return reject(c, cmd, errors.wrong_arity(cmd.name))
    if not c.authenticated and not cmd.no_auth:
        return reject(c, cmd, errors.NOAUTH)
    if "allow_busy" not in cmd.flags:
        return reject(c, cmd, run.busy_error())
    if cmd.name == "shutdown":
        if not any(a.upper() == b"NOSAVE" for a in args[1:]):
            return reject(c, cmd, run.busy_error())
        log.warning("SHUTDOWN NOSAVE while a script is busy: exiting now")
        logging.shutdown()
        os._exit(0)
    reply = call(c, cmd, args)
    if type(reply) is not bytes:  # nothing allow_busy blocks; never leave a client hanging
        close = getattr(reply, "close", None)
        if close is not None:
            close()
        return error("ERR command can't run while a script is busy")
    return reply


def busy_over(run: Run) -> None:
    """The busy script ended (normally, with an error, or killed): connections accepted
    meanwhile become ordinary clients."""
    log.warning(
        "Script %s ended after %d ms%s",
        run.name.decode("utf-8", "replace"),
        run.elapsed_ms(),
        " (killed)" if run.killed else "",
    )
    if not _accepted:
        return
    pending = list(_accepted)
    _accepted.clear()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    server = run.caller.server
    make = type(run.caller)
    for a in pending:
        if loop is None:
            a.sock.close()
            continue
        loop.create_task(loop.connect_accepted_socket(lambda: make(server), a.sock))  # type: ignore[call-arg]
