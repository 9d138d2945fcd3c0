"""The stream type: entries, listpack-node bookkeeping, trimming (consumer groups live in
:mod:`pikadb.storage.streams_groups`).

Meta value (``CollectionMeta``: ``size`` is the number of live entries, XLEN)::

    +---------+-----------+---------+--------+--------------------------------------------+
    | type u8 | expire u64| version | length | extra (14 x u64, big-endian)               |
    |   = 6   |           |   u64   |  u64   |                                            |
    +---------+-----------+---------+--------+--------------------------------------------+
    extra: last-id ms | last-id seq | first-id ms | first-id seq | max-deleted ms |
           max-deleted seq | entries-added | group count | node count | head node ms |
           head node seq | tail node ms | tail node seq | next group id

Data cf, under ``layout.version_prefix(mkey, version)`` (ids are ``ms u64 | seq u64``
big-endian, so byte order is id order)::

    +-----+----------------------------------------+---------------------------------------+
    | tag | rest of the sub-key                    | value                                 |
    +-----+----------------------------------------+---------------------------------------+
    | 'e' | id                                     | entry: n u32 | n x len u32 | bytes    |
    |     |                                        | (field, value, field, value, ...)     |
    | 'n' | master id of a node                    | node: live u32 | deleted u32 |        |
    |     |                                        | lp-bytes u32 | last id (16) |          |
    |     |                                        | master fields (entry codec)           |
    | 'g' | group name                             | group (streams_groups.py)             |
    | 'c' | gid u64 | consumer name                | consumer (streams_groups.py)          |
    | 'p' | gid u64 | id                           | pending entry (streams_groups.py)     |
    | 'q' | gid u64 | name len u32 | name | id     | b"" (per-consumer PEL index)           |
    +-----+----------------------------------------+---------------------------------------+

Nodes mirror Redis's radix tree of listpacks (t_stream.c streamAppendItem): a node holds up
to 100 entries (live + deleted) and closes once its listpack's size plus the new entry's
string lengths reaches 4096 bytes (``stream-node-max-entries`` / ``stream-node-max-bytes``
defaults; not configurable here). Only the bookkeeping is
kept (counts, the listpack's exact byte size, the last id including tombstones, the master
fields), never the listpack itself: that is enough to trim with ``~`` (whole nodes only)
exactly as Redis does and to answer XINFO's radix-tree-keys. An entry is one record, so a
stream of millions of entries is never loaded whole; deleted entries are removed (their
node counts them as tombstones, as the listpack would).

Costs: XADD = 2 point reads (meta, tail node) + 3 puts; ``MAXLEN ~``/``MINID ~`` look at
the head node only (a point read) and remove a whole node with one range delete; exact
trimming deletes entries one by one from the head node; XRANGE/XREAD seek to the first
live entry (the meta's first-id), so tombstones left by trimming are skipped.

Every command is one :class:`Txn`: reads see the command's own earlier writes (a small
overlay), and everything is written by ONE ``store.commit``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.rdb import BAD_FORMAT, RdbValue
from pikadb.rdb.listpack import string_to_int64
from pikadb.storage import generic
from pikadb.storage import layout as L
from pikadb.storage.batch import Batch
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database

T_STREAM = L.T_STREAM
U64 = (1 << 64) - 1
ID = tuple[int, int]
MIN_ID: ID = (0, 0)
MAX_ID: ID = (U64, U64)
NODE_MAX_ENTRIES = 100  # stream-node-max-entries default
NODE_MAX_BYTES = 4096  # stream-node-max-bytes default
TRIM_LIMIT_DEFAULT = 100 * NODE_MAX_ENTRIES

TAG_ENTRY = b"e"
TAG_NODE = b"n"
TAG_GROUP = b"g"
TAG_CONSUMER = b"c"
TAG_PEL = b"p"
TAG_CPEL = b"q"

_ID = struct.Struct(">QQ")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_COLL = struct.Struct(">BQQQ")
_EXTRA = struct.Struct(">14Q")
_NODE = struct.Struct(">IIIQQ")
_WRONGTYPE = errors.WRONGTYPE

Entry = tuple[ID, list[bytes]]  # (id, [field, value, field, value, ...])


# --- ids ---------------------------------------------------------------------------------
def pack_id(i: ID) -> bytes:
    return _ID.pack(i[0], i[1])


def unpack_id(b: bytes, offset: int = 0) -> ID:
    return _ID.unpack_from(b, offset)  # type: ignore[return-value]


def incr_id(i: ID) -> ID | None:
    """The next id, None past the maximum (streamIncrID)."""
    ms, seq = i
    if seq < U64:
        return ms, seq + 1
    if ms < U64:
        return ms + 1, 0
    return None


def decr_id(i: ID) -> ID | None:
    ms, seq = i
    if seq > 0:
        return ms, seq - 1
    if ms > 0:
        return ms - 1, U64
    return None


def format_id(i: ID) -> bytes:
    return b"%d-%d" % i


# --- entry codec -------------------------------------------------------------------------
_LENS: dict[int, struct.Struct] = {}


def _lens(n: int) -> struct.Struct:
    st = _LENS.get(n)
    if st is None:
        st = _LENS[n] = struct.Struct(f">{n + 1}I")
    return st


def encode_items(items: list[bytes]) -> bytes:
    n = len(items)
    return _lens(n).pack(n, *[len(x) for x in items]) + b"".join(items)


def decode_items(raw: bytes) -> list[bytes]:
    n = _U32.unpack_from(raw)[0]
    lens = _lens(n).unpack_from(raw)
    pos = 4 + 4 * n
    out: list[bytes] = []
    for i in range(1, n + 1):
        ln = lens[i]
        out.append(raw[pos : pos + ln])
        pos += ln
    return out


# --- listpack sizes (to mirror Redis's node boundaries) ----------------------------------
def _lp_int_size(v: int) -> int:
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def _backlen(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def lp_size(s: bytes) -> int:
    """Bytes one listpack entry holding ``s`` takes (int-like strings are stored as ints)."""
    n = len(s)
    if n <= 20:
        v = string_to_int64(s)
        if v is not None:
            return _lp_int_size(v)
    body = n + (1 if n < 64 else 2 if n < 4096 else 5)
    return body + _backlen(body)


def _signed(delta: int) -> int:
    delta &= U64
    return delta - (1 << 64) if delta >> 63 else delta


# --- meta --------------------------------------------------------------------------------
@dataclass(slots=True)
class StreamMeta:
    expire_at: int
    version: int
    length: int = 0
    last_id: ID = MIN_ID
    first_id: ID = MIN_ID
    max_deleted: ID = MIN_ID
    entries_added: int = 0
    groups: int = 0
    nodes: int = 0
    head: ID = MIN_ID  # master id of the first node (when nodes > 0)
    tail: ID = MIN_ID  # master id of the last node
    next_gid: int = 1

    def encode(self) -> bytes:
        return _COLL.pack(T_STREAM, self.expire_at, self.version, self.length) + _EXTRA.pack(
            *self.last_id,
            *self.first_id,
            *self.max_deleted,
            self.entries_added,
            self.groups,
            self.nodes,
            *self.head,
            *self.tail,
            self.next_gid,
        )

    @classmethod
    def decode(cls, raw: bytes) -> StreamMeta:
        _t, exp, ver, length = _COLL.unpack_from(raw)
        x = _EXTRA.unpack_from(raw, _COLL.size)
        return cls(
            exp, ver, length, (x[0], x[1]), (x[2], x[3]), (x[4], x[5]), x[6], x[7], x[8],
            (x[9], x[10]), (x[11], x[12]), x[13],
        )  # fmt: skip


@dataclass(slots=True)
class Node:
    master: ID
    live: int
    deleted: int
    lp_bytes: int
    last: ID
    fields: list[bytes]
    fields_raw: bytes = field(default=b"", compare=False)  # encoded ``fields`` (from decode)

    def encode(self) -> bytes:
        raw = self.fields_raw or encode_items(self.fields)
        return _NODE.pack(self.live, self.deleted, self.lp_bytes, *self.last) + raw

    @classmethod
    def decode(cls, master: ID, raw: bytes) -> Node:
        live, deleted, lp_bytes, lms, lseq = _NODE.unpack_from(raw)
        fraw = raw[_NODE.size :]
        return cls(master, live, deleted, lp_bytes, (lms, lseq), decode_items(fraw), fraw)


# --- a command's view: reads see its own writes ------------------------------------------
class Txn:
    """One command's batch over the data cf, with read-your-writes for point reads and
    scans (the overlay is small: what this command wrote)."""

    __slots__ = ("batch", "cache", "db", "engine", "ranges")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine
        self.batch: Batch = db.store.batch()
        self.cache: dict[bytes, bytes | None] = {}
        self.ranges: list[tuple[bytes, bytes]] = []  # range-deleted here

    def _dead(self, key: bytes) -> bool:
        return any(lo <= key < hi for lo, hi in self.ranges)

    def get(self, key: bytes) -> bytes | None:
        if key in self.cache:
            return self.cache[key]
        if self.ranges and self._dead(key):
            return None
        return self.engine.get(DATA, key)

    def put(self, key: bytes, value: bytes) -> None:
        self.cache[key] = value
        self.batch.put(DATA, key, value)

    def delete(self, key: bytes) -> None:
        self.cache[key] = None
        self.batch.delete(DATA, key)

    def delete_range(self, lo: bytes, hi: bytes) -> None:
        for k in self.cache:
            if lo <= k < hi:
                self.cache[k] = None
        self.ranges.append((lo, hi))
        self.batch.delete_range(DATA, lo, hi)

    def commit(self) -> None:
        self.db.store.commit(self.batch)

    def scan(self, lo: bytes, hi: bytes, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) with lo <= key < hi, merged with this command's writes."""
        mine = sorted((k for k in self.cache if lo <= k < hi), reverse=reverse)
        if not mine and not self.ranges:
            yield from self.engine.scan(DATA, lo, hi, reverse)
            return
        cache = self.cache
        i = 0
        for k, v in self.engine.scan(DATA, lo, hi, reverse):
            while i < len(mine) and (mine[i] < k if not reverse else mine[i] > k):
                cv = cache[mine[i]]
                if cv is not None:
                    yield mine[i], cv
                i += 1
            if k in cache:
                continue  # yielded (or skipped) from the overlay
            if self.ranges and self._dead(k):
                continue
            yield k, v
        while i < len(mine):
            cv = cache[mine[i]]
            if cv is not None:
                yield mine[i], cv
            i += 1


