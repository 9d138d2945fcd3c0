"""MONITOR (Redis 7.0 replicationFeedMonitors; introspection.tcl's MONITOR cases).

The same commands run on pikadb and a real redis-server 7.0 with a monitor attached to each;
the monitors' streams must be equal once the timestamp and the client's port are masked:
which commands show (executed ones, errors included) and which don't (rejected, admin), the
MULTI / queued / EXEC order, the db after SELECT, sdscatrepr escaping, redaction.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import hiredis
import pytest
import redis
from tests.support.servers import PikaServer, RedisServer

LINE = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$")


class Raw:
    """A plain socket client: send commands, read whatever came back."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def send(self, *args: object) -> None:
        self.sock.sendall(
            hiredis.pack_command(tuple(str(a) if isinstance(a, int) else a for a in args))
        )

    def cmd(self, *args: object, first: float = 2.0) -> bytes:
        """Send one command, return the bytes that arrive within a short while."""
        self.send(*args)
        return self.read(first=first)

    def read(self, wait: float = 0.02, first: float = 2.0) -> bytes:
        out = b""
        self.sock.settimeout(first)
        try:
            while True:
                out += self.sock.recv(1 << 16)
                self.sock.settimeout(wait)
        except TimeoutError:
            pass
        return out

    def close(self) -> None:
        self.sock.close()


def masked(stream: bytes) -> list[bytes]:
    out = []
    for line in stream.split(b"\r\n"):
        if line:
            m = LINE.match(line)
            assert m, line
            who = m.group(4) if m.group(4) == b"lua" else b"ADDR"
            out.append(b"[%s %s] %s" % (m.group(3), who, m.group(5)))
    return out


def monitored(port: int, commands: list[tuple[object, ...]]) -> list[bytes]:
    mon, c = Raw(port), Raw(port)
    assert mon.cmd("MONITOR") == b"+OK\r\n"
    c.cmd("FLUSHALL")
    mon.read(first=0.5)  # drop the FLUSHALL line
    for args in commands:
        c.cmd(*args)
    lines = masked(mon.read(wait=0.2, first=1.0))
    mon.close()
    c.close()
    return lines


@pytest.fixture
def compare(pika: PikaServer, real_redis: RedisServer) -> Iterator[object]:
    def run(commands: list[tuple[object, ...]]) -> list[bytes]:
        ours = monitored(pika.port, commands)
        theirs = monitored(real_redis.port, commands)
        assert ours == theirs
        return ours

    yield run


def test_line_format(pika: PikaServer) -> None:
    mon, c = Raw(pika.port), Raw(pika.port)
    mon.cmd("MONITOR")
    before = time.time()
    c.cmd("SET", "k", "v")
    line = mon.read(first=2.0)
    m = LINE.match(line.rstrip(b"\r\n"))
    assert m is not None and line.endswith(b"\r\n") and line.count(b"\r\n") == 1
    assert abs(float(m.group(1) + b"." + m.group(2)) - before) < 2
    assert m.group(3) == b"0"
    host, port = m.group(4).rsplit(b":", 1)
    assert host == b"127.0.0.1" and int(port) == c.sock.getsockname()[1]
    assert m.group(5) == b'"SET" "k" "v"'
    mon.close()
    c.close()


def test_executed_commands_and_escaping(compare: object) -> None:
    lines = compare(
        [  # type: ignore[operator]
            ("SET", "k", "v"),
            ("set", 'a"b\\c', b"\x00\x01\n\r\t\x07\x08 \xc3\xa9\x7f\xff"),
            ("GET", "k"),
            ("INCR", "k"),  # replies an error: still shown
            ("LPUSH", "k", "x"),  # WRONGTYPE: still shown
            ("ECHO", ""),
            ("PING",),
        ]
    )
    assert lines[0] == b'[0 ADDR] "SET" "k" "v"'
    assert (
        lines[1] == b'[0 ADDR] "set" "a\\"b\\\\c" "\\x00\\x01\\n\\r\\t\\a\\b \\xc3\\xa9\\x7f\\xff"'
    )


def test_rejected_and_admin_commands_are_not_shown(compare: object) -> None:
    lines = compare(
        [  # type: ignore[operator]
            ("GET",),  # wrong arity
            ("NOSUCH", "x"),  # unknown
            ("CONFIG", "GET", "maxclients"),  # admin
            ("CONFIG", "NOSUCH"),
            ("CLIENT", "LIST"),  # admin subcommand...
            ("CLIENT", "ID"),  # ... but not this one
            ("DEBUG", "SLEEP", "0"),
            ("SLOWLOG", "LEN"),
            ("MONITOR",),
            ("INFO", "server"),
        ]
    )
    assert lines == [b'[0 ADDR] "CLIENT" "ID"', b'[0 ADDR] "INFO" "server"']


