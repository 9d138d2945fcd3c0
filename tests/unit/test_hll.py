"""HyperLogLog algorithm on bytes (pikadb.storage.hyperloglog / hll_registers): MurmurHash64A
vectors, register packing, sparse edits against a register model, the fast (C-speed) paths
against the exact slow ones, corruption handling, and values produced by Redis 7.0."""

from __future__ import annotations

import random

import pytest

from pikadb.storage import hll_registers as R
from pikadb.storage import hyperloglog as H

# MurmurHash64A(key, len, 0xadc83b19), computed with Redis's C function (gcc, x86-64).
MURMUR_VECTORS = [
    (b"", 0xD8DFEA6585BC9732),
    (b"a", 0x53D2470A9B43B1A7),
    (b"ab", 0x0EAED676437142CF),
    (b"abc", 0x77EC90AEB374E502),
    (b"hello", 0x0F656F01EECFE400),
    (b"1234567", 0x85563DB163632857),
    (b"12345678", 0x95EBB86389132953),
    (b"123456789", 0x217532CB09F2A44D),
    (b"The quick brown fox jumps over the lazy dog", 0x51606C5C5B561ACE),
    (b"\xff\x00\x80\x7f", 0x3FCEE30C6F3723AD),
    (bytes((i * 7 + 3) & 0xFF for i in range(100)), 0xBED2B45D73076DEA),
]
# What redis-server 7.0.15 stores after PFADD k a b c (then after PFCOUNT k).
REDIS_ABC = bytes.fromhex("48594c4c01000000000000000000008060f38050b1844bfb80425a")
REDIS_ABC_COUNTED = bytes.fromhex("48594c4c01000000030000000000000060f38050b1844bfb80425a")
REDIS_EMPTY = bytes.fromhex("48594c4c0100000000000000000000807fff")


@pytest.mark.parametrize(("data", "expected"), MURMUR_VECTORS)
def test_murmurhash64a_matches_redis(data: bytes, expected: int) -> None:
    assert H.murmurhash64a(data) == expected


def test_murmurhash64a_other_seed() -> None:
    assert H.murmurhash64a(b"hello", 0) == 0x1E68D17C457BF117


def test_pat_len_range() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        index, count = H.pat_len(rng.randbytes(rng.randint(0, 40)))
        assert 0 <= index < H.REGISTERS
        assert 1 <= count <= H.HLL_Q + 1


def test_values_redis_produced() -> None:
    reply, value = H.pfadd(None, [b"a", b"b", b"c"], 3000)
    assert (reply, value) == (1, REDIS_ABC)
    assert H.pfadd(None, [], 3000) == (1, REDIS_EMPTY)
    assert H.pfadd(REDIS_ABC, [b"a", b"c"], 3000) == (0, None)
    assert H.pfcount(REDIS_ABC) == (3, REDIS_ABC_COUNTED)
    assert H.pfcount(REDIS_ABC_COUNTED) == (3, None)  # the cached value is used
    assert H.decode_sparse(REDIS_ABC) == b"Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
    assert H.count(REDIS_EMPTY) == 0


def test_is_hll() -> None:
    dense = H.to_dense(REDIS_ABC)
    assert H.is_hll(REDIS_ABC) and H.is_hll(dense) and H.is_hll(REDIS_ABC + b"junk")
    assert not H.is_hll(dense + b"x")  # dense: exact length only
    assert not H.is_hll(b"HYLL\x02" + REDIS_ABC[5:])  # unknown encoding
    assert not H.is_hll(b"HYLX" + REDIS_ABC[4:])
    assert not H.is_hll(REDIS_ABC[:15])


# --- dense registers ------------------------------------------------------------------------
def _random_registers(rng: random.Random, top: int = 63) -> bytes:
    return bytes(rng.randint(0, top) for _ in range(H.REGISTERS))


def test_dense_register_packing_round_trip() -> None:
    rng = random.Random(2)
    for top in (63, 5, 32):
        regs = _random_registers(rng, top)
        dense = bytearray(H.EMPTY_SPARSE[:16]) + bytearray(H.DENSE_BYTES)
        dense[4] = H.DENSE
        for i, v in enumerate(regs):
            H._dense_set(dense, i, v)
        assert H.raw_to_dense_registers(regs) == dense[16:]
        assert H.dense_to_raw(bytes(dense)) == regs
        assert all(H.dense_get(dense, i) == v for i, v in enumerate(regs))
        d = int.from_bytes(dense[16:], "little")
        assert R.spread(d) == int.from_bytes(regs, "little")
        assert R.pack(R.spread(d)) == d
        assert sorted(R.dense_parts(bytes(dense[16:]))) == sorted(regs)


