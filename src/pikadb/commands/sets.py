"""Set commands (Redis 7.0 semantics).

Replies and error order follow t_set.c 7.0: SPOP parses its count before the key
("value is out of range, must be positive" for a non-number too), SRANDMEMBER takes a count in
[-LONG_MAX, LONG_MAX]; SPOP with a count and SMEMBERS/SINTER/SUNION/SDIFF reply with a RESP3
set, SRANDMEMBER with a count with an array; SINTER/SUNION/SDIFF check every key's type before
answering; SMOVE answers 0 for a missing source before checking types; SSCAN validates its
cursor, then the key, then its options.
"""

from __future__ import annotations

from collections.abc import Callable

from pikadb.commands import cache_cmd
from pikadb.commands._args import INT64_MAX, parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.debug import digest_set, register_value_digest
from pikadb.commands.hashes import EMPTY_SCAN, parse_range_long, parse_scan_options, scan_reply
from pikadb.commands.keyspace import parse_cursor
from pikadb.commands.notify import SET, counted, popped, removed, smoved, stored
from pikadb.commands.object_cmd import register_encoding
from pikadb.commands.table import Handler, KeySpec, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import ONE, ZERO, bulk, integer
from pikadb.storage import sets

G = "set"
LONG_MAX = INT64_MAX


def _cmd(
    name: str,
    arity: int,
    flags: str,
    key_flags: str,
    summary: str,
    args: str,
    *,
    keys: tuple[int, int, int] = (1, 1, 1),
    since: str = "1.0.0",
    complexity: str = "O(1)",
    tips: str = "",
    key_specs: tuple[KeySpec, ...] = (),
) -> Callable[[Handler], Handler]:
    """:func:`command` with this family's defaults (one key, @set)."""
    return command(
        name,
        arity,
        flags,
        keys=keys,
        acl="set",
        group=G,
        key_flags=key_flags,
        summary=summary,
        since=since,
        complexity=complexity,
        args=args,
        tips=tips,
        key_specs=key_specs,
    )


def _set_reply(c: ClientState, items: list[bytes]) -> bytes:
    return c.enc.set_header(len(items)) + b"".join(bulk(m) for m in items)


def _array(items: list[bytes]) -> bytes:
    return b"*%d\r\n%s" % (len(items), b"".join(bulk(m) for m in items))


# --- single key ------------------------------------------------------------------------------
@_cmd(
    "sadd",
    -3,
    "write denyoom fast",
    "RW insert",
    "Add one or more members to a set",
    "key member [member ...]",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is "
    "called with multiple arguments.",
)
def sadd(c: ClientState, args: list[bytes]) -> bytes:
    return integer(counted(c, SET, b"sadd", args[1], sets.add(c.db, args[1], args[2:])))


@_cmd(
    "srem",
    -3,
    "write fast",
    "RW delete",
    "Remove one or more members from a set",
    "key member [member ...]",
    complexity="O(N) where N is the number of members to be removed.",
)
def srem(c: ClientState, args: list[bytes]) -> bytes:
    return integer(removed(c, SET, b"srem", args[1], sets.remove(c.db, args[1], args[2:])))


@_cmd("scard", 2, "readonly fast", "RO", "Get the number of members in a set", "key")
def scard(c: ClientState, args: list[bytes]) -> bytes:
    return integer(sets.card(c.db, args[1]))


@_cmd(
    "sismember",
    3,
    "readonly fast",
    "RO",
    "Determine if a given value is a member of a set",
    "key member",
)
def sismember(c: ClientState, args: list[bytes]) -> bytes:
    return ONE if sets.is_member(c.db, args[1], args[2]) else ZERO


@_cmd(
    "smismember",
    -3,
    "readonly fast",
    "RO access",
    "Returns the membership associated with the given elements for a set",
    "key member [member ...]",
    since="6.2.0",
    complexity="O(N) where N is the number of elements being checked for membership",
)
def smismember(c: ClientState, args: list[bytes]) -> bytes:
    flags = sets.are_members(c.db, args[1], args[2:])
    return b"*%d\r\n%s" % (len(flags), b"".join(ONE if f else ZERO for f in flags))


@_cmd(
    "smembers",
    2,
    "readonly",
    "RO access",
    "Get all the members in a set",
    "key",
    complexity="O(N) where N is the set cardinality.",
    tips="nondeterministic_output_order",
)
def smembers(c: ClientState, args: list[bytes]) -> bytes:
    if c.db.cache is not None:  # hot-data cache on (commands/cache_cmd.py)
        return cache_cmd.smembers(c, c.db.cache, args[1])
    return _set_reply(c, sets.members(c.db, args[1]))


@_cmd(
    "spop",
    -2,
    "write fast",
    "RW access delete",
    "Remove and return one or multiple random members from a set",
    "key [count]",
    complexity="Without the count argument O(1), otherwise O(N) where N is the value of the "
    "passed count.",
    tips="nondeterministic_output",
)
def spop(c: ClientState, args: list[bytes]) -> bytes:
    n = len(args)
    if n == 2:
        got = sets.pop(c.db, args[1], None)
        return bulk(popped(c, SET, b"spop", args[1], got)[0]) if got else c.enc.null
    if n > 3:
        raise CommandError(errors.SYNTAX)
    count = parse_int(args[2], errors.MUST_BE_POSITIVE)
    if count < 0:
        raise CommandError(errors.MUST_BE_POSITIVE)
    got = sets.pop(c.db, args[1], count)
    return _set_reply(c, popped(c, SET, b"spop", args[1], got) if got else got)


