"""Pub/Sub (Redis 7.0 pubsub.c): SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH,
SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS /
SHARDNUMSUB / HELP, plus the live ``client-output-buffer-limit`` classes.

The registry (:class:`Hub`, ``server.pubsub``) maps each channel / pattern / shard channel to
its subscribers ``{client id: client}``; each client keeps its own subscriptions in
``c.channels`` / ``c.patterns`` / ``c.shard_channels`` (subscription order) and Redis's
CLIENT_PUBSUB flag in ``c.subscribed``. Messages reach other clients through
``ClientState.push`` (server/connection.py), which queues them behind that client's pending
replies and enforces the output buffer limits (:func:`over_output_limit`).

Wire shapes (RESP2 ``*``, RESP3 ``>`` push; the count is channels + patterns, or shard
channels for the S commands)::

    subscribe    <channel> <count>        message   <channel> <payload>
    unsubscribe  <channel>|null <count>   pmessage  <pattern> <channel> <payload>
    psubscribe   <pattern> <count>        smessage  <shardchannel> <payload>
    punsubscribe <pattern>|null <count>
    ssubscribe / sunsubscribe <shardchannel>|null <count>

In RESP2 a subscribed client may only run (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and
RESET (the dispatcher checks :data:`SUBSCRIBED_MODE_COMMANDS`); PING then answers
``["pong", <message or "">]``. RESP3 clients may run anything while subscribed.
Confirmations are delivered even under CLIENT REPLY OFF/SKIP (Redis's CLIENT_PUSHING).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pikadb.commands import blocking
from pikadb.commands.context import REPLY_ON, ClientState, ServerState
from pikadb.commands.introspection import help_reply
from pikadb.commands.table import KeySpec, command, container
from pikadb.config.obuf import DEFAULT, parse_obuf_limits, render_obuf_limits
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.core.glob import has_glob_chars, stringmatch
from pikadb.protocol.reply import array, bulk, integer

log = logging.getLogger("pikadb.pubsub")

G = "pubsub"
_SUB_FLAGS = "pubsub noscript loading stale"
_INFO_FLAGS = "pubsub loading stale"

# Commands a RESP2 client may run while subscribed (processCommand's pub/sub context check).
SUBSCRIBED_MODE_COMMANDS = frozenset(
    [
        "ping",
        "subscribe",
        "ssubscribe",
        "unsubscribe",
        "sunsubscribe",
        "psubscribe",
        "punsubscribe",
        "quit",
        "reset",
    ]
)

Subscribers = dict[int, ClientState]


class Hub:
    """The server's subscriptions: name -> subscribers, for each kind."""

    __slots__ = ("channels", "patterns", "plain_patterns", "shard")

    def __init__(self) -> None:
        self.channels: dict[bytes, Subscribers] = {}
        self.patterns: dict[bytes, Subscribers] = {}
        self.shard: dict[bytes, Subscribers] = {}
        # patterns without glob characters match only themselves (a dict lookup)
        self.plain_patterns: set[bytes] = set()

    def count(self) -> tuple[int, int, int]:
        return len(self.channels), len(self.patterns), len(self.shard)


def hub(server: ServerState) -> Hub:
    h = server.pubsub
    if h is None:  # a server object that did not run install_pubsub (benchmarks, tools)
        h = server.pubsub = Hub()
    return h  # type: ignore[no-any-return]


# --- encoded pieces ----------------------------------------------------------------------
def _kind(name: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(name), name)


SUBSCRIBE = _kind(b"subscribe")
UNSUBSCRIBE = _kind(b"unsubscribe")
PSUBSCRIBE = _kind(b"psubscribe")
PUNSUBSCRIBE = _kind(b"punsubscribe")
SSUBSCRIBE = _kind(b"ssubscribe")
SUNSUBSCRIBE = _kind(b"sunsubscribe")
MESSAGE = _kind(b"message")
PMESSAGE = _kind(b"pmessage")
SMESSAGE = _kind(b"smessage")
_HDR3 = {2: b"*3\r\n", 3: b">3\r\n"}
_HDR4 = {2: b"*4\r\n", 3: b">4\r\n"}


