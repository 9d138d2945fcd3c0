"""The hot-data cache never changes a reply: random command sequences run on a pikadb with
``cache-model 1`` (a small budget, so eviction happens too) and on one with the cache off,
every reply compared exactly, then the whole logical state.

The sequences mix the cached reads (GET, HGETALL, HGET, HKEYS, HVALS, LRANGE, SMEMBERS) with
writes of every kind on the same few keys: overwrites that keep a collection's size, chunked
strings, TTLs (long, past, and short ones that expire mid-sequence after a sleep), FLUSHDB,
SWAPDB, SELECT, MULTI/EXEC, EVAL, RENAME/COPY/MOVE, and runtime changes of the cache budget
and policy. Survey: ``python -m tests.differential.test_cache [examples]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import Pair, diff_settings, same
from tests.support.servers import PikaServer

KEYS = ["a", "b", "c"]
VALS = ["", "1", "v", "xyz", "x" * 20_000]  # the last one is a chunked string
FIELDS = ["f", "g"]
SLEEP = "__sleep__"

k = st.sampled_from(KEYS)
v = st.sampled_from(VALS)
f = st.sampled_from(FIELDS)
small = st.sampled_from(["0", "1", "2", "-1"])

reads = st.one_of(
    st.tuples(st.just("GET"), k),
    st.tuples(st.just("HGETALL"), k),
    st.tuples(st.just("HGET"), k, f),
    st.tuples(st.just("HKEYS"), k),
    st.tuples(st.just("HVALS"), k),
    st.tuples(st.just("LRANGE"), k, small, small),
    st.tuples(st.just("LRANGE"), k, st.just("0"), st.just("-1")),
    st.tuples(st.just("SMEMBERS"), k),
    st.tuples(st.just("TYPE"), k),
)
writes = st.one_of(
    st.tuples(st.just("SET"), k, v),
    st.tuples(st.just("SET"), k, v, st.just("EX"), st.just("100")),
    st.tuples(st.just("APPEND"), k, v),
    st.tuples(st.just("SETRANGE"), k, st.sampled_from(["0", "3", "5000"]), st.just("Z")),
    st.tuples(st.just("INCR"), k),
    st.tuples(st.just("GETDEL"), k),
    st.tuples(st.just("HSET"), k, f, v),
    st.tuples(st.just("HDEL"), k, f),
    st.tuples(st.just("HINCRBY"), k, f, st.just("1")),
    st.tuples(st.just("RPUSH"), k, v),
    st.tuples(st.just("LPOP"), k),
    st.tuples(st.just("LSET"), k, small, v),
    st.tuples(st.just("LTRIM"), k, small, small),
    st.tuples(st.just("SADD"), k, st.sampled_from(["1", "2", "m"])),
    st.tuples(st.just("SREM"), k, st.sampled_from(["1", "2", "m"])),
    st.tuples(st.just("DEL"), k),
    st.tuples(st.just("RENAME"), k, k),
    st.tuples(st.just("COPY"), k, k, st.just("REPLACE")),
    st.tuples(st.just("MOVE"), k, st.just("1")),
    st.tuples(st.just("EXPIRE"), k, st.just("100")),
    st.tuples(st.just("PEXPIREAT"), k, st.just("1")),  # in the past: deletes
    st.tuples(st.just("PERSIST"), k),
    st.tuples(st.just("SELECT"), st.sampled_from(["0", "1"])),
    st.tuples(st.just("SWAPDB"), st.just("0"), st.just("1")),
    st.tuples(st.just("FLUSHDB")),
    st.tuples(
        st.just("EVAL"),
        st.just("redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])"),
        st.just("1"),
        k,
        v,
    ),
    st.tuples(
        st.just("EVAL"),
        st.just("redis.call('hset', KEYS[1], 'f', ARGV[1]); return redis.call('hgetall', KEYS[1])"),
        st.just("1"),
        k,
        v,
    ),
    st.tuples(
        st.just("CONFIG"),
        st.just("SET"),
        st.just("cache-maxmemory"),
        st.sampled_from(["3000", "100000"]),
    ),
    st.tuples(
        st.just("CONFIG"),
        st.just("SET"),
        st.just("cache-maxmemory-policy"),
        st.sampled_from(["1", "3", "7"]),
    ),
)
# MULTI with writes and reads inside; a short TTL that expires after a sleep.
multi = st.lists(st.one_of(reads, writes), min_size=1, max_size=4).map(
    lambda cmds: [("MULTI",), *[c for c in cmds if c[0] not in ("SELECT",)], ("EXEC",)]
)
short_ttl = st.tuples(k, st.one_of(reads, reads)).map(
    lambda t: [("PEXPIRE", t[0], "60"), t[1], (SLEEP,), t[1], ("EXISTS", t[0])]
)
step = st.one_of(
    reads.map(lambda c: [c]),
    reads.map(lambda c: [c]),
    writes.map(lambda c: [c]),
    writes.map(lambda c: [c]),
    multi,
)
sequences = st.tuples(
    st.lists(step, min_size=1, max_size=20),
    st.one_of(st.none(), short_ttl),
    st.lists(step, max_size=5),
).map(lambda t: [c for s in t[0] for c in s] + (t[1] or []) + [c for s in t[2] for c in s])


def run_sequence(pair: Pair, seq: list[tuple[Any, ...]], stop_at_first: bool = True) -> list[str]:
    for side in (pair.p, pair.q):
        side.call("DISCARD")
        side.call("CONFIG", "SET", "cache-maxmemory", "20000")
        side.call("CONFIG", "SET", "cache-maxmemory-policy", "1")
    pair.clear()
    problems: list[str] = []
    for cmd in seq:
        if cmd[0] == SLEEP:
            time.sleep(0.08)
            continue
        a, b = pair.p.call(*cmd), pair.q.call(*cmd)
        pair.history.append(cmd)
        if not same(a, b):
            problems.append(f"{cmd!r}\n    cache on : {a!r}\n    cache off: {b!r}")
            if stop_at_first:
                break
    for side in (pair.p, pair.q):
        side.call("DISCARD")
    if not problems:
        problems += [str(d) for d in pair.check_state()]
    if problems:
        problems.insert(0, "sequence:\n" + "\n".join(f"  {c!r}" for c in seq))
    return problems


def start_pair() -> tuple[PikaServer, PikaServer]:
    on = PikaServer(args=["--set", "cache-model=1", "--set", "enable-debug-command=yes"])
    off = PikaServer(args=["--set", "cache-model=0", "--set", "enable-debug-command=yes"])
    return on.start(), off.start()


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    on, off = start_pair()
    try:
        with Pair(on.port, off.port, resp=2, dbs=(0, 1)) as p:
            yield p
    finally:
        on.cleanup()
        off.cleanup()


@diff_settings(150)
@given(seq=sequences)
def test_cache_on_equals_cache_off(pair: Pair, seq: list[tuple[Any, ...]]) -> None:
    problems = run_sequence(pair, seq)
    assert not problems, "\n".join(problems)


def test_the_cache_was_used(pair: Pair) -> None:
    """The sequences above really went through the cache (hits and evictions)."""
    pair.clear()
    pair.p.call("CONFIG", "SET", "cache-maxmemory", "20000")
    pair.p.call("SET", "a", "v")
    pair.p.call("GET", "a")
    pair.p.call("GET", "a")
    text = pair.p.call("CACHE", "INFO")
    fields = dict(line.split(":", 1) for line in text.decode().splitlines()[1:])
    assert int(fields["hits"]) > 0 and fields["cache_status"] == "Ok"


if __name__ == "__main__":  # survey: every discrepancy, no shrinking
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    on, off = start_pair()
    try:
        with Pair(on.port, off.port, resp=2, dbs=(0, 1)) as p:
            from hypothesis import HealthCheck, Phase, settings

            found: list[str] = []

            @settings(
                max_examples=n,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(seq=sequences)
            def one(seq: list[tuple[Any, ...]]) -> None:
                found.extend(run_sequence(p, seq, stop_at_first=True)[:2])

            one()
            print("\n".join(found) or f"{n} sequences, no discrepancy")
    finally:
        on.cleanup()
        off.cleanup()
