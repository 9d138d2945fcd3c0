"""Replica side: one task keeps the link to the master (connect, handshake, full sync,
incremental apply), reconnecting with backoff when the link breaks or goes silent.

Records are applied on the event loop through the commit path, one write per master record
(storage/replication_state.apply_records), so they are serialized with every other write and
this node's binlog gets them under the master's seq (it can itself be a master). A full sync
downloads into ``db-sync-path`` while the old data keeps serving; only a complete, verified,
fsynced checkpoint is swapped in (storage/replication_state.swap_in), so a broken or failed
full sync never loses the old data, and the download resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from pikadb.replication import protocol as P
from pikadb.replication.snapshot import Download
from pikadb.storage import replication_state as RS

if TYPE_CHECKING:
    from pikadb.replication.manager import Replication

log = logging.getLogger("pikadb.replication")

READ_SIZE = 4 << 20
BACKOFF_MIN = 0.1
BACKOFF_MAX = 2.0


class LinkError(Exception):
    pass


class Resync(LinkError):
    """The full sync is installed: reconnect at once to continue incrementally."""


class ReplicaSide:
    def __init__(self, repl: Replication, host: str, port: int) -> None:
        self.repl = repl
        self.host = host
        self.port = port
        # connect | connecting | handshake | sync | connected (ROLE's words)
        self.state = "connect"
        self.link_up = False
        self.sync_in_progress = False
        self._just_installed = False  # tell the master the next PSYNC ends a full sync
        self.last_io = time.monotonic()
        self.down_since = time.monotonic()
        self.sync_bytes = 0
        self.sync_total = 0
        self.full_syncs = 0
        self.partial_syncs = 0
        self.last_error = ""
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._download: Download | None = None
        self._t_manifest = time.monotonic()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._close()
        self.link_up = False
        self.state = "connect"

    def _close(self) -> None:
        if self._download is not None:
            self._download.close()
            self._download = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def _run(self) -> None:
        backoff = BACKOFF_MIN
        while True:
            started = time.monotonic()
            self._exc: Exception | None = None
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Resync as exc:
                self._exc = exc
            except (OSError, LinkError, ValueError, asyncio.IncompleteReadError) as exc:
                self._exc = exc
                self.last_error = str(exc) or type(exc).__name__
                log.warning("replication link to %s:%d: %s", self.host, self.port, self.last_error)
            except Exception:
                log.exception("replication link to %s:%d failed", self.host, self.port)
            if self.link_up:
                self.down_since = time.monotonic()
            self.link_up = False
            self.sync_in_progress = False
            self.state = "connect"
            self._close()
            if time.monotonic() - started > 5:
                backoff = BACKOFF_MIN
            if isinstance(self._exc, Resync):
                backoff = BACKOFF_MIN
                await asyncio.sleep(0)
                continue
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX, backoff * 2)

    # -- one connection ---------------------------------------------------------------------
    async def _session(self) -> None:
        repl = self.repl
        s = repl.settings
        self.state = "connecting"
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=READ_SIZE), timeout=s.repl_timeout
        )
        self._writer = writer
        self.state = "handshake"
        fr = P.FrameReader()

        async def call(*args: str | int) -> bytes:
            writer.write(P.command(*args))
            while True:
                line = fr.line()
                if line is not None:
                    return line
                data = await asyncio.wait_for(reader.read(READ_SIZE), timeout=s.repl_timeout)
                if not data:
                    raise LinkError("connection closed by master")
                fr.feed(data)

        if s.masterauth:
            args = ("AUTH", s.masteruser, s.masterauth) if s.masteruser else ("AUTH", s.masterauth)
            reply = await call(*args)
            if not reply.startswith(b"+"):
                raise LinkError(f"AUTH failed: {reply.decode(errors='replace')}")
        reply = await call("PING")
        if reply.startswith(b"-") and not reply.startswith(b"-ERR"):
            raise LinkError(f"master refused: {reply.decode(errors='replace')}")
        await call("REPLCONF", "listening-port", repl.server.tcp_port)
        await call("REPLCONF", "capa", "pikadb")
        dbsync = repl.dbsync_dir()
        hint = Download.pending_id(dbsync)
        if hint:
            await call("REPLCONF", "snapshot", hint)
        if self._just_installed:
            self._just_installed = False
            await call("REPLCONF", "fullsync-done", 1)
        st = repl.state
        store = repl.server.store
        reply = await call("PSYNC", st.replid, store.seq + 1)
        words = reply.decode(errors="replace").split()
        fr.start_frames()
        self.last_io = time.monotonic()
        if words and words[0] == "+CONTINUE":
            newid = words[1] if len(words) > 1 else st.replid
            repl.adopt_replid(newid, continued=True)
            self.partial_syncs += 1
            self._online()
            await self._stream(reader, writer, fr)
        elif words and words[0] == "+FULLRESYNC" and len(words) >= 3:
            self.full_syncs += 1
            await self._full_sync(reader, writer, fr, words[1])
        else:
            raise LinkError(f"PSYNC refused: {reply.decode(errors='replace')}")

    def _online(self) -> None:
        self.state = "connected"
        self.link_up = True
        self.sync_in_progress = False

    async def _read(self, reader: asyncio.StreamReader, fr: P.FrameReader) -> None:
        timeout = self.repl.settings.repl_timeout
        try:
            data = await asyncio.wait_for(reader.read(READ_SIZE), timeout=timeout)
        except TimeoutError:
            raise LinkError(f"no data from master for {timeout} s (repl-timeout)") from None
        if not data:
            raise LinkError("connection closed by master")
        self.last_io = time.monotonic()
        self.repl.stats_in += len(data)
        fr.feed(data)

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, fr: P.FrameReader
    ) -> None:
        repl = self.repl
        period = repl.settings.repl_ping_replica_period
        last_ack = 0.0
        while True:
            applied = False
            for kind, payload in fr.frames():
                if kind == P.KIND_BATCH:
                    items = P.decode_batch(payload)
                    if items:
                        RS.apply_records(repl.server.store, items)
                        applied = True
                elif kind == P.KIND_HEARTBEAT:
                    repl.master_seq = P.decode_heartbeat(payload)[0]
                elif kind == P.KIND_ERROR:
                    raise LinkError(f"master: {bytes(payload).decode(errors='replace')}")
            now = time.monotonic()
            if applied or now - last_ack >= period:
                writer.write(P.command("REPLCONF", "ACK", repl.server.store.seq))
                last_ack = now
            await self._read(reader, fr)

    # -- full sync --------------------------------------------------------------------------
    async def _full_sync(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        fr: P.FrameReader,
        replid: str,
    ) -> None:
        repl = self.repl
        self.state = "sync"
        self.sync_in_progress = True
        period = repl.settings.repl_ping_replica_period
        last_ack = time.monotonic()
        dl: Download | None = None
        while True:
            for kind, payload in fr.frames():
                if kind == P.KIND_MANIFEST:
                    manifest = P.decode_manifest(payload)
                    dbsync = repl.dbsync_dir()
                    Download.discard_others(dbsync, str(manifest["snapshot"]))
                    dl = self._download = Download(dbsync, manifest)
                    self._t_manifest = time.monotonic()
                    index, offset = await asyncio.to_thread(dl.resume_point)
                    self.sync_total = sum(int(f["size"]) for f in dl.files)
                    self.sync_bytes = sum(int(dl.files[i]["size"]) for i in dl.done) + offset
                    await self._finish_files(dl)
                    if dl.complete:
                        await self._install(dl, replid)
                        return
                    writer.write(P.command("REPLCONF", "FETCH", dl.id, dl.index, dl.received))
                elif kind == P.KIND_DATA:
                    if dl is None:
                        raise LinkError("file data before the manifest")
                    index, offset, data = P.decode_data(payload)
                    dl.write(index, offset, data)
                    self.sync_bytes += len(data)
                    await self._finish_files(dl)
                    if dl.complete:
                        await self._install(dl, replid)
                        return
                elif kind == P.KIND_ERROR:
                    raise LinkError(f"master: {bytes(payload).decode(errors='replace')}")
            now = time.monotonic()
            if now - last_ack >= period:  # keep the master's repl-timeout happy
                writer.write(P.command("REPLCONF", "ACK", repl.server.store.seq))
                last_ack = now
            await self._read(reader, fr)

    async def _finish_files(self, dl: Download) -> None:
        while dl.index < len(dl.files) and dl.current_full():
            await asyncio.to_thread(dl.finish_file)

    async def _install(self, dl: Download, replid: str) -> None:
        """Swap the verified checkpoint in, then reconnect to continue incrementally."""
        dl.close()
        self._download = None
        t0 = time.monotonic()
        took = max(1e-6, t0 - self._t_manifest)
        log.info(
            "full sync: %d files, %d bytes received in %.2f s (%.1f MB/s)",
            len(dl.files),
            self.sync_bytes,
            took,
            self.sync_bytes / took / 1e6,
        )
        self.repl.install_snapshot(dl.dir, dl.seq, replid)
        log.info("snapshot swapped in and reopened in %.2f s", time.monotonic() - t0)
        dl.cleanup_meta()
        self.sync_in_progress = False
        self._just_installed = True
        raise Resync("full sync done; reconnecting to continue incrementally")
