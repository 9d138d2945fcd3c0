"""The hot-data cache (storage/cache.py, commands/cache_cmd.py) through redis-py on a server
started with ``--set cache-model=1``: hits, exact invalidation by every kind of write,
expiry, MULTI/EXEC and scripts, FLUSHDB/SWAPDB, runtime CONFIG SET, eviction policies,
Pika's CACHE / CLEARCACHE commands and DEBUG RELOAD."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from tests.support.servers import PikaServer


@pytest.fixture(scope="module")
def server() -> Iterator[PikaServer]:
    srv = PikaServer(args=["--set", "cache-model=1", "--set", "enable-debug-command=yes"]).start()
    yield srv
    srv.cleanup()


@pytest.fixture
def c(server: PikaServer) -> Iterator[redis.Redis]:
    cl = server.client()
    cl.flushall()
    cl.config_set("cache-model", "1")
    cl.config_set("cache-type", "string, set, zset, list, hash, bit")
    cl.config_set("cache-maxmemory", "10gb")
    cl.config_set("cache-maxmemory-policy", "1")
    cl.execute_command("CACHE", "CLEAR", "HITRATIO")
    yield cl
    cl.close()


def info(c: redis.Redis) -> dict[str, str]:
    text = c.execute_command("CACHE", "INFO").decode()
    return dict(line.split(":", 1) for line in text.splitlines()[1:] if ":" in line)


def test_hits_and_pika_info_fields(c: redis.Redis) -> None:
    c.set("k", "v")
    assert c.get("k") == b"v"  # miss: loaded
    assert c.get("k") == b"v"  # hit
    i = info(c)
    assert list(i) == [
        "cache_status", "cache_db_num", "cache_keys", "cache_memory", "cache_memory_human",
        "hits", "all_cmds", "hits_per_sec", "read_cmd_per_sec", "hitratio_per_sec",
        "hitratio_all", "load_keys_per_sec", "waitting_load_keys_num",
    ]  # fmt: skip
    assert i["cache_status"] == "Ok"
    assert (i["cache_keys"], i["hits"], i["all_cmds"]) == ("1", "1", "2")
    assert i["hitratio_all"] == "50%"
    assert int(i["cache_memory"]) > 0


def test_every_cached_read_sees_every_write(c: redis.Redis) -> None:
    big = b"x" * 20_000  # chunked string
    c.set("s", "v")
    c.set("big", big)
    c.hset("h", mapping={"f": "1", "g": "2"})
    c.rpush("l", "a", "b", "c")
    c.sadd("st", "1", "2")

    def reads() -> tuple[object, ...]:
        return (
            c.get("s"),
            c.get("big"),
            c.hgetall("h"),
            c.hkeys("h"),
            c.hvals("h"),
            c.hget("h", "f"),
            c.lrange("l", 0, -1),
            c.lrange("l", 1, 1),
            c.smembers("st"),
        )

    for _ in range(2):  # load, then hit
        assert reads() == (
            b"v", big, {b"f": b"1", b"g": b"2"}, [b"f", b"g"], [b"1", b"2"], b"1",
            [b"a", b"b", b"c"], [b"b"], {b"1", b"2"},
        )  # fmt: skip
    assert int(info(c)["hits"]) >= 9
    c.setrange("s", 0, "W")
    c.setrange("big", 5000, "yy")  # a chunk rewritten, same length
    c.hset("h", "f", "9")  # overwrite: same size
    c.lset("l", 1, "B")
    c.srem("st", "2")
    big2 = big[:5000] + b"yy" + big[5002:]
    assert reads() == (
        b"W", big2, {b"f": b"9", b"g": b"2"}, [b"f", b"g"], [b"9", b"2"], b"9",
        [b"a", b"B", b"c"], [b"B"], {b"1"},
    )  # fmt: skip
    c.rename("h", "h2")
    c.copy("l", "st", replace=True)
    c.move("s", 1)
    assert (c.hgetall("h"), c.hgetall("h2")) == ({}, {b"f": b"9", b"g": b"2"})
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        c.smembers("st")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        c.get("h2")  # a cached hash
    assert c.get("s") is None


def test_smembers_wrongtype_after_copy(c: redis.Redis) -> None:
    c.sadd("st", "a")
    c.smembers("st")
    c.rpush("l", "x")
    c.copy("l", "st", replace=True)
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        c.smembers("st")
    assert c.lrange("st", 0, -1) == [b"x"]


def test_cached_entries_honour_expiry(c: redis.Redis) -> None:
    c.set("s", "v", px=150)
    c.hset("h", "f", "v")
    c.pexpire("h", 150)
    c.rpush("l", "a")
    c.pexpire("l", 150)
    for _ in range(2):
        assert (c.get("s"), c.hgetall("h"), c.lrange("l", 0, -1)) == (b"v", {b"f": b"v"}, [b"a"])
    time.sleep(0.2)
    assert (c.get("s"), c.hgetall("h"), c.lrange("l", 0, -1)) == (None, {}, [])
    assert c.exists("s", "h", "l") == 0
    c.set("p", "v", ex=100)
    c.get("p")
    c.persist("p")
    c.pexpire("p", 1)
    time.sleep(0.01)
    assert c.get("p") is None


def test_multi_exec_and_scripts_read_their_own_writes(c: redis.Redis) -> None:
    c.set("k", "1")
    c.hset("h", "f", "1")
    assert c.get("k") == b"1" and c.hget("h", "f") == b"1"
    p = c.pipeline(transaction=True)
    p.set("k", "2").get("k").hset("h", "f", "2").hget("h", "f").hgetall("h")
    assert p.execute() == [True, b"2", 0, b"2", {b"f": b"2"}]
    assert c.get("k") == b"2"
    script = "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])"
    assert c.eval(script, 1, "k", "3") == b"3"
    assert c.get("k") == b"3"
    assert c.eval("return redis.call('get', KEYS[1])", 1, "k") == b"3"
    # a pipelined (group-committed) write then read on another connection
    other = redis.Redis(port=c.connection_pool.connection_kwargs["port"])
    p2 = c.pipeline(transaction=False)
    p2.set("k", "4").get("k")
    assert p2.execute() == [True, b"4"]
    assert other.get("k") == b"4"
    other.close()


def test_flushdb_flushall_swapdb(c: redis.Redis) -> None:
    c.set("k", "db0")
    c.get("k")
    c.execute_command("SELECT", "1")  # redis-py pool: same connection reused in this test
    c2 = redis.Redis(port=c.connection_pool.connection_kwargs["port"], db=1)
    c2.set("k", "db1")
    assert c2.get("k") == b"db1"
    c.execute_command("SELECT", "0")
    c.swapdb(0, 1)
    assert c.get("k") == b"db1"
    assert c2.get("k") == b"db0"
    c.flushdb()
    assert c.get("k") is None
    assert c2.get("k") == b"db0"
    c.flushall()
    assert c2.get("k") is None
    c2.close()


def test_runtime_settings(c: redis.Redis) -> None:
    c.set("k", "v")
    c.get("k")
    assert info(c)["cache_keys"] == "1"
    c.config_set("cache-model", "0")
    assert info(c) == {"cache_status": "Disable"}
    c.set("k", "w")
    assert c.get("k") == b"w"
    c.config_set("cache-model", "1")
    assert info(c)["cache_keys"] == "0"  # emptied when turned off
    c.config_set("cache-type", "hash")
    c.get("k")
    c.hset("h", "f", "v")
    c.hgetall("h")
    assert info(c)["cache_keys"] == "1"
    assert c.config_get("cache-type") == {"cache-type": "hash"}
    with pytest.raises(redis.ResponseError, match="cache-type"):
        c.config_set("cache-type", "string, nope")
    with pytest.raises(redis.ResponseError, match="between 0 and 7"):
        c.config_set("cache-maxmemory-policy", "8")
    c.config_set("cache-lfu-decay-time", "5")
    assert c.config_get("cache-lfu-decay-time") == {"cache-lfu-decay-time": "5"}


@pytest.mark.parametrize("policy", ["0", "1", "2", "3", "4", "5", "6"])
def test_eviction_keeps_the_budget(c: redis.Redis, policy: str) -> None:
    c.config_set("cache-maxmemory-policy", policy)
    c.config_set("cache-maxmemory", "4000")
    p = c.pipeline(transaction=False)
    for i in range(100):
        p.set(f"k{i}", "v" * 50, ex=1000 if i % 2 else None)
    p.execute()
    for _ in range(3):
        for i in range(100):
            assert c.get(f"k{i}") == b"v" * 50
        assert c.get("k7") == b"v" * 50  # hot
    i = info(c)
    assert 0 < int(i["cache_memory"]) <= 4000
    assert 0 < int(i["cache_keys"]) < 100


def test_noeviction_refuses_new_entries(c: redis.Redis) -> None:
    c.config_set("cache-maxmemory-policy", "7")
    c.config_set("cache-maxmemory", "2000")
    for i in range(50):
        c.set(f"k{i}", "v" * 50)
        assert c.get(f"k{i}") == b"v" * 50
    n = int(info(c)["cache_keys"])
    assert 0 < n < 50
    assert c.get("k0") == b"v" * 50
    assert int(info(c)["cache_memory"]) <= 2000


def test_cache_and_clearcache_commands(c: redis.Redis) -> None:
    assert c.execute_command("CACHE", "RANDOMKEY") is None
    c.set("a", "1")
    c.get("a")
    assert c.execute_command("CACHE", "RANDOMKEY") == b"a"
    assert c.execute_command("CACHE", "DEL", "a", "nope") == b"OK"
    assert info(c)["cache_keys"] == "0"
    c.get("a")
    assert c.execute_command("CACHE", "CLEAR", "DB") == b"OK"
    assert info(c)["cache_keys"] == "0"
    c.get("a")
    assert c.execute_command("CLEARCACHE") == b"OK"
    assert info(c)["cache_keys"] == "0"
    c.get("a")
    c.get("a")
    assert c.execute_command("CACHE", "CLEAR", "HITRATIO") == b"OK"
    assert (info(c)["hits"], info(c)["all_cmds"]) == ("0", "0")
    for bad in (("CACHE", "NOPE"), ("CACHE", "CLEAR"), ("CACHE", "CLEAR", "X")):
        with pytest.raises(redis.ResponseError, match="Unknown cache subcommand"):
            c.execute_command(*bad)
    assert c.get("a") == b"1"


def test_debug_reload_starts_empty_and_stays_exact(c: redis.Redis) -> None:
    c.set("k", "v")
    c.get("k")
    c.execute_command("DEBUG", "RELOAD")
    assert info(c)["cache_keys"] == "0"
    assert c.get("k") == b"v"
    c.set("k", "w")
    assert c.get("k") == b"w"
    assert info(c)["cache_keys"] == "1"


def test_cache_off_by_default(r: redis.Redis) -> None:
    assert r.config_get("cache-model") == {"cache-model": "0"}
    r.set("k", "v")
    assert r.get("k") == b"v"
    assert r.execute_command("CACHE", "INFO") == b"# Cache\r\ncache_status:Disable\r\n"
