"""Redis 7 functions: FUNCTION LOAD / LIST / DELETE / FLUSH / DUMP / RESTORE / STATS / KILL /
HELP, FCALL and FCALL_RO, as Redis 7.0 (functions.c, function_lua.c).

Libraries live in their own Lua state (:class:`pikadb.commands._lua_runtime.LuaEngine` in
"function" mode: at load time only ``redis.register_function``/``redis.log`` are visible).
Function names are looked up case-insensitively (Redis's functions dict), library names
case-sensitively. Every change is persisted through :mod:`pikadb.storage.functions_store`
(sys column family, the one commit path: in the binlog), and the libraries are loaded back,
compiled, the first time a server needs them after a start.

FUNCTION DUMP / RESTORE use Redis's payload (:mod:`pikadb.rdb.functions`), so payloads move
between pikadb and Redis in both directions.
"""

from __future__ import annotations

import logging
from typing import Any
from weakref import WeakKeyDictionary

from pikadb.commands import _lua_runtime as R
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.introspection import help_reply
from pikadb.commands.monitor import MONITORS
from pikadb.commands.monitor import feed as monitor_feed
from pikadb.commands.scripting import check_flags, kill_running, parse_numkeys
from pikadb.commands.table import KeySpec, command, container
from pikadb.commands.zsets import numkeys_finder
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.core.glob import stringmatch
from pikadb.protocol.parser import split_args
from pikadb.protocol.reply import OK, array, bulk, integer, simple
from pikadb.rdb.errors import BAD_PAYLOAD
from pikadb.rdb.functions import FunctionPayloadError, dump_functions, load_functions, verify
from pikadb.storage import functions_store

log = logging.getLogger("pikadb.scripting")
G = "scripting"
BAD_NAME = errors.LIBRARY_BAD_NAME


class Function:
    __slots__ = ("desc", "flags", "fn", "library", "name")

    def __init__(self, name: bytes, fn: Any, desc: bytes | None, flags: int, library: Library):
        self.name = name
        self.fn = fn
        self.desc = desc
        self.flags = flags
        self.library = library


class Library:
    __slots__ = ("code", "functions", "name")

    def __init__(self, name: bytes, code: bytes) -> None:
        self.name = name
        self.code = code
        self.functions: dict[bytes, Function] = {}


class Libraries:
    """A functionsLibCtx: libraries by name, their functions by lower-cased name."""

    def __init__(self) -> None:
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}

    def link(self, lib: Library) -> None:
        for f in lib.functions.values():
            self.functions[f.name.lower()] = f
        self.libraries[lib.name] = lib

    def unlink(self, lib: Library) -> None:
        for f in lib.functions.values():
            self.functions.pop(f.name.lower(), None)
        del self.libraries[lib.name]


class FunctionsState:
    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.engine = R.LuaEngine(server, "function")
        self.ctx = Libraries()
        self.limit = R.threshold(server)
        for name, code in functions_store.load_all(server.store):
            try:
                create(self, code, False, self.ctx)
            except CommandError as exc:
                log.error("stored function library %r not loaded: %s", name, exc.message)

    def persist(
        self,
        put: list[Library] | None = None,
        delete: list[bytes] | None = None,
        flush: bool = False,
    ) -> None:
        functions_store.save(
            self.server.store,
            put={lib.name: lib.code for lib in put or ()},
            delete=delete,
            flush=flush,
        )


_STATES: WeakKeyDictionary[ServerState, FunctionsState] = WeakKeyDictionary()


def state(server: ServerState) -> FunctionsState:
    st = _STATES.get(server)
    if st is None:
        st = _STATES[server] = FunctionsState(server)
    return st


# --- creating libraries -------------------------------------------------------------------------
def _valid_name(name: bytes) -> bool:
    return bool(name) and all(
        c == 95 or 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 for c in name
    )


def _metadata(code: bytes) -> tuple[bytes, bytes, bytes]:
    """functionExtractLibMetaData: (engine, library name, code after the shebang line)."""
    if not code.startswith(b"#!"):
        raise CommandError("ERR Missing library metadata")
    end = code.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid library metadata")
    parts = split_args(code[:end])
    if not parts:
        raise CommandError("ERR Invalid library metadata")
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise CommandError(
                    "ERR Invalid metadata value, name argument was given multiple times"
                )
            name = part[5:]
            continue
        raise CommandError("ERR Invalid metadata value given: " + part.decode("utf-8", "replace"))
    if name is None:
        raise CommandError("ERR Library name was not given")
    return engine, name, code[end:]


