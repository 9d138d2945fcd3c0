"""A shared replication deployment for the fault scenarios: a preloaded master and named
replicas created on first use (pikadb processes on loopback).

Starting a pikadb process costs ~2 s, so the scenarios share one evolving deployment. Each test
leaves every node converged, and at its end checks that every node prints the same DEBUG
DIGEST and holds every write acknowledged since the deployment started (all writers so far),
so a later test also re-proves the earlier ones. Any test can run alone: what it needs is
created lazily.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import redis

from tests.support.repl import (
    KEYS,
    LARGE,
    NODE_ARGS,
    AckedWriter,
    check_preload,
    preload,
    progress,
    replicaof,
    timeout_for,
    wait_converged,
    wait_link_up,
)
from tests.support.servers import PikaServer

FAST_SYNC = 1 << 30
# Small mode: a full sync of the preloaded data (~0.5 MB on disk) takes a few seconds, so a
# test can act while it runs. Large mode: the data set is big enough on its own.
SLOW_SYNC = 256 << 10 if KEYS < 100_000 else FAST_SYNC
# Short in small mode so a dead link is noticed fast; large mode leaves room for DEBUG DIGEST
# over millions of keys, which holds a node's event loop for a while.
REPL_TIMEOUT = "repl-timeout=2" if KEYS < 100_000 else "repl-timeout=600"


class Cluster:
    """A master with KEYS preloaded keys plus named replicas (each with its upstream)."""

    def __init__(self) -> None:
        self.servers: dict[str, PikaServer] = {}
        self.upstream: dict[str, str | None] = {}
        self.writers: list[AckedWriter] = []

    # -- nodes --------------------------------------------------------------------------------
    def start(self, name: str, *settings: str) -> PikaServer:
        args: list[str] = list(NODE_ARGS)
        for s in settings:
            args += ["--set", s]
        srv = PikaServer(args=args).start()
        self.servers[name] = srv
        return srv

    @property
    def master(self) -> PikaServer:
        if "master" not in self.servers:
            srv = self.start("master", f"throttle-bytes-per-second={FAST_SYNC}", REPL_TIMEOUT)
            progress(f"preloading {KEYS} keys")
            preload(
                srv.client(),
                KEYS,
                progress=lambda n: n % 200_000 == 0 and progress(f"  {n} keys"),
            )
            progress("preloaded")
            self.upstream["master"] = None
        return self.servers["master"]

    def client(self, name: str) -> redis.Redis:
        # DEBUG DIGEST over millions of keys takes a while in large mode
        return self.servers[name].client(socket_timeout=max(30.0, timeout_for()))

    def attach(self, name: str, upstream: str = "master", port: int | None = None) -> redis.Redis:
        """REPLICAOF ``upstream`` (or 127.0.0.1:``port``, e.g. a proxy) on node ``name``."""
        up_port = port if port is not None else self.servers[upstream].port
        c = self.client(name)
        assert replicaof(c, "127.0.0.1", up_port) == b"OK"
        self.upstream[name] = upstream
        return c

    def replica(self, name: str, upstream: str = "master", *settings: str) -> redis.Redis:
        """Node ``name`` replicating ``upstream``, started and synced on first use."""
        if name not in self.servers:
            self.master  # noqa: B018 - started first
            self.start(name, REPL_TIMEOUT, *settings)
            c = self.attach(name, upstream)
            wait_link_up(c, timeout_for())
            self.converge()
        return self.client(name)

    def throttle(self, rate: int) -> None:
        self.master.client().config_set("throttle-bytes-per-second", str(rate))

    # -- checks ---------------------------------------------------------------------------------
    def live(self) -> list[str]:
        return [n for n, s in self.servers.items() if s.proc is not None]

    def converge(self) -> bytes:
        """Every live node caught up with its upstream and printing the same digest."""
        names = self.live()
        clients = {n: self.client(n) for n in names}
        pairs = [
            (clients[up], clients[n])
            for n in names
            if (up := self.upstream.get(n)) is not None and up in clients
        ]
        return wait_converged(list(clients.values()), pairs, timeout_for())

    def check(self) -> bytes:
        """Converged, and no acknowledged write lost anywhere: preload and every writer."""
        d = self.converge()
        progress(f"converged: {d!r} on {', '.join(self.live())}")

        def problems(name: str) -> list[str]:
            c = self.client(name)
            if check_preload(c, KEYS):
                return [f"{name}: preloaded keys missing"]
            for w in self.writers:
                bad = w.verify(c)
                if bad:
                    return [f"{name}: {len(bad)} acknowledged writes lost ({w.prefix}): {bad[:5]}"]
            return []

        # Equal digests mean equal data: in large mode reading millions of keys back from the
        # master alone is enough; small mode reads them back from every node as well.
        names = ["master"] if LARGE and "master" in self.live() else self.live()
        with ThreadPoolExecutor(len(names)) as pool:
            found = [p for ps in pool.map(problems, names) for p in ps]
        assert not found, found
        progress(f"checked {sum(w.acked for w in self.writers)} acknowledged writes")
        return d

    def writer(self, prefix: str, **kw: float | int) -> AckedWriter:
        """A started AckedWriter on the master, verified by every later check()."""
        w = AckedWriter(self.master.port, prefix, **kw)  # type: ignore[arg-type]
        self.writers.append(w)
        w.start()
        return w

    def cleanup(self) -> None:
        for w in self.writers:
            if w.is_alive():
                w.stop()
        for s in self.servers.values():
            s.cleanup()
