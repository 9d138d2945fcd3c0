"""Fast/slow separation: slow read-only commands run off the event loop.

Pika runs the commands of its ``slow-cmd-list`` on a separate thread pool so that one
``KEYS *`` does not stall every GET. Here:

* **Which.** The commands named in ``slow-cmd-list`` (CONFIG SET-able, Pika's setting) that
  this module knows how to run on a read view (:data:`OFFLOADABLE`): KEYS always; the
  whole-collection reads (SMEMBERS, HGETALL, HKEYS, HVALS; LRANGE by the range asked
  for, not the list's length) and the multi-key set and
  zset algebra reads (SUNION, SINTER, SDIFF, SINTERCARD, ZUNION, ZINTER, ZDIFF) when their
  keys hold at least :data:`BIG` members in all — a small read is answered inline, since
  handing a command to a thread costs ~50-100 us.
* **How.** The command's handler is wrapped. The wrapper writes the tick's pending ops out
  first (so the client's own earlier writes are visible), then runs the handler on a worker
  thread against a *read view* of the client's database (:meth:`Database.read_view`:
  committed data only, expired keys hidden but not deleted) and returns an awaitable. The
  connection parks that client's pipeline until the reply is ready, exactly as for a
  blocked command, while the event loop keeps serving everyone else.
* **GIL.** rocksdict holds the GIL during each call but not across calls, so the loop takes
  the GIL between the worker's iterator steps; the switch interval is lowered to 1 ms at
  install so a waiting GET gets its turn within ~1 ms.
* **Consistency.** KEYS is one scan, i.e. one RocksDB point-in-time iterator: consistent.
  A command with keys reads several times (a meta lookup, then scans; one per key for
  SUNION), so a write committed between its reads could show through, which Redis never
  shows. Optimistic check: while the command runs on the worker, a commit listener watches
  its keys (and their databases, for FLUSHDB/SWAPDB); if any of them was written meanwhile,
  the worker's answer is dropped and the command runs again inline, on the loop, where
  nothing can interleave. A reply is thus always the answer of one state.
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
from pikadb.commands.table import COMMANDS, Command
from pikadb.storage import layout as L
from pikadb.storage.batch import Batch
from pikadb.storage.layout import collection_size

Handler = Callable[[ClientState, list[bytes]], Any]
BIG = 10_000  # members from which a whole-collection read is worth a thread


def _always(c: ClientState, args: list[bytes]) -> bool:
    return True


def _big_key(c: ClientState, args: list[bytes]) -> bool:
    raw = c.db.lookup(args[1])[1]
    return raw is not None and collection_size(raw) >= BIG


def _big_range(c: ClientState, args: list[bytes]) -> bool:
    """LRANGE: worth it when the range asked for (not the list) holds BIG items."""
    raw = c.db.lookup(args[1])[1]
    if raw is None or raw[0] != L.T_LIST:
        return False
    try:
        start, stop = int(args[2]), int(args[3])
    except (ValueError, IndexError):
        return False
    size = collection_size(raw)
    start = max(start + size if start < 0 else start, 0)
    stop = min(stop + size if stop < 0 else stop, size - 1)
    return stop - start + 1 >= BIG


def _big_keys(first: int, numkeys: bool = False) -> Callable[[ClientState, list[bytes]], bool]:
    """Worth it when the keys from ``args[first]`` on (``numkeys``: args[first] is their
    count) hold at least BIG members together."""

    def worth(c: ClientState, args: list[bytes]) -> bool:
        if numkeys:
            try:
                n = int(args[first])
            except ValueError:
                return False
            keys = args[first + 1 : first + 1 + n]
        else:
            keys = args[first:]
        total = 0
        lookup = c.db.lookup
        for key in keys:
            raw = lookup(key)[1]
            if raw is not None and raw[0] != L.T_STRING:
                total += collection_size(raw)
        return total >= BIG

    return worth


# command -> when it is worth running off the loop
OFFLOADABLE: dict[str, Callable[[ClientState, list[bytes]], bool]] = {
    "keys": _always,
    "smembers": _big_key,
    "hgetall": _big_key,
    "hkeys": _big_key,
    "hvals": _big_key,
    "lrange": _big_range,
    "sunion": _big_keys(1),
    "sinter": _big_keys(1),
    "sdiff": _big_keys(1),
    "sintercard": _big_keys(1, numkeys=True),
    "zunion": _big_keys(1, numkeys=True),
    "zinter": _big_keys(1, numkeys=True),
    "zdiff": _big_keys(1, numkeys=True),
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


def _wrap(cmd: Command, handler: Handler) -> Handler:
    worth = OFFLOADABLE[cmd.name]

    def offloaded(c: ClientState, args: list[bytes]) -> Any:
        if not blocking.can_block(c) or not worth(c, args):
            return handler(c, args)
        global _pool
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pikadb-slow")
        c.db.engine.flush_group()  # this tick's writes (the client's own too) become visible
        view = _ViewClient(c)
        fut = asyncio.get_running_loop().run_in_executor(_pool, handler, view, args)
        positions = cmd.key_positions(args)
        if not positions:  # KEYS: one scan, one point-in-time iterator
            return fut
        mkey = c.db.mkey
        return _checked(c, handler, args, fut, _KeyWatch({mkey(args[i]) for i in positions}))

    offloaded.__wrapped__ = handler  # type: ignore[attr-defined]
    return offloaded


class _KeyWatch:
    """A commit listener noting whether a batch touched one of ``mkeys`` or a whole table
    they live in (FLUSHDB / FLUSHALL / SWAPDB touch 2-byte table prefixes)."""

    __slots__ = ("hit", "mkeys", "tables")

    def __init__(self, mkeys: set[bytes]) -> None:
        self.mkeys = mkeys
        self.tables = {k[:2] for k in mkeys}
        self.hit = False

    def __call__(self, batch: Batch) -> None:
        if not self.hit:
            for t in batch.touched:
                if t in self.mkeys or t in self.tables:
                    self.hit = True
                    return


async def _checked(
    c: ClientState, handler: Handler, args: list[bytes], fut: Any, watch: _KeyWatch
) -> Any:
    """The worker's reply, unless a commit touched the command's keys meanwhile: then the
    command runs again inline (see "Consistency" above)."""
    listeners = c.server.store.listeners
    listeners.append(watch)
    try:
        reply = await fut
    except Exception:
        if not watch.hit:
            raise
    finally:
        listeners.remove(watch)
    if watch.hit:
        c.server.stats.offload_retries += 1
        return handler(c, args)
    return reply


def apply_list(value: str) -> None:
    """Wrap exactly the offloadable commands named in ``value`` (comma/space separated)."""
    wanted = {n.strip().lower() for n in value.replace(",", " ").split()}
    for name in OFFLOADABLE:
        cmd = COMMANDS.get(name.encode())
        if cmd is None or cmd.handler is None:
            continue
        original = _inline.setdefault(name, cmd.handler)
        cmd.handler = _wrap(cmd, original) if name in wanted else original


def install(server: ServerState) -> None:
    """Apply ``slow-cmd-list`` now and on every CONFIG SET of it."""
    sys.setswitchinterval(0.001)
    apply_list(server.settings.server.slow_cmd_list)
    if id(server.config) not in _installed:
        _installed.add(id(server.config))
        server.config.on_change("slow-cmd-list", apply_list)
