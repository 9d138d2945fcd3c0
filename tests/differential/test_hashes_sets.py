"""Random hash and set command sequences on pikadb and a real redis-server 7.0, replies
compared on the wire (RESP2 and RESP3), then the whole state (TYPE, PTTL, DEBUG DIGEST) plus
every hash's HGETALL, every set's SMEMBERS and their OBJECT ENCODING.

Inputs mix hashes, sets and strings (WRONGTYPE, missing keys), fields/members with the awkward
ones (empty, binary, canonical and non-canonical integers, 65-byte strings that flip Redis's
encoding), counts and cursors with broken forms, and the generic commands (DEL, RENAME, COPY,
EXPIRE, DUMP/RESTORE...). Whole-collection replies are compared in any order.

Random commands stay comparable:
* SPOP: when its outcome is forced (every member goes, an error, a missing key) both servers
  run it and the replies are compared; otherwise pikadb pops, its reply is checked for shape
  and membership, and redis receives ``SREM`` of the popped members, so both states stay equal.
* SRANDMEMBER / HRANDFIELD: exact when forced (count >= size, 0, errors), else shape,
  distinctness and membership (each reply against its own server's content).
* HSCAN / SSCAN: a full iteration from cursor 0 on both sides, compared as sets (errors
  exactly); from any other cursor one call, compared by shape.

``python -m tests.differential.test_hashes_sets [examples]`` surveys every discrepancy.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import (
    Diff,
    Err,
    Pair,
    RMap,
    RSet,
    diff_settings,
    is_error,
    same,
    survey,
    unordered,
)
from tests.support.servers import PikaServer, RedisServer

HKEYS = [b"h1", b"h2", b"{t}h"]
SKEYS = [b"s1", b"s2", b"{t}s"]
KEYS = [*HKEYS, *SKEYS, b"str", b"none"]
LONG = b"L" * 65
FIELDS = [b"a", b"b", b"c", b"1", b"2", b"-3", b"10", b"", b"m\x00n", b"\xff", b"01", LONG]
VALUES = [b"v", b"1", b"-2", b"0", b"1.5", b"10.50", b"abc", b"", b"9223372036854775807", LONG]
MEMBERS = [b"1", b"2", b"3", b"-7", b"100", b"a", b"b", b"", b"01", b"-0", b"\x00", LONG]
INTS = [1, -1, 5, 0, 100, -100, 9223372036854775807, -9223372036854775808]
BAD_INTS = [b"abc", b"1.5", b"", b" 1", b"9223372036854775808"]
FLOATS = [b"1.5", b"-0.5", b"0", b"1e3", b"3", b".5", b"1e4000", b"0x10"]
BAD_FLOATS = [b"inf", b"nan", b"abc", b"", b" 1", b"1e5000"]
COUNTS = [0, 1, 2, 3, 5, 20, -1, -3, -20]
BAD_COUNTS = [b"x", -9223372036854775808, b"", 9223372036854775807]
PATTERNS = [b"*", b"a*", b"?", b"[ab]*", b"*1*", b"\\*"]

mostly = st.integers(0, 19)


def weighted(good: list[Any], bad: list[Any], bad_rate: int = 1) -> st.SearchStrategy[Any]:
    """Mostly ``good``; about bad_rate/20 of the time one of ``bad``."""
    return st.tuples(mostly, st.sampled_from(good), st.sampled_from(bad)).map(
        lambda t: t[2] if 7 <= t[0] < 7 + bad_rate else t[1]
    )


hkey = st.sampled_from(HKEYS * 4 + KEYS[3:])
skey = st.sampled_from(SKEYS * 4 + KEYS[:3] + KEYS[6:])
anykey = st.sampled_from(KEYS)
field = st.sampled_from(FIELDS)
value = st.sampled_from(VALUES)
member = st.sampled_from(MEMBERS)
count = weighted(COUNTS, BAD_COUNTS)


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


fv_pairs = st.lists(st.tuples(field, value), min_size=1, max_size=4).map(
    lambda ps: tuple(x for p in ps for x in p)
)
fields = st.lists(field, min_size=1, max_size=3)
members = st.lists(member, min_size=1, max_size=4)
keys_n = st.lists(skey, min_size=1, max_size=3)
scan_opts = some_of(
    st.tuples(st.just("MATCH"), st.sampled_from(PATTERNS)),
    st.tuples(st.just("COUNT"), weighted([1, 2, 10, 100], [0, -1, b"x"])),
)
cursor = weighted([0], [b"x", b"-1", b"18446744073709551616"])

HASH_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    flat(name("HSET"), hkey, fv_pairs),
    flat(name("HSET"), hkey, fv_pairs),
    flat(name("HMSET"), hkey, fv_pairs),
    flat(name("HSETNX"), hkey, field, value),
    flat(name("HGET"), hkey, field),
    flat(name("HMGET"), hkey, fields),
    flat(name("HDEL"), hkey, fields),
    flat(name("HEXISTS"), hkey, field),
    flat(name("HLEN"), hkey),
    flat(name("HSTRLEN"), hkey, field),
    flat(st.sampled_from(["HGETALL", "HKEYS", "HVALS"]), hkey),
    flat(name("HINCRBY"), hkey, field, weighted(INTS, BAD_INTS)),
    flat(name("HINCRBYFLOAT"), hkey, field, weighted(FLOATS, BAD_FLOATS)),
    flat(name("HRANDFIELD"), hkey, some_of(st.tuples(count), ("WITHVALUES",))),
    flat(st.just("HSCAN*"), hkey, cursor, scan_opts),
]
SET_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    flat(name("SADD"), skey, members),
    flat(name("SADD"), skey, members),
    flat(name("SREM"), skey, members),
    flat(name("SCARD"), skey),
    flat(name("SISMEMBER"), skey, member),
    flat(name("SMISMEMBER"), skey, members),
    flat(name("SMEMBERS"), skey),
    flat(name("SPOP"), skey, some_of(st.tuples(weighted([0, 1, 2, 3, 10], [-1, b"x"])))),
    flat(name("SRANDMEMBER"), skey, some_of(st.tuples(count))),
    flat(name("SMOVE"), skey, skey, member),
    flat(st.sampled_from(["SUNION", "SINTER", "SDIFF"]), keys_n),
    flat(st.sampled_from(["SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"]), skey, keys_n),
    flat(
        name("SINTERCARD"),
        keys_n.map(lambda ks: (len(ks), *ks)),
        some_of(st.tuples(st.just("LIMIT"), weighted([0, 1, 2], [-1, b"x"]))),
    ),
    flat(st.just("SSCAN*"), skey, cursor, scan_opts),
]
GENERIC_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    flat(st.sampled_from(["TYPE", "EXISTS", "OBJECT"]), anykey).map(
        lambda c: ("OBJECT", "ENCODING", c[1]) if c[0] == "OBJECT" else c
    ),
    flat(name("DEL"), anykey),
    flat(st.sampled_from(["RENAME", "COPY"]), anykey, anykey),
    flat(name("EXPIRE"), anykey, st.sampled_from([100, 1000])),
    flat(name("DUMP"), anykey),
    flat(name("DEBUG"), st.just("DIGEST-VALUE"), anykey),
]


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Usually ``base``; sometimes with its tail cut or junk appended (arity/syntax errors)."""
    c = draw(base)
    roll = draw(st.integers(0, 39))
    if roll == 17 and len(c) > 1 and c[0] not in ("HSCAN*", "SSCAN*"):
        return c[: draw(st.integers(1, len(c) - 1))]
    if roll == 23:
        return (*c, draw(st.sampled_from([b"extra", b"1", b"WITHVALUES", b"LIMIT"])))
    return c


