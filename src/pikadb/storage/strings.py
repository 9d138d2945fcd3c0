"""The string type: the value lives inline in the key's meta record.

    meta value: | type u8 = 1 | expire-at ms u64 | value bytes |

Strings are stored whole (not chunked): a GET is one point read and a SET one small write.
Integers (INCR...) and floats (INCRBYFLOAT) are stored as their decimal text, as Redis
keeps them. Bitmap-heavy workloads on very large strings (SETBIT near 2^32) will get a
chunked encoding with its own type byte in the bitmap issue; every reader goes through
:func:`read`.

Every write helper here builds ONE batch and commits it once (one binlog record), whatever
the number of keys. Helpers take the ``(mkey, raw)`` pair the caller got from
:meth:`Database.lookup`, so a command reads each key once.
"""

from __future__ import annotations

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.storage import layout as L
from pikadb.storage.keyspace import Database

T_STRING = L.T_STRING
_encode = L.encode_string
_NO_EXPIRE = L.NO_EXPIRE_HDR
_HDR_PERSISTENT = bytes([T_STRING]) + _NO_EXPIRE


def read(raw: bytes | None) -> bytes | None:
    """The string value in a raw meta record (None if absent); WRONGTYPE for other types."""
    if raw is None:
        return None
    if raw[0] != T_STRING:
        raise CommandError(errors.WRONGTYPE)
    return raw[9:]


def read_lenient(raw: bytes | None) -> bytes | None:
    """The string value, or None when absent or of another type (MGET)."""
    if raw is None or raw[0] != T_STRING:
        return None
    return raw[9:]


def is_string(raw: bytes) -> bool:
    return raw[0] == T_STRING


def get(db: Database, key: bytes) -> bytes | None:
    return read(db.lookup(key)[1])


def keep_ttl(old_raw: bytes | None) -> int:
    """The expire-at of an existing key of any type (0: none or no key)."""
    return 0 if old_raw is None else L.expire_of(old_raw)


# --- single-key writes ---------------------------------------------------------------------
def write(
    db: Database, mkey: bytes, old_raw: bytes | None, value: bytes, expire_at: int = 0
) -> None:
    """Commit ``value`` with ``expire_at`` (0: persistent), replacing ``old_raw`` (any type)."""
    store = db.store
    b = store.batch()
    b.put_meta(mkey, old_raw, _encode(value, expire_at))
    store.commit(b)


def write_persistent(db: Database, mkey: bytes, old_raw: bytes | None, value: bytes) -> None:
    """SET's common case: ``value`` with no expiry (the hot path, no struct packing)."""
    store = db.store
    b = store.batch()
    b.put_meta(mkey, old_raw, _HDR_PERSISTENT + value)
    store.commit(b)


def update(db: Database, mkey: bytes, old_raw: bytes | None, value: bytes) -> None:
    """Commit a new value for a string key, keeping its TTL (APPEND, INCR, SETRANGE...).

    ``old_raw`` must be a string record or None (callers check the type first).
    """
    store = db.store
    b = store.batch()
    b.put_meta(mkey, old_raw, (old_raw[:9] if old_raw is not None else _HDR_PERSISTENT) + value)
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
        new_raw = _HDR_PERSISTENT + value
        prev = written.get(mkey, old_raw) if written else old_raw
        b.put_meta(mkey, prev, new_raw)
        written[mkey] = new_raw
    store.commit(b)
