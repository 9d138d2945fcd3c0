"""The Lua side of the scripting engine: Redis 7.0's sandbox, ``redis.*`` API and reply
conversions, written in Lua 5.1 and run once in each Lua state (chunk ``=[pikadb]``).

Why Lua and not Python: replies cross the Python/Lua boundary once as a string, in both
directions. ``redis.call`` gets the command's RESP reply from Python and parses it here into
Lua values; a script's return value is turned into RESP here. Number formatting then comes
from the same C ``sprintf`` Redis uses (``%.17g``, ``(long long)`` casts via ``%d``), so
``return 1/0``, ``-nan`` and friends match byte for byte.

Sandbox (stock Lua 5.1 has no read-only tables, Redis patches them in):

* Scripts run with a *proxy* as globals (their functions' environment; ``load`` and
  ``loadstring`` give it to the chunks they compile; the thread's own globals stay lupa's,
  which lupa itself needs, e.g. ``debug.traceback``). A proxy is an empty table whose metatable reads through
  (``__index``) to the real table and refuses writes (``__newindex``: "Attempt to modify a
  readonly table"); ``__metatable`` hides the metatable behind an empty read-only table.
  The real globals table has an ``__index`` raising "Script attempted to access nonexistent
  global variable". Library tables (string, math, redis, cjson...) are proxies too.
* ``next``/``pairs``/``ipairs``/``rawget`` see through proxies; ``rawset``,
  ``setmetatable``, ``table.insert``/``remove`` refuse them.
* Not exposed: os, io, package, require, dofile, loadfile, print, module, debug, getfenv,
  setfenv, newproxy, python (lupa's). Binary chunks are refused by ``load``/``loadstring``.
* Python callables are only ever upvalues here: scripts cannot reach them (no ``debug``).

Python passes a table ``P`` of callbacks (see :mod:`pikadb.commands._lua_runtime`) and gets
back a table of entry points (``run``, ``compile``, ``load_library``...).
"""

