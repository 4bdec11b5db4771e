-- N sequential vehicle:odometer() calls through the SDK, then one fanOut over many
-- vehicles. Prints "<req/s> <CPU µs per request>" for each, one line each.
local smartcar = require "smartcar"
local origin, token, id, n, ids = arg[1], arg[2], arg[3], tonumber(arg[4]), arg[5]
smartcar.configure { apiOrigin = origin, vehicleOrigin = origin }
local vehicle = smartcar.Vehicle.new(id, token)
assert(vehicle:odometer())

local function now() return os.time() end
local socket_ok, socket = pcall(require, "socket")
if socket_ok then now = socket.gettime end

local t0, c0 = now(), os.clock()
for _ = 1, n do
  local res = vehicle:odometer()
  if not res then error("request failed") end
end
local wall, cpu = now() - t0, os.clock() - c0
print(("%.0f %.1f"):format(n / wall, cpu / n * 1e6))

local vehicles = {}
for vid in ids:gmatch("[^,]+") do vehicles[#vehicles + 1] = smartcar.Vehicle.new(vid, token) end
local rounds = math.max(1, math.floor(n / #vehicles))
t0, c0 = now(), os.clock()
for _ = 1, rounds do
  local _, errors = smartcar.fanOut(vehicles, "odometer", { concurrency = 64 })
  if next(errors) then error("fan-out failed: " .. tostring(select(2, next(errors)))) end
end
wall, cpu = now() - t0, os.clock() - c0
print(("%.0f %.1f"):format(rounds * #vehicles / wall, cpu / (rounds * #vehicles) * 1e6))

-- The SDK's own cost per call, without the network: a transport that answers at once
-- with a recorded response, so only build (C) -> transport call -> parse (C) is timed.
local libcurl = smartcar.transports.libcurl
local status, headers, body
local odometer_url = origin .. "/v2.0/vehicles/" .. id .. "/odometer"
local request_headers = { authorization = "Bearer " .. token, ["sc-unit-system"] = "metric" }
if type(libcurl) == "function" then -- a transport function
  status, headers, body = libcurl("GET", odometer_url, request_headers, nil, 10000)
else                                -- a transport object
  status, headers, body = libcurl:request("GET", odometer_url, request_headers, nil, { timeout = 10000 })
end
smartcar.configure { transport = function() return status, headers, body end }
local m = n * 20
c0 = os.clock()
for _ = 1, m do vehicle:odometer() end
print(("%.2f"):format((os.clock() - c0) / m * 1e6))
