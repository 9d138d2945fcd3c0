"""Run one already-checked command: Redis's ``call()`` — for EXEC's queued commands and for
the scripting engine's ``redis.call`` (commands layer: neither may import the server).

It does what the dispatcher does after its checks (server/dispatch.py inlines the same steps
on its hot path; keep the two in step): run the handler, turn :class:`CommandError` into an
error reply, count calls / microseconds / failures / errorstats, then — one test, ``dur >=
server.slow_us`` — :func:`after_call`: slow commands to SLOWLOG and LATENCY, every command to
MONITOR while monitors exist (``slow_us`` is 0 then). Lookup, arity, AUTH, MULTI queueing and CLIENT
PAUSE are the caller's business.
"""

from __future__ import annotations

import logging
from time import perf_counter_ns
from typing import Any

from pikadb.commands import monitor, slowlog
from pikadb.commands._acl_check import call_denied as acl_call_denied
from pikadb.commands._gate import MONITORS
from pikadb.commands.context import ClientState
from pikadb.commands.notify import KEY_MISS, key_misses
from pikadb.commands.table import COMMANDS, Command
from pikadb.core import errors
from pikadb.protocol.reply import error

log = logging.getLogger("pikadb.dispatch")


def reject(c: ClientState, cmd: Command | None, message: str) -> bytes:
    """rejectCommand: an error reply for a command that does not run (unknown, arity,
    NOAUTH, BUSY...), counted, and flagging an open transaction (EXEC answers EXECABORT)."""
    if cmd is not None:
        cmd.rejected_calls += 1
    if c.multi is not None:
        c.multi_error = True
    c.server.stats.count_error(message.split(" ", 1)[0])
    return error(message)


def resolve(c: ClientState, args: list[bytes]) -> Command | bytes:
    """The command (or subcommand) ``args`` names, or the error reply rejecting it."""
    name = args[0]
    cmd = COMMANDS.get(name.lower())
    if cmd is None:
        return reject(c, None, errors.unknown_command(name, args[1:]))
    if cmd.subcommands:
        if len(args) < 2:
            # COMMAND alone is a command of its own; CONFIG alone is an arity error.
            if cmd.handler is not None:
                return cmd
            return reject(c, cmd, errors.wrong_arity(cmd.name))
        sub = cmd.subcommands.get(args[1].lower())
        if sub is None:
            return reject(
                c, cmd, errors.unknown_subcommand(args[1].decode("utf-8", "replace"), cmd.name)
            )
        cmd = sub
    return cmd


def call(c: ClientState, cmd: Command, args: list[bytes], lua: bool = False) -> Any:
    """The reply of ``cmd`` run by ``c`` (bytes, or an awaitable for a blocking command).
    ``lua``: the call comes from a script (MONITOR shows ``[db lua]``)."""
    if (lua or not c.acl_all) and (denied := acl_call_denied(c, cmd, args, lua)) is not None:
        return denied  # ACL: a script's user, or rules changed since MULTI queued it
    srv = c.server
    stats = srv.stats
    t0 = perf_counter_ns()
    try:
        reply = cmd.handler(c, args)  # type: ignore[misc]
    except errors.CommandError as exc:
        cmd.failed_calls += 1
        stats.count_error(exc.prefix)
        reply = error(exc.message)
    except Exception as exc:
        log.exception("command %s failed", cmd.name)
        cmd.failed_calls += 1
        stats.count_error("ERR")
        reply = error(f"ERR internal error in '{cmd.name}': {type(exc).__name__}: {exc}")
    dur = (perf_counter_ns() - t0) // 1000
    cmd.calls += 1
    cmd.usec += dur
    cmd.hist[dur.bit_length()] += 1  # latency histogram (pikadb.web /metrics)
    stats.total_commands_processed += 1
    c.last_cmd = cmd.name
    if dur >= srv.slow_us:
        after_call(c, cmd, args, dur, reply, lua)
    return reply


def after_call(
    c: ClientState, cmd: Command, args: list[bytes], dur: int, reply: Any, lua: bool = False
) -> None:
    """After a command that took at least ``server.slow_us`` (0 while monitors exist):
    SLOWLOG / LATENCY (with their own thresholds), then MONITOR."""
    slowlog.observe(c, cmd, args, dur, reply)
    if c.server.notify_flags & KEY_MISS and cmd.fires_keymiss:
        key_misses(c, cmd, args)
    if MONITORS:
        monitor.feed_command(c, cmd, args, lua)
