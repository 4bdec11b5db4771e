-- A transport of the test suite's own, on luasocket: proof that the SDK runs any
-- transport object, and that concurrency comes from the object's `many`, not from
-- knowing which transport it is. HTTP/1.0 (one connection per request, the body
-- read until close) keeps it small. Inside `many`, every request runs in a
-- coroutine that yields whenever its socket would block; one select loop resumes them.
local socket = require "socket"

local M = {}
local ours = setmetatable({}, { __mode = "k" }) -- the coroutines `many` runs

local function parse_url(url)
  local host, port, path = url:match("^http://([^/:]+):?(%d*)(.*)$")
  return host, tonumber(port) or 80, path ~= "" and path or "/"
end

-- Wait until sock is ready ("r" or "w"): yield to the scheduler inside `many`, else block in select.
local function wait(sock, mode, deadline)
  local left = deadline - socket.gettime()
  if left <= 0 then return false end
  if ours[coroutine.running()] then
    coroutine.yield(sock, mode)
  else
    socket.select(mode == "r" and { sock } or nil, mode == "w" and { sock } or nil, left)
  end
  return socket.gettime() < deadline
end

local function exchange(method, url, headers, body, limits)
  local host, port, path = parse_url(url)
  if not host then return nil, "NETWORK", "unsupported URL" end
  local deadline = socket.gettime() + limits.timeout / 1000
  local sock = socket.tcp()
  sock:settimeout(0)
  local ok, err = sock:connect(host, port)
  if not ok and err ~= "timeout" and err ~= "Operation already in progress" then
    sock:close()
    return nil, "NETWORK", err
  end
  local lines = { method .. " " .. path .. " HTTP/1.0", "Host: " .. host .. ":" .. port }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  local out, sent = table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or ""), 0
  while sent < #out do
    if not wait(sock, "w", deadline) then sock:close() return nil, "TIMEOUT", "timed out" end
    local n, serr, partial = sock:send(out, sent + 1)
    if n then sent = n elseif serr == "timeout" then sent = partial or sent
    else sock:close() return nil, "NETWORK", serr end
  end
  local chunks = {}
  while true do
    if not wait(sock, "r", deadline) then sock:close() return nil, "TIMEOUT", "timed out" end
    local data, rerr, partial = sock:receive(8192)
    local got = data or partial
    if got and #got > 0 then chunks[#chunks + 1] = got end
    if rerr == "closed" then break end
    if rerr and rerr ~= "timeout" then sock:close() return nil, "NETWORK", rerr end
  end
  sock:close()
  local raw = table.concat(chunks)
  local head, rest = raw:match("^(.-)\r\n\r\n(.*)$")
  local status = head and tonumber(head:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then return nil, "INVALID_RESPONSE", "not an HTTP response" end
  if #rest > limits.maxResponseSize then return nil, "INVALID_RESPONSE", "too large" end
  local rh = {}
  for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do rh[name:lower()] = value end
  return status, rh, rest
end

function M.new()
  local transport = { calls = 0, batches = 0 }

  function transport:request(method, url, headers, body, limits)
    self.calls = self.calls + 1
    return exchange(method, url, headers, body, limits)
  end

  function transport:many(requests, limits, concurrency)
    self.batches = self.batches + 1
    local answers, tasks, next_index = {}, {}, 1
    local function start()
      local i = next_index
      next_index = i + 1
      local r = requests[i]
      local co = coroutine.create(function()
        answers[i] = { self:request(r[1], r[2], r[3], r[4], limits) }
      end)
      tasks[co] = true
      ours[co] = true
    end
    while next_index <= #requests and next_index <= (concurrency or #requests) do start() end
    local waiting = {}
    local function step(co)
      local ok, sock, mode = coroutine.resume(co)
      assert(ok, sock)
      if coroutine.status(co) == "dead" then
        tasks[co] = nil
        if next_index <= #requests then start() end
      else
        waiting[co] = { sock, mode }
      end
    end
    for co in pairs(tasks) do step(co) end
    while next(tasks) do
      local r, w = {}, {}
      for _, s in pairs(waiting) do
        if s[2] == "r" then r[#r + 1] = s[1] else w[#w + 1] = s[1] end
      end
      socket.select(r, w, 0.05)
      local ready = {}
      for co in pairs(waiting) do ready[#ready + 1] = co end
      waiting = {}
      for _, co in ipairs(ready) do step(co) end
      for co in pairs(tasks) do
        if not waiting[co] and coroutine.status(co) == "suspended" then step(co) end
      end
    end
    return answers
  end

  return transport
end

return M
