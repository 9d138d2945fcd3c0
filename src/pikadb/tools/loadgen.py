"""``pikadb bench``: a mixed-workload load generator with latency percentiles.

Workload
    ``--mix string=4,hash=1,list=1,set=1,zset=1,stream=1`` weighs the data types; each type
    has its own key space (``<prefix><type>:<n>``, so no WRONGTYPE) and its commands:

    ======  =========================================  ==========================================
    type    reads                                      writes
    ======  =========================================  ==========================================
    string  GET                                        SET
    hash    HGET, HGETALL                              HSET (field of ``--fields``)
    list    LRANGE 0 9, LINDEX 0                       LPUSH, RPOP (the length stays bounded)
    set     SISMEMBER, SCARD                           SADD (member of ``--fields``)
    zset    ZSCORE, ZRANGE 0 9 WITHSCORES              ZADD (member of ``--fields``)
    stream  XREVRANGE + - COUNT 10, XLEN               XADD MAXLEN ~ 1000
    ======  =========================================  ==========================================

    ``--ratio R:W`` sets reads to writes (``4:1``: 80 % reads); ``--keys N`` with
    ``--distribution uniform|zipf`` (``--zipf-s``, hot keys are the low numbers) picks keys;
    ``--value-size`` is ``N`` bytes, ``A-B`` (uniform) or ``exp:MEAN`` (exponential,
    clipped to 1..64 MiB). ``--prefill`` writes every key once before the run so reads hit.

Driving
    One asyncio (uvloop) process, ``--clients`` connections, each sending ``--pipeline``
    commands per write and waiting for all replies (redis-benchmark's model). Commands are
    generated up front into a ring of pre-packed batches, so the send path costs one
    ``transport.write`` per batch and replies are parsed by hiredis in C. A reply's latency
    is the time from its batch's write to the read that completed it.

Output
    Live progress on stderr once a second (ops/s, p50, p99 of that second; auto-off when
    stderr is not a tty or with ``--no-progress``), then a table per command and in total:
    calls, ops/s, errors, p50/p90/p99/p99.9/max in ms — or the same as JSON (``--json``).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hiredis

from pikadb.tools.resp import RespClient, pack_command

ReplyError = hiredis.ReplyError
TYPES = ("string", "hash", "list", "set", "zset", "stream")
DEFAULT_MIX = "string=4,hash=1,list=1,set=1,zset=1,stream=1"
PERCENTILES = (50.0, 90.0, 99.0, 99.9)

# --- latency histogram: log-linear buckets of microseconds (~3 % resolution) ------------------
SUB_BITS = 5
SUB = 1 << SUB_BITS  # 32 sub-buckets per power of two
LINEAR = SUB * 2  # values below 64 us are exact
NBUCKETS = LINEAR + 40 * SUB


def bucket(us: int) -> int:
    if us < LINEAR:
        return us if us > 0 else 0
    e = us.bit_length() - SUB_BITS - 1
    return min(e * SUB + (us >> e), NBUCKETS - 1)


def bucket_value(b: int) -> int:
    """The highest value (us) a bucket holds (percentiles round up, like HdrHistogram)."""
    if b < LINEAR:
        return b
    e = b // SUB - 1
    m = b - e * SUB
    return ((m + 1) << e) - 1


def percentile(counts: list[int], total: int, p: float) -> int:
    if total <= 0:
        return 0
    rank = max(1, math.ceil(total * p / 100.0))
    seen = 0
    for b, n in enumerate(counts):
        if n:
            seen += n
            if seen >= rank:
                return bucket_value(b)
    return 0


def max_value(counts: list[int]) -> int:
    for b in range(len(counts) - 1, -1, -1):
        if counts[b]:
            return bucket_value(b)
    return 0


# --- workload ------------------------------------------------------------------------------
def parse_mix(text: str) -> dict[str, float]:
    if text.strip() in ("", "all"):
        return {t: 1.0 for t in TYPES}
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, weight = part.strip().partition("=")
        name = name.strip().lower()
        if name not in TYPES:
            raise ValueError(f"unknown type {name!r} in --mix (types: {', '.join(TYPES)})")
        w = float(weight) if weight else 1.0
        if w < 0:
            raise ValueError("--mix weights must be >= 0")
        if w:
            mix[name] = w
    if not mix:
        raise ValueError("--mix selects no type")
    return mix


def parse_ratio(text: str) -> float:
    """``R:W`` -> fraction of reads."""
    reads, sep, writes = text.partition(":")
    r, w = (float(reads), float(writes)) if sep else (float(reads), 1.0 - float(reads))
    if r < 0 or w < 0 or r + w <= 0:
        raise ValueError("--ratio is READS:WRITES, e.g. 4:1 (or a read fraction like 0.8)")
    return r / (r + w)


def parse_value_size(text: str) -> Callable[[random.Random], int]:
    text = text.strip().lower()
    cap = 64 << 20
    if text.startswith("exp:"):
        mean = float(text[4:])
        if mean <= 0:
            raise ValueError("exp:MEAN needs MEAN > 0")
        return lambda rnd: max(1, min(cap, round(rnd.expovariate(1.0 / mean))))
    lo, sep, hi = text.partition("-")
    a, b = int(lo), int(hi) if sep else int(lo)
    if a < 0 or b < a or b > cap:
        raise ValueError("--value-size is N, A-B or exp:MEAN (bytes)")
    return (lambda rnd: a) if a == b else (lambda rnd: rnd.randint(a, b))


@dataclass
class Workload:
    mix: dict[str, float] = field(default_factory=lambda: parse_mix(DEFAULT_MIX))
    read_fraction: float = 0.8
    keys: int = 10_000
    distribution: str = "uniform"
    zipf_s: float = 0.99
    value_size: str = "100"
    fields: int = 16
    prefix: str = "bench:"
    seed: int = 1

    def describe(self) -> dict[str, Any]:
        reads = round(self.read_fraction * 100, 1)
        return {
            "mix": self.mix,
            "reads_percent": reads,
            "keys": self.keys,
            "distribution": self.distribution
            + (f"(s={self.zipf_s})" if self.distribution == "zipf" else ""),
            "value_size": self.value_size,
            "fields": self.fields,
        }


class Generator:
    """Draws commands: ``next() -> (argv tuple, op name)``."""

    def __init__(self, w: Workload) -> None:
        self.w = w
        self.rnd = random.Random(w.seed)
        self.types = list(w.mix)
        self.type_cum = list(itertools.accumulate(w.mix[t] for t in self.types))
        self.size = parse_value_size(w.value_size)
        self.pool = bytes(self.rnd.getrandbits(8) % 26 + 97 for _ in range(1 << 16))
        if w.distribution == "zipf":
            weights = (1.0 / (i**w.zipf_s) for i in range(1, w.keys + 1))
            self.key_cum: list[float] | None = list(itertools.accumulate(weights))
        elif w.distribution == "uniform":
            self.key_cum = None
        else:
            raise ValueError("--distribution is uniform or zipf")
        self.xid = 0

    def key_index(self) -> int:
        if self.key_cum is None:
            return self.rnd.randrange(self.w.keys)
        x = self.rnd.random() * self.key_cum[-1]
        return min(bisect.bisect_left(self.key_cum, x), self.w.keys - 1)

    def value(self) -> bytes:
        n = self.size(self.rnd)
        pool = self.pool
        if n <= len(pool):
            off = self.rnd.randrange(len(pool) - n + 1)
            return pool[off : off + n]
        return (pool * (n // len(pool) + 1))[:n]

    def key(self, t: str, i: int) -> bytes:
        return f"{self.w.prefix}{t}:{i}".encode()

    def next(self) -> tuple[tuple[Any, ...], str]:
        rnd = self.rnd
        t = self.types[bisect.bisect_left(self.type_cum, rnd.random() * self.type_cum[-1])]
        k = self.key(t, self.key_index())
        read = rnd.random() < self.w.read_fraction
        member = b"m%d" % rnd.randrange(self.w.fields)
        pick = rnd.random() < 0.5
        if t == "string":
            return (("GET", k), "GET") if read else (("SET", k, self.value()), "SET")
        if t == "hash":
            if read:
                return (("HGET", k, member), "HGET") if pick else (("HGETALL", k), "HGETALL")
            return ("HSET", k, member, self.value()), "HSET"
        if t == "list":
            if read:
                return (("LRANGE", k, 0, 9), "LRANGE") if pick else (("LINDEX", k, 0), "LINDEX")
            return (("LPUSH", k, self.value()), "LPUSH") if pick else (("RPOP", k), "RPOP")
        if t == "set":
            if read:
                return (("SISMEMBER", k, member), "SISMEMBER") if pick else (("SCARD", k), "SCARD")
            return ("SADD", k, member), "SADD"
        if t == "zset":
            if read:
                if pick:
                    return ("ZSCORE", k, member), "ZSCORE"
                return ("ZRANGE", k, 0, 9, "WITHSCORES"), "ZRANGE"
            return ("ZADD", k, rnd.randrange(1_000_000), member), "ZADD"
        if read:
            if pick:
                return ("XREVRANGE", k, "+", "-", "COUNT", 10), "XREVRANGE"
            return ("XLEN", k), "XLEN"
        return ("XADD", k, "MAXLEN", "~", 1000, "*", "f", self.value()), "XADD"

    def prefill_commands(self) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        n = self.w.fields
        for t in self.types:
            for i in range(self.w.keys):
                k = self.key(t, i)
                if t == "string":
                    out.append(("SET", k, self.value()))
                elif t == "hash":
                    args: list[Any] = ["HSET", k]
                    for j in range(n):
                        args += [b"m%d" % j, self.value()]
                    out.append(tuple(args))
                elif t == "list":
                    out.append(("RPUSH", k, *(self.value() for _ in range(10))))
                elif t == "set":
                    out.append(("SADD", k, *(b"m%d" % j for j in range(n))))
                elif t == "zset":
                    args = ["ZADD", k]
                    for j in range(n):
                        args += [j, b"m%d" % j]
                    out.append(tuple(args))
                else:
                    out += [("XADD", k, "*", "f", self.value()) for _ in range(3)]
        return out


# --- the driver ----------------------------------------------------------------------------
@dataclass
class Target:
    host: str = "127.0.0.1"
    port: int = 9221
    unix_socket: str | None = None
    password: str | None = None
    user: str | None = None
    db: int = 0


class Stats:
    def __init__(self, ops: list[str]) -> None:
        self.ops = ops
        self.hist = [[0] * NBUCKETS for _ in ops]
        self.errors = [0] * len(ops)
        self.done = 0
        self.first_error: str | None = None

    def merged(self) -> list[int]:
        return [sum(col) for col in zip(*self.hist, strict=True)]


class BenchProtocol(asyncio.Protocol):
    """One connection: send a pre-packed batch, count its replies into :class:`Stats`."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.reader = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.ops: tuple[int, ...] = ()
        self.got = 0
        self.sent_ns = 0
        self.collected: list[Any] | None = None
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("connection closed by server")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        ops = self.ops
        i = self.got
        if self.collected is not None:
            while (r := reader.gets()) is not False:
                self.collected.append(r)
                i += 1
        else:
            stats = self.stats
            b = bucket((time.perf_counter_ns() - self.sent_ns) // 1000)
            hist = stats.hist
            while (r := reader.gets()) is not False:
                op = ops[i]
                hist[op][b] += 1
                i += 1
                if type(r) is ReplyError:
                    stats.errors[op] += 1
                    if stats.first_error is None:
                        stats.first_error = str(r)
            stats.done += i - self.got
        self.got = i
        if i >= len(ops) and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def send(self, payload: bytes, ops: tuple[int, ...]) -> None:
        if self.lost is not None:
            raise self.lost
        assert self.transport is not None
        self.ops = ops
        self.got = 0
        self.waiter = asyncio.get_running_loop().create_future()
        self.sent_ns = time.perf_counter_ns()
        self.transport.write(payload)
        await self.waiter

    async def call(self, *args: Any) -> Any:
        self.collected = []
        try:
            await self.send(pack_command(args), (0,))
            reply = self.collected[0]
        finally:
            self.collected = None
        if isinstance(reply, ReplyError):
            raise reply
        return reply


@dataclass
class Options:
    clients: int = 50
    pipeline: int = 1
    requests: int | None = None
    duration: float | None = None
    progress: bool = False
    ring: int = 0  # commands generated up front (0: automatic)


def build_ring(
    gen: Generator, opts: Options
) -> tuple[list[str], list[tuple[bytes, tuple[int, ...]]]]:
    ring = opts.ring or max(1 << 14, min(2 * gen.w.keys, 1 << 17))
    if opts.requests:
        ring = min(ring, max(opts.requests, opts.pipeline))
    nbatches = max(1, ring // opts.pipeline)
    op_ids: dict[str, int] = {}
    batches: list[tuple[bytes, tuple[int, ...]]] = []
    for _ in range(nbatches):
        parts: list[bytes] = []
        ops: list[int] = []
        for _ in range(opts.pipeline):
            argv, name = gen.next()
            parts.append(pack_command(argv))
            ops.append(op_ids.setdefault(name, len(op_ids)))
        batches.append((b"".join(parts), tuple(ops)))
    return list(op_ids), batches


async def _connect(target: Target, stats: Stats) -> BenchProtocol:
    loop = asyncio.get_running_loop()
    if target.unix_socket:
        _, proto = await loop.create_unix_connection(
            lambda: BenchProtocol(stats), target.unix_socket
        )
    else:
        _, proto = await loop.create_connection(
            lambda: BenchProtocol(stats), target.host, target.port
        )
    if target.password:
        await proto.call("AUTH", *((target.user,) if target.user else ()), target.password)
    if target.db:
        await proto.call("SELECT", target.db)
    return proto


def prefill(target: Target, gen: Generator, batch: int = 200) -> int:
    cmds = gen.prefill_commands()
    with RespClient(
        target.host,
        target.port,
        password=target.password,
        user=target.user,
        db=target.db,
        unix_socket=target.unix_socket,
    ) as c:
        for i in range(0, len(cmds), batch):
            for r in c.pipeline(cmds[i : i + batch]):
                if isinstance(r, ReplyError):
                    raise r
    return len(cmds)


@dataclass
class Result:
    ops: list[str]
    stats: Stats
    elapsed: float
    clients: int
    pipeline: int
    workload: dict[str, Any]
    target: str

    def rows(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        per = [(name, self.stats.hist[i], self.stats.errors[i]) for i, name in enumerate(self.ops)]
        per.sort(key=lambda x: -sum(x[1]))
        per.append(("ALL", self.stats.merged(), sum(self.stats.errors)))
        for name, counts, errors in per:
            n = sum(counts)
            row: dict[str, Any] = {
                "op": name,
                "calls": n,
                "ops_per_sec": round(n / self.elapsed, 1) if self.elapsed else 0.0,
                "errors": errors,
            }
            for p in PERCENTILES:
                row[f"p{p:g}_ms"] = percentile(counts, n, p) / 1000
            row["max_ms"] = max_value(counts) / 1000
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        rows = self.rows()
        return {
            "target": self.target,
            "clients": self.clients,
            "pipeline": self.pipeline,
            "elapsed_s": round(self.elapsed, 3),
            "workload": self.workload,
            "total": rows[-1],
            "commands": rows[:-1],
            "first_error": self.stats.first_error,
        }

    def table(self) -> str:
        w = self.workload
        lines = [
            f"pikadb bench: {self.target}, {self.clients} clients, pipeline {self.pipeline}, "
            f"{self.elapsed:.2f} s",
            f"workload: mix {','.join(f'{k}={v:g}' for k, v in w['mix'].items())}, "
            f"{w['reads_percent']:g}% reads, {w['keys']} keys {w['distribution']}, "
            f"values {w['value_size']} B",
            "",
        ]
        headers = ["command", "calls", "ops/s", "errors"] + [f"p{p:g}" for p in PERCENTILES]
        headers.append("max (ms)")
        table = [headers]
        for r in self.rows():
            table.append(
                [r["op"], str(r["calls"]), f"{r['ops_per_sec']:.0f}", str(r["errors"])]
                + [f"{r[f'p{p:g}_ms']:.3f}" for p in PERCENTILES]
                + [f"{r['max_ms']:.3f}"]
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
        for j, row in enumerate(table):
            lines.append(
                "  ".join(
                    c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)
                )
            )
            if j == 0 or j == len(table) - 2:
                lines.append("  ".join("-" * x for x in widths))
        if self.stats.first_error:
            lines.append(f"first error: {self.stats.first_error}")
        return "\n".join(lines)


async def _progress(stats: Stats, started: float, stop: asyncio.Event, tty: bool) -> None:
    prev = stats.merged()
    prev_done, prev_t = 0, started
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass
        now = time.monotonic()
        cur = stats.merged()
        window = [a - b for a, b in zip(cur, prev, strict=True)]
        n = stats.done - prev_done
        rate = n / (now - prev_t) if now > prev_t else 0.0
        line = (
            f"[{now - started:6.1f}s] {rate:10,.0f} ops/s  total {stats.done:,}  "
            f"p50 {percentile(window, n, 50) / 1000:.3f} ms  "
            f"p99 {percentile(window, n, 99) / 1000:.3f} ms  errors {sum(stats.errors)}"
        )
        sys.stderr.write(("\r" + line + "\x1b[K") if tty else line + "\n")
        sys.stderr.flush()
        prev, prev_done, prev_t = cur, stats.done, now
    if tty:
        sys.stderr.write("\n")


async def run_async(target: Target, workload: Workload, opts: Options) -> Result:
    gen = Generator(workload)
    ops, batches = build_ring(gen, opts)
    stats = Stats(ops)
    conns = [await _connect(target, stats) for _ in range(opts.clients)]
    duration = opts.duration if opts.duration or opts.requests else 10.0
    remaining = [opts.requests or 0]
    started = time.monotonic()
    deadline = started + duration if duration else math.inf
    stop = asyncio.Event()
    nb = len(batches)

    async def client(proto: BenchProtocol, start: int) -> None:
        pos = start
        while not stop.is_set():
            payload, op_ids = batches[pos]
            if opts.requests:
                if remaining[0] <= 0:
                    return
                take = min(len(op_ids), remaining[0])
                remaining[0] -= take
                if take < len(op_ids):  # the last, partial batch
                    payload = b"".join(pack_command(a) for a in _unpack(payload)[:take])
                    op_ids = op_ids[:take]
            await proto.send(payload, op_ids)
            pos += 1
            if pos == nb:
                pos = 0
            if time.monotonic() >= deadline:
                return

    reporter = None
    if opts.progress:
        reporter = asyncio.ensure_future(_progress(stats, started, stop, sys.stderr.isatty()))
    tasks = [
        asyncio.ensure_future(client(p, (i * nb) // max(1, opts.clients)))
        for i, p in enumerate(conns)
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        elapsed = time.monotonic() - started
        stop.set()
        for t in tasks:
            t.cancel()
        if reporter is not None:
            await reporter
        for p in conns:
            if p.transport is not None:
                p.transport.close()
    return Result(
        ops=ops,
        stats=stats,
        elapsed=elapsed,
        clients=opts.clients,
        pipeline=opts.pipeline,
        workload=workload.describe(),
        target=target.unix_socket or f"{target.host}:{target.port}",
    )


def _unpack(payload: bytes) -> list[tuple[bytes, ...]]:
    """Split packed commands back into argv tuples (only for the final partial batch)."""
    reader = hiredis.Reader()
    reader.feed(payload)
    out: list[tuple[bytes, ...]] = []
    while (r := reader.gets()) is not False:
        out.append(tuple(r))
    return out


def run(target: Target, workload: Workload, opts: Options) -> Result:
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop is a runtime dependency
        runner = asyncio.Runner()
    with runner:
        return runner.run(run_async(target, workload, opts))
