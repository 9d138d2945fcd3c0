"""Stream consumer groups: groups, consumers and pending entries as their own records, so a
large PEL is never loaded whole (the format table is in :mod:`pikadb.storage.streams`).

Records (data cf, under the stream's version prefix)::

    +-------------------------------------+-------------------------------------------------+
    | sub-key                             | value                                           |
    +-------------------------------------+-------------------------------------------------+
    | 'g' | name                          | gid u64 | last-id (16) | entries-read i64      |
    |     |                               | (-1 unknown) | pel count u64 | consumers u64   |
    | 'c' | gid u64 | name                | seen-time i64 | pel count u64                  |
    | 'p' | gid u64 | id (16)             | delivery-time i64 | delivery-count u64 | owner |
    | 'q' | gid u64 | len u32 | name | id | b"" (the owner's PEL, in id order)             |
    +-------------------------------------+-------------------------------------------------+

``gid`` is a per-stream number given to a group when it is created (meta ``next gid``), so
dropping a group is three range deletes and a name never needs escaping inside a key. The
counters (pel, consumers) make XINFO GROUPS / XPENDING summaries O(groups + consumers).

Semantics follow Redis 7.0's t_stream.c (XREADGROUP's serve rules, the entries-read
counter, XCLAIM/XAUTOCLAIM dropping entries deleted from the stream, ...). Every function
works on an open :class:`~pikadb.storage.streams.Stream`; the caller commits once
(``Stream.commit``) after the command's last change.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from pikadb.rdb import BAD_FORMAT
from pikadb.rdb.stream import StreamConsumer, StreamGroup, StreamPendingEntry, StreamValue
from pikadb.storage import layout as L
from pikadb.storage import streams as S
from pikadb.storage.batch import Batch
from pikadb.storage.keyspace import Database
from pikadb.storage.streams import (
    ENTRIES_READ_INVALID,
    ID,
    MIN_ID,
    TAG_CONSUMER,
    TAG_CPEL,
    TAG_GROUP,
    TAG_PEL,
    Entry,
    Stream,
)

_GROUP = struct.Struct(">QQQqQQ")
_CONS = struct.Struct(">qQ")
_PEL = struct.Struct(">qQ")
_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")
_ID = struct.Struct(">QQ")


@dataclass(slots=True)
class Group:
    name: bytes
    gid: int
    last_id: ID
    entries_read: int
    pel: int = 0
    consumers: int = 0

    def encode(self) -> bytes:
        return _GROUP.pack(self.gid, *self.last_id, self.entries_read, self.pel, self.consumers)


@dataclass(slots=True)
class Consumer:
    name: bytes
    seen: int
    pel: int = 0


@dataclass(slots=True)
class Pending:
    id: ID
    consumer: bytes
    delivery_time: int
    delivery_count: int

    def encode(self) -> bytes:
        return _PEL.pack(self.delivery_time, self.delivery_count) + self.consumer


def _decode_group(name: bytes, raw: bytes) -> Group:
    gid, lms, lseq, er, pel, cons = _GROUP.unpack(raw)
    return Group(name, gid, (lms, lseq), er, pel, cons)


class GroupView:
    """One group of an open stream inside one command: the group record and the consumers
    it touched are kept in memory and written back by :meth:`flush`."""

    __slots__ = ("consumers", "created", "dirty", "g", "gpfx", "s")

    def __init__(self, s: Stream, g: Group) -> None:
        self.s = s
        self.g = g
        self.gpfx = _U64.pack(g.gid)
        self.consumers: dict[bytes, Consumer | None] = {}
        self.dirty: set[bytes] = set()
        self.created: list[bytes] = []  # consumers this command created (for notifications)

    # -- keys
    def ckey(self, name: bytes) -> bytes:
        return self.s.pfx + TAG_CONSUMER + self.gpfx + name

    def pkey(self, i: ID) -> bytes:
        return self.s.pfx + TAG_PEL + self.gpfx + _ID.pack(*i)

    def qbase(self, name: bytes) -> bytes:
        return self.s.pfx + TAG_CPEL + self.gpfx + _U32.pack(len(name)) + name

    # -- consumers
    def consumer(self, name: bytes) -> Consumer | None:
        if name in self.consumers:
            return self.consumers[name]
        raw = self.s.txn.get(self.ckey(name))
        c = None if raw is None else Consumer(name, *_CONS.unpack(raw))
        self.consumers[name] = c
        return c

    def create_consumer(self, name: bytes, now: int) -> Consumer | None:
        """streamCreateConsumer: None if it exists already."""
        if self.consumer(name) is not None:
            return None
        c = self.consumers[name] = Consumer(name, now, 0)
        self.dirty.add(name)
        self.created.append(name)
        self.g.consumers += 1
        return c

    def lookup_or_create(self, name: bytes, now: int) -> Consumer:
        """streamLookupConsumer (refreshing seen-time) or streamCreateConsumer."""
        c = self.consumer(name)
        if c is None:
            c = self.create_consumer(name, now)
            assert c is not None
        c.seen = now
        self.dirty.add(name)
        return c

    def iter_consumers(self) -> Iterator[Consumer]:
        """Every consumer in name order (with this command's changes)."""
        base = self.s.pfx + TAG_CONSUMER + self.gpfx
        n = len(base)
        self.flush_consumers()
        for k, v in self.s.txn.scan(base, L.prefix_end(base)):
            yield Consumer(k[n:], *_CONS.unpack(v))

    def delete_consumer(self, c: Consumer) -> int:
        """streamDelConsumer: drop it and its pending entries; returns how many it had."""
        txn = self.s.txn
        qbase = self.qbase(c.name)
        n = len(qbase)
        count = 0
        for k, _v in txn.scan(qbase, L.prefix_end(qbase)):
            txn.delete(self.pkey(_ID.unpack_from(k, n)))  # type: ignore[arg-type]
            count += 1
        txn.delete_range(qbase, L.prefix_end(qbase))
        txn.delete(self.ckey(c.name))
        self.consumers[c.name] = None
        self.dirty.discard(c.name)
        self.g.pel -= count
        self.g.consumers -= 1
        return count

    # -- pending entries
    def pending(self, i: ID) -> Pending | None:
        raw = self.s.txn.get(self.pkey(i))
        if raw is None:
            return None
        t, cnt = _PEL.unpack_from(raw)
        return Pending(i, raw[_PEL.size :], t, cnt)

    def put_pending(self, p: Pending) -> None:
        self.s.txn.put(self.pkey(p.id), p.encode())

    def iter_pending(self, start: ID = MIN_ID, end: ID = S.MAX_ID) -> Iterator[Pending]:
        """The group's PEL from ``start`` to ``end`` (inclusive), in id order."""
        if start > end:
            return
        base = self.s.pfx + TAG_PEL + self.gpfx
        n = len(base)
        for k, v in self.s.txn.scan(base + _ID.pack(*start), base + _ID.pack(*end) + b"\x00"):
            t, cnt = _PEL.unpack_from(v)
            yield Pending(_ID.unpack_from(k, n), v[_PEL.size :], t, cnt)  # type: ignore[arg-type]

    def iter_consumer_ids(
        self, name: bytes, start: ID = MIN_ID, end: ID = S.MAX_ID
    ) -> Iterator[ID]:
        """A consumer's PEL ids from ``start`` to ``end`` (inclusive)."""
        if start > end:
            return
        base = self.qbase(name)
        n = len(base)
        for k, _v in self.s.txn.scan(base + _ID.pack(*start), base + _ID.pack(*end) + b"\x00"):
            yield _ID.unpack_from(k, n)  # type: ignore[misc]

    def pending_edges(self) -> tuple[ID, ID] | None:
        """(first, last) id of the group's PEL, None when empty."""
        base = self.s.pfx + TAG_PEL + self.gpfx
        n = len(base)
        end = L.prefix_end(base)
        first = last = None
        for k, _v in self.s.txn.scan(base, end):
            first = _ID.unpack_from(k, n)
            break
        for k, _v in self.s.txn.scan(base, end, reverse=True):
            last = _ID.unpack_from(k, n)
            break
        if first is None or last is None:
            return None
        return first, last  # type: ignore[return-value]

    def _owner(self, name: bytes) -> Consumer:
        c = self.consumer(name)
        if c is None:  # a PEL entry always has an owner; be lenient with damaged data
            c = self.consumers[name] = Consumer(name, 0, 0)
            self.g.consumers += 1
        return c

    def assign(self, p: Pending, new_owner: Consumer) -> None:
        """Move an existing pending entry to ``new_owner`` (counters and indexes)."""
        if p.consumer == new_owner.name:
            return
        txn = self.s.txn
        old = self._owner(p.consumer)
        old.pel -= 1
        self.dirty.add(old.name)
        txn.delete(self.qbase(p.consumer) + _ID.pack(*p.id))
        new_owner.pel += 1
        self.dirty.add(new_owner.name)
        txn.put(self.qbase(new_owner.name) + _ID.pack(*p.id), b"")
        p.consumer = new_owner.name

    def add_pending(self, i: ID, owner: Consumer, now: int, count: int = 1) -> Pending:
        p = Pending(i, owner.name, now, count)
        self.put_pending(p)
        self.s.txn.put(self.qbase(owner.name) + _ID.pack(*i), b"")
        owner.pel += 1
        self.dirty.add(owner.name)
        self.g.pel += 1
        return p

    def remove_pending(self, p: Pending) -> None:
        txn = self.s.txn
        txn.delete(self.pkey(p.id))
        txn.delete(self.qbase(p.consumer) + _ID.pack(*p.id))
        owner = self._owner(p.consumer)
        owner.pel -= 1
        self.dirty.add(owner.name)
        self.g.pel -= 1

    # -- writing back
    def flush_consumers(self) -> None:
        txn = self.s.txn
        for name in self.dirty:
            c = self.consumers.get(name)
            if c is not None:
                txn.put(self.ckey(name), _CONS.pack(c.seen, c.pel))
        self.dirty.clear()

    def flush(self) -> None:
        self.flush_consumers()
        self.s.txn.put(self.s.pfx + TAG_GROUP + self.g.name, self.g.encode())


# --- groups --------------------------------------------------------------------------------
def group(s: Stream, name: bytes) -> GroupView | None:
    raw = s.txn.get(s.pfx + TAG_GROUP + name)
    return None if raw is None else GroupView(s, _decode_group(name, raw))


def iter_groups(s: Stream) -> Iterator[GroupView]:
    base = s.pfx + TAG_GROUP
    n = len(base)
    for k, v in s.txn.scan(base, L.prefix_end(base)):
        yield GroupView(s, _decode_group(k[n:], v))


def create_group(s: Stream, name: bytes, last_id: ID, entries_read: int) -> GroupView | None:
    """streamCreateCG: None if the group exists."""
    if group(s, name) is not None:
        return None
    m = s.meta
    g = Group(name, m.next_gid, last_id, entries_read)
    m.next_gid += 1
    m.groups += 1
    gv = GroupView(s, g)
    gv.flush()
    return gv


def destroy_group(gv: GroupView) -> None:
    s = gv.s
    txn = s.txn
    txn.delete(s.pfx + TAG_GROUP + gv.g.name)
    for tag in (TAG_CONSUMER, TAG_PEL, TAG_CPEL):
        base = s.pfx + tag + gv.gpfx
        txn.delete_range(base, L.prefix_end(base))
    s.meta.groups -= 1


# --- XREADGROUP ------------------------------------------------------------------------------
def _advance(gv: GroupView, i: ID) -> None:
    """The group's last-delivered id and read counter when entry ``i`` is delivered."""
    g = gv.g
    if i <= g.last_id:
        return
    m = gv.s.meta
    # Redis 7.0 looks for tombstones from the delivered id on (streamReplyWithRange)
    if g.entries_read != ENTRIES_READ_INVALID and not S.range_has_tombstones(m, i):
        g.entries_read += 1
    elif m.entries_added:
        g.entries_read = S.estimate_entries_read(m, i)
    g.last_id = i


def read_new(
    gv: GroupView, consumer: bytes, count: int, noack: bool, now: int, force: bool = False
) -> list[Entry] | None:
    """XREADGROUP ... >: entries after the group's last-delivered id (None: nothing to
    serve, so nothing changes, unless ``force``: a woken waiter is served even then).
    Creates the consumer and the PEL entries."""
    entries = S.read_after(gv.s, gv.g.last_id, count)
    if not entries and not force:
        return None
    c = gv.lookup_or_create(consumer, now)
    for i, _items in entries:
        _advance(gv, i)
        if noack:
            continue
        p = gv.pending(i)
        if p is None:
            gv.add_pending(i, c, now)
        else:  # delivered before (XGROUP SETID moved the group back): re-own it
            gv.assign(p, c)
            p.delivery_time = now
            p.delivery_count = 1
            gv.put_pending(p)
    gv.flush()
    return entries


def read_history(
    gv: GroupView, consumer: bytes, gt: ID, count: int, now: int
) -> list[tuple[ID, list[bytes] | None]]:
    """XREADGROUP with an explicit id: the consumer's own pending entries after ``gt``
    (None fields: deleted from the stream since). Bumps their delivery counters."""
    c = gv.lookup_or_create(consumer, now)
    start = S.incr_id(gt) or MIN_ID
    out: list[tuple[ID, list[bytes] | None]] = []
    for i in list(gv.iter_consumer_ids(c.name, start)):
        if count and len(out) >= count:
            break
        items = gv.s.entry(i)
        out.append((i, items))
        if items is not None:
            p = gv.pending(i)
            if p is not None:
                p.delivery_time = now
                p.delivery_count += 1
                gv.put_pending(p)
    gv.flush()
    return out


# --- XACK / XPENDING -------------------------------------------------------------------------
def ack(gv: GroupView, ids: list[ID]) -> int:
    n = 0
    for i in ids:
        p = gv.pending(i)
        if p is not None:
            gv.remove_pending(p)
            n += 1
    if n:
        gv.flush()
    return n


@dataclass(slots=True)
class PendingSummary:
    count: int
    first: ID | None
    last: ID | None
    consumers: list[tuple[bytes, int]] = field(default_factory=list)


def pending_summary(gv: GroupView) -> PendingSummary:
    edges = gv.pending_edges()
    if edges is None or not gv.g.pel:
        return PendingSummary(0, None, None)
    cons = [(c.name, c.pel) for c in gv.iter_consumers() if c.pel]
    return PendingSummary(gv.g.pel, edges[0], edges[1], cons)


def pending_range(
    gv: GroupView, start: ID, end: ID, count: int, min_idle: int, consumer: bytes | None, now: int
) -> list[Pending] | None:
    """XPENDING's extended form (None: the named consumer does not exist)."""
    out: list[Pending] = []
    if count <= 0:
        return out if consumer is None or gv.consumer(consumer) is not None else None
    if consumer is not None:
        if gv.consumer(consumer) is None:
            return None
        source: Iterator[Pending] = (
            p for p in map(gv.pending, gv.iter_consumer_ids(consumer, start, end)) if p is not None
        )
    else:
        source = gv.iter_pending(start, end)
    for p in source:
        if min_idle and now - p.delivery_time < min_idle:
            continue
        out.append(p)
        if len(out) >= count:
            break
    return out


# --- XCLAIM / XAUTOCLAIM ----------------------------------------------------------------------
@dataclass(slots=True)
class ClaimArgs:
    min_idle: int
    delivery_time: int  # -1: now
    retry_count: int  # -1: not given
    force: bool
    justid: bool
    last_id: ID


def claim(
    gv: GroupView, consumer: bytes, ids: list[ID], a: ClaimArgs, now: int
) -> list[tuple[ID, list[bytes] | None]]:
    """XCLAIM after parsing: the claimed (id, fields); fields None with JUSTID."""
    g = gv.g
    s = gv.s
    if a.last_id > g.last_id:
        g.last_id = a.last_id
    dt = a.delivery_time
    if dt == -1 or dt < 0 or dt > now:
        dt = now
    c: Consumer | None = None  # looked up (or created) once something is claimed
    out: list[tuple[ID, list[bytes] | None]] = []
    for i in ids:
        p = gv.pending(i)
        items = s.entry(i)
        if items is None:  # gone from the stream: drop it from the PEL too
            if p is not None:
                gv.remove_pending(p)
            continue
        created = False
        if p is None:
            if not a.force:
                continue
            created = True
        elif a.min_idle and now - p.delivery_time < a.min_idle:
            continue
        if c is None:
            c = gv.lookup_or_create(consumer, now)
        if created:
            p = gv.add_pending(i, c, now, 1)  # streamCreateNACK: count 1, bumped below
        else:
            assert p is not None
            gv.assign(p, c)
        assert p is not None
        p.delivery_time = dt
        if a.retry_count >= 0:
            p.delivery_count = a.retry_count
        elif not a.justid:
            p.delivery_count += 1
        gv.put_pending(p)
        out.append((i, None if a.justid else items))
    gv.flush()
    return out


def autoclaim(
    gv: GroupView, consumer: bytes, min_idle: int, start: ID, count: int, justid: bool, now: int
) -> tuple[ID, list[tuple[ID, list[bytes] | None]], list[ID]]:
    """XAUTOCLAIM: (next cursor, claimed (id, fields), ids dropped as deleted)."""
    s = gv.s
    c: Consumer | None = None  # looked up (or created) once something is claimed
    attempts = count * 10
    claimed: list[tuple[ID, list[bytes] | None]] = []
    deleted: list[ID] = []
    it = gv.iter_pending(start)
    cursor = MIN_ID
    exhausted = False
    while attempts and count:
        attempts -= 1
        p = next(it, None)
        if p is None:
            exhausted = True
            break
        items = s.entry(p.id)
        if items is None:
            gv.remove_pending(p)
            deleted.append(p.id)
            count -= 1
            continue
        if min_idle and now - p.delivery_time < min_idle:
            continue
        if c is None:
            c = gv.lookup_or_create(consumer, now)
        gv.assign(p, c)
        p.delivery_time = now
        if not justid:
            p.delivery_count += 1
        gv.put_pending(p)
        claimed.append((p.id, None if justid else items))
        count -= 1
    if not exhausted:
        nxt = next(it, None)
        if nxt is not None:
            cursor = nxt.id
    gv.flush()
    return cursor, claimed, deleted


# --- XINFO ------------------------------------------------------------------------------------
def consumers_of(gv: GroupView) -> list[Consumer]:
    return list(gv.iter_consumers())


# --- DUMP / RESTORE ---------------------------------------------------------------------------
def is_stream_value(value: object) -> bool:
    return isinstance(value, StreamValue)


def to_stream_value(db: Database, mkey: bytes, raw: bytes) -> StreamValue:
    meta = S.StreamMeta.decode(raw)
    s = Stream(S.Txn(db), mkey, raw, meta)
    entries = [
        (i[0], i[1], list(zip(it[0::2], it[1::2], strict=True))) for i, it in s.iter_entries()
    ]
    groups: list[StreamGroup] = []
    for gv in iter_groups(s):
        pending = [
            StreamPendingEntry(p.id, p.consumer, p.delivery_time, p.delivery_count)
            for p in gv.iter_pending()
        ]
        consumers = [StreamConsumer(c.name, c.seen) for c in gv.iter_consumers()]
        groups.append(StreamGroup(gv.g.name, gv.g.last_id, gv.g.entries_read, pending, consumers))
    return StreamValue(
        entries, meta.last_id, meta.first_id, meta.max_deleted, meta.entries_added, groups
    )


def store_stream_value(
    batch: Batch, db: Database, mkey: bytes, old: bytes | None, value: object, expire_at_ms: int
) -> None:
    """RESTORE: write ``value`` as a new version of the key into ``batch``."""
    if not isinstance(value, StreamValue):
        raise ValueError(BAD_FORMAT)
    meta = S.StreamMeta(expire_at_ms, db.store.next_version())
    txn = S.Txn(db)
    txn.batch = batch
    s = Stream(txn, mkey, None, meta)
    for ms, seq, pairs in value.entries:
        S.append(s, (ms, seq), [x for pair in pairs for x in pair])
    meta.last_id = value.last_id
    meta.first_id = value.first_id
    meta.max_deleted = value.max_deleted_id
    meta.entries_added = value.entries_added
    for sg in value.groups:
        gv = create_group(s, sg.name, sg.last_id, sg.entries_read)
        if gv is None:
            continue
        for sc in sg.consumers:
            gv.create_consumer(sc.name, sc.seen_time)
        for sp in sg.pending:
            owner = gv.consumer(sp.consumer)
            if owner is None:
                continue
            gv.add_pending(sp.id, owner, sp.delivery_time, sp.delivery_count)
        gv.flush()
    batch.put_meta(mkey, old, meta.encode())