def create(st: FunctionsState, code: bytes, replace: bool, ctx: Libraries) -> bytes:
    """functionsCreateWithLibraryCtx: compile ``code`` into ``ctx``; the library name."""
    engine, name, body = _metadata(code)
    if not _valid_name(name):
        raise CommandError(BAD_NAME)
    if engine.lower() != b"lua":
        raise CommandError(f"ERR Engine '{engine.decode('utf-8', 'replace')}' not found")
    old = ctx.libraries.get(name)
    if old is not None and not replace:
        raise CommandError(f"ERR Library '{name.decode('utf-8', 'replace')}' already exists")
    if old is not None:
        ctx.unlink(old)
    try:
        lib = Library(name, code)
        for fname, fn, desc, flags in st.engine.load_library(body):
            lib.functions[fname] = Function(fname, fn, desc, flags, lib)
        if not lib.functions:
            raise CommandError("ERR No functions registered")
        for fname in lib.functions:
            if fname.lower() in ctx.functions:
                raise CommandError(
                    f"ERR Function {fname.decode('utf-8', 'replace')} already exists"
                )
    except CommandError:
        if old is not None:
            ctx.link(old)
        raise
    ctx.link(lib)
    return name


def _join(dst: Libraries, src: Libraries, replace: bool) -> list[Library]:
    """libraryJoin: move src's libraries into dst (all or nothing); the replaced ones."""
    replaced: list[Library] = []
    try:
        for name in src.libraries:
            old = dst.libraries.get(name)
            if old is None:
                continue
            if not replace:
                raise CommandError(f"ERR Library {name.decode('utf-8', 'replace')} already exists")
            dst.unlink(old)
            replaced.append(old)
        for key, f in src.functions.items():
            if key in dst.functions:
                raise CommandError(
                    f"ERR Function {f.name.decode('utf-8', 'replace')} already exists"
                )
    except CommandError:
        for old in replaced:
            dst.link(old)
        raise
    for lib in src.libraries.values():
        dst.link(lib)
    return replaced


# --- FCALL --------------------------------------------------------------------------------------
def _fcall(c: ClientState, args: list[bytes], ro: bool) -> bytes:
    if MONITORS:
        monitor_feed(c, args)
    st = _STATES.get(c.server) or state(c.server)
    f = st.ctx.functions.get(args[1].lower())
    if f is None:
        raise CommandError(errors.FUNCTION_NOT_FOUND)
    numkeys = parse_numkeys(args, errors.FCALL_BAD_NUMKEYS)
    read_only = check_flags(f.flags, ro)
    run = R.Run(c, st.engine.client, f.name, False, read_only, args, st.limit.ms)
    return st.engine.run(run, f.fn, numkeys, args[3:])


_FCALL_SPECS = (
    KeySpec(
        "RW access update",
        index=2,
        find="keynum",
        keynumidx=0,
        firstkey=1,
        notes="We cannot tell how the keys will be used so we assume the worst, RW and UPDATE",
    ),
)


@command(
    "fcall",
    -3,
    "noscript skip_monitor may_replicate no_mandatory_keys stale",
    acl="scripting",
    group=G,
    summary="Invoke a function",
    since="7.0.0",
    complexity="Depends on the function that is executed.",
    args="function numkeys [key [key ...]] [arg [arg ...]]",
    key_finder=numkeys_finder(2),
    key_specs=_FCALL_SPECS,
)
def fcall(c: ClientState, args: list[bytes]) -> bytes:
    return _fcall(c, args, False)


@command(
    "fcall_ro",
    -3,
    "readonly noscript skip_monitor no_mandatory_keys stale",
    acl="scripting",
    group=G,
    summary="Invoke a read-only function",
    since="7.0.0",
    complexity="Depends on the function that is executed.",
    args="function numkeys [key [key ...]] [arg [arg ...]]",
    key_finder=numkeys_finder(2),
    key_specs=(
        KeySpec(
            "RO access",
            index=2,
            find="keynum",
            keynumidx=0,
            firstkey=1,
            notes="We cannot tell how the keys will be used so we assume the worst, RO and ACCESS",
        ),
    ),
)
def fcall_ro(c: ClientState, args: list[bytes]) -> bytes:
    return _fcall(c, args, True)


# --- FUNCTION -----------------------------------------------------------------------------------
container("function", -2, group=G, summary="A container for function commands", since="7.0.0")


def _syntax_error(sub: bytes) -> CommandError:
    return CommandError(
        f"ERR unknown subcommand or wrong number of arguments for '{sub.decode('utf-8', 'replace')}'. Try FUNCTION HELP."
    )


