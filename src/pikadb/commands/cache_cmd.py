"""The hot-data cache from the command side: its settings, Pika's CACHE and CLEARCACHE, and
the cached read paths that command modules call when ``db.cache`` is set.

Settings (all CONFIG SET-able, applied at once by listeners registered in :func:`install`):
``cache-model`` (0 off / 1 on), ``cache-type``, ``cache-maxmemory``,
``cache-maxmemory-policy`` (Pika's 0..7), ``cache-lfu-decay-time``. Turning the cache off
(or changing ``cache-model``) empties it, as Pika does.

Commands (Pika's): ``CACHE CLEAR DB|HITRATIO``, ``CACHE DEL key [key ...]``,
``CACHE RANDOMKEY``, ``CLEARCACHE``; plus ``CACHE INFO`` (pikadb: the INFO ``# Cache`` fields
as text, also when INFO is not rendering them).

Cached reads (read-through; see :mod:`pikadb.storage.cache` for the invalidation rules):
GET (strings up to 1 MiB), HGETALL / HKEYS / HVALS (hashes up to 2048 fields), HGET (serves
hits; a miss loads hashes of up to :data:`HGET_LOAD_MAX` fields), LRANGE (lists up to 2048
items; the reply for each recent range is memoised), SMEMBERS (sets up to 2048 members).
Every function here behaves exactly as the uncached command: same replies, same errors in
the same order, same lazy expiry (an expired entry is a miss).
"""

from __future__ import annotations

from typing import Any

from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.table import command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import EMPTY_ARRAY, OK, bulk, bulk_array
from pikadb.storage import hashes, lists, sets, strings
from pikadb.storage import layout as L
from pikadb.storage.cache import (
    E_MEMO,
    E_VAL,
    MAX_ITEMS,
    MAX_VALUE,
    HotCache,
    collection_bytes,
    pairs_bytes,
)

T_STRING, T_HASH, T_LIST, T_SET = L.T_STRING, L.T_HASH, L.T_LIST, L.T_SET
HGET_LOAD_MAX = 128  # an HGET miss loads the whole hash only when it is this small
_expire_of = L.expire_of
_size_of = L.collection_size
_installed: dict[int, HotCache] = {}


# --- installation ------------------------------------------------------------------------
def install(server: ServerState) -> HotCache:
    """Create the server's cache from its settings, attach it to the store, and keep it in
    step with CONFIG SET (listeners registered once per config)."""
    cfg = server.settings.cache
    cache = _installed.get(id(server.config))
    if cache is None:
        cache = HotCache(
            maxmemory=cfg.cache_maxmemory,
            policy=cfg.cache_maxmemory_policy,
            types=cfg.cache_type,
            lfu_decay_time=cfg.cache_lfu_decay_time,
        )
        _installed[id(server.config)] = cache
        on = server.config.on_change
        on("cache-model", lambda v: _cache(server).set_enabled(int(v) == 1))
        on("cache-type", lambda v: _cache(server).set_types(str(v)))
        on("cache-maxmemory", lambda v: _cache(server).set_maxmemory(int(v)))
        on("cache-maxmemory-policy", lambda v: _cache(server).set_policy(int(v)))
        on("cache-lfu-decay-time", lambda v: setattr(_cache(server), "lfu_decay_time", int(v)))
    server.cache = cache
    cache.attach(server.store)
    cache.set_enabled(cfg.cache_model == 1)
    return cache


def _cache(server: ServerState) -> HotCache:
    cache: HotCache = server.cache
    if cache._store is not server.store:  # the storage was reopened (DEBUG RELOAD)
        cache.attach(server.store)
    return cache


def reattach(server: ServerState) -> None:
    """After the server reopened its storage: empty the cache and serve the new store."""
    cache = server.cache
    if cache is not None:
        cache.detach()
        cache.attach(server.store)