def _confirm(c: ClientState, kind: bytes, name: bytes | None, count: int) -> bytes:
    item = c.enc.null if name is None else b"$%d\r\n%s\r\n" % (len(name), name)
    return b"%s%s%s%s" % (_HDR3[c.resp], kind, item, integer(count))


def _reply(c: ClientState, data: bytes) -> bytes:
    """Confirmations go out even with CLIENT REPLY OFF/SKIP, as Redis's pushes do."""
    if c.reply_mode != REPLY_ON:
        c.push(data)
        return b""
    return data


def _count(c: ClientState) -> int:
    return len(c.channels) + len(c.patterns)


def _enter(c: ClientState) -> None:
    c.subscribed = True
    if c.kind == "normal":
        c.kind = "pubsub"


def _maybe_leave(c: ClientState) -> None:
    if not (c.channels or c.patterns or c.shard_channels):
        c.subscribed = False
        if c.kind == "pubsub":
            c.kind = "normal"


# --- subscribe / unsubscribe primitives ----------------------------------------------------
def _add(
    registry: dict[bytes, Subscribers], mine: dict[bytes, None], c: ClientState, name: bytes
) -> None:
    if name not in mine:
        mine[name] = None
        subs = registry.get(name)
        if subs is None:
            subs = registry[name] = {}
        subs[c.id] = c


def _remove(
    registry: dict[bytes, Subscribers], mine: dict[bytes, None], c: ClientState, name: bytes
) -> bool:
    if name not in mine:
        return False
    del mine[name]
    subs = registry.get(name)
    if subs is not None:
        subs.pop(c.id, None)
        if not subs:
            del registry[name]
    return True


def _unsub_all(c: ClientState, which: str, notify: bool) -> bytes:
    """Drop every subscription of one kind; with ``notify``, the confirmations (one with a
    null name when there was none, as Redis does)."""
    h = hub(c.server)
    if which == "channels":
        registry, mine, kind = h.channels, c.channels, UNSUBSCRIBE
    elif which == "patterns":
        registry, mine, kind = h.patterns, c.patterns, PUNSUBSCRIBE
    else:
        registry, mine, kind = h.shard, c.shard_channels, SUNSUBSCRIBE
    parts: list[bytes] = []
    for name in list(mine):
        _remove(registry, mine, c, name)
        if which == "patterns" and name not in registry:
            h.plain_patterns.discard(name)
        if notify:
            n = len(mine) if which == "shard" else _count(c)
            parts.append(_confirm(c, kind, name, n))
    if notify and not parts:
        n = len(mine) if which == "shard" else _count(c)
        parts.append(_confirm(c, kind, None, n))
    return b"".join(parts)


def unsubscribe_all(c: ClientState) -> None:
    """Forget every subscription of ``c`` silently (disconnect, RESET)."""
    if c.channels:
        _unsub_all(c, "channels", False)
    if c.patterns:
        _unsub_all(c, "patterns", False)
    if c.shard_channels:
        _unsub_all(c, "shard", False)
    _maybe_leave(c)
    c.subscribed = False


# --- publishing ------------------------------------------------------------------------------
def publish(server: ServerState, channel: bytes, message: bytes) -> int:
    """Deliver ``message`` to the channel's subscribers, then to matching patterns'
    (pubsubPublishMessage). Returns the number of receivers."""
    h = server.pubsub
    if h is None:
        return 0
    receivers = 0
    subs = h.channels.get(channel)
    if subs:
        tail = b"%s$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            MESSAGE,
            len(channel),
            channel,
            len(message),
            message,
        )
        msg = (b"", b"", b"*3\r\n" + tail, b">3\r\n" + tail)  # by protocol version
        for cl in list(subs.values()):
            cl.push(msg[cl.resp])
            receivers += 1
    if h.patterns:
        receivers += _publish_patterns(h, channel, message)
    return receivers


def _publish_patterns(h: Hub, channel: bytes, message: bytes) -> int:
    receivers = 0
    plain = h.plain_patterns
    tail: bytes | None = None
    for pattern, subs in list(h.patterns.items()):
        if pattern in plain:
            if pattern != channel:
                continue
        elif not stringmatch(pattern, channel):
            continue
        if tail is None:
            tail = b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(channel), channel, len(message), message)
        head = b"%s$%d\r\n%s\r\n" % (PMESSAGE, len(pattern), pattern)
        for cl in list(subs.values()):
            cl.push(_HDR4[cl.resp] + head + tail)
            receivers += 1
    return receivers


