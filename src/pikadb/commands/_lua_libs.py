"""The Lua libraries Redis scripts get besides Lua's own: ``cjson`` (lua-cjson 2.1.0),
``cmsgpack`` (lua-cmsgpack 0.4.0), ``bit`` (LuaBitOp 1.0.2) and ``struct`` (Roberto
Ierusalimschy's struct), with their encoding rules and error texts.

lupa's Lua 5.1 ships none of them. ``cjson`` is written in Lua (:data:`LIBS_LUA`: table
iteration order, ``%.14g`` numbers and string building are then Lua's own, as in the C
library). ``bit``, ``struct`` and ``cmsgpack`` are Python functions behind thin Lua wrappers:
a Python function returns ``(True, results...)`` or ``(False, message)`` and the wrapper
raises the message at the script's line, like ``luaL_error`` in the C libraries.
"""

from __future__ import annotations

import math
import struct as _st
from collections.abc import Callable
from typing import Any

import lupa.lua51 as lua

from pikadb.commands._lua_cjson import CJSON_LUA

Result = tuple[Any, ...]

# --- argument helpers (luaL_check* semantics) ------------------------------------------------


def type_name(v: Any) -> str:
    """Lua's type name of a value lupa handed to Python."""
    if v is None:
        return "nil"
    t = type(v)
    if t is bytes:
        return "string"
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    return lua.lua_type(v) or "userdata"


def to_number(v: Any) -> float | int | None:
    """``lua_tonumber``: numbers, and strings Lua's ``tonumber`` accepts."""
    t = type(v)
    if t is int or t is float:
        return v  # type: ignore[no-any-return]
    if t is not bytes:
        return None
    s = v.strip()
    try:
        if s[:2].lower() in (b"0x",) or s[:3].lower() in (b"-0x", b"+0x"):
            return int(s, 16)
        return float(s)
    except ValueError:
        return None


class ArgError(Exception):
    pass


def check_number(args: tuple[Any, ...], i: int, fname: str) -> float | int:
    v = args[i - 1] if i <= len(args) else None
    n = to_number(v)
    if n is None:
        got = "no value" if i > len(args) else type_name(v)
        raise ArgError(f"bad argument #{i} to '{fname}' (number expected, got {got})")
    return n


def check_string(args: tuple[Any, ...], i: int, fname: str) -> bytes:
    v = args[i - 1] if i <= len(args) else None
    t = type(v)
    if t is bytes:
        return v  # type: ignore[no-any-return]
    if t is int or t is float:
        return lua_tostring(v)
    got = "no value" if i > len(args) else type_name(v)
    raise ArgError(f"bad argument #{i} to '{fname}' (string expected, got {got})")


def lua_tostring(n: float | int) -> bytes:
    """A number as Lua 5.1 prints it (``%.14g``)."""
    f = float(n)
    if f != f:
        return b"-nan" if math.copysign(1.0, f) < 0 else b"nan"
    if math.isinf(f):
        return b"inf" if f > 0 else b"-inf"
    return b"%.14g" % f


def c_int(n: float | int) -> int:
    """A C cast of a number to an integer (truncation toward zero)."""
    if type(n) is int:
        return n  # type: ignore[return-value]
    if n != n or math.isinf(n):
        return -(1 << 63)
    return int(n)


def guarded(fn: Callable[..., Result]) -> Callable[..., Result]:
    def call(*args: Any) -> Result:
        try:
            return fn(*args)
        except ArgError as exc:
            return (False, str(exc).encode())

    return call


# --- bit (LuaBitOp) ---------------------------------------------------------------------------
_M32 = 0xFFFFFFFF


def _barg(args: tuple[Any, ...], i: int, fname: str) -> int:
    n = check_number(args, i, fname)
    if type(n) is int:
        return n & _M32  # type: ignore[operator]
    if n != n or math.isinf(n):
        return 0
    return round(n) & _M32  # the 2^52+2^51 trick rounds half to even, as round()


def _signed(b: int) -> int:
    b &= _M32
    return b - (1 << 32) if b & 0x80000000 else b


def _bit_tobit(*a: Any) -> Result:
    return (True, _signed(_barg(a, 1, "tobit")))


def _bit_bnot(*a: Any) -> Result:
    return (True, _signed(~_barg(a, 1, "bnot")))


def _bitwise(name: str, op: Callable[[int, int], int]) -> Callable[..., Result]:
    def f(*a: Any) -> Result:
        b = _barg(a, 1, name)
        for i in range(2, len(a) + 1):
            b = op(b, _barg(a, i, name))
        return (True, _signed(b))

    return f


