-- Quick start: the whole Smartcar flow in Lua, end to end.
--
-- Run it with `make demo`, which starts the local emulator and points the SDK at it
-- through the SMARTCAR_* environment variables. Against the real Smartcar, set
-- SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET and SMARTCAR_REDIRECT_URI instead, open
-- the printed URL in a browser, and paste the `code` of the redirect.
local smartcar = require "smartcar"

local function show(label, value) print(("  %-26s %s"):format(label, value)) end

-- 1. The application's OAuth client (credentials come from the environment).
local client = smartcar.AuthClient.new { mode = "test" }

-- 2. The URL that starts Smartcar Connect.
local state = ("%08x"):format(os.time())
local scope = { "required:read_vehicle_info", "read_vin", "read_odometer", "read_location",
  "read_security", "control_security" }
local url = client:getAuthUrl(scope, { state = state })
print("1. Send the user to Smartcar Connect:")
print("   " .. url)

-- 3. The user signs in and approves. Against the emulator we play the user: a scripted
--    browser opens the URL and submits each page's form.
local redirect
if os.getenv("SMARTCAR_EMULATOR_ORIGIN") then
  print("2. Completing consent on the emulator as the user would (scripted browser):")
  local browser = require "smartcar_emulator.browser"
  redirect = assert(browser.connect(url, {
    email = "driver@example.com", make = "TESLA", log = function(step) print("   - " .. step) end,
  }))
else
  io.write("2. Paste the URL you were redirected to: ")
  redirect = io.read("l")
end

-- 4. Handle the redirect: check state, then take the code (or the user's refusal).
local params = {}
for k, v in redirect:gmatch("[?&]([^=&]+)=([^&]*)") do
  params[k] = v:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
end
print("3. Redirected back to " .. redirect:match("^[^?]*"))
assert(params.state == state, "state mismatch: possible CSRF")
if params.error then
  print("   The user did not connect a vehicle: " .. params.error .. " - " .. tostring(params.error_description))
  os.exit(0)
end

-- 5. Exchange the code for tokens.
local access = assert(client:exchangeCode(params.code))
show("access token expires", os.date("!%Y-%m-%dT%H:%M:%SZ", access.expiration))

-- 6. The user's vehicles, and one Vehicle to talk to.
local list = assert(smartcar.getVehicles(access.accessToken))
print(("4. %d vehicle(s) connected"):format(#list.vehicles))
local vehicle = smartcar.Vehicle.new(list.vehicles[1], access.accessToken)

local attributes = assert(vehicle:attributes())
show("vehicle", ("%d %s %s (%s)"):format(attributes.year, attributes.make, attributes.model, vehicle.id))
local odometer = assert(vehicle:odometer())
show("odometer (metric)", ("%.1f km, data from %s"):format(odometer.distance, odometer.meta.dataAge))
local imperial = smartcar.Vehicle.new(vehicle.id, access.accessToken, { unitSystem = "imperial" })
show("odometer (imperial)", ("%.1f mi"):format(assert(imperial:odometer()).distance))
local location = assert(vehicle:location())
show("location", ("%.4f, %.4f"):format(location.latitude, location.longitude))
local locked = assert(vehicle:lockStatus()).isLocked
show("locked", tostring(locked))
local command = locked and "unlock" or "lock"
show(command .. "()", assert(vehicle[command](vehicle)).status)
show("locked now", tostring(assert(vehicle:lockStatus()).isLocked))

-- 7. Several reads in one request.
local batch = assert(vehicle:batch { "/odometer", "/location", "/vin" })
show("batch: vin", assert(batch.vin()).vin)
show("batch: odometer", ("%.1f km"):format(assert(batch.odometer()).distance))

-- 8. Errors are values: here, a permission the user did not grant.
local fuel, err = vehicle:fuel()
if not fuel then
  print("5. An error, as an app would show it:")
  show("message", err.message)
  show("status / type / code", ("%s / %s / %s"):format(err.statusCode, err.type, tostring(err.code)))
  show("resolution", err.resolution and err.resolution.type or "-")
  show("request id", err.requestId)
end

-- 9. Tokens expire after two hours: refresh them (the refresh token rotates).
local renewed = assert(client:exchangeRefreshToken(access.refreshToken))
print("6. Refreshed the tokens")
show("new token expires", os.date("!%Y-%m-%dT%H:%M:%SZ", renewed.expiration))
show("refresh token rotated", tostring(renewed.refreshToken ~= access.refreshToken))
