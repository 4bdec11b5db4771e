-- v1.0 / v2.0 vehicle endpoints: /vehicles/{id}/...
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local http = require "smartcar_emulator.http"
local fixtures = require "smartcar_emulator.fixtures"

local M = {}

local obj, arr, null = json.object, json.array, json.null
local round = util.round

local KM_PER_MI, L_PER_GAL, KPA_PER_PSI = 1.609344, 3.785411784, 6.894757

local function dist(ctx, km)
  if ctx.unit == "imperial" then return round(km / KM_PER_MI, 2) end
  return round(km, 2)
end
local function volume(ctx, l)
  if ctx.unit == "imperial" then return round(l / L_PER_GAL, 2) end
  return round(l, 2)
end
local function pressure(ctx, kpa)
  if ctx.unit == "imperial" then return round(kpa / KPA_PER_PSI, 2) end
  return round(kpa, 2)
end

-- Commands are stateful only for grants of the emulator's own simulation (mode "simulated", and
-- "live", where a real car would be): Smartcar's test mode answers every command with success and
-- changes nothing (docs guides/testing: "/security always returns a success status"; node-sdk
-- test/end-to-end/vehicle.js: startCharge then stopCharge both succeed on a test vehicle).
local function stateful(ctx)
  return ctx.grant.mode ~= "test"
end

local SUCCESS = { "status", "message" }
local function success()
  return http.ok(obj(SUCCESS, { status = "success", message = "Successfully sent request to vehicle" }))
end

-- Service history records: fixed dates, odometer fractions of the vehicle's odometer.
local SERVICE = {
  { "2023-03-14T09:30:00.000Z", 0.55, { { "3262", "Oil change" }, { "3263", "Tire rotation" } }, 189.5, "USD" },
  { "2024-01-22T15:10:00.000Z", 0.75, { { "4120", "Brake inspection" } }, nil, nil },
  { "2024-11-05T11:45:00.000Z", 0.92, { { "5001", "Multi-point inspection" }, { nil, nil } }, 74.25, "USD" },
}

local H = {}

H["GET "] = function(_, v)
  return http.ok(obj({ "id", "make", "model", "year" }, { id = v.id, make = v.make, model = v.model, year = v.year }))
end

H["GET /vin"] = function(_, v) return http.ok({ vin = v.vin }) end

H["GET /odometer"] = function(ctx, v) return http.ok({ distance = dist(ctx, v.odometer) }) end

H["GET /location"] = function(_, v)
  return http.ok(obj({ "latitude", "longitude" }, { latitude = v.latitude, longitude = v.longitude }))
end

H["GET /fuel"] = function(ctx, v)
  return http.ok(obj({ "amountRemaining", "percentRemaining", "range" }, {
    amountRemaining = volume(ctx, v.fuelAmount), percentRemaining = v.fuelPercent, range = dist(ctx, v.fuelRange) }))
end

H["GET /battery"] = function(ctx, v)
  return http.ok(obj({ "percentRemaining", "range" },
    { percentRemaining = v.batteryPercent, range = dist(ctx, v.batteryRange) }))
end

H["GET /battery/capacity"] = function(_, v) return http.ok({ capacity = v.kwh }) end

H["GET /battery/nominal_capacity"] = function(_, v)
  local base = v.kwh
  return http.ok(obj({ "availableCapacities", "capacity", "url" }, {
    availableCapacities = {
      obj({ "capacity", "description" }, { capacity = round(base - 10, 1), description = null }),
      obj({ "capacity", "description" }, { capacity = base, description = null }),
      obj({ "capacity", "description" }, { capacity = round(base + 10, 1), description = v.type .. ":Extended Range" }),
    },
    capacity = obj({ "nominal", "source" }, { nominal = base, source = "SMARTCAR" }),
    url = null,
  }))
end

H["GET /charge"] = function(_, v)
  return http.ok(obj({ "isPluggedIn", "state" }, { isPluggedIn = v.isPluggedIn, state = v.chargeState }))
end

H["GET /charge/limit"] = function(_, v) return http.ok({ limit = v.chargeLimit }) end

H["GET /engine/oil"] = function(_, v) return http.ok({ lifeRemaining = v.oilLife }) end

H["GET /tires/pressure"] = function(ctx, v)
  local t = v.tires
  return http.ok(obj({ "backLeft", "backRight", "frontLeft", "frontRight" }, {
    backLeft = pressure(ctx, t.backLeft), backRight = pressure(ctx, t.backRight),
    frontLeft = pressure(ctx, t.frontLeft), frontRight = pressure(ctx, t.frontRight) }))
end

