"""Hot-data cache: decoded values of hot keys kept in process memory, in front of RocksDB.

Pika's hybrid cache (``cache-model``, ``cache-type``, ``cache-maxmemory``,
``cache-maxmemory-policy``, ``cache-lfu-decay-time``), done the Python way: one
:class:`HotCache` per node holds what a read produced (a GET value, a hash's pairs, a whole
list, a set's members), with the key's expire-at, under an estimated memory budget.

* **Read-through.** The cached read sites (see :data:`CACHED_READS`) ask :meth:`HotCache.get`
  first; on a miss they run the normal storage read and hand the result to
  :meth:`HotCache.put`. A hit whose expire-at has passed is dropped and treated as a miss, so
  the normal read then hides and lazily deletes the key exactly as without the cache. A type
  mismatch is a miss too (the normal read raises WRONGTYPE).
* **Write-invalidation, exact.** Every mutation goes through ``Store.commit``; the cache is
  the FIRST commit listener and drops every key in ``batch.touched`` (a 2-byte entry = a
  whole table: FLUSHDB/FLUSHALL/SWAPDB) at the moment the ops are staged. Reads inside a
  group / MULTI / script see pending ops through the engine's overlay, and the cache is
  invalidated when those ops are staged, so it never holds a value older than the overlay.
  Replicated records re-applied by ``Store.apply_record`` touch the meta key of every
  sub-key they write as well.
* **Off costs nothing.** With ``cache-model 0`` every :class:`Database` has ``cache = None``
  (one attribute test on the read path) and the commit listener is not registered.
* **Threads.** Slow reads run on worker threads against read views, whose ``cache`` is None:
  the cache is touched from the event-loop thread only.
* **Eviction** (``cache-maxmemory-policy``, Pika's numbering 0..7): LRU keeps the
  OrderedDict in access order; LFU uses Redis's logarithmic counter with
  ``cache-lfu-decay-time`` minutes per decrement and evicts the least frequent of a sample
  taken from the oldest entries (the survivors get a second chance at the young end);
  random picks within that sample; volatile-* consider only keys with an expire; volatile-ttl
  the nearest expire; noeviction refuses new entries when full.
* **Sizes** are estimates (payload bytes plus a per-object overhead), as Pika's
  ``cache_memory`` is the embedded Redis's ``used_memory``.

INFO: :meth:`HotCache.cache_info` returns Pika's ``# Cache`` fields as (name, value) pairs,
ready to render (observability/info.py).
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from itertools import islice
from typing import TYPE_CHECKING, Any

from pikadb.core.clock import now_ms
from pikadb.storage import layout as L

if TYPE_CHECKING:
    from pikadb.storage.batch import Batch
    from pikadb.storage.store import Store

# Pika's cache-maxmemory-policy numbering.
POLICIES = (
    "volatile-lru",
    "allkeys-lru",
    "volatile-lfu",
    "allkeys-lfu",
    "volatile-random",
    "allkeys-random",
    "volatile-ttl",
    "noeviction",
)
# cache-type words -> type codes (bit: bitmaps are strings; accepted, cached as strings).
TYPE_WORDS: dict[str, tuple[int, ...]] = {
    "string": (L.T_STRING,),
    "set": (L.T_SET,),
    "zset": (L.T_ZSET,),
    "list": (L.T_LIST,),
    "hash": (L.T_HASH,),
    "bit": (),
}
DEFAULT_TYPES = "string, set, zset, list, hash, bit"
# The read paths that consult the cache (documented; the sites live in commands/*.py).
CACHED_READS = ("get", "hgetall", "hkeys", "hvals", "hget", "lrange", "smembers")

MAX_ITEMS = 2048  # Pika's CACHE_VALUE_ITEM_MAX_SIZE: bigger collections are never cached
MAX_KEY = 512  # Pika's max-key-size-in-cache
MAX_VALUE = 1 << 20  # a string value above this many bytes is not cached
OVERHEAD = 120  # estimated bytes per entry besides its payload (dict slot, list, key)
ITEM_OVERHEAD = 40  # estimated bytes per collection item besides its payload
SAMPLES = 8  # entries looked at per eviction (LFU, random, volatile)
MEMO_MAX = 8  # memoised reply bodies per entry

LFU_INIT = 5  # Redis's LFU_INIT_VAL
LFU_LOG_FACTOR = 10  # Redis's lfu-log-factor default

# Entry layout (a list, for speed): type, value, expire-at, bytes, lfu counter, last
# decrement minute, memo (None or {memo key: reply body}).
E_TYPE, E_VAL, E_EXP, E_SIZE, E_FREQ, E_MIN, E_MEMO = range(7)
Entry = list[Any]

_MISS = None


def parse_types(text: str) -> frozenset[int] | None:
    """The type codes named by a ``cache-type`` value, or None if a word is unknown."""
    codes: set[int] = set()
    for word in text.replace(",", " ").split():
        t = TYPE_WORDS.get(word.lower())
        if t is None:
            return None
        codes.update(t)
    return frozenset(codes)


def collection_bytes(items: list[bytes]) -> int:
    return sum(map(len, items)) + ITEM_OVERHEAD * len(items)


def pairs_bytes(pairs: list[tuple[bytes, bytes]]) -> int:
    return sum(len(f) + len(v) for f, v in pairs) + 2 * ITEM_OVERHEAD * len(pairs)


def _minutes() -> int:
    return int(time.monotonic() // 60)


class HotCache:
    """The node's cache of hot decoded values, keyed by ``table prefix + user key``."""

    def __init__(
        self,
        maxmemory: int = 10 << 30,
        policy: int = 1,
        types: str = DEFAULT_TYPES,
        lfu_decay_time: int = 1,
    ) -> None:
        self._d: OrderedDict[bytes, Entry] = OrderedDict()
        self.used = 0
        self.maxmemory = maxmemory
        self.policy = policy
        self.types: frozenset[int] = parse_types(types) or frozenset()
        self.lfu_decay_time = lfu_decay_time
        self.enabled = False
        self._store: Store | None = None
        self._lru = True
        self._lfu = False
        self.set_policy(policy)
        # statistics (CACHE CLEAR HITRATIO resets them)
        self.hits = 0
        self.all_cmds = 0
        self.loads = 0
        self._snap: tuple[float, int, int, int] = (time.monotonic(), 0, 0, 0)
        self._rates: tuple[int, int, float, int] = (0, 0, 0.0, 0)

    # -- settings ---------------------------------------------------------------------------
    def set_policy(self, policy: int) -> None:
        self.policy = policy
        name = POLICIES[policy]
        self._lru = name.endswith("-lru")
        self._lfu = name.endswith("-lfu")
        self._volatile = name.startswith("volatile-")

    def set_types(self, text: str) -> None:
        """Cache only these types from now on; cached entries of other types are dropped."""
        types = parse_types(text)
        if types is None:
            raise ValueError(f"unknown cache-type in {text!r}")
        self.types = types
        for ckey in [k for k, e in self._d.items() if e[E_TYPE] not in types]:
            self._drop(ckey)

    def set_maxmemory(self, n: int) -> None:
        self.maxmemory = n
        self._shrink(0)

    # -- attachment -------------------------------------------------------------------------
    def attach(self, store: Store) -> None:
        """Serve ``store``'s databases (when enabled) and follow its commits."""
        if self._store is not None and self._store is not store:
            self.detach()
        self._store = store
        self._apply_enabled()

    def detach(self) -> None:
        store = self._store
        if store is not None:
            was = self.enabled
            self.enabled = False
            self._apply_enabled()
            self.enabled = was
            self._store = None
        self.clear()

    def set_enabled(self, on: bool) -> None:
        """``cache-model``: 1 serves and fills the cache, 0 empties and bypasses it."""
        self.enabled = on
        if not on:
            self.clear()
        self._apply_enabled()

    def _apply_enabled(self) -> None:
        store = self._store
        if store is None:
            return
        on = self.enabled
        listeners = store.listeners
        listener = self.on_commit
        if on and listener not in listeners:
            listeners.insert(0, listener)  # first: later listeners may read
        elif not on and listener in listeners:
            listeners.remove(listener)
        store.hot_cache = self if on else None  # type: ignore[attr-defined]
        for db in store.databases:
            db.cache = self if on else None

    # -- reads ------------------------------------------------------------------------------
    def get(self, ckey: bytes, t: int) -> Entry | None:
        """The live entry of ``ckey`` if it holds type ``t`` (a hit), else None (a miss)."""
        self.all_cmds += 1
        e = self._d.get(ckey)
        if e is None or e[E_TYPE] != t:
            return _MISS
        exp = e[E_EXP]
        if exp and exp <= now_ms():
            self._drop(ckey)
            return _MISS
        self.hits += 1
        if self._lru:
            self._d.move_to_end(ckey)
        elif self._lfu:
            self._touch_lfu(e)
        return e

    def put(self, ckey: bytes, t: int, value: Any, expire_at: int, nbytes: int) -> Entry | None:
        """Cache what a read produced (``nbytes``: its estimated payload size). Returns the
        new entry, or None when the type is not cached, the value too big or the budget
        full under noeviction."""
        if t not in self.types or len(ckey) > MAX_KEY + 2:
            return None
        if expire_at and expire_at <= now_ms():
            return None
        size = nbytes + len(ckey) + OVERHEAD
        d = self._d
        old = d.pop(ckey, None)
        if old is not None:
            self.used -= old[E_SIZE]
        if self.used + size > self.maxmemory and not self._shrink(size):
            return None
        e = [t, value, expire_at, size, LFU_INIT, _minutes(), None]
        d[ckey] = e
        self.used += size
        self.loads += 1
        return e

    def memo(self, ckey: bytes, e: Entry, mkey: Any, obj: Any, nbytes: int) -> None:
        """Remember something derived from ``e``'s value (a reply body, a field dict) of
        about ``nbytes``; it is dropped with the entry."""
        if self._d.get(ckey) is not e:
            return
        m = e[E_MEMO]
        if m is None:
            m = e[E_MEMO] = {}
        elif len(m) >= MEMO_MAX:
            return
        n = nbytes + 64
        m[mkey] = obj
        e[E_SIZE] += n
        self.used += n

    # -- invalidation -----------------------------------------------------------------------
    def on_commit(self, batch: Batch) -> None:
        """Store listener: drop every key the batch touched (a 2-byte entry: a table)."""
        d = self._d
        if not d:
            return
        for mkey in batch.touched:
            if len(mkey) == 2:
                self.drop_table(mkey)
                continue
            e = d.pop(mkey[:2] + mkey[4:], None)
            if e is not None:
                self.used -= e[E_SIZE]

    def drop_table(self, prefix: bytes) -> None:
        for ckey in [k for k in self._d if k[:2] == prefix]:
            self._drop(ckey)

    def delete(self, ckey: bytes) -> bool:
        """CACHE DEL: forget one key (the next read reloads it)."""
        return self._drop(ckey)

    def clear(self) -> None:
        self._d.clear()
        self.used = 0

    def _drop(self, ckey: bytes) -> bool:
        e = self._d.pop(ckey, None)
        if e is None:
            return False
        self.used -= e[E_SIZE]
        return True

    # -- eviction ---------------------------------------------------------------------------
    def _touch_lfu(self, e: Entry) -> None:
        """Redis's LFU: decay by elapsed minutes / decay time, then a logarithmic bump."""
        now = _minutes()
        c = e[E_FREQ]
        if self.lfu_decay_time > 0:
            periods = (now - e[E_MIN]) // self.lfu_decay_time
            if periods:
                c = max(0, c - periods)
                e[E_MIN] = now
        if c < 255:
            base = c - LFU_INIT if c > LFU_INIT else 0
            if random.random() < 1.0 / (base * LFU_LOG_FACTOR + 1):
                c += 1
        e[E_FREQ] = c

    def _victim(self) -> bytes | None:
        """The key to evict next under the policy, or None (nothing evictable)."""
        d = self._d
        if not d:
            return None
        name = POLICIES[self.policy]
        if name == "noeviction":
            return None
        if name == "allkeys-lru":
            return next(iter(d))
        sample = [
            (k, e)
            for k, e in islice(d.items(), SAMPLES * 4 if self._volatile else SAMPLES)
            if not self._volatile or e[E_EXP]
        ][:SAMPLES]
        if not sample:
            return None
        if self._lfu:
            now = _minutes()
            decay = self.lfu_decay_time

            def freq(e: Entry) -> int:
                if decay <= 0:
                    return int(e[E_FREQ])
                return max(0, int(e[E_FREQ]) - (now - int(e[E_MIN])) // decay)

            k = min(sample, key=lambda kv: freq(kv[1]))[0]
            for other, _ in sample:  # second chance for the sampled survivors
                if other != k:
                    d.move_to_end(other)
            return k
        if name == "volatile-ttl":
            return min(sample, key=lambda kv: int(kv[1][E_EXP]))[0]
        if name == "volatile-lru":
            return sample[0][0]
        return random.choice(sample)[0]

    def _shrink(self, need: int) -> bool:
        """Evict until ``need`` more bytes fit; False if the policy cannot make room."""
        limit = self.maxmemory
        while self.used + need > limit:
            k = self._victim()
            if k is None:
                return False
            self._drop(k)
        return True

    # -- admin ------------------------------------------------------------------------------
    def keys(self) -> int:
        return len(self._d)

    def random_key(self, prefix: bytes) -> bytes | None:
        """CACHE RANDOMKEY: a cached user key of the table ``prefix`` (None: none)."""
        mine = [k for k in islice(self._d, 4096) if k[:2] == prefix]
        return random.choice(mine)[2:] if mine else None

    def clear_hitratio(self) -> None:
        self.hits = self.all_cmds = self.loads = 0
        self._snap = (time.monotonic(), 0, 0, 0)
        self._rates = (0, 0, 0.0, 0)

    def _update_rates(self) -> tuple[int, int, float, int]:
        t0, h0, a0, l0 = self._snap
        now = time.monotonic()
        dt = now - t0
        if dt >= 1.0:
            dh, da, dl = self.hits - h0, self.all_cmds - a0, self.loads - l0
            self._rates = (
                int(dh / dt),
                int(da / dt),
                100.0 * dh / da if da else 0.0,
                int(dl / dt),
            )
            self._snap = (now, self.hits, self.all_cmds, self.loads)
        return self._rates

    def cache_info(self, databases: int | None = None) -> list[tuple[str, Any]]:
        """Pika's INFO ``# Cache`` fields, in Pika's order, as (name, value) pairs.

        With ``cache-model 0`` only ``cache_status:Disable`` (as Pika). Per-second rates are
        measured over the interval since the previous call (at least one second)."""
        if not self.enabled:
            return [("cache_status", "Disable")]
        hps, rps, ratio_ps, lps = self._update_rates()
        if databases is None:
            databases = len(self._store.databases) if self._store is not None else 0
        ratio_all = 100.0 * self.hits / self.all_cmds if self.all_cmds else 0.0
        return [
            ("cache_status", "Ok"),
            ("cache_db_num", databases),
            ("cache_keys", len(self._d)),
            ("cache_memory", self.used),
            ("cache_memory_human", f"{self.used >> 20}M"),
            ("hits", self.hits),
            ("all_cmds", self.all_cmds),
            ("hits_per_sec", hps),
            ("read_cmd_per_sec", rps),
            ("hitratio_per_sec", f"{ratio_ps:.4g}%"),
            ("hitratio_all", f"{ratio_all:.4g}%"),
            ("load_keys_per_sec", lps),
            ("waitting_load_keys_num", 0),
        ]
