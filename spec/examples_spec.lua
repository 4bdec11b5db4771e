-- The examples run as their headers say, against the emulator.
local H = require "helper"

local function interpreter()
  local i = -1
  while arg[i - 1] do i = i - 1 end
  return arg[i]
end

describe("examples/fleet.lua", function()
  it("reads every vehicle of an account and sums their odometers", function()
    H.reset()
    local token = H.token("12-vehicles@smartcar.com").access_token
    local cpath = package.cpath:match("([^;]*build/[^;]*)") or "build/5.4/?.so"
    local p = assert(io.popen(("SMARTCAR_API_ORIGIN=%s LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s;;' %s " ..
      "examples/fleet.lua %s 2>&1"):format(H.origin, cpath, interpreter(), token)))
    local out = p:read("*a")
    p:close()
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(13, #lines, out)
    for i = 1, 12 do assert.matches("^%d%d%d%d %S.- +[%d.]+ km$", lines[i]) end
    assert.matches("^12 vehicles, %d+ km in all, 0 could not be read$", lines[13])
  end)
end)
