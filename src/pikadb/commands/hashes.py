"""Hash commands (Redis 7.0 semantics) and Pika's HSCANX, PKHSCANRANGE, PKHRSCANRANGE.

Error order follows t_hash.c: e.g. HINCRBY parses its increment before it looks at the key,
HRANDFIELD parses count and WITHVALUES before the key, HSCAN validates its cursor, then the
key (a missing key answers an empty scan whatever the options), then the options.
HINCRBYFLOAT uses the exact ``long double`` emulation INCRBYFLOAT uses
(:mod:`pikadb.commands._longdouble`). HSCAN also accepts NOVALUES (Redis 7.4).
"""

from __future__ import annotations

from collections.abc import Callable

from pikadb.commands import _longdouble as LD
from pikadb.commands import cache_cmd
from pikadb.commands._args import INT64_MAX, INT64_MIN, parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.debug import digest_hash, register_value_digest
from pikadb.commands.keyspace import parse_cursor
from pikadb.commands.notify import HASH, counted, removed, with_event
from pikadb.commands.object_cmd import register_encoding
from pikadb.commands.table import Handler, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, ONE, ZERO, array, bulk, integer
from pikadb.storage import hashes

G = "hash"
LONG_MAX = INT64_MAX


def _cmd(
    name: str,
    arity: int,
    flags: str,
    key_flags: str,
    summary: str,
    args: str,
    *,
    since: str = "2.0.0",
    complexity: str = "O(1)",
    tips: str = "",
) -> Callable[[Handler], Handler]:
    """:func:`command` with this family's defaults (one key, @hash)."""
    return command(
        name,
        arity,
        flags,
        keys=(1, 1, 1),
        acl="hash",
        group=G,
        key_flags=key_flags,
        summary=summary,
        since=since,
        complexity=complexity,
        args=args,
        tips=tips,
    )


def _pairs_reply(c: ClientState, items: list[tuple[bytes, bytes]]) -> bytes:
    """HGETALL's reply: a map (RESP3) or a flat array."""
    body = b"".join(bulk(f) + bulk(v) for f, v in items)
    return c.enc.map_header(len(items)) + body


def _flat(items: list[bytes]) -> bytes:
    return b"*%d\r\n%s" % (len(items), b"".join(bulk(x) for x in items))


# --- set / get -------------------------------------------------------------------------------
def _check_pairs(args: list[bytes], name: str) -> None:
    if len(args) % 2:
        raise CommandError(errors.wrong_arity(name))


@_cmd(
    "hset",
    -4,
    "write denyoom fast",
    "RW update",
    "Set the string value of a hash field",
    "key field value [field value ...]",
    complexity="O(1) for each field/value pair added, so O(N) to add N field/value pairs "
    "when the command is called with multiple field/value pairs.",
)
def hset(c: ClientState, args: list[bytes]) -> bytes:
    _check_pairs(args, "hset")
    return integer(with_event(c, HASH, b"hset", args[1], hashes.set_fields(c.db, args[1], args, 2)))


@_cmd(
    "hmset",
    -4,
    "write denyoom fast",
    "RW update",
    "Set multiple hash fields to multiple values",
    "key field value [field value ...]",
    complexity="O(N) where N is the number of fields being set.",
)
def hmset(c: ClientState, args: list[bytes]) -> bytes:
    _check_pairs(args, "hmset")
    with_event(c, HASH, b"hset", args[1], hashes.set_fields(c.db, args[1], args, 2))
    return OK


@_cmd(
    "hsetnx",
    4,
    "write denyoom fast",
    "RW insert",
    "Set the value of a hash field, only if the field does not exist",
    "key field value",
)
def hsetnx(c: ClientState, args: list[bytes]) -> bytes:
    done = hashes.set_if_absent(c.db, args[1], args[2], args[3])
    return ONE if counted(c, HASH, b"hset", args[1], int(done)) else ZERO