@st.composite
def seed(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Start with some hashes and sets (sometimes a big one, in Redis's hashtable encoding)."""
    out: list[tuple[Any, ...]] = []
    for k in draw(st.lists(st.sampled_from(HKEYS), min_size=1, max_size=2, unique=True)):
        content = draw(st.lists(st.tuples(field, value), min_size=1, max_size=6))
        out.append(("HSET", k, *(x for p in content for x in p)))
    common = st.sampled_from(MEMBERS[:6])  # overlapping sets: non-empty intersections
    for k in draw(st.lists(st.sampled_from(SKEYS), min_size=1, max_size=3, unique=True)):
        out.append(("SADD", k, *draw(st.lists(st.one_of(common, member), min_size=1, max_size=7))))
    roll = draw(st.integers(0, 7))
    if roll == 0:
        out.append(
            (
                "HSET",
                draw(st.sampled_from(HKEYS)),
                *(x for i in range(520) for x in (b"f%d" % i, b"v")),
            )
        )
    elif roll == 1:
        out.append(("SADD", draw(st.sampled_from(SKEYS)), *(b"%d" % i for i in range(530))))
    elif roll == 2:
        out.append(("SADD", draw(st.sampled_from(SKEYS)), *(b"m%d" % i for i in range(40))))
    out.append(("SET", b"str", b"v"))
    return out


def sequences(groups: list[st.SearchStrategy[tuple[Any, ...]]], max_size: int = 15) -> Any:
    body = st.lists(mutated(st.one_of(groups)), min_size=1, max_size=max_size)
    return st.tuples(seed(), body).map(lambda t: t[0] + t[1])


GROUPS = {
    "hashes": HASH_CMDS + GENERIC_CMDS[:3],
    "sets": SET_CMDS + GENERIC_CMDS[:3],
    "mixed": HASH_CMDS + SET_CMDS + GENERIC_CMDS,
}


# --------------------------------------------------------------------------------------------
# Comparators and runners for the order-free and random commands


def pairs_unordered(a: Any, b: Any) -> bool:
    if isinstance(a, RMap) and isinstance(b, RMap):
        return sorted(a) == sorted(b)
    if type(a) is list and type(b) is list:
        return sorted(zip(a[::2], a[1::2], strict=False)) == sorted(
            zip(b[::2], b[1::2], strict=False)
        )
    return same(a, b)


CMPS: dict[str, Callable[[Any, Any], bool]] = {
    "HGETALL": pairs_unordered,
    "HKEYS": unordered,
    "HVALS": unordered,
    "SMEMBERS": unordered,
    "SUNION": unordered,
    "SINTER": unordered,
    "SDIFF": unordered,
}


def _as_int(x: Any) -> int | None:
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def _content(pair: Pair, side: Any, key: Any, is_hash: bool) -> Any:
    reply = side.call("HGETALL" if is_hash else "SMEMBERS", key)
    if is_error(reply):
        return None
    if is_hash:
        items = (
            list(reply)
            if isinstance(reply, RMap)
            else list(zip(reply[::2], reply[1::2], strict=False))
        )
        return dict(items)
    return set(reply)


def _forced(c: tuple[Any, ...], size: Any) -> bool:
    """Is the reply of this SPOP / SRANDMEMBER / HRANDFIELD determined by the state?"""
    cmd = str(c[0]).upper()
    if len(c) < 2 or not isinstance(size, int) or size == 0:
        return True
    if len(c) == 2:
        return size <= 1
    n = _as_int(c[2])
    if n is None or n == 0 or n >= size or abs(n) >= 2**62:
        return True
    if cmd == "SPOP":
        return n < 0 or len(c) > 3
    if cmd == "SRANDMEMBER":
        return len(c) > 3
    return len(c) > 4 or (len(c) == 4 and str(c[3]).upper() != "WITHVALUES")


def run_random(pair: Pair, c: tuple[Any, ...]) -> None:
    """SPOP / SRANDMEMBER / HRANDFIELD (see the module docstring)."""
    cmd = str(c[0]).upper()
    is_hash = cmd == "HRANDFIELD"
    key = c[1] if len(c) > 1 else None
    size = pair.p.call("HLEN" if is_hash else "SCARD", key) if key is not None else None
    withvalues = is_hash and len(c) == 4
    if _forced(c, size):
        cmp = pairs_unordered if withvalues and pair.resp == 2 else unordered
        pair.run(*c, cmp=cmp)
        return
    n = _as_int(c[2]) if len(c) > 2 else None
    if cmd == "SPOP":
        before = _content(pair, pair.p, key, False)
        got = pair.p.call(*c)
        popped = [got] if n is None else list(got) if isinstance(got, list) else []
        kind = bytes if n is None else RSet if pair.resp == 3 else list
        ok = (
            type(got) is kind
            and len(popped) == (1 if n is None else n) == len(set(popped))
            and before is not None
            and set(popped) <= before
        )
        pair.history.append(c)
        if not ok:
            pair.diffs.append(Diff(c, got, "<shape>", "SPOP reply shape/membership"))
        if popped:
            pair.q.call("SREM", key, *popped)
        return
    a, b = pair.p.call(*c), pair.q.call(*c)
    pair.history.append(c)
    content = _content(pair, pair.p, key, is_hash)
    ok = type(a) is type(b) and content is not None
    if ok and isinstance(a, bytes):
        ok = a in content
    elif ok and isinstance(a, list):
        if withvalues and pair.resp == 3:
            items = [tuple(x) for x in a]
        elif withvalues:
            items = list(zip(a[::2], a[1::2], strict=False))
        else:
            items = [(x, None) for x in a]
        names = [k for k, _ in items]
        ok = len(a) == len(b) and all(k in content for k in names)
        if withvalues:
            ok = ok and all(content[k] == v for k, v in items)
        if n is not None and n > 0:
            ok = ok and len(set(names)) == len(names)
    if not ok:
        pair.diffs.append(Diff(c, a, b, "random reply shape/membership"))


def full_scan(side: Any, cmd: str, key: Any, cur: Any, opts: tuple[Any, ...]) -> Any:
    items: list[Any] = []
    for _ in range(10_000):
        reply = side.call(cmd, key, cur, *opts)
        if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list)):
            return reply
        items += reply[1]
        cur = reply[0]
        if cur == b"0":
            if cmd == "HSCAN":
                return sorted(set(zip(items[::2], items[1::2], strict=False)))
            return sorted(set(items))
    return Err("harness: scan did not finish")


