"""HyperLogLog on plain bytes: a faithful port of Redis 7.0's ``src/hyperloglog.c``.

No engine access here: the command module reads and writes the value as an ordinary
string (:mod:`pikadb.storage.strings`), and this module only turns bytes into bytes, so a
value is byte-for-byte what Redis would hold (GET/SET and DUMP/RESTORE round-trip).

Value layout (a string, little endian)::

    +--------+----------------+---------------------------------------------------------+
    | offset | size           | field                                                   |
    +========+================+=========================================================+
    | 0      | 4              | magic ``HYLL``                                          |
    | 4      | 1              | encoding: 0 = dense, 1 = sparse (anything else invalid) |
    | 5      | 3              | unused (kept as found; Redis writes zeros)              |
    | 8      | 8              | cached cardinality, u64 LE; bit 63 (card[7] & 0x80) set |
    |        |                | = cache invalid (the registers changed since)           |
    | 16     | 12288 (dense)  | 16384 registers x 6 bits, LSB first: register i is bits |
    |        |                | [6i, 6i+6) of the little-endian bit stream              |
    | 16     | any (sparse)   | run-length opcodes over the 16384 registers (below)     |
    +--------+----------------+---------------------------------------------------------+

    sparse opcodes    bits                 meaning
    ZERO   (1 byte)   00xxxxxx             xxxxxx+1 registers (1..64) are 0
    XZERO  (2 bytes)  01xxxxxx yyyyyyyy    (xxxxxx<<8 | yyyyyyyy)+1 registers (1..16384) are 0
    VAL    (1 byte)   1vvvvvxx             xx+1 registers (1..4) are vvvvv+1 (1..32)

A new HLL is sparse (``XZERO:16384``); it is promoted to dense when a register needs a
value above 32 or when an update would make the string longer than
``hll-sparse-max-bytes``. A dense value must be exactly 16 + 12288 bytes long.

Element hashing is MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register,
the run of zeros in the other 50 bits (+1) is the value. The estimate is Ertl's improved
estimator (hllTau/hllSigma over the register histogram), in the same IEEE-double order of
operations as the C code, so counts are identical.

Corrupted values are handled exactly as the reference redis-server does: Debian's 7.0.15
carries the CVE-2025-32023 fix, so a sparse value is valid for counting, merging and
conversion iff its opcodes cover exactly 16384 registers; PFADD only needs the opcode of
the register it changes. The C code reads the sds NUL terminator after the last byte; the
code here reads a 0 there too.

Performance: no per-register Python loops on the hot paths. Dense registers are read and
written with bytes.translate / slicing / big-int masks (:mod:`hll_registers`); in a large
sparse value the opcode covering a register is found with translated span tables summed by
zlib.adler32 and a bisection (:mod:`hll_sparse`), and sparse -> dense expands opcodes with
a lookup table and ``bytes.join``. A PFADD of one element edits the value in place (sparse)
or sets one register (dense); PFCOUNT reuses the cached cardinality like Redis.
"""

from __future__ import annotations

import math
import random
import re
import struct

from pikadb.storage import hll_registers as R
from pikadb.storage import hll_sparse as SP

# --- constants -------------------------------------------------------------------------------
HLL_P = 14
HLL_Q = 64 - HLL_P
REGISTERS = 1 << HLL_P  # 16384
P_MASK = REGISTERS - 1
HDR = 16
DENSE_BYTES = (REGISTERS * 6 + 7) // 8  # 12288
DENSE_SIZE = HDR + DENSE_BYTES
DENSE = 0
SPARSE = 1
SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384
ALPHA_INF = 0.721347520444481703680  # 0.5/ln(2)
SEED = 0xADC83B19
DEFAULT_SPARSE_MAX_BYTES = 3000

