"""Function libraries (FUNCTION LOAD) kept across restarts, in the sys column family.

    +-----+-----------------------------+------------------------------------------+
    | cf  | key                         | value                                    |
    +-----+-----------------------------+------------------------------------------+
    | sys | b"fnlib:" + library name    | the library's code (shebang line first)  |
    +-----+-----------------------------+------------------------------------------+

Changes go through the one commit path (:meth:`Store.commit`), so they are in the binlog
with the tick's other writes. FLUSHDB / FLUSHALL never touch the sys cf: like Redis, they
leave functions alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pikadb.storage.engine import SYS
from pikadb.storage.layout import prefix_end

if TYPE_CHECKING:
    from pikadb.storage.store import Store

PREFIX = b"fnlib:"
_END = prefix_end(PREFIX)


def load_all(store: Store) -> list[tuple[bytes, bytes]]:
    """Every stored library as (name, code), by name."""
    n = len(PREFIX)
    return [(k[n:], v) for k, v in store.engine.scan(SYS, PREFIX, _END)]


def save(
    store: Store,
    put: dict[bytes, bytes] | None = None,
    delete: list[bytes] | None = None,
    flush: bool = False,
) -> None:
    """Commit library changes: ``flush`` drops every library first, then ``delete`` the
    named ones and write ``put`` (name -> code)."""
    b = store.batch()
    if flush:
        b.delete_range(SYS, PREFIX, _END)
    for name in delete or ():
        b.delete(SYS, PREFIX + name)
    for name, code in (put or {}).items():
        b.put(SYS, PREFIX + name, code)
    store.commit(b)
