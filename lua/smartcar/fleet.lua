--- Concurrency: `all`, `loop`, and `fanOut` (extensions: the official SDKs have none).
-- The scheduler itself is `smartcar.loop` (the module).
-- @submodule smartcar

local core = require "smartcar.core"
local loops = require "smartcar.loop"
core.own()

local type, ipairs, floor = type, ipairs, math.floor

local VEHICLE -- the metatable of every Vehicle, taken from the first instance

local function check_tasks(tasks, fname)
  if type(tasks) ~= "table" then core.argError(1, fname, "a list of functions expected, got " .. type(tasks)) end
  for i = 1, #tasks do
    if type(tasks[i]) ~= "function" then
      core.argError(1, fname, ("task %d is not a function (got %s)"):format(i, type(tasks[i])))
    end
  end
end

local OPTIONS = { concurrency = true }
-- The `concurrency` of options (argument `arg` of `fname`), or `default`.
local function concurrency_of(options, arg, fname, default)
  options = core.checkOptions(options, arg, fname, OPTIONS)
  local c = options.concurrency
  if c == nil then return default end
  if type(c) ~= "number" or not (c >= 1 and c < 2 ^ 31) then
    core.optionError("concurrency", fname, "a number of requests in flight (>= 1) expected")
  end
  return floor(c)
end

return function(smartcar, client, builders)
  VEHICLE = VEHICLE or getmetatable(smartcar.Vehicle.new("-", "-"))
  local cfg = client.config

  --- Run tasks concurrently: each a function making SDK calls as usual, run as a coroutine; their
  -- requests share one libcurl multi handle (connections reused across tasks), at most `concurrency`
  -- in flight (inside nginx: light threads on cosockets). A task that raises does not stop the others.
  -- @tparam {function,...} tasks
  -- @tparam[opt] table options `{concurrency = 16}`
  -- @treturn table values: task i's first result
  -- @treturn table errors: task i's second result, or the value it raised
  -- @usage local values, errors = smartcar.all({ function() return v1:odometer() end,
  --   function() return v2:odometer() end }, { concurrency = 16 })
  function smartcar.all(tasks, options)
    check_tasks(tasks, "all")
    return loops.all(tasks, concurrency_of(options, 2, "all", cfg.concurrency))
  end

  --- A scheduler for a host with its own loop: `run(fn, ...)` starts a task at once and returns its
  -- job (`done()`, `result()`); `step(ms)` does the ready I/O and resumes what it unblocked, blocking
  -- at most `ms` (default 0); `pending()` counts the unfinished tasks.
  -- @tparam[opt] table options `{concurrency = 16}`
  -- @return the loop
  -- @usage local loop = smartcar.loop()
  -- local job = loop:run(function() return vehicle:odometer() end)
  -- while not job:done() do loop:step(10) end
  function smartcar.loop(options)
    return loops.new(concurrency_of(options, 1, "loop", cfg.concurrency))
  end

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
    local concurrency = concurrency_of(options, 3, "fanOut", cfg.concurrency)
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
