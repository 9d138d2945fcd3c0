"""Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET."""

from __future__ import annotations

from pikadb import REDIS_VERSION
from pikadb.commands import _acl_check as acl
from pikadb.commands._args import parse_db_index, parse_int
from pikadb.commands.context import REPLY_ON, ClientState
from pikadb.commands.pubsub import unsubscribe_all
from pikadb.commands.table import command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, PONG, bulk, integer, simple

G = "connection"


@command(
    "ping",
    -1,
    "fast",
    acl="connection",
    group=G,
    summary="Returns the server's liveliness response.",
    args="[message]",
)
def ping(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 2:
        raise CommandError(errors.wrong_arity("ping"))
    if c.subscribed and c.resp == 2:  # pub/sub: RESP2 subscribed mode answers in an array
        return b"*2\r\n$4\r\npong\r\n" + bulk(args[1] if len(args) == 2 else b"")
    return PONG if len(args) == 1 else bulk(args[1])


@command(
    "echo",
    2,
    "fast",
    acl="connection",
    group=G,
    summary="Returns the given string.",
    args="message",
)
def echo(c: ClientState, args: list[bytes]) -> bytes:
    return bulk(args[1])


@command(
    "quit",
    -1,
    "no_auth fast allow_busy loading stale",
    acl="connection",
    group=G,
    summary="Closes the connection.",
)
def quit_(c: ClientState, args: list[bytes]) -> bytes:
    c.close_after_reply = True
    return OK


@command(
    "select",
    2,
    "loading stale fast",
    acl="connection keyspace",
    group=G,
    summary="Changes the selected database.",
    args="index",
)
def select(c: ClientState, args: list[bytes]) -> bytes:
    c.select(parse_db_index(args[1], len(c.server.store.databases)))
    return OK


@command(
    "auth",
    -2,
    "no_auth noscript loading stale fast allow_busy",
    acl="connection",
    group=G,
    summary="Authenticates the connection.",
    args="[username] password",
)
def auth(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 3:
        raise CommandError(errors.SYNTAX)
    if len(args) == 2:
        if acl.state(c.server).default.nopass:
            raise CommandError(errors.AUTH_NO_PASSWORD)
        user, password = b"default", args[1]
    else:
        user, password = args[1], args[2]
    if not acl.authenticate(c, acl.pika_user(c, user, password), password, args[0]):
        raise CommandError(errors.WRONGPASS)
    return OK


@command(
    "hello",
    -1,
    "no_auth noscript loading stale fast allow_busy",
    acl="connection",
    group=G,
    summary="Handshakes with the server.",
    since="6.0.0",
    args="[protover [AUTH username password] [SETNAME clientname]]",
)
def hello(c: ClientState, args: list[bytes]) -> bytes:
    proto = c.resp
    i = 1
    if len(args) > 1:
        try:
            proto = parse_int(args[1])
        except CommandError:
            raise CommandError("ERR Protocol version is not an integer or out of range") from None
        if proto not in (2, 3):
            raise CommandError(errors.NOPROTO)
        i = 2
    setname: bytes | None = None
    creds: tuple[bytes, bytes] | None = None
    while i < len(args):
        opt = args[i].upper()
        if opt == b"AUTH" and i + 2 < len(args):
            creds = (args[i + 1], args[i + 2])
            i += 3
        elif opt == b"SETNAME" and i + 1 < len(args):
            setname = args[i + 1]
            i += 2
        else:
            raise CommandError(
                f"ERR Syntax error in HELLO option '{args[i].decode(errors='replace')}'"
            )
    if creds is not None and not acl.authenticate(
        c, acl.pika_user(c, creds[0], creds[1]), creds[1], args[0]
    ):
        raise CommandError(errors.WRONGPASS)
    if not c.authenticated:
        raise CommandError(errors.HELLO_NOAUTH)
    if setname is not None:
        _validate_name(setname)
    if setname is not None:
        c.name = setname
    c.set_protocol(proto)
    role = getattr(c.server, "role", "master")
    return c.enc.map(
        [
            (bulk(b"server"), bulk(b"redis")),
            (bulk(b"version"), bulk(REDIS_VERSION.encode())),
            (bulk(b"proto"), integer(proto)),
            (bulk(b"id"), integer(c.id)),
            (bulk(b"mode"), bulk(b"standalone")),
            (bulk(b"role"), bulk(role.encode())),
            (bulk(b"modules"), b"*0\r\n"),
        ]
    )


def _validate_name(name: bytes) -> None:
    if any(ch <= 32 or ch > 126 for ch in name):
        raise CommandError(
            "ERR Client names cannot contain spaces, newlines or special characters."
        )


@command(
    "reset",
    1,
    "noscript loading stale fast no_auth allow_busy",
    acl="connection",
    group=G,
    summary="Resets the connection.",
    since="6.2.0",
)
def reset(c: ClientState, args: list[bytes]) -> bytes:
    c.multi = None
    if c.subscribed:  # pub/sub: leave every channel, pattern and shard channel silently
        unsubscribe_all(c)
    c.select(0)
    c.set_protocol(2)
    c.name = b""
    c.reply_mode = REPLY_ON
    c.no_evict = False
    acl.reset_client(c)
    return simple(b"RESET")
