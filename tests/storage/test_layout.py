"""Key layout round trips and orderings (pure functions, plus RocksDB's byte order)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pikadb.core.slots import SLOT_COUNT, key_hash_slot
from pikadb.storage import layout as L
from pikadb.storage.engine import DATA, META, Engine

keys = st.binary(max_size=40)
tables = st.integers(0, 0xFFFE)
ms = st.integers(0, 2**63 - 1)
u64 = st.integers(0, 2**64 - 1)


@given(tables, keys)
def test_meta_key_round_trip(table: int, key: bytes) -> None:
    mkey = L.meta_key(L.table_prefix(table), key)
    assert L.user_key(mkey) == key
    assert L.table_of_key(mkey) == table
    assert L.slot_of_meta_key(mkey) == key_hash_slot(key)
    assert mkey[:2] == table.to_bytes(2, "big")
    lo, hi = L.slot_range(table, key_hash_slot(key))
    assert lo <= mkey < hi
    assert L.table_prefix(table) <= mkey < L.table_end(table)


def test_hashtag_keys_share_a_slot() -> None:
    a = L.meta_key(L.table_prefix(0), b"{user1000}.following")
    b = L.meta_key(L.table_prefix(0), b"{user1000}.followers")
    assert L.slot_of_meta_key(a) == L.slot_of_meta_key(b) == key_hash_slot(b"user1000")
    assert key_hash_slot(b"123456789") == 12739  # the CRC16 check value, mod 16384


@given(st.lists(st.tuples(tables, keys), min_size=2, max_size=20, unique=True))
def test_meta_keys_sort_by_table_slot_key(items: list[tuple[int, bytes]]) -> None:
    mkeys = sorted(L.meta_key(L.table_prefix(t), k) for t, k in items)
    want = sorted(items, key=lambda tk: (tk[0], key_hash_slot(tk[1]), tk[1]))
    assert [(L.table_of_key(m), L.user_key(m)) for m in mkeys] == want


@given(st.integers(0, SLOT_COUNT - 1), tables)
def test_slot_ranges_tile_the_table(slot: int, table: int) -> None:
    lo, hi = L.slot_range(table, slot)
    assert lo == L.table_prefix(table) + slot.to_bytes(2, "big")
    if slot + 1 < SLOT_COUNT:
        assert hi == L.slot_range(table, slot + 1)[0]
    else:
        assert hi == L.table_end(table)


@given(st.binary(max_size=100), ms)
def test_string_meta_value_round_trip(value: bytes, expire_at: int) -> None:
    raw = L.encode_string(value, expire_at)
    assert L.decode_header(raw) == (L.T_STRING, expire_at)
    assert L.expire_of(raw) == expire_at
    assert raw[L.HDR_SIZE :] == value
    assert L.with_expire(raw, 0)[L.HDR_SIZE :] == value
    assert L.expire_of(L.with_expire(raw, 0)) == 0
    assert L.with_expire(L.with_expire(raw, 0), expire_at) == raw


@given(st.sampled_from(sorted(L.TYPE_NAMES)), ms, u64, u64, st.binary(max_size=30))
def test_collection_meta_round_trip(t: int, exp: int, ver: int, size: int, extra: bytes) -> None:
    meta = L.CollectionMeta(t, exp, ver, size, extra)
    raw = meta.encode()
    assert L.CollectionMeta.decode(raw) == meta
    assert L.version_of(raw) == ver
    assert L.expire_of(raw) == exp
    assert L.decode_header(raw) == (t, exp)
    # TYPE names map back to the type's base code (a chunked string is a "string")
    assert L.TYPE_CODES[L.TYPE_NAMES[t]] == L.base_type(t)


@given(tables, keys, u64, st.binary(max_size=20))
def test_version_prefix_layout(table: int, key: bytes, version: int, sub: bytes) -> None:
    mkey = L.meta_key(L.table_prefix(table), key)
    pfx = L.version_prefix(mkey, version)
    assert pfx == mkey[:4] + len(key).to_bytes(4, "big") + key + version.to_bytes(8, "big")
    assert pfx <= pfx + sub < L.prefix_end(pfx)


@given(st.tuples(keys, u64), st.tuples(keys, u64))
def test_version_prefixes_never_nest(a: tuple[bytes, int], b: tuple[bytes, int]) -> None:
    """Sub-keys of one (key, version) can never fall in another's range (keylen is there)."""
    if a == b:
        return
    pa = L.version_prefix(L.meta_key(b"\x00\x00", a[0]), a[1])
    pb = L.version_prefix(L.meta_key(b"\x00\x00", b[0]), b[1])
    assert not pa.startswith(pb) and not pb.startswith(pa)


