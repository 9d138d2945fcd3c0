"""Type-generic key operations, written against the meta layer so they work for every type.

Everything here reads the common meta header (type u8 | expire-at u64) and, for collections,
:class:`~pikadb.storage.layout.CollectionMeta`; sub-keys are handled as opaque bytes under a
version prefix. So DEL, EXPIRE, RENAME, COPY, MOVE, SCAN... need no change when a type lands.

Copying a collection (RENAME / COPY / MOVE) gives the destination a NEW version and copies
every sub-key of the source version, in the data and zscore column families, to the new
version prefix (the bytes after the prefix are kept as they are), all in ONE batch::

    data/zscore: <src table|slot|keylen|key|old version> + tail  ->  <dst ...|new version> + tail

Deleting a collection is O(1): ``Batch.delete_key`` range-deletes its version prefix.

SCAN cursors. Keys are iterated in (slot, key) order. A cursor is ``slot | token << 14``:
token 0 means "from the first key of ``slot``"; other tokens index a bounded LRU map
(:class:`ScanCursors`, 5000 entries like Pika) holding the key to continue from. A token that
was evicted (or issued before a restart) restarts its slot from the beginning, so a scan
still returns every key present for its whole duration at least once. Tokens start from the
clock (ms * 256) at start-up, so cursors handed out before a restart do not collide with new
ones. Cursors stay below 2**63 (clients that parse them as signed 64-bit integers work).

DUMP / RESTORE conversion is a small registry: each type registers ``to_rdb`` (its stored
value -> :class:`~pikadb.rdb.RdbValue`) and ``from_rdb`` (an RdbValue -> mutations in a
batch) with :func:`register_rdb`. Strings are registered here.
"""

from __future__ import annotations

import heapq
import random
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.core.glob import stringmatch
from pikadb.core.slots import SLOT_COUNT, key_hash_slot
from pikadb.rdb import BAD_FORMAT, RdbValue
from pikadb.storage import layout as L
from pikadb.storage import strings
from pikadb.storage.batch import Batch
from pikadb.storage.engine import DATA, ZSCORE
from pikadb.storage.keyspace import Database

_SLOTS = L.SLOT_BYTES
_expire_of = L.expire_of
T_STRING = L.T_STRING


# --- types -------------------------------------------------------------------------------
def type_name(raw: bytes | None) -> bytes:
    """TYPE's answer for a raw meta value (``none`` when missing)."""
    if raw is None:
        return b"none"
    return L.TYPE_NAMES.get(raw[0], b"none")


# --- existence and deletion --------------------------------------------------------------
def exists_count(db: Database, keys: list[bytes]) -> int:
    """How many of ``keys`` exist (duplicates counted, as EXISTS does)."""
    lookup = db.lookup
    n = 0
    for k in keys:
        if lookup(k)[1] is not None:
            n += 1
    return n


def delete_keys(db: Database, keys: list[bytes]) -> int:
    """Delete ``keys`` of any type in one commit; the number actually removed."""
    store = db.store
    if len(keys) == 1:
        mkey, raw = db.lookup(keys[0])
        if raw is None:
            return 0
        b = store.batch()
        b.delete_key(mkey, raw)
        store.commit(b)
        return 1
    b = store.batch()
    seen: set[bytes] = set()
    n = 0
    for key in keys:
        mkey, raw = db.lookup(key)
        if raw is None or mkey in seen:
            continue
        seen.add(mkey)
        b.delete_key(mkey, raw)
        n += 1
    store.commit(b)
    return n


# --- expiry ------------------------------------------------------------------------------
EXPIRE_NX, EXPIRE_XX, EXPIRE_GT, EXPIRE_LT = 1, 2, 4, 8


