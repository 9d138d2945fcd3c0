"""Differential harness: send the same command to pikadb and to a real redis-server, compare.

Replies are read by redis-py connections with a *typed* RESP parser (:class:`TypedParser`), so
the comparison sees what the wire says, not what redis-py's callbacks make of it:

============  =====================  ==========================================
wire          Python value           note
============  =====================  ==========================================
``+text``     :class:`Status`        bytes subclass (so ``+OK`` != ``$2 OK``)
``-text``     :class:`Err`           str subclass, FULL text incl. ``ERR`` prefix
``$n``        ``bytes``
``$-1``       :data:`NULL_BULK`      RESP2 null bulk
``*-1``       :data:`NULL_ARRAY`     RESP2 null array
``_``         :data:`NULL`           RESP3 null
``:n``        ``int``
``,x``        :class:`Double`        raw text kept (compared exactly)
``(n``        :class:`BigNum`
``#t``        ``bool``
``=n``        :class:`Verbatim`
``*n``        ``list``
``~n``        :class:`RSet`          list subclass
``%n``        :class:`RMap`          list of (key, value) pairs, wire order
``>n``        :class:`Push`          list subclass
============  =====================  ==========================================

A lost connection becomes a :class:`Closed` value (and the side reconnects, re-sending HELLO
and SELECT), so an unimplemented or crashing command is a discrepancy, never a harness crash.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis
from redis._parsers.resp3 import _RESP3Parser
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

# --------------------------------------------------------------------------------------------
# Typed reply values


class Status(bytes):
    def __repr__(self) -> str:
        return f"+{bytes(self)!r}"


class Err(str):
    def __repr__(self) -> str:
        return f"-{str(self)!r}"


class Double(bytes):
    """A RESP3 double; the raw text is compared exactly."""

    def __repr__(self) -> str:
        return f",{bytes(self).decode()}"


class BigNum(bytes):
    def __repr__(self) -> str:
        return f"({bytes(self).decode()}"


class Verbatim(bytes):
    def __repr__(self) -> str:
        return f"={bytes(self)!r}"


class RSet(list):  # type: ignore[type-arg]
    def __repr__(self) -> str:
        return f"~{list.__repr__(self)}"


class RMap(list):  # type: ignore[type-arg]
    """Map reply as a list of (key, value) pairs, in wire order."""

    def get(self, key: Any, default: Any = None) -> Any:
        for k, v in self:
            if k == key:
                return v
        return default

    def __repr__(self) -> str:
        return "%{" + ", ".join(f"{k!r}: {v!r}" for k, v in self) + "}"


class Push(list):  # type: ignore[type-arg]
    def __repr__(self) -> str:
        return f">{list.__repr__(self)}"


class _Null:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NULL_BULK = _Null("$-1")
NULL_ARRAY = _Null("*-1")
NULL = _Null("_")
NULLS = (NULL_BULK, NULL_ARRAY, NULL)


class Closed(str):
    """The connection dropped (or timed out) instead of replying."""

    def __repr__(self) -> str:
        return f"<connection lost: {self!s}>"


class TypedParser(_RESP3Parser):
    """Parses RESP2 and RESP3 into the typed values above (errors are returned, not raised)."""

    def _read_response(
        self, disable_decoding: bool = False, push_request: bool = False, timeout: Any = None
    ) -> Any:  # type: ignore[override]
        buf = self._buffer
        raw = buf.readline() if timeout is None else buf.readline(timeout=timeout)
        if not raw:
            raise RedisConnectionError("server closed the connection")
        kind, rest = raw[:1], raw[1:]
        if kind == b"+":
            return Status(rest)
        if kind == b"-":
            return Err(rest.decode("utf-8", "surrogateescape"))
        if kind == b"!":
            return Err(buf.read(int(rest)).decode("utf-8", "surrogateescape"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return NULL_BULK if n < 0 else bytes(buf.read(n))
        if kind == b"*":
            n = int(rest)
            return NULL_ARRAY if n < 0 else [self._read_response() for _ in range(n)]
        if kind == b"_":
            return NULL
        if kind == b",":
            return Double(rest)
        if kind == b"(":
            return BigNum(rest)
        if kind == b"#":
            return rest == b"t"
        if kind == b"=":
            return Verbatim(buf.read(int(rest)))
        if kind == b"~":
            return RSet(self._read_response() for _ in range(int(rest)))
        if kind == b"%":
            return RMap((self._read_response(), self._read_response()) for _ in range(int(rest)))
        if kind == b">":
            return Push(self._read_response() for _ in range(int(rest)))
        if kind == b"|":  # attribute: read and ignore, the reply follows
            for _ in range(int(rest)):
                self._read_response()
                self._read_response()
            return self._read_response()
        raise RedisConnectionError(f"protocol error: unexpected reply line {raw!r}")


# --------------------------------------------------------------------------------------------
# One side (a connection to one server)


def _b(a: Any) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, int | str) and not isinstance(a, bool):
        return str(a).encode()
    raise TypeError(f"command arguments are bytes, str or int, not {type(a).__name__}: {a!r}")


class Side:
    """One connection to one server, tracking the selected DB and protocol for reconnects."""

    def __init__(self, name: str, port: int, resp: int = 2, timeout: float = 20.0) -> None:
        self.name = name
        self.port = port
        self.resp = resp
        self.timeout = timeout
        self.db = 0
        self.conn: redis.Connection | None = None

    def _connect(self) -> redis.Connection:
        conn = redis.Connection(
            host="127.0.0.1",
            port=self.port,
            parser_class=TypedParser,
            socket_timeout=self.timeout,
            driver_info=None,
            retry=None,
            protocol=2,  # HELLO 3 is sent below, by us
        )
        conn.connect()
        self.conn = conn
        if self.resp == 3:
            self._raw(conn, (b"HELLO", b"3"))
        if self.db:
            self._raw(conn, (b"SELECT", b"%d" % self.db))
        return conn

    @staticmethod
    def _raw(conn: redis.Connection, args: Sequence[bytes]) -> Any:
        conn.send_command(*args, check_health=False)
        return conn.read_response()

    def call(self, *args: Any) -> Any:
        argv = [_b(a) for a in args]
        try:
            conn = self.conn or self._connect()
            reply = self._raw(conn, argv)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            self.close()
            return Closed(f"{type(exc).__name__}: {exc}")
        if argv and argv[0].upper() == b"SELECT" and reply == b"OK" and len(argv) == 2:
            try:
                self.db = int(argv[1])
            except ValueError:  # the server accepted an index redis would not: keep going
                pass
        elif argv and argv[0].upper() == b"HELLO" and len(argv) > 1 and not isinstance(reply, Err):
            self.resp = 3 if argv[1] == b"3" else 2
        return reply

    def pipeline(self, cmds: Sequence[Sequence[Any]]) -> list[Any]:
        """Send all, then read all replies (no SELECT/HELLO tracking: read-only checks)."""
        if not cmds:
            return []
        try:
            conn = self.conn or self._connect()
            conn.send_packed_command(
                conn.pack_commands([[_b(a) for a in c] for c in cmds]), check_health=False
            )
            return [conn.read_response() for _ in cmds]
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            self.close()
            return [Closed(f"{type(exc).__name__}: {exc}")] * len(cmds)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.disconnect()
            except Exception:
                pass
            self.conn = None


# --------------------------------------------------------------------------------------------
# Comparators


def same(a: Any, b: Any) -> bool:
    """Exact structural equality, RESP types included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        if isinstance(a, RMap):
            return len(a) == len(b) and all(
                same(x[0], y[0]) and same(x[1], y[1]) for x, y in zip(a, b, strict=True)
            )
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a is b if isinstance(a, _Null) else a == b


