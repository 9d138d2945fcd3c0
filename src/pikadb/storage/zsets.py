"""The sorted-set type: member -> score records plus a score index, on the versioned layout.

    +--------+------------------------------------------+---------------------------------+
    | cf     | key                                      | value                           |
    +--------+------------------------------------------+---------------------------------+
    | meta   | table|slot|key                           | type 5|expire|version|size|enc   |
    | data   | version prefix | member                  | score: binary64, big-endian     |
    | zscore | version prefix | score(8) | member       | b"" (b"-": the score is -0.0)   |
    +--------+------------------------------------------+---------------------------------+

    score(8) is the order-preserving encoding of :mod:`scorecodec`, so the zscore cf holds
    each zset in (score, member) order, as Redis's skiplist does.

``size`` is the member count (ZCARD is O(1)). ``enc`` (one byte) is the encoding Redis 7.0
would have for the same history: 0 listpack, 1 skiplist. Like Redis, a zset turns into a
skiplist when it grows past 128 members or gets a member longer than 64 bytes, and never
turns back (a zset written whole, e.g. by ZUNIONSTORE, RESTORE or ZRANGESTORE, gets the
encoding of its content). It decides OBJECT ENCODING, ZSCAN's one-shot reply and one Redis
quirk: a listpack stores an integral score as an integer, so -0.0 reads back as 0; a
skiplist keeps -0.0. The score index orders -0.0 as 0.0 (Redis compares with ``<``/``==``)
and keeps the sign in its value.

Ranges and ranks walk the score index with bounded scans (a rank costs O(min(rank, size -
rank)): both ends are walked); nothing here loads a whole zset unless the command returns
all of it. Lex ranges follow Redis's listpack walk exactly (first element >= min from the
head, then while <= max), with a direct seek when every member has the same score (the
normal use). ZRANDMEMBER uses the sampler and ZSCAN the cursor mechanism of sets/hashes;
ZUNION/ZINTER/ZDIFF are in :mod:`zsets_algebra`.

Every write builds ONE batch and commits it once; a zset left empty is deleted.
"""

from __future__ import annotations

import math
import random as _random
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.core.glob import stringmatch
from pikadb.rdb import BAD_FORMAT, RdbValue
from pikadb.storage import generic, sets
from pikadb.storage import layout as L
from pikadb.storage import scorecodec as SC
from pikadb.storage.batch import Batch
from pikadb.storage.engine import DATA, ZSCORE
from pikadb.storage.keyspace import Database

T_ZSET = L.T_ZSET
T_SET = L.T_SET
ENC_LISTPACK = 0
ENC_SKIPLIST = 1
MAX_LISTPACK_ENTRIES = 128
MAX_LISTPACK_VALUE = 64

_COLL = struct.Struct(">BQQQ")
_COLL_SIZE = _COLL.size
_pack = SC.pack_double
_unpack = SC.unpack_double
_encode = SC.encode
_decode = SC.decode
_copysign = math.copysign
_isnan = math.isnan
_WRONGTYPE = errors.WRONGTYPE
_NEG_ZERO = b"-"
_RANK_STEP = 32  # index entries counted per turn at the upper end (more at the lower end)
_REVERSE_COST = 2  # a backward step of a RocksDB iterator costs about two forward ones

# ZADD flags (Redis's ZADD_IN_*)
ZADD_NX, ZADD_XX, ZADD_GT, ZADD_LT, ZADD_INCR = 1, 2, 4, 8, 16


def _enc_of(raw: bytes) -> int:
    if len(raw) > _COLL_SIZE:
        return raw[_COLL_SIZE]
    return ENC_SKIPLIST if _COLL.unpack_from(raw)[3] > MAX_LISTPACK_ENTRIES else ENC_LISTPACK


def content_encoding(size: int, max_member_len: int) -> int:
    """The encoding Redis gives a zset created whole with this content."""
    if size > MAX_LISTPACK_ENTRIES or max_member_len > MAX_LISTPACK_VALUE:
        return ENC_SKIPLIST
    return ENC_LISTPACK


