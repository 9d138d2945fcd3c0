"""The typed settings: one pydantic model per section, plus the top-level :class:`Settings`.

Each field *is* a config setting. Its flat Redis-style name (``slowlog-log-slower-than``) is
the field name with ``_`` replaced by ``-``; :func:`setting` records whether CONFIG SET may
change it at runtime, and its type (``ConfigInt``, ``ConfigSize``, ...) says how it parses
and renders. :mod:`pikadb.config.table` derives the CONFIG GET/SET table from these models,
so adding a field here is all it takes to add a setting.

Flat names must be unique across sections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pikadb.config.cron import CompactCron, CompactInterval
from pikadb.config.obuf import DEFAULT_TEXT as DEFAULT_OBUF_LIMITS
from pikadb.config.obuf import ObufLimits
from pikadb.config.values import (
    INT_MAX,
    LLONG_MAX,
    LONG_MAX,
    UINT_MAX,
    ULLONG_MAX,
    Bounds,
    Clamp,
    ConfigBool,
    ConfigInt,
    ConfigSize,
    ConfigStr,
    KeyspaceEvents,
    Normalize,
    OneOf,
    SaveParams,
    invalid,
)

MB = 1024 * 1024


def setting(default: Any, doc: str, *, mutable: bool = True, sensitive: bool = False) -> Any:
    """Declare a setting: its default, one-line documentation and CONFIG SET flags.

    ``mutable=False`` makes CONFIG SET answer "can't set immutable config" (the value can
    only come from the file, the environment or the command line). ``sensitive`` marks
    secrets that must not be logged.
    """
    return Field(
        default=default,
        description=doc,
        json_schema_extra={"mutable": mutable, "sensitive": sensitive},
    )


class SectionModel(BaseModel):
    """Base of the section models: unknown fields are errors, assignments validate."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class ServerSettings(SectionModel):
    """Network, clients, logging and Redis-compatibility knobs (``server:`` in pika.yaml)."""

    port: Annotated[ConfigInt, Bounds(0, 65535)] = setting(
        9221, "TCP port to listen on.", mutable=False
    )
    bind: ConfigStr = setting("127.0.0.1", "Space-separated addresses to listen on.", mutable=False)
    protected_mode: ConfigBool = setting(
        True, "Refuse non-loopback clients while no requirepass is set."
    )
    tcp_backlog: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        511, "listen() backlog.", mutable=False
    )
    tcp_keepalive: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        300, "TCP keepalive interval in seconds (0: off)."
    )
    timeout: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        0, "Close a client after this many idle seconds (0: never)."
    )
    maxclients: Annotated[ConfigInt, Bounds(1, UINT_MAX)] = setting(
        10000, "Maximum number of connected clients."
    )
    databases: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        16, "Number of logical databases (SELECT 0..databases-1).", mutable=False
    )
    requirepass: ConfigStr = setting(
        "", "Password of the default user; empty: no AUTH needed.", sensitive=True
    )
    daemonize: ConfigBool = setting(False, "Detach from the terminal.", mutable=False)
    pidfile: ConfigStr = setting("", "Write the process id here (empty: don't).", mutable=False)
    loglevel: Annotated[Literal["debug", "verbose", "notice", "warning"], OneOf()] = setting(
        "notice", "Log verbosity."
    )
    logfile: ConfigStr = setting("", "Log file; empty: standard error.", mutable=False)
    hz: Annotated[ConfigInt, Bounds(0, INT_MAX), Clamp(1, 500)] = setting(
        10, "Background task frequency per second (clamped to 1..500)."
    )
    enable_debug_command: Annotated[Literal["no", "yes", "local"], OneOf()] = setting(
        "no", "Allow DEBUG: no, yes, or local (loopback clients only).", mutable=False
    )
    proto_max_bulk_len: Annotated[ConfigSize, Bounds(MB, LONG_MAX)] = setting(
        512 * MB, "Largest bulk string a client may send."
    )
    client_query_buffer_limit: Annotated[ConfigSize, Bounds(MB, LONG_MAX)] = setting(
        1024 * MB, "Largest unparsed input buffered per client."
    )
    lazyfree_lazy_eviction: ConfigBool = setting(False, "Accepted for Redis compatibility.")
    lazyfree_lazy_expire: ConfigBool = setting(False, "Accepted for Redis compatibility.")
    lazyfree_lazy_server_del: ConfigBool = setting(False, "Accepted for Redis compatibility.")
    lazyfree_lazy_user_del: ConfigBool = setting(False, "Accepted for Redis compatibility.")
    lazyfree_lazy_user_flush: ConfigBool = setting(False, "Accepted for Redis compatibility.")
    slowlog_log_slower_than: Annotated[ConfigInt, Bounds(-1, LLONG_MAX)] = setting(
        10000, "Log commands slower than this many microseconds (-1: off, 0: all)."
    )
    slowlog_max_len: Annotated[ConfigInt, Bounds(0, LONG_MAX)] = setting(
        128, "Entries kept by SLOWLOG."
    )
    latency_monitor_threshold: Annotated[ConfigInt, Bounds(0, LLONG_MAX)] = setting(
        0, "Record events slower than this many milliseconds (0: off)."
    )
    notify_keyspace_events: KeyspaceEvents = setting(
        "", "Keyspace notification classes, e.g. KEA (empty: off)."
    )
    active_expire: ConfigBool = setting(True, "Delete expired keys in the background.")
    slow_cmd_list: ConfigStr = setting(
        "keys,smembers,hgetall,hkeys,hvals,lrange,sunion,sinter,sdiff,sintercard,zunion,zinter,zdiff",
        "Read-only commands run off the event loop when slow (Pika's slow-cmd-list).",
    )
    maxmemory: Annotated[ConfigSize, Bounds(0, ULLONG_MAX)] = setting(
        0, "Accepted for Redis compatibility (data lives on disk)."
    )
    maxmemory_policy: Annotated[
        Literal[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ],
        OneOf(),
    ] = setting("noeviction", "Accepted for Redis compatibility.")
    appendonly: ConfigBool = setting(
        False, "Accepted for Redis compatibility (every write is already durable)."
    )
    save: SaveParams = setting("", "Accepted for Redis compatibility: '<seconds> <changes> ...'.")
    hll_sparse_max_bytes: Annotated[ConfigSize, Bounds(0, LONG_MAX)] = setting(
        3000, "HyperLogLog sparse encoding size limit; a longer HLL is converted to dense."
    )
    client_output_buffer_limit: ObufLimits = setting(
        DEFAULT_OBUF_LIMITS,
        "Disconnect clients whose pending output passes these limits: "
        "'<class> <hard> <soft> <soft-seconds>' for normal, replica (slave) and pubsub.",
    )
    # scripting (commands/scripting.py, functions.py): lua-time-limit is Redis's older name
    # of busy-reply-threshold; the two are kept equal (the one set last wins).
    busy_reply_threshold: Annotated[ConfigInt, Bounds(0, LONG_MAX)] = setting(
        5000,
        "Milliseconds a script may run before other clients get BUSY and SCRIPT KILL / "
        "FUNCTION KILL become possible (0: never).",
    )
    lua_time_limit: Annotated[ConfigInt, Bounds(0, LONG_MAX)] = setting(
        5000, "Alias of busy-reply-threshold (Redis's older name)."
    )
    # logging (src/pikadb/logsetup.py)
    log_format: Annotated[Literal["text", "json"], OneOf()] = setting(
        "text", "Log line format: text, or json (one object per line: ts, level, logger, msg)."
    )
    slowlog_write_errorlog: ConfigBool = setting(
        False,
        "Also log commands slower than slowlog-log-slower-than at warning level (Pika's "
        "slowlog-write-errorlog).",
    )
    # TLS (server/tls.py): a second listener on tls-port; CONFIG SET of any tls-* setting
    # builds a new context (refused with Redis's message if it fails) for new connections.
    tls_port: Annotated[ConfigInt, Bounds(0, 65535)] = setting(
        0, "TLS port to listen on, alongside port (0: no TLS)."
    )
    tls_cert_file: ConfigStr = setting("", "Server certificate (PEM) for TLS.")
    tls_key_file: ConfigStr = setting("", "Private key (PEM) of tls-cert-file.")
    tls_key_file_pass: ConfigStr = setting(
        "", "Passphrase of tls-key-file, if it is encrypted.", sensitive=True
    )
    tls_ca_cert_file: ConfigStr = setting("", "CA bundle (PEM) that client certificates chain to.")
    tls_ca_cert_dir: ConfigStr = setting("", "Directory of CA certificates (c_rehash layout).")
    tls_auth_clients: Annotated[Literal["no", "yes", "optional"], OneOf()] = setting(
        "yes", "Client certificates: yes (required), optional (checked if sent) or no."
    )
    tls_protocols: ConfigStr = setting(
        "", "Allowed TLS versions, e.g. 'TLSv1.2 TLSv1.3' (empty: TLSv1.2 and TLSv1.3)."
    )
    tls_ciphers: ConfigStr = setting("", "OpenSSL cipher list for TLSv1.2 and below.")
    tls_prefer_server_ciphers: ConfigBool = setting(
        False, "Prefer the server's cipher order to the client's."
    )
    # --- ACL (commands/_acl_*.py) ---
    aclfile: ConfigStr = setting(
        "", "ACL file of 'user <name> <rules...>' lines (ACL LOAD / SAVE).", mutable=False
    )
    user: ConfigStr = setting(
        "",
        "ACL users, one '<name> <rules...>' per line (a leading 'user' word is allowed); "
        "can't be combined with aclfile.",
        mutable=False,
        sensitive=True,
    )
    acllog_max_len: Annotated[ConfigInt, Bounds(0, LONG_MAX)] = setting(
        128, "Entries kept by ACL LOG."
    )
    acl_pubsub_default: Annotated[Literal["allchannels", "resetchannels"], OneOf()] = setting(
        "resetchannels", "Channel permissions of new ACL users (and selectors)."
    )
    userpass: ConfigStr = setting(
        "",
        "Pika: password of the restricted 'limit' user (AUTH <userpass>); empty: no such user.",
        sensitive=True,
    )
    userblacklist: ConfigStr = setting(
        "", "Pika: comma-separated commands the 'limit' user may not run."
    )
    rename_command: ConfigStr = setting(
        "",
        "Rename commands: 'OLD NEW' pairs, one per line or comma-separated; NEW \"\" (or "
        "absent) disables OLD.",
        mutable=False,
    )


