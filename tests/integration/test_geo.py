"""Geo commands against a real pikadb server: the cases of Redis 7.0's tests/unit/geo.tcl
(expected values are Redis's), reply shapes in RESP2 and RESP3, key extraction for
GEORADIUS ... STORE, and that geo sets are plain zsets (TYPE, STORE results). Replies are
read raw (the differential harness's typed parser), not through redis-py's callbacks."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import NULLS, Double, Err, Pair, Side
from tests.support.servers import PikaServer

NYC = [
    (-73.9733487, 40.7648057, "central park n/q/r"),
    (-73.9903085, 40.7362513, "union square"),
    (-74.0131604, 40.7126674, "wtc one"),
    (-73.7858139, 40.6428986, "jfk"),
    (-73.9375699, 40.7498929, "q4"),
    (-73.9564142, 40.7480973, "4545"),
]


_SIDES: dict[int, Side] = {}


@pytest.fixture(autouse=True, scope="module")
def _close_sides() -> Iterator[None]:
    yield
    while _SIDES:
        _SIDES.popitem()[1].close()


def _side(r: redis.Redis) -> Side:
    """A raw connection (typed RESP parser, no redis-py reply callbacks) to r's server."""
    port = r.connection_pool.connection_kwargs["port"]
    if port not in _SIDES:
        _SIDES[port] = Side("pikadb", port)
    return _SIDES[port]


def _plain(v: Any) -> Any:
    if v in NULLS:
        return None
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _args(args: tuple[Any, ...]) -> list[Any]:
    return [repr(a) if isinstance(a, float) else a for a in args]


def cmd(r: redis.Redis, *args: Any) -> Any:
    """The reply as sent: bytes, int, lists, None for nulls (errors fail the test)."""
    v = _side(r).call(*_args(args))
    assert not isinstance(v, Err), (args, v)
    return _plain(v)


def err(r: redis.Redis, *args: Any) -> str:
    """The error text, without the "ERR " prefix."""
    v = _side(r).call(*_args(args))
    assert isinstance(v, Err), (args, v)
    return v[4:] if v.startswith("ERR ") else str(v)


def strs(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, list):
        return [strs(x) for x in v]
    return v


@pytest.fixture
def nyc(r: redis.Redis) -> redis.Redis:
    assert cmd(r, "GEOADD", "nyc", -73.9454966, 40.747533, "lic market") == 1
    assert cmd(r, "GEOADD", "nyc", *[x for p in NYC for x in p]) == 6
    return r


@pytest.fixture
def side3(pika: PikaServer) -> Iterator[Side]:
    s = Side("pikadb", pika.port, resp=3)
    yield s
    s.close()


@pytest.fixture
def side2(pika: PikaServer) -> Iterator[Side]:
    s = Side("pikadb", pika.port, resp=2)
    yield s
    s.close()


