-- A bad-input matrix over the whole public API: every public function and method,
-- enumerated from the live module, called with each hostile value in each argument
-- position (and in each option, and inside the lists and maps it takes), the other
-- arguments valid. Each call must either raise a string error in the SDK's one message
-- style, naming the function and blaming the right argument on the caller's line, or
-- return a result (or `nil, err` with `err` a SmartcarError). Afterwards no request the
-- emulator recorded may carry a NUL, CR or LF byte in its method, path, query, headers
-- or body. Cases that bring the whole process down run in a child interpreter.
local smartcar = require "smartcar"
local libcurl = require "smartcar.transport.libcurl"
local endpoints = require "smartcar.endpoints"
local H = require "helper"

local unpack = table.unpack or unpack
local load = loadstring or load
local SmartcarError = smartcar.SmartcarError

local function pack(...) return { n = select("#", ...), ... } end

---------------------------------------------------------------------------
-- The hostile values
---------------------------------------------------------------------------

local MB = string.rep("x", 1024 * 1024)
local SENTINEL = {} -- hostile-table -> the error its metamethod raises

local function raising(event)
  local message = "hostile " .. event
  local t = setmetatable({}, { [event] = function() error(message, 0) end })
  SENTINEL[t] = message
  return t
end

local HOSTILE = {
  { name = "nil", value = nil },
  { name = "true", value = true },
  { name = "false", value = false },
  { name = "0", value = 0 },
  { name = "-1", value = -1 },
  { name = "1e308", value = 1e308 },
  { name = "-1e308", value = -1e308 },
  { name = "NaN", value = 0 / 0 },
  { name = "math.huge", value = math.huge },
  { name = "-math.huge", value = -math.huge },
  { name = "empty string", value = "" },
  { name = "1 MB string", value = MB },
  { name = "a\\0b", value = "a\0b" },
  { name = "a\\r\\nX-Evil: 1", value = "a\r\nX-Evil: 1" },
  { name = "a\\nb", value = "a\nb" },
  { name = "a table", value = {} },
  { name = "table with raising __index", value = raising("__index") },
  { name = "table with raising __pairs", value = raising("__pairs") },
  { name = "table with raising __len", value = raising("__len") },
  { name = "a coroutine", value = coroutine.create(function() end) },
  { name = "a userdata (io.stdout)", value = io.stdout },
  { name = "a function", value = function() end },
}

local function has_bad_byte(s)
  return type(s) == "string" and s:find("[%z\r\n]") ~= nil
end

