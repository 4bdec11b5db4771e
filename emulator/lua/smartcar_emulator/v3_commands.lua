-- Vehicle API v3 with an application token: GET /v3/vehicles/{id} (wrapped resource) and the commands
-- POST /v3/vehicles/{id}/commands/<family>/<action> (one request/response shape), on the same vehicle
-- records the v2 endpoints read and write. A command slower than the long-running threshold answers 202
-- at once and writes its outcome into the same (chunked) body when the vehicle finishes.
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local fixtures = require "smartcar_emulator.fixtures"
local vehicle = require "smartcar_emulator.vehicle"
local C = require "smartcar_emulator.v3_common"
local conns = require "smartcar_emulator.v3_connections"

local M = {}

local obj = json.object

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
    local lat, lon = a.latitude, a.longitude
    if lat == nil then out[#out + 1] = { "MISSING_PARAMETER", "missing latitude" }
    elseif type(lat) ~= "number" or lat < -90 or lat > 90 then
      out[#out + 1] = { "INVALID_INPUT_FORMAT", "Invalid latitude. Latitude must be a number between -90 and 90." }
    end
    if lon == nil then out[#out + 1] = { "MISSING_PARAMETER", "missing longitude" }
    elseif type(lon) ~= "number" or lon < -180 or lon > 180 then
      out[#out + 1] = { "INVALID_INPUT_FORMAT",
        "Invalid longitude. Longitude must be a number between -180 and 180." }
    end
    if #out > 0 then return out end
  end, function(v, a) v.destination = { latitude = a.latitude, longitude = a.longitude } end },
}

local function execution(s, ctype, mode, started, finished)
  s.execSeq = s.execSeq + 1
  local id = "exec_" .. util.uuid(state.seed, "exec:" .. s.gen .. ":" .. s.execSeq):gsub("%-", ""):sub(1, 20)
  return { data = obj({ "id", "type", "attributes", "meta" }, { id = id, type = "command-execution",
    attributes = obj({ "commandType", "status", "executionMode" }, { commandType = ctype,
      status = { value = "SUCCESS" }, executionMode = mode }),
    meta = obj({ "executedAt", "completedAt", "durationInSeconds" }, { executedAt = C.iso(started),
      completedAt = C.iso(finished), durationInSeconds = math.floor(finished - started + 0.5) }) }) }
end

--- The seconds a command takes at vehicle vid.
function M.delay(vid)
  local s = C.store()
  return s.vehicleDelay[vid] or s.config.commandDelay or 0
end

-- The vehicle's part of a command: failure modes, then the command's effect. Returns a response.
-- A test-mode connection succeeds and changes nothing (as the v2 commands of a test-mode grant do).
local function at_vehicle(ctx, v, grant, cmd, attrs, mode, started)
  local s = C.store()
  if grant.mode == "test" then return C.ok(execution(s, cmd[1], mode, started, state.now())) end
  if v.fail then
    return C.err(ctx, v.fail[1], v.fail[2], { retryAfter = 30 })
  end
  local etype, code = cmd[5](v, attrs)
  if etype then return C.err(ctx, etype, code) end
  local res = C.ok(execution(s, cmd[1], mode, started, state.now()))
  local deliveries = require "smartcar_emulator.v3_deliveries"
  deliveries.check(v)
  return res
end

--- POST /v3/vehicles/{id}/commands/<family>/<action>
function M.command(ctx, tok, vid, path)
  local cmd = M.COMMANDS[path]
  if not cmd or ctx.method ~= "POST" then return C.invalid_path(ctx) end
  local v, grant = M.authorize(ctx, tok, vid, true)
  if not v then return grant end
  if not grant.scope[cmd[2]] then
    return C.err(ctx, "PERMISSION", "INSUFFICIENT_PERMISSIONS", { detail = "Your application has insufficient " ..
      "permissions to access the requested resource: " .. cmd[2] .. " was not granted." })
  end
  local attrs, e = C.attributes(ctx, cmd[4] ~= nil)
  if not attrs then return e end
  if cmd[4] then
    local bad = cmd[4](attrs)
    if bad then return C.validation(ctx, bad) end
  end
  if v.incompatible or (cmd[3] and not fixtures.capable(v, cmd[3])) then
    return C.err(ctx, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
  end
  local wait = vehicle.rate_check(vid)
  if wait then return C.err(ctx, "RATE_LIMIT", "VEHICLE", { retryAfter = wait }) end
  local delay = M.delay(vid)
  local started = state.now()
  local threshold = C.store().config.longRunningThreshold
  if delay > 0 and delay >= threshold then
    -- long-running: 202 now (no Content-Length: chunked), the outcome later in the same body
    ngx.status = 202
    ngx.header["Content-Type"] = "application/json"
    ngx.header["SC-Request-Id"] = ctx.request_id
    ngx.send_headers()
    ngx.flush(true)
    ngx.sleep(delay)
    local res = at_vehicle(ctx, v, grant, cmd, attrs, "async", started)
    ngx.print(json.encode(res.json))
    ngx.flush(true)
    return { status = 202, sent = true }
  end
  if delay > 0 then ngx.sleep(delay) end
  return at_vehicle(ctx, v, grant, cmd, attrs, "sync", started)
end

return M
