"""Mixed workloads over all types with ``pikadb bench``: pikadb vs redis-server side by side.

Starts a pikadb server and a redis-server (free ports, temporary data, redis without
persistence), prefills both with the same keys, then runs ``pikadb bench --json`` with the
same workload against each in alternation (every pipeline depth: pikadb, then redis,
``--rounds`` times; the median run by ops/s is kept) and prints ops/s, p50 and p99 of each
and the ratio pikadb / redis.

    .venv/bin/python bench/mixed.py --duration 10 --pipelines 1,16 --mix all --ratio 4:1

``--calibrate`` first measures the load generator itself: GET against redis-server with
``pikadb bench`` and with ``redis-benchmark`` (same clients and pipeline), so you know
whether the tool or the server was the limit.

Progress goes to stderr; the table to stdout. Nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import subprocess
import sys
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench import need, start_pikadb, start_redis

PIKADB = [sys.executable, "-m", "pikadb"]


def run_tool(port: int, args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [*PIKADB, "bench", "-p", str(port), "--json", "--no-progress", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    return json.loads(out.stdout)


def redis_benchmark_get(port: int, clients: int, pipeline: int, requests: int) -> float:
    cmd = [need("redis-benchmark"), "-p", str(port), "-t", "get", "-c", str(clients)]
    cmd += ["-P", str(pipeline), "-n", str(requests), "-r", "10000", "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    rows = list(csv.reader(io.StringIO(out.stdout)))
    return float(rows[1][1])


def workload_args(a: argparse.Namespace) -> list[str]:
    return [
        *("--mix", a.mix, "--ratio", a.ratio, "--keys", str(a.keys)),
        *("--distribution", a.distribution, "--value-size", a.value_size),
        *("-c", str(a.clients)),
    ]


def fmt_ms(x: float) -> str:
    return f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    p.add_argument("--rounds", type=int, default=1, help="runs per server and case (median)")
    p.add_argument("--pipelines", default="1,16", help="pipeline depths")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--mix", default="string=4,hash=1,list=1,set=1,zset=1,stream=1")
    p.add_argument("--ratio", default="4:1", help="READS:WRITES")
    p.add_argument("--keys", type=int, default=10_000, help="keys per type")
    p.add_argument("--distribution", default="uniform", choices=["uniform", "zipf"])
    p.add_argument("--value-size", default="100")
    p.add_argument("--calibrate", action="store_true", help="tool vs redis-benchmark first")
    p.add_argument("--pikadb-arg", action="append", default=[], help="extra server argument")
    a = p.parse_args(argv)
    pipelines = [int(x) for x in a.pipelines.split(",") if x]

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    servers = []
    try:
        pika = start_pikadb(list(a.pikadb_arg))
        servers.append(pika)
        redis_srv = start_redis()
        servers.append(redis_srv)
        if a.calibrate:
            print("load generator calibration: GET against redis-server (ops/s)")
            print(f"{'pipeline':>8}  {'pikadb bench':>12}  {'redis-benchmark':>15}  {'ratio':>6}")
            for pl in pipelines:
                say(f"calibrate: pipeline {pl}")
                tool = run_tool(
                    redis_srv.port,
                    [
                        *("--mix", "string", "--ratio", "1:0", "-c", str(a.clients)),
                        *("-P", str(pl), "--duration", str(a.duration)),
                    ],
                    a.duration + 120,
                )["total"]["ops_per_sec"]
                requests = max(100_000, int(tool * a.duration))
                rb = redis_benchmark_get(redis_srv.port, a.clients, pl, requests)
                print(f"{pl:>8}  {tool:>12,.0f}  {rb:>15,.0f}  {tool / rb:>6.2f}")
            print()
        for srv in servers:
            say(f"prefill {srv.name}")
            subprocess.run(
                [
                    *PIKADB,
                    "bench",
                    "-p",
                    str(srv.port),
                    "--prefill",
                    "--requests",
                    "1",
                    "--no-progress",
                    *workload_args(a),
                ],
                check=True,
                capture_output=True,
                timeout=3600,
            )
        results: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for pl in pipelines:
            for rnd in range(a.rounds):
                for srv in servers:
                    say(f"{srv.name}: pipeline {pl}, round {rnd + 1}/{a.rounds}")
                    d = run_tool(
                        srv.port,
                        [*workload_args(a), "-P", str(pl), "--duration", str(a.duration)],
                        a.duration + 120,
                    )
                    results.setdefault((srv.name, pl), []).append(d["total"])
        print(
            f"mixed workload: mix {a.mix}, ratio {a.ratio}, {a.keys} keys/type "
            f"{a.distribution}, values {a.value_size} B, {a.clients} clients, "
            f"{a.duration:g} s x {a.rounds}"
        )
        head = [
            "pipeline",
            "pikadb ops/s",
            "redis ops/s",
            "ratio",
            "pikadb p50/p99 ms",
            "redis p50/p99 ms",
        ]
        print("  ".join(f"{h:>18}" for h in head))
        for pl in pipelines:
            row: list[str] = [str(pl)]
            picked = {}
            for name in ("pikadb", "redis"):
                runs = results[(name, pl)]
                med = statistics.median_low([r["ops_per_sec"] for r in runs])
                picked[name] = next(r for r in runs if r["ops_per_sec"] == med)
            pk, rd = picked["pikadb"], picked["redis"]
            row += [f"{pk['ops_per_sec']:,.0f}", f"{rd['ops_per_sec']:,.0f}"]
            row.append(f"{pk['ops_per_sec'] / rd['ops_per_sec']:.2f}")
            row.append(f"{fmt_ms(pk['p50_ms'])}/{fmt_ms(pk['p99_ms'])}")
            row.append(f"{fmt_ms(rd['p50_ms'])}/{fmt_ms(rd['p99_ms'])}")
            print("  ".join(f"{c:>18}" for c in row))
    finally:
        for srv in servers:
            srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
