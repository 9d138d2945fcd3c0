"""Keyspace notifications (Redis 7.0 notify.c), driven by ``notify-keyspace-events``.

Design: as in Redis, the event is raised by the command that knows what happened. Command
handlers call ``notify(c, CLASS, b"event", key)`` right after their storage call succeeded;
expiry (lazy, in ``Database.lookup``, and active, in ``Store.expire_cycle``) calls the
storage hook ``store.on_expired(db index, key)`` installed by :func:`expired_hook`.

Why not derive events from the commit path? A commit knows which meta keys changed, not
*what* happened (``lpush`` vs ``linsert``, ``rename_from``/``rename_to``, ``expire`` vs
``set``), and Redis's names and order are per command; rebuilding them from batches would
need a second per-command table. The command already has the facts at hand.

Cost when notifications are off (the default): ``server.notify_flags`` holds the configured
bits only when K or E and a class are enabled, else 0, so each ``notify`` call is one
function call, one attribute load and one ``&``; nothing is allocated.

Events go out through :func:`pikadb.commands.pubsub.publish`, on
``__keyspace@<db>__:<key>`` (payload: the event) and ``__keyevent@<db>__:<event>``
(payload: the key), keyspace first, as notifyKeyspaceEvent does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pikadb.commands import slowlog
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.pubsub import publish
from pikadb.commands.table import Command
from pikadb.config.values import (
    NOTIFY_EVICTED,
    NOTIFY_EXPIRED,
    NOTIFY_GENERIC,
    NOTIFY_HASH,
    NOTIFY_KEY_MISS,
    NOTIFY_KEYEVENT,
    NOTIFY_KEYSPACE,
    NOTIFY_LIST,
    NOTIFY_NEW,
    NOTIFY_SET,
    NOTIFY_STREAM,
    NOTIFY_STRING,
    NOTIFY_ZSET,
    keyspace_event_flags,
)
from pikadb.core.errors import CommandError
from pikadb.storage import layout as L
from pikadb.storage import sets
from pikadb.storage.batch import Batch
from pikadb.storage.keyspace import Database

__all__ = [
    "EVICTED",
    "EXPIRED",
    "GENERIC",
    "HASH",
    "KEY_MISS",
    "LIST",
    "NEW",
    "SET",
    "STREAM",
    "STRING",
    "ZSET",
    "apply_flags",
    "counted",
    "deleted",
    "expire_events",
    "expired_hook",
    "list_moved",
    "moved",
    "notify",
    "notify_db",
    "notify_each",
    "popped",
    "removed",
    "renamed",
    "replaced_new",
    "restored",
    "set_events",
    "smoved",
    "stored",
    "will_replace",
    "with_event",
]

# Event classes, as command modules write them: notify(c, LIST, b"lpush", key)
GENERIC = NOTIFY_GENERIC  # g: del, expire, rename_from/to, move_from/to, copy_to, restore...
STRING = NOTIFY_STRING  # $: set, setrange, incrby, incrbyfloat, append, setbit...
LIST = NOTIFY_LIST  # l
SET = NOTIFY_SET  # s
HASH = NOTIFY_HASH  # h
ZSET = NOTIFY_ZSET  # z
EXPIRED = NOTIFY_EXPIRED  # x
EVICTED = NOTIFY_EVICTED  # e
STREAM = NOTIFY_STREAM  # t
KEY_MISS = NOTIFY_KEY_MISS  # m
NEW = NOTIFY_NEW  # n
_SPACE = NOTIFY_KEYSPACE
_EVENT = NOTIFY_KEYEVENT


def apply_flags(server: ServerState, text: str) -> None:
    """Take a (validated) notify-keyspace-events value into effect."""
    flags = getattr(text, "flags", None)  # config.values.EventsText keeps what was set
    if flags is None:
        flags = keyspace_event_flags(text) or 0
    # Without K or E nothing is ever published: keep the fast-path word at 0 then.
    server.notify_flags = flags = flags if flags & (_SPACE | _EVENT) else 0
    slowlog.update_threshold(server)  # the post-run hook must see every command for "m"
    # "new" (n) comes from the commit path: a batch lists the keys it creates. The listener
    # is registered only while the class is on, so commits pay nothing otherwise.
    listeners = server.store.listeners
    listener = getattr(server, "_notify_new_listener", None)
    if listener is None:
        server._new_pending = []  # type: ignore[attr-defined]
        listener = _new_listener(server)
        server._notify_new_listener = listener  # type: ignore[attr-defined]
    if flags & NEW:
        if listener not in listeners:
            listeners.append(listener)
    elif listener in listeners:
        listeners.remove(listener)


def key_misses(c: ClientState, cmd: Command, args: list[bytes]) -> None:
    """ "keymiss" for each key of a read-only command that does not exist (Redis fires it
    from lookupKeyRead during the command; a read-only command changes nothing, and a key
    lazily expired by it is gone now too, so looking afterwards finds the same misses, and
    "expired" still comes first). Runs from the dispatcher's post-run hook, which sees
    every command while this class is on (slowlog.update_threshold)."""
    db = c.db
    for i in cmd.key_positions(args):
        if db.lookup(args[i])[1] is None:
            _fire(c.server, b"keymiss", args[i], db.index)


def _new_listener(server: ServerState) -> Callable[[Batch], None]:
    """Redis fires "new" inside dbAdd, i.e. just before the command's own event for that
    key (MSET: new a, set a, new b, set b; SMOVE: srem src, new dst, sadd dst). A batch
    creates its keys at once, so the listener queues them and :func:`_fire` sends a key's
    "new" right before the next event about that key; anything still queued goes out at
    the next commit (a key created without an event of its own)."""
    pending: list[tuple[int, bytes]] = server._new_pending  # type: ignore[attr-defined]

    def on_commit(batch: Batch) -> None:
        if pending:
            _flush_new(server, pending, len(pending))
        created = batch.created
        h = server.pubsub
        if created and server.notify_flags & NEW and h is not None and (h.channels or h.patterns):
            for mkey in created:
                table = (mkey[0] << 8) | mkey[1]
                for db in server.store.databases:
                    if db.table == table:
                        pending.append((db.index, L.user_key(mkey)))
                        break

    return on_commit


def _flush_new(server: ServerState, pending: list[tuple[int, bytes]], n: int) -> None:
    """Send the first ``n`` queued "new" events."""
    items = pending[:n]
    del pending[:n]
    for dbid, key in items:
        _publish(server, b"new", key, dbid)


def _new_first(server: ServerState, key: bytes, dbid: int) -> None:
    """Send the queued "new" of ``key`` (and those queued before it) now."""
    pending = getattr(server, "_new_pending", None)
    if pending and (dbid, key) in pending:
        _flush_new(server, pending, pending.index((dbid, key)) + 1)


def notify(c: ClientState, cls: int, event: bytes, key: bytes) -> None:
    """notifyKeyspaceEvent(cls, event, key, <client's db>)."""
    if c.server.notify_flags & cls:
        _fire(c.server, event, key, c.db.index)


def notify_db(server: ServerState, cls: int, event: bytes, key: bytes, dbid: int) -> None:
    """The same for an explicit database (MOVE, COPY ... DB, SWAPDB-free paths)."""
    if server.notify_flags & cls:
        _fire(server, event, key, dbid)


# --- helpers for command modules: each keeps the call site to one line ---------------------
T = TypeVar("T")


def notify_each(c: ClientState, cls: int, event: bytes, keys: list[bytes]) -> None:
    """``event`` for each of ``keys`` (MSET...)."""
    if c.server.notify_flags & cls:
        for key in keys:
            _fire(c.server, event, key, c.db.index)


def with_event(c: ClientState, cls: int, event: bytes, key: bytes, value: T) -> T:
    """``event`` on ``key``, passing ``value`` (the storage call's result) through."""
    if c.server.notify_flags & cls:
        _fire(c.server, event, key, c.db.index)
    return value


def counted(c: ClientState, cls: int, event: bytes, key: bytes, n: int) -> int:
    """``event`` when ``n`` > 0 (elements added, inserted, set...); returns ``n``."""
    if n > 0 and c.server.notify_flags & cls:
        _fire(c.server, event, key, c.db.index)
    return n


def removed(c: ClientState, cls: int, event: bytes, key: bytes, n: int) -> int:
    """After ``n`` elements left the collection at ``key``: ``event`` when ``n`` > 0, then
    ``del`` when that emptied (so deleted) the key, as Redis does. Returns ``n``."""
    if n > 0:
        flags = c.server.notify_flags
        if flags & (cls | GENERIC):
            if flags & cls:
                _fire(c.server, event, key, c.db.index)
            if flags & GENERIC and c.db.lookup(key)[1] is None:
                _fire(c.server, b"del", key, c.db.index)
    return n


def popped(c: ClientState, cls: int, event: bytes, key: bytes, value: T) -> T:
    """A pop took ``value`` (element or elements) from ``key``: :func:`removed` events."""
    if c.server.notify_flags & (cls | GENERIC):
        removed(c, cls, event, key, 1)
    return value


def deleted(
    c: ClientState, keys: list[bytes], delete: Callable[[Database, list[bytes]], int]
) -> int:
    """DEL / UNLINK: ``delete(db, keys)`` deletes; ``del`` for each key that existed (once)."""
    if not c.server.notify_flags & GENERIC:
        return delete(c.db, keys)
    lookup = c.db.lookup
    live = list(dict.fromkeys(k for k in keys if lookup(k)[1] is not None))
    n = delete(c.db, keys)
    for k in live:
        _fire(c.server, b"del", k, c.db.index)
    return n


def stored(c: ClientState, cls: int, event: bytes, dst: bytes, run: Callable[[], int]) -> int:
    """*STORE commands: ``run()`` stores a result of the returned size at ``dst``:
    ``event`` when it is not empty, else ``del`` when it deleted an existing ``dst``."""
    flags = c.server.notify_flags
    if not flags & (cls | GENERIC):
        return run()
    existed = c.db.lookup(dst)[1] is not None
    n = run()
    if n > 0:
        notify(c, cls, event, dst)
    elif existed and c.db.lookup(dst)[1] is None:
        notify(c, GENERIC, b"del", dst)
    return n


def smoved(c: ClientState, args: list[bytes], run: Callable[[], int]) -> int:
    """SMOVE src dst member: ``srem`` on src (``del`` if emptied), then ``sadd`` on dst
    unless it already had the member; nothing when src == dst (smoveCommand)."""
    src, dst = args[1], args[2]
    if not c.server.notify_flags & (SET | GENERIC) or src == dst:
        return run()
    try:
        had = sets.is_member(c.db, dst, args[3])
    except CommandError:  # a wrong type: run() reports it (or finds no source) itself
        had = True
    n = run()
    if n:
        removed(c, SET, b"srem", src, 1)
        if not had:
            notify(c, SET, b"sadd", dst)
    return n


def set_events(c: ClientState, key: bytes, expire: bool = False, alive: bool = True) -> None:
    """SET and friends: ``set``, then ``expire`` if an expire time was given; a time
    already past leaves the key expired at once here (Redis expires it a moment later)."""
    flags = c.server.notify_flags
    if flags:
        if flags & STRING:
            _fire(c.server, b"set", key, c.db.index)
        if expire and flags & GENERIC:
            _fire(c.server, b"expire", key, c.db.index)
        if not alive and flags & EXPIRED:
            _fire(c.server, b"expired", key, c.db.index)


def expire_events(c: ClientState, key: bytes, n: int) -> int:
    """EXPIRE and friends changed ``key`` (``n`` = 1): ``expire``, or ``del`` if the time
    was already past (the key is gone). Returns ``n``."""
    if n and c.server.notify_flags & GENERIC:
        gone = c.db.lookup(key)[1] is None
        _fire(c.server, b"del" if gone else b"expire", key, c.db.index)
    return n


def will_replace(c: ClientState, key: bytes, db: Database | None = None) -> bool:
    """Before RENAME / COPY / RESTORE: whether ``key`` exists and "new" events are on.
    Redis deletes such a key and adds it afresh (dbAdd: "new"), while our batch overwrites
    it, so the caller passes this to :func:`replaced_new` afterwards."""
    if not c.server.notify_flags & NEW:
        return False
    return (db or c.db).lookup(key)[1] is not None


def replaced_new(c: ClientState, key: bytes, replaced: bool, db: Database | None = None) -> None:
    """The "new" event of a key that replaced an existing one (see :func:`will_replace`)."""
    if replaced:
        _fire(c.server, b"new", key, (db or c.db).index)


def restored(c: ClientState, key: bytes, run: Callable[[], object]) -> None:
    """RESTORE (with its checks done): ``run()`` stores the key. "new" (also when it
    replaced a key, as dbAdd after dbDelete) and "restore"; an already past TTL stores
    nothing: "del" if a key was replaced."""
    flags = c.server.notify_flags
    if not flags:
        run()
        return
    existed = c.db.lookup(key)[1] is not None
    run()
    if c.db.lookup(key)[1] is None:
        if existed:
            notify(c, GENERIC, b"del", key)
        return
    replaced_new(c, key, existed and bool(flags & NEW))
    notify(c, GENERIC, b"restore", key)


def renamed(c: ClientState, src: bytes, dst: bytes, replaced: bool = False) -> None:
    """RENAME / RENAMENX moved ``src`` to ``dst`` (a rename onto itself has no events)."""
    if src != dst and c.server.notify_flags:
        _new_first(c.server, dst, c.db.index)  # dbAdd(dst) comes before both events
        replaced_new(c, dst, replaced)
        if c.server.notify_flags & GENERIC:
            _fire(c.server, b"rename_from", src, c.db.index)
            _fire(c.server, b"rename_to", dst, c.db.index)


def list_moved(c: ClientState, src: bytes, dst: bytes, left_from: bool, left_to: bool) -> None:
    """LMOVE / RPOPLPUSH (and blocking forms): the push on ``dst`` first, then the pop on
    ``src`` and its ``del`` if emptied (lmoveGenericCommand's order)."""
    if c.server.notify_flags & (LIST | GENERIC):
        notify(c, LIST, b"lpush" if left_to else b"rpush", dst)
        removed(c, LIST, b"lpop" if left_from else b"rpop", src, 1)


def moved(c: ClientState, key: bytes, dst: Database) -> None:
    """MOVE: "new" in the target database first (dbAdd), then move_from and move_to."""
    if c.server.notify_flags:
        _new_first(c.server, key, dst.index)
        notify_db(c.server, GENERIC, b"move_from", key, c.db.index)
        notify_db(c.server, GENERIC, b"move_to", key, dst.index)


def _fire(server: ServerState, event: bytes, key: bytes, dbid: int) -> None:
    if getattr(server, "_new_pending", None):
        _new_first(server, key, dbid)
    _publish(server, event, key, dbid)


def _publish(server: ServerState, event: bytes, key: bytes, dbid: int) -> None:
    h = server.pubsub
    if h is None or not (h.channels or h.patterns):
        return  # nobody listens: skip building the channel names
    flags = server.notify_flags
    if flags & _SPACE:
        publish(server, b"__keyspace@%d__:%s" % (dbid, key), event)
    if flags & _EVENT:
        publish(server, b"__keyevent@%d__:%s" % (dbid, event), key)


def expired_hook(server: ServerState) -> Callable[[int, bytes], None]:
    """The storage callback for a key deleted by expiry (lazy or active)."""

    def expired(dbid: int, key: bytes) -> None:
        if server.notify_flags & EXPIRED:
            _fire(server, b"expired", key, dbid)

    return expired
