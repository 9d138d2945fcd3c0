"""ZUNION / ZINTER / ZDIFF / ZINTERCARD over zsets and sets (Redis 7.0
zunionInterDiffGenericCommand's algorithms): inputs are opened first (WRONGTYPE for anything
but a zset or a set; a set's members score 1.0), combined smallest first (a stable sort by
size, which fixes the order float sums are taken in), with intersections probing the other
inputs by point reads. The result is a dict; :func:`sorted_items` puts it in zset order and
:func:`pikadb.storage.zsets.store_items` writes it.

A set's sub-keys are read with the layout shared by every collection (version prefix +
member -> b"").
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.storage import layout as L
from pikadb.storage import scorecodec as SC
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database

T_ZSET = L.T_ZSET
T_SET = L.T_SET
_COLL = struct.Struct(">BQQQ")
_unpack = SC.unpack_double


# --- ZUNION / ZINTER / ZDIFF -------------------------------------------------------------------------
class Source:
    """One input of ZUNION/ZINTER/ZDIFF: a zset, a set (scores 1.0) or a missing key."""

    __slots__ = ("engine", "is_set", "pend", "pfx", "plen", "size", "weight")

    def __init__(self, db: Database, raw: bytes | None, mkey: bytes) -> None:
        self.weight = 1.0
        self.engine = db.engine
        self.is_set = False
        if raw is None:
            self.size = 0
            self.pfx = self.pend = b""
            self.plen = 0
            return
        _, _, version, self.size = _COLL.unpack_from(raw)
        self.is_set = raw[0] == T_SET
        self.pfx = L.version_prefix(mkey, version)
        self.plen = len(self.pfx)
        self.pend = L.prefix_end(self.pfx)

    def items(self) -> Iterator[tuple[bytes, float]]:
        if not self.size:
            return
        n = self.plen
        if self.is_set:  # a set's sub-keys: prefix + member -> b""
            for k, _ in self.engine.scan(DATA, self.pfx, self.pend):
                yield k[n:], 1.0
        else:
            for k, v in self.engine.scan(DATA, self.pfx, self.pend):
                yield k[n:], _unpack(v)

    def find(self, member: bytes) -> float | None:
        if not self.size:
            return None
        v = self.engine.get(DATA, self.pfx + member)
        if v is None:
            return None
        return 1.0 if self.is_set else _unpack(v)


def open_sources(db: Database, keys: list[bytes]) -> list[Source]:
    """The inputs, in order; WRONGTYPE for a key that is neither a zset nor a set."""
    out: list[Source] = []
    for key in keys:
        mkey, raw = db.lookup(key)
        if raw is not None and raw[0] not in (T_ZSET, T_SET):
            raise CommandError(errors.WRONGTYPE)
        out.append(Source(db, raw, mkey))
    return out


AGG_SUM, AGG_MIN, AGG_MAX = 0, 1, 2


def _aggregate(agg: int) -> Callable[[float, float], float]:
    if agg == AGG_SUM:

        def f(target: float, val: float) -> float:
            r = target + val
            return 0.0 if r != r else r

    elif agg == AGG_MIN:

        def f(target: float, val: float) -> float:
            return val if val < target else target

    else:

        def f(target: float, val: float) -> float:
            return val if val > target else target

    return f


def union(sources: list[Source], agg: int) -> dict[bytes, float]:
    acc: dict[bytes, float] = {}
    f = _aggregate(agg)
    for src in sorted(sources, key=lambda s: s.size):
        w = src.weight
        for m, s in src.items():
            v = w * s
            if v != v:
                v = 0.0
            cur = acc.get(m)
            acc[m] = v if cur is None else f(cur, v)
    return acc


def inter(sources: list[Source], agg: int, card_limit: int = -1) -> dict[bytes, float] | int:
    """The intersection (member -> score); with ``card_limit`` >= 0 only its size (ZINTERCARD,
    0 = no limit)."""
    srcs = sorted(sources, key=lambda s: s.size)
    acc: dict[bytes, float] = {}
    count = 0
    if not srcs or srcs[0].size == 0:
        return acc if card_limit < 0 else 0
    f = _aggregate(agg)
    first, rest = srcs[0], srcs[1:]
    for m, s in first.items():
        v = first.weight * s
        if v != v:
            v = 0.0
        for src in rest:
            found = src.find(m)
            if found is None:
                break
            v = f(v, found * src.weight)
        else:
            if card_limit >= 0:
                count += 1
                if card_limit and count >= card_limit:
                    break
            else:
                acc[m] = v
    return acc if card_limit < 0 else count


def diff(sources: list[Source]) -> dict[bytes, float]:
    first, rest = sources[0], [s for s in sources[1:] if s.size]
    out: dict[bytes, float] = {}
    for m, s in first.items():
        if not any(src.find(m) is not None for src in rest):
            out[m] = s
    return out


def sorted_items(result: dict[bytes, float]) -> list[tuple[bytes, float]]:
    """(member, score) in zset order (score, then member bytes)."""
    return sorted(result.items(), key=lambda kv: (kv[1], kv[0]))
