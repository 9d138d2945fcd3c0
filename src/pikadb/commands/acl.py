"""ACL: SETUSER / GETUSER / DELUSER / LIST / USERS / WHOAMI / CAT / GENPASS / LOG / DRYRUN /
SAVE / LOAD / HELP, as Redis 7.0 (``aclCommand``). Users and rules: :mod:`._acl_users`;
the registry, checks and files: :mod:`._acl_check`; the log: :mod:`._acl_log`."""

from __future__ import annotations

import secrets

from pikadb.commands import _acl_check as A
from pikadb.commands._acl_users import RuleError, Selector, User, cats, every_command, has_spaces
from pikadb.commands._acl_users import merge_selector_args as merge
from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.introspection import help_reply, lookup_argv
from pikadb.commands.table import CATEGORIES, command, container
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, array, bulk, integer

G = "server"
P = "acl"
_ADMIN = "admin noscript loading stale"
_PLAIN = "noscript loading stale"

container("acl", -2, group=G, summary="A container for Access List Control commands", since="6.0.0")


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


@command(
    "setuser",
    -3,
    _ADMIN,
    group=G,
    parent=P,
    summary="Modify or create the rules for a specific ACL user",
    since="6.0.0",
    complexity="O(N). Where N is the number of rules provided.",
    args="username [rule [rule ...]]",
)
def acl_setuser(c: ClientState, args: list[bytes]) -> bytes:
    name = args[2]
    if has_spaces(name):
        raise CommandError(errors.ACL_USERNAME_SPACES)
    ops, bad = merge(args[3:])
    if ops is None:
        raise CommandError(errors.acl_unmatched_paren(_text(args[3 + bad])))
    st = A.state(c.server)
    user = st.get(name)
    temp = user.clone() if user is not None else User(name)
    for op in ops:
        try:
            temp.apply(op)
        except RuleError as exc:
            raise CommandError(errors.acl_setuser_error(_text(op), exc.message)) from None
    if user is None:
        st.users[name] = temp
        return OK
    A.kill_pubsub_clients_if_needed(c.server, temp, user)
    user.copy_from(temp)
    A.refresh_clients(c.server, user)
    return OK


@command(
    "deluser",
    -3,
    _ADMIN,
    group=G,
    parent=P,
    summary="Remove the specified ACL users and the associated rules",
    since="6.0.0",
    complexity="O(1) amortized time considering the typical user.",
    args="username [username ...]",
)
def acl_deluser(c: ClientState, args: list[bytes]) -> bytes:
    if any(name == b"default" for name in args[2:]):
        raise CommandError(errors.ACL_DEFAULT_UNDELETABLE)
    st = A.state(c.server)
    deleted = 0
    for name in args[2:]:
        user = st.users.pop(name, None)
        if user is not None:
            A.kill_clients_of(c.server, user, c)
            deleted += 1
    return integer(deleted)


def _selector_map(c: ClientState, s: Selector) -> list[tuple[bytes, bytes]]:
    keys = b"~*" if s.allkeys else b" ".join(s.key_patterns())
    channels = b"&*" if s.allchannels else b" ".join(b"&" + ch for ch in s.channels)
    return [
        (bulk(b"commands"), bulk(s.describe_commands().encode("utf-8", "surrogateescape"))),
        (bulk(b"keys"), bulk(keys)),
        (bulk(b"channels"), bulk(channels)),
    ]


@command(
    "getuser",
    3,
    _ADMIN,
    group=G,
    parent=P,
    summary="Get the rules for a specific ACL user",
    since="6.0.0",
    complexity="O(N). Where N is the number of password, command and pattern rules that "
    "the user has.",
    args="username",
)
def acl_getuser(c: ClientState, args: list[bytes]) -> bytes:
    user = A.state(c.server).get(args[2])
    if user is None:
        return c.enc.null
    enc = c.enc
    flags = user.flags()
    pairs = [
        (bulk(b"flags"), enc.set_header(len(flags)) + b"".join(bulk(f.encode()) for f in flags)),
        (bulk(b"passwords"), array([bulk(p.encode()) for p in user.passwords])),
        *_selector_map(c, user.root),
        (
            bulk(b"selectors"),
            array([enc.map(_selector_map(c, s)) for s in user.selectors[1:]]),
        ),
    ]
    return enc.map(pairs)


@command(
    "list",
    2,
    _ADMIN,
    group=G,
    parent=P,
    summary="List the current ACL rules in ACL config file format",
    since="6.0.0",
    complexity="O(N). Where N is the number of configured users.",
)
def acl_list(c: ClientState, args: list[bytes]) -> bytes:
    users = A.state(c.server).sorted_users()
    return array([bulk(b"user " + u.name + b" " + u.describe()) for u in users])


@command(
    "users",
    2,
    _ADMIN,
    group=G,
    parent=P,
    summary="List the username of all the configured ACL users",
    since="6.0.0",
    complexity="O(N). Where N is the number of configured users.",
)
def acl_users(c: ClientState, args: list[bytes]) -> bytes:
    return array([bulk(u.name) for u in A.state(c.server).sorted_users()])