def _sort_key(v: Any) -> tuple[str, str]:
    return (type(v).__name__, repr(v))


def unordered(a: Any, b: Any) -> bool:
    """Arrays compared as multisets (KEYS, SMEMBERS-like); anything else exactly."""
    if (
        isinstance(a, list)
        and isinstance(b, list)
        and type(a) is type(b)
        and not isinstance(a, RMap)
    ):
        return len(a) == len(b) and all(
            same(x, y)
            for x, y in zip(sorted(a, key=_sort_key), sorted(b, key=_sort_key), strict=True)
        )
    return same(a, b)


def unordered_pairs(a: Any, b: Any) -> bool:
    """HGETALL-like replies: a RESP3 map or a flat RESP2 array of pairs, in any pair order."""
    if type(a) is not type(b) or not isinstance(a, list):
        return same(a, b)
    if isinstance(a, RMap):
        pa, pb = list(a), list(b)
    elif len(a) % 2 or len(b) % 2:
        return same(a, b)
    else:
        pa, pb = list(zip(a[::2], a[1::2], strict=True)), list(zip(b[::2], b[1::2], strict=True))
    if len(pa) != len(pb):
        return False
    key = lambda p: (_sort_key(p[0]), _sort_key(p[1]))  # noqa: E731
    return all(
        same(x[0], y[0]) and same(x[1], y[1])
        for x, y in zip(sorted(pa, key=key), sorted(pb, key=key), strict=True)
    )


