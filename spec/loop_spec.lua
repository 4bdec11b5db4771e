-- smartcar.all and smartcar.loop: tasks as coroutines, their requests multiplexed
-- over the libcurl Session's multi handle, at most `concurrency` in flight.
local smartcar = require "smartcar"
local socket = require "socket"
local H = require "helper"

local function latency(ms)
  H.admin("POST", "/_emulator/config", { latency = ms })
end

describe("smartcar.all", function()
  local vehicles
  before_each(function()
    H.reset()
    local many = H.admin("POST", "/_emulator/tokens", { email = "fleet@example.com", vehicles = 20 })
    vehicles = {}
    for i, id in ipairs(many.vehicles) do vehicles[i] = smartcar.Vehicle.new(id, many.access_token) end
    H.admin("DELETE", "/_emulator/stats")
    H.clear()
  end)
  after_each(function() latency(0) end)

  it("gives each task's first two results in task order; a raising task does not stop the others", function()
    local values, errors = smartcar.all {
      function() return vehicles[1]:odometer() end,
      function() return smartcar.Vehicle.new(vehicles[2].id, "not-a-token"):odometer() end,
      function() error("task three gives up", 0) end,
      function() return "plain", 42 end,
      function() return vehicles[3]:attributes() end,
    }
    assert.is_number(values[1].distance)
    assert.is_nil(errors[1])
    assert.is_nil(values[2])
    assert.are.equal(401, errors[2].statusCode)
    assert.is_nil(values[3])
    assert.are.equal("task three gives up", errors[3])
    assert.are.equal("plain", values[4])
    assert.are.equal(42, errors[4])
    assert.are.equal(vehicles[3].id, values[5].id)
  end)

  it("runs 20 requests of 200 ms concurrently: well under 1 s, not 4 s", function()
    latency(200)
    local tasks = {}
    for i = 1, 20 do tasks[i] = function() return vehicles[i]:odometer() end end
    local t0 = socket.gettime()
    local values, errors = smartcar.all(tasks, { concurrency = 20 })
    local elapsed = socket.gettime() - t0
    for i = 1, 20 do
      assert.is_nil(errors[i])
      assert.is_number(values[i].distance)
    end
    assert.is_true(elapsed < 1, ("%.2f s"):format(elapsed))
  end)

  it("never has more than `concurrency` requests in flight, and reuses connections across tasks", function()
    latency(100)
    local tasks = {}
    for i = 1, 20 do
      tasks[i] = function()
        local a = assert(vehicles[i]:odometer())
        local b = assert(vehicles[i]:attributes())
        return a.distance, b.id
      end
    end
    local t0 = socket.gettime()
    local values = smartcar.all(tasks, { concurrency = 5 })
    local elapsed = socket.gettime() - t0
    for i = 1, 20 do assert.is_number(values[i]) end
    local stats = H.stats()
    assert.are.equal(5, stats.maxInFlight)
    assert.are.equal(40, stats.requests)
    assert.is_true(elapsed >= 0.75 and elapsed < 2, ("%.2f s"):format(elapsed)) -- 40 x 100 ms / 5 = 0.8 s
    local connections = {}
    for _, r in ipairs(H.requests()) do connections[r.connection] = true end
    local n = 0
    for _ in pairs(connections) do n = n + 1 end
    assert.is_true(n <= 6, n .. " connections for 5 in flight")
  end)

  it("one task's retry backoff does not hold the others", function()
    local sc = smartcar.new { origin = H.origin, retry = { attempts = 2, baseDelay = 800, maxDelay = 800 } }
    H.fault("html503", 1, "/odometer$")
    local token = H.admin("POST", "/_emulator/tokens", { email = "fleet@example.com", vehicles = 20 }).access_token
    local slow = sc.Vehicle.new(vehicles[1].id, token)
    local quick = sc.Vehicle.new(vehicles[2].id, token)
    local finished = {}
    local t0 = socket.gettime()
    local values, errors = smartcar.all {
      function()
        local res, err = slow:odometer()
        finished.slow = socket.gettime() - t0
        return res, err
      end,
      function()
        for _ = 1, 3 do assert(quick:attributes()) end
        finished.quick = socket.gettime() - t0
        return true
      end,
    }
    assert.is_nil(errors[1])
    assert.is_number(values[1].distance)
    assert.is_true(values[2])
    assert.is_true(finished.slow >= 0.8, ("the retry came after %.2f s"):format(finished.slow))
    assert.is_true(finished.quick < 0.5, ("the other task ended after %.2f s"):format(finished.quick))
  end)

  it("interleaves two instances with different origins, timeouts and transports", function()
    local libcurl = require "smartcar.transport.libcurl"
    local a = smartcar.new { origin = H.origin, timeout = 4000, transport = libcurl.new() }
    local b = smartcar.new { origin = "http://127.0.0.1:" .. require("support.nginx").free_port(), timeout = 1000 }
    latency(100)
    local tasks = {}
    for i = 1, 6 do
      local sc = i % 2 == 1 and a or b
      tasks[i] = function() return sc.Vehicle.new(vehicles[i].id, "x"):odometer() end
    end
    local _, errors = smartcar.all(tasks, { concurrency = 6 })
    for i = 1, 6 do
      if i % 2 == 1 then
        assert.are.equal(401, errors[i].statusCode) -- reached the emulator
      else
        assert.are.equal("NETWORK", errors[i].code) -- b's origin: nobody listens there
      end
    end
    assert.are.equal(4000, a.getConfig().timeout)
    assert.are.equal(1000, b.getConfig().timeout)
  end)

  it("raises for what is not a list of functions", function()
    assert.has_error(function() smartcar.all(5) end, "bad argument #1 to 'all' (a list of functions expected, got number)")
    assert.has_error(function() smartcar.all { function() end, 5 } end,
      "bad argument #1 to 'all' (task 2 is not a function (got number))")
    assert.has_error(function() smartcar.all({}, { concurrency = 0 }) end,
      "bad option 'concurrency' to 'all' (a number of requests in flight (>= 1) expected, got 0)")
    assert.has_error(function() smartcar.all({}, { concurrency = "8" }) end,
      "bad option 'concurrency' to 'all' (a number of requests in flight (>= 1) expected, got '8')")
    assert.has_error(function() smartcar.all({}, { limit = 2 }) end, "unknown option 'limit' to 'all'")
  end)
end)

