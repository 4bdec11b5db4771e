-- Small helpers: deterministic ids and numbers, time stamps, HMAC-SHA256, URL pieces.
local ffi = require "ffi"

local M = {}

local md5 = ngx.md5
local sub, format, byte, char = string.sub, string.format, string.byte, string.char
local tonumber, floor = tonumber, math.floor

--- Format 32 hex chars as a UUID v4 string.
local function uuid_from_hex(h)
  local variant = format("%x", 8 + tonumber(sub(h, 17, 17), 16) % 4)
  return sub(h, 1, 8) .. "-" .. sub(h, 9, 12) .. "-4" .. sub(h, 14, 16) .. "-" ..
    variant .. sub(h, 18, 20) .. "-" .. sub(h, 21, 32)
end
M.uuid_from_hex = uuid_from_hex

--- Deterministic UUID v4 from a seed and a label.
function M.uuid(seed, label)
  return uuid_from_hex(md5(seed .. "\0" .. label))
end

--- Deterministic fraction in [0, 1) from a seed and a label.
function M.frac(seed, label)
  return tonumber(sub(md5(seed .. "\1" .. label), 1, 8), 16) / 4294967296
end

--- Deterministic integer in [lo, hi].
function M.int(seed, label, lo, hi)
  return lo + floor(M.frac(seed, label) * (hi - lo + 1))
end

function M.round(x, decimals)
  local m = 10 ^ (decimals or 2)
  if x >= 0 then return floor(x * m + 0.5) / m end
  return -floor(-x * m + 0.5) / m
end

-- Non-deterministic-but-unique ids (request ids, challenges): md5 of a counter and time.
local counter = 0
function M.random_uuid()
  counter = counter + 1
  return uuid_from_hex(md5(counter .. "\2" .. ngx.now() .. "\2" .. ngx.worker.pid()))
end

function M.random_hex(n)
  counter = counter + 1
  local h = md5(counter .. "\3" .. ngx.now() .. "\3" .. ngx.worker.pid())
  while #h < n do h = h .. md5(h) end
  return sub(h, 1, n)
end

--- ISO-8601 with milliseconds, UTC: 2024-01-02T03:04:05.678Z
function M.iso(t)
  local s = floor(t)
  local ms = floor((t - s) * 1000 + 0.5)
  if ms >= 1000 then s = s + 1; ms = ms - 1000 end
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. format(".%03dZ", ms)
end

--- Parse YYYY-MM-DD or an ISO-8601 time stamp into epoch seconds (UTC); nil when malformed.
function M.parse_date(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)")
  if not y then return nil end
  local h, mi, se = s:match("^%d%d%d%d%-%d%d%-%d%dT(%d%d):(%d%d):(%d%d)")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 then return nil end
  -- days from civil (Howard Hinnant)
  local yy = mo <= 2 and y - 1 or y
  local era = floor(yy / 400)
  local yoe = yy - era * 400
  local mp = (mo + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + (tonumber(h) or 0) * 3600 + (tonumber(mi) or 0) * 60 + (tonumber(se) or 0)
end

function M.is_uuid(s)
  return type(s) == "string" and #s == 36 and
    s:find("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

-- HMAC-SHA256 through libcrypto.
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
]]

local crypto
do
  local ok = pcall(function() return ffi.C.EVP_sha256 end)
  if ok then
    crypto = ffi.C
  else
    local names = { "crypto", "libcrypto.so.3", "libcrypto.so" }
    for _, name in ipairs(names) do
      local ok2, lib = pcall(ffi.load, name)
      if ok2 then crypto = lib; break end
    end
  end
end

local md_buf = ffi.new("unsigned char[32]")
local md_len = ffi.new("unsigned int[1]")

--- Lowercase hex HMAC-SHA256(key, message).
function M.hmac_sha256_hex(key, msg)
  key, msg = tostring(key), tostring(msg)
  crypto.HMAC(crypto.EVP_sha256(), key, #key, msg, #msg, md_buf, md_len)
  local raw = ffi.string(md_buf, md_len[0])
  return (raw:gsub(".", function(c) return format("%02x", byte(c)) end))
end

--- Constant-time string compare.
function M.equal(a, b)
  if type(a) ~= "string" or type(b) ~= "string" or #a ~= #b then return false end
  local bit = require "bit"
  local acc = 0
  for i = 1, #a do acc = bit.bor(acc, bit.bxor(byte(a, i), byte(b, i))) end
  return acc == 0
end

--- Split a string on a separator pattern (plain text).
function M.split(s, sep)
  local out, n = {}, 0
  if s == nil or s == "" then return out end
  local start = 1
  while true do
    local i, j = s:find(sep, start, true)
    if not i then
      n = n + 1; out[n] = s:sub(start)
      break
    end
    n = n + 1; out[n] = s:sub(start, i - 1)
    start = j + 1
  end
  return out
end

--- Words of a space/plus separated list (scope, make, flags), empty entries dropped.
function M.words(s)
  local out = {}
  if type(s) == "table" then s = table.concat(s, " ") end
  if type(s) ~= "string" then return out end
  for w in s:gmatch("[^%s+]+") do out[#out + 1] = w end
  return out
end

--- HTML escaping.
local html_escapes = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
function M.html(s)
  return (tostring(s or ""):gsub("[&<>\"']", html_escapes))
end

--- Encode a query string from an ordered list of {name, value} pairs (value nil → skipped).
function M.query(pairs_list)
  local parts = {}
  for _, kv in ipairs(pairs_list) do
    if kv[2] ~= nil then
      parts[#parts + 1] = ngx.escape_uri(kv[1]) .. "=" .. ngx.escape_uri(tostring(kv[2]))
    end
  end
  return table.concat(parts, "&")
end

--- Append a query string to a URL.
function M.append_query(url, q)
  if q == "" then return url end
  local base, frag = url:match("^([^#]*)(#?.*)$")
  if base:find("?", 1, true) then
    if base:sub(-1) == "?" or base:sub(-1) == "&" then return base .. q .. frag end
    return base .. "&" .. q .. frag
  end
  return base .. "?" .. q .. frag
end

--- Decode a form/query string into a table (last value wins), '+' as space.
function M.decode_args(s)
  local out = {}
  if not s or s == "" then return out end
  for pair in s:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k = ngx.unescape_uri((k:gsub("%+", " ")))
    v = ngx.unescape_uri((v:gsub("%+", " ")))
    if k ~= "" then out[k] = v end
  end
  return out
end

function M.char_at(s, i) return char(byte(s, i)) end

return M