PRELUDE = r"""
local P = ...
local MODE = P.mode
local py_call, py_log, py_setresp = P.call, P.log, P.setresp
local py_sha1hex, py_interrupt, py_random, py_randomseed = P.sha1hex, P.interrupt, P.random, P.randomseed
local py_acl, py_untail = P.acl_check_cmd, P.untail

local type, next, ipairs, rawget, rawset, rawequal, select, tostring, tonumber =
      type, next, ipairs, rawget, rawset, rawequal, select, tostring, tonumber
local error, pcall, xpcall, setmetatable, getmetatable, unpack, loadstring, load =
      error, pcall, xpcall, setmetatable, getmetatable, unpack, loadstring, load
local setfenv, newproxy = setfenv, newproxy
local string, math, table, coroutine = string, math, table, coroutine
local sformat, ssub, sbyte, sfind, sgsub, slower = string.format, string.sub, string.byte, string.find, string.gsub, string.lower
local tconcat = table.concat
local floor = math.floor
local sethook, getinfo, dgetmetatable = debug.sethook, debug.getinfo, debug.getmetatable
local INTERNAL = "=[pikadb]"
local G0 = getfenv(1)

-- read-only proxies --------------------------------------------------------------------
local RO = "Attempt to modify a readonly table"
local real_of = setmetatable({}, {__mode = "k"})
local function ro_newindex() error(RO, 2) end
local EMPTY = {}
setmetatable(EMPTY, {__newindex = ro_newindex, __metatable = EMPTY})
real_of[EMPTY] = {}
local function readonly(t)
  local p = setmetatable({}, {__index = t, __newindex = ro_newindex, __metatable = EMPTY})
  real_of[p] = t
  return p
end
local function missing_global(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

local function argtype(n, v) if n == 0 then return "no value" end return type(v) end
local function argerr(i, fname, expected, n, v)
  error(sformat("bad argument #%d to '%s' (%s expected, got %s)", i, fname, expected, argtype(n, v)), 3)
end

local function s_next(...)
  local t, k = ...
  local r = real_of[t]
  if r ~= nil then return next(r, k) end
  if type(t) ~= "table" then argerr(1, "next", "table", select("#", ...), t) end
  return next(t, k)
end
local function s_pairs(...)
  local t = ...
  if real_of[t] ~= nil then return s_next, t, nil end
  if type(t) ~= "table" then argerr(1, "pairs", "table", select("#", ...), t) end
  return next, t, nil
end
local function s_ipairs(...)
  local t = ...
  local r = real_of[t]
  if r ~= nil then return ipairs(r) end
  if type(t) ~= "table" then argerr(1, "ipairs", "table", select("#", ...), t) end
  return ipairs(t)
end
local function s_rawget(...)
  local t, k = ...
  local r = real_of[t]
  if r ~= nil then return rawget(r, k) end
  if type(t) ~= "table" then argerr(1, "rawget", "table", select("#", ...), t) end
  return rawget(t, k)
end
local function s_rawset(...)
  local t = ...
  if real_of[t] ~= nil then error(RO, 0) end
  if type(t) ~= "table" then argerr(1, "rawset", "table", select("#", ...), t) end
  return rawset(...)
end
local function s_setmetatable(...)
  local t, mt = ...
  if real_of[t] ~= nil then error(RO, 0) end
  if type(t) ~= "table" then argerr(1, "setmetatable", "table", select("#", ...), t) end
  if mt ~= nil and type(mt) ~= "table" then
    error("bad argument #2 to 'setmetatable' (nil or table expected)", 2)
  end
  local old = dgetmetatable(t)
  if old ~= nil and rawget(old, "__metatable") ~= nil then
    error("cannot change a protected metatable", 2)
  end
  return setmetatable(t, mt)
end
local function no_binary(s) return type(s) == "string" and sbyte(s, 1) == 27 end
local function binary_error(s, name)
  local shown = name or ssub(s, 1, (sfind(s, "[%z\n]") or (#s + 1)) - 1)
  return nil, '[string "' .. shown .. '"]:1: unexpected symbol near \'char(27)\''
end
local E -- the scripts' globals (below): chunks they load get it too
local function with_env(f, err)
  if f ~= nil then setfenv(f, E) end
  return f, err
end
local function s_loadstring(s, name)
  if no_binary(s) then return binary_error(s, name) end
  return with_env(loadstring(s, name))
end
local function s_load(f, name)
  if type(f) ~= "function" then return load(f, name) end
  local parts = {}
  while true do
    local piece = f()
    if piece == nil or piece == "" then break end
    if type(piece) ~= "string" then return nil, "reader function must return a string" end
    parts[#parts + 1] = piece
  end
  local s = tconcat(parts)
  if no_binary(s) then return binary_error(s, name or "=(load)") end
  return with_env(loadstring(s, name or "=(load)"))
end

do
  local insert, remove = table.insert, table.remove
  table.insert = function(...)
    if real_of[(...)] ~= nil then error(RO, 0) end
    return insert(...)
  end
  table.remove = function(...)
    if real_of[(...)] ~= nil then error(RO, 0) end
    return remove(...)
  end
end

-- math.random as Redis (redisLrand48, not reseeded per call) ------------------------------
local function checkint(i, fname, n, v)
  local x = tonumber(v)
  if x == nil then argerr(i, fname, "number", n, v) end
  if x >= 0 then return floor(x) end
  return -floor(-x)
end
math.random = function(...)
  local n = select("#", ...)
  local r = py_random()
  if n == 0 then return r end
  local a, b = ...
  if n == 1 then
    local u = checkint(1, "random", 1, a)
    if not (1 <= u) then error("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * u) + 1
  elseif n == 2 then
    local l = checkint(1, "random", 2, a)
    local u = checkint(2, "random", 2, b)
    if not (l <= u) then error("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (u - l + 1)) + l
  end
  error("wrong number of arguments", 2)
end
math.randomseed = function(...)
  local n = select("#", ...)
  py_randomseed(checkint(1, "randomseed", n, (...)))
end

-- errors --------------------------------------------------------------------------------
local function trim_crlf(s)
  return (sgsub(sgsub(s, "^[\r\n]+", ""), "[\r\n]+$", ""))
end
-- luaPushErrorBuff: "-CODE msg" or "msg" -> {err = "CODE msg"}
local function error_table(s)
  local code, msg
  if sbyte(s, 1) == 45 then
    local sp = sfind(s, " ", 1, true)
    if sp == nil then code, msg = "ERR", ssub(s, 2) else code, msg = ssub(s, 2, sp - 1), ssub(s, sp + 1) end
  else
    code, msg = "ERR", s
  end
  return {err = code .. " " .. trim_crlf(msg)}
end

-- The error handler of script calls (Redis's __redis__err__handler, 7.0 flavour). Frames of
-- this chunk stand for Redis's C functions and are skipped, like C frames (and the frames
-- our wrappers' own tail calls lost).
local function errh(err)
  local level = 2
  local i = getinfo(level, "Sl")
  while i and (i.what == "C" or i.what == "tail" or i.source == INTERNAL) do
    level = level + 1
    i = getinfo(level, "Sl")
  end
  if type(err) ~= "table" then err = {err = "ERR " .. tostring(err)} end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end

-- RESP (a command's reply) -> Lua ------------------------------------------------------
local parse
local function parse_agg(s, p, e, c)
  local len = tonumber(ssub(s, p + 1, e - 1))
  p = e + 2
  if c == 42 then -- *
    if len < 0 then return false, p end
    local t = {}
    for i = 1, len do t[i], p = parse(s, p) end
    return t, p
  elseif c == 37 then -- %
    local m = {}
    for _ = 1, len do
      local k, v
      k, p = parse(s, p)
      v, p = parse(s, p)
      if k ~= nil then m[k] = v end
    end
    return {map = m}, p
  elseif c == 126 then -- ~
    local m = {}
    for _ = 1, len do
      local k
      k, p = parse(s, p)
      if k ~= nil then m[k] = true end
    end
    return {set = m}, p
  elseif c == 62 then -- > (push: as an array)
    local t = {}
    for i = 1, len do t[i], p = parse(s, p) end
    return t, p
  end
  -- | attribute: skipped, the reply follows
  for _ = 1, len * 2 do local _v; _v, p = parse(s, p) end
  return parse(s, p)
end
parse = function(s, p)
  local c = sbyte(s, p)
  local e = sfind(s, "\r\n", p + 1, true)
  if c == 36 then -- $
    local len = tonumber(ssub(s, p + 1, e - 1))
    if len < 0 then return false, e + 2 end
    return ssub(s, e + 2, e + 1 + len), e + 4 + len
  elseif c == 58 then -- :
    return tonumber(ssub(s, p + 1, e - 1)), e + 2
  elseif c == 43 then -- +
    return {ok = ssub(s, p + 1, e - 1)}, e + 2
  elseif c == 45 then -- -
    local t = error_table(ssub(s, p, e - 1))
    t.ignore_error_stats_update = true
    return t, e + 2
  elseif c == 95 then -- _
    return nil, e + 2
  elseif c == 35 then -- #
    return sbyte(s, p + 1) == 116, e + 2
  elseif c == 44 then -- ,
    return {double = tonumber(ssub(s, p + 1, e - 1))}, e + 2
  elseif c == 40 then -- (
    return {big_number = ssub(s, p + 1, e - 1)}, e + 2
  elseif c == 61 then -- =
    local len = tonumber(ssub(s, p + 1, e - 1))
    return {verbatim_string = {format = ssub(s, e + 2, e + 4), string = ssub(s, e + 6, e + 1 + len)}}, e + 4 + len
  elseif c == 33 then -- !
    local len = tonumber(ssub(s, p + 1, e - 1))
    local t = error_table("-" .. ssub(s, e + 2, e + 1 + len))
    t.ignore_error_stats_update = true
    return t, e + 4 + len
  end
  return parse_agg(s, p, e, c)
end

-- Lua -> RESP (a script's return value) -------------------------------------------------
local sresp = 2 -- RESP of the script's own client (redis.setresp)
local function nocrlf(s) return (sgsub(s, "[\r\n]", " ")) end
local function dbl(d, cresp)
  if d == 1/0 then return cresp == 2 and "$3\r\ninf\r\n" or ",inf\r\n" end
  if d == -1/0 then return cresp == 2 and "$4\r\n-inf\r\n" or ",-inf\r\n" end
  local s = sformat("%.17g", d)
  if cresp == 2 then return "$" .. #s .. "\r\n" .. s .. "\r\n" end
  return "," .. s .. "\r\n"
end
local errs -- error replies inside the reply: {message, ignore_error_stats_update, ...}
local encode
encode = function(v, out, n, cresp)
  local t = type(v)
  if t == "string" then
    out[n + 1] = "$" .. #v .. "\r\n"
    out[n + 2] = v
    out[n + 3] = "\r\n"
    return n + 3
  elseif t == "number" then
    out[n + 1] = sformat(":%d\r\n", v)
    return n + 1
  elseif t == "boolean" then
    if sresp == 2 then
      if v then out[n + 1] = ":1\r\n" else out[n + 1] = cresp == 2 and "$-1\r\n" or "_\r\n" end
    elseif cresp == 2 then
      out[n + 1] = v and ":1\r\n" or ":0\r\n"
    else
      out[n + 1] = v and "#t\r\n" or "#f\r\n"
    end
    return n + 1
  elseif t ~= "table" then
    out[n + 1] = cresp == 2 and "$-1\r\n" or "_\r\n"
    return n + 1
  end
  local f = rawget(v, "err")
  if type(f) == "string" then
    out[n + 1] = "-" .. nocrlf(f) .. "\r\n"
    if errs == nil then errs = {} end
    errs[#errs + 1] = f
    errs[#errs + 1] = rawget(v, "ignore_error_stats_update") == true
    return n + 1
  end
  f = rawget(v, "ok")
  if type(f) == "string" then
    out[n + 1] = "+" .. nocrlf(f) .. "\r\n"
    return n + 1
  end
  f = rawget(v, "double")
  if type(f) == "number" then
    out[n + 1] = dbl(f, cresp)
    return n + 1
  end
  f = rawget(v, "big_number")
  if type(f) == "string" then
    f = nocrlf(f)
    out[n + 1] = cresp == 2 and ("$" .. #f .. "\r\n" .. f .. "\r\n") or ("(" .. f .. "\r\n")
    return n + 1
  end
  f = rawget(v, "verbatim_string")
  if type(f) == "table" then
    local fmt, str = rawget(f, "format"), rawget(f, "string")
    if type(fmt) == "string" and type(str) == "string" then
      if cresp == 2 then
        out[n + 1] = "$" .. #str .. "\r\n"
      else
        fmt = ssub(fmt .. "\0\0\0", 1, 3)
        out[n + 1] = "=" .. (#str + 4) .. "\r\n" .. fmt .. ":"
      end
      out[n + 2] = str
      out[n + 3] = "\r\n"
      return n + 3
    end
  end
  f = rawget(v, "map")
  if type(f) == "table" then
    local h = n + 1
    n = h
    local count = 0
    for k, x in next, f do
      n = encode(k, out, n, cresp)
      n = encode(x, out, n, cresp)
      count = count + 1
    end
    out[h] = cresp == 2 and ("*" .. (count * 2) .. "\r\n") or ("%" .. count .. "\r\n")
    return n
  end
  f = rawget(v, "set")
  if type(f) == "table" then
    local h = n + 1
    n = h
    local count = 0
    for k in next, f do
      n = encode(k, out, n, cresp)
      count = count + 1
    end
    out[h] = cresp == 2 and ("*" .. count .. "\r\n") or ("~" .. count .. "\r\n")
    return n
  end
  local h = n + 1
  n = h
  local j = 1
  while true do
    local x = rawget(v, j)
    if x == nil then break end
    n = encode(x, out, n, cresp)
    j = j + 1
  end
  out[h] = "*" .. (j - 1) .. "\r\n"
  return n
end
local function to_resp(v, cresp)
  local t = type(v)
  if t == "string" then return "$" .. #v .. "\r\n" .. v .. "\r\n" end
  if t == "number" then return sformat(":%d\r\n", v) end
  local out = {}
  local n = encode(v, out, 0, cresp)
  return tconcat(out, "", 1, n)
end

-- redis.* --------------------------------------------------------------------------------
-- py_call returns the reply's value itself for bulk strings, integers and nulls (no kind),
-- (RESP, 3) for anything else, or (message, 1|2) for errors raised before the command ran
-- (2: with ignore_error_stats_update, as Redis's scriptCall errors).
local function raise_arg(kind, r)
  local e = {err = r}
  if kind == 2 then e.ignore_error_stats_update = true end
  return e
end
local function r_call(...)
  local r, kind = py_call(...)
  if kind == nil then return r end
  if kind == 3 then
    local v = parse(r, 1)
    local c = sbyte(r, 1)
    if c == 45 or c == 33 then error(v) end
    return v
  end
  error(raise_arg(kind, r))
end
local function r_pcall(...)
  local r, kind = py_call(...)
  if kind == nil then return r end
  if kind == 3 then return (parse(r, 1)) end
  return raise_arg(kind, r)
end
local function isstr(v) local t = type(v) return t == "string" or t == "number" end
local function r_log(...)
  local argc = select("#", ...)
  if argc < 2 then error({err = "ERR redis.log() requires two arguments or more."}) end
  local level = tonumber((...))
  if level == nil then error({err = "ERR First argument must be a number (log level)."}) end
  level = level >= 0 and floor(level) or -floor(-level)
  if level < 0 or level > 3 then error({err = "ERR Invalid debug level."}) end
  local parts, first = {}, true
  for j = 2, argc do
    local s = select(j, ...)
    if isstr(s) then
      if j ~= 2 then parts[#parts + 1] = " " end
      parts[#parts + 1] = tostring(s)
    end
  end
  py_log(level, tconcat(parts))
end
local function r_setresp(...)
  if select("#", ...) ~= 1 then error({err = "ERR redis.setresp() requires one argument."}) end
  local resp = tonumber((...)) or 0
  resp = resp >= 0 and floor(resp) or -floor(-resp)
  if resp ~= 2 and resp ~= 3 then error({err = "ERR RESP version must be 2 or 3."}) end
  sresp = resp
  py_setresp(resp)
end
local function r_set_repl(...)
  if select("#", ...) ~= 1 then error({err = "ERR redis.set_repl() requires two arguments."}) end
  local flags = tonumber((...)) or 0
  flags = flags >= 0 and floor(flags) or -floor(-flags)
  if flags < 0 or flags > 3 then
    error({err = "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."})
  end
end
local function r_sha1hex(...)
  if select("#", ...) ~= 1 then error({err = "ERR wrong number of arguments"}) end
  local s = ...
  if type(s) == "number" then s = tostring(s) elseif type(s) ~= "string" then s = "" end
  return py_sha1hex(s)
end
local function r_error_reply(...)
  local e = ...
  if select("#", ...) ~= 1 or type(e) ~= "string" then
    return {err = "ERR wrong number or type of arguments"}
  end
  if sbyte(e, 1) ~= 45 then e = "-" .. e end
  return error_table(e)
end
local function r_status_reply(...)
  local s = ...
  if select("#", ...) ~= 1 or type(s) ~= "string" then
    return {err = "ERR wrong number or type of arguments"}
  end
  return {ok = s}
end
local function r_acl_check_cmd(...)
  local r, kind = py_acl(...)
  if kind then error(raise_arg(kind, r)) end
  return r
end

-- Redis's pcall: an error table with an err field comes back as its message
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == "table" then
    local m = e.err
    if isstr(m) then return false, m end
  end
  return false, e
end
local function s_pcall(...)
  if select("#", ...) == 0 then return nil end
  return pcall_result(pcall(...))
end

-- the count hook: busy-reply-threshold, SCRIPT KILL, FUNCTION LOAD timeout -------------------
-- Always set, it acts only while user code runs (``running``, cleared on the line that
-- returns from it: after a kill the hook fires on every new line, so that pcall cannot
-- swallow the error, as in Redis).
local HOOK_COUNT = 100000
local hook
local running = false
local line_mode = false
hook = function()
  if not running then return end
  local msg = py_interrupt()
  if msg then
    line_mode = true
    sethook(hook, "l")
    error({err = msg})
  end
end
sethook(hook, "", HOOK_COUNT)
local function arm()
  if line_mode then
    line_mode = false
    sethook(hook, "", HOOK_COUNT)
  end
  running = true
end


-- globals --------------------------------------------------------------------------------
local LIBS = P.libs
local G = {}
for _, k in ipairs({"assert", "collectgarbage", "error", "gcinfo", "getmetatable", "select",
                    "tonumber", "tostring", "type", "unpack", "xpcall", "rawequal", "_VERSION"}) do
  G[k] = G0[k]
end
G.load, G.loadstring = s_load, s_loadstring
G.next, G.pairs, G.ipairs, G.rawget, G.rawset, G.setmetatable = s_next, s_pairs, s_ipairs, s_rawget, s_rawset, s_setmetatable
G.pcall = s_pcall
G.string, G.math, G.table, G.coroutine = readonly(string), readonly(math), readonly(table), readonly(coroutine)
for name, lib in next, LIBS do G[name] = readonly(lib) end
do -- the string metatable: __index reads the read-only string table, and is read-only itself
  local smt = dgetmetatable("")
  smt.__index = G.string
  smt.__metatable = readonly({__index = G.string})
end

local R = {
  call = r_call, pcall = r_pcall, log = r_log, setresp = r_setresp, sha1hex = r_sha1hex,
  error_reply = r_error_reply, status_reply = r_status_reply, set_repl = r_set_repl,
  acl_check_cmd = r_acl_check_cmd,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = P.version, REDIS_VERSION_NUM = P.version_num,
}
if MODE == "eval" then
  R.breakpoint = function() return false end
  R.debug = function() end
  R.replicate_commands = function() return true end
  G.__redis__err__handler = errh
end
G.redis = readonly(R)
setmetatable(G, {__index = missing_global})

E = {} -- what scripts see as their globals (and _G)
local ENV_MT = {__index = G, __newindex = ro_newindex, __metatable = EMPTY}
setmetatable(E, ENV_MT)
real_of[E] = G
G._G = E

-- scripts are compiled without tail calls (see _lua_bytecode.py: error line numbers)
local sdump = string.dump
local function untail(f)
  local patched = py_untail(sdump(f))
  if patched == nil then return f end
  return loadstring(patched) or f
end

-- eval -----------------------------------------------------------------------------------
local function fail(e)
  local m = e
  if type(e) == "table" then m = e.err else e = {} end
  if type(m) == "number" then m = tostring(m) elseif type(m) ~= "string" then m = nil end
  local src, line = e.source, e.line
  if type(src) == "number" then src = tostring(src) elseif type(src) ~= "string" then src = nil end
  if type(line) == "number" then line = tostring(line) elseif type(line) ~= "string" then line = nil end
  return 0, m, src, line, e.ignore_error_stats_update == true
end
local function finish(ok, res, cresp)
  if not ok then return fail(res) end
  errs = nil
  local ok2, s = pcall(to_resp, res, cresp)
  if ok2 then return 1, s, errs end
  return 0, "ERR reached lua stack limit"
end
local function keys_argv(nkeys, ...)
  local keys = {...}
  local n = select("#", ...)
  local argv = {}
  for i = nkeys + 1, n do
    argv[i - nkeys] = keys[i]
    keys[i] = nil
  end
  return keys, argv
end

local API = {}
function API.run_eval(fn, cresp, nkeys, ...)
  sresp = 2
  local keys, argv = keys_argv(nkeys, ...)
  rawset(G, "KEYS", keys)
  rawset(G, "ARGV", argv)
  -- "running = false" on the same line: after a kill the hook fires on every new line
  arm() local ok, res = xpcall(fn, errh) running = false
  return finish(ok, res, cresp)
end
function API.compile_eval(code)
  local chunk, err = loadstring(code, "@user_script")
  if chunk == nil then return nil, err end
  chunk = untail(chunk)
  setfenv(chunk, E)
  return chunk
end

-- functions ------------------------------------------------------------------------------
local FLAGS = {["no-writes"] = 1, ["allow-oom"] = 2, ["allow-stale"] = 4, ["no-cluster"] = 8,
               ["allow-cross-slot-keys"] = 16}
local loading = nil
local function check_name(name)
  if name == "" or sfind(name, "[^%w_]") then
    error({err = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"})
  end
end
local function register_function(...)
  if loading == nil then
    error({err = "ERR redis.register_function can only be called on FUNCTION LOAD command"})
  end
  local argc = select("#", ...)
  if argc < 1 or argc > 2 then error({err = "ERR wrong number of arguments to redis.register_function"}) end
  local name, fn, desc, flags = nil, nil, nil, 0
  if argc == 1 then
    local t = ...
    if type(t) ~= "table" then
      error({err = "ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."})
    end
    for k, v in next, t do
      if not isstr(k) then error({err = "ERR named argument key given to redis.register_function is not a string"}) end
      local lk = slower(tostring(k))
      if lk == "function_name" then
        if not isstr(v) then error({err = "ERR function_name argument given to redis.register_function must be a string"}) end
        name = tostring(v)
      elseif lk == "description" then
        if not isstr(v) then error({err = "ERR description argument given to redis.register_function must be a string"}) end
        desc = tostring(v)
      elseif lk == "callback" then
        if type(v) ~= "function" then error({err = "ERR callback argument given to redis.register_function must be a function"}) end
        fn = v
      elseif lk == "flags" then
        if type(v) ~= "table" then error({err = "ERR flags argument to redis.register_function must be a table representing function flags"}) end
        local j = 1
        while true do
          local f = v[j]
          if f == nil then break end
          if not isstr(f) then error({err = "ERR unknown flag given"}) end
          local bit = FLAGS[slower(tostring(f))]
          if bit == nil then error({err = "ERR unknown flag given"}) end
          if flags % (2 * bit) < bit then flags = flags + bit end
          j = j + 1
        end
      else
        error({err = "ERR unknown argument given to redis.register_function"})
      end
    end
    if name == nil then error({err = "ERR redis.register_function must get a function name argument"}) end
    if fn == nil then error({err = "ERR redis.register_function must get a callback argument"}) end
  else
    name, fn = ...
    if not isstr(name) then error({err = "ERR first argument to redis.register_function must be a string"}) end
    name = tostring(name)
    if type(fn) ~= "function" then error({err = "ERR second argument to redis.register_function must be a function"}) end
  end
  check_name(name)
  if loading.names[name] then error({err = "ERR Function already exists in the library"}) end
  loading.names[name] = true
  local list = loading.list
  list[#list + 1] = {name, fn, desc or false, flags}
end

local LOAD_R = setmetatable({register_function = register_function, log = r_log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = P.version, REDIS_VERSION_NUM = P.version_num}, {__index = missing_global})
local LOAD_API = setmetatable({redis = readonly(LOAD_R)}, {__index = missing_global})

function API.load_library(code)
  local chunk, err = loadstring(code, "@user_function")
  if chunk == nil then return nil, "Error compiling function: " .. err end
  chunk = untail(chunk)
  setfenv(chunk, E)
  loading = {names = {}, list = {}}
  ENV_MT.__index = LOAD_API
  arm() local ok, e = pcall(chunk) running = false
  ENV_MT.__index = G
  local result = loading.list
  loading = nil
  if not ok then
    local m
    if isstr(e) then m = "ERR " .. tostring(e)
    elseif type(e) == "table" and isstr(e.err) then m = tostring(e.err)
    else m = "(null)" end
    return nil, "Error registering functions: " .. m
  end
  return result
end
function API.run_function(fn, cresp, nkeys, ...)
  sresp = 2
  local keys, argv = keys_argv(nkeys, ...)
  arm() local ok, res = xpcall(function() return fn(keys, argv) end, errh) running = false
  return finish(ok, res, cresp)
end

local gcount = collectgarbage
function API.memory() return gcount("count") * 1024 end

return API
"""
