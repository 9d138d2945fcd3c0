"""DEBUG: HELP, SLEEP, OBJECT, RELOAD, SET-ACTIVE-EXPIRE, DIGEST, DIGEST-VALUE, POPULATE,
ERROR, LOG, PROTOCOL and CHANGE-REPL-ID (accepted, no effect).

Guarded by ``enable-debug-command`` (no | yes | local), with Redis 7's error text.

DEBUG DIGEST is Redis 7.0's ``computeDatasetDigest``, byte for byte, so a pikadb and a
redis-server holding the same data print the same digest::

    final = 20 zero bytes
    for each non-empty db j (ascending):   final = mix(final, htonl(j))
        for each key:   d = 20 zero bytes; d = mix(d, key); d = mix(d, htonl(redis type))
                        d = <value digest>; if the key has an expire: d ^= SHA1("!!expire!!")
                        final ^= d
    xor(d, s): d ^= SHA1(s)          mix(d, s): d = SHA1(d ^ SHA1(s))

Value digests (``xorObjectDigest``): string -> mix(value); list -> mix(each element, in
order); set -> xor(each member); zset -> for each member e = mix(mix(0, member),
"%.17g" % score), d ^= e; hash -> for each field e = mix(mix(0, field), value), d ^= e;
stream -> for each entry mix("ms.seq"), then mix(field), mix(value) of each field.
Types other than strings plug their value walk in with :func:`register_value_digest` (the
``digest_*`` helpers below implement the per-type rules; a type only supplies iteration).
"""

from __future__ import annotations

import hashlib
import logging
import struct
import time
from collections.abc import Callable, Iterable

from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.introspection import help_reply
from pikadb.commands.object_cmd import encoding_of, refcount_of
from pikadb.commands.table import command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, array, bulk, integer, simple
from pikadb.rdb.encoding import save_string
from pikadb.storage import layout as L
from pikadb.storage import strings
from pikadb.storage.keyspace import Database

log = logging.getLogger("pikadb.debug")
G = "server"

# Redis object type numbers (OBJ_STRING...) as hashed into the digest.
REDIS_TYPE = {L.T_STRING: 0, L.T_LIST: 1, L.T_SET: 2, L.T_ZSET: 3, L.T_HASH: 4, L.T_STREAM: 6}
REDIS_TYPE[L.T_STRING_CHUNKED] = 0
_EXPIRE_MARK = b"!!expire!!"
ZERO_DIGEST = "0" * 40

_sha1 = hashlib.sha1


# --- digest primitives (debug.c) ----------------------------------------------------------
def xor_digest(digest: bytearray, data: bytes) -> None:
    h = _sha1(data).digest()
    for i in range(20):
        digest[i] ^= h[i]


def mix_digest(digest: bytearray, data: bytes) -> None:
    xor_digest(digest, data)
    digest[:] = _sha1(bytes(digest)).digest()


def digest_list(digest: bytearray, items: Iterable[bytes]) -> None:
    for item in items:
        mix_digest(digest, item)


def digest_set(digest: bytearray, members: Iterable[bytes]) -> None:
    for m in members:
        xor_digest(digest, m)


def digest_hash(digest: bytearray, pairs: Iterable[tuple[bytes, bytes]]) -> None:
    for field, value in pairs:
        e = bytearray(20)
        mix_digest(e, field)
        mix_digest(e, value)
        xor_digest(digest, bytes(e))


def digest_zset(digest: bytearray, pairs: Iterable[tuple[bytes, float]]) -> None:
    for member, score in pairs:
        e = bytearray(20)
        mix_digest(e, member)
        mix_digest(e, b"%.17g" % score)
        xor_digest(digest, bytes(e))


def digest_stream(
    digest: bytearray, entries: Iterable[tuple[int, int, Iterable[tuple[bytes, bytes]]]]
) -> None:
    """Entries as (ms, seq, [(field, value), ...]) in ID order."""
    for ms, seq, fields in entries:
        mix_digest(digest, b"%d.%d" % (ms, seq))
        for f, v in fields:
            mix_digest(digest, f)
            mix_digest(digest, v)


# fn(db, meta key, raw meta value, digest): mix the value of a non-string key into digest.
ValueDigester = Callable[[Database, bytes, bytes, bytearray], None]
_VALUE_DIGESTERS: dict[int, ValueDigester] = {}


