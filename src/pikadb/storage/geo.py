"""Geo sets are plain sorted sets (Redis: GEOADD is ZADD with geohash scores): nothing new
on disk. This module only adds what the geo commands need on top of :mod:`zsets`: a lazy walk
of one score range ``[lo, hi)`` of an opened zset (a geohash cell), in (score, member) order
-- Redis's zslFirstInRange + forward walk, so results come out in Redis's order.
"""

from __future__ import annotations

from collections.abc import Iterator

from pikadb.storage import zsets
from pikadb.storage.keyspace import Database
from pikadb.storage.zsets import ScoreRange, ZSet


def open_geo(db: Database, key: bytes) -> ZSet | None:
    """The zset at ``key`` (None if missing); WRONGTYPE for another type."""
    return zsets.open_zset(db, key)


def cell_members(z: ZSet, lo: int, hi: int) -> Iterator[tuple[bytes, float]]:
    """(member, score) with lo <= score < hi, lazily, in zset order."""
    lo_key, hi_key = ScoreRange(float(lo), float(hi), False, True).index_bounds()
    return z.index(lo_key, hi_key)
