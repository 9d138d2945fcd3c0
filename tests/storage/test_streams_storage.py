"""Stream storage on a real RocksDB: the meta / node / entry / group record codecs round trip,
the sub-key layout (tags, big-endian ids, per-group records), one commit per command, node
bookkeeping mirroring Redis's listpack boundaries (checked against the DUMP codec's own
node splitter and listpack encoder), trimming whole nodes, overlay reads inside a command,
large streams and PELs read in bounded pieces, and DUMP/RESTORE values round tripping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pikadb.core.errors import CommandError
from pikadb.rdb import listpack
from pikadb.rdb.stream import StreamValue
from pikadb.storage import layout as L
from pikadb.storage import streams as S
from pikadb.storage import streams_groups as SG
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database
from pikadb.storage.store import Store

U64 = (1 << 64) - 1
ids = st.tuples(st.integers(0, U64), st.integers(0, U64))
blobs = st.binary(max_size=40)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "db"), databases=2)
    yield s
    s.close()


@pytest.fixture
def db(store: Store) -> Database:
    return store.databases[0]


def add(db: Database, key: bytes, i: S.ID, *items: bytes, trim: S.TrimArgs | None = None) -> S.ID:
    got = S.add(db, key, S.ID_EXPLICIT, i, list(items) or [b"f", b"v"], False, trim)
    assert got is not None
    return got[0]


def under(store: Store, pfx: bytes) -> list[tuple[bytes, bytes]]:
    return list(store.engine.scan(DATA, pfx, L.prefix_end(pfx)))


# --- codecs ----------------------------------------------------------------------------------
@given(st.lists(blobs, max_size=12))
def test_items_round_trip(items: list[bytes]) -> None:
    assert S.decode_items(S.encode_items(items)) == items


@given(
    st.integers(0, U64), st.integers(0, U64), ids, ids, ids,
    st.integers(0, U64), st.integers(0, U64), st.integers(0, U64), ids, st.integers(0, U64),
)  # fmt: skip
def test_meta_round_trip(
    exp: int, ver: int, last: S.ID, first: S.ID, maxdel: S.ID, added: int, groups: int,
    nodes: int, tail: S.ID, length: int,
) -> None:  # fmt: skip
    m = S.StreamMeta(exp, ver, length, last, first, maxdel, added, groups, nodes, first, tail, 7)
    raw = m.encode()
    assert raw[0] == L.T_STREAM and L.expire_of(raw) == exp and L.version_of(raw) == ver
    assert L.CollectionMeta.decode(raw).size == length
    assert S.StreamMeta.decode(raw) == m


@given(
    ids,
    st.integers(0, 100),
    st.integers(0, 100),
    st.integers(0, 2**32 - 1),
    ids,
    st.lists(blobs, max_size=5),
)
def test_node_round_trip(
    master: S.ID, live: int, deleted: int, size: int, last: S.ID, fields: list[bytes]
) -> None:
    n = S.Node(master, live, deleted, size, last, fields)
    assert S.Node.decode(master, n.encode()) == n


@given(ids, ids)
def test_ids_sort_like_their_keys(a: S.ID, b: S.ID) -> None:
    assert (a < b) == (S.pack_id(a) < S.pack_id(b))
    assert S.unpack_id(S.pack_id(a)) == a
    nxt = S.incr_id(a)
    assert nxt is None if a == S.MAX_ID else nxt > a and S.decr_id(nxt) == a


def test_group_records_round_trip(db: Database) -> None:
    add(db, b"s", (1, 1))
    s = S.open_stream(db, b"s")
    assert s is not None
    gv = SG.create_group(s, b"g\x00name", (1, 1), -1)
    assert gv is not None and SG.create_group(s, b"g\x00name", (0, 0), 0) is None
    c = gv.create_consumer(b"c 1", 123)
    assert c is not None
    gv.add_pending((1, 1), c, 456, 3)
    gv.flush()
    s.commit()
    s = S.open_stream(db, b"s")
    assert s is not None
    gv2 = SG.group(s, b"g\x00name")
    assert gv2 is not None
    assert gv2.g == SG.Group(b"g\x00name", 1, (1, 1), -1, 1, 1)
    assert [(x.name, x.seen, x.pel) for x in gv2.iter_consumers()] == [(b"c 1", 123, 1)]
    assert list(gv2.iter_pending()) == [SG.Pending((1, 1), b"c 1", 456, 3)]
    assert list(gv2.iter_consumer_ids(b"c 1")) == [(1, 1)]


# --- layout ----------------------------------------------------------------------------------
def test_sub_key_layout(store: Store, db: Database) -> None:
    add(db, b"k", (5, 1), b"a", b"1")
    add(db, b"k", (5, 2), b"a", b"2")
    mkey, raw = db.lookup(b"k")
    assert raw is not None and raw[0] == L.T_STREAM
    pfx = L.version_prefix(mkey, L.version_of(raw))
    rows = under(store, pfx)
    assert [k[len(pfx) :] for k, _ in rows] == [
        b"e" + S.pack_id((5, 1)),
        b"e" + S.pack_id((5, 2)),
        b"n" + S.pack_id((5, 1)),
    ]
    assert S.decode_items(rows[1][1]) == [b"a", b"2"]
    meta = S.StreamMeta.decode(raw)
    assert (meta.length, meta.last_id, meta.first_id, meta.entries_added, meta.nodes) == (
        2, (5, 2), (5, 1), 2, 1,
    )  # fmt: skip


def test_one_commit_per_command(store: Store, db: Database) -> None:
    seq = store.seq
    for n in range(1, 30):
        add(db, b"k", (n, 0), b"f", b"v")
    S.delete(db, b"k", [(3, 0), (4, 0), (99, 0)])
    S.trim(db, b"k", S.TrimArgs("maxlen", maxlen=10))
    add(db, b"k", (50, 0), trim=S.TrimArgs("minid", minid=(25, 0)))
    S.set_id(db, b"k", (60, 0), -1, S.MIN_ID)
    assert store.seq == seq + 29 + 4
    S.delete(db, b"k", [(1, 0)])  # gone already: nothing written
    S.trim(db, b"k", S.TrimArgs("maxlen", maxlen=100))
    assert store.seq == seq + 33


def test_wrongtype_and_missing(store: Store, db: Database) -> None:
    b = store.batch()
    mkey, old = db.lookup(b"str")
    b.put_meta(mkey, old, L.encode_string(b"x"))
    store.commit(b)
    with pytest.raises(CommandError, match="WRONGTYPE"):
        add(db, b"str", (1, 1))
    with pytest.raises(CommandError, match="WRONGTYPE"):
        S.length(db, b"str")
    assert S.length(db, b"nope") == 0
    assert S.range_entries(db, b"nope", S.MIN_ID, S.MAX_ID, 0, False) is None
    assert S.add(db, b"nope", S.ID_AUTO, S.MIN_ID, [b"f", b"v"], True, None) is None
    assert db.lookup(b"nope")[1] is None


# --- nodes mirror Redis's listpacks ----------------------------------------------------------
def _node_listpack(entries: list[tuple[S.ID, list[bytes]]]) -> bytes:
    """The listpack streamAppendItem builds for ``entries`` (the first gives the master)."""
    master, first = entries[0]
    mfields = first[0::2]
    items: list[bytes | int] = [len(entries), 0, len(mfields), *mfields, 0]
    for (ms, seq), it in entries:
        fields, values = it[0::2], it[1::2]
        d = [ms - master[0], seq - master[1]]
        if fields == mfields:
            items += [2, *d, *values, len(values) + 3]
        else:
            items += [0, *d, len(fields), *it, 2 * len(fields) + 4]
    return listpack.encode(items)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.integers(0, 2),
            st.lists(
                st.tuples(st.sampled_from([b"f", b"g", b"123", b"-5"]), st.binary(max_size=300)),
                min_size=1,
                max_size=3,
            ),
        ),
        min_size=1,
        max_size=300,
    )
)
def test_node_sizes_are_listpack_sizes(
    store: Store, rows: list[tuple[int, int, list[tuple[bytes, bytes]]]]
) -> None:
    """Appending only: each node's byte count is its listpack's exact size, and a node
    closes exactly where streamAppendItem closes it (lp-bytes + the new entry's string
    lengths >= 4096, or 100 entries). Real Redis agrees: tests/differential/test_streams.py."""
    db = store.databases[1]
    mkey, raw = db.lookup(b"k")
    if raw is not None:
        b = store.batch()
        b.delete_key(mkey, raw)
        store.commit(b)
    ms = 0
    made: list[tuple[S.ID, list[bytes]]] = []
    for dms, seq, pairs in rows:
        ms += dms
        items = [x for p in pairs for x in p]
        add(db, b"k", (ms, seq), *items)
        made.append(((ms, seq), items))
    s = S.open_stream(db, b"k")
    assert s is not None
    nodes = list(s.iter_nodes())
    masters = [n.master for n in nodes]
    assert masters[0] == made[0][0]
    pos = 0
    for k, node in enumerate(nodes):
        end = masters[k + 1] if k + 1 < len(masters) else S.MAX_ID
        mine = [e for e in made if node.master <= e[0] < end]
        assert made[pos : pos + len(mine)] == mine
        pos += len(mine)
        assert node.live == len(mine) and node.last == mine[-1][0]
        lp = _node_listpack(mine)
        assert node.lp_bytes == len(lp)
        for j in range(1, len(mine)):  # every entry but the first fitted
            before = len(_node_listpack(mine[:j]))
            assert before + sum(map(len, mine[j][1])) < S.NODE_MAX_BYTES
            assert j < S.NODE_MAX_ENTRIES
        if k + 1 < len(nodes):  # and the next one did not
            nxt = made[pos]
            full = len(mine) >= S.NODE_MAX_ENTRIES
            assert full or len(lp) + sum(map(len, nxt[1])) >= S.NODE_MAX_BYTES


def test_trimming_removes_whole_nodes(db: Database) -> None:
    for n in range(1, 251):
        add(db, b"k", (n, 0), b"f", b"v")
    s = S.open_stream(db, b"k")
    assert s is not None
    assert [n.live for n in s.iter_nodes()] == [100, 100, 50]
    assert S.trim(db, b"k", S.TrimArgs("maxlen", maxlen=120, approx=True, limit=10_000)) == 100
    assert S.trim(db, b"k", S.TrimArgs("maxlen", maxlen=120, approx=True, limit=10_000)) == 0
    assert S.trim(db, b"k", S.TrimArgs("maxlen", maxlen=120)) == 30
    m = S.meta_of(db, b"k")
    assert m is not None and (m.length, m.first_id, m.nodes) == (120, (131, 0), 2)
    # the half-trimmed node keeps its tombstones: MINID ~ below its last id keeps it
    assert S.trim(db, b"k", S.TrimArgs("minid", minid=(200, 0), approx=True, limit=10_000)) == 0
    assert S.trim(db, b"k", S.TrimArgs("minid", minid=(201, 0), approx=True, limit=10_000)) == 70
    # LIMIT stops before a node that would exceed it
    assert S.trim(db, b"k", S.TrimArgs("maxlen", maxlen=0, approx=True, limit=49)) == 0
    assert S.trim(db, b"k", S.TrimArgs("maxlen", maxlen=0, approx=True, limit=50)) == 50
    m = S.meta_of(db, b"k")
    assert m is not None and (m.length, m.first_id, m.nodes, m.last_id) == (0, (0, 0), 0, (250, 0))


def test_xdel_tombstones_and_node_removal(db: Database) -> None:
    for n in range(1, 4):
        add(db, b"k", (n, 0))
    assert S.delete(db, b"k", [(2, 0), (2, 0), (9, 0)]) == 1
    s = S.open_stream(db, b"k")
    assert s is not None
    (node,) = s.iter_nodes()
    assert (node.live, node.deleted) == (2, 1)
    assert S.delete(db, b"k", [(1, 0), (3, 0)]) == 2
    m = S.meta_of(db, b"k")
    assert m is not None and (m.length, m.nodes, m.max_deleted, m.first_id) == (
        0,
        0,
        (3, 0),
        (0, 0),
    )
    add(db, b"k", (4, 0))  # a new node after the emptied one went away
    m = S.meta_of(db, b"k")
    assert m is not None and (m.nodes, m.tail, m.first_id) == (1, (4, 0), (4, 0))


def test_overlay_sees_this_commands_writes(db: Database) -> None:
    """XADD ... MAXLEN 0 trims the entry it just added (the scan sees the overlay)."""
    add(db, b"k", (1, 0))
    add(db, b"k", (2, 0), trim=S.TrimArgs("maxlen", maxlen=0))
    m = S.meta_of(db, b"k")
    assert m is not None and (m.length, m.last_id, m.entries_added) == (0, (2, 0), 2)
    assert S.range_entries(db, b"k", S.MIN_ID, S.MAX_ID, 0, False) == []


def test_large_stream_reads_are_bounded(db: Database) -> None:
    store = db.store
    for n in range(1, 3001):
        add(db, b"k", (n, 0), b"n", b"%d" % n)
    got = S.range_entries(db, b"k", (1500, 0), S.MAX_ID, 3, False)
    assert got == [
        ((1500, 0), [b"n", b"1500"]),
        ((1501, 0), [b"n", b"1501"]),
        ((1502, 0), [b"n", b"1502"]),
    ]
    assert S.range_entries(db, b"k", S.MIN_ID, S.MAX_ID, 2, True) == [
        ((3000, 0), [b"n", b"3000"]),
        ((2999, 0), [b"n", b"2999"]),
    ]
    assert S.length(db, b"k") == 3000
    seq = store.seq
    add(db, b"k", (3001, 0), trim=S.TrimArgs("maxlen", maxlen=1000, approx=True, limit=10_000))
    assert store.seq == seq + 1 and S.length(db, b"k") == 1001


def test_large_pel(db: Database) -> None:
    for n in range(1, 2001):
        add(db, b"k", (n, 0))
    s = S.open_stream(db, b"k")
    assert s is not None
    gv = SG.create_group(s, b"g", S.MIN_ID, 0)
    assert gv is not None
    got = SG.read_new(gv, b"c", 0, False, 1000)
    assert got is not None and len(got) == 2000
    s.commit()
    s = S.open_stream(db, b"k")
    assert s is not None
    gv = SG.group(s, b"g")
    assert gv is not None and gv.g.pel == 2000 and gv.g.entries_read == 2000
    page = SG.pending_range(gv, (1000, 0), S.MAX_ID, 5, 0, b"c", 1000)
    assert page is not None and [p.id for p in page] == [(n, 0) for n in range(1000, 1005)]
    assert SG.ack(gv, [(n, 0) for n in range(1, 1001)]) == 1000
    s.commit()
    s = S.open_stream(db, b"k")
    assert s is not None
    gv = SG.group(s, b"g")
    assert gv is not None
    summ = SG.pending_summary(gv)
    assert (summ.count, summ.first, summ.last, summ.consumers) == (
        1000,
        (1001, 0),
        (2000, 0),
        [(b"c", 1000)],
    )
    (cons,) = list(gv.iter_consumers())
    assert gv.delete_consumer(cons) == 1000
    gv.flush()
    s.commit()
    s = S.open_stream(db, b"k")
    assert s is not None
    gv = SG.group(s, b"g")
    assert gv is not None and (gv.g.pel, gv.g.consumers) == (0, 0)
    assert list(gv.iter_pending()) == []


# --- whole values --------------------------------------------------------------------------------
def test_stream_value_round_trip(store: Store, db: Database) -> None:
    for n in range(1, 6):
        add(db, b"k", (n, n), b"f", b"%d" % n)
    S.delete(db, b"k", [(2, 2)])
    s = S.open_stream(db, b"k")
    assert s is not None
    gv = SG.create_group(s, b"g", (3, 3), 2)
    assert gv is not None
    SG.read_new(gv, b"alice", 1, False, 777)
    gv2 = SG.create_group(s, b"h", S.MIN_ID, -1)
    assert gv2 is not None
    gv2.create_consumer(b"idle", 5)
    gv2.flush()
    s.commit()
    mkey, raw = db.lookup(b"k")
    assert raw is not None
    value = SG.to_stream_value(db, mkey, raw)
    assert isinstance(value, StreamValue)
    assert [(e[0], e[1]) for e in value.entries] == [(1, 1), (3, 3), (4, 4), (5, 5)]
    assert (value.last_id, value.first_id, value.max_deleted_id, value.entries_added) == (
        (5, 5), (1, 1), (2, 2), 5,
    )  # fmt: skip
    b = store.batch()
    dst, old = db.lookup(b"copy")
    SG.store_stream_value(b, db, dst, old, value, 0)
    store.commit(b)
    _, raw2 = db.lookup(b"copy")
    assert raw2 is not None
    assert SG.to_stream_value(db, dst, raw2) == value
