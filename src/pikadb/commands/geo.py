"""Geo commands (Redis 7.0 geo.c): GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS,
GEORADIUS_RO, GEORADIUSBYMEMBER, GEORADIUSBYMEMBER_RO, GEOSEARCH, GEOSEARCHSTORE.

A geo set is a sorted set whose scores are 52-bit geohashes (:mod:`pikadb.core.geohash`);
GEOADD is ZADD with those scores, STORE / GEOSEARCHSTORE write a plain zset.

Searches follow georadiusGeneric: the source key's type is checked first, then the centre
and shape, then the options left to right (errors in that order), then the option
conflicts. The 9 geohash cells around the centre are visited in Redis's order (centre, N, S,
E, W, NE, NW, SE, SW) and each cell's score range in zset order, so unsorted replies come
out in Redis's order too. ASC/DESC sort like Redis: a full sort is glibc's stable qsort; a
sort limited by COUNT is Redis's own partial quicksort (:func:`geohash.pqsort`), ported
move for move so that ties come out the same way.

Replies: distances "%.4f" (bulk strings, also in RESP3), hashes as integers, coordinates as
``ld2string(LD_STR_HUMAN)`` ("%.17Lf" trimmed), bulk strings in RESP2 and doubles in RESP3.
"""

from __future__ import annotations

from collections.abc import Callable

from pikadb.commands import notify
from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.table import Handler, KeySpec, command
from pikadb.commands.zsets import parse_score
from pikadb.core import errors
from pikadb.core import geohash as G
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import EMPTY_ARRAY, ZERO, integer
from pikadb.storage import geo, zsets

GROUP = "geo"
_SYNTAX = errors.SYNTAX

RADIUS_COORDS = 1  # GEORADIUS: centre given as coordinates
RADIUS_MEMBER = 2  # GEORADIUSBYMEMBER: centre given as a member
RADIUS_NOSTORE = 4  # the _RO variants: no STORE / STOREDIST
GEOSEARCH = 8
GEOSEARCHSTORE = 16

SORT_NONE, SORT_ASC, SORT_DESC = 0, 1, 2

_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}

_RADIUS_COMPLEXITY = (
    "O(N+log(M)) where N is the number of elements inside the bounding box of the circular "
    "area delimited by center and radius and M is the number of items inside the index."
)
_SEARCH_COMPLEXITY = (
    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "
    "around the shape provided as the filter and M is the number of items inside the shape"
)
_UPPER_UNITS = ("7.0.0", "Added support for uppercase unit names.")
_ANY = ("6.2.0", "Added the `ANY` option for `COUNT`.")


def _cmd(
    name: str,
    arity: int,
    flags: str,
    summary: str,
    args: str,
    *,
    since: str = "3.2.0",
    complexity: str = "O(log(N))",
    keys: tuple[int, int, int] = (1, 1, 1),
    key_flags: str = "",
    key_specs: tuple[KeySpec, ...] = (),
    key_finder: Callable[[list[bytes]], list[int]] | None = None,
    history: tuple[tuple[str, str], ...] = (),
) -> Callable[[Handler], Handler]:
    """:func:`command` with this family's defaults (@geo, one key)."""
    return command(
        name,
        arity,
        flags,
        keys=keys,
        acl="geo",
        group=GROUP,
        summary=summary,
        since=since,
        complexity=complexity,
        args=args,
        key_flags=key_flags,
        key_specs=key_specs,
        key_finder=key_finder,
        history=history,
    )


# --- argument helpers (extractLongLatOrReply, extractUnitOrReply, ...) ------------------------
def parse_lonlat(lon: bytes, lat: bytes) -> tuple[float, float]:
    x = parse_score(lon)
    y = parse_score(lat)
    if x < G.GEO_LONG_MIN or x > G.GEO_LONG_MAX or y < G.GEO_LAT_MIN or y > G.GEO_LAT_MAX:
        raise CommandError(errors.GEO_INVALID_LONLAT.format(_cfmt(x), _cfmt(y)))
    return x, y


def _cfmt(v: float) -> str:
    """C's "%f"."""
    return f"{v:f}"


