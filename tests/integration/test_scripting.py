"""EVAL / EVALSHA / EVAL_RO / SCRIPT *: Redis 7.0 behaviour (replies, errors, sandbox, busy
scripts, SCRIPT KILL), through redis-py and raw RESP (tests/differential/harness.Side)."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from tests.differential.harness import NULL, NULL_BULK, Double, Err, RMap, RSet, Side, Status
from tests.support.binlog import binlog_records
from tests.support.servers import PikaServer


@pytest.fixture
def raw(pika: PikaServer, r: redis.Redis) -> Iterator[Callable[..., Any]]:
    """Typed replies, RESP2: raw("EVAL", ...)."""
    side = Side("pikadb", pika.port, 2)
    yield side.call
    side.close()


@pytest.fixture
def raw3(pika: PikaServer, r: redis.Redis) -> Iterator[Callable[..., Any]]:
    side = Side("pikadb", pika.port, 3)
    yield side.call
    side.close()


def sha(body: str) -> str:
    return hashlib.sha1(body.encode()).hexdigest()


def script_error(body: str, msg: str, line: int = 1) -> Err:
    return Err(f"{msg} script: {sha(body)}, on @user_script:{line}.")


# --- replies -------------------------------------------------------------------------------------
def test_lua_to_resp2(raw: Callable[..., Any]) -> None:
    assert raw("EVAL", "return 1", 0) == 1
    assert raw("EVAL", "return 1.9", 0) == 1
    assert raw("EVAL", "return -1.9", 0) == -1
    assert raw("EVAL", "return 1e20", 0) == -(1 << 63)  # (long long) cast, as C
    assert raw("EVAL", "return 0/0", 0) == -(1 << 63)
    assert raw("EVAL", "return 'x\\0y'", 0) == b"x\x00y"
    assert raw("EVAL", "return true", 0) == 1
    assert raw("EVAL", "return false", 0) is NULL_BULK
    assert raw("EVAL", "return nil", 0) is NULL_BULK
    assert raw("EVAL", "return", 0) is NULL_BULK
    assert raw("EVAL", "return {1,2,3,'x',nil,5}", 0) == [1, 2, 3, b"x"]
    assert raw("EVAL", "return {1,{2,{3,'a'}},{ok='s'},{err='e'}}", 0) == [
        1,
        [2, [3, b"a"]],
        Status(b"s"),
        Err("e"),
    ]
    assert raw("EVAL", "return {ok='fine'}", 0) == Status(b"fine")
    assert raw("EVAL", "return {ok='a\\r\\nb'}", 0) == Status(b"a  b")
    assert raw("EVAL", "return {err='My Error'}", 0) == Err("My Error")
    assert raw("EVAL", "return {err=1}", 0) == []
    assert raw("EVAL", "return {double=0.1}", 0) == b"0.10000000000000001"
    assert raw("EVAL", "return {big_number='123'}", 0) == b"123"
    assert raw("EVAL", "return {map={a=1}}", 0) == [b"a", 1]
    assert raw("EVAL", "return {set={a=true}}", 0) == [b"a"]
    assert raw("EVAL", "return {verbatim_string={format='txt',string='hi'}}", 0) == b"hi"
    assert raw("EVAL", "return function() end", 0) is NULL_BULK
    assert raw("EVAL", "return {a=1, 'x'}", 0) == [b"x"]
    assert raw("EVAL", "return 'x', 'y'", 0) == b"x"


def test_lua_to_resp3(raw3: Callable[..., Any]) -> None:
    assert raw3("EVAL", "return {double=1.5}", 0) == Double(b"1.5")
    assert raw3("EVAL", "return {double=1/0}", 0) == Double(b"inf")
    assert raw3("EVAL", "return {big_number='12345678901234567890'}", 0) == b"12345678901234567890"
    assert raw3("EVAL", "return {map={a=1}}", 0) == RMap([(b"a", 1)])
    assert raw3("EVAL", "return {set={a=true}}", 0) == RSet([b"a"])
    assert raw3("EVAL", "return {verbatim_string={format='txt',string='hi'}}", 0) == b"txt:hi"
    assert raw3("EVAL", "return false", 0) is NULL
    assert raw3("EVAL", "return true", 0) == 1
    assert raw3("EVAL", "redis.setresp(3); return true", 0) is True
    assert raw3("EVAL", "redis.setresp(3); return false", 0) is False
    assert raw3("EVAL", "return nil", 0) is NULL


def test_resp_to_lua(raw: Callable[..., Any], r: redis.Redis) -> None:
    r.hset("h", mapping={"a": "1"})
    r.zadd("z", {"m": 1.5})
    assert raw("EVAL", "return type(redis.call('get', 'nokey'))", 0) == b"boolean"
    assert raw("EVAL", "redis.setresp(3); return type(redis.call('get', 'nokey'))", 0) == b"nil"
    assert raw("EVAL", "return redis.call('hgetall', 'h')", 0) == [b"a", b"1"]
    assert raw("EVAL", "redis.setresp(3); return redis.call('hgetall', 'h').map.a", 0) == b"1"
    assert raw("EVAL", "redis.setresp(3); return redis.call('zscore', 'z', 'm').double * 2", 0) == 3
    assert raw("EVAL", "return redis.call('set', 'k', 'v').ok", 0) == b"OK"
    assert raw("EVAL", "return redis.call('incr', 'n')", 0) == 1
    assert raw("EVAL", "return type(redis.call('smembers', 'none'))", 0) == b"table"
    got = raw("EVAL", "redis.setresp(3); return redis.call('hgetall', 'h')", 0)
    assert got == [b"a", b"1"]  # a RESP2 caller gets the map flattened


def test_keys_argv_and_numbers(raw: Callable[..., Any]) -> None:
    assert raw("EVAL", "return KEYS", 2, "a", "b", "c") == [b"a", b"b"]
    assert raw("EVAL", "return ARGV", 1, "a", "b", "c") == [b"b", b"c"]
    assert raw("EVAL", "return #KEYS", 0) == 0
    raw("EVAL", "redis.call('set', 'f', 1/3)", 0)
    assert raw("GET", "f") == b"0.33333333333333331"  # %.17g
    raw("EVAL", "redis.call('set', 'f', 12345678901234567890)", 0)
    assert raw("GET", "f") == b"1.2345678901234567e+19"
    raw("EVAL", "redis.call('set', 'f', 100)", 0)
    assert raw("GET", "f") == b"100"


# --- errors --------------------------------------------------------------------------------------
def test_call_errors(raw: Callable[..., Any], r: redis.Redis) -> None:
    body = "return redis.call('nosuch')"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR Unknown Redis command called from script"
    )
    body = "return redis.call('get')"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR Wrong number of args calling Redis command from script"
    )
    body = "return redis.call('eval', 'return 1', 0)"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR This Redis command is not allowed from script"
    )
    body = "return redis.call('get', {})"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR Lua redis lib command arguments must be strings or integers"
    )
    body = "return redis.call()"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR Please specify at least one argument for this redis lib call"
    )
    r.set("s", "a")
    body = "local x = 1\nreturn redis.call('incr', 's')"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR value is not an integer or out of range", line=2
    )
    r.rpush("l", "x")
    body = "return redis.call('get', 'l')"
    assert raw("EVAL", body, 0) == script_error(
        body, "WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    assert raw("EVAL", "return redis.pcall('incr', 's')", 0) == Err(
        "ERR value is not an integer or out of range"
    )
    assert raw("EVAL", "local t = redis.pcall('nosuch'); return t['err']", 0) == (
        b"ERR Unknown Redis command called from script"
    )
    got = raw("EVAL", "local ok, e = pcall(redis.call, 'nosuch'); return {tostring(ok), e}", 0)
    assert got == [b"false", b"ERR Unknown Redis command called from script"]


def test_lua_errors(raw: Callable[..., Any]) -> None:
    body = "error('hello')"
    assert raw("EVAL", body, 0) == script_error(body, "ERR user_script:1: hello")
    body = "error({err='X hello'})"
    assert raw("EVAL", body, 0) == script_error(body, "X hello")
    body = "return error(nil)"
    assert raw("EVAL", body, 0) == script_error(body, "ERR nil")
    body = "local a = nil; return a.b"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR user_script:1: attempt to index local 'a' (a nil value)"
    )
    assert raw("EVAL", "return redis.error_reply('boom')", 0) == Err("ERR boom")
    assert raw("EVAL", "return redis.error_reply('-X boom')", 0) == Err("X boom")
    assert raw("EVAL", "return redis.status_reply('fine')", 0) == Status(b"fine")
    assert raw("EVAL", "return redis.error_reply(1)", 0) == Err(
        "ERR wrong number or type of arguments"
    )
    assert raw("EVAL", "syntax error here", 0) == Err(
        "ERR Error compiling script (new function): user_script:1: '=' expected near 'error'"
    )


def test_numkeys_and_noscript(raw: Callable[..., Any]) -> None:
    assert raw("EVAL", "return 1", -1) == Err("ERR Number of keys can't be negative")
    assert raw("EVAL", "return 1", 2, "a") == Err(
        "ERR Number of keys can't be greater than number of args"
    )
    assert raw("EVAL", "return 1", "x") == Err("ERR value is not an integer or out of range")
    assert raw("EVALSHA", "abc", 0) == Err("NOSCRIPT No matching script. Please use EVAL.")
    assert raw("EVALSHA", "0" * 40, 0) == Err("NOSCRIPT No matching script. Please use EVAL.")
    assert raw("EVAL") == Err("ERR wrong number of arguments for 'eval' command")


# --- sandbox -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["os", "io", "loadfile", "dofile", "require", "print", "debug",
                                  "newproxy", "setfenv", "getfenv", "module", "python", "package"])  # fmt: skip
def test_hidden_globals(raw: Callable[..., Any], name: str) -> None:
    body = f"return {name}"
    assert raw("EVAL", body, 0) == script_error(
        body, f"ERR user_script:1: Script attempted to access nonexistent global variable '{name}'"
    )


def test_readonly_tables(raw: Callable[..., Any]) -> None:
    for body in ("x = 1", "_G.x = 1", "math.foo = 1", "redis.call = nil", "string.rep = nil",
                 "cjson.encode = nil", "local mt = getmetatable(''); mt.__index = nil"):  # fmt: skip
        assert raw("EVAL", body, 0) == script_error(
            body, "ERR user_script:1: Attempt to modify a readonly table"
        ), body
    for body in ("rawset(_G, 'x', 1)", "setmetatable(_G, {})", "table.insert(string, 1)"):
        assert raw("EVAL", body, 0) == script_error(body, "ERR Attempt to modify a readonly table")
    body = "local co = coroutine.create(function() x = 5 end); return {coroutine.resume(co)}"
    assert raw("EVAL", body, 0) == [NULL_BULK, b"user_script:1: Attempt to modify a readonly table"]
    # loadstring'ed code runs in the sandbox too; binary chunks are refused
    body = "local f = loadstring('return zz'); return f()"
    assert raw("EVAL", body, 0) == Err(
        "ERR [string \"return zz\"]:1: Script attempted to access nonexistent global variable 'zz' "
        f"script: {sha(body)}, on return zz:1."
    )
    assert raw("EVAL", "return loadstring(string.dump(function() return 1 end))", 0) is NULL_BULK
    got = raw(
        "EVAL", "local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t", 0
    )
    assert got == [
        b"ARGV", b"KEYS", b"_G", b"_VERSION", b"__redis__err__handler", b"assert", b"bit",
        b"cjson", b"cmsgpack", b"collectgarbage", b"coroutine", b"error", b"gcinfo",
        b"getmetatable", b"ipairs", b"load", b"loadstring", b"math", b"next", b"pairs", b"pcall",
        b"rawequal", b"rawget", b"rawset", b"redis", b"select", b"setmetatable", b"string",
        b"struct", b"table", b"tonumber", b"tostring", b"type", b"unpack", b"xpcall",
    ]  # fmt: skip
    assert raw("EVAL", "return ('x'):rep(3)", 0) == b"xxx"


def test_redis_api(raw: Callable[..., Any]) -> None:
    assert raw("EVAL", "return redis.sha1hex('')", 0) == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert raw("EVAL", "return redis.REDIS_VERSION", 0) == b"7.0.15"
    assert raw("EVAL", "return redis.REDIS_VERSION_NUM", 0) == 0x07000F
    assert raw("EVAL", "return redis.log(redis.LOG_WARNING, 'from a test')", 0) is NULL_BULK
    body = "return redis.log(99, 'x')"
    assert raw("EVAL", body, 0) == script_error(body, "ERR Invalid debug level.")
    assert raw("EVAL", "return redis.replicate_commands()", 0) == 1
    assert raw("EVAL", "return redis.set_repl(redis.REPL_ALL)", 0) is NULL_BULK
    assert raw("EVAL", "return redis.breakpoint()", 0) is NULL_BULK
    assert raw("EVAL", "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_REPLICA, redis.REPL_ALL}", 0) == [0, 1, 2, 3]  # fmt: skip
    body = "return redis.setresp(4)"
    assert raw("EVAL", body, 0) == script_error(body, "ERR RESP version must be 2 or 3.")


def test_math_random_is_seedable(raw: Callable[..., Any]) -> None:
    body = "math.randomseed(42); return {tostring(math.random()), math.random(1000), math.random(5, 10)}"
    first = raw("EVAL", body, 0)
    assert first == raw("EVAL", body, 0)
    assert first[0] == b"0.74452500033403" and first[1] == 343


def test_libraries(raw: Callable[..., Any]) -> None:
    assert raw("EVAL", "return cjson.encode({})", 0) == b"{}"
    assert raw("EVAL", "return cjson.encode({1,2,nil,4})", 0) == b"[1,2,null,4]"
    assert raw("EVAL", "return cjson.encode(3.14159265358979)", 0) == b"3.1415926535898"
    assert raw("EVAL", "return cjson.encode({['a/b']='\\1'})", 0) == b'{"a\\/b":"\\u0001"}'
    assert raw("EVAL", "return cjson.decode('[1,2,{\"a\":3}]')[3].a", 0) == 3
    body = "return cjson.decode('[1,2')"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR user_script:1: Expected comma or array end but found T_END at character 5"
    )
    assert raw("EVAL", "return cmsgpack.pack({1,2,3})", 0) == b"\x93\x01\x02\x03"
    assert raw("EVAL", "return cmsgpack.unpack(cmsgpack.pack({1,2,'x'}))", 0) == [1, 2, b"x"]
    assert raw("EVAL", "return cmsgpack.pack(1.5, -300)", 0) == b"\xca?\xc0\x00\x00\xd1\xfe\xd4"
    assert raw("EVAL", "return {bit.tohex(65535), bit.band(0xff, 0x0f), bit.lshift(1, 31)}", 0) == [
        b"0000ffff",
        15,
        -2147483648,
    ]
    body = "return bit.band()"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR user_script:1: bad argument #1 to 'band' (number expected, got no value)"
    )
    assert raw("EVAL", "return struct.pack('>I2', 258)", 0) == b"\x01\x02"
    assert raw("EVAL", "return {struct.unpack('>i2<I4', struct.pack('>i2<I4', -2, 5))}", 0) == [
        -2,
        5,
        7,
    ]


# --- script cache, SCRIPT ----------------------------------------------------------------------
def test_script_cache(raw: Callable[..., Any], r: redis.Redis) -> None:
    body = "return redis.call('get', KEYS[1])"
    assert raw("SCRIPT", "FLUSH") == Status(b"OK")
    assert raw("SCRIPT", "EXISTS", sha(body)) == [0]
    assert raw("SCRIPT", "LOAD", body) == sha(body).encode()
    assert raw("SCRIPT", "EXISTS", sha(body), sha(body).upper(), "nope") == [1, 1, 0]
    r.set("k", "v")
    assert raw("EVALSHA", sha(body), 1, "k") == b"v"
    assert raw("EVALSHA", sha(body).upper(), 1, "k") == b"v"
    assert raw("EVALSHA_RO", sha(body), 1, "k") == b"v"
    assert raw("SCRIPT", "FLUSH", "ASYNC") == Status(b"OK")
    assert raw("EVALSHA", sha(body), 1, "k") == Err("NOSCRIPT No matching script. Please use EVAL.")
    assert raw("SCRIPT", "FLUSH", "x") == Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    assert raw("SCRIPT", "KILL") == Err("NOTBUSY No scripts in execution right now.")
    assert raw("SCRIPT", "LOAD", "syntax error") == Err(
        "ERR Error compiling script (new function): user_script:1: '=' expected near 'error'"
    )
    assert raw("SCRIPT", "foo") == Err("ERR unknown subcommand 'foo'. Try SCRIPT HELP.")
    assert raw("SCRIPT", "HELP")[0] == Status(
        b"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )


def test_shebang_and_read_only(raw: Callable[..., Any]) -> None:
    body = "return redis.call('set', 'a', 'b')"
    assert raw("EVAL_RO", body, 0) == script_error(
        body, "ERR Write commands are not allowed from read-only scripts."
    )
    assert raw("EVAL_RO", "#!lua\n" + body, 0) == Err(
        "ERR Can not execute a script with write flag using *_ro command."
    )
    ro = "#!lua flags=no-writes\n" + body
    assert raw("EVAL", ro, 0) == script_error(
        ro, "ERR Write commands are not allowed from read-only scripts.", line=2
    )
    assert raw("EVAL", "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1", 0) == 1  # fmt: skip
    assert raw("EVAL", "#!lua flags=bad\nreturn 1", 0) == Err(
        "ERR Unexpected flag in script shebang: bad"
    )
    assert raw("EVAL", "#!lua name=x\nreturn 1", 0) == Err("ERR Unknown lua shebang option: name=x")
    assert raw("EVAL", "#!foo\nreturn 1", 0) == Err(
        "ERR Unexpected engine in script shebang: #!foo"
    )
    assert raw("EVAL", "#!lua", 0) == Err("ERR Invalid script shebang")
    assert raw("EVAL", "#!lua\nreturn redis.call('get', 'zz')", 0) is NULL_BULK


def test_script_client_state(raw: Callable[..., Any], r: redis.Redis) -> None:
    # SELECT inside a script does not change the caller's db
    assert raw("EVAL", "redis.call('select', 1); return redis.call('set', 'db1key', 1)", 0) == (
        Status(b"OK")
    )
    assert raw("EXISTS", "db1key") == 0
    assert raw("SELECT", 1) == Status(b"OK")
    assert raw("EXISTS", "db1key") == 1
    assert raw("EVAL", "return redis.call('exists', 'db1key')", 0) == 1  # starts in the caller's db
    assert raw("FLUSHDB") == Status(b"OK")
    assert raw("SELECT", 0) == Status(b"OK")
    # blocking and slow commands run inline, as non-blocking
    r.rpush("q", "a", "b")
    assert raw("EVAL", "return redis.call('keys', '*')", 0) == [b"q"]
    body = "return redis.call('blpop', 'q', 0)"
    assert raw("EVAL", body, 0) == script_error(
        body, "ERR This Redis command is not allowed from script"
    )


def test_script_is_atomic_and_writes_persist(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    body = (
        "for i = 1, 100 do redis.call('rpush', KEYS[1], i) end return redis.call('llen', KEYS[1])"
    )
    assert c.eval(body, 1, "list") == 100
    srv.restart()
    c = srv.client()
    assert c.llen("list") == 100
    assert c.lrange("list", 0, 2) == [b"1", b"2", b"3"]


def test_monitor_shows_script_commands(pika: PikaServer, r: redis.Redis) -> None:
    mon = socket.create_connection(("127.0.0.1", pika.port))
    try:
        mon.sendall(b"*1\r\n$7\r\nMONITOR\r\n")
        assert mon.recv(100) == b"+OK\r\n"
        r.eval("redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])", 1, "mk")
        data = b""
        deadline = time.time() + 5
        while data.count(b"\r\n") < 3 and time.time() < deadline:
            data += mon.recv(4096)
        lines = data.split(b"\r\n")
        assert b'"eval"' in lines[0].lower()
        assert b'[0 lua] "set" "mk" "v"' in lines[1]
        assert b'[0 lua] "get" "mk"' in lines[2]
    finally:
        mon.close()


# --- busy scripts ---------------------------------------------------------------------------------
BUSY = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."


def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as exc:
            out.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def _wait_busy(side: Side) -> None:
    deadline = time.time() + 10
    while time.time() < deadline:
        if side.call("PING") == Err(BUSY):
            return
        time.sleep(0.02)
    raise AssertionError("the server never got busy")


def test_busy_script_and_script_kill(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server("--set", "busy-reply-threshold=100")
    runner, other, killer = (Side(n, srv.port) for n in ("runner", "other", "killer"))
    for s in (runner, other, killer):
        assert s.call("PING") == Status(b"PONG")  # connected before the script starts
    body = "local i = 0 while true do i = i + 1 end"
    t, out = _in_thread(lambda: runner.call("EVAL", body, 0))
    _wait_busy(other)
    assert other.call("GET", "x") == Err(BUSY)
    assert other.call("FUNCTION", "STATS") == Err(BUSY)
    assert other.call("SHUTDOWN") == Err(BUSY)
    assert other.call("NOSUCH") == Err("ERR unknown command 'NOSUCH', with args beginning with: ")
    fresh = Side("fresh", srv.port)  # a connection opened while busy is served too
    assert fresh.call("GET", "x") == Err(BUSY)
    assert killer.call("FUNCTION", "KILL") == Err(BUSY)
    assert killer.call("SCRIPT", "KILL") == Status(b"OK")
    t.join(10)
    assert out == [script_error(body, "ERR Script killed by user with SCRIPT KILL...")]
    assert other.call("PING") == Status(b"PONG")
    assert fresh.call("SET", "x", "1") == Status(b"OK")
    assert runner.call("EVAL", "return redis.call('get', 'x')", 0) == b"1"
    # pcall cannot swallow the kill
    body = "while true do pcall(function() while true do end end) end"
    t, out = _in_thread(lambda: runner.call("EVAL", body, 0))
    _wait_busy(other)
    assert killer.call("SCRIPT", "KILL") == Status(b"OK")
    t.join(10)
    assert isinstance(out[0], Err) and "Script killed by user with SCRIPT KILL" in out[0]
    for s in (runner, other, killer, fresh):
        s.close()


def test_busy_script_that_wrote_is_unkillable(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server("--set", "busy-reply-threshold=100")
    runner, other = Side("runner", srv.port), Side("other", srv.port)
    assert other.call("PING") == Status(b"PONG")
    body = "redis.call('set', 'w', 1) while true do end"
    _in_thread(lambda: runner.call("EVAL", body, 0))
    _wait_busy(other)
    msg = (
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
        "can either wait the script termination or kill the server in a hard way using the "
        "SHUTDOWN NOSAVE command."
    )
    assert other.call("SCRIPT", "KILL") == Err(msg)
    other.call("SHUTDOWN", "NOSAVE")  # exits at once
    assert srv.proc is not None
    srv.proc.wait(10)
    srv.start()  # the script never finished: none of its writes were committed
    assert srv.client().get("w") is None


def test_busy_script_stays_one_binlog_record(make_server: Callable[..., PikaServer]) -> None:
    """Getting busy writes out what other clients did earlier in the tick (so they get their
    replies), but the script's writes before and after that moment stay ONE record."""
    srv = make_server("--set", "busy-reply-threshold=50")
    other = Side("other", srv.port)
    assert other.call("PING") == Status(b"PONG")
    body = """
    redis.call('set', 'bs-early', 1)
    local t = redis.call('time')
    local start = t[1] * 1000000 + t[2]
    local i = 0
    while true do
        i = i + 1
        if i % 100000 == 0 then
            local n = redis.call('time')
            if (n[1] * 1000000 + n[2]) - start > 300000 then break end
        end
    end
    redis.call('sadd', 'bs-late', 'x')
    return redis.call('scard', 'bs-late')
    """
    # one packet, so one tick: the SET is staged when the script starts
    raw = socket.create_connection(("127.0.0.1", srv.port))
    raw.settimeout(10)
    script = body.encode()
    req = b"*3\r\n$3\r\nSET\r\n$6\r\nbs-pre\r\n$1\r\n1\r\n"
    req += b"*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(script), script)
    raw.sendall(req)
    _wait_busy(other)
    got = b""
    while got.count(b"\r\n") < 2:
        got += raw.recv(100)
    assert got == b"+OK\r\n:1\r\n"
    raw.close()
    assert other.call("SET", "after", "1") == Status(b"OK")
    other.close()
    assert srv.stop() == 0
    records = binlog_records(srv)
    with_script = [rec for rec in records if "bs-early" in rec]
    assert len(with_script) == 1 and "bs-late" in with_script[0]
    assert not any("bs-pre" in rec for rec in with_script)  # written when the script got busy
    assert any("bs-pre" in rec for rec in records)


