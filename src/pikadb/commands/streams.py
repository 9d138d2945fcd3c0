"""Stream commands (Redis 7.0, t_stream.c): XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM,
XSETID and XREAD (with BLOCK). Consumer groups: :mod:`pikadb.commands.streams_groups`;
XINFO: :mod:`pikadb.commands.streams_info`.

Ids are parsed like streamGenericParseIDOrReply: ``ms-seq`` with each part read by
string2ull (canonical decimal, else strtoull: leading blanks, a sign, leading zeros), a
missing ``-seq`` filled in per command, ``-``/``+`` where the command allows them, ``ms-*``
for XADD. Argument errors come in Redis's order (e.g. XADD checks its options, then the
arity of the field list, then 0-0, then the key).

Blocking reads (XREAD/XREADGROUP BLOCK) use :mod:`pikadb.commands.blocking`. Redis wakes
them only when the key is "signaled": XADD, XGROUP DESTROY, or the key being created,
deleted or replaced; an XSETID or XGROUP SETID does not wake anybody. :func:`signal` bumps
a per-key generation that the waiters' serve callbacks compare (a replaced key shows as a
new version), so other writes to the key (which also touch it) do not serve a waiter early.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pikadb.commands import blocking
from pikadb.commands._args import INT64_MAX, parse_int
from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.debug import digest_stream, register_value_digest
from pikadb.commands.notify import STREAM, notify
from pikadb.commands.object_cmd import register_encoding
from pikadb.commands.table import Handler, KeySpec, command
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import EMPTY_ARRAY, OK, ZERO, bulk, integer
from pikadb.storage import layout as L
from pikadb.storage import streams
from pikadb.storage.streams import ID, MAX_ID, MIN_ID, U64, Entry, TrimArgs

G = "stream"
INVALID_ID = errors.STREAM_INVALID_ID
_SYNTAX = errors.SYNTAX
_WS = b" \t\n\v\f\r"
_STRTOULL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)")


def _cmd(
    name: str,
    arity: int,
    flags: str,
    summary: str,
    args: str,
    *,
    key_flags: str = "",
    keys: tuple[int, int, int] = (1, 1, 1),
    since: str = "5.0.0",
    complexity: str = "O(1)",
    tips: str = "",
    key_specs: tuple[KeySpec, ...] = (),
    key_finder: Callable[[list[bytes]], list[int]] | None = None,
    history: tuple[tuple[str, str], ...] = (),
) -> Callable[[Handler], Handler]:
    """:func:`command` with this family's defaults (@stream, one key)."""
    return command(
        name,
        arity,
        flags,
        keys=keys,
        acl="stream",
        group=G,
        summary=summary,
        since=since,
        complexity=complexity,
        args=args,
        key_flags=key_flags,
        tips=tips,
        key_specs=key_specs,
        key_finder=key_finder,
        history=history,
    )


# --- ids -------------------------------------------------------------------------------------
def string2ull(s: bytes) -> int | None:
    """Redis's string2ull: a canonical int64 (negative rejected), else strtoull base 10
    (blanks, a sign, leading zeros; a '-' wraps modulo 2**64; overflow rejected)."""
    if s and (s[0] != 0x2D or len(s) > 1):
        try:
            v = int(s)
        except ValueError:
            v = None
        if v is not None and b"%d" % v == s and -(1 << 63) <= v < (1 << 63):
            return v if v >= 0 else None
    m = _STRTOULL.fullmatch(s)
    if m is None:
        return None
    v = int(m.group(2))
    if v > U64:
        return None
    return (-v) & U64 if m.group(1) == b"-" else v


def parse_id(
    raw: bytes, missing_seq: int = 0, strict: bool = False, seq_auto: bool = False
) -> tuple[ID, bool]:
    """(id, seq given) as streamGenericParseIDOrReply; ``seq_auto`` accepts ``ms-*``."""
    if len(raw) > 127:
        raise CommandError(INVALID_ID)
    nul = raw.find(b"\x00")
    buf = raw if nul < 0 else raw[:nul]
    if buf == b"-" or buf == b"+":
        if strict:
            raise CommandError(INVALID_ID)
        return (MIN_ID if buf == b"-" else MAX_ID), True
    dash = buf.find(b"-")
    ms = string2ull(buf if dash < 0 else buf[:dash])
    if ms is None:
        raise CommandError(INVALID_ID)
    if dash < 0:
        return (ms, missing_seq), True
    rest = buf[dash + 1 :]
    if seq_auto and rest == b"*":
        return (ms, 0), False
    seq = string2ull(rest)
    if seq is None:
        raise CommandError(INVALID_ID)
    return (ms, seq), True


