"""OBJECT ENCODING / FREQ / IDLETIME / REFCOUNT / HELP.

Encodings are what Redis 7.0 would report for the same logical value (clients and tests
look at them): strings are ``int`` / ``embstr`` / ``raw`` by value. Collection types add an
exact rule with :func:`register_encoding` (their storage knows element sizes); until then a
rule from the meta record alone is used (:data:`_DEFAULT_ENCODINGS`).
"""

from __future__ import annotations

from collections.abc import Callable

from pikadb.commands._args import INT64_MAX, INT64_MIN
from pikadb.commands.context import ClientState
from pikadb.commands.introspection import help_reply
from pikadb.commands.table import command, container
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import bulk, integer
from pikadb.storage import layout as L
from pikadb.storage.keyspace import Database

G = "generic"
P = "object"
OBJ_SHARED_REFCOUNT = 2147483647  # INT_MAX: shared integers 0..9999
OBJ_SHARED_INTEGERS = 10000
EMBSTR_SIZE_LIMIT = 44

# fn(db, meta key, raw meta value) -> encoding name
EncodingRule = Callable[[Database, bytes, bytes], bytes]
_ENCODINGS: dict[int, EncodingRule] = {}


def register_encoding(type_code: int, rule: EncodingRule) -> None:
    """Let a type report its exact OBJECT ENCODING (e.g. hash: listpack vs hashtable)."""
    _ENCODINGS[type_code] = rule


def string_int_value(value: bytes) -> int | None:
    """The integer a string is stored as by Redis (tryObjectEncoding), or None."""
    if len(value) > 20 or not value:
        return None
    try:
        v = int(value)
    except ValueError:
        return None
    if b"%d" % v != value or not INT64_MIN <= v <= INT64_MAX:
        return None
    return v


def string_encoding(value: bytes) -> bytes:
    if string_int_value(value) is not None:
        return b"int"
    return b"embstr" if len(value) <= EMBSTR_SIZE_LIMIT else b"raw"


def _size(raw: bytes) -> int:
    return L.CollectionMeta.decode(raw).size


# Redis 7.0 defaults: hash/zset listpack up to 128 entries, set intset up to 512 (the
# element checks need the type's data: see register_encoding); lists are quicklists.
_DEFAULT_ENCODINGS: dict[int, EncodingRule] = {
    L.T_HASH: lambda db, mkey, raw: b"listpack" if _size(raw) <= 128 else b"hashtable",
    L.T_ZSET: lambda db, mkey, raw: b"listpack" if _size(raw) <= 128 else b"skiplist",
    L.T_SET: lambda db, mkey, raw: b"hashtable",
    L.T_LIST: lambda db, mkey, raw: b"quicklist",
    L.T_STREAM: lambda db, mkey, raw: b"stream",
    L.T_STRING_CHUNKED: lambda db, mkey, raw: b"raw",  # longer than any embstr or int
}


def encoding_of(db: Database, mkey: bytes, raw: bytes) -> bytes:
    t = raw[0]
    if t == L.T_STRING:
        return string_encoding(raw[L.HDR_SIZE :])
    rule = _ENCODINGS.get(t) or _DEFAULT_ENCODINGS.get(t)
    return rule(db, mkey, raw) if rule is not None else b"unknown"


def refcount_of(raw: bytes) -> int:
    if raw[0] == L.T_STRING:
        v = string_int_value(raw[L.HDR_SIZE :])
        if v is not None and 0 <= v < OBJ_SHARED_INTEGERS:
            return OBJ_SHARED_REFCOUNT
    return 1


def _lfu_policy(c: ClientState) -> bool:
    return "lfu" in str(c.server.settings.server.maxmemory_policy)


container(
    "object", -2, group=G, summary="A container for object introspection commands", since="2.2.3"
)


@command(
    "encoding",
    3,
    "readonly",
    keys=(2, 2, 1),
    acl="keyspace",
    group=G,
    parent=P,
    summary="Inspect the internal encoding of a Redis object",
    since="2.2.3",
    complexity="O(1)",
    args="key",
    tips="nondeterministic_output",
    key_flags="RO",
)
def object_encoding(c: ClientState, args: list[bytes]) -> bytes:
    mkey, raw = c.db.lookup(args[2])
    if raw is None:
        return c.enc.null
    return bulk(encoding_of(c.db, mkey, raw))


@command(
    "freq",
    3,
    "readonly",
    keys=(2, 2, 1),
    acl="keyspace",
    group=G,
    parent=P,
    summary="Get the logarithmic access frequency counter of a Redis object",
    since="4.0.0",
    complexity="O(1)",
    args="key",
    tips="nondeterministic_output",
    key_flags="RO",
)
def object_freq(c: ClientState, args: list[bytes]) -> bytes:
    raw = c.db.lookup(args[2])[1]
    if raw is None:
        return c.enc.null
    if not _lfu_policy(c):
        raise CommandError(errors.LFU_NOT_SELECTED)
    return integer(0)  # access frequency is not tracked on disk


@command(
    "idletime",
    3,
    "readonly",
    keys=(2, 2, 1),
    acl="keyspace",
    group=G,
    parent=P,
    summary="Get the time since a Redis object was last accessed",
    since="2.2.3",
    complexity="O(1)",
    args="key",
    tips="nondeterministic_output",
    key_flags="RO",
)
def object_idletime(c: ClientState, args: list[bytes]) -> bytes:
    raw = c.db.lookup(args[2])[1]
    if raw is None:
        return c.enc.null
    if _lfu_policy(c):
        raise CommandError(errors.LFU_SELECTED)
    return integer(0)  # access times are not tracked on disk


@command(
    "refcount",
    3,
    "readonly",
    keys=(2, 2, 1),
    acl="keyspace",
    group=G,
    parent=P,
    summary="Get the number of references to the value of the key",
    since="2.2.3",
    complexity="O(1)",
    args="key",
    tips="nondeterministic_output",
    key_flags="RO",
)
def object_refcount(c: ClientState, args: list[bytes]) -> bytes:
    raw = c.db.lookup(args[2])[1]
    if raw is None:
        return c.enc.null
    return integer(refcount_of(raw))


_HELP = [
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
]


@command(
    "help",
    2,
    "loading stale",
    acl="keyspace",
    group=G,
    parent=P,
    summary="Show helpful text about the different subcommands",
    since="6.2.0",
    complexity="O(1)",
)
def object_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(args[0], _HELP)