def encode_meta(expire_at: int, version: int, size: int, enc: int) -> bytes:
    return _COLL.pack(T_ZSET, expire_at, version, size) + bytes((enc,))


# --- range specifications -------------------------------------------------------------------
@dataclass(slots=True)
class ScoreRange:
    """zrangespec: min/max with exclusive flags."""

    min: float
    max: float
    minex: bool = False
    maxex: bool = False

    def empty(self) -> bool:
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))

    def gte_min(self, v: float) -> bool:
        return v > self.min if self.minex else v >= self.min

    def lte_max(self, v: float) -> bool:
        return v < self.max if self.maxex else v <= self.max

    def index_bounds(self) -> tuple[bytes, bytes]:
        """[lo, hi) over the 8-byte score prefix of index keys."""
        lo = _encode(self.min)
        if self.minex:
            lo = SC.after(lo)
        hi = _encode(self.max)
        if not self.maxex:
            hi = SC.after(hi)
        return lo, hi


LEX_MIN = -1  # the "-" bound (shared.minstring)
LEX_MAX = 1  # the "+" bound (shared.maxstring)
LexBound = bytes | int


def cmplex(a: LexBound, b: LexBound) -> int:
    """sdscmplex: compare lex bounds / members, "-" below and "+" above every string."""
    if a is b or (type(a) is int and a == b):
        return 0
    if a == LEX_MIN or b == LEX_MAX:
        return -1
    if a == LEX_MAX or b == LEX_MIN:
        return 1
    return (a > b) - (a < b)  # type: ignore[operator]


@dataclass(slots=True)
class LexRange:
    """zlexrangespec: bounds are member bytes or LEX_MIN / LEX_MAX."""

    min: LexBound
    max: LexBound
    minex: bool = False
    maxex: bool = False

    def empty(self) -> bool:
        c = cmplex(self.min, self.max)
        return c > 0 or (c == 0 and (self.minex or self.maxex))

    def gte_min(self, m: bytes) -> bool:
        c = cmplex(m, self.min)
        return c > 0 if self.minex else c >= 0

    def lte_max(self, m: bytes) -> bool:
        c = cmplex(m, self.max)
        return c < 0 if self.maxex else c <= 0


