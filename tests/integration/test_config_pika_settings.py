"""Runtime configuration: the operations settings (snapshots, compaction, RocksDB options,
disk recovery) are CONFIG SET-able with validation, settings that cannot change while running
say so, and CONFIG REWRITE keeps what was set across a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from tests.support.servers import PikaServer

Factory = Callable[..., PikaServer]

# (name, value to set, value CONFIG GET shows)
OPS_SETTINGS = [
    ("dump-prefix", "backup-", "backup-"),
    ("dump-expire", "3", "3"),
    ("compact-cron", "3/02-04/60", "3/02-04/60"),
    ("compact-interval", "6/60", "6/60"),
    ("small-compaction-threshold", "5000", "5000"),
    ("rocksdb-ttl-second", "604800", "604800"),
    ("rocksdb-periodic-second", "259200", "259200"),
    ("arena-block-size", "1mb", "1048576"),
    ("max-compaction-bytes", "128mb", "134217728"),
    ("max-bytes-for-level-multiplier", "10", "10"),
    ("least-free-disk-resume-size", "512mb", "536870912"),
    ("manually-resume-interval", "30", "30"),
    ("disable-auto-compactions", "yes", "yes"),
    ("write-buffer-size", "32mb", "33554432"),
    ("max-write-buffer-number", "3", "3"),
    ("level0-file-num-compaction-trigger", "6", "6"),
    ("level0-slowdown-writes-trigger", "24", "24"),
    ("level0-stop-writes-trigger", "40", "40"),
    ("target-file-size-base", "32mb", "33554432"),
]
# RocksDB DB options the binding cannot change on a running DB: start-up only
IMMUTABLE = ["max-background-jobs", "dump-path", "block-cache", "compression", "db-path"]


def test_set_rewrite_restart(make_server: Factory, tmp_path: Path) -> None:
    conf = tmp_path / "pika.yaml"
    conf.write_text("# operator comment stays\nstorage:\n  dump-expire: 1\n")
    srv = make_server("--config", str(conf))
    c = srv.client()
    for name, value, shown in OPS_SETTINGS:
        assert c.config_set(name, value), name
        assert c.config_get(name) == {name: shown}, name
    for name in IMMUTABLE:
        current = c.config_get(name)[name]
        with pytest.raises(redis.ResponseError, match="can't set immutable config"):
            c.config_set(name, current or "x")
    with pytest.raises(redis.ResponseError, match="argument must be between"):
        c.config_set("dump-expire", "-1")
    with pytest.raises(redis.ResponseError, match="compact-cron must look like"):
        c.config_set("compact-cron", "3/02-04")
    assert c.config_rewrite()
    text = conf.read_text()
    assert "# operator comment stays" in text
    assert "compact-cron" in text and "dump-prefix" in text
    srv.restart()
    c = srv.client()
    for name, _, shown in OPS_SETTINGS:
        assert c.config_get(name) == {name: shown}, name
    c.set("k", "v")  # the restarted server works with these RocksDB options
    assert c.get("k") == b"v"
