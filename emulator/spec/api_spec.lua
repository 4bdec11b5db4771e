local S = require "spec.support"

local function client_get(path, user, pass)
  return assert(S.request("GET", path, { headers = {
    authorization = S.basic(user or S.CLIENT_ID, pass or S.CLIENT_SECRET) } }))
end

local function mgmt(method, path, amt)
  return assert(S.request(method, path, { headers = { authorization = S.basic("default", amt or S.AMT) } }))
end

describe("compatibility", function()
  setup(function() S.reset() end)

  it("answers by VIN with capabilities for the requested scope", function()
    local res = client_get("/v2.0/compatibility?vin=5YJ3E1EA7KF317000&scope=read_battery%20read_fuel%20read_vin" ..
      "&country=US")
    assert.are.equal(200, res.status)
    local b = res.json
    assert.is_true(b.compatible)
    assert.are.equal(S.null, b.reason)
    local by = {}
    for _, c in ipairs(b.capabilities) do by[c.endpoint] = c end
    assert.are.same({ capable = true, endpoint = "/battery", permission = "read_battery", reason = S.null },
      by["/battery"])
    assert.are.same({ capable = false, endpoint = "/fuel", permission = "read_fuel", reason = "VEHICLE_NOT_CAPABLE" },
      by["/fuel"])
    assert.is_true(by["/vin"].capable)
  end)

  it("defaults the country to US and gives no capabilities elsewhere", function()
    local res = client_get("/v2.0/compatibility?vin=5YJ3E1EA7KF317000&scope=read_battery&country=DE")
    assert.is_true(res.json.compatible)
    assert.are.equal("[]", res.body:match('"capabilities":(%[%])'))
    res = client_get("/v2.0/compatibility?vin=5YJ3E1EA7KF317000&scope=read_battery&country=BR")
    assert.is_false(res.json.compatible)
    assert.are.equal("MAKE_NOT_COMPATIBLE", res.json.reason)
  end)

  it("supports test mode levels and validates them", function()
    local base = "/v2.0/compatibility?vin=fake_vin&scope=read_location%20read_battery&country=US&flags=test%3Atest"
    local res = client_get(base .. "&test_mode_compatibility_level=bev&mode=test")
    assert.is_true(res.json.compatible)
    res = client_get(base .. "&test_mode_compatibility_level=fuel&mode=test")
    for _, c in ipairs(res.json.capabilities) do
      if c.endpoint == "/battery" then assert.is_false(c.capable) end
    end
    res = client_get(base .. "&test_mode_compatibility_level=incompatible&mode=test")
    assert.is_false(res.json.compatible)
    assert.are.equal("VEHICLE_NOT_COMPATIBLE", res.json.reason)
    res = client_get(base .. "&test_mode_compatibility_level=pizza&mode=test")
    local b = S.assert_v2_error(res, 400, "VALIDATION", nil)
    assert.are.same({ { field = { "test_mode_compatibility_level" },
      message = "Field must be one of: [compatible,phev,incompatible,fuel,dinosaur,bev]" } }, b.detail)
  end)

  it("requires client authentication, vin and scope", function()
    S.assert_v2_error(client_get("/v2.0/compatibility?vin=5YJ3E1EA7KF317000&scope=read_vin", S.CLIENT_ID, "x"), 401,
      "AUTHENTICATION", nil)
    S.assert_v2_error(client_get("/v2.0/compatibility?scope=read_vin"), 400, "VALIDATION", nil)
    S.assert_v2_error(client_get("/v2.0/compatibility?vin=5YJ3E1EA7KF317000"), 400, "VALIDATION", nil)
  end)

  it("answers v1.0 with compatible only", function()
    local res = client_get("/v1.0/compatibility?vin=5YJ3E1EA7KF317000&scope=read_vin")
    assert.are.same({ compatible = true }, res.json)
    res = client_get("/v1.0/compatibility?vin=ZZZ3E1EA7KF317000&scope=read_vin")
    assert.are.same({ compatible = false }, res.json)
  end)

  it("serves the compatibility matrix with filters", function()
    local res = client_get("/v2.0/compatibility/matrix?region=US")
    assert.are.equal(200, res.status)
    assert.is_table(res.json.TESLA)
    local m = res.json.TESLA[1]
    assert.are.equal("Model 3", m.model)
    assert.are.equal("BEV", m.type)
    assert.is_number(m.startYear)
    assert.is_number(m.endYear)
    assert.is_table(m.endpoints)
    assert.is_table(m.permissions)
    res = client_get("/v2.0/compatibility/matrix?region=US&type=ICE")
    for make, models in pairs(res.json) do
      for _, mm in ipairs(models) do assert.are.equal("ICE", mm.type, make) end
    end
    res = client_get("/v2.0/compatibility/matrix?region=EUROPE&make=TESLA%20NISSAN&scope=read_battery")
    local makes = {}
    for k in pairs(res.json) do makes[#makes + 1] = k end
    table.sort(makes)
    assert.are.same({ "NISSAN", "TESLA" }, makes)
    S.assert_v2_error(client_get("/v2.0/compatibility/matrix?region=MARS"), 400, "VALIDATION", nil)
  end)
end)

describe("management connections", function()
  local a, b
  setup(function()
    S.reset()
    a = S.token("alice@example.com")
    b = S.token("12-vehicles@smartcar.com", nil, { mode = "live" })
  end)

  it("lists connections newest first with cursor paging", function()
    local res = mgmt("GET", "/v2.0/management/connections")
    assert.are.equal(200, res.status)
    assert.are.equal(10, #res.json.connections)
    local c = res.json.connections[1]
    assert.are.equal(b.user_id, c.userId)
    assert.matches(S.UUID, c.vehicleId)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT.*Z$", c.connectedAt)
    assert.are.equal("live", c.mode)
    assert.is_string(res.json.paging.cursor)
    local seen = {}
    for _, x in ipairs(res.json.connections) do seen[x.vehicleId] = true end
    local page2 = mgmt("GET", "/v2.0/management/connections/?cursor=" .. S.escape(res.json.paging.cursor))
    assert.are.equal(5, #page2.json.connections)
    for _, x in ipairs(page2.json.connections) do
      assert.is_nil(seen[x.vehicleId])
      seen[x.vehicleId] = true
    end
    assert.are.equal(S.null, page2.json.paging.cursor)
    -- alice's connections are the oldest
    assert.are.equal(a.user_id, page2.json.connections[5].userId)
  end)

  it("filters by user_id, vehicle_id and mode, and honours limit", function()
    local res = mgmt("GET", "/v2.0/management/connections?user_id=" .. a.user_id)
    assert.are.equal(3, #res.json.connections)
    assert.are.equal(S.null, res.json.paging.cursor)
    res = mgmt("GET", "/v2.0/management/connections?vehicle_id=" .. a.vehicles[2])
    assert.are.equal(1, #res.json.connections)
    assert.are.equal(a.vehicles[2], res.json.connections[1].vehicleId)
    res = mgmt("GET", "/v2.0/management/connections?mode=test")
    assert.are.equal(3, #res.json.connections)
    res = mgmt("GET", "/v2.0/management/connections?limit=100")
    assert.are.equal(15, #res.json.connections)
    S.assert_v2_error(mgmt("GET", "/v2.0/management/connections?limit=101"), 400, "VALIDATION", "PARAMETER")
  end)

  it("requires the AMT", function()
    S.assert_v2_error(mgmt("GET", "/v2.0/management/connections", "wrong"), 401, "AUTHENTICATION", nil)
  end)

  it("deletes by vehicle_id or user_id and revokes the tokens' access", function()
    local v = a.vehicles[1]
    assert.are.equal(200, S.get("/v2.0/vehicles/" .. v .. "/odometer", a.access_token).status)
    local res = mgmt("DELETE", "/v2.0/management/connections?vehicle_id=" .. v)
    assert.are.equal(200, res.status)
    assert.are.same({ connections = { { userId = a.user_id, vehicleId = v } } }, res.json)
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. v .. "/odometer", a.access_token), 401, "AUTHENTICATION", nil)
    assert.are.equal(200, S.get("/v2.0/vehicles/" .. a.vehicles[2] .. "/odometer", a.access_token).status)
    res = mgmt("DELETE", "/v2.0/management/connections?user_id=" .. a.user_id)
    assert.are.equal(2, #res.json.connections)
    assert.are.equal(0, #S.get("/v2.0/vehicles", a.access_token).json.vehicles)
    res = mgmt("DELETE", "/v2.0/management/connections?user_id=" .. b.user_id .. "&vehicle_id=" .. b.vehicles[1])
    assert.are.equal(1, #res.json.connections)
    S.assert_v2_error(mgmt("DELETE", "/v2.0/management/connections"), 400, "VALIDATION", nil)
  end)
end)

describe("API v3", function()
  local t
  setup(function()
    S.reset()
    t = S.token("v3@example.com")
  end)

  it("serves the unwrapped vehicle resource", function()
    local res = S.get("/v3/vehicles/" .. t.vehicles[1], t.access_token)
    assert.are.equal(200, res.status)
    assert.matches(S.UUID, res.headers["sc-request-id"])
    assert.are.same({ id = t.vehicles[1], type = "vehicle",
      attributes = { make = "TESLA", model = "Model 3", year = 2021 },
      links = { self = "/vehicles/" .. t.vehicles[1] } }, res.json)
  end)

  it("lists signals suited to the powertrain", function()
    local res = S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals", t.access_token)
    assert.are.equal(200, res.status)
    local b = res.json
    local codes = {}
    for _, s in ipairs(b.data) do
      codes[s.id] = s
      assert.are.equal("signal", s.type)
      assert.are.equal(s.id, s.attributes.code)
      assert.are.equal("SUCCESS", s.attributes.status.value)
      assert.is_true(s.meta.retrievedAt > 1e12)
      assert.is_true(s.meta.oemUpdatedAt <= s.meta.retrievedAt)
    end
    for _, c in ipairs({ "odometer-traveleddistance", "location-preciselocation", "tractionbattery-stateofcharge",
      "charge-voltage", "charge-activelimit" }) do
      assert.is_table(codes[c], c)
    end
    assert.is_nil(codes["internalcombustionengine-fuellevel"])
    assert.are.same({ unit = "percentage", value = 80 }, codes["charge-activelimit"].attributes.body)
    assert.are.equal(#b.data, b.meta.totalCount)
    assert.are.equal(1, b.meta.page)
    assert.is_string(b.links.self)
    assert.are.equal("TESLA", b.included.vehicle.attributes.make)
    -- the ICE car has fuel signals but no battery ones
    local ice = S.get("/v3/vehicles/" .. t.vehicles[3] .. "/signals", t.access_token).json
    local ice_codes = {}
    for _, s in ipairs(ice.data) do ice_codes[s.id] = true end
    assert.is_true(ice_codes["internalcombustionengine-fuellevel"])
    assert.is_nil(ice_codes["tractionbattery-stateofcharge"])
  end)

  it("pages signals", function()
    local res = S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals?page=2&pageSize=3", t.access_token).json
    assert.are.equal(3, #res.data)
    assert.are.equal(2, res.meta.page)
    assert.are.equal(3, res.meta.pageSize)
    assert.is_string(res.links.previous)
  end)

  it("serves one signal and 404s an unknown code in the v3 error shape", function()
    local res = S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals/odometer-traveleddistance", t.access_token)
    assert.are.equal(200, res.status)
    assert.are.equal("odometer-traveleddistance", res.json.id)
    assert.are.equal("kilometers", res.json.attributes.body.unit)
    local odo = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token).json.distance
    assert.are.equal(odo, res.json.attributes.body.value)
    -- one V3 error shape for every token (reference §3.7, §6.1)
    res = S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals/warp-drive", t.access_token)
    assert.are.same({ errors = { { status = "404", type = "RESOURCE_NOT_FOUND", code = "SIGNAL_NOT_FOUND",
      title = "Not Found", detail = "Signal with code warp-drive not found for vehicle with ID " .. t.vehicles[1],
      resolution = { type = S.null },
      links = { about = "https://smartcar.com/docs/errors/api-errors/v3/resource-not-found-errors" },
      meta = { debug = { requestId = res.headers["sc-request-id"] } } } } }, res.json)
  end)

  it("answers auth errors in the v3 shape (AUTHENTICATION/UNAUTHORIZED)", function()
    local res = S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals", "bad-token")
    assert.are.equal(401, res.status)
    assert.are.same({ errors = { { status = "401", type = "AUTHENTICATION", code = "UNAUTHORIZED",
      title = "Unauthorized", detail = "The Authorization token is missing or invalid.", resolution = { type = S.null },
      links = { about = "https://smartcar.com/docs/errors/api-errors/v3/authentication-errors" },
      meta = { debug = { requestId = res.headers["sc-request-id"] } } } } }, res.json)
  end)

  it("answers typed v3 errors for error vehicles", function()
    local e = S.token("UPSTREAM.INVALID_DATA@smartcar.com")
    local res = S.get("/v3/vehicles/" .. e.vehicles[1] .. "/signals", e.access_token)
    assert.are.equal(502, res.status)
    local err = res.json.errors[1]
    assert.are.equal("502", err.status)
    assert.are.equal("UPSTREAM", err.type)
    assert.are.equal("INVALID_DATA", err.code)
    assert.are.equal("Bad Gateway", err.title)
    assert.are.equal("RETRY_LATER", err.resolution.type)
    assert.is_string(err.links.about)
  end)
end)
