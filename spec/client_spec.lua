-- The pipeline (Client:send): secrets scrubbed from errors, and every error of the
-- catalog mapped to a SmartcarError, over real HTTP against the emulator.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local H = require "helper"

describe("secrets", function()
  before_each(function() H.reset(); H.configure() end)

  it("never appear in tostring of a vehicle or a client", function()
    local v = smartcar.Vehicle.new("3c9d7c1e-9b8c-4b83-8d1e-0ed5c2f1a001", "top-secret-token")
    assert.is_nil(tostring(v):find("top-secret-token", 1, true))
    assert.is_nil(v.token)
    local c = smartcar.AuthClient.new { clientId = "id-1", clientSecret = "very-secret", mode = "test" }
    assert.is_nil(tostring(c):find("very-secret", 1, true))
    assert.is_nil(c.clientSecret)
    assert.are.equal("id-1", c.clientId)
  end)

  it("never appear in errors, even when the server echoes them", function()
    local client = smartcar.AuthClient.new {
      clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET, redirectUri = H.REDIRECT_URI,
    }
    local res, err = client:exchangeRefreshToken("refresh-secret-123")
    assert.is_nil(res)
    assert.are.equal("invalid_request", err.type)
    for k, v in pairs(err) do
      assert.is_nil(tostring(v):find("refresh-secret-123", 1, true), k)
    end
    local bad = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = "wrong-secret-xyz" }
    local _, err2 = bad:exchangeCode("some-code")
    assert.are.equal(401, err2.statusCode)
    for k, v in pairs(err2) do
      assert.is_nil(tostring(v):find("wrong-secret-xyz", 1, true), k)
    end
  end)
end)

-- §6.2 of the wire protocol: every type and code the test-mode emails can trigger.
local CATALOG = {
  { "BILLING", 430, { "VEHICLE_LIMIT", "INVALID_PLAN", "VEHICLE_REQUEST_LIMIT", "ACCOUNT_SUSPENDED" } },
  { "COMPATIBILITY", 501, { "MAKE_NOT_COMPATIBLE", "SMARTCAR_NOT_CAPABLE", "VEHICLE_NOT_CAPABLE" } },
  { "CONNECTED_SERVICES_ACCOUNT", 400, { "ACCOUNT_ISSUE", "AUTHENTICATION_FAILED", "NO_VEHICLES", "PERMISSION",
    "SUBSCRIPTION", "VEHICLE_MISSING", "VIRTUAL_KEY_REQUIRED" } },
  { "RATE_LIMIT", 429, { "SMARTCAR_API", "VEHICLE" } },
  { "SERVER", 500, { "INTERNAL", "RECORD_NOT_FOUND", "MULTIPLE_RECORDS_FOUND" } },
  { "UPSTREAM", 502, { "INVALID_DATA", "KNOWN_ISSUE", "NO_RESPONSE", "RATE_LIMIT", "UNKNOWN_ISSUE" } },
  { "VEHICLE_STATE", 409, { "ASLEEP", "CHARGING_IN_PROGRESS", "CHARGING_PLUG_NOT_CONNECTED", "DOOR_OPEN",
    "FULLY_CHARGED", "HOOD_OPEN", "IGNITION_ON", "IN_MOTION", "REMOTE_ACCESS_DISABLED", "TRUNK_OPEN", "UNKNOWN",
    "UNREACHABLE", "VEHICLE_OFFLINE_FOR_SERVICE" } },
}

