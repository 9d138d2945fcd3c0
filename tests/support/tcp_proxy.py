"""A loopback TCP proxy for network-fault tests: put it between a replica and its master and
cut the link, stall it, or slow it down, then restore it.

    proxy = TcpProxy(master.port).start()
    replica.replicaof("127.0.0.1", proxy.port)
    proxy.cut()       # reset every live connection; new ones are accepted and closed at once
    proxy.restore()   # connections pass again
    proxy.stall()     # hold bytes in both directions (a silent partition: TCP stays up)
    proxy.resume()    # deliver what was held, in order
    proxy.set_delay(0.05)  # every chunk is delivered 50 ms after it arrived
    proxy.stop()

The proxy runs an asyncio loop in a daemon thread; the methods above are thread-safe and
return once the change is in effect. Bytes are never dropped from a live connection (TCP does
not lose bytes without breaking the connection); "drop" is modelled by ``cut``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from typing import Any

_CHUNK = 1 << 16


class _Pipe:
    """One proxied connection: client <-> proxy <-> target, two pumps."""

    def __init__(
        self,
        proxy: TcpProxy,
        c_reader: asyncio.StreamReader,
        c_writer: asyncio.StreamWriter,
        t_reader: asyncio.StreamReader,
        t_writer: asyncio.StreamWriter,
    ) -> None:
        self.proxy = proxy
        self.writers = (c_writer, t_writer)
        self.tasks = [
            asyncio.ensure_future(self._pump(c_reader, t_writer, "up")),
            asyncio.ensure_future(self._pump(t_reader, c_writer, "down")),
        ]

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str
    ) -> None:
        proxy = self.proxy
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    break
                arrived = time.monotonic()
                await proxy._resumed.wait()
                wait = arrived + proxy.delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                proxy.bytes[direction] += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            self.close()

    def close(self, abort: bool = False) -> None:
        for w in self.writers:
            if abort:
                w.transport.abort()
            else:
                w.close()
        self.proxy._pipes.discard(self)


class TcpProxy:
    """Forward 127.0.0.1:<port> to ``target_host:target_port`` with injectable faults."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.delay = 0.0
        self.accepted = 0  # connections accepted and forwarded
        self.refused = 0  # connections accepted and closed while cut
        self.bytes = {"up": 0, "down": 0}  # forwarded client->target, target->client
        self._cut = False
        self._pipes: set[_Pipe] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._resumed: asyncio.Event

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._thread.start()
        self._run(self._start())
        return self

    async def _start(self) -> None:
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._run(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._resumed.set()
        for pipe in list(self._pipes):
            pipe.close(abort=True)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ---------------------------------------------------------------------------
    def cut(self) -> None:
        """Reset every live connection and refuse (accept-and-close) new ones until restore()."""
        self._run(self._cut_all())

    async def _cut_all(self) -> None:
        self._cut = True
        for pipe in list(self._pipes):
            pipe.close(abort=True)

    def restore(self) -> None:
        """Let connections through again (after cut() or stall())."""
        self._run(self._restore())

    async def _restore(self) -> None:
        self._cut = False
        self._resumed.set()

    def stall(self) -> None:
        """Stop delivering bytes both ways while keeping connections open (bytes are held)."""
        self._run(self._stall())

    async def _stall(self) -> None:
        self._resumed.clear()

    def resume(self) -> None:
        self.restore()

    def set_delay(self, seconds: float) -> None:
        """Deliver each chunk ``seconds`` after it arrived (order is kept)."""
        self.delay = max(0.0, seconds)

    @property
    def live(self) -> int:
        """Connections currently forwarded."""
        return len(self._pipes)

    # -- internals ------------------------------------------------------------------------
    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            t_reader, t_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.refused += 1
            writer.transport.abort()
            return
        if self._cut:  # cut while connecting
            self.refused += 1
            writer.transport.abort()
            t_writer.transport.abort()
            return
        self.accepted += 1
        self._pipes.add(_Pipe(self, reader, writer, t_reader, t_writer))


def _selftest() -> None:  # pragma: no cover - manual check: python -m tests.support.tcp_proxy
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    with TcpProxy(srv.getsockname()[1]) as proxy:
        c = socket.create_connection(("127.0.0.1", proxy.port))
        s, _ = srv.accept()
        c.sendall(b"ping")
        assert s.recv(4) == b"ping"
        proxy.cut()
        with contextlib.suppress(OSError):
            assert c.recv(4) == b""
        print("ok", proxy.accepted, proxy.bytes)


if __name__ == "__main__":  # pragma: no cover
    _selftest()
