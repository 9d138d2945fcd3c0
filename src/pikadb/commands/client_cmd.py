"""CLIENT ID / INFO / LIST / SETNAME / GETNAME / KILL / NO-EVICT / REPLY / SETINFO / HELP.

CLIENT LIST lines have Redis 7.0's fields, in its order::

    id= addr= laddr= fd= name= age= idle= flags= db= sub= psub= ssub= multi= qbuf=
    qbuf-free= argv-mem= multi-mem= rbs= rbp= obl= oll= omem= tot-mem= events= cmd= user=
    redir= resp=

Buffer figures are what this server measures on its own buffers (the connection's
``memory_stats``: unparsed input, args held, replies held for the tick, the transport's
pending output); tot-mem adds a measured fixed cost per connection. rbs/rbp (Redis's reply
buffer) have no equivalent: the fixed 1024/0 are shown.
"""

from __future__ import annotations

import time

from pikadb.commands import blocking
from pikadb.commands._args import INT64_MAX, INT64_MIN, parse_int
from pikadb.commands.context import REPLY_OFF, REPLY_ON, REPLY_SKIP_NEXT, ClientState
from pikadb.commands.introspection import help_reply
from pikadb.commands.table import command, container
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, bulk, integer

G = "connection"
P = "client"
_ADMIN = "admin noscript loading stale"
_PLAIN = "noscript loading stale"

# getClientTypeByName
_TYPES = {
    b"normal": "normal",
    b"slave": "replica",
    b"replica": "replica",
    b"pubsub": "pubsub",
    b"master": "master",
}


def _count(c: ClientState, attr: str) -> int:
    value = getattr(c, attr, None)
    return len(value) if value is not None else 0


def client_flags(c: ClientState) -> str:
    """The ``flags=`` letters, in catClientInfoString's order."""
    f = ""
    if c.kind == "replica":
        f += "S"
    if c.kind == "master":
        f += "M"
    if c.kind == "pubsub" or _count(c, "channels") or _count(c, "patterns"):
        f += "P"
    if c.multi is not None:
        f += "x"
    if getattr(c, "_pending", None) is not None:
        f += "b"
    if c.close_after_reply:
        f += "c"
    if c.addr.startswith("/"):
        f += "U"
    if c.no_evict:
        f += "e"
    return f or "N"


def _memory(c: ClientState) -> dict[str, int]:
    stats = getattr(c, "memory_stats", None)
    if stats is not None:
        return stats()  # type: ignore[no-any-return]
    qbuf, omem = c.query_buffer_size(), c.output_buffer_size()
    return {
        "qbuf": qbuf,
        "qbuf-free": 0,
        "argv-mem": 0,
        "multi-mem": 0,
        "obl": 0,
        "oll": 1 if omem else 0,
        "omem": omem,
        "tot-mem": qbuf + omem,
    }


def client_info_line(
    c: ClientState,
    current: ClientState | None = None,
    cmd: str = "",
    args: list[bytes] | None = None,
) -> str:
    """One CLIENT LIST line (without the newline). ``current`` is the calling client, whose
    ``cmd=`` is the command being run (``cmd``, with ``args`` counted in its argv-mem), as
    Redis reports it."""
    now = time.time()
    m = _memory(c)
    argv = m["argv-mem"]
    if c is current and args:
        argv += sum(map(len, args))
    pending = m["obl"] + m["omem"]
    multi = -1 if c.multi is None else len(c.multi)
    last = cmd if c is current and cmd else c.last_cmd
    name = c.name.decode("utf-8", "replace")
    return (
        f"id={c.id} addr={c.addr} laddr={c.laddr} fd={c.fd} name={name} "
        f"age={int(now - c.created)} idle={int(now - c.last_interaction)} flags={client_flags(c)} "
        f"db={c.db.index} sub={_count(c, 'channels')} psub={_count(c, 'patterns')} "
        f"ssub={_count(c, 'shard_channels')} multi={multi} qbuf={m['qbuf']} "
        f"qbuf-free={m['qbuf-free']} argv-mem={argv} multi-mem={m['multi-mem']} rbs=1024 "
        f"rbp=0 obl={m['obl']} oll={m['oll']} omem={m['omem']} "
        f"tot-mem={m['tot-mem'] + argv - m['argv-mem']} events={'rw' if pending else 'r'} "
        f"cmd={last} user={c.user} redir=-1 resp={c.resp}"
    )


