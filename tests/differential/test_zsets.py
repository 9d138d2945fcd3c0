"""Random sorted-set command sequences on pikadb and a real redis-server 7.0, replies compared
on the wire (RESP2 and RESP3), then the whole state (TYPE, PTTL, DEBUG DIGEST) plus every
zset's ZRANGE WITHSCORES and OBJECT ENCODING.

Inputs mix zsets with sets and strings (WRONGTYPE, sets as ZUNION inputs), scores with the
awkward ones (-0, inf, 1.1, 1e17, hex, NaN, overflow, spaces), bounds with exclusive /
malformed forms, and options in any order. Random replies (ZRANDMEMBER) are compared by shape
and membership; a ZSCAN call exactly when both finish in one call (small zsets), else by
shape. Lex ranges over a skiplist zset with differing scores are skipped: Redis's answer
then depends on its skiplist's random levels (see :func:`lex_undefined`).
``python -m tests.differential.test_zsets [examples]`` surveys every discrepancy.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import Diff, Pair, diff_settings, is_error, same, survey
from tests.support.servers import PikaServer, RedisServer

ZKEYS = [b"z1", b"z2", b"{t}z"]
KEYS = [*ZKEYS, b"s1", b"str", b"none"]
MEMBERS = [b"a", b"b", b"c", b"d", b"e", b"aa", b"", b"m\x00n", b"\xff", b"x" * 65]
SCORES = [
    b"1", b"2", b"-1", b"0", b"-0", b"1.5", b"1.1", b"3", b"inf", b"-inf", b"+inf",
    b"1e17", b"4611686018427387904", b"-2.5e-3", b"0x10", b".5", b"5.",
]  # fmt: skip
BAD_SCORES = [b"nan", b"abc", b"", b" 1", b"1 ", b"1e400", b"1,5", b"--1", b"1e-400"]
SCORE_BOUNDS = [
    b"-inf", b"+inf", b"inf", b"(1", b"1", b"(1.5", b"0", b"-0", b"(0", b"(inf", b"(-inf",
    b"2", b"(3", b"3", b"1.1", b"",
]  # fmt: skip
BAD_BOUNDS = [b"abc", b"nan", b"(", b"1 ", b"((1", b"[1"]
LEX_BOUNDS = [b"-", b"+", b"[a", b"(a", b"[b", b"(c", b"[aa", b"[", b"(", b"[d", b"(e", b"[\xff"]
BAD_LEX = [b"a", b"", b"+x", b"-a", b"{a"]
INDEXES = [0, 1, 2, -1, -2, -3, 3, 5, -100, 100, 9223372036854775807, -9223372036854775808]
BAD_INTS = [b"a", b"1.5", b"", b" 1", b"9223372036854775808"]

mostly = st.integers(0, 19)


def weighted(good: list[Any], bad: list[Any], bad_rate: int = 1) -> st.SearchStrategy[Any]:
    """Mostly ``good``; about bad_rate/20 of the time one of ``bad``."""
    return st.tuples(mostly, st.sampled_from(good), st.sampled_from(bad)).map(
        lambda t: t[2] if 7 <= t[0] < 7 + bad_rate else t[1]
    )


zkey = st.sampled_from(ZKEYS * 4 + KEYS[3:])
anykey = st.sampled_from(KEYS)
member = st.sampled_from(MEMBERS)
score = weighted(SCORES, BAD_SCORES)
sbound = weighted(SCORE_BOUNDS, BAD_BOUNDS)
lbound = weighted(LEX_BOUNDS, BAD_LEX)
index = weighted(INDEXES, BAD_INTS)
count = weighted([0, 1, 2, 3, 5, 10, -1, -3], [b"x", -9223372036854775808, b""])


def name(n: str) -> st.SearchStrategy[str]:
    return st.sampled_from([n] * 6 + [n.lower(), n.title()])


def flat(*parts: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Concatenate: each part yields a token or a tuple/list of tokens."""
    return st.tuples(*parts).map(
        lambda t: tuple(x for p in t for x in (p if isinstance(p, tuple | list) else (p,)))
    )


def some_of(*groups: tuple[Any, ...] | st.SearchStrategy[tuple[Any, ...]]) -> Any:
    """Any subset of the option groups, in any order."""
    strats = [g if isinstance(g, st.SearchStrategy) else st.just(g) for g in groups]
    return (
        st.lists(st.sampled_from(range(len(strats))), unique=True)
        .flatmap(lambda idx: st.tuples(*[strats[i] for i in idx]) if idx else st.just(()))
        .map(lambda gs: tuple(x for g in gs for x in g))
    )


pairs = st.lists(st.tuples(score, member), min_size=1, max_size=4).map(
    lambda ps: tuple(x for p in ps for x in p)
)
limit = st.tuples(
    st.just("LIMIT"),
    weighted([0, 1, 2, -1], [b"x", 9223372036854775807]),
    weighted([1, 2, -1, 0, 5], [b"x", 9223372036854775807, -9223372036854775808]),
)
weights = st.lists(weighted([1, 2, 0, -1, b"0.5", b"inf"], [b"x", b"nan"]), min_size=1, max_size=3)
aggregate = st.tuples(st.just("AGGREGATE"), weighted(["SUM", "MIN", "MAX", "min"], ["AVG"]))
keys_n = st.lists(anykey, min_size=1, max_size=3)


