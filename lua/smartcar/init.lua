--- The Smartcar SDK for Lua.
--
-- `local smartcar = require "smartcar"` gives the Connect OAuth flow
-- (`AuthClient`), every vehicle endpoint (`Vehicle`), the module functions of
-- the official SDKs and the webhook helpers.
--
-- Programmer mistakes raise; everything that talks to the network returns
-- `result` or `nil, err` where `err` is a `SmartcarError`.
--
-- The module is the default SDK instance; `smartcar.new(options)` makes another,
-- with a configuration of its own.
-- @module smartcar

require "cjson.safe" -- the C core takes its JSON encoder from the loaded modules (it decodes on its own)
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
core.own()

local pairs, type = pairs, type

local function new(initial)
  local client = Client.new(config.new(initial, "new"))
  local cfg = client.config

  local smartcar = {
    _VERSION = core._VERSION,
    userAgent = core.userAgent,
    --- The error type: a table with this metatable. `SmartcarError.is(v)` tells whether `v` is one.
    -- Fields: `name`, `statusCode`, `type`, `code`, `description`, `docURL`, `detail`,
    -- `suggestedUserMessage`, `resolution`, `requestId`, `retryAfter`, `message`.
    SmartcarError = core.SmartcarError,
    transports = {},
  }

  --- A new, independent SDK instance: every function and class of the module, bound to a
  -- configuration of its own (the keys of `configure`; unknown keys raise).
  -- @tparam[opt] table options as for `configure`
  -- @treturn table the instance
  -- @usage local sc = smartcar.new { origin = "http://127.0.0.1:8080", timeout = 5000 }
  smartcar.new = new

  --- Change this instance's configuration. Unknown keys raise; nothing is set unless every key is valid.
  -- @tparam table options `origin` (all origins), `apiOrigin`, `authOrigin`, `connectOrigin`, `vehicleOrigin`,
  -- `managementOrigin` (http(s) origins), `timeout`, `connectTimeout` (ms), `maxResponseSize` (bytes),
  -- `apiVersion`, `transport` (an object with `request` and optionally `start`/`poll`, or a function),
  -- `retry` (`{attempts=, baseDelay=, maxDelay=}` or false), `onResponse`, `concurrency`, `caFile`, `caPath`
  -- @usage smartcar.configure{ apiOrigin = "http://127.0.0.1:8080", timeout = 5000 }
  function smartcar.configure(options)
    client:configure(options, "configure")
  end

  --- This instance's configuration (a copy).
  -- @treturn table origins, `timeout`, `connectTimeout`, `maxResponseSize`, `apiVersion`, `transport`
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

  --- Transport objects (see `smartcar.transport.libcurl` for the interface).
  -- @table transports
  -- @field libcurl libcurl, one keep-alive Session per Lua state: the default transport outside nginx
  -- (inside nginx, see `smartcar.transport.auto`)
  smartcar.transports.libcurl = libcurl.default()

  install_auth(smartcar, client)
  install_fleet(smartcar, client, install_vehicle(smartcar, client))
  install_api(smartcar, client)
  install_webhooks(smartcar)
  Client.bind(smartcar, client)
  return smartcar
end

return new()
