"""The scripting engine: lupa's Lua 5.1 (``lupa.lua51``, the Lua Redis embeds) set up as
Redis 7.0's sandbox, and the Python side of ``redis.call``, the busy hook and friends.

One :class:`LuaEngine` is one Lua state: EVAL scripts share one, functions (FUNCTION LOAD)
another, as in Redis. The Lua code (sandbox, reply conversions, ``redis.*``) lives in
:mod:`pikadb.commands._lua_prelude`, the extra libraries in :mod:`pikadb.commands._lua_libs`.

Running a script (:meth:`LuaEngine.run`): a :class:`Run` describes it (caller, flags, start
time...) and is the module's :data:`current` run while it executes, so the Python callbacks
(``redis.call``, ``math.random``, the count hook) find it without any lookup. A script runs
synchronously inside the caller's command, i.e. inside one event-loop tick: nothing else
runs meanwhile (atomic) and its writes go to RocksDB in the tick's one write (one binlog
record), unless it runs past ``busy-reply-threshold``: see :mod:`pikadb.commands._lua_busy`.

``redis.call`` runs commands through the one command table (:data:`COMMANDS`) as the script's
own client (:class:`ScriptClient`: the caller's db at start, RESP2 unless ``redis.setresp(3)``,
``in_script`` so blocking commands don't block), with Redis's checks: unknown command, arity,
``noscript``, writes from read-only scripts; then :func:`pikadb.commands._call.call` runs it
(stats, SLOWLOG, MONITOR as ``[db lua]``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import lupa.lua51 as lua

from pikadb import REDIS_VERSION
from pikadb.commands import _lua_busy
from pikadb.commands._call import call as run_command
from pikadb.commands._lua_bytecode import without_tail_calls
from pikadb.commands._lua_libs import LIBS_LUA, python_libs
from pikadb.commands._lua_prelude import PRELUDE
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.table import COMMANDS, Command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import RESP2, RESP3

log = logging.getLogger("pikadb.scripting")

# Script flags (shebang ``flags=`` / register_function ``flags``), in Redis's order.
NO_WRITES, ALLOW_OOM, ALLOW_STALE, NO_CLUSTER, ALLOW_CROSS_SLOT = 1, 2, 4, 8, 16
EVAL_COMPAT = 1 << 8  # an EVAL script without shebang: Redis 6 rules
FLAG_NAMES = (
    (NO_WRITES, "no-writes"),
    (ALLOW_OOM, "allow-oom"),
    (ALLOW_STALE, "allow-stale"),
    (NO_CLUSTER, "no-cluster"),
    (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
)
FLAG_BITS = {name: bit for bit, name in FLAG_NAMES}

KILLED = b"ERR Script killed by user with SCRIPT KILL..."
LOAD_TIMEOUT = b"ERR FUNCTION LOAD timeout"
LOAD_TIMEOUT_MS = 500
BUSY_EVAL = errors.BUSY_EVAL
BUSY_FUNCTION = errors.BUSY_FUNCTION
INTERNAL_CHUNK = "=[pikadb]"  # our Lua chunks: the error handler skips their frames
_VERSION_NUM = sum(int(p) << (8 * (2 - i)) for i, p in enumerate(REDIS_VERSION.split(".")))

# redis.call errors: (message, 1) raised without / (message, 2) with ignore_error_stats_update
_NO_ARGS = (b"ERR Please specify at least one argument for this redis lib call", 1)
_BAD_ARGS = (b"ERR Lua redis lib command arguments must be strings or integers", 1)
_UNKNOWN = (b"ERR Unknown Redis command called from script", 2)
_ARITY = (b"ERR Wrong number of args calling Redis command from script", 2)
_NOSCRIPT = (b"ERR This Redis command is not allowed from script", 2)
_RO_WRITE = (b"ERR Write commands are not allowed from read-only scripts.", 2)
_NOT_IN_SCRIPT = (b"ERR redis.call/pcall can only be called inside a script invocation", 1)
_NULL = b"$-1\r\n"


class ScriptClient(ClientState):
    """The client scripts run their commands as (Redis's fake Lua client)."""

    in_script = True

    def __init__(self, server: ServerState) -> None:
        super().__init__(server, 0)
        self.authenticated = True
        self.addr = "lua"
        self.laddr = "lua"
        self.kind = "lua"

    def kill(self) -> None:  # nothing to close
        pass

    def push(self, data: bytes) -> None:
        pass


class Run:
    """One script (or function) call in progress."""

    __slots__ = (
        "args",
        "caller",
        "client",
        "dirty",
        "is_eval",
        "killed",
        "name",
        "read_only",
        "start",
        "threshold_ms",
        "timedout",
    )

    def __init__(
        self,
        caller: ClientState,
        client: ScriptClient,
        name: bytes,
        is_eval: bool,
        read_only: bool,
        args: list[bytes],
        threshold_ms: int,
    ) -> None:
        self.caller = caller
        self.client = client
        self.name = name
        self.is_eval = is_eval
        self.read_only = read_only
        self.args = args
        self.threshold_ms = threshold_ms
        self.dirty = False  # a write command ran (SCRIPT KILL answers UNKILLABLE)
        self.timedout = False  # past busy-reply-threshold: others get BUSY
        self.killed = False
        self.start = _monotonic()

    def busy_error(self) -> str:
        return BUSY_EVAL if self.is_eval else BUSY_FUNCTION

    def elapsed_ms(self) -> int:
        return int((_monotonic() - self.start) * 1000)


_monotonic = time.monotonic
current: Run | None = None  # the running script, if any (at most one per process)
_load_started: float | None = None  # FUNCTION LOAD in progress (its 500 ms timeout)


# --- redis.call -------------------------------------------------------------------------------
def _num(a: int | float) -> bytes:
    """A Lua number as a command argument: ``%.17g`` like Redis (C printf: ``-nan``)."""
    if type(a) is int and -(1 << 53) <= a <= (1 << 53):
        return b"%d" % a
    if a != a:
        return b"-nan" if math.copysign(1.0, a) < 0 else b"nan"
    return b"%.17g" % a


def _argv(args: tuple[Any, ...]) -> list[bytes] | None:
    argv = list(args)
    for i, a in enumerate(argv):
        if type(a) is not bytes:
            if type(a) is int or type(a) is float:
                argv[i] = _num(a)
            else:
                return None
    return argv


def _lookup(argv: list[bytes]) -> Command | None:
    cmd = COMMANDS.get(argv[0].lower())
    if cmd is not None and cmd.subcommands and len(argv) > 1:
        return cmd.subcommands.get(argv[1].lower())
    return cmd


def _call(*args: Any) -> Any:
    run = current
    if run is None:
        return _NOT_IN_SCRIPT
    if not args:
        return _NO_ARGS
    argv = _argv(args)
    if argv is None:
        return _BAD_ARGS
    cmd = _lookup(argv)
    if cmd is None:
        return _rejected(run, None, _UNKNOWN)
    n = len(argv)
    arity = cmd.arity
    if (arity > 0 and n != arity) or n < -arity:
        return _rejected(run, cmd, _ARITY)
    if "noscript" in cmd.flags:
        return _rejected(run, cmd, _NOSCRIPT)
    if cmd.is_write:
        if run.read_only:
            return _rejected(run, cmd, _RO_WRITE)
        run.dirty = True
    reply = run_command(run.client, cmd, argv, True)
    if type(reply) is not bytes:
        close = getattr(reply, "close", None)
        if close is not None:
            close()
        return (b"ERR This Redis command can't block from a script", 2)
    first = reply[:1]
    if first == b"$":  # the common replies go back as values, not RESP to parse
        if reply[1] == 45:  # $-1
            return False
        return reply[reply.index(b"\r\n") + 2 : -2]
    if first == b":":
        return int(reply[1:-2])
    if first == b"_":
        return None
    return (reply or _NULL, 3)


def _rejected(run: Run, cmd: Command | None, err: tuple[bytes, int]) -> tuple[bytes, int]:
    """scriptCall refused the command: counted as Redis counts a rejected command."""
    if cmd is not None:
        cmd.rejected_calls += 1
    run.caller.server.stats.count_error("ERR")
    return err


def _acl_check_cmd(*args: Any) -> Any:
    if not args:
        return _NO_ARGS
    argv = _argv(args)
    if argv is None:
        return _BAD_ARGS
    if _lookup(argv) is None:
        return (b"ERR Invalid command passed to redis.acl_check_cmd()", 1)
    return True  # no ACL users beyond the default one


# --- other callbacks -------------------------------------------------------------------------
_LOG_LEVELS = (logging.DEBUG, logging.DEBUG, logging.INFO, logging.WARNING)


def _log(level: int, msg: bytes) -> None:
    log.log(_LOG_LEVELS[level], "%s", msg.decode("utf-8", "replace"))


def _setresp(resp: int) -> None:
    run = current
    if run is not None:
        c = run.client
        c.resp = resp
        c.enc = RESP3 if resp == 3 else RESP2


def _sha1hex(s: bytes) -> bytes:
    return hashlib.sha1(s).hexdigest().encode()


class _Lrand48:
    """Redis's rand.c (lrand48): scripts' math.random, one sequence per process."""

    __slots__ = ("x",)

    def __init__(self) -> None:
        self.x = 0x1234ABCD330E

    def seed(self, v: int) -> None:
        self.x = ((v & 0xFFFFFFFF) << 16) | 0x330E

    def random(self) -> float:
        self.x = (0x5DEECE66D * self.x + 0xB) & 0xFFFFFFFFFFFF
        m = 0x7FFFFFFF
        return ((self.x >> 17) % m) / m


PRNG = _Lrand48()


def _randomseed(v: int) -> None:
    PRNG.seed(int(v))


def _interrupt() -> bytes | None:
    """The count hook (every 100k Lua instructions): busy-reply-threshold, SCRIPT KILL,
    the FUNCTION LOAD timeout. A message makes the script fail with it."""
    run = current
    if run is None:
        if _load_started is not None and time.monotonic() - _load_started > LOAD_TIMEOUT_MS / 1000:
            return LOAD_TIMEOUT
        return None
    if not run.timedout:
        if run.threshold_ms <= 0 or run.elapsed_ms() < run.threshold_ms:
            return None
        run.timedout = True
        log.warning(
            "Slow script detected: still in execution after %d milliseconds. "
            "You can try killing the script using the %s command.",
            run.elapsed_ms(),
            "SCRIPT KILL" if run.is_eval else "FUNCTION KILL",
        )
        _lua_busy.enter_busy(run)
    _lua_busy.process_events(run)
    return KILLED if run.killed else None


def _untail(dump: bytes) -> bytes | None:
    try:
        return without_tail_calls(dump)
    except (ValueError, IndexError):
        log.exception("could not rewrite a script's tail calls")
        return None


def _deny_attributes(obj: Any, name: Any, is_setting: bool) -> Any:
    raise AttributeError("access to Python attributes is not allowed")


# --- the engine -------------------------------------------------------------------------------
class LuaEngine:
    """One sandboxed Lua state (``mode``: "eval" for EVAL scripts, "function" for libraries)."""

    def __init__(self, server: ServerState, mode: str) -> None:
        self.mode = mode
        self.client = ScriptClient(server)
        rt = self.runtime = lua.LuaRuntime(
            encoding=None,
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_filter=_deny_attributes,
        )
        table_from = rt.table_from
        libs = rt.execute(
            LIBS_LUA, rt.table_from(_py_tables(rt, python_libs(table_from))), name=INTERNAL_CHUNK
        )
        callbacks = {
            b"mode": mode.encode(),
            b"call": _call,
            b"acl_check_cmd": _acl_check_cmd,
            b"untail": _untail,
            b"log": _log,
            b"setresp": _setresp,
            b"sha1hex": _sha1hex,
            b"interrupt": _interrupt,
            b"random": PRNG.random,
            b"randomseed": _randomseed,
            b"libs": libs,
            b"version": REDIS_VERSION.encode(),
            b"version_num": _VERSION_NUM,
        }
        api = rt.execute(PRELUDE, rt.table_from(callbacks), name=INTERNAL_CHUNK)
        self._run_eval = api[b"run_eval"]
        self._run_function = api[b"run_function"]
        self._runner = self._run_eval if mode == "eval" else self._run_function
        self._memory = api[b"memory"]
        self._compile_eval = api[b"compile_eval"]
        self._load_library = api[b"load_library"]

    def memory(self) -> int:
        """Bytes the Lua state uses (Redis's used_memory_lua / used_memory_vm_functions)."""
        return int(self._memory())

    # -- compiling ---------------------------------------------------------------------------
    def compile_eval(self, body: bytes) -> Any:
        """The Lua function of an EVAL body (shebang line already cut off)."""
        res = self._compile_eval(body)
        if type(res) is tuple:
            raise CommandError(
                "ERR Error compiling script (new function): " + _text(res[1]).strip("\r\n")
            )
        return res

    def load_library(self, code: bytes) -> list[tuple[bytes, Any, bytes | None, int]]:
        """Run a library's code (after its shebang line); its registered functions as
        (name, Lua function, description, flags). Raises CommandError("ERR ...")."""
        global _load_started
        _load_started = time.monotonic()
        try:
            res = self._load_library(code)
        finally:
            _load_started = None
        if type(res) is tuple:
            raise CommandError("ERR " + _text(res[1]))
        out = []
        for i in range(1, len(res) + 1):
            name, fn, desc, flags = (res[i][j] for j in range(1, 5))
            out.append((name, fn, desc or None, int(flags)))
        return out

    # -- running -----------------------------------------------------------------------------
    def run(self, run: Run, fn: Any, nkeys: int, args: list[bytes]) -> bytes:
        """Run ``fn`` (KEYS = args[:nkeys], ARGV = the rest) as ``run``: the reply to send to
        the caller."""
        global current
        if current is not None:  # cannot happen (EVAL/FCALL are noscript)
            raise CommandError("ERR a script is already running")
        sc = self.client
        caller = run.caller
        sc.db = caller.db
        sc.resp = 2
        sc.enc = RESP2
        current = run
        store = caller.server.store
        store.begin_atomic()  # reads merge pending writes: one write / binlog record
        try:
            res = self._runner(fn, caller.resp, nkeys, *args)
        finally:
            store.end_atomic()
            current = None
            if run.timedout:
                _lua_busy.busy_over(run)
        if res[0] == 1:
            if res[2] is not None:  # error replies inside the reply: counted
                self._count_errors(run, res[2])
            return res[1]  # type: ignore[no-any-return]
        return self._error_reply(run, res)

    @staticmethod
    def _count_errors(run: Run, errs: Any) -> None:
        """afterErrorReply for each error inside a script's reply: INFO errorstats, and the
        EVAL/FCALL's failed_calls (once per ignored error, once if any counted one)."""
        stats = run.caller.server.stats
        failed = 0
        counted = False
        for i in range(1, len(errs) + 1, 2):
            if errs[i + 1]:
                failed += 1
            else:
                counted = True
                stats.count_error(errs[i].split(b" ", 1)[0].decode("utf-8", "replace"))
        cmd = COMMANDS.get(run.args[0].lower())
        if cmd is not None:
            cmd.failed_calls += failed + counted

    def _error_reply(self, run: Run, res: tuple[Any, ...]) -> bytes:
        msg, src, line, ignore = res[1], res[2], res[3], res[4]
        if msg is None:
            msg = b"ERR unknown error"
        if src is not None and line is not None:
            msg += b" script: %s, on %s:%s." % (run.name, src, line)
        msg = msg.replace(b"\r", b" ").replace(b"\n", b" ")
        if not ignore:  # the script's own error: INFO errorstats (a command's was counted)
            run.caller.server.stats.count_error(msg.split(b" ", 1)[0].decode("utf-8", "replace"))
        cmd = COMMANDS.get(run.args[0].lower())
        if cmd is not None:
            cmd.failed_calls += 1
        return b"-" + msg + b"\r\n"


def _py_tables(rt: Any, libs: dict[str, dict[str, Callable[..., Any]]]) -> dict[bytes, Any]:
    return {
        lib.encode(): rt.table_from({k.encode(): f for k, f in fns.items()})
        for lib, fns in libs.items()
    }


def _text(b: Any) -> str:
    if isinstance(b, bytes):
        return b.decode("utf-8", "replace")
    return str(b)


# --- shebangs ---------------------------------------------------------------------------------
def parse_flags_list(raw: bytes, case_sensitive: bool = True) -> int:
    """``no-writes,allow-oom``: the flag bits; unknown -> CommandError (EVAL shebang text)."""
    flags = 0
    if not raw:
        return 0
    for part in raw.split(b","):
        name = part.decode("utf-8", "replace")
        bit = FLAG_BITS.get(name if case_sensitive else name.lower())
        if bit is None:
            raise CommandError(f"ERR Unexpected flag in script shebang: {name}")
        flags |= bit
    return flags


def flag_names(flags: int) -> list[str]:
    return [name for bit, name in FLAG_NAMES if flags & bit]


class _Threshold:
    """busy-reply-threshold of one server, cached, and kept equal to its alias
    lua-time-limit: CONFIG SET of either sets both (listeners registered the first time the
    server runs a script; before that, the one that differs from the default wins)."""

    __slots__ = ("ms",)

    def __init__(self, server: ServerState) -> None:
        s = server.settings.server
        b = int(getattr(s, "busy_reply_threshold", 5000))
        lt = int(getattr(s, "lua_time_limit", b))
        self.ms = lt if b == 5000 else b
        self._set(server, self.ms)
        config = getattr(server, "config", None)
        if config is not None:
            for name in ("busy-reply-threshold", "lua-time-limit"):
                try:
                    config.on_change(name, lambda v, srv=server: self._set(srv, int(v)))
                except KeyError:
                    pass

    def _set(self, server: ServerState, v: int) -> None:
        self.ms = v
        s = server.settings.server
        for field in ("busy_reply_threshold", "lua_time_limit"):
            if getattr(s, field, v) != v:
                setattr(s, field, v)


_THRESHOLDS: WeakKeyDictionary[ServerState, _Threshold] = WeakKeyDictionary()


def threshold(server: ServerState) -> _Threshold:
    t = _THRESHOLDS.get(server)
    if t is None:
        t = _THRESHOLDS[server] = _Threshold(server)
    return t
