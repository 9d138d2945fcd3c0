"""XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP (Redis 7.0 reply shapes: maps
in RESP3, flat arrays in RESP2; consumers show name, pending, idle; FULL shows seen-time).

``radix-tree-keys`` is the number of listpack nodes Redis would have (the storage mirrors
its node boundaries); ``radix-tree-nodes`` is the node count of the radix tree holding those
node keys, computed as rax builds it (a compressed node per single-child chain, a node per
branching point, a node per key); after deletions Redis's rax may keep a few nodes more.
"""

from __future__ import annotations

from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.introspection import help_reply
from pikadb.commands.streams import entries_reply, entry_reply, fmt_id
from pikadb.commands.table import command, container
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import bulk, integer
from pikadb.storage import streams
from pikadb.storage import streams_groups as SG
from pikadb.storage.streams import Stream

G = "stream"

container(
    "xinfo", -2, group=G, summary="A container for stream introspection commands", since="5.0.0"
)

_HELP = [
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
]


def _k(name: str) -> bytes:
    return bulk(name.encode())


def _open(c: ClientState, key: bytes) -> Stream:
    s = streams.open_stream(c.db, key)
    if s is None:
        raise CommandError(errors.NO_SUCH_KEY)
    return s


def _nullable(c: ClientState, v: int | None) -> bytes:
    return c.enc.null if v is None else integer(v)


def rax_nodes(keys: list[bytes]) -> int:
    """numnodes of a rax holding ``keys`` (sorted, equal length), built by insertions."""
    if not keys:
        return 1

    def count(ks: list[bytes], depth: int) -> int:
        width = len(ks[0])
        if len(ks) == 1:
            return (1 if width > depth else 0) + 1
        first, last = ks[0], ks[-1]
        lcp = 0
        while depth + lcp < width and first[depth + lcp] == last[depth + lcp]:
            lcp += 1
        pos = depth + lcp
        total = (1 if lcp else 0) + 1
        start = 0
        for i in range(1, len(ks) + 1):
            if i == len(ks) or ks[i][pos] != ks[start][pos]:
                total += count(ks[start:i], pos + 1)
                start = i
        return total

    return count(keys, 0)


def _tree_stats(s: Stream) -> tuple[int, int]:
    masters = [streams.pack_id(n.master) for n in s.iter_nodes()]
    return len(masters), rax_nodes(masters)


@command(
    "stream",
    -3,
    "readonly",
    keys=(2, 2, 1),
    acl="stream",
    group=G,
    parent="xinfo",
    summary="Get information about a stream",
    since="5.0.0",
    complexity="O(1)",
    args="key [FULL [COUNT count]]",
    key_flags="RO access",
    history=(
        ("6.0.0", "Added the `FULL` modifier."),
        (
            "7.0.0",
            "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields",
        ),
    ),
)
def xinfo_stream(c: ClientState, args: list[bytes]) -> bytes:
    s = _open(c, args[2])
    opts = args[3:]
    full = bool(opts)
    count = 10
    if opts:
        if len(opts) not in (1, 3) or opts[0].lower() != b"full":
            raise CommandError(
                errors.subcommand_syntax(args[1].decode("utf-8", "replace"), "xinfo")
            )
        if len(opts) == 3:
            if opts[1].lower() != b"count":
                raise CommandError(
                    errors.subcommand_syntax(args[1].decode("utf-8", "replace"), "xinfo")
                )
            count = parse_int(opts[2])
            if count < 0:
                count = 10
    m = s.meta
    keys, nodes = _tree_stats(s)
    pairs: list[tuple[bytes, bytes]] = [
        (_k("length"), integer(m.length)),
        (_k("radix-tree-keys"), integer(keys)),
        (_k("radix-tree-nodes"), integer(nodes)),
        (_k("last-generated-id"), fmt_id(m.last_id)),
        (_k("max-deleted-entry-id"), fmt_id(m.max_deleted)),
        (_k("entries-added"), integer(m.entries_added)),
        (_k("recorded-first-entry-id"), fmt_id(m.first_id)),
    ]
    if not full:
        first = next(s.iter_entries(), None)
        last = next(s.iter_entries(rev=True), None) if first is not None else None
        pairs.append((_k("groups"), integer(m.groups)))
        pairs.append((_k("first-entry"), entry_reply(first) if first else c.enc.null))
        pairs.append((_k("last-entry"), entry_reply(last) if last else c.enc.null))
        return c.enc.map(pairs)
    entries = []
    for e in s.iter_entries():
        entries.append(e)
        if count and len(entries) >= count:
            break
    pairs.append((_k("entries"), entries_reply(entries)))
    groups = [_full_group(c, s, gv, count) for gv in SG.iter_groups(s)]
    pairs.append((_k("groups"), b"*%d\r\n" % len(groups) + b"".join(groups)))
    return c.enc.map(pairs)


