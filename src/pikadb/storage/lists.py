"""The list type: items indexed by a 64-bit position, head and tail kept in the meta record.

    meta value: | type u8 = 4 | expire-at u64 | version u64 | size u64 | head u64 | tail u64 |
    data cf:    version_prefix(mkey, version) + position u64 (big-endian)  ->  item bytes

Items occupy positions [head, tail), so size == tail - head and index i is position head + i.
A new list starts at head = tail = 2**63; LPUSH writes head - 1, RPUSH writes tail, so pushes
and pops at either end are O(1) (one point read at most, one commit). LINDEX/LSET are point
operations; LRANGE is one bounded range read; LTRIM and popping many are range deletes.
Middle operations (LINSERT, LREM) rewrite the shorter side so the positions stay contiguous.

A list that becomes empty is deleted (Redis). Writes keep the key's version (sub-keys stay)
and its TTL. Functions raise WRONGTYPE for a key of another type, except the ``*_lenient``
lookups used by blocked clients (for them a key of another type is "nothing to pop yet").
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.rdb import BAD_FORMAT, RdbValue
from pikadb.storage import generic
from pikadb.storage import layout as L
from pikadb.storage.batch import Batch
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database

T_LIST = L.T_LIST
MID = 1 << 63  # head = tail of a new list
_META = struct.Struct(">BQQQQQ")  # type, expire-at, version, size, head, tail
_P = struct.Struct(">Q").pack
_WRONGTYPE = errors.WRONGTYPE


class ListRef:
    """A live list key, decoded; mutators change ``head``/``tail`` and :meth:`save` writes
    the meta (or deletes the key when it became empty)."""

    __slots__ = ("expire_at", "head", "mkey", "pfx", "raw", "tail", "version")

    def __init__(self, mkey: bytes, raw: bytes | None, version: int = 0) -> None:
        self.mkey = mkey
        self.raw = raw
        if raw is None:  # a new list
            self.expire_at = 0
            self.version = version
            self.head = self.tail = MID
        else:
            _, self.expire_at, self.version, _size, self.head, self.tail = _META.unpack(raw)
        self.pfx = L.version_prefix(mkey, self.version)

    @property
    def size(self) -> int:
        return self.tail - self.head

    def key(self, pos: int) -> bytes:
        return self.pfx + _P(pos)

    def encode(self) -> bytes:
        return _META.pack(
            T_LIST, self.expire_at, self.version, self.tail - self.head, self.head, self.tail
        )

    def save(self, b: Batch) -> None:
        if self.tail == self.head:
            if self.raw is not None:
                b.delete_key(self.mkey, self.raw)
        else:
            b.put_meta(self.mkey, self.raw, self.encode())

    def scan(self, db: Database, lo: int, hi: int, reverse: bool = False) -> Iterator[bytes]:
        """Items at indexes [lo, hi) (clamped by the caller), head to tail or reversed."""
        h = self.head
        for _k, v in db.engine.scan(DATA, self.key(h + lo), self.key(h + hi), reverse):
            yield v


# --- lookups -------------------------------------------------------------------------------
def get(db: Database, key: bytes) -> ListRef | None:
    """The list at ``key`` (None when missing); WRONGTYPE for another type."""
    mkey, raw = db.lookup(key)
    if raw is None:
        return None
    if raw[0] != T_LIST:
        raise CommandError(_WRONGTYPE)
    return ListRef(mkey, raw)


def get_lenient(db: Database, key: bytes) -> ListRef | None:
    """The list at ``key``, or None when missing or of another type."""
    mkey, raw = db.lookup(key)
    if raw is None or raw[0] != T_LIST:
        return None
    return ListRef(mkey, raw)


def destination(db: Database, key: bytes) -> tuple[bytes, bytes | None]:
    """(meta key, raw or None) of LMOVE's destination; WRONGTYPE unless missing or a list."""
    mkey, raw = db.lookup(key)
    if raw is not None and raw[0] != T_LIST:
        raise CommandError(_WRONGTYPE)
    return mkey, raw


def length(db: Database, key: bytes) -> int:
    ref = get(db, key)
    return 0 if ref is None else ref.size


# --- pushes --------------------------------------------------------------------------------
def push(db: Database, key: bytes, values: list[bytes], left: bool, only_existing: bool) -> int:
    """LPUSH/RPUSH (LPUSHX/RPUSHX with ``only_existing``): the new length (0: no list)."""
    mkey, raw = db.lookup(key)
    store = db.store
    if raw is None:
        if only_existing:
            return 0
        ref = ListRef(mkey, None, store.next_version())
    elif raw[0] != T_LIST:
        raise CommandError(_WRONGTYPE)
    else:
        ref = ListRef(mkey, raw)
    b = store.batch()
    _push(b, ref, values, left)
    b.put_meta(mkey, raw, ref.encode())
    store.commit(b)
    return ref.size


def _push(b: Batch, ref: ListRef, values: list[bytes], left: bool) -> None:
    put = b.put
    pfx = ref.pfx
    if left:
        head = ref.head
        for v in values:
            head -= 1
            put(DATA, pfx + _P(head), v)
        ref.head = head
    else:
        tail = ref.tail
        for v in values:
            put(DATA, pfx + _P(tail), v)
            tail += 1
        ref.tail = tail


