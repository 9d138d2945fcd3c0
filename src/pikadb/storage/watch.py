"""Storage reads for WATCH (commands/transactions.py): what Redis's watched-key bookkeeping
asks of the keyspace, answered without side effects.

* :func:`peek` — a key's raw meta value as stored, *including* a logically expired key that
  has not been deleted yet (Redis's ``dictFind`` on the main dict), never deleting it (unlike
  :meth:`Database.lookup`, which hides and lazily deletes expired keys).
* :func:`is_stale` — the key is logically expired (``keyIsExpired``).
* :func:`meta_after` — whether a committed batch left a meta key present or deleted.
* :func:`swapped_tables` — the two tables a batch swapped (SWAPDB), or None.
"""

from __future__ import annotations

from pikadb.core.clock import now_ms
from pikadb.storage import layout as L
from pikadb.storage.batch import Batch
from pikadb.storage.binlog import OP_DELETE, OP_PUT
from pikadb.storage.engine import META, SYS
from pikadb.storage.keyspace import Database

_NO_EXPIRE = L.NO_EXPIRE_HDR


def peek(db: Database, key: bytes) -> bytes | None:
    """The stored meta value of ``key`` (expired or not), or None; no lazy deletion."""
    return db._get(db.mkey(key))


def is_stale(raw: bytes | None, now: int | None = None) -> bool:
    """True if ``raw`` is a key whose expire time has passed (still stored)."""
    if raw is None or raw[1:9] == _NO_EXPIRE:
        return False
    return L.expire_of(raw) <= (now_ms() if now is None else now)


def meta_after(batch: Batch, mkey: bytes) -> bool | None:
    """After ``batch``: True if it (last) wrote ``mkey``'s meta, False if it deleted it,
    None if it did neither."""
    for kind, cf, key, _ in reversed(batch.ops):
        if cf == META and key == mkey:
            if kind == OP_PUT:
                return True
            if kind == OP_DELETE:
                return False
    return None


def swapped_tables(batch: Batch) -> tuple[bytes, bytes] | None:
    """The table prefixes exchanged by a SWAPDB batch (it rewrites the db -> table map and
    touches both tables), or None for any other batch (FLUSHDB/FLUSHALL touch tables too)."""
    tables = [t for t in batch.touched if len(t) == 2]
    if len(tables) != 2 or tables[0] == tables[1]:
        return None
    for kind, cf, key, _ in batch.ops:
        if kind == OP_PUT and cf == SYS and key == L.DBMAP_KEY:
            return tables[0], tables[1]
    return None
