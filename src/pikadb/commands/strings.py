"""String commands (Redis 7.0 semantics) and Pika's string extras (DELVX, PKSETEXAT, SET VX).

Replies, error texts and the order in which errors are detected follow t_string.c: e.g.
SET checks its syntax, then the expire value, then (with GET) the key's type; GETEX looks
the key up before it validates the expire value.
"""

from __future__ import annotations

from collections.abc import Callable

from pikadb.commands import _lcs, cache_cmd
from pikadb.commands import _longdouble as LD
from pikadb.commands._args import INT64_MAX, INT64_MIN, parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.notify import GENERIC, STRING, notify, notify_each, set_events
from pikadb.commands.table import Handler, command
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import EMPTY_BULK, NEG_ONE, OK, ONE, ZERO, array, bulk, integer
from pikadb.storage import strings

G = "string"
T_STRING = strings.T_STRING
T_STRING_CHUNKED = strings.T_STRING_CHUNKED
_value = strings.value
_write = strings.write
_write_persistent = strings.write_persistent
_update = strings.update
_cached_get = cache_cmd.get
_WRONGTYPE = errors.WRONGTYPE
_INT32_MAX = (1 << 31) - 1


def _cmd(
    name: str,
    arity: int,
    flags: str,
    key_flags: str,
    summary: str,
    args: str,
    *,
    keys: tuple[int, int, int] = (1, 1, 1),
    since: str = "1.0.0",
    complexity: str = "O(1)",
    tips: str = "",
    history: tuple[tuple[str, str], ...] = (),
) -> Callable[[Handler], Handler]:
    """:func:`command` with this family's defaults (one key, @string, O(1))."""
    return command(
        name,
        arity,
        flags,
        keys=keys,
        acl="string",
        group=G,
        key_flags=key_flags,
        summary=summary,
        since=since,
        complexity=complexity,
        args=args,
        tips=tips,
        history=history,
    )


def _max_bulk(c: ClientState) -> int:
    return c.server.settings.server.proto_max_bulk_len


