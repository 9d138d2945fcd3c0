"""Random stream command sequences on pikadb and a real redis-server 7.0, replies compared on
the wire (RESP2 and RESP3), then the whole state (TYPE, PTTL, XRANGE, DEBUG DIGEST) plus every
stream's XINFO STREAM FULL. Then blocking XREAD / XREADGROUP scenarios driven from several
clients.

Ids are explicit (``ms-seq`` or ``ms-*``: ``*`` would take each server's clock), small, and
include ``-``/``+``, exclusive ``(`` bounds, awkward spellings (``007``, `` 1``, ``+1``) and
invalid ones. Consumer groups are exercised with XREADGROUP (``>`` and history), XACK,
XPENDING, XCLAIM (IDLE/TIME/RETRYCOUNT/FORCE/JUSTID/LASTID), XAUTOCLAIM and XGROUP. Replies
that carry the clock are masked (:func:`masked`): idle times and delivery/seen times become
"recent" or "old" (the thresholds used are 0 or 10**6 ms, far from any race); values set
with ``TIME 1`` stay exact. ``python -m tests.differential.test_streams [examples]`` surveys
every discrepancy.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import (
    Diff,
    Pair,
    RMap,
    Side,
    diff_settings,
    same,
    survey,
)
from tests.differential.test_lists import blocked_clients, flat, some_of, weighted
from tests.support.servers import PikaServer, RedisServer

SKEYS = [b"s1", b"s2", b"{t}s"]
KEYS = [*SKEYS, b"str", b"none"]
GROUPS = [b"g1", b"g2"]
CONSUMERS = [b"c1", b"c2", b"c3"]
FIELDS = [b"f", b"g", b"a", b"", b"1", b"x" * 70]
VALUES = [b"v", b"1", b"-7", b"", b"\x00\xff", b"y" * 80, b"123456789012"]
IDS = [
    b"1-1", b"1-2", b"2-0", b"2-5", b"3-1", b"5-0", b"5-3", b"7-1", b"9-9", b"0-1", b"1", b"3",
    b"6", b"10-0", b"18446744073709551615-18446744073709551615",
]  # fmt: skip
ODD_IDS = [b"007-1", b" 4-1", b"+8-0", b"-0", b"5-", b"-", b"+", b"abc", b"1-2-3", b"",
           b"18446744073709551616", b"-1"]  # fmt: skip
BOUNDS = [b"-", b"+", b"-", b"+", b"0", b"1", b"2-0", b"3-1", b"5", b"(1-1", b"(3-1", b"(2", b"(9-9",
          b"18446744073709551615-18446744073709551615"]  # fmt: skip
BAD_BOUNDS = [b"(-", b"(+", b"(", b"x", b"(0-0", b"(18446744073709551615-18446744073709551615"]
OLD = 1_000_000  # ms: idle thresholds far from the time a test takes

sk = st.sampled_from(SKEYS * 4 + KEYS[3:])
xid = weighted(IDS, ODD_IDS)
xid_add = weighted(
    [*IDS, b"4-*", b"1-*", b"9-*", b"0-*", b"11-*", b"12-*", b"12-*", b"15-*", b"20-1", b"30-*"],
    [*ODD_IDS, b"*-1", b"2-**"],
)
bound = weighted(BOUNDS, BAD_BOUNDS)
field = st.sampled_from(FIELDS)
value = st.sampled_from(VALUES)
pairs = st.lists(st.tuples(field, value), min_size=1, max_size=3).map(
    lambda ps: tuple(x for p in ps for x in p)
)
count = weighted([0, 1, 2, 3, 10], [-1, b"x", b""])
group = st.sampled_from([b"g1", b"g1", b"g1", b"g2", b"nog"])
consumer = st.sampled_from(CONSUMERS)
ids = st.lists(xid, min_size=1, max_size=3)
threshold = weighted([0, 1, 2, 3, 5, 100], [-1, b"x"])
trim_opts = st.one_of(
    st.just(()),
    flat(
        st.sampled_from([b"MAXLEN", b"maxlen"]),
        st.sampled_from([(), (b"=",), (b"~",)]),
        threshold,
        some_of(st.tuples(st.just(b"LIMIT"), weighted([0, 1, 5], [-1]))),
    ),
    flat(
        st.just(b"MINID"),
        st.sampled_from([(), (b"=",), (b"~",)]),
        xid,
        some_of(st.tuples(st.just(b"LIMIT"), weighted([0, 1, 5], [-1]))),
    ),
)
min_idle = st.sampled_from([0, 0, OLD, OLD, b"x", -5])


def name(n: str) -> st.SearchStrategy[str]:
    return st.sampled_from([n] * 6 + [n.lower()])


STREAM_CMDS: list[st.SearchStrategy[tuple[Any, ...]]] = [
    flat(name("XADD"), sk, some_of((b"NOMKSTREAM",)), trim_opts, xid_add, pairs),
    flat(name("XADD"), sk, xid_add, pairs),
    flat(name("XADD"), sk, xid_add, pairs),
    flat(name("XRANGE"), sk, bound, bound, some_of(st.tuples(st.just(b"COUNT"), count))),
    flat(name("XREVRANGE"), sk, bound, bound, some_of(st.tuples(st.just(b"COUNT"), count))),
    flat(name("XLEN"), sk),
    flat(name("XDEL"), sk, ids),
    flat(name("XTRIM"), sk, trim_opts),
    flat(
        name("XSETID"),
        sk,
        xid,
        some_of(
            st.tuples(st.just(b"ENTRIESADDED"), weighted([0, 3, 10, 100], [-1, b"x"])),
            st.tuples(st.just(b"MAXDELETEDID"), xid),
        ),
    ),
    flat(
        name("XREAD"),
        some_of(st.tuples(st.just(b"COUNT"), count)),
        st.just(b"STREAMS"),
        st.lists(
            st.tuples(sk, weighted([*IDS, b"$", b"0"], [*ODD_IDS, b">"])), min_size=1, max_size=2
        ).map(lambda kv: tuple(k for k, _ in kv) + tuple(i for _, i in kv)),
    ),
    flat(
        name("XGROUP"),
        st.just(b"CREATE"),
        sk,
        group,
        weighted([b"0", b"$", b"2-0", b"9-9"], [b"x", b"-"]),
        some_of(
            (b"MKSTREAM",), st.tuples(st.just(b"ENTRIESREAD"), weighted([0, 2, 5], [-1, -2, b"x"]))
        ),
    ),
    flat(
        name("XGROUP"),
        st.just(b"SETID"),
        sk,
        group,
        weighted([b"0", b"$", b"2-0", b"+", b"-"], [b"x"]),
        some_of(st.tuples(st.just(b"ENTRIESREAD"), weighted([0, 2, 5], [-1, -2]))),
    ),
    flat(name("XGROUP"), st.just(b"DESTROY"), sk, group),
    flat(name("XGROUP"), st.just(b"CREATECONSUMER"), sk, group, consumer),
    flat(name("XGROUP"), st.just(b"DELCONSUMER"), sk, group, consumer),
    flat(
        name("XREADGROUP"),
        st.just(b"GROUP"),
        group,
        consumer,
        some_of(st.tuples(st.just(b"COUNT"), count), (b"NOACK",)),
        st.just(b"STREAMS"),
        sk,
        weighted([b">", b">", b"0", b"2-0"], [b"$", b"x"]),
    ),
    flat(
        name("XREADGROUP"),
        st.just(b"GROUP"),
        group,
        consumer,
        st.just(b"STREAMS"),
        sk,
        st.just(b">"),
    ),
    flat(name("XACK"), sk, group, ids),
    flat(name("XPENDING"), sk, group),
    flat(
        name("XPENDING"),
        sk,
        group,
        some_of(st.tuples(st.just(b"IDLE"), min_idle)),
        bound,
        bound,
        count,
        st.sampled_from([(), (b"c1",), (b"c2",), (b"nobody",)]),
    ),
    flat(
        name("XCLAIM"),
        sk,
        group,
        consumer,
        min_idle,
        ids,
        some_of(
            st.tuples(st.just(b"IDLE"), st.sampled_from([0, 5 * OLD, b"x"])),
            st.tuples(st.just(b"TIME"), st.sampled_from([1, -5])),
            st.tuples(st.just(b"RETRYCOUNT"), st.sampled_from([0, 3, b"x"])),
            (b"FORCE",),
            (b"JUSTID",),
            st.tuples(st.just(b"LASTID"), xid),
        ),
    ),
    flat(
        name("XAUTOCLAIM"),
        sk,
        group,
        consumer,
        min_idle,
        bound,
        some_of(st.tuples(st.just(b"COUNT"), weighted([1, 2, 5], [0, b"x"])), (b"JUSTID",)),
    ),
    flat(name("XINFO"), st.just(b"STREAM"), sk),
    flat(
        name("XINFO"),
        st.just(b"STREAM"),
        sk,
        st.just(b"FULL"),
        some_of(st.tuples(st.just(b"COUNT"), count)),
    ),
    flat(name("XINFO"), st.just(b"GROUPS"), sk),
    flat(name("XINFO"), st.just(b"CONSUMERS"), sk, group),
    # the keyspace around them
    flat(st.just(b"SET"), st.sampled_from([b"str", b"s2"]), value),
    flat(st.just(b"DEL"), sk),
    flat(st.just(b"TYPE"), sk),
    flat(st.just(b"RENAME"), sk, sk),
    flat(st.just(b"COPY"), sk, sk, some_of((b"REPLACE",))),
    flat(st.just(b"OBJECT"), st.just(b"ENCODING"), sk),
]


def seed() -> Any:
    """A few entries, groups on them, and some deliveries (so the PEL commands find work)."""
    adds = st.lists(
        flat(
            st.just(b"XADD"),
            st.sampled_from(SKEYS),
            st.sampled_from([b"1-*", b"2-*", b"3-*", b"5-*"]),
            pairs,
        ),
        min_size=1,
        max_size=6,
    )
    groups = st.lists(
        flat(
            st.just((b"XGROUP", b"CREATE")),
            st.sampled_from(SKEYS),
            st.sampled_from([b"g2"]),
            st.sampled_from([b"0", b"0", b"$", b"2-0"]),
            st.just(b"MKSTREAM"),
        ),
        max_size=2,
    ).map(lambda gs: [(b"XGROUP", b"CREATE", k, b"g1", b"0", b"MKSTREAM") for k in SKEYS] + gs)
    reads = st.lists(
        flat(
            st.just((b"XREADGROUP", b"GROUP")),
            st.sampled_from(GROUPS),
            consumer,
            some_of(st.tuples(st.just(b"COUNT"), st.sampled_from([1, 2]))),
            st.just(b"STREAMS"),
            st.sampled_from(SKEYS),
            st.just(b">"),
        ),
        max_size=4,
    )
    return st.tuples(adds, groups, reads).map(lambda t: t[0] + t[1] + t[2])


def sequences(max_size: int = 25) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    body = st.lists(st.one_of(STREAM_CMDS), min_size=max_size // 2, max_size=max_size)
    return st.tuples(seed(), body).map(lambda t: t[0] + t[1])


# --------------------------------------------------------------------------------------------
# Masking what depends on the clock


def _mask_time(v: Any, now: int) -> Any:
    if type(v) is int and v > 10**12:
        return "recent" if now - v < OLD else "old"
    return v


def _mask_idle(v: Any) -> Any:
    if type(v) is int:
        return "recent" if v < OLD else "old"
    return v


def masked(cmd: bytes, reply: Any) -> Any:
    """``reply`` with clock-dependent numbers bucketed (see the module docstring)."""
    now = int(time.time() * 1000)

    def walk(v: Any, key: Any = None) -> Any:
        if isinstance(v, RMap):
            return RMap((k, walk(x, k)) for k, x in v)
        if isinstance(v, list):
            if (
                key is None
                and len(v) % 2 == 0
                and any(x in (b"idle", b"seen-time") for x in v[0::2])
            ):
                out = list(v)
                for i in range(0, len(v), 2):
                    out[i + 1] = walk(v[i + 1], v[i])
                return type(v)(out)
            return type(v)(walk(x, key) for x in v)
        if key == b"idle":
            return _mask_idle(v)
        return _mask_time(v, now)

    if cmd == b"xpending" and isinstance(reply, list) and reply and isinstance(reply[0], list):
        return [[*e[:2], _mask_idle(e[2]), *e[3:]] if len(e) == 4 else e for e in reply]
    return walk(reply)


def masked_cmp(cmd: bytes) -> Any:
    def cmp(a: Any, b: Any) -> bool:
        return same(masked(cmd, a), masked(cmd, b))

    return cmp


def run_cmd(pair: Pair, args: tuple[Any, ...]) -> Diff | None:
    cmd = bytes(args[0]).lower() if isinstance(args[0], bytes) else str(args[0]).lower().encode()
    if cmd in (b"xpending", b"xinfo", b"xclaim", b"xautoclaim", b"xreadgroup"):
        return pair.run(*args, cmp=masked_cmp(cmd))
    return pair.run(*args)


def run_sequence(pair: Pair, seq: list[tuple[Any, ...]], stop_at_first: bool = True) -> list[Diff]:
    pair.reset()
    diffs: list[Diff] = []
    for args in seq:
        d = run_cmd(pair, args)
        if d is not None:
            diffs.append(d)
            if stop_at_first:
                return diffs
    diffs += pair.check_state()
    for k in SKEYS:
        for extra in ((b"XINFO", b"STREAM", k, b"FULL"), (b"XINFO", b"GROUPS", k)):
            d = run_cmd(pair, extra)
            if d is not None:
                diffs.append(d)
    return diffs


# --------------------------------------------------------------------------------------------
# Blocking scenarios


def scenario(
    port: int,
    setup: Sequence[Sequence[Any]],
    waiters: Sequence[Sequence[Any]],
    actions: Sequence[Sequence[Any]],
    resp: int = 2,
) -> dict[str, Any]:
    """``setup``, then each waiter on its own connection (the next once the previous one
    blocked or answered), then ``actions``; the waiters' replies and the final state."""
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
    out["waiters"] = [masked(b"xreadgroup", x) for x in replies]
    out["state"] = [
        masked(b"xinfo", main.call(*c))
        for k in BSKEYS
        for c in ((b"TYPE", k), (b"XRANGE", k, b"-", b"+"), (b"XINFO", b"STREAM", k, b"FULL"))
    ]
    main.close()
    return out