describe("test-mode error emails through odometer()", function()
  setup(function() H.reset(); H.configure() end)
  for _, group in ipairs(CATALOG) do
    local type_, status, codes = group[1], group[2], group[3]
    for _, code in ipairs(codes) do
      it(type_ .. "." .. code, function()
        local vehicle = H.vehicle(type_ .. "." .. code .. "@smartcar.com")
        assert(vehicle:attributes()) -- static endpoints still answer
        local res, err = vehicle:odometer()
        assert.is_nil(res)
        assert.are.equal(type_, err.type)
        assert.are.equal(code, err.code)
        assert.are.equal(status, err.statusCode)
        assert.are.equal(type_ .. ":" .. code .. " - " .. err.description, err.message)
        assert.is_string(err.docURL)
        assert.is_string(err.requestId)
        if type_ == "RATE_LIMIT" then assert.is_number(err.retryAfter) end
      end)
    end
  end

  for _, case in ipairs {
    { "smartcar@vs-000.vehicle-state-error.com", "vehicle_state_error", "VS_000" },
    { "smartcar@voa-000.vehicle-owner-action-required.com", "vehicle_owner_action_required", "VOA_000" },
    { "smartcar@voa-001.vehicle-owner-action-required.com", "vehicle_owner_action_required", "VOA_001" },
  } do
    it("v1.0 vehicles answer with the legacy shape: " .. case[3], function()
      local vehicle = H.vehicle(case[1], { version = "1.0" })
      local res, err = vehicle:odometer()
      assert.is_nil(res)
      assert.are.equal("/v1.0/vehicles/" .. vehicle.id .. "/odometer", H.last().path)
      assert.are.equal(case[2], err.type)
      assert.are.equal(case[3], err.code)
      assert.are.equal(case[2] .. ":" .. case[3] .. " - " .. err.description, err.message)
      assert.is_true(err.statusCode >= 400)
    end)
  end
end)

describe("redaction in the pipeline", function()
  -- A transport that answers every request with an error echoing everything it was sent.
  local function echoing()
    return { request = function(_, method, url, headers, body)
      local echo = method .. " " .. url .. " " .. table.concat({ headers.authorization or "",
        headers.authorization and headers.authorization:match("%S+$") or "", body or "" }, " | ")
      local pair = headers.authorization and headers.authorization:match("^Basic (%S+)")
      if pair then echo = echo .. " " .. core.unbase64(pair) .. " " .. core.escape(core.unbase64(pair)) end
      return 400, { ["content-type"] = "application/json" }, core.encode {
        type = "ECHO " .. echo, code = echo:sub(1, 60), description = echo, suggestedUserMessage = echo,
        resolution = { type = echo, url = "https://x/" .. core.escape(echo) }, detail = { { message = echo } },
      }
    end }
  end

  local function assert_clean(err, secrets)
    local function walk(v, path)
      if type(v) == "table" then
        for k, x in pairs(v) do walk(x, path .. "." .. tostring(k)) end
      elseif type(v) == "string" then
        for _, s in ipairs(secrets) do
          assert.is_nil(v:find(s, 1, true), path .. " holds a secret: " .. v)
          assert.is_nil(v:find(core.escape(s), 1, true), path .. " holds an encoded secret: " .. v)
        end
      end
    end
    walk(err, "err")
    walk(tostring(err), "tostring")
  end

  it("removes tokens, credentials, codes and refresh tokens from every field of every error", function()
    local sc = smartcar.new { origin = "http://127.0.0.1:9", transport = echoing() }
    local _, err = sc.Vehicle.new("v", "the-access-token-1"):odometer()
    assert.are.equal(400, err.statusCode)
    assert.matches("[REDACTED]", err.description, 1, true)
    assert_clean(err, { "the-access-token-1" })
    local client = sc.AuthClient.new { clientId = "client-id", clientSecret = "the-client-secret",
      redirectUri = "https://x/cb" }
    _, err = client:exchangeCode("the+code/with=odd&chars")
    assert_clean(err, { "the-client-secret", "client-id:the-client-secret", "the+code/with=odd&chars",
      core.base64("client-id:the-client-secret") })
    _, err = client:exchangeRefreshToken("the-refresh-token")
    assert_clean(err, { "the-client-secret", "the-refresh-token" })
    _, err = sc.getConnections("the-management-token")
    assert_clean(err, { "the-management-token", core.base64("default:the-management-token") })
    _, err = sc.Vehicle.new("v", "tok-2222"):unsubscribe("the-amt-value", "w")
    assert_clean(err, { "the-amt-value" })
  end)
end)
