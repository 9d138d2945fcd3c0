"""DUMP payloads without a server: round trips, the footer checks, malformed input."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pikadb.core.errors import CommandError
from pikadb.rdb import (
    BAD_FORMAT,
    BAD_PAYLOAD,
    DumpPayloadError,
    RdbValue,
    StreamConsumer,
    StreamGroup,
    StreamPendingEntry,
    StreamValue,
    dump_payload,
    intset,
    listpack,
    load_payload,
    ziplist,
    zipmap,
)
from pikadb.rdb.crc64 import crc64
from pikadb.rdb.encoding import save_len, save_string
from pikadb.rdb.payload import dump_object

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(body: bytes, version: int = 10) -> bytes:
    """Wrap an object (type byte + body) in a DUMP footer with a correct CRC."""
    data = body + struct.pack("<H", version)
    return data + struct.pack("<Q", crc64(data))


def int_str(lo: int = -(2**63), hi: int = 2**63 - 1) -> st.SearchStrategy[bytes]:
    return st.integers(lo, hi).map(lambda i: str(i).encode())


member = st.binary(max_size=20) | int_str() | st.binary(min_size=60, max_size=70)
scores = st.floats(allow_nan=False) | st.integers(-(2**53), 2**53).map(float)


@st.composite
def streams(draw: st.DrawFn) -> StreamValue:
    n = draw(st.integers(0, 12))
    ids: list[tuple[int, int]] = []
    ms = draw(st.integers(0, 2**40))
    for _ in range(n):
        if draw(st.booleans()):
            ms += draw(st.integers(1, 2**20))
            seq = draw(st.integers(0, 3))
        else:
            seq = ids[-1][1] + 1 if ids else 0
        ids.append((ms, seq))
    fields = st.lists(st.tuples(member, member), min_size=1, max_size=4)
    shared = draw(fields)
    entries = [(m, s, shared if draw(st.booleans()) else draw(fields)) for m, s in ids]
    last_id = ids[-1] if ids else (draw(st.integers(0, 9)), 0)
    groups = []
    for name in draw(st.lists(member, unique=True, max_size=3)):
        consumers = [
            StreamConsumer(c, draw(st.integers(0, 2**45)))
            for c in draw(st.lists(member, unique=True, max_size=3))
        ]
        pending = []
        if consumers:
            for sid in draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []:
                owner = draw(st.sampled_from(consumers)).name
                pending.append(StreamPendingEntry(sid, owner, draw(st.integers(0, 2**45)), 1))
        groups.append(
            StreamGroup(
                name,
                last_id,
                draw(st.integers(-1, n)),
                sorted(pending, key=lambda p: p.id),
                sorted(consumers, key=lambda c: c.name),
            )
        )
    return StreamValue(
        entries,
        last_id,
        ids[0] if ids else (0, 0),
        (0, 0),
        n + draw(st.integers(0, 5)),
        sorted(groups, key=lambda g: g.name),
    )


values = st.one_of(
    st.builds(RdbValue, st.just("string"), member | st.binary(max_size=400)),
    st.builds(RdbValue, st.just("list"), st.lists(member, min_size=1, max_size=40)),
    st.builds(RdbValue, st.just("set"), st.lists(member, min_size=1, max_size=40, unique=True)),
    st.builds(
        RdbValue,
        st.just("set"),
        st.lists(int_str(-(2**40), 2**40), min_size=1, max_size=600, unique=True),
    ),
    st.builds(
        RdbValue,
        st.just("zset"),
        st.lists(st.tuples(member, scores), min_size=1, max_size=150, unique_by=lambda p: p[0]),
    ),
    st.builds(
        RdbValue,
        st.just("hash"),
        st.lists(st.tuples(member, member), min_size=1, max_size=150, unique_by=lambda p: p[0]),
    ),
    st.builds(RdbValue, st.just("stream"), streams()),
)


def canon(v: RdbValue) -> RdbValue:
    """Sets have no order; zsets come back in (score, member) order."""
    if v.kind == "set":
        return RdbValue("set", sorted(v.value))  # type: ignore[call-overload]
    if v.kind == "zset":
        return RdbValue("zset", sorted(v.value, key=lambda p: (p[1], p[0])))  # type: ignore[call-overload]
    return v


@SETTINGS
@given(values)
def test_round_trip(v: RdbValue) -> None:
    payload = dump_payload(v)
    loaded = load_payload(payload)
    assert canon(loaded) == canon(v)
    if v.kind == "zset":
        assert loaded == canon(v)


def test_encodings_chosen_like_redis() -> None:
    def rdb_type(v: RdbValue) -> int:
        return dump_object(v)[0]

    small_hash = [(b"f%d" % i, b"v") for i in range(128)]
    assert rdb_type(RdbValue("hash", small_hash)) == 16
    assert rdb_type(RdbValue("hash", [*small_hash, (b"x", b"y")])) == 4
    assert rdb_type(RdbValue("hash", [(b"f", b"v" * 65)])) == 4
    small_zset = [(b"m%d" % i, float(i)) for i in range(128)]
    assert rdb_type(RdbValue("zset", small_zset)) == 17
    assert rdb_type(RdbValue("zset", [*small_zset, (b"x", 1.0)])) == 5
    assert rdb_type(RdbValue("zset", [(b"m" * 65, 1.0)])) == 5
    assert rdb_type(RdbValue("set", [b"%d" % i for i in range(512)])) == 11
    assert rdb_type(RdbValue("set", [b"%d" % i for i in range(513)])) == 2
    assert rdb_type(RdbValue("set", [b"1", b"a"])) == 2
    assert rdb_type(RdbValue("set", [b"01"])) == 2
    assert rdb_type(RdbValue("list", [b"a"])) == 18
    assert rdb_type(RdbValue("string", b"x")) == 0
    assert rdb_type(RdbValue("stream", StreamValue([]))) == 19


def test_string_payload_bytes_match_redis() -> None:
    # `SET k hello` / `SET k 12345` then DUMP in redis-server 7.0.15
    assert dump_payload(RdbValue("string", b"hello")) == b"\x00\x05hello\n\x00cr\xdfve4 \n"
    assert (
        dump_payload(RdbValue("string", b"12345"))
        == b"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\x08\xb9"
    )


def test_long_list_spans_several_quicklist_nodes() -> None:
    items = [b"%06d" % i for i in range(5000)] + [b"x" * 9000]
    body = dump_object(RdbValue("list", items))
    assert body[0] == 18 and body[1] > 3  # node count (a one-byte length here)
    assert load_payload(frame(body)).value == items


@pytest.mark.parametrize(
    "bad",
    [
        RdbValue("list", []),
        RdbValue("set", [b"a", b"a"]),
        RdbValue("hash", [(b"f", b"1"), (b"f", b"2")]),
        RdbValue("zset", [(b"m", math.nan)]),
        RdbValue("zset", [(b"m", 1.0), (b"m", 2.0)]),
        RdbValue("string", 5),
        RdbValue("list", [b"a", "b"]),
        RdbValue("nope", b""),
        RdbValue("stream", [1]),
    ],
)
def test_dump_rejects_what_redis_cannot_hold(bad: RdbValue) -> None:
    with pytest.raises(ValueError):
        dump_payload(bad)


# --- the footer ----------------------------------------------------------------------------

GOOD = dump_payload(RdbValue("hash", [(b"field", b"value"), (b"n", b"12")]))


def expect(payload: bytes, message: str) -> None:
    with pytest.raises(DumpPayloadError) as info:
        load_payload(payload)
    assert info.value.message == message
    assert str(info.value) == message
    assert isinstance(info.value, CommandError)


def test_error_texts() -> None:
    assert BAD_PAYLOAD == "ERR DUMP payload version or checksum are wrong"
    assert BAD_FORMAT == "ERR Bad data format"


@pytest.mark.parametrize("index", range(len(GOOD)))
def test_any_flipped_byte_is_caught_by_the_footer(index: int) -> None:
    corrupted = bytearray(GOOD)
    corrupted[index] ^= 0x41
    expect(bytes(corrupted), BAD_PAYLOAD)


@pytest.mark.parametrize("cut", [1, 5, 9, 10, 11, len(GOOD) - 1, len(GOOD)])
def test_truncated_payload(cut: int) -> None:
    expect(GOOD[:-cut], BAD_PAYLOAD)


def test_versions() -> None:
    body = dump_object(RdbValue("string", b"v"))
    for version in range(11):
        assert load_payload(frame(body, version)).value == b"v"
    for version in (11, 12, 0x0A00, 0xFFFF):
        expect(frame(body, version), BAD_PAYLOAD)


def test_zero_crc_is_not_a_wildcard() -> None:
    expect(GOOD[:-8] + b"\x00" * 8, BAD_PAYLOAD)  # Redis 7.0 checks it too


def test_trailing_bytes_are_ignored_like_redis() -> None:
    body = dump_object(RdbValue("string", b"hello"))
    assert load_payload(frame(body + b"garbage")).value == b"hello"


@pytest.mark.parametrize(
    "body",
    [
        b"",  # no type byte
        b"\x00",  # string without its length
        b"\x00\x05hell",  # truncated string
        b"\x00\xc3\x05\x0a\x00",  # truncated LZF
        b"\x00\xc4",  # unknown string encoding
        b"\x06\x00",  # module
        b"\x07\x00",  # module 2
        b"\x08\x00",  # unused type
        b"\x14\x00",  # type 20 (7.2's SET_LISTPACK and later)
        b"\xff",
        b"\x01\x00",  # empty list
        b"\x01\x02\x01a",  # list shorter than announced
        b"\x02\x02\x01a\x01a",  # duplicate set members
        b"\x03\x01\x01m\xfd",  # ZSET with a NaN score
        b"\x03\x01\x01m\x03abc",  # ZSET with a non-number score
        b"\x04\x02\x01f\x01a\x01f\x01b",  # duplicate hash fields
        b"\x05\x00",  # empty ZSET_2
        b"\x0e\x00",  # quicklist without nodes
        b"\x12\x01\x03\x01a",  # quicklist 2 with an unknown container
        b"\x12\x01\x02\x00",  # quicklist 2 with an empty node
        b"\x12\x01\x02\x03abc",  # quicklist 2 node that is not a listpack
        b"\x13\x00",  # stream cut short
        b"\x0b" + save_string(b"\x02\x00\x00\x00\x00\x00\x00\x00"),  # empty intset
    ],
)
def test_bad_data_format(body: bytes) -> None:
    expect(frame(body), BAD_FORMAT)


def test_packed_collections_are_checked() -> None:
    lp = listpack.encode
    expect(frame(b"\x10" + save_string(lp([b"f"]))), BAD_FORMAT)  # odd hash listpack
    expect(frame(b"\x10" + save_string(lp([]))), BAD_FORMAT)  # empty hash
    expect(frame(b"\x10" + save_string(lp([b"f", b"1", b"f", b"2"]))), BAD_FORMAT)  # dup field
    expect(frame(b"\x11" + save_string(lp([b"m", b"nan"]))), BAD_FORMAT)  # NaN score
    expect(frame(b"\x11" + save_string(lp([b"m", b"x"]))), BAD_FORMAT)  # bad score
    expect(frame(b"\x0d" + save_string(ziplist.encode([b"a", b"1", b"a", b"2"]))), BAD_FORMAT)
    expect(frame(b"\x0a" + save_string(ziplist.encode([]))), BAD_FORMAT)  # empty list
    expect(frame(b"\x0c" + save_string(ziplist.encode([b"m"]))), BAD_FORMAT)
    expect(frame(b"\x09" + save_string(zipmap.encode([(b"a", b"1"), (b"a", b"2")]))), BAD_FORMAT)
    # a quicklist whose only node is an empty ziplist: empty list
    expect(frame(b"\x0e\x01" + save_string(ziplist.encode([]))), BAD_FORMAT)


def test_old_encodings_decode() -> None:
    cases: list[tuple[bytes, RdbValue]] = [
        (b"\x01\x03\x01x\xc0\x05\x02yz", RdbValue("list", [b"x", b"5", b"yz"])),
        (b"\x02\x02\xc0\x07\x01q", RdbValue("set", [b"7", b"q"])),
        (
            b"\x03\x02\x01a\x031.5\x01b\xfe",
            RdbValue("zset", [(b"a", 1.5), (b"b", math.inf)]),
        ),
        (
            b"\x09" + save_string(zipmap.encode([(b"k", b"v"), (b"n", b"1")], free=3)),
            RdbValue("hash", [(b"k", b"v"), (b"n", b"1")]),
        ),
        (
            b"\x0a" + save_string(ziplist.encode([b"a", b"-7", b"x" * 100])),
            RdbValue("list", [b"a", b"-7", b"x" * 100]),
        ),
        (
            b"\x0b" + save_string(intset.encode([5, -3, 70000])),
            RdbValue("set", [b"-3", b"5", b"70000"]),
        ),
        (
            b"\x0c" + save_string(ziplist.encode([b"b", b"2", b"a", b"2.5"])),
            RdbValue("zset", [(b"b", 2.0), (b"a", 2.5)]),
        ),
        (
            b"\x0d" + save_string(ziplist.encode([b"f", b"v", b"g", b"10"])),
            RdbValue("hash", [(b"f", b"v"), (b"g", b"10")]),
        ),
        (
            b"\x0e\x03"
            + save_string(ziplist.encode([b"a", b"1"]))
            + save_string(ziplist.encode([]))
            + save_string(ziplist.encode([b"b"])),
            RdbValue("list", [b"a", b"1", b"b"]),
        ),
        (
            b"\x12\x02\x01"
            + save_string(b"plain node")
            + b"\x02"
            + save_string(listpack.encode([b"x"])),
            RdbValue("list", [b"plain node", b"x"]),
        ),
    ]
    for body, expected in cases:
        assert load_payload(frame(body)) == expected, body


# --- robustness: whatever the bytes, only DumpPayloadError comes out -------------------------

SEEDS = [
    dump_object(RdbValue("string", b"a" * 50)),
    dump_object(RdbValue("list", [b"a", b"12", b"x" * 70])),
    dump_object(RdbValue("set", [b"1", b"2", b"300"])),
    dump_object(RdbValue("set", [b"a", b"b"])),
    dump_object(RdbValue("zset", [(b"a", 1.5), (b"b", 2.0)])),
    dump_object(RdbValue("zset", [(b"a" * 70, 1.5)])),
    dump_object(RdbValue("hash", [(b"f", b"v"), (b"g", b"1")])),
    dump_object(RdbValue("hash", [(b"f", b"v" * 70)])),
    b"\x0a" + save_string(ziplist.encode([b"a", b"-7", b"x" * 100])),
    b"\x0c" + save_string(ziplist.encode([b"b", b"2", b"a", b"2.5"])),
    b"\x09" + save_string(zipmap.encode([(b"k", b"v")], free=2)),
    b"\x0e\x01" + save_string(ziplist.encode([b"a", b"1"])),
    dump_object(
        RdbValue(
            "stream",
            StreamValue(
                [(1, 0, [(b"f", b"v")]), (2, 0, [(b"g", b"1"), (b"h", b"2")])],
                (2, 0),
                (1, 0),
                (0, 0),
                2,
                [
                    StreamGroup(
                        b"g",
                        (1, 0),
                        1,
                        [StreamPendingEntry((1, 0), b"c", 5, 1)],
                        [StreamConsumer(b"c", 5)],
                    )
                ],
            ),
        )
    ),
    b"\x01\x02" + save_len(3) + b"abc" + save_string(b"z" * 40),
]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 10**6),
    st.booleans(),
)
def test_mutated_payloads_never_crash(
    seed: bytes, edits: list[tuple[int, int]], cut: int, truncate: bool
) -> None:
    body = bytearray(seed)
    for pos, byte in edits:
        body[pos % len(body)] = byte
    if truncate:
        body = body[: cut % len(body)]
    try:
        result = load_payload(frame(bytes(body)))
    except DumpPayloadError as e:
        assert e.message == BAD_FORMAT
    else:
        assert isinstance(result, RdbValue)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_random_bodies_never_crash(body: bytes) -> None:
    try:
        load_payload(frame(body))
    except DumpPayloadError as e:
        assert e.message == BAD_FORMAT


def test_huge_announced_lengths_do_not_allocate() -> None:
    expect(frame(b"\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff"), BAD_FORMAT)
    expect(frame(b"\x00\xc3\x02\x81\x00\x00\x10\x00\x00\x00\x00\x00ab"), BAD_FORMAT)
    expect(frame(b"\x01\x81\x7f\xff\xff\xff\xff\xff\xff\xff\x00"), BAD_FORMAT)
