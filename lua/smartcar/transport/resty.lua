--- A non-blocking transport for OpenResty / nginx with the Lua module.
--
-- libcurl blocks, so inside an nginx worker the SDK must talk through cosockets:
--
--    local smartcar = require "smartcar"
--    smartcar.configure { transport = require("smartcar.transport.resty").new() }
--
-- Requests are built and responses parsed in C as usual; only the I/O runs here, in
-- Lua, where it may yield. It keeps the libcurl transport's promises: `timeout`
-- bounds the whole request (a body dripped byte by byte ends at the deadline),
-- `connectTimeout` the connection, `maxResponseSize` every body however it is
-- framed; a command is never sent twice; each failure gives the same code and
-- message form as libcurl's. Connections go back to nginx's keep-alive pool, one
-- pool per scheme, host, port and certificate check. The object has `request` (see
-- `smartcar.transport.libcurl` for the interface); concurrency comes from nginx's
-- light threads (`smartcar.all` runs its tasks on them). HTTPS trusts nginx's
-- `lua_ssl_trusted_certificate` (`caFile` and `caPath` are libcurl's).
-- @module smartcar.transport.resty

local core = require "smartcar.core"
local auto = require "smartcar.transport.auto"
core.own()

local concat, tonumber, lower, find, sub, byte = table.concat, tonumber, string.lower, string.find, string.sub, string.byte
local min, floor, pcall = math.min, math.floor, pcall

local M = {}

local OPTIONS = { poolSize = true, keepalive = true, sslVerify = true }
local HEAD_LIMIT = 100 * 1024 -- status line and headers, as libcurl's limit on one header
local LINE_LIMIT = 1024       -- a chunk-size line
local CHUNK = 16384           -- bytes asked of the socket at a time

-- The failures, in libcurl's words (curl_easy_strerror) so that both transports
-- tell the same story.
local WHAT = {
  connect = "Couldn't connect to server", resolve = "Couldn't resolve host name",
  send = "Failed sending data to the peer", recv = "Failure when receiving data from the peer",
  nothing = "Server returned nothing (no headers, no data)", partial = "Transferred a partial file",
  tls = "SSL connect error", verify = "SSL peer certificate or SSH remote key was not OK",
}

-- One request in flight: the socket, the read buffer (`buf` from `pos`), the
-- deadline (s, nginx clock), the limits, whether a byte of the answer came back.
local Conn = {}
Conn.__index = Conn

local update_time, ngx_now -- nginx's clock, set by M.new
local function now()
  update_time()
  return ngx_now()
end

function Conn:failure(stage, err)
  if err == "timeout" then
    if stage == "connect" and self.connectTimeout < self.timeout and now() < self.deadline then
      return nil, "TIMEOUT", ("Connection timed out after %d ms"):format(self.connectTimeout), true
    end
    return nil, "TIMEOUT", ("Request timed out after %d ms"):format(self.timeout), not self.sent
  end
  if err == "too large" then
    return nil, "INVALID_RESPONSE", ("Response exceeds the limit of %d bytes"):format(self.limit)
  end
  if err == "unreadable" then
    return nil, "INVALID_RESPONSE", "The server's answer cannot be read: " .. self.why
  end
  if stage == "recv" and err == "closed" then stage = self.answered and "partial" or "nothing" end
  if self.command and self.dead then
    return nil, "NETWORK", "The connection closed before any answer: the request may have reached the server " ..
      "and was not sent again"
  end
  if stage == "connect" and find(tostring(err), "resolve", 1, true) then stage = "resolve" end
  if stage == "tls" and find(tostring(err), "verify", 1, true) then stage = "verify" end
  local message = WHAT[stage] .. ": " .. tostring(err)
  if self.command and self.sent then message = message .. " (the request may have reached the server)" end
  return nil, "NETWORK", message, not self.sent
end

-- Time left before the deadline, in ms for settimeout; nil once it has passed.
function Conn:left()
  local ms = floor((self.deadline - now()) * 1000)
  if ms <= 0 then return nil end
  return ms
end

-- Read more bytes into the buffer (at most `max`).
function Conn:fill(max)
  local ms = self:left()
  if not ms then return nil, "timeout" end
  local sock = self.sock
  sock:settimeout(ms)
  local data, err = sock:receiveany(max or CHUNK)
  if not data then return nil, err end
  self.answered = true
  if self.pos > #self.buf then
    self.buf, self.pos = data, 1
  else
    self.buf = sub(self.buf, self.pos) .. data
    self.pos = 1
  end
  return true
end

-- The next line (without its CR LF), of at most `limit` bytes.
function Conn:line(limit)
  local scanned = 0 -- bytes from `pos` on already searched
  while true do
    local i = find(self.buf, "\n", self.pos + scanned, true)
    if i then
      if i - self.pos > limit then return nil, "unreadable" end
      local line = sub(self.buf, self.pos, byte(self.buf, i - 1) == 13 and i - 2 or i - 1)
      self.pos = i + 1
      return line
    end
    scanned = #self.buf - self.pos + 1
    if scanned > limit then return nil, "unreadable" end
    local ok, err = self:fill()
    if not ok then return nil, err end
  end
end

-- Exactly `n` more bytes.
function Conn:exact(n)
  local have = #self.buf - self.pos + 1
  if have >= n then
    local data = sub(self.buf, self.pos, self.pos + n - 1)
    self.pos = self.pos + n
    return data
  end
  local parts = { sub(self.buf, self.pos) }
  self.buf, self.pos = "", 1
  while have < n do
    local ok, err = self:fill(min(n - have, CHUNK))
    if not ok then return nil, err end
    parts[#parts + 1] = self.buf
    have = have + #self.buf
    self.buf = ""
  end
  return concat(parts)
end

-- Everything until the server closes the connection.
function Conn:rest()
  local parts, size = { sub(self.buf, self.pos) }, #self.buf - self.pos + 1
  self.buf, self.pos = "", 1
  while true do
    if size > self.limit then return nil, "too large" end
    local ok, err = self:fill()
    if not ok then
      if err == "closed" then return concat(parts) end
      return nil, err
    end
    parts[#parts + 1] = self.buf
    size = size + #self.buf
    self.buf = ""
  end
end

function Conn:chunked()
  local parts, size = {}, 0
  while true do
    local line, err = self:line(LINE_LIMIT)
    if not line then return nil, err end
    local n = tonumber(line:match("^%x+"), 16)
    if not n then
      self.why = "bad chunk size"
      return nil, "unreadable"
    end
    if n == 0 then
      repeat -- trailers
        line, err = self:line(HEAD_LIMIT)
      until not line or line == ""
      if not line then return nil, err end
      return concat(parts)
    end
    size = size + n
    if size > self.limit then return nil, "too large" end
    local data
    data, err = self:exact(n)
    if not data then return nil, err end
    parts[#parts + 1] = data
    line, err = self:line(LINE_LIMIT)
    if line ~= "" then
      if not line then return nil, err end
      self.why = "bad chunk end"
      return nil, "unreadable"
    end
  end
end

-- The status line and headers of the final answer (1xx answers are skipped).
-- @return status, version ("1.0"|"1.1"), headers | nil, err
function Conn:head()
  local total = 0
  local function next_line()
    local line, err = self:line(HEAD_LIMIT - total)
    if line then total = total + #line + 2 end
    if err == "unreadable" or total > HEAD_LIMIT then
      self.why = "the status line and headers exceed 100 KiB"
      return nil, "unreadable"
    end
    return line, err
  end
  while true do
    local line, err = next_line()
    if not line then
      local got = sub(self.buf, self.pos, self.pos + 4) -- closed within a first line that is no status line
      if err == "closed" and got ~= "" and got ~= sub("HTTP/", 1, #got) then
        self.why = "not an HTTP status line"
        return nil, "unreadable"
      end
      return nil, err
    end
    local version, code, rest = line:match("^HTTP/(1%.[01]) (%d%d%d)(.*)$")
    if not version or (rest ~= "" and byte(rest) ~= 32) then
      self.why = "not an HTTP status line"
      return nil, "unreadable"
    end
    local headers = {}
    while true do
      line, err = next_line()
      if not line then return nil, err end
      if line == "" then break end
      local name, value = line:match("^([^:%s]+):[ \t]*(.-)[ \t]*$")
      if name then
        name = lower(name)
        local seen = headers[name]
        headers[name] = seen and (seen .. ", " .. value) or value
      end
    end
    local status = tonumber(code)
    if status >= 200 or status == 101 then return status, version, headers end
  end
end

-- Whether the connection may carry the next request once this answer is read.
local function reusable(version, headers)
  local connection = lower(headers.connection or "")
  if version == "1.0" then return find(connection, "keep-alive", 1, true) ~= nil end
  return not find(connection, "close", 1, true)
end

local function parse_url(url)
  local scheme, host, port, path = url:match("^(https?)://(%[[%x:.]+%])(:?%d*)([^#]*)$")
  if not scheme then scheme, host, port, path = url:match("^(https?)://([^/:?#%[%]@]+)(:?%d*)([^#]*)$") end
  if not scheme then return nil end
  local default = scheme == "https" and 443 or 80
  port = tonumber(port:sub(2)) or default
  if sub(path, 1, 1) ~= "/" then path = "/" .. path end
  return scheme, host, port, path, port == default and host or host .. ":" .. port
end

-- The bytes of the request: the request line, Host, the headers as given (Accept:
-- */* unless one is given, as libcurl), Content-Length when there is a body or the
-- method expects one.
local function serialize(method, path, authority, headers, body)
  local lines, accept = { method, " ", path, " HTTP/1.1\r\nHost: ", authority, "\r\n" }, false
  for name, value in pairs(headers or {}) do
    if find(value, "[\r\n%z]") or find(name, "[\r\n:%z%s]") then
      core.raise("header names and values must not contain line breaks or NUL bytes")
    end
    if lower(name) == "accept" then accept = true end
    lines[#lines + 1] = name .. ": " .. value .. "\r\n"
  end
  if not accept then lines[#lines + 1] = "Accept: */*\r\n" end
  if body or method == "POST" or method == "PUT" or method == "PATCH" then
    lines[#lines + 1] = "Content-Length: " .. #(body or "") .. "\r\n"
  end
  lines[#lines + 1] = "\r\n"
  lines[#lines + 1] = body
  return concat(lines)
end

--- Make a transport.
-- @tparam[opt] table options `poolSize` (per host, default 32), `keepalive` (ms, default 60000),
-- `sslVerify` (default true)
-- @return a transport object (`request`) for `smartcar.configure{transport=}`
function M.new(options)
  options = core.checkOptions(options, 1, "resty.new", OPTIONS)
  local ngx = _G.ngx
  if type(ngx) ~= "table" or not ngx.socket then core.raise("the resty transport runs only inside nginx (ngx_lua)") end
  local tcp = ngx.socket.tcp
  update_time, ngx_now = ngx.update_time, ngx.now
  local pool_size = options.poolSize or 32
  local keepalive = options.keepalive or 60000
  local verify = options.sslVerify ~= false

  -- One attempt on one connection; `fresh` asks for a connection of its own.
  local function attempt(c, scheme, host, port, request, fresh)
    local sock = tcp()
    c.sock, c.buf, c.pos, c.answered, c.sent, c.dead = sock, "", 1, false, false, false
    local ms = c:left()
    if not ms then return c:failure("connect", "timeout") end
    sock:settimeouts(min(ms, c.connectTimeout), ms, ms)
    local pool = ("%s:%s:%d:%s"):format(scheme, host, port, scheme == "https" and tostring(verify) or "")
    if fresh then pool = pool .. ":fresh" end
    local ok, err = sock:connect(host, port, { pool = pool, pool_size = pool_size })
    if not ok then return c:failure("connect", err) end
    local reused = sock:getreusedtimes() > 0
    if scheme == "https" and not reused then
      local done, shaken, why = pcall(sock.sslhandshake, sock, false, not host:match("^%[") and host or nil, verify)
      -- ngx_lua (0.10.23) can answer a handshake that failed late (an untrusted certificate, say) as a
      -- success, the connection already closed: a closed socket is that failure, not a send's
      if done and shaken and not sock:getreusedtimes() then
        shaken, why = nil, "the connection closed during the handshake"
      end
      if not (done and shaken) then
        sock:close()
        return c:failure("tls", done and why or shaken)
      end
    end
    ms = c:left()
    if not ms then sock:close() return c:failure("send", "timeout") end
    sock:settimeout(ms)
    ok, err = sock:send(request)
    c.sent = true
    if not ok then
      sock:close()
      c.dead = reused and err ~= "timeout"
      return c:failure("send", err)
    end
    local status, version, headers = c:head()
    local data, until_close
    if not status then
      err = version
    elseif c.method == "HEAD" or status == 204 or status == 304 or status == 101 then
      data = ""
    elseif find(lower(headers["transfer-encoding"] or ""), "chunked", 1, true) then
      data, err = c:chunked()
    elseif headers["content-length"] then
      local n = tonumber(headers["content-length"]:match("^%d+$"))
      if not n then
        c.why, err = "bad Content-Length", "unreadable"
      elseif n > c.limit then
        err = "too large"
      else
        data, err = c:exact(n)
      end
    else
      data, err = c:rest()
      if data and #data > c.limit then data, err = nil, "too large" end
      until_close = true
    end
    if not data then
      sock:close()
      c.dead = reused and not c.answered and err ~= "timeout"
      return c:failure("recv", err)
    end
    if not (fresh or until_close) and status ~= 101 and c.pos > #c.buf and reusable(version, headers) then
      sock:setkeepalive(keepalive)
    else
      sock:close()
    end
    return status, headers, data
  end

  local transport = {}

  function transport.request(_, method, url, headers, body, limits)
    local refused = auto.noCosockets()
    if refused then return nil, "UNSUPPORTED_PHASE", refused end
    local scheme, host, port, path, authority = parse_url(url)
    if not scheme then return nil, "NETWORK", "URL rejected: Malformed input to a URL function" end
    local c = setmetatable({
      method = method, timeout = limits.timeout, connectTimeout = limits.connectTimeout or limits.timeout,
      limit = limits.maxResponseSize, command = method ~= "GET" and method ~= "HEAD",
    }, Conn)
    c.deadline = now() + c.timeout / 1000
    if scheme == "https" and (limits.caFile or limits.caPath) then
      return nil, "NETWORK", "SSL connect error: caFile and caPath are libcurl's; inside nginx set " ..
        "lua_ssl_trusted_certificate"
    end
    local request = serialize(method, path, authority, headers, body)
    -- As libcurl: a command without a body gets a connection of its own; a reused
    -- connection that died before answering is tried once more on a fresh one,
    -- unless the request is a command (never sent twice).
    local a, b, d, unsent = attempt(c, scheme, host, port, request, c.command and (body or "") == "")
    if a == nil and c.dead and not c.command then
      return attempt(c, scheme, host, port, request, true)
    end
    return a, b, d, unsent
  end

  return transport
end

--- The body of the request nginx is serving, byte for byte, as `parseWebhook` and `verifyPayload`
-- want it: from memory, or from the file nginx wrote it to once it outgrew
-- `client_body_buffer_size` (`ngx.req.get_body_data()` alone gives nil for that one, and for an empty
-- body). Reads the body first (`ngx.req.read_body()`); for a phase that may read it (rewrite, access,
-- content).
-- @treturn[1] string the body (`""` when there is none)
-- @treturn[2] nil
-- @treturn[2] string why the file nginx buffered the body to could not be read
-- @usage local raw = assert(require("smartcar.transport.resty").requestBody())
-- local event, err = smartcar.parseWebhook(amt, ngx.req.get_headers(), raw)
function M.requestBody()
  local req = ngx.req
  req.read_body()
  local data = req.get_body_data()
  if data then return data end
  local path = req.get_body_file()
  if not path then return "" end
  local f, err = io.open(path, "rb")
  if not f then return nil, "the request body's file cannot be read: " .. tostring(err) end
  data, err = f:read("*a")
  f:close()
  if not data then return nil, "the request body's file cannot be read: " .. tostring(err) end
  return data
end

return M
