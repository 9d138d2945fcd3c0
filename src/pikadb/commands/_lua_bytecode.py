"""Turn a compiled script's tail calls into plain calls (Lua 5.1 bytecode).

Why: in Redis, ``redis.call``, ``cjson.encode``... are C functions, and a Lua tail call to a
C function keeps the caller's frame, so ``return redis.call('incr', KEYS[1])`` failing is
reported "on @user_script:1". Ours are Lua functions (Python underneath), and a tail call to a
Lua function *replaces* the script's frame: the error would say "=(tail call):-1". So scripts
are compiled, dumped (``string.dump``), every ``OP_TAILCALL A B C`` rewritten as ``OP_CALL A
B C`` (C is always 0, "all results", and the compiler always follows a tail call with
``OP_RETURN A 0``, which returns them), and loaded back. The only observable difference left:
unbounded tail recursion in a script now overflows the stack (LUAI_MAXCALLS, 20000 levels).

Lua 5.1 binary chunk (lundump.c), sizes from its header::

    header: ESC "Lua" 0x51 format endianness sizeof(int) sizeof(size_t) sizeof(Instruction)
            sizeof(lua_Number) integral-flag
    function: source <string> | linedefined <int> | lastlinedefined <int> | nups, numparams,
              is_vararg, maxstacksize <byte x4> | code <int n> n x <Instruction> |
              constants <int n> n x (type <byte>: 0 nil, 1 <byte>, 3 <lua_Number>, 4 <string>)
              | protos <int n> n x <function> | lineinfo <int n> n x <int> |
              locvars <int n> n x (<string> <int> <int>) | upvalues <int n> n x <string>
    <string>: <size_t len> then len bytes (the last one a NUL) when len > 0
"""

from __future__ import annotations

OP_CALL = 28
OP_TAILCALL = 29
_HEADER = 12


class _Chunk:
    def __init__(self, data: bytes) -> None:
        if data[:5] != b"\x1bLua\x51" or len(data) < _HEADER:
            raise ValueError("not a Lua 5.1 binary chunk")
        self.buf = bytearray(data)
        self.order = "little" if data[6] == 1 else "big"
        self.int = data[7]
        self.size_t = data[8]
        self.instr = data[9]
        self.number = data[10]
        self.p = _HEADER

    def _uint(self, size: int) -> int:
        v = int.from_bytes(self.buf[self.p : self.p + size], self.order)  # type: ignore[arg-type]
        self.p += size
        return v

    def _string(self) -> None:
        n = self._uint(self.size_t)
        self.p = self.p + n

    def function(self) -> None:
        self._string()  # source
        self.p += 2 * self.int + 4  # linedefined, lastlinedefined, 4 bytes
        n = self._uint(self.int)
        size = self.instr
        for _ in range(n):
            at = self.p
            word = int.from_bytes(self.buf[at : at + size], self.order)  # type: ignore[arg-type]
            if word & 0x3F == OP_TAILCALL:
                word = (word & ~0x3F) | OP_CALL
                self.buf[at : at + size] = word.to_bytes(size, self.order)  # type: ignore[arg-type]
            self.p += size
        for _ in range(self._uint(self.int)):  # constants
            kind = self.buf[self.p]
            self.p += 1
            if kind == 1:
                self.p += 1
            elif kind == 3:
                self.p += self.number
            elif kind == 4:
                self._string()
            elif kind != 0:
                raise ValueError(f"bad constant type {kind}")
        for _ in range(self._uint(self.int)):  # nested functions
            self.function()
        n = self._uint(self.int)  # lineinfo
        self.p = self.p + n * self.int
        for _ in range(self._uint(self.int)):  # locvars
            self._string()
            self.p += 2 * self.int
        for _ in range(self._uint(self.int)):  # upvalue names
            self._string()


def without_tail_calls(dump: bytes) -> bytes:
    """``dump`` (a ``string.dump`` of a Lua 5.1 function) with OP_TAILCALL -> OP_CALL."""
    chunk = _Chunk(dump)
    chunk.function()
    if chunk.p != len(chunk.buf):
        raise ValueError("trailing bytes in binary chunk")
    return bytes(chunk.buf)
