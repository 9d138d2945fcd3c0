"""ACL state and enforcement: the user registry, permission checks, AUTH, protected mode.

The hot path: every client caches ``c.acl_all`` (its user's ``User.all``: may run every
command on every key and channel). The dispatcher tests that one attribute and calls
:func:`denied` only for restricted users; :func:`refresh_clients` keeps the cache right when
a user changes. EXEC's queued commands and scripts' ``redis.call`` are checked again in
``_call.call`` (:func:`call_denied`), with Redis's texts for those contexts.

Server-level hooks: :func:`install` (start-up: rename-command, requirepass, ``user`` lines /
``aclfile``, Pika's ``userpass`` / ``userblacklist``), :func:`on_connect` (new connection:
default user, protected mode), :func:`requires_auth`.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from pikadb.commands._acl_log import (
    DENIED_AUTH,
    DENIED_CHANNEL,
    DENIED_CMD,
    DENIED_KEY,
    AclLog,
)
from pikadb.commands._acl_users import (
    PUBSUB_DEFAULT,
    READ,
    WRITE,
    RuleError,
    User,
    default_user,
    has_spaces,
    merge_selector_args,
)
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.introspection import has_keys, keys_and_flags
from pikadb.commands.table import Command, rename_command
from pikadb.core import errors
from pikadb.core.glob import stringmatch
from pikadb.protocol.reply import error

log = logging.getLogger("pikadb.acl")

LIMIT_USER = b"limit"  # Pika's restricted user (userpass / userblacklist)
_WRITE_KEY_FLAGS = frozenset(["insert", "delete", "update"])
# commands whose arguments are channels: (first index, all the rest, literal match)
_CHANNEL_ARGS = {
    "publish": (1, False, False),
    "spublish": (1, False, False),
    "subscribe": (1, True, False),
    "ssubscribe": (1, True, False),
    "psubscribe": (1, True, True),
}


class AclConfigError(RuntimeError):
    """Invalid ACL configuration at start-up (the server refuses to start)."""


class AclState:
    """Users by name (``default`` always exists) and the ACL log."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.default = default_user()
        self.users: dict[bytes, User] = {b"default": self.default}
        self.log = AclLog()

    @property
    def settings(self) -> Any:
        return self.server.settings.server

    def get(self, name: bytes) -> User | None:
        return self.users.get(name)

    def sorted_users(self) -> list[User]:
        return [self.users[k] for k in sorted(self.users)]

    def add_log(
        self,
        c: ClientState,
        reason: int,
        context: str,
        obj: bytes,
        username: bytes | None = None,
        cmd: str = "",
        args: list[bytes] | None = None,
    ) -> None:
        user = username if username is not None else user_of(c).name
        max_len = getattr(self.settings, "acllog_max_len", 128)
        self.log.add(c, reason, context, obj, user, max_len, cmd, args)


def state(server: ServerState) -> AclState:
    st: AclState | None = getattr(server, "acl", None)
    if st is None:
        st = AclState(server)
        server.acl = st  # type: ignore[attr-defined]
    return st


def user_of(c: ClientState) -> User:
    u: User | None = getattr(c, "acl_user", None)
    return u if u is not None else state(c.server).default


# --- permission checks ------------------------------------------------------------------------
def _key_perm(flags: list[str]) -> int:
    need = READ if "access" in flags else 0
    if not _WRITE_KEY_FLAGS.isdisjoint(flags):
        need |= WRITE
    return need


def check(user: User, cmd: Command, args: list[bytes]) -> tuple[int, int]:
    """ACLCheckAllUserCommandPerm: (0, 0) if allowed, else (reason, argument index)."""
    relevant, last_idx = DENIED_CMD, 0
    keys: list[tuple[int, list[str]]] | None = None
    for s in user.selectors:
        reason, idx = 0, 0
        if not s.allcommands and not cmd.no_auth and cmd not in s.allowed:
            allowed = s.firstargs.get(cmd) if len(args) >= 2 else None
            pos = 2 if cmd.parent is not None else 1
            if not allowed or pos >= len(args):
                reason = DENIED_CMD
            else:
                first = args[pos].lower()
                if not any(a.lower() == first for a in allowed):
                    reason = DENIED_CMD
        if not reason and not s.allkeys and has_keys(cmd):
            if keys is None:
                keys = [k for k in (keys_and_flags(cmd, args) or []) if "not_key" not in k[1]]
            for pos, flags in keys:
                need = _key_perm(flags)
                key = args[pos]
                if not any(
                    (int(pf) & need) == need and stringmatch(pat, key)  # type: ignore[call-overload, arg-type]
                    for pat, pf in s.patterns
                ):
                    reason, idx = DENIED_KEY, pos
                    break
        if not reason and not s.allchannels and cmd.name in _CHANNEL_ARGS:
            first, rest, literal = _CHANNEL_ARGS[cmd.name]
            last = len(args) if rest else first + 1
            for j in range(first, min(last, len(args))):
                ch = args[j]
                ok = ch in s.channels if literal else any(stringmatch(p, ch) for p in s.channels)
                if not ok:
                    reason, idx = DENIED_CHANNEL, j
                    break
        if not reason:
            return 0, 0
        if reason > relevant or (reason == relevant and idx > last_idx):
            relevant, last_idx = reason, idx
    return relevant, last_idx


