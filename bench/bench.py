"""pikadb vs redis-server, side by side, with redis-benchmark.

Starts a pikadb server (``python -m pikadb server``, free port, temporary data dir) and a
redis-server (free port, no persistence), then runs ``redis-benchmark --csv`` against them in
alternation — for every test and pipeline depth, pikadb then redis, ``--rounds`` times — and
reports the median requests/second of each and their ratio, then both processes' RSS.

    .venv/bin/python bench/bench.py --requests 100000 --rounds 3 --tests set,get,lpush,zrange \\
        --pipelines 1,16

Progress goes to stderr; the table to stdout. Nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ping(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"server on port {port} did not answer PING")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"bench: {tool} not found (make bench installs redis-server and redis-tools)")
    return path


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    dir: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_pikadb(extra: list[str]) -> Server:
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-pikadb-")
    cmd = [sys.executable, "-m", "pikadb", "server", "--port", str(port), "--dir", data, *extra]
    log = open(os.path.join(data, "server.log"), "wb")  # noqa: SIM115 - lives with the process
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    wait_ping(port, proc)
    return Server("pikadb", port, proc, data)


def start_redis() -> Server:
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-redis-")
    cmd = [need("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    cmd += ["--appendonly", "no", "--dir", data, "--daemonize", "no"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ping(port, proc)
    return Server("redis", port, proc, data)


SCRIPT = "return redis.call('get', KEYS[1])"  # the EVALSHA test's script
# Tests redis-benchmark has no -t name for: run as a custom command line (redis-benchmark
# replaces __rand_int__ with a random number below -r).
CUSTOM: dict[str, list[str]] = {
    "zrange": ["ZRANGE", "myzset", "0", "9"],
    "setbit": ["SETBIT", "bits:__rand_int__", "4095", "1"],  # offsets would get leading 0s
    "getbit": ["GETBIT", "bits:__rand_int__", "4095"],
    "pfadd": ["PFADD", "myhll", "element:__rand_int__"],
    "xadd": ["XADD", "mystream", "*", "field", "__rand_int__"],
    "xreadgroup": ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "mystream", ">"],
    "xgroup": ["XGROUP", "CREATE", "mystream", "g", "0", "MKSTREAM"],
    "delstream": ["DEL", "mystream"],
    "evalsha": ["EVALSHA", hashlib.sha1(SCRIPT.encode()).hexdigest(), "1", "key:__rand_int__"],
    "scriptload": ["SCRIPT", "LOAD", SCRIPT],
    "publish": ["PUBLISH", "bench-channel", "hello"],
    # hot-key reads for the hot-data cache (compare --pikadb-arg=--set --pikadb-arg=cache-model=1)
    "set_hot": ["SET", "hotkey", "x" * 100],
    "get_hot": ["GET", "hotkey"],
    "hset100": ["HSET", "hash100", *[a for i in range(100) for a in (f"field:{i}", "x" * 10)]],
    "hgetall100": ["HGETALL", "hash100"],
}
ONCE = {"xgroup", "delstream", "scriptload"}  # prefills sent once, by one client
ONCE |= {"set_hot", "hset100"}
SUBSCRIBERS = {"publish": 10}  # clients subscribed to bench-channel while the test runs
# Tests that read what others write: those run first (unmeasured), so e.g. SPOP pops from
# a full set instead of an empty one. redis-benchmark fills LRANGE's list itself.
PREFILL: dict[str, list[str]] = {
    "spop": ["sadd"],
    "rpop": ["lpush"],
    "lpop": ["lpush"],
    "zrange": ["zadd"],
    "getbit": ["setbit"],
    "xreadgroup": ["delstream", "xgroup", "xadd"],
    "evalsha": ["scriptload"],
    "get_hot": ["set_hot"],
    "hgetall100": ["hset100"],
}


class Subscribers:
    """``n`` raw connections subscribed to bench-channel, each read by a thread that
    discards what arrives (so PUBLISH fans out to live, reading subscribers)."""

    def __init__(self, port: int, n: int) -> None:
        self.socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
        self.threads = []
        for s in self.socks:
            s.sendall(b"SUBSCRIBE bench-channel\r\n")
            s.recv(4096)  # the subscribe confirmation
            t = threading.Thread(target=self._drain, args=(s,), daemon=True)
            t.start()
            self.threads.append(t)

    @staticmethod
    def _drain(s: socket.socket) -> None:
        try:
            while s.recv(1 << 16):
                pass
        except OSError:
            pass

    def close(self) -> None:
        for s in self.socks:
            s.close()


def run_benchmark(
    port: int, test: str, requests: int, clients: int, pipeline: int, keyspace: int
) -> float:
    cmd = [need("redis-benchmark"), "-h", "127.0.0.1", "-p", str(port)]
    cmd += ["-n", str(requests), "-c", str(clients), "-P", str(pipeline), "--csv"]
    if keyspace:
        cmd += ["-r", str(keyspace)]
    cmd += CUSTOM.get(test) or ["-t", test]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed: {out.stderr.strip()}")
    rows = list(csv.reader(io.StringIO(out.stdout)))
    for row in rows[1:]:  # header: "test","rps","avg_latency_ms",...
        name = row[0].lower() if row else ""
        if (test in CUSTOM and row) or name.split(" ")[0] == test.lower():
            return float(row[1])
    raise RuntimeError(f"no {test} row in redis-benchmark output: {out.stdout!r}")


DEFAULT_TESTS = (
    "set,get,incr,mset,lpush,rpop,sadd,hset,spop,zadd,zrange,lrange_100,lrange_600,"
    "setbit,getbit,pfadd,xadd,xreadgroup,publish,evalsha"
)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=100_000, help="requests per run (-n)")
    ap.add_argument("--rounds", type=int, default=3, help="runs per server; the median is kept")
    ap.add_argument(
        "--tests", default=DEFAULT_TESTS, help="redis-benchmark -t tests, or " + ",".join(CUSTOM)
    )
    ap.add_argument("--pipelines", default="1,16", help="pipeline depths (-P), comma separated")
    ap.add_argument("--clients", type=int, default=50, help="parallel connections (-c)")
    ap.add_argument("--keyspace", type=int, default=100_000, help="-r: random keys (0: one key)")
    ap.add_argument(
        "--pikadb-arg", action="append", default=[], help="extra pikadb server argument"
    )
    args = ap.parse_args(argv)
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    pipelines = [int(p) for p in args.pipelines.split(",") if p.strip()]

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    servers: list[Server] = []
    try:
        say("starting pikadb and redis-server ...")
        pika = start_pikadb(args.pikadb_arg)
        servers.append(pika)
        red = start_redis()
        servers.append(red)
        results: list[tuple[str, int, float, float]] = []
        total = len(tests) * len(pipelines) * args.rounds
        step = 0
        for test in tests:
            for p in pipelines:
                runs: dict[str, list[float]] = {"pikadb": [], "redis": []}
                for _ in range(args.rounds):
                    step += 1
                    for srv in (pika, red):  # alternate: neither gets a warmer machine
                        for fill in PREFILL.get(test, ()):
                            once = fill in ONCE
                            run_benchmark(
                                srv.port,
                                fill,
                                1 if once else args.requests,
                                1 if once else args.clients,
                                1 if once else 16,
                                args.keyspace,
                            )
                        subs = Subscribers(srv.port, SUBSCRIBERS.get(test, 0))
                        try:
                            rps = run_benchmark(
                                srv.port, test, args.requests, args.clients, p, args.keyspace
                            )
                        finally:
                            subs.close()
                        runs[srv.name].append(rps)
                        say(f"[{step}/{total}] {test} -P {p} {srv.name}: {rps:,.0f} rps")
                results.append(
                    (test, p, statistics.median(runs["pikadb"]), statistics.median(runs["redis"]))
                )
        pika_rss, redis_rss = rss_bytes(pika.proc.pid), rss_bytes(red.proc.pid)
    finally:
        for srv in servers:
            srv.stop()

    print(f"{'test':<8} {'pipeline':>8} {'pikadb rps':>12} {'redis rps':>12} {'ratio':>7}")
    for test, p, a, b in results:
        ratio = a / b if b else float("nan")
        print(f"{test:<8} {p:>8} {a:>12,.0f} {b:>12,.0f} {ratio:>7.2f}")
    mem_ratio = pika_rss / redis_rss if redis_rss else float("nan")
    print(
        f"RSS after the run: pikadb {human(pika_rss)}, redis {human(redis_rss)} "
        f"(ratio {mem_ratio:.1f})"
    )
    print(
        f"({args.requests:,} requests, {args.clients} clients, keyspace {args.keyspace:,}, "
        f"median of {args.rounds} rounds; ratio = pikadb / redis)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
