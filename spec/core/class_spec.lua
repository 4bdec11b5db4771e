-- Lifetimes: objects are collectable, finalizers are idempotent, closed sessions refuse work.
local smartcar = require "smartcar"
local core = require "smartcar.core"

local LIMITS = { timeout = 1000, connectTimeout = 1000, maxResponseSize = 1024 }

local function collected(make)
  local weak = setmetatable({}, { __mode = "v" })
  for i = 1, 20 do weak[i] = make(i) end
  collectgarbage()
  collectgarbage()
  return next(weak) == nil
end

describe("garbage collection", function()
  it("collects vehicles, clients and sessions", function()
    assert.is_true(collected(function(i) return smartcar.Vehicle.new("v" .. i, "token-" .. i) end))
    assert.is_true(collected(function(i)
      return smartcar.AuthClient.new { clientId = "c" .. i, clientSecret = "s", mode = "test" }
    end))
    assert.is_true(collected(function() return core.newSession(LIMITS) end))
  end)

  it("closes a session once, however often it is asked", function()
    local s = core.newSession(LIMITS)
    s:close()
    s:close()
    assert.has_error(function() s:request("GET", "http://127.0.0.1:1/", nil, nil) end,
      "attempt to use a closed Session")
  end)
end)
