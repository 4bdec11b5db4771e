--- Module functions: the user, the vehicles, compatibility and management.
-- Each request is data (`REQUESTS`): one C builder makes every one of them.
-- @submodule smartcar

local core = require "smartcar.core"
local pages = require "smartcar.paging"
local config = require "smartcar.config"
core.own()

local type, pairs, ipairs, concat = type, pairs, ipairs, table.concat
local DATA, V3 = core.DATA, core.V3
local build, check_options, arg_error, option_error = core.apiRequest, core.checkOptions, core.argError,
  core.optionError

-- name: the public function (for messages); origin: a configuration key; version: fixed, else the
-- instance's API version; auth: bearer token, AMT (Basic default:<amt>) or client credentials;
-- segment: the argument escaped onto the path; query: parameter order on the wire (as the Node SDK).

-- The compatibility calls put their option parameters first, as Node builds them: flags, an explicit
-- mode (`mode`, or the deprecated `testMode`), the test level, else the mode the test level forces.
local function compat_query(...)
  return { "flags", "test_mode_compatibility_level", "mode", ... },
    { "flags", "mode", "test_mode_compatibility_level", ... }
end
local COMPAT_QUERY, COMPAT_QUERY_MODE_FIRST = compat_query("scope", "country", "vin")
local MATRIX_QUERY, MATRIX_QUERY_MODE_FIRST = compat_query("region", "scope", "make", "type")

local REQUESTS = {
  getUser = { method = "GET", origin = "apiOrigin", path = "/user", auth = "bearer" },
  getVehicles = { method = "GET", origin = "apiOrigin", path = "/vehicles", auth = "bearer",
    query = { "limit", "offset" } },
  getVehicle = { method = "GET", origin = "vehicleOrigin", version = "3", path = "/vehicles", auth = "bearer",
    segment = 2 },
  getCompatibility = { method = "GET", origin = "apiOrigin", path = "/compatibility", auth = "client",
    query = COMPAT_QUERY, modeFirst = COMPAT_QUERY_MODE_FIRST },
  getCompatibilityMatrix = { method = "GET", origin = "apiOrigin", path = "/compatibility/matrix", auth = "client",
    query = MATRIX_QUERY, modeFirst = MATRIX_QUERY_MODE_FIRST },
  getConnections = { method = "GET", origin = "managementOrigin", version = "2.0", path = "/management/connections",
    auth = "amt", query = { "user_id", "vehicle_id", "limit", "cursor" } },
  deleteConnections = { method = "DELETE", origin = "managementOrigin", version = "2.0",
    path = "/management/connections", auth = "amt", query = { "user_id", "vehicle_id" } },
}
for name, r in pairs(REQUESTS) do r.name = name end

local PAGING = { limit = true, offset = true }
local FILTER = { userId = true, vehicleId = true }
local CURSOR_PAGING = { limit = true, cursor = true }
local COMPAT_OPTIONS = {
  clientId = true, clientSecret = true, mode = true, testMode = true, testModeCompatibilityLevel = true, flags = true,
  version = true,
}
local MATRIX_OPTIONS = {
  clientId = true, clientSecret = true, mode = true, testMode = true, testModeCompatibilityLevel = true, scope = true,
  make = true, type = true, version = true, flags = true,
}

-- A list of strings (or one string) joined by spaces; `arg` when it is an argument, else an option.
local function space_list(v, name, fname, arg)
  local function bad(what)
    if arg then arg_error(arg, fname, what) else option_error(name, fname, what) end
  end
  if type(v) == "table" then
    for i, s in ipairs(v) do
      if type(s) ~= "string" or s:find("[%z\r\n]") then bad(("%s entry %d must be a string"):format(name, i)) end
    end
    return concat(v, " ")
  end
  if v ~= nil and type(v) ~= "string" then bad("list of strings expected, got " .. type(v)) end
  return v
end

-- An optional string option (an id, a level) or raise naming it.
local function string_option(options, key, fname)
  local v = options[key]
  if v ~= nil and (type(v) ~= "string" or v == "" or v:find("[%z\r\n]")) then
    option_error(key, fname, "a string expected, got " .. config.show(v))
  end
  return v
end

-- The query parameters shared by the compatibility calls, and their order on the wire. `testMode`
-- goes through the AuthClient's one check (core.checkMode: a boolean, warned about once).
local function compat_params(options, q, fname)
  local explicit = options.mode ~= nil or options.testMode ~= nil
  if options.flags ~= nil then q.flags = core.flags(options.flags, fname) end
  if explicit then q.mode = core.checkMode(options, fname) end
  if options.version ~= nil then q.version = config.checkVersion("version", options.version, fname) end
  if options.testModeCompatibilityLevel ~= nil then
    q.test_mode_compatibility_level = string_option(options, "testModeCompatibilityLevel", fname)
    q.mode = "test"
  end
  return q, explicit and REQUESTS[fname].modeFirst or nil
