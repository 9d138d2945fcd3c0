"""The chunked string encoding on a real RocksDB: the chunk format, sparse chunks, the
inline <-> chunked transitions both ways, O(1) deletes, and the bit functions over both
encodings (see the tables in storage/strings.py and storage/bitmaps.py)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from pikadb.core.clock import now_ms
from pikadb.storage import bitmaps, generic, strings
from pikadb.storage import layout as L
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database
from pikadb.storage.store import Store

C = strings.CHUNK_SIZE
T = strings.INLINE_MAX


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "db"), databases=2)
    yield s
    s.close()


@pytest.fixture
def db(store: Store) -> Database:
    return store.databases[0]


def chunks_of(db: Database, key: bytes) -> dict[int, bytes]:
    """index -> stored bytes of the key's current chunks."""
    mkey, raw = db.lookup(key)
    assert raw is not None and raw[0] == L.T_STRING_CHUNKED
    pfx = L.version_prefix(mkey, L.version_of(raw))
    return {
        struct.unpack(">I", k[len(pfx) :])[0]: v
        for k, v in db.engine.scan(DATA, pfx, L.prefix_end(pfx))
    }


def all_data(db: Database) -> list[bytes]:
    return [k for k, _ in db.engine.scan(DATA, b"", b"\xff" * 8)]


def put(db: Database, key: bytes, value: bytes, expire_at: int = 0) -> None:
    mkey, raw = db.lookup(key)
    strings.write(db, mkey, raw, value, expire_at)


def get(db: Database, key: bytes) -> bytes | None:
    return strings.get(db, key)


# --- the format -------------------------------------------------------------------------------
def test_threshold_picks_the_encoding(db: Database) -> None:
    put(db, b"small", b"x" * T)
    put(db, b"big", b"x" * (T + 1))
    assert db.lookup(b"small")[1] == L.encode_string(b"x" * T)
    raw = db.lookup(b"big")[1]
    assert raw is not None and raw[0] == L.T_STRING_CHUNKED and len(raw) == 25
    assert L.TYPE_NAMES[raw[0]] == b"string" and L.TYPE_CODES[b"string"] == L.T_STRING
    assert get(db, b"small") == b"x" * T and get(db, b"big") == b"x" * (T + 1)


