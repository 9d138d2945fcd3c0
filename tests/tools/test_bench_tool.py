"""``pikadb bench``: a short mixed run against a live pikadb produces a sane summary."""

from __future__ import annotations

import json
import subprocess
import sys

import redis

from tests.support.servers import PikaServer

PIKADB = [sys.executable, "-m", "pikadb"]
PCTS = ["p50_ms", "p90_ms", "p99_ms", "p99.9_ms", "max_ms"]


def bench(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PIKADB, "bench", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def sane(row: dict) -> None:  # type: ignore[type-arg]
    assert row["calls"] > 0
    assert row["errors"] == 0
    values = [row[p] for p in PCTS]
    assert all(v > 0 for v in values), row
    assert values == sorted(values), row


def test_bench_mixed_duration_json(pika: PikaServer, r: redis.Redis) -> None:
    out = bench(
        pika.port,
        *("--duration", "1.5", "--keys", "200", "-c", "4", "-P", "4", "--mix", "all"),
        *("--ratio", "1:1", "--distribution", "zipf", "--value-size", "10-300", "--prefill"),
        "--json",
    )
    assert out.stderr == ""  # not a tty: no live progress
    d = json.loads(out.stdout)
    assert d["clients"] == 4 and d["pipeline"] == 4
    assert 1.4 <= d["elapsed_s"] < 20
    total = d["total"]
    assert total["op"] == "ALL"
    sane(total)
    assert total["calls"] == sum(c["calls"] for c in d["commands"])
    assert abs(total["ops_per_sec"] - total["calls"] / d["elapsed_s"]) <= 0.01 * total["calls"]
    ops = {c["op"] for c in d["commands"]}
    # every type's reads and writes ran
    for op in ("GET", "SET", "HSET", "LPUSH", "SADD", "ZADD", "XADD", "ZSCORE", "XLEN"):
        assert op in ops
    for c in d["commands"]:
        assert c["errors"] == 0, c
    # prefill wrote every key of every type (RPOP may have emptied a hot list since)
    assert 5 * 200 < r.dbsize() <= 6 * 200
    assert r.type("bench:zset:7") == b"zset"
    assert r.hlen("bench:hash:0") == 16
    assert r.xlen("bench:stream:3") >= 3


def test_bench_requests_table_and_progress(pika: PikaServer, r: redis.Redis) -> None:
    out = bench(
        pika.port,
        *("--requests", "503", "-c", "3", "-P", "7", "--mix", "string=1,hash=1", "--progress"),
    )
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"pikadb bench: 127.0.0.1:{pika.port}, 3 clients, pipeline 7")
    header = lines[3].split()
    assert header[:4] == ["command", "calls", "ops/s", "errors"]
    all_row = next(line.split() for line in lines if line.startswith("ALL"))
    assert int(all_row[1]) == 503  # exactly --requests commands
    assert int(all_row[3]) == 0
    assert "ops/s" in out.stderr and "p99" in out.stderr  # the live progress lines
    assert {line.split()[0] for line in lines[5:-2]} <= {"GET", "SET", "HGET", "HGETALL", "HSET"}


def test_bench_bad_arguments() -> None:
    bad = subprocess.run(
        [*PIKADB, "bench", "--mix", "strings"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert "unknown type 'strings'" in bad.stderr
