"""ACL as pikadb configures it: ``user`` lines, ``aclfile``, ``requirepass`` (the default
user's password), Pika's ``userpass`` / ``userblacklist`` limited user, ``rename-command``,
protected mode, ACL CAT from the command table, ACL LOG limits, acl-pubsub-default.

Redis's own ACL behaviour (acl.tcl / acl-v2.tcl scenarios) is compared with a real
redis-server in tests/differential/test_acl.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from tests.support.servers import PikaServer, free_port

USERS = "alice on >alicepw ~a:* +@read +@connection\nuser bob on nopass ~* &* +@all -flushall (+set ~b:*)"


@pytest.fixture(scope="module")
def configured() -> Iterator[PikaServer]:
    """requirepass, two ``user`` lines, Pika's limit user, two renamed commands."""
    srv = PikaServer(
        args=[
            "--set",
            "requirepass=adminpw",
            "--set",
            f"user={USERS}",
            "--set",
            "userpass=limitpw",
            "--set",
            "userblacklist=FLUSHALL, keys ,config",
            "--set",
            'rename-command=flushdb "", echo pikaecho',
        ]
    ).start()
    yield srv
    srv.cleanup()


def _client(srv: PikaServer, **kw: object) -> redis.Redis:
    """A client that doesn't retry (a refused AUTH fails at once)."""
    return srv.client(retry=Retry(NoBackoff(), 0), **kw)


