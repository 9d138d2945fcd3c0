"""SLOWLOG (Redis 7.0 slowlog.c; cases from tests/unit/slowlog.tcl) and LATENCY
(latency.c; latency-monitor.tcl), on a dedicated server since they change its settings.
Entry shapes and error texts are compared with a real redis-server 7.0."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import Err, Side, Verbatim, same
from tests.support.servers import PikaServer, RedisServer


@pytest.fixture(scope="module")
def srv() -> Iterator[PikaServer]:
    s = PikaServer(args=["--set", "enable-debug-command=yes",
                         "--set", "slowlog-log-slower-than=1000000"]).start()  # fmt: skip
    yield s
    s.cleanup()


@pytest.fixture
def c(srv: PikaServer) -> Iterator[redis.Redis]:
    cl = srv.client()
    cl.config_set("slowlog-log-slower-than", 1000000)
    cl.config_set("slowlog-max-len", 128)
    cl.config_set("latency-monitor-threshold", 0)
    cl.slowlog_reset()
    cl.execute_command("LATENCY", "RESET")
    yield cl
    cl.close()


def entries(cl: redis.Redis, *count: int) -> list[list[Any]]:
    return cl.execute_command("SLOWLOG", "GET", *count)  # type: ignore[no-any-return]


def args_of(cl: redis.Redis, i: int = 0) -> list[bytes]:
    return entries(cl, -1)[i][3]  # type: ignore[no-any-return]


# --- SLOWLOG ------------------------------------------------------------------------------------
def test_starts_empty_and_logs_only_slow_commands(srv: PikaServer, c: redis.Redis) -> None:
    assert c.slowlog_len() == 0
    c.config_set("slowlog-log-slower-than", 100000)
    c.ping()
    assert c.slowlog_len() == 0
    c.execute_command("DEBUG", "SLEEP", "0.2")
    assert c.slowlog_len() == 1


def test_max_len_and_get_count(c: redis.Redis) -> None:
    c.config_set("slowlog-log-slower-than", 0)
    c.config_set("slowlog-max-len", 10)
    for _ in range(100):
        c.ping()
    assert c.slowlog_len() == 10
    assert len(entries(c, 5)) == 5
    assert len(entries(c)) == 10  # default 10
    assert len(entries(c, -1)) == 10
    assert entries(c, 0) == []


def test_reset(c: redis.Redis) -> None:
    c.config_set("slowlog-log-slower-than", 0)
    c.ping()
    c.config_set("slowlog-log-slower-than", 100000)
    assert c.slowlog_reset()
    assert c.slowlog_len() == 0


def test_entry_sanity(srv: PikaServer, c: redis.Redis) -> None:
    c.config_set("slowlog-log-slower-than", 100000)
    c.client_setname("foobar")
    c.execute_command("DEBUG", "SLEEP", "0.2")
    first_id = entries(c)[0][0]
    c.execute_command("DEBUG", "SLEEP", "0.2")
    e = entries(c)[0]
    assert len(e) == 6
    assert e[0] == first_id + 1  # ids keep counting
    assert abs(e[1] - time.time()) < 5
    assert e[2] > 100000
    assert e[3] == [b"DEBUG", b"SLEEP", b"0.2"]
    assert e[4].startswith(b"127.0.0.1:")
    assert e[5] == b"foobar"


def test_sensitive_arguments_are_redacted(srv: PikaServer, c: redis.Redis) -> None:
    s = Side("s", srv.port)
    s.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    s.call("SLOWLOG", "RESET")
    s.call("AUTH", "not-real")
    s.call("CONFIG", "SET", "requirepass", "")
    s.call("HELLO", "2", "SETNAME", "x")
    s.call("HELLO", "2", "AUTH", "u", "p")
    s.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    assert [e[3] for e in s.call("SLOWLOG", "GET", "-1")] == [
        [b"HELLO", b"2", b"AUTH", b"(redacted)", b"(redacted)"],
        [b"HELLO", b"2", b"SETNAME", b"x"],
        [b"CONFIG", b"SET", b"requirepass", b"(redacted)"],
        [b"AUTH", b"(redacted)"],
        [b"SLOWLOG", b"RESET"],
    ]
    s.close()


def test_rejected_commands_are_not_logged(c: redis.Redis) -> None:
    c.config_set("slowlog-log-slower-than", 0)
    c.slowlog_reset()
    for bad in (("NOSUCH",), ("GET",), ("CONFIG", "NOSUCH")):
        with pytest.raises(redis.ResponseError):
            c.execute_command(*bad)
    c.config_set("slowlog-log-slower-than", 10000)
    assert [e[3][0] for e in entries(c, -1)] == [b"SLOWLOG"]


def test_too_many_arguments_are_trimmed(c: redis.Redis) -> None:
    c.config_set("slowlog-log-slower-than", 0)
    c.slowlog_reset()
    c.sadd("set", *range(3, 34))
    assert args_of(c) == [
        b"SADD",
        b"set",
        *[str(i).encode() for i in range(3, 32)],
        b"... (2 more arguments)",
    ]


def test_too_long_arguments_are_trimmed(c: redis.Redis) -> None:
    c.config_set("slowlog-log-slower-than", 0)
    c.slowlog_reset()
    c.sadd("set", "foo", "A" * 129)
    assert args_of(c)[1:] == [b"set", b"foo", b"A" * 128 + b"... (1 more bytes)"]


def test_exec_is_not_logged_its_commands_are(c: redis.Redis) -> None:
    c.config_set("slowlog-log-slower-than", 100000)
    p = c.pipeline(transaction=True)
    p.execute_command("DEBUG", "SLEEP", "0.2")
    p.execute()
    assert c.slowlog_len() == 1
    assert args_of(c) == [b"DEBUG", b"SLEEP", b"0.2"]


def test_blocked_command_is_logged_when_unblocked(srv: PikaServer, c: redis.Redis) -> None:
    c.config_set("slowlog-log-slower-than", 0)
    c.delete("l")
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(srv.client().blpop(["l"], 0)), daemon=True)
    t.start()
    deadline = time.monotonic() + 5
    while c.info("clients")["blocked_clients"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    p = c.pipeline(transaction=True)
    p.lpush("l", "foo")
    p.execute_command("SLOWLOG", "RESET")
    p.execute()
    t.join(5)
    assert out == [(b"l", b"foo")]
    assert [b"blpop", b"l", b"0"] in [[a.lower() for a in e[3]] for e in entries(c, -1)]


def test_older_entries_are_dropped(c: redis.Redis) -> None:
    c.client_setname("lastentry_client")
    c.config_set("slowlog-max-len", 1)
    c.config_set("slowlog-log-slower-than", 100000)
    c.execute_command("DEBUG", "SLEEP", "0.2")
    assert len(entries(c)) == 1
    assert entries(c)[0][5] == b"lastentry_client"


def test_can_be_disabled(c: redis.Redis) -> None:
    c.config_set("slowlog-max-len", 1)
    c.config_set("slowlog-log-slower-than", 1)
    c.slowlog_reset()
    c.execute_command("DEBUG", "SLEEP", "0.2")
    assert c.slowlog_len() == 1
    c.config_set("slowlog-log-slower-than", -1)
    c.slowlog_reset()
    c.execute_command("DEBUG", "SLEEP", "0.2")
    assert c.slowlog_len() == 0


@pytest.mark.parametrize("resp", [2, 3])
def test_replies_and_errors_like_redis(srv: PikaServer, real_redis: RedisServer, resp: int) -> None:
    sides = [Side("p", srv.port, resp), Side("r", real_redis.port, resp)]
    got = []
    for s in sides:
        s.call("CONFIG", "SET", "slowlog-max-len", "128")
        s.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        s.call("SLOWLOG", "RESET")
        s.call("SET", "k", "v")
        s.call("CONFIG", "SET", "slowlog-log-slower-than", "1000000")
        entry = s.call("SLOWLOG", "GET", "1")
        shape = [[type(x).__name__ for x in e] for e in entry]
        got.append(
            [
                shape,
                [e[3] for e in s.call("SLOWLOG", "GET", "-1")],
                s.call("SLOWLOG", "LEN"),
                s.call("SLOWLOG", "GET", "0"),
                s.call("SLOWLOG", "GET", "-2"),
                s.call("SLOWLOG", "GET", "x"),
                s.call("SLOWLOG", "GET", "1", "2"),
                s.call("SLOWLOG", "HELP"),
                s.call("SLOWLOG"),
                s.call("SLOWLOG", "FOO"),
                s.call("SLOWLOG", "LEN", "x"),
            ]
        )
        s.close()
    assert same(got[0], got[1]), got
    assert got[0][5] == Err("ERR count should be greater than or equal to -1")


# --- LATENCY -------------------------------------------------------------------------------------
def test_latency_disabled_by_default(c: redis.Redis) -> None:
    c.execute_command("DEBUG", "SLEEP", "0.05")
    assert c.execute_command("LATENCY", "LATEST") == []
    assert c.execute_command("LATENCY", "HISTORY", "command") == []
    assert c.execute_command("LATENCY", "DOCTOR").startswith(b"I'm sorry, Dave, I can't do that.")


def test_latency_events(c: redis.Redis) -> None:
    c.config_set("latency-monitor-threshold", 10)
    c.execute_command("DEBUG", "SLEEP", "0.02")
    time.sleep(1.1)  # one sample per second per event
    c.execute_command("DEBUG", "SLEEP", "0.05")
    latest = c.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    name, when, last, worst = latest[0]
    assert name == b"command" and abs(when - time.time()) < 5 and 50 <= last <= worst
    hist = c.execute_command("LATENCY", "HISTORY", "command")
    assert len(hist) == 2 and 20 <= hist[0][1] < hist[1][1] and hist[0][0] < hist[1][0]
    doctor = c.execute_command("LATENCY", "DOCTOR")
    assert b"1. command: 2 latency spikes" in doctor and b"Worst all time event" in doctor
    graph = c.execute_command("LATENCY", "GRAPH", "command")
    assert graph.startswith(b"command - high ")
    c.ping()  # fast and under the threshold: no event
    assert c.execute_command("LATENCY", "RESET", "nosuch") == 0
    assert c.execute_command("LATENCY", "RESET", "command", "command") == 1
    assert c.execute_command("LATENCY", "LATEST") == []
    with pytest.raises(redis.ResponseError, match="No samples available for event 'command'"):
        c.execute_command("LATENCY", "GRAPH", "command")
    c.config_set("latency-monitor-threshold", 0)
    assert c.execute_command("LATENCY", "DOCTOR").startswith(b"I'm sorry, Dave")


def test_latency_doctor_like_redis(srv: PikaServer, real_redis: RedisServer) -> None:
    texts = []
    for port in (srv.port, real_redis.port):
        cl = redis.Redis(port=port)
        cl.execute_command("LATENCY", "RESET")
        cl.config_set("latency-monitor-threshold", 5)
        no_spike = cl.execute_command("LATENCY", "DOCTOR")
        cl.config_set("slowlog-log-slower-than", -1)
        cl.execute_command("DEBUG", "SLEEP", "0.02")
        report = cl.execute_command("LATENCY", "DOCTOR")
        # (the numbers vary: keep the words)
        texts.append((no_spike, [ln.split(b" (")[0] for ln in report.split(b"\n")]))
        cl.config_set("slowlog-log-slower-than", 10000)
        cl.config_set("latency-monitor-threshold", 0)
        cl.execute_command("LATENCY", "RESET")
        cl.close()
    assert texts[0] == texts[1]


@pytest.mark.parametrize("resp", [2, 3])
def test_latency_replies_like_redis(srv: PikaServer, real_redis: RedisServer, resp: int) -> None:
    got = []
    for port in (srv.port, real_redis.port):
        s = Side("s", port, resp)
        s.call("LATENCY", "RESET")
        got.append(
            [
                s.call("LATENCY", "LATEST"),
                s.call("LATENCY", "HISTORY", "command"),
                s.call("LATENCY", "RESET"),
                s.call("LATENCY", "GRAPH", "command"),
                s.call("LATENCY", "HELP"),
                s.call("LATENCY", "FOO"),
                s.call("LATENCY"),
                s.call("LATENCY", "LATEST", "x"),
                s.call("LATENCY", "HISTORY"),
                type(s.call("LATENCY", "DOCTOR")).__name__,
            ]
        )
        s.close()
    assert same(got[0], got[1]), got
    if resp == 3:
        assert got[0][-1] == Verbatim.__name__
