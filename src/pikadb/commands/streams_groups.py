"""Stream consumer-group commands (Redis 7.0): XGROUP CREATE / SETID / DESTROY /
CREATECONSUMER / DELCONSUMER / HELP, XREADGROUP (with BLOCK), XACK, XPENDING, XCLAIM and
XAUTOCLAIM. Storage: :mod:`pikadb.storage.streams_groups`.

Redis 7.0 details kept: XREADGROUP creates the consumer only when it serves something
(an explicit id always serves the consumer's history); ``$`` / ``>`` misuse errors; a
blocked XREADGROUP gets ``-NOGROUP`` when its group is destroyed and ``-UNBLOCKED`` when the
key is deleted or replaced; XCLAIM/XAUTOCLAIM drop pending entries whose stream entry was
deleted (XAUTOCLAIM lists them). Idle times are computed from the wall clock (ms).
"""

from __future__ import annotations

from typing import Any

from pikadb.commands import blocking
from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.introspection import help_reply
from pikadb.commands.notify import STREAM, notify
from pikadb.commands.streams import (
    XREAD_BLOCKED_DEFAULT_COUNT,
    entries_reply,
    fmt_id,
    generation,
    group_streams_finder,
    maybe_entry_reply,
    parse_id,
    parse_read,
    range_end,
    range_start,
    signal,
    streams_reply,
    strict_id,
)
from pikadb.commands.table import KeySpec, command, container
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, ONE, ZERO, bulk, integer
from pikadb.storage import layout as L
from pikadb.storage import streams
from pikadb.storage import streams_groups as SG
from pikadb.storage.streams import ID, MAX_ID, MIN_ID, Stream

G = "stream"
ENTRIES_READ_INVALID = streams.ENTRIES_READ_INVALID
NEED_KEY = errors.XGROUP_NEED_KEY
BUSYGROUP = errors.BUSYGROUP


def _nogroup_for_key(group: bytes, key: bytes) -> str:
    return errors.NOGROUP_FOR_KEY.format(
        group.decode("utf-8", "replace"), key.decode("utf-8", "replace")
    )


def _nogroup(key: bytes, group: bytes, fmt: str = errors.NOGROUP_KEY_OR_GROUP) -> str:
    return fmt.format(key.decode("utf-8", "replace"), group.decode("utf-8", "replace"))


def _created(c: ClientState, key: bytes, gv: SG.GroupView) -> None:
    """The xgroup-createconsumer events of consumers a command created implicitly."""
    for _name in gv.created:
        notify(c, STREAM, b"xgroup-createconsumer", key)
    gv.created.clear()


# --- XGROUP -----------------------------------------------------------------------------------------
container("xgroup", -2, group=G, summary="A container for consumer groups commands", since="5.0.0")

_XGROUP_HELP = [
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
]


def _sub_syntax(args: list[bytes]) -> CommandError:
    return CommandError(errors.subcommand_syntax(args[1].decode("utf-8", "replace"), "xgroup"))


