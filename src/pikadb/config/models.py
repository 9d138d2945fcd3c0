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
    OneOf,
    SaveParams,
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
    logfile: ConfigStr = setting("", "Log file; empty: standard output.", mutable=False)
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
        "keys,smembers,hgetall,hkeys,hvals,lrange",
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
        3, "Flush and compaction threads."
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

    def resolved_db_path(self) -> Path:
        """Where RocksDB lives: ``db-path``, or ``<dir>/db`` when it is empty."""
        return Path(self.db_path) if self.db_path else Path(self.dir) / "db"


class Settings(BaseSettings):
    """All settings: ``settings.server.port``, ``settings.storage.dir``, ...

    ``Settings()`` is the built-in defaults only. Use :func:`pikadb.config.load_settings`
    to layer the YAML file, ``PIKA_*`` variables and CLI overrides on top with precise
    error messages. Assigning a field validates it (``validate_assignment``).
    """

    model_config = SettingsConfigDict(extra="forbid", validate_assignment=True)

    server: ServerSettings = Field(default_factory=ServerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)

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
