"""Fast/slow separation evidence: GET latency from 50 clients while another client runs
``KEYS *`` over many keys in a loop, with the separation on (default ``slow-cmd-list``) and
off (``CONFIG SET slow-cmd-list ""``).

    .venv/bin/python bench/slow_cmd.py --keys 2000000 --requests 100000

Fills the keys with DEBUG POPULATE (progress on stderr), then for each mode runs
``redis-benchmark -t get -c 50 --csv`` while a thread loops ``KEYS *``; prints the GET
p50/p99/max latency and throughput of each mode. Nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import threading
import time

import redis

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench import need, start_pikadb


def get_latency(port: int, requests: int, keyspace: int) -> dict[str, float]:
    cmd = [need("redis-benchmark"), "-p", str(port), "-t", "get", "-c", "50"]
    cmd += ["-n", str(requests), "-r", str(keyspace), "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=True)
    rows = list(csv.reader(io.StringIO(out.stdout)))
    head, row = rows[0], rows[1]
    return {h: float(v) for h, v in zip(head[1:], row[1:], strict=True)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--keys", type=int, default=2_000_000, help="keys KEYS * walks")
    ap.add_argument("--requests", type=int, default=100_000, help="GETs per mode")
    args = ap.parse_args()
    srv = start_pikadb(["--set", "enable-debug-command=local"])
    try:
        r = redis.Redis(port=srv.port, socket_timeout=3600)
        step = 100_000
        for done in range(0, args.keys, step):  # DEBUG POPULATE skips existing keys
            r.execute_command("DEBUG", "POPULATE", min(done + step, args.keys), "key")
            print(f"filled {min(done + step, args.keys):,}/{args.keys:,}", file=sys.stderr)
        results = []
        for mode, value in (("separation on", None), ("separation off", "")):
            if value is not None:
                r.config_set("slow-cmd-list", value)
            stop = threading.Event()
            loops = [0]

            def keys_loop(stop: threading.Event = stop, loops: list[int] = loops) -> None:
                c = redis.Redis(port=srv.port, socket_timeout=3600)
                while not stop.is_set():
                    c.execute_command("KEYS", "*", **{"NEVER_DECODE": True})
                    loops[0] += 1

            t = threading.Thread(target=keys_loop)
            t.start()
            time.sleep(0.5)
            t0 = time.perf_counter()
            lat = get_latency(srv.port, args.requests, args.keys)
            took = time.perf_counter() - t0
            stop.set()
            t.join()
            print(f"{mode}: done ({loops[0]} KEYS * runs)", file=sys.stderr)
            results.append((mode, lat, loops[0], took))
    finally:
        srv.stop()
    print(
        f"{'mode':<16} {'GET rps':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>9} {'KEYS runs':>9}"
    )
    for mode, lat, loops_done, _ in results:
        print(
            f"{mode:<16} {lat['rps']:>10,.0f} {lat['p50_latency_ms']:>8.2f} "
            f"{lat['p99_latency_ms']:>8.2f} {lat['max_latency_ms']:>9.2f} {loops_done:>9}"
        )
    print(f"({args.keys:,} keys, {args.requests:,} GETs from 50 clients per mode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