# --- opening a stream --------------------------------------------------------------------
class Stream:
    """A stream key inside one command: its meta and sub-key helpers over a :class:`Txn`."""

    __slots__ = ("created", "meta", "mkey", "pfx", "raw", "txn")

    def __init__(self, txn: Txn, mkey: bytes, raw: bytes | None, meta: StreamMeta) -> None:
        self.txn = txn
        self.mkey = mkey
        self.raw = raw
        self.meta = meta
        self.pfx = L.version_prefix(mkey, meta.version)
        self.created = raw is None

    # -- keys
    def ekey(self, i: ID) -> bytes:
        return self.pfx + TAG_ENTRY + _ID.pack(i[0], i[1])

    def nkey(self, i: ID) -> bytes:
        return self.pfx + TAG_NODE + _ID.pack(i[0], i[1])

    # -- entries
    def entry(self, i: ID) -> list[bytes] | None:
        raw = self.txn.get(self.ekey(i))
        return None if raw is None else decode_items(raw)

    def exists(self, i: ID) -> bool:
        return self.txn.get(self.ekey(i)) is not None

    def iter_entries(
        self, start: ID = MIN_ID, end: ID = MAX_ID, rev: bool = False
    ) -> Iterator[Entry]:
        """Live entries with start <= id <= end, ascending (or descending)."""
        if start > end:
            return
        if not rev and start < self.meta.first_id:
            start = self.meta.first_id  # everything before it is deleted
        base = self.pfx + TAG_ENTRY
        lo = base + _ID.pack(*start)
        hi = base + _ID.pack(*end) + b"\x00"
        n = len(base)
        for k, v in self.txn.scan(lo, hi, rev):
            yield _ID.unpack_from(k, n), decode_items(v)  # type: ignore[misc]

    def iter_ids(self, start: ID = MIN_ID, end: ID = MAX_ID, rev: bool = False) -> Iterator[ID]:
        base = self.pfx + TAG_ENTRY
        lo = base + _ID.pack(*start)
        hi = base + _ID.pack(*end) + b"\x00"
        n = len(base)
        for k, _v in self.txn.scan(lo, hi, rev):
            yield _ID.unpack_from(k, n)  # type: ignore[misc]

    def first_live(self, after: ID = MIN_ID) -> ID | None:
        for i in self.iter_ids(after):
            return i
        return None

    def last_live(self) -> ID | None:
        """streamLastValidID: the last entry that is not a tombstone."""
        if not self.meta.length:
            return None
        for i in self.iter_ids(MIN_ID, self.meta.last_id, rev=True):
            return i
        return None

    # -- nodes
    def node(self, master: ID) -> Node | None:
        raw = self.txn.get(self.nkey(master))
        return None if raw is None else Node.decode(master, raw)

    def put_node(self, node: Node) -> None:
        self.txn.put(self.nkey(node.master), node.encode())

    def iter_nodes(self, rev: bool = False) -> Iterator[Node]:
        base = self.pfx + TAG_NODE
        n = len(base)
        for k, v in self.txn.scan(base, L.prefix_end(base), rev):
            yield Node.decode(_ID.unpack_from(k, n), v)  # type: ignore[arg-type]

    def node_of(self, i: ID) -> Node | None:
        """The node holding id ``i`` (the one with the greatest master id <= i)."""
        base = self.pfx + TAG_NODE
        n = len(base)
        for k, v in self.txn.scan(base, base + _ID.pack(*i) + b"\x00", reverse=True):
            return Node.decode(_ID.unpack_from(k, n), v)  # type: ignore[arg-type]
        return None

    def remove_node(self, node: Node) -> None:
        """Drop a node and whatever entries it still holds."""
        self.txn.delete(self.nkey(node.master))
        base = self.pfx + TAG_ENTRY
        self.txn.delete_range(base + _ID.pack(*node.master), base + _ID.pack(*node.last) + b"\x00")
        m = self.meta
        m.nodes -= 1
        if not m.nodes:
            m.head = m.tail = MIN_ID
            return
        if node.master == m.head:
            base = self.pfx + TAG_NODE
            n = len(base)
            for k, _v in self.txn.scan(base + _ID.pack(*node.master) + b"\x00", L.prefix_end(base)):
                m.head = _ID.unpack_from(k, n)  # type: ignore[assignment]
                break
        if node.master == m.tail:
            base = self.pfx + TAG_NODE
            n = len(base)
            for k, _v in self.txn.scan(base, base + _ID.pack(*node.master), reverse=True):
                m.tail = _ID.unpack_from(k, n)  # type: ignore[assignment]
                break

    # -- writing
    def changed(self) -> bool:
        """Whether this command wrote anything under this stream."""
        pfx = self.pfx
        return any(k.startswith(pfx) for k in self.txn.cache) or any(
            lo.startswith(pfx) for lo, _hi in self.txn.ranges
        )

    def save(self) -> None:
        """Put the meta (if it changed) into the batch, or mark the key touched when only
        sub-keys changed (WATCH, blocked clients)."""
        new = self.meta.encode()
        if new != self.raw:
            self.txn.batch.put_meta(self.mkey, self.raw, new)
            self.raw = new
        elif self.changed():
            self.txn.batch.touch(self.mkey)

    def commit(self) -> None:
        """save() and ONE commit of the command's batch."""
        self.save()
        self.txn.commit()


