-- Hosts with their own loop (examples/host): 20 reads through `loop:step(0)` from a 60 Hz frame
-- loop, against an emulator that takes 500 ms over every vehicle request. All 20 answers come
-- in under 1.5 s and no frame takes more than 20 ms: in the C host embedding Lua 5.4, and in
-- the Lua-level driver under the Lua running this spec.

local H = require "helper"

local interpreter = H.interpreter

-- os.execute's success: true on 5.2+, 0 on 5.1 and LuaJIT.
local function succeeds(command)
  local r = os.execute(command)
  return r == true or r == 0
end

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Run a shell command: its output (stdout and stderr) and its exit status.
local function run(command)
  local p = assert(io.popen(command .. ' 2>&1; echo "exit status $?"'))
  local out = p:read("*a")
  p:close()
  local status = tonumber(out:match("exit status (%d+)%s*$"))
  return out:gsub("exit status %d+%s*$", ""), status
end

-- What a host printed: the answers, the summary and the frame times.
local function parse(out)
  local r = { answers = {} }
  for line in out:gmatch("[^\n]+") do
    local n, t, rest = line:match("^answer +(%d+) t_ms +([%d.]+) (.*)$")
    if n then r.answers[#r.answers + 1] = { n = tonumber(n), t = tonumber(t), rest = rest } end
    local count, ok, failed, started, last =
      line:match("^answers (%d+) ok (%d+) failed (%d+) started_ms ([%d.]+) last_ms ([%d.]+)$")
    if count then
      r.count, r.ok, r.failed = tonumber(count), tonumber(ok), tonumber(failed)
      r.started, r.last = tonumber(started), tonumber(last)
    end
    local hist = line:match("^histogram (.*)$")
    if hist then
      r.histogram = {}
      for name, c in hist:gmatch("(%S+):(%d+)") do r.histogram[name] = tonumber(c) end
    end
    local frames, max = line:match("^frames (%d+) max_ms ([%d.]+)")
    if frames then r.frames, r.max = tonumber(frames), tonumber(max) end
  end
  return r
end

-- The bounds every host meets.
local function check(out, status)
  assert.are.equal(0, status, out)
  local r = parse(out)
  assert.are.equal(20, r.count, out)
  assert.are.equal(20, r.ok, out)
  assert.are.equal(20, #r.answers, out)
  for _, a in ipairs(r.answers) do assert.is_truthy(a.rest:match(" ok$"), out) end
  assert.is_true(r.last >= 500, "answers before the emulator's latency:\n" .. out)
  -- the bounds stretch under the memory checks (H.TIME_SCALE: 1 in the test suite)
  local scale = H.TIME_SCALE
  assert.is_true(r.last < 1500 * scale, "the last answer came after 1500 ms:\n" .. out)
  assert.is_truthy(r.histogram, out)
  if scale == 1 then assert.are.equal(0, r.histogram[">20"], out) end
  assert.is_true(r.max <= 20 * scale, "a frame took more than 20 ms:\n" .. out)
  assert.is_true(r.frames >= 25, "fewer frames than 500 ms at 60 Hz:\n" .. out)
  local sum = 0
  for _, c in pairs(r.histogram) do sum = sum + c end
  assert.are.equal(r.frames, sum, out)
  return r
end

describe("examples/host", function()
  local origin, prefix
  setup(function()
    local out = assert(io.popen("bin/smartcar-emulator --daemon --latency 500")):read("*a")
    origin = out:match("SMARTCAR_EMULATOR_ORIGIN=(%S+)")
    prefix = out:match("SMARTCAR_EMULATOR_PREFIX=(%S+)")
    assert(origin and prefix, "could not start an emulator with latency: " .. out)
  end)
  teardown(function()
    if prefix then os.execute("bin/smartcar-emulator --stop " .. sh_quote(prefix) .. " >/dev/null 2>&1") end
  end)

  local env = function() return "env -u SMARTCAR_ACCESS_TOKEN SMARTCAR_EMULATOR_ORIGIN=" .. sh_quote(origin) .. " " end

  it("host.c, embedding Lua 5.4, steps 20 reads without a frame over 20 ms", function()
    if not succeeds("pkg-config --exists lua5.4") then
      pending("no Lua 5.4 development files (pkg-config lua5.4)")
      return
    end
    local core = io.open("build/5.4/smartcar/core.so")
    if core then
      core:close()
    else
      local out, status = run("make --no-print-directory -s all LUA=5.4")
      assert.are.equal(0, status, out)
    end
    local out, status = run("mkdir -p build/host && cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror " ..
      "$(pkg-config --cflags lua5.4) examples/host/host.c $(pkg-config --libs lua5.4) -lm -o build/host/host.$$ && " ..
      "mv -f build/host/host.$$ build/host/host") -- a rename: a host another run is running stays whole
    assert.are.equal(0, status, out)
    out, status = run(env() .. "build/host/host --root . examples/host/game.lua")
    check(out, status)
  end)

  it("frames.lua, under this Lua, steps 20 reads without a frame over 20 ms", function()
    local cpath = package.cpath:match("([^;]*build/[^;]*)") or "build/5.4/?.so"
    local out, status = run(env() .. "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH=" .. sh_quote(cpath .. ";;") ..
      " " .. interpreter() .. " examples/host/frames.lua")
    check(out, status)
  end)

  it("luv.lua, under this Lua, finishes 20 reads inside uv.run() without holding the host's timer", function()
    if not package.loaded.luv then -- the helper loads it, once for the whole run
      pending("luv is not installed for this Lua (Debian: lua-luv)")
      return
    end
    local cpath = package.cpath:match("([^;]*build/[^;]*)") or "build/5.4/?.so"
    local out, status = run(env() .. "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH=" .. sh_quote(cpath .. ";;") ..
      " " .. interpreter() .. " examples/host/luv.lua")
    assert.are.equal(0, status, out)
    local last = tonumber(out:match("answers 20 ok 20 failed 0 last_ms (%d+)"))
    local ticks, late = out:match("ticks (%d+) worst_late_ms ([%d.]+)")
    assert.is_truthy(last and ticks, out)
    assert.is_true(last >= 500 and last < 1500 * H.TIME_SCALE, out)
    assert.is_true(tonumber(ticks) >= 25 and tonumber(late) <= 20 * H.TIME_SCALE, out)
  end)

  it("stops with a non-zero status on a Lua error and at the frame limit", function()
    local broken, endless = os.tmpname(), os.tmpname()
    local f = assert(io.open(broken, "w"))
    f:write("function frame(t) if t >= 0 then error('the script broke') end end\n")
    f:close()
    f = assert(io.open(endless, "w"))
    f:write("function frame() return true end\n")
    f:close()
    local hosts = { interpreter() .. " examples/host/frames.lua" }
    local built = io.open("build/host/host")
    if built then
      built:close()
      hosts[2] = "build/host/host"
    end
    for _, host in ipairs(hosts) do
      local out, status = run(host .. " " .. sh_quote(broken))
      assert.are.equal(1, status, out)
      assert.matches("the script broke", out)
      out, status = run(host .. " --frames 3 " .. sh_quote(endless))
      assert.are.equal(2, status, out)
      assert.matches("frames 3 max_ms", out)
    end
    os.remove(broken)
    os.remove(endless)
  end)
end)
