"""lua-cjson 2.1.0 (the version Redis 7.0 bundles) written in Lua: ``cjson.encode`` /
``decode`` and the configuration functions, with the C library's rules and error texts.

Encoding: numbers with ``%.14g`` (NaN/Inf refused), strings escaped as lua-cjson does (``/``
and DEL included), a table is an array when all its keys are positive integers and it is not
"excessively sparse" (max key > 2 x count and > 10: error), otherwise an object (an empty
table is ``{}``), keys in ``next`` order, nesting up to 1000. Decoding: strtod numbers
(hex, Infinity and NaN accepted), ``\\uXXXX`` with surrogate pairs, ``null`` ->
``cjson.null``, "Expected X but found Y at character N" errors.

It is the tail of one Lua chunk whose head (:data:`pikadb.commands._lua_libs._WRAPPERS_LUA`)
defines the locals used here; errors are raised at level 0 inside and re-raised at the
caller's line by ``cjson.encode`` / ``decode``, as ``luaL_error`` would.
"""

CJSON_LUA = r"""
-- cjson 2.1.0 ---------------------------------------------------------------------------
local NULL = newproxy(false)
local cfg = {convert = false, ratio = 2, safe = 10, enc_depth = 1000, dec_depth = 1000,
             precision = 14, enc_invalid = false, dec_invalid = true, keep = true}
local numfmt = "%.14g"
local ESC = {}
for i = 0, 31 do ESC[schar(i)] = sformat("\\u%04x", i) end
ESC["\b"], ESC["\t"], ESC["\n"], ESC["\f"], ESC["\r"] = "\\b", "\\t", "\\n", "\\f", "\\r"
ESC['"'], ESC["\\"], ESC["/"], ESC["\127"] = '\\"', "\\\\", "\\/", "\\u007f"
local function enc_string(s) return '"' .. sgsub(s, '[%c"\\/]', ESC) .. '"' end
local function enc_number(n)
  if not cfg.enc_invalid and (n ~= n or n == 1/0 or n == -1/0) then
    error("Cannot serialise number: must not be NaN or Inf", 0)
  end
  return sformat(numfmt, n)
end
local function array_length(t)
  local max, items = 0, 0
  for k in next, t do
    if type(k) == "number" and k >= 1 and floor(k) == k then
      if k > max then max = k end
      items = items + 1
    else
      return -1
    end
  end
  if cfg.ratio > 0 and max > items * cfg.ratio and max > cfg.safe then
    if not cfg.convert then error("Cannot serialise table: excessively sparse array", 0) end
    return -1
  end
  return max
end
local enc
enc = function(v, out, n, depth)
  local t = type(v)
  if t == "string" then out[n + 1] = enc_string(v) return n + 1 end
  if t == "number" then out[n + 1] = enc_number(v) return n + 1 end
  if t == "boolean" then out[n + 1] = v and "true" or "false" return n + 1 end
  if t == "nil" or v == NULL then out[n + 1] = "null" return n + 1 end
  if t ~= "table" then error("Cannot serialise " .. t .. ": type not supported", 0) end
  depth = depth + 1
  if depth > cfg.enc_depth then error(sformat("Cannot serialise, excessive nesting (%d)", depth), 0) end
  local len = array_length(v)
  if len > 0 then
    out[n + 1] = "["
    n = n + 1
    for i = 1, len do
      if i > 1 then out[n + 1] = "," n = n + 1 end
      n = enc(rawget(v, i), out, n, depth)
    end
    out[n + 1] = "]"
    return n + 1
  end
  out[n + 1] = "{"
  n = n + 1
  local first = true
  for k, x in next, v do
    if not first then out[n + 1] = "," n = n + 1 end
    first = false
    local kt = type(k)
    if kt == "number" then
      out[n + 1] = '"' .. enc_number(k) .. '":'
    elseif kt == "string" then
      out[n + 1] = enc_string(k) .. ":"
    else
      error("Cannot serialise " .. kt .. ": table key must be a number or string", 0)
    end
    n = enc(x, out, n + 1, depth)
  end
  out[n + 1] = "}"
  return n + 1
end
local function encode_value(v)
  local out = {}
  local n = enc(v, out, 0, 0)
  return tconcat(out, "", 1, n)
end

-- decoding
local TOKNAME = {["{"] = "T_OBJ_BEGIN", ["}"] = "T_OBJ_END", ["["] = "T_ARR_BEGIN",
  ["]"] = "T_ARR_END", ["str"] = "T_STRING", ["num"] = "T_NUMBER", ["bool"] = "T_BOOLEAN",
  ["null"] = "T_NULL", [":"] = "T_COLON", [","] = "T_COMMA", ["end"] = "T_END"}
local UNESC = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", t = "\t", n = "\n", f = "\f", r = "\r"}
local function utf8(cp)
  if cp <= 0x7F then return schar(cp) end
  if cp <= 0x7FF then return schar(floor(cp / 64) + 0xC0, cp % 64 + 0x80) end
  if cp <= 0xFFFF then
    return schar(floor(cp / 4096) + 0xE0, floor(cp / 64) % 64 + 0x80, cp % 64 + 0x80)
  end
  return schar(floor(cp / 262144) + 0xF0, floor(cp / 4096) % 64 + 0x80, floor(cp / 64) % 64 + 0x80, cp % 64 + 0x80)
end
local function strtod(s, i)
  local m = s:match("^[+-]?[iI][nN][fF][iI][nN][iI][tT][yY]", i) or s:match("^[+-]?[iI][nN][fF]", i)
         or s:match("^[+-]?[nN][aA][nN]", i)
  if not m then
    m = s:match("^[+-]?0[xX]%x*%.?%x*", i)
    if m and m:find("%x", (m:find("[xX]")) + 1) then
      local e = s:match("^[pP][+-]?%d+", i + #m)
      if e then m = m .. e end
    else
      m = s:match("^[+-]?%d*%.?%d*", i)
      if not m:find("%d") then return nil end
      local e = s:match("^[eE][+-]?%d+", i + #m)
      if e then m = m .. e end
    end
  end
  local v = tonumber(m)
  if v == nil then return nil end
  return v, i + #m
end
local function invalid_number(s, i)
  local c = ssub(s, i, i)
  if c == "+" then return true end
  if c == "-" then i = i + 1 c = ssub(s, i, i) end
  if c == "0" then
    local c2 = ssub(s, i + 1, i + 1)
    return c2 == "x" or c2 == "X" or (c2 >= "0" and c2 <= "9" and c2 ~= "")
  elseif c ~= "" and c <= "9" then
    return false
  end
  local w = slower(ssub(s, i, i + 2))
  return w == "inf" or w == "nan"
end

local function decode(s)
  if #s >= 2 and (sbyte(s, 1) == 0 or sbyte(s, 2) == 0) then
    error("JSON parser does not support UTF-16 or UTF-32", 0)
  end
  local pos = 1
  local depth = 0
  -- returns kind, value, start (1-based); kind "err" carries the reason as value
  local function token()
    local c
    while true do
      c = sbyte(s, pos)
      if c ~= 32 and c ~= 9 and c ~= 10 and c ~= 13 then break end
      pos = pos + 1
    end
    local start = pos
    if c == nil or c == 0 then return "end", nil, start end
    local ch = schar(c)
    if ch == "{" or ch == "}" or ch == "[" or ch == "]" or ch == "," or ch == ":" then
      pos = pos + 1
      return ch, nil, start
    end
    if ch == '"' then
      local parts = {}
      local p = pos + 1
      while true do
        local q = sfind(s, '[\\"%z]', p)
        if q == nil then pos = #s + 1 return "err", "unexpected end of string", pos end
        parts[#parts + 1] = ssub(s, p, q - 1)
        local d = ssub(s, q, q)
        if d == '"' then pos = q + 1 break end
        if d == "\0" then pos = q return "err", "unexpected end of string", q end
        local e = ssub(s, q + 1, q + 1)
        if e == "u" then
          local hex = ssub(s, q + 2, q + 5)
          local cp = #hex == 4 and not hex:find("%X") and tonumber(hex, 16)
          if not cp then pos = q return "err", "invalid unicode escape code", q end
          local used = 6
          if cp >= 0xD800 and cp <= 0xDFFF then
            if cp >= 0xDC00 or ssub(s, q + 6, q + 7) ~= "\\u" then pos = q return "err", "invalid unicode escape code", q end
            local hex2 = ssub(s, q + 8, q + 11)
            local lo = #hex2 == 4 and not hex2:find("%X") and tonumber(hex2, 16)
            if not lo or lo < 0xDC00 or lo > 0xDFFF then pos = q return "err", "invalid unicode escape code", q end
            cp = (cp - 0xD800) * 1024 + (lo - 0xDC00) + 0x10000
            used = 12
          end
          parts[#parts + 1] = utf8(cp)
          p = q + used
        else
          local r = UNESC[e]
          if not r then pos = q return "err", "invalid escape code", q end
          parts[#parts + 1] = r
          p = q + 2
        end
      end
      return "str", tconcat(parts), start
    end
    if ch == "-" or (c >= 48 and c <= 57) then
      if not cfg.dec_invalid and invalid_number(s, pos) then return "err", "invalid number", start end
      local v, np = strtod(s, pos)
      if v == nil then return "err", "invalid number", start end
      pos = np
      return "num", v, start
    end
    if ssub(s, pos, pos + 3) == "true" then pos = pos + 4 return "bool", true, start end
    if ssub(s, pos, pos + 4) == "false" then pos = pos + 5 return "bool", false, start end
    if ssub(s, pos, pos + 3) == "null" then pos = pos + 4 return "null", NULL, start end
    if cfg.dec_invalid and invalid_number(s, pos) then
      local v, np = strtod(s, pos)
      if v == nil then return "err", "invalid number", start end
      pos = np
      return "num", v, start
    end
    return "err", "invalid token", start
  end
  local function fail(exp, kind, v, start)
    local found = kind == "err" and v or TOKNAME[kind]
    error(sformat("Expected %s but found %s at character %d", exp, found, start), 0)
  end
  local value
  local function descend()
    depth = depth + 1
    if depth > cfg.dec_depth then
      error(sformat("Found too many nested data structures (%d) at character %d", depth, pos - 1), 0)
    end
  end
  value = function(kind, v, start)
    if kind == "str" or kind == "num" or kind == "bool" or kind == "null" then return v end
    if kind == "{" then
      descend()
      local t = {}
      local k, kv, ks = token()
      if k == "}" then depth = depth - 1 return t end
      while true do
        if k ~= "str" then fail("object key string", k, kv, ks) end
        local key = kv
        k, kv, ks = token()
        if k ~= ":" then fail("colon", k, kv, ks) end
        rawset(t, key, value(token()))
        k, kv, ks = token()
        if k == "}" then depth = depth - 1 return t end
        if k ~= "," then fail("comma or object end", k, kv, ks) end
        k, kv, ks = token()
      end
    elseif kind == "[" then
      descend()
      local t = {}
      local k, kv, ks = token()
      if k == "]" then depth = depth - 1 return t end
      local i = 1
      while true do
        rawset(t, i, value(k, kv, ks))
        k, kv, ks = token()
        if k == "]" then depth = depth - 1 return t end
        if k ~= "," then fail("comma or array end", k, kv, ks) end
        k, kv, ks = token()
        i = i + 1
      end
    end
    fail("value", kind, v, start)
  end
  local result = value(token())
  local k, kv, ks = token()
  if k ~= "end" then fail("the end", k, kv, ks) end
  return result
end

local cjson = {null = NULL, _NAME = "cjson", _VERSION = "2.1.0"}
local function argcheck(cond, i, fname, msg)
  if not cond then error(sformat("bad argument #%d to '%s' (%s)", i, fname, msg), 3) end
end
function cjson.encode(...)
  argcheck(select("#", ...) == 1, 1, "encode", "expected 1 argument")
  local ok, r = pcall(encode_value, (...))
  if not ok then error(r, 2) end
  return r
end
function cjson.decode(...)
  argcheck(select("#", ...) == 1, 1, "decode", "expected 1 argument")
  local s = ...
  if type(s) == "number" then s = tostring(s) end
  if type(s) ~= "string" then
    error("bad argument #1 to 'decode' (string expected, got " .. type(s) .. ")", 2)
  end
  local ok, r = pcall(decode, s)
  if not ok then error(r, 2) end
  return r
end
local function intarg(v, i, fname)
  local n = tonumber(v)
  if n == nil then error(sformat("bad argument #%d to '%s' (number expected, got %s)", i, fname, type(v)), 3) end
  return n >= 0 and floor(n) or -floor(-n)
end
function cjson.encode_sparse_array(...)
  local n = select("#", ...)
  local convert, ratio, safe = ...
  if n >= 3 then cfg.safe = intarg(safe, 3, "encode_sparse_array") end
  if n >= 2 then cfg.ratio = intarg(ratio, 2, "encode_sparse_array") end
  if n >= 1 then cfg.convert = convert and true or false end
  return cfg.convert, cfg.ratio, cfg.safe
end
function cjson.encode_max_depth(...)
  if select("#", ...) > 0 then cfg.enc_depth = intarg((...), 1, "encode_max_depth") end
  return cfg.enc_depth
end
function cjson.decode_max_depth(...)
  if select("#", ...) > 0 then cfg.dec_depth = intarg((...), 1, "decode_max_depth") end
  return cfg.dec_depth
end
function cjson.encode_number_precision(...)
  if select("#", ...) > 0 then
    local p = intarg((...), 1, "encode_number_precision")
    argcheck(p >= 1 and p <= 14, 1, "encode_number_precision", "expected integer between 1 and 14")
    cfg.precision = p
    numfmt = "%." .. p .. "g"
  end
  return cfg.precision
end
function cjson.encode_keep_buffer(...)
  if select("#", ...) > 0 then cfg.keep = (...) and true or false end
  return cfg.keep
end
function cjson.encode_invalid_numbers(...)
  if select("#", ...) > 0 then cfg.enc_invalid = (...) and true or false end
  return cfg.enc_invalid
end
function cjson.decode_invalid_numbers(...)
  if select("#", ...) > 0 then cfg.dec_invalid = (...) and true or false end
  return cfg.dec_invalid
end
function cjson.new()
  local copy = {}
  for k, v in next, cjson do copy[k] = v end
  return copy
end
LIBS.cjson = cjson
return LIBS
"""
