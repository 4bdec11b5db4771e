-- The same 20 reads inside a luv host (luvit, Neovim, any program whose loop is libuv's):
-- `smartcar.loop { driver = "luv" }` registers libcurl's sockets and timers with libuv, so the
-- reads finish while the host runs `uv.run()`, with no polling. Meanwhile a host timer ticks
-- every 10 ms; at the end the script prints how late its worst tick was:
--   answers 20 ok 20 failed 0 last_ms 512
--   ticks 51 worst_late_ms 1.2
-- Run it like frames.lua (see examples/host/README.md), with Debian's lua-luv installed.
local smartcar = require "smartcar"
local uv = require "luv"

local READS = 20
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or ""
local vehicles = dofile(here .. "account.lua")()

local loop = smartcar.loop { driver = "luv", concurrency = READS }
local started = uv.hrtime()
local function ms() return (uv.hrtime() - started) / 1e6 end

local left, ok, last = READS, 0, 0
for i = 1, READS do
  local vehicle = vehicles[(i - 1) % #vehicles + 1]
  loop:run(function()
    local res, err = vehicle:odometer()
    if res then ok = ok + 1 else print("failed: " .. tostring(err)) end
    last, left = ms(), left - 1
  end)
end

-- the host's own work: a timer every 10 ms, which the reads must never hold up
local ticks, worst, previous = 0, 0, ms()
local tick = uv.new_timer()
tick:start(10, 10, function()
  local t = ms()
  ticks, worst, previous = ticks + 1, math.max(worst, t - previous - 10), t
  if left == 0 then tick:close() end
end)

uv.run()
print(("answers %d ok %d failed %d last_ms %.0f"):format(READS, ok, READS - ok, last))
print(("ticks %d worst_late_ms %.1f"):format(ticks, worst))
os.exit(ok == READS and 0 or 1)
