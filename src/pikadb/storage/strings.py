"""The string type, in two encodings chosen by length.

    +----------+-----------+------------------------------------------------------------------+
    | encoding | type byte | meta value / data cf                                             |
    +----------+-----------+------------------------------------------------------------------+
    | inline   | 1         | meta: | 1 | expire-at ms u64 | value bytes |                      |
    |          | T_STRING  | (length <= INLINE_MAX; nothing in the data cf)                   |
    +----------+-----------+------------------------------------------------------------------+
    | chunked  | 7         | meta: | 7 | expire-at ms u64 | version u64 | length u64 |         |
    |          | T_STRING_ | data: version_prefix(mkey, version) | chunk index u32 -> bytes   |
    |          | CHUNKED   | chunk i holds bytes [i*CHUNK_SIZE, (i+1)*CHUNK_SIZE) of the      |
    |          |           | value, trailing zero bytes stripped; a missing chunk (or the     |
    |          |           | part of the span past a stored chunk's end) reads as zeros       |
    +----------+-----------+------------------------------------------------------------------+

The encoding is a pure function of the length: a value of up to :data:`INLINE_MAX` bytes is
inline, a longer one chunked (strings never shrink in place: only an overwrite makes a long
string short again, and that write picks the encoding afresh). Both are TYPE "string".

Why these sizes (measured with bench/micro.py-style loops on this 2-core box; every write
costs about twice its size, as the binlog record carries the bytes too):

* ``INLINE_MAX`` = 16 KiB. GET / SET / INCR of ordinary values stay ONE point read and ONE
  meta write, exactly as before (the only new work on the hot path is one length compare in
  SET); a GET of a 20 KB value costs a meta read plus one bounded chunk scan (~30 us vs
  ~5 us inline). A dense HyperLogLog (12304 bytes) stays inline, so HLL helpers keep reading
  ``raw[9:]``. Meta records stay small enough for SCAN/KEYS, which read the meta cf. The
  price: a SETBIT on a 4-16 KB bitmap rewrites the whole inline value (~150 us/op here).
* ``CHUNK_SIZE`` = 4 KiB (RocksDB's block size). A bit write (SETBIT, SETRANGE, APPEND,
  BITFIELD) on a large string rewrites one chunk: random SETBIT over a 64 MB bitmap took
  ~115 us/op with 4 KiB chunks against ~200 us/op with 16 KiB ones, and BITCOUNT of the
  result 0.09 s against 0.56 s (sparse chunks store fewer bytes: trailing zeros are
  stripped). 1 KiB chunks write faster still (~80 us/op) but whole-value reads pay per
  chunk (one RocksDB iterator step each): GET / BITCOUNT of a dense 64 MB value took
  0.55 s / 0.86 s against 0.31 s / 0.52 s with 4 KiB chunks.
* A sparse bitmap costs only its touched chunks: SETBIT key 4294967295 1 stores one 4 KiB
  chunk (the bit is that chunk's last byte) and a 25-byte meta record; deleting or
  overwriting it is O(1) (the version's range delete in
  :class:`~pikadb.storage.batch.Batch`, as for collections).

Readers: :func:`value` (any encoding), :func:`length`, :func:`read_range` and :func:`pieces`
(only the chunks a range needs). :func:`read` is the inline-only reader kept for small-value
helpers; given a chunked record it raises (use :func:`value`). Writers pick the encoding from
the length; :class:`Editor` patches byte ranges in place (SETRANGE, APPEND, SETBIT, BITFIELD),
touching only the chunks it writes.

Every write helper here builds ONE batch and commits it once (one binlog record), whatever
the number of keys. Helpers take the ``(mkey, raw)`` pair the caller got from
:meth:`Database.lookup`, so a command reads each key once.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.storage import layout as L
from pikadb.storage.batch import Batch
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database

T_STRING = L.T_STRING
T_STRING_CHUNKED = L.T_STRING_CHUNKED
CHUNK_SIZE = 4 * 1024
INLINE_MAX = 16 * 1024  # values of up to this many bytes are stored inline

_encode = L.encode_string
_NO_EXPIRE = L.NO_EXPIRE_HDR
_HDR_PERSISTENT = bytes([T_STRING]) + _NO_EXPIRE
_CHUNKED = struct.Struct(">BQQQ")  # type, expire-at, version, length
_U32 = struct.Struct(">I")
_ZERO_CHUNK = bytes(CHUNK_SIZE)


def is_string(raw: bytes) -> bool:
    return raw[0] == T_STRING or raw[0] == T_STRING_CHUNKED


def check(raw: bytes | None) -> None:
    """WRONGTYPE unless ``raw`` is absent or a string (either encoding)."""
    if raw is not None and raw[0] != T_STRING and raw[0] != T_STRING_CHUNKED:
        raise CommandError(errors.WRONGTYPE)


# --- chunked records -----------------------------------------------------------------------
def encode_chunked(expire_at: int, version: int, length: int) -> bytes:
    return _CHUNKED.pack(T_STRING_CHUNKED, expire_at, version, length)


def decode_chunked(raw: bytes) -> tuple[int, int, int]:
    """(expire-at, version, length) of a chunked string record."""
    _, exp, version, length = _CHUNKED.unpack_from(raw)
    return exp, version, length


def chunk_key(prefix: bytes, index: int) -> bytes:
    return prefix + _U32.pack(index)


def _stored_chunks(
    db: Database, mkey: bytes, version: int, first: int, last: int
) -> Iterator[tuple[int, bytes]]:
    """(index, stored bytes) of the chunks first..last (inclusive) that exist, in order."""
    pfx = L.version_prefix(mkey, version)
    n = len(pfx)
    if first == last:  # one chunk: a point read (sees a pending group write, no flush)
        data = db.engine.get(DATA, pfx + _U32.pack(first))
        if data is not None:
            yield first, data
        return
    end = pfx + _U32.pack(last + 1) if last + 1 <= 0xFFFFFFFF else L.prefix_end(pfx)
    for k, v in db.engine.scan(DATA, pfx + _U32.pack(first), end):
        yield _U32.unpack_from(k, n)[0], v


# --- readers -------------------------------------------------------------------------------
def read(raw: bytes | None) -> bytes | None:
    """The value of an INLINE string record (None if absent); WRONGTYPE for other types.

    For small-value helpers that already know their strings are short. A chunked record
    raises: its bytes live elsewhere (use :func:`value` with the key)."""
    if raw is None:
        return None
    if raw[0] != T_STRING:
        if raw[0] == T_STRING_CHUNKED:
            raise ValueError("chunked string read without its key: use strings.value()")
        raise CommandError(errors.WRONGTYPE)
    return raw[9:]


def read_lenient(raw: bytes | None) -> bytes | None:
    """The value of an inline string record, or None when absent or of another type."""
    if raw is None or raw[0] != T_STRING:
        return None
    return raw[9:]


def value(db: Database, mkey: bytes, raw: bytes | None) -> bytes | None:
    """The whole value of a string of either encoding (None if absent); WRONGTYPE else."""
    if raw is None:
        return None
    t = raw[0]
    if t == T_STRING:
        return raw[9:]
    if t != T_STRING_CHUNKED:
        raise CommandError(errors.WRONGTYPE)
    return b"".join(pieces(db, mkey, raw))


def value_lenient(db: Database, mkey: bytes, raw: bytes | None) -> bytes | None:
    """:func:`value`, but None for a key of another type (MGET, SORT GET patterns)."""
    if raw is None or (raw[0] != T_STRING and raw[0] != T_STRING_CHUNKED):
        return None
    return value(db, mkey, raw)


def length(raw: bytes) -> int:
    """The byte length of a string record of either encoding (no chunk is read)."""
    if raw[0] == T_STRING:
        return len(raw) - 9
    return _CHUNKED.unpack_from(raw)[3]


def get(db: Database, key: bytes) -> bytes | None:
    mkey, raw = db.lookup(key)
    return value(db, mkey, raw)


def sparse(
    db: Database, mkey: bytes, raw: bytes, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) pieces of the value within [start, end) (clipped to the length) that
    may hold non-zero bytes, in order; every byte of the range not in a piece is zero.
    Only the chunks of the range are read."""
    n = length(raw)
    if end is None or end > n:
        end = n
    if start < 0:
        start = 0
    if start >= end:
        return
    if raw[0] == T_STRING:
        yield start, raw[9 + start : 9 + end]
        return
    version = _CHUNKED.unpack_from(raw)[2]
    for idx, data in _stored_chunks(
        db, mkey, version, start // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
    ):
        base = idx * CHUNK_SIZE
        lo = max(start - base, 0)
        hi = min(end - base, len(data))
        if lo < hi:
            yield base + lo, data[lo:hi]


