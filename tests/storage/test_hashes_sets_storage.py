"""Hash and set storage on a real RocksDB: meta/sub-key round trips, one commit per command,
version bump hides old members, range deletes reclaim them, expiry, the big-encoding flag,
SSCAN/HSCAN paging, the random sampler (bounded reads, rough uniformity) and SPOP's effect in
the binlog."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.storage import generic, hashes, sets
from pikadb.storage import layout as L
from pikadb.storage.binlog import OP_DELETE, decode_record
from pikadb.storage.engine import DATA, Cursor, Engine
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


def data_under(store: Store, pfx: bytes) -> list[tuple[bytes, bytes]]:
    return list(store.engine.scan(DATA, pfx, L.prefix_end(pfx)))


# --- layout round trips ------------------------------------------------------------------------
def test_hash_layout_round_trip(store: Store, db: Database) -> None:
    assert hashes.set_fields(db, b"h", [b"f1", b"v1", b"f2", b"v2"]) == 2
    mkey, raw = db.lookup(b"h")
    assert raw is not None
    meta = L.CollectionMeta.decode(raw)
    assert (meta.type, meta.expire_at, meta.size, meta.extra) == (L.T_HASH, 0, 2, b"")
    pfx = L.version_prefix(mkey, meta.version)
    assert data_under(store, pfx) == [(pfx + b"f1", b"v1"), (pfx + b"f2", b"v2")]
    assert hashes.items(db, b"h") == [(b"f1", b"v1"), (b"f2", b"v2")]


def test_set_layout_round_trip(store: Store, db: Database) -> None:
    assert sets.add(db, b"s", [b"b", b"a", b"b"]) == 2
    mkey, raw = db.lookup(b"s")
    assert raw is not None
    meta = L.CollectionMeta.decode(raw)
    assert (meta.type, meta.size, meta.extra) == (L.T_SET, 2, sets.BIG)  # non-integers
    pfx = L.version_prefix(mkey, meta.version)
    assert data_under(store, pfx) == [(pfx + b"a", b""), (pfx + b"b", b"")]


def test_one_commit_per_command(store: Store, db: Database) -> None:
    seq = store.seq
    hashes.set_fields(db, b"h", [b"a", b"1", b"b", b"2", b"c", b"3"])
    sets.add(db, b"s", [b"1", b"2", b"3"])
    hashes.delete_fields(db, b"h", [b"a", b"b"])
    sets.pop(db, b"s", 2)
    sets.store_combined(db, b"d", [b"s", b"s"], sets.UNION)
    assert store.seq == seq + 5
    sets.add(db, b"s", sets.members(db, b"s"))  # nothing added: nothing written
    hashes.delete_fields(db, b"h", [b"zz"])
    assert store.seq == seq + 5


def test_wrongtype_changes_nothing(store: Store, db: Database) -> None:
    sets.add(db, b"s", [b"x"])
    seq = store.seq
    for fn in (
        lambda: hashes.set_fields(db, b"s", [b"f", b"v"]),
        lambda: hashes.get(db, b"s", b"f"),
        lambda: hashes.update_field(db, b"s", b"f", lambda old: b"1"),
        lambda: hashes.delete_fields(db, b"s", [b"x"]),
    ):
        with pytest.raises(CommandError, match="WRONGTYPE"):
            fn()
    hashes.set_fields(db, b"h", [b"f", b"v"])
    with pytest.raises(CommandError, match="WRONGTYPE"):
        sets.add(db, b"h", [b"x"])
    with pytest.raises(CommandError, match="WRONGTYPE"):
        sets.combine(db, [b"missing", b"h"], sets.INTER)
    assert store.seq == seq + 1
    assert sets.members(db, b"s") == [b"x"]


# --- versions, deletion, expiry ------------------------------------------------------------------
def test_version_bump_hides_old_members_and_gc_reclaims(store: Store, db: Database) -> None:
    sets.add(db, b"s", [b"%d" % i for i in range(100)])
    mkey, raw = db.lookup(b"s")
    assert raw is not None
    old_pfx = sets.data_prefix(mkey, raw)
    assert len(data_under(store, old_pfx)) == 100
    assert generic.delete_keys(db, [b"s"]) == 1
    assert data_under(store, old_pfx) == []  # one range tombstone hides all 100
    sets.add(db, b"s", [b"new"])
    assert sets.members(db, b"s") == [b"new"]
    _, raw2 = db.lookup(b"s")
    assert raw2 is not None and L.version_of(raw2) > L.version_of(raw)
    store.engine.compact()
    assert data_under(store, old_pfx) == []


def test_overwrite_by_store_bumps_version(store: Store, db: Database) -> None:
    sets.add(db, b"d", [b"old1", b"old2"])
    sets.add(db, b"a", [b"x"])
    mkey, raw = db.lookup(b"d")
    assert raw is not None
    assert sets.store_combined(db, b"d", [b"a"], sets.UNION) == 1
    assert sets.members(db, b"d") == [b"x"]
    assert data_under(store, sets.data_prefix(mkey, raw)) == []
    assert sets.store_combined(db, b"d", [b"missing"], sets.UNION) == 0
    assert db.lookup(b"d")[1] is None


def test_emptied_collections_are_deleted(store: Store, db: Database) -> None:
    hashes.set_fields(db, b"h", [b"a", b"1"])
    sets.add(db, b"s", [b"a"])
    n = db.size()
    hashes.delete_fields(db, b"h", [b"a"])
    sets.remove(db, b"s", [b"a"])
    assert db.size() == n - 2
    assert db.lookup(b"h")[1] is None and db.lookup(b"s")[1] is None


def test_expired_collection_is_hidden_and_reclaimed(store: Store, db: Database) -> None:
    hashes.set_fields(db, b"h", [b"a", b"1", b"b", b"2"])
    mkey, raw = db.lookup(b"h")
    assert raw is not None
    pfx = sets.data_prefix(mkey, raw)
    assert generic.expire_at(db, b"h", now_ms() + 100_000) == 1
    hashes.set_fields(db, b"h", [b"c", b"3"])  # writes keep the TTL
    assert L.expire_of(db.lookup(b"h")[1] or b"") > now_ms()
    b = store.batch()
    b.put_meta(mkey, db.lookup(b"h")[1], L.with_expire(db.lookup(b"h")[1] or b"", now_ms() - 1))
    store.commit(b)
    assert hashes.get(db, b"h", b"a") is None  # lazily deleted on access
    assert data_under(store, pfx) == []
    assert hashes.set_fields(db, b"h", [b"z", b"9"]) == 1
    assert hashes.items(db, b"h") == [(b"z", b"9")]


# --- big-encoding flag ---------------------------------------------------------------------
def test_hash_big_flag_is_sticky(db: Database) -> None:
    hashes.set_fields(db, b"h", [b"f", b"x" * 65])
    assert hashes.encoding(db, *db.lookup(b"h")) == b"hashtable"  # type: ignore[arg-type]
    hashes.set_fields(db, b"h", [b"f", b"short"])
    assert hashes.encoding(db, *db.lookup(b"h")) == b"hashtable"  # type: ignore[arg-type]
    hashes.set_fields(db, b"g", [x for i in range(512) for x in (b"f%d" % i, b"v")])
    assert hashes.encoding(db, *db.lookup(b"g")) == b"listpack"  # type: ignore[arg-type]
    hashes.set_fields(db, b"g", [b"one-more", b"v"])
    hashes.delete_fields(db, b"g", [b"f1", b"f2"])
    assert hashes.encoding(db, *db.lookup(b"g")) == b"hashtable"  # type: ignore[arg-type]


def test_set_big_flag(db: Database) -> None:
    sets.add(db, b"s", [b"%d" % i for i in range(512)])
    assert sets.encoding(db, *db.lookup(b"s")) == b"intset"  # type: ignore[arg-type]
    sets.add(db, b"s", [b"512"])
    assert sets.encoding(db, *db.lookup(b"s")) == b"hashtable"  # type: ignore[arg-type]
    sets.add(db, b"t", [b"1", b"01"])  # "01" is not a canonical integer
    assert sets.encoding(db, *db.lookup(b"t")) == b"hashtable"  # type: ignore[arg-type]
    sets.add(db, b"u", [b"-9223372036854775808", b"9223372036854775807"])
    assert sets.encoding(db, *db.lookup(b"u")) == b"intset"  # type: ignore[arg-type]


# --- scans ---------------------------------------------------------------------------------------
def test_scan_pages_and_resumes(db: Database) -> None:
    members = [b"m%04d" % i for i in range(1000)]
    sets.add(db, b"s", members)
    mkey, raw = db.lookup(b"s")
    assert raw is not None
    cursor, seen, calls = 0, [], 0
    while True:
        cursor, items = sets.scan_entries(db, mkey, raw, cursor, 100, None, False)
        seen += [m for m, _ in items]
        calls += 1
        if cursor == 0:
            break
    assert seen == members and calls == 10
    # MATCH narrows the range read to the pattern's literal prefix
    cursor, items = sets.scan_entries(db, mkey, raw, 0, 1000, b"m00[1-2]*", False)
    assert cursor == 0 and [m for m, _ in items] == members[10:30]


def test_scan_cursor_of_another_version_restarts(db: Database) -> None:
    sets.add(db, b"s", [b"%03d" % i for i in range(50)])
    mkey, raw = db.lookup(b"s")
    assert raw is not None
    cursor, _ = sets.scan_entries(db, mkey, raw, 0, 10, None, False)
    generic.delete_keys(db, [b"s"])
    sets.add(db, b"s", [b"a", b"b"])
    mkey, raw = db.lookup(b"s")
    assert raw is not None
    assert sets.scan_entries(db, mkey, raw, cursor, 10, None, False) == (
        0,
        [(b"a", b""), (b"b", b"")],
    )


def test_hash_range_scans(db: Database) -> None:
    hashes.set_fields(db, b"h", [x for c in b"abcdefg" for x in (bytes([c]), b"v%c" % c)])
    assert hashes.range_scan(db, b"h", b"b", b"", None, 3) == (
        b"e",
        [(b"b", b"vb"), (b"c", b"vc"), (b"d", b"vd")],
    )
    assert hashes.range_scan(db, b"h", b"b", b"d", None, 3) == (
        b"",
        [(b"b", b"vb"), (b"c", b"vc"), (b"d", b"vd")],
    )
    assert hashes.range_scan(db, b"h", b"f", b"b", b"[bdf]", 10, reverse=True) == (
        b"",
        [(b"f", b"vf"), (b"d", b"vd"), (b"b", b"vb")],
    )
    assert hashes.range_scan(db, b"h", b"", b"", None, 2, reverse=True)[0] == b"e"
    assert hashes.range_scan(db, b"missing", b"", b"", None, 2) == (b"", [])


# --- random sampling ----------------------------------------------------------------------------
class CountingEngine:
    """An Engine wrapper counting the entries every scan yields and every cursor lands on."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.read = 0

    def scan(self, *args: object, **kw: object) -> Iterator[tuple[bytes, bytes]]:
        for item in self.engine.scan(*args, **kw):  # type: ignore[arg-type]
            self.read += 1
            yield item

    def cursor(self, *args: object) -> CountingCursor:
        return CountingCursor(self, self.engine.cursor(*args))  # type: ignore[arg-type]


