"""Sorted-set storage on a real RocksDB: the score codec (round trip and byte order, by
hypothesis), the member/score-index layout, one commit per command, WRONGTYPE, version bump
and GC, expiry, the sticky encoding flag (and -0.0), bounded index scans, Redis's lex-range
walk, and a model check of ranges/ranks against a plain sorted list."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.storage import generic, zsets
from pikadb.storage import layout as L
from pikadb.storage import scorecodec as SC
from pikadb.storage import zsets_algebra as ops
from pikadb.storage.engine import DATA, ZSCORE
from pikadb.storage.keyspace import Database
from pikadb.storage.store import Store
from pikadb.storage.zsets import LEX_MAX, LEX_MIN, LexRange, ScoreRange

finite = st.floats(allow_nan=False)


# --- score codec ---------------------------------------------------------------------------
@given(finite)
def test_codec_round_trip(x: float) -> None:
    enc = SC.encode(x)
    assert len(enc) == 8
    back = SC.decode(enc)
    assert back == x
    if x == 0.0:
        assert math.copysign(1.0, back) == 1.0  # -0.0 is indexed as 0.0
    assert SC.unpack_double(SC.pack_double(x)) == x
    assert struct.pack(">d", SC.unpack_double(SC.pack_double(x))) == struct.pack(">d", x)


@given(finite, finite)
def test_codec_preserves_order(a: float, b: float) -> None:
    ea, eb = SC.encode(a), SC.encode(b)
    assert (a < b) == (ea < eb)
    assert (a == b) == (ea == eb)


@given(finite)
def test_codec_after_is_the_next_encoding(x: float) -> None:
    enc = SC.encode(x)
    nxt = SC.after(enc)
    assert nxt > enc and len(nxt) == 8
    assert not (enc < SC.after(enc)[:8] < nxt)  # nothing in between
    if x < math.inf:
        assert nxt <= SC.encode(math.nextafter(x, math.inf)) or x == 0.0


def test_codec_fixed_points() -> None:
    assert SC.encode(-math.inf).hex() == "000fffffffffffff"
    assert SC.encode(-1.0).hex() == "400fffffffffffff"
    assert SC.encode(0.0).hex() == SC.encode(-0.0).hex() == "8000000000000000"
    assert SC.encode(1.0).hex() == "bff0000000000000"
    assert SC.encode(math.inf).hex() == "fff0000000000000"


# --- fixtures ----------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "db"), databases=2)
    yield s
    s.close()


@pytest.fixture
def db(store: Store) -> Database:
    return store.databases[0]


def zadd(db: Database, key: bytes, mapping: dict[bytes, float], flags: int = 0) -> int:
    return zsets.add(db, key, [(s, m) for m, s in mapping.items()], flags).added


def under(store: Store, cf: int, pfx: bytes) -> list[tuple[bytes, bytes]]:
    return list(store.engine.scan(cf, pfx, L.prefix_end(pfx)))


def prefix(db: Database, key: bytes) -> bytes:
    mkey, raw = db.lookup(key)
    assert raw is not None
    return L.version_prefix(mkey, L.version_of(raw))


# --- layout ------------------------------------------------------------------------------------
def test_layout_round_trip(store: Store, db: Database) -> None:
    assert zadd(db, b"z", {b"b": 2.5, b"a": -1.0, b"c": 2.5}) == 3
    mkey, raw = db.lookup(b"z")
    assert raw is not None
    meta = L.CollectionMeta.decode(raw)
    assert (meta.type, meta.expire_at, meta.size, meta.extra) == (L.T_ZSET, 0, 3, b"\x00")
    pfx = L.version_prefix(mkey, meta.version)
    assert under(store, DATA, pfx) == [
        (pfx + b"a", struct.pack(">d", -1.0)),
        (pfx + b"b", struct.pack(">d", 2.5)),
        (pfx + b"c", struct.pack(">d", 2.5)),
    ]
    assert under(store, ZSCORE, pfx) == [
        (pfx + SC.encode(-1.0) + b"a", b""),
        (pfx + SC.encode(2.5) + b"b", b""),
        (pfx + SC.encode(2.5) + b"c", b""),
    ]
    zsets.add(db, b"z", [(0.5, b"c")], 0)  # an update moves the index entry
    assert under(store, ZSCORE, pfx)[1] == (pfx + SC.encode(0.5) + b"c", b"")
    assert len(under(store, ZSCORE, pfx)) == 3
    assert zsets.range_by_rank(db, b"z", 0, -1, False) == [(b"a", -1.0), (b"c", 0.5), (b"b", 2.5)]


def test_one_commit_per_command(store: Store, db: Database) -> None:
    seq = store.seq
    zadd(db, b"z", {b"%d" % i: i for i in range(50)})
    zsets.remove(db, b"z", [b"1", b"2", b"nope"])
    zsets.remove_range_by_score(db, b"z", ScoreRange(10, 20))
    zsets.pop(db, [b"z"], False, 3)
    zsets.store_items(db, b"d", zsets.range_by_rank(db, b"z", 0, 4, False))
    assert store.seq == seq + 5
    zadd(db, b"z", {b"30": 30})  # same score: nothing written
    zsets.remove(db, b"z", [b"nope"])
    zsets.add(db, b"z", [(1.0, b"40")], zsets.ZADD_NX)
    assert store.seq == seq + 5


def test_wrongtype_changes_nothing(store: Store, db: Database) -> None:
    b = store.batch()
    mkey, old = db.lookup(b"s")
    b.put_meta(mkey, old, L.encode_string(b"x"))
    store.commit(b)
    seq = store.seq
    for fn in (
        lambda: zadd(db, b"s", {b"a": 1}),
        lambda: zsets.remove(db, b"s", [b"a"]),
        lambda: zsets.score(db, b"s", b"a"),
        lambda: zsets.range_by_rank(db, b"s", 0, -1, False),
        lambda: zsets.pop(db, [b"missing", b"s"], False, 1),
        lambda: ops.open_sources(db, [b"missing", b"s"]),
        lambda: zsets.remove_range_by_rank(db, b"s", 0, -1),
    ):
        with pytest.raises(CommandError, match="WRONGTYPE"):
            fn()
    assert store.seq == seq
    assert db.lookup(b"s")[1] == L.encode_string(b"x")


def test_nan_increment_writes_nothing(store: Store, db: Database) -> None:
    zadd(db, b"z", {b"a": math.inf})
    seq = store.seq
    with pytest.raises(CommandError, match="NaN"):
        zsets.add(db, b"z", [(-math.inf, b"a")], zsets.ZADD_INCR)
    assert store.seq == seq
    assert zsets.score(db, b"z", b"a") == math.inf


# --- versions, deletion, expiry -----------------------------------------------------------------
def test_version_bump_hides_old_members_and_gc_reclaims(store: Store, db: Database) -> None:
    zadd(db, b"z", {b"m%d" % i: i for i in range(100)})
    old = prefix(db, b"z")
    assert len(under(store, DATA, old)) == len(under(store, ZSCORE, old)) == 100
    assert generic.delete_keys(db, [b"z"]) == 1
    assert under(store, DATA, old) == under(store, ZSCORE, old) == []
    zadd(db, b"z", {b"new": 1})
    assert prefix(db, b"z") > old
    assert zsets.range_by_rank(db, b"z", 0, -1, False) == [(b"new", 1.0)]
    store.engine.compact()
    assert under(store, DATA, old) == under(store, ZSCORE, old) == []


def test_store_overwrites_any_type_with_a_new_version(store: Store, db: Database) -> None:
    zadd(db, b"d", {b"old": 1})
    old = prefix(db, b"d")
    generic.expire_at(db, b"d", now_ms() + 100_000)
    assert zsets.store_items(db, b"d", [(b"x", 2.0)]) == 1
    assert under(store, ZSCORE, old) == []
    assert generic.expire_of_key(db, b"d") == 0  # a stored result has no TTL (Redis setKey)
    assert zsets.store_items(db, b"d", []) == 0
    assert db.lookup(b"d")[1] is None


def test_emptied_zset_is_deleted(store: Store, db: Database) -> None:
    zadd(db, b"a", {b"x": 1})
    zadd(db, b"b", {b"x": 1, b"y": 2})
    zadd(db, b"c", {b"x": 1})
    n = db.size()
    zsets.remove(db, b"a", [b"x"])
    zsets.pop(db, [b"b"], True, 10)
    zsets.remove_range_by_lex(db, b"c", LexRange(LEX_MIN, LEX_MAX))
    assert db.size() == n - 3
    assert all(db.lookup(k)[1] is None for k in (b"a", b"b", b"c"))


def test_expired_zset_is_hidden_and_reclaimed(store: Store, db: Database) -> None:
    zadd(db, b"z", {b"a": 1, b"b": 2})
    pfx = prefix(db, b"z")
    assert generic.expire_at(db, b"z", now_ms() + 100_000) == 1
    zadd(db, b"z", {b"c": 3})  # writes keep the TTL
    mkey, raw = db.lookup(b"z")
    assert raw is not None and L.expire_of(raw) > now_ms()
    b = store.batch()
    b.put_meta(mkey, raw, L.with_expire(raw, now_ms() - 1))
    store.commit(b)
    assert zsets.card(db, b"z") == 0  # lazily deleted on access
    assert under(store, DATA, pfx) == under(store, ZSCORE, pfx) == []
    assert zadd(db, b"z", {b"new": 1}) == 1
    assert zsets.range_by_rank(db, b"z", 0, -1, False) == [(b"new", 1.0)]


# --- encoding flag, -0.0 -----------------------------------------------------------------------
def enc(db: Database, key: bytes) -> bytes:
    mkey, raw = db.lookup(key)
    assert raw is not None
    return zsets.encoding_name(db, mkey, raw)


def test_encoding_flag_is_sticky(db: Database) -> None:
    zadd(db, b"z", {b"m%d" % i: i for i in range(128)})
    assert enc(db, b"z") == b"listpack"
    zadd(db, b"z", {b"one-more": 1})
    assert enc(db, b"z") == b"skiplist"
    zsets.remove_range_by_rank(db, b"z", 0, -3)
    assert zsets.card(db, b"z") == 2 and enc(db, b"z") == b"skiplist"
    zadd(db, b"long", {b"x" * 64: 1})
    assert enc(db, b"long") == b"listpack"
    zsets.add(db, b"long", [(1.0, b"y" * 65)], zsets.ZADD_XX)  # not added: no conversion
    assert enc(db, b"long") == b"listpack"
    zadd(db, b"long", {b"y" * 65: 2})
    assert enc(db, b"long") == b"skiplist"
    zsets.store_items(db, b"st", [(b"a", 1.0)])
    assert enc(db, b"st") == b"listpack"
    zsets.store_items(db, b"st", [(b"a" * 65, 1.0)])
    assert enc(db, b"st") == b"skiplist"


def test_negative_zero_kept_only_by_skiplists(db: Database) -> None:
    zadd(db, b"small", {b"a": -0.0})
    s = zsets.score(db, b"small", b"a")
    assert s == 0.0 and math.copysign(1, s) == 1  # a listpack stores integral scores as ints
    zadd(db, b"big", {b"m%d" % i: i for i in range(200)})
    zadd(db, b"big", {b"neg": -0.0, b"a": 0.0})
    s = zsets.score(db, b"big", b"neg")
    assert s == 0.0 and math.copysign(1, s) == -1
    got = zsets.range_by_score(db, b"big", ScoreRange(0.0, 0.0), False)
    assert [m for m, _ in got] == [b"a", b"m0", b"neg"]  # -0.0 == 0.0: ordered by member
    assert [math.copysign(1, s) for _, s in got] == [1, 1, -1]
    assert zsets.rank(db, b"big", b"neg", False) == (2, -0.0)


# --- bounded reads -------------------------------------------------------------------------------
class CountingScan:
    """Counts the entries the engine yields to range reads (instrumentation, not a mock)."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self.real = store.engine.scan
        self.n = 0

    def __enter__(self) -> CountingScan:
        real = self.real

        def scan(*a: Any, **kw: Any) -> Iterator[tuple[bytes, bytes]]:
            for item in real(*a, **kw):
                self.n += 1
                yield item

        self.engine.scan = scan  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.engine.scan


