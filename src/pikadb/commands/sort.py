"""SORT and SORT_RO (Redis 7.0 sort.c semantics).

Options are parsed left to right before the key is looked at (a syntax error or a bad LIMIT
wins over WRONGTYPE); keywords compare as C strings, case-insensitively. ``BY`` without a
``*`` means "do not sort", and stays so even if a later BY has one. SORT_RO does not know
STORE (a syntax error).

Ordering, as sortCompare:
* numeric (default): each element's weight (the element, or its BY value; a missing BY value
  weighs 0) parsed by C ``strtod`` (see :func:`strtod`), ties broken by the elements' bytes;
  any weight that does not parse -> "One or more scores can't be converted into double";
* ALPHA: the elements, or their BY values (missing first); compared with ``strcoll`` (as C
  strings: up to a NUL byte; the C/C.UTF-8 collation is byte order) or, with STORE, as whole
  binary strings; ties keep the input order (glibc's qsort is a stable merge sort), except
  with BY and a LIMIT that leaves elements out, where sort.c uses its partial quicksort
  (``pqsort``, ported move for move in :mod:`pikadb.core.geohash`) and so does this;
* DESC reverses the comparison.
Without sorting (BY <constant>) a list or zset gives its own order (reversed by DESC, LIMIT
taken directly), a set its iteration order (an intset in numeric order) unless STORE is given,
which sorts it ALPHA for determinism.

LIMIT offset count is clamped as Redis 7.0.15 does (negative offset 0, negative count "all",
huge values fine). GET patterns give nil (STORE: empty strings) where nothing is found. STORE
replaces the destination with a list (no TTL), deletes it for an empty result, replies with
the number of stored items.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from pikadb.commands import notify
from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.table import KeySpec, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.core.geohash import pqsort
from pikadb.protocol.reply import integer
from pikadb.storage import sort as S

_SYNTAX = errors.SYNTAX
SORT_NOT_DOUBLE = errors.SORT_NOT_DOUBLE
T_LIST, T_SET, T_ZSET = S.T_LIST, S.T_SET, S.T_ZSET


# --- C strtod ------------------------------------------------------------------------------
_HEX = re.compile(
    rb"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
)
_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INF = re.compile(rb"[+-]?(?:inf(?:inity)?)", re.IGNORECASE)
_NAN = re.compile(rb"[+-]?nan", re.IGNORECASE)
_SPACE = b" \t\n\v\f\r"
DBL_MIN = 2.2250738585072014e-308
_INF_F = math.inf


def strtod(s: bytes) -> float | None:
    """The weight Redis 7.0 reads from ``s``: glibc ``strtod`` on the C string (up to a NUL
    byte), accepted only when it consumed everything, set no ERANGE (overflow; an underflow to
    zero or an inexact subnormal) and gave no NaN. None when Redis reports the error.

    An empty string is 0 (strtod parses nothing and stops at the terminator). Note: Redis
    7.0 does not clear ``errno`` first, so once any ERANGE happened in its main thread every
    numeric SORT fails until some system call sets errno again (a new connection does); this
    emulates the intended, per-call behaviour."""
    if s.isdigit() or (s[:1] == b"-" and s[1:].isdigit()):  # the common case: an integer
        v = float(s)
        return None if v == _INF_F or v == -_INF_F else v
    nul = s.find(b"\x00")
    if nul >= 0:
        s = s[:nul]
    if not s:
        return 0.0
    t = s.lstrip(_SPACE)
    m = _HEX.match(t)
    if m is not None:
        if m.end() != len(t):
            return None
        return _hex_value(m.group(1), m.group(2))
    m = _INF.match(t)
    if m is not None:
        if m.end() != len(t):
            return None
        return -math.inf if t[:1] == b"-" else math.inf
    if _NAN.match(t) is not None:
        return None  # NaN is rejected whatever follows it
    m = _DEC.match(t)
    if m is None or m.end() != len(t):
        return None
    v = float(t)
    if math.isinf(v):
        return None  # overflow
    if v == 0.0:
        mant = t.split(b"e")[0].split(b"E")[0]
        return None if mant.strip(b"+-.0") else v  # a nonzero number that underflowed
    if abs(v) < DBL_MIN and Fraction(t.decode()) != Fraction(v):
        return None  # inexact subnormal
    return v


def _hex_value(sign: bytes, body: bytes) -> float | None:
    try:
        v = float.fromhex(body.decode())
    except OverflowError:
        return None
    if v == 0.0:
        if body.lower().partition(b"p")[0].strip(b".0"):
            return None  # a nonzero number that underflowed
    elif v < DBL_MIN and _hex_fraction(body) != Fraction(v):
        return None  # inexact subnormal
    return -v if sign == b"-" else v


def _hex_fraction(body: bytes) -> Fraction:
    mant, _, exp = body.lower().partition(b"p")
    whole, _, frac = mant.partition(b".")
    digits = (whole + frac) or b"0"
    value = Fraction(int(digits, 16), 16 ** len(frac))
    e = int(exp) if exp else 0
    return value * (Fraction(2) ** e)


# --- parsing ---------------------------------------------------------------------------------
def _word(arg: bytes) -> bytes:
    """An option keyword as strcasecmp sees it (a C string)."""
    nul = arg.find(b"\x00")
    return (arg if nul < 0 else arg[:nul]).lower()


def _cstr(value: bytes) -> bytes:
    nul = value.find(b"\x00")
    return value if nul < 0 else value[:nul]


def _sort(c: ClientState, args: list[bytes], readonly: bool) -> bytes:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby: bytes | None = None
    storekey: bytes | None = None
    gets: list[S.Pattern] = []
    argc = len(args)
    j = 2
    while j < argc:
        left = argc - j - 1
        w = _word(args[j])
        if w == b"asc":
            desc = False
        elif w == b"desc":
            desc = True
        elif w == b"alpha":
            alpha = True
        elif w == b"limit" and left >= 2:
            limit_start = parse_int(args[j + 1])
            limit_count = parse_int(args[j + 2])
            j += 2
        elif not readonly and w == b"store" and left >= 1:
            storekey = args[j + 1]
            j += 1
        elif w == b"by" and left >= 1:
            sortby = args[j + 1]
            if not S.has_star(sortby):
                dontsort = True
            j += 1
        elif w == b"get" and left >= 1:
            gets.append(S.Pattern(args[j + 1]))
            j += 1
        else:
            raise CommandError(_SYNTAX)
        j += 1

    db = c.db
    src = S.open_source(db, args[1])
    # A set has no order of its own: sort it when the result is stored (or, in Redis, when
    # called from a script), so replicas and the AOF see the same list.
    if dontsort and src.type == T_SET and storekey is not None:
        dontsort, alpha, sortby = False, True, None

    n = src.size
    start = min(max(limit_start, 0), n)
    limit_count = min(max(limit_count, -1), n)
    end = n - 1 if limit_count < 0 else start + limit_count - 1
    if start >= n:
        start, end = n - 1, n - 2
    if end >= n:
        end = n - 1

    if dontsort and src.type != T_SET:
        vector = S.load_range(db, src, start, end, desc)
        if end >= start:
            start, end = 0, end - start
    else:
        vector = S.load_all(db, src)
    resolver = S.Resolver(db)
    if not dontsort and vector:
        # sort.c sorts partially (pqsort) when BY is given and LIMIT leaves some out
        partial = sortby is not None and (start != 0 or end != len(vector) - 1)
        limits = (start, end) if partial else None
        vector = _sorted(resolver, vector, sortby, alpha, desc, storekey is not None, limits)

    chosen = vector[start : end + 1] if end >= start else []
    out: list[bytes | None]
    if gets:
        cols = [resolver.resolve(p, chosen) for p in gets]
        out = [col[i] for i in range(len(chosen)) for col in cols]
    else:
        out = list(chosen)
    if storekey is None:
        return c.enc.bulks(out)
    values = [b"" if v is None else v for v in out]
    dst = storekey

    def store() -> int:
        S.store_list(db, dst, values)
        return len(values)

    notify.stored(c, notify.LIST, b"sortstore", dst, store)
    return integer(len(out))


def _sorted(
    resolver: S.Resolver,
    vector: list[bytes],
    sortby: bytes | None,
    alpha: bool,
    desc: bool,
    binary: bool,
    limits: tuple[int, int] | None,
) -> list[bytes]:
    """``vector`` in SORT's order: fully sorted, or (``limits``) with at least positions
    limits[0]..limits[1] right, as Redis's partial quicksort leaves them, ties included."""
    by = resolver.resolve(S.Pattern(sortby), vector) if sortby is not None else None
    if alpha:
        if by is None:
            if binary:
                return sorted(vector, reverse=desc)
            return sorted(vector, key=_cstr, reverse=desc)
        if not binary:
            by = [None if v is None else _cstr(v) for v in by]
        if limits is not None:
            return _partial(vector, by, desc, limits)
        keys = [(0, b"") if v is None else (1, v) for v in by]
        order = sorted(range(len(vector)), key=keys.__getitem__, reverse=desc)
        return [vector[i] for i in order]
    weights = vector if by is None else by
    pairs: list[tuple[float, bytes]] = []
    bad = False
    for w, e in zip(weights, vector, strict=True):
        if w is None:
            pairs.append((0.0, e))
            continue
        score = strtod(w)
        if score is None:
            bad = True
            score = 0.0
        pairs.append((score, e))
    if bad:
        raise CommandError(SORT_NOT_DOUBLE)
    pairs.sort(reverse=desc)
    return [e for _, e in pairs]


