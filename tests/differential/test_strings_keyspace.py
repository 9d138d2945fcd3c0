"""Random command sequences (strings, keyspace, multi-DB, expiry) on pikadb and real redis.

Each example flushes both servers, runs a generated sequence comparing every reply (see
harness.py for the comparison rules) and then compares the whole logical state. Run
``python -m tests.differential.test_strings_keyspace [examples]`` for a survey: it starts both
servers, runs every group without stopping at the first discrepancy and prints them grouped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import Diff, Pair, diff_settings, survey
from tests.support.servers import PikaServer, RedisServer

# --------------------------------------------------------------------------------------------
# Building blocks

# fmt: off
KEYS = [b"k1", b"k2", b"{t}a", b"{t}b", b"bin\x00\xff", b"", b"a[*]?\\"]
VALUES = [
    b"", b"0", b"1", b"-1", b"42", b"10", b"007", b"+1", b" 1", b"1 ", b"abc", b"hello world",
    b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808", b"3.14", b"-0.5",
    b"1e3", b"1.5e308", b"inf", b"-inf", b"nan", b"0x10", b"\x00\xff\xfe", b"x" * 100, b"10.50",
]
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
INTS = [0, 1, -1, 2, 3, 10, 100, -100, 12345, INT64_MAX, INT64_MIN, INT64_MAX - 1]
BAD_INTS = [
    b"abc", b"1.5", b" 1", b"", b"01", b"+1", b"9223372036854775808", b"-9223372036854775809",
    b"0x10", b"1e3",
]
FLOATS = [b"1.5", b"-0.5", b"0", b"1e2", b"3", b"-3.0e-2", b"5.0e3", b"1.", b".5", b"0.1", b"-1.1", b"17179869184"]
BAD_FLOATS = [b"inf", b"-inf", b"nan", b"abc", b"1e400", b"0x10", b" 1", b"", b"1,5", b"1_0"]
REL_S = [100, 1000, 86400, 0, -1, -100]
REL_MS = [100_000, 5_000_000, 0, -1, -5000]
ABS_S = [1, 1_000_000_000, 4_102_444_800, 32_503_680_000, 0, -1]
ABS_MS = [1, 1_000_000_000_000, 4_102_444_800_000, 32_503_680_000_000, 0, -1]
OVERFLOW = [INT64_MAX, INT64_MIN, 9_223_372_036_854_775, 9_223_372_036_854_776, INT64_MAX - 1000]
INDEXES = [0, 1, 2, 3, -1, -2, -3, -100, 100, INT64_MAX, INT64_MIN]
DBS = [0, 1, 2]
BAD_DBS = [16, -1, 100, b"abc", b"1.0", INT64_MAX, b"", 2147483648, -2147483649]
PATTERNS = [
    b"a\\[*", b"a\\[\\*\\]*", b"*\\?*", b"a[[]*", b"*\\\\", b"*", b"k*", b"{t}*", b"k?", b"*[ab]",
    b"[^k]*", b"\\{t\\}*", b"", b"*\xff*", b"bin*", b"[", b"*\\", b"[a-", b"?", b"??", b"*1",
    b"[!k]*", b"k[1-2]", b"K*",
]
# fmt: on
#: DUMP payloads made by redis 7.0 (RDB 10) for string values, plus broken ones.
PAYLOADS = [
    b"\x00\x05hello\n\x00cr\xdfve4 \n",
    b"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\x08\xb9",
    b"\x00\x00\n\x00]\x9b\\@\x0f\x7f\xa2\xda",
    b"\x00\xc3\t@d\x01aa\xe0W\x00\x01aa\n\x00\xe8\xa3\xb5\x07\xb0m\xf2q",
    b"\x00\x06\x00\xff\xfebin\n\x00\xa3e'\"4\xba\xf3}",
    b"\x00\x14-9223372036854775808\n\x00\xed\xe2\xb9V\xebp\x9e\x81",
    b"garbage",
    b"\x00\x05hello\n\x00cr\xdfve4 \x0b",  # bad checksum
    b"\x00\x05hello\x0b\x00cr\xdfve4 \n",  # RDB version 11
    b"",
]

key = st.sampled_from(KEYS)
value = st.sampled_from(VALUES)
# Hypothesis favours boundary values (0, 19), so the rare variant is a value in the middle.
mostly = st.integers(0, 19)


def rare(roll: int, rate: int = 1) -> bool:
    """True about rate/20 of the time for a ``mostly`` draw (shrinks to False)."""
    return 7 <= roll < 7 + rate


def weighted(good: list[Any], bad: list[Any], bad_rate: int = 1) -> st.SearchStrategy[Any]:
    """Mostly ``good``; about bad_rate/20 of the time one of ``bad``."""
    return st.tuples(mostly, st.sampled_from(good), st.sampled_from(bad)).map(
        lambda t: t[2] if rare(t[0], bad_rate) else t[1]
    )


integer = weighted(INTS, BAD_INTS)
flt = weighted(FLOATS, BAD_FLOATS + INTS[:4])
rel_s = weighted(REL_S, OVERFLOW + BAD_INTS)
pos_s = weighted([100, 1000, 86400], [0, -1, *OVERFLOW, *BAD_INTS], 2)  # SETEX / EX: > 0 is valid
pos_ms = weighted([100_000, 5_000_000], [0, -1, *OVERFLOW, *BAD_INTS], 2)
rel_ms = weighted(REL_MS, OVERFLOW + BAD_INTS)
abs_s = weighted(ABS_S, OVERFLOW + BAD_INTS)
abs_ms = weighted(ABS_MS, OVERFLOW + BAD_INTS)
index = weighted(INDEXES, BAD_INTS)
db = weighted(DBS, BAD_DBS)
keys1to4 = st.lists(key, min_size=1, max_size=4)


def name(n: str) -> st.SearchStrategy[str]:
    return st.sampled_from([n] * 8 + [n.lower(), n.title()])


def cmd(n: str, *parts: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(name(n), *parts)


def opt(
    *alternatives: tuple[Any, ...] | st.SearchStrategy[tuple[Any, ...]],
) -> st.SearchStrategy[tuple[Any, ...]]:
    """One of the option groups (tuples of tokens, or strategies of them)."""
    return st.one_of([a if isinstance(a, st.SearchStrategy) else st.just(a) for a in alternatives])


def flat(*parts: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Concatenate: each part yields a token or a tuple/list of tokens."""
    return st.tuples(*parts).map(
        lambda t: tuple(x for p in t for x in (p if isinstance(p, tuple | list) else (p,)))
    )


