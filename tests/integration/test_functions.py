"""FUNCTION * and FCALL / FCALL_RO: Redis 7.0 behaviour, persistence across restarts, and
FUNCTION DUMP / RESTORE payloads moving between pikadb and a real redis-server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import NULL_BULK, Err, Side, Status
from tests.support.servers import PikaServer

LIB = """#!lua name=mylib
redis.register_function('f1', function(keys, args) return {keys, args} end)
redis.register_function{function_name='f2', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end, description='desc2'}
redis.register_function{function_name='f3', callback=function() return 3 end, flags={'no-writes'}}
"""


@pytest.fixture
def raw(pika: PikaServer, r: redis.Redis) -> Iterator[Callable[..., Any]]:
    side = Side("pikadb", pika.port, 2)
    assert side.call("FUNCTION", "FLUSH") == Status(b"OK")
    yield side.call
    side.call("FUNCTION", "FLUSH")
    side.close()


def _functions(listing: list[Any]) -> dict[bytes, dict[bytes, Any]]:
    """FUNCTION LIST as {library: {field: value}} with functions sorted by name."""
    out = {}
    for lib in listing:
        d = dict(zip(lib[::2], lib[1::2], strict=True))
        d[b"functions"] = sorted(
            (dict(zip(f[::2], f[1::2], strict=True)) for f in d[b"functions"]),
            key=lambda f: f[b"name"],
        )
        out[d[b"library_name"]] = d
    return out


def test_load_list_call_delete(raw: Callable[..., Any]) -> None:
    assert raw("FUNCTION", "LOAD", LIB) == b"mylib"
    assert raw("FUNCTION", "LOAD", LIB) == Err("ERR Library 'mylib' already exists")
    assert raw("FUNCTION", "LOAD", "REPLACE", LIB) == b"mylib"
    assert raw("FCALL", "f1", 2, "a", "b", "c") == [[b"a", b"b"], [b"c"]]
    assert raw("FCALL", "F1", 0) == [[], []]  # function names are case-insensitive
    assert raw("FCALL", "f2", 1, "k", "v") == Status(b"OK")
    assert raw("GET", "k") == b"v"
    assert raw("FCALL_RO", "f3", 0) == 3
    assert raw("FCALL_RO", "f2", 1, "k", "v") == Err(
        "ERR Can not execute a script with write flag using *_ro command."
    )
    assert raw("FCALL", "nosuch", 0) == Err("ERR Function not found")
    assert raw("FCALL", "f1", -1) == Err("ERR Number of keys can't be negative")
    assert raw("FCALL", "f1", 5) == Err("ERR Number of keys can't be greater than number of args")
    assert raw("FCALL", "f1", "x") == Err("ERR Bad number of keys provided")
    listing = _functions(raw("FUNCTION", "LIST"))
    assert list(listing) == [b"mylib"]
    lib = listing[b"mylib"]
    assert lib[b"engine"] == b"LUA"
    assert lib[b"functions"] == [
        {b"name": b"f1", b"description": NULL_BULK, b"flags": []},
        {b"name": b"f2", b"description": b"desc2", b"flags": []},
        {b"name": b"f3", b"description": NULL_BULK, b"flags": [Status(b"no-writes")]},
    ]
    assert b"library_code" not in lib
    coded = _functions(raw("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "my*"))
    assert coded[b"mylib"][b"library_code"] == LIB.encode()
    assert raw("FUNCTION", "LIST", "LIBRARYNAME", "x*") == []
    assert raw("FUNCTION", "LIST", "LIBRARYNAME") == Err("ERR library name argument was not given")
    assert raw("FUNCTION", "LIST", "foo") == Err("ERR Unknown argument foo")
    stats = raw("FUNCTION", "STATS")
    assert stats == [
        b"running_script",
        NULL_BULK,
        b"engines",
        [b"LUA", [b"libraries_count", 1, b"functions_count", 3]],
    ]
    assert raw("FUNCTION", "DELETE", "nosuch") == Err("ERR Library not found")
    assert raw("FUNCTION", "DELETE", "mylib") == Status(b"OK")
    assert raw("FCALL", "f1", 0) == Err("ERR Function not found")
    assert raw("FUNCTION", "KILL") == Err("NOTBUSY No scripts in execution right now.")
    assert raw("FUNCTION", "FLUSH", "x") == Err(
        "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
    )


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("redis.register_function('x', function() end)", "ERR Missing library metadata"),
        ("#!lua\nredis.register_function('x', function() end)", "ERR Library name was not given"),
        ("#!lua name=l foo=bar\nredis.register_function('x', function() end)", "ERR Invalid metadata value given: foo=bar"),
        ("#!lua name=l name=m\nredis.register_function('x', function() end)", "ERR Invalid metadata value, name argument was given multiple times"),
        ("#!py name=l\nredis.register_function('x', function() end)", "ERR Engine 'py' not found"),
        ("#!lua name=l-2\nredis.register_function('x', function() end)", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=l\nreturn 1", "ERR No functions registered"),
        ("#!lua name=l\nredis.register_function('x-y', function() end)", "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=l\nredis.register_function('x', 1)", "ERR Error registering functions: ERR second argument to redis.register_function must be a function"),
        ("#!lua name=l\nredis.register_function('x')", "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
        ("#!lua name=l\nredis.register_function{function_name='x'}", "ERR Error registering functions: ERR redis.register_function must get a callback argument"),
        ("#!lua name=l\nredis.register_function{callback=function() end}", "ERR Error registering functions: ERR redis.register_function must get a function name argument"),
        ("#!lua name=l\nredis.register_function{function_name='x', callback=function() end, flags={'bad'}}", "ERR Error registering functions: ERR unknown flag given"),
        ("#!lua name=l\nredis.register_function{function_name='x', callback=function() end, foo=1}", "ERR Error registering functions: ERR unknown argument given to redis.register_function"),
        ("#!lua name=l\nredis.register_function('x', function() end)\nredis.register_function('x', function() end)", "ERR Error registering functions: ERR Function already exists in the library"),
        ("#!lua name=l\nredis.call('ping')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ("#!lua name=l\nlocal s = string.format('%d', 1)", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'string'"),
        ("#!lua name=l\nsyntax error", "ERR Error compiling function: user_function:2: '=' expected near 'error'"),
        ("#!lua name=l\nx = 1", "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
    ],
)  # fmt: skip
def test_load_errors(raw: Callable[..., Any], code: str, error: str) -> None:
    assert raw("FUNCTION", "LOAD", code) == Err(error)


def test_function_collisions_and_options(raw: Callable[..., Any]) -> None:
    assert raw("FUNCTION", "LOAD", "#!lua name=a\nredis.register_function('f', function() return 'a' end)") == b"a"  # fmt: skip
    assert raw(
        "FUNCTION", "LOAD", "#!lua name=b\nredis.register_function('F', function() end)"
    ) == Err("ERR Function F already exists")
    assert raw("FUNCTION", "LOAD", "FOO", "#!lua name=c\nredis.register_function('g', function() end)") == Err(
        "ERR Unknown option given: FOO"
    )  # fmt: skip
    assert raw("FCALL", "f", 0) == b"a"  # the failed loads changed nothing


def test_function_runtime(raw: Callable[..., Any]) -> None:
    code = """#!lua name=rt
