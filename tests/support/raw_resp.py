"""A raw RESP2/RESP3 client for tests where the wire matters (pub/sub pushes, subscribed mode).

Replies are parsed into ``(type char, value)`` pairs so that ``*`` vs ``>`` vs ``%``, ``$-1``
vs ``*-1`` vs ``_`` and ``+OK`` vs ``$2 OK`` all stay visible; aggregates hold lists of such
pairs (a map holds a flat key, value, key, value list). :func:`plain` turns a reply into plain
Python values for readable assertions.
"""

from __future__ import annotations

import socket
import time
from typing import Any

Reply = tuple[str, Any]


def encode(*args: Any) -> bytes:
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


class Incomplete(Exception):
    pass


def parse(buf: bytes, pos: int = 0) -> tuple[Reply, int]:
    """One reply from ``buf[pos:]``: (reply, next position); Incomplete if cut short."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete
    kind = chr(buf[pos])
    line = buf[pos + 1 : end]
    pos = end + 2
    if kind in "+-":
        return (kind, line), pos
    if kind == ":":
        return (kind, int(line)), pos
    if kind == "_":
        return (kind, None), pos
    if kind == "#":
        return (kind, line == b"t"), pos
    if kind in ",(":
        return (kind, line), pos
    if kind in "$=!":
        n = int(line)
        if n < 0:
            return (kind, None), pos
        if len(buf) < pos + n + 2:
            raise Incomplete
        return (kind, buf[pos : pos + n]), pos + n + 2
    if kind in "*>~%|":
        n = int(line)
        if n < 0:
            return (kind, None), pos
        count = 2 * n if kind in "%|" else n
        items = []
        for _ in range(count):
            item, pos = parse(buf, pos)
            items.append(item)
        return (kind, items), pos
    raise ValueError(f"bad RESP type byte {kind!r} in {buf[pos - 1 : pos + 20]!r}")


def plain(reply: Reply) -> Any:
    """Plain Python: strings/bulks -> bytes, errors -> ``("ERR", text)``, aggregates -> lists."""
    kind, value = reply
    if kind == "-":
        return ("ERR", value.decode())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class RawClient:
    """One connection; ``call`` sends a command and returns its next reply."""

    def __init__(self, port: int, timeout: float = 10.0, rcvbuf: int = 0) -> None:
        """``rcvbuf``: a small kernel receive buffer (set before connecting), for clients
        that are meant not to read (slow-consumer tests)."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.timeout = timeout

    def close(self) -> None:
        self.sock.close()

    def send(self, *args: Any) -> None:
        self.sock.sendall(encode(*args))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, timeout: float | None = None) -> Reply:
        """The next reply (waiting up to ``timeout``); TimeoutError when none comes."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                reply, pos = parse(self.buf)
                self.buf = self.buf[pos:]
                return reply
            except (Incomplete, IndexError):
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise TimeoutError("no reply") from None
            if not data:
                raise ConnectionError("connection closed")
            self.buf += data

    def call(self, *args: Any) -> Reply:
        self.send(*args)
        return self.read()

    def drain(self, quiet: float = 0.2) -> list[Reply]:
        """Every reply that arrives until ``quiet`` seconds pass without one."""
        out = []
        while True:
            try:
                out.append(self.read(quiet))
            except TimeoutError:
                return out

    def sync(self, marker: bytes = b"sync-marker") -> list[Reply]:
        """Everything pending before a ``PING marker`` round trip (the PING reply itself —
        ``$marker``, or ``["pong", marker]`` in RESP2 subscribed mode — is not returned)."""
        self.send("PING", marker)
        out = []
        while True:
            reply = self.read()
            if reply == ("$", marker) or (
                reply[0] == "*"
                and isinstance(reply[1], list)
                and reply[1] == [("$", b"pong"), ("$", marker)]
            ):
                return out
            out.append(reply)

    def discard(self) -> int:
        """Read and drop whatever has arrived (without parsing); the number of bytes."""
        n = 0
        self.sock.settimeout(0.001)
        try:
            while data := self.sock.recv(1 << 20):
                n += len(data)
        except (TimeoutError, BlockingIOError):
            pass
        self.sock.settimeout(self.timeout)
        return n

    def closed(self, timeout: float = 5.0) -> bool:
        """Whether the server closed this connection (reading and dropping any data)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                return False
            except ConnectionError:
                return True
            if not data:
                return True
        return False