def test_histogram() -> None:
    rng = random.Random(3)
    geometric = bytes(
        min(63, int(rng.expovariate(0.7)) + rng.choice([0, 0, 5, 9])) for _ in range(H.REGISTERS)
    )
    for regs in (
        _random_registers(rng, 40),
        geometric,
        bytes(H.REGISTERS),
        b"\x3f" * H.REGISTERS,
        bytes([7]) * 16000 + bytes(range(64)) * 6,  # values the sample misses
    ):
        assert R.histogram(regs) == [regs.count(v) for v in range(64)]


def test_max8() -> None:
    rng = random.Random(4)
    a, b = _random_registers(rng), _random_registers(rng)
    got = R.max8(int.from_bytes(a, "little"), int.from_bytes(b, "little"))
    assert got.to_bytes(H.REGISTERS, "little") == bytes(map(max, a, b))


def test_estimate_edges() -> None:
    assert R.estimate([H.REGISTERS] + [0] * 63) == 0
    one = [H.REGISTERS - 1, 1] + [0] * 62
    assert R.estimate(one) == 1
    # crafted dense registers (all 51, or all above 51): Redis's llroundl overflows and
    # PFCOUNT replies LLONG_MIN (checked against redis-server 7.0.15)
    full = [0] * 64
    full[51] = H.REGISTERS
    assert R.estimate(full) == 1 << 63
    assert R.signed(R.estimate(full)) == -(1 << 63)
    high = [0] * 64
    high[63] = H.REGISTERS
    assert R.estimate(high) == 1 << 63


# --- sparse edits against a model -----------------------------------------------------------
def _model_check(h: H.Hll, model: bytearray) -> None:
    value = h.value()
    if value[4] == H.SPARSE:
        assert H.sparse_to_raw(value) == model
        assert len(value) <= h.max_bytes
    else:
        assert H.dense_to_raw(value) == model
    assert H.count(value) == H.count_raw(model)


@pytest.mark.parametrize("max_bytes", [3000, 200, 20000])
def test_sparse_set_matches_model(max_bytes: int) -> None:
    rng = random.Random(max_bytes)
    h = H.Hll.new(max_bytes)
    model = bytearray(H.REGISTERS)
    # clustered indexes exercise VAL splits and merges; counts above 32 force promotion
    for step in range(3000):
        if rng.random() < 0.5:
            index = rng.randrange(H.REGISTERS)
        else:
            index = rng.choice([0, 1, 2, 3, 100, 101, 102, 5000, 16383, 16382])
        count = rng.choice([1, 1, 2, 3, 5, 20, 32]) if step < 2900 else rng.randint(1, 51)
        expect = int(count > model[index])
        got = h.dense_set(index, count) if h.is_dense else h.sparse_set(index, count)
        assert got == expect
        model[index] = max(model[index], count)
        if step % 50 == 0:
            _model_check(h, model)
    _model_check(h, model)


def _scan(h: H.Hll, index: int) -> tuple[int, int, int, int, int] | None:
    return h._scan(index, H.HDR, 0, -1, h.n)


def test_fast_locate_agrees_with_scan() -> None:
    rng = random.Random(5)
    for density in (30, 200, 700, 1500):
        h = H.Hll.new(20000)
        for _ in range(density):
            h.sparse_set(rng.randrange(H.REGISTERS), rng.choice([1, 1, 2, 7, 32]))
        for index in [*range(0, 40), *rng.sample(range(H.REGISTERS), 120), 16383]:
            assert h._locate_fast(index) == _scan(h, index), (density, index)


def test_sparse_histogram_paths_agree() -> None:
    rng = random.Random(6)
    h = H.Hll.new(20000)
    for n in range(2500):
        h.sparse_set(rng.randrange(H.REGISTERS), rng.choice([1, 2, 3, 9, 32]))
        if n % 250 == 0:
            value = h.value()
            model = H.sparse_to_raw(value)
            hist, covered = H._sparse_histogram(value)
            assert covered == H.REGISTERS
            assert hist == [model.count(v) for v in range(64)]


