"""Fast/slow separation: slow read-only commands (slow-cmd-list) run off the event loop on a
read view, so other clients keep being served; replies are the same as inline."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable

import redis
from tests.support.servers import PikaServer

BIG = 10_000  # commands/_offload.py: whole-collection reads of this size are offloaded


def _fill_keys(r: redis.Redis, n: int) -> None:
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set(f"key:{i}", i)
        if i % 5000 == 4999:
            p.execute()
    p.execute()


def test_offloaded_replies_match_inline(make_server: Callable[..., PikaServer]) -> None:
    on = make_server().client()
    off = make_server("--set", "slow-cmd-list=").client()
    for r in (on, off):
        _fill_keys(r, 300)
        r.sadd("bigset", *[f"m{i}" for i in range(BIG + 10)])
        r.hset("bighash", mapping={f"f{i}": i for i in range(BIG + 10)})
        r.rpush("biglist", *range(BIG + 10))
    for cmd in (
        ("KEYS", "key:1*"),
        ("KEYS", "*"),
        ("SMEMBERS", "bigset"),
        ("HGETALL", "bighash"),
        ("HKEYS", "bighash"),
        ("HVALS", "bighash"),
        ("LRANGE", "biglist", "5", "-5"),
    ):
        a, b = on.execute_command(*cmd), off.execute_command(*cmd)
        if cmd[0] in ("KEYS", "SMEMBERS"):
            a, b = sorted(a), sorted(b)
        assert a == b, cmd
    assert on.config_get("slow-cmd-list") == {
        "slow-cmd-list": "keys,smembers,hgetall,hkeys,hvals,lrange,sunion,sinter,sdiff,sintercard,zunion,zinter,zdiff"
    }


def test_pipeline_order_and_own_writes(make_server: Callable[..., PikaServer]) -> None:
    r = make_server().client()
    p = r.pipeline(transaction=False)
    p.set("a", 1)
    p.keys("*")  # offloaded: must see the SET written just before in the same pipeline
    p.set("b", 2)
    p.keys("*")
    p.get("b")
    res = p.execute()
    assert res[0] is True and sorted(res[1]) == [b"a"]
    assert sorted(res[3]) == [b"a", b"b"] and res[4] == b"2"


def test_inside_multi_and_wrong_type_and_expired(make_server: Callable[..., PikaServer]) -> None:
    r = make_server().client()
    r.set("s", "x")
    r.set("gone", 1, px=1)
    time.sleep(0.01)
    assert r.keys("*") == [b"s"]  # expired keys hidden by the read view
    r.rpush("big", *range(BIG))
    r.set("s", "x")
    try:
        r.lrange("s", 0, -1)
        raise AssertionError("WRONGTYPE expected")
    except redis.ResponseError as e:
        assert str(e).startswith("WRONGTYPE")
    assert r.get("s") == b"x"  # connection and data survive


def test_config_set_list(make_server: Callable[..., PikaServer]) -> None:
    r = make_server().client()
    assert r.config_set("slow-cmd-list", "keys") is True
    assert r.config_get("slow-cmd-list") == {"slow-cmd-list": "keys"}
    _fill_keys(r, 10)
    assert len(r.keys("*")) == 10
    assert r.config_set("slow-cmd-list", "") is True
    assert len(r.keys("*")) == 10


def _gets_before_keys_reply(r: redis.Redis, port: int) -> int:
    """Send KEYS * on a raw socket, then GET on another client until the KEYS reply starts
    arriving; return how many GETs completed before it did."""
    slow = socket.create_connection(("127.0.0.1", port))
    try:
        slow.sendall(b"KEYS *\r\n")
        time.sleep(0.05)  # the server has started the KEYS by now
        before = 0
        while not select.select([slow], [], [], 0)[0]:
            assert r.get("key:7") == b"7"
            if select.select([slow], [], [], 0)[0]:
                break
            before += 1
            if before >= 50:
                break
        return before
    finally:
        slow.close()


def test_gets_are_served_while_keys_runs(make_server: Callable[..., PikaServer]) -> None:
    """Behaviour, not timing: while one client's KEYS over many keys runs, another client's
    GETs are answered before the KEYS reply is sent; with the separation off they cannot be
    (the loop is busy with the KEYS, whose reply goes out before any later GET's)."""
    srv = make_server()
    r = srv.client()
    _fill_keys(r, 150_000)
    assert _gets_before_keys_reply(r, srv.port) > 0
    r.config_set("slow-cmd-list", "")
    assert _gets_before_keys_reply(r, srv.port) == 0


def test_multi_key_reads_stay_consistent_under_writes(
    make_server: Callable[..., PikaServer],
) -> None:
    """SUNION of big sets runs on the worker, reading one key after the other; a writer
    moves members between two of them in MULTI blocks. Every reply is the union of ONE state (always
    all members): a move committed between the worker's two reads makes the command run again
    inline instead of answering from two states."""
    srv = make_server()
    r = srv.client()
    n = 40_000
    for lo in range(0, n, 5_000):
        r.sadd("cs-a" if lo < n // 2 else "cs-b", *range(lo, lo + 5_000))
    stop = threading.Event()
    moved = [0]

    def writer() -> None:
        w = srv.client()
        i = 0
        while not stop.is_set():
            batch = [(i + j) % (n // 2) for j in range(200)]
            p = w.pipeline(transaction=True)
            p.srem("cs-a", *batch).sadd("cs-c", *batch)
            p.execute()
            p = w.pipeline(transaction=True)
            p.srem("cs-c", *batch).sadd("cs-a", *batch)
            p.execute()
            i += 200
            moved[0] += 1

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        for _ in range(25):
            assert len(r.sunion("cs-c", "cs-b", "cs-a")) == n
            assert r.sintercard(2, ["cs-a", "cs-c"]) == 0
    finally:
        stop.set()
        t.join(10)
    assert moved[0] > 0
