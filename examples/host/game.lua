-- A host's script: 20 vehicle reads that never block the host's frame loop.
--
-- The host (examples/host/host.c, or the Lua-level driver examples/host/frames.lua) runs this
-- file once, then calls the global `frame(t)` once per frame, `t` being the host's clock in ms
-- since it started. Each frame does `loop:step(0)`: the ready I/O and nothing more, so a frame
-- never waits for the network. `frame` returns false once every answer is in; the script then
-- prints one line per answer and a summary:
--   answer  3 t_ms   518 a597b415 location      ok
--   answers 20 ok 20 failed 0 started_ms 12 last_ms 531
-- Setup (this file's main chunk) is ordinary blocking code, like loading a level.
-- Against the emulator (see examples/host/README.md and account.lua).
-- luacheck: globals frame
local smartcar = require "smartcar"

local READS = 20
local METHODS = { "odometer", "attributes", "location", "vin", "lockStatus", "tirePressure", "permissions" }

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or ""
local vehicles = dofile(here .. "account.lua")() -- the emulator's demo account, or SMARTCAR_ACCESS_TOKEN's

-- One wave: as many requests in flight as there are reads (the default, 16, would send the
-- last 4 only when the first answers came back: a second round trip).
local loop = smartcar.loop { concurrency = READS }

local reads, started_ms = {}, nil

-- Start the reads (in the first frame, so their cost is part of a measured frame).
local function start(t)
  started_ms = t
  for i = 1, READS do
    local vehicle = vehicles[(i - 1) % #vehicles + 1]
    local method = METHODS[(i - 1) % #METHODS + 1]
    reads[i] = {
      vehicle = vehicle, method = method,
      job = loop:run(function() return vehicle[method](vehicle) end),
    }
  end
end

local function report()
  local ok, last = 0, 0
  for i, r in ipairs(reads) do
    local res, err = r.job:result()
    if res then ok = ok + 1 end
    if r.t > last then last = r.t end
    print(("answer %2d t_ms %5.0f %s %-13s %s"):format(i, r.t, r.vehicle.id:sub(1, 8), r.method,
      res and "ok" or tostring(err)))
  end
  print(("answers %d ok %d failed %d started_ms %.0f last_ms %.0f"):format(#reads, ok, #reads - ok,
    started_ms, last))
end

--- One frame of the host: do the ready I/O, note the answers that came. False when all are in.
function frame(t)
  if not started_ms then start(t) end
  loop:step(0)
  local left = 0
  for _, r in ipairs(reads) do
    if not r.t then
      if r.job:done() then r.t = t else left = left + 1 end
    end
  end
  if left > 0 then return true end
  report()
  return false
end