def shuffled_opts(
    *groups: st.SearchStrategy[tuple[Any, ...]],
) -> st.SearchStrategy[tuple[Any, ...]]:
    """Option groups in any order (Redis accepts options in any order)."""
    return (
        st.tuples(*groups).flatmap(st.permutations).map(lambda gs: tuple(x for g in gs for x in g))
    )


set_expiry = opt(
    (),
    (),
    (),
    st.tuples(st.just("EX"), pos_s),
    st.tuples(st.just("PX"), pos_ms),
    st.tuples(st.just("EXAT"), abs_s),
    st.tuples(st.just("PXAT"), abs_ms),
    ("KEEPTTL",),
)
junk = st.tuples(
    mostly,
    st.sampled_from(
        [
            ("NX", "XX"),
            ("FOO",),
            ("EX",),
            ("GET",),
            ("KEEPTTL", "EX", "10"),
            ("PX", "1", "EX", "1"),
            ("NX",),
            ("PERSIST",),
        ]
    ),
).map(lambda t: t[1] if rare(t[0]) else ())
set_cmd = flat(
    name("SET"),
    key,
    value,
    shuffled_opts(opt((), ("NX",), ("XX",)), opt((), ("GET",)), set_expiry, junk),
)
getex_cmd = flat(
    name("GETEX"),
    key,
    opt(
        (),
        (),
        st.tuples(st.just("EX"), pos_s),
        st.tuples(st.just("PX"), pos_ms),
        st.tuples(st.just("EXAT"), abs_s),
        st.tuples(st.just("PXAT"), abs_ms),
        ("PERSIST",),
        ("PERSIST", "PERSIST"),
        ("EX", "10", "PX", "10000"),
        ("PERSIST", "EX", "10"),
        ("FOO",),
        ("EX",),
    ),
)
lcs_cmd = flat(
    name("LCS"),
    key,
    key,
    shuffled_opts(
        opt((), ("LEN",)),
        opt((), ("IDX",)),
        opt((), st.tuples(st.just("MINMATCHLEN"), weighted([0, 1, 2, 3, -1], BAD_INTS))),
        opt((), ("WITHMATCHLEN",)),
        st.tuples(mostly, st.sampled_from([("FOO",), ("LEN", "LEN"), ("MINMATCHLEN",)])).map(
            lambda t: t[1] if rare(t[0]) else ()
        ),
    ),
)
expire_flag = opt(
    (),
    (),
    ("NX",),
    ("XX",),
    ("GT",),
    ("LT",),
    ("NX", "XX"),
    ("GT", "LT"),
    ("NX", "GT"),
    ("FOO",),
    ("XX", "XX"),
)