# --- cached reads (called by the command modules when ``db.cache`` is not None) -----------
def get(c: ClientState, cache: HotCache, key: bytes) -> bytes:
    """GET."""
    db = c.db
    ckey = db.prefix + key
    e = cache.get(ckey, T_STRING)
    if e is not None:
        v = e[E_VAL]
        return b"$%d\r\n%s\r\n" % (len(v), v)
    mkey, raw = db.lookup(key)
    if raw is None:
        return c.enc.null
    v = raw[9:] if raw[0] == T_STRING else strings.value(db, mkey, raw)
    assert v is not None
    if len(v) <= MAX_VALUE:
        cache.put(ckey, T_STRING, v, _expire_of(raw), len(v))
    return b"$%d\r\n%s\r\n" % (len(v), v)


def _hash_entry(c: ClientState, cache: HotCache, key: bytes) -> tuple[Any, bytes, Any]:
    """(entry or None, cache key, pairs or None): the cached hash, else its pairs read from
    storage (and cached when small enough). Pairs None: no such key."""
    db = c.db
    ckey = db.prefix + key
    e = cache.get(ckey, T_HASH)
    if e is not None:
        return e, ckey, e[E_VAL]
    raw = hashes.lookup(db, key)[1]
    if raw is None:
        return None, ckey, None
    pairs = hashes.items(db, key)
    if len(pairs) <= MAX_ITEMS:
        e = cache.put(ckey, T_HASH, pairs, _expire_of(raw), pairs_bytes(pairs))
    return e, ckey, pairs


def hgetall(c: ClientState, cache: HotCache, key: bytes) -> bytes:
    e, ckey, pairs = _hash_entry(c, cache, key)
    if pairs is None:
        return c.enc.map_header(0)
    memo = e[E_MEMO] if e is not None else None
    body = memo.get("hgetall") if memo else None
    if body is None:
        body = b"".join(bulk(f) + bulk(v) for f, v in pairs)
        if e is not None:
            cache.memo(ckey, e, "hgetall", body, len(body))
    return c.enc.map_header(len(pairs)) + body


def hkeys_or_vals(c: ClientState, cache: HotCache, key: bytes, which: int) -> bytes:
    """HKEYS (``which`` 0) or HVALS (1)."""
    e, ckey, pairs = _hash_entry(c, cache, key)
    if pairs is None:
        return EMPTY_ARRAY
    name = "hkeys" if which == 0 else "hvals"
    memo = e[E_MEMO] if e is not None else None
    reply = memo.get(name) if memo else None
    if reply is None:
        reply = bulk_array([p[which] for p in pairs])
        if e is not None:
            cache.memo(ckey, e, name, reply, len(reply))
    return reply  # type: ignore[no-any-return]


def hget(c: ClientState, cache: HotCache, key: bytes, field: bytes) -> bytes:
    db = c.db
    ckey = db.prefix + key
    e = cache.get(ckey, T_HASH)
    if e is None:
        mkey, raw = hashes.lookup(db, key)
        if raw is None:
            return c.enc.null
        if _size_of(raw) > HGET_LOAD_MAX:
            v = hashes.field_of(db, mkey, raw, field)
            return c.enc.null if v is None else b"$%d\r\n%s\r\n" % (len(v), v)
        pairs = hashes.items(db, key)
        e = cache.put(ckey, T_HASH, pairs, _expire_of(raw), pairs_bytes(pairs))
        if e is None:
            v = dict(pairs).get(field)
            return c.enc.null if v is None else b"$%d\r\n%s\r\n" % (len(v), v)
    memo = e[E_MEMO]
    d = memo.get("dict") if memo else None
    if d is None:
        d = dict(e[E_VAL])
        cache.memo(ckey, e, "dict", d, 64 * len(d))
    v = d.get(field)
    return c.enc.null if v is None else b"$%d\r\n%s\r\n" % (len(v), v)


