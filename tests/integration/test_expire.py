"""Expiry: EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX/XX/GT/LT, TTL/PTTL/EXPIRETIME/PEXPIRETIME,
PERSIST, lazy and active expiry, and TTLs across a restart."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from tests.support.servers import PikaServer


def both(r: redis.Redis, rr: redis.Redis, *args: object) -> object:
    def run(c: redis.Redis) -> object:
        try:
            return c.execute_command(*args)
        except redis.ResponseError as e:
            return ("error", str(e))

    a, b = run(r), run(rr)
    assert a == b, (args, a, b)
    return a


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_expire_option_errors_match_redis(r: redis.Redis, rr: redis.Redis, cmd: str) -> None:
    for c in (r, rr):
        c.set("k", "v")
    for args in [
        ("abc",),
        ("10", "foo"),
        ("abc", "foo"),
        ("10", "NX", "XX"),
        ("10", "nx", "gt"),
        ("10", "NX", "LT"),
        ("10", "GT", "LT"),
        ("abc", "nx", "xx"),
        ("10", "NX", "NX"),
        ("1.5",),
        (" 10",),
        ("9223372036854775807",),
        ("-9223372036854775808",),
        ("9223372036854775",),
        ("9223372036854776",),
        ("-9223372036854775",),
        ("-9223372036854776",),
    ]:
        both(r, rr, cmd, "k", *args)
        for c in (r, rr):
            c.set("k", "v")
    both(r, rr, cmd, "nokey", "100")
    both(r, rr, cmd, "nokey", "abc")
    both(r, rr, cmd, "k")


def test_expire_conditions_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("k", "v")
    steps = [
        ("EXPIRE", "k", "100", "XX"),
        ("EXPIRE", "k", "100", "GT"),
        ("EXPIRE", "k", "100", "LT"),
        ("TTL", "k"),
        ("EXPIRE", "k", "200", "NX"),
        ("EXPIRE", "k", "50", "GT"),
        ("EXPIRE", "k", "500", "GT"),
        ("TTL", "k"),
        ("EXPIRE", "k", "600", "LT"),
        ("EXPIRE", "k", "300", "LT"),
        ("TTL", "k"),
        ("EXPIRE", "k", "400", "XX"),
        ("TTL", "k"),
        ("EXPIRE", "k", "100", "XX", "GT"),
        ("EXPIRE", "k", "100", "XX", "LT"),
        ("TTL", "k"),
        ("PERSIST", "k"),
        ("PERSIST", "k"),
        ("TTL", "k"),
        ("PTTL", "k"),
        ("EXPIRETIME", "k"),
        ("PEXPIRETIME", "k"),
        ("TTL", "nokey"),
        ("PTTL", "nokey"),
        ("EXPIRETIME", "nokey"),
        ("PEXPIRETIME", "nokey"),
        ("PERSIST", "nokey"),
    ]
    for step in steps:
        both(r, rr, *step)


def test_expire_in_the_past_deletes(r: redis.Redis, rr: redis.Redis) -> None:
    for args in [
        ("EXPIRE", "k", "0"),
        ("EXPIRE", "k", "-10"),
        ("PEXPIRE", "k", "-1"),
        ("EXPIREAT", "k", "1"),
        ("PEXPIREAT", "k", "0"),
        ("EXPIREAT", "k", "-5"),
    ]:
        for c in (r, rr):
            c.set("k", "v")
        both(r, rr, *args)
        both(r, rr, "EXISTS", "k")
    assert r.dbsize() == 0


def test_expiretime_values(r: redis.Redis) -> None:
    base = (int(time.time()) + 10_000) * 1000  # a whole second, well in the future
    r.set("k", "v")
    assert r.pexpireat("k", base + 500)
    assert r.execute_command("PEXPIRETIME", "k") == base + 500
    assert r.execute_command("EXPIRETIME", "k") == base // 1000 + 1  # rounded like Redis
    r.pexpireat("k", base + 499)
    assert r.execute_command("EXPIRETIME", "k") == base // 1000
    r.expireat("k", base // 1000)
    assert r.execute_command("PEXPIRETIME", "k") == base


def test_ttl_pttl_values(r: redis.Redis) -> None:
    r.set("k", "v")
    assert r.ttl("k") == -1 and r.pttl("k") == -1
    r.expire("k", 100)
    assert 99 <= r.ttl("k") <= 100
    assert 99_000 <= r.pttl("k") <= 100_000
    r.pexpire("k", 1500)
    assert r.ttl("k") in (1, 2)  # rounded: 1.5 s -> 2 (or 1 once a few ms passed)
    r.set("k", "v", ex=10)  # SET without KEEPTTL...
    r.set("k", "w")  # ...then a plain SET clears the ttl
    assert r.ttl("k") == -1


def test_lazy_expiry_hides_keys(r: redis.Redis) -> None:
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.set("a", "1", px=30)
        r.set("b", "1", px=30)
        r.set("c", "1")
        time.sleep(0.06)
        assert r.dbsize() == 3  # not deleted yet: DBSIZE still counts them, like Redis
        assert r.get("a") is None
        assert r.exists("a", "b", "c") == 1
        assert r.keys("*") == [b"c"]
        assert r.scan(0, count=100)[1] == [b"c"]
        assert r.randomkey() == b"c"
        assert r.ttl("b") == -2 and r.type("b") == b"none"
        assert r.dbsize() == 1  # accessed ones were deleted lazily
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_active_expiry_deletes_untouched_keys(r: redis.Redis) -> None:
    r.mset({f"k{i}": "v" for i in range(500)})
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.pexpire(f"k{i}", 50)
    pipe.execute()
    r.set("keep", "v")
    deadline = time.monotonic() + 5
    while r.dbsize() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.dbsize() == 1
    assert r.keys("*") == [b"keep"]


def test_expire_on_renamed_and_copied_keys(r: redis.Redis) -> None:
    r.set("a", "v", ex=100)
    r.rename("a", "b")
    assert 99 <= r.ttl("b") <= 100
    r.copy("b", "c")
    assert 99 <= r.ttl("c") <= 100
    r.persist("c")
    assert r.ttl("c") == -1 and r.ttl("b") > 0


def test_ttls_survive_restart(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    c.set("sec", "v", ex=1000)
    c.set("ms", "v", px=500_000)
    c.set("at", "v")
    at = int(time.time() * 1000) + 3_600_000
    c.pexpireat("at", at)
    c.set("persistent", "v")
    c.set("short", "v", px=300)
    t0 = time.monotonic()  # taken before the PTTLs: elapsed time is then an upper bound
    before = {k: c.pttl(k) for k in ("sec", "ms")}
    c.close()
    srv.restart()
    time.sleep(max(0.0, 0.4 - (time.monotonic() - t0)))
    c = srv.client()
    for k, v in before.items():
        after = c.pttl(k)
        elapsed_ms = (time.monotonic() - t0) * 1000
        assert v - elapsed_ms - 5 <= after <= v, (k, v, after, elapsed_ms)
    assert c.execute_command("PEXPIRETIME", "at") == at
    assert c.ttl("persistent") == -1
    assert c.get("short") is None  # expired while the server was down
    assert c.ttl("short") == -2
    deadline = time.monotonic() + 5
    while c.dbsize() != 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.dbsize() == 4
    c.close()
