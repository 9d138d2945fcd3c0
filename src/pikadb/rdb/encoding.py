"""The RDB primitives every serialized object is made of (``rdb.c``: lengths, strings, doubles).

Length (``rdbSaveLen`` / ``rdbLoadLen``); the top two bits of the first byte choose::

    00LLLLLL                          6-bit length (0..63)
    01LLLLLL LLLLLLLL                 14-bit length, big-endian (64..16383)
    10000000 + uint32 BIG-endian      32-bit length
    10000001 + uint64 BIG-endian      64-bit length
    11EEEEEE                          "special encoding" E follows (strings only; a plain
                                      length read of such a byte yields E, as Redis does)

String (``rdbSaveRawString`` / ``rdbGenericLoadStringObject``)::

    <length> <bytes>                              raw
    11000000 int8                                 INT8:  decimal text of the integer
    11000001 int16 (little-endian)                INT16
    11000010 int32 (little-endian)                INT32
    11000011 <clen: length> <len: length> <clen bytes of LZF>     LZF-compressed, expands
                                                                  to exactly len bytes

Redis writes a string as an INT if it is the canonical decimal form of an integer that fits
in 32 bits (and is at most 11 bytes), else LZF if longer than 20 bytes and LZF saves at
least 4 bytes, else raw. We do the same.

Doubles: ``binary`` = 8-byte IEEE 754 little-endian (ZSET_2 scores); ``string`` (ZSET v1) =
one length byte then that many ASCII bytes of ``%.17g``, where the length bytes 253, 254,
255 mean NaN, +inf, -inf. Millisecond times: int64 little-endian. Stream IDs inside PELs:
16 bytes, ms then seq, each uint64 BIG-endian (the radix-tree key form).
"""

from __future__ import annotations

import math
import re
import struct

from pikadb.rdb import lzf
from pikadb.rdb.errors import corrupt
from pikadb.rdb.listpack import string_to_int64

ENC_INT8 = 0
ENC_INT16 = 1
ENC_INT32 = 2
ENC_LZF = 3

StreamID = tuple[int, int]
_U64 = (1 << 64) - 1
# What C strtod/sscanf("%lg") accept as a whole string, minus hex floats.
_FLOAT_RE = re.compile(rb"\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf(inity)?|nan)", re.I)


def parse_double(text: bytes) -> float:
    """A double written as text (scores in ziplists, listpacks and ZSET v1)."""
    if not _FLOAT_RE.fullmatch(text):
        corrupt("bad double")
    return float(text)


def format_double(value: float) -> bytes:
    """A score as Redis 7.0 writes it as text (``d2string``): integers without a dot, others
    with ``%.17g``, and ``inf``/``-inf``/``-0``."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if value == 0:
        return b"-0" if math.copysign(1.0, value) < 0 else b"0"
    if -4503599627370495 < value < 4503599627370496 and value == int(value):
        return str(int(value)).encode()
    return b"%.17g" % value


class Reader:
    """A cursor over the object part of a payload; every read is bounds-checked."""

    __slots__ = ("buf", "end", "pos")

    def __init__(self, buf: bytes, pos: int = 0, end: int | None = None) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end

    def take(self, n: int) -> bytes:
        p = self.pos
        if n < 0 or p + n > self.end:
            corrupt("read past the end of the payload")
        self.pos = p + n
        return self.buf[p : p + n]

    def u8(self) -> int:
        p = self.pos
        if p >= self.end:
            corrupt("read past the end of the payload")
        self.pos = p + 1
        return self.buf[p]

    def _length_or_encoding(self) -> tuple[int, bool]:
        b = self.u8()
        kind = b >> 6
        if kind == 0:
            return b, False
        if kind == 1:
            return ((b & 0x3F) << 8) | self.u8(), False
        if kind == 3:
            return b & 0x3F, True
        if b == 0x80:
            return struct.unpack(">I", self.take(4))[0], False
        if b == 0x81:
            return struct.unpack(">Q", self.take(8))[0], False
        corrupt(f"unknown length encoding {b:#x}")

    def length(self) -> int:
        """A length (``rdbLoadLen(rdb, NULL)``)."""
        return self._length_or_encoding()[0]

    def string(self) -> bytes:
        """A string in any of its encodings (raw, INT8/16/32, LZF)."""
        n, encoded = self._length_or_encoding()
        if not encoded:
            return self.take(n)
        if n == ENC_INT8:
            return str(struct.unpack("<b", self.take(1))[0]).encode()
        if n == ENC_INT16:
            return str(struct.unpack("<h", self.take(2))[0]).encode()
        if n == ENC_INT32:
            return str(struct.unpack("<i", self.take(4))[0]).encode()
        if n == ENC_LZF:
            clen = self.length()
            out_len = self.length()
            return lzf.decompress(self.take(clen), out_len)
        corrupt(f"unknown string encoding {n}")

    def binary_double(self) -> float:
        return struct.unpack("<d", self.take(8))[0]

    def string_double(self) -> float:
        n = self.u8()
        if n == 253:
            return math.nan
        if n == 254:
            return math.inf
        if n == 255:
            return -math.inf
        return parse_double(self.take(n))

    def millis(self) -> int:
        return struct.unpack("<q", self.take(8))[0]

    def raw_stream_id(self) -> StreamID:
        ms, seq = struct.unpack(">QQ", self.take(16))
        return ms, seq


def save_len(n: int) -> bytes:
    if n < 0 or n > _U64:
        raise ValueError(f"length out of range: {n}")
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def save_int_string(v: int) -> bytes | None:
    """The INT8/16/32 form of ``v``, or ``None`` if it needs more than 32 bits."""
    if -128 <= v <= 127:
        return bytes((0xC0 | ENC_INT8,)) + struct.pack("<b", v)
    if -32768 <= v <= 32767:
        return bytes((0xC0 | ENC_INT16,)) + struct.pack("<h", v)
    if -2147483648 <= v <= 2147483647:
        return bytes((0xC0 | ENC_INT32,)) + struct.pack("<i", v)
    return None


def save_string(s: bytes, compress: bool = True) -> bytes:
    """A string as ``rdbSaveRawString`` writes it."""
    s = bytes(s)
    n = len(s)
    if n <= 11:
        v = string_to_int64(s)
        if v is not None:
            enc = save_int_string(v)
            if enc is not None:
                return enc
    if compress and n > 20:
        packed = lzf.compress(s, n - 4)
        if packed:
            return bytes((0xC0 | ENC_LZF,)) + save_len(len(packed)) + save_len(n) + packed
    return save_len(n) + s


def save_binary_double(value: float) -> bytes:
    return struct.pack("<d", value)


def save_millis(t: int) -> bytes:
    return struct.pack("<q", t)


def save_raw_stream_id(sid: StreamID) -> bytes:
    return struct.pack(">QQ", sid[0], sid[1])
