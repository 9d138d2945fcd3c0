"""Geohash math, ported from Redis 7.0's geohash.c and geohash_helper.c (pure functions).

A position is stored as a sorted-set score: the 26-bit longitude and 26-bit latitude cells
interleaved into 52 bits (latitude bits in the even positions), so a geohash cell at any
precision ("step", bits per coordinate) is one contiguous score range. Latitudes are limited to
the Web Mercator range (+-85.05112878), as in Redis.

Every operation is the C code's, step by step, on IEEE doubles and 64-bit unsigned integers
(Python's ``math`` calls the same libm), so scores, decoded coordinates, search cells and
distances are bit-identical to Redis's:

    +--------------------------+--------------------------------------------------------+
    | function                 | Redis                                                  |
    +--------------------------+--------------------------------------------------------+
    | encode / decode          | geohashEncode / geohashDecode (+ Area -> LongLat clamp) |
    | neighbors                | geohashNeighbors (geohash_move_x / geohash_move_y)     |
    | score_to_bits            | ``(uint64_t)score`` as gcc compiles it on x86-64       |
    | estimate_steps_by_radius | geohashEstimateStepsByRadius                           |
    | bounding_box             | geohashBoundingBox                                     |
    | areas_by_shape           | geohashCalculateAreasByShapeWGS84                      |
    | align52                  | geohashAlign52Bits                                     |
    | distance                 | geohashGetDistance (haversine, R = 6372797.560856 m)   |
    | within_shape             | geohashGetDistanceIfInRadius / ...IfInRectangle (7.0)  |
    | to_geohash_string        | the GEOHASH command's re-encoding to 11 base-32 chars  |
    | pqsort                   | Redis's pqsort.c (NetBSD qsort, partial range)          |
    +--------------------------+--------------------------------------------------------+

A hash is a ``(bits, step)`` pair; ``(0, 0)`` is the "zeroed" (excluded) cell (GZERO).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

GEO_STEP_MAX = 26
GEO_LAT_MIN = -85.05112878
GEO_LAT_MAX = 85.05112878
GEO_LONG_MIN = -180.0
GEO_LONG_MAX = 180.0

D_R = math.pi / 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37

_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1
_TWO63 = 9223372036854775808.0
_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA

Hash = tuple[int, int]  # (bits, step)
ZERO: Hash = (0, 0)
WGS84_LONG = (GEO_LONG_MIN, GEO_LONG_MAX)
WGS84_LAT = (GEO_LAT_MIN, GEO_LAT_MAX)
STD_LONG = (-180.0, 180.0)
STD_LAT = (-90.0, 90.0)

_sin, _asin, _sqrt, _isfinite = math.sin, math.asin, math.sqrt, math.isfinite


def _cos(x: float) -> float:
    """C's cos(): NaN for an infinite argument (Python raises)."""
    return math.cos(x) if _isfinite(x) else math.nan


# --- bit interleaving ---------------------------------------------------------------------
def interleave64(xlo: int, ylo: int) -> int:
    """Bits of ``xlo`` (32-bit) in the even positions, ``ylo`` in the odd ones."""
    x = xlo & _M32
    y = ylo & _M32
    x = (x | (x << 16)) & 0x0000FFFF0000FFFF
    y = (y | (y << 16)) & 0x0000FFFF0000FFFF
    x = (x | (x << 8)) & 0x00FF00FF00FF00FF
    y = (y | (y << 8)) & 0x00FF00FF00FF00FF
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x << 2)) & 0x3333333333333333
    y = (y | (y << 2)) & 0x3333333333333333
    x = (x | (x << 1)) & _EVEN
    y = (y | (y << 1)) & _EVEN
    return (x | (y << 1)) & _M64


def deinterleave64(interleaved: int) -> int:
    """The even bits in the low 32 bits, the odd bits in the high 32 bits."""
    x = interleaved & _M64
    y = x >> 1
    x &= _EVEN
    y &= _EVEN
    x = (x | (x >> 1)) & 0x3333333333333333
    y = (y | (y >> 1)) & 0x3333333333333333
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
    y = (y | (y >> 4)) & 0x00FF00FF00FF00FF
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
    y = (y | (y >> 8)) & 0x0000FFFF0000FFFF
    x = (x | (x >> 16)) & 0x00000000FFFFFFFF
    y = (y | (y >> 16)) & 0x00000000FFFFFFFF
    return x | (y << 32)


