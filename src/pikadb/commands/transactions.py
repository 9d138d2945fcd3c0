"""MULTI / EXEC / DISCARD / WATCH / UNWATCH with Redis 7.0's semantics (multi.c).

Queueing is the dispatcher's (server/dispatch.py): inside MULTI every command except EXEC,
DISCARD, MULTI, WATCH, QUIT and RESET passes the usual checks and is queued with ``+QUEUED``.
A command rejected while queueing (unknown, wrong arity, ``no_multi`` such as SAVE/SHUTDOWN:
"Command not allowed inside a transaction", ...) flags the transaction (``c.multi_error``)
and EXEC replies EXECABORT. EXEC runs the queue through :func:`pikadb.commands._call.call`
in one go — nothing interleaves, the writes share the tick's RocksDB write and binlog record
— with blocking commands acting as if timed out (``blocking.can_block`` is False while
``c.multi`` is set); runtime errors are replies in the array, nothing is rolled back. Woken
blocked clients are served after EXEC, not between its commands (the connection serves them
after each top-level command).

WATCH. A per-server registry maps (db index, key) -> the clients watching it; each commit
tells it the meta keys it touched (``store.listeners``, as blocked clients use), and every
watcher of a touched key becomes ``cas_dirty`` (EXEC then replies the null array and runs
nothing). So any write from any client counts, the watcher's own writes outside MULTI too,
as do RENAME/MOVE/RESTORE/COPY targets, EXPIRE, lazy or active expiry deleting the key, and
the keys of a flushed or swapped database. Redis 7.0's finer points are kept:

* a key already logically expired when WATCHed is remembered as such; its deletion (lazy
  expiry, DEL, FLUSHDB, SWAPDB bringing no key) is no change; anything else is;
* at EXEC a watched key that has logically expired since WATCH counts as changed, even if it
  was not deleted yet;
* FLUSHDB/FLUSHALL touch a watched key only if it existed; SWAPDB touches it if it exists in
  either database (not when a stale key is replaced by nothing, nothing by a stale key, or a
  stale key by another stale key);
* WATCH remembers the db: the same key name in another db is another key.

EXEC without MULTI, DISCARD without MULTI, nested MULTI and WATCH inside MULTI are errors that
do not abort the transaction.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any
from weakref import WeakKeyDictionary

from pikadb.commands._call import call
from pikadb.commands._gate import refresh_gate
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.table import command
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK
from pikadb.storage import watch as W
from pikadb.storage.batch import Batch
from pikadb.storage.keyspace import Database

G = "transactions"
_FLAGS = "noscript loading stale fast allow_busy"

WatchKey = tuple[int, bytes]  # (db index, user key)


class WatchedKey:
    """One key watched by one client. ``exists``: stored in its db (expired or not) as far as
    the watcher knows; ``expired``: it was logically expired when watched (Redis 7.0)."""

    __slots__ = ("client", "exists", "expired", "index", "key")

    def __init__(self, client: ClientState, index: int, key: bytes, raw: bytes | None) -> None:
        self.client = client
        self.index = index
        self.key = key
        self.exists = raw is not None
        self.expired = W.is_stale(raw)


class Watches:
    """The WATCH registry of one server."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.keys: dict[WatchKey, dict[int, WatchedKey]] = {}
        self._tables: dict[bytes, int] | None = None  # table prefix -> db index
        self._store: object = None

    def ensure_installed(self) -> None:
        listeners = self.server.store.listeners
        if self.on_commit not in listeners:
            listeners.append(self.on_commit)

    def tables(self) -> dict[bytes, int]:
        store = self.server.store
        if self._tables is None or self._store is not store:
            self._tables = {db.prefix: db.index for db in store.databases}
            self._store = store
        return self._tables

    # -- per client -------------------------------------------------------------------------
    def watch(self, c: ClientState, key: bytes) -> None:
        wkey = (c.db.index, key)
        if wkey in c.watched:
            return
        wk = WatchedKey(c, wkey[0], key, W.peek(c.db, key))
        c.watched[wkey] = wk
        m = self.keys.get(wkey)
        if m is None:
            m = self.keys[wkey] = {}
        m[c.id] = wk

    def unwatch_all(self, c: ClientState) -> None:
        if not c.watched:
            return
        keys = self.keys
        for wkey in c.watched:
            m = keys.get(wkey)
            if m is not None:
                m.pop(c.id, None)
                if not m:
                    del keys[wkey]
        c.watched = {}

    def _dirty(self, c: ClientState) -> None:
        # As Redis: once dirty, the client's watches are useless until EXEC/DISCARD/UNWATCH.
        c.cas_dirty = True
        self.unwatch_all(c)
        refresh_gate(c)

    def expired_since_watch(self, c: ClientState) -> bool:
        """isWatchedKeyExpired: a key that was live when watched is logically expired now."""
        dbs = c.server.store.databases
        now = now_ms()
        for wk in c.watched.values():
            if not wk.expired and W.is_stale(W.peek(dbs[wk.index], wk.key), now):
                return True
        return False

    # -- the commit listener ----------------------------------------------------------------
    def on_commit(self, batch: Batch) -> None:
        if not self.keys:
            return
        touched = batch.touched
        if not touched:
            return
        tables = self.tables()
        keys = self.keys
        whole_tables = False
        for mkey in touched:
            if len(mkey) == 2:
                whole_tables = True
                continue
            index = tables.get(mkey[:2])
            if index is None:
                continue
            m = keys.get((index, mkey[4:]))
            if m:
                for wk in list(m.values()):
                    if wk.expired and W.meta_after(batch, mkey) is False:
                        wk.expired = wk.exists = False  # a stale key deleted: no change
                    else:
                        self._dirty(wk.client)
        if whole_tables:
            self._tables_changed(batch, tables)
            self._tables = None  # SWAPDB remaps the databases right after this commit

    def _tables_changed(self, batch: Batch, tables: dict[bytes, int]) -> None:
        swap = W.swapped_tables(batch)
        if swap is not None:
            a, b = tables.get(swap[0]), tables.get(swap[1])
            if a is not None and b is not None:
                dbs = self.server.store.databases
                # before the remap: databases[b] still holds what db a is about to hold
                self._swapped(a, dbs[b])
                self._swapped(b, dbs[a])
            return
        for prefix in {t for t in batch.touched if len(t) == 2}:
            index = tables.get(prefix)
            if index is not None:
                self._flushed(index)

    def _watchers_of_db(self, index: int) -> list[tuple[bytes, list[WatchedKey]]]:
        return [(k[1], list(m.values())) for k, m in self.keys.items() if k[0] == index]

    def _flushed(self, index: int) -> None:
        """touchAllWatchedKeysInDb(emptied, NULL)."""
        for _key, wks in self._watchers_of_db(index):
            for wk in wks:
                if not wk.exists:
                    continue
                if wk.expired:
                    wk.expired = wk.exists = False
                    continue
                self._dirty(wk.client)

    def _swapped(self, index: int, replaced_with: Database) -> None:
        """touchAllWatchedKeysInDb(emptied, replaced_with) for SWAPDB."""
        for key, wks in self._watchers_of_db(index):
            raw = W.peek(replaced_with, key)
            there = raw is not None
            stale = W.is_stale(raw)
            for wk in wks:
                if not (wk.exists or there):
                    continue
                if wk.expired:
                    if not there:  # expired key replaced by nothing
                        wk.expired = wk.exists = False
                        continue
                    if stale:  # expired key replaced by an expired key
                        continue
                elif not wk.exists and stale:  # no key replaced by an expired key
                    wk.expired = wk.exists = True
                    continue
                self._dirty(wk.client)


