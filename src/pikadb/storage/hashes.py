"""The hash type: one sub-key per field.

    meta value: | type u8 = 2 | expire-at ms u64 | version u64 | size u64 | flags (0 or 1 byte) |
    data cf:    | version prefix (layout.version_prefix) | field |  ->  value

``size`` is the field count (HLEN is O(1)). ``flags`` = b"\\x01" ("big") records that Redis
7.0 would have converted the hash to its hashtable encoding: a field or value longer than 64
bytes was written (HSET/HMSET look at every argument, as hashTypeTryConversion does) or the
size passed 512 (Redis 7.0's compiled-in defaults: hash-max-listpack-value 64,
hash-max-listpack-entries 512); it stays set while the key lives (Redis never converts
back). Meta helpers, HSCAN paging and random sampling are shared with sets
(:mod:`pikadb.storage.sets`).

Writes: one meta read, at most one sub-key read per field, ONE batch and ONE commit. An
emptied hash is deleted; HINCRBY* take the new value from a caller-supplied function so the
arithmetic (and its error texts) stays in the command layer while storage does one read and
one commit.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.core.glob import stringmatch
from pikadb.rdb import BAD_FORMAT, RdbValue
from pikadb.storage import generic
from pikadb.storage import layout as L
from pikadb.storage import sets as S
from pikadb.storage.batch import Batch
from pikadb.storage.binlog import OP_DELETE, OP_PUT
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database

T_HASH = L.T_HASH
MAX_LISTPACK_ENTRIES = 512  # Redis 7.0 default hash-max-listpack-entries
MAX_LISTPACK_VALUE = 64
_BIG = S.BIG
_WRONGTYPE = errors.WRONGTYPE
_data_prefix = S.data_prefix
_size_of = S.size_of


def lookup(db: Database, key: bytes) -> tuple[bytes, bytes | None]:
    """(meta key, raw) of a hash key; raw None when missing; WRONGTYPE for other types."""
    mkey, raw = db.lookup(key)
    if raw is not None and raw[0] != T_HASH:
        raise CommandError(_WRONGTYPE)
    return mkey, raw


def _long(*items: bytes) -> bool:
    return any(len(x) > MAX_LISTPACK_VALUE for x in items)


# --- reads -----------------------------------------------------------------------------------
def get(db: Database, key: bytes, field: bytes) -> bytes | None:
    mkey, raw = db.lookup(key)
    if raw is None:
        return None
    if raw[0] != T_HASH:
        raise CommandError(_WRONGTYPE)
    return db.engine.get(DATA, _data_prefix(mkey, raw) + field)


def get_many(db: Database, key: bytes, fields: list[bytes]) -> list[bytes | None]:
    mkey, raw = lookup(db, key)
    if raw is None:
        return [None] * len(fields)
    pfx = _data_prefix(mkey, raw)
    get_ = db.engine.get
    return [get_(DATA, pfx + f) for f in fields]


def field_of(db: Database, mkey: bytes, raw: bytes, field: bytes) -> bytes | None:
    """A field of a live hash record (SORT ... BY/GET key->field)."""
    return db.engine.get(DATA, _data_prefix(mkey, raw) + field)


def length(db: Database, key: bytes) -> int:
    raw = lookup(db, key)[1]
    return 0 if raw is None else _size_of(raw)


def iter_items(db: Database, mkey: bytes, raw: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(field, value) of a live hash record, in field byte order."""
    return S.entries(db.engine, _data_prefix(mkey, raw))


def items(db: Database, key: bytes) -> list[tuple[bytes, bytes]]:
    mkey, raw = lookup(db, key)
    return [] if raw is None else list(iter_items(db, mkey, raw))