def strict_id(raw: bytes, missing_seq: int = 0) -> ID:
    return parse_id(raw, missing_seq, strict=True)[0]


def parse_interval(raw: bytes, missing_seq: int) -> tuple[ID, bool]:
    """streamParseIntervalIDOrReply: (id, exclusive); ``(id`` is exclusive and strict."""
    if len(raw) > 1 and raw[:1] == b"(":
        return parse_id(raw[1:], missing_seq, strict=True)[0], True
    return parse_id(raw, missing_seq)[0], False


def range_start(raw: bytes) -> ID:
    i, ex = parse_interval(raw, 0)
    if ex:
        nxt = streams.incr_id(i)
        if nxt is None:
            raise CommandError(errors.STREAM_INVALID_START)
        return nxt
    return i


def range_end(raw: bytes) -> ID:
    i, ex = parse_interval(raw, U64)
    if ex:
        prv = streams.decr_id(i)
        if prv is None:
            raise CommandError(errors.STREAM_INVALID_END)
        return prv
    return i


def fmt_id(i: ID) -> bytes:
    s = b"%d-%d" % i
    return b"$%d\r\n%s\r\n" % (len(s), s)


# --- replies ---------------------------------------------------------------------------------
def entry_reply(e: Entry) -> bytes:
    i, items = e
    parts = [b"*2\r\n", fmt_id(i), b"*%d\r\n" % len(items)]
    parts += [b"$%d\r\n%s\r\n" % (len(x), x) for x in items]
    return b"".join(parts)


def entries_reply(entries: list[Entry]) -> bytes:
    return b"*%d\r\n" % len(entries) + b"".join(entry_reply(e) for e in entries)


def maybe_entry_reply(c: ClientState, i: ID, items: list[bytes] | None) -> bytes:
    """An entry, or [id, nil] for a pending entry deleted from the stream."""
    if items is None:
        return b"*2\r\n" + fmt_id(i) + c.enc.null_array
    return entry_reply((i, items))


def streams_reply(c: ClientState, parts: list[tuple[bytes, bytes]]) -> bytes:
    """XREAD's reply: [[key, entries], ...] (RESP2) or a map key -> entries (RESP3)."""
    if c.resp == 2:
        return b"*%d\r\n" % len(parts) + b"".join(b"*2\r\n" + bulk(k) + v for k, v in parts)
    return b"%%%d\r\n" % len(parts) + b"".join(bulk(k) + v for k, v in parts)


# --- XADD / XTRIM argument parsing (streamParseAddOrTrimArgsOrReply) ----------------------------
def parse_add_or_trim(args: list[bytes], xadd: bool) -> tuple[int, TrimArgs | None, bool, int, ID]:
    """(position of the id, trim args, nomkstream, id mode, requested id)."""
    i = 2
    argc = len(args)
    strategy = ""
    approx = False
    maxlen = 0
    minid = MIN_ID
    limit = 0
    limit_given = False
    nomkstream = False
    mode = streams.ID_AUTO
    req = MIN_ID
    while i < argc:
        more = argc - 1 - i
        opt = args[i]
        low = opt.lower()
        if xadd and opt == b"*":
            break
        if low == b"maxlen" and more:
            if strategy:
                raise CommandError(errors.XTRIM_MAXLEN_AND_MINID)
            approx = False
            nxt = args[i + 1]
            if more >= 2 and nxt == b"~":
                approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            maxlen = parse_int(args[i + 1])
            if maxlen < 0:
                raise CommandError(errors.XTRIM_MAXLEN_NEGATIVE)
            i += 1
            strategy = "maxlen"
        elif low == b"minid" and more:
            if strategy:
                raise CommandError(errors.XTRIM_MAXLEN_AND_MINID)
            approx = False
            nxt = args[i + 1]
            if more >= 2 and nxt == b"~":
                approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            minid = strict_id(args[i + 1])
            i += 1
            strategy = "minid"
        elif low == b"limit" and more:
            limit = parse_int(args[i + 1])
            if limit < 0:
                raise CommandError(errors.XTRIM_LIMIT_NEGATIVE)
            limit_given = True
            i += 1
        elif xadd and low == b"nomkstream":
            nomkstream = True
        elif xadd:
            req, seq_given = parse_id(opt, 0, strict=True, seq_auto=True)
            mode = streams.ID_EXPLICIT if seq_given else streams.ID_SEQ_AUTO
            break
        else:
            raise CommandError(_SYNTAX)
        i += 1
    if limit and not strategy:
        raise CommandError(errors.XTRIM_LIMIT_NO_STRATEGY)
    if not xadd and not strategy:
        raise CommandError(errors.XTRIM_NO_STRATEGY)
    if limit_given:
        if not approx:
            raise CommandError(errors.XTRIM_LIMIT_NO_TILDE)
    elif approx:
        limit = streams.TRIM_LIMIT_DEFAULT
    else:
        limit = 0
    trim = TrimArgs(strategy, maxlen, minid, approx, limit) if strategy else None
    return i, trim, nomkstream, mode, req