# --- opening a key ----------------------------------------------------------------------------
class ZSet:
    """An existing zset, opened for reading (and writing through a batch)."""

    __slots__ = ("db", "enc", "engine", "expire", "mkey", "pend", "pfx", "plen", "raw", "size")

    def __init__(self, db: Database, mkey: bytes, raw: bytes) -> None:
        _, exp, version, size = _COLL.unpack_from(raw)
        self.db = db
        self.engine = db.engine
        self.mkey = mkey
        self.raw = raw
        self.expire = exp
        self.size = size
        self.enc = _enc_of(raw)
        self.pfx = L.version_prefix(mkey, version)
        self.plen = len(self.pfx)
        self.pend = L.prefix_end(self.pfx)

    # -- reads ---------------------------------------------------------------------------------
    def score(self, member: bytes) -> float | None:
        v = self.engine.get(DATA, self.pfx + member)
        return None if v is None else _unpack(v)

    def index(
        self,
        lo: bytes | None = None,
        hi: bytes | None = None,
        reverse: bool = False,
        skip: int = 0,
    ) -> Iterator[tuple[bytes, float]]:
        """(member, score) in (score, member) order; ``lo``/``hi`` bound the index key suffix
        (score(8) + member), [lo, hi). The first ``skip`` entries are passed over undecoded."""
        pfx, n = self.pfx, self.plen
        start = pfx if lo is None else pfx + lo
        end = self.pend if hi is None else pfx + hi
        m = n + 8
        it = self.engine.scan(ZSCORE, start, end, reverse)
        if skip > 0:
            next(islice(it, skip, skip), None)
        for k, v in it:
            yield k[m:], (-0.0 if v else _decode(k[n:m]))

    def window(
        self, skip: int, count: int, reverse: bool = False, scores: bool = True
    ) -> list[tuple[bytes, float]]:
        """``count`` (member, score) of the index after ``skip`` entries (rank ranges): the
        entries are taken in one slice and decoded in one comprehension. ``scores=False``:
        the scores are not decoded (0.0), for replies without them."""
        n, m, dec = self.plen, self.plen + 8, _decode
        it = self.engine.scan(ZSCORE, self.pfx, self.pend, reverse)
        if not scores:
            return [(k[m:], 0.0) for k, _ in islice(it, skip, skip + count)]
        return [(k[m:], -0.0 if v else dec(k[n:m])) for k, v in islice(it, skip, skip + count)]

    def members(self) -> Iterator[tuple[bytes, float]]:
        """(member, score) in member order (the data cf)."""
        n = self.plen
        for k, v in self.engine.scan(DATA, self.pfx, self.pend):
            yield k[n:], _unpack(v)

    def first(self) -> tuple[bytes, float] | None:
        return next(self.index(), None)

    def last(self) -> tuple[bytes, float] | None:
        return next(self.index(reverse=True), None)

    # -- writes --------------------------------------------------------------------------------
    def remove(self, b: Batch, member: bytes, score: float) -> None:
        b.delete(DATA, self.pfx + member)
        b.delete(ZSCORE, self.pfx + _encode(score) + member)

    def finish(self, b: Batch, new_size: int, new_enc: int | None = None) -> None:
        """Record the new member count (deleting the key when it is 0) and commit."""
        enc = self.enc if new_enc is None else new_enc
        if new_size == 0:
            b.ops.clear()  # the range delete drops every sub-key anyway
            b.delete_key(self.mkey, self.raw)
        elif new_size != self.size or enc != _enc_of(self.raw):
            meta = encode_meta(self.expire, L.version_of(self.raw), new_size, enc)
            b.put_meta(self.mkey, self.raw, meta)
        elif b.ops:
            b.touch(self.mkey)
        if b.ops:
            self.db.store.commit(b)


def open_zset(db: Database, key: bytes) -> ZSet | None:
    """The zset at ``key`` (None if missing); WRONGTYPE for another type."""
    mkey, raw = db.lookup(key)
    if raw is None:
        return None
    if raw[0] != T_ZSET:
        raise CommandError(_WRONGTYPE)
    return ZSet(db, mkey, raw)


def check_type(db: Database, key: bytes) -> bool:
    """True if ``key`` holds a zset, False if missing; WRONGTYPE for another type."""
    raw = db.lookup(key)[1]
    if raw is None:
        return False
    if raw[0] != T_ZSET:
        raise CommandError(_WRONGTYPE)
    return True


# --- ZADD / ZINCRBY ------------------------------------------------------------------------------
@dataclass(slots=True)
class AddResult:
    added: int = 0
    updated: int = 0
    processed: int = 0
    score: float = 0.0  # the last processed score (ZADD INCR / ZINCRBY reply)


