-- Configuration and SDK instances: configure validates its keys; each instance has its
-- own configuration (origins, timeouts, transport, API version), and two of them,
-- interleaved in coroutines against two emulators, never see each other's settings.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local libcurl = require "smartcar.transport.libcurl"
local H = require "helper"

local function token(origin, email)
  local res = assert(H.http("POST", origin .. "/_emulator/tokens", { ["content-type"] = "application/json" },
    core.encode { email = email }))
  assert.are.equal(200, res.status)
  return core.decode(res.body)
end

local function recorded(origin)
  local res = assert(H.http("GET", origin .. "/_emulator/requests"))
  return core.decode(res.body).requests
end

describe("configure", function()
  it("validates configure", function()
    assert.has_error(function() smartcar.configure { colour = 1 } end, "unknown option 'colour' to 'configure'")
    assert.has_error(function() smartcar.configure { apiOrigin = "ftp://x" } end)
    assert.has_error(function() smartcar.configure { timeout = -1 } end,
      "bad option 'timeout' to 'configure' (must be between 1 and 2147483647 ms, got -1)")
    assert.has_error(function() smartcar.configure { timeout = "5" } end,
      "bad option 'timeout' to 'configure' (number expected, got string)")
  end)
end)

describe("smartcar.new", function()
  local second, prefix
  setup(function()
    local out = assert(io.popen("bin/smartcar-emulator --daemon --latency 400")):read("*a")
    second = out:match("SMARTCAR_EMULATOR_ORIGIN=(%S+)")
    prefix = out:match("SMARTCAR_EMULATOR_PREFIX=(%S+)")
    assert(second and prefix, "could not start a second emulator: " .. out)
  end)
  teardown(function()
    if prefix then os.execute("bin/smartcar-emulator --stop '" .. prefix .. "'") end
  end)

  it("makes instances that share nothing but what they are given", function()
    H.reset()
    local a = smartcar.new { origin = H.origin, timeout = 5000 }
    local b = smartcar.new { origin = second, timeout = 200, transport = libcurl.new() }
    assert.are.equal(H.origin, a.getConfig().apiOrigin)
    assert.are.equal(second, b.getConfig().vehicleOrigin)
    assert.are.equal(200, b.getConfig().timeout)
    assert.are_not.equal(a.getConfig().transport, b.getConfig().transport)
    assert.are_not.equal(a.Vehicle, b.Vehicle)
    assert.are.equal(smartcar.SmartcarError, b.SmartcarError)
    assert.are_not.equal(second, smartcar.getConfig().apiOrigin)
    assert.has_error(function() smartcar.new { colour = "red" } end, "unknown option 'colour' to 'new'")
  end)

  it("keeps origins, timeouts, transports and versions apart when interleaved", function()
    H.reset()
    H.admin("DELETE", "/_emulator/requests")
    assert(H.http("DELETE", second .. "/_emulator/requests"))
    local ta, tb = token(H.origin, "3-vehicles@smartcar.com"), token(second, "3-vehicles@smartcar.com")
    local a = smartcar.new { origin = H.origin, timeout = 5000 }
    local b = smartcar.new { origin = second, timeout = 200, transport = libcurl.new() }
    local outcomes = {}
    local tasks = {}
    for i = 1, 6 do
      local sdk, t, name = a, ta, "a"
      if i % 2 == 0 then sdk, t, name = b, tb, "b" end
      tasks[i] = coroutine.create(function()
        local v = sdk.Vehicle.new(t.vehicles[(i - 1) % 3 + 1], t.access_token)
        coroutine.yield()
        local res, err = v:odometer()
        coroutine.yield()
        if i == 3 then a.setApiVersion("1.0") end -- one tenant reconfigures mid-flight
        coroutine.yield()
        local v2 = sdk.Vehicle.new(v.id, t.access_token)
        outcomes[i] = { name = name, res = res, err = err, version = v2.version }
      end)
    end
    repeat
      local alive = false
      for _, co in ipairs(tasks) do
        if coroutine.status(co) ~= "dead" then
          assert(coroutine.resume(co))
          alive = true
        end
      end
    until not alive
    for i, o in ipairs(outcomes) do
      if o.name == "a" then
        assert.is_nil(o.err, i)
        assert.is_number(o.res.distance)
      else
        -- the second emulator answers after 400 ms: b's 200 ms deadline, never a's 5000
        assert.is_nil(o.res)
        assert.are.equal("TIMEOUT", o.err.code)
        assert.are.equal(408, o.err.statusCode)
        assert.are.equal("2.0", o.version) -- a's setApiVersion never reached b
      end
    end
    assert.are.equal("1.0", outcomes[5].version)
    assert.are.equal("2.0", smartcar.getApiVersion())
    local on_a, on_b = recorded(H.origin), recorded(second)
    assert.are.equal(3, #on_a)
    for _, r in ipairs(on_a) do assert.are.equal("Bearer " .. ta.access_token, r.headers.authorization) end
    assert.is_true(#on_b <= 3)
    for _, r in ipairs(on_b) do assert.are.equal("Bearer " .. tb.access_token, r.headers.authorization) end
  end)
end)
