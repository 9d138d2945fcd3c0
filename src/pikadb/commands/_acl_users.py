"""ACL users and their rules (Redis 7.0 ``acl.c``): the user model, the rule parser
(``ACLSetUser`` / ``ACLSetSelector``) and the descriptions ACL LIST / GETUSER / SAVE print.

A :class:`User` has flags, password hashes and a list of :class:`Selector` s, the first
being its *root* selector (the rules given outside parentheses). A selector holds the set
of commands it may run (Redis's command bitmap: here a set of :class:`Command` objects from
the ONE command table, subcommands included), first-args allowed for otherwise blocked
commands (``+select|0``), key patterns with read/write permissions and channel patterns.

Rules name commands by their original names: ``rename-command`` doesn't change ACLs, as in
Redis (``table.lookup_original``). ``User.all`` is the dispatcher's fast path: True when the
root selector may run every command on every key and channel.
"""

from __future__ import annotations

import hashlib

from pikadb.commands.introspection import categories as command_categories
from pikadb.commands.table import CATEGORIES, Command, lookup_original, original_commands

# key pattern permissions (ACL_READ_PERMISSION / ACL_WRITE_PERMISSION)
READ, WRITE = 1, 2
ALL_PERMS = READ | WRITE

# rule errors (ACLSetUserStringError)
E_UNKNOWN = "Unknown command or category name in ACL"
E_SYNTAX = "Syntax error"
E_ALLKEYS = (
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not "
    "have any effect. Try 'resetkeys' to start with an empty list of patterns"
)
E_ALLCHANNELS = (
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does "
    "not have any effect. Try 'resetchannels' to start with an empty list of channels"
)
E_NOPASS = "The password you are trying to remove from the user does not exist"
E_BADHASH = (
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
    "characters"
)
E_DUPLICATE = "Duplicate user found. A user can only be defined once in config files"
E_CHILD = "Allowing first-arg of a subcommand is not supported"

# user flags in the order ACL LIST / GETUSER print them
USER_FLAG_ORDER = ("on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload")
_HEX = frozenset(b"0123456789abcdef")
_SPACES = frozenset(b" \t\n\v\f\r\x00")

# acl-pubsub-default: whether new selectors start with allchannels (kept by _acl_check)
PUBSUB_DEFAULT = {"allchannels": False}


class RuleError(Exception):
    """A rule could not be applied; ``message`` is Redis's explanation."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def hash_password(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def has_spaces(s: bytes) -> bool:
    """ACLStringHasSpaces: whitespace or NUL (not allowed in names and patterns)."""
    return any(b in _SPACES for b in s)


# --- the command universe --------------------------------------------------------------
_CATS: dict[int, frozenset[str]] = {}


def cats(cmd: Command) -> frozenset[str]:
    """The command's ACL categories (containers are @slow, as in Redis)."""
    found = _CATS.get(id(cmd))
    if found is None:
        found = _CATS[id(cmd)] = frozenset(command_categories(cmd))
    return found


def every_command() -> list[Command]:
    """All commands and subcommands, by original name (the bitmap's universe)."""
    out: list[Command] = []
    for cmd in original_commands():
        out.append(cmd)
        out.extend(cmd.subcommands.values())
    return out


_MEMBERS: list[object] = [None, {}]  # [table size it was built for, members by category]


def category_members() -> dict[str, frozenset[Command]]:
    """Commands and subcommands of each category (ACLCountCategoryBitsForSelector)."""
    universe = every_command()
    if _MEMBERS[0] != len(universe):
        _MEMBERS[1] = {cat: frozenset(c for c in universe if cat in cats(c)) for cat in CATEGORIES}
        _MEMBERS[0] = len(universe)
    return _MEMBERS[1]  # type: ignore[return-value]


