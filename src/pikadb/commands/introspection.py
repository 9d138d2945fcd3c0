"""COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP),
all generated from the one command table (:mod:`pikadb.commands.table`).

Reply shapes are Redis 7.0's. COMMAND INFO entry (RESP3 sets where Redis uses them)::

    [name, arity, {flags}, first, last, step, {@categories}, {tips}, {key specs}, {subcommands}]

A key spec is a map ``{notes?, flags: {..}, begin_search: {type, spec}, find_keys: {type,
spec}}``. Commands declare key specs explicitly (``key_specs=``) when ``keys=(first, last,
step)`` plus ``key_flags=`` can't describe them; otherwise one spec is derived.

COMMAND DOCS ``arguments`` are parsed from the command's ``args=`` syntax string
(``key value [NX|XX] [EX seconds|PX milliseconds]``): upper-case words are tokens, ``[..]``
optional, ``|`` alternatives (oneof), ``x [x ...]`` repetition (multiple).
"""

from __future__ import annotations

import re
from typing import Any

from pikadb.commands.context import ClientState
from pikadb.commands.table import CATEGORIES, COMMANDS, Command, KeySpec, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.core.glob import stringmatch
from pikadb.protocol.reply import Encoder, array, bulk, integer, simple

G = "server"

# Order in which Redis prints command flags (addReplyFlagsForCommand); the rest are hidden.
FLAG_ORDER = (
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
)
KEY_FLAG_ORDER = (
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
)
_KEY_FLAG_RANK = {f.lower(): i for i, f in enumerate(KEY_FLAG_ORDER)}


def help_reply(name: bytes, lines: list[str]) -> bytes:
    """addReplyHelp: the header, ``lines`` and the HELP footer, as status replies."""
    head = f"{name.decode('utf-8', 'replace').upper()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    items = [head, *lines, "HELP", "    Prints this help."]
    return array([simple(x) for x in items])


# --- table views -------------------------------------------------------------------------
def lookup_by_name(name: bytes) -> Command | None:
    """``get`` or ``config|get`` (case-insensitive), as COMMAND INFO/DOCS accept them."""
    parts = name.lower().split(b"|")
    cmd = COMMANDS.get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    if len(parts) > 2 or not cmd.subcommands:
        return None
    return cmd.subcommands.get(parts[1])


def lookup_argv(argv: list[bytes]) -> Command | None:
    """lookupCommand(argv): the subcommand when the command has them and argv names one."""
    cmd = COMMANDS.get(argv[0].lower())
    if cmd is None or len(argv) == 1 or not cmd.subcommands:
        return cmd
    return cmd.subcommands.get(argv[1].lower())


def all_commands() -> list[Command]:
    out: list[Command] = []
    for cmd in COMMANDS.values():
        out.append(cmd)
        out.extend(cmd.subcommands.values())
    return out


def categories(cmd: Command) -> list[str]:
    cats = set(cmd.categories)
    if "fast" not in cats:
        cats.add("slow")  # as setImplicitACLCategories, also for containers
    return [c for c in CATEGORIES if c in cats]


def _default_key_flags(cmd: Command) -> str:
    if "readonly" in cmd.flags:
        return "RO access"
    if "write" in cmd.flags:
        return "RW update"
    return "RO"


def key_specs(cmd: Command) -> tuple[KeySpec, ...]:
    """Declared key specs, or the one derived from ``keys=(first, last, step)``."""
    if cmd.key_specs:
        return cmd.key_specs
    if cmd.first_key <= 0:
        return ()
    last = cmd.last_key
    lastkey = last - cmd.first_key if last >= 0 else last
    flags = cmd.key_flags or _default_key_flags(cmd)
    return (KeySpec(flags, index=cmd.first_key, lastkey=lastkey, keystep=cmd.key_step or 1),)


def is_movable(cmd: Command) -> bool:
    if cmd.key_finder is not None:
        return True
    return any(s.index <= 0 or s.find != "range" for s in cmd.key_specs)


def command_flags(cmd: Command) -> list[str]:
    flags = set(cmd.flags)
    if is_movable(cmd):
        flags.add("movablekeys")
    return [f for f in FLAG_ORDER if f in flags]


def key_flag_list(flags: str) -> list[str]:
    """Key-spec flags in Redis's order and spelling (RO/RW/OW/RM upper, others lower)."""
    words = {w.lower() for w in flags.split()}
    return [f for f in KEY_FLAG_ORDER if f.lower() in words]