def _shift(name: str, op: Callable[[int, int], int]) -> Callable[..., Result]:
    def f(*a: Any) -> Result:
        b = _barg(a, 1, name)
        n = _barg(a, 2, name) & 31
        return (True, _signed(op(b, n)))

    return f


def _bit_tohex(*a: Any) -> Result:
    b = _barg(a, 1, "tohex")
    n = 8 if len(a) < 2 or a[1] is None else _signed(_barg(a, 2, "tohex"))
    digits = "0123456789abcdef"
    if n < 0:
        n = -n
        digits = "0123456789ABCDEF"
    if n > 8:
        n = 8
    out = []
    for _ in range(n):
        out.append(digits[b & 15])
        b >>= 4
    return (True, "".join(reversed(out)).encode())


def _bit_bswap(*a: Any) -> Result:
    b = _barg(a, 1, "bswap")
    return (True, _signed(int.from_bytes(b.to_bytes(4, "little"), "big")))


BIT: dict[str, Callable[..., Result]] = {
    "tobit": _bit_tobit,
    "bnot": _bit_bnot,
    "band": _bitwise("band", lambda x, y: x & y),
    "bor": _bitwise("bor", lambda x, y: x | y),
    "bxor": _bitwise("bxor", lambda x, y: x ^ y),
    "lshift": _shift("lshift", lambda b, n: b << n),
    "rshift": _shift("rshift", lambda b, n: b >> n),
    "arshift": _shift("arshift", lambda b, n: _signed(b) >> n),
    "rol": _shift("rol", lambda b, n: (b << n) | (b >> (32 - n)) if n else b),
    "ror": _shift("ror", lambda b, n: (b >> n) | (b << (32 - n)) if n else b),
    "bswap": _bit_bswap,
    "tohex": _bit_tohex,
}

# --- struct -----------------------------------------------------------------------------------
_MAXINTSIZE = 32
_MAXALIGN = 8
_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}


class _Fmt:
    __slots__ = ("align", "fmt", "little", "pos")

    def __init__(self, fmt: bytes) -> None:
        self.fmt = fmt
        self.pos = 0
        self.little = True
        self.align = 1

    def getnum(self, default: int) -> int:
        f, p = self.fmt, self.pos
        if p >= len(f) or not (48 <= f[p] <= 57):
            return default
        a = 0
        while p < len(f) and 48 <= f[p] <= 57:
            if a > (2**31 - 1) // 10 or a * 10 > (2**31 - 1) - (f[p] - 48):
                raise ArgError("integral size overflow")
            a = a * 10 + f[p] - 48
            p += 1
        self.pos = p
        return a

    def optsize(self, opt: str) -> int:
        if opt in _SIZES:
            return _SIZES[opt]
        if opt == "c":
            return self.getnum(1)
        if opt in "iI":
            sz = self.getnum(4)
            if sz > _MAXINTSIZE:
                raise ArgError(f"integral size {sz} is larger than limit of {_MAXINTSIZE}")
            return sz
        return 0

    def toalign(self, length: int, opt: str, size: int) -> int:
        if size == 0 or opt == "c":
            return 0
        size = min(size, self.align)
        return (size - (length & (size - 1))) & (size - 1)

    def control(self, opt: str, fname: str) -> None:
        if opt == " ":
            return
        if opt == ">":
            self.little = False
        elif opt == "<":
            self.little = True
        elif opt == "!":
            a = self.getnum(_MAXALIGN)
            if a & (a - 1):
                raise ArgError(f"alignment {a} is not a power of 2")
            self.align = a
        else:
            raise ArgError(f"bad argument #1 to '{fname}' (invalid format option '{opt}')")


def _struct_pack(*a: Any) -> Result:
    fmt = _Fmt(check_string(a, 1, "pack"))
    out = bytearray()
    arg = 2
    while fmt.pos < len(fmt.fmt):
        opt = chr(fmt.fmt[fmt.pos])
        fmt.pos += 1
        size = fmt.optsize(opt)
        pad = fmt.toalign(len(out), opt, size)
        out += b"\0" * pad
        if opt in "bBhHlLTiI":
            n = check_number(a, arg, "pack")
            arg += 1
            v = c_int(n) & ((1 << 64) - 1)
            raw = bytearray()
            for _ in range(size):
                raw.append(v & 0xFF)
                v >>= 8
            out += raw if fmt.little else raw[::-1]
        elif opt == "x":
            out.append(0)
        elif opt == "f":
            n = check_number(a, arg, "pack")
            arg += 1
            try:
                out += _st.pack("<f" if fmt.little else ">f", float(n))
            except OverflowError:
                out += _st.pack("<f" if fmt.little else ">f", math.copysign(math.inf, n))
        elif opt == "d":
            n = check_number(a, arg, "pack")
            arg += 1
            out += _st.pack("<d" if fmt.little else ">d", float(n))
        elif opt in "cs":
            s = check_string(a, arg, "pack")
            arg += 1
            if size == 0:
                size = len(s)
            if len(s) < size:
                raise ArgError(f"bad argument #{arg} to 'pack' (string too short)")
            out += s[:size]
            if opt == "s":
                out.append(0)
        else:
            fmt.control(opt, "pack")
    return (True, bytes(out))