_M64 = 0xFFFFFFFFFFFFFFFF
_MUL = 0xC6A4A7935BD1E995
_MAGIC = b"HYLL"
# A fresh sparse HLL: header (card 0) + XZERO:16384.
EMPTY_SPARSE = _MAGIC + bytes([SPARSE, 0, 0, 0]) + bytes(8) + bytes([0x7F, 0xFF])


class CorruptHll(Exception):
    """The HLL's sparse representation is invalid (Redis: INVALIDOBJ)."""


# --- MurmurHash64A ---------------------------------------------------------------------------
_unpack_words = [struct.Struct(f"<{n}Q").unpack_from for n in range(64)]


def murmurhash64a(data: bytes, seed: int = SEED) -> int:
    """Redis's endian-neutral MurmurHash64A."""
    n = len(data)
    h = (seed ^ (n * _MUL)) & _M64
    words = n >> 3
    if words:
        ks = _unpack_words[words](data) if words < 64 else struct.unpack_from(f"<{words}Q", data)
        for k in ks:
            k = (k * _MUL) & _M64
            k ^= k >> 47
            h ^= (k * _MUL) & _M64
            h = (h * _MUL) & _M64
    if n & 7:
        h ^= int.from_bytes(data[n & ~7 :], "little")
        h = (h * _MUL) & _M64
    h ^= h >> 47
    h = (h * _MUL) & _M64
    return h ^ (h >> 47)


def pat_len(ele: bytes) -> tuple[int, int]:
    """hllPatLen: (register index, length of the 000..1 pattern) for an element."""
    h = murmurhash64a(ele)
    rest = (h >> HLL_P) | (1 << HLL_Q)
    return h & P_MASK, (rest & -rest).bit_length()


# --- header / validity -----------------------------------------------------------------------
def is_hll(value: bytes) -> bool:
    """isHLLObjectOrReply for a string value: magic, encoding, exact dense size."""
    if len(value) < HDR or value[:4] != _MAGIC:
        return False
    enc = value[4]
    if enc > SPARSE:
        return False
    return enc != DENSE or len(value) == DENSE_SIZE


def cached_card(value: bytes) -> int | None:
    """The cached cardinality, or None when the cache is invalid."""
    if value[15] & 0x80:
        return None
    return int.from_bytes(value[8:16], "little")


def with_card(value: bytes, card: int) -> bytes:
    return value[:8] + card.to_bytes(8, "little") + value[16:]


# --- dense registers <-> raw (one byte per register) ------------------------------------------
def dense_to_raw(value: bytes) -> bytearray:
    """The 16384 registers of a dense value, one byte each."""
    return R.dense_raw(value[HDR:DENSE_SIZE])


def raw_to_dense_registers(raw: bytes | bytearray) -> bytes:
    """The 12288 dense register bytes for 16384 one-byte registers (values < 64)."""
    return R.pack(int.from_bytes(raw, "little")).to_bytes(DENSE_BYTES, "little")


def dense_get(buf: bytes | bytearray, index: int) -> int:
    """HLL_DENSE_GET_REGISTER on a whole value (header included)."""
    bit = index * 6
    pos = HDR + (bit >> 3)
    fb = bit & 7
    if fb <= 2:
        return (buf[pos] >> fb) & 63
    return ((buf[pos] >> fb) | (buf[pos + 1] << (8 - fb))) & 63


def _dense_set(buf: bytearray, index: int, val: int) -> None:
    """HLL_DENSE_SET_REGISTER (the byte after the last register is never touched)."""
    bit = index * 6
    pos = HDR + (bit >> 3)
    fb = bit & 7
    buf[pos] = (buf[pos] & ~(63 << fb) & 0xFF) | ((val << fb) & 0xFF)
    if fb > 2:
        fb8 = 8 - fb
        buf[pos + 1] = (buf[pos + 1] & ~(63 >> fb8) & 0xFF) | (val >> fb8)


# --- histogram and estimate -----------------------------------------------------------------
estimate = R.estimate


