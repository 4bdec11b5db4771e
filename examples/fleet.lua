-- A fleet: every vehicle of an account read at once, then the ones that need attention.
-- Run against the emulator, with an access token it issues for an account of 12 vehicles:
--   eval "$(bin/smartcar-emulator --daemon)"
--   token=$(curl -s -X POST -H 'content-type: application/json' -d '{"email":"12-vehicles@smartcar.com"}' \
--     "$SMARTCAR_EMULATOR_ORIGIN/_emulator/tokens" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
--   SMARTCAR_API_ORIGIN=$SMARTCAR_EMULATOR_ORIGIN LUA_PATH="lua/?.lua;lua/?/init.lua;;" \
--     LUA_CPATH="build/5.4/?.so;;" lua5.4 examples/fleet.lua "$token"
-- (against Smartcar: the accessToken of `client:exchangeCode(code)`, and no SMARTCAR_API_ORIGIN).
local smartcar = require "smartcar"

local token = assert(arg[1], "usage: fleet.lua ACCESS_TOKEN")

-- Every vehicle of the account, page after page.
local vehicles = {}
for id, err in smartcar.eachVehicleId(token, { pageSize = 50 }) do
  if not id then error(err.message) end
  vehicles[#vehicles + 1] = smartcar.Vehicle.new(id, token)
end

-- One request per vehicle, all in flight together (up to 16 at a time).
local odometers, errors = smartcar.fanOut(vehicles, "odometer", { concurrency = 16 })
local attributes = smartcar.fanOut(vehicles, "attributes")

local total, failed = 0, 0
for i, v in ipairs(vehicles) do
  local a, odo, err = attributes[i], odometers[i], errors[i]
  local name = a and ("%d %s %s"):format(a.year, a.make, a.model) or v.id
  if odo then
    total = total + odo.distance
    print(("%-32s %10.1f km"):format(name, odo.distance))
  else
    failed = failed + 1
    print(("%-32s %s"):format(name, err.message))
    if err.retryAfter then print(("  retry in %d s"):format(err.retryAfter)) end
  end
end
print(("%d vehicle%s, %.0f km in all, %d could not be read"):format(#vehicles, #vehicles == 1 and "" or "s",
  total, failed))
