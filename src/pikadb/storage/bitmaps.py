"""Bit operations on strings (Redis ``bitops.c``), over either string encoding.

Bitmaps are plain strings (see :mod:`pikadb.storage.strings` for the inline / chunked
layout). Bit ``n`` is bit ``7 - n % 8`` of byte ``n // 8`` (the most significant bit of the
first byte is bit 0), as in Redis. Every function here reads only the chunks its range
needs: a missing chunk is zeros, so counting or searching a sparse 512 MB bitmap costs its
stored chunks, and a write touches one chunk.

    +-----------+---------------------------------------------------------------------+
    | function  | reads / writes                                                      |
    +-----------+---------------------------------------------------------------------+
    | getbit    | one byte (inline slice or one chunk point read)                     |
    | setbit    | one byte; one chunk rewritten (inline: the value)                   |
    | count_bits| the stored chunks of the range (zeros are not visited)              |
    | find_bit  | bit 1: stored chunks in order; bit 0: up to the first zero byte     |
    | bitop     | the sources' stored chunks, merged in chunk order; one commit       |
    | bitfield  | <= 9 bytes per operation; one commit for all of them                |
    +-----------+---------------------------------------------------------------------+

Storage functions take already-parsed arguments and return Python values; RESP and argument
errors belong to :mod:`pikadb.commands.bitmaps`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from pikadb.storage import strings
from pikadb.storage.keyspace import Database

T_STRING = strings.T_STRING
CHUNK = strings.CHUNK_SIZE


# --- single bits ---------------------------------------------------------------------------
def getbit(db: Database, key: bytes, offset: int) -> int:
    mkey, raw = db.lookup(key)
    if raw is None:
        return 0
    byte = offset >> 3
    if raw[0] == T_STRING:
        if byte >= len(raw) - 9:
            return 0
        return (raw[9 + byte] >> (7 - (offset & 7))) & 1
    strings.check(raw)
    b = strings.read_range(db, mkey, raw, byte, byte + 1)
    return (b[0] >> (7 - (offset & 7))) & 1 if b else 0


def setbit(db: Database, key: bytes, offset: int, on: int) -> tuple[int, bool]:
    """Set or clear one bit (growing the string with zeros): (the previous bit, whether the
    value changed). An unchanged value is not written (Redis 7.0.15 signals nothing)."""
    mkey, raw = db.lookup(key)
    strings.check(raw)
    byte = offset >> 3
    shift = 7 - (offset & 7)
    if byte < strings.INLINE_MAX and (raw is None or raw[0] == T_STRING):
        old = raw[9:] if raw is not None else b""
        cur = old[byte] if byte < len(old) else 0
        new_byte = (cur & ~(1 << shift)) | (on << shift)
        if byte < len(old):
            if new_byte == cur:
                return on, False
            new = old[:byte] + bytes((new_byte,)) + old[byte + 1 :]
        else:
            new = old + bytes(byte - len(old)) + bytes((new_byte,))
        strings.update(db, mkey, raw, new)
        return (cur >> shift) & 1, True
    ed = strings.Editor(db, mkey, raw)
    cur = ed.read(byte, 1)[0]
    ed.write(byte, bytes(((cur & ~(1 << shift)) | (on << shift),)))
    if ed.changed:
        ed.commit()
    return (cur >> shift) & 1, ed.changed


# --- counting and searching ----------------------------------------------------------------
def count_bits(db: Database, mkey: bytes, raw: bytes, lo: int, hi: int) -> int:
    """Set bits in the bit range [lo, hi] (inclusive; 0 <= lo, hi < 8 * length)."""
    if lo > hi:
        return 0
    first, last = lo >> 3, hi >> 3
    total = 0
    first_byte = last_byte = 0
    for off, data in strings.sparse(db, mkey, raw, first, last + 1):
        total += int.from_bytes(data, "big").bit_count()
        if off == first:
            first_byte = data[0]
        if off + len(data) - 1 == last:
            last_byte = data[-1]
    head = first_byte & (~((1 << (8 - (lo & 7))) - 1) & 0xFF)  # bits before lo
    tail = last_byte & ((1 << (7 - (hi & 7))) - 1)  # bits after hi
    return total - head.bit_count() - tail.bit_count()


def find_bit(db: Database, mkey: bytes, raw: bytes, bit: int, lo: int, hi: int) -> int | None:
    """The first position in the bit range [lo, hi] (inclusive, within the value) holding
    ``bit``, or None."""
    if lo > hi:
        return None
    first, last = lo >> 3, hi >> 3
    if bit:
        it: Iterator[tuple[int, bytes]] = strings.sparse(db, mkey, raw, first, last + 1)
    else:
        it = _dense(db, mkey, raw, first, last + 1)
    for off, data in it:
        nbits = len(data) * 8
        x = int.from_bytes(data, "big")
        if not bit:
            x ^= (1 << nbits) - 1
        base = off * 8
        if base < lo:  # clear the bits before lo (the high bits of x)
            x &= (1 << (nbits - (lo - base))) - 1
        over = base + nbits - 1 - hi
        if over > 0:  # clear the bits after hi (the low bits of x)
            x = (x >> over) << over
        if x:
            return base + nbits - x.bit_length()
    return None


def _dense(
    db: Database, mkey: bytes, raw: bytes, start: int, end: int
) -> Iterator[tuple[int, bytes]]:
    pos = start
    for piece in strings.pieces(db, mkey, raw, start, end):
        yield pos, piece
        pos += len(piece)


# --- BITOP ---------------------------------------------------------------------------------
AND, OR, XOR, NOT = range(4)


def _chunks_of(db: Database, mkey: bytes, raw: bytes) -> Iterator[tuple[int, bytes]]:
    """(chunk index, bytes from the chunk's start) of a source's possibly non-zero chunks."""
    for off, data in strings.sparse(db, mkey, raw):
        pos, end = off, off + len(data)
        while pos < end:  # an inline value is one piece: cut it at chunk boundaries
            step = min(end - pos, CHUNK - pos % CHUNK)
            yield pos // CHUNK, data[pos - off : pos - off + step]
            pos += step


def _combine(op: int, parts: list[bytes], span: int) -> bytes:
    """One output chunk of ``span`` bytes from the sources' chunks (short ones zero-padded)."""
    acc = int.from_bytes(parts[0].ljust(span, b"\x00"), "big")
    if op == NOT:
        return (acc ^ ((1 << (span * 8)) - 1)).to_bytes(span, "big")
    for p in parts[1:]:
        x = int.from_bytes(p.ljust(span, b"\x00"), "big")
        if op == AND:
            acc &= x
        elif op == OR:
            acc |= x
        else:
            acc ^= x
    return acc.to_bytes(span, "big")


def bitop(db: Database, op: int, dest: bytes, keys: list[bytes]) -> int:
    """BITOP: store op(keys) at ``dest`` (deleted when every source is empty); returns the
    result length. Sources are merged chunk by chunk in chunk order, and all-zero output
    chunks are never written (a missing key is an all-zero source)."""
    sources: list[tuple[bytes, bytes]] = []
    maxlen = 0
    for k in keys:
        mkey, raw = db.lookup(k)
        if raw is None:
            continue
        strings.check(raw)
        sources.append((mkey, raw))
        maxlen = max(maxlen, strings.length(raw))
    dmkey, draw = db.lookup(dest)
    store = db.store
    b = store.batch()
    if maxlen == 0:
        if draw is None:
            return 0
        b.delete_key(dmkey, draw)
        store.commit(b)
        return 0
    out: list[tuple[int, bytes]] = []  # (chunk index, bytes) of the non-zero output chunks
    if op == NOT:  # one source: every chunk is written (its zeros become ones)
        it = _chunks_of(db, *sources[0])
        nxt = next(it, None)
        for idx in range((maxlen + CHUNK - 1) // CHUNK):
            part = b""
            if nxt is not None and nxt[0] == idx:
                part = nxt[1]
                nxt = next(it, None)
            out.append((idx, _combine(NOT, [part], min(CHUNK, maxlen - idx * CHUNK))))
    else:
        every = len(sources) == len(keys)  # AND is zero where any source is
        iters = [_chunks_of(db, m, r) for m, r in sources]
        cur = -1
        group: list[bytes] = []
        merged = heapq.merge(*iters, key=lambda t: t[0])
        for idx, data in itertools.chain(merged, [(-1, b"")]):
            if idx != cur:
                if group and (op != AND or (every and len(group) == len(keys))):
                    res = _combine(op, group, min(CHUNK, maxlen - cur * CHUNK))
                    if res.strip(b"\x00"):
                        out.append((cur, res))
                cur, group = idx, []
            group.append(data)
    if maxlen <= strings.INLINE_MAX:
        value = bytearray(maxlen)
        for idx, res in out:
            value[idx * CHUNK : idx * CHUNK + len(res)] = res
        strings.stage(b, db, dmkey, draw, bytes(value))
    else:
        strings.stage_chunks(b, db, dmkey, draw, maxlen, out)
    store.commit(b)
    return maxlen


# --- BITFIELD ------------------------------------------------------------------------------
OP_GET, OP_SET, OP_INCRBY = range(3)
WRAP, SAT, FAIL = range(3)
_U64 = (1 << 64) - 1
_INT64_MAX = (1 << 63) - 1


@dataclass(slots=True)
class FieldOp:
    opcode: int
    signed: bool
    bits: int
    offset: int
    value: int = 0  # SET value / INCRBY increment (int64)
    overflow: int = WRAP


def _get_field(window: bytes, shift_bits: int, bits: int, signed: bool) -> int:
    """The ``bits``-wide field starting ``shift_bits`` into ``window``."""
    x = int.from_bytes(window, "big")
    v = (x >> (len(window) * 8 - shift_bits - bits)) & ((1 << bits) - 1)
    if signed and v >> (bits - 1):
        v -= 1 << bits
    return v


def _set_field(window: bytes, shift_bits: int, bits: int, v: int) -> bytes:
    n = len(window) * 8
    x = int.from_bytes(window, "big")
    mask = ((1 << bits) - 1) << (n - shift_bits - bits)
    x = (x & ~mask) | ((v << (n - shift_bits - bits)) & mask)
    return x.to_bytes(len(window), "big")


def _overflow_unsigned(value: int, incr: int, bits: int, owtype: int) -> tuple[int, int]:
    """checkUnsignedBitfieldOverflow: (0 | 1 | -1, limited value). ``value`` is uint64."""
    top = (1 << bits) - 1
    if value > top or (incr > 0 and value + incr > top):
        return 1, ((value + incr) & top if owtype == WRAP else top)
    if incr < 0 and value + incr < 0:
        return -1, ((value + incr) & top if owtype == WRAP else 0)
    return 0, value + incr


def _i64(x: int) -> int:
    """``x`` as a C int64 (two's complement wrap)."""
    return ((x + (1 << 63)) & _U64) - (1 << 63)


def _overflow_signed(value: int, incr: int, bits: int, owtype: int) -> tuple[int, int]:
    """checkSignedBitfieldOverflow, C arithmetic included: (0 | 1 | -1, limited value).

    ``maxincr`` wraps for very negative values, so Redis reports (and SATurates) such a
    SET as an overflow towards the maximum: e.g. SET i57 with INT64_MIN gives 2**56-1."""
    top = _INT64_MAX if bits == 64 else (1 << (bits - 1)) - 1
    low = -top - 1
    maxincr = _i64(top - value)
    minincr = _i64(low - value)
    if (
        value > top
        or (bits != 64 and incr > maxincr)
        or (value >= 0 and incr > 0 and incr > maxincr)
    ):
        ov, limit = 1, top
    elif (
        value < low
        or (bits != 64 and incr < minincr)
        or (value < 0 and incr < 0 and incr < minincr)
    ):
        ov, limit = -1, low
    else:
        return 0, value + incr
    if owtype == WRAP:
        c = (value + incr) & ((1 << bits) - 1)  # sign-extend from bit bits-1
        limit = c - (1 << bits) if c >> (bits - 1) else c
    return ov, limit


def bitfield(
    db: Database, key: bytes, ops: list[FieldOp], readonly: bool
) -> tuple[list[int | None], bool]:
    """Run BITFIELD operations in order; a read-only list (GETs only) writes nothing.
    Returns the replies (GET the value, SET the old value, INCRBY the new one, None for an
    OVERFLOW FAIL) and whether a SET/INCRBY changed the value (Redis's ``changes``)."""
    mkey, raw = db.lookup(key)
    strings.check(raw)
    out: list[int | None] = []
    if readonly:
        for op in ops:
            byte = op.offset >> 3
            if raw is None:
                out.append(0)
                continue
            window = strings.read_range(db, mkey, raw, byte, byte + 9).ljust(9, b"\x00")
            out.append(_get_field(window, op.offset - byte * 8, op.bits, op.signed))
        return out, False
    highest = max(op.offset + op.bits - 1 for op in ops if op.opcode != OP_GET)
    ed = strings.Editor(db, mkey, raw)
    ed.grow((highest >> 3) + 1)
    grew = ed.changed
    changes = False
    for op in ops:
        byte = op.offset >> 3
        nbytes = ((op.offset + op.bits - 1) >> 3) - byte + 1
        window = ed.read(byte, nbytes)
        shift = op.offset - byte * 8
        if op.opcode == OP_GET:
            out.append(_get_field(window.ljust(9, b"\x00"), shift, op.bits, op.signed))
            continue
        old = _get_field(window, shift, op.bits, op.signed)
        if op.signed:
            if op.opcode == OP_INCRBY:
                ov, new = _overflow_signed(old, op.value, op.bits, op.overflow)
                reply = new
            else:
                ov, new = _overflow_signed(op.value, 0, op.bits, op.overflow)
                reply = old
        else:
            if op.opcode == OP_INCRBY:
                ov, new = _overflow_unsigned(old, op.value, op.bits, op.overflow)
                reply = new
            else:
                ov, new = _overflow_unsigned(op.value & _U64, 0, op.bits, op.overflow)
                reply = old
        if ov and op.overflow == FAIL:
            out.append(None)
            continue
        out.append(reply)
        changes = changes or grew or new != old
        ed.write(byte, _set_field(window, shift, op.bits, new))
    if ed.changed:  # growth (even with every write FAILed) or a changed field
        ed.commit()
    return out, changes
