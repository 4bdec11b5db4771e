--- The Smartcar SDK for Lua.
--
-- `local smartcar = require "smartcar"` gives the Connect OAuth flow
-- (`AuthClient`), every vehicle endpoint (`Vehicle`), the module functions of
-- the official SDKs and the webhook helpers.
--
-- Programmer mistakes raise; everything that talks to the network returns
-- `result` or `nil, err` where `err` is a `SmartcarError`.
-- @module smartcar

local core = require "smartcar.core"
local endpoints = require "smartcar.endpoints"

local os_time, type, pairs, ipairs, error, tostring = os.time, type, pairs, ipairs, error, tostring
local parse = core.parse

local smartcar = { _VERSION = core._VERSION, userAgent = core.userAgent }

--- The error type: a table with this metatable. `SmartcarError.is(v)` tells whether `v` is one.
-- Fields: `name`, `statusCode`, `type`, `code`, `description`, `docURL`, `detail`,
-- `suggestedUserMessage`, `resolution`, `requestId`, `retryAfter`, `message`.
smartcar.SmartcarError = core.SmartcarError

-- Configuration ------------------------------------------------------------

local ORIGINS = {
  apiOrigin = { "https://api.smartcar.com", "SMARTCAR_API_ORIGIN" },
  authOrigin = { "https://auth.smartcar.com", "SMARTCAR_AUTH_ORIGIN" },
  connectOrigin = { "https://connect.smartcar.com", "SMARTCAR_CONNECT_ORIGIN" },
  vehicleOrigin = { "https://vehicle.api.smartcar.com", "SMARTCAR_API_V3_ORIGIN", "SMARTCAR_VEHICLE_API_ORIGIN" },
  managementOrigin = { "https://management.smartcar.com", "SMARTCAR_MANAGEMENT_API_ORIGIN" },
}

local function check_origin(name, value)
  if type(value) ~= "string" or not value:match("^https?://[^/?#%s]+") then
    error(("bad option '%s' to 'configure' (an http(s) origin expected, got %s)"):format(name, tostring(value)), 3)
  end
  return (value:gsub("/+$", ""))
end

local origins = {}
for name, spec in pairs(ORIGINS) do
  origins[name] = spec[1]
  for i = #spec, 2, -1 do
    local env = os.getenv(spec[i])
    if env and env ~= "" then origins[name] = check_origin(spec[i], env) end
  end
end

local session = core.newSession()
local config = { timeout = 310000, maxResponseSize = 8 * 1024 * 1024 }

--- The default transport: libcurl through one keep-alive session per Lua state.
-- A transport is `function(method, url, headers, body, timeoutMs)` returning
-- `status, headers, body` (header names lower-cased) or `nil, code, message`
-- with `code` one of `TIMEOUT`, `NETWORK`, `INVALID_RESPONSE`.
-- @function transports.libcurl
local function libcurl(method, url, headers, body, timeout)
  return session:perform(method, url, headers, body, timeout, config.maxResponseSize)
end
smartcar.transports = { libcurl = libcurl }
config.transport = libcurl

local CONFIG_KEYS = {
  timeout = "number", maxResponseSize = "number", transport = "function",
  apiOrigin = "string", authOrigin = "string", connectOrigin = "string",
  vehicleOrigin = "string", managementOrigin = "string",
}

--- Set origins, timeout and transport. Unknown keys raise.
-- @tparam table options `apiOrigin`, `authOrigin`, `connectOrigin`, `vehicleOrigin`, `managementOrigin`
-- (http(s) origins), `timeout` (ms), `maxResponseSize` (bytes), `transport` (a function, see `transports.libcurl`)
-- @usage smartcar.configure{ apiOrigin = "http://127.0.0.1:8080", timeout = 5000 }
function smartcar.configure(options)
  if type(options) ~= "table" then
    error(("bad argument #1 to 'configure' (table expected, got %s)"):format(type(options)), 2)
  end
  for k, v in pairs(options) do
    local want = CONFIG_KEYS[k]
    if not want then error(("unknown option '%s' to 'configure'"):format(tostring(k)), 2) end
    if type(v) ~= want then
      error(("bad option '%s' to 'configure' (%s expected, got %s)"):format(k, want, type(v)), 2)
    end
    if want == "number" and (v ~= v or v <= 0) then
      error(("bad option '%s' to 'configure' (must be positive)"):format(k), 2)
    end
  end
  for k, v in pairs(options) do
    if ORIGINS[k] then origins[k] = check_origin(k, v) else config[k] = v end
  end
