"""Sans-IO RESP request parser: bytes in, commands out (no sockets, no asyncio).

Wire format of a request (Redis "unified protocol"), and what we accept::

    +-------------------------------------------+----------------------------------------+
    | multibulk  | *<n>\\r\\n then n x $<len>\\r\\n<bytes>\\r\\n | parsed by hiredis (C) on the fast path |
    | inline     | <words separated by spaces>\\r\\n        | parsed here (hiredis rejects it)       |
    +-------------------------------------------+----------------------------------------+

A command is a ``list[bytes]``. Like Redis, a request that starts with ``*`` is multibulk and
anything else is inline. Limits are enforced *before* data is buffered without bound:

* a bulk length above ``max_bulk_len`` (proto-max-bulk-len) -> ``invalid bulk length``;
* a pending (incomplete) request larger than ``max_query_buffer`` (client-query-buffer-limit)
  or an inline line above 64 KiB -> error;

hiredis does not expose where a partial frame starts, so while one is pending we keep references
to the reads since it began and walk their headers in Python (once it is cheap or it matters).
After an error the parser is dead: Redis replies and closes the connection.
"""

from __future__ import annotations

import hiredis

from pikadb.core import errors

INLINE_MAX = 64 * 1024  # PROTO_INLINE_MAX_SIZE
CHEAP_WALK = 16 * 1024
BIG_PENDING = 1024 * 1024
MAX_MULTIBULK = 1024 * 1024 * 1024  # Redis: ll > INT_MAX is invalid; 1G args is already absurd

_HIREDIS_ERRORS = {
    "Bad multi-bulk length": errors.PROTO_INVALID_MULTIBULK,
    "Bad bulk string length": errors.PROTO_INVALID_BULK,
    "Bulk string length out of range": errors.PROTO_INVALID_BULK,
    "Multi-bulk length out of range": errors.PROTO_INVALID_MULTIBULK,
}


