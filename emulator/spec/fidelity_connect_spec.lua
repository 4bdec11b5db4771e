-- Connect as Smartcar documents it (each block names its source): test mode's one vehicle of the chosen
-- brand, the documented API-error test emails and their VINs, re-authentication, the .page-content the
-- official e2e suites wait for, and the mode reaching the grant. What the emulator adds is marked so.
local S = require "spec.support"

local DEFAULTS = { response_type = "code", client_id = S.CLIENT_ID, approval_prompt = "auto",
  redirect_uri = S.REDIRECT_URI, scope = "read_vehicle_info read_vin read_odometer", state = "st-9", mode = "test" }
local function authorize(extra) return S.authorize_with(DEFAULTS, extra) end
local query_of = S.query_of

-- The official e2e flow (node-sdk test/end-to-end/helpers/index.js runAuthFlow) is S.to_consent
local to_consent = S.to_consent

local function exchange(location)
  local q = query_of(location)
  assert.is_string(q.code, location)
  local res = assert(S.request("POST", "/oauth/token", { body = "grant_type=authorization_code&code=" ..
    S.escape(q.code) .. "&redirect_uri=" .. S.escape(S.REDIRECT_URI), headers = {
    authorization = S.basic(S.CLIENT_ID, S.CLIENT_SECRET), ["content-type"] = "application/x-www-form-urlencoded" } }))
  assert.are.equal(200, res.status)
  return res.json.access_token
end

-- Connect through the pages and approve: the access token.
local function connect(path, email, brand)
  local res = to_consent(path, email, brand)
  assert.are.equal(200, res.status)
  local f, b = S.form_with(res.body, "approval-button")
  res = S.submit(f, b)
  assert.are.equal(302, res.status)
  return exchange(res.headers.location)
end

local function vehicles(token)
  local res = S.get("/v2.0/vehicles", token)
  assert.are.equal(200, res.status)
  return res.json.vehicles, res.json
end