def _struct_unpack(*a: Any) -> Result:
    fmt = _Fmt(check_string(a, 1, "unpack"))
    data = check_string(a, 2, "unpack")
    ld = len(data)
    start = 1
    if len(a) >= 3 and a[2] is not None:
        start = c_int(check_number(a, 3, "unpack"))
    pos = start - 1
    if pos < 0 or pos > ld:
        raise ArgError("bad argument #3 to 'unpack' (offset must be 1 or greater)")
    res: list[Any] = []
    while fmt.pos < len(fmt.fmt):
        opt = chr(fmt.fmt[fmt.pos])
        fmt.pos += 1
        size = fmt.optsize(opt)
        pos += fmt.toalign(pos, opt, size)
        if pos + size > ld:
            raise ArgError("bad argument #2 to 'unpack' (data string too short)")
        if opt in "bBhHlLTiI":
            chunk = data[pos : pos + size]
            v = 0
            for byte in chunk if not fmt.little else reversed(chunk):
                v = ((v << 8) | byte) & ((1 << 64) - 1)
            if opt.islower():
                mask = ((1 << 64) - 1) & (((1 << 64) - 1) << (size * 8 - 1)) if size else 0
                if size * 8 - 1 >= 64:
                    mask = 0
                if v & mask:
                    v |= mask
                if v >= 1 << 63:
                    v -= 1 << 64
            res.append(v)
        elif opt == "x":
            pass
        elif opt == "f":
            res.append(_st.unpack("<f" if fmt.little else ">f", data[pos : pos + 4])[0])
        elif opt == "d":
            res.append(_st.unpack("<d" if fmt.little else ">d", data[pos : pos + 8])[0])
        elif opt == "c":
            if size == 0:
                if not res or to_number(res[-1]) is None:
                    raise ArgError("format 'c0' needs a previous size")
                size = c_int(to_number(res.pop()))  # type: ignore[arg-type]
                if size > ld or pos > ld - size:
                    raise ArgError("bad argument #2 to 'unpack' (data string too short)")
            res.append(data[pos : pos + size])
        elif opt == "s":
            e = data.find(b"\0", pos)
            if e < 0:
                raise ArgError("unfinished string in data")
            size = e - pos + 1
            res.append(data[pos:e])
        else:
            fmt.control(opt, "unpack")
        pos += size
    res.append(pos + 1)
    return (True, *res)


def _struct_size(*a: Any) -> Result:
    fmt = _Fmt(check_string(a, 1, "size"))
    pos = 0
    while fmt.pos < len(fmt.fmt):
        opt = chr(fmt.fmt[fmt.pos])
        fmt.pos += 1
        size = fmt.optsize(opt)
        pos += fmt.toalign(pos, opt, size)
        if opt == "s":
            raise ArgError("bad argument #1 to 'size' (option 's' has no fixed size)")
        if opt == "c" and size == 0:
            raise ArgError("bad argument #1 to 'size' (option 'c0' has no fixed size)")
        if not opt.isalnum():
            fmt.control(opt, "size")
        pos += size
    return (True, pos)


STRUCT: dict[str, Callable[..., Result]] = {
    "pack": _struct_pack,
    "unpack": _struct_unpack,
    "size": _struct_size,
}

# --- cmsgpack ----------------------------------------------------------------------------------
_MAX_NESTING = 16


def _is_table(v: Any) -> bool:
    return lua.lua_type(v) == "table"


def _mp_int(n: int, out: bytearray) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + n.to_bytes(1, "big")
        elif n <= 0xFFFF:
            out += b"\xcd" + n.to_bytes(2, "big")
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + n.to_bytes(4, "big")
        else:
            out += b"\xcf" + n.to_bytes(8, "big")
    elif n >= -32:
        out.append(n & 0xFF)
    elif n >= -128:
        out += b"\xd0" + n.to_bytes(1, "big", signed=True)
    elif n >= -32768:
        out += b"\xd1" + n.to_bytes(2, "big", signed=True)
    elif n >= -2147483648:
        out += b"\xd2" + n.to_bytes(4, "big", signed=True)
    else:
        out += b"\xd3" + n.to_bytes(8, "big", signed=True)


