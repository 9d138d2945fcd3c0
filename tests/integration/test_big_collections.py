"""Collections with 1,000,000 members: filled through pipelined multi-member commands, then
deleted. DEL of such a key is O(1) (one meta delete plus one range tombstone), and the server's
memory does not grow with the collection: members live in RocksDB, RAM is bounded by the
memtables and block cache configured for the server (small ones here).

Every case writes ~100 MB of member data; the same commands go to a real redis-server for
scale. Timings, pikadb's RSS (VmRSS from /proc/<pid>/status) and redis's used_memory are
printed (``pytest -s``) for the notes; timings are never asserted. Each case uses its own
pikadb, so one type's data does not skew the next one's RSS.

Add a case: a ``test_<type>`` calling :func:`run_case` with a command builder and the
command that reads the collection's size.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import hiredis
import pytest
import redis
from tests.support.servers import PikaServer, RedisServer

N = 1_000_000
PER_COMMAND = 2_000  # members per HSET/SADD/... command
PIPELINE = 10  # commands per round trip
PAD = b"x" * 90  # member/value padding: ~100 MB of payload per case
MB = 1 << 20
# A small memtable budget, so that "the collection is on disk, not in RAM" shows in RSS.
SERVER_ARGS = ("--set", "write-buffer-size=4mb", "--set", "max-write-buffer-number=2")

pytestmark = pytest.mark.slow

Builder = Callable[[int], tuple[bytes, ...]]  # command number -> command args


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def send_all(port: int, build: Builder, count: int) -> int:
    """Send ``count`` commands, PIPELINE per round trip (hiredis packing: the client must not
    be the bottleneck); returns the payload bytes sent (arguments after the key)."""
    payload = 0
    reader = hiredis.Reader()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(120)
        for start in range(0, count, PIPELINE):
            batch = [build(i) for i in range(start, min(start + PIPELINE, count))]
            payload += sum(len(a) for cmd in batch for a in cmd[2:])
            s.sendall(b"".join(hiredis.pack_command(cmd) for cmd in batch))
            got = 0
            while got < len(batch):
                reply = reader.gets()
                if reply is False:
                    reader.feed(s.recv(1 << 16))
                    continue
                if isinstance(reply, hiredis.ReplyError):
                    raise AssertionError(reply)
                got += 1
    return payload


@dataclass
class Report:
    kind: str
    payload: int
    fill_s: float
    rss_before: int
    rss_filled: int
    del_ms: float
    rss_after_del: int
    redis_used: int  # redis's used_memory growth for the same commands

    @property
    def growth(self) -> int:
        return self.rss_filled - self.rss_before

    def __str__(self) -> str:
        return (
            f"{self.kind}: {N:,} members, {self.payload / MB:.0f} MB payload, filled in "
            f"{self.fill_s:.1f} s; pikadb RSS {self.rss_before / MB:.0f} -> "
            f"{self.rss_filled / MB:.0f} MB (+{self.growth / MB:.0f} MB; redis used_memory "
            f"+{self.redis_used / MB:.0f} MB for the same data); DEL {self.del_ms:.1f} ms; "
            f"RSS after DEL {self.rss_after_del / MB:.0f} MB"
        )


def run_case(
    make_server: Callable[..., PikaServer],
    rr: redis.Redis,
    real_redis: RedisServer,
    kind: str,
    build: Builder,
    size_cmd: str,
) -> Report:
    commands = N // PER_COMMAND
    used0 = rr.info("memory")["used_memory"]
    send_all(real_redis.port, build, commands)
    redis_used = rr.info("memory")["used_memory"] - used0
    rr.flushall()

    srv = make_server(*SERVER_ARGS)
    assert srv.proc is not None
    pid = srv.proc.pid
    c = srv.client(socket_timeout=120)
    c.set("warm", "up")
    before = rss(pid)
    t0 = time.perf_counter()
    payload = send_all(srv.port, build, commands)
    fill_s = time.perf_counter() - t0
    assert c.execute_command(size_cmd, "big") == N
    filled = rss(pid)
    t0 = time.perf_counter()
    assert c.delete("big") == 1
    del_ms = (time.perf_counter() - t0) * 1000
    assert c.exists("big") == 0 and c.execute_command(size_cmd, "big") == 0
    after = rss(pid)
    c.close()
    report = Report(kind, payload, fill_s, before, filled, del_ms, after, redis_used)
    print(f"\n{report}")
    # RAM stays within the engine's budget (memtables, block cache, allocator slack), far
    # below what the same collection takes in redis's memory
    assert report.growth < redis_used / 2, report
    return report


def test_hash(
    make_server: Callable[..., PikaServer], rr: redis.Redis, real_redis: RedisServer
) -> None:
    def build(i: int) -> tuple[bytes, ...]:
        base = i * PER_COMMAND
        pairs = (x for j in range(base, base + PER_COMMAND) for x in (b"f%d" % j, PAD))
        return (b"HSET", b"big", *pairs)

    run_case(make_server, rr, real_redis, "hash", build, "HLEN")


def test_set(
    make_server: Callable[..., PikaServer], rr: redis.Redis, real_redis: RedisServer
) -> None:
    def build(i: int) -> tuple[bytes, ...]:
        base = i * PER_COMMAND
        return (b"SADD", b"big", *(b"m%d:" % j + PAD for j in range(base, base + PER_COMMAND)))

    run_case(make_server, rr, real_redis, "set", build, "SCARD")


def test_zset(
    make_server: Callable[..., PikaServer], rr: redis.Redis, real_redis: RedisServer
) -> None:
    def build(i: int) -> tuple[bytes, ...]:
        base = i * PER_COMMAND
        pairs = (x for j in range(base, base + PER_COMMAND) for x in (b"%d" % j, b"m%d:" % j + PAD))
        return (b"ZADD", b"big", *pairs)

    run_case(make_server, rr, real_redis, "zset", build, "ZCARD")