def parse_unit(raw: bytes) -> float:
    to_meters = _UNITS.get(raw.lower())
    if to_meters is None:
        raise CommandError(errors.GEO_UNSUPPORTED_UNIT)
    return to_meters


def _parse_distance(value: bytes, unit: bytes) -> tuple[float, float]:
    """extractDistanceOrReply: (radius in the unit, conversion to meters)."""
    d = parse_score(value, errors.GEO_NEED_RADIUS)
    if d < 0:
        raise CommandError(errors.GEO_RADIUS_NEGATIVE)
    return d, parse_unit(unit)


def _parse_box(w: bytes, h: bytes, unit: bytes) -> tuple[float, float, float]:
    """extractBoxOrReply: (width, height, conversion)."""
    width = parse_score(w, errors.GEO_NEED_WIDTH)
    height = parse_score(h, errors.GEO_NEED_HEIGHT)
    if height < 0 or width < 0:
        raise CommandError(errors.GEO_BOX_NEGATIVE)
    return width, height, parse_unit(unit)


def _member_lonlat(z: zsets.ZSet, member: bytes) -> tuple[float, float]:
    """longLatFromMember, or Redis's error."""
    s = z.score(member)
    if s is None:
        raise CommandError(errors.GEO_MEMBER_NOT_FOUND)
    return G.decode_score(s)


def _coord(c: ClientState, v: float) -> bytes:
    """addReplyHumanLongDouble."""
    t = G.format_coord(v)
    if c.resp == 2:
        return b"$%d\r\n%s\r\n" % (len(t), t)
    return b",%s\r\n" % t


# --- GEOADD -------------------------------------------------------------------------------------
@_cmd(
    "geoadd",
    -5,
    "write denyoom",
    "Add one or more geospatial items in the geospatial index represented using a sorted set",
    "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]",
    key_flags="RW update",
    complexity="O(log(N)) for each item added, where N is the number of elements in the sorted "
    "set.",
    history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),),
)
def geoadd(c: ClientState, args: list[bytes]) -> bytes:
    n = len(args)
    nx = xx = ch = False
    longidx = 2
    while longidx < n:
        opt = args[longidx].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt == b"ch":
            ch = True
        else:
            break
        longidx += 1
    if (n - longidx) % 3 or (xx and nx):
        raise CommandError(_SYNTAX)
    pairs: list[tuple[float, bytes]] = []
    for i in range(longidx, n, 3):
        x, y = parse_lonlat(args[i], args[i + 1])
        pairs.append((float(G.encode_score(x, y)), args[i + 2]))
    if not pairs:  # ZADD with no score/member pair
        raise CommandError(_SYNTAX)
    flags = (zsets.ZADD_NX if nx else 0) | (zsets.ZADD_XX if xx else 0)
    res = zsets.add(c.db, args[1], pairs, flags)
    notify.counted(c, notify.ZSET, b"zadd", args[1], res.added + res.updated)
    return integer(res.added + res.updated if ch else res.added)


# --- GEOPOS / GEOHASH / GEODIST --------------------------------------------------------------
@_cmd(
    "geopos",
    -2,
    "readonly",
    "Returns longitude and latitude of members of a geospatial index",
    "key [member [member ...]]",
    complexity="O(N) where N is the number of members requested.",
)
def geopos(c: ClientState, args: list[bytes]) -> bytes:
    scores = zsets.scores(c.db, args[1], args[2:])
    parts = [b"*%d\r\n" % len(scores)]
    for s in scores:
        if s is None:
            parts.append(c.enc.null_array)
        else:
            x, y = G.decode_score(s)
            parts.append(b"*2\r\n" + _coord(c, x) + _coord(c, y))
    return b"".join(parts)


@_cmd(
    "geohash",
    -2,
    "readonly",
    "Returns members of a geospatial index as standard geohash strings",
    "key [member [member ...]]",
    complexity="O(log(N)) for each member requested, where N is the number of elements in the "
    "sorted set.",
)
def geohash(c: ClientState, args: list[bytes]) -> bytes:
    scores = zsets.scores(c.db, args[1], args[2:])
    return c.enc.bulks([None if s is None else G.to_geohash_string(s) for s in scores])