def expire_at(db: Database, key: bytes, when_ms: int, flags: int = 0) -> int:
    """EXPIRE's core: set ``key`` to expire at ``when_ms`` (a time not in the future deletes
    it). ``flags`` are EXPIRE_NX/XX/GT/LT. Returns 1 if the key was changed, else 0."""
    mkey, raw = db.lookup(key)
    if raw is None:
        return 0
    if flags:
        current = _expire_of(raw) or -1
        if flags & EXPIRE_NX and current != -1:
            return 0
        if flags & EXPIRE_XX and current == -1:
            return 0
        if flags & EXPIRE_GT and (current == -1 or when_ms <= current):
            return 0
        if flags & EXPIRE_LT and current != -1 and when_ms >= current:
            return 0
    store = db.store
    b = store.batch()
    if when_ms <= now_ms():
        b.delete_key(mkey, raw)
    else:
        b.put_meta(mkey, raw, L.with_expire(raw, when_ms))
    store.commit(b)
    return 1


def persist(db: Database, key: bytes) -> int:
    """Remove the key's expire; 1 if it had one."""
    mkey, raw = db.lookup(key)
    if raw is None or not _expire_of(raw):
        return 0
    store = db.store
    b = store.batch()
    b.put_meta(mkey, raw, L.with_expire(raw, 0))
    store.commit(b)
    return 1


def expire_of_key(db: Database, key: bytes) -> int | None:
    """None: no such key; 0: no expire; else the expire-at in ms."""
    raw = db.lookup(key)[1]
    if raw is None:
        return None
    return _expire_of(raw)


# --- copying a key (RENAME / COPY / MOVE / RESTORE helpers) ------------------------------
def copy_value(
    batch: Batch,
    src_db: Database,
    src_mkey: bytes,
    raw: bytes,
    dst_mkey: bytes,
    dst_old: bytes | None,
    expire_at_ms: int | None = None,
) -> None:
    """Add to ``batch`` a copy of the key (``src_mkey``, ``raw``) at ``dst_mkey``, replacing
    ``dst_old`` (the destination's current raw meta, None if absent). The copy keeps the
    source's expire unless ``expire_at_ms`` is given."""
    exp = _expire_of(raw) if expire_at_ms is None else expire_at_ms
    if raw[0] == T_STRING:
        batch.put_meta(dst_mkey, dst_old, L.with_expire(raw, exp))
        return
    store = src_db.store
    meta = L.CollectionMeta.decode(raw)
    old_version = meta.version
    meta.version = store.next_version()
    meta.expire_at = exp
    batch.put_meta(dst_mkey, dst_old, meta.encode())
    old_pfx = L.version_prefix(src_mkey, old_version)
    new_pfx = L.version_prefix(dst_mkey, meta.version)
    n = len(old_pfx)
    end = L.prefix_end(old_pfx)
    cfs = (DATA, ZSCORE) if raw[0] in L.USES_ZSCORE else (DATA,)
    scan = store.engine.scan
    put = batch.put
    for cf in cfs:
        for k, v in scan(cf, old_pfx, end):
            put(cf, new_pfx + k[n:], v)


def rename(db: Database, src: bytes, dst: bytes, nx: bool) -> int | None:
    """RENAME / RENAMENX. None: no such source key; 1: renamed; 0: not renamed (NX)."""
    src_mkey, raw = db.lookup(src)
    if raw is None:
        return None
    if src == dst:
        return 0 if nx else 1
    dst_mkey, dst_old = db.lookup(dst)
    if dst_old is not None and nx:
        return 0
    store = db.store
    b = store.batch()
    copy_value(b, db, src_mkey, raw, dst_mkey, dst_old)
    b.delete_key(src_mkey, raw)
    store.commit(b)
    return 1


def copy(src_db: Database, dst_db: Database, src: bytes, dst: bytes, replace: bool) -> int:
    """COPY: 1 if copied; 0 if the source is missing or the destination exists (no REPLACE)."""
    src_mkey, raw = src_db.lookup(src)
    if raw is None:
        return 0
    dst_mkey, dst_old = dst_db.lookup(dst)
    if dst_old is not None and not replace:
        return 0
    store = src_db.store
    b = store.batch()
    copy_value(b, src_db, src_mkey, raw, dst_mkey, dst_old)
    store.commit(b)
    return 1


