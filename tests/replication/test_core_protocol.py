"""Replication internals without servers: the wire frames (round trip, split reads), the
replica's resumable and checksummed download, the crash-safe swap, and sequence identity
when a replica applies master records (its own binlog gets them under the same seq)."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest

from pikadb.replication import protocol as P
from pikadb.replication.snapshot import Download, SnapshotStore
from pikadb.storage import replication_state as RS
from pikadb.storage.store import Store


def test_frames_round_trip_through_split_reads() -> None:
    items = [(7, b"rec-a"), (8, b""), (9, b"x" * 70_000)]
    manifest = {"snapshot": "5-ab", "seq": 5, "replid": "r" * 40, "files": [{"name": "a"}]}
    stream = (
        b"+FULLRESYNC abc 5\r\n"
        + P.batch_frame(items)
        + P.heartbeat_frame(9, 1234)
        + P.manifest_frame(manifest)
        + P.data_header(3, 100, 4)
        + b"DATA"
        + P.error_frame("bye")
    )
    fr = P.FrameReader()
    got: list[tuple[int, bytes]] = []
    line = None
    for i in range(0, len(stream), 7):  # fed in small pieces, as TCP may deliver it
        fr.feed(stream[i : i + 7])
        if line is None:
            line = fr.line()
            if line is not None:
                fr.start_frames()
        if fr.framed:
            got += [(k, bytes(p)) for k, p in fr.frames()]
    assert line == b"+FULLRESYNC abc 5"
    kinds = [P.KIND_BATCH, P.KIND_HEARTBEAT, P.KIND_MANIFEST, P.KIND_DATA, P.KIND_ERROR]
    assert [k for k, _ in got] == kinds
    assert P.decode_batch(got[0][1]) == items
    assert P.decode_heartbeat(got[1][1]) == (9, 1234)
    assert P.decode_manifest(got[2][1]) == manifest
    idx, off, data = P.decode_data(memoryview(got[3][1]))
    assert (idx, off, bytes(data)) == (3, 100, b"DATA")
    assert got[4][1] == b"bye"
    assert fr.buffered == 0
    assert P.command("REPLCONF", "ACK", 12) == b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n12\r\n"
    with pytest.raises(ValueError):
        P.decode_batch(P.batch_frame(items)[P.HEADER : -1])


def _snapshot(tmp: Path) -> tuple[SnapshotStore, dict[str, object]]:
    snaps = SnapshotStore(str(tmp / "replsnap"))
    sid, path = snaps.new_path(42)
    os.makedirs(path)
    for name, size in (("000001.sst", 300_000), ("CURRENT", 16), ("EMPTY", 0)):
        Path(path, name).write_bytes(os.urandom(size))
    snap = snaps.add(sid, path, 42)
    snaps.finish(snap)
    return snaps, snap.manifest("r" * 40)


def _feed(dl: Download, snap_dir: str, index: int, offset: int, limit: int) -> None:
    """Send like the master does, from (index, offset), at most ``limit`` bytes."""
    for i in range(index, len(dl.files)):
        data = Path(snap_dir, dl.files[i]["name"]).read_bytes()
        pos = offset if i == index else 0
        while pos < len(data):
            if limit <= 0:
                return
            chunk = data[pos : pos + min(65536, limit)]
            dl.write(i, pos, memoryview(chunk))
            pos += len(chunk)
            limit -= len(chunk)
            while dl.index < len(dl.files) and dl.current_full():
                dl.finish_file()
        while dl.index < len(dl.files) and dl.current_full():
            dl.finish_file()


def test_download_resumes_and_checks_crc(tmp_path: Path) -> None:
    snaps, manifest = _snapshot(tmp_path)
    snap_dir = os.path.join(snaps.base, str(manifest["snapshot"]))
    base = str(tmp_path / "dbsync")
    dl = Download(base, manifest)
    assert dl.resume_point() == (0, 0)
    _feed(dl, snap_dir, 0, 0, 100_000)  # the link breaks part-way through file 0
    dl.close()
    assert Download.pending_id(base) == manifest["snapshot"]
    dl = Download(base, manifest)  # a new process, same snapshot
    assert dl.resume_point() == (0, 100_000)
    _feed(dl, snap_dir, 0, 100_000, 10**9)
    assert dl.complete
    for f in dl.files:
        data = Path(dl.dir, f["name"]).read_bytes()
        assert (len(data), zlib.crc32(data)) == (f["size"], f["crc"])
    # a corrupted byte is caught and the file fetched again
    bad = Download(str(tmp_path / "dbsync2"), manifest)
    bad.resume_point()
    first = bytearray(Path(snap_dir, bad.files[0]["name"]).read_bytes())
    first[5] ^= 0xFF
    bad.write(0, 0, memoryview(bytes(first)))
    with pytest.raises(ValueError, match="checksum"):
        bad.finish_file()
    assert bad.resume_point() == (0, 0)


def test_swap_is_atomic_across_a_crash(tmp_path: Path) -> None:
    db = str(tmp_path / "db")
    os.makedirs(db)
    Path(db, "old").write_text("old")
    staging = str(tmp_path / "dbsync" / "snap")
    os.makedirs(staging)
    Path(staging, "new").write_text("new")
    old = RS.swap_in(staging, db)
    assert os.listdir(db) == ["new"] and os.listdir(old) == ["old"]
    RS.recover_swap(db)  # both present: the new data stays, the old goes
    assert not os.path.exists(old) and os.listdir(db) == ["new"]
    # a crash between the renames: the old data comes back
    os.rename(db, db + RS.OLD_SUFFIX)
    RS.recover_swap(db)
    assert os.listdir(db) == ["new"]


def test_replica_apply_keeps_master_seq(tmp_path: Path) -> None:
    master = Store(str(tmp_path / "m"))
    replica = Store(str(tmp_path / "r"))
    try:
        db = master.databases[0]
        for i in range(5):
            b = master.batch()
            mkey, raw = db.lookup(b"k%d" % i)
            b.put_meta(mkey, raw, b"\x00" * 9 + b"v%d" % i)
            master.commit(b)
        master.begin_group()  # a group write is one record
        for i in range(3):
            b = master.batch()
            mkey, raw = db.lookup(b"g%d" % i)
            b.put_meta(mkey, raw, b"\x00" * 9 + b"g")
            master.commit(b)
        master.end_group()
        records = list(master.binlog_range(1))
        assert [s for s, _ in records] == [1, 2, 3, 4, 5, 6]
        replica.begin_group()  # even inside a replica's own tick, one write per record
        assert RS.apply_records(replica, records) == 6
        replica.end_group()
        assert [s for s, _ in replica.binlog_range(1)] == [1, 2, 3, 4, 5, 6]
        assert replica.key_count(0) == master.key_count(0) == 8
        st = RS.load_state(replica)
        st.master_host, st.master_port = "h", 1
        RS.save_state(replica, st)
        assert replica.seq == 6  # the state write is not a binlog record
        assert RS.load_state(replica) == st
        # retention never drops what a replica needs, nor the last record
        master.binlog_needed = lambda: 3
        assert master.purge_binlog_to(100) == 3
        master.binlog_needed = None
        assert master.purge_binlog_to(100) == 6 == master.seq
    finally:
        master.close()
        replica.close()