# --- encode / decode ----------------------------------------------------------------------
def encode(
    longitude: float,
    latitude: float,
    step: int = GEO_STEP_MAX,
    long_range: tuple[float, float] = WGS84_LONG,
    lat_range: tuple[float, float] = WGS84_LAT,
) -> Hash | None:
    """geohashEncode: the cell of (longitude, latitude) at ``step``; None out of range."""
    if step > 32 or step == 0:
        return None
    if (
        longitude > GEO_LONG_MAX
        or longitude < GEO_LONG_MIN
        or latitude > GEO_LAT_MAX
        or latitude < GEO_LAT_MIN
    ):
        return None
    lat_min, lat_max = lat_range
    long_min, long_max = long_range
    if latitude < lat_min or latitude > lat_max or longitude < long_min or longitude > long_max:
        return None
    lat_offset = (latitude - lat_min) / (lat_max - lat_min)
    long_offset = (longitude - long_min) / (long_max - long_min)
    scale = float(1 << step)
    lat_offset *= scale
    long_offset *= scale
    return interleave64(int(lat_offset), int(long_offset)), step


@dataclass(slots=True)
class Area:
    """GeoHashArea: the cell's bounds."""

    long_min: float
    long_max: float
    lat_min: float
    lat_max: float


def decode(
    h: Hash,
    long_range: tuple[float, float] = WGS84_LONG,
    lat_range: tuple[float, float] = WGS84_LAT,
) -> Area | None:
    """geohashDecode (None for the zero hash)."""
    bits, step = h
    if bits == 0 and step == 0:
        return None
    sep = deinterleave64(bits)
    lat_scale = lat_range[1] - lat_range[0]
    long_scale = long_range[1] - long_range[0]
    ilato = sep & _M32
    ilono = (sep >> 32) & _M32
    div = float(1 << step)
    return Area(
        long_range[0] + (ilono * 1.0 / div) * long_scale,
        long_range[0] + (((ilono + 1) & _M32) * 1.0 / div) * long_scale,
        lat_range[0] + (ilato * 1.0 / div) * lat_scale,
        lat_range[0] + (((ilato + 1) & _M32) * 1.0 / div) * lat_scale,
    )


def area_center(area: Area) -> tuple[float, float]:
    """geohashDecodeAreaToLongLat: the cell's centre, clamped to the valid range."""
    x = (area.long_min + area.long_max) / 2
    if x > GEO_LONG_MAX:
        x = GEO_LONG_MAX
    if x < GEO_LONG_MIN:
        x = GEO_LONG_MIN
    y = (area.lat_min + area.lat_max) / 2
    if y > GEO_LAT_MAX:
        y = GEO_LAT_MAX
    if y < GEO_LAT_MIN:
        y = GEO_LAT_MIN
    return x, y


def score_to_bits(score: float) -> int:
    """``(uint64_t)score`` as gcc compiles it on x86-64 (cvttsd2si; values >= 2**63 are
    shifted down first): what Redis's decodeGeohash does with any zset score, valid or not."""
    if score != score:  # NaN: the "integer indefinite" value
        return 1 << 63
    if score < _TWO63:
        if score <= -_TWO63 or score == -math.inf:
            return 1 << 63
        return int(score) & _M64
    rest = score - _TWO63
    if rest >= _TWO63:  # >= 2**64 (and +inf): indefinite ^ bit 63
        return 0
    return int(rest) ^ (1 << 63)


# Fast paths for the step-26 encode/decode every stored point goes through: the same bit
# moves as interleave64 / deinterleave64 (checked against them in the unit tests), done
# 8 / 16 bits at a time through tables.
def _spread8(v: int) -> int:
    out = 0
    for i in range(8):
        out |= ((v >> i) & 1) << (2 * i)
    return out


_SPREAD = [_spread8(v) for v in range(256)]
_SQUEEZE = [0] * 65536  # 16 interleaved bits -> even bits | odd bits << 8
for _v in range(65536):
    _e = _o = 0
    for _i in range(8):
        _e |= ((_v >> (2 * _i)) & 1) << _i
        _o |= ((_v >> (2 * _i + 1)) & 1) << _i
    _SQUEEZE[_v] = _e | (_o << 8)
