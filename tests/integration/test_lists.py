"""List commands on a pikadb server, mostly side by side with a real redis-server 7.0 (``Pair``
compares the wire replies, RESP2 and RESP3): options, errors and their order, reply shapes,
DUMP/RESTORE both ways (quicklist of listpacks, of ziplists, compressed and plain nodes, the
old ziplist and linked-list payloads), DEBUG DIGEST, OBJECT ENCODING and the generic key
commands; then behaviour on larger lists (middle inserts and removals on both sides)."""

from __future__ import annotations

import shlex

import pytest
import redis
from tests.differential.harness import Pair

from pikadb.rdb.crc64 import crc64

# --- scripted comparisons (both servers, both protocols) ------------------------------------
SCRIPTS = {
    "push_pop": """
lpush l a
rpush l b c
lpush l x y z
lrange l 0 -1
llen l
lpushx l p
rpushx l q r
lpushx nokey a
rpushx nokey a b
exists nokey
lpop l
rpop l
lpop l 2
rpop l 2
lpop l 0
rpop l 0
lpop l 100
lpop l
rpop l
lpop l 1
rpop l 0
exists l
rpush l 1 2 3
lpop l -1
lpop l abc
lpop l 1.5
rpop l 9223372036854775807
exists l
lpop l 1 2
rpop l 1 2 3
lpush
rpush l
lpushx l
set s str
lpush s a
rpush s a
lpushx s a
rpop s
lpop s 2
lpop s abc
llen s
llen nokey
""",
    "index_range": """
rpush l a b c d e f g
lindex l 0
lindex l -1
lindex l 6
lindex l 7
lindex l -7
lindex l -8
lindex l abc
lindex nokey abc
lindex l 9223372036854775807
lindex l -9223372036854775808
lrange l 0 -1
lrange l 1 3
lrange l -3 -1
lrange l -100 100
lrange l 5 2
lrange l 7 10
lrange l -1 -3
lrange l 0 0
lrange l abc 1
lrange nokey abc 1
lrange nokey 0 -1
lrange l 9223372036854775807 -9223372036854775808
lrange l -9223372036854775808 9223372036854775807
set s x
lindex s 0
lindex s abc
lrange s 0 -1
lrange s abc 0
""",
    "insert_set_trim": """
linsert l before a x
rpush l a b c d e
linsert l before a x
linsert l after e y
linsert l before c m
linsert l after c n
linsert l after nope z
linsert l middle c z
linsert nokey middle c z
linsert l BEFORE x first
linsert l After y last
lrange l 0 -1
lset l 0 A
lset l -1 Z
lset l 5 five
lset l 100 x
lset l -100 x
lset l abc x
lset nokey 0 x
lset nokey abc x
lrange l 0 -1
ltrim l 1 -2
lrange l 0 -1
ltrim l -3 100
lrange l 0 -1
ltrim l abc 1
ltrim nokey 0 1
ltrim l 0 0
lrange l 0 -1
ltrim l 1 0
exists l
rpush l a b c
ltrim l 5 10
exists l
rpush l a b c
ltrim l -100 -50
exists l
rpush l a b c
ltrim l 0 -1
lrange l 0 -1
set s x
linsert s before a b
linsert s middle a b
lset s 0 x
lset s abc x
ltrim s 0 1
ltrim s abc 1
""",
    "lrem": """
rpush l a b a c a d a
lrem l 1 a
lrange l 0 -1
lrem l -1 a
lrange l 0 -1
lrem l 0 a
lrange l 0 -1
lrem l 0 nope
lrem l abc a
lrem nokey 1 a
lrem nokey abc a
rpush m x x x
lrem m 0 x
exists m
rpush m x y x y x
lrem m -2 x
lrange m 0 -1
lrem m 2 y
lrange m 0 -1
lrem m 9223372036854775807 x
exists m
rpush m a b
lrem m -9223372036854775808 b
lrange m 0 -1
set s x
lrem s 1 a
lrem s abc a
""",
    "lpos": """
rpush l a b c 1 2 3 c c
lpos l c
lpos l c rank 2
lpos l c rank -1
lpos l c rank -3
lpos l c rank 4
lpos l c count 0
lpos l c count 2
lpos l c count 2 rank -1
lpos l c count 0 rank 2
lpos l c maxlen 2
lpos l c maxlen 3
lpos l c maxlen 3 count 0
lpos l c rank -1 maxlen 1
lpos l c rank -1 maxlen 2 count 0
lpos l nope
lpos l nope count 0
lpos l c rank 0
lpos l c rank abc
lpos l c count -1
lpos l c count abc
lpos l c maxlen -1
lpos l c maxlen abc
lpos l c rank
lpos l c foo
lpos l c count 1 foo
lpos l c RANK 2 COUNT 1 RANK 1
lpos l c rank -9223372036854775808
lpos l c rank -9223372036854775808 count 1
lpos l c rank 9223372036854775807
lpos l c rank 9223372036854775807 count 0
lpos nokey c
lpos nokey c count 1
lpos nokey c rank 0
lpos nokey c count -1
set s x
lpos s c
lpos s c count 1
lpos s c rank 0
""",
    "lmove": """
rpush src a b c
lmove src dst LEFT RIGHT
lmove src dst RIGHT LEFT
lrange src 0 -1
lrange dst 0 -1
lmove src src LEFT RIGHT
lrange src 0 -1
lmove src src right left
lrange src 0 -1
lmove src dst left left
exists src
lmove src dst left left
lmove src dst middle left
lmove nokey dst middle left
lmove dst dst LEFT LEFT
lrange dst 0 -1
rpoplpush dst other
rpoplpush dst dst
lrange dst 0 -1
rpoplpush nokey other
set s x
lmove s dst left left
lmove dst s left left
lrange dst 0 -1
rpoplpush s dst
rpoplpush dst s
lmove nokey s left left
rpoplpush nokey s
rpush one x
rpoplpush one one
lrange one 0 -1
lmove one two left right
exists one
lrange two 0 -1
""",
    "lmpop": """
rpush a 1 2 3
rpush b 4 5
lmpop 2 nokey a LEFT
lmpop 2 nokey a RIGHT COUNT 10
exists a
lmpop 2 a b left count 1
lmpop 1 b right count 5
lmpop 3 x y z left
lmpop 0 a left
lmpop -1 a left
lmpop abc a left
lmpop 2 a left
lmpop 1 a middle
lmpop 1 a left count 0
lmpop 1 a left count -1
lmpop 1 a left count abc
lmpop 1 a left count
lmpop 1 a left count 1 count 1
lmpop 1 a left foo
lmpop 9223372036854775807 a left
set s x
rpush c 1
lmpop 2 s c left
lmpop 2 c s left
lmpop 2 nokey s right
""",
    "blocking_nonblocking_paths": """
rpush a 1 2 3
blpop nokey a 0
brpop a nokey 0
blpop a 0.01
blpop nokey 0.01
brpop nokey nokey2 0.01
blpop a -1
blpop a abc
blpop a nan
blpop a inf
blpop a -inf
blpop a " 1"
blpop a ""
blpop a 92233720368547758
blpop a 1e300
rpush a 1 2
blmove a b left right 0
blmove a b left right 0.01
blmove nokey b left right 0.01
brpoplpush nokey b 0.01
brpoplpush b a 0
blmove a b up right 0
blmove a b left right abc
blmove a b left right -1
blmpop 0 2 nokey a left count 5
blmpop 0.01 2 nokey x left
blmpop abc 1 a left
blmpop -1 1 a left
blmpop abc abc a left
blmpop abc 1 a middle
blmpop abc 1 a left count 0
blmpop 0 0 a left
set s x
blpop s 0
blpop nokey s 0
blpop s abc
brpoplpush s b 0
brpoplpush b s 0
blmove s b left left abc
blmpop 0 1 s left
rpush b x
blmpop 0 2 b s left
""",
}

