--- Concurrency: `all`, `loop`, and `fanOut` (extensions: the official SDKs have none).
-- The scheduler itself is `smartcar.loop` (the module).
-- @submodule smartcar

local core = require "smartcar.core"
local config = require "smartcar.config"
local loops = require "smartcar.loop"
core.own()

local type, ipairs = type, ipairs

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
local LOOP_OPTIONS = { concurrency = true, driver = true }
local DRIVERS = { luv = true }
-- The `concurrency` of options (argument `arg` of `fname`), or `default`.
local function concurrency_of(options, arg, fname, default, allowed)
  options = core.checkOptions(options, arg, fname, allowed or OPTIONS)
  local c = options.concurrency
  if c == nil then return default end
  return config.concurrency("concurrency", c, fname)
end

return function(smartcar, client, builders)
  VEHICLE = VEHICLE or getmetatable(smartcar.Vehicle.new("-", "-"))
  local cfg = client.config

  --- Run tasks concurrently: each a function making SDK calls as usual, run as a coroutine; their
  -- requests share one libcurl multi handle (connections reused across tasks), at most `concurrency`
  -- in flight (inside nginx: light threads on cosockets). A task that raises does not stop the others.
  -- @tparam {function,...} tasks
  -- @tparam[opt] table options `{concurrency = 16}` (default: the instance's `concurrency`)
  -- @treturn table values: `values[i]` is task i's first result
  -- @treturn table errors: `errors[i]` is task i's second result, or the value it raised
  -- @usage local values, errors = smartcar.all({ function() return v1:odometer() end,
  --   function() return v2:odometer() end }, { concurrency = 16 })
  function smartcar.all(tasks, options)
    check_tasks(tasks, "all")
    return loops.all(tasks, concurrency_of(options, 2, "all", cfg.concurrency))
  end

  --- A scheduler for a host with its own loop: `run(fn, ...)` starts a task at once and returns its
  -- job (`done()`, `result()`); `step(ms)` does the ready I/O and resumes what it unblocked, blocking
  -- at most `ms` (default 0); `pending()` counts the unfinished tasks.
  --
  -- With `driver = "luv"` (the luv module, Debian `lua-luv`) the same scheduler is fed by a libuv event
  -- loop instead: the sockets and timeouts of the tasks' requests, and their waits, are uv handles, so
  -- the tasks progress while the host runs `uv.run()` (luvit, Neovim, any luv host) and nothing polls
  -- or blocks. `run` starts a task as usual; `step` raises under this driver. The loop's uv handles are
  -- closed whenever it has nothing in flight. See `smartcar.driver.luv`.
  -- @tparam[opt] table options `{concurrency = 16, driver = "luv"}` (default: the instance's
  -- `concurrency`; no driver: `step` runs the loop)
  -- @treturn table the loop
  -- @tfield[table] function run `loop:run(fn, ...)`: starts `fn(...)` as a task at once (it runs until its
  -- first request) and returns its job, `{done, result}`: `job:done()` is true once the task has ended,
  -- `job:result()` gives its first two results (or nil and the value it raised)
  -- @tfield[table] function step `loop:step(ms)`: does the ready I/O and resumes the tasks it unblocked;
  -- returns within about `ms` (default 0: never blocks)
  -- @tfield[table] function pending `loop:pending()`: the number of unfinished tasks
  -- @usage local loop = smartcar.loop()
  -- local job = loop:run(function() return vehicle:odometer() end)
  -- while not job:done() do loop:step(10) end
  -- @usage local uv = require "luv"
  -- local loop = smartcar.loop { driver = "luv" }
  -- local job = loop:run(function() return vehicle:odometer() end)
  -- uv.run() -- returns once the request (and every other uv handle of the host) is done
  function smartcar.loop(options)
    local concurrency = concurrency_of(options, 1, "loop", cfg.concurrency, LOOP_OPTIONS)
    local driver = options and options.driver
    if driver ~= nil and not DRIVERS[driver] then
      core.optionError("driver", "loop", "\"luv\" expected, got " ..
        (type(driver) == "string" and core.shown(driver) or type(driver)))
    end
    return loops.new(concurrency, driver)
  end

  --- Call one endpoint method without arguments on many vehicles at once: a thin layer on
  -- `smartcar.all`, one task per vehicle (libcurl: concurrently, over a shared connection pool).
  -- @tparam {Vehicle,...} vehicles
  -- @tparam string method the name of a method without arguments, e.g. `"odometer"` or `"lock"`
  -- @tparam[opt] table options `{concurrency = 16}`
  -- @treturn {table,...} results, indexed like `vehicles`: what `vehicle[method]()` returns (nil where it failed)
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