def lookup(db: Database, key: bytes) -> tuple[bytes, bytes | None]:
    """(meta key, raw) of a stream key; raw None when missing; WRONGTYPE for other types."""
    mkey, raw = db.lookup(key)
    if raw is not None and raw[0] != T_STREAM:
        raise CommandError(_WRONGTYPE)
    return mkey, raw


def open_stream(
    db: Database, key: bytes, create: bool = False, txn: Txn | None = None
) -> Stream | None:
    """The stream at ``key`` (None if missing and not ``create``); WRONGTYPE otherwise."""
    mkey, raw = lookup(db, key)
    if raw is None:
        if not create:
            return None
        meta = StreamMeta(0, db.store.next_version())
    else:
        meta = StreamMeta.decode(raw)
    return Stream(txn or Txn(db), mkey, raw, meta)


def meta_of(db: Database, key: bytes) -> StreamMeta | None:
    raw = lookup(db, key)[1]
    return None if raw is None else StreamMeta.decode(raw)


# --- XADD ----------------------------------------------------------------------------------
ID_AUTO, ID_EXPLICIT, ID_SEQ_AUTO = 0, 1, 2

EXHAUSTED = errors.XADD_EXHAUSTED
XADD_TOO_SMALL = errors.XADD_ID_TOO_SMALL