BSKEYS = [b"a", b"b"]
bsk = st.sampled_from(BSKEYS)
WAIT = b"400"
bwaiter = st.one_of(
    flat(
        st.just(b"XREAD"),
        some_of(st.tuples(st.just(b"COUNT"), st.sampled_from([1, 2]))),
        st.just((b"BLOCK", WAIT, b"STREAMS")),
        st.lists(
            st.tuples(bsk, st.sampled_from([b"$", b"0", b"1-1", b"3-0"])), min_size=1, max_size=2
        ).map(lambda kv: tuple(k for k, _ in kv) + tuple(i for _, i in kv)),
    ),
    flat(
        st.just((b"XREADGROUP", b"GROUP")),
        st.sampled_from([b"g", b"h"]),
        consumer,
        some_of(st.tuples(st.just(b"COUNT"), st.sampled_from([1, 2])), (b"NOACK",)),
        st.just((b"BLOCK", WAIT, b"STREAMS")),
        bsk,
        st.just(b">"),
    ),
)
baction = st.one_of(
    flat(st.just(b"XADD"), bsk, st.sampled_from([b"5-*", b"6-*", b"2-*"]), pairs),
    flat(st.just(b"XADD"), bsk, st.sampled_from([b"5-*", b"6-*"]), pairs),
    flat(st.just(b"XDEL"), bsk, st.sampled_from([b"1-1", b"5-0", b"6-0"])),
    flat(st.just(b"DEL"), bsk),
    flat(st.just(b"SET"), bsk, value),
    flat(st.just((b"XGROUP", b"DESTROY")), bsk, st.sampled_from([b"g", b"h"])),
    flat(st.just((b"XGROUP", b"SETID")), bsk, st.sampled_from([b"g", b"h"]), st.just(b"0")),
    flat(st.just(b"XSETID"), bsk, st.just(b"99-0")),
    flat(st.just(b"RENAME"), bsk, bsk),
    flat(st.just(b"XTRIM"), bsk, st.just((b"MAXLEN", b"0"))),
)
bsetup = st.lists(
    st.sampled_from(
        [
            (b"XADD", b"a", b"1-1", b"f", b"v"),
            (b"XADD", b"b", b"1-1", b"f", b"v"),
            (b"XGROUP", b"CREATE", b"a", b"g", b"$", b"MKSTREAM"),
            (b"XGROUP", b"CREATE", b"b", b"g", b"0", b"MKSTREAM"),
            (b"XGROUP", b"CREATE", b"a", b"h", b"0", b"MKSTREAM"),
        ]
    ),
    max_size=4,
)
blocking_case = st.tuples(
    bsetup, st.lists(bwaiter, min_size=1, max_size=3), st.lists(baction, min_size=1, max_size=3)
)


