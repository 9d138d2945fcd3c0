"""Binlog records: the effects of one commit, serialized. Stored in the ``binlog`` column
family under (group u16, seq u64) in the SAME RocksDB write as the data they describe.

Records are effects (physical mutations), not commands, so replaying one is deterministic
whatever the command was (SPOP, INCRBYFLOAT, expiry...). Key-count changes travel as deltas,
not as counter values, because a node's counters sum over every group it hosts.

    record:
    +----------+---------+------------------------------------------+---------+-------+
    | ts ms u64| ndelta u8| ndelta x (table u16, keys i32, expires i32) | nops u32 | ops  |
    +----------+---------+------------------------------------------+---------+-------+
    op:
    +---------+-------+----------+-----+----------+-------+
    | kind u8 | cf u8 | klen u32 | key | vlen u32 | value |   kind: 1 put, 2 delete,
    +---------+-------+----------+-----+----------+-------+         3 delete_range (value = end)
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

OP_PUT = 1
OP_DELETE = 2
OP_DELETE_RANGE = 3
OP_NAMES = {OP_PUT: "put", OP_DELETE: "del", OP_DELETE_RANGE: "delrange"}

_HEAD = struct.Struct(">QB")
_HEAD_NOPS = struct.Struct(">QBI")  # header of a record without deltas
_DELTA = struct.Struct(">Hii")
_NOPS = struct.Struct(">I")
_OPHDR = struct.Struct(">BBI")
_U32 = struct.Struct(">I")


@dataclass
class Record:
    ts_ms: int
    deltas: dict[int, tuple[int, int]] = field(default_factory=dict)
    ops: list[tuple[int, int, bytes, bytes]] = field(default_factory=list)


def encode_record(
    ts_ms: int,
    deltas: dict[int, list[int]] | None,
    ops: list[tuple[int, int, bytes, bytes]],
) -> bytes:
    if deltas:
        parts = [_HEAD.pack(ts_ms, len(deltas))]
        for table, (dk, de) in deltas.items():
            parts.append(_DELTA.pack(table, dk, de))
        parts.append(_NOPS.pack(len(ops)))
    else:
        parts = [_HEAD_NOPS.pack(ts_ms, 0, len(ops))]
    pack_hdr = _OPHDR.pack
    pack_len = _U32.pack
    for kind, cf, key, value in ops:
        parts += (pack_hdr(kind, cf, len(key)), key, pack_len(len(value)), value)
    return b"".join(parts)


def decode_record(raw: bytes) -> Record:
    ts, nd = _HEAD.unpack_from(raw)
    pos = _HEAD.size
    deltas: dict[int, tuple[int, int]] = {}
    for _ in range(nd):
        table, dk, de = _DELTA.unpack_from(raw, pos)
        deltas[table] = (dk, de)
        pos += _DELTA.size
    (nops,) = _NOPS.unpack_from(raw, pos)
    pos += _NOPS.size
    ops = []
    for _ in range(nops):
        kind, cf, klen = _OPHDR.unpack_from(raw, pos)
        pos += _OPHDR.size
        key = raw[pos : pos + klen]
        pos += klen
        (vlen,) = _U32.unpack_from(raw, pos)
        pos += 4
        value = raw[pos : pos + vlen]
        pos += vlen
        ops.append((kind, cf, key, value))
    if pos != len(raw):
        raise ValueError("trailing bytes in binlog record")
    return Record(ts, deltas, ops)


def describe(seq: int, raw: bytes, cf_names: tuple[str, ...]) -> Iterator[str]:
    """Readable lines for one record (``pikadb binlog`` and DEBUG BINLOG)."""
    rec = decode_record(raw)
    deltas = " ".join(f"table{t}:keys{dk:+d},expires{de:+d}" for t, (dk, de) in rec.deltas.items())
    yield f"#{seq} ts={rec.ts_ms} ops={len(rec.ops)}" + (f" {deltas}" if deltas else "")
    for kind, cf, key, value in rec.ops:
        line = f"  {OP_NAMES.get(kind, kind)} {cf_names[cf]} {key!r}"
        if kind != OP_DELETE:
            shown = value if len(value) <= 64 else value[:64] + b"..."
            line += f" -> {shown!r}"
        yield line
