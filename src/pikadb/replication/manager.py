"""The node's replication role: master side, replica side, identity, retention, WAIT,
``sync-all`` reply holding and the INFO replication fields. ``server.replication`` is an
instance of :class:`Replication` (the commands reach it by duck typing).

Identity (PSYNC2-like): ``replid`` names the history this node's binlog belongs to; a replica
adopts its master's. ``REPLICAOF NO ONE`` starts a new history and keeps the old one as
``replid2`` up to ``second_offset`` (the first seq not shared), so the old master or
sibling replicas can continue incrementally from the promoted node.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
import time
from typing import Any

from pikadb.core.clock import now_ms
from pikadb.replication.master import MasterSide
from pikadb.replication.replica import ReplicaSide
from pikadb.storage import replication_state as RS

log = logging.getLogger("pikadb.replication")

RECORDS_PER_FILE = 100_000  # a Pika "binlog file" in PURGELOGSTO / INFO
CRON_PERIOD = 0.1


def parse_replicaof(text: str) -> tuple[str, int] | None:
    text = text.strip()
    if not text or text.lower() in ("no one", "none"):
        return None
    if " " in text:
        host, port = text.split(None, 1)
    else:
        host, _, port = text.rpartition(":")
    return host, int(port)


class Replication:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None
        self.base_dir = str(server.settings.storage.dir)
        self.state = RS.load_state(server.store)
        self.master = MasterSide(self)
        self.replica: ReplicaSide | None = None
        self.master_seq = 0
        self.stats_in = 0
        self._task: asyncio.Task[None] | None = None
        self._store: Any = None
        self._deferred: list[tuple[int, list[Any]]] = []
        self._gate_seq = 0
        self._last_retention = 0.0
        self._first_ts: tuple[int, int] = (-1, 0)  # (oldest seq, its time): retention
        target = parse_replicaof(self.settings.replicaof)
        if target is None and self.state.master_host:
            target = (self.state.master_host, self.state.master_port)
        self._initial = target
        self._aliases()
        self.attach_store()

    def _aliases(self) -> None:
        """slave-read-only / slave-priority are Redis's older names: kept equal."""
        s = self.settings
        if not s.slave_read_only:
            s.replica_read_only = False
        if s.slave_priority != 100:
            s.replica_priority = s.slave_priority
        s.slave_read_only, s.slave_priority = s.replica_read_only, s.replica_priority
        config = getattr(self.server, "config", None)
        if config is None:
            return
        pairs = (("replica_read_only", "slave_read_only"), ("replica_priority", "slave_priority"))
        for a, b in pairs:
            for name, other in ((a, b), (b, a)):
                try:
                    config.on_change(
                        name.replace("_", "-"),
                        lambda v, o=other: setattr(self.settings, o, v),
                    )
                except KeyError:
                    pass

    @property
    def settings(self) -> Any:
        return self.server.settings.replication

    @property
    def role(self) -> str:
        return "slave" if self.replica is not None else "master"

    def dbsync_dir(self) -> str:
        path = self.settings.db_sync_path or os.path.join(self.base_dir, "dbsync")
        os.makedirs(path, exist_ok=True)
        return path

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._task = asyncio.ensure_future(self._cron())
        if self._initial is not None:
            self.set_master(*self._initial)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.replica is not None:
            self.replica.stop()
        self.master.disconnect_all()

    def attach_store(self) -> None:
        """Hook the (possibly reopened) store: expiry writes, binlog floor, listener."""
        store = self.server.store
        self._store = store
        store.expire_writes = self.replica is None
        store.binlog_needed = self._needed
        self.master.attach()
        self._refresh_flags()

    def _refresh_flags(self) -> None:
        srv = self.server
        srv.role = self.role
        srv.replid = self.state.replid
        srv.refuse_writes = self.replica is not None and bool(self.settings.replica_read_only)
        sync_all = self.settings.replication_mode == "sync-all"
        srv.write_gate = self.gate if (sync_all and self.master.links) else None
        if srv.write_gate is None and self._deferred:
            self.release_held(force=True)

    def _needed(self) -> int:
        n = self.master.needed_seq()
        return n if n is not None else 1 << 62

    async def _cron(self) -> None:
        while True:
            await asyncio.sleep(CRON_PERIOD)
            try:
                if self.server.store is not self._store:  # DEBUG RELOAD, a swap...
                    self.attach_store()
                self.master.cron()
                self._refresh_flags()
                if self._deferred:
                    self.release_held()
                now = time.monotonic()
                if now - self._last_retention >= 1.0:
                    self._last_retention = now
                    self.retention()
            except Exception:
                log.exception("replication cron failed")

    # -- role changes -----------------------------------------------------------------------
    def set_master(self, host: str, port: int) -> None:
        if self.replica is not None:
            self.replica.stop()
        self.replica = ReplicaSide(self, host, port)
        self.state.master_host, self.state.master_port = host, port
        RS.save_state(self.server.store, self.state)
        self.attach_store()
        self.server.store.expire_writes = False
        self.replica.start()
        log.info("replicating %s:%d", host, port)

    def same_master(self, host: str, port: int) -> bool:
        r = self.replica
        return r is not None and r.host == host and r.port == port

    def no_one(self) -> None:
        """Promotion: keep the data, start a new history (the old one becomes replid2)."""
        if self.replica is None:
            return
        self.replica.stop()
        self.replica = None
        st = self.state
        st.replid2 = st.replid
        st.second_offset = self.server.store.seq + 1
        st.replid = RS.new_replid()
        st.master_host, st.master_port = "", 0
        RS.save_state(self.server.store, st)
        self.attach_store()
        log.info("promoted to master: new replid %s", st.replid)

    def adopt_replid(self, replid: str, continued: bool) -> None:
        st = self.state
        if replid == st.replid:
            return
        if continued:  # the master switched history (it was promoted): PSYNC2 shift
            st.replid2 = st.replid
            st.second_offset = self.server.store.seq + 1
        st.replid = replid
        RS.save_state(self.server.store, st)
        self._refresh_flags()
        self.master.disconnect_all()  # sub-replicas reconnect and learn the new id

    def install_snapshot(self, staging: str, seq: int, replid: str) -> None:
        srv = self.server
        db_path = srv.data_path()
        old: list[str] = []

        def between() -> None:
            RS.recover_swap(db_path)
            old.append(RS.swap_in(staging, db_path))

        self.master.disconnect_all()
        srv.reload_storage(between)
        store = srv.store
        if store.seq != seq:
            log.warning("snapshot seq %d but the store says %d", seq, store.seq)
        st = self.state
        st.replid, st.replid2, st.second_offset = replid, "0" * 40, -1
        RS.save_state(store, st)
        self.attach_store()
        log.info("full sync installed at seq %d", store.seq)
        if old and os.path.exists(old[0]):
            threading.Thread(target=shutil.rmtree, args=(old[0], True), daemon=True).start()

    # -- retention --------------------------------------------------------------------------
    def retention(self) -> None:
        store = self.server.store
        keep = self.server.settings.storage.expire_logs_nums * RECORDS_PER_FILE
        store.purge_binlog_to(store.seq - keep + 1)
        days = self.settings.expire_logs_days
        cutoff = now_ms() - days * 86_400_000
        first = store.first_seq
        if first <= store.seq:
            if self._first_ts[0] != first:  # read each oldest record's time once
                raw = next(store.binlog_range(first), (first, b"\xff" * 8))[1]
                self._first_ts = (first, int.from_bytes(raw[:8], "big"))
            if self._first_ts[1] < cutoff:
                store.purge_binlog_to(store.binlog_seq_at(cutoff))
        budget = self.settings.binlog_max_bytes
        if budget:
            size = store.binlog_bytes()
            n = store.seq - store.first_seq + 1
            if size > budget and n > 1:
                store.purge_binlog_to(store.seq - int(n * budget / size) + 1)

    def purge_to(self, upto: int) -> bool:
        """PURGELOGSTO: False when a replica still needs records before ``upto``."""
        store = self.server.store
        needed = self.master.needed_seq()
        if needed is not None and upto > needed:
            return False
        store.purge_binlog_to(upto)
        return True

    # -- WAIT / sync-all --------------------------------------------------------------------
    def write_target(self) -> int:
        store = self.server.store
        return store.seq + (1 if store.engine.pending else 0)

    async def wait_acks(self, target: int, num: int, timeout_ms: int) -> int:
        assert self.loop is not None
        fut: asyncio.Future[int] = self.loop.create_future()
        self.master.waiters.append((target, num, fut))
        acked = self.master.count_acked(target)
        if acked >= num:  # acks that came before this task ran woke nobody
            fut.cancel()
            return acked
        try:
            if timeout_ms > 0:
                return await asyncio.wait_for(asyncio.shield(fut), timeout_ms / 1000)
            return await fut
        except TimeoutError:
            return self.master.count_acked(target)
        finally:
            if not fut.done():
                fut.cancel()

    def gate(self, held: list[Any]) -> bool:
        """close_tick hook in sync-all mode: hold the tick's replies until every online
        replica acked the tick's write (the connections stop reading meanwhile)."""
        seq = self.server.store.seq
        if seq <= self._gate_seq:
            return False
        self._gate_seq = seq
        online = self.master.online()
        if not online or all(ln.acked >= seq for ln in online):
            return False
        for conn in held:
            t = getattr(conn, "transport", None)
            if t is not None:
                t.pause_reading()
        self._deferred.append((seq, held))
        return True

    def release_held(self, force: bool = False) -> None:
        if not self._deferred:
            return
        online = self.master.online()
        acked = min((ln.acked for ln in online), default=1 << 62)
        while self._deferred and (force or self._deferred[0][0] <= acked):
            _, conns = self._deferred.pop(0)
            for conn in conns:
                conn.held = False
                conn.send_held()
                t = getattr(conn, "transport", None)
                if (
                    t is not None
                    and not t.is_closing()
                    and getattr(conn, "_pending", None) is None
                    and not getattr(conn, "_paused_writing", False)
                ):
                    t.resume_reading()

    # -- introspection ----------------------------------------------------------------------
    def role_reply(self) -> list[Any]:
        store = self.server.store
        r = self.replica
        if r is None:
            subs = [[ln.ip, str(ln.port), str(ln.acked)] for ln in self.master.online()]
            return ["master", store.seq, subs]
        return ["slave", r.host, r.port, r.state, store.seq if r.link_up else -1]

    def info_fields(self) -> list[tuple[str, Any]]:
        store = self.server.store
        st = self.state
        now = time.monotonic()
        out: list[tuple[str, Any]] = [("role", self.role)]
        r = self.replica
        if r is not None:
            out += [
                ("master_host", r.host),
                ("master_port", r.port),
                ("master_link_status", "up" if r.link_up else "down"),
                ("master_last_io_seconds_ago", int(now - r.last_io) if r.link_up else -1),
                ("master_sync_in_progress", int(r.sync_in_progress)),
                ("slave_read_repl_offset", store.seq),
                ("slave_repl_offset", store.seq),
            ]
            if r.sync_in_progress:
                total = r.sync_total
                out += [
                    ("master_sync_total_bytes", total),
                    ("master_sync_read_bytes", r.sync_bytes),
                    ("master_sync_left_bytes", max(0, total - r.sync_bytes)),
                    ("master_sync_perc", f"{(r.sync_bytes * 100 / total) if total else 0:.2f}"),
                    ("master_sync_last_io_seconds_ago", int(now - r.last_io)),
                ]
            if not r.link_up:
                out.append(("master_link_down_since_seconds", int(now - r.down_since)))
            out += [
                ("slave_priority", self.settings.replica_priority),
                ("slave_read_only", int(bool(self.settings.replica_read_only))),
                ("replica_announced", 1),
            ]
        links = list(self.master.links.values())
        out.append(("connected_slaves", len(links)))
        for i, ln in enumerate(links):
            lag = int(now - ln.last_ack)
            behind = max(0, store.seq - ln.acked) if ln.state == "online" else -1
            out.append(
                (
                    f"slave{i}",
                    f"ip={ln.ip},port={ln.port},state={ln.state},offset={ln.acked},lag={lag},"
                    f"binlog_lag={behind}",
                )
            )
        first = store.first_seq
        needed = self.master.needed_seq()
        safety = min(needed, store.seq) if needed is not None else store.seq
        eligible = r is None or (r.link_up and not r.sync_in_progress)
        out += [
            ("master_failover_state", "no-failover"),
            ("master_replid", st.replid),
            ("master_replid2", st.replid2),
            ("master_repl_offset", store.seq),
            ("second_repl_offset", st.second_offset),
            ("repl_backlog_active", 1),
            ("repl_backlog_size", store.binlog_bytes()),
            ("repl_backlog_first_byte_offset", first),
            ("repl_backlog_histlen", max(0, store.seq - first + 1)),
            # Pika's fields
            (
                "db0",
                f"binlog_offset={store.seq // RECORDS_PER_FILE} {store.seq % RECORDS_PER_FILE},"
                f"safety_purge=write2file{safety // RECORDS_PER_FILE}",
            ),
            ("binlog_first_seq", first),
            ("safety_purge_seq", safety),
            ("is_eligible_for_master_election", "true" if eligible else "false"),
            ("replication_mode", self.settings.replication_mode),
        ]
        return out
