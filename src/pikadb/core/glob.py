"""Redis glob-style pattern matching (``util.c: stringmatchlen``), byte for byte.

Used by KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE, ... Supported syntax:

* ``*`` any run of bytes, ``?`` exactly one byte;
* ``[abc]`` a set, ``[^abc]`` its complement, ``[a-z]`` a range (ends may be reversed:
  ``[z-a]`` is the same range), ``\\x`` inside a set is a literal ``x``;
* ``\\x`` outside a set matches ``x`` literally (a trailing lone ``\\`` matches ``\\``).

The quirks of the C code are kept on purpose, because clients can observe them:

* An unterminated set (``h[ab``) runs to the end of the pattern.
* Range ends are compared as *signed* chars (x86-64 ``char``), so a range such as
  ``[a-\\xff]`` behaves as Redis does there.
* With ``nocase`` only ASCII letters fold (C locale ``tolower``), and a ``\\x`` escape
  inside a set is always compared case-sensitively.
* The empty string never matches a non-empty pattern, not even ``*``: Redis's callers
  (KEYS, SCAN) special-case the lone ``*`` pattern before calling the matcher; do the same.
* Patterns nesting more than 1000 ``*`` groups on the matched path stop matching (the
  Redis 7 protection against abusive patterns, CVE-2022-36021).

The C code recurses at each ``*``; with its ``skipLongerMatches`` short-cut only the most
recent ``*`` ever backtracks, so this port is an equivalent loop with one backtrack point
(no Python recursion, no exponential blow-up).
"""

from __future__ import annotations

__all__ = ["MAX_NESTING", "has_glob_chars", "stringmatch", "stringmatch_str"]

MAX_NESTING = 1000
_STAR, _QMARK, _LBRACKET, _RBRACKET = ord("*"), ord("?"), ord("["), ord("]")
_BACKSLASH, _CARET, _DASH = ord("\\"), ord("^"), ord("-")


def _lower(c: int) -> int:
    """C-locale ``tolower`` on an ``int`` (signed or not): only ``A``-``Z`` change."""
    return c + 32 if 65 <= c <= 90 else c


def _signed(b: int) -> int:
    """A byte as x86-64 ``char`` (signed), the way the C code reads range ends."""
    return b - 256 if b >= 128 else b


def stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Return True if ``string`` matches the glob ``pattern`` exactly as Redis 7 decides."""
    plen, slen = len(pattern), len(string)

    def pat(i: int) -> int:  # C reads the NUL terminator past the end.
        return pattern[i] if i < plen else 0

    p = s = 0
    back_p = back_s = -1  # where to retry after the most recent '*', -1: none yet
    nesting = 0
    while True:
        failed = False
        while p < plen and s < slen:
            c = pattern[p]
            if c == _STAR:
                while pat(p + 1) == _STAR:
                    p += 1
                if plen - p == 1:
                    return True  # a trailing '*' swallows the rest
                nesting += 1
                if nesting > MAX_NESTING:
                    return False
                back_p, back_s = p + 1, s
                p += 1
                continue
            if c == _QMARK:
                s += 1
            elif c == _LBRACKET:
                p += 1
                negate = pat(p) == _CARET
                if negate:
                    p += 1
                match = False
                sc = string[s]
                while True:
                    if pat(p) == _BACKSLASH and plen - p >= 2:
                        p += 1
                        if pattern[p] == sc:
                            match = True
                    elif pat(p) == _RBRACKET:
                        break
                    elif p >= plen:  # unterminated set: step back onto the last byte
                        p -= 1
                        break
                    elif plen - p >= 3 and pattern[p + 1] == _DASH:
                        start, end, ch = _signed(pattern[p]), _signed(pattern[p + 2]), _signed(sc)
                        if start > end:
                            start, end = end, start
                        if nocase:
                            start, end, ch = _lower(start), _lower(end), _lower(ch)
                        p += 2
                        if start <= ch <= end:
                            match = True
                    elif nocase:
                        if _lower(pattern[p]) == _lower(sc):
                            match = True
                    elif pattern[p] == sc:
                        match = True
                    p += 1
                if negate:
                    match = not match
                if not match:
                    failed = True
                    break
                s += 1
            else:
                if c == _BACKSLASH and plen - p >= 2:
                    p += 1
                    c = pattern[p]
                sc = string[s]
                if (_lower(c) != _lower(sc)) if nocase else (c != sc):
                    failed = True
                    break
                s += 1
            p += 1
            if s == slen:
                while pat(p) == _STAR:
                    p += 1
                break
        if not failed and p >= plen and s == slen:
            return True
        # This attempt failed: let the most recent '*' swallow one more byte. The C code
        # never retries the rest of the pattern against an empty remainder.
        if back_p < 0:
            return False
        back_s += 1
        if back_s >= slen:
            return False
        p, s = back_p, back_s


def stringmatch_str(pattern: str, string: str, nocase: bool = False) -> bool:
    """:func:`stringmatch` for text (UTF-8, lone surrogates kept via ``surrogateescape``)."""
    return stringmatch(
        pattern.encode("utf-8", "surrogateescape"),
        string.encode("utf-8", "surrogateescape"),
        nocase,
    )


def has_glob_chars(pattern: bytes | str) -> bool:
    """True if ``pattern`` contains ``[``, ``*`` or ``?`` (Redis's ``strpbrk(p, "[*?")``).

    CONFIG GET treats a name without them as an exact (case-insensitive) lookup.
    """
    if isinstance(pattern, str):
        return any(c in pattern for c in "[*?")
    return any(c in pattern for c in b"[*?")