end

--- The current configuration (a copy): origins, `timeout`, `maxResponseSize`.
-- @treturn table
function smartcar.getConfig()
  local copy = { timeout = config.timeout, maxResponseSize = config.maxResponseSize }
  for k, v in pairs(origins) do copy[k] = v end
  return copy
end

local api_version = "2.0"

--- Set the API version used by new vehicles and the module functions (`"2.0"` by default).
-- @tparam string version e.g. `"1.0"`
function smartcar.setApiVersion(version)
  if type(version) ~= "string" or not version:match("^%d+%.%d+$") then
    error(("bad argument #1 to 'setApiVersion' (a version such as '2.0' expected, got %s)"):format(
      tostring(version)), 2)
  end
  api_version = version
end

--- The API version in use.
-- @treturn string
function smartcar.getApiVersion() return api_version end

-- Requests -------------------------------------------------------------------

local user_agent = core.userAgent

-- A request without a body (every module function): build the headers, send, parse.
local function send(shape, method, url, authorization)
  local headers = { authorization = authorization, ["user-agent"] = user_agent }
  return parse(shape, config.transport(method, url, headers, nil, config.timeout))
end

local function check_string(v, n, fname)
  if type(v) ~= "string" or v == "" then
    error(("bad argument #%d to '%s' (string expected, got %s)"):format(n, fname,
      v == "" and "empty string" or type(v)), 3)
  end
end

local function check_options(t, n, fname, allowed)
  if t == nil then return {} end
  if type(t) ~= "table" then
    error(("bad argument #%d to '%s' (table expected, got %s)"):format(n, fname, type(t)), 3)
  end
  for k in pairs(t) do
    if not allowed[k] then error(("unknown option '%s' to '%s'"):format(tostring(k), fname), 3) end
  end
  return t
end

local function basic(id, secret)
  return "Basic " .. core.base64(id .. ":" .. secret)
end

local function credentials(options, fname)
  local id = options.clientId or os.getenv("SMARTCAR_CLIENT_ID")
  local secret = options.clientSecret or os.getenv("SMARTCAR_CLIENT_SECRET")
  if not id or id == "" then
    error(("%s: missing 'clientId' (pass options.clientId or set SMARTCAR_CLIENT_ID)"):format(fname), 3)
  end
  if not secret or secret == "" then
    error(("%s: missing 'clientSecret' (pass options.clientSecret or set SMARTCAR_CLIENT_SECRET)"):format(fname), 3)
  end
  return basic(id, secret)
end

local function with_query(url, query)
  if query ~= "" then return url .. "?" .. query end
  return url
end

-- Remove a secret the server echoed back (e.g. "Invalid refresh_token: <token>.").
local function scrub(err, secret)
  for _, field in ipairs { "description", "message" } do
    local s = err[field]
    if type(s) == "string" then
      local i, j = s:find(secret, 1, true)
      while i do
        s = s:sub(1, i - 1) .. "[REDACTED]" .. s:sub(j + 1)
        i, j = s:find(secret, i + 10, true)
      end
      err[field] = s
    end
  end
  return err
end

-- AuthClient -------------------------------------------------------------

