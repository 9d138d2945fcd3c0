"""FUNCTION DUMP / RESTORE payloads, byte-compatible with Redis 7.0 (functions.c, rdb.c).

A payload is the libraries as an RDB holds them, plus the DUMP footer::

    +--------------------------------------------+-------------+------------------------+
    | per library:                               | RDB version | CRC-64/Jones           |
    |   0xF5 (RDB_OPCODE_FUNCTION2) | <str code> | uint16 LE   | uint64 LE, over all    |
    |   (code = the library source, shebang      | (10 = 7.0)  | the bytes before it    |
    |    line included; <str>: RDB string, LZF   |             |                        |
    |    compressed when it pays)                |             |                        |
    +--------------------------------------------+-------------+------------------------+

0xF6 (RDB_OPCODE_FUNCTION, the 7.0 release candidates' format) is refused as Redis does.
"""

from __future__ import annotations

import struct

from pikadb.rdb.crc64 import crc64
from pikadb.rdb.encoding import Reader, save_string
from pikadb.rdb.errors import RdbFormatError
from pikadb.rdb.payload import RDB_VERSION

OPCODE_FUNCTION2 = 0xF5
OPCODE_FUNCTION_PRE_GA = 0xF6


class FunctionPayloadError(ValueError):
    """FUNCTION RESTORE refused the payload; ``str(exc)`` is Redis's text (no ``ERR``)."""


def dump_functions(codes: list[bytes]) -> bytes:
    """The FUNCTION DUMP payload of libraries given by their code."""
    data = b"".join(bytes((OPCODE_FUNCTION2,)) + save_string(code) for code in codes)
    data += struct.pack("<H", RDB_VERSION)
    return data + struct.pack("<Q", crc64(data))


def verify(payload: bytes) -> bool:
    """verifyDumpPayload: long enough, a known RDB version, the right CRC."""
    if len(payload) < 10:
        return False
    version = payload[-10] | (payload[-9] << 8)
    if version > RDB_VERSION:
        return False
    return crc64(payload[:-8]) == int.from_bytes(payload[-8:], "little")


def load_functions(payload: bytes) -> list[bytes]:
    """The library codes of a verified payload, in order.

    Raises :class:`FunctionPayloadError` ("given type is not a function", ...)."""
    data = bytes(payload)
    r = Reader(data)
    codes = []
    while len(data) - r.pos > 10:
        kind = r.u8()
        if kind == OPCODE_FUNCTION_PRE_GA:
            raise FunctionPayloadError("Pre-GA function format not supported")
        if kind != OPCODE_FUNCTION2:
            raise FunctionPayloadError("given type is not a function")
        try:
            codes.append(r.string())
        except (RdbFormatError, ValueError, IndexError, struct.error) as exc:
            raise FunctionPayloadError("failed loading the given functions payload") from exc
    return codes