@_cmd("hget", 3, "readonly fast", "RO access", "Get the value of a hash field", "key field")
def hget(c: ClientState, args: list[bytes]) -> bytes:
    if c.db.cache is not None:  # hot-data cache on (commands/cache_cmd.py)
        return cache_cmd.hget(c, c.db.cache, args[1], args[2])
    v = hashes.get(c.db, args[1], args[2])
    if v is None:
        return c.enc.null
    return b"$%d\r\n%s\r\n" % (len(v), v)


@_cmd(
    "hmget",
    -3,
    "readonly fast",
    "RO access",
    "Get the values of all the given hash fields",
    "key field [field ...]",
    complexity="O(N) where N is the number of fields being requested.",
)
def hmget(c: ClientState, args: list[bytes]) -> bytes:
    return c.enc.bulks(hashes.get_many(c.db, args[1], args[2:]))


@_cmd(
    "hdel",
    -3,
    "write fast",
    "RW delete",
    "Delete one or more hash fields",
    "key field [field ...]",
    complexity="O(N) where N is the number of fields to be removed.",
)
def hdel(c: ClientState, args: list[bytes]) -> bytes:
    n = hashes.delete_fields(c.db, args[1], args[2:])
    return integer(removed(c, HASH, b"hdel", args[1], n))


@_cmd("hexists", 3, "readonly fast", "RO", "Determine if a hash field exists", "key field")
def hexists(c: ClientState, args: list[bytes]) -> bytes:
    return ZERO if hashes.get(c.db, args[1], args[2]) is None else ONE


@_cmd("hlen", 2, "readonly fast", "RO", "Get the number of fields in a hash", "key")
def hlen(c: ClientState, args: list[bytes]) -> bytes:
    return integer(hashes.length(c.db, args[1]))


@_cmd(
    "hstrlen",
    3,
    "readonly fast",
    "RO",
    "Get the length of the value of a hash field",
    "key field",
    since="3.2.0",
)
def hstrlen(c: ClientState, args: list[bytes]) -> bytes:
    v = hashes.get(c.db, args[1], args[2])
    return ZERO if v is None else integer(len(v))


_ALL = "O(N) where N is the size of the hash."


@_cmd(
    "hgetall",
    2,
    "readonly",
    "RO access",
    "Get all the fields and values in a hash",
    "key",
    complexity=_ALL,
    tips="nondeterministic_output_order",
)
def hgetall(c: ClientState, args: list[bytes]) -> bytes:
    if c.db.cache is not None:
        return cache_cmd.hgetall(c, c.db.cache, args[1])
    return _pairs_reply(c, hashes.items(c.db, args[1]))


@_cmd(
    "hkeys",
    2,
    "readonly",
    "RO access",
    "Get all the fields in a hash",
    "key",
    complexity=_ALL,
    tips="nondeterministic_output_order",
)
def hkeys(c: ClientState, args: list[bytes]) -> bytes:
    if c.db.cache is not None:
        return cache_cmd.hkeys_or_vals(c, c.db.cache, args[1], 0)
    return _flat([f for f, _ in hashes.items(c.db, args[1])])


@_cmd(
    "hvals",
    2,
    "readonly",
    "RO access",
    "Get all the values in a hash",
    "key",
    complexity=_ALL,
    tips="nondeterministic_output_order",
)
def hvals(c: ClientState, args: list[bytes]) -> bytes:
    if c.db.cache is not None:
        return cache_cmd.hkeys_or_vals(c, c.db.cache, args[1], 1)
    return _flat([v for _, v in hashes.items(c.db, args[1])])


# --- counters ----------------------------------------------------------------------------
@_cmd(
    "hincrby",
    4,
    "write denyoom fast",
    "RW access update",
    "Increment the integer value of a hash field by the given number",
    "key field increment",
)
def hincrby(c: ClientState, args: list[bytes]) -> bytes:
    by = parse_int(args[3])

    def fn(old: bytes | None) -> bytes:
        value = 0 if old is None else parse_int(old, errors.HASH_NOT_INT)
        if (by < 0 and value < 0 and by < INT64_MIN - value) or (
            by > 0 and value > 0 and by > INT64_MAX - value
        ):
            raise CommandError(errors.INCR_OVERFLOW)
        return b"%d" % (value + by)

    new = hashes.update_field(c.db, args[1], args[2], fn)
    return b":%s\r\n" % with_event(c, HASH, b"hincrby", args[1], new)


