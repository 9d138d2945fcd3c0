"""Streams in a DUMP payload: RDB types 15 (STREAM_LISTPACKS) and 19 (STREAM_LISTPACKS_2).

Object body (``<len>`` = RDB length, ``<str>`` = RDB string, ``<ms>`` = int64 LE)::

    <len n-nodes>
      n-nodes x ( <str master-id: 16 bytes, ms then seq, uint64 big-endian>
                  <str listpack of the node's entries> )
    <len length>                 live entries in the stream
    <len last-id.ms> <len last-id.seq>
    -- type 19 only --
    <len first-id.ms> <len first-id.seq>
    <len max-deleted-id.ms> <len max-deleted-id.seq>
    <len entries-added>
    -- both --
    <len n-groups>
      n-groups x ( <str name> <len last-id.ms> <len last-id.seq>
                   [type 19: <len entries-read>, 2**64-1 meaning unknown (-1)]
                   <len n-pending>  n-pending x ( 16-byte raw id, <ms delivery-time>,
                                                  <len delivery-count> )
                   <len n-consumers>
                     n-consumers x ( <str name> <ms seen-time>
                                     <len n-pending> n-pending x 16-byte raw id ) )

One node's listpack (every number an integer entry; ids are deltas from the master id)::

    count deleted n-fields field_1 .. field_N 0           master entry
    flags ms-diff seq-diff n-fields f_1 v_1 .. f_N v_N lp-count     (flags & 2 == 0)
    flags ms-diff seq-diff v_1 .. v_N lp-count            SAMEFIELDS (flags & 2): the
                                                          master entry's fields
    flags: 1 = deleted (a tombstone, skipped), 2 = same fields as the master entry
    lp-count: entries of this record minus one: N + 3 (SAMEFIELDS) or 2N + 4

Type 15 (Redis 5/6) lacks first-id, max-deleted-id, entries-added and entries-read; they are
derived as Redis 7.0 derives them on load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from pikadb.rdb import listpack
from pikadb.rdb.encoding import (
    Reader,
    StreamID,
    save_len,
    save_millis,
    save_raw_stream_id,
    save_string,
)
from pikadb.rdb.errors import corrupt

FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2
NODE_MAX_BYTES = 4096  # stream-node-max-bytes default
NODE_MAX_ENTRIES = 100  # stream-node-max-entries default
_U64 = (1 << 64) - 1
ENTRIES_READ_UNKNOWN = -1

StreamEntry = tuple[int, int, list[tuple[bytes, bytes]]]


@dataclass(frozen=True)
class StreamPendingEntry:
    """One entry of a group's PEL: delivered to ``consumer``, not acknowledged yet."""

    id: StreamID
    consumer: bytes
    delivery_time: int  # ms since the epoch of the last delivery
    delivery_count: int


@dataclass(frozen=True)
class StreamConsumer:
    name: bytes
    seen_time: int  # ms since the epoch of the consumer's last interaction


@dataclass(frozen=True)
class StreamGroup:
    name: bytes
    last_id: StreamID
    entries_read: int  # the group's logical read counter; -1 when unknown
    pending: list[StreamPendingEntry] = field(default_factory=list)  # ascending ids
    consumers: list[StreamConsumer] = field(default_factory=list)  # ascending names


@dataclass(frozen=True)
class StreamValue:
    """A stream: live entries in id order plus the metadata XINFO shows.

    The number of entries (XLEN) is ``len(entries)``.
    """

    entries: list[StreamEntry]
    last_id: StreamID = (0, 0)
    first_id: StreamID = (0, 0)
    max_deleted_id: StreamID = (0, 0)
    entries_added: int = 0
    groups: list[StreamGroup] = field(default_factory=list)


def _as_int(item: bytes | int) -> int:
    if isinstance(item, int):
        return item
    v = listpack.string_to_int64(item)
    if v is None:
        corrupt("stream listpack: integer expected")
    return v


def _as_bytes(item: bytes | int) -> bytes:
    return listpack.as_bytes(item)


