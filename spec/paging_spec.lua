-- Paging iterators (API.md 0.2): lazy pages, every item once, `false, err` once on a failure.
local smartcar = require "smartcar"
local H = require "helper"

local function collect(iter)
  local items, failures = {}, {}
  for item, err in iter do
    if item == false then failures[#failures + 1] = err else items[#items + 1] = item end
  end
  return items, failures
end

local function paths(pattern)
  local list = {}
  for _, r in ipairs(H.requests()) do
    if r.path:match(pattern) then list[#list + 1] = r.query end
  end
  return list
end

describe("paging iterators", function()
  before_each(function() H.reset() end)

  it("eachVehicleId walks 120 vehicles, 50 a page, lazily", function()
    local t = H.admin("POST", "/_emulator/tokens", { email = "fleet@example.com", vehicles = 120 })
    H.clear()
    local iter = smartcar.eachVehicleId(t.access_token, { pageSize = 50 })
    assert.are.same({}, paths("^/v2.0/vehicles$")) -- nothing fetched before the first item
    local first = iter()
    assert.are.same({ "limit=50&offset=0" }, paths("^/v2.0/vehicles$"))
    local ids, failures = collect(iter)
    table.insert(ids, 1, first)
    assert.are.same({}, failures)
    assert.are.equal(120, #ids)
    local all = assert(smartcar.getVehicles(t.access_token, { limit = 50, offset = 100 })).vehicles
    assert.are.equal(all[20], ids[120])
    local seen = {}
    for _, id in ipairs(ids) do
      assert.is_nil(seen[id])
      seen[id] = true
    end
    assert.are.same({ "limit=50&offset=0", "limit=50&offset=50", "limit=50&offset=100", "limit=50&offset=100" },
      paths("^/v2.0/vehicles$"))
  end)

  it("eachPermission walks 60 permissions, 25 a page", function()
    local scope = {}
    for i = 1, 60 do scope[i] = "read_x_" .. i end
    local t = H.token("driver@example.com", scope)
    local v = smartcar.Vehicle.new(t.vehicles[1], t.access_token)
    H.clear()
    local names, failures = collect(v:eachPermission { pageSize = 25 })
    assert.are.same({}, failures)
    assert.are.equal(60, #names)
    assert.are.equal("read_x_1", names[1])
    assert.are.equal("read_x_60", names[60])
    assert.are.same({ "limit=25&offset=0", "limit=25&offset=25", "limit=25&offset=50" }, paths("/permissions$"))
  end)

  it("eachConnection follows the cursor over 250 connections", function()
    H.admin("POST", "/_emulator/connections", { count = 250 })
    H.clear()
    local list, failures = collect(smartcar.eachConnection(H.AMT, nil, { pageSize = 100 }))
    assert.are.same({}, failures)
    assert.are.equal(250, #list)
    local seen = {}
    for _, c in ipairs(list) do
      assert.is_string(c.vehicleId)
      assert.is_nil(seen[c.vehicleId])
      seen[c.vehicleId] = true
    end
    local queries = paths("/management/connections")
    assert.are.equal(3, #queries)
    assert.are.equal("limit=100", queries[1])
    assert.matches("^limit=100&cursor=", queries[2])
  end)

  it("gives false, err once on a failure, then ends", function()
    local iter = smartcar.eachVehicleId("not-a-token")
    local item, err = iter()
    assert.is_false(item)
    assert.are.equal(401, err.statusCode)
    assert.is_nil(iter())
    assert.is_nil(iter())
    local t = H.admin("POST", "/_emulator/tokens", { email = "fleet@example.com", vehicles = 30 })
    H.fault("status:500", 1, "^/v2.0/vehicles$")
    H.fault("status:500", 1, "^/v2.0/vehicles$")
    local n, failures = 0, {}
    local it2 = smartcar.eachVehicleId(t.access_token, { pageSize = 10 })
    H.admin("POST", "/_emulator/faults", { fault = nil })
    for id, e in it2 do
      if id then n = n + 1 else failures[#failures + 1] = e end
      if n == 10 then H.fault("status:500", 1, "^/v2.0/vehicles$") end
    end
    assert.are.equal(10, n)
    assert.are.equal(1, #failures)
    assert.are.equal(500, failures[1].statusCode)
  end)

  it("checks its arguments at once", function()
    assert.has_error(function() smartcar.eachVehicleId(nil) end,
      "bad argument #1 to 'eachVehicleId' (string expected, got nil)")
    assert.has_error(function() smartcar.eachVehicleId("t", { pageSize = 51 }) end,
      "bad option 'pageSize' to 'eachVehicleId' (a whole number from 1 to 50 expected, got 51)")
    assert.has_error(function() smartcar.eachVehicleId("t", { pageSize = "10" }) end,
      "bad option 'pageSize' to 'eachVehicleId' (a whole number from 1 to 50 expected, got '10')")
    assert.has_error(function() smartcar.eachConnection("amt", { user = "x" }) end,
      "unknown option 'user' to 'eachConnection'")
    assert.has_error(function() smartcar.Vehicle.new("v", "t"):eachPermission { size = 2 } end,
      "unknown option 'size' to 'eachPermission'")
  end)
end)