def count_raw(raw: bytes | bytearray) -> int:
    """hllCount of an HLL_RAW register array (one byte per register)."""
    return estimate(R.histogram(bytes(raw)))


def _sparse_histogram(value: bytes) -> tuple[list[int], int]:
    """hllSparseRegHisto: (histogram, registers covered). Covered != 16384: invalid."""
    end = len(value)
    h = [0] * 64
    if end - HDR > 48:
        body = value[HDR:]
        marks = SP.classes(body)
        if marks[-1] != SP.X:  # not a truncated XZERO at the end
            w = SP.Weights(body, marks)
            idx = w.total()
            h[0] = idx - SP.count_vals(body, w, h)
            return h, idx
    idx = 0
    p = HDR
    while p < end:
        b = value[p]
        if b < 0x40:
            runlen = b + 1
            idx += runlen
            h[0] += runlen
            p += 1
        elif b < 0x80:
            runlen = ((b & 0x3F) << 8 | (value[p + 1] if p + 1 < end else 0)) + 1
            idx += runlen
            h[0] += runlen
            p += 2
        else:
            runlen = (b & 3) + 1
            idx += runlen
            h[((b >> 2) & 31) + 1] += runlen
            p += 1
    return h, idx


def count(value: bytes) -> int:
    """hllCount of a validated HLL value; CorruptHll for an invalid sparse value."""
    if value[4] == DENSE:
        return estimate(R.histogram(R.dense_parts(value[HDR:DENSE_SIZE])))
    h, idx = _sparse_histogram(value)
    if idx != REGISTERS:
        raise CorruptHll
    return estimate(h)


# --- sparse walks ----------------------------------------------------------------------------
def _sparse_into_raw(value: bytes | bytearray, end: int, raw: bytearray, as_max: bool) -> bool:
    """The VAL registers of a sparse value written into ``raw`` (max-merged when
    ``as_max``), as hllMerge / hllSparseToDense walk it; False if the value is invalid: an
    opcode running past register 16383 (checked for every opcode, as in Redis 7.0.15 with
    the CVE-2025-32023 fix that the reference redis-server carries) or fewer registers."""
    i = 0
    p = HDR
    while p < end:
        b = value[p]
        if b < 0x40:
            i += b + 1
            if i > REGISTERS:
                return False
            p += 1
        elif b < 0x80:
            i += ((b & 0x3F) << 8 | (value[p + 1] if p + 1 < end else 0)) + 1
            if i > REGISTERS:
                return False
            p += 2
        else:
            runlen = (b & 3) + 1
            if runlen + i > REGISTERS:
                return False
            regval = ((b >> 2) & 31) + 1
            if as_max:
                for k in range(i, i + runlen):
                    if regval > raw[k]:
                        raw[k] = regval
            else:
                raw[i : i + runlen] = bytes((regval,)) * runlen
            i += runlen
            p += 1
    return i == REGISTERS


def sparse_to_raw(value: bytes | bytearray, end: int | None = None) -> bytearray:
    """Registers of a sparse value as hllSparseToDense reads them; CorruptHll if invalid."""
    end = len(value) if end is None else end
    if end - HDR > 64:
        regs = SP.expand(bytes(value[HDR:end]))
        if regs is not None:
            if len(regs) != REGISTERS:
                raise CorruptHll
            return bytearray(regs)
    raw = bytearray(REGISTERS)
    if not _sparse_into_raw(value, end, raw, False):
        raise CorruptHll
    return raw


def decode_sparse(value: bytes) -> bytes:
    """PFDEBUG DECODE text of a sparse value (z:N, Z:N, v:V,N)."""
    out: list[bytes] = []
    end = len(value)
    p = HDR
    while p < end:
        b = value[p]
        if b < 0x40:
            out.append(b"z:%d" % (b + 1))
            p += 1
        elif b < 0x80:
            out.append(b"Z:%d" % (((b & 0x3F) << 8 | (value[p + 1] if p + 1 < end else 0)) + 1))
            p += 2
        else:
            out.append(b"v:%d,%d" % (((b >> 2) & 31) + 1, (b & 3) + 1))
            p += 1
    return b" ".join(out)


