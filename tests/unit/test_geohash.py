"""pikadb.core.geohash against Redis 7.0: hard-coded vectors (each read from redis-server
7.0.15) and, through the ``rr`` fixture, random points encoded, decoded, hashed and measured
by the real server and by the pure functions."""

from __future__ import annotations

import math
import random

import pytest
import redis
from tests.differential.harness import Side

from pikadb.core import geohash as G

# (longitude, latitude) -> GEOADD score, GEOPOS text, GEOHASH
VECTORS = [
    (13.361389, 38.115556, 3479099956230698, (b"13.36138933897018433", b"38.11555639549629859"),
     b"sqc8b49rny0"),
    (15.087269, 37.502669, 3479447370796909, (b"15.08726745843887329", b"37.50266842333162032"),
     b"sqdtr74hyu0"),
    (10.0, 20.0, None, (b"10.00000208616256714", b"20.00000058910486445"), b"s5x1g8cu2y0"),
    (-180.0, 0.0, 1125899906842624, None, b"80000000000"),
    (0.0, 85.05112878, 6755399441055744, (b"0.00000268220901489", b"85.0511287799999991"),
     b"up05b5048p0"),
    (0.0, -85.05112878, 2251799813685248, (b"0.00000268220901489", b"-85.05112751263942528"),
     None),
    # longitude 180 overflows its 26 bits into bit 53 (as in Redis); decoding clamps to 180
    (180.0, 0.0, 10133099161583616, (b"180", b"0.00000126736058093"), None),
]  # fmt: skip

# zset scores that are not geohashes, decoded as Redis's (uint64_t) cast makes them
WEIRD = {
    -5.0: (b"180", b"85.0511287799999991"),
    1.5: (b"-179.99999731779098511", b"-85.05112497791824921"),
    1e300: (b"-179.99999731779098511", b"-85.05112751263942528"),
    math.inf: (b"-179.99999731779098511", b"-85.05112751263942528"),
    -math.inf: (b"180", b"-85.05112751263942528"),
    0.0: (b"-179.99999731779098511", b"-85.05112751263942528"),
    2.0**63: (b"180", b"-85.05112751263942528"),
    -0.5: (b"-179.99999731779098511", b"-85.05112751263942528"),
    2.0**52: (b"-179.99999731779098511", b"85.0511287799999991"),
}


def _pos(score: float) -> tuple[bytes, bytes]:
    x, y = G.decode_score(score)
    return G.format_coord(x), G.format_coord(y)


@pytest.mark.parametrize(("lon", "lat", "score", "pos", "hsh"), VECTORS)
def test_vectors(
    lon: float, lat: float, score: int | None, pos: tuple[bytes, bytes] | None, hsh: bytes | None
) -> None:
    s = G.encode_score(lon, lat)
    if score is not None:
        assert s == score
    if pos is not None:
        assert _pos(float(s)) == pos
    if hsh is not None:
        assert G.to_geohash_string(float(s)) == hsh


@pytest.mark.parametrize("score", sorted(WEIRD))
def test_weird_scores(score: float) -> None:
    assert _pos(score) == WEIRD[score]


def test_score_to_bits_is_the_x86_64_cast() -> None:
    assert G.score_to_bits(-5.0) == 2**64 - 5
    assert G.score_to_bits(1.9) == 1
    assert G.score_to_bits(-0.9) == 0
    assert G.score_to_bits(2.0**63) == 2**63
    assert G.score_to_bits(2.0**63 + 2048) == 2**63 + 2048
    assert G.score_to_bits(2.0**64) == 0
    assert G.score_to_bits(math.inf) == 0
    assert G.score_to_bits(-math.inf) == 2**63
    assert G.score_to_bits(-(2.0**70)) == 2**63


def test_interleave_round_trip() -> None:
    rng = random.Random(1)
    for _ in range(200):
        x, y = rng.getrandbits(32), rng.getrandbits(32)
        v = G.interleave64(x, y)
        assert G.deinterleave64(v) == x | (y << 32)
        assert v & 0x5555555555555555 == G.interleave64(x, 0)