def _decode_node(master: StreamID, blob: bytes) -> list[StreamEntry]:
    items = listpack.decode_items(blob)
    if not items:
        corrupt("empty listpack inside stream")
    pos = 0

    def nxt() -> bytes | int:
        nonlocal pos
        if pos >= len(items):
            corrupt("stream listpack truncated")
        pos += 1
        return items[pos - 1]

    count = _as_int(nxt())
    deleted = _as_int(nxt())
    n_master = _as_int(nxt())
    if count < 0 or deleted < 0 or n_master < 0:
        corrupt("negative count in stream master entry")
    master_fields = [_as_bytes(nxt()) for _ in range(n_master)]
    if _as_int(nxt()) != 0:
        corrupt("stream master entry not terminated by 0")
    entries: list[StreamEntry] = []
    seen_deleted = 0
    for _ in range(count + deleted):
        flags = _as_int(nxt())
        ms = (master[0] + _as_int(nxt())) & _U64
        seq = (master[1] + _as_int(nxt())) & _U64
        if flags & FLAG_SAMEFIELDS:
            fields = master_fields
            values = [_as_bytes(nxt()) for _ in fields]
            expect = len(fields) + 3
        else:
            nf = _as_int(nxt())
            if nf < 0:
                corrupt("negative field count in stream entry")
            fields, values = [], []
            for _ in range(nf):
                fields.append(_as_bytes(nxt()))
                values.append(_as_bytes(nxt()))
            expect = 2 * nf + 4
        if _as_int(nxt()) != expect:
            corrupt("stream entry lp-count mismatch")
        if (ms, seq) < master:
            corrupt("stream entry before its node's master id")
        if flags & FLAG_DELETED:
            seen_deleted += 1
        else:
            entries.append((ms, seq, list(zip(fields, values, strict=True))))
    if pos != len(items) or seen_deleted != deleted:
        corrupt("stream listpack does not match its master entry")
    return entries


def _estimate_entries_read(
    gid: StreamID, length: int, last_id: StreamID, first_id: StreamID, entries_added: int
) -> int:
    """``streamEstimateDistanceFromFirstEverEntry`` of Redis 7.0, for type-15 payloads
    (whose max-deleted-id is always 0-0)."""
    if not entries_added:
        return 0
    if not length and gid <= last_id:
        return entries_added
    if gid == last_id:
        return entries_added
    if gid > last_id:
        return ENTRIES_READ_UNKNOWN
    if gid < first_id:
        return entries_added - length
    if gid == first_id:
        return entries_added - length + 1
    return ENTRIES_READ_UNKNOWN


def _load_group(r: Reader, v2: bool, meta: tuple[int, StreamID, StreamID, int]) -> StreamGroup:
    name = r.string()
    last_id = (r.length(), r.length())
    if v2:
        entries_read = r.length()
        if entries_read > (1 << 63) - 1:
            entries_read -= 1 << 64
    else:
        length, s_last, s_first, added = meta
        entries_read = _estimate_entries_read(last_id, length, s_last, s_first, added)
    pel: dict[StreamID, tuple[int, int]] = {}
    for _ in range(r.length()):
        sid = r.raw_stream_id()
        if sid in pel:
            corrupt("duplicated global PEL entry")
        pel[sid] = (r.millis(), r.length())
    owner: dict[StreamID, bytes] = {}
    consumers: dict[bytes, StreamConsumer] = {}
    for _ in range(r.length()):
        cname = r.string()
        if cname in consumers:
            corrupt("duplicate stream consumer")
        consumers[cname] = StreamConsumer(cname, r.millis())
        for _ in range(r.length()):
            sid = r.raw_stream_id()
            if sid not in pel:
                corrupt("consumer entry not found in group global PEL")
            if sid in owner:
                corrupt("duplicated consumer PEL entry")
            owner[sid] = cname
    if len(owner) != len(pel):
        corrupt("stream group PEL entry without consumer")
    pending = [StreamPendingEntry(sid, owner[sid], *pel[sid]) for sid in sorted(pel)]
    return StreamGroup(name, last_id, entries_read, pending, sorted(consumers.values(), key=_name))


def _name(c: StreamConsumer | StreamGroup) -> bytes:
    return c.name