del _v, _e, _o, _i
_LAT_SCALE = GEO_LAT_MAX - GEO_LAT_MIN
_LONG_SCALE = GEO_LONG_MAX - GEO_LONG_MIN
_STEP26 = float(1 << GEO_STEP_MAX)


def decode_score(score: float) -> tuple[float, float]:
    """decodeGeohash: (longitude, latitude) of a zset score (never fails: step is 26)."""
    bits = int(score) if 0.0 <= score < _TWO63 else score_to_bits(score)
    sq = _SQUEEZE
    a = sq[bits & 0xFFFF]
    b = sq[(bits >> 16) & 0xFFFF]
    c = sq[(bits >> 32) & 0xFFFF]
    d = sq[bits >> 48]
    ilato = (a & 0xFF) | ((b & 0xFF) << 8) | ((c & 0xFF) << 16) | ((d & 0xFF) << 24)
    ilono = (a >> 8) | ((b >> 8) << 8) | ((c >> 8) << 16) | ((d >> 8) << 24)
    lat_min = GEO_LAT_MIN + (ilato * 1.0 / _STEP26) * _LAT_SCALE
    lat_max = GEO_LAT_MIN + (((ilato + 1) & _M32) * 1.0 / _STEP26) * _LAT_SCALE
    lon_min = GEO_LONG_MIN + (ilono * 1.0 / _STEP26) * _LONG_SCALE
    lon_max = GEO_LONG_MIN + (((ilono + 1) & _M32) * 1.0 / _STEP26) * _LONG_SCALE
    x = (lon_min + lon_max) / 2
    if x > GEO_LONG_MAX:
        x = GEO_LONG_MAX
    elif x < GEO_LONG_MIN:
        x = GEO_LONG_MIN
    y = (lat_min + lat_max) / 2
    if y > GEO_LAT_MAX:
        y = GEO_LAT_MAX
    elif y < GEO_LAT_MIN:
        y = GEO_LAT_MIN
    return x, y


def encode_score(longitude: float, latitude: float) -> int:
    """The score GEOADD stores (the 26-step hash, already 52 bits). The coordinates must be
    in range (GEOADD checks them first)."""
    if not (GEO_LONG_MIN <= longitude <= GEO_LONG_MAX and GEO_LAT_MIN <= latitude <= GEO_LAT_MAX):
        raise ValueError("coordinates out of range")
    lat = int((latitude - GEO_LAT_MIN) / _LAT_SCALE * _STEP26)
    lon = int((longitude - GEO_LONG_MIN) / _LONG_SCALE * _STEP26)
    sp = _SPREAD
    x = sp[lat & 0xFF] | (sp[(lat >> 8) & 0xFF] << 16) | (sp[(lat >> 16) & 0xFF] << 32)
    x |= sp[(lat >> 24) & 0xFF] << 48
    y = sp[lon & 0xFF] | (sp[(lon >> 8) & 0xFF] << 16) | (sp[(lon >> 16) & 0xFF] << 32)
    y |= sp[(lon >> 24) & 0xFF] << 48
    return x | (y << 1)


def align52(h: Hash) -> int:
    bits, step = h
    return (bits << (52 - step * 2)) & _M64


_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def to_geohash_string(score: float) -> bytes:
    """GEOHASH: decode, re-encode with the standard +-90 latitude range, 11 base-32 chars
    (the 11th is always '0': only 52 bits exist)."""
    x, y = decode_score(score)
    h = encode(x, y, 26, STD_LONG, STD_LAT)
    bits = 0 if h is None else h[0]
    out = bytearray(11)
    for i in range(10):
        out[i] = _ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F]
    out[10] = _ALPHABET[0]
    return bytes(out)


# --- neighbours -------------------------------------------------------------------------
def _move_x(h: Hash, d: int) -> Hash:
    bits, step = h
    if d == 0:
        return h
    x = bits & _ODD
    y = bits & _EVEN
    zz = _EVEN >> (64 - step * 2)
    if d > 0:
        x = x + (zz + 1)
    else:
        x = x | zz
        x = x - (zz + 1)
    x &= _ODD >> (64 - step * 2)
    return (x | y) & _M64, step


