-- Fidelity to Smartcar: behaviours Smartcar's docs and the official SDKs' end-to-end suites show,
-- which developers meet in production (each block names its source).
local S = require "spec.support"

local null = S.null

local function client_get(path)
  return assert(S.request("GET", path, { headers = { authorization = S.basic(S.CLIENT_ID, S.CLIENT_SECRET) } }))
end

local function cap(permission, endpoint, capable, reason)
  return { permission = permission, endpoint = endpoint, capable = capable, reason = reason or null }
end

describe("fidelity: compatibility by VIN", function()
  setup(function() S.reset() end)

  -- python-sdk tests/e2e/test_smartcar.py test_get_compatibility_v2
  it("answers Smartcar's test VIN 0SCGMCT0386A85356: compatible, odometer capable, fuel not", function()
    local res = client_get("/v2.0/compatibility?vin=0SCGMCT0386A85356&scope=read_odometer%20read_fuel&country=US")
    assert.are.equal(200, res.status)
    assert.are.same({ compatible = true, reason = null, capabilities = {
      cap("read_odometer", "/odometer", true),
      cap("read_fuel", "/fuel", false, "VEHICLE_NOT_CAPABLE"),
    } }, res.json)
  end)

  -- node-sdk test/end-to-end/index.js getCompatibility
  it("answers the e2e Audi WAUAFAFL1GN014882 compatible with every capability false", function()
    local res = client_get("/v2.0/compatibility?vin=WAUAFAFL1GN014882&scope=read_odometer%20read_location")
    assert.are.equal(200, res.status)
    assert.is_true(res.json.compatible)
    assert.are.equal(null, res.json.reason)
    assert.are.equal(2, #res.json.capabilities)
    for _, c in ipairs(res.json.capabilities) do assert.is_false(c.capable) end
    -- and the e2e Tesla: every capability true
    res = client_get("/v2.0/compatibility?vin=5YJXCDE22HF068739&scope=read_odometer%20read_location")
    assert.is_true(res.json.compatible)
    assert.are.same({ cap("read_odometer", "/odometer", true), cap("read_location", "/location", true) },
      res.json.capabilities)
  end)

  -- node-sdk e2e auth-client.js isCompatible (v1.0): Tesla truthy, Audi falsy
  it("answers v1.0 with the capabilities folded in", function()
    assert.are.same({ compatible = false },
      client_get("/v1.0/compatibility?vin=WAUAFAFL1GN014882&scope=read_odometer%20read_location").json)
    assert.are.same({ compatible = true },
      client_get("/v1.0/compatibility?vin=5YJXCDE22HF068739&scope=read_odometer%20read_location").json)
  end)

  -- docs getting-started/test-your-integration and errors/connect-errors (test VINs of Connect)
  it("knows the documented test VINs of Connect", function()
    local base = "/v2.0/compatibility?scope=read_vin&vin="
    local ok = client_get(base .. "0SCAUDI037A5ADB1C").json
    assert.are.same({ compatible = true, reason = null, capabilities = { cap("read_vin", "/vin", true) } }, ok)
    assert.are.same({ compatible = false, reason = "VEHICLE_NOT_COMPATIBLE", capabilities = {} },
      client_get(base .. "0SCAUDI012FE3B132").json)
    assert.is_true(client_get(base .. "0SCAUDI0155C49A95").json.compatible)
    assert.is_true(client_get(base .. "0SCLR000292E53813").json.compatible)
  end)
end)

describe("fidelity: vehicle ids", function()
  local t
  before_each(function()
    S.reset()
    t = S.token("ids@example.com")
  end)

  -- docs connect/re-auth (vehicle_id=sc4a1b01e5-…) and the v3 test vehicle id of node-sdk e2e
  it("accepts the id forms Smartcar uses, refusing what the token does not cover", function()
    for _, id in ipairs({ "sc4a1b01e5-0497-417c-a30e-6df6ba33ba46", "tst2e255-d3c8-4f90-9fec-e6e68b98e9cb" }) do
      S.assert_v2_error(S.get("/v2.0/vehicles/" .. id .. "/odometer", t.access_token), 401, "AUTHENTICATION", nil)
    end
  end)

  -- python-sdk tests/e2e/test_exception.py test_vehicle_state_error: "bad_id" is a 400
  it("still rejects a malformed id with 400", function()
    S.assert_v2_error(S.get("/v2.0/vehicles/bad_id", t.access_token), 400, "VALIDATION", nil)
  end)
end)

describe("fidelity: commands in test mode", function()
  local function post(tok, v, sub, body) return S.post("/v2.0/vehicles/" .. v .. sub, body, tok.access_token) end
  local function get(tok, v, sub) return S.get("/v2.0/vehicles/" .. v .. sub, tok.access_token) end
  local SUCCESS = { status = "success", message = "Successfully sent request to vehicle" }

  before_each(function() S.reset() end)

  -- node-sdk test/end-to-end/vehicle.js: startCharge then stopCharge succeed on a test-mode vehicle
  it("answers start and stop charge with success, whatever the plug and charge state", function()
    local t = S.token("fleet@example.com", nil, { mode = "test" })
    local phev = t.vehicles[2] -- unplugged
    for _, action in ipairs({ "START", "START", "STOP", "STOP" }) do
      local res = post(t, phev, "/charge", { action = action })
      assert.are.equal(200, res.status)
      assert.are.same(SUCCESS, res.json)
    end
    local bev = t.vehicles[1]
    assert.are.same(SUCCESS, post(t, bev, "/charge", { action = "STOP" }).json)
  end)

  -- docs guides/testing: "/security always returns a success status"; test mode is stateless
  it("changes no state: lock, charge limit and charge state read as before", function()
    local t = S.token("fleet@example.com", nil, { mode = "test" })
    local bev = t.vehicles[1]
    assert.are.same(SUCCESS, post(t, bev, "/security", { action = "UNLOCK" }).json)
    assert.is_true(get(t, bev, "/security").json.isLocked)
    assert.are.same(SUCCESS, post(t, bev, "/charge/limit", { limit = 0.6 }).json)
    assert.are.equal(0.8, get(t, bev, "/charge/limit").json.limit)
    assert.are.same(SUCCESS, post(t, bev, "/charge", { action = "START" }).json)
    assert.are.equal("NOT_CHARGING", get(t, bev, "/charge").json.state)
    -- validation still applies
    S.assert_v2_error(post(t, bev, "/charge/limit", { limit = 0.2 }), 400, "VALIDATION", "PARAMETER")
  end)

  -- the emulator's own simulation: mode=simulated keeps the stateful vehicle
  it("keeps the stateful simulation for mode=simulated", function()
    local t = S.token("fleet@example.com", nil, { mode = "simulated" })
    local phev = t.vehicles[2]
    S.assert_v2_error(post(t, phev, "/charge", { action = "START" }), 409, "VEHICLE_STATE",
      "CHARGING_PLUG_NOT_CONNECTED")
    local bev = t.vehicles[1]
    assert.are.same(SUCCESS, post(t, bev, "/charge", { action = "START" }).json)
    S.assert_v2_error(post(t, bev, "/charge", { action = "START" }), 409, "VEHICLE_STATE", "CHARGING_IN_PROGRESS")
    assert.are.same(SUCCESS, post(t, bev, "/security", { action = "UNLOCK" }).json)
    assert.is_false(get(t, bev, "/security").json.isLocked)
  end)
end)

describe("fidelity: v1.0 error bodies", function()
  before_each(function() S.reset() end)

  -- python-sdk smartcar/exception.py reads statusCode/requestId from a v1 body;
  -- tests/e2e/test_exception.py test_out_of_permission_scope_v1 asserts status_code 403
  it("carry statusCode and requestId", function()
    local t = S.token("v1@example.com", { "read_vin" })
    local res = S.get("/v1.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token)
    assert.are.equal(403, res.status)
    assert.are.same({ error = "permission_error", message = "Insufficient permissions to access requested resource.",
      statusCode = 403, requestId = res.headers["sc-request-id"] }, res.json)
    assert.matches(S.UUID, res.json.requestId)
    res = S.get("/v1.0/vehicles/bad_id", t.access_token)
    assert.are.equal(400, res.status)
    assert.are.equal("validation_error", res.json.error)
    assert.are.equal(400, res.json.statusCode)
    assert.are.equal(res.headers["sc-request-id"], res.json.requestId)
  end)
end)

describe("fidelity: API versions", function()
  before_each(function() S.reset() end)

  -- python-sdk tests/e2e/test_exception.py test_vehicle_bad_api_version
  it("serves a well-formed unknown version as the latest, and 404s a malformed one", function()
    local t = S.token("version@example.com")
    local res = S.get("/v99999999.99/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token)
    assert.are.equal(200, res.status)
    assert.is_number(res.json.distance)
    assert.are.same(S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token).json, res.json)
    res = S.get("/vJohnny%20Appleseed/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token)
    assert.are.equal(404, res.status)
    assert.are.equal("RESOURCE_NOT_FOUND", res.json.type)
  end)
end)