def lrange(c: ClientState, cache: HotCache, key: bytes, start: int, end: int) -> bytes:
    db = c.db
    ckey = db.prefix + key
    e = cache.get(ckey, T_LIST)
    if e is None:
        ref = lists.get(db, key)
        if ref is None:
            return EMPTY_ARRAY
        if ref.size > MAX_ITEMS:
            return bulk_array(lists.range_(db, ref, start, end))
        items = lists.range_(db, ref, 0, -1)
        e = cache.put(ckey, T_LIST, items, ref.expire_at, collection_bytes(items))
        if e is None:
            r = lists.normalize_range(len(items), start, end)
            return EMPTY_ARRAY if r is None else bulk_array(items[r[0] : r[1]])
    items = e[E_VAL]
    r = lists.normalize_range(len(items), start, end)
    if r is None:
        return EMPTY_ARRAY
    memo = e[E_MEMO]
    reply = memo.get(r) if memo else None
    if reply is None:
        reply = bulk_array(items[r[0] : r[1]])
        cache.memo(ckey, e, r, reply, len(reply))
    return reply  # type: ignore[no-any-return]


def smembers(c: ClientState, cache: HotCache, key: bytes) -> bytes:
    db = c.db
    ckey = db.prefix + key
    e = cache.get(ckey, T_SET)
    if e is None:
        raw = sets.lookup(db, key)[1]
        if raw is None:
            return c.enc.set_header(0)
        members = sets.members(db, key)
        if len(members) <= MAX_ITEMS:
            e = cache.put(ckey, T_SET, members, _expire_of(raw), collection_bytes(members))
        if e is None:
            return c.enc.set_header(len(members)) + b"".join(map(bulk, members))
    members = e[E_VAL]
    memo = e[E_MEMO]
    body = memo.get("smembers") if memo else None
    if body is None:
        body = b"".join(map(bulk, members))
        cache.memo(ckey, e, "smembers", body, len(body))
    return c.enc.set_header(len(members)) + body


# --- commands ----------------------------------------------------------------------------
def _the_cache(c: ClientState) -> HotCache | None:
    cache = getattr(c.server, "cache", None)
    return _cache(c.server) if cache is not None else None


def info_text(cache: HotCache | None) -> bytes:
    pairs = cache.cache_info() if cache is not None else [("cache_status", "Disable")]
    return ("# Cache\r\n" + "".join(f"{k}:{v}\r\n" for k, v in pairs)).encode()


@command(
    "cache",
    -2,
    "admin noscript",
    acl="admin dangerous",
    group="server",
    summary="Manage the hot-data cache (Pika): CLEAR DB|HITRATIO, DEL, RANDOMKEY, INFO",
    complexity="O(1) except CLEAR DB and DEL: O(N)",
    args="CLEAR DB|HITRATIO | DEL key [key ...] | RANDOMKEY | INFO",
)
def cache_cmd(c: ClientState, args: list[bytes]) -> bytes:
    sub = args[1].lower()
    n = len(args)
    cache = _the_cache(c)
    if sub == b"clear" and n == 3 and args[2].lower() in (b"db", b"hitratio"):
        if cache is not None:
            if args[2].lower() == b"db":
                cache.clear()
            else:
                cache.clear_hitratio()
        return OK
    if sub == b"del":
        if cache is not None:
            pfx = c.db.prefix
            for k in args[2:]:
                cache.delete(pfx + k)
        return OK
    if sub == b"randomkey" and n == 2:
        k = cache.random_key(c.db.prefix) if cache is not None else None
        return c.enc.null if k is None else bulk(k)
    if sub == b"info" and n == 2:
        return bulk(info_text(cache))
    raise CommandError(errors.CACHE_SUBCOMMAND)


@command(
    "clearcache",
    1,
    "admin noscript",
    acl="admin dangerous",
    group="server",
    summary="Empty the hot-data cache (Pika)",
    complexity="O(N) where N is the number of cached keys",
)
def clearcache(c: ClientState, args: list[bytes]) -> bytes:
    cache = _the_cache(c)
    if cache is not None:
        cache.clear()
    return OK
