-- API V3 on the wire: one table of cases, run on every transport by spec/application_transports_spec.lua
-- (libcurl and the suite's own transport in the spec's process; the cosocket transport inside a real
-- nginx, through spec/support/nginx_v3.lua). A case is
--   name     what it shows
--   options  the SDK instance's options beyond origin and transport (plain data)
--   prepare  function(H, smartcar) -> ctx: in the spec's process, before the request log is cleared (the
--            emulator's admin API, fixtures); ctx is plain data (ids, the credentials)
--   run      function(sc, ctx, env) -> outcome: on the transport under test; plain data only (it comes
--            back serialized from nginx). env: admin(method, path, body) -> body table, status; clock() -> s
--   check    function(outcome, ctx, log, H): the busted assertions, in the spec's process; `log` the
--            requests the emulator recorded while the case ran
-- Only `run` reaches nginx: nothing here requires busted or the helper at load time (so spec/helper.lua
-- hands the SDK-side helpers below, application, collect and header, to the other specs).
local M = {}

-- busted's assert (the spec hands it over: a required module sees the plain assert)
local assert = assert
function M.bind(busted_assert) assert = busted_assert end

local unpack = table.unpack or unpack -- luacheck: ignore
local FORM = "application/x-www-form-urlencoded"
local JSON = "application/json"

-- What the run gives back of a call: its result or its error, and tostring(err).
local function outcome(res, err)
  return { res = res, err = err, shown = err ~= nil and tostring(err) or nil }
end
M.outcome = outcome

--- An Application of module `sc` for the credentials of `ctx` (clientId, clientSecret), with the
-- options `extra`.
local function application(sc, ctx, extra)
  local o = { clientId = ctx.clientId, clientSecret = ctx.clientSecret }
  for k, v in pairs(extra or {}) do o[k] = v end
  return sc.Application.new(o)
end
M.application = application

--- The V3 vehicle of `ctx` (vehicleId, for userId) through `app` (default: a new Application).
local function vehicle(sc, ctx, app)
  return (app or application(sc, ctx)):vehicle(ctx.vehicleId, ctx.userId)
end
M.vehicle = vehicle

