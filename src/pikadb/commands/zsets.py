"""Sorted-set commands (Redis 7.0 semantics): ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
ZRANK, ZREVRANK, ZPOPMIN, ZPOPMAX, ZMPOP, ZRANDMEMBER, ZSCAN; the shared argument parsing
and reply shapes. Ranges are in :mod:`zsets_range`, ZUNION/ZINTER/ZDIFF in
:mod:`zsets_algebra`, the blocking pops in :mod:`zsets_blocking`.

Scores are parsed like Redis: ZADD/ZINCRBY/WEIGHTS with getDoubleFromObject (C ``strtod``
over the whole argument: hex floats and "inf" accepted; spaces, NaN and overflow refused),
range bounds with zslParseRange (``strtod`` on the C string: leading spaces and "" are
accepted, the argument ends at a NUL byte). Replies print scores with "%.17g" (RESP3:
doubles), so ZSCORE of 1.1 is "1.1000000000000001".

ZRANK / ZREVRANK also take Redis 7.2's WITHSCORE (Redis 7.0 has arity 3 and refuses it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from pikadb.commands._args import INT64_MAX, parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.debug import digest_zset, register_value_digest
from pikadb.commands.keyspace import parse_cursor
from pikadb.commands.notify import ZSET, counted, popped, removed
from pikadb.commands.object_cmd import register_encoding
from pikadb.commands.table import Handler, KeySpec, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import EMPTY_ARRAY, format_double, integer
from pikadb.storage import zsets
from pikadb.storage.zsets import LEX_MAX, LEX_MIN, LexBound, LexRange, ScoreRange

G = "sorted-set"
A = "sortedset"
T_ZSET = zsets.T_ZSET
_SYNTAX = errors.SYNTAX
_isnan = math.isnan
_isinf = math.isinf
_INF = math.inf
_fmt = format_double
LONG_MIN_PLUS_1 = -INT64_MAX


def zcmd(
    name: str,
    arity: int,
    flags: str,
    summary: str,
    args: str,
    *,
    keys: tuple[int, int, int] = (1, 1, 1),
    key_flags: str = "",
    since: str = "1.2.0",
    complexity: str = "O(log(N))",
    key_specs: tuple[KeySpec, ...] = (),
    key_finder: Callable[[list[bytes]], list[int]] | None = None,
    history: tuple[tuple[str, str], ...] = (),
    tips: str = "",
) -> Callable[[Handler], Handler]:
    """:func:`command` with this family's defaults (@sortedset, one key)."""
    return command(
        name,
        arity,
        flags,
        keys=keys,
        acl=A,
        group=G,
        summary=summary,
        since=since,
        complexity=complexity,
        args=args,
        key_flags=key_flags,
        key_specs=key_specs,
        key_finder=key_finder,
        history=history,
        tips=tips,
    )


def numkeys_finder(numkeys_idx: int, extra_first: int = 0) -> Callable[[list[bytes]], list[int]]:
    """Key positions of ``[dst] numkeys key [key ...]`` commands (``extra_first``: a key
    before numkeys, e.g. the destination of ZUNIONSTORE)."""

    def find(args: list[bytes]) -> list[int]:
        n = int(args[numkeys_idx])
        if n < 0 or numkeys_idx + n >= len(args):
            raise ValueError("bad numkeys")
        keys = list(range(numkeys_idx + 1, numkeys_idx + 1 + n))
        return ([extra_first] if extra_first else []) + keys

    return find


# --- number parsing (C strtod) ------------------------------------------------------------
_WS = b" \t\n\v\f\r"
_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*[+-]?(?:"
    rb"(?P<inf>inf(?:inity)?)"
    rb"|(?P<nan>nan(?:\([0-9a-z_]*\))?)"
    rb"|(?P<hex>0x(?:[0-9a-f]+(?:\.[0-9a-f]*)?|\.[0-9a-f]+)(?:p[+-]?[0-9]+)?)"
    rb"|(?P<dec>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?)"
    rb")",
    re.I,
)
_NONZERO_DIGIT = re.compile(rb"[1-9a-f]", re.I)


