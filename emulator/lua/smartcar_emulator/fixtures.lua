-- Simulated vehicles: the model catalog, accounts derived from test-mode emails, and per-vehicle data
-- derived from the seed (never from time).
local util = require "smartcar_emulator.util"
local errors = require "smartcar_emulator.errors"

local M = {}

-- Every permission the emulator knows (Connect consent, default scope of the tokens shortcut).
M.PERMISSIONS = {
  "read_vehicle_info", "read_vin", "read_odometer", "read_location", "read_fuel", "read_battery",
  "read_charge", "control_charge", "read_engine_oil", "read_tires", "read_security", "control_security",
  "control_navigation", "read_service_history", "read_diagnostics", "read_user_profile",
  "read_speedometer", "read_thermometer", "read_compass", "read_climate", "control_climate",
  "read_extended_vehicle_info", "control_trunk", "read_alerts", "control_pin",
}
M.PERMISSION_SET = {}
for _, p in ipairs(M.PERMISSIONS) do M.PERMISSION_SET[p] = true end

M.PERMISSION_TEXT = {
  read_vehicle_info = "Know make, model, and year", read_vin = "Read VIN",
  read_odometer = "Retrieve total distance traveled", read_location = "Access the vehicle's location",
  read_fuel = "Read fuel tank level", read_battery = "Read EV battery's capacity and state of charge",
  read_charge = "Know whether vehicle is charging", control_charge = "Start or stop your vehicle's charging",
  read_engine_oil = "Read vehicle engine oil health", read_tires = "Read vehicle tire pressure",
  read_security = "Access the vehicle's lock status", control_security = "Lock or unlock your vehicle",
  control_navigation = "Send commands to the vehicle's navigation system",
  read_service_history = "Read vehicle service history", read_diagnostics = "Read vehicle diagnostics",
  read_user_profile = "Read the user's profile",
}

-- Model catalog: make, model, year, powertrain, battery kWh, full electric range km, tank L, km per L, WMI.
M.MODELS = {
  { make = "TESLA", model = "Model 3", year = 2021, type = "BEV", kwh = 75, erange = 500, wmi = "5YJ" },
  { make = "TOYOTA", model = "RAV4 Prime", year = 2022, type = "PHEV", kwh = 18.1, erange = 68, tank = 55,
    kmpl = 16, wmi = "JTM" },
  { make = "FORD", model = "F-150", year = 2020, type = "ICE", tank = 98, kmpl = 8, wmi = "1FT" },
  { make = "CHEVROLET", model = "Bolt EV", year = 2020, type = "BEV", kwh = 66, erange = 416, wmi = "1G1" },
  { make = "NISSAN", model = "LEAF", year = 2019, type = "BEV", kwh = 40, erange = 240, wmi = "1N4" },
  { make = "TOYOTA", model = "Camry", year = 2019, type = "ICE", tank = 60, kmpl = 14, wmi = "4T1" },
  { make = "BMW", model = "X5 xDrive45e", year = 2021, type = "PHEV", kwh = 24, erange = 50, tank = 69,
    kmpl = 11, wmi = "5UX" },
  { make = "FORD", model = "Mustang Mach-E", year = 2022, type = "BEV", kwh = 88, erange = 480, wmi = "3FM" },
  { make = "VOLKSWAGEN", model = "ID.4", year = 2021, type = "BEV", kwh = 82, erange = 440, wmi = "WVG" },
  { make = "JEEP", model = "Wrangler 4xe", year = 2022, type = "PHEV", kwh = 17, erange = 35, tank = 65,
    kmpl = 9, wmi = "1C4" },
  { make = "AUDI", model = "A4", year = 2020, type = "ICE", tank = 58, kmpl = 13, wmi = "WAU" },
  { make = "HYUNDAI", model = "IONIQ 5", year = 2023, type = "BEV", kwh = 77.4, erange = 488, wmi = "KM8" },
}
local AUDI_ETRON = { make = "AUDI", model = "e-tron", year = 2021, type = "BEV", kwh = 95, erange = 350,
  wmi = "WA1" }

