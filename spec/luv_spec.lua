-- smartcar.loop{driver = "luv"}: the loop's scheduler fed by a libuv event loop. The
-- Session's sockets and timeout are uv handles, so requests finish while the host runs
-- uv.run(), and the host's own timers keep their time. Against an emulator of this file
-- that answers after 500 ms (and honours faults).
local smartcar = require "smartcar"
local core = require "smartcar.core"
local loops = require "smartcar.loop"
local H = require "helper"

local ok_uv, uv = pcall(require, "luv")
if not ok_uv then
  describe("smartcar.loop{driver = \"luv\"}", function()
    pending("luv is not installed for " .. (jit and jit.version or _VERSION) .. " (Debian: lua-luv)")
  end)
  return
end

-- Every handle of the uv loop (what uv.walk finds), as strings.
local function handles()
  local list = {}
  uv.walk(function(h) if not h:is_closing() then list[#list + 1] = tostring(h) end end)
  return list
end

-- Run the uv loop until `done()`, a timer ticking every 10 ms meanwhile; how late the
-- ticks were at worst (ms) and how long it all took (ms).
local function run_until(done)
  local worst, ticks = 0, 0
  local t0 = uv.hrtime()
  local last = t0
  local tick = uv.new_timer()
  tick:start(10, 10, function()
    local t = uv.hrtime()
    local late = (t - last) / 1e6 - 10
    if late > worst then worst = late end
    last, ticks = t, ticks + 1
    if done() then
      tick:stop()
      tick:close()
    end
  end)
  uv.run()
  return worst, (uv.hrtime() - t0) / 1e6, ticks
end

describe("smartcar.loop{driver = \"luv\"}", function()
  local origin, prefix, sc, transport

  local function admin(method, path, body)
    local res = assert(H.http(method, origin .. path, { ["content-type"] = "application/json" },
      body and core.encode(body)))
    return core.decode(res.body), res.status
  end

  setup(function()
    local out = assert(io.popen("bin/smartcar-emulator --daemon --faults --latency 500")):read("*a")
    origin = out:match("SMARTCAR_EMULATOR_ORIGIN=(%S+)")
    prefix = out:match("SMARTCAR_EMULATOR_PREFIX=(%S+)")
    assert(origin and prefix, "could not start the emulator: " .. out)
    sc = smartcar.new { origin = origin, timeout = 5000, retry = false }
    transport = sc.getConfig().transport
  end)
  teardown(function()
    if prefix then os.execute("bin/smartcar-emulator --stop '" .. prefix .. "'") end
  end)

  local vehicles, token
  before_each(function()
    local many = admin("POST", "/_emulator/tokens", { email = "luv@example.com", vehicles = 20 })
    token = many.access_token
    vehicles = {}
    for i, id in ipairs(many.vehicles) do vehicles[i] = sc.Vehicle.new(id, many.access_token) end
    admin("DELETE", "/_emulator/stats")
      end)
  after_each(function()
    assert.are.same({}, handles())                 -- nothing of ours (nor anyone's) left in the uv loop
    assert.are.equal("Session (open)", tostring(transport)) -- no Lua function left in the Session (not "watched")
  end)

  it("finishes 20 reads of 500 ms inside uv.run() in under 1.5 s, the host's 10 ms timer on time", function()
    local loop = sc.loop { driver = "luv", concurrency = 20 }
    local jobs = {}
    for i = 1, 20 do jobs[i] = loop:run(function() return vehicles[i]:odometer() end) end
    assert.are.equal(20, loop:pending())
    assert.is_false(jobs[1]:done())                  -- nothing progresses before the host's loop runs
    local worst, elapsed, ticks = run_until(function() return loop:pending() == 0 end)
    for i = 1, 20 do
      local res, err = jobs[i]:result()
      assert.is_nil(err)
      assert.is_number(res.distance)
      assert.are.equal("metric", res.meta.unitSystem)
      assert.is_string(res.meta.requestId)
    end
    assert.is_true(elapsed >= 500 and elapsed < 1500 * H.TIME_SCALE, ("%.0f ms"):format(elapsed))
    assert.is_true(worst <= 20 * H.TIME_SCALE, ("a tick %.1f ms late"):format(worst))
    assert.is_true(ticks >= 40, ticks .. " ticks")
    local stats = admin("GET", "/_emulator/stats")
    assert.are.equal(20, stats.requests)
    assert.are.equal(20, stats.maxInFlight)
    print(("\nluv driver: 20 reads in %.0f ms, worst tick %.1f ms late (%d ticks)"):format(elapsed, worst, ticks))
  end)

  it("keeps to `concurrency` and reuses the loop (and the Session) after it went idle", function()
    local loop = sc.loop { driver = "luv", concurrency = 4 }
    for round = 1, 2 do
      local jobs = {}
      for i = 1, 8 do jobs[i] = loop:run(function() return vehicles[i]:odometer() end) end
      local worst, elapsed = run_until(function() return loop:pending() == 0 end)
      for i = 1, 8 do assert.is_number(jobs[i]:result().distance) end
      assert.is_true(elapsed >= 1000 and elapsed < 1500 * H.TIME_SCALE, ("round %d: %.0f ms"):format(round, elapsed))
      assert.is_true(worst <= 20 * H.TIME_SCALE, ("a tick %.1f ms late"):format(worst))
      assert.are.equal("Session (open)", tostring(transport))
    end
    local stats = admin("GET", "/_emulator/stats")
    assert.are.equal(16, stats.requests)
    assert.are.equal(4, stats.maxInFlight)
  end)

  it("gives failures as nil, err through job:result(): a fault, an unreachable origin, a raise", function()
    admin("POST", "/_emulator/faults", { fault = "status:500", count = 1 })
    local nowhere = smartcar.new { origin = "http://127.0.0.1:1", timeout = 2000, retry = false }
    local lost = nowhere.Vehicle.new(vehicles[2].id, "some-token")
    local loop = sc.loop { driver = "luv" }
    local faulted = loop:run(function() return vehicles[1]:odometer() end)
    local refused = loop:run(function() return lost:odometer() end)
    local raised = loop:run(function()
      assert(vehicles[3]:odometer())
      error("task gives up", 0)
    end)
    local fine = loop:run(function() return vehicles[4]:odometer() end)
    run_until(function() return loop:pending() == 0 end)
    local res, err = faulted:result()
    assert.is_nil(res)
    assert.are.equal(500, err.statusCode)
    res, err = refused:result()
    assert.is_nil(res)
    assert.are.equal("NETWORK", err.code)
    res, err = raised:result()
    assert.is_nil(res)
    assert.are.equal("task gives up", err)
    assert.is_number(fine:result().distance)
  end)

  it("waits out a retry's backoff on a uv timer, the other tasks and the host running meanwhile", function()
    local retrying = smartcar.new { origin = origin, timeout = 5000,
      retry = { attempts = 2, baseDelay = 200, maxDelay = 200 } }
    admin("POST", "/_emulator/faults", { fault = "status:503", count = 1, path = "/odometer$" })
    local loop = retrying.loop { driver = "luv", concurrency = 8 }
    local v = retrying.Vehicle.new(vehicles[1].id, token)
    local first = loop:run(function() return v:odometer() end)
    local other = loop:run(function() return vehicles[2]:attributes() end)
    local slept = loop:run(function()
      local t0 = uv.hrtime()
      loops.current():sleep(300)
      coroutine.yield() -- yields by itself: resumed from the driver's timer
      return (uv.hrtime() - t0) / 1e6
    end)
    local worst, elapsed = run_until(function() return loop:pending() == 0 end)
    local res, err = first:result()
    assert.is_nil(err)
    assert.is_number(res.distance)
    assert.is_string(other:result().id)
    assert.is_true(slept:result() >= 300, tostring(slept:result()))
    -- the fault answers at once, then 200 ms of backoff and the 500 ms of the second attempt
    assert.is_true(elapsed >= 700 and elapsed < 1200, ("%.0f ms"):format(elapsed))
    assert.is_true(worst <= 20 * H.TIME_SCALE, ("a tick %.1f ms late"):format(worst))
    assert.are.equal(3, admin("GET", "/_emulator/stats").requests)
  end)

  it("shares its Session with smartcar.all and with a stepped loop (the one that comes second uses "
    .. "a Session of its own meanwhile)", function()
    -- a luv loop's request in flight (the Session watched), then smartcar.all from a uv callback
    local loop = sc.loop { driver = "luv" }
    local first = loop:run(function() return vehicles[1]:odometer() end)
    local watched, values, errors
    local later = uv.new_timer()
    later:start(5, 0, function()
      later:close()
      watched = transport:watched()
      values, errors = sc.all { function() return vehicles[2]:odometer() end,
        function() return vehicles[3]:attributes() end }
    end)
    run_until(function() return loop:pending() == 0 and values ~= nil end)
    assert.is_true(watched)
    assert.are.same({}, errors)
    assert.is_number(values[1].distance)
    assert.is_string(values[2].make)
    assert.is_number(first:result().distance)
    -- a stepped loop's request in flight (the Session polled), then a luv loop's
    local plain = sc.loop()
    local stepped = plain:run(function() return vehicles[4]:odometer() end)
    assert.is_false(transport:watched())
    local luv_loop = sc.loop { driver = "luv" }
    local driven = luv_loop:run(function() return vehicles[5]:odometer() end)
    local stepper = uv.new_timer()
    stepper:start(10, 10, function()
      plain:step(0)
      if plain:pending() == 0 then stepper:close() end
    end)
    run_until(function() return plain:pending() == 0 and luv_loop:pending() == 0 end)
    assert.is_number(stepped:result().distance)
    assert.is_number(driven:result().distance)
    assert.are.equal(5, admin("GET", "/_emulator/stats").requests)
  end)

  it("checks its options, and loop:step raises under the driver", function()
    assert.has_error(function() sc.loop { driver = "uv" } end,
      "bad option 'driver' to 'loop' (\"luv\" expected, got 'uv')")
    assert.has_error(function() sc.loop { driver = 1 } end,
      "bad option 'driver' to 'loop' (\"luv\" expected, got number)")
    assert.has_error(function() sc.loop { drivers = "luv" } end, "unknown option 'drivers' to 'loop'")
    local loop = sc.loop { driver = "luv", concurrency = 2 }
    local ok, msg = pcall(loop.step, loop, 0)
    assert.is_false(ok)
    assert.matches("this loop is driven by luv", msg, 1, true)
    assert.matches("uv.run()", msg, 1, true)
    assert.are.equal(0, loop:pending())
  end)

  it("exposes libcurl's socket API on the Session safely", function()
    local session = require("smartcar.transport.libcurl").new()
    local calls = {}
    assert.has_error(function() session:socketAction(3, "r") end)
    assert.has_error(function() session:watch(print) end)
    session:watch(function(fd, what) calls[#calls + 1] = { fd, what } end, function(ms) calls[#calls + 1] = ms end)
    assert.are.equal("Session (open, watched)", tostring(session))
    assert.is_true(session:watched())
    assert.has_error(function() session:watch(print, print) end, "Session:watch: already watched; call watch() first")
    local id = session:start("GET", origin .. "/_emulator/stats", {}, nil)
    assert.is_number(id)
    assert.are.equal(0, calls[1])                       -- a timeout at once, asked from start
    assert.has_error(function() session:poll(0) end)    -- driven by socketAction now
    assert.has_error(function() session:watch() end)    -- not while a request is in flight
    -- a minimal driver: uv handles for what the Session asked, until the answer comes
    local polls, timer, answers = {}, uv.new_timer(), {}
    local function take(list) for _, a in ipairs(list) do answers[#answers + 1] = a end end
    local function apply()
      while #calls > 0 do
        local c = table.remove(calls, 1)
        if type(c) == "number" then
          if c >= 0 then timer:start(c, 0, function() take(session:timeout()); apply() end) else timer:stop() end
        elseif c[2] == "remove" then
          polls[c[1]]:close()
          polls[c[1]] = nil
        else
          local fd = c[1]
          polls[fd] = polls[fd] or uv.new_poll(fd)
          polls[fd]:start(({ ["in"] = "r", out = "w", inout = "rw" })[c[2]], function(_, ev)
            take(session:socketAction(fd, ev)); apply()
          end)
        end
      end
      if #answers > 0 then
        for fd, p in pairs(polls) do p:close(); polls[fd] = nil end
        timer:stop()
      end
    end
    apply()
    uv.run()
    assert.are.equal(1, #answers)
    assert.are.equal(id, answers[1][1])
    assert.are.equal(200, answers[1][2])
    session:watch()
    assert.are.equal("Session (open)", tostring(session))
    assert.is_false(session:watched())
    timer:close()
    uv.run()
    session:close()
  end)
end)