def test_range_reads_are_bounded(store: Store, db: Database) -> None:
    n = 5000
    zadd(db, b"z", {b"m%05d" % i: i for i in range(n)})
    with CountingScan(store) as c:
        assert [m for m, _ in zsets.range_by_rank(db, b"z", 0, 9, False)] == [
            b"m%05d" % i for i in range(10)
        ]
    assert c.n <= 12
    with CountingScan(store) as c:
        assert zsets.range_by_rank(db, b"z", -3, -1, False)[2] == (b"m04999", 4999.0)
        assert zsets.range_by_rank(db, b"z", 0, 2, True)[0] == (b"m04999", 4999.0)
        assert zsets.range_by_rank(db, b"z", -3, -1, True)[0] == (b"m00002", 2.0)
    assert c.n <= 10
    with CountingScan(store) as c:
        assert zsets.rank(db, b"z", b"m04990", False) == (4990, 4990.0)
    assert c.n <= 3 * zsets._RANK_STEP + 10  # counted from the nearer (upper) end
    with CountingScan(store) as c:
        assert len(zsets.range_by_score(db, b"z", ScoreRange(100, 200, True), False, 5, 10)) == 10
    assert c.n <= 20
    with CountingScan(store) as c:
        assert zsets.count_by_score(db, b"z", ScoreRange(1000, 1099)) == 100
    assert c.n <= 102
    with CountingScan(store) as c:
        got = zsets.random_members(db, b"z", 5)
    assert len({m for m, _ in got}) == 5 and c.n < n
    with CountingScan(store) as c:
        zsets.pop(db, [b"z"], True, 3)
    assert c.n <= 4


