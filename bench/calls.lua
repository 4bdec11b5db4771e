-- N sequential vehicle:odometer() calls through the SDK's public API only, nothing timed:
-- bench/instructions runs it under callgrind and counts instructions.
--   lua bench/calls.lua ORIGIN TOKEN VEHICLE_ID N
local smartcar = require "smartcar"
local origin, token, id, n = arg[1], arg[2], arg[3], tonumber(arg[4])
smartcar.configure { apiOrigin = origin }
local v = smartcar.Vehicle.new(id, token)
for _ = 1, n do assert(v:odometer()) end
