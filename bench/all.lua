-- smartcar.all against the emulator with a fixed latency per vehicle request:
-- `lua bench/all.lua <origin> <token> <vehicle id> <tasks> <concurrency> <latency ms>`
-- prints "<seconds> <ideal seconds> <ratio>", ideal = ceil(tasks / concurrency) * latency.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local origin, token, id = arg[1], arg[2], arg[3]
local n, concurrency, latency = tonumber(arg[4]), tonumber(arg[5]), tonumber(arg[6])

local sc = smartcar.new { origin = origin, retry = false }
local admin = require("smartcar.client").of(sc)
local function configure(ms)
  assert(admin:send(core.HTTP, core.httpRequest("POST", origin .. "/_emulator/config",
    { ["content-type"] = "application/json" }, '{"latency":' .. ms .. '}')))
end

local v = sc.Vehicle.new(id, token)
local tasks = {}
for i = 1, n do tasks[i] = function() return v:odometer() end end
configure(latency)
sc.all({ tasks[1] }) -- a connection up first
local t0 = core.now()
local values, errors = sc.all(tasks, { concurrency = concurrency })
local elapsed = (core.now() - t0) / 1000
configure(0)
for i = 1, n do assert(values[i] and values[i].distance, errors[i]) end
local ideal = math.ceil(n / concurrency) * latency / 1000
io.write(("%.3f %.3f %.3f\n"):format(elapsed, ideal, elapsed / ideal))
