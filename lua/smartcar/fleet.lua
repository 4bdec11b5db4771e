--- Many vehicles at once: `fanOut` (an extension: the official SDKs have none).
-- @submodule smartcar

local core = require "smartcar.core"
core.own()

local type, ipairs = type, ipairs
local DATA = core.DATA

local FANOUT_OPTIONS = { concurrency = true }
local VEHICLE -- the metatable of every Vehicle, taken from the first instance

return function(smartcar, client, builders)
  VEHICLE = VEHICLE or getmetatable(smartcar.Vehicle.new("-", "-"))

  --- Call one endpoint method without arguments on many vehicles at once. The requests go through
  -- the transport's `many` (libcurl: concurrently, over a shared connection pool; the resty transport:
  -- one light thread each); a transport without `many` runs them one after the other.
  -- @tparam {Vehicle,...} vehicles
  -- @tparam string method the name of a method without arguments, e.g. `"odometer"` or `"lock"`
  -- @tparam[opt] table options `{concurrency = 16}`
  -- @treturn {table,...} results, indexed like `vehicles` (nil where that vehicle failed)
  -- @treturn {SmartcarError,...} errors, indexed like `vehicles`
  -- @usage local odometers, errors = smartcar.fanOut(vehicles, "odometer")
  function smartcar.fanOut(vehicles, method, options)
    if type(vehicles) ~= "table" then core.argError(1, "fanOut", "table expected, got " .. type(vehicles)) end
    local build = builders[method]
    if not build then
      core.argError(2, "fanOut", "not a method without arguments: " ..
        (type(method) == "string" and core.shown(method) or type(method)))
    end
    options = core.checkOptions(options, 3, "fanOut", FANOUT_OPTIONS)
    local concurrency = options.concurrency
    if concurrency ~= nil and (type(concurrency) ~= "number" or not (concurrency >= 1 and concurrency < 2 ^ 31)) then
      core.optionError("concurrency", "fanOut", "a number of requests in flight (>= 1) expected")
    end
    local requests = {}
    for i, v in ipairs(vehicles) do
      if getmetatable(v) ~= VEHICLE then
        core.argError(1, "fanOut", ("entry %d is not a Vehicle (got %s)"):format(i, type(v)))
      end
      requests[i] = { build(v) }
    end
    return client:sendMany(DATA, requests, concurrency and math.floor(concurrency))
  end
end
