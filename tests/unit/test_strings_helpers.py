"""The pure helpers behind INCRBYFLOAT (long double emulation) and LCS (bit-parallel table).

Expected texts were taken from redis-server 7.0.15 replies."""

from __future__ import annotations

import random

import pytest

from pikadb.commands import _lcs
from pikadb.commands import _longdouble as LD


def incrbyfloat(old: bytes, by: bytes) -> bytes | None:
    a, b = LD.parse(old), LD.parse(by)
    if a is None or b is None:
        return None
    s = LD.add(a, b)
    return None if s is None else LD.format_human(s)


@pytest.mark.parametrize(
    ("old", "by", "expected"),
    [
        (b"10", b"10.5", b"20.5"),
        (b"20.5", b"3.0e3", b"3020.5"),
        (b"0", b"0.1", b"0.1"),
        (b"0.1", b"0.2", b"0.3"),
        (b"0.3", b"-0.3", b"0"),
        (b"0", b"-0", b"0"),
        (b"0", b"1.", b"1"),
        (b"1", b"0.5", b"1.5"),
        (b"1", b".5", b"1.5"),
        (b"0", b"0x10", b"16"),
        (b"16", b"0x1p3", b"24"),
        (b"24", b"1e-400", b"24"),
        (b"0", b"-1e-20", b"0"),
        (b"0", b"5.0e3", b"5000"),
        (b"0", b"1e20", b"100000000000000000000"),
        (b"0", b"-1.5", b"-1.5"),
        (b"1.7976931348623157e308", b"1e308", None),  # fine for long double: no error
    ],
)
def test_incrbyfloat_texts(old: bytes, by: bytes, expected: bytes | None) -> None:
    got = incrbyfloat(old, by)
    if expected is None:
        assert got is not None and len(got) == 309
    else:
        assert got == expected


def test_incrbyfloat_huge_value_is_printed_in_full() -> None:
    got = incrbyfloat(b"3020.5", b"1e400")
    assert got is not None and len(got) == 401
    assert got.startswith(b"10000000000000000000281880683947586514586453433629052038625910")
    assert got.endswith(b"221946880")
    assert incrbyfloat(got, b"-1e400") == b"0"


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b" 1",
        b"1 ",
        b"1e",
        b"0x",
        b"0x1p",
        b"abc",
        b"nan",
        b"-nan",
        b"1_0",
        b"1\x00",
        b"\x00",
        b"1e5000",
        b"1e-5000",
        b"1e99999999999",
        b"1e-99999999999",
        b"1" * 5120,
        b"++1",
        b"infinit",
        b"1..2",
        b".",
    ],
)
def test_parse_rejects(text: bytes) -> None:
    assert LD.parse(text) is None


@pytest.mark.parametrize(
    "text",
    [
        b"+1.5",
        b"-.5",
        b"1.",
        b"0e99999999999",
        b"1e-400",
        b"inf",
        b"-Infinity",
        b"0X1.8P1",
        b"1" * 4000 + b"e-3990",
        b"0." + b"0" * 5000 + b"1e4990",
    ],
)
def test_parse_accepts(text: bytes) -> None:
    assert LD.parse(text) is not None


def test_infinity_makes_the_sum_fail() -> None:
    assert incrbyfloat(b"1", b"inf") is None
    assert incrbyfloat(b"inf", b"-inf") is None
    big = b"1.18973149535723176502e4932"  # LDBL_MAX
    assert LD.parse(big) is not None
    assert incrbyfloat(big, big) is None  # overflows to infinity


def test_long_values_round_trip_exactly() -> None:
    v = LD.parse(b"123456789.123456789")
    assert v is not None
    text = LD.format_human(v)
    assert LD.parse(text) == v


def naive_lcs_table(a: bytes, b: bytes) -> list[list[int]]:
    t = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                t[i][j] = t[i - 1][j - 1] + 1
            else:
                t[i][j] = max(t[i - 1][j], t[i][j - 1])
    return t


def test_lcs_table_matches_dynamic_programming() -> None:
    rnd = random.Random(7)
    for _ in range(300):
        a = bytes(rnd.choice(b"abc") for _ in range(rnd.randint(0, 14)))
        b = bytes(rnd.choice(b"abcd") for _ in range(rnd.randint(0, 14)))
        f = _lcs.table(a, b)
        t = naive_lcs_table(a, b)
        for i in range(len(a) + 1):
            for j in range(len(b) + 1):
                assert f(i, j) == t[i][j]


def test_lcs_redis_example() -> None:
    length, text, matches = _lcs.lcs(b"ohmytext", b"mynewtext", True)
    assert (length, text) == (6, b"mytext")
    assert matches == [(4, 7, 5, 8, 4), (2, 3, 0, 1, 2)]
    assert _lcs.lcs(b"ohmytext", b"mynewtext", True, 4)[2] == [(4, 7, 5, 8, 4)]
    assert _lcs.lcs(b"ohmytext", b"mynewtext", False) == (6, b"", [])
    assert _lcs.lcs(b"", b"abc", True) == (0, b"", [])
