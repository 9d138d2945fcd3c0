"""INFO: the text report of the server, section by section, with Redis 7.0's field names.

The report is built from an :class:`InfoSource` the caller provides (the INFO command adapts
the server state to it), so this module depends on nothing above storage. Output format::

    # Server\\r\\n
    redis_version:7.0.15\\r\\n
    ...\\r\\n
    \\r\\n                      <- a blank line between sections
    # Clients\\r\\n
    ...

Section selection (``INFO [section ...]``) follows Redis 7.0: no argument is ``default``;
``all`` is every section; ``everything`` is ``all`` plus module sections; other names are
case-insensitive section names (unknown ones add nothing); sections always come out in the
fixed order below, each at most once.

Pika's own sections come with ``all``/``everything`` or by name, never in ``default`` (which
stays Redis's, for Redis tools): ``data`` (disk and RocksDB memory use, ``db_fatal``),
``command_exec_count`` (calls per command), ``cache`` (the hot-data cache) and ``rocksdb``
(RocksDB properties, summed over column families, and per-cf level file counts). They read
the optional parts of the source (``store``, ``ops``, ``cache_info``) by duck typing.
"""

from __future__ import annotations

import hashlib
import os
import platform
import resource
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from pikadb import REDIS_VERSION, __version__
from pikadb.storage.engine import BINLOG, CF_NAMES

Line = tuple[str, object]

ORDER = (
    "server",
    "data",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "command_exec_count",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
    "cache",
    "rocksdb",
)
DEFAULT = frozenset(
    {
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "modules",
        "errorstats",
        "cluster",
        "keyspace",
    }
)
TITLES = {
    "server": "Server",
    "clients": "Clients",
    "memory": "Memory",
    "persistence": "Persistence",
    "stats": "Stats",
    "replication": "Replication",
    "cpu": "CPU",
    "modules": "Modules",
    "commandstats": "Commandstats",
    "errorstats": "Errorstats",
    "latencystats": "Latencystats",
    "cluster": "Cluster",
    "keyspace": "Keyspace",
    "data": "Data",
    "command_exec_count": "Command_Exec_Count",
    "cache": "Cache",
    "rocksdb": "RocksDB",
}


class InfoSource(Protocol):
    """What INFO reads. ``stats`` has the counters of ``commands.context.Stats``."""

    run_id: str
    tcp_port: int
    start_time: float
    hz: int
    configured_hz: int
    executable: str
    config_file: str
    maxclients: int
    maxmemory: int
    maxmemory_policy: str
    stats: Any
    role: str
    master_replid: str
    master_repl_offset: int
    changes_since_last_save: int
    last_save_time: int

    def connected_clients(self) -> int: ...

    def blocked_clients(self) -> int: ...

    def client_buffers(self) -> tuple[int, int]:
        """(largest query buffer, largest output buffer) among clients."""
        ...

    def engine_memory(self) -> int: ...

    def pubsub_counts(self) -> tuple[int, int, int]:
        """(channels, patterns, shard channels)."""
        ...

    def command_stats(self) -> Iterable[tuple[str, int, int, int, int]]:
        """(full name, calls, usec, rejected calls, failed calls) of every command."""
        ...

    def keyspace(self) -> Iterable[tuple[int, int, int]]:
        """(db index, keys, keys with an expire) of every database."""
        ...


def select_sections(args: list[bytes]) -> tuple[set[str], bool]:
    """The sections ``INFO args...`` asks for, and whether it asked for everything."""
    if not args:
        return set(DEFAULT), False
    wanted: set[str] = set()
    everything = False
    for raw in args:
        name = raw.decode("utf-8", "replace").lower()
        if name == "default":
            wanted |= DEFAULT
        elif name in ("all", "everything"):
            wanted |= set(ORDER)
            everything = everything or name == "everything"
        elif name == "module_list":
            wanted.add("modules")
        else:
            wanted.add(name)
    return wanted, everything


