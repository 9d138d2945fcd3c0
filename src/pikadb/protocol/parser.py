"""Sans-IO RESP request parser: bytes in, commands out (no sockets, no asyncio).

Wire format of a request (Redis "unified protocol"), and what we accept::

    +-----------+-------------------------------------------+-------------------------------+
    | multibulk | *<n>\\r\\n then n x $<len>\\r\\n<bytes>\\r\\n   | hiredis (C) on the fast path  |
    | inline    | <words separated by spaces>\\r\\n            | Python (sdssplitargs rules)   |
    +-----------+-------------------------------------------+-------------------------------+

A command is a ``list[bytes]``. Like Redis, a request that starts with ``*`` is multibulk and
anything else is inline; ``*0`` and ``*-1`` (any count <= 0) are skipped. Errors are Redis's
texts (after ``Protocol error: ``). Limits are enforced *before* data is buffered without
bound: a bulk length above ``max_bulk_len`` is refused as soon as its header arrives, a header
line or inline request running past 64 KiB without its line end is refused, and a pending
request larger than ``max_query_buffer`` is refused.

How the fast path stays exact. hiredis parses *replies*, so it accepts more than Redis accepts
in a request (``+simple``, ``:int``, nested arrays, ``$-1`` elements) and it knows nothing of
inline requests; and it does not say where a frame ends. So:

* the frame that is still incomplete at the end of a read is walked in Python by a
  :class:`_Frame` (Redis's processMultibulkBuffer rules, incrementally: bodies are skipped by
  arithmetic, never copied), which refuses bad headers at once and knows where the frame ends;
* complete frames returned by hiredis are accounted: each must be exactly as long as its args
  encoded as bulks (``*n``, ``$len`` ...), so the byte after them is a frame boundary. Any
  disagreement (a non-bulk element, a hiredis error, an inline request after a frame, ...)
  sends the read, from the last known boundary, through the exact pure-Python parser.

After an error the parser is dead: Redis replies the error and closes the connection.
"""

from __future__ import annotations

import re

import hiredis

from pikadb.core import errors

INLINE_MAX = 64 * 1024  # PROTO_INLINE_MAX_SIZE
INT_MAX = 2**31 - 1
# Before AUTH (processMultibulkBuffer when authRequired): at most 10 args of 16 KiB each.
UNAUTH_MAX_COUNT = 10
UNAUTH_MAX_BULK = 16384
_LLONG_MIN = -(2**63)
_LLONG_MAX = 2**63 - 1
_QUERY_BUFFER_LIMIT = "client query buffer limit reached"
# The error a parser reports when its pending input passed max_query_buffer: Redis replies
# nothing then, it logs and closes the client (the connection checks for this text).
QUERY_BUFFER_LIMIT_ERROR = "ERR " + _QUERY_BUFFER_LIMIT

# Encoded sizes, for accounting: "*<n>\r\n" and "$<len>\r\n" + body + "\r\n" - len.
_HDR_SIZE = [len(str(n)) + 3 for n in range(1024)]
_ARG_SIZE = [len(str(n)) + 5 for n in range(1 << 16)]
_BIG = len(_ARG_SIZE)
# hiredis allocates the whole array when it reads "*<n>" (and freeing 2^31 slots takes
# seconds): an incomplete frame announcing more args than this is parsed in Python, which
# grows its list as args arrive. A "*" and 6+ digits anywhere after the first frame's start
# (a nested array, a protocol error anyway, would make hiredis allocate 2^31 slots and stall
# the server for seconds: found by tests/fuzz) sends the read to the exact path, which
# refuses a nested array at its header.
BIG_COUNT = 100_000
_NESTED_BIG = re.compile(rb"\*[0-9]{6}")

_LL_RE = re.compile(rb"-?[1-9][0-9]{0,19}|0")


def string2ll(s: bytes) -> int | None:
    """Redis's string2ll: optional '-', no '+', no leading zeros or spaces, fits in int64."""
    if _LL_RE.fullmatch(s) is None:
        return None
    v = int(s)
    return v if _LLONG_MIN <= v <= _LLONG_MAX else None