# --- RESP building blocks ----------------------------------------------------------------
def _set_of_status(enc: Encoder, items: list[str]) -> bytes:
    return enc.set_header(len(items)) + b"".join(simple(x) for x in items)


def _set_of(enc: Encoder, encoded: list[bytes]) -> bytes:
    return enc.set_header(len(encoded)) + b"".join(encoded)


def _map(enc: Encoder, pairs: list[tuple[str, bytes]]) -> bytes:
    return enc.map([(bulk(k.encode()), v) for k, v in pairs])


def _key_spec_reply(enc: Encoder, spec: KeySpec) -> bytes:
    pairs: list[tuple[str, bytes]] = []
    if spec.notes:
        pairs.append(("notes", bulk(spec.notes.encode())))
    pairs.append(("flags", _set_of_status(enc, key_flag_list(spec.flags))))
    if spec.index > 0:
        begin = _map(
            enc, [("type", bulk(b"index")), ("spec", _map(enc, [("index", integer(spec.index))]))]
        )
    elif spec.keyword:
        begin = _map(
            enc,
            [
                ("type", bulk(b"keyword")),
                (
                    "spec",
                    _map(
                        enc,
                        [
                            ("keyword", bulk(spec.keyword.encode())),
                            ("startfrom", integer(spec.startfrom)),
                        ],
                    ),
                ),
            ],
        )
    else:
        begin = _map(enc, [("type", bulk(b"unknown")), ("spec", _map(enc, []))])
    pairs.append(("begin_search", begin))
    if spec.find == "range":
        find = _map(
            enc,
            [
                ("type", bulk(b"range")),
                (
                    "spec",
                    _map(
                        enc,
                        [
                            ("lastkey", integer(spec.lastkey)),
                            ("keystep", integer(spec.keystep)),
                            ("limit", integer(spec.limit)),
                        ],
                    ),
                ),
            ],
        )
    elif spec.find == "keynum":
        find = _map(
            enc,
            [
                ("type", bulk(b"keynum")),
                (
                    "spec",
                    _map(
                        enc,
                        [
                            ("keynumidx", integer(spec.keynumidx)),
                            ("firstkey", integer(spec.firstkey)),
                            ("keystep", integer(spec.keystep)),
                        ],
                    ),
                ),
            ],
        )
    else:
        find = _map(enc, [("type", bulk(b"unknown")), ("spec", _map(enc, []))])
    pairs.append(("find_keys", find))
    return _map(enc, pairs)


def info_reply(cmd: Command | None, enc: Encoder) -> bytes:
    """One COMMAND INFO entry (null for an unknown name)."""
    if cmd is None:
        return enc.null
    specs = key_specs(cmd)
    parts = [
        bulk(cmd.name.encode()),
        integer(cmd.arity),
        _set_of_status(enc, command_flags(cmd)),
        integer(cmd.first_key),
        integer(cmd.last_key),
        integer(cmd.key_step),
        _set_of_status(enc, ["@" + c for c in categories(cmd)]),
        _set_of(enc, [bulk(t.encode()) for t in cmd.tips]),
        _set_of(enc, [_key_spec_reply(enc, s) for s in specs]),
        _set_of(enc, [info_reply(s, enc) for s in cmd.subcommands.values()]),
    ]
    return array(parts)


# --- COMMAND DOCS: arguments parsed from the syntax string -------------------------------
_TOKEN_RE = re.compile(r"\.\.\.|[\[\]()|]|[^\s\[\]()|]+")
_INTEGER_NAMES = frozenset(
    [
        "count",
        "index",
        "start",
        "end",
        "stop",
        "offset",
        "numkeys",
        "db",
        "port",
        "seconds",
        "milliseconds",
        "decrement",
        "ttl",
        "limit",
        "len",
        "length",
        "numreplicas",
        "maxlen",
        "client-id",
        "index1",
        "index2",
        "pos",
        "numfields",
        "numkeys",
        "destination-db",
        "timeout-ms",
    ]
)
_DOUBLE_NAMES = frozenset(
    ["score", "min", "max", "longitude", "latitude", "radius", "width", "height"]
)
_KEY_NAMES = frozenset(["key", "source", "destination", "destkey", "newkey", "srckey", "dstkey"])


def _word(word: str) -> dict[str, Any]:
    if any(ch.isalpha() for ch in word) and word == word.upper():
        return {"name": word.lower(), "type": "pure-token", "token": word, "flags": []}
    name = word
    if name in _KEY_NAMES or name.endswith("key"):
        kind = "key"
    elif name in _INTEGER_NAMES:
        kind = "integer"
    elif name in _DOUBLE_NAMES:
        kind = "double"
    elif name.startswith("unix-time"):
        kind = "unix-time"
    elif name == "pattern":
        kind = "pattern"
    else:
        kind = "string"
    return {"name": name, "type": kind, "flags": []}