def expire_cmd(n: str, t: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return flat(name(n), key, t, expire_flag)


def pairs(max_pairs: int = 3) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(st.tuples(key, value), min_size=1, max_size=max_pairs).map(
        lambda ps: tuple(x for p in ps for x in p)
    )


setrange_off = weighted(
    # 536_870_911 with a 1-byte value would build a legal 512 MB string: too big for tests
    [0, 1, 3, 5, 10, 100],
    [-1, 536_870_912, INT64_MAX, b"abc", b"1.5"],
)
restore_opts = shuffled_opts(
    opt((), ("REPLACE",)),
    opt((), ("ABSTTL",)),
    opt(
        (),
        (),
        st.tuples(st.just("IDLETIME"), weighted([0, 10, 1000], [-1, b"abc"])),
        st.tuples(st.just("FREQ"), weighted([0, 5, 255], [256, -1, b"abc"])),
        (),
        (),
        (),
        ("IDLETIME", "1", "FREQ", "1"),
        ("FOO",),
    ),
)
# relative (ms) or, with ABSTTL, absolute: 1e12 is 31 years ahead or 2001 (already expired)
restore_ttl = weighted(
    [0, 0, 100_000, 1_000_000_000_000, 4_102_444_800_000], [-1, b"abc", INT64_MAX]
)
scan_opts = shuffled_opts(
    opt((), st.tuples(st.just("MATCH"), st.sampled_from(PATTERNS))),
    opt((), st.tuples(st.just("COUNT"), weighted([1, 2, 10, 1000], [0, -1, b"abc"]))),
    opt(
        (),
        (),
        st.tuples(
            st.just("TYPE"),
            st.sampled_from([b"string", b"list", b"none", b"STRING", b"foo", b"hash"]),
        ),
        ("FOO",),
        ("MATCH",),
    ),
)
flush_opt = weighted([()], [("ASYNC",), ("SYNC",), ("FOO",), ("ASYNC", "SYNC")], 3)

STRING_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    cmd("GET", key),
    set_cmd,
    set_cmd,
    cmd("GETSET", key, value),
    cmd("GETDEL", key),
    getex_cmd,
    cmd("SETNX", key, value),
    cmd("SETEX", key, pos_s, value),
    cmd("PSETEX", key, pos_ms, value),
    flat(name("MSET"), pairs()),
    flat(name("MSETNX"), pairs()),
    flat(name("MGET"), keys1to4),
    cmd("APPEND", key, value),
    cmd("STRLEN", key),
    cmd("GETRANGE", key, index, index),
    cmd("SUBSTR", key, index, index),
    cmd("SETRANGE", key, setrange_off, value),
    cmd("INCR", key),
    cmd("DECR", key),
    cmd("INCRBY", key, integer),
    cmd("DECRBY", key, integer),
    cmd("INCRBYFLOAT", key, flt),
    lcs_cmd,
]
KEYSPACE_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    flat(name("DEL"), keys1to4),
    flat(name("UNLINK"), keys1to4),
    flat(name("EXISTS"), keys1to4),
    cmd("TYPE", key),
    flat(name("TOUCH"), keys1to4),
    cmd("KEYS", st.sampled_from(PATTERNS)),
    flat(st.just("SCAN*"), scan_opts),
    st.just(("RANDOMKEY",)),
    cmd("RENAME", key, key),
    cmd("RENAMENX", key, key),
    flat(
        name("COPY"),
        key,
        key,
        shuffled_opts(opt((), (), st.tuples(st.just("DB"), db)), opt((), ("REPLACE",))),
    ),
    cmd("MOVE", key, db),
    cmd("DUMP", key),
    flat(name("RESTORE"), key, restore_ttl, weighted(PAYLOADS[:6], PAYLOADS[6:], 4), restore_opts),
    cmd("TTL", key),
    cmd("PERSIST", key),
    cmd("DBSIZE"),
]
EXPIRY_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    expire_cmd("EXPIRE", rel_s),
    expire_cmd("PEXPIRE", rel_ms),
    expire_cmd("EXPIREAT", abs_s),
    expire_cmd("PEXPIREAT", abs_ms),
    cmd("TTL", key),
    cmd("PTTL", key),
    cmd("EXPIRETIME", key),
    cmd("PEXPIRETIME", key),
    cmd("PERSIST", key),
    getex_cmd,
    set_cmd,
    cmd("SETEX", key, pos_s, value),
    cmd("PSETEX", key, pos_ms, value),
    cmd("GET", key),
    cmd("EXISTS", key),
    flat(name("RESTORE"), key, restore_ttl, st.sampled_from(PAYLOADS[:3]), restore_opts),
]
SERVER_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    cmd("SELECT", db),
    cmd("SELECT", db),
    cmd("DBSIZE"),
    flat(name("FLUSHDB"), flush_opt),
    cmd("SWAPDB", db, db),
    cmd("MOVE", key, db),
    flat(name("COPY"), key, key, st.just("DB"), db, opt((), ("REPLACE",))),
    cmd("SET", key, value),
    cmd("GET", key),
    cmd("KEYS", st.just(b"*")),
    cmd("EXPIRE", key, st.just(1000)),
    cmd("TTL", key),
    st.just(("RANDOMKEY",)),
    flat(st.just("SCAN*"), scan_opts),
]
FLUSHALL = flat(name("FLUSHALL"), flush_opt)
UNKNOWN = st.tuples(st.sampled_from(["NOSUCHCMD", "GETT", "SETX", "KEYZ"]), key)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Usually ``base``; sometimes with its tail cut or junk appended (arity/syntax errors)."""
    c = draw(base)
    roll = draw(st.integers(0, 39))
    if roll == 17 and len(c) > 1:
        return c[: draw(st.integers(1, len(c) - 1))]
    if roll == 23:
        return (*c, draw(st.sampled_from([b"extra", b"1", b"NX", b"EX"])))
    return c


SEED_VALUES = st.sampled_from([*VALUES[:12], b"abcdef", b"xbcdyf", b"12.5", b"-7"])


@st.composite
def seed(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Start from a populated keyspace (DB 0 and sometimes DB 1), so commands meet keys."""
    ks = draw(st.lists(key, min_size=2, max_size=6, unique=True))
    out: list[tuple[Any, ...]] = [("MSET", *(x for k in ks for x in (k, draw(SEED_VALUES))))]
    for k in draw(st.lists(st.sampled_from(ks), max_size=2, unique=True)):
        out.append(("EXPIRE", k, draw(st.sampled_from([1000, 86400]))))
    if draw(st.booleans()):
        ks1 = draw(st.lists(key, min_size=1, max_size=3, unique=True))
        out += [
            ("SELECT", 1),
            ("MSET", *(x for k in ks1 for x in (k, draw(SEED_VALUES)))),
            ("SELECT", 0),
        ]
    return out


