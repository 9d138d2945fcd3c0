"""Secret arguments hidden from MONITOR and SLOWLOG as ``(redacted)``, as Redis 7.0's
redactClientCommandArgument callers do: AUTH's arguments, HELLO ... AUTH <user> <pass>, MIGRATE
... AUTH <pass> / AUTH2 <user> <pass>, CONFIG SET of a sensitive setting (requirepass...),
ACL SETUSER's rules."""

from __future__ import annotations

from pikadb.commands.table import Command
from pikadb.config.table import lookup as config_lookup

REDACTED = b"(redacted)"


def _auth_args(args: list[bytes]) -> list[int]:
    return list(range(1, len(args)))


def _hello_args(args: list[bytes]) -> list[int]:
    out: list[int] = []
    j = 2
    while j < len(args):
        opt = args[j].lower()
        more = len(args) - j - 1
        if opt == b"auth" and more >= 2:
            out += [j + 1, j + 2]
            j += 3
        elif opt == b"setname" and more >= 1:
            j += 2
        else:
            break
    return out


def _migrate_args(args: list[bytes]) -> list[int]:
    out: list[int] = []
    j = 6
    while j < len(args):
        opt = args[j].lower()
        more = len(args) - j - 1
        if opt == b"auth" and more >= 1:
            out.append(j + 1)
            j += 2
        elif opt == b"auth2" and more >= 2:
            out += [j + 1, j + 2]
            j += 3
        elif opt == b"keys":
            break
        else:
            j += 1
    return out


def _config_set_args(args: list[bytes]) -> list[int]:
    out: list[int] = []
    for j in range(2, len(args) - 1, 2):
        entry = config_lookup(args[j].decode("utf-8", "surrogateescape"))
        if entry is not None and entry.sensitive:
            out.append(j + 1)
    return out


def _acl_setuser_args(args: list[bytes]) -> list[int]:
    return list(range(2, len(args)))


_REDACT = {
    "auth": _auth_args,
    "hello": _hello_args,
    "migrate": _migrate_args,
    "config|set": _config_set_args,
    "acl|setuser": _acl_setuser_args,
}


def redacted(cmd: Command | None, args: list[bytes]) -> list[bytes]:
    """``args`` with secret arguments replaced by ``(redacted)`` (MONITOR, SLOWLOG)."""
    if cmd is None:
        return args
    finder = _REDACT.get(cmd.name)
    if finder is None:
        return args
    hide = finder(args)
    if not hide:
        return args
    out = list(args)
    for j in hide:
        out[j] = REDACTED
    return out
