"""A logical database (Redis DB index): key lookup with expiry, and meta iteration.

Expired keys are never visible: :meth:`Database.lookup` hides them at once and, where this
node accepts writes, deletes them through the commit path (so replicas receive the delete).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pikadb.core.clock import now_ms
from pikadb.core.slots import key_hash_slot
from pikadb.storage import layout as L
from pikadb.storage.engine import META

if TYPE_CHECKING:
    from pikadb.storage.cache import HotCache
    from pikadb.storage.store import Store

_NO_EXPIRE = L.NO_EXPIRE_HDR
_SLOTS = L.SLOT_BYTES
_expire_of = L.expire_of


class Database:
    __slots__ = ("_get", "cache", "engine", "index", "prefix", "store", "table")

    def __init__(self, store: Store, index: int, table: int) -> None:
        self.store = store
        self.engine = store.engine
        self.index = index
        # The hot-data cache (storage/cache.py) while cache-model is on, else None.
        self.cache: HotCache | None = getattr(store, "hot_cache", None)
        self._get = store.engine.get_meta
        self.set_table(table)

    def detach(self) -> None:
        """Forget the engine (on close), so the RocksDB handle can be released."""
        self._get = None  # type: ignore[assignment]

    def read_view(self) -> Database:
        """This database read through :meth:`Engine.read_view` (for a slow read-only
        command on a worker thread): expired keys are hidden but not deleted, since the
        view cannot write."""
        view = ReadOnlyDatabase.__new__(ReadOnlyDatabase)
        view.store = self.store
        view.engine = self.engine.read_view()
        view.index = self.index
        view.cache = None  # worker threads never touch the cache
        view._get = view.engine.get_meta
        view.table = self.table
        view.prefix = self.prefix
        return view

    def set_table(self, table: int) -> None:
        self.table = table
        self.prefix = L.table_prefix(table)

    # -- keys -----------------------------------------------------------------------------
    def mkey(self, key: bytes) -> bytes:
        return self.prefix + _SLOTS[key_hash_slot(key)] + key

    def lookup(self, key: bytes) -> tuple[bytes, bytes | None]:
        """(meta key, raw meta value or None when missing/expired)."""
        mkey = self.prefix + _SLOTS[key_hash_slot(key)] + key
        raw = self._get(mkey)
        if raw is not None and raw[1:9] != _NO_EXPIRE and _expire_of(raw) <= now_ms():
            self._expired(mkey, raw)
            return mkey, None
        return mkey, raw

    def lookup_many(self, keys: list[bytes]) -> list[tuple[bytes, bytes | None]]:
        """:meth:`lookup` of many keys with one engine MultiGet."""
        pfx = self.prefix
        mkeys = [pfx + _SLOTS[key_hash_slot(k)] + k for k in keys]
        raws = self.engine.multi_get(META, mkeys)
        now = now_ms()
        out: list[tuple[bytes, bytes | None]] = []
        for mkey, raw in zip(mkeys, raws, strict=True):
            if raw is not None and raw[1:9] != _NO_EXPIRE and _expire_of(raw) <= now:
                self._expired(mkey, raw)
                raw = None
            out.append((mkey, raw))
        return out

    def get_raw(self, key: bytes) -> bytes | None:
        return self.lookup(key)[1]

    def raw_by_mkey(self, mkey: bytes) -> bytes | None:
        raw = self._get(mkey)
        if raw is not None and raw[1:9] != _NO_EXPIRE and _expire_of(raw) <= now_ms():
            self._expired(mkey, raw)
            return None
        return raw

    def _expired(self, mkey: bytes, raw: bytes) -> None:
        store = self.store
        if store.expire_writes:
            b = store.batch()
            b.delete_key(mkey, raw)
            store.commit(b)
            if store.on_expired is not None:
                store.on_expired(self.index, L.user_key(mkey))

    # -- iteration ------------------------------------------------------------------------
    def iter_meta(
        self, start_mkey: bytes | None = None, reverse: bool = False, end_mkey: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """(meta key, raw) of live keys in (slot, key) order, from ``start_mkey``."""
        lo = start_mkey if start_mkey is not None and not reverse else self.prefix
        hi = end_mkey if end_mkey is not None else L.table_end(self.table)
        if reverse and start_mkey is not None:
            hi = start_mkey
        now = now_ms()
        for mkey, raw in self.engine.scan(META, lo, hi, reverse=reverse):
            if raw[1:9] != _NO_EXPIRE and _expire_of(raw) <= now:
                continue
            yield mkey, raw

    def size(self) -> int:
        return self.store.key_count(self.table)

    def expires(self) -> int:
        return self.store.expires_count(self.table)


class ReadOnlyDatabase(Database):
    """See :meth:`Database.read_view`."""

    __slots__ = ()

    def _expired(self, mkey: bytes, raw: bytes) -> None:
        pass  # hidden only: the owner thread deletes it on its next access
