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

-- Smartcar's test mode gives one vehicle of the brand chosen in Connect (the official Node e2e picks
-- CHEVROLET and expects a CHEVROLET Volt, test/end-to-end/vehicle.js). One plausible model per brand on
-- the brand page; only CHEVROLET → Volt is from a source, the others are the emulator's choice.
M.BRAND_MODELS = {
  ACURA = { model = "MDX", year = 2021, type = "ICE", tank = 70, kmpl = 9, wmi = "5J8" },
  AUDI = AUDI_ETRON,
  BMW = M.MODELS[7],
  BUICK = { model = "Encore", year = 2020, type = "ICE", tank = 53, kmpl = 12, wmi = "KL4" },
  CADILLAC = { model = "LYRIQ", year = 2023, type = "BEV", kwh = 102, erange = 494, wmi = "1GY" },
  CHEVROLET = { model = "Volt", year = 2019, type = "PHEV", kwh = 18.4, erange = 85, tank = 34, kmpl = 17,
    wmi = "1G1" },
  CHRYSLER = { model = "Pacifica Hybrid", year = 2021, type = "PHEV", kwh = 16, erange = 51, tank = 62, kmpl = 13,
    wmi = "2C4" },
  DODGE = { model = "Charger", year = 2020, type = "ICE", tank = 70, kmpl = 9, wmi = "2C3" },
  FORD = M.MODELS[8],
  GMC = { model = "Sierra 1500", year = 2021, type = "ICE", tank = 91, kmpl = 7, wmi = "1GT" },
  HONDA = { model = "Accord", year = 2020, type = "ICE", tank = 56, kmpl = 13, wmi = "1HG" },
  HYUNDAI = M.MODELS[12],
  INFINITI = { model = "QX60", year = 2022, type = "ICE", tank = 74, kmpl = 9, wmi = "5N1" },
  JAGUAR = { model = "I-PACE", year = 2020, type = "BEV", kwh = 90, erange = 380, wmi = "SAD" },
  JEEP = M.MODELS[10],
  KIA = { model = "EV6", year = 2022, type = "BEV", kwh = 77.4, erange = 499, wmi = "KND" },
  LAND_ROVER = { model = "Range Rover Sport PHEV", year = 2020, type = "PHEV", kwh = 13.1, erange = 31, tank = 90,
    kmpl = 9, wmi = "SAL" },
  LEXUS = { model = "RX 350", year = 2021, type = "ICE", tank = 72, kmpl = 10, wmi = "2T2" },
  LINCOLN = { model = "Aviator", year = 2021, type = "ICE", tank = 76, kmpl = 8, wmi = "5LM" },
  MAZDA = { model = "CX-5", year = 2021, type = "ICE", tank = 56, kmpl = 12, wmi = "JM3" },
  MERCEDES_BENZ = { model = "EQS 450+", year = 2022, type = "BEV", kwh = 108, erange = 560, wmi = "W1K" },
  MINI = { model = "Cooper SE", year = 2021, type = "BEV", kwh = 32.6, erange = 183, wmi = "WMW" },
  NISSAN = M.MODELS[5],
  PORSCHE = { model = "Taycan", year = 2021, type = "BEV", kwh = 93, erange = 400, wmi = "WP0" },
  RAM = { model = "1500", year = 2021, type = "ICE", tank = 98, kmpl = 7, wmi = "1C6" },
  RIVIAN = { model = "R1T", year = 2022, type = "BEV", kwh = 135, erange = 505, wmi = "7FC" },
  SUBARU = { model = "Outback", year = 2021, type = "ICE", tank = 70, kmpl = 11, wmi = "4S4" },
  TESLA = M.MODELS[1],
  TOYOTA = M.MODELS[2],
  VOLKSWAGEN = M.MODELS[9],
  VOLVO = { model = "XC90 Recharge", year = 2021, type = "PHEV", kwh = 18.8, erange = 58, tank = 71, kmpl = 11,
    wmi = "YV4" },
}
for make, m in pairs(M.BRAND_MODELS) do m.make = make end