class StorageSettings(SectionModel):
    """Data directory and RocksDB tuning (``storage:`` in pika.yaml)."""

    dir: ConfigStr = setting("./data", "Working directory for data and dumps.", mutable=False)
    db_path: ConfigStr = setting("", "RocksDB directory; empty: <dir>/db.", mutable=False)
    write_buffer_size: Annotated[ConfigSize, Bounds(64 * 1024, LLONG_MAX)] = setting(
        64 * MB, "Memtable size per column family."
    )
    max_write_buffer_number: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        2, "Memtables per column family before writes stall."
    )
    block_cache: Annotated[ConfigSize, Bounds(0, LLONG_MAX)] = setting(
        8 * MB, "Shared LRU block cache (0: none).", mutable=False
    )
    block_size: Annotated[ConfigSize, Bounds(1024, INT_MAX)] = setting(
        4 * 1024, "SST data block size.", mutable=False
    )
    max_background_jobs: Annotated[ConfigInt, Bounds(1, 256)] = setting(
        3,
        "Flush and compaction threads (a RocksDB DB option: fixed while running).",
        mutable=False,
    )
    target_file_size_base: Annotated[ConfigSize, Bounds(64 * 1024, LLONG_MAX)] = setting(
        20 * MB, "Target SST file size at level 1."
    )
    level0_file_num_compaction_trigger: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        4, "Level-0 files that trigger a compaction."
    )
    level0_slowdown_writes_trigger: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        20, "Level-0 files that slow writes down."
    )
    level0_stop_writes_trigger: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        36, "Level-0 files that stop writes."
    )
    compression: Annotated[Literal["none", "snappy", "lz4", "zstd"], OneOf()] = setting(
        "snappy", "Block compression.", mutable=False
    )
    disable_auto_compactions: ConfigBool = setting(False, "Turn RocksDB auto compaction off.")
    sync_writes: ConfigBool = setting(False, "fsync the WAL on every write.")
    binlog_file_size: Annotated[ConfigSize, Bounds(1024, 1024 * MB)] = setting(
        100 * MB, "Size of one binlog file.", mutable=False
    )
    expire_logs_nums: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(10, "Binlog files kept.")
    # operations: BGSAVE snapshots, compaction control, disk-error recovery
    # (storage/backup.py, storage/compaction.py, commands/admin.py)
    dump_path: ConfigStr = setting(
        "", "BGSAVE snapshots go under this directory; empty: <dir>/dump.", mutable=False
    )
    dump_prefix: ConfigStr = setting(
        "", "Name prefix of each snapshot directory: <dump-prefix><YYYYmmddHHMMSS>."
    )
    dump_expire: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        0, "Delete snapshots older than this many days (0: keep them)."
    )
    compact_cron: CompactCron = setting(
        "",
        "Full compaction once per window [week/]start-end/free-disk-percent, e.g. 3/02-04/60 "
        "(week 1-7 = Monday-Sunday, optional; windows joined by ';'; empty: off).",
    )
    compact_interval: CompactInterval = setting(
        "",
        "Full compaction every N hours while at least X% of the disk is free: N/X, e.g. 6/60 "
        "(empty: off; wins over compact-cron).",
    )
    small_compaction_threshold: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        4096, "Deletes near one key that trigger a background compaction of that key's range."
    )
    rocksdb_ttl_second: Annotated[ConfigInt, Bounds(0, LLONG_MAX)] = setting(
        0, "RocksDB ttl: compact SST files older than this many seconds (0: RocksDB default)."
    )
    rocksdb_periodic_second: Annotated[ConfigInt, Bounds(0, LLONG_MAX)] = setting(
        0, "RocksDB periodic compaction after this many seconds (0: RocksDB default)."
    )
    arena_block_size: Annotated[ConfigSize, Bounds(0, LLONG_MAX)] = setting(
        0, "Memtable arena block size (0: RocksDB's choice, 1/8 of write-buffer-size)."
    )
    max_compaction_bytes: Annotated[ConfigSize, Bounds(0, LLONG_MAX)] = setting(
        0, "Largest compaction in bytes (0: RocksDB's choice, 25x target-file-size-base)."
    )
    max_bytes_for_level_multiplier: Annotated[ConfigInt, Bounds(1, 1000)] = setting(
        10, "Size ratio between LSM levels."
    )
    least_free_disk_resume_size: Annotated[ConfigSize, Bounds(0, LLONG_MAX)] = setting(
        256 * MB, "Free disk space DISKRECOVERY (and the automatic resume) requires."
    )
    manually_resume_interval: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        60, "Seconds between automatic attempts to recover from a disk error (0: never)."
    )

    def resolved_db_path(self) -> Path:
        """Where RocksDB lives: ``db-path``, or ``<dir>/db`` when it is empty."""
        return Path(self.db_path) if self.db_path else Path(self.dir) / "db"


