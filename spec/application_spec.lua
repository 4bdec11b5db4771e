-- API V3 (API.md "Smartcar API V3"; reference/smartcar-api-v3.md): the Application, its token, connections,
-- vehicles, commands, webhooks and subscriptions, against the emulator over real HTTP: the exact request on
-- the wire (the emulator records it) and the exact result and error fields. The wire-only checks (the
-- token request, the builder's rows, the error mapping of the parser) need no V3 route; the rest waits
-- for the emulator's V3 services (each `it` says which route when they are not there).
local smartcar = require "smartcar"
local core = require "smartcar.core"
local v3 = require "smartcar.v3"
local H = require "helper"
local socket = require "socket"

local FORM = "application/x-www-form-urlencoded"

-- Whether the emulator serves the V3 token endpoint (and so the V3 services).
local READY
local function ready()
  if READY == nil then
    local res = H.http("POST", H.origin .. "/oauth2/token", { ["content-type"] = FORM },
      "grant_type=client_credentials&client_id=" .. H.API_CLIENT_ID .. "&client_secret=" .. H.API_CLIENT_SECRET)
    READY = res ~= nil and res.status == 200
  end
  return READY
end

ready() -- before any spec: the probe's own token request is not theirs

local function needs(route)
  if ready() then return false end
  pending("waits on the emulator: " .. route)
  return true
end

local app, header, collect = H.application, H.header, H.collect

-- The recorded requests whose path starts with `prefix`.
local function sent(prefix)
  local out = {}
  for _, r in ipairs(H.requests()) do
    if r.path:sub(1, #prefix) == prefix then out[#out + 1] = r end
  end
  return out
end

local function sign(body) return smartcar.hashChallenge(H.AMT, body) end

describe("API V3 configuration", function()
  it("has the IAM and Management API v3 origins, set by origin too", function()
    local c = smartcar.new({}).getConfig()
    assert.are.equal("https://iam.smartcar.com", c.iamOrigin)
    assert.are.equal("https://management.api.smartcar.com", c.managementApiOrigin)
    c = smartcar.new({ origin = "http://127.0.0.1:1" }).getConfig()
    assert.are.equal("http://127.0.0.1:1", c.iamOrigin)
    assert.are.equal("http://127.0.0.1:1", c.managementApiOrigin)
    assert.has_error(function() smartcar.new { iamOrigin = "ftp://x" } end)
  end)

  it("reads SMARTCAR_IAM_ORIGIN and SMARTCAR_MANAGEMENT_API_V3_ORIGIN", function()
    local interpreter = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
    local code = ("package.path = %q; package.cpath = %q; local c = require('smartcar').getConfig() " ..
      "io.write(c.iamOrigin, ' ', c.managementApiOrigin)"):format(package.path, package.cpath)
    local p = assert(io.popen(("SMARTCAR_IAM_ORIGIN=http://iam.test SMARTCAR_MANAGEMENT_API_V3_ORIGIN=http://mgmt.test " ..
      "%s -e %q"):format(interpreter, code)))
    local out = p:read("*a")
    p:close()
    assert.are.equal("http://iam.test http://mgmt.test", out)
  end)
end)

describe("Application.new", function()
  it("keeps the secret out of every field and of tostring", function()
    local a = app()
    assert.are.equal(H.API_CLIENT_ID, a.clientId)
    assert.is_nil(a.clientSecret)
    assert.is_nil(tostring(a):find(H.API_CLIENT_SECRET, 1, true))
    assert.are.equal("Application (" .. H.API_CLIENT_ID .. ")", tostring(a))
    for k, v in pairs(a) do assert.is_nil(tostring(v):find(H.API_CLIENT_SECRET, 1, true), k) end
  end)

  it("raises on a missing credential, an unknown option or a bad commandTimeout", function()
    assert.has_error(function() smartcar.Application.new { clientId = "client_x" } end,
      "bad option 'clientSecret' to 'Application.new' (missing: pass options.clientSecret or set SMARTCAR_API_CLIENT_SECRET)")
    assert.has_error(function() smartcar.Application.new { clientId = "client_x", clientSecret = "s", scope = "x" } end,
      "unknown option 'scope' to 'Application.new'")
    assert.has_error(function() smartcar.Application.new { clientId = "a\nb", clientSecret = "s" } end)
    assert.has_error(function() app { commandTimeout = 0 } end)
  end)

  it("blames the caller for a bad self and bad arguments", function()
    local a = app()
    assert.has_error(function() a.token({}) end, "calling 'token' on bad self (Application expected, got table)")
    assert.has_error(function() a:getConnection(nil) end,
      "bad argument #1 to 'getConnection' (string expected, got nil)")
    assert.has_error(function() a:vehicle("v") end, "bad argument #2 to 'vehicle' (string expected, got nil)")
    assert.has_error(function() a:eachConnection { mode = "test" } end)
    assert.has_error(function() a:eachConnection { pageSize = 101 } end)
    assert.has_error(function() a:eachSubscription { webhook = "x" } end, "unknown option 'webhook' to 'eachSubscription'")
    local v = a:vehicle("vid", "uid")
    assert.are.same({ "vid", "uid" }, { v.id, v.userId })
    for _, bad in ipairs { 49, 101, 80.5, "80", 0 / 0 } do
      assert.has_error(function() v:setChargeLimit(bad) end)
    end
    assert.has_error(function() v:setDestination(91, 0) end,
      "bad argument #1 to 'setDestination' (latitude must be between -90 and 90, got 91)")
    assert.has_error(function() v:setDestination(0, -181) end,
      "bad argument #2 to 'setDestination' (longitude must be between -180 and 180, got -181)")
    assert.has_error(function() v.lock({}) end, "calling 'lock' on bad self (V3Vehicle expected, got table)")
  end)

  it("checks a charge schedule field by field before anything is sent", function()
    local v = app():vehicle("vid", "uid")
    local here = { latitude = 37.4292, longitude = -122.1382 }
    local E = "bad argument #1 to 'createDailyChargeSchedule' ("
    assert.has_error(function() v:createDailyChargeSchedule() end, E .. "table expected, got nil)")
    assert.has_error(function() v:createDailyChargeSchedule { location = here, startTime = "8:00", stopTime = "10:00" } end,
      E .. "startTime: a time HH:mm (00:00..23:59) expected, got '8:00')")
    assert.has_error(function() v:createDailyChargeSchedule { location = here, startTime = "08:00", stopTime = "24:00" } end,
      E .. "stopTime: a time HH:mm (00:00..23:59) expected, got '24:00')")
    assert.has_error(function()
      v:createDailyChargeSchedule { location = { latitude = 91, longitude = 0 }, startTime = "08:00", stopTime = "10:00" }
    end, E .. "location.latitude: a number from -90 to 90 expected, got 91)")
    assert.has_error(function() v:createDailyChargeSchedule { startTime = "08:00", stopTime = "10:00" } end,
      E .. "location: a table {latitude, longitude} expected, got nil)")
    assert.has_error(function()
      v:createDailyChargeSchedule { location = here, startTime = "08:00", stopTime = "10:00", days = {} }
    end, E .. "unknown field 'days')")
    assert.has_error(function() v:createWeeklyChargeSchedule { location = here, days = {} } end,
      "bad argument #1 to 'createWeeklyChargeSchedule' (days: a table of weekday name -> {startTime, stopTime} expected)")
    assert.has_error(function()
      v:createWeeklyChargeSchedule { location = here, days = { someday = { startTime = "08:00", stopTime = "09:00" } } }
    end, "bad argument #1 to 'createWeeklyChargeSchedule' (days: unknown weekday 'someday')")
    assert.has_error(function()
      v:createWeeklyChargeSchedule { location = here, days = { monday = { startTime = "08:00" } } }
    end, "bad argument #1 to 'createWeeklyChargeSchedule' (days.monday.stopTime: a time HH:mm (00:00..23:59) " ..
      "expected, got nil)")
    assert.has_error(function() v:createWorkweekChargeSchedule { location = here } end,
      "bad argument #1 to 'createWorkweekChargeSchedule' (weekdays or weekends expected)")
    assert.has_error(function()
      v:createWorkweekChargeSchedule { location = here, weekends = { startTime = "01:00", stopTime = "02:00", x = 1 } }
    end, "bad argument #1 to 'createWorkweekChargeSchedule' (weekends: unknown field 'x')")
    assert.has_error(function() v:deleteChargeSchedule("") end)
    assert.has_error(function() v.deleteChargeSchedule({}, "s") end,
      "calling 'deleteChargeSchedule' on bad self (V3Vehicle expected, got table)")
  end)
end)

describe("API V3 requests, as built", function()
  local cfg = { vehicleOrigin = "https://v.test", managementApiOrigin = "https://m.test", iamOrigin = "https://i.test" }
  local function built(spec, params)
    return { core.apiRequest(spec, "TOKEN", params, cfg) }
  end

  it("builds every vehicle row with the bearer token, sc-user-id where the API wants it, JSON:API bodies", function()
    local r = built(v3.vehicle.attributes, { vehicleId = "a b/c" })
    assert.are.same({ "GET", "https://v.test/v3/vehicles/a%20b%2Fc" }, { r[1], r[2] })
    assert.is_nil(r[3]["sc-user-id"])
    assert.are.equal("Bearer TOKEN", r[3].authorization)
    r = built(v3.vehicle.signal, { vehicleId = "v1", userId = "u1", code = "charge-voltage" })
    assert.are.same({ "GET", "https://v.test/v3/vehicles/v1/signals/charge-voltage", "u1" }, { r[1], r[2], r[3]["sc-user-id"] })
    r = built(v3.vehicle.signals, { vehicleId = "v1", userId = "u1", page = 2, pageSize = 10 })
    assert.are.equal("https://v.test/v3/vehicles/v1/signals?page=2&pageSize=10", r[2])
    local paths = {
      lock = "security/lock", unlock = "security/unlock", startCharge = "charge/start", stopCharge = "charge/stop",
      openChargePort = "charge-port/open", closeChargePort = "charge-port/close", setChargeLimit = "charge/set-limit",
      setDestination = "navigation/set-destination",
    }
    for name, path in pairs(paths) do
      r = built(v3.vehicle[name], { vehicleId = "v1", userId = "u1" })
      assert.are.same({ "POST", "https://v.test/v3/vehicles/v1/commands/" .. path, "u1", "Bearer TOKEN" },
        { r[1], r[2], r[3]["sc-user-id"], r[3].authorization }, name)
      assert.is_nil(r[4], name)
    end
    for name, path in pairs { createDailyChargeSchedule = "daily", createWeeklyChargeSchedule = "weekly",
      createWorkweekChargeSchedule = "workweek" } do
      r = built(v3.vehicle[name], { vehicleId = "v1", userId = "u1" })
      assert.are.same({ "POST", "https://v.test/v3/vehicles/v1/charge-schedules/" .. path, "u1", "Bearer TOKEN" },
        { r[1], r[2], r[3]["sc-user-id"], r[3].authorization }, name)
    end
    r = built(v3.vehicle.deleteChargeSchedule, { vehicleId = "v1", userId = "u1", scheduleId = "sched/1" })
    assert.are.same({ "DELETE", "https://v.test/v3/vehicles/v1/charge-schedules/sched%2F1", "u1", "Bearer TOKEN" },
      { r[1], r[2], r[3]["sc-user-id"], r[3].authorization })
    assert.is_nil(r[4])
    r = built(v3.application.getSubscription, { subscriptionId = "s1" })
    assert.are.same({ "GET", "https://m.test/v3/subscriptions/s1" }, { r[1], r[2] })
    assert.is_nil(r[3]["sc-user-id"])
    r = built(v3.vehicle.setChargeLimit, { vehicleId = "v1", userId = "u1", body = { data = { attributes = { percent = 80 } } } })
    assert.are.same({ '{"data":{"attributes":{"percent":80}}}', "application/json" }, { r[4], r[3]["content-type"] })
  end)

  it("refuses a line break in sc-user-id and escapes every path argument", function()
    assert.has_error(function() built(v3.vehicle.lock, { vehicleId = "v1", userId = "u\r\nX: 1" }) end)
    local r = built(v3.application.deleteUser, { userId = "u?x=1#" })
    assert.are.same({ "DELETE", "https://v.test/v3/users/u%3Fx%3D1%23" }, { r[1], r[2] })
    r = built(v3.application.unsubscribe, { subscriptionId = "s1" })
    assert.are.same({ "DELETE", "https://m.test/v3/subscriptions/s1" }, { r[1], r[2] })
  end)

  it("builds the list queries with JSON:API's encoded brackets, in order", function()
    local r = built(v3.lists.connections, { ["filter%5BuserId%5D"] = "u 1", ["filter%5Bvehicle.mode%5D"] = "simulated",
      ["page%5Bnumber%5D"] = 2, ["page%5Bsize%5D"] = 5 })
    assert.are.equal("https://v.test/v3/connections?filter%5BuserId%5D=u%201&filter%5Bvehicle.mode%5D=simulated" ..
      "&page%5Bnumber%5D=2&page%5Bsize%5D=5", r[2])
  end)

  it("builds the client-credentials grant: a form body, no Authorization", function()
    local r = built(v3.token, { grant_type = "client_credentials", client_id = "client_a", client_secret = "s&=+ x" })
    assert.are.same({ "POST", "https://i.test/oauth2/token", FORM }, { r[1], r[2], r[3]["content-type"] })
    assert.is_nil(r[3].authorization)
    assert.are.equal("grant_type=client_credentials&client_id=client_a&client_secret=s%26%3D%2B%20x", r[4])
  end)
end)

describe("API V3 errors", function()
  local BODY = '{"errors":[{"status":"404","type":"RESOURCE_NOT_FOUND","code":"VEHICLE_NOT_FOUND","title":"Not Found",' ..
    '"detail":"Vehicle with ID v1 not found","resolution":{"type":null},"suggestedUserMessage":"Try again.",' ..
    '"links":{"about":"https://smartcar.com/docs/errors/api-errors/v3/resource-not-found-errors"},' ..
    '"meta":{"debug":{"requestId":"rid-body"}}},{"status":"404","type":"X","code":"Y"}]}'

  it("maps errors[1] with every field, and keeps the list", function()
    local res, err = core.parse(core.V3, 404, { ["sc-request-id"] = "rid-header", ["retry-after"] = "7" }, BODY)
    assert.is_nil(res)
    assert.is_true(smartcar.SmartcarError.is(err))
    assert.are.same({ "SmartcarError", 404, "RESOURCE_NOT_FOUND", "VEHICLE_NOT_FOUND", "Not Found",
      "Vehicle with ID v1 not found", "https://smartcar.com/docs/errors/api-errors/v3/resource-not-found-errors",
      "Try again.", "rid-body", 7, "RESOURCE_NOT_FOUND:VEHICLE_NOT_FOUND - Vehicle with ID v1 not found" },
      { err.name, err.statusCode, err.type, err.code, err.title, err.description, err.docURL, err.suggestedUserMessage,
        err.requestId, err.retryAfter, err.message })
    assert.are.same({}, err.resolution)
    assert.are.equal(2, #err.errors)
    assert.are.equal("Y", err.errors[2].code)
  end)

  it("judges a long-running command (202) by its body: an errors list is an error with the body's status", function()
    local res, err = core.parse(core.V3, 202, { ["sc-request-id"] = "rid" },
      '{"errors":[{"status":"409","type":"VEHICLE_STATE","code":"ASLEEP","title":"Conflict","detail":"asleep"}]}')
    assert.is_nil(res)
    assert.are.same({ 409, "VEHICLE_STATE", "ASLEEP", "asleep", "rid" },
      { err.statusCode, err.type, err.code, err.description, err.requestId })
    res = core.parse(core.V3, 202, {}, '{"data":{"id":"exec_1"}}')
    assert.are.equal("exec_1", res.body.data.id)
  end)

  it("redacts the client secret of a JSON token body and the application token", function()
    local redact = require "smartcar.redact"
    local err = redact({ description = "echo: topsecret1 and Bearer apptoken9" }, { authorization = "Bearer apptoken9" },
      '{"client_id":"client_a","client_secret":"topsecret1","grant_type":"client_credentials"}')
    assert.are.equal("echo: [REDACTED] and [REDACTED]", err.description)
  end)
end)

describe("Connect for API V3", function()
  it("sends externalId as external_id, and parseCallback reads user_id", function()
    local client = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
      redirectUri = H.REDIRECT_URI }
    local url = client:getAuthUrl({ "read_odometer" }, { externalId = "owner 42", state = "s" })
    assert.are.equal("&state=s&external_id=owner%2042&mode=live", url:sub(-#"&state=s&external_id=owner%2042&mode=live"))
    assert.has_error(function() client:getAuthUrl { externalId = 42 } end)
    local cb = smartcar.parseCallback("https://example.com/cb?user_id=725146a3&state=s&external_id=owner%2042")
    assert.are.same({ userId = "725146a3", state = "s" }, cb)
  end)
end)

describe("parseWebhook and webhookChallenge", function()
  local VERIFY = '{"eventId":"e-1","eventType":"VERIFY","data":{"challenge":"2b3c"},"meta":{"version":"4.0",' ..
    '"webhookId":"w-1","webhookName":"Example","deliveryId":"d-1","deliveredAt":"2025-07-31T19:38:42.332Z"}}'
  local STATE = '{"eventId":"e-2","eventType":"VEHICLE_STATE","vehicleId":"v-1","data":{"user":{"id":"u-1"},' ..
    '"vehicle":{"id":"v-1","make":"TESLA","model":"Model 3","year":2020},"signals":[' ..
    '{"code":"tractionbattery-stateofcharge","name":"StateOfCharge","group":"TractionBattery",' ..
    '"body":{"unit":"percent","value":75},"status":{"value":"SUCCESS"},' ..
    '"meta":{"retrievedAt":1758668712404,"oemUpdatedAt":1758668712000}},' ..
    '{"code":"location-isathome","name":"IsAtHome","group":"Location","status":{"value":"ERROR",' ..
    '"error":{"type":"COMPATIBILITY","code":"VEHICLE_NOT_CAPABLE"}}}]},' ..
    '"triggers":[{"type":"SIGNAL_UPDATED","signal":{"code":"tractionbattery-stateofcharge","name":"StateOfCharge",' ..
    '"group":"TractionBattery"}},{"type":"FIRST_DELIVERY"}],' ..
    '"meta":{"version":"4.0","deliveryId":"d-2","deliveredAt":1761896351529,"webhookId":"w-1",' ..
    '"webhookName":"Battery","signalCount":2,"mode":"LIVE"}}'
  local ERROR = '{"eventId":"e-3","eventType":"VEHICLE_ERROR","vehicleId":"v-1","data":{"user":{"id":"u-1"},' ..
    '"vehicle":{"id":"v-1","make":"TESLA","model":"Model 3","year":2020},"errors":[{"type":"COMPATIBILITY",' ..
    '"code":"VEHICLE_NOT_CAPABLE","state":"ERROR","description":"d","signals":[{"code":"location-preciselocation"}]}]},' ..
    '"meta":{"version":"4.0","deliveredAt":1761896351529,"mode":"TEST"}}'

  it("decodes VERIFY and answers its challenge", function()
    local event = assert(smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sign(VERIFY) }, VERIFY))
    assert.are.same({ "VERIFY", "e-1", "2b3c", "w-1", "2025-07-31T19:38:42.332Z" },
      { event.type, event.id, event.challenge, event.meta.webhookId, event.meta.deliveredAt })
    assert.are.equal("VERIFY", event.raw.eventType)
    assert.are.equal('{"challenge":"' .. smartcar.hashChallenge(H.AMT, "2b3c") .. '"}',
      smartcar.webhookChallenge(H.AMT, event))
    assert.are.equal(smartcar.webhookChallenge(H.AMT, event), smartcar.webhookChallenge(H.AMT, "2b3c"))
  end)

  it("decodes VEHICLE_STATE: user, vehicle, signals by code, triggers in one form", function()
    local event = assert(smartcar.parseWebhook(H.AMT, { ["sc-signature"] = sign(STATE):upper() }, STATE))
    assert.are.same({ "VEHICLE_STATE", "e-2", "v-1", "u-1", "TESLA", 2020, true, 1761896351.529, "LIVE", 2 },
      { event.type, event.id, event.vehicleId, event.user.id, event.vehicle.make, event.vehicle.year,
        event.firstDelivery, event.meta.deliveredAt, event.meta.mode, event.meta.signalCount })
    local soc = event.signals["tractionbattery-stateofcharge"]
    assert.are.same({ "StateOfCharge", "TractionBattery", "SUCCESS", 75, "percent", 1758668712.404, 1758668712 },
      { soc.name, soc.group, soc.status, soc.value, soc.unit, soc.retrievedAt, soc.oemUpdatedAt })
    local home = event.signals["location-isathome"]
    assert.are.same({ "ERROR", "COMPATIBILITY", "VEHICLE_NOT_CAPABLE" }, { home.status, home.error.type, home.error.code })
    assert.are.same({
      { type = "SIGNAL_UPDATED", code = "tractionbattery-stateofcharge", name = "StateOfCharge", group = "TractionBattery" },
      { type = "FIRST_DELIVERY" },
    }, event.triggers)
  end)

  it("reads triggers inside data and in the {code} form too", function()
    local body = '{"eventType":"VEHICLE_STATE","data":{"triggers":[{"code":"charge-ischarging","name":"IsCharging",' ..
      '"group":"Charge"},{"code":"FIRST_DELIVERY"}]}}'
    local event = assert(smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = { sign(body) } }, body))
    assert.are.same({ { type = "SIGNAL_UPDATED", code = "charge-ischarging", name = "IsCharging", group = "Charge" },
      { type = "FIRST_DELIVERY" } }, event.triggers)
    assert.is_true(event.firstDelivery)
  end)

  it("decodes VEHICLE_ERROR, passes unknown types and v2 challenges through", function()
    local event = assert(smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sign(ERROR) }, ERROR))
    assert.are.same({ "VEHICLE_ERROR", "COMPATIBILITY", "ERROR", "location-preciselocation", "TEST" },
      { event.type, event.errors[1].type, event.errors[1].state, event.errors[1].signals[1].code, event.meta.mode })
    local other = '{"eventType":"VEHICLE_CONNECTION_STATUS","eventId":"e-9","data":{"x":1}}'
    event = assert(smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sign(other) }, other))
    assert.are.same({ "VEHICLE_CONNECTION_STATUS", "e-9", 1 }, { event.type, event.id, event.raw.data.x })
    local v2 = '{"version":"2.0","webhookId":"w","eventName":"verify","payload":{"challenge":"c2"}}'
    event = assert(smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sign(v2) }, v2))
    assert.are.same({ "VERIFY", "c2" }, { event.type, event.challenge })
  end)

  it("refuses a missing or wrong signature, and a body that is not an object", function()
    local event, err = smartcar.parseWebhook(H.AMT, {}, VERIFY)
    local _
    assert.is_nil(event)
    assert.are.same({ "SDK_ERROR", "INVALID_SIGNATURE", 401 }, { err.type, err.code, err.statusCode })
    _, err = smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sign(VERIFY) }, VERIFY .. " ")
    assert.are.same({ "INVALID_SIGNATURE", "The SC-Signature header does not match the body" }, { err.code, err.description })
    _, err = smartcar.parseWebhook("another-amt", { ["SC-Signature"] = sign(VERIFY) }, VERIFY)
    assert.are.equal("INVALID_SIGNATURE", err.code)
    for _, body in ipairs { "[1]", "[]", "not json", '"a string"', '{"eventType":"VERIFY","data":{}}',
      '{"eventType":"VERIFY","data":{"challenge":""}}', '{"eventName":"verify","payload":{"challenge":{}}}' } do
      event, err = smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sign(body) }, body)
      assert.is_nil(event, body)
      assert.are.same({ "INVALID_PAYLOAD", 400 }, { err.code, err.statusCode }, body)
    end
    -- two spellings of the header that disagree: refused, whichever a table walk meets first
    for _ = 1, 20 do
      event, err = smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sign(VERIFY), ["sc-signature"] = ("0"):rep(64),
        ["Sc-Signature"] = sign(VERIFY) }, VERIFY)
      assert.is_nil(event)
      assert.are.equal("INVALID_SIGNATURE", err.code)
    end
    -- agreeing ones are one header
    assert(smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sign(VERIFY), ["sc-signature"] = sign(VERIFY) }, VERIFY))
  end)

  it("raises on bad arguments", function()
    assert.has_error(function() smartcar.parseWebhook(H.AMT, nil, "{}") end,
      "bad argument #2 to 'parseWebhook' (table expected, got nil)")
    assert.has_error(function() smartcar.parseWebhook(H.AMT, {}, {}) end,
      "bad argument #3 to 'parseWebhook' (string expected, got table)")
    assert.has_error(function() smartcar.webhookChallenge(H.AMT, { type = "VEHICLE_STATE" }) end,
      "bad argument #2 to 'webhookChallenge' (a VERIFY event expected, got 'VEHICLE_STATE')")
    assert.has_error(function() smartcar.webhookChallenge(H.AMT, { type = "VERIFY" }) end)
  end)