def dense_from_raw(header: bytes, raw: bytes | bytearray) -> bytearray:
    """A dense value: ``header`` (16 bytes, encoding forced to dense) + packed registers."""
    out = bytearray(header[:HDR])
    out[4] = DENSE
    out += raw_to_dense_registers(raw)
    return out


def to_dense(value: bytes) -> bytes:
    """hllSparseToDense: header copied (magic, unused bytes, cached card), encoding dense."""
    if value[4] == DENSE:
        return value
    return bytes(dense_from_raw(value, sparse_to_raw(value)))


# --- the mutable HLL (PFADD / PFMERGE into a sparse destination) -------------------------------
def _seq_zero(seq: bytearray, n: int) -> None:
    if n > SPARSE_ZERO_MAX_LEN:
        n -= 1
        seq.append((n >> 8) | 0x40)
        seq.append(n & 0xFF)
    else:
        seq.append(n - 1)


def _val(v: int, n: int) -> int:
    return ((v - 1) << 2 | (n - 1)) | 0x80


class Hll:
    """An HLL value being modified, mirroring Redis's sds handling.

    ``buf`` always has slack after the logical length ``n`` (like sds free space) so the
    C code's reads of the NUL terminator and its in-place writes translate one to one.
    """

    __slots__ = ("buf", "max_bytes", "n")

    def __init__(self, value: bytes, max_bytes: int = DEFAULT_SPARSE_MAX_BYTES) -> None:
        self.buf = bytearray(value)
        self.buf += b"\x00" * 8
        self.n = len(value)
        self.max_bytes = max_bytes

    @classmethod
    def new(cls, max_bytes: int = DEFAULT_SPARSE_MAX_BYTES) -> Hll:
        return cls(EMPTY_SPARSE, max_bytes)

    def value(self) -> bytes:
        return bytes(self.buf[: self.n])

    @property
    def is_dense(self) -> bool:
        return self.buf[4] == DENSE

    def invalidate(self) -> None:
        self.buf[15] |= 0x80

    # -- add ----------------------------------------------------------------------------
    def add(self, ele: bytes) -> int:
        """hllAdd: 1 if a register changed, 0 if not; CorruptHll (the value may already hold
        this call's partial changes, as in Redis)."""
        index, cnt = pat_len(ele)
        if self.buf[4] == DENSE:
            return self.dense_set(index, cnt)
        return self.sparse_set(index, cnt)

    def dense_set(self, index: int, cnt: int) -> int:
        if cnt > dense_get(self.buf, index):
            _dense_set(self.buf, index, cnt)
            return 1
        return 0

    def promote(self) -> None:
        """hllSparseToDense in place; CorruptHll (value unchanged) if invalid."""
        if self.buf[4] == DENSE:
            return
        raw = sparse_to_raw(self.buf, self.n)
        self.buf = dense_from_raw(self.buf, raw)
        self.buf += b"\x00" * 8
        self.n = DENSE_SIZE

    def _promote_set(self, index: int, cnt: int) -> int:
        """The ``promote:`` label of hllSparseSet: to dense, then set the register."""
        self.promote()
        self.dense_set(index, cnt)
        return 1

    # -- hllSparseSet ---------------------------------------------------------------------
    def sparse_set(self, index: int, cnt: int, hint: list[int] | None = None) -> int:
        """hllSparseSet: 1 if the register was raised, 0 if not; CorruptHll if the value is
        invalid. ``hint`` (PFMERGE: indexes set in increasing order) is a
        ``[position, first register, previous position or -2]`` list of a token before the
        previous change; it is updated, so the next call need not scan from the start."""
        if cnt > SPARSE_VAL_MAX_VALUE:
            return self._promote_set(index, cnt)
        buf = self.buf
        if len(buf) - self.n < 8:  # sdsMakeRoomFor(3) and then some
            buf += b"\x00" * 16
        end = self.n
        found = None
        if hint is not None:
            found = self._scan(index, hint[0], hint[1], hint[2], end)
            if found is not None and found[3] == -2:
                found = None  # the target is the hinted token itself: its prev is unknown
            if found is None:
                found = self._scan(index, HDR, 0, -1, end)
        elif end - HDR > 96:
            found = self._locate_fast(index)
            if found is False:
                found = self._scan(index, HDR, 0, -1, end)
        else:
            found = self._scan(index, HDR, 0, -1, end)
        if found is None:
            raise CorruptHll
        p, first, span, prev, prev_first = found  # type: ignore[misc]
        if hint is not None:
            if prev >= 0:
                hint[0], hint[1], hint[2] = prev, prev_first, -2
            else:
                hint[0], hint[1], hint[2] = HDR, 0, -1

        b = buf[p]
        if b & 0x80:  # VAL
            old = ((b >> 2) & 31) + 1
            if old >= cnt:  # case A
                return 0
            if span == 1:  # case B
                buf[p] = _val(cnt, 1)
                return self._merge_adjacent(prev, end)
            # case D, VAL split
            seq = bytearray()
            if index != first:
                seq.append(_val(old, index - first))
            seq.append(_val(cnt, 1))
            last = first + span - 1
            if index != last:
                seq.append(_val(old, last - index))
            oldlen = 1
        else:
            if b < 0x40 and span == 1:  # case C
                buf[p] = _val(cnt, 1)
                return self._merge_adjacent(prev, end)
            # case D, ZERO / XZERO split
            seq = bytearray()
            if index != first:
                _seq_zero(seq, index - first)
            seq.append(_val(cnt, 1))
            last = first + span - 1
            if index != last:
                _seq_zero(seq, last - index)
            oldlen = 1 if b < 0x40 else 2
        seqlen = len(seq)
        delta = seqlen - oldlen
        if delta > 0 and end + delta > self.max_bytes:
            return self._promote_set(index, cnt)
        if p + oldlen < end:  # there is a next opcode: memmove the tail, then memcpy
            buf[p : p + oldlen] = seq
            end += delta
            buf[end] = 0
        else:  # last opcode: sdsIncrLen, then memcpy (may write past the new end)
            end += delta
            buf[end] = 0
            buf[p : p + seqlen] = seq
        return self._merge_adjacent(prev, end)

    def _merge_adjacent(self, prev: int, end: int) -> int:
        """Step 4 of hllSparseSet: merge adjacent VAL opcodes (up to 5 opcodes from prev),
        then invalidate the cached cardinality."""
        buf = self.buf
        p = prev if prev >= 0 else HDR
        scanlen = 5
        while p < end and scanlen:
            scanlen -= 1
            b = buf[p]
            if b & 0xC0 == 0x40:
                p += 2
                continue
            if b < 0x40:
                p += 1
                continue
            if p + 1 < end:
                b2 = buf[p + 1]
                if b2 & 0x80 and (b >> 2) & 31 == (b2 >> 2) & 31:
                    ln = (b & 3) + (b2 & 3) + 2
                    if ln <= SPARSE_VAL_MAX_LEN:
                        buf[p + 1] = _val(((b >> 2) & 31) + 1, ln)
                        del buf[p]
                        end -= 1
                        buf[end] = 0
                        continue
            p += 1
        self.n = end
        buf[15] |= 0x80
        return 1

    def _scan(
        self, index: int, p: int, first: int, prev: int, end: int
    ) -> tuple[int, int, int, int, int] | None:
        """Step 1 of hllSparseSet from token ``p`` (covering registers from ``first``):
        (p, first, span, prev, prev's first) of the opcode covering ``index``, or None."""
        buf = self.buf
        span = 0
        prev_span = 0
        while p < end:
            b = buf[p]
            if b < 0x40:
                span = b + 1
                oplen = 1
            elif b >= 0x80:
                span = (b & 3) + 1
                oplen = 1
            else:
                span = ((b & 0x3F) << 8 | buf[p + 1]) + 1
                oplen = 2
            if index <= first + span - 1:
                break
            prev = p
            prev_span = span
            p += oplen
            first += span
        if span == 0 or p >= end:
            return None
        return p, first, span, prev, first - prev_span

    def _locate_fast(self, index: int) -> tuple[int, int, int, int, int] | bool | None:
        """:meth:`_scan` from the start, at C speed for a large value: the block holding
        the register is found by block sums, the opcode in it by bisection over prefix
        sums. False: a truncated last opcode (the caller uses the slow scan)."""
        body = bytes(self.buf[HDR : self.n])
        marks = SP.classes(body)
        if marks[-1] == SP.X:
            return False
        w = SP.Weights(body, marks)
        n = len(body)
        first = 0
        a = 0
        while True:
            if a >= n:
                return None
            b = min(n, a + SP.BLOCK)
            s = w.sum(a, b)
            if index < first + s:
                break
            first += s
            a = b
        t = index - first
        lo, hi = 0, b - a - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if w.sum(a, a + mid + 1) > t:
                hi = mid
            else:
                lo = mid + 1
        q = a + lo
        if marks[q] == SP.S:  # the second byte of an XZERO: the opcode starts before
            q -= 1
        first_q = first + w.sum(a, q) if q >= a else first - w.sum(q, a)
        span = w.span(q)
        if q == 0:
            return HDR, 0, span, -1, 0
        prev = q - 2 if marks[q - 1] == SP.S else q - 1
        return q + HDR, first_q, span, prev + HDR, first_q - w.span(prev)


