"""The ACL security log (Redis 7.0 ``addACLLogEntry`` / ACL LOG).

Entries are kept newest first. A denial like one of the 10 newest entries (same reason,
context, object and user, within 60 s) bumps that entry's count and moves it to the front
instead of adding a new one. ``acllog-max-len`` bounds the list.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pikadb.commands.client_cmd import client_info_line
from pikadb.commands.context import ClientState
from pikadb.protocol.reply import bulk, integer

# reasons (ACL_DENIED_*), in Redis's numeric order: a higher one wins among selectors
DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 1, 2, 3, 4
REASONS = {DENIED_CMD: "command", DENIED_KEY: "key", DENIED_AUTH: "auth", DENIED_CHANNEL: "channel"}
GROUPING_MS = 60_000


@dataclass(slots=True)
class Entry:
    count: int
    reason: int
    context: str  # toplevel | multi | lua
    object: bytes
    username: bytes
    ctime_ms: int
    cinfo: str


class AclLog:
    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(
        self,
        c: ClientState,
        reason: int,
        context: str,
        obj: bytes,
        username: bytes,
        max_len: int,
        cmd: str = "",
        args: list[bytes] | None = None,
    ) -> None:
        now = int(time.time() * 1000)
        try:
            cinfo = client_info_line(c, c, cmd, args)
        except Exception:  # a client without a full state (script / busy-time client)
            cinfo = f"id={c.id} addr={c.addr}"
        entries = self.entries
        for i, e in enumerate(entries[:10]):
            if (
                e.reason == reason
                and e.context == context
                and abs(e.ctime_ms - now) <= GROUPING_MS
                and e.object == obj
                and e.username == username
            ):
                e.count += 1
                e.cinfo = cinfo
                e.ctime_ms = now
                del entries[i]
                entries.insert(0, e)
                return
        entries.insert(0, Entry(1, reason, context, obj, username, now, cinfo))
        del entries[max(max_len, 0) :]

    def trim(self, max_len: int) -> None:
        del self.entries[max(max_len, 0) :]

    def reset(self) -> None:
        self.entries.clear()

    def reply(self, c: ClientState, count: int) -> bytes:
        now = int(time.time() * 1000)
        chosen = self.entries[: max(count, 0)]
        out = [b"*%d\r\n" % len(chosen)]
        enc = c.enc
        for e in chosen:
            out.append(
                enc.map(
                    [
                        (bulk(b"count"), integer(e.count)),
                        (bulk(b"reason"), bulk(REASONS.get(e.reason, "unknown").encode())),
                        (bulk(b"context"), bulk(e.context.encode())),
                        (bulk(b"object"), bulk(e.object)),
                        (bulk(b"username"), bulk(e.username)),
                        (bulk(b"age-seconds"), enc.double((now - e.ctime_ms) / 1000)),
                        (bulk(b"client-info"), bulk(e.cinfo.encode("utf-8", "replace"))),
                    ]
                )
            )
        return b"".join(out)
