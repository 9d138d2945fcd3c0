"""MEMORY: replies shaped as Redis's (errors and HELP compared with a real redis-server);
USAGE estimates the stored bytes of a key."""

from __future__ import annotations

import pytest
import redis


def _err(c: redis.Redis, *args: object) -> str:
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command(*args)
    return str(info.value)


def test_usage(r: redis.Redis) -> None:
    assert r.execute_command("MEMORY", "USAGE", "missing") is None
    r.set("s", "x" * 1000)
    assert 1000 <= r.memory_usage("s") < 1200
    r.set("big", "y" * 100_000)  # a chunked string: exact from its length
    assert 100_000 <= r.memory_usage("big") < 101_000
    r.hset("h", mapping={f"field:{i}": "v" * 20 for i in range(1000)})
    sampled = r.memory_usage("h")
    exact = r.memory_usage("h", samples=0)
    assert 1000 * 20 < exact < 1000 * 200
    assert sampled > exact // 2


def test_errors_and_help_like_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("a", "b")
    for args in (
        ("MEMORY", "USAGE", "a", "SAMPLES", "x"),
        ("MEMORY", "USAGE", "a", "SAMPLES", "-1"),
        ("MEMORY", "USAGE", "a", "foo"),
        ("MEMORY", "FOO"),
        ("MEMORY", "USAGE"),
    ):
        assert _err(r, *args) == _err(rr, *args), args
    assert r.execute_command("MEMORY", "HELP") == rr.execute_command("MEMORY", "HELP")
    assert r.execute_command("MEMORY", "PURGE") == rr.execute_command("MEMORY", "PURGE")
    mine, theirs = (c.execute_command("COMMAND", "INFO", "MEMORY")["memory"] for c in (r, rr))
    for info in (mine, theirs):  # (Redis lists subcommands in its dict's order)
        info["subcommands"] = sorted(info["subcommands"], key=lambda sub: sub[0])
    assert mine == theirs


def test_stats(r: redis.Redis) -> None:
    r.mset({f"k{i}": i for i in range(10)})
    stats = r.memory_stats()
    assert stats["keys.count"] == 10
    assert stats["peak.allocated"] > 0
    assert "dataset.bytes" in stats
    doctor = r.execute_command("MEMORY", "DOCTOR")
    assert "Sam" in (doctor.decode() if isinstance(doctor, bytes) else str(doctor))