def _xgroup(c: ClientState, args: list[bytes]) -> bytes:
    """xgroupCommand: shared checks in Redis's order, then the subcommand."""
    sub = args[1].lower()
    argc = len(args)
    mkstream = False
    entries_read = ENTRIES_READ_INVALID
    i = 5
    while i < argc:
        opt = args[i].lower()
        if sub == b"create" and opt == b"mkstream":
            mkstream = True
            i += 1
        elif sub in (b"create", b"setid") and opt == b"entriesread" and i + 1 < argc:
            entries_read = parse_int(args[i + 1])
            if entries_read < 0 and entries_read != ENTRIES_READ_INVALID:
                raise CommandError(errors.XGROUP_ENTRIESREAD)
            i += 2
        else:
            raise _sub_syntax(args)
    key, name = args[2], args[3]
    s = streams.open_stream(c.db, key)
    gv: SG.GroupView | None = None
    if not mkstream:
        if s is None:
            raise CommandError(NEED_KEY)
        gv = SG.group(s, name)
        if gv is None and sub in (b"setid", b"createconsumer", b"delconsumer"):
            raise CommandError(_nogroup_for_key(name, key))
    if sub == b"create" and 5 <= argc <= 8:
        if args[4] == b"$":
            last = s.meta.last_id if s is not None else MIN_ID
        else:
            last = strict_id(args[4])
        if s is None:
            s = streams.open_stream(c.db, key, create=True)
            assert s is not None
        if SG.create_group(s, name, last, entries_read) is None:
            raise CommandError(BUSYGROUP)
        s.commit()
        notify(c, STREAM, b"xgroup-create", key)
        return OK
    if s is None:  # MKSTREAM on a missing key with a bad argument count
        raise _sub_syntax(args)
    if sub == b"setid" and argc in (5, 7):
        assert gv is not None
        last = s.meta.last_id if args[4] == b"$" else parse_id(args[4])[0]
        gv.g.last_id = last
        gv.g.entries_read = entries_read
        gv.flush()
        s.commit()
        notify(c, STREAM, b"xgroup-setid", key)
        return OK
    if sub == b"destroy" and argc == 4:
        if gv is None:
            return ZERO
        SG.destroy_group(gv)
        s.commit()
        notify(c, STREAM, b"xgroup-destroy", key)
        signal(c, key)
        return ONE
    if sub == b"createconsumer" and argc == 5:
        assert gv is not None
        made = gv.create_consumer(args[4], now_ms())
        if made is None:
            return ZERO
        gv.flush()
        s.commit()
        notify(c, STREAM, b"xgroup-createconsumer", key)
        return ONE
    if sub == b"delconsumer" and argc == 5:
        assert gv is not None
        cons = gv.consumer(args[4])
        if cons is None:
            return ZERO
        pending = gv.delete_consumer(cons)
        gv.flush()
        s.commit()
        notify(c, STREAM, b"xgroup-delconsumer", key)
        return integer(pending)
    raise _sub_syntax(args)


def _gcmd(
    name: str, arity: int, flags: str, key_flags: str, summary: str, args: str, **kw: Any
) -> Any:
    return command(
        name,
        arity,
        flags,
        keys=(2, 2, 1),
        acl="stream",
        group=G,
        parent="xgroup",
        summary=summary,
        args=args,
        key_flags=key_flags,
        **kw,
    )


@_gcmd(
    "create",
    -5,
    "write denyoom",
    "RW insert",
    "Create a consumer group.",
    "key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]",
    since="5.0.0",
    complexity="O(1)",
    history=(("7.0.0", "Added the `entries_read` named argument."),),
)
def xgroup_create(c: ClientState, args: list[bytes]) -> bytes:
    return _xgroup(c, args)


@_gcmd(
    "setid",
    -5,
    "write",
    "RW update",
    "Set a consumer group to an arbitrary last delivered ID value.",
    "key group id|$ [ENTRIESREAD entries-read]",
    since="5.0.0",
    complexity="O(1)",
    history=(("7.0.0", "Added the optional `entries_read` argument."),),
)
def xgroup_setid(c: ClientState, args: list[bytes]) -> bytes:
    return _xgroup(c, args)


@_gcmd(
    "destroy",
    4,
    "write",
    "RW delete",
    "Destroy a consumer group.",
    "key group",
    since="5.0.0",
    complexity="O(N) where N is the number of entries in the group's pending entries list (PEL).",
)
def xgroup_destroy(c: ClientState, args: list[bytes]) -> bytes:
    return _xgroup(c, args)


@_gcmd(
    "createconsumer",
    5,
    "write denyoom",
    "RW insert",
    "Create a consumer in a consumer group.",
    "key group consumer",
    since="6.2.0",
    complexity="O(1)",
)
def xgroup_createconsumer(c: ClientState, args: list[bytes]) -> bytes:
    return _xgroup(c, args)


@_gcmd(
    "delconsumer",
    5,
    "write",
    "RW delete",
    "Delete a consumer from a consumer group.",
    "key group consumer",
    since="5.0.0",
    complexity="O(1)",
)
def xgroup_delconsumer(c: ClientState, args: list[bytes]) -> bytes:
    return _xgroup(c, args)