def move(src_db: Database, dst_db: Database, key: bytes) -> int:
    """MOVE: 1 if moved; 0 if missing here or already present in the target database."""
    src_mkey, raw = src_db.lookup(key)
    if raw is None:
        return 0
    dst_mkey, dst_old = dst_db.lookup(key)
    if dst_old is not None:
        return 0
    store = src_db.store
    b = store.batch()
    copy_value(b, src_db, src_mkey, raw, dst_mkey, None)
    b.delete_key(src_mkey, raw)
    store.commit(b)
    return 1


# --- patterns ----------------------------------------------------------------------------
_GLOB_SPECIAL = frozenset(b"*?[\\")


def _literal_prefix(pattern: bytes) -> bytes:
    """The bytes every key matching ``pattern`` starts with (up to the first special char)."""
    for i, c in enumerate(pattern):
        if c in _GLOB_SPECIAL:
            return pattern[:i]
    return pattern


def pattern_slot(pattern: bytes) -> int | None:
    """The one hash slot every key matching ``pattern`` hashes to, if the pattern fixes it
    (a literal ``{tag}`` before any glob character), else None."""
    lit = _literal_prefix(pattern)
    i = lit.find(b"{")
    if i < 0:
        return None
    j = lit.find(b"}", i + 1)
    if j <= i + 1:  # no "}" in the literal part, or an empty "{}" (the whole key is hashed)
        return None
    return key_hash_slot(lit[i + 1 : j])


def matcher(pattern: bytes | None) -> Callable[[bytes], bool] | None:
    """A key predicate for ``pattern`` (None when every key matches)."""
    if pattern is None or pattern == b"*":
        return None
    return lambda key: stringmatch(pattern, key, False)


