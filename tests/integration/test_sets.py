"""The set family on a running pikadb, checked against a real redis-server 7.0 on the wire
(typed RESP2 and RESP3 replies through the differential harness): replies, errors, RESP3
shapes, encodings, digests, DUMP/RESTORE payloads both ways, random commands' shapes and the
generic commands on sets. Whole-set replies are compared in any order."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import Pair, RSet, same, unordered

from pikadb.rdb import intset
from pikadb.rdb.crc64 import crc64
from pikadb.rdb.encoding import save_len, save_string

ORDER_FREE = {"SMEMBERS", "SUNION", "SINTER", "SDIFF", "SPOP", "SRANDMEMBER"}


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request: pytest.FixtureRequest, r: redis.Redis, rr: redis.Redis) -> Iterator[Pair]:
    p = Pair.from_clients(r, rr, resp=request.param)
    p.reset()
    yield p
    p.close()


def check(pair: Pair, *cmds: tuple[Any, ...]) -> None:
    for cmd in cmds:
        name = str(cmd[0]).upper()
        pair.run(*cmd, cmp=unordered if name in ORDER_FREE else None)
    pair.assert_clean()


def test_add_remove_card(pair: Pair) -> None:
    check(
        pair,
        ("SADD", "s", "a", "b", "c", "a"),
        ("SADD", "s", "c", "d"),
        ("SADD", "s", "d"),
        ("SCARD", "s"),
        ("SCARD", "nosuch"),
        ("SISMEMBER", "s", "a"),
        ("SISMEMBER", "s", "zz"),
        ("SISMEMBER", "nosuch", "a"),
        ("SMISMEMBER", "s", "a", "zz", "d", "a"),
        ("SMISMEMBER", "nosuch", "a"),
        ("SMEMBERS", "s"),
        ("SMEMBERS", "nosuch"),
        ("SREM", "s", "a", "zz", "a"),
        ("SREM", "nosuch", "a"),
        ("SREM", "s", "b", "c", "d"),
        ("EXISTS", "s"),
        ("SADD", "bin", b"", b"\x00\xff", b"-0", b"007"),
        ("SMEMBERS", "bin"),
        ("SADD", "ints", "3", "1", "2", "-5", "9223372036854775807", "-9223372036854775808"),
        ("SMEMBERS", "ints"),
    )


def test_arity_and_wrongtype(pair: Pair) -> None:
    pair.both("SET", "str", "v")
    pair.both("SADD", "s", "a")
    cmds: list[tuple[Any, ...]] = [
        ("SADD", "s"),
        ("SREM", "s"),
        ("SCARD",),
        ("SISMEMBER", "s"),
        ("SMISMEMBER", "s"),
        ("SMOVE", "s", "d"),
        ("SPOP",),
        ("SPOP", "s", "1", "2"),
        ("SRANDMEMBER", "s", "1", "2"),
        ("SUNION",),
        ("SUNIONSTORE", "d"),
        ("SINTERCARD", "1"),
        ("SSCAN", "s"),
    ]
    for name, extra in [
        ("SADD", ("a",)),
        ("SREM", ("a",)),
        ("SCARD", ()),
        ("SISMEMBER", ("a",)),
        ("SMISMEMBER", ("a", "b")),
        ("SMEMBERS", ()),
        ("SPOP", ()),
        ("SPOP", ("2",)),
        ("SRANDMEMBER", ()),
        ("SRANDMEMBER", ("-2",)),
        ("SSCAN", ("0",)),
    ]:
        cmds.append((name, "str", *extra))
    cmds += [
        ("SINTER", "nosuch", "str"),
        ("SINTER", "str", "nosuch"),
        ("SUNION", "nosuch", "str"),
        ("SDIFF", "nosuch", "str"),
        ("SINTERSTORE", "d", "nosuch", "str"),
        ("SUNIONSTORE", "d", "s", "str"),
        ("SDIFFSTORE", "d", "s", "str"),
        ("SINTERCARD", "2", "nosuch", "str"),
        ("SMOVE", "nosuch", "str", "a"),
        ("SMOVE", "s", "str", "a"),
        ("SMOVE", "str", "nosuch", "a"),
        ("EXISTS", "d"),
        ("SMEMBERS", "s"),
    ]
    check(pair, *cmds)


def test_algebra(pair: Pair) -> None:
    for c in (
        ("SADD", "a", "1", "2", "3", "4", "x"),
        ("SADD", "b", "2", "3", "y"),
        ("SADD", "c", "3", "4", "x", "z"),
        ("SET", "str", "v"),
        ("SADD", "dst", "old"),
        ("EXPIRE", "dst", "1000"),
    ):
        pair.both(*c)
    check(
        pair,
        ("SUNION", "a", "b", "c"),
        ("SUNION", "a", "nosuch"),
        ("SUNION", "nosuch"),
        ("SINTER", "a", "b"),
        ("SINTER", "a", "c", "a"),
        ("SINTER", "a", "nosuch"),
        ("SINTER", "nosuch"),
        ("SDIFF", "a", "b", "c"),
        ("SDIFF", "a", "nosuch"),
        ("SDIFF", "nosuch", "a"),
        ("SDIFF", "a", "a"),
        ("SDIFF", "a", "b", "a"),
        ("SINTERCARD", "2", "a", "b"),
        ("SINTERCARD", "3", "a", "b", "c"),
        ("SINTERCARD", "2", "a", "c", "LIMIT", "1"),
        ("SINTERCARD", "2", "a", "c", "limit", "0"),
        ("SINTERCARD", "2", "a", "nosuch"),
        ("SINTERCARD", "1", "nosuch"),
        ("SINTERCARD", "0", "a"),
        ("SINTERCARD", "abc", "a"),
        ("SINTERCARD", "-1", "a"),
        ("SINTERCARD", "3", "a", "b"),
        ("SINTERCARD", "1", "a", "LIMIT", "-1"),
        ("SINTERCARD", "1", "a", "LIMIT", "abc"),
        ("SINTERCARD", "1", "a", "LIMIT"),
        ("SINTERCARD", "1", "a", "FOO"),
        ("SINTERCARD", "1", "str"),
        ("SUNIONSTORE", "dst", "a", "b"),
        ("TTL", "dst"),
        ("SMEMBERS", "dst"),
        ("OBJECT", "ENCODING", "dst"),
        ("SINTERSTORE", "dst", "a", "b"),
        ("SMEMBERS", "dst"),
        ("OBJECT", "ENCODING", "dst"),
        ("SDIFFSTORE", "dst", "a", "b", "c"),
        ("SMEMBERS", "dst"),
        ("SINTERSTORE", "dst", "a", "nosuch"),
        ("EXISTS", "dst"),
        ("SUNIONSTORE", "str", "a"),
        ("TYPE", "str"),
        ("SDIFFSTORE", "a", "a", "b"),
        ("SMEMBERS", "a"),
        ("SUNIONSTORE", "x", "nosuch"),
        ("EXISTS", "x"),
    )


def test_smove(pair: Pair) -> None:
    for c in (("SADD", "src", "a", "1", "b"), ("SADD", "dst", "2"), ("EXPIRE", "dst", "1000")):
        pair.both(*c)
    check(
        pair,
        ("SMOVE", "src", "dst", "1"),
        ("OBJECT", "ENCODING", "dst"),
        ("SMOVE", "src", "dst", "a"),
        ("OBJECT", "ENCODING", "dst"),
        ("TTL", "dst"),
        ("SMOVE", "src", "dst", "zz"),
        ("SMOVE", "src", "src", "b"),
        ("SMOVE", "src", "src", "zz"),
        ("SMOVE", "src", "new", "b"),
        ("EXISTS", "src"),
        ("SMEMBERS", "new"),
        ("OBJECT", "ENCODING", "new"),
        ("SADD", "n1", "7"),
        ("SMOVE", "n1", "n2", "7"),
        ("OBJECT", "ENCODING", "n2"),
        ("SADD", "n2", "7"),
        ("SMOVE", "n2", "dst", "7"),
        ("SMOVE", "dst", "dst2", "2"),
        ("SMEMBERS", "dst"),
        ("SMEMBERS", "dst2"),
    )


# --- random commands ------------------------------------------------------------------------
def test_random_errors_and_edges(pair: Pair) -> None:
    pair.both("SADD", "s", "1", "2", "3")
    check(
        pair,
        ("SPOP", "nosuch"),
        ("SPOP", "nosuch", "3"),
        ("SPOP", "nosuch", "-1"),
        ("SPOP", "s", "-1"),
        ("SPOP", "s", "abc"),
        ("SPOP", "s", "0"),
        ("SRANDMEMBER", "nosuch"),
        ("SRANDMEMBER", "nosuch", "3"),
        ("SRANDMEMBER", "nosuch", "-3"),
        ("SRANDMEMBER", "s", "0"),
        ("SRANDMEMBER", "s", "abc"),
        ("SRANDMEMBER", "s", "-9223372036854775808"),
        ("SRANDMEMBER", "s", "10"),
        ("SRANDMEMBER", "s", "3"),
        ("SCARD", "s"),
        ("SPOP", "s", "3"),
        ("EXISTS", "s"),
        ("SADD", "one", "x"),
        ("SPOP", "one"),
        ("EXISTS", "one"),
    )


def test_random_shapes(pair: Pair) -> None:
    members = {b"m%02d" % i for i in range(40)}
    pair.both("SADD", "s", *members)
    p = pair.p
    assert p.call("SRANDMEMBER", "s") in members
    for count in (1, 5, 39):
        got = p.call("SRANDMEMBER", "s", count)
        assert type(got) is list and len(got) == count == len(set(got)) and set(got) <= members
    rep = p.call("SRANDMEMBER", "s", -100)
    assert type(rep) is list and len(rep) == 100 and set(rep) <= members
    ours, theirs = p.call("SPOP", "s", 5), pair.q.call("SPOP", "s", 5)
    assert type(ours) is type(theirs) and len(ours) == 5 and set(ours) <= members
    assert p.call("SCARD", "s") == 35
    assert set(p.call("SMEMBERS", "s")) == members - set(ours)
    left = set(p.call("SMEMBERS", "s"))
    popped = p.call("SPOP", "s", 34)  # Redis's "rebuild the set" case
    assert len(popped) == 34 and set(popped) <= left
    assert p.call("SCARD", "s") == 1
    last = p.call("SPOP", "s")
    assert {last} == left - set(popped)
    assert p.call("EXISTS", "s") == 0
    if pair.resp == 3:
        assert isinstance(ours, RSet)


def test_random_is_roughly_uniform(r: redis.Redis) -> None:
    members = [b"%d" % i for i in range(20)]
    r.sadd("s", *members)
    counts = Counter(r.srandmember("s", -20_000))
    assert set(counts) == set(members)
    assert min(counts.values()) > 700 and max(counts.values()) < 1300
    big = [b"item:%d" % i for i in range(5000)]
    r.sadd("big", *big)
    picks = [r.srandmember("big") for _ in range(2000)] + r.srandmember("big", 200)
    assert len(set(picks)) > 1500  # 2200 draws from 5000: ~1790 distinct if uniform


# --- SSCAN ----------------------------------------------------------------------------------
def test_sscan_matches_redis(pair: Pair) -> None:
    pair.both("SADD", "ints", *range(50))
    pair.both("SET", "str", "v")
    check(
        pair,
        ("SSCAN", "ints", "0"),
        ("SSCAN", "ints", "0", "COUNT", "3"),
        ("SSCAN", "ints", "0", "MATCH", "1*"),
        ("SSCAN", "ints", "7", "MATCH", "*5", "COUNT", "100"),
        ("SSCAN", "ints", "abc"),
        ("SSCAN", "ints", "0", "COUNT", "0"),
        ("SSCAN", "ints", "0", "NOVALUES"),
        ("SSCAN", "ints", "0", "TYPE", "set"),
        ("SSCAN", "nosuch", "0", "FOO"),
        ("SSCAN", "str", "0", "FOO"),
    )


def test_sscan_big_set(r: redis.Redis) -> None:
    members = {b"member:%04d" % i for i in range(700)}
    r.sadd("s", *members)
    seen: list[bytes] = []
    cursor, calls = 0, 0
    while True:
        cursor, items = r.sscan("s", cursor, count=100)
        seen += items
        calls += 1
        if cursor == 0:
            break
    assert calls == 7 and sorted(seen) == sorted(members)
    assert set(r.sscan_iter("s", match="member:06*")) == {b"member:06%02d" % i for i in range(100)}


# --- encodings, digest, DUMP / RESTORE ----------------------------------------------------
def test_object_encoding_follows_redis(pair: Pair) -> None:
    check(
        pair,
        ("SADD", "i", "1", "2", "-3"),
        ("OBJECT", "ENCODING", "i"),
        ("SADD", "i", "a"),
        ("OBJECT", "ENCODING", "i"),
        ("SREM", "i", "a"),
        ("OBJECT", "ENCODING", "i"),
        ("SADD", "j", "01"),
        ("OBJECT", "ENCODING", "j"),
        ("SADD", "k", *range(512)),
        ("OBJECT", "ENCODING", "k"),
        ("SADD", "k", "512"),
        ("OBJECT", "ENCODING", "k"),
        ("SREM", "k", "0", "1"),
        ("OBJECT", "ENCODING", "k"),
        ("SADD", "m", "a", *range(10)),
        ("COPY", "k", "kc"),
        ("OBJECT", "ENCODING", "kc"),
    )
    # SPOP's "rebuild" case gives the remaining member's encoding: compare with what stays
    pair.both("SPOP", "m", "10")
    p_left, q_left = pair.p.call("SMEMBERS", "m"), pair.q.call("SMEMBERS", "m")
    for side, left in ((pair.p, p_left), (pair.q, q_left)):
        enc = side.call("OBJECT", "ENCODING", "m")
        assert enc == (b"hashtable" if left == [b"a"] else b"intset"), (side.name, left, enc)


def test_debug_digest_matches_redis(pair: Pair) -> None:
    for c in (
        ("SADD", "ints", *range(-5, 20)),
        ("SADD", "strs", "a", "b", "", "\x00"),
        ("SADD", "big", *[f"m{i}" for i in range(600)]),
        ("SADD", "e", "1"),
        ("EXPIRE", "e", "1000"),
    ):
        pair.both(*c)
    check(pair, ("DEBUG", "DIGEST-VALUE", "ints", "strs", "big", "e"), ("DEBUG", "DIGEST"))


def frame(body: bytes) -> bytes:
    data = body + b"\x0a\x00"
    return data + crc64(data).to_bytes(8, "little")


MEMBERS = [b"a", b"-17", b"x" * 70, b""]
PAYLOADS = {
    "intset16": frame(b"\x0b" + save_string(intset.encode([1, -2, 300]))),
    "intset64": frame(b"\x0b" + save_string(intset.encode([1, -(2**62), 2**63 - 1]))),
    "hashtable": frame(b"\x02" + save_len(len(MEMBERS)) + b"".join(map(save_string, MEMBERS))),
    "hashtable-ints": frame(b"\x02" + save_len(3) + b"".join(map(save_string, [b"1", b"2", b"3"]))),
}


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_restore_payload_kinds(r: redis.Redis, rr: redis.Redis, kind: str) -> None:
    payload = PAYLOADS[kind]
    for c in (r, rr):
        assert c.restore("k", 0, payload) in (True, b"OK")
    assert r.smembers("k") == rr.smembers("k")
    assert r.object("encoding", "k") == rr.object("encoding", "k")
    rr.restore("back", 0, r.dump("k"))
    assert rr.execute_command("DEBUG", "DIGEST-VALUE", "k") == rr.execute_command(
        "DEBUG", "DIGEST-VALUE", "back"
    )


@pytest.mark.parametrize(
    "members",
    [[1], list(range(512)), list(range(513)), ["a", 1], [f"m{i}" for i in range(1000)]],
    ids=["one-int", "intset-512", "ints-513", "mixed", "strings-1000"],
)
def test_dump_restore_both_ways(r: redis.Redis, rr: redis.Redis, members: list[Any]) -> None:
    rr.sadd("k", *members)
    r.restore("k", 0, rr.dump("k"))
    assert r.smembers("k") == rr.smembers("k")
    assert r.object("encoding", "k") == rr.object("encoding", "k")
    rr.restore("back", 0, r.dump("k"))
    assert rr.smembers("back") == rr.smembers("k")
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "k") == rr.execute_command(
        "DEBUG", "DIGEST-VALUE", "back"
    )


# --- generic commands on sets ---------------------------------------------------------------
def test_generic_commands(r: redis.Redis) -> None:
    r.sadd("s", "a", "b")
    assert r.type("s") == b"set"
    assert r.exists("s", "nosuch", "s") == 2
    assert r.rename("s", "s2") is True and r.smembers("s2") == {b"a", b"b"}
    assert r.renamenx("s2", "s3") is True and r.exists("s2") == 0
    assert r.copy("s3", "s4") is True
    r.sadd("s4", "c")
    assert r.scard("s3") == 2 and r.scard("s4") == 3
    assert r.move("s4", 2) is True
    r2 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=2)
    try:
        assert r2.smembers("s4") == {b"a", b"b", b"c"}
    finally:
        r2.close()
    assert r.expire("s3", 100) is True
    r.sadd("s3", "z")  # writes keep the TTL
    r.srem("s3", "a")
    assert 0 < r.ttl("s3") <= 100
    assert r.pexpire("s3", 30) is True
    time.sleep(0.08)
    assert r.exists("s3") == 0 and r.scard("s3") == 0 and r.smembers("s3") == set()
    for i in range(20):
        r.sadd(f"set:{i}", i)
        r.hset(f"hash:{i}", "f", "v")
    assert set(r.scan_iter(_type="set", count=5)) == {f"set:{i}".encode() for i in range(20)}
    assert r.randomkey() is not None
    assert r.delete(*[f"set:{i}" for i in range(20)]) == 20
    assert list(r.scan_iter(_type="set")) == []
    r.sadd("x", "old")
    r.delete("x")
    r.sadd("x", "new")
    assert r.smembers("x") == {b"new"}
    r.set("x", "str")
    assert r.type("x") == b"string"
    r.sadd("y", "1")
    r.execute_command("SUNIONSTORE", "x", "y")
    assert r.type("x") == b"set"


def test_command_info_and_getkeys_match_redis(pair: Pair) -> None:
    names = [
        "sadd", "srem", "spop", "scard", "smembers", "sismember", "smismember", "srandmember",
        "smove", "sunion", "sunionstore", "sinter", "sinterstore", "sintercard", "sdiff",
        "sdiffstore", "sscan",
    ]  # fmt: skip
    for name in names:
        a, b = pair.both("COMMAND", "INFO", name)
        assert same(a, b), (name, a, b)
    for args in [
        ("SINTERCARD", "2", "a", "b", "LIMIT", "1"),
        ("SINTERCARD", "1", "a"),
        ("SMOVE", "a", "b", "m"),
        ("SUNIONSTORE", "d", "a", "b"),
        ("SDIFF", "a", "b", "c"),
    ]:
        a, b = pair.both("COMMAND", "GETKEYS", *args)
        assert same(a, b), (args, a, b)
