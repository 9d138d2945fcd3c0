"""The two errors RESTORE can report about a payload, worded exactly as Redis 7.0 words them.

``DumpPayloadError`` is a :class:`pikadb.core.errors.CommandError`, so a command handler can
let it propagate and the client sees ``-ERR DUMP payload version or checksum are wrong`` or
``-ERR Bad data format``. ``RdbFormatError`` is the internal exception the blob decoders
(listpack, ziplist, intset, zipmap, LZF) raise; :func:`pikadb.rdb.load_payload` turns it into
``DumpPayloadError(BAD_FORMAT)``.
"""

from __future__ import annotations

from typing import NoReturn

from pikadb.core.errors import CommandError

BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_FORMAT = "ERR Bad data format"


class DumpPayloadError(CommandError):
    """RESTORE refused the payload. ``message`` is the full error text (``ERR ...``)."""


class RdbFormatError(ValueError):
    """A serialized object (or one of its blobs) is malformed."""


def corrupt(detail: str = "corrupt data") -> NoReturn:
    """Raise :class:`RdbFormatError`; the detail is for logs and tests only."""
    raise RdbFormatError(detail)
