"""``pikadb bigkeys`` against a live pikadb: its JSON findings, and agreement with
``redis-cli --bigkeys`` on the same data."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import redis

from tests.support.servers import PikaServer, RedisServer

PIKADB = [sys.executable, "-m", "pikadb"]

# type -> (biggest key, its size); every other key of the type is smaller (no ties)
BIGGEST = {
    "string": ("s:big", 5000),
    "list": ("l:big", 300),
    "set": ("set:big", 250),
    "hash": ("h:big", 200),
    "zset": ("z:big", 150),
    "stream": ("x:big", 40),
}
UNITS = {
    "string": "bytes",
    "list": "items",
    "set": "members",
    "hash": "fields",
    "zset": "members",
    "stream": "entries",
}


def fill(r: redis.Redis) -> dict[str, list[int]]:
    """Known keys of every type; returns the sizes per type."""
    sizes: dict[str, list[int]] = {t: [] for t in BIGGEST}
    p = r.pipeline(transaction=False)
    for i in range(30):
        p.set(f"s:{i}", "v" * (i * 7 + 1))
        sizes["string"].append(i * 7 + 1)
    p.set("s:big", "x" * 5000)
    sizes["string"].append(5000)
    p.pfadd("s:hll", *[f"e{i}" for i in range(50)])  # an HLL is a string, as in redis-cli
    for i in range(8):
        p.rpush(f"l:{i}", *range(i + 1))
        sizes["list"].append(i + 1)
        p.sadd(f"set:{i}", *range(i + 2))
        sizes["set"].append(i + 2)
        p.hset(f"h:{i}", mapping={f"f{j}": j for j in range(i + 3)})
        sizes["hash"].append(i + 3)
        p.zadd(f"z:{i}", {f"m{j}": j for j in range(i + 4)})
        sizes["zset"].append(i + 4)
        for j in range(i % 3 + 1):
            p.xadd(f"x:{i}", {"f": j})
        sizes["stream"].append(i % 3 + 1)
    p.rpush("l:big", *range(300))
    p.sadd("set:big", *range(250))
    p.hset("h:big", mapping={f"f{j}": j for j in range(200)})
    p.zadd("z:big", {f"m{j}": j for j in range(150)})
    for j in range(40):
        p.xadd("x:big", {"f": j})
    for t, (_, n) in BIGGEST.items():
        if t != "string":
            sizes[t].append(n)
    p.execute()
    sizes["string"].append(r.strlen("s:hll"))
    return sizes


def run_bigkeys(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PIKADB, "bigkeys", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_bigkeys_json_findings_and_redis_cli_agree(pika: PikaServer, r: redis.Redis) -> None:
    sizes = fill(r)
    total_keys = sum(len(v) for v in sizes.values())
    out = run_bigkeys(pika.port, "--format", "json", "--count", "7", "--top", "3")
    assert out.stderr == ""  # not a tty: no progress bar
    report = json.loads(out.stdout)
    assert report["dbsize"] == report["keys_scanned"] == total_keys
    assert report["scan_calls"] > 1
    for t, (key, size) in BIGGEST.items():
        info = report["types"][t]
        assert info["unit"] == UNITS[t]
        assert info["keys"] == len(sizes[t])
        assert info["total"] == sum(sizes[t])
        assert info["biggest"][0] == {"key": key, "size": size}, t
        ranked = [b["size"] for b in info["biggest"]]
        assert ranked == sorted(sizes[t], reverse=True)[:3]
        assert sum(b["keys"] for b in info["histogram"]) == len(sizes[t])
        for b in info["histogram"]:  # each key's size falls in its bucket
            assert b["keys"] == sum(1 for s in sizes[t] if b["min"] <= s <= b["max"])

    # redis-cli --bigkeys on the same server and data
    cli = subprocess.run(
        ["redis-cli", "-p", str(pika.port), "--bigkeys"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    biggest = {
        m[1]: (m[2], int(m[3]), m[4])
        for m in re.finditer(r"^Biggest\s+(\w+) found '\"(.*)\"' has (\d+) (\w+)$", cli, re.M)
    }
    assert set(biggest) == set(BIGGEST)
    for t, (key, size, unit) in biggest.items():
        assert report["types"][t]["biggest"][0] == {"key": key, "size": size}
        assert unit == UNITS[t]
    m = re.search(r"^Sampled (\d+) keys in the keyspace!$", cli, re.M)
    assert m is not None and int(m[1]) == report["keys_scanned"]
    # "31 strings with 5250 bytes (...)": counts and totals per type agree too
    totals = {
        m[2]: (int(m[1]), int(m[3]))
        for m in re.finditer(r"^(\d+) (\w+?)s with (\d+) \w+ \(", cli, re.M)
    }
    for t in BIGGEST:
        assert totals[t] == (report["types"][t]["keys"], report["types"][t]["total"]), t


def test_bigkeys_table_match_and_db(pika: PikaServer, r: redis.Redis) -> None:
    r.set("a:1", "x" * 10)
    r.set("a:2", "x" * 20)
    r.set("b:1", "x" * 99)
    r.select(3)
    r.rpush("other", 1, 2)
    r.select(0)
    table = run_bigkeys(pika.port, "--match", "a:*", "--sleep", "0.001").stdout
    assert "Biggest keys per type" in table
    assert re.search(r'^string\s+1\s+"a:2"\s+20\s+bytes$', table, re.M), table
    assert "b:1" not in table
    assert "Size histogram" in table
    report = json.loads(run_bigkeys(pika.port, "-n", "3", "--format", "json").stdout)
    assert report["keys_scanned"] == 1
    assert report["types"]["list"]["biggest"] == [{"key": "other", "size": 2}]
    assert report["types"]["string"]["keys"] == 0


def test_bigkeys_auth_and_errors(pika: PikaServer, r: redis.Redis) -> None:
    r.hset("h", mapping={"a": 1, "b": 2})
    r.config_set("requirepass", "s3cret")  # on the shared server: reset below
    try:
        out = run_bigkeys(pika.port, "-a", "s3cret", "--format", "json")
        report = json.loads(out.stdout)
        assert report["types"]["hash"]["biggest"] == [{"key": "h", "size": 2}]
        bad = subprocess.run(
            [*PIKADB, "bigkeys", "-p", str(pika.port), "-a", "wrong"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 1
        assert bad.stderr.startswith("pikadb bigkeys: WRONGPASS")
    finally:
        admin = pika.client(password="s3cret")
        admin.config_set("requirepass", "")
        admin.close()


def test_memkeys_against_redis_and_pikadb(
    real_redis: RedisServer, rr: redis.Redis, pika: PikaServer, r: redis.Redis
) -> None:
    """--memkeys ranks by MEMORY USAGE like redis-cli --memkeys (on redis-server), and on
    pikadb by its MEMORY USAGE (stored bytes)."""
    for c in (rr, r):
        c.set("small", "x")
        c.set("big", "x" * 4000)
        c.rpush("lst", *range(500))
        c.hset("hsh", mapping={f"f{i}": "v" * 50 for i in range(60)})
    out = run_bigkeys(real_redis.port, "--memkeys", "--format", "json")
    report = json.loads(out.stdout)
    assert report["memkeys"] is True
    cli = subprocess.run(
        ["redis-cli", "-p", str(real_redis.port), "--memkeys"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for m in re.finditer(r"^Biggest\s+(\w+) found '\"(.*)\"' has (\d+) bytes$", cli, re.M):
        top = report["types"][m[1]]["biggest_by_memory"][0]
        assert (top["key"], top["memory"]) == (m[2], int(m[3]))
    assert report["types"]["hash"]["biggest_by_memory"][0]["key"] == "hsh"
    out = run_bigkeys(pika.port, "--memkeys", "--format", "json")
    report = json.loads(out.stdout)
    assert report["memkeys"] is True  # pikadb's MEMORY USAGE: the key's stored bytes
    biggest = report["types"]["string"]["biggest"][0]
    assert (biggest["key"], biggest["size"]) == ("big", 4000)
    for kind, key in (("string", "big"), ("list", "lst"), ("hash", "hsh")):
        top = report["types"][kind]["biggest_by_memory"][0]
        assert top["key"] == key and top["memory"] > 0
