"""CLIENT PAUSE timeout [WRITE|ALL] and CLIENT UNPAUSE (Redis 7.0 pauseClients semantics).

While a pause is in force every client's ``gate`` is on, so the dispatcher asks
:func:`must_wait` before running (or queueing) each command; a command that must wait is
postponed — the connection parks it like a blocked command and the dispatcher runs it again
when the pause ends (:func:`wait_unpaused`), in arrival order. Which commands wait:

* ALL: every command of every client except MONITOR clients (replicas are never paused);
* WRITE: commands flagged ``write`` or ``may_replicate`` (PUBLISH, PFCOUNT, EVAL...), and EXEC
  when its queue holds one; reads, PING, INFO, MULTI, queued reads run at once. Commands
  whose writing depends on their arguments (scripts with ``#!lua flags=no-writes``) may
  register a predicate in :data:`WRITE_CHECKS` (command name -> ``f(c, args) -> bool``).

Commands rejected before running (wrong arity, unknown) get their error at once. A pause
started inside MULTI takes effect after EXEC. A new pause keeps the more restrictive mode
and the later end time. While paused, expired keys are hidden but not deleted (lazy and active
expiry stop, as in Redis): ``store.expire_writes`` is off until the pause ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from pikadb.commands import client_cmd  # noqa: F401  (declares the CLIENT container first)
from pikadb.commands._args import INT64_MAX, parse_int
from pikadb.commands._gate import PAUSED, refresh_all
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.table import Command, command
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK

NONE, WRITE, ALL = 0, 1, 2
WRITE_CHECKS: dict[str, Callable[[ClientState, list[bytes]], bool]] = {}


class PauseState:
    __slots__ = ("end_ms", "event", "kind", "saved_expire_writes", "timer")

    def __init__(self) -> None:
        self.kind = NONE
        self.end_ms = 0
        self.event: asyncio.Event | None = None  # set when the pause ends
        self.timer: asyncio.TimerHandle | None = None
        self.saved_expire_writes = True


_STATES: WeakKeyDictionary[ServerState, PauseState] = WeakKeyDictionary()


def state(server: ServerState) -> PauseState | None:
    """The server's pause, if one is in force."""
    st = _STATES.get(server)
    if st is None or st.kind == NONE:
        return None
    if st.end_ms <= now_ms():  # the timer has not fired yet: ended all the same
        unpause(server)
        return None
    return st


def is_paused(server: ServerState) -> bool:
    return state(server) is not None


def _writes(c: ClientState, cmd: Command, args: list[bytes]) -> bool:
    check = WRITE_CHECKS.get(cmd.name)
    if check is not None:
        return check(c, args)
    flags = cmd.flags
    return "write" in flags or "may_replicate" in flags


def must_wait(c: ClientState, cmd: Command, args: list[bytes]) -> bool:
    """Whether ``cmd`` from ``c`` is postponed by the pause in force (see module doc)."""
    st = state(c.server)
    if st is None or c.monitoring or c.kind in ("replica", "master"):
        return False
    if st.kind == ALL:
        return True
    if _writes(c, cmd, args):
        return True
    if cmd.name == "exec" and c.multi:
        return any(_writes(c, qc, qa) for qc, qa in c.multi)
    return False


async def wait_unpaused(server: ServerState) -> None:
    """Return once no pause is in force."""
    while True:
        st = state(server)
        if st is None:
            return
        if st.event is None:
            st.event = asyncio.Event()
        await st.event.wait()


def pause(server: ServerState, kind: int, end_ms: int) -> None:
    """pauseClients: the more restrictive mode and the later end win."""
    st = _STATES.get(server)
    if st is None:
        st = _STATES[server] = PauseState()
    was_paused = st.kind != NONE
    if not was_paused and end_ms <= now_ms():
        return  # over before it starts (timeout 0, or an end time that wrapped around)
    if kind > st.kind:
        st.kind = kind
    if end_ms > st.end_ms:
        st.end_ms = end_ms
    if not was_paused:
        store = server.store
        st.saved_expire_writes = store.expire_writes
        store.expire_writes = False
        PAUSED.add(server)
        refresh_all(server)
    _arm_timer(server, st)


def _arm_timer(server: ServerState, st: PauseState) -> None:
    if st.timer is not None:
        st.timer.cancel()
        st.timer = None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop (in-process benchmarks): state() ends it when due
        return
    delay = max(0.0, (st.end_ms - now_ms()) / 1000)
    st.timer = loop.call_later(min(delay, 86400 * 365), _expired, server)


def _expired(server: ServerState) -> None:
    st = _STATES.get(server)
    if st is None or st.kind == NONE:
        return
    st.timer = None
    if st.end_ms <= now_ms():
        unpause(server)
    else:
        _arm_timer(server, st)


def unpause(server: ServerState) -> None:
    """unpauseClients: end the pause; postponed commands run in arrival order."""
    st = _STATES.get(server)
    if st is None or st.kind == NONE:
        return
    st.kind = NONE
    st.end_ms = 0
    if st.timer is not None:
        st.timer.cancel()
        st.timer = None
    server.store.expire_writes = st.saved_expire_writes
    PAUSED.discard(server)
    refresh_all(server)
    event, st.event = st.event, None
    if event is not None:
        event.set()


@command(
    "pause",
    -3,
    "admin noscript loading stale",
    acl="connection",
    group="connection",
    parent="client",
    summary="Stop processing commands from clients for some time",
    since="2.9.50",
    complexity="O(1)",
    args="timeout [WRITE|ALL]",
    history=(("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),),
)
def client_pause(c: ClientState, args: list[bytes]) -> Any:
    if len(args) > 4:
        raise CommandError(errors.subcommand_syntax(args[1].decode("utf-8", "replace"), "client"))
    kind = ALL
    if len(args) == 4:
        mode = args[3].lower()
        if mode == b"write":
            kind = WRITE
        elif mode == b"all":
            kind = ALL
        else:
            raise CommandError(errors.CLIENT_PAUSE_MODE)
    timeout = parse_int(args[2], errors.TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    end = now_ms() + timeout if timeout > 0 else 0
    if end > INT64_MAX:  # Redis 7.0 adds without an overflow check: the end lies in the past
        end -= 1 << 64
    pause(c.server, kind, end)
    return OK


@command(
    "unpause",
    2,
    "admin noscript loading stale",
    acl="connection",
    group="connection",
    parent="client",
    summary="Resume processing of clients that were paused",
    since="6.2.0",
    complexity="O(N) Where N is the number of paused clients",
)
def client_unpause(c: ClientState, args: list[bytes]) -> bytes:
    unpause(c.server)
    return OK
