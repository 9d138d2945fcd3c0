"""Exact emulation of the x86-64 ``long double`` arithmetic Redis uses for INCRBYFLOAT
(and HINCRBYFLOAT): parse with ``strtold`` rules, add with one rounding, print as
``%.17Lf`` with trailing zeros trimmed (Redis's ``ld2string(..., LD_STR_HUMAN)``).

The 80-bit extended format has a 64-bit significand and binary exponents -16382..16383
(subnormals below). Values are held exactly as ``(mantissa, exponent)`` integer pairs
meaning ``mantissa * 2**exponent``; every operation rounds the exact result once,
to nearest, ties to even, as the x87 unit does. ``None`` stands for "not a valid float",
:data:`INF` / :data:`NEG_INF` for the infinities (their arithmetic is never needed:
any infinite operand makes the command fail).

    +-----------------+------------------------------------------------------------+
    | input text      | accepted forms (after Redis's checks)                      |
    +-----------------+------------------------------------------------------------+
    | decimal         | [+-] digits [. digits] [e [+-] digits]  (or .digits)       |
    | hexadecimal     | [+-] 0x hexdigits [. hexdigits] [p [+-] digits]            |
    | infinity        | [+-] inf | infinity   (any case)                           |
    | rejected        | empty, >= 5120 bytes, leading space, trailing garbage, nan,|
    |                 | overflow to +-inf, underflow of a non-zero value to 0, NUL |
    +-----------------+------------------------------------------------------------+
"""

from __future__ import annotations

import re

Value = tuple[int, int]  # (signed mantissa, binary exponent): mantissa * 2**exponent

INF: Value = (1, 1 << 30)  # sentinels, far outside any finite exponent
NEG_INF: Value = (-1, 1 << 30)

_MANT = 64
_EMIN = -16382  # exponent of the smallest normal value (1.0 * 2**_EMIN)
_EMAX = 16383
_MIN_QUANTUM = _EMIN - (_MANT - 1)  # exponent of the smallest subnormal
MAX_CHARS = 5 * 1024  # Redis's MAX_LONG_DOUBLE_CHARS

_DEC = re.compile(rb"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")
_HEX = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?")
_INF = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)


_CHUNK = 4000  # decimal digits per int<->str step (CPython limits one step to 4300)
_CHUNK_POW = 10**_CHUNK


def _int10(digits: bytes) -> int:
    """int(digits) for digit strings of any length."""
    if len(digits) <= _CHUNK:
        return int(digits)
    n = 0
    for i in range(0, len(digits), _CHUNK):
        part = digits[i : i + _CHUNK]
        n = n * 10 ** len(part) + int(part)
    return n


def _str10(n: int) -> bytes:
    """b"%d" % n for non-negative ints of any size."""
    if n < _CHUNK_POW:
        return b"%d" % n
    hi, lo = divmod(n, _CHUNK_POW)
    return _str10(hi) + b"%0*d" % (_CHUNK, lo)


def _exponent(text: bytes | None) -> int:
    """An exponent field, clamped (anything beyond 10**9 over- or underflows anyway)."""
    if not text:
        return 0
    digits = text.lstrip(b"+-").lstrip(b"0")
    if len(digits) > 9:
        return -(10**9) if text[:1] == b"-" else 10**9
    return int(text)


def is_inf(v: Value) -> bool:
    return v[1] == INF[1]


def _round(neg: bool, n: int, d: int, exp2: int) -> Value | None:
    """Round ``(n / d) * 2**exp2`` (n, d > 0) to extended precision; None on overflow."""
    # e = floor(log2(n / d))
    e = n.bit_length() - d.bit_length()
    if (n << -e if e < 0 else n) < (d << e if e > 0 else d):
        e -= 1
    e += exp2
    quantum = max(e - (_MANT - 1), _MIN_QUANTUM)
    shift = exp2 - quantum  # n * 2**shift / d is the value in units of 2**quantum
    if shift >= 0:
        q, r = divmod(n << shift, d)
    else:
        d <<= -shift
        q, r = divmod(n, d)
    r2 = r << 1
    if r2 > d or (r2 == d and q & 1):
        q += 1
    if q == 0:
        return (0, 0)
    if q.bit_length() + quantum > _EMAX + 1:
        return None
    return (-q if neg else q, quantum)


def parse(raw: bytes) -> Value | None:
    """Redis's ``string2ld``: the value, or None when Redis says "not a valid float"."""
    if not raw or len(raw) >= MAX_CHARS:
        return None
    m = _DEC.fullmatch(raw)
    if m is not None:
        sign, whole, frac, exp = m.groups()
        frac = frac or b""
        if not whole and not frac:
            return None
        digits = (whole + frac).lstrip(b"0")
        if not digits:
            return (0, 0)
        e10 = _exponent(exp) - len(frac)
        magnitude = e10 + len(digits)  # value < 10**magnitude
        if magnitude > 4934:
            return None  # overflow: strtold gives HUGE_VAL with ERANGE
        if magnitude < -4952:
            return None  # underflow to zero with ERANGE
        n = _int10(digits)
        if e10 >= 0:
            return _round(sign == b"-", n * 10**e10, 1, 0)
        v = _round(sign == b"-", n, 10**-e10, 0)
        return None if v is None or v[0] == 0 else v
    m = _HEX.fullmatch(raw)
    if m is not None:
        sign, whole, frac, exp = m.groups()
        frac = frac or b""
        if not whole and not frac:
            return None
        n = int(whole + frac, 16) if whole + frac else 0
        if n == 0:
            return (0, 0)
        e2 = _exponent(exp) - 4 * len(frac)
        if e2 + n.bit_length() > _EMAX + 2:
            return None
        if e2 + n.bit_length() < _MIN_QUANTUM - 2:
            return None
        v = _round(sign == b"-", n, 1, e2)
        return None if v is None or v[0] == 0 else v
    m = _INF.fullmatch(raw)
    if m is not None:
        return NEG_INF if m.group(1) == b"-" else INF
    return None


def add(a: Value, b: Value) -> Value | None:
    """``a + b`` rounded once; None when the sum is infinite or NaN."""
    if is_inf(a) or is_inf(b):
        return None
    (ma, ea), (mb, eb) = a, b
    if ma == 0:
        return b
    if mb == 0:
        return a
    e = min(ea, eb)
    s = (ma << (ea - e)) + (mb << (eb - e))
    if s == 0:
        return (0, 0)
    return _round(s < 0, abs(s), 1, e)


_SCALE = 10**17


def format_human(v: Value) -> bytes:
    """``%.17Lf`` with trailing zeros (and a bare '.') removed; "-0" becomes "0"."""
    m, e = v
    neg = m < 0
    m = abs(m)
    if e >= 0:
        scaled = (m << e) * _SCALE
    else:
        n = m * _SCALE
        d = 1 << -e
        scaled, r = divmod(n, d)
        r2 = r << 1
        if r2 > d or (r2 == d and scaled & 1):
            scaled += 1
    whole, frac = divmod(scaled, _SCALE)
    text = _str10(whole)
    if frac:
        text += b".%017d" % frac
        text = text.rstrip(b"0")
    if neg and text != b"0":
        return b"-" + text
    return text
