-- Non-vehicle API paths: /user, /vehicles, /compatibility[/matrix], /management/connections.
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local http = require "smartcar_emulator.http"
local fixtures = require "smartcar_emulator.fixtures"

local M = {}

local obj, arr, null = json.object, json.array, json.null

local function int_arg(ctx, name, default, min, max)
  local s = ctx.args[name]
  if s == nil or s == "" then return default end
  if not s:find("^%d+$") then
    return nil, http.validation(ctx, "PARAMETER", { name }, "\"" .. name .. "\" must be an integer")
  end
  local n = tonumber(s)
  if n < min or (max and n > max) then
    return nil, http.validation(ctx, "PARAMETER", { name }, "\"" .. name .. "\" must be between " .. min ..
      " and " .. (max or "infinity"))
  end
  return n
end

local function user(ctx)
  if ctx.method ~= "GET" then return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH") end
  local grant = state.grant_for(http.bearer(ctx))
  if not grant then return http.err(ctx, "AUTHENTICATION", nil) end
  ctx.grant = grant
  return http.ok({ id = grant.userId })
end

local function vehicles(ctx)
  if ctx.method ~= "GET" then return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH") end
  local grant = state.grant_for(http.bearer(ctx))
  if not grant then return http.err(ctx, "AUTHENTICATION", nil) end
  ctx.grant = grant
  local limit, e = int_arg(ctx, "limit", 10, 1, 50)
  if not limit then return e end
  local offset, e2 = int_arg(ctx, "offset", 0, 0)
  if not offset then return e2 end
  local list = grant.vehicleList
  local page = arr()
  for i = offset + 1, math.min(#list, offset + limit) do page[#page + 1] = list[i] end
  return http.ok(obj({ "vehicles", "paging" }, { vehicles = page,
    paging = obj({ "count", "offset" }, { count = #list, offset = offset }) }))
end

-- Compatibility ------------------------------------------------------------------------------------

local CAPS = {
  { "read_vehicle_info", "/" }, { "read_vin", "/vin" }, { "read_odometer", "/odometer" },
  { "read_location", "/location" }, { "read_fuel", "/fuel" }, { "read_battery", "/battery" },
  { "read_battery", "/battery/capacity" }, { "read_charge", "/charge" }, { "control_charge", "/charge" },
  { "read_engine_oil", "/engine/oil" }, { "read_tires", "/tires/pressure" }, { "read_security", "/security" },
  { "control_security", "/security" }, { "control_navigation", "/navigation/destination" },
  { "read_service_history", "/service/history" }, { "read_diagnostics", "/diagnostics/system_status" },
  { "read_diagnostics", "/diagnostics/dtcs" },
}

local LEVELS = { compatible = true, phev = true, incompatible = true, fuel = true, dinosaur = true, bev = true }
local COUNTRIES = {}
for c in ("US CA AT BE BG CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK")
    :gmatch("%a+") do COUNTRIES[c] = true end

local function client_auth(ctx)
  local id, secret = http.basic(ctx)
  local app = id and state.apps[id]
  if not app or not util.equal(secret or "", app.clientSecret or "") then return nil end
  ctx.app = app
  return app
end

-- VINs Smartcar documents or its SDKs' end-to-end suites assert against live Compatibility:
-- compatible (default true), reason, and the capability rule (a powertrain of fixtures.capable, or
-- `none` = every capability false with that reason).
local KNOWN_VINS = {
  -- python-sdk tests/e2e/test_smartcar.py test_get_compatibility_v2: compatible, /odometer capable,
  -- /fuel VEHICLE_NOT_CAPABLE (the rest: the emulator's choice, an EV's capabilities)
  ["0SCGMCT0386A85356"] = { ptype = "BEV" },
  -- node-sdk test/end-to-end/index.js getCompatibility: compatible, every capability false
  -- (v1.0: compatible false, node-sdk e2e auth-client.js isCompatible)
  WAUAFAFL1GN014882 = { none = "SMARTCAR_NOT_CAPABLE" },
  -- docs test-your-integration / connect-errors: successful-request (the Audi e-tron of Connect),
  -- vehicle-incompatible, invalid-subscription ("the vehicle is compatible")
  ["0SCAUDI037A5ADB1C"] = { ptype = "BEV" },
  ["0SCAUDI012FE3B132"] = { compatible = false, reason = "VEHICLE_NOT_COMPATIBLE" },
  ["0SCAUDI0155C49A95"] = { ptype = "PHEV" },
}

--- The compatibility entry for a VIN: { compatible, reason, ptype | none } or nil (make not compatible).
local function vin_entry(vin)
  local up = vin:upper()
  local known = KNOWN_VINS[up]
  if known then return known end
  -- Smartcar's test VINs start 0SC (docs error-testing tables): compatible with every permission
  if up:sub(1, 3) == "0SC" then return { ptype = "PHEV" } end
  local model = fixtures.model_for_vin(vin)
  return model and { ptype = model.type } or nil
end

local function compatibility(ctx)
  if ctx.method ~= "GET" then return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH") end
  if not client_auth(ctx) then return http.err(ctx, "AUTHENTICATION", nil) end
  local a = ctx.args
  local vin, country = a.vin, (a.country and a.country ~= "") and a.country:upper() or "US"
  if not vin or vin == "" then return http.validation(ctx, nil, { "vin" }, "\"vin\" is required") end
  local scope = util.words(a.scope)
  if ctx.version == "2.0" and #scope == 0 then
    return http.validation(ctx, nil, { "scope" }, "\"scope\" is required")
  end
  local mode = a.mode or "live"
  if not (mode == "live" or mode == "test" or mode == "simulated") then
    return http.validation(ctx, "PARAMETER", { "mode" }, "\"mode\" must be one of [live, test, simulated]")
  end
  local level = a.test_mode_compatibility_level
  local entry
  if mode == "test" then
    if not level or not LEVELS[level] then
      return http.validation(ctx, nil, "test_mode_compatibility_level",
        "Field must be one of: [compatible,phev,incompatible,fuel,dinosaur,bev]")
    end
    if level == "incompatible" or level == "dinosaur" then
      entry = { compatible = false, reason = "VEHICLE_NOT_COMPATIBLE" }
    else
      entry = { ptype = ({ compatible = "PHEV", phev = "PHEV", fuel = "ICE", bev = "BEV" })[level] }
    end
  else
    if not vin:find("^%w+$") or #vin ~= 17 then
      return http.validation(ctx, "PARAMETER", { "vin" }, "\"vin\" must be a valid 17-character VIN")
    end
    entry = COUNTRIES[country] and vin_entry(vin) or nil
    if not entry then entry = { compatible = false, reason = "MAKE_NOT_COMPATIBLE" } end
  end
  local compatible = entry.compatible ~= false
  local caps = arr()
  if compatible and country == "US" then
    local probe = { type = entry.ptype }
    local wanted = {}
    for _, s in ipairs(scope) do wanted[(s:gsub("^required:", ""))] = true end
    for _, c in ipairs(CAPS) do
      if wanted[c[1]] then
        local ok = not entry.none and fixtures.capable(probe, c[2])
        caps[#caps + 1] = obj({ "capable", "endpoint", "permission", "reason" }, { capable = ok, endpoint = c[2],
          permission = c[1], reason = ok and null or (entry.none or "VEHICLE_NOT_CAPABLE") })
      end
    end
  end
  if ctx.version == "1.0" then
    -- v1.0 folds capabilities into the one boolean (the node SDK's v1.0 e2e: the Audi above is false)
    local all = compatible
    for _, c in ipairs(caps) do all = all and c.capable end
    return http.ok({ compatible = all })
  end
  return http.ok(obj({ "compatible", "reason", "capabilities" },
    { compatible = compatible, reason = entry.reason or null, capabilities = caps }))
end

local ENDPOINT_NAMES = {
  read_vehicle_info = "Vehicle info", read_vin = "VIN", read_odometer = "Odometer", read_location = "Location",
  read_fuel = "Fuel tank", read_battery = "EV battery", read_charge = "EV charging status",
  control_charge = "EV start & stop charge", read_engine_oil = "Engine oil life", read_tires = "Tire pressure",
  read_security = "Lock status", control_security = "Lock & unlock", control_navigation = "Send destination",
}
local PERMS_BY_TYPE = {
  BEV = { "read_vehicle_info", "read_vin", "read_odometer", "read_location", "read_battery", "read_charge",
    "control_charge", "read_tires", "read_security", "control_security" },
  PHEV = { "read_vehicle_info", "read_vin", "read_odometer", "read_location", "read_fuel", "read_battery",
    "read_charge", "control_charge", "read_engine_oil", "read_tires", "read_security", "control_security" },
  ICE = { "read_vehicle_info", "read_vin", "read_odometer", "read_location", "read_fuel", "read_engine_oil",
    "read_tires", "read_security", "control_security" },
}
local US_ONLY = { ["F-150"] = true, ["Wrangler 4xe"] = true, ["Bolt EV"] = true }

local function matrix(ctx)
  if ctx.method ~= "GET" then return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH") end
  if not client_auth(ctx) then return http.err(ctx, "AUTHENTICATION", nil) end
  local a = ctx.args
  local region = a.region
  if region ~= "US" and region ~= "CA" and region ~= "EUROPE" then
    return http.validation(ctx, nil, { "region" }, "\"region\" must be one of [US, CA, EUROPE]")
  end
  local ptype = a.type and a.type:upper()
  if ptype == "" then ptype = nil end
  if ptype and not ({ ICE = true, BEV = true, PHEV = true, HEV = true })[ptype] then
    return http.validation(ctx, "PARAMETER", { "type" }, "\"type\" must be one of [ICE, BEV, PHEV, HEV]")
  end
  local makes = {}
  for _, m in ipairs(util.words(a.make)) do makes[m:upper()] = true end
  local scope = util.words(a.scope)
  local out = {}
  for _, m in ipairs(fixtures.MODELS) do
    local ok = (not ptype or m.type == ptype) and (next(makes) == nil or makes[m.make]) and
      not (region == "EUROPE" and US_ONLY[m.model])
    local perms = PERMS_BY_TYPE[m.type]
    if ok and #scope > 0 then
      local have = {}
      for _, p in ipairs(perms) do have[p] = true end
      for _, s in ipairs(scope) do if not have[(s:gsub("^required:", ""))] then ok = false end end
    end
    if ok then
      local endpoints = arr()
      for _, p in ipairs(perms) do
        if ENDPOINT_NAMES[p] then endpoints[#endpoints + 1] = ENDPOINT_NAMES[p] end
      end
      local list = out[m.make] or arr()
      out[m.make] = list
      list[#list + 1] = obj({ "model", "startYear", "endYear", "type", "endpoints", "permissions" }, {
        model = m.model, startYear = m.year - 2, endYear = m.year + 3, type = m.type, endpoints = endpoints,
        permissions = arr({ unpack(perms) }) })
    end
  end
  return http.ok(out)
end

-- Management ---------------------------------------------------------------------------------------

local function amt_auth(ctx)
  local user_name, amt = http.basic(ctx)
  local app = user_name and state.appsByAmt[amt]
  if not app then return nil end
  ctx.app = app
  return app
end

local function connections(ctx)
  local app = amt_auth(ctx)
  if not app then return http.err(ctx, "AUTHENTICATION", nil) end
  local a = ctx.args
  local uid = a.user_id ~= "" and a.user_id or nil
  local vid = a.vehicle_id ~= "" and a.vehicle_id or nil
  if ctx.method == "DELETE" then
    if not uid and not vid then
      return http.validation(ctx, nil, json.array(), "Filter needs one of user_id OR vehicle_id.")
    end
    local removed = state.revoke(app.clientId, uid, vid)
    local out = arr()
    for i, c in ipairs(removed) do
      out[i] = obj({ "userId", "vehicleId" }, { userId = c.userId, vehicleId = c.vehicleId })
    end
    return http.ok({ connections = out })
  elseif ctx.method ~= "GET" then
    return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH")
  end
  local limit, e = int_arg(ctx, "limit", 10, 1, 100)
  if not limit then return e end
  local mode = a.mode ~= "" and a.mode or nil
  local before
  if a.cursor and a.cursor ~= "" then
    local raw = ngx.decode_base64(a.cursor)
    before = raw and tonumber(raw:match("^seq:(%d+)$"))
    if not before then return http.validation(ctx, "PARAMETER", { "cursor" }, "\"cursor\" is invalid") end
  end
  local list = {}
  for _, c in ipairs(state.connections) do
    if c.clientId == app.clientId and (not uid or c.userId == uid) and (not vid or c.vehicleId == vid) and
        (not mode or c.mode == mode) and (not before or c.seq < before) then
      list[#list + 1] = c
    end
  end
  table.sort(list, function(x, y) return x.seq > y.seq end)
  local out = arr()
  for i = 1, math.min(limit, #list) do
    local c = list[i]
    out[i] = obj({ "userId", "vehicleId", "connectedAt", "mode" }, { userId = c.userId, vehicleId = c.vehicleId,
      connectedAt = util.iso(c.connectedAt), mode = c.mode })
  end
  local cursor = null
  if #list > limit then cursor = ngx.encode_base64("seq:" .. list[limit].seq) end
  return http.ok(obj({ "connections", "paging" }, { connections = out, paging = { cursor = cursor } }))
end

function M.handle(ctx, rest)
  if rest == "/user" then return user(ctx) end
  if rest == "/vehicles" then return vehicles(ctx) end
  if rest == "/compatibility" then return compatibility(ctx) end
  if rest == "/compatibility/matrix" and ctx.version == "2.0" then return matrix(ctx) end
  if rest == "/management/connections" and ctx.version == "2.0" then return connections(ctx) end
  return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH")
end

return M