def register_value_digest(type_code: int, fn: ValueDigester) -> None:
    """Let a collection type take part in DEBUG DIGEST / DIGEST-VALUE, e.g.::

    register_value_digest(T_HASH, lambda db, mkey, raw, d: digest_hash(d, hashes.items(db, mkey, raw)))
    """
    _VALUE_DIGESTERS[type_code] = fn


def object_digest(db: Database, mkey: bytes, raw: bytes, digest: bytearray) -> None:
    """xorObjectDigest: type, value and expire of one key, mixed into ``digest``."""
    t = raw[0]
    mix_digest(digest, struct.pack(">I", REDIS_TYPE.get(t, t)))
    if t == L.T_STRING:
        mix_digest(digest, raw[L.HDR_SIZE :])
    elif t == L.T_STRING_CHUNKED:  # mixDigest of the whole value, hashed chunk by chunk
        h = _sha1()
        for piece in strings.pieces(db, mkey, raw):
            h.update(piece)
        value_hash = h.digest()
        for i in range(20):
            digest[i] ^= value_hash[i]
        digest[:] = _sha1(bytes(digest)).digest()
    else:
        fn = _VALUE_DIGESTERS.get(t)
        if fn is None:  # a wrong digest would be worse than none
            name = L.TYPE_NAMES.get(t, b"unknown").decode()
            raise CommandError(errors.DIGEST_UNSUPPORTED.format(name))
        fn(db, mkey, raw, digest)
    if L.expire_of(raw):
        xor_digest(digest, _EXPIRE_MARK)


def dataset_digest(dbs: Iterable[Database]) -> str:
    """computeDatasetDigest over the logical databases, in index order."""
    final = bytearray(20)
    for db in dbs:
        started = False
        for mkey, raw in db.iter_meta():
            if not started:
                mix_digest(final, struct.pack(">I", db.index))
                started = True
            d = bytearray(20)
            mix_digest(d, L.user_key(mkey))
            object_digest(db, mkey, raw, d)
            xor_digest(final, bytes(d))
    return final.hex()


# --- the command --------------------------------------------------------------------------
def _allowed(c: ClientState) -> bool:
    mode = str(c.server.settings.server.enable_debug_command)
    return mode == "yes" or (mode == "local" and c.is_local)


_SERIALIZE_MAX = 8 << 20  # longer chunked strings report an estimate (no LZF pass)


def _serialized_length(db: Database, mkey: bytes, raw: bytes) -> int:
    if raw[0] == L.T_STRING:
        return len(save_string(raw[L.HDR_SIZE :]))
    if raw[0] == L.T_STRING_CHUNKED:
        n = strings.length(raw)
        if n > _SERIALIZE_MAX:
            return n + 5  # the uncompressed size: an estimate, see _SERIALIZE_MAX
        return len(save_string(strings.value(db, mkey, raw) or b""))
    return L.CollectionMeta.decode(raw).size


def _debug_object(c: ClientState, key: bytes) -> bytes:
    mkey, raw = c.db.lookup(key)
    if raw is None:
        raise CommandError(errors.NO_SUCH_KEY)
    enc = encoding_of(c.db, mkey, raw).decode()
    lru = int(time.time()) & ((1 << 24) - 1)
    return simple(
        f"Value at:0x{id(raw):x} refcount:{refcount_of(raw)} encoding:{enc} "
        f"serializedlength:{_serialized_length(c.db, mkey, raw)} lru:{lru} lru_seconds_idle:0"
    )


def _positive(raw: bytes) -> int:
    """getPositiveLongFromObjectOrReply (one message for "not a number" and "negative")."""
    n = parse_int(raw, _NOT_POSITIVE)
    if n < 0:
        raise CommandError(_NOT_POSITIVE)
    return n


_NOT_POSITIVE = "ERR value is out of range, must be positive"


def _populate(c: ClientState, args: list[bytes]) -> bytes:
    count = _positive(args[2])
    prefix = args[3] if len(args) > 3 else b"key"
    size = _positive(args[4]) if len(args) > 4 else 0
    db = c.db
    for j in range(count):
        key = b"%s:%d" % (prefix, j)
        mkey, old = db.lookup(key)
        if old is not None:
            continue
        value = b"value:%d" % j
        if size:
            value = value[:size].ljust(size, b"\x00")
        strings.write(db, mkey, None, value)
    return OK


