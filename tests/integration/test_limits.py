"""Client limits (server/connection.py, server/fdlimit.py, protocol/parser.py): maxclients,
timeout, client-query-buffer-limit, client-output-buffer-limit for the normal class (hard and
soft), bounded memory for a client that does not read, per-client memory in CLIENT LIST,
Redis's request limits before AUTH, and RLIMIT_NOFILE raised for maxclients.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import redis
from tests.support.raw_resp import encode
from tests.support.servers import PikaServer

MB = 1 << 20


@pytest.fixture(scope="module")
def lim() -> Iterator[PikaServer]:
    """A server of this module's own (its limits are changed; tests restore them)."""
    srv = PikaServer().start()
    yield srv
    srv.cleanup()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _drain(s: socket.socket, timeout: float = 20.0) -> tuple[int, bool]:
    """Read until EOF or quiet: (bytes read, whether the server closed)."""
    s.settimeout(timeout)
    total = 0
    while True:
        try:
            chunk = s.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            return total, True
        except TimeoutError:
            return total, False
        if not chunk:
            return total, True
        total += len(chunk)


def _client_line(c: redis.Redis, cid: int) -> dict[str, str]:
    line = c.execute_command("CLIENT", "LIST", "ID", cid).decode().strip()
    return dict(kv.split("=", 1) for kv in line.split(" "))


def test_maxclients(lim: PikaServer) -> None:
    c = lim.client()
    n = c.info("clients")["connected_clients"]
    c.config_set("maxclients", n + 1)
    try:
        extra = socket.create_connection(("127.0.0.1", lim.port), timeout=5)
        extra.sendall(b"PING\r\n")
        assert extra.recv(100) == b"+PONG\r\n"
        over = socket.create_connection(("127.0.0.1", lim.port), timeout=5)
        assert over.recv(100) == b"-ERR max number of clients reached\r\n"
        assert over.recv(100) == b""
        over.close()
        extra.close()
        assert c.info("stats")["rejected_connections"] >= 1
    finally:
        c.config_set("maxclients", 10000)
    c.close()


def test_idle_timeout_closes_normal_clients_only(lim: PikaServer) -> None:
    c = lim.client()
    c.config_set("timeout", 1)
    try:
        idle = socket.create_connection(("127.0.0.1", lim.port), timeout=10)
        sub = socket.create_connection(("127.0.0.1", lim.port), timeout=10)
        sub.sendall(encode("SUBSCRIBE", "ch"))
        assert sub.recv(100).startswith(b"*3\r\n")
        assert idle.recv(100) == b""  # closed by the cron after ~1 s of silence
        sub.sendall(encode("PING"))  # a subscriber is spared (clientsCronHandleTimeout)
        assert b"pong" in sub.recv(100)
        sub.close()
    finally:
        c.config_set("timeout", 0)
    c.close()


def test_query_buffer_limit_closes_without_reply(lim: PikaServer) -> None:
    c = lim.client()
    c.config_set("client-query-buffer-limit", "1mb")
    try:
        s = socket.create_connection(("127.0.0.1", lim.port), timeout=10)
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n")
        try:
            s.sendall(b"x" * (2 * MB))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert _drain(s) == (0, True)  # Redis replies nothing: it logs and closes
        s.close()
        assert "max query buffer length" in lim.log()
    finally:
        c.config_set("client-query-buffer-limit", "1gb")
    assert c.ping()
    c.close()


