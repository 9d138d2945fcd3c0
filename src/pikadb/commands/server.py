"""Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, LASTSAVE, SHUTDOWN, INFO."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pikadb.commands._args import INT64_MAX, INT64_MIN
from pikadb.commands.context import ClientState
from pikadb.commands.table import COMMANDS, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.observability import info as info_report
from pikadb.protocol.reply import OK, integer

G = "server"
_FLUSH_HISTORY = (
    ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
    ("6.2.0", "Added the `SYNC` flushing mode modifier."),
)
_ALL_SHARDS = "request_policy:all_shards response_policy:all_succeeded"


@command(
    "dbsize",
    1,
    "readonly fast",
    acl="keyspace",
    group=G,
    summary="Return the number of keys in the selected database",
    complexity="O(1)",
    tips="request_policy:all_shards response_policy:agg_sum",
)
def dbsize(c: ClientState, args: list[bytes]) -> bytes:
    return integer(c.db.size())


def _check_flush_args(args: list[bytes]) -> None:
    """FLUSHDB/FLUSHALL [ASYNC|SYNC]: both modes are one range delete here."""
    if len(args) == 1:
        return
    if len(args) == 2 and args[1].upper() in (b"ASYNC", b"SYNC"):
        return
    raise CommandError(errors.SYNTAX)


@command(
    "flushdb",
    -1,
    "write",
    acl="keyspace dangerous",
    group=G,
    summary="Remove all keys from the current database",
    complexity="O(N) where N is the number of keys in the selected database",
    args="[ASYNC|SYNC]",
    tips=_ALL_SHARDS,
    history=_FLUSH_HISTORY,
)
def flushdb(c: ClientState, args: list[bytes]) -> bytes:
    _check_flush_args(args)
    store = c.db.store
    b = store.batch()
    store.flush_table(b, c.db.table)
    store.commit(b)
    return OK


@command(
    "flushall",
    -1,
    "write",
    acl="keyspace dangerous",
    group=G,
    summary="Remove all keys from all databases",
    complexity="O(N) where N is the total number of keys in all databases",
    args="[ASYNC|SYNC]",
    tips=_ALL_SHARDS,
    history=_FLUSH_HISTORY,
)
def flushall(c: ClientState, args: list[bytes]) -> bytes:
    _check_flush_args(args)
    store = c.server.store
    b = store.batch()
    for db in store.databases:
        store.flush_table(b, db.table)
    store.commit(b)
    return OK


def _int_arg(raw: bytes, message: str) -> int:
    """getIntFromObjectOrReply: a canonical integer that fits a C int, else ``message``."""
    try:
        v = int(raw)
    except ValueError:
        raise CommandError(message) from None
    if b"%d" % v != raw or not INT64_MIN <= v <= INT64_MAX or not -(1 << 31) <= v < (1 << 31):
        raise CommandError(message)
    return v


@command(
    "swapdb",
    3,
    "write fast",
    acl="keyspace dangerous",
    group=G,
    summary="Swaps two Redis databases",
    since="4.0.0",
    complexity="O(N) where N is the count of clients watching or blocking on keys from both databases.",
    args="index1 index2",
)
def swapdb(c: ClientState, args: list[bytes]) -> bytes:
    a = _int_arg(args[1], errors.INVALID_FIRST_DB)
    b = _int_arg(args[2], errors.INVALID_SECOND_DB)
    store = c.server.store
    n = len(store.databases)
    if not (0 <= a < n and 0 <= b < n):
        raise CommandError(errors.DB_INDEX_OUT_OF_RANGE)
    if a != b:
        store.swap_databases(a, b)
    return OK


@command(
    "time",
    1,
    "loading stale fast",
    group=G,
    summary="Return the current server time",
    since="2.6.0",
    complexity="O(1)",
    tips="nondeterministic_output",
)
def time_(c: ClientState, args: list[bytes]) -> bytes:
    us = time.time_ns() // 1000
    return c.enc.bulks([b"%d" % (us // 1_000_000), b"%d" % (us % 1_000_000)])


def _last_save(c: ClientState) -> int:
    return int(getattr(c.server, "last_save_time", 0) or c.server.start_time)


@command(
    "lastsave",
    1,
    "loading stale fast",
    acl="admin dangerous",
    group=G,
    summary="Get the UNIX time stamp of the last successful save to disk",
    complexity="O(1)",
    tips="nondeterministic_output",
)
def lastsave(c: ClientState, args: list[bytes]) -> bytes:
    return integer(_last_save(c))


@command(
    "shutdown",
    -1,
    "admin noscript loading stale no_multi allow_busy",
    group=G,
    summary="Synchronously save the dataset to disk and then shut down the server",
    complexity="O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    args="[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
    history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),),
)
def shutdown(c: ClientState, args: list[bytes]) -> bytes:
    opts: set[bytes] = set()
    for raw in args[1:]:
        opt = raw.upper()
        if opt not in (b"NOSAVE", b"SAVE", b"NOW", b"FORCE", b"ABORT"):
            raise CommandError(errors.SYNTAX)
        opts.add(opt)
    abort = b"ABORT" in opts
    if (abort and len(opts) > 1) or {b"NOSAVE", b"SAVE"} <= opts:
        raise CommandError(errors.SYNTAX)
    if abort:
        # Shutdown is immediate here: there is never one in progress to abort.
        raise CommandError(errors.NO_SHUTDOWN_IN_PROGRESS)
    c.server.request_shutdown(nosave=b"NOSAVE" in opts, now=b"NOW" in opts)
    # As Redis: the connection is closed without a reply when the shutdown goes ahead.
    c.close_after_reply = True
    return b""


# --- INFO --------------------------------------------------------------------------------
class _InfoSource:
    """Adapts the server state to :class:`pikadb.observability.info.InfoSource`."""

    def __init__(self, c: ClientState) -> None:
        srv = c.server
        s = srv.settings.server
        self._srv = srv
        self.run_id = srv.run_id
        self.tcp_port = srv.tcp_port
        self.start_time = srv.start_time
        self.configured_hz = s.hz
        self.hz = max(1, min(500, s.hz))
        self.executable = srv.executable
        self.config_file = str(srv.config_file or "")
        self.maxclients = s.maxclients
        self.maxmemory = s.maxmemory
        self.maxmemory_policy = s.maxmemory_policy
        self.stats = srv.stats
        self.role = getattr(srv, "role", "master")
        self.master_replid = getattr(srv, "replid", srv.run_id)
        self.master_repl_offset = srv.store.seq
        self.changes_since_last_save = srv.store.dirty
        self.last_save_time = _last_save(c)
        repl = getattr(srv, "replication", None)  # INFO replication (replication/manager.py)
        self.replication_fields = repl.info_fields if repl is not None else None
        # Pika's sections (observability/info.py reads these by duck typing): the store,
        # BGSAVE/compaction state (commands/admin.py), the last commit error, the settings
        self.store = srv.store
        self.settings = srv.settings
        self.ops = getattr(srv, "ops", None)
        self.store_error = getattr(srv, "store_error", "")

    def cache_info(self) -> Any:
        """The hot-data cache's ``# Cache`` fields (storage/cache.py ``HotCache.cache_info``:
        (name, value) pairs), or None without a cache."""
        fn = getattr(getattr(self._srv, "cache", None), "cache_info", None)
        return fn() if callable(fn) else None

    def connected_clients(self) -> int:
        return sum(1 for cl in self._srv.clients.values() if cl.kind != "replica")

    def blocked_clients(self) -> int:
        return sum(1 for cl in self._srv.clients.values() if getattr(cl, "_pending", None))

    def client_buffers(self) -> tuple[int, int]:
        max_in = max_out = 0
        for cl in self._srv.clients.values():
            max_in = max(max_in, cl.query_buffer_size())
            max_out = max(max_out, cl.output_buffer_size())
        return max_in, max_out

    def engine_memory(self) -> int:
        try:
            return int(self._srv.store.engine.memory_usage())
        except Exception:
            return 0

    def pubsub_counts(self) -> tuple[int, int, int]:
        counts = getattr(self._srv, "pubsub_counts", None)
        return counts() if callable(counts) else (0, 0, 0)

    def command_stats(self) -> Iterator[tuple[str, int, int, int, int]]:
        for cmd in COMMANDS.values():
            yield cmd.name, cmd.calls, cmd.usec, cmd.rejected_calls, cmd.failed_calls
            for sub in cmd.subcommands.values():
                yield sub.name, sub.calls, sub.usec, sub.rejected_calls, sub.failed_calls

    def command_hists(self) -> Iterator[tuple[str, list[int]]]:
        """(name, latency histogram) of every command called: bucket b counts calls of
        [2^(b-1), 2^b) microseconds (the dispatcher's ``cmd.hist``)."""
        for cmd in COMMANDS.values():
            for one in (cmd, *cmd.subcommands.values()):
                if one.calls:
                    yield one.name, one.hist

    def keyspace(self) -> Iterator[tuple[int, int, int]]:
        store = self._srv.store
        for db in store.databases:
            yield db.index, store.key_count(db.table), store.expires_count(db.table)


def info_text(c: ClientState, sections: list[bytes]) -> str:
    """The INFO report for ``sections`` (as given to INFO) — also for other callers."""
    wanted, _everything = info_report.select_sections(sections)
    source: Any = _InfoSource(c)
    return info_report.render(source, wanted)


@command(
    "info",
    -1,
    "loading stale",
    acl="dangerous",
    group=G,
    summary="Get information and statistics about the server",
    complexity="O(1)",
    args="[section [section ...]]",
    tips="nondeterministic_output request_policy:all_shards response_policy:special",
    history=(("7.0.0", "Added support for taking multiple section arguments."),),
)
def info(c: ClientState, args: list[bytes]) -> bytes:
    return c.enc.verbatim(info_text(c, args[1:]).encode())