@dataclass(slots=True)
class TrimArgs:
    """XADD/XTRIM trimming: strategy 'maxlen' or 'minid', ``~`` and LIMIT (0 = none)."""

    strategy: str
    maxlen: int = 0
    minid: ID = MIN_ID
    approx: bool = False
    limit: int = 0


def append(s: Stream, new_id: ID, items: list[bytes]) -> None:
    """streamAppendItem after its checks: store the entry, update node bookkeeping."""
    m = s.meta
    nfields = len(items) // 2
    fields = items[0::2]
    values = items[1::2]
    tail = s.node(m.tail) if m.nodes else None
    if tail is not None:
        total = sum(len(x) for x in items)
        if tail.lp_bytes + total >= NODE_MAX_BYTES or tail.live + tail.deleted >= NODE_MAX_ENTRIES:
            tail = None
    if tail is None:
        master = new_id
        size = 7 + 2 + 2 + _lp_int_size(nfields) + 2  # header+EOF, count 1, deleted 0, n, 0
        for f in fields:
            size += lp_size(f)
        node = Node(new_id, 1, 0, size, new_id, list(fields))
        same = True
        if not m.nodes:
            m.head = new_id
        m.nodes += 1
        m.tail = new_id
    else:
        node = tail
        master = node.master
        node.lp_bytes += _lp_int_size(node.live + 1) - _lp_int_size(node.live)
        node.live += 1
        node.last = new_id
        same = node.fields == fields
    ms_d = _signed(new_id[0] - master[0])
    seq_d = _signed(new_id[1] - master[1])
    grow = 2 + _lp_int_size(ms_d) + _lp_int_size(seq_d)  # flags (0 or 2) + id deltas
    if same:
        for v in values:
            grow += lp_size(v)
        grow += _lp_int_size(nfields + 3)
    else:
        for x in items:
            grow += lp_size(x)
        grow += _lp_int_size(nfields) + _lp_int_size(2 * nfields + 4)
    node.lp_bytes += grow
    s.put_node(node)
    s.txn.put(s.ekey(new_id), encode_items(items))
    m.length += 1
    m.entries_added += 1
    m.last_id = new_id
    if m.length == 1:
        m.first_id = new_id