@command(
    "help",
    2,
    "loading stale",
    acl="stream",
    group=G,
    parent="xgroup",
    summary="Show helpful text about the different subcommands",
    since="5.0.0",
    complexity="O(1)",
)
def xgroup_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(b"xgroup", _XGROUP_HELP)


# --- XREADGROUP -------------------------------------------------------------------------------------
_DOLLAR_IN_GROUP = errors.XREADGROUP_DOLLAR_ID


def _xreadgroup_serve(
    c: ClientState, key: bytes, group: bytes, consumer: bytes, count: int, noack: bool
) -> blocking.Serve:
    """serveClientsBlockedOnStreamKey for one XREADGROUP waiter (always the ``>`` id)."""
    db = c.db
    server = c.server
    index = db.index
    raw0 = db.lookup(key)[1]
    seen = [generation(server, index, key), L.version_of(raw0) if raw0 is not None else None]

    def serve(k: bytes) -> bytes | None:
        raw = db.lookup(k)[1]
        if raw is None or raw[0] != streams.T_STREAM:
            raise CommandError(errors.UNBLOCKED_STREAM_DELETED)
        ver = L.version_of(raw)
        gen = generation(server, index, k)
        if gen == seen[0] and ver == seen[1]:
            return None
        seen[0], seen[1] = gen, ver
        s = streams.open_stream(db, k)
        assert s is not None
        gv = SG.group(s, group)
        if gv is None:
            raise CommandError(errors.NOGROUP_BLOCKED)
        if not s.meta.last_id > gv.g.last_id:
            return None
        got = SG.read_new(gv, consumer, count, noack, now_ms(), force=True)
        s.commit()
        _created(c, k, gv)
        return streams_reply(c, [(k, entries_reply(got or []))])

    return serve


@command(
    "xreadgroup",
    -7,
    "write blocking",
    keys=(0, 0, 0),
    acl="stream",
    group=G,
    summary="Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
    since="5.0.0",
    complexity="For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    args="GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]",
    key_specs=(
        KeySpec("RO access", keyword="STREAMS", startfrom=4, find="range", lastkey=-1, limit=2),
    ),
    key_finder=group_streams_finder,
)
def xreadgroup(c: ClientState, args: list[bytes]) -> Any:
    a = parse_read(args, True)
    assert a.group is not None
    db = c.db
    opened: dict[bytes, Stream] = {}
    txn = streams.Txn(db)
    ids: list[ID | None] = []  # None: ">"
    for key, raw_id in zip(a.keys, a.raw_ids, strict=True):
        s = opened.get(key)
        if s is None:
            s = streams.open_stream(db, key, txn=txn)
            if s is not None:
                opened[key] = s
        if s is None or SG.group(s, a.group) is None:
            raise CommandError(_nogroup(key, a.group, errors.NOGROUP_IN_XREADGROUP))
        if raw_id == b"$":
            raise CommandError(_DOLLAR_IN_GROUP)
        if raw_id == b">":
            ids.append(None)
            continue
        gt = strict_id(raw_id)
        ids.append(None if gt == MAX_ID else gt)  # Redis marks ">" with the maximum id
    now = now_ms()
    parts: list[tuple[bytes, bytes]] = []
    views: list[tuple[bytes, SG.GroupView]] = []
    for key, gt in zip(a.keys, ids, strict=True):
        s = opened[key]
        gv = SG.group(s, a.group)
        assert gv is not None
        views.append((key, gv))
        if gt is None:
            got = SG.read_new(gv, a.consumer, a.count, a.noack, now)
            if got is None:
                continue
            parts.append((key, entries_reply(got)))
        else:
            hist = SG.read_history(gv, a.consumer, gt, a.count, now)
            body = b"".join(maybe_entry_reply(c, i, it) for i, it in hist)
            parts.append((key, b"*%d\r\n" % len(hist) + body))
    if opened:
        for s in opened.values():
            s.save()
        txn.commit()
        for key, gv in views:
            _created(c, key, gv)
    if parts:
        return streams_reply(c, parts)
    if a.timeout == -1 or not blocking.can_block(c):
        return c.enc.null_array
    count = a.count or XREAD_BLOCKED_DEFAULT_COUNT
    serves: dict[bytes, blocking.Serve] = {}
    for key in a.keys:
        if key not in serves:
            serves[key] = _xreadgroup_serve(c, key, a.group, a.consumer, count, a.noack)
    return blocking.block(c, a.keys, a.timeout, lambda k: serves[k](k), f"xreadgroup:{c.id}")


