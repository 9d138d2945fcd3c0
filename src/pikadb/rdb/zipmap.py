"""Zipmap, the small-hash encoding of Redis <= 2.4 (``zipmap.c``), RDB type 9.

Redis 7.0 still loads it (converting to a listpack hash). Layout::

    <zmlen> <len> field <len> <free> value [free bytes] <len> field ... 0xFF

    zmlen   1 byte: number of pairs, or 254 when it does not fit (count by walking)
    len     1 byte (0..253), or 254 followed by a uint32 (little-endian): a string length
    free    1 byte: unused bytes that follow the value (left by in-place updates)
    0xFF    end marker (where a field's <len> would be)

An RDB zipmap must hold at least one pair.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from pikadb.rdb.errors import corrupt

BIGLEN = 254
END = 0xFF


def _length(zm: bytes, p: int, end: int) -> tuple[int, int]:
    if p >= end:
        corrupt("zipmap length past the end")
    b = zm[p]
    if b < BIGLEN:
        return b, p + 1
    if b == END or p + 5 > end:
        corrupt("bad zipmap length")
    return struct.unpack_from("<I", zm, p + 1)[0], p + 5


def decode(blob: bytes) -> list[tuple[bytes, bytes]]:
    """The (field, value) pairs of a zipmap, checked like ``zipmapValidateIntegrity(deep=1)``."""
    zm = bytes(blob)
    if len(zm) < 2 or zm[-1] != END:
        corrupt("bad zipmap header")
    end = len(zm) - 1
    pairs: list[tuple[bytes, bytes]] = []
    p = 1
    while p < end and zm[p] != END:
        n, p = _length(zm, p, end)
        if p + n > end:
            corrupt("zipmap field past the end")
        field = zm[p : p + n]
        n, p = _length(zm, p + n, end)
        if p >= end:
            corrupt("zipmap free byte past the end")
        free = zm[p]
        p += 1
        if p + n + free > end:
            corrupt("zipmap value past the end")
        pairs.append((field, zm[p : p + n]))
        p += n + free
    if p != end:
        corrupt("zipmap does not reach its end marker")
    if not pairs:
        corrupt("empty zipmap")
    if zm[0] != BIGLEN and zm[0] != len(pairs):
        corrupt("zipmap count mismatch")
    return pairs


def _enc_len(n: int) -> bytes:
    return bytes((n,)) if n < BIGLEN else bytes((BIGLEN,)) + struct.pack("<I", n)


def encode(pairs: Iterable[tuple[bytes, bytes]], free: int = 0) -> bytes:
    """Build a zipmap (for tests and tools; ``free`` pads every value with unused bytes)."""
    parts: list[bytes] = []
    count = 0
    for field, value in pairs:
        parts += [_enc_len(len(field)), field, _enc_len(len(value)), bytes((free,)), value]
        parts.append(b"\x00" * free)
        count += 1
    return bytes((min(count, BIGLEN),)) + b"".join(parts) + b"\xff"