@st.composite
def setop(draw: st.DrawFn, n: str, store: bool) -> tuple[Any, ...]:
    ks = draw(keys_n)
    numkeys = draw(weighted([len(ks)] * 5, [0, len(ks) + 1, -1, b"x"]))
    opts: list[Any] = []
    if draw(st.booleans()):
        w = draw(weights)
        opts += ["WEIGHTS", *(w + [1] * len(ks))[: len(ks) + draw(st.sampled_from([0, 0, 0, -1]))]]
    if draw(st.booleans()):
        opts += list(draw(aggregate))
    if not store and draw(st.booleans()):
        opts.append("WITHSCORES")
    if draw(st.integers(0, 9)) == 3:
        opts.append(draw(st.sampled_from(["FOO", "WITHSCORES", "LIMIT"])))
    head = (draw(name(n)), *((draw(zkey),) if store else ()))
    return (*head, numkeys, *ks, *opts)


ZADD = flat(
    name("ZADD"),
    zkey,
    some_of(("NX",), ("XX",), ("GT",), ("LT",), ("CH",), ("INCR",)),
    pairs,
)
RANGE_OPTS = some_of(("BYSCORE",), ("BYLEX",), ("REV",), limit, ("WITHSCORES",))


@st.composite
def zrange(draw: st.DrawFn, n: str = "ZRANGE", store: bool = False) -> tuple[Any, ...]:
    opts = draw(RANGE_OPTS)
    if "BYLEX" in opts:
        lo, hi = draw(lbound), draw(lbound)
    elif "BYSCORE" in opts:
        lo, hi = draw(sbound), draw(sbound)
    else:
        lo, hi = draw(index), draw(index)
    head = (draw(name(n)), *((draw(zkey),) if store else ()), draw(zkey))
    return (*head, lo, hi, *opts)


COMMANDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    ZADD,
    ZADD,
    flat(name("ZINCRBY"), zkey, score, member),
    flat(name("ZREM"), zkey, st.lists(member, min_size=1, max_size=3)),
    flat(name("ZCARD"), zkey),
    flat(name("ZSCORE"), zkey, member),
    flat(name("ZMSCORE"), zkey, st.lists(member, min_size=1, max_size=3)),
    flat(st.sampled_from(["ZRANK", "ZREVRANK"]), zkey, member),
    zrange(),
    zrange(),
    zrange("ZRANGESTORE", True),
    flat(name("ZREVRANGE"), zkey, index, index, some_of(("WITHSCORES",))),
    flat(
        st.sampled_from(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]),
        zkey,
        sbound,
        sbound,
        some_of(("WITHSCORES",), limit),
    ),
    flat(st.sampled_from(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), zkey, lbound, lbound, some_of(limit)),
    flat(name("ZCOUNT"), zkey, sbound, sbound),
    flat(name("ZLEXCOUNT"), zkey, lbound, lbound),
    flat(name("ZREMRANGEBYRANK"), zkey, index, index),
    flat(name("ZREMRANGEBYSCORE"), zkey, sbound, sbound),
    flat(name("ZREMRANGEBYLEX"), zkey, lbound, lbound),
    setop("ZUNION", False),
    setop("ZINTER", False),
    setop("ZDIFF", False),
    setop("ZUNIONSTORE", True),
    setop("ZINTERSTORE", True),
    setop("ZDIFFSTORE", True),
    flat(
        name("ZINTERCARD"),
        keys_n.map(lambda ks: (len(ks), *ks)),
        some_of(st.tuples(st.just("LIMIT"), weighted([0, 1, 2], [-1, b"x"]))),
    ),
    flat(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), zkey, some_of(st.tuples(count))),
    flat(
        name("ZMPOP"),
        keys_n.map(lambda ks: (len(ks), *ks)),
        weighted(["MIN", "MAX"], ["MID"]),
        some_of(st.tuples(st.just("COUNT"), weighted([1, 2, 10], [0, -1, b"x"]))),
    ),
    flat(name("ZRANDMEMBER"), zkey, some_of(st.tuples(count), ("WITHSCORES",))),
    flat(
        name("ZSCAN"),
        zkey,
        weighted([0], [b"x"]),  # (a made-up cursor means something else in each server)
        some_of(
            st.tuples(st.just("MATCH"), st.sampled_from(["*", "a*", "?", "[ab]*"])),
            st.tuples(st.just("COUNT"), weighted([1, 10, 100], [0, b"x"])),
        ),
    ),
    flat(st.sampled_from(["TYPE", "EXISTS", "OBJECT"]), anykey).map(
        lambda c: ("OBJECT", "ENCODING", c[1]) if c[0] == "OBJECT" else c
    ),
    flat(name("DEL"), anykey),
    flat(st.sampled_from(["RENAME", "COPY"]), anykey, anykey),
]


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Usually ``base``; sometimes with its tail cut or junk appended (arity/syntax errors)."""
    c = draw(base)
    roll = draw(st.integers(0, 39))
    if roll == 17 and len(c) > 1:
        return c[: draw(st.integers(1, len(c) - 1))]
    if roll == 23:
        return (*c, draw(st.sampled_from([b"extra", b"1", b"NX", b"LIMIT"])))
    return c


@st.composite
def seed(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Zsets (sometimes one past the listpack limits), a set and a string to meet."""
    out: list[tuple[Any, ...]] = []
    for k in draw(st.lists(st.sampled_from(ZKEYS), min_size=1, max_size=3, unique=True)):
        content = draw(st.lists(st.tuples(st.sampled_from(SCORES), member), min_size=1, max_size=6))
        out.append(("ZADD", k, *(x for p in content for x in p)))
    if draw(st.integers(0, 5)) == 0:
        k = draw(st.sampled_from(ZKEYS))
        out.append(("ZADD", k, *(x for i in range(130) for x in (i % 7, b"m%d" % i))))
    out.append(("SADD", b"s1", *draw(st.lists(member, min_size=1, max_size=4))))
    out.append(("SET", b"str", b"v"))
    return out


