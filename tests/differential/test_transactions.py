"""MULTI / EXEC / DISCARD / WATCH / UNWATCH sequences from two clients, on pikadb and on a real
redis-server 7.0, every reply compared on the wire (RESP2 and RESP3), then the whole state.

Each example drives two connections per server (A and B) through the same random steps:
transactions opened and closed in any order (nested MULTI, EXEC/DISCARD without MULTI, WATCH
inside MULTI), queue-time errors (unknown commands, wrong arity) that must turn EXEC into
EXECABORT, runtime errors (WRONGTYPE, not an integer) that must not roll anything back,
blocking pops queued inside MULTI (they must not block), and writes from either client —
including FLUSHDB / FLUSHALL / SWAPDB / RENAME / MOVE / EXPIRE / SELECT — that must (or must
not) make a watcher's EXEC return the null array.
``python -m tests.differential.test_transactions [examples]`` surveys every discrepancy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import Pair, Side, diff_settings, same
from tests.support.servers import PikaServer, RedisServer

KEYS = [b"a", b"b", b"{t}c", b"l"]
key = st.sampled_from(KEYS)
value = st.sampled_from([b"1", b"x", b"", b"-5", b"9223372036854775807"])

# commands a client may run (inside or outside MULTI)
plain = st.one_of(
    st.tuples(st.just(b"SET"), key, value),
    st.tuples(st.just(b"GET"), key),
    st.tuples(st.just(b"INCR"), key),
    st.tuples(st.just(b"DEL"), key),
    st.tuples(st.just(b"LPUSH"), key, value),
    st.tuples(st.just(b"RPOP"), key),
    st.tuples(st.just(b"APPEND"), key, value),
    st.tuples(st.just(b"EXISTS"), key),
    st.tuples(st.just(b"EXPIRE"), key, st.sampled_from([b"100", b"0", b"-1"])),
    st.tuples(st.just(b"PEXPIRE"), key, st.just(b"0")),
    st.tuples(st.just(b"PERSIST"), key),
    st.tuples(st.just(b"SETNX"), key, value),
    st.tuples(st.just(b"RENAME"), key, key),
    st.tuples(st.just(b"COPY"), key, key),
    st.tuples(st.just(b"MOVE"), key, st.sampled_from([b"0", b"1"])),
    st.tuples(st.just(b"SELECT"), st.sampled_from([b"0", b"1"])),
    st.tuples(
        st.just(b"FLUSHDB"),
    ),
    st.tuples(
        st.just(b"FLUSHALL"),
    ),
    st.tuples(st.just(b"SWAPDB"), st.just(b"0"), st.just(b"1")),
    st.tuples(
        st.just(b"PING"),
    ),
    st.tuples(
        st.just(b"DBSIZE"),
    ),
    # blocking pops: inside MULTI they must answer at once; outside they time out quickly
    st.tuples(st.just(b"BLPOP"), key, st.just(b"0.01")),
    st.tuples(st.just(b"BRPOPLPUSH"), key, key, st.just(b"0.01")),
    # queue-time errors (EXECABORT) and runtime errors (kept in EXEC's reply)
    st.tuples(st.just(b"NOSUCHCMD"), key),
    st.tuples(
        st.just(b"GET"),
    ),
    st.tuples(st.just(b"SET"), key),
    st.tuples(st.just(b"INCRBY"), key, st.just(b"x")),
)
tx = st.one_of(
    st.tuples(st.just(b"MULTI")),
    st.tuples(st.just(b"EXEC")),
    st.tuples(st.just(b"DISCARD")),
    st.lists(key, min_size=1, max_size=3).map(lambda ks: (b"WATCH", *ks)),
    st.tuples(st.just(b"UNWATCH")),
)
step = st.tuples(st.sampled_from([0, 0, 1]), st.one_of(tx, tx, plain, plain, plain))
steps = st.lists(step, min_size=1, max_size=25)


class Clients:
    """Client A is the pair's own connection; client B is a second one on each server."""

    def __init__(self, pair: Pair) -> None:
        self.pair = pair
        self.b = (
            Side("pikadb B", pair.pika_port, pair.resp),
            Side("redis B", pair.redis_port, pair.resp),
        )

    def sides(self, who: int) -> tuple[Side, Side]:
        return (self.pair.p, self.pair.q) if who == 0 else self.b

    def fresh(self) -> None:
        """Both clients out of any MULTI / WATCH, in db 0, both servers flushed."""
        for p, q in ((self.pair.p, self.pair.q), self.b):
            for side in (p, q):
                side.call("RESET")
                side.call("SELECT", 0)
                if side.resp == 3:
                    side.call("HELLO", 3)
        self.pair.reset()

    def close(self) -> None:
        for side in self.b:
            side.close()


