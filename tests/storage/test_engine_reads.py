"""Engine read paths beyond get/scan: MultiGet with the group-commit overlay, the read view
(for slow commands on another thread), the two-way cursor, counting (real RocksDB)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pikadb.storage.engine import DATA, META, Engine


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    e = Engine(str(tmp_path / "db"))
    e.apply([(1, DATA, b"k%03d" % i, b"v%d" % i) for i in range(0, 100, 2)])
    yield e
    e.close()


def test_multi_get_keeps_the_callers_order(engine: Engine) -> None:
    keys = [b"k010", b"k001", b"k098", b"zzz", b"k000", b"k010"]
    assert engine.multi_get(DATA, keys) == [b"v10", None, b"v98", None, b"v0", b"v10"]
    assert engine.multi_get(DATA, []) == []


def test_multi_get_sees_pending_group_ops_and_the_view_does_not(engine: Engine) -> None:
    engine.begin_group()
    engine.stage([(1, DATA, b"k001", b"new"), (2, DATA, b"k002", b"")])
    assert engine.multi_get(DATA, [b"k001", b"k002", b"k004"]) == [b"new", None, b"v4"]
    view = engine.read_view()
    assert view.multi_get(DATA, [b"k001", b"k002"]) == [None, b"v2"]  # committed state only
    assert view.get(DATA, b"k001") is None
    with pytest.raises(RuntimeError):
        view.stage([(1, DATA, b"x", b"y")])
    engine.end_group()
    assert view.get(DATA, b"k001") == b"new"  # the view reads the live DB once written


def test_multi_get_after_a_pending_range_delete(engine: Engine) -> None:
    engine.begin_group()
    engine.stage([(3, DATA, b"k000", b"k050")])
    assert engine.multi_get(DATA, [b"k010", b"k060"]) == [None, b"v60"]
    engine.end_group()


def test_read_view_from_another_thread(engine: Engine) -> None:
    view = engine.read_view()
    out: list[int] = []
    t = threading.Thread(target=lambda: out.append(len(list(view.scan(DATA, b"k", b"l")))))
    t.start()
    t.join()
    assert out == [50]


def test_cursor_moves_both_ways_inside_its_bounds(engine: Engine) -> None:
    cur = engine.cursor(DATA, b"k010", b"k020")
    assert cur.first() == b"k010" and cur.value() == b"v10"
    assert cur.next() == b"k012"
    assert cur.last() == b"k018"
    assert cur.next() is None  # the upper bound
    assert cur.seek(b"k011") == b"k012"
    assert cur.prev() == b"k010"
    assert cur.prev() is None  # the lower bound
    assert cur.seek_before(b"k015") == b"k014"
    assert cur.seek_before(b"k010") is None
    assert cur.seek(b"k019") is None


def test_scan_variants_and_count(engine: Engine) -> None:
    assert list(engine.scan_keys(DATA, b"k090", b"k096")) == [b"k090", b"k092", b"k094"]
    assert list(engine.scan_values(DATA, b"k090", b"k096")) == [b"v90", b"v92", b"v94"]
    assert [k for k, _ in engine.scan(DATA, b"k091", b"k096", reverse=True)] == [
        b"k094",
        b"k092",
    ]
    assert engine.count(DATA, b"k", b"l") == 50
    assert engine.count(DATA, b"k050", b"k050") == 0
    assert engine.count(META, b"", b"\xff") == 0


_KEYS = st.sampled_from([bytes([a, b]) for a in b"abcd" for b in b"abcd"])
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just(1), _KEYS, st.binary(min_size=1, max_size=2)),
        st.tuples(st.just(2), _KEYS, st.just(b"")),
        st.tuples(st.just(3), _KEYS, _KEYS),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    committed=st.dictionaries(_KEYS, st.binary(min_size=1, max_size=2), max_size=10),
    ops=_OPS,
    bounds=st.tuples(_KEYS, _KEYS),
)
def test_atomic_reads_merge_pending_ops(
    tmp_path_factory: pytest.TempPathFactory,
    committed: dict[bytes, bytes],
    ops: list[tuple[int, bytes, bytes]],
    bounds: tuple[bytes, bytes],
) -> None:
    """Inside an atomic unit, every read sees the staged ops exactly as if they had been
    written, and nothing is written until the group ends (one write)."""
    e = Engine(str(tmp_path_factory.mktemp("db")))
    try:
        e.apply([(1, DATA, k, v) for k, v in committed.items()])
        model = dict(committed)
        e.begin_group()
        e.begin_atomic()
        for kind, key, value in ops:
            if kind == 3 and value <= key:
                continue  # an empty range: the commit path never stages one
            e.stage([(kind, DATA, key, value)])
            if kind == 1:
                model[key] = value
            elif kind == 2:
                model.pop(key, None)
            else:
                for k in [k for k in model if key <= k < value]:
                    del model[k]
        seq = e.property_int("rocksdb.num-entries-active-mem-table", DATA)
        lo, hi = sorted(bounds)
        want = sorted((k, v) for k, v in model.items() if lo <= k < hi)
        assert list(e.scan(DATA, lo, hi)) == want
        assert list(e.scan(DATA, lo, hi, reverse=True)) == want[::-1]
        assert list(e.scan(DATA, lo, None)) == sorted((k, v) for k, v in model.items() if k >= lo)
        assert list(e.scan_keys(DATA, lo, hi)) == [k for k, _ in want]
        assert list(e.scan_values(DATA, lo, hi)) == [v for _, v in want]
        assert e.count(DATA, lo, hi) == len(want)
        every = [bytes([a, b]) for a in b"abcd" for b in b"abcd"]
        assert [e.get(DATA, k) for k in every] == [model.get(k) for k in every]
        assert e.multi_get(DATA, every) == [model.get(k) for k in every]
        # nothing reached RocksDB while the unit ran
        assert e.property_int("rocksdb.num-entries-active-mem-table", DATA) == seq
        e.end_atomic()
        e.end_group()
        assert list(e.scan(DATA, b"", None)) == sorted(model.items())
    finally:
        e.close()
