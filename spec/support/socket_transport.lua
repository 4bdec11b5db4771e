-- A transport of the test suite's own, on luasocket: proof that the SDK runs any
-- transport object, and that concurrency comes from the object's `start` and `poll`,
-- not from knowing which transport it is. HTTP/1.0 (one connection per request, the
-- body read until close) keeps it small. A started request runs in a coroutine that
-- yields whenever its socket would block; `poll` selects on those sockets and
-- resumes the coroutines whose sockets are ready.
local socket = require "socket"

local M = {}
local ours = setmetatable({}, { __mode = "k" }) -- the coroutines of started requests

local function parse_url(url)
  local host, port, path = url:match("^http://([^/:]+):?(%d*)(.*)$")
  return host, tonumber(port) or 80, path ~= "" and path or "/"
end

-- Wait until sock is ready ("r" or "w"): yield to `poll` in a started request, else block in select.
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
    return nil, "NETWORK", err, true -- never sent
  end
  if not wait(sock, "w", deadline) then sock:close() return nil, "TIMEOUT", "timed out", true end
  if not sock:getpeername() then -- the connection failed: nothing was sent
    sock:close()
    return nil, "NETWORK", "connection refused", true
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
  local transport = { calls = 0 }

  function transport:request(method, url, headers, body, limits)
    self.calls = self.calls + 1
    return exchange(method, url, headers, body, limits)
  end

  local flying, next_id = {}, 0 -- coroutine -> {id, socket, mode}

  local function step(co, finished)
    local ok, sock, mode = coroutine.resume(co)
    assert(ok, sock)
    if coroutine.status(co) == "dead" then
      finished[#finished + 1] = sock -- the answer: {id, status, headers, body | nil, code, message}
      flying[co] = nil
    else
      flying[co][2], flying[co][3] = sock, mode
    end
  end

  function transport:start(method, url, headers, body, limits)
    self.started = (self.started or 0) + 1
    next_id = next_id + 1
    local id = next_id
    local co = coroutine.create(function() return { id, self:request(method, url, headers, body, limits) } end)
    ours[co] = true
    flying[co] = { id }
    self.pending = self.pending or {}
    step(co, self.pending)
    return id
  end

  function transport:poll(ms)
    local finished = self.pending or {}
    self.pending = {}
    if #finished == 0 and next(flying) then
      local r, w = {}, {}
      for _, f in pairs(flying) do
        if f[3] == "r" then r[#r + 1] = f[2] else w[#w + 1] = f[2] end
      end
      socket.select(r, w, (ms or 0) / 1000)
    end
    local list = {}
    for co in pairs(flying) do list[#list + 1] = co end
    for _, co in ipairs(list) do step(co, finished) end
    return finished
  end

  return transport
end

return M
