"""List storage on a real RocksDB: the meta/sub-key layout (head/tail positions around 2**63),
one commit per command, contiguous positions after middle operations (both shifting sides),
range deletes for LTRIM / multi-pops / deletion, version bump hides old items, expiry, the
DUMP/RESTORE conversion, and a randomized model check against a Python list."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.rdb import RdbValue
from pikadb.storage import generic, lists, strings
from pikadb.storage import layout as L
from pikadb.storage.binlog import decode_record
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database
from pikadb.storage.store import Store

MID = 1 << 63


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


def ref(db: Database, key: bytes) -> lists.ListRef:
    r = lists.get(db, key)
    assert r is not None
    return r


def positions_of(store: Store, r: lists.ListRef) -> list[int]:
    n = len(r.pfx)
    return [struct.unpack(">Q", k[n:])[0] for k, _ in data_under(store, r.pfx)]


def check_contiguous(store: Store, db: Database, key: bytes, model: list[bytes]) -> None:
    """Items at exactly [head, tail), in order, and the meta's size agrees."""
    r = lists.get(db, key)
    if not model:
        assert r is None
        return
    assert r is not None
    assert positions_of(store, r) == list(range(r.head, r.tail))
    assert [v for _, v in data_under(store, r.pfx)] == model
    meta = L.CollectionMeta.decode(r.raw)  # type: ignore[arg-type]
    assert meta.size == len(model) == r.size


# --- layout ------------------------------------------------------------------------------------
def test_layout_round_trip(store: Store, db: Database) -> None:
    assert lists.push(db, b"l", [b"a", b"b"], left=False, only_existing=False) == 2
    assert lists.push(db, b"l", [b"x", b"y"], left=True, only_existing=False) == 4
    mkey, raw = db.lookup(b"l")
    assert raw is not None and len(raw) == L.COLL_SIZE + 16
    meta = L.CollectionMeta.decode(raw)
    assert (meta.type, meta.expire_at, meta.size) == (L.T_LIST, 0, 4)
    head, tail = struct.unpack(">QQ", meta.extra)
    assert (head, tail) == (MID - 2, MID + 2)
    pfx = L.version_prefix(mkey, meta.version)
    assert data_under(store, pfx) == [
        (pfx + struct.pack(">Q", MID - 2), b"y"),
        (pfx + struct.pack(">Q", MID - 1), b"x"),
        (pfx + struct.pack(">Q", MID), b"a"),
        (pfx + struct.pack(">Q", MID + 1), b"b"),
    ]
    assert list(lists.items(db, mkey, raw)) == [b"y", b"x", b"a", b"b"]


def test_pushx_and_wrongtype(store: Store, db: Database) -> None:
    assert lists.push(db, b"l", [b"a"], left=True, only_existing=True) == 0
    assert db.lookup(b"l")[1] is None
    strings.write(db, db.mkey(b"s"), None, b"v")
    with pytest.raises(CommandError, match="WRONGTYPE"):
        lists.push(db, b"s", [b"a"], left=True, only_existing=False)
    with pytest.raises(CommandError, match="WRONGTYPE"):
        lists.get(db, b"s")
    assert lists.get_lenient(db, b"s") is None
    with pytest.raises(CommandError, match="WRONGTYPE"):
        lists.destination(db, b"s")


def test_one_commit_per_command(store: Store, db: Database) -> None:
    seq = store.seq
    lists.push(db, b"l", [b"%d" % i for i in range(10)], left=False, only_existing=False)
    lists.pop_many(db, ref(db, b"l"), left=True, count=3)
    lists.insert(db, ref(db, b"l"), True, b"5", b"new")
    lists.remove(db, ref(db, b"l"), 0, b"7")
    lists.trim(db, ref(db, b"l"), 1, -2)
    lists.move(db, ref(db, b"l"), lists.destination(db, b"d"), True, False)
    assert store.seq == seq + 6


# --- pops and trims are range deletes -----------------------------------------------------------
def test_pops_and_trim(store: Store, db: Database) -> None:
    items = [b"%d" % i for i in range(20)]
    lists.push(db, b"l", items, left=False, only_existing=False)
    assert lists.pop_one(db, ref(db, b"l"), left=True) == b"0"
    assert lists.pop_one(db, ref(db, b"l"), left=False) == b"19"
    assert lists.pop_many(db, ref(db, b"l"), left=True, count=3) == [b"1", b"2", b"3"]
    assert lists.pop_many(db, ref(db, b"l"), left=False, count=3) == [b"18", b"17", b"16"]
    model = items[4:16]
    check_contiguous(store, db, b"l", model)
    lists.trim(db, ref(db, b"l"), 2, -3)
    model = model[2:-2]
    check_contiguous(store, db, b"l", model)
    seq = store.seq
    lists.trim(db, ref(db, b"l"), 0, -1)  # the whole list: nothing to write
    assert store.seq == seq
    rec = None
    lists.trim(db, ref(db, b"l"), 1, 1)
    for _, raw in store.binlog_range(store.seq):
        rec = decode_record(raw)
    assert rec is not None
    assert sum(1 for op in rec.ops if op[0] == 3) == 2  # two range deletes, no per-item ops
    check_contiguous(store, db, b"l", model[1:2])
    lists.trim(db, ref(db, b"l"), 5, 10)
    check_contiguous(store, db, b"l", [])


