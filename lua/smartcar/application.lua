--- API V3: the application token, connections, an application's vehicles, webhooks and
-- subscriptions (API.md "Smartcar API V3"). The requests are the rows of `smartcar.v3`,
-- built by the one C builder and sent through `Client:send` like every other request.
--
-- The application token (client-credentials grant) is cached until shortly before it
-- expires (a tenth of its lifetime, at most 60 s) and fetched single-flight per
-- Application: whoever finds a fetch running (a task of `smartcar.all` or a loop, a light
-- thread of nginx) waits for it and takes its token, or its error. A 401 answer (the API's
-- AUTHENTICATION/UNAUTHORIZED) to a call made with a token fetches a new one once and repeats
-- the call. The
-- token and the client secret are kept out of every readable field and of `tostring`.
-- @submodule smartcar

local core = require "smartcar.core"
local v3 = require "smartcar.v3"
local pages = require "smartcar.paging"
local authorized = require "smartcar.authorized"
local loops = require "smartcar.loop"
local redact = require "smartcar.redact"
core.own()

local type, pairs, ipairs, next, tostring, tonumber, setmetatable, getmetatable, rawget, os_time, getenv =
  type, pairs, ipairs, next, tostring, tonumber, setmetatable, getmetatable, rawget, os.time, os.getenv
local floor, min = math.floor, math.min
local V3, now = core.V3, core.now
local build, check_options, arg_error, option_error, raise = core.apiRequest, core.checkOptions, core.argError,
  core.optionError, core.raise
local await = authorized.await

local COMMAND_TIMEOUT = 310000 -- ms: a long-running command's 202 is read to its end within this
local MAX_MS = 2147483647
local MAX_PAGES = 10000        -- a server whose `next` never ends is not followed forever
local SIGNAL_PAGES = 100       -- a vehicle's signals: far more pages than the signal schema fills

local NEW_OPTIONS = { clientId = true, clientSecret = true, commandTimeout = true }
local CONNECTION_OPTIONS = { userId = true, vehicleId = true, mode = true, pageSize = true }
local SUBSCRIPTION_OPTIONS = { webhookId = true, userId = true, vehicleId = true, mode = true, pageSize = true }
local MODES = { live = true, simulated = true }

-- A string argument: non-empty, no NUL, CR or LF (it reaches a path or a header).
local function check_id(v, arg, fname)
  return core.checkString(v, arg, fname, true)
end

-- A string option (read raw) or nil; `required` raises when it is absent.
local function string_option(options, key, fname)
  local v = rawget(options, key)
  if v ~= nil and (type(v) ~= "string" or v == "" or v:find("[%z\r\n]")) then
    option_error(key, fname, "a non-empty string without line breaks expected, got " ..
      (type(v) == "string" and core.shown(v) or type(v)))
  end
  return v
end

local timestamp = v3.timestamp

-- A JSON:API resource, flattened: `id`, its attributes, its meta's fields (time stamps), and
-- `<name>Id` for each relationship; a `status = {value, error}` becomes `status` (the value)
-- and `error`.
local function flatten(r)
  local out = {}
  if type(r) ~= "table" then return out end
  if type(r.attributes) == "table" then
    for k, v in pairs(r.attributes) do if type(k) == "string" then out[k] = v end end
  end
  if type(r.meta) == "table" then
    for k, v in pairs(r.meta) do if type(k) == "string" and out[k] == nil then out[k] = v end end
  end
  if type(r.relationships) == "table" then
    for name, rel in pairs(r.relationships) do
      local d = type(rel) == "table" and rel.data
      if type(name) == "string" and type(d) == "table" and type(d.id) == "string" and out[name .. "Id"] == nil then
        out[name .. "Id"] = d.id
      end
    end
  end
  if type(out.status) == "table" then
    out.error = out.status.error
    out.status = out.status.value
  end
  out.id = r.id
  return out
end

-- The resource of a body: `{data = {...}}` unwrapped (a list is not a resource).
local function resource(body)
  if type(body) == "table" and type(body.data) == "table" and body.data[1] == nil and next(body.data) ~= nil then
    return body.data
  end
  return body
end

-- A result's meta: the `sc-request-id` header, and the fields of the body's top-level meta.
local function meta_of(res, body_meta)
  local meta = {}
  if type(body_meta) == "table" then
    for k, v in pairs(body_meta) do if type(k) == "string" then meta[k] = v end end
  end
  local headers = type(res) == "table" and res.headers
  meta.requestId = type(headers) == "table" and headers["sc-request-id"] or nil
  return meta
end

local function signal_of(r)
  local s = flatten(r)
  s.code = s.code or s.id
  s.id = nil
  if type(s.body) == "table" then
    s.value, s.unit = s.body.value, s.body.unit
  end
  s.retrievedAt = timestamp(s.retrievedAt or s.fetchedAt)
  s.oemUpdatedAt = timestamp(s.oemUpdatedAt)
  s.fetchedAt, s.ingestedAt = nil, timestamp(s.ingestedAt)
  return s