container(
    "client", -2, group=G, summary="A container for client connection commands", since="2.4.0"
)


@command(
    "id",
    2,
    _PLAIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Returns the client ID for the current connection",
    since="5.0.0",
    complexity="O(1)",
)
def client_id(c: ClientState, args: list[bytes]) -> bytes:
    return integer(c.id)


@command(
    "info",
    2,
    _PLAIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Returns information about the current client connection.",
    since="6.2.0",
    complexity="O(1)",
    tips="nondeterministic_output",
)
def client_info(c: ClientState, args: list[bytes]) -> bytes:
    return c.enc.verbatim((client_info_line(c, c, "client|info", args) + "\n").encode())


def _client_type(raw: bytes) -> str:
    kind = _TYPES.get(raw.lower())
    if kind is None:
        raise CommandError(errors.UNKNOWN_CLIENT_TYPE.format(raw.decode("utf-8", "replace")))
    return kind


@command(
    "list",
    -2,
    _ADMIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Get the list of client connections",
    since="2.4.0",
    complexity="O(N) where N is the number of client connections",
    args="[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]",
    tips="nondeterministic_output",
)
def client_list(c: ClientState, args: list[bytes]) -> bytes:
    clients = c.server.clients
    if len(args) == 2:
        chosen = list(clients.values())
    elif len(args) == 4 and args[2].lower() == b"type":
        kind = _client_type(args[3])
        chosen = [cl for cl in clients.values() if cl.kind == kind]
    elif len(args) > 3 and args[2].lower() == b"id":
        chosen = []
        for raw in args[3:]:
            try:
                cid = int(raw)
            except ValueError:
                raise CommandError(errors.INVALID_CLIENT_ID) from None
            if b"%d" % cid != raw or not INT64_MIN <= cid <= INT64_MAX:
                raise CommandError(errors.INVALID_CLIENT_ID)
            cl = clients.get(cid)
            if cl is not None:
                chosen.append(cl)
    else:
        raise CommandError(errors.SYNTAX)
    text = "".join(client_info_line(cl, c, "client|list", args) + "\n" for cl in chosen)
    return c.enc.verbatim(text.encode())


def validate_name(name: bytes, message: str = errors.CLIENT_NAME_INVALID) -> None:
    if any(ch < 33 or ch > 126 for ch in name):
        raise CommandError(message)


@command(
    "setname",
    3,
    _PLAIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Set the current connection name",
    since="2.6.9",
    complexity="O(1)",
    args="connection-name",
)
def client_setname(c: ClientState, args: list[bytes]) -> bytes:
    validate_name(args[2])
    c.name = args[2]
    return OK


@command(
    "getname",
    2,
    _PLAIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Get the current connection name",
    since="2.6.9",
    complexity="O(1)",
)
def client_getname(c: ClientState, args: list[bytes]) -> bytes:
    return bulk(c.name) if c.name else c.enc.null