# --- writes ----------------------------------------------------------------------------------
def set_fields(db: Database, key: bytes, args: list[bytes], start: int = 0) -> int:
    """HSET / HMSET: ``args[start:]`` are field, value pairs (the last value of a repeated
    field wins). Returns the number of fields created."""
    mkey, raw = db.lookup(key)
    store = db.store
    b = store.batch()
    n = len(args)
    big = False
    for i in range(start, n):
        if len(args[i]) > MAX_LISTPACK_VALUE:
            big = True
            break
    if raw is None:
        version = store.next_version()
        pfx = S.new_prefix(mkey, version)
        if n - start == 2:
            b.put(DATA, pfx + args[start], args[start + 1])
            created = 1
        else:
            pairs = {args[i]: args[i + 1] for i in range(start, n, 2)}
            b.ops.extend([(OP_PUT, DATA, pfx + f, v) for f, v in pairs.items()])
            created = len(pairs)
        big = big or created > MAX_LISTPACK_ENTRIES
        b.put_meta(mkey, None, S.new_meta(T_HASH, 0, version, created, big))
        store.commit(b)
        return created
    if raw[0] != T_HASH:
        raise CommandError(_WRONGTYPE)
    pfx = _data_prefix(mkey, raw)
    if n - start == 2:
        dkey = pfx + args[start]
        created = 1 if db.engine.get(DATA, dkey) is None else 0
        b.put(DATA, dkey, args[start + 1])
    else:
        pairs = {args[i]: args[i + 1] for i in range(start, n, 2)}
        created = len(pairs) - len(S.present(db.engine, pfx, list(pairs)))
        b.ops.extend([(OP_PUT, DATA, pfx + f, v) for f, v in pairs.items()])
    was_big = raw[25:26] == _BIG
    if created or (big and not was_big):
        size = _size_of(raw) + created
        b.put_meta(mkey, raw, S.resized(raw, size, big or size > MAX_LISTPACK_ENTRIES))
    else:
        b.touch(mkey)
    store.commit(b)
    return created


def set_if_absent(db: Database, key: bytes, field: bytes, value: bytes) -> int:
    """HSETNX: 1 if the field was created, 0 if it existed (nothing changes then)."""
    mkey, raw = lookup(db, key)
    if raw is not None and db.engine.get(DATA, _data_prefix(mkey, raw) + field) is not None:
        return 0
    return set_fields(db, key, [field, value])


def delete_fields(db: Database, key: bytes, fields: list[bytes]) -> int:
    """HDEL: the number of fields removed (an emptied hash is deleted)."""
    mkey, raw = lookup(db, key)
    if raw is None:
        return 0
    pfx = _data_prefix(mkey, raw)
    have = S.present(db.engine, pfx, list(dict.fromkeys(fields)))
    if not have:
        return 0
    store = db.store
    b = store.batch()
    size = _size_of(raw) - len(have)
    if size <= 0:
        b.delete_key(mkey, raw)
    else:
        b.ops.extend([(OP_DELETE, DATA, pfx + f, b"") for f in have])
        b.put_meta(mkey, raw, S.resized(raw, size, False))
    store.commit(b)
    return len(have)


Updater = Callable[[bytes | None], bytes]
"""old value (None: no such field) -> new value; may raise CommandError (nothing written)."""


def update_field(db: Database, key: bytes, field: bytes, fn: Updater) -> bytes:
    """HINCRBY / HINCRBYFLOAT: write ``fn(current value)`` to the field; returns it."""
    mkey, raw = lookup(db, key)
    store = db.store
    b = store.batch()
    if raw is None:
        new = fn(None)
        version = store.next_version()
        b.put(DATA, S.new_prefix(mkey, version) + field, new)
        b.put_meta(mkey, None, S.new_meta(T_HASH, 0, version, 1, _long(field, new)))
        store.commit(b)
        return new
    dkey = _data_prefix(mkey, raw) + field
    old = db.engine.get(DATA, dkey)
    new = fn(old)
    b.put(DATA, dkey, new)
    big = raw[25:26] == _BIG
    grow = old is None
    if grow or (not big and _long(field, new)):
        size = _size_of(raw) + (1 if grow else 0)
        big = big or _long(field, new) or size > MAX_LISTPACK_ENTRIES
        b.put_meta(mkey, raw, S.resized(raw, size, big))
    else:
        b.touch(mkey)
    store.commit(b)
    return new