def _log_denial(
    c: ClientState,
    reason: int,
    idx: int,
    context: str,
    cmd: Command,
    args: list[bytes],
    running: str = "",
) -> None:
    """addACLLogEntry; ``running``: the client's current command, if not ``cmd`` (EXEC)."""
    obj = cmd.name.encode() if reason == DENIED_CMD else args[idx]
    state(c.server).add_log(c, reason, context, obj, cmd=running or cmd.name, args=args)


def denied(c: ClientState, cmd: Command, args: list[bytes]) -> str | None:
    """processCommand's ACL check for a restricted client: the NOPERM text, or None."""
    reason, idx = check(user_of(c), cmd, args)
    if not reason:
        return None
    _log_denial(c, reason, idx, "multi" if c.multi is not None else "toplevel", cmd, args)
    if reason == DENIED_CMD:
        return errors.noperm_command(cmd.name)
    if reason == DENIED_KEY:
        return errors.NOPERM_KEY
    return errors.NOPERM_CHANNEL


_lua_runtime: Any = None


def _script_caller(c: ClientState) -> tuple[ClientState, str]:
    """The client running the current script, and its command (EVAL, FCALL...)."""
    global _lua_runtime
    if _lua_runtime is None:  # (imported lazily: the Lua runtime imports _call, we are in it)
        _lua_runtime = sys.modules.get("pikadb.commands._lua_runtime")
    run = getattr(_lua_runtime, "current", None)
    if run is None:
        return c, ""
    args = getattr(run, "args", None)
    name = args[0].decode("utf-8", "replace").lower() if args else ""
    return run.caller, name


def call_denied(c: ClientState, cmd: Command, args: list[bytes], lua: bool) -> bytes | None:
    """The check ``call()`` makes for EXEC's queued commands (ACLs may have changed since
    they were queued) and for scripts' redis.call (with the caller's user)."""
    if lua:
        caller, running = _script_caller(c)
        if getattr(caller, "acl_all", True):
            return None
        reason, idx = check(user_of(caller), cmd, args)
        if not reason:
            return None
        obj = cmd.name.encode() if reason == DENIED_CMD else args[idx]
        state(c.server).add_log(caller, reason, "lua", obj, cmd=running)
        return error(errors.SCRIPT_NOPERM[reason])
    if c.multi is None:
        return None  # already checked by the dispatcher
    reason, idx = check(user_of(c), cmd, args)
    if not reason:
        return None
    _log_denial(c, reason, idx, "multi", cmd, args, "exec")
    return error(errors.NOPERM_EXEC.format(errors.NOPERM_EXEC_REASONS[reason]))


# --- clients -------------------------------------------------------------------------------------
def set_client_user(c: ClientState, user: User) -> None:
    c.acl_user = user  # type: ignore[attr-defined]
    c.acl_all = user.all  # type: ignore[attr-defined]
    c.user = user.name_str


def refresh_clients(server: ServerState, user: User) -> None:
    """A user's rules changed: its live clients follow (the dispatcher's cached flag)."""
    for c in list(server.clients.values()):
        if user_of(c) is user:
            c.acl_all = user.all  # type: ignore[attr-defined]


def kill_clients_of(server: ServerState, user: User, current: ClientState | None) -> None:
    """ACLFreeUserAndKillClients: the user is gone; its clients are disconnected (the
    current one after its reply)."""
    st = state(server)
    for c in list(server.clients.values()):
        if getattr(c, "acl_user", None) is user:
            set_client_user(c, st.default)
            c.authenticated = False
            if c is current:
                c.close_after_reply = True
            else:
                c.kill()


def kill_pubsub_clients_if_needed(server: ServerState, new: User, original: User) -> None:
    """ACLKillPubsubClientsIfNeeded: subscribers whose channels the new rules revoke."""
    if any(s.allchannels for s in new.selectors):
        return
    upcoming = [ch for s in new.selectors for ch in s.channels]
    if all(ch in upcoming for s in original.selectors for ch in s.channels):
        return
    for c in list(server.clients.values()):
        if getattr(c, "acl_user", None) is not original or not c.subscribed:
            continue
        bad = any(p not in upcoming for p in c.patterns) or any(
            not any(stringmatch(p, ch) for p in upcoming) for ch in [*c.channels, *c.shard_channels]
        )
        if bad:
            c.kill()