_REGISTRIES: WeakKeyDictionary[ServerState, Watches] = WeakKeyDictionary()


def watches(server: ServerState) -> Watches:
    reg = _REGISTRIES.get(server)
    if reg is None:
        reg = _REGISTRIES[server] = Watches(server)
    return reg


# --- client state ----------------------------------------------------------------------------
def unwatch_all(c: ClientState) -> None:
    if c.watched:
        watches(c.server).unwatch_all(c)


def discard_transaction(c: ClientState) -> None:
    """discardTransaction: leave MULTI, clear both dirty flags, unwatch everything."""
    c.multi = None
    c.multi_error = False
    c.cas_dirty = False
    unwatch_all(c)
    refresh_gate(c)


def forget_client(c: ClientState) -> None:
    """The client is gone (or RESET): drop its transaction and watches."""
    if c.multi is not None or c.watched or c.cas_dirty or c.multi_error:
        discard_transaction(c)


def _not_blocking(c: ClientState, reply: Any) -> bytes:
    """A queued command returned an awaitable although blocking is denied inside EXEC:
    drop it and answer as a timed-out blocking command would."""
    if inspect.iscoroutine(reply):
        reply.close()
    elif isinstance(reply, asyncio.Future):
        reply.cancel()
    return c.enc.null_array


