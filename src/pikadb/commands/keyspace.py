"""Generic (keyspace) commands: DEL, EXISTS, EXPIRE family, TTL family, KEYS, SCAN, RENAME,
COPY, MOVE, ... (Redis 7.0 semantics) and Pika's SCANX, PKSCANRANGE, PKRSCANRANGE,
PKPATTERNMATCHDEL. They work for every type: storage/generic.py reads only the meta layer.
"""

from __future__ import annotations

from pikadb.commands._args import INT64_MAX, parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.notify import (
    GENERIC,
    counted,
    deleted,
    expire_events,
    moved,
    notify_db,
    renamed,
    replaced_new,
    will_replace,
)
from pikadb.commands.table import KeySpec, command
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import NEG_ONE, NEG_TWO, OK, bulk, integer
from pikadb.storage import generic, strings
from pikadb.storage import layout as L
from pikadb.storage.keyspace import Database

G = "generic"
A = "keyspace"
_delete = generic.delete_keys
_exists = generic.exists_count
_expire_of = L.expire_of
_TYPE_REPLY = {code: b"+%s\r\n" % name for code, name in L.TYPE_NAMES.items()}
_NONE_REPLY = b"+none\r\n"

INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
ULONG_MAX = (1 << 64) - 1


def _parse_int32(raw: bytes) -> int:
    """getIntFromObjectOrReply: an integer within C int range."""
    v = parse_int(raw)
    if v < INT_MIN or v > INT_MAX:
        raise CommandError(errors.INT_RANGE.format(INT_MIN, INT_MAX))
    return v


def _db_for(c: ClientState, raw: bytes) -> Database:
    """The database numbered ``raw`` (MOVE / COPY ... DB n)."""
    idx = _parse_int32(raw)
    dbs = c.server.store.databases
    if idx < 0 or idx >= len(dbs):
        raise CommandError(errors.DB_INDEX_OUT_OF_RANGE)
    return dbs[idx]