--- Smartcar Connect: the OAuth client of an application.
-- `AuthClient.new{clientId=, clientSecret=, redirectUri=, mode=}`; `clientId`, `clientSecret` and
-- `redirectUri` fall back to `SMARTCAR_CLIENT_ID`, `SMARTCAR_CLIENT_SECRET`, `SMARTCAR_REDIRECT_URI`.
-- `mode` is `"live"` (default), `"test"` or `"simulated"`. Readable fields: `clientId`, `redirectUri`, `mode`.
-- @type AuthClient
local AuthClient = core.AuthClient
smartcar.AuthClient = AuthClient

--- The Connect URL to send the user to.
-- @function AuthClient:getAuthUrl
-- @tparam[opt] {string,...} scope permissions, e.g. `{"read_odometer", "required:read_location"}`
-- @tparam[opt] table options `forcePrompt`, `state`, `makeBypass`, `singleSelect` (`{enabled=}` or `{vin=}`),
-- `flags`, `user`
-- @treturn string
-- @usage local url = client:getAuthUrl({"read_odometer"}, {state = "0facda3319"})
function AuthClient:getAuthUrl(scope, options)
  return self:_authUrl(origins.connectOrigin, scope, options)
end

local REFRESH_LIFETIME = 60 * 24 * 3600

local function exchange(self, grant, value, options)
  local url, headers, body = self:_tokenRequest(origins.authOrigin, grant, value, options)
  local now = os_time()
  local res, err = parse("json", config.transport("POST", url, headers, body, config.timeout))
  if not res then return nil, scrub(err, value) end
  if type(res) ~= "table" or type(res.access_token) ~= "string" or type(res.expires_in) ~= "number" then
    return nil, core.sdkError("INVALID_RESPONSE", "The token response has no access_token or expires_in", 200)
  end
  return {
    accessToken = res.access_token,
    refreshToken = res.refresh_token,
    expiration = now + res.expires_in,
    refreshExpiration = now + (tonumber(res.refresh_expires_in) or REFRESH_LIFETIME),
  }
end

--- Exchange an authorization code for an access object.
-- @function AuthClient:exchangeCode
-- @tparam string code the `code` of the redirect
-- @tparam[opt] table options `flags`
-- @treturn[1] table `{accessToken, refreshToken, expiration, refreshExpiration}` (epoch seconds)
-- @treturn[2] nil
-- @treturn[2] SmartcarError
-- @usage local access, err = client:exchangeCode(code)
function AuthClient:exchangeCode(code, options)
  return exchange(self, "authorization_code", code, options)
end

--- Exchange a refresh token for a new access object (the refresh token rotates).
-- @function AuthClient:exchangeRefreshToken
-- @tparam string token
-- @tparam[opt] table options `flags`
-- @treturn[1] table access
-- @treturn[2] nil
-- @treturn[2] SmartcarError
-- @usage access = assert(client:exchangeRefreshToken(access.refreshToken))
function AuthClient:exchangeRefreshToken(token, options)
  return exchange(self, "refresh_token", token, options)
end

--- Token expiry.
-- @section expiry

--- Whether an expiration (epoch seconds) has passed.
-- @tparam number expiration
-- @treturn boolean
-- @usage if smartcar.isExpired(access.expiration) then ... end
function smartcar.isExpired(expiration)
  if type(expiration) ~= "number" then
    error(("bad argument #1 to 'isExpired' (number expected, got %s)"):format(type(expiration)), 2)
  end
  return os_time() >= expiration
end

-- Vehicle ----------------------------------------------------------------

--- One vehicle and its access token.
-- `Vehicle.new(id, accessToken[, {unitSystem=, version=, flags=}])`. Readable fields: `id`,
-- `unitSystem`, `version`.
-- @type Vehicle
local Vehicle = core.Vehicle
smartcar.Vehicle = Vehicle

local new_vehicle = Vehicle.new
function Vehicle.new(id, token, options)
  return new_vehicle(id, token, options, api_version)
end

local function lower_keys(t, into)
  if type(t) == "table" then
    for k, v in pairs(t) do into[type(k) == "string" and k:lower() or k] = v end
  end
  return into