@_cmd(
    "srandmember",
    -2,
    "readonly",
    "RO access",
    "Get one or multiple random members from a set",
    "key [count]",
    complexity="Without the count argument O(1), otherwise O(N) where N is the absolute value "
    "of the passed count.",
    tips="nondeterministic_output",
)
def srandmember(c: ClientState, args: list[bytes]) -> bytes:
    n = len(args)
    if n == 2:
        return c.enc.bulk_or_null(sets.random_member(c.db, args[1]))
    if n > 3:
        raise CommandError(errors.SYNTAX)
    count = parse_range_long(args[2], -LONG_MAX, LONG_MAX)
    return _array(sets.random_members(c.db, args[1], count))


@_cmd(
    "smove",
    4,
    "write fast",
    "",
    "Move a member from one set to another",
    "source destination member",
    keys=(1, 2, 1),
    key_specs=(
        KeySpec("RW access delete", index=1),
        KeySpec("RW insert", index=2),
    ),
)
def smove(c: ClientState, args: list[bytes]) -> bytes:
    return ONE if smoved(c, args, lambda: sets.move(c.db, args[1], args[2], args[3])) else ZERO


# --- algebra -----------------------------------------------------------------------------
_READ_ALL = (KeySpec("RO access", index=1, lastkey=-1),)
_STORE_OW = (KeySpec("OW update", index=1), KeySpec("RO access", index=2, lastkey=-1))
_STORE_RW = (KeySpec("RW update", index=1), KeySpec("RO access", index=2, lastkey=-1))


def _algebra(name: str, op: int, summary: str, complexity: str) -> None:
    @_cmd(
        name,
        -2,
        "readonly",
        "RO access",
        summary,
        "key [key ...]",
        keys=(1, -1, 1),
        complexity=complexity,
        tips="nondeterministic_output_order",
        key_specs=_READ_ALL,
    )
    def read(c: ClientState, args: list[bytes]) -> bytes:
        return _set_reply(c, sets.combine(c.db, args[1:], op))

    event = (name + "store").encode()

    @_cmd(
        name + "store",
        -3,
        "write denyoom",
        "",
        summary + " and store the resulting set in a key",
        "destination key [key ...]",
        keys=(1, -1, 1),
        complexity=complexity,
        key_specs=_STORE_RW if op == sets.INTER else _STORE_OW,
    )
    def store(c: ClientState, args: list[bytes]) -> bytes:
        run = lambda: sets.store_combined(c.db, args[1], args[2:], op)  # noqa: E731
        return integer(stored(c, SET, event, args[1], run))


_algebra(
    "sunion",
    sets.UNION,
    "Add multiple sets",
    "O(N) where N is the total number of elements in all given sets.",
)
_algebra(
    "sinter",
    sets.INTER,
    "Intersect multiple sets",
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
)
_algebra(
    "sdiff",
    sets.DIFF,
    "Subtract multiple sets",
    "O(N) where N is the total number of elements in all given sets.",
)


def _numkeys_finder(args: list[bytes]) -> list[int]:
    """Key positions of ``SINTERCARD numkeys key [key ...] ...`` (COMMAND GETKEYS)."""
    try:
        n = int(args[1])
    except (IndexError, ValueError):
        return []
    if n < 1 or n > len(args) - 2:
        return []
    return list(range(2, 2 + n))


@command(
    "sintercard",
    -3,
    "readonly",
    keys=(0, 0, 0),
    acl="set",
    group=G,
    summary="Intersect multiple sets and return the cardinality of the result",
    since="7.0.0",
    complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the "
    "number of sets.",
    args="numkeys key [key ...] [LIMIT limit]",
    key_finder=_numkeys_finder,
    key_specs=(KeySpec("RO access", index=1, find="keynum", keynumidx=0, firstkey=1, keystep=1),),
)
def sintercard(c: ClientState, args: list[bytes]) -> bytes:
    numkeys = parse_int(args[1], errors.NUMKEYS_POSITIVE)
    if numkeys < 1:
        raise CommandError(errors.NUMKEYS_POSITIVE)
    if numkeys > len(args) - 2:
        raise CommandError(errors.NUMKEYS_TOO_MANY)
    limit = 0
    i, n = 2 + numkeys, len(args)
    while i < n:
        if args[i].lower() == b"limit" and i + 1 < n:
            limit = parse_int(args[i + 1], errors.LIMIT_NEGATIVE)
            if limit < 0:
                raise CommandError(errors.LIMIT_NEGATIVE)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    return integer(sets.intercard(c.db, args[2 : 2 + numkeys], limit))


# --- SSCAN -------------------------------------------------------------------------------
@_cmd(
    "sscan",
    -3,
    "readonly",
    "RO access",
    "Incrementally iterate Set elements",
    "key cursor [MATCH pattern] [COUNT count]",
    since="2.8.0",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
    "calls for the cursor to return back to 0. N is the number of elements inside the "
    "collection..",
    tips="nondeterministic_output",
)
def sscan(c: ClientState, args: list[bytes]) -> bytes:
    cursor = parse_cursor(args[2])
    mkey, raw = sets.lookup(c.db, args[1])
    if raw is None:
        return EMPTY_SCAN
    count, pattern, _ = parse_scan_options(args, 3, False)
    nxt, items = sets.scan_entries(c.db, mkey, raw, cursor, count, pattern, not sets.is_big(raw))
    return scan_reply(nxt, [m for m, _ in items])


# --- hooks: DEBUG DIGEST, OBJECT ENCODING ----------------------------------------------------
register_value_digest(
    sets.T_SET, lambda db, mkey, raw, d: digest_set(d, sets.iter_members(db, mkey, raw))
)
register_encoding(sets.T_SET, sets.encoding)