# --- XACK ---------------------------------------------------------------------------------------------
@command(
    "xack",
    -4,
    "write fast",
    keys=(1, 1, 1),
    acl="stream",
    group=G,
    summary="Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
    since="5.0.0",
    complexity="O(1) for each message ID processed.",
    args="key group id [id ...]",
    key_flags="RW update",
)
def xack(c: ClientState, args: list[bytes]) -> bytes:
    s = streams.open_stream(c.db, args[1])
    gv = SG.group(s, args[2]) if s is not None else None
    if s is None or gv is None:
        return ZERO
    ids = [strict_id(a) for a in args[3:]]
    n = SG.ack(gv, ids)
    if n:
        s.commit()
    return integer(n)


# --- XPENDING -----------------------------------------------------------------------------------------
@command(
    "xpending",
    -3,
    "readonly",
    keys=(1, 1, 1),
    acl="stream",
    group=G,
    summary="Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
    since="5.0.0",
    complexity="O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    args="key group [[IDLE min-idle-time] start end count [consumer]]",
    key_flags="RO access",
    tips="nondeterministic_output",
    history=(("6.2.0", "Added the `IDLE` option and exclusive range intervals."),),
)
def xpending(c: ClientState, args: list[bytes]) -> bytes:
    argc = len(args)
    if argc != 3 and (argc < 6 or argc > 9):
        raise CommandError(errors.SYNTAX)
    key, group = args[1], args[2]
    start = MIN_ID
    end = MAX_ID
    count = 0
    min_idle = 0
    consumer: bytes | None = None
    if argc >= 6:
        idx = 3
        if args[3].lower() == b"idle":
            min_idle = parse_int(args[4])
            if argc < 8:
                raise CommandError(errors.SYNTAX)
            idx += 2
        count = max(0, parse_int(args[idx + 2]))
        start = range_start(args[idx])
        end = range_end(args[idx + 1])
        if idx + 3 < argc:
            consumer = args[idx + 3]
    s = streams.open_stream(c.db, key)
    gv = SG.group(s, group) if s is not None else None
    if gv is None:
        raise CommandError(_nogroup(key, group))
    if argc == 3:
        summ = SG.pending_summary(gv)
        if not summ.count:
            return b"*4\r\n:0\r\n" + c.enc.null + c.enc.null + c.enc.null_array
        cons = b"".join(b"*2\r\n" + bulk(name) + bulk(b"%d" % n) for name, n in summ.consumers)
        assert summ.first is not None and summ.last is not None
        return (
            b"*4\r\n"
            + integer(summ.count)
            + fmt_id(summ.first)
            + fmt_id(summ.last)
            + b"*%d\r\n" % len(summ.consumers)
            + cons
        )
    now = now_ms()
    got = SG.pending_range(gv, start, end, count, min_idle, consumer, now)
    if got is None:
        return b"*0\r\n"
    out = [
        b"*4\r\n"
        + fmt_id(p.id)
        + bulk(p.consumer)
        + integer(max(0, now - p.delivery_time))
        + integer(p.delivery_count)
        for p in got
    ]
    return b"*%d\r\n" % len(out) + b"".join(out)


