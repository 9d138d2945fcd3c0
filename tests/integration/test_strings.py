"""The string family through redis-py: every command, option and error, most of them
checked against a real redis-server 7.0 (``rr``) by comparing replies directly."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from pikadb.commands import load_all
from pikadb.commands.table import COMMANDS as TABLE
from pikadb.storage import layout as L
from pikadb.storage.engine import DATA
from pikadb.storage.store import Store

load_all()

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


def call(c: redis.Redis, *args: Any) -> Any:
    """The raw reply (no redis-py post-processing), or ("error", text) for an error reply."""
    conn = c.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    except redis.ResponseError as exc:
        return ("error", str(exc))
    finally:
        c.connection_pool.release(conn)


def same(r: redis.Redis, rr: redis.Redis, script: list[tuple[Any, ...]]) -> None:
    """Run ``script`` on both servers; every reply must be identical."""
    for cmd in script:
        got, want = call(r, *cmd), call(rr, *cmd)
        assert got == want, f"{cmd}: pikadb {got!r} != redis {want!r}"


# --- command table ---------------------------------------------------------------------
STRING_COMMANDS = [
    "get",
    "set",
    "getset",
    "getdel",
    "getex",
    "setnx",
    "setex",
    "psetex",
    "mset",
    "msetnx",
    "mget",
    "append",
    "strlen",
    "getrange",
    "substr",
    "setrange",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "incrbyfloat",
    "lcs",
]


@pytest.mark.parametrize("name", STRING_COMMANDS)
def test_table_matches_redis_command_info(rr: redis.Redis, name: str) -> None:
    info = call(rr, "COMMAND", "INFO", name)[0]
    _, arity, flags, first, last, step, cats = info[:7]
    cmd = TABLE[name.encode()]
    assert cmd.arity == arity
    assert cmd.flags == {f.decode() for f in flags}
    assert (cmd.first_key, cmd.last_key, cmd.key_step) == (first, last, step)
    assert cmd.categories == {c.decode().lstrip("@") for c in cats}


@pytest.mark.parametrize(
    ("name", "arity", "flags", "keys"),
    [("delvx", 3, {"write", "fast"}, (1, 1, 1)), ("pksetexat", 4, {"write", "denyoom"}, (1, 1, 1))],
)
def test_table_pika_commands(name: str, arity: int, flags: set[str], keys: tuple[int, ...]) -> None:
    cmd = TABLE[name.encode()]
    assert (cmd.arity, set(cmd.flags), (cmd.first_key, cmd.last_key, cmd.key_step)) == (
        arity,
        flags,
        keys,
    )
    assert "string" in cmd.categories and "write" in cmd.categories


@pytest.mark.parametrize(
    "cmd",
    [
        ("get",),
        ("get", "a", "b"),
        ("set", "k"),
        ("getset", "k"),
        ("getdel",),
        ("getex",),
        ("setnx", "k"),
        ("setex", "k", "1"),
        ("psetex", "k", "1"),
        ("mset", "k"),
        ("msetnx", "k"),
        ("mget",),
        ("append", "k"),
        ("strlen",),
        ("getrange", "k", "0"),
        ("substr", "k", "0"),
        ("setrange", "k", "0"),
        ("incr",),
        ("decr",),
        ("incrby", "k"),
        ("decrby", "k"),
        ("incrbyfloat", "k"),
        ("lcs", "a"),
        ("mset", "a", "1", "b"),
        ("msetnx", "a", "1", "b"),
    ],
)
def test_wrong_arity(r: redis.Redis, rr: redis.Redis, cmd: tuple[str, ...]) -> None:
    same(r, rr, [cmd])


# --- GET / SET ---------------------------------------------------------------------------
def test_get_set_basic(r: redis.Redis) -> None:
    assert r.get("nokey") is None
    assert r.set("k", b"\x00\xffbin\r\n") is True
    assert r.get("k") == b"\x00\xffbin\r\n"
    assert r.set("e", b"") is True
    assert r.get("e") == b""
    assert r.dbsize() == 2


def test_set_options_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("set", "k", "v", "nx", "get"),  # 7.0: NX and GET together
            ("set", "k", "v2", "nx", "get"),
            ("set", "k", "v3", "xx", "get"),
            ("set", "missing", "v", "xx", "get"),
            ("set", "missing", "v", "xx"),
            ("set", "k", "v4", "nx"),
            ("get", "k"),
            ("set", "k", "v", "xx", "nx"),
            ("set", "k", "v", "nx", "xx"),
            ("set", "k", "v", "nx", "nx"),
            ("set", "k", "v", "xx", "xx"),
            ("set", "k", "v", "get", "get"),
            ("set", "k", "v", "keepttl", "keepttl"),
            ("set", "k", "v", "ex", "10", "ex", "20"),
            ("set", "k", "v", "ex", "10", "px", "20"),
            ("set", "k", "v", "px", "10", "exat", "20"),
            ("set", "k", "v", "exat", "10", "pxat", "20"),
            ("set", "k", "v", "pxat", "10", "ex", "20"),
            ("set", "k", "v", "keepttl", "ex", "10"),
            ("set", "k", "v", "ex", "10", "keepttl"),
            ("set", "k", "v", "ex"),
            ("set", "k", "v", "persist"),
            ("set", "k", "v", "foo"),
            ("set", "k", "v", "ex", "0"),
            ("set", "k", "v", "ex", "-1"),
            ("set", "k", "v", "px", "0"),
            ("set", "k", "v", "exat", "0"),
            ("set", "k", "v", "pxat", "-5"),
            ("set", "k", "v", "ex", "abc"),
            ("set", "k", "v", "ex", "1.5"),
            ("set", "k", "v", "ex", "9223372036854775808"),
            ("set", "k", "v", "ex", "9223372036854775"),
            ("set", "k", "v", "ex", "9223372036854774"),
            ("set", "k", "v", "px", "9223372036854775807"),
            ("set", "k", "v", "exat", "9223372036854776"),
            ("set", "k", "v", "exat", "9223372036854775"),
            ("set", "k", "v", "pxat", "9223372036854775807"),
            ("get", "k"),
            ("set", "k", "v", "pxat", "1"),  # in the past: the key is gone
            ("exists", "k"),
            ("set", "k", "v", "exat", "1", "get"),
            ("set", "k", "v", "ex", "0", "get"),
            ("set", "K", "v", "Ex", "100", "nX", "GeT"),
            ("get", "K"),
        ],
    )


def test_set_ttls(r: redis.Redis) -> None:
    assert r.set("k", "v", ex=100)
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "v", px=50_000)
    assert 49_000 <= r.pttl("k") <= 50_000
    at = int(time.time()) + 1000
    assert r.set("k", "v", exat=at)
    assert r.expiretime("k") == at
    assert r.set("k", "v", pxat=at * 1000 + 123)
    assert r.pexpiretime("k") == at * 1000 + 123
    assert r.set("k", "v2", keepttl=True)
    assert r.pexpiretime("k") == at * 1000 + 123
    assert r.get("k") == b"v2"
    assert r.set("k", "v3")  # a plain SET clears the TTL
    assert r.ttl("k") == -1
    assert r.set("n", "v", keepttl=True)  # KEEPTTL on a new key: no TTL
    assert r.ttl("n") == -1


def test_set_px_expires(r: redis.Redis) -> None:
    assert r.set("k", "v", px=30)
    time.sleep(0.08)
    assert r.get("k") is None
    assert r.exists("k") == 0


# --- Pika's SET VX, DELVX, PKSETEXAT -------------------------------------------------------
def test_set_vx(r: redis.Redis) -> None:
    assert call(r, "set", "k", "new", "vx", "old") == 0  # no key
    assert r.exists("k") == 0
    r.set("k", "old")
    assert call(r, "set", "k", "new", "vx", "other") == -1  # value differs
    assert r.get("k") == b"old"
    assert call(r, "set", "k", "new", "vx", "old") == 1
    assert r.get("k") == b"new"
    assert call(r, "set", "k", "v2", "vx", "new", "ex", "100") == 1
    assert 99 <= r.ttl("k") <= 100
    assert call(r, "set", "k", "v3", "vx", "v2", "keepttl") == 1
    assert 99 <= r.ttl("k") <= 100
    assert call(r, "set", "k", "v4", "vx", "v3") == 1
    assert r.ttl("k") == -1
    assert call(r, "set", "k", "v5", "ex", "10", "vx", "v4") == 1
    assert call(r, "set", "k", "v6", "vx", "v5", "pxat", "1") == 1  # past: deleted
    assert r.exists("k") == 0
    syntax = ("error", "syntax error")
    assert call(r, "set", "k", "v", "vx") == syntax
    assert call(r, "set", "k", "v", "vx", "a", "nx") == syntax
    assert call(r, "set", "k", "v", "xx", "vx", "a") == syntax
    assert call(r, "set", "k", "v", "vx", "a", "get") == syntax
    assert call(r, "set", "k", "v", "vx", "a", "ex", "0") == (
        "error",
        "invalid expire time in 'set' command",
    )


def test_delvx(r: redis.Redis) -> None:
    assert call(r, "delvx", "k", "v") == 0
    r.set("k", "v")
    assert call(r, "delvx", "k", "x") == -1
    assert r.get("k") == b"v"
    assert call(r, "delvx", "k", "v") == 1
    assert r.exists("k") == 0


def test_pksetexat(r: redis.Redis) -> None:
    at = int(time.time()) + 500
    assert call(r, "pksetexat", "k", str(at), "v") == b"OK"
    assert r.get("k") == b"v"
    assert r.expiretime("k") == at
    assert call(r, "pksetexat", "k", "0", "v2") == b"OK"  # 0: no expiry (Pika)
    assert r.get("k") == b"v2" and r.ttl("k") == -1
    assert call(r, "pksetexat", "k", str(int(time.time()) - 10), "v3") == b"OK"
    assert r.exists("k") == 0
    assert call(r, "pksetexat", "k", "-1", "v3") == b"OK"
    assert r.exists("k") == 0
    not_int = ("error", "value is not an integer or out of range")
    assert call(r, "pksetexat", "k", "abc", "v") == not_int
    assert call(r, "pksetexat", "k", str(2**31 - 1), "v") == not_int
    assert call(r, "pksetexat", "k", str(2**31 - 2), "v") == b"OK"


# --- SETNX, SETEX, PSETEX, GETSET, GETDEL ------------------------------------------------
def test_setnx_setex_psetex_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("setnx", "a", "1"),
            ("setnx", "a", "2"),
            ("get", "a"),
            ("setex", "k", "0", "v"),
            ("setex", "k", "-1", "v"),
            ("setex", "k", "abc", "v"),
            ("setex", "k", "9223372036854775", "v"),
            ("setex", "k", "9223372036854774", "v"),
            ("psetex", "k", "0", "v"),
            ("psetex", "k", "9223372036854775807", "v"),
            ("psetex", "k", "1.5", "v"),
            ("setex", "k", "100", "v"),
            ("get", "k"),
            ("ttl", "k"),
            ("psetex", "p", "100000", "v"),
            ("get", "p"),
            ("setnx", "k", "x"),
            ("get", "k"),
        ],
    )
    assert 99_000 <= r.pttl("p") <= 100_000


def test_setex_replaces_ttl(r: redis.Redis) -> None:
    r.set("k", "v", ex=1000)
    assert call(r, "setex", "k", "50", "w") == b"OK"
    assert 49 <= r.ttl("k") <= 50 and r.get("k") == b"w"


def test_getset_getdel_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("getset", "a", "1"),
            ("getset", "a", "2"),
            ("get", "a"),
            ("getdel", "a"),
            ("getdel", "a"),
            ("exists", "a"),
            ("set", "t", "x", "ex", "100"),
            ("getset", "t", "y"),
            ("ttl", "t"),
        ],
    )


# --- GETEX -----------------------------------------------------------------------------------
def test_getex_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("getex", "nokey"),
            ("getex", "nokey", "ex", "0"),
            ("getex", "nokey", "foo"),
            ("set", "k", "v"),
            ("getex", "k"),
            ("ttl", "k"),
            ("getex", "k", "ex", "0"),
            ("getex", "k", "px", "-1"),
            ("getex", "k", "exat", "abc"),
            ("getex", "k", "persist", "ex", "10"),
            ("getex", "k", "ex", "10", "persist"),
            ("getex", "k", "keepttl"),
            ("getex", "k", "nx"),
            ("getex", "k", "xx"),
            ("getex", "k", "get"),
            ("getex", "k", "ex"),
            ("getex", "k", "vx", "v"),
            ("getex", "k", "ex", "9223372036854775"),
            ("getex", "k", "ex", "10", "ex", "20"),
            ("ttl", "k"),
            ("getex", "k", "persist", "persist"),
            ("ttl", "k"),
            ("getex", "k", "EXAT", "1"),
            ("exists", "k"),
            ("getex", "k"),
        ],
    )


def test_getex_ttls(r: redis.Redis) -> None:
    r.set("k", "v")
    assert r.getex("k", ex=100) == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert r.getex("k", px=5000) == b"v"
    assert 4000 <= r.pttl("k") <= 5000
    at = int(time.time()) + 300
    assert r.getex("k", exat=at) == b"v" and r.expiretime("k") == at
    assert r.getex("k", pxat=at * 1000 + 7) == b"v" and r.pexpiretime("k") == at * 1000 + 7
    assert r.getex("k") == b"v" and r.pexpiretime("k") == at * 1000 + 7
    assert r.getex("k", persist=True) == b"v" and r.ttl("k") == -1
    assert r.getex("k", persist=True) == b"v"
    assert r.getex("k", pxat=int(time.time() * 1000) - 1) == b"v"
    assert r.exists("k") == 0


# --- MSET / MSETNX / MGET ----------------------------------------------------------------------
def test_mset_msetnx_mget_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("mset", "a", "1", "b", "2", "a", "3"),
            ("mget", "a", "b", "c"),
            ("dbsize",),
            ("msetnx", "c", "1", "a", "x"),
            ("exists", "c"),
            ("msetnx", "c", "1", "d", "2"),
            ("mget", "c", "d"),
            ("msetnx", "e", "1", "e", "2"),
            ("get", "e"),
            ("mget", "nokey"),
            ("dbsize",),
        ],
    )


def test_mset_clears_ttl(r: redis.Redis) -> None:
    r.set("a", "1", ex=100)
    assert r.mset({"a": "2", "b": "3"})
    assert r.ttl("a") == -1 and r.get("a") == b"2"


def test_mset_many_keys(r: redis.Redis) -> None:
    pairs = {f"key:{i}": f"value:{i}" for i in range(1000)}
    assert r.mset(pairs)
    assert r.dbsize() == 1000
    keys = list(pairs)
    assert r.mget(keys) == [v.encode() for v in pairs.values()]


# --- APPEND / STRLEN / GETRANGE / SETRANGE --------------------------------------------------
def test_append_strlen_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("append", "k", "hello"),
            ("append", "k", " world"),
            ("get", "k"),
            ("strlen", "k"),
            ("strlen", "nokey"),
            ("append", "e", ""),
            ("exists", "e"),
            ("strlen", "e"),
            ("set", "n", "10"),
            ("append", "n", "5"),
            ("incr", "n"),
        ],
    )


def test_append_keeps_ttl(r: redis.Redis) -> None:
    r.set("k", "a", ex=100)
    assert r.append("k", "b") == 2
    assert 99 <= r.ttl("k") <= 100


RANGES = [
    (0, -1),
    (0, -100),
    (-100, -1),
    (-1, -5),
    (5, 3),
    (3, 100),
    (-3, -1),
    (10, 20),
    (0, 0),
    (-1, -1),
    (1, -2),
    (-5, -5),
    (-6, -6),
    (4, 4),
    (5, 5),
    (-100, -50),
    (-100, 0),
    (2, 1),
    (0, INT64_MAX),
    (INT64_MIN, INT64_MAX),
    (INT64_MIN, INT64_MIN),
    (INT64_MAX, INT64_MAX),
]


def test_getrange_substr_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    script: list[tuple[Any, ...]] = [("set", "k", "hello"), ("set", "e", ""), ("set", "n", "12345")]
    for key in ("k", "e", "n", "nokey"):
        for start, end in RANGES:
            script.append(("getrange", key, start, end))
            script.append(("substr", key, start, end))
    script += [
        ("getrange", "k", "abc", "1"),
        ("getrange", "k", "0", "9223372036854775808"),
        ("getrange", "k", "1.5", "2"),
    ]
    same(r, rr, script)


def test_setrange_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("setrange", "k", "0", "hello"),
            ("setrange", "k", "1", "EL"),
            ("get", "k"),
            ("setrange", "k", "8", "xy"),
            ("get", "k"),
            ("strlen", "k"),
            ("setrange", "k", "3", ""),
            ("get", "k"),
            ("setrange", "nokey", "5", ""),
            ("exists", "nokey"),
            ("setrange", "p", "3", "ab"),
            ("get", "p"),
            ("setrange", "k", "-1", "x"),
            ("setrange", "k", "abc", "x"),
            ("setrange", "k", "1.5", "x"),
            ("setrange", "k", "536870912", "x"),
            ("setrange", "k", "536870911", "xy"),
            ("setrange", "k", "9223372036854775807", "x"),
            ("setrange", "nokey", "536870912", ""),
            ("setrange", "nokey", "536870912", "x"),
            ("exists", "nokey"),
            ("set", "n", "123"),
            ("setrange", "n", "1", "9"),
            ("incr", "n"),
        ],
    )


def test_setrange_keeps_ttl(r: redis.Redis) -> None:
    r.set("k", "abc", ex=100)
    assert r.setrange("k", 1, "X") == 3
    assert r.get("k") == b"aXc" and 99 <= r.ttl("k") <= 100


def test_length_limits_follow_proto_max_bulk_len(make_server: Callable[..., Any]) -> None:
    srv = make_server("--set", "proto-max-bulk-len=1mb")
    c = srv.client()
    too_long = ("error", "string exceeds maximum allowed size (proto-max-bulk-len)")
    assert call(c, "setrange", "k", str(1 << 20), "x") == too_long
    assert call(c, "setrange", "k", str((1 << 20) - 1), "x") == 1 << 20
    assert call(c, "append", "k", "y") == too_long
    assert call(c, "setrange", "k", str(1 << 20), "") == 1 << 20  # nothing to write
    c.mset({"a": "a" * 600, "b": "a" * 600, "a1": "a" * 510, "b1": "a" * 510})
    assert call(c, "lcs", "a", "b", "len") == (
        "error",
        "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
    )
    assert call(c, "lcs", "a1", "b1", "len") == 510
    c.close()


# --- counters ------------------------------------------------------------------------------
def test_incr_family_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("incr", "c"),
            ("incr", "c"),
            ("decr", "c"),
            ("incrby", "c", "10"),
            ("decrby", "c", "3"),
            ("incrby", "c", "-20"),
            ("decrby", "c", "-5"),
            ("get", "c"),
            ("decr", "d"),
            ("decrby", "e", "7"),
            ("incrby", "f", "-7"),
            ("set", "max", str(INT64_MAX)),
            ("incr", "max"),
            ("incrby", "max", "1"),
            ("decrby", "max", "-1"),
            ("incrby", "max", "0"),
            ("decr", "max"),
            ("set", "min", str(INT64_MIN)),
            ("decr", "min"),
            ("incrby", "min", "-1"),
            ("decrby", "min", "1"),
            ("incr", "min"),
            ("decrby", "x", str(INT64_MIN)),
            ("exists", "x"),
            ("decrby", "x", str(INT64_MAX)),
            ("set", "y", "1"),
            ("decrby", "y", str(INT64_MIN)),
            ("incrby", "y", str(INT64_MIN)),
            ("incrby", "c", "1.5"),
            ("incrby", "c", "abc"),
            ("incrby", "c", "9223372036854775808"),
            ("incrby", "c", " 1"),
            ("incrby", "c", "+1"),
            ("incrby", "c", "01"),
        ],
    )
    bad = [" 1", "1 ", "01", "+1", "-0", "1.0", "abc", "", "9223372036854775808", "1e3", "0x10"]
    for i, value in enumerate(bad):
        same(
            r,
            rr,
            [
                ("set", f"s{i}", value),
                ("incr", f"s{i}"),
                ("decrby", f"s{i}", "1"),
                ("get", f"s{i}"),
            ],
        )


def test_incr_keeps_ttl_and_stores_decimal_text(r: redis.Redis) -> None:
    r.set("c", "41", ex=100)
    assert r.incr("c") == 42
    assert 99 <= r.ttl("c") <= 100
    assert r.get("c") == b"42" and r.strlen("c") == 2
    assert r.decrby("c", 50) == -8
    assert r.get("c") == b"-8"


FLOATS = [
    "10.5",
    "3.0e3",
    "0.1",
    "0.2",
    "-0.3",
    "-0",
    "1.",
    ".5",
    "0x10",
    "0x1p3",
    "1e-400",
    "1e20",
    "-1e-20",
    "5.0e3",
    "1e400",
    "-1e400",
    "1e5000",
    "1e-5000",
    "inf",
    "-inf",
    "nan",
    " 1",
    "1 ",
    "5e",
    "abc",
    "",
    "1.5e+2",
    "123456789.987654321",
    "-17.0000001",
    "1.18973149535723176502e4932",
]


def test_incrbyfloat_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    script: list[tuple[Any, ...]] = [("set", "f", "10")]
    for v in FLOATS:
        script += [("incrbyfloat", "f", v), ("incrbyfloat", "new", v), ("get", "f")]
    for v in ["abc", "1e5000", "inf", " 1", "12345678901234567890", "0x1p-3"]:
        script += [("set", "g", v), ("incrbyfloat", "g", "1"), ("get", "g")]
    same(r, rr, script)


def test_incrbyfloat_random_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    rnd = random.Random(11)
    script: list[tuple[Any, ...]] = []
    for i in range(300):
        kind = rnd.random()
        if kind < 0.3:
            v = repr(rnd.uniform(-1e6, 1e6))
        elif kind < 0.6:
            v = f"{rnd.randint(-999, 999)}e{rnd.randint(-30, 30)}"
        elif kind < 0.8:
            v = str(rnd.randint(-(10**12), 10**12))
        else:
            v = f"{rnd.uniform(-10, 10):.5f}e{rnd.randint(-4900, 4900)}"
        script.append(("incrbyfloat", f"k{i % 7}", v))
    same(r, rr, script)


def test_incrbyfloat_keeps_ttl(r: redis.Redis) -> None:
    r.set("f", "1.5", ex=100)
    assert r.incrbyfloat("f", 1) == 2.5
    assert 99 <= r.ttl("f") <= 100 and r.get("f") == b"2.5"


# --- LCS -------------------------------------------------------------------------------------
def test_lcs_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    same(
        r,
        rr,
        [
            ("lcs", "a", "b"),
            ("lcs", "a", "b", "len"),
            ("lcs", "a", "b", "idx"),
            ("set", "a", "ohmytext"),
            ("set", "b", "mynewtext"),
            ("lcs", "a", "b"),
            ("lcs", "a", "b", "LEN"),
            ("lcs", "a", "b", "idx"),
            ("lcs", "a", "b", "idx", "minmatchlen", "4", "withmatchlen"),
            ("lcs", "a", "b", "minmatchlen", "-5", "idx", "withmatchlen"),
            ("lcs", "a", "b", "idx", "withmatchlen", "minmatchlen", "2", "minmatchlen", "3"),
            ("lcs", "a", "b", "len", "idx"),
            ("lcs", "a", "b", "idx", "len"),
            ("lcs", "a", "b", "minmatchlen"),
            ("lcs", "a", "b", "minmatchlen", "x"),
            ("lcs", "a", "b", "foo"),
            ("lcs", "a", "b", "len", "minmatchlen", "3"),
            ("lcs", "a", "nokey", "idx"),
            ("lcs", "a", "a", "idx", "withmatchlen"),
            ("lcs", "a", "nokey"),
        ],
    )


def test_lcs_random_against_redis(r: redis.Redis, rr: redis.Redis) -> None:
    rnd = random.Random(3)
    script: list[tuple[Any, ...]] = []
    for _ in range(60):
        alphabet = rnd.choice([b"ab", b"abc", b"acgt", bytes(range(256))])
        a = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
        b = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
        script += [
            ("set", "a", a),
            ("set", "b", b),
            ("lcs", "a", "b"),
            ("lcs", "b", "a", "len"),
            ("lcs", "a", "b", "idx", "withmatchlen"),
            ("lcs", "b", "a", "idx", "minmatchlen", str(rnd.randint(0, 4))),
        ]
    same(r, rr, script)


def test_lcs_long_strings(r: redis.Redis, rr: redis.Redis) -> None:
    rnd = random.Random(5)
    a = bytes(rnd.choice(b"acgt") for _ in range(3000))
    b = bytes(rnd.choice(b"acgt") for _ in range(2500))
    same(
        r,
        rr,
        [
            ("set", "a", a),
            ("set", "b", b),
            ("lcs", "a", "b"),
            ("lcs", "a", "b", "idx", "minmatchlen", "6", "withmatchlen"),
        ],
    )


def test_resp3_replies(r: redis.Redis, rr: redis.Redis, pika: Any, real_redis: Any) -> None:
    c3 = redis.Redis(port=pika.port, protocol=3)
    rc3 = redis.Redis(port=real_redis.port, protocol=3)
    try:
        for c in (c3, rc3):
            c.mset({"a": "ohmytext", "b": "mynewtext"})
        for cmd in [
            ("lcs", "a", "b", "idx", "withmatchlen"),
            ("get", "nokey"),
            ("mget", "a", "nokey"),
            ("getex", "nokey"),
            ("set", "a", "x", "nx", "get"),
            ("set", "n", "x", "xx"),
        ]:
            assert call(c3, *cmd) == call(rc3, *cmd)
        assert isinstance(call(c3, "lcs", "a", "b", "idx"), dict)
    finally:
        c3.close()
        rc3.close()


# --- writes that don't mention the TTL keep it; FLUSH and DEL see our keys -------------------
def test_keyspace_bookkeeping(r: redis.Redis) -> None:
    r.mset({"a": "1", "b": "2"})
    r.set("c", "3", ex=100)
    r.incr("d")
    r.append("e", "x")
    r.setrange("f", 2, "y")
    r.incrbyfloat("g", 1.5)
    assert r.dbsize() == 7
    assert r.getdel("a") == b"1"
    assert r.execute_command("delvx", "b", "2") == 1
    assert r.dbsize() == 5
    assert sorted(r.keys()) == [b"c", b"d", b"e", b"f", b"g"]


def _store_with_hash(data_dir: Path, key: bytes) -> None:
    """A data directory whose db 0 holds a hash ``key``, written through the storage layer
    (no collection commands are needed to get a non-string key)."""
    store = Store(str(data_dir / "db"), databases=16)
    db = store.databases[0]
    mkey = db.mkey(key)
    version = store.next_version()
    b = store.batch()
    b.put_meta(mkey, None, L.CollectionMeta(L.T_HASH, 0, version, 1).encode())
    b.put(DATA, L.version_prefix(mkey, version) + b"f", b"v")
    store.commit(b)
    store.close()


def test_wrong_type_against_redis(
    make_server: Callable[..., Any], rr: redis.Redis, tmp_path: Path
) -> None:
    _store_with_hash(tmp_path, b"h")
    srv = make_server(data_dir=str(tmp_path))
    c = srv.client()
    rr.hset("h", "f", "v")
    script: list[tuple[Any, ...]] = [("set", "a", "abc")]
    script += [
        ("get", "h"),
        ("set", "h", "v", "get"),
        ("set", "h", "v", "nx", "get"),
        ("set", "h", "v", "xx", "get"),
        ("set", "h", "v", "ex", "0", "get"),
        ("set", "h", "v", "foo", "get"),
        ("getset", "h", "x"),
        ("getdel", "h"),
        ("getex", "h"),
        ("getex", "h", "ex", "0"),
        ("getex", "h", "foo"),
        ("getex", "h", "persist"),
        ("mget", "h", "a", "nokey"),
        ("msetnx", "h", "1", "z", "2"),
        ("exists", "z"),
        ("append", "h", "x"),
        ("strlen", "h"),
        ("getrange", "h", "0", "1"),
        ("getrange", "h", "x", "1"),
        ("substr", "h", "0", "1"),
        ("setrange", "h", "0", ""),
        ("setrange", "h", "0", "x"),
        ("setrange", "h", "-1", "x"),
        ("incr", "h"),
        ("decr", "h"),
        ("incrby", "h", "1"),
        ("incrby", "h", "1.5"),
        ("decrby", "h", "1"),
        ("decrby", "h", str(INT64_MIN)),
        ("incrbyfloat", "h", "1"),
        ("incrbyfloat", "h", "abc"),
        ("lcs", "h", "a"),
        ("lcs", "a", "h", "foo"),
        ("lcs", "a", "nokey", "len"),
        ("setnx", "h", "x"),
        ("set", "h", "v", "nx"),
        ("set", "h", "v", "xx", "keepttl"),
        ("get", "h"),
        ("type", "h"),
        ("dbsize",),
    ]
    same(c, rr, script)
    c.delete("h")  # then make it a hash again, for the Pika extras
    c.close()
    srv.stop()
    _store_with_hash(tmp_path, b"h")
    srv.start()
    c = srv.client()
    wrongtype = ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")
    assert call(c, "delvx", "h", "v") == wrongtype
    assert call(c, "set", "h", "v", "vx", "v") == wrongtype
    assert call(c, "pksetexat", "h", "0", "v") == b"OK"
    assert c.get("h") == b"v"
    c.close()


def test_survives_restart(make_server: Callable[..., Any]) -> None:
    srv = make_server()
    c = srv.client()
    c.mset({"a": "1", "b": "2"})
    c.set("t", "v", ex=1000)
    c.incrbyfloat("f", "2.5")
    c.close()
    srv.restart()
    c = srv.client()
    assert c.mget("a", "b", "f") == [b"1", b"2", b"2.5"]
    assert 990 <= c.ttl("t") <= 1000
    assert c.dbsize() == 4
    c.close()
