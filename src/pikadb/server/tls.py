"""TLS with Python's ``ssl``: the context built from the ``tls-*`` settings, and the TLS
listeners (one per ``bind`` address on ``tls-port``) that run beside the plaintext ones.

    setting                 what it does                                    Redis default
    tls-port                TLS listener port (0: none)                     0
    tls-cert-file/key-file  server certificate chain and key (PEM)          (required)
    tls-key-file-pass       passphrase of an encrypted key
    tls-ca-cert-file/dir    CAs that client certificates must chain to      (required when
                                                                            auth-clients != no)
    tls-auth-clients        yes: CERT_REQUIRED, optional: CERT_OPTIONAL, no: CERT_NONE
    tls-protocols           "TLSv1.2 TLSv1.3" ... (the lowest..highest)    TLSv1.2 TLSv1.3
    tls-ciphers             OpenSSL cipher list (TLSv1.2 and below)
    tls-prefer-server-ciphers  server's cipher order

The listening sockets are ours (bound synchronously, so a CONFIG SET tls-port that cannot
bind is refused); asyncio serves a ``dup`` of each. A CONFIG SET of a tls-* setting builds a
fresh context first (a failure refuses the SET with Redis's message and logs why), then
replaces the asyncio servers on the same sockets: connections queued in the kernel backlog
meanwhile are kept, established connections carry on with the context they were made with.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pikadb.core import errors
from pikadb.core.errors import CommandError

if TYPE_CHECKING:
    from pikadb.config.models import ServerSettings

log = logging.getLogger("pikadb.tls")

_VERSIONS = {
    "tlsv1": ssl.TLSVersion.TLSv1,
    "tlsv1.1": ssl.TLSVersion.TLSv1_1,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2,
    "tlsv1.3": ssl.TLSVersion.TLSv1_3,
}
_VERIFY = {"yes": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "no": ssl.CERT_NONE}
# The settings whose change rebuilds the context (tls-port rebinds instead).
CONTEXT_SETTINGS = (
    "tls-cert-file",
    "tls-key-file",
    "tls-key-file-pass",
    "tls-ca-cert-file",
    "tls-ca-cert-dir",
    "tls-auth-clients",
    "tls-protocols",
    "tls-ciphers",
    "tls-prefer-server-ciphers",
)


class TLSConfigError(Exception):
    """The tls-* settings do not make a usable context (the text says why)."""


def parse_protocols(text: str) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    """``tls-protocols`` as (lowest, highest) version; empty: TLSv1.2..TLSv1.3."""
    words = text.lower().split()
    if not words:
        return ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    versions = []
    for w in words:
        v = _VERSIONS.get(w)
        if v is None:
            raise TLSConfigError(f"Invalid tls-protocols specified: {w}")
        versions.append(v)
    return min(versions), max(versions)


def build_context(s: ServerSettings) -> ssl.SSLContext:
    """A server-side context from the settings (tlsConfigure), or TLSConfigError."""
    if not s.tls_cert_file or not s.tls_key_file:
        raise TLSConfigError("tls-cert-file and tls-key-file must be specified")
    if s.tls_auth_clients != "no" and not (s.tls_ca_cert_file or s.tls_ca_cert_dir):
        raise TLSConfigError(
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when "
            "tls-auth-clients is enabled!"
        )
    lowest, highest = parse_protocols(s.tls_protocols)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.minimum_version = lowest
        ctx.maximum_version = highest
        ctx.load_cert_chain(s.tls_cert_file, s.tls_key_file, s.tls_key_file_pass or None)
        if s.tls_ca_cert_file or s.tls_ca_cert_dir:
            ctx.load_verify_locations(s.tls_ca_cert_file or None, s.tls_ca_cert_dir or None)
        if s.tls_ciphers:
            ctx.set_ciphers(s.tls_ciphers)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise TLSConfigError(str(exc)) from exc
    ctx.verify_mode = _VERIFY[s.tls_auth_clients]
    if s.tls_prefer_server_ciphers:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    return ctx


def bind_sockets(binds: list[str], port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets for ``port`` on every bind address (all or none: OSError)."""
    out: list[socket.socket] = []
    try:
        for host in binds:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            out.append(socket.create_server((host, port), family=family, backlog=backlog))
    except OSError:
        for s in out:
            s.close()
        raise
    return out


class TLSListeners:
    """The TLS side of the server: started with :meth:`start`, kept current by CONFIG SET
    (:meth:`install`), closed by :meth:`close`."""

    def __init__(
        self,
        settings: Callable[[], ServerSettings],
        factory: Callable[[], asyncio.Protocol],
        binds: list[str],
    ) -> None:
        self._settings = settings
        self._factory = factory
        self._binds = binds
        self.context: ssl.SSLContext | None = None
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._servers: list[asyncio.AbstractServer] = []
        self._swap: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen on tls-port if set; a bad configuration raises TLSConfigError."""
        s = self._settings()
        if not s.tls_port:
            return
        self.context = build_context(s)
        self._sockets = bind_sockets(self._binds, s.tls_port, s.tcp_backlog or 511)
        self.port = self._sockets[0].getsockname()[1]
        await self._serve()
        log.info("TLS listening on port %d", self.port)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        old, self._servers = self._servers, []
        for srv in old:
            srv.close()
        if self.context is None:
            return
        for sock in self._sockets:
            srv = await loop.create_server(
                self._factory, sock=sock.dup(), ssl=self.context, backlog=511
            )
            self._servers.append(srv)

    def _reserve(self) -> None:
        """Replace the asyncio servers (new context or sockets) from a sync caller."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not started yet: start() will serve
            return
        prev = self._swap

        async def swap() -> None:
            if prev is not None:
                await prev
            await self._serve()

        self._swap = loop.create_task(swap())

    # -- CONFIG SET ---------------------------------------------------------------------------
    def install(self, on_change: Callable[[str, Callable[[Any], None]], None]) -> None:
        for name in CONTEXT_SETTINGS:
            on_change(name, self._context_changed)
        on_change("tls-port", self._port_changed)

    def _context_changed(self, _value: Any) -> None:
        s = self._settings()
        if not s.tls_port:  # nothing listens: the settings are checked when it does
            return
        try:
            ctx = build_context(s)
        except TLSConfigError as exc:
            log.warning("Failed to configure TLS: %s", exc)
            raise CommandError(errors.TLS_UPDATE_FAILED) from None
        self.context = ctx
        self._reserve()

    def _port_changed(self, port: Any) -> None:
        s = self._settings()
        ctx = self.context
        if port:
            try:
                ctx = build_context(s)
            except TLSConfigError as exc:
                log.warning("Failed to configure TLS: %s", exc)
                raise CommandError(errors.TLS_UPDATE_FAILED) from None
            try:
                socks = bind_sockets(self._binds, int(port), s.tcp_backlog or 511)
            except OSError as exc:
                log.warning("Could not bind TLS port %s: %s", port, exc.strerror)
                raise CommandError(errors.TLS_PORT_BIND_FAILED) from None
        else:
            socks, ctx = [], None
        for sock in self._sockets:
            sock.close()
        self._sockets = socks
        self.context = ctx
        self.port = socks[0].getsockname()[1] if socks else 0
        self._reserve()

    async def close(self) -> None:
        for srv in self._servers:
            srv.close()
        for sock in self._sockets:
            sock.close()
        for srv in self._servers:
            try:
                await asyncio.wait_for(srv.wait_closed(), 2)
            except TimeoutError:
                pass
        self._servers = []
        self._sockets = []
