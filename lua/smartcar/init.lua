--- The Smartcar SDK for Lua.
--
-- `local smartcar = require "smartcar"` gives the Connect OAuth flow (`AuthClient`), every
-- vehicle endpoint (`Vehicle`; the methods without arguments are in `smartcar.VehicleEndpoints`),
-- the module functions of the official SDKs (user, vehicles, compatibility, management) and the
-- webhook helpers. Programmer mistakes raise; everything that talks to the network returns
-- `result` or `nil, err`, where `err` is a `SmartcarError`. A result is the decoded JSON body
-- (a JSON null is an absent key) with `meta`, whose fields each function lists under Returns.
--
-- Instances. The module is the default SDK instance. `smartcar.new(options)` makes another:
-- every function and class of the module, bound to a configuration of its own (the keys of
-- `configure`). `configure` changes one instance only, so two tenants in one process never see
-- each other's origins, timeouts, retries or hooks. Instances given no `transport` share the
-- libcurl one (`transports.libcurl`: one pool of keep-alive connections per Lua state).
--
-- Transports. Outside nginx, requests go through libcurl. Inside nginx (OpenResty) the SDK picks
-- by phase with no configuration (`smartcar.transport.auto`): cosockets where they run, so the
-- worker never blocks (`smartcar.transport.resty`); libcurl in `init` and `init_worker`; elsewhere
-- an `SDK_ERROR` with code `UNSUPPORTED_PHASE`. `configure{transport = t}` plugs in your own: an
-- object with `request(method, url, headers, body, limits)` and, to run requests concurrently,
-- `start` and `poll` (the interface is in `smartcar.transport.libcurl`), or a plain function.
--
-- Retries and deadlines. `timeout` (ms, default 310000) is a deadline for one attempt, from the
-- connection to the last byte; `connectTimeout` (ms, default 10000) bounds the connection, TLS
-- included. Reads (GET, and `batch`) are retried on a network failure, on 500, 502, 503 and 504,
-- and on a 429 whose `retry-after` is at most `retry.maxDelay` (waiting as asked); the backoff is
-- exponential with full jitter (`retry = {attempts = 3, baseDelay = 250, maxDelay = 30000}`, or
-- `false` for one attempt). Commands and token exchanges are retried only when the request never
-- left, so none is sent twice. The error after the last attempt has `attempts`.
--
-- Concurrency. `smartcar.all(tasks)` runs functions (each making SDK calls as usual) as
-- coroutines whose requests share one libcurl multi handle (in nginx: light threads on
-- cosockets), at most `concurrency` (16) in flight; it returns each task's first two results, in
-- task order. A host with a loop of its own (a game, luv) makes `smartcar.loop()`, starts tasks with
-- `run` and calls `step(ms)` from its frame or tick. `fanOut(vehicles, "odometer")` calls one
-- method on many vehicles. A retry's wait never holds the other tasks.
--
-- Paging. `eachVehicleId`, `Vehicle:eachPermission` and `eachConnection` are iterators for a
-- generic `for`; each page is fetched when the loop reaches it. On a failure the iterator gives
-- `false, err` once, then ends: `if not id then print(err.message) break end`.
--
-- Observing. `configure{onResponse = function(info) end}` is called after every attempt with
-- `info = {method, url, status, ms, attempt, requestId, error}` (`url` without its query; `error` a
-- SmartcarError or nil). It never sees a header value, a body or a secret. An error raised by the
-- hook propagates to the caller.
-- @module smartcar

local core = require "smartcar.core"
local config = require "smartcar.config"
local Client = require "smartcar.client"
local libcurl = require "smartcar.transport.libcurl"
local auto = require "smartcar.transport.auto"
local install_auth = require "smartcar.auth"
local install_vehicle = require "smartcar.vehicle"
local install_api = require "smartcar.api"
local install_webhooks = require "smartcar.webhooks"
local install_fleet = require "smartcar.fleet"
local install_application = require "smartcar.application"
core.own()

local pairs, type = pairs, type