def test_multi_exec_order(compare: object) -> None:
    lines = compare([  # type: ignore[operator]
        ("MULTI",), ("SET", "foo", "bar"), ("EXEC",),
        ("MULTI",), ("syntax", "error"), ("EXEC",),  # EXECABORT: MULTI, then EXEC only
        ("MULTI",), ("SET", "x", "1"), ("SELECT", "3"), ("SET", "y", "2"), ("EXEC",),
        ("SELECT", "0"),
        ("MULTI",), ("MULTI",), ("WATCH", "x"), ("DISCARD",), ("DISCARD",), ("EXEC",),
    ])  # fmt: skip
    assert lines[:6] == [
        b'[0 ADDR] "MULTI"',
        b'[0 ADDR] "SET" "foo" "bar"',
        b'[0 ADDR] "EXEC"',
        b'[0 ADDR] "MULTI"',
        b'[0 ADDR] "EXEC"',
        b'[0 ADDR] "MULTI"',
    ]
    assert b'[3 ADDR] "EXEC"' in lines  # the db after the transaction's SELECT


def test_redaction(compare: object) -> None:
    lines = compare(
        [  # type: ignore[operator]
            ("AUTH", "not-real"),
            ("AUTH", "not-real", "not-a-password"),
            ("HELLO", "2", "AUTH", "not-real", "not-a-password"),
            ("HELLO", "2", "SETNAME", "foo"),
            ("HELLO", "3", "SETNAME", "bar", "AUTH", "u", "p"),
            ("HELLO", "2"),
        ]
    )
    assert lines[0] == b'[0 ADDR] "AUTH" "(redacted)"'
    assert lines[2] == b'[0 ADDR] "HELLO" "2" "AUTH" "(redacted)" "(redacted)"'


def test_monitor_client_restrictions(pika: PikaServer, real_redis: RedisServer) -> None:
    results = []
    for port in (pika.port, real_redis.port):
        m = Raw(port)
        got = [
            m.cmd("MONITOR"),
            m.cmd("SET", "mk", "1"),
            m.cmd("GET", "mk"),
            m.cmd("MONITOR", first=0.3),  # already monitoring: no reply at all
            m.cmd("PING"),  # reply first, then its own line
            m.cmd("MULTI"),
            m.cmd("PING"),
            m.cmd("EXEC"),
            m.cmd("RESET"),  # leaves monitor mode
            m.cmd("SET", "mk", "1"),
            m.cmd("MULTI"),
            m.cmd("MONITOR"),
            m.cmd("EXEC"),
        ]
        m.close()
        results.append([re.sub(rb"\d+\.\d{6} \[0 [^\]]+\]", b"T", g) for g in got])
    assert results[0] == results[1]
    ours = results[0]
    assert ours[1] == b"-ERR Replica can't interact with the keyspace\r\n"
    assert ours[3] == b""
    assert ours[4] == b'+PONG\r\n+T "PING"\r\n'
    assert ours[9] == b"+OK\r\n"
    assert ours[12] == b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n"


def test_several_monitors_and_disconnects(r: redis.Redis, pika: PikaServer) -> None:
    mons = [Raw(pika.port) for _ in range(3)]
    for m in mons:
        assert m.cmd("MONITOR") == b"+OK\r\n"
    mons[1].close()
    time.sleep(0.1)
    r.set("k", "v")
    for m in (mons[0], mons[2]):
        assert masked(m.read(first=2.0)) == [b'[0 ADDR] "SET" "k" "v"']
        m.close()
    time.sleep(0.1)
    r.set("k", "w")  # nobody left: nothing to feed
    assert r.get("k") == b"w"


def test_redis_py_monitor(r: redis.Redis, pika: PikaServer) -> None:
    other = pika.client()
    other.ping()  # (connected before the monitor starts: no HELLO / CLIENT SETINFO lines)
    with r.monitor() as m:
        other.set("hello", "world")
        cmd = m.next_command()
    assert cmd["command"] == "SET hello world" and cmd["db"] == 0
    other.close()


def test_scripts_show_as_lua(compare: object) -> None:
    lines = compare(
        [  # type: ignore[operator]
            ("EVAL", "redis.call('set', KEYS[1], ARGV[1]) return 1", "1", "foo", "bar"),
            ("MULTI",),
            ("EVAL", "return redis.call('incr', 'n')", "0"),
            ("EXEC",),
        ]
    )
    assert lines[0].startswith(b'[0 ADDR] "EVAL"')
    assert lines[1] == b'[0 lua] "set" "foo" "bar"'
    assert lines[4] == b'[0 lua] "incr" "n"' and lines[5] == b'[0 ADDR] "EXEC"'
