"""Random list command sequences on pikadb and a real redis-server 7.0, replies compared on the
wire (RESP2 and RESP3), then the whole state (TYPE, PTTL, DEBUG DIGEST) plus every list's LRANGE.
Then blocking scenarios driven from several clients: waiters block one after the other (each
registered before the next), another client runs a few commands, and the waiters' replies,
the commands' replies and the final state are compared between the servers.

Inputs mix lists with a string and a set key (WRONGTYPE), awkward items (empty, binary, numbers),
indexes at and beyond the ends and int64 limits, malformed numbers, and options in any order.
``python -m tests.differential.test_lists [examples]`` surveys every discrepancy.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import Diff, Pair, Side, diff_settings, same, survey
from tests.support.servers import PikaServer, RedisServer

LKEYS = [b"l1", b"l2", b"{t}l"]
KEYS = [*LKEYS, b"str", b"set", b"none"]
ITEMS = [b"a", b"b", b"c", b"a", b"", b"1", b"-1", b"x\x00y", b"\xff", b"z" * 70]
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
INDEXES = [0, 1, 2, -1, -2, -3, 3, 5, -100, 100, INT64_MAX, INT64_MIN]
BAD_INTS = [b"a", b"1.5", b"", b" 1", b"9223372036854775808", b"+1"]
TIMEOUTS = [b"0.01", b"0.02", b".01", b"1e-2", b"0x0.04p0"]
BAD_TIMEOUTS = [b"-1", b"abc", b"nan", b"inf", b"-0.5", b"", b" 1"]

mostly = st.integers(0, 19)


def weighted(good: list[Any], bad: list[Any], bad_rate: int = 1) -> st.SearchStrategy[Any]:
    """Mostly ``good``; about bad_rate/20 of the time one of ``bad``."""
    return st.tuples(mostly, st.sampled_from(good), st.sampled_from(bad)).map(
        lambda t: t[2] if 7 <= t[0] < 7 + bad_rate else t[1]
    )


def name(n: str) -> st.SearchStrategy[str]:
    return st.sampled_from([n] * 6 + [n.lower(), n.title()])


def flat(*parts: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Concatenate: each part yields a token or a tuple/list of tokens."""
    return st.tuples(*parts).map(
        lambda t: tuple(x for p in t for x in (p if isinstance(p, tuple | list) else (p,)))
    )


def some_of(*groups: tuple[Any, ...] | st.SearchStrategy[tuple[Any, ...]]) -> Any:
    """Any subset of the option groups, in any order."""
    strats = [g if isinstance(g, st.SearchStrategy) else st.just(g) for g in groups]
    return (
        st.lists(st.sampled_from(range(len(strats))), unique=True)
        .flatmap(lambda idx: st.tuples(*[strats[i] for i in idx]) if idx else st.just(()))
        .map(lambda gs: tuple(x for g in gs for x in g))
    )


lkey = st.sampled_from(LKEYS * 4 + KEYS[3:])
item = st.sampled_from(ITEMS)
items = st.lists(item, min_size=1, max_size=4)
index = weighted(INDEXES, BAD_INTS)
count = weighted([0, 1, 2, 3, 5, -1, -2, 100], [*BAD_INTS, INT64_MIN, INT64_MAX])
where = weighted([b"LEFT", b"RIGHT", b"left", b"Right"], [b"up", b""])
timeout = weighted(TIMEOUTS, BAD_TIMEOUTS)
keys = st.lists(lkey, min_size=1, max_size=3)


def numkeys(ks: list[bytes]) -> st.SearchStrategy[Any]:
    return weighted([len(ks)], [0, -1, len(ks) + 1, b"x", INT64_MAX])


mpop = keys.flatmap(
    lambda ks: flat(
        numkeys(ks),
        st.just(tuple(ks)),
        where,
        some_of(st.tuples(st.just(b"COUNT"), weighted([1, 2, 5], [0, -1, b"x"]))),
    )
)
lpos_opts = some_of(
    st.tuples(st.just(b"RANK"), weighted([1, 2, -1, -2, 3], [0, INT64_MIN, b"x"])),
    st.tuples(st.just(b"COUNT"), weighted([0, 1, 2], [-1, b"x"])),
    st.tuples(st.just(b"MAXLEN"), weighted([0, 1, 3, 100], [-1, b"x"])),
)