def tolerant(delta: int) -> Callable[[Any, Any], bool]:
    """Integers within ``delta`` (negative sentinels -1/-2 exactly); anything else exactly."""

    def cmp(a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int and a >= 0 and b >= 0:
            return abs(a - b) <= delta
        return same(a, b)

    return cmp


def is_error(v: Any) -> bool:
    return isinstance(v, Err | Closed)


def scan_shape(a: Any, b: Any) -> bool:
    """One SCAN call: errors exactly; otherwise only the shape (cursors are implementation's)."""
    if is_error(a) or is_error(b):
        return same(a, b)

    def ok(v: Any) -> bool:
        return (
            type(v) is list
            and len(v) == 2
            and type(v[0]) is bytes
            and v[0].isdigit()
            and type(v[1]) is list
            and all(type(k) is bytes for k in v[1])
        )

    return ok(a) and ok(b)


TTL_TOLERANCE_S = 2
PTTL_TOLERANCE_MS = 2000

#: redis TYPE -> (command, args after the key, comparator): reads a collection's whole content
CONTENT_READS: dict[bytes, tuple[str, tuple[Any, ...], Callable[[Any, Any], bool]]] = {
    b"list": ("LRANGE", (0, -1), same),
    b"set": ("SMEMBERS", (), unordered),
    b"hash": ("HGETALL", (), unordered_pairs),
    b"zset": ("ZRANGE", (0, -1, "WITHSCORES"), same),
    b"stream": ("XRANGE", ("-", "+"), same),
}

#: command name (lower) -> comparator; anything else is compared exactly.
COMPARATORS: dict[bytes, Callable[[Any, Any], bool]] = {
    b"ttl": tolerant(TTL_TOLERANCE_S),
    b"pttl": tolerant(PTTL_TOLERANCE_MS),
    b"expiretime": tolerant(TTL_TOLERANCE_S),
    b"pexpiretime": tolerant(PTTL_TOLERANCE_MS),
    b"keys": unordered,
    b"scan": scan_shape,
}


# --------------------------------------------------------------------------------------------
# The pair


@dataclass
class Diff:
    args: tuple[Any, ...]
    pika: Any
    redis: Any
    note: str = ""

    def __str__(self) -> str:
        shown = " ".join(repr(a) if isinstance(a, bytes) else str(a) for a in self.args)
        extra = f"  [{self.note}]" if self.note else ""
        return f"{shown}\n    pikadb: {self.pika!r}\n    redis : {self.redis!r}{extra}"


@dataclass
class Pair:
    """pikadb (``p``) and real redis (``q``) side by side; every discrepancy lands in ``diffs``."""

    pika_port: int
    redis_port: int
    resp: int = 2
    dbs: tuple[int, ...] = (0, 1, 2)
    diffs: list[Diff] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.p = Side("pikadb", self.pika_port, self.resp)
        self.q = Side("redis", self.redis_port, self.resp)

    @classmethod
    def from_clients(cls, r: redis.Redis, rr: redis.Redis, resp: int = 2) -> Pair:
        pp = r.connection_pool.connection_kwargs["port"]
        qp = rr.connection_pool.connection_kwargs["port"]
        return cls(pp, qp, resp)

    def close(self) -> None:
        self.p.close()
        self.q.close()

    def __enter__(self) -> Pair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- setup ---------------------------------------------------------------------------
    def reset(self) -> None:
        """FLUSHALL both, back to DB 0, forget history and diffs."""
        for side in (self.p, self.q):
            side.call("SELECT", 0)
            r = side.call("FLUSHALL")
            if r != b"OK":
                raise RuntimeError(f"{side.name}: FLUSHALL -> {r!r}")
        self.diffs.clear()
        self.history.clear()

    def clear(self) -> None:
        """Like :meth:`reset`, for sequences that only touch ``dbs``: DEL every key there.

        Thousands of FLUSHALLs slow pikadb down (range tombstones pile up in RocksDB), and
        the session server is shared with every other test, so examples clear with DEL
        (pipelined). Falls back to FLUSHALL when anything is left.
        """
        clean = True
        for side in (self.p, self.q):
            # SCAN first: redis reclaims keys whose expire time has passed (see sweep)
            found = side.pipeline(
                [
                    c
                    for db in self.dbs
                    for c in (("SELECT", db), ("SCAN", 0, "COUNT", 10_000), ("KEYS", "*"))
                ]
            )
            dels: list[tuple[Any, ...]] = []
            for n, db in enumerate(self.dbs):
                keys = found[3 * n + 2]
                dels += [
                    ("SELECT", db),
                    *([("DEL", *keys)] if isinstance(keys, list) and keys else []),
                    ("DBSIZE",),
                ]
            left = side.pipeline([*dels, ("SELECT", 0)])
            clean = clean and all(
                r == 0 for c, r in zip(dels, left, strict=False) if c[0] == "DBSIZE"
            )
            side.db = 0
        if not clean:
            self.reset()
            return
        self.diffs.clear()
        self.history.clear()

    def both(self, *args: Any) -> tuple[Any, Any]:
        """Send to both, no comparison."""
        return self.p.call(*args), self.q.call(*args)

    # -- the comparison ------------------------------------------------------------------
    def run(self, *args: Any, cmp: Callable[[Any, Any], bool] | None = None) -> Diff | None:
        """Send ``args`` to both and compare (the comparator is picked by command name)."""
        name = _b(args[0]).lower() if args else b""
        if name == b"scan*":
            return self.scan_all(*args[1:])
        if name == b"randomkey":
            return self.randomkey()
        if name == b"dump":
            return self.dump(*args)
        self.history.append(args)
        if name == b"dbsize":
            self.sweep()
        a, b = self.p.call(*args), self.q.call(*args)
        ok = (cmp or COMPARATORS.get(name, same))(a, b)
        if not ok and name in (b"expire", b"pexpire") and {a, b} == {0, 1} and len(args) > 3:
            ok = self._relative_gt_lt_race(args)
        return None if ok else self._diff(args, a, b)

    def _relative_gt_lt_race(self, args: tuple[Any, ...]) -> bool:
        """EXPIRE k 100 GT on a key whose TTL is also 100 s: 1 or 0 depends on whether a
        millisecond passed since. Accept either when both TTLs end up within tolerance."""
        if not {_b(a).upper() for a in args[3:]} & {b"GT", b"LT"}:
            return False
        a, b = self.p.call("PTTL", args[1]), self.q.call("PTTL", args[1])
        return tolerant(PTTL_TOLERANCE_MS)(a, b) and type(a) is int and a > 0

    def _diff(self, args: tuple[Any, ...], a: Any, b: Any, note: str = "") -> Diff:
        d = Diff(args, a, b, note)
        self.diffs.append(d)
        return d

    def run_all(self, cmds: Iterable[Sequence[Any]], stop_at_first: bool = False) -> list[Diff]:
        start = len(self.diffs)
        for cmd in cmds:
            if self.run(*cmd) is not None and stop_at_first:
                break
        return self.diffs[start:]

    def sweep(self) -> None:
        """Full SCAN of the current DB on both sides, replies unused.

        Redis 7.0 stores a key SET with an EXAT/PXAT in the past and counts it in DBSIZE (and
        DEBUG DIGEST) until it is reclaimed; SCAN reclaims it. pikadb never shows such a key.
        Sweeping before DBSIZE/DIGEST keeps that timing artifact out of the comparison.
        """
        for side in (self.p, self.q):
            self._sweep_side(side)

    @staticmethod
    def _sweep_side(side: Side) -> None:
        cursor: Any = b"0"
        for _ in range(10_000):
            reply = side.call("SCAN", cursor, "COUNT", 1000)
            if not (isinstance(reply, list) and len(reply) == 2) or reply[0] == b"0":
                break
            cursor = reply[0]

    def scan_all(self, *opts: Any) -> Diff | None:
        """Full SCAN iteration on both; keys compared as sets (SCAN may repeat a key)."""
        args = ("SCAN*", *opts)
        self.history.append(args)
        got: list[Any] = []
        for side in (self.p, self.q):
            cursor: Any = b"0"
            keys: set[bytes] = set()
            for _ in range(10_000):
                reply = side.call("SCAN", cursor, *opts)
                if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list)):
                    got.append(reply)
                    break
                cursor = reply[0]
                keys.update(reply[1])
                if cursor == b"0":
                    got.append(sorted(keys))
                    break
            else:
                got.append(Err("harness: SCAN did not finish in 10000 calls"))
        a, b = got
        return None if same(a, b) else self._diff(args, a, b, "full SCAN iteration")

    def randomkey(self) -> Diff | None:
        """RANDOMKEY: both null, or each reply is a key of its own server."""
        args = ("RANDOMKEY",)
        self.history.append(args)
        a, b = self.p.call("RANDOMKEY"), self.q.call("RANDOMKEY")
        if same(a, b) and (a in NULLS or is_error(a)):
            return None
        if isinstance(a, bytes) and isinstance(b, bytes) and type(a) is type(b):
            ka, kb = self.p.call("EXISTS", a), self.q.call("EXISTS", b)
            if ka == 1 and kb == 1:
                return None
            return self._diff(args, a, b, f"not a key of its server (EXISTS {ka!r} / {kb!r})")
        return self._diff(args, a, b)

    def dump(self, *args: Any) -> Diff | None:
        """DUMP: exact, or else pikadb's payload must RESTORE on real redis to the same value."""
        self.history.append(args)
        a, b = self.p.call(*args), self.q.call(*args)
        if same(a, b):
            return None
        if type(a) is bytes and type(b) is bytes:
            tmp = b"__differential_dump_check__"
            restored = self.q.call("RESTORE", tmp, 0, a, "REPLACE")
            value = self.q.call("DUMP", tmp) if restored == b"OK" else restored
            self.q.call("DEL", tmp)
            if restored == b"OK" and value == b:
                return None
            return self._diff(
                args, a, b, f"payload not restorable to the same value on redis: {restored!r}"
            )
        return self._diff(args, a, b)

    # -- end-of-sequence logical state ----------------------------------------------------
    def check_state(self, digest: bool = True) -> list[Diff]:
        """Compare every DB in ``dbs``: DBSIZE, KEYS, and per key TYPE, value, PTTL."""
        start = len(self.diffs)
        back_p, back_q = self.p.db, self.q.db
        for db in self.dbs:
            for side in (self.p, self.q):
                side.call("SELECT", db)
            ctx = f"state of db {db}"
            self.sweep()
            (a, ka), (b, kb) = (
                self.p.pipeline([("DBSIZE",), ("KEYS", "*")]),
                self.q.pipeline([("DBSIZE",), ("KEYS", "*")]),
            )
            if not same(a, b):
                self._diff(("DBSIZE",), a, b, ctx)
            if not unordered(ka, kb):
                self._diff(("KEYS", "*"), ka, kb, ctx)
            keys = sorted(
                set(kb if isinstance(kb, list) else []) | set(ka if isinstance(ka, list) else [])
            )
            checks: list[tuple[Any, ...]] = [
                (cmd, key) for key in keys for cmd in ("TYPE", "GET", "PTTL")
            ]
            ra, rb = self.p.pipeline(checks), self.q.pipeline(checks)
            for (cmd, key), a, b in zip(checks, ra, rb, strict=True):
                cmp = tolerant(PTTL_TOLERANCE_MS) if cmd == "PTTL" else same
                if not cmp(a, b):
                    self._diff((cmd, key), a, b, ctx)
            # collection contents, read the way redis's TYPE says the key is read
            reads = [
                (key, *CONTENT_READS[bytes(t)])
                for (cmd, key), t in zip(checks, rb, strict=True)
                if cmd == "TYPE" and isinstance(t, bytes) and bytes(t) in CONTENT_READS
            ]
            cmds = [(name, key, *extra) for key, name, extra, _ in reads]
            ra, rb = self.p.pipeline(cmds), self.q.pipeline(cmds)
            for c, (_, _, _, cmp), a, b in zip(cmds, reads, ra, rb, strict=True):
                if not cmp(a, b):
                    self._diff(c, a, b, ctx)
        if digest:
            a = self.p.call("DEBUG", "DIGEST")
            if not is_error(a):  # compared once pikadb has DEBUG DIGEST
                b = self.q.call("DEBUG", "DIGEST")
                if not same(a, b):
                    self._diff(("DEBUG", "DIGEST"), a, b, "whole dataset digest")
        self.p.call("SELECT", back_p)
        self.q.call("SELECT", back_q)
        return self.diffs[start:]

    # -- reporting -------------------------------------------------------------------------
    def report(self, diffs: Sequence[Diff] | None = None) -> str:
        diffs = self.diffs if diffs is None else diffs
        lines = [f"{len(diffs)} discrepancy(ies) pikadb vs redis (RESP{self.resp}):"]
        lines += [f"  {d}" for d in diffs]
        if self.history:
            lines.append("command sequence:")
            lines += [
                "  " + " ".join(repr(a) if isinstance(a, bytes) else str(a) for a in h)
                for h in self.history
            ]
        return "\n".join(lines)

    def assert_clean(self) -> None:
        if self.diffs:
            raise AssertionError(self.report())


