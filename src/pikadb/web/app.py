"""The aiohttp application: dashboard pages, JSON API, /metrics, and the login.

Routes (all on ``dashboard-port``; ``metrics-port`` serves only ``/metrics``, no password):

    GET  /                   the dashboard (static/index.html + dashboard.js, no CDN)
    GET  /login, POST /login the password form (when requirepass is set); POST /logout
    GET  /metrics            Prometheus text format
    GET  /api/overview       version, uptime, role, ops/s, memory, disk, keys per DB, clients
    GET  /api/series?since=t ops/s and latency percentiles, one sample a second (5 minutes)
    GET  /api/replication    role, offsets, link, replicas and their lag
    GET  /api/slowlog?count= SLOWLOG GET
    GET  /api/info?section=  INFO sections as JSON
    GET  /api/config         every setting (CONFIG GET's values; secrets withheld)
    POST /api/config         {"name": "value", ...}: one CONFIG SET of all pairs (all or none)

Authentication, when ``requirepass`` is set (or the default user has a password): a session
cookie from the login form, or HTTP Basic auth with any user name and that password
(Prometheus ``basic_auth``, curl -u). The password is checked by the AUTH command itself.
Unauthenticated pages redirect to /login; API calls get 401 (with a Basic challenge unless
the request comes from the dashboard's own scripts, so browsers don't pop a dialog).
Without a password, ``protected-mode yes`` serves the dashboard to loopback clients only, as
for RESP clients. Settings change only by a JSON POST from the node's own origin.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import secrets
import time
from importlib import resources
from typing import Any

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pikadb.commands.context import ServerState
from pikadb.web import metrics, state

log = logging.getLogger("pikadb.web")

COOKIE = "pikadb_session"
SESSION_SECONDS = 12 * 3600
STATIC = {
    "index.html": "text/html",
    "login.html": "text/html",
    "dashboard.js": "application/javascript",
    "style.css": "text/css",
}
_OPEN_PATHS = frozenset(["/login", "/static/style.css", "/favicon.ico"])


def _static(name: str) -> bytes:
    return resources.files("pikadb.web").joinpath("static", name).read_bytes()


class WebApp:
    def __init__(
        self, server: ServerState, sampler: state.Sampler | None, ports: dict[str, int]
    ) -> None:
        self.server = server
        self.sampler = sampler or state.Sampler(server)
        self.metrics_port = ports.get("metrics", 0)
        self.registry, self.collector = metrics.make_registry(server, self.sampler)
        self.sessions: dict[str, tuple[float, str]] = {}  # token -> (expiry, secret digest)
        self.files = {name: _static(name) for name in STATIC}
        self.app = web.Application(middlewares=[self._auth])
        self.app.add_routes(
            [
                web.get("/", self.index),
                web.get("/login", self.login_page),
                web.post("/login", self.login),
                web.post("/logout", self.logout),
                web.get("/static/{name}", self.static),
                web.get("/metrics", self.metrics),
                web.get("/api/overview", self.api_overview),
                web.get("/api/series", self.api_series),
                web.get("/api/replication", self.api_replication),
                web.get("/api/slowlog", self.api_slowlog),
                web.get("/api/info", self.api_info),
                web.get("/api/config", self.api_config),
                web.post("/api/config", self.api_config_set),
            ]
        )
        self.runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )

    async def setup(self) -> None:
        await self.runner.setup()

    def protocol(self) -> asyncio.Protocol:
        return self.runner.server()  # type: ignore[misc, no-any-return]

    async def cleanup(self) -> None:
        await self.runner.cleanup()

    # --- authentication -------------------------------------------------------------------
    def _secret_digest(self) -> str:
        pw = self.server.settings.server.requirepass
        return hashlib.sha256(pw.encode("utf-8", "surrogateescape")).hexdigest()

    def _session_ok(self, request: web.Request) -> bool:
        token = request.cookies.get(COOKIE, "")
        found = self.sessions.get(token) if token else None
        if found is None:
            return False
        expiry, digest = found
        if expiry < time.time() or digest != self._secret_digest():
            self.sessions.pop(token, None)
            return False
        return True

    def _basic_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _user, _, password = decoded.partition(":")
        return state.check_password(self.server, password)

    def _from_metrics_port(self, request: web.Request) -> bool:
        if not self.metrics_port or request.transport is None:
            return False
        sockname = request.transport.get_extra_info("sockname")
        return bool(sockname) and sockname[1] == self.metrics_port

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self._from_metrics_port(request):
            if request.path != "/metrics":
                raise web.HTTPNotFound(text="only /metrics is served on this port\n")
            return await handler(request)  # type: ignore[no-any-return]
        if not state.auth_required(self.server):
            # protected-mode, as for RESP clients: without a password only loopback clients
            if self.server.settings.server.protected_mode and not state.is_loopback(request.remote):
                raise web.HTTPForbidden(
                    text="pikadb is in protected mode (no requirepass): the dashboard is only "
                    "served to loopback clients. Set requirepass or protected-mode no.\n"
                )
            return await handler(request)  # type: ignore[no-any-return]
        if request.path in _OPEN_PATHS or self._session_ok(request) or self._basic_ok(request):
            return await handler(request)  # type: ignore[no-any-return]
        if request.path == "/" and request.method == "GET":
            raise web.HTTPFound("/login")
        headers = {}
        if request.headers.get("X-Requested-With") != "pikadb-dashboard":
            headers["WWW-Authenticate"] = 'Basic realm="pikadb"'
        return web.json_response({"error": "authentication required"}, status=401, headers=headers)

    # --- pages ----------------------------------------------------------------------------
    def _file(self, name: str) -> web.Response:
        return web.Response(
            body=self.files[name],
            content_type=STATIC[name],
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def index(self, request: web.Request) -> web.StreamResponse:
        return self._file("index.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return self._file(name)

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        if not state.auth_required(self.server):
            raise web.HTTPFound("/")
        return self._file("login.html")

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        password = str(form.get("password", ""))
        if not state.check_password(self.server, password):
            await asyncio.sleep(0.3)  # slow down guessing
            raise web.HTTPFound("/login?failed=1")
        now = time.time()
        for token, (expiry, _d) in list(self.sessions.items()):
            if expiry < now:
                del self.sessions[token]
        token = secrets.token_urlsafe(32)
        self.sessions[token] = (now + SESSION_SECONDS, self._secret_digest())
        resp = web.HTTPFound("/")
        resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", max_age=SESSION_SECONDS)
        raise resp

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self.sessions.pop(request.cookies.get(COOKIE, ""), None)
        resp = web.HTTPFound("/login" if state.auth_required(self.server) else "/")
        resp.del_cookie(COOKIE)
        raise resp

    # --- metrics ----------------------------------------------------------------------------
    async def metrics(self, request: web.Request) -> web.StreamResponse:
        body = metrics.render(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    # --- JSON API -------------------------------------------------------------------------
    async def api_overview(self, request: web.Request) -> web.StreamResponse:
        data = state.overview(self.server, self.sampler)
        data["auth"] = state.auth_required(self.server)
        return web.json_response(data)

    async def api_series(self, request: web.Request) -> web.StreamResponse:
        try:
            since = float(request.query.get("since", "0") or 0)
        except ValueError:
            since = 0.0
        return web.json_response({"samples": self.sampler.series(since), "now": time.time()})

    async def api_replication(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(state.replication(self.server))

    async def api_slowlog(self, request: web.Request) -> web.StreamResponse:
        try:
            count = max(1, min(1000, int(request.query.get("count", "50"))))
        except ValueError:
            count = 50
        return web.json_response(state.slowlog_entries(self.server, count))

    async def api_info(self, request: web.Request) -> web.StreamResponse:
        sections = request.query.getall("section", []) or ["default"]
        return web.json_response(state.info(self.server, *sections))

    async def api_config(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"settings": state.config_entries(self.server)})

    async def api_config_set(self, request: web.Request) -> web.StreamResponse:
        # Cross-site requests: a JSON body needs a CORS preflight (never granted here), and
        # a browser's Origin must be this node, so no other page can change settings.
        if request.content_type != "application/json":
            return web.json_response({"error": "Content-Type must be application/json"}, status=415)
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.host:
            return web.json_response({"error": "cross-origin request refused"}, status=403)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        if (
            not isinstance(body, dict)
            or not body
            or not all(isinstance(v, str | int | float) for v in body.values())
        ):
            return web.json_response({"error": 'expected {"setting": "value", ...}'}, status=400)
        pairs = [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in body.items()]
        err = state.config_set(self.server, pairs)
        if err is not None:
            return web.json_response({"error": err}, status=400)
        config = self.server.config
        applied = {name: config.render(name) for name, _ in pairs}
        for name in list(applied):
            entry = next((e for e in config.entries() if e.name == name.lower()), None)
            if entry is not None and entry.sensitive:
                applied[name] = ""
        log.info("CONFIG SET from the dashboard (%s): %s", request.remote, ", ".join(applied))
        return web.json_response({"ok": True, "applied": applied})