end)

describe("Application:token", function()
  before_each(function()
    H.reset()
    H.clear()
  end)

  it("sends the client-credentials grant exactly, once, and caches the token", function()
    local a = app()
    local tok, err = a:token()
    local reqs = sent("/oauth2/token")
    assert.are.equal(1, #reqs)
    local r = reqs[1]
    assert.are.same({ "POST", "", FORM },
      { r.method, r.query, header(r, "content-type") })
    assert.is_nil(header(r, "authorization"))
    assert.are.same({ grant_type = "client_credentials", client_id = H.API_CLIENT_ID, client_secret = H.API_CLIENT_SECRET },
      H.form(r.body))
    assert.are.equal("grant_type=client_credentials&client_id=" .. H.API_CLIENT_ID .. "&client_secret=" ..
      H.API_CLIENT_SECRET, r.body)
    if needs("POST /oauth2/token") then return end
    assert.is_nil(err)
    assert.are.equal("string", type(tok))
    assert.are.equal(tok, a:token())
    assert.are.equal(1, #sent("/oauth2/token"))
  end)

  it("is fetched once for 50 concurrent calls (smartcar.all)", function()
    if needs("POST /oauth2/token") then return end
    local a = app()
    local tasks = {}
    for i = 1, 50 do tasks[i] = function() return a:token() end end
    local values, errors = smartcar.all(tasks)
    for i = 1, 50 do
      assert.is_nil(errors[i])
      assert.are.equal(values[1], values[i])
    end
    assert.are.equal(1, #sent("/oauth2/token"))
  end)

  it("is fetched once for tasks of a host's loop, and the waiters share a failed fetch's error", function()
    if needs("POST /oauth2/token") then return end
    local a = app()
    local loop = smartcar.loop()
    local jobs = {}
    for i = 1, 5 do jobs[i] = loop:run(function() return a:token() end) end
    while loop:pending() > 0 do loop:step(10) end
    for i = 1, 5 do assert.are.equal((jobs[1]:result()), (jobs[i]:result())) end
    assert.are.equal(1, #sent("/oauth2/token"))
    H.clear()
    local bad = app { clientSecret = "not-the-secret" }
    local values, errors = smartcar.all { function() return bad:token() end, function() return bad:token() end }
    assert.are.same({}, values)
    assert.are.same({ "invalid_client", "invalid_client" }, { errors[1].type, errors[2].type })
    assert.are.equal(1, #sent("/oauth2/token"))
  end)

  it("returns invalid_client for a wrong secret, and never shows the secret", function()
    if needs("POST /oauth2/token") then return end
    local a = app { clientSecret = "wrong-secret-value" }
    local tok, err = a:token()
    assert.is_nil(tok)
    assert.are.same({ 401, "invalid_client" }, { err.statusCode, err.type })
    for _, v in pairs(err) do assert.is_nil(tostring(v):find("wrong-secret-value", 1, true)) end
  end)
end)

describe("Application, against the emulator's V3 services", function()
  local a, t

  before_each(function()
    H.reset()
    a = app()
    t = H.token("driver@example.com")
    H.clear()
  end)

  -- The vehicle API calls of this file, made with the token of one fetch.
  local function only(prefix)
    local list = sent(prefix)
    assert.are.equal(1, #list, prefix)
    return list[1]
  end

  it("lists connections page by page with the exact query", function()
    if needs("GET /v3/connections") then return end
    H.admin("POST", "/_emulator/connections", { count = 5, userId = t.user_id })
    H.clear()
    local list, err = collect(a:eachConnection { userId = t.user_id, pageSize = 2, mode = "live" })
    assert.is_nil(err)
    assert.is_true(#list >= 5)
    local reqs = sent("/v3/connections")
    assert.are.equal(math.ceil(#list / 2), #reqs)
    assert.are.equal("filter%5BuserId%5D=" .. t.user_id .. "&filter%5Bvehicle.mode%5D=live&page%5Bnumber%5D=1" ..
      "&page%5Bsize%5D=2", reqs[1].query)
    assert.are.equal("Bearer " .. assert(a:token()), header(reqs[1], "authorization"))
    local c = list[1]
    assert.are.equal(t.user_id, c.userId)
    assert.are.same({ "string", "string", "table", "table", "string" },
      { type(c.id), type(c.vehicleId), type(c.permissions), type(c.vehicle), type(c.createdAt) })
    local one = assert(a:getConnection(c.id))
    assert.are.same({ c.id, c.vehicleId, c.userId }, { one.id, one.vehicleId, one.userId })
    assert.are.equal("string", type(one.meta.requestId))
  end)

  it("deletes a connection and a user (204: {meta})", function()
    if needs("DELETE /v3/connections/{id}, DELETE /v3/users/{id}") then return end
    local list = assert(collect(a:eachConnection { userId = t.user_id, mode = "simulated" }))
    assert.is_true(#list > 0)
    H.clear()
    local res = assert(a:deleteConnection(list[1].id))
    assert.are.equal("string", type(res.meta.requestId))
    assert.are.equal("DELETE", only("/v3/connections/").method)
    local _, err = a:getConnection(list[1].id)
    assert.are.same({ 404, "RESOURCE_NOT_FOUND" }, { err.statusCode, err.type })
    res = assert(a:deleteUser(t.user_id))
    assert.are.equal("/v3/users/" .. t.user_id, only("/v3/users/").path)
    assert.is_table(res.meta)
  end)

  it("reads a vehicle's attributes and signals, each with sc-user-id", function()
    if needs("GET /v3/vehicles/{id}, /signals, /signals/{code}") then return end
    local v = a:vehicle(t.vehicles[1], t.user_id)
    local attrs = assert(v:attributes())
    assert.are.equal(t.vehicles[1], attrs.id)
    assert.are.same({ "string", "string", "number" }, { type(attrs.make), type(attrs.model), type(attrs.year) })
    assert.are.equal("string", type(attrs.meta.requestId))
    local r = only("/v3/vehicles/")
    assert.are.same({ "GET", "/v3/vehicles/" .. t.vehicles[1] }, { r.method, r.path })
    assert.are.equal(t.user_id, header(r, "sc-user-id"))
    H.clear()
    local all = assert(v:signals())
    local odo = all.signals["odometer-traveleddistance"]
    assert.are.same({ "odometer-traveleddistance", "Odometer", "SUCCESS", "number" },
      { odo.code, odo.group, odo.status, type(odo.value) })
    assert.are.equal("number", type(odo.retrievedAt))
    assert.is_true(odo.retrievedAt < 1e11) -- epoch seconds
    for _, req in ipairs(sent("/v3/vehicles/")) do assert.are.equal(t.user_id, header(req, "sc-user-id")) end
    H.clear()
    local one = assert(v:signal("odometer-traveleddistance"))
    assert.are.same({ odo.code, odo.value, odo.unit }, { one.code, one.value, one.unit })
    assert.are.equal(t.user_id, header(only("/v3/vehicles/"), "sc-user-id"))
    local none, err = v:signal("vin")
    assert.is_nil(none)
    assert.are.same({ 404, "table", 1 }, { err.statusCode, type(err.errors), #err.errors })
    assert.are.same({ "RESOURCE_NOT_FOUND", "SIGNAL_NOT_FOUND", "Not Found" }, { err.type, err.code, err.title })
    assert.are.same({ "string", "string" }, { type(err.description), type(err.requestId) })
  end)

  it("fetches every page of signals by the links the API sends", function()
    if needs("GET /v3/vehicles/{id}/signals") then return end
    -- a transport that asks for pages of 3 the first time (the SDK asks for the API's default)
    local libcurl = smartcar.transports.libcurl
    local sc = smartcar.new { origin = H.origin, retry = false, transport = { request = function(_, m, u, h, b, l)
      if u:match("/signals$") then u = u .. "?page=1&pageSize=3" end
      return libcurl:request(m, u, h, b, l)
    end } }
    local v = sc.Application.new { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET }
      :vehicle(t.vehicles[1], t.user_id)
    local all = assert(v:signals())
    local n = 0
    for code, signal in pairs(all.signals) do
      n = n + 1
      assert.are.equal(code, signal.code)
    end
    assert.are.equal(all.meta.totalCount, n)
    local reqs = sent("/v3/vehicles/")
    assert.are.equal(math.ceil(n / 3), #reqs)
    for i, r in ipairs(reqs) do
      assert.are.equal(("page=%d&pageSize=3"):format(i), r.query)
      assert.are.equal(t.user_id, header(r, "sc-user-id"))
    end
  end)

  it("sends commands with their JSON:API bodies and returns the execution", function()
    if needs("POST /v3/vehicles/{id}/commands/...") then return end
    local v = a:vehicle(t.vehicles[1], t.user_id)
    local cmd = assert(v:lock())
    assert.are.same({ "security-lock", "SUCCESS", "string", "string" },
      { cmd.commandType, cmd.status, type(cmd.id), type(cmd.meta.requestId) })
    local r = only("/v3/vehicles/")
    assert.are.same({ "POST", "/v3/vehicles/" .. t.vehicles[1] .. "/commands/security/lock", t.user_id },
      { r.method, r.path, header(r, "sc-user-id") })
    H.clear()
    cmd = assert(v:setChargeLimit(80))
    assert.are.equal("charge-set-limit", cmd.commandType)
    r = only("/v3/vehicles/")
    assert.are.same({ '{"data":{"attributes":{"percent":80}}}', "application/json" }, { r.body, header(r, "content-type") })
    H.clear()
    assert(v:setDestination(37.4292, -122.1382))
    assert.are.equal('{"data":{"attributes":{"latitude":37.4292,"longitude":-122.1382}}}', only("/v3/vehicles/").body)
  end)

  it("maps a V3 error body with every field", function()
    if needs("GET /v3/vehicles/{id}") then return end
    local res, err = a:vehicle("00000000-0000-4000-8000-000000000000", t.user_id):attributes()
    assert.is_nil(res)
    assert.are.same({ 404, "RESOURCE_NOT_FOUND", "VEHICLE_NOT_FOUND", "Not Found" },
      { err.statusCode, err.type, err.code, err.title })
    assert.are.equal("Vehicle with ID 00000000-0000-4000-8000-000000000000 not found", err.description)
    assert.are.equal("string", type(err.requestId))
    assert.are.equal("string", type(err.docURL))
  end)

  it("fetches a new token once after a 401 and repeats the call", function()
    if needs("POST /_emulator/v3/tokens/revoke") then return end
    local tok = assert(a:token())
    local _, status = H.admin("POST", "/_emulator/v3/tokens/revoke", { accessToken = tok })
    if status ~= 200 then
      pending("waits on the emulator: POST /_emulator/v3/tokens/revoke")
      return
    end
    H.clear()
    local attrs = assert(a:vehicle(t.vehicles[1], t.user_id):attributes())
    assert.are.equal(t.vehicles[1], attrs.id)
    local reqs = sent("/v3/vehicles/")
    assert.are.equal(2, #reqs)
    assert.are.equal(1, #sent("/oauth2/token"))
    assert.are_not.equal(header(reqs[1], "authorization"), header(reqs[2], "authorization"))
  end)

  it("does not wait on a token fetch whose caller raised (a hook that raised, say)", function()
    local raise = true
    local sc = smartcar.new { origin = H.origin, timeout = 5000, retry = false, onResponse = function(info)
      if raise and info.url:match("/oauth2/token$") then error("the hook broke", 0) end
    end }
    local a2 = sc.Application.new { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET }
    assert.has_error(function() a2:token() end, "the hook broke")
    raise = false
    local t0 = socket.gettime()
    assert.is_string(assert(a2:token()))
    assert.is_true(socket.gettime() - t0 < 2 * H.TIME_SCALE, "waited for the fetch that raised") -- not 6 s
  end)

  it("reads a long-running command's 202 to its end, past the instance's timeout", function()
    if needs("POST /_emulator/v3/config (commandDelay, longRunningThreshold)") then return end
    local _, status = H.admin("POST", "/_emulator/v3/config", { commandDelay = 3, longRunningThreshold = 1 })
    if status ~= 200 then
      pending("waits on the emulator: POST /_emulator/v3/config")
      return
    end
    local sc = smartcar.new { origin = H.origin, timeout = 1000, retry = false }
    local a2 = sc.Application.new { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET, commandTimeout = 8000 }
    local cmd, err = a2:vehicle(t.vehicles[1], t.user_id):unlock()
    assert.is_nil(err)
    assert.are.same({ "security-unlock", "SUCCESS" }, { cmd.commandType, cmd.status })
    assert.are.equal(1, #sent("/v3/vehicles/")) -- never sent twice
    H.clear()
    local a3 = sc.Application.new { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET, commandTimeout = 1200 }
    sc.configure { retry = { attempts = 3, baseDelay = 10, maxDelay = 10 } }
    cmd, err = a3:vehicle(t.vehicles[1], t.user_id):lock()
    assert.is_nil(cmd)
    assert.are.same({ "SDK_ERROR", "TIMEOUT", 1 }, { err.type, err.code, err.attempts })
    assert.are.equal(1, #sent("/v3/vehicles/")) -- a command that may have reached the vehicle is not sent again
    -- a 202 whose outcome is an error: judged by the body, with the body's status
    local asleep = H.token("VEHICLE_STATE.ASLEEP@smartcar.com")
    H.clear()
    cmd, err = a2:vehicle(asleep.vehicles[1], asleep.user_id):lock()
    assert.is_nil(cmd)
    assert.are.same({ 409, "VEHICLE_STATE", "ASLEEP", 1 }, { err.statusCode, err.type, err.code, #err.errors })
    assert.are.equal(1, #sent("/v3/vehicles/"))
  end)

  it("verifies and decodes the emulator's signed deliveries: VERIFY, VEHICLE_STATE, VEHICLE_ERROR", function()
    if needs("POST /_emulator/v3/webhooks, /_emulator/v3/events") then return end
    local created = H.admin("POST", "/_emulator/v3/webhooks", { callbackUri = H.origin .. "/_emulator/echo-webhook",
      name = "Spec" })
    local d = created.verify
    local event = assert(smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = d.signature }, d.body))
    assert.are.same({ "VERIFY", d.challenge, d.eventId }, { event.type, event.challenge, event.id })
    assert.are.same(core.decode(d.response), core.decode(smartcar.webhookChallenge(H.AMT, event)))
    local sent_state = H.admin("POST", "/_emulator/v3/events", { eventType = "VEHICLE_STATE",
      vehicleId = t.vehicles[1], webhookId = H.WEBHOOK_ID, userId = t.user_id }).deliveries[1]
    event = assert(smartcar.parseWebhook(H.AMT, { ["sc-signature"] = sent_state.signature }, sent_state.body))
    assert.are.same({ "VEHICLE_STATE", t.vehicles[1], t.user_id, t.vehicles[1], true },
      { event.type, event.vehicleId, event.user.id, event.vehicle.id, event.firstDelivery })
    local soc = event.signals["tractionbattery-stateofcharge"]
    assert.are.same({ "SUCCESS", "number", "number" }, { soc.status, type(soc.value), type(soc.retrievedAt) })
    assert.is_true(soc.retrievedAt < 1e11)
    local sent_error = H.admin("POST", "/_emulator/v3/events", { eventType = "VEHICLE_ERROR", vehicleId = t.vehicles[1],
      webhookId = H.WEBHOOK_ID, userId = t.user_id, error = { type = "VEHICLE_STATE", code = "ASLEEP" } }).deliveries[1]
    event = assert(smartcar.parseWebhook(H.AMT, { ["SC-Signature"] = sent_error.signature }, sent_error.body))
    assert.are.same({ "VEHICLE_ERROR", "VEHICLE_STATE", "ASLEEP" }, { event.type, event.errors[1].type, event.errors[1].code })
    local _, err = smartcar.parseWebhook("not-the-amt", { ["SC-Signature"] = sent_error.signature }, sent_error.body)
    assert.are.equal("INVALID_SIGNATURE", err.code)
  end)

  it("lists webhooks, gets one, subscribes, lists and removes subscriptions", function()
    if needs("GET /v3/webhooks, /v3/subscriptions") then return end
    local hooks = assert(a:webhooks())
    assert.is_true(#hooks.webhooks >= 1)
    local w = hooks.webhooks[1]
    assert.are.same({ "string", "string", "boolean" }, { type(w.id), type(w.callbackUri), type(w.isEnabled) })
    local one = assert(a:getWebhook(w.id))
    assert.are.equal(w.name, one.name)
    H.clear()
    local res = assert(a:subscribe(w.id, a:vehicle(t.vehicles[1], t.user_id)))
    assert.are.equal("subscription creation in progress", res.message)
    local r = only("/v3/subscriptions")
    assert.are.equal("POST", r.method)
    assert.are.same({ data = { type = "subscription", attributes = { webhookId = w.id, userId = t.user_id,
      vehicleId = t.vehicles[1] } } }, core.decode(r.body))
    local _, err = a:subscribe(w.id, t.vehicles[1], t.user_id)
    assert.are.equal(409, err.statusCode)
    local subs = assert(collect(a:eachSubscription { webhookId = w.id }))
    assert.are.equal(1, #subs)
    assert.are.same({ w.id, t.user_id, t.vehicles[1] }, { subs[1].webhookId, subs[1].userId, subs[1].vehicleId })
    H.clear()
    assert(a:unsubscribe(subs[1].id))
    assert.are.same({ "DELETE", "/v3/subscriptions/" .. subs[1].id },
      { only("/v3/subscriptions").method, only("/v3/subscriptions").path })
    assert.are.same({}, assert(collect(a:eachSubscription { webhookId = w.id })))
  end)
end)