def iter_matching(db: Database, pattern: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(user key, raw) of live keys matching ``pattern`` in (slot, key) order, using the
    pattern's literal prefix and hashtag to narrow the range read."""
    if pattern == b"*":
        for mkey, raw in db.iter_meta():
            yield mkey[4:], raw
        return
    if not any(c in _GLOB_SPECIAL for c in pattern):  # an exact key
        raw = db.lookup(pattern)[1]
        if raw is not None:
            yield pattern, raw
        return
    lit = _literal_prefix(pattern)
    slot = pattern_slot(pattern)
    if slot is not None:
        lo = db.prefix + _SLOTS[slot] + lit
        hi = L.prefix_end(lo)
        it = db.iter_meta(lo, end_mkey=hi)
    else:
        it = db.iter_meta()
    for mkey, raw in it:
        ukey = mkey[4:]
        if stringmatch(pattern, ukey, False):
            yield ukey, raw


def keys(db: Database, pattern: bytes, type_code: int | None = None) -> list[bytes]:
    """KEYS: live keys matching ``pattern`` (optionally of one type), in storage order."""
    if type_code is None:
        return [k for k, _ in iter_matching(db, pattern)]
    base = L.base_type
    return [k for k, raw in iter_matching(db, pattern) if base(raw[0]) == type_code]


# --- SCAN --------------------------------------------------------------------------------
SLOT_BITS = 14
SLOT_MASK = SLOT_COUNT - 1
MAX_TOKEN = (1 << (63 - SLOT_BITS)) - 1


class ScanCursors:
    """Bounded LRU map: cursor token -> (slot, key to continue from)."""

    def __init__(self, capacity: int = 5000) -> None:
        self.capacity = capacity
        self._map: OrderedDict[int, tuple[int, bytes]] = OrderedDict()
        self._next = (now_ms() << 8) & MAX_TOKEN or 1

    def __len__(self) -> int:
        return len(self._map)

    def store(self, slot: int, key: bytes) -> int:
        """A cursor that continues at ``key`` (in ``slot``)."""
        token = self._next
        self._next = token + 1 if token < MAX_TOKEN else 1
        m = self._map
        m[token] = (slot, key)
        if len(m) > self.capacity:
            m.popitem(last=False)
        return slot | (token << SLOT_BITS)

    def resolve(self, cursor: int) -> tuple[int, bytes]:
        """(slot, key to start from; b"" = the slot's first key) for a client's cursor."""
        slot = cursor & SLOT_MASK
        token = cursor >> SLOT_BITS
        if token:
            hit = self._map.get(token)
            if hit is not None and hit[0] == slot:
                self._map.move_to_end(token)
                return slot, hit[1]
        return slot, b""

    def clear(self) -> None:
        self._map.clear()


CURSORS = ScanCursors()


def scan(
    db: Database,
    cursor: int,
    count: int = 10,
    pattern: bytes | None = None,
    type_filter: bytes | None = None,
    cursors: ScanCursors = CURSORS,
) -> tuple[int, list[bytes]]:
    """One SCAN step: examine up to ``count`` live keys from ``cursor``; return the next
    cursor (0 when done) and the examined keys that pass MATCH and TYPE."""
    slot, start = cursors.resolve(cursor)
    match = matcher(pattern)
    want = type_filter.lower() if type_filter is not None else None
    names = L.TYPE_NAMES
    out: list[bytes] = []
    examined = 0
    last_slot = slot
    for mkey, raw in db.iter_meta(db.prefix + _SLOTS[slot] + start):
        s = (mkey[2] << 8) | mkey[3]
        if examined >= count:
            if s != last_slot:  # no key of slot s precedes this one: restart s from its start
                return s, out
            return cursors.store(s, mkey[4:]), out
        examined += 1
        last_slot = s
        ukey = mkey[4:]
        if match is not None and not match(ukey):
            continue
        if want is not None and names.get(raw[0]) != want:
            continue
        out.append(ukey)
    return 0, out


# --- RANDOMKEY ---------------------------------------------------------------------------
_SMALL_RANDOM = 1000
_SLOT_SAMPLE = 64
_RANDOM_TRIES = 64


def random_key(db: Database, rng: random.Random | None = None) -> bytes | None:
    """A random live key, or None. Uniform for small databases. For large ones: a random
    slot (redrawn while it is empty, so gaps between slots add no bias), then a random key
    among that slot's keys (or, for a big slot, the key after a random point in it)."""
    rnd = rng or random
    if db.size() <= _SMALL_RANDOM:
        ks = [mkey[4:] for mkey, _ in db.iter_meta()]
        return rnd.choice(ks) if ks else None
    pfx = db.prefix
    fallback: list[bytes] = []
    for _ in range(_RANDOM_TRIES):
        slot = rnd.randrange(SLOT_COUNT)
        window: list[bytes] = []
        first_slot = -1
        for mkey, _raw in db.iter_meta(pfx + _SLOTS[slot]):
            s = (mkey[2] << 8) | mkey[3]
            if first_slot < 0:
                first_slot = s
            elif s != first_slot:
                break
            window.append(mkey[4:])
            if len(window) >= _SLOT_SAMPLE:
                break
        if first_slot != slot:  # the drawn slot is empty: draw again
            fallback = fallback or window
            continue
        if len(window) >= _SLOT_SAMPLE:  # a big slot: the first key after a random point
            for mkey, _raw in db.iter_meta(pfx + _SLOTS[slot] + rnd.randbytes(8)):
                if (mkey[2] << 8) | mkey[3] == slot:
                    return mkey[4:]
                break
        return rnd.choice(window)
    if fallback:
        return rnd.choice(fallback)
    for mkey, _raw in db.iter_meta():  # everything left may be expired
        return mkey[4:]
    return None


# --- key-ordered range scans (Pika's SCANX / PKSCANRANGE / PKRSCANRANGE) -----------------
_SMALL_ORDERED = 20_000


class _Rev:
    """Reverses the order of a bytes key inside a heap (a max-heap through heapq)."""

    __slots__ = ("k",)

    def __init__(self, k: bytes) -> None:
        self.k = k

    def __lt__(self, other: _Rev) -> bool:
        return self.k > other.k


def _first(db: Database, lo: bytes, hi: bytes | None = None) -> tuple[bytes, bytes] | None:
    for item in db.iter_meta(lo, end_mkey=hi):
        return item
    return None


def _last(db: Database, hi: bytes) -> tuple[bytes, bytes] | None:
    for item in db.iter_meta(hi, reverse=True):
        return item
    return None


def _slot_of(mkey: bytes) -> int:
    return (mkey[2] << 8) | mkey[3]


def _slot_end(db: Database, slot: int) -> bytes:
    return db.prefix + _SLOTS[slot + 1] if slot + 1 < SLOT_COUNT else L.table_end(db.table)


def iter_ordered(
    db: Database,
    lo: bytes | None,
    hi: bytes | None,
    reverse: bool = False,
    small_limit: int = _SMALL_ORDERED,
) -> Iterator[tuple[bytes, bytes]]:
    """(user key, raw) of live keys with lo <= key <= hi (None: unbounded) in key byte order
    (descending with ``reverse``), merging the per-slot ranges of the (slot, key) layout."""
    if db.size() <= small_limit:
        items = [
            (mkey[4:], raw)
            for mkey, raw in db.iter_meta()
            if (lo is None or mkey[4:] >= lo) and (hi is None or mkey[4:] <= hi)
        ]
        items.sort(key=lambda kv: kv[0], reverse=reverse)
        yield from items
        return
    if reverse:
        yield from _merge_reverse(db, lo, hi)
    else:
        yield from _merge_forward(db, lo, hi)


def _merge_forward(
    db: Database, lo: bytes | None, hi: bytes | None
) -> Iterator[tuple[bytes, bytes]]:
    pfx = db.prefix
    start = lo or b""
    heap: list[tuple[bytes, int, bytes]] = []
    probe = 0
    while probe < SLOT_COUNT:
        found = _first(db, pfx + _SLOTS[probe] + start)
        if found is None:
            break
        mkey, raw = found
        s = _slot_of(mkey)
        if s != probe and start:
            probe = s  # slots probe..s-1 hold nothing >= start: seek s properly
            continue
        ukey = mkey[4:]
        if hi is None or ukey <= hi:
            heap.append((ukey, s, raw))
        probe = s + 1
    heapq.heapify(heap)
    while heap:
        ukey, s, raw = heapq.heappop(heap)
        yield ukey, raw
        nxt = _first(db, pfx + _SLOTS[s] + ukey + b"\x00", _slot_end(db, s))
        if nxt is not None:
            nkey = nxt[0][4:]
            if hi is None or nkey <= hi:
                heapq.heappush(heap, (nkey, s, nxt[1]))


def _merge_reverse(
    db: Database, lo: bytes | None, hi: bytes | None
) -> Iterator[tuple[bytes, bytes]]:
    pfx = db.prefix
    heap: list[tuple[_Rev, int, bytes]] = []
    probe = SLOT_COUNT - 1
    while probe >= 0:
        top = pfx + _SLOTS[probe] + hi + b"\x00" if hi is not None else _slot_end(db, probe)
        found = _last(db, top)
        if found is None:
            break
        mkey, raw = found
        s = _slot_of(mkey)
        if s != probe and hi is not None:
            probe = s
            continue
        ukey = mkey[4:]
        if lo is None or ukey >= lo:
            heap.append((_Rev(ukey), s, raw))
        probe = s - 1
    heapq.heapify(heap)
    while heap:
        rk, s, raw = heapq.heappop(heap)
        yield rk.k, raw
        prv = _last(db, pfx + _SLOTS[s] + rk.k)
        if prv is not None and _slot_of(prv[0]) == s:
            pkey = prv[0][4:]
            if lo is None or pkey >= lo:
                heapq.heappush(heap, (_Rev(pkey), s, prv[1]))


@dataclass(slots=True)
class RangeResult:
    next_key: bytes  # b"" when nothing is left
    items: list[tuple[bytes, bytes]]  # (user key, raw meta)


def range_scan(
    db: Database,
    type_code: int,
    start: bytes | None,
    end: bytes | None,
    pattern: bytes | None,
    limit: int,
    reverse: bool = False,
    small_limit: int = _SMALL_ORDERED,
) -> RangeResult:
    """Up to ``limit`` keys of ``type_code`` matching ``pattern`` in the closed key range
    (ascending from ``start`` to ``end``, or descending from ``start`` down to ``end`` with
    ``reverse``), plus the next such key to continue from."""
    match = matcher(pattern)
    lo, hi = (end, start) if reverse else (start, end)
    items: list[tuple[bytes, bytes]] = []
    base = L.base_type
    for ukey, raw in iter_ordered(db, lo, hi, reverse, small_limit):
        if base(raw[0]) != type_code or (match is not None and not match(ukey)):
            continue
        if len(items) >= limit:
            return RangeResult(ukey, items)
        items.append((ukey, raw))
    return RangeResult(b"", items)


# --- PKPATTERNMATCHDEL -------------------------------------------------------------------
DELETE_BATCH = 100


def pattern_delete(db: Database, pattern: bytes, max_count: int | None = None) -> int:
    """Delete live keys matching ``pattern`` (at most ``max_count``), committing every
    :data:`DELETE_BATCH` keys; returns how many were deleted."""
    store = db.store
    deleted = 0
    b = store.batch()
    for ukey, raw in iter_matching(db, pattern):  # the iterator is a point-in-time view
        if max_count is not None and deleted >= max_count:
            break
        b.delete_key(db.mkey(ukey), raw)
        deleted += 1
        if len(b.touched) >= DELETE_BATCH:
            store.commit(b)
            b = store.batch()
    store.commit(b)
    return deleted


# --- DUMP / RESTORE conversion registry ---------------------------------------------------
ToRdb = Callable[[Database, bytes, bytes], RdbValue]
"""(db, meta key, raw meta) -> the key's value as an RdbValue."""
FromRdb = Callable[[Batch, Database, bytes, "bytes | None", object, int], None]
"""(batch, db, meta key, current raw or None, RdbValue.value, expire-at ms or 0): add the
mutations that store the value (replacing the current key, whatever its type) to batch."""

_TO_RDB: dict[int, ToRdb] = {}
_FROM_RDB: dict[str, FromRdb] = {}


def register_rdb(type_code: int, kind: str, to_rdb: ToRdb, from_rdb: FromRdb) -> None:
    """Plug a type into DUMP / RESTORE (called once by each type's storage module)."""
    _TO_RDB[type_code] = to_rdb
    _FROM_RDB[kind] = from_rdb


def rdb_kinds() -> list[str]:
    return sorted(_FROM_RDB)


def to_rdb(db: Database, mkey: bytes, raw: bytes) -> RdbValue:
    """The stored key as an RdbValue (CommandError if its type has no DUMP support yet)."""
    conv = _TO_RDB.get(raw[0])
    if conv is None:
        name = L.TYPE_NAMES.get(raw[0], b"?").decode()
        raise CommandError(errors.DUMP_UNSUPPORTED.format(name))
    return conv(db, mkey, raw)


def restore(db: Database, key: bytes, value: RdbValue, expire_at_ms: int, replace: bool) -> bool:
    """Store ``value`` at ``key`` (RESTORE after its checks). ``expire_at_ms`` 0 = persistent;
    a time already past only deletes the old key (with ``replace``). False if the key
    exists and ``replace`` is not set."""
    conv = _FROM_RDB.get(value.kind)
    if conv is None:
        raise CommandError(errors.RESTORE_UNSUPPORTED.format(value.kind))
    mkey, old = db.lookup(key)
    if old is not None and not replace:
        return False
    store = db.store
    b = store.batch()
    if expire_at_ms and expire_at_ms <= now_ms():
        if old is not None:
            b.delete_key(mkey, old)
    else:
        conv(b, db, mkey, old, value.value, expire_at_ms)
    store.commit(b)
    return True


def _string_to_rdb(db: Database, mkey: bytes, raw: bytes) -> RdbValue:
    return RdbValue("string", strings.value(db, mkey, raw))


def _string_from_rdb(
    batch: Batch, db: Database, mkey: bytes, old: bytes | None, value: object, expire_at_ms: int
) -> None:
    if not isinstance(value, bytes):
        raise CommandError(BAD_FORMAT)
    strings.stage(batch, db, mkey, old, value, expire_at_ms)


register_rdb(T_STRING, "string", _string_to_rdb, _string_from_rdb)
_TO_RDB[L.T_STRING_CHUNKED] = _string_to_rdb