def test_chunk_format_round_trip(db: Database) -> None:
    value = bytes(range(256)) * ((3 * C) // 256) + b"\x07" + bytes(2 * C) + b"\x09"
    put(db, b"k", value, expire_at=now_ms() + 100_000)
    mkey, raw = db.lookup(b"k")
    assert raw is not None
    typ, exp, version, length = struct.unpack(">BQQQ", raw)
    assert (typ, length) == (L.T_STRING_CHUNKED, len(value)) and exp > now_ms()
    assert strings.decode_chunked(raw) == (exp, version, length)
    stored = chunks_of(db, b"k")
    # chunk i = value[i*C:(i+1)*C] with trailing zeros stripped; all-zero chunks absent
    expect = {
        i // C: value[i : i + C].rstrip(b"\x00")
        for i in range(0, len(value), C)
        if value[i : i + C].strip(b"\x00")
    }
    assert stored == expect
    assert 4 not in stored  # the all-zero chunk
    assert stored[3] == b"\x07"  # trailing zeros stripped
    assert strings.value(db, mkey, raw) == value
    assert strings.length(raw) == len(value)
    assert strings.read_range(db, mkey, raw, 3 * C - 2, 3 * C + 5) == value[3 * C - 2 : 3 * C + 5]
    assert strings.read_range(db, mkey, raw, len(value) - 3, len(value) + 50) == value[-3:]
    assert b"".join(strings.pieces(db, mkey, raw, 5, 4 * C + 9)) == value[5 : 4 * C + 9]


def test_inline_reader_refuses_chunked_records(db: Database) -> None:
    put(db, b"big", b"y" * (T + 5))
    raw = db.lookup(b"big")[1]
    with pytest.raises(ValueError):
        strings.read(raw)
    assert strings.read_lenient(raw) is None  # inline-only, like before
    assert strings.value_lenient(db, *db.lookup(b"big")) == b"y" * (T + 5)


def test_sparse_bitmap_at_the_last_offset_stores_one_chunk(db: Database) -> None:
    offset = 2**32 - 1
    assert bitmaps.setbit(db, b"bm", offset, 1) == (0, True)
    mkey, raw = db.lookup(b"bm")
    assert raw is not None and strings.length(raw) == 2**29
    stored = chunks_of(db, b"bm")
    assert list(stored) == [(2**29 - 1) // C]
    assert stored[(2**29 - 1) // C] == bytes(C - 1) + b"\x01"
    assert bitmaps.getbit(db, b"bm", offset) == 1
    assert bitmaps.getbit(db, b"bm", offset - 1) == 0
    assert bitmaps.count_bits(db, mkey, raw, 0, 2**32 - 1) == 1
    assert bitmaps.find_bit(db, mkey, raw, 1, 0, 2**32 - 1) == offset
    assert bitmaps.find_bit(db, mkey, raw, 0, 0, 2**32 - 1) == 0
    assert bitmaps.find_bit(db, mkey, raw, 0, offset, offset) is None
    # a second bit in another chunk adds exactly one chunk
    bitmaps.setbit(db, b"bm", 100 * C * 8, 1)
    assert len(chunks_of(db, b"bm")) == 2
    # clearing a bit that empties its chunk removes the chunk
    assert bitmaps.setbit(db, b"bm", 100 * C * 8, 0) == (1, True)
    assert bitmaps.setbit(db, b"bm", 100 * C * 8, 0) == (0, False)
    assert len(chunks_of(db, b"bm")) == 1


# --- transitions --------------------------------------------------------------------------
def test_inline_to_chunked_by_editing_keeps_ttl(db: Database) -> None:
    at = now_ms() + 100_000
    put(db, b"k", b"abc", expire_at=at)
    mkey, raw = db.lookup(b"k")
    ed = strings.Editor(db, mkey, raw)
    ed.write(T, b"Z")  # one byte past the inline limit
    ed.commit()
    mkey, raw = db.lookup(b"k")
    assert raw is not None and raw[0] == L.T_STRING_CHUNKED and L.expire_of(raw) == at
    assert strings.value(db, mkey, raw) == b"abc" + bytes(T - 3) + b"Z"
    assert set(chunks_of(db, b"k")) == {0, T // C}  # the zero chunks in between are absent
    assert db.expires() == 1 and db.size() == 1


def test_editing_a_chunked_value_rewrites_only_touched_chunks(db: Database) -> None:
    value = b"\x11" * (5 * C)
    put(db, b"k", value)
    before = chunks_of(db, b"k")
    mkey, raw = db.lookup(b"k")
    ed = strings.Editor(db, mkey, raw)
    ed.write(2 * C + 3, b"\xff\xff")
    store = db.store
    b = store.batch()
    new_raw = ed.stage(b)
    data_puts = [op for op in b.ops if op[1] == DATA]
    assert len(data_puts) == 1 and data_puts[0][2].endswith(struct.pack(">I", 2))
    store.commit(b)
    assert L.version_of(new_raw) == L.version_of(raw)  # same version: nothing dropped
    after = chunks_of(db, b"k")
    assert {i: v for i, v in after.items() if i != 2} == {i: v for i, v in before.items() if i != 2}
    assert get(db, b"k") == value[: 2 * C + 3] + b"\xff\xff" + value[2 * C + 5 :]


def test_chunked_to_inline_by_overwrite_drops_chunks(db: Database) -> None:
    put(db, b"k", b"q" * (3 * C + T))
    assert len(all_data(db)) > 0
    put(db, b"k", b"short")
    assert db.lookup(b"k")[1] == L.encode_string(b"short")
    assert all_data(db) == []
    # and back: chunked again under a new version
    mkey, raw = db.lookup(b"k")
    strings.update(db, mkey, raw, b"r" * (T + 1))
    assert get(db, b"k") == b"r" * (T + 1)
    put(db, b"k", b"s" * (T + 2))  # chunked -> chunked: the old version's chunks go
    assert set(chunks_of(db, b"k")) == {0, 1, 2, 3, 4}
    assert len(all_data(db)) == 5


def test_delete_drops_chunks_and_counts(db: Database) -> None:
    bitmaps.setbit(db, b"a", 8 * (T + 7 * C), 1)
    put(db, b"b", b"z" * (T + 1), expire_at=now_ms() + 100_000)
    assert db.size() == 2 and db.expires() == 1
    assert generic.delete_keys(db, [b"a", b"b"]) == 2
    assert all_data(db) == [] and db.size() == 0 and db.expires() == 0


def test_expired_chunked_key_is_hidden_and_dropped(db: Database) -> None:
    put(db, b"k", b"e" * (T + 1), expire_at=now_ms() + 5)
    import time

    time.sleep(0.02)
    assert db.lookup(b"k")[1] is None  # lazily deleted through the commit path
    assert all_data(db) == []


# --- other writers and readers --------------------------------------------------------------
def test_mset_and_copy_rename_dump_of_chunked_values(store: Store, db: Database) -> None:
    big = bytes(range(256)) * 80  # 20480 bytes
    strings.write_many(db, [(*db.lookup(b"a"), big), (*db.lookup(b"s"), b"tiny")])
    assert get(db, b"a") == big and get(db, b"s") == b"tiny"
    assert generic.copy(db, store.databases[1], b"a", b"c", False) == 1
    assert generic.rename(db, b"a", b"r", False) == 1
    assert get(db, b"r") == big and get(db, b"a") is None
    assert strings.get(store.databases[1], b"c") == big
    mkey, raw = db.lookup(b"r")
    assert raw is not None
    payload = generic.to_rdb(db, mkey, raw)
    assert payload.kind == "string" and payload.value == big
    assert generic.restore(db, b"x", payload, 0, False)
    raw_x = db.lookup(b"x")[1]
    assert raw_x is not None and raw_x[0] == L.T_STRING_CHUNKED and get(db, b"x") == big


def test_scan_type_and_range_scan_see_both_encodings(db: Database) -> None:
    put(db, b"small", b"1")
    put(db, b"big", b"2" * (T + 1))
    cursor, found = generic.scan(db, 0, 100, None, b"string")
    assert cursor == 0 and sorted(found) == [b"big", b"small"]
    res = generic.range_scan(db, L.T_STRING, None, None, None, 10)
    assert [k for k, _ in res.items] == [b"big", b"small"]
    assert generic.keys(db, b"*", L.T_STRING) == [k for k, _ in generic.iter_matching(db, b"*")]


# --- bit functions over both encodings ---------------------------------------------------------
@pytest.mark.parametrize("size", [5, T, T + 1, 3 * C + T + 17])
def test_count_and_find_agree_with_a_model(db: Database, size: int) -> None:
    import random

    rng = random.Random(size)
    model = bytearray(size)
    for _ in range(40):
        model[rng.randrange(size)] = rng.randrange(256)
    model[-1] = 0xFF
    put(db, b"k", bytes(model))
    mkey, raw = db.lookup(b"k")
    assert raw is not None
    bits = "".join(f"{b:08b}" for b in model)
    for _ in range(60):
        lo = rng.randrange(len(bits))
        hi = rng.randrange(lo, len(bits))
        assert bitmaps.count_bits(db, mkey, raw, lo, hi) == bits[lo : hi + 1].count("1")
        for bit in (0, 1):
            i = bits.find(str(bit), lo, hi + 1)
            assert bitmaps.find_bit(db, mkey, raw, bit, lo, hi) == (None if i < 0 else i)


def test_bitop_merges_chunks_and_deletes_an_empty_result(db: Database) -> None:
    bitmaps.setbit(db, b"a", 8 * (T + 2 * C), 1)
    bitmaps.setbit(db, b"a", 3, 1)
    bitmaps.setbit(db, b"b", 3, 1)
    assert bitmaps.bitop(db, bitmaps.AND, b"d", [b"a", b"b"]) == T + 2 * C + 1
    assert set(chunks_of(db, b"d")) == {0}  # only the non-zero output chunk is written
    assert bitmaps.bitop(db, bitmaps.OR, b"d", [b"a", b"b", b"missing"]) == T + 2 * C + 1
    assert set(chunks_of(db, b"d")) == {0, (T + 2 * C) // C}
    assert bitmaps.bitop(db, bitmaps.NOT, b"n", [b"b"]) == 1
    assert get(db, b"n") == b"\xef"
    assert bitmaps.bitop(db, bitmaps.XOR, b"d", [b"missing", b"nothing"]) == 0
    assert db.lookup(b"d")[1] is None
    assert len(all_data(db)) == 2  # a's two chunks; d's are gone


def test_bitfield_wraps_and_saturates_like_redis(db: Database) -> None:
    FieldOp = bitmaps.FieldOp
    ops = [
        FieldOp(bitmaps.OP_SET, False, 8, 8 * (T - 1) + 4, 255),  # straddles the threshold
        FieldOp(bitmaps.OP_GET, False, 8, 8 * (T - 1) + 4),
        FieldOp(bitmaps.OP_INCRBY, True, 8, 0, 200, bitmaps.WRAP),
        FieldOp(bitmaps.OP_INCRBY, True, 8, 0, 200, bitmaps.SAT),
        FieldOp(bitmaps.OP_INCRBY, False, 4, 100, 100, bitmaps.FAIL),
        # Redis quirk: SET i57 INT64_MIN counts as an overflow *up* (maxincr wraps)
        FieldOp(bitmaps.OP_SET, True, 57, 200, -(2**63), bitmaps.SAT),
        FieldOp(bitmaps.OP_GET, True, 57, 200),
    ]
    assert bitmaps.bitfield(db, b"f", ops, readonly=False) == (
        [0, 255, -56, 127, None, 0, 2**56 - 1], True,
    )  # fmt: skip
    raw = db.lookup(b"f")[1]
    assert raw is not None and raw[0] == L.T_STRING_CHUNKED
    assert strings.length(raw) == T + 1
    assert bitmaps.bitfield(db, b"f", [ops[1]], readonly=True) == ([255], False)
    assert bitmaps.bitfield(db, b"f", [ops[0]], readonly=False) == ([255], False)
