"""Manual and scheduled compaction (Pika's COMPACT, COMPACTRANGE, compact-cron,
compact-interval) and the fast shutdown.

All manual compactions run one at a time on one worker thread (:class:`Compactor`); the
event loop only queues them (RocksDB's CompactRange releases the GIL while it works), so the
server keeps serving. COMPACT answers at once (as Pika); COMPACTRANGE's caller waits.

Key ranges. A meta key is ``table | slot | user key``: keys are ordered by hash slot first,
so one user-key range [begin, end] is scattered over up to 16384 slot ranges. COMPACTRANGE
finds the slots that hold at least one key of the range (one seek per non-empty slot, skipping
empty slots in one step), merges consecutive ones into runs (all into one run from the first
to the last slot when there are more than :data:`MAX_RUNS`), and compacts per run the meta
keys ``[table|first|begin, table|last|end]`` and the collection sub-keys (data, zscore cfs)
of those slots. A narrow range (a few keys, or keys sharing a {hash tag}) compacts little; a
wide one amounts to compacting the database's key space.

Fast shutdown (Pika v3.5.3, "disable compaction on shutdown"): :func:`fast_close` turns
auto compaction off, drops queued manual compactions and cancels running background work, so
SHUTDOWN / SIGTERM does not wait for a long compaction; unflushed memtables are replayed from
the WAL at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from pikadb.config.cron import cron_window_open, parse_compact_cron, parse_compact_interval
from pikadb.core.slots import SLOT_COUNT
from pikadb.storage import engine as engine_module
from pikadb.storage import layout as L
from pikadb.storage.engine import CF_NAMES, DATA, META, TTL, ZSCORE, Engine

if TYPE_CHECKING:
    from pikadb.storage.store import Store

log = logging.getLogger("pikadb.compaction")

Span = tuple[int, bytes | None, bytes | None]  # (cf, start, end): None = unbounded
_TABLE_CFS = (META, DATA, ZSCORE, TTL)  # column families whose keys start with the table
# More runs of consecutive touched slots than this: compact from the first to the last slot
# in one go (each compaction rewrites every SST file overlapping its span, and SST files
# span many slots, so many small spans would rewrite the same files again and again).
MAX_RUNS = 8


def all_spans() -> list[Span]:
    """Everything: every column family, whole."""
    return [(cf, None, None) for cf in range(len(CF_NAMES))]


def table_spans(table: int) -> list[Span]:
    """One database (physical table), in every column family keyed by table."""
    lo, hi = L.table_prefix(table), L.table_end(table)
    return [(cf, lo, hi) for cf in _TABLE_CFS]


def touched_slots(engine: Engine, table: int, begin: bytes, end: bytes | None) -> list[int]:
    """Slots of ``table`` holding at least one key in [begin, end] (end None: no upper
    bound). Reads committed data through a read view, so it may run on a worker thread."""
    view = engine.read_view()
    pfx = L.table_prefix(table)
    cur = view.cursor(META, pfx, L.table_end(table))
    out: list[int] = []
    slot = 0
    while slot < SLOT_COUNT:
        k = cur.seek(pfx + L.SLOT_BYTES[slot] + begin)
        if k is None:
            break
        found = L.slot_of_meta_key(k)
        if found != slot:  # nothing >= begin in this slot: resume at the slot we landed in
            slot = found
            continue
        if end is None or L.user_key(k) <= end:
            out.append(slot)
        slot += 1
    return out


def range_spans(engine: Engine, table: int, begin: bytes, end: bytes | None) -> list[Span]:
    """The spans COMPACTRANGE compacts for user keys [begin, end] of one table."""
    slots = touched_slots(engine, table, begin, end)
    runs: list[tuple[int, int]] = []
    for s in slots:
        if runs and runs[-1][1] == s - 1:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    if len(runs) > MAX_RUNS:  # scattered: one compaction over them all, not one per run
        runs = [(slots[0], slots[-1])]
    spans: list[Span] = []
    pfx = L.table_prefix(table)
    for first, last in runs:
        meta_end = (
            pfx + L.SLOT_BYTES[last] + end + b"\x00"
            if end is not None
            else L.slot_range(table, last)[1]
        )
        spans.append((META, pfx + L.SLOT_BYTES[first] + begin, meta_end))
        lo, hi = L.slot_range(table, first)[0], L.slot_range(table, last)[1]
        spans += [(DATA, lo, hi), (ZSCORE, lo, hi)]
    return spans


def set_small_compaction_threshold(n: int) -> None:
    """``small-compaction-threshold``: deletes near one key before that key's range is
    compacted in the background (the engine's churn trigger)."""
    engine_module.CHURN_TRIGGER = max(1, int(n))


class Compactor:
    """The manual-compaction worker and the state INFO shows (``is_compact`` ...)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pikadb-manual-compact")
        self._lock = threading.Lock()
        self.queued = 0  # jobs submitted and not finished
        self.done = 0
        self.last_started = 0.0
        self.last_finished = 0.0
        self.last_duration = -1.0
        self.last_error = ""
        # scheduling state (compact-interval is counted from the start or the last run)
        self.last_auto = time.time()
        self._cron_fired = False
        self.auto_runs = 0
        self.closed = False

    @property
    def running(self) -> bool:
        return self.queued > 0

    def submit(self, engine: Engine, spans: Callable[[], list[Span]] | list[Span]) -> Future[int]:
        """Queue a compaction of ``spans`` (or of what the callable returns, computed on the
        worker). Returns a future of the number of spans compacted."""
        if self.closed:
            raise RuntimeError("server is shutting down")
        with self._lock:
            self.queued += 1
        return self._pool.submit(self._run, engine, spans)

    def _run(self, engine: Engine, spans: Callable[[], list[Span]] | list[Span]) -> int:
        t0 = time.monotonic()
        self.last_started = time.time()
        try:
            todo = spans() if callable(spans) else spans
            for cf, start, end in todo:
                if self.closed:
                    break
                engine.compact_span(cf, start, end)
            self.last_error = ""
            return len(todo)
        except Exception as exc:
            self.last_error = str(exc)
            log.warning("manual compaction failed: %s", exc)
            raise
        finally:
            with self._lock:
                self.queued -= 1
                self.done += 1
            self.last_finished = time.time()
            self.last_duration = time.monotonic() - t0

    # -- compact-cron / compact-interval ------------------------------------------------------
    def auto_due(self, cron: str, interval: str, free_percent: float, now: float) -> bool:
        """Whether a scheduled full compaction should start now (call about once a second).
        A window or interval that comes due while the disk is too full is skipped (logged),
        as in Pika."""
        iv = parse_compact_interval(interval) if interval else None
        if iv is not None:
            if now - self.last_auto < iv.hours * 3600:
                return False
            self.last_auto = now
            if free_percent >= iv.ratio:
                return True
            log.warning("compact-interval skipped: only %.1f%% of the disk is free", free_percent)
            return False
        if not cron:
            self._cron_fired = False
            return False
        window = cron_window_open(parse_compact_cron(cron), datetime.fromtimestamp(now))
        if window is None:
            self._cron_fired = False
            return False
        if self._cron_fired:
            return False
        self._cron_fired = True
        if free_percent >= window.ratio:
            return True
        log.warning("compact-cron skipped: only %.1f%% of the disk is free", free_percent)
        return False

    def shutdown(self) -> None:
        """Drop queued jobs; a running one stops at its next span (or when RocksDB's
        background work is cancelled by :func:`fast_close`)."""
        self.closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


def fast_close(store: Store, compactor: Compactor | None) -> None:
    """Close the store for a fast exit: no compaction is waited for (see module doc)."""
    if compactor is not None:
        compactor.shutdown()
    for db in store.databases:
        db.detach()
    store.engine.close_fast()
