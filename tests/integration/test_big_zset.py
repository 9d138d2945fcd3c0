"""A 1,000,000-member sorted set on a dedicated server: loads, answers small queries with
bounded reads, and DEL is O(1) (one range tombstone per column family). Timings and the
server's RSS are printed for the report (run with ``-s``), never asserted."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from tests.support.servers import PikaServer

N = 1_000_000
BATCH = 2000


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_million_member_zset(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    assert srv.proc is not None
    pid = srv.proc.pid
    r = srv.client(socket_timeout=120)
    rss0 = rss_mb(pid)
    t0 = time.perf_counter()
    pipe = r.pipeline(transaction=False)
    for start in range(0, N, BATCH):
        pipe.zadd("big", {f"member:{i:07d}": (i * 7919) % N for i in range(start, start + BATCH)})
        if len(pipe) >= 10:
            pipe.execute()
    pipe.execute()
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb(pid)
    assert r.zcard("big") == N

    t = time.perf_counter()
    first = r.zrange("big", 0, 9, withscores=True)
    last = r.zrange("big", -3, -1)
    rank = r.zrank("big", "member:0999999")
    score = r.zscore("big", "member:0500000")
    small_s = time.perf_counter() - t
    assert [s for _, s in first] == [float(i) for i in range(10)]
    assert len(last) == 3 and rank is not None and score == (500000 * 7919) % N
    t = time.perf_counter()
    assert r.zcount("big", 1000, 1999) == 1000
    assert len(r.zrangebyscore("big", "(500000", "+inf", start=0, num=5)) == 5
    range_s = time.perf_counter() - t

    t = time.perf_counter()
    assert r.delete("big") == 1
    del_s = time.perf_counter() - t
    assert r.exists("big") == 0 and r.zcard("big") == 0
    assert r.zadd("big", {"fresh": 1}) == 1
    assert r.zrange("big", 0, -1) == [b"fresh"]
    rss_after = rss_mb(pid)
    print(
        f"\n[big zset] {N} members: load {load_s:.1f}s ({N / load_s:,.0f} members/s, "
        f"pipelined ZADD x{BATCH}); ZRANGE 0 9 + ZRANGE -3 -1 + ZRANK + ZSCORE {small_s * 1000:.1f} ms; "
        f"ZCOUNT(1000) + ZRANGEBYSCORE LIMIT 5 {range_s * 1000:.1f} ms; "
        f"DEL {del_s * 1000:.1f} ms; RSS start {rss0:.0f} MB, loaded {rss_loaded:.0f} MB, "
        f"after DEL {rss_after:.0f} MB"
    )
    r.close()
