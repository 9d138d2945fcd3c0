"""SORT's storage side: loading the value to sort, resolving BY/GET patterns, STORE.

Nothing here has its own on-disk format: SORT reads lists, sets and zsets through their
modules (:mod:`lists`, :mod:`sets`, :mod:`zsets`), reads pattern keys (strings, hash
fields) through :meth:`Database.lookup` and :func:`hashes.field_of`, and STORE writes a
list with :func:`lists.put_list` (the list encoding) in ONE batch and ONE commit.

Patterns (lookupKeyByPattern in Redis's sort.c), looked at as C strings where Redis does:

    "#"                 the element itself
    no "*"              nothing (a constant key makes no sense: every lookup is nil)
    pre*post            the string value of key pre<element>post (nil if missing / not a string)
    pre*post->field     field ``field`` of the hash at pre<element>post (nil otherwise);
                        "->" is searched after the "*", and an empty field means no field

Lookups are point reads (one meta read per distinct key, one sub-key read per hash field),
cached for the duration of one command: BY and GET patterns often hit the same keys. A
RocksDB multi-get was measured slower than a loop of point reads in rocksdict, so none is used.
"""

from __future__ import annotations

from itertools import islice

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.storage import hashes, lists, sets, strings, zsets
from pikadb.storage import layout as L
from pikadb.storage.keyspace import Database

T_LIST = L.T_LIST
T_SET = L.T_SET
T_ZSET = L.T_ZSET
T_HASH = L.T_HASH
_SORTABLE = frozenset({T_LIST, T_SET, T_ZSET})


class Source:
    """The key to sort: a live list, set or zset (``raw`` None: a missing key, an empty list)."""

    __slots__ = ("mkey", "raw", "size", "type")

    def __init__(self, mkey: bytes, raw: bytes | None) -> None:
        self.mkey = mkey
        self.raw = raw
        if raw is None:
            self.type = T_LIST
            self.size = 0
        else:
            self.type = raw[0]
            self.size = sets.size_of(raw)


def open_source(db: Database, key: bytes) -> Source:
    """The value at ``key``; WRONGTYPE unless missing, a list, a set or a zset."""
    mkey, raw = db.lookup(key)
    if raw is not None and raw[0] not in _SORTABLE:
        raise CommandError(errors.WRONGTYPE)
    return Source(mkey, raw)


def load_range(db: Database, src: Source, start: int, end: int, desc: bool) -> list[bytes]:
    """Elements at indexes start..end (inclusive, already clamped) of a list or zset in its
    own order, or counted from its end when ``desc`` (SORT ... BY <constant> [LIMIT])."""
    n = end - start + 1
    if n <= 0 or src.raw is None:
        return []
    if src.type == T_LIST:
        ref = lists.ListRef(src.mkey, src.raw)
        size = ref.size
        if desc:
            return list(ref.scan(db, size - 1 - end, size - start, reverse=True))
        return list(ref.scan(db, start, end + 1))
    z = zsets.ZSet(db, src.mkey, src.raw)
    return [m for m, _ in islice(z.index(reverse=desc, skip=start), n)]


def load_all(db: Database, src: Source) -> list[bytes]:
    """Every element: a list in its order, a zset by member, a set in the order Redis 7.0
    iterates it when it is an intset (numeric), else by member."""
    raw = src.raw
    if raw is None:
        return []
    if src.type == T_LIST:
        return list(lists.items(db, src.mkey, raw))
    if src.type == T_ZSET:
        return [m for m, _ in zsets.items(db, src.mkey, raw)]
    out = list(sets.iter_members(db, src.mkey, raw))
    if not sets.is_big(raw):
        out.sort(key=int)
    return out


# --- patterns ------------------------------------------------------------------------------
class Pattern:
    """A parsed BY/GET pattern (see the module docstring)."""

    __slots__ = ("field", "is_hash", "kind", "post", "pre")

    SELF, NONE, KEY = 0, 1, 2

    def __init__(self, pattern: bytes) -> None:
        self.pre = self.post = self.field = b""
        self.is_hash = False
        cstr = pattern.split(b"\x00", 1)[0]
        if cstr[:1] == b"#" and len(cstr) == 1:
            self.kind = Pattern.SELF
            return
        star = cstr.find(b"*")
        if star < 0:
            self.kind = Pattern.NONE
            return
        self.kind = Pattern.KEY
        arrow = cstr.find(b"->", star + 1)
        self.pre = pattern[:star]
        if arrow >= 0 and arrow + 2 < len(cstr):
            self.is_hash = True
            self.field = pattern[arrow + 2 :]
            self.post = pattern[star + 1 : arrow]
        else:
            self.post = pattern[star + 1 :]


def has_star(pattern: bytes) -> bool:
    """Does ``pattern`` (as a C string) contain ``*``? (BY without one means: do not sort.)"""
    return b"*" in pattern.split(b"\x00", 1)[0]


class Resolver:
    """Pattern lookups for one command, with the meta records read so far cached."""

    __slots__ = ("_cache", "_db", "_fields")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[bytes, tuple[bytes, bytes | None]] = {}
        self._fields: dict[tuple[bytes, bytes], bytes | None] = {}

    def resolve(self, pat: Pattern, elements: list[bytes]) -> list[bytes | None]:
        """The value ``pat`` gives for each element (None where Redis finds nothing)."""
        kind = pat.kind
        if kind == Pattern.SELF:
            return list(elements)
        if kind == Pattern.NONE:
            return [None] * len(elements)
        pre, post = pat.pre, pat.post
        cache, lookup = self._cache, self._db.lookup
        missing = list(dict.fromkeys(k for e in elements if (k := pre + e + post) not in cache))
        if len(missing) > 1:  # one MultiGet for every key not read yet
            cache.update(zip(missing, self._db.lookup_many(missing), strict=True))
        out: list[bytes | None] = []
        append = out.append
        if not pat.is_hash:
            value, db = strings.value_lenient, self._db  # None unless a string
            for e in elements:
                key = pre + e + post
                got = cache.get(key)
                if got is None:
                    got = cache[key] = lookup(key)
                append(value(db, got[0], got[1]))
            return out
        field, fields, db = pat.field, self._fields, self._db
        for e in elements:
            key = pre + e + post
            got = cache.get(key)
            if got is None:
                got = cache[key] = lookup(key)
            mkey, raw = got
            if raw is None or raw[0] != T_HASH:
                append(None)
                continue
            fk = (key, field)
            if fk in fields:
                append(fields[fk])
            else:
                v = fields[fk] = hashes.field_of(db, mkey, raw, field)
                append(v)
        return out


# --- STORE ---------------------------------------------------------------------------------
def store_list(db: Database, dst: bytes, values: list[bytes]) -> None:
    """SORT ... STORE: ``dst`` becomes a list of ``values`` (any old value and its TTL go);
    an empty ``values`` deletes ``dst``. One batch, one commit."""
    mkey, old = db.lookup(dst)
    if not values and old is None:
        return
    store = db.store
    b = store.batch()
    lists.put_list(b, db, mkey, old, values, 0)
    store.commit(b)
