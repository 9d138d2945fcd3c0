"""Random bitmap / string command sequences on pikadb and a real redis-server 7.0, replies
compared on the wire (RESP2 and RESP3), then the whole state (TYPE, GET, PTTL, DEBUG DIGEST).

The mix: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO together with GET,
SET, SETRANGE, APPEND, GETRANGE, STRLEN, INCR, DUMP, COPY and EXPIRE, on a few bitmap keys
plus a list (WRONGTYPE). Offsets and values cluster around pikadb's inline/chunked threshold
(``strings.INLINE_MAX`` = 16 KiB: bit 131072 is the first bit past it) and the chunk
boundaries above it (``CHUNK_SIZE`` = 4 KiB), so sequences cross the encodings both ways: grow past the
threshold in place, overwrite a chunked value with a short one, copy and dump chunked values.
Malformed arguments (offsets, bits, types, units, overflow modes) come about 1 time in 20.
``python -m tests.differential.test_bitmaps [examples]`` surveys every discrepancy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pikadb.storage.strings import CHUNK_SIZE, INLINE_MAX
from tests.differential.harness import Diff, Pair, diff_settings, survey
from tests.support.servers import PikaServer, RedisServer

BKEYS = [b"b1", b"b2", b"{t}b"]
KEYS = [*BKEYS, b"lst", b"none"]
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
T = INLINE_MAX  # bytes: the longest inline value
C = CHUNK_SIZE
BAD_INTS = [b"a", b"1.5", b"", b" 1", b"9223372036854775808", b"+1", b"-0", b"01"]
# bit offsets: small, around the inline threshold and the chunk boundaries
BIT_OFFSETS = [
    0, 1, 7, 8, 9, 15, 100, 1000, T * 8 - 1, T * 8, T * 8 + 1, T * 8 + 7, T * 8 + 9,
    8 * (T + C) - 1, 8 * (T + C), 8 * (T + C) + 5, T * 8 + 3000, 8 * (T + 40),
    8 * (T + 3 * C) + 2,
]  # fmt: skip
BAD_OFFSETS = [-1, 4294967296, 1 << 40, INT64_MAX, *BAD_INTS]
# byte / bit indexes for BITCOUNT, BITPOS, GETRANGE
INDEXES = [
    0, 1, 2, 3, -1, -2, -3, -5, 5, 17, 100, T - 1, T, T + 1, -T, -T - 1, T + C, T * 8,
    T * 8 + 5, -T * 8, INT64_MAX, INT64_MIN,
]  # fmt: skip
BYTE_OFFSETS = [0, 1, 3, 10, T - 2, T - 1, T, T + 1, T + 100, T + C - 1, T + C + 3]
VALUES = [
    b"", b"a", b"foo", b"\xff\xf0\x00", b"123", b"-7", b"\x00" * 5, b"x" * 50,
    b"\xaa" * (T - 1), b"\x55" * T, b"\x0f" * (T + 1), bytes(range(256)) * 70,
    b"\xff" * (T + 40), b"\x00" * (T + 3) + b"\x01",
]  # fmt: skip
TYPES = [b"u1", b"u2", b"u7", b"u8", b"u9", b"u16", b"u31", b"u63", b"i1", b"i2", b"i8",
         b"i13", b"i32", b"i63", b"i64"]  # fmt: skip
BAD_TYPES = [b"u64", b"i65", b"i0", b"u0", b"x8", b"U8", b"u", b"", b"u08", b"i-1"]
FIELD_VALUES = [0, 1, -1, 2, 100, 127, 128, 255, 256, -128, -129, 65535, INT64_MAX, INT64_MIN,
                1 << 40, -(1 << 40), 12345678901]  # fmt: skip

mostly = st.integers(0, 19)


def weighted(good: list[Any], bad: list[Any], bad_rate: int = 1) -> st.SearchStrategy[Any]:
    """Mostly ``good``; about bad_rate/20 of the time one of ``bad``."""
    return st.tuples(mostly, st.sampled_from(good), st.sampled_from(bad)).map(
        lambda t: t[2] if 7 <= t[0] < 7 + bad_rate else t[1]
    )


def name(n: str) -> st.SearchStrategy[str]:
    return st.sampled_from([n] * 6 + [n.lower(), n.title()])


def flat(*parts: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Concatenate: each part yields a token or a tuple/list of tokens."""
    return st.tuples(*parts).map(
        lambda t: tuple(x for p in t for x in (p if isinstance(p, tuple | list) else (p,)))
    )


