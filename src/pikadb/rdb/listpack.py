"""Listpack, Redis 7's compact sequence of strings and integers (``listpack.c``).

Layout (all multi-byte integers little-endian unless noted)::

    +-------------+-------------+---------+---------+-----+---------+------+
    | total-bytes | num-entries | entry 1 | entry 2 | ... | entry N | 0xFF |
    |   uint32    |   uint16    |         |         |     |         | EOF  |
    +-------------+-------------+---------+---------+-----+---------+------+

    num-entries is 65535 when the count does not fit ("unknown": count by walking).

Each entry is ``<encoding+data> <backlen>``:

    first byte      data that follows                  meaning
    0xxxxxxx        -                                  uint 0..127 (7 bits)
    10LLLLLL        L bytes                            string, length 0..63
    110vvvvv        1 byte                             int, 13-bit two's complement
                                                       (-4096..4095; v = high 5 bits)
    1110LLLL        1 byte, then L bytes               string, length 12 bits (L high)
    11110000        uint32 len, then len bytes         string, length 32 bits
    11110001        2 bytes                            int16
    11110010        3 bytes                            int24
    11110011        4 bytes                            int32
    11110100        8 bytes                            int64
    11111111        -                                  EOF (end of the listpack)

``backlen`` is the size of ``<encoding+data>`` in 1..5 bytes, written so it can be read
backwards from the end of the entry: 7 bits per byte, most significant group first; every
byte but the first has its top bit set::

    size <= 127        [size]
    size < 16383       [size>>7] [size&127 | 128]
    size < 2097151     [size>>14] [(size>>7)&127 | 128] [size&127 | 128]     (and so on)

When Redis stores a string that is a canonical decimal int64 (``"0"``, ``"-12"``, not
``"012"`` or ``"+1"``) it uses the smallest integer encoding instead; reading it back yields
the same decimal text, so strings survive exactly.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from pikadb.rdb.errors import corrupt

HEADER_SIZE = 6
EOF = 0xFF
NUMELE_UNKNOWN = 65535
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def string_to_int64(s: bytes) -> int | None:
    """The integer a string is the canonical decimal form of, as ``lpStringToInt64`` says.

    ``None`` unless ``s`` is ``0`` or ``-?[1-9][0-9]*`` within the int64 range.
    """
    n = len(s)
    if n == 0 or n > 20:
        return None
    if s == b"0":
        return 0
    digits = s[1:] if s[0] == 0x2D else s  # '-'
    if not digits or not (0x31 <= digits[0] <= 0x39) or not digits.isdigit():
        return None
    v = int(s)
    if v < _INT64_MIN or v > _INT64_MAX:
        return None
    return v


def _encode_int(v: int) -> bytes:
    if 0 <= v <= 127:
        return bytes((v,))
    if -4096 <= v <= 4095:
        u = v & 0x1FFF
        return bytes((0xC0 | (u >> 8), u & 0xFF))
    if -32768 <= v <= 32767:
        return b"\xf1" + struct.pack("<h", v)
    if -8388608 <= v <= 8388607:
        return b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little")
    if -2147483648 <= v <= 2147483647:
        return b"\xf3" + struct.pack("<i", v)
    return b"\xf4" + struct.pack("<q", v)


def _encode_str(s: bytes) -> bytes:
    n = len(s)
    if n < 64:
        return bytes((0x80 | n,)) + s
    if n < 4096:
        return bytes((0xE0 | (n >> 8), n & 0xFF)) + s
    return b"\xf0" + struct.pack("<I", n) + s


def encode_backlen(size: int) -> bytes:
    """The reverse-readable length field that closes an entry of ``size`` bytes."""
    if size <= 127:
        return bytes((size,))
    if size < 16383:
        return bytes((size >> 7, (size & 127) | 128))
    if size < 2097151:
        return bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435455:
        return bytes(
            (size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128, (size & 127) | 128)
        )
    return bytes(
        (
            (size >> 28) & 0xFF,
            ((size >> 21) & 127) | 128,
            ((size >> 14) & 127) | 128,
            ((size >> 7) & 127) | 128,
            (size & 127) | 128,
        )
    )


def encode_entry(item: bytes | int) -> bytes:
    """One entry (encoding, data, backlen). Ints and int-like strings get int encodings."""
    if isinstance(item, int):
        if item < _INT64_MIN or item > _INT64_MAX:
            raise ValueError(f"integer out of the int64 range: {item}")
        body = _encode_int(item)
    else:
        v = string_to_int64(item)
        body = _encode_int(v) if v is not None else _encode_str(bytes(item))
    return body + encode_backlen(len(body))


def encode(items: Iterable[bytes | int]) -> bytes:
    """Build a listpack holding ``items`` in order."""
    return pack([encode_entry(it) for it in items])


def pack(entries: list[bytes]) -> bytes:
    """Build a listpack from entries already encoded by :func:`encode_entry`."""
    total = HEADER_SIZE + sum(len(e) for e in entries) + 1
    if total > 0xFFFFFFFF:
        raise ValueError("listpack larger than 4 GiB")
    count = len(entries) if len(entries) < NUMELE_UNKNOWN else NUMELE_UNKNOWN
    return struct.pack("<IH", total, count) + b"".join(entries) + b"\xff"


def encoded_size(items: Iterable[bytes | int]) -> int:
    """Bytes :func:`encode` would produce for ``items`` (without building it)."""
    return HEADER_SIZE + 1 + sum(len(encode_entry(it)) for it in items)


def _entry(lp: bytes, p: int, end: int) -> tuple[bytes | int, int]:
    """Decode the entry at ``p``; return its value and the offset where its backlen starts."""
    b = lp[p]
    if b < 0x80:
        return b, p + 1
    if b < 0xC0:
        n = b & 0x3F
        q = p + 1 + n
        if q > end:
            corrupt("listpack string past the end")
        return lp[p + 1 : q], q
    if b < 0xE0:
        if p + 2 > end:
            corrupt("listpack int past the end")
        u = ((b & 0x1F) << 8) | lp[p + 1]
        return (u - 8192 if u >= 4096 else u), p + 2
    if b < 0xF0:
        if p + 2 > end:
            corrupt("listpack string header past the end")
        n = ((b & 0x0F) << 8) | lp[p + 1]
        q = p + 2 + n
        if q > end:
            corrupt("listpack string past the end")
        return lp[p + 2 : q], q
    if b == 0xF0:
        if p + 5 > end:
            corrupt("listpack string header past the end")
        n = struct.unpack_from("<I", lp, p + 1)[0]
        q = p + 5 + n
        if q > end:
            corrupt("listpack string past the end")
        return lp[p + 5 : q], q
    width = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}.get(b)
    if width is None:
        corrupt(f"bad listpack encoding byte {b:#x}")
    q = p + 1 + width
    if q > end:
        corrupt("listpack int past the end")
    return int.from_bytes(lp[p + 1 : q], "little", signed=True), q


def decode_items(blob: bytes) -> list[bytes | int]:
    """Every entry of a listpack, integers as ``int`` and strings as ``bytes``.

    Validates like ``lpValidateIntegrity(deep=1)``: header size, EOF byte, each backlen, the
    entry count (unless 65535).
    """
    lp = bytes(blob)
    size = len(lp)
    if size < HEADER_SIZE + 1:
        corrupt("listpack too short")
    total, count = struct.unpack_from("<IH", lp, 0)
    if total != size:
        corrupt("listpack size mismatch")
    if lp[-1] != EOF:
        corrupt("listpack without EOF")
    end = size - 1  # entries must end before the EOF byte
    items: list[bytes | int] = []
    p = HEADER_SIZE
    while p < end:
        value, q = _entry(lp, p, end)
        body = q - p
        bl = encode_backlen(body)
        if lp[q : q + len(bl)] != bl:
            corrupt("listpack backlen mismatch")
        p = q + len(bl)
        if p > end:
            corrupt("listpack entry past the end")
        items.append(value)
    if count != NUMELE_UNKNOWN and count != len(items):
        corrupt("listpack count mismatch")
    return items


def as_bytes(item: bytes | int) -> bytes:
    """An entry as Redis returns it to clients: integers in decimal."""
    return str(item).encode() if isinstance(item, int) else item


def decode(blob: bytes) -> list[bytes]:
    """Every entry of a listpack as bytes (integers in decimal)."""
    return [as_bytes(it) for it in decode_items(blob)]
