"""Tombstone control in the engine: concentrated deletes and table-wide range deletes are
compacted away in the background, and ``compact()`` rewrites the bottommost level, so no
tombstone is left for scans to step across (real RocksDB in a temp dir)."""

from __future__ import annotations

import re
from pathlib import Path

from pikadb.storage.engine import CHURN_TRIGGER, DATA, META, ZSCORE, Engine

PFX = b"\x00\x01\x00\x02\x00\x00\x00\x03abc"


def _key(i: int) -> bytes:
    return PFX + i.to_bytes(4, "big")


def _sst_count(engine: Engine, cf: int, what: str) -> int:
    props = engine.property("rocksdb.aggregated-table-properties", cf) or ""
    m = re.search(rf"# {what}=(\d+)", props)
    assert m is not None, props
    return int(m.group(1))


def test_concentrated_deletes_are_compacted_away(tmp_path: Path) -> None:
    e = Engine(str(tmp_path / "db"))
    try:
        n = CHURN_TRIGGER + 100
        e.apply([(1, DATA, _key(i), b"v") for i in range(n)])
        e.apply([(2, DATA, _key(i), b"") for i in range(0, n, 2)])  # half of them...
        e.apply([(2, DATA, _key(i), b"") for i in range(1, CHURN_TRIGGER, 2)])  # ... and more
        e.wait_background()
        assert e.background_compactions >= 1
        assert e.property_int("rocksdb.num-deletes-active-mem-table", DATA) == 0
        assert _sst_count(e, DATA, "deletions") == 0
        live = [k for k, _ in e.scan(DATA, PFX, PFX + b"\xff")]
        expected = [_key(i) for i in range(CHURN_TRIGGER, n) if i % 2]
        assert live == expected  # what was not deleted survives the compaction
    finally:
        e.close()


def test_scattered_deletes_do_not_trigger_compaction(tmp_path: Path) -> None:
    e = Engine(str(tmp_path / "db"))
    try:
        # one delete in each of many neighbourhoods (different slots): nothing concentrated
        keys = [i.to_bytes(4, "big") + b"\x00\x00\x00\x01k" for i in range(2000)]
        e.apply([(1, META, k, b"v") for k in keys])
        e.apply([(2, META, k, b"") for k in keys])
        e.wait_background()
        assert e.background_compactions == 0
    finally:
        e.close()


def test_table_range_delete_is_compacted(tmp_path: Path) -> None:
    e = Engine(str(tmp_path / "db"))
    try:
        for cf in (META, DATA, ZSCORE):
            e.apply([(1, cf, b"\x00\x01" + i.to_bytes(4, "big"), b"v") for i in range(500)])
        e.compact()  # the data is in SST files, the range delete must reach them
        e.apply([(3, cf, b"\x00\x01", b"\x00\x02") for cf in (META, DATA, ZSCORE)])
        e.wait_background()
        assert e.background_compactions == 3
        for cf in (META, DATA, ZSCORE):
            assert _sst_count(e, cf, "range deletions") == 0
            assert _sst_count(e, cf, "entries") == 0
            assert list(e.scan(cf, b"", None)) == []
    finally:
        e.close()


def test_collection_range_delete_is_left_to_rocksdb(tmp_path: Path) -> None:
    """Dropping one collection (a long prefix) must not cost a compaction each time."""
    e = Engine(str(tmp_path / "db"))
    try:
        e.apply([(1, DATA, _key(i), b"v") for i in range(10)])
        e.apply([(3, DATA, PFX, PFX + b"\xff")])
        e.wait_background()
        assert e.background_compactions == 0
        assert list(e.scan(DATA, PFX, PFX + b"\xff")) == []
    finally:
        e.close()


def test_compact_rewrites_the_bottommost_level(tmp_path: Path) -> None:
    e = Engine(str(tmp_path / "db"))
    try:
        e.apply([(1, DATA, _key(i), b"v") for i in range(1000)])
        e.compact()
        e.apply([(2, DATA, _key(i), b"") for i in range(0, 1000, 10)])  # below the trigger
        e.compact()
        assert _sst_count(e, DATA, "deletions") == 0
        assert _sst_count(e, DATA, "entries") == 900
    finally:
        e.close()


def test_close_waits_for_background_compaction(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    e = Engine(path)
    e.apply([(1, DATA, b"\x00\x01" + i.to_bytes(4, "big"), b"v" * 100) for i in range(20000)])
    e.apply([(1, DATA, b"\x00\x02", b"kept")])
    e.apply([(3, DATA, b"\x00\x01", b"\x00\x02")])  # schedules a compaction
    e.close()  # must not crash nor leave the DB locked
    e2 = Engine(path)
    try:
        assert list(e2.scan(DATA, b"", None)) == [(b"\x00\x02", b"kept")]
    finally:
        e2.close()