class CountingCursor:
    def __init__(self, owner: CountingEngine, cur: Cursor) -> None:
        self.owner, self.cur = owner, cur

    def __getattr__(self, name: str) -> Callable[..., object]:
        fn = getattr(self.cur, name)

        def counted(*args: object) -> object:
            if name != "value":
                self.owner.read += 1
            return fn(*args)

        return counted


def _big_set(db: Database, members: list[bytes]) -> bytes:
    for i in range(0, len(members), 5000):
        sets.add(db, b"big", members[i : i + 5000])
    mkey, raw = db.lookup(b"big")
    assert raw is not None
    return sets.data_prefix(mkey, raw)


MEMBER_SHAPES = {
    "decimal": lambda i, rnd: b"%d" % i,
    "item:n": lambda i, rnd: b"item:%d" % i,
    "hex": lambda i, rnd: rnd.randbytes(8).hex().encode(),
    "binary": lambda i, rnd: rnd.randbytes(12),
    "words": lambda i, rnd: b"user:" + bytes(rnd.choices(b"abcdefghijklmnopqrstuvwxyz", k=8)),
    "uuid": lambda i, rnd: b"%08x-%04x" % (rnd.getrandbits(32), rnd.getrandbits(16)),
    "mixed": lambda i, rnd: b"a:%d" % i if i % 2 else b"zz:%d" % (i * 7),
}
MIXED = pytest.mark.xfail(
    strict=True,
    reason="known limitation: unrelated key shapes in one collection (see storage/sets.py)",
)