#: Known pikadb gaps (each one also has a strict xfail in test_errors.py): commands matching
#: a predicate are left out of generated sequences so the rest is still tested. Remove the
#: entry when the gap is fixed (the strict xfail then XPASSes and says so).
KNOWN_GAPS: list[tuple[str, Callable[[tuple[Any, ...]], bool]]] = []


def known_gap(c: tuple[Any, ...]) -> bool:
    return any(pred(c) for _, pred in KNOWN_GAPS)


def sequences(
    groups: list[st.SearchStrategy[tuple[Any, ...]]], max_size: int = 15
) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    body = st.lists(mutated(st.one_of(groups)), min_size=1, max_size=max_size)
    return st.tuples(seed(), body).map(lambda t: t[0] + [c for c in t[1] if not known_gap(c)])


SEEDS = [cmd("SET", key, value), flat(name("MSET"), pairs())]  # keep keys around
member = st.sampled_from([b"a", b"b", b"1", b"-2.5", b"", b"\x00\xff", b"x" * 70])
members = st.lists(member, min_size=1, max_size=3)
#: collections, so keyspace commands meet every type and string commands get WRONGTYPE
COLLECTIONS = [
    flat(name("RPUSH"), key, members),
    flat(name("SADD"), key, members),
    flat(
        name("HSET"),
        key,
        st.lists(st.tuples(member, value), min_size=1, max_size=2).map(
            lambda ps: [x for p in ps for x in p]
        ),
    ),
    flat(
        name("ZADD"),
        key,
        st.lists(
            st.tuples(st.sampled_from([0, 1, -2, b"1.5", b"inf"]), member), min_size=1, max_size=2
        ).map(lambda ps: [x for p in ps for x in p]),
    ),
]
GROUPS: dict[str, list[st.SearchStrategy[tuple[Any, ...]]]] = {
    "strings": STRING_CMDS
    + SEEDS
    + [cmd("TTL", key), cmd("TYPE", key), UNKNOWN, st.one_of(COLLECTIONS)],
    "keyspace": KEYSPACE_CMDS + SEEDS * 3 + [set_cmd] + COLLECTIONS,
    "expiry": EXPIRY_CMDS + SEEDS + [st.one_of(COLLECTIONS)],
    "multidb": SERVER_CMDS + SEEDS + [FLUSHALL] + COLLECTIONS,
    "mixed": STRING_CMDS + KEYSPACE_CMDS + EXPIRY_CMDS + SERVER_CMDS + SEEDS + COLLECTIONS,
}

