"""Operations commands: BGSAVE, SAVE, DELBACKUP (snapshots), COMPACT, COMPACTRANGE
(manual compaction), DISKRECOVERY — plus the server hooks behind them: the once-a-second
cron (compact-cron / compact-interval, dump-expire, automatic disk-error resume), the live
RocksDB options of the compaction settings, and the fast shutdown.

Snapshots and compactions run on worker threads (storage/backup.py, storage/compaction.py);
the event loop keeps serving. SAVE and COMPACTRANGE make only their caller wait (the reply
is an awaitable, like a blocked command); BGSAVE and COMPACT answer at once.

Pika syntax::

    COMPACT [all | db0[,db1...]]             full compaction (everything / some databases)
    COMPACTRANGE all|db0[,db1...] begin end  compact user keys [begin, end] ("" = unbounded)
    DELBACKUP                                delete every snapshot but a running/pinned one
    DISKRECOVERY                             reopen the storage after a disk-full error
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pikadb import __version__
from pikadb.commands import blocking
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.table import command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, simple
from pikadb.storage.backup import Backups, SaveResult, disk_free, dump_root, take_snapshot
from pikadb.storage.compaction import (
    Compactor,
    Span,
    all_spans,
    fast_close,
    range_spans,
    set_small_compaction_threshold,
    table_spans,
)

log = logging.getLogger("pikadb.ops")
G = "server"
BGSAVE_STARTED = simple("Background saving started")

# CONFIG name -> RocksDB column-family option, pushed with SetOptions when set (and at start
# when not at its default: 0 / None means "leave RocksDB's own default").
CF_OPTIONS: dict[str, tuple[str, int | None]] = {
    "arena-block-size": ("arena_block_size", 0),
    "max-compaction-bytes": ("max_compaction_bytes", 0),
    "rocksdb-ttl-second": ("ttl", 0),
    "rocksdb-periodic-second": ("periodic_compaction_seconds", 0),
    "max-bytes-for-level-multiplier": ("max_bytes_for_level_multiplier", 10),
}


@dataclass
class Ops:
    """Operations state of one server (``server.ops``; INFO reads it)."""

    backups: Backups = field(default_factory=Backups)
    compactor: Compactor = field(default_factory=Compactor)
    last_resume_try: float = 0.0
    last_expire_check: float = 0.0


_snapshot_pool: ThreadPoolExecutor | None = None
_installed: set[int] = set()


def ops_of(server: ServerState) -> Ops:
    o: Ops | None = getattr(server, "ops", None)
    if o is None:
        o = Ops()
        server.ops = o  # type: ignore[attr-defined]
    return o


# --- server hooks (server/app.py) --------------------------------------------------------
def install(server: ServerState) -> None:
    """Create the ops state, apply the compaction settings, register their listeners."""
    ops_of(server)
    set_small_compaction_threshold(server.settings.storage.small_compaction_threshold)
    apply_cf_options(server)
    config = server.config
    if id(config) in _installed:
        return
    _installed.add(id(config))
    config.on_change("small-compaction-threshold", set_small_compaction_threshold)

    def push(opt: str) -> Any:
        def apply(value: Any) -> None:
            try:
                server.store.engine.set_cf_options({opt: value})
            except Exception as exc:
                raise CommandError(f"ERR RocksDB refused {opt}={value}: {exc}") from None

        return apply

    for name, (opt, _) in CF_OPTIONS.items():
        config.on_change(name, push(opt))


def apply_cf_options(server: ServerState) -> None:
    """Push the non-default compaction options to the (newly opened) engine."""
    st = server.settings.storage
    for name, (opt, default) in CF_OPTIONS.items():
        value = getattr(st, name.replace("-", "_"))
        if value != default:
            server.store.engine.set_cf_options({opt: value})


def cron(server: ServerState) -> None:
    """Once a second: scheduled compaction, expired snapshots, automatic disk recovery."""
    o = ops_of(server)
    st = server.settings.storage
    now = time.time()
    if st.compact_cron or st.compact_interval:
        free, total = disk_free(server.store.path)
        percent = free * 100 / total if total else 0.0
        if o.compactor.auto_due(st.compact_cron, st.compact_interval, percent, now):
            log.info("scheduled full compaction starts")
            o.compactor.auto_runs += 1
            o.compactor.submit(server.store.engine, all_spans())
    if st.dump_expire and now - o.last_expire_check >= 60:
        o.last_expire_check = now
        root = dump_root(st.dump_path, st.dir)
        for path in o.backups.expire(root, st.dump_prefix, st.dump_expire, now):
            log.info("dump-expire: removed %s", path)
    interval = st.manually_resume_interval
    if interval and now - o.last_resume_try >= interval and _fatal(server):
        o.last_resume_try = now
        free, _ = disk_free(server.store.path)
        if free >= st.least_free_disk_resume_size:
            try:
                _recover(server)
                log.warning("storage recovered from a disk error automatically")
            except Exception as exc:
                log.warning("automatic disk recovery failed: %s", exc)


def shutdown(server: ServerState) -> None:
    """Fast exit: no compaction is waited for (storage/compaction.fast_close)."""
    o: Ops | None = getattr(server, "ops", None)
    t0 = time.monotonic()
    running = o is not None and o.compactor.running
    fast_close(server.store, o.compactor if o is not None else None)
    log.info(
        "storage closed in %.3fs%s",
        time.monotonic() - t0,
        " (a running compaction was cancelled)" if running else "",
    )


# --- snapshots ---------------------------------------------------------------------------
def _start_snapshot(server: ServerState) -> Future[SaveResult]:
    """Reserve the directory, write the tick's pending ops out, run the checkpoint on the
    snapshot thread. The returned future's callbacks run on the worker; bookkeeping is
    handed back to the event loop."""
    global _snapshot_pool
    o = ops_of(server)
    st = server.settings.storage
    store = server.store
    try:
        path = o.backups.begin(dump_root(st.dump_path, st.dir), st.dump_prefix, store.dirty)
    except RuntimeError:
        raise CommandError(errors.BGSAVE_IN_PROGRESS) from None
    try:
        store.engine.flush_group()
        binds = server.settings.server.bind
        host = (binds.split() if isinstance(binds, str) else list(binds) or ["127.0.0.1"])[0]
        meta: dict[str, object] = {
            "host": host,
            "port": server.tcp_port,
            "run_id": server.run_id,
            "replid": getattr(server, "replid", server.run_id),
            "databases": len(store.databases),
            "pikadb_version": __version__,
        }
        if _snapshot_pool is None:
            _snapshot_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pikadb-bgsave")
        fut = _snapshot_pool.submit(take_snapshot, store.engine, path, store.group, meta)
    except BaseException:
        o.backups.finish(SaveResult(path, False, error="could not start"))
        raise
    loop = asyncio.get_running_loop()
    fut.add_done_callback(lambda f: loop.call_soon_threadsafe(_snapshot_done, server, f))
    return fut


def _snapshot_done(server: ServerState, fut: Future[SaveResult]) -> None:
    o = ops_of(server)
    result = fut.result()
    dirty_at_start = o.backups.dirty_at_start
    o.backups.finish(result)
    if not result.ok:
        log.warning("snapshot %s failed: %s", result.path, result.error)
        return
    server.last_save_time = o.backups.last_save_time  # type: ignore[attr-defined]
    server.store.dirty = max(0, server.store.dirty - dirty_at_start)
    log.info("snapshot %s done in %.3fs (binlog seq %d)", result.path, result.duration, result.seq)
    st = server.settings.storage
    if st.dump_expire:
        o.backups.expire(dump_root(st.dump_path, st.dir), st.dump_prefix, st.dump_expire)


@command(
    "bgsave",
    -1,
    "admin noscript",
    group=G,
    summary="Asynchronously save the dataset to disk",
    complexity="O(1)",
    args="[SCHEDULE]",
    history=(("3.2.2", "Added the `SCHEDULE` option."),),
)
def bgsave(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 2 or (len(args) == 2 and args[1].upper() != b"SCHEDULE"):
        raise CommandError(errors.SYNTAX)
    _start_snapshot(c.server)
    return BGSAVE_STARTED


async def _await_save(fut: Future[SaveResult]) -> bytes:
    result = await asyncio.wrap_future(fut)
    await asyncio.sleep(0)  # let _snapshot_done (scheduled by the worker) run first
    if not result.ok:
        raise CommandError(errors.SAVE_FAILED.format(result.error))
    return OK


@command(
    "save",
    1,
    "admin noscript no_multi",
    group=G,
    summary="Synchronously save the dataset to disk",
    complexity="O(N) where N is the total number of keys in all databases",
)
def save(c: ClientState, args: list[bytes]) -> Any:
    fut = _start_snapshot(c.server)
    if blocking.can_block(c):
        return _await_save(fut)  # only this client waits; the server keeps serving
    result = fut.result()
    if not result.ok:
        raise CommandError(errors.SAVE_FAILED.format(result.error))
    return OK


@command(
    "delbackup",
    1,
    "admin noscript",
    group=G,
    summary="Delete the BGSAVE snapshots under dump-path except one in use (Pika)",
    complexity="O(N) where N is the number of files in the snapshots",
)
def delbackup(c: ClientState, args: list[bytes]) -> bytes:
    st = c.server.settings.storage
    removed = ops_of(c.server).backups.delete_all(dump_root(st.dump_path, st.dir), st.dump_prefix)
    for path in removed:
        log.info("DELBACKUP removed %s", path)
    return OK


# --- compaction --------------------------------------------------------------------------
def _tables(c: ClientState, raw: bytes) -> list[int] | None:
    """``all`` -> None; ``db0,db2`` -> their tables (physical, after SWAPDB)."""
    text = raw.decode("utf-8", "replace")
    if text.lower() == "all":
        return None
    dbs = c.server.store.databases
    out: list[int] = []
    for name in text.split(","):
        name = name.strip()
        idx = name[2:] if name.lower().startswith("db") else ""
        if not idx.isdigit() or int(idx) >= len(dbs):
            raise CommandError(errors.INVALID_DB_NAME.format(name))
        out.append(dbs[int(idx)].table)
    return out


def _submit(c: ClientState, spans: Any) -> Future[int]:
    try:
        return ops_of(c.server).compactor.submit(c.server.store.engine, spans)
    except RuntimeError:
        raise CommandError(errors.SHUTTING_DOWN) from None


@command(
    "compact",
    -1,
    "admin noscript",
    group=G,
    summary="Compact the whole storage, or some databases, in the background (Pika)",
    complexity="O(N) where N is the size of the data",
    args="[all|db0[,db1...]]",
)
def compact(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 2:
        raise CommandError(errors.SYNTAX)
    tables = _tables(c, args[1]) if len(args) == 2 else None
    spans: list[Span] = (
        all_spans() if tables is None else [s for t in tables for s in table_spans(t)]
    )
    _submit(c, spans)
    return OK


async def _await_ok(fut: Future[int]) -> bytes:
    await asyncio.wrap_future(fut)
    return OK


@command(
    "compactrange",
    4,
    "admin noscript",
    group=G,
    summary="Compact the keys between begin and end, inclusive (Pika)",
    complexity="O(N) where N is the size of the data in the range",
    args="all|db0[,db1...] begin end",
)
def compactrange(c: ClientState, args: list[bytes]) -> Any:
    tables = _tables(c, args[1])
    if tables is None:
        tables = [db.table for db in c.server.store.databases]
    begin, end = args[2], (args[3] or None)
    engine = c.server.store.engine
    engine.flush_group()  # the range search reads committed data

    def spans() -> list[Span]:
        if end is not None and begin > end:
            return []
        return [s for t in tables for s in range_spans(engine, t, begin, end)]

    fut = _submit(c, spans)
    return _await_ok(fut) if blocking.can_block(c) else OK


# --- disk errors -------------------------------------------------------------------------
def _fatal(server: ServerState) -> bool:
    if getattr(server, "store_error", ""):
        return True
    try:
        return server.store.engine.db_property_int("rocksdb.background-errors") > 0
    except Exception:
        return True


def _recover(server: ServerState) -> None:
    """Reopen the storage (RocksDB's error state is cleared by a reopen; pending writes that
    could not be written were never acknowledged) and clear the commit error."""
    if _fatal(server):
        engine = server.store.engine
        try:
            engine.flush_group()
        except Exception as exc:  # they were never acknowledged
            log.warning("pending writes dropped during disk recovery: %s", exc)
            engine.discard_group()
        o: Ops | None = getattr(server, "ops", None)
        fast_close(server.store, None)
        server.reload_storage()
        apply_cf_options(server)
        if o is not None and o.compactor.closed:
            o.compactor = Compactor()
    server.store_error = ""  # type: ignore[attr-defined]


@command(
    "diskrecovery",
    1,
    "admin noscript",
    group=G,
    summary="Resume writes after a disk-full or I/O error once space is back (Pika)",
    complexity="O(1)",
)
def diskrecovery(c: ClientState, args: list[bytes]) -> bytes:
    srv = c.server
    free, _ = disk_free(srv.store.path)
    if free < srv.settings.storage.least_free_disk_resume_size:
        raise CommandError(errors.DISK_INSUFFICIENT)
    try:
        _recover(srv)
    except Exception as exc:
        raise CommandError(errors.DISK_RECOVERY_FAILED.format(exc)) from None
    if _fatal(srv):
        raise CommandError(errors.DISK_RECOVERY_FAILED.format("still failing"))
    return OK
