"""The hash family on a running pikadb, checked against a real redis-server 7.0 on the wire
(typed RESP2 and RESP3 replies through the differential harness), plus Pika's HSCANX,
PKHSCANRANGE and PKHRSCANRANGE, DUMP/RESTORE payloads both ways and the generic commands on
hashes.

Whole-hash replies (HGETALL, HKEYS, HVALS) are compared in any order: Redis keeps small
hashes in insertion order, pikadb in field order."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import Err, Pair, RMap, same, unordered

from pikadb.rdb import listpack, ziplist, zipmap
from pikadb.rdb.crc64 import crc64
from pikadb.rdb.encoding import save_len, save_string


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request: pytest.FixtureRequest, r: redis.Redis, rr: redis.Redis) -> Iterator[Pair]:
    p = Pair.from_clients(r, rr, resp=request.param)
    p.reset()
    yield p
    p.close()


def check(pair: Pair, *cmds: tuple[Any, ...]) -> None:
    """Every command answers the same on both servers (exactly, RESP types included; the
    members of whole-hash replies in any order)."""
    for cmd in cmds:
        pair.run(*cmd, cmp=ORDER_FREE.get(str(cmd[0]).upper()))
    pair.assert_clean()


def unordered_pairs(a: Any, b: Any) -> bool:
    """HGETALL-like replies (flat arrays or maps) as sets of field/value pairs."""
    if isinstance(a, RMap) and isinstance(b, RMap):
        return sorted(a) == sorted(b)
    if isinstance(a, list) and isinstance(b, list) and type(a) is type(b):
        return sorted(zip(a[::2], a[1::2], strict=True)) == sorted(
            zip(b[::2], b[1::2], strict=True)
        )
    return same(a, b)


ORDER_FREE = {"HGETALL": unordered_pairs, "HKEYS": unordered, "HVALS": unordered}


# --- basic commands ---------------------------------------------------------------------------
def test_set_get_delete(pair: Pair) -> None:
    check(
        pair,
        ("HSET", "h", "a", "1", "b", "2", "c", "3"),
        ("HSET", "h", "a", "10", "d", "4"),
        ("HSET", "h", "e", "5", "e", "6"),
        ("HGET", "h", "a"),
        ("HGET", "h", "e"),
        ("HGET", "h", "zz"),
        ("HGET", "nosuch", "a"),
        ("HMGET", "h", "a", "zz", "b", "a"),
        ("HMGET", "nosuch", "a", "b"),
        ("HLEN", "h"),
        ("HLEN", "nosuch"),
        ("HSTRLEN", "h", "a"),
        ("HSTRLEN", "h", "zz"),
        ("HSTRLEN", "nosuch", "a"),
        ("HEXISTS", "h", "a"),
        ("HEXISTS", "h", "zz"),
        ("HEXISTS", "nosuch", "a"),
        ("HGETALL", "h"),
        ("HKEYS", "h"),
        ("HVALS", "h"),
        ("HGETALL", "nosuch"),
        ("HKEYS", "nosuch"),
        ("HVALS", "nosuch"),
        ("HDEL", "h", "a", "zz", "a"),
        ("HDEL", "nosuch", "a"),
        ("HDEL", "h", "b", "c", "d", "e"),
        ("EXISTS", "h"),
        ("HSETNX", "n", "f", "v"),
        ("HSETNX", "n", "f", "w"),
        ("HGET", "n", "f"),
        ("HMSET", "m", "a", "1", "b", "2"),
        ("HMSET", "m", "a", "3"),
        ("HGETALL", "m"),
        ("HSET", "bin", b"", b"", b"\x00\xff", b"\x00"),
        ("HGETALL", "bin"),
        ("HSTRLEN", "bin", b""),
    )


def test_arity_and_wrongtype(pair: Pair) -> None:
    pair.both("SET", "str", "v")
    cmds: list[tuple[Any, ...]] = [
        ("HSET", "h", "a"),
        ("HSET", "h", "a", "1", "b"),
        ("HSET", "h"),
        ("HMSET", "h", "a"),
        ("HMSET", "h", "a", "1", "b"),
        ("HSETNX", "h", "a"),
        ("HGET", "h"),
        ("HMGET", "h"),
        ("HDEL", "h"),
        ("HLEN",),
        ("HGETALL", "h", "x"),
        ("HINCRBY", "h", "f"),
        ("HRANDFIELD",),
        ("HSCAN", "h"),
    ]
    for name, extra in [
        ("HSET", ("f", "v")),
        ("HMSET", ("f", "v")),
        ("HSETNX", ("f", "v")),
        ("HGET", ("f",)),
        ("HMGET", ("f", "g")),
        ("HDEL", ("f",)),
        ("HEXISTS", ("f",)),
        ("HLEN", ()),
        ("HSTRLEN", ("f",)),
        ("HGETALL", ()),
        ("HKEYS", ()),
        ("HVALS", ()),
        ("HINCRBY", ("f", "1")),
        ("HINCRBYFLOAT", ("f", "1.5")),
        ("HRANDFIELD", ()),
        ("HRANDFIELD", ("1",)),
        ("HSCAN", ("0",)),
    ]:
        cmds.append((name, "str", *extra))
    check(pair, *cmds, ("GET", "str"))


def test_hincrby(pair: Pair) -> None:
    check(
        pair,
        ("HINCRBY", "h", "a", "5"),
        ("HINCRBY", "h", "a", "-7"),
        ("HINCRBY", "h", "a", "abc"),
        ("HINCRBY", "h", "a", "1.5"),
        ("HINCRBY", "h", "a", " 1"),
        ("HINCRBY", "h", "max", "9223372036854775807"),
        ("HINCRBY", "h", "max", "1"),
        ("HINCRBY", "h", "min", "-9223372036854775808"),
        ("HINCRBY", "h", "min", "-1"),
        ("HINCRBY", "h", "min", "9223372036854775807"),
        ("HSET", "h", "txt", "abc", "flt", "1.5", "pad", "01", "big", "99999999999999999999"),
        ("HINCRBY", "h", "txt", "1"),
        ("HINCRBY", "h", "flt", "1"),
        ("HINCRBY", "h", "pad", "1"),
        ("HINCRBY", "h", "big", "1"),
        ("HINCRBY", "nosuch", "f", "abc"),
        ("EXISTS", "nosuch"),
        ("HGETALL", "h"),
    )


@pytest.mark.parametrize(
    "by",
    ["1.5", "-0.5", "0", "1e3", "3.0e-2", "10.50", "1.", ".5", "17179869184", "1e4000", "0x10"],
)
def test_hincrbyfloat_values(pair: Pair, by: str) -> None:
    check(
        pair,
        ("HINCRBYFLOAT", "h", "new", by),
        ("HSET", "h", "x", "1.1", "i", "3", "neg", "-5.25"),
        ("HINCRBYFLOAT", "h", "x", by),
        ("HINCRBYFLOAT", "h", "i", by),
        ("HINCRBYFLOAT", "h", "neg", by),
        ("HGETALL", "h"),
    )


def test_hincrbyfloat_errors(pair: Pair) -> None:
    check(
        pair,
        ("HSET", "h", "txt", "abc", "sp", " 1", "inf", "inf", "x", "1"),
        *[("HINCRBYFLOAT", "h", "x", b) for b in ["inf", "-inf", "nan", "abc", "", " 1", "1e5000"]],
        ("HINCRBYFLOAT", "h", "txt", "1"),
        ("HINCRBYFLOAT", "h", "sp", "1"),
        ("HINCRBYFLOAT", "h", "inf", "1"),
        ("HINCRBYFLOAT", "nosuch", "f", "nan"),
        ("EXISTS", "nosuch"),
        ("HGETALL", "h"),
    )


# --- HRANDFIELD ---------------------------------------------------------------------------
def test_hrandfield_errors_and_empty(pair: Pair) -> None:
    pair.both("HSET", "h", "a", "1", "b", "2", "c", "3")
    check(
        pair,
        ("HRANDFIELD", "nosuch"),
        ("HRANDFIELD", "nosuch", "3"),
        ("HRANDFIELD", "nosuch", "-3", "WITHVALUES"),
        ("HRANDFIELD", "h", "0"),
        ("HRANDFIELD", "h", "0", "withvalues"),
        ("HRANDFIELD", "h", "abc"),
        ("HRANDFIELD", "h", "1", "foo"),
        ("HRANDFIELD", "nosuch", "1", "foo"),
        ("HRANDFIELD", "h", "1", "withvalues", "x"),
        ("HRANDFIELD", "h", "-9223372036854775808"),
        ("HRANDFIELD", "h", "9223372036854775807", "withvalues"),
        ("HRANDFIELD", "h", "-4611686018427387904", "withvalues"),
        ("HRANDFIELD", "h", "5"),
        ("HRANDFIELD", "h", "3", "WITHVALUES"),
    )


def test_hrandfield_shapes(pair: Pair) -> None:
    fields = {b"f%02d" % i: b"v%d" % i for i in range(20)}
    pair.both("HSET", "h", *[x for kv in fields.items() for x in kv])
    p = pair.p
    one = p.call("HRANDFIELD", "h")
    assert one in fields
    for count in (1, 5, 19):
        got = p.call("HRANDFIELD", "h", count)
        assert len(got) == count and len(set(got)) == count and set(got) <= set(fields)
    rep = p.call("HRANDFIELD", "h", -50)
    assert len(rep) == 50 and set(rep) <= set(fields)
    wv = p.call("HRANDFIELD", "h", -7, "WITHVALUES")
    if pair.resp == 3:
        assert len(wv) == 7 and all(isinstance(x, list) and len(x) == 2 for x in wv)
        pairs = [tuple(x) for x in wv]
    else:
        assert len(wv) == 14
        pairs = list(zip(wv[::2], wv[1::2], strict=True))
    assert all(fields[f] == v for f, v in pairs)
    theirs = pair.q.call("HRANDFIELD", "h", 3, "WITHVALUES")
    ours = p.call("HRANDFIELD", "h", 3, "WITHVALUES")
    assert type(ours) is type(theirs) and len(ours) == len(theirs)
    assert [type(x) for x in ours] == [type(x) for x in theirs]


# --- HSCAN ----------------------------------------------------------------------------------
def test_hscan_small_hash_matches_redis(pair: Pair) -> None:
    pair.both("HSET", "h", *[x for i in range(20) for x in (b"f%02d" % i, b"v%d" % i)])
    pair.both("SET", "str", "v")
    check(
        pair,
        ("HSCAN", "h", "0"),
        ("HSCAN", "h", "0", "COUNT", "3"),
        ("HSCAN", "h", "0", "MATCH", "f1*"),
        ("HSCAN", "h", "0", "match", "*5", "count", "100"),
        ("HSCAN", "h", "12345"),
        ("HSCAN", "h", "-1"),
        ("HSCAN", "h", "abc"),
        ("HSCAN", "h", "18446744073709551616"),
        ("HSCAN", "h", "0", "COUNT", "0"),
        ("HSCAN", "h", "0", "COUNT", "abc"),
        ("HSCAN", "h", "0", "MATCH"),
        ("HSCAN", "h", "0", "TYPE", "hash"),
        ("HSCAN", "nosuch", "0", "FOO"),
        ("HSCAN", "nosuch", "abc"),
        ("HSCAN", "str", "0", "FOO"),
    )


def full_hscan(c: Pair, key: str, *opts: Any) -> tuple[list[Any], int]:
    cursor: Any = b"0"
    out: list[Any] = []
    calls = 0
    while True:
        reply = c.p.call("HSCAN", key, cursor, *opts)
        calls += 1
        cursor, items = reply
        out += items
        if cursor == b"0":
            return out, calls


def test_hscan_big_hash_pages(pair: Pair) -> None:
    fields = {b"field:%04d" % i: b"%d" % i for i in range(1000)}
    pair.p.call("HSET", "h", *[x for kv in fields.items() for x in kv])
    items, calls = full_hscan(pair, "h", "COUNT", 50)
    assert calls == 20
    assert dict(zip(items[::2], items[1::2], strict=True)) == fields
    names, _ = full_hscan(pair, "h", "MATCH", "field:01*", "NOVALUES")
    assert sorted(names) == [b"field:%04d" % i for i in range(100, 200)]
    cursor, names = pair.p.call("HSCAN", "h", "0", "NOVALUES", "COUNT", "2")
    assert cursor != b"0" and names == [b"field:0000", b"field:0001"]
    cursor, rest = pair.p.call("HSCAN", "h", cursor, "COUNT", "2")
    assert rest == [b"field:0002", b"2", b"field:0003", b"3"]


# --- Pika range scans --------------------------------------------------------------------------
def test_hscanx_and_range_scans(r: redis.Redis) -> None:
    r.hset("h", mapping={c: f"v{c}" for c in "abcdefg"})
    ex = r.execute_command
    assert ex("HSCANX", "h", "") == [b"", [x for c in b"abcdefg" for x in (bytes([c]), b"v%c" % c)]]
    assert ex("HSCANX", "h", "c", "COUNT", "2") == [b"e", [b"c", b"vc", b"d", b"vd"]]
    assert ex("HSCANX", "h", "c", "MATCH", "[ce]", "COUNT", "3") == [
        b"f",
        [b"c", b"vc", b"e", b"ve"],
    ]
    assert ex("HSCANX", "h", "a", "COUNT", "0") == [b"a", []]
    assert ex("HSCANX", "nosuch", "a") == [b"", []]
    assert ex("PKHSCANRANGE", "h", "b", "d") == [b"", [b"b", b"vb", b"c", b"vc", b"d", b"vd"]]
    assert ex("PKHSCANRANGE", "h", "b", "", "LIMIT", "2") == [b"d", [b"b", b"vb", b"c", b"vc"]]
    assert ex("PKHSCANRANGE", "h", "", "c", "MATCH", "*b*") == [b"", [b"b", b"vb"]]
    assert ex("PKHRSCANRANGE", "h", "f", "c", "LIMIT", "2") == [b"d", [b"f", b"vf", b"e", b"ve"]]
    assert ex("PKHRSCANRANGE", "h", "", "", "LIMIT", "1") == [b"f", [b"g", b"vg"]]
    assert ex("PKHRSCANRANGE", "h", "cc", "a") == [b"", [b"c", b"vc", b"b", b"vb", b"a", b"va"]]
    for bad, msg in [
        (("PKHSCANRANGE", "h", "d", "b"), "error in given range"),
        (("PKHRSCANRANGE", "h", "b", "d"), "error in given range"),
        (("PKHSCANRANGE", "h", "a", "b", "LIMIT", "0"), "not an integer"),
        (("PKHSCANRANGE", "h", "a", "b", "LIMIT"), "syntax error"),
        (("PKHSCANRANGE", "h", "a", "b", "COUNT", "1"), "syntax error"),
        (("HSCANX", "h", "a", "COUNT", "-1"), "syntax error"),
        (("HSCANX", "h", "a", "COUNT", "x"), "not an integer"),
        (("HSCANX", "h"), "wrong number of arguments"),
    ]:
        with pytest.raises(redis.ResponseError, match=msg):
            ex(*bad)
    r.set("str", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        ex("PKHSCANRANGE", "str", "", "")


# --- encodings, digests, DUMP / RESTORE --------------------------------------------------------
def test_object_encoding_follows_redis(pair: Pair) -> None:
    long = "x" * 65
    check(
        pair,
        ("HSET", "h", "a", "1"),
        ("OBJECT", "ENCODING", "h"),
        ("HSETNX", "h", "a", long),
        ("OBJECT", "ENCODING", "h"),
        ("HSET", "h2", "a", long),
        ("OBJECT", "ENCODING", "h2"),
        ("HSET", "h2", "a", "short"),
        ("OBJECT", "ENCODING", "h2"),
        ("HSET", "h3", long, "1"),
        ("HDEL", "h3", long),
        ("HSET", "h3", "a", "1"),
        ("OBJECT", "ENCODING", "h3"),
        ("HSET", "h4", "a", "1"),
        ("HINCRBYFLOAT", "h4", "a", "1e100"),
        ("OBJECT", "ENCODING", "h4"),
        ("HSET", "h5", "a", "1"),
        ("HINCRBY", "h5", long, "1"),
        ("OBJECT", "ENCODING", "h5"),
        ("HSET", "h6", "a", "1"),
        ("HSETNX", "h6", "b", long),
        ("OBJECT", "ENCODING", "h6"),
        ("HSET", "big", *[x for i in range(512) for x in (f"f{i:04d}", "v")]),
        ("OBJECT", "ENCODING", "big"),
        ("HSET", "big", "f9999", "v"),
        ("OBJECT", "ENCODING", "big"),
        ("HDEL", "big", "f0000", "f0001", "f0002"),
        ("OBJECT", "ENCODING", "big"),
        ("COPY", "big", "bigcopy"),
        ("OBJECT", "ENCODING", "bigcopy"),
    )


def test_debug_digest_matches_redis(pair: Pair) -> None:
    for c in (
        ("HSET", "h", "a", "1", "b", "two", "c", ""),
        ("HSET", "big", *[x for i in range(300) for x in (f"f{i}", "v" * (i % 70))]),
        ("HSET", "e", "f", "v"),
        ("EXPIRE", "e", "1000"),
    ):
        pair.both(*c)
    check(pair, ("DEBUG", "DIGEST-VALUE", "h", "big", "e", "nosuch"), ("DEBUG", "DIGEST"))


def frame(body: bytes) -> bytes:
    data = body + b"\x0a\x00"
    return data + crc64(data).to_bytes(8, "little")


PAIRS = [(b"a", b"1"), (b"bb", b"-12345"), (b"c", b"x" * 40), (b"", b"empty-field")]
PAYLOADS = {
    "listpack": frame(b"\x10" + save_string(listpack.encode([x for p in PAIRS for x in p]))),
    "ziplist": frame(b"\x0d" + save_string(ziplist.encode([x for p in PAIRS for x in p]))),
    "zipmap": frame(b"\x09" + save_string(zipmap.encode(PAIRS))),
    "hashtable": frame(
        b"\x04" + save_len(len(PAIRS)) + b"".join(save_string(f) + save_string(v) for f, v in PAIRS)
    ),
}


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_restore_payload_kinds(r: redis.Redis, rr: redis.Redis, kind: str) -> None:
    payload = PAYLOADS[kind]
    for c in (r, rr):
        assert c.restore("k", 0, payload) in (True, b"OK")
    assert sorted(r.hgetall("k").items()) == sorted(rr.hgetall("k").items()) == sorted(PAIRS)
    assert r.object("encoding", "k") == rr.object("encoding", "k")
    rr.restore("back", 0, r.dump("k"))
    assert rr.execute_command("DEBUG", "DIGEST-VALUE", "k") == rr.execute_command(
        "DEBUG", "DIGEST-VALUE", "back"
    )


@pytest.mark.parametrize("size", [1, 5, 512, 513, 1000])
@pytest.mark.parametrize("value_len", [1, 64, 65])
def test_dump_restore_both_ways(r: redis.Redis, rr: redis.Redis, size: int, value_len: int) -> None:
    mapping = {f"f{i}": f"{i}".rjust(value_len, "v") for i in range(size)}
    rr.hset("k", mapping=mapping)
    r.restore("k", 0, rr.dump("k"))
    assert r.hgetall("k") == rr.hgetall("k")
    assert r.object("encoding", "k") == rr.object("encoding", "k")
    rr.restore("back", 0, r.dump("k"))
    assert rr.hgetall("back") == rr.hgetall("k")
    assert rr.execute_command("DEBUG", "DIGEST-VALUE", "back") == r.execute_command(
        "DEBUG", "DIGEST-VALUE", "k"
    )


def test_restore_replace_and_ttl(r: redis.Redis) -> None:
    r.hset("k", mapping={"a": "1", "b": "2"})
    payload = r.dump("k")
    with pytest.raises(redis.ResponseError, match="BUSYKEY"):
        r.restore("k", 0, payload)
    r.hset("other", "x", "y")
    r.restore("other", 100_000, payload, replace=True)
    assert r.hgetall("other") == {b"a": b"1", b"b": b"2"}
    assert 0 < r.pttl("other") <= 100_000


# --- generic commands on hashes ------------------------------------------------------------
def test_generic_commands(r: redis.Redis) -> None:
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.type("h") == b"hash"
    assert r.exists("h", "h", "nosuch") == 2
    assert r.rename("h", "h2") is True
    assert r.exists("h") == 0 and r.hgetall("h2") == {b"a": b"1", b"b": b"2"}
    assert r.copy("h2", "h3") is True
    r.hset("h3", "c", "3")
    assert r.hlen("h2") == 2 and r.hlen("h3") == 3
    assert r.copy("h3", "h2", replace=True) is True and r.hlen("h2") == 3
    assert r.copy("h2", "h2", destination_db=1) is True
    assert r.move("h2", 1) is False  # already there
    assert r.move("h3", 1) is True and r.exists("h3") == 0
    assert r.expire("h2", 100) is True
    r.hset("h2", "d", "4")  # writes keep the TTL
    assert 0 < r.ttl("h2") <= 100
    assert r.persist("h2") is True and r.ttl("h2") == -1
    assert r.pexpire("h2", 50) is True
    time.sleep(0.1)
    assert r.exists("h2") == 0 and r.hgetall("h2") == {}
    r.hset("fresh", "x", "1")
    r.set("fresh", "string now")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.hget("fresh", "x")
    r.delete("fresh")
    r.hset("fresh", "y", "2")
    assert r.hgetall("fresh") == {b"y": b"2"}  # the old field is gone (version bump)


def test_move_copy_db_and_scan_type(r: redis.Redis) -> None:
    r.hset("h", "a", "1")
    r.set("s", "v")
    assert r.move("h", 1) is True
    assert r.exists("h") == 0
    r1 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=1)
    try:
        assert r1.hgetall("h") == {b"a": b"1"}
        assert r1.copy("h", "h", destination_db=0) is True
        assert r1.type("h") == b"hash"
    finally:
        r1.close()
    assert r.hgetall("h") == {b"a": b"1"}
    for i in range(30):
        r.hset(f"hash:{i}", "f", "v")
        r.set(f"str:{i}", "v")
    found = set(r.scan_iter(_type="hash", count=7))
    assert found == {b"h"} | {f"hash:{i}".encode() for i in range(30)}
    assert r.keys("hash:1*")
    keys = {r.randomkey() for _ in range(50)}
    assert keys <= found | {f"str:{i}".encode() for i in range(30)} | {b"s"}
    assert r.delete(*[f"hash:{i}" for i in range(30)]) == 30
    assert set(r.scan_iter(_type="hash")) == {b"h"}


def test_command_info_matches_redis(pair: Pair) -> None:
    names = [
        "hset", "hsetnx", "hmset", "hget", "hmget", "hdel", "hexists", "hgetall", "hkeys",
        "hvals", "hlen", "hstrlen", "hincrby", "hincrbyfloat", "hrandfield", "hscan",
    ]  # fmt: skip
    for name in names:
        a, b = pair.both("COMMAND", "INFO", name)
        assert same(a, b), (name, a, b)
    assert not isinstance(pair.p.call("COMMAND", "INFO", "hscanx"), Err)
