"""Password protection of the dashboard when requirepass is set, and the port settings."""

from __future__ import annotations

import socket
import time
import urllib.parse

from tests.support.servers import PikaServer
from tests.web.conftest import PASSWORD, WebServer, http, post_json


def login(port: int, password: str) -> tuple[int, str, str]:
    """POST the login form: (status, Location, session cookie or '')."""
    body = urllib.parse.urlencode({"password": password}).encode()
    reply = http(
        port,
        "/login",
        "POST",
        body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    cookie = reply.headers.get("Set-Cookie", "")
    token = cookie.split(";", 1)[0] if cookie.startswith("pikadb_session=") else ""
    return reply.status, reply.headers.get("Location", ""), token


def test_requests_without_password_are_refused(auth_server: WebServer) -> None:
    port = auth_server.dashboard
    api = http(port, "/api/overview")
    assert api.status == 401
    assert api.headers["WWW-Authenticate"] == 'Basic realm="pikadb"'
    # the dashboard's own scripts get no challenge (no browser password dialog)
    quiet = http(port, "/api/overview", headers={"X-Requested-With": "pikadb-dashboard"})
    assert quiet.status == 401 and "WWW-Authenticate" not in quiet.headers
    page = http(port, "/")
    assert page.status == 302 and page.headers["Location"] == "/login"
    assert post_json(port, "/api/config", {"hz": "20"}).status == 401
    assert http(port, "/api/config").status == 401
    # the login page and its stylesheet are open
    assert http(port, "/login").status == 200
    assert http(port, "/static/style.css").status == 200


def test_basic_auth(auth_server: WebServer) -> None:
    port = auth_server.dashboard
    assert http(port, "/api/overview", password="wrong").status == 401
    ok = http(port, "/api/overview", password=PASSWORD)
    assert ok.status == 200 and ok.json()["auth"] is True
    # any user name, the password is requirepass (AUTH's default user)
    assert (
        post_json(port, "/api/config", {"slowlog-max-len": "55"}, password=PASSWORD).status == 200
    )
    r = auth_server.client(password=PASSWORD, decode_responses=True)
    assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "55"}


def test_login_form_session(auth_server: WebServer) -> None:
    port = auth_server.dashboard
    status, location, token = login(port, "nope")
    assert (status, location, token) == (302, "/login?failed=1", "")
    status, location, token = login(port, PASSWORD)
    assert (status, location) == (302, "/")
    assert token
    cookie = {"Cookie": token}
    assert http(port, "/api/overview", headers=cookie).status == 200
    assert http(port, "/", headers=cookie).status == 200
    # sign out ends the session
    out = http(port, "/logout", "POST", b"", headers=cookie)
    assert out.status == 302
    assert http(port, "/api/overview", headers=cookie).status == 401


def test_changing_requirepass_ends_sessions(auth_server: WebServer) -> None:
    port = auth_server.dashboard
    _, _, token = login(port, PASSWORD)
    cookie = {"Cookie": token}
    assert http(port, "/api/overview", headers=cookie).status == 200
    r = auth_server.client(password=PASSWORD)
    r.config_set("requirepass", "other-pw")
    try:
        assert http(port, "/api/overview", headers=cookie).status == 401
        assert http(port, "/api/overview", password="other-pw").status == 200
        assert http(port, "/api/overview", password=PASSWORD).status == 401
        # config view never shows the password
        settings = http(port, "/api/config", password="other-pw").json()["settings"]
        entry = next(s for s in settings if s["name"] == "requirepass")
        assert entry["value"] == "" and entry["is_set"] is True
    finally:
        r.config_set("requirepass", PASSWORD)


def test_port_in_use_is_skipped_and_zero_is_off() -> None:
    """A dashboard port in use is skipped with a warning and the server runs; metrics-port 0
    opens no listener."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    taken = busy.getsockname()[1]
    srv = PikaServer(args=["--set", f"dashboard-port={taken}", "--set", "metrics-port=0"])
    try:
        srv.start()
        r = srv.client(decode_responses=True)
        assert r.ping()
        ports = r.config_get("*-port")
        assert ports["dashboard-port"] == str(taken) and ports["metrics-port"] == "0"
        deadline = time.monotonic() + 5
        while "cannot listen" not in srv.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = srv.log()
        assert f"dashboard: cannot listen on 127.0.0.1:{taken}" in log
        assert "http://" not in log  # neither "dashboard on" nor "metrics on"
    finally:
        srv.cleanup()
        busy.close()
