local S = require "spec.support"

-- Every type/code of the v2 catalog with its HTTP status.
local CATALOG = {
  AUTHENTICATION = { 401, { "NULL" } },
  BILLING = { 430, { "VEHICLE_LIMIT", "INVALID_PLAN", "VEHICLE_REQUEST_LIMIT", "ACCOUNT_SUSPENDED" } },
  COMPATIBILITY = { 501, { "MAKE_NOT_COMPATIBLE", "SMARTCAR_NOT_CAPABLE", "VEHICLE_NOT_CAPABLE",
    "PLATFORM_NOT_CAPABLE" } },
  CONNECTED_SERVICES_ACCOUNT = { 400, { "ACCOUNT_ISSUE", "AUTHENTICATION_FAILED", "NO_VEHICLES", "PERMISSION",
    "SUBSCRIPTION", "VEHICLE_MISSING", "VIRTUAL_KEY_REQUIRED" } },
  PERMISSION = { 403, { "NULL" } },
  RATE_LIMIT = { 429, { "SMARTCAR_API", "VEHICLE" } },
  RESOURCE_NOT_FOUND = { 404, { "PATH", "VERSION" } },
  SERVER = { 500, { "INTERNAL", "RECORD_NOT_FOUND", "MULTIPLE_RECORDS_FOUND" } },
  UPSTREAM = { 502, { "INVALID_DATA", "KNOWN_ISSUE", "NO_RESPONSE", "RATE_LIMIT", "UNKNOWN_ISSUE" } },
  VALIDATION = { 400, { "NULL", "PARAMETER" } },
  VEHICLE_STATE = { 409, { "ASLEEP", "CHARGING_IN_PROGRESS", "CHARGING_PLUG_CONNECTED",
    "CHARGING_PLUG_NOT_CONNECTED", "DOOR_OPEN", "FULLY_CHARGED", "NOT_CHARGING", "CHARGE_FAULT", "HOOD_OPEN",
    "IGNITION_ON", "IN_MOTION", "REMOTE_ACCESS_DISABLED", "TRUNK_OPEN", "UNKNOWN", "UNREACHABLE",
    "VEHICLE_OFFLINE_FOR_SERVICE", "LOW_BATTERY" } },
}

