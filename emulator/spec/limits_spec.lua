local S = require "spec.support"
local socket = require "socket"

-- One raw HTTP exchange: returns status, headers (lower-cased), body bytes, and whether the peer closed
-- before Content-Length bytes arrived.
local function raw(path, headers)
  local c = S.raw_get(path, headers)
  local status_line = assert(c:receive("*l"))
  local status = tonumber(status_line:match("^HTTP/1%.1 (%d+)"))
  local h = {}
  while true do
    local line = assert(c:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.*)$")
    h[k:lower()] = v
  end
  local want = tonumber(h["content-length"])
  local body, err, partial = c:receive(want)
  c:close()
  if body then return status, h, body, false end
  return status, h, partial or "", err == "closed"
end

describe("rate limits", function()
  local t
  before_each(function()
    S.reset()
    t = S.token("rate@example.com")
  end)
  after_each(function() S.reset() end)

  it("answers 429 RATE_LIMIT/VEHICLE with retry-after once the window is full", function()
    S.admin("POST", "/_emulator/config", { rateLimit = 2, rateWindow = 30 })
    local v = "/v2.0/vehicles/" .. t.vehicles[1]
    assert.are.equal(200, S.get(v .. "/odometer", t.access_token).status)
    assert.are.equal(200, S.get(v .. "/location", t.access_token).status)
    local res = S.get(v .. "/odometer", t.access_token)
    local b = S.assert_v2_error(res, 429, "RATE_LIMIT", "VEHICLE")
    assert.are.equal("RETRY_LATER", b.resolution.type)
    local wait = tonumber(res.headers["retry-after"])
    assert.is_true(wait >= 1 and wait <= 30)
    -- per vehicle: another vehicle is still fine; admin calls are never limited
    assert.are.equal(200, S.get("/v2.0/vehicles/" .. t.vehicles[2] .. "/odometer", t.access_token).status)
    for _ = 1, 5 do assert.are.equal(200, select(2, S.admin("GET", "/_emulator/health"))) end
    -- v3 counts too
    assert.are.equal(429, S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals", t.access_token).status)
    S.admin("POST", "/_emulator/clock", { advance = 30 })
    assert.are.equal(200, S.get(v .. "/odometer", t.access_token).status)
  end)

  it("is disabled by 0", function()
    S.admin("POST", "/_emulator/config", { rateLimit = 1 })
    local v = "/v2.0/vehicles/" .. t.vehicles[1]
    assert.are.equal(200, S.get(v .. "/odometer", t.access_token).status)
    assert.are.equal(429, S.get(v .. "/odometer", t.access_token).status)
    S.admin("POST", "/_emulator/config", { rateLimit = 0 })
    for _ = 1, 5 do assert.are.equal(200, S.get(v .. "/odometer", t.access_token).status) end
  end)

  it("adds configured latency to vehicle requests only", function()
    S.admin("POST", "/_emulator/config", { latency = 200 })
    local t0 = socket.gettime()
    assert.are.equal(200, S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token).status)
    assert.is_true(socket.gettime() - t0 >= 0.19)
    t0 = socket.gettime()
    S.get("/v2.0/user", t.access_token)
    assert.is_true(socket.gettime() - t0 < 0.15)
  end)
end)

describe("faults (emulator started with --faults)", function()
  local t, path
  setup(function()
    S.reset()
    t = S.token("faults@example.com")
    path = "/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer"
  end)
  after_each(function() S.admin("POST", "/_emulator/faults", { fault = S.null }) end)

  local auth = function(extra)
    local h = { Authorization = "Bearer " .. t.access_token }
    for k, v in pairs(extra or {}) do h[k] = v end
    return h
  end

  it("latency:<ms> delays then answers normally", function()
    local t0 = socket.gettime()
    local status, _, body = raw(path, auth({ ["sc-emulator-fault"] = "latency:250" }))
    assert.is_true(socket.gettime() - t0 >= 0.24)
    assert.are.equal(200, status)
    assert.is_number(S.decode(body).distance)
  end)

  it("slow-headers:<ms> waits before sending anything (query parameter form)", function()
    local t0 = socket.gettime()
    local status = raw(path .. "?sc_emulator_fault=slow-headers%3A250", auth())
    assert.is_true(socket.gettime() - t0 >= 0.24)
    assert.are.equal(200, status)
  end)

  it("reset sends headers and part of the body, then closes", function()
    local status, h, body, closed = raw(path, auth({ ["sc-emulator-fault"] = "reset" }))
    assert.are.equal(200, status)
    assert.is_true(closed)
    assert.is_true(#body < tonumber(h["content-length"]))
    local res, err = S.request("GET", path, { headers = auth({ ["sc-emulator-fault"] = "reset" }) })
    assert.is_nil(res)
    assert.is_string(err)
  end)

  it("truncate answers 200 with half a JSON body and a matching Content-Length", function()
    local status, h, body, closed = raw(path, auth({ ["sc-emulator-fault"] = "truncate" }))
    assert.are.equal(200, status)
    assert.is_false(closed)
    assert.are.equal(#body, tonumber(h["content-length"]))
    assert.is_nil(S.decode(body))
    assert.are.equal("{", body:sub(1, 1))
  end)

  it("html502 / html503 answer an HTML gateway page", function()
    for _, code in ipairs({ 502, 503 }) do
      local res = S.get(path, t.access_token, { ["sc-emulator-fault"] = "html" .. code })
      assert.are.equal(code, res.status)
      assert.truthy(res.headers["content-type"]:find("text/html", 1, true))
      assert.truthy(res.body:find("<html>", 1, true))
      assert.is_nil(res.json)
    end
  end)

  it("oversize:<bytes> answers a 200 JSON body of at least that size", function()
    local res = S.get(path, t.access_token, { ["sc-emulator-fault"] = "oversize:200000" })
    assert.are.equal(200, res.status)
    assert.is_true(#res.body >= 200000)
    assert.is_number(res.json.distance)
  end)

  it("applies a global fault to the next N non-admin requests", function()
    local body, status = S.admin("POST", "/_emulator/faults", { fault = "html503", count = 2 })
    assert.are.equal(200, status, S.encode(body))
    assert.are.equal(503, S.get(path, t.access_token).status)
    assert.are.equal(200, select(2, S.admin("GET", "/_emulator/health")))
    assert.are.equal(503, S.get("/v2.0/user", t.access_token).status)
    assert.are.equal(200, S.get(path, t.access_token).status)
    S.admin("POST", "/_emulator/faults", { fault = "html502", count = 5 })
    S.admin("POST", "/_emulator/faults", { fault = S.null })
    assert.are.equal(200, S.get(path, t.access_token).status)
    local _, bad = S.admin("POST", "/_emulator/faults", { fault = "explode" })
    assert.are.equal(400, bad)
  end)
end)
