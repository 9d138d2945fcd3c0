"""What a command handler sees: the calling client's state and the server's state.

The server layer subclasses these (adding sockets and tasks); commands depend only on the
attributes and methods declared here, so they never import the server.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pikadb.protocol.reply import RESP2, Encoder

if TYPE_CHECKING:
    from pikadb.config.runtime import RuntimeConfig
    from pikadb.config.settings import Settings
    from pikadb.storage.keyspace import Database
    from pikadb.storage.store import Store

# CLIENT REPLY: SKIP_NEXT is set by CLIENT REPLY SKIP itself; it becomes SKIP after that
# command's own (suppressed) reply, so the *next* command's reply is the one dropped.
REPLY_ON, REPLY_OFF, REPLY_SKIP, REPLY_SKIP_NEXT = 0, 1, 2, 3


@dataclass
class Stats:
    """Counters behind INFO stats / errorstats (reset by CONFIG RESETSTAT)."""

    total_connections_received: int = 0
    total_commands_processed: int = 0
    rejected_connections: int = 0
    net_input_bytes: int = 0
    net_output_bytes: int = 0
    expired_keys: int = 0
    keyspace_hits: int = 0
    keyspace_misses: int = 0
    total_error_replies: int = 0
    unexpected_error_replies: int = 0
    offload_retries: int = 0  # slow commands re-run inline: their keys changed meanwhile
    # replication (src/pikadb/replication/master.py): syncs served as a master
    sync_full: int = 0
    sync_partial_ok: int = 0
    sync_partial_err: int = 0
    errorstats: dict[str, int] = field(default_factory=dict)

    def count_error(self, prefix: str) -> None:
        self.total_error_replies += 1
        self.errorstats[prefix] = self.errorstats.get(prefix, 0) + 1


class ServerState:
    """Server-wide state. The server layer fills it in and implements the methods."""

    settings: Settings
    config: RuntimeConfig
    store: Store
    stats: Stats
    clients: dict[int, ClientState]
    start_time: float
    run_id: str
    config_file: str | None
    active_expire: bool
    tcp_port: int
    executable: str

    # pub/sub (commands/pubsub.py install_pubsub): the channel registry, the effective
    # notify-keyspace-events bits (0 unless K or E and a class are on: the notify() fast
    # path) and client-output-buffer-limit per class: (hard, soft, soft seconds).
    pubsub: Any = None
    notify_flags: int = 0
    obuf_limits: dict[str, tuple[int, int, int]] | None = None
    obuf_floor: int = 0  # the smallest limit set in any class (pushes below it skip checks)

    # transactions / SLOWLOG / LATENCY (commands/slowlog.py install): the dispatcher sends
    # commands that took at least ``slow_us`` microseconds to slowlog.observe (the lower of
    # slowlog-log-slower-than and latency-monitor-threshold; huge when both are off).
    slow_us: int = 10_000

    # hot-data cache (commands/cache_cmd.py install): the node's storage.cache.HotCache
    # (always present once installed; ``db.cache`` is what reads check, None when off).
    cache: Any = None

    # ACL (commands/_acl_check.py install): users, the ACL log
    acl: Any = None

    # replication (src/pikadb/replication/manager.py keeps these current): the manager,
    # "master"/"slave", this node's replication id, whether client writes get READONLY
    # (a read-only replica: the dispatcher's check), and close_tick's sync-all hook.
    replication: Any = None
    role: str = "master"
    replid: str = ""
    refuse_writes: bool = False
    write_gate: Any = None

    def pubsub_counts(self) -> tuple[int, int, int]:
        """(channels, patterns, shard channels) with subscribers (INFO stats)."""
        h = self.pubsub
        return h.count() if h is not None else (0, 0, 0)  # type: ignore[no-any-return]

    def request_shutdown(self, nosave: bool = False, now: bool = False) -> None:
        raise NotImplementedError

    def reload_storage(self) -> None:
        """Close and reopen the storage (DEBUG RELOAD)."""
        raise NotImplementedError

    def next_client_id(self) -> int:
        raise NotImplementedError


class ClientState:
    """Per-connection state used by commands."""

    server: ServerState
    db: Database
    enc: Encoder = RESP2
    resp: int = 2
    # scripting: True only for the client scripts run their commands as (Redis's
    # CLIENT_SCRIPT; blocking.can_block is False for it; commands/_lua_runtime.py).
    in_script: bool = False
    # ACL (commands/_acl_check.py): the client's user (None: the default user) and its
    # cached ``User.all`` — the dispatcher's one-attribute fast path (True: unrestricted).
    acl_user: Any = None
    acl_all: bool = True

    def __init__(self, server: ServerState, client_id: int) -> None:
        self.server = server
        self.id = client_id
        self.db = server.store.databases[0]
        self.enc = RESP2
        self.resp = 2
        self.name = b""
        self.user = "default"
        self.authenticated = False
        self.addr = "?:0"
        self.laddr = "?:0"
        self.fd = -1
        self.created = time.time()
        self.last_interaction = self.created
        self.last_cmd = "NULL"
        self.reply_mode = REPLY_ON
        self.no_evict = False
        self.lib_name = b""
        self.lib_ver = b""
        self.close_after_reply = False
        self.kind = "normal"  # normal | replica | master | pubsub
        self.flags = "N"
        self.multi: list[Any] | None = None  # queued commands inside MULTI (later issue)
        # pub/sub (commands/pubsub.py): this client's subscriptions, in subscription order,
        # and Redis's CLIENT_PUBSUB flag (set while it has any; RESP2 subscribed mode).
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard_channels: dict[bytes, None] = {}
        self.subscribed = False
        self.obuf_soft_since = 0.0  # when the output first passed its soft limit (0: not)
        # transactions / MONITOR / CLIENT PAUSE (commands/transactions.py, monitor.py,
        # pause.py). ``gate``: this client's commands take the dispatcher's slow path (it is
        # in MULTI, WATCHes keys, is a MONITOR, or clients are paused); kept by
        # transactions.refresh_gate. ``multi_error``: a command was rejected while queueing
        # (EXEC replies EXECABORT); ``cas_dirty``: a WATCHed key changed (EXEC replies null).
        self.gate = False
        self.multi_error = False
        self.cas_dirty = False
        self.watched: dict[tuple[int, bytes], Any] = {}  # (db index, key) -> WatchedKey
        self.monitoring = False

    @property
    def is_local(self) -> bool:
        host = self.addr.rsplit(":", 1)[0]
        return host in ("127.0.0.1", "::1", "localhost") or self.addr.startswith("/")

    def select(self, index: int) -> None:
        self.db = self.server.store.databases[index]

    def set_protocol(self, resp: int) -> None:
        from pikadb.protocol.reply import RESP3

        self.resp = resp
        self.enc = RESP3 if resp == 3 else RESP2

    def kill(self) -> None:
        """Close the connection (CLIENT KILL)."""
        raise NotImplementedError

    def push(self, data: bytes) -> None:
        """Send ``data`` (a pub/sub message, already encoded) to this client out of band:
        after the replies it already has pending, respecting client-output-buffer-limit."""
        raise NotImplementedError

    def query_buffer_size(self) -> int:
        return 0

    def output_buffer_size(self) -> int:
        return 0


def pid() -> int:
    return os.getpid()