# --- edge responses (geo.tcl "GEO with wrong type / non existing src key") ---------------------
def _edge_calls() -> list[tuple[Any, ...]]:
    return [
        ("GEORADIUS", "src{t}", 1, 1, 1, "km"),
        ("GEORADIUS", "src{t}", 1, 1, 1, "km", "STORE", "dest{t}"),
        ("GEOSEARCH", "src{t}", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km"),
        ("GEOSEARCHSTORE", "dest{t}", "src{t}", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km"),
        ("GEORADIUSBYMEMBER", "src{t}", "member", 1, "km"),
        ("GEORADIUSBYMEMBER", "src{t}", "member", 1, "km", "STORE", "dest{t}"),
        ("GEOSEARCH", "src{t}", "FROMMEMBER", "member", "BYBOX", 1, 1, "km"),
        ("GEOSEARCHSTORE", "dest{t}", "src{t}", "FROMMEMBER", "member", "BYBOX", 1, 1, "m"),
    ]


def test_wrong_type_source(r: redis.Redis) -> None:
    r.set("src{t}", "wrong_type")
    for c in _edge_calls():
        assert err(r, *c).startswith("WRONGTYPE"), c


def test_missing_source(r: redis.Redis) -> None:
    for c in _edge_calls():
        r.set("dest{t}", "x")
        store = "STORE" in c or c[0] == "GEOSEARCHSTORE"
        assert cmd(r, *c) == (0 if store else []), c
        # STORE on a missing source deletes the destination
        assert r.exists("dest{t}") == (0 if store else 1), c


def test_empty_search_and_missing_member(r: redis.Redis) -> None:
    cmd(r, "GEOADD", "src{t}", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")
    for c in _edge_calls()[:4]:
        store = "STORE" in c or c[0] == "GEOSEARCHSTORE"
        assert cmd(r, *c) == (0 if store else []), c
    for c in _edge_calls()[4:]:
        assert err(r, *c) == "could not decode requested zset member", c


# --- GEOADD ------------------------------------------------------------------------------------
def test_geoadd_options(r: redis.Redis) -> None:
    assert cmd(r, "GEOADD", "nyc", -73.9454966, 40.747533, "lic market") == 1
    assert cmd(r, "GEOADD", "nyc", -73.9454966, 40.747533, "lic market") == 0
    assert cmd(r, "GEOADD", "nyc", "CH", 40.747533, -73.9454966, "lic market") == 1
    x, y = r.geopos("nyc", "lic market")[0]
    assert abs(x - 40.747533) < 0.001 and abs(y + 73.9454966) < 0.001
    assert cmd(r, "GEOADD", "nyc", "NX", -73.9454966, 40.747533, "lic market") == 0
    assert cmd(r, "GEOADD", "nyc", "XX", -83.9454966, 40.747533, "lic market") == 0
    x, y = r.geopos("nyc", "lic market")[0]
    assert abs(x + 83.9454966) < 0.001 and abs(y - 40.747533) < 0.001
    assert cmd(r, "GEOADD", "nyc", "CH", "NX", -73.9454966, 40.747533, "lic market") == 0
    assert cmd(r, "GEOADD", "nyc", "CH", "XX", -73.9454966, 40.747533, "lic market") == 1
    assert cmd(r, "GEOADD", "nyc", "XX", 1, 1, "new") == 0
    assert cmd(r, "GEOADD", "new", "XX", 1, 1, "new") == 0
    assert r.exists("new") == 0
    # the same member twice in one call: the last position wins, counted once
    assert cmd(r, "GEOADD", "dup", "CH", 1, 1, "m", 2, 2, "m") == 2  # added, then changed
    assert cmd(r, "GEOADD", "dup2", 1, 1, "m", 2, 2, "m") == 1
    cmd(r, "GEOADD", "probe", 2, 2, "m")
    assert r.zscore("dup", "m") == r.zscore("probe", "m")


def test_geoadd_errors(r: redis.Redis) -> None:
    args = (-73.9454966, 40.747533, "lic market")
    assert err(r, "GEOADD", "nyc", "xx", "nx", *args) == "syntax error"
    assert err(r, "GEOADD", "nyc", "ch", "xx", "foo", *args) == "syntax error"
    assert err(r, "GEOADD", "nyc", "ch", "foo", 40.747533, "m") == "value is not a valid float"
    assert err(r, "GEOADD", "nyc", *args, "foo", "bar", "luck market") == (
        "value is not a valid float"
    )
    assert err(r, "GEOADD", "nyc", 1, 1, "m", 2) == "syntax error"
    assert err(r, "GEOADD", "nyc", "CH", "CH", "CH") == "syntax error"
    assert (
        err(r, "GEOADD", "nyc", 200, 38, "p")
        == "invalid longitude,latitude pair 200.000000,38.000000"
    )
    assert err(r, "GEOADD", "nyc", 1, 85.05112879, "p") == (
        "invalid longitude,latitude pair 1.000000,85.051129"
    )
    assert (
        err(r, "GEOADD", "nyc", "-inf", 0, "p") == "invalid longitude,latitude pair -inf,0.000000"
    )
    assert err(r, "GEOADD", "nyc", "nan", 0, "p") == "value is not a valid float"
    assert err(r, "GEOADD", "nyc", 1, 1) == "wrong number of arguments for 'geoadd' command"
    r.set("str", "v")
    assert err(r, "GEOADD", "str", 1, 1, "m").startswith("WRONGTYPE")
    assert err(r, "GEOADD", "str", 1, 100, "m").startswith("invalid longitude")  # before type
    assert r.exists("nyc") == 0


def test_geoset_scores(nyc: redis.Redis) -> None:
    got = cmd(nyc, "ZRANGE", "nyc", 0, -1, "WITHSCORES")
    assert strs(got) == [
        "wtc one", "1791873972053020", "union square", "1791875485187452",
        "central park n/q/r", "1791875761332224", "4545", "1791875796750882",
        "lic market", "1791875804419201", "q4", "1791875830079666", "jfk", "1791895905559723",
    ]  # fmt: skip
    assert nyc.type("nyc") == b"zset"


# --- GEORADIUS / GEOSEARCH ---------------------------------------------------------------------
def test_searches_sorted(nyc: redis.Redis) -> None:
    c = -73.9798091, 40.7598464
    assert strs(cmd(nyc, "GEORADIUS", "nyc", *c, 3, "km", "asc")) == [
        "central park n/q/r", "4545", "union square",
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "BYBOX", 6, 6, "km", "asc")) == [
        "central park n/q/r", "4545", "union square", "lic market",
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEORADIUS", "nyc", *c, 3, "km", "withdist", "asc")) == [
        ["central park n/q/r", "0.7750"], ["4545", "2.3651"], ["union square", "2.7697"],
    ]  # fmt: skip
    got = cmd(nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "BYBOX", 6, 6, "km", "WITHDIST", "ASC")
    assert strs(got) == [
        ["central park n/q/r", "0.7750"], ["4545", "2.3651"], ["union square", "2.7697"],
        ["lic market", "3.1991"],
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEORADIUS", "nyc", *c, 10, "km", "COUNT", 3)) == [
        "central park n/q/r", "4545", "union square",
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEORADIUS", "nyc", *c, 10, "km", "COUNT", 3, "ANY")) == [
        "wtc one", "union square", "central park n/q/r",
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEORADIUS", "nyc", *c, 10, "km", "COUNT", 3, "ANY", "ASC")) == [
        "central park n/q/r", "union square", "wtc one",
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEORADIUS", "nyc", *c, 10, "km", "COUNT", 2, "DESC")) == [
        "wtc one", "q4",
    ]  # fmt: skip


def test_search_by_member(nyc: redis.Redis) -> None:
    assert strs(cmd(nyc, "GEORADIUSBYMEMBER", "nyc", "wtc one", 7, "km")) == [
        "wtc one", "union square", "central park n/q/r", "4545", "lic market",
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEORADIUSBYMEMBER", "nyc", "wtc one", 7, "km", "withdist")) == [
        ["wtc one", "0.0000"], ["union square", "3.2544"], ["central park n/q/r", "6.7000"],
        ["4545", "6.1975"], ["lic market", "6.8969"],
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEOSEARCH", "nyc", "FROMMEMBER", "wtc one", "BYBOX", 14, 14, "km")) == [
        "wtc one", "union square", "central park n/q/r", "4545", "lic market", "q4",
    ]  # fmt: skip
    assert strs(cmd(nyc, "GEORADIUSBYMEMBER_RO", "nyc", "jfk", 1, "KM")) == ["jfk"]


def test_search_errors(nyc: redis.Redis) -> None:
    c = -73.9798091, 40.7598464
    assert err(
        nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "FROMMEMBER", "x", "BYBOX", 6, 6, "km"
    ) == ("syntax error")
    assert err(nyc, "geosearch", "nyc", "BYBOX", 3, 3, "km", "asc", "desc", "withhash") == (
        "exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch"
    )
    assert err(
        nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "BYRADIUS", 3, "km", "BYBOX", 3, 3, "km"
    ) == ("syntax error")
    assert err(nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "ASC", "DESC", "WITHHASH") == (
        "exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"
    )
    assert err(nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "BYBOX", 6, 6, "km", "STOREDIST") == (
        "syntax error"
    )
    assert err(nyc, "GEORADIUS", "nyc", *c, 10, "km", "ANY", "ASC") == (
        "the ANY argument requires COUNT argument"
    )
    assert err(nyc, "GEORADIUS", "nyc", *c, 10, "km", "COUNT") == "syntax error"
    assert err(nyc, "GEORADIUS", "nyc", *c, 10, "km", "COUNT", 0) == "COUNT must be > 0"
    assert err(nyc, "GEORADIUS", "nyc", *c, 10, "km", "COUNT", -3) == "COUNT must be > 0"
    assert err(nyc, "GEORADIUS", "nyc", *c, 10, "km", "COUNT", "x") == (
        "value is not an integer or out of range"
    )
    assert err(nyc, "GEORADIUS", "nyc", *c, 10, "parsecs") == (
        "unsupported unit provided. please use M, KM, FT, MI"
    )
    assert err(nyc, "GEORADIUS", "nyc", *c, "x", "km") == "need numeric radius"
    assert err(nyc, "GEORADIUS", "nyc", *c, -1, "km") == "radius cannot be negative"
    assert err(nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "BYBOX", "x", 1, "km") == (
        "need numeric width"
    )
    assert err(nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "BYBOX", 1, "x", "km") == (
        "need numeric height"
    )
    assert err(nyc, "GEOSEARCH", "nyc", "FROMLONLAT", *c, "BYBOX", 1, -1, "km") == (
        "height or width cannot be negative"
    )
    assert err(nyc, "GEORADIUS", "nyc", 181, 0, 10, "km") == (
        "invalid longitude,latitude pair 181.000000,0.000000"
    )
    assert err(nyc, "GEORADIUS_RO", "nyc", *c, 10, "km", "STORE", "x") == "syntax error"
    assert err(nyc, "GEORADIUS", "nyc", *c, 10, "km", "STORE", "x", "WITHDIST") == (
        "STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    )
    assert err(
        nyc, "GEOSEARCHSTORE", "d", "nyc", "FROMLONLAT", *c, "BYRADIUS", 1, "m", "WITHHASH"
    ) == ("GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    assert err(
        nyc, "GEOSEARCHSTORE", "d", "nyc", "FROMLONLAT", *c, "BYRADIUS", 1, "m", "STORE", "d"
    ) == ("syntax error")


def test_huge_radius_and_poles(r: redis.Redis) -> None:
    cmd(r, "GEOADD", "users", -47.271613776683807, -54.534504198047678, "user_000000")
    assert len(cmd(r, "GEORADIUS", "users", 0, 0, 50000, "km", "WITHCOORD")) == 1
    cmd(
        r,
        "GEOADD",
        "k1",
        -0.15307903289794921875,
        85,
        "n1",
        0.3515625,
        85.00019260486917005437,
        "n2",
    )
    assert strs(cmd(r, "GEORADIUSBYMEMBER", "k1", "n1", 4891.94, "m")) == ["n1", "n2"]
    cmd(r, "ZREM", "k1", "n1", "n2")
    cmd(r, "GEOADD", "k1", -4.95211958885192871094, 85, "n3", 11.25, 85.0511, "n4")
    assert strs(cmd(r, "GEORADIUSBYMEMBER", "k1", "n3", 156544, "m")) == ["n3", "n4"]
    cmd(r, "ZREM", "k1", "n3", "n4")
    cmd(r, "GEOADD", "k1", -45, 65.50900022111811438208, "n5", 90, 85.0511, "n6")
    assert strs(cmd(r, "GEORADIUSBYMEMBER", "k1", "n5", 5009431, "m")) == ["n5", "n6"]
    r.delete("k1")
    cmd(r, "GEOADD", "k1", 45, 65, "n1", -135, 85.05, "n2")
    assert strs(cmd(r, "GEORADIUSBYMEMBER", "k1", "n1", 5009431, "m")) == ["n1", "n2"]


def test_geosearch_boxes(r: redis.Redis) -> None:
    cmd(r, "GEOADD", "Sicily", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")
    cmd(r, "GEOADD", "Sicily", 12.758489, 38.788135, "edge1", 17.241510, 38.788135, "eage2")
    assert strs(cmd(r, "GEORADIUS", "Sicily", 15, 37, 200, "km", "asc")) == ["Catania", "Palermo"]
    assert strs(cmd(r, "GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 400, 400, "km", "asc")) == [
        "Catania", "Palermo", "eage2", "edge1",
    ]  # fmt: skip
    r.delete("Sicily")
    cmd(r, "GEOADD", "Sicily", 12.75, 36.995, "test1", 12.75, 36.50, "test2", 13.00, 36.50, "test3")
    assert strs(cmd(r, "GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 400, 2, "km")) == [
        "test1"
    ]
    cmd(r, "GEOADD", "Sicily", -1, 37.00, "test3")
    got = cmd(r, "GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 3000, 2, "km", "asc")
    assert strs(got) == ["test1", "test3"]
    r.delete("Sicily")
    cmd(
        r, "GEOADD", "Sicily", 12.758489, 38.788135, "edge1", 17.241510, 38.788135, "edge2",
        17.250000, 35.202000, "edge3", 12.750000, 35.202000, "edge4", 12.748489955781654, 37,
        "edge5", 15, 38.798135872540925, "edge6", 17.251510044218346, 37, "edge7", 15,
        35.201864127459075, "edge8", 12.692799634687903, 38.798135872540925, "corner1",
        12.692799634687903, 38.798135872540925, "corner2", 17.200560937451133,
        35.201864127459075, "corner3", 12.799439062548865, 35.201864127459075, "corner4",
    )  # fmt: skip
    got = cmd(r, "GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 400, 400, "km", "asc")
    assert sorted(strs(got)) == ["edge1", "edge2", "edge5", "edge7"]
    cmd(r, "GEOADD", "points", 179.5, 36, "point1", -179.5, 36, "point2")
    got = cmd(r, "GEOSEARCH", "points", "FROMLONLAT", 179, 37, "BYBOX", 400, 400, "km", "asc")
    assert strs(got) == ["point1", "point2"]
    got = cmd(r, "GEOSEARCH", "points", "FROMLONLAT", -179, 37, "BYBOX", 400, 400, "km", "asc")
    assert strs(got) == ["point2", "point1"]
    r.delete("points")
    cmd(r, "GEOADD", "points", -122.407107, 37.794300, 1, -122.227336, 37.794300, 2)
    got = cmd(r, "GEORADIUS", "points", -122.407107, 37.794300, 30, "mi", "ASC", "WITHDIST")
    assert strs(got) == [["1", "0.0001"], ["2", "9.8182"]]


# --- GEOHASH / GEOPOS / GEODIST ----------------------------------------------------------------
def test_geohash_geopos_geodist(r: redis.Redis) -> None:
    cmd(r, "GEOADD", "points", -5.6, 42.6, "test")
    assert cmd(r, "GEOHASH", "points", "test") == [b"ezs42e44yx0"]
    r.delete("points")
    cmd(r, "GEOADD", "points", 10, 20, "a", 30, 40, "b")
    assert cmd(r, "GEOHASH", "points") == []
    assert cmd(r, "GEOPOS", "points") == []
    assert cmd(r, "GEOHASH", "points", "a", "x") == [b"s5x1g8cu2y0", None]
    (x1, y1), missing, (x2, y2) = cmd(r, "GEOPOS", "points", "a", "x", "b")
    assert missing is None
    assert (x1, y1) == (b"10.00000208616256714", b"20.00000058910486445")
    assert abs(float(x2) - 30) < 0.001 and abs(float(y2) - 40) < 0.001
    r.delete("points")
    cmd(r, "GEOADD", "points", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")
    assert cmd(r, "GEODIST", "points", "Palermo", "Catania") == b"166274.1516"
    assert cmd(r, "GEODIST", "points", "Palermo", "Catania", "km") == b"166.2742"
    assert cmd(r, "GEODIST", "points", "Palermo", "Catania", "MI") == b"103.3182"
    assert cmd(r, "GEODIST", "points", "Palermo", "Catania", "ft") == b"545518.8700"
    assert cmd(r, "GEODIST", "points", "Palermo", "Palermo") == b"0.0000"
    assert cmd(r, "GEODIST", "points", "Palermo", "Agrigento") is None
    assert cmd(r, "GEODIST", "points", "Ragusa", "Agrigento") is None
    assert cmd(r, "GEODIST", "empty_key", "Palermo", "Catania") is None
    assert err(r, "GEODIST", "points", "a", "b", "km", "x") == "syntax error"
    assert err(r, "GEODIST", "empty_key", "a", "b", "parsecs").startswith("unsupported unit")
    r.set("str", "v")
    for c in (("GEODIST", "str", "a", "b"), ("GEOPOS", "str", "a"), ("GEOHASH", "str", "a")):
        assert err(r, *c).startswith("WRONGTYPE")
    assert cmd(r, "GEOPOS", "nokey", "a", "b") == [None, None]
    assert cmd(r, "GEOHASH", "nokey", "a") == [None]


def test_non_geohash_scores(r: redis.Redis) -> None:
    """Members added by ZADD with any score decode as Redis's (uint64_t) cast makes them."""
    cmd(r, "ZADD", "w", -5, "neg", 1.5, "frac", "1e300", "big", "-inf", "ninf", 0, "zero")
    got = strs(cmd(r, "GEOPOS", "w", "neg", "frac", "big", "ninf", "zero"))
    assert got == [
        ["180", "85.0511287799999991"],
        ["-179.99999731779098511", "-85.05112497791824921"],
        ["-179.99999731779098511", "-85.05112751263942528"],
        ["180", "-85.05112751263942528"],
        ["-179.99999731779098511", "-85.05112751263942528"],
    ]
    assert strs(cmd(r, "GEOHASH", "w", "zero", "frac")) == ["00bh0hbj200", "00bh0hbj210"]
    cmd(r, "GEOADD", "e", 180, 0, "x", -180, 0, "y", 0, 85.05112878, "z")
    assert strs(cmd(r, "ZRANGE", "e", 0, -1, "WITHSCORES")) == [
        "y", "1125899906842624", "z", "6755399441055744", "x", "10133099161583616",
    ]  # fmt: skip
    assert strs(cmd(r, "GEOHASH", "e", "y", "z")) == ["80000000000", "up05b5048p0"]


# --- STORE / STOREDIST -------------------------------------------------------------------------
def test_store_and_storedist(r: redis.Redis) -> None:
    p = (13.361389, 38.115556)
    cmd(r, "GEOADD", "points{t}", *p, "Palermo", 15.087269, 37.502669, "Catania")
    assert err(r, "GEORADIUS", "points{t}", *p, 50, "km", "store") == "syntax error"
    r.set("points2{t}", "a string")
    r.expire("points2{t}", 100)
    assert cmd(r, "GEORADIUS", "points{t}", *p, 500, "km", "store", "points2{t}") == 2
    assert r.zrange("points{t}", 0, -1) == r.zrange("points2{t}", 0, -1)
    assert r.ttl("points2{t}") == -1
    assert (
        cmd(r, "GEORADIUSBYMEMBER", "points{t}", "Palermo", 500, "km", "store", "points2{t}") == 2
    )
    assert r.zrange("points2{t}", 0, -1) == [b"Palermo", b"Catania"]
    cmd(r, "GEORADIUSBYMEMBER", "points{t}", "Catania", 500, "km", "storedist", "points2{t}")
    assert strs(cmd(r, "ZRANGE", "points2{t}", 0, -1, "WITHSCORES")) == [
        "Catania", "0", "Palermo", "166.27415156960032",
    ]  # fmt: skip
    assert (
        cmd(r, "GEOSEARCHSTORE", "points2{t}", "points{t}", "FROMLONLAT", *p, "BYRADIUS", 500, "km")
        == 2
    )
    assert r.zrange("points{t}", 0, -1) == r.zrange("points2{t}", 0, -1)
    cmd(
        r,
        "GEOSEARCHSTORE",
        "points2{t}",
        "points{t}",
        "FROMLONLAT",
        *p,
        "BYRADIUS",
        500,
        "km",
        "STOREDIST",
    )
    res = r.zrange("points2{t}", 0, -1, withscores=True)
    assert res[0][1] < 1 and 166 < res[1][1] < 167
    cmd(r, "GEORADIUS", "points{t}", *p, 500, "km", "storedist", "points2{t}", "asc", "count", 1)
    assert r.zrange("points2{t}", 0, -1) == [b"Palermo"]
    cmd(r, "GEORADIUS", "points{t}", *p, 500, "km", "storedist", "points2{t}", "desc", "count", 1)
    assert r.zrange("points2{t}", 0, -1) == [b"Catania"]
    # an empty result deletes the destination, a missing source too
    assert cmd(r, "GEORADIUS", "points{t}", 0, 0, 1, "m", "store", "points2{t}") == 0
    assert r.exists("points2{t}") == 0
    r.set("points2{t}", "x")
    assert (
        cmd(r, "GEOSEARCHSTORE", "points2{t}", "nokey{t}", "FROMMEMBER", "a", "BYRADIUS", 1, "m")
        == 0
    )
    assert r.exists("points2{t}") == 0
    # the last STORE / STOREDIST wins
    cmd(r, "GEORADIUS", "points{t}", *p, 500, "km", "STOREDIST", "a{t}", "STORE", "b{t}")
    assert r.exists("a{t}") == 0 and r.zscore("b{t}", "Palermo") == r.zscore("points{t}", "Palermo")
    # a store result over 128 members (or long members) is a skiplist, else a listpack
    assert r.object("encoding", "b{t}") == b"listpack"


# --- replies by protocol, key extraction -----------------------------------------------------
def test_resp3_reply_types(r: redis.Redis, side3: Side, side2: Side) -> None:
    cmd(r, "GEOADD", "Sicily", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")
    got = side3.call(
        "GEORADIUS", "Sicily", 15, 37, 200, "km", "WITHDIST", "WITHHASH", "WITHCOORD", "ASC"
    )
    assert got[0][0] == b"Catania" and type(got[0][1]) is bytes and got[0][1] == b"56.4413"
    assert got[0][2] == 3479447370796909
    lon, lat = got[0][3]
    assert type(lon) is Double and lon == b"15.08726745843887329" and lat == b"37.50266842333162032"
    pos = side3.call("GEOPOS", "Sicily", "Palermo", "nope")
    assert type(pos[0][0]) is Double and repr(pos[1]) == "_"
    assert side3.call("GEODIST", "Sicily", "Palermo", "Catania") == b"166274.1516"
    assert repr(side3.call("GEODIST", "Sicily", "Palermo", "nope")) == "_"
    pos2 = side2.call("GEOPOS", "Sicily", "Palermo", "nope")
    assert type(pos2[0][0]) is bytes and repr(pos2[1]) == "*-1"
    assert repr(side2.call("GEODIST", "Sicily", "Palermo", "nope")) == "$-1"
    assert isinstance(side2.call("GEORADIUS", "Sicily", 0, 0, 1, "xx"), Err)


def test_command_getkeys_and_info(r: redis.Redis) -> None:
    getkeys: Callable[..., Any] = lambda *a: cmd(r, "COMMAND", "GETKEYS", *a)  # noqa: E731
    assert getkeys("GEORADIUS", "src", 1, 1, 1, "km") == [b"src"]
    assert getkeys("GEORADIUS", "src", 1, 1, 1, "km", "STORE", "d1", "STOREDIST", "d2") == [
        b"src", b"d2",
    ]  # fmt: skip
    assert getkeys("GEORADIUSBYMEMBER", "src", "m", 1, "km", "storedist", "d") == [b"src", b"d"]
    assert getkeys("GEOSEARCHSTORE", "dst", "src", "FROMMEMBER", "m", "BYRADIUS", 1, "km") == [
        b"dst", b"src",
    ]  # fmt: skip
    info = cmd(r, "COMMAND", "INFO", "georadius", "geosearch", "geoadd")
    flags = {e[0]: set(e[2]) for e in info}
    assert flags[b"georadius"] == {b"write", b"denyoom", b"movablekeys"}
    assert flags[b"geosearch"] == {b"readonly"}
    assert flags[b"geoadd"] == {b"write", b"denyoom"}
    assert info[0][1] == -6 and info[1][1] == -7 and info[2][1] == -5


def test_many_points_against_exact_distances(r: redis.Redis) -> None:
    """A random cloud: every member within the radius (by the haversine of the decoded
    positions, away from the boundary) is found, nothing outside is, ASC is sorted."""
    rng = random.Random(7)
    pts = [(rng.uniform(-180, 180), rng.uniform(-70, 70)) for _ in range(2000)]
    cmd(r, "GEOADD", "cloud", *[x for i, (lon, lat) in enumerate(pts) for x in (lon, lat, i)])
    for lon, lat, km in [(81.634948934258375, 30.561509253718668, 7083), (149.297378, 15.958, 156),
                         (59.2354618, 66.2695551, 143), (-1.81750816, 20.66566887, 16751)]:  # fmt: skip
        got = cmd(r, "GEORADIUS", "cloud", lon, lat, km, "km", "WITHDIST", "WITHCOORD", "ASC")
        dists = [float(d) for _, d, _ in got]
        assert dists == sorted(dists)
        found = {int(m) for m, _, _ in got}
        for i, (plon, plat) in enumerate(pts):
            d = _haversine(lon, lat, plon, plat) / 1000
            if d < km * 0.999:
                assert i in found, (i, d)
            elif d > km * 1.001:
                assert i not in found, (i, d)


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r1, r2 = math.radians(lat1), math.radians(lat2)
    u = math.sin((r2 - r1) / 2)
    v = math.sin(math.radians(lon2 - lon1) / 2)
    return 2 * 6372797.560856 * math.asin(math.sqrt(u * u + math.cos(r1) * math.cos(r2) * v * v))


@pytest.mark.parametrize("resp", [2, 3])
def test_command_info_matches_redis(r: redis.Redis, rr: redis.Redis, resp: int) -> None:
    names = [
        "geoadd", "geopos", "geodist", "geohash", "georadius", "georadius_ro",
        "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore",
    ]  # fmt: skip
    with Pair.from_clients(r, rr, resp=resp) as pair:
        a, b = pair.both("COMMAND", "INFO", *names)
    assert a == b
