"""MONITOR, and the feed every executed command passes through while a monitor is connected.

A line per command, as Redis 7.0's replicationFeedMonitors writes it::

    +1700000000.123456 [0 127.0.0.1:5555] "SET" "k" "v"
    +1700000000.123502 [0 lua] "set" "k" "v"               (a redis.call from a script)
    +1700000000.123502 [0 unix:/tmp/redis.sock] "PING"      (a unix socket client)

The time is taken when the line is written (after the command ran), the db is the client's
db after the command (so ``SELECT 3`` shows 3), each argument is quoted as sdscatrepr does
(``\\n \\r \\t \\a \\b``, ``\\"`` and ``\\\\`` escaped, other bytes outside 0x20-0x7e as
``\\xHH``). What is shown, as Redis 7.0:

* commands that ran, even when they replied an error (WRONGTYPE, MULTI nested, EXEC's
  EXECABORT...), fed after they ran: inside MULTI the MULTI line, then at EXEC each queued
  command, then EXEC; queued commands are not shown when queued;
* not: commands rejected before running (unknown, wrong arity, NOAUTH, queue-time errors), and
  commands flagged ``admin`` or ``skip_monitor`` (CONFIG, DEBUG, CLIENT LIST, SLOWLOG, MONITOR
  itself; EVAL/EVALSHA/FCALL are ``skip_monitor`` because the scripting engine feeds them
  itself, before their redis.call lines);
* secrets are redacted as ``"(redacted)"`` (AUTH's arguments, HELLO ... AUTH user pass, MIGRATE
  AUTH/AUTH2, CONFIG SET of a sensitive setting, ACL SETUSER rules) — SLOWLOG uses the same.

Hooks for the scripting engine (commands layer, no server import): :func:`feed` ``(c, args)``
when a script starts (with the EVAL/FCALL argv) and ``feed(c, args, lua=True)`` for each
``redis.call`` — or run the call through :func:`pikadb.commands._call.call` with ``lua=True``.

A MONITOR client is a replica in Redis's eyes: its later keyspace commands are refused ("ERR
Replica can't interact with the keyspace", checked by the dispatcher), a second MONITOR gets no
reply, RESET ends monitoring, and MONITOR inside MULTI fails at EXEC ("isn't allowed for DENY
BLOCKING client").
"""

from __future__ import annotations

import time

from pikadb.commands import slowlog
from pikadb.commands._gate import MONITORS, refresh_gate
from pikadb.commands._redact import redacted
from pikadb.commands.context import ClientState
from pikadb.commands.table import Command, command, lookup
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK

_ECHO: dict[int, bytes] = {}  # client id -> lines about its own commands (take_echo)

# --- sdscatrepr --------------------------------------------------------------------------
_ESCAPES = {0x5C: b"\\\\", 0x22: b'\\"', 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t",
            0x07: b"\\a", 0x08: b"\\b"}  # fmt: skip
_REPR = [_ESCAPES.get(b, bytes([b]) if 0x20 <= b <= 0x7E else b"\\x%02x" % b) for b in range(256)]
# bytes shown as themselves (printable, not a backslash or a quote)
_PLAIN = bytes(b for b in range(0x20, 0x7F) if b not in (0x5C, 0x22))


def quote(arg: bytes) -> bytes:
    """sdscatrepr: ``arg`` in double quotes with C escapes."""
    if not arg.translate(None, _PLAIN):
        return b'"' + arg + b'"'
    r = _REPR
    return b'"' + b"".join([r[b] for b in arg]) + b'"'


# --- the feed ------------------------------------------------------------------------------
def _origin(c: ClientState, lua: bool) -> bytes:
    if lua:
        return b"[%d lua] " % c.db.index
    if c.addr.startswith("/"):
        return b"[%d unix:%s] " % (c.db.index, c.addr.encode())
    return b"[%d %s] " % (c.db.index, c.addr.encode())


def feed(c: ClientState, args: list[bytes], lua: bool = False, cmd: Command | None = None) -> None:
    """Show ``args`` (run by ``c``, or by a script of ``c`` with ``lua``) to the monitors of
    c's server. ``cmd`` (when known) selects the redaction rules; it is looked up otherwise."""
    server = c.server
    targets = [m for m in MONITORS if m.server is server]
    if not targets:
        return
    if cmd is None:
        cmd = _lookup(args)
    us = time.time_ns() // 1000
    line = b"+%d.%06d %s%s\r\n" % (
        us // 1_000_000,
        us % 1_000_000,
        _origin(c, lua),
        b" ".join([quote(a) for a in redacted(cmd, args)]),
    )
    for m in targets:
        if m is c:  # its own command: the line goes after its reply (see take_echo)
            _ECHO[c.id] = _ECHO.get(c.id, b"") + line
        else:
            m.push(line)


def take_echo(c: ClientState) -> bytes:
    """The lines a monitoring client produced about its own commands, to be written after
    the reply, as Redis's single output buffer orders them (the dispatcher calls this)."""
    return _ECHO.pop(c.id, b"")


def feed_command(c: ClientState, cmd: Command, args: list[bytes], lua: bool = False) -> None:
    """The dispatcher's hook after a command ran (only called while MONITORS is not empty).
    ``admin`` and ``skip_monitor`` commands are not shown."""
    flags = cmd.flags
    if "admin" in flags or "skip_monitor" in flags:
        return
    feed(c, args, lua, cmd)


def _lookup(args: list[bytes]) -> Command | None:
    try:
        return lookup(args)
    except (AttributeError, IndexError):
        return None


def stop(c: ClientState) -> None:
    """Leave monitor mode (RESET, disconnect)."""
    if c.monitoring:
        c.monitoring = False
        _ECHO.pop(c.id, None)
        try:
            MONITORS.remove(c)
        except ValueError:
            pass
        refresh_gate(c)
        slowlog.update_threshold(c.server)


@command(
    "monitor",
    1,
    "admin noscript loading stale",
    group="server",
    summary="Listen for all requests received by the server in real time",
    since="1.0.0",
)
def monitor(c: ClientState, args: list[bytes]) -> bytes:
    if c.multi is not None:  # inside EXEC (Redis's CLIENT_DENY_BLOCKING)
        raise CommandError(errors.MONITOR_DENY_BLOCKING)
    if c.monitoring:  # "ignore MONITOR if already slave or in monitor mode": no reply
        return b""
    c.monitoring = True
    MONITORS.append(c)
    refresh_gate(c)
    slowlog.update_threshold(c.server)  # every command now reaches the feed
    return OK