end

-- A SmartcarError of the SDK's own making (a command whose outcome says it failed).
local function api_error(smartcar, fields)
  local err = setmetatable(fields, smartcar.SmartcarError)
  err.name = "SmartcarError"
  err.message = ("%s%s - %s"):format(tostring(err.type), err.code and (":" .. tostring(err.code)) or "",
    tostring(err.description or "(no description)"))
  return err
end

-- An answer of the right status without what it must hold: INVALID_RESPONSE, never an empty success.
local function lacking(what)
  return core.sdkError("INVALID_RESPONSE", "The answer has no " .. what)
end

-- The `data` list of a list answer, or nil and the error.
local function data_list(body)
  if type(body) ~= "table" or type(body.data) ~= "table" then return nil, lacking("data list") end
  return body.data
end

-- The items of a list page and whether another follows: `links.next`, else `totalCount`, else a
-- full page; nil and the error for an answer with no `data` list.
local function page_items(body, number, size)
  local list, err = data_list(body)
  if not list then return nil, err end
  local links, meta = body.links, body.meta
  local more
  if type(links) == "table" and links.next ~= nil then
    more = type(links.next) == "string" and links.next ~= ""
  elseif type(meta) == "table" and type(meta.totalCount) == "number" then
    more = number * size < meta.totalCount
  else
    more = #list >= size
  end
  return list, more
end

