"""EVAL on pikadb and on a real redis-server, replies compared exactly (RESP2 and RESP3):

* a corpus of scripts returning every reply type, raising every kind of error, using the
  sandbox and the cjson / cmsgpack / bit / struct libraries;
* random scripts built from redis.call / redis.pcall statements over KEYS and ARGV
  (hypothesis), with the keyspace compared after each example.

Run ``python -m tests.differential.test_scripting`` for a survey of every discrepancy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.harness import Pair, diff_settings
from tests.support.servers import PikaServer, RedisServer

# (script, numkeys, args...) -- scripts whose replies do not depend on hash order or on
# state Redis keeps per process (math.random before a randomseed, table addresses).
# fmt: off
CORPUS: list[tuple[Any, ...]] = [
    # replies
    ("return 1", 0), ("return -1.9", 0), ("return 1e20", 0), ("return 0/0", 0), ("return 1/0", 0),
    ("return 'x\\0y'", 0), ("return true", 0), ("return false", 0), ("return nil", 0), ("return", 0),
    ("return {1,2,3,'x',nil,5}", 0), ("return {1,{2,{3,'a'}},{ok='s'},{err='e'}}", 0),
    ("return {ok='fine'}", 0), ("return {ok='a\\r\\nb'}", 0), ("return {err='My Error'}", 0),
    ("return {err='a\\r\\nb'}", 0), ("return {err=''}", 0), ("return {err=1}", 0), ("return {ok=1}", 0),
    ("return {double=1.5}", 0), ("return {double=0.1}", 0), ("return {double=1/0}", 0),
    ("return {double=-1/0}", 0), ("return {double=3}", 0), ("return {double=1e300}", 0),
    ("return {double='x'}", 0), ("return {big_number='12345678901234567890'}", 0),
    ("return {big_number='1\\r\\n2'}", 0), ("return {big_number=1}", 0), ("return {map={a=1}}", 0),
    ("return {map={1,2}}", 0), ("return {set={a=true}}", 0), ("return {set={'a'}}", 0),
    ("return {verbatim_string={format='txt',string='hi'}}", 0),
    ("return {verbatim_string={format='txt'}}", 0), ("return {1, {err='x'}, 3}", 0),
    ("return {[1]=1, [3]=3}", 0), ("return {[2]=1}", 0), ("return {a=1, 'x'}", 0),
    ("return {1.5, 2.7, -3.9}", 0), ("return 'x', 'y'", 0), ("return {'a',{}}", 0),
    ("return {1,2,false,4}", 0), ("return function() end", 0),
    ("redis.setresp(3); return true", 0), ("redis.setresp(3); return false", 0),
    ("redis.setresp(3); return {double=2.5}", 0),
    ("redis.setresp(3); return redis.call('hgetall', 'h')", 0),
    ("redis.setresp(3); return redis.call('zscore', 'z', 'a')", 0),
    ("redis.setresp(3); return redis.call('get', 'nokey')", 0),
    ("redis.setresp(3); return type(redis.call('get', 'nokey'))", 0),
    ("redis.setresp(3); return redis.call('sismember', 's', 'a')", 0),
    ("redis.setresp(3); return redis.call('zrange', 'z', 0, -1, 'withscores')", 0),
    ("redis.setresp(3); local r = redis.call('zscore', 'z', 'a'); return r.double * 2", 0),
    ("return redis.call('zrange', 'z', 0, -1, 'withscores')", 0),
    ("return redis.call('hgetall', 'h')", 0), ("return type(redis.call('get', 'nokey'))", 0),
    ("return tostring(redis.call('get', 'nokey'))", 0), ("return redis.call('ping')", 0),
    ("return redis.call('ping', 'x')", 0), ("return redis.call('echo', 'x')", 0),
    ("return redis.call('exists', 'nokey')", 0), ("return redis.call('ttl', 'nokey')", 0),
    ("return redis.call('type', 'l')", 0), ("return redis.call('lrange', 'l', 0, -1)", 0),
    ("return redis.call('llen', 'nokey')", 0), ("return redis.call('spop', 'noset')", 0),
    ("return redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v"), ("return KEYS", 2, "a", "b", "c"),
    ("return ARGV", 1, "a", "b", "c"), ("return #KEYS", 0), ("KEYS[1] = 'x'; return KEYS[1]", 1, "a"),
    ("return redis.call('set', 'f', 1.5)", 0), ("redis.call('set','f',1/3); return redis.call('get','f')", 0),
    ("redis.call('set','f',12345678901234567890); return redis.call('get','f')", 0),
    ("redis.call('set','f',1/0); return redis.call('get','f')", 0),
    ("redis.call('set','f',100); return redis.call('get','f')", 0),
    ("redis.call('select', 1); return redis.call('set', 'db1key', 1)", 0),
    ("return redis.call('exists', 'db1key')", 0),
    # errors
    ("return redis.call('nosuch')", 0), ("return redis.call('get')", 0), ("return redis.call()", 0),
    ("return redis.pcall()", 0), ("return redis.call('get', {})", 0), ("return redis.call('get', nil)", 0),
    ("return redis.call('set', 'n', true)", 0), ("return redis.call('incr', 'l')", 0),
    ("return redis.call('get', 'l')", 0), ("return redis.pcall('incr', 'l')", 0),
    ("return redis.pcall('incr','nokey', 'x')", 0), ("return redis.call('set', 'a', 'b', 'EX', 0)", 0),
    ("local e = redis.pcall('set', 'a', 'b', 'EX', 0); return e.err", 0),
    ("local t = redis.pcall('nosuch'); return t['err']", 0),
    ("local e = redis.pcall('nosuch'); return {e['err'], tostring(e['ignore_error_stats_update'])}", 0),
    ("return redis.call('blpop', 'l', 0)", 0), ("return redis.call('eval', 'return 1', 0)", 0),
    ("return redis.call('multi')", 0), ("return redis.call('subscribe', 'x')", 0),
    ("return redis.call('script', 'load', 'return 1')", 0), ("return redis.call('fcall', 'x', 0)", 0),
    ("return redis.call('client', 'id')", 0), ("return redis.call('config', 'get', 'x')", 0),
    ("return redis.call('debug', 'sleep', 0)", 0),
    ("error('hello')", 0), ("error({err='X hello'})", 0), ("return error(1)", 0),
    ("return error(nil)", 0), ("return error('x', 0)", 0), ("error(redis.error_reply('MY code'))", 0),
    ("return redis.error_reply('boom')", 0), ("return redis.error_reply('-X boom')", 0),
    ("return redis.error_reply('')", 0), ("return redis.error_reply(1)", 0),
    ("return redis.status_reply('fine')", 0), ("return redis.status_reply(1)", 0),
    ("return 'a' .. nil", 0), ("local a = nil; return a.b", 0), ("syntax error here", 0),
    ("return string.rep = nil", 0), ("return 1", -1), ("return 1", 2, "a"), ("return 1", "x"),
    ("local x = 1\nreturn redis.call('incr', 'l')", 0),
    ("local function f() return redis.call('nosuch') end\nreturn f()", 0),
    ("return pcall(function() error('x') end)", 0),
    ("local ok, e = pcall(function() error({err='E1'}) end); return e", 0),
    ("local ok, e = pcall(error, {err=5}); return {tostring(ok), e}", 0),
    ("local ok, e = pcall(error, {foo=5}); return {tostring(ok), type(e)}", 0),
    ("local ok, a, b = pcall(function() return 1, nil, 3 end); return {tostring(ok), a, tostring(b)}", 0),
    ("return select('#', pcall(function() return 1, nil, 3 end))", 0), ("return pcall()", 0),
    ("local ok, e = pcall(redis.call, 'nosuch'); return {ok, e}", 0),
    ("local ok, e = xpcall(function() error('z') end, function(e) return 'handled: ' .. e end); return e", 0),
    ("return redis.setresp(4)", 0), ("return redis.setresp()", 0), ("return redis.set_repl(99)", 0),
    ("return redis.set_repl()", 0), ("return redis.log()", 0), ("return redis.log('x', 'y')", 0),
    ("return redis.log(99, 'x')", 0), ("return redis.sha1hex()", 0),
    # sandbox
    ("return x", 0), ("x = 1", 0), ("_G.x = 1", 0), ("rawset(_G, 'x', 1)", 0),
    ("setmetatable(_G, {})", 0), ("math.foo = 1", 0), ("redis.call = nil", 0), ("string.rep = nil", 0),
    ("cjson.encode = nil", 0), ("bit.band = nil", 0), ("table.insert(string, 1)", 0),
    ("local mt = getmetatable(''); mt.__index = nil", 0), ("getmetatable(_G).__index = nil", 0),
    ("return getmetatable(_G).__index", 0), ("return getmetatable(_G)", 0),
    ("return os", 0), ("return io", 0), ("return loadfile", 0), ("return dofile", 0),
    ("return print", 0), ("return require", 0), ("return type(debug)", 0), ("return type(newproxy)", 0),
    ("return type(setfenv)", 0), ("return type(getfenv)", 0), ("return type(module)", 0),
    ("return type(loadstring)", 0), ("return type(gcinfo)", 0), ("return _VERSION", 0),
    ("return tostring(string.nosuch)", 0), ("return tostring(redis.nosuch)", 0),
    ("return rawget(_G, 'nosuch')", 0), ("return rawget(string, 'rep') ~= nil", 0), ("return #string", 0),
    ("local co = coroutine.create(function() x = 5 end); return {coroutine.resume(co)}", 0),
    ("return coroutine.wrap(function() return 5 end)()", 0),
    ("local f = loadstring('return zz'); return f()", 0), ("return loadstring('x = 1')", 0),
    ("local f = loadstring('x = 1'); return pcall(f)", 0),
    ("local a, b = loadstring('syntax error'); return b", 0),
    ("local s = string.dump(function() return 1 end); return loadstring(s)()", 0),
    ("return __redis__err__handler('x')", 0), ("return ...", 0), ("return select('#', ...)", 0),
    ("local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(math) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(table) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(cjson) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(bit) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(struct) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(cmsgpack) do t[#t+1] = k end table.sort(t) return t", 0),
    ("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}", 0),
    ("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", 0),
    ("return redis.REDIS_VERSION", 0), ("return redis.REDIS_VERSION_NUM", 0),
    ("return redis.sha1hex('abc')", 0), ("return redis.replicate_commands()", 0),
    ("return redis.breakpoint()", 0), ("return redis.debug('x')", 0),
    ("math.randomseed(7); return {tostring(math.random()), math.random(10), math.random(3, 4)}", 0),
    ("math.randomseed(7); return math.random(0)", 0), ("return math.random(1, 2, 3)", 0),
    ("return tostring(0.1)", 0), ("return tostring(1e15)", 0), ("return 9007199254740993", 0),
    ("return tonumber('0x10')", 0), ("return string.format('%.17g', 0.1)", 0),
    ("return table.getn({1,2})", 0), ("return unpack({1,2})", 0),
    # libraries
    ("return cjson.encode({})", 0), ("return cjson.encode({1,2,3})", 0), ("return cjson.encode({a=1.5})", 0),
    ("return cjson.encode(3.14159265358979)", 0), ("return cjson.encode({1e20, 0.1, -0.0, 1/3, 100, 2^53})", 0),
    ("return cjson.encode({['a/b']='c\"d\\n\\1', [1]=2})", 0), ("return cjson.encode({1,2,nil,4})", 0),
    ("return cjson.encode({[1]=1,[10]=2})", 0), ("return cjson.encode({[1]=1,[12]=2})", 0),
    ("return cjson.encode(0/0)", 0), ("return cjson.encode(function() end)", 0),
    ("return cjson.encode({[true]=1})", 0), ("return cjson.encode('\\128\\255\\127')", 0),
    ("return cjson.encode(cjson.null)", 0), ("return cjson.encode()", 0),
    ("return cjson.encode({[1.5]=1})", 0), ("return cjson.encode({[2]=1})", 0),
    ("local t = {} local c = t for i=1,1001 do c[1] = {} c = c[1] end return cjson.encode(t)", 0),
    ("return cjson.decode('[1,2,{\"a\":3}]')[3].a", 0), ("return cjson.decode('[1,2')", 0),
    ("return cjson.decode('nul')", 0), ("return cjson.decode('')", 0), ("return cjson.decode('\"\\\\u00e9\"')", 0),
    ("return cjson.decode('\"\\\\ud83d\\\\ude00\"')", 0), ("return cjson.decode('1e2')", 0),
    ("return cjson.decode('{\"a\" 1}')", 0), ("return cjson.decode('{1:2}')", 0), ("return cjson.decode('[1,]')", 0),
    ("return cjson.decode('-')", 0), ("return cjson.decode('01')", 0), ("return cjson.decode('0x10')", 0),
    ("return tostring(cjson.decode('-Infinity'))", 0), ("return cjson.decode('[1] x')", 0),
    ("return cjson.decode('\"\\\\x\"')", 0), ("return cjson.decode('\"abc')", 0), ("return cjson.decode('\\0a')", 0),
    ("return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))", 0),
    ("return cjson.encode(cjson.decode('[1.5e3, -0, 1E-2, 0.1]'))", 0),
    ("return cjson.encode(cjson.decode('{\"k\":{}}'))", 0), ("return cjson.decode('{\"a\":null}').a == cjson.null", 0),
    ("return {cjson.encode_sparse_array()}", 0), ("return cjson.encode_max_depth()", 0),
    ("return cmsgpack.pack({1,2,3})", 0), ("return cmsgpack.pack(3.14159, 0.5, {})", 0),
    ("return cmsgpack.pack(1.5, -1, 300, -300, 70000, 2^40, true, nil, 'str')", 0),
    ("return cmsgpack.pack(1/0, -1/0, 2^63, -2^63, 2^64)", 0),
    ("return cmsgpack.pack(string.rep('x', 40), string.rep('y', 300))", 0),
    ("return cmsgpack.pack({1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16})", 0),
    ("return cmsgpack.pack({[1]=1,[3]=3})", 0), ("return cmsgpack.pack()", 0),
    ("local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)", 0),
    ("return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2}))}", 0), ("return cmsgpack.unpack('')", 0),
    ("return cmsgpack.unpack('\\193')", 0), ("return {cmsgpack.unpack('\\146\\1')}", 0),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}", 0),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)}", 0),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", 0),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 5)}", 0), ("return {cmsgpack.unpack(123)}", 0),
    ("return cmsgpack.pack(function() end, {a=function() end})", 0),
    ("return {bit.tobit(0xffffffff), bit.tobit(2^32+5), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), bit.bnot(0), bit.bor(1,2,4), bit.bxor(5,3), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-16, 2), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5)}", 0),
    ("return bit.band()", 0), ("return bit.band('x')", 0), ("return bit.tohex(1, 20)", 0), ("return bit.band('7', 3)", 0),
    ("return {struct.pack('>i2<I4', -2, 5), struct.pack('!4bxhd', 1, 2, 3.5), struct.pack('s', 'ab'), struct.pack('c3', 'abcdef'), struct.pack('c0', 'abc'), struct.size('>i2I4d'), struct.pack('l', 1)}", 0),
    ("return {struct.unpack('>i2<I4', struct.pack('>i2<I4', -2, 5))}", 0),
    ("return {struct.unpack('bc0', struct.pack('bc0', 3, 'abc'))}", 0),
    ("return {struct.unpack('s', 'ab\\0cd')}", 0), ("return {struct.unpack('>I2', 'ab', 2)}", 0),
    ("return struct.pack('q', 1)", 0), ("return struct.unpack('I4', 'ab')", 0),
    ("return struct.pack('i17', -1)", 0), ("return {struct.unpack('d', struct.pack('d', 1.5))}", 0),
    ("return {struct.unpack('f', struct.pack('f', 1.5))}", 0), ("return struct.size('s')", 0),
    ("return struct.pack('>i2', 70000)", 0), ("return {struct.unpack('<i3', '\\255\\255\\255')}", 0),
    # shebangs
    ("#!lua flags=no-writes\nreturn redis.call('set','a','b')", 0),
    ("#!lua flags=no-writes\nreturn redis.pcall('set','a','b')", 0),
    ("#!lua flags=no-writes,allow-oom\nreturn 1", 0), ("#!lua flags=allow-cross-slot-keys\nreturn 1", 0),
    ("#!lua flags=bad\nreturn 1", 0), ("#!lua name=x\nreturn 1", 0), ("#!foo\nreturn 1", 0),
    ("#!lua\nreturn redis.call('get', 'zz')", 0), ("#!lua flags=\nreturn 1", 0),
    ("#!lua  flags=no-writes\nreturn 1", 0), ("#!lua", 0), ("#!lua\n", 0), ("#!\nreturn 1", 0),
    ("#!lua\nerror('line two')", 0),
]
RO_CORPUS: list[tuple[Any, ...]] = [
    ("return redis.call('set','a','b')", 0), ("#!lua\nreturn redis.call('set','a','b')", 0),
    ("#!lua flags=no-writes\nreturn redis.call('set','a','b')", 0), ("return redis.call('get','l')", 0),
]
SETUP: list[tuple[Any, ...]] = [
    ("RPUSH", "l", "a", "b", "c"), ("HSET", "h", "f", "1"), ("ZADD", "z", "1.5", "a"),
    ("SADD", "s", "a"), ("SET", "str", "hello"),
]
# fmt: on


@pytest.fixture(scope="module")
def pair2(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=2) as p:
        yield p


@pytest.fixture(scope="module")
def pair3(pika: PikaServer, real_redis: RedisServer) -> Iterator[Pair]:
    with Pair(pika.port, real_redis.port, resp=3) as p:
        yield p


def run_corpus(pair: Pair) -> list[str]:
    pair.reset()
    for cmd in SETUP:
        pair.both(*cmd)
    for script, *rest in CORPUS:
        pair.run("EVAL", script, *rest)
        pair.run("SELECT", 0)
    for script, *rest in RO_CORPUS:
        pair.run("EVAL_RO", script, *rest)
    for script, *_ in CORPUS[:40]:  # SCRIPT LOAD gives the same SHA, EVALSHA the same reply
        pair.run("SCRIPT", "LOAD", script)
    return [str(d) for d in pair.diffs]


@pytest.mark.parametrize("resp", [2, 3])
def test_corpus(pair2: Pair, pair3: Pair, resp: int) -> None:
    pair = pair2 if resp == 2 else pair3
    diffs = run_corpus(pair)
    assert not diffs, "\n".join(diffs)


# --- random scripts ----------------------------------------------------------------------------
KEYPOOL = ["k1", "k2", "{t}a", "l1", "h1", "s1", "z1"]
ARGPOOL = ["0", "1", "-1", "10", "abc", "3.5", "", "x y", "9223372036854775807"]
# statements: {k} -> a KEYS[...] reference, {a} -> an ARGV[...] reference
STATEMENTS = [
    "redis.call('set', {k}, {a})", "redis.call('incr', {k})", "redis.pcall('incr', {k})",
    "redis.call('incrby', {k}, {a})", "redis.pcall('incrby', {k}, {a})", "redis.call('del', {k})",
    "redis.call('rpush', {k}, {a})", "redis.pcall('lpush', {k}, {a}, {a})", "redis.call('append', {k}, {a})",
    "redis.pcall('hset', {k}, {a}, {a})", "redis.pcall('sadd', {k}, {a})", "redis.pcall('zadd', {k}, 1, {a})",
    "redis.pcall('expire', {k}, 100)", "redis.pcall('rename', {k}, {k})", "redis.call('setnx', {k}, {a})",
    "redis.pcall('getset', {k}, {a})", "redis.pcall('lpop', {k})", "redis.pcall('hincrby', {k}, 'f', {a})",
]  # fmt: skip
RETURNS = [
    "redis.call('get', {k})", "redis.pcall('get', {k})", "redis.call('exists', {k})",
    "redis.pcall('type', {k})", "redis.pcall('lrange', {k}, 0, -1)", "redis.pcall('llen', {k})",
    "redis.pcall('strlen', {k})", "redis.pcall('ttl', {k})", "{a}", "tonumber({a})", "#ARGV",
    "{redis.pcall('get', {k}), redis.pcall('exists', {k}), {a}}", "redis.pcall('incr', {k})",
    "redis.pcall('zrange', {k}, 0, -1, 'withscores')", "redis.pcall('hget', {k}, {a})",
    "type(redis.pcall('get', {k}))", "redis.pcall('scard', {k})", "{ok = {a}}", "{err = {a}}",
    "redis.status_reply({a})", "redis.error_reply({a})", "redis.pcall('incrbyfloat', {k}, {a})",
    "redis.pcall('getrange', {k}, 0, {a})", "{double = tonumber({a}) or 0}",
]  # fmt: skip


@st.composite
def scripts(draw: st.DrawFn) -> tuple[Any, ...]:
    nkeys = draw(st.integers(1, 3))
    nargs = draw(st.integers(1, 3))
    keys = draw(st.lists(st.sampled_from(KEYPOOL), min_size=nkeys, max_size=nkeys))
    args = draw(st.lists(st.sampled_from(ARGPOOL), min_size=nargs, max_size=nargs))

    def fill(template: str) -> str:
        out = template
        while "{k}" in out:
            out = out.replace("{k}", f"KEYS[{draw(st.integers(1, nkeys))}]", 1)
        while "{a}" in out:
            out = out.replace("{a}", f"ARGV[{draw(st.integers(1, nargs))}]", 1)
        return out

    body = [fill(s) for s in draw(st.lists(st.sampled_from(STATEMENTS), max_size=4))]
    ret = fill(draw(st.sampled_from(RETURNS)))
    if draw(st.booleans()):
        body.insert(0, "redis.setresp(3)")
    return ("\n".join([*body, f"return {ret}"]), nkeys, *keys, *args)


@diff_settings(120)
@given(batch=st.lists(scripts(), min_size=1, max_size=4))
def test_random_scripts(pair2: Pair, batch: list[tuple[Any, ...]]) -> None:
    pair2.clear()
    for script in batch:
        pair2.run("EVAL", *script)
    for key in KEYPOOL:
        pair2.run("TYPE", key)
        pair2.run("EVAL", "if redis.call('type', KEYS[1]).ok == 'string' then return redis.call('get', KEYS[1]) end", 1, key)  # fmt: skip
    assert not pair2.diffs, pair2.report()


@diff_settings(60)
@given(batch=st.lists(scripts(), min_size=1, max_size=3))
def test_random_scripts_resp3(pair3: Pair, batch: list[tuple[Any, ...]]) -> None:
    pair3.clear()
    for script in batch:
        pair3.run("EVAL", *script)
    assert not pair3.diffs, pair3.report()


def survey() -> None:
    pika = PikaServer(args=["--set", "enable-debug-command=yes"]).start()
    real = RedisServer().start()
    try:
        for resp in (2, 3):
            with Pair(pika.port, real.port, resp=resp) as pair:
                for d in run_corpus(pair):
                    print(f"[RESP{resp}] {d}")
    finally:
        pika.cleanup()
        real.cleanup()


if __name__ == "__main__":
    survey()