local function items(list)
  local out = arr()
  for i, e in ipairs(list) do out[i] = obj({ "type", "status" }, { type = e[1], status = e[2] }) end
  return out
end

H["GET /security"] = function(_, v)
  return http.ok(obj({ "isLocked", "doors", "windows", "sunroof", "storage", "chargingPort" }, {
    isLocked = v.isLocked,
    doors = items({ { "frontLeft", "CLOSED" }, { "frontRight", "CLOSED" }, { "backRight", "CLOSED" },
      { "backLeft", "CLOSED" } }),
    windows = items({ { "frontLeft", "CLOSED" }, { "frontRight", "CLOSED" }, { "backRight", "CLOSED" },
      { "backLeft", "UNKNOWN" } }),
    sunroof = items({ { "sunroof", "CLOSED" } }),
    storage = items({ { "rear", "CLOSED" }, { "front", "UNKNOWN" } }),
    chargingPort = v.type == "ICE" and arr() or items({ { "chargingPort", v.isPluggedIn and "OPEN" or "CLOSED" } }),
  }))
end

H["GET /service/history"] = function(ctx, v)
  local a = ctx.args
  local s = a.start_date or a.startDate
  local e = a.end_date or a.endDate
  local from, to
  if s and s ~= "" then
    from = util.parse_date(s)
    if not from then return http.validation(ctx, "PARAMETER", { "start_date" }, "Invalid date: " .. s) end
  end
  if e and e ~= "" then
    to = util.parse_date(e)
    if not to then return http.validation(ctx, "PARAMETER", { "end_date" }, "Invalid date: " .. e) end
    if not e:find("T") then to = to + 86399.999 end
  end
  local out = arr()
  for i, r in ipairs(SERVICE) do
    local t = util.parse_date(r[1])
    if (not from or t >= from) and (not to or t <= to) then
      local tasks = arr()
      for j, task in ipairs(r[3]) do
        tasks[j] = obj({ "taskId", "taskDescription" }, { taskId = task[1] or null, taskDescription = task[2] or null })
      end
      out[#out + 1] = obj({ "serviceId", "odometerDistance", "serviceDate", "serviceTasks", "serviceDetails",
        "serviceCost" }, {
        serviceId = i == 2 and null or tostring(9000 + i),
        odometerDistance = round(v.odometer * r[2], 2),
        serviceDate = r[1],
        serviceTasks = tasks,
        serviceDetails = { obj({ "type", "value" }, { type = "dealership", value = v.make .. " Service Center" }) },
        serviceCost = obj({ "totalCost", "currency" }, { totalCost = r[4] or null, currency = r[5] or null }),
      })
    end
  end
  return http.ok(out)
end

H["GET /diagnostics/system_status"] = function(_, v)
  local sys = function(id, st, d) return obj({ "systemId", "status", "description" },
    { systemId = id, status = st, description = d or null }) end
  return http.ok({ systems = {
    sys("SYSTEM_TPMS", v.tpmsAlert and "ALERT" or "OK", v.tpmsAlert and "Left rear tire sensor battery low" or nil),
    sys("SYSTEM_AIRBAG", "OK"), sys("SYSTEM_MIL", "OK"), sys("SYSTEM_ABS", "OK"),
    sys("SYSTEM_BRAKE_FLUID", "OK"),
  } })
end

