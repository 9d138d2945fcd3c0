"""HyperLogLog register arrays as big integers (SWAR), and Redis 7's estimator.

The 12288 dense register bytes, read as ONE little-endian integer, are exactly the 16384
6-bit registers side by side (register i = bits [6i, 6i+6)): Redis packs them LSB first.
So whole-array work is a handful of big-int / bytes operations instead of 16384 Python
steps:

* histogram (what the estimator needs): registers are unpacked to one byte each with
  two shifts and slices, then counted by deleting values most-frequent-first with
  ``bytes.translate`` (about 2.5 passes over 16 KiB);
* max-merge (multi-key PFCOUNT, PFMERGE) works on 8-bit lanes (``spread`` 6 -> 8 bits,
  a borrow-guarded subtraction picks the larger lane, ``pack`` 8 -> 6 bits).

The estimator (:func:`estimate`) is hllCount's: Ertl's improved estimator with hllTau /
hllSigma, the same double operations in the same order, rounded like ``llroundl``.
"""

from __future__ import annotations

import math

REGISTERS = 16384
HLL_Q = 50
DENSE_BYTES = 12288
ALPHA_INF = 0.721347520444481703680  # 0.5/ln(2)


def _repeat(pattern: bytes, total: int) -> int:
    return int.from_bytes(pattern * (total // len(pattern)), "little")


_BIT7 = _repeat(b"\x80", REGISTERS)  # bit 7 of every 8-bit lane


def _spread_masks() -> list[tuple[int, int]]:
    """(mask, shift) per step of the 6 -> 8 bit lane spread, highest level first.

    Before the step for bit k, lane i sits at bit 6*lo + 8*hi (lo = i mod 2^(k+1),
    hi = i - lo); lanes with bit k of i set move left by 2^(k+1) bits. In each block of
    2^(k+1) lanes those lanes are the bit range [6*2^k, 12*2^k) of a 2^(k+4)-bit period."""
    steps = []
    for k in range(13, -1, -1):
        period_bytes = 1 << (k + 1)
        width = 6 << k
        pattern = (((1 << width) - 1) << width).to_bytes(period_bytes, "little")
        steps.append((_repeat(pattern, REGISTERS), 1 << (k + 1)))
    return steps


_SPREAD = _spread_masks()
_PACK = [(mask << shift, shift) for mask, shift in reversed(_SPREAD)]


def spread(d: int) -> int:
    """16384 6-bit lanes -> 16384 8-bit lanes (dense registers -> one byte per register)."""
    for mask, shift in _SPREAD:
        a = d & mask
        d = (d ^ a) | (a << shift)
    return d


def pack(r: int) -> int:
    """The inverse of :func:`spread` (lanes must be < 64)."""
    for mask, shift in _PACK:
        a = r & mask
        r = (r ^ a) | (a >> shift)
    return r


def max8(x: int, y: int) -> int:
    """Lane-wise max of two 8-bit-lane arrays (lanes < 128)."""
    ge = (((x | _BIT7) - y) & _BIT7) >> 7  # 1 in lanes where x >= y
    mask = (ge << 8) - ge
    return (x & mask) | (y & ~mask)


_ONLY = [bytes((v,)) for v in range(256)]


def histogram(regs: bytes) -> list[int]:
    """Counts of each register value 0..63 in ``regs`` (one byte per register, any order).

    Each count is the length lost by deleting that value (``bytes.translate`` with a delete
    set, C speed). Values are peeled most frequent first (as a 1-in-16 sample suggests), so
    the strings shrink fast: about 2.5 passes over 16 KiB in all, whatever the cardinality;
    the few registers left (values the sample missed) are counted one by one.
    """
    h = [0] * 64
    sample = regs[::16]
    left = len(sample)
    seen = []
    v = 0
    while left and v < 256:
        c = sample.count(v)
        if c:
            seen.append((c, v))
            left -= c
        v += 1
    seen.sort(reverse=True)
    s = regs
    for _, v in seen:
        if len(s) < 64:
            break
        rest = s.translate(None, _ONLY[v])
        h[v] = len(s) - len(rest)
        s = rest
    for b in s:
        h[b] += 1
    return h


_T_AND63 = bytes(b & 63 for b in range(256))
_T_SHR2 = bytes(b >> 2 for b in range(256))


def dense_parts(regs: bytes, d: int | None = None) -> bytes:
    """All 16384 registers of the 12288 dense bytes ``regs``, one byte each, grouped by
    register index mod 4 (register order lost: for histograms). ``d``: regs as an int."""
    if d is None:
        d = int.from_bytes(regs, "little")
    # in each 3-byte group: r0 = byte0 & 63, r1 / r2 = byte 0 of the stream shifted by 6 /
    # 12 bits, r3 = byte2 >> 2
    s6 = (d >> 6).to_bytes(DENSE_BYTES, "little")
    s12 = (d >> 12).to_bytes(DENSE_BYTES, "little")
    return b"".join(
        (
            regs[0::3].translate(_T_AND63),
            s6[0::3].translate(_T_AND63),
            s12[0::3].translate(_T_AND63),
            regs[2::3].translate(_T_SHR2),
        )
    )


def dense_raw(regs: bytes) -> bytearray:
    """All 16384 registers of the 12288 dense bytes ``regs``, one byte each, in order."""
    d = int.from_bytes(regs, "little")
    s6 = (d >> 6).to_bytes(DENSE_BYTES, "little")
    s12 = (d >> 12).to_bytes(DENSE_BYTES, "little")
    raw = bytearray(REGISTERS)
    raw[0::4] = regs[0::3].translate(_T_AND63)
    raw[1::4] = s6[0::3].translate(_T_AND63)
    raw[2::4] = s12[0::3].translate(_T_AND63)
    raw[3::4] = regs[2::3].translate(_T_SHR2)
    return raw


def dense_int(value: bytes, hdr: int = 16) -> int:
    return int.from_bytes(memoryview(value)[hdr : hdr + DENSE_BYTES], "little")


# --- the estimator ---------------------------------------------------------------------------
def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        z_prime = z
        z += x * y
        y += y
        if z_prime == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        z_prime = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if z_prime == z:
            return z / 3


def estimate(histo: list[int]) -> int:
    """hllCount's estimate from the register histogram (reghisto[0..63]), as the uint64
    Redis computes (2**63 when the estimate overflows; Redis replies it as a signed
    long long, see :func:`signed`)."""
    m = float(REGISTERS)
    z = m * _tau((m - histo[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += histo[j]
        z *= 0.5
    z += m * _sigma(histo[0] / m)
    e = ALPHA_INF * m * m / z if z else math.inf
    if not e < _TWO63:  # llroundl out of range (crafted registers): LLONG_MIN, as uint64
        return 1 << 63
    f = math.floor(e)  # llroundl: half away from zero (e >= 0)
    return int(f) + 1 if e - f >= 0.5 else int(f)


_TWO63 = float(1 << 63)


def signed(card: int) -> int:
    """A uint64 cardinality as Redis replies it (addReplyLongLong of a uint64_t)."""
    return card - (1 << 64) if card >= 1 << 63 else card
