--- The luv driver: a `smartcar.loop` fed by a libuv event loop (`smartcar.loop{driver = "luv"}`).
--
-- The loop is the one scheduler of `smartcar.loop`; this driver only feeds it. A libcurl
-- Session a task's request goes out on is watched (`session:watch`): each socket libcurl
-- waits on becomes a `uv.new_poll(fd)`, libcurl's timeout a `uv.new_timer()`, and every
-- event calls `session:socketAction(fd, events)` or `session:timeout()`, whose finished
-- transfers go to `Loop:deliver` (the tasks resume there). The loop's own waits (retry
-- backoff, `Job:sleep`) and the tasks that yielded by themselves run from one more uv
-- timer. Nothing polls: tasks progress while the host runs `uv.run()` (luvit, Neovim,
-- any luv host), and the host's loop is never blocked by the SDK's requests.
--
-- When a loop has no request left in flight on a Session, the Session stops being
-- watched (its Lua functions dropped) and every uv handle of the driver is closed, so
-- an idle loop keeps the host's loop alive with nothing. `loop:step` raises under this
-- driver (`uv_run` cannot be re-entered from the callbacks the tasks run in).
-- A Session is either watched or polled, never both: while a luv loop watches it, a
-- `smartcar.all` or a stepped loop in the same Lua state carries its requests on a Session of
-- its own, and a luv loop does the same while a stepped loop's requests are in flight on it.
-- A transport without `watch` (not libcurl) carries each request inside its task, blocking.
--
-- libuv reports an error on a socket (POLLERR: a refused connection, say) to its poll handle
-- as `EBADF`, and luv prints that line (`EBADF: bad file descriptor`) to stderr itself before
-- calling back; the driver hands it to libcurl as an error event, and the request fails with
-- `NETWORK` as with any transport.
-- @module smartcar.driver.luv

local core = require "smartcar.core"
local ok_uv, uv = pcall(require, "luv")
core.own()

local pairs, next, ceil, setmetatable = pairs, next, math.ceil, setmetatable
local now = core.now

local M = {}

local EMPTY = {}
local EVENTS = { ["in"] = "r", out = "w", inout = "rw" }

-- transport -> its hub: the uv handles of one watched Session, shared by the luv loops using it
-- ({transport =, polls = {fd -> uv poll}, timer = uv timer|nil, loops = {loop -> true}})
local hubs = setmetatable({}, { __mode = "k" })

local function close(handle)
  if not handle:is_closing() then handle:close() end
end

-- Stop watching the Session once none of the hub's loops waits on it.
local function detach(hub)
  for loop in pairs(hub.loops) do
    if loop.waiting[hub.transport] then return end
    hub.loops[loop] = nil
  end
  if not pcall(hub.transport.watch, hub.transport) then return end -- requests of another loop in flight
  hubs[hub.transport] = nil
  for fd, p in pairs(hub.polls) do
    hub.polls[fd] = nil
    close(p)
  end
  if hub.timer then
    close(hub.timer)
    hub.timer = nil
  end
end

-- Hand what finished to the hub's loops (Loop:deliver keeps another loop's answers in its mail).
local function hand(hub, answers)
  local transport, first = hub.transport, answers
  for loop in pairs(hub.loops) do
    if loop.waiting[transport] then
      loop:deliver(transport, first)
      first = EMPTY
    end
  end
  if first ~= EMPTY and #first > 0 then
    local loop = next(hub.loops)
    if loop then loop:deliver(transport, first) end
  end
  for loop in pairs(hub.loops) do loop.driver:schedule() end
  detach(hub)
end

-- session:watch's on_socket: a uv poll handle per socket, started for what libcurl waits for.
local function on_socket(hub, fd, what)
  local p = hub.polls[fd]
  if what == "remove" then
    if p then
      hub.polls[fd] = nil
      p:stop()
      close(p)
    end
    return
  end
  if not p then
    p = uv.new_poll(fd)
    if not p then -- libuv cannot watch it: libcurl hears so at once (it fails the transfer)
      local t = uv.new_timer()
      t:start(0, 0, function()
        close(t)
        if hubs[hub.transport] == hub then hand(hub, hub.transport:socketAction(fd, "error")) end
      end)
      return
    end
    hub.polls[fd] = p
  end
  p:start(EVENTS[what] or "rw", function(err, events)
    hand(hub, hub.transport:socketAction(fd, err and "error" or events or ""))
  end)
end

-- session:watch's on_timer: libcurl's timeout as a uv timer (ms < 0: none).
local function on_timer(hub, ms)
  if ms < 0 then
    if hub.timer then hub.timer:stop() end
    return
  end
  hub.timer = hub.timer or uv.new_timer()
  hub.timer:start(ms, 0, function() hand(hub, hub.transport:timeout()) end)
end

local Driver = { name = "luv", hint = "uv.run()" }
Driver.__index = Driver

-- A driver for `loop` (raises when luv cannot be loaded).
function M.new(loop)
  if not ok_uv then
    error("smartcar.loop{driver = \"luv\"}: the luv module is not available (" .. tostring(uv) .. ")", 0)
  end
  return setmetatable({ loop = loop }, Driver)
end

-- Whether this driver can carry the transport's requests concurrently (a libcurl Session).
function Driver:carries(transport) -- luacheck: ignore 212
  return transport.watch ~= nil and transport.socketAction ~= nil
end

-- Before a request of the loop starts on `transport`: watch it (raises when it cannot be).
function Driver:attach(transport)
  local hub = hubs[transport]
  if not hub then
    hub = { transport = transport, polls = {}, loops = {} }
    transport:watch(function(fd, what) on_socket(hub, fd, what) end, function(ms) on_timer(hub, ms) end)
    hubs[transport] = hub
  end
  hub.loops[self.loop] = true
end

-- After a request could not start: stop watching if nothing else is in flight.
function Driver:settle(transport) -- luacheck: ignore 212
  local hub = hubs[transport]
  if hub then detach(hub) end
end

-- Run the loop's due waits and self-yielded tasks, then arm the timer for the next.
function Driver:tick()
  local loop = self.loop
  loop:fire_timers()
  loop:run_ready()
  if loop:has_mail() then
    for transport in pairs(loop.waiting) do loop:deliver(transport, EMPTY) end
  end
  for transport in pairs(hubs) do
    if hubs[transport].loops[loop] then detach(hubs[transport]) end
  end
  self:schedule()
end

-- Arm (or close) the loop's uv timer for its earliest wait; 0 when tasks are ready.
function Driver:schedule()
  local loop = self.loop
  local delay
  if #loop.ready > 0 or loop:has_mail() then
    delay = 0
  else
    local wake = loop:next_wake()
    if wake then
      delay = ceil(wake - now())
      if delay < 0 then delay = 0 end
    end
  end
  if not delay then
    if self.timer then
      close(self.timer)
      self.timer = nil
    end
    return
  end
  self.timer = self.timer or uv.new_timer()
  self.timer:start(delay, 0, function() self:tick() end)
end

--- Whether luv can be loaded in this Lua.
-- @treturn boolean
function M.available() return ok_uv end

return M