def add(db: Database, key: bytes, pairs: list[tuple[float, bytes]], flags: int) -> AddResult:
    """zsetAdd for each (score, member) in order. Scores are not NaN; with ZADD_INCR a NaN
    sum raises the NaN error and writes nothing."""
    res = AddResult()
    mkey, raw = db.lookup(key)
    store = db.store
    if raw is None:
        if flags & ZADD_XX:
            return res
        version = store.next_version()
        exp = size = 0
        enc = ENC_LISTPACK
    elif raw[0] != T_ZSET:
        raise CommandError(_WRONGTYPE)
    else:
        _, exp, version, size = _COLL.unpack_from(raw)
        enc = _enc_of(raw)
    old_enc = enc
    pfx = L.version_prefix(mkey, version)
    get = db.engine.get
    seen: dict[bytes, float] | None = {} if len(pairs) > 1 else None
    b = store.batch()
    put, delete = b.put, b.delete
    nx, xx = flags & ZADD_NX, flags & ZADD_XX
    gt, lt, incr = flags & ZADD_GT, flags & ZADD_LT, flags & ZADD_INCR
    added = updated = 0
    for score, member in pairs:
        dkey = pfx + member
        cur: float | None
        if seen is not None and member in seen:
            cur = seen[member]
        elif raw is None:
            cur = None
        else:
            v = get(DATA, dkey)
            cur = None if v is None else _unpack(v)
        if cur is not None:
            if nx:
                continue
            if incr:
                score += cur
                if _isnan(score):
                    raise CommandError(errors.ZSET_NAN)
            if (lt and score >= cur) or (gt and score <= cur):
                continue
            res.processed += 1
            res.score = score
            if score != cur:
                delete(ZSCORE, pfx + _encode(cur) + member)
                updated += 1
            else:
                continue
        elif xx:
            continue
        else:
            if enc == ENC_LISTPACK and (
                size + added + 1 > MAX_LISTPACK_ENTRIES or len(member) > MAX_LISTPACK_VALUE
            ):
                enc = ENC_SKIPLIST
            added += 1
            res.processed += 1
            res.score = score
        stored = score
        if score == 0.0:
            if _copysign(1.0, score) < 0 and enc == ENC_SKIPLIST:
                put(ZSCORE, pfx + _encode(score) + member, _NEG_ZERO)
            else:
                stored = 0.0
                put(ZSCORE, pfx + _encode(score) + member, b"")
        else:
            put(ZSCORE, pfx + _encode(score) + member, b"")
        put(DATA, dkey, _pack(stored))
        if seen is not None:
            seen[member] = stored
    res.added, res.updated = added, updated
    if added or enc != old_enc:
        b.put_meta(mkey, raw, encode_meta(exp, version, size + added, enc))
    elif updated:
        b.touch(mkey)
    if b.ops:
        store.commit(b)
    return res


def remove(db: Database, key: bytes, members: list[bytes]) -> int:
    z = open_zset(db, key)
    if z is None:
        return 0
    b = db.store.batch()
    removed = 0
    gone: set[bytes] = set()
    for m in members:
        if m in gone:
            continue
        s = z.score(m)
        if s is None:
            continue
        gone.add(m)
        z.remove(b, m, s)
        removed += 1
    if removed:
        z.finish(b, z.size - removed)
    return removed


# --- reads ---------------------------------------------------------------------------------------
def card(db: Database, key: bytes) -> int:
    z = open_zset(db, key)
    return 0 if z is None else z.size


def score(db: Database, key: bytes, member: bytes) -> float | None:
    z = open_zset(db, key)
    return None if z is None else z.score(member)


def scores(db: Database, key: bytes, members: list[bytes]) -> list[float | None]:
    z = open_zset(db, key)
    if z is None:
        return [None] * len(members)
    return [z.score(m) for m in members]


def rank(db: Database, key: bytes, member: bytes, reverse: bool) -> tuple[int, float] | None:
    """(rank, score) of ``member``, or None. Counted from the nearer end of the index (the
    two ends are walked in lockstep, the cheaper forward direction taking longer strides),
    so the cost is O(min(rank, size - rank))."""
    z = open_zset(db, key)
    if z is None:
        return None
    s = z.score(member)
    if s is None:
        return None
    target = z.pfx + _encode(s) + member
    scan = z.engine.scan
    fwd = z.engine.scan_keys(ZSCORE, z.pfx, target)  # the entries below the member
    back = scan(ZSCORE, target + b"\x00", z.pend, True)  # ... and above it
    below = above = 0
    while True:
        n = len(list(islice(fwd, _RANK_STEP * _REVERSE_COST)))
        below += n
        if n < _RANK_STEP * _REVERSE_COST:
            r = below
            break
        n = len(list(islice(back, _RANK_STEP)))
        above += n
        if n < _RANK_STEP:
            r = z.size - 1 - above
            break
    return (z.size - 1 - r if reverse else r), s