def add(
    db: Database,
    key: bytes,
    mode: int,
    req: ID,
    items: list[bytes],
    nomkstream: bool,
    trim: TrimArgs | None,
) -> tuple[ID, int] | None:
    """XADD after argument parsing: (the new id, entries trimmed), or None (NOMKSTREAM on a
    missing key)."""
    s = open_stream(db, key, create=not nomkstream)
    if s is None:
        return None
    m = s.meta
    last = m.last_id
    if last == MAX_ID:
        raise CommandError(EXHAUSTED)
    if mode == ID_AUTO:
        now = now_ms()
        new_id = (now, 0) if now > last[0] else (last[0], last[1] + 1)
    elif mode == ID_SEQ_AUTO:
        if last[0] == req[0]:
            if last[1] == U64:  # 7.0 leaves errno unset here: the "too large" text wins
                raise CommandError(errors.XADD_TOO_LARGE)
            new_id = (last[0], last[1] + 1)
        else:
            new_id = (req[0], 0)
    else:
        new_id = req
    if new_id <= last:
        raise CommandError(XADD_TOO_SMALL)
    append(s, new_id, items)
    trimmed = trim_stream(s, trim) if trim is not None else 0
    s.commit()
    return new_id, trimmed


# --- trimming ------------------------------------------------------------------------------
def trim_stream(s: Stream, args: TrimArgs) -> int:
    """streamTrim: drop whole nodes from the head; with exact trimming, then entries of the
    first node that stays. Returns the number of entries removed."""
    m = s.meta
    maxlen_mode = args.strategy == "maxlen"
    limit = args.limit
    deleted = 0
    last_removed: ID | None = None
    if maxlen_mode and m.length <= args.maxlen:
        return 0
    node = s.node(m.head) if m.nodes else None
    while node is not None:
        if maxlen_mode and m.length <= args.maxlen:
            break
        entries = node.live
        if limit and deleted + entries > limit:
            break
        remove = m.length - entries >= args.maxlen if maxlen_mode else node.last < args.minid
        if remove:
            s.remove_node(node)
            m.length -= entries
            deleted += entries
            node = s.node(m.head) if m.nodes else None
            continue
        if args.approx:
            break
        removed = 0
        for i in s.iter_ids(max(node.master, m.first_id), node.last):
            if maxlen_mode:
                if m.length <= args.maxlen:
                    break
            elif i >= args.minid:
                break
            s.txn.delete(s.ekey(i))
            last_removed = i
            removed += 1
            m.length -= 1
        if removed:
            node.live -= removed
            node.deleted += removed
            s.put_node(node)
        deleted += removed
        break
    if m.length == 0:
        m.first_id = MIN_ID
    elif deleted:  # the first live entry is at or after the head node / the last removed id
        start = m.head
        if last_removed is not None:
            start = max(start, incr_id(last_removed) or MAX_ID)
        m.first_id = s.first_live(start) or MIN_ID
    return deleted