# --- command-level operations ---------------------------------------------------------------
def pfadd(value: bytes | None, elements: list[bytes], max_bytes: int) -> tuple[int, bytes | None]:
    """PFADD on a validated value (None: absent key): (reply, new value or None if
    unchanged). CorruptHll(partial value or None) when an element hits corruption: Redis
    keeps the changes made by the elements before it."""
    if value is None:
        h = Hll.new(max_bytes)
        updated = 1
    else:
        h = Hll(value, max_bytes)
        updated = 0
    try:
        for ele in elements:
            updated += h.add(ele)
    except CorruptHll:
        partial = h.value()
        raise CorruptHll(partial if partial != value else None) from None
    if not updated:
        return 0, None
    h.invalidate()
    return 1, h.value()


def pfcount(value: bytes) -> tuple[int, bytes | None]:
    """Single-key PFCOUNT: (cardinality, value with the cache updated or None)."""
    card = cached_card(value)
    if card is not None:
        return card, None
    card = count(value)
    new = with_card(value, card)
    return card, (new if new != value else None)


class Merger:
    """The ``max`` register array of multi-key PFCOUNT and PFMERGE: sparse inputs are merged
    into a byte per register, dense ones as 8-bit-lane big ints (SWAR max)."""

    __slots__ = ("dense", "raw", "use_dense")

    def __init__(self) -> None:
        self.raw = bytearray(REGISTERS)
        self.dense: int | None = None
        self.use_dense = False

    def add(self, value: bytes) -> None:
        """hllMerge of a validated value; CorruptHll for a bad sparse value."""
        if value[4] == DENSE:
            self.use_dense = True
            regs = R.spread(R.dense_int(value))
            self.dense = regs if self.dense is None else R.max8(self.dense, regs)
        elif len(value) - HDR > 256:  # expand, then a SWAR max
            regs = int.from_bytes(sparse_to_raw(value), "little")
            self.dense = regs if self.dense is None else R.max8(self.dense, regs)
        elif not _sparse_into_raw(value, len(value), self.raw, True):
            raise CorruptHll

    def registers(self) -> int:
        """All registers merged: one byte each, as a little-endian int."""
        sparse = int.from_bytes(self.raw, "little")
        return sparse if self.dense is None else R.max8(self.dense, sparse)

    def count(self) -> int:
        return estimate(R.histogram(self.registers().to_bytes(REGISTERS, "little")))

    def store(self, dest: bytes | None, max_bytes: int) -> bytes:
        """The destination value after PFMERGE (``dest`` was validated and merged)."""
        regs = self.registers()
        if dest is None:
            dest = EMPTY_SPARSE
        if self.use_dense:
            return _dense_value(dest, regs)
        raw = regs.to_bytes(REGISTERS, "little")
        h = Hll(dest, max_bytes)
        hint = [HDR, 0, -1]
        for m in _NONZERO_RE.finditer(raw):
            i = m.start()
            try:
                h.sparse_set(i, raw[i], hint)
            except CorruptHll:  # Redis ignores hllSparseSet errors here
                continue
            if h.buf[4] == DENSE:  # promoted: the rest are dense sets, i.e. the merged array
                return _dense_value(h.buf, regs)
        h.invalidate()
        return h.value()