def authenticate(c: ClientState, username: bytes, password: bytes, command: bytes) -> bool:
    """ACLAuthenticateUser: log the client in, or log the failure (reason auth)."""
    st = state(c.server)
    user = st.get(username)
    if user is not None and user.check_password(password):
        c.authenticated = True
        set_client_user(c, user)
        return True
    context = "multi" if c.multi is not None else "toplevel"
    st.add_log(c, DENIED_AUTH, context, command, username, cmd=command.decode().lower())
    return False


def requires_auth(server: ServerState) -> bool:
    """Whether a new connection must AUTH (the default user is not ``on nopass``)."""
    d = state(server).default
    return not (d.nopass and d.enabled)


def _is_loopback(addr: str) -> bool:
    host = addr.rsplit(":", 1)[0].strip("[]")
    return (
        host.startswith("127.")
        or host in ("::1", "localhost")
        or host.startswith("::ffff:127.")
        or addr.startswith("/")
        or not host
        or host == "?"
    )


def on_connect(c: Any) -> None:
    """A new connection: the default user, then protected mode (a non-loopback client
    while the default user has no password is told why and disconnected)."""
    st = state(c.server)
    d = st.default
    set_client_user(c, d)
    c.authenticated = d.nopass and d.enabled
    if st.settings.protected_mode and d.nopass and not _is_loopback(c.addr):
        transport = getattr(c, "transport", None)
        if transport is not None:
            transport.write(("-" + errors.PROTECTED_MODE + "\r\n").encode())
        c.close()


# --- start-up: config -------------------------------------------------------------------------
def apply_rules(user: User, ops: list[bytes]) -> None:
    merged, bad = merge_selector_args(ops)
    if merged is None:
        raise RuleError(f"Unmatched parenthesis in acl selector starting at '{ops[bad]!r}'.")
    for op in merged:
        user.apply(op)


def _split_user_lines(text: str) -> list[list[bytes]]:
    out = []
    for line in text.splitlines():
        words = [w.encode("utf-8", "surrogateescape") for w in line.split()]
        if words and words[0].lower() == b"user":
            words = words[1:]
        if words:
            out.append(words)
    return out


def load_config_users(st: AclState, text: str) -> None:
    """``user`` lines of the config (ACLAppendUserForLoading + ACLLoadConfiguredUsers)."""
    seen: set[bytes] = set()
    for words in _split_user_lines(text):
        name, ops = words[0], words[1:]
        if name in seen:
            raise AclConfigError(f"user '{name.decode()}': {errors.ACL_DUPLICATE_USER}")
        seen.add(name)
        if has_spaces(name):
            raise AclConfigError("Spaces not allowed in ACL usernames")
        user = st.users.get(name)
        if user is None:
            user = User(name)
        else:
            user.apply(b"reset")
        try:
            apply_rules(user, ops)
        except RuleError as exc:
            raise AclConfigError(
                f"Error loading ACL rule for the user named '{name.decode()}': {exc.message}"
            ) from None
        st.users[name] = user


