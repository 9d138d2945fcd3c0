"""A RESP fuzzer: random and mutated request frames through real sockets to a real pikadb.

Frames (seeded, reproducible per worker): well-formed multibulk and inline requests built from
a vocabulary of commands with random args, and hostile ones — random bytes, truncated frames,
byte flips / inserts / deletes / duplicated chunks, huge and malformed lengths, nested arrays
and RESP3 types in a request, unbalanced quotes, NULs, lone CR/LF, overlong lines, counts that
announce more args than ever come.

Each worker process runs *rounds* on its own connection, one at a time (so the parallelism is
the number of workers), and checks that every round ends within ``--deadline`` seconds:

* a **clean** round sends well-formed frames then ``PING <token>`` and must see the token in
  the replies (or the connection closed: a frame may pass a limit);
* a **dirty** round sends any frames, then half-closes (SHUT_WR) and must see the server
  close the connection (it may reply first). The next round opens a new connection.

Frames whose bytes mention commands that would end the experiment (FLUSHALL, SHUTDOWN,
CONFIG, CLIENT PAUSE, REPLICAOF, blocking pops, scripts...) or the sentinel keys are dropped
before sending. The driver (:func:`run`) watches the server meanwhile: still running, its RSS
(VmRSS) sampled, PING answered afterwards, and the sentinel data written before intact.

    python -m tests.fuzz.resp_fuzz --frames 1000000 --workers 4     # starts its own pikadb
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

KEYS = 500
SENTINEL = b"sentinel"
# Substrings (lower case) of frames that are not sent: they would stop the server, change its
# configuration, block a connection on purpose, or touch the sentinel data.
BANNED = (
    b"flush",
    b"shutdown",
    b"config",
    b"client",
    b"debug",
    b"replicaof",
    b"slaveof",
    b"sync",
    b"monitor",
    b"save",
    b"swapdb",
    b"failover",
    b"acl",
    b"eval",
    b"fcall",
    b"function",
    b"script",
    b"wait",
    b"block",
    b"blpop",
    b"brpop",
    b"blmove",
    b"blmpop",
    b"bzpop",
    b"bzmpop",
    b"brpoplpush",
    b"compact",
    b"kill",
    b"restore",
    b"migrate",
    b"module",
    b"sentinel",
    b"delbackup",
    b"diskrecovery",
    b"cache",
    b"purgelogs",
)

# Commands of the clean rounds: (name, arg kinds). Kinds: k key, v value, i small int,
# f float, m member, c channel, n a number of (field, value) pairs...
VOCAB: list[tuple[str, str]] = [
    ("PING", ""),
    ("ECHO", "v"),
    ("GET", "k"),
    ("SET", "kv"),
    ("SET", "kvEi"),
    ("GETSET", "kv"),
    ("MGET", "kkk"),
    ("MSET", "kvkv"),
    ("INCR", "k"),
    ("INCRBY", "ki"),
    ("INCRBYFLOAT", "kf"),
    ("DECR", "k"),
    ("STRLEN", "k"),
    ("GETRANGE", "kii"),
    ("EXISTS", "kk"),
    ("TYPE", "k"),
    ("TTL", "k"),
    ("PEXPIRE", "ki"),
    ("PERSIST", "k"),
    ("DEL", "k"),
    ("HSET", "kmvmv"),
    ("HGET", "km"),
    ("HGETALL", "k"),
    ("HDEL", "km"),
    ("HINCRBY", "kmi"),
    ("LPUSH", "kvv"),
    ("RPUSH", "kv"),
    ("LPOP", "k"),
    ("LRANGE", "kii"),
    ("LLEN", "k"),
    ("LINDEX", "ki"),
    ("SADD", "kmm"),
    ("SREM", "km"),
    ("SMEMBERS", "k"),
    ("SISMEMBER", "km"),
    ("SPOP", "k"),
    ("ZADD", "kfm"),
    ("ZRANGE", "kii"),
    ("ZSCORE", "km"),
    ("ZINCRBY", "kfm"),
    ("ZREM", "km"),
    ("PFADD", "kmm"),
    ("PFCOUNT", "k"),
    ("XADD", "k*mv"),
    ("XLEN", "k"),
    ("XRANGE", "k-+"),
    ("GEOADD", "kGm"),
    ("SETBIT", "kib"),
    ("BITCOUNT", "k"),
    ("SCAN", "0"),
    ("DBSIZE", ""),
    ("SELECT", "d"),
    ("TIME", ""),
    ("COMMAND", "C"),
    ("OBJECT", "Ek"),
    ("HELLO", "p"),
    ("SUBSCRIBE", "c"),
    ("UNSUBSCRIBE", ""),
    ("PUBLISH", "cv"),
    ("INFO", "S"),
    ("MULTI", ""),
    ("EXEC", ""),
    ("DISCARD", ""),
    ("WATCH", "k"),
    ("UNWATCH", ""),
    ("NOSUCHCOMMAND", "v"),
    ("get", "kk"),  # wrong arity
    ("set", ""),
]

_HOSTILE_LENGTHS = [
    b"-1",
    b"-2",
    b"0",
    b"+5",
    b"05",
    b" 5",
    b"5 ",
    b"",
    b"x",
    b"1.5",
    b"2147483647",
    b"2147483648",
    b"4294967296",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"99999999999999999999999",
    b"536870912",
    b"536870913",
    b"16385",
    b"100000",
    b"1000000",
]


def _word(rnd: random.Random) -> bytes:
    r = rnd.random()
    if r < 0.5:
        return b"%d" % rnd.randint(-5, 300)
    if r < 0.8:
        return bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(0, 12)))
    if r < 0.95:
        return rnd.randbytes(rnd.randint(0, 40))
    return rnd.randbytes(rnd.randint(100, 20000))


def _arg(kind: str, rnd: random.Random) -> list[bytes]:
    if kind == "k":
        return [b"fz:%d" % rnd.randrange(KEYS)]
    if kind in "vm":
        return [_word(rnd) if kind == "v" else b"m%d" % rnd.randrange(50)]
    if kind == "i":
        return [b"%d" % rnd.choice([0, 1, -1, 2, 10, 100, rnd.randint(-1000, 1000)])]
    if kind == "f":
        return [rnd.choice([b"1.5", b"-0.25", b"inf", b"-inf", b"1e3", b"nan", b"x"])]
    if kind == "b":
        return [rnd.choice([b"0", b"1", b"2"])]
    if kind == "E":
        return [rnd.choice([b"EX", b"PX", b"NX", b"XX", b"KEEPTTL", b"ENCODING", b"BOGUS"])]
    if kind == "G":
        return [rnd.choice([b"13.361389", b"200", b"-180"]), rnd.choice([b"38.115556", b"95"])]
    if kind == "c":
        return [b"ch%d" % rnd.randrange(5)]
    if kind == "d":
        return [b"%d" % rnd.randrange(-1, 17)]
    if kind == "p":
        return [rnd.choice([b"2", b"3", b"4", b"x"])]
    if kind == "C":
        return [rnd.choice([b"COUNT", b"INFO", b"DOCS", b"GETKEYS"])]
    if kind == "S":
        return [rnd.choice([b"server", b"clients", b"keyspace", b"bogus"])]
    return [kind.encode()]


def command(rnd: random.Random) -> list[bytes]:
    name, kinds = rnd.choice(VOCAB)
    args = [name.encode()]
    for k in kinds:
        args += _arg(k, rnd)
    if rnd.random() < 0.05:  # an extra arg or a missing one
        args = [*args, _word(rnd)] if rnd.random() < 0.5 else args[: max(1, len(args) - 1)]
    return args


def multibulk(args: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def inline(args: list[bytes], rnd: random.Random) -> bytes | None:
    """An inline request for args that can be written inline (quoted when needed)."""
    parts = []
    for a in args:
        if a and all(33 <= c <= 126 and c not in b"\"'\\" for c in a):
            parts.append(a)
        elif len(a) < 200:
            parts.append(b'"' + b"".join(b"\\x%02x" % c for c in a) + b'"')
        else:
            return None
    return b" ".join(parts) + rnd.choice([b"\r\n", b"\n"])


def clean_frame(rnd: random.Random) -> bytes:
    args = command(rnd)
    if rnd.random() < 0.2:
        line = inline(args, rnd)
        if line is not None:
            return line
    return multibulk(args)


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.random()
        pos = rnd.randrange(len(b) + 1)
        if op < 0.3 and b:
            b[min(pos, len(b) - 1)] = rnd.randrange(256)
        elif op < 0.5:
            b[pos:pos] = rnd.choice([b"\r", b"\n", b"\r\n", b"*", b"$", b"-", b"0", b"9", b"\x00"])
        elif op < 0.7 and b:
            del b[pos : pos + rnd.randint(1, 8)]
        elif op < 0.85 and b:
            end = min(len(b), pos + rnd.randint(1, 32))
            b[pos:pos] = b[pos:end] * rnd.randint(1, 4)
        else:
            b[pos:pos] = rnd.randbytes(rnd.randint(1, 16))
    return bytes(b)


def dirty_frame(rnd: random.Random) -> bytes:
    r = rnd.random()
    if r < 0.25:
        return _mutate(clean_frame(rnd), rnd)
    if r < 0.35:
        data = clean_frame(rnd)
        return data[: rnd.randrange(len(data))]  # truncated
    if r < 0.45:
        return rnd.randbytes(rnd.randint(0, 300))
    if r < 0.60:  # hostile lengths
        n = rnd.choice(_HOSTILE_LENGTHS)
        if rnd.random() < 0.5:
            return b"*" + n + b"\r\n" + multibulk([b"GET", b"fz:1"])[4:]
        return b"*2\r\n$3\r\nGET\r\n$" + n + b"\r\n" + rnd.randbytes(rnd.randint(0, 50))
    if r < 0.70:  # other RESP types and nesting inside a request
        inner = rnd.choice(
            [
                b"*1\r\n$4\r\nPING\r\n",
                b":1\r\n",
                b"+OK\r\n",
                b"-ERR x\r\n",
                b"$-1\r\n",
                b"*-1\r\n",
                b"_\r\n",
                b"%1\r\n+a\r\n+b\r\n",
                b"~1\r\n:1\r\n",
                b",1.5\r\n",
                b"#t\r\n",
                b"(123\r\n",
                b"=5\r\ntxt:a\r\n",
                b">1\r\n+x\r\n",
                b"*3\r\n*1\r\n*1\r\n$1\r\na\r\n",
            ]
        )
        return b"*2\r\n" + inner + b"$1\r\nx\r\n" if rnd.random() < 0.7 else inner
    if r < 0.78:  # inline oddities
        return rnd.choice(
            [
                b'SET a "unbalanced\r\n',
                b"SET a 'x'y\r\n",
                b'ECHO "\\x4"\r\n',
                b"ECHO a\x00b\r\n",
                b"\r\n",
                b"\n",
                b"\r",
                b"   \r\n",
                b"PING" + b" " * rnd.randint(0, 70000),
                b"x" * rnd.choice([100, 65535, 65536, 70000]) + b"\r\n",
            ]
        )
    if r < 0.84:  # a count announcing far more args than come
        return b"*%d\r\n" % rnd.choice([11, 1000, 100001, 1 << 20, 2**31 - 1]) + b"$1\r\na\r\n" * (
            rnd.randint(0, 20)
        )
    if r < 0.90:  # a long header line without its end
        return rnd.choice([b"*", b"$", b"*1\r\n$"]) + b"9" * rnd.choice([30, 70000])
    if r < 0.95:  # many tiny frames glued together
        return b"".join(clean_frame(rnd) for _ in range(rnd.randint(2, 30)))
    return _mutate(_mutate(clean_frame(rnd), rnd), rnd)


def allowed(frame: bytes) -> bool:
    low = frame.lower()
    return not any(b in low for b in BANNED)


# -- a worker ---------------------------------------------------------------------------------
@dataclass
class Result:
    frames: int = 0
    rounds: int = 0
    hangs: list[str] = field(default_factory=list)
    connect_errors: int = 0
    closed_clean: int = 0


def _read_until(s: socket.socket, token: bytes | None, deadline: float) -> str:
    """'token' when seen, 'closed' at EOF, 'hang' when the deadline passes first."""
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "hang"
        s.settimeout(left)
        try:
            chunk = s.recv(1 << 18)
        except TimeoutError:
            return "hang"
        except OSError:
            return "closed"
        if not chunk:
            return "closed"
        if token is not None:
            buf = buf[-len(token) :] + chunk
            if token in buf:
                return "token"


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _send(s: socket.socket, data: bytes) -> bool:
    try:
        s.sendall(data)
        return True
    except OSError:
        return False


def worker(port: int, seed: int, frames: int, deadline: float, counter: Any) -> Result:
    rnd = random.Random(seed)
    res = Result()
    s: socket.socket | None = None
    round_no = 0
    unreported = 0
    while res.frames < frames:
        round_no += 1
        if s is None:
            try:
                s = _connect(port)
            except OSError:
                res.connect_errors += 1
                time.sleep(0.05)
                continue
        dirty = rnd.random() < 0.4
        n = rnd.randint(1, 40)
        batch = []
        for _ in range(n):
            f = dirty_frame(rnd) if dirty and rnd.random() < 0.6 else clean_frame(rnd)
            if allowed(f):
                batch.append(f)
        res.frames += len(batch)
        res.rounds += 1
        token = b"tok%d-%d" % (seed, round_no)
        if dirty:
            ok = _send(s, b"".join(batch))
            if ok:
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            outcome = _read_until(s, None, time.monotonic() + deadline)
            s.close()
            s = None
        else:
            # DISCARD ends a MULTI the batch may have opened (else PING would be QUEUED)
            ok = _send(s, b"".join(batch) + multibulk([b"DISCARD"]) + multibulk([b"PING", token]))
            outcome = _read_until(s, token, time.monotonic() + deadline)
            if outcome != "token":
                s.close()
                s = None
        if outcome == "hang":
            res.hangs.append(f"seed={seed} round={round_no} dirty={dirty} batch={batch!r:.300}")
            if s is not None:
                s.close()
                s = None
        elif outcome == "closed" and not dirty:
            res.closed_clean += 1
        unreported += len(batch)
        if counter is not None and res.rounds % 20 == 0:
            with counter.get_lock():
                counter.value += unreported
            unreported = 0
    if s is not None:
        s.close()
    return res


def _worker_entry(args: tuple[int, int, int, float, Any]) -> Result:
    return worker(*args)


_COUNTER: Any = None


def _init(counter: Any) -> None:
    global _COUNTER
    _COUNTER = counter


def _worker_shared(args: tuple[int, int, int, float]) -> Result:
    return worker(*args, _COUNTER)


# -- the driver -------------------------------------------------------------------------------
def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class Report:
    frames: int
    seconds: float
    hangs: list[str]
    alive: bool
    rss_before_kb: int
    rss_max_kb: int
    rss_after_kb: int
    closed_clean: int
    connect_errors: int

    @property
    def rate(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def run(
    port: int,
    pid: int,
    frames: int,
    workers: int = 4,
    seed: int = 1,
    deadline: float = 10.0,
    progress: bool = False,
) -> Report:
    """Fuzz the server at ``port`` (process ``pid``) with ``frames`` frames in all."""
    before = rss_kb(pid)
    peak = before
    t0 = time.monotonic()
    counter = mp.Value("q", 0)
    per = -(-frames // workers)
    jobs = [(port, seed * 1000 + i, per, deadline) for i in range(workers)]
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=_init, initargs=(counter,)) as pool:
        pending = pool.map_async(_worker_shared, jobs)
        last = 0.0
        while not pending.ready():
            pending.wait(0.5)
            peak = max(peak, rss_kb(pid))
            if progress and time.monotonic() - last >= 5:
                last = time.monotonic()
                done = counter.value
                el = last - t0
                print(
                    f"  {done:>9} frames  {el:6.0f} s  {done / el if el else 0:8.0f} frames/s  "
                    f"server RSS {rss_kb(pid) // 1024} MiB",
                    flush=True,
                )
        results = pending.get()
    seconds = time.monotonic() - t0
    alive = os.path.exists(f"/proc/{pid}") and _state(pid) != "Z"
    return Report(
        frames=sum(r.frames for r in results),
        seconds=seconds,
        hangs=[h for r in results for h in r.hangs],
        alive=alive,
        rss_before_kb=before,
        rss_max_kb=max(peak, rss_kb(pid) if alive else 0),
        rss_after_kb=rss_kb(pid) if alive else 0,
        closed_clean=sum(r.closed_clean for r in results),
        connect_errors=sum(r.connect_errors for r in results),
    )


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def write_sentinels(port: int) -> dict[bytes, bytes]:
    """Data written before fuzzing (checked after): strings, and a hash/list/set/zset."""
    import redis

    c = redis.Redis(port=port, socket_timeout=30)
    data = {
        b"%s:%d" % (SENTINEL, i): os.urandom(random.Random(i).randint(1, 3000)) for i in range(200)
    }
    c.mset(data)
    c.hset(SENTINEL + b":h", mapping={b"f%d" % i: b"v%d" % i for i in range(100)})
    c.rpush(SENTINEL + b":l", *[b"e%d" % i for i in range(100)])
    c.sadd(SENTINEL + b":s", *[b"m%d" % i for i in range(100)])
    c.zadd(SENTINEL + b":z", {b"z%d" % i: i for i in range(100)})
    c.close()
    return data


def check_sentinels(port: int, data: dict[bytes, bytes]) -> list[str]:
    import redis

    c = redis.Redis(port=port, socket_timeout=30)
    problems = []
    assert c.ping()
    got = c.mget(list(data))
    bad = [k for k, v in zip(data, got, strict=True) if v != data[k]]
    if bad:
        problems.append(f"{len(bad)} sentinel strings changed, e.g. {bad[:3]}")
    if c.hgetall(SENTINEL + b":h") != {b"f%d" % i: b"v%d" % i for i in range(100)}:
        problems.append("sentinel hash changed")
    if c.lrange(SENTINEL + b":l", 0, -1) != [b"e%d" % i for i in range(100)]:
        problems.append("sentinel list changed")
    if c.smembers(SENTINEL + b":s") != {b"m%d" % i for i in range(100)}:
        problems.append("sentinel set changed")
    if c.zrange(SENTINEL + b":z", 0, -1, withscores=True) != [
        (b"z%d" % i, float(i)) for i in range(100)
    ]:
        problems.append("sentinel zset changed")
    c.close()
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=4, help="parallel connections")
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--deadline", type=float, default=15.0, help="seconds per round")
    ap.add_argument("--port", type=int, help="fuzz a running server (with --pid)")
    ap.add_argument("--pid", type=int)
    opts = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    from tests.support.servers import PikaServer

    srv = None
    if opts.port:
        port, pid = opts.port, opts.pid
    else:
        srv = PikaServer().start()
        assert srv.proc is not None
        port, pid = srv.port, srv.proc.pid
    print(
        f"fuzzing pikadb on port {port} (pid {pid}): {opts.frames} frames, "
        f"{opts.workers} connections, seed {opts.seed}",
        flush=True,
    )
    sentinels = write_sentinels(port)
    rep = run(port, pid, opts.frames, opts.workers, opts.seed, opts.deadline, progress=True)
    problems = check_sentinels(port, sentinels) if rep.alive else ["server died"]
    if srv is not None:
        log = srv.log()
        tracebacks = log.count("Traceback")
        if tracebacks:
            problems.append(f"{tracebacks} tracebacks in the server log")
            first = log.index("Traceback")
            print(log[max(0, first - 300) : first + 3000])
    print(
        f"frames {rep.frames} in {rep.seconds:.0f} s = {rep.rate:.0f} frames/s; "
        f"hangs {len(rep.hangs)}; server alive {rep.alive}; "
        f"RSS before {rep.rss_before_kb // 1024} MiB, peak {rep.rss_max_kb // 1024} MiB, "
        f"after {rep.rss_after_kb // 1024} MiB; clean rounds closed {rep.closed_clean}; "
        f"data {problems or 'intact'}"
    )
    for h in rep.hangs[:5]:
        print("HANG", h)
    if srv is not None:
        rc = srv.stop()
        print(f"server exit status {rc}")
        srv.cleanup()
    return 0 if rep.alive and not rep.hangs and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
