"""pikadb.core.glob: Redis's stringmatchlen, checked against documented cases and against a
literal (recursive) transliteration of Redis 7 util.c."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pikadb.core.glob import has_glob_chars, stringmatch, stringmatch_str


def _lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def _signed(b: int) -> int:
    return b - 256 if b >= 128 else b


def reference(pattern: bytes, string: bytes, nocase: bool) -> bool:
    """stringmatchlen_impl from Redis 7 util.c, line by line (recursion and all)."""
    P, S = pattern + b"\0", string + b"\0"  # the C terminators the code peeks at
    skip = [False]

    def impl(p: int, plen: int, s: int, slen: int, nesting: int) -> bool:
        if nesting > 1000:
            return False
        while plen and slen:
            c = P[p]
            if c == ord("*"):
                while plen and P[p + 1] == ord("*"):
                    p += 1
                    plen -= 1
                if plen == 1:
                    return True
                while slen:
                    if impl(p + 1, plen - 1, s, slen, nesting + 1):
                        return True
                    if skip[0]:
                        return False
                    s += 1
                    slen -= 1
                skip[0] = True
                return False
            elif c == ord("?"):
                s += 1
                slen -= 1
            elif c == ord("["):
                p += 1
                plen -= 1
                neg = P[p] == ord("^")
                if neg:
                    p += 1
                    plen -= 1
                match = False
                while True:
                    if P[p] == ord("\\") and plen >= 2:
                        p += 1
                        plen -= 1
                        if P[p] == S[s]:
                            match = True
                    elif P[p] == ord("]"):
                        break
                    elif plen == 0:
                        p -= 1
                        plen += 1
                        break
                    elif plen >= 3 and P[p + 1] == ord("-"):
                        start, end, ch = _signed(P[p]), _signed(P[p + 2]), _signed(S[s])
                        if start > end:
                            start, end = end, start
                        if nocase:
                            start, end, ch = _lower(start), _lower(end), _lower(ch)
                        p += 2
                        plen -= 2
                        if start <= ch <= end:
                            match = True
                    elif not nocase:
                        if P[p] == S[s]:
                            match = True
                    elif _lower(P[p]) == _lower(S[s]):
                        match = True
                    p += 1
                    plen -= 1
                if neg:
                    match = not match
                if not match:
                    return False
                s += 1
                slen -= 1
            else:
                if c == ord("\\") and plen >= 2:
                    p += 1
                    plen -= 1
                if not nocase:
                    if P[p] != S[s]:
                        return False
                elif _lower(P[p]) != _lower(S[s]):
                    return False
                s += 1
                slen -= 1
            p += 1
            plen -= 1
            if slen == 0:
                while P[p] == ord("*"):
                    p += 1
                    plen -= 1
                break
        return plen == 0 and slen == 0

    return impl(0, len(pattern), 0, len(string), 0)


# Redis documentation (KEYS) examples and the classic edge cases.
CASES = [
    (b"h?llo", b"hello", True),
    (b"h?llo", b"hallo", True),
    (b"h?llo", b"hxllo", True),
    (b"h?llo", b"hllo", False),
    (b"h*llo", b"hllo", True),
    (b"h*llo", b"heeeello", True),
    (b"h*llo", b"heeeellox", False),
    (b"h[ae]llo", b"hello", True),
    (b"h[ae]llo", b"hallo", True),
    (b"h[ae]llo", b"hillo", False),
    (b"h[^e]llo", b"hallo", True),
    (b"h[^e]llo", b"hbllo", True),
    (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hallo", True),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[a-b]llo", b"hcllo", False),
    (b"h[b-a]llo", b"hallo", True),  # reversed range
    (b"h\\*llo", b"h*llo", True),  # escaped star is literal
    (b"h\\*llo", b"hello", False),
    (b"h\\?llo", b"h?llo", True),
    (b"h\\?llo", b"hello", False),
    (b"h[\\]]llo", b"h]llo", True),  # escape inside a set
    (b"h[\\^]llo", b"h^llo", True),
    (b"h[a-]llo", b"h]", True),  # 'a-]' is the range ']'..'a' and the set runs on to the end
    (b"h[a-]llo", b"h]llo", False),
    (b"h[ab", b"hb", True),  # unterminated set runs to the end
    (b"h[ab", b"hc", False),
    (b"\\", b"\\", True),  # lone trailing backslash is literal
    (b"a\\", b"a\\", True),
    (b"*", b"anything", True),
    (b"*", b"", False),  # callers special-case "*" (KEYS/SCAN)
    (b"", b"", True),
    (b"", b"a", False),
    (b"a*", b"a", True),
    (b"a*b", b"a", False),
    (b"*a*", b"a", True),
    (b"**a**", b"xa", True),
    (b"?", b"", False),
    (b"[]", b"]", False),
    (b"a*b*c", b"axxbyyc", True),
    (b"a*b*c", b"axxbyy", False),
    (b"\xff*", b"\xff\x00", True),  # binary safe
    (b"k\x00?", b"k\x00z", True),
]


@pytest.mark.parametrize(("pattern", "string", "expected"), CASES)
def test_documented_cases(pattern: bytes, string: bytes, expected: bool) -> None:
    assert stringmatch(pattern, string) is expected
    assert reference(pattern, string, False) is expected


@pytest.mark.parametrize(
    ("pattern", "string", "expected"),
    [
        (b"HELLO", b"hello", True),
        (b"h?LLO", b"Hallo", True),
        (b"H[AE]llo", b"hello", True),
        (b"h[A-C]llo", b"hbllo", True),
        (b"h[^E]llo", b"hello", False),
        (b"h[\\E]llo", b"hello", False),  # escapes inside sets stay case-sensitive
        (b"MAX*", b"maxclients", True),
    ],
)
def test_nocase(pattern: bytes, string: bytes, expected: bool) -> None:
    assert stringmatch(pattern, string, nocase=True) is expected
    assert reference(pattern, string, True) is expected


@pytest.mark.parametrize(
    ("pattern", "string"),
    [(b"HELLO", b"hello"), (b"h?LLO", b"Hallo"), (b"H[AE]llo", b"hello"), (b"MAX*", b"max")],
)
def test_case_sensitive_by_default(pattern: bytes, string: bytes) -> None:
    assert stringmatch(pattern, string) is False


def test_high_bytes_compare_as_signed_chars() -> None:
    # 'a'..0xff as signed chars is the range -1..97: 0x80 (-128) is outside, '\x00' inside.
    assert stringmatch(b"[a-\xff]", b"\x00") is True
    assert stringmatch(b"[a-\xff]", b"\x80") is False
    assert stringmatch(b"[a-\xff]", b"b") is False


def test_nesting_limit_of_redis_7() -> None:
    assert stringmatch(b"*a" * 1000, b"a" * 1000) is True
    assert stringmatch(b"*a" * 1001, b"a" * 1001) is False  # more than 1000 nested '*'
    assert stringmatch(b"*a" * 1000 + b"*", b"a" * 1000 + b"b") is True  # a final '*' is free


def test_abusive_patterns_are_fast() -> None:
    start = time.monotonic()
    assert stringmatch(b"a*" * 30 + b"b", b"a" * 60) is False  # keyspace.tcl regression
    assert stringmatch(b"*?" * 50000, b"a" * 120) is False  # "very long nested loops"
    assert time.monotonic() - start < 2.0


_ALPHABET = st.sampled_from([b"a", b"b", b"A", b"*", b"?", b"[", b"]", b"^", b"-", b"\\", b"\xff"])
_TEXT = st.lists(st.sampled_from([b"a", b"b", b"A", b"]", b"-", b"*", b"\\", b"\xff", b"\x00"]))


@settings(max_examples=1000, deadline=None)
@given(
    pattern=st.lists(_ALPHABET, max_size=10).map(b"".join),
    string=_TEXT.map(b"".join),
    nocase=st.booleans(),
)
def test_matches_the_c_code(pattern: bytes, string: bytes, nocase: bool) -> None:
    assert stringmatch(pattern, string, nocase) is reference(pattern, string, nocase)


def test_str_wrapper_and_glob_detection() -> None:
    assert stringmatch_str("slowlog-*", "slowlog-max-len")
    assert stringmatch_str("ü*", "über")
    assert has_glob_chars("max*") and has_glob_chars(b"a[b") and has_glob_chars("a?")
    assert not has_glob_chars("maxclients") and not has_glob_chars(b"port")