@pytest.mark.parametrize(
    "shape", [pytest.param(s, marks=MIXED) if s == "mixed" else s for s in sorted(MEMBER_SHAPES)]
)
def test_sampler_is_bounded_and_roughly_uniform(db: Database, shape: str) -> None:
    rnd = random.Random(7)
    n = 20_000
    members = sorted({MEMBER_SHAPES[shape](i, rnd) for i in range(n)})
    pfx = _big_set(db, members)
    size = len(members)
    eng = CountingEngine(db.engine)
    picks = 4000
    got = [
        m
        for _ in range(picks // 10)
        for m, _ in sets.sample(eng, pfx, size, 10, True, rnd)  # type: ignore[arg-type]
    ]
    assert eng.read < picks * 60  # bounded: a few seeks per pick, never the 20000 entries
    rank = {m: i for i, m in enumerate(members)}
    deciles = Counter(rank[m] * 10 // size for m in got)
    share = [deciles[d] / len(got) for d in range(10)]
    # every tenth of the members (in key order) gets 7%..13% of the picks
    assert min(share) > 0.07 and max(share) < 0.13, (shape, share)
    # as many distinct picks as uniform draws give (4000 of 20000: ~90% distinct)
    assert len(set(got)) > len(got) * 0.8


def test_sampler_exact_paths(db: Database) -> None:
    rnd = random.Random(1)
    sets.add(db, b"small", [b"%d" % i for i in range(10)])
    mkey, raw = db.lookup(b"small")
    assert raw is not None
    pfx = sets.data_prefix(mkey, raw)
    assert sorted(m for m, _ in sets.sample(db.engine, pfx, 10, 20, True, rnd)) == sorted(
        b"%d" % i for i in range(10)
    )
    five = sets.sample(db.engine, pfx, 10, 5, True, rnd)
    assert len({m for m, _ in five}) == 5
    assert len(sets.sample(db.engine, pfx, 10, 30, False, rnd)) == 30
    counts = Counter(m for m, _ in sets.sample(db.engine, pfx, 10, 20_000, False, rnd))
    assert min(counts.values()) > 1500 and max(counts.values()) < 2500
    # a large fraction of a big set: one pass, exact, distinct
    big = [b"%05d" % i for i in range(3000)]
    bpfx = _big_set(db, big)
    picks = sets.sample(db.engine, bpfx, 3000, 2000, True, rnd)
    assert len({m for m, _ in picks}) == 2000


def test_spop_effect_is_in_the_binlog(store: Store, db: Database) -> None:
    sets.add(db, b"s", [b"%d" % i for i in range(10)])
    seq = store.seq
    popped = sets.pop(db, b"s", 3)
    assert store.seq == seq + 1
    rec = decode_record(dict(store.binlog_range(seq + 1))[seq + 1])
    deleted = {k for kind, cf, k, _ in rec.ops if kind == OP_DELETE and cf == DATA}
    mkey, raw = db.lookup(b"s")
    assert raw is not None
    pfx = sets.data_prefix(mkey, raw)
    assert deleted == {pfx + m for m in popped}
    assert sets.card(db, b"s") == 7


def test_spop_big_count_rebuilds_encoding(db: Database) -> None:
    sets.add(db, b"s", [b"a", *(b"%d" % i for i in range(10))])
    popped = sets.pop(db, b"s", 10, random.Random(3))
    left = sets.members(db, b"s")
    assert len(popped) == 10 and len(left) == 1 and set(popped).isdisjoint(left)
    want = b"intset" if left[0] != b"a" else b"hashtable"
    assert sets.encoding(db, *db.lookup(b"s")) == want  # type: ignore[arg-type]
