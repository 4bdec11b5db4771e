local S = require "spec.support"
local socket = require "socket"

-- Raw HTTP/1.1 on its own connection: send now, read later (so that requests overlap).
local function send(path, headers)
  local host, port = S.origin:match("^http://([^:/]+):(%d+)")
  local c = assert(socket.connect(host, tonumber(port)))
  c:settimeout(10)
  local lines = { "GET " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port, "Connection: close" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  assert(c:send(table.concat(lines, "\r\n") .. "\r\n\r\n"))
  return c
end

-- Status of the answer on a connection from send (nil when closed without one).
local function status_of(c)
  local line = c:receive("*l")
  c:close()
  return line and tonumber(line:match("^HTTP/1%.1 (%d+)")) or nil
end

local function stats() return (S.admin("GET", "/_emulator/stats")) end

local function token_post(body, auth)
  return assert(S.request("POST", "/oauth/token", { body = body, headers = {
    authorization = auth or S.basic(S.CLIENT_ID, S.CLIENT_SECRET),
    ["content-type"] = "application/x-www-form-urlencoded" } }))
end

describe("GET /_emulator/stats", function()
  local t
  before_each(function()
    S.reset()
    t = S.token()
  end)
  after_each(function()
    S.admin("POST", "/_emulator/faults", { fault = S.null })
    S.reset()
  end)

  it("starts at zero after a reset, in the documented shape", function()
    local b, status = S.admin("GET", "/_emulator/stats")
    assert.are.equal(200, status)
    assert.are.same({ tokenRequests = { authorization_code = 0, refresh_token = 0, client_credentials = 0, total = 0 },
      maxInFlight = 0, inFlight = 0, requests = 0 }, b)
    local raw = assert(S.request("GET", "/_emulator/stats")).body
    assert.are.equal('{"tokenRequests":{"authorization_code":0,"refresh_token":0,"client_credentials":0,' ..
      '"total":0},"maxInFlight":0,"inFlight":0,"requests":0}', raw)
  end)

  it("counts token requests by grant type, failed ones too", function()
    assert.are.equal(200, token_post("grant_type=refresh_token&refresh_token=" .. t.refresh_token).status)
    assert.are.equal(400, token_post("grant_type=refresh_token&refresh_token=nope").status)
    assert.are.equal(400, token_post("grant_type=authorization_code&code=nope").status)
    assert.are.equal(400, token_post("grant_type=client_credentials").status)
    assert.are.equal(401, token_post("grant_type=refresh_token&refresh_token=x", S.basic("who", "no")).status)
    assert.are.equal(400, token_post("grant_type=password").status)
    assert.are.equal(400, token_post("").status)
    local b = stats()
    assert.are.same({ authorization_code = 1, refresh_token = 3, client_credentials = 1, total = 7 }, b.tokenRequests)
    -- the token endpoint and the Connect pages are not API requests
    assert.are.equal(0, b.requests)
  end)

  it("counts API requests (not admin calls), errors included, and zeroes on DELETE", function()
    local v = "/v2.0/vehicles/" .. t.vehicles[1]
    assert.are.equal(200, S.get(v .. "/odometer", t.access_token).status)
    assert.are.equal(401, S.get("/v2.0/user", "bad-token").status)
    assert.are.equal(404, S.get("/v9.9/nothing").status)
    assert.are.equal(200, S.get("/v3/vehicles/" .. t.vehicles[1], t.access_token).status)
    assert.are.equal(200, assert(S.request("GET", "/v2.0/management/connections", {
      headers = { authorization = S.basic("default", S.AMT) } })).status)
    S.admin("GET", "/_emulator/health")
    S.admin("GET", "/_emulator/requests")
    local b = stats()
    assert.are.equal(5, b.requests)
    assert.are.equal(0, b.inFlight)
    assert.are.equal(1, b.maxInFlight)
    local d, status = S.admin("DELETE", "/_emulator/stats")
    assert.are.equal(200, status)
    assert.are.same({ ok = true }, d)
    b = stats()
    assert.are.equal(0, b.requests)
    assert.are.equal(0, b.maxInFlight)
    assert.are.equal(0, b.tokenRequests.total)
  end)

  it("counts requests in flight while they sleep, and the maximum overlap", function()
    S.admin("POST", "/_emulator/config", { latency = 400 })
    local path = "/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer"
    local conns = {}
    for i = 1, 4 do conns[i] = send(path, { Authorization = "Bearer " .. t.access_token }) end
    socket.sleep(0.15)
    local during = stats()
    assert.are.equal(4, during.inFlight)
    assert.are.equal(4, during.maxInFlight)
    assert.are.equal(4, during.requests)
    for i = 1, 4 do assert.are.equal(200, status_of(conns[i])) end
    local after = stats()
    assert.are.equal(0, after.inFlight)
    assert.are.equal(4, after.maxInFlight)
    -- one at a time does not raise the maximum
    S.admin("POST", "/_emulator/config", { latency = 0 })
    for _ = 1, 3 do assert.are.equal(200, S.get(path, t.access_token).status) end
    assert.are.equal(4, stats().maxInFlight)
    assert.are.equal(7, stats().requests)
  end)

  it("ends the count when a fault ends a request early (close, reset, latency, gateway page)", function()
    local path = "/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer"
    local auth = { Authorization = "Bearer " .. t.access_token }
    local slow = send(path, { Authorization = auth.Authorization, ["sc-emulator-fault"] = "latency:300" })
    local closed = send(path, { Authorization = auth.Authorization, ["sc-emulator-fault"] = "close" })
    socket.sleep(0.1)
    assert.are.equal(1, stats().inFlight)
    assert.is_nil(status_of(closed))
    assert.are.equal(200, status_of(slow))
    assert.are.equal(200, status_of(send(path, { Authorization = auth.Authorization,
      ["sc-emulator-fault"] = "reset" })))
    assert.are.equal(503, status_of(send(path, { ["sc-emulator-fault"] = "html503" })))
    assert.are.equal(500, status_of(send(path, { ["sc-emulator-fault"] = "status:500" })))
    local b = stats()
    assert.are.equal(5, b.requests)
    assert.are.equal(0, b.inFlight)
    assert.are.equal(2, b.maxInFlight)
  end)

  it("is zeroed by a reset, and requests running across it do not go negative", function()
    S.admin("POST", "/_emulator/config", { latency = 300 })
    local c = send("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", { Authorization = "Bearer " .. t.access_token })
    socket.sleep(0.1)
    assert.are.equal(1, stats().inFlight)
    S.admin("DELETE", "/_emulator/stats")
    assert.are.equal(0, stats().inFlight)
    status_of(c)
    local b = stats()
    assert.are.equal(0, b.inFlight)
    assert.are.equal(0, b.requests)
    S.get("/v2.0/user", t.access_token)
    S.reset()
    assert.are.same({ authorization_code = 0, refresh_token = 0, client_credentials = 0, total = 0 },
      stats().tokenRequests)
    assert.are.equal(0, stats().requests)
  end)
end)