-- Brands on the Connect brand page.
M.BRANDS = { "ACURA", "AUDI", "BMW", "BUICK", "CADILLAC", "CHEVROLET", "CHRYSLER", "DODGE", "FORD", "GMC",
  "HONDA", "HYUNDAI", "INFINITI", "JAGUAR", "JEEP", "KIA", "LAND_ROVER", "LEXUS", "LINCOLN", "MAZDA",
  "MERCEDES_BENZ", "MINI", "NISSAN", "PORSCHE", "RAM", "RIVIAN", "SUBARU", "TESLA", "TOYOTA", "VOLKSWAGEN",
  "VOLVO" }

local function first_of_type(ptype)
  for _, m in ipairs(M.MODELS) do
    if m.type == ptype then return m end
  end
end

local function model_for_vin(vin, ptype)
  local wmi = vin:sub(1, 3):upper()
  for _, m in ipairs(M.MODELS) do
    if m.wmi == wmi and (ptype == nil or m.type == ptype) then return m end
  end
  if ptype then return first_of_type(ptype) end
end
M.model_for_vin = model_for_vin

local VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
function M.make_vin(seed, label, wmi)
  local out = { wmi }
  for i = 1, 14 do
    local k = util.int(seed, label .. ":vin:" .. i, 1, #VIN_CHARS)
    out[#out + 1] = VIN_CHARS:sub(k, k)
  end
  return table.concat(out)
end

-- Powertrain capability: which endpoints a vehicle supports.
local EV_ONLY = { ["/battery"] = true, ["/battery/capacity"] = true, ["/battery/nominal_capacity"] = true,
  ["/charge"] = true, ["/charge/limit"] = true }
local FUEL_ONLY = { ["/fuel"] = true, ["/engine/oil"] = true }

function M.capable(vehicle, sub)
  if vehicle.incompatible then return false end
  if vehicle.type == "ICE" and EV_ONLY[sub] then return false end
  if vehicle.type == "BEV" and FUEL_ONLY[sub] then return false end
  return true
end

--- Normalised email.
function M.normalize_email(email)
  if type(email) ~= "string" or email == "" then email = "demo@example.com" end
  return (email:gsub("^%s+", ""):gsub("%s+$", ""))
end

--- Parse a test-mode email into an account description:
-- { userId, specs = { {model, vin?, fail?, v1fail?, incompatible?} … }, connectError? }
function M.account(seed, email)
  email = M.normalize_email(email)
  local lower = email:lower()
  local local_part, domain = lower:match("^([^@]*)@(.*)$")
  local_part = local_part or lower
  domain = domain or ""
  local acct = { email = lower, userId = util.uuid(seed, "user:" .. lower), specs = {} }
  local specs = acct.specs

  if lower == "smartcar@invalid-subscription.com" then
    acct.connectError = { error = "invalid_subscription",
      description = "User does not have an active connected vehicle subscription" }
    return acct
  elseif lower == "smartcar@vehicle-incompatible.com" then
    acct.connectError = { error = "vehicle_incompatible", description = "The user’s vehicle is not compatible.",
      extra = { { "vin", "0SCAUDI012FE3B132" }, { "make", "AUDI" }, { "model", "A4" }, { "year", "2015" } } }
    return acct
  elseif lower == "smartcar@successful-request.com" then
    specs[1] = { model = AUDI_ETRON, vin = "0SCAUDI037A5ADB1C" }
    return acct
  end

  -- <N>-vehicles@smartcar.com
  local n = local_part:match("^(%d+)%-vehicles$")
  if n and domain == "smartcar.com" then
    n = tonumber(n)
    if n == 0 then
      acct.connectError = { error = "no_vehicles",
        description = "No vehicles found in the user's connected services account." }
      return acct
    end
    if n > 999 then n = 999 end
    for i = 1, n do specs[i] = { model = M.MODELS[(i - 1) % #M.MODELS + 1] } end
    return acct
  end

  -- <VIN>@<level>.smartcar.com
  local level = domain:match("^(%a+)%.smartcar%.com$")
  if level and #local_part == 17 and local_part:find("^[%w]+$") then
    local vin = email:match("^([^@]*)@"):upper()
    local spec = { vin = vin, level = level }
    if level == "bev" then
      spec.model = model_for_vin(vin, "BEV")
    elseif level == "fuel" then
      spec.model = model_for_vin(vin, "ICE")
    elseif level == "phev" then
      spec.model = model_for_vin(vin, "PHEV")
    elseif level == "compatible" then
      spec.model = model_for_vin(vin) or first_of_type("PHEV")
    elseif level == "incompatible" then
      spec.model = model_for_vin(vin) or first_of_type("ICE")
      spec.incompatible = true
    end
    if spec.model then
      specs[1] = spec
      return acct
    end
  end

  -- <TYPE>.<CODE>@smartcar.com (code NULL or omitted for the null-code types)
  if domain == "smartcar.com" then
    local up = local_part:upper()
    local etype, code = up:match("^([A-Z_]+)%.([A-Z_]+)$")
    if not etype then etype = up:match("^([A-Z_]+)$") end
    if etype and errors.CATALOG[etype] then
      if code == "NULL" then code = nil end
      if errors.exists(etype, code) then
        specs[1] = { model = M.MODELS[1], fail = { etype, code } }
        return acct
      end
    end
  end

  -- smartcar@vs-000.vehicle-state-error.com, smartcar@voa-001.vehicle-owner-action-required.com
  local v1a, v1n = domain:match("^(%a+)%-(%d+)%.vehicle%-[%a%-]+%.com$")
  if v1a then
    local v1code = v1a:upper() .. "_" .. v1n
    if errors.V1_CODES[v1code] then
      specs[1] = { model = M.MODELS[1], v1fail = v1code }
      return acct
    end
  end

  -- anybody else: a BEV, a PHEV and an ICE car
  specs[1] = { model = M.MODELS[1] }
  specs[2] = { model = M.MODELS[2] }
  specs[3] = { model = M.MODELS[3] }
  return acct
end

local function r2(x) return util.round(x, 2) end

--- Build the vehicle record (static data + mutable state) for an account entry.
function M.build_vehicle(seed, id, spec)
  local m = spec.model
  local s = seed .. ":" .. id
  local f = function(label) return util.frac(s, label) end
  local v = {
    id = id, make = m.make, model = m.model, year = m.year, type = m.type,
    vin = spec.vin or M.make_vin(s, "vin", m.wmi),
    fail = spec.fail, v1fail = spec.v1fail, incompatible = spec.incompatible, level = spec.level,
    kwh = m.kwh, erange = m.erange, tank = m.tank, kmpl = m.kmpl,
  }
  v.odometer = r2(10000 + f("odometer") * 290000)
  v.latitude = util.round(37.0 + f("lat") * 4.0, 4)
  v.longitude = util.round(-109.05 + f("lon") * 7.0, 4)
  v.heading = util.int(s, "heading", 0, 359)
  if m.type ~= "ICE" then
    v.batteryPercent = r2(0.2 + f("battery") * 0.55)
    v.batteryRange = r2(v.batteryPercent * m.erange)
  end
  if m.type ~= "BEV" then
    v.fuelPercent = r2(0.15 + f("fuel") * 0.8)
    v.fuelAmount = r2(v.fuelPercent * m.tank)
    v.fuelRange = r2(v.fuelAmount * m.kmpl)
    v.oilLife = r2(0.1 + f("oil") * 0.85)
  end
  v.tires = {
    frontLeft = util.round(210 + f("tire:fl") * 30, 1), frontRight = util.round(210 + f("tire:fr") * 30, 1),
    backLeft = util.round(210 + f("tire:bl") * 30, 1), backRight = util.round(210 + f("tire:br") * 30, 1),
  }
  v.dataAgeSeconds = util.int(s, "age", 30, 600)
  -- mutable state
  v.isLocked = true
  v.isPluggedIn = m.type == "BEV"
  v.chargeState = "NOT_CHARGING"
  v.chargeLimit = 0.8
  v.destination = nil
  v.tpmsAlert = f("tpms") < 0.3
  return v
end

return M
