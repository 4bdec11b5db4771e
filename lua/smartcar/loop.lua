--- Tasks that run concurrently: the scheduler behind `smartcar.all`, `smartcar.loop` and `fanOut`.
--
-- A task is a coroutine making SDK calls as usual (inside nginx, a light thread:
-- see `all_in_threads`). When one of its requests goes
-- out, `Client:send` asks the task's loop to carry it (`Job:request`): the request
-- is started on the transport (`transport:start`, for libcurl a transfer on the
-- Session's multi handle) and the task yields; `Loop:step` polls the transports
-- and resumes each task whose answer came. At most `concurrency` requests are in
-- flight; the rest wait their turn in order. A retry's wait is a timer of the loop,
-- so one task's backoff never holds the others. Everything yields in Lua, never
-- across C, so it works the same on Lua 5.1-5.4 and LuaJIT. A transport without
-- `start` and `poll` carries a task's request in the task itself, one at a time.
--
-- A loop made with a driver (`smartcar.loop{driver = "luv"}`, see `smartcar.driver.luv`)
-- is the same scheduler fed by the host's event loop instead of `step`: the driver
-- watches the transports' sockets and timeouts, hands what finished to `Loop:deliver`,
-- and runs `Loop:fire_timers` and `Loop:run_ready` from its own timer; the loop tells
-- it of every new wait (`driver:schedule()`) and request (`driver:attach(transport)`).
-- @module smartcar.loop

local core = require "smartcar.core"
local auto = require "smartcar.transport.auto"
local libcurl = require "smartcar.transport.libcurl"
core.own()

local create, resume, yield, status, running = coroutine.create, coroutine.resume, coroutine.yield,
  coroutine.status, coroutine.running
local now, pairs, next, min = core.now, pairs, next, math.min

local M = { active = 0 } -- tasks alive in every loop (Client:send looks for its loop only when > 0)

-- Whether the running task may yield to its loop here. Lua 5.3+ says so; LuaJIT and 5.2 yield
-- across pcall, metamethods and for iterators; Lua 5.1 does not: there a task whose request is
-- made under a pcall, a metamethod or a generic for's iterator (an `each...` iterator) carries it
-- itself, blocking, rather than fail to yield with the request in flight.
local can_yield = coroutine.isyieldable
if not can_yield then
  if rawget(_G, "jit") or _VERSION ~= "Lua 5.1" then
    can_yield = function() return true end
  else
    local getinfo = debug.getinfo
    can_yield = function()
      for level = 3, math.huge do
        local info = getinfo(level, "Sn")
        if not info then return true end
        -- a C function (pcall), a metamethod, or a generic for's iterator (5.1 names it by its hidden local)
        if info.what == "C" or info.namewhat == "metamethod" or info.name == "(for generator)" then return false end
      end
    end
  end
end

local WAIT = {}                                      -- what a task yields to wait for its loop
local jobs = setmetatable({}, { __mode = "k" })      -- coroutine -> its Job

local Job = {}
Job.__index = Job

-- Whether the task has ended (returned or raised).
function Job:done() return self.finished == true end

-- The task's first two results, or nil and the value it raised (nil while it runs).
function Job:result()
  if self.raised ~= nil then return nil, self.raised end
  return self.first, self.second
end

local Loop = {}
Loop.__index = Loop

-- A new loop; at most `concurrency` requests of its tasks in flight at once; `driver`
-- (optional) the name of the event loop that drives it: "luv".
function M.new(concurrency, driver)
  local loop = setmetatable({
    concurrency = concurrency, tasks = 0, flying = 0,
    queue = {}, first = 1, last = 0, -- requests waiting for a free slot (queue[first..last])
    waiting = {},                -- transport -> { id -> job }
    timers = {},                 -- job -> wake-up time (ms)
    ready = {},                  -- jobs to resume at the next step (they yielded on their own)
  }, Loop)
  if driver then loop.driver = require("smartcar.driver." .. driver).new(loop) end
  return loop
end

-- The Job the running coroutine is a task of, if any.
function M.current()
  local co = running()
  return co and jobs[co]
end

-- Who runs a piece of work others may wait for (a token fetch, a refresh): the running coroutine,
-- or false on the main thread (nothing else runs while it works, so nobody finds it in flight).
function M.mark()
  local co, main = running()
  if co == nil or main then return false end
  return co
end

-- One turn of waiting for the work `mark` runs: true after the turn; false when that work cannot
-- still run (its coroutine ended, raising, or it is the caller's own, or the main thread's); false
-- and a message when waiting here could only block what would end it. A task sleeps (its loop
-- runs the rest); in nginx the light thread sleeps; a plain caller steps the loop of the task
-- doing the work.
function M.waitFor(mark)
  if not mark or mark == running() or status(mark) == "dead" then return false end
  local job = M.current()
  if job then
    job:sleep(10)
    return true
  end
  if auto.inNginx then
    M.pause(10)
    return true
  end
  local owner = jobs[mark]
  if not owner then
    return false, "it runs in a suspended coroutine that is no task of a loop: waiting here would block it for good"
  end
  if owner.loop.driver then
    return false, ("it runs in a task of a loop %s drives: make the call from a task, or let %s go on"):format(
      owner.loop.driver.name, owner.loop.driver.hint)
  end
  owner.loop:step(10)
  return true
end

-- Resume a task; take note when it ends.
function Loop:resume(job, ...)
  if job.finished then return end -- ended already: an answer it no longer waits for
  local co = job.co
  local ok, a, b = resume(co, ...)
  if status(co) == "dead" then
    job.finished = true
    if ok then job.first, job.second = a, b else job.raised = a end
    jobs[co] = nil
    self.tasks = self.tasks - 1
    M.active = M.active - 1
  elseif a ~= WAIT then
    self.ready[#self.ready + 1] = job -- the task yielded by itself: it runs again at the next step
    if self.driver then self.driver:schedule() end
  end
end

-- A task where no coroutine may be made (nginx's init_worker, set and log phases disable them):
-- it runs to its end at once, its requests plain calls (libcurl in init_worker; elsewhere the
-- phase's UNSUPPORTED_PHASE error), and its job is done.
local function run_inline(fn, ...)
  local job = setmetatable({ finished = true }, Job)
  local ok, a, b = pcall(fn, ...)
  if ok then job.first, job.second = a, b else job.raised = a end
  return job
end

-- Start `fn(...)` as a task at once (it runs until its first request or wait).
-- @treturn Job with `done()` and `result()`
function Loop:run(fn, ...)
  local made, co = pcall(create, fn)
  if not made then
    if type(fn) == "function" and tostring(co):find("API disabled", 1, true) then return run_inline(fn, ...) end
    error(co, 2)
  end
  local job = setmetatable({ loop = self, co = co }, Job)
  jobs[job.co] = job
  self.tasks = self.tasks + 1
  M.active = M.active + 1
  self:resume(job, ...)
  return job
end

-- The number of tasks that have not ended.
function Loop:pending() return self.tasks end

-- A Session of the loop's own, standing in for the libcurl Session `transport` while another
-- kind of loop drives that one: a Session is either watched by an event loop (the luv driver)
-- or polled (a loop without a driver), never both at once.
local function stand_in(loop, transport)
  loop.standins = loop.standins or {}
  local s = loop.standins[transport]
  if not s then
    s = libcurl.new()
    loop.standins[transport] = s
  end
  return s
end

-- Start a queued or new request on its transport, the task to resume when it ends.
local function start(loop, job, transport, method, url, headers, body, limits)
  local driver = loop.driver
  if driver then
    local ok, err = pcall(driver.attach, driver, transport) -- watched before the request starts
    if not ok and transport.watched then -- polled by a loop without a driver meanwhile
      transport = stand_in(loop, transport)
      ok, err = pcall(driver.attach, driver, transport)
    end
    if not ok then return false, err end
  elseif transport.watched and transport:watched() then
    transport = stand_in(loop, transport)
  end
  local ok, id = pcall(transport.start, transport, method, url, headers, body, limits)
  if not ok then
    if driver then driver:settle(transport) end
    return false, id
  end
  loop.flying = loop.flying + 1
  local list = loop.waiting[transport]
  if not list then
    list = {}
    loop.waiting[transport] = list
  end
  list[id] = job
  return true
end

-- Inside a task: send one request through the loop; the transport's answer.
function Job:request(transport, method, url, headers, body, limits)
  local loop = self.loop
  if not (transport.start and transport.poll) or (loop.driver and not loop.driver:carries(transport))
    or not can_yield() then
    return transport:request(method, url, headers, body, limits)
  end
  if loop.flying < loop.concurrency and loop.first > loop.last then
    local ok, err = start(loop, self, transport, method, url, headers, body, limits)
    if not ok then error(err, 0) end
  else
    loop.last = loop.last + 1
    loop.queue[loop.last] = { self, transport, method, url, headers, body, limits }
  end
  local outcome = yield(WAIT)
  if outcome.raised ~= nil then error(outcome.raised, 0) end
  return outcome[2], outcome[3], outcome[4], outcome[5]
end

-- Inside a task: wait `ms` without holding the other tasks.
function Job:sleep(ms)
  if not can_yield() then return M.pause(ms) end
  local loop = self.loop
  loop.timers[self] = now() + ms
  if loop.driver then loop.driver:schedule() end
  yield(WAIT)
end

-- Start queued requests while there are free slots.
function Loop:drain()
  local queue = self.queue
  while self.flying < self.concurrency and self.first <= self.last do
    local q = queue[self.first]
    queue[self.first] = nil
    self.first = self.first + 1
    local ok, err = start(self, q[1], q[2], q[3], q[4], q[5], q[6], q[7])
    if not ok then self:resume(q[1], { raised = err }) end
  end
  if self.first > self.last then self.first, self.last = 1, 0 end
end

-- Answers a loop polled for requests another loop started (loops share a transport:
-- nested `all`, two loops of one host), kept for that loop: transport -> { id -> answer }.
local mail = setmetatable({}, { __mode = "k" })

local function hand_over(loop, list, id, answer)
  local job = list[id]
  list[id] = nil
  loop.flying = loop.flying - 1
  loop:drain()
  loop:resume(job, answer)
end

-- What the transport's poll gave, or, when it raised (a Session closed under its requests), the
-- error for each of this loop's requests on it: their tasks raise it, the loop goes on.
local function poll(loop, transport, wait)
  local ok, answers = pcall(transport.poll, transport, wait)
  if ok then return answers end
  local failed = {}
  for id in pairs(loop.waiting[transport] or {}) do failed[#failed + 1] = { id, raised = answers } end
  return failed
end

-- Resume the tasks whose answers are in `answers` (from transport:poll) or in the mail.
function Loop:deliver(transport, answers)
  local list = self.waiting[transport] or {}
  for i = 1, #answers do
    local a = answers[i]
    if list[a[1]] then
      hand_over(self, list, a[1], a)
    else
      local box = mail[transport] or {}
      mail[transport] = box
      box[a[1]] = a
    end
  end
  local box = mail[transport]
  if box then
    for id in pairs(list) do
      if box[id] then
        local a = box[id]
        box[id] = nil
        hand_over(self, list, id, a)
      end
    end
  end
  if next(list) == nil then self.waiting[transport] = nil end
end

-- Whether the mail holds an answer for this loop.
function Loop:has_mail()
  for transport, list in pairs(self.waiting) do
    local box = mail[transport]
    if box then
      for id in pairs(list) do if box[id] then return true end end
    end
  end
  return false
end

-- Wait `ms` outside any task (nginx: a light thread yields; a plain caller blocks).
local function pause(ms)
  if ms <= 0 then return end
  local ngx = rawget(_G, "ngx")
  if not (ngx and ngx.sleep and pcall(ngx.sleep, ms / 1000)) then core.sleep(ms) end
end
M.pause = pause

-- Resume the tasks whose wait (`Job:sleep`) is over.
function Loop:fire_timers()
  local t = now()
  for job, at in pairs(self.timers) do
    if at <= t then
      self.timers[job] = nil
      self:resume(job)
    end
  end
end

-- Resume the tasks that yielded by themselves (once each; what they yield again waits).
function Loop:run_ready()
  local ready = self.ready
  if #ready > 0 then
    self.ready = {}
    for i = 1, #ready do self:resume(ready[i]) end
  end
end

-- The earliest wake-up time of the loop's waits (ms on `core.now`'s clock), or nil.
function Loop:next_wake()
  local wake
  for _, at in pairs(self.timers) do if not wake or at < wake then wake = at end end
  return wake
end

-- Do the ready I/O and resume the tasks it unblocked; returns within about `ms`
-- (default 0: never blocks). A loop with a driver is run by its event loop instead:
-- `step` raises (run the host's loop, e.g. `uv.run()`).
function Loop:step(ms)
  if self.driver then
    error(("loop:step: this loop is driven by %s: its tasks progress while the host runs its event loop" ..
      " (%s)"):format(self.driver.name, self.driver.hint), 2)
  end
  ms = ms or 0
  self:drain()
  local t = now()
  local wake = self:next_wake() or math.huge
  local wait = (#self.ready > 0 or self:has_mail()) and 0 or min(ms, wake - t)
  if wait < 0 then wait = 0 end
  local transport = next(self.waiting)
  if transport and next(self.waiting, transport) == nil then
    self:deliver(transport, poll(self, transport, wait)) -- one transport: wait on its I/O
  elseif transport then
    for tr in pairs(self.waiting) do self:deliver(tr, poll(self, tr, 0)) end
    pause(min(wait, 5))
  else
    pause(wait)
  end
  self:fire_timers()
  self:run_ready()
end


-- Inside nginx, where light threads may run, tasks run on them: their requests
-- go out on cosockets and their waits are ngx.sleep, so the worker keeps serving.
-- `concurrency` threads each take the next task until none is left.
local function all_in_threads(ngx, tasks, concurrency)
  local n, values, errors, next_index = #tasks, {}, {}, 1
  local function worker()
    while next_index <= n do
      local i = next_index
      next_index = i + 1
      local ok, a, b = pcall(tasks[i])
      if ok then values[i], errors[i] = a, b else errors[i] = a end
    end
  end
  local threads = {}
  for t = 1, min(concurrency, n) do threads[t] = ngx.thread.spawn(worker) end
  for t = 1, #threads do ngx.thread.wait(threads[t]) end
  return values, errors
end

-- Run every task to its end, at most `concurrency` requests in flight.
-- @return values, errors: task i's first two results (errors[i] the raised value when it raised)
function M.all(tasks, concurrency)
  if auto.cosocketPhase() then return all_in_threads(rawget(_G, "ngx"), tasks, concurrency) end
  local n = #tasks
  local loop = M.new(concurrency)
  local list = {}
  for i = 1, n do list[i] = loop:run(tasks[i]) end
  while loop.tasks > 0 do loop:step(1000) end
  for _, s in pairs(loop.standins or {}) do s:close() end
  local values, errors = {}, {}
  for i = 1, n do values[i], errors[i] = list[i]:result() end
  return values, errors
end

return M