end

-- Every vehicle request: build (C), transport, parse (C). Version "3" goes to the
-- vehicle (v3) origin; `extra` headers (any case) replace the built ones of the same name.
local function vehicle_send(self, method, path, body, query, shape, version, extra)
  local origin = version == "3" and origins.vehicleOrigin or origins.apiOrigin
  local url, headers, payload = self:_build(origin, path, body, query, version)
  if extra then lower_keys(extra, headers) end
  return parse(shape or "data", config.transport(method, url, headers, payload, config.timeout))
end

for _, e in ipairs(endpoints) do
  local method, path = e.method, e.path
  local body = e.body and core.encode(e.body)
  e.json = body
  Vehicle[e.name] = function(self) return vehicle_send(self, method, path, body) end
end

local PAGING = { limit = true, offset = true }

--- The permissions granted to the application for this vehicle.
-- @function Vehicle:permissions
-- @tparam[opt] table paging `{limit=, offset=}`
function Vehicle:permissions(paging)
  paging = check_options(paging, 1, "permissions", PAGING)
  return vehicle_send(self, "GET", "/permissions", nil, core.query(paging, { "limit", "offset" }))
end

--- Service records between two dates (`YYYY-MM-DD` or ISO-8601); a JSON array: `{data=, meta=}`.
-- @function Vehicle:serviceHistory
-- @tparam[opt] string startDate
-- @tparam[opt] string endDate
function Vehicle:serviceHistory(startDate, endDate)
  for i, d in ipairs { startDate or false, endDate or false } do
    if d and type(d) ~= "string" then
      error(("bad argument #%d to 'serviceHistory' (string expected, got %s)"):format(i, type(d)), 2)
    end
  end
  local q = core.query({ start_date = startDate, end_date = endDate }, { "start_date", "end_date" })
  return vehicle_send(self, "GET", "/service/history", nil, q)
end

--- Set the charge limit (a fraction, sent as a JSON number).
-- @function Vehicle:setChargeLimit
-- @tparam number limit e.g. `0.8`
function Vehicle:setChargeLimit(limit)
  if type(limit) ~= "number" or limit ~= limit then
    error(("bad argument #1 to 'setChargeLimit' (number expected, got %s)"):format(type(limit)), 2)
  end
  return vehicle_send(self, "POST", "/charge/limit", { limit = limit })
end

--- Send a destination to the vehicle's navigation.
-- @function Vehicle:sendDestination
-- @tparam number latitude -90..90
-- @tparam number longitude -180..180
function Vehicle:sendDestination(latitude, longitude)
  if type(latitude) ~= "number" or not (latitude >= -90 and latitude <= 90) then
    error("Invalid latitude value. It must be between -90 and 90.", 2)
  end
  if type(longitude) ~= "number" or not (longitude >= -180 and longitude <= 180) then
    error("Invalid longitude value. It must be between -180 and 180.", 2)
  end
  return vehicle_send(self, "POST", "/navigation/destination", { latitude = latitude, longitude = longitude })
end

--- Subscribe the vehicle to a webhook.
-- @function Vehicle:subscribe
-- @tparam string webhookId
function Vehicle:subscribe(webhookId)
  check_string(webhookId, 1, "subscribe")
  return vehicle_send(self, "POST", "/webhooks/" .. core.escape(webhookId))
end

--- Unsubscribe the vehicle from a webhook (authorised with the application management token).
-- @function Vehicle:unsubscribe
-- @tparam string amt application management token
-- @tparam string webhookId
function Vehicle:unsubscribe(amt, webhookId)
  check_string(amt, 1, "unsubscribe")
  check_string(webhookId, 2, "unsubscribe")
  return vehicle_send(self, "DELETE", "/webhooks/" .. core.escape(webhookId), nil, nil, nil, nil,
    { authorization = "Bearer " .. amt })
end