end

return function(smartcar, client)
  local cfg = client.config

  local function send(shape, name, credential, params, order)
    return client:send(shape, build(REQUESTS[name], credential, params or {}, cfg, order))
  end

  --- Module functions: user, vehicles, compatibility, management.
  -- @section functions

  --- The user behind an access token.
  -- @tparam string accessToken
  -- @treturn[1] table the user
  -- @tfield[table] string id the Smartcar user id
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function smartcar.getUser(accessToken)
    return send(DATA, "getUser", accessToken)
  end

  --- The vehicle ids an access token covers, one page.
  -- @tparam string accessToken
  -- @tparam[opt] table paging `{limit=, offset=}` (default 10, at most 50; and 0)
  -- @treturn[1] table the page
  -- @tfield[table] {string,...} vehicles vehicle ids, for `Vehicle.new`
  -- @tfield[table] table paging `{count, offset}`: `count` the total number of vehicles
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function smartcar.getVehicles(accessToken, paging)
    return send(DATA, "getVehicles", accessToken, check_options(paging, 2, "getVehicles", PAGING))
  end

  --- Every vehicle id an access token covers, page after page: `for id, err in eachVehicleId(token) do`
  -- (on a failure `false, err` once, then the end).
  -- @tparam string accessToken
  -- @tparam[opt] table options `{pageSize = 10}` (at most 50)
  -- @return an iterator giving each vehicle id (a string), or `false, err` once on a failure
  -- @usage for id, err in smartcar.eachVehicleId(access.accessToken) do
  --   if not id then print(err.message) break end
  -- end
  function smartcar.eachVehicleId(accessToken, options)
    core.checkString(accessToken, 1, "eachVehicleId", true)
    local size = pages.pageSize(options, 2, "eachVehicleId", 10, 50)
    return pages.byOffset(function(limit, offset)
      return smartcar.getVehicles(accessToken, { limit = limit, offset = offset })
    end, "vehicles", size)
  end

  --- A vehicle's v3 resource (a `{data=...}` envelope is unwrapped).
  -- @tparam string accessToken
  -- @tparam string vehicleId
  -- @treturn[1] table the answer
  -- @tfield[table] table body `{id, type, attributes, links}`: `type` `vehicle`; `attributes`
  -- `{make, model, year}`; `links` `{self}`, the vehicle's path
  -- @tfield[table] table headers every response header, by lower-case name (`sc-request-id`, ...)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function smartcar.getVehicle(accessToken, vehicleId)
    local res, err = send(V3, "getVehicle", accessToken, { segment = vehicleId })
    if res and type(res.body) == "table" and res.body.id == nil and type(res.body.data) == "table" then
      res.body = res.body.data
    end
    return res, err
  end

  --- Whether a VIN is compatible with the given permissions.
  -- Call as `getCompatibility(vin, scope[, country][, options])`; country defaults to `"US"`.
  -- @tparam string vin
  -- @tparam {string,...} scope
  -- @tparam[opt] string country
  -- @tparam[opt] table options `clientId`, `clientSecret`, `mode` (`testMode = true`, deprecated, is
  -- `mode = "test"`), `testModeCompatibilityLevel` (sent as `test_mode_compatibility_level`, with `mode=test`),
  -- `flags`, `version`
  -- @treturn[1] table the answer (v1.0: `compatible` alone)
  -- @tfield[table] boolean compatible
  -- @tfield[table] string reason why not: `VEHICLE_NOT_COMPATIBLE` or `MAKE_NOT_COMPATIBLE`; nil when compatible
  -- @tfield[table] {table,...} capabilities one per endpoint of the scope (US VINs only; empty when not
  -- compatible): `{capable, endpoint, permission, reason}`, `capable` a boolean, `endpoint` such as
  -- `/battery`, `permission` such as `read_battery`, `reason` `VEHICLE_NOT_CAPABLE`,
  -- `SMARTCAR_NOT_CAPABLE` or nil
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function smartcar.getCompatibility(vin, scope, country, options)
    local fname = "getCompatibility"
    if type(country) == "table" and options == nil then country, options = nil, country end
    core.checkString(vin, 1, fname, true)
    if type(scope) ~= "table" then arg_error(2, fname, "table expected, got " .. type(scope)) end
    if country ~= nil then core.checkString(country, 3, fname, true) end
    options = check_options(options, 4, fname, COMPAT_OPTIONS)
    local q, order = compat_params(options, {}, fname)
    q.scope, q.country, q.vin = space_list(scope, "scope", fname, 2), country or "US", vin
    return send(DATA, fname, options, q, order)
  end

  --- Compatible models for a region, by make: `{TESLA = {...}, ..., meta = ...}`.
  -- @tparam string region `US`, `CA` or `EUROPE`
  -- @tparam[opt] table options `scope`, `make` (lists or strings), `type`, `mode` (or the deprecated
  -- `testMode`), `testModeCompatibilityLevel` (with `mode=test`, as for `getCompatibility`), `clientId`,
  -- `clientSecret`, `version`, `flags`
  -- @treturn[1] table one key per make (upper case, e.g. `TESLA`), and `meta`
  -- @tfield[table] {table,...} MAKE the make's models, each `{model, startYear, endYear, type, endpoints,
  -- permissions}`: `startYear`, `endYear` integers; `type` `ICE`, `BEV`, `PHEV` or `HEV`; `endpoints`
  -- the names of the features (`Location`, `Odometer`, ...); `permissions` their permissions
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function smartcar.getCompatibilityMatrix(region, options)
    local fname = "getCompatibilityMatrix"
    core.checkString(region, 1, fname, true)
    options = check_options(options, 2, fname, MATRIX_OPTIONS)
    local q, order = compat_params(options, {}, fname)
    q.region = region
    q.scope = space_list(options.scope, "scope", fname)
    q.make = space_list(options.make, "make", fname)
    q.type = string_option(options, "type", fname)
    return send(DATA, fname, options, q, order)
  end

  --- The application's vehicle connections, newest first, one page.
  -- @tparam string amt application management token
  -- @tparam[opt] table filter `{userId=, vehicleId=}`
  -- @tparam[opt] table paging `{limit=, cursor=}` (default 10, at most 100; the `cursor` of the last page)
  -- @treturn[1] table the page
  -- @tfield[table] {table,...} connections each `{userId, vehicleId, connectedAt, mode}`: `connectedAt`
  -- ISO-8601; `mode` `live`, `test` or `simulated`
  -- @tfield[table] table paging `{cursor}`: pass it for the next page; nil on the last one
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function smartcar.getConnections(amt, filter, paging)
    filter = check_options(filter, 2, "getConnections", FILTER)
    paging = check_options(paging, 3, "getConnections", CURSOR_PAGING)
    return send(DATA, "getConnections", amt, {
      user_id = string_option(filter, "userId", "getConnections"),
      vehicle_id = string_option(filter, "vehicleId", "getConnections"),
      limit = paging.limit, cursor = string_option(paging, "cursor", "getConnections"),
    })
  end

  --- Every connection of the application, page after page (cursor paging): `for c, err in ...`
  -- (on a failure `false, err` once, then the end).
  -- @tparam string amt application management token
  -- @tparam[opt] table filter `{userId=, vehicleId=}`
  -- @tparam[opt] table options `{pageSize = 10}` (at most 100)
  -- @return an iterator giving each connection, `{userId, vehicleId, connectedAt, mode}` as in
  -- `getConnections`, or `false, err` once on a failure
  -- @usage for c, err in smartcar.eachConnection(amt, { userId = id }) do print(c.vehicleId) end
  function smartcar.eachConnection(amt, filter, options)
    core.checkString(amt, 1, "eachConnection", true)
    filter = check_options(filter, 2, "eachConnection", FILTER)
    local user = string_option(filter, "userId", "eachConnection")
    local vehicle = string_option(filter, "vehicleId", "eachConnection")
    local size = pages.pageSize(options, 3, "eachConnection", 10, 100)
    return pages.byCursor(function(limit, cursor)
      return smartcar.getConnections(amt, { userId = user, vehicleId = vehicle }, { limit = limit, cursor = cursor })
    end, "connections", size)
  end

  --- Delete the connections of one user or one vehicle.
  -- @tparam string amt application management token
  -- @tparam table filter `{userId=}` or `{vehicleId=}` (exactly one)
  -- @treturn[1] table what was deleted
  -- @tfield[table] {table,...} connections each `{userId, vehicleId}`
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function smartcar.deleteConnections(amt, filter)
    filter = check_options(filter, 2, "deleteConnections", FILTER)
    if (filter.userId == nil) == (filter.vehicleId == nil) then
      arg_error(2, "deleteConnections", filter.userId == nil and "filter needs userId or vehicleId"
        or "filter needs EITHER userId OR vehicleId, not both")
    end
    return send(DATA, "deleteConnections", amt, {
      user_id = string_option(filter, "userId", "deleteConnections"),
      vehicle_id = string_option(filter, "vehicleId", "deleteConnections"),
    })
  end
end
