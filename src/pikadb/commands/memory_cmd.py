"""MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP.

Redis measures its heap; pikadb's data lives in RocksDB, so USAGE reports the bytes a key's
records take as stored (storage/memory.py, sampled like Redis) and STATS fills Redis's field
names from what this process has: RSS, RocksDB memtables + table readers + block cache.
"""

from __future__ import annotations

import resource

from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.introspection import help_reply
from pikadb.commands.table import command, container
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, bulk, integer
from pikadb.storage.memory import key_usage

G = "server"
P = "memory"
_DEFAULT_SAMPLES = 5
_DOCTOR = (
    b"Hi Sam, I can't find any memory issue in your instance. I can only account for what "
    b"this process holds: the keys live in RocksDB on disk (see INFO data / INFO rocksdb)."
)

container(
    "memory",
    -2,
    group=G,
    summary="A container for memory diagnostics commands",
    since="4.0.0",
    acl="slow",
)


@command(
    "usage",
    -3,
    "readonly",
    keys=(2, 2, 1),
    group=G,
    parent=P,
    summary="Estimate the memory usage of a key",
    since="4.0.0",
    complexity="O(N) where N is the number of samples.",
    key_flags="RO",
    args="key [SAMPLES count]",
)
def memory_usage(c: ClientState, args: list[bytes]) -> bytes:
    samples = _DEFAULT_SAMPLES
    i = 3
    while i < len(args):
        if args[i].lower() == b"samples" and i + 1 < len(args):
            samples = parse_int(args[i + 1])
            if samples < 0:
                raise CommandError(errors.SYNTAX)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    mkey, raw = c.db.lookup(args[2])
    if raw is None:
        return c.enc.null
    return integer(key_usage(c.db, mkey, raw, samples))


def _stats_pairs(c: ClientState) -> list[tuple[bytes, object]]:
    srv = c.server
    engine = srv.store.engine
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    used = engine.memory_usage()
    keys = sum(srv.store.key_count(db.table) for db in srv.store.databases)
    return [
        (b"peak.allocated", rss_peak),
        (b"total.allocated", used),
        (b"startup.allocated", 0),
        (b"replication.backlog", 0),
        (b"clients.slaves", 0),
        (b"clients.normal", sum(cl.output_buffer_size() for cl in srv.clients.values())),
        (b"cluster.links", 0),
        (b"aof.buffer", 0),
        (b"lua.caches", 0),
        (b"functions.caches", 0),
        (b"overhead.total", 0),
        (b"keys.count", keys),
        (b"keys.bytes-per-key", used // keys if keys else 0),
        (b"dataset.bytes", used),
    ]


@command(
    "stats",
    2,
    "",
    group=G,
    parent=P,
    summary="Show memory usage details",
    since="4.0.0",
    complexity="O(1)",
    tips="nondeterministic_output request_policy:all_shards response_policy:special",
)
def memory_stats(c: ClientState, args: list[bytes]) -> bytes:
    return c.enc.map([(bulk(k), integer(v)) for k, v in _stats_pairs(c)])  # type: ignore[arg-type]


@command(
    "doctor",
    2,
    "",
    group=G,
    parent=P,
    summary="Outputs memory problems report",
    since="4.0.0",
    complexity="O(1)",
    tips="nondeterministic_output request_policy:all_shards response_policy:special",
)
def memory_doctor(c: ClientState, args: list[bytes]) -> bytes:
    return c.enc.verbatim(_DOCTOR)


@command(
    "malloc-stats",
    2,
    "",
    group=G,
    parent=P,
    summary="Show allocator internal stats",
    since="4.0.0",
    complexity="Depends on how much memory is allocated, could be slow",
    tips="nondeterministic_output request_policy:all_shards response_policy:special",
)
def memory_malloc_stats(c: ClientState, args: list[bytes]) -> bytes:
    return bulk(b"Stats not supported for the current allocator")


@command(
    "purge",
    2,
    "",
    group=G,
    parent=P,
    summary="Ask the allocator to release memory",
    since="4.0.0",
    complexity="Depends on how much memory is allocated, could be slow",
    tips="request_policy:all_shards response_policy:all_succeeded",
)
def memory_purge(c: ClientState, args: list[bytes]) -> bytes:
    return OK


_HELP = [
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
]


@command(
    "help",
    2,
    "loading stale",
    group=G,
    parent=P,
    summary="Show helpful text about the different subcommands",
    since="4.0.0",
    complexity="O(1)",
)
def memory_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(args[0], _HELP)