# --- XCLAIM / XAUTOCLAIM -------------------------------------------------------------------------------
@command(
    "xclaim",
    -6,
    "write fast",
    keys=(1, 1, 1),
    acl="stream",
    group=G,
    summary="Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
    since="5.0.0",
    complexity="O(log N) with N being the number of messages in the PEL of the consumer group.",
    args="key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]",
    key_flags="RW update",
    tips="nondeterministic_output",
)
def xclaim(c: ClientState, args: list[bytes]) -> bytes:
    key, group = args[1], args[2]
    s = streams.open_stream(c.db, key)
    gv = SG.group(s, group) if s is not None else None
    if s is None or gv is None:
        raise CommandError(_nogroup(key, group))
    min_idle = max(0, parse_int(args[4], errors.XCLAIM_MIN_IDLE))
    ids: list[ID] = []
    j = 5
    while j < len(args):
        try:
            ids.append(strict_id(args[j]))
        except CommandError:
            break
        j += 1
    now = now_ms()
    delivery = -1
    retry = -1
    force = justid = False
    last_id = MIN_ID
    while j < len(args):
        more = len(args) - 1 - j
        opt = args[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            delivery = now - parse_int(args[j], errors.XCLAIM_IDLE)
        elif opt == b"time" and more:
            j += 1
            delivery = parse_int(args[j], errors.XCLAIM_TIME)
        elif opt == b"retrycount" and more:
            j += 1
            retry = parse_int(args[j], errors.XCLAIM_RETRYCOUNT)
        elif opt == b"lastid" and more:
            j += 1
            last_id = strict_id(args[j])
        else:
            opt_text = args[j].decode("utf-8", "replace")
            raise CommandError(errors.XCLAIM_UNKNOWN_OPTION.format(opt_text))
        j += 1
    a = SG.ClaimArgs(min_idle, delivery, retry, force, justid, last_id)
    got = SG.claim(gv, args[3], ids, a, now)
    s.commit()
    _created(c, key, gv)
    if justid:
        return b"*%d\r\n" % len(got) + b"".join(fmt_id(i) for i, _ in got)
    return b"*%d\r\n" % len(got) + b"".join(maybe_entry_reply(c, i, it) for i, it in got)


_AUTOCLAIM_MAX_COUNT = ((1 << 63) - 1) // 16  # LONG_MAX / max(sizeof(streamID), 10)


@command(
    "xautoclaim",
    -6,
    "write fast",
    keys=(1, 1, 1),
    acl="stream",
    group=G,
    summary="Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
    since="6.2.0",
    complexity="O(1) if COUNT is small.",
    args="key group consumer min-idle-time start [COUNT count] [JUSTID]",
    key_flags="RW delete",
    tips="nondeterministic_output",
    history=(
        (
            "7.0.0",
            "Added an element to the reply array, containing deleted entries the command cleared from the PEL",
        ),
    ),
)
def xautoclaim(c: ClientState, args: list[bytes]) -> bytes:
    key, group = args[1], args[2]
    min_idle = max(0, parse_int(args[4], errors.XAUTOCLAIM_MIN_IDLE))
    start = range_start(args[5])
    count = 100
    justid = False
    j = 6
    while j < len(args):
        more = len(args) - 1 - j
        opt = args[j].lower()
        if opt == b"count" and more:
            count = parse_int(args[j + 1], errors.XAUTOCLAIM_COUNT)
            if count < 1 or count > _AUTOCLAIM_MAX_COUNT:
                raise CommandError(errors.XAUTOCLAIM_COUNT)
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    s = streams.open_stream(c.db, key)
    gv = SG.group(s, group) if s is not None else None
    if s is None or gv is None:
        raise CommandError(_nogroup(key, group))
    cursor, claimed, deleted = SG.autoclaim(gv, args[3], min_idle, start, count, justid, now_ms())
    s.commit()
    _created(c, key, gv)
    if justid:
        body = b"".join(fmt_id(i) for i, _ in claimed)
    else:
        body = b"".join(maybe_entry_reply(c, i, it) for i, it in claimed)
    return (
        b"*3\r\n"
        + fmt_id(cursor)
        + b"*%d\r\n" % len(claimed)
        + body
        + b"*%d\r\n" % len(deleted)
        + b"".join(fmt_id(i) for i in deleted)
    )
