"""String commands: GET, SET and the rest of the family (Redis 7 semantics)."""

from __future__ import annotations

from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.table import command
from pikadb.core import errors
from pikadb.core.clock import now_ms
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK
from pikadb.storage import strings

G = "string"
_read = strings.read
_write = strings.write


@command("get", 2, "readonly fast", keys=(1, 1, 1), acl="string", group=G, summary="Returns the string value of a key.", args="key")
def get(c: ClientState, args: list[bytes]) -> bytes:
    v = _read(c.db.lookup(args[1])[1])
    if v is None:
        return c.enc.null
    return b"$%d\r\n%s\r\n" % (len(v), v)


_SET_FLAGS = {b"NX", b"XX", b"GET", b"KEEPTTL", b"EX", b"PX", b"EXAT", b"PXAT", b"VX"}


def _parse_set_options(args: list[bytes], start: int) -> tuple[bytes | None, bool, int, bool, bytes | None, bool]:
    """(NX/XX condition, GET, expire-at ms (0 none), KEEPTTL, VX value, expire given)."""
    cond: bytes | None = None
    want_get = keepttl = False
    expire_at = 0
    expire_given = False
    vx: bytes | None = None
    i = start
    n = len(args)
    while i < n:
        opt = args[i].upper()
        if opt in (b"NX", b"XX") and cond is None:
            cond = opt
        elif opt == b"NX" or opt == b"XX":
            raise CommandError(errors.SYNTAX)
        elif opt == b"GET" and not want_get:
            want_get = True
        elif opt == b"KEEPTTL" and not keepttl and not expire_given:
            keepttl = True
        elif opt in (b"EX", b"PX", b"EXAT", b"PXAT") and not expire_given and not keepttl and i + 1 < n:
            i += 1
            t = parse_int(args[i])
            if t <= 0 or (opt in (b"EX", b"EXAT") and t > (1 << 63) // 1000):
                raise CommandError(errors.invalid_expire("set"))
            if opt == b"EX":
                expire_at = now_ms() + t * 1000
            elif opt == b"PX":
                expire_at = now_ms() + t
            elif opt == b"EXAT":
                expire_at = t * 1000
            else:
                expire_at = t
            expire_given = True
        elif opt == b"VX" and vx is None and i + 1 < n:  # Pika: set only if the value equals
            i += 1
            vx = args[i]
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if cond is not None and vx is not None:
        raise CommandError(errors.SYNTAX)
    return cond, want_get, expire_at, keepttl, vx, expire_given


@command("set", -3, "write denyoom", keys=(1, 1, 1), acl="string", group=G, summary="Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", args="key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]")
def set_(c: ClientState, args: list[bytes]) -> bytes:
    db = c.db
    key = args[1]
    if len(args) == 3:  # the common case, kept lean
        mkey, old = db.lookup(key)
        _write(db, mkey, old, args[2])
        return OK
    cond, want_get, expire_at, keepttl, vx, _ = _parse_set_options(args, 3)
    mkey, old = db.lookup(key)
    old_value = _read(old) if want_get else None
    if (
        (cond == b"NX" and old is not None)
        or (cond == b"XX" and old is None)
        or (vx is not None and (old is None or old[0] != strings.T_STRING or old[9:] != vx))
    ):
        if want_get:
            return c.enc.bulk_or_null(old_value)
        return c.enc.null
    if keepttl:
        expire_at = strings.keep_ttl(old)
    if expire_at and expire_at <= now_ms():
        # Already in the past (EXAT/PXAT): Redis deletes the key instead of storing it.
        if old is not None:
            b = db.store.batch()
            b.delete_key(mkey, old)
            db.store.commit(b)
    else:
        _write(db, mkey, old, args[2], expire_at)
    if want_get:
        return c.enc.bulk_or_null(old_value)
    return OK