class ReplicationSettings(SectionModel):
    """Master/replica replication (``replication:`` in pika.yaml; src/pikadb/replication)."""

    replicaof: ConfigStr = setting(
        "", "Replicate this master at start-up: 'host port' (empty: none).", mutable=False
    )
    masterauth: ConfigStr = setting("", "Password sent to the master.", sensitive=True)
    masteruser: ConfigStr = setting("", "User name sent to the master (empty: default).")
    replica_read_only: ConfigBool = setting(True, "A replica refuses writes from clients.")
    replica_priority: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        100, "Failover priority (0: never promoted)."
    )
    slave_read_only: ConfigBool = setting(True, "Alias of replica-read-only.")
    slave_priority: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        100, "Alias of replica-priority."
    )
    replication_mode: Annotated[Literal["async", "sync-all"], OneOf()] = setting(
        "async", "async: reply after the local write; sync-all: after every replica acked."
    )
    repl_timeout: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        60, "Seconds of silence after which a replication link is dropped."
    )
    repl_ping_replica_period: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        1, "Seconds between heartbeats on an idle replication link."
    )
    sync_window_size: Annotated[ConfigInt, Bounds(1, 1_000_000)] = setting(
        9000, "Binlog records in flight (sent, not acked) per replica."
    )
    throttle_bytes_per_second: Annotated[ConfigSize, Bounds(1024, LLONG_MAX)] = setting(
        207200000, "Full-sync transfer rate limit per replica."
    )
    expire_logs_days: Annotated[ConfigInt, Bounds(1, INT_MAX)] = setting(
        7, "Binlog records older than this many days are purged."
    )
    binlog_max_bytes: Annotated[ConfigSize, Bounds(0, LLONG_MAX)] = setting(
        0, "Purge the oldest binlog records past this size (0: no size budget)."
    )
    repl_snapshot_ttl: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        3600, "Seconds a master keeps a full-sync checkpoint for resuming replicas."
    )
    db_sync_path: ConfigStr = setting(
        "", "Where a replica receives full-sync files; empty: <dir>/dbsync.", mutable=False
    )