-- lodash-style camelCase of a path: "/battery/nominal_capacity" -> "batteryNominalCapacity"
local function camel_case(path)
  local out = {}
  for word in path:gmatch("%w+") do
    word = word:lower()
    out[#out + 1] = #out == 0 and word or word:sub(1, 1):upper() .. word:sub(2)
  end
  return table.concat(out)
end

local BATCH_NAMES = {}
for _, e in ipairs(endpoints) do
  if e.batch then BATCH_NAMES[e.path] = e.name end
end

local function batch_name(path)
  return BATCH_NAMES[path] or camel_case(path)
end

--- Several GET endpoints in one request. Returns a table keyed by each path's name
-- (`/odometer` -> `odometer`, `/` -> `attributes`, ...); each value is a function returning
-- that item's `result` or `nil, err` (its own status code and `retryAfter`).
-- @function Vehicle:batch
-- @tparam {string,...} paths e.g. `{"/odometer", "/location"}`
-- @usage local b = assert(vehicle:batch{"/odometer", "/location"}); local odo, err = b.odometer()
function Vehicle:batch(paths)
  if type(paths) ~= "table" or #paths == 0 then
    error("bad argument #1 to 'batch' (non-empty list of paths expected)", 2)
  end
  local requests = {}
  for i, p in ipairs(paths) do
    if type(p) ~= "string" then
      error(("bad argument #1 to 'batch' (path %d must be a string, got %s)"):format(i, type(p)), 2)
    end
    requests[i] = { path = p:sub(1, 1) == "/" and p or "/" .. p }
  end
  local res, err = vehicle_send(self, "POST", "/batch", { requests = requests }, nil, "v3")
  if not res then return nil, err end
  local responses = type(res.body) == "table" and res.body.responses
  if type(responses) ~= "table" then
    return nil, core.sdkError("INVALID_RESPONSE", "The batch response has no responses", 200)
  end
  local out = {}
  for _, item in ipairs(responses) do
    local headers = lower_keys(item.headers, {})
    local code = tonumber(item.code) or 0
    local value, item_err
    if code == 200 or code == 204 then
      value = type(item.body) == "table" and item.body or {}
      value.meta = core.meta(lower_keys(headers, lower_keys(res.headers, {})))
    else
      item_err = core.apiError(code, headers, item.body)
    end
    out[batch_name(type(item.path) == "string" and item.path or "/")] = function()
      if item_err then return nil, item_err end
      return value
    end
  end
  return out
end

local REQUEST_METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true }

--- Any request to this vehicle's API: returns `{body=, meta=}` (v3: `{body=, headers=}`).
-- @function Vehicle:request
-- @tparam string method GET, POST, PUT, PATCH or DELETE
-- @tparam string path relative to the vehicle, e.g. `"/tesla/speedometer"`
-- @tparam[opt] table body sent as JSON
-- @tparam[opt] table headers extra headers (an `Authorization` one replaces the bearer token)
-- @tparam[opt] string apiVersion e.g. `"3"` for the vehicle (v3) origin
function Vehicle:request(method, path, body, headers, apiVersion)
  check_string(method, 1, "request")
  check_string(path, 2, "request")
  method = method:upper()
  if not REQUEST_METHODS[method] then
    error(("bad argument #1 to 'request' (unsupported method '%s')"):format(method), 2)
  end
  if body ~= nil and type(body) ~= "table" then
    error(("bad argument #3 to 'request' (table expected, got %s)"):format(type(body)), 2)
  end
  if headers ~= nil and type(headers) ~= "table" then
    error(("bad argument #4 to 'request' (table expected, got %s)"):format(type(headers)), 2)
  end
  if apiVersion ~= nil and type(apiVersion) ~= "string" then
    error(("bad argument #5 to 'request' (string expected, got %s)"):format(type(apiVersion)), 2)
  end
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  return vehicle_send(self, method, path, body, nil, apiVersion == "3" and "v3" or "raw", apiVersion, headers)
end

