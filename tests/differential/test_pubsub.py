"""Pub/Sub and keyspace notifications, pikadb vs a real redis-server 7.0, on the wire.

* ``test_pubsub_sequences``: three raw connections per server (a RESP2 and a RESP3 subscriber
  and a RESP2 publisher) run the same random sequence of (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE,
  PUBLISH, SPUBLISH, PUBSUB *, PING, RESET, HELLO and ordinary commands (refused in RESP2
  subscribed mode). After each step every connection is synced with a ``PING <marker>`` and
  what it received since the previous step is compared between the servers.
* ``test_keyspace_event_streams``: a random mix of string, list, hash, set, zset and generic
  commands under a random ``notify-keyspace-events`` value; a pattern subscriber on each
  server, and the message streams (and the command replies) are compared after each command.

Where Redis's order is a hash table's (UNSUBSCRIBE with no argument, several patterns matching
one channel, PUBSUB CHANNELS) the items are compared in any order; everything else exactly.

``python -m tests.differential.test_pubsub [examples]`` surveys every discrepancy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import diff_settings
from tests.support.raw_resp import RawClient, Reply
from tests.support.servers import PikaServer, RedisServer

CHANNELS = [b"a", b"b", b"ab", b"news.1", b"", b"x\x00y"]
PATTERNS = [b"a*", b"*", b"news.*", b"?b", b"[ab]", b"a", b"x\\*"]
MESSAGES = [b"m", b"", b"hello world", b"\x00\xff"]
SUBSCRIBER_CMDS = [
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "PSUBSCRIBE",
    "PUNSUBSCRIBE",
    "SSUBSCRIBE",
    "SUNSUBSCRIBE",
]


# --------------------------------------------------------------------------------------------
# Normalisation of what a connection received in one step


def _name(reply: Reply) -> bytes | None:
    """The push/array kind of a pub/sub reply (b"message", b"unsubscribe"...), else None."""
    kind, value = reply
    if kind in "*>" and isinstance(value, list) and value and value[0][0] == "$":
        return value[0][1]  # type: ignore[no-any-return]
    return None


def normalise(replies: list[Reply], unordered_unsub: bool) -> list[Any]:
    """Runs of pmessages sort (Redis walks its pattern table in hash order); after an
    argument-less unsubscribe, its confirmations compare as names + the sequence of counts."""
    out: list[Any] = []
    replies = [_mask_id(r) for r in replies]
    i = 0
    while i < len(replies):
        name = _name(replies[i])
        j = i
        while j < len(replies) and _name(replies[j]) == name:
            j += 1
        run = replies[i:j]
        if name == b"pmessage":
            out += sorted(run, key=repr)
        elif unordered_unsub and name in (b"unsubscribe", b"punsubscribe", b"sunsubscribe"):
            names = sorted(repr(r[1][1]) for r in run)
            counts = [r[1][2] for r in run]
            out.append((name, names, counts))
        else:
            out += run
        i = j
    return out


def _mask_id(reply: Reply) -> Reply:
    """HELLO's map carries the connection id, which differs between the servers."""
    kind, value = reply
    if kind == "%" and isinstance(value, list) and ("$", b"id") in value[0::2]:
        i = value.index(("$", b"id"))
        return (kind, [*value[: i + 1], (":", "<id>"), *value[i + 2 :]])
    return reply


def _sorted_array(reply: Reply) -> Any:
    kind, value = reply
    if kind == "*" and isinstance(value, list):
        return (kind, sorted(value, key=repr))
    return reply


# --------------------------------------------------------------------------------------------
# Pub/sub sequences


