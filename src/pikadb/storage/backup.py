"""BGSAVE / SAVE snapshots: a RocksDB checkpoint plus an ``info`` file, under ``dump-path``.

A snapshot is a directory laid out exactly like a data directory (``--dir``)::

    <dump-path>/<dump-prefix><YYYYmmddHHMMSS>/     (``-N`` appended if that name is taken)
        db/       RocksDB checkpoint of the whole node: every database, the key counters,
                  the binlog (so the replication position travels with the data)
        info      "name: value" lines: time, duration, host, port, binlog group and sequence
                  number of the last write inside the checkpoint, replication id, version

Restoring is starting a server on a COPY of the snapshot (``cp -a SNAP NEWDIR && pikadb
server --dir NEWDIR``): the copy is a complete data directory, nothing is replayed. Copy
first: a running server rewrites files in its directory (and the SST files of a snapshot are
hard links shared with the live database, so never edit them in place).

The checkpoint itself is RocksDB's: SST files are hard-linked (no data copied when the dump
path is on the same filesystem), memtables are flushed first, and since every pikadb write is
one atomic RocksDB batch (data + binlog record), the checkpoint holds whole writes only. It
runs on a worker thread while the server keeps serving; the binlog sequence in ``info`` is
read back from the finished checkpoint, so it is exact even with writes racing it.

Pika's names: a failed snapshot is renamed ``<dir>_FAILED``; ``dump-expire`` deletes
snapshots older than N days (by the date in their name); DELBACKUP deletes all snapshots but
the one in progress and any pinned (e.g. by a full sync in flight).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pikadb.storage import layout as L
from pikadb.storage.engine import BINLOG, Engine

INFO_FILE = "info"
DB_DIR = "db"
FAILED_SUFFIX = "_FAILED"


@dataclass
class SaveResult:
    path: str
    ok: bool
    seq: int = 0
    duration: float = 0.0
    error: str = ""


@dataclass
class Backups:
    """Snapshot state of one server (INFO persistence, LASTSAVE, DELBACKUP)."""

    in_progress: bool = False
    current_path: str = ""
    started_at: float = 0.0
    dirty_at_start: int = 0
    last_save_time: int = 0  # unix seconds of the last successful snapshot (0: none yet)
    last_status: str = "ok"  # rdb_last_bgsave_status
    last_duration: float = -1.0
    last_path: str = ""
    last_seq: int = 0
    saves: int = 0
    pinned: set[str] = field(default_factory=set)  # snapshot paths DELBACKUP must keep
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- naming -----------------------------------------------------------------------------
    def begin(self, root: str, prefix: str, dirty: int, now: float | None = None) -> str:
        """Reserve a snapshot directory name and mark a snapshot in progress. Raises
        :class:`RuntimeError` if one is already running."""
        with self._lock:
            if self.in_progress:
                raise RuntimeError("in progress")
            now = time.time() if now is None else now
            stamp = datetime.fromtimestamp(now).strftime("%Y%m%d%H%M%S")
            base = os.path.join(root, f"{prefix}{stamp}")
            path, n = base, 0
            while os.path.exists(path) or os.path.exists(path + FAILED_SUFFIX):
                n += 1
                path = f"{base}-{n}"
            self.in_progress = True
            self.current_path = path
            self.started_at = now
            self.dirty_at_start = dirty
            return path

    def finish(self, result: SaveResult) -> None:
        with self._lock:
            self.in_progress = False
            self.current_path = ""
            self.last_duration = result.duration
            if result.ok:
                self.last_status = "ok"
                self.last_save_time = int(time.time())
                self.last_path = result.path
                self.last_seq = result.seq
                self.saves += 1
            else:
                self.last_status = "err"

    def current_seconds(self) -> int:
        return int(time.time() - self.started_at) if self.in_progress else -1

    # -- housekeeping -------------------------------------------------------------------------
    def snapshots(self, root: str, prefix: str) -> list[str]:
        """Snapshot directories under ``root`` made with ``prefix`` (failed ones too)."""
        pattern = re.compile(re.escape(prefix) + r"\d{14}(-\d+)?(" + FAILED_SUFFIX + ")?")
        try:
            names = sorted(os.listdir(root))
        except OSError:
            return []
        return [
            os.path.join(root, n)
            for n in names
            if pattern.fullmatch(n) and os.path.isdir(os.path.join(root, n))
        ]

    def _keep(self) -> set[str]:
        keep = set(self.pinned)
        if self.in_progress:
            keep.add(self.current_path)
        return keep

    def delete_all(self, root: str, prefix: str) -> list[str]:
        """DELBACKUP: remove every snapshot except the running and pinned ones."""
        return _remove(self.snapshots(root, prefix), self._keep())

    def expire(self, root: str, prefix: str, days: int, now: float | None = None) -> list[str]:
        """``dump-expire``: remove snapshots whose name date is more than ``days`` days old."""
        if days <= 0:
            return []
        now = time.time() if now is None else now
        old: list[str] = []
        for path in self.snapshots(root, prefix):
            stamp = os.path.basename(path)[len(prefix) : len(prefix) + 14]
            try:
                made = datetime.strptime(stamp, "%Y%m%d%H%M%S").timestamp()
            except ValueError:
                continue
            if now - made > days * 86400:
                old.append(path)
        return _remove(old, self._keep())


def _remove(paths: Iterable[str], keep: set[str]) -> list[str]:
    removed = []
    for p in paths:
        if p in keep:
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def take_snapshot(engine: Engine, path: str, group: int, meta: dict[str, object]) -> SaveResult:
    """Write the checkpoint and the info file at ``path`` (worker thread or inline). The
    caller has written the group's pending ops out (:meth:`Engine.flush_group`)."""
    t0 = time.monotonic()
    try:
        os.makedirs(path)
        db_path = os.path.join(path, DB_DIR)
        engine.create_checkpoint(db_path)
        last = Engine.last_key_in(
            db_path, BINLOG, L.binlog_key(group, 0), L.binlog_key(group + 1, 0)
        )
        seq = L.decode_binlog_key(last)[1] if last else 0
        duration = time.monotonic() - t0
        lines = {
            "time": int(time.time()),
            "date": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "duration_sec": f"{duration:.3f}",
            **meta,
            "binlog_group": group,
            "binlog_seq": seq,
        }
        tmp = os.path.join(path, INFO_FILE + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("# pikadb snapshot: start a server on a copy of this directory to restore it\n")
            f.writelines(f"{k}: {v}\n" for k, v in lines.items())
        os.replace(tmp, os.path.join(path, INFO_FILE))
        return SaveResult(path, True, seq, duration)
    except Exception as exc:
        if os.path.isdir(path):
            failed = path + FAILED_SUFFIX
            shutil.rmtree(failed, ignore_errors=True)
            os.replace(path, failed)
        return SaveResult(path, False, 0, time.monotonic() - t0, str(exc) or type(exc).__name__)


def read_info(path: str) -> dict[str, str]:
    """The ``info`` file of a snapshot as a dict (empty if missing)."""
    out: dict[str, str] = {}
    try:
        with open(os.path.join(path, INFO_FILE), encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or ":" not in line:
                    continue
                k, _, v = line.partition(":")
                out[k.strip()] = v.strip()
    except OSError:
        pass
    return out


def dump_root(dump_path: str, data_dir: str) -> str:
    """Where snapshots go: ``dump-path``, or ``<dir>/dump`` when it is empty."""
    return dump_path or str(Path(data_dir) / "dump")


def disk_free(path: str) -> tuple[int, int]:
    """(free bytes, total bytes) of the filesystem holding ``path`` (or its parent)."""
    p = path
    while p and not os.path.exists(p):
        p = os.path.dirname(p.rstrip("/"))
    st = os.statvfs(p or ".")
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize
