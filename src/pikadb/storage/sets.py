"""The set type: one sub-key per member, plus the helpers hashes share (meta records,
HSCAN/SSCAN paging, random sampling).

    meta value: | type u8 = 3 | expire-at ms u64 | version u64 | size u64 | flags (0 or 1 byte) |
    data cf:    | version prefix (layout.version_prefix) | member |  ->  b""

``size`` is the member count (SCARD is O(1)). ``flags`` = b"\\x01" ("big") records that Redis
7.0 would have converted the value to its hashtable encoding; Redis never converts back, so
neither is the flag cleared while the key lives (OBJECT ENCODING reads it, O(1)). For sets
it is set when a member that is not a canonical int64 is added or the size passes 512
(``set-max-intset-entries``); for hashes (storage/hashes.py) when a field or value longer
than 64 bytes is written or the size passes 128. Values created whole (SINTERSTORE,
SUNIONSTORE, SDIFFSTORE, SMOVE into a new key, RESTORE, the rebuild of SPOP's "big count"
case) get the flag from their content, as Redis picks their encoding.

Writes: one meta read, at most one sub-key read per member, ONE batch and ONE commit per
command, whatever the number of keys. A collection that becomes empty is deleted
(``Batch.delete_key`` range-deletes its sub-keys); overwriting one bumps the version.

Random choice (SPOP, SRANDMEMBER, HRANDFIELD) never reads a big collection whole for a small
count (:func:`sample`):

* at most :data:`EXACT_LIMIT` entries, or a count that is a large fraction of the size: one
  pass over the entries, picking exactly uniform random positions (random.sample /
  random.choices over ``range(size)``); memory O(count);
* otherwise bounded seeks with rejection (:class:`_Shape`). The first and last
  :data:`SHAPE_WINDOW` entries give the shared prefix, the key width and the alphabet (the
  bytes seen after the prefix: their whole min..max range when that is dense, else just the
  seen bytes). A random key ``r`` of that shape is drawn and RocksDB seeks to the entry ``s``
  at or after it; the landing probability of ``s`` is computable, ``F(s) - F(p)`` (``F(x)``
  = P(r < x), ``p`` the entry before ``s``, one reverse seek), and ``s`` is accepted with
  probability ``tau / (F(s) - F(p))`` (``tau``: 1/(2 size), capped by the lower quartile of
  the gaps seen in the windows). Every entry whose landing mass is at least ``tau`` is then
  equally likely: sequential ids (``1..N``, ``item:<n>``), random ids (hex, uuids, binary)
  and words come out uniform in practice (the storage tests measure deciles). Cost: two
  16-entry scans when a collection's shape is first needed (shapes are cached per key
  version, rebuilt when the size moves by half), then ~3-4 tries per pick, each one seek
  plus, unless an upper bound already rejects it, one reverse seek (~4-7 seeks, ~0.1 ms).
  A stale shape still samples exactly, only less efficiently. Limitation: a collection made
  of a few unrelated key shapes (``a:<n>`` and ``zz:<n>`` mixed) puts most of the drawn mass
  into empty stretches; after :data:`SHAPE_TRIES` rejections in a row the call stops
  rejecting (bounded cost) and favours the entries after those stretches; distinct picks
  that stall are completed with the entries following a landing.
"""

from __future__ import annotations

import random
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice, pairwise

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.core.glob import stringmatch
from pikadb.rdb import BAD_FORMAT, RdbValue
from pikadb.rdb.listpack import string_to_int64
from pikadb.storage import generic
from pikadb.storage import layout as L
from pikadb.storage.batch import Batch
from pikadb.storage.binlog import OP_DELETE, OP_PUT
from pikadb.storage.engine import DATA, Engine
from pikadb.storage.keyspace import Database

T_SET = L.T_SET
MAX_INTSET_ENTRIES = 512
BIG = b"\x01"
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_COLL = struct.Struct(">BQQQ")
_WRONGTYPE = errors.WRONGTYPE


# --- meta records (shared with hashes) -----------------------------------------------------
def new_meta(type_code: int, expire_at: int, version: int, size: int, big: bool) -> bytes:
    return _COLL.pack(type_code, expire_at, version, size) + (BIG if big else b"")


