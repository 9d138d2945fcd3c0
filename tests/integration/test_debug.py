"""DEBUG: DIGEST / DIGEST-VALUE identical to a real redis-server holding the same data,
OBJECT, SLEEP, RELOAD, SET-ACTIVE-EXPIRE, POPULATE, PROTOCOL, and the enable-debug-command
guard."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from tests.differential.harness import Pair
from tests.support.servers import PikaServer, RedisServer

ZERO = "0" * 40
DISABLED = (
    'DEBUG command not allowed. If the enable-debug-command option is set to "local", you '
    "can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)


def digest(c: redis.Redis) -> str:
    d = c.execute_command("DEBUG", "DIGEST")
    return d.decode() if isinstance(d, bytes) else str(d)


def on_both(r: redis.Redis, rr: redis.Redis, *args: object) -> None:
    for c in (r, rr):
        c.execute_command(*args)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request: pytest.FixtureRequest, r: redis.Redis, rr: redis.Redis) -> Iterator[Pair]:
    p = Pair.from_clients(r, rr, resp=request.param)
    p.reset()
    yield p
    p.close()


# --- DIGEST ---------------------------------------------------------------------------------------
def test_digest_empty_is_zeros(r: redis.Redis, rr: redis.Redis) -> None:
    assert digest(r) == digest(rr) == ZERO
    r.execute_command("SELECT", 9)
    assert digest(r) == ZERO


def test_digest_same_as_redis(r: redis.Redis, rr: redis.Redis) -> None:
    data = {
        b"plain": b"hello",
        b"int": b"12345",
        b"neg": b"-7",
        b"zero-padded": b"007",
        b"long": b"x" * 1000,
        b"bin\x00key": b"\x00\xff\r\n",
        b"empty": b"",
        b"big": b"9" * 30,
    }
    for c in (r, rr):
        c.mset(data)
        c.set("ttl", "v", ex=1000)
        c.set("pttl", "v", px=999_999)
        c.execute_command("SELECT", 2)
        c.set("in-db-2", "two")
        c.execute_command("SELECT", 15)
        c.set("in-db-15", "fifteen", ex=100)
        c.execute_command("SELECT", 0)
    d = digest(r)
    assert d == digest(rr)
    assert d != ZERO
    on_both(r, rr, "PERSIST", "ttl")
    assert digest(r) == digest(rr) != d
    on_both(r, rr, "APPEND", "plain", "!")
    on_both(r, rr, "INCR", "int")
    on_both(r, rr, "DEL", "empty")
    assert digest(r) == digest(rr)
    on_both(r, rr, "FLUSHALL")
    assert digest(r) == digest(rr) == ZERO


def test_digest_depends_on_db_and_not_on_order(r: redis.Redis, rr: redis.Redis) -> None:
    r.mset({"a": 1, "b": 2, "c": 3})
    first = digest(r)
    r.flushall()
    for k, v in (("c", 3), ("a", 1), ("b", 2)):
        r.set(k, v)
    assert digest(r) == first
    r.swapdb(0, 1)
    moved = digest(r)
    assert moved != first
    rr.execute_command("SELECT", 1)
    rr.mset({"a": 1, "b": 2, "c": 3})
    assert digest(rr) == moved
    r.swapdb(0, 1)


def test_digest_value(pair: Pair) -> None:
    pair.both("SET", "s", "hello")
    pair.both("SET", "n", "42")
    pair.both("SET", "t", "v", "EX", "100")
    for args in [("s",), ("s", "n", "t", "nokey"), ("nokey",), ()]:
        a, b = pair.both("DEBUG", "DIGEST-VALUE", *args)
        assert a == b and type(a) is type(b), (args, a, b)
    a, _ = pair.both("DEBUG", "DIGEST-VALUE", "nokey")
    assert a == [ZERO.encode()]


def test_digest_after_populate_same_as_redis(r: redis.Redis, rr: redis.Redis) -> None:
    on_both(r, rr, "DEBUG", "POPULATE", "300")
    on_both(r, rr, "DEBUG", "POPULATE", "50", "pre")
    on_both(r, rr, "DEBUG", "POPULATE", "10", "sized", "20")
    on_both(r, rr, "DEBUG", "POPULATE", "10", "short", "3")
    assert r.dbsize() == rr.dbsize() == 370
    assert r.get("key:7") == rr.get("key:7") == b"value:7"
    assert r.get("sized:3") == rr.get("sized:3")
    assert digest(r) == digest(rr)


def test_populate_errors(pair: Pair) -> None:
    for args in [("x",), ("-1",), ("1", "p", "x"), ("1", "p", "-5"), (), ("1", "a", "1", "x")]:
        a, b = pair.both("DEBUG", "POPULATE", *args)
        assert a == b, (args, a, b)


# --- OBJECT / SLEEP / RELOAD / SET-ACTIVE-EXPIRE -----------------------------------------------
def test_debug_object(r: redis.Redis, rr: redis.Redis) -> None:
    values = {"s": "hello", "i": "1", "i2": "100000", "i3": "5000000000", "long": "x" * 100,
              "rand": "abcdefghijklmnopqrstuvwxyz0123456789"}  # fmt: skip
    for c in (r, rr):
        c.mset(values)
    for key in values:
        conn_r = Pair.from_clients(r, rr)
        a, b = conn_r.both("DEBUG", "OBJECT", key)
        conn_r.close()
        assert re.fullmatch(
            rb"Value at:0x[0-9a-f]+ refcount:\d+ encoding:\w+ serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+",
            a,
        ), a
        fa = dict(f.split(b":", 1) for f in a.split(b" ") if b":" in f)
        fb = dict(f.split(b":", 1) for f in b.split(b" ") if b":" in f)
        # serializedlength of LZF-compressed values depends on the compressor's choices
        compared = (
            (b"refcount", b"encoding")
            if key == "long"
            else (b"refcount", b"encoding", b"serializedlength")
        )
        for field in compared:
            assert fa[field] == fb[field], (key, field, fa, fb)
    with pytest.raises(redis.ResponseError, match=r"^no such key$"):
        r.execute_command("DEBUG", "OBJECT", "nokey")


def test_debug_sleep_blocks_the_server(r: redis.Redis, pika: PikaServer) -> None:
    other = pika.client()
    other.ping()
    elapsed: list[float] = []

    def ping_later() -> None:
        time.sleep(0.05)
        t0 = time.monotonic()
        other.ping()
        elapsed.append(time.monotonic() - t0)

    t = threading.Thread(target=ping_later)
    t.start()
    t0 = time.monotonic()
    assert r.execute_command("DEBUG", "SLEEP", "0.4")
    assert time.monotonic() - t0 >= 0.35
    t.join()
    assert elapsed[0] >= 0.2
    assert r.execute_command("DEBUG", "SLEEP", "0")
    assert r.execute_command("DEBUG", "SLEEP", "abc")  # strtod: 0
    other.close()


def test_debug_reload_keeps_data(r: redis.Redis) -> None:
    r.mset({"a": 1, "b": 2})
    r.set("t", 1, ex=1000)
    r.execute_command("SELECT", 3)
    r.set("c", 3)
    before = digest(r)
    assert r.execute_command("DEBUG", "RELOAD")
    assert r.execute_command("DEBUG", "RELOAD", "NOSAVE", "merge", "NOFLUSH")
    assert digest(r) == before
    assert r.get("c") == b"3"
    r.execute_command("SELECT", 0)
    assert r.dbsize() == 3
    assert r.ttl("t") > 900
    r.set("after", 1)
    assert r.get("after") == b"1"
    with pytest.raises(redis.ResponseError, match="only supports the MERGE, NOFLUSH and NOSAVE"):
        r.execute_command("DEBUG", "RELOAD", "FAST")


def test_set_active_expire(r: redis.Redis) -> None:
    try:
        assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        r.set("gone", 1, px=30)
        time.sleep(0.4)
        assert r.dbsize() == 1  # expired, but nobody collected it
        assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        deadline = time.monotonic() + 5
        while r.dbsize() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.dbsize() == 0
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# --- PROTOCOL / ERROR / HELP / unknown ---------------------------------------------------------------
@pytest.mark.parametrize(
    "kind",
    ["string", "integer", "double", "bignum", "null", "array", "set", "map", "true", "false",
     "verbatim", "attrib", "foo"],
)  # fmt: skip
def test_debug_protocol(pair: Pair, kind: str) -> None:
    a, b = pair.both("DEBUG", "PROTOCOL", kind)
    assert a == b and type(a) is type(b), (a, b)


def test_debug_misc_like_redis(pair: Pair) -> None:
    for args in [("ERROR", "boom now"), ("ERROR", "line\r\nbreak"), ("foo",), ("sleep",),
                 ("object",), ("digest", "x"), ("set-active-expire",), ("protocol",)]:  # fmt: skip
        a, b = pair.both("DEBUG", *args)
        assert a == b, (args, a, b)
    a, b = pair.both("DEBUG")
    assert a == b
    assert pair.p.call("DEBUG", "LOG", "hello from a test") == b"OK"


def test_debug_help(r: redis.Redis) -> None:
    lines = r.execute_command("DEBUG", "HELP")
    text = [x.decode() if isinstance(x, bytes) else x for x in lines]
    assert text[0] == "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert text[-2:] == ["HELP", "    Prints this help."]
    assert "DIGEST" in text and "SLEEP <seconds>" in text


# --- enable-debug-command --------------------------------------------------------------------------
def test_debug_disabled(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server("--set", "enable-debug-command=no")
    c = srv.client()
    before = c.info("stats")["total_error_replies"]
    with pytest.raises(redis.ResponseError) as exc:
        c.execute_command("DEBUG", "DIGEST")
    assert str(exc.value) == DISABLED
    assert c.info("stats")["total_error_replies"] == before + 1
    with pytest.raises(redis.ResponseError, match="enable-debug-command"):
        c.execute_command("DEBUG", "HELP")


def test_debug_local(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server("--set", "enable-debug-command=local")
    assert srv.client().execute_command("DEBUG", "DIGEST") in (ZERO, ZERO.encode())


def test_debug_disabled_text_matches_redis(make_server: Callable[..., PikaServer]) -> None:
    real = RedisServer().start("--enable-debug-command", "no")
    try:
        with pytest.raises(redis.ResponseError) as theirs:
            real.client().execute_command("DEBUG", "DIGEST")
    finally:
        real.cleanup()
    srv = make_server("--set", "enable-debug-command=no")
    with pytest.raises(redis.ResponseError) as ours:
        srv.client().execute_command("DEBUG", "DIGEST")
    assert str(ours.value) == str(theirs.value) == DISABLED


# --- the per-type digest helpers, checked against redis-server's own values ------------------------
def _value_digest(redis_type: int, fill: Callable[[bytearray], None], expire: bool = False) -> str:
    from pikadb.commands import debug as dbg

    d = bytearray(20)
    dbg.mix_digest(d, redis_type.to_bytes(4, "big"))
    fill(d)
    if expire:
        dbg.xor_digest(d, b"!!expire!!")
    return d.hex()


def test_collection_digest_helpers_match_redis(rr: redis.Redis) -> None:
    from pikadb.commands import debug as dbg

    rr.rpush("l", "a", "b", "1", "a")
    rr.sadd("s", "x", "y", "10")
    rr.zadd("z", {"m1": 0.1, "m2": 2, "m3": -1.5e300})
    rr.hset("h", mapping={"f1": "v1", "f2": "2"})
    rr.expire("h", 1000)
    rr.xadd("x", {"a": "1", "b": "2"}, id="5-1")
    rr.xadd("x", {"c": "3"}, id="7-0")
    want = [
        d.decode() for d in rr.execute_command("DEBUG", "DIGEST-VALUE", "l", "s", "z", "h", "x")
    ]
    got = [
        _value_digest(1, lambda d: dbg.digest_list(d, [b"a", b"b", b"1", b"a"])),
        _value_digest(2, lambda d: dbg.digest_set(d, [b"10", b"y", b"x"])),
        _value_digest(
            3, lambda d: dbg.digest_zset(d, [(b"m3", -1.5e300), (b"m1", 0.1), (b"m2", 2.0)])
        ),
        _value_digest(
            4, lambda d: dbg.digest_hash(d, [(b"f2", b"2"), (b"f1", b"v1")]), expire=True
        ),
        _value_digest(
            6,
            lambda d: dbg.digest_stream(
                d, [(5, 1, [(b"a", b"1"), (b"b", b"2")]), (7, 0, [(b"c", b"3")])]
            ),
        ),
    ]
    assert got == want
