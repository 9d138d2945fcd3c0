"""Intset, the sorted array of integers behind small all-integer sets (``intset.c``).

Layout (little-endian)::

    +----------+--------+-----------+-----------+-----+-----------+
    | encoding | length | element 1 | element 2 | ... | element N |
    |  uint32  | uint32 |           |           |     |           |
    +----------+--------+-----------+-----------+-----+-----------+

    encoding   bytes per element: 2 (int16), 4 (int32) or 8 (int64), the smallest that holds
               every element
    elements   signed, strictly ascending (so no duplicates); N >= 1 in an RDB payload
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from itertools import pairwise

from pikadb.rdb.errors import corrupt

HEADER_SIZE = 8
_FORMATS = {2: "h", 4: "i", 8: "q"}


def decode(blob: bytes) -> list[int]:
    """The elements of an intset, checked like ``intsetValidateIntegrity(deep=1)``."""
    data = bytes(blob)
    if len(data) < HEADER_SIZE:
        corrupt("intset too short")
    width, count = struct.unpack_from("<II", data, 0)
    fmt = _FORMATS.get(width)
    if fmt is None:
        corrupt("bad intset encoding")
    if HEADER_SIZE + count * width != len(data):
        corrupt("intset size mismatch")
    if count == 0:
        corrupt("empty intset")
    values = list(struct.unpack_from(f"<{count}{fmt}", data, HEADER_SIZE))
    for a, b in pairwise(values):
        if b <= a:
            corrupt("intset not strictly ascending")
    return values


def encode(values: Iterable[int]) -> bytes:
    """Build an intset of ``values`` (sorted and deduplicated here)."""
    vals = sorted(set(values))
    if not vals:
        raise ValueError("an intset cannot be empty")
    lo, hi = vals[0], vals[-1]
    if lo >= -(1 << 15) and hi < (1 << 15):
        width = 2
    elif lo >= -(1 << 31) and hi < (1 << 31):
        width = 4
    elif lo >= -(1 << 63) and hi < (1 << 63):
        width = 8
    else:
        raise ValueError("intset values must fit in int64")
    return struct.pack(f"<II{len(vals)}{_FORMATS[width]}", width, len(vals), *vals)
