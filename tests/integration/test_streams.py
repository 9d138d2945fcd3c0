"""Streams on a real pikadb server: XADD (ids, options, errors), XRANGE/XREVRANGE, XLEN,
XDEL, XTRIM, XSETID, XREAD (with BLOCK from a second client), XINFO STREAM; the keyspace
around streams (TYPE, SCAN TYPE, DEL, EXPIRE, RENAME, COPY, OBJECT ENCODING, DEBUG DIGEST,
DUMP/RESTORE with Redis 7.0), command metadata, and a stream that survives a restart.
Scenarios marked ``pair`` run on pikadb and on redis-server 7.0 and must reply the same."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import NULL, NULL_ARRAY, Pair, Side, same
from tests.support.servers import PikaServer


def _port(r: redis.Redis) -> int:
    return int(r.connection_pool.connection_kwargs["port"])


@pytest.fixture
def pair(r: redis.Redis, rr: redis.Redis) -> Iterator[Pair]:
    with Pair.from_clients(r, rr) as p:
        yield p


def blocked(r: redis.Redis, *args: Any, resp: int = 2) -> tuple[threading.Thread, list[Any]]:
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


def join(*threads: threading.Thread) -> None:
    for t in threads:
        t.join(5)
        assert not t.is_alive()


# --- XADD ------------------------------------------------------------------------------------------
def test_xadd_auto_ids_increase(r: redis.Redis) -> None:
    ids = [r.xadd("s", {"n": i}) for i in range(50)]
    parsed = [tuple(int(x) for x in i.split(b"-")) for i in ids]
    assert parsed == sorted(parsed) and len(set(parsed)) == 50
    now = int(time.time() * 1000)
    assert abs(parsed[-1][0] - now) < 5000
    assert r.xlen("s") == 50
    r.xadd("f", {"a": 1}, id=b"%d-5" % (now + 10**9))  # a future id: "*" continues from it
    nxt = r.xadd("f", {"a": 2})
    assert nxt == b"%d-6" % (now + 10**9)


def test_xadd_partial_and_explicit_ids(pair: Pair) -> None:
    for args in [
        ("XADD", "s", "5-*", "a", "1"),
        ("XADD", "s", "5-*", "a", "2"),
        ("XADD", "s", "5", "a", "3"),
        ("XADD", "s", "6", "a", "3"),
        ("XADD", "s", "6-0", "a", "3"),
        ("XADD", "s", "0-0", "a", "3"),
        ("XADD", "s", "7-18446744073709551615", "a", "3"),
        ("XADD", "s", "7-*", "a", "3"),
        ("XADD", "s", "18446744073709551615-18446744073709551615", "a", "1"),
        ("XADD", "s", "*", "a", "1"),
        ("XADD", "s", "18446744073709551615-*", "a", "1"),
        ("XADD", "t", "0-*", "a", "1"),
        ("XADD", "t", "NOMKSTREAM", "1-1", "a", "1"),
        ("XADD", "u", "NOMKSTREAM", "1-1", "a", "1"),
        ("EXISTS", "u"),
        ("XADD", "t", "MAXLEN", "~", "1", "MINID", "1", "9-9", "a", "1"),
        ("XADD", "t", "MAXLEN", "1", "LIMIT", "5", "9-9", "a", "1"),
        ("XADD", "t", "LIMIT", "5", "9-9", "a", "1"),
        ("XADD", "t", "MAXLEN", "-1", "9-9", "a", "1"),
        ("XADD", "t", "9-9", "a"),
        ("XADD", "t", "9-9", "a", "1", "b", "2", "a", "3"),
        ("XRANGE", "t", "-", "+"),
        ("XADD", "t", "9-9", "a", "1"),
        ("XADD", "t", "1-2-3", "a", "1"),
        ("XADD", "t", " 10-0", "a", "1"),
        ("XADD", "t", "011-0", "a", "1"),
        ("XRANGE", "t", "-", "+"),
    ]:
        pair.run(*args)
    pair.check_state()
    pair.assert_clean()


def test_xadd_trimming(pair: Pair) -> None:
    for n in range(1, 350):
        pair.run("XADD", "s", f"{n}-0", "field", "v" * (n % 11))
    for args in [
        ("XADD", "s", "MAXLEN", "~", "200", "400-0", "a", "1"),
        ("XLEN", "s"),
        ("XADD", "s", "MAXLEN", "=", "120", "401-0", "a", "1"),
        ("XLEN", "s"),
        ("XADD", "s", "MINID", "~", "300", "402-0", "a", "1"),
        ("XADD", "s", "MINID", "300", "403-0", "a", "1"),
        ("XRANGE", "s", "-", "+", "COUNT", "2"),
        ("XADD", "s", "MAXLEN", "~", "0", "LIMIT", "10", "404-0", "a", "1"),
        ("XADD", "s", "MAXLEN", "~", "0", "LIMIT", "1000", "405-0", "a", "1"),
        ("XINFO", "STREAM", "s"),
        ("XADD", "s", "MAXLEN", "0", "406-0", "a", "1"),
        ("XINFO", "STREAM", "s"),
    ]:
        pair.run(*args)
    pair.check_state()
    pair.assert_clean()


# --- ranges, XDEL, XTRIM, XSETID -------------------------------------------------------------------
def test_ranges_and_counts(pair: Pair) -> None:
    for i in ("1-1", "1-2", "2-0", "3-5", "18446744073709551615-0"):
        pair.run("XADD", "s", i, "f", i)
    for args in [
        ("XRANGE", "s", "-", "+"),
        ("XRANGE", "s", "(1-1", "+"),
        ("XRANGE", "s", "1", "1"),
        ("XRANGE", "s", "(1", "(3"),
        ("XRANGE", "s", "2", "1"),
        ("XREVRANGE", "s", "+", "-", "COUNT", "2"),
        ("XREVRANGE", "s", "(3-5", "(1-1"),
        ("XRANGE", "s", "-", "+", "COUNT", "0"),
        ("XRANGE", "s", "-", "+", "COUNT", "-3"),
        ("XRANGE", "s", "-", "+", "count", "1", "COUNT", "3"),
        ("XRANGE", "s", "-", "+", "COUNT"),
        ("XRANGE", "s", "(-", "+"),
        ("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"),
        ("XRANGE", "s", "-", "(0-0"),
        ("XRANGE", "nokey", "-", "+", "COUNT", "0"),
        ("XREVRANGE", "nokey", "+", "-"),
        ("XLEN", "s"),
        ("XLEN", "nokey"),
    ]:
        pair.run(*args)
    pair.assert_clean()


def test_xdel_xtrim_xsetid(pair: Pair) -> None:
    for n in range(1, 8):
        pair.run("XADD", "s", f"{n}-1", "f", str(n))
    for args in [
        ("XDEL", "s", "1-1", "1-1", "9-9"),
        ("XDEL", "s", "2-1", "bad"),
        ("XDEL", "nokey", "bad"),
        ("XINFO", "STREAM", "s"),
        ("XTRIM", "s", "MAXLEN", "4"),
        ("XTRIM", "s", "MINID", "(5"),
        ("XTRIM", "s", "MINID", "5-1"),
        ("XTRIM", "s"),
        ("XTRIM", "s", "MAXLEN", "1", "LIMIT", "2"),
        ("XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "2"),
        ("XTRIM", "nokey", "MAXLEN", "0"),
        ("XINFO", "STREAM", "s"),
        ("XSETID", "s", "1-1"),
        ("XSETID", "s", "7-1"),
        ("XSETID", "s", "100-0", "ENTRIESADDED", "2"),
        ("XSETID", "s", "100-0", "ENTRIESADDED", "50", "MAXDELETEDID", "99-0"),
        ("XSETID", "s", "100-0", "MAXDELETEDID", "101-0"),
        ("XSETID", "s", "99-0"),
        ("XSETID", "s", "-"),
        ("XSETID", "nokey", "1-1"),
        ("XINFO", "STREAM", "s"),
        ("XADD", "s", "100-0", "f", "v"),
        ("XADD", "s", "100-*", "f", "v"),
        ("XDEL", "s", "5-1", "6-1", "7-1", "100-1"),
        ("XINFO", "STREAM", "s", "FULL"),
    ]:
        pair.run(*args)
    pair.check_state()
    pair.assert_clean()


# --- XREAD -------------------------------------------------------------------------------------------
def test_xread_sync(pair: Pair) -> None:
    pair.run("XADD", "a", "1-1", "f", "1")
    pair.run("XADD", "a", "2-1", "f", "2")
    pair.run("XADD", "b", "5-1", "g", "1")
    pair.run("SET", "str", "x")
    for args in [
        ("XREAD", "STREAMS", "a", "b", "0", "0"),
        ("XREAD", "COUNT", "1", "STREAMS", "a", "b", "1-1", "0"),
        ("XREAD", "STREAMS", "a", "b", "$", "$"),
        ("XREAD", "STREAMS", "nokey", "a", "0", "(1"),
        ("XREAD", "STREAMS", "a", "+"),
        ("XREAD", "STREAMS", "a", ">"),
        ("XREAD", "STREAMS", "str", "0"),
        ("XREAD", "STREAMS", "a", "b", "0"),
        ("XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"),
        ("XREAD", "NOACK", "STREAMS", "a", "0"),
        ("XREAD", "BLOCK", "-1", "STREAMS", "a", "0"),
        ("XREAD", "BLOCK", "1.5", "STREAMS", "a", "0"),
        ("XREAD", "COUNT", "1"),
        ("XREAD", "BLOCK", "1", "STREAMS", "a", "$"),
    ]:
        pair.run(*args)
    pair.assert_clean()


@pytest.mark.parametrize("resp", [2, 3])
def test_xread_block_wakes_on_xadd(r: redis.Redis, resp: int) -> None:
    r.xadd("s", {"f": "old"}, id="1-1")
    t, out = blocked(r, "XREAD", "BLOCK", 0, "STREAMS", "other", "s", "$", "$", resp=resp)
    r.execute_command("XSETID", "s", "5-0")  # not a signal: the waiter keeps waiting
    r.xadd("s", {"f": "new"}, id="6-1")
    join(t)
    body = [[b"6-1", [b"f", b"new"]]]
    got = out[0]
    if resp == 3:
        assert list(got) == [(b"s", body)]
    else:
        assert got == [[b"s", body]]


def test_xread_block_timeout_and_fifo(r: redis.Redis) -> None:
    start = time.monotonic()
    assert Side("x", _port(r)).call("XREAD", "BLOCK", 50, "STREAMS", "s", "$") is NULL_ARRAY
    assert Side("x", _port(r), 3).call("XREAD", "BLOCK", 50, "STREAMS", "s", "$") is NULL
    assert time.monotonic() - start >= 0.09
    t1, o1 = blocked(r, "XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    t2, o2 = blocked(r, "XREAD", "COUNT", 1, "BLOCK", 0, "STREAMS", "s", "0")
    pipe = r.pipeline(transaction=False)
    pipe.xadd("s", {"a": 1}, id="1-1")
    pipe.xadd("s", {"a": 2}, id="2-1")
    pipe.execute()
    join(t1, t2)
    assert o2 == [[[b"s", [[b"1-1", [b"a", b"1"]]]]]]
    assert o1[0][0][0] == b"s" and o1[0][0][1][0] == [b"1-1", [b"a", b"1"]]


def test_xread_block_survives_type_change_and_deletion(r: redis.Redis) -> None:
    t, out = blocked(r, "XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    r.xadd("other", {"a": 1})
    r.set("s", "not a stream")  # XREAD keeps waiting on a key of another type
    r.delete("s")  # and on a deleted key
    time.sleep(0.05)
    assert t.is_alive()
    r.xadd("s", {"a": 2}, id="3-3")
    join(t)
    assert out == [[[b"s", [[b"3-3", [b"a", b"2"]]]]]]


# --- the keyspace around streams -----------------------------------------------------------------
def test_keyspace_commands_on_streams(pair: Pair) -> None:
    for n in range(1, 150):
        pair.run("XADD", "s", f"{n}-0", "f", str(n))
    pair.run("XGROUP", "CREATE", "s", "g", "0")
    pair.run("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">")
    for args in [
        ("TYPE", "s"),
        ("OBJECT", "ENCODING", "s"),
        ("SCAN*", "TYPE", "stream"),
        ("COPY", "s", "c1"),
        ("XINFO", "GROUPS", "c1"),
        ("XPENDING", "c1", "g"),
        ("RENAME", "c1", "c2"),
        ("XRANGE", "c2", "-", "+", "COUNT", "2"),
        ("XINFO", "STREAM", "c2"),
        ("EXPIRE", "c2", "100"),
        ("TTL", "c2"),
        ("XADD", "c2", "500-0", "f", "v"),
        ("TTL", "c2"),
        ("DEBUG", "DIGEST-VALUE", "s", "c2"),
        ("DEL", "s"),
        ("EXISTS", "s", "c2"),
        ("XLEN", "s"),
        ("SET", "c2", "str"),
        ("XLEN", "c2"),
        ("XADD", "c2", "1-1", "f", "v"),
    ]:
        pair.run(*args)
    pair.check_state()
    pair.assert_clean()


def test_dump_restore_both_ways(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        for n in range(1, 260):
            c.xadd("s", {"f": "v" * (n % 50), "n": n}, id=f"{n}-{n % 3}")
        c.xdel("s", "5-2", "200-2")
        c.xgroup_create("s", "g", "0")
        c.xgroup_create("s", "h", "$")
        c.xreadgroup("g", "alice", {"s": ">"}, count=10)
        c.xreadgroup("g", "bob", {"s": ">"}, count=5)
        c.xgroup_createconsumer("s", "h", "carol")
        c.execute_command("XSETID", "s", "999-0", "ENTRIESADDED", 400, "MAXDELETEDID", "300-0")
    r.restore("theirs", 0, rr.dump("s"))
    rr.restore("ours", 0, r.dump("s"))
    for a, b in ((r, "theirs"), (rr, "ours")):
        assert a.xrange(b) == rr.xrange("s")
        full_a = a.xinfo_stream(b, full=True)
        full_b = rr.xinfo_stream("s", full=True)
        for k in ("length", "last-generated-id", "max-deleted-entry-id", "entries-added",
                  "recorded-first-entry-id"):  # fmt: skip
            assert full_a[k] == full_b[k], k
        ga = [(g["name"], g["last-delivered-id"], g["entries-read"], g["pel-count"])
              for g in full_a["groups"]]  # fmt: skip
        gb = [(g["name"], g["last-delivered-id"], g["entries-read"], g["pel-count"])
              for g in full_b["groups"]]  # fmt: skip
        assert ga == gb
    assert (
        rr.execute_command("DEBUG", "DIGEST-VALUE", "s", "ours")
        == [rr.execute_command("DEBUG", "DIGEST-VALUE", "s")[0]] * 2
    )
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "theirs") == rr.execute_command(
        "DEBUG", "DIGEST-VALUE", "s"
    )
    with pytest.raises(redis.ResponseError, match="BUSYKEY"):
        r.restore("theirs", 0, rr.dump("s"))


def test_command_metadata_matches_redis(pair: Pair) -> None:
    names = [
        "xadd", "xrange", "xrevrange", "xlen", "xdel", "xtrim", "xread", "xsetid", "xinfo",
        "xgroup", "xreadgroup", "xack", "xpending", "xclaim", "xautoclaim",
    ]  # fmt: skip
    for name in names:
        a, b = pair.both("COMMAND", "INFO", name)
        a, b = a[0], b[0]
        assert a[:6] == b[:6], name
        assert sorted(a[6]) == sorted(b[6]), name
        assert a[7:9] == b[7:9], name
        subs = lambda e: sorted(e[9], key=lambda s: s[0]) if len(e) > 9 else []  # noqa: E731
        assert same(subs(a), subs(b)), name
    for args in [
        ("XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "a", "b", "0", "0"),
        ("XREADGROUP", "GROUP", "streams", "c", "STREAMS", "k", ">"),
        ("XADD", "s", "*", "f", "v"),
        ("XINFO", "STREAM", "s"),
        ("XGROUP", "CREATE", "s", "g", "$"),
    ]:
        pair.run("COMMAND", "GETKEYS", *args)
    pair.run("XINFO", "HELP")
    pair.run("XGROUP", "HELP")
    pair.run("XINFO", "NOSUCH", "s")
    pair.assert_clean()


def test_streams_survive_a_restart(make_server: Any) -> None:
    srv: PikaServer = make_server()
    c = srv.client()
    for n in range(1, 300):
        c.xadd("s", {"n": n}, id=f"{n}-1")
    c.xdel("s", "10-1")
    c.xgroup_create("s", "g", "0")
    c.xreadgroup("g", "alice", {"s": ">"}, count=7)
    c.xack("s", "g", "1-1")
    before = (c.xinfo_stream("s"), c.xpending_range("s", "g", "-", "+", 100), c.xinfo_groups("s"))
    srv.restart()
    c = srv.client()
    after = (c.xinfo_stream("s"), c.xpending_range("s", "g", "-", "+", 100), c.xinfo_groups("s"))
    for p in before[1] + after[1]:
        p.pop("time_since_delivered")
    assert before == after
    assert c.xreadgroup("g", "bob", {"s": ">"}, count=1) == [[b"s", [(b"8-1", {b"n": b"8"})]]]
    assert int(c.xadd("s", {"n": 1}).split(b"-")[0]) > 299


def test_keyspace_notifications_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    def events(c: redis.Redis) -> list[tuple[bytes, bytes]]:
        c.config_set("notify-keyspace-events", "KEA")
        ps = c.pubsub()
        ps.psubscribe("__keyevent@0__:*")
        assert ps.get_message(timeout=2) is not None
        for cmd in [
            ("XADD", "s", "1-1", "f", "v"),
            ("XADD", "s", "MAXLEN", "0", "2-1", "f", "v"),
            ("XADD", "s", "3-1", "f", "v"),
            ("XTRIM", "s", "MAXLEN", "0"),
            ("XTRIM", "s", "MAXLEN", "0"),
            ("XADD", "s", "4-1", "f", "v"),
            ("XDEL", "s", "4-1", "4-1"),
            ("XSETID", "s", "9-9"),
            ("XGROUP", "CREATE", "s", "g", "0"),
            ("XGROUP", "CREATE", "t", "g", "0", "MKSTREAM"),
            ("XADD", "s", "10-1", "f", "v"),
            ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", "0"),
            ("XCLAIM", "s", "g", "c3", "0", "10-1"),
            ("XAUTOCLAIM", "s", "g", "c4", "0", "0"),
            ("XGROUP", "CREATECONSUMER", "s", "g", "c5"),
            ("XGROUP", "DELCONSUMER", "s", "g", "c5"),
            ("XGROUP", "SETID", "s", "g", "0"),
            ("XGROUP", "DESTROY", "s", "g"),
            ("XGROUP", "DESTROY", "s", "g"),
        ]:
            c.execute_command(*cmd)
        out = []
        while (m := ps.get_message(timeout=0.3)) is not None:
            out.append((m["channel"], m["data"]))
        ps.close()
        c.config_set("notify-keyspace-events", "")
        return out

    ours = events(r)
    assert ours == events(rr)
    assert (b"__keyevent@0__:xgroup-createconsumer", b"s") in ours