def test_busy_reply_threshold_config(make_server: Callable[..., PikaServer]) -> None:
    srv = make_server()
    c = srv.client()
    assert c.config_get("busy-reply-threshold") == {"busy-reply-threshold": "5000"}
    assert c.eval("return 1", 0) == 1  # the alias is kept in step from the first script on
    c.config_set("lua-time-limit", 150)
    assert c.config_get("busy-reply-threshold") == {"busy-reply-threshold": "150"}
    c.config_set("busy-reply-threshold", 200)
    assert c.config_get("lua-time-limit") == {"lua-time-limit": "200"}


def test_error_and_command_stats(raw: Callable[..., Any], r: redis.Redis) -> None:
    """INFO errorstats / commandstats count script errors as Redis 7.0 does."""
    raw("CONFIG", "RESETSTAT")
    r.rpush("lst", "a")
    for script in (
        "redis.pcall('nosuch') redis.pcall('get') redis.pcall('multi') return 1",
        "redis.pcall('get', {}) return 1",
        "return {err='X y'}",
        "return {1, {err='Z y'}}",
        "error('boom')",
        "return redis.call('nosuch')",
        "return redis.pcall('incr', 'lst')",
        "return {redis.pcall('incr', 'lst')}",
        "return redis.call('incr', 'lst')",
    ):
        raw("EVAL", script, 0)
    raw("EVAL_RO", "redis.pcall('set', 'a', 'b') return 1", 0)
    errorstats = r.info("errorstats")
    assert errorstats == {
        "errorstat_ERR": {"count": 6},
        "errorstat_WRONGTYPE": {"count": 3},
        "errorstat_X": {"count": 1},
        "errorstat_Z": {"count": 1},
    }
    stats = r.info("commandstats")
    assert stats["cmdstat_eval"]["calls"] == 9
    assert stats["cmdstat_eval"]["failed_calls"] == 7
    assert stats["cmdstat_incr"]["failed_calls"] == 3
    for name in ("get", "multi", "set"):
        assert stats[f"cmdstat_{name}"]["rejected_calls"] == 1
