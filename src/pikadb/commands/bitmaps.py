"""Bitmap commands (Redis 7.0 ``bitops.c``): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
BITFIELD and BITFIELD_RO.

Argument checks, their order and the error texts follow Redis 7.0.15, including its
quirks: BITCOUNT and BITPOS look the key up before parsing the range (a missing key
answers 0 / -1 whatever the range arguments), BITPOS without an explicit end treats the
string as zero-padded on the right, ``#N`` BITFIELD offsets are multiplied by the field
width in 64-bit arithmetic, and a BITFIELD write creates (zero-padded) the key even when
every write fails on OVERFLOW FAIL. The bit work itself is in
:mod:`pikadb.storage.bitmaps`.
"""

from __future__ import annotations

from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.notify import STRING, notify, stored
from pikadb.commands.table import KeySpec, command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import NEG_ONE, ONE, ZERO, array, integer
from pikadb.storage import bitmaps, strings

G = "bitmap"
_BYTE_BIT = "7.0.0", "Added the `BYTE|BIT` option."
_U64 = (1 << 64) - 1


def _max_bulk(c: ClientState) -> int:
    return c.server.settings.server.proto_max_bulk_len


def _bit_offset(c: ClientState, raw: bytes, hash_bits: int = 0) -> int:
    """getBitOffsetFromArgument: a bit offset, ``#N`` (N * hash_bits) when allowed."""
    usehash = hash_bits > 0 and raw[:1] == b"#"
    n = parse_int(raw[1:] if usehash else raw, errors.BIT_OFFSET)
    if usehash:  # long long multiplication: wraps like the C code does
        n = ((n * hash_bits + (1 << 63)) & _U64) - (1 << 63)
    if n < 0 or (n >> 3) >= _max_bulk(c):
        raise CommandError(errors.BIT_OFFSET)
    return n


def _unit_is_bit(raw: bytes) -> bool:
    low = raw.lower()
    if low == b"bit":
        return True
    if low == b"byte":
        return False
    raise CommandError(errors.SYNTAX)


def _lookup_string(c: ClientState, key: bytes) -> tuple[bytes, bytes | None]:
    mkey, raw = c.db.lookup(key)
    strings.check(raw)
    return mkey, raw


# --- SETBIT / GETBIT -------------------------------------------------------------------------
@command(
    "setbit",
    4,
    "write denyoom",
    keys=(1, 1, 1),
    acl="bitmap",
    group=G,
    key_flags="RW access update",
    summary="Sets or clears the bit at offset in the string value stored at key",
    since="2.2.0",
    complexity="O(1)",
    args="key offset value",
)
def setbit(c: ClientState, args: list[bytes]) -> bytes:
    offset = _bit_offset(c, args[2])
    on = parse_int(args[3], errors.BIT_VALUE)
    if on & ~1:
        raise CommandError(errors.BIT_VALUE)
    old, changed = bitmaps.setbit(c.db, args[1], offset, on)
    if changed:
        notify(c, STRING, b"setbit", args[1])
    return ONE if old else ZERO


@command(
    "getbit",
    3,
    "readonly fast",
    keys=(1, 1, 1),
    acl="bitmap",
    group=G,
    key_flags="RO access",
    summary="Returns the bit value at offset in the string value stored at key",
    since="2.2.0",
    complexity="O(1)",
    args="key offset",
)
def getbit(c: ClientState, args: list[bytes]) -> bytes:
    offset = _bit_offset(c, args[2])
    return ONE if bitmaps.getbit(c.db, args[1], offset) else ZERO


# --- BITCOUNT / BITPOS -----------------------------------------------------------------------
def _clamp(start: int, end: int, total: int) -> tuple[int, int]:
    """Redis's range conversion: negative indexes from the end, clamped to [0, total-1]."""
    if start < 0:
        start = max(total + start, 0)
    if end < 0:
        end = max(total + end, 0)
    if end >= total:
        end = total - 1
    return start, end