class RequestParser:
    """Feed bytes with :meth:`feed`; it returns the complete commands found so far.

    When the input is malformed, the commands before the bad frame are still returned and
    :attr:`error` is set to a :class:`~pikadb.core.errors.ProtocolError`; the caller runs
    the commands, replies the error and closes.
    """

    __slots__ = (
        "_head",
        "_head_checked",
        "_inline",
        "_pending",
        "_reader",
        "error",
        "max_bulk_len",
        "max_query_buffer",
    )

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024, max_query_buffer: int = 1 << 30):
        self._reader = hiredis.Reader()
        self._inline = b""  # an incomplete inline line
        self._pending = 0  # upper bound of the bytes of an incomplete multibulk frame
        self._head: list[bytes] = []  # reads since the incomplete frame began (header walk)
        self._head_checked = True
        self.max_bulk_len = max_bulk_len
        self.max_query_buffer = max_query_buffer
        self.error: errors.ProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Approximate bytes held for incomplete requests (CLIENT LIST qbuf)."""
        return self._pending + len(self._inline)

    def feed(self, data: bytes) -> list[list[bytes]]:
        if self.error is not None:
            return []
        reader = self._reader
        out: list[list[bytes]] = []
        if self._pending == 0 and (self._inline or data[:1] != b"*"):
            data = self._feed_inline(data, out)
            if not data:
                return out
        reader.feed(data)
        try:
            cmd = reader.gets()
            while cmd is not False:
                if cmd:  # "*0" and "*-1" are ignored, as Redis does
                    out.append(cmd)
                cmd = reader.gets()
        except hiredis.ProtocolError as exc:
            self._fail(_translate(str(exc)))
            return out
        if reader.has_data():
            self._track_partial(data)
        else:
            self._pending = 0
            if self._head:
                self._head = []
            self._head_checked = True
        return out

    # -- incomplete multibulk frames ------------------------------------------------------
    def _track_partial(self, data: bytes) -> None:
        if self._pending == 0:
            self._head = [data]
            self._head_checked = False
        elif not self._head_checked:
            self._head.append(data)
        self._pending += len(data)
        if self._pending > self.max_query_buffer:
            self._fail("client query buffer limit reached", raw=True)
            return
        # Walking headers in Python costs ~1 us per frame, so do it when it is cheap (a small
        # read, typically a lone header) or when it matters (a big pending request).
        if not self._head_checked and (len(data) <= CHEAP_WALK or self._pending >= BIG_PENDING):
            buf = self._head[0] if len(self._head) == 1 else b"".join(self._head)
            problem, settled = _check_last_frame(buf, self.max_bulk_len)
            if problem:
                self._fail(problem)
            elif settled:
                self._head_checked = True
                self._head = []
            else:
                self._head = [buf]

    # -- inline commands ------------------------------------------------------------------
    def _feed_inline(self, data: bytes, out: list[list[bytes]]) -> bytes:
        """Consume inline lines; return the rest of ``data`` once it turns multibulk."""
        buf = self._inline + data if self._inline else data
        self._inline = b""
        pos = 0
        n = len(buf)
        while pos < n and buf[pos] != 0x2A:  # '*'
            nl = buf.find(b"\n", pos)
            if nl == -1:
                if n - pos > INLINE_MAX:
                    self._fail(errors.PROTO_TOO_BIG_INLINE)
                    return b""
                self._inline = buf[pos:]
                return b""
            line = buf[pos:nl]
            pos = nl + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            args = split_args(line)
            if args is None:
                self._fail(errors.PROTO_UNBALANCED_QUOTES)
                return b""
            if args:
                out.append(args)
        return buf[pos:]

    def _fail(self, detail: str, raw: bool = False) -> None:
        self.error = errors.ProtocolError(detail)
        if raw:
            self.error.message = f"ERR {detail}"


def _translate(message: str) -> str:
    known = _HIREDIS_ERRORS.get(message)
    if known:
        return known
    if message.startswith("Protocol error, got "):
        # 'Protocol error, got "f" as reply type byte'
        got = message[len('Protocol error, got "') :].split('"', 1)[0]
        return errors.proto_expected_dollar(got)
    return message


def _read_line(buf: bytes, pos: int) -> tuple[bytes | None, int]:
    end = buf.find(b"\r\n", pos)
    if end == -1:
        return None, pos
    return buf[pos:end], end + 2


def _check_last_frame(buf: bytes, max_bulk: int) -> tuple[str | None, bool]:
    """Walk the multibulk frames in ``buf``; check the headers of the incomplete last one.

    Returns (error detail or None, whether every header of the incomplete frame that could
    matter has been seen — i.e. we are inside a bulk body and no further check is useful).
    """
    pos = 0
    n = len(buf)
    while pos < n:
        if buf[pos] != 0x2A:
            return None, True  # not multibulk (hiredis would have complained)
        line, nxt = _read_line(buf, pos + 1)
        if line is None:
            return None, False
        try:
            count = int(line)
        except ValueError:
            return errors.PROTO_INVALID_MULTIBULK, True
        if count > MAX_MULTIBULK:
            return errors.PROTO_INVALID_MULTIBULK, True
        pos = nxt
        for _ in range(max(count, 0)):
            if pos >= n:
                return None, False
            if buf[pos] != 0x24:  # '$'
                return errors.proto_expected_dollar(chr(buf[pos])), True
            line, nxt = _read_line(buf, pos + 1)
            if line is None:
                return None, False
            try:
                size = int(line)
            except ValueError:
                return errors.PROTO_INVALID_BULK, True
            if size < 0 or size > max_bulk:
                return errors.PROTO_INVALID_BULK, True
            pos = nxt + size + 2
            if pos > n:
                return None, True  # inside a bulk body of acceptable size
    return None, False


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"


def split_args(line: bytes) -> list[bytes] | None:
    """Redis's sdssplitargs: split an inline request, honouring "..." and '...' quoting.

    Returns None on unbalanced quotes (or a closing quote not followed by a space).
    """
    args: list[bytes] = []
    i = 0
    n = len(line)
    while True:
        while i < n and line[i] in b" \t\n\r\v\f":
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
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
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
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
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
                if c in b" \t\n\r\v\f":
                    break
                if c == 0x22:
                    inq = True
                elif c == 0x27:
                    insq = True
                else:
                    cur.append(c)
            i += 1
        args.append(bytes(cur))