@_cmd(
    "xadd",
    -5,
    "write denyoom fast",
    "Appends a new entry to a stream",
    "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]",
    tips="nondeterministic_output",
    complexity="O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    key_specs=(
        KeySpec(
            "RW update",
            index=1,
            notes="UPDATE instead of INSERT because of the optional trimming feature",
        ),
    ),
    history=(
        (
            "6.2.0",
            "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option.",
        ),
        ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
    ),
)
def xadd(c: ClientState, args: list[bytes]) -> bytes:
    idpos, trim, nomkstream, mode, req = parse_add_or_trim(args, True)
    field_pos = idpos + 1
    n = len(args) - field_pos
    if n < 2 or n % 2:
        raise CommandError(errors.wrong_arity("xadd"))
    if mode == streams.ID_EXPLICIT and req == MIN_ID:
        raise CommandError(errors.XADD_ID_ZERO)
    got = streams.add(c.db, args[1], mode, req, args[field_pos:], nomkstream, trim)
    if got is None:
        return c.enc.null
    notify(c, STREAM, b"xadd", args[1])
    if got[1]:
        notify(c, STREAM, b"xtrim", args[1])
    signal(c, args[1])
    return fmt_id(got[0])


@_cmd(
    "xtrim",
    -4,
    "write",
    "Deletes messages from the beginning of a stream.",
    "key MAXLEN|MINID [=|~] threshold [LIMIT count]",
    key_flags="RW delete",
    since="5.0.0",
    complexity="O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    tips="nondeterministic_output",
    history=(("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."),),
)
def xtrim(c: ClientState, args: list[bytes]) -> bytes:
    _pos, trim, _nomk, _mode, _req = parse_add_or_trim(args, False)
    assert trim is not None
    n = streams.trim(c.db, args[1], trim)
    if n:
        notify(c, STREAM, b"xtrim", args[1])
    return integer(n)


# --- XRANGE / XREVRANGE / XLEN ------------------------------------------------------------------
def _xrange(c: ClientState, args: list[bytes], rev: bool) -> bytes:
    start_arg, end_arg = (args[3], args[2]) if rev else (args[2], args[3])
    start = range_start(start_arg)
    end = range_end(end_arg)
    count = -1
    j = 4
    while j < len(args):
        if args[j].lower() == b"count" and len(args) - j - 1 >= 1:
            count = parse_int(args[j + 1])
            if count < 0:
                count = 0
            j += 2
        else:
            raise CommandError(_SYNTAX)
    got = streams.range_entries(c.db, args[1], start, end, max(count, 0), rev)
    if got is None:
        return EMPTY_ARRAY
    if count == 0:
        return c.enc.null_array
    return entries_reply(got)


@_cmd(
    "xrange",
    -4,
    "readonly",
    "Return a range of elements in a stream, with IDs matching the specified IDs interval",
    "key start end [COUNT count]",
    key_flags="RO access",
    complexity="O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    history=(("6.2.0", "Added exclusive ranges."),),
)
def xrange(c: ClientState, args: list[bytes]) -> bytes:
    return _xrange(c, args, False)


@_cmd(
    "xrevrange",
    -4,
    "readonly",
    "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
    "key end start [COUNT count]",
    key_flags="RO access",
    complexity="O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    history=(("6.2.0", "Added exclusive ranges."),),
)
def xrevrange(c: ClientState, args: list[bytes]) -> bytes:
    return _xrange(c, args, True)


