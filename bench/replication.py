"""Replication bench: pikadb next to redis-server, on loopback.

1. Full sync rate: load a data set of random values (incompressible) into a master, attach an
   empty replica, time REPLICAOF -> link up and offsets equal. MB/s = logical bytes / time
   (the master's on-disk size is printed too).
2. Replica lag under a steady write rate: a separate process writes SETs paced to ``--rate``
   per second at the master; meanwhile a probe writes a timestamp key to the master every
   20 ms and polls the replica until it shows that value. Lag = master reply -> visible on
   the replica.
3. Master throughput with 0, 1 and 2 replicas attached: redis-benchmark SET against the
   master (fresh node, replicas in sync before each run); loss relative to 0 replicas.

    .venv/bin/python bench/replication.py            # small: 64 MB data set, short runs
    .venv/bin/python bench/replication.py --large    # 2 GB data set (issue 7 targets)

Targets (issue 7): full sync >= 100 MB/s, lag <= 100 ms at 20,000 writes/s, <= 15 % master
throughput loss with 2 replicas. Everything runs on one box: replicas, load generator and
master share its cores, so the throughput columns include that CPU competition.
Progress goes to stderr; the table to stdout. Nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
MB = 1 << 20
_T0 = time.monotonic()


def say(msg: str) -> None:
    print(f"[{time.monotonic() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"bench: {tool} not found (make bench installs redis-server and redis-tools)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dir_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


# --- nodes ----------------------------------------------------------------------------------
@dataclass
class Node:
    kind: str  # "pikadb" | "redis"
    port: int
    proc: subprocess.Popen[bytes]
    dir: str
    c: redis.Redis = field(init=False)

    def __post_init__(self) -> None:
        self.c = redis.Redis(port=self.port, socket_timeout=600)

    def info(self) -> dict[str, object]:
        return self.c.info("replication")  # type: ignore[no-any-return]

    def replicaof(self, master: Node | None) -> None:
        if master is None:
            self.c.execute_command("REPLICAOF", "NO", "ONE")
        else:
            self.c.execute_command("REPLICAOF", "127.0.0.1", str(master.port))

    def stop(self) -> None:
        self.c.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start(kind: str, pikadb_args: list[str]) -> Node:
    port = free_port()
    data = tempfile.mkdtemp(prefix=f"bench-repl-{kind}-")
    if kind == "pikadb":
        cmd = [sys.executable, "-m", "pikadb", "server", "--port", str(port), "--dir", data]
        cmd += pikadb_args
    else:
        cmd = [need("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        cmd += ["--appendonly", "no", "--dir", data, "--daemonize", "no"]
        cmd += ["--repl-diskless-sync", "no", "--client-output-buffer-limit", "replica 0 0 0"]
    log = open(os.path.join(data, "server.log"), "wb")  # noqa: SIM115 - lives with the process
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=data)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            sys.exit(f"bench: {kind} exited with {proc.returncode}; see {data}/server.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"bench: {kind} on port {port} did not answer PING")
        time.sleep(0.05)
    return Node(kind, port, proc, data)


def wait_synced(master: Node, replica: Node, timeout: float) -> None:
    """Link up, no sync in progress, replica offset == master offset (writes stopped)."""
    deadline = time.monotonic() + timeout
    last: dict[str, object] = {}
    while time.monotonic() < deadline:
        try:
            last = replica.info()
            m = master.info()
            if (
                last.get("master_link_status") == "up"
                and str(last.get("master_sync_in_progress")) == "0"
                and int(last.get("slave_repl_offset", -1)) >= int(m["master_repl_offset"])  # type: ignore[call-overload]
            ):
                return
        except (redis.RedisError, KeyError, ValueError):
            pass
        time.sleep(0.01)
    raise TimeoutError(f"{replica.kind} replica not in sync after {timeout:.0f}s: {last}")


def load(node: Node, size: int, value_size: int) -> int:
    """Write ``size`` bytes of random values; returns the number of keys."""
    keys = max(1, size // value_size)
    p = node.c.pipeline(transaction=False)
    step = max(1, (4 * MB) // value_size)
    blob = os.urandom(value_size * 64)
    for i in range(keys):
        off = (i * 7919) % (len(blob) - value_size)
        p.set(b"data:%d" % i, blob[off : off + value_size - 8] + i.to_bytes(8, "big"))
        if (i + 1) % step == 0:
            p.execute()
            if (i + 1) % (step * 64) == 0:
                say(f"  {node.kind}: loaded {(i + 1) * value_size // MB} MB")
    p.execute()
    return keys


# --- 1. full sync -----------------------------------------------------------------------------
def bench_full_sync(kind: str, args: argparse.Namespace) -> tuple[float, float, float]:
    """(MB/s logical, seconds, on-disk MB of the master)."""
    master = start(kind, args.pikadb_args)
    replica = start(kind, args.pikadb_args)
    try:
        say(f"{kind}: loading {args.size_mb} MB ({args.value_size} B values)")
        load(master, args.size_mb * MB, args.value_size)
        if kind == "pikadb" and args.compact:
            master.c.execute_command("COMPACT")
        disk = dir_size(master.dir) / MB
        say(f"{kind}: full sync of {args.size_mb} MB (master dir {disk:.0f} MB)")
        t0 = time.monotonic()
        replica.replicaof(master)
        wait_synced(master, replica, timeout=3600)
        secs = time.monotonic() - t0
        say(f"{kind}: full sync took {secs:.2f}s")
        return args.size_mb / secs, secs, disk
    finally:
        replica.stop()
        master.stop()


# --- 2. lag -----------------------------------------------------------------------------------
def _paced_writer(port: int, rate: int, seconds: float, done: mp.Value) -> None:  # type: ignore[valid-type]
    """Child process: SETs at ``rate``/s in 5 ms ticks (pipelined), for ``seconds``."""
    c = redis.Redis(port=port, socket_timeout=60)
    tick = 0.005
    per_tick = max(1, round(rate * tick))
    value = b"v" * 100
    n = 0
    start_t = time.monotonic()
    next_t = start_t
    while time.monotonic() - start_t < seconds:
        p = c.pipeline(transaction=False)
        for _ in range(per_tick):
            p.set(b"load:%d" % (n % 100_000), value)
            n += 1
        p.execute()
        next_t += tick
        pause = next_t - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    done.value = n  # type: ignore[attr-defined]


def bench_lag(kind: str, args: argparse.Namespace) -> tuple[float, float, float, float, float]:
    """(achieved writes/s, p50 ms, p99 ms, max ms, samples)."""
    master = start(kind, args.pikadb_args)
    replica = start(kind, args.pikadb_args)
    try:
        replica.replicaof(master)
        wait_synced(master, replica, 120)
        probe_m = redis.Redis(port=master.port, socket_timeout=30)
        probe_r = redis.Redis(port=replica.port, socket_timeout=30)
        done = mp.Value("q", 0)
        say(f"{kind}: lag under {args.rate} writes/s for {args.lag_seconds}s")
        proc = mp.Process(
            target=_paced_writer, args=(master.port, args.rate, args.lag_seconds, done)
        )
        t0 = time.monotonic()
        proc.start()
        time.sleep(min(1.0, args.lag_seconds / 5))  # let the rate settle
        lags: list[float] = []
        while proc.is_alive() and time.monotonic() - t0 < args.lag_seconds - 0.2:
            token = str(time.time_ns())
            probe_m.set("lag:probe", token)
            acked = time.monotonic()
            while probe_r.get("lag:probe") != token.encode():
                if time.monotonic() - acked > 30:
                    raise TimeoutError("probe not replicated within 30 s")
                time.sleep(0.0002)
            lags.append((time.monotonic() - acked) * 1000)
            time.sleep(0.02)
        proc.join(120)
        elapsed = time.monotonic() - t0
        rate = done.value / elapsed  # type: ignore[attr-defined]
        lags.sort()
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan")
        med = statistics.median(lags) if lags else float("nan")
        return rate, med, p99, max(lags, default=float("nan")), float(len(lags))
    finally:
        replica.stop()
        master.stop()


# --- 3. throughput with replicas ----------------------------------------------------------------
def run_benchmark(port: int, args: argparse.Namespace) -> float:
    cmd = [need("redis-benchmark"), "-h", "127.0.0.1", "-p", str(port), "-t", "set"]
    cmd += ["-n", str(args.requests), "-c", str(args.clients), "-P", str(args.pipeline)]
    cmd += ["-r", "100000", "-d", "100", "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed: {out.stderr.strip()}")
    for row in list(csv.reader(io.StringIO(out.stdout)))[1:]:
        if row and row[0].upper().startswith("SET"):
            return float(row[1])
    raise RuntimeError(f"no SET row in redis-benchmark output: {out.stdout!r}")


def bench_throughput(kind: str, args: argparse.Namespace) -> list[float]:
    """Median SET rps with 0, 1, 2 replicas attached (in sync before each run)."""
    master = start(kind, args.pikadb_args)
    replicas: list[Node] = []
    out: list[float] = []
    try:
        for n in range(3):
            if n:
                rep = start(kind, args.pikadb_args)
                replicas.append(rep)
                rep.replicaof(master)
                for r in replicas:
                    wait_synced(master, r, 600)
            runs = [run_benchmark(master.port, args) for _ in range(args.rounds)]
            out.append(statistics.median(runs))
            say(f"{kind}: SET -P {args.pipeline} with {n} replicas: {out[-1]:,.0f} rps")
            for r in replicas:  # the replicas finished applying before the next step
                wait_synced(master, r, 600)
        return out
    finally:
        for r in replicas:
            r.stop()
        master.stop()


# --- table ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--large", action="store_true", help="2 GB data set, 20 s lag run")
    ap.add_argument("--size-mb", type=int, default=0, help="data set size (default 64, 2048)")
    ap.add_argument("--value-size", type=int, default=4096, help="bytes per value")
    ap.add_argument("--compact", action="store_true", help="COMPACT the master before syncing")
    ap.add_argument("--rate", type=int, default=20_000, help="steady writes/s for the lag run")
    ap.add_argument("--lag-seconds", type=float, default=0, help="lag run length (5, 20)")
    ap.add_argument("--requests", type=int, default=0, help="redis-benchmark -n (100k, 300k)")
    ap.add_argument("--pipeline", type=int, default=16, help="redis-benchmark -P")
    ap.add_argument("--clients", type=int, default=50, help="redis-benchmark -c")
    ap.add_argument("--rounds", type=int, default=1, help="benchmark runs per step (median)")
    ap.add_argument("--only", default="sync,lag,throughput", help="sections to run")
    ap.add_argument("--servers", default="pikadb,redis", help="columns: pikadb, redis or both")
    ap.add_argument(
        "--pikadb-args", nargs=argparse.REMAINDER, default=[], help="extra pikadb server args"
    )
    args = ap.parse_args(argv)
    args.size_mb = args.size_mb or (2048 if args.large else 64)
    args.lag_seconds = args.lag_seconds or (20.0 if args.large else 5.0)
    args.requests = args.requests or (300_000 if args.large else 100_000)
    only = set(args.only.split(","))
    kinds = [k for k in ("pikadb", "redis") if k in args.servers.split(",")]
    need("redis-benchmark")

    rows: list[tuple[str, ...]] = []
    results: dict[str, dict[str, str]] = {k: {} for k in kinds}

    for kind in kinds:
        res = results[kind]
        if "sync" in only:
            rate, secs, disk = bench_full_sync(kind, args)
            res["sync"] = f"{rate:,.1f} MB/s ({secs:.1f} s)"
            res["disk"] = f"{disk:,.0f} MB" if kind == "pikadb" else "(RDB)"
        if "lag" in only:
            wr, p50, p99, mx, n = bench_lag(kind, args)
            res["lag_rate"] = f"{wr:,.0f}/s"
            res["lag"] = f"{p50:.1f} / {p99:.1f} / {mx:.1f} ({n:.0f} probes)"
        if "throughput" in only:
            tp = bench_throughput(kind, args)
            res["tp0"] = f"{tp[0]:,.0f}"
            for n in (1, 2):
                loss = 100.0 * (1 - tp[n] / tp[0]) if tp[0] else float("nan")
                res[f"tp{n}"] = f"{tp[n]:,.0f} ({loss:.1f}% loss)"

    def row(label: str, key: str, target: str) -> None:
        if all(key in results[k] for k in kinds):
            rows.append((label, *(results[k][key] for k in kinds), target))

    row(f"full sync, {args.size_mb} MB logical", "sync", ">= 100 MB/s")
    row("  master data dir", "disk", "")
    row("lag run: achieved write rate", "lag_rate", f"{args.rate:,}/s")
    row("replica lag ms p50 / p99 / max", "lag", "<= 100 ms")
    row(f"SET -P{args.pipeline} rps, 0 replicas", "tp0", "")
    row(f"SET -P{args.pipeline} rps, 1 replica", "tp1", "")
    row(f"SET -P{args.pipeline} rps, 2 replicas", "tp2", "<= 15% loss")
    header = ("metric", *kinds, "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"({os.cpu_count()} cores; master, replicas and load generator share them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
