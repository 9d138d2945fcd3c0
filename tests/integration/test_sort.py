"""SORT and SORT_RO on a running pikadb, checked against a real redis-server 7.0 on the wire
(typed RESP2 and RESP3 replies through the differential harness) and, where Redis can't be
the judge, against the behaviour Redis's sort.c and tests/unit/sort.tcl define.

Real redis 7.0 quirk kept out of the comparisons: sort.c reads ``errno`` after ``strtod``
without clearing it, so after any ERANGE (e.g. a weight "1e-310") every numeric SORT of the
server fails until some system call resets errno (accepting a new connection does). Cases
with such weights reconnect the redis side first (:func:`fresh`) and come last in a sequence.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import Pair, unordered

MEMBERS = [*"abcdefghilmnopqrstuvz", "aa", "aaa", "azz"]
SORT_ERR = "One or more scores can't be converted into double"


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request: pytest.FixtureRequest, r: redis.Redis, rr: redis.Redis) -> Iterator[Pair]:
    p = Pair.from_clients(r, rr, resp=request.param)
    p.reset()
    yield p
    p.close()


def fresh(pair: Pair) -> None:
    """Reconnect the redis side: clears a stale ERANGE errno in redis 7.0 (see module doc)."""
    pair.q.close()


def check(pair: Pair, *cmds: tuple[Any, ...], state: bool = True) -> None:
    for cmd in cmds:
        pair.run(*cmd)
    if state:
        pair.check_state()
    pair.assert_clean()


def seed(pair: Pair) -> None:
    check(
        pair,
        ("RPUSH", "l", 3, 1, 2, 5, 4),
        ("RPUSH", "la", "a", "b", "c"),
        ("SADD", "si", 5, 3, 1, 10),
        ("SADD", "s", "c", "a", "b", "10", "2"),
        ("ZADD", "z", 3, "a", 1, "b", 2, "c", 0, "d"),
        ("MSET", "w_1", 50, "w_2", 40, "w_3", 30, "w_4", 20, "w_5", 10),
        ("HSET", "h_1", "f", 5, "g", "x"),
        ("HSET", "h_2", "f", 4),
        ("HSET", "h_3", "f", 3),
        ("SET", "str", "v"),
        ("HSET", "hash", "a", 1),
        state=False,
    )


LIMITS = [
    (0, 2),
    (-1, 2),
    (2, -1),
    (10, 2),
    (3, 9223372036854775807),
    (9223372036854775807, 9223372036854775807),
    (1, -5),
    (-9223372036854775808, 3),
    (4, 0),
    (5, 1),
    (0, 0),
    (-5, -5),
]


# --- basics ------------------------------------------------------------------------------
def test_numeric_alpha_desc(pair: Pair) -> None:
    seed(pair)
    check(
        pair,
        ("SORT", "l"),
        ("SORT", "l", "DESC"),
        ("SORT", "l", "ASC"),
        ("SORT", "l", "desc", "asc"),
        ("SORT", "la", "ALPHA"),
        ("SORT", "la", "alpha", "DESC"),
        ("SORT", "si"),
        ("SORT", "si", "DESC"),
        ("SORT", "s", "ALPHA"),
        ("SORT", "s", "ALPHA", "DESC"),
        ("SORT", "z"),
        ("SORT", "z", "ALPHA"),
        ("SORT", "z", "ALPHA", "DESC"),
        ("SORT_RO", "l", "DESC"),
        ("SORT", "missing"),
        ("SORT", "missing", "ALPHA", "DESC", "LIMIT", 0, 5),
    )


def test_alpha_against_integer_strings(pair: Pair) -> None:
    # sort.tcl "SORT ALPHA against integer encoded strings": 1 10 2 3
    check(pair, ("LPUSH", "m", 2, 1, 3, 10), ("SORT", "m", "ALPHA"), ("SORT", "m"))


def test_floats_and_special_numbers(pair: Pair) -> None:
    floats = ["1.1", "5.10", "3.10", "7.44", "2.1", "5.75", "6.12", "0.25", "1.15"]
    check(
        pair,
        ("RPUSH", "f", *floats),
        ("SORT", "f"),
        ("SORT", "f", "DESC"),
        ("RPUSH", "odd", "", "3", "  2", "1\x00zz", "0x10", "inf", "-inf", "-0", "0", "+5"),
        ("RPUSH", "odd", ".5", "5.", "\t7", "0x.8", "0x1P+3", "00012", "1e5", "-1e308"),
        ("RPUSH", "odd", "0x1p-1074", "0e-400", "2.2250738585072014e-308"),
        ("SORT", "odd"),
        ("SORT", "odd", "DESC"),
        ("SORT", "odd", "LIMIT", 2, 3),
    )


@pytest.mark.parametrize(
    "bad",
    ["2 ", " ", "nan", "-nan", "nan(1)", "1_0", "1e", "1e+", "0x", "0x1.8p", "-", ".", "abc"],
)
def test_weights_that_are_not_doubles(pair: Pair, bad: str) -> None:
    check(
        pair,
        ("RPUSH", "x", 1, bad, 2),
        ("SORT", "x"),
        ("SORT", "x", "DESC", "LIMIT", 0, 1),
        ("SORT", "x", "STORE", "dst"),
        ("SORT", "x", "ALPHA"),
        ("SORT", "x", "BY", "nosort"),
        ("MSET", "w_1", 1, "w_2", 2),
        ("SET", f"w_{bad}", bad),
        ("SORT", "x", "BY", "w_*"),
        ("DEL", f"w_{bad}"),
        ("SORT", "x", "BY", "w_*"),  # a missing weight is 0, no error
        ("SORT", "x", "BY", "h_*->f"),
    )


@pytest.mark.parametrize(
    "weight",
    [
        "1e-310",
        "4.9e-324",
        "2.2250738585072011e-308",
        "1e-400",
        "1.7976931348623159e308",
        "0x1.fffffffffffff8p1023",
        "0x1p1024",
        "-1e-310",
        "1e400",
    ],
)
def test_erange_weights(pair: Pair, weight: str) -> None:
    check(pair, ("RPUSH", "x", 1, weight), state=False)
    fresh(pair)
    check(pair, ("SORT", "x"), state=False)
    fresh(pair)  # redis keeps the stale ERANGE: clear it before the state check
    pair.check_state()
    pair.assert_clean()


def test_erange_is_per_call_in_pikadb(r: redis.Redis) -> None:
    """Unlike redis 7.0 (stale errno), an ERANGE weight fails only the SORT that reads it."""
    r.rpush("bad", "1e-310")
    r.rpush("good", "2", "1e5", "1")
    with pytest.raises(redis.ResponseError, match=SORT_ERR):
        r.sort("bad")
    assert r.sort("good") == [b"1", b"2", b"1e5"]


# --- LIMIT ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("offset", "count"), LIMITS)
def test_limit(pair: Pair, offset: int, count: int) -> None:
    seed(pair)
    lim = ("LIMIT", offset, count)
    check(
        pair,
        ("SORT", "l", *lim),
        ("SORT", "l", "DESC", *lim),
        ("SORT", "l", "BY", "nosort", *lim),
        ("SORT", "l", "BY", "nosort", "DESC", *lim),
        ("SORT", "z", "BY", "nosort", *lim),
        ("SORT", "z", "BY", "nosort", "DESC", *lim),
        ("SORT", "z", "ALPHA", "DESC", *lim),
        ("SORT", "si", "BY", "nosort", *lim),
        ("SORT", "si", "BY", "nosort", "DESC", *lim),
        ("SORT", "l", "BY", "w_*", *lim),
        ("SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f", *lim),
        ("SORT", "l", *lim, "STORE", "dst"),
        ("SORT", "l", "BY", "nosort", "DESC", *lim, "STORE", "dst2"),
        ("SORT", "missing", *lim),
    )


def test_limit_errors(pair: Pair) -> None:
    seed(pair)
    check(
        pair,
        ("SORT", "l", "LIMIT", 0, "1.5"),
        ("SORT", "l", "LIMIT", "a", 1),
        ("SORT", "l", "LIMIT", 0),
        ("SORT", "l", "LIMIT"),
        ("SORT", "l", "LIMIT", "9223372036854775808", 1),
        ("SORT", "l", "LIMIT", " 1", 1),
        ("SORT", "l", "LIMIT", 0, 1, "LIMIT", 1, 1),
        ("SORT", "str", "LIMIT", "x", 1),  # the option error wins over WRONGTYPE
    )


# --- BY / GET --------------------------------------------------------------------------------
def test_by_patterns(pair: Pair) -> None:
    seed(pair)
    check(
        pair,
        ("SORT", "l", "BY", "w_*"),
        ("SORT", "l", "BY", "w_*", "DESC"),
        ("SORT", "l", "BY", "h_*->f"),
        ("SORT", "l", "BY", "h_*->f", "DESC"),
        ("SORT", "l", "BY", "h_*->missing"),
        ("SORT", "l", "BY", "nosuch_*"),
        ("SORT", "l", "BY", "h_*->g"),  # "x" is not a double, h_4/h_5 are missing
        ("SORT", "l", "BY", "h_*->g", "ALPHA"),
        ("SORT", "l", "BY", "h_*->g", "ALPHA", "DESC"),
        ("SORT", "l", "BY", "w_*", "ALPHA"),
        ("SORT", "la", "BY", "w_*", "ALPHA"),
        ("SORT", "z", "BY", "w_*"),
        ("SORT", "si", "BY", "w_*"),
        ("SORT", "si", "BY", "w_*", "DESC", "GET", "#", "GET", "w_*"),
        ("SORT", "l", "BY", "nosort"),
        ("SORT", "l", "BY", "nosort", "DESC"),
        ("SORT", "l", "BY", "w_", "DESC"),  # no '*': no sort
        ("SORT", "l", "BY", "#"),
        ("SORT", "l", "BY", "nosort", "BY", "w_*"),  # "do not sort" sticks
        ("SORT", "l", "BY", "w_*", "BY", "nosort"),
        ("SORT", "l", "BY", "w_\x00*"),  # a '*' after a NUL is not seen
        ("SORT", "l", "BY", "str*"),  # weights from keys of other types count as missing
        ("SORT", "l", "BY", "l*"),
    )


def test_by_hash_field_ties_sub_sort_by_element(pair: Pair) -> None:
    members = MEMBERS
    check(
        pair,
        ("SADD", "myset", *members),
        ("MSET", *[x for m in members for x in (f"score:{m}", 100)]),
        ("SORT", "myset", "BY", "score:*"),
        ("SORT", "myset", "BY", "score:*", "DESC"),
        ("SORT", "myset", "BY", "score:*", "LIMIT", 3, 4),
    )


@pytest.mark.parametrize("n", [6, 8, 41, 200])
def test_alpha_by_ties_with_limit_follow_redis_partial_sort(pair: Pair, n: int) -> None:
    """BY + LIMIT makes redis use its partial quicksort: equal (and missing) BY values come
    out in its order, not the input order."""
    rng = random.Random(n)
    items = [f"e{i}" for i in range(n)]
    cmds: list[tuple[Any, ...]] = [("RPUSH", "l", *items)]
    cmds += [("SET", f"w_{e}", rng.choice("abc")) for e in items if rng.random() < 0.8]
    check(pair, *cmds, state=False)
    lims = [(0, 1), (1, 3), (n // 3, n // 4 + 1), (n - 3, 10), (2, -1), (0, n - 1)]
    for off, cnt in lims:
        for extra in [(), ("DESC",), ("GET", "#", "GET", "w_*"), ("STORE", "dst")]:
            pair.run("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", off, cnt, *extra)
    check(pair)


def test_get_patterns(pair: Pair) -> None:
    seed(pair)
    check(
        pair,
        ("RPUSH", "lb", "a", "b", "c"),
        ("SET", "x:a->", 100),
        ("HSET", "h_a", "f", "HA"),
        ("SET", "w_b", "WB"),
        ("RPUSH", "lst_c", 1),
        ("HSET", "a", "f*", "F", "f", "F0", "f->g", "FG"),
        ("SET", "b", "VB"),
        ("SORT", "lb", "ALPHA", "GET", "x:*->"),
        ("SORT", "lb", "ALPHA", "GET", "h_*->f", "GET", "w_*", "GET", "#", "GET", "lst_*"),
        ("SORT", "lb", "ALPHA", "GET", "w_*->f"),
        ("SORT", "lb", "ALPHA", "GET", "->f*"),
        ("SORT", "lb", "ALPHA", "GET", "*"),
        ("SORT", "lb", "ALPHA", "GET", "*->f*"),
        ("SORT", "lb", "ALPHA", "GET", "*->f"),
        ("SORT", "lb", "ALPHA", "GET", "*->f->g"),
        ("SORT", "lb", "ALPHA", "GET", "*->"),
        ("SORT", "lb", "ALPHA", "GET", "**"),
        ("SORT", "lb", "ALPHA", "GET", "constant"),
        ("SORT", "lb", "ALPHA", "GET", "#\x00x"),
        ("SORT", "lb", "ALPHA", "GET", "##"),
        ("SORT", "lb", "ALPHA", "GET", "*\x00->f"),
        ("SORT", "l", "GET", "#", "GET", "w_*", "GET", "h_*->f", "DESC"),
        ("SORT", "l", "GET", "w_*", "BY", "w_*"),
        ("SORT", "missing", "GET", "#", "GET", "w_*"),
    )


def test_get_pattern_ending_with_arrow(pair: Pair) -> None:
    # sort.tcl: "SORT GET with pattern ending with just -> does not get hash field"
    check(
        pair,
        ("LPUSH", "mylist", "a"),
        ("SET", "x:a->", 100),
        ("SORT", "mylist", "BY", "num", "GET", "x:*->"),
    )


# --- STORE -----------------------------------------------------------------------------------
def test_store(pair: Pair) -> None:
    seed(pair)
    check(
        pair,
        ("SORT", "l", "STORE", "dst"),
        ("LRANGE", "dst", 0, -1),
        ("SORT", "l", "BY", "w_*", "STORE", "dst"),
        ("SORT", "l", "GET", "#", "GET", "nosuch_*", "GET", "h_*->f", "STORE", "dst"),
        ("LRANGE", "dst", 0, -1),
        ("OBJECT", "ENCODING", "dst"),
        ("SORT", "l", "STORE", "str"),  # overwrites a string
        ("TYPE", "str"),
        ("SORT", "missing", "STORE", "dst"),  # empty result deletes the destination
        ("EXISTS", "dst"),
        ("SORT", "missing", "STORE", "dst"),
        ("LPUSH", "foo", "bar"),
        ("SORT", "foo", "ALPHA", "LIMIT", 10, 10, "STORE", "zap"),
        ("EXISTS", "zap"),
        ("SORT", "l", "STORE", "l"),  # the source itself
        ("LRANGE", "l", 0, -1),
        ("SORT", "l", "STORE", "a", "STORE", "b"),  # the last STORE wins
        ("EXISTS", "a", "b"),
        ("SET", "k", "v", "EX", 100),
        ("SORT", "si", "STORE", "k"),
        ("TTL", "k"),
        ("SORT", "s", "ALPHA", "STORE", "hash"),
        ("TYPE", "hash"),
    )


def test_store_sorts_a_set_without_sort(pair: Pair) -> None:
    # sort.tcl "SORT with BY <constant> and STORE should still order output"
    members = MEMBERS
    check(
        pair,
        ("SADD", "myset", *members),
        ("SORT", "myset", "ALPHA", "BY", "_", "STORE", "mylist"),
        ("LRANGE", "mylist", 0, -1),
        ("SORT", "myset", "BY", "nosort", "DESC", "STORE", "mylist"),
        ("SORT", "myset", "BY", "nosort", "STORE", "mylist", "LIMIT", 2, 3, "GET", "#"),
        ("SADD", "ints", 30, 2, 100, -1),
        ("SORT", "ints", "BY", "nosort", "STORE", "out"),  # ALPHA, not numeric
    )


def test_store_binary_and_nul_collation(pair: Pair) -> None:
    items = [
        b"\xff",
        b"\x80",
        b"a",
        b"B",
        "é".encode(),
        b"\xc3\xa9\x00z",
        b"",
        b"a\x00c",
        b"a\x00b",
    ]
    check(
        pair,
        ("RPUSH", "bin", *items),
        ("SORT", "bin", "ALPHA"),  # strcoll: up to the NUL, ties keep list order
        ("SORT", "bin", "ALPHA", "DESC"),
        ("SORT", "bin", "ALPHA", "STORE", "d"),  # binary compare with STORE
        ("SORT", "bin", "ALPHA", "DESC", "STORE", "d2"),
        ("MSET", "w_a", "x\x00b", "w_B", "x\x00a", "w_", "x"),
        ("SORT", "bin", "BY", "w_*", "ALPHA"),
        ("SORT", "bin", "BY", "w_*", "ALPHA", "STORE", "d3"),
    )


# --- errors, types, SORT_RO --------------------------------------------------------------------
def test_errors(pair: Pair) -> None:
    seed(pair)
    check(
        pair,
        ("SORT",),
        ("SORT_RO",),
        ("SORT", "str"),
        ("SORT", "hash"),
        ("SORT", "str", "foo"),  # syntax before type
        ("SORT", "l", "foo"),
        ("SORT", "l", "BY"),
        ("SORT", "l", "GET"),
        ("SORT", "l", "STORE"),
        ("SORT", "la"),
        ("SORT", "la", "STORE", "dst"),
        ("SORT_RO", "l", "STORE", "dst"),
        ("SORT_RO", "l", "STORE"),
        ("SORT_RO", "la", "ALPHA", "GET", "#"),
        ("SORT_RO", "str"),
        ("SORT", "l", "asc\x00junk"),  # keywords compare as C strings
        ("SORT", "l", "dEsC"),
        ("SORT", "la", "ALPHA\x00", "GET", "#"),
    )


def test_zset_nosort_keeps_zset_order(pair: Pair) -> None:
    check(
        pair,
        ("ZADD", "zs", 1, "a", 5, "b", 2, "c", 10, "d", 3, "e", "-inf", "min", "+inf", "max"),
        ("SORT", "zs", "BY", "nosort"),
        ("SORT", "zs", "BY", "nosort", "DESC"),
        ("SORT", "zs", "BY", "nosort", "LIMIT", 1, 3),
        ("SORT", "zs", "BY", "nosort", "DESC", "LIMIT", 1, 3),
        ("SORT", "zs", "BY", "nosort", "GET", "#", "STORE", "out"),
        ("SORT", "zs", "ALPHA", "DESC"),
        ("SORT", "zs", "BY", "nosort", "ALPHA", "DESC", "LIMIT", 0, 1),
    )


def test_set_nosort_is_any_order(pair: Pair) -> None:
    check(pair, ("SADD", "s", "c", "a", "b", "xyz", ""), state=False)
    for cmd in [("SORT", "s", "BY", "nosort"), ("SORT_RO", "s", "BY", "nosort", "DESC")]:
        pair.run(*cmd, cmp=unordered)
    pair.assert_clean()


def test_expired_and_wrongtype_pattern_keys(pair: Pair) -> None:
    seed(pair)
    check(
        pair,
        ("SET", "w_1", 999, "PX", 1),
        ("RPUSH", "w_2", "a list"),
        state=False,
    )
    time.sleep(0.05)
    check(pair, ("SORT", "l", "BY", "w_*", "GET", "w_*", "GET", "#"))


# --- pikadb-side checks ------------------------------------------------------------------------
def test_command_metadata(pair: Pair) -> None:
    check(
        pair,
        ("COMMAND", "INFO", "SORT", "SORT_RO"),
        ("COMMAND", "GETKEYS", "SORT", "a", "LIMIT", "store", "1", "GET", "store", "store", "b"),
        ("COMMAND", "GETKEYS", "SORT", "a", "STORE", "d", "STORE", "e"),
        ("COMMAND", "GETKEYS", "SORT", "a", "store\x00", "d"),
        ("COMMAND", "GETKEYS", "SORT", "a", "GET", "store", "x"),
        ("COMMAND", "GETKEYS", "SORT_RO", "a", "GET", "x", "STORE", "y"),
        ("COMMAND", "GETKEYSANDFLAGS", "SORT_RO", "a", "GET", "x"),
        state=False,
    )


def test_getkeysandflags_store_is_ow_update(pair: Pair) -> None:
    check(pair, ("COMMAND", "GETKEYSANDFLAGS", "SORT", "a", "STORE", "d"), state=False)


def test_store_wakes_blocked_client(r: redis.Redis, pika: Any) -> None:
    r.rpush("src", 3, 1, 2)
    got: list[Any] = []
    other = pika.client()
    t = threading.Thread(target=lambda: got.append(other.blpop("dst", 5)), daemon=True)
    t.start()
    time.sleep(0.2)
    assert r.sort("src", store="dst") == 3
    t.join(5)
    assert got == [(b"dst", b"1")]
    assert r.lrange("dst", 0, -1) == [b"2", b"3"]
    other.close()


def test_big_sort_by_and_get(r: redis.Redis) -> None:
    """A 20,000-element list sorted BY a key and a hash field, with GETs and STORE."""
    n = 20_000
    rng = random.Random(7)
    weights = rng.sample(range(10 * n), n)
    pipe = r.pipeline(transaction=False)
    ids = list(range(n))
    for i in ids:
        pipe.set(f"w_{i}", weights[i])
        pipe.hset(f"o_{i}", "name", f"n{i}")
    pipe.rpush("big", *ids)
    pipe.execute()
    want = [str(i).encode() for i in sorted(ids, key=lambda i: weights[i])]
    t0 = time.perf_counter()
    assert r.sort("big", by="w_*") == want
    got = r.sort("big", by="o_*->name", get=["#", "o_*->name"], alpha=True, start=10, num=3)
    took = time.perf_counter() - t0
    names = sorted(ids, key=lambda i: f"n{i}")[10:13]
    assert got == [x for i in names for x in (str(i).encode(), f"n{i}".encode())]
    assert r.sort("big", by="w_*", desc=True, store="sorted") == n
    assert r.lrange("sorted", 0, 2) == want[::-1][:3]
    assert r.sort("big", by="nosort", start=n - 2, num=5) == [b"19998", b"19999"]
    print(f"\nSORT of {n} BY key + BY field/GET: {took:.3f}s")