@command(
    "bitcount",
    -2,
    "readonly",
    keys=(1, 1, 1),
    acl="bitmap",
    group=G,
    key_flags="RO access",
    summary="Count set bits in a string",
    since="2.6.0",
    complexity="O(N)",
    args="key [start end [BYTE|BIT]]",
    history=(_BYTE_BIT,),
)
def bitcount(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    mkey, raw = _lookup_string(c, args[1])
    if raw is None:
        return ZERO
    n = strings.length(raw)
    argc = len(args)
    if argc == 4 or argc == 5:
        start, end = parse_int(args[2]), parse_int(args[3])
        if start < 0 and end < 0 and start > end:
            return ZERO
        isbit = argc == 5 and _unit_is_bit(args[4])
        start, end = _clamp(start, end, n * 8 if isbit else n)
        if start > end:
            return ZERO
        lo, hi = (start, end) if isbit else (start * 8, end * 8 + 7)
    elif argc == 2:
        lo, hi = 0, n * 8 - 1
    else:
        raise CommandError(errors.SYNTAX)
    return integer(bitmaps.count_bits(db, mkey, raw, lo, hi))


@command(
    "bitpos",
    -3,
    "readonly",
    keys=(1, 1, 1),
    acl="bitmap",
    group=G,
    key_flags="RO access",
    summary="Find first bit set or clear in a string",
    since="2.8.7",
    complexity="O(N)",
    args="key bit [start [end [BYTE|BIT]]]",
    history=(_BYTE_BIT,),
)
def bitpos(c: ClientState, args: list[bytes]) -> bytes:
    bit = parse_int(args[2])
    if bit != 0 and bit != 1:
        raise CommandError(errors.BIT_ARG)
    mkey, raw = _lookup_string(c, args[1])
    if raw is None:  # an infinite run of zeros
        return NEG_ONE if bit else ZERO
    n = strings.length(raw)
    argc = len(args)
    end_given = False
    if 4 <= argc <= 6:
        start = parse_int(args[3])
        isbit = argc == 6 and _unit_is_bit(args[5])
        if argc >= 5:
            end = parse_int(args[4])
            end_given = True
        else:
            end = n * 8 + 7 if isbit else n - 1
        start, end = _clamp(start, end, n * 8 if isbit else n)
        if start > end:
            return NEG_ONE
        lo, hi = (start, end) if isbit else (start * 8, end * 8 + 7)
    elif argc == 3:
        if n == 0:
            return NEG_ONE
        lo, hi = 0, n * 8 - 1
    else:
        raise CommandError(errors.SYNTAX)
    pos = bitmaps.find_bit(c.db, mkey, raw, bit, lo, hi)
    if pos is not None:
        return integer(pos)
    if bit or end_given:
        return NEG_ONE
    # looking for a clear bit with no explicit end: the string is zero-padded on the right
    return integer(((hi >> 3) + 1) * 8)


# --- BITOP -----------------------------------------------------------------------------------
_OPS = {b"and": bitmaps.AND, b"or": bitmaps.OR, b"xor": bitmaps.XOR, b"not": bitmaps.NOT}


@command(
    "bitop",
    -4,
    "write denyoom",
    keys=(2, -1, 1),
    acl="bitmap",
    group=G,
    key_specs=(KeySpec("OW update", index=2), KeySpec("RO access", index=3, lastkey=-1)),
    summary="Perform bitwise operations between strings",
    since="2.6.0",
    complexity="O(N)",
    args="operation destkey key [key ...]",
)
def bitop(c: ClientState, args: list[bytes]) -> bytes:
    op = _OPS.get(args[1].lower())
    if op is None:
        raise CommandError(errors.SYNTAX)
    if op == bitmaps.NOT and len(args) != 4:
        raise CommandError(errors.BITOP_NOT_ONE_KEY)
    db = c.db
    return integer(
        stored(c, STRING, b"set", args[2], lambda: bitmaps.bitop(db, op, args[2], args[3:]))
    )


# --- BITFIELD / BITFIELD_RO ------------------------------------------------------------------
_OVERFLOW = {b"wrap": bitmaps.WRAP, b"sat": bitmaps.SAT, b"fail": bitmaps.FAIL}
_OPCODES = {b"get": (bitmaps.OP_GET, 2), b"set": (bitmaps.OP_SET, 3)}
_OPCODES[b"incrby"] = (bitmaps.OP_INCRBY, 3)


def _field_type(raw: bytes) -> tuple[bool, int]:
    """getBitfieldTypeFromArgument: (signed, bits) of ``i1``..``i64`` / ``u1``..``u63``."""
    sign = raw[:1]
    if sign != b"i" and sign != b"u":
        raise CommandError(errors.BITFIELD_TYPE)
    bits = parse_int(raw[1:].split(b"\x00", 1)[0], errors.BITFIELD_TYPE)
    if bits < 1 or bits > (64 if sign == b"i" else 63):
        raise CommandError(errors.BITFIELD_TYPE)
    return sign == b"i", bits


def _parse_bitfield(c: ClientState, args: list[bytes]) -> tuple[list[bitmaps.FieldOp], bool]:
    """The operations, in order, and whether they are all GETs."""
    ops: list[bitmaps.FieldOp] = []
    overflow = bitmaps.WRAP
    readonly = True
    j, argc = 2, len(args)
    while j < argc:
        remaining = argc - j - 1
        name = args[j].lower()
        spec = _OPCODES.get(name)
        if spec is None or remaining < spec[1]:
            if name == b"overflow" and remaining >= 1:
                ow = _OVERFLOW.get(args[j + 1].lower())
                if ow is None:
                    raise CommandError(errors.BITFIELD_OVERFLOW)
                overflow = ow
                j += 2
                continue
            raise CommandError(errors.SYNTAX)
        opcode = spec[0]
        signed, bits = _field_type(args[j + 1])
        offset = _bit_offset(c, args[j + 2], bits)
        value = 0
        if opcode != bitmaps.OP_GET:
            readonly = False
            value = parse_int(args[j + 3])
        ops.append(bitmaps.FieldOp(opcode, signed, bits, offset, value, overflow))
        j += 3 if opcode == bitmaps.OP_GET else 4
    return ops, readonly


def _bitfield(c: ClientState, args: list[bytes], ro_command: bool) -> bytes:
    ops, readonly = _parse_bitfield(c, args)
    if not readonly and ro_command:
        raise CommandError(errors.BITFIELD_RO_GET_ONLY)
    results, changed = bitmaps.bitfield(c.db, args[1], ops, readonly)
    if changed:
        notify(c, STRING, b"setbit", args[1])
    null = c.enc.null
    return array([null if v is None else integer(v) for v in results])


@command(
    "bitfield",
    -2,
    "write denyoom",
    keys=(1, 1, 1),
    acl="bitmap",
    group=G,
    key_specs=(
        KeySpec(
            "RW access update variable_flags",
            index=1,
            notes="This command allows both access and modification of the key",
        ),
    ),
    summary="Perform arbitrary bitfield integer operations on strings",
    since="3.2.0",
    complexity="O(1) for each subcommand specified",
    args="key [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|"
    "INCRBY encoding offset increment ...]",
)
def bitfield(c: ClientState, args: list[bytes]) -> bytes:
    return _bitfield(c, args, False)


@command(
    "bitfield_ro",
    -2,
    "readonly fast",
    keys=(1, 1, 1),
    acl="bitmap",
    group=G,
    key_flags="RO access",
    summary="Perform arbitrary bitfield integer operations on strings. Read-only variant of "
    "BITFIELD",
    since="6.0.0",
    complexity="O(1) for each subcommand specified",
    args="key [GET encoding offset [GET encoding offset ...]]",
)
def bitfield_ro(c: ClientState, args: list[bytes]) -> bytes:
    return _bitfield(c, args, True)
