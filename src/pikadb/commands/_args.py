"""Argument parsing shared by command families, with Redis's exact acceptance rules."""

from __future__ import annotations

import math

from pikadb.core import errors
from pikadb.core.errors import CommandError

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def parse_int(raw: bytes, message: str = errors.NOT_INTEGER) -> int:
    """Redis's string2ll: canonical decimal only (no '+', spaces or leading zeros), int64."""
    try:
        v = int(raw)
    except ValueError:
        raise CommandError(message) from None
    if b"%d" % v != raw or v < INT64_MIN or v > INT64_MAX:
        raise CommandError(message)
    return v


def parse_float(raw: bytes, message: str = errors.NOT_FLOAT) -> float:
    """Redis's string2ld/strtold rules: no spaces, no NaN; 'inf', '-inf', exponents ok."""
    if not raw or raw[:1].isspace() or raw[-1:].isspace():
        raise CommandError(message)
    try:
        v = float(raw)
    except ValueError:
        raise CommandError(message) from None
    if math.isnan(v) or b"_" in raw:
        raise CommandError(message)
    return v


def parse_db_index(raw: bytes, databases: int) -> int:
    """SELECT's index: getIntFromObjectOrReply (an int32), then the database range."""
    idx = parse_int(raw)
    if not -(2**31) <= idx < 2**31:
        raise CommandError(errors.INT_RANGE.format(-(2**31), 2**31 - 1))
    if idx < 0 or idx >= databases:
        raise CommandError(errors.DB_INDEX_OUT_OF_RANGE)
    return idx


def upper(raw: bytes) -> bytes:
    return raw.upper()