@_cmd(
    "xlen",
    2,
    "readonly fast",
    "Return the number of entries in a stream",
    "key",
    key_flags="RO",
)
def xlen(c: ClientState, args: list[bytes]) -> bytes:
    return integer(streams.length(c.db, args[1]))


# --- XDEL / XSETID -------------------------------------------------------------------------------
@_cmd(
    "xdel",
    -3,
    "write fast",
    "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
    "key id [id ...]",
    key_flags="RW delete",
    complexity="O(1) for each single item to delete in the stream, regardless of the stream size.",
)
def xdel(c: ClientState, args: list[bytes]) -> bytes:
    if streams.meta_of(c.db, args[1]) is None:
        return ZERO
    ids = [strict_id(a) for a in args[2:]]
    n = streams.delete(c.db, args[1], ids)
    if n:
        notify(c, STREAM, b"xdel", args[1])
    return integer(n)


@_cmd(
    "xsetid",
    -3,
    "write denyoom fast",
    "An internal command for replicating stream values",
    "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
    key_flags="RW update",
    complexity="O(1)",
    history=(("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments."),),
)
def xsetid(c: ClientState, args: list[bytes]) -> bytes:
    new_id = strict_id(args[2])
    entries_added = -1
    max_del = MIN_ID
    i = 3
    while i < len(args):
        more = len(args) - 1 - i
        opt = args[i].lower()
        if opt == b"entriesadded" and more:
            entries_added = parse_int(args[i + 1])
            if entries_added < 0:
                raise CommandError(errors.XSETID_ENTRIES_ADDED_NEGATIVE)
            i += 2
        elif opt == b"maxdeletedid" and more:
            max_del = strict_id(args[i + 1])
            if new_id < max_del:
                raise CommandError(errors.XSETID_BELOW_MAX_DELETED)
            i += 2
        else:
            raise CommandError(_SYNTAX)
    streams.set_id(c.db, args[1], new_id, entries_added, max_del)
    notify(c, STREAM, b"xsetid", args[1])
    return OK


# --- XREAD --------------------------------------------------------------------------------------
XREAD_BLOCKED_DEFAULT_COUNT = 1000

# (server, db index, key) -> generation, bumped by signal(): see the module docstring.
_GENERATIONS: dict[tuple[int, int, bytes], int] = {}


def signal(c: ClientState, key: bytes) -> None:
    """signalKeyAsReady for streams (XADD, XGROUP DESTROY): wake XREAD/XREADGROUP waiters."""
    waiting = blocking.registry(c.server).waiting
    if waiting and (c.db.index, key) in waiting:
        gk = (id(c.server), c.db.index, key)
        _GENERATIONS[gk] = _GENERATIONS.get(gk, 0) + 1


def generation(server: ServerState, index: int, key: bytes) -> int:
    return _GENERATIONS.get((id(server), index, key), 0)


def parse_block_timeout(raw: bytes) -> int:
    """BLOCK <milliseconds> (getTimeoutFromObjectOrReply, UNIT_MILLISECONDS): 0 = forever."""
    ms = parse_int(raw, errors.TIMEOUT_NOT_INTEGER)
    if ms < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    if ms and ms > INT64_MAX - now_ms():
        return 0
    return ms


class ReadArgs:
    """Parsed XREAD / XREADGROUP arguments."""

    __slots__ = ("consumer", "count", "group", "keys", "noack", "raw_ids", "timeout")

    def __init__(self) -> None:
        self.timeout = -1
        self.count = 0
        self.group: bytes | None = None
        self.consumer: bytes = b""
        self.noack = False
        self.keys: list[bytes] = []
        self.raw_ids: list[bytes] = []


