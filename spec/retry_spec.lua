-- Retries (API.md 0.2): idempotent requests again on a network failure, 500/502/503/504
-- and a 429 whose retry-after is within maxDelay; commands only when they never left;
-- err.attempts; the onResponse hook after every attempt. Against the emulator's faults.
local smartcar = require "smartcar"
local socket = require "socket"
local H = require "helper"

local FAST = { attempts = 3, baseDelay = 20, maxDelay = 200 }

local function instance(extra)
  local options = { origin = H.origin, timeout = 5000, retry = FAST }
  for k, v in pairs(extra or {}) do options[k] = v end
  return smartcar.new(options)
end

local function sent(path_end)
  local n = 0
  for _, r in ipairs(H.requests()) do
    if r.path:sub(-#path_end) == path_end then n = n + 1 end
  end
  return n
end

describe("retries", function()
  local t
  before_each(function()
    H.reset()
    t = H.token("driver@example.com")
    H.clear()
  end)

  local function vehicle(sc) return sc.Vehicle.new(t.vehicles[1], t.access_token) end

  it("a GET answered 503 twice, then 200, succeeds on the third attempt", function()
    local seen = {}
    local sc = instance { onResponse = function(info) seen[#seen + 1] = info end }
    H.fault("html503", 2, "/odometer$")
    local res, err = vehicle(sc):odometer()
    assert.is_nil(err)
    assert.is_number(res.distance)
    assert.are.equal(3, sent("/odometer"))
    assert.are.equal(3, #seen)
    for i, info in ipairs(seen) do
      assert.are.equal(i, info.attempt)
      assert.are.equal("GET", info.method)
      assert.are.equal(H.origin .. "/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", info.url)
      assert.are.equal(i < 3 and 503 or 200, info.status)
      assert.is_number(info.ms)
      assert.is_true(info.ms >= 0)
    end
    assert.are.equal("INVALID_RESPONSE", seen[1].error.code)
    assert.is_nil(seen[3].error)
    assert.are.equal(res.meta.requestId, seen[3].requestId)
  end)

  it("gives up after `attempts`, and the error says how many were made", function()
    local sc = instance()
    H.fault("status:502", 5, "/odometer$")
    local res, err = vehicle(sc):odometer()
    assert.is_nil(res)
    assert.are.equal(502, err.statusCode)
    assert.are.equal(3, err.attempts)
    assert.are.equal(3, sent("/odometer"))
  end)

  it("retries 500 and 504 answers and a connection closed without an answer", function()
    for _, fault in ipairs { "status:500", "status:504", "close" } do
      H.clear()
      H.fault(fault, 1, "/odometer$")
      local res, err = vehicle(instance()):odometer()
      assert.is_nil(err, fault)
      assert.is_number(res.distance)
      assert.are.equal(2, sent("/odometer"), fault)
    end
  end)

  it("waits out a 429's retry-after of 1 s, then succeeds", function()
    local sc = instance { retry = { attempts = 2, baseDelay = 10, maxDelay = 5000 } }
    H.fault("rate-limit:1", 1, "/odometer$")
    local t0 = socket.gettime()
    local res, err = vehicle(sc):odometer()
    local elapsed = socket.gettime() - t0
    assert.is_nil(err)
    assert.is_number(res.distance)
    assert.is_true(elapsed >= 0.95, ("waited %.2f s"):format(elapsed))
    assert.are.equal(2, sent("/odometer"))
  end)

  it("returns a 429 whose retry-after is beyond maxDelay at once, retryAfter set", function()
    local sc = instance { retry = {} } -- the defaults: maxDelay 30 s
    H.fault("rate-limit:120", 1, "/odometer$")
    local t0 = socket.gettime()
    local res, err = vehicle(sc):odometer()
    assert.is_nil(res)
    assert.is_true(socket.gettime() - t0 < 1)
    assert.are.equal(429, err.statusCode)
    assert.are.equal("RATE_LIMIT", err.type)
    assert.are.equal(120, err.retryAfter)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, sent("/odometer"))
  end)

  it("never sends a command twice when it may have arrived: a POST answered 503 is returned", function()
    local sc = instance()
    H.fault("html503", 2, "/security$")
    local res, err = vehicle(sc):lock()
    assert.is_nil(res)
    assert.are.equal(503, err.statusCode)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, sent("/security"))
  end)

  it("tries a command again when its connection was refused (it never left)", function()
    local port = require("support.nginx").free_port()
    local seen = {}
    local sc = instance { origin = "http://127.0.0.1:" .. port, onResponse = function(i) seen[#seen + 1] = i end }
    local res, err = sc.Vehicle.new("vid", "token"):lock()
    assert.is_nil(res)
    assert.are.equal("NETWORK", err.code)
    assert.are.equal(3, err.attempts)
    assert.are.equal(3, #seen)
    assert.is_nil(seen[1].status)
    assert.are.equal(err, seen[3].error)
  end)

  it("retries batch (a read, though a POST)", function()
    H.fault("html503", 1, "/batch$")
    local res, err = vehicle(instance()):batch { "/odometer" }
    assert.is_nil(err)
    assert.is_table(res)
    assert.are.equal(2, sent("/batch"))
  end)

  it("makes one attempt with retry = false", function()
    H.fault("html503", 1, "/odometer$")
    local _, err = vehicle(instance { retry = false }):odometer()
    assert.are.equal(503, err.statusCode)
    assert.are.equal(1, err.attempts)
  end)

  it("validates the retry option", function()
    assert.has_error(function() smartcar.new { retry = { attempts = 0 } } end,
      "bad option 'retry.attempts' to 'new' (a whole number from 1 to 100 expected, got 0)")
    assert.has_error(function() smartcar.new { retry = { tries = 2 } } end, "unknown option 'retry.tries' to 'new'")
    assert.has_error(function() smartcar.new { retry = { baseDelay = 500, maxDelay = 100 } } end,
      "bad option 'retry.maxDelay' to 'new' (must be at least baseDelay (500))")
    assert.has_error(function() smartcar.new { retry = "yes" } end,
      "bad option 'retry' to 'new' (false or a table {attempts=, baseDelay=, maxDelay=} expected, got 'yes')")
    assert.has_error(function() smartcar.new { onResponse = 1 } end,
      "bad option 'onResponse' to 'new' (a function (or false for none) expected, got 1)")
  end)
end)

describe("onResponse", function()
  before_each(function() H.reset() end)

  it("never sees a header value, a body or a secret", function()
    local client = smartcar.new { origin = H.origin, retry = false, onResponse = function() end }
    local infos = {}
    client.configure { onResponse = function(info) infos[#infos + 1] = info end }
    local auth = client.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
      redirectUri = H.REDIRECT_URI, mode = "test" }
    auth:exchangeCode("a-secret-code")
    local tok = H.token("driver@example.com")
    client.getVehicles(tok.access_token, { limit = 2 })
    assert.are.equal(2, #infos)
    local allowed = { method = true, url = true, status = true, ms = true, attempt = true, requestId = true,
      error = true }
    for _, info in ipairs(infos) do
      for k in pairs(info) do assert.is_true(allowed[k], "info has " .. tostring(k)) end
      for _, v in pairs(info) do
        local text = type(v) == "table" and (v.message or "") .. (v.description or "") or tostring(v)
        for _, secret in ipairs { H.CLIENT_SECRET, "a-secret-code", tok.access_token } do
          assert.is_nil(text:find(secret, 1, true), "info shows a secret")
        end
      end
    end
    assert.are.equal(H.origin .. "/v2.0/vehicles", infos[2].url) -- no query
    assert.are.equal(200, infos[2].status)
    assert.are.equal(400, infos[1].status)
  end)

  it("lets an error raised by the hook reach the caller", function()
    local sc = smartcar.new { origin = H.origin, onResponse = function() error("hook says no", 0) end }
    assert.has_error(function() sc.getUser("t") end, "hook says no")
    sc.configure { onResponse = false }
    local res, err = sc.getUser("t")
    assert.is_nil(res)
    assert.are.equal(401, err.statusCode)
  end)
end)