_CACHE_TYPES = ("string", "set", "zset", "list", "hash", "bit")


def _cache_types(value: str) -> str:
    """``cache-type``: a comma/space separated subset of Pika's types, normalised."""
    words = [w.lower() for w in value.replace(",", " ").split()]
    if any(w not in _CACHE_TYPES for w in words):
        raise invalid("argument(s) must be among: " + ", ".join(_CACHE_TYPES))
    return ", ".join(dict.fromkeys(words))


class CacheSettings(SectionModel):
    """Pika's hybrid cache of hot decoded values (``cache:`` in pika.yaml; storage/cache.py)."""

    cache_model: Annotated[ConfigInt, Bounds(0, 1)] = setting(
        0, "Hot-data cache: 0 off, 1 cache reads of hot keys in memory."
    )
    cache_type: Annotated[ConfigStr, Normalize(_cache_types)] = setting(
        "string, set, zset, list, hash, bit", "Types whose values are cached."
    )
    cache_maxmemory: Annotated[ConfigSize, Bounds(0, LLONG_MAX)] = setting(
        10 * 1024 * MB, "Estimated memory budget of the cache (Pika's default: 10gb)."
    )
    cache_maxmemory_policy: Annotated[ConfigInt, Bounds(0, 7)] = setting(
        1,
        "Eviction: 0 volatile-lru, 1 allkeys-lru, 2 volatile-lfu, 3 allkeys-lfu, "
        "4 volatile-random, 5 allkeys-random, 6 volatile-ttl, 7 noeviction.",
    )
    cache_lfu_decay_time: Annotated[ConfigInt, Bounds(0, INT_MAX)] = setting(
        1, "LFU policies: minutes per decrement of a key's access counter."
    )