# --- GET / SET ---------------------------------------------------------------------------
@_cmd("get", 2, "readonly fast", "RO access", "Get the value of a key", "key")
def get(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    if db.cache is not None:  # hot-data cache on (commands/cache_cmd.py)
        return _cached_get(c, db.cache, args[1])
    mkey, raw = db.lookup(args[1])
    if raw is None:
        return c.enc.null
    v = raw[9:] if raw[0] == T_STRING else _value(db, mkey, raw)
    return b"$%d\r\n%s\r\n" % (len(v), v)  # type: ignore[arg-type]


# Option bits of SET / GETEX (Redis's OBJ_SET_* / OBJ_* flags), plus Pika's VX.
NX, XX, GET, KEEPTTL, EX, PX, EXAT, PXAT, PERSIST, VX = (1 << i for i in range(10))
_FOR_SET, _FOR_GETEX = 0, 1
_SIMPLE = {b"NX": NX, b"XX": XX, b"GET": GET, b"KEEPTTL": KEEPTTL, b"PERSIST": PERSIST}
_WITH_ARG = {b"EX": EX, b"PX": PX, b"EXAT": EXAT, b"PXAT": PXAT, b"VX": VX}
# An option is refused (syntax error) when any of these flags is already set. The same
# option twice is accepted (the last value wins), as in Redis 7.0.
_CONFLICTS = {
    NX: XX | VX,
    XX: NX | VX,
    GET: VX,
    KEEPTTL: PERSIST | EX | EXAT | PX | PXAT,
    PERSIST: EX | EXAT | PX | PXAT | KEEPTTL,
    EX: KEEPTTL | PERSIST | EXAT | PX | PXAT,
    PX: KEEPTTL | PERSIST | EX | EXAT | PXAT,
    EXAT: KEEPTTL | PERSIST | EX | PX | PXAT,
    PXAT: KEEPTTL | PERSIST | EX | EXAT | PX,
    VX: NX | XX | GET,
}
_SET_ONLY = NX | XX | GET | KEEPTTL | VX
_GETEX_ONLY = PERSIST


def _parse_options(args: list[bytes], start: int, kind: int) -> tuple[int, int, int]:
    """Redis's parseExtendedStringArgumentsOrReply: (flags, index of the expire value or 0,
    index of the VX value or 0)."""
    flags = 0
    expire = vx = 0
    i = start
    n = len(args)
    not_allowed = _GETEX_ONLY if kind == _FOR_SET else _SET_ONLY
    while i < n:
        opt = args[i].upper()
        f = _SIMPLE.get(opt, 0)
        if f:
            if f & not_allowed or flags & _CONFLICTS[f]:
                raise CommandError(errors.SYNTAX)
            flags |= f
        else:
            f = _WITH_ARG.get(opt, 0)
            if not f or f & not_allowed or flags & _CONFLICTS[f] or i + 1 >= n:
                raise CommandError(errors.SYNTAX)
            flags |= f
            i += 1
            if f == VX:
                vx = i
            else:
                expire = i
        i += 1
    return flags, expire, vx


def _expire_at(raw: bytes, flags: int, name: str) -> int:
    """Redis's getExpireMillisecondsOrReply: the absolute expire time in ms."""
    ms = parse_int(raw)
    if ms <= 0 or (flags & (EX | EXAT) and ms > INT64_MAX // 1000):
        raise CommandError(errors.invalid_expire(name))
    if flags & (EX | EXAT):
        ms *= 1000
    if flags & (EX | PX):
        ms += now_ms()
        if ms > INT64_MAX:  # Redis's long long would wrap negative
            raise CommandError(errors.invalid_expire(name))
    return ms


@_cmd(
    "set",
    -3,
    "write denyoom",
    "RW access update variable_flags",
    "Set the string value of a key",
    "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
    "PXAT unix-time-milliseconds|KEEPTTL] [VX old-value]",
    history=(
        ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
        ("6.0.0", "Added the `KEEPTTL` option."),
        ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
        ("7.0.0", "Allowed the `NX` and `GET` options to be used together."),
    ),
)
def set_(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    if len(args) == 3:  # the common case, kept lean
        mkey, old = db.lookup(args[1])
        _write_persistent(db, mkey, old, args[2])
        notify(c, STRING, b"set", args[1])
        return OK
    flags, exp_idx, vx_idx = _parse_options(args, 3, _FOR_SET)
    expire_at = _expire_at(args[exp_idx], flags, "set") if exp_idx else 0
    mkey, old = db.lookup(args[1])
    if flags & VX:  # Pika: set only if the current value equals; :1 set, :0 no key, :-1 differs
        if old is None:
            return ZERO
        if _value(db, mkey, old) != args[vx_idx]:
            return NEG_ONE
        if flags & KEEPTTL:
            expire_at = strings.keep_ttl(old)
        alive = strings.write_at(db, mkey, old, args[2], expire_at, now_ms())
        set_events(c, args[1], exp_idx != 0, alive)
        return ONE
    old_value = _value(db, mkey, old) if flags & GET else None
    if (flags & NX and old is not None) or (flags & XX and old is None):
        return c.enc.bulk_or_null(old_value) if flags & GET else c.enc.null
    if flags & KEEPTTL:
        expire_at = strings.keep_ttl(old)
    alive = strings.write_at(db, mkey, old, args[2], expire_at, now_ms())
    set_events(c, args[1], exp_idx != 0, alive)
    return c.enc.bulk_or_null(old_value) if flags & GET else OK


def _set_with_expire(c: ClientState, args: list[bytes], unit: int, name: str) -> bytes:
    expire_at = _expire_at(args[2], unit, name)
    db = c.db
    mkey, old = db.lookup(args[1])
    _write(db, mkey, old, args[3], expire_at)
    set_events(c, args[1], True)
    return OK


@_cmd(
    "setex",
    4,
    "write denyoom",
    "OW update",
    "Set the value and expiration of a key",
    "key seconds value",
    since="2.0.0",
)
def setex(c: ClientState, args: list[bytes]) -> bytes:
    return _set_with_expire(c, args, EX, "setex")


@_cmd(
    "psetex",
    4,
    "write denyoom",
    "OW update",
    "Set the value and expiration in milliseconds of a key",
    "key milliseconds value",
    since="2.6.0",
)
def psetex(c: ClientState, args: list[bytes]) -> bytes:
    return _set_with_expire(c, args, PX, "psetex")


@_cmd(
    "setnx",
    3,
    "write denyoom fast",
    "OW insert",
    "Set the value of a key, only if the key does not exist",
    "key value",
)
def setnx(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    mkey, old = db.lookup(args[1])
    if old is not None:
        return ZERO
    _write_persistent(db, mkey, None, args[2])
    notify(c, STRING, b"set", args[1])
    return ONE


@_cmd(
    "getset",
    3,
    "write denyoom fast",
    "RW access update",
    "Set the string value of a key and return its old value",
    "key value",
)
def getset(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    mkey, old = db.lookup(args[1])
    value = _value(db, mkey, old)
    _write_persistent(db, mkey, old, args[2])
    notify(c, STRING, b"set", args[1])
    return c.enc.bulk_or_null(value)


@_cmd(
    "getdel",
    2,
    "write fast",
    "RW access delete",
    "Get the value of a key and delete the key",
    "key",
    since="6.2.0",
)
def getdel(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    mkey, old = db.lookup(args[1])
    value = _value(db, mkey, old)
    if value is None:
        return c.enc.null
    strings.delete(db, mkey, old)  # type: ignore[arg-type]
    notify(c, GENERIC, b"del", args[1])
    return bulk(value)


@_cmd(
    "getex",
    -2,
    "write fast",
    "RW access update",
    "Get the value of a key and optionally set its expiration",
    "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
    since="6.2.0",
)
def getex(c: ClientState, args: list[bytes]) -> bytes:
    flags, exp_idx, _ = _parse_options(args, 2, _FOR_GETEX)
    db = c.db
    mkey, raw = db.lookup(args[1])
    value = _value(db, mkey, raw)
    if value is None:
        return c.enc.null
    assert raw is not None
    if exp_idx:
        expire_at = _expire_at(args[exp_idx], flags, "getex")
        if flags & (EXAT | PXAT) and expire_at <= now_ms():
            strings.delete(db, mkey, raw)
            notify(c, GENERIC, b"del", args[1])
        else:
            strings.set_expire(db, mkey, raw, expire_at)
            notify(c, GENERIC, b"expire", args[1])
    elif flags & PERSIST:
        strings.set_expire(db, mkey, raw, 0)
        if strings.keep_ttl(raw):  # it had an expire
            notify(c, GENERIC, b"persist", args[1])
    return bulk(value)


# --- multi-key ---------------------------------------------------------------------------
@_cmd(
    "mget",
    -2,
    "readonly fast",
    "RO access",
    "Get the values of all the given keys",
    "key [key ...]",
    tips="request_policy:multi_shard",
    complexity="O(N) where N is the number of keys to retrieve.",
    keys=(1, -1, 1),
)
def mget(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    lookup = db.lookup
    out: list[bytes | None] = []
    for k in args[1:]:
        mkey, raw = lookup(k)
        if raw is None:
            out.append(None)
        elif raw[0] == T_STRING:
            out.append(raw[9:])
        else:
            out.append(strings.value_lenient(db, mkey, raw))
    return c.enc.bulks(out)


def _mset_items(
    c: ClientState, args: list[bytes], name: str
) -> list[tuple[bytes, bytes | None, bytes]]:
    if len(args) % 2 == 0:
        raise CommandError(errors.wrong_arity(name))
    lookup = c.db.lookup
    return [(*lookup(args[i]), args[i + 1]) for i in range(1, len(args), 2)]


@_cmd(
    "mset",
    -3,
    "write denyoom",
    "OW update",
    "Set multiple keys to multiple values",
    "key value [key value ...]",
    tips="request_policy:multi_shard response_policy:all_succeeded",
    since="1.0.1",
    complexity="O(N) where N is the number of keys to set.",
    keys=(1, -1, 2),
)
def mset(c: ClientState, args: list[bytes]) -> bytes:
    strings.write_many(c.db, _mset_items(c, args, "mset"))
    notify_each(c, STRING, b"set", args[1::2])
    return OK


@_cmd(
    "msetnx",
    -3,
    "write denyoom",
    "OW insert",
    "Set multiple keys to multiple values, only if none of the keys exist",
    "key value [key value ...]",
    tips="request_policy:multi_shard response_policy:agg_min",
    since="1.0.1",
    complexity="O(N) where N is the number of keys to set.",
    keys=(1, -1, 2),
)
def msetnx(c: ClientState, args: list[bytes]) -> bytes:
    items = _mset_items(c, args, "msetnx")
    if any(old is not None for _, old, _ in items):
        return ZERO
    strings.write_many(c.db, items)
    notify_each(c, STRING, b"set", args[1::2])
    return ONE


# --- length, ranges, append ----------------------------------------------------------------
@_cmd(
    "strlen",
    2,
    "readonly fast",
    "RO",
    "Get the length of the value stored in a key",
    "key",
    since="2.2.0",
)
def strlen(c: ClientState, args: list[bytes]) -> bytes:
    raw = c.db.lookup(args[1])[1]
    if raw is None:
        return ZERO
    strings.check(raw)
    return integer(strings.length(raw))


_RANGE_COMPLEXITY = (
    "O(N) where N is the length of the returned string. The complexity is ultimately "
    "determined by the returned length, but because creating a substring from an existing "
    "string is very cheap, it can be considered O(1) for small strings."
)


@_cmd(
    "getrange",
    4,
    "readonly",
    "RO access",
    "Get a substring of the string stored at a key",
    "key start end",
    since="2.4.0",
    complexity=_RANGE_COMPLEXITY,
)
def getrange(c: ClientState, args: list[bytes]) -> bytes:
    start = parse_int(args[2])
    end = parse_int(args[3])
    db = c.db
    mkey, raw = db.lookup(args[1])
    if raw is None:
        return EMPTY_BULK
    strings.check(raw)
    n = strings.length(raw)
    if not n:
        return EMPTY_BULK
    if start < 0 and end < 0 and start > end:
        return EMPTY_BULK
    if start < 0:
        start = max(start + n, 0)
    if end < 0:
        end = max(end + n, 0)
    if end >= n:
        end = n - 1
    if start > end:
        return EMPTY_BULK
    return bulk(strings.read_range(db, mkey, raw, start, end + 1))


@_cmd(
    "substr",
    4,
    "readonly",
    "RO access",
    "Get a substring of the string stored at a key",
    "key start end",
    complexity=_RANGE_COMPLEXITY,
)
def substr(c: ClientState, args: list[bytes]) -> bytes:
    return getrange(c, args)


def _check_length(c: ClientState, size: int, append: int) -> None:
    if size + append > _max_bulk(c):
        raise CommandError(errors.STRING_TOO_LONG)


@_cmd(
    "setrange",
    4,
    "write denyoom",
    "RW update",
    "Overwrite part of a string at key starting at the specified offset",
    "key offset value",
    since="2.2.0",
    complexity="O(1), not counting the time taken to copy the new string in place. "
    "Usually, this string is very small so the amortized complexity is O(1). Otherwise, "
    "complexity is O(M) with M being the length of the value argument.",
)
def setrange(c: ClientState, args: list[bytes]) -> bytes:
    offset = parse_int(args[2])
    if offset < 0:
        raise CommandError(errors.OFFSET_OUT_OF_RANGE)
    value = args[3]
    db = c.db
    mkey, raw = db.lookup(args[1])
    strings.check(raw)
    n = 0 if raw is None else strings.length(raw)
    if not value:
        return integer(n)
    _check_length(c, offset, len(value))
    if offset + len(value) <= strings.INLINE_MAX and (raw is None or raw[0] == T_STRING):
        old = b"" if raw is None else raw[9:]
        if offset > n:
            new = old + bytes(offset - n) + value
        else:
            new = old[:offset] + value + old[offset + len(value) :]
        _update(db, mkey, raw, new)
        notify(c, STRING, b"setrange", args[1])
        return integer(len(new))
    ed = strings.Editor(db, mkey, raw)
    ed.write(offset, value)
    ed.commit()
    notify(c, STRING, b"setrange", args[1])
    return integer(ed.length)


@_cmd(
    "append",
    3,
    "write denyoom fast",
    "RW insert",
    "Append a value to a key",
    "key value",
    since="2.0.0",
    complexity="O(1). The amortized time complexity is O(1) assuming the appended value "
    "is small and the already present value is of any size, since the dynamic string "
    "library used by Redis will double the free space available on every reallocation.",
)
def append(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    mkey, raw = db.lookup(args[1])
    if raw is None:
        new = args[2]
    elif raw[0] == T_STRING:
        _check_length(c, len(raw) - 9, len(args[2]))
        new = raw[9:] + args[2]
    else:
        strings.check(raw)
        n = strings.length(raw)
        _check_length(c, n, len(args[2]))
        ed = strings.Editor(db, mkey, raw)
        ed.write(n, args[2])
        ed.commit()
        notify(c, STRING, b"append", args[1])
        return integer(ed.length)
    _update(db, mkey, raw, new)
    notify(c, STRING, b"append", args[1])
    return integer(len(new))


# --- counters ----------------------------------------------------------------------------
def _incr_by(c: ClientState, key: bytes, by: int) -> bytes:
    db = c.db
    mkey, raw = db.lookup(key)
    if raw is None:
        n = by
    else:
        if raw[0] != T_STRING:
            # a chunked string is longer than any integer
            raise CommandError(errors.NOT_INTEGER if raw[0] == T_STRING_CHUNKED else _WRONGTYPE)
        n = parse_int(raw[9:]) + by
        if n > INT64_MAX or n < INT64_MIN:
            raise CommandError(errors.INCR_OVERFLOW)
    _update(db, mkey, raw, b"%d" % n)
    notify(c, STRING, b"incrby", key)
    return integer(n)


@_cmd(
    "incr",
    2,
    "write denyoom fast",
    "RW access update",
    "Increment the integer value of a key by one",
    "key",
)
def incr(c: ClientState, args: list[bytes]) -> bytes:
    return _incr_by(c, args[1], 1)


@_cmd(
    "decr",
    2,
    "write denyoom fast",
    "RW access update",
    "Decrement the integer value of a key by one",
    "key",
)
def decr(c: ClientState, args: list[bytes]) -> bytes:
    return _incr_by(c, args[1], -1)


@_cmd(
    "incrby",
    3,
    "write denyoom fast",
    "RW access update",
    "Increment the integer value of a key by the given amount",
    "key increment",
)
def incrby(c: ClientState, args: list[bytes]) -> bytes:
    return _incr_by(c, args[1], parse_int(args[2]))


@_cmd(
    "decrby",
    3,
    "write denyoom fast",
    "RW access update",
    "Decrement the integer value of a key by the given number",
    "key decrement",
)
def decrby(c: ClientState, args: list[bytes]) -> bytes:
    by = parse_int(args[2])
    if by == INT64_MIN:  # negating it would overflow
        raise CommandError(errors.DECR_OVERFLOW)
    return _incr_by(c, args[1], -by)


@_cmd(
    "incrbyfloat",
    3,
    "write denyoom fast",
    "RW access update",
    "Increment the float value of a key by the given amount",
    "key increment",
    since="2.6.0",
)
def incrbyfloat(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    mkey, raw = db.lookup(args[1])
    strings.check(raw)
    # a chunked string is longer than any float Redis parses (MAX_LONG_DOUBLE_CHARS)
    old = None if raw is None or raw[0] != T_STRING else raw[9:]
    value = (0, 0) if raw is None else None if old is None else LD.parse(old)
    by = LD.parse(args[2])
    if value is None or by is None:
        raise CommandError(errors.NOT_FLOAT)
    total = LD.add(value, by)
    if total is None:
        raise CommandError(errors.INCR_NAN_OR_INF)
    text = LD.format_human(total)
    _update(db, mkey, raw, text)
    notify(c, STRING, b"incrbyfloat", args[1])
    return bulk(text)


# --- LCS -----------------------------------------------------------------------------------
@_cmd(
    "lcs",
    -3,
    "readonly",
    "RO access",
    "Find longest common substring",
    "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
    since="7.0.0",
    complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
    keys=(1, 2, 1),
)
def lcs(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    (ma, ra), (mb, rb) = db.lookup(args[1]), db.lookup(args[2])
    if (ra is not None and not strings.is_string(ra)) or (
        rb is not None and not strings.is_string(rb)
    ):
        raise CommandError(errors.LCS_NOT_STRINGS)
    la = 0 if ra is None else strings.length(ra)
    lb = 0 if rb is None else strings.length(rb)
    get_len = get_idx = with_len = False
    min_len = 0
    i, n = 3, len(args)
    while i < n:
        opt = args[i].upper()
        if opt == b"IDX":
            get_idx = True
        elif opt == b"LEN":
            get_len = True
        elif opt == b"WITHMATCHLEN":
            with_len = True
        elif opt == b"MINMATCHLEN" and i + 1 < n:
            i += 1
            min_len = max(parse_int(args[i]), 0)
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if get_idx and get_len:
        raise CommandError(errors.LCS_LEN_AND_IDX)
    if la >= 0xFFFFFFFE or lb >= 0xFFFFFFFE:
        raise CommandError(errors.LCS_TOO_LONG)
    if (la + 1) * (lb + 1) * 4 > _max_bulk(c):
        raise CommandError(errors.LCS_MEMORY)
    a = _value(db, ma, ra) or b""
    b = _value(db, mb, rb) or b""
    length, text, matches = _lcs.lcs(a, b, get_idx or not get_len, min_len)
    if get_idx:
        items = []
        for a_start, a_end, b_start, b_end, mlen in matches:
            item = [
                array([integer(a_start), integer(a_end)]),
                array([integer(b_start), integer(b_end)]),
            ]
            if with_len:
                item.append(integer(mlen))
            items.append(array(item))
        return (
            c.enc.map_header(2) + bulk(b"matches") + array(items) + bulk(b"len") + integer(length)
        )
    if get_len:
        return integer(length)
    return bulk(text)


# --- Pika extras ---------------------------------------------------------------------------
@_cmd(
    "delvx",
    3,
    "write fast",
    "RW access delete",
    "Delete the key only if its value equals the given value (Pika)",
    "key value",
)
def delvx(c: ClientState, args: list[bytes]) -> bytes:
    """Pika's reply: 1 deleted, 0 no such key, -1 the value differs."""
    db = c.db
    mkey, raw = db.lookup(args[1])
    if raw is None:
        return ZERO
    strings.check(raw)
    if strings.length(raw) != len(args[2]) or _value(db, mkey, raw) != args[2]:
        return NEG_ONE
    strings.delete(db, mkey, raw)  # type: ignore[arg-type]
    notify(c, GENERIC, b"del", args[1])
    return ONE


@_cmd(
    "pksetexat",
    4,
    "write denyoom",
    "OW update",
    "Set the value of a key with an absolute expire time in seconds (Pika)",
    "key unix-time-seconds value",
)
def pksetexat(c: ClientState, args: list[bytes]) -> bytes:
    """Pika's binlog form of every TTL'd string write. 0 means no expiry (Pika's
    "permanent" timestamp); a time in the past leaves the key deleted."""
    ts = parse_int(args[2])
    if ts >= _INT32_MAX:
        raise CommandError(errors.NOT_INTEGER)
    db = c.db
    mkey, old = db.lookup(args[1])
    alive = strings.write_at(db, mkey, old, args[3], ts * 1000, now_ms())
    set_events(c, args[1], ts > 0, alive)
    return OK