@command(
    "kill",
    -3,
    _ADMIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Kill the connection of a client",
    since="2.4.0",
    complexity="O(N) where N is the number of client connections",
    args="ip:port|[ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes/no]",
)
def client_kill(c: ClientState, args: list[bytes]) -> bytes:
    addr = laddr = kind = user = None
    cid = 0
    if len(args) == 3:  # old form: CLIENT KILL addr:port
        addr = args[2].decode("utf-8", "replace")
        skipme = False
    else:
        skipme = True
        i = 2
        while i < len(args):
            opt = args[i].lower()
            more = i + 1 < len(args)
            if opt == b"id" and more:
                try:
                    cid = int(args[i + 1])
                except ValueError:
                    raise CommandError(errors.CLIENT_ID_POSITIVE) from None
                if b"%d" % cid != args[i + 1] or not 1 <= cid <= INT64_MAX:
                    raise CommandError(errors.CLIENT_ID_POSITIVE)
            elif opt == b"type" and more:
                kind = _client_type(args[i + 1])
            elif opt == b"addr" and more:
                addr = args[i + 1].decode("utf-8", "replace")
            elif opt == b"laddr" and more:
                laddr = args[i + 1].decode("utf-8", "replace")
            elif opt == b"user" and more:
                user = args[i + 1].decode("utf-8", "replace")
                known = getattr(c.server, "user_exists", None)
                exists = known(user) if callable(known) else user == "default"
                if not exists:
                    raise CommandError(errors.NO_SUCH_USER.format(user))
            elif opt == b"skipme" and more:
                flag = args[i + 1].lower()
                if flag == b"yes":
                    skipme = True
                elif flag == b"no":
                    skipme = False
                else:
                    raise CommandError(errors.SYNTAX)
            else:
                raise CommandError(errors.SYNTAX)
            i += 2
    killed = 0
    for cl in list(c.server.clients.values()):
        if addr is not None and cl.addr != addr:
            continue
        if laddr is not None and cl.laddr != laddr:
            continue
        if kind is not None and cl.kind != kind:
            continue
        if cid and cl.id != cid:
            continue
        if user is not None and cl.user != user:
            continue
        if cl is c and skipme:
            continue
        if cl is c:
            c.close_after_reply = True
        else:
            cl.kill()
        killed += 1
    if len(args) == 3:
        if not killed:
            raise CommandError(errors.NO_SUCH_CLIENT)
        return OK
    return integer(killed)


@command(
    "unblock",
    -3,
    _ADMIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Unblock a client blocked in a blocking command from a different connection",
    since="5.0.0",
    complexity="O(log N) where N is the number of client connections",
    args="client-id [TIMEOUT|ERROR]",
)
def client_unblock(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) > 4:
        raise CommandError(errors.subcommand_syntax(args[1].decode("utf-8", "replace"), "CLIENT"))
    with_error = False
    if len(args) == 4:
        reason = args[3].lower()
        if reason == b"error":
            with_error = True
        elif reason != b"timeout":
            raise CommandError(errors.UNBLOCK_REASON)
    client_id = parse_int(args[2])
    return integer(1 if blocking.unblock(c.server, client_id, with_error) else 0)


@command(
    "no-evict",
    3,
    _ADMIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Set client eviction mode for the current connection",
    since="7.0.0",
    complexity="O(1)",
    args="ON|OFF",
)
def client_no_evict(c: ClientState, args: list[bytes]) -> bytes:
    mode = args[2].lower()
    if mode == b"on":
        c.no_evict = True
    elif mode == b"off":
        c.no_evict = False
    else:
        raise CommandError(errors.SYNTAX)
    return OK


@command(
    "reply",
    3,
    _PLAIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Instruct the server whether to reply to commands",
    since="3.2.0",
    complexity="O(1)",
    args="ON|OFF|SKIP",
)
def client_reply(c: ClientState, args: list[bytes]) -> bytes:
    mode = args[2].lower()
    if mode == b"on":
        c.reply_mode = REPLY_ON
        return OK
    if mode == b"off":
        c.reply_mode = REPLY_OFF
    elif mode == b"skip":
        if c.reply_mode != REPLY_OFF:
            c.reply_mode = REPLY_SKIP_NEXT
    else:
        raise CommandError(errors.SYNTAX)
    return b""


@command(
    "setinfo",
    4,
    _PLAIN,
    acl="connection",
    group=G,
    parent=P,
    summary="Set client or connection specific info",
    since="7.2.0",
    complexity="O(1)",
    args="LIB-NAME libname|LIB-VER libver",
)
def client_setinfo(c: ClientState, args: list[bytes]) -> bytes:
    attr = args[2].lower()
    shown = args[2].decode("utf-8", "replace")
    if attr not in (b"lib-name", b"lib-ver"):
        raise CommandError(errors.CLIENT_UNRECOGNIZED_OPTION.format(shown))
    validate_name(args[3], errors.CLIENT_ATTR_INVALID.format(shown))
    if attr == b"lib-name":
        c.lib_name = args[3]
    else:
        c.lib_ver = args[3]
    return OK


_HELP = [
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
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
def client_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(args[0], _HELP)
