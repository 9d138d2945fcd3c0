"""Ziplist, the compact sequence Redis used before 7.0 (``ziplist.c``).

Redis 7.0 no longer writes ziplists but still loads them (RDB types 10, 12, 13 and the
nodes of type 14 quicklists). Layout (integers little-endian unless noted)::

    +---------+--------+--------+---------+-----+---------+------+
    | zlbytes | zltail | zllen  | entry 1 | ... | entry N | 0xFF |
    | uint32  | uint32 | uint16 |         |     |         | end  |
    +---------+--------+--------+---------+-----+---------+------+

    zltail   offset of the last entry (10, pointing at the end marker's place, when empty)
    zllen    entry count, 65535 when it does not fit (count by walking)

Each entry is ``<prevlen> <encoding> <data>``:

    prevlen     1 byte (0..253): size of the previous entry (0 for the first), or
                0xFE + uint32: the same for sizes >= 254

    encoding                     data                meaning
    00LLLLLL                     L bytes             string, length 0..63
    01LLLLLL LLLLLLLL            len bytes           string, 14-bit length, big-endian
    10000000 + uint32 BIG-endian len bytes           string, 32-bit length
    11000000                     2 bytes             int16
    11010000                     4 bytes             int32
    11100000                     8 bytes             int64
    11110000                     3 bytes             int24
    11111110                     1 byte              int8
    1111xxxx (0001..1101)        -                   immediate int xxxx - 1, i.e. 0..12
    11111111                     -                   end of the ziplist (not an entry)
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from pikadb.rdb.errors import corrupt
from pikadb.rdb.listpack import string_to_int64

HEADER_SIZE = 10
END = 0xFF
_INT_WIDTH = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}


def _decode_entry(zl: bytes, p: int, end: int) -> tuple[int, bytes | int, int]:
    """Decode the entry at ``p``: (its prevlen field, value, offset just past it)."""
    if zl[p] < 0xFE:
        prevlen = zl[p]
        p += 1
    else:
        if p + 5 > end:
            corrupt("ziplist prevlen past the end")
        prevlen = struct.unpack_from("<I", zl, p + 1)[0]
        p += 5
    if p >= end:
        corrupt("ziplist entry header past the end")
    enc = zl[p]
    kind = enc >> 6
    if kind == 0:
        n = enc & 0x3F
        p += 1
    elif kind == 1:
        if p + 2 > end:
            corrupt("ziplist entry header past the end")
        n = ((enc & 0x3F) << 8) | zl[p + 1]
        p += 2
    elif kind == 2:
        if p + 5 > end:
            corrupt("ziplist entry header past the end")
        n = struct.unpack_from(">I", zl, p + 1)[0]
        p += 5
    else:
        p += 1
        if 0xF1 <= enc <= 0xFD:
            return prevlen, (enc & 0x0F) - 1, p
        width = _INT_WIDTH.get(enc)
        if width is None:
            corrupt(f"bad ziplist encoding {enc:#x}")
        if p + width > end:
            corrupt("ziplist int past the end")
        return prevlen, int.from_bytes(zl[p : p + width], "little", signed=True), p + width
    if p + n > end:
        corrupt("ziplist string past the end")
    return prevlen, zl[p : p + n], p + n


def decode_items(blob: bytes) -> list[bytes | int]:
    """Every entry of a ziplist (ints as ``int``), validated like ``ziplistValidateIntegrity``
    in deep mode: sizes, end marker, every prevlen, the tail offset and the count."""
    zl = bytes(blob)
    size = len(zl)
    if size < HEADER_SIZE + 1:
        corrupt("ziplist too short")
    total, tail, count = struct.unpack_from("<IIH", zl, 0)
    if total != size or zl[-1] != END or tail > size - 1:
        corrupt("bad ziplist header")
    end = size - 1
    items: list[bytes | int] = []
    p = HEADER_SIZE
    prev_start = -1
    prev_size = 0
    while p < end and zl[p] != END:
        prevlen, value, q = _decode_entry(zl, p, end)
        if prevlen != prev_size:
            corrupt("ziplist prevlen mismatch")
        prev_start, prev_size = p, q - p
        items.append(value)
        p = q
    if p != end:
        corrupt("ziplist entries do not reach the end marker")
    if prev_start >= 0 and prev_start != tail:
        corrupt("ziplist tail offset mismatch")
    if count != 0xFFFF and count != len(items):
        corrupt("ziplist count mismatch")
    return items


def decode(blob: bytes) -> list[bytes]:
    """Every entry of a ziplist as bytes (integers in decimal)."""
    return [str(v).encode() if isinstance(v, int) else v for v in decode_items(blob)]


def _encode_payload(item: bytes) -> bytes:
    """Encoding header and data for one entry, choosing integers as ``zipTryEncoding`` does."""
    v = string_to_int64(item) if 0 < len(item) < 32 else None
    if v is not None:
        if 0 <= v <= 12:
            return bytes((0xF1 + v,))
        if -128 <= v <= 127:
            return b"\xfe" + struct.pack("<b", v)
        if -32768 <= v <= 32767:
            return b"\xc0" + struct.pack("<h", v)
        if -8388608 <= v <= 8388607:
            return b"\xf0" + (v & 0xFFFFFF).to_bytes(3, "little")
        if -2147483648 <= v <= 2147483647:
            return b"\xd0" + struct.pack("<i", v)
        return b"\xe0" + struct.pack("<q", v)
    n = len(item)
    if n < 64:
        return bytes((n,)) + item
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF)) + item
    return b"\x80" + struct.pack(">I", n) + item


def encode(items: Iterable[bytes]) -> bytes:
    """Build a ziplist of ``items`` (Redis 7 never writes these; kept for tests and tools)."""
    entries: list[bytes] = []
    prev = 0
    tail = HEADER_SIZE
    offset = HEADER_SIZE
    for item in items:
        head = bytes((prev,)) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        entry = head + _encode_payload(bytes(item))
        tail = offset
        offset += len(entry)
        prev = len(entry)
        entries.append(entry)
    total = offset + 1
    count = min(len(entries), 0xFFFF)
    return struct.pack("<IIH", total, tail, count) + b"".join(entries) + b"\xff"