def test_merge_store_hint_path_matches_plain_sets() -> None:
    """PFMERGE into a sparse key sets registers in index order with a scan hint; the bytes
    must equal plain hllSparseSet calls from the start."""
    rng = random.Random(7)
    for trial in range(8):
        dest = H.Hll.new(3000)
        for _ in range(rng.choice([0, 5, 50, 300])):
            dest.sparse_set(rng.randrange(H.REGISTERS), rng.randint(1, 32))
        src = H.Hll.new(3000)
        for _ in range(rng.choice([1, 40, 400, 1200])):
            src.sparse_set(rng.randrange(H.REGISTERS), rng.randint(1, 32))
        merger = H.Merger()
        merger.add(dest.value())
        merger.add(src.value())
        got = merger.store(dest.value(), 3000)
        plain = H.Hll(dest.value(), 3000)
        regs = merger.registers().to_bytes(H.REGISTERS, "little")
        for i, v in enumerate(regs):
            if v:
                if plain.is_dense:
                    plain.dense_set(i, v)
                else:
                    plain.sparse_set(i, v)
        plain.invalidate()
        assert got == plain.value(), trial


# --- corruption -----------------------------------------------------------------------------
def test_corrupted_sparse_values() -> None:
    hdr = REDIS_ABC[:16]
    short = hdr + b"\x7f\xfe"  # XZERO:16383, one register missing
    with pytest.raises(H.CorruptHll):
        H.count(short)
    with pytest.raises(H.CorruptHll):
        H.Merger().add(short)
    # PFADD can still edit a register found before the end of the bad value
    h = H.Hll(short)
    assert h.sparse_set(5, 3) == 1
    with pytest.raises(H.CorruptHll):
        H.Hll(short).sparse_set(16383, 3)
    # 16384 registers then a trailing VAL: invalid everywhere (the reference redis-server
    # carries the CVE-2025-32023 fix: every opcode is overflow-checked)
    tail = REDIS_EMPTY + b"\x80"
    for bad in (lambda: H.Merger().add(tail), lambda: H.to_dense(tail), lambda: H.count(tail)):
        with pytest.raises(H.CorruptHll):
            bad()
    assert H.Hll(tail).sparse_set(7, 2) == 1  # PFADD still finds register 7
    # a truncated XZERO: the C code reads the NUL terminator as its second byte
    trunc = hdr + b"\x7f\xff" + b"\x40"  # 16384 + 1 registers
    with pytest.raises(H.CorruptHll):
        H.count(trunc)
    assert H.decode_sparse(trunc) == b"Z:16384 Z:1"
    empty_body = hdr
    with pytest.raises(H.CorruptHll):
        H.Hll(empty_body).sparse_set(0, 1)


def test_large_corrupted_bodies_fast_paths_agree() -> None:
    """The C-speed walks (expand, weights) against the exact opcode loop on large bodies."""
    h = H.Hll.new(20000)
    rng = random.Random(9)
    for _ in range(800):
        h.sparse_set(rng.randrange(H.REGISTERS), rng.randint(1, 32))
    good = h.value()
    variants = [good, good + b"\x80", good + b"\x40", good + b"\x00", good[:-1], good[:-7]]
    variants += [good[:16] + b"\x80" * 16384, good[:16] + b"\x80" * 16385]
    variants += [good[:16] + b"\x3f" * 256 + b"\x40\x00" * 10, good[:16] + b"\x7f\xff" * 300]
    for v in variants:
        slow = bytearray(H.REGISTERS)
        ok = H._sparse_into_raw(v, len(v), slow, False)
        if ok:
            assert H.sparse_to_raw(v) == slow
            assert H.count(v) == H.count_raw(slow)
        else:
            with pytest.raises(H.CorruptHll):
                H.sparse_to_raw(v)
            with pytest.raises(H.CorruptHll):
                H.count(v)
        _, covered = H._sparse_histogram(v)
        assert (covered == H.REGISTERS) == ok
        hv = H.Hll(v)
        for index in (0, 1, 5000, 16383):
            if hv.n - H.HDR > 1 and hv._locate_fast(index) is not False:
                assert hv._locate_fast(index) == _scan(hv, index)


def test_pfadd_keeps_partial_changes_on_corruption() -> None:
    short = REDIS_ABC[:16] + b"\x7f\xfe"
    # find an element hashing below 16383 and one hashing to 16383
    low = next(e for e in (b"%d" % i for i in range(10**6)) if H.pat_len(e)[0] < 16383)
    with pytest.raises(H.CorruptHll) as exc:
        H.pfadd(short, [low, *(b"x%d" % i for i in range(100000))], 3000)
    partial = exc.value.args[0]
    assert partial is not None and partial != short


def test_selftest_passes() -> None:
    assert H.selftest(3000, random.Random(8)) is None