def spublish(server: ServerState, channel: bytes, message: bytes) -> int:
    h = server.pubsub
    subs = h.shard.get(channel) if h is not None else None
    if not subs:
        return 0
    tail = b"%s$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        SMESSAGE,
        len(channel),
        channel,
        len(message),
        message,
    )
    for cl in list(subs.values()):
        cl.push(_HDR3[cl.resp] + tail)
    return len(subs)


# --- commands --------------------------------------------------------------------------------
@command(
    "subscribe",
    -2,
    _SUB_FLAGS,
    group=G,
    summary="Listen for messages published to the given channels",
    since="2.0.0",
    complexity="O(N) where N is the number of channels to subscribe to.",
    args="channel [channel ...]",
)
def subscribe(c: ClientState, args: list[bytes]) -> bytes:
    h = hub(c.server)
    registry, mine = h.channels, c.channels
    parts = []
    for name in args[1:]:
        _add(registry, mine, c, name)
        parts.append(_confirm(c, SUBSCRIBE, name, _count(c)))
    _enter(c)
    return _reply(c, b"".join(parts))


@command(
    "unsubscribe",
    -1,
    _SUB_FLAGS,
    group=G,
    summary="Stop listening for messages posted to the given channels",
    since="2.0.0",
    complexity="O(N) where N is the number of clients already subscribed to a channel.",
    args="[channel [channel ...]]",
)
def unsubscribe(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) == 1:
        data = _unsub_all(c, "channels", True)
    else:
        h = hub(c.server)
        parts = []
        for name in args[1:]:
            _remove(h.channels, c.channels, c, name)
            parts.append(_confirm(c, UNSUBSCRIBE, name, _count(c)))
        data = b"".join(parts)
    _maybe_leave(c)
    return _reply(c, data)


@command(
    "psubscribe",
    -2,
    _SUB_FLAGS,
    group=G,
    summary="Listen for messages published to channels matching the given patterns",
    since="2.0.0",
    complexity="O(N) where N is the number of patterns the client is already subscribed to.",
    args="pattern [pattern ...]",
)
def psubscribe(c: ClientState, args: list[bytes]) -> bytes:
    h = hub(c.server)
    parts = []
    for name in args[1:]:
        if name not in h.patterns and not has_glob_chars(name):
            h.plain_patterns.add(name)
        _add(h.patterns, c.patterns, c, name)
        parts.append(_confirm(c, PSUBSCRIBE, name, _count(c)))
    _enter(c)
    return _reply(c, b"".join(parts))


@command(
    "punsubscribe",
    -1,
    _SUB_FLAGS,
    group=G,
    summary="Stop listening for messages posted to channels matching the given patterns",
    since="2.0.0",
    complexity=(
        "O(N+M) where N is the number of patterns the client is already subscribed and M "
        "is the number of total patterns subscribed in the system (by any client)."
    ),
    args="[pattern [pattern ...]]",
)
def punsubscribe(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) == 1:
        data = _unsub_all(c, "patterns", True)
    else:
        h = hub(c.server)
        parts = []
        for name in args[1:]:
            if _remove(h.patterns, c.patterns, c, name) and name not in h.patterns:
                h.plain_patterns.discard(name)
            parts.append(_confirm(c, PUNSUBSCRIBE, name, _count(c)))
        data = b"".join(parts)
    _maybe_leave(c)
    return _reply(c, data)


@command(
    "publish",
    3,
    "pubsub loading stale fast may_replicate",
    group=G,
    summary="Post a message to a channel",
    since="2.0.0",
    complexity=(
        "O(N+M) where N is the number of clients subscribed to the receiving channel and M "
        "is the total number of subscribed patterns (by any client)."
    ),
    args="channel message",
)
def publish_cmd(c: ClientState, args: list[bytes]) -> bytes:
    return integer(publish(c.server, args[1], args[2]))


_SHARD_SPEC = (KeySpec("not_key", index=1, lastkey=-1),)