# prefix_end has no answer for an all-0xff prefix (every longer key is greater); our
# prefixes always start with a table id and a slot < 16384, so they never are all 0xff.
prefixes = st.binary(min_size=1, max_size=12).filter(lambda p: p.strip(b"\xff") != b"")


@given(prefixes, st.binary(max_size=8))
def test_prefix_end_bounds_every_key_with_the_prefix(prefix: bytes, suffix: bytes) -> None:
    end = L.prefix_end(prefix)
    assert prefix < end
    assert prefix + suffix < end


@given(prefixes, st.binary(max_size=14))
def test_prefix_end_is_the_smallest_such_bound(prefix: bytes, other: bytes) -> None:
    end = L.prefix_end(prefix)
    if other.startswith(prefix):
        assert other < end
    elif other > prefix:
        assert other >= end


def test_prefix_end_carries() -> None:
    assert L.prefix_end(b"ab") == b"ac"
    assert L.prefix_end(b"a\xff") == b"b"
    assert L.prefix_end(b"a\xff\xff") == b"b"


@given(tables, keys, ms)
def test_ttl_key_round_trip(table: int, key: bytes, expire_at: int) -> None:
    mkey = L.meta_key(L.table_prefix(table), key)
    tkey = L.ttl_key(mkey, expire_at)
    assert L.decode_ttl_key(tkey) == (mkey, expire_at)
    lo, hi = L.ttl_range(table, expire_at)
    assert lo <= tkey < hi  # due at expire_at
    if expire_at:
        lo, hi = L.ttl_range(table, expire_at - 1)
        assert not lo <= tkey < hi  # not due a millisecond earlier


@given(st.lists(st.tuples(keys, ms), min_size=2, max_size=20))
def test_ttl_keys_sort_by_expire_time(items: list[tuple[bytes, int]]) -> None:
    tkeys = sorted(L.ttl_key(L.meta_key(b"\x00\x05", k), e) for k, e in items)
    assert [L.decode_ttl_key(t)[1] for t in tkeys] == sorted(e for _, e in items)


@given(st.integers(0, 0xFFFF), u64)
def test_binlog_key_round_trip(group: int, seq: int) -> None:
    k = L.binlog_key(group, seq)
    assert len(k) == 10
    assert L.decode_binlog_key(k) == (group, seq)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**64 - 1)), min_size=2))
def test_binlog_keys_sort_by_group_then_seq(items: list[tuple[int, int]]) -> None:
    ks = sorted(L.binlog_key(g, s) for g, s in items)
    assert [L.decode_binlog_key(k) for k in ks] == sorted(items)


@given(st.lists(st.integers(0, 0xFFFF), max_size=32), u64)
def test_sys_values_round_trip(dbmap: list[int], n: int) -> None:
    assert L.decode_dbmap(L.encode_dbmap(dbmap)) == dbmap
    assert L.decode_u64(L.encode_u64(n)) == n
    assert L.counter_key(L.KEYS_COUNTER, 3) == b"keys\x00\x03"


def test_rocksdb_orders_like_python_bytes(tmp_path: Path) -> None:
    """The layout relies on RocksDB's bytewise order equalling Python's bytes order."""
    engine = Engine(str(tmp_path / "db"))
    try:
        pfx = L.version_prefix(L.meta_key(b"\x00\x00", b"k"), 7)
        sub = [pfx + bytes([b]) + tail for b in (0, 1, 0x7F, 0x80, 0xFF) for tail in (b"", b"\0")]
        other = [L.prefix_end(pfx), pfx[:-1], L.version_prefix(L.meta_key(b"\x00\x00", b"k"), 8)]
        engine.apply([(1, DATA, k, b"") for k in sub + other] + [(1, META, b"m", b"")])
        inside = [k for k, _ in engine.scan(DATA, pfx, L.prefix_end(pfx))]
        assert inside == sorted(sub)
        everything = [k for k, _ in engine.scan(DATA, b"")]
        assert everything == sorted(set(sub + other))
        backwards = [k for k, _ in engine.scan(DATA, pfx, L.prefix_end(pfx), reverse=True)]
        assert backwards == sorted(sub, reverse=True)
    finally:
        engine.close()