@_cmd(
    "hincrbyfloat",
    4,
    "write denyoom fast",
    "RW access update",
    "Increment the float value of a hash field by the given amount",
    "key field increment",
    since="2.6.0",
)
def hincrbyfloat(c: ClientState, args: list[bytes]) -> bytes:
    by = LD.parse(args[3])
    if by is None:
        raise CommandError(errors.NOT_FLOAT)
    if LD.is_inf(by):
        raise CommandError(errors.VALUE_NAN_OR_INF)

    def fn(old: bytes | None) -> bytes:
        value = (0, 0) if old is None else LD.parse(old)
        if value is None:
            raise CommandError(errors.HASH_NOT_FLOAT)
        total = LD.add(value, by)
        if total is None:
            raise CommandError(errors.INCR_NAN_OR_INF)
        return LD.format_human(total)

    new = hashes.update_field(c.db, args[1], args[2], fn)
    return bulk(with_event(c, HASH, b"hincrbyfloat", args[1], new))


# --- HRANDFIELD --------------------------------------------------------------------------
def parse_range_long(raw: bytes, lo: int, hi: int) -> int:
    """getRangeLongFromObjectOrReply with Redis's default message."""
    v = parse_int(raw)
    if v < lo or v > hi:
        raise CommandError(errors.INT_RANGE.format(lo, hi))
    return v


