-- API v3 (vehicle origin): /v3/vehicles/{id}, /signals, /signals/{code} in JSON:API shape.
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local http = require "smartcar_emulator.http"
local vehicle = require "smartcar_emulator.vehicle"
local C = require "smartcar_emulator.v3_common"

local M = {}

local obj, arr = json.object, json.array
local round = util.round

--- The charge-chargetimers body of vehicle v: one LOCATION entry per charge schedule set through V3
-- (v3_commands), with its scheduleType (DAILY, WEEKLY, WORKWEEK) and scheduleId (reference §3.9, §5.1).
function M.charge_timers(v)
  local values = arr()
  for _, sched in ipairs(v.chargeSchedules or {}) do
    local windows = arr()
    for _, w in ipairs(sched.windows) do
      local days = arr()
      for i, d in ipairs(w.days) do days[i] = d:upper() end
      windows[#windows + 1] = obj({ "start", "end", "days" }, { start = w.startTime, ["end"] = w.stopTime,
        days = days })
    end
    values[#values + 1] = obj({ "type", "condition", "schedules", "departureTimers", "isOEMOptimizationEnabled",
      "scheduleType", "scheduleId" }, { type = "LOCATION", condition = sched.parameters.location,
      schedules = windows, departureTimers = arr(), isOEMOptimizationEnabled = false,
      scheduleType = sched.scheduleType:upper(), scheduleId = sched.id })
  end
  return { values = values }
end

local function uv(unit, value) return obj({ "unit", "value" }, { unit = unit, value = value }) end

-- Signal definitions: code, name, group, powertrains ("*" = all), body builder, permission.
-- Smartcar publishes no per-signal permission map; the permissions follow the emulator table of the
-- v3 reference (TractionBattery → read_battery, Charge → read_charge, Location → read_location, ...),
-- which matches the v2 endpoint that serves the same datum.
local SIGNALS = {
  { "odometer-traveleddistance", "TraveledDistance", "Odometer", "*",
    function(v) return uv("kilometers", v.odometer) end, "read_odometer" },
  { "location-preciselocation", "PreciseLocation", "Location", "*", function(v)
    local dirs = { "N", "NE", "E", "SE", "S", "SW", "W", "NW" }
    return obj({ "latitude", "longitude", "heading", "direction", "locationType" }, { latitude = v.latitude,
      longitude = v.longitude, heading = v.heading, direction = dirs[math.floor((v.heading + 22.5) / 45) % 8 + 1],
      locationType = "CURRENT" })
  end, "read_location" },
  { "vehicleidentification-vin", "VIN", "VehicleIdentification", "*", function(v) return { value = v.vin } end,
    "read_vin" },
  { "closure-islocked", "IsLocked", "Closure", "*", function(v) return { value = v.isLocked } end, "read_security" },
  { "tractionbattery-stateofcharge", "StateOfCharge", "TractionBattery", "EV",
    function(v) return uv("percentage", round(v.batteryPercent * 100, 2)) end, "read_battery" },
  { "tractionbattery-range", "Range", "TractionBattery", "EV", function(v) return uv("kilometers", v.batteryRange) end,
    "read_battery" },
  { "tractionbattery-nominalcapacity", "NominalCapacity", "TractionBattery", "EV",
    function(v) return uv("kilowatt-hours", v.kwh) end, "read_battery" },
  { "charge-ischarging", "IsCharging", "Charge", "EV", function(v) return { value = v.chargeState == "CHARGING" } end,
    "read_charge" },
  { "charge-ischargingcableconnected", "IsChargingCableConnected", "Charge", "EV",
    function(v) return { value = v.isPluggedIn } end, "read_charge" },
  { "charge-activelimit", "ActiveLimit", "Charge", "EV",
    function(v) return uv("percentage", round(v.chargeLimit * 100, 2)) end, "read_charge" },
  { "charge-voltage", "Voltage", "Charge", "EV",
    function(v) return uv("volts", (v.isPluggedIn and v.chargeState == "CHARGING") and 240 or 0) end, "read_charge" },
  { "charge-amperage", "Amperage", "Charge", "EV",
    function(v) return uv("ampere", (v.isPluggedIn and v.chargeState == "CHARGING") and 32 or 0) end, "read_charge" },
  { "charge-chargetimers", "ChargeTimers", "Charge", "EV", function(v) return M.charge_timers(v) end, "read_charge" },
  { "internalcombustionengine-fuellevel", "FuelLevel", "InternalCombustionEngine", "FUEL",
    function(v) return uv("percentage", round(v.fuelPercent * 100, 2)) end, "read_fuel" },
  { "internalcombustionengine-amountremaining", "AmountRemaining", "InternalCombustionEngine", "FUEL",
    function(v) return uv("liters", v.fuelAmount) end, "read_fuel" },
  { "internalcombustionengine-range", "Range", "InternalCombustionEngine", "FUEL",
    function(v) return uv("kilometers", v.fuelRange) end, "read_fuel" },
  { "internalcombustionengine-oillife", "OilLife", "InternalCombustionEngine", "FUEL",
    function(v) return uv("percentage", round(v.oilLife * 100, 2)) end, "read_engine_oil" },
  -- Tyres as a row/column grid like the closure signals (row 0 front, column 0 left), `tirePressure` a
  -- number; the unit is one of the documented v3 units (`bar`; `kilopascals` is not one of them),
  -- given once beside `values` as `charge-chargelimits` does.
  { "wheel-tires", "Tires", "Wheel", "*", function(v)
    local t = v.tires
    local function tire(row, column, kpa)
      return obj({ "row", "column", "tirePressure" }, { row = row, column = column,
        tirePressure = round(kpa / 100, 4) })
    end
    return obj({ "values", "rowCount", "columnCount", "unit" }, { values = {
      tire(0, 0, t.frontLeft), tire(0, 1, t.frontRight), tire(1, 0, t.backLeft), tire(1, 1, t.backRight),
    }, rowCount = 2, columnCount = 2, unit = "bar" })
  end, "read_tires" },
}
local BY_CODE = {}
for _, s in ipairs(SIGNALS) do BY_CODE[s[1]] = s end

