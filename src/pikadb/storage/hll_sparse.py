"""C-speed views of a sparse HyperLogLog body (the opcodes after the 16-byte header).

Used by :mod:`pikadb.storage.hyperloglog` for large sparse values, instead of a Python loop
over up to ``hll-sparse-max-bytes`` opcodes (the exact loops stay there, for small values
and for the rare truncated-XZERO corruption). See that module for the opcode format.
"""

from __future__ import annotations

import zlib

REGISTERS = 16384

# A large sparse body is read with bytes.translate / bytes.replace / big-int masks instead
# of a Python loop over its opcodes. A byte outside 0x40-0x7F is a one-byte opcode or the
# second byte of an XZERO; bytes inside come in runs that start on an opcode boundary, so
# pairing each run from its start (then an odd run's last byte with the byte after it)
# finds exactly the XZERO opcodes. The "class" string marks them F (first byte) and S
# (second byte); one-byte opcodes are "."; a trailing lone X is a truncated XZERO (rare
# corrupted values take the exact slow path). The registers covered by the bytes of
# [a, b) are sums of two byte strings, computed with zlib.adler32, whose low half is 1 +
# the byte sum mod 65521 (exact for the blocks used here).
T_CLASS = bytes(0x58 if 0x40 <= b < 0x80 else 0x2E for b in range(256))  # X / .
F, S, X = 0x46, 0x53, 0x58
SPAN1 = bytes((b + 1) if b < 0x40 else ((b & 3) + 1) if b >= 0x80 else 0 for b in range(256))
_T_KEEP = bytes(0xFF if b == 0x2E else 0 for b in range(256))
_T_F1 = bytes(1 if b == F else 0 for b in range(256))
_T_F3F = bytes(0x3F if b == F else 0 for b in range(256))
_T_SFF = bytes(0xFF if b == S else 0 for b in range(256))
VALV = bytes((((b >> 2) & 31) + 1) if b >= 0x80 else 0 for b in range(256))
# delete tables: everything but the VAL opcodes of run length k (1..4)
NOT_VAL_LEN = [
    b"",
    *(bytes(b for b in range(256) if not (b >= 0x80 and (b & 3) + 1 == k)) for k in (1, 2, 3, 4)),
]
# lo <= 64 per one-byte opcode and <= 256 per XZERO byte pair, hi <= 63: 500-byte blocks
# keep every sum below 65521
BLOCK = 500
_adler32 = zlib.adler32


def classes(body: bytes) -> bytes:
    """One class byte per body byte: F / S (first / second byte of an XZERO), "." (a
    one-byte opcode), a trailing X for a truncated XZERO."""
    return body.translate(T_CLASS).replace(b"XX", b"FS").replace(b"X.", b"FS")


class Weights:
    """Registers covered per byte of a sparse body (no header, no truncated tail): ``lo``
    holds one-byte opcode spans, an XZERO's 1 on its first byte and its low 8 bits on its
    second byte; ``hi`` its high 6 bits (x256) on its first byte."""

    __slots__ = ("body", "hi", "keep", "lo", "marks", "spans", "xzeros")

    def __init__(self, body: bytes, marks: bytes) -> None:
        self.body = body
        self.marks = marks
        spans = body.translate(SPAN1)
        self.spans = spans
        self.xzeros = marks.count(F)
        if not self.xzeros:
            self.lo = memoryview(spans)
            return
        n = len(body)
        whole = int.from_bytes(body, "little")
        keep = int.from_bytes(marks.translate(_T_KEEP), "little")
        self.keep = keep
        lo = (
            (int.from_bytes(spans, "little") & keep)
            | int.from_bytes(marks.translate(_T_F1), "little")
            | (whole & int.from_bytes(marks.translate(_T_SFF), "little"))
        )
        self.lo = memoryview(lo.to_bytes(n, "little"))
        hi = whole & int.from_bytes(marks.translate(_T_F3F), "little")
        self.hi = memoryview(hi.to_bytes(n, "little"))

    def sum(self, a: int, b: int) -> int:
        """Registers covered by the bytes [a, b) (b - a <= BLOCK)."""
        if self.xzeros:
            return (
                (_adler32(self.lo[a:b]) & 0xFFFF)
                - 1
                + ((_adler32(self.hi[a:b]) & 0xFFFF) - 1) * 256
            )
        return (_adler32(self.lo[a:b]) & 0xFFFF) - 1

    def span(self, q: int) -> int:
        """Registers covered by the opcode starting at q."""
        if self.marks[q] == F:
            return ((self.body[q] & 0x3F) << 8 | self.body[q + 1]) + 1
        return self.spans[q]

    def total(self) -> int:
        n = len(self.body)
        return sum([self.sum(a, min(n, a + BLOCK)) for a in range(0, n, BLOCK)])

    def one_byte_opcodes(self) -> bytes:
        """The body with its XZERO bytes zeroed (ZERO opcodes: ignored by VAL counting)."""
        if not self.xzeros:
            return self.body
        n = len(self.body)
        return (int.from_bytes(self.body, "little") & self.keep).to_bytes(n, "little")


def count_vals(body: bytes, w: Weights, h: list[int]) -> int:
    """Add the VAL opcodes' registers to the histogram ``h``; returns how many there are."""
    ones = w.one_byte_opcodes()
    vals = b"".join([ones.translate(VALV, NOT_VAL_LEN[k]) * k for k in (1, 2, 3, 4)])
    left = len(vals)
    v = 1
    while left and v < 64:
        c = vals.count(v)
        h[v] += c
        left -= c
        v += 1
    return len(vals)


# the registers a one-byte opcode stands for (XZERO bytes: handled apart)
_EXPAND = tuple(
    bytes(b + 1)
    if b < 0x40
    else bytes((((b >> 2) & 31) + 1,)) * ((b & 3) + 1)
    if b >= 0x80
    else b""
    for b in range(256)
)
_ZEROS = bytes(REGISTERS)


def expand(body: bytes) -> bytes | None:
    """The registers of a sparse body, one byte each, at C speed; b"" when the opcodes
    cover more than 16384 registers, None for a truncated last XZERO (use the slow walk)."""
    marks = classes(body)
    if marks and marks[-1] == X:
        return None
    get = _EXPAND.__getitem__
    find = marks.find
    pieces: list[bytes] = []
    total = 0
    p = 0
    n = len(body)
    while p < n:
        x = find(b"F", p)
        stop = n if x < 0 else x
        while p < stop:  # one-byte opcodes, 256 at a time (at most 16384 registers)
            q = min(stop, p + 256)
            piece = b"".join(map(get, body[p:q]))
            total += len(piece)
            if total > REGISTERS:
                return b""
            pieces.append(piece)
            p = q
        if x < 0:
            break
        span = ((body[x] & 0x3F) << 8 | body[x + 1]) + 1
        total += span
        if total > REGISTERS:
            return b""
        pieces.append(_ZEROS[:span])
        p = x + 2
    return b"".join(pieces)
