"""Sorted-set ranges (Redis 7.0 zrangeGenericCommand and friends): ZRANGE (BYSCORE, BYLEX,
REV, LIMIT, WITHSCORES), ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
ZREVRANGEBYLEX, ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBYRANK/BYSCORE/BYLEX.

Errors come in Redis's order: option syntax, then LIMIT / WITHSCORES conflicts, then the range
(min/max), then the key's type. ``LIMIT offset count``: a negative offset gives nothing, a
negative count means "all"; only ``LIMIT x -1`` is accepted with a rank range, like Redis.
"""

from __future__ import annotations

from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.notify import ZSET, removed, stored
from pikadb.commands.table import KeySpec
from pikadb.commands.zsets import (
    items_reply,
    parse_lex_range,
    parse_score_range,
    zcmd,
)
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import integer
from pikadb.storage import zsets

RANK, SCORE, LEX, AUTO = 0, 1, 2, 3
FORWARD, REVERSE, AUTO_DIR = 0, 1, 2
_RANGE_COMPLEXITY = (
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements returned."
)


def zrange_generic(
    c: ClientState,
    args: list[bytes],
    start: int,
    dst: bytes | None,
    rangetype: int,
    direction: int,
) -> bytes:
    """zrangeGenericCommand: ``args[start]`` is the source key, then min and max."""
    key = args[start]
    minidx, maxidx = start + 1, start + 2
    withscores = False
    offset, limit = 0, -1
    n = len(args)
    j = start + 3
    while j < n:
        opt = args[j].upper()
        if dst is None and opt == b"WITHSCORES":
            withscores = True
        elif opt == b"LIMIT" and n - j - 1 >= 2:
            offset = parse_int(args[j + 1])
            limit = parse_int(args[j + 2])
            j += 2
        elif direction == AUTO_DIR and opt == b"REV":
            direction = REVERSE
        elif rangetype == AUTO and opt == b"BYLEX":
            rangetype = LEX
        elif rangetype == AUTO and opt == b"BYSCORE":
            rangetype = SCORE
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if direction == AUTO_DIR:
        direction = FORWARD
    if rangetype == AUTO:
        rangetype = RANK
    if limit != -1 and rangetype == RANK:
        raise CommandError(errors.ZRANGE_LIMIT_NEEDS_BY)
    if withscores and rangetype == LEX:
        raise CommandError(errors.ZRANGE_WITHSCORES_BYLEX)
    reverse = direction == REVERSE
    if reverse and rangetype != RANK:
        minidx, maxidx = maxidx, minidx
    db = c.db
    if rangetype == RANK:
        lo, hi = parse_int(args[minidx]), parse_int(args[maxidx])
        items = zsets.range_by_rank(db, key, lo, hi, reverse, withscores or dst is not None)
    elif rangetype == SCORE:
        rng = parse_score_range(args[minidx], args[maxidx])
        items = zsets.range_by_score(db, key, rng, reverse, offset, limit)
    else:
        lex = parse_lex_range(args[minidx], args[maxidx])
        items = zsets.range_by_lex(db, key, lex, reverse, offset, limit)
    if dst is not None:
        run = lambda: zsets.store_items(db, dst, items)  # noqa: E731
        return integer(stored(c, ZSET, b"zrangestore", dst, run))
    return items_reply(c, items, withscores)