--- The items an iterator gives, as a list (its failure, if any: nil and the error).
local function collect(iterator)
  local list = {}
  for item, err in iterator do
    if item == false then return nil, err end
    list[#list + 1] = item
  end
  return list
end
M.collect = collect

-- A case's run on a new Application of its ctx: `f(app, ctx, sc, env)` -> the outcome, which gets the
-- app token (cached by then: no request).
local function on_app(f)
  return function(sc, ctx, env)
    local app = application(sc, ctx)
    local o = f(app, ctx, sc, env)
    o.token = app:token()
    return o
  end
end

-- A run of one call of the Application, `call(app, ctx)` -> res, err; or of its vehicle, `call(v, ctx)`.
local function app_call(call)
  return on_app(function(app, ctx) return outcome(call(app, ctx)) end)
end
local function vehicle_call(call)
  return on_app(function(app, ctx, sc) return outcome(call(vehicle(sc, ctx, app), ctx)) end)
end

-- Spec-side helpers -----------------------------------------------------------------------------

--- A request's header (the first of a repeated one).
local function header(r, name)
  local v = r.headers[name]
  if type(v) == "table" then v = v[1] end
  return v
end
M.header = header

local function matching(log, pred)
  local out = {}
  for _, r in ipairs(log) do if pred(r) then out[#out + 1] = r end end
  return out
end

-- The recorded API calls (everything under /v3/) and token requests.
local function api(log)
  return matching(log, function(r) return r.path:sub(1, 4) == "/v3/" end)
end
local function tokens(log)
  return matching(log, function(r) return r.path == "/oauth2/token" end)
end
M.api, M.tokens = api, tokens

local function keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return out
end
M.keys = keys

-- One request exactly as the SDK must send it: method, path, query, Authorization (the app token),
-- sc-user-id (nil: absent), the body (nil: none) and its content type.
local function wire(r, want, out)
  assert.are.same({ want.method, want.path, want.query or "" }, { r.method, r.path, r.query or "" })
  assert.are.equal("Bearer " .. out.token, header(r, "authorization"))
  assert.are.equal(want.user, header(r, "sc-user-id"))
  assert.are.equal(want.body or "", r.body or "")
  assert.are.equal(want.body and JSON or nil, header(r, "content-type"))
end

-- The only API call of the case, sent as `want`.
local function one_call(log, want, out)
  local calls = api(log)
  assert.are.equal(1, #calls, "API calls")
  wire(calls[1], want, out)
  assert.are.equal(1, #tokens(log), "token requests")
  return calls[1]
end

local function request_id(meta)
  assert.are.equal("string", type(meta and meta.requestId))
end

-- The check of a case whose only API call, sent as `want(ctx)`, succeeds: `more(out.res, ctx)` checks
-- the result, which carries meta.requestId.
local function succeeds_once(want, more)
  return function(out, ctx, log)
    one_call(log, want(ctx), out)
    assert.is_nil(out.err)
    more(out.res, ctx)
    request_id(out.res.meta)
  end
end

-- `want` of a call to /v3/vehicles/{the ctx's vehicle}`suffix`, as its user (sc-user-id).
local function to_vehicle(method, suffix, body)
  return function(ctx)
    return { method = method, path = "/v3/vehicles/" .. ctx.vehicleId .. suffix, user = ctx.userId, body = body }
  end
end

-- The fields of an SDK error made from a V3 `errors` body.
local ERROR_FIELDS = { "attempts", "code", "description", "docURL", "errors", "message", "name", "requestId",
  "resolution", "statusCode", "title", "type" }
M.ERROR_FIELDS = ERROR_FIELDS

-- Fixtures ----------------------------------------------------------------------------------------

-- A prepare: a vehicle of a fresh user (its connection is the Application's), connected in `mode`
-- (nil: the token shortcut's test mode; "simulated": changes are kept).
local function driver_in(mode)
  return function(H)
    local t = H.token("driver@example.com", nil, mode)
    return { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET, userId = t.user_id,
      vehicleId = t.vehicles[1], vehicles = t.vehicles }
  end
end
local driver = driver_in(nil)

-- A prepare: the driver, then `more(H, ctx, smartcar)` (the emulator's admin API, faults, fixtures).
local function driver_and(more)
  return function(H, smartcar)
    local ctx = driver(H)
    more(H, ctx, smartcar)
    return ctx
  end
end

local with_webhook = driver_and(function(H, ctx) ctx.webhookId = H.WEBHOOK_ID end)

local with_connection = driver_and(function(_, ctx, smartcar)
  local list = assert(collect(application(smartcar, ctx):eachConnection { userId = ctx.userId, mode = "simulated" }))
  ctx.connectionId, ctx.connectionVehicleId = list[1].id, list[1].vehicleId
end)

local function with_subscription(H, smartcar)
  local ctx = with_webhook(H)
  local app = application(smartcar, ctx)
  assert(app:subscribe(ctx.webhookId, ctx.vehicleId, ctx.userId))
  local subs = assert(collect(app:eachSubscription { webhookId = ctx.webhookId }))
  ctx.subscriptionId = subs[1].id
  return ctx
end

-- Commands answered 3 s after they are sent, long-running (202) after 1 s.
local slow_commands = driver_and(function(H)
  H.admin("POST", "/_emulator/v3/config", { commandDelay = 3, longRunningThreshold = 1 })
end)

-- The next `count` vehicle calls answered 401.
local function unauthorized(count)
  return driver_and(function(H) H.fault("status:401", count, "^/v3/vehicles/") end)
end

-- The cases -------------------------------------------------------------------------------------

local CASES = {}
M.CASES = CASES
local function case(c) CASES[#CASES + 1] = c; CASES[c.name] = c end

case { name = "POST /oauth2/token: the client-credentials grant as a form, no Authorization",
  prepare = driver,
  run = function(sc, ctx)
    local app = application(sc, ctx)
    local tok, err = app:token()
    return { token = tok, err = err, again = app:token(), shown = tostring(app) }
  end,
  check = function(out, ctx, log)
    assert.is_nil(out.err)
    assert.are.equal("string", type(out.token))
    assert.are.equal(out.token, out.again)
    assert.are.equal("Application (" .. ctx.clientId .. ")", out.shown)
    local reqs = tokens(log)
    assert.are.equal(1, #reqs)
    local r = reqs[1]
    assert.are.same({ "POST", "", FORM, nil, nil }, { r.method, r.query, header(r, "content-type"),
      header(r, "authorization"), header(r, "sc-user-id") })
    assert.are.equal("grant_type=client_credentials&client_id=" .. ctx.clientId .. "&client_secret=" ..
      ctx.clientSecret, r.body)
    assert.are.equal(0, #api(log))
  end }

case { name = "GET /v3/connections: every page, the filters and page parameters encoded",
  prepare = driver_and(function(H, ctx) H.admin("POST", "/_emulator/connections", { count = 3, userId = ctx.userId }) end),
  run = on_app(function(app, ctx)
    local list, err = collect(app:eachConnection { userId = ctx.userId, mode = "live", pageSize = 2 })
    return { res = list, err = err }
  end),
  check = function(out, ctx, log)
    assert.is_nil(out.err)
    assert.are.equal(3, #out.res)
    local calls = api(log)
    assert.are.equal(2, #calls)
    for i, r in ipairs(calls) do
      wire(r, { method = "GET", path = "/v3/connections", query = "filter%5BuserId%5D=" .. ctx.userId ..
        "&filter%5Bvehicle.mode%5D=live&page%5Bnumber%5D=" .. i .. "&page%5Bsize%5D=2" }, out)
    end
    for _, c in ipairs(out.res) do
      assert.are.same({ "createdAt", "id", "permissions", "updatedAt", "userId", "vehicle", "vehicleId" }, keys(c))
      assert.are.equal(ctx.userId, c.userId)
      assert.are.same({ "string", "string", "table" }, { type(c.id), type(c.vehicleId), type(c.permissions) })
    end
  end }

case { name = "GET /v3/connections/{id}",
  prepare = with_connection,
  run = app_call(function(app, ctx) return app:getConnection(ctx.connectionId) end),
  check = succeeds_once(function(ctx) return { method = "GET", path = "/v3/connections/" .. ctx.connectionId } end,
    function(res, ctx)
      assert.are.same({ "createdAt", "id", "meta", "permissions", "updatedAt", "userId", "vehicle", "vehicleId" },
        keys(res))
      assert.are.same({ ctx.connectionId, ctx.userId, ctx.connectionVehicleId }, { res.id, res.userId, res.vehicleId })
      assert.are.same({ "make", "mode", "model", "powertrainType", "year" }, keys(res.vehicle))
    end) }

case { name = "DELETE /v3/connections/{id} (204: {meta}), then 404 RESOURCE_NOT_FOUND",
  prepare = with_connection,
  run = on_app(function(app, ctx)
    local o = outcome(app:deleteConnection(ctx.connectionId))
    o.after = outcome(app:getConnection(ctx.connectionId))
    return o
  end),
  check = function(out, ctx, log)
    local calls = api(log)
    assert.are.equal(2, #calls)
    wire(calls[1], { method = "DELETE", path = "/v3/connections/" .. ctx.connectionId }, out)
    assert.is_nil(out.err)
    assert.are.same({ "meta" }, keys(out.res))
    request_id(out.res.meta)
    assert.are.same({ 404, "RESOURCE_NOT_FOUND" }, { out.after.err.statusCode, out.after.err.type })
  end }

case { name = "DELETE /v3/users/{id} (204: {meta})",
  prepare = driver,
  run = app_call(function(app, ctx) return app:deleteUser(ctx.userId) end),
  check = succeeds_once(function(ctx) return { method = "DELETE", path = "/v3/users/" .. ctx.userId } end,
    function(res) assert.are.same({ "meta" }, keys(res)) end) }

case { name = "GET /v3/vehicles/{id}: sc-user-id (as on every call of the vehicle)",
  prepare = driver,
  run = vehicle_call(function(v) return v:attributes() end),
  check = succeeds_once(function(ctx)
      return { method = "GET", path = "/v3/vehicles/" .. ctx.vehicleId, user = ctx.userId }
    end,
    function(res, ctx)
      assert.are.same({ "id", "make", "meta", "mode", "model", "powertrainType", "year" }, keys(res))
      assert.are.same({ ctx.vehicleId, "TESLA", "Model 3", 2021, "BEV", "simulated" },
        { res.id, res.make, res.model, res.year, res.powertrainType, res.mode })
    end) }

case { name = "GET /v3/vehicles/{id} of an unknown vehicle: the V3 error with every field",
  prepare = driver,
  run = app_call(function(app, ctx)
    return app:vehicle("00000000-0000-4000-8000-000000000000", ctx.userId):attributes()
  end),
  check = function(out, ctx, log)
    one_call(log, { method = "GET", path = "/v3/vehicles/00000000-0000-4000-8000-000000000000", user = ctx.userId },
      out)
    local err = out.err
    assert.is_nil(out.res)
    assert.are.same(ERROR_FIELDS, keys(err))
    assert.are.same({ "SmartcarError", 404, "RESOURCE_NOT_FOUND", "VEHICLE_NOT_FOUND", "Not Found", 1,
      "Vehicle with ID 00000000-0000-4000-8000-000000000000 not found",
      "https://smartcar.com/docs/errors/api-errors/v3/resource-not-found-errors" },
      { err.name, err.statusCode, err.type, err.code, err.title, err.attempts, err.description, err.docURL })
    assert.are.equal(err.errors[1].meta.debug.requestId, err.requestId)
    assert.are.equal("RESOURCE_NOT_FOUND:VEHICLE_NOT_FOUND - " .. err.description, err.message)
    assert.is_truthy(out.shown:find(err.message, 1, true), out.shown)
  end }

case { name = "GET /v3/vehicles/{id}/signals: sc-user-id, every page",
  prepare = driver,
  run = vehicle_call(function(v) return v:signals() end),
  check = function(out, ctx, log)
    assert.is_nil(out.err)
    local calls = api(log)
    assert.is_true(#calls >= 1)
    wire(calls[1], to_vehicle("GET", "/signals")(ctx), out)
    for i = 2, #calls do
      assert.are.equal(("page=%d&"):format(i), calls[i].query:match("^page=%d+&"))
      wire(calls[i], { method = "GET", path = calls[1].path, query = calls[i].query, user = ctx.userId }, out)
    end
    assert.are.same({ "meta", "signals" }, keys(out.res))
    local n = 0
    for code, s in pairs(out.res.signals) do
      n = n + 1
      assert.are.equal(code, s.code)
    end
    assert.are.equal(out.res.meta.totalCount, n)
    local odo = out.res.signals["odometer-traveleddistance"]
    assert.are.same({ "body", "code", "group", "name", "oemUpdatedAt", "retrievedAt", "status", "unit", "value" },
      keys(odo))
    assert.are.same({ "Odometer", "TraveledDistance", "SUCCESS", "kilometers", "number", "number" },
      { odo.group, odo.name, odo.status, odo.unit, type(odo.value), type(odo.retrievedAt) })
    assert.is_true(odo.retrievedAt < 1e11) -- epoch seconds
  end }

case { name = "GET /v3/vehicles/{id}/signals: a signal not granted is there as an ERROR, the call succeeds",
  prepare = function(H)
    local t = H.token("driver@example.com", "read_odometer read_vehicle_info")
    return { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET, userId = t.user_id,
      vehicleId = t.vehicles[1] }
  end,
  run = vehicle_call(function(v) return v:signals() end),
  check = function(out)
    assert.is_nil(out.err)
    local odo, loc = out.res.signals["odometer-traveleddistance"], out.res.signals["location-preciselocation"]
    assert.are.same({ "SUCCESS", "number" }, { odo.status, type(odo.value) })
    assert.are.same({ "code", "error", "group", "name", "oemUpdatedAt", "retrievedAt", "status" }, keys(loc))
    assert.are.equal("ERROR", loc.status)
    assert.are.same({ type = "PERMISSION", code = "INSUFFICIENT_PERMISSIONS", title = "Forbidden",
      detail = "Your application has insufficient permissions to access the requested resource: read_location " ..
        "was not granted.", resolution = { type = "REAUTHENTICATE" } }, loc.error)
  end }

case { name = "GET /v3/vehicles/{id}/signals/{code}: sc-user-id",
  prepare = driver,
  run = vehicle_call(function(v) return v:signal("odometer-traveleddistance") end),
  check = succeeds_once(to_vehicle("GET", "/signals/odometer-traveleddistance"), function(res)
    assert.are.same({ "body", "code", "group", "meta", "name", "oemUpdatedAt", "retrievedAt", "status", "unit", "value" },
      keys(res))
    assert.are.same({ "odometer-traveleddistance", "Odometer", "TraveledDistance", "SUCCESS", "kilometers" },
      { res.code, res.group, res.name, res.status, res.unit })
    assert.are.equal(res.body.value, res.value)
  end) }

-- The commands (reference 3.8): path, body, commandType.
local COMMANDS = {
  { "lock", "security/lock", "security-lock" },
  { "unlock", "security/unlock", "security-unlock" },
  { "startCharge", "charge/start", "charge-start" },
  { "stopCharge", "charge/stop", "charge-stop" },
  { "openChargePort", "charge-port/open", "charge-port-open" },
  { "closeChargePort", "charge-port/close", "charge-port-close" },
  { "setChargeLimit", "charge/set-limit", "charge-set-limit", { 80 }, '{"data":{"attributes":{"percent":80}}}' },
  { "setDestination", "navigation/set-destination", "navigation-set-destination", { 37.4292, -122.1382 },
    '{"data":{"attributes":{"latitude":37.4292,"longitude":-122.1382}}}' },
}
local COMMAND_FIELDS = { "commandType", "completedAt", "durationInSeconds", "executedAt", "executionMode", "id", "meta",
  "status" }
for _, c in ipairs(COMMANDS) do
  local method, path, kind, args, body = c[1], c[2], c[3], c[4] or {}, c[5]
  case { name = "POST /v3/vehicles/{id}/commands/" .. path .. " (" .. method .. ")",
    prepare = driver,
    run = vehicle_call(function(v) return v[method](v, unpack(args)) end),
    check = succeeds_once(to_vehicle("POST", "/commands/" .. path, body), function(res)
      assert.are.same(COMMAND_FIELDS, keys(res))
      assert.are.same({ kind, "SUCCESS", "sync", "number" },
        { res.commandType, res.status, res.executionMode, type(res.durationInSeconds) })
      assert.are.equal("exec_", res.id:sub(1, 5))
      assert.are.same({ "string", "string" }, { type(res.executedAt), type(res.completedAt) })
    end) }
end

-- Charge schedules (reference 3.9).
local LOCATION = { latitude = 37.4292, longitude = -122.1382 }
local LOCATION_JSON = '"location":{"latitude":37.4292,"longitude":-122.1382}'
local SCHEDULE_FIELDS = { "action", "completedAt", "durationInSeconds", "executedAt", "executionMode", "id", "meta",
  "parameters", "schedule", "scheduleId", "scheduleType", "status" }
local SCHEDULES = {
  { "createDailyChargeSchedule", "daily", { location = LOCATION, startTime = "08:00", stopTime = "10:00" },
    '{"data":{"attributes":{' .. LOCATION_JSON .. ',"startTime":"08:00","stopTime":"10:00"}}}' },
  { "createWeeklyChargeSchedule", "weekly", { location = LOCATION, days = { monday = { startTime = "08:00",
    stopTime = "10:00" }, saturday = { startTime = "22:30", stopTime = "23:59" } } },
    '{"data":{"attributes":{"days":{"monday":{"startTime":"08:00","stopTime":"10:00"},"saturday":{"startTime":' ..
    '"22:30","stopTime":"23:59"}},' .. LOCATION_JSON .. '}}}' },
  { "createWorkweekChargeSchedule", "workweek", { location = LOCATION, weekdays = { startTime = "01:00",
    stopTime = "05:00" }, weekends = { startTime = "00:00", stopTime = "06:00" } },
    '{"data":{"attributes":{' .. LOCATION_JSON .. ',"weekdays":{"startTime":"01:00","stopTime":"05:00"},' ..
    '"weekends":{"startTime":"00:00","stopTime":"06:00"}}}}' },
}
for _, s in ipairs(SCHEDULES) do
  local method, kind, schedule, body = s[1], s[2], s[3], s[4]
  case { name = "POST /v3/vehicles/{id}/charge-schedules/" .. kind .. " (" .. method .. ")",
    prepare = driver,
    run = vehicle_call(function(v) return v[method](v, schedule) end),
    check = succeeds_once(to_vehicle("POST", "/charge-schedules/" .. kind, body), function(res, ctx)
      assert.are.same(SCHEDULE_FIELDS, keys(res))
      assert.are.same({ "create", kind, "SUCCESS", "string", "string" },
        { res.action, res.scheduleType, res.status, type(res.id), type(res.scheduleId) })
      assert.are.equal("/vehicles/" .. ctx.vehicleId .. "/charge-schedules/" .. res.scheduleId, res.schedule)
      local p = res.parameters
      assert.are.same(LOCATION, p.location)
      if kind == "daily" then assert.are.same({ "08:00", "10:00" }, { p.startTime, p.stopTime }) end
    end) }
end

-- A case on the daily schedule it creates first: `method(scheduleId)` sent as `verb` .../{scheduleId},
-- its result checked by `more(res, id)`.
local function on_created_schedule(method, verb, prepare, more)
  case { name = verb .. " /v3/vehicles/{id}/charge-schedules/{scheduleId} (" .. method .. ")",
    prepare = prepare,
    run = on_app(function(app, ctx, sc)
      local v = vehicle(sc, ctx, app)
      local created = outcome(v:createDailyChargeSchedule(SCHEDULES[1][3]))
      local o = created.res and outcome(v[method](v, created.res.scheduleId)) or created
      o.created = created
      return o
    end),
    check = function(out, ctx, log)
      assert.is_nil(out.created.err)
      local calls = api(log)
      assert.are.equal(2, #calls)
      local id = out.created.res.scheduleId
      wire(calls[2], to_vehicle(verb, "/charge-schedules/" .. id)(ctx), out)
      assert.is_nil(out.err)
      more(out.res, id)
      request_id(out.res.meta)
    end }
end

on_created_schedule("deleteChargeSchedule", "DELETE", driver, function(res, id)
  assert.are.equal(id, res.scheduleId)
  assert.are.same({ "delete", "SUCCESS" }, { res.action, res.status })
end)

-- (a simulated connection, so the schedule is kept)
on_created_schedule("getChargeSchedule", "GET", driver_in("simulated"), function(res, id)
  assert.are.same({ "createdAt", "id", "meta", "parameters", "scheduleType" }, keys(res))
  assert.are.same({ id, "daily", LOCATION }, { res.id, res.scheduleType, res.parameters.location })
end)


case { name = "GET /v3/applications, /v3/applications/{id} and /v3/applications/{id}/secrets: no sc-user-id",
  prepare = function(H)
    return { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET, applicationId = H.CLIENT_ID }
  end,
  run = on_app(function(app, ctx)
    local o = outcome(app:applications())
    o.one, o.secrets = outcome(app:getApplication(ctx.applicationId)), outcome(app:applicationSecrets(ctx.applicationId))
    return o
  end),
  check = function(out, ctx, log)
    local calls = api(log)
    assert.are.equal(3, #calls)
    local path = "/v3/applications/" .. ctx.applicationId
    wire(calls[1], { method = "GET", path = "/v3/applications" }, out)
    wire(calls[2], { method = "GET", path = path }, out)
    wire(calls[3], { method = "GET", path = path .. "/secrets" }, out)
    assert.is_nil(out.err or out.one.err or out.secrets.err)
    assert.are.same({ { id = ctx.applicationId, name = "Emulator Demo" } }, out.res.applications)
    assert.are.same({ "id", "meta", "name" }, keys(out.one.res))
    assert.are.same({ "meta", "secrets" }, keys(out.secrets.res))
    assert.are.same({ "clientId", "id" }, keys(out.secrets.res.secrets[1]))
    for _, o in ipairs { out, out.one, out.secrets } do request_id(o.res.meta) end
  end }

case { name = "GET /v3/webhooks (every page) and GET /v3/webhooks/{id}",
  prepare = with_webhook,
  run = on_app(function(app, ctx)
    local o = outcome(app:webhooks())
    o.one = outcome(app:getWebhook(ctx.webhookId))
    return o
  end),
  check = function(out, _, log, H)
    local calls = api(log)
    assert.are.equal(2, #calls)
    wire(calls[1], { method = "GET", path = "/v3/webhooks", query = "page%5Bnumber%5D=1&page%5Bsize%5D=100" }, out)
    wire(calls[2], { method = "GET", path = "/v3/webhooks/" .. H.WEBHOOK_ID }, out)
    assert.is_nil(out.err)
    assert.are.same({ "meta", "webhooks" }, keys(out.res))
    assert.are.equal(1, out.res.meta.totalCount)
    local FIELDS = { "autoSubscribe", "callbackUri", "createdAt", "data", "id", "isEnabled", "name", "triggers", "verified" }
    assert.are.same(FIELDS, keys(out.res.webhooks[1]))
    local one = out.one.res
    local with_meta = { "meta", unpack(FIELDS) }
    table.sort(with_meta)
    assert.are.same(with_meta, keys(one))
    assert.are.same({ H.WEBHOOK_ID, true, true }, { one.id, one.isEnabled, one.verified })
    assert.are.same({ "code", "group", "name" }, keys(one.triggers[1]))
    request_id(one.meta)
  end }

case { name = "POST /v3/subscriptions (its JSON:API body; 202), and 409 for a second one",
  prepare = with_webhook,
  run = on_app(function(app, ctx, sc)
    local o = outcome(app:subscribe(ctx.webhookId, vehicle(sc, ctx, app)))
    o.again = outcome(app:subscribe(ctx.webhookId, ctx.vehicleId, ctx.userId))
    return o
  end),
  check = function(out, ctx, log, H)
    local calls = api(log)
    assert.are.equal(2, #calls)
    wire(calls[1], { method = "POST", path = "/v3/subscriptions", body = '{"data":{"attributes":{"userId":"' ..
      ctx.userId .. '","vehicleId":"' .. ctx.vehicleId .. '","webhookId":"' .. H.WEBHOOK_ID ..
      '"},"type":"subscription"}}' }, out)
    assert.is_nil(out.err)
    assert.are.same({ "message", "meta" }, keys(out.res))
    assert.are.equal("subscription creation in progress", out.res.message)
    request_id(out.res.meta)
    assert.are.equal(409, out.again.err.statusCode)
  end }

case { name = "GET /v3/subscriptions (filters, pages), GET and DELETE /v3/subscriptions/{id}",
  prepare = with_subscription,
  run = on_app(function(app, ctx)
    local list, err = collect(app:eachSubscription { webhookId = ctx.webhookId, vehicleId = ctx.vehicleId,
      pageSize = 5 })
    local o = { res = list, err = err }
    o.one = outcome(app:getSubscription(ctx.subscriptionId))
    o.removed = outcome(app:unsubscribe(ctx.subscriptionId))
    return o
  end),
  check = function(out, ctx, log)
    local calls = api(log)
    assert.are.equal(3, #calls)
    wire(calls[1], { method = "GET", path = "/v3/subscriptions", query = "filter%5BwebhookId%5D=" .. ctx.webhookId ..
      "&filter%5BvehicleId%5D=" .. ctx.vehicleId .. "&page%5Bnumber%5D=1&page%5Bsize%5D=5" }, out)
    wire(calls[2], { method = "GET", path = "/v3/subscriptions/" .. ctx.subscriptionId }, out)
    wire(calls[3], { method = "DELETE", path = "/v3/subscriptions/" .. ctx.subscriptionId }, out)
    assert.is_nil(out.err)
    local FIELDS = { "createdAt", "id", "updatedAt", "userId", "vehicle", "vehicleId", "webhookId" }
    assert.are.equal(1, #out.res)
    assert.are.same(FIELDS, keys(out.res[1]))
    assert.are.same({ ctx.subscriptionId, ctx.webhookId, ctx.userId, ctx.vehicleId },
      { out.res[1].id, out.res[1].webhookId, out.res[1].userId, out.res[1].vehicleId })
    local one = out.one.res
    assert.are.same({ "createdAt", "id", "meta", "updatedAt", "userId", "vehicle", "vehicleId", "webhookId" }, keys(one))
    assert.are.equal(ctx.subscriptionId, one.id)
    request_id(one.meta)
    assert.are.same({ "meta" }, keys(out.removed.res))
  end }

-- The application token --------------------------------------------------------------------------

case { name = "the app token is fetched once for 50 concurrent tasks (smartcar.all)",
  prepare = driver,
  run = function(sc, ctx)
    local app = application(sc, ctx)
    local v = vehicle(sc, ctx, app)
    local tasks = {}
    for i = 1, 50 do tasks[i] = function() return v:attributes() end end
    local values, errors = sc.all(tasks)
    local ids, failed = {}, {}
    for i = 1, 50 do
      ids[i] = values[i] and values[i].id
      failed[#failed + 1] = errors[i] and tostring(errors[i]) or nil
    end
    return { ids = ids, failed = failed, token = app:token() }
  end,
  check = function(out, ctx, log)
    assert.are.same({}, out.failed)
    for i = 1, 50 do assert.are.equal(ctx.vehicleId, out.ids[i]) end
    assert.are.equal(1, #tokens(log), "token requests")
    local calls = api(log)
    assert.are.equal(50, #calls)
    for _, r in ipairs(calls) do assert.are.equal("Bearer " .. out.token, header(r, "authorization")) end
  end }

case { name = "an app token past its expiry (the emulator's clock) is refreshed once and the call repeated",
  prepare = driver,
  run = function(sc, ctx, env)
    local app = application(sc, ctx)
    local v = vehicle(sc, ctx, app)
    local first = outcome(v:attributes())
    local before = app:token()
    env.admin("POST", "/_emulator/clock", { advance = 3601 }) -- the app token's hour is over
    local o = outcome(v:attributes())
    o.first, o.before, o.token = first, before, app:token()
    o.third = outcome(v:lock()) -- the fresh token is cached: no further fetch
    return o
  end,
  check = function(out, ctx, log)
    assert.is_nil(out.first.err)
    assert.is_nil(out.err)
    assert.are.equal(ctx.vehicleId, out.res.id)
    assert.is_nil(out.third.err)
    assert.are_not.equal(out.before, out.token)
    assert.are.equal(2, #tokens(log), "token requests")
    local calls = api(log)
    assert.are.equal(4, #calls)
    assert.are.same({ "Bearer " .. out.before, "Bearer " .. out.before, "Bearer " .. out.token, "Bearer " .. out.token },
      { header(calls[1], "authorization"), header(calls[2], "authorization"), header(calls[3], "authorization"),
        header(calls[4], "authorization") })
    assert.are.same({ calls[2].path, calls[2].method }, { calls[3].path, calls[3].method })
  end }

case { name = "an app token the emulator revoked: one new token, the call repeated, once",
  prepare = driver,
  run = function(sc, ctx, env)
    local app = application(sc, ctx)
    local before = app:token()
    env.admin("POST", "/_emulator/v3/tokens/revoke", { accessToken = before })
    local v = vehicle(sc, ctx, app)
    local o = outcome(v:unlock())
    o.before, o.token = before, app:token()
    return o
  end,
  check = function(out, ctx, log)
    assert.is_nil(out.err)
    assert.are.equal("SUCCESS", out.res.status)
    assert.are.equal(2, #tokens(log))
    local calls = api(log)
    assert.are.equal(2, #calls)
    wire(calls[1], { method = "POST", path = "/v3/vehicles/" .. ctx.vehicleId .. "/commands/security/unlock",
      user = ctx.userId }, { token = out.before })
    wire(calls[2], { method = "POST", path = calls[1].path, user = ctx.userId }, out)
    assert.are_not.equal(out.before, out.token)
  end }

case { name = "a 401 answered again with the new token is returned: one refresh, one repeat, never a loop",
  prepare = unauthorized(3),
  run = vehicle_call(function(v) return v:attributes() end),
  check = function(out, _, log)
    assert.is_nil(out.res)
    assert.are.same({ 401, "UNAUTHORIZED" }, { out.err.statusCode, out.err.code:upper() }) -- the fault's body
    assert.is_nil(out.err.refreshError)
    assert.are.equal(2, #api(log), "API calls")
    assert.are.equal(2, #tokens(log), "token requests")
  end }

-- Where the app token and the client secret could show: nowhere but the token itself.
case { name = "the app token and the secret are never printed: tostring, fields, errors, onResponse",
  prepare = unauthorized(2),
  run = function(sc, ctx)
    local infos = {}
    sc.configure { onResponse = function(info) infos[#infos + 1] = info end }
    local app = application(sc, ctx)
    local v = vehicle(sc, ctx, app)
    local o = outcome(v:lock())
    local ok = outcome(v:attributes())
    local bad = application(sc, ctx, { clientSecret = ctx.clientSecret .. "-wrong" })
    o.badToken = outcome(bad:token())
    o.ok, o.infos = ok, infos
    o.strings = { tostring(app), tostring(v), tostring(bad) }
    o.fields = {}
    for _, obj in ipairs { app, v, bad } do
      for k, x in pairs(obj) do o.fields[#o.fields + 1] = tostring(k) .. "=" .. tostring(x) end
    end
    o.token = app:token()
    return o
  end,
  check = function(out, ctx, log)
    assert.are.equal(401, out.err.statusCode)
    assert.is_nil(out.ok.err)
    assert.are.equal(401, out.badToken.err.statusCode)
    local secrets = { out.token, ctx.clientSecret }
    for _, r in ipairs(api(log)) do secrets[#secrets + 1] = (header(r, "authorization") or ""):match("^Bearer (.+)$") end
    assert.is_true(#out.infos >= 4)
    local seen = {}
    local function walk(x, where)
      if type(x) == "string" then
        for _, s in ipairs(secrets) do assert.is_nil(x:find(s, 1, true), where .. " holds a secret") end
      elseif type(x) == "table" and not seen[x] then
        seen[x] = true
        for k, y in pairs(x) do walk(k, where) walk(y, where .. "." .. tostring(k)) end
      end
    end
    out.token = nil -- the one place it belongs
    walk(out, "outcome")
  end }

-- Long-running commands --------------------------------------------------------------------------

case { name = "a long-running command (202, the body finished 3 s later) returns its final status, sent once",
  options = { timeout = 1000 }, -- below the 3 s: the command's own deadline carries it
  prepare = slow_commands,
  run = function(sc, ctx, env)
    local statuses = {}
    sc.configure { onResponse = function(info) statuses[#statuses + 1] = info.status end }
    local app = application(sc, ctx, { commandTimeout = 8000 })
    local t0 = env.clock()
    local o = outcome(vehicle(sc, ctx, app):unlock())
    o.elapsed, o.statuses, o.token = env.clock() - t0, statuses, app:token()
    return o
  end,
  check = function(out, ctx, log)
    assert.is_nil(out.err)
    assert.are.same({ "security-unlock", "SUCCESS" }, { out.res.commandType, out.res.status })
    assert.are.same(COMMAND_FIELDS, keys(out.res))
    assert.are.same({ 200, 202 }, out.statuses) -- the token, then the command's 202
    assert.is_true(out.elapsed >= 2.9 and out.elapsed < 6, ("%.2f s"):format(out.elapsed))
    one_call(log, { method = "POST", path = "/v3/vehicles/" .. ctx.vehicleId .. "/commands/security/unlock",
      user = ctx.userId }, out)
  end }

case { name = "a command is never sent twice: a long-running one past its deadline, a 503, with retries on",
  options = { timeout = 1000, retry = { attempts = 3, baseDelay = 10, maxDelay = 10 } },
  prepare = slow_commands,
  run = function(sc, ctx, env)
    local app = application(sc, ctx, { commandTimeout = 1200 })
    local v = vehicle(sc, ctx, app)
    local o = outcome(v:lock())
    env.admin("POST", "/_emulator/v3/config", { commandDelay = 0 })
    env.admin("POST", "/_emulator/faults", { fault = "status:503", count = 3, path = "/commands/" })
    o.failed = outcome(v:startCharge())
    env.admin("POST", "/_emulator/faults", { fault = "status:503", count = 3, path = "/charge%-schedules/" })
    o.schedule = outcome(v:createDailyChargeSchedule(SCHEDULES[1][3]))
    env.admin("POST", "/_emulator/faults", { fault = "status:503", count = 2, path = "^/v3/vehicles/[^/]+$" })
    o.read = outcome(v:attributes()) -- a read is tried again: the third attempt succeeds
    o.token = app:token()
    return o
  end,
  check = function(out, ctx, log)
    assert.is_nil(out.res)
    assert.are.same({ "SDK_ERROR", "TIMEOUT", 1 }, { out.err.type, out.err.code, out.err.attempts })
    assert.are.same({ 503, 1 }, { out.failed.err.statusCode, out.failed.err.attempts })
    assert.are.same({ 503, 1 }, { out.schedule.err.statusCode, out.schedule.err.attempts })
    assert.is_nil(out.read.err)
    local function count(suffix)
      return #matching(api(log), function(r) return r.path == "/v3/vehicles/" .. ctx.vehicleId .. suffix end)
    end
    assert.are.same({ 1, 1, 1, 3 }, { count("/commands/security/lock"), count("/commands/charge/start"),
      count("/charge-schedules/daily"), count("") })
  end }

--- Run case `name` on the SDK instance `sc`.
function M.run(name, sc, ctx, env)
  return CASES[name].run(sc, ctx, env)
end

return M
