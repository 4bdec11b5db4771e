--- Many vehicles at once: `fanOut` (an extension: the official SDKs have none).
-- @submodule smartcar

local core = require "smartcar.core"
local loops = require "smartcar.loop"
core.own()

local type, ipairs = type, ipairs

local VEHICLE -- the metatable of every Vehicle, taken from the first instance

return function(smartcar, client, builders)
  VEHICLE = VEHICLE or getmetatable(smartcar.Vehicle.new("-", "-"))

  --- Call one endpoint method without arguments on many vehicles at once: a thin layer on
  -- `smartcar.all`, one task per vehicle (libcurl: concurrently, over a shared connection pool).
  -- @tparam {Vehicle,...} vehicles
  -- @tparam string method the name of a method without arguments, e.g. `"odometer"` or `"lock"`
  -- @tparam[opt] table options `{concurrency = 16}`
  -- @treturn {table,...} results, indexed like `vehicles` (nil where that vehicle failed)
  -- @treturn {SmartcarError,...} errors, indexed like `vehicles`
  -- @usage local odometers, errors = smartcar.fanOut(vehicles, "odometer")
  function smartcar.fanOut(vehicles, method, options)
    if type(vehicles) ~= "table" then core.argError(1, "fanOut", "table expected, got " .. type(vehicles)) end
    if not builders[method] then
      core.argError(2, "fanOut", "not a method without arguments: " ..
        (type(method) == "string" and core.shown(method) or type(method)))
    end
    local concurrency = loops.checkConcurrency(options, "fanOut", client.config.concurrency, 3)
    local tasks = {}
    for i, v in ipairs(vehicles) do
      if getmetatable(v) ~= VEHICLE then
        core.argError(1, "fanOut", ("entry %d is not a Vehicle (got %s)"):format(i, type(v)))
      end
      tasks[i] = function() return v[method](v) end
    end
    return loops.all(tasks, concurrency)
  end
end