# --- pops ----------------------------------------------------------------------------------
def _pop_one(db: Database, b: Batch, ref: ListRef, left: bool) -> bytes:
    """Remove the head (or tail) item of a non-empty list into ``b`` (meta not saved)."""
    if left:
        k = ref.pfx + _P(ref.head)
        ref.head += 1
    else:
        ref.tail -= 1
        k = ref.pfx + _P(ref.tail)
    v = db.engine.get(DATA, k)
    b.delete(DATA, k)
    return v if v is not None else b""


def pop_one(db: Database, ref: ListRef, left: bool) -> bytes:
    """LPOP/RPOP of one item from a live list."""
    store = db.store
    b = store.batch()
    v = _pop_one(db, b, ref, left)
    ref.save(b)
    store.commit(b)
    return v


def pop_many(db: Database, ref: ListRef, left: bool, count: int) -> list[bytes]:
    """Pop up to ``count`` items, in pop order (from the tail backwards when not ``left``)."""
    n = min(count, ref.size)
    if n == 1:
        return [pop_one(db, ref, left)]
    store = db.store
    b = store.batch()
    if left:
        items = list(ref.scan(db, 0, n))
        b.delete_range(DATA, ref.key(ref.head), ref.key(ref.head + n))
        ref.head += n
    else:
        size = ref.size
        items = list(ref.scan(db, size - n, size, reverse=True))
        b.delete_range(DATA, ref.key(ref.tail - n), ref.key(ref.tail))
        ref.tail -= n
    ref.save(b)
    store.commit(b)
    return items


def move(
    db: Database, src: ListRef, dst: tuple[bytes, bytes | None], left_from: bool, left_to: bool
) -> bytes:
    """LMOVE from a live list ``src`` to ``dst`` (from :func:`destination`): one item, one
    commit. The destination may be the source itself (a rotation)."""
    store = db.store
    b = store.batch()
    dst_mkey, dst_raw = dst
    v = _pop_one(db, b, src, left_from)
    if dst_mkey == src.mkey:
        to = src
    else:
        to = ListRef(dst_mkey, dst_raw, 0 if dst_raw is not None else store.next_version())
    _push(b, to, [v], left_to)
    if to is not src:
        src.save(b)
    to.save(b)
    store.commit(b)
    return v


# --- reads ---------------------------------------------------------------------------------
def normalize_range(size: int, start: int, end: int) -> tuple[int, int] | None:
    """Redis's LRANGE index rules: [lo, hi) or None for an empty range."""
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
    return start, end + 1


def range_(db: Database, ref: ListRef, start: int, end: int) -> list[bytes]:
    r = normalize_range(ref.size, start, end)
    if r is None:
        return []
    h = ref.head
    pfx = ref.pfx
    return list(db.engine.scan_values(DATA, pfx + _P(h + r[0]), pfx + _P(h + r[1])))


def index(db: Database, ref: ListRef, i: int) -> bytes | None:
    size = ref.size
    if i < 0:
        i += size
    if i < 0 or i >= size:
        return None
    return db.engine.get(DATA, ref.key(ref.head + i))


def items(db: Database, mkey: bytes, raw: bytes) -> Iterator[bytes]:
    """Every item of a list key, head to tail (streamed)."""
    ref = ListRef(mkey, raw)
    return ref.scan(db, 0, ref.size)


def positions(
    db: Database, ref: ListRef, elem: bytes, rank: int, count: int, maxlen: int
) -> list[int]:
    """LPOS: indexes of ``elem``. ``rank`` > 0 from the head, < 0 from the tail (skipping
    |rank| - 1 matches); ``count`` 0 = all, else at most that many; ``maxlen`` 0 = no limit
    on items compared. INT64_MIN as rank behaves as in Redis (from the tail, every match)."""
    size = ref.size
    reverse = rank < 0
    if rank == -(1 << 63):  # -rank overflows in Redis: stays negative, matches >= rank always
        skip, count = 0, 0
    else:
        skip = abs(rank) - 1
    n = size if maxlen == 0 else min(maxlen, size)
    out: list[int] = []
    lo, hi = (size - n, size) if reverse else (0, n)
    for i, v in enumerate(ref.scan(db, lo, hi, reverse)):
        if v == elem:
            if skip:
                skip -= 1
            else:
                out.append(size - 1 - i if reverse else i)
                if count and len(out) >= count:
                    break
    return out


# --- updates -------------------------------------------------------------------------------
def set_(db: Database, ref: ListRef, i: int, value: bytes) -> bool:
    """LSET: False when the index is out of range."""
    size = ref.size
    if i < 0:
        i += size
    if i < 0 or i >= size:
        return False
    store = db.store
    b = store.batch()
    b.put(DATA, ref.key(ref.head + i), value)
    b.touch(ref.mkey)
    store.commit(b)
    return True