def _mp_number(n: float | int, out: bytearray) -> None:
    if type(n) is int and -(1 << 63) <= n < (1 << 63):
        _mp_int(n, out)  # type: ignore[arg-type]
        return
    d = float(n)
    if not math.isinf(d) and d == d and -(2.0**63) <= d < 2.0**63 and d == int(d):
        _mp_int(int(d), out)
        return
    try:
        f = _st.unpack(">f", _st.pack(">f", d))[0]
    except OverflowError:
        f = None
    if f is not None and (f == d or (math.isinf(d) and math.isinf(f))):
        out += b"\xca" + _st.pack(">f", d)
    else:
        out += b"\xcb" + _st.pack(">d", d)


def _mp_bytes(s: bytes, out: bytearray) -> None:
    n = len(s)
    if n < 32:
        out.append(0xA0 | n)
    elif n <= 0xFF:
        out += b"\xd9" + n.to_bytes(1, "big")
    elif n <= 0xFFFF:
        out += b"\xda" + n.to_bytes(2, "big")
    else:
        out += b"\xdb" + n.to_bytes(4, "big")
    out += s


def _is_array(t: Any) -> bool:
    count = 0
    top = 0
    for k in t:
        if type(k) is bool or type(k) not in (int, float) or k <= 0 or k != int(k):
            return False
        top = max(top, int(k))
        count += 1
    return top == count


def _mp_encode(v: Any, out: bytearray, level: int) -> None:
    t = type(v)
    if t is bytes:
        _mp_bytes(v, out)
    elif t is bool:
        out.append(0xC3 if v else 0xC2)
    elif t is int or t is float:
        _mp_number(v, out)
    elif t is not type(None) and _is_table(v) and level < _MAX_NESTING:
        if _is_array(v):
            n = len(v)
            if n <= 15:
                out.append(0x90 | n)
            elif n <= 0xFFFF:
                out += b"\xdc" + n.to_bytes(2, "big")
            else:
                out += b"\xdd" + n.to_bytes(4, "big")
            for j in range(1, n + 1):
                _mp_encode(v[j], out, level + 1)
        else:
            items = list(v.items())
            n = len(items)
            if n <= 15:
                out.append(0x80 | n)
            elif n <= 0xFFFF:
                out += b"\xde" + n.to_bytes(2, "big")
            else:
                out += b"\xdf" + n.to_bytes(4, "big")
            for k, x in items:
                _mp_encode(k, out, level + 1)
                _mp_encode(x, out, level + 1)
    else:
        out.append(0xC0)


class _Cursor:
    __slots__ = ("data", "err", "p")

    def __init__(self, data: bytes, p: int) -> None:
        self.data = data
        self.p = p
        self.err = ""


class _Eof(Exception):
    pass


class _BadFmt(Exception):
    pass


class MsgpackDecoder:
    """Decodes into Lua values; tables are built through ``make_table``."""

    def __init__(self, make_table: Callable[[Any], Any]) -> None:
        self.make_table = make_table

    def take(self, c: _Cursor, n: int) -> bytes:
        if c.p + n > len(c.data):
            raise _Eof
        b = c.data[c.p : c.p + n]
        c.p += n
        return b

    def value(self, c: _Cursor) -> Any:
        b = self.take(c, 1)[0]
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 256
        if 0xA0 <= b <= 0xBF:
            return self.take(c, b & 0x1F)
        if 0x90 <= b <= 0x9F:
            return self.array(c, b & 0x0F)
        if 0x80 <= b <= 0x8F:
            return self.map(c, b & 0x0F)
        if b == 0xC0:
            return None
        if b == 0xC2:
            return False
        if b == 0xC3:
            return True
        if b in (0xCC, 0xCD, 0xCE, 0xCF):
            n = 1 << (b - 0xCC)
            v = int.from_bytes(self.take(c, n), "big")
            return v if v < (1 << 63) else float(v)
        if b in (0xD0, 0xD1, 0xD2, 0xD3):
            return int.from_bytes(self.take(c, 1 << (b - 0xD0)), "big", signed=True)
        if b == 0xCA:
            return _st.unpack(">f", self.take(c, 4))[0]
        if b == 0xCB:
            return _st.unpack(">d", self.take(c, 8))[0]
        if b in (0xD9, 0xDA, 0xDB):
            n = int.from_bytes(self.take(c, 1 << (b - 0xD9)), "big")
            return self.take(c, n)
        if b in (0xDC, 0xDD):
            return self.array(c, int.from_bytes(self.take(c, 2 if b == 0xDC else 4), "big"))
        if b in (0xDE, 0xDF):
            return self.map(c, int.from_bytes(self.take(c, 2 if b == 0xDE else 4), "big"))
        raise _BadFmt

    def array(self, c: _Cursor, n: int) -> Any:
        items = [self.value(c) for _ in range(n)]
        return self.make_table({i + 1: v for i, v in enumerate(items) if v is not None})

    def map(self, c: _Cursor, n: int) -> Any:
        d: dict[Any, Any] = {}
        for _ in range(n):
            k = self.value(c)
            v = self.value(c)
            if k is not None and v is not None:
                d[k] = v
        return self.make_table(d)

    def unpack_full(self, a: tuple[Any, ...], limit: int, offset: int, fname: str) -> Result:
        s = check_string(a, 1, fname)
        if offset < 0 or limit < 0:
            raise ArgError(
                f"Invalid request to unpack with offset of {offset} and limit of {len(s)}."
            )
        if offset > len(s):
            raise ArgError(f"Start offset {offset} greater than input length {len(s)}.")
        decode_all = not limit and not offset
        if decode_all:
            limit = 1 << 31
        c = _Cursor(s, offset)
        out: list[Any] = []
        try:
            while c.p < len(s) and len(out) < limit:
                out.append(self.value(c))
        except _Eof:
            raise ArgError("Missing bytes in input.") from None
        except _BadFmt:
            raise ArgError("Bad data format in input.") from None
        if not decode_all:
            return (True, -1 if c.p >= len(s) else c.p, *out)
        return (True, *out)