describe("smartcar.loop", function()
  before_each(function() H.reset() end)
  after_each(function() latency(0) end)

  it("runs tasks as the host steps it: run, step, pending, done, result", function()
    local token = H.token("driver@example.com")
    local v = smartcar.Vehicle.new(token.vehicles[1], token.access_token)
    latency(100)
    local loop = smartcar.loop()
    local job = loop:run(function(x) return v:odometer(), x end, "extra")
    local other = loop:run(function() return 7 end)
    assert.is_true(other:done())
    assert.are.equal(7, (other:result()))
    assert.is_false(job:done())
    assert.are.equal(1, loop:pending())
    local t0 = socket.gettime()
    loop:step(0)
    assert.is_true(socket.gettime() - t0 < 0.05, "step(0) blocked")
    local steps = 0
    while not job:done() do
      loop:step(10)
      steps = steps + 1
      assert.is_true(steps < 500, "never done")
    end
    local res, extra = job:result()
    assert.is_number(res.distance)
    assert.are.equal("extra", extra)
    assert.are.equal(0, loop:pending())
  end)

  it("gets a quick server's answer to a host that steps seldom (every 600 ms, a 1000 ms timeout)", function()
    local token = H.token("driver@example.com")
    local scale = H.TIME_SCALE
    local sc = smartcar.new { origin = H.origin, timeout = 1000 * scale, retry = false }
    local loop = sc.loop()
    local job = loop:run(function() return sc.Vehicle.new(token.vehicles[1], token.access_token):odometer() end)
    for _ = 1, 5 do
      if job:done() then break end
      socket.sleep(0.6 * scale)
      loop:step(0)
    end
    local res, err = job:result()
    assert.is_nil(err)
    assert.is_number(res.distance) -- connect, send and receive are not one step each
  end)

  it("ends the tasks of a Session closed under their requests, and goes on with the others", function()
    local token = H.token("driver@example.com")
    local session = require("smartcar.transport.libcurl").new()
    local own = smartcar.new { origin = H.origin, transport = session, retry = false }
    latency(200)
    local loop = smartcar.loop()
    local orphan = loop:run(function() return own.Vehicle.new(token.vehicles[1], token.access_token):odometer() end)
    local other = loop:run(function() return smartcar.Vehicle.new(token.vehicles[1], token.access_token):odometer() end)
    loop:step(0)
    session:close()
    for _ = 1, 200 do
      if loop:pending() == 0 then break end
      loop:step(10)
    end
    assert.are.equal(0, loop:pending())
    local res, err = orphan:result()
    assert.is_nil(res)
    assert.matches("closed Session", tostring(err))
    assert.is_number(other:result().distance)
  end)

  it("takes a task's request made under pcall or from a paging iterator (Lua 5.1 carries those itself)",
    function()
    local token = H.token("driver@example.com")
    local v = smartcar.Vehicle.new(token.vehicles[1], token.access_token)
    local loop = smartcar.loop()
    local under_pcall = loop:run(function() return pcall(v.odometer, v) end)
    local iterated = loop:run(function()
      local n = 0
      for permission in v:eachPermission() do n = n + (type(permission) == "string" and 1 or 0) end
      return n
    end)
    local plain = loop:run(function() return v:odometer() end)
    for _ = 1, 500 do
      if loop:pending() == 0 then break end
      loop:step(10)
    end
    local ok, res = under_pcall:result()
    assert.is_true(ok)
    assert.is_number(res.distance)
    assert.is_true(iterated:result() > 0)
    assert.is_number(plain:result().distance)
    assert.are.equal(0, loop:pending())
    assert.are.equal(0, require("smartcar.loop").active) -- no task counted twice, none left over
  end)
end)
