"""Replication modes and guards on real processes: replication-mode sync-all (a write's
reply waits for every connected replica, and a dead replica stops holding it after
repl-timeout), PURGELOGSTO never removes what a connected replica needs, masterauth, and
Pika's INFO replication fields."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import redis

from tests.support.repl import (
    Node,
    info,
    online_replicas,
    replicaof,
    wait_converged,
    wait_link_up,
    wait_until,
)


def test_sync_all_holds_replies_until_replicas_applied(node: Node) -> None:
    master = node("replication-mode=sync-all", "repl-timeout=2", "requirepass=s3cret")
    mc = master.client(password="s3cret")
    replica = node("masterauth=s3cret", "repl-timeout=2")
    rc = replica.client()
    assert replicaof(rc, "127.0.0.1", master.port) == b"OK"
    wait_link_up(rc)
    wait_converged([mc, rc], [(mc, rc)])
    # ... and the master's side of the link is online with everything acked (the replica may
    # report its link up a moment before the master's INFO shows it)
    wait_until(lambda: online_replicas(mc) == 1, 30, "the master sees the replica online")
    for i in range(20):  # every acknowledged write is already on the replica
        mc.set(f"k{i}", i)
        assert rc.get(f"k{i}") == str(i).encode()
    assert info(mc)["replication_mode"] == "sync-all"
    assert replica.proc is not None
    os.kill(replica.proc.pid, signal.SIGSTOP)  # the replica stops acking
    try:
        done: list[float] = []
        t0 = time.monotonic()
        th = threading.Thread(target=lambda: done.append(mc.set("held", 1) and time.monotonic()))
        th.start()
        time.sleep(0.5)
        assert not done, "sync-all answered before the replica acked"
        th.join(15)
        assert done and done[0] - t0 >= 1.0  # released when repl-timeout dropped the replica
        assert int(info(mc)["connected_slaves"]) == 0  # type: ignore[call-overload]
        assert mc.set("alone", 1)  # no replica connected: nothing to wait for
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
    wait_link_up(rc)
    wait_converged([mc, rc], [(mc, rc)])
    assert rc.get("held") == b"1"


def test_purgelogsto_spares_what_a_replica_needs(node: Node) -> None:
    master = node("repl-timeout=30")
    mc = master.client()
    for i in range(50):
        mc.set(f"p{i}", i)
    seq = int(info(mc)["master_repl_offset"])  # type: ignore[call-overload]
    assert mc.execute_command("PURGELOGSTO", str(seq - 10)) == b"OK"
    assert int(info(mc)["binlog_first_seq"]) == seq - 10  # type: ignore[call-overload]
    with pytest.raises(redis.ResponseError, match="Invalid binlog"):
        mc.execute_command("PURGELOGSTO", "write2filex")
    replica = node()
    rc = replica.client()
    replicaof(rc, "127.0.0.1", master.port)
    wait_link_up(rc)
    wait_converged([mc, rc], [(mc, rc)])
    assert replica.proc is not None
    os.kill(replica.proc.pid, signal.SIGSTOP)  # connected, but no longer acking
    try:
        acked = int(info(mc)["master_repl_offset"])  # type: ignore[call-overload]
        for i in range(30):
            mc.set(f"q{i}", i)
        top = int(info(mc)["master_repl_offset"])  # type: ignore[call-overload]
        with pytest.raises(redis.ResponseError, match="needed by a replica"):
            mc.execute_command("PURGELOGSTO", str(top))
        assert mc.execute_command("PURGELOGSTO", str(acked)) == b"OK"
        im = info(mc)
        assert int(im["safety_purge_seq"]) == acked + 1  # type: ignore[call-overload]
        assert im["db0"]["safety_purge"] == "write2file0"  # type: ignore[index]
        assert im["is_eligible_for_master_election"] == "true"
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
    wait_converged([mc, rc], [(mc, rc)])  # it continues from what was kept
    assert rc.get("q29") == b"29"
    assert info(rc)["is_eligible_for_master_election"] == "true"
