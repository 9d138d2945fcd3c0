"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH / KILL / DEBUG / HELP,
as Redis 7.0 (eval.c, script.c). The engine is :mod:`pikadb.commands._lua_runtime`.

Scripts are cached by SHA1 (lower-case hex) with their compiled Lua function, so EVALSHA of
a known script is a dict lookup and one Lua call. The cache lives as long as the process (as
Redis's: it is not persisted, SCRIPT FLUSH empties it and starts a new Lua state).

Shebang (``#!lua flags=no-writes,allow-oom,...``): a script with one runs with Redis 7 rules
(its flags decide whether it may write: EVAL_RO refuses a script without ``no-writes``);
a script without one is an "EVAL compat" script: it may write, except under EVAL_RO where
writes fail at the ``redis.call``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from pikadb.commands import _lua_runtime as R
from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.introspection import help_reply
from pikadb.commands.monitor import MONITORS
from pikadb.commands.monitor import feed as monitor_feed
from pikadb.commands.table import KeySpec, command, container
from pikadb.commands.zsets import numkeys_finder
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.parser import split_args
from pikadb.protocol.reply import OK, ONE, ZERO, array, bulk

G = "scripting"
NOSCRIPT = errors.NOSCRIPT


@dataclass(slots=True)
class Script:
    fn: Any  # the compiled Lua function
    flags: int
    body: bytes


class EvalState:
    """The EVAL side of one server: its Lua state and script cache."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.engine = R.LuaEngine(server, "eval")
        self.scripts: dict[bytes, Script] = {}
        self.limit = R.threshold(server)

    def flush(self) -> None:
        self.engine = R.LuaEngine(self.server, "eval")
        self.scripts = {}


_STATES: WeakKeyDictionary[ServerState, EvalState] = WeakKeyDictionary()
_last: list[Any] = [None, None]  # (server, its state): the hot path skips the weak dict


def state(server: ServerState) -> EvalState:
    if _last[0] is server:
        return _last[1]  # type: ignore[no-any-return]
    st = _STATES.get(server)
    if st is None:
        st = _STATES[server] = EvalState(server)
    _last[0] = server
    _last[1] = st
    return st


# --- shebang and compiling ---------------------------------------------------------------------
def extract_shebang(body: bytes) -> tuple[int, int]:
    """(flags, length of the shebang line) of an EVAL body (evalExtractShebangFlags)."""
    if not body.startswith(b"#!"):
        return R.EVAL_COMPAT, 0
    end = body.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    parts = split_args(body[:end])
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise CommandError(
            "ERR Unexpected engine in script shebang: " + parts[0].decode("utf-8", "replace")
        )
    flags = 0
    for part in parts[1:]:
        if part.startswith(b"flags="):
            flags |= R.parse_flags_list(part[6:])
        else:
            raise CommandError("ERR Unknown lua shebang option: " + part.decode("utf-8", "replace"))
    return flags, end


def create(st: EvalState, body: bytes, sha: bytes | None = None) -> tuple[bytes, Script]:
    """luaCreateFunction: the SHA and cached script for ``body`` (compiled if new)."""
    if sha is None:
        sha = hashlib.sha1(body).hexdigest().encode()
    script = st.scripts.get(sha)
    if script is not None:
        return sha, script
    flags, skip = extract_shebang(body)
    fn = st.engine.compile_eval(body[skip:])
    script = st.scripts[sha] = Script(fn, flags, body)
    return sha, script


# --- running ----------------------------------------------------------------------------------
def check_flags(flags: int, ro: bool) -> bool:
    """scriptPrepareForRun's checks; whether the run is read-only."""
    if flags == R.EVAL_COMPAT:
        return ro
    if flags & R.EVAL_COMPAT:
        return ro
    if not flags & R.NO_WRITES:
        if ro:
            raise CommandError(errors.SCRIPT_RO_WITH_WRITE)
        return False
    return True


_SMALL = {b"%d" % i: i for i in range(16)}


def parse_numkeys(args: list[bytes], message: str | None = None) -> int:
    numkeys = _SMALL.get(args[2])
    if numkeys is None:
        numkeys = parse_int(args[2]) if message is None else parse_int(args[2], message)
    if numkeys > len(args) - 3:
        raise CommandError(errors.NUMKEYS_GREATER)
    if numkeys < 0:
        raise CommandError(errors.NUMKEYS_NEGATIVE)
    return numkeys


def _eval(c: ClientState, args: list[bytes], evalsha: bool, ro: bool) -> bytes:
    if MONITORS:  # the script's line first, then its redis.call lines
        monitor_feed(c, args)
    if evalsha and len(args[1]) != 40:
        raise CommandError(NOSCRIPT)
    numkeys = parse_numkeys(args)
    server = c.server
    st = _last[1] if _last[0] is server else state(server)
    if evalsha:
        sha = args[1]
        script = st.scripts.get(sha)
        if script is None:
            sha = sha.lower()
            script = st.scripts.get(sha)
            if script is None:
                raise CommandError(NOSCRIPT)
    else:
        sha, script = create(st, args[1])
    read_only = check_flags(script.flags, ro)
    run = R.Run(c, st.engine.client, sha, True, read_only, args, st.limit.ms)
    return st.engine.run(run, script.fn, numkeys, args[3:])


_KEY_SPECS = (
    KeySpec(
        "RW access update",
        index=2,
        find="keynum",
        keynumidx=0,
        firstkey=1,
        notes="We cannot tell how the keys will be used so we assume the worst, RW and UPDATE",
    ),
)
_SHA_KEY_SPECS = (KeySpec("RW access update", index=2, find="keynum", keynumidx=0, firstkey=1),)
_RO_KEY_SPECS = (
    KeySpec(
        "RO access",
        index=2,
        find="keynum",
        keynumidx=0,
        firstkey=1,
        notes="We cannot tell how the keys will be used so we assume the worst, RO and ACCESS",
    ),
)
_SHA_RO_KEY_SPECS = (KeySpec("RO access", index=2, find="keynum", keynumidx=0, firstkey=1),)
_FLAGS = "noscript skip_monitor may_replicate no_mandatory_keys stale"
_RO_FLAGS = "readonly noscript skip_monitor no_mandatory_keys stale"
_COMPLEXITY = "Depends on the script that is executed."


@command(
    "eval",
    -3,
    _FLAGS,
    acl="scripting",
    group=G,
    summary="Execute a Lua script server side",
    since="2.6.0",
    complexity=_COMPLEXITY,
    args="script numkeys [key [key ...]] [arg [arg ...]]",
    key_finder=numkeys_finder(2),
    key_specs=_KEY_SPECS,
)
def eval_cmd(c: ClientState, args: list[bytes]) -> bytes:
    return _eval(c, args, False, False)


@command(
    "evalsha",
    -3,
    _FLAGS,
    acl="scripting",
    group=G,
    summary="Execute a Lua script server side",
    since="2.6.0",
    complexity=_COMPLEXITY,
    args="sha1 numkeys [key [key ...]] [arg [arg ...]]",
    key_finder=numkeys_finder(2),
    key_specs=_SHA_KEY_SPECS,
)
def evalsha_cmd(c: ClientState, args: list[bytes]) -> bytes:
    return _eval(c, args, True, False)


@command(
    "eval_ro",
    -3,
    _RO_FLAGS,
    acl="scripting",
    group=G,
    summary="Execute a read-only Lua script server side",
    since="7.0.0",
    complexity=_COMPLEXITY,
    args="script numkeys [key [key ...]] [arg [arg ...]]",
    key_finder=numkeys_finder(2),
    key_specs=_RO_KEY_SPECS,
)
def eval_ro_cmd(c: ClientState, args: list[bytes]) -> bytes:
    return _eval(c, args, False, True)


@command(
    "evalsha_ro",
    -3,
    _RO_FLAGS,
    acl="scripting",
    group=G,
    summary="Execute a read-only Lua script server side",
    since="7.0.0",
    complexity=_COMPLEXITY,
    args="sha1 numkeys [key [key ...]] [arg [arg ...]]",
    key_finder=numkeys_finder(2),
    key_specs=_SHA_RO_KEY_SPECS,
)
def evalsha_ro_cmd(c: ClientState, args: list[bytes]) -> bytes:
    return _eval(c, args, True, True)


# --- SCRIPT -----------------------------------------------------------------------------------
container(
    "script", -2, group=G, summary="A container for Lua scripts management commands", since="2.6.0"
)


def kill_running(c: ClientState, is_eval: bool) -> bytes:
    """scriptKill: SCRIPT KILL (is_eval) / FUNCTION KILL."""
    run = R.current
    if run is None:
        raise CommandError(errors.NOTBUSY)
    if run.dirty:
        raise CommandError(errors.UNKILLABLE)
    if is_eval and not run.is_eval:
        raise CommandError(errors.BUSY_FUNCTION)
    if not is_eval and run.is_eval:
        raise CommandError(errors.BUSY_EVAL)
    run.killed = True
    return OK


@command(
    "load",
    3,
    "noscript stale",
    acl="scripting",
    tips="request_policy:all_nodes response_policy:all_succeeded",
    parent="script",
    group=G,
    summary="Load the specified Lua script into the script cache.",
    since="2.6.0",
    complexity="O(N) with N being the length in bytes of the script body.",
    args="script",
)
def script_load(c: ClientState, args: list[bytes]) -> bytes:
    sha, _ = create(state(c.server), args[2])
    return bulk(sha)


@command(
    "exists",
    -3,
    "noscript",
    acl="scripting",
    tips="request_policy:all_shards response_policy:agg_logical_and",
    parent="script",
    group=G,
    summary="Check existence of scripts in the script cache.",
    since="2.6.0",
    complexity="O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
    args="sha1 [sha1 ...]",
)
def script_exists(c: ClientState, args: list[bytes]) -> bytes:
    scripts = state(c.server).scripts
    return array([ONE if a.lower() in scripts else ZERO for a in args[2:]])


@command(
    "flush",
    -2,
    "noscript",
    acl="scripting",
    tips="request_policy:all_nodes response_policy:all_succeeded",
    parent="script",
    group=G,
    summary="Remove all the scripts from the script cache.",
    since="2.6.0",
    complexity="O(N) with N being the number of scripts in cache",
    args="[ASYNC|SYNC]",
    history=(("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."),),
)
def script_flush(c: ClientState, args: list[bytes]) -> bytes:
    if not (len(args) == 2 or (len(args) == 3 and args[2].lower() in (b"sync", b"async"))):
        raise CommandError(errors.SCRIPT_FLUSH_OPTION)
    state(c.server).flush()
    return OK


@command(
    "kill",
    2,
    "noscript allow_busy",
    acl="scripting",
    tips="request_policy:all_shards response_policy:one_succeeded",
    parent="script",
    group=G,
    summary="Kill the script currently in execution.",
    since="2.6.0",
    complexity="O(1)",
)
def script_kill(c: ClientState, args: list[bytes]) -> bytes:
    return kill_running(c, True)


@command(
    "debug",
    3,
    "noscript",
    acl="scripting",
    parent="script",
    group=G,
    summary="Set the debug mode for executed scripts.",
    since="3.2.0",
    complexity="O(1)",
    args="YES|SYNC|NO",
)
def script_debug(c: ClientState, args: list[bytes]) -> bytes:
    mode = args[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise CommandError("ERR SCRIPT DEBUG (the Lua debugger) is not supported by pikadb")
    raise CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")


_HELP = [
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
]


@command(
    "help",
    2,
    "loading stale",
    acl="scripting",
    parent="script",
    group=G,
    summary="Show helpful text about the different subcommands",
    since="5.0.0",
    complexity="O(1)",
)
def script_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(b"script", _HELP)