def load_stream(r: Reader, v2: bool) -> StreamValue:
    """Read a stream object body (after the type byte)."""
    nodes: dict[StreamID, list[StreamEntry]] = {}
    for _ in range(r.length()):
        key = r.string()
        if len(key) != 16:
            corrupt("stream node key is not the size of a stream ID")
        master = (int.from_bytes(key[:8], "big"), int.from_bytes(key[8:], "big"))
        if master in nodes:
            corrupt("listpack re-added with existing key")
        nodes[master] = _decode_node(master, r.string())
    entries = [e for master in sorted(nodes) for e in nodes[master]]
    for a, b in pairwise(entries):
        if (b[0], b[1]) <= (a[0], a[1]):
            corrupt("stream entries out of order")
    length = r.length()
    if length != len(entries):
        corrupt("stream length does not match its entries")
    last_id = (r.length(), r.length())
    if entries and (entries[-1][0], entries[-1][1]) > last_id:
        corrupt("stream entry after the stream's last id")
    if v2:
        first_id = (r.length(), r.length())
        max_deleted = (r.length(), r.length())
        entries_added = r.length()
    else:
        first_id = (entries[0][0], entries[0][1]) if entries else (_U64, _U64)
        max_deleted = (0, 0)
        entries_added = length
    meta = (length, last_id, first_id, entries_added)
    groups: dict[bytes, StreamGroup] = {}
    for _ in range(r.length()):
        g = _load_group(r, v2, meta)
        if g.name in groups:
            corrupt("duplicated consumer group name")
        groups[g.name] = g
    return StreamValue(
        entries, last_id, first_id, max_deleted, entries_added, sorted(groups.values(), key=_name)
    )


def encode_nodes(entries: list[StreamEntry]) -> list[tuple[StreamID, bytes]]:
    """Split entries into listpack nodes the way ``streamAppendItem`` fills them."""
    nodes: list[tuple[StreamID, bytes]] = []
    i = 0
    while i < len(entries):
        ms0, seq0, first_fields = entries[i]
        master_fields = [f for f, _ in first_fields]
        body: list[bytes | int] = []
        size = listpack.encoded_size([1, 0, len(master_fields), *master_fields, 0])
        count = 0
        while i < len(entries) and count < NODE_MAX_ENTRIES:
            ms, seq, pairs = entries[i]
            fields = [f for f, _ in pairs]
            ms_diff = (ms - ms0) & _U64
            seq_diff = (seq - seq0) & _U64
            ids: list[bytes | int] = [
                ms_diff - (1 << 64) if ms_diff >> 63 else ms_diff,
                seq_diff - (1 << 64) if seq_diff >> 63 else seq_diff,
            ]
            record: list[bytes | int]
            if fields == master_fields:
                record = [FLAG_SAMEFIELDS, *ids, *(v for _, v in pairs), len(pairs) + 3]
            else:
                flat = [x for pair in pairs for x in pair]
                record = [0, *ids, len(pairs), *flat, 2 * len(pairs) + 4]
            grow = sum(len(listpack.encode_entry(x)) for x in record)
            if count and size + grow >= NODE_MAX_BYTES:
                break
            body += record
            size += grow
            count += 1
            i += 1
        head: list[bytes | int] = [count, 0, len(master_fields), *master_fields, 0]
        nodes.append(((ms0, seq0), listpack.encode(head + body)))
    return nodes


def dump_stream(v: StreamValue) -> bytes:
    """A STREAM_LISTPACKS_2 object body (without the type byte)."""
    for a, b in pairwise(v.entries):
        if (b[0], b[1]) <= (a[0], a[1]):
            raise ValueError("stream entries must have strictly ascending ids")
    out: list[bytes] = []
    nodes = encode_nodes(v.entries)
    out.append(save_len(len(nodes)))
    for master, lp in nodes:
        out.append(save_string(save_raw_stream_id(master)))
        out.append(save_string(lp))
    out.append(save_len(len(v.entries)))
    for sid in (v.last_id, v.first_id, v.max_deleted_id):
        out += [save_len(sid[0]), save_len(sid[1])]
    out.append(save_len(v.entries_added))
    out.append(save_len(len(v.groups)))
    for g in sorted(v.groups, key=_name):
        out += [save_string(g.name), save_len(g.last_id[0]), save_len(g.last_id[1])]
        out.append(save_len(g.entries_read & _U64))
        pending = sorted(g.pending, key=lambda p: p.id)
        out.append(save_len(len(pending)))
        for p in pending:
            out += [save_raw_stream_id(p.id), save_millis(p.delivery_time)]
            out.append(save_len(p.delivery_count))
        owned: dict[bytes, list[StreamID]] = {c.name: [] for c in g.consumers}
        if len(owned) != len(g.consumers):
            raise ValueError(f"duplicate consumer names in group {g.name!r}")
        for p in pending:
            if p.consumer not in owned:
                raise ValueError(f"pending entry {p.id} owned by an unknown consumer")
            owned[p.consumer].append(p.id)
        out.append(save_len(len(owned)))
        for c in sorted(g.consumers, key=_name):
            own = owned[c.name]
            out += [save_string(c.name), save_millis(c.seen_time), save_len(len(own))]
            out += [save_raw_stream_id(sid) for sid in own]
    return b"".join(out)
