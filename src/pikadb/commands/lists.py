"""List commands (Redis 7.0 semantics, t_list.c): pushes, pops (with COUNT), LINDEX, LINSERT,
LLEN, LRANGE, LREM, LSET, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP and the blocking forms BLPOP,
BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (see :mod:`pikadb.commands.blocking`).

The order in which arguments are checked follows Redis: e.g. LINDEX looks the key up before it
parses the index, LRANGE parses both indexes first; BLPOP parses its timeout before looking at
any key, BLMPOP parses numkeys, direction and COUNT first, then the timeout.
"""

from __future__ import annotations

from collections.abc import Callable

from pikadb.commands import blocking, cache_cmd
from pikadb.commands._args import INT64_MAX, parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.debug import digest_list, register_value_digest
from pikadb.commands.notify import LIST, counted, list_moved, notify, popped, removed
from pikadb.commands.object_cmd import register_encoding
from pikadb.commands.table import Handler, KeySpec, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import EMPTY_ARRAY, NEG_ONE, OK, ZERO, bulk_array, integer
from pikadb.storage import lists
from pikadb.storage.lists import T_LIST

G = "list"
_SYNTAX = errors.SYNTAX
_get = lists.get
_push = lists.push
_pop_one = lists.pop_one


def _cmd(
    name: str,
    arity: int,
    flags: str,
    summary: str,
    args: str,
    *,
    key_flags: str = "",
    keys: tuple[int, int, int] = (1, 1, 1),
    since: str = "1.0.0",
    complexity: str = "O(1)",
    key_specs: tuple[KeySpec, ...] = (),
    key_finder: Callable[[list[bytes]], list[int]] | None = None,
    history: tuple[tuple[str, str], ...] = (),
) -> Callable[[Handler], Handler]:
    """:func:`command` with this family's defaults (@list, one key)."""
    return command(
        name,
        arity,
        flags,
        keys=keys,
        acl="list",
        group=G,
        summary=summary,
        since=since,
        complexity=complexity,
        args=args,
        key_flags=key_flags,
        key_specs=key_specs,
        key_finder=key_finder,
        history=history,
    )


def _range_long(raw: bytes, lo: int, hi: int, message: str) -> int:
    """getRangeLongFromObjectOrReply with a message (used for bad numbers too)."""
    v = parse_int(raw, message)
    if v < lo or v > hi:
        raise CommandError(message)
    return v


def _where(raw: bytes) -> bool:
    """LEFT -> True, RIGHT -> False (getListPositionFromObjectOrReply)."""
    w = raw.lower()
    if w == b"left":
        return True
    if w == b"right":
        return False
    raise CommandError(_SYNTAX)


_bulks = bulk_array


def _keyed(key: bytes, items: list[bytes]) -> bytes:
    """[key, [items...]] (LMPOP / BLMPOP)."""
    return b"*2\r\n$%d\r\n%s\r\n%s" % (len(key), key, _bulks(items))


def _pair(key: bytes, value: bytes) -> bytes:
    """[key, value] (BLPOP / BRPOP)."""
    return b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value)


_PUSH_HISTORY = (("2.4.0", "Accepts multiple `element` arguments."),)
_PUSHX_HISTORY = (("4.0.0", "Accepts multiple `element` arguments."),)
_PUSH_COMPLEXITY = (
    "O(1) for each element added, so O(N) to add N elements when the command is called "
    "with multiple arguments."
)
_TIMEOUT_HISTORY = (("6.0.0", "`timeout` is interpreted as a double instead of an integer."),)
_MOVE_SPECS = (KeySpec("RW access delete", index=1), KeySpec("RW insert", index=2))


# --- pushes ----------------------------------------------------------------------------------
@_cmd(
    "lpush",
    -3,
    "write denyoom fast",
    "Prepend one or multiple elements to a list",
    "key element [element ...]",
    key_flags="RW insert",
    complexity=_PUSH_COMPLEXITY,
    history=_PUSH_HISTORY,
)
def lpush(c: ClientState, args: list[bytes]) -> bytes:
    return integer(counted(c, LIST, b"lpush", args[1], _push(c.db, args[1], args[2:], True, False)))


@_cmd(
    "rpush",
    -3,
    "write denyoom fast",
    "Append one or multiple elements to a list",
    "key element [element ...]",
    key_flags="RW insert",
    complexity=_PUSH_COMPLEXITY,
    history=_PUSH_HISTORY,
)
def rpush(c: ClientState, args: list[bytes]) -> bytes:
    n = _push(c.db, args[1], args[2:], False, False)
    return integer(counted(c, LIST, b"rpush", args[1], n))


