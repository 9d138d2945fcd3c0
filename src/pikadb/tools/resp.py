"""A tiny blocking RESP2 client on a raw socket with hiredis's reply parser.

The tools need a handful of commands, pipelines and nothing else: no connection pool, no
retry policy, no RESP3. hiredis (a runtime dependency of the server already) parses replies
in C and packs commands, so the tools need no extra runtime dependency (redis-py stays a
test-only dependency) and the load generator's asyncio protocol (tools/loadgen.py) shares
the same parser and packer.

Error replies come back as :class:`hiredis.ReplyError` instances inside :meth:`pipeline`
results; :meth:`execute` raises them.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import hiredis

ReplyError = hiredis.ReplyError
pack_command = hiredis.pack_command

Arg = bytes | str | int | float


class RespClient:
    """One connection; ``execute(*args)`` and ``pipeline([(args...), ...])``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        *,
        password: str | None = None,
        user: str | None = None,
        db: int = 0,
        timeout: float | None = 30.0,
        unix_socket: str | None = None,
    ) -> None:
        if unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(unix_socket)
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.reader = hiredis.Reader()
        self.addr = unix_socket or f"{host}:{port}"
        if password:
            self.execute("AUTH", *((user,) if user else ()), password)
        if db:
            self.execute("SELECT", db)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RespClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _read(self, n: int) -> list[Any]:
        out: list[Any] = []
        reader = self.reader
        while len(out) < n:
            reply = reader.gets()
            if reply is False:
                data = self.sock.recv(1 << 16)
                if not data:
                    raise ConnectionError(f"{self.addr}: connection closed by server")
                reader.feed(data)
                continue
            out.append(reply)
        return out

    def execute(self, *args: Arg) -> Any:
        self.sock.sendall(pack_command(args))
        reply = self._read(1)[0]
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        """Send all ``commands`` in one write, return their replies (errors not raised)."""
        if not commands:
            return []
        self.sock.sendall(b"".join(pack_command(tuple(c)) for c in commands))
        return self._read(len(commands))