LIST_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    flat(name("LPUSH"), lkey, items),
    flat(name("RPUSH"), lkey, items),
    flat(name("RPUSH"), lkey, items),
    flat(name("LPUSHX"), lkey, items),
    flat(name("RPUSHX"), lkey, items),
    flat(name("LPOP"), lkey, st.one_of(st.just(()), count.map(lambda x: (x,)))),
    flat(name("RPOP"), lkey, st.one_of(st.just(()), count.map(lambda x: (x,)))),
    flat(name("LLEN"), lkey),
    flat(name("LINDEX"), lkey, index),
    flat(name("LRANGE"), lkey, index, index),
    flat(name("LRANGE"), lkey, st.just(0), st.just(-1)),
    flat(name("LINSERT"), lkey, weighted([b"BEFORE", b"after"], [b"middle"]), item, item),
    flat(name("LREM"), lkey, count, item),
    flat(name("LSET"), lkey, index, item),
    flat(name("LTRIM"), lkey, index, index),
    flat(name("LPOS"), lkey, item, lpos_opts),
    flat(name("LMOVE"), lkey, lkey, where, where),
    flat(name("RPOPLPUSH"), lkey, lkey),
    flat(name("LMPOP"), mpop),
    # blocking forms that do not block (data present, short timeouts, errors)
    flat(name("BLPOP"), keys, timeout),
    flat(name("BRPOP"), keys, timeout),
    flat(name("BLMOVE"), lkey, lkey, where, where, timeout),
    flat(name("BRPOPLPUSH"), lkey, lkey, timeout),
    flat(name("BLMPOP"), timeout, mpop),
    # the keyspace around them
    flat(name("SET"), st.sampled_from([b"str", b"l1"]), item),
    flat(name("SADD"), st.sampled_from([b"set", b"l2"]), item),
    flat(name("DEL"), lkey),
    flat(name("TYPE"), lkey),
    flat(name("RENAME"), lkey, lkey),
    flat(name("COPY"), lkey, lkey, some_of((b"REPLACE",))),
    flat(name("EXPIRE"), lkey, st.sampled_from([100, 0, -1])),
    flat(name("OBJECT"), st.just(b"ENCODING"), lkey),
    flat(name("DUMP"), lkey),
]


def seed(k: st.SearchStrategy[bytes] = st.sampled_from(LKEYS)) -> Any:
    return st.lists(flat(st.just(b"RPUSH"), k, items), min_size=1, max_size=3)


def sequences(max_size: int = 20) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    body = st.lists(st.one_of(LIST_CMDS), min_size=1, max_size=max_size)
    return st.tuples(seed(), body).map(lambda t: t[0] + t[1])


def run_sequence(pair: Pair, seq: list[tuple[Any, ...]], stop_at_first: bool = True) -> list[Diff]:
    pair.reset()
    diffs = pair.run_all(seq, stop_at_first=stop_at_first)
    if not diffs or not stop_at_first:
        diffs += pair.check_state()
        for k in KEYS:
            d = pair.run(b"LRANGE", k, 0, -1)
            if d is not None:
                diffs.append(d)
    return diffs


# --------------------------------------------------------------------------------------------
# Blocking scenarios (any server): waiters, then a client's commands, then the outcome


def blocked_clients(side: Side) -> int:
    info = side.call("INFO", "clients")
    for line in bytes(info).splitlines():
        if line.startswith(b"blocked_clients:"):
            return int(line.split(b":")[1])
    raise AssertionError(f"no blocked_clients in {info!r}")


def scenario(
    port: int,
    setup: Sequence[Sequence[Any]],
    waiters: Sequence[Sequence[Any]],
    actions: Sequence[Sequence[Any]],
    resp: int = 2,
    state_keys: Sequence[bytes] = (),
) -> dict[str, Any]:
    """Run one blocking scenario on the server at ``port``: ``setup`` commands, then each
    waiter's command on its own connection (the next is sent once the previous one blocked,
    or answered at once), then ``actions`` from the main client, then collect the waiters'
    replies and the final LRANGE/TYPE of ``state_keys``."""
    main = Side("main", port, resp)
    main.call("FLUSHALL")
    for cmd in setup:
        main.call(*cmd)
    conns: list[Side] = []
    blocked = blocked_clients(main)
    for w in waiters:
        side = Side("waiter", port, resp, timeout=10)
        conn = side._connect()
        conn.send_command(*w, check_health=False)
        conns.append(side)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            if conn.can_read(timeout=0.005):
                break
            n = blocked_clients(main)
            if n > blocked:
                blocked = n
                break
    out: dict[str, Any] = {"actions": [main.call(*a) for a in actions]}
    replies = []
    for side in conns:
        assert side.conn is not None
        replies.append(side.conn.read_response())
        side.close()
    out["waiters"] = replies
    out["state"] = [(main.call("TYPE", k), main.call("LRANGE", k, 0, -1)) for k in state_keys]
    main.close()
    return out