def strtod(s: bytes) -> tuple[float, int, bool]:
    """glibc ``strtod`` on ``s``: (value, bytes consumed (0: no conversion), ERANGE)."""
    m = _STRTOD.match(s)
    if m is None:
        return 0.0, 0, False
    text = m.group(0).lstrip(_WS)
    neg = text[:1] == b"-"
    if m.group("inf"):
        return (-_INF if neg else _INF), m.end(), False
    if m.group("nan"):
        return math.nan, m.end(), False
    erange = False
    if m.group("hex"):
        try:
            v = float.fromhex(text.decode())
        except OverflowError:
            return (-_INF if neg else _INF), m.end(), True
        mant = m.group("hex")[2:].split(b"p")[0].split(b"P")[0]
    else:
        v = float(text)
        if _isinf(v):
            return v, m.end(), True
        mant = m.group("dec").split(b"e")[0].split(b"E")[0]
    if v == 0.0 and _NONZERO_DIGIT.search(mant):
        erange = True
    return v, m.end(), erange


def parse_score(raw: bytes, message: str = errors.NOT_FLOAT) -> float:
    """getDoubleFromObject: the whole argument is one strtod number, not NaN, no overflow."""
    if raw.isdigit():  # the common case
        v = float(raw)
        if v != _INF:
            return v
    if not raw or raw[0] in _WS:
        raise CommandError(message)
    v, n, erange = strtod(raw)
    if n != len(raw) or _isnan(v) or (erange and (_isinf(v) or v == 0.0)):
        raise CommandError(message)
    return v


def parse_score_bound(raw: bytes) -> tuple[float, bool]:
    """One bound of zslParseRange: (value, exclusive)."""
    ex = raw[:1] == b"("
    s = raw[1:] if ex else raw
    nul = s.find(b"\x00")
    if nul >= 0:
        s = s[:nul]
    v, n, _ = strtod(s)
    if n != len(s) or _isnan(v):
        raise CommandError(errors.ZSET_MIN_MAX_NOT_FLOAT)
    return v, ex


def parse_score_range(lo: bytes, hi: bytes) -> ScoreRange:
    a, aex = parse_score_bound(lo)
    b, bex = parse_score_bound(hi)
    return ScoreRange(a, b, aex, bex)


def parse_lex_bound(raw: bytes) -> tuple[LexBound, bool]:
    """zslParseLexRangeItem: "+", "-", "(member" or "[member"."""
    c = raw[:1]
    if c == b"+" or c == b"-":
        if len(raw) > 1 and raw[1] != 0:
            raise CommandError(errors.ZSET_MIN_MAX_NOT_LEX)
        return (LEX_MAX if c == b"+" else LEX_MIN), True
    if c == b"(":
        return raw[1:], True
    if c == b"[":
        return raw[1:], False
    raise CommandError(errors.ZSET_MIN_MAX_NOT_LEX)


def parse_lex_range(lo: bytes, hi: bytes) -> LexRange:
    a, aex = parse_lex_bound(lo)
    b, bex = parse_lex_bound(hi)
    return LexRange(a, b, aex, bex)


def parse_range_long(raw: bytes, lo: int, hi: int, message: str | None = None) -> int:
    """getRangeLongFromObjectOrReply (``message`` also replaces the not-an-integer error)."""
    v = parse_int(raw, message or errors.NOT_INTEGER)
    if v < lo or v > hi:
        raise CommandError(message or errors.INT_RANGE.format(lo, hi))
    return v