@_cmd(
    "geodist",
    -4,
    "readonly",
    "Returns the distance between two members of a geospatial index",
    "key member1 member2 [M|KM|FT|MI]",
)
def geodist(c: ClientState, args: list[bytes]) -> bytes:
    to_meter = 1.0
    if len(args) == 5:
        to_meter = parse_unit(args[4])
    elif len(args) > 5:
        raise CommandError(_SYNTAX)
    z = geo.open_geo(c.db, args[1])
    if z is None:
        return c.enc.null
    s1 = z.score(args[2])
    s2 = z.score(args[3]) if s1 is not None else None
    if s1 is None or s2 is None:
        return c.enc.null
    x1, y1 = G.decode_score(s1)
    x2, y2 = G.decode_score(s2)
    t = G.format_distance(G.distance(x1, y1, x2, y2) / to_meter)
    return b"$%d\r\n%s\r\n" % (len(t), t)


# --- the searches (georadiusGeneric) --------------------------------------------------------------
# A found point: [member, score, longitude, latitude, distance in meters]
Point = list

_DIST = 4


def _asc(a: Point, b: Point) -> int:
    """sort_gp_asc."""
    if a[_DIST] > b[_DIST]:
        return 1
    if a[_DIST] == b[_DIST]:
        return 0
    return -1


def _desc(a: Point, b: Point) -> int:
    return -_asc(a, b)


def _sort(points: list[Point], sort: int, returned: int) -> list[Point]:
    cmp = _asc if sort == SORT_ASC else _desc
    if returned == len(points):
        if any(p[_DIST] != p[_DIST] for p in points):  # NaN: the algorithm decides
            return G.msort(points, cmp)
        return sorted(points, key=lambda p: p[_DIST], reverse=sort == SORT_DESC)
    G.pqsort(points, cmp, 0, returned - 1)
    return points


def _search(
    z: zsets.ZSet, shape: G.Shape, limit: int
) -> list[Point]:  # membersOfAllNeighbors + geoGetPointsInRange
    found: list[Point] = []
    decode, within = G.decode_score, G.shape_filter(shape)
    add = found.append
    for lo, hi in G.search_ranges(shape):
        if limit and len(found) >= limit:
            break
        for member, score in geo.cell_members(z, lo, hi):
            x, y = decode(score)
            d = within(x, y)
            if d is not None:
                add([member, score, x, y, d])
                if limit and len(found) >= limit:
                    break
    return found


