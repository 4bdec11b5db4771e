-- The Lua-level frame loop: host.c's 60 Hz loop for plain Lua 5.1-5.4 and LuaJIT.
--
--   lua frames.lua [--frames N] [SCRIPT]     (SCRIPT: game.lua next to this file by default)
--
-- Runs SCRIPT once, then calls its global `frame(t)` at 60 Hz (t: ms since this driver started)
-- until it returns false, or N frames (default 600, exit status 2). Each frame is measured
-- (the script's part plus the driver's own work, not the sleep to the next frame), and a
-- histogram of the frame times is printed at the end, as host.c prints it. A Lua error is
-- printed with its traceback and makes the exit status 1.
--
-- The clock and the sleep are the host's own, as a game engine brings its own timer: the SDK's
-- public API has none. They come from LuaSocket (`socket.gettime`, `socket.sleep`: microsecond
-- wall clock, nanosleep), which every Lua this SDK supports has packaged.
local ok_socket, socket = pcall(require, "socket")
if not (ok_socket and socket.gettime and socket.sleep) then
  io.stderr:write("frames.lua: LuaSocket (require 'socket') is needed for its clock and sleep\n")
  os.exit(1)
end
local gettime, sleep = socket.gettime, socket.sleep

local HZ = 60
local LIMITS = { 1, 2, 5, 10, 20 } -- ms: <1, 1-2, 2-5, 5-10, 10-20, >20
local NAMES = { "<1", "1-2", "2-5", "5-10", "10-20", ">20" }

local limit, script = 600, nil
local i = 1
while arg[i] do
  if arg[i] == "--frames" and arg[i + 1] then
    limit = tonumber(arg[i + 1])
    i = i + 2
  elseif arg[i]:sub(1, 1) == "-" or script then
    io.stderr:write("usage: frames.lua [--frames N] [SCRIPT]\n")
    os.exit(64)
  else
    script = arg[i]
    i = i + 1
  end
end
script = script or ((arg[0] or ""):match("^(.*[/\\])") or "") .. "game.lua"

local function now_ms() return gettime() * 1000 end
local start = now_ms()

local function fail(err)
  io.stderr:write("frames.lua: ", tostring(err), "\n")
  os.exit(1)
end

-- The script, once: its setup, and the global frame function.
local chunk, lerr = loadfile(script)
if not chunk then fail(lerr) end
local ok, err = xpcall(chunk, debug.traceback)
if not ok then fail(err) end

local counts = { 0, 0, 0, 0, 0, 0 }
local frames, max, total, status = 0, 0, 0, 0
local next_at = now_ms()
while true do
  local t0 = now_ms()
  if frames >= limit then
    io.stderr:write(("frames.lua: stopped after the frame limit (%d frames)\n"):format(limit))
    status = 2
    break
  end
  local frame = rawget(_G, "frame")
  if type(frame) ~= "function" then fail("the script defines no global function frame") end
  local fok, more = xpcall(function() return frame(t0 - start) end, debug.traceback)
  if not fok then fail(more) end
  frames = frames + 1
  local ms = now_ms() - t0
  local b = 1
  while b < #NAMES and ms >= LIMITS[b] do b = b + 1 end
  counts[b] = counts[b] + 1
  total = total + ms
  if ms > max then max = ms end
  if more == false then break end
  -- Sleep to the next frame; a late frame starts the schedule again, never catches up.
  next_at = next_at + 1000 / HZ
  if next_at < now_ms() then next_at = now_ms() end
  local wait = next_at - now_ms()
  if wait > 0 then sleep(wait / 1000) end
end

local parts = {}
for k = 1, #NAMES do parts[k] = ("%s:%d"):format(NAMES[k], counts[k]) end
print("histogram " .. table.concat(parts, " "))
print(("frames %d max_ms %.3f mean_ms %.3f total_ms %.0f"):format(frames, max,
  frames > 0 and total / frames or 0, now_ms() - start))
os.exit(status)
