"""storage/generic.py on a real RocksDB: type-generic operations on strings and on fake
collections (a CollectionMeta plus sub-keys written through a batch), SCAN cursors, key-ordered
range scans, DUMP/RESTORE registry."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from pikadb.core.errors import CommandError
from pikadb.core.slots import key_hash_slot
from pikadb.rdb import RdbValue
from pikadb.storage import generic
from pikadb.storage import layout as L
from pikadb.storage.engine import CF_NAMES, DATA, META, TTL, ZSCORE
from pikadb.storage.keyspace import Database
from pikadb.storage.store import Store


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    s = Store(str(tmp_path / "db"), databases=4)
    yield s
    s.close()


@pytest.fixture
def db(store: Store) -> Database:
    return store.databases[0]


# --- helpers: fake collections written directly through a batch ------------------------
def put_string(db: Database, key: bytes, value: bytes, expire_at: int = 0) -> None:
    mkey, old = db.lookup(key)
    b = db.store.batch()
    b.put_meta(mkey, old, L.encode_string(value, expire_at))
    db.store.commit(b)


def put_fake(
    db: Database,
    key: bytes,
    fields: dict[bytes, bytes],
    type_code: int = L.T_HASH,
    expire_at: int = 0,
    scores: dict[bytes, bytes] | None = None,
) -> int:
    """A collection of ``type_code``: meta + data sub-keys (+ zscore sub-keys). Its version."""
    store = db.store
    mkey, old = db.lookup(key)
    version = store.next_version()
    meta = L.CollectionMeta(type_code, expire_at, version, len(fields), b"extra")
    b = store.batch()
    b.put_meta(mkey, old, meta.encode())
    pfx = L.version_prefix(mkey, version)
    for f, v in fields.items():
        b.put(DATA, pfx + f, v)
    for s, m in (scores or {}).items():
        b.put(ZSCORE, pfx + s, m)
    store.commit(b)
    return version


def subkeys(db: Database, key: bytes, version: int, cf: int = DATA) -> dict[bytes, bytes]:
    pfx = L.version_prefix(db.mkey(key), version)
    return {k[len(pfx) :]: v for k, v in db.engine.scan(cf, pfx, L.prefix_end(pfx))}


def read_fake(
    db: Database, key: bytes, cf: int = DATA
) -> tuple[L.CollectionMeta, dict[bytes, bytes]]:
    raw = db.lookup(key)[1]
    assert raw is not None
    meta = L.CollectionMeta.decode(raw)
    return meta, subkeys(db, key, meta.version, cf)


def dump_cfs(store: Store) -> dict[str, list[tuple[bytes, bytes]]]:
    out = {}
    for cf, name in enumerate(CF_NAMES):
        if name in ("binlog",):
            continue
        out[name] = list(store.engine.scan(cf, b""))
    return out


FIELDS = {b"f1": b"v1", b"f2": b"v2", b"\x00bin": b"\xff" * 10}


# --- type, exists, delete ----------------------------------------------------------------
def test_type_name(db: Database) -> None:
    put_string(db, b"s", b"v")
    put_fake(db, b"h", FIELDS)
    put_fake(db, b"z", FIELDS, L.T_ZSET)
    assert generic.type_name(db.lookup(b"s")[1]) == b"string"
    assert generic.type_name(db.lookup(b"h")[1]) == b"hash"
    assert generic.type_name(db.lookup(b"z")[1]) == b"zset"
    assert generic.type_name(None) == b"none"


def test_exists_counts_duplicates_and_delete_dedups(db: Database) -> None:
    put_string(db, b"a", b"1")
    put_fake(db, b"h", FIELDS)
    assert generic.exists_count(db, [b"a", b"a", b"h", b"nope"]) == 3
    seq = db.store.seq
    assert generic.delete_keys(db, [b"a", b"a", b"h", b"nope"]) == 2
    assert db.store.seq == seq + 1  # one commit
    assert db.size() == 0
    assert generic.delete_keys(db, [b"a"]) == 0


def test_delete_collection_is_range_delete(db: Database) -> None:
    v = put_fake(db, b"big", {b"f%d" % i: b"x" for i in range(500)}, L.T_ZSET, scores={b"s1": b""})
    assert len(subkeys(db, b"big", v)) == 500
    b = db.store.batch()
    mkey, raw = db.lookup(b"big")
    assert raw is not None
    b.delete_key(mkey, raw)
    assert len(b) <= 4  # meta delete + one range tombstone per cf: O(1) in the collection size
    db.store.commit(b)
    assert subkeys(db, b"big", v) == {}
    assert subkeys(db, b"big", v, ZSCORE) == {}
    assert generic.delete_keys(db, [b"big"]) == 0


# --- expiry ------------------------------------------------------------------------------
def test_expire_flags_and_past_time(db: Database) -> None:
    now = int(time.time() * 1000)
    put_string(db, b"k", b"v")
    assert generic.expire_at(db, b"k", now + 10_000, generic.EXPIRE_XX) == 0
    assert generic.expire_at(db, b"k", now + 10_000, generic.EXPIRE_GT) == 0  # no ttl = infinite
    assert generic.expire_at(db, b"k", now + 10_000, generic.EXPIRE_NX) == 1
    assert generic.expire_at(db, b"k", now + 20_000, generic.EXPIRE_NX) == 0
    assert generic.expire_at(db, b"k", now + 5_000, generic.EXPIRE_GT) == 0
    assert generic.expire_at(db, b"k", now + 20_000, generic.EXPIRE_GT) == 1
    assert generic.expire_at(db, b"k", now + 30_000, generic.EXPIRE_LT) == 0
    assert generic.expire_at(db, b"k", now + 15_000, generic.EXPIRE_LT) == 1
    assert generic.expire_of_key(db, b"k") == now + 15_000
    assert db.expires() == 1
    assert generic.persist(db, b"k") == 1
    assert generic.persist(db, b"k") == 0
    assert db.expires() == 0
    assert generic.expire_at(db, b"k", now - 1) == 1  # in the past: deleted
    assert db.lookup(b"k")[1] is None
    assert db.size() == 0
    assert generic.expire_at(db, b"missing", now + 1000) == 0


def test_expire_collection_keeps_data_and_expiry_drops_it(db: Database) -> None:
    v = put_fake(db, b"h", FIELDS)
    now = int(time.time() * 1000)
    assert generic.expire_at(db, b"h", now + 60_000) == 1
    meta, data = read_fake(db, b"h")
    assert meta.version == v and data == FIELDS and meta.expire_at == now + 60_000
    assert meta.extra == b"extra" and meta.size == len(FIELDS)
    assert list(db.engine.scan(TTL, b""))  # indexed for active expiry
    assert generic.expire_at(db, b"h", now + 30) == 1
    time.sleep(0.05)
    assert db.lookup(b"h")[1] is None  # hidden at once...
    assert subkeys(db, b"h", v) == {}  # ...and its sub-keys are gone (lazy delete)
    assert list(db.engine.scan(TTL, b"")) == []


def test_active_expiry_cycle_drops_collection(db: Database) -> None:
    v = put_fake(db, b"h", FIELDS, expire_at=int(time.time() * 1000) + 20)
    put_string(db, b"s", b"v", expire_at=int(time.time() * 1000) + 20)
    put_string(db, b"keep", b"v")
    time.sleep(0.05)
    assert db.store.expire_cycle() == 2
    assert db.engine.get(META, db.mkey(b"h")) is None
    assert subkeys(db, b"h", v) == {}
    assert db.size() == 1 and db.expires() == 0


# --- rename / copy / move ----------------------------------------------------------------
def test_rename_string_keeps_ttl(db: Database) -> None:
    exp = int(time.time() * 1000) + 100_000
    put_string(db, b"a", b"val", exp)
    assert generic.rename(db, b"a", b"b", nx=False) == 1
    assert db.lookup(b"a")[1] is None
    raw = db.lookup(b"b")[1]
    assert raw is not None and raw[9:] == b"val" and L.expire_of(raw) == exp
    assert db.size() == 1 and db.expires() == 1
    assert generic.rename(db, b"nope", b"x", nx=False) is None
    assert generic.rename(db, b"b", b"b", nx=False) == 1
    assert generic.rename(db, b"b", b"b", nx=True) == 0


def test_rename_collection_one_commit_new_version(db: Database) -> None:
    exp = int(time.time() * 1000) + 100_000
    v = put_fake(db, b"src", FIELDS, expire_at=exp)
    seq = db.store.seq
    assert generic.rename(db, b"src", b"dst", nx=False) == 1
    assert db.store.seq == seq + 1
    meta, data = read_fake(db, b"dst")
    assert meta.version != v and meta.type == L.T_HASH and meta.expire_at == exp
    assert meta.size == len(FIELDS) and meta.extra == b"extra"
    assert data == FIELDS
    assert db.lookup(b"src")[1] is None
    assert subkeys(db, b"src", v) == {}
    assert db.size() == 1 and db.expires() == 1


def test_rename_over_existing_collection_drops_its_data(db: Database) -> None:
    put_fake(db, b"src", FIELDS)
    old_dst = put_fake(db, b"dst", {b"other": b"x"}, L.T_ZSET, scores={b"sc": b""})
    assert generic.rename(db, b"src", b"dst", nx=True) == 0
    assert generic.rename(db, b"src", b"dst", nx=False) == 1
    assert subkeys(db, b"dst", old_dst) == {}
    assert subkeys(db, b"dst", old_dst, ZSCORE) == {}
    meta, data = read_fake(db, b"dst")
    assert meta.type == L.T_HASH and data == FIELDS
    assert db.size() == 1


def test_rename_zset_copies_score_index(db: Database) -> None:
    scores = {b"\x80\x00score1member": b"", b"\x80\x01score2m": b""}
    put_fake(db, b"z", FIELDS, L.T_ZSET, scores=scores)
    assert generic.rename(db, b"z", b"z2", nx=False) == 1
    assert read_fake(db, b"z2")[1] == FIELDS
    assert read_fake(db, b"z2", ZSCORE)[1] == scores


def test_rename_string_over_collection_and_back(db: Database) -> None:
    v = put_fake(db, b"h", FIELDS)
    put_string(db, b"s", b"x")
    assert generic.rename(db, b"s", b"h", nx=False) == 1
    assert subkeys(db, b"h", v) == {}
    assert db.lookup(b"h")[1][9:] == b"x"  # type: ignore[index]
    put_fake(db, b"h2", FIELDS)
    assert generic.rename(db, b"h2", b"h", nx=False) == 1
    assert read_fake(db, b"h")[1] == FIELDS


def test_copy_collection_same_and_other_db(store: Store, db: Database) -> None:
    v = put_fake(db, b"h", FIELDS)
    assert generic.copy(db, db, b"h", b"h2", replace=False) == 1
    m1, d1 = read_fake(db, b"h")
    m2, d2 = read_fake(db, b"h2")
    assert m1.version == v and m2.version != v and d1 == d2 == FIELDS
    db1 = store.databases[1]
    assert generic.copy(db, db1, b"h", b"h", replace=False) == 1
    assert read_fake(db1, b"h")[1] == FIELDS
    assert db1.size() == 1 and db.size() == 2
    # existing destination: only with REPLACE
    put_fake(db1, b"t", {b"z": b"z"})
    assert generic.copy(db, db1, b"h", b"t", replace=False) == 0
    assert generic.copy(db, db1, b"h", b"t", replace=True) == 1
    assert read_fake(db1, b"t")[1] == FIELDS
    assert generic.copy(db, db1, b"missing", b"t", replace=True) == 0


def test_move_collection(store: Store, db: Database) -> None:
    exp = int(time.time() * 1000) + 100_000
    v = put_fake(db, b"h", FIELDS, expire_at=exp)
    db2 = store.databases[2]
    assert generic.move(db, db2, b"h") == 1
    assert db.lookup(b"h")[1] is None and subkeys(db, b"h", v) == {}
    meta, data = read_fake(db2, b"h")
    assert data == FIELDS and meta.expire_at == exp
    assert db.size() == 0 and db2.size() == 1 and db2.expires() == 1
    put_fake(db, b"h", {b"a": b"b"})
    assert generic.move(db, db2, b"h") == 0  # present in the target
    assert generic.move(db, db2, b"nope") == 0


def test_binlog_replay_reproduces_generic_ops(tmp_path, store: Store, db: Database) -> None:  # type: ignore[no-untyped-def]
    exp = int(time.time() * 1000) + 100_000
    put_fake(db, b"h", FIELDS, expire_at=exp)
    put_fake(db, b"z", FIELDS, L.T_ZSET, scores={b"sc": b""})
    put_string(db, b"s", b"v")
    generic.rename(db, b"h", b"h2", nx=False)
    generic.copy(db, store.databases[1], b"z", b"z", replace=False)
    generic.move(db, store.databases[3], b"s")
    generic.expire_at(db, b"z", exp + 5)
    generic.persist(db, b"h2")
    generic.delete_keys(db, [b"z"])
    replica = Store(str(tmp_path / "replica"), databases=4)
    try:
        for _seq, rec in store.binlog_range():
            replica.apply_record(rec)
        assert dump_cfs(replica) == dump_cfs(store)
    finally:
        replica.close()


# --- KEYS and patterns -------------------------------------------------------------------
def test_pattern_slot() -> None:
    assert generic.pattern_slot(b"{user1}:*") == key_hash_slot(b"user1")
    assert generic.pattern_slot(b"a{tag}b*") == key_hash_slot(b"tag")
    assert generic.pattern_slot(b"{}*") is None
    assert generic.pattern_slot(b"*{tag}") is None
    assert generic.pattern_slot(b"{ta*g}") is None
    assert generic.pattern_slot(b"plain*") is None


def test_keys_patterns(db: Database) -> None:
    names = [b"{u1}:a", b"{u1}:b", b"{u1}x", b"{u2}:a", b"foo", b"foobar", b"a\\b", b"ab", b"h?"]
    for n in names:
        put_string(db, n, b"v")
    put_fake(db, b"{u1}:hash", FIELDS)
    assert sorted(generic.keys(db, b"*")) == sorted([*names, b"{u1}:hash"])
    assert sorted(generic.keys(db, b"{u1}:*")) == [b"{u1}:a", b"{u1}:b", b"{u1}:hash"]
    assert sorted(generic.keys(db, b"{u1}:*", L.T_HASH)) == [b"{u1}:hash"]
    assert generic.keys(db, b"foo") == [b"foo"]
    assert sorted(generic.keys(db, b"foo*")) == [b"foo", b"foobar"]
    assert generic.keys(db, b"a\\b") == [b"ab"]  # an escape: matches "ab", not "a\b"
    assert generic.keys(db, b"h\\?") == [b"h?"]
    assert generic.keys(db, b"nothing") == []


# --- SCAN --------------------------------------------------------------------------------
def full_scan(
    db: Database, count: int, cursors: generic.ScanCursors | None = None, **kw
) -> list[bytes]:  # type: ignore[no-untyped-def]
    cur = cursors or generic.ScanCursors()
    out: list[bytes] = []
    cursor = 0
    for _ in range(100_000):
        cursor, items = generic.scan(db, cursor, count, cursors=cur, **kw)
        out += items
        if cursor == 0:
            return out
    raise AssertionError("scan did not finish")


@pytest.mark.parametrize("count", [1, 3, 10, 1000])
def test_scan_returns_every_key_once_when_stable(db: Database, count: int) -> None:
    names = {b"key:%d" % i for i in range(300)} | {b"{t}%d" % i for i in range(50)}
    for n in names:
        put_string(db, n, b"v")
    got = full_scan(db, count)
    assert sorted(got) == sorted(names)  # no duplicates, nothing missing


def test_scan_match_type_and_cursor_bounds(db: Database) -> None:
    for i in range(40):
        put_string(db, b"s%d" % i, b"v")
        put_fake(db, b"h%d" % i, FIELDS)
    assert sorted(full_scan(db, 7, type_filter=b"HASH")) == sorted(b"h%d" % i for i in range(40))
    assert sorted(full_scan(db, 7, pattern=b"s1*")) == sorted(
        [b"s1", *(b"s1%d" % i for i in range(10))]
    )
    assert full_scan(db, 7, type_filter=b"nosuchtype") == []
    cur = generic.ScanCursors()
    cursor = 0
    while True:
        cursor, _ = generic.scan(db, cursor, 3, cursors=cur)
        assert 0 <= cursor < 1 << 63
        if cursor == 0:
            break


def test_scan_survives_cursor_eviction_and_restart(db: Database) -> None:
    names = {b"k%d" % i for i in range(400)}
    for n in names:
        put_string(db, n, b"v")
    # a map too small to remember anything useful: every token is forgotten at once
    tiny = generic.ScanCursors(capacity=0)
    assert set(full_scan(db, 2, tiny)) == names
    # a "restart" mid-scan: the cursor goes to a fresh map
    cur = generic.ScanCursors()
    seen: list[bytes] = []
    cursor, items = generic.scan(db, 0, 50, cursors=cur)
    seen += items
    fresh = generic.ScanCursors()
    while cursor:
        cursor, items = generic.scan(db, cursor, 50, cursors=fresh)
        seen += items
    assert set(seen) == names


def test_scan_with_concurrent_changes_returns_stable_keys(db: Database) -> None:
    rng = random.Random(7)
    stable = {b"stable:%d" % i for i in range(200)}
    for n in stable:
        put_string(db, n, b"v")
    cur = generic.ScanCursors(capacity=3)
    seen: set[bytes] = set()
    cursor = 0
    i = 0
    while True:
        cursor, items = generic.scan(db, cursor, 5, cursors=cur)
        seen.update(items)
        # churn: add and remove other keys between calls; eat tokens from other "clients"
        put_string(db, b"churn:%d" % i, b"v")
        generic.delete_keys(db, [b"churn:%d" % rng.randrange(i + 1)])
        cur.store(rng.randrange(16384), b"x")
        i += 1
        if cursor == 0:
            break
    assert stable <= seen


def test_scan_skips_expired(db: Database) -> None:
    put_string(db, b"live", b"v")
    put_string(db, b"dead", b"v", int(time.time() * 1000) - 1)
    assert full_scan(db, 10) == [b"live"]
    assert generic.keys(db, b"*") == [b"live"]


# --- RANDOMKEY ---------------------------------------------------------------------------
def test_random_key_small_and_large(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    assert generic.random_key(db) is None
    names = {b"r%d" % i for i in range(200)}
    for n in names:
        put_string(db, n, b"v")
    rng = random.Random(1)
    got = {generic.random_key(db, rng) for _ in range(2000)}
    assert got == names  # uniform over a small db: every key shows up
    monkeypatch.setattr(generic, "_SMALL_RANDOM", 0)
    monkeypatch.setattr(generic, "_SLOT_SAMPLE", 2)
    got = {generic.random_key(db, rng) for _ in range(3000)}
    assert got <= names and len(got) > 150


def test_random_key_ignores_expired(db: Database) -> None:
    put_string(db, b"dead", b"v", int(time.time() * 1000) - 1)
    assert generic.random_key(db) is None
    put_string(db, b"live", b"v")
    assert {generic.random_key(db) for _ in range(20)} == {b"live"}


# --- key-ordered range scans -------------------------------------------------------------
def _reference(
    names: dict[bytes, int], type_code: int, lo: bytes | None, hi: bytes | None, reverse: bool
) -> list[bytes]:
    ks = sorted(
        k
        for k, t in names.items()
        if t == type_code and (lo is None or k >= lo) and (hi is None or k <= hi)
    )
    return ks[::-1] if reverse else ks


@pytest.mark.parametrize("small_limit", [0, 10**9])
def test_range_scan_matches_reference(db: Database, small_limit: int) -> None:
    rng = random.Random(3)
    names: dict[bytes, int] = {}
    for _ in range(300):
        k = bytes(rng.choice(b"abcdeXYZ{}") for _ in range(rng.randint(1, 6)))
        if k in names:
            continue
        if rng.random() < 0.7:
            put_string(db, k, b"v:" + k)
            names[k] = L.T_STRING
        else:
            put_fake(db, k, {b"f": b"v"})
            names[k] = L.T_HASH
    put_string(db, b"expired", b"v", int(time.time() * 1000) - 1)
    for _ in range(40):
        t = rng.choice([L.T_STRING, L.T_HASH])
        a = bytes(rng.choice(b"abcdeXYZ") for _ in range(rng.randint(0, 3))) or None
        b = bytes(rng.choice(b"abcdeXYZ") for _ in range(rng.randint(0, 3))) or None
        reverse = rng.random() < 0.5
        lo, hi = (a, b) if a is None or b is None or a <= b else (b, a)
        start, end = (hi, lo) if reverse else (lo, hi)
        expect = _reference(names, t, lo, hi, reverse)
        limit = rng.randint(1, 50)
        res = generic.range_scan(db, t, start, end, None, limit, reverse, small_limit=small_limit)
        assert [k for k, _ in res.items] == expect[:limit]
        assert res.next_key == (expect[limit] if len(expect) > limit else b"")
    # MATCH filters before LIMIT counts
    res = generic.range_scan(db, L.T_STRING, None, None, b"a*", 1000, small_limit=small_limit)
    assert [k for k, _ in res.items] == [
        k for k in _reference(names, L.T_STRING, None, None, False) if k.startswith(b"a")
    ]
    assert all(raw[9:] == b"v:" + k for k, raw in res.items)


# --- PKPATTERNMATCHDEL -------------------------------------------------------------------
def test_pattern_delete(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generic, "DELETE_BATCH", 7)
    for i in range(50):
        put_string(db, b"del:%d" % i, b"v")
    put_fake(db, b"del:hash", FIELDS)
    put_string(db, b"keep", b"v")
    assert generic.pattern_delete(db, b"del:*", 10) == 10
    assert db.size() == 42
    assert generic.pattern_delete(db, b"del:*") == 41
    assert generic.keys(db, b"*") == [b"keep"]
    assert generic.pattern_delete(db, b"nomatch*") == 0


# --- DUMP / RESTORE registry -------------------------------------------------------------
def test_string_rdb_roundtrip_and_unsupported(db: Database) -> None:
    put_string(db, b"s", b"hello")
    mkey, raw = db.lookup(b"s")
    assert raw is not None
    assert generic.to_rdb(db, mkey, raw) == RdbValue("string", b"hello")
    exp = int(time.time() * 1000) + 50_000
    assert generic.restore(db, b"s", RdbValue("string", b"new"), exp, replace=False) is False
    assert generic.restore(db, b"s", RdbValue("string", b"new"), exp, replace=True) is True
    raw = db.lookup(b"s")[1]
    assert raw is not None and raw[9:] == b"new" and L.expire_of(raw) == exp
    # a past absolute time only deletes
    assert generic.restore(db, b"s", RdbValue("string", b"x"), 1, replace=True) is True
    assert db.lookup(b"s")[1] is None
    # restoring over a collection drops its sub-keys
    v = put_fake(db, b"h", FIELDS)
    generic.restore(db, b"h", RdbValue("string", b"x"), 0, replace=True)
    assert subkeys(db, b"h", v) == {}
    put_fake(db, b"h2", FIELDS)
    mkey, raw = db.lookup(b"h2")
    assert raw is not None
    if L.T_HASH not in generic._TO_RDB:
        with pytest.raises(CommandError, match="DUMP of a 'hash' value"):
            generic.to_rdb(db, mkey, raw)
    if "hash" not in generic.rdb_kinds():
        with pytest.raises(CommandError, match="RESTORE of a 'hash' value"):
            generic.restore(db, b"h3", RdbValue("hash", [(b"f", b"v")]), 0, replace=True)
