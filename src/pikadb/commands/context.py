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

    def query_buffer_size(self) -> int:
        return 0

    def output_buffer_size(self) -> int:
        return 0


def pid() -> int:
    return os.getpid()