def compare_scenario(
    pika_port: int, redis_port: int, *args: Any, **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    return scenario(pika_port, *args, **kw), scenario(redis_port, *args, **kw)


def assert_same_scenario(pika_port: int, redis_port: int, *args: Any, **kw: Any) -> None:
    a, b = compare_scenario(pika_port, redis_port, *args, **kw)
    for part in ("actions", "waiters", "state"):
        assert same(a[part], b[part]), f"{part}:\n  pikadb: {a[part]!r}\n  redis : {b[part]!r}"


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


def _check(pair: Pair, seq: list[tuple[Any, ...]]) -> None:
    if run_sequence(pair, seq):
        raise AssertionError(pair.report())


@diff_settings(240)
@given(seq=sequences())
def test_streams_resp2(pairs2: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs2, seq)


@diff_settings(120)
@given(seq=sequences())
def test_streams_resp3(pairs3: Pair, seq: list[tuple[Any, ...]]) -> None:
    _check(pairs3, seq)


@diff_settings(45)
@given(case=blocking_case, resp=st.sampled_from([2, 3]))
def test_blocking_scenarios(
    pika: PikaServer, real_redis: RedisServer, case: tuple[Any, ...], resp: int
) -> None:
    setup, waiters, actions = case
    assert_same_scenario(pika.port, real_redis.port, setup, waiters, actions, resp=resp)


def test_trimming_nodes_table(pairs2: Pair) -> None:
    """Approximate trimming removes whole listpack nodes: node boundaries (100 entries or
    4096 bytes) and the radix-tree counters must match Redis's."""
    pair = pairs2
    pair.reset()
    rng = random.Random(7)
    for n in range(1, 260):
        pair.run(b"XADD", b"s1", b"%d-1" % n, b"f", b"v" * (n % 7), b"n", b"%d" % n)
        pair.run(b"XADD", b"s2", b"%d-1" % n, b"f%d" % (n % 3), b"x" * (n * 3 % 90))
        # sizes around the 4096-byte node limit, int-like values, changing fields
        size = rng.choice([0, 1, 63, 64, 200, 377, 700, 1000])
        val = rng.choice([b"z" * size, b"%d" % rng.randrange(-(10**12), 10**12)])
        pair.run(b"XADD", b"{t}s", b"%d-%d" % (n, rng.randrange(3)), rng.choice([b"a", b"b"]), val)
    cmds: list[tuple[Any, ...]] = [
        (b"XINFO", b"STREAM", b"s1"),
        (b"XINFO", b"STREAM", b"s2"),
        (b"XINFO", b"STREAM", b"{t}s"),
        (b"XTRIM", b"{t}s", b"MAXLEN", b"~", b"100"),
        (b"XINFO", b"STREAM", b"{t}s"),
        (b"XTRIM", b"s1", b"MAXLEN", b"~", b"150"),
        (b"XTRIM", b"s2", b"MAXLEN", b"~", b"150"),
        (b"XDEL", b"s1", b"120-1", b"130-1", b"201-1"),
        (b"XTRIM", b"s1", b"MINID", b"~", b"210-1"),
        (b"XTRIM", b"s2", b"MINID", b"~", b"240-1", b"LIMIT", b"30"),
        (b"XTRIM", b"s2", b"MINID", b"~", b"240-1", b"LIMIT", b"300"),
        (b"XADD", b"s1", b"MAXLEN", b"~", b"10", b"500-1", b"f", b"v"),
        (b"XINFO", b"STREAM", b"s1"),
        (b"XINFO", b"STREAM", b"s2"),
        (b"XTRIM", b"s1", b"MAXLEN", b"3"),
        (b"XINFO", b"STREAM", b"s1", b"FULL"),
    ]
    for c in cmds:
        run_cmd(pair, c)
    pair.check_state()
    pair.assert_clean()


def _signature(d: Diff) -> str:
    """Survey groups: command and its first argument (the key, or XINFO/XGROUP's subcommand)."""
    return " ".join(str(a) for a in d.args[:2])


if __name__ == "__main__":  # pragma: no cover - survey: every discrepancy, grouped
    # stop_at_first: one discrepancy per sequence, as this module's survey always did
    survey(
        sequences(),
        run_sequence,
        int(sys.argv[1]) if len(sys.argv) > 1 else 200,
        signature=_signature,
        stop_at_first=True,
    )
