"""ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis 7.0
zunionInterDiffGenericCommand).

Order of checks, as Redis: numkeys (an integer >= 1, not more than the keys given), then
every input's type (zsets and sets; a set's members score 1), then the options (WEIGHTS,
AGGREGATE SUM|MIN|MAX, WITHSCORES, LIMIT). A weighted score that is NaN (inf * 0) counts as
0, and so does a SUM of inf and -inf. Inputs are combined smallest first (a stable sort by
size), which fixes the order in which float sums are taken, as in Redis.
"""

from __future__ import annotations

from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.notify import ZSET, stored
from pikadb.commands.table import KeySpec
from pikadb.commands.zsets import (
    items_reply,
    numkeys_finder,
    parse_positive,
    parse_score,
    zcmd,
)
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import integer
from pikadb.storage import zsets
from pikadb.storage import zsets_algebra as ops

UNION, INTER, DIFF = 0, 1, 2
_AGG = {b"SUM": ops.AGG_SUM, b"MIN": ops.AGG_MIN, b"MAX": ops.AGG_MAX}


def zsetop_generic(
    c: ClientState,
    args: list[bytes],
    numkeys_idx: int,
    dst: bytes | None,
    op: int,
    card_only: bool = False,
) -> bytes:
    name = args[0].decode("utf-8", "replace").lower()
    setnum = parse_int(args[numkeys_idx])
    if setnum < 1:
        raise CommandError(errors.ZSET_AT_LEAST_ONE_KEY.format(name))
    if setnum > len(args) - (numkeys_idx + 1):
        raise CommandError(errors.SYNTAX)
    j = numkeys_idx + 1
    db = c.db
    sources = ops.open_sources(db, args[j : j + setnum])
    j += setnum
    remaining = len(args) - j
    agg = ops.AGG_SUM
    withscores = False
    limit = 0
    while remaining:
        opt = args[j].upper()
        if op != DIFF and not card_only and remaining >= setnum + 1 and opt == b"WEIGHTS":
            j += 1
            remaining -= 1
            for src in sources:
                src.weight = parse_score(args[j], errors.ZSET_WEIGHT_NOT_FLOAT)
                j += 1
                remaining -= 1
        elif op != DIFF and not card_only and remaining >= 2 and opt == b"AGGREGATE":
            found = _AGG.get(args[j + 1].upper())
            if found is None:
                raise CommandError(errors.SYNTAX)
            agg = found
            j += 2
            remaining -= 2
        elif dst is None and not card_only and opt == b"WITHSCORES":
            withscores = True
            j += 1
            remaining -= 1
        elif card_only and remaining >= 2 and opt == b"LIMIT":
            limit = parse_positive(args[j + 1], errors.LIMIT_NEGATIVE)
            j += 2
            remaining -= 2
        else:
            raise CommandError(errors.SYNTAX)
    if card_only:
        count = ops.inter(sources, agg, limit)
        return integer(count)  # type: ignore[arg-type]
    if op == UNION:
        result = ops.union(sources, agg)
    elif op == INTER:
        result = ops.inter(sources, agg)  # type: ignore[assignment]
    else:
        result = ops.diff(sources)
    items = ops.sorted_items(result)  # type: ignore[arg-type]
    if dst is not None:
        run = lambda: zsets.store_items(db, dst, items)  # noqa: E731
        return integer(stored(c, ZSET, name.encode(), dst, run))
    return items_reply(c, items, withscores)


def _store_specs() -> tuple[KeySpec, ...]:
    return (
        KeySpec("OW update", index=1),
        KeySpec("RO access", index=2, find="keynum", keynumidx=0, firstkey=1),
    )


_READ_SPECS = (KeySpec("RO access", index=1, find="keynum", keynumidx=0, firstkey=1),)
_UNION_COMPLEXITY = (
    "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
    "the number of elements in the resulting sorted set."
)
_INTER_COMPLEXITY = (
    "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
    "number of input sorted sets and M being the number of elements in the resulting sorted set."
)
_DIFF_COMPLEXITY = (
    "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
    "is the size of the first set, and K is the size of the result set."
)


@zcmd(
    "zunionstore",
    -4,
    "write denyoom",
    "Add multiple sorted sets and store the resulting sorted set in a new key",
    "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]",
    since="2.0.0",
    complexity=_UNION_COMPLEXITY,
    key_specs=_store_specs(),
    key_finder=numkeys_finder(2, 1),
)
def zunionstore(c: ClientState, args: list[bytes]) -> bytes:
    return zsetop_generic(c, args, 2, args[1], UNION)


@zcmd(
    "zinterstore",
    -4,
    "write denyoom",
    "Intersect multiple sorted sets and store the resulting sorted set in a new key",
    "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]",
    since="2.0.0",
    complexity=_INTER_COMPLEXITY,
    key_specs=_store_specs(),
    key_finder=numkeys_finder(2, 1),
)
def zinterstore(c: ClientState, args: list[bytes]) -> bytes:
    return zsetop_generic(c, args, 2, args[1], INTER)


@zcmd(
    "zdiffstore",
    -4,
    "write denyoom",
    "Subtract multiple sorted sets and store the resulting sorted set in a new key",
    "destination numkeys key [key ...]",
    since="6.2.0",
    complexity=_DIFF_COMPLEXITY,
    key_specs=_store_specs(),
    key_finder=numkeys_finder(2, 1),
)
def zdiffstore(c: ClientState, args: list[bytes]) -> bytes:
    return zsetop_generic(c, args, 2, args[1], DIFF)


@zcmd(
    "zunion",
    -3,
    "readonly",
    "Add multiple sorted sets",
    "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]",
    keys=(0, 0, 0),
    since="6.2.0",
    complexity=_UNION_COMPLEXITY,
    key_specs=_READ_SPECS,
    key_finder=numkeys_finder(1),
)
def zunion(c: ClientState, args: list[bytes]) -> bytes:
    return zsetop_generic(c, args, 1, None, UNION)


@zcmd(
    "zinter",
    -3,
    "readonly",
    "Intersect multiple sorted sets",
    "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]",
    keys=(0, 0, 0),
    since="6.2.0",
    complexity=_INTER_COMPLEXITY,
    key_specs=_READ_SPECS,
    key_finder=numkeys_finder(1),
)
def zinter(c: ClientState, args: list[bytes]) -> bytes:
    return zsetop_generic(c, args, 1, None, INTER)


@zcmd(
    "zdiff",
    -3,
    "readonly",
    "Subtract multiple sorted sets",
    "numkeys key [key ...] [WITHSCORES]",
    keys=(0, 0, 0),
    since="6.2.0",
    complexity=_DIFF_COMPLEXITY,
    key_specs=_READ_SPECS,
    key_finder=numkeys_finder(1),
)
def zdiff(c: ClientState, args: list[bytes]) -> bytes:
    return zsetop_generic(c, args, 1, None, DIFF)


@zcmd(
    "zintercard",
    -3,
    "readonly",
    "Intersect multiple sorted sets and return the cardinality of the result",
    "numkeys key [key ...] [LIMIT limit]",
    keys=(0, 0, 0),
    since="7.0.0",
    complexity=(
        "O(N*K) worst case with N being the smallest input sorted set, K being the number of "
        "input sorted sets."
    ),
    key_specs=_READ_SPECS,
    key_finder=numkeys_finder(1),
)
def zintercard(c: ClientState, args: list[bytes]) -> bytes:
    return zsetop_generic(c, args, 1, None, INTER, card_only=True)