def _move_y(h: Hash, d: int) -> Hash:
    bits, step = h
    if d == 0:
        return h
    x = bits & _ODD
    y = bits & _EVEN
    zz = _ODD >> (64 - step * 2)
    if d > 0:
        y = y + (zz + 1)
    else:
        y = y | zz
        y = y - (zz + 1)
    y &= _EVEN >> (64 - step * 2)
    return (x | y) & _M64, step


@dataclass(slots=True)
class Neighbors:
    north: Hash
    south: Hash
    east: Hash
    west: Hash
    north_east: Hash
    north_west: Hash
    south_east: Hash
    south_west: Hash


def neighbors(h: Hash) -> Neighbors:
    """geohashNeighbors."""
    return Neighbors(
        north=_move_y(h, 1),
        south=_move_y(h, -1),
        east=_move_x(h, 1),
        west=_move_x(h, -1),
        north_east=_move_y(_move_x(h, 1), 1),
        north_west=_move_y(_move_x(h, -1), 1),
        south_east=_move_y(_move_x(h, 1), -1),
        south_west=_move_y(_move_x(h, -1), -1),
    )


# --- search shapes and areas ------------------------------------------------------------
CIRCULAR, RECTANGLE = 1, 2


@dataclass(slots=True)
class Shape:
    """GeoShape: the centre, the kind, the size in the request's unit and the unit's
    conversion factor to meters."""

    lon: float = 0.0
    lat: float = 0.0
    kind: int = 0
    radius: float = 0.0
    width: float = 0.0
    height: float = 0.0
    conversion: float = 1.0


def estimate_steps_by_radius(range_meters: float, lat: float) -> int:
    """geohashEstimateStepsByRadius."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    if step < 1:
        step = 1
    if step > 26:
        step = 26
    return step


def bounding_box(shape: Shape) -> tuple[float, float, float, float]:
    """geohashBoundingBox: (min_lon, min_lat, max_lon, max_lat)."""
    longitude, latitude = shape.lon, shape.lat
    circ = shape.kind == CIRCULAR
    height = shape.conversion * (shape.radius if circ else shape.height / 2)
    width = shape.conversion * (shape.radius if circ else shape.width / 2)
    lat_delta = (height / EARTH_RADIUS_IN_METERS) / D_R
    long_delta_top = (width / EARTH_RADIUS_IN_METERS / _cos((latitude + lat_delta) * D_R)) / D_R
    long_delta_bottom = (width / EARTH_RADIUS_IN_METERS / _cos((latitude - lat_delta) * D_R)) / D_R
    southern = latitude < 0
    min_lon = longitude - long_delta_bottom if southern else longitude - long_delta_top
    max_lon = longitude + long_delta_bottom if southern else longitude + long_delta_top
    return min_lon, latitude - lat_delta, max_lon, latitude + lat_delta


def areas_by_shape(shape: Shape) -> list[Hash]:
    """geohashCalculateAreasByShapeWGS84: the 9 cells to search, in Redis's visiting order
    (centre, N, S, E, W, NE, NW, SE, SW); excluded cells are :data:`ZERO`."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(shape)
    longitude, latitude = shape.lon, shape.lat
    if shape.kind == CIRCULAR:
        radius_meters = shape.radius
    else:
        radius_meters = _sqrt(
            (shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2)
        )
    radius_meters *= shape.conversion
    steps = estimate_steps_by_radius(radius_meters, latitude)
    h = encode(longitude, latitude, steps) or (0, steps)
    nb = neighbors(h)
    area = decode(h)
    north, south = decode(nb.north), decode(nb.south)
    east, west = decode(nb.east), decode(nb.west)
    decrease = (
        (north is not None and north.lat_max < max_lat)
        or (south is not None and south.lat_min > min_lat)
        or (east is not None and east.long_max < max_lon)
        or (west is not None and west.long_min > min_lon)
    )
    if steps > 1 and decrease:
        steps -= 1
        h = encode(longitude, latitude, steps) or (0, steps)
        nb = neighbors(h)
        area = decode(h)
    if steps >= 2 and area is not None:
        if area.lat_min < min_lat:
            nb.south = nb.south_west = nb.south_east = ZERO
        if area.lat_max > max_lat:
            nb.north = nb.north_east = nb.north_west = ZERO
        if area.long_min < min_lon:
            nb.west = nb.south_west = nb.north_west = ZERO
        if area.long_max > max_lon:
            nb.east = nb.south_east = nb.north_east = ZERO
    return [
        h,
        nb.north,
        nb.south,
        nb.east,
        nb.west,
        nb.north_east,
        nb.north_west,
        nb.south_east,
        nb.south_west,
    ]


