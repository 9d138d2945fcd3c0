"""Network faults between a replica and its master, injected by a TCP proxy in the test
(tests/support/tcp_proxy.py): replica P of the shared `cluster` runs REPLICAOF 127.0.0.1
<proxy port>.

- cut: every live connection is reset and new ones are refused for a while; after restore the
  replica resumes incrementally (the master's sync_full counter does not move).
- stall: bytes stop flowing but the TCP connection stays up (a silent partition); both ends
  must notice through repl-timeout (2 s here), drop the link, and resume incrementally once
  it heals.
- delay: a slow link still converges and WAIT still counts the replica.
After each: equal DEBUG DIGEST on every node and every acknowledged write everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from tests.support.repl import (
    info,
    replica_ports,
    sync_counters,
    timeout_for,
    wait_link_down,
    wait_link_up,
    wait_until,
)
from tests.support.repl_cluster import REPL_TIMEOUT, Cluster
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(scope="module")
def proxied(cluster: Cluster) -> Iterator[tuple[redis.Redis, redis.Redis, int, TcpProxy]]:
    """(master client, P's client, P's port, proxy): P replicates the master via the proxy."""
    master = cluster.master
    proxy = TcpProxy(master.port).start()
    p = cluster.start("P", REPL_TIMEOUT)
    pc = cluster.attach("P", port=proxy.port)
    wait_link_up(pc, timeout_for())
    cluster.converge()
    yield master.client(), pc, p.port, proxy
    proxy.restore()
    proxy.set_delay(0)
    proxy.stop()
    if p.proc is not None:
        p.stop()


def direct_replicas(cluster: Cluster) -> int:
    return sum(1 for n in cluster.live() if cluster.upstream.get(n) == "master")


def test_link_cut_and_restored_resumes_incrementally(
    cluster: Cluster, proxied: tuple[redis.Redis, redis.Redis, int, TcpProxy]
) -> None:
    mc, pc, p_port, proxy = proxied
    full0, partial0 = sync_counters(mc)
    writer = cluster.writer("cut", rate=1500)
    time.sleep(0.3)
    proxy.cut()
    wait_link_down(pc, 10)
    wait_until(lambda: p_port not in replica_ports(mc), 10, "master sees P gone")
    acked = writer.acked
    wait_until(lambda: writer.acked > acked + 300, 10, "writes while the link is cut")
    wait_until(lambda: proxy.refused > 0, 10, "P trying to reconnect while cut")
    proxy.restore()
    wait_link_up(pc, 30)
    time.sleep(0.3)
    writer.stop()
    cluster.check()
    assert writer.failed == 0, writer.errors[:5]
    full1, partial1 = sync_counters(mc)
    assert full1 == full0, "the replica did a full sync after a short link cut"
    assert partial1 > partial0


def test_stalled_link_times_out_and_resumes(
    cluster: Cluster, proxied: tuple[redis.Redis, redis.Redis, int, TcpProxy]
) -> None:
    mc, pc, p_port, proxy = proxied
    for c in (mc, pc):
        c.config_set("repl-timeout", "2")
    full0, partial0 = sync_counters(mc)
    accepted0 = proxy.accepted
    writer = cluster.writer("stall", rate=1000)
    time.sleep(0.3)
    proxy.stall()
    stalled = time.monotonic()
    # repl-timeout is 2 s: the replica must give the link up (not hang on it forever)
    wait_link_down(pc, 15)
    wait_until(lambda: p_port not in replica_ports(mc), 15, "master drops P")
    assert time.monotonic() - stalled >= 1.0, "link declared down before any timeout"
    # WAIT on the master can't count a replica that is cut off
    n = direct_replicas(cluster)
    assert mc.execute_command("WAIT", str(n), "300") <= n - 1
    proxy.restore()
    for c in (mc, pc):
        c.config_set("repl-timeout", REPL_TIMEOUT.split("=")[1])
    wait_link_up(pc, 30)
    assert proxy.accepted > accepted0, "the replica did not reconnect"
    time.sleep(0.3)
    writer.stop()
    cluster.check()
    full1, partial1 = sync_counters(mc)
    assert full1 == full0, "the replica did a full sync after a stalled link"
    assert partial1 > partial0


def test_slow_link_converges_and_wait_counts(
    cluster: Cluster, proxied: tuple[redis.Redis, redis.Redis, int, TcpProxy]
) -> None:
    mc, pc, _p_port, proxy = proxied
    proxy.set_delay(0.05)
    p = mc.pipeline(transaction=False)
    for i in range(500):
        p.set(f"slow:{i}", i)
    p.execute()
    mc.set("slow:last", "x")
    n = direct_replicas(cluster)
    started = time.monotonic()
    assert mc.execute_command("WAIT", str(n), "10000") == n
    assert time.monotonic() - started >= 0.05, "WAIT answered before P's ack could arrive"
    assert pc.get("slow:last") == b"x"
    assert info(pc)["master_link_status"] == "up"
    proxy.set_delay(0)
    cluster.check()
