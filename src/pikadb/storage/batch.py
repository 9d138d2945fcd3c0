"""A write batch under construction: the mutations of one commit plus what the commit path
needs besides them (the serialized binlog ops, key-count deltas, touched keys).

Types build a Batch; :meth:`pikadb.storage.store.Store.commit` writes it. Meta records are
written only through :meth:`Batch.put_meta` / :meth:`Batch.delete_key`, which keep the ttl
index, the key counters and the touched-key list right for every type in one place.
"""

from __future__ import annotations

from pikadb.storage import layout as L
from pikadb.storage.binlog import OP_DELETE, OP_DELETE_RANGE, OP_PUT
from pikadb.storage.engine import DATA, META, TTL, ZSCORE

Op = tuple[int, int, bytes, bytes]  # (kind, cf, key, value or range end)


class Batch:
    """Mutations recorded as plain tuples; the engine applies them at commit (so an abandoned
    batch writes nothing, and commits can be grouped into one RocksDB write)."""

    __slots__ = ("created", "deltas", "ops", "touched")

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.deltas: dict[int, list[int]] | None = None  # table -> [keys, expires]
        # Meta keys whose value changed. A 2-byte entry (a bare table prefix) means "every
        # key of that table" (FLUSHDB, SWAPDB).
        self.touched: list[bytes] = []
        # Meta keys written where no key was (keyspace notification "new"); None: none.
        self.created: list[bytes] | None = None

    @property
    def nops(self) -> int:
        return len(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    # -- raw mutations --------------------------------------------------------------------
    def put(self, cf: int, key: bytes, value: bytes) -> None:
        self.ops.append((OP_PUT, cf, key, value))

    def delete(self, cf: int, key: bytes) -> None:
        self.ops.append((OP_DELETE, cf, key, b""))

    def delete_range(self, cf: int, start: bytes, end: bytes) -> None:
        self.ops.append((OP_DELETE_RANGE, cf, start, end))

    def add_delta(self, table: int, keys: int, expires: int) -> None:
        if self.deltas is None:
            self.deltas = {}
        d = self.deltas.get(table)
        if d is None:
            self.deltas[table] = [keys, expires]
        else:
            d[0] += keys
            d[1] += expires

    # -- meta records ---------------------------------------------------------------------
    def put_meta(self, mkey: bytes, old_raw: bytes | None, new_raw: bytes) -> None:
        """Write a key's meta value. ``old_raw`` is what the caller read (None: no key)."""
        self.put(META, mkey, new_raw)
        new_exp = L.expire_of(new_raw)
        table = (mkey[0] << 8) | mkey[1]
        if old_raw is None:
            self.add_delta(table, 1, 1 if new_exp else 0)
            if self.created is None:
                self.created = [mkey]
            else:
                self.created.append(mkey)
            if new_exp:
                self.put(TTL, L.ttl_key(mkey, new_exp), b"")
        else:
            old_exp = L.expire_of(old_raw)
            if old_exp != new_exp:
                if old_exp:
                    self.delete(TTL, L.ttl_key(mkey, old_exp))
                if new_exp:
                    self.put(TTL, L.ttl_key(mkey, new_exp), b"")
                if bool(old_exp) != bool(new_exp):
                    self.add_delta(table, 0, 1 if new_exp else -1)
            if old_raw[0] != L.T_STRING and (
                new_raw[0] == L.T_STRING or L.version_of(new_raw) != L.version_of(old_raw)
            ):
                self.drop_data(mkey, old_raw)
        self.touched.append(mkey)

    def delete_key(self, mkey: bytes, old_raw: bytes) -> None:
        """Delete a key of any type: its meta, ttl entry and (O(1)) all its sub-keys."""
        self.delete(META, mkey)
        exp = L.expire_of(old_raw)
        if exp:
            self.delete(TTL, L.ttl_key(mkey, exp))
        self.add_delta((mkey[0] << 8) | mkey[1], -1, -1 if exp else 0)
        if old_raw[0] != L.T_STRING:
            self.drop_data(mkey, old_raw)
        self.touched.append(mkey)

    def drop_data(self, mkey: bytes, old_raw: bytes) -> None:
        """Range-delete every sub-key of the version in ``old_raw`` (one tombstone each cf)."""
        pfx = L.version_prefix(mkey, L.version_of(old_raw))
        end = L.prefix_end(pfx)
        self.delete_range(DATA, pfx, end)
        if old_raw[0] in L.USES_ZSCORE:
            self.delete_range(ZSCORE, pfx, end)

    def touch(self, mkey: bytes) -> None:
        """Mark a key changed when only its sub-keys were written."""
        self.touched.append(mkey)