class Side:
    """Three connections to one server: subscribers (RESP2, RESP3) and a publisher."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.clients: list[RawClient] = []
        self.connect()

    def connect(self) -> None:
        self.close()
        self.clients = [RawClient(self.port) for _ in range(3)]
        self.clients[1].call("HELLO", 3)

    def close(self) -> None:
        for c in self.clients:
            c.close()

    def step(self, who: int, args: tuple[bytes, ...]) -> list[list[Any]]:
        self.clients[who].send(*args)
        name = args[0].upper()
        unordered_unsub = len(args) == 1 and name.endswith(b"UNSUBSCRIBE")
        got = []
        for i, c in enumerate(self.clients):
            replies = c.sync()
            if (
                i == who
                and name == b"PUBSUB"
                and args[1].upper()
                in (
                    b"CHANNELS",
                    b"SHARDCHANNELS",
                )
            ):
                replies = [_sorted_array(r) for r in replies]
            got.append(normalise(replies, unordered_unsub and i == who))
        return got


def sub_step() -> st.SearchStrategy[tuple[int, tuple[bytes, ...]]]:
    names = st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3)
    pats = st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3)
    maybe = st.one_of(st.just([]), names)
    subscriber = st.sampled_from([0, 1])
    return st.one_of(
        st.tuples(subscriber, names.map(lambda n: (b"SUBSCRIBE", *n))),
        st.tuples(subscriber, pats.map(lambda n: (b"PSUBSCRIBE", *n))),
        st.tuples(subscriber, names.map(lambda n: (b"SSUBSCRIBE", *n))),
        st.tuples(subscriber, maybe.map(lambda n: (b"UNSUBSCRIBE", *n))),
        st.tuples(subscriber, st.one_of(st.just([]), pats).map(lambda n: (b"PUNSUBSCRIBE", *n))),
        st.tuples(subscriber, maybe.map(lambda n: (b"SUNSUBSCRIBE", *n))),
        st.tuples(
            st.sampled_from([0, 1, 2, 2, 2]),
            st.tuples(
                st.sampled_from([b"PUBLISH", b"SPUBLISH"]), st.sampled_from(CHANNELS)
            ).flatmap(lambda t: st.sampled_from(MESSAGES).map(lambda m: (*t, m))),
        ),
        st.tuples(
            st.sampled_from([0, 1, 2]),
            st.sampled_from(
                [
                    (b"PING",),
                    (b"PING", b"hi"),
                    (b"GET", b"k"),
                    (b"SET", b"k", b"v"),
                    (b"PUBSUB", b"NUMPAT"),
                    (b"PUBSUB", b"CHANNELS"),
                    (b"PUBSUB", b"CHANNELS", b"a*"),
                    (b"PUBSUB", b"SHARDCHANNELS"),
                    (b"PUBSUB", b"NUMSUB", b"a", b"b", b"zz"),
                    (b"PUBSUB", b"SHARDNUMSUB", b"a", b"news.1"),
                    (b"CLIENT", b"REPLY", b"ON"),
                    (b"SUBSCRIBE",),
                    (b"PUBSUB", b"CHANNELS", b"a", b"b"),
                ]
            ),
        ),
        st.tuples(st.sampled_from([0, 1]), st.sampled_from([(b"RESET",), (b"HELLO", b"3")])),
    )


def run_pubsub(p: Side, q: Side, steps: list[tuple[int, tuple[bytes, ...]]]) -> list[str]:
    diffs = []
    for n, (who, args) in enumerate(steps):
        a, b = p.step(who, args), q.step(who, args)
        for i in range(3):
            if a[i] != b[i]:
                diffs.append(
                    f"step {n} client {who} {args!r}: conn {i}\n pika {a[i]}\n redis {b[i]}"
                )
        if diffs:
            break
    return diffs


@pytest.fixture(scope="module")
def sides(pika: PikaServer, real_redis: RedisServer) -> Iterator[tuple[Side, Side]]:
    p, q = Side(pika.port), Side(real_redis.port)
    yield p, q
    p.close()
    q.close()


@diff_settings(150)
@given(steps=st.lists(sub_step(), min_size=1, max_size=25))
def test_pubsub_sequences(
    sides: tuple[Side, Side], steps: list[tuple[int, tuple[bytes, ...]]]
) -> None:
    p, q = sides
    p.connect()
    q.connect()
    diffs = run_pubsub(p, q, steps)
    assert not diffs, "\n".join(diffs)


# --------------------------------------------------------------------------------------------
# Keyspace events for random command mixes

KEYS = [b"k1", b"k2", b"{t}k", b"l1", b"l2", b"h1", b"s1", b"s2", b"z1", b"z2"]
VALS = [b"1", b"v", b"", b"10", b"-2", b"1.5"]
FLAGS = ["KEA", "KEA", "Kl", "E$g", "KEgx", "El$shz", "Kh", "Ez", "Es", "Eg$lshzn"]

key = st.sampled_from(KEYS)
val = st.sampled_from(VALS)
ttl = st.sampled_from([b"100", b"1000", b"0", b"-5"])


def cmd(*parts: Any) -> st.SearchStrategy[tuple[bytes, ...]]:
    strats = [p if isinstance(p, st.SearchStrategy) else st.just(p) for p in parts]
    return st.tuples(*strats).map(
        lambda t: tuple(x for p in t for x in (p if isinstance(p, tuple) else (p,)))
    )


def some(s: st.SearchStrategy[Any], lo: int = 1, hi: int = 3) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(s, min_size=lo, max_size=hi).map(tuple)


EVENT_CMDS = st.one_of(
    cmd(b"SET", key, val),
    cmd(
        b"SET",
        key,
        val,
        st.sampled_from([(b"NX",), (b"XX",), (b"EX", b"100"), (b"KEEPTTL",), (b"GET",)]),
    ),
    cmd(st.sampled_from([b"SETNX", b"GETSET", b"APPEND"]), key, val),
    cmd(b"SETEX", key, b"100", val),
    cmd(b"SETRANGE", key, st.sampled_from([b"0", b"3"]), val),
    cmd(st.sampled_from([b"INCR", b"DECR", b"GETDEL", b"PERSIST", b"DEL", b"UNLINK"]), key),
    cmd(st.sampled_from([b"INCRBY", b"INCRBYFLOAT"]), key, val),
    cmd(b"MSET", key, val, key, val),
    cmd(b"MSETNX", key, val, key, val),
    cmd(b"GETEX", key, st.sampled_from([(b"EX", b"100"), (b"PERSIST",), (b"PXAT", b"1"), ()])),
    cmd(st.sampled_from([b"EXPIRE", b"PEXPIRE"]), key, ttl),
    cmd(b"EXPIRE", key, b"100", st.sampled_from([b"NX", b"XX", b"GT", b"LT"])),
    cmd(b"PEXPIREAT", key, b"1"),
    cmd(st.sampled_from([b"RENAME", b"RENAMENX"]), key, key),
    cmd(b"COPY", key, key, st.sampled_from([(), (b"REPLACE",), (b"DB", b"1")])),
    cmd(b"MOVE", key, b"1"),
    cmd(b"DEL", some(key)),
    cmd(st.sampled_from([b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]), key, some(val)),
    cmd(st.sampled_from([b"LPOP", b"RPOP"]), key, st.sampled_from([(), (b"1",), (b"5",), (b"0",)])),
    cmd(b"LINSERT", key, st.sampled_from([b"BEFORE", b"AFTER"]), val, val),
    cmd(b"LSET", key, st.sampled_from([b"0", b"-1", b"5"]), val),
    cmd(b"LREM", key, st.sampled_from([b"0", b"1", b"-1"]), val),
    cmd(b"LTRIM", key, st.sampled_from([b"0", b"1"]), st.sampled_from([b"-1", b"0", b"1"])),
    cmd(st.sampled_from([b"RPOPLPUSH"]), key, key),
    cmd(
        b"LMOVE",
        key,
        key,
        st.sampled_from([b"LEFT", b"RIGHT"]),
        st.sampled_from([b"LEFT", b"RIGHT"]),
    ),
    cmd(b"LMPOP", b"2", key, key, st.sampled_from([b"LEFT", b"RIGHT"]), b"COUNT", b"2"),
    cmd(st.sampled_from([b"HSET", b"HMSET"]), key, val, val),
    cmd(b"HSETNX", key, val, val),
    cmd(b"HDEL", key, some(val)),
    cmd(b"HINCRBY", key, val, b"2"),
    cmd(b"HINCRBYFLOAT", key, val, b"0.5"),
    cmd(b"SADD", key, some(val)),
    cmd(b"SREM", key, some(val)),
    cmd(b"SMOVE", key, key, val),
    cmd(st.sampled_from([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"]), key, some(key)),
    cmd(b"SPOP", key, b"100"),
    cmd(
        b"ZADD",
        key,
        st.sampled_from([(), (b"NX",), (b"XX",), (b"GT",), (b"CH",)]),
        st.sampled_from([b"1", b"2"]),
        val,
    ),
    cmd(b"ZADD", key, b"INCR", st.sampled_from([b"0", b"1"]), val),
    cmd(b"ZINCRBY", key, st.sampled_from([b"0", b"1"]), val),
    cmd(b"ZREM", key, some(val)),
    cmd(b"ZREMRANGEBYSCORE", key, b"-inf", st.sampled_from([b"1", b"+inf"])),
    cmd(b"ZREMRANGEBYRANK", key, b"0", st.sampled_from([b"0", b"-1"])),
    cmd(b"ZREMRANGEBYLEX", key, b"-", b"+"),
    cmd(st.sampled_from([b"ZPOPMIN", b"ZPOPMAX"]), key, st.sampled_from([(), (b"2",), (b"0",)])),
    cmd(st.sampled_from([b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"]), key, b"2", key, key),
    cmd(b"ZRANGESTORE", key, key, b"0", b"-1"),
    cmd(b"ZMPOP", b"1", key, st.sampled_from([b"MIN", b"MAX"])),
)


class Listener:
    def __init__(self, port: int) -> None:
        self.cmd = RawClient(port)
        self.sub = RawClient(port)
        self.sub.call("PSUBSCRIBE", "__key*__:*")

    def reset(self) -> None:
        self.cmd.call("CONFIG", "SET", "notify-keyspace-events", "")
        for db in (1, 0):
            self.cmd.call("SELECT", db)
            self.cmd.call("DEL", *KEYS)
        self.sub.sync()

    def run(self, args: tuple[bytes, ...]) -> tuple[Reply, list[Reply]]:
        reply = self.cmd.call(*args)
        return reply, self.sub.sync()

    def close(self) -> None:
        self.cmd.call("CONFIG", "SET", "notify-keyspace-events", "")
        self.cmd.close()
        self.sub.close()


def _plain_reply(reply: Reply) -> Any:
    """Replies of commands whose element order is random in Redis compare sorted."""
    return _sorted_array(reply)


def run_events(p: Listener, q: Listener, flags: str, cmds: list[tuple[bytes, ...]]) -> list[str]:
    for side in (p, q):
        side.reset()
        side.cmd.call("CONFIG", "SET", "notify-keyspace-events", flags)
    for n, args in enumerate(cmds):
        (ra, ea), (rb, eb) = p.run(args), q.run(args)
        if args[0] in (b"SPOP", b"ZUNIONSTORE"):
            ra, rb = _plain_reply(ra), _plain_reply(rb)
        if (ra, ea) != (rb, eb):
            return [f"flags {flags} step {n} {args!r}:\n pika  {ra} {ea}\n redis {rb} {eb}"]
    return []


@pytest.fixture(scope="module")
def listeners(pika: PikaServer, real_redis: RedisServer) -> Iterator[tuple[Listener, Listener]]:
    p, q = Listener(pika.port), Listener(real_redis.port)
    yield p, q
    p.close()
    q.close()


@diff_settings(200)
@given(flags=st.sampled_from(FLAGS), cmds=st.lists(EVENT_CMDS, min_size=1, max_size=30))
def test_keyspace_event_streams(
    listeners: tuple[Listener, Listener], flags: str, cmds: list[tuple[bytes, ...]]
) -> None:
    p, q = listeners
    diffs = run_events(p, q, flags, cmds)
    assert not diffs, "\n".join(diffs)


# --------------------------------------------------------------------------------------------
# Survey mode


def survey(examples: int) -> None:
    from hypothesis import HealthCheck, settings

    pika = PikaServer(args=["--set", "enable-debug-command=yes"]).start()
    rs = RedisServer().start()
    found: list[str] = []
    try:
        p, q = Side(pika.port), Side(rs.port)
        lp, lq = Listener(pika.port), Listener(rs.port)

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(steps=st.lists(sub_step(), min_size=1, max_size=25))
        def one(steps: list[tuple[int, tuple[bytes, ...]]]) -> None:
            p.connect()
            q.connect()
            found.extend(run_pubsub(p, q, steps)[:1])

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(flags=st.sampled_from(FLAGS), cmds=st.lists(EVENT_CMDS, min_size=1, max_size=30))
        def two(flags: str, cmds: list[tuple[bytes, ...]]) -> None:
            found.extend(run_events(lp, lq, flags, cmds)[:1])

        one()
        two()
    finally:
        pika.cleanup()
        rs.cleanup()
    for f in found:
        print(f, "\n")
    print(f"{len(found)} discrepancies")


if __name__ == "__main__":
    survey(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