def test_distances_and_formats() -> None:
    palermo = G.decode_score(3479099956230698.0)
    catania = G.decode_score(3479447370796909.0)
    assert G.format_distance(G.distance(*palermo, *catania)) == b"166274.1516"
    assert G.format_distance(G.distance(*palermo, *catania) / 1609.34) == b"103.3182"
    assert G.format_distance(G.distance(*palermo, *palermo)) == b"0.0000"
    assert G.distance(*catania, *palermo) / 1000 == 166.27415156960032  # STOREDIST, km
    assert G.format_coord(-0.0) == b"0" and G.format_coord(12.5) == b"12.5"
    assert G.format_coord(180.0) == b"180"


def test_estimate_steps() -> None:
    assert G.estimate_steps_by_radius(0, 0) == 26
    assert G.estimate_steps_by_radius(1, 0) == 24
    assert G.estimate_steps_by_radius(200_000, 0) == 6
    assert G.estimate_steps_by_radius(200_000, 70) == 5
    assert G.estimate_steps_by_radius(200_000, -85) == 4
    assert G.estimate_steps_by_radius(5e7, 0) == 1
    assert G.estimate_steps_by_radius(math.inf, 0) == 1


def test_search_ranges() -> None:
    # GEORADIUS Sicily 15 37 200 km: step 6, one less after the edge check (5 -> 40-bit
    # ranges), the cells south and west of the centre cell excluded
    shape = G.Shape(15.0, 37.0, G.CIRCULAR, radius=200.0, conversion=1000.0)
    ranges = G.search_ranges(shape)
    assert len(ranges) == 4
    assert all(hi - lo == 1 << 40 for lo, hi in ranges)
    assert ranges[0][0] <= G.encode_score(15.0, 37.0) < ranges[0][1]
    # a huge radius: step 1, the whole world in 4 distinct cells (duplicates skipped)
    huge = G.Shape(0.0, 0.0, G.CIRCULAR, radius=math.inf, conversion=1.0)
    assert sorted(G.search_ranges(huge)) == [(i << 50, (i + 1) << 50) for i in range(4)]


def _asc(a: list[float], b: list[float]) -> int:
    return 1 if a[0] > b[0] else 0 if a[0] == b[0] else -1


