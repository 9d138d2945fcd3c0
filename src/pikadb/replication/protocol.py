"""The replication wire protocol, on the node's normal port.

Handshake (replica -> master, plain RESP commands; replies are RESP simple strings)::

    +-----------------------------------------+-------------------------------------------+
    | replica sends                           | master replies                            |
    +-----------------------------------------+-------------------------------------------+
    | AUTH [user] pass        (masterauth)    | +OK | -ERR ...                            |
    | PING                                    | +PONG | -NOAUTH ...                       |
    | REPLCONF listening-port <port>          | +OK                                       |
    | REPLCONF capa pikadb                    | +OK                                       |
    | REPLCONF snapshot <id>  (resume hint)   | +OK                                       |
    | PSYNC <replid> <applied seq + 1>        | +CONTINUE <replid>                        |
    |                                         | +FULLRESYNC <replid> <snapshot seq>       |
    +-----------------------------------------+-------------------------------------------+

After ``+CONTINUE`` / ``+FULLRESYNC`` the master sends binary frames; the replica keeps
sending RESP commands (``REPLCONF ACK <seq>``, ``REPLCONF FETCH ...``, ``PSYNC`` again after
a full sync)::

    frame: +---------+----------+---------+
           | kind u8 | len u32  | payload |      (big-endian)
           +---------+----------+---------+
    +------+---------------+------------------------------------------------------------+
    | kind | name          | payload                                                    |
    +------+---------------+------------------------------------------------------------+
    | 'B'  | binlog batch  | n x (seq u64 | rlen u32 | record bytes (storage/binlog.py))|
    | 'H'  | heartbeat     | master seq u64 | master time ms u64                        |
    | 'M'  | manifest      | JSON {snapshot, seq, replid, files: [{name, size, crc}]}   |
    | 'D'  | file data     | file index u32 | offset u64 | bytes                         |
    | 'E'  | error         | UTF-8 text; the master closes the link after it            |
    +------+---------------+------------------------------------------------------------+

    REPLCONF ACK <seq>                        replica applied everything up to <seq>
    REPLCONF FETCH <snapshot> <file> <offset> send file <file> from <offset>, then every
                                              later file of the manifest from 0
"""

from __future__ import annotations

import json
import struct
from typing import Any

KIND_BATCH = ord("B")
KIND_HEARTBEAT = ord("H")
KIND_MANIFEST = ord("M")
KIND_DATA = ord("D")
KIND_ERROR = ord("E")

_FRAME = struct.Struct(">BI")
_ITEM = struct.Struct(">QI")
_HB = struct.Struct(">QQ")
_DATA = struct.Struct(">IQ")
HEADER = _FRAME.size
MAX_FRAME = 1 << 31


def frame(kind: int, payload: bytes) -> bytes:
    return _FRAME.pack(kind, len(payload)) + payload


def batch_frame(items: list[tuple[int, bytes]]) -> bytes:
    parts = [b""]
    size = 0
    pack = _ITEM.pack
    for seq, raw in items:
        parts.append(pack(seq, len(raw)))
        parts.append(raw)
        size += _ITEM.size + len(raw)
    parts[0] = _FRAME.pack(KIND_BATCH, size)
    return b"".join(parts)


def decode_batch(payload: bytes | memoryview) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    pos = 0
    n = len(payload)
    unpack = _ITEM.unpack_from
    while pos < n:
        seq, rlen = unpack(payload, pos)
        pos += _ITEM.size
        out.append((seq, bytes(payload[pos : pos + rlen])))
        pos += rlen
    if pos != n:
        raise ValueError("truncated binlog batch")
    return out


def heartbeat_frame(seq: int, now_ms: int) -> bytes:
    return frame(KIND_HEARTBEAT, _HB.pack(seq, now_ms))


def decode_heartbeat(payload: bytes | memoryview) -> tuple[int, int]:
    seq, ts = _HB.unpack_from(payload)
    return int(seq), int(ts)


def manifest_frame(manifest: dict[str, Any]) -> bytes:
    return frame(KIND_MANIFEST, json.dumps(manifest, sort_keys=True).encode())


def decode_manifest(payload: bytes | memoryview) -> dict[str, Any]:
    data = json.loads(bytes(payload))
    if not isinstance(data, dict):
        raise ValueError("manifest is not an object")
    return data


def data_header(index: int, offset: int, size: int) -> bytes:
    """Header of a 'D' frame carrying ``size`` bytes (the data itself is written after)."""
    return _FRAME.pack(KIND_DATA, _DATA.size + size) + _DATA.pack(index, offset)


def decode_data(payload: memoryview) -> tuple[int, int, memoryview]:
    index, offset = _DATA.unpack_from(payload)
    return int(index), int(offset), payload[_DATA.size :]


def error_frame(text: str) -> bytes:
    return frame(KIND_ERROR, text.encode())


def command(*args: bytes | str | int) -> bytes:
    """A RESP request (replica -> master)."""
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(b), b))
    return b"".join(parts)


class FrameReader:
    """Incremental decoder of the master's stream: first RESP reply lines (handshake),
    then frames once :meth:`start_frames` is called."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.framed = False

    def feed(self, data: bytes) -> None:
        self._buf += data

    def start_frames(self) -> None:
        self.framed = True

    def line(self) -> bytes | None:
        """The next reply line (without CRLF), in handshake mode."""
        buf = self._buf
        i = buf.find(b"\r\n")
        if i < 0:
            return None
        out = bytes(buf[:i])
        del buf[: i + 2]
        return out

    def frames(self) -> list[tuple[int, memoryview]]:
        """Every complete frame buffered, as (kind, payload)."""
        buf = self._buf
        out: list[tuple[int, memoryview]] = []
        pos = 0
        n = len(buf)
        while n - pos >= HEADER:
            kind, size = _FRAME.unpack_from(buf, pos)
            if size > MAX_FRAME:
                raise ValueError("replication frame too large")
            end = pos + HEADER + size
            if end > n:
                break
            out.append((kind, memoryview(bytes(buf[pos + HEADER : end]))))
            pos = end
        if pos:
            del buf[:pos]
        return out

    @property
    def buffered(self) -> int:
        return len(self._buf)
