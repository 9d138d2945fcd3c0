"""The cache's invalidation contract, audited in process: every commit lists in
``batch.touched`` the meta key of every key it changes (or the key's 2-byte table prefix).

A commit listener checks each op of each batch while a server runs a broad list of write
commands (every family, chunked strings, expiry, MULTI/EXEC, scripts, FLUSHDB/FLUSHALL,
SWAPDB, RENAME/MOVE/COPY, RESTORE, SORT STORE, ...). Then every binlog record is re-applied
to a second store (``Store.apply_record``, what a replica does) and audited the same way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import hiredis

from pikadb.config import RuntimeConfig, load_settings
from pikadb.server.app import Server
from pikadb.server.connection import Connection
from pikadb.storage.batch import Batch
from pikadb.storage.binlog import OP_DELETE_RANGE
from pikadb.storage.engine import DATA, META, ZSCORE
from pikadb.storage.store import Store

BIG = b"x" * 20_000  # a chunked string (storage/strings.py INLINE_MAX is 16 KiB)


class Transport:
    def __init__(self) -> None:
        self.out = bytearray()

    def write(self, data: bytes) -> None:
        self.out += data

    def get_extra_info(self, name: str) -> Any:
        return None if name == "socket" else ("127.0.0.1", 1)

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def owner(cf: int, key: bytes) -> bytes | None:
    """The meta key an op changes (None: bookkeeping cfs)."""
    if cf == META:
        return key
    if cf in (DATA, ZSCORE):
        return key[:4] + key[8 : 8 + int.from_bytes(key[4:8], "big")]
    return None


def audit(batch: Batch, problems: list[str], label: str) -> None:
    touched = set(batch.touched)
    for kind, cf, key, _value in batch.ops:
        mkey = owner(cf, key)
        if mkey is None:
            continue
        if kind == OP_DELETE_RANGE and cf == META:
            ok = len(key) == 2 and key in touched  # only whole tables are range-deleted
        else:
            ok = mkey in touched or mkey[:2] in touched
        if not ok:
            problems.append(f"{label}: op {kind} cf {cf} key {key!r} not touched")


# (commands, run before the audited ones, unaudited) and the audited write commands.
SETUP: list[tuple[Any, ...]] = [
    ("SET", "s", "v"),
    ("SET", "big", BIG),
    ("HSET", "h", "f", "1", "g", "2"),
    ("RPUSH", "l", "a", "b", "c", "d"),
    ("SADD", "st", "a", "b", "c"),
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
    ("SET", "bits", "\x00"),
]
WRITES: list[tuple[Any, ...]] = [
    # strings, chunked strings, bits
    ("SET", "s", "w"),
    ("APPEND", "s", "x"),
    ("SETRANGE", "s", "0", "Z"),
    ("SETRANGE", "big", "5000", "same-length"),
    ("SETRANGE", "big", "19999", "!"),
    ("APPEND", "big", "tail"),
    ("SETBIT", "big", "1000", "1"),
    ("SETBIT", "bits", "7", "1"),
    ("BITOP", "OR", "bits2", "bits", "s"),
    ("BITFIELD", "bits", "SET", "u8", "0", "255"),
    ("INCR", "n"),
    ("INCRBYFLOAT", "n", "1.5"),
    ("GETSET", "s", "g"),
    ("GETEX", "s", "PX", "100000"),
    ("GETEX", "s", "PERSIST"),
    ("GETDEL", "n"),
    ("MSET", "m1", "1", "m2", "2"),
    ("MSETNX", "m3", "3"),
    ("SETNX", "m4", "4"),
    ("PSETEX", "m5", "100000", "5"),
    # hashes
    ("HSET", "h", "f", "9"),  # overwrite: same size
    ("HSETNX", "h", "new", "1"),
    ("HINCRBY", "h", "g", "5"),
    ("HINCRBYFLOAT", "h", "g", "0.5"),
    ("HDEL", "h", "new"),
    # lists
    ("LSET", "l", "1", "B"),
    ("LINSERT", "l", "BEFORE", "c", "X"),
    ("LREM", "l", "1", "X"),
    ("LPUSH", "l", "z"),
    ("RPOP", "l"),
    ("LTRIM", "l", "0", "2"),
    ("LMOVE", "l", "l2", "LEFT", "RIGHT"),
    ("RPOPLPUSH", "l2", "l"),
    # sets
    ("SADD", "st", "d"),
    ("SREM", "st", "d"),
    ("SMOVE", "st", "st2", "a"),
    ("SINTERSTORE", "st3", "st", "st2"),
    ("SUNIONSTORE", "st3", "st", "st2"),
    ("SPOP", "st2"),
    # zsets
    ("ZADD", "z", "5", "a"),  # score change: same size
    ("ZINCRBY", "z", "1", "b"),
    ("ZREM", "z", "c"),
    ("ZPOPMIN", "z"),
    ("ZADD", "z", "1", "q", "2", "r"),
    ("ZUNIONSTORE", "z2", "1", "z"),
    ("ZRANGESTORE", "z3", "z", "0", "-1"),
    ("ZREMRANGEBYSCORE", "z3", "-inf", "+inf"),
    # other types that share the commit path
    ("PFADD", "hll", "a", "b"),
    ("PFMERGE", "hll2", "hll"),
    ("XADD", "x", "*", "f", "v"),
    ("XTRIM", "x", "MAXLEN", "0"),
    ("GEOADD", "g", "13.36", "38.11", "p"),
    # keyspace
    ("EXPIRE", "h", "1000"),
    ("PERSIST", "h"),
    ("PEXPIREAT", "m1", "1"),  # in the past: deletes
    ("RENAME", "h", "h2"),
    ("RENAMENX", "h2", "h3"),
    ("COPY", "h3", "h4"),
    ("COPY", "h3", "h4", "DB", "1", "REPLACE"),
    ("MOVE", "h4", "2"),
    ("DEL", "m2"),
    ("UNLINK", "m3"),
    ("SORT", "st", "ALPHA", "STORE", "sorted"),
    ("SET", "short", "v", "PX", "1"),
    # transactions and scripts
    ("MULTI",),
    ("SET", "s", "in-multi"),
    ("HSET", "h3", "f", "in-multi"),
    ("EXEC",),
    (
        "EVAL",
        "redis.call('set', KEYS[1], 'lua'); redis.call('hset', KEYS[2], 'f', 'x')",
        "2",
        "s",
        "h3",
    ),
    ("SWAPDB", "0", "1"),
    ("SWAPDB", "0", "1"),
    ("SELECT", "1"),
    ("FLUSHDB",),
    ("SELECT", "0"),
]


def test_every_write_touches_its_keys(tmp_path: Path) -> None:
    settings = load_settings(None, {}, {"dir": str(tmp_path / "a")})
    srv = Server(settings, RuntimeConfig(settings), None)
    tr = Transport()
    conn = Connection(srv)
    conn.connection_made(tr)  # type: ignore[arg-type]

    def send(cmds: list[tuple[Any, ...]]) -> None:
        for cmd in cmds:
            conn.data_received(hiredis.pack_command(cmd))
            srv.close_tick()

    send(SETUP)
    send([("DUMP", "s")])
    problems: list[str] = []
    current = ["?"]
    srv.store.listeners.append(lambda b: audit(b, problems, current[0]))
    for cmd in WRITES:
        current[0] = " ".join(map(str, cmd))[:60]
        send([cmd])
    replies = hiredis.Reader()
    replies.feed(bytes(tr.out))
    errors = []
    while (reply := replies.gets()) is not False:
        if isinstance(reply, hiredis.ReplyError):
            errors.append(reply)
    assert errors == []
    payload = hiredis.Reader()
    tr.out.clear()
    send([("DUMP", "l")])
    payload.feed(bytes(tr.out))
    dumped = payload.gets()
    current[0] = "RESTORE"
    send([("RESTORE", "restored", "0", dumped), ("RESTORE", "restored", "0", dumped, "REPLACE")])
    time.sleep(0.01)
    current[0] = "lazy expiry"
    send([("GET", "short")])
    send([("SET", "short2", "v", "PX", "1")])
    time.sleep(0.01)
    current[0] = "active expiry"
    srv.store.expire_cycle()
    current[0] = "FLUSHALL"
    send([("FLUSHALL",)])
    assert b"-ERR" not in tr.out and b"-WRONGTYPE" not in tr.out, bytes(tr.out)
    assert problems == []

    # a replica re-applying every record touches the same keys
    replica = Store(str(tmp_path / "b"))
    rproblems: list[str] = []
    n = 0
    for seq, raw in srv.store.binlog_range(0):
        audit(replica.apply_record(raw), rproblems, f"record {seq}")
        n += 1
    assert n > len(WRITES) // 2
    assert rproblems == []
    replica.close()
    srv.store.close()