# --- selectors ---------------------------------------------------------------------------
class Selector:
    __slots__ = (
        "allchannels",
        "allcommands",
        "allkeys",
        "allowed",
        "channels",
        "firstargs",
        "future",
        "patterns",
        "root",
    )

    def __init__(self, root: bool = False) -> None:
        self.root = root
        self.allcommands = False  # SELECTOR_FLAG_ALLCOMMANDS: skip the command test
        self.future = False  # the reserved bit: set by +@all only ("+@all" in descriptions)
        self.allowed: set[Command] = set()
        self.firstargs: dict[Command, list[bytes]] = {}
        self.allkeys = False
        self.patterns: list[list[object]] = []  # [pattern bytes, READ|WRITE]
        self.allchannels = PUBSUB_DEFAULT["allchannels"]
        self.channels: list[bytes] = []

    def copy(self) -> Selector:
        s = Selector(self.root)
        s.allcommands = self.allcommands
        s.future = self.future
        s.allowed = set(self.allowed)
        s.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        s.allkeys = self.allkeys
        s.patterns = [list(p) for p in self.patterns]
        s.allchannels = self.allchannels
        s.channels = list(self.channels)
        return s

    # -- command bits --
    def _bit(self, cmd: Command, allow: bool) -> None:
        if allow:
            self.allowed.add(cmd)
        else:
            self.allowed.discard(cmd)
            self.allcommands = False

    def change_perm(self, cmd: Command, allow: bool) -> None:
        """ACLChangeSelectorPerm: a command (and, for a container, its subcommands)."""
        self._bit(cmd, allow)
        self.firstargs.pop(cmd, None)
        for sub in cmd.subcommands.values():
            self._bit(sub, allow)

    def set_category(self, category: str, allow: bool) -> None:
        for cmd in original_commands():
            if category in cats(cmd):
                self.change_perm(cmd, allow)
            for sub in cmd.subcommands.values():
                if category in cats(sub):
                    self.change_perm(sub, allow)

    def set_all(self, allow: bool) -> None:
        if allow:
            self.allowed = set(every_command())
        else:
            self.allowed = set()
        self.allcommands = self.future = allow
        self.firstargs = {}

    # -- rules --
    def apply(self, op: bytes) -> None:
        """ACLSetSelector: one rule about commands, keys or channels."""
        low = op.lower()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in (b"allcommands", b"+@all"):
            self.set_all(True)
        elif low in (b"nocommands", b"-@all"):
            self.set_all(False)
        elif op[:1] in (b"~", b"%"):
            self._key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError(E_ALLCHANNELS)
            pat = op[1:]
            if has_spaces(pat):
                raise RuleError(E_SYNTAX)
            if pat not in self.channels:
                self.channels.append(pat)
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow(op[1:])
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = lookup_original(op[1:])
            if cmd is None:
                raise RuleError(E_UNKNOWN)
            self.change_perm(cmd, False)
        elif op[:2] in (b"+@", b"-@"):
            category = op[2:].decode("utf-8", "replace").lower()
            if category not in CATEGORIES:
                raise RuleError(E_UNKNOWN)
            self.set_category(category, op[:1] == b"+")
        else:
            raise RuleError(E_SYNTAX)

    def _key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise RuleError(E_ALLKEYS)
        flags = 0
        offset = 1
        if op[:1] == b"%":
            n = len(op)
            while offset < n:
                ch = op[offset : offset + 1].upper()
                if ch == b"R" and not flags & READ:
                    flags |= READ
                elif ch == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif ch == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(E_SYNTAX)
                offset += 1
        else:
            flags = ALL_PERMS
        pat = op[offset:]
        if has_spaces(pat):
            raise RuleError(E_SYNTAX)
        for known in self.patterns:
            if known[0] == pat:
                known[1] = int(known[1]) | flags  # type: ignore[call-overload]
                break
        else:
            self.patterns.append([pat, flags])
        self.allkeys = False

    def _allow(self, name: bytes) -> None:
        if b"|" not in name:
            cmd = lookup_original(name)
            if cmd is None:
                raise RuleError(E_UNKNOWN)
            self.change_perm(cmd, True)
            return
        head, _, sub = name.rpartition(b"|")
        cmd = lookup_original(head)
        if cmd is None:
            raise RuleError(E_UNKNOWN)
        if cmd.parent is not None:
            raise RuleError(E_CHILD)
        if not sub:
            raise RuleError(E_SYNTAX)
        if cmd.subcommands:
            found = lookup_original(name)
            if found is None:
                raise RuleError(E_UNKNOWN)
            self.change_perm(found, True)
            return
        allowed = self.firstargs.setdefault(cmd, [])
        if not any(a.lower() == sub.lower() for a in allowed):
            allowed.append(sub)

    # -- descriptions --
    def describe_commands(self) -> str:
        """ACLDescribeSelectorCommandRules: +@all/-@all, best-fit categories, then single
        commands, so that the rules rebuild exactly this selector's command set."""
        additive = not self.future
        fake = Selector()
        fake.set_all(not additive)
        rules = ["-@all" if additive else "+@all"]
        temp = set(self.allowed)
        applied: set[str] = set()
        members = category_members()
        while True:
            best = None
            mindiff, maxsame = 1 << 62, 0
            for category in CATEGORIES:
                if category in applied:
                    continue
                group = members[category]
                on = len(group & temp)
                off = len(group) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = category, diff, same
            if best is None:
                break
            fake.set_category(best, additive)
            probe = Selector()
            probe.allowed = temp
            probe.set_category(best, not additive)
            temp = probe.allowed
            rules.append(("+@" if additive else "-@") + best)
            applied.add(best)
        for cmd in original_commands():
            self._describe_single(cmd, fake, rules)
        return " ".join(rules)

    def _describe_single(self, cmd: Command, fake: Selector, rules: list[str]) -> None:
        userbit = cmd in self.allowed
        if userbit != (cmd in fake.allowed):
            rules.append(("+" if userbit else "-") + cmd.name)
            fake.change_perm(cmd, userbit)
        for sub in cmd.subcommands.values():
            self._describe_single(sub, fake, rules)
        if not userbit:
            for arg in self.firstargs.get(cmd, ()):
                rules.append(f"+{cmd.name}|{arg.decode('utf-8', 'surrogateescape')}")

    def key_patterns(self) -> list[bytes]:
        out = []
        for pat, flags in self.patterns:
            prefix = {ALL_PERMS: b"~", READ: b"%R~", WRITE: b"%W~"}.get(int(flags), b"~")  # type: ignore[call-overload]
            out.append(prefix + pat)  # type: ignore[operator]
        return out

    def describe(self) -> bytes:
        """ACLDescribeSelector: keys, channels, command rules (ACL LIST format)."""
        parts: list[bytes] = []
        if self.allkeys:
            parts.append(b"~*")
        else:
            parts.extend(self.key_patterns())
        if self.allchannels:
            parts.append(b"&*")
        else:
            parts.append(b"resetchannels")
            parts.extend(b"&" + ch for ch in self.channels)
        parts.append(self.describe_commands().encode("utf-8", "surrogateescape"))
        return b" ".join(parts)

    def unrestricted(self) -> bool:
        return self.allcommands and self.allkeys and self.allchannels