# --- the commands ----------------------------------------------------------------------------
@command(
    "multi",
    1,
    _FLAGS,
    acl="transaction",
    group=G,
    summary="Mark the start of a transaction block",
    since="1.2.0",
    complexity="O(1)",
)
def multi(c: ClientState, args: list[bytes]) -> bytes:
    if c.multi is not None:
        raise CommandError(errors.MULTI_NESTED)
    c.multi = []
    refresh_gate(c)
    return OK


@command(
    "exec",
    1,
    "noscript loading stale skip_slowlog",
    acl="transaction",
    group=G,
    summary="Execute all commands issued after MULTI",
    since="1.2.0",
    complexity="Depends on commands in the transaction",
)
def exec_(c: ClientState, args: list[bytes]) -> bytes:
    queued = c.multi
    if queued is None:
        raise CommandError(errors.EXEC_WITHOUT_MULTI)
    if c.watched and not c.cas_dirty and watches(c.server).expired_since_watch(c):
        c.cas_dirty = True
    if c.multi_error:
        discard_transaction(c)
        raise CommandError(errors.EXECABORT)
    if c.cas_dirty:
        discard_transaction(c)
        return c.enc.null_array
    unwatch_all(c)  # as Redis: unwatch before running, so our own writes don't matter
    out = [b"*%d\r\n" % len(queued)]
    store = c.server.store
    store.begin_atomic()  # reads merge pending writes: the EXEC stays ONE write / record
    try:
        for cmd, qargs in queued:  # c.multi stays set: blocking commands don't block
            reply = call(c, cmd, qargs)
            if type(reply) is not bytes:
                reply = _not_blocking(c, reply)
            out.append(reply)
    finally:
        store.end_atomic()
        discard_transaction(c)
    return b"".join(out)


@command(
    "discard",
    1,
    _FLAGS,
    acl="transaction",
    group=G,
    summary="Discard all commands issued after MULTI",
    since="2.0.0",
    complexity="O(N), when N is the number of queued commands",
)
def discard(c: ClientState, args: list[bytes]) -> bytes:
    if c.multi is None:
        raise CommandError(errors.DISCARD_WITHOUT_MULTI)
    discard_transaction(c)
    return OK


@command(
    "watch",
    -2,
    _FLAGS,
    keys=(1, -1, 1),
    acl="transaction",
    group=G,
    summary="Watch the given keys to determine execution of the MULTI/EXEC block",
    since="2.2.0",
    complexity="O(1) for every key.",
    args="key [key ...]",
)
def watch(c: ClientState, args: list[bytes]) -> bytes:
    if c.multi is not None:
        raise CommandError(errors.WATCH_INSIDE_MULTI)
    if c.cas_dirty:  # no point in watching: EXEC fails anyway
        return OK
    reg = watches(c.server)
    reg.ensure_installed()
    for key in args[1:]:
        reg.watch(c, key)
    refresh_gate(c)
    return OK


@command(
    "unwatch",
    1,
    _FLAGS,
    acl="transaction",
    group=G,
    summary="Forget about all watched keys",
    since="2.2.0",
    complexity="O(1)",
)
def unwatch(c: ClientState, args: list[bytes]) -> bytes:
    unwatch_all(c)
    c.cas_dirty = False
    refresh_gate(c)
    return OK
