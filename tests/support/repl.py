"""Replication test helpers: the Redis replication surface (ROLE, INFO replication, INFO stats
sync counters, DEBUG DIGEST), waiting for replicas to catch up, data sets, and a background
writer that records every acknowledged write so a test can prove none was lost.

Only the Redis-standard surface is used, so the same helpers drive redis-server too.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.servers import PikaServer

# Every pikadb node in the replication tests: DEBUG DIGEST needs the debug command.
NODE_ARGS = ("--set", "enable-debug-command=yes")

# Data set size: small in `make test`, millions of keys in `make repl-large`.
KEYS = int(os.environ.get("PIKADB_REPL_KEYS", "2000"))
LARGE = KEYS >= 100_000
VERBOSE = LARGE or bool(os.environ.get("PIKADB_REPL_PROGRESS"))
_T0 = time.monotonic()


def progress(msg: str) -> None:
    """One line on stderr in large mode or with PIKADB_REPL_PROGRESS=1 (see it with pytest -s)."""
    if VERBOSE:
        print(f"[repl {time.monotonic() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def timeout_for(keys: int = KEYS) -> float:
    """Seconds a sync of ``keys`` keys may take on a busy 2-core box."""
    return 60.0 + keys / 2000


# --- surface ------------------------------------------------------------------------------
def info(c: redis.Redis, section: str = "replication") -> dict[str, object]:
    return c.info(section)  # type: ignore[no-any-return]


def digest(c: redis.Redis) -> bytes:
    return c.execute_command("DEBUG", "DIGEST")  # type: ignore[no-any-return]


def sync_counters(master: redis.Redis) -> tuple[int, int]:
    """(sync_full, sync_partial_ok) from INFO stats: full syncs and accepted partial resyncs
    this node served as a master (Redis's counters)."""
    st = info(master, "stats")
    return int(st["sync_full"]), int(st["sync_partial_ok"])  # type: ignore[call-overload]


def replicaof(c: redis.Redis, host: str | None, port: int | None = None) -> bytes:
    if host is None:
        return c.execute_command("REPLICAOF", "NO", "ONE")  # type: ignore[no-any-return]
    return c.execute_command("REPLICAOF", host, str(port))  # type: ignore[no-any-return]


def wait_until(
    pred: Callable[[], object], timeout: float, what: str, interval: float = 0.05
) -> object:
    """Poll ``pred`` until it returns something truthy; errors count as "not yet"."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            got = pred()
            if got:
                return got
            last = got
        except (redis.RedisError, OSError) as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})"
            )
        time.sleep(interval)


def replica_ports(master: redis.Redis) -> set[int]:
    """Listening ports of the replicas a master lists in INFO replication (slaveN lines)."""
    i = info(master)
    return {int(v["port"]) for k, v in i.items() if k.startswith("slave") and isinstance(v, dict)}


def online_replicas(master: redis.Redis) -> int:
    """How many replicas the master's INFO lists online with everything acked."""
    i = info(master)
    offset = i["master_repl_offset"]
    return sum(
        1
        for k, v in i.items()
        if k.startswith("slave")
        and isinstance(v, dict)
        and v.get("state") == "online"
        and v.get("offset") == offset
    )


def link_up(replica: redis.Redis) -> bool:
    i = info(replica)
    return i.get("role") == "slave" and i.get("master_link_status") == "up"


def wait_link_up(replica: redis.Redis, timeout: float = 30.0) -> None:
    wait_until(lambda: link_up(replica), timeout, "master_link_status:up")


def wait_link_down(replica: redis.Redis, timeout: float = 30.0) -> None:
    wait_until(
        lambda: info(replica).get("master_link_status") == "down",
        timeout,
        "master_link_status:down",
    )


def offsets_caught_up(upstream: redis.Redis, replica: redis.Redis) -> bool:
    m = int(info(upstream)["master_repl_offset"])  # type: ignore[call-overload]
    i = info(replica)
    return i.get("master_link_status") == "up" and int(i["slave_repl_offset"]) == m  # type: ignore[call-overload]


def wait_converged(
    nodes: Sequence[redis.Redis],
    pairs: Iterable[tuple[redis.Redis, redis.Redis]] = (),
    timeout: float = 60.0,
) -> bytes:
    """Wait until every (upstream, replica) pair reports equal offsets with the link up, then
    until all nodes print the same DEBUG DIGEST (polled: the last records may still be in
    flight). Returns the digest. Writes must have stopped."""
    deadline = time.monotonic() + timeout
    for up, rep in pairs:
        wait_until(
            lambda up=up, rep=rep: offsets_caught_up(up, rep),  # type: ignore[misc]
            max(1.0, deadline - time.monotonic()),
            "slave_repl_offset == master_repl_offset",
        )

    seen: list[list[bytes]] = []

    def same() -> bytes | None:
        ds = digests(nodes)
        seen[:] = [ds]
        return ds[0] if len(set(ds)) == 1 else None

    try:
        got = wait_until(same, max(1.0, deadline - time.monotonic()), "equal DEBUG DIGEST", 0.2)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; digests per node: {seen}") from None
    return got  # type: ignore[return-value]


def digests(nodes: Sequence[redis.Redis]) -> list[bytes]:
    """DEBUG DIGEST of every node, asked in parallel (each node is its own process)."""
    with ThreadPoolExecutor(max(1, len(nodes))) as pool:
        return list(pool.map(digest, nodes))


def no_retry_client(port: int, timeout: float = 10.0) -> redis.Redis:
    """A client that never re-sends a command by itself (redis-py retries by default, which
    would apply a write twice when the first attempt was executed but its reply lost)."""
    return redis.Redis(
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )


# The `node` fixture (tests/replication/conftest.py): node("name=value", ...) -> started server.
Node = Callable[..., PikaServer]


# --- data sets ----------------------------------------------------------------------------
def preload(
    c: redis.Redis,
    n: int,
    prefix: str = "pre",
    value_size: int = 100,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> None:
    """``n`` string keys plus a few keys of every other type (with TTLs, and in DB 1), written
    with pipelines. The bytes are random so the data set doesn't compress away."""
    rnd = random.Random(seed)
    p = c.pipeline(transaction=False)
    step = 1000
    for i in range(n):
        p.set(f"{prefix}:s:{i}", rnd.randbytes(value_size))
        if (i + 1) % step == 0:
            p.execute()
            if progress is not None:
                progress(i + 1)
    groups = max(1, n // 1000)
    for g in range(groups):
        p.hset(f"{prefix}:h:{g}", mapping={f"f{j}": f"v{g}.{j}" for j in range(20)})
        p.rpush(f"{prefix}:l:{g}", *[f"e{j}" for j in range(20)])
        p.sadd(f"{prefix}:set:{g}", *[f"m{j}" for j in range(20)])
        p.zadd(f"{prefix}:z:{g}", {f"m{j}": j * 1.5 for j in range(20)})
        p.set(f"{prefix}:ttl:{g}", "v", ex=100_000)
    p.execute()
    p.execute_command("SELECT", "1")
    for g in range(groups):
        p.set(f"{prefix}:db1:{g}", f"one-{g}")
    p.execute_command("SELECT", "0")
    p.execute()


def check_preload(c: redis.Redis, n: int, prefix: str = "pre") -> list[str]:
    """Every preloaded string key is there (values are covered by the digest)."""
    missing: list[str] = []
    for lo in range(0, n, 2000):
        keys = [f"{prefix}:s:{i}" for i in range(lo, min(n, lo + 2000))]
        for k, v in zip(keys, c.mget(keys), strict=True):
            if v is None:
                missing.append(k)
    return missing


# --- acknowledged writes ------------------------------------------------------------------
@dataclass
class _Model:
    """What the acknowledged writes imply. Writes whose outcome is unknown (the connection
    broke before the reply) widen the allowed set instead of being ignored."""

    strings: dict[str, set[bytes | None]] = field(default_factory=dict)
    counters: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (lo, unsure)
    lists: dict[str, list[tuple[bytes, bool]]] = field(default_factory=dict)  # (elem, acked)
    hashes: dict[str, dict[bytes, set[bytes | None]]] = field(default_factory=dict)


class AckedWriter(threading.Thread):
    """Writes a mix of SET/overwrite/DEL/INCR/RPUSH/HSET to one server (pipelined batches)
    until stopped or ``max_ops`` are done, reconnecting when the connection breaks. Every
    acknowledged write is recorded; :meth:`verify` checks a node holds all of them."""

    def __init__(
        self,
        port: int,
        prefix: str = "w",
        *,
        rate: float = 0.0,
        max_ops: int = 0,
        batch: int = 16,
        seed: int = 7,
    ) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.prefix = prefix
        self.rate = rate  # ops/s, 0 = as fast as possible
        self.max_ops = max_ops  # 0 = until stop()
        self.batch = batch
        self.rnd = random.Random(seed)
        self.model = _Model()
        self.acked = 0
        self.failed = 0
        self.errors: list[str] = []
        self._halt = threading.Event()
        self._next_new = 0

    # the op mix ---------------------------------------------------------------------------
    def _op(self) -> tuple[str, str, bytes, bytes]:
        p, r = self.prefix, self.rnd.random()
        val = b"%d:%d" % (self._next_new, self.rnd.randrange(1 << 30))
        if r < 0.45:
            self._next_new += 1
            return ("set", f"{p}:s:{self._next_new}", b"", val)
        if r < 0.60:
            return ("set", f"{p}:hot:{self.rnd.randrange(50)}", b"", val)
        if r < 0.65 and self._next_new:
            return ("del", f"{p}:s:{self.rnd.randrange(1, self._next_new + 1)}", b"", b"")
        if r < 0.77:
            return ("incr", f"{p}:c:{self.rnd.randrange(10)}", b"", b"")
        if r < 0.89:
            self._next_new += 1
            return ("rpush", f"{p}:l:{self.rnd.randrange(5)}", b"", b"e%d" % self._next_new)
        return ("hset", f"{p}:h:{self.rnd.randrange(10)}", b"f%d" % self.rnd.randrange(30), val)

    def _send(self, c: redis.Redis, ops: list[tuple[str, str, bytes, bytes]]) -> list[object]:
        p = c.pipeline(transaction=False)
        for kind, key, fld, val in ops:
            if kind == "set":
                p.set(key, val)
            elif kind == "del":
                p.delete(key)
            elif kind == "incr":
                p.incr(key)
            elif kind == "rpush":
                p.rpush(key, val)
            else:
                p.hset(key, fld, val)
        return p.execute(raise_on_error=False)  # type: ignore[no-any-return]

    def _record(self, op: tuple[str, str, bytes, bytes], acked: bool, reply: object) -> None:
        kind, key, fld, val = op
        m = self.model
        if acked and isinstance(reply, Exception):
            self.errors.append(f"{kind} {key}: {reply}")
            acked = False
            if isinstance(reply, redis.ResponseError):  # refused: not applied
                return
        if kind in ("set", "del"):
            v = val if kind == "set" else None
            if acked:
                m.strings[key] = {v}
            else:
                m.strings.setdefault(key, {None}).add(v)
        elif kind == "incr":
            lo, unsure = m.counters.get(key, (0, 0))
            m.counters[key] = (int(reply), 0) if acked else (lo, unsure + 1)  # type: ignore[call-overload]
        elif kind == "rpush":
            m.lists.setdefault(key, []).append((val, acked))
        else:
            h = m.hashes.setdefault(key, {})
            if acked:
                h[fld] = {val}
            else:
                h.setdefault(fld, {None}).add(val)
        if acked:
            self.acked += 1
        else:
            self.failed += 1

    def run(self) -> None:
        c: redis.Redis | None = None
        done = 0
        started = time.monotonic()
        while not self._halt.is_set() and (not self.max_ops or done < self.max_ops):
            n = self.batch if not self.max_ops else min(self.batch, self.max_ops - done)
            ops = [self._op() for _ in range(n)]
            try:
                if c is None:
                    c = no_retry_client(self.port)
                replies = self._send(c, ops)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                for op in ops:
                    self._record(op, False, None)
                if c is not None:
                    c.close()
                c = None
                time.sleep(0.05)
            else:
                for op, rep in zip(ops, replies, strict=True):
                    self._record(op, True, rep)
            done += n
            if self.rate:
                ahead = done / self.rate - (time.monotonic() - started)
                if ahead > 0:
                    self._halt.wait(ahead)
        if c is not None:
            c.close()

    def stop(self) -> AckedWriter:
        self._halt.set()
        self.join(60)
        assert not self.is_alive(), "writer did not stop"
        return self

    # verification -------------------------------------------------------------------------
    def verify(self, c: redis.Redis) -> list[str]:
        """Problems found on the node behind ``c`` (empty: every acknowledged write is there
        and nothing outside the allowed outcomes appeared)."""
        m, bad = self.model, []
        skeys = list(m.strings)
        for lo in range(0, len(skeys), 2000):
            chunk = skeys[lo : lo + 2000]
            for k, v in zip(chunk, c.mget(chunk), strict=True):
                if v not in m.strings[k]:
                    bad.append(f"{k}: {v!r} not in {sorted(map(repr, m.strings[k]))}")
        for k, (lo_, unsure) in m.counters.items():
            got = int(c.get(k) or 0)
            if not lo_ <= got <= lo_ + unsure:
                bad.append(f"{k}: counter {got} outside [{lo_}, {lo_ + unsure}]")
        for k, elems in m.lists.items():
            got = c.lrange(k, 0, -1)
            want = [e for e, a in elems if a]
            maybe = {e for e, a in elems if not a}
            if [e for e in got if e not in maybe] != want:
                bad.append(f"{k}: list {len(got)} elems, acked {len(want)}, order/content differs")
            order = [e for e, _ in elems]
            pos = [order.index(e) for e in got if e in order]
            if pos != sorted(pos) or len(set(got)) != len(got) or len(pos) != len(got):
                bad.append(f"{k}: list has foreign, duplicated or reordered elements")
        for k, fields in m.hashes.items():
            got_h = c.hgetall(k)
            for f, allowed in fields.items():
                if got_h.get(f) not in allowed:
                    bad.append(f"{k}.{f!r}: {got_h.get(f)!r} not in {sorted(map(repr, allowed))}")
        return bad

    def assert_all_on(self, *clients: redis.Redis) -> None:
        assert self.acked > 0, "the writer got no write acknowledged"
        for i, c in enumerate(clients):
            bad = self.verify(c)
            assert not bad, f"node {i}: {len(bad)} acknowledged writes lost, e.g. {bad[:5]}"