class WebSettings(SectionModel):
    """The node's HTTP side (``web:`` in pika.yaml; src/pikadb/web): dashboard and /metrics.

    Both listen on the addresses in ``bind``. A port that is in use is logged and skipped;
    the RESP server runs regardless.
    """

    dashboard_port: Annotated[ConfigInt, Bounds(0, 65535)] = setting(
        8091,
        "Web dashboard and /metrics (HTTP); password-protected when requirepass is set (0: off).",
        mutable=False,
    )
    metrics_port: Annotated[ConfigInt, Bounds(0, 65535)] = setting(
        0,
        "A separate listener serving only Prometheus /metrics, without a password (e.g. "
        "9121, pika_exporter's port). 0: none; /metrics stays on dashboard-port.",
        mutable=False,
    )


class Settings(BaseSettings):
    """All settings: ``settings.server.port``, ``settings.storage.dir``, ...

    ``Settings()`` is the built-in defaults only. Use :func:`pikadb.config.load_settings`
    to layer the YAML file, ``PIKA_*`` variables and CLI overrides on top with precise
    error messages. Assigning a field validates it (``validate_assignment``).
    """

    model_config = SettingsConfigDict(extra="forbid", validate_assignment=True)

    server: ServerSettings = Field(default_factory=ServerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    replication: ReplicationSettings = Field(default_factory=ReplicationSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() assembles file, environment and overrides itself (explicit
        # environ, per-source error messages, unknown-key detection); keep only kwargs.
        return (init_settings,)
