"""Replication under faults, with real pikadb processes on loopback (the shared `cluster`
deployment of conftest.py: a preloaded master, replicas A and B, a leaf L chained off A).

Every scenario ends with `cluster.check()`: all nodes print the same DEBUG DIGEST, and every
write the master ever acknowledged (AckedWriter, all writers so far) is on every node. Whether
a resync was full or incremental is read from the master's INFO stats counters (sync_full,
sync_partial_ok), checked after the data.

Sizes: KEYS (tests/support/repl.py) preloaded keys; `make repl-large` runs millions.
"""

from __future__ import annotations

import signal
import time

import pytest
import redis

from tests.support.repl import (
    KEYS,
    LARGE,
    AckedWriter,
    info,
    link_up,
    progress,
    replica_ports,
    sync_counters,
    timeout_for,
    wait_link_up,
    wait_until,
)
from tests.support.repl_cluster import FAST_SYNC, REPL_TIMEOUT, SLOW_SYNC, Cluster

WRITE_RATE = 5000 if LARGE else 1500


def watch_full_sync(rc: redis.Redis, writer: AckedWriter, timeout: float) -> tuple[bool, int]:
    """Poll the replica until its link is up; return (saw master_sync_in_progress:1, writes
    the master acknowledged while the full sync was running)."""
    deadline = time.monotonic() + timeout
    first: int | None = None
    while time.monotonic() < deadline:
        i = info(rc)
        if str(i.get("master_sync_in_progress")) == "1" and first is None:
            first = writer.acked
            progress("full sync in progress")
        if i.get("master_link_status") == "up":
            return first is not None, writer.acked - (first if first is not None else writer.acked)
        time.sleep(0.02)
    raise AssertionError(f"replica link not up after {timeout:.0f}s: {info(rc)}")


def test_full_sync_under_write_load(cluster: Cluster) -> None:
    mc = cluster.master.client()
    full0, _ = sync_counters(mc)
    cluster.throttle(SLOW_SYNC)
    cluster.start("A", REPL_TIMEOUT)
    ac = cluster.client("A")
    ac.set("junk:only-on-the-replica", "x")  # a full sync replaces the replica's data
    writer = cluster.writer("load", rate=WRITE_RATE)
    time.sleep(0.2)
    cluster.attach("A")
    saw_sync, during = watch_full_sync(ac, writer, timeout_for())
    cluster.throttle(FAST_SYNC)
    time.sleep(0.5)
    writer.stop()
    progress(f"writer: {writer.acked} acked, {writer.failed} failed")
    cluster.check()
    assert ac.exists("junk:only-on-the-replica") == 0
    assert saw_sync, "INFO replication never showed master_sync_in_progress:1"
    assert during > 0, "no write was acknowledged while the full sync ran"
    assert writer.failed == 0, writer.errors[:5]
    assert sync_counters(mc)[0] == full0 + 1


def test_replica_kill9_mid_full_sync(cluster: Cluster) -> None:
    cluster.throttle(SLOW_SYNC)
    replica = cluster.start("B", REPL_TIMEOUT)
    writer = cluster.writer("fullkill", rate=WRITE_RATE)
    bc = cluster.attach("B")
    wait_until(
        lambda: (
            str(info(bc).get("master_sync_in_progress")) == "1"
            and int(info(bc).get("master_sync_read_bytes", 1)) > 0
        ),  # type: ignore[call-overload]
        timeout_for(),
        "master_sync_in_progress:1 with some bytes read",
        0.02,
    )
    assert not link_up(bc), "the full sync finished before the kill: make it slower"
    progress(f"kill -9 replica during full sync: {info(bc).get('master_sync_read_bytes')} bytes")
    replica.kill9()
    time.sleep(0.3)
    cluster.throttle(FAST_SYNC)
    replica.start()  # no REPLICAOF: it must remember its master
    bc = replica.client()
    wait_link_up(bc, timeout_for())
    time.sleep(0.3)
    writer.stop()
    cluster.check()
    assert writer.failed == 0, writer.errors[:5]


