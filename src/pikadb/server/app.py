"""The server: storage + the RESP listener + background tasks, on one asyncio (uvloop) loop."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pikadb import web
from pikadb.commands import _acl_check, _offload, admin, cache_cmd, load_all
from pikadb.commands.config_cmd import install_live_settings
from pikadb.commands.context import ServerState, Stats
from pikadb.commands.pubsub import attach_store, install_pubsub
from pikadb.replication.manager import Replication
from pikadb.server import fdlimit, tls
from pikadb.server.connection import Connection
from pikadb.storage.engine import EngineOptions
from pikadb.storage.replication_state import recover_swap
from pikadb.storage.store import Store

if TYPE_CHECKING:
    from pikadb.config.runtime import RuntimeConfig
    from pikadb.config.settings import Settings

log = logging.getLogger("pikadb.server")

# Logging is configured in pikadb/logsetup.py (loglevel, logfile, log-format).
# CONFIG names of RocksDB column-family options that can change while running.
ROCKSDB_LIVE_OPTIONS = {
    "disable-auto-compactions": "disable_auto_compactions",
    "write-buffer-size": "write_buffer_size",
    "max-write-buffer-number": "max_write_buffer_number",
    "target-file-size-base": "target_file_size_base",
    "level0-file-num-compaction-trigger": "level0_file_num_compaction_trigger",
    "level0-slowdown-writes-trigger": "level0_slowdown_writes_trigger",
    "level0-stop-writes-trigger": "level0_stop_writes_trigger",
}


def engine_options(settings: Settings) -> EngineOptions:
    st = settings.storage
    return EngineOptions(
        write_buffer_size=st.write_buffer_size,
        max_write_buffer_number=st.max_write_buffer_number,
        block_cache_size=st.block_cache,
        max_background_jobs=st.max_background_jobs,
        target_file_size_base=st.target_file_size_base,
        compression=st.compression,
        sync_writes=st.sync_writes,
        disable_auto_compactions=st.disable_auto_compactions,
    )


class Server(ServerState):
    def __init__(self, settings: Settings, config: RuntimeConfig, config_file: str | None) -> None:
        load_all()
        self.settings = settings
        self.config = config
        self.config_file = config_file
        self.stats = Stats()
        self.clients: dict[int, Connection] = {}  # type: ignore[assignment]
        self.start_time = time.time()
        self.run_id = secrets.token_hex(20)
        self.active_expire = settings.server.active_expire
        self.executable = os.path.abspath(sys.argv[0])
        self._client_ids = 0
        self._servers: list[asyncio.AbstractServer] = []
        self.tls: tls.TLSListeners | None = None  # tls-port listeners (server/tls.py)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping: asyncio.Event | None = None
        self._tick_open = False
        self._held: list[Connection] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.store_error = ""
        self.tcp_port = settings.server.port
        recover_swap(self.data_path())  # a replica's full-sync swap cut by a crash
        self.store = self._open_store()
        install_live_settings(self)  # CONFIG SET of live settings applies at once
        admin.install(self)  # BGSAVE/compaction state, compaction settings (OPS)
        install_pubsub(self)  # pub/sub hub, keyspace notifications, output buffer limits
        _offload.install(self)  # slow read-only commands off the event loop
        cache_cmd.install(self)  # hot-data cache (storage/cache.py), CONFIG SET-able
        self.replication = Replication(self)  # master/replica roles (src/pikadb/replication)
        _acl_check.install(self)  # ACL users, rename-command, requirepass (commands/_acl_*)

    # -- storage --------------------------------------------------------------------------
    def data_path(self) -> str:
        return str(self.settings.storage.resolved_db_path())

    def _open_store(self) -> Store:
        st = self.settings.storage
        return Store(
            self.data_path(),
            engine_options(self.settings),
            databases=self.settings.server.databases,
            # Pika keeps `expire-logs-nums` binlog files; our binlog is records, not files,
            # so a "file" here is 100k records (retention proper arrives with replication).
            binlog_keep=st.expire_logs_nums * 100_000,
        )

    def reload_storage(self, between: Callable[[], None] | None = None) -> None:
        """Close and reopen the storage; ``between`` runs while it is closed (a replica
        swapping a full-sync checkpoint in)."""
        old_index = {cid: c.db.index for cid, c in self.clients.items()}
        listeners = self.store.listeners
        self.store.close()
        if between is not None:
            between()
        self.store = self._open_store()
        self.store.listeners = listeners
        attach_store(self)  # expiry notifications
        cache_cmd.reattach(self)  # the hot-data cache starts empty on the new store
        for cid, c in self.clients.items():
            c.db = self.store.databases[old_index[cid]]

    # -- group commit ticks (see connection.py) ---------------------------------------------
    def open_tick(self) -> None:
        if not self._tick_open:
            self._tick_open = True
            self.store.begin_group()
            if self.loop is not None:  # (benchmarks drive ticks by hand, without a loop)
                self.loop.call_soon(self.close_tick)

    def hold_output(self, conn: Connection) -> None:
        if not conn.held:
            conn.held = True
            self._held.append(conn)

    def close_tick(self) -> None:
        """One RocksDB write for the whole iteration, then every held reply goes out."""
        self._tick_open = False
        held, self._held = self._held, []
        try:
            self.store.end_group()
        except Exception as exc:  # the write failed: acknowledge nothing
            log.exception("commit failed")
            self.store_error = str(exc)
            if self.cache is not None:  # it may hold values of the lost writes
                self.cache.clear()
            for conn in held:
                conn.held = False
                conn.fail_held(f"ERR write to storage failed: {exc}")
            return
        gate = self.write_gate  # replication-mode sync-all: replies wait for the acks
        if gate is not None and gate(held):
            return
        for conn in held:
            conn.held = False
            conn.send_held()

    def requires_auth(self) -> bool:
        return _acl_check.requires_auth(self)  # the default user is not "on nopass"

    def next_client_id(self) -> int:
        self._client_ids += 1
        return self._client_ids

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        loop = self.loop = asyncio.get_running_loop()
        s = self.settings.server
        binds = s.bind.split() if isinstance(s.bind, str) else list(s.bind)
        fdlimit.apply_at_start(s)  # RLIMIT_NOFILE for maxclients (may lower maxclients)
        self.config.on_change("maxclients", fdlimit.maxclients_listener)
        for host in binds:
            srv = await loop.create_server(
                lambda: Connection(self), host, s.port, reuse_address=True, backlog=511
            )
            self._servers.append(srv)
            if self.tcp_port == 0:
                self.tcp_port = srv.sockets[0].getsockname()[1]
        self.tls = tls.TLSListeners(lambda: self.settings.server, lambda: Connection(self), binds)
        try:
            await self.tls.start()  # tls-port, beside the plaintext listeners
        except (tls.TLSConfigError, OSError) as exc:
            log.error("Failed to configure TLS: %s", exc)
            raise SystemExit(1) from None
        self.tls.install(self.config.on_change)
        self._stopping = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._cron()))
        self.replication.start()  # connects to the master of a replica
        await web.start(self)  # dashboard + Prometheus /metrics (pikadb.web)
        log.info("pikadb ready: port %d, data in %s", self.tcp_port, self.settings.storage.dir)

    async def _cron(self) -> None:
        """Background work Redis does in serverCron: active expiry, idle timeouts, binlog."""
        ticks = 0
        while True:
            hz = max(1, min(500, self.settings.server.hz))
            await asyncio.sleep(1 / hz)
            ticks += 1
            try:
                if self.active_expire:
                    removed = self.store.expire_cycle(limit=200)
                    self.stats.expired_keys += removed
                timeout = self.settings.server.timeout
                if timeout and ticks % hz == 0:
                    now = time.time()
                    for c in list(self.clients.values()):
                        if c.idle_timeout_applies() and now - c.last_interaction > timeout:
                            c.close()
                if ticks % (hz * 10) == 0:
                    self.store.trim_binlog()
                if ticks % hz == 0:
                    admin.cron(self)  # compact-cron/interval, dump-expire, disk-error resume
            except Exception:
                log.exception("cron failed")

    def request_shutdown(self, nosave: bool = False, now: bool = False) -> None:
        if self._stopping is not None:
            self._stopping.set()

    async def serve_forever(self) -> None:
        await self.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_shutdown)
        assert self._stopping is not None
        await self._stopping.wait()
        await self.stop()

    async def stop(self) -> None:
        for srv in self._servers:
            srv.close()
        await web.stop(self)  # dashboard + /metrics listeners (pikadb.web)
        if self.tls is not None:
            await self.tls.close()
        for c in list(self.clients.values()):
            c.close()
        for t in self._tasks:
            t.cancel()
        for srv in self._servers:
            try:
                await asyncio.wait_for(srv.wait_closed(), 2)
            except TimeoutError:
                pass
        admin.shutdown(self)  # fast exit: running compactions are cancelled, not awaited
        self.replication.stop()
        self.store.close()
        log.info("pikadb stopped")

    # -- live settings (CONFIG SET listeners registered by commands/config_cmd.py) ---------
    def apply_setting(self, name: str, value: object) -> None:
        """Push a changed setting to where the running server caches it."""
        if name == "proto-max-bulk-len":
            for c in self.clients.values():
                c.parser.max_bulk_len = int(value)  # type: ignore[call-overload]
        elif name == "client-query-buffer-limit":
            for c in self.clients.values():
                c.parser.max_query_buffer = int(value)  # type: ignore[call-overload]
        elif name == "sync-writes":
            self.store.engine.set_sync(bool(value))
        elif name == "active-expire":
            self.active_expire = bool(value)
        elif name in ROCKSDB_LIVE_OPTIONS:
            self.store.engine.set_cf_options({ROCKSDB_LIVE_OPTIONS[name]: value})


def run(settings: Settings, config: RuntimeConfig, config_file: str | None) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency; keep asyncio as fallback
        pass
    server = Server(settings, config, config_file)
    asyncio.run(server.serve_forever())
