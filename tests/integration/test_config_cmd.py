"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP through redis-py: replies and error texts
compared with a real redis-server, settings applied live, REWRITE round trip."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from tests.support.servers import PikaServer

# Settings both servers have, with the same defaults (rr runs with save "" / appendonly no).
SHARED = [
    "maxclients",
    "timeout",
    "hz",
    "databases",
    "proto-max-bulk-len",
    "client-query-buffer-limit",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "maxmemory",
    "maxmemory-policy",
    "lazyfree-lazy-user-flush",
    "notify-keyspace-events",
    "appendonly",
    "tcp-keepalive",
    "latency-monitor-threshold",
]


def both(r: redis.Redis, rr: redis.Redis, *args: object) -> object:
    def run(c: redis.Redis) -> object:
        try:
            return c.execute_command(*args)
        except redis.ResponseError as e:
            return ("error", str(e))

    a, b = run(r), run(rr)
    assert a == b, (args, a, b)
    return a


def test_config_get_matches_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for name in SHARED:
        both(r, rr, "CONFIG", "GET", name)
    both(r, rr, "CONFIG", "GET", "maxclients", "timeout", "hz")
    both(r, rr, "CONFIG", "GET", "maxclients", "maxclients", "MAXCLIENTS")
    both(r, rr, "CONFIG", "GET", "no-such-setting")
    # slowlog-* also matches Pika's slowlog-write-errorlog, which Redis doesn't have
    both(r, rr, "CONFIG", "GET", "slowlog-[lm]*")
    assert r.config_get("slowlog-*")["slowlog-write-errorlog"] == "no"
    both(r, rr, "CONFIG", "GET", "lazyfree-lazy-user-flus?")
    both(r, rr, "CONFIG", "GET")


def test_config_get_glob_and_multi(r: redis.Redis) -> None:
    everything = r.config_get("*")
    assert {"maxclients", "port", "requirepass", "dir"} <= set(everything)
    assert r.config_get("port")["port"] == str(r.connection_pool.connection_kwargs["port"])
    got = r.execute_command("CONFIG", "GET", "hz", "max*")
    assert set(got) >= {b"hz", b"maxclients", b"maxmemory", b"maxmemory-policy"}


def test_config_set_errors_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    both(r, rr, "CONFIG", "SET", "no-such", "1")
    both(r, rr, "CONFIG", "SET", "maxclients", "abc")
    both(r, rr, "CONFIG", "SET", "maxclients", "0")
    both(r, rr, "CONFIG", "SET", "hz", "10", "hz", "11")
    both(r, rr, "CONFIG", "SET", "databases", "4")
    both(r, rr, "CONFIG", "SET", "maxmemory-policy", "sometimes")
    both(r, rr, "CONFIG", "SET", "maxclients")
    both(r, rr, "CONFIG", "SET", "maxclients", "10", "hz")
    both(r, rr, "CONFIG", "SET")


def test_config_set_all_or_nothing(r: redis.Redis, rr: redis.Redis) -> None:
    both(r, rr, "CONFIG", "SET", "hz", "20", "maxclients", "abc")
    both(r, rr, "CONFIG", "GET", "hz")
    try:
        both(r, rr, "CONFIG", "SET", "hz", "20", "timeout", "300")
        both(r, rr, "CONFIG", "GET", "hz", "timeout")
        both(r, rr, "CONFIG", "SET", "HZ", "1000")  # clamped on use, kept as given
        both(r, rr, "CONFIG", "GET", "hz")
    finally:
        for c in (r, rr):
            c.config_set("hz", 10)
            c.config_set("timeout", 0)


def test_maxclients_applies_to_new_connections(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    assert c.config_set("maxclients", 2)
    second = srv.client()
    assert second.ping()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        assert s.recv(1000) == b"-ERR max number of clients reached\r\n"
    second.close()
    c.config_set("maxclients", 10000)


def test_requirepass_applies_to_new_connections(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    c.ping()
    assert c.config_set("requirepass", "s3cret")
    assert c.ping()  # already authenticated
    fresh = srv.client()
    with pytest.raises(redis.AuthenticationError):
        fresh.ping()
    good = srv.client(password="s3cret")
    assert good.ping()
    assert good.config_set("requirepass", "")
    assert srv.client().ping()


def test_proto_max_bulk_len_applies_to_open_connections(
    make_server: Callable[..., PikaServer],
) -> None:
    srv = make_server()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        assert s.recv(100) == b"+PONG\r\n"
        c = srv.client()
        assert c.config_set("proto-max-bulk-len", 1024 * 1024)
        s.sendall(b"*2\r\n$4\r\nECHO\r\n$2000000\r\n")
        out = b""
        while chunk := s.recv(1000):
            out += chunk
        assert out == b"-ERR Protocol error: invalid bulk length\r\n"
    c.config_set("proto-max-bulk-len", 512 * 1024 * 1024)


def test_active_expire_setting(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    assert c.config_set("active-expire", "no")
    c.set("k", 1, px=50)
    time.sleep(0.5)
    assert c.dbsize() == 1  # expired but not collected
    assert c.config_set("active-expire", "yes")
    deadline = time.monotonic() + 5
    while c.dbsize() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.dbsize() == 0


def test_resetstat(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("a", 1)
        c.get("a")
        with pytest.raises(redis.ResponseError):
            c.execute_command("NOSUCHCOMMAND")
        with pytest.raises(redis.ResponseError):
            c.execute_command("INCR", "a", "b")
        assert c.config_resetstat()
    for c in (r, rr):
        # INFO is counted after it runs: the first one sees only CONFIG RESETSTAT
        assert set(c.info("commandstats")) == {"cmdstat_config|resetstat"}
        assert c.info("errorstats") == {}
        stats = c.info("stats")
        assert stats["total_error_replies"] == 0
        assert stats["unexpected_error_replies"] == 0
        assert stats["rejected_connections"] == 0
        assert stats["keyspace_hits"] == stats["keyspace_misses"] == 0
        assert stats["total_commands_processed"] == 3
    both(r, rr, "CONFIG", "RESETSTAT", "x")


def test_rewrite_without_file(r: redis.Redis, rr: redis.Redis) -> None:
    both(r, rr, "CONFIG", "REWRITE")
    both(r, rr, "CONFIG", "REWRITE", "x")


def test_rewrite_round_trip(make_server: Callable[..., PikaServer], tmp_path: Path) -> None:
    conf = tmp_path / "pika.yaml"
    conf.write_text("# my settings\nserver:\n  # kept\n  timeout: 0\n")
    srv = make_server("--config", str(conf))
    c = srv.client()
    assert c.config_set("timeout", 77)
    assert c.execute_command("CONFIG", "SET", "maxclients", "123", "slowlog-max-len", "9")
    assert c.config_rewrite()
    text = conf.read_text()
    assert "# my settings" in text and "# kept" in text
    srv.restart()
    c = srv.client()
    got = c.config_get("*")
    assert (got["timeout"], got["maxclients"], got["slowlog-max-len"]) == ("77", "123", "9")


def test_help_matches_redis(r: redis.Redis, rr: redis.Redis) -> None:
    assert both(r, rr, "CONFIG", "HELP")
    both(r, rr, "CONFIG", "HELP", "x")
    both(r, rr, "CONFIG")
    both(r, rr, "CONFIG", "NOSUCH")
