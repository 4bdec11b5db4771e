-- A fleet: every vehicle of an account read at once, then the ones that need attention.
-- Run against the emulator (make demo sets the same variables):
--   eval "$(bin/smartcar-emulator --daemon)"; SMARTCAR_API_ORIGIN=$SMARTCAR_EMULATOR_ORIGIN \
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/5.4/?.so;;" lua5.4 examples/fleet.lua <access token>
local smartcar = require "smartcar"

local token = assert(arg[1], "usage: fleet.lua ACCESS_TOKEN")

-- Page through every vehicle id of the account.
local ids, offset = {}, 0
repeat
  local page = assert(smartcar.getVehicles(token, { limit = 50, offset = offset }))
  for _, id in ipairs(page.vehicles) do ids[#ids + 1] = id end
  offset = offset + #page.vehicles
until #page.vehicles == 0 or offset >= page.paging.count

local vehicles = {}
for i, id in ipairs(ids) do vehicles[i] = smartcar.Vehicle.new(id, token) end

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
print(("%d vehicles, %.0f km in all, %d could not be read"):format(#vehicles, total, failed))
