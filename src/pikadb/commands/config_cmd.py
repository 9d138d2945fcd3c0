"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP, on :class:`pikadb.config.RuntimeConfig`.

The settings table, parsing and error texts live in :mod:`pikadb.config`; this module shapes
replies and makes changed settings take effect at once where the running server caches
them (connection parsers, the engine's sync flag, active expiry): see :data:`LIVE_SETTINGS`.
Everything else reads ``settings`` on use, so CONFIG SET applies to it immediately.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.introspection import help_reply
from pikadb.commands.table import COMMANDS, command, container
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, bulk

G = "server"
P = "config"
_FLAGS = "admin noscript loading stale"

# Settings the server caches somewhere and must push out when they change; the server's
# ``apply_setting(name, value)`` does it.
LIVE_SETTINGS = (
    "proto-max-bulk-len",
    "client-query-buffer-limit",
    "sync-writes",
    "active-expire",
    "loglevel",
    # RocksDB column-family options, pushed with SetOptions
    "disable-auto-compactions",
    "write-buffer-size",
    "max-write-buffer-number",
    "target-file-size-base",
    "level0-file-num-compaction-trigger",
    "level0-slowdown-writes-trigger",
    "level0-stop-writes-trigger",
)
_installed: set[int] = set()


def install_live_settings(server: ServerState) -> None:
    """Register the CONFIG SET listeners for :data:`LIVE_SETTINGS` (once per config)."""
    config = server.config
    if id(config) in _installed:
        return
    _installed.add(id(config))

    def listener(name: str) -> Any:
        def apply(value: Any) -> None:
            fn = getattr(server, "apply_setting", None)
            if fn is not None:
                fn(name, value)

        return apply

    for name in LIVE_SETTINGS:
        try:
            config.on_change(name, listener(name))
        except KeyError:  # a setting this build doesn't have
            continue


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


container(
    "config", -2, group=G, summary="A container for server configuration commands", since="2.0.0"
)


@command(
    "get",
    -3,
    _FLAGS,
    group=G,
    parent=P,
    summary="Get the values of configuration parameters",
    since="2.0.0",
    complexity="O(N) when N is the number of configuration parameters provided",
    args="parameter [parameter ...]",
    history=(("7.0.0", "Added the ability to pass multiple pattern parameters in one call"),),
)
def config_get(c: ClientState, args: list[bytes]) -> bytes:
    found = c.server.config.get(*[_text(a) for a in args[2:]])
    return c.enc.map(
        [(bulk(k.encode()), bulk(v.encode("utf-8", "surrogateescape"))) for k, v in found]
    )


@command(
    "set",
    -4,
    _FLAGS,
    group=G,
    parent=P,
    summary="Set configuration parameters to the given values",
    since="2.0.0",
    complexity="O(N) when N is the number of configuration parameters provided",
    args="parameter value [parameter value ...]",
    tips="request_policy:all_nodes response_policy:all_succeeded",
    history=(("7.0.0", "Added the ability to set multiple parameters in one call."),),
)
def config_set(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) % 2:
        raise CommandError(errors.SYNTAX)
    install_live_settings(c.server)
    pairs = [(_text(args[i]), _text(args[i + 1])) for i in range(2, len(args), 2)]
    c.server.config.set(pairs)
    return OK


def reset_stats(server: ServerState) -> None:
    """CONFIG RESETSTAT: server counters, error counters and per-command statistics."""
    stats = server.stats
    for f in dataclasses.fields(stats):
        if f.default_factory is not dataclasses.MISSING:
            setattr(stats, f.name, f.default_factory())
        else:
            setattr(stats, f.name, f.default)
    for cmd in COMMANDS.values():
        cmd.reset_stats()


@command(
    "resetstat",
    2,
    _FLAGS,
    group=G,
    parent=P,
    summary="Reset the stats returned by INFO",
    since="2.0.0",
    complexity="O(1)",
)
def config_resetstat(c: ClientState, args: list[bytes]) -> bytes:
    reset_stats(c.server)
    return OK


@command(
    "rewrite",
    2,
    _FLAGS,
    group=G,
    parent=P,
    summary="Rewrite the configuration file with the in memory configuration",
    since="2.8.0",
    complexity="O(1)",
)
def config_rewrite(c: ClientState, args: list[bytes]) -> bytes:
    c.server.config.rewrite()
    return OK


_HELP = [
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
]


@command(
    "help",
    2,
    "loading stale",
    group=G,
    parent=P,
    summary="Show helpful text about the different subcommands",
    since="5.0.0",
    complexity="O(1)",
)
def config_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(args[0], _HELP)