---------------------------------------------------------------------------
-- The valid context: one instance (the module's configuration stays untouched),
-- a fresh token, a vehicle, an AuthClient. Filled in by setup().
---------------------------------------------------------------------------

local C = {}
local sc

local function fresh_instance()
  return smartcar.new { origin = H.origin, timeout = 3000 }
end

-- A raw transport URL: the emulator's records of these are exempt from the body check
-- (the transport sends a body exactly as given, line breaks included).
local RAW_QUERY = "bad_input=raw"

---------------------------------------------------------------------------
-- The API table: one entry per public function.
--   target(C)   the table or object the function is called on
--   self(C)     for methods: the class table (hostile self: `Class.m(bad, ...)`)
--   args(C)     the valid arguments (fresh tables every call), arity = #params
--   options     [position] = { option keys } to put hostile values in
--   nested      { {label, pos, set = function(args, h) end, option = key|nil} ... }
--   returns     "sdk" (result | nil, SmartcarError), "nothing", "transport" (also start: an id),
--               "many" (a table: all, loop, poll), "session", "iterator" (a paging iterator),
--               "boolean"
--   names       the names its messages may use for it
---------------------------------------------------------------------------

local API = {}

local function entry(key, e)
  e.key = key
  e.method_name = e.method_name or key:match("([%w_]+)$")
  e.names = e.names or { e.method_name }
  e.returns = e.returns or "sdk"
  e.options = e.options or {}
  e.nested = e.nested or {}
  API[key] = e
end

local function inst(cx) return cx.sc end

local COMPAT_KEYS = { "clientId", "clientSecret", "mode", "testMode", "testModeCompatibilityLevel", "flags", "version" }
local MATRIX_KEYS = { "clientId", "clientSecret", "mode", "testMode", "testModeCompatibilityLevel", "scope", "make",
  "type", "version", "flags" }
-- (API.md's keys not implemented yet must raise "unknown option" meanwhile)
local CONFIG_KEYS = { "origin", "apiOrigin", "authOrigin", "connectOrigin", "vehicleOrigin", "managementOrigin",
  "iamOrigin", "managementApiOrigin", "timeout", "connectTimeout", "maxResponseSize", "apiVersion", "transport",
  "caFile", "caPath", "retry", "onResponse" }
local LIMIT_KEYS = { "timeout", "connectTimeout", "maxResponseSize", "caFile", "caPath" }
local AUTH_KEYS = { "clientId", "clientSecret", "redirectUri", "mode", "testMode" }
local URL_KEYS = { "forcePrompt", "state", "makeBypass", "singleSelect", "flags", "user", "externalId" }

local function credentials()
  return { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET, mode = "test" }
end

local function flags_nested(pos)
  return {
    { label = "flags value", pos = pos, option = "flags", set = function(a, h) a[pos].flags = { country = h } end },
    { label = "flags name", pos = pos, option = "flags", set = function(a, h)
      if h ~= nil and h == h then a[pos].flags = { [h] = "x" } end
    end },
  }
end

-- Module functions (of an instance)
entry("new", { target = inst, params = { "options" },
  args = function() return { { origin = H.origin, timeout = 3000 } } end,
  options = { [1] = CONFIG_KEYS } })
entry("configure", { target = function() return fresh_instance() end, params = { "options" },
  args = function() return { { timeout = 3000 } } end, returns = "nothing",
  options = { [1] = CONFIG_KEYS } })
entry("getConfig", { target = inst, params = {}, args = function() return {} end })
entry("setApiVersion", { target = function() return fresh_instance() end, params = { "version" },
  args = function() return { "2.0" } end, returns = "nothing" })
entry("getApiVersion", { target = inst, params = {}, args = function() return {} end })
entry("isExpired", { target = inst, params = { "expiration" }, args = function() return { os.time() + 60 } end })
entry("getUser", { target = inst, params = { "accessToken" }, args = function(cx) return { cx.token } end })
entry("getVehicles", { target = inst, params = { "accessToken", "paging" },
  args = function(cx) return { cx.token, { limit = 10, offset = 0 } } end,
  options = { [2] = { "limit", "offset" } } })
entry("getVehicle", { target = inst, params = { "accessToken", "vehicleId" },
  args = function(cx) return { cx.token, cx.vehicleId } end })
entry("getCompatibility", { target = inst, params = { "vin", "scope", "country", "options" },
  args = function() return { "5YJSA1E29HF000001", { "read_odometer" }, "US", credentials() } end,
  options = { [4] = COMPAT_KEYS },
  nested = {
    { label = "scope entry", pos = 2, set = function(a, h) a[2] = { h } end },
    flags_nested(4)[1], flags_nested(4)[2],
  } })
entry("getCompatibilityMatrix", { target = inst, params = { "region", "options" },
  args = function() return { "US", credentials() } end,
  options = { [2] = MATRIX_KEYS },
  nested = {
    { label = "scope entry", pos = 2, option = "scope", set = function(a, h) a[2].scope = { h } end },
    { label = "make entry", pos = 2, option = "make", set = function(a, h) a[2].make = { h } end },
    flags_nested(2)[1], flags_nested(2)[2],
  } })
entry("getConnections", { target = inst, params = { "amt", "filter", "paging" },
  args = function() return { H.AMT, { userId = "nobody" }, { limit = 5 } } end,
  options = { [2] = { "userId", "vehicleId" }, [3] = { "limit", "cursor" } } })
entry("deleteConnections", { target = inst, params = { "amt", "filter" },
  args = function() return { H.AMT, { userId = "nobody" } } end,
  options = { [2] = { "userId", "vehicleId" } } })
entry("hashChallenge", { target = inst, params = { "amt", "challenge" },
  args = function() return { H.AMT, "challenge" } end })
entry("verifyPayload", { target = inst, params = { "amt", "signature", "body" },
  args = function() return { H.AMT, "0123abcd", '{"a":1}' } end })
entry("parseWebhook", { target = inst, params = { "amt", "headers", "rawBody" },
  args = function() return { H.AMT, { ["SC-Signature"] = "0123abcd" }, '{"eventType":"VERIFY"}' } end,
  nested = { { label = "header value", pos = 2, set = function(a, h) a[2] = { ["SC-Signature"] = h } end } } })
entry("webhookChallenge", { target = inst, params = { "amt", "event" },
  args = function() return { H.AMT, { type = "VERIFY", challenge = "c" } } end,
  nested = { { label = "challenge", pos = 2, set = function(a, h) a[2] = { type = "VERIFY", challenge = h } end } } })
entry("parseCallback", { target = inst, params = { "urlOrQuery" },
  args = function() return { "https://example.com/callback?code=c&state=s&year=2015" } end })
entry("fanOut", { target = inst, params = { "vehicles", "method", "options" },
  args = function(cx) return { { cx.vehicle }, "odometer", { concurrency = 2 } } end,
  options = { [3] = { "concurrency" } },
  nested = { { label = "vehicles entry", pos = 1, set = function(a, h) a[1] = { h } end } } })

entry("eachVehicleId", { target = inst, params = { "accessToken", "options" },
  args = function(cx) return { cx.token, { pageSize = 5 } } end, options = { [2] = { "pageSize" } },
  returns = "iterator" })
entry("eachConnection", { target = inst, params = { "amt", "filter", "options" },
  args = function() return { H.AMT, { userId = "nobody" }, { pageSize = 5 } } end,
  options = { [2] = { "userId", "vehicleId" }, [3] = { "pageSize" } }, returns = "iterator" })
entry("all", { target = inst, params = { "tasks", "options" },
  args = function(cx) return { { function() return cx.vehicle:odometer() end }, { concurrency = 2 } } end,
  options = { [2] = { "concurrency" } }, returns = "many",
  nested = { { label = "tasks entry", pos = 1, set = function(a, h) a[1] = { h } end } } })
entry("loop", { target = inst, params = { "options" }, args = function() return { { concurrency = 2 } } end,
  options = { [1] = { "concurrency" } }, returns = "many" })

-- SmartcarError
entry("SmartcarError.is", { target = function(cx) return cx.sc.SmartcarError end, params = { "value" },
  args = function() return { "x" } end, names = { "is", "SmartcarError.is" } })

-- AuthClient
local function client_of(cx) return cx.client end
local function auth_class(cx) return cx.sc.AuthClient end
entry("AuthClient.new", { target = auth_class, params = { "options" },
  args = function()
    return { { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET, redirectUri = H.REDIRECT_URI, mode = "test" } }
  end, names = { "AuthClient.new" }, options = { [1] = AUTH_KEYS } })
entry("AuthClient.getAuthUrl", { target = client_of, self = auth_class, params = { "scope", "options" },
  args = function() return { { "read_odometer" }, { state = "s" } } end,
  options = { [2] = URL_KEYS },
  nested = {
    { label = "scope entry", pos = 1, set = function(a, h) a[1] = { h } end },
    { label = "singleSelect.vin", pos = 2, option = "singleSelect", also = "vin",
      set = function(a, h) a[2].singleSelect = { vin = h } end },
    { label = "singleSelect.enabled", pos = 2, option = "singleSelect", also = "enabled",
      set = function(a, h) a[2].singleSelect = { enabled = h } end },
    flags_nested(2)[1], flags_nested(2)[2],
  } })
for _, m in ipairs { "exchangeCode", "exchangeRefreshToken" } do
  entry("AuthClient." .. m, { target = client_of, self = auth_class, params = { "value", "options" },
    args = function() return { "not-a-real-code", { flags = { country = "US" } } } end,
    options = { [2] = { "flags" } }, nested = flags_nested(2) })
end

-- Application (API V3)
local function app_of(cx) return cx.app end
local function app_class(cx) return cx.sc.Application end
entry("Application.new", { target = app_class, params = { "options" },
  args = function() return { { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET, commandTimeout = 310000 } } end,
  names = { "Application.new" }, options = { [1] = { "clientId", "clientSecret", "commandTimeout" } } })
local function amethod(name, e)
  e.target, e.self = app_of, app_class
  entry("Application." .. name, e)
end
amethod("token", { params = {}, args = function() return {} end })
amethod("webhooks", { params = {}, args = function() return {} end })
amethod("applications", { params = {}, args = function() return {} end })
for _, m in ipairs { { "getConnection", "connectionId" }, { "deleteConnection", "connectionId" },
  { "deleteUser", "userId" }, { "getWebhook", "webhookId" }, { "unsubscribe", "subscriptionId" },
  { "getSubscription", "subscriptionId" }, { "getApplication", "applicationId" },
  { "applicationSecrets", "applicationId" } } do
  amethod(m[1], { params = { m[2] }, args = function() return { "nobody" } end })
end
amethod("subscribe", { params = { "webhookId", "vehicleId", "userId" },
  args = function(cx) return { H.WEBHOOK_ID, cx.vehicleId, "nobody" } end })
amethod("vehicle", { params = { "vehicleId", "userId" }, args = function(cx) return { cx.vehicleId, "nobody" } end })
amethod("eachConnection", { params = { "options" },
  args = function() return { { userId = "nobody", vehicleId = "none", mode = "live", pageSize = 5 } } end,
  options = { [1] = { "userId", "vehicleId", "mode", "pageSize" } }, returns = "iterator" })
amethod("eachSubscription", { params = { "options" },
  args = function() return { { webhookId = H.WEBHOOK_ID, userId = "nobody", vehicleId = "none", mode = "live",
    pageSize = 5 } } end,
  options = { [1] = { "webhookId", "userId", "vehicleId", "mode", "pageSize" } }, returns = "iterator" })

-- Vehicle
local function vehicle_of(cx) return cx.vehicle end
local function vehicle_class(cx) return cx.sc.Vehicle end
entry("Vehicle.new", { target = vehicle_class, params = { "id", "accessToken", "options" },
  args = function(cx) return { cx.vehicleId, cx.token, { unitSystem = "metric", version = "2.0" } } end,
  names = { "Vehicle.new" }, options = { [3] = { "unitSystem", "version", "flags" } }, nested = flags_nested(3) })
-- the endpoints without arguments are data (smartcar.endpoints); every other method is listed by hand
for _, e in ipairs(endpoints) do
  entry("Vehicle." .. e.name, { target = vehicle_of, self = vehicle_class, params = {},
    args = function() return {} end })
end
local function vmethod(name, e)
  e.target, e.self = vehicle_of, vehicle_class
  entry("Vehicle." .. name, e)
end
vmethod("permissions", { params = { "paging" }, args = function() return { { limit = 5, offset = 0 } } end,
  options = { [1] = { "limit", "offset" } } })
vmethod("serviceHistory", { params = { "startDate", "endDate" },
  args = function() return { "2020-01-01", "2024-01-01" } end })
vmethod("setChargeLimit", { params = { "limit" }, args = function() return { 0.8 } end })
vmethod("sendDestination", { params = { "latitude", "longitude" }, args = function() return { 37.4, -122.1 } end })
vmethod("subscribe", { params = { "webhookId" }, args = function() return { H.WEBHOOK_ID } end })
vmethod("unsubscribe", { params = { "amt", "webhookId" }, args = function() return { H.AMT, H.WEBHOOK_ID } end })
vmethod("batch", { params = { "paths" }, args = function() return { { "/odometer" } } end,
  nested = { { label = "paths entry", pos = 1, set = function(a, h) a[1] = { h } end } } })
vmethod("request", { params = { "method", "path", "body", "headers", "apiVersion" },
  args = function() return { "POST", "/security", { action = "LOCK" }, { ["x-extra"] = "1" }, "2.0" } end,
  nested = {
    { label = "body value", pos = 3, set = function(a, h) a[3] = { action = h } end },
    { label = "header value", pos = 4, set = function(a, h) a[4] = { ["x-extra"] = h } end },
    { label = "header name", pos = 4, set = function(a, h)
      if h ~= nil and h == h then a[4] = { [h] = "1" } end
    end },
  } })
vmethod("eachPermission", { params = { "options" }, args = function() return { { pageSize = 5 } } end,
  options = { [1] = { "pageSize" } }, returns = "iterator" })
vmethod("setUnitSystem", { params = { "unitSystem" }, args = function() return { "imperial" } end,
  returns = "nothing" })
vmethod("getSignals", { params = {}, args = function() return {} end })
vmethod("getSignal", { params = { "code" }, args = function() return { "odometer-traveleddistance" } end })

-- Transports: the methods of each transport object, and the libcurl module
local function raw_url() return H.origin .. "/v2.0/user?" .. RAW_QUERY end
local function session_methods(cx) return getmetatable(cx.sc.transports.libcurl).__index end
local SESSION_HEADERS = { -- the headers argument (#3) of request and start
  { label = "header value", pos = 3, set = function(a, h) a[3] = { ["x-extra"] = h } end },
  { label = "header name", pos = 3, set = function(a, h)
    if h ~= nil and h == h then a[3] = { [h] = "1" } end
  end },
}
entry("transports.libcurl.request", { target = function(cx) return cx.sc.transports.libcurl end,
  self = session_methods, params = { "method", "url", "headers", "body", "limits" },
  args = function(cx)
    return { "GET", raw_url(), { authorization = "Bearer " .. cx.token }, nil, { timeout = 3000 } }
  end, returns = "transport", names = { "request", "Session:request" }, wire = { [1] = true, [2] = true },
  options = { [5] = LIMIT_KEYS },
  nested = SESSION_HEADERS })
entry("transports.libcurl.start", { target = function(cx) return cx.sc.transports.libcurl end,
  self = session_methods, params = { "method", "url", "headers", "body", "limits" },
  args = function(cx)
    return { "GET", raw_url(), { authorization = "Bearer " .. cx.token }, nil, { timeout = 3000 } }
  end, returns = "transport", names = { "start", "Session:start" }, wire = { [1] = true, [2] = true },
  options = { [5] = LIMIT_KEYS },
  nested = SESSION_HEADERS })
entry("transports.libcurl.poll", { target = function(cx) return cx.sc.transports.libcurl end,
  self = session_methods, params = { "ms" }, args = function() return { 0 } end, returns = "many",
  names = { "poll", "Session:poll" } })
entry("transports.libcurl.close", { target = function() return libcurl.new() end, -- never the shared one
  self = session_methods, params = {}, args = function() return {} end, returns = "nothing",
  names = { "close", "Session:close" } })
-- the socket API (the luv driver's): on Sessions of their own, never the shared one
local function nop() end
entry("transports.libcurl.watch", { target = function() return libcurl.new() end,
  self = session_methods, params = { "onSocket", "onTimer" }, args = function() return { nop, nop } end,
  returns = "nothing", names = { "watch", "Session:watch" } })
local function watched_session()
  local session = libcurl.new()
  session:watch(nop, nop)
  return session
end
entry("transports.libcurl.socketAction", { target = watched_session,
  self = session_methods, params = { "fd", "events" }, args = function() return { 0, "r" } end,
  returns = "many", names = { "socketAction", "Session:socketAction" } })
entry("transports.libcurl.watched", { target = function(cx) return cx.sc.transports.libcurl end,
  self = session_methods, params = {}, args = function() return {} end,
  returns = "boolean", names = { "watched", "Session:watched" } })
entry("transports.libcurl.timeout", { target = watched_session,
  self = session_methods, params = {}, args = function() return {} end,
  returns = "many", names = { "timeout", "Session:timeout" } })
entry("libcurl.new", { target = function() return libcurl end, params = { "limits" },
  args = function() return { { timeout = 3000 } } end, returns = "session", names = { "new", "libcurl.new" },
  options = { [1] = LIMIT_KEYS } })
entry("libcurl.default", { target = function() return libcurl end, params = {}, args = function() return {} end,
  returns = "session", names = { "default", "libcurl.default" } })

---------------------------------------------------------------------------
-- Enumerating the live API
---------------------------------------------------------------------------

local function public_functions(sdk)
  local names = {}
  local function add(prefix, t)
    for k, f in pairs(t) do
      if type(f) == "function" and not tostring(k):match("^__") then names[#names + 1] = prefix .. k end
    end
  end
  for k, v in pairs(sdk) do
    if type(v) == "function" then
      names[#names + 1] = k
    elseif type(v) == "table" and k ~= "transports" then
      add(k .. ".", v)
    end
  end
  for k, t in pairs(sdk.transports) do
    local mt = getmetatable(t)
    local methods = type(t) == "table" and t or (mt and type(mt.__index) == "table" and mt.__index) or {}
    add("transports." .. k .. ".", methods)
  end
  add("libcurl.", libcurl)
  return names
end

---------------------------------------------------------------------------
-- Running one case and judging it
---------------------------------------------------------------------------

local function is_identifier(s) return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil end

-- The call is made from a chunk of its own, on its line 1, so that the blame can be checked:
-- a programmer error must point at "caller:1:".
local function make_caller(e, style)
  assert(is_identifier(e.method_name), e.key)
  local src
  if style == "method" then
    src = "local o, pack = ... return function(...) return pack(o:" .. e.method_name .. "(...)) end"
  else
    src = "local t, pack = ... return function(...) return pack(t." .. e.method_name .. "(...)) end"
  end
  return assert(load(src, "=caller"))
end

local function describe_value(v)
  local t = type(v)
  if t == "string" then
    if #v > 40 then return ("string of %d bytes"):format(#v) end
    return (("%q"):format(v):gsub("\r", "\\r"):gsub("\n", "n"):gsub("%z", "\\0"))
  elseif t == "number" or t == "boolean" or t == "nil" then
    return tostring(v)
  end
  return t
end

local function short(s, n)
  s = tostring(s)
  n = n or 300
  s = s:gsub("%z", "\\0"):gsub("\r", "\\r"):gsub("\n", "\\n")
  if #s > n then s = s:sub(1, n) .. ("... (%d bytes)"):format(#s) end
  return s
end

local STYLES = {
  function(m) local n, f = m:match("^bad argument #(%d+) to '([%w.:]+)' %(.+%)$"); return "arg", f, tonumber(n) end,
  function(m) local k, f = m:match("^bad option '(%w+)' to '([%w.:]+)' %(.+%)$"); return "option", f, k end,
  function(m) local k, f = m:match("^unknown option '(%w+)' to '([%w.:]+)'$"); return "unknown", f, k end,
  function(m) local f = m:match("^calling '(%w+)' on bad self %(%w+ expected, got [%w ]+%)$"); return "self", f end,
}

local function contains(list, x)
  for _, y in ipairs(list or {}) do if y == x then return true end end
  return false
end

-- How a raised error is judged. `case` = { pos = argument position (0: self; > arity: extra),
-- option = the option key made hostile (or nil), value = the hostile value }.
local function judge_raise(e, case, err)
  if type(err) ~= "string" then
    return "raised a " .. type(err) .. " instead of a string message"
  end
  local sentinel = SENTINEL[case.value]
  if sentinel and err == sentinel then return nil end -- the caller's own metamethod error, passed through
  if #err > 2000 then return ("raised a message of %d bytes: %s"):format(#err, short(err, 120)) end
  if err:find("[%z\r\n]") then return "raised a message with a NUL/CR/LF byte: " .. short(err) end
  local where, message = err:match("^([^:]*:%d+): (.*)$")
  if where ~= "caller:1" then
    return "message does not point at the caller's line (" .. tostring(where) .. "): " .. short(err)
  end
  for _, style in ipairs(STYLES) do
    local kind, f, x = style(message)
    if f then
      if not contains(e.names, f) then return "message names '" .. f .. "': " .. short(err) end
      if kind == "arg" then
        if case.pos == 0 and x == 1 and case.self_call then return nil end
        if case.pos > #e.params then
          if x > #e.params then return nil end
        elseif x == case.pos then
          return nil
        end
        return "blames argument #" .. x .. " instead of #" .. case.pos .. ": " .. short(err)
      elseif kind == "option" or kind == "unknown" then
        local keys = e.options[case.pos] or {}
        if (case.option and (x == case.option or x == case.also)) or (not case.option and contains(keys, x)) then
          return nil
        end
        return "blames option '" .. x .. "': " .. short(err)
      elseif kind == "self" then
        if case.pos == 0 and f == e.method_name then return nil end
        return "blames self: " .. short(err)
      end
    end
  end
  return "message not in the SDK's style: " .. short(err)
end

local function judge_return(e, case, r)
  local how = e.returns
  if how == "nothing" then
    if r[1] == nil and (r.n < 2 or r[2] == nil) then return nil end
    if r[1] == nil and SmartcarError.is(r[2]) then return nil end
    return "returned " .. describe_value(r[1])
  elseif how == "transport" then
    if type(r[1]) == "number" then
      local v = case.value
      if e.wire and e.wire[case.pos] and not case.option and type(v) == "string"
        and (has_bad_byte(v) or (case.pos == 1 and not v:match("^[%w!#$%%&'*+.^_`|~-]+$"))) then
        return "sent " .. describe_value(v) .. " to the server (status " .. r[1] .. ") instead of raising"
      end
      return nil
    end
    if r[1] == nil and (r[2] == "TIMEOUT" or r[2] == "NETWORK" or r[2] == "INVALID_RESPONSE")
      and type(r[3]) == "string" then
      return nil
    end
    return "returned " .. describe_value(r[1]) .. ", " .. describe_value(r[2])
  elseif how == "many" then
    if type(r[1]) == "table" then return nil end
    return "returned " .. describe_value(r[1])
  elseif how == "iterator" then -- its first step: an item, the end, or false and a SmartcarError
    if type(r[1]) ~= "function" then return "returned " .. describe_value(r[1]) end
    local ok, item, err = pcall(r[1])
    if not ok then return "its first step raised: " .. short(item) end
    if item == false and not SmartcarError.is(err) then return "its first step failed without a SmartcarError" end
    return nil
  elseif how == "session" then
    if type(r[1]) == "userdata" and tostring(r[1]):match("^Session") then return nil end
    return "returned " .. describe_value(r[1])
  elseif how == "boolean" then
    if type(r[1]) == "boolean" then return nil end
    return "returned " .. describe_value(r[1])
  end
  -- sdk: result | nil, SmartcarError
  if r[1] ~= nil then return nil end
  if r.n >= 2 and SmartcarError.is(r[2]) then
    local err = r[2]
    if has_bad_byte(case.value) and err.type == "SDK_ERROR" and err.statusCode == 400 then
      return "the server could not parse the request (a raw NUL/CR/LF on the wire?): " .. short(err.message)
    end
    return nil
  end
  return "returned nil and " .. describe_value(r[2]) .. " (" .. describe_value(r.n >= 2 and r[2] or nil)
    .. ") instead of a SmartcarError"
end

local function case_id(e, case)
  return ("%s#%d%s=%s"):format(e.key, case.pos, case.label and ("." .. case.label) or "", case.name)
end

-- Cases that bring the whole process down (or never end) run in a child interpreter, stopped after
-- CHILD_SECONDS (see run_children).
local function isolated(e, case)
  -- a NUL in a flags name: the name is read back truncated at the NUL, its value is not found, and
  -- (NULL, an uninitialised length) is pushed as a string: a segfault, or a bogus "not enough memory"
  if case.label == "flags name" and type(case.value) == "string" and case.value:find("%z") then return true end
  -- a bad header on the raw transport: the header list libcurl still points to is freed before the
  -- raise; the next request with an equal (e.g. empty) list makes libcurl read freed memory
  if e.key == "transports.libcurl.request" and (case.label == "header value" or case.label == "header name") then
    return true
  end
  -- a long value in a query: the query builder adds to a luaL_Buffer with two values pushed above it, so the
  -- buffer's growth corrupts the stack (garbage bytes in the URL, a scrambled query, or a segfault);
  -- a long secret (token, AMT, code, client credentials): the redaction of a failed call's error is
  -- quadratic in the secret's length (minutes for 1 MB)
  if case.value == MB then return true end
  return false
end

local function run_case(e, case)
  local valid = e.args(C)
  local args, n = {}, #e.params
  for i = 1, n do args[i] = valid[i] end
  local target, style
  if case.pos == 0 then
    target, style = e.self(C), "field"
    for i = n, 1, -1 do args[i + 1] = args[i] end
    args[1] = case.value
    n = n + 1
    case.self_call = true
  else
    target = e.target(C)
    style = e.self and "method" or "field"
    if case.set then
      case.set(args, case.value)
    elseif case.option then
      args[case.pos][case.option] = case.value
    elseif case.extra then
      for i, x in ipairs(case.extra) do args[n + i] = x end
      n = n + #case.extra
    else
      args[case.pos] = case.value
    end
  end
  local call = make_caller(e, style)(target, pack)
  local ok, r = pcall(call, unpack(args, 1, n))
  if not ok then return judge_raise(e, case, r) end
  return judge_return(e, case, r)
end

-- Every case of one entry.
local function cases_of(e)
  local list = {}
  local function add(c) list[#list + 1] = c end
  for _, h in ipairs(HOSTILE) do
    if e.self then add { pos = 0, name = h.name, value = h.value } end
    for pos = 1, #e.params do add { pos = pos, name = h.name, value = h.value } end
    for pos = 1, #e.params do
      for _, k in ipairs(e.options[pos] or {}) do
        add { pos = pos, option = k, label = k, name = h.name, value = h.value }
      end
    end
    for _, nest in ipairs(e.nested) do
      add { pos = nest.pos, option = nest.option, also = nest.also, label = nest.label, set = nest.set, name = h.name,
        value = h.value }
    end
  end
  add { pos = #e.params + 1, name = "one extra argument", extra = { "extra" } }
  add { pos = #e.params + 1, name = "three extra arguments", extra = { "extra", {}, 42 } }
  return list
end

local function find_case(id)
  for _, e in pairs(API) do
    for _, case in ipairs(cases_of(e)) do
      if case_id(e, case) == id then return e, case end
    end
  end
end

-- After a case, the transport it used must still serve a request (with an empty header list).
local function follow_up()
  local status, code = C.sc.transports.libcurl:request("GET", H.origin .. "/v2.0/user?" .. RAW_QUERY, {}, nil,
    { timeout = 3000 })
  if type(status) ~= "number" then return "the transport is broken afterwards: " .. tostring(code) end
end

local function fill_context(token, vehicleId)
  sc = fresh_instance()
  C.sc, C.token, C.vehicleId = sc, token, vehicleId
  C.vehicle = sc.Vehicle.new(vehicleId, token)
  C.client = sc.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
    redirectUri = H.REDIRECT_URI, mode = "test" }
  C.app = sc.Application.new { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET }
end

-- Probes: behaviour a single hostile call cannot show (what reached the wire, options read through
-- a proxy); run in a child too, since the bugs they look for corrupt memory.
local function last_request(suffix)
  local list = H.requests()
  for i = #list, 1, -1 do
    if list[i].path:sub(-#suffix) == suffix then return list[i] end
  end
end

-- The URL one call hands to its transport (an instance with a capturing transport of its own).
local function url_sent(call)
  local url
  local capture = smartcar.new { origin = H.origin, transport = function(_, u)
    url = u
    return nil, "NETWORK", "captured"
  end }
  local ok, err = pcall(call, capture)
  if not ok then return nil, "raised: " .. short(err) end
  return url or "", nil
end

local PROBES = {
  ["a 3 KB query value reaches the wire intact (Vehicle:serviceHistory)"] = function()
    local date = ("2"):rep(3000)
    local ok, err = pcall(C.vehicle.serviceHistory, C.vehicle, date)
    if not ok then return "raised: " .. short(err) end
    local r = last_request("/service/history")
    if not r then return "no request was recorded" end
    if r.query ~= "start_date=" .. date then
      return ("the query sent is %d bytes, not the %d asked for: %s"):format(#r.query, #date + 11, short(r.query, 60))
    end
  end,
  -- 3 KB must arrive intact; 100 KB may instead be refused as a programmer error, in the one style
  ["long query values reach the transport intact (serviceHistory, getVehicles, getCompatibility)"] = function()
    local calls = {
      { "serviceHistory", "start_date=", function(sdk, v) return sdk.Vehicle.new("id", "t"):serviceHistory(v) end,
        function(url) return url:match("%?(.*)$") end },
      { "getVehicles", "limit=", function(sdk, v) return sdk.getVehicles("t", { limit = v }) end,
        function(url) return url:match("%?(.*)$") end },
      { "getCompatibility", "vin=", function(sdk, v) return sdk.getCompatibility(v, { "read_vin" }, "US", credentials()) end,
        function(url) return url:match("[?&](vin=.*)$") end },
    }
    for _, n in ipairs { 3000, 100000 } do
      local value = ("2"):rep(n)
      for _, c in ipairs(calls) do
        local name, prefix, call, query = c[1], c[2], c[3], c[4]
        local url, problem = url_sent(function(sdk) return call(sdk, value) end)
        if problem then
          local styled = problem:match("^raised: [^:]*:%d+: bad argument #%d to '" .. name .. "' %(.*%)$")
            or problem:match("^raised: [^:]*:%d+: bad option '%w+' to '" .. name .. "' %(.*%)$")
          if n < 10000 or not styled then return ("%s(<%d bytes>): %s"):format(name, n, problem) end
        elseif query(url) ~= prefix .. value then
          return ("%s(<%d bytes>) built a wrong query (%d bytes): %s"):format(name, n, #url, short(url, 80))
        end
      end
    end
  end,
  -- an options object whose fields come from __index (a proxy, a config reader) hands out fresh strings
  -- that nothing else references: the SDK reads option tables raw (no metamethods), so such fields are
  -- not seen, and nothing is ever kept of a string once it is off the SDK's stack
  ["options read through an __index proxy (fresh strings)"] = function()
    collectgarbage("setpause", 0)
    collectgarbage("setstepmul", 1000)
    local n = 300000
    for i = 1, 50 do
      local proxy = setmetatable({}, { __index = function(_, k)
        if k == "state" then return ("s"):rep(n) .. i end
        if k == "user" then return ("u"):rep(n) .. i end
      end })
      local url = C.client:getAuthUrl({ "read_vin" }, proxy)
      if url:find("[?&]state=") or url:find("[?&]user=") then return "getAuthUrl read options through __index" end
      local creds = setmetatable({ clientSecret = "k" }, { __index = function(_, k)
        if k == "clientId" then return ("c"):rep(n) .. i end
      end })
      local ok, err = pcall(C.sc.AuthClient.new, creds)
      if ok and err.clientId ~= os.getenv("SMARTCAR_CLIENT_ID") then return "AuthClient.new read options through __index" end
      if not ok and not tostring(err):find("bad option 'clientId' to 'AuthClient.new' (missing", 1, true) then
        return "AuthClient.new raised " .. short(err)
      end
      local units = setmetatable({}, { __index = function(_, k)
        if k == "unitSystem" then return ("imp"):rep(1) .. "erial" end
        if k == "version" then return ("1"):rep(1) .. ".0" end
      end })
      local v = C.sc.Vehicle.new("id", "token", units)
      if v.unitSystem ~= "metric" or v.version ~= C.sc.getApiVersion() then return "Vehicle.new read options through __index" end
    end
  end,
}

-- The child: run one job of the list (a case, then a request on the same transport; or a probe)
-- and print the verdict.
local JOB = tonumber(os.getenv("SMARTCAR_BAD_INPUT_JOB") or "")
if JOB then
  fill_context(os.getenv("SMARTCAR_BAD_INPUT_TOKEN"), os.getenv("SMARTCAR_BAD_INPUT_VEHICLE"))
  local kind, id
  local n = 0
  for line in io.lines(os.getenv("SMARTCAR_BAD_INPUT_JOBS")) do
    n = n + 1
    if n == JOB then kind, id = line:match("^(%u+)\t(.*)$") end
  end
  local ok, problem
  if kind == "CASE" then
    local e, case = find_case(id)
    ok, problem = pcall(run_case, assert(e, id), case)
    if ok and not problem then problem = follow_up() end
  else
    ok, problem = pcall(assert(PROBES[id], id))
  end
  if not ok then problem = "the spec itself failed: " .. short(problem) end
  io.write("\nVERDICT ", problem or "ok", "\n")
  io.flush()
  os.exit(0)
end

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local SPEC_FILE = debug.getinfo(1, "S").source:match("^@(.*)$")
local INTERPRETER = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))

local CHILD_SECONDS = 10 -- a child still running after this long is a hang
local PARALLEL = 8

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local out = f:read("*a")
  f:close()
  return out
end

-- How a child ended: its verdict (nil when all was well), or how it died.
local function child_verdict(out)
  local verdict = out:match("\nVERDICT ([^\n]*)\n")
  if verdict then return verdict ~= "ok" and verdict or nil end
  local status = tonumber(out:match("EXIT:(%d+)%s*$"))
  if status == 124 then return ("did not finish within %d s (a hang)"):format(CHILD_SECONDS) end
  local signals = { [134] = "SIGABRT", [135] = "SIGBUS", [136] = "SIGFPE", [139] = "SIGSEGV" }
  return ("crashed the process (exit status %s%s): %s"):format(tostring(status),
    signals[status] and (", " .. signals[status]) or "", short(out:gsub("EXIT:%d+%s*$", ""), 200))
end

-- Run jobs ({kind = "CASE"|"PROBE", id = ...}) in child interpreters, `parallel` at a time, each
-- stopped after CHILD_SECONDS; returns verdicts by kind .. ":" .. id (absent: all was well).
local function run_children(jobs, parallel)
  local verdicts = {}
  if #jobs == 0 then return verdicts end
  local list = os.tmpname()
  local f = assert(io.open(list, "wb"))
  for _, j in ipairs(jobs) do f:write(j.kind, "\t", j.id, "\n") end
  f:close()
  local code = ("package.path = %q; package.cpath = %q; dofile(%q)"):format(package.path, package.cpath, SPEC_FILE)
  local env = {
    SMARTCAR_EMULATOR_ORIGIN = H.origin, SMARTCAR_BAD_INPUT_JOBS = list,
    SMARTCAR_BAD_INPUT_TOKEN = C.token, SMARTCAR_BAD_INPUT_VEHICLE = C.vehicleId,
  }
  local cmd = { ("seq 1 %d |"):format(#jobs) }
  for k, v in pairs(env) do cmd[#cmd + 1] = k .. "=" .. shell_quote(v) end
  cmd[#cmd + 1] = ("xargs -P %d -I{} sh -c %s %s %s"):format(parallel,
    shell_quote(("SMARTCAR_BAD_INPUT_JOB={} timeout %d %s -e \"$0\" > \"$1.{}\" 2>&1; echo \"EXIT:$?\" >> \"$1.{}\"")
      :format(CHILD_SECONDS, INTERPRETER)),
    shell_quote(code), shell_quote(list))
  local p = assert(io.popen(table.concat(cmd, " ") .. " 2>&1"))
  p:read("*a")
  p:close()
  for i, j in ipairs(jobs) do
    verdicts[j.kind .. ":" .. j.id] = child_verdict(read_file(list .. "." .. i))
    os.remove(list .. "." .. i)
  end
  os.remove(list)
  return verdicts
end

---------------------------------------------------------------------------
-- The specs
---------------------------------------------------------------------------

local RECORDED = {} -- every request the emulator recorded during the matrix
local CHILDREN = {}  -- the verdicts of the cases and probes run in child interpreters

local function collect()
  for _, r in ipairs(H.requests() or {}) do RECORDED[#RECORDED + 1] = r end
  H.clear()
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

describe("bad input", function()
  setup(function()
    H.reset()
    local t = H.token("driver@example.com")
    fill_context(t.access_token, t.vehicles[1])
    H.clear()
    local jobs = {}
    for _, key in ipairs(sorted_keys(API)) do
      for _, case in ipairs(cases_of(API[key])) do
        if isolated(API[key], case) then jobs[#jobs + 1] = { kind = "CASE", id = case_id(API[key], case) } end
      end
    end
    CHILDREN = run_children(jobs, PARALLEL)
    local probes = {}
    for _, name in ipairs(sorted_keys(PROBES)) do probes[#probes + 1] = { kind = "PROBE", id = name } end
    for k, v in pairs(run_children(probes, 1)) do CHILDREN[k] = v end
  end)

  it("has an entry for every public function of the module, an instance and the transports", function()
    local missing = {}
    for _, sdk in ipairs { smartcar, fresh_instance() } do
      for _, name in ipairs(public_functions(sdk)) do
        if not API[name] then missing[#missing + 1] = name end
      end
    end
    assert.are.same({}, missing)
    -- and every entry is a live function (a renamed one leaves no stale entry behind)
    local live = {}
    for _, name in ipairs(public_functions(fresh_instance())) do live[name] = true end
    local stale = {}
    for _, name in ipairs(sorted_keys(API)) do if not live[name] then stale[#stale + 1] = name end end
    assert.are.same({}, stale)
  end)

  for _, key in ipairs(sorted_keys(API)) do
    local e = API[key]
    it("of " .. key .. " (arity " .. #e.params .. ") raise in style or return nil, err", function()
      local failures = {}
      local cases = cases_of(e)
      for _, case in ipairs(cases) do
        local id = case_id(e, case)
        local problem
        if os.getenv("SMARTCAR_BAD_INPUT_TRACE") then io.stderr:write(id, "\n") end -- which case died
        if isolated(e, case) then
          problem = CHILDREN["CASE:" .. id]
        else
          local ok
          ok, problem = pcall(run_case, e, case)
          if not ok then problem = "the spec itself failed: " .. short(problem) end
        end
        if problem then failures[#failures + 1] = id .. ": " .. problem end
      end
      collect()
      assert(#failures == 0, #failures .. " of " .. #cases .. " cases misbehave:\n" .. table.concat(failures, "\n"))
    end)
  end

  for _, name in ipairs(sorted_keys(PROBES)) do
    it(name, function()
      local problem = CHILDREN["PROBE:" .. name]
      assert(problem == nil, problem)
    end)
  end

  it("never put a NUL, CR or LF byte on the wire", function()
    collect()
    assert.is_true(#RECORDED > 0)
    local bad = {}
    local function check(r, what, s)
      if has_bad_byte(s) then
        bad[#bad + 1] = ("%s %s%s: %s %s"):format(tostring(r.method), short(r.path, 80),
          r.query ~= "" and ("?" .. short(r.query, 60)) or "", what, short(s, 80))
      end
    end
    for _, r in ipairs(RECORDED) do
      check(r, "method", r.method)
      check(r, "path", r.path)
      check(r, "query", r.query)
      for name, value in pairs(r.headers or {}) do
        check(r, "header name", name)
        check(r, "header " .. tostring(name), type(value) == "table" and table.concat(value, ", ") or value)
        if tostring(name):lower() == "x-evil" then
          bad[#bad + 1] = ("%s %s: an injected header X-Evil"):format(tostring(r.method), short(r.path, 80))
        end
      end
      if r.query ~= RAW_QUERY then check(r, "body", r.body) end
    end
    assert(#bad == 0, #bad .. " recorded requests carry a NUL/CR/LF byte:\n" .. table.concat(bad, "\n"))
  end)
end)
