"""CLIENT subcommands through redis-py (and raw sockets where replies are suppressed), with
replies, errors and the CLIENT LIST line format compared against a real redis-server."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable

import pytest
import redis
from tests.support.servers import PikaServer


def both(r: redis.Redis, rr: redis.Redis, *args: object) -> object:
    def run(c: redis.Redis) -> object:
        try:
            return c.execute_command(*args)
        except redis.ResponseError as e:
            return ("error", str(e))

    a, b = run(r), run(rr)
    assert a == b, (args, a, b)
    return a


def parse_line(line: str) -> dict[str, str]:
    return dict(field.split("=", 1) for field in line.split(" "))


def keys_of(line: str) -> list[str]:
    return [field.split("=", 1)[0] for field in line.split(" ")]


def info_line(c: redis.Redis) -> str:
    raw = c.execute_command("CLIENT", "INFO")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    assert text.endswith("\n")
    return text.rstrip("\n")


def exchange(port: int, payload: bytes, expect: int, timeout: float = 3.0) -> bytes:
    """Send raw RESP and read until ``expect`` bytes arrived (or the timeout passed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        out = b""
        deadline = time.monotonic() + timeout
        while len(out) < expect and time.monotonic() < deadline:
            try:
                chunk = s.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            out += chunk
        return out


def port_of(c: redis.Redis) -> int:
    return int(c.connection_pool.connection_kwargs["port"])


# --- ID / INFO / LIST ---------------------------------------------------------------------------
def test_client_id_and_info(r: redis.Redis, pika: PikaServer) -> None:
    cid = r.client_id()
    line = parse_line(info_line(r))
    assert int(line["id"]) == cid
    other = pika.client()
    assert other.client_id() > cid
    other.close()
    assert line["laddr"] == f"127.0.0.1:{pika.port}"
    assert line["cmd"] == "client|info"
    assert line["flags"] == "N"
    assert line["db"] == "0"
    assert line["multi"] == "-1"
    assert line["user"] == "default"
    assert line["name"] == ""
    old = pika.client(protocol=2)
    assert parse_line(info_line(old))["resp"] == "2"
    old.close()


def test_client_info_and_list_fields_match_redis(r: redis.Redis, rr: redis.Redis) -> None:
    assert keys_of(info_line(r)) == keys_of(info_line(rr))
    mine = r.execute_command("CLIENT", "LIST").decode()
    theirs = rr.execute_command("CLIENT", "LIST").decode()
    assert mine.endswith("\n")
    assert keys_of(mine.splitlines()[0]) == keys_of(theirs.splitlines()[0])


def test_client_info_reflects_state(pika: PikaServer) -> None:
    c = pika.client(protocol=3)
    c.execute_command("SELECT", 5)
    c.client_setname("worker-1")
    c.execute_command("CLIENT", "NO-EVICT", "on")
    line = parse_line(info_line(c))
    assert line["db"] == "5"
    assert line["name"] == "worker-1"
    assert line["resp"] == "3"
    assert line["flags"] == "e"
    addr = c.connection_pool.get_connection()
    try:
        local = addr._sock.getsockname()  # type: ignore[union-attr]
    finally:
        c.connection_pool.release(addr)
    assert line["addr"] == f"{local[0]}:{local[1]}"
    c.close()


def test_client_list_lines_and_filters(r: redis.Redis, pika: PikaServer) -> None:
    others = [pika.client() for _ in range(3)]
    ids = [o.client_id() for o in others]
    for i, o in enumerate(others):
        o.client_setname(f"o{i}")
    listed = r.execute_command("CLIENT", "LIST").decode().splitlines()
    by_id = {int(parse_line(x)["id"]): parse_line(x) for x in listed}
    for i, cid in enumerate(ids):
        assert by_id[cid]["name"] == f"o{i}"
        assert by_id[cid]["cmd"] == "client|setname"
    assert by_id[r.client_id()]["cmd"] == "client|list"
    only = r.execute_command("CLIENT", "LIST", "ID", ids[1], 99999999, ids[0]).decode()
    assert [int(parse_line(x)["id"]) for x in only.splitlines()] == [ids[1], ids[0]]
    normal = r.execute_command("CLIENT", "LIST", "TYPE", "normal").decode().splitlines()
    assert {int(parse_line(x)["id"]) for x in normal} >= set(ids)
    for kind in ("pubsub", "master", "replica", "slave", "PUBSUB"):
        assert r.execute_command("CLIENT", "LIST", "TYPE", kind) == b""
    for o in others:
        o.close()


def test_client_list_errors(r: redis.Redis, rr: redis.Redis) -> None:
    both(r, rr, "CLIENT", "LIST", "TYPE", "x")
    both(r, rr, "CLIENT", "LIST", "ID", "abc")
    both(r, rr, "CLIENT", "LIST", "ID", "1", "2x")
    both(r, rr, "CLIENT", "LIST", "ID", "99999")
    both(r, rr, "CLIENT", "LIST", "foo")
    both(r, rr, "CLIENT", "LIST", "TYPE", "normal", "x")
    both(r, rr, "CLIENT", "LIST", "TYPE")
    both(r, rr, "CLIENT", "ID", "x")
    both(r, rr, "CLIENT", "INFO", "x")
    both(r, rr, "CLIENT")
    both(r, rr, "CLIENT", "NOSUCH")


# --- SETNAME / GETNAME ----------------------------------------------------------------------------
def test_setname_getname(r: redis.Redis, rr: redis.Redis) -> None:
    both(r, rr, "CLIENT", "GETNAME")
    both(r, rr, "CLIENT", "SETNAME", "a b")
    both(r, rr, "CLIENT", "SETNAME", "a\nb")
    both(r, rr, "CLIENT", "SETNAME", "caf\xe9")
    both(r, rr, "CLIENT", "SETNAME", "my-conn_1!~")
    both(r, rr, "CLIENT", "GETNAME")
    both(r, rr, "CLIENT", "SETNAME", "")
    both(r, rr, "CLIENT", "GETNAME")
    both(r, rr, "CLIENT", "SETNAME")
    both(r, rr, "CLIENT", "SETNAME", "a", "b")


def test_hello_setname_shows_in_list(pika: PikaServer) -> None:
    c = pika.client()
    c.execute_command("HELLO", "3", "SETNAME", "via-hello")
    assert parse_line(info_line(c))["name"] == "via-hello"
    c.close()


# --- KILL -------------------------------------------------------------------------------------------
def test_kill_errors(r: redis.Redis, rr: redis.Redis) -> None:
    for args in [
        ("1.2.3.4:5",),
        ("id", "x"),
        ("id", "0"),
        ("id", "-3"),
        ("type", "foo", "x"),
        ("type", "foo"),
        ("user", "nobody"),
        ("skipme", "maybe"),
        ("id",),
        ("id", "999999"),
        ("foo", "bar"),
        ("id", "1", "type"),
        ("addr", "1.2.3.4:5", "skipme", "yes"),
        ("laddr", "1.2.3.4:5"),
    ]:
        both(r, rr, "CLIENT", "KILL", *args)
    both(r, rr, "CLIENT", "KILL")


class RawClient:
    """A bare socket connection (redis-py would silently reconnect a killed client)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)

    def call(self, line: bytes) -> bytes:
        self.sock.sendall(line + b"\r\n")
        return self.sock.recv(65536)

    def closed(self) -> bool:
        try:
            self.sock.sendall(b"PING\r\n")
            return self.sock.recv(100) == b""
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()


def test_kill_by_addr_old_form(r: redis.Redis, pika: PikaServer) -> None:
    victim = RawClient(pika.port)
    body = victim.call(b"CLIENT INFO")
    addr = parse_line(body.split(b"\r\n")[1].decode().strip())["addr"]
    assert r.execute_command("CLIENT", "KILL", addr)
    assert victim.closed()
    victim.close()
    with pytest.raises(redis.ResponseError, match="No such client"):
        r.execute_command("CLIENT", "KILL", addr)


def test_kill_filters(r: redis.Redis, pika: PikaServer) -> None:
    a, b = pika.client(), pika.client()
    a_id, b_id = a.client_id(), b.client_id()
    assert r.execute_command("CLIENT", "KILL", "ID", a_id) == 1
    assert r.execute_command("CLIENT", "KILL", "ID", a_id) == 0
    b_addr = parse_line(info_line(b))["addr"]
    assert r.execute_command("CLIENT", "KILL", "ADDR", b_addr, "ID", b_id + 1000) == 0
    assert r.execute_command("CLIENT", "KILL", "ADDR", b_addr, "USER", "default") == 1
    assert r.execute_command("CLIENT", "KILL", "ID", b_id) == 0
    me = parse_line(info_line(r))
    assert r.execute_command("CLIENT", "KILL", "ID", me["id"]) == 0  # SKIPME yes by default
    assert r.execute_command("CLIENT", "KILL", "ADDR", me["addr"], "SKIPME", "yes") == 0
    assert r.execute_command("CLIENT", "KILL", "LADDR", "1.2.3.4:1") == 0
    a.close()
    b.close()


def test_kill_self_replies_then_closes(pika: PikaServer) -> None:
    me = RawClient(pika.port)
    my_id = int(me.call(b"CLIENT ID")[1:].strip())
    me.sock.sendall(b"CLIENT KILL ID %d SKIPME no\r\nPING\r\n" % my_id)
    out = b""
    while chunk := me.sock.recv(4096):
        out += chunk
    assert out == b":1\r\n"
    me.close()


def test_kill_by_type_normal(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    me = srv.client()
    others = [srv.client() for _ in range(3)]
    for o in others:
        o.ping()
    assert me.execute_command("CLIENT", "KILL", "TYPE", "normal") == 3
    assert me.ping()
    assert me.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 0
    assert me.execute_command("CLIENT", "KILL", "TYPE", "master") == 0
    lines = me.execute_command("CLIENT", "LIST").decode().splitlines()
    assert len(lines) == 1
    for o in others:
        o.close()


# --- NO-EVICT / REPLY / SETINFO / HELP ----------------------------------------------------------------
def test_no_evict(r: redis.Redis, rr: redis.Redis) -> None:
    both(r, rr, "CLIENT", "NO-EVICT", "on")
    assert parse_line(info_line(r))["flags"] == "e"
    both(r, rr, "CLIENT", "NO-EVICT", "OFF")
    assert parse_line(info_line(r))["flags"] == "N"
    both(r, rr, "CLIENT", "NO-EVICT", "maybe")
    both(r, rr, "CLIENT", "NO-EVICT")


def test_reply_off_on(r: redis.Redis, rr: redis.Redis) -> None:
    payload = b"CLIENT REPLY OFF\r\nPING\r\nSET k v\r\nCLIENT REPLY ON\r\nPING\r\nGET k\r\n"
    want = b"+OK\r\n+PONG\r\n$1\r\nv\r\n"
    assert exchange(port_of(rr), payload, len(want)) == want
    assert exchange(port_of(r), payload, len(want)) == want
    both(r, rr, "CLIENT", "REPLY", "maybe")


def test_reply_skip(r: redis.Redis, rr: redis.Redis) -> None:
    payload = b"CLIENT REPLY SKIP\r\nECHO a\r\nECHO b\r\n"
    want = b"$1\r\nb\r\n"
    assert exchange(port_of(rr), payload, len(want)) == want
    assert exchange(port_of(r), payload, len(want)) == want


def test_setinfo(r: redis.Redis) -> None:
    assert r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "mylib")
    assert r.execute_command("CLIENT", "SETINFO", "lib-ver", "1.2.3")
    with pytest.raises(redis.ResponseError, match=r"^Unrecognized option 'foo'$"):
        r.execute_command("CLIENT", "SETINFO", "foo", "x")
    with pytest.raises(redis.ResponseError, match=r"^LIB-NAME cannot contain spaces"):
        r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "a b")
    with pytest.raises(
        redis.ResponseError, match=re.escape("wrong number of arguments for 'client|setinfo'")
    ):
        r.execute_command("CLIENT", "SETINFO", "LIB-NAME")


def test_help_matches_redis(r: redis.Redis, rr: redis.Redis) -> None:
    assert both(r, rr, "CLIENT", "HELP")
    both(r, rr, "CLIENT", "HELP", "x")


def _blocked_pop(port: int, out: list[object]) -> threading.Thread:
    def run() -> None:
        c = redis.Redis(port=port, socket_timeout=10)
        try:
            out.append(c.blpop(["unblock-never"], 0))
        except redis.ResponseError as exc:
            out.append(str(exc))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _blocked_id(r: redis.Redis) -> int:
    for _ in range(200):
        for cl in r.client_list():
            if cl["cmd"] == "blpop" and "b" in cl["flags"]:
                return int(cl["id"])
        time.sleep(0.01)
    raise AssertionError("no blocked client")


@pytest.mark.parametrize("reason", [None, "TIMEOUT", "timeout", "ERROR"])
def test_client_unblock(pika: PikaServer, r: redis.Redis, reason: str | None) -> None:
    out: list[object] = []
    t = _blocked_pop(pika.port, out)
    cid = _blocked_id(r)
    extra = () if reason is None else (reason,)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, *extra) == 1
    t.join(5)
    if reason == "ERROR":
        assert out == ["UNBLOCKED client unblocked via CLIENT UNBLOCK"]
    else:
        assert out == [None]
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 0  # no longer blocked


def test_client_unblock_errors(r: redis.Redis, rr: redis.Redis) -> None:
    my_id = r.client_id()
    assert r.execute_command("CLIENT", "UNBLOCK", my_id) == 0
    assert r.execute_command("CLIENT", "UNBLOCK", 999999) == 0
    for args in (
        ("CLIENT", "UNBLOCK", "1", "bogus"),
        ("CLIENT", "UNBLOCK", "x"),
        ("CLIENT", "UNBLOCK", "x", "bogus"),
        ("CLIENT", "UNBLOCK", "1", "ERROR", "more"),
        ("CLIENT", "UNBLOCK"),
    ):
        both(r, rr, *args)