def _sanitize(start: int, end: int, size: int) -> tuple[int, int] | None:
    if start < 0:
        start += size
    if end < 0:
        end += size
    if start < 0:
        start = 0
    if start > end or start >= size:
        return None
    if end >= size:
        end = size - 1
    return start, end


def _by_rank(
    z: ZSet, start: int, end: int, reverse: bool, scores: bool = True
) -> list[tuple[bytes, float]]:
    """Items with ranks start..end (already sanitized) in reply order."""
    size = z.size
    lo, hi = (start, end) if not reverse else (size - 1 - end, size - 1 - start)
    n = hi - lo + 1
    if lo <= (size - 1 - hi) * _REVERSE_COST:
        items = z.window(lo, n, False, scores)
        if reverse:
            items.reverse()
    else:
        items = z.window(size - 1 - hi, n, True, scores)
        if not reverse:
            items.reverse()
    return items


def range_by_rank(
    db: Database, key: bytes, start: int, end: int, reverse: bool, scores: bool = True
) -> list[tuple[bytes, float]]:
    """Items with ranks start..end; ``scores=False`` leaves the scores undecoded (0.0)."""
    z = open_zset(db, key)
    if z is None:
        return []
    bounds = _sanitize(start, end, z.size)
    if bounds is None:
        return []
    return _by_rank(z, bounds[0], bounds[1], reverse, scores)


def _score_window(
    z: ZSet, rng: ScoreRange, reverse: bool, skip: int = 0
) -> Iterator[tuple[bytes, float]]:
    if rng.empty():
        return iter(())
    lo, hi = rng.index_bounds()
    return z.index(lo, hi, reverse, skip)


def range_by_score(
    db: Database, key: bytes, rng: ScoreRange, reverse: bool, offset: int = 0, limit: int = -1
) -> list[tuple[bytes, float]]:
    z = open_zset(db, key)
    if z is None or offset < 0 or (offset > 0 and offset >= z.size):
        return []
    return list(islice(_score_window(z, rng, reverse, offset), None if limit < 0 else limit))


def count_by_score(db: Database, key: bytes, rng: ScoreRange) -> int:
    z = open_zset(db, key)
    if z is None:
        return 0
    return sum(1 for _ in _score_window(z, rng, False))


def _lex_window(z: ZSet, rng: LexRange, reverse: bool) -> Iterator[tuple[bytes, float]]:
    """Redis's zzlFirstInLexRange / zzlLastInLexRange walk: the iterator starts at the first
    in-range element (from the head, or from the tail with ``reverse``) and runs on to the
    other end of the zset; callers stop where the range ends. Empty when nothing is in range."""
    if rng.empty():
        return
    first, last = z.first(), z.last()
    if first is None or last is None:
        return
    if not rng.gte_min(last[0]) or not rng.lte_max(first[0]):
        return
    it: Iterator[tuple[bytes, float]]
    if _encode(first[1]) == _encode(last[1]):  # one score: members are in lex order
        enc = _encode(first[1])
        if not reverse:
            if rng.min == LEX_MIN or rng.min == LEX_MAX:
                lo = enc if rng.min == LEX_MIN else SC.after(enc)
            else:
                lo = enc + rng.min  # type: ignore[operator]
            it = z.index(lo, None)
        else:
            if rng.max == LEX_MIN or rng.max == LEX_MAX:
                hi = enc if rng.max == LEX_MIN else SC.after(enc)
            else:
                hi = enc + rng.max + b"\x00"  # type: ignore[operator]
            it = z.index(None, hi, reverse=True)
    else:
        it = z.index(reverse=reverse)
    for item in it:
        m = item[0]
        if rng.lte_max(m) if reverse else rng.gte_min(m):
            if not (rng.gte_min(m) if reverse else rng.lte_max(m)):
                return
            yield item
            yield from it
            return


