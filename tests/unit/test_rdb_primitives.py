"""The building blocks of DUMP payloads: CRC64, LZF, RDB lengths/strings and the blob formats."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pikadb.rdb import intset, listpack, lzf, ziplist, zipmap
from pikadb.rdb.crc64 import crc64
from pikadb.rdb.encoding import (
    Reader,
    format_double,
    parse_double,
    save_len,
    save_string,
)
from pikadb.rdb.errors import RdbFormatError

FAST = settings(max_examples=150, deadline=None)


# --- CRC64 ---------------------------------------------------------------------------------


def test_crc64_check_value() -> None:
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_crc64_known_values() -> None:
    assert crc64(b"") == 0
    # The footer of `SET k hello` + `DUMP k` in redis-server 7.0.15.
    assert crc64(b"\x00\x05hello\x0a\x00") == int.from_bytes(b"cr\xdfve4 \n", "little")


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_crc64_is_incremental(a: bytes, b: bytes) -> None:
    assert crc64(b, crc64(a)) == crc64(a + b)


# --- LZF -----------------------------------------------------------------------------------


@FAST
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.text(alphabet="ab ", max_size=3000).map(str.encode),
        st.builds(lambda s, n: s * n, st.binary(min_size=1, max_size=9), st.integers(1, 400)),
    )
)
def test_lzf_round_trip(data: bytes) -> None:
    packed = lzf.compress(data)
    assert packed is not None
    assert lzf.decompress(packed, len(data)) == data


def test_lzf_compresses_repetitive_data() -> None:
    data = b"abcdefgh" * 5000
    packed = lzf.compress(data)
    assert packed is not None and len(packed) < len(data) // 20
    assert lzf.decompress(packed, len(data)) == data


def test_lzf_respects_max_out() -> None:
    data = bytes(range(256)) * 2  # compressible only by its repetition
    assert lzf.compress(bytes(range(200)), 196) is None  # incompressible
    packed = lzf.compress(data, len(data) - 4)
    assert packed is not None and lzf.decompress(packed, len(data)) == data


def test_lzf_known_stream() -> None:
    # literal "ab" (ctrl 1), then a back-reference of length 2+4=6 at offset 1 -> "ababab.."
    stream = bytes([1, ord("a"), ord("b"), (4 << 5) | 0, 1])
    assert lzf.decompress(stream, 8) == b"abababab"
    # long back-reference: 'x' then ref len 7+3+2=12, offset 0 (run of x)
    assert lzf.decompress(bytes([0, ord("x"), 7 << 5, 3, 0]), 13) == b"x" * 13


@pytest.mark.parametrize(
    ("stream", "size"),
    [
        (b"\x05abc", 6),  # literal run past the end
        (b"\x00a\x20", 3),  # truncated back-reference
        (b"\x00a\x20\x05", 3),  # back-reference before the start
        (b"\x02abc", 2),  # longer than announced
        (b"\x02abc", 4),  # shorter than announced
        (b"", 1),
    ],
)
def test_lzf_rejects_bad_streams(stream: bytes, size: int) -> None:
    with pytest.raises(RdbFormatError):
        lzf.decompress(stream, size)


# --- RDB lengths and strings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "wire"),
    [
        (0, b"\x00"),
        (63, b"\x3f"),
        (64, b"\x40\x40"),
        (16383, b"\x7f\xff"),
        (16384, b"\x80\x00\x00\x40\x00"),
        (2**32 - 1, b"\x80\xff\xff\xff\xff"),
        (2**32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
    ],
)
def test_length_encoding(n: int, wire: bytes) -> None:
    assert save_len(n) == wire
    assert Reader(wire).length() == n


@pytest.mark.parametrize(
    ("s", "wire"),
    [
        (b"", b"\x00"),
        (b"hello", b"\x05hello"),
        (b"0", b"\xc0\x00"),
        (b"-128", b"\xc0\x80"),
        (b"127", b"\xc0\x7f"),
        (b"128", b"\xc1\x80\x00"),
        (b"-32769", b"\xc2\xff\x7f\xff\xff"),
        (b"2147483647", b"\xc2\xff\xff\xff\x7f"),
        (b"2147483648", b"\x0a2147483648"),  # too big for INT32: raw
        (b"012", b"\x03012"),  # not canonical: raw
        (b"+1", b"\x02+1"),
        (b"-0", b"\x02-0"),
    ],
)
def test_string_encoding(s: bytes, wire: bytes) -> None:
    assert save_string(s) == wire
    assert Reader(wire).string() == s


@FAST
@given(st.binary(max_size=300) | st.integers(-(2**63), 2**63 - 1).map(lambda i: str(i).encode()))
def test_string_round_trip(s: bytes) -> None:
    wire = save_string(s)
    r = Reader(wire)
    assert r.string() == s
    assert r.pos == len(wire)


def test_long_strings_are_lzf_compressed() -> None:
    s = b"z" * 100
    wire = save_string(s)
    assert wire[0] == 0xC3 and len(wire) < 20
    assert Reader(wire).string() == s
    assert save_string(s, compress=False) == b"\x40\x64" + s


@pytest.mark.parametrize("wire", [b"", b"\x05abc", b"\xc1\x01", b"\xc4", b"\x82", b"\xc3\x05\x0a"])
def test_bad_strings(wire: bytes) -> None:
    with pytest.raises(RdbFormatError):
        Reader(wire).string()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, b"1"),
        (-3.0, b"-3"),
        (0.0, b"0"),
        (-0.0, b"-0"),
        (1.5, b"1.5"),
        (0.1, b"0.10000000000000001"),
        (math.inf, b"inf"),
        (-math.inf, b"-inf"),
        (1e300, b"1.0000000000000001e+300"),
    ],
)
def test_score_text(value: float, text: bytes) -> None:
    assert format_double(value) == text
    assert parse_double(text) == value


@given(st.floats(allow_nan=False))
def test_score_text_round_trip(value: float) -> None:
    back = parse_double(format_double(value))
    assert back == value and math.copysign(1, back) == math.copysign(1, value)


@pytest.mark.parametrize("text", [b"", b"1_000", b"abc", b"1.5x", b"0x10"])
def test_bad_score_text(text: bytes) -> None:
    with pytest.raises(RdbFormatError):
        parse_double(text)


# --- listpack ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "wire"),
    [
        (b"7", b"\x07\x01"),
        (b"127", b"\x7f\x01"),
        (b"128", b"\xc0\x80\x02"),
        (b"-1", b"\xdf\xff\x02"),
        (b"-4096", b"\xd0\x00\x02"),
        (b"4096", b"\xf1\x00\x10\x03"),
        (b"-32769", b"\xf2\xff\x7f\xff\x04"),
        (b"8388608", b"\xf3\x00\x00\x80\x00\x05"),
        (b"2147483648", b"\xf4\x00\x00\x00\x80\x00\x00\x00\x00\x09"),
        (b"ab", b"\x82ab\x03"),
        (b"007", b"\x83007\x04"),
        (b"x" * 64, b"\xe0\x40" + b"x" * 64 + b"\x42"),
        (b"y" * 200, b"\xe0\xc8" + b"y" * 200 + b"\x01\xca"),
        (b"z" * 5000, b"\xf0\x88\x13\x00\x00" + b"z" * 5000 + b"\x27\x8d"),
    ],
)
def test_listpack_entry_encoding(item: bytes, wire: bytes) -> None:
    assert listpack.encode_entry(item) == wire
    blob = listpack.encode([item])
    assert blob == struct.pack("<IH", len(blob), 1) + wire + b"\xff"
    assert listpack.decode(blob) == [item]


@pytest.mark.parametrize("size", [127, 128, 16382, 16383, 2097150, 2097151, 268435455])
def test_listpack_backlen_boundaries(size: int) -> None:
    bl = listpack.encode_backlen(size)
    # read it backwards as lpDecodeBacklen does
    val, shift, i = 0, 0, len(bl) - 1
    while True:
        val |= (bl[i] & 127) << shift
        if not bl[i] & 128:
            break
        shift, i = shift + 7, i - 1
    assert val == size and i == 0


@FAST
@given(
    st.lists(
        st.binary(max_size=80)
        | st.integers(-(2**63), 2**63 - 1).map(lambda i: str(i).encode())
        | st.integers(4090, 4100).map(lambda n: b"q" * n),
        max_size=30,
    )
)
def test_listpack_round_trip(items: list[bytes]) -> None:
    blob = listpack.encode(items)
    assert len(blob) == listpack.encoded_size(items)
    assert listpack.decode(blob) == items


def test_listpack_unknown_count() -> None:
    blob = listpack.encode([b"a"] * 70000)
    assert struct.unpack_from("<H", blob, 4)[0] == 65535
    assert len(listpack.decode(blob)) == 70000


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x07\x00\x00\x00\x00\x00\x00",  # no EOF
        b"\x08\x00\x00\x00\x00\x00\xff",  # wrong total
        b"\x07\x00\x00\x00\x01\x00\xff",  # count says 1
        b"\x09\x00\x00\x00\x01\x00\x07\x02\xff",  # bad backlen
        b"\x0a\x00\x00\x00\x01\x00\x85ab\xff",  # string past the end
        b"\x09\x00\x00\x00\x01\x00\xf5\x01\xff",  # unknown encoding
    ],
)
def test_listpack_rejects(blob: bytes) -> None:
    with pytest.raises(RdbFormatError):
        listpack.decode(blob)


# --- ziplist -------------------------------------------------------------------------------

# Built by hand from ziplist.c's description: "a", 1 (immediate), 300 (int16), -1 (int8)
HAND_ZIPLIST = bytes.fromhex("17000000 13000000 0400 000161 03f2 02c02c01 04feff ff")


def test_ziplist_hand_built() -> None:
    assert ziplist.decode(HAND_ZIPLIST) == [b"a", b"1", b"300", b"-1"]
    assert ziplist.encode([b"a", b"1", b"300", b"-1"]) == HAND_ZIPLIST


@FAST
@given(
    st.lists(
        st.binary(max_size=300)
        | st.integers(-(2**63), 2**63 - 1).map(lambda i: str(i).encode())
        | st.integers(16380, 16390).map(lambda n: b"q" * n),
        max_size=20,
    )
)
def test_ziplist_round_trip(items: list[bytes]) -> None:
    assert ziplist.decode(ziplist.encode(items)) == items


@pytest.mark.parametrize(
    "blob",
    [
        HAND_ZIPLIST[:-1],  # no end marker
        HAND_ZIPLIST[:4] + b"\x12" + HAND_ZIPLIST[5:],  # tail offset wrong
        HAND_ZIPLIST[:8] + b"\x05" + HAND_ZIPLIST[9:],  # count wrong
        HAND_ZIPLIST[:13] + b"\x04" + HAND_ZIPLIST[14:],  # prevlen wrong
        HAND_ZIPLIST[:14] + b"\xc5" + HAND_ZIPLIST[15:],  # bad encoding
        b"\x0b\x00\x00\x00\x0a\x00\x00\x00\x00\x00\xff"[:-2] + b"\xff",
    ],
)
def test_ziplist_rejects(blob: bytes) -> None:
    with pytest.raises(RdbFormatError):
        ziplist.decode(blob)


# --- intset / zipmap -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "width"),
    [([1, 2, 3], 2), ([-(2**15), 2**15 - 1], 2), ([2**15], 4), ([-(2**31) - 1], 8)],
)
def test_intset_widths(values: list[int], width: int) -> None:
    blob = intset.encode(values)
    assert struct.unpack_from("<II", blob) == (width, len(values))
    assert intset.decode(blob) == sorted(values)


@given(st.sets(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=50))
def test_intset_round_trip(values: set[int]) -> None:
    assert intset.decode(intset.encode(values)) == sorted(values)


@pytest.mark.parametrize(
    "blob",
    [
        b"\x02\x00\x00\x00\x00\x00\x00\x00",  # empty
        b"\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00",  # bad width
        b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00",  # short
        b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00",  # not ascending
        b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x01\x00",  # duplicate
    ],
)
def test_intset_rejects(blob: bytes) -> None:
    with pytest.raises(RdbFormatError):
        intset.decode(blob)


# Hand-built: {"f1": "v1", "k": "val"} with 2 free bytes after "val".
HAND_ZIPMAP = b"\x02" + b"\x02f1\x02\x00v1" + b"\x01k\x03\x02val\x00\x00" + b"\xff"


def test_zipmap_hand_built() -> None:
    assert zipmap.decode(HAND_ZIPMAP) == [(b"f1", b"v1"), (b"k", b"val")]
    assert zipmap.encode([(b"f1", b"v1"), (b"k", b"val")], free=0) == (
        b"\x02\x02f1\x02\x00v1\x01k\x03\x00val\xff"
    )


@given(
    st.lists(st.tuples(st.binary(max_size=300), st.binary(max_size=300)), min_size=1, max_size=9),
    st.integers(0, 5),
)
def test_zipmap_round_trip(pairs: list[tuple[bytes, bytes]], free: int) -> None:
    assert zipmap.decode(zipmap.encode(pairs, free=free)) == pairs


@pytest.mark.parametrize(
    "blob",
    [b"\x00\xff", b"\x01\x01a", b"\x02\x01a\x01\x00b\xff", b"\x01\x01a\x05\x00b\xff", b"\xff"],
)
def test_zipmap_rejects(blob: bytes) -> None:
    with pytest.raises(RdbFormatError):
        zipmap.decode(blob)
