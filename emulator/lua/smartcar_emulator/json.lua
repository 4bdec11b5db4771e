-- Compact JSON encoder with explicit arrays, ordered objects and a null sentinel;
-- decoding is delegated to lua-cjson.
local cjson = require "cjson.safe"

local M = {}

local null = cjson.null
M.null = null

local array_mt = { __jsontype = "array" }
M.array_mt = array_mt

--- Mark a table as a JSON array (so that an empty one encodes as []).
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

--- An object whose keys encode in the given order (other keys follow, sorted).
function M.object(order, t)
  return setmetatable(t or {}, { __order = order })
end

local concat, format, sort, type, pairs, tostring = table.concat, string.format, table.sort, type, pairs, tostring
local floor, huge = math.floor, math.huge

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
for i = 0, 31 do
  local c = string.char(i)
  if not escapes[c] then escapes[c] = format("\\u%04x", i) end
end

local function quote(s)
  if s:find('[%c"\\]') then
    s = s:gsub('[%c"\\]', escapes)
  end
  return '"' .. s .. '"'
end
M.quote = quote

local function number(n)
  if n ~= n or n == huge or n == -huge then return "null" end
  if n == floor(n) and n > -1e15 and n < 1e15 then
    return format("%d", n)
  end
  return format("%.14g", n)
end

local encode_value

local function encode_table(t, buf, n)
  local mt = getmetatable(t)
  local is_array = mt == array_mt
  if not is_array and not (mt and mt.__order) and t[1] ~= nil then
    is_array = true
  end
  if is_array then
    local len = #t
    if len == 0 then
      n = n + 1; buf[n] = "[]"
      return n
    end
    n = n + 1; buf[n] = "["
    for i = 1, len do
      if i > 1 then n = n + 1; buf[n] = "," end
      n = encode_value(t[i], buf, n)
    end
    n = n + 1; buf[n] = "]"
    return n
  end
  local keys, seen, k = {}, nil, 0
  local order = mt and mt.__order
  if order then
    seen = {}
    for i = 1, #order do
      local key = order[i]
      seen[key] = true
      if t[key] ~= nil then k = k + 1; keys[k] = key end
    end
  end
  local rest, r = {}, 0
  for key in pairs(t) do
    if not (seen and seen[key]) then
      r = r + 1; rest[r] = tostring(key)
    end
  end
  if r > 1 then sort(rest) end
  for i = 1, r do k = k + 1; keys[k] = rest[i] end
  if k == 0 then
    n = n + 1; buf[n] = "{}"
    return n
  end
  n = n + 1; buf[n] = "{"
  for i = 1, k do
    local key = keys[i]
    if i > 1 then n = n + 1; buf[n] = "," end
    n = n + 1; buf[n] = quote(key)
    n = n + 1; buf[n] = ":"
    local v = t[key]
    if v == nil then v = t[tonumber(key)] end
    n = encode_value(v, buf, n)
  end
  n = n + 1; buf[n] = "}"
  return n
end

encode_value = function(v, buf, n)
  local tv = type(v)
  if tv == "string" then
    n = n + 1; buf[n] = quote(v)
  elseif tv == "number" then
    n = n + 1; buf[n] = number(v)
  elseif tv == "boolean" then
    n = n + 1; buf[n] = v and "true" or "false"
  elseif tv == "table" then
    n = encode_table(v, buf, n)
  elseif v == nil or v == null then
    n = n + 1; buf[n] = "null"
  else
    n = n + 1; buf[n] = "null"
  end
  return n
end

--- Encode a Lua value as compact JSON.
function M.encode(v)
  local buf = {}
  local n = encode_value(v, buf, 0)
  return concat(buf, "", 1, n)
end

--- Decode JSON; returns value or nil, message.
function M.decode(s)
  if type(s) ~= "string" then return nil, "no body" end
  local ok, v, err = pcall(cjson.decode, s)
  if not ok then return nil, tostring(v) end
  if v == nil then return nil, err or "invalid JSON" end
  return v
end

return M