def load_file(st: AclState, path: str) -> str | None:
    """ACLLoadFromFile: every line valid or nothing changes. Returns the errors, or None."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return f"Error loading ACLs, opening file '{path}': {exc.strerror}"
    problems = []
    users: dict[bytes, User] = {}
    for i, raw in enumerate(data.split(b"\n"), 1):
        line = raw.strip(b" \t\r\n")
        if not line:
            continue
        words = [w for w in line.split(b" ") if w]
        if not words:
            continue
        if words[0] != b"user" or len(words) < 2:
            problems.append(f"{path}:{i} should start with user keyword followed by the username. ")
            continue
        name = words[1]
        if has_spaces(name):
            problems.append(
                f"'{path}:{i}: username '{name.decode()}' contains invalid characters. "
            )
            continue
        if name in users:
            problems.append(f"WARNING: Duplicate user '{name.decode()}' found on line {i}. ")
            continue
        user = users[name] = User(name)
        merged, _ = merge_selector_args(words[2:])
        if merged is None:
            problems.append(f"{path}:{i}: Unmatched parenthesis in selector definition.")
            continue
        for op in merged:
            try:
                user.apply(op.strip(b"\t\r\n"))
            except RuleError as exc:
                shown = op.decode("utf-8", "surrogateescape")
                problems.append(
                    f"{path}:{i}: Error in applying operation '{shown}': {exc.message}. "
                )
    if problems:
        return (
            "".join(problems) + "WARNING: ACL errors detected, no change to the previously "
            "active ACL rules was performed"
        )
    new_default = users.pop(b"default", None) or default_user()
    old = st.users
    st.default.copy_from(new_default)
    users[b"default"] = st.default
    st.users = users
    server = st.server
    for name, user in old.items():  # the old users are gone: their clients too
        if name != b"default":
            kill_clients_of(server, user, None)
    refresh_clients(server, st.default)
    return None


def save_file(st: AclState, path: str) -> bool:
    text = b"".join(b"user " + u.name + b" " + u.describe() + b"\n" for u in st.sorted_users())
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("ACL SAVE failed: %s", exc)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    return True


def set_default_password(st: AclState, password: str) -> None:
    """ACLUpdateDefaultUserPassword (requirepass)."""
    d = st.default
    d.apply(b"resetpass")
    d.apply(b">" + password.encode("utf-8", "surrogateescape") if password else b"nopass")
    refresh_clients(st.server, d)


def update_limit_user(st: AclState) -> None:
    """Pika 3.5's ``limit`` user: ``userpass`` logs in as it (AUTH <userpass>); it may run
    everything but the comma-separated ``userblacklist`` commands."""
    s = st.settings
    password = getattr(s, "userpass", "")
    blacklist = getattr(s, "userblacklist", "")
    user = st.users.get(LIMIT_USER)
    if not password:
        if user is not None:
            del st.users[LIMIT_USER]
            kill_clients_of(st.server, user, None)
        return
    fresh = User(LIMIT_USER)
    for op in (b"on", b">" + password.encode(), b"+@all", b"~*", b"&*"):
        fresh.apply(op)
    for name in blacklist.split(","):
        name = name.strip()
        if name:
            try:
                fresh.apply(b"-" + name.lower().encode())
            except RuleError:
                log.warning("userblacklist: unknown command '%s'", name)
    if user is None:
        st.users[LIMIT_USER] = fresh
    else:
        user.copy_from(fresh)
        refresh_clients(st.server, user)


def _rename_commands(text: str) -> None:
    import shlex

    for line in text.replace(",", "\n").splitlines():
        words = shlex.split(line)
        if not words:
            continue
        if len(words) > 2:
            raise AclConfigError(f"rename-command: expected 'OLD NEW', got {line!r}")
        try:
            rename_command(words[0], words[1] if len(words) == 2 else "")
        except ValueError as exc:
            raise AclConfigError(f"rename-command: {exc}") from None


def install(server: ServerState) -> None:
    """Start-up: rename-command, requirepass, ``user`` lines or ``aclfile``, the Pika limit
    user, and CONFIG SET listeners. Raises :class:`AclConfigError` on a bad setup."""
    st = state(server)
    s = server.settings.server
    PUBSUB_DEFAULT["allchannels"] = getattr(s, "acl_pubsub_default", "") == "allchannels"
    renames = getattr(s, "rename_command", "")
    if renames:
        _rename_commands(renames)
    if s.requirepass:
        set_default_password(st, s.requirepass)
    users, aclfile = getattr(s, "user", ""), getattr(s, "aclfile", "")
    if users and aclfile:
        raise AclConfigError(
            "Configuring Redis with users defined in redis.conf and at the same setting an "
            "ACL file path is invalid. This setup is very likely to lead to configuration "
            "errors and security holes, please define either an ACL file or declare users "
            "directly in your redis.conf, but not both."
        )
    if users:
        load_config_users(st, users)
    if aclfile:
        problems = load_file(st, aclfile)
        if problems:
            raise AclConfigError(f"Aborting startup because of ACL errors: {problems}")
    update_limit_user(st)
    cfg = getattr(server, "config", None)
    if cfg is None:
        return
    listeners = {
        "requirepass": lambda v: set_default_password(st, str(v)),
        "userpass": lambda v: update_limit_user(st),
        "userblacklist": lambda v: update_limit_user(st),
        "acllog-max-len": lambda v: st.log.trim(int(v)),
        "acl-pubsub-default": lambda v: PUBSUB_DEFAULT.__setitem__(
            "allchannels", v == "allchannels"
        ),
    }
    for name, fn in listeners.items():
        try:
            cfg.on_change(name, fn)
        except KeyError:
            continue


def reset_client(c: ClientState) -> None:
    """RESET (clientSetDefaultAuth): back to the default user, authenticated only if it
    needs no password."""
    d = state(c.server).default
    set_client_user(c, d)
    c.authenticated = d.nopass and d.enabled


def auth_required(c: ClientState) -> bool:
    """authRequired for a client that never authenticated: only while the default user
    needs a password (a client connected then may run commands once it doesn't)."""
    return requires_auth(c.server)


def pika_user(c: ClientState, username: bytes, password: bytes) -> bytes:
    """Pika's AUTH: the ``default`` user's login with ``userpass`` (not the admin password)
    logs in as the ``limit`` user instead."""
    if username != b"default":
        return username
    st = state(c.server)
    limit = st.users.get(LIMIT_USER)
    if limit is None or st.default.check_password(password) or not limit.check_password(password):
        return username
    return LIMIT_USER