--- All v3 signals of the vehicle: `{body=, headers=}`.
-- @function Vehicle:getSignals
function Vehicle:getSignals()
  return vehicle_send(self, "GET", "/signals", nil, nil, "v3", "3")
end

--- One v3 signal by code, e.g. `"odometer-traveleddistance"`: `{body=, headers=}`.
-- @function Vehicle:getSignal
-- @tparam string code
function Vehicle:getSignal(code)
  check_string(code, 1, "getSignal")
  return vehicle_send(self, "GET", "/signals/" .. core.escape(code), nil, nil, "v3", "3")
end

--- Module functions: user, vehicles, compatibility, management, webhooks, fan-out.
-- @section functions

local function bearer(token, fname)
  check_string(token, 1, fname)
  if token:find("[\r\n]") then error(("bad argument #1 to '%s' (token contains a line break)"):format(fname), 3) end
  return "Bearer " .. token
end

--- The user id behind an access token: `{id=, meta=}`.
-- @tparam string accessToken
function smartcar.getUser(accessToken)
  local auth = bearer(accessToken, "getUser")
  return send("data", "GET", origins.apiOrigin .. "/v" .. api_version .. "/user", auth)
end

--- The vehicle ids an access token covers: `{vehicles=, paging=, meta=}`.
-- @tparam string accessToken
-- @tparam[opt] table paging `{limit=, offset=}`
function smartcar.getVehicles(accessToken, paging)
  local auth = bearer(accessToken, "getVehicles")
  paging = check_options(paging, 2, "getVehicles", PAGING)
  local url = with_query(origins.apiOrigin .. "/v" .. api_version .. "/vehicles",
    core.query(paging, { "limit", "offset" }))
  return send("data", "GET", url, auth)
end

--- A vehicle's v3 resource: `{body=, headers=}` (a `{data=...}` envelope is unwrapped).
-- @tparam string accessToken
-- @tparam string vehicleId
function smartcar.getVehicle(accessToken, vehicleId)
  local auth = bearer(accessToken, "getVehicle")
  check_string(vehicleId, 2, "getVehicle")
  local res, err = send("v3", "GET", origins.vehicleOrigin .. "/v3/vehicles/" .. core.escape(vehicleId), auth)
  if res and type(res.body) == "table" and res.body.id == nil and type(res.body.data) == "table" then
    res.body = res.body.data
  end
  return res, err
end

local MODES = { test = true, live = true, simulated = true }

local function compat_params(options, q)
  if options.flags ~= nil then q.flags = core.flags(options.flags) end
  if options.mode ~= nil then
    if not MODES[options.mode] then
      error("The \"mode\" parameter MUST be one of the following: 'test', 'live', 'simulated'", 3)
    end
    q.mode = options.mode
  end
  if options.testModeCompatibilityLevel ~= nil then
    q.test_mode_compatibility_level = options.testModeCompatibilityLevel
    q.mode = "test"
  end
  return q
end

local function space_list(v, name, fname)
  if type(v) == "table" then
    for i, s in ipairs(v) do
      if type(s) ~= "string" then
        error(("bad option '%s' to '%s' (entry %d must be a string)"):format(name, fname, i), 3)
      end
    end
    return table.concat(v, " ")
  end
  if v ~= nil and type(v) ~= "string" then
    error(("bad option '%s' to '%s' (list of strings expected)"):format(name, fname), 3)
  end
  return v
end

local COMPAT_OPTIONS = {
  clientId = true, clientSecret = true, mode = true, testModeCompatibilityLevel = true, flags = true, version = true,
}

-- Query order as the Node SDK emits it: an explicit mode precedes the test level, a forced one follows it.
local COMPAT_ORDER_MODE_FIRST = { "flags", "mode", "test_mode_compatibility_level", "scope", "country", "vin" }
local COMPAT_ORDER = { "flags", "test_mode_compatibility_level", "mode", "scope", "country", "vin" }

