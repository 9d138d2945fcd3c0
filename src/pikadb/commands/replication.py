"""Replication commands: REPLICAOF / SLAVEOF, ROLE, WAIT, PURGELOGSTO, and the replica
link's own REPLCONF / PSYNC / SYNC. The work is done by ``c.server.replication``
(src/pikadb/replication/manager.py, a higher layer reached by duck typing)."""

from __future__ import annotations

from typing import Any

from pikadb.commands._args import parse_int
from pikadb.commands.context import ClientState
from pikadb.commands.table import command
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import OK, array, bulk, error, integer

G = "server"
RECORDS_PER_FILE = 100_000


def _repl(c: ClientState) -> Any:
    repl = getattr(c.server, "replication", None)
    if repl is None:
        raise CommandError("ERR replication is not available")
    return repl


def _replicaof(c: ClientState, args: list[bytes]) -> bytes:
    repl = _repl(c)
    if c.kind == "replica":
        raise CommandError(errors.REPLICAOF_FROM_REPLICA)
    host, port_raw = args[1], args[2]
    if host.lower() == b"no" and port_raw.lower() == b"one":
        repl.no_one()
        return OK
    port = parse_int(port_raw, errors.INVALID_MASTER_PORT)
    if not 0 <= port <= 65535:
        raise CommandError(errors.INVALID_MASTER_PORT)
    h = host.decode("utf-8", "replace")
    if repl.same_master(h, port):
        return b"+" + errors.ALREADY_CONNECTED_MASTER.encode() + b"\r\n"
    repl.set_master(h, port)
    return OK


_REPLICAOF_DOC = dict(
    acl="",
    group=G,
    complexity="O(1)",
    args="host port",
)


@command(
    "replicaof",
    3,
    "admin noscript stale",
    summary="Configure a server as replica of another, or promote it to a master",
    since="5.0.0",
    **_REPLICAOF_DOC,  # type: ignore[arg-type]
)
def replicaof(c: ClientState, args: list[bytes]) -> bytes:
    return _replicaof(c, args)


@command(
    "slaveof",
    3,
    "admin noscript stale",
    summary="Set a Redis server as a replica of another, or promote it to being a master",
    since="1.0.0",
    **_REPLICAOF_DOC,  # type: ignore[arg-type]
)
def slaveof(c: ClientState, args: list[bytes]) -> bytes:
    return _replicaof(c, args)


@command(
    "role",
    1,
    "noscript loading stale fast",
    acl="admin dangerous",
    group=G,
    summary="Return the role of the instance in the context of replication",
    since="2.8.12",
    complexity="O(1)",
)
def role(c: ClientState, args: list[bytes]) -> bytes:
    reply = _repl(c).role_reply()
    if reply[0] == "master":
        subs = [
            array([bulk(ip.encode()), bulk(p.encode()), bulk(o.encode())]) for ip, p, o in reply[2]
        ]
        return array([bulk(b"master"), integer(reply[1]), array(subs)])
    _, host, port, state, offset = reply
    return array(
        [bulk(b"slave"), bulk(host.encode()), integer(port), bulk(state.encode()), integer(offset)]
    )


@command(
    "wait",
    3,
    "noscript",
    acl="connection",
    group="generic",
    summary="Wait for the synchronous replication of all the write commands sent in the "
    "context of the current connection",
    since="3.0.0",
    complexity="O(1)",
    args="numreplicas timeout",
)
def wait(c: ClientState, args: list[bytes]) -> Any:
    repl = _repl(c)
    if repl.role == "slave":
        raise CommandError(errors.WAIT_ON_REPLICA)
    timeout = parse_int(args[2], errors.TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    num = parse_int(args[1])
    target = repl.write_target()
    acked = repl.master.count_acked(target)
    if acked >= num or c.multi is not None:
        return integer(acked)
    return _wait(repl, target, num, timeout)


async def _wait(repl: Any, target: int, num: int, timeout: int) -> bytes:
    return integer(await repl.wait_acks(target, num, timeout))


@command(
    "purgelogsto",
    -2,
    "admin",
    acl="",
    group=G,
    summary="Purge the binlog up to a file (write2file<N>) or a sequence number (Pika)",
    since="2.0.0",
    complexity="O(N)",
    args="write2file<N>|seq [db]",
)
def purgelogsto(c: ClientState, args: list[bytes]) -> bytes:
    repl = _repl(c)
    name = args[1].lower()
    try:
        if name.startswith(b"write2file"):
            upto = int(name[len(b"write2file") :]) * RECORDS_PER_FILE
        else:
            upto = int(name)
    except ValueError:
        raise CommandError(errors.PURGELOGSTO_BAD) from None
    if upto < 0:
        raise CommandError(errors.PURGELOGSTO_BAD)
    if not repl.purge_to(upto):
        raise CommandError(errors.PURGELOGSTO_IN_USE)
    return OK


# --- the replica link (sent by pikadb replicas) ------------------------------------------------
@command(
    "replconf",
    -1,
    "admin noscript loading stale allow_busy",
    acl="",
    group=G,
    summary="An internal command for configuring the replication stream",
    since="3.0.0",
    complexity="O(1)",
)
def replconf(c: ClientState, args: list[bytes]) -> bytes:
    if len(args) % 2 == 0 and not (len(args) >= 2 and args[1].lower() == b"fetch"):
        raise CommandError(errors.SYNTAX)
    master = _repl(c).master
    opt = args[1].lower().decode("utf-8", "replace") if len(args) > 1 else ""
    try:
        if opt == "ack":
            master.ack(c, int(args[2]))
            return b""  # acks are never answered
        if opt == "fetch":
            master.fetch(c, args[2].decode(), int(args[3]), int(args[4]))
            return b""
        for i in range(1, len(args), 2):
            o = args[i].lower().decode("utf-8", "replace")
            if o in ("listening-port", "snapshot", "fullsync-done"):
                master.replconf(c, o, args[i + 1].decode("utf-8", "replace"))
            elif o in ("capa", "ip-address", "rdb-only", "getack"):
                pass
            else:
                return error(
                    errors.REPLCONF_UNRECOGNIZED.format(args[i].decode("utf-8", "replace"))
                )
    except (ValueError, IndexError):
        raise CommandError(errors.NOT_INTEGER) from None
    return OK


@command(
    "psync",
    -3,
    "admin noscript no_multi",
    acl="",
    group=G,
    summary="An internal command used in replication",
    since="2.8.0",
    complexity="",
    args="replicationid offset",
)
def psync(c: ClientState, args: list[bytes]) -> bytes:
    repl = _repl(c)
    offset = parse_int(args[2])
    return repl.master.psync(c, args[1].decode("utf-8", "replace"), offset)  # type: ignore[no-any-return]


@command(
    "sync",
    1,
    "admin noscript no_multi",
    acl="",
    group=G,
    summary="An internal command used in replication",
    since="1.0.0",
    complexity="",
)
def sync(c: ClientState, args: list[bytes]) -> bytes:
    raise CommandError("ERR SYNC is not supported: pikadb replicas use PSYNC with binlog frames")
