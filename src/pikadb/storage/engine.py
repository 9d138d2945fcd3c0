"""The RocksDB engine: the ONLY module that imports the RocksDB binding (rocksdict).

One RocksDB per node, column families by role (ids are stable: they appear in the binlog)::

    +----+---------+--------------------------------------------------------------+
    | id | name    | holds                                                        |
    +----+---------+--------------------------------------------------------------+
    | 0  | meta    | one record per user key: type, expire-at, (version, size)    |
    | 1  | data    | sub-keys of collections (hash fields, list items, ...)       |
    | 2  | zscore  | sorted-set score index                                       |
    | 3  | ttl     | expire-at index for active expiry                            |
    | 4  | binlog  | replication log records                                      |
    | 5  | sys     | node bookkeeping: key counters, db->table map, ...           |
    +----+---------+--------------------------------------------------------------+

Group commit: between :meth:`Engine.begin_group` and :meth:`Engine.end_group` (one read
batch of one client), committed ops accumulate and reach RocksDB in ONE write at the end,
with ONE binlog record for the group (added by the store's finalizer) — before any reply is sent, so nothing is acknowledged before it is in the
WAL. Reads inside the group see the pending ops: point reads through an overlay, range reads
(and any read after a pending range delete) by writing the group out first.

Tombstones. Deletes leave tombstones that every scan over their range steps across until a
compaction drops them at the bottom level; a zset whose scores churn, a hash or set that
keeps losing members, or thousands of FLUSHDBs (range tombstones) slow reads down by orders
of magnitude. Three remedies, all here:

* SST files whose entries are mostly deletes are marked for compaction by RocksDB itself
  (the compact-on-deletion collector on meta/data/zscore);
* concentrated point deletes: :meth:`_build` counts deletes per (cf, first 8 key bytes =
  table | slot | key length, i.e. one key's neighbourhood); at :data:`CHURN_TRIGGER` the
  span of those deletes is compacted in the background (memtable flushed, bottommost level
  rewritten), so churn on one collection costs at most ~that many skipped tombstones;
* a range delete of a whole table or slot (FLUSHDB, FLUSHALL, slot drop) compacts that
  range in the background.

Background compactions run one at a time on a worker thread (rocksdict releases the GIL in
``compact_range``); requests made meanwhile are merged; :meth:`close` waits for them.

rocksdict 0.3.29 pitfalls handled here: ``set_iterate_lower_bound`` sets the *upper* bound
(never called: we seek and check in Python); an upper bound's ReadOptions must outlive its
iterator (the generator below keeps it referenced); ``Snapshot.iter()`` ignores the snapshot
(a plain iterator is already a point-in-time view, so one scan is consistent).
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from rocksdict import (
    AccessType,
    BlockBasedOptions,
    BottommostLevelCompaction,
    Cache,
    Checkpoint,
    CompactOptions,
    DBCompressionType,
    Options,
    Rdict,
    ReadOptions,
    WriteBatch,
    WriteOptions,
)

META, DATA, ZSCORE, TTL, BINLOG, SYS = range(6)
_MISSING = object()
Op = tuple[int, int, bytes, bytes]  # (kind, cf, key, value or range end)
CF_NAMES = ("meta", "data", "zscore", "ttl", "binlog", "sys")

CHURN_TRIGGER = 4096  # deletes near one key that schedule a compaction of their span
_CHURN_CFS = frozenset({0, 1, 2})  # meta, data, zscore
_CHURN_MAX = 4096  # tracked neighbourhoods (the map is reset past this)
_WIDE_RANGE = 4  # a range delete whose start is at most this long: table or slot, compact it

_COMPRESSION = {
    "none": DBCompressionType.none,
    "snappy": DBCompressionType.snappy,
    "lz4": DBCompressionType.lz4,
    "zstd": DBCompressionType.zstd,
}


@dataclass
class EngineOptions:
    write_buffer_size: int = 64 << 20
    max_write_buffer_number: int = 2
    block_cache_size: int = 8 << 20
    max_background_jobs: int = 2
    target_file_size_base: int = 64 << 20
    compression: str = "snappy"
    sync_writes: bool = False  # fsync the WAL on every commit (survives power loss)
    disable_auto_compactions: bool = False


def _chunks(it: Iterator[bytes], size: int = 1024) -> Iterator[list[bytes]]:
    while chunk := list(islice(it, size)):
        yield chunk


class Cursor:
    """A RocksDB iterator bounded to [lo, hi) in both directions (the upper bound by RocksDB,
    the lower one here: rocksdict's lower-bound option is broken). Each method returns the
    key it lands on, or None outside the range."""

    __slots__ = ("_it", "_ro", "hi", "lo")

    def __init__(self, cf: Rdict, lo: bytes, hi: bytes) -> None:
        self.lo, self.hi = lo, hi
        self._ro = ReadOptions()  # kept with the iterator: it borrows the bound
        self._ro.set_iterate_upper_bound(hi)
        self._it = cf.iter(self._ro)

    def seek(self, key: bytes) -> bytes | None:
        """The first key >= ``key``."""
        it = self._it
        it.seek(key)
        return it.key() if it.valid() else None

    def seek_before(self, key: bytes) -> bytes | None:
        """The last key < ``key``."""
        it = self._it
        it.seek_for_prev(key)
        if it.valid() and it.key() >= key:
            it.prev()
        if not it.valid():
            return None
        k = it.key()
        return k if k >= self.lo else None

    def first(self) -> bytes | None:
        return self.seek(self.lo)

    def last(self) -> bytes | None:
        return self.seek_before(self.hi)

    def next(self) -> bytes | None:
        it = self._it
        it.next()
        return it.key() if it.valid() else None

    def prev(self) -> bytes | None:
        it = self._it
        it.prev()
        if not it.valid():
            return None
        k = it.key()
        return k if k >= self.lo else None

    def value(self) -> bytes:
        return self._it.value()


class ListCursor:
    """A :class:`Cursor` over a sorted list of (key, value): the merged view of a range
    with pending ops inside an atomic unit."""

    __slots__ = ("_i", "_items", "_keys", "hi", "lo")

    def __init__(self, items: list[tuple[bytes, bytes]], lo: bytes, hi: bytes) -> None:
        self.lo, self.hi = lo, hi
        self._items = items
        self._keys = [k for k, _ in items]
        self._i = -1

    def _at(self, i: int) -> bytes | None:
        self._i = i
        return self._keys[i] if 0 <= i < len(self._keys) else None

    def seek(self, key: bytes) -> bytes | None:
        return self._at(bisect_left(self._keys, key))

    def seek_before(self, key: bytes) -> bytes | None:
        return self._at(bisect_left(self._keys, key) - 1)

    def first(self) -> bytes | None:
        return self._at(0)

    def last(self) -> bytes | None:
        return self._at(len(self._keys) - 1)

    def next(self) -> bytes | None:
        return self._at(self._i + 1)

    def prev(self) -> bytes | None:
        return self._at(self._i - 1)

    def value(self) -> bytes:
        return self._items[self._i][1]


class Engine:
    """A RocksDB instance with the column families above."""

    def __init__(self, path: str, opts: EngineOptions | None = None) -> None:
        self.path = path
        self.opts = opts or EngineOptions()
        os.makedirs(path, exist_ok=True)
        self._cache = Cache(self.opts.block_cache_size)
        self._db = Rdict(
            path,
            self._options(create=True),
            column_families={name: self._options() for name in CF_NAMES},
        )
        self._cfs = [self._db.get_column_family(n) for n in CF_NAMES]
        self._handles = [self._db.get_column_family_handle(n) for n in CF_NAMES]
        self._wo = WriteOptions()
        self._wo.sync = self.opts.sync_writes
        self._closed = False
        self._meta_get = self._cfs[META].get
        # group commit state
        self._grouping = False
        self._pending_ops: list[Op] = []
        # Called with the ops of a write about to happen; returns ops to add to it (the
        # store's binlog record and counters), so the log and the data share one write.
        self.finalizer: Callable[[list[Op]], list[Op]] | None = None
        self._overlay: list[dict[bytes, bytes | None]] = [{} for _ in CF_NAMES]
        self.pending = False  # ops are waiting in the group batch
        self._range_pending = False  # a pending range delete: flush before reading
        # Atomic units (EXEC, scripts): reads merge the pending ops instead of writing the
        # group out, so the unit stays inside ONE write and ONE binlog record.
        self._atomic = 0
        self._atomic_mark = 0  # ops staged before the outermost unit began (flush_prefix)
        self._ranges: list[list[tuple[bytes, bytes]]] = [[] for _ in CF_NAMES]
        # tombstone control (see the module docstring)
        self._churn: dict[tuple[int, bytes], list] = {}
        self._due: list[tuple[int, bytes, bytes]] = []  # ranges to compact after a write
        self._bg_lock = threading.Lock()
        self._bg_queue: list[tuple[int, bytes, bytes]] = []
        self._bg_thread: threading.Thread | None = None
        self.background_compactions = 0  # finished, for INFO and tests

    def _options(self, create: bool = False) -> Options:
        o = Options(raw_mode=True)
        if create:
            o.create_if_missing(True)
            o.create_missing_column_families(True)
            o.set_max_background_jobs(self.opts.max_background_jobs)
        o.set_write_buffer_size(self.opts.write_buffer_size)
        o.set_max_write_buffer_number(self.opts.max_write_buffer_number)
        o.set_target_file_size_base(self.opts.target_file_size_base)
        o.set_compression_type(_COMPRESSION.get(self.opts.compression, DBCompressionType.snappy)())
        o.set_disable_auto_compactions(self.opts.disable_auto_compactions)
        # An SST where deletes dominate (>= half of any 10k-entry window) gets compacted.
        o.add_compact_on_deletion_collector_factory(10_000, 5_000, 0.5)
        bbo = BlockBasedOptions()
        bbo.set_block_cache(self._cache)
        bbo.set_bloom_filter(10, False)
        o.set_block_based_table_factory(bbo)
        return o

    # -- point reads ----------------------------------------------------------------------
    def get(self, cf: int, key: bytes) -> bytes | None:
        if self.pending:
            v = self._overlay[cf].get(key, _MISSING)
            if v is not _MISSING:
                return v  # type: ignore[return-value]
            if self._range_pending:
                if not self._atomic:
                    self.flush_group()
                elif self._range_deleted(cf, key):
                    return None
        return self._cfs[cf].get(key)

    def _range_deleted(self, cf: int, key: bytes) -> bool:
        return any(a <= key < b for a, b in self._ranges[cf])

    def multi_get(self, cf: int, keys: list[bytes]) -> list[bytes | None]:
        """``get`` of many keys in one RocksDB MultiGet (in key order: cheaper), results in
        the order of ``keys``; pending group ops are seen as by :meth:`get`."""
        if not keys:
            return []
        if self.pending and self._range_pending and not self._atomic:
            self.flush_group()
        order = sorted(range(len(keys)), key=keys.__getitem__)
        found = self._cfs[cf].get([keys[i] for i in order])
        out: list[bytes | None] = [None] * len(keys)
        for i, v in zip(order, found, strict=True):
            out[i] = v
        if self.pending:
            ov = self._overlay[cf]
            ranged = self._range_pending
            for i, k in enumerate(keys):
                v = ov.get(k, _MISSING)
                if v is not _MISSING:
                    out[i] = v  # type: ignore[assignment]
                elif ranged and self._range_deleted(cf, k):
                    out[i] = None
        return out

    def get_meta(self, key: bytes) -> bytes | None:
        """``get(META, key)``, the hottest read, with the overlay check inlined."""
        if self.pending:
            return self.get(META, key)
        return self._meta_get(key)

    # -- writes ---------------------------------------------------------------------------
    def stage(self, ops: list[Op]) -> None:
        """Queue ``ops`` (kind 1 put, 2 delete, 3 delete_range) for the next write: now, or at
        :meth:`end_group` when grouping. The finalizer adds the binlog record and counters."""
        self._pending_ops += ops
        if not self._grouping:
            self.flush_group()
            return
        self.pending = True
        ov = self._overlay
        for kind, cf, key, value in ops:
            if kind == 1:
                ov[cf][key] = value
            elif kind == 2:
                ov[cf][key] = None
            else:
                self._range_pending = True
                self._ranges[cf].append((key, value))
                d = ov[cf]
                for k in [k for k in d if key <= k < value]:
                    d[k] = None  # staged earlier, deleted by this range: a later put wins

    def apply(self, ops: list[Op]) -> None:
        """Write ``ops`` now, outside the commit path (local bookkeeping such as binlog
        trimming, which is not itself logged)."""
        if self.pending:
            self.flush_group()
        self._write(ops)

    def _build(self, ops: list[Op]) -> WriteBatch:
        wb = WriteBatch(raw_mode=True)
        h = self._handles
        put, delete, delete_range = wb.put, wb.delete, wb.delete_range
        churn = self._churn
        for kind, cf, key, value in ops:
            if kind == 1:
                put(key, value, h[cf])
            elif kind == 2:
                delete(key, h[cf])
                if cf in _CHURN_CFS:
                    e = churn.get((cf, key[:8]))
                    if e is None:
                        if len(churn) >= _CHURN_MAX:
                            churn.clear()
                        churn[(cf, key[:8])] = [1, key, key]
                    else:
                        e[0] += 1
                        if key < e[1]:
                            e[1] = key
                        elif key > e[2]:
                            e[2] = key
                        if e[0] >= CHURN_TRIGGER:
                            del churn[(cf, key[:8])]
                            self._due.append((cf, e[1], e[2] + b"\x00"))
            else:
                delete_range(key, value, h[cf])
                if len(key) <= _WIDE_RANGE and cf in _CHURN_CFS:
                    self._due.append((cf, key, value))
        return wb

    def _write(self, ops: list[Op]) -> None:
        self._db.write(self._build(ops), self._wo)
        if self._due:
            due, self._due = self._due, []
            self.compact_in_background(due)

    # -- background compaction ----------------------------------------------------------
    def compact_in_background(self, ranges: list[tuple[int, bytes, bytes]]) -> None:
        """Compact each (cf, start, end) on the worker thread (started on demand), one
        after another; ranges queued while it works are merged into its queue."""
        with self._bg_lock:
            if self._closed:
                return
            for r in ranges:
                if r not in self._bg_queue:
                    self._bg_queue.append(r)
            if self._bg_thread is None:
                self._bg_thread = threading.Thread(target=self._bg_run, name="pikadb-compact")
                self._bg_thread.start()

    def _bg_run(self) -> None:
        co = CompactOptions()
        co.set_bottommost_level_compaction(BottommostLevelCompaction.force())
        while True:
            with self._bg_lock:
                if not self._bg_queue or self._closed:
                    self._bg_thread = None
                    return
                cf, start, end = self._bg_queue.pop(0)
                target = self._cfs[cf]
            target.compact_range(start, end, co)
            self.background_compactions += 1

    def wait_background(self) -> None:
        """Block until queued background compactions are done (tests, close)."""
        while True:
            with self._bg_lock:
                t = self._bg_thread
            if t is None:
                return
            t.join()

    def begin_group(self) -> None:
        self._grouping = True

    def begin_atomic(self) -> None:
        """Start an atomic unit (EXEC, a script): until :meth:`end_atomic`, range reads merge
        the pending ops rather than writing the group out (point reads already do)."""
        if not self._atomic:
            self._atomic_mark = len(self._pending_ops)
        self._atomic += 1

    def flush_prefix(self) -> None:
        """Write out the ops staged before the current atomic unit began, keeping the unit's
        own ops pending (a busy script: the commands other clients ran earlier in the tick
        become durable and can be answered, while the script stays one write). The overlay
        is kept: it still describes the unit's ops, and the rest is now simply committed."""
        n = self._atomic_mark
        if not self._atomic or not n:
            return
        early = self._pending_ops[:n]
        self._pending_ops = self._pending_ops[n:]
        self._atomic_mark = 0
        if self.finalizer is not None:
            early += self.finalizer(early)
        self._write(early)

    def end_atomic(self) -> None:
        self._atomic -= 1

    def end_group(self) -> None:
        """Write the group out (if anything is pending) and stop grouping."""
        self._grouping = False
        if self.pending:
            self.flush_group()

    def flush_group(self) -> None:
        """One RocksDB write for every staged op, plus the finalizer's extra ops."""
        ops = self._pending_ops
        if not ops and not self.pending:
            return
        self._pending_ops = []
        self.pending = False
        self._range_pending = False
        for ov in self._overlay:
            if ov:
                ov.clear()
        for r in self._ranges:
            if r:
                r.clear()
        if not ops:  # everything was written by flush_prefix; only the overlay was left
            return
        if self.finalizer is not None:
            ops += self.finalizer(ops)
        self._write(ops)

    # -- options --------------------------------------------------------------------------
    def set_sync(self, sync: bool) -> None:
        """fsync the WAL on every write (survives power loss, not just process death)."""
        self._wo.sync = sync

    def set_cf_options(self, options: dict[str, object]) -> None:
        """RocksDB SetOptions on every column family (values rendered as RocksDB expects)."""
        rendered = {
            k: ("true" if v else "false") if isinstance(v, bool) else str(v)
            for k, v in options.items()
        }
        for cf in self._cfs:
            cf.set_options(rendered)

    # -- range reads ----------------------------------------------------------------------
    def scan(
        self, cf: int, start: bytes, end: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield (key, value) with start <= key < end, ascending or descending.

        The iterator is a point-in-time view taken when the generator first runs. The
        items come from rocksdict's own (Rust) iterator, delegated with ``yield from``:
        about 3x cheaper per item than stepping an ``RdictIter`` from Python. Inside an
        atomic unit with ops pending, the items merge those ops (:meth:`_merged`).
        """
        if self.pending:
            if self._atomic:
                yield from self._merged(cf, start, end, reverse)
                return
            self.flush_group()
        ro = ReadOptions()  # ro and end stay referenced by this frame while iterating
        if end is not None:
            ro.set_iterate_upper_bound(end)
        if not reverse:
            yield from self._cfs[cf].items(from_key=start, read_opt=ro)
            return
        for kv in self._cfs[cf].items(backwards=True, from_key=end, read_opt=ro):
            if kv[0] < start:
                return
            yield kv

    def scan_keys(self, cf: int, start: bytes, end: bytes) -> Iterator[bytes]:
        """The keys of :meth:`scan` (forward), without reading values out."""
        if self.pending:
            if self._atomic:
                yield from (k for k, _ in self._merged(cf, start, end, False))
                return
            self.flush_group()
        ro = ReadOptions()
        ro.set_iterate_upper_bound(end)
        yield from self._cfs[cf].keys(from_key=start, read_opt=ro)

    def scan_values(self, cf: int, start: bytes, end: bytes) -> Iterator[bytes]:
        """The values of :meth:`scan` (forward), without building (key, value) pairs."""
        if self.pending:
            if self._atomic:
                yield from (v for _, v in self._merged(cf, start, end, False))
                return
            self.flush_group()
        ro = ReadOptions()
        ro.set_iterate_upper_bound(end)
        yield from self._cfs[cf].values(from_key=start, read_opt=ro)

    def count(self, cf: int, start: bytes, end: bytes) -> int:
        """How many keys lie in [start, end) (walks them: O(n), in chunks built in C)."""
        return sum(map(len, _chunks(self.scan_keys(cf, start, end))))

    def cursor(self, cf: int, start: bytes, end: bytes) -> Cursor:
        """A reusable two-way cursor over [start, end) for many seeks in one call (random
        sampling): cheaper than one :meth:`scan` per seek. Inside an atomic unit whose
        pending ops touch the range, the cursor walks a merged copy of it instead, so the
        unit is not split into two writes."""
        if self.pending:
            if self._atomic and self._pends_in(cf, start, end):
                return ListCursor(list(self._merged(cf, start, end, False)), start, end)
            if not self._atomic:
                self.flush_group()
        return Cursor(self._cfs[cf], start, end)

    def _pends_in(self, cf: int, start: bytes, end: bytes) -> bool:
        """Whether pending ops of ``cf`` fall in [start, end)."""
        if any(a < end and b > start for a, b in self._ranges[cf]):
            return True
        return any(start <= k < end for k in self._overlay[cf])

    def _merged(
        self, cf: int, start: bytes, end: bytes | None, reverse: bool
    ) -> Iterator[tuple[bytes, bytes]]:
        """RocksDB's entries in [start, end) merged with the pending ops of ``cf`` (taken
        when this starts: a point-in-time view like a RocksDB iterator): a staged put or
        delete replaces the stored entry, a staged range delete hides what it covers."""
        pend = sorted(
            (
                kv
                for kv in self._overlay[cf].items()
                if kv[0] >= start and (end is None or kv[0] < end)
            ),
            reverse=reverse,
        )
        ranges = [(a, b) for a, b in self._ranges[cf] if b > start and (end is None or a < end)]
        ro = ReadOptions()
        if end is not None:
            ro.set_iterate_upper_bound(end)
        items = self._cfs[cf].items(
            backwards=reverse, from_key=end if reverse else start, read_opt=ro
        )
        i, n = 0, len(pend)
        for k, v in items:
            if reverse and k < start:
                break
            while i < n and (pend[i][0] > k if reverse else pend[i][0] < k):
                if pend[i][1] is not None:
                    yield pend[i]  # type: ignore[misc]
                i += 1
            if i < n and pend[i][0] == k:
                if pend[i][1] is not None:
                    yield pend[i]  # type: ignore[misc]
                i += 1
                continue
            if ranges and any(a <= k < b for a, b in ranges):
                continue
            yield k, v
        for kv in pend[i:]:
            if kv[1] is not None:
                yield kv  # type: ignore[misc]
        del items, ro

    def last_key(self, cf: int, start: bytes, end: bytes) -> bytes | None:
        for k, _ in self.scan(cf, start, end, reverse=True):
            return k
        return None

    # -- maintenance ----------------------------------------------------------------------
    def compact(self, cf: int | None = None) -> None:
        """Compact everything (or one cf) down to, and including, the bottommost level, so
        every tombstone and what it covers is dropped."""
        if self.pending:
            self.flush_group()
        co = CompactOptions()
        co.set_bottommost_level_compaction(BottommostLevelCompaction.force())
        for i, c in enumerate(self._cfs):
            if cf is None or cf == i:
                c.compact_range(None, None, co)

    def checkpoint(self, path: str) -> None:
        if self.pending:
            self.flush_group()
        Checkpoint(self._db).create_checkpoint(path)

    def property_int(self, name: str, cf: int = META) -> int | None:
        return self._cfs[cf].property_int_value(name)

    def property(self, name: str, cf: int = META) -> str | None:
        return self._cfs[cf].property_value(name)

    def approximate_size(self) -> int:
        total = 0
        for c in self._cfs:
            total += c.property_int_value("rocksdb.total-sst-files-size") or 0
            total += c.property_int_value("rocksdb.cur-size-all-mem-tables") or 0
        return total

    def memory_usage(self) -> int:
        total = self._cache.get_usage()
        for c in self._cfs:
            total += c.property_int_value("rocksdb.cur-size-all-mem-tables") or 0
            total += c.property_int_value("rocksdb.estimate-table-readers-mem") or 0
        return total

    def read_view(self) -> ReadView:
        """A view for reads from another thread (slow commands run off the event loop):
        it reads what is committed, never the group's pending ops, and cannot write.
        Call it after :meth:`flush_group` so that the caller's own writes are visible."""
        return ReadView(self)

    def flush_wal(self) -> None:
        self._db.flush_wal(True)

    def close(self) -> None:
        if not self._closed:
            if self.pending:
                self.flush_group()
            with self._bg_lock:
                self._bg_queue.clear()  # a running compaction finishes; queued ones are dropped
            self.wait_background()
            self._closed = True
            # Column-family views keep the DB alive: drop them before closing so that the
            # LOCK file is released and the same path can be reopened in this process.
            self._cfs = []
            self._handles = []
            self._meta_get = None  # type: ignore[assignment]
            self._db.close()
            del self._db

    # -- operations: BGSAVE, COMPACT, DISKRECOVERY, fast shutdown (storage/backup.py and
    # storage/compaction.py drive these; the thread-safe ones may run on worker threads) ----
    def create_checkpoint(self, path: str) -> None:
        """A consistent RocksDB checkpoint of every column family at ``path`` (which must not
        exist): SST files hard-linked, the memtables flushed first. Safe on a worker thread
        while writes go on (each write is atomic, so the checkpoint holds whole writes only);
        write the group out on the loop thread first (:meth:`flush_group`)."""
        Checkpoint(self._db).create_checkpoint(path)

    @staticmethod
    def last_key_in(path: str, cf: int, lo: bytes, hi: bytes) -> bytes | None:
        """The last key in [lo, hi) of column family ``cf`` of the closed RocksDB at ``path``
        (a checkpoint), opened read-only so it is not modified."""
        opts = Options(raw_mode=True)
        db = Rdict(
            path,
            opts,
            column_families={name: Options(raw_mode=True) for name in CF_NAMES},
            access_type=AccessType.read_only(),
        )
        try:
            target = db.get_column_family(CF_NAMES[cf])
            ro = ReadOptions()
            ro.set_iterate_upper_bound(hi)
            found = None
            for k in target.keys(backwards=True, from_key=hi, read_opt=ro):
                found = k if k >= lo else None
                break
            del target, ro
            return found
        finally:
            db.close()

    @staticmethod
    def empty_cf_in(path: str, cf: int, lo: bytes, hi: bytes) -> bytes | None:
        """Empty column family ``cf`` of the closed RocksDB at ``path`` (a checkpoint) but for
        its last entry in [lo, hi), which is returned; the cf is dropped and made again, so
        its SST files leave the directory (hard links: the source database keeps its own).
        A full sync ships the data without the master's binlog history."""
        opts = Options(raw_mode=True)
        opts.create_missing_column_families(True)
        db = Rdict(path, opts, column_families={n: Options(raw_mode=True) for n in CF_NAMES})
        try:
            name = CF_NAMES[cf]
            target = db.get_column_family(name)
            ro = ReadOptions()
            ro.set_iterate_upper_bound(hi)
            last: tuple[bytes, bytes] | None = None
            for k, v in target.items(backwards=True, from_key=hi, read_opt=ro):
                last = (k, v) if k >= lo else None
                break
            del target, ro
            db.drop_column_family(name)
            fresh = db.create_column_family(name, Options(raw_mode=True))
            if last is not None:
                fresh.put(last[0], last[1])
            del fresh
            db.flush()
            return last[0] if last is not None else None
        finally:
            db.close()

    def compact_span(self, cf: int, start: bytes | None, end: bytes | None) -> None:
        """Manual compaction of [start, end] of ``cf`` (None: unbounded) through the
        bottommost level, so tombstones and what they cover are dropped. Blocking; meant for
        a worker thread (rocksdict releases the GIL while RocksDB works)."""
        if self._closed:
            return
        co = CompactOptions()
        co.set_bottommost_level_compaction(BottommostLevelCompaction.force())
        self._cfs[cf].compact_range(start, end, co)

    def db_property_int(self, name: str) -> int:
        """A DB-wide integer property (the same through any column family): 0 if unknown."""
        if self._closed:
            return 0
        return self._cfs[META].property_int_value(name) or 0

    def block_cache_stats(self) -> tuple[int, int, int]:
        """(capacity, usage, pinned usage) of the shared block cache."""
        c = self._cache
        return self.opts.block_cache_size, c.get_usage(), c.get_pinned_usage()

    def discard_group(self) -> None:
        """Drop the ops staged for the group write (after that write failed: a disk error;
        nothing of it was acknowledged)."""
        self._pending_ops = []
        self.pending = False
        self._range_pending = False
        for ov in self._overlay:
            ov.clear()
        for r in self._ranges:
            r.clear()

    def close_fast(self) -> None:
        """Close for a fast exit (SHUTDOWN, SIGTERM): auto compaction off, queued background
        compactions dropped, the memtables flushed (so the next start has no WAL to replay),
        then running compactions cancelled (RocksDB's CancelAllBackgroundWork) rather than
        awaited, and close. Afterwards :meth:`close` is a no-op."""
        if self._closed:
            return
        if self.pending:
            self.flush_group()
        with self._bg_lock:
            self._bg_queue.clear()
        try:
            self.set_cf_options({"disable_auto_compactions": True})
            for cf in self._cfs:
                cf.flush(True)  # flushes run beside a running compaction, not after it
        except Exception:  # best effort on the way out: the WAL still has everything
            pass
        self._db.cancel_all_background(True)
        t = self._bg_thread
        if t is not None:
            t.join(5)  # its compact_range returns once cancelled
        self._closed = True
        self._cfs = []
        self._handles = []
        self._meta_get = None  # type: ignore[assignment]
        try:
            self._db.close()  # raises "Shutdown in progress" (it cannot flush): still closed
        except Exception:  # still closed
            pass
        del self._db


class ReadView(Engine):
    """The read methods of an :class:`Engine` over the same column families, without the
    group-commit state (``pending`` is always False here, so no overlay read and no flush
    from a foreign thread). Each scan is still a point-in-time view of its own."""

    def __init__(self, engine: Engine) -> None:  # shares the handles; no RocksDB opened
        self.path = engine.path
        self.opts = engine.opts
        self._cfs = engine._cfs
        self._handles = engine._handles
        self._meta_get = engine._meta_get
        self._closed = engine._closed
        self.pending = False
        self._range_pending = False
        self.finalizer = None

    def stage(self, ops: list[Op]) -> None:
        raise RuntimeError("a read view cannot write")

    apply = stage

    def flush_group(self) -> None:
        pass

    def close(self) -> None:
        pass