def _partial(
    vector: list[bytes], by: list[bytes | None], desc: bool, limits: tuple[int, int]
) -> list[bytes]:
    """ALPHA BY with LIMIT: Redis's pqsort with sortCompare (missing values first), so equal
    BY values come out in Redis's order. (Numeric ties are broken by the elements themselves,
    so there any correct sort gives Redis's answer.)"""

    def cmp(i: int, j: int) -> int:
        a, b = by[i], by[j]
        if a is None or b is None:
            c = 0 if a is b else -1 if a is None else 1
        else:
            c = (a > b) - (a < b)
        return -c if desc else c

    order = list(range(len(vector)))
    pqsort(order, cmp, limits[0], limits[1])
    return [vector[i] for i in order]


# --- key positions -------------------------------------------------------------------------
_SKIP = ((b"limit", 2), (b"get", 1), (b"by", 1))


def sort_keys(args: list[bytes]) -> list[int]:
    """sortGetKeys: the key, and the destination of the last STORE (scanned the way Redis
    scans: LIMIT/GET/BY skip their arguments, anything else is one word)."""
    keys = [1]
    store = 0
    argc = len(args)
    i = 2
    while i < argc:
        w = _word(args[i])
        for name, skip in _SKIP:
            if w == name:
                i += skip
                break
            if w == b"store" and i + 1 < argc:
                store = i + 1
                break
        i += 1
    if store:
        keys.append(store)
    return keys