def run_steps(clients: Clients, seq: list[tuple[int, tuple[bytes, ...]]]) -> list[str]:
    clients.fresh()
    problems: list[str] = []
    for who, cmd in seq:
        p, q = clients.sides(who)
        a, b = p.call(*cmd), q.call(*cmd)
        if not same(a, b):
            problems.append(f"{'AB'[who]}: {cmd!r}\n    pikadb: {a!r}\n    redis : {b!r}")
            break
    # close any open transaction the same way on both, then compare the data
    for who in (0, 1):
        p, q = clients.sides(who)
        for side in (p, q):
            side.call("DISCARD")
            side.call("SELECT", 0)
    if not problems:
        problems += [str(d) for d in clients.pair.check_state(digest=False)]
    if problems:
        history = "\n".join(f"  {'AB'[w]}: {c!r}" for w, c in seq)
        problems.insert(0, f"sequence:\n{history}")
    return problems


@pytest.fixture(scope="module")
def clients2(pika: PikaServer, real_redis: RedisServer) -> Iterator[Clients]:
    with Pair(pika.port, real_redis.port, resp=2, dbs=(0, 1)) as p:
        c = Clients(p)
        yield c
        c.close()


@pytest.fixture(scope="module")
def clients3(pika: PikaServer, real_redis: RedisServer) -> Iterator[Clients]:
    with Pair(pika.port, real_redis.port, resp=3, dbs=(0, 1)) as p:
        c = Clients(p)
        yield c
        c.close()


@diff_settings(300)
@given(seq=steps)
def test_transactions_resp2(clients2: Clients, seq: list[Any]) -> None:
    problems = run_steps(clients2, seq)
    assert not problems, "\n".join(problems)


@diff_settings(100)
@given(seq=steps)
def test_transactions_resp3(clients3: Clients, seq: list[Any]) -> None:
    problems = run_steps(clients3, seq)
    assert not problems, "\n".join(problems)


# fixed scenarios worth running every time (hypothesis may not find them quickly)
SCENARIOS: list[list[tuple[int, tuple[bytes, ...]]]] = [
    [(0, (b"WATCH", b"a")), (1, (b"SET", b"a", b"1")), (0, (b"MULTI",)), (0, (b"GET", b"a")),
     (0, (b"EXEC",))],
    [(0, (b"SET", b"a", b"1")), (0, (b"WATCH", b"a")), (1, (b"FLUSHALL",)), (0, (b"MULTI",)),
     (0, (b"EXEC",))],
    [(0, (b"WATCH", b"a")), (1, (b"FLUSHDB",)), (0, (b"MULTI",)), (0, (b"EXEC",))],
    [(1, (b"SELECT", b"1")), (1, (b"SET", b"a", b"1")), (0, (b"WATCH", b"a")),
     (1, (b"SWAPDB", b"0", b"1")), (0, (b"MULTI",)), (0, (b"EXEC",))],
    [(0, (b"MULTI",)), (0, (b"SET", b"a", b"1")), (0, (b"NOSUCHCMD",)), (0, (b"EXEC",)),
     (0, (b"GET", b"a"))],
    [(0, (b"MULTI",)), (0, (b"SET", b"a", b"x")), (0, (b"INCR", b"a")), (0, (b"LPUSH", b"a", b"1")),
     (0, (b"SET", b"b", b"2")), (0, (b"EXEC",))],
    [(0, (b"MULTI",)), (0, (b"BLPOP", b"l", b"0")), (0, (b"BRPOPLPUSH", b"l", b"a", b"0")),
     (0, (b"EXEC",))],
    [(0, (b"WATCH", b"a")), (0, (b"SELECT", b"1")), (1, (b"SET", b"a", b"1")), (0, (b"MULTI",)),
     (0, (b"EXEC",))],
    [(0, (b"SET", b"a", b"1")), (0, (b"WATCH", b"b")), (1, (b"RENAME", b"a", b"b")),
     (0, (b"MULTI",)), (0, (b"EXEC",))],
    [(0, (b"WATCH", b"a")), (1, (b"MULTI",)), (1, (b"SET", b"a", b"1")), (0, (b"MULTI",)),
     (0, (b"GET", b"a")), (1, (b"EXEC",)), (0, (b"EXEC",))],
]  # fmt: skip


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("seq", SCENARIOS, ids=[f"s{i}" for i in range(len(SCENARIOS))])
def test_scenarios(pika: PikaServer, real_redis: RedisServer, seq: list[Any], resp: int) -> None:
    with Pair(pika.port, real_redis.port, resp=resp, dbs=(0, 1)) as p:
        c = Clients(p)
        try:
            problems = run_steps(c, seq)
        finally:
            c.close()
    assert not problems, "\n".join(problems)


def survey(examples: int = 200) -> None:
    """Run ``examples`` random sequences against fresh servers and print every discrepancy."""
    from hypothesis import HealthCheck, settings

    pika = PikaServer().start()
    real = RedisServer().start()
    found: list[str] = []
    try:
        with Pair(pika.port, real.port, dbs=(0, 1)) as p:
            c = Clients(p)

            @settings(max_examples=examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(seq=steps)
            def each(seq: list[Any]) -> None:
                problems = run_steps(c, seq)
                if problems:
                    found.append("\n".join(problems))

            each()
            c.close()
    finally:
        pika.cleanup()
        real.cleanup()
    for f in found:
        print(f, end="\n\n")
    print(f"{len(found)} discrepancies in {examples} sequences")


if __name__ == "__main__":
    survey(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