def run_scan(pair: Pair, c: tuple[Any, ...]) -> None:
    cmd = "HSCAN" if c[0] == "HSCAN*" else "SSCAN"
    pair.history.append(c)
    if c[2] not in (0, b"0"):  # a cursor the servers never issued: one call, errors exactly
        a, b = pair.p.call(cmd, *c[1:]), pair.q.call(cmd, *c[1:])
        if (is_error(a) or is_error(b)) and not same(a, b):
            pair.diffs.append(Diff(c, a, b))
        elif type(a) is not type(b):
            pair.diffs.append(Diff(c, a, b, "reply shape"))
        return
    a = full_scan(pair.p, cmd, c[1], c[2], c[3:])
    b = full_scan(pair.q, cmd, c[1], c[2], c[3:])
    if not same(a, b):
        pair.diffs.append(Diff(c, a, b, "full iteration"))


def run_dump(pair: Pair, c: tuple[Any, ...]) -> None:
    """DUMP: exact, or pikadb's payload restored on redis digests like redis's own value (a
    hashtable-encoded set or hash has no canonical member order, so bytes may differ)."""
    pair.history.append(c)
    a, b = pair.p.call(*c), pair.q.call(*c)
    if same(a, b):
        return
    if type(a) is bytes and type(b) is bytes:
        tmp = b"__differential_dump_check__"
        restored = pair.q.call("RESTORE", tmp, 0, a, "REPLACE")
        got = pair.q.call("DEBUG", "DIGEST-VALUE", tmp)
        want = pair.q.call("DEBUG", "DIGEST-VALUE", c[1])
        pair.q.call("DEL", tmp)
        if restored == b"OK" and same(got, want):
            return
    pair.diffs.append(Diff(c, a, b, "DUMP payload does not restore to the same value"))


