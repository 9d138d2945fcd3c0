"""The Redis replication surface on pikadb: ROLE, INFO replication, REPLICAOF/SLAVEOF replies,
replica-read-only, WAIT; error texts are compared with a real redis-server (`rr`). Runs on the
shared `cluster` (its master and direct replicas A and B; more if an earlier module left
some). (A replica remembering its master across kill -9 is in test_repl_scenarios.py.)

The last test promotes replica B (REPLICAOF NO ONE: data kept, remembered across a restart)
and makes the old master follow it without a full sync; it re-roots the deployment, so it
stays last.
"""

from __future__ import annotations

import time

import pytest
import redis

from tests.support.repl import (
    info,
    online_replicas,
    replica_ports,
    replicaof,
    sync_counters,
    wait_link_up,
    wait_until,
)
from tests.support.repl_cluster import Cluster

READONLY = "You can't write against a read only replica."


@pytest.fixture(scope="module")
def trio(cluster: Cluster) -> tuple[redis.Redis, redis.Redis, redis.Redis]:
    """(master, A, B) clients, all in sync."""
    cluster.replica("A")
    cluster.replica("B")
    cluster.converge()
    m = cluster.master.client()
    n = len(direct_ports(cluster))
    # the replicas' view converged; the master's view of the links may lag a moment
    wait_until(lambda: online_replicas(m) == n, 30, "the master lists its replicas online")
    return m, cluster.client("A"), cluster.client("B")


def direct_ports(cluster: Cluster) -> list[int]:
    """Listening ports of the live replicas of the master."""
    return sorted(
        cluster.servers[n].port for n in cluster.live() if cluster.upstream.get(n) == "master"
    )


def outcome(c: redis.Redis, *args: str | int) -> object:
    """A reply or ``(error class, message)``, comparable across servers."""
    try:
        return c.execute_command(*args)
    except redis.ResponseError as exc:
        return (type(exc).__name__, str(exc))


def test_role_on_master_and_replicas(
    cluster: Cluster, trio: tuple[redis.Redis, redis.Redis, redis.Redis]
) -> None:
    m, a, b = trio
    role = m.execute_command("ROLE")
    assert role[0] == b"master"
    assert isinstance(role[1], int)
    assert sorted(int(r[1]) for r in role[2]) == direct_ports(cluster)
    for ip, port, offset in role[2]:
        assert (ip, port.isdigit(), offset.isdigit()) == (b"127.0.0.1", True, True)
    for rep in (a, b):
        r = rep.execute_command("ROLE")
        assert r[:4] == [b"slave", b"127.0.0.1", cluster.master.port, b"connected"]
        assert isinstance(r[4], int)


def test_info_replication_fields(
    cluster: Cluster, trio: tuple[redis.Redis, redis.Redis, redis.Redis]
) -> None:
    m, a, _b = trio
    im = info(m)
    assert im["role"] == "master"
    ports = direct_ports(cluster)
    assert im["connected_slaves"] == len(ports)
    replicas = sorted((im[f"slave{i}"] for i in range(len(ports))), key=lambda s: s["port"])  # type: ignore[index]
    assert [s["port"] for s in replicas] == ports
    for s in replicas:
        assert (s["ip"], s["state"]) == ("127.0.0.1", "online")
        assert isinstance(s["offset"], int) and isinstance(s["lag"], int)
    assert len(str(im["master_replid"])) == 40
    assert isinstance(im["master_repl_offset"], int)
    ia = info(a)
    assert ia["role"] == "slave"
    assert (ia["master_host"], ia["master_port"]) == ("127.0.0.1", cluster.master.port)
    assert (ia["master_link_status"], ia["master_sync_in_progress"]) == ("up", 0)
    assert 0 <= ia["master_last_io_seconds_ago"] < 60  # type: ignore[operator]
    assert ia["slave_read_only"] == 1
    assert ia["master_replid"] == im["master_replid"]
    for k in ("slave_repl_offset", "slave_priority", "connected_slaves", "master_repl_offset"):
        assert isinstance(ia[k], int), k


def test_replica_refuses_writes_with_redis_error(
    trio: tuple[redis.Redis, redis.Redis, redis.Redis],
) -> None:
    m, a, _b = trio
    m.set("ro:key", "v")
    wait_until(lambda: a.get("ro:key") == b"v", 10, "ro:key replicated")
    for cmd in (
        ("SET", "ro:key", "x"),
        ("DEL", "ro:key"),
        ("INCR", "ro:n"),
        ("LPUSH", "ro:l", "x"),
        ("HSET", "ro:h", "f", "v"),
        ("EXPIRE", "ro:key", "10"),
        ("FLUSHALL",),
        ("FLUSHDB",),
    ):
        assert outcome(a, *cmd) == ("ReadOnlyError", READONLY), cmd
    assert a.get("ro:key") == b"v"
    assert a.exists("ro:key") == 1
    assert a.ttl("ro:key") == -1
    assert a.dbsize() == m.dbsize()
    assert a.config_get("replica-read-only") == {"replica-read-only": "yes"}
    assert a.config_get("slave-read-only") == {"slave-read-only": "yes"}