@command(
    "whoami",
    2,
    _PLAIN,
    group=G,
    parent=P,
    summary="Return the name of the user associated to the current connection",
    since="6.0.0",
    complexity="O(1)",
)
def acl_whoami(c: ClientState, args: list[bytes]) -> bytes:
    return bulk(A.user_of(c).name)


@command(
    "cat",
    -2,
    _PLAIN,
    group=G,
    parent=P,
    summary="List the ACL categories or the commands inside a category",
    since="6.0.0",
    complexity="O(1) since the categories and commands are a fixed set.",
    args="[categoryname]",
)
def acl_cat(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) == 2:
        return array([bulk(x.encode()) for x in CATEGORIES])
    if len(args) > 3:
        raise CommandError(errors.subcommand_syntax(_text(args[1]), "acl"))
    category = _text(args[2]).lower()
    if category not in CATEGORIES:
        raise CommandError(errors.acl_unknown_category(_text(args[2])))
    return array([bulk(cmd.name.encode()) for cmd in every_command() if category in cats(cmd)])


@command(
    "genpass",
    -2,
    _PLAIN,
    group=G,
    parent=P,
    summary="Generate a pseudorandom secure password to use for ACL users",
    since="6.0.0",
    complexity="O(1)",
    args="[bits]",
)
def acl_genpass(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 3:
        raise CommandError(errors.subcommand_syntax(_text(args[1]), "acl"))
    bits = parse_int(args[2]) if len(args) == 3 else 256
    if bits <= 0 or bits > 4096:
        raise CommandError(errors.ACL_GENPASS_BITS)
    chars = (bits + 3) // 4
    return bulk(secrets.token_hex((chars + 1) // 2)[:chars].encode())


@command(
    "log",
    -2,
    _ADMIN,
    group=G,
    parent=P,
    summary="List latest events denied because of ACLs in place",
    since="6.0.0",
    complexity="O(N) with N being the number of entries shown.",
    args="[count|RESET]",
)
def acl_log(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 3:
        raise CommandError(errors.subcommand_syntax(_text(args[1]), "acl"))
    st = A.state(c.server)
    count = 10
    if len(args) == 3:
        if args[2].lower() == b"reset":
            st.log.reset()
            return OK
        count = max(parse_int(args[2]), 0)
    return st.log.reply(c, count)


@command(
    "dryrun",
    -4,
    _ADMIN,
    group=G,
    parent=P,
    summary="Returns whether the user can execute the given command without executing the command.",
    since="7.0.0",
    complexity="O(1).",
    args="username command [arg [arg ...]]",
)
def acl_dryrun(c: ClientState, args: list[bytes]) -> bytes:
    user = A.state(c.server).get(args[2])
    if user is None:
        raise CommandError(errors.acl_user_not_found(_text(args[2])))
    argv = args[3:]
    cmd = lookup_argv(argv)
    if cmd is None or (cmd.handler is None and cmd.subcommands):
        raise CommandError(errors.acl_command_not_found(_text(args[3])))
    n = len(argv)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        raise CommandError(errors.wrong_arity(cmd.name))
    reason, idx = A.check(user, cmd, argv)
    if not reason:
        return OK
    if reason == A.DENIED_CMD:
        text = f"This user has no permissions to run the '{cmd.name}' command"
    elif reason == A.DENIED_KEY:
        text = f"This user has no permissions to access the '{_text(argv[idx])}' key"
    else:
        text = f"This user has no permissions to access the '{_text(argv[idx])}' channel"
    return bulk(text.encode("utf-8", "surrogateescape"))


def _aclfile(c: ClientState) -> str:
    path: str = getattr(c.server.settings.server, "aclfile", "")
    if not path:
        raise CommandError(errors.ACL_NO_FILE)
    return path


@command(
    "load",
    2,
    _ADMIN,
    group=G,
    parent=P,
    summary="Reload the ACLs from the configured ACL file",
    since="6.0.0",
    complexity="O(N). Where N is the number of configured users.",
)
def acl_load(c: ClientState, args: list[bytes]) -> bytes:
    problems = A.load_file(A.state(c.server), _aclfile(c))
    if problems:
        raise CommandError("ERR " + problems)
    return OK


@command(
    "save",
    2,
    _ADMIN,
    group=G,
    parent=P,
    summary="Save the current ACL rules in the configured ACL file",
    since="6.0.0",
    complexity="O(N). Where N is the number of configured users.",
)
def acl_save(c: ClientState, args: list[bytes]) -> bytes:
    if not A.save_file(A.state(c.server), _aclfile(c)):
        raise CommandError(errors.ACL_SAVE_FAILED)
    return OK


_HELP = [
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
]


@command(
    "help",
    2,
    "loading stale",
    group=G,
    parent=P,
    summary="Show helpful text about the different subcommands",
    since="6.0.0",
    complexity="O(1)",
)
def acl_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(args[0], _HELP)
