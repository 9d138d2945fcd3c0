"""Redis's DUMP/RESTORE payload codec: bytes <-> neutral Python values (:class:`RdbValue`).

Pure and bottom-layer: depends on nothing in pikadb but :mod:`pikadb.core`. Modules:

    payload    the payload frame (type byte, body, version, CRC) and every object type
    encoding   RDB lengths, strings (INT / LZF), doubles
    stream     stream bodies (types 15 and 19)
    listpack, ziplist, intset, zipmap   the blobs collections are packed into
    lzf, crc64 compression and checksum
"""

from pikadb.rdb.errors import BAD_FORMAT, BAD_PAYLOAD, DumpPayloadError
from pikadb.rdb.payload import RDB_VERSION, RdbValue, dump_payload, load_payload
from pikadb.rdb.stream import (
    StreamConsumer,
    StreamEntry,
    StreamGroup,
    StreamPendingEntry,
    StreamValue,
)

__all__ = [
    "BAD_FORMAT",
    "BAD_PAYLOAD",
    "RDB_VERSION",
    "DumpPayloadError",
    "RdbValue",
    "StreamConsumer",
    "StreamEntry",
    "StreamGroup",
    "StreamPendingEntry",
    "StreamValue",
    "dump_payload",
    "load_payload",
]