def georadius_generic(c: ClientState, args: list[bytes], src: int, flags: int) -> bytes:
    db = c.db
    z = geo.open_geo(db, args[src])
    shape = G.Shape()
    storekey: bytes | None = None
    storedist = False
    if flags & RADIUS_COORDS:
        base = 6
        shape.kind = G.CIRCULAR
        shape.lon, shape.lat = parse_lonlat(args[2], args[3])
        shape.radius, shape.conversion = _parse_distance(args[4], args[5])
    elif flags & RADIUS_MEMBER and z is None:
        base = 5  # no source key: parse the options anyway, to pick the reply
    elif flags & RADIUS_MEMBER:
        assert z is not None
        base = 5
        shape.kind = G.CIRCULAR
        shape.lon, shape.lat = _member_lonlat(z, args[2])
        shape.radius, shape.conversion = _parse_distance(args[3], args[4])
    else:
        base = 2
        if flags & GEOSEARCHSTORE:
            base = 3
            storekey = args[1]

    withdist = withhash = withcoords = False
    frommember = fromloc = byradius = bybox = False
    sort = SORT_NONE
    any_ = False
    count = 0
    search = bool(flags & GEOSEARCH)
    store_ok = not (flags & RADIUS_NOSTORE) and not search
    remaining = len(args) - base
    i = 0
    while i < remaining:
        j = base + i
        arg = args[j].lower()
        if arg == b"withdist":
            withdist = True
        elif arg == b"withhash":
            withhash = True
        elif arg == b"withcoord":
            withcoords = True
        elif arg == b"any":
            any_ = True
        elif arg == b"asc":
            sort = SORT_ASC
        elif arg == b"desc":
            sort = SORT_DESC
        elif arg == b"count" and i + 1 < remaining:
            count = parse_int(args[j + 1])
            if count <= 0:
                raise CommandError(errors.GEO_COUNT_POSITIVE)
            i += 1
        elif arg == b"store" and i + 1 < remaining and store_ok:
            storekey = args[j + 1]
            storedist = False
            i += 1
        elif arg == b"storedist" and i + 1 < remaining and store_ok:
            storekey = args[j + 1]
            storedist = True
            i += 1
        elif arg == b"storedist" and search and flags & GEOSEARCHSTORE:
            storedist = True
        elif arg == b"frommember" and i + 1 < remaining and search and not fromloc:
            if z is not None:
                shape.lon, shape.lat = _member_lonlat(z, args[j + 1])
            frommember = True
            i += 1
        elif arg == b"fromlonlat" and i + 2 < remaining and search and not frommember:
            shape.lon, shape.lat = parse_lonlat(args[j + 1], args[j + 2])
            fromloc = True
            i += 2
        elif arg == b"byradius" and i + 2 < remaining and search and not bybox:
            shape.radius, shape.conversion = _parse_distance(args[j + 1], args[j + 2])
            shape.kind = G.CIRCULAR
            byradius = True
            i += 2
        elif arg == b"bybox" and i + 3 < remaining and search and not byradius:
            shape.width, shape.height, shape.conversion = _parse_box(
                args[j + 1], args[j + 2], args[j + 3]
            )
            shape.kind = G.RECTANGLE
            bybox = True
            i += 3
        else:
            raise CommandError(_SYNTAX)
        i += 1

    if storekey is not None and (withdist or withhash or withcoords):
        what = "GEOSEARCHSTORE" if flags & GEOSEARCHSTORE else "STORE option in GEORADIUS"
        raise CommandError(errors.GEO_STORE_WITH.format(what))
    name = args[0].decode("utf-8", "replace")
    if search and not (frommember or fromloc):
        raise CommandError(errors.GEO_NEED_FROM.format(name))
    if search and not (byradius or bybox):
        raise CommandError(errors.GEO_NEED_BY.format(name))
    if any_ and not count:
        raise CommandError(errors.GEO_ANY_NEEDS_COUNT)

    store_event = b"geosearchstore" if search else b"georadiusstore"
    if z is None:
        if storekey is not None:
            dst = storekey
            notify.stored(c, notify.ZSET, store_event, dst, lambda: zsets.store_items(db, dst, []))
            return ZERO
        return EMPTY_ARRAY

    if count and sort == SORT_NONE and not any_:
        sort = SORT_ASC
    points = _search(z, shape, count if any_ else 0)
    if not points and storekey is None:
        return EMPTY_ARRAY
    total = len(points)
    returned = total if count == 0 or total < count else count
    if sort != SORT_NONE:
        points = _sort(points, sort, returned)
    conv = shape.conversion

    if storekey is not None:
        items: list[tuple[bytes, float]] = []
        seen: set[bytes] = set()
        for p in points[:returned]:
            if p[0] in seen:
                continue
            seen.add(p[0])
            items.append((p[0], p[_DIST] / conv if storedist else p[1]))
        dst = storekey
        notify.stored(c, notify.ZSET, store_event, dst, lambda: zsets.store_items(db, dst, items))
        return integer(returned)

    nopts = withdist + withhash + withcoords
    out = [b"*%d\r\n" % returned]
    add = out.append
    for p in points[:returned]:
        m = p[0]
        if nopts:
            add(b"*%d\r\n" % (nopts + 1))
        add(b"$%d\r\n%s\r\n" % (len(m), m))
        if withdist:
            t = G.format_distance(p[_DIST] / conv)
            add(b"$%d\r\n%s\r\n" % (len(t), t))
        if withhash:
            add(b":%d\r\n" % int(p[1]))
        if withcoords:
            add(b"*2\r\n" + _coord(c, p[2]) + _coord(c, p[3]))
    return b"".join(out)


def georadius_keys(args: list[bytes]) -> list[int]:
    """georadiusGetKeys: the source key, plus the last STORE / STOREDIST key (from arg 5)."""
    stored = -1
    i = 5
    n = len(args)
    while i < n:
        a = args[i].lower()
        if (a == b"store" or a == b"storedist") and i + 1 < n:
            stored = i + 1
            i += 1
        i += 1
    return [1] if stored < 0 else [1, stored]


