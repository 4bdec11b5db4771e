-- A hostile HTTP/1.1 server of the test suite's own, in plain Lua on luasocket.
--
-- As a script (`lua hostile_server.lua <parent pid> [lifetime s]`) it listens on
-- 127.0.0.1 on two free ports, prints `PORT=<p> CLOSE_PORT=<q>` and then never
-- writes to stdout again. Every request whose path starts with `/b/<behaviour>/`
-- gets that scripted misbehaviour (BEHAVIOURS below); a connection to CLOSE_PORT
-- is closed at once after accept. Control paths: GET /_control/requests (what
-- was received, as a Lua table constructor: method, target, path, version,
-- headers, body, connection id, request number on that connection), POST
-- /_control/reset (forget the recording, close every other connection), GET
-- /_control/errors, POST /_control/stop. Connections run
-- concurrently as coroutines on one select loop. It stops by itself once the
-- parent process is gone (checked every second), after its lifetime (120 s by
-- default), or on /_control/stop; every connection has its own hard deadline.
--
-- As a module (`require "support.hostile_server"`) it gives `start()`, which runs
-- the script in the background and returns a handle to talk to it, and the
-- encoders the spec uses to list the forms of a secret.

local M = {}

local socket = require "socket"
do -- run as a script, it finds the suite's modules beside itself
  local dir = debug.getinfo(1, "S").source:match("^@(.*)/support/[^/]*$")
  if dir then package.path = dir .. "/?.lua;" .. package.path end
end
local serialize = require "support.serialize"

