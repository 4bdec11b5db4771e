local S = require "spec.support"
local socket = require "socket"

local LAUNCHER = S.LAUNCHER

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc, (out:gsub("__rc=%d+%s*$", ""))
end

local function start(args)
  local rc, out = run(LAUNCHER .. " --daemon " .. (args or ""))
  assert.are.equal(0, rc, out)
  local env = {}
  for k, v in out:gmatch("(SMARTCAR_EMULATOR_[%u]+)=(%S+)") do env[k] = v end
  return env, out
end

local port_open = S.port_open

local function exists(path)
  local ok = os.rename(path, path)
  return ok and true or false
end

describe("launcher", function()
  it("runs two instances side by side and stops them", function()
    local a, out = start("--seed 7")
    local b = start()
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(3, #lines)
    assert.matches("^export SMARTCAR_EMULATOR_ORIGIN=http://127%.0%.0%.1:%d+$", lines[1])
    assert.matches("^export SMARTCAR_EMULATOR_PREFIX=/", lines[2])
    assert.matches("^export SMARTCAR_EMULATOR_PID=%d+$", lines[3])
    assert.are_not.equal(a.SMARTCAR_EMULATOR_ORIGIN, b.SMARTCAR_EMULATOR_ORIGIN)
    for _, e in ipairs({ a, b }) do
      local body, status = S.admin("GET", "/_emulator/health", nil, e.SMARTCAR_EMULATOR_ORIGIN)
      assert.are.equal(200, status)
      assert.is_true(body.ok)
    end
    -- different seeds give different vehicles; the same seed the same
    local ta = S.admin("POST", "/_emulator/tokens", {}, a.SMARTCAR_EMULATOR_ORIGIN)
    local tb = S.admin("POST", "/_emulator/tokens", {}, b.SMARTCAR_EMULATOR_ORIGIN)
    local tm = S.token()
    assert.are_not.equal(ta.vehicles[1], tb.vehicles[1])
    assert.are.equal(tm.vehicles[1], tb.vehicles[1])
    -- without --faults, faults are ignored and the admin route refuses
    local res = assert(S.request("GET", "/v2.0/vehicles/" .. tb.vehicles[1] .. "/odometer", {
      origin = b.SMARTCAR_EMULATOR_ORIGIN, headers = { authorization = "Bearer " .. tb.access_token,
        ["sc-emulator-fault"] = "html502" } }))
    assert.are.equal(200, res.status)
    local _, status = S.admin("POST", "/_emulator/faults", { fault = "html502" }, b.SMARTCAR_EMULATOR_ORIGIN)
    assert.are.equal(403, status)
    -- stop
    for _, e in ipairs({ a, b }) do
      local rc = run(LAUNCHER .. " --stop " .. e.SMARTCAR_EMULATOR_PREFIX)
      assert.are.equal(0, rc)
      assert.is_false(port_open(e.SMARTCAR_EMULATOR_ORIGIN))
      assert.is_false(exists(e.SMARTCAR_EMULATOR_PREFIX))
      assert.are.equal(0, (run(LAUNCHER .. " --stop " .. e.SMARTCAR_EMULATOR_PREFIX)))
    end
  end)

  it("honours --port, --rate-limit and --latency, and fails on a busy port", function()
    -- below the kernel's ephemeral range, so that client sockets cannot hold the port
    local a, port
    for i = 1, 10 do
      port = 21000 + (math.floor(socket.gettime() * 1000) + i * 97) % 11000
      local rc, out = run(LAUNCHER .. " --daemon --port " .. port .. " --rate-limit 1 --rate-window 5 --latency 100")
      if rc == 0 then
        a = {}
        for k, v in out:gmatch("(SMARTCAR_EMULATOR_[%u]+)=(%S+)") do a[k] = v end
        break
      end
    end
    assert.is_table(a)
    assert.are.equal("http://127.0.0.1:" .. port, a.SMARTCAR_EMULATOR_ORIGIN)
    local t = S.admin("POST", "/_emulator/tokens", {}, a.SMARTCAR_EMULATOR_ORIGIN)
    local h = { authorization = "Bearer " .. t.access_token }
    local path = "/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer"
    local t0 = socket.gettime()
    assert.are.equal(200, assert(S.request("GET", path, { origin = a.SMARTCAR_EMULATOR_ORIGIN, headers = h })).status)
    assert.is_true(socket.gettime() - t0 >= 0.09)
    local res = assert(S.request("GET", path, { origin = a.SMARTCAR_EMULATOR_ORIGIN, headers = h }))
    assert.are.equal(429, res.status)
    assert.is_true(tonumber(res.headers["retry-after"]) <= 5)
    local rc, out = run(LAUNCHER .. " --daemon --port " .. port)
    assert.are_not.equal(0, rc)
    assert.truthy(out:find("could not start", 1, true))
    run(LAUNCHER .. " --stop " .. a.SMARTCAR_EMULATOR_PREFIX)
  end)

  it("prints its usage for --help, and nothing else", function()
    local rc, out = run(LAUNCHER .. " --help")
    assert.are.equal(0, rc)
    assert.matches("^smartcar%-emulator: run the local Smartcar API emulator", out)
    assert.truthy(out:find("--stop PREFIX", 1, true))
    assert.is_nil(out:find("set -u", 1, true))
    assert.is_nil(out:find("\n#", 1, true))
  end)

  it("fails clearly when SMARTCAR_EMULATOR_LUA_DIR holds no emulator", function()
    local rc, out = run("SMARTCAR_EMULATOR_LUA_DIR=/nonexistent " .. LAUNCHER .. " --daemon")
    assert.are.equal(2, rc)
    assert.truthy(out:find("cannot find the emulator's Lua modules", 1, true))
  end)

  it("runs in the foreground until SIGTERM", function()
    local port = 21000 + (math.floor(socket.gettime() * 1000) + 777) % 11000
    local log = os.tmpname()
    local p = assert(io.popen(LAUNCHER .. " --port " .. port .. " > " .. log .. " 2>&1 & echo $!"))
    local pid = p:read("*l")
    p:close()
    local origin = "http://127.0.0.1:" .. port
    local up = false
    for _ = 1, 100 do
      local f = io.open(log)
      local text = f and f:read("*a") or ""
      if f then f:close() end
      if text:find("Smartcar emulator listening on " .. origin, 1, true) then up = true; break end
      socket.sleep(0.05)
    end
    assert.is_true(up)
    assert.are.equal(200, select(2, S.admin("GET", "/_emulator/health", nil, origin)))
    os.execute("kill -TERM " .. pid)
    local down = false
    for _ = 1, 100 do
      if not port_open(origin) then down = true; break end
      socket.sleep(0.05)
    end
    assert.is_true(down)
    -- the launcher itself exits once it has cleaned up
    for _ = 1, 100 do
      if run("kill -0 " .. pid) ~= 0 then break end
      socket.sleep(0.05)
    end
    assert.are_not.equal(0, (run("kill -0 " .. pid)))
    os.remove(log)
  end)
end)