def parse_positive(raw: bytes, message: str = errors.MUST_BE_POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: 0..LONG_MAX."""
    return parse_range_long(raw, 0, INT64_MAX, message)


# --- replies ------------------------------------------------------------------------------
def score_reply(c: ClientState, s: float) -> bytes:
    t = _fmt(s)
    if c.resp == 2:
        return b"$%d\r\n%s\r\n" % (len(t), t)
    return b",%s\r\n" % t


def items_reply(c: ClientState, items: list[tuple[bytes, float]], withscores: bool) -> bytes:
    """ZRANGE-style reply: members, or (RESP2) a flat member/score array or (RESP3) an array
    of [member, score] pairs."""
    if not withscores:
        return b"*%d\r\n%s" % (
            len(items),
            b"".join([b"$%d\r\n%s\r\n" % (len(m), m) for m, _ in items]),
        )
    if c.resp == 2:
        parts = []
        for m, s in items:
            t = _fmt(s)
            parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(m), m, len(t), t))
        return b"*%d\r\n%s" % (2 * len(items), b"".join(parts))
    return b"*%d\r\n%s" % (
        len(items),
        b"".join([b"*2\r\n$%d\r\n%s\r\n,%s\r\n" % (len(m), m, _fmt(s)) for m, s in items]),
    )


def flat_pairs(c: ClientState, items: list[tuple[bytes, float]]) -> bytes:
    """member, score, member, score... without an array header (scores as doubles)."""
    return b"".join([b"$%d\r\n%s\r\n%s" % (len(m), m, score_reply(c, s)) for m, s in items])


def pop_reply(
    c: ClientState, key: bytes | None, items: list[tuple[bytes, float]], nested: bool
) -> bytes:
    """genericZpopCommand's shapes: flat [m, s, ...] / nested [[m, s], ...], with the key
    in front when ``key`` is given (flat for BZPOP*, [key, nested] for ZMPOP)."""
    if nested:
        body = b"*%d\r\n%s" % (
            len(items),
            b"".join([b"*2\r\n$%d\r\n%s\r\n%s" % (len(m), m, score_reply(c, s)) for m, s in items]),
        )
        if key is None:
            return body
        return b"*2\r\n$%d\r\n%s\r\n%s" % (len(key), key, body)
    if key is None:
        return b"*%d\r\n%s" % (2 * len(items), flat_pairs(c, items))
    return b"*%d\r\n$%d\r\n%s\r\n%s" % (2 * len(items) + 1, len(key), key, flat_pairs(c, items))


# --- ZADD / ZINCRBY -------------------------------------------------------------------------
_ZADD_OPTS = {
    b"NX": zsets.ZADD_NX,
    b"XX": zsets.ZADD_XX,
    b"GT": zsets.ZADD_GT,
    b"LT": zsets.ZADD_LT,
    b"INCR": zsets.ZADD_INCR,
    b"CH": 0,
}
_NX, _XX, _GT, _LT, _INCR = (
    zsets.ZADD_NX,
    zsets.ZADD_XX,
    zsets.ZADD_GT,
    zsets.ZADD_LT,
    zsets.ZADD_INCR,
)
_zadd = zsets.add


def _zadd_generic(c: ClientState, args: list[bytes], flags: int) -> bytes:
    n = len(args)
    i = 2
    ch = False
    opts = _ZADD_OPTS
    while i < n:
        a = args[i]
        if a[:1].isdigit():
            break
        f = opts.get(a.upper())
        if f is None:
            break
        if f:
            flags |= f
        else:
            ch = True
        i += 1
    elements = n - i
    if elements % 2 or not elements:
        raise CommandError(_SYNTAX)
    if flags & _NX and flags & _XX:
        raise CommandError(errors.ZADD_XX_AND_NX)
    if (flags & _GT and flags & (_NX | _LT)) or (flags & _LT and flags & _NX):
        raise CommandError(errors.ZADD_GT_LT_NX)
    incr = flags & _INCR
    if incr and elements > 2:
        raise CommandError(errors.ZADD_INCR_PAIR)
    pairs = [(parse_score(args[j]), args[j + 1]) for j in range(i, n, 2)]
    res = _zadd(c.db, args[1], pairs, flags)
    counted(c, ZSET, b"zincr" if incr else b"zadd", args[1], res.added + res.updated)
    if incr:
        return score_reply(c, res.score) if res.processed else c.enc.null
    return integer(res.added + res.updated if ch else res.added)


@zcmd(
    "zadd",
    -4,
    "write denyoom fast",
    "Add one or more members to a sorted set, or update its score if it already exists",
    "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]",
    key_flags="RW update",
    complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    history=(
        ("2.4.0", "Accepts multiple elements."),
        ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
        ("6.2.0", "Added the `GT` and `LT` options."),
    ),
)
def zadd(c: ClientState, args: list[bytes]) -> bytes:
    return _zadd_generic(c, args, 0)


@zcmd(
    "zincrby",
    4,
    "write denyoom fast",
    "Increment the score of a member in a sorted set",
    "key increment member",
    key_flags="RW access update",
)
def zincrby(c: ClientState, args: list[bytes]) -> bytes:
    return _zadd_generic(c, args, _INCR)


# --- single-key reads / removal ----------------------------------------------------------------
@zcmd(
    "zrem",
    -3,
    "write fast",
    "Remove one or more members from a sorted set",
    "key member [member ...]",
    key_flags="RW delete",
    complexity="O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
    history=(("2.4.0", "Accepts multiple elements."),),
)
def zrem(c: ClientState, args: list[bytes]) -> bytes:
    return integer(removed(c, ZSET, b"zrem", args[1], zsets.remove(c.db, args[1], args[2:])))


@zcmd(
    "zcard",
    2,
    "readonly fast",
    "Get the number of members in a sorted set",
    "key",
    key_flags="RO",
    complexity="O(1)",
)
def zcard(c: ClientState, args: list[bytes]) -> bytes:
    return integer(zsets.card(c.db, args[1]))


@zcmd(
    "zscore",
    3,
    "readonly fast",
    "Get the score associated with the given member in a sorted set",
    "key member",
    complexity="O(1)",
)
def zscore(c: ClientState, args: list[bytes]) -> bytes:
    s = zsets.score(c.db, args[1], args[2])
    return c.enc.null if s is None else score_reply(c, s)


@zcmd(
    "zmscore",
    -3,
    "readonly fast",
    "Get the score associated with the given members in a sorted set",
    "key member [member ...]",
    since="6.2.0",
    complexity="O(N) where N is the number of members being requested.",
)
def zmscore(c: ClientState, args: list[bytes]) -> bytes:
    got = zsets.scores(c.db, args[1], args[2:])
    null = c.enc.null
    return b"*%d\r\n%s" % (
        len(got),
        b"".join([null if s is None else score_reply(c, s) for s in got]),
    )


def _zrank(c: ClientState, args: list[bytes], reverse: bool) -> bytes:
    # Redis 7.0 has arity 3: anything but Redis 7.2's WITHSCORE stays an arity error.
    withscore = len(args) == 4 and args[3].upper() == b"WITHSCORE"
    if len(args) > 3 and not withscore:
        raise CommandError(errors.wrong_arity("zrevrank" if reverse else "zrank"))
    null = c.enc.null_array if withscore else c.enc.null
    got = zsets.rank(c.db, args[1], args[2], reverse)
    if got is None:
        return null
    if withscore:
        return b"*2\r\n%s%s" % (integer(got[0]), score_reply(c, got[1]))
    return integer(got[0])


@zcmd(
    "zrank",
    -3,
    "readonly fast",
    "Determine the index of a member in a sorted set",
    "key member [WITHSCORE]",
    since="2.0.0",
    history=(("7.2.0", "Added the optional `WITHSCORE` argument."),),
)
def zrank(c: ClientState, args: list[bytes]) -> bytes:
    return _zrank(c, args, False)


@zcmd(
    "zrevrank",
    -3,
    "readonly fast",
    "Determine the index of a member in a sorted set, with scores ordered from high to low",
    "key member [WITHSCORE]",
    since="2.0.0",
    history=(("7.2.0", "Added the optional `WITHSCORE` argument."),),
)
def zrevrank(c: ClientState, args: list[bytes]) -> bytes:
    return _zrank(c, args, True)


# --- pops -------------------------------------------------------------------------------------
def _zpop(c: ClientState, args: list[bytes], reverse: bool) -> bytes:
    if len(args) > 3:
        raise CommandError(_SYNTAX)
    count = -1
    if len(args) == 3:
        count = parse_positive(args[2])
    got = zsets.pop(c.db, [args[1]], reverse, 1 if count == -1 else count)
    if got is None or count == 0:
        return EMPTY_ARRAY
    popped(c, ZSET, b"zpopmax" if reverse else b"zpopmin", args[1], got)
    return pop_reply(c, None, got[1], c.resp > 2 and count != -1)


@zcmd(
    "zpopmin",
    -2,
    "write fast",
    "Remove and return members with the lowest scores in a sorted set",
    "key [count]",
    key_flags="RW access delete",
    since="5.0.0",
    complexity="O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
)
def zpopmin(c: ClientState, args: list[bytes]) -> bytes:
    return _zpop(c, args, False)


@zcmd(
    "zpopmax",
    -2,
    "write fast",
    "Remove and return members with the highest scores in a sorted set",
    "key [count]",
    key_flags="RW access delete",
    since="5.0.0",
    complexity="O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
)
def zpopmax(c: ClientState, args: list[bytes]) -> bytes:
    return _zpop(c, args, True)


def parse_mpop(args: list[bytes], numkeys_idx: int) -> tuple[list[bytes], bool, int]:
    """ZMPOP / BZMPOP arguments from ``numkeys``: (keys, reverse (MAX), count)."""
    numkeys = parse_range_long(args[numkeys_idx], 1, INT64_MAX, errors.NUMKEYS_POSITIVE)
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= len(args):
        raise CommandError(_SYNTAX)
    where = args[where_idx].upper()
    if where not in (b"MIN", b"MAX"):
        raise CommandError(_SYNTAX)
    count = -1
    j = where_idx + 1
    n = len(args)
    while j < n:
        if count == -1 and args[j].upper() == b"COUNT" and j + 1 < n:
            j += 1
            count = parse_range_long(args[j], 1, INT64_MAX, errors.COUNT_POSITIVE)
        else:
            raise CommandError(_SYNTAX)
        j += 1
    return args[numkeys_idx + 1 : where_idx], where == b"MAX", (1 if count == -1 else count)


@zcmd(
    "zmpop",
    -4,
    "write",
    "Remove and return members with scores in a sorted set",
    "numkeys key [key ...] MIN|MAX [COUNT count]",
    keys=(0, 0, 0),
    since="7.0.0",
    complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    key_specs=(KeySpec("RW access delete", index=1, find="keynum", keynumidx=0, firstkey=1),),
    key_finder=numkeys_finder(1),
)
def zmpop(c: ClientState, args: list[bytes]) -> bytes:
    keys, reverse, count = parse_mpop(args, 1)
    got = zsets.pop(c.db, keys, reverse, count)
    if got is None:
        return c.enc.null_array
    popped(c, ZSET, b"zpopmax" if reverse else b"zpopmin", got[0], got)
    return pop_reply(c, got[0], got[1], True)


# --- ZRANDMEMBER ---------------------------------------------------------------------------------
_HALF = INT64_MAX // 2


@zcmd(
    "zrandmember",
    -2,
    "readonly",
    "Get one or multiple random elements from a sorted set",
    "key [count [WITHSCORES]]",
    since="6.2.0",
    complexity="O(N) where N is the number of elements returned",
    tips="nondeterministic_output",
)
def zrandmember(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    if len(args) >= 3:
        count = parse_range_long(args[2], LONG_MIN_PLUS_1, INT64_MAX)
        withscores = False
        if len(args) > 4 or (len(args) == 4 and args[3].upper() != b"WITHSCORES"):
            raise CommandError(_SYNTAX)
        if len(args) == 4:
            withscores = True
            if count < -_HALF or count > _HALF:
                raise CommandError(errors.VALUE_OUT_OF_RANGE)
        items = zsets.random_members(db, args[1], count)
        return items_reply(c, items, withscores)
    m = zsets.random_member(db, args[1])
    return c.enc.bulk_or_null(m)


# --- ZSCAN --------------------------------------------------------------------------------------
_LLONG_HALF = float(INT64_MAX // 2)


def scan_score_text(s: float, listpack: bool) -> bytes:
    """A score as ZSCAN prints it: a listpack stores integral scores within +-2^62 as
    integers (printed as such); otherwise d2string ("%.17g", "-0", "inf")."""
    if listpack and s.is_integer() and -_LLONG_HALF <= s <= _LLONG_HALF:
        return b"%d" % int(s)
    return _fmt(s)


@zcmd(
    "zscan",
    -3,
    "readonly",
    "Incrementally iterate sorted sets elements and associated scores",
    "key cursor [MATCH pattern] [COUNT count]",
    since="2.8.0",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    tips="nondeterministic_output",
)
def zscan(c: ClientState, args: list[bytes]) -> bytes:
    cursor = parse_cursor(args[2])
    db = c.db
    if not zsets.check_type(db, args[1]):
        return b"*2\r\n$1\r\n0\r\n*0\r\n"
    count = 10
    pattern: bytes | None = None
    i, n = 3, len(args)
    while i < n:
        opt = args[i].upper()
        if opt == b"COUNT" and i + 1 < n:
            count = parse_int(args[i + 1])
            if count < 1:
                raise CommandError(_SYNTAX)
        elif opt == b"MATCH" and i + 1 < n:
            pattern = args[i + 1]
        else:
            raise CommandError(_SYNTAX)
        i += 2
    got = zsets.scan(db, args[1], cursor, count, pattern)
    nxt, items, listpack = got if got is not None else (0, [], True)
    parts = []
    for m, s in items:
        t = scan_score_text(s, listpack)
        parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(m), m, len(t), t))
    cur = b"%d" % nxt
    return b"*2\r\n$%d\r\n%s\r\n*%d\r\n%s" % (len(cur), cur, 2 * len(items), b"".join(parts))


# --- hooks --------------------------------------------------------------------------------------
register_value_digest(T_ZSET, lambda db, mkey, raw, d: digest_zset(d, zsets.items(db, mkey, raw)))
register_encoding(T_ZSET, zsets.encoding_name)