def _protocol(c: ClientState, kind: bytes) -> bytes:
    enc = c.enc
    kind = kind.lower()
    if kind == b"string":
        return bulk(b"Hello World")
    if kind == b"integer":
        return integer(12345)
    if kind == b"double":
        return enc.double(3.141)
    if kind == b"bignum":
        n = b"1234567999999999999999999999999999999"
        return bulk(n) if enc.version == 2 else b"(%s\r\n" % n
    if kind == b"null":
        return enc.null
    if kind == b"array":
        return array([integer(j) for j in range(3)])
    if kind == b"set":
        return enc.set_header(3) + b"".join(integer(j) for j in range(3))
    if kind == b"map":
        return enc.map([(integer(j), enc.boolean(j == 1)) for j in range(3)])
    if kind == b"attrib":
        real = bulk(b"Some real reply following the attribute")
        if enc.version == 2:
            return real
        return b"|1\r\n" + bulk(b"key-popularity") + array([bulk(b"key:123"), integer(90)]) + real
    if kind == b"push":
        if enc.version == 2:
            raise CommandError(errors.RESP2_NOT_SUPPORTED)
        push = enc.push_header(2) + bulk(b"server-cpu-usage") + integer(42)
        return push + bulk(b"Some real reply following the push reply")
    if kind == b"true":
        return enc.boolean(True)
    if kind == b"false":
        return enc.boolean(False)
    if kind == b"verbatim":
        return enc.verbatim(b"This is a verbatim\nstring")
    raise CommandError(errors.DEBUG_PROTOCOL_TYPE)


def _digest_value(c: ClientState, keys: list[bytes]) -> bytes:
    out: list[bytes] = []
    for key in keys:
        d = bytearray(20)
        mkey, raw = c.db.lookup(key)
        if raw is not None:
            object_digest(c.db, mkey, raw, d)
        out.append(simple(d.hex()))
    return array(out)


_HELP = [
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Close and reopen the storage. Options MERGE, NOFLUSH and NOSAVE are accepted.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
]


def _atoi(raw: bytes) -> int:
    """C atoi: leading digits, 0 when there are none."""
    s = raw.strip()
    n = 0
    sign = 1
    i = 0
    if s[:1] in (b"-", b"+"):
        sign = -1 if s[:1] == b"-" else 1
        i = 1
    while i < len(s) and 48 <= s[i] <= 57:
        n = n * 10 + s[i] - 48
        i += 1
    return sign * n


def _strtod(raw: bytes) -> float:
    """C strtod on a prefix; 0.0 when nothing parses."""
    s = raw.strip()
    for end in range(len(s), 0, -1):
        try:
            return float(s[:end])
        except ValueError:
            continue
    return 0.0


@command(
    "debug",
    -2,
    "admin noscript loading stale",
    group=G,
    summary="A container for debugging commands",
    complexity="Depends on subcommand.",
)
def debug(c: ClientState, args: list[bytes]) -> bytes:
    if not _allowed(c):
        raise CommandError(errors.DEBUG_DISABLED)
    sub = args[1].lower()
    n = len(args)
    if sub == b"help" and n == 2:
        return help_reply(args[0], _HELP)
    if sub == b"sleep" and n == 3:
        seconds = _strtod(args[2])
        if seconds > 0:
            time.sleep(seconds)  # like Redis, the whole server stops
        return OK
    if sub == b"object" and n == 3:
        return _debug_object(c, args[2])
    if sub == b"reload":
        for opt in args[2:]:
            if opt.upper() not in (b"MERGE", b"NOFLUSH", b"NOSAVE"):
                raise CommandError(errors.DEBUG_RELOAD_OPTIONS)
        c.server.reload_storage()
        log.warning("DB reloaded by DEBUG RELOAD")
        return OK
    if sub == b"set-active-expire" and n == 3:
        c.server.active_expire = bool(_atoi(args[2]))
        return OK
    if sub == b"digest" and n == 2:
        return simple(dataset_digest(c.server.store.databases))
    if sub == b"digest-value":
        return _digest_value(c, args[2:])
    if sub == b"populate" and 3 <= n <= 5:
        return _populate(c, args)
    if sub == b"error" and n == 3:
        return b"-%s\r\n" % args[2].replace(b"\r", b" ").replace(b"\n", b" ")
    if sub == b"log" and n == 3:
        log.warning("DEBUG LOG: %s", args[2].decode("utf-8", "replace"))
        return OK
    if sub == b"protocol" and n == 3:
        return _protocol(c, args[2])
    if sub == b"change-repl-id" and n == 2:
        return OK
    raise CommandError(errors.subcommand_syntax(args[1].decode("utf-8", "replace"), "debug"))