def test_normal_class_hard_limit_disconnects_a_client_that_does_not_read(
    lim: PikaServer,
) -> None:
    c = lim.client()
    c.set("big", b"v" * MB)
    c.config_set("client-output-buffer-limit", "normal 8mb 0 0")
    try:
        s = socket.create_connection(("127.0.0.1", lim.port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.sendall(encode("GET", "big") * 200)  # 200 MB of replies, none read yet
        time.sleep(0.5)
        got, closed = _drain(s)
        assert closed and got < 100 * MB
        s.close()
        assert "overcoming of output buffer limits" in lim.log()
        # a client that reads keeps its replies coming
        pipe = c.pipeline(transaction=False)
        for _ in range(30):
            pipe.get("big")
        assert len(pipe.execute()) == 30
    finally:
        c.config_set("client-output-buffer-limit", "normal 0 0 0")
    c.close()


def test_normal_class_soft_limit_after_its_seconds(lim: PikaServer) -> None:
    c = lim.client()
    c.set("big", b"v" * MB)
    c.config_set("client-output-buffer-limit", "normal 0 2mb 1")
    try:
        s = socket.create_connection(("127.0.0.1", lim.port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.sendall(encode("GET", "big") * 50)
        time.sleep(2.5)  # above the soft limit for longer than 1 s
        got, closed = _drain(s)
        assert closed and got < 50 * MB
        s.close()
    finally:
        c.config_set("client-output-buffer-limit", "normal 0 0 0")
    c.close()


def test_memory_bounded_for_a_client_that_does_not_read(lim: PikaServer) -> None:
    """No normal-class limit: the server stops reading such a client instead of building
    its replies; they all arrive once it reads."""
    assert lim.proc is not None
    c = lim.client()
    c.set("big", b"v" * MB)
    s = socket.create_connection(("127.0.0.1", lim.port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    before = _rss_kb(lim.proc.pid)
    n = 300
    s.sendall(encode("GET", "big") * n)  # 300 MB of replies
    time.sleep(1.0)
    grown = _rss_kb(lim.proc.pid) - before
    assert grown < 64 * 1024, f"server RSS grew {grown} kB"
    line = _client_line(c, int(_client_id_of(c, s)))
    assert int(line["omem"]) > 0 and int(line["tot-mem"]) >= int(line["omem"])
    assert "b" not in line["flags"]
    got, closed = _drain_exact(s, n * (MB + len(b"$1048576\r\n\r\n")))
    assert not closed and got == n * (MB + 12)
    s.close()
    c.close()


def _client_id_of(c: redis.Redis, s: socket.socket) -> str:
    port = s.getsockname()[1]
    for cl in c.client_list():
        if cl["addr"].endswith(f":{port}"):
            return cl["id"]
    raise AssertionError("client not listed")


def _drain_exact(s: socket.socket, want: int) -> tuple[int, bool]:
    s.settimeout(30)
    got = 0
    while got < want:
        chunk = s.recv(4 * MB)
        if not chunk:
            return got, True
        got += len(chunk)
    return got, False


def test_client_list_memory_fields(lim: PikaServer) -> None:
    c = lim.client()
    s = socket.create_connection(("127.0.0.1", lim.port), timeout=10)
    s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + b"a" * 5000)
    time.sleep(0.3)
    line = _client_line(c, int(_client_id_of(c, s)))
    assert int(line["qbuf"]) >= 5000
    assert int(line["tot-mem"]) >= int(line["qbuf"])
    assert line["omem"] == "0" and line["oll"] == "0"
    mine = c.execute_command("CLIENT", "INFO").decode()
    fields = dict(kv.split("=", 1) for kv in mine.split())
    assert fields["argv-mem"] == "10"  # "client" + "info", as Redis counts its own argv
    assert list(fields)[13:22] == [
        "qbuf",
        "qbuf-free",
        "argv-mem",
        "multi-mem",
        "rbs",
        "rbp",
        "obl",
        "oll",
        "omem",
    ]
    s.close()
    c.close()


@pytest.fixture(scope="module")
def pw_srv() -> Iterator[PikaServer]:
    """A server with a password and a maxclients above the usual 1024 file limit."""
    srv = PikaServer(args=["--set", "requirepass=pw", "--set", "maxclients=12345"]).start()
    yield srv
    srv.cleanup()


def test_unauthenticated_pipeline_lifts_limits_after_auth(pw_srv: PikaServer) -> None:
    srv = pw_srv
    big = b"x" * 20000
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        # 16384 bytes are fine before AUTH; AUTH then lifts the limits for the next request
        s.sendall(
            encode("ECHO", b"y" * 16384)
            + encode("AUTH", "pw")
            + encode("MSET", *[f"k{i}" for i in range(20)])
            + encode("SET", "big", big)
        )
        want = b"-NOAUTH Authentication required.\r\n+OK\r\n+OK\r\n+OK\r\n"
        buf = b""
        while len(buf) < len(want):
            chunk = s.recv(1000)
            assert chunk, buf
            buf += chunk
        assert buf == want
    c = srv.client(password="pw")
    assert c.strlen("big") == 20000
    c.close()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"*1\r\n$16385\r\n")
        assert s.recv(1000) == b"-ERR Protocol error: unauthenticated bulk length\r\n"


def _nofile(pid: int) -> tuple[int, int]:
    """(soft, hard) RLIMIT_NOFILE of a process."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                big = 1 << 62
                return (
                    big if soft == "unlimited" else int(soft),
                    big if hard == "unlimited" else int(hard),
                )
    raise AssertionError("no limit line")


def test_open_files_limit_follows_maxclients(pw_srv: PikaServer) -> None:
    srv = pw_srv
    assert srv.proc is not None
    soft, hard = _nofile(srv.proc.pid)
    assert soft >= 12345 + 32  # raised at start (adjustOpenFilesLimit)
    c = srv.client(password="pw")
    if hard < 1 << 31:  # a limit the OS keeps: refused with Redis's message past it
        with pytest.raises(redis.ResponseError, match=f"try with {hard - 32}$"):
            c.config_set("maxclients", hard + 1000)
        assert c.config_get("maxclients") == {"maxclients": "12345"}
        c.config_set("maxclients", hard - 32)
        assert _nofile(srv.proc.pid)[0] == hard
        c.config_set("maxclients", 12345)
    c.close()
