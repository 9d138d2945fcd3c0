"""Group commit: commits between begin_group/end_group reach RocksDB in one write with one
binlog record, and reads inside the group see them (overlay for point reads, flush for scans
and after range deletes)."""

from __future__ import annotations

from pathlib import Path

from pikadb.storage import layout as L
from pikadb.storage.binlog import decode_record
from pikadb.storage.engine import DATA, META
from pikadb.storage.store import Store


def _set(store: Store, key: bytes, value: bytes) -> None:
    db = store.databases[0]
    mkey, old = db.lookup(key)
    b = store.batch()
    b.put_meta(mkey, old, L.encode_string(value))
    store.commit(b)


def test_group_is_one_write_and_one_record(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    db = store.databases[0]
    seq0 = store.seq
    store.begin_group()
    for i in range(10):
        _set(store, b"k%d" % i, b"v%d" % i)
    _set(store, b"k0", b"again")
    # visible inside the group (overlay), counted at once, not yet logged
    assert db.lookup(b"k0")[1] == L.encode_string(b"again")
    assert db.size() == 10
    assert store.seq == seq0
    store.end_group()
    assert store.seq == seq0 + 1
    records = list(store.binlog_range(seq0 + 1))
    assert len(records) == 1
    rec = decode_record(records[0][1])
    assert len(rec.ops) == 11
    assert rec.deltas == {db.table: (10, 0)}
    store.close()
    reopened = Store(str(tmp_path / "db"))
    assert reopened.databases[0].lookup(b"k0")[1] == L.encode_string(b"again")
    assert reopened.databases[0].size() == 10
    reopened.close()


def test_deletes_and_scans_inside_a_group(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    db = store.databases[0]
    _set(store, b"a", b"1")
    store.begin_group()
    mkey, raw = db.lookup(b"a")
    assert raw is not None
    b = store.batch()
    b.delete_key(mkey, raw)
    store.commit(b)
    assert db.lookup(b"a")[1] is None  # a pending delete hides the key
    _set(store, b"b", b"2")
    assert [L.user_key(k) for k, _ in db.iter_meta()] == [b"b"]  # a scan flushes first
    assert not store.engine.pending
    # a pending range delete: point reads flush before reading
    mkey_c = db.mkey(b"c")
    version = store.next_version()
    b = store.batch()
    b.put_meta(mkey_c, None, L.CollectionMeta(L.T_HASH, 0, version, 1).encode())
    b.put(DATA, L.version_prefix(mkey_c, version) + b"f", b"v")
    store.commit(b)
    mkey_c, raw_c = db.lookup(b"c")
    assert raw_c is not None
    b = store.batch()
    b.delete_key(mkey_c, raw_c)
    store.commit(b)
    assert store.engine.get(DATA, L.version_prefix(mkey_c, version) + b"f") is None
    assert store.engine.get(META, mkey_c) is None
    store.end_group()
    assert db.size() == 1
    store.close()


def test_nothing_is_written_for_an_abandoned_batch(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    db = store.databases[0]
    mkey, old = db.lookup(b"x")
    b = store.batch()
    b.put_meta(mkey, old, L.encode_string(b"never"))
    del b  # a command that fails after building its batch commits nothing
    assert db.lookup(b"x")[1] is None
    assert store.seq == 0
    store.close()