def sequences(max_size: int = 15) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    body = st.lists(mutated(st.one_of(COMMANDS)), min_size=1, max_size=max_size)
    return st.tuples(seed(), body).map(lambda t: t[0] + t[1])


# --------------------------------------------------------------------------------------------
# Comparators for the random / cursor-based commands


def random_shape(a: Any, b: Any) -> bool:
    """ZRANDMEMBER: errors and nulls exactly; replies of the same type and length."""
    if type(a) is bytes and type(b) is bytes:  # one random member each
        return True
    if is_error(a) or is_error(b) or not isinstance(a, list) or not isinstance(b, list):
        return same(a, b)
    return len(a) == len(b) and [type(x) for x in a] == [type(x) for x in b]


def zscan_cmp(a: Any, b: Any) -> bool:
    """One ZSCAN call: exact-as-a-multiset when both finish at once, else by shape."""
    if is_error(a) or is_error(b):
        return same(a, b)
    if not (isinstance(a, list) and isinstance(b, list) and len(a) == len(b) == 2):
        return same(a, b)
    if a[0] == b"0" and b[0] == b"0":
        pa = list(zip(a[1][::2], a[1][1::2], strict=False))
        pb = list(zip(b[1][::2], b[1][1::2], strict=False))
        return sorted(pa) == sorted(pb)
    return isinstance(a[1], list) and isinstance(b[1], list)


CMPS: dict[str, Callable[[Any, Any], bool]] = {
    "ZRANDMEMBER": random_shape,
    "ZSCAN": zscan_cmp,
}


LEX_ONLY = {"ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"}


def lex_undefined(pair: Pair, c: tuple[Any, ...]) -> bool:
    """A lex-range command on a skiplist zset whose scores differ: Redis's answer depends on
    the skiplist's random levels (lex ranges are defined for equal scores only), so such a
    command is sent to neither server."""
    name = str(c[0]).upper()
    bylex = any(isinstance(a, str) and a.upper() == "BYLEX" for a in c)
    if name not in LEX_ONLY and not (name in ("ZRANGE", "ZRANGESTORE") and bylex):
        return False
    if len(c) < (3 if name == "ZRANGESTORE" else 2):
        return False
    key = c[2] if name == "ZRANGESTORE" else c[1]
    if pair.q.call("OBJECT", "ENCODING", key) != b"skiplist":
        return False
    ends = [pair.q.call("ZRANGE", key, i, i, "WITHSCORES") for i in (0, -1)]
    scores = [e[-1][-1] if e and isinstance(e[-1], list) else e[-1:] for e in ends]
    return scores[0] != scores[1]


def run_sequence(pair: Pair, seq: list[tuple[Any, ...]], stop_at_first: bool = True) -> list[Diff]:
    pair.reset()
    start = len(pair.diffs)
    for c in seq:
        if lex_undefined(pair, c):
            continue
        cmp = CMPS.get(str(c[0]).upper())
        d = pair.run(*c, cmp=cmp)
        if d is not None and stop_at_first:
            return pair.diffs[start:]
    for k in ZKEYS:
        for extra in (("ZRANGE", k, 0, -1, "WITHSCORES"), ("OBJECT", "ENCODING", k)):
            pair.run(*extra)
    pair.check_state()
    return pair.diffs[start:]


# --------------------------------------------------------------------------------------------
# Tests


@pytest.fixture(scope="module")
def pair2(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=2) as p:
        yield p


@pytest.fixture(scope="module")
def pair3(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=3) as p:
        yield p


_settings = diff_settings  # shared with the other differential files


@_settings(300)
@given(seq=sequences())
def test_zsets_resp2(pair2: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair2, seq):
        raise AssertionError(pair2.report())


@_settings(150)
@given(seq=sequences())
def test_zsets_resp3(pair3: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair3, seq):
        raise AssertionError(pair3.report())


if __name__ == "__main__":  # pragma: no cover - survey: every discrepancy, grouped
    survey(sequences(), run_sequence, int(sys.argv[1]) if len(sys.argv) > 1 else 300)
