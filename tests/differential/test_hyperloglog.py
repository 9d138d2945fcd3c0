"""Random HyperLogLog command sequences on pikadb and a real redis-server 7.0: replies AND the
raw bytes of every value (GET) must be identical, then the whole state (TYPE, GET, PTTL,
DEBUG DIGEST).

Sequences mix PFADD (a few elements or thousands, so values go sparse -> dense), PFCOUNT of
one key (which rewrites the cached cardinality in the value) or several, PFMERGE (missing,
sparse, dense destinations), PFDEBUG, ``hll-sparse-max-bytes`` changes, plain strings and a
list (WRONGTYPE), and corruption: random byte flips / truncations / tails applied to the
value Redis holds and SET on both servers, APPEND and SETRANGE. Values also cross servers:
an HLL built by Redis alone is SET into pikadb (and the reverse), then both go on.

``python -m tests.differential.test_hyperloglog [examples]`` surveys every discrepancy.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import Diff, Pair, diff_settings, survey
from tests.support.servers import PikaServer, RedisServer

HKEYS = [b"h1", b"h2", b"{t}h"]
KEYS = [*HKEYS, b"str", b"lst", b"none"]
ELEMENTS = [b"a", b"b", b"c", b"", b"1", b"2", b"\x00\xff", b"x" * 40, b"hello", b"a" * 9]
LIMITS = [3000, 3000, 100, 40, 1000, 20000]


def bulk(seed: int, n: int) -> list[bytes]:
    return [b"%d:%d" % (seed, i) for i in range(n)]


def corrupt(value: bytes, seed: int) -> bytes:
    """A deterministic damage of an HLL value (header kept most of the time)."""
    rng = random.Random(seed)
    v = bytearray(value)
    if len(v) < 16:  # not an HLL at all: give it a header to damage
        v = bytearray(b"HYLL\x01" + bytes(11)) + v
    kind = rng.randrange(6)
    if kind == 0 and len(v) > 16:  # flip a few register bytes
        for _ in range(rng.randint(1, 4)):
            v[rng.randrange(16, len(v))] = rng.randrange(256)
    elif kind == 1 and len(v) > 17:  # truncate
        del v[rng.randrange(16, len(v)) :]
    elif kind == 2:  # junk at the tail
        v += rng.choice([b"hello", b"\x80", b"\x40", b"\x00", b"\x7f\xff", b"\xfc"])
    elif kind == 3:  # header: cache / encoding / unused bytes
        pos = rng.choice([4, 5, 8, 15])
        v[pos] = rng.choice([0, 1, 2, 0x80, 0xFF])
    elif kind == 4:  # a valid sparse body of another shape
        v = bytearray(v[:16]) + rng.choice(
            [b"\x7f\xff", b"\x7f\xfe\x80", b"\x3f" * 256, b"\x7f\xfe\xfc", b"\x40\x00\x7f\xfd"]
        )
        v[4] = 1
    else:  # byte flip in the header magic
        v[rng.randrange(4)] ^= 0x20
    return bytes(v)


hkey = st.sampled_from(HKEYS * 4 + KEYS[3:])
anykey = st.sampled_from(KEYS)
element = st.sampled_from(ELEMENTS)


def elements() -> st.SearchStrategy[list[Any]]:
    small = st.lists(element, max_size=5)
    big = st.tuples(st.integers(0, 50), st.sampled_from([30, 200, 700, 2500, 6000])).map(
        lambda t: bulk(*t)
    )
    return st.one_of(small, small, big)


def name(n: str) -> st.SearchStrategy[str]:
    return st.sampled_from([n] * 4 + [n.lower()])


COMMANDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    st.tuples(name("PFADD"), hkey, elements()).map(lambda t: (t[0], t[1], *t[2])),
    st.tuples(name("PFADD"), hkey, elements()).map(lambda t: (t[0], t[1], *t[2])),
    st.tuples(name("PFCOUNT"), hkey),
    st.tuples(name("PFCOUNT"), st.lists(anykey, min_size=1, max_size=4)).map(
        lambda t: (t[0], *t[1])
    ),
    st.tuples(name("PFMERGE"), hkey, st.lists(anykey, max_size=3)).map(
        lambda t: (t[0], t[1], *t[2])
    ),
    st.tuples(
        st.just("PFDEBUG"),
        st.sampled_from(["ENCODING", "DECODE", "TODENSE", "GETREG", "encoding", "nosuch"]),
        anykey,
    ),
    st.tuples(st.just("GET"), hkey),
    st.tuples(st.just("DEL"), hkey),
    st.tuples(st.just("CORRUPT"), hkey, st.integers(0, 10**6)),
    st.tuples(st.just("APPEND"), hkey, st.sampled_from([b"x", b"\x80", b"\x40"])),
    st.tuples(st.just("SETRANGE"), hkey, st.sampled_from([4, 8, 15, 16, 17]), st.just(b"\x01")),
    st.tuples(st.just("IMPORT"), hkey, st.integers(0, 50), st.sampled_from([5, 300, 3000])),
    st.tuples(st.just("EXPORT"), hkey, st.integers(0, 50), st.sampled_from([5, 300, 3000])),
    st.tuples(
        st.just("CONFIG"), st.just("SET"), st.just("hll-sparse-max-bytes"), st.sampled_from(LIMITS)
    ),
    st.tuples(st.just("EXPIRE"), hkey, st.just(1000)),
]


def sequences() -> st.SearchStrategy[list[tuple[Any, ...]]]:
    return st.lists(st.one_of(*COMMANDS), min_size=1, max_size=12)


def _seed(pair: Pair) -> None:
    pair.run("SET", "str", "plain string")
    pair.run("RPUSH", "lst", "x")
    pair.run("PFADD", "h1", "a", "b", "c")


def run_sequence(pair: Pair, seq: list[tuple[Any, ...]], stop_at_first: bool = True) -> list[Diff]:
    pair.clear()
    pair.run("CONFIG", "SET", "hll-sparse-max-bytes", 3000)
    start = len(pair.diffs)
    _seed(pair)
    for c in seq:
        op = c[0]
        if op == "CORRUPT":  # damage what Redis holds, SET it on both
            value = pair.q.call("GET", c[1])
            d = (
                pair.run("SET", c[1], corrupt(value, c[2]))
                if isinstance(value, bytes) and len(value) > 4
                else None
            )
        elif op in ("IMPORT", "EXPORT"):  # one server builds the HLL, the other gets its bytes
            maker, taker = (pair.q, pair.p) if op == "IMPORT" else (pair.p, pair.q)
            maker.call("DEL", c[1])
            maker.call("PFADD", c[1], *bulk(c[2], c[3]))
            value = maker.call("GET", c[1])
            taker.call("SET", c[1], value)
            d = pair.run("GET", c[1])
        else:
            d = pair.run(*c)
        if d is not None and stop_at_first:
            return pair.diffs[start:]
    for k in HKEYS:
        pair.run("GET", k)
        pair.run("PFCOUNT", k)
    pair.run("PFCOUNT", *HKEYS)
    pair.run("CONFIG", "SET", "hll-sparse-max-bytes", 3000)
    pair.check_state()
    return pair.diffs[start:]


# --------------------------------------------------------------------------------------------
# Deterministic cases (RESP2 and RESP3)

_REDIS_SPARSE_ABC = bytes.fromhex("48594c4c01000000000000000000008060f38050b1844bfb80425a")
_HDR = _REDIS_SPARSE_ABC[:16]
TABLE: list[list[tuple[Any, ...]]] = [
    # bytes of fresh, added, counted, merged values
    [("PFADD", "k"), ("GET", "k"), ("PFADD", "k", "a", "b", "c"), ("GET", "k"),
     ("PFCOUNT", "k"), ("GET", "k"), ("PFCOUNT", "k"), ("PFMERGE", "m", "k"), ("GET", "m"),
     ("PFMERGE", "e"), ("GET", "e"), ("PFMERGE", "f", "none1", "none2"), ("GET", "f")],
    # crafted values: all registers at 63 / 51 (llroundl overflow), trailing opcodes,
    # truncated XZERO, fewer registers, empty body, bad magic / encoding / length
    [("SET", "full", b"HYLL" + bytes(11) + b"\x80" + b"\xff" * 12288), ("PFCOUNT", "full"),
     ("GET", "full"), ("PFCOUNT", "full", "full"), ("PFMERGE", "d", "full"), ("GET", "d")],
    [("SET", "t", _HDR + b"\x7f\xff\x80"), ("PFCOUNT", "t"), ("PFCOUNT", "t", "t"),
     ("PFMERGE", "d", "t"), ("PFADD", "t", "a", "b"), ("GET", "t"),
     ("PFDEBUG", "TODENSE", "t"), ("PFDEBUG", "DECODE", "t"), ("PFDEBUG", "GETREG", "t")],
    [("SET", "u", _HDR + b"\x7f\xfe"), ("PFADD", "u", *bulk(1, 2000)), ("GET", "u"),
     ("PFCOUNT", "u"), ("PFADD", "u", "zz"), ("GET", "u")],
    [("SET", "w", _HDR + b"\x40"), ("PFADD", "w", "x"), ("GET", "w"), ("PFDEBUG", "DECODE", "w"),
     ("SET", "w", _HDR + b"\x7f\xfd\x40"), ("PFCOUNT", "w"), ("PFADD", "w", *bulk(2, 50)),
     ("GET", "w")],
    [("SET", "z", _HDR), ("PFADD", "z", "a"), ("PFCOUNT", "z"), ("PFDEBUG", "DECODE", "z"),
     ("SET", "z", b"HYLL"), ("PFADD", "z", "a"), ("SET", "z", b"HYLX" + _HDR[4:] + b"\x7f\xff"),
     ("PFCOUNT", "z"), ("SET", "z", b"HYLL\x02" + _HDR[5:] + b"\x7f\xff"), ("PFCOUNT", "z"),
     ("SET", "z", b"HYLL\x00" + _HDR[5:] + b"\x00" * 100), ("PFCOUNT", "z"),
     ("SET", "z", 12345678901234567), ("PFCOUNT", "z")],
    # partial changes kept when a later element hits corruption
    [("SET", "p", _HDR + b"\x7f\xfe"), ("PFADD", "p", *bulk(3, 3000)), ("GET", "p")],
    # header fields are carried over by conversions
    [("SET", "c", b"HYLL\x01\x07\x08\x09" + (12345).to_bytes(8, "little") + b"\x7f\xff"),
     ("PFCOUNT", "c"), ("PFADD", "c", "a"), ("GET", "c"), ("PFDEBUG", "TODENSE", "c"),
     ("GET", "c"), ("PFMERGE", "c2", "c"), ("GET", "c2"), ("PFMERGE", "c", "c2"), ("GET", "c")],
    # promotion thresholds
    [("CONFIG", "SET", "hll-sparse-max-bytes", 0), ("PFADD", "s", "a"), ("GET", "s"),
     ("CONFIG", "SET", "hll-sparse-max-bytes", 25), ("PFADD", "s2", "a", "b", "c", "d"),
     ("PFDEBUG", "ENCODING", "s2"), ("PFMERGE", "s3", "s2"), ("PFDEBUG", "ENCODING", "s3"),
     ("CONFIG", "SET", "hll-sparse-max-bytes", 3000)],
    # PFDEBUG errors and conversions
    [("PFDEBUG", "GETREG", "none"), ("PFADD", "k", "a"), ("PFDEBUG", "foo", "k"),
     ("PFDEBUG", "foo\r\nbar", "k"), ("PFDEBUG", "ENCODING", "k"), ("PFDEBUG", "GETREG", "k"),
     ("GET", "k"), ("PFDEBUG", "TODENSE", "k"), ("RPUSH", "l", "x"), ("PFDEBUG", "TODENSE", "l"),
     ("SET", "s", "x"), ("PFDEBUG", "decode", "s")],
    # wrong types and arity
    [("SET", "s", "x"), ("PFADD", "s", "a"), ("PFCOUNT", "s"), ("PFCOUNT", "none", "s"),
     ("PFMERGE", "s"), ("PFMERGE", "d", "s"), ("RPUSH", "l", "x"), ("PFADD", "l"),
     ("PFCOUNT", "l", "none"), ("PFMERGE", "l", "none"), ("PFADD",), ("PFCOUNT",),
     ("PFMERGE",), ("PFDEBUG", "GETREG"), ("PFSELFTEST", "x")],
    # values longer than 16 KiB (stored chunked by pikadb): crafted sparse bodies
    [("SET", "L", _HDR + b"\x80" * 20000), ("PFCOUNT", "L"), ("PFADD", "L", "a", "b"),
     ("GET", "L"), ("PFCOUNT", "L", "L"), ("SET", "L", _HDR + b"\x80" * 16384 + b"\x01" * 40),
     ("PFADD", "L", *bulk(4, 50)), ("GET", "L"), ("SET", "L", b"HYLL\x00" + b"\x00" * 20000),
     ("PFCOUNT", "L"), ("SET", "L", b"x" * 20000), ("PFADD", "L", "a"),
     ("SET", "L", _HDR + b"\x7f\xff" * 5000), ("PFCOUNT", "L", "L"), ("PFADD", "L", "q")],
    # error order: a corrupted key before a wrong-typed one, and after
    [("SET", "bad", _HDR + b"\x7f\xfe"), ("SET", "s", "x"), ("PFCOUNT", "bad", "s"),
     ("PFCOUNT", "s", "bad"), ("PFMERGE", "d", "bad", "s"), ("PFMERGE", "d", "s", "bad"),
     ("EXISTS", "d")],
]  # fmt: skip


@pytest.fixture(scope="module")
def pair2(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=2) as p:
        yield p
        p.both("CONFIG", "SET", "hll-sparse-max-bytes", 3000)


@pytest.fixture(scope="module")
def pair3(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=3) as p:
        yield p
        p.both("CONFIG", "SET", "hll-sparse-max-bytes", 3000)


@pytest.mark.parametrize("case", range(len(TABLE)))
@pytest.mark.parametrize("resp", [2, 3])
def test_table(pair2: Pair, pair3: Pair, case: int, resp: int) -> None:
    pair = pair2 if resp == 2 else pair3
    pair.clear()
    for c in TABLE[case]:
        pair.run(*c)
    pair.run("CONFIG", "SET", "hll-sparse-max-bytes", 3000)
    pair.check_state()
    pair.assert_clean()


def test_dump_restore_across_servers(pair2: Pair) -> None:
    """HLL values (sparse, dense, crafted) DUMPed by one server RESTORE on the other and
    read back identically (DUMP itself: exact, or restorable on redis to the same value)."""
    pair2.clear()
    pair2.run("PFADD", "s", "a", "b", "c")
    pair2.run("PFADD", "d", *bulk(5, 4000))
    pair2.run("PFCOUNT", "d")
    pair2.run("SET", "x", _HDR + b"\x7f\xfe\x80")
    for key in (b"s", b"d", b"x"):
        pair2.run("DUMP", key)
        for src, dst in ((pair2.q, pair2.p), (pair2.p, pair2.q)):
            payload = src.call("DUMP", key)
            assert dst.call("RESTORE", b"r-" + key, 0, payload, "REPLACE") == b"OK"
        pair2.run("GET", b"r-" + key)
        pair2.run("PFCOUNT", b"r-" + key)
        pair2.run("PFADD", b"r-" + key, "zz")
        pair2.run("GET", b"r-" + key)
    pair2.check_state()
    pair2.assert_clean()


@diff_settings(150)
@given(seq=sequences())
def test_hyperloglog_resp2(pair2: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair2, seq):
        raise AssertionError(pair2.report())


@diff_settings(60)
@given(seq=sequences())
def test_hyperloglog_resp3(pair3: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair3, seq):
        raise AssertionError(pair3.report())


if __name__ == "__main__":  # pragma: no cover - survey: every discrepancy, grouped
    survey(sequences(), run_sequence, int(sys.argv[1]) if len(sys.argv) > 1 else 200)