def _raw(client: redis.Redis, *args: object) -> object:
    """A reply without redis-py's callbacks (its COMMAND parser expects COMMAND INFO)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


def _err(fn: Callable[[], object]) -> str:
    with pytest.raises(redis.exceptions.ResponseError) as e:
        fn()
    return str(e.value)


def test_user_lines_and_requirepass(configured: PikaServer) -> None:
    anon = _client(configured)
    with pytest.raises(redis.AuthenticationError):
        anon.ping()
    admin = _client(configured, password="adminpw")
    assert admin.acl_whoami() == "default"
    listed = admin.acl_list()
    assert "user alice on #" in listed[0] and listed[0].endswith(
        "~a:* resetchannels -@all +@read +@connection"
    )
    assert listed[1] == "user bob on nopass ~* &* +@all -flushall (~b:* resetchannels -@all +set)"
    alice = _client(configured, username="alice", password="alicepw")
    assert alice.get("a:1") is None
    assert "no permissions" in _err(lambda: alice.set("a:1", "x"))
    assert "no permissions" in _err(lambda: alice.get("other"))
    bob = _client(configured, username="bob", password="anything")
    assert bob.set("k", "v") and bob.get("k") == b"v"
    assert _err(bob.flushall) == "this user has no permissions to run the 'flushall' command"
    with pytest.raises(redis.AuthenticationError):
        _client(configured, username="alice", password="wrong").ping()


def test_config_set_requirepass_updates_default_user(configured: PikaServer) -> None:
    admin = _client(configured, password="adminpw")
    try:
        admin.config_set("requirepass", "newpw")
        assert admin.ping()  # the live connection stays authenticated
        with pytest.raises(redis.AuthenticationError):
            _client(configured, password="adminpw").ping()
        assert _client(configured, password="newpw").acl_whoami() == "default"
        assert admin.config_get("requirepass") == {"requirepass": "newpw"}
    finally:
        _client(configured, password="newpw").config_set("requirepass", "adminpw")
    assert _client(configured, password="adminpw").ping()


def test_pika_limit_user(configured: PikaServer) -> None:
    lim = _client(configured, password="limitpw")
    assert lim.acl_whoami() == "limit"
    assert lim.set("x", "1") and lim.get("x") == b"1"
    for fn in (lim.flushall, lambda: lim.keys("*"), lambda: lim.config_get("port")):
        assert "no permissions" in _err(fn)
    admin = _client(configured, password="adminpw")
    assert admin.acl_whoami() == "default"
    assert "limit" in admin.acl_users()
    getuser = admin.acl_getuser("limit")
    assert getuser["flags"] == ["on"] and getuser["keys"] == ["~*"]
    # the blacklist follows CONFIG SET, for clients already logged in too
    admin.config_set("userblacklist", "get")
    assert "no permissions" in _err(lambda: lim.get("x"))
    assert lim.keys("*") is not None
    admin.config_set("userpass", "")
    assert "limit" not in admin.acl_users()
    admin.config_set("userpass", "limitpw", "userblacklist", "FLUSHALL,keys,config")


def test_rename_command(configured: PikaServer) -> None:
    admin = _client(configured, password="adminpw")
    assert _err(admin.flushdb).startswith("unknown command 'FLUSHDB'")
    assert _err(lambda: admin.execute_command("ECHO", "x")).startswith("unknown command")
    assert admin.execute_command("PIKAECHO", "x") == b"x"
    # as in Redis, COMMAND shows a renamed command under its original name (its fullname)
    # and forgets a disabled one; COMMAND INFO finds it by the new name only
    names = {n.decode() for n in _raw(admin, "COMMAND", "LIST")}  # type: ignore[union-attr]
    assert "flushdb" not in names and "echo" in names and "pikaecho" not in names
    assert _raw(admin, "COMMAND", "DOCS", "flushdb") in ({}, [])
    assert _raw(admin, "COMMAND", "DOCS", "echo") in ({}, [])
    assert b"echo" in _raw(admin, "COMMAND", "DOCS", "pikaecho")  # type: ignore[operator]
    assert _raw(admin, "COMMAND", "COUNT") == len([n for n in names if "|" not in n])
    # ACL rules keep using the original names (Redis's orig_commands)
    admin.execute_command("ACL", "SETUSER", "ren", "on", "nopass", "-@all", "+echo")
    ren = _client(configured, username="ren", password="x")
    assert ren.execute_command("PIKAECHO", "x") == b"x"
    assert "+echo" in admin.acl_getuser("ren")["commands"]
    admin.acl_deluser("ren")


def test_acl_cat_comes_from_the_command_table(configured: PikaServer) -> None:
    admin = _client(configured, password="adminpw")
    cats = admin.acl_cat()
    assert cats[:3] == ["keyspace", "read", "write"] and len(cats) == 21
    for cat in ("read", "string", "dangerous", "connection", "scripting"):
        listed = set(admin.acl_cat(cat))
        table = {
            n.decode()
            for n in _raw(admin, "COMMAND", "LIST", "FILTERBY", "ACLCAT", cat)  # type: ignore[union-attr]
        }
        # the renamed/disabled commands stay in ACL CAT under their original names
        assert listed - {"flushdb"} == table, cat
    assert "get" in admin.acl_cat("read") and "config|get" in admin.acl_cat("admin")
    assert "flushdb" in admin.acl_cat("keyspace")


@pytest.fixture(scope="module")
def open_server() -> Iterator[tuple[PikaServer, str]]:
    """Listening on every interface, no password (protected mode applies), with an
    aclfile, acl-pubsub-default allchannels and a 3-entry ACL LOG."""
    acl_dir = tempfile.mkdtemp(prefix="pikadb-aclfile-")
    aclfile = os.path.join(acl_dir, "users.acl")
    with open(aclfile, "w") as f:
        f.write("user carol on >carolpw ~c:* +@all\n")
    srv = PikaServer(
        args=[
            "--set",
            "bind=0.0.0.0",
            "--set",
            f"aclfile={aclfile}",
            "--set",
            "acl-pubsub-default=allchannels",
            "--set",
            "acllog-max-len=3",
        ]
    ).start()
    yield srv, aclfile
    srv.cleanup()


def _external_ip() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.123", 9))  # no packet is sent: just picks the outgoing interface
        return str(s.getsockname()[0])


def _first_reply(host: str, port: int) -> bytes:
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"PING\r\n")
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_protected_mode(open_server: tuple[PikaServer, str]) -> None:
    srv, _ = open_server
    ip = _external_ip()
    assert not ip.startswith("127.")
    reply = _first_reply(ip, srv.port)
    assert reply.startswith(b"-DENIED Redis is running in protected mode because protected mode ")
    assert reply.endswith(b"accepting connections from the outside.\r\n")
    assert _first_reply("127.0.0.1", srv.port) == b"+PONG\r\n"
    local = _client(srv)
    local.config_set("protected-mode", "no")
    assert _first_reply(ip, srv.port) == b"+PONG\r\n"
    local.config_set("protected-mode", "yes")
    local.execute_command("ACL", "SETUSER", "default", ">pw")  # a password: allowed again
    try:
        assert _first_reply(ip, srv.port) == b"-NOAUTH Authentication required.\r\n"
    finally:
        local.execute_command("ACL", "SETUSER", "default", "nopass")


def test_aclfile_loaded_at_start_and_saved(open_server: tuple[PikaServer, str]) -> None:
    srv, aclfile = open_server
    r = _client(srv)
    carol = _client(srv, username="carol", password="carolpw")
    assert carol.set("c:1", "x")
    assert "no permissions" in _err(lambda: carol.get("d:1"))
    r.execute_command("ACL", "SETUSER", "dave", "on", ">davepw", "~d:*", "+get")
    assert r.execute_command("ACL", "SAVE") == b"OK"
    with open(aclfile) as f:
        saved = f.read().splitlines()
    assert saved[0].startswith("user carol on #") and saved[0].endswith("~c:* &* +@all")
    assert saved[1].startswith("user dave on #") and saved[1].endswith("~d:* &* -@all +get")
    assert saved[2] == "user default on nopass ~* &* +@all"
    # ACL LOAD from the file: users defined only in memory disappear, their clients too
    r.execute_command("ACL", "SETUSER", "eve", "on", "nopass", "+@all")
    eve = _client(srv, username="eve", password="x")
    assert eve.ping()
    assert r.execute_command("ACL", "LOAD") == b"OK"
    assert "eve" not in r.acl_users()
    with pytest.raises(redis.exceptions.ConnectionError):
        eve.ping()
    with open(aclfile, "w") as f:
        f.write("user default on nopass ~* &* +@all\n")
    r.execute_command("ACL", "LOAD")


def test_pubsub_default_and_log_length(open_server: tuple[PikaServer, str]) -> None:
    srv, _ = open_server
    r = _client(srv)
    r.execute_command("ACL", "SETUSER", "newbie", "on", "nopass", "+@all", "~*")
    assert r.acl_getuser("newbie")["channels"] == ["&*"]
    r.execute_command("ACL", "SETUSER", "newbie", "reset", "on", "nopass", "+@all", "~*")
    assert r.acl_getuser("newbie")["channels"] == ["&*"]  # reset keeps allchannels
    r.execute_command("ACL", "LOG", "RESET")
    r.execute_command("ACL", "SETUSER", "newbie", "-get")
    newbie = _client(srv, username="newbie", password="x")
    for key in ("a", "b", "c", "d", "e"):
        with pytest.raises(redis.exceptions.NoPermissionError):
            newbie.execute_command("GET", key)
    r.execute_command("ACL", "SETUSER", "newbie", "+get", "resetkeys", "~z*")
    for key in ("a", "b", "c", "d", "e"):  # one entry per key: the length limit applies
        with pytest.raises(redis.exceptions.NoPermissionError):
            newbie.execute_command("GET", key)
    log = r.acl_log()
    assert len(log) == 3
    assert [e["object"] for e in log] == ["e", "d", "c"]
    r.config_set("acllog-max-len", "1")
    assert len(r.acl_log()) == 1
    r.config_set("acllog-max-len", "3")
    r.acl_deluser("newbie")


def test_bad_acl_configuration_refuses_to_start() -> None:
    acl_dir = tempfile.mkdtemp(prefix="pikadb-aclbad-")
    aclfile = os.path.join(acl_dir, "bad.acl")
    with open(aclfile, "w") as f:
        f.write("user x on +nosuchcommand\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pikadb", "server", "--port", str(free_port()), "--dir",
         acl_dir, "--set", f"aclfile={aclfile}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    out = proc.stdout.decode(errors="replace")
    assert "Error in applying operation '+nosuchcommand'" in out