def test_lex_ranges_seek_when_scores_are_equal(store: Store, db: Database) -> None:
    zadd(db, b"z", {b"k%05d" % i: 0 for i in range(5000)})
    rng = LexRange(b"k04000", b"k04010", False, True)
    with CountingScan(store) as c:
        got = zsets.range_by_lex(db, b"z", rng, False)
    assert [m for m, _ in got] == [b"k%05d" % i for i in range(4000, 4010)]
    assert c.n <= 16
    with CountingScan(store) as c:
        got = zsets.range_by_lex(db, b"z", rng, True, 0, 3)
    assert [m for m, _ in got] == [b"k04009", b"k04008", b"k04007"]
    assert c.n <= 8


# --- model check ----------------------------------------------------------------------------------
def redis_lex_walk(items: list[tuple[bytes, float]], rng: LexRange, reverse: bool) -> list[bytes]:
    """Redis's listpack lex walk (zzlFirstInLexRange/zzlLastInLexRange + in-range loop)."""
    if not items or rng.empty():
        return []
    if not rng.gte_min(items[-1][0]) or not rng.lte_max(items[0][0]):
        return []
    seq = items[::-1] if reverse else items
    first_ok = rng.lte_max if reverse else rng.gte_min
    other = rng.gte_min if reverse else rng.lte_max
    for i, (m, _) in enumerate(seq):
        if first_ok(m):
            if not other(m):
                return []
            out = []
            for m2, _ in seq[i:]:
                if not other(m2):
                    break
                out.append(m2)
            return out
    return []