def compare_scenario(
    pika_port: int, redis_port: int, *args: Any, **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    a = scenario(pika_port, *args, **kw)
    b = scenario(redis_port, *args, **kw)
    return a, b


def assert_same_scenario(pika_port: int, redis_port: int, *args: Any, **kw: Any) -> None:
    a, b = compare_scenario(pika_port, redis_port, *args, **kw)
    for part in ("actions", "waiters", "state"):
        assert same(a[part], b[part]), f"{part}:\n  pikadb: {a[part]!r}\n  redis : {b[part]!r}"


BKEYS = [b"a", b"b", b"c"]
bkey = st.sampled_from(BKEYS)
bkeys = st.lists(bkey, min_size=1, max_size=3)
WAIT = b"0.4"  # long enough for the actions, short enough to time out cheaply
waiter = st.one_of(
    flat(st.sampled_from([b"BLPOP", b"BRPOP"]), bkeys, st.just(WAIT)),
    flat(
        st.just(b"BLMOVE"),
        bkey,
        bkey,
        where.filter(lambda w: w in (b"LEFT", b"RIGHT")),
        st.sampled_from([b"LEFT", b"RIGHT"]),
        st.just(WAIT),
    ),
    flat(st.just(b"BRPOPLPUSH"), bkey, bkey, st.just(WAIT)),
    bkeys.flatmap(
        lambda ks: flat(
            st.just(b"BLMPOP"),
            st.just(WAIT),
            st.just(len(ks)),
            st.just(tuple(ks)),
            st.sampled_from([b"LEFT", b"RIGHT"]),
            some_of(st.tuples(st.just(b"COUNT"), st.sampled_from([1, 2, 3]))),
        )
    ),
)
action = st.one_of(
    flat(st.sampled_from([b"RPUSH", b"LPUSH"]), bkey, items),
    flat(st.sampled_from([b"RPUSH", b"LPUSH"]), bkey, items),
    flat(
        st.just(b"LMOVE"),
        bkey,
        bkey,
        st.sampled_from([b"LEFT", b"RIGHT"]),
        st.sampled_from([b"LEFT", b"RIGHT"]),
    ),
    flat(st.just(b"SET"), bkey, item),
    flat(st.just(b"DEL"), bkey),
    flat(st.just(b"LPOP"), bkey),
    flat(st.just(b"RENAME"), bkey, bkey),
    flat(st.just(b"LLEN"), bkey),
)
blocking_case = st.tuples(
    st.lists(flat(st.just(b"RPUSH"), bkey, items), max_size=1),
    st.lists(waiter, min_size=1, max_size=3),
    st.lists(action, min_size=1, max_size=4),
)


# --------------------------------------------------------------------------------------------
# Tests


@pytest.fixture(scope="module")
def pairs2(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=2) as p:
        yield p


@pytest.fixture(scope="module")
def pairs3(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=3) as p:
        yield p


_settings = diff_settings  # shared with the other differential files


def _check(pair: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair, seq):
        raise AssertionError(pair.report())


@_settings(300)
@given(seq=sequences())
def test_lists_resp2(pairs2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs2, seq)


@_settings(200)
@given(seq=sequences())
def test_lists_resp3(pairs3: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs3, seq)


@_settings(40)
@given(case=blocking_case, resp=st.sampled_from([2, 3]))
def test_blocking_scenarios(
    pika: PikaServer, real_redis: RedisServer, case: tuple[Any, ...], resp: int
) -> None:
    setup, waiters, actions = case
    assert_same_scenario(
        pika.port, real_redis.port, setup, waiters, actions, resp=resp, state_keys=BKEYS
    )


if __name__ == "__main__":  # pragma: no cover - survey: every discrepancy, grouped
    survey(sequences(), run_sequence, int(sys.argv[1]) if len(sys.argv) > 1 else 200)
