"""The one commit path on a real RocksDB: data and binlog in one write, exact key counters,
replaying records on a replica, active expiry, SWAPDB persistence and versions."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pikadb.core.clock import now_ms
from pikadb.storage import layout as L
from pikadb.storage.binlog import OP_DELETE, OP_DELETE_RANGE, OP_PUT, decode_record
from pikadb.storage.engine import BINLOG, CF_NAMES, DATA, META, SYS, TTL
from pikadb.storage.keyspace import Database
from pikadb.storage.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "a"), databases=4)
    yield s
    s.close()


# -- helpers: writes the way the type modules write ---------------------------------------
def put_string(db: Database, key: bytes, value: bytes, expire_at: int = 0) -> None:
    mkey, old = db.lookup(key)
    b = db.store.batch()
    b.put_meta(mkey, old, L.encode_string(value, expire_at))
    db.store.commit(b)


def put_hash(db: Database, key: bytes, fields: dict[bytes, bytes], expire_at: int = 0) -> int:
    """A collection: meta with a fresh version, one data sub-key per field."""
    mkey, old = db.lookup(key)
    version = db.store.next_version()
    b = db.store.batch()
    raw = L.CollectionMeta(L.T_HASH, expire_at, version, len(fields)).encode()
    b.put_meta(mkey, old, raw)
    pfx = L.version_prefix(mkey, version)
    for f, v in fields.items():
        b.put(DATA, pfx + f, v)
    db.store.commit(b)
    return version


def delete(db: Database, key: bytes) -> bool:
    mkey, old = db.lookup(key)
    if old is None:
        return False
    b = db.store.batch()
    b.delete_key(mkey, old)
    db.store.commit(b)
    return True


def contents(store: Store, cf: int) -> list[tuple[bytes, bytes]]:
    return list(store.engine.scan(cf, b""))


def last_record(store: Store):
    seq, raw = list(store.binlog_range(store.seq))[-1]
    assert seq == store.seq
    return decode_record(raw)


def live_meta_count(store: Store, table: int) -> tuple[int, int]:
    """(keys, keys with a TTL) in a table, counted by scanning meta."""
    keys = expires = 0
    for _, raw in store.engine.scan(META, L.table_prefix(table), L.table_end(table)):
        keys += 1
        expires += L.expire_of(raw) != 0
    return keys, expires


# -- one write: data + binlog ---------------------------------------------------------------
def test_commit_writes_one_record_describing_exactly_its_ops(store: Store) -> None:
    db = store.databases[0]
    seq0 = store.seq
    put_string(db, b"k", b"v")
    assert store.seq == seq0 + 1
    rec = last_record(store)
    mkey = db.mkey(b"k")
    assert rec.ops == [(OP_PUT, META, mkey, L.encode_string(b"v"))]
    assert rec.deltas == {db.table: (1, 0)}
    assert abs(rec.ts_ms - now_ms()) < 5000

    exp = now_ms() + 100_000
    put_string(db, b"k", b"v2", exp)  # overwrite, now with a TTL
    rec = last_record(store)
    assert rec.ops == [
        (OP_PUT, META, mkey, L.encode_string(b"v2", exp)),
        (OP_PUT, TTL, L.ttl_key(mkey, exp), b""),
    ]
    assert rec.deltas == {db.table: (0, 1)}

    assert delete(db, b"k")
    rec = last_record(store)
    assert rec.ops == [(OP_DELETE, META, mkey, b""), (OP_DELETE, TTL, L.ttl_key(mkey, exp), b"")]
    assert rec.deltas == {db.table: (-1, -1)}
    assert store.seq == seq0 + 3


def test_collection_overwrite_drops_old_version_with_a_range_delete(store: Store) -> None:
    db = store.databases[1]
    v1 = put_hash(db, b"h", {b"a": b"1", b"b": b"2"})
    mkey = db.mkey(b"h")
    pfx1 = L.version_prefix(mkey, v1)
    assert [k for k, _ in contents(store, DATA)] == [pfx1 + b"a", pfx1 + b"b"]
    v2 = put_hash(db, b"h", {b"c": b"3"})
    assert v2 > v1
    rec = last_record(store)
    assert (OP_DELETE_RANGE, DATA, pfx1, L.prefix_end(pfx1)) in rec.ops
    assert [k for k, _ in contents(store, DATA)] == [L.version_prefix(mkey, v2) + b"c"]
    put_string(db, b"h", b"now a string")
    assert contents(store, DATA) == []
    assert store.key_count(db.table) == 1


def test_empty_batch_writes_nothing(store: Store) -> None:
    seq = store.seq
    store.commit(store.batch())
    assert store.seq == seq
    assert contents(store, BINLOG) == []


def test_seq_and_counters_survive_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    s = Store(path)
    for i in range(50):
        put_string(s.databases[0], b"k%d" % i, b"v", now_ms() + 600_000 if i % 5 == 0 else 0)
    put_string(s.databases[3], b"x", b"y")
    seq = s.seq
    s.close()
    s = Store(path)
    try:
        assert s.seq == seq == 51
        assert [n for n, _ in s.binlog_range()] == list(range(1, 52))
        assert (s.key_count(0), s.expires_count(0)) == (50, 10)
        assert s.key_count(s.databases[3].table) == 1
        put_string(s.databases[0], b"more", b"v")
        assert s.seq == 52
    finally:
        s.close()


CRASH_WRITER = textwrap.dedent(
    """
    import sys
    from pikadb.storage import layout as L
    from pikadb.storage.store import Store
    s = Store(sys.argv[1])
    db = s.databases[0]
    i = 0
    while True:
        i += 1
        key = b"key:%d" % i
        mkey, old = db.lookup(key)
        b = s.batch()
        b.put_meta(mkey, old, L.encode_string(b"v" * (i % 300)))
        s.commit(b)
        print(s.seq, flush=True)
    """
)


def test_kill_9_never_separates_data_from_binlog(tmp_path: Path) -> None:
    """SIGKILL a process in the middle of commits: every record's data is there, every key
    has its record, the counters agree, and every acknowledged commit survived."""
    path = str(tmp_path / "db")
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_WRITER, path],
        stdout=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert proc.stdout is not None
    acked = 0
    deadline = time.monotonic() + 30
    while acked < 3000 and time.monotonic() < deadline:
        acked = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert acked >= 3000
    s = Store(path)
    try:
        assert s.seq >= acked
        seqs = [n for n, _ in s.binlog_range()]
        assert seqs == list(range(1, s.seq + 1))
        keys = {L.user_key(k) for k, _ in contents(s, META)}
        assert keys == {b"key:%d" % i for i in range(1, s.seq + 1)}
        assert s.key_count(0) == s.seq
    finally:
        s.close()


# -- counters -------------------------------------------------------------------------------
op = st.tuples(
    st.sampled_from(["set", "set_ttl", "hash", "del", "persist", "flush"]),
    st.integers(0, 1),
    st.sampled_from([b"a", b"b", b"c", b"{a}x", b"d" * 30]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, max_size=40))
def test_counters_are_exact(ops: list[tuple[str, int, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        s = Store(tmp, databases=2)
        model: list[dict[bytes, bool]] = [{}, {}]  # key -> has ttl
        far = now_ms() + 3_600_000
        for name, dbi, key in ops:
            db = s.databases[dbi]
            if name == "set":
                put_string(db, key, b"v")
                model[dbi][key] = False
            elif name == "set_ttl":
                put_string(db, key, b"v", far)
                model[dbi][key] = True
            elif name == "hash":
                put_hash(db, key, {b"f": b"v"})
                model[dbi][key] = False
            elif name == "del":
                assert delete(db, key) == (key in model[dbi])
                model[dbi].pop(key, None)
            elif name == "persist":
                mkey, old = db.lookup(key)
                if old is not None:
                    b = s.batch()
                    b.put_meta(mkey, old, L.with_expire(old, 0))
                    s.commit(b)
                    model[dbi][key] = False
            else:
                b = s.batch()
                s.flush_table(b, db.table)
                s.commit(b)
                model[dbi].clear()
        for reopen in (False, True):
            if reopen:
                s.close()
                s = Store(tmp, databases=2)
            for dbi, db in enumerate(s.databases):
                want = (len(model[dbi]), sum(model[dbi].values()))
                assert (db.size(), db.expires()) == want
                assert live_meta_count(s, db.table) == want
        s.close()


def test_flush_table_zeroes_one_table(store: Store) -> None:
    a, b = store.databases[0], store.databases[1]
    for i in range(20):
        put_string(a, b"k%d" % i, b"v", now_ms() + 60_000 if i < 5 else 0)
        put_hash(b, b"h%d" % i, {b"f": b"v"})
    batch = store.batch()
    store.flush_table(batch, a.table)
    store.commit(batch)
    assert (a.size(), a.expires()) == (0, 0)
    assert live_meta_count(store, a.table) == (0, 0)
    assert last_record(store).deltas == {a.table: (-20, -5)}
    assert b.size() == 20
    assert [k for k, _ in contents(store, TTL)] == []


# -- replicas -------------------------------------------------------------------------------
def test_apply_record_reproduces_the_data_on_a_replica(store: Store, tmp_path: Path) -> None:
    db0, db1 = store.databases[0], store.databases[1]
    for i in range(30):
        put_string(db0, b"s%d" % i, b"v%d" % i, now_ms() + 100_000 if i % 3 == 0 else 0)
    put_hash(db0, b"h", {b"a": b"1", b"b": b"2"})
    put_hash(db0, b"h", {b"c": b"3"})  # range delete of the old version
    put_string(db1, b"other", b"x")
    delete(db0, b"s1")
    delete(db0, b"s3")  # one with a TTL
    put_string(db0, b"gone", b"v", now_ms() + 20)
    time.sleep(0.05)
    assert store.expire_cycle() == 1
    store.swap_databases(0, 2)
    batch = store.batch()
    store.flush_table(batch, store.databases[1].table)
    store.commit(batch)
    put_string(store.databases[2], b"after-swap", b"1")

    replica = Store(str(tmp_path / "replica"), databases=4)
    try:
        for _, raw in store.binlog_range():
            replica.apply_record(raw)
        for cf in (META, DATA, TTL, SYS):
            assert contents(replica, cf) == contents(store, cf), CF_NAMES[cf]
        assert [d.table for d in replica.databases] == [d.table for d in store.databases]
        for i in range(4):
            t = store.databases[i].table
            assert replica.key_count(t) == store.key_count(t)
            assert replica.expires_count(t) == store.expires_count(t)
        assert replica.databases[2].lookup(b"s0")[1] == L.encode_string(
            b"v0", L.expire_of(store.databases[2].lookup(b"s0")[1] or b"\0" * 9)
        )
        # the replica's own log holds the same effects, record for record
        mine = [decode_record(r).ops for _, r in store.binlog_range()]
        theirs = [decode_record(r).ops for _, r in replica.binlog_range()]
        assert theirs == mine
    finally:
        replica.close()


# -- expiry ---------------------------------------------------------------------------------
def test_expire_cycle_removes_expired_keys_and_keeps_counters(store: Store) -> None:
    db = store.databases[0]
    soon = now_ms() + 30
    for i in range(10):
        put_string(db, b"tmp%d" % i, b"v", soon)
    put_hash(db, b"tmphash", {b"f": b"v"}, soon)
    for i in range(5):
        put_string(db, b"keep%d" % i, b"v", now_ms() + 3_600_000)
        put_string(db, b"plain%d" % i, b"v")
    assert (db.size(), db.expires()) == (21, 16)
    time.sleep(0.06)
    assert store.expire_cycle(limit=4) == 4
    assert (db.size(), db.expires()) == (17, 12)
    assert store.expire_cycle(limit=200) == 7
    assert store.expire_cycle(limit=200) == 0
    assert (db.size(), db.expires()) == (10, 5)
    assert live_meta_count(store, db.table) == (10, 5)
    assert len(contents(store, TTL)) == 5
    assert contents(store, DATA) == []  # the hash's fields went with it
    rec = last_record(store)
    assert rec.deltas == {db.table: (-7, -7)}


def test_lookup_hides_and_deletes_an_expired_key(store: Store) -> None:
    db = store.databases[0]
    put_string(db, b"k", b"v", now_ms() + 20)
    time.sleep(0.04)
    seq = store.seq
    assert db.lookup(b"k")[1] is None
    assert store.seq == seq + 1  # the lazy delete is a logged commit (replicas get it)
    assert last_record(store).ops[0] == (OP_DELETE, META, db.mkey(b"k"), b"")
    assert (db.size(), db.expires()) == (0, 0)


def test_replica_hides_expired_keys_without_deleting(store: Store) -> None:
    db = store.databases[0]
    put_string(db, b"k", b"v", now_ms() + 20)
    store.expire_writes = False
    time.sleep(0.04)
    seq = store.seq
    assert db.lookup(b"k")[1] is None
    assert store.expire_cycle() == 0
    assert store.seq == seq
    assert db.size() == 1


# -- SWAPDB and versions --------------------------------------------------------------------
def test_swap_databases_persists_across_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    s = Store(path, databases=4)
    put_string(s.databases[0], b"in0", b"a")
    put_string(s.databases[3], b"in3", b"b")
    s.swap_databases(0, 3)
    assert s.databases[3].lookup(b"in0")[1] == L.encode_string(b"a")
    assert s.databases[0].lookup(b"in0")[1] is None
    assert s.databases[0].size() == 1
    s.close()
    s = Store(path, databases=4)
    try:
        assert s.databases[3].lookup(b"in0")[1] == L.encode_string(b"a")
        assert s.databases[0].lookup(b"in3")[1] == L.encode_string(b"b")
        assert s.databases[0].lookup(b"in0")[1] is None
        assert (s.databases[0].size(), s.databases[3].size()) == (1, 1)
        s.swap_databases(0, 3)
        assert s.databases[0].lookup(b"in0")[1] == L.encode_string(b"a")
    finally:
        s.close()


def test_versions_increase_and_are_not_reused_after_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    s = Store(path)
    versions = [s.next_version() for _ in range(20_000)]
    assert all(a < b for a, b in itertools.pairwise(versions))
    last = put_hash(s.databases[0], b"h", {b"f": b"v"})
    s.close()
    s = Store(path)
    try:
        assert s.next_version() > last
    finally:
        s.close()


def test_trim_binlog_keeps_the_newest_records(tmp_path: Path) -> None:
    s = Store(str(tmp_path / "db"), binlog_keep=10)
    try:
        for i in range(40):
            put_string(s.databases[0], b"k%d" % i, b"v")
        s.trim_binlog()
        seqs = [n for n, _ in s.binlog_range()]
        assert seqs[-1] == 40
        assert 10 <= len(seqs) <= 11
        assert s.key_count(0) == 40
    finally:
        s.close()