---------------------------------------------------------------------------
-- Encoders shared by the server and the spec

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = {}
    for k = 1, 4 do
      local idx = math.floor(n / 64 ^ (4 - k)) % 64
      chars[k] = B64:sub(idx + 1, idx + 1)
    end
    if not b then chars[3], chars[4] = "=", "=" elseif not c then chars[4] = "=" end
    out[#out + 1] = table.concat(chars)
  end
  return table.concat(out)
end

function M.unbase64(s)
  local out, n, bits = {}, 0, 0
  for ch in s:gsub("[^%w%+/]", ""):gmatch(".") do
    n = n * 64 + (B64:find(ch, 1, true) - 1)
    bits = bits + 6
    if bits >= 8 then
      bits = bits - 8
      local byte = math.floor(n / 2 ^ bits)
      out[#out + 1] = string.char(byte)
      n = n - byte * 2 ^ bits
    end
  end
  return table.concat(out)
end

-- Percent-encode every byte but the unreserved ones (upper-case hex; `lower` for lower-case).
function M.pct(s, lower)
  local fmt = lower and "%%%02x" or "%%%02X"
  return (s:gsub("[^%w%-%._~]", function(c) return fmt:format(c:byte()) end))
end

local function unpct(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

---------------------------------------------------------------------------
-- The server

local REASONS = {
  [200] = "OK", [301] = "Moved Permanently", [302] = "Found", [307] = "Temporary Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [404] = "Not Found", [429] = "Too Many Requests",
  [502] = "Bad Gateway", [503] = "Service Unavailable",
}

local GZIP_BODY = string.char(31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 74, 201, 44, 46, 73, 204, 75, 78, 85, 178,
  50, 52, 210, 51, 173, 5, 0, 216, 232, 146, 100, 17, 0, 0, 0) -- gzip of {"distance":12.5}

local function html(title) return ("<html><head><title>%s</title></head><body><h1>%s</h1></body></html>"):format(title, title) end

local DIGITS30 = "123456789012345678901234567890"
local RETRY_AFTER = {
  plain = function() return "5" end,
  date = function() return os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 20) end,
  garbage = function() return "soon, maybe" end,
  negative = function() return "-5" end,
  digits30 = function() return DIGITS30 end,
}

local RATE_LIMIT = '{"type":"RATE_LIMIT","code":"VEHICLE","description":"Too many requests.",' ..
  '"docURL":"https://smartcar.com/docs/errors/api-errors/rate-limit-errors#vehicle",' ..
  '"statusCode":429,"resolution":{"type":"RETRY_LATER"},"suggestedUserMessage":"Try again later.",' ..
  '"requestId":"rid-429"}'

-- Everything secret the request carried, the way a careless server echoes it.
local function echoes(req)
  local auth = req.headers.authorization and req.headers.authorization[1] or ""
  local list = { auth }
  local bearer = auth:match("^Bearer (.+)$")
  if bearer then list[#list + 1] = bearer; list[#list + 1] = M.pct(bearer); list[#list + 1] = M.pct(bearer, true) end
  local basic = auth:match("^Basic (.+)$")
  if basic then list[#list + 1] = M.unbase64(basic) end
  if req.body ~= "" then
    list[#list + 1] = req.body
    for k, v in req.body:gmatch("([^&=]+)=([^&]*)") do list[#list + 1] = k .. "=" .. unpct(v) end
  end
  return list
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ({ ['"'] = '\\"', ["\\"] = "\\\\" })[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function echo_body(req, all)
  local e = echoes(req)
  local joined = json_string("Received: " .. table.concat(e, " | "))
  local first = json_string(e[2] or e[1])
  local fields = {
    '"type":' .. (all and json_string("AUTHENTICATION " .. e[1]) or '"AUTHENTICATION"'),
    '"code":' .. (all and first or '"INVALID_TOKEN"'),
    '"description":' .. joined,
    '"docURL":' .. json_string("https://smartcar.com/docs?token=" .. M.pct(e[2] or e[1])),
    '"suggestedUserMessage":' .. joined,
    '"resolution":{"type":' .. joined .. ',"url":' .. json_string("https://example.com/?" .. table.concat(e, "&")) .. '}',
    '"detail":[{"field":' .. first .. ',"message":' .. joined .. '}]',
    '"requestId":' .. (all and first or '"rid-echo"'),
    '"statusCode":401',
  }
  return "{" .. table.concat(fields, ",") .. "}"
end

local function oauth_echo_body(req)
  local joined = json_string("Received: " .. table.concat(echoes(req), " | "))
  return '{"error":"invalid_grant","error_description":' .. joined .. ',"message":' .. joined .. '}'
end

local function html_echo(req, pad)
  local e = echoes(req)
  return "<html><body>" .. ("x"):rep(pad or 0) .. table.concat(e, " | ") .. "</body></html>"
end

-- A behaviour is function(c, req): c has send(s), sleep(s), reset(), respond(status, headers, body,
-- keep); it returns true to keep the connection for the next request.
local B = {}
local function ok_body(req)
  return req.method == "GET" and '{"distance":12.5,"unit":"km"}'
    or '{"status":"success","message":"Successfully sent request to vehicle"}'
end

B.ok = function(c, req)
  c.respond(200, { { "Content-Type", "application/json" }, { "sc-request-id", "rid-ok" } }, ok_body(req))
end
B.target = B.ok -- the target of the redirects: must never be requested
B.empty = function() end -- read the request, close without a byte
B.silent = function(c) c.sleep(6) end -- read the request, never answer (for 6 s)
B["reset-headers"] = function(c)
  c.send("HTTP/1.1 200 OK\r\nContent-Type: applica")
  c.sleep(0.05)
  c.reset()
end
B["reset-body"] = function(c)
  c.send('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"distance":')
  c.sleep(0.05)
  c.reset()
end
B["truncated-json"] = function(c)
  c.respond(200, { { "Content-Type", "application/json" } }, '{"distance":12.5,"unit":"k')
end
B["short-close"] = function(c)
  c.send('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"distance":12.5,')
end
B["short-hang"] = function(c)
  c.send('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"distance":12.5,')
  c.sleep(6)
end
B["slow-headers"] = function(c)
  c.send("HTTP/1.1 200 OK\r\nX-Slow: ")
  for _ = 1, 30 do
    if not c.send("a") then return end
    c.sleep(0.2)
  end
  c.send('\r\nContent-Length: 2\r\n\r\n{}')
end
B["slow-body"] = function(c)
  local body = '{"distance":12.5,"unit":"km","padding":"xxxxxxxxxxxxxxx"}'
  c.send(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"):format(#body))
  for i = 1, #body do
    if not c.send(body:sub(i, i)) then return end
    c.sleep(0.2)
  end
end
B["endless-chunked"] = function(c)
  if not c.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" ..
      '10\r\n{"padding":"xxxx\r\n') then return end
  local chunk = ("%x\r\n%s\r\n"):format(65536, ("x"):rep(65536))
  local t0 = socket.gettime()
  for _ = 1, 1024 do -- at most 64 MB, at most 10 s
    if socket.gettime() - t0 > 10 or not c.send(chunk) then return end
  end
end
B.gzip = function(c)
  c.respond(200, { { "Content-Type", "application/json" }, { "Content-Encoding", "gzip" } }, GZIP_BODY)
end
B["not-json"] = function(c) c.respond(200, { { "Content-Type", "text/plain" } }, "this is not JSON") end
B["html-502"] = function(c) c.respond(502, { { "Content-Type", "text/html" } }, html("502 Bad Gateway")) end
B["html-503"] = function(c) c.respond(503, { { "Content-Type", "text/html" } }, html("503 Service Unavailable")) end
local function json(body, status)
  return function(c) c.respond(status or 200, { { "Content-Type", "application/json" } }, body) end
end
-- token answers (v2's code and refresh grants, V3's client credentials): one a client can use, and
-- ones whose token could not be sent as it came (a header injection, a space, a NUL) or never expires
B["token-ok"] = json('{"access_token":"fresh.Token-1","token_type":"Bearer","expires_in":3600,' ..
  '"refresh_token":"fresh-refresh-1"}')
B["token-crlf"] = json('{"access_token":"fresh\\r\\nX-Injected: 1","token_type":"Bearer","expires_in":3600}')
B["token-space"] = json('{"access_token":"two words","token_type":"Bearer","expires_in":3600}')
B["token-refresh-nul"] = json('{"access_token":"fresh.Token-1","expires_in":3600,"refresh_token":"r\\u0000x"}')
B["token-no-expiry"] = json('{"access_token":"fresh.Token-1","token_type":"Bearer"}')
B["token-zero-expiry"] = json('{"access_token":"fresh.Token-1","token_type":"Bearer","expires_in":0}')
B["json-array"] = json("[1,2,3]")
B["json-string"] = json('"a string"')
B["json-number"] = json("42")
B["json-null"] = json("null")
B["deep-300"] = json(("["):rep(300) .. ("]"):rep(300))
B["deep-100000"] = json(("["):rep(100000) .. ("]"):rep(100000))
B["deep-error-400"] = json('{"type":"VALIDATION","detail":' .. ("["):rep(100000) .. ("]"):rep(100000) .. "}", 400)
B["num-huge"] = json('{"distance":1e400,"unit":"km"}')
B["num-neg-huge"] = json('{"distance":-1e400,"unit":"km"}')
B["num-bigint"] = json('{"distance":' .. DIGITS30 .. ',"unit":"km"}')
B["num-nan-literal"] = json('{"distance":NaN,"unit":"km"}')
B["num-inf-literal"] = json('{"distance":Infinity,"unit":"km"}')
B["num-hex"] = json('{"distance":0x1F,"unit":"km"}')
B["bad-utf8"] = json('{"distance":1,"unit":"\255\254km \192\175"}')
B["dup-request-id"] = function(c)
  c.respond(200, { { "Content-Type", "application/json" }, { "sc-request-id", "rid-1" }, { "SC-Request-Id", "rid-2" } },
    '{"distance":12.5}')
end
-- empty meta headers say nothing (a proxy that blanks them): no field from them
B["empty-meta-headers"] = function(c)
  c.respond(200, { { "Content-Type", "application/json" }, { "sc-request-id", "" }, { "sc-fetched-at", "" },
    { "sc-data-age", "" }, { "sc-unit-system", "" } }, '{"distance":12.5}')
end
-- batch items as the Python SDK's tests give them: a JSON number for Retry-After, no request id of
-- their own (the batch's header stands for them, as it does in their meta)
B["batch-items"] = function(c)
  c.respond(200, { { "Content-Type", "application/json" }, { "sc-request-id", "rid-batch" } },
    '{"responses":[{"path":"/odometer","code":429,"headers":{"Retry-After":999},' ..
    '"body":{"type":"RATE_LIMIT","code":"VEHICLE","description":"Too many requests.","statusCode":429}},' ..
    '{"path":"/battery","code":409,"body":{"type":"VEHICLE_STATE","code":"ASLEEP","description":"Asleep."}},' ..
    '{"path":"/fuel","code":200,"headers":{"sc-data-age":"2026-01-01T00:00:00.000Z"},"body":{"range":5}}]}')
end
B["dup-retry-after"] = function(c)
  c.respond(429, { { "Content-Type", "application/json" }, { "Retry-After", "5" }, { "Retry-After", "7" } }, RATE_LIMIT)
end
B["huge-header"] = function(c)
  c.respond(200, { { "Content-Type", "application/json" }, { "X-Huge", ("h"):rep(200 * 1024) } }, '{"distance":12.5}')
end
for kind, value in pairs(RETRY_AFTER) do
  B["ra-" .. kind .. "-json"] = function(c)
    c.respond(429, { { "Content-Type", "application/json" }, { "Retry-After", value() } }, RATE_LIMIT)
  end
  B["ra-" .. kind .. "-html"] = function(c)
    c.respond(429, { { "Content-Type", "text/html" }, { "Retry-After", value() } }, html("429 Too Many Requests"))
  end
end
for _, status in ipairs { 301, 302, 307 } do
  B["redirect-" .. status] = function(c, req)
    local location = ("http://127.0.0.1:%d%s"):format(c.port, req.path:gsub("^/b/[^/]+", "/b/target"))
    c.respond(status, { { "Location", location }, { "Content-Type", "text/html" } },
      status == 301 and "" or html(REASONS[status]))
  end
end
B["status-noreason"] = function(c)
  c.send('HTTP/1.1 200\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{"distance":12.5}')
end
B["http10-close"] = function(c)
  c.send('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"distance":12.5}')
end
B["status-999"] = function(c)
  local body = '{"type":"WEIRD","code":"ODD","description":"A weird status"}'
  c.send(("HTTP/1.1 999 Weird\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
    :format(#body, body))
end
B["garbage-status"] = function(c) c.send("SMTP 220 ready, not HTTP at all\r\n\r\nhello") end
-- API V3: a usable application token, then `answer(c, req)` for the API request
local JSON_HEADERS = { { "Content-Type", "application/json" } }
local V3_TOKEN = '{"access_token":"fresh.Token-1","token_type":"Bearer","expires_in":3600}'
local function v3(answer)
  return function(c, req)
    if req.path:match("/oauth2/token$") then
      c.respond(200, JSON_HEADERS, V3_TOKEN)
    else
      answer(c, req)
    end
  end
end
-- answers with no outcome: an empty 202, a command execution without a status
B["v3-empty-202"] = v3(function(c) c.respond(202, JSON_HEADERS, "") end)
B["v3-no-status"] = v3(function(c)
  c.respond(200, JSON_HEADERS, '{"data":{"id":"exec_1","type":"command-execution",' ..
    '"attributes":{"commandType":"security-lock"}}}')
end)
-- a server that knows the client secret and echoes it, and the app token, in an error
local ECHOED = "client secret sEcR3t!client/S+v=1 and token fresh.Token-1"
B["v3-echo-secret"] = v3(function(c)
  c.respond(400, JSON_HEADERS, '{"errors":[{"status":"400","type":"VALIDATION","code":"INVALID_INPUT_FORMAT",' ..
    '"title":"Bad Request","detail":"' .. ECHOED .. '","meta":{"sEcR3t!client/S+v=1":"a key"}}]}')
end)
B["v3-command-error-echo"] = v3(function(c)
  c.respond(200, JSON_HEADERS, '{"data":{"id":"exec_1","type":"command-execution","attributes":{' ..
    '"commandType":"security-lock","status":{"value":"ERROR","error":{"type":"VEHICLE_STATE","code":"ASLEEP",' ..
    '"detail":"' .. ECHOED .. '"}}}}}')
end)
-- an HTTP/0.9-style answer: a body with no status line, then the close
B["no-status-line"] = function(c) c.send('{"distance":12.5}') end
-- The first request on a connection is answered with keep-alive; any later request
-- that reaches this behaviour on the same connection is read and left unanswered.
B.kadead = function(c, req)
  if c.n > 1 then return end
  local close = req.version ~= "HTTP/1.1" or (req.headers.connection or {})[1] == "close"
  c.respond(200, { { "Content-Type", "application/json" }, not close and { "Connection", "keep-alive" } or nil },
    ok_body(req), not close)
  return not close
end
B["echo-401"] = function(c, req) c.respond(401, { { "Content-Type", "application/json" } }, echo_body(req)) end
B["echo-all"] = function(c, req)
  local e = echoes(req)
  c.respond(400, { { "Content-Type", "application/json" }, { "sc-request-id", e[2] or e[1] } }, echo_body(req, true))
end
B["echo-oauth"] = function(c, req) c.respond(400, { { "Content-Type", "application/json" } }, oauth_echo_body(req)) end
B["echo-html-401"] = function(c, req) c.respond(401, { { "Content-Type", "text/html" } }, html_echo(req)) end
-- the secret straddles the 200th byte, where an excerpt of the body would cut it
B["echo-html-edge"] = function(c, req) c.respond(401, { { "Content-Type", "text/html" } }, html_echo(req, 200 - 12 - 14)) end
M.BEHAVIOURS = B

local function main(ppid, lifetime)
  local listener = assert(socket.bind("127.0.0.1", 0, 128))
  local closer = assert(socket.bind("127.0.0.1", 0, 128))
  listener:settimeout(0)
  closer:settimeout(0)
  local _, port = listener:getsockname()
  local _, close_port = closer:getsockname()
  io.stdout:write(("PORT=%d CLOSE_PORT=%d\n"):format(port, close_port))
  io.stdout:flush()
  -- from here on nothing is written to stdout or stderr: the reader is gone

  local records, errors, tasks = {}, {}, {}
  local conn_ids, seq, stop = 0, 0, false
  local CONN_LIFETIME, MAX_HEAD = 20, 256 * 1024

  local function alive(pid)
    local r = os.execute("kill -0 " .. pid .. " 2>/dev/null")
    return r == true or r == 0
  end

  local function handle(c)
    local sock = c.sock
    local closed = false
    local function fill()
      coroutine.yield("r")
      local data, err, partial = sock:receive(65536)
      local got = data or partial
      if got and #got > 0 then c.buf = c.buf .. got return true end
      return err == "timeout"
    end
    local function read_line()
      for _ = 1, 100000 do
        local i = c.buf:find("\n", 1, true)
        if i then
          local line = c.buf:sub(1, i - 1):gsub("\r$", "")
          c.buf = c.buf:sub(i + 1)
          return line
        end
        if #c.buf > MAX_HEAD or not fill() then return nil end
      end
    end
    local function read_exact(n)
      for _ = 1, 100000 do
        if #c.buf >= n then
          local s = c.buf:sub(1, n)
          c.buf = c.buf:sub(n + 1)
          return s
        end
        if not fill() then return nil end
      end
    end
    function c.send(s)
      local i = 1
      for _ = 1, 1000000 do
        if closed then return false end
        if i > #s then return true end
        coroutine.yield("w")
        local n, err, last = sock:send(s, i)
        if n then i = n + 1
        elseif err == "timeout" then i = (last or i - 1) + 1
        else return false end
      end
      return false
    end
    function c.sleep(seconds) coroutine.yield("t", seconds) end
    function c.reset()
      sock:setoption("linger", { on = true, timeout = 0 })
      sock:close()
      closed = true
    end
    function c.respond(status, headers, body, keep)
      local out = { type(status) == "string" and status or ("HTTP/1.1 %d %s"):format(status, REASONS[status] or "Status") }
      for _, h in ipairs(headers or {}) do out[#out + 1] = h[1] .. ": " .. h[2] end
      out[#out + 1] = "Content-Length: " .. #(body or "")
      if not keep then out[#out + 1] = "Connection: close" end
      return c.send(table.concat(out, "\r\n") .. "\r\n\r\n" .. (body or ""))
    end

    for _ = 1, 100 do -- requests on this connection
      local line = read_line()
      if line == "" then line = read_line() end
      if not line then return end
      local method, target, version = line:match("^(%u+) (%S+) (HTTP/%d%.%d)$")
      if not method then return end
      local req = { method = method, target = target, version = version, headers = {}, order = {} }
      req.path = target:match("^[^?]*")
      for _ = 1, 200 do
        local h = read_line()
        if not h then return end
        if h == "" then break end
        local name, value = h:match("^([^:%s]+):[ \t]*(.-)[ \t]*$")
        if name then
          local key = name:lower()
          req.headers[key] = req.headers[key] or {}
          table.insert(req.headers[key], value)
          req.order[#req.order + 1] = h
        end
      end
      local te, cl = req.headers["transfer-encoding"], req.headers["content-length"]
      if te and te[1]:lower():find("chunked", 1, true) then
        local parts = {}
        for _ = 1, 10000 do
          local size = tonumber((read_line() or ""):match("^%x+"), 16)
          if not size then return end
          if size == 0 then read_line() break end
          parts[#parts + 1] = read_exact(size)
          if not parts[#parts] then return end
          read_line()
        end
        req.body = table.concat(parts)
      elseif cl then
        local n = tonumber(cl[1])
        if not n or n > 1024 * 1024 then return end
        req.body = read_exact(n)
        if not req.body then return end
      else
        req.body = ""
      end
      c.n, seq = c.n + 1, seq + 1
      req.conn, req.n, req.seq = c.id, c.n, seq

      if req.path == "/_control/requests" then
        c.respond(200, { { "Content-Type", "text/plain" } }, serialize.dump(records))
      elseif req.path == "/_control/errors" then
        c.respond(200, { { "Content-Type", "text/plain" } }, serialize.dump(errors))
      elseif req.path == "/_control/reset" then
        -- a clean slate: no recording, and no connection of an earlier case left open
        -- for a client to reuse
        records = {}
        for _, t in ipairs(tasks) do
          if t.sock ~= sock then
            t.sock:close()
            t.deadline = 0
          end
        end
        c.respond(200, { { "Content-Type", "text/plain" } }, "reset")
      elseif req.path == "/_control/stop" then
        c.respond(200, { { "Content-Type", "text/plain" } }, "stopping")
        stop = true
      end
      if req.path:match("^/_control/") then return end
      do
        records[#records + 1] = req
        local name = req.path:match("^/b/([^/]+)")
        local behaviour = name and B[name]
        if not behaviour then
          c.respond(404, { { "Content-Type", "text/plain" } }, "no such behaviour")
          return
        end
        if not behaviour(c, req) or closed then return end
      end
    end
  end

  local function spawn(sock)
    conn_ids = conn_ids + 1
    sock:settimeout(0)
    local c = { sock = sock, id = conn_ids, n = 0, buf = "", port = port }
    local co = coroutine.create(function() handle(c) end)
    tasks[#tasks + 1] = { co = co, sock = sock, want = "t", wake = 0, deadline = socket.gettime() + CONN_LIFETIME }
  end

  local started = socket.gettime()
  local next_check = started + 1
  while not stop and #errors < 1000 do
    local now = socket.gettime()
    if now - started > lifetime then break end
    if now >= next_check then
      if not alive(ppid) then break end
      next_check = now + 1
    end
    local rset, wset, timeout = { listener, closer }, {}, 0.1
    for _, t in ipairs(tasks) do
      if t.want == "r" then rset[#rset + 1] = t.sock elseif t.want == "w" then wset[#wset + 1] = t.sock end
      timeout = math.max(0, math.min(timeout, (t.want == "t" and t.wake or math.huge) - now, t.deadline - now))
    end
    local r, w = socket.select(rset, wset, timeout)
    for _ = 1, 64 do
      local s = listener:accept()
      if not s then break end
      spawn(s)
    end
    for _ = 1, 64 do
      local s = closer:accept()
      if not s then break end
      s:close()
    end
    now = socket.gettime()
    local keep = {}
    for _, t in ipairs(tasks) do
      local ready = (t.want == "r" and r[t.sock]) or (t.want == "w" and w[t.sock]) or (t.want == "t" and now >= t.wake)
      if now >= t.deadline then
        t.sock:close()
      elseif ready then
        local ok, want, arg = coroutine.resume(t.co)
        if not ok then
          errors[#errors + 1] = tostring(want)
          t.sock:close()
        elseif coroutine.status(t.co) == "dead" then
          t.sock:close()
        else
          t.want, t.wake = want, want == "t" and now + arg or nil
          keep[#keep + 1] = t
        end
      else
        keep[#keep + 1] = t
      end
    end
    tasks = keep
  end
  for _, t in ipairs(tasks) do t.sock:close() end
  listener:close()
  closer:close()
end

---------------------------------------------------------------------------
-- The spec's side: start the server, read what it received

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- The interpreter running this Lua (the server runs on the same one).
local function interpreter()
  local argv = rawget(_G, "arg")
  if type(argv) == "table" then
    local i = -1
    while argv[i - 1] do i = i - 1 end
    if type(argv[i]) == "string" then return argv[i] end
  end
  return "lua"
end

local function fetch(self, method, path)
  local sock = assert(socket.connect("127.0.0.1", self.port))
  sock:settimeout(5)
  assert(sock:send(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"):format(method, path)))
  local data, err, partial = sock:receive("*a")
  sock:close()
  local raw = data or partial
  assert(raw and raw ~= "", "no answer from the hostile server: " .. tostring(err))
  return raw:match("\r\n\r\n(.*)$")
end

--- Start a server in the background: returns a handle with `port`, `closePort`, `origin(behaviour)`,
-- `requests()` (what it received since the last `reset()`, oldest first), `errors()` and `stop()`.
function M.start(lifetime)
  local source = debug.getinfo(1, "S").source:gsub("^@", "")
  local ppid = assert(io.popen("echo $PPID")):read("*l")
  local p = assert(io.popen(("%s %s %s %d 2>&1 &"):format(shell_quote(interpreter()), shell_quote(source),
    ppid, lifetime or 120)))
  local line = p:read("*l")
  p:close()
  local port, close_port = (line or ""):match("^PORT=(%d+) CLOSE_PORT=(%d+)$")
  assert(port, "the hostile server did not start: " .. tostring(line))
  local handle = { port = tonumber(port), closePort = tonumber(close_port) }
  handle.url = "http://127.0.0.1:" .. port
  function handle.origin(behaviour) return handle.url .. "/b/" .. behaviour end
  function handle.requests()
    return serialize.load(fetch(handle, "GET", "/_control/requests"))
  end
  function handle.errors() return serialize.load(fetch(handle, "GET", "/_control/errors")) end
  function handle.reset() fetch(handle, "POST", "/_control/reset") end
  function handle.stop() pcall(fetch, handle, "POST", "/_control/stop") end
  return handle
end

local first = ...
if type(first) == "string" and first:match("^%d+$") then
  main(first, tonumber((select(2, ...))) or 120)
else
  return M
end
