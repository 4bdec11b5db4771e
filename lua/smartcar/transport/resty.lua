--- A non-blocking transport for OpenResty / nginx with the Lua module.
--
-- libcurl blocks, so inside an nginx worker the SDK must talk through cosockets:
--
--    local smartcar = require "smartcar"
--    smartcar.configure { transport = require("smartcar.transport.resty").new() }
--
-- Requests are built and responses parsed in C as usual; only the I/O runs here, in
-- Lua, where it may yield. Connections go back to nginx's keep-alive pool. The
-- object has `request` and `many` (one light thread per request), as every
-- transport (see `smartcar.transport.libcurl`).
-- @module smartcar.transport.resty

local core = require "smartcar.core"
core.own()

local concat, tonumber, lower = table.concat, tonumber, string.lower

local M = {}

local OPTIONS = { poolSize = true, keepalive = true, sslVerify = true }

local function failure(err)
  if err == "timeout" then return nil, "TIMEOUT", "Request timed out" end
  return nil, "NETWORK", tostring(err)
end

-- Read the headers after the status line into {lower-cased name = value}.
local function read_headers(sock)
  local headers = {}
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    if line == "" then return headers end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then
      name = lower(name)
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
  end
end

local function read_chunked(sock, limit)
  local parts, size = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local n = tonumber(line:match("^%x+"), 16)
    if not n then return nil, "bad chunk size" end
    if n == 0 then
      repeat line, err = sock:receive("*l") until not line or line == ""
      if not line then return nil, err end
      return concat(parts)
    end
    size = size + n
    if size > limit then return nil, "too large" end
    local data, derr = sock:receive(n)
    if not data then return nil, derr end
    parts[#parts + 1] = data
    sock:receive(2) -- CRLF after the chunk
  end
end

--- Make a transport.
-- @tparam[opt] table options `poolSize` (per host, default 32), `keepalive` (ms, default 60000),
-- `sslVerify` (default true)
-- @return a transport object (`request`, `many`) for `smartcar.configure{transport=}`
function M.new(options)
  options = core.checkOptions(options, 1, "resty.new", OPTIONS)
  local ngx = _G.ngx
  if type(ngx) ~= "table" or not ngx.socket then core.raise("the resty transport runs only inside nginx (ngx_lua)") end
  local tcp, spawn, wait = ngx.socket.tcp, ngx.thread.spawn, ngx.thread.wait
  local pool_size = options.poolSize or 32
  local keepalive = options.keepalive or 60000
  local verify = options.sslVerify ~= false

  local transport = {}

  function transport.request(_, method, url, headers, body, limits)
    local limit = limits.maxResponseSize
    local scheme, host, port, path = url:match("^(https?)://([^/:?#]+):?(%d*)([^#]*)$")
    if not scheme then return nil, "NETWORK", "unsupported URL" end
    port = tonumber(port) or (scheme == "https" and 443 or 80)
    if path == "" then path = "/" end

    local sock = tcp()
    sock:settimeout(limits.timeout)
    local ok, err = sock:connect(host, port, { pool_size = pool_size, pool = ("%s:%d:%s"):format(host, port,
      scheme == "https" and tostring(verify) or "plain") })
    if not ok then return failure(err) end
    if scheme == "https" and sock:getreusedtimes() == 0 then
      ok, err = sock:sslhandshake(nil, host, verify)
      if not ok then sock:close() return failure(err) end
    end

    local lines = { method, " ", path, " HTTP/1.1\r\nHost: ", host, "\r\n" }
    for name, value in pairs(headers or {}) do
      if value:find("[\r\n%z]") or name:find("[\r\n:%z]") then
        sock:close()
        core.raise("header names and values must not contain line breaks or NUL bytes")
      end
      lines[#lines + 1] = name .. ": " .. value .. "\r\n"
    end
    if body then lines[#lines + 1] = "Content-Length: " .. #body .. "\r\n" end
    lines[#lines + 1] = "\r\n"
    lines[#lines + 1] = body
    ok, err = sock:send(concat(lines))
    if not ok then sock:close() return failure(err) end

    local status_line
    status_line, err = sock:receive("*l")
    if not status_line then sock:close() return failure(err) end
    local status = tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)"))
    if not status then sock:close() return nil, "INVALID_RESPONSE", "Not an HTTP response" end
    local rh
    rh, err = read_headers(sock)
    if not rh then sock:close() return failure(err) end

    local data
    if method == "HEAD" or status == 204 or status == 304 then
      data = ""
    elseif rh["transfer-encoding"] and rh["transfer-encoding"]:lower():find("chunked", 1, true) then
      data, err = read_chunked(sock, limit)
    elseif rh["content-length"] then
      local n = tonumber(rh["content-length"])
      if not n or n > limit then
        sock:close()
        return nil, "INVALID_RESPONSE", ("Response exceeds the limit of %d bytes"):format(limit)
      end
      data, err = sock:receive(n)
    else
      data, err = sock:receive("*a")
      if data and #data > limit then data, err = nil, "too large" end
      rh.connection = "close"
    end
    if not data then
      sock:close()
      if err == "too large" then
        return nil, "INVALID_RESPONSE", ("Response exceeds the limit of %d bytes"):format(limit)
      end
      return failure(err)
    end
    if (rh.connection or ""):lower() == "close" then sock:close() else sock:setkeepalive(keepalive) end
    return status, rh, data
  end

  -- At most `concurrency` light threads, each taking the next request until none is left.
  function transport.many(self, requests, limits, concurrency)
    local answers, next_index = {}, 1
    local function worker()
      while next_index <= #requests do
        local i = next_index
        next_index = i + 1
        local r = requests[i]
        answers[i] = { self:request(r[1], r[2], r[3], r[4], limits) }
      end
    end
    local threads = {}
    for t = 1, math.min(concurrency or #requests, #requests) do threads[t] = spawn(worker) end
    for _, thread in ipairs(threads) do wait(thread) end
    return answers
  end

  return transport
end

return M
