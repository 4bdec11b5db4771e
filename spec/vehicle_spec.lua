-- Vehicle: every method against the emulator, asserting the exact request on
-- the wire and the result, including meta.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local endpoints = require "smartcar.endpoints"
local H = require "helper"

local PHEV = "1SCPHEV0000000001@phev.smartcar.com" -- every capability: fuel, battery, charge

-- The keys each read returns (a subset check: the emulator may add optional fields).
local KEYS = {
  attributes = { "id", "make", "model", "year" }, vin = { "vin" }, odometer = { "distance" },
  location = { "latitude", "longitude" }, fuel = { "percentRemaining" }, battery = { "percentRemaining", "range" },
  batteryCapacity = { "capacity" }, nominalCapacity = { "availableCapacities" }, charge = { "isPluggedIn", "state" },
  getChargeLimit = { "limit" }, engineOil = { "lifeRemaining" },
  tirePressure = { "frontLeft", "frontRight", "backLeft", "backRight" },
  lockStatus = { "isLocked", "doors", "windows" }, diagnosticSystemStatus = { "systems" },
  diagnosticTroubleCodes = { "activeCodes" },
}

describe("Vehicle.new", function()
  it("validates its arguments", function()
    assert.has_error(function() smartcar.Vehicle.new(nil, "t") end,
      "bad argument #1 to 'Vehicle.new' (string expected, got nil)")
    assert.has_error(function() smartcar.Vehicle.new("id", 42) end,
      "bad argument #2 to 'Vehicle.new' (string expected, got number)")
    assert.has_error(function() smartcar.Vehicle.new("id", "t", { unitSystem = "metrics" }) end,
      "bad option 'unitSystem' to 'Vehicle.new' (expected 'metric' or 'imperial', got 'metrics')")
    assert.has_error(function() smartcar.Vehicle.new("id", "t", { units = "metric" }) end,
      "unknown option 'units' to 'Vehicle.new'")
    assert.has_error(function() smartcar.Vehicle.new("id", "t", { version = "two" }) end,
      "bad option 'version' to 'Vehicle.new' (expected a version such as '2.0', got 'two')")
    assert.has_error(function() smartcar.Vehicle.new("id", "t", { flags = "country:DE" }) end,
      "bad option 'flags' to 'Vehicle.new' (table expected, got string)")
    assert.has_error(function() smartcar.Vehicle.new("id", "t", "metric") end,
      "bad argument #3 to 'Vehicle.new' (table expected, got string)")
  end)

  it("exposes id, unitSystem and version, defaulting to the module's API version", function()
    local v = smartcar.Vehicle.new("abc", "t")
    assert.are.same({ "abc", "metric", "2.0" }, { v.id, v.unitSystem, v.version })
    smartcar.setApiVersion("1.0")
    assert.are.equal("1.0", smartcar.Vehicle.new("abc", "t").version)
    smartcar.setApiVersion("2.0")
    assert.are.equal("2.0", smartcar.getApiVersion())
    assert.has_error(function() smartcar.setApiVersion(2) end)
  end)
end)