-- The API-error test emails Smartcar documents (https://smartcar.com/docs/errors/testing-errors), each with
-- its fixed VIN: "<TYPE>.<CODE>@smartcar.com". Any other type or code of the catalog, and "<TYPE>@" /
-- "<TYPE>.NULL@" for a null code, are the emulator's own extension.
M.TEST_ERRORS = {
  { "COMPATIBILITY", "MAKE_NOT_COMPATIBLE", "0SCLR000270BE6600" },
  { "COMPATIBILITY", "SMARTCAR_NOT_CAPABLE", "0SCLR0002DC18F57F" },
  { "COMPATIBILITY", "VEHICLE_NOT_CAPABLE", "0SCLR00024C7CDF7A" },
  { "CONNECTED_SERVICES_ACCOUNT", "ACCOUNT_ISSUE", "0SCLR00026BAAA136" },
  { "CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED", "0SCLR00021D803C7B" },
  { "CONNECTED_SERVICES_ACCOUNT", "NO_VEHICLES", "0SCLR00027671837B" },
  { "CONNECTED_SERVICES_ACCOUNT", "SUBSCRIPTION", "0SCLR0002B9BAF29F" },
  { "CONNECTED_SERVICES_ACCOUNT", "VEHICLE_MISSING", "0SCLR00024E29EEBD" },
  { "UPSTREAM", "INVALID_DATA", "0SCLR000298A0A649" },
  { "UPSTREAM", "KNOWN_ISSUE", "0SCLR0002A8760B72" },
  { "UPSTREAM", "NO_RESPONSE", "0SCLR0002C23E43AB" },
  { "UPSTREAM", "UNKNOWN_ISSUE", "0SCLR0002D4878901" },
  { "VEHICLE_STATE", "ASLEEP", "0SCLR0002E8896323" },
  { "VEHICLE_STATE", "CHARGING_IN_PROGRESS", "0SCLR000221F1E672" },
  { "VEHICLE_STATE", "CHARGING_PLUG_NOT_CONNECTED", "0SCLR0002CBFC7C21" },
  { "VEHICLE_STATE", "DOOR_OPEN", "0SCLR0002F8BD90B8" },
  { "VEHICLE_STATE", "FULLY_CHARGED", "0SCLR00029CD9D894" },
  { "VEHICLE_STATE", "HOOD_OPEN", "0SCLR000219CD4A2C" },
  { "VEHICLE_STATE", "IGNITION_ON", "0SCLR00021D49E58A" },
  { "VEHICLE_STATE", "IN_MOTION", "0SCLR00024F6EE640" },
  { "VEHICLE_STATE", "REMOTE_ACCESS_DISABLED", "0SCLR0002588A5CC1" },
  { "VEHICLE_STATE", "TRUNK_OPEN", "0SCLR00023C607FDB" },
  { "VEHICLE_STATE", "UNKNOWN", "0SCLR0002E6CC0314" },
  { "VEHICLE_STATE", "UNREACHABLE", "0SCLR000247EBF067" },
  { "VEHICLE_STATE", "VEHICLE_OFFLINE_FOR_SERVICE", "0SCLR0002AF1D71A1" },
}
M.TEST_ERROR_VIN = {}
for _, e in ipairs(M.TEST_ERRORS) do M.TEST_ERROR_VIN[e[1] .. "." .. e[2]] = e[3] end

--- The model for a brand (test mode); nil for a make that is not on the brand page.
function M.brand_model(make)
  return make and M.BRAND_MODELS[make]
end

--- A make as Connect's `make` parameter or the brand page gives it ("land rover" → "LAND_ROVER"); nil when
-- it is not a brand on the page.
function M.normalize_make(make)
  if type(make) ~= "string" then return nil end
  make = make:upper():gsub("^%s+", ""):gsub("%s+$", ""):gsub("[%s%-]+", "_")
  if M.BRAND_MODELS[make] then return make end
  return nil
end

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
        local vin = code and M.TEST_ERROR_VIN[etype .. "." .. code]
        -- documented: its fixed VIN; anything else: the emulator's extension (a VIN from the seed)
        specs[1] = { model = M.MODELS[1], fail = { etype, code }, vin = vin, extension = vin == nil or nil }
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

  -- anybody else. Test mode: one vehicle of the brand chosen in Connect (state.vehicle_for_make; Smartcar's
  -- behaviour). Live and simulated mode and the tokens shortcut: the emulator's own account of a BEV, a PHEV
  -- and an ICE car (an emulator-only extension; "<N>-vehicles@smartcar.com" asks for N vehicles).
  acct.default = true
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
