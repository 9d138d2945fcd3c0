"""CONFIG SET of settings the running server must apply at once (not just store)."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from typing import Any


def _latest_options(data_dir: str) -> str:
    files = sorted(glob.glob(os.path.join(data_dir, "db", "OPTIONS-*")), key=os.path.getmtime)
    with open(files[-1]) as f:
        return f.read()


def test_rocksdb_options_are_pushed_to_the_engine(make_server: Callable[..., Any]) -> None:
    srv = make_server()
    c = srv.client()
    assert "disable_auto_compactions=false" in _latest_options(srv.dir)
    assert c.config_set("disable-auto-compactions", "yes")
    assert c.config_set("level0-file-num-compaction-trigger", "7")
    opts = _latest_options(srv.dir)
    assert "disable_auto_compactions=true" in opts
    assert "level0_file_num_compaction_trigger=7" in opts
    assert c.config_get("disable-auto-compactions") == {"disable-auto-compactions": "yes"}
    c.set("k", "v")  # still serving
    assert c.get("k") == b"v"


def test_sync_writes_and_loglevel_apply_live(make_server: Callable[..., Any]) -> None:
    srv = make_server()
    c = srv.client()
    assert c.config_set("sync-writes", "yes")
    for i in range(20):
        c.set(f"k{i}", i)
    assert c.config_set("loglevel", "debug")
    assert c.config_set("sync-writes", "no")
    assert c.mget([f"k{i}" for i in range(20)]) == [str(i).encode() for i in range(20)]
