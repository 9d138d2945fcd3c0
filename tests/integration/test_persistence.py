"""Data survives restarts: SIGTERM, SHUTDOWN, kill -9 right after acknowledged writes, and
DEBUG RELOAD. TTLs are kept (as absolute times) and expired keys stay expired."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable

import redis
from tests.support.servers import PikaServer

Factory = Callable[..., PikaServer]


def write_sample(c: redis.Redis) -> None:
    c.set("plain", "value")
    c.set("with-ex", "v", ex=100)
    c.set("with-px", "v", px=200_000)
    c.mset({"m1": "x", "m2": "y", "m3": "z"})
    for _ in range(5):
        c.incr("counter")
    c.set("deleted", "1")
    c.delete("deleted")
    c.set("binary\x00key", b"\x00\xff\r\n")
    c.set("soon-expired", "v", px=150)
    c.execute_command("SELECT", "3")
    c.set("in-db3", "three")
    c.execute_command("SELECT", "0")


def check_sample(c: redis.Redis) -> None:
    assert c.get("plain") == b"value"
    assert c.mget("m1", "m2", "m3") == [b"x", b"y", b"z"]
    assert c.get("counter") == b"5"
    assert c.get("deleted") is None
    assert c.exists("deleted") == 0
    assert c.get("binary\x00key") == b"\x00\xff\r\n"
    ex = c.pttl("with-ex")
    assert 0 < ex < 100_000
    px = c.pttl("with-px")
    assert 0 < px < 200_000
    assert c.ttl("plain") == -1
    assert c.get("soon-expired") is None
    assert c.pttl("soon-expired") == -2
    c.execute_command("SELECT", "3")
    assert c.get("in-db3") == b"three"
    c.execute_command("SELECT", "0")
    assert c.get("in-db3") is None


def wait_dbsize(c: redis.Redis, n: int, timeout: float = 5.0) -> None:
    """Wait for active expiry to remove what has expired (DBSIZE counts those, as Redis)."""
    deadline = time.monotonic() + timeout
    while c.dbsize() != n and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.dbsize() == n


def test_sigterm_and_restart_keep_everything(make_server: Factory) -> None:
    srv = make_server()
    c = srv.client()
    write_sample(c)
    time.sleep(0.2)  # soon-expired is now expired, maybe not yet deleted
    c.close()
    assert srv.stop(signal.SIGTERM) == 0
    srv.start()
    c = srv.client()
    check_sample(c)
    wait_dbsize(c, 8)
    c.close()


def test_shutdown_command_then_restart(make_server: Factory) -> None:
    srv = make_server()
    c = srv.client()
    write_sample(c)
    time.sleep(0.2)
    try:
        c.execute_command("SHUTDOWN")
    except redis.ConnectionError:
        pass  # the connection is closed without a reply, as Redis does
    assert srv.proc is not None
    assert srv.proc.wait(15) == 0
    srv.stop()
    srv.start()
    c = srv.client()
    check_sample(c)
    c.close()


def test_kill_9_after_acknowledged_pipelined_writes(make_server: Factory) -> None:
    srv = make_server()
    c = srv.client()
    n = 5000
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"k:{i}", f"v:{i}")
        if i % 10 == 0:
            pipe.incr("incrs")
        if i % 7 == 0:
            pipe.set(f"ttl:{i}", "t", ex=1000)
        if i % 100 == 99:
            pipe.delete(f"k:{i - 50}")
    results = pipe.execute()
    assert all(results)
    c.close()
    srv.kill9()  # right after the replies: no clean shutdown
    srv.start()
    c = srv.client()
    values = c.mget([f"k:{i}" for i in range(n)])
    deleted = {i - 50 for i in range(n) if i % 100 == 99}
    assert values == [None if i in deleted else f"v:{i}".encode() for i in range(n)]
    assert c.get("incrs") == str(len(range(0, n, 10))).encode()
    assert all(0 < c.ttl(f"ttl:{i}") <= 1000 for i in range(0, n, 7 * 50))
    assert c.dbsize() == n - len(deleted) + 1 + len(range(0, n, 7))
    c.close()


def test_kill_9_during_a_write_stream_loses_no_acknowledged_write(make_server: Factory) -> None:
    srv = make_server()
    acked = -1
    stop = threading.Event()
    failed: list[BaseException] = []

    def writer() -> None:
        nonlocal acked
        c = srv.client(socket_timeout=5)
        i = 0
        try:
            while not stop.is_set():
                pipe = c.pipeline(transaction=False)
                for j in range(i, i + 50):
                    pipe.set(f"w:{j}", j)
                pipe.execute()
                acked = i + 49
                i += 50
        except (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError):
            pass
        except BaseException as exc:
            failed.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    deadline = time.monotonic() + 20
    while acked < 3000 and time.monotonic() < deadline:
        time.sleep(0.02)
    srv.kill9()
    stop.set()
    t.join(10)
    assert not failed
    assert acked >= 3000
    srv.start()
    c = srv.client()
    values = c.mget([f"w:{j}" for j in range(acked + 1)])
    missing = [j for j, v in enumerate(values) if v != str(j).encode()]
    assert missing == []
    c.close()


def test_debug_reload_keeps_data(make_server: Factory) -> None:
    srv = make_server("--set", "enable-debug-command=yes")
    c = srv.client()
    write_sample(c)
    time.sleep(0.2)
    assert c.execute_command("DEBUG", "RELOAD") in (b"OK", "OK", True)
    check_sample(c)
    c.set("after-reload", "1")
    assert c.get("after-reload") == b"1"
    c.close()


def test_expired_keys_stay_expired_after_restart(make_server: Factory) -> None:
    srv = make_server()
    c = srv.client()
    c.set("short", "v", px=300)
    c.set("long", "v", ex=60)
    c.close()
    srv.kill9()  # not even a clean shutdown: the TTL is stored as an absolute time
    time.sleep(0.5)
    srv.start()
    c = srv.client()
    assert c.get("short") is None
    assert c.pttl("short") == -2
    assert c.exists("short") == 0
    assert c.keys("*") == [b"long"]
    wait_dbsize(c, 1)
    assert 50_000 < c.pttl("long") <= 60_000
    c.close()
    srv.stop()
    srv.start()
    c = srv.client()
    assert c.keys("*") == [b"long"]
    assert c.dbsize() == 1
    c.close()


def test_restart_on_the_same_port_and_dir_accepts_clients_at_once(make_server: Factory) -> None:
    srv = make_server()
    port, data_dir = srv.port, srv.dir
    srv.client().set("k", "v")
    srv.stop()
    srv.start()
    assert (srv.port, srv.dir) == (port, data_dir)
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET k\r\n")
        assert s.recv(100) == b"$1\r\nv\r\n"