def test_popping_everything_deletes_the_key(store: Store, db: Database) -> None:
    lists.push(db, b"l", [b"a", b"b"], left=False, only_existing=False)
    r = ref(db, b"l")
    assert lists.pop_many(db, r, left=False, count=10) == [b"b", b"a"]
    assert db.lookup(b"l")[1] is None
    assert data_under(store, r.pfx) == []
    assert store.key_count(db.table) == 0


# --- middle operations keep positions contiguous --------------------------------------------------
@pytest.mark.parametrize("pivot", [0, 1, 5, 10, 18, 19])
@pytest.mark.parametrize("after", [False, True])
def test_insert_both_sides(store: Store, db: Database, pivot: int, after: bool) -> None:
    model = [b"%d" % i for i in range(20)]
    lists.push(db, b"l", model, left=False, only_existing=False)
    n = lists.insert(db, ref(db, b"l"), after, model[pivot], b"new")
    model.insert(pivot + 1 if after else pivot, b"new")
    assert n == len(model)
    check_contiguous(store, db, b"l", model)
    assert lists.insert(db, ref(db, b"l"), after, b"nope", b"x") == -1


@pytest.mark.parametrize(
    "hits", [[0], [19], [0, 1], [18, 19], [0, 19], [3, 4, 15], [2, 9, 10, 11], list(range(20))]
)
def test_remove_both_sides(store: Store, db: Database, hits: list[int]) -> None:
    model = [b"x" if i in hits else b"%d" % i for i in range(20)]
    lists.push(db, b"l", model, left=False, only_existing=False)
    assert lists.remove(db, ref(db, b"l"), 0, b"x") == len(hits)
    check_contiguous(store, db, b"l", [v for v in model if v != b"x"])


def test_set_and_index(store: Store, db: Database) -> None:
    lists.push(db, b"l", [b"a", b"b", b"c"], left=False, only_existing=False)
    r = ref(db, b"l")
    assert lists.set_(db, r, -1, b"C") and lists.set_(db, r, 0, b"A")
    assert not lists.set_(db, r, 3, b"x") and not lists.set_(db, r, -4, b"x")
    assert [lists.index(db, r, i) for i in (0, 1, 2, 3, -1, -3, -4)] == [
        b"A", b"b", b"C", None, b"C", b"A", None,
    ]  # fmt: skip


def test_positions(store: Store, db: Database) -> None:
    lists.push(db, b"l", [b"a", b"b", b"a", b"c", b"a"], left=False, only_existing=False)
    r = ref(db, b"l")
    assert lists.positions(db, r, b"a", 1, 0, 0) == [0, 2, 4]
    assert lists.positions(db, r, b"a", -1, 2, 0) == [4, 2]
    assert lists.positions(db, r, b"a", 2, 1, 0) == [2]
    assert lists.positions(db, r, b"a", 1, 0, 2) == [0]
    assert lists.positions(db, r, b"a", -1, 0, 2) == [4]
    assert lists.positions(db, r, b"a", -(1 << 63), 1, 0) == [4, 2, 0]
    assert lists.positions(db, r, b"z", 1, 0, 0) == []


def test_move_rotation_and_between_keys(store: Store, db: Database) -> None:
    lists.push(db, b"l", [b"a", b"b", b"c"], left=False, only_existing=False)
    assert lists.move(db, ref(db, b"l"), lists.destination(db, b"l"), True, False) == b"a"
    check_contiguous(store, db, b"l", [b"b", b"c", b"a"])
    assert lists.move(db, ref(db, b"l"), lists.destination(db, b"d"), False, True) == b"a"
    check_contiguous(store, db, b"d", [b"a"])
    lists.push(db, b"one", [b"x"], left=False, only_existing=False)
    assert lists.move(db, ref(db, b"one"), lists.destination(db, b"one"), True, False) == b"x"
    check_contiguous(store, db, b"one", [b"x"])


