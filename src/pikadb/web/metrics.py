"""Prometheus /metrics: a custom collector that reads the live server at scrape time.

Nothing is counted per RESP request beyond what the server already counts for INFO (plus
the dispatcher's one-line latency histogram, ``Command.hist``): every value is computed
when Prometheus scrapes. Metric names follow pika_exporter's groups with a ``pika_`` prefix
(server, clients, stats, data, keyspace, replication, binlog, cpu, cache, commandstats,
rocksdb); counters carry Prometheus's ``_total`` suffix.

The ``data`` and ``rocksdb`` groups are INFO's Pika sections, field by field (numeric fields
only), so they always agree with ``INFO data`` / ``INFO rocksdb``; replication is read from
``INFO replication`` (Redis's field names), whatever the replication module looks like.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest

from pikadb import REDIS_VERSION, __version__
from pikadb.commands.context import ServerState
from pikadb.commands.slowlog import slowlog
from pikadb.web import hist, state

log = logging.getLogger("pikadb.web")

NS = "pika"
# le of the exported buckets, in seconds: 2**i microseconds.
_LE = [repr((1 << i) / 1e6) for i in range(hist.EXPORTED)]


def _gauge(name: str, doc: str, value: float, unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{NS}_{name}", doc, value=value, unit=unit)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{NS}_{name}", doc, value=value)


def _metric_name(field: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in field.lower())


class PikaCollector:
    """Yields every metric family from the server's live state."""

    def __init__(self, server: ServerState, sampler: state.Sampler | None = None) -> None:
        self.server = server
        self.sampler = sampler
        self.last_duration = 0.0

    def describe(self) -> list[Metric]:
        return []  # unchecked collector: names are only known at collect time

    def collect(self) -> Iterator[Metric]:
        t0 = time.perf_counter()
        for group in (
            self._server,
            self._clients,
            self._stats,
            self._data,
            self._keyspace,
            self._replication,
            self._binlog,
            self._cpu,
            self._cache,
            self._commandstats,
            self._rocksdb,
        ):
            try:
                yield from group()
            except Exception:  # one broken group must not take the others down
                log.exception("metrics group %s failed", group.__name__)
        self.last_duration = time.perf_counter() - t0
        yield _gauge(
            "exporter_collect_duration_seconds",
            "Time the previous /metrics collection took inside the server.",
            self.last_duration,
        )

    # --- groups ----------------------------------------------------------------------------
    def _server(self) -> Iterator[Metric]:
        srv = self.server
        build = InfoMetricFamily(f"{NS}_build", "pikadb version and the Redis version it matches.")
        build.add_metric(
            [],
            {"version": __version__, "redis_version": REDIS_VERSION, "run_id": srv.run_id},
        )
        yield build
        yield _gauge(
            "uptime_in_seconds", "Seconds since the server started.", time.time() - srv.start_time
        )
        yield _gauge("start_time_seconds", "Unix time the server started.", srv.start_time)
        yield _gauge("tcp_port", "The RESP port.", srv.tcp_port)

    def _clients(self) -> Iterator[Metric]:
        clients = list(self.server.clients.values())
        normal = sum(1 for c in clients if c.kind != "replica")
        blocked = sum(1 for c in clients if getattr(c, "_pending", None))
        yield _gauge("connected_clients", "Connected clients (replicas excluded).", normal)
        yield _gauge("blocked_clients", "Clients waiting in a blocking command.", blocked)
        yield _gauge(
            "maxclients", "The maxclients setting.", self.server.settings.server.maxclients
        )

    def _stats(self) -> Iterator[Metric]:
        s = self.server.stats
        yield _counter(
            "commands_processed",
            "Commands run (INFO total_commands_processed).",
            s.total_commands_processed,
        )
        yield _counter(
            "connections_received", "Connections accepted.", s.total_connections_received
        )
        yield _counter(
            "rejected_connections", "Connections refused (maxclients).", s.rejected_connections
        )
        yield _counter("net_input_bytes", "Bytes read from clients.", s.net_input_bytes)
        yield _counter("net_output_bytes", "Bytes written to clients.", s.net_output_bytes)
        yield _counter("expired_keys", "Keys deleted because they expired.", s.expired_keys)
        yield _counter("keyspace_hits", "Successful key lookups.", s.keyspace_hits)
        yield _counter("keyspace_misses", "Failed key lookups.", s.keyspace_misses)
        yield _counter("error_replies", "Error replies sent.", s.total_error_replies)
        errs = CounterMetricFamily(
            f"{NS}_errorstat", "Error replies by error prefix.", labels=["error"]
        )
        for prefix, n in sorted(s.errorstats.items()):
            errs.add_metric([prefix], n)
        yield errs
        if self.sampler is not None:
            yield _gauge(
                "instantaneous_ops_per_sec",
                "Commands per second over the last second.",
                self.sampler.ops_per_sec,
            )
        channels, patterns, _shard = self.server.pubsub_counts()
        yield _gauge("pubsub_channels", "Channels with subscribers.", channels)
        yield _gauge("pubsub_patterns", "Patterns with subscribers.", patterns)
        yield _gauge(
            "slowlog_length", "Entries in the slow log.", len(slowlog(self.server).entries)
        )

    def _data(self) -> Iterator[Metric]:
        """INFO data: db_size, log_size, used_memory (RocksDB + caches), memtables..."""
        fields = state.info(self.server, "data")
        for key, value in fields.items():
            num = state.number(value)
            if num is None or key.endswith("_human"):
                continue
            yield _gauge(_metric_name(key), f"INFO data {key}.", num)
        rss = state.rss_bytes()
        yield _gauge(
            "process_resident_memory_bytes",
            "Resident memory of the process (INFO memory used_memory_rss).",
            rss,
        )
        if self.sampler is not None:
            yield _gauge(
                "disk_usage_bytes",
                "Bytes in the data directory (refreshed every 10 s).",
                self.sampler.disk_bytes,
            )

    def _keyspace(self) -> Iterator[Metric]:
        keys = GaugeMetricFamily(f"{NS}_keys", "Keys per database.", labels=["db"])
        expires = GaugeMetricFamily(
            f"{NS}_expire_keys", "Keys with a TTL per database.", labels=["db"]
        )
        for row in state.keyspace(self.server):
            db = f"db{row['db']}"
            keys.add_metric([db], row["keys"])
            expires.add_metric([db], row["expires"])
        yield keys
        yield expires

    def _replication(self) -> Iterator[Metric]:
        r = state.replication(self.server)
        role = GaugeMetricFamily(
            f"{NS}_role", "1 for the node's replication role.", labels=["role"]
        )
        for name in ("master", "slave"):
            role.add_metric([name], 1 if r["role"] == name else 0)
        yield role
        yield _gauge(
            "connected_slaves", "Replicas connected to this master.", r["connected_slaves"]
        )
        yield _gauge(
            "master_repl_offset",
            "Replication offset of this node (INFO master_repl_offset).",
            r["master_repl_offset"],
        )
        labels = ["replica", "ip", "port", "state"]
        offset = GaugeMetricFamily(
            f"{NS}_replica_offset", "Offset acknowledged by each replica.", labels=labels
        )
        lag_bytes = GaugeMetricFamily(
            f"{NS}_replica_lag_bytes", "Master offset minus the replica's.", labels=labels
        )
        lag_seconds = GaugeMetricFamily(
            f"{NS}_replica_lag_seconds",
            "Seconds since the replica's last ack (INFO lag).",
            labels=labels,
        )
        for rep in r["replicas"]:
            lv = [rep["id"], rep["ip"], str(rep["port"]), rep["state"]]
            offset.add_metric(lv, rep["offset"])
            lag_bytes.add_metric(lv, rep["lag_bytes"])
            if rep["lag_seconds"] is not None:
                lag_seconds.add_metric(lv, rep["lag_seconds"])
        yield offset
        yield lag_bytes
        yield lag_seconds
        if r["role"] != "master":
            yield _gauge(
                "master_link_up",
                "1 when the link to the master is up.",
                1 if r["master_link_status"] == "up" else 0,
            )
            yield _gauge(
                "slave_repl_offset", "Offset this replica has applied.", r["slave_repl_offset"]
            )
            yield _gauge(
                "master_sync_in_progress",
                "1 during a full sync.",
                1 if r["master_sync_in_progress"] else 0,
            )
            last_io = r["master_last_io_seconds_ago"]
            if last_io is not None and last_io >= 0:
                yield _gauge(
                    "master_last_io_seconds_ago",
                    "Seconds since the last byte from the master.",
                    last_io,
                )

    def _binlog(self) -> Iterator[Metric]:
        store = self.server.store
        seq = int(getattr(store, "seq", 0))
        first = getattr(store, "first_seq", None)
        first_seq = int(first() if callable(first) else getattr(store, "_first_seq", seq + 1))
        yield _gauge("binlog_seq", "Sequence number of the last binlog record.", seq)
        yield _gauge(
            "binlog_first_seq", "Sequence number of the oldest binlog record kept.", first_seq
        )
        yield _gauge("binlog_records", "Binlog records kept.", max(0, seq - first_seq + 1))

    def _cpu(self) -> Iterator[Metric]:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        yield _counter("used_cpu_sys_seconds", "System CPU time of the server.", me.ru_stime)
        yield _counter("used_cpu_user_seconds", "User CPU time of the server.", me.ru_utime)
        yield _counter(
            "used_cpu_sys_children_seconds", "System CPU time of child processes.", kids.ru_stime
        )
        yield _counter(
            "used_cpu_user_children_seconds", "User CPU time of child processes.", kids.ru_utime
        )

    def _cache(self) -> Iterator[Metric]:
        """The hot-data cache (storage/cache.py: ``server.cache``), read without side effects
        (its ``cache_info()`` restarts the per-second rate window INFO cache reports)."""
        cache = getattr(self.server, "cache", None)
        enabled = bool(cache is not None and getattr(cache, "enabled", False))
        yield _gauge("cache_status", "1 while the hot-data cache is on (cache-model 1).", enabled)
        if cache is None:
            return
        keys = getattr(cache, "keys", None)
        hits = int(getattr(cache, "hits", 0))
        reads = int(getattr(cache, "all_cmds", 0))
        yield _gauge("cache_keys", "Keys in the hot-data cache.", keys() if callable(keys) else 0)
        yield _gauge(
            "cache_memory", "Estimated bytes held by the hot-data cache.", getattr(cache, "used", 0)
        )
        yield _gauge(
            "cache_hits", "Cached reads answered from the cache (since CACHE CLEAR hitratio).", hits
        )
        yield _gauge("cache_all_cmds", "Cacheable reads (since CACHE CLEAR hitratio).", reads)
        yield _gauge(
            "cache_hitratio_all",
            "cache_hits / cache_all_cmds (0..1).",
            hits / reads if reads else 0.0,
        )

    def _commandstats(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            f"{NS}_command_calls", "Calls per command (INFO commandstats calls).", labels=["cmd"]
        )
        usec = CounterMetricFamily(
            f"{NS}_command_duration_seconds",
            "Time spent per command (INFO commandstats usec).",
            labels=["cmd"],
        )
        failed = CounterMetricFamily(
            f"{NS}_command_failed_calls", "Calls that replied with an error.", labels=["cmd"]
        )
        rejected = CounterMetricFamily(
            f"{NS}_command_rejected_calls", "Calls refused before running.", labels=["cmd"]
        )
        latency = HistogramMetricFamily(
            f"{NS}_command_latency_seconds",
            "Command run time, log2 buckets (1 us .. 33 s). Calls inside MULTI/EXEC and scripts are in commandstats but not here.",
            labels=["cmd"],
        )
        for cmd in hist.all_commands():
            if not (cmd.calls or cmd.failed_calls or cmd.rejected_calls):
                continue
            name = cmd.name
            calls.add_metric([name], cmd.calls)
            usec.add_metric([name], cmd.usec / 1e6)
            failed.add_metric([name], cmd.failed_calls)
            rejected.add_metric([name], cmd.rejected_calls)
            cum, total = hist.cumulative(cmd.hist)
            if total:
                buckets = [(le, float(n)) for le, n in zip(_LE, cum, strict=True)]
                buckets.append(("+Inf", float(total)))
                latency.add_metric([name], buckets, sum_value=cmd.usec / 1e6)
        yield calls
        yield usec
        yield failed
        yield rejected
        yield latency

    def _rocksdb(self) -> Iterator[Metric]:
        """INFO rocksdb, numeric fields as pika_rocksdb_<field>."""
        levels = GaugeMetricFamily(
            f"{NS}_rocksdb_num_files_at_level",
            "SST files per level and column family.",
            labels=["cf", "level"],
        )
        for key, value in state.info(self.server, "rocksdb").items():
            num = state.number(value)
            if num is None:
                continue
            if key.startswith("num_files_at_level"):
                level, _, cf = key[len("num_files_at_level") :].partition("_")
                levels.add_metric([cf, level], num)
                continue
            yield _gauge(f"rocksdb_{_metric_name(key)}", f"INFO rocksdb {key}.", num)
        yield levels


def make_registry(
    server: ServerState, sampler: state.Sampler | None = None
) -> tuple[CollectorRegistry, PikaCollector]:
    registry = CollectorRegistry(auto_describe=False)
    collector = PikaCollector(server, sampler)
    registry.register(collector)  # type: ignore[arg-type]
    return registry, collector


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
