-- V3 errors (reference §6.1): one shape for every /v3 answer — {"errors": [{status (string), type, code,
-- title, detail, resolution, suggestedUserMessage?, links.about, meta.debug.requestId}]} — for the signal
-- reads of an application token, revoked and unknown tokens, and failing (test-mode error email) vehicles,
-- whose commands fail as v2 fails them, also at the end of a long-running 202.
local S = require "spec.support"
local V = require "spec.v3_support"

-- The whole error body, exactly.
local function assert_body(res, status, item)
  assert.are.equal(status, res.status, res.body)
  assert.truthy((res.headers["content-type"] or ""):find("application/json", 1, true))
  item.status = tostring(status)
  item.links = item.links or { about = "https://smartcar.com/docs/errors/api-errors/v3/" ..
    item.type:lower():gsub("_", "-") .. "-errors" }
  item.meta = { debug = { requestId = res.headers["sc-request-id"] } }
  assert.are.same({ errors = { item } }, res.json)
end

describe("V3 errors for application tokens", function()
  local token, t, vid, uid
  before_each(function()
    S.reset()
    token = V.app_token()
    t = S.token("errors@example.com", nil, { mode = "simulated" })
    vid, uid = t.vehicles[1], t.user_id
  end)
  after_each(function() S.reset() end)

  local function signal(code, user, vehicle)
    return V.call("GET", "/v3/vehicles/" .. (vehicle or vid) .. "/signals/" .. code, token, user or uid)
  end

  it("answers an unknown or inapplicable signal code 404 RESOURCE_NOT_FOUND/SIGNAL_NOT_FOUND (§3.7)", function()
    local res = signal("vin")
    assert_body(res, 404, { type = "RESOURCE_NOT_FOUND", code = "SIGNAL_NOT_FOUND", title = "Not Found",
      detail = "Signal with code vin not found for vehicle with ID " .. vid, resolution = { type = S.null } })
    -- a fuel signal of the BEV: not stored for it either
    V.assert_error(signal("internalcombustionengine-fuellevel"), 404, "RESOURCE_NOT_FOUND", "SIGNAL_NOT_FOUND",
      "Signal with code internalcombustionengine-fuellevel not found for vehicle with ID " .. vid)
  end)

  it("answers an ungranted signal 403 PERMISSION, an unknown path 404 INVALID_PATH, bad paging 400", function()
    local limited = S.token("limited-errors@example.com", "read_odometer", { mode = "simulated" })
    local res = signal("location-preciselocation", limited.user_id, limited.vehicles[1])
    assert_body(res, 403, { type = "PERMISSION", code = "INSUFFICIENT_PERMISSIONS", title = "Forbidden",
      detail = "Your application has insufficient permissions to access the requested resource: read_location " ..
        "was not granted.", resolution = { type = "REAUTHENTICATE" } })
    res = V.call("GET", "/v3/vehicles/" .. vid .. "/odometer", token, uid)
    assert_body(res, 404, { type = "RESOURCE_NOT_FOUND", code = "INVALID_PATH", title = "Not Found",
      detail = "The requested path /v3/vehicles/" .. vid .. "/odometer does not exist.",
      resolution = { type = S.null } })
    V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/signals?page=0", token, uid), 400, "VALIDATION",
      "INVALID_INPUT_FORMAT")
  end)

  it("answers a revoked, an expired and an unknown token 401 AUTHENTICATION/UNAUTHORIZED on every route", function()
    local revoked = V.app_token()
    S.admin_ok("POST", "/_emulator/v3/tokens/revoke", { accessToken = revoked })
    local unauthorized = { type = "AUTHENTICATION", code = "UNAUTHORIZED", title = "Unauthorized",
      detail = "The Authorization token is missing or invalid.", resolution = { type = S.null } }
    for _, path in ipairs({ "/v3/vehicles/" .. vid, "/v3/vehicles/" .. vid .. "/signals",
      "/v3/vehicles/" .. vid .. "/signals/closure-islocked", "/v3/connections" }) do
      for _, bearer in ipairs({ revoked, "sc_unknown", false }) do
        local res = V.call("GET", path, bearer or nil, uid)
        local expected = {}
        for k, v in pairs(unauthorized) do expected[k] = v end
        assert_body(res, 401, expected)
      end
    end
    S.admin_ok("POST", "/_emulator/clock", { advance = 3601 })
    V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/signals", token, uid), 401, "AUTHENTICATION",
      "UNAUTHORIZED")
  end)

  it("answers a failing vehicle's signals with its error, as v2 does", function()
    local e = S.token("UPSTREAM.INVALID_DATA@smartcar.com")
    local res = V.call("GET", "/v3/vehicles/" .. e.vehicles[1] .. "/signals", token, e.user_id)
    local item = V.assert_error(res, 502, "UPSTREAM", "INVALID_DATA")
    assert.are.equal("Bad Gateway", item.title)
    assert.are.equal("RETRY_LATER", item.resolution.type)
    assert.is_string(item.suggestedUserMessage)
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. e.vehicles[1] .. "/odometer", e.access_token), 502, "UPSTREAM",
      "INVALID_DATA")
  end)