def insert(db: Database, ref: ListRef, after: bool, pivot: bytes, value: bytes) -> int:
    """LINSERT: the new length, or -1 when ``pivot`` is not found."""
    found = -1
    before_items: list[bytes] = []  # kept only while the head side may be the one to shift
    keep = ref.size // 2 + 1
    for i, v in enumerate(ref.scan(db, 0, ref.size)):
        if i < keep:
            before_items.append(v)
        if v == pivot:
            found = i
            break
    if found < 0:
        return -1
    j = found + 1 if after else found  # the new item's index
    size = ref.size
    store = db.store
    b = store.batch()
    put = b.put
    if j <= size - j:  # shift items [0, j) one position left
        h = ref.head - 1
        for k, v in enumerate(before_items[:j]):
            put(DATA, ref.key(h + k), v)
        put(DATA, ref.key(h + j), value)
        ref.head = h
    else:  # shift items [j, size) one position right
        base = ref.head + j
        for k, v in enumerate(ref.scan(db, j, size)):
            put(DATA, ref.key(base + k + 1), v)
        put(DATA, ref.key(base), value)
        ref.tail += 1
    ref.save(b)
    store.commit(b)
    return ref.size


def remove(db: Database, ref: ListRef, count: int, elem: bytes) -> int:
    """LREM: remove up to |count| items equal to ``elem`` (all for 0; from the tail when
    negative); the number removed."""
    size = ref.size
    reverse = count < 0
    limit = abs(count)
    hits: list[int] = []
    for i, v in enumerate(ref.scan(db, 0, size, reverse)):
        if v == elem:
            hits.append(size - 1 - i if reverse else i)
            if limit and len(hits) >= limit:
                break
    if not hits:
        return 0
    hits.sort()
    store = db.store
    b = store.batch()
    if len(hits) == size:
        b.delete_key(ref.mkey, ref.raw)  # type: ignore[arg-type]
        store.commit(b)
        return size
    _compact(db, b, ref, hits)
    ref.save(b)
    store.commit(b)
    return len(hits)


def _compact(db: Database, b: Batch, ref: ListRef, removed: list[int]) -> None:
    """Drop the items at the sorted indexes ``removed``, closing the gaps by moving the
    shorter side: the items after the first removed one left, or those before the last
    removed one right."""
    gone = set(removed)
    first, last = removed[0], removed[-1]
    size = ref.size
    put = b.put
    n = len(removed)
    if size - first <= last + 1:  # move the tail side left
        pos = ref.head + first
        for i, v in enumerate(ref.scan(db, first, size), first):
            if i not in gone:
                put(DATA, ref.key(pos), v)
                pos += 1
        b.delete_range(DATA, ref.key(ref.tail - n), ref.key(ref.tail))
        ref.tail -= n
    else:  # move the head side right
        pos = ref.head + last
        for i, v in enumerate(ref.scan(db, 0, last + 1, reverse=True)):
            if last - i not in gone:
                put(DATA, ref.key(pos), v)
                pos -= 1
        b.delete_range(DATA, ref.key(ref.head), ref.key(ref.head + n))
        ref.head += n


def trim(db: Database, ref: ListRef, start: int, end: int) -> None:
    """LTRIM with Redis's index rules (two range deletes at most)."""
    size = ref.size
    r = normalize_range(size, start, end)
    store = db.store
    b = store.batch()
    if r is None:
        b.delete_key(ref.mkey, ref.raw)  # type: ignore[arg-type]
        store.commit(b)
        return
    lo, hi = r
    if lo == 0 and hi == size:
        return
    if lo:
        b.delete_range(DATA, ref.key(ref.head), ref.key(ref.head + lo))
    if hi < size:
        b.delete_range(DATA, ref.key(ref.head + hi), ref.key(ref.tail))
    ref.tail = ref.head + hi
    ref.head += lo
    ref.save(b)
    store.commit(b)


# --- whole values (RESTORE, SORT ... STORE) --------------------------------------------------
def put_list(
    b: Batch, db: Database, mkey: bytes, old_raw: bytes | None, values: list[bytes], expire_at: int
) -> None:
    """Add to ``b`` a new list (a new version) at ``mkey`` replacing whatever was there
    (``old_raw``, any type); an empty ``values`` deletes the key."""
    if not values:
        if old_raw is not None:
            b.delete_key(mkey, old_raw)
        return
    ref = ListRef(mkey, None, db.store.next_version())
    ref.expire_at = expire_at
    _push(b, ref, values, False)
    b.put_meta(mkey, old_raw, ref.encode())


def _to_rdb(db: Database, mkey: bytes, raw: bytes) -> RdbValue:
    return RdbValue("list", list(items(db, mkey, raw)))


def _from_rdb(
    b: Batch, db: Database, mkey: bytes, old: bytes | None, value: object, expire_at_ms: int
) -> None:
    if not isinstance(value, list) or not value or not all(type(v) is bytes for v in value):
        raise CommandError(BAD_FORMAT)
    put_list(b, db, mkey, old, value, expire_at_ms)


generic.register_rdb(T_LIST, "list", _to_rdb, _from_rdb)
