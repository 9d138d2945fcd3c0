"""LZF, the compression RDB uses for strings longer than 20 bytes (Redis ``lzf_c.c``/``lzf_d.c``).

An LZF stream is a sequence of tokens, told apart by the top 3 bits of the first byte::

    literal run    000LLLLL  <L+1 bytes>                 copy 1..32 bytes as they are
    short backref  lllooooo  oooooooo                    l = 1..6: copy l+2 bytes
    long backref   111ooooo  LLLLLLLL  oooooooo          copy L+9 bytes (9..264)

A back-reference copies from ``offset + 1`` bytes behind the end of the output so far
(offset is 13 bits: 1..8192 bytes back); source and destination may overlap, the copy going
byte by byte (so ``"a"`` then a backref of offset 0, length 10 yields eleven ``a``).

There is no header: RDB stores the compressed and the uncompressed lengths itself (see
:mod:`pikadb.rdb.encoding`), and decompression must produce exactly the announced length.

The compressor here is a greedy single-pass matcher with a dictionary of 3-byte prefixes;
it produces valid LZF (any LZF decoder, Redis's included, reads it) but not byte-for-byte
what ``lzf_c.c`` would.
"""

from __future__ import annotations

import zlib

from pikadb.rdb.errors import corrupt

_MAX_LIT = 32  # longest literal run
_MAX_OFF = 1 << 13  # farthest back-reference (offset field + 1)
_MAX_REF = (1 << 8) + (1 << 3)  # longest back-reference: 264 bytes
_CHEAP_CHECK_FROM = 4096  # above this size, ask zlib first whether compressing can pay


def _flush_literals(out: bytearray, data: bytes, start: int, end: int) -> None:
    while start < end:
        run = min(_MAX_LIT, end - start)
        out.append(run - 1)
        out += data[start : start + run]
        start += run


def compress(data: bytes, max_out: int | None = None) -> bytes | None:
    """Compress ``data``; ``None`` if the result would be longer than ``max_out`` bytes.

    With ``max_out=None`` the result is returned whatever its size.
    """
    data = bytes(data)
    n = len(data)
    limit = max_out if max_out is not None else 1 << 62
    if n == 0:
        return b"" if limit >= 0 else None
    if max_out is not None and n >= _CHEAP_CHECK_FROM and len(zlib.compress(data, 1)) > max_out:
        # DEFLATE (LZ77 + Huffman) compresses at least as well as LZF in practice: if it
        # cannot save the bytes asked for, skip the slow pure-Python pass (storing the
        # string verbatim is always valid).
        return None
    out = bytearray()
    table: dict[bytes, int] = {}
    lit_start = 0
    i = 0
    last = n - 2  # a match needs 3 bytes
    while i < last:
        key = data[i : i + 3]
        ref = table.get(key)
        table[key] = i
        if ref is None or i - ref > _MAX_OFF:
            i += 1
            continue
        maxlen = min(_MAX_REF, n - i)
        if data[ref : ref + maxlen] == data[i : i + maxlen]:
            length = maxlen
        else:
            length = 3
            while data[ref + length] == data[i + length]:
                length += 1
        _flush_literals(out, data, lit_start, i)
        off = i - ref - 1
        code = length - 2
        if code < 7:
            out.append((code << 5) | (off >> 8))
        else:
            out.append((7 << 5) | (off >> 8))
            out.append(code - 7)
        out.append(off & 0xFF)
        # Remember the positions inside the match too (cheaply: only its last two).
        end = i + length
        for j in range(max(i + 1, end - 2), min(end, last)):
            table[data[j : j + 3]] = j
        i = end
        lit_start = i
        if len(out) > limit:
            return None
    _flush_literals(out, data, lit_start, n)
    if len(out) > limit:
        return None
    return bytes(out)


def decompress(data: bytes, out_len: int) -> bytes:
    """Decompress ``data``, which must expand to exactly ``out_len`` bytes.

    Raises :class:`pikadb.rdb.errors.RdbFormatError` on any malformed stream. Never
    allocates more than ``out_len`` bytes (plus one token), whatever the input claims.
    """
    data = bytes(data)
    n = len(data)
    if n == 0:
        if out_len == 0:
            return b""
        corrupt("empty LZF stream")
    out = bytearray()
    i = 0
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            run = ctrl + 1
            if i + run > n:
                corrupt("LZF literal run past the end of input")
            out += data[i : i + run]
            i += run
        else:
            length = ctrl >> 5
            if length == 7:
                if i >= n:
                    corrupt("LZF truncated back-reference")
                length += data[i]
                i += 1
            if i >= n:
                corrupt("LZF truncated back-reference")
            back = ((ctrl & 0x1F) << 8) + data[i] + 1
            i += 1
            length += 2
            start = len(out) - back
            if start < 0:
                corrupt("LZF back-reference before the start of output")
            if back >= length:
                out += out[start : start + length]
            else:
                pattern = bytes(out[start:])
                out += (pattern * (length // back + 1))[:length]
        if len(out) > out_len:
            corrupt("LZF output longer than announced")
    if len(out) != out_len:
        corrupt("LZF output shorter than announced")
    return bytes(out)
