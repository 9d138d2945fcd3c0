"""In-process CPU cost of the hot path: microseconds of CPU per command, no sockets.

Feeds RESP bytes straight into a Connection (with a transport that discards replies), so the
number is our Python + RocksDB cost alone, free of redis-benchmark and scheduler noise.
Compare before/after a change that touches dispatch, parsing or the commit path:

    .venv/bin/python bench/micro.py [--profile SET]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from typing import Any

import hiredis

from pikadb.config import RuntimeConfig, load_settings
from pikadb.server.app import Server
from pikadb.server.connection import Connection

CASES: dict[str, tuple[str, ...]] = {
    "PING": ("PING",),
    "GET": ("GET", "key:__rand_int__"),
    "SET": ("SET", "key:__rand_int__", "xxx"),
    "INCR": ("INCR", "counter:__rand_int__"),
    "MSET": ("MSET", *[f"key:{i}" for i in range(10) for _ in (0, 1)]),
    "HSET": ("HSET", "myhash", "element:__rand_int__", "xxx"),
    "SADD": ("SADD", "myset", "element:__rand_int__"),
    "SPOP": ("SPOP", "myset"),
    "ZADD": ("ZADD", "myzset", "__rand_int__", "element:__rand_int__"),
    "ZRANGE": ("ZRANGE", "myzset", "0", "9"),
    "LPUSH": ("LPUSH", "mylist", "xxx"),
    "LRANGE_100": ("LRANGE", "mylist", "0", "99"),
    "LRANGE_600": ("LRANGE", "mylist", "0", "599"),
    "RPOP": ("RPOP", "mylist"),
    "PFADD": ("PFADD", "hll:__rand_int__", "element:__rand_int__"),  # tiny sparse HLLs
    "PFADD_DENSE": ("PFADD", "myhll", "element:__rand_int__"),
    "PFCOUNT": ("PFCOUNT", "myhll"),  # cached cardinality (header), as in Redis
    # a small script: return redis.call('get', KEYS[1]) (loaded by FILL["SCRIPT_LOAD"])
    "EVALSHA": ("EVALSHA", "4e6d8fc8bb01276962cce5371fa795a7763657ae", "1", "key:__rand_int__"),
    # hot-key reads (run with and without --set cache-model=1; keys from FILL_ONCE)
    "GET_HOT": ("GET", "hotkey"),
    "HGETALL_100": ("HGETALL", "hash100"),
    "LRANGE_HOT": ("LRANGE", "list1000", "0", "99"),
    "GET_UNIFORM": ("GET", "ukey:__rand_int__"),  # where a cache cannot help (FILL: ~63% exist)
}
# Filled before the cases run, so pops and ranges work on big collections.
FILL: dict[str, tuple[str, ...]] = {
    "SADD": ("SADD", "myset", "element:__rand_int__"),
    "ZADD": ("ZADD", "myzset", "__rand_int__", "element:__rand_int__"),
    "LPUSH": ("LPUSH", "mylist", "xxx"),
    "PFADD": ("PFADD", "myhll", "element:__rand_int__"),
    "SCRIPT_LOAD": ("SCRIPT", "LOAD", "return redis.call('get', KEYS[1])"),
    "SET_UNIFORM": ("SET", "ukey:__rand_int__", "x" * 100),
}
# Sent once before the cases: the hot keys of GET_HOT, HGETALL_100, LRANGE_HOT.
FILL_ONCE: dict[str, tuple[str, ...]] = {
    "SET_HOT": ("SET", "hotkey", "x" * 100),
    "HASH100": ("HSET", "hash100", *[a for i in range(100) for a in (f"field:{i}", "x" * 10)]),
    "LIST1000": ("RPUSH", "list1000", *[f"item:{i}" for i in range(1000)]),
}


class NullTransport:
    def write(self, data: bytes) -> None:
        pass

    def get_extra_info(self, name: str) -> Any:
        return None if name == "socket" else ("127.0.0.1", 1)

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=50_000)
    ap.add_argument("--profile", metavar="CASE")
    ap.add_argument("--pipe", type=int, default=1, help="pipeline depth when profiling")
    ap.add_argument("--keyspace", type=int, default=100_000, help="__rand_int__ below this")
    ap.add_argument("--fill", type=int, default=100_000, help="members put in before the cases")
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE server setting")
    opts = ap.parse_args()
    overrides = dict(s.split("=", 1) for s in opts.set)
    settings = load_settings(
        None, {}, {**overrides, "dir": tempfile.mkdtemp(prefix="pikadb-micro-")}
    )
    srv = Server(settings, RuntimeConfig(settings), None)
    conn = Connection(srv)
    conn.connection_made(NullTransport())  # type: ignore[arg-type]

    rnd = random.Random(1)

    def packed(cmd: tuple[str, ...], pipe: int, variants: int = 64) -> list[bytes]:
        """``variants`` pipelines of ``pipe`` commands, ``__rand_int__`` replaced by random
        numbers below ``opts.keyspace`` (as redis-benchmark -r does)."""
        out = []
        for _ in range(variants):
            out.append(
                b"".join(
                    hiredis.pack_command(
                        tuple(
                            a.replace("__rand_int__", f"{rnd.randrange(opts.keyspace):012}")
                            for a in cmd
                        )
                    )
                    for _ in range(pipe)
                )
            )
        return out

    def run(cmd: tuple[str, ...], n: int, pipe: int) -> float:
        batches = packed(cmd, pipe, min(4096, max(1, n // pipe)))
        nb = len(batches)
        t = time.process_time()
        for i in range(n // pipe):
            conn.data_received(batches[i % nb])
            srv.close_tick()  # what the event loop does at the end of an iteration
        return (time.process_time() - t) / n * 1e6

    for cmd in FILL.values():  # what the read/pop cases read: filled, not measured
        run(cmd, opts.fill, 16)
    for cmd in FILL_ONCE.values():
        run(cmd, 1, 1)

    if opts.profile:
        import cProfile
        import pstats

        cProfile.runctx(
            "run(CASES[opts.profile], opts.n, opts.pipe)", globals(), locals(), "/tmp/micro.prof"
        )
        pstats.Stats("/tmp/micro.prof").sort_stats("tottime").print_stats(20)
        return
    print(f"{'command':8} {'P1 us/cmd':>10} {'P16 us/cmd':>11}")
    for name, cmd in CASES.items():
        if opts.cases and name not in opts.cases:
            continue
        run(cmd, 2000, 1)  # warm up
        print(f"{name:8} {run(cmd, opts.n, 1):10.2f} {run(cmd, opts.n, 16):11.2f}")
    srv.store.close()


if __name__ == "__main__":
    main()
