-- The fault matrix: every way a server (or the road to it) can misbehave, through the
-- public API, against a hostile HTTP/1.1 server of the suite's own
-- (spec/support/hostile_server.lua, one scripted behaviour per path prefix
-- /b/<behaviour>, every received request recorded).
--
-- Each case asserts the exact outcome (result fields, or err.type, err.code,
-- err.statusCode, err.retryAfter), how many requests reached the server, that the
-- call returned within its deadline, and that no secret (token, Authorization value,
-- client secret, code, refresh token; raw, percent-encoded either case, base64, or a
-- prefix of one cut by an excerpt) is in any string of the error or in tostring(err).
--
-- Transports: every case runs on the two transports the SDK ships: the default
-- libcurl one, and the cosocket one inside a real nginx (the calls run there, in
-- spec/support/nginx_faults.lua; their outcomes come back serialized). Cases whose
-- outcome is decided by the SDK above the transport (parsing, error building,
-- redaction, redirects not followed, retries) also run on a transport object of the
-- suite's own (spec/support/socket_transport.lua). Cases about the wire itself
-- (resets, partial bodies, deadlines, size limits, duplicate or huge headers, an
-- empty reply) are a transport's own work: the suite's transport speaks HTTP/1.0
-- without keep-alive and classifies those failures its own way, so it skips them.
local smartcar = require "smartcar"
local socket = require "socket"
local hostile = require "support.hostile_server"
local socket_transport = require "support.socket_transport"
local nginx = require "support.nginx"
local fault_calls = require "support.fault_calls"

local TIMEOUT = 1500                 -- ms, every instance of this file
local DEADLINE = TIMEOUT / 1000 + 1  -- s, the loose bound on any call
local TOKEN, CLIENT_ID, CLIENT_SECRET = fault_calls.TOKEN, fault_calls.CLIENT_ID, fault_calls.CLIENT_SECRET
local CODE, REFRESH = fault_calls.CODE, fault_calls.REFRESH
local YEAR = 365 * 24 * 3600

