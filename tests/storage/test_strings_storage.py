"""The string storage helpers on a real RocksDB: one commit per write, TTL bookkeeping,
key counters, and overwriting keys of other types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.storage import layout as L
from pikadb.storage import strings
from pikadb.storage.engine import DATA, TTL
from pikadb.storage.keyspace import Database
from pikadb.storage.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "db"), databases=2)
    yield s
    s.close()


@pytest.fixture
def db(store: Store) -> Database:
    return store.databases[0]


def ttl_entries(store: Store) -> list[bytes]:
    return [k for k, _ in store.engine.scan(TTL, b"", b"\xff\xff\xff")]


def make_hash(db: Database, key: bytes, fields: int = 3) -> bytes:
    """A non-string key (a hash meta + sub-keys), written the way collection types do."""
    mkey = db.mkey(key)
    version = db.store.next_version()
    b = db.store.batch()
    b.put_meta(mkey, None, L.CollectionMeta(L.T_HASH, 0, version, fields).encode())
    pfx = L.version_prefix(mkey, version)
    for i in range(fields):
        b.put(DATA, pfx + b"f%d" % i, b"v")
    db.store.commit(b)
    return mkey


def test_write_read_roundtrip_one_commit(store: Store, db: Database) -> None:
    seq = store.seq
    mkey, old = db.lookup(b"k")
    strings.write_persistent(db, mkey, old, b"hello")
    assert store.seq == seq + 1
    assert strings.get(db, b"k") == b"hello"
    assert db.size() == 1
    assert db.lookup(b"k")[1] == L.encode_string(b"hello")


def test_update_keeps_ttl_write_clears_it(store: Store, db: Database) -> None:
    at = now_ms() + 100_000
    mkey, old = db.lookup(b"k")
    strings.write(db, mkey, old, b"1", at)
    assert db.expires() == 1
    raw = db.lookup(b"k")[1]
    strings.update(db, mkey, raw, b"2")
    raw = db.lookup(b"k")[1]
    assert raw is not None and L.expire_of(raw) == at and strings.read(raw) == b"2"
    assert len(ttl_entries(store)) == 1
    strings.write(db, mkey, raw, b"3")
    raw = db.lookup(b"k")[1]
    assert raw is not None and L.expire_of(raw) == 0
    assert db.expires() == 0 and ttl_entries(store) == []
    assert db.size() == 1


def test_update_of_missing_key_is_persistent(db: Database) -> None:
    mkey, old = db.lookup(b"n")
    strings.update(db, mkey, old, b"5")
    raw = db.lookup(b"n")[1]
    assert raw == L.encode_string(b"5")
    assert db.size() == 1 and db.expires() == 0


def test_write_at_past_deletes(store: Store, db: Database) -> None:
    mkey, old = db.lookup(b"k")
    strings.write_persistent(db, mkey, old, b"v")
    mkey, old = db.lookup(b"k")
    seq = store.seq
    assert strings.write_at(db, mkey, old, b"w", now_ms() - 1, now_ms()) is False
    assert store.seq == seq + 1
    assert db.lookup(b"k")[1] is None and db.size() == 0
    # nothing to delete: no commit at all
    assert strings.write_at(db, mkey, None, b"w", 1, now_ms()) is False
    assert store.seq == seq + 1
    assert strings.write_at(db, mkey, None, b"w", now_ms() + 60_000, now_ms()) is True
    assert db.size() == 1 and db.expires() == 1


def test_set_expire_and_persist(store: Store, db: Database) -> None:
    mkey, old = db.lookup(b"k")
    strings.write_persistent(db, mkey, old, b"v")
    raw = db.lookup(b"k")[1]
    assert raw is not None
    at = now_ms() + 50_000
    strings.set_expire(db, mkey, raw, at)
    raw = db.lookup(b"k")[1]
    assert raw is not None and L.expire_of(raw) == at and db.expires() == 1
    seq = store.seq
    strings.set_expire(db, mkey, raw, at)  # unchanged: no commit
    assert store.seq == seq
    strings.set_expire(db, mkey, raw, 0)
    raw = db.lookup(b"k")[1]
    assert raw is not None and L.expire_of(raw) == 0 and db.expires() == 0
    assert ttl_entries(store) == [] and strings.read(raw) == b"v"


def test_write_many_is_one_commit_and_counts_duplicates_once(store: Store, db: Database) -> None:
    mkey, old = db.lookup(b"a")
    strings.write(db, mkey, old, b"old", now_ms() + 60_000)
    assert db.size() == 1 and db.expires() == 1
    seq = store.seq
    keys = [b"a", b"b", b"a", b"c", b"b"]
    items = [(*db.lookup(k), b"v%d" % i) for i, k in enumerate(keys)]
    strings.write_many(db, items)
    assert store.seq == seq + 1  # one batch, one binlog record
    assert [strings.get(db, k) for k in (b"a", b"b", b"c")] == [b"v2", b"v4", b"v3"]
    assert db.size() == 3
    assert db.expires() == 0 and ttl_entries(store) == []


def test_string_write_replaces_collection_and_drops_its_data(store: Store, db: Database) -> None:
    mkey = make_hash(db, b"h")
    raw = db.lookup(b"h")[1]
    assert raw is not None
    pfx = L.version_prefix(mkey, L.version_of(raw))
    assert len(list(store.engine.scan(DATA, pfx, L.prefix_end(pfx)))) == 3
    with pytest.raises(CommandError) as exc:
        strings.read(raw)
    assert exc.value.message.startswith("WRONGTYPE")
    assert strings.read_lenient(raw) is None
    assert not strings.is_string(raw)
    strings.write_many(db, [(mkey, raw, b"now a string")])
    assert strings.get(db, b"h") == b"now a string"
    assert db.size() == 1
    assert list(store.engine.scan(DATA, pfx, L.prefix_end(pfx))) == []


def test_delete(store: Store, db: Database) -> None:
    mkey, old = db.lookup(b"k")
    strings.write(db, mkey, old, b"v", now_ms() + 10_000)
    raw = db.lookup(b"k")[1]
    assert raw is not None
    strings.delete(db, mkey, raw)
    assert db.lookup(b"k")[1] is None
    assert db.size() == 0 and db.expires() == 0 and ttl_entries(store) == []


def test_keep_ttl(db: Database) -> None:
    assert strings.keep_ttl(None) == 0
    assert strings.keep_ttl(L.encode_string(b"x", 1234)) == 1234
    assert strings.keep_ttl(L.CollectionMeta(L.T_SET, 99, 1, 1).encode()) == 99