# --- users ---------------------------------------------------------------------------------
class User:
    __slots__ = ("all", "enabled", "name", "nopass", "passwords", "sanitize", "selectors")

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize = ""  # "" | "skip-sanitize-payload" | "sanitize-payload"
        self.passwords: list[str] = []  # SHA-256 hex
        self.selectors: list[Selector] = [Selector(root=True)]
        self.all = False

    @property
    def name_str(self) -> str:
        return self.name.decode("utf-8", "surrogateescape")

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy_from(self, other: User) -> None:
        """ACLCopyUser: take ``other``'s rules (the name stays)."""
        self.enabled = other.enabled
        self.nopass = other.nopass
        self.sanitize = other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]
        self.refresh()

    def clone(self, name: bytes | None = None) -> User:
        u = User(self.name if name is None else name)
        u.copy_from(self)
        return u

    def refresh(self) -> None:
        self.all = self.selectors[0].unrestricted()

    def flags(self) -> list[str]:
        out = ["on" if self.enabled else "off"]
        if self.nopass:
            out.append("nopass")
        if self.sanitize:
            out.append(self.sanitize)
        return out

    def apply(self, op: bytes) -> None:
        """ACLSetUser: one rule (raises :class:`RuleError`)."""
        try:
            self._apply(op)
        finally:
            self.refresh()

    def _apply(self, op: bytes) -> None:
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.enabled = True
        elif low == b"off":
            self.enabled = False
        elif low == b"skip-sanitize-payload":
            self.sanitize = "skip-sanitize-payload"
        elif low == b"sanitize-payload":
            self.sanitize = "sanitize-payload"
        elif low == b"nopass":
            self.nopass = True
            self.passwords = []
        elif low == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            digest = hash_password(op[1:]) if op[:1] == b">" else _checked_hash(op[1:])
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            digest = hash_password(op[1:]) if op[:1] == b"<" else _checked_hash(op[1:])
            if digest not in self.passwords:
                raise RuleError(E_NOPASS)
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            selector = Selector()
            for rule in op[1:-1].split():
                selector.apply(rule)
            self.selectors.append(selector)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            self.nopass = False
            self.passwords = []
            root = self.selectors[0]
            root.apply(b"resetkeys")
            root.apply(b"resetchannels")
            if PUBSUB_DEFAULT["allchannels"]:
                root.apply(b"allchannels")
            self.enabled = False
            self.sanitize = "sanitize-payload"
            del self.selectors[1:]
            root.apply(b"-@all")
        else:
            self.selectors[0].apply(op)

    def check_password(self, password: bytes) -> bool:
        """ACLCheckUserCredentials (the user exists)."""
        if not self.enabled:
            return False
        if self.nopass:
            return True
        return hash_password(password) in self.passwords

    def describe(self) -> bytes:
        """ACLDescribeUser: flags, #hashes, root selector, (other selectors)."""
        out = b" ".join(f.encode() for f in self.flags()) + b" "
        for digest in self.passwords:
            out += b"#" + digest.encode() + b" "
        for selector in self.selectors:
            if selector.root:
                out += selector.describe()
            else:
                out += b" (" + selector.describe() + b")"
        return out


def _checked_hash(text: bytes) -> str:
    if len(text) != 64 or any(b not in _HEX for b in text):
        raise RuleError(E_BADHASH)
    return text.decode()


def merge_selector_args(ops: list[bytes]) -> tuple[list[bytes] | None, int]:
    """ACLMergeSelectorArguments: join "(+get" "~x)" into "(+get ~x)". Returns (merged,
    -1) or (None, index of the unmatched opening argument)."""
    merged: list[bytes] = []
    start = -1
    current = b""
    for i, op in enumerate(ops):
        if op[:1] == b"(" and op[-1:] != b")":
            current, start = op, i
            continue
        if start != -1:
            current += b" " + op
            if op[-1:] == b")":
                merged.append(current)
                start = -1
            continue
        merged.append(op)
    if start != -1:
        return None, start
    return merged, -1


def default_user() -> User:
    """ACLCreateDefaultUser: +@all ~* &* on nopass."""
    u = User(b"default")
    for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
        u.apply(op)
    return u