GENERIC = """
rpush l a b c
type l
object encoding l
debug digest-value l
exists l
expire l 100
ttl l
rpush l d
lpop l
ttl l
persist l
ttl l
rename l m
exists l
lrange m 0 -1
copy m n
lrange n 0 -1
copy m n
copy m n replace
rpush n x
lrange m 0 -1
move n 1
exists n
select 1
lrange n 0 -1
rpush n y
select 0
move m 1
scan 0 type list
scan 0 type string
set s x
type s
rename s m
type m
rpush n a
renamenx n m
rename n m
lrange m 0 -1
del m
exists m
rpush p 1
pexpire p 1
debug sleep 0.01
exists p
lpush p 1
ttl p
dbsize
"""


def parse(line: str) -> list[bytes]:
    return [a.encode() for a in shlex.split(line)]


def run_script(pair: Pair, script: str) -> None:
    pair.reset()
    for line in script.strip().splitlines():
        if line.startswith("scan "):
            pair.run("SCAN*", *parse(line)[2:])
        else:
            pair.run(*parse(line))
    pair.check_state()
    pair.assert_clean()


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_matches_redis(r: redis.Redis, rr: redis.Redis, name: str, resp: int) -> None:
    with Pair.from_clients(r, rr, resp) as pair:
        run_script(pair, SCRIPTS[name])


