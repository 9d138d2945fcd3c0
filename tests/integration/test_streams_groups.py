"""Consumer groups on a real pikadb server, most scenarios side by side with redis-server 7.0
(replies that carry the clock are masked as in tests/differential/test_streams.py):
XGROUP, XREADGROUP (new entries and history, NOACK, COUNT), XACK, XPENDING, XCLAIM,
XAUTOCLAIM (cursor walk, deleted entries), the entries-read / lag bookkeeping, XINFO, a
large PEL, and blocking XREADGROUP from several clients (FIFO, group destroyed, key deleted
or replaced, XGROUP SETID not waking anybody)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import Err, Pair
from tests.differential.test_streams import assert_same_scenario, run_cmd
from tests.integration.test_streams import blocked, join
from tests.support.servers import PikaServer, RedisServer


@pytest.fixture
def pair(r: redis.Redis, rr: redis.Redis) -> Iterator[Pair]:
    with Pair.from_clients(r, rr) as p:
        yield p


def run(pair: Pair, cmds: list[tuple[Any, ...]]) -> None:
    for c in cmds:
        run_cmd(pair, c)


def test_group_lifecycle(pair: Pair) -> None:
    run(pair, [("XADD", "s", f"{n}-0", "f", str(n)) for n in range(1, 8)])
    run(
        pair,
        [
            ("XGROUP", "CREATE", "s", "g", "0"),
            ("XGROUP", "CREATE", "s", "g", "0"),
            ("XGROUP", "CREATE", "s", "late", "$"),
            ("XGROUP", "CREATE", "nokey", "g", "0"),
            ("XGROUP", "CREATE", "new", "g", "$", "MKSTREAM", "ENTRIESREAD", "3"),
            ("XINFO", "STREAM", "new"),
            ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "NOACK", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
            ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "1-0"),
            ("XREADGROUP", "GROUP", "g", "nobody", "STREAMS", "s", "0"),
            ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "$"),
            ("XREADGROUP", "GROUP", "nog", "alice", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "new", ">", ">"),
            ("XPENDING", "s", "g"),
            ("XPENDING", "s", "g", "-", "+", "10"),
            ("XPENDING", "s", "g", "-", "+", "10", "carol"),
            ("XPENDING", "s", "g", "IDLE", "1000000", "-", "+", "10"),
            ("XPENDING", "s", "g", "(1-0", "(5-0", "2"),
            ("XACK", "s", "g", "1-0", "1-0", "3-0", "9-9"),
            ("XACK", "s", "g", "bad"),
            ("XDEL", "s", "2-0"),
            ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
            ("XINFO", "GROUPS", "s"),
            ("XINFO", "CONSUMERS", "s", "g"),
            ("XINFO", "STREAM", "s", "FULL", "COUNT", "2"),
            ("XGROUP", "CREATECONSUMER", "s", "g", "erin"),
            ("XGROUP", "CREATECONSUMER", "s", "g", "erin"),
            ("XGROUP", "DELCONSUMER", "s", "g", "carol"),
            ("XGROUP", "DELCONSUMER", "s", "g", "carol"),
            ("XPENDING", "s", "g"),
            ("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"),
            ("XREADGROUP", "GROUP", "g", "frank", "COUNT", "2", "STREAMS", "s", ">"),
            ("XPENDING", "s", "g", "-", "+", "10"),
            ("XGROUP", "SETID", "s", "g", "$"),
            ("XINFO", "GROUPS", "s"),
            ("XGROUP", "DESTROY", "s", "g"),
            ("XGROUP", "DESTROY", "s", "g"),
            ("XINFO", "GROUPS", "s"),
            ("XGROUP", "HELP"),
        ],
    )
    pair.check_state()
    pair.assert_clean()


def test_claiming(pair: Pair) -> None:
    run(pair, [("XADD", "s", f"{n}-0", "f", str(n)) for n in range(1, 10)])
    run(
        pair,
        [
            ("XGROUP", "CREATE", "s", "g", "0"),
            ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "6", "STREAMS", "s", ">"),
            ("XCLAIM", "s", "g", "bob", "1000000", "1-0", "2-0"),
            ("XINFO", "CONSUMERS", "s", "g"),
            ("XCLAIM", "s", "g", "bob", "0", "1-0", "2-0", "IDLE", "5000000"),
            ("XCLAIM", "s", "g", "carol", "1000000", "1-0", "3-0", "JUSTID"),
            ("XCLAIM", "s", "g", "carol", "0", "3-0", "TIME", "1", "RETRYCOUNT", "9"),
            ("XCLAIM", "s", "g", "carol", "0", "7-0", "8-0"),
            ("XCLAIM", "s", "g", "carol", "0", "7-0", "8-0", "FORCE"),
            ("XCLAIM", "s", "g", "carol", "0", "9-0", "FORCE", "JUSTID", "LASTID", "20-0"),
            ("XINFO", "GROUPS", "s"),
            ("XPENDING", "s", "g", "-", "+", "20"),
            ("XINFO", "STREAM", "s", "FULL"),
            ("XDEL", "s", "2-0", "4-0"),
            ("XCLAIM", "s", "g", "dave", "0", "2-0", "4-0", "5-0"),
            ("XPENDING", "s", "g"),
            ("XDEL", "s", "6-0", "8-0"),
            ("XAUTOCLAIM", "s", "g", "erin", "0", "0", "COUNT", "2"),
            ("XAUTOCLAIM", "s", "g", "erin", "0", "0", "COUNT", "2", "JUSTID"),
            ("XAUTOCLAIM", "s", "g", "erin", "1000000", "0"),
            ("XAUTOCLAIM", "s", "g", "erin", "0", "(5-0"),
            ("XAUTOCLAIM", "s", "g", "erin", "0", "0", "COUNT", "0"),
            ("XINFO", "CONSUMERS", "s", "g"),
            ("XPENDING", "s", "g", "-", "+", "20"),
            ("XCLAIM", "s", "g", "x", "0", "1-0", "BOGUS"),
            ("XCLAIM", "s", "nog", "x", "0", "1-0"),
        ],
    )
    pair.check_state()
    pair.assert_clean()


def test_entries_read_and_lag(pair: Pair) -> None:
    cmds: list[tuple[Any, ...]] = [("XADD", "s", f"{n}-1", "f", "v") for n in range(1, 6)]
    cmds += [
        ("XGROUP", "CREATE", "s", "a", "0"),
        ("XGROUP", "CREATE", "s", "b", "3-1"),
        ("XGROUP", "CREATE", "s", "c", "$"),
        ("XGROUP", "CREATE", "s", "d", "0", "ENTRIESREAD", "0"),
        ("XINFO", "GROUPS", "s"),
        ("XREADGROUP", "GROUP", "a", "x", "COUNT", "2", "STREAMS", "s", ">"),
        ("XINFO", "GROUPS", "s"),
        ("XDEL", "s", "4-1"),
        ("XINFO", "GROUPS", "s"),
        ("XREADGROUP", "GROUP", "a", "x", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "b", "x", "COUNT", "1", "STREAMS", "s", ">"),
        ("XINFO", "GROUPS", "s"),
        ("XDEL", "s", "1-1"),
        ("XGROUP", "CREATE", "s", "e", "0-5"),
        ("XGROUP", "CREATE", "s", "f", "2-1"),
        ("XINFO", "GROUPS", "s"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("XINFO", "GROUPS", "s"),
        ("XADD", "s", "9-1", "f", "v"),
        ("XINFO", "GROUPS", "s"),
        ("XSETID", "s", "10-0", "ENTRIESADDED", "20", "MAXDELETEDID", "9-5"),
        ("XINFO", "GROUPS", "s"),
        ("XINFO", "STREAM", "s"),
    ]
    run(pair, cmds)
    pair.assert_clean()


def test_large_pel_walks(pair: Pair) -> None:
    run(pair, [("XADD", "s", f"{n}-0", "f", str(n)) for n in range(1, 400)])
    run(
        pair,
        [
            ("XGROUP", "CREATE", "s", "g", "0"),
            ("XREADGROUP", "GROUP", "g", "a", "COUNT", "250", "STREAMS", "s", ">"),
            ("XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", ">"),
            ("XDEL", "s", *[f"{n}-0" for n in range(100, 400, 7)]),
            ("XPENDING", "s", "g"),
            ("XPENDING", "s", "g", "150-0", "+", "5", "b"),
            ("XACK", "s", "g", *[f"{n}-0" for n in range(1, 60)]),
        ],
    )
    cursor = b"0-0"
    for _ in range(20):
        pair.run("XAUTOCLAIM", "s", "g", "c", "0", cursor, "COUNT", "37", "JUSTID")
        reply = pair.p.call("XAUTOCLAIM", "s", "g", "c2", "1000000", cursor, "COUNT", "37")
        pair.q.call("XAUTOCLAIM", "s", "g", "c2", "1000000", cursor, "COUNT", "37")
        cursor = reply[0]
        if cursor == b"0-0":
            break
    run(
        pair,
        [
            ("XINFO", "CONSUMERS", "s", "g"),
            ("XINFO", "STREAM", "s", "FULL", "COUNT", "3"),
            ("XPENDING", "s", "g"),
            ("XGROUP", "DELCONSUMER", "s", "g", "c"),
            ("XINFO", "GROUPS", "s"),
        ],
    )
    pair.check_state()
    pair.assert_clean()


# --- blocking XREADGROUP ---------------------------------------------------------------------------
_G = [("XADD", "s", "1-1", "f", "v"), ("XGROUP", "CREATE", "s", "g", "$")]


@pytest.mark.parametrize(
    ("waiters", "actions"),
    [
        (
            [("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")] * 1
            + [
                (
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c2",
                    "COUNT",
                    "1",
                    "BLOCK",
                    "400",
                    "STREAMS",
                    "s",
                    ">",
                )
            ],
            [("XADD", "s", "2-1", "a", "1")],
        ),
        (
            [("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")],
            [("XGROUP", "DESTROY", "s", "g")],
        ),
        ([("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")], [("DEL", "s")]),
        (
            [("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")],
            [("SET", "s", "x")],
        ),
        (
            [("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "300", "STREAMS", "s", ">")],
            [("XGROUP", "SETID", "s", "g", "0"), ("XACK", "s", "g", "1-1")],
        ),
        (
            [("XREADGROUP", "GROUP", "g", "c1", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")],
            [("XADD", "s", "2-1", "a", "1"), ("XPENDING", "s", "g")],
        ),
        (  # served after EXEC, with COUNT; an entry added and deleted serves an empty list
            [
                ("XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "s", "$"),
                ("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"),
            ],
            [("MULTI",), ("XADD", "s", "2-1", "a", "1"), ("XDEL", "s", "2-1"), ("EXEC",)],
        ),
        (
            [("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")],
            [("MULTI",), ("DEL", "s"), ("XADD", "s", "5-5", "x", "y"), ("EXEC",)],
        ),
        (
            [("XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "s", "$")],
            [
                ("MULTI",),
                ("XADD", "s", "2-1", "a", "1"),
                ("XADD", "s", "3-1", "a", "1"),
                ("XADD", "s", "4-1", "a", "1"),
                ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                ("EXEC",),
            ],
        ),
        (
            [
                ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                ("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"),
                ("XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "0"),
            ],
            [("XADD", "s", "2-1", "a", "1")],
        ),
    ],
)
@pytest.mark.parametrize("resp", [2, 3])
def test_blocking_readgroup_like_redis(
    pika: PikaServer,
    real_redis: RedisServer,
    waiters: list[tuple[Any, ...]],
    actions: list[tuple[Any, ...]],
    resp: int,
) -> None:
    assert_same_scenario(pika.port, real_redis.port, _G, waiters, actions, resp=resp)


def test_blocked_group_reader_gets_nogroup(r: redis.Redis) -> None:
    r.xgroup_create("s", "g", "$", mkstream=True)
    t, out = blocked(r, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">")
    r.xgroup_destroy("s", "g")
    join(t)
    assert isinstance(out[0], Err) and out[0].startswith("NOGROUP")
    r.xgroup_create("s", "g", "$")
    t, out = blocked(r, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">")
    r.delete("s")
    join(t)
    assert out == [Err("UNBLOCKED the stream key no longer exists")]
