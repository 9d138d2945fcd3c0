"""Key layout: how user keys, sub-keys and bookkeeping map onto RocksDB keys and values.

All integers are fixed-width big-endian, so RocksDB's bytewise order is the order we need
(no custom comparator). ``table`` is the physical table (a Redis DB index maps to one; SWAPDB
swaps the mapping). ``slot`` is the Redis Cluster hash slot of the user key.

    +--------+--------------------------------------------------------------+-----------------+
    | cf     | key                                                          | value           |
    +--------+--------------------------------------------------------------+-----------------+
    | meta   | table u16 | slot u16 | user key                              | meta value (*)  |
    | data   | table u16 | slot u16 | keylen u32 | user key | version u64 | sub-key | per type |
    | zscore | table u16 | slot u16 | keylen u32 | user key | version u64 | score(8) | member | ""  |
    | ttl    | table u16 | expire-at ms u64 | slot u16 | user key          | ""              |
    | binlog | group u16 | seq u64                                          | binlog record   |
    | sys    | b"keys" table u16 / b"expires" table u16                     | u64 counter     |
    | sys    | b"dbmap"                                                     | u16 per db      |
    +--------+--------------------------------------------------------------+-----------------+

    (*) meta value:
    +---------+-----------------+-------------------------------------------------------------+
    | type u8 | expire-at ms u64| body                                                        |
    +---------+-----------------+-------------------------------------------------------------+
    | string  | 0 = persistent  | the value bytes (up to strings.INLINE_MAX bytes)            |
    | string  |                 | version u64 | length u64 (type T_STRING_CHUNKED: a larger   |
    | chunked |                 | string, its chunks in the data cf: see storage/strings.py)  |
    | others  |                 | version u64 | size u64 | type-specific fields (see type)    |
    +---------+-----------------+-------------------------------------------------------------+

One table, one slot, and one version of one key each occupy one contiguous key range, so
FLUSHDB, slot migration and dropping a huge collection are ``delete_range`` calls.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pikadb.core.slots import SLOT_COUNT, key_hash_slot

# --- type codes (the first byte of a meta value) ----------------------------------------
T_STRING = 1
T_HASH = 2
T_SET = 3
T_LIST = 4
T_ZSET = 5
T_STREAM = 6
# A string longer than strings.INLINE_MAX: same Redis type ("string"), chunked encoding.
T_STRING_CHUNKED = 7

TYPE_NAMES: dict[int, bytes] = {
    T_STRING: b"string",
    T_HASH: b"hash",
    T_SET: b"set",
    T_LIST: b"list",
    T_ZSET: b"zset",
    T_STREAM: b"stream",
}
TYPE_CODES: dict[bytes, int] = {v: k for k, v in TYPE_NAMES.items()}
# Encodings of one Redis type: TYPE/SCAN TYPE see the name; TYPE_CODES keeps the base code.
TYPE_NAMES[T_STRING_CHUNKED] = b"string"
STRING_TYPES = frozenset({T_STRING, T_STRING_CHUNKED})


def base_type(code: int) -> int:
    """The type code standing for a type's every encoding (T_STRING for a chunked string)."""
    return T_STRING if code == T_STRING_CHUNKED else code


# Types whose sub-keys live in the zscore cf as well as in data.
USES_ZSCORE = frozenset({T_ZSET})

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_HDR = struct.Struct(">BQ")  # type, expire-at
_COLL = struct.Struct(">BQQQ")  # type, expire-at, version, size
HDR_SIZE = _HDR.size
COLL_SIZE = _COLL.size
NO_EXPIRE_HDR = b"\x00" * 8

# 2-byte encodings of every slot and table, so building a key is two concatenations.
SLOT_BYTES: list[bytes] = [_U16.pack(s) for s in range(SLOT_COUNT)]


def table_prefix(table: int) -> bytes:
    return _U16.pack(table)


def table_end(table: int) -> bytes:
    return _U16.pack(table + 1) if table < 0xFFFF else b"\xff\xff\xff"


# --- meta keys ---------------------------------------------------------------------------
def meta_key(table_pfx: bytes, key: bytes) -> bytes:
    return table_pfx + SLOT_BYTES[key_hash_slot(key)] + key


def user_key(mkey: bytes) -> bytes:
    """The user key inside a meta key."""
    return mkey[4:]


