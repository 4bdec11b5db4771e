-- Transports are objects: the SDK runs a transport of the suite's own (luasocket),
-- gets concurrency from its `start` and `poll`, and still wraps a plain function.
local smartcar = require "smartcar"
local socket = require "socket"
local socket_transport = require "support.socket_transport"
local H = require "helper"

describe("a custom transport object", function()
  local sc, transport, t
  before_each(function()
    H.reset()
    transport = socket_transport.new()
    sc = smartcar.new { origin = H.origin, timeout = 5000, transport = transport }
    t = H.token("8-vehicles@smartcar.com")
    H.clear()
  end)

  it("carries every request, byte for byte as the libcurl transport does", function()
    local v = sc.Vehicle.new(t.vehicles[1], t.access_token, { unitSystem = "imperial" })
    local res = assert(v:odometer())
    assert.is_number(res.distance)
    assert.are.equal("imperial", res.meta.unitSystem)
    assert.are.equal(1, transport.calls)
    local r = H.last()
    assert.are.equal("GET", r.method)
    assert.are.equal("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", r.path)
    assert.are.equal("Bearer " .. t.access_token, r.headers.authorization)
    assert.are.equal("imperial", r.headers["sc-unit-system"])
    assert.are.equal(sc.userAgent, r.headers["user-agent"])
    local _, err = sc.Vehicle.new(t.vehicles[1], "not-a-token"):odometer()
    assert.are.equal(401, err.statusCode)
    assert.are.equal("AUTHENTICATION", err.type)
  end)

  it("runs fanOut concurrently through its start and poll: N x 300 ms finish in well under N x 300 ms", function()
    local vehicles = {}
    for i, id in ipairs(t.vehicles) do vehicles[i] = sc.Vehicle.new(id, t.access_token) end
    H.admin("POST", "/_emulator/config", { latency = 300 })
    finally(function() H.admin("POST", "/_emulator/config", { latency = 0 }) end)
    local t0 = socket.gettime()
    local results, errors = sc.fanOut(vehicles, "odometer", { concurrency = 8 })
    local elapsed = socket.gettime() - t0
    for i = 1, #vehicles do
      assert.is_nil(errors[i])
      assert.is_number(results[i].distance)
    end
    assert.are.equal(#vehicles, transport.started)
    assert.are.equal(#vehicles, transport.calls)
    assert.is_true(elapsed < #vehicles * 0.3 / 2, ("%.2f s for %d requests"):format(elapsed, #vehicles))
  end)

  it("without start and poll, runs the requests one after the other", function()
    local calls = 0
    local plain = smartcar.new { origin = H.origin, transport = function(method, url, headers, body, timeout)
      calls = calls + 1
      assert.are.equal(310000, timeout)
      return smartcar.transports.libcurl:request(method, url, headers, body, { timeout = timeout,
        connectTimeout = 1000, maxResponseSize = 1024 * 1024 })
    end }
    local vehicles = {}
    for i = 1, 3 do vehicles[i] = plain.Vehicle.new(t.vehicles[i], t.access_token) end
    local results = plain.fanOut(vehicles, "odometer")
    assert.are.equal(3, calls)
    for i = 1, 3 do assert.is_number(results[i].distance) end
  end)

  it("turns a transport that answers nonsense into an SDK_ERROR", function()
    local odd = smartcar.new { origin = H.origin, transport = { request = function() return "200", 5 end } }
    local _, err = odd.Vehicle.new("v", "t"):odometer()
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("INVALID_RESPONSE", err.code)
  end)

  it("is refused when it is not a transport", function()
    assert.has_error(function() smartcar.new { transport = {} } end,
      "bad option 'transport' to 'new' (a transport object with a request method expected, got table)")
    assert.has_error(function() smartcar.new { transport = 5 } end,
      "bad option 'transport' to 'new' (a transport object with a request method expected, got number)")
  end)
end)
