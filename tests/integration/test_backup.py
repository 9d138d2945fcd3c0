"""BGSAVE / SAVE / LASTSAVE / DELBACKUP / dump-expire: RocksDB checkpoints under dump-path
with an info file, taken while the server keeps serving, and restored by starting a server on
a copy of the snapshot directory."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from tests.support.servers import PikaServer

Factory = Callable[..., PikaServer]


def raw(c: redis.Redis, *args: str) -> object:
    """A reply as sent (redis-py's callbacks turn BGSAVE's status into True)."""
    conn = c.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        c.connection_pool.release(conn)


def wait_saved(c: redis.Redis, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = c.info("persistence")
        if p["rdb_bgsave_in_progress"] == 0:
            return p
        time.sleep(0.02)
    raise AssertionError("BGSAVE did not finish")


def snapshots(root: str) -> list[Path]:
    return sorted(p for p in Path(root).iterdir() if p.is_dir()) if os.path.isdir(root) else []


def read_info(snap: Path) -> dict[str, str]:
    out = {}
    for line in (snap / "info").read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


def test_bgsave_while_writing_and_restore(make_server: Factory, tmp_path: Path) -> None:
    """BGSAVE while a writer keeps going: the snapshot holds exactly writes 0..n-1 (a
    consistent prefix) plus everything written before, with the binlog position of its last
    write; a server started on a copy of the snapshot directory has exactly that."""
    src = make_server()
    c = src.client()
    c.set("s", "v")
    c.set("ttl", "v", ex=1000)
    c.hset("h", mapping={"a": "1", "b": "2"})
    c.rpush("l", "x", "y", "z")
    c.zadd("z", {"m": 1.5})
    c.execute_command("SELECT", "2")
    c.set("in-db2", "two")
    c.execute_command("SELECT", "0")
    before = int(time.time()) - 1
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        w = src.client()
        while not stop.is_set():
            w.set(f"seq:{written[0]}", written[0])
            written[0] += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        while written[0] < 200:
            time.sleep(0.01)
        assert raw(c, "BGSAVE") == b"Background saving started"
        p = wait_saved(c)
        at_end = written[0]
        while written[0] < at_end + 100:  # the server kept serving during and after
            time.sleep(0.01)
    finally:
        stop.set()
        t.join()
    assert p["rdb_last_bgsave_status"] == "ok"
    assert p["rdb_saves"] == 1
    assert p["rdb_last_save_time"] >= before
    assert int(c.lastsave().timestamp()) == p["rdb_last_save_time"]
    c.delete("s")  # after the snapshot

    snaps = snapshots(os.path.join(src.dir, "dump"))
    assert len(snaps) == 1 and snaps[0].name.isdigit() and len(snaps[0].name) == 14
    info = read_info(snaps[0])
    assert info["port"] == str(src.port)
    restored = tmp_path / "restored"
    shutil.copytree(snaps[0], restored, symlinks=True)
    d = make_server(data_dir=str(restored)).client()
    assert d.info("replication")["master_repl_offset"] == int(info["binlog_seq"])
    assert d.get("s") == b"v"
    assert 0 < d.ttl("ttl") <= 1000
    assert d.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert d.lrange("l", 0, -1) == [b"x", b"y", b"z"]
    assert d.zscore("z", "m") == 1.5
    n = d.dbsize() - 5
    assert 200 <= n < written[0]
    assert d.mget([f"seq:{i}" for i in range(n)]) == [str(i).encode() for i in range(n)]
    assert d.get(f"seq:{n}") is None
    d.execute_command("SELECT", "2")
    assert d.get("in-db2") == b"two"
    assert d.dbsize() == 1


def test_save_bgsave_syntax_and_failure(make_server: Factory, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    srv = make_server("--set", f"dump-path={blocker}")
    c = srv.client()
    c.set("k", "v")
    with pytest.raises(redis.ResponseError, match=r"^syntax error"):
        c.execute_command("BGSAVE", "NOW")
    with pytest.raises(redis.ResponseError, match="snapshot failed"):
        c.execute_command("SAVE")
    p = c.info("persistence")
    assert p["rdb_last_bgsave_status"] == "err"
    assert p["rdb_saves"] == 0
    assert raw(c, "BGSAVE", "SCHEDULE") == b"Background saving started"
    assert wait_saved(c)["rdb_last_bgsave_status"] == "err"
    with pytest.raises(redis.ResponseError, match="not allowed inside a transaction"):
        pipe = c.pipeline(transaction=True)
        pipe.execute_command("SAVE")
        pipe.execute()
    assert c.config_get("dump-path") == {"dump-path": str(blocker)}
    with pytest.raises(redis.ResponseError, match="immutable"):
        c.config_set("dump-path", str(tmp_path))


def test_delbackup_and_dump_expire(make_server: Factory, tmp_path: Path) -> None:
    root = tmp_path / "dumps"
    root.mkdir()
    old = root / "pfx-20200101000000"
    (old / "db").mkdir(parents=True)
    other = root / "unrelated"
    other.mkdir()
    srv = make_server("--set", f"dump-path={root}")
    c = srv.client()
    c.set("k", "v")
    assert c.config_set("dump-prefix", "pfx-") and c.config_set("dump-expire", "1")
    assert raw(c, "SAVE") == b"OK"
    names = sorted(p.name for p in root.iterdir())
    assert "pfx-20200101000000" not in names  # older than dump-expire days: removed
    assert "unrelated" in names  # not a snapshot name: never touched
    made = [n for n in names if n.startswith("pfx-")]
    assert len(made) == 1 and (root / made[0] / "info").exists()
    assert raw(c, "SAVE") == b"OK"  # a second one (same second: name-1)
    assert len([p for p in root.iterdir() if p.name.startswith("pfx-")]) == 2
    assert raw(c, "DELBACKUP") == b"OK"
    assert sorted(p.name for p in root.iterdir()) == ["unrelated"]
    assert c.config_get("dump-*") == {
        "dump-path": str(root),
        "dump-prefix": "pfx-",
        "dump-expire": "1",
    }
