-- API V3, the two rows of the reference's endpoint index the rest of the V3 specs do not cover:
-- `GET {v3}/vehicles/{id}/charge-schedules/{scheduleId}` (V3Vehicle:getChargeSchedule, reference 3.9/3.10) and
-- the Management API's `/applications`, `/applications/{id}`, `/applications/{id}/secrets` (reference 3.13,
-- community only: the bodies are the emulator's proposal). Against the emulator over real HTTP: the exact
-- request on the wire (the emulator records it), the exact result fields, an unknown id's 404 in the V3
-- error shape, and every field of each result named in the reference (doc/).
local smartcar = require "smartcar"
local core = require "smartcar.core"
local v3 = require "smartcar.v3"
local H = require "helper"
local cases = require "support.v3_cases"

local LOCATION = { latitude = 37.4292, longitude = -122.1382 }
local ERROR_FIELDS, keys = cases.ERROR_FIELDS, cases.keys

local header = H.header

-- an Application for the demo credentials, or for the API client id and secret given
local function app(id, secret)
  return id and smartcar.Application.new { clientId = id, clientSecret = secret } or H.application()
end

-- The API requests recorded since the last clear (the token requests left out).
local function api_calls()
  local out = {}
  for _, r in ipairs(H.requests()) do
    if r.path:sub(1, 4) == "/v3/" then out[#out + 1] = r end
  end
  return out
end

-- The one API call since the last clear, as `want` {method, path, user}: no query, no body, the app token.
local function one_call(want, token)
  local calls = api_calls()
  assert.are.equal(1, #calls, "API calls")
  local r = calls[1]
  assert.are.same({ want.method, want.path, "", "" }, { r.method, r.path, r.query or "", r.body or "" })
  assert.are.equal("Bearer " .. token, header(r, "authorization"))
  assert.are.equal(want.user, header(r, "sc-user-id"))
  return r
end

-- An SDK error made from a V3 `errors` body: 404 RESOURCE_NOT_FOUND with `code`.
local function not_found(code, res, err)
  assert.is_nil(res)
  assert.are.same(ERROR_FIELDS, keys(err))
  assert.are.same({ "SmartcarError", 404, "RESOURCE_NOT_FOUND", code },
    { err.name, err.statusCode, err.type, err.code })
  assert.are.equal("404", err.errors[1].status)
  assert.are.equal(1, #err.errors)
  assert.are.equal("string", type(err.requestId))
  assert.are.equal(err.errors[1].meta.debug.requestId, err.requestId)
  assert.matches("^https://smartcar.com/docs/errors/api%-errors/v3/", err.docURL)
end

-- Whether a value (walked) holds the string `needle` anywhere, in a key or a value.
local function holds(value, needle)
  if type(value) == "string" then return value:find(needle, 1, true) ~= nil end
  if type(value) ~= "table" then return false end
  for k, v in pairs(value) do
    if holds(k, needle) or holds(v, needle) then return true end
  end
  return false
end

describe("API V3 charge schedule and applications rows, as built", function()
  local cfg = { vehicleOrigin = "https://v.test", managementApiOrigin = "https://m.test", iamOrigin = "https://i.test" }
  local function built(spec, params) return { core.apiRequest(spec, "TOKEN", params, cfg) } end

  it("sends GET .../charge-schedules/{scheduleId} with sc-user-id and no body", function()
    local r = built(v3.vehicle.getChargeSchedule, { vehicleId = "v1", userId = "u1", scheduleId = "sched/1" })
    assert.are.same({ "GET", "https://v.test/v3/vehicles/v1/charge-schedules/sched%2F1", "u1", "Bearer TOKEN" },
      { r[1], r[2], r[3]["sc-user-id"], r[3].authorization })
    assert.is_nil(r[4])
  end)

  it("sends the applications requests to the Management API without sc-user-id", function()
    for _, c in ipairs {
      { v3.application.applications, {}, "https://m.test/v3/applications" },
      { v3.application.getApplication, { applicationId = "a b" }, "https://m.test/v3/applications/a%20b" },
      { v3.application.applicationSecrets, { applicationId = "a/1" }, "https://m.test/v3/applications/a%2F1/secrets" },
    } do
      local r = built(c[1], c[2])
      assert.are.same({ "GET", c[3], "Bearer TOKEN" }, { r[1], r[2], r[3].authorization })
      assert.is_nil(r[3]["sc-user-id"])
      assert.is_nil(r[4])
    end
  end)

  it("checks its arguments", function()
    local a = app()
    assert.has_error(function() a:getApplication(nil) end,
      "bad argument #1 to 'getApplication' (string expected, got nil)")
    assert.has_error(function() a:applicationSecrets("a\nb") end)
    assert.has_error(function() smartcar.Application.applications(42) end,
      "calling 'applications' on bad self (Application expected, got number)")
    local v = a:vehicle("v", "u")
    assert.has_error(function() v:getChargeSchedule("") end)
    assert.has_error(function() v.getChargeSchedule({}, "s") end,
      "calling 'getChargeSchedule' on bad self (V3Vehicle expected, got table)")
  end)
end)

describe("API V3 V3Vehicle:getChargeSchedule", function()
  local a, v, t
  before_each(function()
    H.reset()
    H.configure()
    t = H.token("driver@example.com", nil, "simulated")
    a = app()
    v = a:vehicle(t.vehicles[1], t.user_id)
  end)

  it("reads a created schedule: GET with the app token and sc-user-id, the schedule's fields", function()
    local created = assert(v:createDailyChargeSchedule { location = LOCATION, startTime = "08:00", stopTime = "10:00" })
    H.clear()
    local s = assert(v:getChargeSchedule(created.scheduleId))
    one_call({ method = "GET", path = "/v3/vehicles/" .. t.vehicles[1] .. "/charge-schedules/" .. created.scheduleId,
      user = t.user_id }, a:token())
    assert.are.same({ "createdAt", "id", "meta", "parameters", "scheduleType" }, keys(s))
    assert.are.same({ created.scheduleId, "daily" }, { s.id, s.scheduleType })
    assert.are.same({ location = LOCATION, startTime = "08:00", stopTime = "10:00" }, s.parameters)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", s.createdAt)
    assert.are.same({ "requestId" }, keys(s.meta))
    assert.are.equal("string", type(s.meta.requestId))
  end)

  it("reads a weekly schedule's days as created", function()
    local days = { monday = { startTime = "08:00", stopTime = "10:00" }, sunday = { startTime = "22:30", stopTime = "23:59" } }
    local created = assert(v:createWeeklyChargeSchedule { location = LOCATION, days = days })
    local s = assert(v:getChargeSchedule(created.scheduleId))
    assert.are.same({ "weekly", { location = LOCATION, days = days } }, { s.scheduleType, s.parameters })
  end)

  it("answers an unknown or deleted schedule with nil and the V3 404 (SCHEDULE_NOT_FOUND)", function()
    H.clear()
    local res, err = v:getChargeSchedule("sched_nope")
    one_call({ method = "GET", path = "/v3/vehicles/" .. t.vehicles[1] .. "/charge-schedules/sched_nope",
      user = t.user_id }, a:token())
    not_found("SCHEDULE_NOT_FOUND", res, err)
    local created = assert(v:createDailyChargeSchedule { location = LOCATION, startTime = "01:00", stopTime = "02:00" })
    assert(v:deleteChargeSchedule(created.scheduleId))
    not_found("SCHEDULE_NOT_FOUND", v:getChargeSchedule(created.scheduleId))
  end)
end)

describe("API V3 applications (Management API)", function()
  before_each(function()
    H.reset()
    H.configure()
  end)

  it("lists the token's application: GET /v3/applications with the app token, no sc-user-id", function()
    local a = app()
    local token = a:token()
    H.clear()
    local res = assert(a:applications())
    one_call({ method = "GET", path = "/v3/applications" }, token)
    assert.are.same({ "applications", "meta" }, keys(res))
    assert.are.same({ { id = H.CLIENT_ID, name = "Emulator Demo" } }, res.applications)
    assert.are.same({ "requestId", "totalCount" }, keys(res.meta))
    assert.are.equal(1, res.meta.totalCount)
    assert.are.equal("string", type(res.meta.requestId))
  end)

  it("gets one application by its Application ID; another id is the V3 404 (APPLICATION_NOT_FOUND)", function()
    local a = app()
    local token = a:token()
    H.clear()
    local res = assert(a:getApplication(H.CLIENT_ID))
    one_call({ method = "GET", path = "/v3/applications/" .. H.CLIENT_ID }, token)
    assert.are.same({ "id", "meta", "name" }, keys(res))
    assert.are.same({ H.CLIENT_ID, "Emulator Demo" }, { res.id, res.name })
    assert.are.same({ "requestId" }, keys(res.meta))
    H.clear()
    local r, err = a:getApplication("00000000-0000-4000-8000-000000000000")
    one_call({ method = "GET", path = "/v3/applications/00000000-0000-4000-8000-000000000000" }, token)
    not_found("APPLICATION_NOT_FOUND", r, err)
    -- the API client id is not the Application ID
    not_found("APPLICATION_NOT_FOUND", a:getApplication(H.API_CLIENT_ID))
  end)

  it("lists an application's secrets without their values", function()
    local a = app()
    local token = a:token()
    local added, status = H.admin("POST", "/_emulator/v3/credentials", { clientId = "client_extra_one",
      clientSecret = "second-secret-value" })
    assert.are.equal(200, status, added and added.error)
    H.admin("POST", "/_emulator/v3/credentials", { clientId = H.API_CLIENT_ID, clientSecret = "rotated-secret-value" })
    H.clear()
    local res = assert(a:applicationSecrets(H.CLIENT_ID))
    one_call({ method = "GET", path = "/v3/applications/" .. H.CLIENT_ID .. "/secrets" }, token)
    assert.are.same({ "meta", "secrets" }, keys(res))
    assert.are.same({ "requestId", "totalCount" }, keys(res.meta))
    assert.are.equal(3, res.meta.totalCount)
    local clients, ids = {}, {}
    for i, s in ipairs(res.secrets) do
      assert.are.same({ "clientId", "id" }, keys(s))
      clients[i], ids[s.id] = s.clientId, true
    end
    assert.are.same({ H.API_CLIENT_ID, H.API_CLIENT_ID, "client_extra_one" }, clients)
    assert.are.equal(3, #keys(ids), "distinct secret ids")
    for _, secret in ipairs { H.API_CLIENT_SECRET, "second-secret-value", "rotated-secret-value", "secret-value" } do
      assert.is_false(holds(res, secret), secret)
    end
    -- not even in the raw body on the wire
    local body = H.http("GET", H.origin .. "/v3/applications/" .. H.CLIENT_ID .. "/secrets",
      { authorization = "Bearer " .. token }).body
    assert.is_nil(body:find("secret-value", 1, true))
    assert.is_nil(body:find(H.API_CLIENT_SECRET, 1, true))
    not_found("APPLICATION_NOT_FOUND", a:applicationSecrets("00000000-0000-4000-8000-000000000000"))
  end)

  it("shows an application registered with its own API credentials to its tokens only", function()
    local id = "6f1c2b7e-0d3a-4c5b-9e8f-1a2b3c4d5e6f"
    local _, status = H.admin("POST", "/_emulator/apps", { clientId = id, clientSecret = "v2-secret", name = "Fleet Two" })
    assert.are.equal(200, status)
    _, status = H.admin("POST", "/_emulator/v3/credentials", { applicationId = id, clientId = "client_fleet_two",
      clientSecret = "fleet-two-secret" })
    assert.are.equal(200, status)
    local other = app("client_fleet_two", "fleet-two-secret")
    assert.are.same({ { id = id, name = "Fleet Two" } }, assert(other:applications()).applications)
    assert.are.same({ id, "Fleet Two" }, { assert(other:getApplication(id)).id, assert(other:getApplication(id)).name })
    local secrets = assert(other:applicationSecrets(id)).secrets
    assert.are.same({ { "clientId", "id" }, "client_fleet_two" }, { keys(secrets[1]), secrets[1].clientId })
    assert.are.equal(1, #secrets)
    not_found("APPLICATION_NOT_FOUND", other:getApplication(H.CLIENT_ID))
    not_found("APPLICATION_NOT_FOUND", other:applicationSecrets(H.CLIENT_ID))
    local demo = app()
    assert.are.same({ { id = H.CLIENT_ID, name = "Emulator Demo" } }, assert(demo:applications()).applications)
    not_found("APPLICATION_NOT_FOUND", demo:getApplication(id))
  end)
end)

describe("API V3 charge schedule and applications in the reference (doc/)", function()
  local coverage = assert(loadfile("scripts/doc-coverage.lua"))("library")

  -- The fields of a result as {path, name}; a list: the keys of its elements.
  local function fields(value, path, out)
    out = out or {}
    if type(value) ~= "table" then return out end
    for k, item in pairs(value) do
      if type(k) == "string" then
        local p = path and path .. "." .. k or k
        out[#out + 1] = { p, k }
        fields(item, p, out)
      else
        fields(item, path, out)
      end
    end
    return out
  end

  it("names every field of every result in the section of its method", function()
    local docs = coverage.load()
    if not docs then
      os.execute("mkdir -p build/ldoc")
      local f = assert(io.open("build/ldoc/vehicle_endpoints.lua", "w"))
      f:write(assert(loadfile("scripts/endpoint-docs.lua"))("text"))
      f:close()
      os.execute("ldoc -c config.ld . > build/ldoc/log 2>&1")
      docs = assert(coverage.load())
    end
    H.reset()
    H.configure()
    local t = H.token("driver@example.com", nil, "simulated")
    local a = app()
    local v = a:vehicle(t.vehicles[1], t.user_id)
    local created = assert(v:createWorkweekChargeSchedule { location = LOCATION,
      weekdays = { startTime = "01:00", stopTime = "05:00" }, weekends = { startTime = "00:00", stopTime = "06:00" } })
    local results = {
      { "V3Vehicle:getChargeSchedule", assert(v:getChargeSchedule(created.scheduleId)) },
      { "Application:applications", assert(a:applications()) },
      { "Application:getApplication", assert(a:getApplication(H.CLIENT_ID)) },
      { "Application:applicationSecrets", assert(a:applicationSecrets(H.CLIENT_ID)) },
    }
    local undocumented, checked = {}, 0
    for _, r in ipairs(results) do
      assert.is_truthy(docs:section(r[1]), "no entry " .. r[1])
      for _, f in ipairs(fields(r[2])) do
        checked = checked + 1
        if not docs:documents(r[1], f[2]) then undocumented[#undocumented + 1] = r[1] .. ": " .. f[1] end
      end
    end
    table.sort(undocumented)
    assert.are.same({}, undocumented)
    assert.is_true(checked >= 20, "fields checked: " .. checked)
    for _, name in ipairs { "V3ApplicationInfo", "V3ApplicationSecret" } do
      assert.is_truthy(docs:section(name), "no entry " .. name)
    end
  end)
end)
