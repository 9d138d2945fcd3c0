"""Sorted-set scores as bytes: the raw double (member -> score values) and an
order-preserving 8-byte encoding (the zscore index keys), so RocksDB's bytewise order is
the numeric order of the scores.

    +-------------------+-------------------------------------------------------------+
    | form              | bytes                                                       |
    +-------------------+-------------------------------------------------------------+
    | value (data cf)   | IEEE-754 binary64, big-endian, exactly as given (-0.0 kept) |
    | index (zscore cf) | u = the big-endian bits of the score, -0.0 written as 0.0;  |
    |                   | sign bit 0 (>= +0): u | 1<<63  (flip the sign bit)          |
    |                   | sign bit 1 (< 0):   ~u         (flip every bit)             |
    +-------------------+-------------------------------------------------------------+

    -inf -> 00 0f ff ff ff ff ff ff     -1.0 -> 40 0f ff ff ff ff ff ff
     0.0 -> 80 00 00 00 00 00 00 00      1.0 -> bf f0 00 00 00 00 00 00
    +inf -> ff f0 00 00 00 00 00 00

Redis compares scores with ``<`` / ``==`` (so -0.0 == 0.0): the index normalises -0.0 to
0.0 to order those members by member bytes like Redis. NaN is never stored (commands refuse
it before storage is reached).
"""

from __future__ import annotations

import struct

_D = struct.Struct(">d")
_Q = struct.Struct(">Q")
_SIGN = 1 << 63
_ALL = (1 << 64) - 1
SCORE_SIZE = 8
MIN_INDEX = b"\x00" * 8  # below every encoded score
MAX_INDEX = b"\xff" * 8  # above every encoded score

pack_double = _D.pack


def unpack_double(b: bytes) -> float:
    return _D.unpack(b)[0]


def encode(score: float) -> bytes:
    """The order-preserving 8-byte form of ``score`` (not NaN)."""
    if score == 0.0:
        return b"\x80\x00\x00\x00\x00\x00\x00\x00"
    u = int.from_bytes(_D.pack(score), "big")
    return (u ^ _ALL if u & _SIGN else u | _SIGN).to_bytes(8, "big")


def decode(b: bytes) -> float:
    """The score of an 8-byte index prefix (``b`` may be longer: the first 8 bytes count)."""
    u = _Q.unpack_from(b)[0]
    u = u ^ _SIGN if u & _SIGN else u ^ _ALL
    return _D.unpack(u.to_bytes(8, "big"))[0]


def after(enc: bytes) -> bytes:
    """The encoding that follows ``enc`` (the first key above every key starting with it)."""
    return (int.from_bytes(enc, "big") + 1).to_bytes(8, "big")
