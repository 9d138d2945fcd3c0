"""The node's storage: one engine, the logical databases, and the ONE commit path.

Every mutation, whatever the command, ends in :meth:`Store.commit`: the batch's mutations,
the key-counter updates and the binlog record describing them go to RocksDB in a single
atomic write, so data and log never disagree after a crash. Commit then tells listeners which
keys changed (WATCH, blocked clients, keyspace notifications, replication). No command knows
about replication.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pikadb.core.clock import now_ms, now_us
from pikadb.storage import layout as L
from pikadb.storage.batch import Batch, Op
from pikadb.storage.binlog import OP_DELETE, OP_DELETE_RANGE, OP_PUT, decode_record, encode_record
from pikadb.storage.engine import (
    BINLOG,
    CF_NAMES,
    DATA,
    META,
    SYS,
    TTL,
    ZSCORE,
    Engine,
    EngineOptions,
)
from pikadb.storage.keyspace import Database

CommitListener = Callable[[Batch], None]


class Store:
    def __init__(
        self,
        path: str,
        opts: EngineOptions | None = None,
        databases: int = 16,
        group: int = 0,
        binlog_keep: int = 1_000_000,
    ) -> None:
        self.path = path
        self.engine = Engine(path, opts)
        self.group = group
        self.binlog_keep = binlog_keep
        self.listeners: list[CommitListener] = []
        # Called with (db index, user key) after expiry (lazy or active) deleted a key:
        # keyspace notifications ("expired"), installed by commands/pubsub.py.
        self.on_expired: Callable[[int, bytes], None] | None = None
        self._binlog_prefix = L.binlog_key(group, 0)[:2]
        self._pending_deltas: dict[int, list[int]] = {}
        # Counter deltas at the start of the outermost atomic unit, and those staged by it but
        # not yet written (see flush_before_atomic).
        self._atomic_base: dict[int, list[int]] = {}
        self._unwritten: dict[int, list[int]] = {}
        self.engine.finalizer = self._finalize
        # Lazy/active expiry deletes keys only where this node accepts writes (a replica
        # hides expired keys but waits for its master's delete record).
        self.expire_writes = True
        self._last_version = 0
        self._keys: dict[int, int] = {}
        self._expires: dict[int, int] = {}
        self.seq = self._load_last_seq()
        self._first_seq = self._load_first_seq()
        self.dirty = 0  # writes since start (INFO rdb_changes_since_last_save analogue)
        self.databases: list[Database] = []
        self._load_dbmap(databases)

    # -- start-up -------------------------------------------------------------------------
    def _load_last_seq(self) -> int:
        lo = L.binlog_key(self.group, 0)
        k = self.engine.last_key(BINLOG, lo, L.binlog_key(self.group + 1, 0))
        return L.decode_binlog_key(k)[1] if k else 0

    def _load_first_seq(self) -> int:
        lo = L.binlog_key(self.group, 0)
        for k, _ in self.engine.scan(BINLOG, lo, L.binlog_key(self.group + 1, 0)):
            return L.decode_binlog_key(k)[1]
        return self.seq + 1

    def _load_dbmap(self, n: int) -> None:
        raw = self.engine.get(SYS, L.DBMAP_KEY)
        tables = L.decode_dbmap(raw) if raw else []
        used = set(tables)
        nxt = 0
        while len(tables) < n:  # new databases get unused table ids
            while nxt in used:
                nxt += 1
            tables.append(nxt)
            used.add(nxt)
        self.databases = [Database(self, i, t) for i, t in enumerate(tables[:n])]
        self._tables_all = tables  # tables beyond `databases` keep their data
        for t in tables:
            self._keys[t] = self._read_counter(L.KEYS_COUNTER, t)
            self._expires[t] = self._read_counter(L.EXPIRES_COUNTER, t)

    def _read_counter(self, name: bytes, table: int) -> int:
        raw = self.engine.get(SYS, L.counter_key(name, table))
        return L.decode_u64(raw) if raw else 0

    # -- versions -------------------------------------------------------------------------
    def next_version(self) -> int:
        """Unique, increasing versions for collections: microseconds, bumped on collision."""
        v = now_us()
        if v <= self._last_version:
            v = self._last_version + 1
        self._last_version = v
        return v

    # -- the commit path ------------------------------------------------------------------
    def batch(self) -> Batch:
        return Batch()

    def begin_group(self) -> None:
        """Group the commits that follow into one RocksDB write (see engine.py)."""
        self.engine.begin_group()

    def end_group(self) -> None:
        self.engine.end_group()

    def begin_atomic(self) -> None:
        """An atomic unit (EXEC, a script) starts: it will be ONE write and ONE record."""
        if not self.engine._atomic:
            self._atomic_base = {t: list(d) for t, d in self._pending_deltas.items()}
        self.engine.begin_atomic()

    def end_atomic(self) -> None:
        self.engine.end_atomic()

    def flush_before_atomic(self) -> None:
        """Write what the tick staged before the running atomic unit began, as its own record
        with its own counter deltas, and keep the unit pending (a busy script lets the other
        clients of its tick have their replies, without splitting the script)."""
        base = self._atomic_base
        late: dict[int, list[int]] = {}
        for table, (dk, de) in self._pending_deltas.items():
            bk, be = base.get(table, (0, 0))
            if dk - bk or de - be:
                late[table] = [dk - bk, de - be]
        self._pending_deltas, self._unwritten = base, late
        try:
            self.engine.flush_prefix()
        finally:
            self._pending_deltas, self._unwritten, self._atomic_base = late, {}, {}

    def commit(self, batch: Batch) -> list[bytes]:
        """Commit ``batch``: it reaches RocksDB with its binlog record in one atomic write
        (at once, or with the rest of the current group), then listeners are told.
        Returns the touched meta keys (WATCH, blocked clients and notifications use them)."""
        ops = batch.ops
        if not ops:
            return batch.touched
        deltas = batch.deltas
        if deltas:
            pend = self._pending_deltas
            for table, (dk, de) in deltas.items():
                self._keys[table] = max(0, self._keys.get(table, 0) + dk)
                self._expires[table] = max(0, self._expires.get(table, 0) + de)
                d = pend.get(table)
                if d is None:
                    pend[table] = [dk, de]
                else:
                    d[0] += dk
                    d[1] += de
        self.engine.stage(ops)
        self.dirty += 1
        for listener in self.listeners:
            listener(batch)
        return batch.touched

    def _finalize(self, ops: list[Op]) -> list[Op]:
        """Engine callback for each write: the binlog record describing ``ops`` and the
        new values of the counters they changed, to be written in the same batch."""
        seq = self.seq + 1
        self.seq = seq
        deltas = self._pending_deltas
        record = encode_record(now_ms(), deltas, ops)
        extra: list[Op] = [(OP_PUT, BINLOG, self._binlog_prefix + seq.to_bytes(8, "big"), record)]
        if deltas:
            self._pending_deltas = {}
            later = self._unwritten  # counts staged by a still-pending atomic unit
            for table, (dk, de) in deltas.items():
                uk, ue = later.get(table, (0, 0)) if later else (0, 0)
                if dk:
                    n = L.encode_u64(self._keys.get(table, 0) - uk)
                    extra.append((OP_PUT, SYS, L.counter_key(L.KEYS_COUNTER, table), n))
                if de:
                    n = L.encode_u64(self._expires.get(table, 0) - ue)
                    extra.append((OP_PUT, SYS, L.counter_key(L.EXPIRES_COUNTER, table), n))
        return extra

    def apply_record(self, raw: bytes) -> Batch:
        """Re-apply a binlog record (from a master) through the same commit path."""
        rec = decode_record(raw)
        b = self.batch()
        for kind, cf, key, value in rec.ops:
            if kind == OP_PUT:
                b.put(cf, key, value)
            elif kind == OP_DELETE:
                b.delete(cf, key)
            elif kind == OP_DELETE_RANGE:
                b.delete_range(cf, key, value)
            if cf == META:
                b.touched.append(key)
            elif cf in (DATA, ZSCORE):
                # A sub-key (table|slot|keylen u32|key|version|...) changes its key, even
                # when the record has no meta op (HSET of an existing field, a chunk of a
                # long string): touch its meta key, as the master's batch did (the cache).
                mkey = key[:4] + key[8 : 8 + int.from_bytes(key[4:8], "big")]
                if not b.touched or b.touched[-1] != mkey:
                    b.touched.append(mkey)
        for table, (dk, de) in rec.deltas.items():
            b.add_delta(table, dk, de)
        self.commit(b)
        if any(cf == SYS and key == L.DBMAP_KEY for _, cf, key, _ in rec.ops):
            self._load_dbmap(len(self.databases))
        return b

    # -- counters -------------------------------------------------------------------------
    def key_count(self, table: int) -> int:
        return self._keys.get(table, 0)

    def expires_count(self, table: int) -> int:
        return self._expires.get(table, 0)

    # -- whole-table operations -----------------------------------------------------------
    def flush_table(self, batch: Batch, table: int) -> None:
        start, end = L.table_prefix(table), L.table_end(table)
        for cf in range(len(CF_NAMES)):
            if cf not in (BINLOG, SYS):
                batch.delete_range(cf, start, end)
        batch.add_delta(table, -self._keys.get(table, 0), -self._expires.get(table, 0))
        batch.touched.append(start)  # a 2-byte "meta key": every key of the table changed

    def swap_databases(self, a: int, b: int) -> None:
        dbs = self.databases
        ta, tb = dbs[a].table, dbs[b].table
        tables = [d.table for d in dbs]
        tables[a], tables[b] = tb, ta
        batch = self.batch()
        batch.put(SYS, L.DBMAP_KEY, L.encode_dbmap(tables))
        batch.touched += [L.table_prefix(ta), L.table_prefix(tb)]
        self.commit(batch)
        dbs[a].set_table(tb)
        dbs[b].set_table(ta)

    # -- expiry ---------------------------------------------------------------------------
    def expire_cycle(self, limit: int = 200) -> int:
        """Delete up to ``limit`` expired keys found through the ttl index."""
        if not self.expire_writes:
            return 0
        now = now_ms()
        removed = 0
        batch = self.batch()
        for db in self.databases:
            if not self._expires.get(db.table):
                continue
            lo, hi = L.ttl_range(db.table, now)
            for tkey, _ in self.engine.scan(TTL, lo, hi):
                mkey, exp = L.decode_ttl_key(tkey)
                raw = self.engine.get(META, mkey)
                if raw is not None and L.expire_of(raw) == exp:
                    batch.delete_key(mkey, raw)
                    if self.on_expired is not None:
                        self.on_expired(db.index, L.user_key(mkey))
                else:  # a stale index entry (should not happen): drop it
                    batch.delete(TTL, tkey)
                removed += 1
                if removed >= limit:
                    break
            if removed >= limit:
                break
        self.commit(batch)
        return removed

    # -- binlog ---------------------------------------------------------------------------
    def binlog_range(self, start_seq: int = 0) -> Iterator[tuple[int, bytes]]:
        lo = L.binlog_key(self.group, start_seq)
        hi = L.binlog_key(self.group + 1, 0)
        for k, v in self.engine.scan(BINLOG, lo, hi):
            yield L.decode_binlog_key(k)[1], v

    # Replication's floor (set by the replication manager while replicas are attached or a
    # full-sync checkpoint is kept): the first seq still needed; records from it on stay.
    binlog_needed: Callable[[], int] | None = None

    @property
    def first_seq(self) -> int:
        """The oldest binlog record kept (``seq + 1`` when the log is empty)."""
        return self._first_seq

    def trim_binlog(self) -> None:
        """Keep at most ``binlog_keep`` records, never what a replica still needs."""
        self.purge_binlog_to(self.seq - self.binlog_keep + 1)

    def purge_binlog_to(self, upto: int) -> int:
        """Delete records before seq ``upto``, bounded by the replication floor and keeping
        the last record (it carries ``seq`` across restarts). Returns the new first seq."""
        needed = self.binlog_needed
        if needed is not None:
            upto = min(upto, needed())
        upto = min(upto, self.seq)
        if upto > self._first_seq:
            # Not a commit: trimming the log is local bookkeeping, not a logged mutation.
            start, end = L.binlog_key(self.group, 0), L.binlog_key(self.group, upto)
            self.engine.apply([(OP_DELETE_RANGE, BINLOG, start, end)])
            self._first_seq = upto
        return self._first_seq

    def binlog_seq_at(self, ts_ms: int) -> int:
        """The first kept seq whose record was written at or after ``ts_ms``."""
        for seq, raw in self.binlog_range(self._first_seq):
            if int.from_bytes(raw[:8], "big") >= ts_ms:
                return seq
        return self.seq + 1

    def binlog_bytes(self) -> int:
        """Approximate size of the binlog column family (SST files + memtables)."""
        e = self.engine
        return (e.property_int("rocksdb.total-sst-files-size", BINLOG) or 0) + (
            e.property_int("rocksdb.cur-size-all-mem-tables", BINLOG) or 0
        )

    def close(self) -> None:
        for db in self.databases:
            db.detach()
        self.engine.close()
