-- Fidelity of the v3 signals and of the webhook VERIFY challenge to what Smartcar documents.
local S = require "spec.support"

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- A missing permission in the V3 error shape (reference §6.1; the V3 code is the emulator's, §6.2).
local function assert_forbidden(res, permission, msg)
  assert.are.equal(403, res.status, msg)
  assert.are.same({ errors = { { status = "403", type = "PERMISSION", code = "INSUFFICIENT_PERMISSIONS",
    title = "Forbidden", detail = "Your application has insufficient permissions to access the requested " ..
      "resource: " .. permission .. " was not granted.", resolution = { type = "REAUTHENTICATE" },
    links = { about = "https://smartcar.com/docs/errors/api-errors/v3/permission-errors" },
    meta = { debug = { requestId = res.headers["sc-request-id"] } } } } }, res.json, msg)
end

describe("v3 signals: permissions", function()
  local all, odo
  setup(function()
    S.reset()
    all = S.token("v3-fidelity@example.com")
    odo = S.token("v3-fidelity@example.com", "read_odometer read_vehicle_info")
  end)

  it("answers 403 in the v3 shape for a signal whose permission was not granted", function()
    local res = S.get("/v3/vehicles/" .. odo.vehicles[1] .. "/signals/location-preciselocation", odo.access_token)
    assert_forbidden(res, "read_location")
    -- as v2 answers the same datum without the permission
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. odo.vehicles[1] .. "/location", odo.access_token), 403,
      "PERMISSION", nil)
    -- the granted one reads
    res = S.get("/v3/vehicles/" .. odo.vehicles[1] .. "/signals/odometer-traveleddistance", odo.access_token)
    assert.are.equal(200, res.status)
    assert.are.equal("odometer-traveleddistance", res.json.id)
    -- and a full grant reads the location
    res = S.get("/v3/vehicles/" .. all.vehicles[1] .. "/signals/location-preciselocation", all.access_token)
    assert.are.equal(200, res.status)
  end)

  it("checks each signal's own permission", function()
    local t = S.token("v3-fidelity@example.com", "read_battery read_tires")
    local v = "/v3/vehicles/" .. t.vehicles[1] .. "/signals/"
    assert.are.equal(200, S.get(v .. "tractionbattery-stateofcharge", t.access_token).status)
    assert.are.equal(200, S.get(v .. "wheel-tires", t.access_token).status)
    for code, permission in pairs({ ["charge-voltage"] = "read_charge", ["closure-islocked"] = "read_security",
      ["vehicleidentification-vin"] = "read_vin", ["odometer-traveleddistance"] = "read_odometer",
      ["location-preciselocation"] = "read_location" }) do
      assert_forbidden(S.get(v .. code, t.access_token), permission, code)
    end
    -- an unknown code is still 404, whatever the permissions
    assert.are.equal(404, S.get(v .. "warp-drive", t.access_token).status)
  end)

  -- what a signal whose permission was not granted is in a list (the reference's choice, §3.6)
  local function assert_not_granted(sig, permission)
    assert.are.same({ value = "ERROR", error = { type = "PERMISSION", code = "INSUFFICIENT_PERMISSIONS",
      title = "Forbidden", detail = "Your application has insufficient permissions to access the requested " ..
        "resource: " .. permission .. " was not granted.", resolution = { type = "REAUTHENTICATE" } } },
      sig.attributes.status, sig.id)
    assert.is_nil(sig.attributes.body, sig.id)
  end

  it("lists every signal: those the token may not read as PERMISSION errors with no value", function()
    local res = S.get("/v3/vehicles/" .. odo.vehicles[1] .. "/signals", odo.access_token)
    assert.are.equal(200, res.status)
    local full = S.get("/v3/vehicles/" .. all.vehicles[1] .. "/signals", all.access_token).json
    assert.are.equal(#full.data, #res.json.data)
    assert.are.equal(#full.data, res.json.meta.totalCount)
    local seen = {}
    for _, sig in ipairs(res.json.data) do
      seen[sig.id] = true
      if sig.id == "odometer-traveleddistance" then
        assert.are.same({ value = "SUCCESS" }, sig.attributes.status)
        assert.is_number(sig.attributes.body.value)
      else
        assert_not_granted(sig, sig.id == "location-preciselocation" and "read_location" or
          assert(sig.attributes.status.error.detail:match(": (read_%w+) was not granted")))
      end
    end
    assert.is_true(seen["odometer-traveleddistance"] and seen["location-preciselocation"])
    -- a full grant reads every one
    for _, sig in ipairs(full.data) do assert.are.same({ value = "SUCCESS" }, sig.attributes.status, sig.id) end
  end)

  it("answers 200 when no signal is permitted, every signal a PERMISSION error", function()
    local t = S.token("v3-fidelity@example.com", "read_vehicle_info")
    local res = S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals", t.access_token)
    assert.are.equal(200, res.status)
    assert.is_true(#res.json.data > 1)
    assert_not_granted(res.json.data[1], "read_odometer")
    for _, sig in ipairs(res.json.data) do assert.are.equal("ERROR", sig.attributes.status.value) end
  end)
end)

describe("v3 signals: documented shapes", function()
  local t
  setup(function()
    S.reset()
    t = S.token("v3-shapes@example.com")
  end)

  it("gives the tyres as values[{row, column, tirePressure}] in a documented unit", function()
    local res = S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals/wheel-tires", t.access_token)
    assert.are.equal(200, res.status)
    local body = res.json.attributes.body
    local kpa = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/tires/pressure", t.access_token).json
    -- the same pressures as v2's kilopascals, in bar
    local want = { { 0, 0, kpa.frontLeft }, { 0, 1, kpa.frontRight }, { 1, 0, kpa.backLeft }, { 1, 1, kpa.backRight } }
    assert.are.equal(#want, #body.values)
    for i, w in ipairs(want) do
      local got = body.values[i]
      assert.are.same({ "column", "row", "tirePressure" }, keys(got))
      assert.are.equal(w[1], got.row)
      assert.are.equal(w[2], got.column)
      assert.is_true(math.abs(got.tirePressure - w[3] / 100) < 1e-9, S.encode(got))
    end
    assert.are.same({ "columnCount", "rowCount", "unit", "values" }, keys(body))
    assert.are.equal(2, body.rowCount)
    assert.are.equal(2, body.columnCount)
    assert.are.equal("bar", body.unit)
    assert.is_nil(res.body:find("kilopascals", 1, true))
    assert.is_nil(res.body:find("tireLocation", 1, true))
  end)

  it("links each signal to itself, its values and its vehicle", function()
    local vid = t.vehicles[1]
    local one = S.get("/v3/vehicles/" .. vid .. "/signals/odometer-traveleddistance", t.access_token).json
    assert.are.same({ self = "/vehicles/" .. vid .. "/signals/odometer-traveleddistance",
      values = "/vehicles/" .. vid .. "/signals/odometer-traveleddistance",
      vehicle = "/vehicles/" .. vid }, one.links)
    local list = S.get("/v3/vehicles/" .. vid .. "/signals", t.access_token).json
    for _, s in ipairs(list.data) do
      assert.are.equal("/vehicles/" .. vid .. "/signals/" .. s.id, s.links.self)
      assert.are.equal("/vehicles/" .. vid .. "/signals/" .. s.id, s.links.values)
      assert.are.equal("/vehicles/" .. vid, s.links.vehicle)
      assert.are.equal(list.included.vehicle.links.self, s.links.vehicle)
    end
  end)
end)

describe("webhook VERIFY payload versions", function()
  local hook = "7f3c1d2e-5a6b-4c8d-9e0f-112233445566"
  setup(function() S.reset() end)
  before_each(function() S.admin("DELETE", "/_emulator/echo-webhook") end)

  local function echo(amt) return S.origin .. "/_emulator/echo-webhook?amt=" .. S.escape(amt) end
  local function received()
    local got = S.admin("GET", "/_emulator/echo-webhook").received
    assert.are.equal(1, #got)
    return S.decode(got[1].body), got[1]
  end

  it("sends the documented 2.0 challenge to a webhook configured for 2.0", function()
    S.admin_ok("POST", "/_emulator/webhooks", { webhookId = hook, version = "2.0" })
    local body = S.admin_ok("POST", "/_emulator/webhooks/verify", { url = echo(S.AMT), webhookId = hook })
    assert.is_true(body.verified)
    assert.are.equal(200, body.status)
    assert.are.equal("2.0", body.version)
    local payload, raw = received()
    assert.are.same({ version = "2.0", webhookId = hook, eventName = "verify",
      payload = { challenge = body.challenge } }, payload)
    assert.is_true(raw.signatureValid)
  end)

  it("keeps the 4.0 VERIFY event as the default", function()
    S.admin_ok("POST", "/_emulator/webhooks", { webhookId = hook })
    local body = S.admin_ok("POST", "/_emulator/webhooks/verify", { url = echo(S.AMT), webhookId = hook })
    assert.is_true(body.verified)
    assert.are.equal("4.0", body.version)
    local payload = received()
    assert.are.equal("VERIFY", payload.eventType)
    assert.are.equal(body.challenge, payload.data.challenge)
    assert.are.equal("4.0", payload.meta.version)
    assert.is_nil(payload.eventName)
  end)

  it("lets one call ask for a version, and a wrong HMAC still fails under 2.0", function()
    local body = S.admin_ok("POST", "/_emulator/webhooks/verify", { url = echo("not-the-amt"), version = "2.0" })
    assert.is_false(body.verified)
    assert.are.equal("verify", received().eventName)
    local _, status = S.admin("POST", "/_emulator/webhooks/verify", { url = echo(S.AMT), version = "9.9" })
    assert.are.equal(400, status)
    _, status = S.admin("POST", "/_emulator/webhooks", { webhookId = hook, version = "1.0" })
    assert.are.equal(400, status)
  end)
end)
