"""Longest common subsequence for LCS, walking the table exactly as Redis 7's lcsCommand.

Redis fills an (|a|+1) x (|b|+1) table of LCS lengths and walks it back from the end; the
walk's tie-breaking decides which subsequence and which match ranges are reported, so it
is reproduced step for step. The table itself is never built: a bit-parallel LCS (Hyyrö)
keeps, for each prefix of the shorter string, one integer whose bit j is 0 exactly when
the row of the table grows between columns j and j+1. Then

    LCS(prefix i, prefix j) = j - popcount(row_i & (2**j - 1))

which costs one big-integer operation per row to build and one per lookup.
"""

from __future__ import annotations

from collections.abc import Callable


def _rows(short: bytes, long: bytes) -> list[int]:
    """Row bit-vectors over ``long`` for every prefix of ``short`` (row 0 = all ones)."""
    m = len(long)
    full = (1 << m) - 1
    rev = long[::-1]  # bit j of a mask is long[j]: the last character is the top bit
    masks: dict[int, int] = {}
    for ch in set(long):
        table = bytearray(b"0" * 256)
        table[ch] = 0x31
        masks[ch] = int(rev.translate(table), 2)
    v = full
    rows = [v]
    append = rows.append
    get = masks.get
    for ch in short:
        u = v & get(ch, 0)
        v = ((v + u) | (v - u)) & full
        append(v)
    return rows


def table(a: bytes, b: bytes) -> Callable[[int, int], int]:
    """``lcs(i, j)``: the LCS length of ``a[:i]`` and ``b[:j]``."""
    if len(a) <= len(b):
        rows = _rows(a, b)

        def lcs(i: int, j: int) -> int:
            return j - (rows[i] & ((1 << j) - 1)).bit_count()

    else:
        rows = _rows(b, a)

        def lcs(i: int, j: int) -> int:
            return i - (rows[j] & ((1 << i) - 1)).bit_count()

    return lcs


Match = tuple[int, int, int, int, int]  # a start, a end, b start, b end, length


def lcs(a: bytes, b: bytes, want_string: bool, min_len: int = 0) -> tuple[int, bytes, list[Match]]:
    """(length, the subsequence (if ``want_string``), match ranges of at least ``min_len``)
    in the order Redis emits them (from the end of the strings backwards)."""
    alen, blen = len(a), len(b)
    if not alen or not blen:
        return 0, b"", []
    at = table(a, b)
    total = at(alen, blen)
    if not want_string:
        return total, b"", []
    out = bytearray(total)
    idx = total
    matches: list[Match] = []
    a_start = alen  # alen: no range open
    a_end = b_start = b_end = 0
    i, j = alen, blen
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out[idx - 1] = a[i - 1]
            if a_start == alen:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if at(i - 1, j) > at(i, j - 1):
                i -= 1
            else:
                j -= 1
            if a_start != alen:
                emit = True
        if emit:
            n = a_end - a_start + 1
            if min_len == 0 or n >= min_len:
                matches.append((a_start, a_end, b_start, b_end, n))
            a_start = alen
    return total, bytes(out), matches