# --- versions, deletion, expiry ------------------------------------------------------------------
def test_version_bump_hides_old_items_and_range_delete_reclaims(store: Store, db: Database) -> None:
    lists.push(db, b"l", [b"old1", b"old2"], left=False, only_existing=False)
    old = ref(db, b"l")
    assert generic.delete_keys(db, [b"l"]) == 1
    assert data_under(store, old.pfx) == []  # one range tombstone
    lists.push(db, b"l", [b"new"], left=False, only_existing=False)
    new = ref(db, b"l")
    assert new.version > old.version
    assert list(lists.items(db, new.mkey, new.raw)) == [b"new"]  # type: ignore[arg-type]
    # overwriting with another type drops the items too
    strings.write(db, new.mkey, new.raw, b"string")
    assert data_under(store, new.pfx) == []


def test_expired_list_is_invisible_and_deleted(store: Store, db: Database) -> None:
    lists.push(db, b"l", [b"a"], left=False, only_existing=False)
    r = ref(db, b"l")
    assert generic.expire_at(db, b"l", now_ms() + 60_000) == 1
    lists.push(db, b"l", [b"b"], left=False, only_existing=False)
    assert L.expire_of(db.lookup(b"l")[1]) > now_ms()  # type: ignore[arg-type]
    b = store.batch()
    b.put_meta(r.mkey, db.lookup(b"l")[1], L.with_expire(db.lookup(b"l")[1], 1))  # type: ignore[arg-type]
    store.commit(b)
    assert lists.get(db, b"l") is None
    assert data_under(store, r.pfx) == []


def test_rdb_round_trip(store: Store, db: Database) -> None:
    values = [b"a", b"", b"1", b"\x00" * 5, b"z" * 1000]
    assert generic.restore(db, b"k", RdbValue("list", values), 0, False)
    mkey, raw = db.lookup(b"k")
    assert raw is not None
    assert generic.to_rdb(db, mkey, raw) == RdbValue("list", values)
    check_contiguous(store, db, b"k", values)
    assert generic.restore(db, b"k", RdbValue("list", [b"x"]), now_ms() + 10_000, True)
    assert list(lists.items(db, *db.lookup(b"k"))) == [b"x"]  # type: ignore[arg-type]
    with pytest.raises(CommandError):
        generic.restore(db, b"k2", RdbValue("list", [1, 2]), 0, False)


# --- a model check ------------------------------------------------------------------------------
def test_random_operations_match_a_python_list(store: Store, db: Database) -> None:
    rnd = random.Random(7)
    model: list[bytes] = []
    for step in range(600):
        op = rnd.randrange(9)
        v = b"%d" % rnd.randrange(8)
        r = lists.get(db, b"l")
        if op <= 1 or r is None:
            left = op == 0
            lists.push(db, b"l", [v], left=left, only_existing=False)
            model = [v, *model] if left else [*model, v]
        elif op == 2:
            n = rnd.randrange(1, 4)
            left = rnd.random() < 0.5
            got = lists.pop_many(db, r, left=left, count=n)
            if left:
                assert got == model[:n]
                model = model[n:]
            else:
                assert got == model[::-1][:n]
                model = model[: max(0, len(model) - n)]
        elif op == 3:
            after = rnd.random() < 0.5
            pivot = b"%d" % rnd.randrange(8)
            n = lists.insert(db, r, after, pivot, v)
            if pivot in model:
                i = model.index(pivot)
                model.insert(i + 1 if after else i, v)
                assert n == len(model)
            else:
                assert n == -1
        elif op == 4:
            count = rnd.randrange(-2, 3)
            removed = lists.remove(db, r, count, v)
            idx = [i for i, x in enumerate(model) if x == v]
            if count < 0:
                idx = idx[::-1][:-count]
            elif count > 0:
                idx = idx[:count]
            assert removed == len(idx)
            model = [x for i, x in enumerate(model) if i not in set(idx)]
        elif op == 5:
            i = rnd.randrange(-len(model) - 1, len(model) + 1)
            ok = lists.set_(db, r, i, v)
            assert ok == (-len(model) <= i < len(model))
            if ok:
                model[i] = v
        elif op == 6:
            a, b = rnd.randrange(-5, 8), rnd.randrange(-5, 8)
            lists.trim(db, r, a, b)
            rng = lists.normalize_range(len(model), a, b)
            model = [] if rng is None else model[rng[0] : rng[1]]
        elif op == 7:
            a, b = rnd.randrange(-5, 8), rnd.randrange(-5, 8)
            rng = lists.normalize_range(len(model), a, b)
            assert lists.range_(db, r, a, b) == ([] if rng is None else model[rng[0] : rng[1]])
        else:
            left_from, left_to = rnd.random() < 0.5, rnd.random() < 0.5
            moved = lists.move(db, r, lists.destination(db, b"l"), left_from, left_to)
            assert moved == model.pop(0 if left_from else -1)
            model = [moved, *model] if left_to else [*model, moved]
        check_contiguous(store, db, b"l", model)
        assert step >= 0
