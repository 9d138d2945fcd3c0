"""SLOWLOG GET / LEN / RESET / HELP (Redis 7.0 slowlog.c), and the slow-command observer.

The dispatcher measures every command; when one took at least ``server.slow_us``
microseconds it calls :func:`observe` (one comparison on the hot path). ``slow_us`` is the
lower of ``slowlog-log-slower-than`` (-1: off) and ``latency-monitor-threshold`` (ms; 0: off),
kept current by CONFIG SET listeners (:func:`install`). :func:`observe` then:

* logs the command when ``duration >= slowlog-log-slower-than`` and it is not
  ``skip_slowlog`` (EXEC: its queued commands are logged one by one instead);
* reports a ``command`` / ``fast-command`` latency sample (commands/latency.py).

An entry is Redis's: ``[id, unix time, duration us, argv, "ip:port", client name]``, newest
first; ids count from 0 for the server's life (RESET keeps counting). At most 32 arguments
are kept (the 32nd becomes ``... (N more arguments)``), each at most 128 bytes (``... (N more
bytes)``), secrets redacted as MONITOR does. ``slowlog-max-len`` trims on the next insert.
Rejected commands (unknown, wrong arity, queued inside MULTI) are not logged. A command that
blocked or ran off the event loop is logged by the connection when its reply is ready
(:func:`observe_done`), as Redis logs a blocked command when it is unblocked.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any
from weakref import WeakKeyDictionary

from pikadb.commands import latency
from pikadb.commands._args import parse_int
from pikadb.commands._gate import MONITORS
from pikadb.commands._redact import redacted
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.introspection import help_reply
from pikadb.commands.table import Command, command, container, lookup
from pikadb.config.values import NOTIFY_KEY_MISS
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, array, bulk, bulk_array, integer

G = "server"
P = "slowlog"
MAX_ARGC = 32  # SLOWLOG_ENTRY_MAX_ARGC
MAX_STRING = 128  # SLOWLOG_ENTRY_MAX_STRING
NEVER = 1 << 62  # slow_us when both slowlog and latency monitoring are off
_log = logging.getLogger("pikadb.slowlog")


class SlowLog:
    __slots__ = ("entries", "next_id")

    def __init__(self) -> None:
        self.entries: deque[bytes] = deque()  # encoded entries, newest first
        self.next_id = 0


_LOGS: WeakKeyDictionary[ServerState, SlowLog] = WeakKeyDictionary()
_INSTALLED: WeakKeyDictionary[ServerState, bool] = WeakKeyDictionary()


def slowlog(server: ServerState) -> SlowLog:
    log = _LOGS.get(server)
    if log is None:
        log = _LOGS[server] = SlowLog()
    return log


# --- thresholds ------------------------------------------------------------------------------
def update_threshold(server: ServerState) -> None:
    """Recompute ``server.slow_us`` from the live settings (0 while MONITOR clients exist:
    the dispatcher's post-run hook then sees every command; also while "keymiss" events
    are on: :func:`pikadb.commands.notify.key_misses` runs from that hook)."""
    if server.notify_flags & NOTIFY_KEY_MISS or any(m.server is server for m in MONITORS):
        server.slow_us = 0
        return
    s = server.settings.server
    slower = s.slowlog_log_slower_than
    latency_ms = s.latency_monitor_threshold
    candidates = [NEVER]
    if slower >= 0:
        candidates.append(slower)
    if latency_ms > 0:
        candidates.append(latency_ms * 1000)
    server.slow_us = min(candidates)


def install(server: ServerState) -> None:
    """Set ``slow_us`` and keep it current on CONFIG SET (idempotent, once per server)."""
    update_threshold(server)
    if _INSTALLED.get(server):
        return
    _INSTALLED[server] = True
    for name in ("slowlog-log-slower-than", "latency-monitor-threshold"):
        server.config.on_change(name, lambda _v, srv=server: update_threshold(srv))


# --- observing -------------------------------------------------------------------------------
def _entry_args(cmd: Command | None, args: list[bytes]) -> list[bytes]:
    args = redacted(cmd, args)
    argc = len(args)
    kept = min(argc, MAX_ARGC)
    out: list[bytes] = []
    for j in range(kept):
        if kept != argc and j == kept - 1:
            out.append(b"... (%d more arguments)" % (argc - kept + 1))
            break
        a = args[j]
        if len(a) > MAX_STRING:
            a = a[:MAX_STRING] + b"... (%d more bytes)" % (len(a) - MAX_STRING)
        out.append(a)
    return out


def push(c: ClientState, cmd: Command | None, args: list[bytes], duration_us: int) -> None:
    """slowlogPushEntryIfNeeded (the caller checked the threshold)."""
    server = c.server
    log = slowlog(server)
    entry = array(
        [
            integer(log.next_id),
            integer(int(time.time())),
            integer(duration_us),
            bulk_array(_entry_args(cmd, args)),
            bulk(c.addr.encode()),
            bulk(c.name),
        ]
    )
    log.next_id += 1
    entries = log.entries
    entries.appendleft(entry)
    max_len = server.settings.server.slowlog_max_len
    while len(entries) > max_len:
        entries.pop()


def observe(c: ClientState, cmd: Command, args: list[bytes], duration_us: int, reply: Any) -> None:
    """The dispatcher's hook for a command that took at least ``server.slow_us``."""
    if type(reply) is not bytes:  # blocked / off the loop: logged by observe_done
        return
    _record(c, cmd, args, duration_us)


