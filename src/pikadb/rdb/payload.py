"""DUMP / RESTORE payloads, byte-compatible with Redis 7.0 (``cluster.c``, ``rdb.c``).

A payload is one serialized object plus a footer::

    +-----------+-------------------------+-------------+------------------------+
    | type byte | object body (by type)   | RDB version | CRC-64/Jones           |
    |  uint8    |                         | uint16 LE   | uint64 LE, over all    |
    |           |                         | (10 = 7.0)  | the bytes before it    |
    +-----------+-------------------------+-------------+------------------------+

RESTORE checks the footer first: fewer than 10 bytes, a version above 10 or a CRC mismatch
(a zero CRC included: 7.0 does not skip the check) is "DUMP payload version or checksum are
wrong". Then anything it cannot read is "Bad data format". Like Redis, bytes left over after
the object are ignored; unlike Redis, the object may not run into the footer (Redis reads on
into it: a truncated body then "loads" footer bytes).

Object bodies (``<len>``/``<str>``/doubles: see :mod:`pikadb.rdb.encoding`; blobs are
``<str>`` holding the named structure)::

    type  name                 body                                         we write it
     0    STRING               <str>                                        yes
     1    LIST                 <len n> n x <str>                            -
     2    SET                  <len n> n x <str>                            > 512 or non-int
     3    ZSET                 <len n> n x (<str member> <string double>)   -
     4    HASH                 <len n> n x (<str field> <str value>)        large hashes
     5    ZSET_2               <len n> n x (<str member> <binary double>)   large zsets
     9    HASH_ZIPMAP          <str zipmap>                                 -
    10    LIST_ZIPLIST         <str ziplist>                                -
    11    SET_INTSET           <str intset>                                 <= 512 ints
    12    ZSET_ZIPLIST         <str ziplist: member, score, ...>            -
    13    HASH_ZIPLIST         <str ziplist: field, value, ...>             -
    14    LIST_QUICKLIST       <len n> n x <str ziplist>                    -
    15    STREAM_LISTPACKS     see :mod:`pikadb.rdb.stream`                 -
    16    HASH_LISTPACK        <str listpack: field, value, ...>            small hashes
    17    ZSET_LISTPACK        <str listpack: member, score, ...>           small zsets
    18    LIST_QUICKLIST_2     <len n> n x (<len container> <str node>)     yes
                               container 2 = PACKED (node is a listpack),
                               1 = PLAIN (node is one element)
    19    STREAM_LISTPACKS_2   see :mod:`pikadb.rdb.stream`                 yes

"Small" is Redis's defaults: at most 128 entries, every field/value/member at most 64
bytes; listpack quicklist nodes up to 8 KiB. Modules (6, 7) cannot be restored here. Empty
collections, duplicate set members / hash fields / zset members and NaN scores are bad data
(Redis 7.0 skips some of these checks unless sanitize-dump-payload is on; we always check).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pikadb.rdb import intset, listpack, ziplist, zipmap
from pikadb.rdb.crc64 import crc64
from pikadb.rdb.encoding import (
    Reader,
    format_double,
    parse_double,
    save_binary_double,
    save_len,
    save_string,
)
from pikadb.rdb.errors import BAD_FORMAT, BAD_PAYLOAD, DumpPayloadError, RdbFormatError, corrupt
from pikadb.rdb.stream import StreamValue, dump_stream, load_stream

RDB_VERSION = 10

TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19

QUICKLIST_PLAIN = 1
QUICKLIST_PACKED = 2

# Redis 7.0 defaults that decide the encoding we write.
HASH_MAX_LISTPACK_ENTRIES = 128
HASH_MAX_LISTPACK_VALUE = 64
ZSET_MAX_LISTPACK_ENTRIES = 128
ZSET_MAX_LISTPACK_VALUE = 64
SET_MAX_INTSET_ENTRIES = 512
LIST_MAX_LISTPACK_BYTES = 8192  # list-max-listpack-size -2
LIST_PACKED_THRESHOLD = 1 << 30  # larger elements get a PLAIN quicklist node

KINDS = ("string", "list", "set", "zset", "hash", "stream")


@dataclass(frozen=True)
class RdbValue:
    """A decoded value, free of any encoding.

    ========  ================================================================
    kind      value
    ========  ================================================================
    string    ``bytes``
    list      ``list[bytes]``, head to tail
    set       ``list[bytes]``, in payload order
    zset      ``list[tuple[bytes, float]]``, ascending (score, member) like ZRANGE
    hash      ``list[tuple[bytes, bytes]]``, in payload order
    stream    :class:`pikadb.rdb.stream.StreamValue`
    ========  ================================================================
    """

    kind: str
    value: object


# --- loading -------------------------------------------------------------------------------


def load_payload(payload: bytes) -> RdbValue:
    """Decode a DUMP payload, validating its footer and its whole content.

    Raises :class:`DumpPayloadError` with ``BAD_PAYLOAD`` or ``BAD_FORMAT``.
    """
    data = bytes(payload)
    if len(data) < 10:
        raise DumpPayloadError(BAD_PAYLOAD)
    version = data[-10] | (data[-9] << 8)
    if version > RDB_VERSION:
        raise DumpPayloadError(BAD_PAYLOAD)
    if crc64(data[:-8]) != int.from_bytes(data[-8:], "little"):
        raise DumpPayloadError(BAD_PAYLOAD)
    try:
        return load_object(Reader(data, 0, len(data) - 10))
    except (RdbFormatError, ValueError, IndexError, KeyError, struct.error, OverflowError) as e:
        raise DumpPayloadError(BAD_FORMAT) from e


def load_object(r: Reader) -> RdbValue:
    """Read one type byte and the object body that follows it."""
    rdb_type = r.u8()
    loader = _LOADERS.get(rdb_type)
    if loader is None:
        corrupt(f"unsupported RDB object type {rdb_type}")
    return loader(r, rdb_type)


def _nonempty(n: int) -> int:
    if n == 0:
        corrupt("empty collection")
    return n


def _unique(keys: Sequence[bytes], what: str) -> None:
    if len(set(keys)) != len(keys):
        corrupt(f"duplicate {what}")


def _pairs(items: Sequence[bytes | int], what: str) -> list[tuple[bytes | int, bytes | int]]:
    if len(items) % 2 or not items:
        corrupt(f"{what}: odd or empty entry list")
    return list(zip(items[::2], items[1::2], strict=True))


def _score(item: bytes | int) -> float:
    score = float(item) if isinstance(item, int) else parse_double(item)
    if math.isnan(score):
        corrupt("NaN score")
    return score


def _zset(pairs: list[tuple[bytes, float]]) -> RdbValue:
    _unique([m for m, _ in pairs], "zset member")
    if any(math.isnan(s) for _, s in pairs):
        corrupt("NaN score")
    return RdbValue("zset", sorted(pairs, key=lambda p: (p[1], p[0])))


def _hash(pairs: list[tuple[bytes, bytes]]) -> RdbValue:
    _unique([f for f, _ in pairs], "hash field")
    return RdbValue("hash", pairs)


def _load_string(r: Reader, _t: int) -> RdbValue:
    return RdbValue("string", r.string())


def _load_list(r: Reader, _t: int) -> RdbValue:
    return RdbValue("list", [r.string() for _ in range(_nonempty(r.length()))])


def _load_set(r: Reader, _t: int) -> RdbValue:
    members = [r.string() for _ in range(_nonempty(r.length()))]
    _unique(members, "set member")
    return RdbValue("set", members)


def _load_zset(r: Reader, t: int) -> RdbValue:
    read_score = r.binary_double if t == TYPE_ZSET_2 else r.string_double
    pairs = []
    for _ in range(_nonempty(r.length())):
        member = r.string()
        pairs.append((member, read_score()))
    return _zset(pairs)


def _load_hash(r: Reader, _t: int) -> RdbValue:
    pairs = []
    for _ in range(_nonempty(r.length())):
        field = r.string()
        pairs.append((field, r.string()))
    return _hash(pairs)


def _load_zipmap(r: Reader, _t: int) -> RdbValue:
    return _hash(zipmap.decode(r.string()))


def _load_list_ziplist(r: Reader, _t: int) -> RdbValue:
    items = ziplist.decode(r.string())
    _nonempty(len(items))
    return RdbValue("list", items)


def _load_intset(r: Reader, _t: int) -> RdbValue:
    return RdbValue("set", [str(v).encode() for v in intset.decode(r.string())])


def _load_zset_packed(r: Reader, t: int) -> RdbValue:
    blob = r.string()
    items = ziplist.decode_items(blob) if t == TYPE_ZSET_ZIPLIST else listpack.decode_items(blob)
    return _zset([(listpack.as_bytes(m), _score(s)) for m, s in _pairs(items, "zset")])


def _load_hash_packed(r: Reader, t: int) -> RdbValue:
    blob = r.string()
    items = ziplist.decode_items(blob) if t == TYPE_HASH_ZIPLIST else listpack.decode_items(blob)
    pairs = _pairs(items, "hash")
    return _hash([(listpack.as_bytes(f), listpack.as_bytes(v)) for f, v in pairs])


def _load_quicklist(r: Reader, t: int) -> RdbValue:
    out: list[bytes] = []
    for _ in range(_nonempty(r.length())):
        container = QUICKLIST_PACKED
        if t == TYPE_LIST_QUICKLIST_2:
            container = r.length()
            if container not in (QUICKLIST_PACKED, QUICKLIST_PLAIN):
                corrupt("bad quicklist container")
        node = r.string()
        if not node:
            corrupt("empty quicklist node")
        if container == QUICKLIST_PLAIN:
            out.append(node)
        elif t == TYPE_LIST_QUICKLIST_2:
            out += listpack.decode(node)
        else:
            out += ziplist.decode(node)
    _nonempty(len(out))  # empty nodes are skipped, but not an empty list
    return RdbValue("list", out)


def _load_stream(r: Reader, t: int) -> RdbValue:
    return RdbValue("stream", load_stream(r, t == TYPE_STREAM_LISTPACKS_2))


_LOADERS: dict[int, Callable[[Reader, int], RdbValue]] = {
    TYPE_STRING: _load_string,
    TYPE_LIST: _load_list,
    TYPE_SET: _load_set,
    TYPE_ZSET: _load_zset,
    TYPE_HASH: _load_hash,
    TYPE_ZSET_2: _load_zset,
    TYPE_HASH_ZIPMAP: _load_zipmap,
    TYPE_LIST_ZIPLIST: _load_list_ziplist,
    TYPE_SET_INTSET: _load_intset,
    TYPE_ZSET_ZIPLIST: _load_zset_packed,
    TYPE_HASH_ZIPLIST: _load_hash_packed,
    TYPE_LIST_QUICKLIST: _load_quicklist,
    TYPE_STREAM_LISTPACKS: _load_stream,
    TYPE_HASH_LISTPACK: _load_hash_packed,
    TYPE_ZSET_LISTPACK: _load_zset_packed,
    TYPE_LIST_QUICKLIST_2: _load_quicklist,
    TYPE_STREAM_LISTPACKS_2: _load_stream,
}


# --- dumping -------------------------------------------------------------------------------


def dump_payload(v: RdbValue) -> bytes:
    """Serialize a value as Redis 7.0's DUMP would (encodings chosen by Redis's defaults).

    Raises ``ValueError`` for values Redis could not hold (empty collections, duplicate
    members or fields, NaN scores, unknown kinds).
    """
    data = dump_object(v) + struct.pack("<H", RDB_VERSION)
    return data + struct.pack("<Q", crc64(data))


def dump_object(v: RdbValue) -> bytes:
    """The type byte and object body of ``v`` (a payload without its footer)."""
    dumper = _DUMPERS.get(v.kind)
    if dumper is None:
        raise ValueError(f"unknown value kind {v.kind!r}")
    return dumper(v.value)


def _b(x: object) -> bytes:
    if isinstance(x, bytes | bytearray | memoryview):
        return bytes(x)
    raise ValueError(f"bytes expected, got {type(x).__name__}")


def _seq(value: object, kind: str) -> list[object]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"a {kind} value must be a list")
    if not value:
        raise ValueError(f"an empty {kind} cannot be dumped")
    return list(value)


def _pair_list(value: object, kind: str) -> list[tuple[object, object]]:
    pairs = []
    for item in _seq(value, kind):
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"a {kind} value must be a list of pairs")
        pairs.append((item[0], item[1]))
    return pairs


def _float(x: object) -> float:
    if isinstance(x, float | int) and not isinstance(x, bool):
        return float(x)
    raise ValueError(f"a score must be a number, got {type(x).__name__}")


def _check_unique(keys: list[bytes], what: str) -> None:
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate {what}")


def _dump_string(value: object) -> bytes:
    return bytes((TYPE_STRING,)) + save_string(_b(value))


def _dump_list(value: object) -> bytes:
    elements = [_b(e) for e in _seq(value, "list")]
    nodes: list[bytes] = []
    packed: list[bytes] = []  # encoded listpack entries of the node being filled
    size = listpack.HEADER_SIZE + 1

    def flush() -> None:
        nonlocal packed, size
        if packed:
            nodes.append(save_len(QUICKLIST_PACKED) + save_string(listpack.pack(packed)))
        packed, size = [], listpack.HEADER_SIZE + 1

    for e in elements:
        if len(e) >= LIST_PACKED_THRESHOLD:
            flush()
            nodes.append(save_len(QUICKLIST_PLAIN) + save_string(e))
            continue
        entry = listpack.encode_entry(e)
        if packed and size + len(entry) > LIST_MAX_LISTPACK_BYTES:
            flush()
        packed.append(entry)
        size += len(entry)
    flush()
    return bytes((TYPE_LIST_QUICKLIST_2,)) + save_len(len(nodes)) + b"".join(nodes)


def _dump_set(value: object) -> bytes:
    members = [_b(m) for m in _seq(value, "set")]
    _check_unique(members, "set member")
    if len(members) <= SET_MAX_INTSET_ENTRIES:
        ints = [listpack.string_to_int64(m) for m in members]
        if all(i is not None for i in ints):
            blob = intset.encode(i for i in ints if i is not None)
            return bytes((TYPE_SET_INTSET,)) + save_string(blob)
    body = b"".join(save_string(m) for m in members)
    return bytes((TYPE_SET,)) + save_len(len(members)) + body


def _dump_zset(value: object) -> bytes:
    pairs = [(_b(m), _float(s)) for m, s in _pair_list(value, "zset")]
    _check_unique([m for m, _ in pairs], "zset member")
    if any(math.isnan(s) for _, s in pairs):
        raise ValueError("NaN score")
    pairs.sort(key=lambda p: (p[1], p[0]))
    if len(pairs) <= ZSET_MAX_LISTPACK_ENTRIES and all(
        len(m) <= ZSET_MAX_LISTPACK_VALUE for m, _ in pairs
    ):
        blob = listpack.encode(x for m, s in pairs for x in (m, format_double(s)))
        return bytes((TYPE_ZSET_LISTPACK,)) + save_string(blob)
    body = b"".join(save_string(m) + save_binary_double(s) for m, s in reversed(pairs))
    return bytes((TYPE_ZSET_2,)) + save_len(len(pairs)) + body


def _dump_hash(value: object) -> bytes:
    pairs = [(_b(f), _b(v)) for f, v in _pair_list(value, "hash")]
    _check_unique([f for f, _ in pairs], "hash field")
    if len(pairs) <= HASH_MAX_LISTPACK_ENTRIES and all(
        len(f) <= HASH_MAX_LISTPACK_VALUE and len(v) <= HASH_MAX_LISTPACK_VALUE for f, v in pairs
    ):
        blob = listpack.encode(x for pair in pairs for x in pair)
        return bytes((TYPE_HASH_LISTPACK,)) + save_string(blob)
    body = b"".join(save_string(f) + save_string(v) for f, v in pairs)
    return bytes((TYPE_HASH,)) + save_len(len(pairs)) + body


def _dump_stream(value: object) -> bytes:
    if not isinstance(value, StreamValue):
        raise ValueError("a stream value must be a StreamValue")
    return bytes((TYPE_STREAM_LISTPACKS_2,)) + dump_stream(value)


_DUMPERS: dict[str, Callable[[object], bytes]] = {
    "string": _dump_string,
    "list": _dump_list,
    "set": _dump_set,
    "zset": _dump_zset,
    "hash": _dump_hash,
    "stream": _dump_stream,
}