-- Every form of every secret that must never reach an error.
local SECRETS = {}
for _, s in ipairs { TOKEN, CLIENT_SECRET, CODE, REFRESH, "fresh.Token-1" } do
  for _, form in ipairs { s, hostile.pct(s), hostile.pct(s, true), hostile.base64(s), s:sub(1, 6) } do
    SECRETS[#SECRETS + 1] = form
  end
end
SECRETS[#SECRETS + 1] = hostile.base64(CLIENT_ID .. ":" .. CLIENT_SECRET)

-- Where a secret shows in the error (a list of "where: what"; empty when none).
local function leaks(err)
  local found, seen = {}, {}
  local function check(s, where)
    for _, secret in ipairs(SECRETS) do
      if s:find(secret, 1, true) then found[#found + 1] = ("%s holds %q"):format(where, secret) end
    end
  end
  local function walk(v, where)
    if type(v) == "string" then
      check(v, where)
    elseif type(v) == "table" and not seen[v] then
      seen[v] = true
      for k, x in pairs(v) do
        walk(k, where .. " (a key)")
        walk(x, where .. "." .. tostring(k))
      end
    end
  end
  walk(err, "err")
  if err ~= nil then check(tostring(err), "tostring(err)") end
  return found
end

local free_port = nginx.free_port

-- The options of an SDK instance for one case. The matrix turns retries off (API.md
-- 0.2: `retry = false`) so that each case measures one attempt; an SDK without the
-- option has no retries anyway, and the spec "retry = false is accepted" below says
-- whether it has it.
local retry_supported = pcall(smartcar.new, { retry = false })
local function options(origin, extra)
  local o = { origin = origin, timeout = TIMEOUT }
  if retry_supported then o.retry = false end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local WIRE = fault_calls.WIRE

-- Expectations -------------------------------------------------------------

local function sdk_error(code, status)
  return function(res, err)
    assert.is_nil(res)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal(code, err.code)
    assert.are.equal(status, err.statusCode)
    assert.is_string(err.description)
  end
end

-- INVALID_RESPONSE with the status kept and the start of the body as description:
-- the description starts with `start`, or (`whole`) is all of it.
local function invalid(status, start, whole)
  return function(res, err)
    sdk_error("INVALID_RESPONSE", status)(res, err)
    if whole then
      assert.are.equal(start, err.description)
    elseif start then
      assert.are.equal(start, err.description:sub(1, #start))
    end
  end
end

-- NETWORK; through the transports the SDK ships, the description starts with `what`
-- (libcurl's words for the failure, which the cosocket transport uses too), or with
-- one of them when the race between client and server decides (a list).
local function network_failure(what)
  return function(res, err, _, _, shipped)
    sdk_error("NETWORK", nil)(res, err)
    if not (what and shipped) then return end
    local starts = {}
    for _, w in ipairs(type(what) == "table" and what or { what }) do
      starts[#starts + 1] = err.description:sub(1, #w) == w and w or nil
    end
    assert(#starts == 1, ("the description %q starts with none of %s"):format(err.description,
      type(what) == "table" and table.concat(what, " | ") or what))
  end
end
local network = network_failure()
local REFUSED, NOTHING = "Couldn't connect to server: ", "Server returned nothing (no headers, no data): "
local RECV, PARTIAL = "Failure when receiving data from the peer: ", "Transferred a partial file: "

-- TIMEOUT at the deadline (within 10 %), however the server stalls or drips.
local function timeout(res, err, _, elapsed)
  sdk_error("TIMEOUT", 408)(res, err)
  assert.are.equal(("Request timed out after %d ms"):format(TIMEOUT), err.description)
  assert.is_true(elapsed >= TIMEOUT / 1000 * 0.9, ("gave up after %.2f s, before the deadline"):format(elapsed))
  assert.is_true(elapsed <= TIMEOUT / 1000 * 1.1, ("gave up after %.2f s, past the deadline"):format(elapsed))
end

-- A failure found before any status: the status may be unknown or the one read.
local function invalid_without_body(res, err)
  assert.is_nil(res)
  assert.are.equal("SDK_ERROR", err.type)
  assert.are.equal("INVALID_RESPONSE", err.code)
  assert.is_true(err.statusCode == nil or err.statusCode == 200, "statusCode " .. tostring(err.statusCode))
end

local function distance(value)
  return function(res, err)
    assert.is_nil(err)
    assert.are.equal(value, res.distance)
    assert.is_table(res.meta)
  end
end

local function rate_limited(retry_after)
  return function(res, err)
    assert.is_nil(res)
    assert.are.equal(429, err.statusCode)
    assert.are.equal("RATE_LIMIT", err.type)
    assert.are.equal("VEHICLE", err.code)
    assert.are.equal("rid-429", err.requestId)
    if type(retry_after) == "function" then retry_after(err.retryAfter) else assert.are.equal(retry_after, err.retryAfter) end
  end
end

local function html_429(retry_after)
  return function(res, err)
    invalid(429, "<html><head><title>429 Too Many Requests</title>")(res, err)
    if type(retry_after) == "function" then retry_after(err.retryAfter) else assert.are.equal(retry_after, err.retryAfter) end
  end
end

local function about_twenty(v)
  assert.is_number(v)
  assert.is_true(v >= 17 and v <= 21, "retryAfter " .. tostring(v))
end

local function a_year_or_more(v)
  assert.is_number(v)
  assert.is_true(v >= YEAR and v < math.huge, "retryAfter " .. tostring(v))
  assert.are.equal(math.floor(v), v)
end

local function redirected(status)
  return function(res, err, received)
    invalid(status)(res, err)
    for _, r in ipairs(received) do
      assert.is_nil(r.path:match("^/b/target"), "the redirect was followed to " .. r.path)
    end
  end
end

local function echoed(status, type_, code)
  return function(res, err)
    assert.is_nil(res)
    assert.are.equal(status, err.statusCode)
    if type_ then assert.are.equal(type_, err.type) end
    if code then assert.are.equal(code, err.code) end
    assert.is_string(err.description)
  end
end

local S = "both" -- the outcome is the SDK's: run on every transport

-- The matrix ----------------------------------------------------------------
-- { behaviour, check, call = (default odometer), on = S (default libcurl only), received = n (default 1),
--   origin = function(server) }
local CASES = {
  { "ok", distance(12.5), on = S },
  { "refused", network_failure(REFUSED), on = S, received = 0,
    origin = function() return "http://127.0.0.1:" .. free_port() end },
  { "refused on an IPv6 literal", network_failure(REFUSED), received = 0,
    origin = function() return "http://[::1]:" .. free_port() end },
  -- closed before or after the request arrived: a reset, or an orderly close
  { "close at once after accept", network_failure { RECV, NOTHING }, received = 0,
    origin = function(server) return "http://127.0.0.1:" .. server.closePort end },
  { "empty", network_failure(NOTHING) },
  { "empty", network_failure(NOTHING), call = "lock" },
  { "reset-headers", network_failure(RECV) },
  { "reset-body", network_failure(RECV) },
  { "truncated-json", invalid(200, '{"distance":12.5,"unit":"k', true), on = S },
  { "short-close", network_failure(PARTIAL) },
  { "short-hang", timeout },
  { "slow-headers", timeout },
  { "slow-body", timeout },
  { "silent", timeout },
  { "endless-chunked", invalid_without_body },
  { "gzip", invalid(200), on = S },
  { "not-json", invalid(200, "this is not JSON", true), on = S },
  { "html-502", invalid(502, "<html><head><title>502 Bad Gateway</title>"), on = S },
  { "html-503", invalid(503, "<html><head><title>503 Service Unavailable</title>"), on = S },
  { "json-array", function(res, err)
      assert.is_nil(err)
      assert.are.same({ 1, 2, 3 }, res.data)
      assert.is_table(res.meta)
    end, on = S },
  { "json-string", invalid(200, '"a string"', true), on = S },
  { "json-number", invalid(200, "42", true), on = S },
  { "json-null", invalid(200, "null", true), on = S },
  { "deep-300", invalid(200, ("["):rep(100)), on = S },
  { "deep-100000", invalid(200, ("["):rep(100)), on = S },
  { "deep-error-400", invalid(400, '{"type":"VALIDATION","detail":[[[['), on = S },
  { "num-huge", distance(math.huge), on = S },
  { "num-neg-huge", distance(-math.huge), on = S },
  { "num-bigint", function(res, err)
      distance(1.2345678901234568e29)(res, err)
      if math.type then assert.are.equal("float", math.type(res.distance)) end
    end, on = S },
  -- NaN, Infinity and hex numbers are not JSON (RFC 8259): a body with them is not JSON
  { "num-nan-literal", invalid(200, '{"distance":NaN'), on = S },
  { "num-inf-literal", invalid(200, '{"distance":Infinity'), on = S },
  { "num-hex", invalid(200, '{"distance":0x1F'), on = S },
  { "bad-utf8", function(res, err)
      distance(1)(res, err)
      assert.are.equal("\255\254km \192\175", res.unit) -- the bytes as sent, nothing dropped
    end, on = S },
  { "empty-meta-headers", function(res, err)
      distance(12.5)(res, err)
      assert.are.same({}, res.meta)
    end },
  { "batch-items", function(res, err)
      assert.is_nil(err)
      local odo, battery, fuel = res.odometer.error, res.battery.error, res.fuel
      assert.are.same({ "RATE_LIMIT", "VEHICLE", 429, 999, "rid-batch" },
        { odo.type, odo.code, odo.statusCode, odo.retryAfter, odo.requestId })
      assert.are.same({ "VEHICLE_STATE", "ASLEEP", 409, "rid-batch" },
        { battery.type, battery.code, battery.statusCode, battery.requestId })
      assert.are.equal(5, fuel.range)
      assert.are.equal("rid-batch", fuel.meta.requestId)
    end, call = "batch", on = S },
  { "dup-request-id", function(res, err)
      distance(12.5)(res, err)
      assert.are.equal("rid-1, rid-2", res.meta.requestId)
    end },
  -- Retry-After is a singleton field: of two, the first counts (as Node's http module does)
  { "dup-retry-after", rate_limited(5) },
  { "huge-header", invalid_without_body },
  { "ra-plain-json", rate_limited(5), on = S },
  { "ra-date-json", rate_limited(about_twenty), on = S },
  { "ra-garbage-json", rate_limited(nil), on = S },
  { "ra-negative-json", rate_limited(nil), on = S },
  { "ra-digits30-json", rate_limited(a_year_or_more), on = S },
  { "ra-plain-html", html_429(5), on = S },
  { "ra-date-html", html_429(about_twenty), on = S },
  { "ra-garbage-html", html_429(nil), on = S },
  { "ra-negative-html", html_429(nil), on = S },
  { "ra-digits30-html", html_429(a_year_or_more), on = S },
  { "redirect-301", redirected(301), on = S },
  { "redirect-302", redirected(302), on = S },
  { "redirect-307", redirected(307), on = S },
  { "redirect-307", redirected(307), call = "lock", on = S },
  { "redirect-302", redirected(302), call = "exchangeCode", on = S },
  { "status-noreason", distance(12.5), on = S },
  { "http10-close", distance(12.5), on = S },
  { "status-999", function(res, err)
      assert.is_nil(res)
      assert.are.equal(999, err.statusCode)
      assert.are.equal("WEIRD", err.type)
      assert.are.equal("ODD", err.code)
      assert.are.equal("WEIRD:ODD - A weird status", err.message)
    end, on = S },
  -- the server answered, but not in HTTP: an invalid response, not a network failure
  { "garbage-status", invalid(nil), on = S },
  { "no-status-line", invalid(nil) },
  -- servers echoing every secret they received
  { "echo-401", echoed(401, "AUTHENTICATION", "INVALID_TOKEN"), on = S },
  { "echo-all", echoed(400), on = S },
  { "echo-all", echoed(400), call = "lock", on = S },
  { "echo-all", echoed(400), call = "request", on = S },
  { "echo-html-401", invalid(401, "<html><body>"), on = S },
  { "echo-html-edge", invalid(401, "<html><body>xxxx"), on = S },
  { "echo-html-edge", invalid(401, "<html><body>xxxx"), call = "lock", on = S },
  { "echo-401", echoed(401, "AUTHENTICATION", "INVALID_TOKEN"), call = "getUser", on = S },
  { "echo-all", echoed(400), call = "getUser", on = S },
  { "echo-oauth", echoed(400, "invalid_grant"), call = "exchangeCode", on = S },
  { "echo-oauth", echoed(400, "invalid_grant"), call = "exchangeRefreshToken", on = S },
  { "echo-all", echoed(400), call = "exchangeCode", on = S },
  { "echo-all", echoed(400), call = "exchangeRefreshToken", on = S },
  { "echo-html-401", invalid(401, "<html><body>"), call = "exchangeCode", on = S },
  { "echo-html-edge", invalid(401, "<html><body>xxxx"), call = "exchangeCode", on = S },
  { "echo-html-edge", invalid(401, "<html><body>xxxx"), call = "exchangeRefreshToken", on = S },
  { "echo-oauth", echoed(400, "invalid_grant"), call = "appToken", on = S },
}

-- Token answers, for every grant: what can be used comes back; anything else is INVALID_RESPONSE (a
-- token is never handed on that could not be sent as it came, and nothing raises).
local TOKEN_OK = {
  exchangeCode = function(res, err)
    assert.is_nil(err)
    assert.are.same({ "fresh.Token-1", "fresh-refresh-1" }, { res.accessToken, res.refreshToken })
  end,
  appToken = function(res, err)
    assert.is_nil(err)
    assert.are.equal("fresh.Token-1", res)
  end,
}
TOKEN_OK.exchangeRefreshToken = TOKEN_OK.exchangeCode
for _, how in ipairs { "exchangeCode", "exchangeRefreshToken", "appToken" } do
  CASES[#CASES + 1] = { "token-ok", TOKEN_OK[how], call = how, on = S }
  for _, behaviour in ipairs { "json-number", "json-string", "json-array", "json-null", "not-json", "token-crlf",
    "token-space", "token-refresh-nul", "token-no-expiry", "token-zero-expiry" } do
    CASES[#CASES + 1] = { behaviour, invalid(200, behaviour == "not-json" and
      "The token response is not JSON (its text is not shown: it may hold a token)" or
      "The token response has no usable access_token or expires_in", true), call = how, on = S }
  end
end

-- API V3 answers that say nothing, or echo what the server knows: after a usable token (2 requests)
local function lacking(what) return invalid(nil, "The answer has no " .. what, true) end
for _, case in ipairs {
  { "v3-empty-202", lacking("command outcome (status)"), call = "v3lock" },
  { "v3-no-status", lacking("command outcome (status)"), call = "v3lock" },
  { "v3-empty-202", lacking("resource (an object with an id)"), call = "v3attributes" },
  { "v3-echo-secret", function(res, err)
      assert.is_nil(res)
      assert.are.same({ "VALIDATION", 400, "client secret [REDACTED] and token [REDACTED]" },
        { err.type, err.statusCode, err.description })
    end, call = "v3attributes" },
  { "v3-command-error-echo", function(res, err)
      assert.is_nil(res)
      assert.are.same({ "VEHICLE_STATE", "ASLEEP", "client secret [REDACTED] and token [REDACTED]" },
        { err.type, err.code, err.description })
    end, call = "v3lock" },
} do
  case.on, case.received = S, 2
  CASES[#CASES + 1] = case
end

-- Each transport runs the calls named in `list` on one fresh SDK instance: it
-- returns their outcomes (fault_calls.run) and the instance's user agent.
local function run_here(make)
  return function(origin, list, extra)
    local o = options(origin, extra)
    o.transport = make and make() or nil
    local sc = smartcar.new(o)
    return fault_calls.run(smartcar, sc, list, socket.gettime), sc.userAgent
  end
end

local runner -- the nginx that runs calls on the cosocket transport, started by the first case that needs it
local function run_in_nginx(origin, list, extra)
  runner = runner or nginx.runner()
  local answer = runner.run { origin = origin, options = options(origin, extra), calls = list }
  return answer.outcomes, answer.userAgent
end

local function stop_nginx()
  if runner then runner.stop() end
  runner = nil
end

local TRANSPORTS = {
  { name = "libcurl", run = run_here(nil) },
  { name = "cosockets in nginx", run = run_in_nginx },
  { name = "a custom transport", run = run_here(socket_transport.new), custom = true },
}

local function requests_to(received, behaviour)
  local list = {}
  for _, r in ipairs(received) do
    if r.path:sub(1, #behaviour + 4) == "/b/" .. behaviour .. "/" then list[#list + 1] = r end
  end
  return list
end

-- Check what every call must satisfy; return res, err, elapsed.
local function checked(o)
  assert(o.raised == nil, "raised instead of returning nil, err: " .. tostring(o.raised))
  assert.is_true(o.elapsed < DEADLINE, ("returned after %.2f s, past its deadline"):format(o.elapsed))
  local res, err = o.res, o.err
  assert.are.same({}, leaks(err))
  if res == nil then
    assert.is_true(o.isError, "no SmartcarError: " .. tostring(err))
    assert.are.same({}, leaks(o.shown))
    assert.are.equal("SmartcarError", err.name)
    assert.is_string(err.message)
    assert.are.equal(err.message, o.shown)
  else
    assert.is_nil(err)
  end
  return res, err, o.elapsed
end

-- Run the calls in `list` (one name or several) on `transport`; the checked outcomes.
local function call(transport, origin, list, extra)
  local outcomes, user_agent = transport.run(origin, type(list) == "string" and { list } or list, extra)
  for _, o in ipairs(outcomes) do checked(o) end
  return outcomes, user_agent
end

describe("the fault matrix", function()
  local server
  lazy_setup(function() server = hostile.start() end)
  lazy_teardown(function()
    if server then server.stop() end
    stop_nginx()
  end)

  -- retries (API.md 0.2) come with the retries-and-deadlines work; until then these wait
  local it_retry = retry_supported and it or pending
  it_retry("retry = false is accepted (API.md 0.2), so that each case below is one attempt", function()
    assert.is_true(retry_supported, "smartcar.new{ retry = false } raised")
  end)

  for _, transport in ipairs(TRANSPORTS) do
    describe("via " .. transport.name, function()
      for _, case in ipairs(CASES) do
        local behaviour, check = case[1], case[2]
        local how = case.call or "odometer"
        if case.on == S or not transport.custom then
          it(("%s: %s"):format(behaviour, how), function()
            server.reset()
            local origin = case.origin and case.origin(server) or server.origin(behaviour)
            local o = call(transport, origin, how)[1]
            local res, err, elapsed = o.res, o.err, o.elapsed
            local received = server.requests()
            check(res, err, received, elapsed, not transport.custom)
            local expected = case.received or 1
            assert.are.equal(expected, #received, ("the server received %d requests, not %d"):format(#received, expected))
            if expected == 1 then
              assert.are.equal(WIRE[how][1], received[1].method)
              assert.are.equal("/b/" .. behaviour .. WIRE[how][2], received[1].path)
            end
          end)
        end
      end

      if not transport.custom then
        it("ends a connection that never completes at connectTimeout, told as the connection's timeout", function()
          -- a listener whose backlog is full: the kernel drops the SYNs, the connect never completes
          local listener = assert(socket.bind("127.0.0.1", 0, 1))
          local _, port = listener:getsockname()
          local fillers = {}
          for i = 1, 4 do
            fillers[i] = socket.tcp()
            fillers[i]:settimeout(0)
            fillers[i]:connect("127.0.0.1", port)
          end
          local o = call(transport, "http://127.0.0.1:" .. port, "odometer", { connectTimeout = 300 })[1]
          for _, c in ipairs(fillers) do c:close() end
          listener:close()
          assert.is_nil(o.res)
          assert.are.same({ "SDK_ERROR", "TIMEOUT", "Connection timed out after 300 ms" },
            { o.err.type, o.err.code, o.err.description })
          assert.is_true(o.elapsed < TIMEOUT / 1000, ("%.2f s: past connectTimeout"):format(o.elapsed))
        end)
      end

      it("sends exactly the request asked for: GET", function()
        server.reset()
        local _, user_agent = call(transport, server.origin("ok"), "odometer")
        local received = server.requests()
        assert.are.equal(1, #received)
        local r = received[1]
        assert.are.equal("GET", r.method)
        assert.are.equal("/b/ok/v2.0/vehicles/vid/odometer", r.target)
        assert.are.same({ "Bearer " .. TOKEN }, r.headers.authorization)
        assert.are.same({ "metric" }, r.headers["sc-unit-system"])
        assert.are.same({ user_agent }, r.headers["user-agent"])
        assert.are.same({ "127.0.0.1:" .. server.port }, r.headers.host)
        assert.is_nil(r.headers["content-length"])
        assert.is_nil(r.headers["content-type"])
        assert.are.equal("", r.body)
      end)

      it("sends exactly the request asked for: POST with its JSON body", function()
        server.reset()
        local res = call(transport, server.origin("ok"), "lock")[1].res
        assert.are.equal("success", res.status)
        local received = server.requests()
        assert.are.equal(1, #received)
        local r = received[1]
        assert.are.equal("POST", r.method)
        assert.are.equal("/b/ok/v2.0/vehicles/vid/security", r.target)
        assert.are.same({ "Bearer " .. TOKEN }, r.headers.authorization)
        assert.are.same({ "application/json" }, r.headers["content-type"])
        assert.are.equal('{"action":"LOCK"}', r.body)
        assert.is_nil(r.headers.expect)
      end)

      it("sends exactly the request asked for: the token exchange, Basic credentials and a form", function()
        server.reset()
        call(transport, server.origin("echo-oauth"), "exchangeCode")
        local r = server.requests()[1]
        assert.are.equal("POST", r.method)
        assert.are.equal("/b/echo-oauth/oauth/token", r.path)
        assert.are.same({ "Basic " .. hostile.base64(CLIENT_ID .. ":" .. CLIENT_SECRET) }, r.headers.authorization)
        assert.are.same({ "application/x-www-form-urlencoded" }, r.headers["content-type"])
        local form = {}
        for k, v in r.body:gmatch("([^&=]+)=([^&]*)") do
          form[k] = v:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
        end
        assert.are.equal("authorization_code", form.grant_type)
        assert.are.equal(CODE, form.code)
      end)

      -- The server answers the first request of a connection with keep-alive and closes the
      -- connection on the next one after reading it. A command must reach the server once:
      -- answered (a fresh connection) it succeeds; left unanswered it is a NETWORK error.
      for _, how in ipairs { "lock", "disconnect" } do
        it("a dead keep-alive connection under a command (" .. how .. ") never sends it twice", function()
          server.reset()
          local outcomes = call(transport, server.origin("kadead"), { "odometer", how })
          assert.are.equal(12.5, outcomes[1].res.distance)
          local res, err = outcomes[2].res, outcomes[2].err
          local commands = {}
          for _, r in ipairs(server.requests()) do
            if r.method == WIRE[how][1] then commands[#commands + 1] = r end
          end
          assert.are.equal(1, #commands, ("the command reached the server %d times"):format(#commands))
          if commands[1].n == 1 then
            assert.is_nil(err)
            assert.is_table(res)
          else
            network(res, err)
          end
        end)
      end

      if not transport.custom then
        it("a GET on a keep-alive connection that died unanswered is sent once more, on a fresh one", function()
          server.reset()
          local outcomes = call(transport, server.origin("kadead"), { "odometer", "odometer" })
          assert.are.equal(12.5, outcomes[2].res.distance)
          local received = server.requests()
          assert.are.equal(3, #received)
          assert.are.equal(received[1].conn, received[2].conn)
          assert.are_not.equal(received[2].conn, received[3].conn)
        end)
      end
    end)
  end
end)

;(retry_supported and describe or pending)("retries over faults", function()
  local server
  local RETRY = { attempts = 3, baseDelay = 10, maxDelay = 50 }
  lazy_setup(function() server = hostile.start() end)
  lazy_teardown(function()
    if server then server.stop() end
    stop_nginx()
  end)

  local function run(behaviour, how, transport)
    server.reset()
    local origin = behaviour == "refused" and "http://127.0.0.1:" .. free_port() or server.origin(behaviour)
    local o = call(transport, origin, how, { retry = RETRY })[1]
    return o.res, o.err, requests_to(server.requests(), behaviour), o.elapsed
  end

  for _, transport in ipairs(TRANSPORTS) do
    describe("via " .. transport.name, function()
      it("a GET answered 503 is tried 3 times, and the error says so", function()
        local res, err, received = run("html-503", "odometer", transport)
        invalid(503)(res, err)
        assert.are.equal(3, #received)
        assert.are.equal(3, err.attempts)
      end)

      it("a command answered 503 is sent once", function()
        local res, err, received = run("html-503", "lock", transport)
        invalid(503)(res, err)
        assert.are.equal(1, #received)
        assert.are.equal(1, err.attempts)
      end)

      it("a 429 with a retry-after beyond maxDelay is returned at once", function()
        for _, behaviour in ipairs { "ra-plain-json", "ra-digits30-json", "ra-date-json" } do
          local res, err, received, elapsed = run(behaviour, "odometer", transport)
          assert.is_nil(res)
          assert.are.equal(429, err.statusCode)
          assert.is_number(err.retryAfter)
          assert.are.equal(1, #received)
          assert.is_true(elapsed < 1, ("%s: waited %.2f s"):format(behaviour, elapsed))
        end
      end)

      it("a command over a refused connection is tried again (it was never sent)", function()
        local res, err = run("refused", "lock", transport)
        network(res, err)
        assert.are.equal(3, err.attempts)
      end)

      if transport.custom then return end -- the wire's own cases

      it("a GET that meets a reset is tried 3 times", function()
        local res, err, received = run("reset-headers", "odometer", transport)
        network(res, err)
        assert.are.equal(3, #received)
        assert.are.equal(3, err.attempts)
      end)

      it("a command read by the server and left unanswered is not sent again", function()
        for _, how in ipairs { "lock", "disconnect" } do
          local res, err, received = run("empty", how, transport)
          network(res, err)
          assert.are.equal(1, #received, how)
          assert.are.equal(1, err.attempts, how)
        end
      end)

      it("a command on a dead keep-alive connection is not sent again", function()
        server.reset()
        local outcomes = call(transport, server.origin("kadead"), { "odometer", "lock" }, { retry = RETRY })
        local res, err = outcomes[2].res, outcomes[2].err
        local posts = {}
        for _, r in ipairs(server.requests()) do
          if r.method == "POST" then posts[#posts + 1] = r end
        end
        assert.are.equal(1, #posts, ("the command reached the server %d times"):format(#posts))
        if posts[1].n == 1 then
          assert.are.equal("success", res.status)
        else
          network(res, err)
          assert.are.equal(1, err.attempts)
        end
      end)

      it("a GET on a dead keep-alive connection succeeds", function()
        server.reset()
        local outcomes = call(transport, server.origin("kadead"), { "odometer", "odometer" }, { retry = RETRY })
        assert.are.equal(12.5, outcomes[2].res.distance)
      end)
    end)
  end
end)
