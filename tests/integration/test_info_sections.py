"""Pika's INFO sections: data, rocksdb, cache, command_exec_count, the stats/persistence
fields, section selection (all / everything / by name, never in default), and db_fatal with
DISKRECOVERY after a real write failure (a file-size limit makes the WAL append fail)."""

from __future__ import annotations

import resource
from collections.abc import Callable

import pytest
import redis
from tests.support.servers import PikaServer

Factory = Callable[..., PikaServer]
PIKA_TITLES = ["Data", "Command_Exec_Count", "Cache", "RocksDB"]


def titles(c: redis.Redis, *sections: str) -> list[str]:
    conn = c.connection_pool.get_connection()
    try:
        conn.send_command("INFO", *sections)
        text = conn.read_response()  # the text as sent (redis-py's INFO callback parses it)
    finally:
        c.connection_pool.release(conn)
    assert isinstance(text, bytes)
    return [line[2:] for line in text.decode().split("\r\n") if line.startswith("# ")]


def test_section_selection(r: redis.Redis) -> None:
    default = titles(r)
    assert not set(PIKA_TITLES) & set(default)
    everything = titles(r, "everything")
    assert titles(r, "all") == everything
    assert [t for t in everything if t in PIKA_TITLES] == PIKA_TITLES
    assert everything.index("Data") == 1  # right after Server, as Pika
    assert everything[-2:] == ["Cache", "RocksDB"]
    assert titles(r, "rocksdb", "DATA") == ["Data", "RocksDB"]
    assert titles(r, "default", "cache") == [*default[:-1], default[-1], "Cache"]


def test_data_section(r: redis.Redis) -> None:
    r.set("k", "v" * 1000)
    data = r.info("data")
    assert list(data) == [
        "db_size", "db_size_human", "log_size", "log_size_human", "compression",
        "used_memory", "used_memory_human", "db_memtable_usage", "db_tablereader_usage",
        "db_block_cache_usage", "db_hot_cache_usage", "db_fatal", "db_fatal_msg",
    ]  # fmt: skip
    assert data["db_size"] > 0 and data["log_size"] > 0
    assert str(data["db_size_human"])[-1] in "BKMG"
    assert data["used_memory"] >= data["db_memtable_usage"] + data["db_tablereader_usage"]
    assert data["db_memtable_usage"] > 0
    assert data["db_fatal"] == 0 and data["db_fatal_msg"] == "NULL"
    assert data["compression"] == "snappy"


def test_rocksdb_section(r: redis.Redis) -> None:
    for i in range(100):
        r.set(f"k{i}", i)
    rocks = r.info("rocksdb")
    for field in (
        "num_immutable_mem_table", "mem_table_flush_pending", "compaction_pending",
        "cur_size_all_mem_tables", "estimate_num_keys", "estimate_table_readers_mem",
        "total_sst_files_size", "live_sst_files_size", "estimate_pending_compaction_bytes",
        "num_running_compactions", "num_running_flushes", "background_errors",
        "block_cache_capacity", "block_cache_usage", "block_cache_pinned_usage",
        "num_files_at_level0_meta", "num_files_at_level6_data", "total_sst_files_size_binlog",
    ):  # fmt: skip
        assert isinstance(rocks[field], int), field
    assert rocks["cur_size_all_mem_tables"] > 0
    assert rocks["estimate_num_keys"] >= 100
    assert rocks["block_cache_capacity"] == 8 * 1024 * 1024
    assert rocks["background_errors"] == 0


def test_command_exec_count_and_stats(r: redis.Redis) -> None:
    r.config_resetstat()
    r.set("a", 1)
    r.set("b", 2)
    r.get("a")
    r.config_get("maxmemory")
    counts = r.info("command_exec_count")
    assert (
        counts["SET"] == 2 and counts["GET"] == 1 and counts["CONFIG"] == 2
    )  # RESETSTAT itself, then GET
    stats = r.info("stats")
    assert stats["is_bgsaving"] == "No" and stats["is_compact"] == "No"
    assert "compact_cron" in stats and "compact_interval" in stats
    persistence = r.info("persistence")
    assert persistence["rdb_bgsave_in_progress"] == 0
    assert persistence["rdb_last_bgsave_status"] == "ok"


def test_cache_section(r: redis.Redis) -> None:
    old = r.config_get("cache-model")["cache-model"]
    try:
        r.config_set("cache-model", "0")
        assert r.info("cache") == {"cache_status": "Disable"}
        r.config_set("cache-model", "1")
        r.set("hot", "v")
        for _ in range(3):
            assert r.get("hot") == b"v"
        cache = r.info("cache")
        assert cache["cache_status"] == "Ok"
        assert cache["hits"] >= 1 and cache["all_cmds"] >= cache["hits"]
        assert str(cache["hitratio_all"]).endswith("%")
        for field in ("cache_keys", "cache_memory", "hits_per_sec", "hitratio_per_sec"):
            assert field in cache
    finally:
        r.config_set("cache-model", old)


def test_db_fatal_and_diskrecovery(make_server: Factory) -> None:
    """A write error (the WAL cannot grow: RLIMIT_FSIZE on the server process) shows up as
    db_fatal; writes keep failing; DISKRECOVERY refuses while least-free-disk-resume-size
    is not available, then reopens the storage and clears db_fatal once the limit is gone.
    Nothing acknowledged is lost."""
    srv = make_server("--set", "manually-resume-interval=0")
    assert srv.proc is not None
    c = srv.client()
    c.set("before", "1")
    resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE, (2 << 20, resource.RLIM_INFINITY))
    acked = []
    with pytest.raises(redis.ResponseError, match="write to storage failed"):
        for i in range(100):
            c.set(f"big{i}", b"x" * 100_000)
            acked.append(i)
    c = srv.client()
    data = c.info("data")
    assert data["db_fatal"] == 1
    assert "File too large" in str(data["db_fatal_msg"])
    with pytest.raises(redis.ResponseError, match="write to storage failed"):
        srv.client().set("during", "1")
    c = srv.client()
    c.config_set("least-free-disk-resume-size", "1000000000000000")
    with pytest.raises(redis.ResponseError, match="available disk capacity is insufficient"):
        c.execute_command("DISKRECOVERY")
    c.config_set("least-free-disk-resume-size", "1mb")
    resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    assert c.execute_command("DISKRECOVERY") == b"OK"
    data = c.info("data")
    assert data["db_fatal"] == 0 and data["db_fatal_msg"] == "NULL"
    assert c.get("before") == b"1"
    assert acked and all(c.exists(f"big{i}") for i in acked)
    assert c.get("during") is None
    c.set("after", "1")
    assert c.get("after") == b"1"
    assert c.dbsize() == 2 + len(acked)


def test_latencystats_like_redis(r: redis.Redis, rr: redis.Redis) -> None:
    """Per-command percentiles, in Redis 7's field names and value shape."""
    for c in (r, rr):
        c.config_resetstat()
        for i in range(50):
            c.set(f"k{i}", i)
            c.get(f"k{i}")
        c.config_get("maxmemory")
    got, want = (c.info("latencystats") for c in (r, rr))
    for name in ("latency_percentiles_usec_set", "latency_percentiles_usec_get"):
        assert set(got[name]) == set(want[name]) == {"p50", "p99", "p99.9"}
        assert all(v >= 1 for v in got[name].values())
    assert "latency_percentiles_usec_config|get" in got
    assert set(want) <= set(got)
