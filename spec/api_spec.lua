-- The module functions: user, vehicles, v3 vehicle, compatibility, management, webhooks.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local H = require "helper"

local BASIC_CLIENT = "Basic " .. core.base64(H.CLIENT_ID .. ":" .. H.CLIENT_SECRET)
local CREDS = { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET }

describe("module functions", function()
  local t
  before_each(function()
    H.reset()
    H.configure()
    t = H.token("5-vehicles@smartcar.com")
    H.clear()
  end)

  it("getUser() reads /v2.0/user with the bearer token", function()
    local res = assert(smartcar.getUser(t.access_token))
    local r = H.last()
    assert.are.equal("GET", r.method)
    assert.are.equal("/v2.0/user", r.path)
    assert.are.equal("Bearer " .. t.access_token, r.headers.authorization)
    assert.are.equal(t.user_id, res.id)
    assert.is_string(res.meta.requestId)
    local _, err = smartcar.getUser("not-a-token")
    assert.are.equal(401, err.statusCode)
    assert.are.equal("AUTHENTICATION", err.type)
    assert.has_error(function() smartcar.getUser(nil) end, "bad argument #1 to 'getUser' (string expected, got nil)")
  end)

  it("getVehicles() pages through the vehicles", function()
    local all = assert(smartcar.getVehicles(t.access_token))
    assert.are.equal("/v2.0/vehicles", H.last().path)
    assert.are.equal(5, #all.vehicles)
    assert.are.equal(5, all.paging.count)
    local page = assert(smartcar.getVehicles(t.access_token, { limit = 2, offset = 3 }))
    assert.are.equal("limit=2&offset=3", H.last().query)
    assert.are.same({ all.vehicles[4], all.vehicles[5] }, page.vehicles)
    assert.are.equal(3, page.paging.offset)
    assert.has_error(function() smartcar.getVehicles(t.access_token, { size = 1 }) end,
      "unknown option 'size' to 'getVehicles'")
  end)

  it("getVehicle() reads the v3 resource and returns every header", function()
    local id = t.vehicles[1]
    local res = assert(smartcar.getVehicle(t.access_token, id))
    assert.are.equal("/v3/vehicles/" .. id, H.last().path)
    assert.are.equal(id, res.body.id)
    assert.is_string(res.body.attributes.make)
    assert.is_string(res.headers["sc-request-id"])
    assert.is_string(res.headers["content-type"])
  end)

  it("getCompatibility() sends the query and Basic client credentials", function()
    local res = assert(smartcar.getCompatibility("0SCAUDI037A5ADB1C", { "read_odometer", "read_location" }, CREDS))
    local r = H.last()
    assert.are.equal("/v2.0/compatibility", r.path)
    assert.are.equal("scope=read_odometer%20read_location&country=US&vin=0SCAUDI037A5ADB1C", r.query)
    assert.are.equal(BASIC_CLIENT, r.headers.authorization)
    assert.is_boolean(res.compatible)
    assert.is_table(res.capabilities)
    assert(smartcar.getCompatibility("0SCAUDI037A5ADB1C", { "read_odometer" }, "CA",
      { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET, testModeCompatibilityLevel = "phev",
        flags = { x = "y" } }))
    assert.are.equal("flags=x%3Ay&test_mode_compatibility_level=phev&mode=test&scope=read_odometer" ..
      "&country=CA&vin=0SCAUDI037A5ADB1C", H.last().query)
    local _, err = smartcar.getCompatibility("0SCAUDI037A5ADB1C", { "read_odometer" },
      { clientId = H.CLIENT_ID, clientSecret = "wrong" })
    assert.are.equal(401, err.statusCode)
    assert.has_error(function() smartcar.getCompatibility("VIN", { "read_odometer" }, { mode = "prod" }) end)
  end)

  it("getCompatibilityMatrix() sends region, scope and make", function()
    local res = assert(smartcar.getCompatibilityMatrix("US",
      { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET, make = { "TESLA", "NISSAN" },
        scope = { "read_battery" }, type = "BEV" }))
    local r = H.last()
    assert.are.equal("/v2.0/compatibility/matrix", r.path)
    assert.are.equal("region=US&scope=read_battery&make=TESLA%20NISSAN&type=BEV", r.query)
    assert.are.equal(BASIC_CLIENT, r.headers.authorization)
    assert.is_table(res.TESLA or res.NISSAN)
    assert.is_string(res.meta.requestId)
  end)

  -- credentials plus the given options
  local function creds(options)
    options.clientId, options.clientSecret = H.CLIENT_ID, H.CLIENT_SECRET
    return options
  end

  it("getCompatibility() maps the deprecated testMode to mode", function()
    local vin, tail = "0SCAUDI037A5ADB1C", "scope=read_odometer&country=US&vin=0SCAUDI037A5ADB1C"
    local _, err = smartcar.getCompatibility(vin, { "read_odometer" }, creds { testMode = true })
    assert.are.equal("mode=test&" .. tail, H.last().query)
    assert.are.equal(400, err.statusCode) -- test mode without a test level
    assert(smartcar.getCompatibility(vin, { "read_odometer" }, creds { testMode = false }))
    assert.are.equal("mode=live&" .. tail, H.last().query)
    assert(smartcar.getCompatibility(vin, { "read_odometer" }, "US", creds { testMode = true,
      testModeCompatibilityLevel = "bev" }))
    assert.are.equal("mode=test&test_mode_compatibility_level=bev&" .. tail, H.last().query)
    H.clear()
    assert.has_error(function() smartcar.getCompatibility(vin, { "read_odometer" }, creds { testMode = "yes" }) end,
      "bad option 'testMode' to 'getCompatibility' (boolean expected, got string)")
    assert.are.equal(0, #H.requests())
  end)

  it("getCompatibilityMatrix() accepts testMode and testModeCompatibilityLevel as the Node SDK sends them", function()
    local cases = {
      { { testMode = true }, "mode=test&region=US" },
      { { testMode = false, make = "TESLA" }, "mode=live&region=US&make=TESLA" },
      { { testModeCompatibilityLevel = "phev" }, "test_mode_compatibility_level=phev&mode=test&region=US" },
      { { mode = "live", testModeCompatibilityLevel = "phev" },
        "mode=test&test_mode_compatibility_level=phev&region=US" },
      { { testModeCompatibilityLevel = "bev", flags = { x = "y" }, type = "BEV" },
        "flags=x%3Ay&test_mode_compatibility_level=bev&mode=test&region=US&type=BEV" },
    }
    for _, c in ipairs(cases) do
      local res = assert(smartcar.getCompatibilityMatrix("US", creds(c[1])))
      local r = H.last()
      assert.are.equal("/v2.0/compatibility/matrix", r.path)
      assert.are.equal(c[2], r.query)
      assert.are.equal(BASIC_CLIENT, r.headers.authorization)
      assert.is_string(res.meta.requestId)
    end
    H.clear()
    assert.has_error(function() smartcar.getCompatibilityMatrix("US", creds { testModeCompatibilityLevel = 1 }) end,
      "bad option 'testModeCompatibilityLevel' to 'getCompatibilityMatrix' (a string expected, got 1)")
    assert.has_error(function() smartcar.getCompatibilityMatrix("US", creds { testMode = 1 }) end,
      "bad option 'testMode' to 'getCompatibilityMatrix' (boolean expected, got number)")
    assert.are.equal(0, #H.requests())
  end)

  it("warns about testMode once per Lua state, whichever function it was given to", function()
    local lua = arg and arg[-1] or "lua"
    local function child(code)
      local p = assert(io.popen(("%s -e %q 2>&1"):format(lua, ("package.path = 'lua/?.lua;lua/?/init.lua;' .. " ..
        "package.path; package.cpath = %q .. ';' .. package.cpath; local smartcar = require 'smartcar'; " ..
        "smartcar.configure { transport = function() return 200, {}, '{}' end }; %s")
        :format(package.cpath:match("^[^;]+"), code))))
      local out = p:read("*a")
      p:close()
      local _, n = out:gsub('the "testMode" option is deprecated, use mode = "test" instead', "")
      return n, out
    end
    local options = "{ clientId = 'a', clientSecret = 'b', testMode = true }"
    assert.are.equal(1, (child(("for _ = 1, 3 do smartcar.getCompatibility('VIN', { 'read_vin' }, %s) end")
      :format(options))))
    assert.are.equal(1, (child(("smartcar.getCompatibilityMatrix('US', %s); smartcar.getCompatibility('VIN', " ..
      "{ 'read_vin' }, %s); smartcar.AuthClient.new(%s)"):format(options, options, options))))
    assert.are.equal(0, (child("smartcar.getCompatibilityMatrix('US', { clientId = 'a', clientSecret = 'b', " ..
      "mode = 'test' })")))
  end)

  it("getConnections() and deleteConnections() use Basic default:<amt>", function()
    local amt = "Basic " .. core.base64("default:" .. H.AMT)
    local all = assert(smartcar.getConnections(H.AMT))
    assert.are.equal("/v2.0/management/connections", H.last().path)
    assert.are.equal(amt, H.last().headers.authorization)
    assert.is_true(#all.connections >= 5)
    local page = assert(smartcar.getConnections(H.AMT, { userId = t.user_id }, { limit = 2 }))
    assert.are.equal("user_id=" .. t.user_id .. "&limit=2", H.last().query)
    assert.are.equal(2, #page.connections)
    assert.is_string(page.paging.cursor)
    local rest = assert(smartcar.getConnections(H.AMT, { userId = t.user_id }, { cursor = page.paging.cursor }))
    assert.are.equal(3, #rest.connections)
    local deleted = assert(smartcar.deleteConnections(H.AMT, { vehicleId = t.vehicles[1] }))
    assert.are.equal("DELETE", H.last().method)
    assert.are.equal("vehicle_id=" .. t.vehicles[1], H.last().query)
    assert.are.equal(t.vehicles[1], deleted.connections[1].vehicleId)
    local _, err = smartcar.Vehicle.new(t.vehicles[1], t.access_token):odometer()
    assert.are.equal(401, err.statusCode)
    assert.has_error(function() smartcar.deleteConnections(H.AMT, { userId = "u", vehicleId = "v" }) end,
      "bad argument #2 to 'deleteConnections' (filter needs EITHER userId OR vehicleId, not both)")
    assert.has_error(function() smartcar.deleteConnections(H.AMT, {}) end,
      "bad argument #2 to 'deleteConnections' (filter needs userId or vehicleId)")
    local _, bad = smartcar.getConnections("wrong-amt")
    assert.are.equal(401, bad.statusCode)
  end)
end)