--- Whether a VIN is compatible with the given permissions: `{compatible, reason, capabilities, meta}`.
-- Call as `getCompatibility(vin, scope[, country][, options])`; country defaults to `"US"`.
-- @tparam string vin
-- @tparam {string,...} scope
-- @tparam[opt] string country
-- @tparam[opt] table options `clientId`, `clientSecret`, `mode`, `testModeCompatibilityLevel`, `flags`, `version`
function smartcar.getCompatibility(vin, scope, country, options)
  if type(country) == "table" and options == nil then country, options = nil, country end
  check_string(vin, 1, "getCompatibility")
  if type(scope) ~= "table" then
    error(("bad argument #2 to 'getCompatibility' (table expected, got %s)"):format(type(scope)), 2)
  end
  if country ~= nil then check_string(country, 3, "getCompatibility") end
  options = check_options(options, 4, "getCompatibility", COMPAT_OPTIONS)
  local q = compat_params(options, {})
  q.scope, q.country, q.vin = space_list(scope, "scope", "getCompatibility"), country or "US", vin
  local url = with_query(origins.apiOrigin .. "/v" .. (options.version or api_version) .. "/compatibility",
    core.query(q, options.mode ~= nil and COMPAT_ORDER_MODE_FIRST or COMPAT_ORDER))
  return send("data", "GET", url, credentials(options, "getCompatibility"))
end

local MATRIX_OPTIONS = {
  clientId = true, clientSecret = true, mode = true, scope = true, make = true, type = true, version = true,
  flags = true,
}

--- Compatible models by make for a region: `{<MAKE> = {...}, meta=}`.
-- @tparam string region `US`, `CA` or `EUROPE`
-- @tparam[opt] table options `scope`, `make` (lists or strings), `type`, `mode`, `clientId`, `clientSecret`,
-- `version`, `flags`
function smartcar.getCompatibilityMatrix(region, options)
  check_string(region, 1, "getCompatibilityMatrix")
  options = check_options(options, 2, "getCompatibilityMatrix", MATRIX_OPTIONS)
  local q = compat_params(options, {})
  q.region = region
  q.scope = space_list(options.scope, "scope", "getCompatibilityMatrix")
  q.make = space_list(options.make, "make", "getCompatibilityMatrix")
  q.type = options.type
  local url = with_query(origins.apiOrigin .. "/v" .. (options.version or api_version) .. "/compatibility/matrix",
    core.query(q, { "flags", "mode", "region", "scope", "make", "type" }))
  return send("data", "GET", url, credentials(options, "getCompatibilityMatrix"))
end

local FILTER = { userId = true, vehicleId = true }
local CURSOR_PAGING = { limit = true, cursor = true }

local function management_url(q)
  return with_query(origins.managementOrigin .. "/v2.0/management/connections",
    core.query(q, { "user_id", "vehicle_id", "limit", "cursor" }))
end

local function amt_basic(amt, fname)
  check_string(amt, 1, fname)
  return basic("default", amt)
end

--- The application's vehicle connections: `{connections=, paging={cursor=}, meta=}`.
-- @tparam string amt application management token
-- @tparam[opt] table filter `{userId=, vehicleId=}`
-- @tparam[opt] table paging `{limit=, cursor=}`
function smartcar.getConnections(amt, filter, paging)
  local auth = amt_basic(amt, "getConnections")
  filter = check_options(filter, 2, "getConnections", FILTER)
  paging = check_options(paging, 3, "getConnections", CURSOR_PAGING)
  return send("data", "GET", management_url {
    user_id = filter.userId, vehicle_id = filter.vehicleId, limit = paging.limit, cursor = paging.cursor,
  }, auth)
end

