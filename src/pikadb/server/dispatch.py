"""The one dispatch pipeline: lookup -> arity -> auth -> run -> stats.

Every command from every client (and later from scripts and MULTI) goes through
:func:`execute`. Handlers return reply bytes (or an awaitable, for blocking commands) and
raise :class:`~pikadb.core.errors.CommandError` for error replies.
"""

from __future__ import annotations

import logging
from time import perf_counter_ns
from typing import Any

from pikadb.commands.context import ClientState
from pikadb.commands.table import COMMANDS, Command
from pikadb.core import errors
from pikadb.protocol.reply import error

log = logging.getLogger("pikadb.dispatch")


def _reject(c: ClientState, cmd: Command | None, message: str) -> bytes:
    if cmd is not None:
        cmd.rejected_calls += 1
    c.server.stats.count_error(message.split(" ", 1)[0])
    return error(message)


def resolve(c: ClientState, args: list[bytes]) -> Command | bytes:
    """The command to run for ``args``, or an error reply."""
    name = args[0]
    cmd = COMMANDS.get(name.lower())
    if cmd is None:
        shown = [a.decode("utf-8", "replace") for a in args[1:]]
        return _reject(c, None, errors.unknown_command(name.decode("utf-8", "replace"), shown))
    if cmd.subcommands:
        if len(args) < 2:
            # COMMAND alone is a command of its own; CONFIG alone is an arity error.
            if cmd.handler is not None:
                return cmd
            return _reject(c, cmd, errors.wrong_arity(cmd.name))
        sub = cmd.subcommands.get(args[1].lower())
        if sub is None:
            return _reject(
                c, cmd, errors.unknown_subcommand(args[1].decode("utf-8", "replace"), cmd.name)
            )
        cmd = sub
    return cmd


def execute(c: ClientState, args: list[bytes]) -> Any:
    try:
        cmd = COMMANDS.get(args[0].lower())
    except (AttributeError, TypeError):
        return _protocol_violation(c)
    if cmd is None or cmd.subcommands:
        found = resolve(c, args)
        if type(found) is bytes:
            return found
        cmd = found  # type: ignore[assignment]
    n = len(args)
    arity = cmd.arity
    if (arity > 0 and n != arity) or n < -arity:
        return _reject(c, cmd, errors.wrong_arity(cmd.name))
    if not c.authenticated and not cmd.no_auth:
        return _reject(c, cmd, errors.NOAUTH)
    stats = c.server.stats
    t0 = perf_counter_ns()
    try:
        reply = cmd.handler(c, args)  # type: ignore[misc]
    except errors.CommandError as exc:
        cmd.failed_calls += 1
        stats.count_error(exc.prefix)
        reply = error(exc.message)
    except Exception as exc:
        if any(type(a) is not bytes for a in args):
            return _protocol_violation(c)
        log.exception("command %s failed", cmd.name)
        cmd.failed_calls += 1
        stats.count_error("ERR")
        reply = error(f"ERR internal error in '{cmd.name}': {type(exc).__name__}: {exc}")
    cmd.calls += 1
    cmd.usec += (perf_counter_ns() - t0) // 1000
    stats.total_commands_processed += 1
    c.last_cmd = cmd.name
    return reply


def _protocol_violation(c: ClientState) -> bytes:
    """A request whose items are not all bulk strings (nested arrays, integers...)."""
    c.close_after_reply = True
    return error(errors.ProtocolError(errors.proto_expected_dollar("*")).message)