def _encoded_size(frames: list[list[bytes]], max_bulk: int) -> int:
    """Bytes the frames take when every element is a canonical bulk, or -1 when an element
    is not bytes (an integer, a null...) or longer than ``max_bulk``: the caller then
    re-parses exactly. Nested arrays and simple strings have other sizes: the caller's
    byte accounting catches them."""
    size = 0
    try:
        if max_bulk >= _BIG:
            for f in frames:  # the hot loop: plain Python is faster here than map/sum
                size += _HDR_SIZE[len(f)]
                for a in f:
                    la = len(a)
                    size += la + _ARG_SIZE[la]
            return size
    except TypeError:
        return -1
    except IndexError:  # an element >= 64 KiB or a frame of >= 1024 args
        size = 0
    for f in frames:
        if type(f) is not list:
            return -1
        size += len(str(len(f))) + 3
        for a in f:
            if type(a) is not bytes or len(a) > max_bulk:
                return -1
            size += len(a) + len(str(len(a))) + 5
    return size


def _big_count_at(data: bytes, pos: int) -> bool:
    """Whether the frame at ``pos`` announces more than BIG_COUNT args that ``data`` cannot
    hold (so hiredis would allocate them up front for a frame that is not there)."""
    cr = data.find(b"\r", pos + 1, pos + 24)
    count = string2ll(data[pos + 1 : cr]) if cr != -1 else None
    return count is None or (count > BIG_COUNT and len(data) - pos < 6 * count)


class _Frame:
    """One multibulk frame walked incrementally under Redis's rules.

    :meth:`advance` consumes bytes from ``data[pos:]`` and returns the offset just past the
    frame's end, -1 when all of ``data`` was consumed and the frame is still incomplete, or
    raises :class:`_Bad` with the protocol error. With ``collect`` the args are kept; a frame
    that announces more than ``BIG_COUNT`` args starts collecting by itself (``args`` is no
    longer None), as hiredis would allocate the whole array up front.
    """

    __slots__ = ("args", "body", "line", "line_len", "need", "pieces", "size", "unauth")

    def __init__(self, collect: bool, unauth: bool = False) -> None:
        self.need = -1  # args still to come; -1: the "*<n>" line is not parsed yet
        self.body = -1  # bytes left of the current bulk incl. its CRLF; -1: expect "$<len>"
        self.line: list[bytes] = []  # pieces of an incomplete header line
        self.line_len = 0
        self.size = 0  # bytes of the frame seen so far
        self.args: list[bytes] | None = [] if collect else None
        self.pieces: list[bytes] = []  # pieces of the bulk being collected
        self.unauth = unauth  # the client is not authenticated: Redis's tighter limits

    def advance(self, data: bytes, pos: int, max_bulk: int) -> int:
        n = len(data)
        start = pos
        while True:
            if self.body >= 0:  # inside a bulk body: skip (or collect) it
                take = min(self.body, n - pos)
                if self.args is not None:
                    self.pieces.append(data[pos : pos + take])
                self.body -= take
                pos += take
                if self.body:
                    break
                if self.args is not None:
                    # Redis does not check the CRLF after the body: neither do we
                    arg = b"".join(self.pieces)
                    self.args.append(arg[:-2])
                    self.pieces = []
                self.body = -1
                self.need -= 1
                if self.need == 0:
                    self.size += pos - start
                    return pos
                continue
            # a header line: Redis looks for '\r' and skips it plus the next byte
            if self.line and self.line[-1][-1:] == b"\r":  # '\r' ended the previous read
                if pos >= n:
                    break
                line = b"".join(self.line)[:-1]
                self.line = []
                self.line_len = 0
                pos += 1
            else:
                cr = data.find(b"\r", pos)
                if cr == -1 or cr + 1 >= n:
                    if self.line_len + n - pos > INLINE_MAX:
                        raise _Bad(
                            errors.PROTO_TOO_BIG_MBULK
                            if self.need < 0
                            else errors.PROTO_TOO_BIG_BULK
                        )
                    if pos < n:
                        self.line.append(data[pos:])
                        self.line_len += n - pos
                    pos = n
                    break
                if self.line:
                    line = b"".join(self.line) + data[pos:cr]
                    self.line = []
                    self.line_len = 0
                else:
                    line = data[pos:cr]
                pos = cr + 2
            if self.need < 0:
                count = string2ll(line[1:])
                if count is None or count > INT_MAX:
                    raise _Bad(errors.PROTO_INVALID_MULTIBULK)
                if count > UNAUTH_MAX_COUNT and self.unauth:
                    raise _Bad(errors.PROTO_UNAUTH_MULTIBULK)
                if count <= 0:  # "*0", "*-1": an empty request, skipped
                    self.need = 0
                    self.size += pos - start
                    return pos
                self.need = count
                if count > BIG_COUNT and self.args is None:
                    self.args = []
                continue
            if line[:1] != b"$":
                # Redis names the byte; an error reply cannot hold CR/LF, so they show as ' '
                got = line[:1].decode("latin-1") if line[:1] not in (b"", b"\n") else " "
                raise _Bad(errors.proto_expected_dollar(got))
            length = string2ll(line[1:])
            if length is None or length < 0 or length > max_bulk:
                raise _Bad(errors.PROTO_INVALID_BULK)
            if length > UNAUTH_MAX_BULK and self.unauth:
                raise _Bad(errors.PROTO_UNAUTH_BULK)
            self.body = length + 2
        self.size += pos - start
        return -1