# --------------------------------------------------------------------------------------------
# Tests


def run_sequence(pair: Pair, seq: list[tuple[Any, ...]], stop_at_first: bool = True) -> list[Diff]:
    pair.clear()  # the pair was reset (FLUSHALL) once when made
    diffs = pair.run_all(seq, stop_at_first=stop_at_first)
    if not diffs or not stop_at_first:
        diffs += pair.check_state()
    return diffs


@pytest.fixture(scope="module")
def pairs2(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=2) as p:
        p.reset()
        yield p


@pytest.fixture(scope="module")
def pairs3(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=3) as p:
        p.reset()
        yield p


_settings = diff_settings  # shared with the other differential files


def _check(pair: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair, seq):
        raise AssertionError(pair.report())


@_settings(300)
@given(seq=sequences(GROUPS["strings"]))
def test_strings(pairs2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs2, seq)


@_settings(250)
@given(seq=sequences(GROUPS["keyspace"]))
def test_keyspace(pairs2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs2, seq)


@_settings(250)
@given(seq=sequences(GROUPS["expiry"]))
def test_expiry(pairs2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs2, seq)


@_settings(200)
@given(seq=sequences(GROUPS["multidb"]))
def test_multidb(pairs2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs2, seq)


@_settings(200)
@given(seq=sequences(GROUPS["mixed"], max_size=25))
def test_mixed_resp3(pairs3: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs3, seq)


# --------------------------------------------------------------------------------------------
# Deterministic tables: every combination, all discrepancies reported at once

