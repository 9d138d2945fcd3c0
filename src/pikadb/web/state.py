"""What the dashboard and /metrics read from the live server, as plain Python values.

Nothing here runs per RESP request: these functions are called when an HTTP request or the
once-a-second :class:`Sampler` asks. Where a command already defines the answer (INFO
sections, SLOWLOG GET, CONFIG SET, AUTH), the command's own handler is called with an
internal client, so the dashboard shows exactly what redis-cli would and a setting edited in
the browser goes through the same validation, listeners and error texts as CONFIG SET.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import hiredis

from pikadb import REDIS_VERSION, __version__
from pikadb.commands import config_cmd, slowlog
from pikadb.commands import connection as conn_cmd
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.server import info_text
from pikadb.core.errors import CommandError
from pikadb.observability.info import bytes_to_human
from pikadb.web import hist

HISTORY = 300  # seconds of ops/s and latency kept for the charts


def internal_client(server: ServerState) -> ClientState:
    """A client that is not connected: the caller of command handlers for the web side."""
    c = ClientState(server, 0)
    c.addr = c.laddr = "web:0"
    c.name = b"pikadb-web"
    c.authenticated = True
    return c


def run_handler(server: ServerState, handler: Any, args: list[bytes]) -> Any:
    """Call a command handler; decode its RESP reply (errors come back as CommandError)."""
    reply = handler(internal_client(server), args)
    reader = hiredis.Reader(encoding="utf-8", errors="backslashreplace")
    reader.feed(reply)
    value = reader.gets()
    if isinstance(value, hiredis.ReplyError):
        raise CommandError(str(value))
    return value


# --- INFO --------------------------------------------------------------------------------
def info(server: ServerState, *sections: str) -> dict[str, str]:
    """``INFO sections...`` as a flat ``{field: value}`` dict (all strings)."""
    text = info_text(internal_client(server), [s.encode() for s in sections])
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if sep:
            out[key] = value
    return out


def parse_kv(text: str) -> dict[str, str]:
    """``a=1,b=x`` (INFO's slaveN / dbN / cmdstat_ values) -> dict."""
    out: dict[str, str] = {}
    for part in text.split(","):
        k, sep, v = part.partition("=")
        if sep:
            out[k] = v
    return out


def number(text: str | None) -> float | None:
    """An INFO value as a number, or None when it is not one (``ok``, ``up``...)."""
    if text is None:
        return None
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return None


# --- replication -------------------------------------------------------------------------
def replication(server: ServerState) -> dict[str, Any]:
    """Role, offsets, the link to the master and the connected replicas with their lag.

    Read from INFO replication (Redis's field names, whatever the replication module looks
    like inside); ``lag_bytes`` of a replica is the master's offset minus the replica's.
    """
    fields = info(server, "replication")
    master_offset = int(number(fields.get("master_repl_offset")) or 0)
    replicas = []
    for key, value in fields.items():
        if key.startswith("slave") and key[5:].isdigit():
            kv = parse_kv(value)
            offset = int(number(kv.get("offset")) or 0)
            replicas.append(
                {
                    "id": key,
                    "ip": kv.get("ip", ""),
                    "port": kv.get("port", ""),
                    "state": kv.get("state", ""),
                    "offset": offset,
                    "lag_seconds": number(kv.get("lag")),
                    "lag_bytes": max(0, master_offset - offset),
                }
            )
    role = fields.get("role", "master")
    out: dict[str, Any] = {
        "role": role,
        "connected_slaves": int(number(fields.get("connected_slaves")) or 0),
        "master_repl_offset": master_offset,
        "replicas": replicas,
        "fields": fields,
    }
    if role != "master":
        link = fields.get("master_link_status", "down")
        slave_offset = int(number(fields.get("slave_repl_offset")) or 0)
        out.update(
            master_host=fields.get("master_host", ""),
            master_port=fields.get("master_port", ""),
            master_link_status=link,
            master_last_io_seconds_ago=number(fields.get("master_last_io_seconds_ago")),
            master_sync_in_progress=fields.get("master_sync_in_progress", "0") == "1",
            slave_repl_offset=slave_offset,
        )
    return out


# --- keyspace / memory / disk ------------------------------------------------------------
def keyspace(server: ServerState) -> list[dict[str, int]]:
    store = server.store
    return [
        {
            "db": db.index,
            "keys": store.key_count(db.table),
            "expires": store.expires_count(db.table),
        }
        for db in store.databases
    ]


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def engine_memory(server: ServerState) -> int:
    try:
        return int(server.store.engine.memory_usage())
    except Exception:
        return 0


def dir_size(path: str) -> int:
    """Bytes used by the files under ``path`` (du -b, without following links)."""
    total = 0
    stack = [path]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return total


def data_path(server: ServerState) -> str:
    return str(getattr(server.store, "path", "") or "")


# --- the sampler: ops/s and latency over time ----------------------------------------------
@dataclass
class Sample:
    t: float
    ops: float  # commands per second over the last interval
    p50: float  # latency percentiles (us, bucket upper bounds) of the interval's commands
    p99: float
    p999: float
    rss: int


@dataclass
class Sampler:
    """Once a second: commands per second and the latency distribution of that second.

    Also refreshes the disk usage of the data directory every ``disk_every`` seconds (a
    directory walk is not free; Pika does it once a minute).
    """

    server: ServerState
    disk_every: float = 10.0
    samples: deque[Sample] = field(default_factory=lambda: deque(maxlen=HISTORY))
    disk_bytes: int = 0
    _last_t: float = 0.0
    _last_total: int = 0
    _last_hist: list[int] = field(default_factory=list)
    _disk_t: float = 0.0

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        total = self.server.stats.total_commands_processed
        merged = hist.merged()
        if self._last_t:
            dt = max(1e-3, now - self._last_t)
            done = total - self._last_total
            if done < 0:  # CONFIG RESETSTAT
                done = total
            delta = [a - b for a, b in zip(merged, self._last_hist, strict=True)]
            if any(d < 0 for d in delta):
                delta = merged
            self.samples.append(
                Sample(
                    t=time.time(),
                    ops=round(done / dt, 1),
                    p50=hist.percentile_us(delta, 0.50),
                    p99=hist.percentile_us(delta, 0.99),
                    p999=hist.percentile_us(delta, 0.999),
                    rss=rss_bytes(),
                )
            )
        self._last_t, self._last_total, self._last_hist = now, total, merged
        if now - self._disk_t >= self.disk_every or not self._disk_t:
            self._disk_t = now
            path = data_path(self.server)
            self.disk_bytes = dir_size(path) if path else 0

    @property
    def ops_per_sec(self) -> float:
        return self.samples[-1].ops if self.samples else 0.0

    def series(self, since: float = 0.0) -> list[dict[str, float]]:
        return [
            {"t": s.t, "ops": s.ops, "p50": s.p50, "p99": s.p99, "p999": s.p999, "rss": s.rss}
            for s in self.samples
            if s.t > since
        ]


# --- overview ----------------------------------------------------------------------------
def overview(server: ServerState, sampler: Sampler) -> dict[str, Any]:
    now = time.time()
    rss = rss_bytes()
    engine = engine_memory(server)
    stats = server.stats
    clients = [c for c in server.clients.values() if c.kind != "replica"]
    keys = keyspace(server)
    try:
        db_size = int(server.store.engine.approximate_size())
    except Exception:
        db_size = 0
    repl = replication(server)
    return {
        "version": __version__,
        "redis_version": REDIS_VERSION,
        "run_id": server.run_id,
        "port": server.tcp_port,
        "pid": os.getpid(),
        "uptime_seconds": int(now - server.start_time),
        "role": repl["role"],
        "ops_per_sec": sampler.ops_per_sec,
        "total_commands_processed": stats.total_commands_processed,
        "total_connections_received": stats.total_connections_received,
        "keyspace_hits": stats.keyspace_hits,
        "keyspace_misses": stats.keyspace_misses,
        "connected_clients": len(clients),
        "maxclients": server.settings.server.maxclients,
        "used_memory": rss,
        "used_memory_human": bytes_to_human(rss),
        "used_memory_rocksdb": engine,
        "used_memory_rocksdb_human": bytes_to_human(engine),
        "db_size": db_size,
        "db_size_human": bytes_to_human(db_size),
        "disk_bytes": sampler.disk_bytes,
        "disk_human": bytes_to_human(sampler.disk_bytes),
        "data_path": data_path(server),
        "binlog_seq": int(getattr(server.store, "seq", 0)),
        "keys_total": sum(k["keys"] for k in keys),
        "keyspace": keys,
        "storage_error": str(getattr(server, "store_error", "") or ""),
    }


# --- slowlog ------------------------------------------------------------------------------
def slowlog_entries(server: ServerState, count: int = 50) -> dict[str, Any]:
    raw = run_handler(server, slowlog.slowlog_get, [b"slowlog", b"get", str(int(count)).encode()])
    entries = []
    for item in raw or []:
        entry_id, ts, dur, argv = item[0], item[1], item[2], item[3]
        client = item[4] if len(item) > 4 else ""
        name = item[5] if len(item) > 5 else ""
        entries.append(
            {
                "id": entry_id,
                "time": ts,
                "duration_us": dur,
                "command": " ".join(str(a) for a in argv),
                "client": client,
                "client_name": name,
            }
        )
    s = server.settings.server
    return {
        "entries": entries,
        "length": len(slowlog.slowlog(server).entries),
        "slower_than_us": s.slowlog_log_slower_than,
        "max_len": s.slowlog_max_len,
    }


# --- configuration ------------------------------------------------------------------------
def config_entries(server: ServerState) -> list[dict[str, Any]]:
    """Every setting, as CONFIG GET shows it; secrets are not sent (``value`` is empty)."""
    config = server.config
    out = []
    for entry in config.entries():
        value = config.render(entry.name)
        out.append(
            {
                "name": entry.name,
                "section": entry.section,
                "value": "" if entry.sensitive else value,
                "is_set": bool(value),
                "mutable": entry.mutable,
                "sensitive": entry.sensitive,
                "default": "" if entry.sensitive else entry.render(entry.default),
                "description": entry.description,
                "choices": list(entry.choices),
            }
        )
    return out


def config_set(server: ServerState, pairs: list[tuple[str, str]]) -> str | None:
    """CONFIG SET ``pairs`` through the CONFIG SET command itself; the error text or None."""
    args = [b"config", b"set"]
    for name, value in pairs:
        args += [name.encode(), value.encode("utf-8", "surrogateescape")]
    try:
        run_handler(server, config_cmd.config_set, args)
    except CommandError as exc:
        return exc.message
    return None


# --- authentication ---------------------------------------------------------------------------
def is_loopback(host: str | None) -> bool:
    """A loopback peer (protected mode lets only these in while there is no password)."""
    h = str(host or "")
    return h.startswith(("127.", "::ffff:127.")) or h in ("::1", "localhost")


def auth_required(server: ServerState) -> bool:
    check = getattr(server, "requires_auth", None)
    if callable(check):
        return bool(check())
    return bool(server.settings.server.requirepass)


def check_password(server: ServerState, password: str) -> bool:
    """Whether ``AUTH default password`` would succeed (requirepass, or the default user's
    password once ACLs set one)."""
    try:
        run_handler(server, conn_cmd.auth, [b"auth", b"default", password.encode()])
    except CommandError:
        return False
    return True
