"""``pikadb bigkeys``: find the biggest keys of a live server without blocking it.

What ``redis-cli --bigkeys`` (and ``--memkeys``) does, with more to show:

1. ``SCAN cursor COUNT n [MATCH p]`` — a small batch of keys per call, so the server never
   stalls (SCAN on pikadb walks RocksDB's meta column family; COUNT bounds the work);
2. one pipelined ``TYPE`` per key of the batch, then one pipelined size command per key:
   STRLEN (string, HyperLogLogs included, as redis-cli does), LLEN, SCARD, HLEN, ZCARD,
   XLEN — all O(1) on pikadb, which keeps collection sizes in the key's meta value;
3. optionally ``MEMORY USAGE key SAMPLES 0`` (``--memkeys``, redis-cli's ``--memkeys``: a
   second ranking by memory; turned off with a warning when the server has no MEMORY
   command, as pikadb, whose data lives in RocksDB);
4. ``--sleep S`` pauses S seconds every 100 SCAN calls (redis-cli's ``-i``).

A key that disappears or changes type between the steps is skipped (TYPE ``none`` or an
error reply), as redis-cli does. The report keeps the ``--top`` largest keys per type (a
key replaces an equal-sized one only when strictly bigger, so ties go to the key scanned
first, again like redis-cli), per-type counts and totals, and a power-of-two size
histogram per type.
"""

from __future__ import annotations

import heapq
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from pikadb.tools.resp import ReplyError, RespClient

# type -> (size command, unit), in redis-cli's summary vocabulary
SIZE_COMMANDS: dict[str, tuple[str, str]] = {
    "string": ("STRLEN", "bytes"),
    "list": ("LLEN", "items"),
    "set": ("SCARD", "members"),
    "hash": ("HLEN", "fields"),
    "zset": ("ZCARD", "members"),
    "stream": ("XLEN", "entries"),
}
SLEEP_EVERY = 100  # SCAN calls between --sleep pauses (redis-cli: 100)


def bucket_of(size: int) -> int:
    """Histogram bucket: 0 holds size 0, bucket k >= 1 holds [2**(k-1), 2**k)."""
    return size.bit_length()


def bucket_range(b: int) -> tuple[int, int]:
    if b == 0:
        return 0, 0
    return 1 << (b - 1), (1 << b) - 1


def show_key(key: bytes) -> str:
    return key.decode("utf-8", "backslashreplace")


@dataclass
class TypeStats:
    unit: str
    keys: int = 0
    total: int = 0
    memory: int = 0
    top: list[tuple[int, int, bytes, int | None]] = field(default_factory=list)  # min-heap
    top_mem: list[tuple[int, int, bytes, int]] = field(default_factory=list)  # --memkeys
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, seq: int, key: bytes, size: int, mem: int | None, keep: int) -> None:
        """Count a key and keep it when it is among the ``keep`` biggest."""
        self.keys += 1
        self.total += size
        if mem is not None:
            self.memory += mem
        b = bucket_of(size)
        self.histogram[b] = self.histogram.get(b, 0) + 1
        # ordering (size, -seq): among equal sizes the earlier-scanned key ranks higher
        item = (size, -seq, key, mem)
        _keep(self.top, item, keep)
        if mem is not None:
            _keep(self.top_mem, (mem, -seq, key, size), keep)

    def ranked(self) -> list[tuple[bytes, int, int | None]]:
        return [(k, s, m) for s, _, k, m in sorted(self.top, reverse=True)]

    def ranked_by_memory(self) -> list[tuple[bytes, int, int]]:
        return [(k, s, m) for m, _, k, s in sorted(self.top_mem, reverse=True)]


def _keep(heap: list[Any], item: Any, keep: int) -> None:
    if len(heap) < keep:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


@dataclass
class Report:
    db: int
    dbsize: int
    scanned: int = 0
    scan_calls: int = 0
    key_bytes: int = 0
    elapsed: float = 0.0
    memkeys: bool = False
    types: dict[str, TypeStats] = field(
        default_factory=lambda: {t: TypeStats(u) for t, (_, u) in SIZE_COMMANDS.items()}
    )
    other_types: dict[str, int] = field(default_factory=dict)  # module types etc.

    def to_dict(self) -> dict[str, Any]:
        types: dict[str, Any] = {}
        for name, st in self.types.items():
            types[name] = {
                "unit": st.unit,
                "keys": st.keys,
                "total": st.total,
                "avg": round(st.total / st.keys, 2) if st.keys else 0.0,
                "percent_of_keys": round(100.0 * st.keys / self.scanned, 2) if self.scanned else 0,
                "biggest": [
                    {"key": show_key(k), "size": s, **({"memory": m} if m is not None else {})}
                    for k, s, m in st.ranked()
                ],
                "histogram": [
                    {"min": lo, "max": hi, "keys": st.histogram[b]}
                    for b in sorted(st.histogram)
                    for lo, hi in [bucket_range(b)]
                ],
                **({"memory": st.memory} if self.memkeys else {}),
                **(
                    {
                        "biggest_by_memory": [
                            {"key": show_key(k), "size": s, "memory": m}
                            for k, s, m in st.ranked_by_memory()
                        ]
                    }
                    if self.memkeys
                    else {}
                ),
            }
        return {
            "db": self.db,
            "dbsize": self.dbsize,
            "keys_scanned": self.scanned,
            "scan_calls": self.scan_calls,
            "total_key_length": self.key_bytes,
            "avg_key_length": round(self.key_bytes / self.scanned, 2) if self.scanned else 0.0,
            "elapsed_s": round(self.elapsed, 3),
            "memkeys": self.memkeys,
            "types": types,
            "other_types": self.other_types,
        }