@pytest.mark.parametrize("resp", [2, 3])
def test_generic_commands_match_redis(r: redis.Redis, rr: redis.Redis, resp: int) -> None:
    with Pair.from_clients(r, rr, resp) as pair:
        run_script(pair, GENERIC)


def test_wrongtype_changes_nothing(r: redis.Redis) -> None:
    r.set("s", "v")
    for args in (
        ("lpush", "s", "a"),
        ("rpushx", "s", "a"),
        ("linsert", "s", "before", "a", "b"),
        ("lset", "s", "0", "a"),
        ("lrem", "s", "0", "a"),
        ("ltrim", "s", "0", "1"),
        ("lmove", "s", "d", "left", "left"),
        ("blpop", "s", "0"),
    ):
        with pytest.raises(redis.ResponseError, match=r"^WRONGTYPE"):
            r.execute_command(*args)
    r.rpush("l", "x")
    with pytest.raises(redis.ResponseError, match=r"^WRONGTYPE"):
        r.lmove("l", "s", "LEFT", "LEFT")
    assert r.get("s") == b"v" and r.lrange("l", 0, -1) == [b"x"] and not r.exists("d")


def test_command_metadata_matches_redis(r: redis.Redis, rr: redis.Redis) -> None:
    names = [
        *("lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "lindex", "linsert", "llen"),
        *("lrange", "lrem", "lset", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop", "blpop"),
        *("brpop", "blmove", "brpoplpush", "blmpop"),
    ]
    with Pair.from_clients(r, rr) as pair:
        for name in names:
            mine, theirs = pair.both("COMMAND", "INFO", name)
            assert mine[0][:6] == theirs[0][:6], name
            assert sorted(mine[0][6]) == sorted(theirs[0][6]), name
            assert mine[0][7:] == theirs[0][7:], name
        for args in (
            ["lmpop", "2", "a", "b", "left"],
            ["blmpop", "0", "3", "a", "b", "c", "right", "count", "2"],
            ["blpop", "a", "b", "0"],
            ["lmove", "a", "b", "left", "right"],
        ):
            assert (
                pair.both("COMMAND", "GETKEYS", *args)[0]
                == pair.both("COMMAND", "GETKEYS", *args)[1]
            ), args


# --- larger lists: both sides of middle operations --------------------------------------------
def _model_check(r: redis.Redis, key: str, model: list[bytes]) -> None:
    assert r.llen(key) == len(model)
    assert r.lrange(key, 0, -1) == model
    if model:
        assert r.lindex(key, 0) == model[0] and r.lindex(key, -1) == model[-1]
        assert r.lindex(key, len(model) // 2) == model[len(model) // 2]


def test_middle_operations_on_both_sides(r: redis.Redis) -> None:
    model = [b"%d" % i for i in range(200)]
    r.rpush("l", *model)
    # LINSERT near the head (shifts the head side) and near the tail (shifts the tail side)
    for pivot, where in ((b"3", "BEFORE"), (b"5", "AFTER"), (b"190", "BEFORE"), (b"198", "AFTER")):
        i = model.index(pivot)
        model.insert(i if where == "BEFORE" else i + 1, b"ins-" + pivot)
        assert r.linsert("l", where, pivot, b"ins-" + pivot) == len(model)
        _model_check(r, "l", model)
    # LREM removing near the head, near the tail, and spread out
    r.rpush("l", b"x")
    r.lpush("l", b"x")
    model = [b"x", *model, b"x"]
    for count, elem in ((1, b"x"), (-1, b"x"), (0, b"ins-3"), (0, b"ins-198")):
        removed = 0
        limit = abs(count) or len(model)
        idx = range(len(model)) if count >= 0 else range(len(model) - 1, -1, -1)
        gone = []
        for i in idx:
            if model[i] == elem and removed < limit:
                gone.append(i)
                removed += 1
        model = [v for i, v in enumerate(model) if i not in gone]
        assert r.lrem("l", count, elem) == removed
        _model_check(r, "l", model)
    spread = [b"%d" % i for i in range(0, 200, 7)]
    r.rpush("l", *spread[:3])
    model += spread[:3]
    for v in spread:
        n = model.count(v)
        assert r.lrem("l", 0, v) == n
        model = [m for m in model if m != v]
    _model_check(r, "l", model)
    # LSET everywhere, LTRIM from both ends
    for i in (0, 1, len(model) // 2, -2, -1):
        model[i] = b"set-%d" % i
        assert r.lset("l", i, model[i])
    _model_check(r, "l", model)
    assert r.ltrim("l", 10, -20)
    model = model[10 : len(model) - 19]
    _model_check(r, "l", model)
    assert r.lpos("l", model[-1]) == len(model) - 1
    assert r.lpos("l", model[0], maxlen=1) == 0
    assert r.lpos("l", model[-1], maxlen=1) is None


def test_pops_many(r: redis.Redis) -> None:
    items = [b"%d" % i for i in range(1000)]
    r.rpush("l", *items)
    assert r.lpop("l", 10) == items[:10]
    assert r.rpop("l", 10) == items[-10:][::-1]
    assert r.lrange("l", 0, -1) == items[10:-10]
    assert r.execute_command("LMPOP", 1, "l", "RIGHT", "COUNT", 5) == [b"l", items[-15:-10][::-1]]
    assert r.lpop("l", 10_000) == items[10:-15]
    assert not r.exists("l")


def test_push_keeps_ttl_and_pop_to_empty_deletes(r: redis.Redis) -> None:
    r.rpush("l", "a")
    r.expire("l", 100)
    r.lpush("l", "b")
    r.lset("l", 0, "c")
    r.linsert("l", "AFTER", "c", "d")
    assert 0 < r.ttl("l") <= 100
    r.ltrim("l", 0, 0)
    assert 0 < r.ttl("l") <= 100
    assert r.lpop("l") == b"c"
    assert r.exists("l") == 0
    r.rpush("l", "new")
    assert r.ttl("l") == -1


def test_expired_list_is_gone(r: redis.Redis) -> None:
    r.rpush("l", "a", "b")
    r.pexpire("l", 30)
    import time

    time.sleep(0.06)
    assert r.llen("l") == 0
    assert r.lrange("l", 0, -1) == []
    assert r.rpush("l", "c") == 1
    assert r.lrange("l", 0, -1) == [b"c"]


def test_binary_and_empty_items(r: redis.Redis) -> None:
    items = [b"", b"\x00", b"\xff" * 3, b"a\r\nb", b"x" * 100_000]
    r.rpush("l", *items)
    assert r.lrange("l", 0, -1) == items
    assert r.lpos("l", b"") == 0
    assert r.lrem("l", 0, b"\x00") == 1
    assert r.lrange("l", 0, -1) == [items[0], *items[2:]]


# --- DUMP / RESTORE ------------------------------------------------------------------------------
def frame(body: bytes, version: int = 10) -> bytes:
    data = body + version.to_bytes(2, "little")
    return data + crc64(data).to_bytes(8, "little")


OLD_PAYLOADS = {
    # type 10, ziplist: "a", 1 (immediate), 300 (int16), -1 (int8)
    "ziplist": b"\x0a\x17" + bytes.fromhex("1700000013000000040000016103f202c02c0104feffff"),
    # type 1, linked list: "x", 5 (INT8), "yz"
    "linked": b"\x01\x03\x01x\xc0\x05\x02yz",
    # type 14, quicklist (v1) of ziplists [a, 1] and [b]
    "quicklist-v1": b"\x0e\x02\x10"
    + bytes.fromhex("100000000d000000020000016103f2ff")
    + b"\x0e"
    + bytes.fromhex("0e0000000a0000000100000162ff"),
}


def _same_list(r: redis.Redis, rr: redis.Redis, key: str, key2: str | None = None) -> None:
    key2 = key2 or key
    assert r.lrange(key, 0, -1) == rr.lrange(key2, 0, -1)
    assert r.execute_command("DEBUG", "DIGEST-VALUE", key) == rr.execute_command(
        "DEBUG", "DIGEST-VALUE", key2
    )


@pytest.mark.parametrize("name", sorted(OLD_PAYLOADS))
def test_restore_old_payloads(r: redis.Redis, rr: redis.Redis, name: str) -> None:
    payload = frame(OLD_PAYLOADS[name], version=9)
    assert rr.restore("k", 0, payload) and r.restore("k", 0, payload)
    _same_list(r, rr, "k")
    rr.restore("back", 0, r.dump("k"))
    _same_list(r, rr, "k", "back")


def _fill_small(c: redis.Redis) -> None:
    c.rpush("k", b"a", b"1", b"-1", b"300", b"-70000", b"9223372036854775807", b"", b"\x00\xff")


def _fill_big(c: redis.Redis) -> None:
    c.rpush("k", *[b"element-%05d" % i for i in range(3000)], b"y" * 10000, b"tail")


def _fill_compressed(c: redis.Redis) -> None:
    c.rpush("k", *[b"compressible value number %d" % (i % 7) for i in range(5000)])


def _fill_plain(c: redis.Redis) -> None:
    c.rpush("k", b"small", b"p" * 500, b"small2", b"q" * 300)


FILLS = {
    "small": _fill_small,
    "big": _fill_big,
    "compressed": _fill_compressed,
    "plain": _fill_plain,
}


@pytest.mark.parametrize("name", sorted(FILLS))
def test_dump_restore_both_ways(r: redis.Redis, rr: redis.Redis, name: str) -> None:
    if name == "compressed":
        rr.config_set("list-compress-depth", 1)
    if name == "plain":
        rr.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", 100)
    try:
        FILLS[name](rr)
        payload = rr.dump("k")
    finally:
        rr.config_set("list-compress-depth", 0)
        rr.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1gb")
    assert r.restore("k", 0, payload)
    _same_list(r, rr, "k")
    assert r.object("encoding", "k") == rr.object("encoding", "k") == b"quicklist"
    ours = r.dump("k")
    assert rr.restore("back", 0, ours)
    _same_list(r, rr, "k", "back")
    # the restored list is a normal list: it grows and shrinks at both ends
    r.lpush("k", "head")
    rr.lpush("k", "head")
    r.rpop("k")
    rr.rpop("k")
    _same_list(r, rr, "k")


def test_restore_replaces_and_keeps_ttl_rules(r: redis.Redis, rr: redis.Redis) -> None:
    _fill_small(rr)
    payload = rr.dump("k")
    r.set("k", "string")
    with pytest.raises(redis.ResponseError, match="BUSYKEY"):
        r.restore("k", 0, payload)
    assert r.restore("k", 5000, payload, replace=True)
    assert 0 < r.pttl("k") <= 5000
    assert r.lrange("k", 0, -1) == rr.lrange("k", 0, -1)
    r.rpush("old", "x", "y", "z")
    r.restore("old", 0, payload, replace=True)
    assert r.lrange("old", 0, -1) == rr.lrange("k", 0, -1)
