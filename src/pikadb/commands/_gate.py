"""The dispatcher's per-client slow-path flag (``ClientState.gate``), kept in one place.

A client's commands skip every transaction / MONITOR / CLIENT PAUSE check unless its ``gate``
is set (one attribute test on the hot path). It must be set whenever one of these holds, and
may be cleared when none does:

* the client is in MULTI (``c.multi is not None``) or WATCHes keys (``c.watched``);
* it is a MONITOR client (``c.monitoring``);
* it is subscribed (``c.subscribed``: the RESP2 subscribed-mode check can live on the slow path);
* its server has clients paused (CLIENT PAUSE: :data:`PAUSED`).

:data:`MONITORS` (every MONITOR client in the process) lives here too, for the same reason:
slowlog.update_threshold sets ``server.slow_us`` to 0 while the server has monitors, so the
dispatcher's one post-run test (``dur >= server.slow_us``) also covers MONITOR.

Call :func:`refresh_gate` after changing any of these for a client, :func:`refresh_all` after
a pause starts or ends. A gate left on by mistake only costs the slow path.
"""

from __future__ import annotations

from weakref import WeakSet

from pikadb.commands.context import ClientState, ServerState

# Servers with a CLIENT PAUSE in force (commands/pause.py keeps it).
PAUSED: WeakSet[ServerState] = WeakSet()
# Every monitoring client of every server in this process (commands/monitor.py keeps it).
MONITORS: list[ClientState] = []


def refresh_gate(c: ClientState) -> None:
    c.gate = bool(
        c.multi is not None
        or c.watched
        or c.monitoring
        or c.subscribed
        or (PAUSED and c.server in PAUSED)
    )


def refresh_all(server: ServerState) -> None:
    for c in server.clients.values():
        refresh_gate(c)