def sort_ro_keys(args: list[bytes]) -> list[int]:
    return [1]


_PATTERN_NOTE = (
    "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive "
    "from the content of the key we sort"
)
_STORE_NOTE = (
    "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear "
    "anywhere in the argument array"
)
_SPECS_RO = (
    KeySpec("RO access", index=1),
    KeySpec("RO access", find="unknown", notes=_PATTERN_NOTE),
)
_SPECS = (*_SPECS_RO, KeySpec("OW update", find="unknown", notes=_STORE_NOTE))
_ARGS = "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]"
_COMPLEXITY = (
    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the "
    "number of returned elements. When the elements are not sorted, complexity is O(N)."
)


@command(
    "sort",
    -2,
    "write denyoom",
    keys=(1, 1, 1),
    acl="set sortedset list dangerous",
    group="generic",
    summary="Sort the elements in a list, set or sorted set",
    since="1.0.0",
    complexity=_COMPLEXITY,
    args=_ARGS + " [STORE destination]",
    key_finder=sort_keys,
    key_specs=_SPECS,
)
def sort_(c: ClientState, args: list[bytes]) -> bytes:
    return _sort(c, args, False)


@command(
    "sort_ro",
    -2,
    "readonly",
    keys=(1, 1, 1),
    acl="set sortedset list dangerous",
    group="generic",
    summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    since="7.0.0",
    complexity=_COMPLEXITY,
    args=_ARGS,
    key_finder=sort_ro_keys,
    key_specs=_SPECS_RO,
)
def sort_ro(c: ClientState, args: list[bytes]) -> bytes:
    return _sort(c, args, True)