def _store_specs(start: int) -> tuple[KeySpec, ...]:
    return (
        KeySpec("RO access", index=1),
        KeySpec("OW update", keyword="STORE", startfrom=start),
        KeySpec("OW update", keyword="STOREDIST", startfrom=start),
    )


_UNIT = "(M|KM|FT|MI)"
_RADIUS_ARGS = (
    f"key longitude latitude radius {_UNIT} [WITHCOORD] [WITHDIST] [WITHHASH] "
    "[COUNT count [ANY]] [ASC|DESC]"
)
_BYMEMBER_ARGS = (
    f"key member radius {_UNIT} [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]"
)
_SEARCH_ARGS = (
    "(FROMMEMBER member|FROMLONLAT longitude latitude) "
    f"(BYRADIUS radius {_UNIT}|BYBOX width height {_UNIT}) [ASC|DESC] [COUNT count [ANY]]"
)


@_cmd(
    "georadius",
    -6,
    "write denyoom",
    "Query a sorted set representing a geospatial index to fetch members matching a given "
    "maximum distance from a point",
    _RADIUS_ARGS + " [STORE key] [STOREDIST key]",
    complexity=_RADIUS_COMPLEXITY,
    key_specs=_store_specs(6),
    key_finder=georadius_keys,
    history=(_ANY, _UPPER_UNITS),
)
def georadius(c: ClientState, args: list[bytes]) -> bytes:
    return georadius_generic(c, args, 1, RADIUS_COORDS)


@_cmd(
    "georadius_ro",
    -6,
    "readonly",
    "A read-only variant for GEORADIUS",
    _RADIUS_ARGS,
    since="3.2.10",
    complexity=_RADIUS_COMPLEXITY,
    history=(_ANY,),
)
def georadius_ro(c: ClientState, args: list[bytes]) -> bytes:
    return georadius_generic(c, args, 1, RADIUS_COORDS | RADIUS_NOSTORE)


@_cmd(
    "georadiusbymember",
    -5,
    "write denyoom",
    "Query a sorted set representing a geospatial index to fetch members matching a given "
    "maximum distance from a member",
    _BYMEMBER_ARGS + " [STORE key] [STOREDIST key]",
    complexity=_RADIUS_COMPLEXITY,
    key_specs=_store_specs(5),
    key_finder=georadius_keys,
    history=(_UPPER_UNITS,),
)
def georadiusbymember(c: ClientState, args: list[bytes]) -> bytes:
    return georadius_generic(c, args, 1, RADIUS_MEMBER)


@_cmd(
    "georadiusbymember_ro",
    -5,
    "readonly",
    "A read-only variant for GEORADIUSBYMEMBER",
    _BYMEMBER_ARGS,
    since="3.2.10",
    complexity=_RADIUS_COMPLEXITY,
)
def georadiusbymember_ro(c: ClientState, args: list[bytes]) -> bytes:
    return georadius_generic(c, args, 1, RADIUS_MEMBER | RADIUS_NOSTORE)


@_cmd(
    "geosearch",
    -7,
    "readonly",
    "Query a sorted set representing a geospatial index to fetch members inside an area of a "
    "box or a circle.",
    "key " + _SEARCH_ARGS + " [WITHCOORD] [WITHDIST] [WITHHASH]",
    since="6.2.0",
    complexity=_SEARCH_COMPLEXITY,
    history=(_UPPER_UNITS,),
)
def geosearch(c: ClientState, args: list[bytes]) -> bytes:
    return georadius_generic(c, args, 1, GEOSEARCH)


@_cmd(
    "geosearchstore",
    -8,
    "write denyoom",
    "Query a sorted set representing a geospatial index to fetch members inside an area of a "
    "box or a circle, and store the result in another key.",
    "destination source " + _SEARCH_ARGS + " [STOREDIST]",
    since="6.2.0",
    complexity=_SEARCH_COMPLEXITY,
    keys=(1, 2, 1),
    key_specs=(KeySpec("OW update", index=1), KeySpec("RO access", index=2)),
    history=(_UPPER_UNITS,),
)
def geosearchstore(c: ClientState, args: list[bytes]) -> bytes:
    return georadius_generic(c, args, 2, GEOSEARCH | GEOSEARCHSTORE)
