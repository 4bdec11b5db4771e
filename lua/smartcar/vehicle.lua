--- Vehicle: one vehicle and its access token; every vehicle endpoint.
-- @submodule smartcar

local core = require "smartcar.core"
local endpoints = require "smartcar.endpoints"
local authorized = require "smartcar.authorized"
local pages = require "smartcar.paging"
core.own()

local type, ipairs, tostring = type, ipairs, tostring
local DATA, BODY, V3, BATCH = core.DATA, core.BODY, core.V3, core.BATCH
local build, escape, check_string, arg_error = core.vehicleRequest, core.escape, core.checkString, core.argError
local set_unit_system = core.setUnitSystem

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

local PAGING = { limit = true, offset = true }
local PAGING_ORDER = { "limit", "offset" }
-- the methods request() sends, by their upper-case name; true: the method takes a body
local REQUEST_METHODS = { GET = false, HEAD = false, POST = true, PUT = true, PATCH = true, DELETE = true }

-- Installs smartcar.Vehicle; returns the request builders of the endpoints without
-- arguments, by method name (for fanOut).
return function(smartcar, client)
  local cfg = client.config

  --- One vehicle and its access token.
  -- `Vehicle.new(id, accessToken[, {unitSystem=, version=, flags=}])`. Readable fields: `id`,
  -- `unitSystem`, `version`, and `flags` (a new copy of the flags at each read, `{}` when none:
  -- changing it changes nothing).
  -- @type Vehicle
  local Vehicle = {}

  local function new_vehicle(id, token, options, class)
    return core.newVehicle(id, token, options, class, cfg.apiVersion)
  end
  local new_authorized -- set once every method exists

  --- A new Vehicle: one vehicle id and the token that covers it.
  -- With an access table (what `exchangeCode` returns) and an `authClient`, the vehicle keeps
  -- itself authorized: it refreshes the token `refreshMargin` seconds before
  -- `access.expiration`, and once after a 401 AUTHENTICATION answer (then repeats the call);
  -- `access` is updated in place and `onRefresh(access)` called once per refresh; concurrent
  -- calls sharing `access` wait for the one refresh. A failed refresh returns its error.
  -- @function Vehicle.new
  -- @tparam string id the vehicle id (from `getVehicles`)
  -- @tparam string|table accessToken a token, or an access table `{accessToken=, refreshToken=, expiration=}`
  -- @tparam[opt] table options
  -- @tparam[opt] string options.unitSystem `"metric"` (default) or `"imperial"`, sent as `sc-unit-system`
  -- @tparam[opt] string options.version the API version, e.g. `"1.0"`; default: the instance's `getApiVersion()`
  -- @tparam[opt] table options.flags `{name = value}`, sent as `?flags=name:value` on every request
  -- @tparam[opt] AuthClient options.authClient with an access table: the client that refreshes it
  -- @tparam[opt] function options.onRefresh `function(access)`, after each refresh (save the tokens)
  -- @tparam[opt] number options.refreshMargin seconds before `access.expiration` to refresh, 60
  -- @tparam[opt] table options.store tokens shared with other processes: `{load=, save=[, tryLock=,
  -- unlock=]}` (see `smartcar.store`)
  -- @treturn Vehicle
  -- @tfield[Vehicle] string id readable
  -- @tfield[Vehicle] string unitSystem readable; see `setUnitSystem`
  -- @tfield[Vehicle] string version readable
  -- @tfield[Vehicle] table flags readable: a new copy at each read (`{}` when none)
  -- @usage local v = smartcar.Vehicle.new(id, access, { authClient = client,
  --   onRefresh = function(access) save(access) end })
  function Vehicle.new(id, accessToken, options)
    if type(accessToken) == "table" then return new_authorized(id, accessToken, options, new_vehicle) end
    return core.newVehicle(id, accessToken, options, Vehicle, cfg.apiVersion)
  end

  --- Change the unit system of the requests that follow (their `sc-unit-system` header);
  -- `vehicle.unitSystem` reads the new one.
  -- @function Vehicle:setUnitSystem
  -- @tparam string unitSystem `"metric"` or `"imperial"`
  -- @usage vehicle:setUnitSystem("imperial"); local miles = assert(vehicle:odometer()).distance
  function Vehicle:setUnitSystem(unitSystem)
    set_unit_system(self, unitSystem)
  end

  local builders = {}
  for _, e in ipairs(endpoints) do
    local method, path, body = e.method, e.path, e.body and core.encode(e.body)
    builders[e.name] = function(v) return build(v, cfg.apiOrigin, nil, method, path, body) end
    Vehicle[e.name] = function(self)
      return client:send(DATA, build(self, cfg.apiOrigin, nil, method, path, body))
    end
  end

  --- The permissions granted to the application for this vehicle, one page.
  -- @function Vehicle:permissions
  -- @tparam[opt] table paging `{limit=, offset=}` (default 25 and 0)
  -- @treturn[1] table the page
  -- @tfield[table] {string,...} permissions names such as `read_odometer` (without `required:`)
  -- @tfield[table] table paging `{count, offset}`: `count` the total number of permissions
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Vehicle:permissions(paging)
    paging = core.checkOptions(paging, 1, "permissions", PAGING)
    return client:send(DATA, build(self, cfg.apiOrigin, nil, "GET", "/permissions", nil,
      core.query(paging, PAGING_ORDER, "permissions")))
  end

  --- Every permission of the application for this vehicle, page after page: `for name, err in
  -- vehicle:eachPermission() do` (on a failure `false, err` once, then the end).
  -- @function Vehicle:eachPermission
  -- @tparam[opt] table options `{pageSize = 25}` (at most 1000)
  -- @return an iterator giving each permission name (a string), or `false, err` once on a failure
  -- @usage for p, err in vehicle:eachPermission { pageSize = 25 } do print(p) end
  function Vehicle:eachPermission(options)
    core.checkVehicle(self, "eachPermission")
    local size = pages.pageSize(options, 1, "eachPermission", 25, 1000)
    return pages.byOffset(function(limit, offset)
      return self:permissions { limit = limit, offset = offset }
    end, "permissions", size)
  end

  --- Service records between two dates (`YYYY-MM-DD` or ISO-8601), by default the last year.
  -- @function Vehicle:serviceHistory
  -- @tparam[opt] string startDate
  -- @tparam[opt] string endDate
  -- @treturn[1] table the records (the body is a JSON array)
  -- @tfield[table] {table,...} data each `{serviceId, serviceDate, odometerDistance, serviceTasks,
  -- serviceDetails, serviceCost}`: `serviceId` a string or nil; `serviceDate` ISO-8601; `odometerDistance`
  -- km; `serviceTasks` a list of `{taskId, taskDescription}`; `serviceDetails` a list of `{type, value}`;
  -- `serviceCost` `{totalCost, currency}` (each may be nil)
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Vehicle:serviceHistory(startDate, endDate)
    if startDate ~= nil then check_string(startDate, 1, "serviceHistory", true) end
    if endDate ~= nil then check_string(endDate, 2, "serviceHistory", true) end
    local q = core.query({ start_date = startDate, end_date = endDate }, { "start_date", "end_date" }, "serviceHistory")
    return client:send(DATA, build(self, cfg.apiOrigin, nil, "GET", "/service/history", nil, q))
  end

  --- Set the charge limit (a fraction, sent as a JSON number).
  -- @function Vehicle:setChargeLimit
  -- @tparam number limit 0.5..1, e.g. `0.8`
  -- @treturn[1] table the answer
  -- @tfield[table] string status `success`
  -- @tfield[table] string message the server's words, e.g. `Successfully sent request to vehicle`
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Vehicle:setChargeLimit(limit)
    if type(limit) ~= "number" then arg_error(1, "setChargeLimit", "number expected, got " .. type(limit)) end
    if limit ~= limit or limit == math.huge or limit == -math.huge then
      arg_error(1, "setChargeLimit", "a finite number expected, got " .. tostring(limit))
    end
    return client:send(DATA, build(self, cfg.apiOrigin, nil, "POST", "/charge/limit", { limit = limit }))
  end

  --- Send a destination to the vehicle's navigation.
  -- @function Vehicle:sendDestination
  -- @tparam number latitude -90..90
  -- @tparam number longitude -180..180
  -- @treturn[1] table the answer
  -- @tfield[table] string status `success`
  -- @tfield[table] string message the server's words, e.g. `Successfully sent request to vehicle`
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Vehicle:sendDestination(latitude, longitude)
    for i, c in ipairs { { latitude, 90, "latitude" }, { longitude, 180, "longitude" } } do
      local v, limit = c[1], c[2]
      if type(v) ~= "number" then arg_error(i, "sendDestination", "number expected, got " .. type(v)) end
      if not (v >= -limit and v <= limit) then
        arg_error(i, "sendDestination", ("%s must be between -%d and %d, got %s"):format(c[3], limit, limit, tostring(v)))
      end
    end
    return client:send(DATA, build(self, cfg.apiOrigin, nil, "POST", "/navigation/destination",
      { latitude = latitude, longitude = longitude }))
  end

  --- Subscribe the vehicle to a webhook.
  -- @function Vehicle:subscribe
  -- @tparam string webhookId
  -- @treturn[1] table the subscription
  -- @tfield[table] string webhookId
  -- @tfield[table] string vehicleId
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Vehicle:subscribe(webhookId)
    check_string(webhookId, 1, "subscribe", true)
    return client:send(DATA, build(self, cfg.apiOrigin, nil, "POST", "/webhooks/" .. escape(webhookId)))
  end

  --- Unsubscribe the vehicle from a webhook (authorised with the application management token).
  -- @function Vehicle:unsubscribe
  -- @tparam string amt application management token
  -- @tparam string webhookId
  -- @treturn[1] table the answer
  -- @tfield[table] string status `success`
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Vehicle:unsubscribe(amt, webhookId)
    check_string(amt, 1, "unsubscribe", true)
    check_string(webhookId, 2, "unsubscribe", true)
    return client:send(DATA, build(self, cfg.apiOrigin, nil, "DELETE", "/webhooks/" .. escape(webhookId),
      nil, nil, { authorization = "Bearer " .. amt }))
  end

  --- Several GET endpoints in one request. Returns a table keyed by each path's name: the official
  -- SDKs' names (`/` -> `attributes`, `/security` -> `lockStatus`, `/tires/pressure` -> `tirePressure`,
  -- `/diagnostics/system_status` -> `diagnosticSystemStatus`, `/diagnostics/dtcs` -> `diagnosticTroubleCodes`),
  -- else the camelCase of the path (`/odometer` -> `odometer`, `/battery/nominal_capacity` ->
  -- `batteryNominalCapacity`, `/charge/limit` -> `chargeLimit`). Each value is a function returning
  -- that item's `result` or `nil, err` (its own status code and `retryAfter`).
  -- @function Vehicle:batch
  -- @tparam {string,...} paths e.g. `{"/odometer", "/location"}` (sent with a leading `/`, as
  -- Smartcar's batch reference writes them: `"odometer"` goes as `"/odometer"`)
  -- @treturn[1] table name -> `function() return result or nil, err end`; each `result` has the fields
  -- of the method for its path (`vehicle:odometer()`, ...) and a `meta`, `{requestId, dataAge, fetchedAt,
  -- unitSystem}` (see `meta`) from the item's headers over the batch's
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError the batch request failed as a whole
  -- @usage local b = assert(vehicle:batch{"/odometer", "/location"}); local odo, err = b.odometer()
  function Vehicle:batch(paths)
    if type(paths) ~= "table" or #paths == 0 then
      arg_error(1, "batch", "non-empty list of paths expected")
    end
    local requests = {}
    for i, p in ipairs(paths) do
      if type(p) ~= "string" then
        arg_error(1, "batch", ("path %d must be a string, got %s"):format(i, type(p)))
      end
      requests[i] = { path = p:sub(1, 1) == "/" and p or "/" .. p }
    end
    local items, err = client:send(BATCH, build(self, cfg.apiOrigin, nil, "POST", "/batch", { requests = requests }))
    if not items then return nil, err end
    local out = {}
    for i, item in ipairs(items) do
      local value, item_err = item.result, item.error
      -- an item that is not an object says no path: it answers the request at its position
      out[batch_name(item.path or (requests[i] or requests[1]).path)] = function()
        if item_err then return nil, item_err end
        return value
      end
    end
    return out
  end

  --- Any request to this vehicle's API: an endpoint this SDK has no method for, say.
  -- The method is sent exactly as named (upper-cased: `"post"` sends POST; GET and HEAD take no body).
  -- A query in `path` is kept, and the vehicle's flags are added to it (`?a=1&flags=...`).
  -- @function Vehicle:request
  -- @tparam string method GET, HEAD, POST, PUT, PATCH or DELETE
  -- @tparam string path relative to the vehicle, e.g. `"/tesla/speedometer"`
  -- @tparam[opt] table body sent as JSON
  -- @tparam[opt] table headers extra headers (an `Authorization` one replaces the bearer token)
  -- @tparam[opt] string apiVersion e.g. `"3"` for the vehicle (v3) origin
  -- @treturn[1] table the answer
  -- @tfield[table] table body the decoded JSON body, as the server sent it
  -- @tfield[table] table meta `{requestId, dataAge, fetchedAt, unitSystem}` (see `meta`); with `apiVersion`
  -- `"3"`, `headers` instead: every response header, by lower-case name
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Vehicle:request(method, path, body, headers, apiVersion)
    check_string(method, 1, "request", true)
    check_string(path, 2, "request", true)
    local name = method:upper()
    local takes_body = REQUEST_METHODS[name]
    if takes_body == nil then
      arg_error(1, "request", "GET, HEAD, POST, PUT, PATCH or DELETE expected, got " .. core.shown(method))
    end
    if body ~= nil and type(body) ~= "table" then
      arg_error(3, "request", "table expected, got " .. type(body))
    end
    if body ~= nil and not takes_body then arg_error(3, "request", ("a %s request takes no body"):format(name)) end
    if headers ~= nil and type(headers) ~= "table" then
      arg_error(4, "request", "table expected, got " .. type(headers))
    end
    if apiVersion ~= nil then check_string(apiVersion, 5, "request", true) end
    local p, q = path:match("^([^?#]*)%??([^#]*)")
    if p:sub(1, 1) ~= "/" then p = "/" .. p end
    local v3 = apiVersion == "3"
    return client:send(v3 and V3 or BODY, build(self, v3 and cfg.vehicleOrigin or cfg.apiOrigin, apiVersion,
      name, p, body, q, headers))
  end

  --- A v3 signal, as `getSignal` returns it (its `body`) and `getSignals` lists it.
  -- @table signal
  -- @tfield string id the signal code: `group-name` in lower case, e.g. `tractionbattery-stateofcharge`
  -- @tfield string type `signal`
  -- @tfield table attributes `{code, name, group, status, body}`: `code` as `id`, `name` such as
  -- `StateOfCharge`, `group` such as `TractionBattery`
  -- @tfield table attributes.status `{value}`: `SUCCESS`, `ERROR` or `UNAVAILABLE`; with `ERROR` also
  -- `error`, `{type, code, description, resolution}`
  -- @tfield table attributes.body the value: `{unit, value}` in metric units (`kilometers`, `percentage`,
  -- `kilowatt-hours`, ...), `{value}`, `{values}` (a list; the tires' body is `{values, rowCount,
  -- columnCount, unit}`, each value `{row, column, tirePressure}`, row 0 the front, column 0 the left,
  -- `tirePressure` a number in `unit`), or fields of its own (the location's `{latitude, longitude,
  -- heading, direction, locationType}`)
  -- @tfield table meta `{retrievedAt, oemUpdatedAt}`: when Smartcar read it and when the vehicle
  -- recorded it, epoch milliseconds
  -- @tfield table links `{self, values, vehicle}`: the signal's path, the path of its values and the
  -- vehicle's path

  --- All v3 signals of the vehicle (one page of the JSON:API document).
  -- @function Vehicle:getSignals
  -- @treturn[1] table the answer
  -- @tfield[table] table body `{data, meta, links, included}`: `data` a list of signals (see `signal`);
  -- `meta` `{page, pageSize, totalCount}`; `links` `{self, first, previous, next, last}` (page paths;
  -- `previous` and `next` nil at the ends); `included` `{vehicle}`, the resource of `getVehicle`:
  -- `{id, type, attributes, links}`, `attributes` `{make, model, year}`
  -- @tfield[table] table headers every response header, by lower-case name (`sc-request-id`, ...)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  -- @see signal
  function Vehicle:getSignals()
    return client:send(V3, build(self, cfg.vehicleOrigin, "3", "GET", "/signals"))
  end

  --- One v3 signal, by its code.
  -- @function Vehicle:getSignal
  -- @tparam string code a signal code: `group-name` in lower case, such as `"odometer-traveleddistance"`
  -- @treturn[1] table the answer
  -- @tfield[table] table body the signal (see `signal`)
  -- @tfield[table] table headers every response header, by lower-case name
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  -- @see signal
  function Vehicle:getSignal(code)
    check_string(code, 1, "getSignal", true)
    return client:send(V3, build(self, cfg.vehicleOrigin, "3", "GET", "/signals/" .. escape(code)))
  end

  new_authorized = authorized.install(Vehicle, cfg)
  smartcar.Vehicle = Vehicle
  return builders
end