return function(smartcar, client)
  local cfg = client.config

  --- API V3: an application and its credentials (the Dashboard's API credentials, `client_...`, not
  -- the Connect application id). `Application.new{clientId=, clientSecret=}`; readable field
  -- `clientId` (never the secret or the token; `tostring(app)` shows neither).
  -- The methods get the application token themselves (`token`), and repeat a call once, with a new
  -- token, after a 401 answer (the token expired or was revoked).
  -- @type Application
  local Application = {}
  local MT = { __index = Application, __metatable = false,
    __tostring = function(self) return "Application (" .. rawget(self, "clientId") .. ")" end }
  local private = setmetatable({}, { __mode = "k" }) -- app -> {secret, token, refreshAt, fetching, finished, err, ...}

  --- An application's vehicle (API V3): `app:vehicle(vehicleId, userId)`. Every call sends
  -- `Authorization: Bearer <application token>` and, where the API wants it, `sc-user-id: <userId>`.
  -- Readable fields: `id`, `userId`. Its methods are listed in `smartcar.VehicleEndpoints`
  -- (`V3Vehicle:attributes`, `V3Vehicle:signals`, `V3Vehicle:lock`, ...).
  -- @type V3Vehicle
  local V3Vehicle = {}
  local VMT = { __index = V3Vehicle, __metatable = false,
    __tostring = function(self) return "V3Vehicle (" .. rawget(self, "id") .. ")" end }
  local owner = setmetatable({}, { __mode = "k" }) -- V3Vehicle -> its Application

  local function check_app(self, method)
    if type(self) ~= "table" or getmetatable(self) ~= false or not private[self] then
      raise(("calling '%s' on bad self (Application expected, got %s)"):format(method, type(self)))
    end
    return private[self]
  end

  local function check_vehicle(self, method)
    if type(self) ~= "table" or getmetatable(self) ~= false or not owner[self] then
      raise(("calling '%s' on bad self (V3Vehicle expected, got %s)"):format(method, type(self)))
    end
    return owner[self]
  end

  -- One fetch of the token: the token, when it expires and its lifetime (s), or nil and the error.
  local function fetch(app, st)
    local started = os_time()
    local res, err = client:token(build(v3.token, nil,
      { grant_type = "client_credentials", client_id = app.clientId, client_secret = st.secret }, cfg))
    if not res then return nil, err end
    return res.access_token, started + res.expires_in, res.expires_in
  end

  -- The application token, single-flight; `stale`: a token the caller saw refused (get another).
  local function token(app, st, stale)
    local finished = st.finished -- fetches ended so far
    local ok, err = await(function() return st.fetching end)
    if not ok then return nil, err end
    if st.token and st.token ~= stale and os_time() < st.refreshAt then return st.token end
    if st.finished ~= finished and st.err then return nil, st.err end -- the fetch waited for failed
    -- a fetcher that raised is waited for no longer than this, nor once its coroutine is over
    st.fetching = { deadline = now() + cfg.timeout + 1000, by = loops.mark() }
    local tok, expires, lifetime = fetch(app, st)
    st.fetching, st.finished = nil, st.finished + 1
    if not tok then
      st.err = expires
      return nil, expires
    end
    st.err, st.token, st.refreshAt = nil, tok, expires - min(60, lifetime / 10)
    return tok
  end

  -- Send one request of a row with the application token; after a 401 AUTHENTICATION answer, once
  -- more with a new token. Returns {body, headers} or nil, err.
  local function call(app, spec, params, limits)
    local st = private[app]
    local tok, err = token(app, st)
    if not tok then return nil, err end
    local method, url, headers, body = build(spec, tok, params, cfg)
    local res
    res, err = client:send(V3, method, url, headers, body, limits, st.secrets)
    if err and err.statusCode == 401 then -- the token was refused (AUTHENTICATION/UNAUTHORIZED)
      local fresh, refresh_err = token(app, st, tok)
      if not fresh then
        err.refreshError = refresh_err
        return nil, err
      end
      method, url, headers, body = build(spec, fresh, params, cfg)
      return client:send(V3, method, url, headers, body, limits, st.secrets)
    end
    return res, err
  end

  -- A single resource flattened, with meta.
  local function one(app, spec, params, convert)
    local res, err = call(app, spec, params)
    if not res then return nil, err end
    local body = res.body
    local data = resource(body)
    if type(data) ~= "table" or data.id == nil then return nil, lacking("resource (an object with an id)") end
    local out = (convert or flatten)(data)
    out.meta = meta_of(res, type(body) == "table" and type(body.data) == "table" and body.meta or nil)
    return out
  end

  -- An answer without a resource (204, 202): `{meta}` (and `message` when the body has one).
  local function done(res, err)
    if not res then return nil, err end
    local body_meta = type(res.body) == "table" and res.body.meta or nil
    local out = { meta = meta_of(res, body_meta) }
    if type(body_meta) == "table" and type(body_meta.message) == "string" then out.message = body_meta.message end
    return out
  end

  -- An iterator over a list (`v3.lists[name]`), paged by number; `convert` makes each item.
  local function each(app, name, filters, size, convert)
    local spec = v3.lists[name]
    local previous -- the first item of the last page: a server that ignores the page number repeats it
    return pages.byNumber(function(limit, number)
      if number > MAX_PAGES then return nil, lacking(("end: past %d pages"):format(MAX_PAGES)) end
      local params = { [v3.NUMBER] = number, [v3.SIZE] = limit }
      for k, q in pairs(spec.filters) do params[q] = filters[k] end
      local res, err = call(app, spec, params)
      if not res then return nil, err end
      local list, more = page_items(res.body, number, limit)
      if not list then return nil, more end
      local first = type(list[1]) == "table" and list[1].id or nil
      if first ~= nil and first == previous then return nil, lacking("next page: page " .. number .. " repeats the last") end
      previous = first
      local items = {}
      for i, r in ipairs(list) do items[i] = convert(r) end
      return items, more
    end, size)
  end

  local function list_filters(options, fname, allowed, spec)
    options = check_options(options, 1, fname, allowed)
    local filters = {}
    for key in pairs(spec.filters) do filters[key] = string_option(options, key, fname) end
    if filters.mode ~= nil and not MODES[filters.mode] then
      option_error("mode", fname, "'live' or 'simulated' expected, got " .. core.shown(filters.mode))
    end
    return filters, pages.pageSize({ pageSize = rawget(options, "pageSize") }, 1, fname, spec.size, spec.max)
  end

  --- A new Application. A missing `clientId` or `clientSecret` (option and environment) raises.
  -- @function Application.new
  -- @tparam[opt] table options
  -- @tparam[opt] string options.clientId the API client id (`client_...`), else env `SMARTCAR_API_CLIENT_ID`
  -- @tparam[opt] string options.clientSecret else env `SMARTCAR_API_CLIENT_SECRET`; never readable afterwards
  -- @tparam[opt] number options.commandTimeout ms: the deadline of one attempt of a command, which a
  -- long-running (202) answer may take to finish; the larger of this and the instance's `timeout`, 310000
  -- @treturn Application
  -- @tfield[Application] string clientId readable
  -- @usage local app = smartcar.Application.new { clientId = "client_...", clientSecret = secret }
  function Application.new(options)
    local fname = "Application.new"
    options = check_options(options, 1, fname, NEW_OPTIONS)
    local id = string_option(options, "clientId", fname) or getenv("SMARTCAR_API_CLIENT_ID")
    local secret = string_option(options, "clientSecret", fname) or getenv("SMARTCAR_API_CLIENT_SECRET")
    for key, v in pairs { clientId = id or false, clientSecret = secret or false } do
      if not v or v == "" or v:find("[%z\r\n]") then
        option_error(key, fname, ("missing: pass options.%s or set %s"):format(key,
          key == "clientId" and "SMARTCAR_API_CLIENT_ID" or "SMARTCAR_API_CLIENT_SECRET"))
      end
    end
    local ct = rawget(options, "commandTimeout")
    if ct ~= nil and (type(ct) ~= "number" or not (ct >= 1 and ct <= MAX_MS)) then
      option_error("commandTimeout", fname, ("must be between 1 and %d ms, got %s"):format(MAX_MS,
        type(ct) == "number" and tostring(ct) or type(ct)))
    end
    local app = setmetatable({ clientId = id }, MT)
    private[app] = { secret = secret, finished = 0, commandTimeout = ct and math.ceil(ct) or COMMAND_TIMEOUT,
      secrets = { secret } } -- redacted from every error of its calls, whatever a server echoes
    return app
  end

  --- The application access token (client-credentials grant): cached until shortly before it expires,
  -- fetched once however many calls ask for it at the same time. Every other method calls it.
  -- @function Application:token
  -- @treturn[1] string the token, a secret: send it as `Authorization: Bearer <token>`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError e.g. `invalid_client` (statusCode 401) for wrong credentials
  function Application:token()
    return token(self, check_app(self, "token"))
  end

  --- Every vehicle connection of the application (one per user and vehicle), newest first, page after
  -- page: `for c, err in app:eachConnection{...} do` (on a failure `false, err` once, then the end).
  -- @function Application:eachConnection
  -- @tparam[opt] table options `{userId=, vehicleId=, mode=, pageSize=}`: `mode` `live` (the API's default) or
  -- `simulated`; `pageSize` 1..100, default 10
  -- @return an iterator giving each connection (see `V3Connection`), or `false, err` once on a failure
  -- @usage for c, err in app:eachConnection { userId = userId } do
  --   if not c then print(err.message) break end
  --   print(c.vehicleId, c.vehicle.make)
  -- end
  function Application:eachConnection(options)
    check_app(self, "eachConnection")
    local filters, size = list_filters(options, "eachConnection", CONNECTION_OPTIONS, v3.lists.connections)
    return each(self, "connections", filters, size, flatten)
  end

  --- A connection of the application (see `V3Connection`).
  -- @table V3Connection
  -- @tfield string id the connection id
  -- @tfield string userId the user (send it as `sc-user-id`)
  -- @tfield string vehicleId the vehicle
  -- @tfield {string,...} permissions granted, e.g. `read_battery`
  -- @tfield table vehicle `{make, model, year, mode, powertrainType}`
  -- @tfield string createdAt ISO-8601; also `updatedAt`

  --- One connection, by its id.
  -- @function Application:getConnection
  -- @tparam string connectionId
  -- @treturn[1] table the connection (see `V3Connection`), with `meta` `{requestId}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError e.g. `RESOURCE_NOT_FOUND` (404)
  -- @see V3Connection
  function Application:getConnection(connectionId)
    check_app(self, "getConnection")
    check_id(connectionId, 1, "getConnection")
    return one(self, v3.application.getConnection, { connectionId = connectionId })
  end

  --- Remove a connection (the user's vehicle is no longer the application's).
  -- @function Application:deleteConnection
  -- @tparam string connectionId
  -- @treturn[1] table `{meta}`: `meta` `{requestId}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Application:deleteConnection(connectionId)
    check_app(self, "deleteConnection")
    check_id(connectionId, 1, "deleteConnection")
    return done(call(self, v3.application.deleteConnection, { connectionId = connectionId }))
  end

  --- Remove a user: every connection of the user and the user's data.
  -- @function Application:deleteUser
  -- @tparam string userId
  -- @treturn[1] table `{meta}`: `meta` `{requestId}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Application:deleteUser(userId)
    check_app(self, "deleteUser")
    check_id(userId, 1, "deleteUser")
    return done(call(self, v3.application.deleteUser, { userId = userId }))
  end

  --- A webhook of the application (created in the Dashboard).
  -- @table V3Webhook
  -- @tfield string id
  -- @tfield string name
  -- @tfield string callbackUri where deliveries go; `errorCallbackUri` for `VEHICLE_ERROR` (nil: the same)
  -- @tfield boolean isEnabled
  -- @tfield boolean autoSubscribe every connected vehicle is subscribed
  -- @tfield {table,...} triggers the signals whose change fires a delivery, each `{group, name, code}`
  -- @tfield {table,...} data the signals every delivery carries, each `{group, name, code}`
  -- @tfield string createdAt ISO-8601
  -- @tfield boolean verified whether the webhook answered its VERIFY challenge (when the API says so)

  --- Every webhook of the application (every page fetched).
  -- @function Application:webhooks
  -- @treturn[1] table `{webhooks, meta}`: `webhooks` a list (see `V3Webhook`), `meta` `{requestId, totalCount}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  -- @see V3Webhook
  function Application:webhooks()
    check_app(self, "webhooks")
    local list, meta, number = {}, nil, 1
    local spec = v3.lists.webhooks
    repeat
      local res, err = call(self, spec, { [v3.NUMBER] = number, [v3.SIZE] = spec.size })
      if not res then return nil, err end
      local items, more = page_items(res.body, number, spec.size)
      if not items then return nil, more end
      for _, r in ipairs(items) do list[#list + 1] = flatten(r) end
      meta = meta or meta_of(res, res.body.meta)
      number = number + 1
      if more and #items > 0 and number > MAX_PAGES then return nil, lacking(("end: past %d pages"):format(MAX_PAGES)) end
    until not more or #items == 0
    meta.pageNumber, meta.pageSize = nil, nil
    return { webhooks = list, meta = meta }
  end

  --- One webhook, by its id.
  -- @function Application:getWebhook
  -- @tparam string webhookId
  -- @treturn[1] table the webhook (see `V3Webhook`), with `meta` `{requestId}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  -- @see V3Webhook
  function Application:getWebhook(webhookId)
    check_app(self, "getWebhook")
    check_id(webhookId, 1, "getWebhook")
    return one(self, v3.application.getWebhook, { webhookId = webhookId })
  end

  -- A list that comes in one answer (`{data = [...], meta}`): `{[key] = items flattened, meta}`.
  local function listed(app, spec, params, key)
    local res, err = call(app, spec, params)
    if not res then return nil, err end
    local data, no_data = data_list(res.body)
    if not data then return nil, no_data end
    local list = {}
    for _, r in ipairs(data) do list[#list + 1] = flatten(r) end
    return { [key] = list, meta = meta_of(res, res.body.meta) }
  end

  --- An application as the Management API describes it. Smartcar documents neither these endpoints nor
  -- their bodies (community clients list `GET /applications...`): the fields are those the SDK reads from
  -- a JSON:API `application` resource.
  -- @table V3ApplicationInfo
  -- @tfield string id the Application ID (the UUID Connect takes as `application_id`), not the API client id
  -- @tfield string name the application's name, as in the Dashboard

  --- The applications the application token sees (Management API `GET /applications`, read in one request).
  -- @function Application:applications
  -- @treturn[1] table `{applications, meta}`: `applications` a list (see `V3ApplicationInfo`), `meta`
  -- `{requestId, totalCount}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  -- @see V3ApplicationInfo
  function Application:applications()
    check_app(self, "applications")
    return listed(self, v3.application.applications, {}, "applications")
  end

  --- One application, by its Application ID (Management API `GET /applications/{applicationId}`).
  -- @function Application:getApplication
  -- @tparam string applicationId the Application ID (a UUID)
  -- @treturn[1] table the application (see `V3ApplicationInfo`), with `meta` `{requestId}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError e.g. `RESOURCE_NOT_FOUND` (404) for an application the token does not see
  -- @see V3ApplicationInfo
  function Application:getApplication(applicationId)
    check_app(self, "getApplication")
    check_id(applicationId, 1, "getApplication")
    return one(self, v3.application.getApplication, { applicationId = applicationId })
  end

  --- An API client secret of an application, described without its value (which is shown only once, in the
  -- Dashboard): what the SDK reads from a `secret` resource.
  -- @table V3ApplicationSecret
  -- @tfield string id the secret's id (not the secret)
  -- @tfield string clientId the API client id (`client_...`) the secret authenticates

  --- The API client secrets of an application, without their values (Management API
  -- `GET /applications/{applicationId}/secrets`, read in one request).
  -- @function Application:applicationSecrets
  -- @tparam string applicationId the Application ID (a UUID)
  -- @treturn[1] table `{secrets, meta}`: `secrets` a list (see `V3ApplicationSecret`), `meta` `{requestId, totalCount}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError e.g. `RESOURCE_NOT_FOUND` (404) for an application the token does not see
  -- @see V3ApplicationSecret
  function Application:applicationSecrets(applicationId)
    check_app(self, "applicationSecrets")
    check_id(applicationId, 1, "applicationSecrets")
    return listed(self, v3.application.applicationSecrets, { applicationId = applicationId }, "secrets")
  end

  -- The user of a vehicle's one connection (live, else simulated); nil when there is none or more
  -- than one; nil and the error when the lookup failed.
  local function user_of(app, vehicleId)
    for _, mode in ipairs { "live", "simulated" } do
      local res, err = call(app, v3.lists.connections, { ["filter%5BvehicleId%5D"] = vehicleId,
        ["filter%5Bvehicle.mode%5D"] = mode, [v3.NUMBER] = 1, [v3.SIZE] = 2 })
      if not res then return nil, err end
      local list, no_list = page_items(res.body, 1, 2)
      if not list then return nil, no_list end
      if #list == 1 then return flatten(list[1]).userId end
      if #list > 1 then return nil end
    end
  end

  --- Subscribe a vehicle to a webhook (Management API `POST /subscriptions`). The subscription is made
  -- asynchronously (202); its first delivery (trigger `FIRST_DELIVERY`) follows. The API wants the
  -- vehicle's user too: give `userId`, or a `V3Vehicle` (it has one), or else the user of the
  -- vehicle's one connection is looked up (`GET /connections?filter[vehicleId]=`).
  -- @function Application:subscribe
  -- @tparam string webhookId
  -- @tparam string|V3Vehicle vehicleId the vehicle id, or a vehicle of `Application:vehicle`
  -- @tparam[opt] string userId the vehicle's user
  -- @treturn[1] table `{message, meta}`: `message` the server's words, e.g. `subscription creation in
  -- progress`; `meta` `{requestId, message}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError e.g. 409 when the vehicle is subscribed already
  function Application:subscribe(webhookId, vehicleId, userId)
    check_app(self, "subscribe")
    check_id(webhookId, 1, "subscribe")
    if type(vehicleId) == "table" and owner[vehicleId] then
      vehicleId, userId = vehicleId.id, userId or vehicleId.userId
    else
      check_id(vehicleId, 2, "subscribe")
    end
    if userId ~= nil then
      check_id(userId, 3, "subscribe")
    else
      local err
      userId, err = user_of(self, vehicleId)
      if err then return nil, err end
    end
    local attributes = { webhookId = webhookId, vehicleId = vehicleId, userId = userId }
    return done(call(self, v3.application.subscribe,
      { body = { data = { type = "subscription", attributes = attributes } } }))
  end

  --- Remove a subscription.
  -- @function Application:unsubscribe
  -- @tparam string subscriptionId
  -- @treturn[1] table `{meta}`: `meta` `{requestId}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  function Application:unsubscribe(subscriptionId)
    check_app(self, "unsubscribe")
    check_id(subscriptionId, 1, "unsubscribe")
    return done(call(self, v3.application.unsubscribe, { subscriptionId = subscriptionId }))
  end

  --- A subscription of a vehicle to a webhook.
  -- @table V3Subscription
  -- @tfield string id
  -- @tfield string webhookId
  -- @tfield string userId
  -- @tfield string vehicleId
  -- @tfield table vehicle `{make, model, year, mode, powertrainType}`
  -- @tfield string createdAt ISO-8601; also `updatedAt`

  --- One subscription, by its id.
  -- @function Application:getSubscription
  -- @tparam string subscriptionId
  -- @treturn[1] table the subscription (see `V3Subscription`), with `meta` `{requestId}`
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError e.g. `RESOURCE_NOT_FOUND` (404)
  -- @see V3Subscription
  function Application:getSubscription(subscriptionId)
    check_app(self, "getSubscription")
    check_id(subscriptionId, 1, "getSubscription")
    return one(self, v3.application.getSubscription, { subscriptionId = subscriptionId })
  end

  --- Every subscription, page after page: `for s, err in app:eachSubscription{webhookId = id} do` (on a
  -- failure `false, err` once, then the end).
  -- @function Application:eachSubscription
  -- @tparam[opt] table options `{webhookId=, userId=, vehicleId=, mode=, pageSize=}`: `mode` `live` or
  -- `simulated`; `pageSize` 1..100, default 25
  -- @return an iterator giving each subscription (see `V3Subscription`), or `false, err` once on a failure
  -- @usage for s, err in app:eachSubscription { webhookId = id } do print(s and s.vehicleId or err.message) end
  function Application:eachSubscription(options)
    check_app(self, "eachSubscription")
    local filters, size = list_filters(options, "eachSubscription", SUBSCRIPTION_OPTIONS, v3.lists.subscriptions)
    return each(self, "subscriptions", filters, size, flatten)
  end

  --- One of the application's vehicles, as one user connected it.
  -- @function Application:vehicle
  -- @tparam string vehicleId
  -- @tparam string userId the user (Connect's `user_id`, `parseCallback(...).userId`), sent as `sc-user-id`
  -- @treturn V3Vehicle
  -- @tfield[V3Vehicle] string id readable
  -- @tfield[V3Vehicle] string userId readable
  -- @usage local v = app:vehicle(vehicleId, userId); local soc = assert(v:signal("tractionbattery-stateofcharge"))
  function Application:vehicle(vehicleId, userId)
    check_app(self, "vehicle")
    check_id(vehicleId, 1, "vehicle")
    check_id(userId, 2, "vehicle")
    local v = setmetatable({ id = vehicleId, userId = userId }, VMT)
    owner[v] = self
    return v
  end

  --- A V3 signal, flattened (`V3Vehicle:signal`, `V3Vehicle:signals`, webhook events).
  -- @table V3Signal
  -- @tfield string code `group-name` in lower case, e.g. `tractionbattery-stateofcharge`
  -- @tfield string name e.g. `StateOfCharge`
  -- @tfield string group e.g. `TractionBattery`
  -- @tfield string status `SUCCESS`, `ERROR` or `UNAVAILABLE`
  -- @tfield table error with `ERROR`: `{type, code, title, detail, resolution}`
  -- @tfield table body the signal's value as the API sent it: `{unit, value}`, `{value}`, `{values}`, ...
  -- @tfield any value `body.value` (nil when the body has none)
  -- @tfield string unit `body.unit`, as sent (never converted)
  -- @tfield number retrievedAt when Smartcar read it: epoch seconds (an ISO-8601 string when sent so)
  -- @tfield number oemUpdatedAt when the vehicle recorded it, as `retrievedAt`

  -- One command (a row with `command`) of a vehicle, judged by the body the API sent: an outcome other
  -- than SUCCESS (or PENDING) is an error. Sent once, with the Application's command deadline.
  local function run_command(self, r, body, extra)
    local app = owner[self]
    local params = { vehicleId = self.id, userId = self.userId, body = body }
    for k, v in pairs(extra or {}) do params[k] = v end
    local res, err = call(app, r, params, client:limits(private[app].commandTimeout))
    if not res then return nil, err end
    local data = resource(res.body)
    local cmd = flatten(data)
    if type(r.returns) == "table" and r.returns.schedule and type(data) == "table" and type(data.links) == "table"
      and type(data.links.schedule) == "string" then
      cmd.schedule = data.links.schedule
    end
    cmd.meta = meta_of(res)
    -- judged by the body: an answer that says no outcome is no success
    if type(data) ~= "table" or type(cmd.status) ~= "string" then return nil, lacking("command outcome (status)") end
    if cmd.status ~= "SUCCESS" and cmd.status ~= "PENDING" then
      local e = type(cmd.error) == "table" and cmd.error or {}
      local function text(v) return type(v) == "string" and v or nil end
      local st = private[app]
      return nil, redact(api_error(smartcar, { type = text(e.type) or "COMMAND", code = text(e.code) or cmd.status,
        description = text(e.detail) or text(e.description) or text(e.title) or
          ("The command ended with status " .. cmd.status),
        statusCode = 409, requestId = cmd.meta.requestId, command = cmd }), nil, nil, { st.secret, st.token })
    end
    return cmd
  end

  -- The methods of V3Vehicle: one per row of v3.vehicle (their reference is generated from it).
  for _, r in ipairs(v3.vehicle) do
    local name = r.name
    if r.command and not r.fields then
      local fields = r.attributes
      V3Vehicle[name] = function(self, ...)
        check_vehicle(self, name)
        local args, body = { ... }, nil
        if fields then
          local attributes = {}
          for i, f in ipairs(fields) do attributes[f] = args[i] end
          body = { data = { attributes = attributes } }
        end
        return run_command(self, r, body)
      end
    end
  end

  -- Charge schedules: the caller's table, checked field by field, is the body's attributes.
  local WEEKDAYS = { monday = true, tuesday = true, wednesday = true, thursday = true, friday = true,
    saturday = true, sunday = true }
  local function check_time(v, what, fname)
    local h, m
    if type(v) == "string" then h, m = v:match("^(%d%d):(%d%d)$") end
    if not h or tonumber(h) > 23 or tonumber(m) > 59 then
      arg_error(1, fname, ("%s: a time HH:mm (00:00..23:59) expected, got %s"):format(what,
        type(v) == "string" and core.shown(v) or type(v)))
    end
    return v
  end
  local function check_window(w, what, fname)
    if type(w) ~= "table" then
      arg_error(1, fname, ("%s: a table {startTime, stopTime} expected, got %s"):format(what, type(w)))
    end
    for k in pairs(w) do
      if k ~= "startTime" and k ~= "stopTime" then
        arg_error(1, fname, ("%s: unknown field %s"):format(what, core.shown(tostring(k))))
      end
    end
    return { startTime = check_time(w.startTime, what .. ".startTime", fname),
      stopTime = check_time(w.stopTime, what .. ".stopTime", fname) }
  end
  local function check_location(l, fname)
    if type(l) ~= "table" then arg_error(1, fname, "location: a table {latitude, longitude} expected, got " .. type(l)) end
    for k in pairs(l) do
      if k ~= "latitude" and k ~= "longitude" then
        arg_error(1, fname, "location: unknown field " .. core.shown(tostring(k)))
      end
    end
    for _, c in ipairs { { "latitude", 90 }, { "longitude", 180 } } do
      local v = l[c[1]]
      if type(v) ~= "number" or not (v >= -c[2] and v <= c[2]) then
        arg_error(1, fname, ("location.%s: a number from -%d to %d expected, got %s"):format(c[1], c[2], c[2],
          type(v) == "number" and tostring(v) or type(v)))
      end
    end
    return { latitude = l.latitude, longitude = l.longitude }
  end
  for _, r in ipairs(v3.vehicle) do
    if r.schedule then
      local name, fields = r.name, r.fields
      V3Vehicle[name] = function(self, schedule)
        check_vehicle(self, name)
        if type(schedule) ~= "table" then arg_error(1, name, "table expected, got " .. type(schedule)) end
        for k in pairs(schedule) do
          if not fields[k] then arg_error(1, name, "unknown field " .. core.shown(tostring(k))) end
        end
        local a = { location = check_location(schedule.location, name) }
        if r.schedule == "daily" then
          a.startTime = check_time(schedule.startTime, "startTime", name)
          a.stopTime = check_time(schedule.stopTime, "stopTime", name)
        elseif r.schedule == "weekly" then
          if type(schedule.days) ~= "table" or next(schedule.days) == nil then
            arg_error(1, name, "days: a table of weekday name -> {startTime, stopTime} expected")
          end
          a.days = {}
          for day, w in pairs(schedule.days) do
            if not WEEKDAYS[day] then arg_error(1, name, "days: unknown weekday " .. core.shown(tostring(day))) end
            a.days[day] = check_window(w, "days." .. day, name)
          end
        else
          if schedule.weekdays == nil and schedule.weekends == nil then
            arg_error(1, name, "weekdays or weekends expected")
          end
          a.weekdays = schedule.weekdays ~= nil and check_window(schedule.weekdays, "weekdays", name) or nil
          a.weekends = schedule.weekends ~= nil and check_window(schedule.weekends, "weekends", name) or nil
        end
        return run_command(self, r, { data = { attributes = a } })
      end
    end
  end

  function V3Vehicle:deleteChargeSchedule(scheduleId)
    check_vehicle(self, "deleteChargeSchedule")
    check_id(scheduleId, 1, "deleteChargeSchedule")
    return run_command(self, v3.vehicle.deleteChargeSchedule, nil, { scheduleId = scheduleId })
  end

  function V3Vehicle:getChargeSchedule(scheduleId)
    local app = check_vehicle(self, "getChargeSchedule")
    check_id(scheduleId, 1, "getChargeSchedule")
    return one(app, v3.vehicle.getChargeSchedule, { vehicleId = self.id, userId = self.userId, scheduleId = scheduleId })
  end

  local set_limit, set_destination = V3Vehicle.setChargeLimit, V3Vehicle.setDestination
  function V3Vehicle:setChargeLimit(percent)
    check_vehicle(self, "setChargeLimit")
    if type(percent) ~= "number" or percent ~= floor(percent) or not (percent >= 50 and percent <= 100) then
      arg_error(1, "setChargeLimit", "an integer percent from 50 to 100 expected, got " ..
        (type(percent) == "number" and tostring(percent) or type(percent)))
    end
    return set_limit(self, floor(percent))
  end

  function V3Vehicle:setDestination(latitude, longitude)
    check_vehicle(self, "setDestination")
    for i, c in ipairs { { latitude, 90, "latitude" }, { longitude, 180, "longitude" } } do
      local v, limit = c[1], c[2]
      if type(v) ~= "number" then arg_error(i, "setDestination", "number expected, got " .. type(v)) end
      if not (v >= -limit and v <= limit) then
        arg_error(i, "setDestination", ("%s must be between -%d and %d, got %s"):format(c[3], limit, limit, tostring(v)))
      end
    end
    return set_destination(self, latitude, longitude)
  end

  function V3Vehicle:attributes()
    local app = check_vehicle(self, "attributes")
    return one(app, v3.vehicle.attributes, { vehicleId = self.id, userId = self.userId })
  end

  function V3Vehicle:signal(code)
    local app = check_vehicle(self, "signal")
    check_id(code, 1, "signal")
    return one(app, v3.vehicle.signal, { vehicleId = self.id, userId = self.userId, code = code }, signal_of)
  end

  function V3Vehicle:signals()
    local app = check_vehicle(self, "signals")
    local spec = v3.vehicle.signals
    local out, meta, params = {}, nil, { vehicleId = self.id, userId = self.userId }
    for pages_read = 1, math.huge do
      local res, err = call(app, spec, params)
      if not res then return nil, err end
      local body = res.body
      local data, no_data = data_list(body)
      if not data then return nil, no_data end
      for _, r in ipairs(data) do
        local s = signal_of(r)
        if type(s.code) == "string" then out[s.code] = s end
      end
      meta = meta or meta_of(res, body.meta)
      -- the next page, as the API links it (`?page=2&pageSize=10`), built again by the builder
      local nxt = type(body.links) == "table" and body.links.next
      local page = type(nxt) == "string" and tonumber(nxt:match("[?&]page=(%d+)"))
      if not page or page <= (params.page or 1) or #data == 0 then break end
      if pages_read >= SIGNAL_PAGES or page > SIGNAL_PAGES then
        return nil, lacking(("end: past %d pages"):format(SIGNAL_PAGES))
      end
      params = { vehicleId = self.id, userId = self.userId, page = page,
        pageSize = tonumber(nxt:match("[?&]pageSize=(%d+)")) }
    end
    meta.page, meta.pageNumber, meta.pageSize = nil, nil, nil
    return { signals = out, meta = meta }
  end

  smartcar.Application = Application
  return Application, V3Vehicle
end