@_cmd(
    "lpushx",
    -3,
    "write denyoom fast",
    "Prepend an element to a list, only if the list exists",
    "key element [element ...]",
    key_flags="RW insert",
    since="2.2.0",
    complexity=_PUSH_COMPLEXITY,
    history=_PUSHX_HISTORY,
)
def lpushx(c: ClientState, args: list[bytes]) -> bytes:
    return integer(counted(c, LIST, b"lpush", args[1], _push(c.db, args[1], args[2:], True, True)))


@_cmd(
    "rpushx",
    -3,
    "write denyoom fast",
    "Append an element to a list, only if the list exists",
    "key element [element ...]",
    key_flags="RW insert",
    since="2.2.0",
    complexity=_PUSH_COMPLEXITY,
    history=_PUSHX_HISTORY,
)
def rpushx(c: ClientState, args: list[bytes]) -> bytes:
    return integer(counted(c, LIST, b"rpush", args[1], _push(c.db, args[1], args[2:], False, True)))


# --- pops ------------------------------------------------------------------------------------
def _pop(c: ClientState, args: list[bytes], left: bool) -> bytes:
    db = c.db
    if len(args) == 2:  # the common case
        ref = _get(db, args[1])
        if ref is None:
            return c.enc.null
        v = popped(c, LIST, b"lpop" if left else b"rpop", args[1], _pop_one(db, ref, left))
        return b"$%d\r\n%s\r\n" % (len(v), v)
    if len(args) > 3:
        raise CommandError(errors.wrong_arity("lpop" if left else "rpop"))
    count = _range_long(args[2], 0, INT64_MAX, errors.MUST_BE_POSITIVE)
    ref = _get(db, args[1])
    if ref is None:
        return c.enc.null_array
    if count == 0:
        return EMPTY_ARRAY
    items = lists.pop_many(db, ref, left, count)
    return _bulks(popped(c, LIST, b"lpop" if left else b"rpop", args[1], items))


_POP_HISTORY = (("6.2.0", "Added the `count` argument."),)


@_cmd(
    "lpop",
    -2,
    "write fast",
    "Remove and get the first elements in a list",
    "key [count]",
    key_flags="RW access delete",
    complexity="O(N) where N is the number of elements returned",
    history=_POP_HISTORY,
)
def lpop(c: ClientState, args: list[bytes]) -> bytes:
    return _pop(c, args, True)


@_cmd(
    "rpop",
    -2,
    "write fast",
    "Remove and get the last elements in a list",
    "key [count]",
    key_flags="RW access delete",
    complexity="O(N) where N is the number of elements returned",
    history=_POP_HISTORY,
)
def rpop(c: ClientState, args: list[bytes]) -> bytes:
    return _pop(c, args, False)


# --- reads -----------------------------------------------------------------------------------
@_cmd(
    "llen", 2, "readonly fast", "Get the length of a list", "key", key_flags="RO"
)  # fmt: skip
def llen(c: ClientState, args: list[bytes]) -> bytes:
    return integer(lists.length(c.db, args[1]))