def _lex_in_range(
    win: Iterator[tuple[bytes, float]], rng: LexRange, reverse: bool
) -> Iterator[tuple[bytes, float]]:
    check = rng.gte_min if reverse else rng.lte_max
    for item in win:
        if not check(item[0]):
            return
        yield item


def range_by_lex(
    db: Database, key: bytes, rng: LexRange, reverse: bool, offset: int = 0, limit: int = -1
) -> list[tuple[bytes, float]]:
    z = open_zset(db, key)
    if z is None or (offset > 0 and offset >= z.size):
        return []
    if offset < 0:
        return []
    win = _lex_window(z, rng, reverse)
    # Redis skips `offset` elements without range checks, then emits while in range.
    for _ in islice(win, offset):
        pass
    return list(islice(_lex_in_range(win, rng, reverse), None if limit < 0 else limit))


def count_by_lex(db: Database, key: bytes, rng: LexRange) -> int:
    z = open_zset(db, key)
    if z is None:
        return 0
    return sum(1 for _ in _lex_in_range(_lex_window(z, rng, False), rng, False))


# --- range removal --------------------------------------------------------------------------------
def _remove_items(z: ZSet, items: list[tuple[bytes, float]]) -> int:
    if not items:
        return 0
    b = z.db.store.batch()
    if len(items) < z.size:
        for m, s in items:
            z.remove(b, m, s)
    z.finish(b, z.size - len(items))
    return len(items)


def remove_range_by_rank(db: Database, key: bytes, start: int, end: int) -> int:
    z = open_zset(db, key)
    if z is None:
        return 0
    bounds = _sanitize(start, end, z.size)
    if bounds is None:
        return 0
    return _remove_items(z, _by_rank(z, bounds[0], bounds[1], False))


def remove_range_by_score(db: Database, key: bytes, rng: ScoreRange) -> int:
    z = open_zset(db, key)
    if z is None:
        return 0
    return _remove_items(z, list(_score_window(z, rng, False)))


def remove_range_by_lex(db: Database, key: bytes, rng: LexRange) -> int:
    z = open_zset(db, key)
    if z is None:
        return 0
    return _remove_items(z, list(_lex_in_range(_lex_window(z, rng, False), rng, False)))


# --- pops ---------------------------------------------------------------------------------------------
def pop(
    db: Database, keys: list[bytes], reverse: bool, count: int
) -> tuple[bytes, list[tuple[bytes, float]]] | None:
    """genericZpopCommand: the first existing key (WRONGTYPE if it is not a zset) loses its
    ``count`` lowest (or highest) members. None when no key exists."""
    for key in keys:
        z = open_zset(db, key)
        if z is None:
            continue
        if count <= 0:
            return key, []
        items = list(islice(z.index(reverse=reverse), count))
        _remove_items(z, items)
        return key, items
    return None


# --- writing a whole zset --------------------------------------------------------------------------------
def write_new(
    b: Batch,
    db: Database,
    mkey: bytes,
    old: bytes | None,
    items: list[tuple[bytes, float]],
    expire_at: int = 0,
) -> None:
    """Add to ``b`` a new zset at ``mkey`` holding ``items`` (unique members, non-empty),
    replacing ``old`` (any type or None)."""
    version = db.store.next_version()
    enc = content_encoding(len(items), max(len(m) for m, _ in items))
    b.put_meta(mkey, old, encode_meta(expire_at, version, len(items), enc))
    pfx = L.version_prefix(mkey, version)
    put = b.put
    for m, s in items:
        if s == 0.0:
            if _copysign(1.0, s) < 0 and enc == ENC_SKIPLIST:
                put(ZSCORE, pfx + _encode(s) + m, _NEG_ZERO)
            else:
                s = 0.0
                put(ZSCORE, pfx + _encode(s) + m, b"")
        else:
            put(ZSCORE, pfx + _encode(s) + m, b"")
        put(DATA, pfx + m, _pack(s))