# fmt: off
M, N = str(INT64_MAX), str(INT64_MIN)
FLOAT_STARTS = [
    "0", "10.50", "3.0e3", "1e17", "-0", "0.1", "1.7976931348623157e308", "5", "-5.5", "1.1",
    "9007199254740993", "123456789012345678", "1e-5", "0x10", "17179869184", "  1", "1e", "",
]
FLOAT_INCRS = [
    "0.1", "-0.1", "1e17", "0", "-0", "1.5", "3", "1e-5", "-10.5", "2.5e-3", "1e308", "5.0e3",
    "-1.7976931348623157e308", "0.3333333333333333", "1.0000000000000002", "-5.5", "1e-300",
]
RANGE_VALUES = ["", "Hello World", "12345", "\x00\xff", "a"]
RANGE_IDX = [0, 1, 3, 10, 11, 100, -1, -3, -11, -12, -100, M, N]
LCS_PAIRS = [
    ("ohmytext", "mynewtext"), ("", "abc"), ("abc", "abc"), ("abcdef", "xbcdyf"), ("aaaa", "aa"),
    ("12345", "2345x"), ("abcabc", "cbacba"),
]
LCS_OPTS = [
    (), ("LEN",), ("IDX",), ("IDX", "WITHMATCHLEN"), ("IDX", "MINMATCHLEN", "2"),
    ("WITHMATCHLEN", "IDX", "MINMATCHLEN", "4"), ("MINMATCHLEN", "0", "IDX"), ("LEN", "MINMATCHLEN", "3"),
]
SET_STATES: list[list[tuple[Any, ...]]] = [[], [("SET", "k", "old")], [("SET", "k", "old", "EX", "1000")]]
SET_OPTS = [
    (), ("NX",), ("XX",), ("GET",), ("KEEPTTL",), ("XX", "GET"), ("NX", "GET"), ("GET", "KEEPTTL"),
    ("EX", "100", "GET"), ("XX", "KEEPTTL"), ("PXAT", "4102444800000", "XX"), ("EXAT", "1", "GET"),
    ("NX", "EXAT", "1"), ("PX", "100000", "KEEPTTL"),
]
GETEX_OPTS = [
    (), ("PERSIST",), ("EX", "100"), ("PX", "100000"), ("EXAT", "4102444800"), ("PXAT", "4102444800000"),
    ("EXAT", "1"), ("PXAT", "1"), ("EX", "0"),
]
EXPIRE_OPTS = [(t, *f) for t in ("50", "200", "-1", "0") for f in ((), ("NX",), ("XX",), ("GT",), ("LT",))]
KEPT_TTL_CASES: list[list[tuple[Any, ...]]] = [
    [("INCR", "k")], [("DECRBY", "k", "5")], [("INCRBYFLOAT", "k", "1.5")], [("APPEND", "k", "0")],
    [("SETRANGE", "k", "0", "9")], [("SETRANGE", "k", "0", "")], [("SET", "k", "v")], [("SET", "k", "v", "KEEPTTL")],
    [("GETSET", "k", "v")], [("SET", "k", "v", "GET")], [("MSET", "k", "v")], [("MSETNX", "k", "v")],
    [("SETNX", "k", "v")], [("GETEX", "k")], [("GETEX", "k", "PERSIST")], [("PERSIST", "k")],
    [("GETDEL", "k")], [("PSETEX", "k", "200000", "v")], [("EXPIRE", "k", "100"), ("SET", "k", "w", "XX")],
    [("RENAME", "k", "j"), ("TTL", "j")], [("SET", "j", "1"), ("RENAME", "j", "k")], [("SET", "k", "v", "NX")],
]
MOVE_CASES: list[list[tuple[Any, ...]]] = [
    [("COPY", "k", "dst")], [("COPY", "k", "n")], [("COPY", "k", "n", "REPLACE")], [("COPY", "k", "k", "DB", "1")],
    [("COPY", "k", "k", "DB", "1", "REPLACE")], [("COPY", "k", "dst", "DB", "2")], [("RENAME", "k", "dst")],
    [("RENAME", "k", "n")], [("RENAMENX", "k", "n")], [("RENAME", "n", "k")], [("MOVE", "k", "1")],
    [("MOVE", "n", "1")], [("MOVE", "n", "2")], [("SWAPDB", "0", "1")], [("SWAPDB", "1", "1")],
    [("FLUSHDB",), ("DBSIZE",)], [("RESTORE", "dst", "0", PAYLOADS[0]), ("DUMP", "dst")],
    [("RESTORE", "k", "5000", PAYLOADS[3], "REPLACE"), ("PTTL", "k"), ("DUMP", "k")],
    [("RESTORE", "dst", "4102444800000", PAYLOADS[1], "ABSTTL"), ("PEXPIRETIME", "dst"), ("DUMP", "dst")],
    [("DUMP", "k"), ("DUMP", "n"), ("SET", "big", "y" * 300), ("DUMP", "big"), ("SET", "i", "-123"), ("DUMP", "i")],
]
DUPLICATE_CASES: list[list[tuple[Any, ...]]] = [
    [("MSET", "a", "1", "a", "2"), ("GET", "a")],
    [("MSETNX", "a", "1", "a", "2"), ("GET", "a")],
    [("SET", "a", "x"), ("MSETNX", "b", "1", "a", "2"), ("MGET", "a", "b")],
    [("SET", "a", "x"), ("DEL", "a", "a"), ("EXISTS", "a")],
    [("SET", "a", "x"), ("EXISTS", "a", "a", "b", "a"), ("TOUCH", "a", "a", "b"), ("UNLINK", "a", "a", "b")],
    [("MSET", "a", "1", "b", "2"), ("MGET", "a", "a", "b", "c", "a")],
    [("SET", "a", "x"), ("RENAME", "a", "a"), ("RENAMENX", "a", "a"), ("COPY", "a", "a", "REPLACE")],
]
MANY = [("MSET", *(x for i in range(300) for x in (f"key:{i}", str(i))))]
MANY_KEYS_CASES: list[list[tuple[Any, ...]]] = [
    [*MANY, ("SCAN*",), ("SCAN*", "COUNT", "7"), ("SCAN*", "MATCH", "key:1*"), ("SCAN*", "MATCH", "*9", "COUNT", "1000"),
     ("SCAN*", "TYPE", "string", "COUNT", "3"), ("SCAN*", "TYPE", "list"), ("KEYS", "key:2?"), ("KEYS", "*"),
     ("DBSIZE",), ("RANDOMKEY",), ("DEL", *(f"key:{i}" for i in range(0, 300, 3))), ("DBSIZE",), ("SCAN*", "MATCH", "key:?")],
    [*MANY, ("SELECT", "1"), ("SET", "x", "y"), ("SWAPDB", "0", "1"), ("DBSIZE",), ("SELECT", "0"), ("DBSIZE",),
     ("KEYS", "*"), ("FLUSHDB", "ASYNC"), ("DBSIZE",), ("SELECT", "1"), ("SCAN*", "COUNT", "50")],
]