describe("test mode Connect (smartcar.com/docs/guides/testing: 'log into a simulated vehicle for the chosen " ..
  "vehicle brand')", function()
  before_each(function() S.reset() end)

  it("gives one CHEVROLET Volt for CHEVROLET on the brand page (node-sdk test/end-to-end/vehicle.js)", function()
    local token = connect(authorize(), "e2e-" .. os.time() .. "@email.com", "CHEVROLET")
    local list, body = vehicles(token)
    assert.are.equal(1, #list)
    assert.are.equal(1, body.paging.count)
    local attrs = S.get("/v2.0/vehicles/" .. list[1], token).json
    assert.are.equal("CHEVROLET", attrs.make)
    assert.are.equal("Volt", attrs.model)
    assert.is_number(attrs.year)
    -- python-sdk tests/e2e/test_smartcar.py test_get_vehicles_with_paging: offset 1 → no vehicle
    local paged = S.get("/v2.0/vehicles?limit=1&offset=1", token).json
    assert.are.equal(0, #paged.vehicles)
  end)

  it("gives one vehicle of the `make` parameter's brand, the brand page skipped", function()
    local res = S.get(authorize({ make = "kia" }))
    res = S.submit(S.form_with(res.body, "continue-button"))
    assert.is_table(S.form_with(res.body, "sign-in-button"))
    local token = connect(authorize({ make = "KIA" }), "someone@example.com")
    local list = vehicles(token)
    assert.are.equal(1, #list)
    assert.are.equal("KIA", S.get("/v2.0/vehicles/" .. list[1], token).json.make)
  end)

  it("has a vehicle for every brand on the brand page, the same one for the same email and brand", function()
    local page = S.submit(S.form_with(S.get(authorize()).body, "continue-button")).body
    local brands = {}
    for id in page:gmatch('<button id="([%w_]+)" class="brand%-list%-item"') do brands[#brands + 1] = id end
    assert.is_true(#brands >= 30)
    for _, brand in ipairs({ "TESLA", "FORD", "LAND_ROVER", "VOLVO" }) do
      local a = connect(authorize(), "same@example.com", brand)
      local b = connect(authorize(), "same@example.com", brand)
      local va, vb = vehicles(a), vehicles(b)
      assert.are.same(va, vb)
      assert.are.equal(brand, S.get("/v2.0/vehicles/" .. va[1], a).json.make)
    end
  end)

  it("ignores a `make` that is no brand (the emulator's choice: the brand page is shown)", function()
    local res = S.submit(S.form_with(S.get(authorize({ make = "NOT_A_CAR" })).body, "continue-button"))
    assert.is_table(S.form_with(res.body, "brand-search"))
  end)

  it("keeps multi-vehicle accounts: <N>-vehicles@smartcar.com and, emulator-only, the tokens shortcut", function()
    local token = connect(authorize(), "3-vehicles@smartcar.com", "TESLA")
    assert.are.equal(3, #vehicles(token))
    local t = S.token("driver@example.com")
    assert.are.equal(3, #t.vehicles)
  end)

  it("keeps the emulator's 3-vehicle account in live and simulated mode (emulator-only)", function()
    for _, mode in ipairs({ "live", "simulated" }) do
      local token = connect(authorize({ mode = mode }), "driver@example.com", "CHEVROLET")
      assert.are.equal(3, #vehicles(token))
    end
  end)
end)

describe("API-error test emails (smartcar.com/docs/errors/testing-errors)", function()
  setup(function() S.reset() end)

  local DOCUMENTED = {
    { "COMPATIBILITY", "MAKE_NOT_COMPATIBLE", "0SCLR000270BE6600", 501 },
    { "COMPATIBILITY", "SMARTCAR_NOT_CAPABLE", "0SCLR0002DC18F57F", 501 },
    { "COMPATIBILITY", "VEHICLE_NOT_CAPABLE", "0SCLR00024C7CDF7A", 501 },
    { "CONNECTED_SERVICES_ACCOUNT", "ACCOUNT_ISSUE", "0SCLR00026BAAA136", 400 },
    { "CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED", "0SCLR00021D803C7B", 400 },
    { "CONNECTED_SERVICES_ACCOUNT", "NO_VEHICLES", "0SCLR00027671837B", 400 },
    { "CONNECTED_SERVICES_ACCOUNT", "SUBSCRIPTION", "0SCLR0002B9BAF29F", 400 },
    { "CONNECTED_SERVICES_ACCOUNT", "VEHICLE_MISSING", "0SCLR00024E29EEBD", 400 },
    { "UPSTREAM", "INVALID_DATA", "0SCLR000298A0A649", 502 },
    { "UPSTREAM", "KNOWN_ISSUE", "0SCLR0002A8760B72", 502 },
    { "UPSTREAM", "NO_RESPONSE", "0SCLR0002C23E43AB", 502 },
    { "UPSTREAM", "UNKNOWN_ISSUE", "0SCLR0002D4878901", 502 },
    { "VEHICLE_STATE", "ASLEEP", "0SCLR0002E8896323", 409 },
    { "VEHICLE_STATE", "CHARGING_IN_PROGRESS", "0SCLR000221F1E672", 409 },
    { "VEHICLE_STATE", "CHARGING_PLUG_NOT_CONNECTED", "0SCLR0002CBFC7C21", 409 },
    { "VEHICLE_STATE", "DOOR_OPEN", "0SCLR0002F8BD90B8", 409 },
    { "VEHICLE_STATE", "FULLY_CHARGED", "0SCLR00029CD9D894", 409 },
    { "VEHICLE_STATE", "HOOD_OPEN", "0SCLR000219CD4A2C", 409 },
    { "VEHICLE_STATE", "IGNITION_ON", "0SCLR00021D49E58A", 409 },
    { "VEHICLE_STATE", "IN_MOTION", "0SCLR00024F6EE640", 409 },
    { "VEHICLE_STATE", "REMOTE_ACCESS_DISABLED", "0SCLR0002588A5CC1", 409 },
    { "VEHICLE_STATE", "TRUNK_OPEN", "0SCLR00023C607FDB", 409 },
    { "VEHICLE_STATE", "UNKNOWN", "0SCLR0002E6CC0314", 409 },
    { "VEHICLE_STATE", "UNREACHABLE", "0SCLR000247EBF067", 409 },
    { "VEHICLE_STATE", "VEHICLE_OFFLINE_FOR_SERVICE", "0SCLR0002AF1D71A1", 409 },
  }

  local function simulated_token(email)
    local url = S.origin .. authorize({ mode = "simulated" })
    local out = S.admin_ok("POST", "/_emulator/authorize", { url = url, email = email, approve = true })
    return exchange(out.location)
  end

  it("gives each documented email its documented VIN and error, in simulated mode", function()
    for _, d in ipairs(DOCUMENTED) do
      local token = simulated_token(d[1] .. "." .. d[2] .. "@smartcar.com")
      local list = vehicles(token)
      assert.are.equal(1, #list)
      local vin = S.get("/v2.0/vehicles/" .. list[1] .. "/vin", token)
      assert.are.equal(200, vin.status)
      assert.are.equal(d[3], vin.json.vin, d[1] .. "." .. d[2])
      S.assert_v2_error(S.get("/v2.0/vehicles/" .. list[1] .. "/odometer", token), d[4], d[1], d[2])
    end
  end)

  it("gives the documented VIN through the Connect pages too", function()
    local token = connect(authorize({ mode = "simulated" }), "VEHICLE_STATE.ASLEEP@smartcar.com", "TESLA")
    local list = vehicles(token)
    assert.are.equal("0SCLR0002E8896323", S.get("/v2.0/vehicles/" .. list[1] .. "/vin", token).json.vin)
  end)

  it("keeps undocumented types and codes as an emulator extension (no 0SC VIN)", function()
    for _, email in ipairs({ "RATE_LIMIT.VEHICLE@smartcar.com", "VEHICLE_STATE@smartcar.com" }) do
      local token = simulated_token(email)
      local list = vehicles(token)
      local vin = S.get("/v2.0/vehicles/" .. list[1] .. "/vin", token).json.vin
      assert.is_string(vin)
      assert.is_nil(vin:find("^0SC"))
    end
  end)
end)

describe("re-authentication (smartcar.com/docs/connect/re-auth/redirect-to-connect, …/handle-response)",
  function()
  setup(function() S.reset() end)

  local VID = "sc4a1b01e5-0497-417c-a30e-6df6ba33ba46"
  local function reauth(extra)
    local p = { response_type = "vehicle_id", client_id = S.CLIENT_ID, vehicle_id = VID,
      redirect_uri = S.REDIRECT_URI, state = "0facda3319" }
    for k, v in pairs(extra or {}) do
      if v == false then p[k] = nil else p[k] = v end
    end
    local parts = {}
    for _, k in ipairs({ "response_type", "client_id", "application_id", "vehicle_id", "redirect_uri", "state",
      "external_id" }) do
      if p[k] then parts[#parts + 1] = k .. "=" .. S.escape(p[k]) end
    end
    return "/oauth/reauthenticate?" .. table.concat(parts, "&")
  end

  it("shows a sign-in page, then redirects with vehicle_id and state and no code", function()
    local res = S.get(reauth())
    assert.are.equal(200, res.status)
    assert.truthy(res.body:find('class="page-content"', 1, true))
    local f, b = S.form_with(res.body, "sign-in-button")
    assert.is_table(f)
    res = S.submit(f, b, { username = "driver@example.com", password = "new-password" })
    assert.are.equal(302, res.status)
    assert.matches("^https://example%.com/callback%?", res.headers.location)
    local q = query_of(res.headers.location)
    assert.are.same({ vehicle_id = VID, state = "0facda3319" }, q)
  end)

  it("takes V3's application_id for client_id (the resolution URL's form) and brings external_id back", function()
    local res = S.get(reauth({ client_id = false, application_id = S.CLIENT_ID, external_id = "crm-42" }))
    assert.are.equal(200, res.status)
    local f, b = S.form_with(res.body, "sign-in-button")
    res = S.submit(f, b, { username = "a@b.com", password = "p" })
    assert.are.equal(302, res.status)
    assert.are.same({ vehicle_id = VID, state = "0facda3319", external_id = "crm-42" },
      query_of(res.headers.location))
    res = S.get(reauth({ client_id = false, application_id = "not-an-app" }))
    assert.are.equal(400, res.status)
  end)

  it("answers a cancelled re-authentication with access_denied and the state", function()
    local res = S.get(reauth())
    local f, b = S.form_with(res.body, "deny-button")
    res = S.submit(f, b)
    assert.are.equal(302, res.status)
    local q = query_of(res.headers.location)
    assert.are.equal("access_denied", q.error)
    assert.are.equal("0facda3319", q.state)
  end)

  it("requires response_type=vehicle_id (or none): anything else is a configuration_error", function()
    local res = S.get(reauth({ response_type = "code" }))
    assert.are.equal(302, res.status)
    local q = query_of(res.headers.location)
    assert.are.equal("configuration_error", q.error)
    assert.is_nil(q.vehicle_id)
    assert.is_nil(q.code)
    -- none without a redirect URI ends on a completion page
    res = S.get(reauth({ response_type = "none", redirect_uri = false }))
    assert.are.equal(200, res.status)
    res = S.submit(S.form_with(res.body, "sign-in-button"), nil, { username = "a@b.com", password = "p" })
    assert.are.equal(200, res.status)
    assert.truthy(res.body:find(VID, 1, true))
  end)

  it("is what the scripted browser completes", function()
    package.path = "emulator/lua/?.lua;" .. package.path
    local ok, browser = pcall(require, "smartcar_emulator.browser")
    if not ok then return end -- the SDK is not on the path of this run
    local location = assert(browser.connect(S.origin .. reauth(), { email = "driver@example.com" }))
    assert.are.same({ vehicle_id = VID, state = "0facda3319" }, query_of(location))
  end)
end)

describe("the consent page (node-sdk test/end-to-end/helpers/index.js waits for .page-content)", function()
  setup(function() S.reset() end)

  it("has a .page-content element holding the approval button", function()
    local res = to_consent(authorize(), "someone@example.com", "CHEVROLET")
    assert.are.equal(200, res.status)
    local content = res.body:match('<div class="page%-content">(.*)</div>')
    assert.is_string(content)
    assert.truthy(content:find('id="approval-button"', 1, true))
  end)
end)

describe("the mode reaches the grant (smartcar.com/docs/connect/redirect-to-connect `mode`)", function()
  before_each(function() S.reset() end)

  for _, case in ipairs({ { { mode = "test" }, "test" }, { { mode = "simulated" }, "simulated" },
    { { mode = "live" }, "live" }, { { mode = false }, "live" }, { { mode = false, test_mode = "true" }, "test" } }) do
    it("records " .. case[2] .. " for " .. S.encode(case[1]), function()
      local path = authorize(case[1])
      if case[1].test_mode then path = path .. "&test_mode=true" end
      connect(path, "4-vehicles@smartcar.com", "TESLA")
      local res = S.get("/v2.0/management/connections", nil, { authorization = S.basic("default", S.AMT) })
      assert.are.equal(200, res.status)
      for _, c in ipairs(res.json.connections) do assert.are.equal(case[2], c.mode) end
      assert.are.equal(4, #res.json.connections)
    end)
  end
end)