def search_ranges(shape: Shape) -> list[tuple[int, int]]:
    """membersOfAllNeighbors' score ranges [min, max), in visiting order: zeroed cells and a
    cell equal to the previously processed one are skipped."""
    cells = areas_by_shape(shape)
    out: list[tuple[int, int]] = []
    last: Hash | None = None
    for i, cell in enumerate(cells):
        if cell == ZERO:
            continue
        if last is not None and cell == last:
            continue
        bits, step = cell
        out.append((align52(cell), align52(((bits + 1) & _M64, step))))
        if i:
            last = cell
    return out


# --- distances ------------------------------------------------------------------------
def distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """geohashGetDistance (Redis 7.0: the plain haversine)."""
    lat1r = lat1d * D_R
    lon1r = lon1d * D_R
    lat2r = lat2d * D_R
    lon2r = lon2d * D_R
    u = _sin((lat2r - lat1r) / 2)
    v = _sin((lon2r - lon1r) / 2)
    a = u * u + _cos(lat1r) * _cos(lat2r) * v * v
    if a < 0:  # C: sqrt/asin of an out-of-domain value is NaN (Python raises)
        return math.nan
    s = _sqrt(a)
    if s > 1:
        return math.nan
    return 2.0 * EARTH_RADIUS_IN_METERS * _asin(s)


def within_shape(shape: Shape, x: float, y: float) -> float | None:
    """geoAppendIfWithinShape's test: the distance (meters) from the centre to (x, y), or
    None when the point is outside the shape."""
    if shape.kind == CIRCULAR:
        d = distance(shape.lon, shape.lat, x, y)
        if d > shape.radius * shape.conversion:
            return None
        return d
    width_m = shape.width * shape.conversion
    height_m = shape.height * shape.conversion
    lon_distance = distance(x, y, shape.lon, y)
    lat_distance = distance(x, y, x, shape.lat)
    if lon_distance > width_m / 2 or lat_distance > height_m / 2:
        return None
    return distance(shape.lon, shape.lat, x, y)


def shape_filter(shape: Shape) -> Callable[[float, float], float | None]:
    """:func:`within_shape` for one shape, with the centre's terms computed once: the same
    operations in the same order, so the same results bit for bit (checked in the unit
    tests), about twice as fast (searches call it for every candidate point)."""
    lon1r = shape.lon * D_R
    lat1r = shape.lat * D_R
    cos1 = _cos(lat1r)
    two_r = 2.0 * EARTH_RADIUS_IN_METERS
    sin, cos, asin, sqrt, nan = _sin, _cos, _asin, _sqrt, math.nan

    def from_center(x: float, y: float) -> float:
        lat2r = y * D_R
        u = sin((lat2r - lat1r) / 2)
        v = sin((x * D_R - lon1r) / 2)
        s = sqrt(u * u + cos1 * cos(lat2r) * v * v)
        return nan if s > 1 else two_r * asin(s)

    if shape.kind == CIRCULAR:
        limit = shape.radius * shape.conversion

        def in_circle(x: float, y: float) -> float | None:
            d = from_center(x, y)
            return None if d > limit else d

        return in_circle

    half_w = shape.width * shape.conversion / 2
    half_h = shape.height * shape.conversion / 2

    def in_box(x: float, y: float) -> float | None:
        yr = y * D_R
        xr = x * D_R
        cy = cos(yr)
        v = sin((lon1r - xr) / 2)
        s = sqrt(0.0 * 0.0 + cy * cy * v * v)  # distance(x, y, lon, y)
        if (nan if s > 1 else two_r * asin(s)) > half_w:
            return None
        u = sin((lat1r - yr) / 2)
        s = sqrt(u * u + cy * cos1 * 0.0 * 0.0)  # distance(x, y, x, lat)
        if (nan if s > 1 else two_r * asin(s)) > half_h:
            return None
        return from_center(x, y)

    return in_box