H["GET /diagnostics/dtcs"] = function(_, v)
  local codes = arr()
  if v.tpmsAlert then
    codes[#codes + 1] = obj({ "code", "timestamp" }, { code = "C0750", timestamp = "2024-09-05T14:48:00.000Z" })
  end
  if v.type ~= "BEV" then
    codes[#codes + 1] = obj({ "code", "timestamp" }, { code = "P0420", timestamp = null })
  end
  return http.ok({ activeCodes = codes })
end

local function nonneg_int(s, default)
  if s == nil or s == "" then return default end
  if type(s) ~= "string" or not s:find("^%d+$") then return nil end
  return tonumber(s)
end

H["GET /permissions"] = function(ctx)
  local limit = nonneg_int(ctx.args.limit, 25)
  local offset = nonneg_int(ctx.args.offset, 0)
  if not limit or limit < 1 then
    return http.validation(ctx, "PARAMETER", { "limit" }, "\"limit\" must be a positive integer")
  end
  if not offset then
    return http.validation(ctx, "PARAMETER", { "offset" }, "\"offset\" must be a non-negative integer")
  end
  local all = ctx.grant.scopeList
  local page = arr()
  for i = offset + 1, math.min(#all, offset + limit) do page[#page + 1] = all[i] end
  return http.ok(obj({ "permissions", "paging" }, { permissions = page,
    paging = obj({ "count", "offset" }, { count = #all, offset = offset }) }))
end

local function action_of(ctx, allowed)
  local body, e = http.json_body(ctx, true)
  if not body then return nil, e end
  local action = body.action
  if action == nil then
    return nil, http.validation(ctx, nil, { "action" }, "\"action\" is required")
  end
  if type(action) ~= "string" or not allowed[action] then
    return nil, http.validation(ctx, "PARAMETER", { "action" }, "\"action\" must be one of [" ..
      table.concat(allowed, ", ") .. "]")
  end
  return action, body
end

local LOCK_ACTIONS = { "LOCK", "UNLOCK", LOCK = true, UNLOCK = true }
H["POST /security"] = function(ctx, v)
  local action, e = action_of(ctx, LOCK_ACTIONS)
  if not action then return e end
  if stateful(ctx) then v.isLocked = action == "LOCK" end
  return success()
end

local CHARGE_ACTIONS = { "START", "STOP", START = true, STOP = true }
H["POST /charge"] = function(ctx, v)
  local action, e = action_of(ctx, CHARGE_ACTIONS)
  if not action then return e end
  if not stateful(ctx) then return success() end
  if not v.isPluggedIn then return http.err(ctx, "VEHICLE_STATE", "CHARGING_PLUG_NOT_CONNECTED") end
  if action == "START" then
    if v.chargeState == "CHARGING" then return http.err(ctx, "VEHICLE_STATE", "CHARGING_IN_PROGRESS") end
    if v.chargeState == "FULLY_CHARGED" then return http.err(ctx, "VEHICLE_STATE", "FULLY_CHARGED") end
    v.chargeState = "CHARGING"
  else
    if v.chargeState ~= "CHARGING" then return http.err(ctx, "VEHICLE_STATE", "NOT_CHARGING") end
    v.chargeState = "NOT_CHARGING"
  end
  return success()
end

local function number_of(x)
  if type(x) == "number" then return x end
  if type(x) == "string" and x:find("^%s*[-+]?%d*%.?%d+%s*$") then return tonumber(x) end
  return nil
end

H["POST /charge/limit"] = function(ctx, v)
  local body, e = http.json_body(ctx, true)
  if not body then return e end
  if body.limit == nil then return http.validation(ctx, nil, { "limit" }, "\"limit\" is required") end
  local limit = number_of(body.limit)
  if not limit then return http.validation(ctx, "PARAMETER", { "limit" }, "\"limit\" must be a number") end
  if limit < 0.5 or limit > 1 then
    return http.validation(ctx, "PARAMETER", { "limit" }, "\"limit\" must be between 0.5 and 1")
  end
  if stateful(ctx) then v.chargeLimit = limit end
  return success()
end

H["POST /navigation/destination"] = function(ctx, v)
  local body, e = http.json_body(ctx, true)
  if not body then return e end
  local lat, lon = number_of(body.latitude), number_of(body.longitude)
  if body.latitude == nil then return http.validation(ctx, nil, { "latitude" }, "\"latitude\" is required") end
  if body.longitude == nil then return http.validation(ctx, nil, { "longitude" }, "\"longitude\" is required") end
  if not lat or lat < -90 or lat > 90 then
    return http.validation(ctx, "PARAMETER", { "latitude" }, "Invalid latitude value. It must be between -90 and 90.")
  end
  if not lon or lon < -180 or lon > 180 then
    return http.validation(ctx, "PARAMETER", { "longitude" },
      "Invalid longitude value. It must be between -180 and 180.")
  end
  if stateful(ctx) then v.destination = { latitude = lat, longitude = lon } end
  return success()
end

H["DELETE /application"] = function(ctx, v)
  state.revoke(ctx.grant.clientId, ctx.grant.userId, v.id)
  return http.ok({ status = "success" })
end

-- Endpoint metadata: permission, static (exempt from test-mode failures), data read, capability key.
local E = {
  ["GET "] = { perm = "read_vehicle_info", static = true },
  ["GET /vin"] = { perm = "read_vin", static = true, data = true },
  ["GET /permissions"] = { static = true },
  ["GET /odometer"] = { perm = "read_odometer", data = true },
  ["GET /location"] = { perm = "read_location", data = true },
  ["GET /fuel"] = { perm = "read_fuel", data = true, cap = "/fuel" },
  ["GET /battery"] = { perm = "read_battery", data = true, cap = "/battery" },
  ["GET /battery/capacity"] = { perm = "read_battery", data = true, cap = "/battery/capacity" },
  ["GET /battery/nominal_capacity"] = { perm = "read_battery", data = true, cap = "/battery/nominal_capacity" },
  ["GET /charge"] = { perm = "read_charge", data = true, cap = "/charge" },
  ["GET /charge/limit"] = { perm = "read_charge", data = true, cap = "/charge/limit" },
  ["GET /engine/oil"] = { perm = "read_engine_oil", data = true, cap = "/engine/oil" },
  ["GET /tires/pressure"] = { perm = "read_tires", data = true },
  ["GET /security"] = { perm = "read_security", data = true },
  ["GET /service/history"] = { perm = "read_service_history", data = true },
  ["GET /diagnostics/system_status"] = { perm = "read_diagnostics", data = true },
  ["GET /diagnostics/dtcs"] = { perm = "read_diagnostics", data = true },
  ["POST /security"] = { perm = "control_security" },
  ["POST /charge"] = { perm = "control_charge", cap = "/charge" },
  ["POST /charge/limit"] = { perm = "control_charge", cap = "/charge/limit" },
  ["POST /navigation/destination"] = { perm = "control_navigation" },
  ["DELETE /application"] = { static = true },
}
for key, e in pairs(E) do e.fn = H[key]; e.get = key:sub(1, 4) == "GET " end
M.ENDPOINTS = E

-- GET paths allowed in batch, keyed by the normalised path ("/" for attributes).
M.BATCHABLE = {}
for key, e in pairs(E) do
  if e.get then
    local p = key:sub(5)
    M.BATCHABLE[p == "" and "/" or p] = e
  end
end

local V1_FAIL_STATUS = {}

--- Run one endpoint for an authorised vehicle (also used by batch).
local function run(ctx, v, e)
  if e.perm and not ctx.grant.scope[e.perm] then
    return http.err(ctx, "PERMISSION", nil)
  end
  if not e.static then
    if v.fail then
      local etype, code = v.fail[1], v.fail[2]
      local opts = { retryAfter = 30 }
      if etype == "CONNECTED_SERVICES_ACCOUNT" and code == "AUTHENTICATION_FAILED" then
        opts.resolutionUrl = ctx.origin .. "/oauth/reauthenticate?response_type=vehicle_id&client_id=" ..
          ctx.grant.clientId .. "&vehicle_id=" .. v.id
        opts.reauthUrl = opts.resolutionUrl
      elseif etype == "SERVER" and code == "MULTIPLE_RECORDS_FOUND" then
        opts.detail = { { capacities = { 83.9, 83.9, 70.2 } } }
      end
      return http.err(ctx, etype, code, opts)
    end
    if v.v1fail then
      local c = require("smartcar_emulator.errors").V1_CODES[v.v1fail]
      return http.err(ctx, c[4], c[5], { v1code = v.v1fail })
    end
    if e.cap and not fixtures.capable(v, e.cap) or v.incompatible then
      return http.err(ctx, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    end
  end
  local res = e.fn(ctx, v, ctx.grant)
  if e.get and not res.error then
    local h = res.headers or {}
    res.headers = h
    if e.data then
      local now = state.now()
      h["SC-Data-Age"] = util.iso(now - v.dataAgeSeconds)
      h["SC-Fetched-At"] = util.iso(now)
    end
    h["SC-Unit-System"] = ctx.unit
  end
  return res
end
M.run = run
M.V1_FAIL_STATUS = V1_FAIL_STATUS

--- Rate limit per vehicle: nil when allowed, else retry-after seconds.
local function rate_check(vid)
  local cfg = state.config
  local limit = cfg.rateLimit or 0
  if limit <= 0 then return nil end
  local window = (cfg.rateWindow and cfg.rateWindow > 0) and cfg.rateWindow or 60
  local now = state.now()
  local r = state.rate[vid]
  if not r or now >= r.start + window then
    r = { start = now, count = 0 }
    state.rate[vid] = r
  end
  if r.count >= limit then
    local wait = math.ceil(r.start + window - now)
    if wait < 1 then wait = 1 end
    return wait
  end
  r.count = r.count + 1
  return nil
end
M.rate_check = rate_check

local function latency()
  local ms = state.config.latency or 0
  if ms > 0 then ngx.sleep(ms / 1000) end
end
M.latency = latency

local function batch(ctx, v)
  local body, e = http.json_body(ctx, true)
  if not body then return e end
  local reqs = body.requests
  if reqs == nil then
    return http.validation(ctx, nil, { "requests" }, "\"requests\" is required")
  end
  if type(reqs) ~= "table" or (next(reqs) ~= nil and reqs[1] == nil) then
    return http.validation(ctx, nil, { "requests" }, "\"requests\" must be an array")
  end
  local paths = {}
  for i, r in ipairs(reqs) do
    local p = type(r) == "table" and r.path
    if type(p) ~= "string" then
      return http.validation(ctx, nil, { "requests", i - 1, "path" }, "\"path\" is required")
    end
    p = p:gsub("%?.*$", "")
    if p:sub(1, 1) ~= "/" then p = "/" .. p end
    if #p > 1 then p = p:gsub("/+$", "") end
    if not M.BATCHABLE[p] then
      return http.validation(ctx, nil, { "requests", i - 1, "path" }, "\"" .. r.path .. "\" is not a valid path")
    end
    paths[i] = p
  end
  local out = arr()
  local saved_method = ctx.method
  ctx.method = "GET"
  for i, p in ipairs(paths) do
    local res = run(ctx, v, M.BATCHABLE[p])
    local hdrs = {}
    for k, val in pairs(res.headers or {}) do
      local lk = k:lower()
      if lk:sub(1, 3) == "sc-" or lk == "retry-after" then hdrs[lk] = val end
    end
    out[i] = obj({ "path", "code", "body", "headers" }, { path = p, code = res.status, body = res.json, headers = hdrs })
  end
  ctx.method = saved_method
  return http.ok({ responses = out })
end

-- Vehicle id forms Smartcar uses: a UUID, the same 8-4-4-4-12 shape with any letters (the v3 test
-- vehicle "tst2e255-d3c8-…" of node-sdk test/end-to-end/vehicle.js), and "sc" + that shape (docs
-- connect/re-auth: vehicle_id=sc4a1b01e5-0497-417c-a30e-6df6ba33ba46). "bad_id" stays a 400.
local ID_SHAPE = "^%w%w%w%w%w%w%w%w%-%w%w%w%w%-%w%w%w%w%-%w%w%w%w%-%w%w%w%w%w%w%w%w%w%w%w%w$"
local function vehicle_id_ok(vid)
  if type(vid) ~= "string" then return false end
  return vid:find(ID_SHAPE) ~= nil or (vid:sub(1, 2) == "sc" and vid:sub(3):find(ID_SHAPE) ~= nil)
end
M.vehicle_id_ok = vehicle_id_ok

local function webhook(ctx, vid, wid, method)
  if method == "DELETE" then
    local amt = http.bearer(ctx)
    local app = amt and state.appsByAmt[amt]
    if not app then return http.err(ctx, "AUTHENTICATION", nil) end
    ctx.app = app
    if not vehicle_id_ok(vid) then
      return http.validation(ctx, nil, { "vehicle_id" }, "\"vehicle_id\" must be a valid UUID")
    end
    state.subscriptions[vid .. "|" .. wid] = nil
    return http.ok({ status = "success" })
  end
  return nil
end

--- Entry: ctx.version is "1.0" or "2.0"; sub is "" or "/odometer" etc.
function M.handle(ctx, vid, sub)
  local method = ctx.method
  local wid = sub:match("^/webhooks/([^/]+)$")
  if wid and method == "DELETE" then return webhook(ctx, vid, wid, method) end
  local key = method .. " " .. sub
  local e = E[key]
  local is_batch = key == "POST /batch"
  local is_sub = wid and method == "POST"
  if not e and not is_batch and not is_sub then
    return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH")
  end
  local grant = state.grant_for(http.bearer(ctx))
  if not grant then return http.err(ctx, "AUTHENTICATION", nil) end
  ctx.grant = grant
  if not vehicle_id_ok(vid) then
    return http.validation(ctx, nil, { "vehicle_id" }, "\"vehicle_id\" must be a valid GUID")
  end
  if not grant.vehicles[vid] then return http.err(ctx, "AUTHENTICATION", nil) end
  local v = state.vehicles[vid]
  if not v then return http.err(ctx, "AUTHENTICATION", nil) end
  ctx.vehicle = v
  local wait = rate_check(vid)
  if wait then return http.err(ctx, "RATE_LIMIT", "VEHICLE", { retryAfter = wait }) end
  latency()
  local h = ctx.headers["sc-unit-system"]
  ctx.unit = (h == "imperial") and "imperial" or "metric"
  if is_batch then return batch(ctx, v) end
  if is_sub then
    local hook = state.webhooks[wid]
    if not hook or hook.clientId ~= grant.clientId then
      return http.validation(ctx, nil, { "webhook_id" }, "Webhook " .. wid .. " does not exist for this application")
    end
    state.subscriptions[vid .. "|" .. wid] = { vehicleId = vid, webhookId = wid }
    return http.ok(obj({ "webhookId", "vehicleId" }, { webhookId = wid, vehicleId = vid }))
  end
  return run(ctx, v, e)
end

return M
