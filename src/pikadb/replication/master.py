"""Master side: replicas attached on the normal port (see protocol.py for the frames).

Each replica is a :class:`ReplicaLink` over its client connection. Incremental records are
read from the binlog and pushed after each group write (a store listener schedules
:meth:`MasterSide.pump` with ``call_soon``, which runs after the tick's write), at most
``sync-window-size`` records ahead of the replica's last ``REPLCONF ACK``. A full sync sends
a checkpoint's files, throttled, from wherever the replica asks (``REPLCONF FETCH``).
Nothing here runs unless a replica is attached: with none, the store has no listener.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from pikadb.core.clock import now_ms
from pikadb.replication import protocol as P
from pikadb.replication.snapshot import Snapshot, SnapshotStore
from pikadb.storage import replication_state as RS

if TYPE_CHECKING:
    from pikadb.replication.manager import Replication

log = logging.getLogger("pikadb.replication")

BATCH_RECORDS = 512
BATCH_BYTES = 1 << 20
HIGH_WATER = 8 << 20  # bytes queued in a replica's transport before we stop sending
FILE_CHUNK = 1 << 20


class ReplicaLink:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.ip = conn.addr.rsplit(":", 1)[0]
        self.port = 0
        self.state = "wait_bgsave"  # wait_bgsave | send_bulk | online
        self.framed = False
        self.sent = 0
        self.acked = 0
        self.last_ack = time.monotonic()
        self.last_send = time.monotonic()
        self.snapshot: Snapshot | None = None
        self.hint = ""
        self.after_full_sync = False  # the replica reconnects right after a full sync
        self.task: asyncio.Task[None] | None = None
        self.sent_bytes = 0

    @property
    def alive(self) -> bool:
        t = getattr(self.conn, "transport", None)
        return t is not None and not t.is_closing() and not getattr(self.conn, "_closed", False)

    def write(self, data: bytes) -> None:
        t = self.conn.transport
        if t is not None and not t.is_closing():
            t.write(data)
            self.last_send = time.monotonic()
            self.sent_bytes += len(data)

    def buffered(self) -> int:
        t = self.conn.transport
        return t.get_write_buffer_size() if t is not None else 0

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.conn.close()


class MasterSide:
    def __init__(self, repl: Replication) -> None:
        self.repl = repl
        self.links: dict[int, ReplicaLink] = {}
        self._scheduled = False
        self._listening = False
        self.snaps = SnapshotStore(os.path.join(repl.base_dir, "replsnap"))
        self.waiters: list[tuple[int, int, asyncio.Future[int]]] = []

    # -- store hooks ------------------------------------------------------------------------
    def _on_commit(self, batch: Any) -> None:
        if not self._scheduled:
            self._scheduled = True
            loop = self.repl.loop
            if loop is not None:
                loop.call_soon(self.pump)

    def attach(self) -> None:
        """(Re)install the store listener when replicas are attached."""
        store = self.repl.server.store
        want = bool(self.links)
        has = self._on_commit in store.listeners
        if want and not has:
            store.listeners.append(self._on_commit)
        elif not want and has:
            store.listeners.remove(self._on_commit)
        # sync-all's reply gate follows the links at once, not at the next cron: a write
        # acknowledged right after a replica came online must wait for its ack
        self.repl._refresh_flags()

    # -- commands ---------------------------------------------------------------------------
    def link_for(self, c: Any) -> ReplicaLink:
        link = self.links.get(c.id)
        if link is None:
            link = ReplicaLink(c)
            self.links[c.id] = link
            t = getattr(c, "transport", None)
            if t is not None:
                # The connection stops reading a client whose output passes the transport's
                # high-water mark; a replica's acks must keep flowing while we stream to it,
                # and HIGH_WATER already bounds what we queue.
                t.set_write_buffer_limits(high=4 * HIGH_WATER)
        return link

    def replconf(self, c: Any, option: str, value: str) -> None:
        link = self.link_for(c) if option in ("listening-port", "snapshot") else None
        if option == "listening-port" and link is not None:
            link.port = int(value)
        elif option == "snapshot" and link is not None:
            link.hint = value
        elif option == "fullsync-done":
            self.link_for(c).after_full_sync = True

    def ack(self, c: Any, seq: int) -> None:
        link = self.links.get(c.id)
        if link is None:
            return
        link.last_ack = time.monotonic()
        if link.state == "online":
            if seq > link.acked:
                link.acked = seq
                self.wake_waiters()
            if link.sent - link.acked < self.repl.settings.sync_window_size:
                self.pump()

    def psync(self, c: Any, replid: str, offset: int) -> bytes:
        repl = self.repl
        st = repl.state
        store = repl.server.store
        link = self.link_for(c)
        c.kind = "replica"
        c.flags = "S"
        if link.task is not None:
            link.task.cancel()
            link.task = None
        self._release(link)
        ok_history = replid == st.replid or (replid == st.replid2 and offset <= st.second_offset)
        if ok_history and store.first_seq <= offset <= store.seq + 1:
            link.state = "online"
            link.sent = link.acked = offset - 1
            link.last_ack = time.monotonic()
            self.attach()
            repl.loop.call_soon(self._go_online, link)
            if not link.after_full_sync:  # (Redis counts that one as the full sync only)
                repl.server.stats.sync_partial_ok += 1
            log.info("replica %s:%d continues from seq %d", link.ip, link.port, offset)
            return f"+CONTINUE {st.replid}\r\n".encode()
        stats = repl.server.stats
        stats.sync_full += 1
        if replid != "?":
            stats.sync_partial_err += 1
        snap = self._pick_snapshot(link.hint)
        link.state = "send_bulk"
        link.snapshot = snap
        snap.users += 1
        self.attach()
        link.task = asyncio.ensure_future(self._send_manifest(link, snap))
        log.info("replica %s:%d full sync from snapshot %s", link.ip, link.port, snap.id)
        return f"+FULLRESYNC {st.replid} {snap.seq}\r\n".encode()

    def fetch(self, c: Any, sid: str, index: int, offset: int) -> None:
        link = self.links.get(c.id)
        snap = link.snapshot if link is not None else None
        if link is None or snap is None or snap.id != sid:
            if link is not None:
                link.write(P.error_frame("unknown snapshot"))
            c.close()
            return
        if link.task is not None:
            link.task.cancel()
        link.task = asyncio.ensure_future(self._send_files(link, snap, index, offset))

    # -- full sync --------------------------------------------------------------------------
    def _pick_snapshot(self, hint: str) -> Snapshot:
        store = self.repl.server.store
        ttl = self.repl.settings.repl_snapshot_ttl
        usable = self.snaps.usable(store.first_seq, ttl)
        for s in usable:
            if s.id == hint:
                return s
        if usable and usable[0].seq == store.seq:
            return usable[0]
        if usable and store.seq - usable[0].seq < self.repl.settings.sync_window_size:
            return usable[0]  # fresh enough: the binlog covers the rest
        for s in self.snaps.snaps.values():
            if not s.ready and s.job is not None:  # one is being made: share it
                return s
        sid, path = self.snaps.new_path(store.seq)
        # seq: a lower bound until the checkpoint exists (it holds every write up to it)
        return self.snaps.add(sid, path, store.seq)

    async def _make(self, snap: Snapshot) -> None:
        """Checkpoint + manifest without stalling the loop: memtables are flushed in the
        background first, then the checkpoint and the checksums run on a worker thread."""
        store = self.repl.server.store
        RS.start_flush(store)
        for _ in range(600):
            if not RS.flush_pending(store):
                break
            await asyncio.sleep(0.05)
        snap.seq = await asyncio.to_thread(RS.checkpoint, store, snap.path)
        await asyncio.to_thread(self.snaps.finish, snap)

    async def _send_manifest(self, link: ReplicaLink, snap: Snapshot) -> None:
        await asyncio.sleep(0)  # after the +FULLRESYNC reply went out with the tick
        link.framed = True
        if not snap.ready:
            if snap.job is None:
                snap.job = asyncio.ensure_future(self._make(snap))
            try:
                await asyncio.shield(snap.job)
            except Exception as exc:
                log.exception("full-sync checkpoint failed")
                self.snaps.remove(snap.id)
                link.write(P.error_frame(f"checkpoint failed: {exc}"))
                link.close()
                return
        link.write(P.manifest_frame(snap.manifest(self.repl.state.replid)))

    async def _send_files(self, link: ReplicaLink, snap: Snapshot, index: int, offset: int) -> None:
        rate = self.repl.settings.throttle_bytes_per_second
        t0 = time.monotonic()
        sent = chunks = 0
        for i in range(index, len(snap.files)):
            meta = snap.files[i]
            path = os.path.join(snap.path, meta["name"])
            size = int(meta["size"])
            pos = offset if i == index else 0
            with open(path, "rb") as f:
                f.seek(pos)
                while pos < size:
                    while link.buffered() > HIGH_WATER:
                        if not link.alive:
                            return
                        await asyncio.sleep(0.002)
                    if not link.alive:
                        return
                    data = f.read(min(FILE_CHUNK, size - pos))
                    if not data:
                        link.write(P.error_frame(f"{meta['name']} is shorter than its manifest"))
                        link.close()
                        return
                    link.write(P.data_header(i, pos, len(data)))
                    link.write(data)
                    pos += len(data)
                    sent += len(data)
                    chunks += 1
                    ahead = sent / rate - (time.monotonic() - t0)
                    if ahead > 0.001:
                        await asyncio.sleep(ahead)
                    elif chunks % 4 == 0:
                        await asyncio.sleep(0)  # let clients in between chunks
        link.task = None

    def _release(self, link: ReplicaLink) -> None:
        if link.snapshot is not None:
            link.snapshot.users -= 1
            link.snapshot = None

    # -- incremental ------------------------------------------------------------------------
    def _go_online(self, link: ReplicaLink) -> None:
        link.framed = True
        self.pump()

    def pump(self) -> None:
        """Send each online replica the records it has not got, within its window."""
        self._scheduled = False
        store = self.repl.server.store
        top = store.seq
        window = self.repl.settings.sync_window_size
        for link in list(self.links.values()):
            if link.state != "online" or not link.framed or link.sent >= top:
                continue
            while link.sent < top and link.sent - link.acked < window:
                if link.buffered() > HIGH_WATER:
                    break
                limit = min(BATCH_RECORDS, window - (link.sent - link.acked))
                items: list[tuple[int, bytes]] = []
                size = 0
                expect = link.sent + 1
                for seq, raw in store.binlog_range(expect):
                    if seq != expect:  # purged under us (cannot happen with the floor)
                        break
                    items.append((seq, raw))
                    size += len(raw)
                    expect += 1
                    if len(items) >= limit or size >= BATCH_BYTES:
                        break
                if not items:
                    link.write(P.error_frame("binlog purged past the replica's position"))
                    link.close()
                    break
                link.write(P.batch_frame(items))
                link.sent = items[-1][0]

    # -- WAIT / sync-all --------------------------------------------------------------------
    def count_acked(self, seq: int) -> int:
        return sum(1 for ln in self.links.values() if ln.state == "online" and ln.acked >= seq)

    def online(self) -> list[ReplicaLink]:
        return [ln for ln in self.links.values() if ln.state == "online"]

    def wake_waiters(self) -> None:
        if self.waiters:
            keep = []
            for target, num, fut in self.waiters:
                if fut.done():
                    continue
                n = self.count_acked(target)
                if n >= num:
                    fut.set_result(n)
                else:
                    keep.append((target, num, fut))
            self.waiters = keep
        self.repl.release_held()

    # -- cron -------------------------------------------------------------------------------
    def cron(self) -> None:
        now = time.monotonic()
        s = self.repl.settings
        dropped = False
        for cid, link in list(self.links.items()):
            if not link.alive:
                self._drop(cid, link)
                dropped = True
                continue
            if now - link.last_ack > s.repl_timeout:
                log.warning("replica %s:%d timed out", link.ip, link.port)
                self._drop(cid, link)
                link.close()
                dropped = True
                continue
            if link.framed and now - link.last_send >= s.repl_ping_replica_period:
                link.write(P.heartbeat_frame(self.repl.server.store.seq, now_ms()))
        if dropped:
            self.attach()
            self.wake_waiters()
        if self.links:
            self.pump()
        keep = {ln.snapshot.id for ln in self.links.values() if ln.snapshot is not None}
        self.snaps.expire(s.repl_snapshot_ttl, keep)

    def _drop(self, cid: int, link: ReplicaLink) -> None:
        self.links.pop(cid, None)
        if link.task is not None:
            link.task.cancel()
        self._release(link)
        log.info("replica %s:%d disconnected", link.ip, link.port)

    def disconnect_all(self) -> None:
        for cid, link in list(self.links.items()):
            self._drop(cid, link)
            link.close()
        self.attach()
        self.wake_waiters()

    def needed_seq(self) -> int | None:
        """First seq a connected or full-syncing replica still needs (Pika's rule: a
        disconnected replica holds nothing back)."""
        seqs = []
        for ln in self.links.values():
            if ln.state == "online":
                seqs.append(ln.acked + 1)
            elif ln.snapshot is not None:
                seqs.append(ln.snapshot.seq + 1)
        return min(seqs) if seqs else None
