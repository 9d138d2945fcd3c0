"""HyperLogLog commands (Redis 7.0 ``hyperloglog.c``): PFADD, PFCOUNT, PFMERGE, PFDEBUG,
PFSELFTEST.

An HLL is an ordinary string holding Redis's exact bytes (the algorithm and the byte format
are in :mod:`pikadb.storage.hyperloglog`); values are read and written through
:mod:`pikadb.storage.strings`, keeping the key's TTL like Redis's in-place edits do.

Redis behaviours kept on purpose:

* a single-key PFCOUNT whose cached cardinality is stale stores the recomputed value in
  the header, so the stored bytes change (and a GET shows it), as in Redis;
* when a PFADD element hits a corrupted sparse value, the changes made by the elements
  before it stay (Redis edits the string in place) and the reply is INVALIDOBJ;
* PFDEBUG GETREG / TODENSE convert a sparse value to dense and store it;
* errors come in argument order (PFCOUNT / PFMERGE check each key, then merge it).

The sparse -> dense threshold is the ``hll-sparse-max-bytes`` setting (CONFIG SET-able).
"""

from __future__ import annotations

from pikadb.commands import notify
from pikadb.commands.context import ClientState
from pikadb.commands.table import KeySpec, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, ONE, ZERO, bulk, integer, simple
from pikadb.storage import hyperloglog as hll
from pikadb.storage import strings
from pikadb.storage.hll_registers import signed

G = "hyperloglog"
T_STRING = strings.T_STRING
_is_hll = hll.is_hll
_update = strings.update
_INTS = [b":%d\r\n" % i for i in range(64)]


def _max_bytes(c: ClientState) -> int:
    return c.server.settings.server.hll_sparse_max_bytes


def _lookup(c: ClientState, key: bytes) -> tuple[bytes, bytes | None, bytes | None]:
    """(mkey, raw, HLL value or None if absent); WRONGTYPE for another type, the HLL
    WRONGTYPE for a string that is not a valid HLL (isHLLObjectOrReply)."""
    mkey, raw = c.db.lookup(key)
    if raw is None:
        return mkey, None, None
    return mkey, raw, _value(c, mkey, raw)


def _value(c: ClientState, mkey: bytes, raw: bytes) -> bytes:
    if raw[0] == T_STRING:  # inline: the value is in the record
        value = raw[9:]
        if not _is_hll(value):
            raise CommandError(errors.HLL_WRONGTYPE)
        return value
    strings.check(raw)
    # a long string: only a sparse HLL can be that long; look at the header first
    db = c.db
    n = strings.length(raw)
    header = strings.read_range(db, mkey, raw, 0, hll.HDR)
    if len(header) < hll.HDR or header[:4] != b"HYLL" or header[4] > hll.SPARSE:
        raise CommandError(errors.HLL_WRONGTYPE)
    if header[4] == hll.DENSE and n != hll.DENSE_SIZE:
        raise CommandError(errors.HLL_WRONGTYPE)
    value = strings.value(db, mkey, raw)
    assert value is not None
    return value


# --- PFADD -----------------------------------------------------------------------------------
@command(
    "pfadd",
    -2,
    "write denyoom fast",
    keys=(1, 1, 1),
    acl="hyperloglog",
    group=G,
    key_flags="RW insert",
    summary="Adds the specified elements to the specified HyperLogLog.",
    since="2.8.9",
    complexity="O(1) to add every element.",
    args="key [element [element ...]]",
)
def pfadd(c: ClientState, args: list[bytes]) -> bytes:
    mkey, raw, value = _lookup(c, args[1])
    try:
        updated, new = hll.pfadd(value, args[2:], _max_bytes(c))
    except hll.CorruptHll as exc:
        partial = exc.args[0] if exc.args else None
        if partial is not None:  # Redis keeps the earlier elements' in-place changes
            _update(c.db, mkey, raw, partial)
        raise CommandError(errors.HLL_INVALID) from None
    if new is not None:
        _update(c.db, mkey, raw, new)
    if updated:
        notify.notify(c, notify.STRING, b"pfadd", args[1])
    return ONE if updated else ZERO


