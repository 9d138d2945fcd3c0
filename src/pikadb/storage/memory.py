"""MEMORY USAGE for a RocksDB-resident key: the bytes its records take (keys + values as
stored, before compression), the way Redis's ``objectComputeSize`` estimates: nested values
are sampled (``samples`` sub-records, 0 = all) and the average is scaled to the member count.
Chunked strings are exact from their length (a missing chunk is zeros but costs nothing)."""

from __future__ import annotations

from pikadb.storage import layout as L
from pikadb.storage import strings
from pikadb.storage.engine import DATA
from pikadb.storage.keyspace import Database


def key_usage(db: Database, mkey: bytes, raw: bytes, samples: int) -> int:
    """Estimated stored bytes of the key whose meta record is (``mkey``, ``raw``)."""
    base = len(mkey) + len(raw)
    if raw[0] == L.T_STRING:
        return base
    if raw[0] == L.T_STRING_CHUNKED:
        return base + strings.length(raw)
    version = L.version_of(raw)
    members = L.collection_size(raw)
    prefix = L.version_prefix(mkey, version)
    seen = total = 0
    for k, v in db.engine.scan(DATA, prefix, L.prefix_end(prefix)):
        total += len(k) + len(v)
        seen += 1
        if samples and seen >= samples:
            break
    if not seen:
        return base
    return base + total * max(members, seen) // seen