def _tables() -> dict[str, list[list[tuple[Any, ...]]]]:
    """name -> independent cases (each a command list run on freshly cleared servers).
    Read-only or self-resetting steps share one case (SET puts the start value back)."""
    ttl_key = [("SET", "k", "v", "EX", "1000"), ("SET", "n", "1"), ("SELECT", "1"), ("SET", "k", "other"), ("SELECT", "0")]
    keep = [("SET", "k", "10", "EX", "1000")]
    return {
        "incrbyfloat": [
            [x for b in FLOAT_INCRS for x in (("SET", "k", a), ("INCRBYFLOAT", "k", b), ("GET", "k"))]
            for a in FLOAT_STARTS
        ] + [[("INCRBYFLOAT", "missing", b), ("DEL", "missing")] for b in FLOAT_INCRS],
        "incrby": [
            [x for c in ("INCRBY", "DECRBY") for b in ("1", "-1", M, N, "0", "-9223372036854775807")
             for x in (("SET", "k", a), (c, "k", b), ("GET", "k"))]
            + [x for c in ("INCR", "DECR") for x in (("SET", "k", a), (c, "k"), ("GET", "k"))]
            for a in (M, N, "0", "-1", "9223372036854775806", "-9223372036854775807", "007", "1 ", "-0", "+1")
        ],
        "getrange": [
            [("SET", "k", v)] + [(c, "k", a, b) for c in ("GETRANGE", "SUBSTR") for a in RANGE_IDX for b in RANGE_IDX]
            for v in RANGE_VALUES
        ] + [[("GETRANGE", "missing", 0, -1), ("SUBSTR", "missing", 0, 1)]],
        "setrange": [
            [*st_, ("SETRANGE", "k", off, v), ("GET", "k"), ("STRLEN", "k")]
            for st_ in ([], [("SET", "k", "Hello World")], [("SET", "k", "12345")], [("SET", "k", "")])
            for off in (0, 1, 5, 11, 12, 20)
            for v in ("", "Redis", "\x00")
        ],
        "append": [
            [*st_, ("APPEND", "k", v), ("GET", "k"), ("STRLEN", "k"), ("INCR", "k")]
            for st_ in ([], [("SET", "k", "12345")], [("SET", "k", "")], [("SET", "k", "-1")])
            for v in ("", "6", "x" * 50, "-")
        ],
        "lcs": [[("MSET", "a", x, "b", y), ("LCS", "a", "b", *o)] for x, y in LCS_PAIRS for o in LCS_OPTS]
        + [[("SET", "a", "abc"), ("LCS", "a", "missing", *o)] for o in LCS_OPTS],
        "set-options": [[*st_, ("SET", "k", "new", *o), ("GET", "k"), ("TTL", "k")] for st_ in SET_STATES for o in SET_OPTS],
        "getex": [[*st_, ("GETEX", "k", *o), ("GET", "k"), ("TTL", "k")] for st_ in SET_STATES for o in GETEX_OPTS],
        "expire-flags": [
            [*st_, ("EXPIRE", "k", *o), ("TTL", "k"), ("EXISTS", "k")]
            for st_ in ([("SET", "k", "v")], [("SET", "k", "v", "EX", "100")], [])
            for o in EXPIRE_OPTS
        ],
        "copy-rename-move": [
            [*ttl_key, *c, ("TTL", "k"), ("TTL", "dst"), ("GET", "dst"), ("SELECT", "1"), ("TTL", "k"), ("GET", "k"), ("SELECT", "0")]
            for c in MOVE_CASES
        ],
        "duplicates": DUPLICATE_CASES,
        "ttl-kept-or-cleared": [[*keep, *c, ("TTL", "k"), ("GET", "k")] for c in KEPT_TTL_CASES],
        "many-keys": MANY_KEYS_CASES,
    }
