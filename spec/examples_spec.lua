-- The examples run as their headers say, against the emulator.
local H = require "helper"

local interpreter = H.interpreter

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

describe("examples/quickstart.lua as make demo runs it", function()
  it("runs Connect, v2 and the API V3 part (user id, app token, connections, signals, a lock read back)", function()
    H.reset()
    -- the environment scripts/demo exports: every SMARTCAR_*_ORIGIN it names, at this emulator
    local demo = assert(io.open("scripts/demo")):read("*a")
    local env = {}
    for name in demo:gmatch("SMARTCAR_[%u%d_]*ORIGIN") do env[#env + 1] = name .. "=" .. H.origin end
    for name, value in demo:gmatch("\nexport (SMARTCAR_[%u%d_]+)=(%S+)") do env[#env + 1] = name .. "=" .. value end
    local cpath = package.cpath:match("([^;]*build/[^;]*)") or "build/5.4/?.so"
    local p = assert(io.popen(("env %s LUA_PATH='lua/?.lua;lua/?/init.lua;emulator/lua/?.lua;;' LUA_CPATH='%s;;' " ..
      "%s examples/quickstart.lua 2>&1; echo \"exit $?\""):format(table.concat(env, " "), cpath, interpreter())))
    local out = p:read("*a")
    p:close()
    assert.matches("\nexit 0\n$", out)
    assert.matches("\n7%. API V3, on the same Connect %(mode simulated: a command changes the vehicle%):\n", out)
    assert.matches("\n  user id +%x+%-%x+%-%x+%-%x+%-%x+ %(", out)
    assert.matches("\n  app token +ok ", out)
    assert.matches("\n  connections of the user +3: [^\n]*TESLA Model 3", out)
    assert.matches("\n  signals +%d+ of %d+ readable: [^\n]*closure%-islocked", out)
    local before = out:match("\n  closure%-islocked +(%a+)\n")
    local command = before == "true" and "unlock" or "lock"
    assert.matches("\n  " .. command .. "%(%) +SUCCESS %(security%-" .. command .. "%)\n", out)
    assert.matches("\n  closure%-islocked now +" .. tostring(before ~= "true") .. "\n", out)
    -- the V3 calls reached the emulator with the app token and the user; no secret was printed
    local seen, tokens = {}, {}
    for _, req in ipairs(H.requests()) do
      seen[req.method .. " " .. req.path:gsub("/vehicles/[^/]+", "/vehicles/{id}")] = req.headers["sc-user-id"] or true
      local bearer = req.headers.authorization and req.headers.authorization:match("^Bearer (.+)$")
      if bearer then tokens[bearer] = true end
    end
    assert.truthy(seen["POST /oauth2/token"])
    assert.truthy(seen["GET /v3/connections"])
    assert.is_string(seen["POST /v3/vehicles/{id}/commands/security/" .. command])
    assert.truthy(next(tokens))
    for secret in pairs(tokens) do assert.is_nil(out:find(secret, 1, true), "a token was printed") end
    for _, secret in ipairs { "emulator-client-secret", "emulator-api-secret" } do
      assert.is_nil(out:find(secret, 1, true), secret)
    end
  end)
end)