# --- output formatting ----------------------------------------------------------------
def format_distance(d: float) -> bytes:
    """addReplyDoubleDistance: "%.4f"."""
    if d != d:
        return b"nan" if math.copysign(1.0, d) > 0 else b"-nan"
    return b"%.4f" % d


def format_coord(v: float) -> bytes:
    """ld2string(LD_STR_HUMAN) of a double: "%.17Lf" with trailing zeros (and the dot)
    removed, "-0" printed as "0"."""
    if math.isinf(v):
        return b"inf" if v > 0 else b"-inf"
    s = b"%.17f" % v
    s = s.rstrip(b"0")
    if s.endswith(b"."):
        s = s[:-1]
    if s == b"-0":
        s = b"0"
    return s


# --- Redis's pqsort ---------------------------------------------------------------------
T = TypeVar("T")


def _med3(a: list[T], i: int, j: int, k: int, cmp: Callable[[T, T], int]) -> int:
    if cmp(a[i], a[j]) < 0:
        if cmp(a[j], a[k]) < 0:
            return j
        return k if cmp(a[i], a[k]) < 0 else i
    if cmp(a[j], a[k]) > 0:
        return j
    return i if cmp(a[i], a[k]) < 0 else k


def _vecswap(a: list[T], i: int, j: int, n: int) -> None:
    for t in range(n):
        a[i + t], a[j + t] = a[j + t], a[i + t]


def _insertion(a: list[T], lo: int, n: int, cmp: Callable[[T, T], int]) -> None:
    for pm in range(lo + 1, lo + n):
        pl = pm
        while pl > lo and cmp(a[pl - 1], a[pl]) > 0:
            a[pl], a[pl - 1] = a[pl - 1], a[pl]
            pl -= 1


def pqsort(a: list[T], cmp: Callable[[T, T], int], lrange: int, rrange: int) -> None:
    """Redis 7.0's pqsort(): sorts ``a`` in place enough that positions lrange..rrange hold
    what a full sort would put there, moving elements exactly as the C code does (so ties
    end up in the same order as Redis's). Redis 7.0's copy has no "no swaps: switch to
    insertion sort" shortcut (later NetBSD / Redis versions do), and neither has this."""
    _pqsort(a, 0, len(a), cmp, lrange, rrange)


def _pqsort(a: list[T], lo: int, n: int, cmp: Callable[[T, T], int], lr: int, rr: int) -> None:
    while True:
        if n < 7:
            _insertion(a, lo, n, cmp)
            return
        pm = lo + n // 2
        if n > 7:
            pl = lo
            pn = lo + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(a, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(a, pm - d, pm, pm + d, cmp)
                pn = _med3(a, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(a, pl, pm, pn, cmp)
        a[lo], a[pm] = a[pm], a[lo]
        pa = pb = lo + 1
        pc = pd = lo + n - 1
        while True:
            while pb <= pc:
                r = cmp(a[pb], a[lo])
                if r > 0:
                    break
                if r == 0:
                    a[pa], a[pb] = a[pb], a[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(a[pc], a[lo])
                if r < 0:
                    break
                if r == 0:
                    a[pc], a[pd] = a[pd], a[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            a[pb], a[pc] = a[pc], a[pb]
            pb += 1
            pc -= 1
        pn = lo + n
        r = min(pa - lo, pb - pa)
        if r > 0:
            _vecswap(a, lo, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        if r > 0:
            _vecswap(a, pb, pn - r, r)
        r = pb - pa
        if r > 1:
            left, right = lo, lo + r - 1
            if not ((lr < left and rr < left) or (lr > right and rr > right)):
                _pqsort(a, lo, r, cmp, lr, rr)
        r = pd - pc
        if r > 1:
            lo = pn - r
            n = r
            left, right = lo, lo + r - 1
            if not ((lr < left and rr < left) or (lr > right and rr > right)):
                continue
        return


def msort(a: list[T], cmp: Callable[[T, T], int]) -> list[T]:
    """glibc's qsort (a top-down merge sort, stable): used when the comparator is not a
    total order (NaN distances), where the algorithm decides the result."""
    n = len(a)
    if n <= 1:
        return list(a)
    n1 = n // 2
    left, right = msort(a[:n1], cmp), msort(a[n1:], cmp)
    out: list[T] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out
