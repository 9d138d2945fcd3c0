"""Server commands through redis-py: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, LASTSAVE,
SHUTDOWN. Replies and errors are compared with a real redis-server (`rr`) where they must
be identical."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
import redis
from tests.support.servers import PikaServer


def both(r: redis.Redis, rr: redis.Redis, *args: object) -> object:
    """Run a command on pikadb and on redis-server; replies (or errors) must agree."""

    def run(c: redis.Redis) -> object:
        try:
            return c.execute_command(*args)
        except redis.ResponseError as e:
            return ("error", str(e))

    a, b = run(r), run(rr)
    assert a == b, (args, a, b)
    return a


def repl_offset(c: redis.Redis) -> int:
    return int(c.info("replication")["master_repl_offset"])


# --- DBSIZE ------------------------------------------------------------------------------
def test_dbsize_counts_exactly(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.mset({f"k{i}": i for i in range(50)})
        c.set("e", 1, ex=100)
        c.delete("k0", "k1", "nope")
        c.set("k2", "overwritten")
    assert both(r, rr, "DBSIZE") == 49
    both(r, rr, "DBSIZE", "extra")
    r.select(3)
    assert r.dbsize() == 0


def test_dbsize_excludes_nothing_hidden_after_expiry(r: redis.Redis) -> None:
    r.set("gone", 1, px=30)
    r.set("stay", 1)
    time.sleep(0.3)
    assert r.get("gone") is None  # lazily deleted on access
    assert r.dbsize() == 1


# --- FLUSHDB / FLUSHALL --------------------------------------------------------------------
@pytest.mark.parametrize("args", [(), ("ASYNC",), ("sync",)])
def test_flushdb_only_the_selected_db(r: redis.Redis, args: tuple[str, ...]) -> None:
    r.mset({"a": 1, "b": 2})
    r.set("t", 1, ex=100)
    r.execute_command("SELECT", 1)
    r.set("other", 1)
    r.execute_command("SELECT", 0)
    assert r.execute_command("FLUSHDB", *args)
    assert r.dbsize() == 0
    assert r.get("a") is None
    assert r.info("keyspace").get("db0") is None
    r.execute_command("SELECT", 1)
    assert r.get("other") == b"1"
    assert r.dbsize() == 1


def test_flush_syntax_errors(r: redis.Redis, rr: redis.Redis) -> None:
    for cmd in ("FLUSHDB", "FLUSHALL"):
        both(r, rr, cmd, "foo")
        both(r, rr, cmd, "ASYNC", "SYNC")
        both(r, rr, cmd, "sync", "x")


def test_flushall_all_dbs_in_one_commit(r: redis.Redis) -> None:
    for db in (0, 1, 5, 15):
        r.execute_command("SELECT", db)
        r.mset({"x": 1, "y": 2})
        r.set("z", 3, ex=1000)
    r.execute_command("SELECT", 0)
    before = repl_offset(r)
    assert r.execute_command("FLUSHALL", "ASYNC")
    assert repl_offset(r) == before + 1  # one binlog record for the whole flush
    for db in (0, 1, 5, 15):
        r.execute_command("SELECT", db)
        assert r.dbsize() == 0
        assert r.keys("*") == []
    assert r.info("keyspace") == {}
    r.execute_command("SELECT", 0)
    before = repl_offset(r)
    r.flushdb()
    assert repl_offset(r) == before + 1


def test_flushall_survives_restart(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    c.mset({"a": 1, "b": 2})
    c.execute_command("SELECT", 2)
    c.set("c", 3)
    c.flushall()
    c.set("after", 1)
    srv.restart()
    c = srv.client()
    assert c.dbsize() == 0
    c.execute_command("SELECT", 2)
    assert c.keys("*") == [b"after"]
    assert c.dbsize() == 1


# --- SWAPDB ---------------------------------------------------------------------------------
def test_swapdb_errors(r: redis.Redis, rr: redis.Redis) -> None:
    for args in [
        ("a", 1),
        (0, "b"),
        (0, 99),
        (16, 0),
        (0, -1),
        (99999999999, 1),
        (0, 99999999999),
        ("+1", 0),
        ("01", 0),
        (" 1", 0),
        ("1.0", 0),
    ]:
        both(r, rr, "SWAPDB", *args)
    both(r, rr, "SWAPDB", 0)
    both(r, rr, "SWAPDB", 0, 1, 2)


def test_swapdb_swaps_data_and_counters(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.mset({"a": 1, "b": 2})
        c.set("t", 1, ex=100)
        c.execute_command("SELECT", 1)
        c.set("one", 1)
        c.execute_command("SELECT", 0)
    assert both(r, rr, "SWAPDB", 0, 1)
    assert both(r, rr, "DBSIZE") == 1
    assert both(r, rr, "GET", "one") == b"1"
    assert r.info("keyspace") == rr.info("keyspace")
    assert both(r, rr, "SWAPDB", 1, 1)
    assert both(r, rr, "SWAPDB", 1, 0)
    assert both(r, rr, "DBSIZE") == 3
    assert r.info("keyspace") == rr.info("keyspace")


def test_swapdb_other_clients_see_the_swap(r: redis.Redis, pika: PikaServer) -> None:
    other = pika.client()
    other.execute_command("SELECT", 4)
    r.set("in0", 1)
    r.swapdb(0, 4)
    assert other.get("in0") == b"1"
    assert r.get("in0") is None
    r.swapdb(0, 4)
    other.close()


def test_swapdb_survives_restart(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    c.set("zero", 0)
    c.execute_command("SELECT", 7)
    c.set("seven", 7)
    c.set("x", 1, ex=1000)
    assert c.swapdb(0, 7)
    srv.restart()
    c = srv.client()
    assert c.get("seven") == b"7"
    assert c.get("zero") is None
    assert c.dbsize() == 2
    assert c.info("keyspace")["db0"] == {"keys": 2, "expires": 1, "avg_ttl": 0}
    c.execute_command("SELECT", 7)
    assert c.get("zero") == b"0"
    assert c.dbsize() == 1


# --- TIME / LASTSAVE --------------------------------------------------------------------------
def test_time(r: redis.Redis, rr: redis.Redis) -> None:
    raw = r.execute_command("TIME")
    seconds, micros = r.time()
    assert abs(seconds + micros / 1e6 - time.time()) < 5
    assert 0 <= micros < 1_000_000
    both(r, rr, "TIME", "x")
    assert isinstance(raw, (list, tuple)) and len(raw) == 2


def test_lastsave(r: redis.Redis, rr: redis.Redis) -> None:
    ts = r.lastsave()  # redis-py turns the integer into a datetime
    assert ts.timestamp() <= time.time() + 1
    both(r, rr, "LASTSAVE", "x")


# --- SHUTDOWN ---------------------------------------------------------------------------------
def test_shutdown_errors(r: redis.Redis, rr: redis.Redis) -> None:
    both(r, rr, "SHUTDOWN", "foo")
    both(r, rr, "SHUTDOWN", "NOSAVE", "SAVE")
    both(r, rr, "SHUTDOWN", "ABORT", "NOW")
    both(r, rr, "SHUTDOWN", "ABORT")
    assert r.ping()


def _raw_exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return out
            out += chunk


@pytest.mark.parametrize("args", [b"SHUTDOWN\r\n", b"SHUTDOWN NOSAVE NOW FORCE\r\n"])
def test_shutdown_closes_without_reply(make_server: Callable[..., PikaServer], args: bytes) -> None:
    srv = make_server()
    c = srv.client()
    c.set("kept", 1)
    c.close()
    assert _raw_exchange(srv.port, args) == b""
    assert srv.proc is not None
    assert srv.proc.wait(15) == 0
    srv.stop()
    srv.start()
    assert srv.client().get("kept") == b"1"


def test_shutdown_redis_py(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    c.shutdown(nosave=True)  # redis-py expects the connection to drop
    assert srv.proc is not None
    assert srv.proc.wait(15) == 0
