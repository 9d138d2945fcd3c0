"""The command table: every command declared ONCE, with the metadata Redis keeps for it.

Dispatch (lookup, arity, flags), COMMAND / COMMAND INFO / COMMAND DOCS / GETKEYS, ACL
categories and the cluster router all read this table; there is no second list.

Flags (Redis's ``CMD_*``, written as words):

    write       may modify the keyspace            readonly    only reads keys
    denyoom     may grow memory                    admin       administrative (also @dangerous)
    pubsub      pub/sub related                    noscript    not allowed from scripts
    blocking    may block the client               loading     allowed while loading
    stale       allowed on a replica with a broken link
    skip_monitor / skip_slowlog  not shown in MONITOR / SLOWLOG
    fast        O(1) or O(log N), never blocks the server (ACL @fast; others get @slow)
    no_auth     allowed before AUTH                no_multi    not allowed inside MULTI
    allow_busy  allowed while a script is busy     may_replicate  may write the binlog
    no_mandatory_keys  keys are optional (first_key may be absent)

ACL categories are the declared ones plus those implied by flags, as Redis does:
write -> @write, readonly -> @read (unless @dangerous...), admin -> @admin @dangerous,
pubsub -> @pubsub, fast -> @fast else @slow, blocking -> @blocking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Any, list[bytes]], Any]
KeyFinder = Callable[[list[bytes]], list[int]]

KNOWN_FLAGS = frozenset(
    [
        "write",
        "readonly",
        "denyoom",
        "admin",
        "pubsub",
        "noscript",
        "blocking",
        "loading",
        "stale",
        "skip_monitor",
        "skip_slowlog",
        "fast",
        "no_auth",
        "no_multi",
        "allow_busy",
        "may_replicate",
        "no_mandatory_keys",
        "sort_for_script",
    ]
)
# ACL categories, in the order Redis prints them (COMMAND INFO, ACL CAT).
CATEGORIES = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
    "connection", "transaction", "scripting",
)  # fmt: skip
KNOWN_CATEGORIES = frozenset(CATEGORIES)
# Buckets of Command.hist: one per bit length of a duration in microseconds (0..63).
HIST_BUCKETS = 64


@dataclass(eq=False, slots=True)
class Command:
    name: str  # lower case; subcommands are "parent|sub"
    arity: int  # Redis convention: N exact, -N at least N (the name counts)
    flags: frozenset[str]
    first_key: int
    last_key: int
    key_step: int
    categories: frozenset[str]
    handler: Handler | None
    group: str
    summary: str = ""
    since: str = "1.0.0"
    complexity: str = ""
    arguments: tuple[str, ...] = ()  # argument names, for COMMAND DOCS
    key_finder: KeyFinder | None = None  # for keys that (first, last, step) can't describe
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    parent: Command | None = None
    # statistics (INFO commandstats), mutated by the dispatcher
    calls: int = 0
    usec: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0
    # --- latency histogram (pikadb.web /metrics; bumped once per call by server/dispatch.py):
    # hist[i] counts calls of d whole microseconds with d.bit_length() == i, i.e. d < 2**i us.
    hist: list[int] = field(default_factory=lambda: [0] * HIST_BUCKETS)
    # --- end latency histogram
    # cached for the hot path
    is_write: bool = False
    no_auth: bool = False
    min_args: int = 0
    # Redis fires "keymiss" from lookupKeyRead: read-only commands with keys (OBJECT looks
    # up with LOOKUP_NONOTIFY)
    fires_keymiss: bool = False
    # introspection metadata (COMMAND INFO / DOCS / GETKEYSANDFLAGS)
    tips: tuple[str, ...] = ()  # e.g. ("request_policy:all_shards", "response_policy:agg_sum")
    key_specs: tuple[KeySpec, ...] = ()  # explicit key specs; () -> derived from keys=
    key_flags: str = ""  # flags of the derived key spec, e.g. "RW access update"
    history: tuple[tuple[str, str], ...] = ()  # (version, change) for COMMAND DOCS

    @property
    def full_name(self) -> str:
        return self.name

    def key_positions(self, args: list[bytes]) -> list[int]:
        """Indexes of key arguments in ``args`` (args[0] is the command name)."""
        if self.key_finder is not None:
            return self.key_finder(args)
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(args) + self.last_key
        last = min(last, len(args) - 1)
        return list(range(self.first_key, last + 1, self.key_step or 1))

    def reset_stats(self) -> None:
        self.calls = self.usec = self.rejected_calls = self.failed_calls = 0
        self.hist = [0] * HIST_BUCKETS  # latency histogram (pikadb.web)
        for sub in self.subcommands.values():
            sub.reset_stats()


COMMANDS: dict[bytes, Command] = {}


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One Redis 7 key specification (COMMAND INFO / GETKEYSANDFLAGS), for commands whose
    keys ``keys=(first, last, step)`` + ``key_flags`` can't describe (e.g. SMOVE, ZUNIONSTORE).

    ``flags``: "RO|RW|OW|RM access update insert delete not_key incomplete variable_flags".
    begin_search: ``index`` (> 0) or ``keyword`` (+ ``startfrom``); neither -> unknown.
    find_keys: ``find`` = "range" (``lastkey``, ``keystep``, ``limit``), "keynum"
    (``keynumidx``, ``firstkey``, ``keystep``) or "unknown".
    """

    flags: str
    index: int = 0
    keyword: str = ""
    startfrom: int = 1
    find: str = "range"
    lastkey: int = 0
    keystep: int = 1
    limit: int = 0
    keynumidx: int = 0
    firstkey: int = 1
    notes: str = ""


