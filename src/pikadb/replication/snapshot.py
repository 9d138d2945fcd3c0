"""Full-sync snapshots: the master's checkpoints (kept a while for resuming replicas) and
the replica's download directory (kept across broken links and restarts).

Master: ``<dir>/replsnap/<id>/`` is a RocksDB checkpoint; ``<dir>/replsnap/<id>.json`` its
manifest ``{snapshot, seq, created, files: [{name, size, crc}]}`` (written last: a directory
without it is an unfinished checkpoint and is removed).

Replica: ``<db-sync-path>/<id>/`` receives the files in manifest order,
``<db-sync-path>/<id>.json`` is the manifest as received and ``<id>.done`` lists the indexes
of the files completed and verified (crc32), one per line, fsynced. A file listed there is
never fetched again; the first unlisted file resumes from its size on disk.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("pikadb.replication")

CHUNK = 1 << 20


def file_crc(path: str, upto: int | None = None, crc: int = 0) -> int:
    with open(path, "rb") as f:
        left = upto
        while True:
            n = CHUNK if left is None else min(CHUNK, left)
            if n == 0:
                break
            data = f.read(n)
            if not data:
                break
            crc = zlib.crc32(data, crc)
            if left is not None:
                left -= len(data)
    return crc


@dataclass
class Snapshot:
    id: str
    path: str
    seq: int
    created: float
    files: list[dict[str, Any]] = field(default_factory=list)
    ready: bool = False
    users: int = 0  # links sending from it right now
    job: Any = None  # the task making it (checkpoint + checksums)

    @property
    def size(self) -> int:
        return sum(int(f["size"]) for f in self.files)

    def manifest(self, replid: str) -> dict[str, Any]:
        return {"snapshot": self.id, "seq": self.seq, "replid": replid, "files": self.files}


class SnapshotStore:
    """The master's checkpoints for full syncs."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.snaps: dict[str, Snapshot] = {}
        os.makedirs(base, exist_ok=True)
        for name in os.listdir(base):
            path = os.path.join(base, name)
            if name.endswith(".json"):
                continue
            meta = path + ".json"
            try:
                with open(meta) as f:
                    m = json.load(f)
                snap = Snapshot(name, path, int(m["seq"]), float(m["created"]), m["files"], True)
                self.snaps[name] = snap
            except (OSError, ValueError, KeyError):
                shutil.rmtree(path, ignore_errors=True)  # unfinished checkpoint

    def new_path(self, seq: int) -> tuple[str, str]:
        sid = f"{seq}-{secrets.token_hex(6)}"
        return sid, os.path.join(self.base, sid)

    def add(self, sid: str, path: str, seq: int) -> Snapshot:
        snap = Snapshot(sid, path, seq, time.time())
        self.snaps[sid] = snap
        return snap

    def finish(self, snap: Snapshot) -> None:
        """Compute sizes and checksums (a worker thread) and write the manifest."""
        files = []
        for name in sorted(os.listdir(snap.path)):
            p = os.path.join(snap.path, name)
            if os.path.isfile(p):
                files.append({"name": name, "size": os.path.getsize(p), "crc": file_crc(p)})
        snap.files = files
        tmp = snap.path + ".json.tmp"
        with open(tmp, "w") as f:
            json.dump({"seq": snap.seq, "created": snap.created, "files": files}, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, snap.path + ".json")
        snap.ready = True

    def usable(self, first_seq: int, ttl: float) -> list[Snapshot]:
        """Snapshots a replica can start from (their binlog tail is still kept), newest first."""
        now = time.time()
        out = [
            s
            for s in self.snaps.values()
            if s.seq + 1 >= first_seq and (s.users or now - s.created <= ttl)
        ]
        return sorted(out, key=lambda s: s.created, reverse=True)

    def expire(self, ttl: float, keep: set[str]) -> None:
        now = time.time()
        for sid, s in list(self.snaps.items()):
            if sid in keep or s.users or not s.ready:
                continue
            if now - s.created > ttl or len(self.snaps) > 2:
                self.remove(sid)

    def remove(self, sid: str) -> None:
        s = self.snaps.pop(sid, None)
        if s is not None:
            shutil.rmtree(s.path, ignore_errors=True)
            for ext in (".json", ".json.tmp"):
                try:
                    os.unlink(s.path + ext)
                except OSError:
                    pass

    def oldest_needed_seq(self) -> int | None:
        seqs = [s.seq + 1 for s in self.snaps.values()]
        return min(seqs) if seqs else None


