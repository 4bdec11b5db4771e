-- V3 vehicle routes with an application token: GET /v3/vehicles/{id}, signals with sc-user-id, every
-- command on the vehicle records v2 uses (v2/v3 agreement), permissions, long-running 202, rate limits.
local S = require "spec.support"
local V = require "spec.v3_support"

describe("V3 vehicle and commands", function()
  local token, t, vid, uid
  before_each(function()
    S.reset()
    token = V.app_token()
    t = S.token("cmd@example.com", nil, { mode = "simulated" })
    vid, uid = t.vehicles[1], t.user_id
  end)
  after_each(function() S.reset() end)

  local function cmd(path, body, user, vehicle)
    return V.call("POST", "/v3/vehicles/" .. (vehicle or vid) .. "/commands/" .. path, token, user or uid, body)
  end
  local function assert_execution(res, ctype, mode)
    assert.are.equal(200, res.status, res.body)
    local d = res.json.data
    assert.are.equal("command-execution", d.type)
    assert.matches("^exec_%x+$", d.id)
    assert.are.equal(ctype, d.attributes.commandType)
    assert.are.same({ value = "SUCCESS" }, d.attributes.status)
    assert.are.equal(mode or "sync", d.attributes.executionMode)
    assert.matches("Z$", d.meta.executedAt)
    assert.matches("Z$", d.meta.completedAt)
    assert.is_number(d.meta.durationInSeconds)
    return d
  end
  local function admin_vehicle(body) return S.admin_ok("POST", "/_emulator/v3/vehicles/" .. vid, body or {}) end

  it("gets the vehicle wrapped in data for app tokens, unwrapped for v2 tokens (no sc-user-id)", function()
    local res = V.call("GET", "/v3/vehicles/" .. vid, token)
    assert.are.equal(200, res.status)
    assert.are.same({ data = { id = vid, type = "vehicle", attributes = { make = "TESLA", model = "Model 3",
      year = 2021, mode = "simulated", powertrainType = "BEV" }, links = { self = "/vehicles/" .. vid } } }, res.json)
    local legacy = S.get("/v3/vehicles/" .. vid, t.access_token)
    assert.are.equal(200, legacy.status)
    assert.are.equal(vid, legacy.json.id)
    assert.is_nil(legacy.json.data)
    V.assert_error(V.call("GET", "/v3/vehicles/00000000-0000-4000-8000-000000000000", token), 404,
      "RESOURCE_NOT_FOUND", "VEHICLE_NOT_FOUND", "Vehicle with ID 00000000-0000-4000-8000-000000000000 not found")
  end)

  it("requires sc-user-id on signals and commands for app tokens (400 missing userId), not for v2 tokens", function()
    V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/signals", token), 400, "VALIDATION",
      "MISSING_PARAMETER", "missing userId")
    V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/signals/closure-islocked", token), 400, "VALIDATION",
      "MISSING_PARAMETER", "missing userId")
    V.assert_error(V.call("POST", "/v3/vehicles/" .. vid .. "/commands/security/lock", token), 400, "VALIDATION",
      "MISSING_PARAMETER", "missing userId")
    local res = V.call("GET", "/v3/vehicles/" .. vid .. "/signals", token, uid)
    assert.are.equal(200, res.status)
    assert.is_true(#res.json.data > 3)
    assert.are.equal(vid, res.json.included.vehicle.id)
    assert.are.equal(200, S.get("/v3/vehicles/" .. vid .. "/signals", t.access_token).status)
    -- a user without a connection to the vehicle: 403 ACCESS_DENIED
    local other = S.token("other@example.com")
    local e = V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/signals", token, other.user_id), 403,
      "AUTHENTICATION", "ACCESS_DENIED")
    assert.are.equal("Access Denied", e.title)
    V.assert_error(cmd("security/lock", nil, other.user_id), 403, "AUTHENTICATION", "ACCESS_DENIED")
  end)

  it("locks and unlocks; v2 /security and the v3 signal agree, and v2 commands show in v3", function()
    assert_execution(cmd("security/unlock"), "security-unlock")
    assert.is_false(S.get("/v2.0/vehicles/" .. vid .. "/security", t.access_token).json.isLocked)
    local sig = V.call("GET", "/v3/vehicles/" .. vid .. "/signals/closure-islocked", token, uid)
    assert.is_false(sig.json.attributes.body.value)
    assert_execution(cmd("security/lock"), "security-lock")
    assert.is_true(S.get("/v2.0/vehicles/" .. vid .. "/security", t.access_token).json.isLocked)
    assert.are.equal(200, S.post("/v2.0/vehicles/" .. vid .. "/security", { action = "UNLOCK" }, t.access_token).status)
    sig = V.call("GET", "/v3/vehicles/" .. vid .. "/signals/closure-islocked", token, uid)
    assert.is_false(sig.json.attributes.body.value)
  end)

  it("starts and stops charging with the plug rules of v2; 409 VEHICLE_STATE otherwise", function()
    assert_execution(cmd("charge/start"), "charge-start")
    assert.are.equal("CHARGING", S.get("/v2.0/vehicles/" .. vid .. "/charge", t.access_token).json.state)
    V.assert_error(cmd("charge/start"), 409, "VEHICLE_STATE", "CHARGING_IN_PROGRESS")
    assert_execution(cmd("charge/stop"), "charge-stop")
    V.assert_error(cmd("charge/stop"), 409, "VEHICLE_STATE", "NOT_CHARGING")
    assert.are.equal(200, S.post("/v2.0/vehicles/" .. vid .. "/charge", { action = "START" }, t.access_token).status)
    local sig = V.call("GET", "/v3/vehicles/" .. vid .. "/signals/charge-ischarging", token, uid)
    assert.is_true(sig.json.attributes.body.value)
    admin_vehicle({ isPluggedIn = false, chargeState = "NOT_CHARGING" })
    V.assert_error(cmd("charge/start"), 409, "VEHICLE_STATE", "CHARGING_PLUG_NOT_CONNECTED")
    -- an ICE vehicle cannot charge
    V.assert_error(cmd("charge/start", nil, nil, t.vehicles[3]), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
  end)

  it("sets the charge limit in percent (50..100), read back by v2 as a fraction", function()
    assert_execution(cmd("charge/set-limit", { data = { attributes = { percent = 65 } } }), "charge-set-limit")
    assert.are.equal(0.65, S.get("/v2.0/vehicles/" .. vid .. "/charge/limit", t.access_token).json.limit)
    for _, bad in ipairs({ 49, 101, 80.5, "80" }) do
      V.assert_error(cmd("charge/set-limit", { data = { attributes = { percent = bad } } }), 400, "VALIDATION",
        "INVALID_INPUT_FORMAT")
    end
    V.assert_error(cmd("charge/set-limit", { data = { attributes = {} } }), 400, "VALIDATION", "MISSING_PARAMETER")
    V.assert_error(cmd("charge/set-limit"), 400, "VALIDATION", "BAD_REQUEST")
    assert.are.equal(0.65, S.get("/v2.0/vehicles/" .. vid .. "/charge/limit", t.access_token).json.limit)
  end)

  it("opens and closes the charge port and sets a destination (one error per bad field)", function()
    assert_execution(cmd("charge-port/open"), "charge-port-open")
    assert.is_true(admin_vehicle().chargePortOpen)
    assert_execution(cmd("charge-port/close"), "charge-port-close")
    assert.is_false(admin_vehicle().chargePortOpen)
    local res = cmd("navigation/set-destination", { data = { attributes = { latitude = 91, longitude = -181 } } })
    assert.are.equal(400, res.status)
    assert.are.equal(2, #res.json.errors)
    assert.are.equal("Invalid latitude. Latitude must be a number between -90 and 90.", res.json.errors[1].detail)
    assert.are.equal("Invalid longitude. Longitude must be a number between -180 and 180.", res.json.errors[2].detail)
    assert.are.equal("INVALID_INPUT_FORMAT", res.json.errors[2].code)
    assert_execution(cmd("navigation/set-destination", { data = { attributes = { latitude = 37.4292,
      longitude = -122.1382 } } }), "navigation-set-destination")
    assert.are.same({ latitude = 37.4292, longitude = -122.1382 },
      S.admin_ok("GET", "/_emulator/vehicles/" .. vid).destination)
  end)

  it("checks the command's permission (403 PERMISSION) and answers unknown commands 404 INVALID_PATH", function()
    local limited = S.token("limited@example.com", "read_odometer", { mode = "simulated" })
    local res = V.call("POST", "/v3/vehicles/" .. limited.vehicles[1] .. "/commands/security/lock", token,
      limited.user_id)
    V.assert_error(res, 403, "PERMISSION", "INSUFFICIENT_PERMISSIONS")
    V.assert_error(cmd("climate/start"), 404, "RESOURCE_NOT_FOUND", "INVALID_PATH")
    V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/battery", token, uid), 404, "RESOURCE_NOT_FOUND",
      "INVALID_PATH")
  end)

  it("answers success and changes nothing for a test-mode connection, as v2 does", function()
    local tm = S.token("testmode@example.com")
    local res = V.call("POST", "/v3/vehicles/" .. tm.vehicles[1] .. "/commands/security/unlock", token, tm.user_id)
    assert_execution(res, "security-unlock")
    assert.is_true(S.get("/v2.0/vehicles/" .. tm.vehicles[1] .. "/security", tm.access_token).json.isLocked)
  end)

  it("waits a configured vehicle delay below the threshold and answers 200", function()
    admin_vehicle({ commandDelay = 0.3 })
    local socket = require "socket"
    local t0 = socket.gettime()
    assert_execution(cmd("security/unlock"), "security-unlock")
    assert.is_true(socket.gettime() - t0 >= 0.29)
  end)

  it("answers 202 past the threshold and finishes the command in the same body", function()
    S.admin_ok("POST", "/_emulator/v3/config", { longRunningThreshold = 0.5 })
    admin_vehicle({ commandDelay = 1 })
    local res = cmd("security/unlock")
    assert.are.equal(202, res.status)
    assert.is_nil(res.headers["content-length"])
    assert.are.equal("chunked", res.headers["transfer-encoding"])
    local d = res.json.data
    assert.are.equal("security-unlock", d.attributes.commandType)
    assert.are.same({ value = "SUCCESS" }, d.attributes.status)
    assert.are.equal("async", d.attributes.executionMode)
    assert.is_true(d.meta.durationInSeconds >= 1)
    assert.is_false(S.get("/v2.0/vehicles/" .. vid .. "/security", t.access_token).json.isLocked)
    -- the outcome in the body may be an error while the status is 202
    admin_vehicle({ isPluggedIn = false })
    res = cmd("charge/start")
    assert.are.equal(202, res.status)
    assert.are.equal("409", res.json.errors[1].status)
    assert.are.equal("CHARGING_PLUG_NOT_CONNECTED", res.json.errors[1].code)
  end)

  it("limits the application's requests (bucket, Retry-After) and a vehicle's (RATE_LIMIT/VEHICLE)", function()
    S.admin_ok("POST", "/_emulator/v3/config", { appRateLimit = true, appRateCapacity = 3, appRateRefillPerMinute = 2 })
    for _ = 1, 3 do assert.are.equal(200, V.call("GET", "/v3/vehicles/" .. vid, token).status) end
    local res = V.call("GET", "/v3/vehicles/" .. vid, token)
    V.assert_error(res, 429, "RATE_LIMIT", "SMARTCAR_API")
    assert.are.equal("30", res.headers["retry-after"])
    S.admin_ok("POST", "/_emulator/clock", { advance = 30 })
    assert.are.equal(200, V.call("GET", "/v3/vehicles/" .. vid, token).status)
    S.admin_ok("POST", "/_emulator/v3/config", { appRateLimit = false })
    S.admin_ok("POST", "/_emulator/config", { rateLimit = 1, rateWindow = 60 })
    assert_execution(cmd("security/lock"), "security-lock")
    res = cmd("security/lock")
    V.assert_error(res, 429, "RATE_LIMIT", "VEHICLE")
    assert.is_string(res.headers["retry-after"])
  end)
end)