def store_items(db: Database, dst: bytes, items: list[tuple[bytes, float]]) -> int:
    """Replace ``dst`` (any type) by a zset of ``items`` (unique members); an empty result
    deletes ``dst``. Returns the member count."""
    mkey, old = db.lookup(dst)
    store = db.store
    b = store.batch()
    if items:
        write_new(b, db, mkey, old, items)
    elif old is not None:
        b.delete_key(mkey, old)
    store.commit(b)
    return len(items)


# --- ZRANDMEMBER ------------------------------------------------------------------------------
def random_members(
    db: Database, key: bytes, count: int, rng: _random.Random | None = None
) -> list[tuple[bytes, float]]:
    """ZRANDMEMBER with a count: ``count`` > 0 distinct members (the whole zset, in order,
    highest score first, when count >= size), < 0 ``-count`` draws with repetition. The sampler is the one
    SRANDMEMBER / HRANDFIELD use (:func:`pikadb.storage.sets.sample`): exact for small
    collections, seek-based for big ones (never a whole-collection load)."""
    z = open_zset(db, key)
    if z is None or count == 0:
        return []
    if count >= z.size:  # the whole zset, highest first (as Redis 7.0 replies)
        return list(z.index(reverse=True))
    got = sets.sample(z.engine, z.pfx, z.size, abs(count), count > 0, rng)
    return [(m, _unpack(v)) for m, v in got]


def random_member(db: Database, key: bytes, rng: _random.Random | None = None) -> bytes | None:
    got = random_members(db, key, -1, rng)
    return got[0][0] if got else None


# --- ZSCAN ------------------------------------------------------------------------------------------
def scan(
    db: Database, key: bytes, cursor: int, count: int, pattern: bytes | None
) -> tuple[int, list[tuple[bytes, float]], bool] | None:
    """One ZSCAN step: (next cursor, items, listpack?) or None for a missing key. A
    listpack-encoded zset is returned whole, in zset order, with cursor 0 (as Redis does);
    a big one is paged in member order by the cursor mechanism SSCAN/HSCAN use."""
    z = open_zset(db, key)
    if z is None:
        return None
    if z.enc == ENC_LISTPACK:
        if pattern is None or pattern == b"*":
            return 0, list(z.index()), True
        return 0, [(m, s) for m, s in z.index() if stringmatch(pattern, m, False)], True
    nxt, got = sets.scan_entries(db, z.mkey, z.raw, cursor, count, pattern, False)
    return nxt, [(m, _unpack(v)) for m, v in got], False


# --- whole-value hooks: DUMP/RESTORE, DEBUG DIGEST, OBJECT ENCODING, SORT -----------------------------------
def items(db: Database, mkey: bytes, raw: bytes) -> Iterator[tuple[bytes, float]]:
    """Every (member, score) of the zset (raw meta given), in member order."""
    return ZSet(db, mkey, raw).members()


def ordered_items(db: Database, mkey: bytes, raw: bytes) -> Iterator[tuple[bytes, float]]:
    """Every (member, score) in zset order (score, then member)."""
    return ZSet(db, mkey, raw).index()


def encoding_name(db: Database, mkey: bytes, raw: bytes) -> bytes:
    return b"skiplist" if _enc_of(raw) == ENC_SKIPLIST else b"listpack"


def _to_rdb(db: Database, mkey: bytes, raw: bytes) -> RdbValue:
    return RdbValue("zset", list(ordered_items(db, mkey, raw)))


def _from_rdb(
    batch: Batch, db: Database, mkey: bytes, old: bytes | None, value: object, expire_at_ms: int
) -> None:
    if not isinstance(value, list) or not value:
        raise CommandError(BAD_FORMAT)
    pairs: list[tuple[bytes, float]] = []
    for item in value:
        m, s = item
        if not isinstance(m, bytes) or not isinstance(s, float) or _isnan(s):
            raise CommandError(BAD_FORMAT)
        pairs.append((m, s))
    write_new(batch, db, mkey, old, pairs, expire_at_ms)


generic.register_rdb(T_ZSET, "zset", _to_rdb, _from_rdb)
