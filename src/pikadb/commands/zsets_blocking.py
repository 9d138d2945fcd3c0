"""BZPOPMIN, BZPOPMAX, BZMPOP on the blocked-client mechanism of :mod:`blocking`.

Each first tries its non-blocking core (the first existing key is popped, WRONGTYPE if that
key is not a zset); with nothing to pop it blocks on its keys. A woken client pops from the
key that was touched, if it is a non-empty zset then (else it keeps waiting, keeping its
place). Timeouts reply the null array; inside MULTI a blocking pop behaves as a timeout.

Argument checks in Redis 7.0's order: BZPOP* parse the timeout first; BZMPOP checks numkeys,
MIN|MAX and COUNT before its timeout.
"""

from __future__ import annotations

from typing import Any

from pikadb.commands import blocking
from pikadb.commands.context import ClientState
from pikadb.commands.notify import ZSET, popped
from pikadb.commands.table import KeySpec
from pikadb.commands.zsets import numkeys_finder, parse_mpop, pop_reply, zcmd
from pikadb.storage import zsets

KIND = "zset"


def _serve(c: ClientState, reverse: bool, count: int, mpop: bool) -> blocking.Serve:
    db = c.db

    def serve(key: bytes) -> bytes | None:
        raw = db.lookup(key)[1]
        if raw is None or raw[0] != zsets.T_ZSET:
            return None
        got = zsets.pop(db, [key], reverse, count)
        if got is None or not got[1]:
            return None
        popped(c, ZSET, b"zpopmax" if reverse else b"zpopmin", key, got)
        return pop_reply(c, got[0], got[1], mpop)

    return serve


def _bzpop(c: ClientState, args: list[bytes], reverse: bool) -> Any:
    timeout = blocking.parse_timeout(args[-1])
    keys = args[1:-1]
    got = zsets.pop(c.db, keys, reverse, 1)
    if got is not None:
        popped(c, ZSET, b"zpopmax" if reverse else b"zpopmin", got[0], got)
        return pop_reply(c, got[0], got[1], False)
    if not blocking.can_block(c):
        return c.enc.null_array
    return blocking.block(c, keys, timeout, _serve(c, reverse, 1, False), KIND)


_BZPOP_SPECS = (KeySpec("RW access delete", index=1, lastkey=-2),)


@zcmd(
    "bzpopmin",
    -3,
    "write noscript blocking fast",
    "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
    "key [key ...] timeout",
    keys=(1, -2, 1),
    since="5.0.0",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    key_specs=_BZPOP_SPECS,
    history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
)
def bzpopmin(c: ClientState, args: list[bytes]) -> Any:
    return _bzpop(c, args, False)


@zcmd(
    "bzpopmax",
    -3,
    "write noscript blocking fast",
    "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
    "key [key ...] timeout",
    keys=(1, -2, 1),
    since="5.0.0",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    key_specs=_BZPOP_SPECS,
    history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
)
def bzpopmax(c: ClientState, args: list[bytes]) -> Any:
    return _bzpop(c, args, True)


@zcmd(
    "bzmpop",
    -5,
    "write blocking",
    "Remove and return members with scores in a sorted set or block until one is available",
    "timeout numkeys key [key ...] MIN|MAX [COUNT count]",
    keys=(0, 0, 0),
    since="7.0.0",
    complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    key_specs=(KeySpec("RW access delete", index=2, find="keynum", keynumidx=0, firstkey=1),),
    key_finder=numkeys_finder(2),
)
def bzmpop(c: ClientState, args: list[bytes]) -> Any:
    keys, reverse, count = parse_mpop(args, 2)
    timeout = blocking.parse_timeout(args[1])
    got = zsets.pop(c.db, keys, reverse, count)
    if got is not None:
        popped(c, ZSET, b"zpopmax" if reverse else b"zpopmin", got[0], got)
        return pop_reply(c, got[0], got[1], True)
    if not blocking.can_block(c):
        return c.enc.null_array
    return blocking.block(c, keys, timeout, _serve(c, reverse, count, True), KIND)
