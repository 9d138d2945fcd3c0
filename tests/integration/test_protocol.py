"""The wire protocol against a real server, over raw sockets: malformed requests, limits,
inline commands, big pipelines, many clients, and redis-cli.

Malformed requests are checked differentially: the same bytes go to pikadb and to a real
redis-server, and the whole byte stream that comes back (until the server closes) must match.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from collections.abc import Callable

import hiredis
import pytest
import redis
from tests.support.servers import PikaServer, RedisServer


def enc(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def exchange(port: int, data: bytes, timeout: float = 5.0) -> tuple[bytes, bool]:
    """Send ``data``; return (everything read, whether the server closed the connection).

    Reads until the server closes or goes quiet for ``quiet`` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        s.settimeout(0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk
        return out, False


def read_replies(sock: socket.socket, n: int, timeout: float = 30.0) -> list[object]:
    reader = hiredis.Reader()
    replies: list[object] = []
    sock.settimeout(timeout)
    while len(replies) < n:
        chunk = sock.recv(1 << 16)
        assert chunk, f"server closed after {len(replies)} replies"
        reader.feed(chunk)
        r = reader.gets()
        while r is not False:
            replies.append(r)
            r = reader.gets()
    return replies


MALFORMED = [
    b"*abc\r\n",
    b"*1\r\n$x\r\n",
    b"*1\r\nx4\r\n",
    b"*1\r\n$-1\r\n",
    b"*3000000000\r\n",
    b"*1\r\n:1\r\n",  # an integer inside a request
    b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n",  # a nested array
    b"*2\r\n$4\r\nECHO\r\n+simple\r\n",
    b"*2\r\n$4\r\nECHO\r\n_\r\n",
    b'SET a "unbalanced\r\n',
    b"SET a 'x'y\r\n",
    b"*1\r\n$" + b"9" * 70000,
    b"*" + b"1" * 70000,
    b"x" * 70000,
    # commands before the bad request run and are answered first
    enc(b"SET", b"proto-k", b"1") + enc(b"INCR", b"proto-k") + b"*1\r\n$-5\r\n",
    b"PING\r\n" + enc(b"ECHO", b"hi") + b"*2\r\n$4\r\nECHO\r\n:7\r\n" + enc(b"PING"),
]


@pytest.mark.parametrize("data", MALFORMED, ids=lambda d: repr(d[:40]))
def test_malformed_request_same_as_redis(
    data: bytes, pika: PikaServer, real_redis: RedisServer
) -> None:
    want = exchange(real_redis.port, data)
    got = exchange(pika.port, data)
    assert want[1], "redis closes the connection after a protocol error"
    assert b"-ERR Protocol error: " in want[0]
    assert got == want


def test_protocol_error_leaves_server_and_data_alone(pika: PikaServer) -> None:
    c = pika.client()
    c.set("survivor", "still here")
    for data in MALFORMED:
        reply, closed = exchange(pika.port, data)
        assert closed and b"-ERR Protocol error: " in reply
    assert c.get("survivor") == b"still here"
    assert c.ping()
    other = pika.client()
    assert other.get("survivor") == b"still here"
    other.close()
    c.delete("survivor", "proto-k")
    c.close()


def test_huge_bulk_length_refused_at_once(pika: PikaServer) -> None:
    t0 = time.monotonic()
    reply, closed = exchange(pika.port, b"*1\r\n$1000000000000\r\n")
    assert reply == b"-ERR Protocol error: invalid bulk length\r\n"
    assert closed
    assert time.monotonic() - t0 < 3


def test_huge_multibulk_count_split_does_not_stall(pika: PikaServer) -> None:
    """A count announced in pieces (no args follow) is refused or held without cost."""
    with socket.create_connection(("127.0.0.1", pika.port)) as s:
        s.sendall(b"*2147")
        time.sleep(0.1)
        s.sendall(b"483647\r\n$1\r\na\r\n")
        time.sleep(0.1)
    t0 = time.monotonic()
    assert pika.client().ping()
    assert time.monotonic() - t0 < 2


def test_config_set_proto_max_bulk_len(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    assert c.config_set("proto-max-bulk-len", "1mb")
    assert c.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "1048576"}
    limit = 1 << 20
    ok = enc(b"SET", b"k", b"x" * limit)
    reply, closed = exchange(srv.port, ok)
    assert (reply, closed) == (b"+OK\r\n", False)
    reply, closed = exchange(srv.port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (limit + 1))
    assert (reply, closed) == (b"-ERR Protocol error: invalid bulk length\r\n", True)
    assert c.strlen("k") == limit
    c.close()


def test_config_set_proto_max_bulk_len_applies_to_open_connections(
    make_server: Callable[..., PikaServer],
) -> None:
    srv = make_server()
    with socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.sendall(enc(b"CONFIG", b"SET", b"proto-max-bulk-len", b"1048576"))
        assert read_replies(s, 1) == [b"OK"]
        s.sendall(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n")
        s.settimeout(5)
        assert s.recv(1000) == b"-ERR Protocol error: invalid bulk length\r\n"


def test_inline_commands(r: redis.Redis, pika: PikaServer) -> None:
    data = (
        b"PING\r\n"
        b"SET greeting 'hello world'\r\n"
        b"GET greeting\n"
        b'ECHO "tab\\there \\x41\\x42"\r\n'
        b"\r\n"
        b"   \r\n"
        b"  incr   counter  \r\n"
        b"ECHO\r\n"
    )
    reply, closed = exchange(pika.port, data)
    assert not closed
    assert reply == (
        b"+PONG\r\n+OK\r\n$11\r\nhello world\r\n$11\r\ntab\there AB\r\n:1\r\n"
        b"-ERR wrong number of arguments for 'echo' command\r\n"
    )
    assert r.get("greeting") == b"hello world"


def test_inline_and_multibulk_mixed_in_one_write(r: redis.Redis, pika: PikaServer) -> None:
    data = b"SET a 1\r\n" + enc(b"INCR", b"a") + b"INCR a\r\n" + enc(b"GET", b"a")
    assert exchange(pika.port, data) == (b"+OK\r\n:2\r\n:3\r\n$1\r\n3\r\n", False)


def test_request_split_across_many_writes(r: redis.Redis, pika: PikaServer) -> None:
    data = enc(b"SET", b"split", b"v" * 5000) + enc(b"GET", b"split")
    with socket.create_connection(("127.0.0.1", pika.port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(data), 7):
            s.sendall(data[i : i + 7])
            if i % 700 == 0:
                time.sleep(0.001)
        assert read_replies(s, 2) == [b"OK", b"v" * 5000]


def test_pipeline_of_10k_commands_in_one_write(r: redis.Redis, pika: PikaServer) -> None:
    n = 10_000
    data = b"".join(enc(b"INCR", b"pipelined") for _ in range(n))
    with socket.create_connection(("127.0.0.1", pika.port)) as s:
        sender = threading.Thread(target=s.sendall, args=(data,))
        sender.start()
        replies = read_replies(s, n)
        sender.join()
    assert replies == list(range(1, n + 1))
    assert r.get("pipelined") == b"%d" % n


def test_pipeline_of_mixed_sizes(r: redis.Redis, pika: PikaServer) -> None:
    cmds = []
    for i in range(2000):
        value = b"x" * (i * 37 % 3000)
        cmds.append(enc(b"SET", b"m%d" % i, value))
        cmds.append(enc(b"STRLEN", b"m%d" % i))
    data = b"".join(cmds)
    with socket.create_connection(("127.0.0.1", pika.port)) as s:
        sender = threading.Thread(target=s.sendall, args=(data,))
        sender.start()
        replies = read_replies(s, len(cmds))
        sender.join()
    want: list[object] = []
    for i in range(2000):
        want += [b"OK", i * 37 % 3000]
    assert replies == want


def test_200_concurrent_clients(r: redis.Redis, pika: PikaServer) -> None:
    async def client(i: int) -> list[object]:
        reader, writer = await asyncio.open_connection("127.0.0.1", pika.port)
        key = b"client:%d" % i
        replies: list[object] = []
        parser = hiredis.Reader()
        for j in range(10):
            writer.write(enc(b"SET", key, b"%d" % j) + enc(b"GET", key) + enc(b"INCR", b"shared"))
            await writer.drain()
            got: list[object] = []
            while len(got) < 3:
                parser.feed(await reader.read(4096))
                x = parser.gets()
                while x is not False:
                    got.append(x)
                    x = parser.gets()
            replies += got[:2]
        writer.close()
        await writer.wait_closed()
        return replies

    async def main() -> list[list[object]]:
        return await asyncio.gather(*(client(i) for i in range(200)))

    results = asyncio.run(asyncio.wait_for(main(), 60))
    for res in results:
        assert res == [x for j in range(10) for x in (b"OK", b"%d" % j)]
    assert r.get("shared") == b"2000"


def test_redis_cli(r: redis.Redis, pika: PikaServer) -> None:
    out = subprocess.run(
        ["redis-cli", "-p", str(pika.port), "ping"], capture_output=True, text=True, timeout=20
    )
    assert (out.returncode, out.stdout) == (0, "PONG\n")
    out = subprocess.run(
        ["redis-cli", "-p", str(pika.port), "set", "cli key", "a b c"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert out.stdout == "OK\n"
    assert r.get("cli key") == b"a b c"


def test_redis_cli_commands_from_stdin(r: redis.Redis, pika: PikaServer) -> None:
    script = "SET k1 \"hello world\"\nGET k1\nINCR n\nINCR n\nECHO 'x y'\n"
    out = subprocess.run(
        ["redis-cli", "-p", str(pika.port)],
        input=script,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert out.returncode == 0
    assert out.stdout == "OK\nhello world\n1\n2\nx y\n"


def test_redis_cli_pipe_mode(r: redis.Redis, pika: PikaServer) -> None:
    data = b"".join(enc(b"SET", b"pipe:%d" % i, b"v") for i in range(1000))
    out = subprocess.run(
        ["redis-cli", "-p", str(pika.port), "--pipe"], input=data, capture_output=True, timeout=30
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert b"errors: 0, replies: 1000" in out.stdout
    assert r.dbsize() == 1000


def test_unauthenticated_request_limits(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server("--set", "requirepass=pw")
    assert exchange(srv.port, b"*100\r\n") == (
        b"-ERR Protocol error: unauthenticated multibulk length\r\n",
        True,
    )
    assert exchange(srv.port, b"*1\r\n$100000\r\n") == (
        b"-ERR Protocol error: unauthenticated bulk length\r\n",
        True,
    )