local function applies(s, v)
  local p = s[4]
  if p == "*" then return true end
  if p == "EV" then return v.type ~= "ICE" end
  if p == "FUEL" then return v.type ~= "BEV" end
  return false
end

local function resource(v)
  return obj({ "id", "type", "attributes", "links" }, { id = v.id, type = "vehicle",
    attributes = obj({ "make", "model", "year" }, { make = v.make, model = v.model, year = v.year }),
    links = { self = "/vehicles/" .. v.id } })
end

--- May this grant read signal s? (the signal's permission among the granted ones)
local function permitted(grant, s)
  return grant == nil or grant.scope[s[6]] == true
end

-- A signal's status.error: the documented fields of the V3 error item of a failed call.
local function status_error(failed)
  local e = failed.json.errors[1]
  return obj({ "type", "code", "title", "detail", "resolution" }, { type = e.type, code = e.code, title = e.title,
    detail = e.detail, resolution = e.resolution })
end

-- Signal s of vehicle v; with `failure` (a failed call) an ERROR signal of that error, with no value.
local function signal(v, s, failure)
  local now = state.now()
  local retrieved = math.floor(now * 1000)
  local status = { value = "SUCCESS" }
  if failure then status = obj({ "value", "error" }, { value = "ERROR", error = status_error(failure) }) end
  return obj({ "id", "type", "attributes", "meta", "links" }, {
    id = s[1], type = "signal",
    attributes = obj({ "code", "name", "group", "status", "body" }, { code = s[1], name = s[2], group = s[3],
      status = status, body = not failure and s[5](v) or nil }),
    meta = obj({ "retrievedAt", "oemUpdatedAt" }, { retrievedAt = retrieved,
      oemUpdatedAt = retrieved - v.dataAgeSeconds * 1000 }),
    -- the documented signal links: self, values, vehicle (the docs give no targets; the emulator's
    -- `values` is the signal resource itself, which carries the values, `vehicle` the v3 vehicle resource)
    links = obj({ "self", "values", "vehicle" }, { self = "/vehicles/" .. v.id .. "/signals/" .. s[1],
      values = "/vehicles/" .. v.id .. "/signals/" .. s[1], vehicle = "/vehicles/" .. v.id }),
  })
end

--- The signals of vehicle v, in order.
function M.signal_list(v)
  local out = {}
  for _, s in ipairs(SIGNALS) do
    if applies(s, v) then out[#out + 1] = s end
  end
  return out
end
M.signal = signal
M.BY_CODE = BY_CODE

--- GET /v3/vehicles/{id}, /signals, /signals/{code} for a v2 per-vehicle token, or for an application token
-- already authorised by v3_routes (ctx.appGrant). Errors in the V3 shape either way (reference §6.1).
function M.handle(ctx, rest)
  local vid, sub = rest:match("^/vehicles/([^/]+)(.*)$")
  local code = sub and sub:match("^/signals/([^/]+)$")
  if not vid or ctx.method ~= "GET" or not (sub == "" or sub == "/signals" or code) then
    return C.invalid_path(ctx)
  end
  local grant = ctx.appGrant or state.grant_for(http.bearer(ctx))
  -- a v2 token that does not cover the vehicle: 401, as v2 answers it
  if not grant or not grant.vehicles[vid] or not state.vehicles[vid] then return C.unauthorized(ctx) end
  ctx.grant = grant
  local v = state.vehicles[vid]
  ctx.vehicle = v
  local wait = vehicle.rate_check(vid)
  if wait then return C.err(ctx, "RATE_LIMIT", "VEHICLE", { retryAfter = wait }) end
  vehicle.latency()
  if sub == "" then return http.ok(resource(v)) end
  -- one signal: unknown code 404, then its permission (403 as v2 answers a missing permission)
  local s = code and BY_CODE[code]
  if code and (not s or not applies(s, v)) then
    return C.not_found(ctx, "SIGNAL_NOT_FOUND", "Signal with code " .. code .. " not found for vehicle with ID " ..
      vid)
  end
  if s and not permitted(grant, s) then return C.insufficient_permissions(ctx, s[6]) end
  local failed = C.vehicle_error(ctx, v)
  if failed then return failed end -- a failing vehicle (the test error emails) fails the call, as in v2
  if s then return http.ok(signal(v, s)) end
  -- the list: a failing signal does not fail the call (reference §3.6); one whose permission was not
  -- granted is an ERROR of type PERMISSION with no value (the reference's choice for the emulator)
  local list = M.signal_list(v)
  local page = tonumber(ctx.args.page or "") or 1
  local size = tonumber(ctx.args.pageSize or "") or 50
  if page < 1 or size < 1 or page ~= math.floor(page) or size ~= math.floor(size) then
    return C.validation(ctx, { { "INVALID_INPUT_FORMAT", "Invalid page or pageSize. They must be positive " ..
      "integers." } })
  end
  local data = arr()
  for i = (page - 1) * size + 1, math.min(#list, page * size) do
    local sig = list[i]
    data[#data + 1] = signal(v, sig, not permitted(grant, sig) and C.insufficient_permissions(ctx, sig[6]) or nil)
  end
  local last = math.max(1, math.ceil(#list / size))
  local base = "/vehicles/" .. v.id .. "/signals?page="
  local link = function(p) return base .. p .. "&pageSize=" .. size end
  return http.ok(obj({ "data", "meta", "links", "included" }, {
    data = data,
    meta = obj({ "page", "pageSize", "totalCount" }, { page = page, pageSize = size, totalCount = #list }),
    links = obj({ "self", "first", "previous", "next", "last" }, { self = link(page), first = link(1),
      previous = page > 1 and link(page - 1) or json.null, next = page < last and link(page + 1) or json.null,
      last = link(last) }),
    included = { vehicle = resource(v) },
  }))
end

return M
