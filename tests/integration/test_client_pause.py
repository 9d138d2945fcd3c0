"""CLIENT PAUSE / UNPAUSE (Redis 7.0 semantics; cases from tests/unit/pause.tcl), plus the
``timeout`` and ``maxclients`` settings. A dedicated server: a pause stops every client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import Err, Side, same
from tests.support.servers import PikaServer, RedisServer


@pytest.fixture(scope="module")
def srv() -> Iterator[PikaServer]:
    s = PikaServer(args=["--set", "enable-debug-command=yes"]).start()
    yield s
    s.cleanup()


@pytest.fixture
def c(srv: PikaServer) -> Iterator[redis.Redis]:
    cl = srv.client()
    cl.execute_command("CLIENT", "UNPAUSE")
    cl.flushall()
    yield cl
    cl.execute_command("CLIENT", "UNPAUSE")
    cl.close()


class Deferred:
    """A command sent on its own connection; its reply is collected later."""

    def __init__(self, port: int, *args: Any) -> None:
        self.side = Side("d", port)
        self.conn = self.side._connect()
        self.conn.send_command(*args, check_health=False)

    def ready(self, timeout: float = 0.0) -> bool:
        return bool(self.conn.can_read(timeout=timeout))

    def read(self) -> Any:
        reply = self.conn.read_response()
        self.side.close()
        return reply


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.monotonic()
    out = fn()
    return out, time.monotonic() - t


def test_read_commands_are_not_paused_by_write(srv: PikaServer, c: redis.Redis) -> None:
    c.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    other = srv.client(socket_timeout=2)
    assert other.get("FOO") is None
    assert other.ping()
    assert other.info("server")["tcp_port"] == srv.port
    p = other.pipeline(transaction=True)  # a read-only transaction
    p.ping().get("FOO")
    assert p.execute() == [True, None]
    other.close()


def test_write_commands_wait_for_unpause(srv: PikaServer, c: redis.Redis) -> None:
    c.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    waiting = [Deferred(srv.port, "SET", "FOO", f"BAR{i}") for i in range(3)]
    time.sleep(0.2)
    assert not any(d.ready() for d in waiting)
    assert c.get("FOO") is None
    c.execute_command("CLIENT", "UNPAUSE")
    assert [d.read() for d in waiting] == [b"OK"] * 3
    assert c.get("FOO") == b"BAR2"  # in arrival order


def test_scripts_wait(srv: PikaServer, c: redis.Redis) -> None:
    c.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    d = Deferred(srv.port, "EVAL", "return 1", "0")  # EVAL may write (may_replicate)
    assert not d.ready(0.2)
    c.execute_command("CLIENT", "UNPAUSE")
    assert d.read() == 1


@pytest.mark.parametrize("cmd", [("PUBLISH", "foo", "bar"), ("PFCOUNT", "pause-hll")])
def test_may_replicate_commands_wait(srv: PikaServer, c: redis.Redis, cmd: tuple[str, ...]) -> None:
    c.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    d = Deferred(srv.port, *cmd)
    assert not d.ready(0.2)
    c.execute_command("CLIENT", "UNPAUSE")
    assert d.read() == 0


def test_write_transaction_waits_read_transaction_does_not(srv: PikaServer, c: redis.Redis) -> None:
    s = Side("s", srv.port)
    assert s.call("MULTI") == b"OK"
    assert s.call("SET", "FOO", "BAR") == b"QUEUED"
    c.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    conn = s.conn
    assert conn is not None
    conn.send_command("EXEC", check_health=False)
    assert not conn.can_read(timeout=0.2)
    c.execute_command("CLIENT", "UNPAUSE")
    assert conn.read_response() == [b"OK"]
    s.close()


def test_queueing_a_write_inside_multi_waits(srv: PikaServer, c: redis.Redis) -> None:
    s = Side("s", srv.port)
    s.call("MULTI")
    c.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    assert s.call("GET", "x") == b"QUEUED"  # reads are queued at once
    conn = s.conn
    assert conn is not None
    conn.send_command("SET", "x", "1", check_health=False)  # as processCommand: paused first
    assert not conn.can_read(timeout=0.2)
    c.execute_command("CLIENT", "UNPAUSE")
    assert conn.read_response() == b"QUEUED"
    assert s.call("EXEC")[1] == b"OK"
    s.close()


def test_pause_all_is_kept_over_a_shorter_pause_write(srv: PikaServer, c: redis.Redis) -> None:
    d = srv.client(socket_timeout=5)
    d.set("FOO", "BAR")
    start = time.monotonic()
    c.execute_command("CLIENT", "PAUSE", 200, "ALL")
    c.execute_command("CLIENT", "PAUSE", 20, "WRITE")
    time.sleep(0.05)
    assert d.get("FOO") == b"BAR"
    assert time.monotonic() - start > 0.18
    d.close()


def test_longer_pause_is_kept(srv: PikaServer, c: redis.Redis) -> None:
    c.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    c.execute_command("CLIENT", "PAUSE", 10, "WRITE")
    time.sleep(0.1)
    d = Deferred(srv.port, "SET", "FOO", "BAR")
    assert not d.ready(0.2)
    c.execute_command("CLIENT", "UNPAUSE")
    assert d.read() == b"OK"


def test_pause_ends_by_itself(srv: PikaServer, c: redis.Redis) -> None:
    c.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    d = srv.client(socket_timeout=5)
    (ok, took) = timed(lambda: d.set("a", 1))
    assert ok and 0.15 < took < 3
    d.close()


def test_pause_all_holds_every_command(srv: PikaServer, c: redis.Redis) -> None:
    d = srv.client(socket_timeout=5)
    d.ping()
    c.execute_command("CLIENT", "PAUSE", 300, "ALL")
    (_, took) = timed(d.ping)
    assert took > 0.15
    c.execute_command("CLIENT", "PAUSE", 300, "ALL")
    (_, took) = timed(c.ping)  # the client that paused too
    assert took > 0.15
    d.close()


def test_syntax_errors_answer_at_once(srv: PikaServer, c: redis.Redis) -> None:
    c.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    d = Side("d", srv.port)
    assert d.call("SET", "FOO") == Err("ERR wrong number of arguments for 'set' command")
    assert d.call("NOSUCH") == Err("ERR unknown command 'NOSUCH', with args beginning with: ")
    d.close()


def test_pause_inside_multi_starts_after_exec(srv: PikaServer, c: redis.Redis) -> None:
    p = c.pipeline(transaction=True)
    p.set("FOO1{t}", "BAR").execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    p.set("FOO2{t}", "BAR")
    assert p.execute() == [True, b"OK", True]
    d = Deferred(srv.port, "SET", "FOO3{t}", "BAR")
    assert not d.ready(0.2)
    assert c.mget("FOO1{t}", "FOO2{t}", "FOO3{t}") == [b"BAR", b"BAR", None]
    c.execute_command("CLIENT", "UNPAUSE")
    assert d.read() == b"OK"


def test_expiry_is_suspended_while_paused(srv: PikaServer, c: redis.Redis) -> None:
    expired = c.info("stats")["expired_keys"]
    p = c.pipeline(transaction=True)
    p.set("foo{t}", "bar", px=10).set("bar{t}", "foo", px=10)
    p.execute_command("CLIENT", "PAUSE", 50000, "WRITE")
    p.execute()
    time.sleep(0.3)  # several active expiry cycles
    assert c.get("foo{t}") is None and c.get("bar{t}") is None  # logically expired...
    assert c.info("stats")["expired_keys"] == expired  # ... but not deleted
    assert c.dbsize() == 2
    c.execute_command("CLIENT", "UNPAUSE")  # active expiry deletes them now
    deadline = time.monotonic() + 5
    while c.info("stats")["expired_keys"] < expired + 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_client_unblock_does_not_release_a_paused_client(srv: PikaServer, c: redis.Redis) -> None:
    ids = []
    waiting = []
    for _ in range(2):
        s = Side("w", srv.port)
        ids.append(s.call("CLIENT", "ID"))
        waiting.append(s)
    c.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    for s in waiting:
        assert s.conn is not None
        s.conn.send_command("BLPOP", "mylist", "0", check_health=False)
    time.sleep(0.2)
    assert c.execute_command("CLIENT", "UNBLOCK", ids[0], "TIMEOUT") == 0
    assert c.execute_command("CLIENT", "UNBLOCK", ids[1], "ERROR") == 0
    c.execute_command("CLIENT", "UNPAUSE")
    deadline = time.monotonic() + 5
    while c.info("clients")["blocked_clients"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert c.execute_command("CLIENT", "UNBLOCK", ids[0], "TIMEOUT") == 1
    assert c.execute_command("CLIENT", "UNBLOCK", ids[1], "ERROR") == 1
    assert waiting[0].conn is not None and waiting[1].conn is not None
    assert waiting[0].conn.read_response() is not None  # the null array
    assert str(waiting[1].conn.read_response()).startswith("UNBLOCKED")
    for s in waiting:
        s.close()


def test_monitor_clients_are_not_paused(srv: PikaServer, c: redis.Redis) -> None:
    m = Side("m", srv.port)
    assert m.call("MONITOR") == b"OK"
    c.execute_command("CLIENT", "PAUSE", 60000, "ALL")
    assert m.conn is not None
    m.conn.send_command("PING", check_health=False)
    assert m.conn.can_read(timeout=2)
    assert m.conn.read_response() == b"PONG"
    assert m.conn.read_response().endswith(b'"PING"')  # its own MONITOR line
    assert m.call("CLIENT", "UNPAUSE") == b"OK"  # (not a keyspace command: allowed)
    m.close()
    assert c.ping()


def test_paused_client_may_disconnect(srv: PikaServer, c: redis.Redis) -> None:
    c.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    d = Deferred(srv.port, "SET", "gone", "1")
    time.sleep(0.1)
    d.side.close()
    time.sleep(0.1)
    c.execute_command("CLIENT", "UNPAUSE")
    assert c.ping()


@pytest.mark.parametrize("resp", [2, 3])
def test_errors_like_redis(srv: PikaServer, real_redis: RedisServer, resp: int) -> None:
    cases = [
        ("CLIENT", "PAUSE"),
        ("CLIENT", "PAUSE", "x"),
        ("CLIENT", "PAUSE", "1.5"),
        ("CLIENT", "PAUSE", "-1"),
        ("CLIENT", "PAUSE", "99999999999999999999"),
        ("CLIENT", "PAUSE", "100", "FOO"),
        ("CLIENT", "PAUSE", "x", "FOO"),  # the mode is checked first
        ("CLIENT", "PAUSE", "100", "write", "x"),
        ("CLIENT", "UNPAUSE", "x"),
        ("CLIENT", "PAUSE", "0"),  # no pause at all
        ("CLIENT", "PAUSE", "9223372036854775807", "WRITE"),  # wraps around: no pause
        ("SET", "k", "v"),
        ("CLIENT", "UNPAUSE"),
    ]
    got = []
    for port in (srv.port, real_redis.port):
        s = Side("s", port, resp)
        got.append([s.call(*a) for a in cases])
        s.close()
    assert same(got[0], got[1]), got


# --- timeout / maxclients --------------------------------------------------------------------------
def _closed(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def test_idle_clients_are_closed_after_timeout(make_server: Callable[..., PikaServer]) -> None:
    s = make_server("--set", "timeout=1", "--set", "hz=50")
    idle = socket.create_connection(("127.0.0.1", s.port))
    busy = s.client()
    t = time.monotonic()
    assert _closed(idle, 5)
    assert 0.9 < time.monotonic() - t < 5
    assert busy.ping()  # (reconnects if needed; the server is fine)


def test_blocked_clients_are_not_closed_by_timeout(make_server: Callable[..., PikaServer]) -> None:
    s = make_server("--set", "timeout=1", "--set", "hz=50")
    out: list[Any] = []

    def wait() -> None:
        try:
            out.append(s.client(socket_timeout=5).blpop(["never"], 2))
        except redis.RedisError as exc:  # closed by the server
            out.append(exc)

    th = threading.Thread(target=wait, daemon=True)
    th.start()
    th.join(4)
    assert out == [None]


def test_maxclients(make_server: Callable[..., PikaServer]) -> None:
    s = make_server("--set", "maxclients=3")
    kept = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(3)]
    time.sleep(0.2)
    extra = socket.create_connection(("127.0.0.1", s.port))
    extra.settimeout(5)
    assert extra.recv(100) == b"-ERR max number of clients reached\r\n"
    assert _closed(extra, 5)
    for k in kept:
        k.close()
    time.sleep(0.2)
    c = s.client()
    assert c.ping()
    assert c.info("stats")["rejected_connections"] == 1
    c.config_set("maxclients", 1)  # live: the next one is refused
    extra = socket.create_connection(("127.0.0.1", s.port))
    extra.settimeout(5)
    assert extra.recv(100) == b"-ERR max number of clients reached\r\n"
    c.close()