def test_replica_kill9_mid_incremental_and_remembers_master(cluster: Cluster) -> None:
    mc = cluster.master.client()
    cluster.replica("A")
    replica = cluster.servers["A"]
    full0, partial0 = sync_counters(mc)
    writer = cluster.writer("incrkill", rate=WRITE_RATE)
    time.sleep(0.5)
    progress("kill -9 replica during incremental sync")
    replica.kill9()
    time.sleep(0.5)  # the master keeps taking writes the replica misses
    replica.start()
    ac = replica.client()
    i = info(ac)  # remembered before the link is even up
    assert (i["role"], i["master_host"], i["master_port"]) == (
        "slave",
        "127.0.0.1",
        cluster.master.port,
    )
    assert ac.execute_command("ROLE")[:3] == [b"slave", b"127.0.0.1", cluster.master.port]
    wait_link_up(ac, timeout_for())
    time.sleep(0.3)
    writer.stop()
    cluster.check()
    assert writer.failed == 0, writer.errors[:5]
    full1, partial1 = sync_counters(mc)
    assert (full1, partial1 > partial0) == (full0, True), "expected an incremental resume"


def test_chain_master_replica_replica(cluster: Cluster) -> None:
    cluster.replica("A")
    cluster.start("L", REPL_TIMEOUT)
    writer = cluster.writer("chain", rate=WRITE_RATE)
    lc = cluster.attach("L", upstream="A")
    wait_link_up(lc, timeout_for())
    time.sleep(0.5)
    writer.stop()
    cluster.check()
    ac = cluster.client("A")
    assert ac.execute_command("ROLE")[0] == b"slave"
    ia = info(ac)
    assert (ia["role"], ia["connected_slaves"]) == ("slave", 1)
    assert ia["slave0"]["port"] == cluster.servers["L"].port  # type: ignore[index]
    with pytest.raises(redis.ReadOnlyError):
        lc.set("x", "y")
    # a write on the top still flows through the middle
    cluster.master.client().set("chain:last", "v")
    wait_until(lambda: lc.get("chain:last") == b"v", 30, "chain:last on the leaf")


def purge_binlog(mc: redis.Redis) -> None:
    """PURGELOGSTO <seq>: drop the binlog below the master's current offset."""
    assert mc.execute_command("PURGELOGSTO", str(info(mc)["master_repl_offset"])) == b"OK"


def test_binlog_purged_while_replica_down_forces_full_sync(cluster: Cluster) -> None:
    mc = cluster.master.client()
    cluster.replica("B")
    replica = cluster.servers["B"]
    full0, partial0 = sync_counters(mc)
    replica.stop()
    wait_until(lambda: replica.port not in replica_ports(mc), 30, "master sees B gone")
    writer = cluster.writer("purge", max_ops=max(2000, KEYS // 10))
    writer.join(timeout_for())
    cluster.converge()  # connected replicas have everything: nothing holds the purge back
    purge_binlog(mc)
    replica.start()
    wait_link_up(replica.client(), timeout_for())
    cluster.check()
    full, partial = sync_counters(mc)
    assert full == full0 + 1, "a purged binlog must force a full sync"
    # the replica's PSYNC that continues right after the snapshot is not a partial sync
    assert partial == partial0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill9"])
def test_master_restart(cluster: Cluster, sig: int) -> None:
    cluster.replica("A")
    master = cluster.master
    writer = cluster.writer(f"mrestart{sig}", rate=WRITE_RATE)
    time.sleep(0.5)
    progress(f"master stop with signal {sig}")
    master.stop(sig)
    time.sleep(0.3)
    master.start()  # same port, same data directory
    progress("master restarted")
    acked = writer.acked
    wait_until(lambda: writer.acked > acked + 100, 30, "writes after the restart")
    for name in cluster.live():
        if cluster.upstream.get(name):
            wait_link_up(cluster.client(name), timeout_for())
    progress("replicas reconnected")
    writer.stop()
    cluster.check()
    assert info(cluster.client("A"))["master_port"] == master.port
