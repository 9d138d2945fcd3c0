"""Replication bookkeeping kept in the storage: the node's replication identity, the
replica-side apply of master records, checkpoints and the atomic swap of a full sync.

The identity lives in the ``sys`` column family under ``repl`` and is written with
:meth:`Engine.apply` (local bookkeeping, never a binlog record: a chained replica must not
receive its master's identity)::

    sys["repl"] = JSON {"replid": str, "replid2": str, "second_offset": int,
                        "master_host": str, "master_port": int}

Sequence identity: a replica applies master record ``seq`` as its own write, so its own
binlog gets the record under the SAME seq. ``Store.seq`` therefore *is* the applied master
offset (it is written in the same RocksDB write as the data), a replica's binlog can feed a
chained replica, and a promoted replica continues its master's numbering (PSYNC2).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from pikadb.storage import layout as L
from pikadb.storage.binlog import OP_PUT
from pikadb.storage.engine import BINLOG, SYS, Engine
from pikadb.storage.store import Store

log = logging.getLogger("pikadb.replication")

STATE_KEY = b"repl"
OLD_SUFFIX = ".replswap-old"


def new_replid() -> str:
    return secrets.token_hex(20)


@dataclass
class ReplState:
    replid: str = ""
    replid2: str = "0" * 40
    second_offset: int = -1
    master_host: str = ""
    master_port: int = 0


def load_state(store: Store) -> ReplState:
    raw = store.engine.get(SYS, STATE_KEY)
    st = ReplState()
    if raw:
        try:
            data = json.loads(raw)
            st = ReplState(**{k: data[k] for k in asdict(st) if k in data})
        except (ValueError, TypeError):
            log.warning("unreadable replication state; starting a new history")
    if not st.replid:
        st.replid = new_replid()
        save_state(store, st)
    return st


def save_state(store: Store, st: ReplState) -> None:
    raw = json.dumps(asdict(st), sort_keys=True).encode()
    store.engine.apply([(OP_PUT, SYS, STATE_KEY, raw)])


def apply_records(store: Store, items: Iterable[tuple[int, bytes]]) -> int:
    """Apply master records in order, each as its own write (so it lands under the same
    seq in this node's binlog). Returns the last seq applied."""
    engine = store.engine
    if engine.pending:  # a writable replica's own pending writes go first
        engine.flush_group()
    for seq, raw in items:
        if store.seq != seq - 1:  # local writes on a writable replica: realign
            log.warning("replica seq %d realigned to master seq %d", store.seq, seq - 1)
            store.seq = seq - 1
        store.apply_record(raw)
        if engine.pending:
            engine.flush_group()
    return store.seq


def start_flush(store: Store) -> None:
    """Write the pending group out and start flushing the memtables in the background, so
    the checkpoint that follows (which holds the GIL while it flushes) has little to do."""
    engine = store.engine
    if engine.pending:
        engine.flush_group()
    for cf in engine._cfs:  # (a non-blocking flush has no Engine method yet)
        cf.flush(False)


def flush_pending(store: Store) -> bool:
    """Whether memtable flushes started by :func:`start_flush` are still running."""
    engine = store.engine
    for i in range(len(engine._cfs)):
        if engine.property_int("rocksdb.mem-table-flush-pending", i):
            return True
        if engine.property_int("rocksdb.num-immutable-mem-table", i):
            return True
    return False


def checkpoint(store: Store, path: str) -> int:
    """A RocksDB checkpoint (worker thread: the engine call is thread-safe; writes may go on
    meanwhile, each atomic with its binlog record). Returns the last seq inside it."""
    store.engine.create_checkpoint(path)
    # Only the last binlog record goes along (it carries the seq the replica continues
    # from): the history would double what a full sync ships, and a replica never needs
    # records older than its snapshot.
    last = Engine.empty_cf_in(
        path, BINLOG, L.binlog_key(store.group, 0), L.binlog_key(store.group + 1, 0)
    )
    return L.decode_binlog_key(last)[1] if last else 0


def recover_swap(db_path: str) -> None:
    """Finish or undo a full-sync swap interrupted by a crash (call before opening)."""
    old = db_path.rstrip("/") + OLD_SUFFIX
    if not os.path.exists(old):
        return
    if os.path.exists(db_path):
        shutil.rmtree(old, ignore_errors=True)  # the new data is in place
    else:
        os.rename(old, db_path)  # crashed between the two renames: keep the old data
        fsync_dir(os.path.dirname(os.path.abspath(db_path)))


def swap_in(staging: str, db_path: str) -> str:
    """Replace the (closed) database directory by ``staging``; returns the old directory,
    to be deleted once the new store is open."""
    old = db_path.rstrip("/") + OLD_SUFFIX
    if os.path.exists(old):
        shutil.rmtree(old)
    parent = os.path.dirname(os.path.abspath(db_path))
    if os.path.exists(db_path):
        os.rename(db_path, old)
    os.rename(staging, db_path)
    fsync_dir(parent)
    fsync_dir(os.path.dirname(os.path.abspath(staging)))
    return old


def fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
