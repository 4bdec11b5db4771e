local S = require "spec.support"

local function r2(x)
  return math.floor(x * 100 + 0.5) / 100
end

describe("v2.0 vehicle endpoints", function()
  local t, bev, phev, ice

  local function path(v, sub) return "/v2.0/vehicles/" .. v .. sub end
  local function get(v, sub, headers) return S.get(path(v, sub), t.access_token, headers) end
  local function post(v, sub, body) return S.post(path(v, sub), body, t.access_token) end

  before_each(function()
    S.reset()
    t = S.token("fleet@example.com", nil, { mode = "simulated" }) -- commands change state: the simulation
    bev, phev, ice = t.vehicles[1], t.vehicles[2], t.vehicles[3]
  end)

  it("gives a default email a BEV, a PHEV and an ICE car", function()
    assert.are.equal(3, #t.vehicles)
    for _, v in ipairs(t.vehicles) do assert.matches(S.UUID, v) end
    assert.are.same({ id = bev, make = "TESLA", model = "Model 3", year = 2021 }, get(bev, "").json)
    assert.are.same({ id = phev, make = "TOYOTA", model = "RAV4 Prime", year = 2022 }, get(phev, "").json)
    assert.are.same({ id = ice, make = "FORD", model = "F-150", year = 2020 }, get(ice, "").json)
  end)

  it("serves every read endpoint with the documented shape and data headers", function()
    local checks = {
      ["/vin"] = function(b) assert.are.equal(17, #b.vin) end,
      ["/odometer"] = function(b) assert.is_number(b.distance); assert.is_true(b.distance >= 10000) end,
      ["/location"] = function(b)
        assert.is_true(b.latitude > 36 and b.latitude < 42)
        assert.is_true(b.longitude > -110 and b.longitude < -102)
      end,
      ["/battery"] = function(b)
        assert.is_true(b.percentRemaining > 0 and b.percentRemaining <= 1); assert.is_number(b.range)
      end,
      ["/battery/capacity"] = function(b) assert.are.equal(75, b.capacity) end,
      ["/battery/nominal_capacity"] = function(b)
        assert.are.equal(3, #b.availableCapacities)
        assert.are.same({ nominal = 75, source = "SMARTCAR" }, b.capacity)
        assert.are.equal(S.null, b.url)
      end,
      ["/charge"] = function(b) assert.are.same({ isPluggedIn = true, state = "NOT_CHARGING" }, b) end,
      ["/charge/limit"] = function(b) assert.are.same({ limit = 0.8 }, b) end,
      ["/tires/pressure"] = function(b)
        for _, k in ipairs({ "frontLeft", "frontRight", "backLeft", "backRight" }) do
          assert.is_true(b[k] >= 175 and b[k] <= 250)
        end
      end,
      ["/security"] = function(b)
        assert.is_true(b.isLocked)
        assert.are.equal(4, #b.doors)
        assert.are.equal(4, #b.windows)
        for _, k in ipairs({ "doors", "windows", "sunroof", "storage", "chargingPort" }) do
          for _, item in ipairs(b[k]) do
            assert.is_string(item.type)
            assert.truthy(({ OPEN = 1, CLOSED = 1, UNKNOWN = 1 })[item.status])
          end
        end
      end,
      ["/service/history"] = function(b)
        assert.are.equal(3, #b)
        assert.are.same({ "serviceId", "odometerDistance", "serviceDate", "serviceTasks", "serviceDetails",
          "serviceCost" }, (function()
          local keys = {}
          for _, k in ipairs({ "serviceId", "odometerDistance", "serviceDate", "serviceTasks", "serviceDetails",
            "serviceCost" }) do if b[1][k] ~= nil then keys[#keys + 1] = k end end
          return keys
        end)())
      end,
      ["/diagnostics/system_status"] = function(b)
        assert.is_true(#b.systems >= 3)
        for _, s in ipairs(b.systems) do
          assert.matches("^SYSTEM_", s.systemId)
          assert.truthy(s.status == "OK" or s.status == "ALERT")
        end
      end,
      ["/diagnostics/dtcs"] = function(b) assert.is_table(b.activeCodes) end,
    }
    for sub, check in pairs(checks) do
      local res = get(bev, sub)
      assert.are.equal(200, res.status, sub .. ": " .. res.body)
      check(res.json)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", res.headers["sc-data-age"])
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", res.headers["sc-fetched-at"])
      assert.are.equal("metric", res.headers["sc-unit-system"])
    end
    local fuel = get(ice, "/fuel")
    assert.are.equal(200, fuel.status)
    for _, k in ipairs({ "amountRemaining", "percentRemaining", "range" }) do assert.is_number(fuel.json[k]) end
    local oil = get(phev, "/engine/oil").json
    assert.is_true(oil.lifeRemaining > 0 and oil.lifeRemaining <= 1)
    -- static endpoints carry no data-age
    assert.is_nil(get(bev, "").headers["sc-data-age"])
  end)

  it("is deterministic per vehicle", function()
    local a = get(bev, "/odometer").json.distance
    S.reset()
    local t2 = S.token("fleet@example.com")
    assert.are.equal(bev, t2.vehicles[1])
    assert.are.equal(a, S.get(path(bev, "/odometer"), t2.access_token).json.distance)
  end)

  it("converts units with sc-unit-system: imperial and echoes the header", function()
    local imp = { ["sc-unit-system"] = "imperial" }
    local m, i = get(bev, "/odometer"), get(bev, "/odometer", imp)
    assert.are.equal("imperial", i.headers["sc-unit-system"])
    assert.are.equal(r2(m.json.distance / 1.609344), i.json.distance)
    m, i = get(bev, "/battery").json, get(bev, "/battery", imp).json
    assert.are.equal(r2(m.range / 1.609344), i.range)
    assert.are.equal(m.percentRemaining, i.percentRemaining)
    m, i = get(ice, "/fuel").json, get(ice, "/fuel", imp).json
    assert.are.equal(r2(m.range / 1.609344), i.range)
    assert.are.equal(r2(m.amountRemaining / 3.785411784), i.amountRemaining)
    assert.are.equal(m.percentRemaining, i.percentRemaining)
    m, i = get(bev, "/tires/pressure").json, get(bev, "/tires/pressure", imp).json
    for _, k in ipairs({ "frontLeft", "frontRight", "backLeft", "backRight" }) do
      assert.are.equal(r2(m[k] / 6.894757), i[k])
    end
    m, i = get(bev, "/location").json, get(bev, "/location", imp).json
    assert.are.same(m, i)
  end)

  it("answers 501 VEHICLE_NOT_CAPABLE for powertrain-specific endpoints", function()
    for _, sub in ipairs({ "/battery", "/battery/capacity", "/charge", "/charge/limit" }) do
      S.assert_v2_error(get(ice, sub), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    end
    S.assert_v2_error(post(ice, "/charge", { action = "START" }), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    for _, sub in ipairs({ "/fuel", "/engine/oil" }) do
      S.assert_v2_error(get(bev, sub), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    end
    assert.are.equal(200, get(phev, "/fuel").status)
    assert.are.equal(200, get(phev, "/battery").status)
  end)

  it("locks and unlocks", function()
    local ok = post(bev, "/security", { action = "UNLOCK" })
    assert.are.equal(200, ok.status)
    assert.are.same({ status = "success", message = "Successfully sent request to vehicle" }, ok.json)
    assert.is_false(get(bev, "/security").json.isLocked)
    post(bev, "/security", { action = "LOCK" })
    assert.is_true(get(bev, "/security").json.isLocked)
    S.assert_v2_error(post(bev, "/security", { action = "OPEN" }), 400, "VALIDATION", "PARAMETER")
    S.assert_v2_error(post(bev, "/security", {}), 400, "VALIDATION", nil)
  end)

  it("starts and stops charging with the command rules", function()
    assert.are.equal(200, post(bev, "/charge", { action = "START" }).status)
    assert.are.equal("CHARGING", get(bev, "/charge").json.state)
    S.assert_v2_error(post(bev, "/charge", { action = "START" }), 409, "VEHICLE_STATE", "CHARGING_IN_PROGRESS")
    assert.are.equal(200, post(bev, "/charge", { action = "STOP" }).status)
    assert.are.equal("NOT_CHARGING", get(bev, "/charge").json.state)
    S.assert_v2_error(post(bev, "/charge", { action = "STOP" }), 409, "VEHICLE_STATE", "NOT_CHARGING")
    -- the PHEV is unplugged
    assert.is_false(get(phev, "/charge").json.isPluggedIn)
    local b = S.assert_v2_error(post(phev, "/charge", { action = "START" }), 409, "VEHICLE_STATE",
      "CHARGING_PLUG_NOT_CONNECTED")
    assert.are.equal("Your vehicle is not plugged in.", b.suggestedUserMessage)
    S.assert_v2_error(post(phev, "/charge", { action = "STOP" }), 409, "VEHICLE_STATE", "CHARGING_PLUG_NOT_CONNECTED")
    -- admin can plug it in
    S.admin("POST", "/_emulator/vehicles/" .. phev, { isPluggedIn = true })
    assert.are.equal(200, post(phev, "/charge", { action = "START" }).status)
  end)

  it("sets the charge limit (numbers and numeric strings) and validates the range", function()
    assert.are.equal(200, post(bev, "/charge/limit", { limit = 0.9 }).status)
    assert.are.same({ limit = 0.9 }, get(bev, "/charge/limit").json)
    assert.are.equal(200, post(bev, "/charge/limit", { limit = "0.6" }).status)
    assert.are.same({ limit = 0.6 }, get(bev, "/charge/limit").json)
    for _, bad in ipairs({ 0.4, 1.5, "1.01" }) do
      local b = S.assert_v2_error(post(bev, "/charge/limit", { limit = bad }), 400, "VALIDATION", "PARAMETER")
      assert.are.same({ { field = { "limit" }, message = "\"limit\" must be between 0.5 and 1" } }, b.detail)
    end
    S.assert_v2_error(post(bev, "/charge/limit", { limit = "abc" }), 400, "VALIDATION", "PARAMETER")
  end)

  it("sends a destination and range-checks it", function()
    assert.are.equal(200, post(bev, "/navigation/destination", { latitude = 37.7749, longitude = -122.4194 }).status)
    local st = S.admin("GET", "/_emulator/vehicles/" .. bev)
    assert.are.same({ latitude = 37.7749, longitude = -122.4194 }, st.destination)
    local b = S.assert_v2_error(post(bev, "/navigation/destination", { latitude = 91, longitude = 0 }), 400,
      "VALIDATION", "PARAMETER")
    assert.are.equal("Invalid latitude value. It must be between -90 and 90.", b.detail[1].message)
    S.assert_v2_error(post(bev, "/navigation/destination", { latitude = 0, longitude = -181 }), 400,
      "VALIDATION", "PARAMETER")
  end)

  it("rejects a body that is not JSON with VALIDATION and a detail", function()
    S.assert_v2_error(S.post(path(bev, "/security"), nil, t.access_token), 400, "VALIDATION", nil)
    local res = assert(S.request("POST", path(bev, "/security"), { body = "{not json",
      headers = { authorization = "Bearer " .. t.access_token, ["content-type"] = "application/json" } }))
    local b = S.assert_v2_error(res, 400, "VALIDATION", nil)
    assert.is_table(b.detail)
    assert.is_string(b.detail[1].message)
  end)

  it("filters service history by date, with either parameter spelling", function()
    assert.are.equal(3, #get(bev, "/service/history").json)
    assert.are.equal(1, #get(bev, "/service/history?start_date=2024-01-01&end_date=2024-06-30").json)
    assert.are.equal(2, #get(bev, "/service/history?startDate=2024-01-01").json)
    assert.are.equal(1, #get(bev, "/service/history?endDate=2023-12-31").json)
    assert.are.equal(0, #get(bev, "/service/history?start_date=2025-01-01").json)
    assert.are.equal("[]", get(bev, "/service/history?start_date=2025-01-01").body)
  end)

  it("pages /vehicles and /permissions", function()
    local many = S.token("23-vehicles@smartcar.com")
    local p1 = S.get("/v2.0/vehicles", many.access_token).json
    assert.are.equal(10, #p1.vehicles)
    assert.are.same({ count = 23, offset = 0 }, p1.paging)
    local p3 = S.get("/v2.0/vehicles?limit=10&offset=20", many.access_token).json
    assert.are.equal(3, #p3.vehicles)
    assert.are.same({ count = 23, offset = 20 }, p3.paging)
    local past = S.get("/v2.0/vehicles?offset=50", many.access_token)
    assert.are.equal("[]", past.body:match('"vehicles":(%[%])'))
    assert.are.same({ count = 23, offset = 50 }, past.json.paging)
    assert.are.equal(50, #S.get("/v2.0/vehicles?limit=50", S.token("60-vehicles@smartcar.com").access_token)
      .json.vehicles)
    S.assert_v2_error(S.get("/v2.0/vehicles?limit=51", many.access_token), 400, "VALIDATION", "PARAMETER")
    local perms = get(bev, "/permissions").json
    assert.are.equal(25, #perms.permissions)
    assert.are.equal(25, perms.paging.count)
    local page = get(bev, "/permissions?limit=5&offset=22").json
    assert.are.equal(3, #page.permissions)
    assert.are.same({ count = 25, offset = 22 }, page.paging)
  end)

  it("enforces permissions from the granted scope", function()
    local narrow = S.token("fleet@example.com", "read_odometer required:read_vin")
    local v = narrow.vehicles[1]
    assert.are.equal(200, S.get(path(v, "/odometer"), narrow.access_token).status)
    assert.are.equal(200, S.get(path(v, "/vin"), narrow.access_token).status)
    local b = S.assert_v2_error(S.get(path(v, "/location"), narrow.access_token), 403, "PERMISSION", nil)
    assert.are.equal("REAUTHENTICATE", b.resolution.type)
    assert.are.equal("https://smartcar.com/docs/errors/api-errors/permission-errors#null", b.docURL)
    S.assert_v2_error(S.post(path(v, "/security"), { action = "LOCK" }, narrow.access_token), 403, "PERMISSION", nil)
    assert.are.same({ "read_odometer", "read_vin" }, S.get(path(v, "/permissions"), narrow.access_token).json.permissions)
  end)

  it("answers 401 for missing, unknown and expired tokens and uncovered vehicles", function()
    local b = S.assert_v2_error(S.get(path(bev, "/odometer")), 401, "AUTHENTICATION", nil)
    assert.are.equal("The authorization header is missing or malformed, or it contains invalid or expired " ..
      "authentication credentials. Please check for missing parameters, spelling and casing mistakes, and " ..
      "other syntax issues.", b.description)
    assert.are.equal(S.null, b.resolution.type)
    S.assert_v2_error(S.get(path(bev, "/odometer"), "not-a-token"), 401, "AUTHENTICATION", nil)
    S.assert_v2_error(get("0f8fad5b-d9cb-469f-a165-70867728950e", "/odometer"), 401, "AUTHENTICATION", nil)
    S.admin("POST", "/_emulator/clock", { advance = 7201 })
    S.assert_v2_error(get(bev, "/odometer"), 401, "AUTHENTICATION", nil)
  end)

  it("answers 400 VALIDATION for a malformed vehicle id", function()
    S.assert_v2_error(get("bad_id", "/odometer"), 400, "VALIDATION", nil)
  end)

  it("disconnects with DELETE /application", function()
    local res = assert(S.request("DELETE", path(bev, "/application"),
      { headers = { authorization = "Bearer " .. t.access_token } }))
    assert.are.equal(200, res.status)
    assert.are.same({ status = "success" }, res.json)
    S.assert_v2_error(get(bev, "/odometer"), 401, "AUTHENTICATION", nil)
    assert.are.equal(200, get(phev, "/odometer").status)
    assert.are.same({ phev, ice }, S.get("/v2.0/vehicles", t.access_token).json.vehicles)
  end)

  it("subscribes and unsubscribes webhooks", function()
    local res = post(bev, "/webhooks/" .. S.WEBHOOK_ID, nil)
    assert.are.equal(200, res.status)
    assert.are.same({ webhookId = S.WEBHOOK_ID, vehicleId = bev }, res.json)
    S.assert_v2_error(post(bev, "/webhooks/00000000-0000-4000-8000-000000000000", nil), 400, "VALIDATION", nil)
    local del = assert(S.request("DELETE", path(bev, "/webhooks/" .. S.WEBHOOK_ID),
      { headers = { authorization = "Bearer " .. S.AMT } }))
    assert.are.equal(200, del.status)
    assert.are.same({ status = "success" }, del.json)
    del = assert(S.request("DELETE", path(bev, "/webhooks/" .. S.WEBHOOK_ID),
      { headers = { authorization = "Bearer wrong-amt" } }))
    S.assert_v2_error(del, 401, "AUTHENTICATION", nil)
    -- a webhook registered through the admin API
    S.admin("POST", "/_emulator/webhooks", { webhookId = "9b6ae692-60cc-4b3e-89d8-71e7549cf805" })
    assert.are.equal(200, post(bev, "/webhooks/9b6ae692-60cc-4b3e-89d8-71e7549cf805", nil).status)
  end)

  describe("batch", function()
    it("runs each path through the same handlers, keeping order and adding the leading slash", function()
      local res = post(bev, "/batch", { requests = { { path = "/odometer" }, { path = "tires/pressure" },
        { path = "/fuel" }, { path = "/" } } })
      assert.are.equal(200, res.status)
      local r = res.json.responses
      assert.are.equal(4, #r)
      assert.are.equal("/odometer", r[1].path)
      assert.are.equal(200, r[1].code)
      assert.are.same(get(bev, "/odometer").json, r[1].body)
      assert.are.equal("metric", r[1].headers["sc-unit-system"])
      assert.is_string(r[1].headers["sc-data-age"])
      assert.are.equal("/tires/pressure", r[2].path)
      assert.are.equal(200, r[2].code)
      assert.are.equal("/fuel", r[3].path)
      assert.are.equal(501, r[3].code)
      assert.are.equal("COMPATIBILITY", r[3].body.type)
      assert.are.equal("/", r[4].path)
      assert.are.equal("TESLA", r[4].body.make)
    end)

    it("honours the unit system and permissions per item", function()
      local narrow = S.token("fleet@example.com", "read_odometer")
      local res = S.post(path(narrow.vehicles[1], "/batch"), { requests = { { path = "/odometer" },
        { path = "/location" } } }, narrow.access_token, { ["sc-unit-system"] = "imperial" })
      local r = res.json.responses
      assert.are.equal("imperial", r[1].headers["sc-unit-system"])
      assert.are.equal(403, r[2].code)
      assert.are.equal("PERMISSION", r[2].body.type)
    end)

    it("rejects a batch without requests or with an unknown path as a whole", function()
      local b = S.assert_v2_error(post(bev, "/batch", {}), 400, "VALIDATION", nil)
      assert.are.same({ { field = { "requests" }, message = "\"requests\" is required" } }, b.detail)
      S.assert_v2_error(post(bev, "/batch", { requests = { { path = "/LOCATIONNNNNNNN" } } }), 400, "VALIDATION", nil)
    end)
  end)

  describe("v1.0", function()
    it("serves the same data", function()
      local res = S.get("/v1.0/vehicles/" .. bev .. "/odometer", t.access_token)
      assert.are.equal(200, res.status)
      assert.are.same(get(bev, "/odometer").json, res.json)
    end)

    it("uses the legacy error shape", function()
      local narrow = S.token("fleet@example.com", "read_odometer")
      local res = S.get("/v1.0/vehicles/" .. narrow.vehicles[1] .. "/location", narrow.access_token)
      assert.are.equal(403, res.status)
      assert.are.same({ error = "permission_error", message = "Insufficient permissions to access requested resource.",
        statusCode = 403, requestId = res.headers["sc-request-id"] }, res.json)
      res = S.get("/v1.0/vehicles/bad_id/odometer", t.access_token)
      assert.are.equal(400, res.status)
      assert.are.equal("validation_error", res.json.error)
      res = S.get("/v1.0/vehicles/" .. ice .. "/battery", t.access_token)
      assert.are.equal(501, res.status)
      assert.are.same({ error = "vehicle_not_capable_error", message = "Vehicle is not capable of performing request.",
        statusCode = 501, requestId = res.headers["sc-request-id"] }, res.json)
      res = S.get("/v1.0/vehicles/" .. bev .. "/odometer", "nope")
      assert.are.equal(401, res.status)
      assert.are.equal("authentication_error", res.json.error)
    end)
  end)

  it("answers GET /user with the user id", function()
    local res = S.get("/v2.0/user", t.access_token)
    assert.are.same({ id = t.user_id }, res.json)
    assert.matches(S.UUID, t.user_id)
  end)
end)
