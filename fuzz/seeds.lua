-- Writes the seed corpora fuzz/corpus/parse and fuzz/corpus/build (run from the
-- repository root: lua5.4 fuzz/seeds.lua). The byte layouts are those read by
-- fuzz/parse.c and fuzz/build.c (fz_* in fuzz/common.h); keep them in step.
local pack = string.pack

local function write(dir, name, bytes)
  os.execute("mkdir -p " .. dir)
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
end

-- parse: status (u16 BE), header length (u16 BE, bit 15 table, bit 14 nil body), headers, body
local function response(status, headers, body, opts)
  opts = opts or {}
  local sv = status
  if type(status) == "number" and status >= 100 and status <= 999 then sv = status - 100 end
  if status == nil then sv = 60000 end
  local hl = #headers | (opts.table and 0x8000 or 0) | (opts.nil_body and 0x4000 or 0)
  return pack(">I2I2", sv, hl) .. headers .. (body or "")
end

local function head(status, lines)
  local t = { ("HTTP/1.1 %d X"):format(status) }
  for _, l in ipairs(lines) do t[#t + 1] = l end
  return table.concat(t, "\r\n") .. "\r\n\r\n"
end

local META = { "Content-Type: application/json", "SC-Request-Id: 5f9f7e4c-0001",
  "SC-Data-Age: 2024-05-01T10:00:00.000Z", "SC-Fetched-At: 2024-05-01T10:00:01.000Z", "SC-Unit-System: metric" }
local P = "fuzz/corpus/parse"
write(P, "odometer", response(200, head(200, META), '{"distance":104.32}'))
write(P, "odometer-table-headers", response(200, "sc-request-id: r1\nsc-unit-system: imperial\n",
  '{"distance":64.8}', { table = true }))
write(P, "array", response(200, head(200, META), '[{"id":"v1"},{"id":"v2"}]'))
write(P, "v2-error", response(409, head(409, { "SC-Request-Id: req-409" }),
  '{"type":"VEHICLE_STATE","code":"ASLEEP","description":"The vehicle is asleep.","docURL":"https://x/d",' ..
  '"statusCode":409,"requestId":"req-409","resolution":{"type":"RETRY_LATER"},' ..
  '"suggestedUserMessage":"Try again later.","detail":[{"field":"x"}]}'))
write(P, "v1-error", response(400, head(400, {}),
  '{"error":"validation_error","message":"Invalid vehicle id","code":"VIN_INVALID"}'))
write(P, "oauth-error", response(400, head(400, {}), '{"error":"invalid_grant","error_description":"bad code"}'))
write(P, "v3-errors", response(404, head(404, { "SC-Request-Id: v3-1" }),
  '{"errors":[{"type":"RESOURCE_NOT_FOUND","title":"Not found","detail":"No such signal","code":"SIGNAL",' ..
  '"links":{"about":"https://x/e"}}]}'))
write(P, "batch", response(200, head(200, META),
  '{"responses":[{"path":"/odometer","code":200,"body":{"distance":1.5},' ..
  '"headers":{"SC-Data-Age":"2024-05-01T10:00:00.000Z","sc-unit-system":"metric"}},' ..
  '{"path":"/fuel","code":409,"body":{"type":"VEHICLE_STATE","code":"ASLEEP","description":"asleep"},' ..
  '"headers":{"retry-after":"5"}},{"path":"/x","code":500,"body":"oops"}]}'))
write(P, "retry-after-seconds", response(429, head(429, { "Retry-After: 30", "SC-Request-Id: rl" }),
  '{"type":"RATE_LIMIT","code":"VEHICLE","description":"slow down"}'))
write(P, "retry-after-date", response(503, head(503, { "retry-after: Wed, 21 Oct 2037 07:28:00 GMT" }),
  '{"type":"SERVER","code":"DOWN","description":"later"}'))
write(P, "empty-204", response(204, head(204, {}), ""))
write(P, "nil-body", response(200, head(200, META), nil, { nil_body = true }))
write(P, "not-json", response(502, head(502, { "Content-Type: text/html" }), "<html>bad gateway</html>"))
write(P, "transport-timeout", response(nil, "TIMEOUT", "Operation timed out after 10000 ms"))
write(P, "repeated-headers", response(200, head(200, { "SC-Request-Id: a", "sc-request-id: b",
  "Set-Cookie: x=1", "set-cookie: y=2", "X-Long:" .. ("v"):rep(300) }), '{"ok":true}'))

-- build: one op byte (escape 0, query 1, flags 2, vehicle 3, auth 4, api 5, http 6), then its arguments
local B = {}
local function byte(n) return string.char(n % 256) end
function B.raw(s, max) -- fz_push_raw: length byte (mod max + 1), bytes
  assert(#s <= max)
  return byte(#s) .. s
end
function B.stringish(s) return byte(0) .. B.raw(s, 48) end -- kind 0: raw(48)
function B.clean(s, max) return byte(0) .. B.raw(s, max) end -- push_checked, even: clean string
function B.value_string(s) return byte(7) .. B.raw(s, 64) end
function B.value_int(n) return byte(4) .. byte(n + 16) end
function B.value_bool(b) return byte(1) .. byte(b and 1 or 0) end
-- a key byte that selects keys[i] (0-based) of n keys: k % 16 ~= 0 and k % n == i
local function key(i, n)
  for k = 1, 255 do if k % 16 ~= 0 and k % n == i then return byte(k) end end
end
-- push_options: count, kind (2: a table), then key byte and value per entry
function B.options(entries, nkeys)
  local t = { byte(#entries), byte(2) }
  for _, e in ipairs(entries) do
    t[#t + 1] = key(e[1], nkeys)
    t[#t + 1] = e[2]
  end
  return table.concat(t)
end
-- fz_push_table: count, then per entry: key kind 4 (raw(16)), key, value
function B.table(entries)
  local t = { byte(#entries) }
  for _, e in ipairs(entries) do
    t[#t + 1] = byte(4) .. B.raw(e[1], 16)
    t[#t + 1] = e[2]
  end
  return table.concat(t)
end

local D = "fuzz/corpus/build"
write(D, "escape", byte(0) .. byte(1) .. B.raw("vehicle id/ä?&=", 64))
write(D, "query", byte(1) .. byte(2) .. B.clean("limit", 12) .. byte(1) .. B.value_int(10) ..
  B.clean("offset", 12) .. byte(1) .. B.value_string("a b&c") .. byte(1))
write(D, "flags", byte(2) .. byte(1) .. byte(2) .. byte(1) .. B.raw("country", 12) .. B.value_string("DE") ..
  byte(1) .. B.raw("flag", 12) .. B.value_bool(true) .. byte(1))
-- vehicle: op, requests-1, id, token, options {unitSystem, version, flags}, then per request:
-- what, origin, version? (%4 ~= 0: none), method, path, body kind, query? , headers?
local vehicle_opts = B.options({ { 0, B.stringish("imperial") }, { 2, byte(1) .. B.table({ { "country", B.value_string("DE") } }) } }, 3)
write(D, "vehicle-get", byte(3) .. byte(1) .. B.stringish("36ab27d0-fd9d-4455-823a-ce30af709ffc") ..
  B.stringish("access-token") .. vehicle_opts ..
  byte(0) .. byte(0) .. byte(1) .. B.clean("GET", 8) .. B.clean("/odometer", 32) .. byte(0) .. byte(1) .. byte(1) ..
  byte(0) .. byte(0) .. byte(1) .. B.clean("POST", 8) .. B.clean("/charge/limit", 32) .. byte(3) ..
  B.table({ { "limit", byte(3) .. pack("<d", 0.8) } }) .. byte(1) .. byte(1))
write(D, "vehicle-request", byte(3) .. byte(0) .. B.stringish("vid") .. B.stringish("tok") .. byte(0) .. byte(0) ..
  byte(0) .. byte(3) .. byte(0) .. B.clean("3", 8) .. B.clean("PUT", 8) .. B.clean("/tesla/x", 32) .. byte(2) ..
  B.raw('{"a":"b"}', 48) .. byte(0) .. B.clean("a=1&b=2", 24) .. byte(0) ..
  byte(1) .. byte(1) .. B.stringish("X-Extra") .. B.stringish("yes"))
-- auth: op, calls-1, options {clientId, clientSecret, redirectUri, mode, testMode}, fill byte, then per call:
-- what (odd: authUrl, even: tokenRequest) ...
local auth_opts = B.options({ { 0, B.stringish("client-id") }, { 1, B.stringish("secret") },
  { 2, B.stringish("https://app.example/cb") }, { 3, B.stringish("test") } }, 5)
write(D, "auth-url", byte(4) .. byte(1) .. auth_opts .. byte(0) ..
  byte(1) .. byte(2) .. byte(2) .. byte(0) .. B.raw("read_odometer", 24) .. byte(0) .. B.raw("read_vin", 24) ..
  B.options({ { 1, B.stringish("state-1") }, { 0, B.value_bool(true) } }, 6) .. byte(0) .. byte(0) ..
  byte(2) .. byte(0) .. B.stringish("the-code") .. B.options({}, 1) .. byte(1) .. byte(1) .. byte(0))
-- api: op, spec index, credential, params (segment, version?, query values), origins, order?
write(D, "api-compatibility", byte(5) .. byte(3) .. byte(1) ..
  B.options({ { 0, B.stringish("cid") }, { 1, B.stringish("csec") } }, 5) .. byte(1) ..
  byte(1) .. B.value_string("DE") .. byte(0) .. byte(0) .. byte(0) .. byte(1) .. B.value_string("read_vin") ..
  byte(1) .. B.value_string("US") .. byte(1) .. B.value_string("5YJ3E1EA7KF317000") .. byte(0) .. byte(1) .. byte(2) ..
  byte(1))
write(D, "api-vehicle", byte(5) .. byte(2) .. B.stringish("token") .. B.stringish("vehicle/../id") .. byte(1) ..
  byte(0) .. byte(0) .. byte(0))
write(D, "http", byte(6) .. B.stringish("GET") .. byte(1) .. byte(0) .. B.raw("/connect?x=1", 32) .. byte(2) ..
  byte(1) .. B.stringish("Accept") .. B.stringish("text/html") .. byte(1) .. B.raw("hello\r\nbody", 48))