@_cmd(
    "lindex",
    3,
    "readonly",
    "Get an element from a list by its index",
    "key index",
    key_flags="RO access",
    complexity=(
        "O(N) where N is the number of elements to traverse to get to the element at index. "
        "This makes asking for the first or the last element of the list O(1)."
    ),
)
def lindex(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    ref = _get(db, args[1])
    if ref is None:
        return c.enc.null
    return c.enc.bulk_or_null(lists.index(db, ref, parse_int(args[2])))


@_cmd(
    "lrange",
    4,
    "readonly",
    "Get a range of elements from a list",
    "key start stop",
    key_flags="RO access",
    complexity=(
        "O(S+N) where S is the distance of start offset from HEAD for small lists, from "
        "nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the "
        "specified range."
    ),
)
def lrange(c: ClientState, args: list[bytes]) -> bytes:
    start = parse_int(args[2])
    end = parse_int(args[3])
    db = c.db
    if db.cache is not None:  # hot-data cache on (commands/cache_cmd.py)
        return cache_cmd.lrange(c, db.cache, args[1], start, end)
    ref = _get(db, args[1])
    if ref is None:
        return EMPTY_ARRAY
    return _bulks(lists.range_(db, ref, start, end))


@_cmd(
    "lpos",
    -3,
    "readonly",
    "Return the index of matching elements on a list",
    "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
    key_flags="RO access",
    since="6.0.6",
    complexity=(
        "O(N) where N is the number of elements in the list, for the average case. When "
        "searching for elements near the head or the tail of the list, or when the MAXLEN "
        "option is provided, the command may run in constant time."
    ),
)
def lpos(c: ClientState, args: list[bytes]) -> bytes:
    rank, count, maxlen = 1, -1, 0
    n = len(args)
    j = 3
    while j < n:
        opt = args[j].upper()
        more = j + 1 < n
        if opt == b"RANK" and more:
            j += 1
            rank = parse_int(args[j])
            if rank == 0:
                raise CommandError(errors.LPOS_RANK_ZERO)
        elif opt == b"COUNT" and more:
            j += 1
            count = _range_long(args[j], 0, INT64_MAX, errors.LPOS_COUNT_NEGATIVE)
        elif opt == b"MAXLEN" and more:
            j += 1
            maxlen = _range_long(args[j], 0, INT64_MAX, errors.LPOS_MAXLEN_NEGATIVE)
        else:
            raise CommandError(_SYNTAX)
        j += 1
    db = c.db
    ref = _get(db, args[1])
    if ref is None:
        return EMPTY_ARRAY if count != -1 else c.enc.null
    found = lists.positions(db, ref, args[2], rank, 1 if count == -1 else count, maxlen)
    if count != -1:
        return b"*%d\r\n%s" % (len(found), b"".join([integer(i) for i in found]))
    return integer(found[0]) if found else c.enc.null


# --- updates ---------------------------------------------------------------------------------
@_cmd(
    "linsert",
    5,
    "write denyoom",
    "Insert an element before or after another element in a list",
    "key BEFORE|AFTER pivot element",
    key_flags="RW insert",
    since="2.2.0",
    complexity=(
        "O(N) where N is the number of elements to traverse before seeing the value pivot. "
        "This means that inserting somewhere on the left end on the list (head) can be "
        "considered O(1) and inserting somewhere on the right end (tail) is O(N)."
    ),
)
def linsert(c: ClientState, args: list[bytes]) -> bytes:
    where = args[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise CommandError(_SYNTAX)
    db = c.db
    ref = _get(db, args[1])
    if ref is None:
        return ZERO
    n = counted(c, LIST, b"linsert", args[1], lists.insert(db, ref, after, args[3], args[4]))
    return NEG_ONE if n < 0 else integer(n)


@_cmd(
    "lrem",
    4,
    "write",
    "Remove elements from a list",
    "key count element",
    key_flags="RW delete",
    complexity="O(N+M) where N is the length of the list and M is the number of elements removed.",
)
def lrem(c: ClientState, args: list[bytes]) -> bytes:
    count = parse_int(args[2])
    db = c.db
    ref = _get(db, args[1])
    if ref is None:
        return ZERO
    return integer(removed(c, LIST, b"lrem", args[1], lists.remove(db, ref, count, args[3])))


@_cmd(
    "lset",
    4,
    "write denyoom",
    "Set the value of an element in a list by its index",
    "key index element",
    key_flags="RW update",
    complexity=(
        "O(N) where N is the length of the list. Setting either the first or the last element "
        "of the list is O(1)."
    ),
)
def lset(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    ref = _get(db, args[1])
    if ref is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if not lists.set_(db, ref, parse_int(args[2]), args[3]):
        raise CommandError(errors.OUT_OF_RANGE)
    notify(c, LIST, b"lset", args[1])
    return OK


@_cmd(
    "ltrim",
    4,
    "write",
    "Trim a list to the specified range",
    "key start stop",
    key_flags="RW delete",
    complexity="O(N) where N is the number of elements to be removed by the operation.",
)
def ltrim(c: ClientState, args: list[bytes]) -> bytes:
    start = parse_int(args[2])
    end = parse_int(args[3])
    db = c.db
    ref = _get(db, args[1])
    if ref is not None:
        lists.trim(db, ref, start, end)
        removed(c, LIST, b"ltrim", args[1], 1)
    return OK


# --- moves -----------------------------------------------------------------------------------
def _lmove(c: ClientState, src: bytes, dst: bytes, left_from: bool, left_to: bool) -> bytes:
    db = c.db
    ref = _get(db, src)
    if ref is None:
        return c.enc.null
    v = lists.move(db, ref, lists.destination(db, dst), left_from, left_to)
    list_moved(c, src, dst, left_from, left_to)
    return b"$%d\r\n%s\r\n" % (len(v), v)


@_cmd(
    "lmove",
    5,
    "write denyoom",
    "Pop an element from a list, push it to another list and return it",
    "source destination LEFT|RIGHT LEFT|RIGHT",
    keys=(1, 2, 1),
    since="6.2.0",
    key_specs=_MOVE_SPECS,
)
def lmove(c: ClientState, args: list[bytes]) -> bytes:
    return _lmove(c, args[1], args[2], _where(args[3]), _where(args[4]))


@_cmd(
    "rpoplpush",
    3,
    "write denyoom",
    "Remove the last element in a list, prepend it to another list and return it",
    "source destination",
    keys=(1, 2, 1),
    since="1.2.0",
    key_specs=_MOVE_SPECS,
)
def rpoplpush(c: ClientState, args: list[bytes]) -> bytes:
    return _lmove(c, args[1], args[2], False, True)


def _numkeys_finder(numkeys_idx: int) -> Callable[[list[bytes]], list[int]]:
    def find(args: list[bytes]) -> list[int]:
        n = int(args[numkeys_idx])
        if n < 1 or numkeys_idx + n >= len(args):
            raise ValueError("bad numkeys")
        return list(range(numkeys_idx + 1, numkeys_idx + 1 + n))

    return find


def _parse_mpop(args: list[bytes], numkeys_idx: int) -> tuple[list[bytes], bool, int]:
    """(keys, left, count) of LMPOP / BLMPOP, checked in Redis's order."""
    numkeys = _range_long(args[numkeys_idx], 1, INT64_MAX, errors.NUMKEYS_POSITIVE)
    where_idx = numkeys_idx + numkeys + 1
    n = len(args)
    if where_idx >= n:
        raise CommandError(_SYNTAX)
    left = _where(args[where_idx])
    count = -1
    j = where_idx + 1
    while j < n:
        if count == -1 and args[j].upper() == b"COUNT" and j + 1 < n:
            j += 1
            count = _range_long(args[j], 1, INT64_MAX, errors.COUNT_POSITIVE)
        else:
            raise CommandError(_SYNTAX)
        j += 1
    return args[numkeys_idx + 1 : where_idx], left, (1 if count == -1 else count)


def _mpop(c: ClientState, keys: list[bytes], left: bool, count: int) -> bytes | None:
    """Pop up to ``count`` from the first non-empty list of ``keys`` (WRONGTYPE on the way)."""
    db = c.db
    for k in keys:
        ref = _get(db, k)
        if ref is not None:
            items = lists.pop_many(db, ref, left, count)
            return _keyed(k, popped(c, LIST, b"lpop" if left else b"rpop", k, items))
    return None


_MPOP_COMPLEXITY = (
    "O(N+M) where N is the number of provided keys and M is the number of elements returned."
)


@_cmd(
    "lmpop",
    -4,
    "write",
    "Pop elements from a list",
    "numkeys key [key ...] LEFT|RIGHT [COUNT count]",
    keys=(0, 0, 0),
    since="7.0.0",
    complexity=_MPOP_COMPLEXITY,
    key_specs=(KeySpec("RW access delete", index=1, find="keynum", keynumidx=0, firstkey=1),),
    key_finder=_numkeys_finder(1),
)
def lmpop(c: ClientState, args: list[bytes]) -> bytes:
    keys, left, count = _parse_mpop(args, 1)
    reply = _mpop(c, keys, left, count)
    return c.enc.null_array if reply is None else reply


# --- blocking forms --------------------------------------------------------------------------
def _bpop(c: ClientState, args: list[bytes], left: bool) -> object:
    timeout = blocking.parse_timeout(args[-1])
    keys = args[1:-1]
    db = c.db
    for k in keys:
        ref = _get(db, k)
        if ref is not None:
            v = _pop_one(db, ref, left)
            return _pair(k, popped(c, LIST, b"lpop" if left else b"rpop", k, v))
    if not blocking.can_block(c):
        return c.enc.null_array

    def serve(key: bytes) -> bytes | None:
        db = c.db
        ref = lists.get_lenient(db, key)
        if ref is None:
            return None
        v = _pop_one(db, ref, left)
        return _pair(key, popped(c, LIST, b"lpop" if left else b"rpop", key, v))

    return blocking.block(c, keys, timeout, serve, "list")


@_cmd(
    "blpop",
    -3,
    "write noscript blocking",
    "Remove and get the first element in a list, or block until one is available",
    "key [key ...] timeout",
    keys=(1, -2, 1),
    key_flags="RW access delete",
    since="2.0.0",
    complexity="O(N) where N is the number of provided keys.",
    history=_TIMEOUT_HISTORY,
)
def blpop(c: ClientState, args: list[bytes]) -> object:
    return _bpop(c, args, True)


@_cmd(
    "brpop",
    -3,
    "write noscript blocking",
    "Remove and get the last element in a list, or block until one is available",
    "key [key ...] timeout",
    keys=(1, -2, 1),
    key_flags="RW access delete",
    since="2.0.0",
    complexity="O(N) where N is the number of provided keys.",
    history=_TIMEOUT_HISTORY,
)
def brpop(c: ClientState, args: list[bytes]) -> object:
    return _bpop(c, args, False)


def _blmove(
    c: ClientState, src: bytes, dst: bytes, left_from: bool, left_to: bool, raw_timeout: bytes
) -> object:
    timeout = blocking.parse_timeout(raw_timeout)
    db = c.db
    if _get(db, src) is not None:
        return _lmove(c, src, dst, left_from, left_to)
    if not blocking.can_block(c):
        return c.enc.null

    def serve(key: bytes) -> bytes | None:
        db = c.db
        ref = lists.get_lenient(db, key)
        if ref is None:
            return None
        v = lists.move(db, ref, lists.destination(db, dst), left_from, left_to)
        list_moved(c, key, dst, left_from, left_to)
        return b"$%d\r\n%s\r\n" % (len(v), v)

    return blocking.block(c, [src], timeout, serve, "list")


@_cmd(
    "blmove",
    6,
    "write denyoom noscript blocking",
    "Pop an element from a list, push it to another list and return it; or block until one "
    "is available",
    "source destination LEFT|RIGHT LEFT|RIGHT timeout",
    keys=(1, 2, 1),
    since="6.2.0",
    key_specs=_MOVE_SPECS,
)
def blmove(c: ClientState, args: list[bytes]) -> object:
    return _blmove(c, args[1], args[2], _where(args[3]), _where(args[4]), args[5])


@_cmd(
    "brpoplpush",
    4,
    "write denyoom noscript blocking",
    "Pop an element from a list, push it to another list and return it; or block until one "
    "is available",
    "source destination timeout",
    keys=(1, 2, 1),
    since="2.2.0",
    key_specs=_MOVE_SPECS,
    history=_TIMEOUT_HISTORY,
)
def brpoplpush(c: ClientState, args: list[bytes]) -> object:
    return _blmove(c, args[1], args[2], False, True, args[3])


@_cmd(
    "blmpop",
    -5,
    "write blocking",
    "Pop elements from a list, or block until one is available",
    "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]",
    keys=(0, 0, 0),
    since="7.0.0",
    complexity=_MPOP_COMPLEXITY,
    key_specs=(KeySpec("RW access delete", index=2, find="keynum", keynumidx=0, firstkey=1),),
    key_finder=_numkeys_finder(2),
)
def blmpop(c: ClientState, args: list[bytes]) -> object:
    keys, left, count = _parse_mpop(args, 2)
    timeout = blocking.parse_timeout(args[1])
    reply = _mpop(c, keys, left, count)
    if reply is not None:
        return reply
    if not blocking.can_block(c):
        return c.enc.null_array

    def serve(key: bytes) -> bytes | None:
        db = c.db
        ref = lists.get_lenient(db, key)
        if ref is None:
            return None
        items = lists.pop_many(db, ref, left, count)
        return _keyed(key, popped(c, LIST, b"lpop" if left else b"rpop", key, items))

    return blocking.block(c, keys, timeout, serve, "list")


# --- hooks: DEBUG DIGEST, OBJECT ENCODING ----------------------------------------------------
register_value_digest(T_LIST, lambda db, mkey, raw, d: digest_list(d, lists.items(db, mkey, raw)))
# Redis 7.0 encodes every list as a quicklist (listpack lists arrived in 7.2).
register_encoding(T_LIST, lambda db, mkey, raw: b"quicklist")