local function new(initial)
  local client = Client.new(config.new(initial, "new"))
  local cfg = client.config

  local smartcar = {
    --- The SDK's version, a string such as `"0.2.0"`.
    _VERSION = core._VERSION,
    --- The `User-Agent` header the SDK sends, such as `Smartcar/0.2.0 (linux; x86_64) Lua 5.4.4`.
    userAgent = core.userAgent,
    --- The error type: every `err` is a table with this metatable (`tostring(err)` is its `message`).
    -- `SmartcarError.is(v)` tells whether `v` is one. Absent fields are nil.
    -- @table SmartcarError
    -- @tfield string name `"SmartcarError"`
    -- @tfield integer statusCode the HTTP status (a batch item's own code; 408 for a timeout; 0 when no
    -- answer came)
    -- @tfield string type e.g. `VEHICLE_STATE`, `AUTHENTICATION`; `SDK_ERROR` when no usable answer came
    -- @tfield string code e.g. `ASLEEP`; with `SDK_ERROR`: `TIMEOUT`, `NETWORK` or `INVALID_RESPONSE` (and
    -- `INVALID_SIGNATURE`, `INVALID_PAYLOAD` from `parseWebhook`)
    -- @tfield string description what went wrong (for `INVALID_RESPONSE`, the start of the body)
    -- @tfield string docURL Smartcar's page about the error
    -- @tfield table detail more about a `VALIDATION` error, as the server sent it
    -- @tfield string suggestedUserMessage words to show the user
    -- @tfield table resolution `{type=, url=}`: what to do, e.g. `RETRY_LATER`, `REAUTHENTICATE` (with a
    -- Connect URL)
    -- @tfield string requestId the `requestId` of the body, else the `sc-request-id` header
    -- @tfield number retryAfter seconds to wait, from the `retry-after` header (delta-seconds or an HTTP
    -- date; at most a year)
    -- @tfield string message `"TYPE:CODE - DESCRIPTION"`, or `"TYPE - DESCRIPTION"` without a code
    -- @tfield integer attempts the number of attempts made (see the retries above)
    -- @tfield SmartcarError refreshError a self-authorizing vehicle (or an `Application`): why the token
    -- refresh failed
    -- @tfield string title API V3: the error's title, e.g. `Not Found` (`description` is its `detail`)
    -- @tfield {table,...} errors API V3: every entry of the body's `errors` list, as sent (the fields above
    -- come from the first: `type`, `code`, `detail` -> `description`, `links.about` -> `docURL`,
    -- `meta.debug.requestId` -> `requestId`, `status` -> `statusCode`)
    SmartcarError = core.SmartcarError,
    transports = {},
  }

  --- A new, independent SDK instance: every function and class of the module, bound to a
  -- configuration of its own. Each option not given takes its default; unknown keys raise.
  -- Origins are `http(s)://host[:port][/path]`; times are ms.
  -- @function new
  -- @tparam[opt] table options
  -- @tparam[opt] string options.origin sets every origin below at once (an emulator, a proxy); the ones
  -- given beside it win
  -- @tparam[opt] string options.apiOrigin the v1/v2 API, compatibility included: `https://api.smartcar.com`,
  -- env `SMARTCAR_API_ORIGIN`
  -- @tparam[opt] string options.authOrigin the token endpoint: `https://auth.smartcar.com`, env
  -- `SMARTCAR_AUTH_ORIGIN`
  -- @tparam[opt] string options.connectOrigin Connect, for `getAuthUrl`: `https://connect.smartcar.com`, env
  -- `SMARTCAR_CONNECT_ORIGIN`
  -- @tparam[opt] string options.vehicleOrigin the v3 API: `https://vehicle.api.smartcar.com`, env
  -- `SMARTCAR_API_V3_ORIGIN` (or `SMARTCAR_VEHICLE_API_ORIGIN`)
  -- @tparam[opt] string options.managementOrigin the management API: `https://management.smartcar.com`, env
  -- `SMARTCAR_MANAGEMENT_API_ORIGIN`
  -- @tparam[opt] string options.iamOrigin API V3's token endpoint (`Application:token`): `https://iam.smartcar.com`,
  -- env `SMARTCAR_IAM_ORIGIN`
  -- @tparam[opt] string options.managementApiOrigin API V3's Management API (webhooks, subscriptions):
  -- `https://management.api.smartcar.com`, env `SMARTCAR_MANAGEMENT_API_V3_ORIGIN`
  -- @tparam[opt] number options.timeout the deadline of one attempt, 310000
  -- @tparam[opt] number options.connectTimeout the time to connect, TLS included, 10000
  -- @tparam[opt] number options.maxResponseSize bytes; a larger answer is an `INVALID_RESPONSE`, 8 MiB
  -- @tparam[opt] string options.apiVersion the version of new vehicles and module functions, `"2.0"`
  -- @tparam[opt] table|function options.transport an object with `request` (and `start`, `poll`), or a
  -- `function(method, url, headers, body, timeout)`: libcurl, or inside nginx by phase
  -- @tparam[opt] table|boolean options.retry `{attempts = 3, baseDelay = 250, maxDelay = 30000}` (any of
  -- them), or `false` for one attempt
  -- @tparam[opt] function options.onResponse `function(info)` after every attempt, or `false`
  -- @tparam[opt] number options.concurrency requests in flight in `all`, `loop` and `fanOut`, 16
  -- @tparam[opt] string options.caFile a PEM bundle of the CAs that libcurl trusts (the system's by default)
  -- @tparam[opt] string options.caPath a directory of CAs for libcurl
  -- @treturn table the instance: `AuthClient`, `Vehicle` and every function of the module
  -- @usage local sc = smartcar.new { origin = "http://127.0.0.1:8080", timeout = 5000 }
  smartcar.new = new

  --- Change this instance's configuration. Unknown keys raise; nothing is set unless every key is valid.
  -- @tparam table options any of the options of `new`: `origin`, `apiOrigin`, `authOrigin`, `connectOrigin`,
  -- `vehicleOrigin`, `managementOrigin`, `iamOrigin`, `managementApiOrigin`, `timeout`, `connectTimeout`,
  -- `maxResponseSize`, `apiVersion`,
  -- `transport`, `retry`, `onResponse`, `concurrency`, `caFile`, `caPath`
  -- @usage smartcar.configure{ apiOrigin = "http://127.0.0.1:8080", timeout = 5000 }
  function smartcar.configure(options)
    client:configure(options, "configure")
  end

  --- This instance's configuration (a copy): the options of `new` in effect.
  -- @treturn table the configuration
  -- @tfield[table] string apiOrigin and `authOrigin`, `connectOrigin`, `vehicleOrigin`, `managementOrigin`,
  -- `iamOrigin`, `managementApiOrigin`
  -- @tfield[table] number timeout ms; and `connectTimeout` (ms), `maxResponseSize` (bytes)
  -- @tfield[table] string apiVersion e.g. `"2.0"`
  -- @tfield[table] number concurrency requests in flight in `all`, `loop` and `fanOut`
  -- @tfield[table] table|boolean retry `{attempts, baseDelay, maxDelay}`, or `false`
  -- @tfield[table] table|userdata transport the transport object in use
  -- @tfield[table] function onResponse when set; so are `caFile` and `caPath`
  function smartcar.getConfig()
    local copy = {}
    for k, v in pairs(cfg) do
      if type(k) == "string" then copy[k] = v end
    end
    copy.transport = cfg.transport or auto.get()
    return copy
  end

  --- Set the API version used by new vehicles and the module functions (`"2.0"` by default).
  -- @tparam string version e.g. `"1.0"`
  function smartcar.setApiVersion(version)
    if type(version) ~= "string" or not version:match("^%d+%.%d+$") then
      core.argError(1, "setApiVersion", "a version such as '2.0' expected, got " .. config.show(version))
    end
    cfg.apiVersion = version
  end

  --- The API version in use.
  -- @treturn string
  function smartcar.getApiVersion() return cfg.apiVersion end

  --- The `meta` of every v1/v2 result (module functions and vehicle methods): from the response
  -- headers, each key absent when its header is. v3 results have every header in `headers` instead.
  -- @table meta
  -- @tfield string requestId the `sc-request-id` header: quote it to Smartcar support
  -- @tfield string dataAge the `sc-data-age` header: when the vehicle recorded the data, ISO-8601
  -- @tfield string fetchedAt the `sc-fetched-at` header: when Smartcar fetched it, ISO-8601
  -- @tfield string unitSystem the `sc-unit-system` header: `metric` or `imperial`

  --- Transport objects (see `smartcar.transport.libcurl` for the interface).
  -- @table transports
  -- @field libcurl libcurl, one keep-alive Session per Lua state: the default transport outside nginx
  -- (inside nginx, see `smartcar.transport.auto`)
  smartcar.transports.libcurl = libcurl.default()

  install_auth(smartcar, client)
  install_fleet(smartcar, client, install_vehicle(smartcar, client))
  install_api(smartcar, client)
  install_webhooks(smartcar)
  install_application(smartcar, client)
  Client.bind(smartcar, client)
  return smartcar
end

return new()
