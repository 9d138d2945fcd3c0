"""Fixtures for the web side: a pikadb server with its dashboard and metrics ports, and a
tiny HTTP client (urllib) that returns status, headers and body."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.support.servers import PikaServer, free_port

PASSWORD = "s3cret-pw"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    password: str | None = None,
    timeout: float = 15.0,
) -> Reply:
    """One request to 127.0.0.1:port; redirects are returned, not followed."""
    hdrs = dict(headers or {})
    if password is not None:
        hdrs["Authorization"] = "Basic " + base64.b64encode(f"any:{password}".encode()).decode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=hdrs
    )
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return Reply(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, dict(exc.headers.items()), exc.read())


def post_json(port: int, path: str, data: Any, **kw: Any) -> Reply:
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return http(port, path, "POST", json.dumps(data).encode(), headers=headers, **kw)


def wait_http(port: int, path: str = "/metrics", timeout: float = 20.0, **kw: Any) -> Reply:
    """Poll until the port answers (the first request loads aiohttp)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return http(port, path, **kw)
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    raise TimeoutError(f"no HTTP answer on port {port}: {last}")


class WebServer:
    """A PikaServer with ``dashboard`` and ``metrics`` ports."""

    def __init__(self, *args: str) -> None:
        self.dashboard = free_port()
        self.metrics = free_port()
        self.srv = PikaServer(
            args=[
                "--set",
                f"dashboard-port={self.dashboard}",
                "--set",
                f"metrics-port={self.metrics}",
                *args,
            ]
        )

    def start(self) -> WebServer:
        self.srv.start()
        wait_http(self.metrics)
        return self

    @property
    def port(self) -> int:
        return self.srv.port

    def client(self, **kw: Any) -> Any:
        return self.srv.client(**kw)


@pytest.fixture(scope="session")
def web_server() -> Iterator[WebServer]:
    """A server without a password (slowlog logs everything)."""
    ws = WebServer("--set", "slowlog-log-slower-than=0").start()
    yield ws
    ws.srv.cleanup()


@pytest.fixture(scope="session")
def auth_server() -> Iterator[WebServer]:
    """A server with requirepass set."""
    ws = WebServer("--set", f"requirepass={PASSWORD}").start()
    yield ws
    ws.srv.cleanup()
