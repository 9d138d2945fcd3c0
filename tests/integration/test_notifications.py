"""Keyspace notifications (notify-keyspace-events) on a real pikadb: the setting, the
keyspace / keyevent channels, event classes, Redis 7.0's event names for each command family,
expiry (lazy and active), "new", and multi-database commands. The expected events are what
redis-server 7.0.15 publishes for the same commands (tests/differential/test_pubsub.py checks
random command mixes against a live redis-server)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.support.raw_resp import RawClient, plain
from tests.support.servers import PikaServer


class Events:
    """A subscriber to every keyspace and keyevent channel of every database."""

    def __init__(self, port: int, pattern: str = "__key*__:*") -> None:
        self.c = RawClient(port)
        assert plain(self.c.call("PSUBSCRIBE", pattern))[0] == b"psubscribe"

    def take(self) -> list[tuple[bytes, bytes]]:
        """(channel, payload) of every message received so far."""
        return [(m[2], m[3]) for m in map(plain, self.c.sync())]

    def keyevents(self) -> list[tuple[str, str]]:
        """(event, key) of the __keyevent@<db>__ messages, in order."""
        out = []
        for channel, key in self.take():
            if channel.startswith(b"__keyevent@"):
                out.append((channel.split(b":", 1)[1].decode(), key.decode()))
        return out

    def close(self) -> None:
        self.c.close()


@pytest.fixture
def events(pika: PikaServer, r: redis.Redis) -> Iterator[Events]:
    r.config_set("notify-keyspace-events", "KEA")
    ev = Events(pika.port)
    yield ev
    ev.close()
    r.config_set("notify-keyspace-events", "")


def run(r: redis.Redis, *cmds: tuple[Any, ...]) -> None:
    for cmd in cmds:
        try:
            r.execute_command(*cmd)
        except redis.ResponseError:
            pass


# --- the setting ---------------------------------------------------------------------------
def test_off_by_default(pika: PikaServer, r: redis.Redis) -> None:
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": ""}
    ev = Events(pika.port)
    r.set("k", "v")
    r.delete("k")
    assert ev.take() == []
    ev.close()


def test_setting_parses_and_renders_like_redis(r: redis.Redis) -> None:
    cases = {"KEA": "AKE", "Ex": "xE", "nKE": "nKE", "AKEm": "AKEm", "g$lshzxetdKE": "AKE"}
    try:
        for value, shown in cases.items():
            r.config_set("notify-keyspace-events", value)
            assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == shown
        with pytest.raises(redis.ResponseError) as exc:
            r.config_set("notify-keyspace-events", "KEAQ")
        assert str(exc.value) == (
            "CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
        )
    finally:
        r.config_set("notify-keyspace-events", "")


def test_started_with_the_setting(make_server: Any) -> None:
    srv = make_server("--set", "notify-keyspace-events=El")
    ev = Events(srv.port)
    c = srv.client()
    c.rpush("l", "a")
    c.set("s", "1")  # not in class l
    assert ev.take() == [(b"__keyevent@0__:rpush", b"l")]
    ev.close()


def test_keyspace_and_keyevent_channels(pika: PikaServer, r: redis.Redis) -> None:
    ev = Events(pika.port)
    try:
        r.config_set("notify-keyspace-events", "K$")
        r.set("k", "v")
        r.lpush("l", "x")  # class l is off
        assert ev.take() == [(b"__keyspace@0__:k", b"set")]
        r.config_set("notify-keyspace-events", "E$")
        r.set("k", "v")
        assert ev.take() == [(b"__keyevent@0__:set", b"k")]
        r.config_set("notify-keyspace-events", "KE$")
        r.execute_command("SELECT", 0)
        r.set("k", "v")
        assert ev.take() == [(b"__keyspace@0__:k", b"set"), (b"__keyevent@0__:set", b"k")]
        r.config_set("notify-keyspace-events", "$")  # no K nor E: nothing
        r.set("k", "v")
        r.config_set("notify-keyspace-events", "KE")  # no class: nothing
        r.set("k", "v")
        assert ev.take() == []
    finally:
        r.config_set("notify-keyspace-events", "")
        ev.close()


# --- event names per family ------------------------------------------------------------------
FAMILIES: dict[str, tuple[list[tuple[Any, ...]], list[tuple[str, str]]]] = {
    "strings": (
        [
            ("SET", "a", "1"),
            ("SET", "a", "2", "NX"),  # not set: nothing
            ("SET", "b", "1", "EX", "100"),
            ("SET", "b", "2", "KEEPTTL"),
            ("SETEX", "c", "100", "v"),
            ("PSETEX", "c", "100000", "v"),
            ("SETNX", "d", "1"),
            ("SETNX", "d", "1"),
            ("GETSET", "d", "2"),
            ("MSET", "e", "1", "f", "2"),
            ("MSETNX", "e", "1", "g", "2"),
            ("MSETNX", "g", "1", "h", "2"),
            ("APPEND", "a", "x"),
            ("SETRANGE", "a", "0", "y"),
            ("SETRANGE", "a", "0", ""),  # nothing written: nothing
            ("INCR", "n"),
            ("DECRBY", "n", "5"),
            ("INCRBYFLOAT", "n", "1.5"),
            ("GETDEL", "n"),
            ("GETEX", "a", "EX", "100"),
            ("GETEX", "a", "PERSIST"),
            ("GETEX", "a", "PERSIST"),  # no expire left: nothing
            ("GETEX", "b", "PXAT", "1"),
        ],
        [
            ("set", "a"),
            ("set", "b"),
            ("expire", "b"),
            ("set", "b"),
            ("set", "c"),
            ("expire", "c"),
            ("set", "c"),
            ("expire", "c"),
            ("set", "d"),
            ("set", "d"),
            ("set", "e"),
            ("set", "f"),
            ("set", "g"),
            ("set", "h"),
            ("append", "a"),
            ("setrange", "a"),
            ("incrby", "n"),
            ("incrby", "n"),
            ("incrbyfloat", "n"),
            ("del", "n"),
            ("expire", "a"),
            ("persist", "a"),
            ("del", "b"),
        ],
    ),
    "generic": (
        [
            ("SET", "k", "1"),
            ("EXPIRE", "k", "100"),
            ("EXPIRE", "k", "50", "GT"),  # not applied: nothing
            ("PERSIST", "k"),
            ("PERSIST", "k"),
            ("RENAME", "k", "k"),
            ("RENAME", "k", "k2"),
            ("SET", "k3", "v"),
            ("RENAMENX", "k3", "k2"),
            ("COPY", "k2", "k4"),
            ("COPY", "k2", "k4"),
            ("DEL", "k2", "nope", "k2", "k4"),
            ("UNLINK", "k3"),
            ("SET", "k5", "v"),
            ("PEXPIRE", "k5", "0"),
        ],
        [
            ("set", "k"),
            ("expire", "k"),
            ("persist", "k"),
            ("rename_from", "k"),
            ("rename_to", "k2"),
            ("set", "k3"),
            ("copy_to", "k4"),
            ("del", "k2"),
            ("del", "k4"),
            ("del", "k3"),
            ("set", "k5"),
            ("del", "k5"),
        ],
    ),
    "lists": (
        [
            ("RPUSH", "l", "a", "b", "c"),
            ("LPUSHX", "nope", "a"),
            ("LPOP", "l", "0"),
            ("LPOP", "l", "2"),
            ("RPOP", "l"),
            ("RPUSH", "l", "a", "b", "c"),
            ("LINSERT", "l", "BEFORE", "zz", "x"),
            ("LINSERT", "l", "BEFORE", "b", "x"),
            ("LSET", "l", "0", "y"),
            ("LREM", "l", "0", "zz"),
            ("LREM", "l", "0", "x"),
            ("LTRIM", "l", "0", "-1"),
            ("RPOPLPUSH", "l", "l2"),
            ("LMOVE", "l2", "l", "LEFT", "LEFT"),
            ("LMPOP", "1", "l", "RIGHT", "COUNT", "5"),
            ("RPUSH", "q", "1"),
            ("BLPOP", "q", "1"),
        ],
        [
            ("rpush", "l"),
            ("lpop", "l"),
            ("rpop", "l"),
            ("del", "l"),
            ("rpush", "l"),
            ("linsert", "l"),
            ("lset", "l"),
            ("lrem", "l"),
            ("ltrim", "l"),
            ("lpush", "l2"),
            ("rpop", "l"),
            ("lpush", "l"),
            ("lpop", "l2"),
            ("del", "l2"),
            ("rpop", "l"),
            ("del", "l"),
            ("rpush", "q"),
            ("lpop", "q"),
            ("del", "q"),
        ],
    ),
    "hashes": (
        [
            ("HSET", "h", "a", "1", "b", "2"),
            ("HSET", "h", "a", "1"),
            ("HSETNX", "h", "a", "2"),
            ("HSETNX", "h", "c", "3"),
            ("HMSET", "h", "d", "4"),
            ("HDEL", "h", "zz"),
            ("HINCRBY", "h", "x", "1"),
            ("HINCRBYFLOAT", "h", "y", "1.5"),
            ("HDEL", "h", "a", "b", "c", "d", "x", "y"),
        ],
        [
            ("hset", "h"),
            ("hset", "h"),
            ("hset", "h"),
            ("hset", "h"),
            ("hincrby", "h"),
            ("hincrbyfloat", "h"),
            ("hdel", "h"),
            ("del", "h"),
        ],
    ),
    "sets": (
        [
            ("SADD", "s", "1", "2", "3"),
            ("SADD", "s", "1"),
            ("SREM", "s", "9"),
            ("SREM", "s", "1"),
            ("SPOP", "s", "5"),
            ("SADD", "s", "1", "2"),
            ("SADD", "t", "2"),
            ("SMOVE", "s", "t", "2"),  # t has it already: no sadd
            ("SMOVE", "s", "t", "1"),
            ("SMOVE", "t", "t", "2"),
            ("SINTERSTORE", "d", "t", "nope"),
            ("SUNIONSTORE", "d", "t"),
            ("SDIFFSTORE", "d", "t", "t"),
            ("SDIFFSTORE", "d", "t", "t"),
        ],
        [
            ("sadd", "s"),
            ("srem", "s"),
            ("spop", "s"),
            ("del", "s"),
            ("sadd", "s"),
            ("sadd", "t"),
            ("srem", "s"),
            ("srem", "s"),
            ("del", "s"),
            ("sadd", "t"),
            ("sunionstore", "d"),
            ("del", "d"),
        ],
    ),
    "zsets": (
        [
            ("ZADD", "z", "1", "a", "2", "b"),
            ("ZADD", "z", "1", "a"),  # unchanged: nothing
            ("ZADD", "z", "INCR", "0", "a"),
            ("ZADD", "z", "INCR", "1", "a"),
            ("ZINCRBY", "z", "1", "a"),
            ("ZREM", "z", "nope"),
            ("ZREM", "z", "a"),
            ("ZADD", "z", "1", "a", "3", "c"),
            ("ZREMRANGEBYSCORE", "z", "1", "1"),
            ("ZREMRANGEBYRANK", "z", "0", "0"),
            ("ZREMRANGEBYLEX", "z", "-", "+"),
            ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
            ("ZPOPMIN", "z"),
            ("ZPOPMAX", "z", "5"),
            ("ZADD", "z", "1", "a"),
            ("ZADD", "y", "1", "a"),
            ("ZUNIONSTORE", "d", "2", "z", "y"),
            ("ZINTERSTORE", "d", "1", "nope"),
            ("ZRANGESTORE", "d2", "z", "0", "-1"),
            ("ZRANGESTORE", "d2", "nope", "0", "-1"),
            ("ZMPOP", "1", "z", "MIN"),
            ("BZPOPMIN", "y", "1"),
        ],
        [
            ("zadd", "z"),
            ("zincr", "z"),
            ("zincr", "z"),
            ("zrem", "z"),
            ("zadd", "z"),
            ("zremrangebyscore", "z"),
            ("zremrangebyrank", "z"),
            ("zremrangebylex", "z"),
            ("del", "z"),
            ("zadd", "z"),
            ("zpopmin", "z"),
            ("zpopmax", "z"),
            ("del", "z"),
            ("zadd", "z"),
            ("zadd", "y"),
            ("zunionstore", "d"),
            ("del", "d"),
            ("zrangestore", "d2"),
            ("del", "d2"),
            ("zpopmin", "z"),
            ("del", "z"),
            ("zpopmin", "y"),
            ("del", "y"),
        ],
    ),
    # events checked against redis-server 7.0.15 with the same commands
    "geo_hll_sort": (
        [
            ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "C"),
            ("GEOADD", "g", "13.361389", "38.115556", "Palermo"),
            ("GEOADD", "g", "XX", "CH", "13.0", "38.0", "Palermo"),
            ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gs"),
            ("GEOSEARCHSTORE", "gs2", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
            ("GEOSEARCHSTORE", "gs2", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
            ("GEORADIUS", "nope", "15", "37", "200", "km", "STORE", "gs"),
            ("PFADD", "h", "a", "b"),
            ("PFADD", "h", "a"),
            ("PFADD", "h2"),
            ("PFMERGE", "h3", "h", "h2"),
            ("RPUSH", "l", "3", "1", "2"),
            ("SORT", "l", "STORE", "sl"),
            ("SORT", "nope", "STORE", "sl"),
            ("SORT", "nope", "STORE", "sl"),
        ],
        [
            ("zadd", "g"),
            ("zadd", "g"),
            ("georadiusstore", "gs"),
            ("geosearchstore", "gs2"),
            ("del", "gs2"),
            ("del", "gs"),
            ("pfadd", "h"),
            ("pfadd", "h2"),
            ("pfadd", "h3"),
            ("rpush", "l"),
            ("sortstore", "sl"),
            ("del", "sl"),
        ],
    ),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_event_names(events: Events, r: redis.Redis, family: str) -> None:
    cmds, expected = FAMILIES[family]
    run(r, *cmds)
    assert events.keyevents() == expected


def test_keyspace_payload_is_the_event(events: Events, r: redis.Redis) -> None:
    r.rpush("l", "a")
    assert events.take() == [(b"__keyspace@0__:l", b"rpush"), (b"__keyevent@0__:rpush", b"l")]


def test_restore(events: Events, r: redis.Redis) -> None:
    r.set("x", "1")
    payload = r.dump("x")
    r.restore("y", 0, payload)
    r.restore("y", 0, payload, replace=True)
    r.restore("y", int(time.time() * 1000) - 1000, payload, replace=True, absttl=True)
    assert events.keyevents() == [("set", "x"), ("restore", "y"), ("restore", "y"), ("del", "y")]


def test_move_and_copy_name_both_databases(events: Events, r: redis.Redis) -> None:
    r.set("k", "v")
    r.execute_command("COPY", "k", "c", "DB", "2")
    r.move("k", 3)
    assert events.take()[2:] == [
        (b"__keyspace@2__:c", b"copy_to"),
        (b"__keyevent@2__:copy_to", b"c"),
        (b"__keyspace@0__:k", b"move_from"),
        (b"__keyevent@0__:move_from", b"k"),
        (b"__keyspace@3__:k", b"move_to"),
        (b"__keyevent@3__:move_to", b"k"),
    ]
    r.execute_command("SELECT", 3)
    r.set("z", "1")
    assert events.take() == [(b"__keyspace@3__:z", b"set"), (b"__keyevent@3__:set", b"z")]
    r.execute_command("SELECT", 0)


# --- expiry ------------------------------------------------------------------------------------
def test_expired_on_access(pika: PikaServer, r: redis.Redis) -> None:
    r.config_set("notify-keyspace-events", "Ex")
    r.config_set("active-expire", "no")
    ev = Events(pika.port)
    try:
        r.set("k", "v", px=30)
        time.sleep(0.1)
        assert ev.take() == []
        assert r.get("k") is None
        assert ev.take() == [(b"__keyevent@0__:expired", b"k")]
        r.set("k", "v", px=30)
        time.sleep(0.1)
        r.lpush("k", "x")  # a write to an expired key: expired first
        assert ev.take() == [(b"__keyevent@0__:expired", b"k")]
    finally:
        r.config_set("active-expire", "yes")
        r.config_set("notify-keyspace-events", "")
        ev.close()


def test_expired_by_active_expiry(pika: PikaServer, r: redis.Redis) -> None:
    r.config_set("notify-keyspace-events", "KEx")
    ev = Events(pika.port)
    try:
        r.set("a", "v", px=20)
        r.hset("b", "f", "v")
        r.pexpire("b", 20)
        deadline = time.monotonic() + 5
        got: list[tuple[bytes, bytes]] = []
        while len(got) < 4 and time.monotonic() < deadline:
            got += ev.take()
            time.sleep(0.05)
        assert sorted(got) == [
            (b"__keyevent@0__:expired", b"a"),
            (b"__keyevent@0__:expired", b"b"),
            (b"__keyspace@0__:a", b"expired"),
            (b"__keyspace@0__:b", b"expired"),
        ]
        assert r.dbsize() == 0
    finally:
        r.config_set("notify-keyspace-events", "")
        ev.close()


def test_set_with_a_past_time(events: Events, r: redis.Redis) -> None:
    """Redis keeps the key a moment and expires it; here it is expired at once."""
    r.set("k", "v", exat=1)
    assert events.keyevents() == [("set", "k"), ("expire", "k"), ("expired", "k")]
    assert r.exists("k") == 0


# --- "new" ---------------------------------------------------------------------------------------
def test_new_events(pika: PikaServer, r: redis.Redis) -> None:
    r.config_set("notify-keyspace-events", "Eg$lshzn")
    ev = Events(pika.port)
    try:
        run(
            r,
            ("SET", "a", "1"),
            ("SET", "a", "2"),  # exists: no new
            ("LPUSH", "l", "x"),
            ("LPUSH", "l", "y"),
            ("RENAME", "a", "l"),  # Redis deletes l and adds it again
            ("SADD", "s", "m"),
            ("INCR", "n"),
            ("COPY", "n", "c"),
        )
        assert ev.keyevents() == [
            ("new", "a"),
            ("set", "a"),
            ("set", "a"),
            ("new", "l"),
            ("lpush", "l"),
            ("lpush", "l"),
            ("new", "l"),
            ("rename_from", "a"),
            ("rename_to", "l"),
            ("new", "s"),
            ("sadd", "s"),
            ("new", "n"),
            ("incrby", "n"),
            ("new", "c"),
            ("copy_to", "c"),
        ]
    finally:
        r.config_set("notify-keyspace-events", "")
        ev.close()


def test_new_events_with_all_classes(pika: PikaServer, r: redis.Redis) -> None:
    r.config_set("notify-keyspace-events", "KEAn")
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
    ev = Events(pika.port)
    try:
        r.set("a", "1")
        assert ev.keyevents() == [("new", "a"), ("set", "a")]
    finally:
        r.config_set("notify-keyspace-events", "")
        ev.close()


def test_blocked_pop_served_by_a_push(pika: PikaServer, events: Events, r: redis.Redis) -> None:
    waiter = RawClient(pika.port)
    waiter.send("BLPOP", "q", "5")
    time.sleep(0.2)
    r.rpush("q", "v")
    assert plain(waiter.read()) == [b"q", b"v"]
    assert events.keyevents() == [("rpush", "q"), ("lpop", "q"), ("del", "q")]
    waiter.close()


def test_expiry_events_survive_debug_reload(pika: PikaServer, r: redis.Redis) -> None:
    r.config_set("notify-keyspace-events", "Exg$n")
    r.config_set("active-expire", "no")
    ev = Events(pika.port)
    try:
        r.execute_command("DEBUG", "RELOAD")
        r.set("k", "v", px=30)
        time.sleep(0.1)
        assert r.get("k") is None
        assert ev.keyevents() == [("new", "k"), ("set", "k"), ("expire", "k"), ("expired", "k")]
    finally:
        r.config_set("active-expire", "yes")
        r.config_set("notify-keyspace-events", "")
        ev.close()


KEYMISS_CASES: list[tuple[Any, ...]] = [
    ("GET", "nokey"),
    ("MGET", "a", "nokey", "nokey2"),
    ("EXISTS", "nokey", "a"),
    ("TYPE", "nokey"),
    ("TTL", "nokey"),
    ("STRLEN", "nokey"),
    ("LRANGE", "nolist", "0", "-1"),
    ("HGET", "nohash", "f"),
    ("SMEMBERS", "noset"),
    ("ZSCORE", "nozset", "m"),
    ("SUNION", "a-set", "noset"),
    ("OBJECT", "ENCODING", "nokey"),
    ("SET", "written", "1"),
    ("INCR", "counter"),
    ("GET", "a"),
]


@pytest.mark.parametrize("use_redis", [False, True], ids=["pikadb", "redis"])
def test_keymiss_events(
    pika: PikaServer, r: redis.Redis, rr: redis.Redis, real_redis: Any, use_redis: bool
) -> None:
    """ "keymiss" (class m) for keys read-only commands did not find, not for writes."""
    client, port = (rr, real_redis.port) if use_redis else (r, pika.port)
    client.set("a", "1")
    client.sadd("a-set", "x")
    client.config_set("notify-keyspace-events", "Em")
    ev = Events(port)
    try:
        run(client, *KEYMISS_CASES)
        client.ping()
        assert ev.keyevents() == [
            ("keymiss", k)
            for k in (
                *("nokey", "nokey", "nokey2", "nokey", "nokey", "nokey", "nokey"),
                *("nolist", "nohash", "noset", "nozset", "noset"),
            )
        ]
    finally:
        client.config_set("notify-keyspace-events", "")
        ev.close()
