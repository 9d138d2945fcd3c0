"""compact-cron / compact-interval parsing and the scheduler's decisions (no server)."""

from __future__ import annotations

from datetime import datetime

import pytest

from pikadb.config.cron import CronWindow, parse_compact_cron, parse_compact_interval
from pikadb.storage.backup import Backups
from pikadb.storage.compaction import Compactor


def test_parse() -> None:
    assert parse_compact_cron("") == []
    assert parse_compact_cron("03-04/60") == [CronWindow(None, 3, 4, 60)]
    assert parse_compact_cron("3/02-04/60; 22-01/10") == [
        CronWindow(3, 2, 4, 60),
        CronWindow(None, 22, 1, 10),
    ]
    for bad in ("0/02-04/60", "8/02-04/60", "24-01/1", "02-04", "02-04/101", "a-b/1", "02/04/60"):
        with pytest.raises(ValueError, match="compact-cron"):
            parse_compact_cron(bad)
    assert parse_compact_interval("6/60") is not None
    assert parse_compact_interval(" ") is None
    for bad in ("0/60", "6", "6/101", "x/1"):
        with pytest.raises(ValueError, match="compact-interval"):
            parse_compact_interval(bad)


def test_windows() -> None:
    wed_3am = datetime(2026, 12, 2, 3, 30)  # a Wednesday
    assert CronWindow(3, 2, 4, 0).open_at(wed_3am)
    assert not CronWindow(4, 2, 4, 0).open_at(wed_3am)
    assert CronWindow(None, 22, 3, 0).open_at(wed_3am)  # wraps past midnight
    assert not CronWindow(None, 22, 2, 0).open_at(wed_3am)


def test_scheduler_fires_once_per_window_and_respects_free_disk() -> None:
    c = Compactor()
    try:
        at = datetime(2026, 12, 2, 3, 0).timestamp()
        assert c.auto_due("03-04/50", "", 60.0, at)
        assert not c.auto_due("03-04/50", "", 60.0, at + 60)  # once per window
        assert not c.auto_due("03-04/50", "", 60.0, at + 7200)  # closed: re-armed
        assert c.auto_due("03-04/50", "", 60.0, at + 86400)  # the next day
        d = Compactor()
        assert not d.auto_due("03-04/50", "", 40.0, at)  # not enough free disk: skipped
        assert not d.auto_due("03-04/50", "", 90.0, at + 60)  # ... for this window
        e = Compactor()
        e.last_auto = at
        assert not e.auto_due("03-04/50", "2/50", 90.0, at + 3600)  # interval wins
        assert e.auto_due("", "2/50", 90.0, at + 7200)
        assert not e.auto_due("", "2/50", 90.0, at + 7300)
        d.shutdown()
        e.shutdown()
    finally:
        c.shutdown()


def test_snapshot_names_and_expiry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = Backups()
    root = str(tmp_path)
    now = datetime(2026, 12, 1, 12, 0, 0).timestamp()
    p1 = b.begin(root, "p-", 0, now)
    with pytest.raises(RuntimeError):
        b.begin(root, "p-", 0, now)
    (tmp_path / "p-20261201120000").mkdir()
    (tmp_path / "p-20261120120000").mkdir()
    (tmp_path / "other").mkdir()
    assert p1.endswith("p-20261201120000")
    assert b.expire(root, "p-", 7, now) == [str(tmp_path / "p-20261120120000")]
    assert b.delete_all(root, "p-") == []  # the one in progress is kept
    b.in_progress = False
    assert b.begin(root, "p-", 0, now).endswith("p-20261201120000-1")