def resized(raw: bytes, size: int, big: bool) -> bytes:
    """The same meta with a new size (and the big flag set when ``big``)."""
    return raw[:17] + _U64.pack(size) + (BIG if big else raw[25:])


def size_of(raw: bytes) -> int:
    return _U64.unpack_from(raw, 17)[0]


def is_big(raw: bytes) -> bool:
    return raw[25:26] == BIG


def data_prefix(mkey: bytes, raw: bytes) -> bytes:
    """``layout.version_prefix`` of the version in ``raw`` (without unpacking it)."""
    return mkey[:4] + _U32.pack(len(mkey) - 4) + mkey[4:] + raw[9:17]


def new_prefix(mkey: bytes, version: int) -> bytes:
    return mkey[:4] + _U32.pack(len(mkey) - 4) + mkey[4:] + _U64.pack(version)


def checked(raw: bytes | None, type_code: int) -> bytes | None:
    """``raw`` when absent or of ``type_code``; WRONGTYPE otherwise."""
    if raw is not None and raw[0] != type_code:
        raise CommandError(_WRONGTYPE)
    return raw


def is_intlike(member: bytes) -> bool:
    """Would Redis keep ``member`` in an intset (string2ll, canonical int64)?"""
    return string_to_int64(member) is not None


def _compact(members: Iterable[bytes], n: int) -> bool:
    """Redis 7.0 would build an intset for these ``n`` members."""
    return n <= MAX_INTSET_ENTRIES and all(string_to_int64(m) is not None for m in members)


