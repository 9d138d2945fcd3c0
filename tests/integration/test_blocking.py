"""Blocking list commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) driven from several
clients: waking, FIFO order, timeouts (fractional, RESP2/RESP3 null shapes), BLMOVE chains,
keys that change type or disappear, disconnects, multiple databases, and that a blocked client
never blocks the server. Scenarios marked ``same`` run on pikadb and on a real redis-server
7.0 and must give the same replies and final state."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
import redis
from tests.differential.harness import NULL, NULL_ARRAY, Err, Side
from tests.differential.test_lists import assert_same_scenario, blocked_clients
from tests.support.servers import PikaServer, RedisServer


def _port(r: redis.Redis) -> int:
    return int(r.connection_pool.connection_kwargs["port"])


def _blocked(r: redis.Redis, *args: object, resp: int = 2) -> tuple[threading.Thread, list[Any]]:
    """Run a blocking command on its own connection in a thread; return once it blocked."""
    side = Side("blocked", _port(r), resp)
    out: list[Any] = []

    def run() -> None:
        out.append(side.call(*args))
        side.close()

    before = r.info("clients")["blocked_clients"]
    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.monotonic() + 5
    while r.info("clients")["blocked_clients"] <= before and time.monotonic() < deadline:
        time.sleep(0.005)
    assert r.info("clients")["blocked_clients"] == before + 1, "the command did not block"
    return t, out


def _join(*threads: threading.Thread) -> None:
    for t in threads:
        t.join(5)
        assert not t.is_alive()


# --- waking ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cmd", "reply"),
    [
        (("BLPOP", "nokey", "k", 0), [b"k", b"a"]),
        (("BRPOP", "k", "nokey", 5), [b"k", b"b"]),
        (("BLMOVE", "k", "dst", "RIGHT", "LEFT", 0), b"b"),
        (("BRPOPLPUSH", "k", "dst", 5), b"b"),
        (("BLMPOP", 0, 2, "nokey", "k", "LEFT", "COUNT", 5), [b"k", [b"a", b"b"]]),
    ],
)
def test_woken_by_a_push(r: redis.Redis, cmd: tuple[Any, ...], reply: Any) -> None:
    t, out = _blocked(r, *cmd)
    assert r.ping()  # the server answers others while a client is blocked
    assert r.rpush("k", "a", "b") == 2
    _join(t)
    assert out == [reply]
    assert r.info("clients")["blocked_clients"] == 0


def test_waiters_served_first_blocked_first_served(r: redis.Redis) -> None:
    waiters = [_blocked(r, "BLPOP", "k", 5) for _ in range(3)]
    for v in ("a", "b", "c"):
        r.rpush("k", v)
        time.sleep(0.05)
    _join(*(t for t, _ in waiters))
    assert [out for _, out in waiters] == [[[b"k", b"a"]], [[b"k", b"b"]], [[b"k", b"c"]]]


def test_one_push_of_many_serves_waiters_in_order(r: redis.Redis) -> None:
    w1 = _blocked(r, "BRPOP", "k", 5)
    w2 = _blocked(r, "BLMPOP", 5, 1, "k", "LEFT", "COUNT", 2)
    w3 = _blocked(r, "BLPOP", "k", 5)
    w4 = _blocked(r, "BLPOP", "k", "0.3")
    assert r.rpush("k", "a", "b", "c", "d") == 4
    _join(w1[0], w2[0], w3[0], w4[0])
    assert w1[1] == [[b"k", b"d"]]
    assert w2[1] == [[b"k", [b"a", b"b"]]]
    assert w3[1] == [[b"k", b"c"]]
    assert w4[1] == [NULL_ARRAY]  # nothing left: it times out
    assert not r.exists("k")


def test_waiter_on_several_keys_keeps_its_place(r: redis.Redis) -> None:
    w1 = _blocked(r, "BLPOP", "a", "b", 5)  # first on b
    w2 = _blocked(r, "BLPOP", "b", 5)
    r.rpush("b", "x")
    _join(w1[0])
    assert w1[1] == [[b"b", b"x"]]
    r.rpush("a", "y")  # w1 is gone from a's queue: nobody takes this
    r.rpush("b", "z")
    _join(w2[0])
    assert w2[1] == [[b"b", b"z"]]
    assert r.lrange("a", 0, -1) == [b"y"]


def test_same_key_twice(r: redis.Redis) -> None:
    t, out = _blocked(r, "BLPOP", "k", "k", 5)
    r.rpush("k", "a", "b")
    _join(t)
    assert out == [[b"k", b"a"]]
    assert r.lrange("k", 0, -1) == [b"b"]


def test_pipeline_after_a_blocked_command_waits_for_it(r: redis.Redis) -> None:
    s = socket.create_connection(("127.0.0.1", _port(r)))
    s.sendall(b"BLPOP k 0\r\nPING\r\nRPUSH other 1\r\n")
    time.sleep(0.2)
    assert r.info("clients")["blocked_clients"] == 1
    assert r.llen("other") == 0  # queued behind the blocked command
    r.rpush("k", "v")
    s.settimeout(5)
    data = b""
    while data.count(b"\r\n") < 6:
        data += s.recv(4096)
    s.close()
    assert data == b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n+PONG\r\n:1\r\n"


# --- BLMOVE chains ----------------------------------------------------------------------------
def test_blmove_chain(r: redis.Redis) -> None:
    w1 = _blocked(r, "BLMOVE", "a", "b", "LEFT", "RIGHT", 5)
    w2 = _blocked(r, "BRPOPLPUSH", "b", "c", 5)
    w3 = _blocked(r, "BLPOP", "c", 5)
    r.rpush("a", "x")
    _join(w1[0], w2[0], w3[0])
    assert (w1[1], w2[1], w3[1]) == ([b"x"], [b"x"], [[b"c", b"x"]])
    assert r.exists("a", "b", "c") == 0


def test_blmove_rotation_and_self_wake(r: redis.Redis) -> None:
    w1 = _blocked(r, "BLMOVE", "k", "k", "LEFT", "RIGHT", 5)
    w2 = _blocked(r, "BLPOP", "k", 5)
    r.rpush("k", "x")
    _join(w1[0], w2[0])
    assert w1[1] == [b"x"]  # moved onto k itself...
    assert w2[1] == [[b"k", b"x"]]  # ...which wakes the next waiter on k
    assert not r.exists("k")


def test_blmove_to_a_wrong_type_destination_gets_wrongtype(r: redis.Redis) -> None:
    t, out = _blocked(r, "BLMOVE", "src", "dst", "LEFT", "RIGHT", 0)
    r.set("dst", "string")
    r.rpush("src", "x")
    _join(t)
    assert len(out) == 1 and isinstance(out[0], Err) and out[0].startswith("WRONGTYPE")
    assert r.lrange("src", 0, -1) == [b"x"]


# --- type changes, deletes, databases --------------------------------------------------------
def test_wrong_type_at_call_time(r: redis.Redis) -> None:
    r.set("s", "v")
    for args in (("BLPOP", "s", 0), ("BLPOP", "nokey", "s", 0), ("BLMPOP", 0, 1, "s", "LEFT")):
        with pytest.raises(redis.ResponseError, match=r"^WRONGTYPE"):
            r.execute_command(*args)
    r.rpush("l", "x")
    assert r.blpop(["l", "s"], 0) == (b"l", b"x")  # the first non-empty list wins


def test_key_becoming_another_type_keeps_the_client_waiting(r: redis.Redis) -> None:
    t, out = _blocked(r, "BLPOP", "k", 5)
    r.set("k", "string")
    r.delete("k")
    r.sadd("k", "member")
    time.sleep(0.1)
    assert out == [] and r.info("clients")["blocked_clients"] == 1
    r.delete("k")
    r.lpush("k", "v")
    _join(t)
    assert out == [[b"k", b"v"]]


def test_flush_and_expiry_keep_the_client_waiting(r: redis.Redis) -> None:
    t, out = _blocked(r, "BLPOP", "k", 5)
    r.flushall()
    r.set("k", "v", px=10)
    time.sleep(0.05)
    assert r.get("k") is None
    assert out == []
    r.rpush("k", "x")
    _join(t)
    assert out == [[b"k", b"x"]]


def test_woken_by_rename_restore_and_lmove(r: redis.Redis) -> None:
    r.rpush("tmp", "renamed")
    t, out = _blocked(r, "BLPOP", "k", 5)
    r.rename("tmp", "k")
    _join(t)
    assert out == [[b"k", b"renamed"]]
    r.rpush("tmp", "restored")
    payload = r.dump("tmp")
    t, out = _blocked(r, "BRPOP", "k", 5)
    r.restore("k", 0, payload)
    _join(t)
    assert out == [[b"k", b"restored"]]
    r.rpush("src", "moved")
    t, out = _blocked(r, "BLPOP", "k", 5)
    r.lmove("src", "k", "LEFT", "LEFT")
    _join(t)
    assert out == [[b"k", b"moved"]]


def test_databases_are_separate(r: redis.Redis) -> None:
    t, out = _blocked(r, "BLPOP", "k", 5)  # in db 0
    other = Side("db1", _port(r))
    other.call("SELECT", 1)
    assert other.call("RPUSH", "k", "db1") == 1
    time.sleep(0.1)
    assert out == []
    r.rpush("k", "db0")
    _join(t)
    assert out == [[b"k", b"db0"]]
    assert other.call("LRANGE", "k", 0, -1) == [b"db1"]
    other.call("FLUSHALL")
    other.close()


def test_waiter_in_another_db(r: redis.Redis) -> None:
    side = Side("w", _port(r))
    side.call("SELECT", 2)
    result: list[Any] = []
    th = threading.Thread(target=lambda: result.append(side.call("BLPOP", "k", 5)), daemon=True)
    th.start()
    while r.info("clients")["blocked_clients"] < 1:
        time.sleep(0.005)
    r.rpush("k", "db0")
    r.execute_command("SELECT", 2)
    r.rpush("k", "db2")
    _join(th)
    side.close()
    assert result == [[b"k", b"db2"]]
    r.execute_command("SELECT", 0)
    assert r.lrange("k", 0, -1) == [b"db0"]


def test_swapdb_serves_clients_waiting_on_keys_it_brings(r: redis.Redis, rr: redis.Redis) -> None:
    outcomes = []
    for c in (r, rr):
        other = Side("db1", _port(c))
        other.call("SELECT", 1)
        other.call("RPUSH", "k", "from-db1")
        t, out = _blocked(c, "BLPOP", "k", 5)
        c.swapdb(0, 1)
        _join(t)
        outcomes.append((out, c.lrange("k", 0, -1), other.call("LRANGE", "k", 0, -1)))
        other.call("FLUSHALL")
        other.close()
    assert outcomes[0] == outcomes[1] == ([[b"k", b"from-db1"]], [], [])


# --- timeouts -----------------------------------------------------------------------------------
@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize(
    "cmd",
    [
        ("BLPOP", "k", "0.1"),
        ("BRPOP", "k", "k2", ".1"),
        ("BLMOVE", "k", "d", "LEFT", "LEFT", "0.1"),
        ("BRPOPLPUSH", "k", "d", "1e-1"),
        ("BLMPOP", "0.1", 1, "k", "RIGHT"),
    ],
)
def test_timeout_replies_null_array(r: redis.Redis, cmd: tuple[Any, ...], resp: int) -> None:
    side = Side("t", _port(r), resp)
    t0 = time.monotonic()
    reply = side.call(*cmd)
    elapsed = time.monotonic() - t0
    side.close()
    assert reply is (NULL_ARRAY if resp == 2 else NULL)
    assert 0.09 <= elapsed < 2


def test_tiny_timeouts(r: redis.Redis) -> None:
    t0 = time.monotonic()
    assert r.blpop(["k"], 0.0001) is None  # rounds up to 1 ms
    assert r.execute_command("BLPOP", "k", "0x0.1p-4") is None  # hex floats are accepted
    assert time.monotonic() - t0 < 1


def test_timeout_errors_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for value in (
        "-1", "-0.5", "abc", "nan", "inf", "-inf", "+inf", " 1", "1 ", "", "1e400",
        "92233720368547758", "9223372036854775807", "1e300", "0x", "1,5", "--1",
    ):  # fmt: skip
        for cmd in (("BLPOP", "k", value), ("BLMPOP", value, 1, "k", "LEFT")):
            with pytest.raises(redis.ResponseError) as mine:
                r.execute_command(*cmd)
            with pytest.raises(redis.ResponseError) as theirs:
                rr.execute_command(*cmd)
            assert str(mine.value) == str(theirs.value), cmd


def test_negative_fraction_rounds_to_forever(r: redis.Redis) -> None:
    t, out = _blocked(r, "BLPOP", "k", "-0.0001")  # ceil(-0.1 ms) = 0: no timeout
    time.sleep(0.2)
    assert out == []
    r.rpush("k", "v")
    _join(t)
    assert out == [[b"k", b"v"]]


# --- disconnects, introspection, reload -------------------------------------------------------
def test_disconnect_while_blocked(r: redis.Redis) -> None:
    s = socket.create_connection(("127.0.0.1", _port(r)))
    s.sendall(b"BLPOP gone 1\r\n")  # a timeout, so a zombie waiter cannot outlive the test
    try:
        deadline = time.monotonic() + 5
        while r.info("clients")["blocked_clients"] < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        s.close()
        deadline = time.monotonic() + 0.5
        while r.info("clients")["blocked_clients"] > 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        r.rpush("gone", "v")
        time.sleep(0.05)
        assert r.lrange("gone", 0, -1) == [b"v"]  # nobody took it
        assert r.info("clients")["blocked_clients"] == 0
    finally:
        s.close()
        deadline = time.monotonic() + 3
        while r.info("clients")["blocked_clients"] > 0 and time.monotonic() < deadline:
            time.sleep(0.01)


def test_killed_waiter_is_skipped(r: redis.Redis) -> None:
    w1 = _blocked(r, "BLPOP", "k", 5)
    w2 = _blocked(r, "BLPOP", "k", 5)
    clients = r.client_list()
    blocked = [c for c in clients if "b" in c["flags"]]
    assert len(blocked) == 2
    first = min(blocked, key=lambda c: int(c["id"]))
    r.client_kill_filter(_id=first["id"])
    _join(w1[0])
    r.rpush("k", "v")
    _join(w2[0])
    assert w2[1] == [[b"k", b"v"]]


def test_blocked_client_survives_debug_reload(r: redis.Redis) -> None:
    t, out = _blocked(r, "BLPOP", "k", 5)
    r.execute_command("DEBUG", "RELOAD")
    r.rpush("k", "after-reload")
    _join(t)
    assert out == [[b"k", b"after-reload"]]


def test_many_blocked_clients_do_not_stop_the_server(r: redis.Redis) -> None:
    waiters = [_blocked(r, "BLPOP", f"k{i}", 10) for i in range(20)]
    t0 = time.monotonic()
    for _ in range(100):
        assert r.ping()
    assert time.monotonic() - t0 < 5
    for i in range(20):
        r.rpush(f"k{i}", i)
    _join(*(t for t, _ in waiters))
    assert [w[1] for w in waiters] == [[[b"k%d" % i, b"%d" % i]] for i in range(20)]


# --- the same scenarios on a real redis-server ------------------------------------------------
SCENARIOS: dict[str, tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]] = {
    "fifo": (
        [],
        [("BLPOP", "a", "1"), ("BRPOP", "a", "1"), ("BLMPOP", "1", 1, "a", "LEFT", "COUNT", 5)],
        [("RPUSH", "a", 1, 2, 3, 4, 5)],
    ),
    "chain": (
        [],
        [
            ("BLMOVE", "a", "b", "RIGHT", "LEFT", "1"),
            ("BLMOVE", "b", "c", "LEFT", "LEFT", "1"),
            ("BLPOP", "c", "b", "1"),
        ],
        [("RPUSH", "a", "x", "y")],
    ),
    "type_change": (
        [],
        [("BLPOP", "a", "1"), ("BLPOP", "a", "b", "1")],
        [("SET", "a", "s"), ("RPUSH", "b", "x"), ("DEL", "a"), ("LPUSH", "a", "y")],
    ),
    "wrongtype_dst": (
        [("SET", "c", "s")],
        [("BLMOVE", "a", "c", "LEFT", "LEFT", "1"), ("BLPOP", "a", "1")],
        [("RPUSH", "a", "x")],
    ),
    "rename_and_lmove": (
        [("RPUSH", "b", "1", "2")],
        [("BRPOP", "a", "1"), ("BRPOPLPUSH", "c", "a", "1")],
        [("RENAME", "b", "a"), ("LMOVE", "a", "c", "LEFT", "RIGHT")],
    ),
    "not_served_times_out": (
        [],
        [("BLPOP", "a", "0.2"), ("BLMOVE", "a", "b", "LEFT", "LEFT", "0.2")],
        [("RPUSH", "b", "x"), ("SET", "a", "x")],
    ),
}


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenarios_match_redis(
    pika: PikaServer, real_redis: RedisServer, name: str, resp: int
) -> None:
    setup, waiters, actions = SCENARIOS[name]
    assert_same_scenario(
        pika.port,
        real_redis.port,
        setup,
        waiters,
        actions,
        resp=resp,
        state_keys=[b"a", b"b", b"c"],
    )


def test_blocked_clients_counted(r: redis.Redis) -> None:
    side = Side("main", _port(r))
    assert blocked_clients(side) == 0
    t, _ = _blocked(r, "BLPOP", "k", 5)
    assert blocked_clients(side) == 1
    r.rpush("k", "v")
    _join(t)
    assert blocked_clients(side) == 0
    side.close()


def test_pipelined_push_then_pop_serves_the_waiter_first(r: redis.Redis, rr: redis.Redis) -> None:
    outcomes = []
    for c in (r, rr):
        t, out = _blocked(c, "BLPOP", "k", 2)
        s = socket.create_connection(("127.0.0.1", _port(c)))
        s.sendall(b"RPUSH k x\r\nLPOP k\r\n")
        s.settimeout(5)
        data = b""
        while data.count(b"\r\n") < 2:
            data += s.recv(4096)
        s.close()
        _join(t)
        outcomes.append((data, out))
    assert outcomes[0] == outcomes[1]