def _categories(flags: frozenset[str], declared: str) -> frozenset[str]:
    cats = set(declared.split())
    unknown = cats - KNOWN_CATEGORIES
    if unknown:
        raise ValueError(f"unknown ACL categories {sorted(unknown)}")
    if "write" in flags:
        cats.add("write")
    if "readonly" in flags and "admin" not in flags:
        cats.add("read")
    if "admin" in flags:
        cats |= {"admin", "dangerous"}
    if "pubsub" in flags:
        cats.add("pubsub")
    if "blocking" in flags:
        cats.add("blocking")
    cats.add("fast" if "fast" in flags else "slow")
    return frozenset(cats)


def command(
    name: str,
    arity: int,
    flags: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    acl: str = "",
    group: str = "generic",
    summary: str = "",
    since: str = "1.0.0",
    complexity: str = "",
    args: str = "",
    key_finder: KeyFinder | None = None,
    parent: str | None = None,
    tips: str = "",
    key_specs: tuple[KeySpec, ...] = (),
    key_flags: str = "",
    history: tuple[tuple[str, str], ...] = (),
) -> Callable[[Handler], Handler]:
    """Declare a command (or, with ``parent``, a subcommand) and register its handler."""
    flagset = frozenset(flags.split())
    bad = flagset - KNOWN_FLAGS
    if bad:
        raise ValueError(f"{name}: unknown flags {sorted(bad)}")

    def register(fn: Handler) -> Handler:
        cmd = Command(
            name=name.lower() if parent is None else f"{parent.lower()}|{name.lower()}",
            arity=arity,
            flags=flagset,
            first_key=keys[0],
            last_key=keys[1],
            key_step=keys[2],
            categories=_categories(flagset, acl),
            handler=fn,
            group=group,
            summary=summary,
            since=since,
            complexity=complexity,
            arguments=tuple(args.split()) if args else (),
            key_finder=key_finder,
            is_write="write" in flagset,
            no_auth="no_auth" in flagset,
            min_args=abs(arity),
            fires_keymiss="readonly" in flagset
            and (keys[0] > 0 or key_finder is not None)
            and parent != "object",
            tips=tuple(tips.split()),
            key_specs=key_specs,
            key_flags=key_flags,
            history=history,
        )
        if parent is None:
            if name.lower().encode() in COMMANDS:
                raise ValueError(f"command {name} declared twice")
            COMMANDS[name.lower().encode()] = cmd
        else:
            owner = COMMANDS[parent.lower().encode()]
            cmd.parent = owner
            owner.subcommands[name.lower().encode()] = cmd
        return fn

    return register


def container(
    name: str,
    arity: int = -2,
    group: str = "server",
    summary: str = "",
    since: str = "1.0.0",
    acl: str = "",
    complexity: str = "Depends on subcommand.",
) -> None:
    """Declare a command that only dispatches to subcommands (CONFIG, CLIENT, OBJECT...)."""
    COMMANDS[name.lower().encode()] = Command(
        name=name.lower(),
        arity=arity,
        flags=frozenset(),
        first_key=0,
        last_key=0,
        key_step=0,
        categories=frozenset(acl.split()),
        handler=None,
        group=group,
        summary=summary,
        since=since,
        complexity=complexity,
        min_args=abs(arity),
    )


def lookup(args: list[bytes]) -> Command | None:
    """The command (or subcommand) ``args`` names, or None."""
    cmd = COMMANDS.get(args[0].lower())
    if cmd is not None and cmd.subcommands and len(args) > 1:
        return cmd.subcommands.get(args[1].lower(), cmd)
    return cmd


# --- rename-command (ACL: commands/_acl_*.py) ---------------------------------------------
# Commands moved by ``rename-command OLD NEW`` (NEW "" disables), by original name. The
# Command keeps its original ``name``: ACL rules, INFO commandstats and ACL LOG use it, as
# Redis keeps ``server.orig_commands`` for ACLs; dispatch and COMMAND see the new name only.
RENAMED: dict[bytes, Command] = {}


def rename_command(old: str, new: str) -> None:
    """Rename a top-level command in the table (``new`` empty: remove it). Raises
    ValueError when ``old`` is not a command or ``new`` already is one."""
    cmd = COMMANDS.get(old.lower().encode())
    if cmd is None:
        raise ValueError(f"no such command '{old}'")
    target = new.lower().encode()
    if target and target in COMMANDS:
        raise ValueError(f"command '{new}' already exists")
    del COMMANDS[old.lower().encode()]
    RENAMED[cmd.name.encode()] = cmd
    if target:
        COMMANDS[target] = cmd


def original_commands() -> list[Command]:
    """Every top-level command, renamed or disabled ones included (ACL's universe)."""
    out = list(COMMANDS.values())
    moved = {id(c) for c in out}
    out.extend(c for c in RENAMED.values() if id(c) not in moved)
    return out


def lookup_original(name: bytes) -> Command | None:
    """ACLLookupCommand: ``get`` or ``config|get`` by original (un-renamed) name."""
    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = COMMANDS.get(parts[0])
    if cmd is None or cmd.name.encode() != parts[0]:
        cmd = RENAMED.get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    if not cmd.subcommands:
        return None
    return cmd.subcommands.get(parts[1])