# --- existence, deletion, type -----------------------------------------------------------
@command(
    "del",
    -2,
    "write",
    keys=(1, -1, 1),
    acl=A,
    group=G,
    summary="Deletes one or more keys.",
    complexity="O(N) where N is the number of keys that will be removed.",
    args="key [key ...]",
    key_flags="RM delete",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def del_(c: ClientState, args: list[bytes]) -> bytes:
    return integer(deleted(c, args[1:], _delete))


@command(
    "unlink",
    -2,
    "write fast",
    keys=(1, -1, 1),
    acl=A,
    group=G,
    summary="Asynchronously deletes one or more keys.",
    since="4.0.0",
    complexity="O(1) for each key removed regardless of its size.",
    args="key [key ...]",
    key_flags="RM delete",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def unlink(c: ClientState, args: list[bytes]) -> bytes:
    return integer(deleted(c, args[1:], _delete))


@command(
    "exists",
    -2,
    "readonly fast",
    keys=(1, -1, 1),
    acl=A,
    group=G,
    summary="Determines whether one or more keys exist.",
    complexity="O(N) where N is the number of keys to check.",
    args="key [key ...]",
    key_flags="RO",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def exists(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) == 2:
        return b":1\r\n" if c.db.lookup(args[1])[1] is not None else b":0\r\n"
    return integer(_exists(c.db, args[1:]))


@command(
    "touch",
    -2,
    "readonly fast",
    keys=(1, -1, 1),
    acl=A,
    group=G,
    summary="Returns the number of existing keys out of those specified after updating the time they were last accessed.",
    since="3.2.1",
    complexity="O(N) where N is the number of keys that will be touched.",
    args="key [key ...]",
    key_flags="RO",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def touch(c: ClientState, args: list[bytes]) -> bytes:
    return integer(_exists(c.db, args[1:]))


@command(
    "type",
    2,
    "readonly fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Determines the type of value stored at a key.",
    complexity="O(1)",
    args="key",
    key_flags="RO",
)
def type_(c: ClientState, args: list[bytes]) -> bytes:
    raw = c.db.lookup(args[1])[1]
    if raw is None:
        return _NONE_REPLY
    return _TYPE_REPLY.get(raw[0], _NONE_REPLY)


# --- expiry ------------------------------------------------------------------------------
_EXPIRE_FLAGS = {
    b"NX": generic.EXPIRE_NX,
    b"XX": generic.EXPIRE_XX,
    b"GT": generic.EXPIRE_GT,
    b"LT": generic.EXPIRE_LT,
}
_SEC_MAX = INT64_MAX // 1000
_SEC_MIN = -((1 << 63) // 1000)  # C's LLONG_MIN / 1000 truncates toward zero


def _expire_generic(c: ClientState, args: list[bytes], relative: bool, seconds: bool) -> bytes:
    flags = 0
    for opt in args[3:]:
        f = _EXPIRE_FLAGS.get(opt.upper())
        if f is None:
            raise CommandError(errors.UNSUPPORTED_OPTION.format(opt.decode("utf-8", "replace")))
        flags |= f
    if flags & generic.EXPIRE_NX and flags & (
        generic.EXPIRE_XX | generic.EXPIRE_GT | generic.EXPIRE_LT
    ):
        raise CommandError(errors.EXPIRE_NX_AND_OTHERS)
    if flags & generic.EXPIRE_GT and flags & generic.EXPIRE_LT:
        raise CommandError(errors.EXPIRE_GT_AND_LT)
    when = parse_int(args[2])
    name = args[0].decode("utf-8", "replace").lower()
    if seconds:
        if when > _SEC_MAX or when < _SEC_MIN:
            raise CommandError(errors.invalid_expire(name))
        when *= 1000
    base = now_ms() if relative else 0
    if when > INT64_MAX - base:
        raise CommandError(errors.invalid_expire(name))
    return integer(expire_events(c, args[1], generic.expire_at(c.db, args[1], when + base, flags)))


_EXPIRE_ARGS = "key seconds [NX|XX|GT|LT]"


@command(
    "expire",
    -3,
    "write fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Sets the expiration time of a key in seconds.",
    complexity="O(1)",
    args=_EXPIRE_ARGS,
)
def expire(c: ClientState, args: list[bytes]) -> bytes:
    return _expire_generic(c, args, True, True)


@command(
    "pexpire",
    -3,
    "write fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Sets the expiration time of a key in milliseconds.",
    since="2.6.0",
    complexity="O(1)",
    args="key milliseconds [NX|XX|GT|LT]",
)
def pexpire(c: ClientState, args: list[bytes]) -> bytes:
    return _expire_generic(c, args, True, False)


@command(
    "expireat",
    -3,
    "write fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Sets the expiration time of a key to a Unix timestamp.",
    since="1.2.0",
    complexity="O(1)",
    args="key unix-time-seconds [NX|XX|GT|LT]",
)
def expireat(c: ClientState, args: list[bytes]) -> bytes:
    return _expire_generic(c, args, False, True)


@command(
    "pexpireat",
    -3,
    "write fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Sets the expiration time of a key to a Unix milliseconds timestamp.",
    since="2.6.0",
    complexity="O(1)",
    args="key unix-time-milliseconds [NX|XX|GT|LT]",
)
def pexpireat(c: ClientState, args: list[bytes]) -> bytes:
    return _expire_generic(c, args, False, False)


def _ttl_generic(c: ClientState, key: bytes, ms: bool, absolute: bool) -> bytes:
    raw = c.db.lookup(key)[1]
    if raw is None:
        return NEG_TWO
    exp = _expire_of(raw)
    if not exp:
        return NEG_ONE
    ttl = exp if absolute else exp - now_ms()
    if ttl < 0:
        ttl = 0
    return integer(ttl if ms else (ttl + 500) // 1000)


@command(
    "ttl",
    2,
    "readonly fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Returns the expiration time in seconds of a key.",
    complexity="O(1)",
    args="key",
)
def ttl(c: ClientState, args: list[bytes]) -> bytes:
    return _ttl_generic(c, args[1], False, False)


@command(
    "pttl",
    2,
    "readonly fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Returns the expiration time in milliseconds of a key.",
    since="2.6.0",
    complexity="O(1)",
    args="key",
)
def pttl(c: ClientState, args: list[bytes]) -> bytes:
    return _ttl_generic(c, args[1], True, False)


@command(
    "expiretime",
    2,
    "readonly fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Returns the expiration time of a key as a Unix timestamp.",
    since="7.0.0",
    complexity="O(1)",
    args="key",
)
def expiretime(c: ClientState, args: list[bytes]) -> bytes:
    return _ttl_generic(c, args[1], False, True)


@command(
    "pexpiretime",
    2,
    "readonly fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Returns the expiration time of a key as a Unix milliseconds timestamp.",
    since="7.0.0",
    complexity="O(1)",
    args="key",
)
def pexpiretime(c: ClientState, args: list[bytes]) -> bytes:
    return _ttl_generic(c, args[1], True, True)


@command(
    "persist",
    2,
    "write fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Removes the expiration time of a key.",
    since="2.2.0",
    complexity="O(1)",
    args="key",
)
def persist(c: ClientState, args: list[bytes]) -> bytes:
    return integer(counted(c, GENERIC, b"persist", args[1], generic.persist(c.db, args[1])))


# --- enumeration -------------------------------------------------------------------------
def _bulks(items: list[bytes]) -> bytes:
    return b"*%d\r\n%s" % (len(items), b"".join([b"$%d\r\n%s\r\n" % (len(k), k) for k in items]))


@command(
    "keys",
    2,
    "readonly",
    acl="keyspace dangerous",
    group=G,
    summary="Returns all key names that match a pattern.",
    complexity="O(N) with N being the number of keys in the database",
    args="pattern",
)
def keys(c: ClientState, args: list[bytes]) -> bytes:
    # Redis 7.0 arity (Pika's optional type argument is not accepted: use SCAN ... TYPE).
    return _bulks(generic.keys(c.db, args[1]))


def parse_cursor(raw: bytes) -> int:
    """A SCAN cursor, read like Redis's strtoul-based parseScanCursorOrReply."""
    if not raw:
        return 0
    if raw[:1] in b" \t\n\v\f\r":
        raise CommandError(errors.INVALID_CURSOR)
    digits = raw[1:] if raw[:1] in b"+-" else raw
    if not digits or not digits.isdigit():
        raise CommandError(errors.INVALID_CURSOR)
    v = int(digits)
    if v > ULONG_MAX:
        raise CommandError(errors.INVALID_CURSOR)
    return (-v) & ULONG_MAX if raw[:1] == b"-" else v


def _scan_reply(cursor: int, items: list[bytes]) -> bytes:
    cur = b"%d" % cursor
    return b"*2\r\n$%d\r\n%s\r\n%s" % (len(cur), cur, _bulks(items))


@command(
    "scan",
    -2,
    "readonly",
    acl=A,
    group=G,
    summary="Iterates over the key names in the database.",
    since="2.8.0",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    args="cursor [MATCH pattern] [COUNT count] [TYPE type]",
)
def scan(c: ClientState, args: list[bytes]) -> bytes:
    cursor = parse_cursor(args[1])
    count = 10
    pattern: bytes | None = None
    type_filter: bytes | None = None
    i, n = 2, len(args)
    while i < n:
        opt = args[i].upper()
        if opt == b"COUNT" and i + 1 < n:
            count = parse_int(args[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"MATCH" and i + 1 < n:
            pattern = args[i + 1]
        elif opt == b"TYPE" and i + 1 < n:
            type_filter = args[i + 1]
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    nxt, items = generic.scan(c.db, cursor, count, pattern, type_filter)
    return _scan_reply(nxt, items)


@command(
    "randomkey",
    1,
    "readonly",
    acl=A,
    group=G,
    summary="Returns a random key name from the database.",
    complexity="O(1)",
)
def randomkey(c: ClientState, args: list[bytes]) -> bytes:
    return c.enc.bulk_or_null(generic.random_key(c.db))


# --- rename, copy, move ------------------------------------------------------------------
@command(
    "rename",
    3,
    "write",
    keys=(1, 2, 1),
    acl=A,
    group=G,
    summary="Renames a key and overwrites the destination.",
    complexity="O(1)",
    args="key newkey",
    key_specs=(KeySpec("RW access delete", index=1), KeySpec("OW update", index=2)),
)
def rename(c: ClientState, args: list[bytes]) -> bytes:
    replacing = will_replace(c, args[2])
    if generic.rename(c.db, args[1], args[2], nx=False) is None:
        raise CommandError(errors.NO_SUCH_KEY)
    renamed(c, args[1], args[2], replacing)
    return OK


@command(
    "renamenx",
    3,
    "write fast",
    keys=(1, 2, 1),
    acl=A,
    group=G,
    summary="Renames a key only when the target key name doesn't exist.",
    complexity="O(1)",
    args="key newkey",
    key_specs=(KeySpec("RW access delete", index=1), KeySpec("OW insert", index=2)),
)
def renamenx(c: ClientState, args: list[bytes]) -> bytes:
    r = generic.rename(c.db, args[1], args[2], nx=True)
    if r is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if r:
        renamed(c, args[1], args[2])
    return integer(r)


@command(
    "copy",
    -3,
    "write denyoom",
    keys=(1, 2, 1),
    acl=A,
    group=G,
    summary="Copies the value of a key to a new key.",
    since="6.2.0",
    complexity="O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
    args="source destination [DB destination-db] [REPLACE]",
    key_specs=(KeySpec("RO access", index=1), KeySpec("OW update", index=2)),
)
def copy(c: ClientState, args: list[bytes]) -> bytes:
    dst_db = c.db
    replace = False
    i, n = 3, len(args)
    while i < n:
        opt = args[i].upper()
        if opt == b"REPLACE":
            replace = True
        elif opt == b"DB" and i + 1 < n:
            dst_db = _db_for(c, args[i + 1])
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if dst_db is c.db and args[1] == args[2]:
        raise CommandError(errors.SAME_OBJECT)
    replacing = replace and will_replace(c, args[2], dst_db)
    r = generic.copy(c.db, dst_db, args[1], args[2], replace)
    if r:
        replaced_new(c, args[2], replacing, dst_db)
        notify_db(c.server, GENERIC, b"copy_to", args[2], dst_db.index)
    return integer(r)


@command(
    "move",
    3,
    "write fast",
    keys=(1, 1, 1),
    acl=A,
    group=G,
    summary="Moves a key to another database.",
    complexity="O(1)",
    args="key db",
    key_flags="RW access update",
)
def move(c: ClientState, args: list[bytes]) -> bytes:
    dst_db = _db_for(c, args[2])
    if dst_db is c.db:
        raise CommandError(errors.SAME_OBJECT)
    r = generic.move(c.db, dst_db, args[1])
    if r:
        moved(c, args[1], dst_db)
    return integer(r)


# --- Pika: SCANX, PKSCANRANGE, PKRSCANRANGE, PKPATTERNMATCHDEL ---------------------------
def _pika_type(raw: bytes, with_value_ok: bool = False) -> tuple[int, bool]:
    """(type code, with values) of a Pika type argument (string_with_value where allowed)."""
    low = raw.lower()
    if with_value_ok and low == b"string_with_value":
        return L.T_STRING, True
    code = L.TYPE_CODES.get(low)
    if code is None:
        raise CommandError(errors.PIKA_INVALID_DB_TYPE.format(""))  # Pika's exact text
    return code, False


def _pika_options(
    args: list[bytes], start: int, names: tuple[bytes, bytes]
) -> tuple[bytes | None, int]:
    """MATCH pattern / COUNT-or-LIMIT n options (Pika: n must be a positive integer)."""
    pattern: bytes | None = None
    n = 10
    i = start
    while i < len(args):
        opt = args[i].upper()
        if opt not in names:
            raise CommandError(errors.SYNTAX)
        if i + 1 >= len(args):
            raise CommandError(errors.SYNTAX)
        if opt == names[0]:
            pattern = args[i + 1]
        else:
            n = parse_int(args[i + 1])
            if n <= 0:
                raise CommandError(errors.NOT_INTEGER)
        i += 2
    return pattern, n


def _range_reply(
    db: Database, next_key: bytes, items: list[tuple[bytes, bytes]], with_values: bool
) -> bytes:
    flat: list[bytes] = []
    for k, raw in items:
        flat.append(k)
        if with_values:  # string_with_value: only strings are listed
            flat.append(strings.value(db, db.mkey(k), raw) or b"")
    return b"*2\r\n" + bulk(next_key) + _bulks(flat)


@command(
    "scanx",
    -3,
    "readonly",
    acl=A,
    group=G,
    summary="Pika: iterates over keys of one type in key order, starting at a key.",
    since="3.0.0",
    args="type start_key [MATCH pattern] [COUNT count]",
)
def scanx(c: ClientState, args: list[bytes]) -> bytes:
    code, _ = _pika_type(args[1])
    pattern, count = _pika_options(args, 3, (b"MATCH", b"COUNT"))
    res = generic.range_scan(c.db, code, args[2], None, pattern, count)
    return _range_reply(c.db, res.next_key, res.items, False)


def _pkscanrange(c: ClientState, args: list[bytes], reverse: bool) -> bytes:
    code, with_values = _pika_type(args[1], with_value_ok=True)
    start, end = args[2], args[3]
    pattern, limit = _pika_options(args, 4, (b"MATCH", b"LIMIT"))
    if start and end and (start < end if reverse else start > end):
        raise CommandError(errors.PIKA_INVALID_RANGE)
    res = generic.range_scan(c.db, code, start or None, end or None, pattern, limit, reverse)
    return _range_reply(c.db, res.next_key, res.items, with_values)


@command(
    "pkscanrange",
    -4,
    "readonly",
    acl=A,
    group=G,
    summary='Pika: keys of one type in the closed range [key_start, key_end] ("" = unbounded), ascending.',
    since="3.0.0",
    args="type key_start key_end [MATCH pattern] [LIMIT limit]",
)
def pkscanrange(c: ClientState, args: list[bytes]) -> bytes:
    return _pkscanrange(c, args, False)


@command(
    "pkrscanrange",
    -4,
    "readonly",
    acl=A,
    group=G,
    summary='Pika: keys of one type from key_start down to key_end ("" = unbounded), descending.',
    since="3.0.0",
    args="type key_start key_end [MATCH pattern] [LIMIT limit]",
)
def pkrscanrange(c: ClientState, args: list[bytes]) -> bytes:
    return _pkscanrange(c, args, True)


@command(
    "pkpatternmatchdel",
    -2,
    "write admin",
    acl=A,
    group=G,
    summary="Pika: deletes the keys matching a pattern (at most max_count of them).",
    since="3.0.0",
    args="pattern [max_count]",
)
def pkpatternmatchdel(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 3:
        raise CommandError(errors.SYNTAX)
    max_count = None
    if len(args) == 3:
        max_count = parse_int(args[2])
        if max_count <= 0:
            raise CommandError(errors.NOT_INTEGER)
    return integer(generic.pattern_delete(c.db, args[1], max_count))
