-- Helpers for the V3 specs: application tokens, V3 error assertions, and HMAC-SHA256 in plain Lua
-- (any Lua from 5.1 on: bit operations from bit32, LuaJIT's bit, or the 5.3+ operators), so a spec checks
-- SC-Signature itself.
local S = require "spec.support"
local assert = require "luassert"

local V = {}

V.API_CLIENT_ID = "client_emulator_demo"
V.API_SECRET = "emulator-api-secret"

local band, bor, bxor, bnot, rshift, lshift
if bit32 then
  band, bor, bxor, bnot, rshift, lshift = bit32.band, bit32.bor, bit32.bxor, bit32.bnot, bit32.rshift, bit32.lshift
else
  local ok, bit = pcall(require, "bit")
  if ok then
    local m = function(f) return function(...) return f(...) % 4294967296 end end
    band, bor, bxor, bnot, rshift, lshift = m(bit.band), m(bit.bor), m(bit.bxor), m(bit.bnot), m(bit.rshift),
      m(bit.lshift)
  elseif _VERSION ~= "Lua 5.1" then
    local ops = load([[return function(a, b) return a & b end, function(a, b) return a | b end,
      function(a, b) return a ~ b end, function(a) return ~a & 0xffffffff end,
      function(a, n) return (a & 0xffffffff) >> n end, function(a, n) return (a << n) & 0xffffffff end]])
    band, bor, bxor, bnot, rshift, lshift = ops()
  else -- plain Lua 5.1 has no bit operations: arithmetic, bit by bit (slow, and enough for a few bodies)
    local function each_bit(a, b, keep)
      a, b = a % 4294967296, b % 4294967296
      local r, p = 0, 1
      for _ = 1, 32 do
        local x, y = a % 2, b % 2
        if keep(x, y) then r = r + p end
        a, b, p = (a - x) / 2, (b - y) / 2, p * 2
      end
      return r
    end
    band = function(a, b) return each_bit(a, b, function(x, y) return x + y == 2 end) end
    bor = function(a, b) return each_bit(a, b, function(x, y) return x + y >= 1 end) end
    bxor = function(a, b) return each_bit(a, b, function(x, y) return x + y == 1 end) end
    bnot = function(a) return 4294967295 - a % 4294967296 end
    rshift = function(a, n) return math.floor(a % 4294967296 / 2 ^ n) end
    lshift = function(a, n) return a * 2 ^ n % 4294967296 end
  end
end

local function rrot(x, n) return bor(rshift(x, n), lshift(x, 32 - n)) end

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

--- Raw SHA-256 digest (32 bytes) of a string.
function V.sha256(msg)
  local len = #msg
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64)
  local bits = len * 8
  local tail = {}
  for i = 8, 1, -1 do tail[i] = string.char(bits % 256); bits = math.floor(bits / 256) end
  msg = msg .. table.concat(tail)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = msg:byte(chunk + i * 4, chunk + i * 4 + 3)
      w[i] = ((a * 256 + b) * 256 + c) * 256 + d
    end
    for i = 16, 63 do
      local s0 = bxor(bxor(rrot(w[i - 15], 7), rrot(w[i - 15], 18)), rshift(w[i - 15], 3))
      local s1 = bxor(bxor(rrot(w[i - 2], 17), rrot(w[i - 2], 19)), rshift(w[i - 2], 10))
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) % 4294967296
    end
    local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
    for i = 0, 63 do
      local S1 = bxor(bxor(rrot(e, 6), rrot(e, 11)), rrot(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = (hh + S1 + ch + K[i + 1] + w[i]) % 4294967296
      local S0 = bxor(bxor(rrot(a, 2), rrot(a, 13)), rrot(a, 22))
      local maj = bxor(bxor(band(a, b), band(a, c)), band(b, c))
      local t2 = (S0 + maj) % 4294967296
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) % 4294967296, c, b, a, (t1 + t2) % 4294967296
    end
    h[1], h[2], h[3], h[4] = (h[1] + a) % 4294967296, (h[2] + b) % 4294967296, (h[3] + c) % 4294967296,
      (h[4] + d) % 4294967296
    h[5], h[6], h[7], h[8] = (h[5] + e) % 4294967296, (h[6] + f) % 4294967296, (h[7] + g) % 4294967296,
      (h[8] + hh) % 4294967296
  end
  local out = {}
  for i = 1, 8 do
    local x = h[i]
    out[i] = string.char(math.floor(x / 16777216) % 256, math.floor(x / 65536) % 256, math.floor(x / 256) % 256,
      x % 256)
  end
  return table.concat(out)
end

--- Lowercase hex HMAC-SHA256(key, msg).
function V.hmac_hex(key, msg)
  if #key > 64 then key = V.sha256(key) end
  key = key .. string.rep("\0", 64 - #key)
  local ipad, opad = {}, {}
  for i = 1, 64 do
    local k = key:byte(i)
    ipad[i] = string.char(bxor(k, 0x36))
    opad[i] = string.char(bxor(k, 0x5c))
  end
  local digest = V.sha256(table.concat(opad) .. V.sha256(table.concat(ipad) .. msg))
  return (digest:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

--- POST /oauth2/token with a form body: response.
function V.token_request(form, headers)
  local parts = {}
  for k, v in pairs(form) do parts[#parts + 1] = S.escape(k) .. "=" .. S.escape(v) end
  table.sort(parts)
  local h = { ["content-type"] = "application/x-www-form-urlencoded" }
  for k, v in pairs(headers or {}) do h[k] = v end
  return assert(S.request("POST", "/oauth2/token", { body = table.concat(parts, "&"), headers = h }))
end

--- A fresh application token of the demo app.
function V.app_token()
  local res = V.token_request({ grant_type = "client_credentials", client_id = V.API_CLIENT_ID,
    client_secret = V.API_SECRET })
  assert.are.equal(200, res.status, res.body)
  return res.json.access_token
end

--- The before_each hook of a describe block whose every test starts on a fresh emulator with a new
-- application token, handed to `set`; V.reset, its after_each hook.
function V.fresh(set)
  return function()
    S.reset()
    set(V.app_token())
  end
end
function V.reset() S.reset() end

--- A V3 request with an application token (and sc-user-id when given).
function V.call(method, path, token, user, body, headers)
  local h = {}
  for k, v in pairs(headers or {}) do h[k] = v end
  if token then h.authorization = "Bearer " .. token end
  if user then h["sc-user-id"] = user end
  return assert(S.request(method, path, { headers = h, body = body }))
end

--- Assert a V3 error body: {"errors": [{status (string), type, code, title, detail, meta.debug.requestId}]}.
function V.assert_error(res, status, etype, code, detail)
  assert.are.equal(status, res.status, res.body)
  assert.truthy((res.headers["content-type"] or ""):find("application/json", 1, true))
  local e = res.json.errors[1]
  assert.are.equal(tostring(status), e.status)
  assert.are.equal(etype, e.type)
  if code == nil then assert.are.equal(S.null, e.code) else assert.are.equal(code, e.code) end
  assert.is_string(e.title)
  assert.is_string(e.detail)
  if detail then assert.are.equal(detail, e.detail) end
  assert.are.equal(res.headers["sc-request-id"], e.meta.debug.requestId)
  assert.matches("^https://smartcar.com/docs/errors/api%-errors/v3/", e.links.about)
  return e
end

--- A simulated user with vehicles (tokens shortcut: test mode, every permission unless scope is given).
function V.user(email, scope)
  return S.token(email, scope)
end

--- Poll the recorded deliveries until pred(list) holds (or 5 s pass): the list.
function V.deliveries_until(query, pred)
  local socket = require "socket"
  local list
  for _ = 1, 100 do
    list = S.admin("GET", "/_emulator/v3/deliveries" .. (query or "")).deliveries
    if pred(list) then return list end
    socket.sleep(0.05)
  end
  return list
end

return V
