"""The HTTP side of a node: Prometheus /metrics and the web dashboard (aiohttp).

``server/app.py`` makes one :class:`WebHandle` and calls ``start()`` once the RESP listener
is up and ``stop()`` on shutdown. The listeners are bound at start (port in use: logged and
skipped; the RESP server runs regardless), but aiohttp — a third of a second to import — is
only loaded when the first HTTP connection arrives, so servers nobody browses or scrapes
(tests, most replicas) pay nothing for it. The once-a-second sampler behind the ops/s and
latency charts runs from the start, so the charts have history when first opened.

This module imports neither aiohttp nor prometheus_client.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pikadb.commands.context import ServerState
    from pikadb.web.state import Sampler

log = logging.getLogger("pikadb.web")


class _Pending(asyncio.Protocol):
    """A connection that arrived before aiohttp was loaded: what it sends is kept until the
    app is ready, then the transport (and those bytes) go to aiohttp's request handler.
    (Pausing the transport instead does not survive uvloop's set_protocol.)"""

    def __init__(self, handle: WebHandle) -> None:
        self.handle = handle
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.received = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.handle._spawn(self._handover())

    def data_received(self, data: bytes) -> None:
        self.received += data
        if len(self.received) > 1 << 20:  # no request needs that much before the app is up
            assert self.transport is not None
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True

    async def _handover(self) -> None:
        factory = await self.handle.app_factory()
        transport = self.transport
        if transport is None or self.lost or transport.is_closing():
            return
        if factory is None:
            transport.close()
            return
        proto = factory()
        transport.set_protocol(proto)
        proto.connection_made(transport)
        if self.received:
            proto.data_received(bytes(self.received))


class WebHandle:
    """Dashboard + /metrics listeners of one server (``dashboard-port``, ``metrics-port``)."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.sampler: Sampler | None = None
        self.ports: dict[str, int] = {}  # "dashboard" / "metrics" -> bound port
        self._listeners: list[asyncio.AbstractServer] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._app: Any = None  # pikadb.web.app.WebApp once loaded
        self._loading: asyncio.Future[Any] | None = None

    @property
    def enabled(self) -> bool:
        w = self.server.settings.web
        return bool(w.dashboard_port or w.metrics_port)

    async def start(self) -> None:
        if not self.enabled:
            return
        from pikadb.web.state import Sampler

        self.sampler = Sampler(self.server)
        self._spawn(self._sample_forever())
        w = self.server.settings.web
        s = self.server.settings.server
        hosts = s.bind.split() if isinstance(s.bind, str) else list(s.bind)
        loop = asyncio.get_running_loop()
        for kind, port in (("dashboard", w.dashboard_port), ("metrics", w.metrics_port)):
            if not port or (kind == "metrics" and port == w.dashboard_port):
                continue
            for host in hosts:
                try:
                    srv = await loop.create_server(self._protocol, host, port, reuse_address=True)
                except OSError as exc:
                    log.warning("%s: cannot listen on %s:%d (%s); skipped", kind, host, port, exc)
                    continue
                self._listeners.append(srv)
                self.ports[kind] = port
                log.info("%s on http://%s:%d/", kind, host, port)

    def _protocol(self) -> asyncio.Protocol:
        if self._app is not None:
            return self._app.protocol()  # type: ignore[no-any-return]
        return _Pending(self)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sample_forever(self) -> None:
        assert self.sampler is not None
        while True:
            try:
                self.sampler.tick()
            except Exception:
                log.exception("dashboard sampler failed")
            await asyncio.sleep(1.0)

    async def app_factory(self) -> Any:
        """The aiohttp protocol factory, loading aiohttp on first use (None if it failed)."""
        if self._app is None:
            if self._loading is None:
                self._loading = asyncio.ensure_future(self._load())
            with contextlib.suppress(Exception):
                await asyncio.shield(self._loading)
        return self._app.protocol if self._app is not None else None

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # import in a thread: the event loop keeps serving RESP clients meanwhile
            module = await loop.run_in_executor(None, importlib.import_module, "pikadb.web.app")
            app = module.WebApp(self.server, self.sampler, self.ports)
            await app.setup()
            self._app = app
        except Exception:
            log.exception("web dashboard failed to start")
            raise

    async def stop(self) -> None:
        for srv in self._listeners:
            srv.close()
        for task in list(self._tasks):
            task.cancel()
        if self._app is not None:
            with contextlib.suppress(Exception):
                await self._app.cleanup()
        self._listeners.clear()


async def start(server: ServerState) -> WebHandle:
    """Bind ``server``'s dashboard and metrics listeners; the handle is ``server.web``."""
    handle = WebHandle(server)
    server.web = handle  # type: ignore[attr-defined]
    await handle.start()
    return handle


async def stop(server: ServerState) -> None:
    """Close the listeners and the app started by :func:`start` (if it ran)."""
    handle = getattr(server, "web", None)
    if isinstance(handle, WebHandle):
        await handle.stop()
