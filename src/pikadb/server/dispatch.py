"""The one dispatch pipeline: lookup -> arity -> auth -> ACL -> READONLY -> [gate] -> run ->
stats -> [after].

Every command from every client goes through :func:`execute`. Handlers return reply bytes (or
an awaitable, for blocking commands) and raise :class:`~pikadb.core.errors.CommandError` for
error replies.

ACL costs one attribute test for an unrestricted user (``c.acl_all``), READONLY one for a
write command (``server.refuse_writes``, set on a read-only replica). The hot path pays two
checks for the transaction / introspection features when unused:
``c.gate`` before running (the client is in MULTI, WATCHes keys, is a MONITOR, or clients
are paused: :func:`_gated` handles queueing, ``no_multi``, the MONITOR client's keyspace ban
and CLIENT PAUSE postponement) and ``dur >= server.slow_us`` after (SLOWLOG / LATENCY, and
MONITOR: ``slow_us`` is 0 while the server has monitors). A rejected command (unknown, wrong
arity, NOAUTH, ...) flags an open transaction, as Redis's rejectCommand does. EXEC and scripts
run their commands through :func:`pikadb.commands._call.call`, the same steps as the tail of
:func:`execute`.
"""

from __future__ import annotations

import logging
from time import perf_counter_ns
from typing import Any

from pikadb.commands import monitor, pause, transactions
from pikadb.commands._acl_check import auth_required as acl_auth_required
from pikadb.commands._acl_check import denied as acl_denied
from pikadb.commands._call import after_call, call, reject, resolve
from pikadb.commands.context import ClientState
from pikadb.commands.pubsub import SUBSCRIBED_MODE_COMMANDS
from pikadb.commands.table import COMMANDS, Command
from pikadb.core import errors
from pikadb.protocol.reply import QUEUED, error

log = logging.getLogger("pikadb.dispatch")


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
        return reject(c, cmd, errors.wrong_arity(cmd.name))
    if not c.authenticated and not cmd.no_auth and acl_auth_required(c):
        return reject(c, cmd, errors.NOAUTH)
    if not c.acl_all and (denied := acl_denied(c, cmd, args)) is not None:  # ACL: restricted
        return reject(c, cmd, denied)
    if cmd.is_write and c.server.refuse_writes:  # a read-only replica (replication)
        return reject(c, cmd, errors.READONLY_REPLICA)
    # pub/sub: a RESP2 client in subscribed mode may run only a few commands (pubsub.py)
    if c.subscribed and c.resp == 2 and cmd.name not in SUBSCRIBED_MODE_COMMANDS:
        return reject(c, cmd, errors.subscribed_context(cmd.name))
    if c.gate:  # MULTI / WATCH / MONITOR client / CLIENT PAUSE: the slow path
        return _gated(c, cmd, args)
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
        if any(type(a) is not bytes for a in args):
            return _protocol_violation(c)
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
    if dur >= srv.slow_us:  # SLOWLOG / LATENCY, and MONITOR (slow_us is 0 while monitored)
        after_call(c, cmd, args, dur, reply)
    return reply


# Commands that run at once inside MULTI instead of being queued (processCommand).
_NOT_QUEUED = frozenset(["exec", "discard", "multi", "watch", "quit", "reset"])
_KEYSPACE_FLAGS = frozenset(["write", "readonly", "may_replicate"])


def _gated(c: ClientState, cmd: Command, args: list[bytes]) -> Any:
    """processCommand's checks after AUTH for a client whose ``gate`` is set, in Redis's
    order: a MONITOR client's keyspace ban, ``no_multi`` inside MULTI, CLIENT PAUSE, then
    queueing inside MULTI; otherwise the command runs."""
    if c.monitoring and not _KEYSPACE_FLAGS.isdisjoint(cmd.flags):
        return reject(c, cmd, errors.REPLICA_KEYSPACE)
    queue = c.multi
    if queue is not None and "no_multi" in cmd.flags:
        return reject(c, cmd, errors.NOT_IN_TRANSACTION)
    if pause.must_wait(c, cmd, args):
        return _postponed(c, args)
    name = cmd.name
    if queue is not None and name not in _NOT_QUEUED:
        queue.append((cmd, args))
        c.last_cmd = name
        return QUEUED
    if name == "reset":  # clearClientConnectionState: our part of it
        transactions.forget_client(c)
        monitor.stop(c)
    if any(type(a) is not bytes for a in args):  # (the hot path finds out by failing)
        return _protocol_violation(c)
    reply = call(c, cmd, args)
    if c.monitoring and type(reply) is bytes:  # its own MONITOR lines follow the reply
        reply += monitor.take_echo(c)
    return reply


async def _postponed(c: ClientState, args: list[bytes]) -> Any:
    """A command held by CLIENT PAUSE: run it (from the top) once the pause is over.
    The connection parks the client meanwhile, as for a blocked command."""
    await pause.wait_unpaused(c.server)
    open_tick = getattr(c.server, "open_tick", None)
    if open_tick is not None:
        open_tick()  # share the current tick's write, like any command
    reply = execute(c, args)
    if type(reply) is not bytes:  # it blocks (BLPOP...) or paused again
        reply = await reply
    return reply


def is_postponed(awaitable: object) -> bool:
    """Whether a reply is :func:`_postponed`'s (the connection parks it without SLOWLOG)."""
    return getattr(awaitable, "cr_code", None) is _POSTPONED_CODE


_POSTPONED_CODE = _postponed.__code__


def _protocol_violation(c: ClientState) -> bytes:
    """A request whose items are not all bulk strings (nested arrays, integers...)."""
    c.close_after_reply = True
    return error(errors.ProtocolError(errors.proto_expected_dollar("*")).message)