def render(src: InfoSource, sections: set[str]) -> str:
    """The INFO text for ``sections`` (names as returned by :func:`select_sections`)."""
    parts: list[str] = []
    for name in ORDER:
        if name not in sections:
            continue
        lines = _SECTIONS[name](src)
        body = "".join(f"{k}:{v}\r\n" for k, v in lines)
        parts.append(f"# {TITLES[name]}\r\n{body}")
    return "\r\n".join(parts)


# --- formatting helpers (Redis's bytesToHuman and friends) -----------------------------
def bytes_to_human(n: int) -> str:
    if n < 1024:
        return f"{n}B"
    for unit, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5)):
        if n < 1024 ** (power + 1):
            return f"{n / 1024**power:.2f}{unit}"
    return f"{n}B"


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _total_system_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _gcc_version() -> str:
    compiler = platform.python_compiler()
    if compiler.startswith("GCC "):
        return compiler.split()[1]
    return "0.0.0"


def _timeval(seconds: float) -> str:
    """A CPU time as Redis prints a struct timeval: ``%ld.%06ld``."""
    sec = int(seconds)
    return f"{sec}.{round((seconds - sec) * 1_000_000):06d}"


_UNAME = os.uname()
_OS = f"{_UNAME.sysname} {_UNAME.release} {_UNAME.machine}"
_BUILD_ID = hashlib.sha1(f"pikadb-{__version__}".encode()).hexdigest()[:15]
_peak = 0
_startup_rss = _rss()


# --- sections --------------------------------------------------------------------------
def _server(src: InfoSource) -> list[Line]:
    now = time.time()
    uptime = int(now - src.start_time)
    return [
        ("redis_version", REDIS_VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", _BUILD_ID),
        ("redis_mode", "standalone"),
        ("os", _OS),
        ("arch_bits", 64),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", _gcc_version()),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", src.run_id),
        ("tcp_port", src.tcp_port),
        ("server_time_usec", time.time_ns() // 1000),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", src.hz),
        ("configured_hz", src.configured_hz),
        ("lru_clock", int(now) & ((1 << 24) - 1)),
        ("executable", src.executable),
        ("config_file", src.config_file),
        ("io_threads_active", 0),
        ("pikadb_version", __version__),
    ]


def _clients(src: InfoSource) -> list[Line]:
    max_in, max_out = src.client_buffers()
    return [
        ("connected_clients", src.connected_clients()),
        ("cluster_connections", 0),
        ("maxclients", src.maxclients),
        ("client_recent_max_input_buffer", max_in),
        ("client_recent_max_output_buffer", max_out),
        ("blocked_clients", src.blocked_clients()),
        ("tracking_clients", 0),
        ("clients_in_timeout_table", 0),
    ]


def _memory(src: InfoSource) -> list[Line]:
    global _peak
    rss = _rss()
    engine = src.engine_memory()
    used = rss
    _peak = max(_peak, used)
    total = _total_system_memory()
    startup = min(_startup_rss, used)
    overhead = max(0, used - engine)
    dataset = max(0, used - overhead)
    net = max(1, used - startup)
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", _peak),
        ("used_memory_peak_human", bytes_to_human(_peak)),
        ("used_memory_peak_perc", f"{used * 100 / max(1, _peak):.2f}%"),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{dataset * 100 / net:.2f}%"),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", total),
        ("total_system_memory_human", bytes_to_human(total)),
        ("used_memory_lua", 0),
        ("used_memory_vm_eval", 0),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", 0),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", 0),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", src.maxmemory),
        ("maxmemory_human", bytes_to_human(src.maxmemory)),
        ("maxmemory_policy", src.maxmemory_policy),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"),
        ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", f"{rss / max(1, used):.2f}"),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", 0),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
        # pikadb: memory held by RocksDB (memtables, block cache, table readers)
        ("used_memory_rocksdb", engine),
        ("used_memory_rocksdb_human", bytes_to_human(engine)),
    ]