redis.register_function('x', function() error('oops') end)
redis.register_function('y', function() return redis.call('nosuch') end)
redis.register_function('z', function() return zz end)
redis.register_function{function_name='ro', callback=function(keys) return redis.call('set', keys[1], 1) end, flags={'no-writes'}}
redis.register_function('g', function() local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t end)
"""
    assert raw("FUNCTION", "LOAD", code) == b"rt"
    assert raw("FCALL", "x", 0) == Err("ERR user_function:2: oops script: x, on @user_function:2.")
    assert raw("FCALL", "y", 0) == Err(
        "ERR Unknown Redis command called from script script: y, on @user_function:3."
    )
    assert raw("FCALL", "z", 0) == Err(
        "ERR user_function:4: Script attempted to access nonexistent global variable 'zz' "
        "script: z, on @user_function:4."
    )
    assert raw("FCALL", "ro", 1, "k") == Err(
        "ERR Write commands are not allowed from read-only scripts. script: ro, on @user_function:5."
    )
    assert b"KEYS" not in raw("FCALL", "g", 0)
    assert b"redis" in raw("FCALL", "g", 0)


def test_dump_restore_roundtrip(raw: Callable[..., Any]) -> None:
    assert raw("FUNCTION", "LOAD", LIB) == b"mylib"
    other = "#!lua name=other\nredis.register_function('o', function() return 'o' end)"
    assert raw("FUNCTION", "LOAD", other) == b"other"
    payload = raw("FUNCTION", "DUMP")
    assert raw("FUNCTION", "RESTORE", payload) == Err("ERR Library mylib already exists")
    assert raw("FUNCTION", "RESTORE", payload, "REPLACE") == Status(b"OK")
    assert raw("FUNCTION", "FLUSH") == Status(b"OK")
    assert raw("FUNCTION", "RESTORE", payload) == Status(b"OK")
    assert sorted(_functions(raw("FUNCTION", "LIST"))) == [b"mylib", b"other"]
    assert raw("FCALL", "o", 0) == b"o"
    assert raw("FUNCTION", "DELETE", "other") == Status(b"OK")
    assert raw("FUNCTION", "RESTORE", payload, "FLUSH") == Status(b"OK")
    assert sorted(_functions(raw("FUNCTION", "LIST"))) == [b"mylib", b"other"]
    assert raw("FUNCTION", "RESTORE", "garbage") == Err(
        "ERR DUMP payload version or checksum are wrong"
    )
    assert raw("FUNCTION", "RESTORE", payload, "BAD") == Err(
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    )


def test_dump_restore_across_redis(raw: Callable[..., Any], rr: redis.Redis) -> None:
    rr.function_flush()
    assert raw("FUNCTION", "LOAD", LIB) == b"mylib"
    ours = raw("FUNCTION", "DUMP")
    assert rr.function_restore(ours) in (b"OK", True, "OK")
    assert rr.fcall("f3", 0) == 3
    rr.function_load("#!lua name=theirs\nredis.register_function('t', function() return 't' end)")
    theirs = rr.function_dump()
    assert raw("FUNCTION", "RESTORE", theirs, "FLUSH") == Status(b"OK")
    assert raw("FCALL", "t", 0) == b"t"
    assert raw("FCALL", "f1", 1, "a") == [[b"a"], []]
    rr.function_flush()


def test_functions_survive_restart(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    assert c.function_load(LIB) == b"mylib"
    c.function_load("#!lua name=gone\nredis.register_function('gone', function() return 1 end)")
    c.function_delete("gone")
    c.flushall()  # FLUSHALL leaves functions alone
    srv.restart()
    c = srv.client()
    assert c.fcall("f3", 0) == 3
    assert c.fcall("f2", 1, "k", "v") == b"OK"
    with pytest.raises(redis.ResponseError, match="Function not found"):
        c.fcall("gone", 0)
    c.function_flush()
    srv.restart()
    assert srv.client().function_list() == []


def test_busy_function_and_function_kill(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server("--set", "busy-reply-threshold=100")
    runner, other = Side("runner", srv.port), Side("other", srv.port)
    code = "#!lua name=busy\nredis.register_function('spin', function() while true do end end)"
    assert runner.call("FUNCTION", "LOAD", code) == b"busy"
    assert other.call("PING") == Status(b"PONG")
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(runner.call("FCALL", "spin", 0)), daemon=True)
    t.start()
    busy = (
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    )
    deadline = time.time() + 10
    while other.call("PING") != Err(busy):
        assert time.time() < deadline
        time.sleep(0.02)
    stats = other.call("FUNCTION", "STATS")
    running = stats[1]
    assert running[:5] == [b"name", b"spin", b"command", [b"FCALL", b"spin", b"0"], b"duration_ms"]
    assert other.call("SCRIPT", "KILL") == Err(busy)
    assert other.call("FUNCTION", "KILL") == Status(b"OK")
    t.join(10)
    assert out == [
        Err("ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.")
    ]
