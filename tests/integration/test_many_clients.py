"""Many concurrent idle connections held by one server, which still serves a normal load.

The suite holds 2,000; `make clients-10k` runs the same test with 10,000
(PIKADB_MANY_CLIENTS=10000) and prints the server's memory per connection (RSS delta / N),
the figure behind CONN_BASE_MEM in server/connection.py.
"""

from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Iterator

import pytest
from tests.support.servers import PikaServer

N = int(os.environ.get("PIKADB_MANY_CLIENTS", "2000"))


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def crowd_server() -> Iterator[PikaServer]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = N + 200
    if soft < want:  # this process holds the other ends of the connections
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.fail(f"RLIMIT_NOFILE hard limit {hard} < {want}: raise ulimit -n")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    srv = PikaServer(args=["--set", f"maxclients={N + 100}"]).start()
    yield srv
    srv.cleanup()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_many_idle_connections_then_normal_load(crowd_server: PikaServer) -> None:
    srv = crowd_server
    assert srv.proc is not None
    pid = srv.proc.pid
    c = srv.client()
    c.set("warm", "up")
    time.sleep(0.2)
    before = _rss_kb(pid)
    socks: list[socket.socket] = []
    t0 = time.monotonic()
    try:
        for i in range(N):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            socks.append(s)
            if i % 500 == 499:  # let the accept loop keep up (listen backlog is 511)
                while int(c.info("clients")["connected_clients"]) < len(socks):
                    time.sleep(0.01)
        while int(c.info("clients")["connected_clients"]) < N + 1:
            time.sleep(0.05)
        opened = time.monotonic() - t0
        # every 50th connection is alive and answers
        for s in socks[::50]:
            s.sendall(b"PING\r\n")
        for s in socks[::50]:
            assert s.recv(100) == b"+PONG\r\n"
        time.sleep(0.3)
        held = _rss_kb(pid)
        per_conn = (held - before) * 1024 / N
        # a normal load is still served: pipelined writes and reads, single requests
        t1 = time.monotonic()
        pipe = c.pipeline(transaction=False)
        for i in range(5000):
            pipe.set(f"key:{i}", i)
        assert all(pipe.execute())
        pipe = c.pipeline(transaction=False)
        for i in range(5000):
            pipe.get(f"key:{i}")
        assert pipe.execute() == [str(i).encode() for i in range(5000)]
        for i in range(300):
            assert c.incr("counter") == i + 1
        load = time.monotonic() - t1
        info = c.info("clients")
        assert int(info["connected_clients"]) == N + 1
        print(
            f"\n{N} idle connections: opened in {opened:.1f} s, server RSS {before // 1024} -> "
            f"{held // 1024} MiB = {per_conn:.0f} bytes per connection; 10,300 commands "
            f"under that load in {load:.2f} s"
        )
        assert per_conn < 64 * 1024
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 30
    while int(c.info("clients")["connected_clients"]) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert int(c.info("clients")["connected_clients"]) == 1
    c.close()
