-- fanOut: one endpoint on many vehicles through the transport's many.
local smartcar = require "smartcar"
local H = require "helper"

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
      "bad argument #2 to 'fanOut' (not a method without arguments: 'batch')")
  end)
end)