def entries(engine: Engine, pfx: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(sub-key, value) of every entry under ``pfx``, in sub-key order."""
    n = len(pfx)
    for k, v in engine.scan(DATA, pfx, L.prefix_end(pfx)):
        yield k[n:], v


SCAN_CHECK_MIN = 16  # from this many sub-keys, existence is checked by one bounded scan


def present(engine: Engine, pfx: bytes, subs: list[bytes]) -> dict[bytes, bytes]:
    """The entries among ``subs`` (distinct sub-keys) that exist: sub-key -> value.

    Few sub-keys: point reads. Many: one scan of the range they span, stopped after
    ``len(subs)`` steps (bulk loads write clustered keys, so the range holds few others);
    sub-keys beyond where it stopped are read one by one."""
    get = engine.get
    if len(subs) < SCAN_CHECK_MIN:
        out: dict[bytes, bytes] = {}
        for sub in subs:
            v = get(DATA, pfx + sub)
            if v is not None:
                out[sub] = v
        return out
    ordered = sorted(subs)
    wanted = set(ordered)
    n = len(pfx)
    found: dict[bytes, bytes] = {}
    budget = len(ordered) + 32
    reached = b""
    done = True
    for i, (k, v) in enumerate(engine.scan(DATA, pfx + ordered[0], pfx + ordered[-1] + b"\x00")):
        if i >= budget:
            done = False
            break
        sub = k[n:]
        reached = sub
        if sub in wanted:
            found[sub] = v
    if not done:
        for sub in ordered:
            if sub > reached:
                v = get(DATA, pfx + sub)
                if v is not None:
                    found[sub] = v
    return found


# --- reads -----------------------------------------------------------------------------------
def lookup(db: Database, key: bytes) -> tuple[bytes, bytes | None]:
    """(meta key, raw) of a set key; raw None when missing; WRONGTYPE for other types."""
    mkey, raw = db.lookup(key)
    if raw is not None and raw[0] != T_SET:
        raise CommandError(_WRONGTYPE)
    return mkey, raw


def card(db: Database, key: bytes) -> int:
    raw = lookup(db, key)[1]
    return 0 if raw is None else size_of(raw)


def is_member(db: Database, key: bytes, member: bytes) -> bool:
    mkey, raw = lookup(db, key)
    if raw is None:
        return False
    return db.engine.get(DATA, data_prefix(mkey, raw) + member) is not None


def are_members(db: Database, key: bytes, members: list[bytes]) -> list[bool]:
    mkey, raw = lookup(db, key)
    if raw is None:
        return [False] * len(members)
    pfx = data_prefix(mkey, raw)
    get = db.engine.get
    return [get(DATA, pfx + m) is not None for m in members]


def iter_members(db: Database, mkey: bytes, raw: bytes) -> Iterator[bytes]:
    """Members of the set (``raw`` a live set record), in byte order."""
    for m, _ in entries(db.engine, data_prefix(mkey, raw)):
        yield m


def members(db: Database, key: bytes) -> list[bytes]:
    """All members; an intset-like set (see the flags) in numeric order, as Redis lists it."""
    mkey, raw = lookup(db, key)
    if raw is None:
        return []
    out = list(iter_members(db, mkey, raw))
    if not is_big(raw):
        out.sort(key=int)
    return out


# --- single-key writes -----------------------------------------------------------------------
def add(db: Database, key: bytes, items: list[bytes]) -> int:
    """SADD: the number of members added."""
    mkey, raw = db.lookup(key)
    store = db.store
    b = store.batch()
    if raw is None:
        uniq = list(dict.fromkeys(items)) if len(items) > 1 else items
        version = store.next_version()
        pfx = new_prefix(mkey, version)
        b.ops.extend([(OP_PUT, DATA, pfx + m, b"") for m in uniq])
        big = not _compact(uniq, len(uniq))
        b.put_meta(mkey, None, new_meta(T_SET, 0, version, len(uniq), big))
        store.commit(b)
        return len(uniq)
    if raw[0] != T_SET:
        raise CommandError(_WRONGTYPE)
    pfx = data_prefix(mkey, raw)
    big = raw[25:26] == BIG
    if len(items) == 1:
        m = items[0]
        if db.engine.get(DATA, pfx + m) is not None:
            return 0
        new = items
    else:
        uniq = list(dict.fromkeys(items))
        have = present(db.engine, pfx, uniq)
        new = [m for m in uniq if m not in have] if have else uniq
        if not new:
            return 0
    b.ops.extend([(OP_PUT, DATA, pfx + m, b"") for m in new])
    if not big:
        big = any(string_to_int64(m) is None for m in new)
    size = _U64.unpack_from(raw, 17)[0] + len(new)
    b.put_meta(mkey, raw, resized(raw, size, big or size > MAX_INTSET_ENTRIES))
    store.commit(b)
    return len(new)


def remove(db: Database, key: bytes, items: list[bytes]) -> int:
    """SREM: the number of members removed (an emptied set is deleted)."""
    mkey, raw = lookup(db, key)
    if raw is None:
        return 0
    return _remove_from(db, mkey, raw, items)


def _remove_from(db: Database, mkey: bytes, raw: bytes, items: list[bytes]) -> int:
    pfx = data_prefix(mkey, raw)
    have = present(db.engine, pfx, list(dict.fromkeys(items)))
    if not have:
        return 0
    store = db.store
    b = store.batch()
    if len(have) < size_of(raw):  # (an emptied set is range-deleted instead)
        b.ops.extend([(OP_DELETE, DATA, pfx + m, b"") for m in have])
    _finish_removal(b, mkey, raw, size_of(raw) - len(have))
    store.commit(b)
    return len(have)


def _finish_removal(b: Batch, mkey: bytes, raw: bytes, size: int) -> None:
    if size <= 0:
        b.delete_key(mkey, raw)
    else:
        b.put_meta(mkey, raw, resized(raw, size, False))


def pop(
    db: Database, key: bytes, count: int | None, rng: random.Random | None = None
) -> list[bytes]:
    """SPOP: remove and return ``count`` random members (one when None); [] when missing."""
    mkey, raw = lookup(db, key)
    if raw is None or count == 0:
        return []
    store = db.store
    size = size_of(raw)
    pfx = data_prefix(mkey, raw)
    b = store.batch()
    n = 1 if count is None else count
    if n >= size:
        chosen = [m for m, _ in entries(db.engine, pfx)]
        b.delete_key(mkey, raw)
        store.commit(b)
        return chosen
    remaining = size - n
    if remaining * 5 <= n:  # Redis rebuilds the set from what stays: encoding by content
        keep = set(_positions(db.engine, pfx, size, remaining, True, rng or random))
        chosen = []
        kept: list[bytes] = []
        for m, _ in entries(db.engine, pfx):
            if m in keep:
                kept.append(m)
            else:
                chosen.append(m)
                b.delete(DATA, pfx + m)
        (rng or random).shuffle(chosen)
        b.put_meta(mkey, raw, raw[:17] + _U64.pack(size - len(chosen)) + _flag(kept))
        store.commit(b)
        return chosen
    chosen = [m for m, _ in sample(db.engine, pfx, size, n, True, rng)]
    for m in chosen:
        b.delete(DATA, pfx + m)
    _finish_removal(b, mkey, raw, size - len(chosen))
    store.commit(b)
    return chosen


def _flag(members: list[bytes]) -> bytes:
    return b"" if _compact(members, len(members)) else BIG


def _positions(
    engine: Engine, pfx: bytes, size: int, n: int, distinct: bool, rng: random.Random
) -> list[bytes]:
    """The sub-keys at ``n`` random positions (one pass)."""
    return [k for k, _ in _pick_by_position(engine, pfx, size, n, distinct, rng)]


def random_members(
    db: Database, key: bytes, count: int, rng: random.Random | None = None
) -> list[bytes]:
    """SRANDMEMBER with a count: distinct members for count >= 0, with repetition (|count|
    picks) for a negative count."""
    mkey, raw = lookup(db, key)
    if raw is None or count == 0:
        return []
    distinct = count > 0
    pfx = data_prefix(mkey, raw)
    return [m for m, _ in sample(db.engine, pfx, size_of(raw), abs(count), distinct, rng)]


def random_member(db: Database, key: bytes, rng: random.Random | None = None) -> bytes | None:
    mkey, raw = lookup(db, key)
    if raw is None:
        return None
    picks = sample(db.engine, data_prefix(mkey, raw), size_of(raw), 1, True, rng)
    return picks[0][0] if picks else None


def move(db: Database, src: bytes, dst: bytes, member: bytes) -> int:
    """SMOVE: 1 if ``member`` was moved (or src == dst and it is a member), else 0."""
    src_mkey, src_raw = db.lookup(src)
    dst_mkey, dst_raw = db.lookup(dst)
    if src_raw is None:
        return 0
    checked(src_raw, T_SET)
    checked(dst_raw, T_SET)
    get = db.engine.get
    src_pfx = data_prefix(src_mkey, src_raw)
    if src_mkey == dst_mkey:
        return int(get(DATA, src_pfx + member) is not None)
    if get(DATA, src_pfx + member) is None:
        return 0
    store = db.store
    b = store.batch()
    b.delete(DATA, src_pfx + member)
    _finish_removal(b, src_mkey, src_raw, size_of(src_raw) - 1)
    if dst_raw is None:
        version = store.next_version()
        b.put(DATA, new_prefix(dst_mkey, version) + member, b"")
        b.put_meta(dst_mkey, None, new_meta(T_SET, 0, version, 1, not is_intlike(member)))
    else:
        dst_pfx = data_prefix(dst_mkey, dst_raw)
        if get(DATA, dst_pfx + member) is None:
            b.put(DATA, dst_pfx + member, b"")
            size = size_of(dst_raw) + 1
            big = is_big(dst_raw) or not is_intlike(member) or size > MAX_INTSET_ENTRIES
            b.put_meta(dst_mkey, dst_raw, resized(dst_raw, size, big))
        else:
            b.touch(dst_mkey)
    store.commit(b)
    return 1


# --- multi-key algebra ------------------------------------------------------------------------
UNION, INTER, DIFF = 0, 1, 2


def _read_sets(db: Database, keys: list[bytes]) -> list[tuple[bytes, bytes | None]]:
    """(meta key, raw or None) per key; WRONGTYPE if any key holds another type (Redis checks
    every key before answering, even when an earlier one is missing)."""
    out = []
    for k in keys:
        mkey, raw = db.lookup(k)
        checked(raw, T_SET)
        out.append((mkey, raw))
    return out


def _has(db: Database, mkey: bytes, raw: bytes) -> Callable[[bytes], bool]:
    pfx = data_prefix(mkey, raw)
    get = db.engine.get
    return lambda m: get(DATA, pfx + m) is not None


def _inter_iter(db: Database, sets: list[tuple[bytes, bytes | None]]) -> Iterator[bytes]:
    if any(raw is None for _, raw in sets):
        return
    live = [(mkey, raw) for mkey, raw in sets if raw is not None]
    live.sort(key=lambda s: size_of(s[1]))
    first_mkey, first_raw = live[0]
    others = [_has(db, mkey, raw) for mkey, raw in live[1:] if mkey != first_mkey]
    for m in iter_members(db, first_mkey, first_raw):
        if all(has(m) for has in others):
            yield m


def combine(db: Database, keys: list[bytes], op: int) -> list[bytes]:
    """SUNION / SINTER / SDIFF of ``keys`` (missing keys are empty sets)."""
    return _combine(db, _read_sets(db, keys), op)


def _combine(db: Database, sets: list[tuple[bytes, bytes | None]], op: int) -> list[bytes]:
    if op == INTER:
        return list(_inter_iter(db, sets))
    if op == UNION:
        seen: dict[bytes, None] = {}
        for mkey, raw in sets:
            if raw is not None:
                seen.update(dict.fromkeys(iter_members(db, mkey, raw)))
        return list(seen)
    first_mkey, first_raw = sets[0]
    if first_raw is None:
        return []
    if any(mkey == first_mkey for mkey, raw in sets[1:] if raw is not None):
        return []
    others = [_has(db, mkey, raw) for mkey, raw in sets[1:] if raw is not None]
    return [m for m in iter_members(db, first_mkey, first_raw) if not any(h(m) for h in others)]


def intercard(db: Database, keys: list[bytes], limit: int) -> int:
    """SINTERCARD: the intersection's size, counting at most ``limit`` (0: no limit)."""
    n = 0
    for _ in _inter_iter(db, _read_sets(db, keys)):
        n += 1
        if limit and n >= limit:
            break
    return n


def store_combined(db: Database, dst: bytes, keys: list[bytes], op: int) -> int:
    """SUNIONSTORE / SINTERSTORE / SDIFFSTORE: store the result at ``dst`` (replacing any
    value, without TTL; an empty result deletes ``dst``); its size."""
    result = _combine(db, _read_sets(db, keys), op)
    dst_mkey, dst_old = db.lookup(dst)
    store = db.store
    b = store.batch()
    if not result:
        if dst_old is not None:
            b.delete_key(dst_mkey, dst_old)
    else:
        version = store.next_version()
        pfx = new_prefix(dst_mkey, version)
        for m in result:
            b.put(DATA, pfx + m, b"")
        meta = new_meta(T_SET, 0, version, len(result), not _compact(result, len(result)))
        b.put_meta(dst_mkey, dst_old, meta)
    store.commit(b)
    return len(result)


# --- SSCAN / HSCAN paging --------------------------------------------------------------------
CURSORS = generic.ScanCursors()


def literal_prefix(pattern: bytes | None) -> bytes:
    """The bytes every sub-key matching ``pattern`` starts with."""
    if pattern is None:
        return b""
    for i, c in enumerate(pattern):
        if c in b"*?[\\":
            return pattern[:i]
    return pattern


def scan_entries(
    db: Database,
    mkey: bytes,
    raw: bytes,
    cursor: int,
    count: int,
    pattern: bytes | None,
    whole: bool,
) -> tuple[int, list[tuple[bytes, bytes]]]:
    """One SSCAN/HSCAN step over the live collection (``mkey``, ``raw``): the next cursor (0
    when done) and the (sub-key, value) entries examined that match ``pattern``. ``whole``
    (Redis's compact encodings) returns everything at once, as Redis does for them."""
    pfx = data_prefix(mkey, raw)
    match: Callable[[bytes], bool] | None = None
    if pattern is not None and pattern != b"*":
        match = lambda s: stringmatch(pattern, s, False)  # noqa: E731
    lit = literal_prefix(pattern)
    lo = pfx + lit
    hi = L.prefix_end(lo)
    n = len(pfx)
    out: list[tuple[bytes, bytes]] = []
    if whole:
        for k, v in db.engine.scan(DATA, lo, hi):
            sub = k[n:]
            if match is None or match(sub):
                out.append((sub, v))
        if raw[0] == T_SET:  # an intset: numeric order, as Redis walks it
            out.sort(key=lambda e: int(e[0]))
        return 0, out
    slot = (mkey[2] << 8) | mkey[3]
    start = lo
    if cursor:
        cslot, resume = CURSORS.resolve(cursor)
        if cslot == slot and resume.startswith(lo):
            start = resume
    for examined, (k, v) in enumerate(db.engine.scan(DATA, start, hi)):
        if examined >= count:
            return CURSORS.store(slot, k), out
        sub = k[n:]
        if match is None or match(sub):
            out.append((sub, v))
    return 0, out


# --- random sampling (shared with hashes) -----------------------------------------------------
EXACT_LIMIT = 64  # collections up to this size: exact choice over all entries
SHAPE_WINDOW = 16
SHAPE_TRIES = 32
_TAU = 0.5  # acceptance target per entry: at most _TAU / size (see _Shape)
_SHAPE_GEN_MAX = 24  # random bytes drawn after the shared prefix, at most


def sample(
    engine: Engine,
    pfx: bytes,
    size: int,
    count: int,
    distinct: bool,
    rng: random.Random | None = None,
) -> list[tuple[bytes, bytes]]:
    """``count`` random entries (sub-key, value) of the collection under ``pfx`` (``size``
    entries): distinct ones (all of them when count >= size), or with repetition."""
    rnd = rng or random
    if size <= 0 or count <= 0:
        return []
    if distinct and count >= size:
        return list(entries(engine, pfx))
    if size <= EXACT_LIMIT:
        if count == 1:  # walk to one random position
            hit = next(islice(entries(engine, pfx), rnd.randrange(size), None), None)
            if hit is not None:
                return [hit]
        every = list(entries(engine, pfx))
        if not every:
            return []
        if distinct:
            return rnd.sample(every, min(count, len(every)))
        return rnd.choices(every, k=count)
    if count * 4 >= size:
        picked = _pick_by_position(engine, pfx, size, count, distinct, rnd)
        rnd.shuffle(picked)
        return picked
    shape = _shape_for(engine, pfx, size)
    strict = True  # until the shape fails SHAPE_TRIES times in a row (then: bounded cost)
    rebuilt = False

    def one() -> tuple[bytes, bytes]:
        nonlocal strict, shape, rebuilt
        entry, accepted = shape.pick(rnd, strict)
        strict = strict and accepted
        if shape.stale and not rebuilt:  # members outside the cached shape: look again
            shape = _shape_for(engine, pfx, size, rebuild=True)
            rebuilt = True
        return entry

    if not distinct:
        return [one() for _ in range(count)]
    got: dict[bytes, bytes] = {}
    attempts = 0
    while len(got) < count:
        k, v = one()
        got[k] = v
        attempts += 1
        if attempts > count * 4 + 32:  # an uneven key space: take what follows a landing
            for k2, v2 in shape.walk_from(k):
                got.setdefault(k2, v2)
                if len(got) >= count:
                    break
            break
    return list(got.items())


def _ranks(alphabet: bytes) -> tuple[list[int], list[bool]]:
    """Per byte value: how many alphabet bytes are smaller, and whether it is one."""
    rank = [0] * 256
    member = [False] * 256
    j = 0
    for b in range(256):
        rank[b] = j
        if j < len(alphabet) and alphabet[j] == b:
            member[b] = True
            j += 1
    return rank, member


_SHAPES: OrderedDict[bytes, _Shape] = OrderedDict()
_SHAPES_MAX = 64


def _shape_for(engine: Engine, pfx: bytes, size: int, rebuild: bool = False) -> _Shape:
    """The (cached) shape of the collection under ``pfx``: rebuilt when its size moved by
    half, the engine changed or a pick landed outside the shared prefix (members added
    since). Otherwise a slightly stale shape still samples exactly (F describes the drawn
    keys, whatever they are); only its efficiency and tau drift."""
    shape = _SHAPES.get(pfx)
    if (
        not rebuild
        and shape is not None
        and not shape.stale
        and shape.engine is engine
        and size * 2 > shape.size > size * 2 // 3
    ):
        _SHAPES.move_to_end(pfx)
        return shape
    shape = _Shape(engine, pfx, size)
    _SHAPES[pfx] = shape
    if len(_SHAPES) > _SHAPES_MAX:
        _SHAPES.popitem(last=False)
    return shape


def _pick_by_position(
    engine: Engine, pfx: bytes, size: int, count: int, distinct: bool, rnd: random.Random
) -> list[tuple[bytes, bytes]]:
    """One ordered pass picking the entries at random positions of ``range(size)``."""
    if distinct:
        wanted = sorted(rnd.sample(range(size), min(count, size)))
    else:
        wanted = sorted(rnd.choices(range(size), k=count))
    out: list[tuple[bytes, bytes]] = []
    if not wanted:
        return out
    i = 0
    nw = len(wanted)
    for pos, (k, v) in enumerate(entries(engine, pfx)):
        while i < nw and wanted[i] == pos:
            out.append((k, v))
            i += 1
        if i >= nw:
            break
    return out


class _Shape:
    """Seek-based random picks over a big collection (see the module docstring).

    ``r`` = the shared prefix + ``width`` bytes drawn uniformly from the alphabet; ``F(x)`` =
    P(r < x), so the entry ``s`` a seek lands on (its predecessor ``p``) is reached with
    probability ``F(s) - F(p)``; accepting it with probability ``tau / that`` makes every
    entry whose landing mass is at least ``tau`` equally likely (rejection sampling).
    """

    def __init__(self, engine: Engine, pfx: bytes, size: int) -> None:
        self.engine = engine
        self.pfx = pfx
        self.size = size
        self.end = L.prefix_end(pfx)
        n = len(pfx)
        scan = engine.scan
        head = [k[n:] for k, _ in islice(scan(DATA, pfx, self.end), SHAPE_WINDOW)]
        last = [k[n:] for k, _ in islice(scan(DATA, pfx, self.end, reverse=True), SHAPE_WINDOW)]
        keys = head + last
        a, z = (head[0], last[0]) if head and last else (b"", b"")
        c = 0
        while c < len(a) and c < len(z) and a[c] == z[c]:
            c += 1
        self.c = c
        self.common = a[:c]
        self.width = max(0, min(max((len(k) for k in keys), default=c), c + _SHAPE_GEN_MAX) - c)
        seen = {b for k in keys for b in k[c : c + _SHAPE_GEN_MAX]}
        lo, hi = min(seen, default=0), max(seen, default=255)
        dense = len(seen) * 2 >= hi - lo + 1
        alphabet = bytes(range(lo, hi + 1)) if dense else bytes(sorted(seen))
        # The first byte after the shared prefix lies between the first and the last key's
        # (byte order): draw it only from that part of the alphabet.
        lo0 = a[c] if len(a) > c else 0
        hi0 = z[c] if len(z) > c else 255
        alpha0 = bytes(b for b in alphabet if lo0 <= b <= hi0) or alphabet
        self.alphabet, self.alpha0 = alphabet, alpha0
        self.a, self.a0 = len(alphabet), len(alpha0)
        self.rank, self.member = _ranks(alphabet)
        self.rank0, self.member0 = _ranks(alpha0)
        F = self.F
        self.stale = False
        marks = [F(k) for k in head] + [F(k) for k in reversed(last)]
        gaps = [y - x for x, y in pairwise(marks) if y > x]
        self.tau = _TAU / size
        if gaps:
            self.tau = min(self.tau, sorted(gaps)[len(gaps) // 4])

    def F(self, x: bytes) -> float:
        """P(r < x) for a drawn ``r`` (``x`` a sub-key)."""
        c = self.c
        head = x[:c]
        if head != self.common:
            return 0.0 if head < self.common else 1.0
        stop = c + self.width
        if len(x) <= c or stop <= c:
            return 1.0 if len(x) > stop else 0.0
        b = x[c]
        a = self.a0
        total = self.rank0[b] / a
        if not self.member0[b]:
            return total
        p = 1.0 / a
        a = self.a
        rank, member = self.rank, self.member
        for j in range(c + 1, min(len(x), stop)):
            b = x[j]
            total += p * rank[b] / a
            if not member[b]:
                return total
            p /= a
        if len(x) > stop:  # x extends every r that equals its first bytes: r < x
            total += p
        return total

    def _first(self) -> tuple[bytes, bytes]:
        n = len(self.pfx)
        for k, v in self.engine.scan(DATA, self.pfx, self.end):
            return k[n:], v
        return b"", b""

    def pick(self, rng: random.Random, strict: bool = True) -> tuple[tuple[bytes, bytes], bool]:
        """(one random entry, accepted). Not ``strict``: one try, no rejection; after
        :data:`SHAPE_TRIES` rejections: the last landing, not accepted. Every seek of the
        tries goes through ONE engine cursor."""
        pfx, n, end = self.pfx, len(self.pfx), self.end
        F, common, alphabet, width = self.F, self.common, self.alphabet, self.width
        alpha0, tail = self.alpha0, max(0, width - 1)
        cur = self.engine.cursor(DATA, pfx, end)
        landed = (b"", b"")
        last_mass = -1.0  # 1 - F(last entry), computed once

        def wrapped() -> float:  # the landing mass of (last, end], which wraps to the first
            nonlocal last_mass
            if last_mass < 0:
                last = cur.last()
                last_mass = 1.0 - (F(last[n:]) if last is not None else 0.0)
            return last_mass

        for _ in range(SHAPE_TRIES if strict else 1):
            drawn = rng.choices(alpha0) + rng.choices(alphabet, k=tail) if width else []
            r = pfx + common + bytes(drawn)
            hit = cur.seek(r)
            if hit is None:  # past the last entry: (last, end] wraps around to the first
                u = rng.random()
                if strict and u * (1.0 - F(r[n:])) >= self.tau:  # its mass is at least that
                    continue
                first = cur.first()
                if first is None:
                    break
                s = (first[n:], cur.value())
                mass = wrapped() + F(s[0])
                landed = s
                if not strict or u * mass < self.tau:
                    return s, strict
                continue
            s = (hit[n:], cur.value())
            if not s[0].startswith(common):
                self.stale = True
            if not strict:
                return s, False
            fs = F(s[0])
            u = rng.random()
            if u * (fs - F(r[n:])) >= self.tau:  # mass >= F(s) - F(r): rejected anyway
                landed = s
                continue
            prev = cur.prev()  # the first entry also takes the wrapped (last, end]
            mass = fs + wrapped() if prev is None else fs - F(prev[n:])
            landed = s
            if u * mass < self.tau:
                return s, True
        if not landed[0] and not landed[1]:  # every try wrapped around: the first entry
            landed = self._first()
        return landed, False

    def walk_from(self, sub: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The entries after ``sub``, wrapping around once."""
        pfx, n = self.pfx, len(self.pfx)
        for k, v in self.engine.scan(DATA, pfx + sub + b"\x00", self.end):
            yield k[n:], v
        for k, v in self.engine.scan(DATA, pfx, pfx + sub + b"\x00"):
            yield k[n:], v


# --- DUMP / RESTORE ---------------------------------------------------------------------------
def _to_rdb(db: Database, mkey: bytes, raw: bytes) -> RdbValue:
    return RdbValue("set", list(iter_members(db, mkey, raw)))


def _from_rdb(
    batch: Batch, db: Database, mkey: bytes, old: bytes | None, value: object, expire_at_ms: int
) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(m, bytes) for m in value):
        raise CommandError(BAD_FORMAT)
    uniq = list(dict.fromkeys(value))
    version = db.store.next_version()
    pfx = new_prefix(mkey, version)
    for m in uniq:
        batch.put(DATA, pfx + m, b"")
    big = not _compact(uniq, len(uniq))
    batch.put_meta(mkey, old, new_meta(T_SET, expire_at_ms, version, len(uniq), big))


generic.register_rdb(T_SET, "set", _to_rdb, _from_rdb)


def encoding(db: Database, mkey: bytes, raw: bytes) -> bytes:
    """OBJECT ENCODING as Redis 7.0 would answer for this set."""
    return b"hashtable" if is_big(raw) else b"intset"
