-- Quick start: the whole Smartcar flow in Lua, end to end.
--
-- Run it with `make demo`, which starts the local emulator and points the SDK at it
-- through the SMARTCAR_* environment variables. Against the real Smartcar, set
-- SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET and SMARTCAR_REDIRECT_URI instead (and, for
-- the API V3 part, the Dashboard's API credentials SMARTCAR_API_CLIENT_ID and
-- SMARTCAR_API_CLIENT_SECRET), open the printed URL in a browser, and paste the URL of
-- the redirect. SMARTCAR_MODE picks Connect's mode: test (the default), live or
-- simulated (`make demo` uses simulated: the emulator's stateful vehicles, where a
-- command changes what the next read shows; test mode answers commands and changes nothing).
local smartcar = require "smartcar"

local function show(label, value) print(("  %-26s %s"):format(label, value)) end

-- 1. The application's OAuth client (credentials come from the environment).
local mode = os.getenv("SMARTCAR_MODE") or "test"
local client = smartcar.AuthClient.new { mode = mode }

-- 2. The URL that starts Smartcar Connect.
local state = ("%08x"):format(os.time())
local scope = { "required:read_vehicle_info", "read_vin", "read_odometer", "read_location",
  "read_security", "control_security" }
local url = client:getAuthUrl(scope, { state = state })
print(("1. Send the user to Smartcar Connect (mode %s):"):format(mode))
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
local params = smartcar.parseCallback(redirect)
print("3. Redirected back to " .. redirect:match("^[^?]*"))
assert(params.state == state, "state mismatch: possible CSRF")
if params.error then
  print("   The user did not connect a vehicle: " .. params.error .. " - " .. tostring(params.errorDescription))
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

-- 10. API V3: the application authenticates (client-credentials grant with the Dashboard's API
--     credentials, SMARTCAR_API_CLIENT_ID / SMARTCAR_API_CLIENT_SECRET), and each call names
--     the user in `sc-user-id`: Connect's `user_id` (a redirect without one: the id of GET /user).
if not os.getenv("SMARTCAR_API_CLIENT_ID") then
  print("7. API V3: skipped (set SMARTCAR_API_CLIENT_ID and SMARTCAR_API_CLIENT_SECRET)")
  os.exit(0)
end
print(("7. API V3, on the same Connect (mode %s%s):"):format(mode,
  mode == "simulated" and ": a command changes the vehicle" or mode == "test" and ": a command changes nothing" or ""))
local userId, from = params.userId, "Connect's user_id"
if not userId then userId, from = assert(smartcar.getUser(access.accessToken)).id, "GET /user" end
show("user id", ("%s (%s)"):format(userId, from))
local app = smartcar.Application.new()
assert(app:token()) -- fetched once, then cached until shortly before it expires; never printed
show("app token", "ok (client-credentials grant, cached)")

-- The user's connections (V3 lists live or simulated ones; the emulator counts test-mode ones as simulated).
local connected = {}
for c, cerr in app:eachConnection { userId = userId, mode = mode == "live" and "live" or "simulated" } do
  assert(c, cerr)
  connected[#connected + 1] = ("%s %s"):format(c.vehicle.make, c.vehicle.model)
end
show("connections of the user", ("%d: %s"):format(#connected, table.concat(connected, ", ")))

local car = app:vehicle(vehicle.id, userId)
local signals = assert(car:signals()).signals
local codes, total = {}, 0
for code, s in pairs(signals) do -- a signal the app may not read is there too, as an ERROR
  total = total + 1
  if s.status == "SUCCESS" then codes[#codes + 1] = code end
end
table.sort(codes)
show("signals", ("%d of %d readable: %s"):format(#codes, total, table.concat(codes, ", ")))
local distance = signals["odometer-traveleddistance"]
show("odometer-traveleddistance", ("%.1f %s"):format(distance.value, distance.unit))
local isLocked = signals["closure-islocked"].value
show("closure-islocked", tostring(isLocked))
command = isLocked and "unlock" or "lock" -- the command that shows: a simulated vehicle changes
local done = assert(car[command](car))
show(command .. "()", ("%s (%s)"):format(done.status, done.commandType))
show("closure-islocked now", tostring(assert(car:signal("closure-islocked")).value))
