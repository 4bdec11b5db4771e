-- The HTTP engine and the conventions every call shares, over real HTTP
-- against the emulator through the libcurl transport.
local smartcar = require "smartcar"
local H = require "helper"

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"

describe("the libcurl engine", function()
  local vehicle
  before_each(function()
    H.reset()
    H.configure()
    vehicle = H.vehicle("driver@example.com")
    H.clear()
  end)
  after_each(function() H.configure() end)

  it("reuses one keep-alive connection for sequential requests", function()
    for _ = 1, 5 do assert(vehicle:odometer()) end
    assert(vehicle:location())
    local reqs = H.requests()
    assert.are.equal(6, #reqs)
    for i = 2, #reqs do assert.are.equal(reqs[1].connection, reqs[i].connection) end
  end)

  it("sends the SDK's User-Agent, the bearer token and the unit system", function()
    assert(vehicle:odometer())
    local r = H.last()
    assert.are.equal("GET", r.method)
    assert.are.equal("/v2.0/vehicles/" .. vehicle.id .. "/odometer", r.path)
    assert.are.equal("", r.query)
    assert.matches("^Smartcar/%d+%.%d+%.%d+ %(%w+; [%w_]+%) Lua", r.headers["user-agent"])
    assert.matches("^Bearer %S+$", r.headers.authorization)
    assert.are.equal("metric", r.headers["sc-unit-system"])
    assert.are.equal("", r.body)
  end)

  it("maps response headers to meta", function()
    local res = assert(vehicle:odometer())
    assert.matches(UUID, res.meta.requestId)
    assert.matches(ISO, res.meta.dataAge)
    assert.matches(ISO, res.meta.fetchedAt)
    assert.are.equal("metric", res.meta.unitSystem)
    local attrs = assert(vehicle:attributes())
    assert.matches(UUID, attrs.meta.requestId)
    assert.is_nil(attrs.meta.unitSystem ~= nil and attrs.meta.unitSystem ~= "metric" or nil)
  end)

  it("normalises whole numbers to integers and drops JSON null", function()
    local attrs = assert(vehicle:attributes())
    assert.are.equal("number", type(attrs.year))
    if math.type then assert.are.equal("integer", math.type(attrs.year)) end
    local nominal = vehicle:nominalCapacity()
    if nominal and nominal.availableCapacities then
      for _, c in ipairs(nominal.availableCapacities) do
        assert.is_not.equal("userdata", type(c.description))
      end
    end
  end)

  it("returns SDK_ERROR NETWORK when the connection is refused", function()
    H.configure { apiOrigin = "http://127.0.0.1:1" }
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.is_true(smartcar.SmartcarError.is(err))
    assert.are.equal("SmartcarError", err.name)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("NETWORK", err.code)
    assert.is_nil(err.statusCode)
    assert.matches("^SDK_ERROR:NETWORK %- ", err.message)
    assert.are.equal(err.message, tostring(err))
  end)

  it("returns SDK_ERROR TIMEOUT (408) when the server is too slow", function()
    H.configure { timeout = 200 }
    H.fault("latency:1500")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("TIMEOUT", err.code)
    assert.are.equal(408, err.statusCode)
  end)

  it("returns SDK_ERROR INVALID_RESPONSE for a non-JSON 502", function()
    H.fault("html502")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("INVALID_RESPONSE", err.code)
    assert.are.equal(502, err.statusCode)
    assert.matches("<", err.description, 1, true)
    assert.is_true(#err.description <= 200)
  end)

  it("returns SDK_ERROR INVALID_RESPONSE for truncated JSON", function()
    H.fault("truncate")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("INVALID_RESPONSE", err.code)
    assert.are.equal(200, err.statusCode)
  end)

  it("returns SDK_ERROR INVALID_RESPONSE for a body over the size limit", function()
    H.configure { maxResponseSize = 4096 }
    H.fault("oversize:100000")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("INVALID_RESPONSE", err.code)
    assert.matches("4096 bytes", err.description, 1, true)
  end)

  it("returns SDK_ERROR NETWORK when the connection is reset mid-body", function()
    H.fault("reset")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("NETWORK", err.code)
  end)

  it("keeps working on the same session after a failure", function()
    H.fault("html503")
    assert.is_nil((vehicle:odometer()))
    assert.is_truthy(vehicle:odometer())
  end)
end)

describe("secrets", function()
  before_each(function() H.reset(); H.configure() end)

  it("never appear in tostring of a vehicle or a client", function()
    local v = smartcar.Vehicle.new("3c9d7c1e-9b8c-4b83-8d1e-0ed5c2f1a001", "top-secret-token")
    assert.is_nil(tostring(v):find("top-secret-token", 1, true))
    assert.is_nil(v.token)
    local c = smartcar.AuthClient.new { clientId = "id-1", clientSecret = "very-secret", mode = "test" }
    assert.is_nil(tostring(c):find("very-secret", 1, true))
    assert.is_nil(c.clientSecret)
    assert.are.equal("id-1", c.clientId)
  end)

  it("never appear in errors, even when the server echoes them", function()
    local client = smartcar.AuthClient.new {
      clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET, redirectUri = H.REDIRECT_URI,
    }
    local res, err = client:exchangeRefreshToken("refresh-secret-123")
    assert.is_nil(res)
    assert.are.equal("invalid_request", err.type)
    for k, v in pairs(err) do
      assert.is_nil(tostring(v):find("refresh-secret-123", 1, true), k)
    end
    local bad = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = "wrong-secret-xyz" }
    local _, err2 = bad:exchangeCode("some-code")
    assert.are.equal(401, err2.statusCode)
    for k, v in pairs(err2) do
      assert.is_nil(tostring(v):find("wrong-secret-xyz", 1, true), k)
    end
  end)
end)

describe("smartcar.fanOut", function()
  before_each(function() H.reset(); H.configure() end)

  it("calls one method on many vehicles concurrently, keeping their order", function()
    local t = H.token("12-vehicles@smartcar.com")
    local vehicles = {}
    for i, id in ipairs(t.vehicles) do vehicles[i] = smartcar.Vehicle.new(id, t.access_token) end
    vehicles[#vehicles + 1] = smartcar.Vehicle.new("0b7a4c2e-5d6f-4a8b-9c0d-1e2f3a4b5c6d", t.access_token)
    H.clear()
    local results, errors = smartcar.fanOut(vehicles, "attributes", { concurrency = 4 })
    for i = 1, 12 do
      assert.is_nil(errors[i])
      assert.are.equal(vehicles[i].id, results[i].id)
      assert.is_string(results[i].meta.requestId)
    end
    assert.is_nil(results[13])
    assert.are.equal(401, errors[13].statusCode)
    local reqs = H.requests()
    assert.are.equal(13, #reqs)
    local connections = {}
    for _, r in ipairs(reqs) do connections[r.connection] = true end
    local n = 0
    for _ in pairs(connections) do n = n + 1 end
    assert.is_true(n <= 4)
  end)

  it("sends commands too, and reports per-vehicle failures", function()
    local t = H.token("3-vehicles@smartcar.com")
    local vehicles = {}
    for i, id in ipairs(t.vehicles) do vehicles[i] = smartcar.Vehicle.new(id, t.access_token) end
    local results = smartcar.fanOut(vehicles, "lock")
    for i = 1, 3 do assert.are.equal("success", results[i].status) end
    assert.are.equal('{"action":"LOCK"}', H.last().body)
    H.fault("html503")
    local _, errors = smartcar.fanOut({ vehicles[1] }, "odometer")
    assert.are.equal("INVALID_RESPONSE", errors[1].code)
    assert.has_error(function() smartcar.fanOut(vehicles, "batch") end,
      "bad argument #2 to 'fanOut' (not a method without arguments: batch)")
  end)
end)