def observe_done(c: ClientState, args: list[bytes], duration_us: int) -> None:
    """A command whose reply was an awaitable finished (the connection calls this)."""
    if duration_us < c.server.slow_us:
        return
    cmd = lookup(args)
    if cmd is not None:
        _record(c, cmd, args, duration_us)


def _record(c: ClientState, cmd: Command, args: list[bytes], duration_us: int) -> None:
    server = c.server
    s = server.settings.server
    slower = s.slowlog_log_slower_than
    if 0 <= slower <= duration_us and "skip_slowlog" not in cmd.flags:
        push(c, cmd, args, duration_us)
        if s.slowlog_write_errorlog:
            log_slow(c, cmd, args, duration_us)
    if s.latency_monitor_threshold:
        event = "fast-command" if "fast" in cmd.flags else "command"
        latency.add_sample_if_needed(server, event, duration_us // 1000)


def log_slow(c: ClientState, cmd: Command, args: list[bytes], duration_us: int) -> None:
    """Pika's slowlog-write-errorlog: the entry also goes to the server log (warning level),
    arguments redacted and truncated as in SLOWLOG; structured fields for log-format json."""
    argv = [a.decode("utf-8", "backslashreplace") for a in _entry_args(cmd, args)]
    _log.warning(
        "slow command %s: %d us, client %s, db %d",
        cmd.name,
        duration_us,
        c.addr,
        c.db.index,
        extra={
            "command": cmd.name,
            "duration_us": duration_us,
            "client": c.addr,
            "client_name": c.name.decode("utf-8", "backslashreplace"),
            "db": c.db.index,
            "argc": len(args),
            "argv": argv,
        },
    )


# --- the command -----------------------------------------------------------------------------
container("slowlog", -2, group=G, summary="A container for slow log commands", since="2.2.12")


@command(
    "get",
    -2,
    "admin loading stale",
    group=G,
    parent=P,
    summary="Get the slow log's entries",
    since="2.2.12",
    complexity="O(N) where N is the number of entries returned",
    args="[count]",
    tips="request_policy:all_nodes nondeterministic_output",
    history=(("4.0.0", "Added client IP address, port and name to the reply."),),
)
def slowlog_get(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 3:
        raise CommandError(errors.subcommand_syntax(args[1].decode("utf-8", "replace"), P))
    entries = slowlog(c.server).entries
    count = 10
    if len(args) == 3:
        count = parse_int(args[2], errors.SLOWLOG_COUNT)
        if count < -1:
            raise CommandError(errors.SLOWLOG_COUNT)
        if count == -1:
            count = len(entries)
    picked = [entries[i] for i in range(min(count, len(entries)))]
    return array(picked)


@command(
    "len",
    2,
    "admin loading stale",
    group=G,
    parent=P,
    summary="Get the slow log's length",
    since="2.2.12",
    complexity="O(1)",
    tips="request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
)
def slowlog_len(c: ClientState, args: list[bytes]) -> bytes:
    return integer(len(slowlog(c.server).entries))


@command(
    "reset",
    2,
    "admin loading stale",
    group=G,
    parent=P,
    summary="Clear all entries from the slow log",
    since="2.2.12",
    complexity="O(N) where N is the number of entries in the slowlog",
    tips="request_policy:all_nodes response_policy:all_succeeded",
)
def slowlog_reset(c: ClientState, args: list[bytes]) -> bytes:
    slowlog(c.server).entries.clear()
    return OK


@command(
    "help",
    2,
    "loading stale",
    group=G,
    parent=P,
    summary="Show helpful text about the different subcommands",
    since="6.2.0",
    complexity="O(1)",
)
def slowlog_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(
        b"slowlog",
        [
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )
