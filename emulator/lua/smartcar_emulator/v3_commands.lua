-- Vehicle API v3 with an application token: GET /v3/vehicles/{id} (wrapped resource), the commands
-- POST /v3/vehicles/{id}/commands/<family>/<action> (one request/response shape) and the charge schedules
-- POST /v3/vehicles/{id}/charge-schedules/{daily,weekly,workweek}, GET and DELETE
-- /v3/vehicles/{id}/charge-schedules/{scheduleId}, on the same vehicle records the v2 endpoints read and
-- write. A failing vehicle (the test-mode error emails) fails them as v2 fails it. A change slower than the
-- long-running threshold answers 202 at once and writes its outcome into the same (chunked) body when the
-- vehicle finishes.
local fixtures = require "smartcar_emulator.fixtures"
local vehicle = require "smartcar_emulator.vehicle"
local C = require "smartcar_emulator.v3_common"
local conns = require "smartcar_emulator.v3_connections"
local json, util, state, obj = C.json, C.util, C.state, C.obj

local M = {}

--- The connections of an application to a vehicle.
local function app_connections(appId, vid)
  local out = {}
  for _, c in ipairs(state.connections) do
    if c.clientId == appId and c.vehicleId == vid then out[#out + 1] = c end
  end
  return out
end

--- Authorise an app-token request on vehicle vid. need_user: sc-user-id is required.
-- Returns v, grant (a v2-like grant of that user for that vehicle, or nil without a user) or nil, error.
function M.authorize(ctx, tok, vid, need_user)
  local uid = C.user_id(ctx)
  if need_user and not uid then return nil, C.missing_user(ctx) end
  local list = app_connections(tok.appId, vid)
  if #list == 0 then
    if state.vehicles[vid] then return nil, C.access_denied(ctx) end
    return nil, C.not_found(ctx, "VEHICLE_NOT_FOUND", "Vehicle with ID " .. vid .. " not found")
  end
  local c = list[1]
  if uid then
    c = conns.find(tok.appId, uid, vid)
    if not c then return nil, C.access_denied(ctx) end
  end
  local v = conns.vehicle_of(c)
  local grant
  if uid then
    local set, scopeList = conns.scope(c)
    grant = { clientId = tok.appId, userId = uid, vehicles = { [vid] = true }, vehicleList = { vid }, scope = set,
      scopeList = scopeList, mode = c.mode, app = true }
  end
  return v, grant, c
end

local function vehicle_resource(v, c)
  return obj({ "id", "type", "attributes", "links" }, { id = v.id, type = "vehicle",
    attributes = conns.vehicle_attributes(v, C.mode(c.mode)), links = { self = "/vehicles/" .. v.id } })
end

--- GET /v3/vehicles/{id} with an application token: {"data": vehicle}.
function M.get_vehicle(ctx, tok, vid)
  local v, _, c = M.authorize(ctx, tok, vid, false)
  if not v then return _ end
  local wait = vehicle.rate_check(vid)
  if wait then return C.err(ctx, "RATE_LIMIT", "VEHICLE", { retryAfter = wait }) end
  return C.ok({ data = vehicle_resource(v, c) })
end

-- Commands ------------------------------------------------------------------------------------------

local function whole(x)
  return type(x) == "number" and x == math.floor(x)
end

local function plugged_charge(v, start)
  if not v.isPluggedIn then return "VEHICLE_STATE", "CHARGING_PLUG_NOT_CONNECTED" end
  if start then
    if v.chargeState == "CHARGING" then return "VEHICLE_STATE", "CHARGING_IN_PROGRESS" end
    if v.chargeState == "FULLY_CHARGED" then return "VEHICLE_STATE", "FULLY_CHARGED" end
    v.chargeState = "CHARGING"
  else
    if v.chargeState ~= "CHARGING" then return "VEHICLE_STATE", "NOT_CHARGING" end
    v.chargeState = "NOT_CHARGING"
  end
  return nil
end

--- Append the errors of a latitude/longitude pair (prefix names the object holding them) to out.
local function check_position(out, a, prefix)
  local lat, lon = a.latitude, a.longitude
  if lat == nil then out[#out + 1] = { "MISSING_PARAMETER", "missing " .. prefix .. "latitude" }
  elseif type(lat) ~= "number" or lat < -90 or lat > 90 then
    out[#out + 1] = { "INVALID_INPUT_FORMAT", "Invalid latitude. Latitude must be a number between -90 and 90." }
  end
  if lon == nil then out[#out + 1] = { "MISSING_PARAMETER", "missing " .. prefix .. "longitude" }
  elseif type(lon) ~= "number" or lon < -180 or lon > 180 then
    out[#out + 1] = { "INVALID_INPUT_FORMAT", "Invalid longitude. Longitude must be a number between -180 and 180." }
  end
end

-- path → { commandType, permission, capability key (v2 endpoint), validate(attrs) → errors|nil, apply(v, p) }
M.COMMANDS = {
  ["charge/start"] = { "charge-start", "control_charge", "/charge", nil,
    function(v) return plugged_charge(v, true) end },
  ["charge/stop"] = { "charge-stop", "control_charge", "/charge", nil,
    function(v) return plugged_charge(v, false) end },
  ["charge/set-limit"] = { "charge-set-limit", "control_charge", "/charge/limit", function(a)
    if a.percent == nil then return { { "MISSING_PARAMETER", "missing percent" } } end
    if not whole(a.percent) or a.percent < 50 or a.percent > 100 then
      return { { "INVALID_INPUT_FORMAT", "Invalid percent. Percent must be an integer between 50 and 100." } }
    end
  end, function(v, a) v.chargeLimit = a.percent / 100 end },
  ["charge-port/open"] = { "charge-port-open", "control_charge", "/charge", nil,
    function(v) v.chargePortOpen = true end },
  ["charge-port/close"] = { "charge-port-close", "control_charge", "/charge", nil,
    function(v) v.chargePortOpen = false end },
  ["security/lock"] = { "security-lock", "control_security", nil, nil, function(v) v.isLocked = true end },
  ["security/unlock"] = { "security-unlock", "control_security", nil, nil, function(v) v.isLocked = false end },
  ["navigation/set-destination"] = { "navigation-set-destination", "control_navigation", nil, function(a)
    local out = {}
    check_position(out, a, "")
    if #out > 0 then return out end
  end, function(v, a) v.destination = { latitude = a.latitude, longitude = a.longitude } end },
}

local function exec_id(s)
  s.execSeq = s.execSeq + 1
  return "exec_" .. util.uuid(state.seed, "exec:" .. s.gen .. ":" .. s.execSeq):gsub("%-", ""):sub(1, 20)
end

local function exec_meta(started, finished)
  return obj({ "executedAt", "completedAt", "durationInSeconds" }, { executedAt = C.iso(started),
    completedAt = C.iso(finished), durationInSeconds = math.floor(finished - started + 0.5) })
end

local function execution(ctype, mode, started)
  return { data = obj({ "id", "type", "attributes", "meta" }, { id = exec_id(C.store()), type = "command-execution",
    attributes = obj({ "commandType", "status", "executionMode" }, { commandType = ctype,
      status = { value = "SUCCESS" }, executionMode = mode }),
    meta = exec_meta(started, state.now()) }) }
end

--- The seconds a command takes at vehicle vid.
function M.delay(vid)
  local s = C.store()
  return s.vehicleDelay[vid] or s.config.commandDelay or 0
end

-- The vehicle's part of a change: the vehicle's failure first (as v2 fails a test-mode error vehicle), then
-- change(v) → nil or an error (type, code), skipped for a test-mode connection (it succeeds and changes
-- nothing, as the v2 commands of a test-mode grant do); done() builds the success body.
local function at_vehicle(ctx, v, grant, change, done)
  local failed = C.vehicle_error(ctx, v)
  if failed then return failed end
  local live = grant.mode ~= "test"
  if live then
    local etype, code = change(v)
    if etype then return C.err(ctx, etype, code) end
  end
  local res = C.ok(done())
  if live then require("smartcar_emulator.v3_deliveries").check(v) end
  return res
end

-- Run a change at vehicle v after the vehicle rate limit and its delay: 200 with the outcome, or past the
-- long-running threshold 202 at once (no Content-Length: chunked) and the outcome later in the same body.
-- perform(mode, started) returns the outcome response.
local function execute(ctx, vid, perform)
  local wait = vehicle.rate_check(vid)
  if wait then return C.err(ctx, "RATE_LIMIT", "VEHICLE", { retryAfter = wait }) end
  local delay = M.delay(vid)
  local started = state.now()
  if delay > 0 and delay >= C.store().config.longRunningThreshold then
    ngx.status = 202
    ngx.header["Content-Type"] = "application/json"
    ngx.header["SC-Request-Id"] = ctx.request_id
    ngx.send_headers()
    ngx.flush(true)
    ngx.sleep(delay)
    ngx.print(json.encode(perform("async", started).json))
    ngx.flush(true)
    return { status = 202, sent = true }
  end
  if delay > 0 then ngx.sleep(delay) end
  return perform("sync", started)
end

--- POST /v3/vehicles/{id}/commands/<family>/<action>
function M.command(ctx, tok, vid, path)
  local cmd = M.COMMANDS[path]
  if not cmd or ctx.method ~= "POST" then return C.invalid_path(ctx) end
  local v, grant = M.authorize(ctx, tok, vid, true)
  if not v then return grant end
  if not grant.scope[cmd[2]] then return C.insufficient_permissions(ctx, cmd[2]) end
  local attrs, e = C.attributes(ctx, cmd[4] ~= nil)
  if not attrs then return e end
  if cmd[4] then
    local bad = cmd[4](attrs)
    if bad then return C.validation(ctx, bad) end
  end
  if v.incompatible or (cmd[3] and not fixtures.capable(v, cmd[3])) then
    return C.err(ctx, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
  end
  return execute(ctx, vid, function(mode, started)
    return at_vehicle(ctx, v, grant, function() return cmd[5](v, attrs) end,
      function() return execution(cmd[1], mode, started) end)
  end)
end

-- Charge schedules (reference §3.9) --------------------------------------------------------------------

-- The schedule kinds each make supports (Tesla all three, Volvo daily; any other make 501).
M.SCHEDULE_MAKES = { TESLA = { daily = true, weekly = true, workweek = true }, VOLVO = { daily = true } }
M.DAYS = { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" }
local WEEKDAYS, WEEKENDS = { "monday", "tuesday", "wednesday", "thursday", "friday" }, { "saturday", "sunday" }

local function hhmm(x)
  if type(x) ~= "string" then return false end
  local h, m = x:match("^(%d%d):(%d%d)$")
  return h ~= nil and tonumber(h) < 24 and tonumber(m) < 60
end

-- Append the errors of a {startTime, stopTime} window to out; name is the object holding it ("weekdays",
-- "days.monday"), nil for the request's attributes themselves (daily).
local function check_window(out, w, name)
  if type(w) ~= "table" then
    out[#out + 1] = { "MISSING_PARAMETER", "missing " .. name }
    return
  end
  local prefix = name and (name .. ".") or ""
  for _, k in ipairs({ "startTime", "stopTime" }) do
    if w[k] == nil then out[#out + 1] = { "MISSING_PARAMETER", "missing " .. prefix .. k }
    elseif not hhmm(w[k]) then
      out[#out + 1] = { "INVALID_INPUT_FORMAT", "Invalid " .. prefix .. k .. ". It must be a time HH:mm from " ..
        "00:00 to 23:59." }
    end
  end
end

-- kind → validate(attrs) → errors or nil, windows(attrs) → { {days, startTime, stopTime} … }
local SCHEDULES = {
  daily = {
    function(a, out) check_window(out, a, nil) end,
    function(a) return { { days = M.DAYS, startTime = a.startTime, stopTime = a.stopTime } } end,
  },
  weekly = {
    function(a, out)
      if type(a.days) ~= "table" or next(a.days) == nil then
        out[#out + 1] = { "MISSING_PARAMETER", "missing days" }
        return
      end
      local known = {}
      for _, d in ipairs(M.DAYS) do known[d] = true end
      for k in pairs(a.days) do
        if not known[k] then
          out[#out + 1] = { "INVALID_INPUT_FORMAT", "Invalid days." .. tostring(k) .. ". Days are monday to sunday." }
        end
      end
      for _, d in ipairs(M.DAYS) do
        if a.days[d] ~= nil then check_window(out, a.days[d], "days." .. d) end
      end
    end,
    function(a)
      local out = {}
      for _, d in ipairs(M.DAYS) do
        local w = a.days[d]
        if w then out[#out + 1] = { days = { d }, startTime = w.startTime, stopTime = w.stopTime } end
      end
      return out
    end,
  },
  workweek = {
    function(a, out)
      check_window(out, a.weekdays, "weekdays")
      check_window(out, a.weekends, "weekends")
    end,
    function(a)
      return { { days = WEEKDAYS, startTime = a.weekdays.startTime, stopTime = a.weekdays.stopTime },
        { days = WEEKENDS, startTime = a.weekends.startTime, stopTime = a.weekends.stopTime } }
    end,
  },
}
--- The validation errors of a schedule body (one per bad field), or nil.
local function validate_schedule(kind, a)
  local out = {}
  if type(a.location) ~= "table" then
    out[#out + 1] = { "MISSING_PARAMETER", "missing location" }
  else
    check_position(out, a.location, "location.")
  end
  SCHEDULES[kind][1](a, out)
  if #out > 0 then return out end
end

local function schedule_path(vid, id) return "/vehicles/" .. vid .. "/charge-schedules/" .. id end

local function schedule_parameters(kind, a)
  local loc = obj({ "latitude", "longitude" }, { latitude = a.location.latitude, longitude = a.location.longitude })
  if kind == "daily" then
    return obj({ "location", "startTime", "stopTime" }, { location = loc, startTime = a.startTime,
      stopTime = a.stopTime })
  elseif kind == "weekly" then
    local days = obj(M.DAYS, {})
    for _, d in ipairs(M.DAYS) do
      local w = a.days[d]
      if w then days[d] = obj({ "startTime", "stopTime" }, { startTime = w.startTime, stopTime = w.stopTime }) end
    end
    return obj({ "location", "days" }, { location = loc, days = days })
  end
  local function win(w) return obj({ "startTime", "stopTime" }, { startTime = w.startTime, stopTime = w.stopTime }) end
  return obj({ "location", "weekdays", "weekends" }, { location = loc, weekdays = win(a.weekdays),
    weekends = win(a.weekends) })
end

local function schedule_execution(vid, action, sched, mode, started)
  return { data = obj({ "id", "type", "attributes", "links", "meta" }, { id = exec_id(C.store()),
    type = "charge-schedule-execution",
    attributes = obj({ "action", "scheduleType", "status", "executionMode", "scheduleId", "parameters" }, {
      action = action, scheduleType = sched.scheduleType, status = { value = "SUCCESS" }, executionMode = mode,
      scheduleId = sched.id, parameters = sched.parameters }),
    links = { schedule = schedule_path(vid, sched.id) },
    meta = exec_meta(started, state.now()) }) }
end

local function find_schedule(v, id)
  for i, sched in ipairs(v.chargeSchedules or {}) do
    if sched.id == id then return sched, i end
  end
  return nil
end

local function schedule_not_found(ctx, vid, id)
  return C.not_found(ctx, "SCHEDULE_NOT_FOUND", "Charge schedule with ID " .. id .. " not found for vehicle " ..
    "with ID " .. vid)
end

local function schedule_resource(vid, sched)
  return obj({ "id", "type", "attributes", "meta", "links" }, { id = sched.id, type = "charge-schedule",
    attributes = obj({ "scheduleType", "parameters" }, { scheduleType = sched.scheduleType,
      parameters = sched.parameters }),
    meta = obj({ "createdAt" }, { createdAt = C.iso(sched.createdAt) }),
    links = { self = schedule_path(vid, sched.id) } })
end

--- /v3/vehicles/{id}/charge-schedules/<kind | scheduleId>
function M.schedule(ctx, tok, vid, rest)
  local kind = SCHEDULES[rest] and rest
  local method = ctx.method
  if not rest:find("^[^/]+$") or (kind and method ~= "POST") or
      (not kind and method ~= "GET" and method ~= "DELETE") then
    return C.invalid_path(ctx)
  end
  local v, grant = M.authorize(ctx, tok, vid, true)
  if not v then return grant end
  local perm = method == "GET" and "read_charge" or "control_charge"
  if not grant.scope[perm] then return C.insufficient_permissions(ctx, perm) end
  if method == "GET" then
    local sched = find_schedule(v, rest)
    if not sched then return schedule_not_found(ctx, vid, rest) end
    return C.ok({ data = schedule_resource(vid, sched) })
  end
  if method == "DELETE" then
    local sched = find_schedule(v, rest)
    if not sched then
      -- a test-mode connection stored nothing when it created it: its delete succeeds, changing nothing
      if grant.mode ~= "test" then return schedule_not_found(ctx, vid, rest) end
      sched = { id = rest }
    end
    return execute(ctx, vid, function(mode, started)
      return at_vehicle(ctx, v, grant, function()
        local _, i = find_schedule(v, rest)
        if i then table.remove(v.chargeSchedules, i) end
      end, function() return schedule_execution(vid, "delete", sched, mode, started) end)
    end)
  end
  local attrs, e = C.attributes(ctx, true)
  if not attrs then return e end
  local bad = validate_schedule(kind, attrs)
  if bad then return C.validation(ctx, bad) end
  local makes = M.SCHEDULE_MAKES[v.make]
  if v.incompatible or not (makes and makes[kind]) then
    return C.err(ctx, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
  end
  local s = C.store()
  s.schedSeq = (s.schedSeq or 0) + 1
  local id = "sched_" .. util.uuid(state.seed, "sched:" .. s.gen .. ":" .. s.schedSeq):gsub("%-", ""):sub(1, 20)
  local sched = { id = id, scheduleType = kind, parameters = schedule_parameters(kind, attrs),
    windows = SCHEDULES[kind][2](attrs), createdAt = state.now() }
  return execute(ctx, vid, function(mode, started)
    return at_vehicle(ctx, v, grant, function()
      v.chargeSchedules = v.chargeSchedules or {}
      table.insert(v.chargeSchedules, sched)
    end,
      function() return schedule_execution(vid, "create", sched, mode, started) end)
  end)
end

return M