@command(
    "load",
    -3,
    "noscript write denyoom",
    acl="scripting",
    tips="request_policy:all_shards response_policy:all_succeeded",
    parent="function",
    group=G,
    summary="Create a function with the given arguments (name, code, description)",
    since="7.0.0",
    complexity="O(1) (considering compilation time is redundant)",
    args="[REPLACE] function-code",
)
def function_load(c: ClientState, args: list[bytes]) -> bytes:
    replace = False
    pos = 2
    while pos < len(args) - 1:
        arg = args[pos]
        pos += 1
        if arg.lower() == b"replace":
            replace = True
            continue
        raise CommandError("ERR Unknown option given: " + arg.decode("utf-8", "replace"))
    if pos >= len(args):
        raise CommandError("ERR Function code is missing")
    st = state(c.server)
    name = create(st, args[pos], replace, st.ctx)
    st.persist(put=[st.ctx.libraries[name]])
    return bulk(name)


@command(
    "delete",
    3,
    "noscript write",
    acl="scripting",
    tips="request_policy:all_shards response_policy:all_succeeded",
    parent="function",
    group=G,
    summary="Delete a function by name",
    since="7.0.0",
    complexity="O(1)",
    args="library-name",
)
def function_delete(c: ClientState, args: list[bytes]) -> bytes:
    st = state(c.server)
    lib = st.ctx.libraries.get(args[2])
    if lib is None:
        raise CommandError(errors.LIBRARY_NOT_FOUND)
    st.ctx.unlink(lib)
    st.persist(delete=[lib.name])
    return OK


