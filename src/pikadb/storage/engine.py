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

rocksdict 0.3.29 pitfalls handled here: ``set_iterate_lower_bound`` sets the *upper* bound
(never called: we seek and check in Python); an upper bound's ReadOptions must outlive its
iterator (the generator below keeps it referenced); ``Snapshot.iter()`` ignores the snapshot
(a plain iterator is already a point-in-time view, so one scan is consistent).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rocksdict import (
    BlockBasedOptions,
    Cache,
    Checkpoint,
    CompactOptions,
    DBCompressionType,
    Options,
    ReadOptions,
    Rdict,
    WriteBatch,
    WriteOptions,
)

META, DATA, ZSCORE, TTL, BINLOG, SYS = range(6)
CF_NAMES = ("meta", "data", "zscore", "ttl", "binlog", "sys")

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
        bbo = BlockBasedOptions()
        bbo.set_block_cache(self._cache)
        bbo.set_bloom_filter(10, False)
        o.set_block_based_table_factory(bbo)
        return o

    # -- point reads ----------------------------------------------------------------------
    def get(self, cf: int, key: bytes) -> bytes | None:
        return self._cfs[cf].get(key)

    def getter(self, cf: int) -> Any:
        """The bound ``get`` of one column family, for hot paths that want no indirection."""
        return self._cfs[cf].get

    # -- writes ---------------------------------------------------------------------------
    def new_write_batch(self) -> WriteBatch:
        return WriteBatch(raw_mode=True)

    @property
    def handles(self) -> list[Any]:
        """Column family handles, indexed by cf id, for ``WriteBatch.put(k, v, handle)``."""
        return self._handles

    def write(self, wb: WriteBatch) -> None:
        self._db.write(wb, self._wo)

    def set_sync(self, sync: bool) -> None:
        self._wo.sync = sync

    # -- range reads ----------------------------------------------------------------------
    def scan(
        self, cf: int, start: bytes, end: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield (key, value) with start <= key < end, ascending or descending.

        The iterator is a point-in-time view taken when the generator first runs.
        """
        ro = ReadOptions()
        if end is not None:
            ro.set_iterate_upper_bound(end)  # ro stays referenced by this frame: safe
        it = self._cfs[cf].iter(ro)
        if not reverse:
            it.seek(start)
            while it.valid():
                yield it.key(), it.value()
                it.next()
        else:
            if end is None:
                it.seek_to_last()
            else:
                it.seek_for_prev(end)
                if it.valid() and it.key() >= end:
                    it.prev()
            while it.valid():
                k = it.key()
                if k < start:
                    break
                yield k, it.value()
                it.prev()
        del it, ro

    def last_key(self, cf: int, start: bytes, end: bytes) -> bytes | None:
        for k, _ in self.scan(cf, start, end, reverse=True):
            return k
        return None

    # -- maintenance ----------------------------------------------------------------------
    def compact(self, cf: int | None = None) -> None:
        co = CompactOptions()
        for i, c in enumerate(self._cfs):
            if cf is None or cf == i:
                c.compact_range(None, None, co)

    def checkpoint(self, path: str) -> None:
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

    def flush_wal(self) -> None:
        self._db.flush_wal(True)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            # Column-family views keep the DB alive: drop them before closing so that the
            # LOCK file is released and the same path can be reopened in this process.
            self._cfs = []
            self._handles = []
            self._db.close()
            del self._db