def trim(db: Database, key: bytes, args: TrimArgs) -> int:
    s = open_stream(db, key)
    if s is None:
        return 0
    n = trim_stream(s, args)
    if n:
        s.commit()
    return n


# --- reads ---------------------------------------------------------------------------------
def length(db: Database, key: bytes) -> int:
    raw = lookup(db, key)[1]
    return 0 if raw is None else _COLL.unpack_from(raw)[3]


def range_entries(
    db: Database, key: bytes, start: ID, end: ID, count: int, rev: bool
) -> list[Entry] | None:
    """XRANGE / XREVRANGE: None when the key is missing; ``count`` 0 = all."""
    s = open_stream(db, key)
    if s is None:
        return None
    out: list[Entry] = []
    for e in s.iter_entries(start, end, rev):
        out.append(e)
        if count and len(out) >= count:
            break
    return out


def read_after(s: Stream, gt: ID, count: int) -> list[Entry]:
    """Entries with id > gt (XREAD), at most ``count`` (0 = all)."""
    start = incr_id(gt)
    if start is None or not s.meta.length:
        return []
    out: list[Entry] = []
    for e in s.iter_entries(start):
        out.append(e)
        if count and len(out) >= count:
            break
    return out


# --- XDEL ----------------------------------------------------------------------------------
def delete_entries(s: Stream, ids: list[ID]) -> int:
    """streamDeleteItem for each id (tombstones count in their node); fixes first-id and
    max-deleted-id like xdelCommand. Does not commit."""
    m = s.meta
    deleted = 0
    first_hit = False
    for i in ids:
        ek = s.ekey(i)
        if s.txn.get(ek) is None:
            continue
        node = s.node_of(i)
        s.txn.delete(ek)
        if node is not None:
            if node.live == 1:
                s.remove_node(node)
            else:
                node.live -= 1
                node.deleted += 1
                s.put_node(node)
        m.length -= 1
        if i == m.first_id:
            first_hit = True
        if i > m.max_deleted:
            m.max_deleted = i
        deleted += 1
    if deleted:
        if m.length == 0:
            m.first_id = MIN_ID
        elif first_hit:
            m.first_id = s.first_live(m.first_id) or MIN_ID
    return deleted