describe("Vehicle methods", function()
  local vehicle, token
  before_each(function()
    H.reset()
    H.configure()
    local t
    vehicle, t = H.vehicle(PHEV, nil, nil, "simulated") -- lock and charge state change: the simulation
    token = t.access_token
    H.clear()
  end)

  local function expect_request(method, path, body, query)
    local r = H.last()
    assert.are.equal(method, r.method)
    assert.are.equal("/v2.0/vehicles/" .. vehicle.id .. path, r.path)
    assert.are.equal(query or "", r.query)
    assert.are.equal("Bearer " .. token, r.headers.authorization)
    assert.are.equal("metric", r.headers["sc-unit-system"])
    assert.are.equal(body or "", r.body)
    if body then assert.are.equal("application/json", r.headers["content-type"]) end
  end

  for _, e in ipairs(endpoints) do
    if e.method == "GET" then
      it(e.name .. "() sends GET " .. e.path .. " and returns the data with meta", function()
        local res = assert(vehicle[e.name](vehicle))
        expect_request("GET", e.path)
        for _, k in ipairs(KEYS[e.name]) do assert.is_not_nil(res[k], k) end
        assert.is_string(res.meta.requestId)
      end)
    end
  end

  it("lock() and unlock() send the action and change lockStatus", function()
    local res = assert(vehicle:lock())
    expect_request("POST", "/security", '{"action":"LOCK"}')
    assert.are.equal("success", res.status)
    assert.is_string(res.message)
    assert.is_true(assert(vehicle:lockStatus()).isLocked)
    assert(vehicle:unlock())
    expect_request("POST", "/security", '{"action":"UNLOCK"}')
    assert.is_false(assert(vehicle:lockStatus()).isLocked)
  end)

  it("startCharge() and stopCharge() send the action and change charge state", function()
    local ok, err = vehicle:startCharge()
    expect_request("POST", "/charge", '{"action":"START"}')
    if ok then
      assert.are.equal("CHARGING", assert(vehicle:charge()).state)
    else
      assert.are.equal("VEHICLE_STATE", err.type)
    end
    vehicle:stopCharge()
    expect_request("POST", "/charge", '{"action":"STOP"}')
    assert.are_not.equal("CHARGING", assert(vehicle:charge()).state)
  end)

  it("setChargeLimit() sends a JSON number and getChargeLimit() reads it back", function()
    assert(vehicle:setChargeLimit(0.8))
    expect_request("POST", "/charge/limit", '{"limit":0.8}')
    assert.are.equal(0.8, assert(vehicle:getChargeLimit()).limit)
    assert.has_error(function() vehicle:setChargeLimit("0.8") end,
      "bad argument #1 to 'setChargeLimit' (number expected, got string)")
    local res, err = vehicle:setChargeLimit(0.2)
    assert.is_nil(res)
    assert.are.equal("VALIDATION", err.type)
    assert.are.equal(400, err.statusCode)
  end)

  it("sendDestination() sends the coordinates and checks their range", function()
    assert(vehicle:sendDestination(37.7749, -122.4194))
    local r = H.last()
    assert.are.same({ latitude = 37.7749, longitude = -122.4194 }, core.decode(r.body))
    assert.are.equal("/v2.0/vehicles/" .. vehicle.id .. "/navigation/destination", r.path)
    H.clear()
    assert.has_error(function() vehicle:sendDestination(91, 0) end,
      "bad argument #1 to 'sendDestination' (latitude must be between -90 and 90, got 91)")
    assert.has_error(function() vehicle:sendDestination(0, -180.5) end,
      "bad argument #2 to 'sendDestination' (longitude must be between -180 and 180, got -180.5)")
    assert.are.equal(0, #H.requests())
  end)

  it("serviceHistory() sends start_date/end_date and wraps the array", function()
    local res = assert(vehicle:serviceHistory("2023-01-01", "2023-12-31"))
    expect_request("GET", "/service/history", nil, "start_date=2023-01-01&end_date=2023-12-31")
    assert.is_table(res.data)
    assert.is_string(res.meta.requestId)
    assert(vehicle:serviceHistory())
    expect_request("GET", "/service/history")
  end)

  it("permissions() pages", function()
    local all = assert(vehicle:permissions())
    expect_request("GET", "/permissions")
    assert.is_true(#all.permissions > 2)
    local page = assert(vehicle:permissions { limit = 2, offset = 1 })
    expect_request("GET", "/permissions", nil, "limit=2&offset=1")
    assert.are.same({ all.permissions[2], all.permissions[3] }, page.permissions)
    assert.are.equal(all.paging.count, page.paging.count)
    assert.has_error(function() vehicle:permissions { page = 1 } end, "unknown option 'page' to 'permissions'")
  end)

  it("subscribe() and unsubscribe() use the token and the AMT", function()
    local sub = assert(vehicle:subscribe(H.WEBHOOK_ID))
    expect_request("POST", "/webhooks/" .. H.WEBHOOK_ID)
    assert.are.equal(H.WEBHOOK_ID, sub.webhookId)
    assert.are.equal(vehicle.id, sub.vehicleId)
    assert(vehicle:unsubscribe(H.AMT, H.WEBHOOK_ID))
    local r = H.last()
    assert.are.equal("DELETE", r.method)
    assert.are.equal("Bearer " .. H.AMT, r.headers.authorization)
    local _, err = vehicle:unsubscribe("wrong-amt", H.WEBHOOK_ID)
    assert.are.equal("AUTHENTICATION", err.type)
  end)

  it("disconnect() revokes access", function()
    assert.are.equal("success", assert(vehicle:disconnect()).status)
    expect_request("DELETE", "/application")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal(401, err.statusCode)
    assert.are.equal("AUTHENTICATION", err.type)
  end)

  it("converts units for an imperial vehicle and says so", function()
    local metric = assert(vehicle:odometer()).distance
    local imperial = smartcar.Vehicle.new(vehicle.id, token, { unitSystem = "imperial" })
    local res = assert(imperial:odometer())
    assert.are.equal("imperial", H.last().headers["sc-unit-system"])
    assert.are.equal("imperial", res.meta.unitSystem)
    assert.is_true(math.abs(res.distance - metric / 1.609344) < 0.01)
  end)

  it("sends flags on every request, batch and raw requests included", function()
    local v = smartcar.Vehicle.new(vehicle.id, token, { flags = { country = "DE", beta = true } })
    assert(v:odometer())
    assert.are.equal("flags=beta%3Atrue%20country%3ADE", H.last().query)
    assert(v:permissions { limit = 1 })
    assert.are.equal("limit=1&flags=beta%3Atrue%20country%3ADE", H.last().query)
    assert(v:batch { "/odometer" })
    assert.are.equal("flags=beta%3Atrue%20country%3ADE", H.last().query)
    assert(v:request("GET", "/odometer"))
    assert.are.equal("flags=beta%3Atrue%20country%3ADE", H.last().query)
  end)

  it("percent-encodes ids so they cannot change the path", function()
    local v = smartcar.Vehicle.new("../x?y", token)
    local res, err = v:odometer()
    assert.is_nil(res)
    assert.is_true(err.statusCode >= 400 and err.statusCode < 500)
    assert.are.equal("", H.last().query)
    assert.matches("/v2.0/vehicles/%.%.%%2Fx%%3Fy/odometer$", H.last().path)
  end)

  it("batch() sends the paths and maps each item to its own result or error", function()
    local b = assert(vehicle:batch { "/odometer", "location", "/", "/tires/pressure", "/battery/capacity" })
    expect_request("POST", "/batch", '{"requests":[{"path":"/odometer"},{"path":"/location"},{"path":"/"},' ..
      '{"path":"/tires/pressure"},{"path":"/battery/capacity"}]}')
    assert.is_number(assert(b.odometer()).distance)
    assert.are.equal("metric", b.odometer().meta.unitSystem)
    assert.is_string(b.odometer().meta.requestId)
    assert.is_number(assert(b.location()).latitude)
    assert.are.equal(vehicle.id, assert(b.attributes()).id)
    assert.is_number(assert(b.tirePressure()).frontLeft)
    assert.is_number(assert(b.batteryCapacity()).capacity)
  end)

  it("batch() item errors keep the item's status code", function()
    local ice = H.vehicle("1SCICE00000000001@fuel.smartcar.com")
    local b = assert(ice:batch { "/odometer", "/battery" })
    assert(b.odometer())
    local res, err = b.battery()
    assert.is_nil(res)
    assert.are.equal(501, err.statusCode)
    assert.are.equal("COMPATIBILITY", err.type)
    assert.are.equal("VEHICLE_NOT_CAPABLE", err.code)
  end)

  it("batch() rejects bad paths before the network", function()
    assert.has_error(function() vehicle:batch {} end, "bad argument #1 to 'batch' (non-empty list of paths expected)")
    assert.has_error(function() vehicle:batch { 1 } end,
      "bad argument #1 to 'batch' (path 1 must be a string, got number)")
  end)

  it("request() sends any method, body and headers and returns {body, meta}", function()
    local res = assert(vehicle:request("post", "security", { action = "LOCK" }, { ["X-Trace"] = "t1" }))
    expect_request("POST", "/security", '{"action":"LOCK"}')
    assert.are.equal("t1", H.last().headers["x-trace"])
    assert.are.equal("success", res.body.status)
    assert.is_string(res.meta.requestId)
    local other = assert(vehicle:request("GET", "/odometer", nil, { Authorization = "Bearer " .. token }))
    assert.is_number(other.body.distance)
    local _, err = vehicle:request("GET", "/odometer", nil, { Authorization = "Bearer nope" })
    assert.are.equal(401, err.statusCode)
    assert.has_error(function() vehicle:request("FETCH", "/x") end,
      "bad argument #1 to 'request' (GET, HEAD, POST, PUT, PATCH or DELETE expected, got 'FETCH')")
  end)

  it("request() sends exactly the method named, with or without a body", function()
    local cases = {
      { "POST", "/security", nil, "POST" },             -- a command without a body stays POST
      { "PUT", "/charge/limit", { limit = 0.7 }, "PUT" }, -- with a body, not POST
      { "PATCH", "/charge/limit", { limit = 0.6 }, "PATCH" },
      { "put", "/charge/limit", nil, "PUT" },           -- a body-less PUT, not GET; names are upper-cased
      { "HEAD", "/odometer", nil, "HEAD" },
      { "get", "/odometer", nil, "GET" },
      -- a DELETE with a body, not POST (last: it disconnects the vehicle)
      { "Delete", "/application", { reason = "test" }, "DELETE" },
    }
    for _, c in ipairs(cases) do
      H.clear()
      local res, err = vehicle:request(c[1], c[2], c[3])
      assert.is_true(res ~= nil or smartcar.SmartcarError.is(err), c[1])
      local list = H.requests()
      assert.are.equal(1, #list, c[1])
      local r = list[1]
      assert.are.equal(c[4], r.method, c[1])
      assert.are.equal("/v2.0/vehicles/" .. vehicle.id .. c[2], r.path)
      assert.are.equal("", r.query)
      assert.are.equal(c[3] and core.encode(c[3]) or "", r.body, c[1])
      if c[3] then assert.are.equal("application/json", r.headers["content-type"], c[1]) end
      assert.are.equal("Bearer " .. token, r.headers.authorization)
      assert.are.equal("metric", r.headers["sc-unit-system"])
      if res then assert.is_table(res.body) end
    end
  end)

  it("request() refuses a body on GET and HEAD, before the network", function()
    H.clear()
    assert.has_error(function() vehicle:request("GET", "/odometer", {}) end,
      "bad argument #3 to 'request' (a GET request takes no body)")
    assert.has_error(function() vehicle:request("head", "/odometer", { a = 1 }) end,
      "bad argument #3 to 'request' (a HEAD request takes no body)")
    assert.has_error(function() vehicle:request("OPTIONS", "/odometer") end,
      "bad argument #1 to 'request' (GET, HEAD, POST, PUT, PATCH or DELETE expected, got 'OPTIONS')")
    assert.are.equal(0, #H.requests())
  end)

  it("request() keeps a query in the path and adds the flags to it with &", function()
    local res = assert(vehicle:request("GET", "/permissions?limit=1&offset=1"))
    expect_request("GET", "/permissions", nil, "limit=1&offset=1")
    assert.are.equal(1, #res.body.permissions)
    local v = smartcar.Vehicle.new(vehicle.id, token, { flags = { country = "DE" } })
    local page = assert(v:request("GET", "permissions?limit=2#fragment"))
    local r = H.last()
    assert.are.equal("/v2.0/vehicles/" .. vehicle.id .. "/permissions", r.path)
    assert.are.equal("limit=2&flags=country%3ADE", r.query)
    assert.are.equal(2, #page.body.permissions)
    assert(v:request("POST", "/security?x=1", { action = "LOCK" }))
    assert.are.equal("x=1&flags=country%3ADE", H.last().query)
    assert.are.equal('{"action":"LOCK"}', H.last().body)
    assert(v:request("GET", "/odometer?"))
    assert.are.equal("flags=country%3ADE", H.last().query)
    assert(vehicle:request("GET", "/odometer?"))
    assert.are.equal("", H.last().query)
  end)

  it("setUnitSystem() changes the sc-unit-system of every later request", function()
    local metric = assert(vehicle:odometer()) -- the headers of body-less requests are cached by now
    assert.are.equal("metric", H.last().headers["sc-unit-system"])
    assert.are.equal(0, select("#", vehicle:setUnitSystem("imperial")))
    assert.are.equal("imperial", vehicle.unitSystem)
    local res = assert(vehicle:odometer())
    assert.are.equal("imperial", H.last().headers["sc-unit-system"])
    assert.are.equal("/v2.0/vehicles/" .. vehicle.id .. "/odometer", H.last().path)
    assert.are.equal("imperial", res.meta.unitSystem)
    assert.is_true(math.abs(res.distance - metric.distance / 1.609344) < 0.01)
    assert(vehicle:lock())
    assert.are.equal("imperial", H.last().headers["sc-unit-system"])
    assert(vehicle:batch { "/odometer" })
    assert.are.equal("imperial", H.last().headers["sc-unit-system"])
    assert(vehicle:request("GET", "/odometer"))
    assert.are.equal("imperial", H.last().headers["sc-unit-system"])
    assert(vehicle:getSignals())
    assert.are.equal("imperial", H.last().headers["sc-unit-system"])
    -- only this vehicle changed
    assert(smartcar.Vehicle.new(vehicle.id, token):odometer())
    assert.are.equal("metric", H.last().headers["sc-unit-system"])
    vehicle:setUnitSystem("metric")
    assert.are.equal("metric", vehicle.unitSystem)
    assert.are.equal(metric.distance, assert(vehicle:odometer()).distance)
    assert.are.equal("metric", H.last().headers["sc-unit-system"])
  end)

  it("setUnitSystem() raises on anything but 'metric' or 'imperial', changing nothing", function()
    H.clear()
    assert.has_error(function() vehicle:setUnitSystem("Imperial") end,
      "bad argument #1 to 'setUnitSystem' (expected 'metric' or 'imperial', got 'Imperial')")
    assert.has_error(function() vehicle:setUnitSystem(nil) end,
      "bad argument #1 to 'setUnitSystem' (string expected, got nil)")
    assert.has_error(function() vehicle:setUnitSystem({}) end,
      "bad argument #1 to 'setUnitSystem' (string expected, got table)")
    local ok, err = pcall(function() vehicle:setUnitSystem("si") end)
    assert.is_false(ok)
    assert.matches("^[^:]*vehicle_spec%.lua:%d+: bad argument #1 to 'setUnitSystem'", err)
    assert.are.equal(0, #H.requests())
    assert.are.equal("metric", vehicle.unitSystem)
    assert(vehicle:odometer())
    assert.are.equal("metric", H.last().headers["sc-unit-system"])
  end)

  it("vehicle.flags is a copy of the flags: changing it changes nothing", function()
    local given = { country = "DE", beta = true, level = 2 }
    local v = smartcar.Vehicle.new(vehicle.id, token, { flags = given })
    given.country = "FR"
    local flags = v.flags
    assert.are.same({ country = "DE", beta = true, level = 2 }, flags)
    flags.country, flags.extra = "US", "x"
    assert.are.same({ country = "DE", beta = true, level = 2 }, v.flags)
    assert.are_not.equal(v.flags, v.flags)
    assert(v:odometer())
    assert.are.equal("flags=beta%3Atrue%20country%3ADE%20level%3A2", H.last().query)
    assert.are.same({}, vehicle.flags)
    assert.are.same({}, smartcar.Vehicle.new(vehicle.id, token, { flags = {} }).flags)
  end)

  it("getSignals() and getSignal() read v3 from the vehicle origin", function()
    local all = assert(vehicle:getSignals())
    local r = H.last()
    assert.are.equal("/v3/vehicles/" .. vehicle.id .. "/signals", r.path)
    assert.are.equal("Bearer " .. token, r.headers.authorization)
    assert.is_table(all.body.data)
    assert.is_string(all.headers["sc-request-id"])
    local code = all.body.data[1].attributes.code
    local one = assert(vehicle:getSignal(code))
    assert.are.equal("/v3/vehicles/" .. vehicle.id .. "/signals/" .. code, H.last().path)
    assert.are.equal(code, one.body.attributes.code)
    local res, err = vehicle:getSignal("no-such-signal")
    assert.is_nil(res)
    assert.are.equal(404, err.statusCode)
  end)

  it("reports a missing permission as 403 PERMISSION", function()
    local limited = H.vehicle(PHEV, nil, { "read_vehicle_info" })
    assert(limited:attributes())
    local res, err = limited:odometer()
    assert.is_nil(res)
    assert.are.equal(403, err.statusCode)
    assert.are.equal("PERMISSION", err.type)
    assert.is_nil(err.code)
    assert.are.equal("REAUTHENTICATE", err.resolution.type)
  end)
end)

describe("Vehicle results", function()
  -- The emulator's data is deterministic for a given seed: after a reset, the first
  -- vehicle of demo@example.com is this Tesla (see emulator/README.md).
  local vehicle, token
  before_each(function()
    H.reset()
    H.configure()
    local t
    vehicle, t = H.vehicle("demo@example.com")
    token = t.access_token
  end)

  it("are exactly the emulator's data, with meta", function()
    local attrs = assert(vehicle:attributes())
    local meta = attrs.meta
    attrs.meta = nil
    assert.are.same({ id = vehicle.id, make = "TESLA", model = "Model 3", year = 2021 }, attrs)
    assert.are.equal("ace18d50-5d23-4440-9e34-5fb0ab0fcdf2", vehicle.id)
    assert.is_string(meta.requestId)
    assert.are.equal("5YJT0XNCXBPK30P38", assert(vehicle:vin()).vin)
    local odo = assert(vehicle:odometer())
    assert.are.equal(111188.26, odo.distance)
    assert.are.equal("metric", odo.meta.unitSystem)
    local imperial = smartcar.Vehicle.new(vehicle.id, token, { unitSystem = "imperial" })
    assert.are.equal(69089.18, assert(imperial:odometer()).distance)
    local loc = assert(vehicle:location())
    assert.are.same({ 38.4748, -106.0769 }, { loc.latitude, loc.longitude })
    local tires = assert(vehicle:tirePressure())
    assert.are.same({ 235.6, 218.3, 221.8, 225 }, { tires.frontLeft, tires.frontRight, tires.backLeft, tires.backRight })
    if math.type then assert.are.equal("integer", math.type(tires.backRight)) end
    local charge = assert(vehicle:charge())
    assert.are.same({ true, "NOT_CHARGING" }, { charge.isPluggedIn, charge.state })
    assert.are.equal(0.8, assert(vehicle:getChargeLimit()).limit)
    local _, err = vehicle:fuel()
    assert.are.same({ 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE" }, { err.statusCode, err.type, err.code })
  end)
end)
