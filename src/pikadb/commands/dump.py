"""DUMP and RESTORE (Redis 7.0 semantics, payloads byte-compatible with redis-server).

The payload codec is :mod:`pikadb.rdb`; the conversion between a stored key and an
:class:`~pikadb.rdb.RdbValue` is the per-type registry in :mod:`pikadb.storage.generic`
(each type's storage module registers its ``to_rdb`` / ``from_rdb``). A kind whose type has
no conversion yet is refused with a clear error.

pikadb keeps no LRU/LFU data, so RESTORE checks IDLETIME / FREQ like Redis and then ignores
them.
"""

from __future__ import annotations

from pikadb.commands._args import INT64_MAX, parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.notify import restored
from pikadb.commands.table import command
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK
from pikadb.rdb import dump_payload, load_payload
from pikadb.storage import generic

G = "generic"


@command(
    "dump",
    2,
    "readonly",
    keys=(1, 1, 1),
    acl="keyspace",
    group=G,
    summary="Returns a serialized representation of the value stored at a key.",
    since="2.6.0",
    complexity="O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
    args="key",
)
def dump(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    mkey, raw = db.lookup(args[1])
    if raw is None:
        return c.enc.null
    payload = dump_payload(generic.to_rdb(db, mkey, raw))
    return b"$%d\r\n%s\r\n" % (len(payload), payload)


@command(
    "restore",
    -4,
    "write denyoom",
    keys=(1, 1, 1),
    acl="keyspace dangerous",
    group=G,
    summary="Creates a key from the serialized representation of a value.",
    since="2.6.0",
    complexity="O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
    args="key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
    key_flags="OW update",
)
def restore(c: ClientState, args: list[bytes]) -> bytes:
    replace = absttl = False
    idle = freq = -1
    i, n = 4, len(args)
    while i < n:
        opt = args[i].upper()
        more = n - i - 1
        if opt == b"REPLACE":
            replace = True
        elif opt == b"ABSTTL":
            absttl = True
        elif opt == b"IDLETIME" and more >= 1 and freq == -1:
            idle = parse_int(args[i + 1])
            if idle < 0:
                raise CommandError(errors.INVALID_IDLETIME)
            i += 1
        elif opt == b"FREQ" and more >= 1 and idle == -1:
            freq = parse_int(args[i + 1])
            if freq < 0 or freq > 255:
                raise CommandError(errors.INVALID_FREQ)
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    db = c.db
    if not replace and db.lookup(args[1])[1] is not None:
        raise CommandError(errors.BUSYKEY)
    ttl = parse_int(args[2])
    if ttl < 0:
        raise CommandError(errors.INVALID_TTL)
    value = load_payload(args[3])  # DumpPayloadError carries Redis's texts
    expire_at = ttl if (absttl or not ttl) else ttl + now_ms()
    if expire_at > INT64_MAX:  # Redis's int64 sum wraps negative: "already expired"
        expire_at = 1
    restored(c, args[1], lambda: generic.restore(db, args[1], value, expire_at, replace=True))
    return OK
