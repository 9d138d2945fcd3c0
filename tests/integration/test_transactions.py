"""MULTI / EXEC / DISCARD / WATCH / UNWATCH (Redis 7.0 multi.c; cases from tests/unit/multi.tcl).

Most scenarios run on pikadb and on a real redis-server 7.0 with the same steps (and sleeps)
and must give the same replies, typed on the wire (``+QUEUED``, ``*-1`` vs ``_``,
``-EXECABORT``...). The rest check what only pikadb can show: an EXEC is one binlog record,
blocked clients are served after EXEC, statistics, cleanup when a client goes away.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import NULL, NULL_ARRAY, NULL_BULK, Err, Side, Status, same
from tests.support.binlog import binlog_records
from tests.support.servers import PikaServer, RedisServer

Step = tuple[Any, ...]  # (client index, *command) or ("sleep", seconds)


def _run(port: int, steps: list[Step], resp: int = 2, clients: int = 2) -> list[Any]:
    sides = [Side(f"c{i}", port, resp) for i in range(clients)]
    out: list[Any] = []
    try:
        sides[0].call("FLUSHALL")
        for s in steps:
            if s[0] == "sleep":
                time.sleep(s[1])
                continue
            out.append(sides[s[0]].call(*s[1:]))
    finally:
        for side in sides:
            side.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            side.close()
    return out


def both(pika: PikaServer, real: RedisServer, steps: list[Step], resp: int = 2) -> list[Any]:
    """Run ``steps`` on both servers; assert every reply is the same; return pikadb's."""
    a = _run(pika.port, steps, resp)
    b = _run(real.port, steps, resp)
    for step, x, y in zip([s for s in steps if s[0] != "sleep"], a, b, strict=True):
        assert same(x, y), f"{step!r}\n  pikadb: {x!r}\n  redis : {y!r}"
    return a


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def resp(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def servers(pika: PikaServer, real_redis: RedisServer) -> Iterator[Callable[..., list[Any]]]:
    def run(steps: list[Step], resp: int = 2) -> list[Any]:
        return both(pika, real_redis, steps, resp)

    yield run


# --- MULTI / EXEC / DISCARD basics --------------------------------------------------------------
def test_multi_exec_basics(servers: Callable[..., list[Any]], resp: int) -> None:
    out = servers(
        [
            (0, "RPUSH", "mylist", "a", "b", "c"),
            (0, "MULTI"),
            (0, "LRANGE", "mylist", 0, -1),
            (0, "PING"),
            (0, "EXEC"),
        ],
        resp,
    )
    assert out[1:] == [b"OK", b"QUEUED", b"QUEUED", [[b"a", b"b", b"c"], b"PONG"]]
    assert type(out[2]) is Status


def test_discard(servers: Callable[..., list[Any]], resp: int) -> None:
    out = servers(
        [
            (0, "RPUSH", "mylist", "a", "b", "c"),
            (0, "MULTI"),
            (0, "DEL", "mylist"),
            (0, "DISCARD"),
            (0, "LRANGE", "mylist", 0, -1),
            (0, "DISCARD"),
            (0, "EXEC"),
        ],
        resp,
    )
    assert out[3:5] == [b"OK", [b"a", b"b", b"c"]]
    assert out[5:] == [Err("ERR DISCARD without MULTI"), Err("ERR EXEC without MULTI")]


def test_nested_multi_and_watch_inside_multi_do_not_abort(
    servers: Callable[..., list[Any]], resp: int
) -> None:
    out = servers(
        [(0, "MULTI"), (0, "MULTI"), (0, "WATCH", "x"), (0, "SET", "x", "1"), (0, "EXEC")], resp
    )
    assert out[1] == Err("ERR MULTI calls can not be nested")
    assert out[2] == Err("ERR WATCH inside MULTI is not allowed")
    assert out[4] == [b"OK"]


def test_empty_transaction(servers: Callable[..., list[Any]], resp: int) -> None:
    assert servers([(0, "MULTI"), (0, "EXEC")], resp)[1] == []


@pytest.mark.parametrize(
    "bad",
    [("NON-EXISTING-COMMAND",), ("GET",), ("SET", "k"), ("CONFIG", "NOSUCH"), ("CONFIG",)],
)
def test_queue_time_errors_abort_exec(
    servers: Callable[..., list[Any]], resp: int, bad: tuple[str, ...]
) -> None:
    out = servers(
        [
            (0, "MULTI"),
            (0, "SET", "foo1{t}", "bar1"),
            (0, *bad),
            (0, "SET", "foo2{t}", "bar2"),
            (0, "EXEC"),
            (0, "EXISTS", "foo1{t}", "foo2{t}"),
            (0, "PING"),  # the MULTI state is cleared
        ],
        resp,
    )
    assert out[4] == Err("EXECABORT Transaction discarded because of previous errors.")
    assert out[5:] == [0, b"PONG"]


def test_no_multi_command_is_refused_and_aborts(r: redis.Redis, pika: PikaServer) -> None:
    s = Side("c", pika.port)
    assert s.call("MULTI") == b"OK"
    assert s.call("SET", "foo", "bar") == b"QUEUED"
    assert s.call("SHUTDOWN") == Err("ERR Command not allowed inside a transaction")
    assert s.call("EXEC") == Err("EXECABORT Transaction discarded because of previous errors.")
    assert s.call("GET", "foo") is NULL_BULK
    s.close()


def test_runtime_errors_do_not_roll_back(servers: Callable[..., list[Any]], resp: int) -> None:
    out = servers(
        [
            (0, "MULTI"),
            (0, "SET", "a", "x"),
            (0, "INCR", "a"),
            (0, "LPUSH", "a", "1"),
            (0, "SET", "b", "2"),
            (0, "INCRBY", "b", "y"),
            (0, "EXEC"),
            (0, "MGET", "a", "b"),
        ],
        resp,
    )
    assert out[6] == [
        b"OK",
        Err("ERR value is not an integer or out of range"),
        Err("WRONGTYPE Operation against a key holding the wrong kind of value"),
        b"OK",
        Err("ERR value is not an integer or out of range"),
    ]
    assert out[7] == [b"x", b"2"]


def test_select_inside_exec(servers: Callable[..., list[Any]], resp: int) -> None:
    servers(
        [
            (0, "MULTI"),
            (0, "SET", "k", "0"),
            (0, "SELECT", "1"),
            (0, "SET", "k", "1"),
            (0, "EXEC"),
            (0, "GET", "k"),
            (0, "SELECT", "0"),
            (0, "GET", "k"),
        ],
        resp,
    )


def test_multi_where_commands_alter_argc_argv(servers: Callable[..., list[Any]]) -> None:
    out = servers([(0, "SADD", "myset", "a"), (0, "MULTI"), (0, "SPOP", "myset"), (0, "EXEC"),
                   (0, "EXISTS", "myset")])  # fmt: skip
    assert out[3:] == [[b"a"], 0]


def test_blocking_commands_inside_multi_do_not_block(
    servers: Callable[..., list[Any]], resp: int
) -> None:
    out = servers(
        [
            (0, "MULTI"),
            (0, "BLPOP", "empty{t}", 0),
            (0, "BRPOP", "empty{t}", 0),
            (0, "BRPOPLPUSH", "empty1{t}", "empty2{t}", 0),
            (0, "BLMOVE", "empty1{t}", "empty2{t}", "LEFT", "LEFT", 0),
            (0, "BZPOPMIN", "emptyz{t}", 0),
            (0, "BZPOPMAX", "emptyz{t}", 0),
            (0, "BLMPOP", 0, 1, "empty{t}", "LEFT"),
            (0, "EXEC"),
        ],
        resp,
    )
    assert len(out[-1]) == 7


def test_exec_in_resp3_and_null_shapes(pika: PikaServer) -> None:
    for resp, null in ((2, NULL_ARRAY), (3, NULL)):
        a, b = Side("a", pika.port, resp), Side("b", pika.port, resp)
        a.call("DEL", "x")
        assert a.call("WATCH", "x") == b"OK"
        assert b.call("SET", "x", "1") == b"OK"
        assert a.call("MULTI") == b"OK"
        assert a.call("GET", "x") == b"QUEUED"
        assert a.call("EXEC") is null
        a.close()
        b.close()


def test_pipelined_transaction(r: redis.Redis) -> None:
    p = r.pipeline(transaction=True)
    p.set("a", 1).incr("a").get("a").lpush("a", 1)
    assert p.execute(raise_on_error=False)[:3] == [True, 2, b"2"]


# --- WATCH --------------------------------------------------------------------------------------
def test_exec_works_on_watched_key_not_modified(servers: Callable[..., list[Any]]) -> None:
    out = servers([(0, "WATCH", "x{t}", "y{t}", "z{t}"), (0, "WATCH", "k{t}"), (0, "MULTI"),
                   (0, "PING"), (0, "EXEC")])  # fmt: skip
    assert out[-1] == [b"PONG"]


@pytest.mark.parametrize(
    "modify",
    [
        [(1, "SET", "x", "40")],
        [(0, "SET", "x", "40")],  # the watcher's own write outside MULTI counts too
        [(1, "DEL", "x")],
        [(1, "EXPIRE", "x", "10")],
        [(1, "PEXPIRE", "x", "0")],
        [(1, "APPEND", "x", "y")],
        [(1, "INCR", "x")],
        [(1, "SET", "x", "30")],  # same value: still a write
        [(1, "RENAME", "x", "y")],
        [(1, "SET", "other", "1"), (1, "RENAME", "other", "x")],
        [(1, "MOVE", "x", "1")],
        [(1, "SELECT", "1"), (1, "SET", "x", "1"), (1, "MOVE", "x", "0")],
        [(1, "SET", "src", "1"), (1, "COPY", "src", "x", "REPLACE")],
        [(1, "GET", "x"), (1, "STRLEN", "x")],  # reads: no change
        [
            (
                1,
                "FLUSHDB",
            )
        ],
        [
            (
                1,
                "FLUSHALL",
            )
        ],
        [(1, "SWAPDB", "0", "1")],
        [(1, "MULTI"), (1, "SET", "x", "1"), (1, "EXEC")],
        [(1, "GETDEL", "x")],
        [(1, "GETEX", "x", "PERSIST")],  # no TTL to remove: no change
        [(1, "PERSIST", "x")],
        [(1, "SETNX", "x", "1")],  # fails: no change
    ],
)
def test_watched_key_modified_by(servers: Callable[..., list[Any]], modify: list[Step]) -> None:
    steps: list[Step] = [(0, "SET", "x", "30"), (0, "WATCH", "x"), *modify, (0, "MULTI"),
                         (0, "PING"), (0, "EXEC")]  # fmt: skip
    servers(steps)


@pytest.mark.parametrize(
    "modify",
    [
        [(1, "SET", "x", "1")],
        [(1, "DEL", "x")],  # deleting a missing key: no change
        [
            (
                1,
                "FLUSHDB",
            )
        ],  # FLUSHDB/FLUSHALL touch only keys that existed
        [
            (
                1,
                "FLUSHALL",
            )
        ],
        [(1, "SWAPDB", "0", "1")],  # neither db has it
        [(1, "SELECT", "1"), (1, "SET", "x", "1"), (1, "SWAPDB", "0", "1")],  # appears
        [(1, "SELECT", "1"), (1, "SET", "x", "1")],  # same name, other db
        [(1, "LPUSH", "x", "a")],
        [(1, "SADD", "s", "a"), (1, "SMOVE", "s", "x", "a")],
    ],
)
def test_watched_missing_key(servers: Callable[..., list[Any]], modify: list[Step]) -> None:
    servers([(0, "WATCH", "x"), *modify, (0, "MULTI"), (0, "PING"), (0, "EXEC")])


def test_sort_store_touches_even_when_empty(servers: Callable[..., list[Any]]) -> None:
    out = servers([(0, "LPUSH", "foo", "bar"), (0, "WATCH", "foo"),
                   (0, "SORT", "emptylist", "STORE", "foo"), (0, "MULTI"), (0, "PING"),
                   (0, "EXEC")])  # fmt: skip
    assert out[-1] is NULL_ARRAY


def test_watch_is_able_to_remember_the_db(servers: Callable[..., list[Any]]) -> None:
    out = servers([(0, "SELECT", 5), (0, "SET", "x", 30), (0, "WATCH", "x"), (0, "SELECT", 1),
                   (0, "SET", "x", 10), (0, "SELECT", 5), (0, "MULTI"), (0, "PING"),
                   (0, "EXEC")])  # fmt: skip
    assert out[-1] == [b"PONG"]


def test_after_exec_key_is_no_longer_watched(servers: Callable[..., list[Any]]) -> None:
    out = servers([
        (0, "SET", "x", 30), (0, "WATCH", "x"), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        (0, "SET", "x", 40), (0, "MULTI"), (0, "PING"), (0, "EXEC"),  # after a successful EXEC
        (0, "WATCH", "x"), (0, "SET", "x", 50), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        (0, "SET", "x", 40), (0, "MULTI"), (0, "PING"), (0, "EXEC"),  # after a failed one
    ])  # fmt: skip
    assert out[4] == [b"PONG"] and out[8] == [b"PONG"]
    assert out[13] is NULL_ARRAY and out[17] == [b"PONG"]


def test_unwatch_and_discard_clear_the_watch(servers: Callable[..., list[Any]]) -> None:
    out = servers([
        (0, "SET", "x", 30), (0, "WATCH", "x"), (0, "SET", "x", 40), (0, "UNWATCH"),
        (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        (0, "UNWATCH"),
        (0, "WATCH", "x"), (0, "SET", "x", 10), (0, "MULTI"), (0, "DISCARD"), (0, "MULTI"),
        (0, "INCR", "x"), (0, "EXEC"),
        (0, "WATCH", "x"), (0, "MULTI"), (0, "DISCARD"), (0, "SET", "x", 10), (0, "MULTI"),
        (0, "INCR", "x"), (0, "EXEC"),
    ])  # fmt: skip
    assert out[6] == [b"PONG"] and out[7] == b"OK"
    assert out[14] == [11] and out[21] == [11]


def test_watch_many_keys_one_modified(servers: Callable[..., list[Any]]) -> None:
    out = servers([(0, "SET", "x{t}", 30), (0, "WATCH", "a{t}", "b{t}", "x{t}", "k{t}", "z{t}"),
                   (1, "SET", "x{t}", 40), (0, "MULTI"), (0, "PING"), (0, "EXEC")])  # fmt: skip
    assert out[-1] is NULL_ARRAY


def test_flushall_while_watching_several_keys(servers: Callable[..., list[Any]]) -> None:
    servers([(0, "MSET", "a{t}", "a", "b{t}", "b"), (0, "WATCH", "b{t}", "a{t}"),
             (0, "FLUSHALL"), (0, "PING"), (0, "MULTI"), (0, "EXEC")])  # fmt: skip


def test_dirty_watcher_does_not_watch_again(servers: Callable[..., list[Any]]) -> None:
    servers([(0, "WATCH", "x"), (1, "SET", "x", 1), (0, "WATCH", "y"), (0, "MULTI"),
             (0, "EXEC"), (0, "MULTI"), (0, "EXEC")])  # fmt: skip


# --- WATCH and expiry (Redis 7.0) -----------------------------------------------------------------
def test_exec_fails_on_lazy_expired_watched_key(servers: Callable[..., list[Any]]) -> None:
    out = servers([(0, "DEBUG", "SET-ACTIVE-EXPIRE", 0), (0, "SET", "key", 1, "PX", 100),
                   (0, "WATCH", "key"), ("sleep", 0.15), (0, "MULTI"), (0, "INCR", "key"),
                   (0, "EXEC")])  # fmt: skip
    assert out[-1] is NULL_ARRAY


def test_exec_fails_on_actively_expired_watched_key(
    pika: PikaServer, real_redis: RedisServer
) -> None:
    for port in (pika.port, real_redis.port):
        c = Side("c", port)
        c.call("FLUSHALL")
        c.call("SET", "x", "foo")
        c.call("PEXPIRE", "x", 100)
        c.call("WATCH", "x")
        deadline = time.monotonic() + 5
        while c.call("DBSIZE") != 0:  # wait for the active expiry (no lazy access of x)
            assert time.monotonic() < deadline
            time.sleep(0.02)
        c.call("MULTI")
        c.call("PING")
        assert c.call("EXEC") is NULL_ARRAY, port
        c.close()


STALE = [(0, "DEBUG", "SET-ACTIVE-EXPIRE", 0), (0, "SET", "x", "foo", "PX", 1), ("sleep", 0.01)]


@pytest.mark.parametrize(
    "between",
    [
        [],  # watching an already expired key
        [(0, "EXISTS", "x")],  # ... lazily deleted: no change
        [
            (
                1,
                "FLUSHDB",
            )
        ],  # ... flushed: no change
        [(1, "DEL", "x")],
        [(1, "SWAPDB", "0", "1")],  # ... replaced by no key: no change
    ],
)
def test_stale_watched_key_does_not_fail_exec(
    servers: Callable[..., list[Any]], between: list[Step]
) -> None:
    out = servers([*STALE, (0, "WATCH", "x"), *between, (0, "MULTI"), (0, "PING"), (0, "EXEC")])
    assert out[-1] == [b"PONG"]


@pytest.mark.parametrize(
    "between",
    [
        [(1, "SET", "x", "bar")],  # stale key overwritten: a change
        [(0, "GET", "x"), (1, "SET", "x", "bar")],  # deleted, then created
        [(1, "SELECT", "1"), (1, "SET", "x", "live"), (1, "SWAPDB", "0", "1")],
    ],
)
def test_stale_watched_key_then_changed(
    servers: Callable[..., list[Any]], between: list[Step]
) -> None:
    out = servers([*STALE, (0, "WATCH", "x"), *between, (0, "MULTI"), (0, "PING"), (0, "EXEC")])
    assert out[-1] is NULL_ARRAY


def test_swapdb_and_stale_keys(servers: Callable[..., list[Any]]) -> None:
    # no key replaced with a stale key; a stale key replaced with another stale key
    out = servers([
        (0, "DEBUG", "SET-ACTIVE-EXPIRE", 0),
        (0, "SET", "x", "foo", "PX", 1), ("sleep", 0.01), (0, "SELECT", 1), (0, "WATCH", "x"),
        (0, "SWAPDB", 0, 1), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        (0, "FLUSHALL"), (0, "SELECT", 1), (0, "SET", "x", "foo", "PX", 1), (0, "SELECT", 0),
        (0, "SET", "x", "bar", "PX", 1), ("sleep", 0.01), (0, "SELECT", 1), (0, "WATCH", "x"),
        (0, "SWAPDB", 0, 1), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
    ])  # fmt: skip
    assert out[7] == [b"PONG"] and out[-1] == [b"PONG"]


# --- atomicity, blocked clients, binlog --------------------------------------------------------------
def test_exec_is_atomic_against_other_clients(r: redis.Redis, pika: PikaServer) -> None:
    stop = threading.Event()

    def hammer() -> None:
        c = pika.client()
        while not stop.is_set():
            c.incr("n")
        c.close()

    t = threading.Thread(target=hammer, daemon=True)
    t.start()
    try:
        for _ in range(30):
            p = r.pipeline(transaction=True)
            for _ in range(20):
                p.incr("n")
            got = p.execute()
            assert got == list(range(got[0], got[0] + 20))  # nothing interleaved
    finally:
        stop.set()
        t.join(5)


def test_blocked_clients_are_served_after_exec(r: redis.Redis, pika: PikaServer) -> None:
    waiter = Side("w", pika.port)
    conn = waiter._connect()
    conn.send_command("BLPOP", "l", "0.5", check_health=False)
    deadline = time.monotonic() + 5
    while r.info("clients")["blocked_clients"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    p = r.pipeline(transaction=True)
    p.lpush("l", "x").delete("l").lpush("l", "y")
    assert p.execute() == [1, 1, 1]
    # served once EXEC is over: the list then holds only y
    assert conn.read_response() == [b"l", b"y"]
    waiter.close()
    assert r.exists("l") == 0


def test_exec_with_range_reads_is_one_binlog_record(
    make_server: Callable[..., PikaServer],
) -> None:
    """Reads of key ranges after writes inside EXEC (KEYS, LRANGE, HGETALL, ZRANGE, after a
    DEL that range-deletes a collection) see those writes without writing the EXEC out in
    two parts."""
    srv = make_server()
    c = srv.client()
    c.rpush("old-list", *range(10))
    c.hset("h", mapping={"a": 1, "b": 2})
    p = c.pipeline(transaction=True)
    p.rpush("tx-list", "a", "b").lrange("tx-list", 0, -1).keys("tx-*")
    p.delete("old-list").lrange("old-list", 0, -1).rpush("old-list", "new").lrange(
        "old-list", 0, -1
    )
    p.hset("h", "c", 3).hdel("h", "a").hgetall("h")
    p.zadd("tx-z", {"m1": 1, "m2": 2}).zrange("tx-z", 0, -1, withscores=True).zrank("tx-z", "m2")
    p.sadd("tx-s", "x").smembers("tx-s").scan(0, match="tx-*", count=1000)
    res = p.execute()
    assert res[1] == [b"a", b"b"]
    assert sorted(res[2]) == [b"tx-list"]
    assert res[4] == [] and res[6] == [b"new"]
    assert res[9] == {b"b": b"2", b"c": b"3"}
    assert res[11] == [(b"m1", 1.0), (b"m2", 2.0)] and res[12] == 1
    assert res[14] == {b"x"} and sorted(res[15][1]) == [b"tx-list", b"tx-s", b"tx-z"]
    c.set("after", "1")
    c.close()
    assert srv.stop() == 0
    with_tx = [rec for rec in binlog_records(srv) if "tx-list" in rec]
    assert len(with_tx) == 1
    assert all(k in with_tx[0] for k in ("tx-z", "tx-s", "old-list"))


def test_script_with_range_reads_is_one_binlog_record(
    make_server: Callable[..., PikaServer],
) -> None:
    srv = make_server()
    c = srv.client()
    c.rpush("sc-list", *range(5))
    script = """
    redis.call('del', KEYS[1])
    local before = redis.call('lrange', KEYS[1], 0, -1)
    redis.call('rpush', KEYS[1], 'x', 'y')
    redis.call('set', KEYS[2], 'v')
    return {#before, redis.call('lrange', KEYS[1], 0, -1), redis.call('keys', 'sc-*')}
    """
    n, items, keys = c.eval(script, 2, "sc-list", "sc-str")
    assert n == 0 and items == [b"x", b"y"] and sorted(keys) == [b"sc-list", b"sc-str"]
    c.set("after", "1")
    c.close()
    assert srv.stop() == 0
    with_script = [rec for rec in binlog_records(srv) if "sc-str" in rec]
    assert len(with_script) == 1 and "sc-list" in with_script[0]


def test_exec_is_one_binlog_record(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    c.set("before", "1")
    p = c.pipeline(transaction=True)
    p.set("tx-a", "1").set("tx-b", "2").incr("tx-c").delete("before")
    p.execute()
    c.set("after", "1")
    c.close()
    assert srv.stop() == 0
    with_tx = [rec for rec in binlog_records(srv) if "tx-a" in rec]
    assert len(with_tx) == 1
    assert all(k in with_tx[0] for k in ("tx-b", "tx-c", "before"))
    assert not any("after" in rec for rec in with_tx)


# --- client state, statistics, cleanup ------------------------------------------------------------
def test_client_list_shows_multi(r: redis.Redis, pika: PikaServer) -> None:
    s = Side("c", pika.port)
    s.call("MULTI")
    s.call("SET", "a", "1")
    s.call("GET", "a")
    line = next(x for x in r.client_list() if x["flags"] == "x")
    assert line["multi"] == "2" and line["cmd"] == "get"
    s.call("DISCARD")
    assert all(x["multi"] == "-1" for x in r.client_list())
    s.close()


def test_stats_like_redis(make_server: Callable[..., PikaServer], real_redis: RedisServer) -> None:
    """info.tcl 'errorstats: rejected/failed call within MULTI/EXEC'."""
    srv = make_server()
    for port in (srv.port, real_redis.port):
        c = redis.Redis(port=port)
        c.config_resetstat()
        c.execute_command("MULTI")
        with pytest.raises(redis.ResponseError):
            c.execute_command("SET")
        with pytest.raises(redis.ResponseError, match="discarded because of previous errors"):
            c.execute_command("EXEC")
        info = c.info("all")
        assert info["errorstat_ERR"]["count"] == 1 and info["errorstat_EXECABORT"]["count"] == 1
        assert info["total_error_replies"] == 2
        assert info["cmdstat_set"]["rejected_calls"] == 1 and info["cmdstat_set"]["calls"] == 0
        assert info["cmdstat_exec"]["calls"] == 1 and info["cmdstat_exec"]["failed_calls"] == 1
        c.config_resetstat()
        c.execute_command("MULTI")
        c.execute_command("SET", "a", "b")
        c.execute_command("INCR", "a")
        res = c.execute_command("EXEC")
        assert isinstance(res[1], redis.ResponseError)
        info = c.info("all")
        assert info["cmdstat_set"]["calls"] == 1 and info["cmdstat_incr"]["failed_calls"] == 1
        assert info["cmdstat_exec"]["calls"] == 1 and info["cmdstat_exec"]["failed_calls"] == 0
        assert info["total_error_replies"] == 1
        with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
            c.execute_command("EXEC")
        assert c.info("commandstats")["cmdstat_exec"]["failed_calls"] == 1
        c.close()


def test_reset_leaves_multi_and_unwatches(r: redis.Redis, pika: PikaServer) -> None:
    s = Side("c", pika.port)
    s.call("WATCH", "x")
    s.call("MULTI")
    s.call("SET", "x", "1")
    assert s.call("RESET") == b"RESET"
    r.set("x", "2")  # would make a still-watching client dirty
    assert s.call("MULTI") == b"OK"
    assert s.call("GET", "x") == b"QUEUED"
    assert s.call("EXEC") == [b"2"]
    s.close()


def test_quit_inside_multi_closes(r: redis.Redis, pika: PikaServer) -> None:
    s = Side("c", pika.port)
    s.call("MULTI")
    s.call("SET", "q", "1")
    assert s.call("QUIT") == b"OK"
    s.close()
    assert r.get("q") is None


def test_gone_clients_leave_no_state(r: redis.Redis, pika: PikaServer) -> None:
    for _ in range(20):
        s = Side("c", pika.port)
        s.call("WATCH", "w1", "w2")
        s.call("MULTI")
        s.call("SET", "w1", "x")
        s.close()
    time.sleep(0.1)
    r.set("w1", "y")  # no watcher left to mark
    assert r.get("w1") == b"y"
    assert all(x["multi"] == "-1" for x in r.client_list())


def test_exec_with_random_picks_after_writes_is_one_binlog_record(
    make_server: Callable[..., PikaServer],
) -> None:
    """SPOP / SRANDMEMBER / RANDOMKEY sample with a cursor; after writes inside EXEC the
    cursor walks the merged view instead of writing the EXEC out early."""
    srv = make_server()
    c = srv.client()
    c.sadd("rp-old", *range(50))
    p = c.pipeline(transaction=True)
    p.sadd("rp-set", "a", "b", "c").spop("rp-set").srandmember("rp-set", 5)
    p.srem("rp-old", *range(49)).spop("rp-old").srandmember("rp-old").scard("rp-set")
    res = p.execute()
    assert res[1] in (b"a", b"b", b"c") and res[1] not in res[2] and len(res[2]) == 2
    assert res[4] == b"49" and res[5] is None and res[6] == 2
    c.set("after", "1")
    c.close()
    assert srv.stop() == 0
    with_tx = [rec for rec in binlog_records(srv) if "rp-set" in rec]
    assert len(with_tx) == 1 and "rp-old" in with_tx[0]
