"""COMPACT / COMPACTRANGE (Pika syntax), compact-cron scheduling, live compaction options,
and the fast shutdown while a compaction runs."""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable
from datetime import datetime

import pytest
import redis
from tests.support.servers import PikaServer

Factory = Callable[..., PikaServer]


def wait_idle(c: redis.Redis, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while c.info("stats")["is_compact"] != "No":
        assert time.monotonic() < deadline, "compaction did not finish"
        time.sleep(0.02)


def test_compact_and_compactrange_drop_deleted_data(make_server: Factory) -> None:
    srv = make_server("--set", "disable-auto-compactions=yes")
    c = srv.client()
    pipe = c.pipeline(transaction=False)
    for i in range(2000):
        pipe.set(f"key:{i}", os.urandom(1000))  # incompressible
        pipe.hset(f"hash:{i % 10}", f"f{i}", os.urandom(100))
    pipe.execute()
    assert c.execute_command("COMPACT") == b"OK"  # answers at once, runs in the background
    wait_idle(c)
    rocks = c.info("rocksdb")
    full = rocks["total_sst_files_size_meta"]
    assert full > 2000 * 1000
    assert rocks["num_files_at_level0_meta"] == 0  # pushed down to the bottom level
    assert rocks["manual_compactions_done"] == 1
    pipe = c.pipeline(transaction=False)
    for i in range(2000):
        pipe.delete(f"key:{i}")
    pipe.execute()
    assert c.info("rocksdb")["total_sst_files_size_meta"] >= full  # tombstones only so far
    # COMPACTRANGE waits for its compaction; "" is an open bound
    assert c.execute_command("COMPACTRANGE", "db0", "", "") == b"OK"
    after = c.info("rocksdb")["total_sst_files_size_meta"]
    assert after < full // 10, (full, after)
    assert c.dbsize() == 10 and c.hlen("hash:3") == 200  # the rest is intact
    assert c.get("key:5") is None


def test_compactrange_syntax_and_ranges(r: redis.Redis) -> None:
    for i in range(50):
        r.set(f"{{user1}}:{i:02d}", i)
        r.set(f"other:{i}", i)
    assert r.execute_command("COMPACTRANGE", "db0", "{user1}:00", "{user1}:20") == b"OK"
    assert r.execute_command("COMPACTRANGE", "db0,db1", "other:1", "other:3") == b"OK"
    assert r.execute_command("COMPACTRANGE", "all", "z", "a") == b"OK"  # begin > end: no-op
    assert r.get("{user1}:07") == b"7" and r.get("other:2") == b"2"
    with pytest.raises(redis.ResponseError, match=r"^invalid DB name 'db99'"):
        r.execute_command("COMPACTRANGE", "db99", "a", "b")
    with pytest.raises(redis.ResponseError, match=r"^invalid DB name 'foo'"):
        r.execute_command("COMPACT", "foo")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("COMPACTRANGE", "db0", "a")
    with pytest.raises(redis.ResponseError, match=r"^syntax error"):
        r.execute_command("COMPACT", "db0", "db1")
    assert r.execute_command("COMPACT", "db0,db1") == b"OK"
    assert r.execute_command("COMPACT", "all") == b"OK"
    wait_idle(r)
    assert r.dbsize() == 100
    counts = r.info("command_exec_count")
    assert counts["COMPACTRANGE"] >= 3 and counts["COMPACT"] >= 2


def _options(srv: PikaServer) -> str:
    files = sorted(glob.glob(os.path.join(srv.dir, "db", "OPTIONS-*")), key=os.path.getmtime)
    with open(files[-1]) as f:
        return f.read()


def test_compact_cron_and_live_options(make_server: Factory) -> None:
    srv = make_server("--set", "rocksdb-ttl-second=7200")
    c = srv.client()
    assert "ttl=7200" in _options(srv)  # applied at start
    for name, value, opt in (
        ("rocksdb-periodic-second", "86400", "periodic_compaction_seconds=86400"),
        ("max-compaction-bytes", "64mb", "max_compaction_bytes=67108864"),
        ("arena-block-size", "1mb", "arena_block_size=1048576"),
        ("max-bytes-for-level-multiplier", "8", "max_bytes_for_level_multiplier=8"),
        ("disable-auto-compactions", "yes", "disable_auto_compactions=true"),
    ):
        assert c.config_set(name, value)
        assert opt in _options(srv), name
    assert c.config_set("small-compaction-threshold", "100")
    assert c.config_get("small-compaction-threshold") == {"small-compaction-threshold": "100"}
    h = datetime.now().hour
    for bad in ("25-01/10", "8/01-02/10", "01-02", "1-2/101", "x"):
        with pytest.raises(redis.ResponseError, match="compact-cron must look like"):
            c.config_set("compact-cron", bad)
    for bad in ("0/10", "6", "6/200"):
        with pytest.raises(redis.ResponseError, match="compact-interval must look like"):
            c.config_set("compact-interval", bad)
    assert c.config_set("compact-interval", "6/60")  # accepted (too long to wait for here)
    assert c.config_set("compact-interval", "")
    window = f"{h:02d}-{(h + 1) % 24:02d}/0"  # open now (and through the next hour)
    assert c.config_set("compact-cron", f"{window};3/01-02/50")
    deadline = time.monotonic() + 10
    while c.info("rocksdb")["scheduled_compactions"] < 1:
        assert time.monotonic() < deadline, "compact-cron did not start a compaction"
        time.sleep(0.1)
    time.sleep(1.5)  # the cron ticks every second: once per window
    assert c.info("rocksdb")["scheduled_compactions"] == 1
    stats = c.info("stats")
    assert stats["compact_cron"] == f"{window};3/01-02/50"
    assert stats["compact_interval"] == ""


def test_shutdown_does_not_wait_for_compaction(make_server: Factory) -> None:
    """SHUTDOWN while a long full compaction runs: the compaction is cancelled (not awaited),
    the exit is clean, and nothing is lost (the WAL is replayed at the next start)."""
    srv = make_server(
        "--set", "enable-debug-command=yes",
        "--set", "disable-auto-compactions=yes",
        "--set", "write-buffer-size=1mb",
    )  # fmt: skip
    c = srv.client(socket_timeout=60)
    c.execute_command("DEBUG", "POPULATE", 20000, "key", 100)
    c.set("last", "write")
    assert c.execute_command("COMPACT") == b"OK"
    assert c.info("stats")["is_compact"] == "Yes"
    t0 = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        c.execute_command("SHUTDOWN")
    assert srv.proc is not None
    assert srv.proc.wait(30) == 0
    print(f"shutdown with a compaction running: {time.monotonic() - t0:.2f}s")
    assert "a running compaction was cancelled" in srv.log() or "storage closed" in srv.log()
    srv.proc = None
    srv._log.close()
    srv.start()
    d = srv.client()
    assert d.dbsize() == 20001
    assert d.get("last") == b"write"
    assert d.get("key:19999") is not None
