"""Blocked clients: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (and BZPOPMIN/BZMPOP... through
the same API). Commands layer: no import of :mod:`pikadb.server`.

How a blocking command works::

    reply = try the non-blocking form                  # pops now if it can (or raises)
    if reply is None:
        if not can_block(c):                           # inside MULTI: as if timed out
            return c.enc.null_array                     # (BLMOVE / BRPOPLPUSH: c.enc.null)
        return block(c, keys, timeout_ms, serve, kind)  # an awaitable of the reply bytes

The connection (server/connection.py) queues the rest of the pipeline of a client whose
handler returned an awaitable, awaits it, sends its result and resumes the pipeline; it
cancels the awaitable when the client disconnects (which it must keep reading to notice, as
Redis does). Nothing here blocks the event loop.

The registry (one per server) keeps, for every (db index, key), the FIFO of clients waiting
on it; a client waiting on several keys is in each FIFO. Every commit tells the registry the
meta keys it touched (``store.listeners``; a 2-byte entry means a whole table: FLUSHDB,
SWAPDB). Touched keys that someone waits on become *ready*; once the current callback is
over (``loop.call_soon``, so the waking command finishes and replies first) each ready key is
served like Redis's handleClientsBlockedOnKeys: its waiters in the order they blocked, each
running ``serve(key)`` — its pop, for that key only. ``serve`` returns the reply, or None when
there is nothing for it (the key is empty, gone, or of another type: the client keeps waiting,
keeping its place), or raises :class:`CommandError` (BLMOVE to a wrong-typed destination: the
client gets the error). After the first None the key's other waiters of the same ``kind`` are
skipped (they would find nothing either). A pop made while serving commits normally, which may
make more keys ready (a BLMOVE feeding another blocked list): served in the same round.

Timeouts: ``loop.call_at``; the reply is the null array (RESP2 ``*-1``, RESP3 ``_``) for
every blocking command, as Redis 7.0 does. Disconnect: the future is cancelled and its waiter
removed. CLIENT UNBLOCK: :func:`unblock`.

Redis serves ready keys after *each* command (outside MULTI/EXEC). The call_soon callback
serves them after the current event-loop callback, i.e. after the rest of the waking client's
pipelined batch; a dispatcher that runs ``if blocking.READY: blocking.serve_all_ready()`` after
each top-level command makes the order exact (serving is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from pikadb.commands import _longdouble as LD
from pikadb.commands.context import ClientState, ServerState
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import error

if TYPE_CHECKING:
    from pikadb.storage.batch import Batch

log = logging.getLogger("pikadb.blocking")

INT64_MAX = (1 << 63) - 1
UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

Serve = Callable[[bytes], "bytes | None"]
"""serve(key) -> reply bytes, or None to keep waiting; may raise CommandError."""


# --- timeouts ------------------------------------------------------------------------------
def parse_timeout(raw: bytes) -> int:
    """Redis 7.0's getTimeoutFromObjectOrReply (seconds, as a long double): the timeout in
    milliseconds, 0 meaning forever.

    ``(long long) ceill(value * 1000.0)`` in x87 extended precision: 0.0001 is 1 ms, -0.0001
    rounds up to 0 (forever), hex floats are accepted, inf and values past 2**63 ms become
    LLONG_MIN ("timeout is negative"). A deadline past INT64_MAX blocks forever (Redis's
    timeout table never reaches it)."""
    v = LD.parse(raw)
    if v is None:
        raise CommandError(errors.TIMEOUT_NOT_FLOAT)
    if LD.is_inf(v):
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    m, e = v
    if m == 0:
        return 0
    p = LD._round(m < 0, abs(m) * 1000, 1, e)  # the long double product (one rounding)
    if p is None:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    pm, pe = p
    ms = pm << pe if pe >= 0 else -((-pm) >> -pe)  # ceil
    if ms < 0 or ms > INT64_MAX:  # negative, or the cast gives LLONG_MIN
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    if ms and ms > INT64_MAX - now_ms():
        return 0
    return ms


def can_block(c: ClientState) -> bool:
    """Whether ``c`` may block now. Inside MULTI/EXEC and scripts a blocking command must
    behave as if it timed out at once (Redis's CLIENT_DENY_BLOCKING)."""
    return c.multi is None and not c.in_script


# --- the registry ----------------------------------------------------------------------------
WaitKey = tuple[int, bytes]  # (db index, user key)


class Waiter:
    __slots__ = ("client", "future", "keys", "kind", "serve", "timer")

    def __init__(
        self,
        client: ClientState,
        keys: list[WaitKey],
        serve: Serve,
        kind: str,
        future: asyncio.Future[bytes],
    ) -> None:
        self.client = client
        self.keys = keys
        self.serve = serve
        self.kind = kind
        self.future = future
        self.timer: asyncio.TimerHandle | None = None


class Registry:
    """Blocked clients of one server: (db index, key) -> FIFO of waiters."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.waiting: dict[WaitKey, deque[Waiter]] = {}
        self.by_client: dict[int, Waiter] = {}
        self.ready: dict[WaitKey, None] = {}  # insertion-ordered set
        self.loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False
        self._serving = False

    # -- installation ---------------------------------------------------------------------
    def ensure_installed(self) -> None:
        """Listen to the server's current store (idempotent; DEBUG RELOAD reopens it)."""
        listeners = self.server.store.listeners
        if self.on_commit not in listeners:
            listeners.append(self.on_commit)

    # -- blocking -------------------------------------------------------------------------
    def block(
        self, c: ClientState, keys: Sequence[bytes], timeout_ms: int, serve: Serve, kind: str
    ) -> asyncio.Future[bytes]:
        self.ensure_installed()
        loop = self.loop = asyncio.get_running_loop()
        fut: asyncio.Future[bytes] = loop.create_future()
        index = c.db.index
        wkeys: list[WaitKey] = []
        for k in keys:
            wk = (index, k)
            if wk not in wkeys:  # BLPOP a a 0 waits once on a
                wkeys.append(wk)
        w = Waiter(c, wkeys, serve, kind, fut)
        for wk in wkeys:
            q = self.waiting.get(wk)
            if q is None:
                q = self.waiting[wk] = deque()
            q.append(w)
        self.by_client[c.id] = w
        if timeout_ms:
            w.timer = loop.call_at(loop.time() + timeout_ms / 1000, self._timed_out, w)
        fut.add_done_callback(lambda _f: self._remove(w))
        return fut

    def _remove(self, w: Waiter) -> None:
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        if self.by_client.get(w.client.id) is w:
            del self.by_client[w.client.id]
        for wk in w.keys:
            q = self.waiting.get(wk)
            if q is None:
                continue
            try:
                q.remove(w)
            except ValueError:
                pass
            if not q:
                del self.waiting[wk]

    def _finish(self, w: Waiter, reply: bytes) -> None:
        self._remove(w)
        if not w.future.done():
            w.future.set_result(reply)

    def _timed_out(self, w: Waiter) -> None:
        w.timer = None
        self._finish(w, w.client.enc.null_array)

    def unblock(self, client_id: int, with_error: bool) -> bool:
        w = self.by_client.get(client_id)
        if w is None or w.future.done():
            return False
        if with_error:
            w.client.server.stats.count_error("UNBLOCKED")
            self._finish(w, error(UNBLOCKED))
        else:
            self._finish(w, w.client.enc.null_array)
        return True

    # -- waking ---------------------------------------------------------------------------
    def on_commit(self, batch: Batch) -> None:
        """Store listener: mark the touched keys somebody waits on as ready."""
        if not self.waiting:
            return
        touched = batch.touched
        if not touched:
            return
        tables = {db.prefix: db.index for db in self.server.store.databases}
        waiting = self.waiting
        ready = self.ready
        for mkey in touched:
            if len(mkey) == 2:  # a whole table changed (FLUSHDB, SWAPDB): every key in it
                index = tables.get(mkey)
                for wk in waiting:
                    if wk[0] == index:
                        ready[wk] = None
                continue
            index = tables.get(mkey[:2])
            if index is None:
                continue
            wk = (index, mkey[4:])
            if wk in waiting:
                ready[wk] = None
        if ready and not self._scheduled and not self._serving:
            self._scheduled = True
            READY.append(self)
            loop = self.loop or asyncio.get_running_loop()
            loop.call_soon(self.serve_ready)

    def serve_ready(self) -> None:
        """Serve every ready key (and those that become ready meanwhile), FIFO per key."""
        if self._scheduled:
            self._scheduled = False
            READY.remove(self)
        if self._serving:
            return
        self._serving = True
        try:
            ready = self.ready
            while ready:
                wk = next(iter(ready))
                del ready[wk]
                q = self.waiting.get(wk)
                if q:
                    self._serve_key(wk, list(q))
        finally:
            self._serving = False

    def _serve_key(self, wk: WaitKey, waiters: list[Waiter]) -> None:
        empty_for: set[str] = set()
        for w in waiters:
            if w.future.done():  # cancelled (disconnect): its done callback removes it
                self._remove(w)
                continue
            if w.kind in empty_for:
                continue
            try:
                reply = w.serve(wk[1])
            except CommandError as exc:
                w.client.server.stats.count_error(exc.prefix)
                reply = error(exc.message)
            except Exception as exc:  # never leave a client hanging on a bug
                log.exception("serving a blocked client failed")
                reply = error(f"ERR internal error: {type(exc).__name__}: {exc}")
            if reply is None:
                empty_for.add(w.kind)
                continue
            self._finish(w, reply)


_REGISTRIES: WeakKeyDictionary[ServerState, Registry] = WeakKeyDictionary()
# Registries with ready keys not served yet. A dispatcher may serve them right after each
# command (outside MULTI/EXEC), as Redis does: ``if READY: serve_all_ready()`` — a cheap
# check on the hot path. Otherwise they are served by the call_soon callback.
READY: list[Registry] = []


def registry(server: ServerState) -> Registry:
    reg = _REGISTRIES.get(server)
    if reg is None:
        reg = _REGISTRIES[server] = Registry(server)
    return reg


def ensure_installed(server: ServerState) -> Registry:
    reg = registry(server)
    reg.ensure_installed()
    return reg


def block(
    c: ClientState, keys: Sequence[bytes], timeout_ms: int, serve: Serve, kind: str
) -> asyncio.Future[bytes]:
    """Block ``c`` on ``keys`` (of its current db). ``timeout_ms`` 0 waits forever.
    ``serve(key)`` runs when ``key`` was touched; see the module docstring."""
    return registry(c.server).block(c, keys, timeout_ms, serve, kind)


def unblock(server: ServerState, client_id: int, with_error: bool = False) -> bool:
    """CLIENT UNBLOCK: end a client's wait as a timeout (or with the UNBLOCKED error).
    False if the client is not blocked here."""
    reg = _REGISTRIES.get(server)
    return reg.unblock(client_id, with_error) if reg is not None else False


def serve_ready(server: ServerState) -> None:
    """Serve the keys made ready so far (a hook for running right after each command)."""
    reg = _REGISTRIES.get(server)
    if reg is not None and reg.ready:
        reg.serve_ready()


def serve_all_ready() -> None:
    """Serve every registry's ready keys (see :data:`READY`)."""
    for reg in list(READY):
        reg.serve_ready()


def blocked_count(server: ServerState) -> int:
    reg = _REGISTRIES.get(server)
    return len(reg.by_client) if reg is not None else 0