end)

describe("V3 commands to failing test-mode vehicles", function()
  local token
  before_each(V.fresh(function(tok) token = tok end))
  after_each(V.reset)

  local function lock(t)
    return V.call("POST", "/v3/vehicles/" .. t.vehicles[1] .. "/commands/security/lock", token, t.user_id)
  end

  it("fails a command to VEHICLE_STATE.ASLEEP@smartcar.com with 409 VEHICLE_STATE/ASLEEP, as v2 does", function()
    local asleep = S.token("VEHICLE_STATE.ASLEEP@smartcar.com")
    assert_body(lock(asleep), 409, { type = "VEHICLE_STATE", code = "ASLEEP", title = "Conflict",
      detail = "The vehicle is in a sleep state and temporarily unable to perform your request.",
      resolution = { type = S.null },
      suggestedUserMessage = "Your vehicle is in a sleep state. This request was not sent to preserve battery life." })
    S.assert_v2_error(S.post("/v2.0/vehicles/" .. asleep.vehicles[1] .. "/security", { action = "LOCK" },
      asleep.access_token), 409, "VEHICLE_STATE", "ASLEEP")
    -- every command, with or without a body
    V.assert_error(V.call("POST", "/v3/vehicles/" .. asleep.vehicles[1] .. "/commands/charge/set-limit", token,
      asleep.user_id, { data = { attributes = { percent = 80 } } }), 409, "VEHICLE_STATE", "ASLEEP")
  end)

  it("carries the re-authentication URL for AUTHENTICATION_FAILED and maps the v1 error emails", function()
    local af = S.token("CONNECTED_SERVICES_ACCOUNT.AUTHENTICATION_FAILED@smartcar.com")
    local e = V.assert_error(lock(af), 400, "CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED")
    assert.are.equal("REAUTHENTICATE", e.resolution.type)
    assert.are.equal(S.origin .. "/oauth/reauthenticate?response_type=vehicle_id&application_id=" .. S.CLIENT_ID ..
      "&vehicle_id=" .. af.vehicles[1], e.resolution.url)
    assert.truthy(e.suggestedUserMessage:find(e.resolution.url, 1, true))
    local doors = S.token("smartcar@vs-001.vehicle-state-error.com")
    V.assert_error(lock(doors), 409, "VEHICLE_STATE", "DOOR_OPEN")
  end)

  it("ends a long-running 202 to a failing vehicle in an errors body (the status inside is the error's)", function()
    S.admin_ok("POST", "/_emulator/v3/config", { commandDelay = 0.6, longRunningThreshold = 0.3 })
    local asleep = S.token("VEHICLE_STATE.ASLEEP@smartcar.com")
    local res = lock(asleep)
    assert.are.equal(202, res.status)
    assert.is_nil(res.headers["content-length"])
    assert.are.equal("chunked", res.headers["transfer-encoding"])
    assert.are.equal(1, #res.json.errors)
    local e = res.json.errors[1]
    assert.are.same({ "409", "VEHICLE_STATE", "ASLEEP", "Conflict" }, { e.status, e.type, e.code, e.title })
    assert.are.equal(res.headers["sc-request-id"], e.meta.debug.requestId)
    -- a test-mode vehicle that does not fail still succeeds and changes nothing
    local ok = S.token("fine-testmode@example.com")
    res = lock(ok)
    assert.are.equal(202, res.status)
    assert.are.same({ value = "SUCCESS" }, res.json.data.attributes.status)
  end)
end)