@command(
    "ssubscribe",
    -2,
    _SUB_FLAGS,
    keys=(1, -1, 1),
    group=G,
    summary="Listen for messages published to the given shard channels",
    since="7.0.0",
    complexity="O(N) where N is the number of shard channels to subscribe to.",
    args="shardchannel [shardchannel ...]",
    key_specs=_SHARD_SPEC,
)
def ssubscribe(c: ClientState, args: list[bytes]) -> bytes:
    if not blocking.can_block(c):  # inside MULTI/EXEC or a script (CLIENT_DENY_BLOCKING)
        raise CommandError(errors.SSUBSCRIBE_DENY_BLOCKING)
    h = hub(c.server)
    parts = []
    for name in args[1:]:
        _add(h.shard, c.shard_channels, c, name)
        parts.append(_confirm(c, SSUBSCRIBE, name, len(c.shard_channels)))
    _enter(c)
    return _reply(c, b"".join(parts))


@command(
    "sunsubscribe",
    -1,
    _SUB_FLAGS,
    keys=(1, -1, 1),
    group=G,
    summary="Stop listening for messages posted to the given shard channels",
    since="7.0.0",
    complexity="O(N) where N is the number of clients already subscribed to a shard channel.",
    args="[shardchannel [shardchannel ...]]",
    key_specs=_SHARD_SPEC,
)
def sunsubscribe(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) == 1:
        data = _unsub_all(c, "shard", True)
    else:
        h = hub(c.server)
        parts = []
        for name in args[1:]:
            _remove(h.shard, c.shard_channels, c, name)
            parts.append(_confirm(c, SUNSUBSCRIBE, name, len(c.shard_channels)))
        data = b"".join(parts)
    _maybe_leave(c)
    return _reply(c, data)


@command(
    "spublish",
    3,
    "pubsub loading stale fast may_replicate",
    keys=(1, 1, 1),
    group=G,
    summary="Post a message to a shard channel",
    since="7.0.0",
    complexity="O(N) where N is the number of clients subscribed to the receiving shard channel.",
    args="shardchannel message",
    key_specs=(KeySpec("not_key", index=1, lastkey=0),),
)
def spublish_cmd(c: ClientState, args: list[bytes]) -> bytes:
    return integer(spublish(c.server, args[1], args[2]))


# --- PUBSUB ----------------------------------------------------------------------------------
container("pubsub", -2, group=G, summary="A container for Pub/Sub commands", since="2.8.0")


def _channel_list(c: ClientState, registry: dict[bytes, Subscribers], args: list[bytes]) -> bytes:
    if len(args) > 3:
        raise CommandError(errors.subcommand_syntax(args[1].decode("utf-8", "replace"), "pubsub"))
    if len(args) == 2:
        names = list(registry)
    else:
        pat = args[2]
        names = [ch for ch in registry if stringmatch(pat, ch)]
    return array([bulk(n) for n in names])


def _numsub(registry: dict[bytes, Subscribers], args: list[bytes]) -> bytes:
    parts = []
    for name in args[2:]:
        subs = registry.get(name)
        parts.append(bulk(name) + integer(len(subs) if subs else 0))
    return b"*%d\r\n%s" % (2 * (len(args) - 2), b"".join(parts))


@command(
    "channels",
    -2,
    _INFO_FLAGS,
    group=G,
    parent="pubsub",
    summary="List active channels",
    since="2.8.0",
    complexity=(
        "O(N) where N is the number of active channels, and assuming constant time pattern "
        "matching (relatively short channels and patterns)"
    ),
    args="[pattern]",
)
def pubsub_channels(c: ClientState, args: list[bytes]) -> bytes:
    return _channel_list(c, hub(c.server).channels, args)


@command(
    "numsub",
    -2,
    _INFO_FLAGS,
    group=G,
    parent="pubsub",
    summary="Get the count of subscribers for channels",
    since="2.8.0",
    complexity="O(N) for the NUMSUB subcommand, where N is the number of requested channels",
    args="[channel [channel ...]]",
)
def pubsub_numsub(c: ClientState, args: list[bytes]) -> bytes:
    return _numsub(hub(c.server).channels, args)