def pieces(
    db: Database, mkey: bytes, raw: bytes, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """The value's bytes within [start, end) (clipped to the length) as consecutive pieces,
    zeros filled in (lazily: a caller that stops early reads no further chunk)."""
    n = length(raw)
    if end is None or end > n:
        end = n
    if start < 0:
        start = 0
    pos = start
    for off, data in sparse(db, mkey, raw, start, end):
        while pos < off:  # a gap of zeros, in chunk-sized steps
            step = min(off - pos, CHUNK_SIZE)
            yield _ZERO_CHUNK[:step] if step < CHUNK_SIZE else _ZERO_CHUNK
            pos += step
        yield data
        pos = off + len(data)
    while pos < end:
        step = min(end - pos, CHUNK_SIZE)
        yield _ZERO_CHUNK[:step] if step < CHUNK_SIZE else _ZERO_CHUNK
        pos += step


def read_range(db: Database, mkey: bytes, raw: bytes, start: int, end: int) -> bytes:
    """The bytes [start, end) of a string (clipped to its length), reading only the chunks
    of that range."""
    if raw[0] == T_STRING:
        n = len(raw) - 9
        return raw[9 + max(start, 0) : 9 + min(end, n)] if start < end else b""
    _, _, version, n = _CHUNKED.unpack_from(raw)
    start, end = max(start, 0), min(end, n)
    idx = start // CHUNK_SIZE
    if start < end and (end - 1) // CHUNK_SIZE == idx:  # one chunk: one point read
        data = db.engine.get(DATA, L.version_prefix(mkey, version) + _U32.pack(idx)) or b""
        base = idx * CHUNK_SIZE
        out = data[start - base : end - base]
        return out if len(out) == end - start else out + bytes(end - start - len(out))
    return b"".join(pieces(db, mkey, raw, start, end))


# --- whole-value writes ----------------------------------------------------------------------
def _stage_chunks(batch: Batch, pfx: bytes, data: bytes | bytearray, base_index: int = 0) -> None:
    """Put ``data`` as consecutive chunks from ``base_index`` (all-zero chunks skipped)."""
    put = batch.put
    for i in range(0, len(data), CHUNK_SIZE):
        piece = bytes(data[i : i + CHUNK_SIZE]).rstrip(b"\x00")
        if piece:
            put(DATA, pfx + _U32.pack(base_index + i // CHUNK_SIZE), piece)


def stage(
    batch: Batch,
    db: Database,
    mkey: bytes,
    old_raw: bytes | None,
    new_value: bytes,
    expire_at: int = 0,
) -> bytes:
    """Add to ``batch`` the mutations storing ``new_value`` at ``mkey`` (replacing
    ``old_raw``, any type); returns the new meta record."""
    if len(new_value) <= INLINE_MAX:
        new_raw = _encode(new_value, expire_at)
        batch.put_meta(mkey, old_raw, new_raw)
        return new_raw
    version = db.store.next_version()
    new_raw = encode_chunked(expire_at, version, len(new_value))
    batch.put_meta(mkey, old_raw, new_raw)  # drops the old version's chunks, if any
    _stage_chunks(batch, L.version_prefix(mkey, version), new_value)
    return new_raw


def stage_chunks(
    batch: Batch,
    db: Database,
    mkey: bytes,
    old_raw: bytes | None,
    length: int,
    chunks: list[tuple[int, bytes]],
    expire_at: int = 0,
) -> bytes:
    """Add to ``batch`` a chunked value of ``length`` bytes given as its non-zero chunks
    ``(index, bytes from the chunk's start)`` (``length`` > INLINE_MAX; the rest is zeros)."""
    version = db.store.next_version()
    new_raw = encode_chunked(expire_at, version, length)
    batch.put_meta(mkey, old_raw, new_raw)
    pfx = L.version_prefix(mkey, version)
    for idx, data in chunks:
        piece = data.rstrip(b"\x00")
        if piece:
            batch.put(DATA, pfx + _U32.pack(idx), piece)
    return new_raw


def write(
    db: Database, mkey: bytes, old_raw: bytes | None, value: bytes, expire_at: int = 0
) -> None:
    """Commit ``value`` with ``expire_at`` (0: persistent), replacing ``old_raw`` (any type)."""
    store = db.store
    b = store.batch()
    stage(b, db, mkey, old_raw, value, expire_at)
    store.commit(b)


def write_persistent(db: Database, mkey: bytes, old_raw: bytes | None, value: bytes) -> None:
    """SET's common case: ``value`` with no expiry (the hot path, no struct packing)."""
    store = db.store
    b = store.batch()
    if len(value) <= INLINE_MAX:
        b.put_meta(mkey, old_raw, _HDR_PERSISTENT + value)
    else:
        stage(b, db, mkey, old_raw, value)
    store.commit(b)


def update(db: Database, mkey: bytes, old_raw: bytes | None, value: bytes) -> None:
    """Commit a new value for a string key, keeping its TTL (APPEND, INCR, SETRANGE...).

    ``old_raw`` must be a string record or None (callers check the type first).
    """
    store = db.store
    b = store.batch()
    if len(value) <= INLINE_MAX and (old_raw is None or old_raw[0] == T_STRING):
        b.put_meta(mkey, old_raw, (old_raw[:9] if old_raw is not None else _HDR_PERSISTENT) + value)
    else:
        stage(b, db, mkey, old_raw, value, 0 if old_raw is None else L.expire_of(old_raw))
    store.commit(b)


def write_at(
    db: Database, mkey: bytes, old_raw: bytes | None, value: bytes, expire_at: int, now: int
) -> bool:
    """Store ``value`` expiring at ``expire_at`` (0: never); an expire time already past
    ``now`` deletes the key instead, as the stored key would be expired at once.
    Returns whether the key now exists."""
    if expire_at and expire_at <= now:
        if old_raw is not None:
            delete(db, mkey, old_raw)
        return False
    write(db, mkey, old_raw, value, expire_at)
    return True


def delete(db: Database, mkey: bytes, old_raw: bytes) -> None:
    store = db.store
    b = store.batch()
    b.delete_key(mkey, old_raw)
    store.commit(b)


def keep_ttl(old_raw: bytes | None) -> int:
    """The expire-at of an existing key of any type (0: none or no key)."""
    return 0 if old_raw is None else L.expire_of(old_raw)


def set_expire(db: Database, mkey: bytes, raw: bytes, expire_at: int) -> None:
    """Change a live key's expire-at (0: persist) without touching its value."""
    if L.expire_of(raw) == expire_at:
        return
    store = db.store
    b = store.batch()
    b.put_meta(mkey, raw, L.with_expire(raw, expire_at))
    store.commit(b)


# --- multi-key writes ----------------------------------------------------------------------
def write_many(db: Database, items: list[tuple[bytes, bytes | None, bytes]]) -> None:
    """MSET: ``(mkey, old_raw, value)`` triples, all persistent, in ONE batch and commit.

    A key named twice is written twice in order (the last value wins, like Redis); the
    second write sees the first one's record as its old value, so the key counters, the
    ttl index and dropped collection data stay right.
    """
    store = db.store
    b = store.batch()
    written: dict[bytes, bytes] = {}
    for mkey, old_raw, value in items:
        prev = written.get(mkey, old_raw) if written else old_raw
        if len(value) <= INLINE_MAX:
            new_raw = _HDR_PERSISTENT + value
            b.put_meta(mkey, prev, new_raw)
        else:
            new_raw = stage(b, db, mkey, prev, value)
        written[mkey] = new_raw
    store.commit(b)


# --- in-place edits ------------------------------------------------------------------------
class Editor:
    """Byte-range reads and writes on one string key, committed as one write that keeps the
    key's TTL. Inline values are edited whole; a chunked value loads and rewrites only the
    chunks it touches. Growing past :data:`INLINE_MAX` converts to chunks (never building
    the long value in memory), so SETBIT at offset 2**32-1 costs one chunk.

    ``raw`` must be None or a string record (callers check the type first)."""

    __slots__ = (
        "_buf",
        "_cache",
        "_db",
        "_dirty",
        "_on_disk",
        "_stored_len",
        "changed",
        "expire_at",
        "length",
        "mkey",
        "old_raw",
        "version",
    )

    def __init__(self, db: Database, mkey: bytes, raw: bytes | None) -> None:
        self._db = db
        self.mkey = mkey
        self.old_raw = raw
        self.changed = raw is None  # a new key is a change even if all its bytes are zero
        self._cache: dict[int, bytearray] = {}
        self._dirty: set[int] = set()
        if raw is None or raw[0] == T_STRING:
            self.expire_at = 0 if raw is None else L.expire_of(raw)
            self._buf: bytearray | None = bytearray(raw[9:]) if raw is not None else bytearray()
            self.length = len(self._buf)
            self.version = 0
            self._on_disk = False
            self._stored_len = 0
        else:
            self.expire_at, self.version, self.length = decode_chunked(raw)
            self._buf = None
            self._on_disk = True  # chunks of this version may exist in the data cf
            self._stored_len = self.length

    # -- chunk cache ----------------------------------------------------------------------
    def _to_chunked(self) -> None:
        buf = self._buf
        assert buf is not None
        self.version = self._db.store.next_version()
        for i in range(0, len(buf), CHUNK_SIZE):
            c = bytearray(CHUNK_SIZE)
            piece = buf[i : i + CHUNK_SIZE]
            c[: len(piece)] = piece
            self._cache[i // CHUNK_SIZE] = c
            self._dirty.add(i // CHUNK_SIZE)
        self._buf = None

    def _chunk(self, idx: int) -> bytearray:
        c = self._cache.get(idx)
        if c is None:
            c = bytearray(CHUNK_SIZE)
            if self._on_disk and idx * CHUNK_SIZE < self._stored_len:
                pfx = L.version_prefix(self.mkey, self.version)
                data = self._db.engine.get(DATA, pfx + _U32.pack(idx))
                if data:
                    c[: len(data)] = data
            self._cache[idx] = c
        return c

    # -- reads ----------------------------------------------------------------------------
    def read(self, start: int, n: int) -> bytes:
        """``n`` bytes from ``start``, zeros past the end of the value."""
        buf = self._buf
        if buf is not None:
            out = bytes(buf[start : start + n])
            return out + bytes(n - len(out)) if len(out) < n else out
        parts = []
        pos, end = start, start + n
        while pos < end:
            idx, off = divmod(pos, CHUNK_SIZE)
            step = min(end - pos, CHUNK_SIZE - off)
            if pos >= self.length:
                parts.append(bytes(end - pos))
                break
            c = self._cache.get(idx)
            if c is None and not (self._on_disk and idx * CHUNK_SIZE < self._stored_len):
                parts.append(bytes(step))
            else:
                parts.append(bytes(self._chunk(idx)[off : off + step]))
            pos += step
        return b"".join(parts)

    # -- writes ---------------------------------------------------------------------------
    def grow(self, n: int) -> None:
        """Zero-pad the value to at least ``n`` bytes."""
        if n <= self.length:
            return
        self.changed = True
        if self._buf is not None:
            if n > INLINE_MAX:
                self._to_chunked()
            else:
                self._buf.extend(bytes(n - len(self._buf)))
        self.length = n

    def write(self, offset: int, data: bytes) -> None:
        """Overwrite ``len(data)`` bytes at ``offset``, growing the value as needed."""
        if not data:
            return
        self.grow(offset + len(data))
        buf = self._buf
        if buf is not None:
            if buf[offset : offset + len(data)] != data:
                buf[offset : offset + len(data)] = data
                self.changed = True
            return
        pos, end, src = offset, offset + len(data), 0
        while pos < end:
            idx, off = divmod(pos, CHUNK_SIZE)
            step = min(end - pos, CHUNK_SIZE - off)
            c = self._chunk(idx)
            piece = data[src : src + step]
            if c[off : off + step] != piece:
                c[off : off + step] = piece
                self._dirty.add(idx)
                self.changed = True
            pos += step
            src += step

    # -- commit ---------------------------------------------------------------------------
    def stage(self, batch: Batch) -> bytes:
        """Add this edit's mutations to ``batch``; returns the new meta record."""
        mkey = self.mkey
        buf = self._buf
        if buf is not None:
            new_raw = _encode(bytes(buf), self.expire_at)
            batch.put_meta(mkey, self.old_raw, new_raw)
            return new_raw
        new_raw = encode_chunked(self.expire_at, self.version, self.length)
        batch.put_meta(mkey, self.old_raw, new_raw)
        pfx = L.version_prefix(mkey, self.version)
        for idx in sorted(self._dirty):
            span = min(CHUNK_SIZE, self.length - idx * CHUNK_SIZE)
            piece = bytes(self._cache[idx][:span]).rstrip(b"\x00")
            if piece:
                batch.put(DATA, pfx + _U32.pack(idx), piece)
            elif self._on_disk and idx * CHUNK_SIZE < self._stored_len:
                batch.delete(DATA, pfx + _U32.pack(idx))
        return new_raw

    def commit(self) -> None:
        """One batch, one commit (whether or not :attr:`changed`: callers that must not
        write an unchanged value check it first)."""
        store = self._db.store
        b = store.batch()
        self.stage(b)
        store.commit(b)