# --- PFCOUNT ---------------------------------------------------------------------------------
@command(
    "pfcount",
    -2,
    "readonly may_replicate",
    keys=(1, -1, 1),
    acl="hyperloglog",
    group=G,
    key_specs=(
        KeySpec(
            "RW access",
            index=1,
            lastkey=-1,
            notes="RW because it may change the internal representation of the key, and "
            "propagate to replicas",
        ),
    ),
    summary="Return the approximated cardinality of the set(s) observed by the HyperLogLog "
    "at key(s).",
    since="2.8.9",
    complexity="O(1) with a very small average constant time when called with a single key. "
    "O(N) with N being the number of keys, and much bigger constant times, when called with "
    "multiple keys.",
    args="key [key ...]",
)
def pfcount(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) == 2:
        mkey, raw, value = _lookup(c, args[1])
        if value is None:
            return ZERO
        try:
            card, new = hll.pfcount(value)
        except hll.CorruptHll:
            raise CommandError(errors.HLL_INVALID) from None
        if new is not None:  # the cached cardinality is part of the value, as in Redis
            _update(c.db, mkey, raw, new)
        return integer(signed(card))
    merger = hll.Merger()
    for key in args[1:]:
        value = _lookup(c, key)[2]
        if value is None:
            continue
        try:
            merger.add(value)
        except hll.CorruptHll:
            raise CommandError(errors.HLL_INVALID) from None
    return integer(signed(merger.count()))


# --- PFMERGE ---------------------------------------------------------------------------------
@command(
    "pfmerge",
    -2,
    "write denyoom",
    keys=(1, -1, 1),
    acl="hyperloglog",
    group=G,
    key_specs=(
        KeySpec("RW access insert", index=1),
        KeySpec("RO access", index=2, lastkey=-1),
    ),
    summary="Merge N different HyperLogLogs into a single one.",
    since="2.8.9",
    complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
    args="destkey sourcekey [sourcekey ...]",
)
def pfmerge(c: ClientState, args: list[bytes]) -> bytes:
    merger = hll.Merger()
    dest_mkey, dest_raw, dest_value = _lookup(c, args[1])
    if dest_value is not None:
        try:
            merger.add(dest_value)
        except hll.CorruptHll:
            raise CommandError(errors.HLL_INVALID) from None
    for key in args[2:]:
        value = _lookup(c, key)[2]
        if value is None:
            continue
        try:
            merger.add(value)
        except hll.CorruptHll:
            raise CommandError(errors.HLL_INVALID) from None
    _update(c.db, dest_mkey, dest_raw, merger.store(dest_value, _max_bytes(c)))
    notify.notify(c, notify.STRING, b"pfadd", args[1])
    return OK


# --- PFDEBUG / PFSELFTEST --------------------------------------------------------------------
def _c_text(raw: bytes) -> str:
    """An argument as addReplyErrorFormat prints it: up to a NUL, no CR/LF."""
    text = raw.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
    return text.replace("\r", " ").replace("\n", " ")


@command(
    "pfdebug",
    3,
    "write denyoom admin",
    keys=(2, 2, 1),
    acl="hyperloglog",
    group=G,
    key_flags="RW access",
    summary="Internal commands for debugging HyperLogLog values",
    since="2.8.9",
    complexity="N/A",
    args="subcommand key",
)
def pfdebug(c: ClientState, args: list[bytes]) -> bytes:
    mkey, raw = c.db.lookup(args[2])
    if raw is None:
        raise CommandError(errors.HLL_NO_KEY)
    value = _value(c, mkey, raw)
    sub = args[1].lower()
    sparse = value[4] == hll.SPARSE
    if sub == b"getreg" or sub == b"todense":
        if sparse:
            try:
                dense = hll.to_dense(value)
            except hll.CorruptHll:
                raise CommandError(errors.HLL_INVALID) from None
            _update(c.db, mkey, raw, dense)
            value = dense
        if sub == b"todense":
            return ONE if sparse else ZERO
        regs = hll.dense_to_raw(value)
        ints = _INTS
        return b"*%d\r\n" % hll.REGISTERS + b"".join([ints[v] for v in regs])
    if sub == b"decode":
        if not sparse:
            raise CommandError(errors.HLL_NOT_SPARSE)
        return bulk(hll.decode_sparse(value))
    if sub == b"encoding":
        return simple("sparse" if sparse else "dense")
    raise CommandError(errors.PFDEBUG_UNKNOWN.format(_c_text(args[1])))


@command(
    "pfselftest",
    1,
    "admin",
    acl="hyperloglog",
    group=G,
    summary="An internal command for testing HyperLogLog values",
    since="2.8.9",
    complexity="N/A",
)
def pfselftest(c: ClientState, args: list[bytes]) -> bytes:
    failure = hll.selftest(_max_bytes(c))
    if failure is not None:
        raise CommandError(errors.HLL_TESTFAILED.format(failure))
    return OK