def _persistence(src: InfoSource) -> list[Line]:
    bk = getattr(getattr(src, "ops", None), "backups", None)
    return [
        ("loading", 0),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", src.changes_since_last_save),
        ("rdb_bgsave_in_progress", int(bk.in_progress) if bk else 0),
        ("rdb_last_save_time", src.last_save_time),
        ("rdb_last_bgsave_status", bk.last_status if bk else "ok"),
        ("rdb_last_bgsave_time_sec", round(bk.last_duration) if bk else -1),
        ("rdb_current_bgsave_time_sec", bk.current_seconds() if bk else -1),
        ("rdb_saves", bk.saves if bk else 0),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", 0),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]


def _stats(src: InfoSource) -> list[Line]:
    s = src.stats
    channels, patterns, shard_channels = src.pubsub_counts()
    return [
        ("total_connections_received", s.total_connections_received),
        ("total_commands_processed", s.total_commands_processed),
        ("instantaneous_ops_per_sec", 0),
        ("total_net_input_bytes", s.net_input_bytes),
        ("total_net_output_bytes", s.net_output_bytes),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", "0.00"),
        ("instantaneous_output_kbps", "0.00"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", s.rejected_connections),
        ("sync_full", getattr(src.stats, "sync_full", 0)),
        ("sync_partial_ok", getattr(src.stats, "sync_partial_ok", 0)),
        ("sync_partial_err", getattr(src.stats, "sync_partial_err", 0)),
        ("expired_keys", s.expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", 0),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", s.keyspace_hits),
        ("keyspace_misses", s.keyspace_misses),
        ("pubsub_channels", channels),
        ("pubsub_patterns", patterns),
        ("pubsubshard_channels", shard_channels),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", 0),
        ("tracking_total_items", 0),
        ("tracking_total_prefixes", 0),
        ("unexpected_error_replies", s.unexpected_error_replies),
        ("total_error_replies", s.total_error_replies),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", s.total_commands_processed),
        ("total_writes_processed", s.total_commands_processed),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
        *_pika_stats(src),
    ]


def _pika_stats(src: InfoSource) -> list[Line]:
    """Pika's operations fields at the end of ``# Stats``."""
    ops = getattr(src, "ops", None)
    settings = getattr(src, "settings", None)
    st = settings.storage if settings is not None else None
    bk = getattr(ops, "backups", None)
    comp = getattr(ops, "compactor", None)
    return [
        ("is_bgsaving", "Yes" if bk is not None and bk.in_progress else "No"),
        ("is_compact", "Yes" if comp is not None and comp.running else "No"),
        ("compact_cron", st.compact_cron if st is not None else ""),
        ("compact_interval", st.compact_interval if st is not None else ""),
    ]


def _replication(src: InfoSource) -> list[Line]:
    fields = getattr(src, "replication_fields", None)  # the replication manager's view
    if fields is not None:
        return fields()  # type: ignore[no-any-return]
    return [
        ("role", src.role),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", src.master_replid),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", src.master_repl_offset),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", 1048576),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def _cpu(src: InfoSource) -> list[Line]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        main = resource.getrusage(resource.RUSAGE_THREAD)  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        main = me
    return [
        ("used_cpu_sys", _timeval(me.ru_stime)),
        ("used_cpu_user", _timeval(me.ru_utime)),
        ("used_cpu_sys_children", _timeval(kids.ru_stime)),
        ("used_cpu_user_children", _timeval(kids.ru_utime)),
        ("used_cpu_sys_main_thread", _timeval(main.ru_stime)),
        ("used_cpu_user_main_thread", _timeval(main.ru_utime)),
    ]


def _modules(src: InfoSource) -> list[Line]:
    return []


def _commandstats(src: InfoSource) -> list[Line]:
    out: list[Line] = []
    for name, calls, usec, rejected, failed in src.command_stats():
        if not (calls or rejected or failed):
            continue
        per_call = usec / calls if calls else 0.0
        out.append(
            (
                f"cmdstat_{name}",
                f"calls={calls},usec={usec},usec_per_call={per_call:.2f},"
                f"rejected_calls={rejected},failed_calls={failed}",
            )
        )
    return out


def _errorstats(src: InfoSource) -> list[Line]:
    return [(f"errorstat_{k}", f"count={v}") for k, v in sorted(src.stats.errorstats.items())]


_PERCENTILES = ((50.0, "p50"), (99.0, "p99"), (99.9, "p99.9"))  # latency-tracking-info-percentiles


def _latencystats(src: InfoSource) -> list[Line]:
    """Redis 7's ``latency_percentiles_usec_<cmd>:p50=..,p99=..,p99.9=..``. Our histograms
    have power-of-two buckets, so a percentile is reported as its bucket's upper bound
    (within 2x; Redis's HDR histogram is within 1%)."""
    hists = getattr(src, "command_hists", None)
    if hists is None:
        return []
    out: list[Line] = []
    for name, hist in hists():
        total = sum(hist)
        if not total:
            continue
        parts = []
        for pct, label in _PERCENTILES:
            need = total * pct / 100
            seen = 0
            for b, n in enumerate(hist):
                seen += n
                if seen >= need:
                    parts.append(f"{label}={float(1 << b):.3f}")
                    break
        out.append((f"latency_percentiles_usec_{name}", ",".join(parts)))
    return out


def _cluster(src: InfoSource) -> list[Line]:
    return [("cluster_enabled", 0)]


def _keyspace(src: InfoSource) -> list[Line]:
    return [
        (f"db{index}", f"keys={keys},expires={expires},avg_ttl=0")
        for index, keys, expires in src.keyspace()
        if keys
    ]


# --- Pika's sections ----------------------------------------------------------------------
def _du(path: str) -> int:
    """Bytes used by the files under ``path`` (Pika's db_size: a du of the directory)."""
    total = 0
    stack = [path]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        else:
                            total += e.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return total


def _prop(engine: Any, name: str, cf: int) -> int:
    try:
        return int(engine.property_int(name, cf) or 0)
    except Exception:
        return 0


def _sum_prop(engine: Any, name: str) -> int:
    return sum(_prop(engine, name, cf) for cf in range(len(CF_NAMES)))


def _fatal(src: InfoSource) -> str:
    """Why writes are failing ('' when they are not): a RocksDB background error or a
    failed commit (disk full, I/O error)."""
    store = getattr(src, "store", None)
    msg = str(getattr(src, "store_error", "") or "")
    if store is not None and not msg:
        n = store.engine.db_property_int("rocksdb.background-errors")
        if n:
            msg = f"{n} RocksDB background error(s)"
    return msg


def _hot_cache(src: InfoSource) -> list[tuple[str, Any]] | None:
    """The hot-data cache's ``# Cache`` fields ((name, value) pairs, storage/cache.py), or
    None when the server has no cache."""
    fn = getattr(src, "cache_info", None)
    try:
        found = fn() if callable(fn) else None
    except Exception:
        return None
    if found is None:
        return None
    return list(found.items()) if isinstance(found, Mapping) else list(found)


def _data(src: InfoSource) -> list[Line]:
    store = getattr(src, "store", None)
    settings = getattr(src, "settings", None)
    if store is None:
        return []
    engine = store.engine
    db_size = _du(store.path)
    log_size = _prop(engine, "rocksdb.total-sst-files-size", BINLOG) + _prop(
        engine, "rocksdb.cur-size-all-mem-tables", BINLOG
    )
    logfile = settings.server.logfile if settings is not None else ""
    if logfile:
        try:
            log_size += os.path.getsize(logfile)
        except OSError:
            pass
    memtables = _sum_prop(engine, "rocksdb.cur-size-all-mem-tables")
    readers = _sum_prop(engine, "rocksdb.estimate-table-readers-mem")
    _, block_cache, _ = engine.block_cache_stats()
    hot = dict(_hot_cache(src) or ())
    hot_mem = int(hot.get("cache_memory", 0))
    used = memtables + readers + block_cache + hot_mem
    fatal = _fatal(src)
    return [
        ("db_size", db_size),
        ("db_size_human", bytes_to_human(db_size)),
        ("log_size", log_size),
        ("log_size_human", bytes_to_human(log_size)),
        ("compression", settings.storage.compression if settings is not None else "snappy"),
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("db_memtable_usage", memtables),
        ("db_tablereader_usage", readers),
        ("db_block_cache_usage", block_cache),
        ("db_hot_cache_usage", hot_mem),
        ("db_fatal", 1 if fatal else 0),
        ("db_fatal_msg", fatal.replace("\r", " ").replace("\n", " ") if fatal else "NULL"),
    ]


def _command_exec_count(src: InfoSource) -> list[Line]:
    counts: dict[str, int] = {}
    for name, calls, *_ in src.command_stats():
        if calls:
            top = name.split("|", 1)[0].upper()
            counts[top] = counts.get(top, 0) + calls
    return sorted(counts.items())


def _cache(src: InfoSource) -> list[Line]:
    """Pika's ``# Cache``: what the hot-data cache reports (``cache_status:Disable`` alone
    when it is off or absent, as Pika)."""
    return _hot_cache(src) or [("cache_status", "Disable")]


# RocksDB properties summed over the column families, as Pika sums them over instances.
_CF_PROPS = (
    "num-immutable-mem-table",
    "num-immutable-mem-table-flushed",
    "mem-table-flush-pending",
    "compaction-pending",
    "cur-size-active-mem-table",
    "cur-size-all-mem-tables",
    "size-all-mem-tables",
    "num-entries-active-mem-table",
    "num-deletes-active-mem-table",
    "estimate-num-keys",
    "estimate-table-readers-mem",
    "num-live-versions",
    "estimate-live-data-size",
    "total-sst-files-size",
    "live-sst-files-size",
    "estimate-pending-compaction-bytes",
    "num-blob-files",
    "total-blob-file-size",
    "live-blob-file-size",
)
# DB-wide properties (the same through every column family).
_DB_PROPS = (
    "num-running-flushes",
    "num-running-compactions",
    "background-errors",
    "num-snapshots",
    "is-write-stopped",
    "actual-delayed-write-rate",
)


def _rocksdb(src: InfoSource) -> list[Line]:
    store = getattr(src, "store", None)
    if store is None:
        return []
    engine = store.engine
    out: list[Line] = []
    for p in _CF_PROPS:
        out.append((p.replace("-", "_"), _sum_prop(engine, f"rocksdb.{p}")))
    for p in _DB_PROPS:
        out.append((p.replace("-", "_"), engine.db_property_int(f"rocksdb.{p}")))
    capacity, usage, pinned = engine.block_cache_stats()
    out += [
        ("block_cache_capacity", capacity),
        ("block_cache_usage", usage),
        ("block_cache_pinned_usage", pinned),
    ]
    ops = getattr(src, "ops", None)
    comp = getattr(ops, "compactor", None)
    if comp is not None:
        out += [
            ("manual_compactions_done", comp.done),
            ("manual_compactions_queued", comp.queued),
            ("last_manual_compaction_sec", f"{comp.last_duration:.3f}"),
            ("scheduled_compactions", comp.auto_runs),
        ]
    out.append(("background_compactions", getattr(engine, "background_compactions", 0)))
    for cf, name in enumerate(CF_NAMES):
        out.append(
            (f"total_sst_files_size_{name}", _prop(engine, "rocksdb.total-sst-files-size", cf))
        )
        out.append((f"estimate_num_keys_{name}", _prop(engine, "rocksdb.estimate-num-keys", cf)))
        for level in range(7):
            out.append(
                (
                    f"num_files_at_level{level}_{name}",
                    _prop(engine, f"rocksdb.num-files-at-level{level}", cf),
                )
            )
    return out


_SECTIONS: dict[str, Callable[[InfoSource], list[Line]]] = {
    "server": _server,
    "data": _data,
    "command_exec_count": _command_exec_count,
    "cache": _cache,
    "rocksdb": _rocksdb,
    "clients": _clients,
    "memory": _memory,
    "persistence": _persistence,
    "stats": _stats,
    "replication": _replication,
    "cpu": _cpu,
    "modules": _modules,
    "commandstats": _commandstats,
    "errorstats": _errorstats,
    "latencystats": _latencystats,
    "cluster": _cluster,
    "keyspace": _keyspace,
}