key = st.sampled_from(BKEYS * 4 + KEYS[3:])
bit_offset = weighted(BIT_OFFSETS, BAD_OFFSETS)
bit_value = weighted([0, 1], [2, -1, b"x", b"", b"01"])
index = weighted(INDEXES, BAD_INTS)
unit = weighted([b"BIT", b"BYTE", b"bit", b"byte"], [b"bits", b"", b"x"])
value = st.sampled_from(VALUES)
ftype = weighted(TYPES, BAD_TYPES)
fvalue = weighted(FIELD_VALUES, BAD_INTS)
foffset = st.one_of(
    weighted([0, 1, 3, 7, 8, 63, 64, 100, T * 8 - 4, T * 8 + 60, (T + C) * 8 - 30], BAD_OFFSETS),
    st.sampled_from([b"#0", b"#1", b"#2", b"#5", b"#2047", b"#-1", b"#", b"#x", b"##1"]),
)
field_op = st.one_of(
    st.tuples(st.sampled_from([b"GET", b"get"]), ftype, foffset),
    st.tuples(st.sampled_from([b"SET", b"set"]), ftype, foffset, fvalue),
    st.tuples(st.sampled_from([b"INCRBY", b"incrby"]), ftype, foffset, fvalue),
    st.tuples(st.just(b"OVERFLOW"), weighted([b"WRAP", b"SAT", b"FAIL", b"sat", b"fail"], [b"x"])),
)
broken_ops = st.sampled_from([(b"GET", b"u8"), (b"SET", b"u8", b"0"), (b"FOO",), (b"OVERFLOW",)])
field_ops = st.tuples(st.lists(field_op, max_size=4), mostly, broken_ops).map(
    lambda t: [x for op in t[0] for x in op] + (list(t[2]) if t[1] == 7 else [])
)
get_ops = st.lists(st.tuples(st.just(b"GET"), ftype, foffset), max_size=3).map(
    lambda ops: [x for op in ops for x in op]
)
range_args = st.one_of(
    st.just(()),
    st.tuples(index, index),
    st.tuples(index, index, unit),
    st.tuples(index),  # syntax error (BITCOUNT) / start only (BITPOS)
    st.tuples(index, index, unit, st.just(b"x")),
)

commands = st.one_of(
    st.tuples(name("SETBIT"), key, bit_offset, bit_value),
    st.tuples(name("SETBIT"), key, bit_offset, bit_value),
    st.tuples(name("GETBIT"), key, bit_offset),
    flat(name("BITCOUNT"), key, range_args),
    flat(name("BITPOS"), key, weighted([0, 1], [2, -1, b"x"]), range_args),
    flat(name("BITPOS"), key, weighted([0, 1], [2]), range_args),
    flat(
        name("BITOP"),
        weighted([b"AND", b"OR", b"XOR", b"NOT", b"and", b"xor"], [b"DIFF", b"nand"]),
        key,
        st.lists(key, min_size=1, max_size=3),
    ),
    flat(name("BITFIELD"), key, field_ops),
    flat(name("BITFIELD_RO"), key, st.one_of(get_ops, field_ops)),
    st.tuples(name("SET"), key, value),
    st.tuples(name("SETRANGE"), key, weighted(BYTE_OFFSETS, [-1, *BAD_INTS]), value),
    st.tuples(name("APPEND"), key, value),
    st.tuples(name("GETRANGE"), key, index, index),
    st.tuples(name("STRLEN"), key),
    st.tuples(name("GET"), key),
    st.tuples(name("INCR"), key),
    st.tuples(name("DUMP"), key),
    st.tuples(name("COPY"), key, key, st.sampled_from([b"REPLACE", b"REPLACE", b"x"])),
    st.tuples(name("EXPIRE"), key, st.just(1000)),
    st.tuples(name("DEL"), key),
)
setup = st.sampled_from([[], [(b"RPUSH", b"lst", b"a")], [(b"SET", b"b1", b"\x0f" * (T + 1))]])


@st.composite
def sequences(draw: Any, max_size: int = 18) -> list[tuple[Any, ...]]:
    return [*draw(setup), *draw(st.lists(commands, min_size=1, max_size=max_size))]


def run_sequence(pair: Pair, seq: list[tuple[Any, ...]], stop_at_first: bool = True) -> list[Diff]:
    pair.clear()
    diffs = pair.run_all(seq, stop_at_first=stop_at_first)
    if not diffs or not stop_at_first:
        diffs += pair.check_state()
    return diffs


@pytest.fixture(scope="module")
def pairs2(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=2, dbs=(0,)) as p:
        yield p


@pytest.fixture(scope="module")
def pairs3(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=3, dbs=(0,)) as p:
        yield p


def _check(pair: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair, seq):
        raise AssertionError(pair.report())


@diff_settings(240)
@given(seq=sequences())
def test_bitmaps_resp2(pairs2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs2, seq)


@diff_settings(90)
@given(seq=sequences(max_size=10))
def test_bitmaps_resp3(pairs3: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs3, seq)


if __name__ == "__main__":  # pragma: no cover - survey: every discrepancy, grouped
    survey(sequences(), run_sequence, int(sys.argv[1]) if len(sys.argv) > 1 else 200, dbs=(0,))