@command(
    "flush",
    -2,
    "noscript write",
    acl="scripting",
    tips="request_policy:all_shards response_policy:all_succeeded",
    parent="function",
    group=G,
    summary="Deleting all functions",
    since="7.0.0",
    complexity="O(N) where N is the number of functions deleted",
    args="[ASYNC|SYNC]",
)
def function_flush(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 3:
        raise _syntax_error(args[1])
    if len(args) == 3 and args[2].lower() not in (b"sync", b"async"):
        raise CommandError(errors.FUNCTION_FLUSH_OPTION)
    st = state(c.server)
    st.engine = R.LuaEngine(c.server, "function")
    st.ctx = Libraries()
    st.persist(flush=True)
    return OK


def _flags_reply(c: ClientState, flags: int) -> bytes:
    names = R.flag_names(flags)
    return c.enc.set_header(len(names)) + b"".join(simple(n) for n in names)


@command(
    "list",
    -2,
    "noscript",
    acl="scripting",
    tips="nondeterministic_output_order",
    parent="function",
    group=G,
    summary="List information about all the functions",
    since="7.0.0",
    complexity="O(N) where N is the number of functions",
    args="[LIBRARYNAME library-name-pattern] [WITHCODE]",
)
def function_list(c: ClientState, args: list[bytes]) -> bytes:
    with_code = False
    pattern: bytes | None = None
    i = 2
    while i < len(args):
        arg = args[i]
        if not with_code and arg.lower() == b"withcode":
            with_code = True
        elif pattern is None and arg.lower() == b"libraryname":
            if i >= len(args) - 1:
                raise CommandError("ERR library name argument was not given")
            i += 1
            pattern = args[i]
        else:
            raise CommandError("ERR Unknown argument " + arg.decode("utf-8", "replace"))
        i += 1
    enc = c.enc
    items = []
    for lib in state(c.server).ctx.libraries.values():
        if pattern is not None and not stringmatch(pattern, lib.name, nocase=True):
            continue
        funcs = []
        for f in lib.functions.values():
            funcs.append(
                enc.map_header(3)
                + bulk(b"name")
                + bulk(f.name)
                + bulk(b"description")
                + (enc.null if f.desc is None else bulk(f.desc))
                + bulk(b"flags")
                + _flags_reply(c, f.flags)
            )
        item = (
            enc.map_header(4 if with_code else 3)
            + bulk(b"library_name")
            + bulk(lib.name)
            + bulk(b"engine")
            + bulk(b"LUA")
            + bulk(b"functions")
            + array(funcs)
        )
        if with_code:
            item += bulk(b"library_code") + bulk(lib.code)
        items.append(item)
    return array(items)


@command(
    "stats",
    2,
    "noscript allow_busy",
    acl="scripting",
    tips="nondeterministic_output request_policy:all_shards response_policy:special",
    parent="function",
    group=G,
    summary="Return information about the function currently running (name, description, duration)",
    since="7.0.0",
    complexity="O(1)",
)
def function_stats(c: ClientState, args: list[bytes]) -> bytes:
    run = R.current
    if run is not None and run.is_eval:
        raise CommandError(errors.BUSY_EVAL)
    enc = c.enc
    if run is None:
        running = enc.null
    else:
        running = (
            enc.map_header(3)
            + bulk(b"name")
            + bulk(run.name)
            + bulk(b"command")
            + array([bulk(a) for a in run.args])
            + bulk(b"duration_ms")
            + integer(run.elapsed_ms())
        )
    ctx = state(c.server).ctx
    engines = (
        enc.map_header(1)
        + bulk(b"LUA")
        + enc.map_header(2)
        + bulk(b"libraries_count")
        + integer(len(ctx.libraries))
        + bulk(b"functions_count")
        + integer(len(ctx.functions))
    )
    return enc.map_header(2) + bulk(b"running_script") + running + bulk(b"engines") + engines


@command(
    "kill",
    2,
    "noscript allow_busy",
    acl="scripting",
    tips="request_policy:all_shards response_policy:one_succeeded",
    parent="function",
    group=G,
    summary="Kill the function currently in execution.",
    since="7.0.0",
    complexity="O(1)",
)
def function_kill(c: ClientState, args: list[bytes]) -> bytes:
    return kill_running(c, False)


@command(
    "dump",
    2,
    "noscript",
    acl="scripting",
    parent="function",
    group=G,
    summary="Dump all functions into a serialized binary payload",
    since="7.0.0",
    complexity="O(N) where N is the number of functions",
)
def function_dump(c: ClientState, args: list[bytes]) -> bytes:
    libs = state(c.server).ctx.libraries.values()
    return bulk(dump_functions([lib.code for lib in libs]))


@command(
    "restore",
    -3,
    "noscript write denyoom",
    acl="scripting",
    tips="request_policy:all_shards response_policy:all_succeeded",
    parent="function",
    group=G,
    summary="Restore all the functions on the given payload",
    since="7.0.0",
    complexity="O(N) where N is the number of functions on the payload",
    args="serialized-value [FLUSH|APPEND|REPLACE]",
)
def function_restore(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 4:
        raise _syntax_error(args[1])
    policy = b"append"
    if len(args) == 4:
        policy = args[3].lower()
        if policy not in (b"append", b"replace", b"flush"):
            raise CommandError(errors.FUNCTION_RESTORE_POLICY)
    payload = args[2]
    if not verify(payload):
        raise CommandError(BAD_PAYLOAD)
    st = state(c.server)
    tmp = Libraries()
    try:
        codes = load_functions(payload)
    except FunctionPayloadError as exc:
        raise CommandError("ERR " + str(exc)) from None
    for code in codes:
        create(st, code, False, tmp)
    if policy == b"flush":
        old = list(st.ctx.libraries)
        st.ctx = tmp
        st.persist(put=list(tmp.libraries.values()), delete=old)
        return OK
    replaced = _join(st.ctx, tmp, policy == b"replace")
    del replaced
    st.persist(put=list(tmp.libraries.values()))
    return OK


_HELP = [
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
]


@command(
    "help",
    2,
    "loading stale",
    acl="scripting",
    parent="function",
    group=G,
    summary="Show helpful text about the different subcommands",
    since="7.0.0",
    complexity="O(1)",
)
def function_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(b"function", _HELP)


def scripting_info(server: ServerState) -> dict[str, int]:
    """Numbers for INFO memory (Redis's used_memory_lua, number_of_cached_scripts, ...), without
    creating a Lua state that does not exist yet."""
    from pikadb.commands import scripting

    ev = scripting._STATES.get(server)
    fn = _STATES.get(server)
    vm_eval = ev.engine.memory() if ev is not None else 0
    vm_functions = fn.engine.memory() if fn is not None else 0
    return {
        "used_memory_lua": vm_eval,
        "used_memory_vm_eval": vm_eval,
        "number_of_cached_scripts": len(ev.scripts) if ev is not None else 0,
        "used_memory_scripts_eval": sum(len(s.body) for s in ev.scripts.values()) if ev else 0,
        "number_of_functions": len(fn.ctx.functions) if fn is not None else 0,
        "number_of_libraries": len(fn.ctx.libraries) if fn is not None else 0,
        "used_memory_vm_functions": vm_functions,
        "used_memory_functions": sum(len(x.code) for x in fn.ctx.libraries.values()) if fn else 0,
    }