members = st.sampled_from([b"a", b"b", b"c", b"d", b"e", b"aa", b"b\x00", b"", b"\xff"])
scores = st.sampled_from([-math.inf, -2.0, -0.5, 0.0, 1.0, 1.5, 3.0, math.inf])
lex_bound = st.one_of(
    st.just((LEX_MIN, True)), st.just((LEX_MAX, True)), st.tuples(members, st.booleans())
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(members, scores, min_size=1),
    st.integers(-12, 12),
    st.integers(-12, 12),
    scores,
    scores,
    st.booleans(),
    st.booleans(),
    lex_bound,
    lex_bound,
)
def test_ranges_match_a_sorted_list_model(
    db: Database,
    content: dict[bytes, float],
    start: int,
    end: int,
    lo: float,
    hi: float,
    loex: bool,
    hiex: bool,
    lexmin: tuple[Any, bool],
    lexmax: tuple[Any, bool],
) -> None:
    generic.delete_keys(db, [b"z"])
    zadd(db, b"z", content)
    model = sorted(content.items(), key=lambda kv: (kv[1], kv[0]))
    n = len(model)
    # ranks
    for i, (m, s) in enumerate(model):
        assert zsets.rank(db, b"z", m, False) == (i, s)
        assert zsets.rank(db, b"z", m, True) == (n - 1 - i, s)
    # by rank
    s0, e0 = start + n if start < 0 else start, end + n if end < 0 else end
    s0 = max(s0, 0)
    want = model[s0 : e0 + 1] if s0 <= e0 and s0 < n else []
    assert zsets.range_by_rank(db, b"z", start, end, False) == want
    rev = model[::-1]
    want_rev = rev[s0 : e0 + 1] if s0 <= e0 and s0 < n else []
    assert zsets.range_by_rank(db, b"z", start, end, True) == want_rev
    # by score
    rng = ScoreRange(lo, hi, loex, hiex)
    inside = [(m, s) for m, s in model if rng.gte_min(s) and rng.lte_max(s)]
    assert zsets.range_by_score(db, b"z", rng, False) == inside
    assert zsets.range_by_score(db, b"z", rng, True) == inside[::-1]
    assert zsets.range_by_score(db, b"z", rng, False, 1, 2) == inside[1:3]
    assert zsets.count_by_score(db, b"z", rng) == len(inside)
    # by lex (Redis's walk, whatever the scores)
    lex = LexRange(lexmin[0], lexmax[0], lexmin[1], lexmax[1])
    fwd = redis_lex_walk(model, lex, False)
    assert [m for m, _ in zsets.range_by_lex(db, b"z", lex, False)] == fwd
    assert [m for m, _ in zsets.range_by_lex(db, b"z", lex, True)] == redis_lex_walk(
        model, lex, True
    )
    assert zsets.count_by_lex(db, b"z", lex) == len(fwd)


def test_algebra_weights_and_aggregates(db: Database) -> None:
    zadd(db, b"a", {b"x": 1, b"y": 2, b"i": math.inf})
    zadd(db, b"b", {b"y": 10, b"z": 20, b"i": -math.inf})
    srcs = ops.open_sources(db, [b"a", b"b", b"missing"])
    srcs[1].weight = 2.0
    assert ops.union(srcs, ops.AGG_SUM) == {b"x": 1.0, b"y": 22.0, b"z": 40.0, b"i": 0.0}
    assert ops.inter(srcs[:2], ops.AGG_MAX) == {b"y": 20.0, b"i": math.inf}
    assert ops.inter(srcs, ops.AGG_SUM) == {}
    assert ops.inter(srcs[:2], ops.AGG_SUM, 1) == 1
    assert ops.diff(srcs) == {b"x": 1.0}
    srcs[0].weight = 0.0
    assert ops.union(srcs[:1], ops.AGG_SUM)[b"i"] == 0.0  # inf * 0 is NaN: counted as 0
