"""Generic keyspace commands through redis-py: DEL, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME,
COPY, MOVE and Pika's SCANX / PKSCANRANGE / PKRSCANRANGE / PKPATTERNMATCHDEL. Where cheap, the
same commands run against a real redis-server (`rr`) and the replies are compared."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

Cmd = Callable[..., object]


def both(r: redis.Redis, rr: redis.Redis, *args: object) -> object:
    """Run a command on pikadb and on redis-server; the replies (or errors) must agree."""

    def run(c: redis.Redis) -> object:
        try:
            return c.execute_command(*args)
        except redis.ResponseError as e:
            return ("error", str(e))

    a, b = run(r), run(rr)
    assert a == b, (args, a, b)
    return a


# --- DEL / UNLINK / EXISTS / TOUCH / TYPE ------------------------------------------------
def test_del_unlink_exists_touch(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.mset({"a": 1, "b": 2, "c": 3})
    both(r, rr, "EXISTS", "a", "a", "b", "nope")
    both(r, rr, "TOUCH", "a", "a", "nope")
    both(r, rr, "DEL", "a", "a", "nope")
    both(r, rr, "UNLINK", "b", "c", "b")
    both(r, rr, "EXISTS", "a", "b", "c")
    both(r, rr, "DEL")
    both(r, rr, "EXISTS")


def test_type(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("s", "v")
    assert both(r, rr, "TYPE", "s") == b"string"
    assert both(r, rr, "TYPE", "nope") == b"none"
    r.pexpire("s", 1)
    rr.pexpire("s", 1)
    time.sleep(0.02)
    assert both(r, rr, "TYPE", "s") == b"none"


# --- KEYS --------------------------------------------------------------------------------
KEYNAMES = [
    "foo",
    "foobar",
    "fo",
    "f?o",
    "hello",
    "hallo",
    "hxllo",
    "hllo",
    "heeeello",
    "a\\b",
    "ab",
    "{u1}:x",
    "{u1}:y",
    "{u2}:x",
    "x[y",
    "\xe9t\xe9",
]


@pytest.mark.parametrize(
    "pattern",
    [
        "*",
        "foo*",
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-b]llo",
        "f\\?o",
        "a\\b",
        "{u1}:*",
        "*x",
        "x[[]y",
        "nomatch",
        "foo",
        "",
        "[",
        "\\",
        "*\xe9*",
    ],
)
def test_keys_matches_redis(r: redis.Redis, rr: redis.Redis, pattern: str) -> None:
    for c in (r, rr):
        c.mset({k: "v" for k in KEYNAMES})
    assert sorted(r.keys(pattern)) == sorted(rr.keys(pattern))


def test_keys_arity_is_redis(r: redis.Redis, rr: redis.Redis) -> None:
    both(r, rr, "KEYS", "*", "string")


def test_keys_hides_expired(r: redis.Redis) -> None:
    r.set("live", "1")
    r.set("dead", "1", px=1)
    time.sleep(0.02)
    assert r.keys("*") == [b"live"]


# --- SCAN --------------------------------------------------------------------------------
def scan_all(c: redis.Redis, **kw: object) -> list[bytes]:
    out: list[bytes] = []
    cursor = 0
    while True:
        cursor, items = c.scan(cursor, **kw)  # type: ignore[arg-type]
        out += items
        if cursor == 0:
            return out


def test_scan_full_iteration(r: redis.Redis) -> None:
    names = {f"key:{i}".encode() for i in range(1000)}
    r.mset({k: "v" for k in names})
    for count in (1, 7, 100, 5000):
        got = scan_all(r, count=count)
        assert len(got) == len(names) and set(got) == names
    assert set(r.scan_iter(match="key:1*")) == {k for k in names if k.startswith(b"key:1")}
    assert set(scan_all(r, match="key:99?", _type="string")) == {b"key:99%d" % i for i in range(10)}
    assert scan_all(r, _type="hash") == []


def test_scan_while_writing_returns_stable_keys(r: redis.Redis) -> None:
    stable = {f"stable:{i}".encode() for i in range(300)}
    r.mset({k: "v" for k in stable})
    seen: set[bytes] = set()
    cursor, i = 0, 0
    while True:
        cursor, items = r.scan(cursor, count=10)
        seen.update(items)
        r.set(f"new:{i}", "v")
        r.delete(f"new:{i - 3}")
        i += 1
        if cursor == 0:
            break
    assert stable <= seen


def test_scan_errors_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("k", "v")
    for args in [
        ("abc",),
        (" 1",),
        ("1a",),
        ("+",),
        ("18446744073709551616",),
        ("0", "COUNT", "0"),
        ("0", "COUNT", "abc"),
        ("0", "MATCH"),
        ("0", "TYPE"),
        ("0", "FOO", "bar"),
        ("0", "count", "-1"),
    ]:
        both(r, rr, "SCAN", *args)
    # cursors Redis accepts
    for cur in ("", "+0", "-0"):
        assert r.execute_command("SCAN", cur)[0] == 0


def test_scan_type_unknown_returns_nothing(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("k", "v")
    both(r, rr, "SCAN", "0", "TYPE", "nosuchtype")
    both(r, rr, "SCAN", "0", "TYPE", "STRING")


def test_scan_stale_cursor_still_completes(r: redis.Redis) -> None:
    r.mset({f"k{i}": "v" for i in range(200)})
    # An arbitrary cursor (token never issued) restarts its slot: the scan still ends.
    cursor = (123456 << 14) | 5000
    for _ in range(10_000):
        cursor, _ = r.scan(cursor, count=50)
        if cursor == 0:
            break
    assert cursor == 0


# --- RANDOMKEY ---------------------------------------------------------------------------
def test_randomkey(r: redis.Redis) -> None:
    assert r.randomkey() is None
    r.mset({"a": 1, "b": 2, "c": 3})
    assert {r.randomkey() for _ in range(100)} == {b"a", b"b", b"c"}
    r.set("a", "1", px=1)
    r.delete("b", "c")
    time.sleep(0.02)
    assert r.randomkey() is None


def test_randomkey_resp3(pika) -> None:  # type: ignore[no-untyped-def]
    c = pika.client(protocol=3)
    c.flushall()
    assert c.randomkey() is None
    c.close()


# --- RENAME / RENAMENX -------------------------------------------------------------------
def test_rename_semantics_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("a", "1", ex=100)
        c.set("b", "2")
    both(r, rr, "RENAME", "nope", "x")
    both(r, rr, "RENAMENX", "nope", "x")
    both(r, rr, "RENAME", "nope", "nope")
    both(r, rr, "RENAME", "a", "a")
    both(r, rr, "RENAMENX", "a", "a")
    both(r, rr, "RENAMENX", "a", "b")
    both(r, rr, "RENAME", "a", "b")
    both(r, rr, "GET", "b")
    both(r, rr, "EXISTS", "a")
    assert 95 <= r.ttl("b") <= 100
    both(r, rr, "RENAMENX", "b", "c")
    both(r, rr, "GET", "c")
    both(r, rr, "RENAME", "c")


# --- COPY / MOVE -------------------------------------------------------------------------
def test_copy_semantics_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("src", "v", ex=100)
        c.set("dst", "old")
    both(r, rr, "COPY", "src", "src")
    both(r, rr, "COPY", "nope", "nope")
    both(r, rr, "COPY", "nope", "x")
    both(r, rr, "COPY", "src", "dst")
    both(r, rr, "COPY", "src", "dst", "REPLACE")
    both(r, rr, "GET", "dst")
    assert 95 <= r.ttl("dst") <= 100
    both(r, rr, "COPY", "src", "x", "DB")
    both(r, rr, "COPY", "src", "x", "DB", "abc")
    both(r, rr, "COPY", "src", "x", "DB", "100")
    both(r, rr, "COPY", "src", "x", "DB", "-1")
    both(r, rr, "COPY", "src", "x", "DB", "4294967296")
    both(r, rr, "COPY", "src", "x", "FOO")
    both(r, rr, "COPY", "src", "src", "DB", "1")
    both(r, rr, "COPY", "src", "src", "DB", "1", "REPLACE", "REPLACE")
    for c in (r, rr):
        c.execute_command("SELECT", "1")
    both(r, rr, "GET", "src")
    both(r, rr, "TTL", "src")  # both ~100; compare loosely below
    for c in (r, rr):
        c.execute_command("SELECT", "0")


def test_move_semantics_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for c in (r, rr):
        c.set("k", "v", ex=100)
        c.set("both", "here")
        c.execute_command("SELECT", "2")
        c.set("both", "there")
        c.execute_command("SELECT", "0")
    both(r, rr, "MOVE", "k", "0")
    both(r, rr, "MOVE", "nope", "0")
    both(r, rr, "MOVE", "k", "abc")
    both(r, rr, "MOVE", "k", "100")
    both(r, rr, "MOVE", "k", "-1")
    both(r, rr, "MOVE", "k", "4294967296")
    both(r, rr, "MOVE", "nope", "2")
    both(r, rr, "MOVE", "both", "2")
    both(r, rr, "MOVE", "k", "2")
    both(r, rr, "EXISTS", "k")
    for c in (r, rr):
        c.execute_command("SELECT", "2")
    both(r, rr, "GET", "k")
    both(r, rr, "GET", "both")
    assert 95 <= r.ttl("k") <= 100
    for c in (r, rr):
        c.execute_command("SELECT", "0")


# --- Pika: SCANX / PKSCANRANGE / PKRSCANRANGE / PKPATTERNMATCHDEL -------------------------
def test_scanx(r: redis.Redis) -> None:
    keys = [f"sx_{c}" for c in "ABCDEFGHIJ"]
    r.mset({k: "v" for k in keys})
    nxt, got = r.execute_command("SCANX", "string", "", "COUNT", "3")
    assert got == [b"sx_A", b"sx_B", b"sx_C"] and nxt == b"sx_D"
    nxt, got = r.execute_command("SCANX", "string", nxt, "COUNT", "3")
    assert got == [b"sx_D", b"sx_E", b"sx_F"] and nxt == b"sx_G"
    nxt, got = r.execute_command("SCANX", "string", "sx_H")
    assert got == [b"sx_H", b"sx_I", b"sx_J"] and nxt == b""
    nxt, got = r.execute_command("SCANX", "string", "", "MATCH", "*[AEI]", "COUNT", "2")
    assert got == [b"sx_A", b"sx_E"] and nxt == b"sx_I"
    assert r.execute_command("SCANX", "hash", "") == [b"", []]
    with pytest.raises(redis.ResponseError, match="invalid DB for"):
        r.execute_command("SCANX", "nosuchtype", "")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("SCANX", "string", "", "COUNT", "0")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SCANX", "string", "", "COUNT")


def test_pkscanrange(r: redis.Redis) -> None:
    keys = {f"pk_{c}": f"val_{c}" for c in "ACEGIKMOQS"}
    r.mset(keys)
    r.set("pk_E", "x", px=1)  # expired keys never show up
    time.sleep(0.02)
    nxt, got = r.execute_command("PKSCANRANGE", "string", "pk_B", "pk_K", "LIMIT", "3")
    assert got == [b"pk_C", b"pk_G", b"pk_I"] and nxt == b"pk_K"
    nxt, got = r.execute_command("PKSCANRANGE", "string", "pk_B", "pk_K")
    assert got == [b"pk_C", b"pk_G", b"pk_I", b"pk_K"] and nxt == b""
    nxt, got = r.execute_command("PKSCANRANGE", "string_with_value", "", "pk_C")
    assert got == [b"pk_A", b"val_A", b"pk_C", b"val_C"] and nxt == b""
    nxt, got = r.execute_command("PKSCANRANGE", "string", "", "", "MATCH", "pk_[M-Z]", "LIMIT", "2")
    assert got == [b"pk_M", b"pk_O"] and nxt == b"pk_Q"
    nxt, got = r.execute_command("PKRSCANRANGE", "string", "pk_Q", "pk_D", "LIMIT", "3")
    assert got == [b"pk_Q", b"pk_O", b"pk_M"] and nxt == b"pk_K"
    nxt, got = r.execute_command("PKRSCANRANGE", "string_with_value", "", "", "LIMIT", "1")
    assert got == [b"pk_S", b"val_S"] and nxt == b"pk_Q"
    assert r.execute_command("PKSCANRANGE", "hash", "", "") == [b"", []]
    with pytest.raises(redis.ResponseError, match="error in given range"):
        r.execute_command("PKSCANRANGE", "string", "b", "a")
    with pytest.raises(redis.ResponseError, match="error in given range"):
        r.execute_command("PKRSCANRANGE", "string", "a", "b")
    with pytest.raises(redis.ResponseError, match="invalid DB for"):
        r.execute_command("PKSCANRANGE", "bad", "a", "b")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("PKSCANRANGE", "string", "a", "b", "LIMIT", "-1")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("PKSCANRANGE", "string", "a", "b", "COUNT", "1")


def test_pkpatternmatchdel(r: redis.Redis) -> None:
    r.mset({f"del:{i}": "v" for i in range(250)})
    r.set("keep", "v")
    assert r.execute_command("PKPATTERNMATCHDEL", "del:*", "100") == 100
    assert r.dbsize() == 151
    assert r.execute_command("PKPATTERNMATCHDEL", "del:*") == 150
    assert r.keys("*") == [b"keep"]
    assert r.execute_command("PKPATTERNMATCHDEL", "nothing*") == 0
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("PKPATTERNMATCHDEL", "*", "0")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("PKPATTERNMATCHDEL", "*", "1", "2")


# --- command metadata --------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "del",
        "unlink",
        "exists",
        "type",
        "touch",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "persist",
        "keys",
        "scan",
        "randomkey",
        "rename",
        "renamenx",
        "copy",
        "move",
        "dump",
        "restore",
    ],
)
def test_command_info_matches_redis(r: redis.Redis, rr: redis.Redis, name: str) -> None:
    ours = r.execute_command("COMMAND", "INFO", name)[name]
    theirs = rr.execute_command("COMMAND", "INFO", name)[name]
    for field in ("arity", "first_key_pos", "last_key_pos", "step_count"):
        assert ours[field] == theirs[field], field
    assert set(ours["flags"]) == set(theirs["flags"])
    assert set(ours["acl_categories"]) == set(theirs["acl_categories"])


# --- randomized differential run against redis-server ------------------------------------
@pytest.mark.parametrize("seed", [1, 2])
def test_random_generic_commands_match_redis(
    r: redis.Redis, rr: redis.Redis, pika: object, real_redis: object, seed: int
) -> None:
    import random

    rng = random.Random(seed)
    names = ["a", "b", "c", "{t}1", "{t}2"]

    def k() -> str:
        return rng.choice(names)

    def flags(n: int) -> list[str]:
        return rng.sample(["NX", "XX", "GT", "LT"], rng.randint(0, n))

    makers: list[Callable[[], tuple[str, ...]]] = [
        lambda: ("SET", k(), str(rng.randint(0, 9))),
        lambda: ("DEL", k(), k()),
        lambda: ("UNLINK", k()),
        lambda: ("EXISTS", k(), k(), k()),
        lambda: ("TOUCH", k(), k()),
        lambda: ("TYPE", k()),
        lambda: ("EXPIRE", k(), str(rng.choice([-1, 0, 100, 200, 300])), *flags(2)),
        lambda: ("PEXPIRE", k(), str(rng.choice([100_000, 200_000, -5])), *flags(1)),
        lambda: ("PERSIST", k()),
        lambda: ("RENAME", k(), k()),
        lambda: ("RENAMENX", k(), k()),
        lambda: (
            "COPY",
            k(),
            k(),
            *rng.choice([[], ["REPLACE"], ["DB", "1"], ["DB", "1", "REPLACE"]]),
        ),
        lambda: ("MOVE", k(), rng.choice(["0", "1"])),
        lambda: ("GET", k()),
        lambda: ("DBSIZE",),
    ]
    r1 = pika.client(db=1)  # type: ignore[attr-defined]
    rr1 = real_redis.client(db=1)  # type: ignore[attr-defined]
    for _ in range(600):
        both(r, rr, *rng.choice(makers)())
        if rng.random() < 0.1:
            assert sorted(r.keys("*")) == sorted(rr.keys("*"))
            assert sorted(r1.keys("*")) == sorted(rr1.keys("*"))
            for name in names:
                assert abs(r.ttl(name) - rr.ttl(name)) <= 1
    r1.close()
    rr1.close()