def parse_read(args: list[bytes], group: bool) -> ReadArgs:
    """xreadCommand's option loop (the ids are resolved per key afterwards)."""
    a = ReadArgs()
    argc = len(args)
    streams_arg = 0
    i = 1
    while i < argc:
        more = argc - i - 1
        o = args[i].lower()
        if o == b"block" and more:
            i += 1
            a.timeout = parse_block_timeout(args[i])
        elif o == b"count" and more:
            i += 1
            a.count = max(0, parse_int(args[i]))
        elif o == b"streams" and more:
            streams_arg = i + 1
            n = argc - streams_arg
            if n % 2:
                raise CommandError(errors.XREAD_UNBALANCED)
            n //= 2
            a.keys = args[streams_arg : streams_arg + n]
            a.raw_ids = args[streams_arg + n :]
            break
        elif o == b"group" and more >= 2:
            if not group:
                raise CommandError(errors.XREAD_GROUP_OPTION)
            a.group = args[i + 1]
            a.consumer = args[i + 2]
            i += 2
        elif o == b"noack":
            if not group:
                raise CommandError(errors.XREAD_NOACK_OPTION)
            a.noack = True
        else:
            raise CommandError(_SYNTAX)
        i += 1
    if not streams_arg:
        raise CommandError(_SYNTAX)
    if group and a.group is None:
        raise CommandError(errors.XREADGROUP_MISSING_GROUP)
    return a


def streams_finder(args: list[bytes], startfrom: int = 1) -> list[int]:
    """The keys by Redis 7.0's key spec: the first ``STREAMS`` at or after ``startfrom``,
    then half of what follows it (the other half are the ids)."""
    for pos in range(startfrom, len(args)):
        if args[pos].lower() == b"streams":
            n = (len(args) - pos - 1) // 2
            if not n:
                break
            return list(range(pos + 1, pos + 1 + n))
    raise ValueError("xread: no keys")


def group_streams_finder(args: list[bytes]) -> list[int]:
    return streams_finder(args, 4)


def _xread_serve(c: ClientState, key: bytes, gt: ID, count: int) -> blocking.Serve:
    db = c.db
    server = c.server
    index = db.index
    raw0 = db.lookup(key)[1]
    seen = [generation(server, index, key), L.version_of(raw0) if raw0 is not None else None]

    def serve(k: bytes) -> bytes | None:
        raw = db.lookup(k)[1]
        ver = L.version_of(raw) if raw is not None and raw[0] == streams.T_STREAM else None
        gen = generation(server, index, k)
        if gen == seen[0] and ver == seen[1]:
            return None
        seen[0], seen[1] = gen, ver
        if ver is None:
            return None
        s = streams.open_stream(db, k)
        if s is None or not s.meta.last_id > gt:
            return None
        got = streams.read_after(s, gt, count)
        return streams_reply(c, [(k, entries_reply(got))])

    return serve


@_cmd(
    "xread",
    -4,
    "readonly blocking",
    "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
    "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
    keys=(0, 0, 0),
    complexity="For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
    key_specs=(
        KeySpec("RO access", keyword="STREAMS", startfrom=1, find="range", lastkey=-1, limit=2),
    ),
    key_finder=streams_finder,
)
def xread(c: ClientState, args: list[bytes]) -> Any:
    a = parse_read(args, False)
    db = c.db
    ids: list[ID] = []
    for key, raw_id in zip(a.keys, a.raw_ids, strict=True):
        meta = streams.meta_of(db, key)
        if raw_id == b"$":
            ids.append(meta.last_id if meta is not None else MIN_ID)
            continue
        if raw_id == b">":
            raise CommandError(errors.XREAD_GT_ID)
        ids.append(strict_id(raw_id))
    parts: list[tuple[bytes, bytes]] = []
    for key, gt in zip(a.keys, ids, strict=True):
        s = streams.open_stream(db, key)
        if s is None or not s.meta.length:
            continue
        got = streams.read_after(s, gt, a.count)
        if got:
            parts.append((key, entries_reply(got)))
    if parts:
        return streams_reply(c, parts)
    if a.timeout == -1 or not blocking.can_block(c):
        return c.enc.null_array
    count = a.count or XREAD_BLOCKED_DEFAULT_COUNT
    serves = {key: _xread_serve(c, key, gt, count) for key, gt in zip(a.keys, ids, strict=True)}
    return blocking.block(c, a.keys, a.timeout, lambda k: serves[k](k), f"xread:{c.id}")


# --- hooks -----------------------------------------------------------------------------------------
register_encoding(streams.T_STREAM, lambda db, mkey, raw: b"stream")
register_value_digest(
    streams.T_STREAM,
    lambda db, mkey, raw, d: digest_stream(
        d,
        (
            (i[0], i[1], zip(it[0::2], it[1::2], strict=True))
            for i, it in streams.iter_all(db, mkey, raw)
        ),
    ),
)