def slot_of_meta_key(mkey: bytes) -> int:
    return _U16.unpack_from(mkey, 2)[0]


def table_of_key(k: bytes) -> int:
    return _U16.unpack_from(k, 0)[0]


def slot_range(table: int, slot: int) -> tuple[bytes, bytes]:
    pfx = table_prefix(table)
    end = pfx + SLOT_BYTES[slot + 1] if slot + 1 < SLOT_COUNT else table_end(table)
    return pfx + SLOT_BYTES[slot], end


# --- meta values -------------------------------------------------------------------------
def encode_string(value: bytes, expire_at: int = 0) -> bytes:
    return _HDR.pack(T_STRING, expire_at) + value


def decode_header(raw: bytes) -> tuple[int, int]:
    """(type, expire-at ms) of a meta value."""
    return _HDR.unpack_from(raw)


def expire_of(raw: bytes) -> int:
    return _U64.unpack_from(raw, 1)[0]


def with_expire(raw: bytes, expire_at: int) -> bytes:
    """The same meta value with a new expire-at (0 = persistent)."""
    return raw[:1] + _U64.pack(expire_at) + raw[9:]


@dataclass(slots=True)
class CollectionMeta:
    """Decoded meta of a non-string key. ``extra`` holds the type-specific tail bytes."""

    type: int
    expire_at: int
    version: int
    size: int
    extra: bytes = b""

    def encode(self) -> bytes:
        return _COLL.pack(self.type, self.expire_at, self.version, self.size) + self.extra

    @classmethod
    def decode(cls, raw: bytes) -> CollectionMeta:
        t, exp, ver, size = _COLL.unpack_from(raw)
        return cls(t, exp, ver, size, raw[COLL_SIZE:])


def version_of(raw: bytes) -> int:
    return _U64.unpack_from(raw, 9)[0]


def collection_size(raw: bytes) -> int:
    """The member count of a collection's meta value (0 for strings of either encoding)."""
    return 0 if raw[0] in STRING_TYPES else _U64.unpack_from(raw, 17)[0]


# --- data keys ---------------------------------------------------------------------------
def version_prefix(mkey: bytes, version: int) -> bytes:
    """Prefix of every sub-key of one version of one key: table|slot|keylen|key|version."""
    return mkey[:4] + _U32.pack(len(mkey) - 4) + mkey[4:] + _U64.pack(version)


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix``."""
    p = bytearray(prefix)
    while p:
        if p[-1] != 0xFF:
            p[-1] += 1
            return bytes(p)
        p.pop()
    return b"\xff" * (len(prefix) + 1)


# --- ttl index ---------------------------------------------------------------------------
def ttl_key(mkey: bytes, expire_at: int) -> bytes:
    return mkey[:2] + _U64.pack(expire_at) + mkey[2:]


def decode_ttl_key(tkey: bytes) -> tuple[bytes, int]:
    """(meta key, expire-at) from a ttl index key."""
    return tkey[:2] + tkey[10:], _U64.unpack_from(tkey, 2)[0]


def ttl_range(table: int, upto_ms: int) -> tuple[bytes, bytes]:
    pfx = table_prefix(table)
    return pfx, pfx + _U64.pack(upto_ms + 1)


# --- binlog and sys ----------------------------------------------------------------------
def binlog_key(group: int, seq: int) -> bytes:
    return _U16.pack(group) + _U64.pack(seq)


def decode_binlog_key(k: bytes) -> tuple[int, int]:
    return _U16.unpack_from(k)[0], _U64.unpack_from(k, 2)[0]


def counter_key(name: bytes, table: int) -> bytes:
    return name + _U16.pack(table)


KEYS_COUNTER = b"keys"
EXPIRES_COUNTER = b"expires"
DBMAP_KEY = b"dbmap"


def encode_u64(n: int) -> bytes:
    return _U64.pack(n)


def decode_u64(b: bytes) -> int:
    return _U64.unpack(b)[0]


def encode_dbmap(tables: list[int]) -> bytes:
    return b"".join(_U16.pack(t) for t in tables)


def decode_dbmap(raw: bytes) -> list[int]:
    return [_U16.unpack_from(raw, i)[0] for i in range(0, len(raw), 2)]