def _decode(reply: Any) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def scan(
    client: RespClient,
    *,
    db: int = 0,
    count: int = 100,
    match: str | None = None,
    sleep: float = 0.0,
    memkeys: bool = False,
    top: int = 5,
    progress: bool = False,
    log: Any = None,
) -> Report:
    """Walk the keyspace once and build the report (see the module docstring)."""
    dbsize = int(client.execute("DBSIZE"))
    report = Report(db=db, dbsize=dbsize, memkeys=memkeys)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=dbsize, unit="key", file=sys.stderr, dynamic_ncols=True, leave=False)
    started = time.monotonic()
    cursor = b"0"
    seq = 0
    scan_args: list[Any] = ["COUNT", count]
    if match:
        scan_args += ["MATCH", match]
    try:
        while True:
            cursor, keys = client.execute("SCAN", cursor, *scan_args)
            report.scan_calls += 1
            if keys:
                seq = _measure(client, report, keys, seq, top, log)
                if bar is not None:
                    bar.update(len(keys))
            if cursor == b"0":
                break
            if sleep and report.scan_calls % SLEEP_EVERY == 0:
                time.sleep(sleep)
    finally:
        if bar is not None:
            bar.close()
    report.elapsed = time.monotonic() - started
    return report


def _measure(
    client: RespClient, report: Report, keys: list[bytes], seq: int, top: int, log: Any
) -> int:
    types = client.pipeline([("TYPE", k) for k in keys])
    todo: list[tuple[bytes, str]] = []
    for key, t in zip(keys, types, strict=True):
        if isinstance(t, ReplyError):
            continue
        name = _decode(t)
        if name == "none":  # deleted since SCAN returned it
            continue
        if name not in SIZE_COMMANDS:
            report.other_types[name] = report.other_types.get(name, 0) + 1
            continue
        todo.append((key, name))
    cmds: list[tuple[Any, ...]] = [(SIZE_COMMANDS[t][0], k) for k, t in todo]
    if report.memkeys:
        cmds += [("MEMORY", "USAGE", k, "SAMPLES", "0") for k, _ in todo]
    replies = client.pipeline(cmds)
    sizes = replies[: len(todo)]
    mems: list[Any] = replies[len(todo) :] if report.memkeys else [None] * len(todo)
    if report.memkeys and mems and isinstance(mems[0], ReplyError):
        if log is not None:
            log(f"MEMORY USAGE failed ({mems[0]}); continuing without memory sizes")
        report.memkeys = False
        mems = [None] * len(todo)
    for (key, name), size, mem in zip(todo, sizes, mems, strict=True):
        if isinstance(size, ReplyError) or not isinstance(size, int):
            continue  # changed type between TYPE and the size command
        m = mem if isinstance(mem, int) else None
        report.scanned += 1
        report.key_bytes += len(key)
        seq += 1
        report.types[name].add(seq, key, size, m, top)
    return seq


# --- rendering -------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_table(report: Report) -> str:
    d = report.to_dict()
    out = [
        f"Scanned {report.scanned} keys in db {report.db} (DBSIZE {report.dbsize}) "
        f"with {report.scan_calls} SCAN calls in {report.elapsed:.2f}s",
        f"Total key length in bytes is {report.key_bytes} (avg len {d['avg_key_length']:.2f})",
        "",
        "Biggest keys per type",
    ]
    rows: list[list[str]] = []
    for name, st in report.types.items():
        for rank, (key, size, mem) in enumerate(st.ranked(), 1):
            row = [name, str(rank), json.dumps(show_key(key)), str(size), st.unit]
            if report.memkeys:
                row.append(str(mem) if mem is not None else "-")
            rows.append(row)
    headers = ["type", "#", "key", "size", "unit"] + (["memory"] if report.memkeys else [])
    out += _table(headers, rows, {1, 3, 5}) if rows else ["(no keys)"]
    if report.memkeys:
        out += ["", "Biggest keys per type by memory (MEMORY USAGE)"]
        rows = [
            [name, str(rank), json.dumps(show_key(key)), str(mem), str(size), st.unit]
            for name, st in report.types.items()
            for rank, (key, size, mem) in enumerate(st.ranked_by_memory(), 1)
        ]
        out += _table(["type", "#", "key", "memory", "size", "unit"], rows, {1, 3, 4})
    out += ["", "Keys per type"]
    rows = []
    for name, info in d["types"].items():
        row = [
            name,
            str(info["keys"]),
            f"{info['percent_of_keys']:.2f}%",
            f"{info['total']} {info['unit']}",
            f"{info['avg']:.2f}",
        ]
        if report.memkeys:
            row.append(str(info["memory"]))
        rows.append(row)
    headers = ["type", "keys", "of keys", "total size", "avg size"]
    out += _table(headers + (["memory"] if report.memkeys else []), rows, {1, 2, 4, 5})
    if report.other_types:
        out.append("other types: " + ", ".join(f"{t}={n}" for t, n in report.other_types.items()))
    buckets = sorted({b for st in report.types.values() for b in st.histogram})
    if buckets:
        out += ["", "Size histogram (keys per size range; bytes for strings, elements otherwise)"]
        names = list(report.types)
        rows = []
        for b in buckets:
            lo, hi = bucket_range(b)
            label = str(lo) if lo == hi else f"{lo}-{hi}"
            rows.append([label] + [str(report.types[n].histogram.get(b, 0)) for n in names])
        out += _table(["size", *names], rows, set(range(1, len(names) + 1)))
    return "\n".join(out)


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2)
