-- The libcurl transport (a Session of the C core) and the conventions every call shares,
-- over real HTTP against the emulator.
local smartcar = require "smartcar"
local H = require "helper"

local LIMITS = { timeout = 1000, connectTimeout = 1000, maxResponseSize = 1024 }
local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"

describe("the libcurl engine", function()
  local vehicle
  before_each(function()
    H.reset()
    H.configure()
    vehicle = H.vehicle("driver@example.com")
    H.clear()
  end)
  after_each(function() H.configure() end)

  it("reuses one keep-alive connection for sequential requests", function()
    for _ = 1, 5 do assert(vehicle:odometer()) end
    assert(vehicle:location())
    local reqs = H.requests()
    assert.are.equal(6, #reqs)
    for i = 2, #reqs do assert.are.equal(reqs[1].connection, reqs[i].connection) end
  end)

  it("sends the SDK's User-Agent, the bearer token and the unit system", function()
    assert(vehicle:odometer())
    local r = H.last()
    assert.are.equal("GET", r.method)
    assert.are.equal("/v2.0/vehicles/" .. vehicle.id .. "/odometer", r.path)
    assert.are.equal("", r.query)
    assert.matches("^Smartcar/%d+%.%d+%.%d+ %(%w+; [%w_]+%) Lua", r.headers["user-agent"])
    assert.matches("^Bearer %S+$", r.headers.authorization)
    assert.are.equal("metric", r.headers["sc-unit-system"])
    assert.are.equal("", r.body)
  end)

  it("sends a POST without a body with Content-Length: 0 and no Content-Type, before and after a GET", function()
    for _ = 1, 2 do
      assert(vehicle:odometer())
      assert(vehicle:subscribe(H.WEBHOOK_ID))
      local r = H.last()
      assert.are.equal("POST", r.method)
      assert.are.equal("0", r.headers["content-length"])
      assert.is_nil(r.headers["content-type"])
      assert.is_nil(r.headers.expect)
      assert.are.equal("", r.body)
    end
    assert(vehicle:lock())
    assert.are.equal("application/json", H.last().headers["content-type"])
  end)

  it("maps response headers to meta", function()
    local res = assert(vehicle:odometer())
    assert.matches(UUID, res.meta.requestId)
    assert.matches(ISO, res.meta.dataAge)
    assert.matches(ISO, res.meta.fetchedAt)
    assert.are.equal("metric", res.meta.unitSystem)
    local attrs = assert(vehicle:attributes())
    assert.matches(UUID, attrs.meta.requestId)
    assert.is_nil(attrs.meta.unitSystem ~= nil and attrs.meta.unitSystem ~= "metric" or nil)
  end)

  it("normalises whole numbers to integers and drops JSON null", function()
    local attrs = assert(vehicle:attributes())
    assert.are.equal("number", type(attrs.year))
    if math.type then assert.are.equal("integer", math.type(attrs.year)) end
    local nominal = vehicle:nominalCapacity()
    if nominal and nominal.availableCapacities then
      for _, c in ipairs(nominal.availableCapacities) do
        assert.is_not.equal("userdata", type(c.description))
      end
    end
  end)

  it("returns SDK_ERROR NETWORK when the connection is refused", function()
    H.configure { apiOrigin = "http://127.0.0.1:1" }
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.is_true(smartcar.SmartcarError.is(err))
    assert.are.equal("SmartcarError", err.name)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("NETWORK", err.code)
    assert.is_nil(err.statusCode)
    assert.matches("^SDK_ERROR:NETWORK %- ", err.message)
    assert.are.equal(err.message, tostring(err))
  end)

  it("returns SDK_ERROR TIMEOUT (408) when the server is too slow", function()
    H.configure { timeout = 200 }
    H.fault("latency:1500")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("TIMEOUT", err.code)
    assert.are.equal(408, err.statusCode)
  end)

  it("returns SDK_ERROR INVALID_RESPONSE for a non-JSON 502", function()
    H.fault("html502")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("INVALID_RESPONSE", err.code)
    assert.are.equal(502, err.statusCode)
    assert.matches("<", err.description, 1, true)
    assert.is_true(#err.description <= 200)
  end)

  it("returns SDK_ERROR INVALID_RESPONSE for truncated JSON", function()
    H.fault("truncate")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("INVALID_RESPONSE", err.code)
    assert.are.equal(200, err.statusCode)
  end)

  it("returns SDK_ERROR INVALID_RESPONSE for a body over the size limit", function()
    H.configure { maxResponseSize = 4096 }
    H.fault("oversize:100000")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("INVALID_RESPONSE", err.code)
    assert.matches("4096 bytes", err.description, 1, true)
  end)

  it("returns SDK_ERROR NETWORK when the connection is reset mid-body", function()
    H.fault("reset")
    local res, err = vehicle:odometer()
    assert.is_nil(res)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("NETWORK", err.code)
  end)

  it("keeps working on the same session after a failure", function()
    H.fault("html503")
    assert.is_nil((vehicle:odometer()))
    assert.is_truthy(vehicle:odometer())
  end)
end)

describe("the transport", function()
  it("refuses URLs that are not http(s)", function()
    local status, code = smartcar.transports.libcurl:request("GET", "file:///etc/passwd", {}, nil, LIMITS)
    assert.is_nil(status)
    assert.are.equal("NETWORK", code)
  end)

  it("refuses header injection", function()
    assert.has_error(function()
      smartcar.transports.libcurl:request("GET", "http://127.0.0.1:1/", { ["x-a"] = "b\r\nx-evil: 1" }, nil, LIMITS)
    end, "bad argument #3 to 'request' (header names and values must not contain line breaks or NUL bytes)")
    assert.has_error(function() smartcar.Vehicle.new("v", "t\r\nx: y") end)
  end)


  -- The README's proxy rules, in child processes (libcurl reads the variables when the
  -- transport makes its transfers). The origin's host does not exist: only the proxy (the
  -- emulator, which serves an absolute-form request like any other) can answer it.
  it("goes through http_proxy, and not for the hosts in no_proxy", function()
    local lua = arg and arg[-1] or "lua"
    local function child(env)
      local code = ("package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path; package.cpath = %q .. ';' .. " ..
        "package.cpath; local s = require 'smartcar'; s.configure { origin = 'http://proxied.invalid', retry = false }; " ..
        "local _, err = s.getUser('a-token'); io.write(tostring(err.statusCode), ' ', err.type, ' ', tostring(err.code))")
        :format(package.cpath:match("^[^;]+"))
      local p = assert(io.popen(("env -u https_proxy -u all_proxy -u HTTPS_PROXY -u ALL_PROXY %s %s -e %q 2>&1")
        :format(env, lua, code)))
      local out = p:read("*a")
      p:close()
      return out
    end
    assert.are.equal("401 AUTHENTICATION nil", child("http_proxy=" .. H.origin .. " no_proxy="))
    assert.are.equal("nil SDK_ERROR NETWORK", child("http_proxy=" .. H.origin .. " no_proxy=proxied.invalid"))
    assert.are.equal("nil SDK_ERROR NETWORK", child("http_proxy= no_proxy="))
  end)
end)