@zcmd(
    "zrange",
    -4,
    "readonly",
    "Return a range of members in a sorted set",
    "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
    complexity=_RANGE_COMPLEXITY,
    history=(("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),),
)
def zrange(c: ClientState, args: list[bytes]) -> bytes:
    return zrange_generic(c, args, 1, None, AUTO, AUTO_DIR)


@zcmd(
    "zrangestore",
    -5,
    "write denyoom",
    "Store a range of members from sorted set into another key",
    "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]",
    keys=(1, 2, 1),
    since="6.2.0",
    complexity=(
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
        "of elements stored into the destination key."
    ),
    key_specs=(KeySpec("OW update", index=1), KeySpec("RO access", index=2)),
)
def zrangestore(c: ClientState, args: list[bytes]) -> bytes:
    return zrange_generic(c, args, 2, args[1], AUTO, AUTO_DIR)


@zcmd(
    "zrevrange",
    -4,
    "readonly",
    "Return a range of members in a sorted set, by index, with scores ordered from high to low",
    "key start stop [WITHSCORES]",
    complexity=_RANGE_COMPLEXITY,
)
def zrevrange(c: ClientState, args: list[bytes]) -> bytes:
    return zrange_generic(c, args, 1, None, RANK, REVERSE)


@zcmd(
    "zrangebyscore",
    -4,
    "readonly",
    "Return a range of members in a sorted set, by score",
    "key min max [WITHSCORES] [LIMIT offset count]",
    since="1.0.5",
    complexity=_RANGE_COMPLEXITY,
    history=(("2.0.0", "Added the `WITHSCORES` modifier."),),
)
def zrangebyscore(c: ClientState, args: list[bytes]) -> bytes:
    return zrange_generic(c, args, 1, None, SCORE, FORWARD)


@zcmd(
    "zrevrangebyscore",
    -4,
    "readonly",
    "Return a range of members in a sorted set, by score, with scores ordered from high to low",
    "key max min [WITHSCORES] [LIMIT offset count]",
    since="2.2.0",
    complexity=_RANGE_COMPLEXITY,
)
def zrevrangebyscore(c: ClientState, args: list[bytes]) -> bytes:
    return zrange_generic(c, args, 1, None, SCORE, REVERSE)


@zcmd(
    "zrangebylex",
    -4,
    "readonly",
    "Return a range of members in a sorted set, by lexicographical range",
    "key min max [LIMIT offset count]",
    since="2.8.9",
    complexity=_RANGE_COMPLEXITY,
)
def zrangebylex(c: ClientState, args: list[bytes]) -> bytes:
    return zrange_generic(c, args, 1, None, LEX, FORWARD)


@zcmd(
    "zrevrangebylex",
    -4,
    "readonly",
    "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
    "key max min [LIMIT offset count]",
    since="2.8.9",
    complexity=_RANGE_COMPLEXITY,
)
def zrevrangebylex(c: ClientState, args: list[bytes]) -> bytes:
    return zrange_generic(c, args, 1, None, LEX, REVERSE)


# --- counting ----------------------------------------------------------------------------------
@zcmd(
    "zcount",
    4,
    "readonly fast",
    "Count the members in a sorted set with scores within the given values",
    "key min max",
    since="2.0.0",
)
def zcount(c: ClientState, args: list[bytes]) -> bytes:
    rng = parse_score_range(args[2], args[3])
    return integer(zsets.count_by_score(c.db, args[1], rng))


@zcmd(
    "zlexcount",
    4,
    "readonly fast",
    "Count the number of members in a sorted set between a given lexicographical range",
    "key min max",
    since="2.8.9",
)
def zlexcount(c: ClientState, args: list[bytes]) -> bytes:
    rng = parse_lex_range(args[2], args[3])
    return integer(zsets.count_by_lex(c.db, args[1], rng))


# --- removal by range -------------------------------------------------------------------------------
_REM_COMPLEXITY = (
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements removed by the operation."
)


@zcmd(
    "zremrangebyrank",
    4,
    "write",
    "Remove all members in a sorted set within the given indexes",
    "key start stop",
    since="2.0.0",
    key_flags="RW delete",
    complexity=_REM_COMPLEXITY,
)
def zremrangebyrank(c: ClientState, args: list[bytes]) -> bytes:
    start, end = parse_int(args[2]), parse_int(args[3])
    n = zsets.remove_range_by_rank(c.db, args[1], start, end)
    return integer(removed(c, ZSET, b"zremrangebyrank", args[1], n))


@zcmd(
    "zremrangebyscore",
    4,
    "write",
    "Remove all members in a sorted set within the given scores",
    "key min max",
    key_flags="RW delete",
    complexity=_REM_COMPLEXITY,
)
def zremrangebyscore(c: ClientState, args: list[bytes]) -> bytes:
    rng = parse_score_range(args[2], args[3])
    n = zsets.remove_range_by_score(c.db, args[1], rng)
    return integer(removed(c, ZSET, b"zremrangebyscore", args[1], n))


@zcmd(
    "zremrangebylex",
    4,
    "write",
    "Remove all members in a sorted set between the given lexicographical range",
    "key min max",
    since="2.8.9",
    key_flags="RW delete",
    complexity=_REM_COMPLEXITY,
)
def zremrangebylex(c: ClientState, args: list[bytes]) -> bytes:
    rng = parse_lex_range(args[2], args[3])
    n = zsets.remove_range_by_lex(c.db, args[1], rng)
    return integer(removed(c, ZSET, b"zremrangebylex", args[1], n))