def run_sequence(pair: Pair, seq: list[tuple[Any, ...]], stop_at_first: bool = True) -> list[Diff]:
    pair.reset()
    start = len(pair.diffs)
    for c in seq:
        head = str(c[0]).upper()
        if head in ("HSCAN*", "SSCAN*"):
            run_scan(pair, c)
        elif head in ("SPOP", "SRANDMEMBER", "HRANDFIELD"):
            run_random(pair, c)
        elif head == "DUMP" and len(c) == 2:
            run_dump(pair, c)
        else:
            pair.run(*c, cmp=CMPS.get(head))
        if len(pair.diffs) > start and stop_at_first:
            return pair.diffs[start:]
    for k in HKEYS:
        pair.run("HGETALL", k, cmp=pairs_unordered)
        pair.run("OBJECT", "ENCODING", k)
    for k in SKEYS:
        pair.run("SMEMBERS", k, cmp=unordered)
        pair.run("OBJECT", "ENCODING", k)
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


def _check(pair: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair, seq):
        raise AssertionError(pair.report())


@_settings(150)
@given(seq=sequences(GROUPS["hashes"]))
def test_hashes(pair2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pair2, seq)


@_settings(150)
@given(seq=sequences(GROUPS["sets"]))
def test_sets(pair2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pair2, seq)


@_settings(100)
@given(seq=sequences(GROUPS["mixed"], max_size=25))
def test_mixed_resp3(pair3: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pair3, seq)


if __name__ == "__main__":  # pragma: no cover - survey: every discrepancy, grouped
    survey(
        {g: sequences(cmds) for g, cmds in GROUPS.items()},
        run_sequence,
        int(sys.argv[1]) if len(sys.argv) > 1 else 100,
    )