@command(
    "numpat",
    2,
    _INFO_FLAGS,
    group=G,
    parent="pubsub",
    summary="Get the count of unique patterns pattern subscriptions",
    since="2.8.0",
    complexity="O(1)",
)
def pubsub_numpat(c: ClientState, args: list[bytes]) -> bytes:
    return integer(len(hub(c.server).patterns))


@command(
    "shardchannels",
    -2,
    _INFO_FLAGS,
    group=G,
    parent="pubsub",
    summary="List active shard channels",
    since="7.0.0",
    complexity=(
        "O(N) where N is the number of active shard channels, and assuming constant time "
        "pattern matching (relatively short shard channels)."
    ),
    args="[pattern]",
)
def pubsub_shardchannels(c: ClientState, args: list[bytes]) -> bytes:
    return _channel_list(c, hub(c.server).shard, args)


@command(
    "shardnumsub",
    -2,
    _INFO_FLAGS,
    group=G,
    parent="pubsub",
    summary="Get the count of subscribers for shard channels",
    since="7.0.0",
    complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
    args="[shardchannel [shardchannel ...]]",
)
def pubsub_shardnumsub(c: ClientState, args: list[bytes]) -> bytes:
    return _numsub(hub(c.server).shard, args)


_HELP = [
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
]


@command(
    "help",
    2,
    "loading stale",
    group=G,
    parent="pubsub",
    summary="Show helpful text about the different subcommands",
    since="6.2.0",
    complexity="O(1)",
)
def pubsub_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(b"pubsub", _HELP)


# --- client-output-buffer-limit ------------------------------------------------------------
def client_class(c: ClientState) -> str:
    """getClientType for the limits: replica, pubsub (subscribed) or normal."""
    if c.kind == "replica":
        return "replica"
    return "pubsub" if c.subscribed else "normal"


def over_output_limit(c: ClientState, used: int) -> bool:
    """checkClientOutputBufferLimits: True when ``c`` (with ``used`` bytes of pending
    output) passed its class's hard limit, or its soft limit for longer than allowed."""
    limits = c.server.obuf_limits or DEFAULT
    hard, soft, secs = limits[client_class(c)]
    if hard and used >= hard:
        return True
    if soft and used >= soft:
        now = time.monotonic()
        since = c.obuf_soft_since
        if not since:
            c.obuf_soft_since = now
            return False
        return now - since > secs
    if c.obuf_soft_since:
        c.obuf_soft_since = 0.0
    return False


def log_output_limit(c: ClientState, used: int) -> None:
    log.warning(
        "Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer "
        "limits (%d bytes pending, class %s).",
        c.id,
        c.addr,
        used,
        client_class(c),
    )


def _apply_obuf(server: ServerState, text: str) -> None:
    """Merge the classes CONFIG SET named into the live limits, and store the full value
    back so that CONFIG GET / REWRITE show every class (Redis's partial update)."""
    limits = dict(server.obuf_limits or DEFAULT)
    limits.update(parse_obuf_limits(text))
    server.obuf_limits = limits
    server.obuf_floor = min(
        (v for h, s, _ in limits.values() for v in (h, s) if v), default=1 << 62
    )
    full = render_obuf_limits(limits)
    if server.settings.server.client_output_buffer_limit != full:
        server.settings.server.client_output_buffer_limit = full


# --- installation ----------------------------------------------------------------------------
def install_pubsub(server: ServerState) -> None:
    """Create the hub and wire the live settings (called once by the server at start-up)."""
    from pikadb.commands import notify  # notify imports this module

    server.pubsub = Hub()
    _apply_obuf(server, server.settings.server.client_output_buffer_limit)
    notify.apply_flags(server, server.settings.server.notify_keyspace_events)
    attach_store(server)
    config = server.config
    config.on_change("client-output-buffer-limit", _listener(server, _apply_obuf))
    config.on_change("notify-keyspace-events", _listener(server, notify.apply_flags))


def attach_store(server: ServerState) -> None:
    """Hook expiry notifications into (a possibly reopened) storage."""
    from pikadb.commands import notify

    server.store.on_expired = notify.expired_hook(server)


def _listener(server: ServerState, fn: Callable[[ServerState, Any], None]) -> Callable[[Any], None]:
    def apply(value: Any) -> None:
        fn(server, value)

    return apply
