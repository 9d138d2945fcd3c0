"""INFO: section selection, wire format, Redis 7.0 field names (compared with a real
redis-server), and the values pikadb knows exactly (keyspace, commandstats, errorstats,
replication offset)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import redis
from tests.differential.harness import Pair
from tests.support.servers import PikaServer

SECTIONS_WITH_FIXED_FIELDS = [
    "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster",
]  # fmt: skip
PIKADB_EXTRA_FIELDS = {"pikadb_version", "used_memory_rocksdb", "used_memory_rocksdb_human"}
# Pika's fields at the end of # Stats, and Pika's sections (only with all/everything or by
# name: tests/integration/test_info_sections.py)
PIKADB_EXTRA_FIELDS |= {"is_bgsaving", "is_compact", "compact_cron", "compact_interval"}
# Pika's replication fields (src/pikadb/replication/manager.py info_fields)
PIKADB_EXTRA_FIELDS |= {"db0", "binlog_first_seq", "safety_purge_seq"}
PIKADB_EXTRA_FIELDS |= {"is_eligible_for_master_election", "replication_mode"}
PIKA_SECTIONS = {"Data", "Command_Exec_Count", "Cache", "RocksDB"}


def raw_info(c: redis.Redis, *sections: str) -> str:
    """The INFO text exactly as sent (redis-py's INFO callback parses it)."""
    conn = Pair.from_clients(c, c, resp=2).p
    try:
        reply = conn.call("INFO", *sections)
    finally:
        conn.close()
    assert isinstance(reply, bytes), reply
    return reply.decode()


def titles(text: str) -> list[str]:
    return [line[2:] for line in text.split("\r\n") if line.startswith("# ")]


def fields(text: str) -> list[str]:
    return [
        line.split(":", 1)[0] for line in text.split("\r\n") if line and not line.startswith("#")
    ]


@pytest.mark.parametrize(
    "args",
    [(), ("default",), ("all",), ("everything",), ("server",), ("SERVER",), ("keyspace", "server"),
     ("server", "clients", "server"), ("foo",), ("modules",), ("commandstats",), ("errorstats",),
     ("latencystats",), ("cluster",), ("default", "commandstats"), ("all", "foo"), ("cpu", "bar")],
)  # fmt: skip
def test_sections_like_redis(r: redis.Redis, rr: redis.Redis, args: tuple[str, ...]) -> None:
    r.set("k", 1)
    rr.set("k", 1)
    ours = [t for t in titles(raw_info(r, *args)) if t not in PIKA_SECTIONS]
    assert ours == titles(raw_info(rr, *args))


def test_wire_format(r: redis.Redis) -> None:
    text = raw_info(r)
    assert text.startswith("# Server\r\nredis_version:7.0.15\r\n")
    assert text.endswith("\r\n") and not text.endswith("\r\n\r\n")
    blocks = text.split("\r\n\r\n")
    assert [b.split("\r\n", 1)[0] for b in blocks] == [f"# {t}" for t in titles(text)]
    for line in text.split("\r\n"):
        assert (
            line == "" or line.startswith("# ") or re.fullmatch(r"[A-Za-z0-9_|-]+:[^\r\n]*", line)
        ), line
    assert raw_info(r, "foo") == ""
    assert raw_info(r, "modules") == "# Modules\r\n"


def test_resp3_verbatim(r: redis.Redis, rr: redis.Redis) -> None:
    pair = Pair.from_clients(r, rr, resp=3)
    try:
        a, b = pair.both("INFO", "cluster")
        assert type(a) is type(b)
        assert a == b
        a, b = pair.both("INFO", "nosuch")
        assert a == b
    finally:
        pair.close()


@pytest.mark.parametrize("section", SECTIONS_WITH_FIXED_FIELDS)
def test_field_names_like_redis(r: redis.Redis, rr: redis.Redis, section: str) -> None:
    ours = fields(raw_info(r, section))
    theirs = fields(raw_info(rr, section))
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    assert [f for f in ours if f in set(theirs)] == theirs
    assert set(ours) - set(theirs) <= PIKADB_EXTRA_FIELDS


def test_server_section_values(r: redis.Redis, pika: PikaServer) -> None:
    info = r.info("server")
    assert info["redis_version"] == "7.0.15"
    assert info["pikadb_version"]
    assert info["redis_mode"] == "standalone"
    assert info["tcp_port"] == pika.port
    assert pika.proc is not None and info["process_id"] == pika.proc.pid
    assert re.fullmatch(r"[0-9a-f]{40}", info["run_id"])
    assert info["uptime_in_seconds"] >= 0
    assert info["hz"] == info["configured_hz"] == 10
    assert info["arch_bits"] == 64


def test_clients_memory_cpu_values(r: redis.Redis, pika: PikaServer) -> None:
    extra = [pika.client() for _ in range(3)]
    for c in extra:
        c.ping()
    clients = r.info("clients")
    assert clients["connected_clients"] >= 4
    assert clients["maxclients"] == 10000
    memory = raw_info(r, "memory")
    mem = dict(line.split(":", 1) for line in memory.split("\r\n")[1:] if line)
    assert int(mem["used_memory"]) > 0 and int(mem["used_memory_rss"]) > 0
    assert re.fullmatch(r"\d+(\.\d\d[KMGTP])?B?", mem["used_memory_human"])
    assert int(mem["used_memory_rocksdb"]) >= 0
    assert mem["maxmemory_policy"] == "noeviction"
    cpu = raw_info(r, "cpu")
    for line in cpu.split("\r\n")[1:]:
        if line:
            assert re.fullmatch(r"used_cpu_\w+:\d+\.\d{6}", line), line
    for c in extra:
        c.close()


def test_keyspace_exact(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.mset({f"k{i}": i for i in range(10)})
        c.set("e1", 1, ex=1000)
        c.set("e2", 1, px=100000)
        c.persist("e2")
        c.delete("k0")
        c.execute_command("SELECT", 3)
        c.set("x", 1, ex=50)
        c.execute_command("SELECT", 0)
    ours, theirs = r.info("keyspace"), rr.info("keyspace")
    for db in (ours, theirs):
        for v in db.values():
            v["avg_ttl"] = 0
    assert (
        ours
        == theirs
        == {
            "db0": {"keys": 11, "expires": 1, "avg_ttl": 0},
            "db3": {"keys": 1, "expires": 1, "avg_ttl": 0},
        }
    )
    assert raw_info(r, "keyspace").split("\r\n")[1] == "db0:keys=11,expires=1,avg_ttl=0"


def _stats_without_time(c: redis.Redis, section: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in c.info(section).items():
        out[k] = {f: n for f, n in v.items() if f not in ("usec", "usec_per_call")}
    return out


def test_commandstats_and_errorstats_like_redis(
    make_server: Callable[..., PikaServer], rr: redis.Redis
) -> None:
    srv = make_server()
    r = srv.client(protocol=2)
    rr = redis.Redis(port=rr.connection_pool.connection_kwargs["port"], protocol=2)
    for c in (r, rr):
        c.config_resetstat()
        c.set("a", 1)
        c.get("a")
        c.get("nope")
        for bad in (("INCR", "a", "b"), ("NOSUCH",), ("CONFIG", "NOSUCH"), ("SET", "a", "1", "NX", "XX"),
                    ("INCRBY", "a", "x"), ("OBJECT", "ENCODING", "a", "b")):  # fmt: skip
            with pytest.raises(redis.ResponseError):
                c.execute_command(*bad)
        c.execute_command("CONFIG", "GET", "hz")
    ours, theirs = _stats_without_time(r, "commandstats"), _stats_without_time(rr, "commandstats")
    # pikadb counts an unknown subcommand as rejected on its container; Redis does not count it
    ours.pop("cmdstat_config", None)
    assert ours == theirs
    assert r.info("errorstats") == rr.info("errorstats")
    s1, s2 = r.info("stats"), rr.info("stats")
    assert s1["total_error_replies"] == s2["total_error_replies"] == 6
    assert s1["total_commands_processed"] == s2["total_commands_processed"]
    rr.close()


def test_stats_counts_connections_and_commands(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client(protocol=2)
    before = c.info("stats")
    extra = srv.client(protocol=2)
    extra.ping()
    extra.close()
    for _ in range(5):
        c.ping()
    after = c.info("stats")
    assert after["total_connections_received"] == before["total_connections_received"] + 1
    # the first INFO itself, the extra client's 2 CLIENT SETINFO (sent by redis-py on
    # connect) and PING, and 5 PINGs
    assert after["total_commands_processed"] == before["total_commands_processed"] + 9
    assert after["total_net_input_bytes"] > before["total_net_input_bytes"]
    assert after["total_net_output_bytes"] > before["total_net_output_bytes"]


def test_replication_section(r: redis.Redis) -> None:
    rep = r.info("replication")
    assert rep["role"] == "master"
    assert rep["connected_slaves"] == 0
    assert re.fullmatch(r"[0-9a-f]{40}", rep["master_replid"])
    offset = rep["master_repl_offset"]
    r.set("a", 1)
    r.mset({"b": 1, "c": 2})
    r.get("a")
    assert r.info("replication")["master_repl_offset"] == offset + 2


def test_persistence_dirty_counter(r: redis.Redis) -> None:
    before = r.info("persistence")["rdb_changes_since_last_save"]
    r.set("a", 1)
    r.set("b", 1)
    assert r.info("persistence")["rdb_changes_since_last_save"] == before + 2
    assert r.info("persistence")["loading"] == 0