def _reduce(seq: list[dict[str, Any]]) -> dict[str, Any]:
    """One node for a sequence: itself, ``TOKEN value``, or a block."""
    if len(seq) == 1:
        return seq[0]
    if len(seq) == 2 and seq[0]["type"] == "pure-token" and seq[1]["type"] != "pure-token":
        node = dict(seq[1])
        node["token"] = seq[0]["token"]
        return node
    return {
        "name": "_".join(n["name"] for n in seq),
        "type": "block",
        "flags": [],
        "arguments": seq,
    }


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _TOKEN_RE.findall(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def seq(self, stops: tuple[str, ...]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while (tok := self.peek()) is not None and tok not in stops:
            self.i += 1
            if tok in ("[", "("):
                close = "]" if tok == "[" else ")"
                alts = self.alts(close)
                if self.peek() == close:
                    self.i += 1
                if self._repetition(items, alts):
                    continue
                node = self._group(alts)
                if tok == "[" and "optional" not in node["flags"]:
                    node["flags"] = ["optional", *node["flags"]]
                items.append(node)
            elif tok == "...":
                if items and "multiple" not in items[-1]["flags"]:
                    items[-1]["flags"].append("multiple")
            elif tok in ("]", ")", "|"):
                continue
            else:
                items.append(_word(tok))
        return items

    def alts(self, close: str) -> list[list[dict[str, Any]]]:
        out = [self.seq((close, "|"))]
        while self.peek() == "|":
            self.i += 1
            out.append(self.seq((close, "|")))
        return [a for a in out if a]

    @staticmethod
    def _group(alts: list[list[dict[str, Any]]]) -> dict[str, Any]:
        if len(alts) == 1:
            return _reduce(alts[0])
        nodes = [_reduce(a) for a in alts]
        return {
            "name": "_".join(n["name"] for n in nodes),
            "type": "oneof",
            "flags": [],
            "arguments": nodes,
        }

    @staticmethod
    def _repetition(items: list[dict[str, Any]], alts: list[list[dict[str, Any]]]) -> bool:
        """``x [x ...]`` / ``a b [a b ...]``: mark the previous item(s) multiple."""
        if len(alts) != 1 or not alts[0] or "multiple" not in alts[0][-1]["flags"]:
            return False
        names = [n["name"] for n in alts[0]]
        n = len(names)
        if len(items) < n or [x["name"] for x in items[-n:]] != names:
            return False
        if n == 1:
            if "multiple" not in items[-1]["flags"]:
                items[-1]["flags"].append("multiple")
        else:
            block = {
                "name": "_".join(names),
                "type": "block",
                "flags": ["multiple"],
                "arguments": items[-n:],
            }
            del items[-n:]
            items.append(block)
        return True


def parse_arguments(syntax: str) -> list[dict[str, Any]]:
    """COMMAND DOCS argument trees from a syntax string (best effort)."""
    if not syntax.strip():
        return []
    return _Parser(syntax).seq(())


def _assign_key_specs(args: list[dict[str, Any]], nspecs: int, counter: list[int]) -> None:
    for a in args:
        if a["type"] == "key":
            a["key_spec_index"] = min(counter[0], max(0, nspecs - 1))
            counter[0] += 1
        if "arguments" in a:
            _assign_key_specs(a["arguments"], nspecs, counter)


def _arg_reply(enc: Encoder, a: dict[str, Any]) -> bytes:
    pairs: list[tuple[str, bytes]] = [
        ("name", bulk(a["name"].encode())),
        ("type", bulk(a["type"].encode())),
    ]
    if a["type"] == "key":
        pairs.append(("key_spec_index", integer(a.get("key_spec_index", 0))))
    if "token" in a:
        pairs.append(("token", bulk(a["token"].encode())))
    if a["flags"]:
        pairs.append(("flags", _set_of_status(enc, a["flags"])))
    if "arguments" in a:
        pairs.append(("arguments", array([_arg_reply(enc, x) for x in a["arguments"]])))
    return _map(enc, pairs)


def docs_reply(cmd: Command, enc: Encoder) -> bytes:
    pairs: list[tuple[str, bytes]] = [
        ("summary", bulk(cmd.summary.encode())),
        ("since", bulk(cmd.since.encode())),
        ("group", bulk(cmd.group.encode())),
    ]
    if cmd.complexity:
        pairs.append(("complexity", bulk(cmd.complexity.encode())))
    if cmd.history:
        pairs.append(
            (
                "history",
                _set_of(enc, [array([bulk(v.encode()), bulk(t.encode())]) for v, t in cmd.history]),
            )
        )
    args = parse_arguments(" ".join(cmd.arguments))
    if args:
        _assign_key_specs(args, len(key_specs(cmd)), [0])
        pairs.append(("arguments", array([_arg_reply(enc, a) for a in args])))
    if cmd.subcommands:
        pairs.append(
            (
                "subcommands",
                enc.map(
                    [(bulk(s.name.encode()), docs_reply(s, enc)) for s in cmd.subcommands.values()]
                ),
            )
        )
    return _map(enc, pairs)


# --- key extraction (GETKEYS) -------------------------------------------------------------
class _BadKeys(Exception):
    pass


def _spec_positions(spec: KeySpec, argv: list[bytes], arity: int) -> list[int]:
    """getKeysUsingKeySpecs for one spec; raises _BadKeys for an invalid keynum."""
    argc = len(argv)
    first = 0
    if spec.index > 0:
        first = spec.index
    elif spec.keyword:
        kw = spec.keyword.encode().lower()
        start = spec.startfrom if spec.startfrom > 0 else argc + spec.startfrom
        end = argc - 1 if spec.startfrom > 0 else 0
        i = start
        while i != end:
            if i >= argc or i < 1:
                break
            if argv[i].lower() == kw:
                first = i + 1
                break
            i = i + 1 if start <= end else i - 1
        if not first:
            return []
    else:
        return []
    if spec.find == "range":
        if spec.lastkey >= 0:
            last = first + spec.lastkey
        elif not spec.limit:
            last = argc + spec.lastkey
        else:
            last = first + ((argc - first) // spec.limit + spec.lastkey)
        step = spec.keystep or 1
    elif spec.find == "keynum":
        idx = first + spec.keynumidx
        if idx >= argc:
            raise _BadKeys
        try:
            numkeys = int(argv[idx])
        except ValueError:
            raise _BadKeys from None
        if b"%d" % numkeys != argv[idx] or numkeys < 0:
            raise _BadKeys
        first = first + spec.firstkey
        step = spec.keystep or 1
        last = first + (numkeys - 1) * step
        if last >= argc:
            raise _BadKeys
    else:
        return []
    out: list[int] = []
    i = first
    while i <= last:
        if i >= argc or i < first:
            if arity < 0:
                i += step
                continue
            break
        out.append(i)
        i += step
    return out


def keys_and_flags(cmd: Command, argv: list[bytes]) -> list[tuple[int, list[str]]] | None:
    """(position, key flags) of every key in ``argv``; None when the arguments are invalid."""
    specs = key_specs(cmd)
    by_pos: dict[int, list[str]] = {}
    ordered: list[tuple[int, list[str]]] = []
    try:
        for spec in specs:
            for pos in _spec_positions(spec, argv, cmd.arity):
                flags = key_flag_list(spec.flags)
                by_pos.setdefault(pos, flags)
                ordered.append((pos, flags))
    except _BadKeys:
        if cmd.key_finder is None:
            return None
    if cmd.key_finder is None:
        return ordered
    try:
        positions = cmd.key_finder(argv)
    except (CommandError, ValueError, IndexError):
        return None
    if any(p < 0 or p >= len(argv) for p in positions):
        return None
    # keys the specs can't place (SORT's STORE) take the last "unknown" spec's flags
    unknown = [s for s in specs if s.index <= 0 and not s.keyword]
    default = key_flag_list((unknown[-1] if unknown else specs[0]).flags) if specs else []
    return [(p, by_pos.get(p, default)) for p in positions]


def has_keys(cmd: Command) -> bool:
    return cmd.key_finder is not None or bool(key_specs(cmd))


# --- the commands ------------------------------------------------------------------------
@command(
    "command",
    -1,
    "loading stale",
    acl="connection",
    group=G,
    summary="Get array of Redis command details",
    since="2.8.13",
    complexity="O(N) where N is the total number of Redis commands",
    tips="nondeterministic_output_order",
)
def command_(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 1:  # COMMAND <sub> is dispatched to the subcommands
        raise CommandError(errors.unknown_subcommand(args[1].decode("utf-8", "replace"), "command"))
    return array([info_reply(cmd, c.enc) for cmd in COMMANDS.values()])


P = "command"


@command(
    "count",
    2,
    "loading stale",
    acl="connection",
    group=G,
    parent=P,
    summary="Get total number of Redis commands",
    since="2.8.13",
    complexity="O(1)",
)
def command_count(c: ClientState, args: list[bytes]) -> bytes:
    return integer(len(COMMANDS))


@command(
    "info",
    -2,
    "loading stale",
    acl="connection",
    group=G,
    parent=P,
    summary="Get array of specific Redis command details, or all when no argument is given.",
    since="2.8.13",
    complexity="O(N) where N is the number of commands to look up",
    args="[command-name [command-name ...]]",
    tips="nondeterministic_output_order",
    history=(("7.0.0", "Allowed to be called with no argument to get info on all commands."),),
)
def command_info(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) == 2:
        return array([info_reply(cmd, c.enc) for cmd in COMMANDS.values()])
    return array([info_reply(lookup_by_name(name), c.enc) for name in args[2:]])


@command(
    "docs",
    -2,
    "loading stale",
    acl="connection",
    group=G,
    parent=P,
    summary="Get array of specific Redis command documentation",
    since="7.0.0",
    complexity="O(N) where N is the number of commands to look up",
    args="[command-name [command-name ...]]",
    tips="nondeterministic_output_order",
)
def command_docs(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) == 2:
        found = list(COMMANDS.values())
    else:
        found = [cmd for name in args[2:] if (cmd := lookup_by_name(name)) is not None]
    return c.enc.map([(bulk(cmd.name.encode()), docs_reply(cmd, c.enc)) for cmd in found])


@command(
    "list",
    -2,
    "loading stale",
    acl="connection",
    group=G,
    parent=P,
    summary="Get an array of Redis command names",
    since="7.0.0",
    complexity="O(N) where N is the total number of Redis commands",
    args="[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]",
    tips="nondeterministic_output_order",
)
def command_list(c: ClientState, args: list[bytes]) -> bytes:
    cmds = all_commands()
    if len(args) == 2:
        names = [cmd.name for cmd in cmds]
    elif len(args) == 5 and args[2].upper() == b"FILTERBY":
        kind, arg = args[3].upper(), args[4]
        if kind == b"MODULE":
            names = []  # no modules
        elif kind == b"ACLCAT":
            cat = arg.decode("utf-8", "replace").lower()
            names = [cmd.name for cmd in cmds if cat in categories(cmd)]
        elif kind == b"PATTERN":
            names = [cmd.name for cmd in cmds if stringmatch(arg, cmd.name.encode(), nocase=True)]
        else:
            raise CommandError(errors.SYNTAX)
    else:
        raise CommandError(errors.SYNTAX)
    return array([bulk(n.encode()) for n in names])


def _getkeys(c: ClientState, args: list[bytes]) -> list[tuple[bytes, list[str]]]:
    argv = args[2:]
    cmd = lookup_argv(argv)
    if cmd is None:
        raise CommandError(errors.GETKEYS_INVALID_COMMAND)
    if not has_keys(cmd):
        raise CommandError(errors.GETKEYS_NO_KEYS)
    n = len(argv)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        raise CommandError(errors.GETKEYS_BAD_ARITY)
    found = keys_and_flags(cmd, argv)
    if not found:
        if found is not None and "no_mandatory_keys" in cmd.flags:
            return []
        raise CommandError(errors.GETKEYS_BAD_ARGS)
    return [(argv[pos], flags) for pos, flags in found]


@command(
    "getkeys",
    -4,
    "loading stale",
    acl="connection",
    group=G,
    parent=P,
    summary="Extract keys given a full Redis command",
    since="2.8.13",
    complexity="O(N) where N is the number of arguments to the command",
    args="command [arg [arg ...]]",
)
def command_getkeys(c: ClientState, args: list[bytes]) -> bytes:
    return array([bulk(k) for k, _ in _getkeys(c, args)])


@command(
    "getkeysandflags",
    -4,
    "loading stale",
    acl="connection",
    group=G,
    parent=P,
    summary="Extract keys and access flags given a full Redis command",
    since="7.0.0",
    complexity="O(N) where N is the number of arguments to the command",
    args="command [arg [arg ...]]",
)
def command_getkeysandflags(c: ClientState, args: list[bytes]) -> bytes:
    enc = c.enc
    return array([array([bulk(k), _set_of_status(enc, flags)]) for k, flags in _getkeys(c, args)])


_COMMAND_HELP = [
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
]


@command(
    "help",
    2,
    "loading stale",
    acl="connection",
    group=G,
    parent=P,
    summary="Show helpful text about the different subcommands",
    since="5.0.0",
    complexity="O(1)",
)
def command_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(args[0], _COMMAND_HELP)