def test_wait_counts_replicas(
    cluster: Cluster, trio: tuple[redis.Redis, redis.Redis, redis.Redis]
) -> None:
    m, a, _b = trio
    n = len(direct_ports(cluster))
    m.set("wait:key", "1")
    assert m.execute_command("WAIT", str(n), "10000") == n
    # timeout 0 blocks until the acks arrive: it must be woken by them, not by a timer (the
    # client gives up after 30 s)
    m.set("wait:key", "0")
    try:
        assert m.execute_command("WAIT", str(n), "0") == n
    except redis.TimeoutError:
        pytest.fail(f"WAIT {n} 0 still blocked after 30 s: the replicas' acks did not wake it")
    m.set("wait:key", "2")
    assert m.execute_command("WAIT", "1", "10000") >= 1
    started = time.monotonic()
    assert m.execute_command("WAIT", str(n + 1), "300") == n  # one more than exist: times out
    assert time.monotonic() - started >= 0.25
    assert a.get("wait:key") == b"2"


def test_wait_and_replicaof_replies_match_redis(
    cluster: Cluster,
    trio: tuple[redis.Redis, redis.Redis, redis.Redis],
    r: redis.Redis,
    rr: redis.Redis,
) -> None:
    """Standalone pikadb (`r`) and redis-server (`rr`) answer alike; replica errors match the
    texts redis-server 7.0 gives (checked by hand with a redis replica)."""
    m, a, _b = trio
    for cmd in (
        ("WAIT", "1", "-1"),
        ("WAIT", "x", "1"),
        ("WAIT", "1", "x"),
        ("WAIT", "0", "0"),
        ("WAIT", "1", "50"),
        ("REPLICAOF", "a"),
        ("REPLICAOF", "127.0.0.1", "x"),
        ("REPLICAOF", "127.0.0.1", "70000"),
        ("REPLICAOF", "127.0.0.1", "-5"),
        ("REPLICAOF", "NO", "TWO"),
        ("REPLICAOF", "NO", "ONE"),
        ("SLAVEOF", "NO", "ONE"),
        ("SLAVEOF", "a", "b", "c"),
    ):
        assert outcome(r, *cmd) == outcome(rr, *cmd), cmd
    assert outcome(a, "WAIT", "0", "0") == (
        "ResponseError",
        "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
        "if a replica is configured to be writable (which is not the default) writes to "
        "replicas are just local and are not propagated.",
    )
    again = a.execute_command("REPLICAOF", "127.0.0.1", str(cluster.master.port))
    assert again == b"OK Already connected to specified master"
    assert m.execute_command("REPLICAOF", "NO", "ONE") == b"OK"  # already a master: no-op
    assert info(m)["connected_slaves"] == len(direct_ports(cluster))
    role = r.execute_command("ROLE")
    assert (role[0], role[2]) == (b"master", [])


def test_promotion_keeps_data_and_old_master_follows_without_full_sync(
    cluster: Cluster,
) -> None:
    cluster.replica("B")
    old, new = cluster.master, cluster.servers["B"]
    oc, nc = old.client(), new.client()
    before = cluster.converge()
    assert replicaof(nc, None) == b"OK"
    cluster.upstream["B"] = None
    assert nc.execute_command("ROLE")[0] == b"master"
    assert nc.execute_command("DEBUG", "DIGEST") == before  # data kept
    assert nc.set("promo:new-write", "1")  # writable at once
    new.restart()  # NO ONE is remembered too
    nc = new.client()
    assert info(nc)["role"] == "master"
    wait_until(lambda: new.port not in replica_ports(oc), 10, "old master lost B")
    # the old master took no write since: it can follow the new one incrementally, and its
    # own replicas (A, and L behind A) follow along
    assert replicaof(oc, "127.0.0.1", new.port) == b"OK"
    cluster.upstream["master"] = "B"
    wait_link_up(oc)
    cluster.check()
    for name in cluster.live():
        assert cluster.client(name).get("promo:new-write") == b"1", name
    full, partial = sync_counters(nc)
    assert (full, partial > 0) == (0, True), "expected a partial resync, not a full one"
    with pytest.raises(redis.ReadOnlyError):
        oc.set("x", "1")
