"""The string type: the value lives inline in the key's meta record.

    meta value: | type u8 = 1 | expire-at ms u64 | value bytes |

Strings are stored whole (not chunked): a GET is one point read and a SET one small write.
Bitmap-heavy workloads on very large strings (SETBIT near 2^32) will get a chunked encoding
with its own type byte in the bitmap issue; every reader goes through :func:`read`.
"""

from __future__ import annotations

from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.storage import layout as L
from pikadb.storage.keyspace import Database

T_STRING = L.T_STRING
_encode = L.encode_string


def read(raw: bytes | None) -> bytes | None:
    """The string value in a raw meta record (None if absent); WRONGTYPE for other types."""
    if raw is None:
        return None
    if raw[0] != T_STRING:
        raise CommandError(errors.WRONGTYPE)
    return raw[9:]


def get(db: Database, key: bytes) -> bytes | None:
    return read(db.lookup(key)[1])


def write(
    db: Database, mkey: bytes, old_raw: bytes | None, value: bytes, expire_at: int = 0
) -> None:
    """Commit ``value`` (replacing whatever ``old_raw`` was, of any type)."""
    store = db.store
    b = store.batch()
    b.put_meta(mkey, old_raw, _encode(value, expire_at))
    store.commit(b)


def keep_ttl(old_raw: bytes | None) -> int:
    return 0 if old_raw is None else L.expire_of(old_raw)