def make_cmsgpack(make_table: Callable[[Any], Any]) -> dict[str, Callable[..., Result]]:
    dec = MsgpackDecoder(make_table)

    def pack(*a: Any) -> Result:
        if not a:
            raise ArgError("bad argument #0 to 'pack' (MessagePack pack needs input.)")
        out = bytearray()
        for v in a:
            _mp_encode(v, out, 0)
        return (True, bytes(out))

    def unpack(*a: Any) -> Result:
        return dec.unpack_full(a, 0, 0, "unpack")

    def unpack_one(*a: Any) -> Result:
        offset = c_int(check_number(a, 2, "unpack_one")) if len(a) >= 2 and a[1] is not None else 0
        return dec.unpack_full(a[:1], 1, offset, "unpack_one")

    def unpack_limit(*a: Any) -> Result:
        limit = c_int(check_number(a, 2, "unpack_limit"))
        offset = (
            c_int(check_number(a, 3, "unpack_limit")) if len(a) >= 3 and a[2] is not None else 0
        )
        return dec.unpack_full(a[:1], limit, offset, "unpack_limit")

    return {"pack": pack, "unpack": unpack, "unpack_one": unpack_one, "unpack_limit": unpack_limit}


def python_libs(make_table: Callable[[Any], Any]) -> dict[str, dict[str, Callable[..., Result]]]:
    """The Python-backed functions, per library, each guarded (errors -> ``(False, msg)``)."""
    libs = {"bit": BIT, "struct": STRUCT, "cmsgpack": make_cmsgpack(make_table)}
    return {lib: {k: guarded(f) for k, f in fns.items()} for lib, fns in libs.items()}


# --- the Lua side: wrappers and cjson ------------------------------------------------------
_WRAPPERS_LUA = r"""
local PY = ...
local type, next, select, tostring, tonumber, error, pcall, setmetatable, newproxy =
      type, next, select, tostring, tonumber, error, pcall, setmetatable, newproxy
local sformat, ssub, sbyte, sfind, sgsub, schar, slower = string.format, string.sub, string.byte, string.find, string.gsub, string.char, string.lower
local rawget, rawset = rawget, rawset
local tconcat = table.concat
local floor = math.floor

local function check(ok, ...)
  if not ok then error((...), 3) end
  return ...
end
local function wrap(f) return function(...) return check(f(...)) end end
local LIBS = {}
for lib, fns in next, PY do
  local t = {}
  for name, f in next, fns do t[name] = wrap(f) end
  LIBS[lib] = t
end
local cm = LIBS.cmsgpack
cm._NAME = "cmsgpack"
cm._VERSION = "lua-cmsgpack 0.4.0"
cm._COPYRIGHT = "Copyright (C) 2012, Salvatore Sanfilippo"
cm._DESCRIPTION = "MessagePack C implementation for Lua"

"""

# cjson (commands/_lua_cjson.py) is the rest of the same Lua chunk.
LIBS_LUA = _WRAPPERS_LUA + CJSON_LUA