--- Delete the connections of one user or one vehicle: `{connections=, meta=}`.
-- @tparam string amt application management token
-- @tparam table filter `{userId=}` or `{vehicleId=}` (exactly one)
function smartcar.deleteConnections(amt, filter)
  local auth = amt_basic(amt, "deleteConnections")
  filter = check_options(filter, 2, "deleteConnections", FILTER)
  if (filter.userId == nil) == (filter.vehicleId == nil) then
    error("bad argument #2 to 'deleteConnections' (filter needs EITHER userId OR vehicleId, not both)", 2)
  end
  return send("data", "DELETE", management_url { user_id = filter.userId, vehicle_id = filter.vehicleId }, auth)
end

local BY_NAME = {}
for _, e in ipairs(endpoints) do BY_NAME[e.name] = e end

local FANOUT_OPTIONS = { concurrency = true }

--- Call one endpoint method on many vehicles at once (an extension: the official SDKs have none).
-- With the libcurl transport the requests run concurrently over a shared connection pool; with a
-- custom transport they run one after the other.
-- @tparam {Vehicle,...} vehicles
-- @tparam string method the name of a method without arguments, e.g. `"odometer"` or `"lock"`
-- @tparam[opt] table options `{concurrency = 16}`
-- @treturn {table,...} results, indexed like `vehicles` (nil where that vehicle failed)
-- @treturn {SmartcarError,...} errors, indexed like `vehicles`
-- @usage local odometers, errors = smartcar.fanOut(vehicles, "odometer")
function smartcar.fanOut(vehicles, method, options)
  if type(vehicles) ~= "table" then
    error(("bad argument #1 to 'fanOut' (table expected, got %s)"):format(type(vehicles)), 2)
  end
  local e = BY_NAME[method]
  if not e then error(("bad argument #2 to 'fanOut' (not a method without arguments: %s)"):format(
    tostring(method)), 2) end
  options = check_options(options, 3, "fanOut", FANOUT_OPTIONS)
  local concurrency = options.concurrency or 16
  if type(concurrency) ~= "number" or concurrency < 1 then
    error("bad option 'concurrency' to 'fanOut' (positive number expected)", 2)
  end
  local requests = {}
  for i, v in ipairs(vehicles) do
    local url, headers, body = v:_build(origins.apiOrigin, e.path, e.json)
    requests[i] = { e.method, url, headers, body }
  end
  local results, errors = {}, {}
  local answers
  if config.transport == libcurl then
    answers = session:performMany(requests, config.timeout, config.maxResponseSize, math.floor(concurrency))
  else
    answers = {}
    for i, r in ipairs(requests) do answers[i] = { config.transport(r[1], r[2], r[3], r[4], config.timeout) } end
  end
  for i = 1, #requests do
    local a = answers[i]
    results[i], errors[i] = parse("data", a[1], a[2], a[3])
  end
  return results, errors
end

--- The answer to a webhook VERIFY challenge: lowercase hex HMAC-SHA256 of the challenge keyed by the AMT.
-- @tparam string amt
-- @tparam string challenge
-- @treturn string
function smartcar.hashChallenge(amt, challenge)
  check_string(amt, 1, "hashChallenge")
  if type(challenge) ~= "string" then
    error(("bad argument #2 to 'hashChallenge' (string expected, got %s)"):format(type(challenge)), 2)
  end
  return core.hmacSha256Hex(amt, challenge)
end

--- Whether a webhook delivery is authentic: compares (in constant time) the `SC-Signature` header with
-- the HMAC-SHA256 of the raw request body. A table body is encoded as compact JSON first.
-- @tparam string amt
-- @tparam string signature the `SC-Signature` header
-- @tparam string|table body the raw request body
-- @treturn boolean
function smartcar.verifyPayload(amt, signature, body)
  check_string(amt, 1, "verifyPayload")
  if type(signature) ~= "string" then return false end
  if type(body) == "table" then body = core.encode(body) end
  if type(body) ~= "string" then
    error(("bad argument #3 to 'verifyPayload' (string expected, got %s)"):format(type(body)), 2)
  end
  return core.equals(core.hmacSha256Hex(amt, body), signature:lower())
end

return smartcar