def _limited(it: list[bytes], count: int) -> bytes:
    return b"*%d\r\n" % len(it) + b"".join(it)


def _full_group(c: ClientState, s: Stream, gv: SG.GroupView, count: int) -> bytes:
    g = gv.g
    m = s.meta
    pel: list[bytes] = []
    for p in gv.iter_pending():
        if count and len(pel) >= count:
            break
        pel.append(
            b"*4\r\n"
            + fmt_id(p.id)
            + bulk(p.consumer)
            + integer(p.delivery_time)
            + integer(p.delivery_count)
        )
    consumers: list[bytes] = []
    for cons in gv.iter_consumers():
        cpel: list[bytes] = []
        for i in gv.iter_consumer_ids(cons.name):
            if count and len(cpel) >= count:
                break
            p = gv.pending(i)
            if p is None:
                continue
            cpel.append(
                b"*3\r\n" + fmt_id(i) + integer(p.delivery_time) + integer(p.delivery_count)
            )
        consumers.append(
            c.enc.map(
                [
                    (_k("name"), bulk(cons.name)),
                    (_k("seen-time"), integer(cons.seen)),
                    (_k("pel-count"), integer(cons.pel)),
                    (_k("pending"), _limited(cpel, count)),
                ]
            )
        )
    er = None if g.entries_read == streams.ENTRIES_READ_INVALID else g.entries_read
    return c.enc.map(
        [
            (_k("name"), bulk(g.name)),
            (_k("last-delivered-id"), fmt_id(g.last_id)),
            (_k("entries-read"), _nullable(c, er)),
            (_k("lag"), _nullable(c, streams.group_lag(m, g.last_id, g.entries_read))),
            (_k("pel-count"), integer(g.pel)),
            (_k("pending"), _limited(pel, count)),
            (_k("consumers"), b"*%d\r\n" % len(consumers) + b"".join(consumers)),
        ]
    )


@command(
    "groups",
    3,
    "readonly",
    keys=(2, 2, 1),
    acl="stream",
    group=G,
    parent="xinfo",
    summary="List the consumer groups of a stream",
    since="5.0.0",
    complexity="O(1)",
    args="key",
    key_flags="RO access",
    history=(("7.0.0", "Added the `entries-read` and `lag` fields"),),
)
def xinfo_groups(c: ClientState, args: list[bytes]) -> bytes:
    s = _open(c, args[2])
    m = s.meta
    out: list[bytes] = []
    for gv in SG.iter_groups(s):
        g = gv.g
        er = None if g.entries_read == streams.ENTRIES_READ_INVALID else g.entries_read
        out.append(
            c.enc.map(
                [
                    (_k("name"), bulk(g.name)),
                    (_k("consumers"), integer(g.consumers)),
                    (_k("pending"), integer(g.pel)),
                    (_k("last-delivered-id"), fmt_id(g.last_id)),
                    (_k("entries-read"), _nullable(c, er)),
                    (_k("lag"), _nullable(c, streams.group_lag(m, g.last_id, g.entries_read))),
                ]
            )
        )
    return b"*%d\r\n" % len(out) + b"".join(out)


@command(
    "consumers",
    4,
    "readonly",
    keys=(2, 2, 1),
    acl="stream",
    group=G,
    parent="xinfo",
    summary="List the consumers in a consumer group",
    since="5.0.0",
    complexity="O(1)",
    args="key group",
    key_flags="RO access",
    tips="nondeterministic_output",
)
def xinfo_consumers(c: ClientState, args: list[bytes]) -> bytes:
    key, group = args[2], args[3]
    s = _open(c, key)
    gv = SG.group(s, group)
    if gv is None:
        raise CommandError(
            errors.NOGROUP_FOR_KEY.format(
                group.decode("utf-8", "replace"), key.decode("utf-8", "replace")
            )
        )
    now = now_ms()
    out = [
        c.enc.map(
            [
                (_k("name"), bulk(cons.name)),
                (_k("pending"), integer(cons.pel)),
                (_k("idle"), integer(max(0, now - cons.seen))),
            ]
        )
        for cons in gv.iter_consumers()
    ]
    return b"*%d\r\n" % len(out) + b"".join(out)


@command(
    "help",
    2,
    "loading stale",
    acl="stream",
    group=G,
    parent="xinfo",
    summary="Show helpful text about the different subcommands",
    since="5.0.0",
    complexity="O(1)",
)
def xinfo_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(b"xinfo", _HELP)