describe("test-mode error emails", function()
  setup(function() S.reset() end)

  for etype, entry in pairs(CATALOG) do
    for _, code in ipairs(entry[2]) do
      local email = etype .. "." .. code .. "@smartcar.com"
      it(email .. " fails every non-static request with " .. entry[1], function()
        local t = S.token(email)
        assert.are.equal(1, #t.vehicles)
        local v = t.vehicles[1]
        local expected_code = code ~= "NULL" and code or nil
        for _, sub in ipairs({ "/odometer", "/location", "/battery", "/security" }) do
          local res = S.get("/v2.0/vehicles/" .. v .. sub, t.access_token)
          local b = S.assert_v2_error(res, entry[1], etype, expected_code)
          if etype == "RATE_LIMIT" then
            assert.matches("^%d+$", res.headers["retry-after"])
          end
          if etype == "VALIDATION" or etype == "RESOURCE_NOT_FOUND" or etype == "SERVER" or etype == "UPSTREAM" then
            assert.is_string(b.suggestedUserMessage)
          end
        end
        local cmd = S.post("/v2.0/vehicles/" .. v .. "/security", { action = "LOCK" }, t.access_token)
        S.assert_v2_error(cmd, entry[1], etype, expected_code)
        -- static endpoints still work
        assert.are.equal(200, S.get("/v2.0/vehicles/" .. v, t.access_token).status)
        assert.are.equal(200, S.get("/v2.0/vehicles/" .. v .. "/vin", t.access_token).status)
        assert.are.equal(200, S.get("/v2.0/vehicles/" .. v .. "/permissions", t.access_token).status)
      end)
    end
  end

  it("accepts the email case-insensitively and the null code without a suffix", function()
    local t = S.token("vehicle_state.asleep@smartcar.com")
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token), 409,
      "VEHICLE_STATE", "ASLEEP")
    t = S.token("AUTHENTICATION@smartcar.com")
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token), 401,
      "AUTHENTICATION", nil)
  end)

  it("uses the documented texts", function()
    local t = S.token("VEHICLE_STATE.ASLEEP@smartcar.com")
    local b = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token).json
    assert.are.equal("The vehicle is in a sleep state and temporarily unable to perform your request.", b.description)
    assert.are.equal("https://smartcar.com/docs/errors/api-errors/vehicle-state-errors#asleep", b.docURL)
    assert.are.equal("Your vehicle is in a sleep state. This request was not sent to preserve battery life.",
      b.suggestedUserMessage)
    assert.are.equal(S.null, b.resolution.type)
    t = S.token("CONNECTED_SERVICES_ACCOUNT.AUTHENTICATION_FAILED@smartcar.com")
    b = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token).json
    assert.are.equal("REAUTHENTICATE", b.resolution.type)
    assert.matches("/oauth/reauthenticate%?response_type=vehicle_id&client_id=" .. S.CLIENT_ID:gsub("%-", "%%-"),
      b.resolution.url)
    t = S.token("SERVER.MULTIPLE_RECORDS_FOUND@smartcar.com")
    b = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/battery/capacity", t.access_token).json
    assert.are.same({ { capacities = { 83.9, 83.9, 70.2 } } }, b.detail)
    t = S.token("BILLING.ACCOUNT_SUSPENDED@smartcar.com")
    b = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token).json
    assert.are.equal("FINANCE", b.resolution.type)
    assert.is_nil(b.suggestedUserMessage)
    t = S.token("RATE_LIMIT.VEHICLE@smartcar.com")
    b = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token).json
    assert.are.equal("RETRY_LATER", b.resolution.type)
  end)

  it("makes batch items fail individually", function()
    local t = S.token("UPSTREAM.NO_RESPONSE@smartcar.com")
    local res = S.post("/v2.0/vehicles/" .. t.vehicles[1] .. "/batch", { requests = { { path = "/odometer" },
      { path = "/vin" } } }, t.access_token)
    assert.are.equal(200, res.status)
    assert.are.equal(502, res.json.responses[1].code)
    assert.are.equal("UPSTREAM", res.json.responses[1].body.type)
    assert.are.equal(200, res.json.responses[2].code)
  end)

  describe("v1.0 error emails", function()
    local cases = {
      { "smartcar@vs-000.vehicle-state-error.com", 409, "vehicle_state_error", "VS_000",
        "Vehicle state cannot be determined.", "VEHICLE_STATE", "UNKNOWN" },
      { "smartcar@vs-001.vehicle-state-error.com", 409, "vehicle_state_error", "VS_001",
        "Some of the vehicle's doors are open.", "VEHICLE_STATE", "DOOR_OPEN" },
      { "smartcar@vs-002.vehicle-state-error.com", 409, "vehicle_state_error", "VS_002",
        "Some of the vehicle's trunks are open.", "VEHICLE_STATE", "TRUNK_OPEN" },
      { "smartcar@vs-003.vehicle-state-error.com", 409, "vehicle_state_error", "VS_003",
        "The vehicle's hood is open.", "VEHICLE_STATE", "HOOD_OPEN" },
      { "smartcar@voa-000.vehicle-owner-action-required.com", 400, "vehicle_owner_action_required", "VOA_000",
        "Vehicle authentication failed. Please prompt the vehicle owner to log in again using Connect.",
        "CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED" },
      { "smartcar@voa-001.vehicle-owner-action-required.com", 400, "vehicle_owner_action_required", "VOA_001",
        "Connected services subscription invalid or expired. Please prompt the vehicle owner to reactivate " ..
        "their subscription.", "CONNECTED_SERVICES_ACCOUNT", "SUBSCRIPTION" },
    }
    for _, c in ipairs(cases) do
      it(c[1] .. " fails with " .. c[4] .. " on v1.0 and " .. c[7] .. " on v2.0", function()
        local t = S.token(c[1])
        local v = t.vehicles[1]
        local res = S.get("/v1.0/vehicles/" .. v .. "/odometer", t.access_token)
        assert.are.equal(c[2], res.status)
        assert.are.same({ error = c[3], message = c[5], code = c[4], statusCode = c[2],
          requestId = res.headers["sc-request-id"] }, res.json)
        S.assert_v2_error(S.get("/v2.0/vehicles/" .. v .. "/odometer", t.access_token), c[2] == 409 and 409 or 400,
          c[6], c[7])
        assert.are.equal(200, S.get("/v1.0/vehicles/" .. v .. "/vin", t.access_token).status)
      end)
    end
  end)

  describe("VIN emails", function()
    it("gives <VIN>@bev.smartcar.com a BEV with that VIN", function()
      local t = S.token("5YJ3E1EA7KF317000@bev.smartcar.com")
      local v = t.vehicles[1]
      assert.are.equal("5YJ3E1EA7KF317000", S.get("/v2.0/vehicles/" .. v .. "/vin", t.access_token).json.vin)
      assert.are.equal("TESLA", S.get("/v2.0/vehicles/" .. v, t.access_token).json.make)
      assert.are.equal(200, S.get("/v2.0/vehicles/" .. v .. "/battery", t.access_token).status)
      S.assert_v2_error(S.get("/v2.0/vehicles/" .. v .. "/fuel", t.access_token), 501, "COMPATIBILITY",
        "VEHICLE_NOT_CAPABLE")
    end)

    it("gives fuel an ICE car, phev everything, incompatible nothing", function()
      local t = S.token("1FTFW1E50LFA00001@fuel.smartcar.com")
      local v = t.vehicles[1]
      assert.are.equal(200, S.get("/v2.0/vehicles/" .. v .. "/fuel", t.access_token).status)
      S.assert_v2_error(S.get("/v2.0/vehicles/" .. v .. "/battery", t.access_token), 501, "COMPATIBILITY",
        "VEHICLE_NOT_CAPABLE")
      t = S.token("JTMAB3FV7ND000001@phev.smartcar.com")
      v = t.vehicles[1]
      assert.are.equal(200, S.get("/v2.0/vehicles/" .. v .. "/fuel", t.access_token).status)
      assert.are.equal(200, S.get("/v2.0/vehicles/" .. v .. "/battery", t.access_token).status)
      t = S.token("WAUZZZ8V0KA000001@incompatible.smartcar.com")
      v = t.vehicles[1]
      S.assert_v2_error(S.get("/v2.0/vehicles/" .. v .. "/odometer", t.access_token), 501, "COMPATIBILITY",
        "VEHICLE_NOT_CAPABLE")
      assert.are.equal(200, S.get("/v2.0/vehicles/" .. v .. "/vin", t.access_token).status)
    end)

    it("gives smartcar@successful-request.com the documented AUDI", function()
      local t = S.token("smartcar@successful-request.com")
      assert.are.equal("0SCAUDI037A5ADB1C", S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/vin", t.access_token).json.vin)
    end)

    it("refuses tokens for Connect-error emails", function()
      local body, status = S.admin("POST", "/_emulator/tokens", { email = "smartcar@invalid-subscription.com" })
      assert.are.equal(400, status)
      assert.are.equal("invalid_subscription", body.error)
    end)
  end)
end)