class Download:
    """The replica's side of one snapshot: which files are done, where to resume."""

    def __init__(self, base: str, manifest: dict[str, Any]) -> None:
        self.base = base
        self.id = str(manifest["snapshot"])
        self.seq = int(manifest["seq"])
        self.replid = str(manifest["replid"])
        self.files: list[dict[str, Any]] = list(manifest["files"])
        self.dir = os.path.join(base, self.id)
        os.makedirs(self.dir, exist_ok=True)
        meta = self.dir + ".json"
        if not os.path.exists(meta):
            with open(meta + ".tmp", "w") as f:
                json.dump(manifest, f)
            os.rename(meta + ".tmp", meta)
        self.done: set[int] = set()
        try:
            with open(self.dir + ".done") as f:
                self.done = {int(x) for x in f.read().split()}
        except (OSError, ValueError):
            pass
        self.index = 0
        self.crc = 0
        self.received = 0
        self._fh: Any = None

    @staticmethod
    def pending_id(base: str) -> str | None:
        """The snapshot of an unfinished download, if any (sent as a resume hint)."""
        try:
            names = [n[:-5] for n in os.listdir(base) if n.endswith(".json")]
        except OSError:
            return None
        return max(
            names, key=lambda n: os.path.getmtime(os.path.join(base, n + ".json")), default=None
        )

    @staticmethod
    def discard_others(base: str, keep: str) -> None:
        try:
            names = os.listdir(base)
        except OSError:
            return
        for n in names:
            stem = n.split(".", 1)[0]
            if stem != keep:
                p = os.path.join(base, n)
                if os.path.isdir(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    try:
                        os.unlink(p)
                    except OSError:
                        pass

    def resume_point(self) -> tuple[int, int]:
        """(file index, offset) to FETCH from; prepares the partial file (its crc so far).
        Runs in a worker thread (reads the partial file)."""
        i = 0
        while i < len(self.files) and i in self.done:
            i += 1
        self.index = i
        if i >= len(self.files):
            return i, 0
        path = os.path.join(self.dir, self.files[i]["name"])
        size = os.path.getsize(path) if os.path.exists(path) else 0
        if size > int(self.files[i]["size"]):
            os.unlink(path)
            size = 0
        self.crc = file_crc(path) if size else 0
        self.received = size
        return i, size

    @property
    def complete(self) -> bool:
        return all(i in self.done for i in range(len(self.files)))

    def write(self, index: int, offset: int, data: memoryview) -> None:
        if index != self.index or offset != self.received:
            raise ValueError(
                f"unexpected chunk {index}@{offset}, want {self.index}@{self.received}"
            )
        if self._fh is None:
            path = os.path.join(self.dir, self.files[index]["name"])
            self._fh = open(path, "r+b" if os.path.exists(path) else "wb")  # noqa: SIM115
            self._fh.seek(offset)
        self._fh.write(data)
        self.crc = zlib.crc32(data, self.crc)
        self.received += len(data)

    def current_full(self) -> bool:
        return self.index < len(self.files) and self.received >= int(self.files[self.index]["size"])

    def finish_file(self) -> None:
        """The current file is complete: verify, fsync, record it (worker thread)."""
        meta = self.files[self.index]
        path = os.path.join(self.dir, meta["name"])
        if self._fh is None:
            open(path, "ab").close()
            fh = open(path, "rb")  # noqa: SIM115
        else:
            fh = self._fh
            fh.flush()
        self._fh = None
        try:
            os.fsync(fh.fileno())
        finally:
            fh.close()
        if self.crc != int(meta["crc"]) or os.path.getsize(path) != int(meta["size"]):
            os.unlink(path)
            raise ValueError(f"checksum mismatch in {meta['name']}")
        with open(self.dir + ".done", "a") as f:
            f.write(f"{self.index}\n")
            f.flush()
            os.fsync(f.fileno())
        self.done.add(self.index)
        self.index += 1
        self.crc = 0
        self.received = 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def cleanup_meta(self) -> None:
        for ext in (".json", ".done"):
            try:
                os.unlink(self.dir + ext)
            except OSError:
                pass