def delete(db: Database, key: bytes, ids: list[ID]) -> int:
    s = open_stream(db, key)
    if s is None:
        return 0
    n = delete_entries(s, ids)
    if n:
        s.commit()
    return n


# --- XSETID --------------------------------------------------------------------------------
def set_id(db: Database, key: bytes, new_id: ID, entries_added: int, max_deleted: ID) -> None:
    """XSETID after parsing (``entries_added`` -1: unchanged)."""
    s = open_stream(db, key)
    if s is None:
        raise CommandError(errors.NO_SUCH_KEY)
    m = s.meta  # (7.0 does not compare the new id with the current max-deleted id)
    if m.length:
        top = s.last_live()
        if top is not None and new_id < top:
            raise CommandError(errors.XSETID_BELOW_TOP)
        if entries_added != -1 and m.length > entries_added:
            raise CommandError(errors.XSETID_ADDED_BELOW_LENGTH)
    m.last_id = new_id
    if entries_added != -1:
        m.entries_added = entries_added
    if max_deleted != MIN_ID:
        m.max_deleted = max_deleted
    s.commit()


# --- consumer-group counters (t_stream.c, Redis 7.0) ------------------------------------------
ENTRIES_READ_INVALID = -1


def range_has_tombstones(m: StreamMeta, start: ID | None, end: ID | None = None) -> bool:
    """streamRangeHasTombstones (7.0: a tombstone before the first entry does not count)."""
    if not m.length or m.max_deleted == MIN_ID:
        return False
    if m.first_id > m.max_deleted:
        return False
    lo = start if start is not None else MIN_ID
    hi = end if end is not None else MAX_ID
    return lo <= m.max_deleted <= hi


def estimate_entries_read(m: StreamMeta, i: ID) -> int:
    """streamEstimateDistanceFromFirstEverEntry of Redis 7.0 (-1: unknown)."""
    if not m.entries_added:
        return 0
    if not m.length and i <= m.last_id:
        return m.entries_added
    if i == m.last_id:
        return m.entries_added
    if i > m.last_id:
        return ENTRIES_READ_INVALID
    if m.max_deleted == MIN_ID or m.max_deleted < m.first_id:
        if i < m.first_id:
            return m.entries_added - m.length
        if i == m.first_id:
            return m.entries_added - m.length + 1
    return ENTRIES_READ_INVALID


def group_lag(m: StreamMeta, last_id: ID, entries_read: int) -> int | None:
    """streamReplyWithCGLag of Redis 7.0: the group's lag, None when it cannot be known."""
    if not m.entries_added:
        return 0
    if entries_read != ENTRIES_READ_INVALID and not range_has_tombstones(m, last_id):
        return m.entries_added - entries_read
    est = estimate_entries_read(m, last_id)
    if est != ENTRIES_READ_INVALID:
        return m.entries_added - est
    return None


# --- whole-value helpers: DUMP / RESTORE, DEBUG DIGEST -------------------------------------------
def iter_all(db: Database, mkey: bytes, raw: bytes) -> Iterator[Entry]:
    meta = StreamMeta.decode(raw)
    s = Stream(Txn(db), mkey, raw, meta)
    return s.iter_entries()


def _to_rdb(db: Database, mkey: bytes, raw: bytes) -> RdbValue:
    from pikadb.storage import streams_groups  # the groups module imports this one

    return RdbValue("stream", streams_groups.to_stream_value(db, mkey, raw))


def _from_rdb(
    batch: Batch, db: Database, mkey: bytes, old: bytes | None, value: object, expire_at_ms: int
) -> None:
    from pikadb.storage import streams_groups

    if not streams_groups.is_stream_value(value):
        raise CommandError(BAD_FORMAT)
    streams_groups.store_stream_value(batch, db, mkey, old, value, expire_at_ms)


generic.register_rdb(T_STREAM, "stream", _to_rdb, _from_rdb)