def _dense_value(header: bytes | bytearray, regs: int) -> bytes:
    """A dense value with ``header``'s bytes (cache invalidated) and byte-lane registers."""
    out = bytearray(header[:HDR])
    out[4] = DENSE
    out[15] |= 0x80
    return bytes(out) + R.pack(regs).to_bytes(DENSE_BYTES, "little")


_NONZERO_RE = re.compile(rb"[^\x00]")


# --- PFSELFTEST ------------------------------------------------------------------------------
SELFTEST_REGISTER_CYCLES = 3
SELFTEST_MAX_CARD = 10_000  # Redis goes to 10M; pure Python stops at 1e4 (~0.2 s)


def selftest(max_bytes: int, rng: random.Random | None = None) -> str | None:
    """PFSELFTEST: None on success, else the failure text (after ``TESTFAILED``)."""
    rng = rng or random.Random()
    # Test 1: register access, per register and through the bulk (de)packers.
    dense = bytearray(DENSE_SIZE + 1)
    for _ in range(SELFTEST_REGISTER_CYCLES):
        values = bytes(rng.getrandbits(6) for _ in range(REGISTERS))
        for i, v in enumerate(values):
            _dense_set(dense, i, v)
        for i, v in enumerate(values):
            got = dense_get(dense, i)
            if got != v:
                return f"Register {i} should be {v} but is {got}"
        if dense_to_raw(bytes(dense[:DENSE_SIZE])) != values:
            return "bulk register decoding disagrees"
        if raw_to_dense_registers(values) != dense[HDR:DENSE_SIZE]:
            return "bulk register encoding disagrees"
    # Test 2: approximation error, dense and sparse side by side.
    d = Hll(_MAGIC + bytes(12) + bytes(DENSE_BYTES), max_bytes)
    s = Hll.new(max_bytes)
    relerr = 1.04 / math.sqrt(REGISTERS)
    checkpoint = 1
    seed = rng.getrandbits(64)
    for j in range(1, SELFTEST_MAX_CARD + 1):
        index, cnt = pat_len((j ^ seed).to_bytes(8, "little"))
        d.dense_set(index, cnt)
        if s.buf[4] == DENSE:
            s.dense_set(index, cnt)
        else:
            s.sparse_set(index, cnt)
        if j != checkpoint:
            continue
        if j < max_bytes / 2 and s.buf[4] != SPARSE:
            return "sparse encoding not used"
        card = count(d.value())
        if card != count(s.value()):
            return "dense/sparse disagree"
        abserr = abs(checkpoint - card)
        maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
        if abserr > maxerr:
            return f"Too big error. card:{checkpoint} abserr:{abserr}"
        checkpoint *= 10
    return None