class _Bad(Exception):
    """A protocol error found while walking (the text after 'Protocol error: ')."""


class RequestParser:
    """Feed bytes with :meth:`feed`; it returns the complete commands found so far.

    When the input is malformed, the commands before the bad request are still returned
    and :attr:`error` is set to a :class:`~pikadb.core.errors.ProtocolError`; the caller runs
    the commands, replies the error and closes.

    While :attr:`unauth` is set (the client has not authenticated yet) requests are limited
    as Redis limits them (10 args, bulks of 16 KiB) and :meth:`feed` returns at most one
    command, keeping the bytes after it: the caller runs it, updates :attr:`unauth` (an AUTH
    lifts the limits for the very next request) and calls :meth:`resume` for the next one.
    """

    __slots__ = (
        "_frame",
        "_inline",
        "_inline_len",
        "_reader",
        "_rest",
        "error",
        "max_bulk_len",
        "max_query_buffer",
        "unauth",
    )

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024, max_query_buffer: int = 1 << 30):
        self._reader = hiredis.Reader()
        # The incomplete multibulk frame, if any. While its ``args`` is None, hiredis holds
        # its bytes too and returns it; otherwise the frame collects its args itself.
        self._frame: _Frame | None = None
        self._inline: list[bytes] = []  # pieces of an incomplete inline request
        self._inline_len = 0
        self.max_bulk_len = max_bulk_len
        self.max_query_buffer = max_query_buffer
        self.error: errors.ProtocolError | None = None
        self.unauth = False
        self._rest = b""  # unauth mode: bytes after the command last returned, not parsed yet

    @property
    def buffered(self) -> int:
        """Bytes held for the incomplete request (CLIENT LIST qbuf)."""
        frame = self._frame
        return (frame.size if frame is not None else 0) + self._inline_len + len(self._rest)

    @property
    def has_rest(self) -> bool:
        """Unauth mode: bytes are waiting after the command last returned (see resume)."""
        return bool(self._rest)

    def resume(self) -> list[list[bytes]]:
        """Parse the bytes kept after the last command (unauth mode), under the current
        :attr:`unauth` setting."""
        data, self._rest = self._rest, b""
        return self.feed(data) if data else []

    def feed(self, data: bytes) -> list[list[bytes]]:
        if self.error is not None or not data:
            return []
        if self.unauth:
            return self._feed_unauth(data)
        if self._frame is None:
            if self._inline:
                return self._feed_inline(data)
            if data[0] != 0x2A:
                return self._exact(data, [])
        return self._fast(data)

    # -- the fast path: hiredis + accounting -------------------------------------------------
    def _fast(self, data: bytes) -> list[list[bytes]]:
        reader = self._reader
        out: list[list[bytes]] = []
        base = 0
        frame = self._frame
        if frame is not None:  # finish the frame that began in an earlier read
            hiredis_has_it = frame.args is None
            try:
                end = frame.advance(data, 0, self.max_bulk_len)
            except _Bad as exc:
                self._fail(str(exc))
                return out
            if frame.args is not None:  # the frame collects its own args
                if hiredis_has_it:  # it just turned out too big for hiredis
                    self._reader = hiredis.Reader()
                if end < 0:
                    return self._check_buffer(out)
                self._frame = None
                if frame.args:
                    out.append(frame.args)
                return out + self.feed(data[end:]) if end < len(data) else out
            if end < 0:
                reader.feed(data)
                return self._check_buffer(out)
            base = end
            self._frame = None
        if data.find(b"*", base + 1) != -1 and _NESTED_BIG.search(data, base + 1) is not None:
            if frame is not None:  # hiredis holds the frame the walk just finished
                reader.feed(data[:base])
                first = reader.gets()
                if first:
                    out.append(first)
            return self._exact_from(data, base, out)
        reader.feed(data)
        n = len(data)
        off = base  # where the next frame starts (if every frame so far was canonical)
        skip = 0
        max_bulk = self.max_bulk_len
        small_bulks = max_bulk >= _BIG
        try:
            if frame is not None:
                first = reader.gets()
                if first is False:  # hiredis disagrees with the walk: cannot happen
                    self._fail(errors.PROTO_INVALID_MULTIBULK)
                    return out
                if first:
                    out.append(first)
                    skip = 1
            gets = reader.gets
            append = out.append
            hdr_size = _HDR_SIZE
            arg_size = _ARG_SIZE
            while off < n:
                # A count of 6+ digits: hiredis would allocate it whole; let Python take it.
                if (
                    n - off > 6
                    and 0x30 <= data[off + 6] <= 0x39
                    and data[off + 1 : off + 7].isdigit()
                    and _big_count_at(data, off)
                ):
                    return self._exact_from(data, base, out[:skip])
                cmd = gets()
                if cmd is False:
                    break
                if not cmd:
                    if data[off] != 0x2A:  # "$-1\r\n" (a null bulk to hiredis) is inline
                        return self._exact_from(data, base, out[:skip])
                    off += 4 if cmd == [] else 5  # "*0\r\n" / "*-1\r\n"
                    continue
                # Account the frame: its size if every element is a canonical bulk.
                size = -1
                if small_bulks:
                    try:
                        size = hdr_size[len(cmd)]
                        for a in cmd:
                            la = len(a)
                            size += la + arg_size[la]
                    except TypeError:  # an integer, a null, an error: not a bulk
                        return self._exact_from(data, base, out[:skip])
                    except IndexError:  # an element >= 64 KiB, or >= 1024 elements
                        size = -1
                if size < 0:
                    size = _encoded_size([cmd], max_bulk)
                    if size < 0:
                        return self._exact_from(data, base, out[:skip])
                off += size
                append(cmd)
        except hiredis.ProtocolError:
            return self._exact_from(data, base, out[:skip])
        acc = off
        if acc == n and not reader.has_data():
            return out  # at a frame boundary: the common case
        if acc >= n or data[acc] != 0x2A:
            return self._exact_from(data, base, out[:skip])
        # A frame cut by the end of the read: it collects its own args from here on (by
        # Redis's rules), and hiredis forgets its partial copy. Were hiredis to keep it, a
        # frame it later rejects (a header with a bare CR, which Redis accepts) could not be
        # re-parsed: its first bytes would be gone with the earlier read.
        tail = _Frame(collect=True)
        try:
            if tail.advance(data, acc, self.max_bulk_len) >= 0:
                raise _Bad("")  # complete, yet hiredis did not return it: re-parse
        except _Bad:
            return self._exact_from(data, base, out[:skip])
        self._reader = hiredis.Reader()
        self._frame = tail
        return self._check_buffer(out)

    def _check_buffer(self, out: list[list[bytes]]) -> list[list[bytes]]:
        if self.buffered > self.max_query_buffer:
            self._fail(_QUERY_BUFFER_LIMIT, raw=True)
        return out

    # -- the exact path: pure Python, Redis's rules -------------------------------------------
    def _exact_from(self, data: bytes, base: int, out: list[list[bytes]]) -> list[list[bytes]]:
        """Re-parse ``data[base:]`` (which starts at a request boundary) exactly."""
        self._frame = None
        return self._exact(data[base:] if base else data, out)

    def _feed_unauth(self, data: bytes) -> list[list[bytes]]:
        """One command at most, parsed exactly under the unauthenticated limits."""
        if self._rest:
            data = self._rest + data
            self._rest = b""
        frame = self._frame
        if frame is not None:
            try:
                end = frame.advance(data, 0, self.max_bulk_len)
            except _Bad as exc:
                self._fail(str(exc))
                return []
            if end < 0:
                return self._check_buffer([])
            self._frame = None
            self._rest = data[end:]
            return [frame.args] if frame.args else self.resume()
        if self._inline:
            return self._feed_inline(data)
        return self._exact(data, [])

    def _feed_inline(self, data: bytes) -> list[list[bytes]]:
        """More bytes of an incomplete inline request (kept as pieces: no quadratic copy)."""
        if data.find(b"\n") == -1:
            self._inline.append(data)
            self._inline_len += len(data)
            if self._inline_len > INLINE_MAX:
                self._fail(errors.PROTO_TOO_BIG_INLINE)
            return []
        buf = b"".join(self._inline) + data
        self._inline = []
        self._inline_len = 0
        return self._exact(buf, [])

    def _exact(self, buf: bytes, out: list[list[bytes]]) -> list[list[bytes]]:
        """Parse every complete request in ``buf`` (which starts at a request boundary);
        an incomplete multibulk frame at the end goes on collecting its own args."""
        self._reader = hiredis.Reader()
        pos = 0
        n = len(buf)
        max_bulk = self.max_bulk_len
        one = self.unauth
        while pos < n:
            if one and out:  # unauth mode: one command at a time, the rest is kept
                self._rest = buf[pos:]
                return out
            if buf[pos] == 0x2A:  # '*': multibulk
                frame = _Frame(collect=True, unauth=one)
                try:
                    end = frame.advance(buf, pos, max_bulk)
                except _Bad as exc:
                    self._fail(str(exc))
                    return out
                if end < 0:
                    self._frame = frame
                    return self._check_buffer(out)
                if frame.args:
                    out.append(frame.args)
                pos = end
                continue
            nl = buf.find(b"\n", pos)
            if nl == -1:
                if n - pos > INLINE_MAX:
                    self._fail(errors.PROTO_TOO_BIG_INLINE)
                    return out
                self._inline = [buf[pos:] if pos else buf]
                self._inline_len = n - pos
                return self._check_buffer(out)
            end = nl - 1 if nl > pos and buf[nl - 1] == 0x0D else nl
            args = split_args(buf[pos:end])
            if args is None:
                self._fail(errors.PROTO_UNBALANCED_QUOTES)
                return out
            if args:
                out.append(args)
            pos = nl + 1
        return out

    def _fail(self, detail: str, raw: bool = False) -> None:
        self.error = errors.ProtocolError(detail)
        if raw:
            self.error.message = f"ERR {detail}"
        self._frame = None
        self._inline = []
        self._inline_len = 0
        self._rest = b""
        self._reader = hiredis.Reader()


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"
_SPACE = b" \t\n\r\v\f"  # isspace(): skipped between args, required after a closing quote
_TOKEN_END = b" \n\r\t"  # what ends an unquoted arg in sdssplitargs (not \v or \f)


def split_args(line: bytes) -> list[bytes] | None:
    """Redis's sdssplitargs: split an inline request, honouring "..." and '...' quoting.

    Returns None on unbalanced quotes (or a closing quote not followed by a space). As in C,
    a NUL byte ends the line.
    """
    nul = line.find(b"\0")
    if nul != -1:
        line = line[:nul]
    args: list[bytes] = []
    i = 0
    n = len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                c = line[i]
                if (
                    c == 0x5C
                    and i + 3 < n
                    and line[i + 1] == ord("x")
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    cur.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    cur.append(_ESCAPES.get(line[i], line[i]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    inq = False
                    i += 1
                    break
                else:
                    cur.append(c)
            elif insq:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    cur.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    insq = False
                    i += 1
                    break
                else:
                    cur.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _TOKEN_END:
                    break
                if c == 0x22:
                    inq = True
                elif c == 0x27:
                    insq = True
                else:
                    cur.append(c)
            i += 1
        args.append(bytes(cur))