def test_pqsort_partial_order_and_ties() -> None:
    rng = random.Random(3)
    for n in (1, 6, 7, 8, 30, 41, 200):
        for k in (1, n // 3 + 1, n):
            items = [[float(rng.randint(0, 9)), i] for i in range(n)]
            got = list(items)
            G.pqsort(got, _asc, 0, k - 1)
            assert sorted(x[1] for x in got) == list(range(n))  # a permutation
            assert [x[0] for x in got[:k]] == sorted(x[0] for x in items)[:k]


# A zset (member, score) read from redis, and Redis 7.0's reply to
# GEOSEARCH g1 BYRADIUS 10 Mi COUNT 9 FROMMEMBER m14: 9 members share m14's position;
# Redis's partial quicksort puts m9 first and p28 p27 p24 in reverse.
TIES_ZSET = [
    "m10",
    "4128318252890291",
    "m6",
    "4128318267829848",
    "m19",
    "4128321131397712",
    "p26",
    "4128321133341155",
    "m2",
    "4128321133507588",
    "m1",
    "4128321133529202",
    "m7",
    "4128321133537486",
    "m5",
    "4128321133537511",
    "p25",
    "4128321133537511",
    "m11",
    "4128321133537522",
    "m12",
    "4128321133537522",
    "m14",
    "4128321133537522",
    "m3",
    "4128321133537522",
    "m4",
    "4128321133537522",
    "m9",
    "4128321133537522",
    "p24",
    "4128321133537522",
    "p27",
    "4128321133537522",
    "p28",
    "4128321133537522",
    "m17",
    "4128321133537523",
    "m18",
    "4128321133537526",
    "m22",
    "4128321133586855",
    "m23",
    "4128321134325174",
    "m20",
    "4128321217231334",
]
TIES_REPLY = ["m9", "m11", "m12", "m14", "m3", "m4", "p28", "p27", "p24"]


def test_pqsort_ties_like_redis() -> None:
    pairs = list(zip(TIES_ZSET[::2], map(float, TIES_ZSET[1::2]), strict=True))
    scores = dict(pairs)
    cx, cy = G.decode_score(scores["m14"])
    shape = G.Shape(cx, cy, G.CIRCULAR, radius=10.0, conversion=1609.34)
    # the unsorted visiting order: cells in Redis's order, each in zset order
    found = []
    for lo, hi in G.search_ranges(shape):
        for m, s in pairs:
            if lo <= s < hi:
                d = G.within_shape(shape, *G.decode_score(s))
                if d is not None:
                    found.append([d, m])
    assert len(found) == 23
    G.pqsort(found, _asc, 0, 8)
    assert [m for _, m in found[:9]] == TIES_REPLY


def test_msort_is_stable() -> None:
    items = [[1.0, "a"], [0.0, "b"], [1.0, "c"], [0.0, "d"]]
    assert [m for _, m in G.msort(items, _asc)] == ["b", "d", "a", "c"]


def _raw(rr: redis.Redis, *args: object) -> object:
    """A RESP2 reply as sent (no redis-py callbacks or RESP3 conversions)."""
    side = Side("redis", rr.connection_pool.connection_kwargs["port"], resp=2)
    try:
        return side.call(*[repr(a) if isinstance(a, float) else a for a in args])
    finally:
        side.close()


def test_against_redis(rr: redis.Redis) -> None:
    rng = random.Random(11)
    pts = [(rng.uniform(-180, 180), rng.uniform(-85.05, 85.05)) for _ in range(300)]
    pts += [(180.0, 85.05112878), (-180.0, -85.05112878), (0.0, 0.0), (179.999999, -0.000001)]
    _raw(rr, "GEOADD", "g", *[x for i, p in enumerate(pts) for x in (*p, i)])
    names = list(range(len(pts)))
    scores = _raw(rr, "ZMSCORE", "g", *names)
    hashes = _raw(rr, "GEOHASH", "g", *names)
    positions = _raw(rr, "GEOPOS", "g", *names)
    assert isinstance(scores, list) and isinstance(hashes, list) and isinstance(positions, list)
    for i, (lon, lat) in enumerate(pts):
        s = G.encode_score(lon, lat)
        assert float(s) == float(scores[i]), i
        assert G.to_geohash_string(float(s)) == hashes[i], i
        assert list(_pos(float(s))) == positions[i], i
    for _ in range(100):
        a, b = rng.randrange(len(pts)), rng.randrange(len(pts))
        unit, conv = rng.choice([("m", 1.0), ("km", 1000.0), ("ft", 0.3048), ("mi", 1609.34)])
        want = _raw(rr, "GEODIST", "g", a, b, unit)
        xa = G.decode_score(G.encode_score(*pts[a]))
        xb = G.decode_score(G.encode_score(*pts[b]))
        assert G.format_distance(G.distance(*xa, *xb) / conv) == want


def test_fast_paths_match_the_reference_port() -> None:
    """encode_score / decode_score (table-driven) and shape_filter (centre terms hoisted)
    give exactly what the step-by-step ports of the C functions give."""
    rng = random.Random(5)
    for _ in range(3000):
        lon, lat = rng.uniform(-180, 180), rng.uniform(G.GEO_LAT_MIN, G.GEO_LAT_MAX)
        h = G.encode(lon, lat, 26)
        assert h is not None and G.encode_score(lon, lat) == G.align52(h)
        s = float(rng.getrandbits(rng.randint(1, 64))) * rng.choice([1, 1, -1, 0.5])
        area = G.decode((G.score_to_bits(s), 26))
        assert area is not None and G.decode_score(s) == G.area_center(area)
    for lon, lat in [(180.0, 85.05112878), (-180.0, -85.05112878), (180.0, 0.0), (-0.0, 0.0)]:
        h = G.encode(lon, lat, 26)
        assert h is not None and G.encode_score(lon, lat) == G.align52(h)
    sizes = [0.0, 1.0, 100.0, 1e4, 1e6, math.inf]
    for _ in range(200):
        shape = G.Shape(
            rng.uniform(-180, 180),
            rng.uniform(-85, 85),
            rng.choice([G.CIRCULAR, G.RECTANGLE]),
            radius=rng.choice(sizes),
            width=rng.choice(sizes),
            height=rng.choice(sizes),
            conversion=rng.choice([1.0, 1000.0, 0.3048, 1609.34]),
        )
        f = G.shape_filter(shape)
        for _ in range(100):
            x, y = G.decode_score(float(rng.getrandbits(52)))
            a, b = f(x, y), G.within_shape(shape, x, y)
            assert a == b or (a is not None and b is not None and a != a and b != b)
