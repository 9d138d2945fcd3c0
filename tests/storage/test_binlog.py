"""Binlog record format: encode/decode round trip and the readable dump."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pikadb.storage.binlog import (
    OP_DELETE,
    OP_DELETE_RANGE,
    OP_PUT,
    Record,
    decode_record,
    describe,
    encode_record,
)
from pikadb.storage.engine import CF_NAMES

i32 = st.integers(-(2**31), 2**31 - 1)
ops = st.lists(
    st.one_of(
        st.tuples(
            st.just(OP_PUT), st.integers(0, 5), st.binary(max_size=40), st.binary(max_size=60)
        ),
        st.tuples(st.just(OP_DELETE), st.integers(0, 5), st.binary(max_size=40), st.just(b"")),
        st.tuples(
            st.just(OP_DELETE_RANGE),
            st.integers(0, 5),
            st.binary(max_size=20),
            st.binary(max_size=20),
        ),
    ),
    max_size=30,
)
deltas = st.dictionaries(st.integers(0, 0xFFFF), st.tuples(i32, i32), max_size=5)


@given(st.integers(0, 2**64 - 1), deltas, ops)
def test_record_round_trip(
    ts: int, d: dict[int, tuple[int, int]], o: list[tuple[int, int, bytes, bytes]]
) -> None:
    raw = encode_record(ts, {t: list(v) for t, v in d.items()} or None, o)
    assert decode_record(raw) == Record(ts, d, o)


def test_record_without_deltas_or_ops() -> None:
    assert decode_record(encode_record(5, None, [])) == Record(5, {}, [])
    assert decode_record(encode_record(5, {}, [])) == Record(5, {}, [])


@given(st.integers(0, 2**40), deltas, ops, st.binary(min_size=1, max_size=5))
def test_trailing_bytes_are_refused(
    ts: int, d: dict[int, tuple[int, int]], o: list[tuple[int, int, bytes, bytes]], junk: bytes
) -> None:
    raw = encode_record(ts, {t: list(v) for t, v in d.items()}, o)
    with pytest.raises(ValueError):
        decode_record(raw + junk)


def test_truncated_record_is_refused() -> None:
    raw = encode_record(1, {0: [1, 0]}, [(OP_PUT, 0, b"key", b"value")])
    for cut in range(len(raw)):
        with pytest.raises(Exception):  # noqa: B017 - struct.error or ValueError
            decode_record(raw[:cut])


def test_describe_is_readable() -> None:
    raw = encode_record(
        1700000000000,
        {0: [1, -1]},
        [
            (OP_PUT, 0, b"\x00\x00\x12\x34k", b"v" * 100),
            (OP_DELETE, 3, b"ttlkey", b""),
            (OP_DELETE_RANGE, 1, b"a", b"b"),
        ],
    )
    lines = list(describe(7, raw, CF_NAMES))
    assert lines[0] == "#7 ts=1700000000000 ops=3 table0:keys+1,expires-1"
    assert lines[1] == "  put meta b'\\x00\\x00\\x124k' -> " + repr(b"v" * 64 + b"...")
    assert lines[2] == "  del ttl b'ttlkey'"
    assert lines[3] == "  delrange data b'a' -> b'b'"