# --- random fields, scans ----------------------------------------------------------------------
def random_fields(
    db: Database, key: bytes, count: int, rng: random.Random | None = None
) -> list[tuple[bytes, bytes]]:
    """HRANDFIELD with a count: distinct (field, value) pairs for count >= 0, |count| picks
    with repetition for a negative count."""
    mkey, raw = lookup(db, key)
    if raw is None or count == 0:
        return []
    pfx = _data_prefix(mkey, raw)
    return S.sample(db.engine, pfx, _size_of(raw), abs(count), count > 0, rng)


def random_field(db: Database, key: bytes, rng: random.Random | None = None) -> bytes | None:
    mkey, raw = lookup(db, key)
    if raw is None:
        return None
    picks = S.sample(db.engine, _data_prefix(mkey, raw), _size_of(raw), 1, True, rng)
    return picks[0][0] if picks else None


def is_compact(raw: bytes) -> bool:
    """Redis 7.0 would hold this hash as a listpack."""
    return raw[25:26] != _BIG


def scan(
    db: Database, mkey: bytes, raw: bytes, cursor: int, count: int, pattern: bytes | None
) -> tuple[int, list[tuple[bytes, bytes]]]:
    """One HSCAN step over the live hash (``mkey``, ``raw`` from :func:`lookup`)."""
    return S.scan_entries(db, mkey, raw, cursor, count, pattern, is_compact(raw))


def range_scan(
    db: Database,
    key: bytes,
    start: bytes,
    end: bytes,
    pattern: bytes | None,
    limit: int,
    reverse: bool = False,
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """Pika's HSCANX / PKHSCANRANGE / PKHRSCANRANGE: up to ``limit`` examined fields from
    ``start`` (inclusive; b"" = the first/last field) towards ``end`` (inclusive; b"" = no
    bound), those matching ``pattern`` returned with their values, plus the next field to
    continue from (b"" when the range is exhausted)."""
    mkey, raw = lookup(db, key)
    if raw is None:
        return b"", []
    pfx = _data_prefix(mkey, raw)
    n = len(pfx)
    hi_all = L.prefix_end(pfx)
    if reverse:
        it = db.engine.scan(DATA, pfx, pfx + start + b"\x00" if start else hi_all, reverse=True)
    else:
        it = db.engine.scan(DATA, pfx + start, hi_all)
    match = None
    if pattern is not None and pattern != b"*":
        match = lambda s: stringmatch(pattern, s, False)  # noqa: E731
    out: list[tuple[bytes, bytes]] = []
    remain = limit
    for k, v in it:
        f = k[n:]
        if end and (f < end if reverse else f > end):
            return b"", out
        if remain <= 0:
            return f, out
        remain -= 1
        if match is None or match(f):
            out.append((f, v))
    return b"", out


# --- DUMP / RESTORE, OBJECT ENCODING -----------------------------------------------------------
def _to_rdb(db: Database, mkey: bytes, raw: bytes) -> RdbValue:
    return RdbValue("hash", list(iter_items(db, mkey, raw)))


def _from_rdb(
    batch: Batch, db: Database, mkey: bytes, old: bytes | None, value: object, expire_at_ms: int
) -> None:
    if not isinstance(value, list) or not value:
        raise CommandError(BAD_FORMAT)
    pairs: dict[bytes, bytes] = {}
    for item in value:
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise CommandError(BAD_FORMAT)
        f, v = item
        if not isinstance(f, bytes) or not isinstance(v, bytes):
            raise CommandError(BAD_FORMAT)
        pairs[f] = v
    version = db.store.next_version()
    pfx = S.new_prefix(mkey, version)
    big = len(pairs) > MAX_LISTPACK_ENTRIES
    for f, v in pairs.items():
        batch.put(DATA, pfx + f, v)
        if not big and _long(f, v):
            big = True
    batch.put_meta(mkey, old, S.new_meta(T_HASH, expire_at_ms, version, len(pairs), big))


generic.register_rdb(T_HASH, "hash", _to_rdb, _from_rdb)


def encoding(db: Database, mkey: bytes, raw: bytes) -> bytes:
    """OBJECT ENCODING as Redis 7.0 would answer for this hash."""
    return b"listpack" if is_compact(raw) else b"hashtable"