@_cmd(
    "hrandfield",
    -2,
    "readonly",
    "RO access",
    "Get one or multiple random fields from a hash",
    "key [count [WITHVALUES]]",
    since="6.2.0",
    complexity="O(N) where N is the number of fields returned",
    tips="nondeterministic_output",
)
def hrandfield(c: ClientState, args: list[bytes]) -> bytes:
    n = len(args)
    if n == 2:
        return c.enc.bulk_or_null(hashes.random_field(c.db, args[1]))
    count = parse_range_long(args[2], -LONG_MAX, LONG_MAX)
    withvalues = False
    if n > 4 or (n == 4 and args[3].lower() != b"withvalues"):
        raise CommandError(errors.SYNTAX)
    if n == 4:
        withvalues = True
        if count < -(LONG_MAX // 2) or count > LONG_MAX // 2:
            raise CommandError(errors.VALUE_OUT_OF_RANGE)
    picks = hashes.random_fields(c.db, args[1], count)
    if not withvalues:
        return _flat([f for f, _ in picks])
    if c.resp == 2:
        return _flat([x for pair in picks for x in pair])
    return array([b"*2\r\n" + bulk(f) + bulk(v) for f, v in picks])


# --- HSCAN -------------------------------------------------------------------------------
def parse_scan_options(
    args: list[bytes], start: int, novalues_ok: bool
) -> tuple[int, bytes | None, bool]:
    """scanGenericCommand's options for HSCAN/SSCAN/ZSCAN: (count, pattern, novalues)."""
    count = 10
    pattern: bytes | None = None
    novalues = False
    i, n = start, len(args)
    while i < n:
        opt = args[i].lower()
        more = n - i - 1
        if opt == b"count" and more >= 1:
            count = parse_int(args[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
            i += 2
        elif opt == b"match" and more >= 1:
            pattern = args[i + 1]
            i += 2
        elif opt == b"novalues" and novalues_ok:
            novalues = True
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
    return count, pattern, novalues


EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"


def scan_reply(cursor: int, items: list[bytes]) -> bytes:
    cur = b"%d" % cursor
    return b"*2\r\n$%d\r\n%s\r\n%s" % (len(cur), cur, _flat(items))


@_cmd(
    "hscan",
    -3,
    "readonly",
    "RO access",
    "Incrementally iterate hash fields and associated values",
    "key cursor [MATCH pattern] [COUNT count] [NOVALUES]",
    since="2.8.0",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
    "calls for the cursor to return back to 0. N is the number of elements inside the "
    "collection..",
    tips="nondeterministic_output",
)
def hscan(c: ClientState, args: list[bytes]) -> bytes:
    cursor = parse_cursor(args[2])
    mkey, raw = hashes.lookup(c.db, args[1])
    if raw is None:
        return EMPTY_SCAN
    count, pattern, novalues = parse_scan_options(args, 3, True)
    nxt, items = hashes.scan(c.db, mkey, raw, cursor, count, pattern)
    if novalues:
        return scan_reply(nxt, [f for f, _ in items])
    return scan_reply(nxt, [x for pair in items for x in pair])


# --- Pika: HSCANX, PKHSCANRANGE, PKHRSCANRANGE -------------------------------------------
def _pika_options(args: list[bytes], start: int, limit_word: bytes) -> tuple[bytes | None, int]:
    """MATCH pattern / COUNT-or-LIMIT n, parsed as pika_hash.cc does (COUNT may be 0; LIMIT
    must be positive)."""
    pattern: bytes | None = None
    n = 10
    i = start
    while i < len(args):
        opt = args[i].lower()
        if opt not in (b"match", limit_word) or i + 1 >= len(args):
            raise CommandError(errors.SYNTAX)
        if opt == b"match":
            pattern = args[i + 1]
        else:
            n = parse_int(args[i + 1])
            if limit_word == b"limit" and n <= 0:
                raise CommandError(errors.NOT_INTEGER)
        i += 2
    if n < 0:
        raise CommandError(errors.SYNTAX)
    return pattern, n


def _pika_reply(next_field: bytes, items: list[tuple[bytes, bytes]]) -> bytes:
    return b"*2\r\n" + bulk(next_field) + _flat([x for pair in items for x in pair])


@_cmd(
    "hscanx",
    -3,
    "readonly",
    "RO access",
    "Pika: iterate hash fields in field order, starting at a field",
    "key start_field [MATCH pattern] [COUNT count]",
    since="3.0.0",
    complexity="O(N) where N is the number of fields examined (COUNT)",
)
def hscanx(c: ClientState, args: list[bytes]) -> bytes:
    pattern, count = _pika_options(args, 3, b"count")
    nxt, items = hashes.range_scan(c.db, args[1], args[2], b"", pattern, count)
    return _pika_reply(nxt, items)


def _pkhscanrange(c: ClientState, args: list[bytes], reverse: bool) -> bytes:
    pattern, limit = _pika_options(args, 4, b"limit")
    start, end = args[2], args[3]
    if start and end and (start < end if reverse else start > end):
        raise CommandError(errors.PIKA_INVALID_RANGE)
    nxt, items = hashes.range_scan(c.db, args[1], start, end, pattern, limit, reverse)
    return _pika_reply(nxt, items)


@_cmd(
    "pkhscanrange",
    -4,
    "readonly",
    "RO access",
    'Pika: hash fields in the closed range [field_start, field_end] ("" = unbounded), ascending',
    "key field_start field_end [MATCH pattern] [LIMIT limit]",
    since="3.0.0",
    complexity="O(N) where N is the number of fields examined (LIMIT)",
)
def pkhscanrange(c: ClientState, args: list[bytes]) -> bytes:
    return _pkhscanrange(c, args, False)


@_cmd(
    "pkhrscanrange",
    -4,
    "readonly",
    "RO access",
    'Pika: hash fields from field_start down to field_end ("" = unbounded), descending',
    "key field_start field_end [MATCH pattern] [LIMIT limit]",
    since="3.0.0",
    complexity="O(N) where N is the number of fields examined (LIMIT)",
)
def pkhrscanrange(c: ClientState, args: list[bytes]) -> bytes:
    return _pkhscanrange(c, args, True)


# --- hooks: DEBUG DIGEST, OBJECT ENCODING ----------------------------------------------------
register_value_digest(
    hashes.T_HASH, lambda db, mkey, raw, d: digest_hash(d, hashes.iter_items(db, mkey, raw))
)
register_encoding(hashes.T_HASH, hashes.encoding)
