"""CRC-64/Jones, the checksum of RDB files and DUMP payloads, as Redis ``crc64.c`` computes it.

Parameters (Rocksoft model)::

    width   64
    poly    0xad93d23594c935a9   (normal form; 0x95ac9329ac4bc9b5 reflected)
    init    0
    refin   true
    refout  true
    xorout  0
    check   crc64(b"123456789") == 0xe9c6d914c4b8d9ca

On the wire (DUMP footer) the CRC is written as 8 bytes, little-endian.
"""

from __future__ import annotations

_POLY_REFLECTED = 0x95AC9329AC4BC9B5


def _make_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY_REFLECTED if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _make_table()


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Return the CRC-64/Jones of ``data``, continuing from ``crc`` (0 to start)."""
    table = _TABLE
    for b in bytes(data):
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc
