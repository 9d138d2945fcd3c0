"""Fast/slow separation: slow read-only commands run off the event loop.

Pika runs the commands of its ``slow-cmd-list`` on a separate thread pool so that one
``KEYS *`` does not stall every GET. Here:

* **Which.** The commands named in ``slow-cmd-list`` (CONFIG SET-able, Pika's setting) that
  this module knows how to run on a read view (:data:`OFFLOADABLE`): KEYS always, and the
  single-key whole-collection reads (SMEMBERS, HGETALL, HKEYS, HVALS, LRANGE) when the key
  holds at least :data:`BIG` members — a small collection is answered inline, since handing
  a command to a thread costs ~50-100 us.
* **How.** The command's handler is wrapped. The wrapper writes the tick's pending ops out
  first (so the client's own earlier writes are visible), then runs the handler on a worker
  thread against a *read view* of the client's database (:meth:`Database.read_view`:
  committed data only, expired keys hidden but not deleted) and returns an awaitable. The
  connection parks that client's pipeline until the reply is ready, exactly as for a
  blocked command, while the event loop keeps serving everyone else.
* **GIL.** rocksdict holds the GIL during each call but not across calls, so the loop takes
  the GIL between the worker's iterator steps; the switch interval is lowered to 1 ms at
  install so a waiting GET gets its turn within ~1 ms.
* **Consistency.** Each storage scan is a RocksDB point-in-time iterator, so a command made
  of one scan (every command above) answers from one consistent state. A command made of
  several reads (SUNION over many keys) could see writes committed between its reads, which
  Redis never shows: such commands are not offloadable.
* Inside MULTI/EXEC and scripts (``blocking.can_block`` is False) the handler runs inline.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pikadb.commands import blocking
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.table import COMMANDS
from pikadb.storage.layout import collection_size

Handler = Callable[[ClientState, list[bytes]], Any]
BIG = 10_000  # members from which a whole-collection read is worth a thread


def _always(c: ClientState, args: list[bytes]) -> bool:
    return True


def _big_key(c: ClientState, args: list[bytes]) -> bool:
    raw = c.db.lookup(args[1])[1]
    return raw is not None and collection_size(raw) >= BIG


# command -> when it is worth running off the loop
OFFLOADABLE: dict[str, Callable[[ClientState, list[bytes]], bool]] = {
    "keys": _always,
    "smembers": _big_key,
    "hgetall": _big_key,
    "hkeys": _big_key,
    "hvals": _big_key,
    "lrange": _big_key,
}

_pool: ThreadPoolExecutor | None = None
_inline: dict[str, Handler] = {}  # the original handlers of wrapped commands
_installed: set[int] = set()


class _ViewClient:
    """The calling client as the handler sees it on the worker: the same state, but its
    database is a read view."""

    def __init__(self, c: ClientState) -> None:
        self._c = c
        self.db = c.db.read_view()
        self.enc = c.enc
        self.resp = c.resp
        self.server = c.server

    def __getattr__(self, name: str) -> Any:
        return getattr(self._c, name)


def _wrap(name: str, handler: Handler) -> Handler:
    worth = OFFLOADABLE[name]

    def offloaded(c: ClientState, args: list[bytes]) -> Any:
        if not blocking.can_block(c) or not worth(c, args):
            return handler(c, args)
        global _pool
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pikadb-slow")
        c.db.engine.flush_group()  # this tick's writes (the client's own too) become visible
        view = _ViewClient(c)
        return asyncio.get_running_loop().run_in_executor(_pool, handler, view, args)

    offloaded.__wrapped__ = handler  # type: ignore[attr-defined]
    return offloaded


def apply_list(value: str) -> None:
    """Wrap exactly the offloadable commands named in ``value`` (comma/space separated)."""
    wanted = {n.strip().lower() for n in value.replace(",", " ").split()}
    for name in OFFLOADABLE:
        cmd = COMMANDS.get(name.encode())
        if cmd is None or cmd.handler is None:
            continue
        original = _inline.setdefault(name, cmd.handler)
        cmd.handler = _wrap(name, original) if name in wanted else original


def install(server: ServerState) -> None:
    """Apply ``slow-cmd-list`` now and on every CONFIG SET of it."""
    sys.setswitchinterval(0.001)
    apply_list(server.settings.server.slow_cmd_list)
    if id(server.config) not in _installed:
        _installed.add(id(server.config))
        server.config.on_change("slow-cmd-list", apply_list)