# fmt: on


TABLES = _tables()


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("table", sorted(TABLES))
def test_table(pika: PikaServer, real_redis: RedisServer, table: str, resp: int) -> None:
    found: list[str] = []
    with Pair(pika.port, real_redis.port, resp=resp) as pair:
        pair.reset()
        for case in TABLES[table]:
            if run_sequence(pair, case, stop_at_first=False):
                found.append(pair.report())
    if found:
        raise AssertionError(
            f"{len(found)} of {len(TABLES[table])} cases differ:\n" + "\n".join(found[:30])
        )


# --------------------------------------------------------------------------------------------
# Survey: every discrepancy, grouped (python -m tests.differential.test_strings_keyspace [n])


def _kind(v: Any) -> str:
    return f"{type(v).__name__}:{str(v)[:60]}" if isinstance(v, str) else type(v).__name__


def _signature(d: Diff) -> str:
    head = str(d.args[0]).upper() if d.args else "?"
    return f"{head} | pikadb {_kind(d.pika)} | redis {_kind(d.redis)} | {d.note}"


if __name__ == "__main__":  # pragma: no cover - survey: every discrepancy, grouped
    survey(
        {g: sequences(cmds) for g, cmds in GROUPS.items()},
        run_sequence,
        int(sys.argv[1]) if len(sys.argv) > 1 else 200,
        signature=_signature,
        show_sequence=True,
    )