def fmt_float(x: float) -> bytes:
    """A float argument as Redis clients send it (repr, 'inf'/'-inf')."""
    if math.isinf(x):
        return b"inf" if x > 0 else b"-inf"
    return repr(x).encode()


def diff_settings(examples: int) -> Any:
    """The hypothesis settings every differential sequence test uses, with ``scaled`` counts."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=scaled(examples),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


def scaled(examples: int) -> int:
    """Hypothesis examples per differential test, divided by PIKADB_DIFF_DIVISOR (default 3)
    so `make test` stays within its time budget on 2 cores; set 1 for a full run."""
    divisor = max(1, int(os.environ.get("PIKADB_DIFF_DIVISOR", "3")))
    return max(10, examples // divisor)


# --------------------------------------------------------------------------------------------
# Survey mode: ``python -m tests.differential.test_<module> [examples]``

DEBUG_COMMAND = ("--set", "enable-debug-command=yes")


def by_command(d: Diff) -> str:
    """The default survey signature: command name and the discrepancy's note."""
    head = _b(d.args[0]).decode("utf-8", "replace").upper() if d.args else "?"
    return f"{head} {d.note}".rstrip()


def survey(
    strategy: SearchStrategy[Any] | Mapping[str, SearchStrategy[Any]],
    run_sequence: Callable[..., list[Diff]],
    examples: int = 300,
    *,
    pika_args: Sequence[str] = DEBUG_COMMAND,
    resps: Sequence[int] = (2, 3),
    dbs: tuple[int, ...] = (0, 1, 2),
    signature: Callable[[Diff], str] = by_command,
    stop_at_first: bool = False,
    show: int = 3,
    show_sequence: bool = False,
) -> dict[str, list[tuple[Diff, str]]]:
    """Run random sequences on a fresh pikadb and redis-server, print every discrepancy grouped.

    ``strategy`` draws command sequences; a mapping of named strategies runs each group in
    turn. Per protocol in ``resps``, ``examples`` sequences (per group) go through
    ``run_sequence(pair, seq, stop_at_first=...)`` on one :class:`Pair` over ``dbs``, without
    stopping or shrinking. Discrepancies are grouped by ``RESP<n> <signature(diff)>``; each
    group prints its ``show`` shortest, plus the shortest command sequence with
    ``show_sequence``. Returns signature -> [(discrepancy, its sequence or "")].
    """
    from hypothesis import HealthCheck, Phase, given, settings

    from tests.support.servers import PikaServer, RedisServer

    groups = strategy if isinstance(strategy, Mapping) else {"": strategy}
    found: dict[str, list[tuple[Diff, str]]] = {}

    def runner(pair: Pair, sequences: SearchStrategy[Any]) -> Callable[[], None]:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(seq=sequences)
        def one(seq: Any) -> None:
            diffs = run_sequence(pair, seq, stop_at_first=stop_at_first)
            text = pair.report([]) if diffs and show_sequence else ""
            for d in diffs:
                found.setdefault(f"RESP{pair.resp} {signature(d)}", []).append((d, text))

        return one

    pika = PikaServer(args=list(pika_args)).start()
    try:
        real = RedisServer().start()
        try:
            for resp in resps:
                with Pair(pika.port, real.port, resp=resp, dbs=dbs) as pair:
                    pair.reset()
                    for gname, sequences in groups.items():
                        runner(pair, sequences)()
                        if gname:
                            print(f"RESP{resp} {gname}: {len(found)} signatures", file=sys.stderr)
        finally:
            real.cleanup()
    finally:
        pika.cleanup()

    for sig, items in sorted(found.items()):
        items.sort(key=lambda it: (len(it[1]), len(str(it[0]))))
        print(f"== {sig} (x{len(items)})")
        for d, _ in items[:show]:
            print("   " + str(d).replace("\n", "\n   "))
        if show_sequence:
            print("   shortest sequence: " + items[0][1].replace("\n", "\n   "))
    total = sum(len(v) for v in found.values())
    protocols = ", ".join(f"RESP{r}" for r in resps)
    print(
        f"{total} discrepancies in {len(found)} signature(s); {examples} sequences"
        f" per group and protocol ({protocols})"
    )
    return found
