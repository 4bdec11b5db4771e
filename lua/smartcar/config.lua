--- Configuration: the one table of defaults, the environment, and validation.
-- An SDK instance owns one configuration table; `configure` changes only its own.
-- @module smartcar.config

local core = require "smartcar.core"
core.own()

local type, pairs, tostring, getenv = type, pairs, tostring, os.getenv
local raise, option_error = core.raise, core.optionError

local M = {}

--- The defaults, in one place. Origins may also come from the environment (`ENV`).
M.DEFAULTS = {
  apiOrigin = "https://api.smartcar.com",
  authOrigin = "https://auth.smartcar.com",
  connectOrigin = "https://connect.smartcar.com",
  vehicleOrigin = "https://vehicle.api.smartcar.com",
  managementOrigin = "https://management.smartcar.com",
  iamOrigin = "https://iam.smartcar.com",                           -- API V3: the application token
  managementApiOrigin = "https://management.api.smartcar.com",      -- API V3: webhooks, subscriptions
  timeout = 310000,          -- ms, one attempt (as the official SDKs)
  connectTimeout = 10000,    -- ms
  maxResponseSize = 8 * 1024 * 1024, -- bytes
  apiVersion = "2.0",
  concurrency = 16,          -- fanOut and all: requests in flight
  retry = { attempts = 3, baseDelay = 250, maxDelay = 30000 }, -- ms; false: one attempt
}

local ORIGINS = {
  apiOrigin = { "SMARTCAR_API_ORIGIN" },
  authOrigin = { "SMARTCAR_AUTH_ORIGIN" },
  connectOrigin = { "SMARTCAR_CONNECT_ORIGIN" },
  vehicleOrigin = { "SMARTCAR_API_V3_ORIGIN", "SMARTCAR_VEHICLE_API_ORIGIN" },
  managementOrigin = { "SMARTCAR_MANAGEMENT_API_ORIGIN" },
  iamOrigin = { "SMARTCAR_IAM_ORIGIN" },
  managementApiOrigin = { "SMARTCAR_MANAGEMENT_API_V3_ORIGIN" },
}
M.ORIGINS = ORIGINS

local MAX_MS = 2147483647

-- A wrong value as a message repeats it: strings quoted, short, without control characters.
local function show(value)
  if type(value) == "string" then return core.shown(value) end
  return type(value) == "number" and tostring(value) or type(value)
end
M.show = show

-- scheme://host[:port][/path]: no userinfo, query, fragment, space or control character
local function valid_origin(value)
  local host, path = value:match("^https?://([%w%.%-%[%]:]+)(.*)$")
  return host ~= nil and host:sub(1, 1) ~= ":" and (path == "" or path:match("^/[%w%-%._~/%%]*$") ~= nil)
end

local function check_origin(name, value, fname)
  if type(value) ~= "string" or not valid_origin(value) then
    option_error(name, fname, ("an http(s) origin expected, got %s"):format(
      type(value) == "string" and core.shown(value) or type(value)))
  end
  return (value:gsub("/+$", ""))
end

local function check_ms(name, value, fname)
  if type(value) ~= "number" then option_error(name, fname, "number expected, got " .. type(value)) end
  if not (value >= 1 and value <= MAX_MS) then
    option_error(name, fname, ("must be between 1 and %d ms, got %s"):format(MAX_MS, show(value)))
  end
  return math.ceil(value)
end

local function check_version(name, value, fname)
  if type(value) ~= "string" or not value:match("^%d+%.%d+$") then
    option_error(name, fname, ("a version such as '2.0' expected, got %s"):format(show(value)))
  end
  return value
end

local function check_transport(name, value, fname)
  if type(value) == "function" then
    -- a plain function(method, url, headers, body, timeoutMs) is wrapped into an object
    return { request = function(_, method, url, headers, body, limits)
      return value(method, url, headers, body, limits.timeout)
    end }
  end
  local ok, request = pcall(function() return value.request end)
  if not ok or type(request) ~= "function" then
    option_error(name, fname, "a transport object with a request method expected, got " .. type(value))
  end
  return value
end

local function check_path(name, value, fname)
  if type(value) ~= "string" or value == "" or value:find("[%z\r\n]") then
    option_error(name, fname, "a file or directory path expected, got " ..
      (type(value) == "string" and core.shown(value) or type(value)))
  end
  return value
end

-- retry: false, true (the defaults), or a table of some of the defaults' keys.
local RETRY_KEYS = { attempts = true, baseDelay = true, maxDelay = true }
local function check_retry(name, value, fname)
  if value == false then return false end
  if value == true then value = {} end
  if type(value) ~= "table" then
    option_error(name, fname, "false or a table {attempts=, baseDelay=, maxDelay=} expected, got " .. show(value))
  end
  local retry = {}
  for k, v in pairs(M.DEFAULTS.retry) do retry[k] = v end
  for k, v in pairs(value) do
    if not RETRY_KEYS[k] then raise(("unknown option 'retry.%s' to '%s'"):format(tostring(k), fname)) end
    local ok = type(v) == "number" and v == math.floor(v) and
      (k == "attempts" and v >= 1 and v <= 100 or k ~= "attempts" and v >= 0 and v <= MAX_MS)
    if not ok then
      option_error(name .. "." .. k, fname, (k == "attempts" and "a whole number from 1 to 100" or
        "a whole number of ms from 0 to " .. MAX_MS) .. " expected, got " .. show(v))
    end
    retry[k] = v
  end
  if retry.maxDelay < retry.baseDelay then
    option_error(name .. ".maxDelay", fname, "must be at least baseDelay (" .. retry.baseDelay .. ")")
  end
  return retry
end

local function check_hook(name, value, fname)
  if value ~= false and type(value) ~= "function" then
    option_error(name, fname, "a function (or false for none) expected, got " .. show(value))
  end
  return value
end

-- How each key is checked (and normalised).
local KEYS = {
  timeout = check_ms, connectTimeout = check_ms,
  maxResponseSize = function(name, value, fname)
    if type(value) ~= "number" or not (value >= 1 and value <= 1024 * 1024 * 1024) then
      option_error(name, fname, "a number of bytes between 1 and 1 GiB expected, got " .. show(value))
    end
    return math.floor(value)
  end,
  apiVersion = check_version,
  transport = check_transport,
  caFile = check_path, caPath = check_path,
  origin = check_origin,
  retry = check_retry,
  onResponse = check_hook,
  concurrency = function(name, value, fname)
    if type(value) ~= "number" or not (value >= 1 and value < 2 ^ 31) then
      option_error(name, fname, "a number of requests in flight (>= 1) expected, got " .. show(value))
    end
    return math.floor(value)
  end,
}
-- Check (and normalise) a `concurrency` option, as `new`/`configure` do: for `all`, `loop`, `fanOut`.
M.concurrency = KEYS.concurrency
for name in pairs(ORIGINS) do KEYS[name] = check_origin end

--- Apply validated options to a configuration table (all checked before any is set).
-- `origin` sets every origin at once; the specific origins win over it.
function M.apply(config, options, fname)
  if type(options) ~= "table" then
    core.argError(1, fname, "table expected, got " .. type(options))
  end
  local checked = {}
  for k, v in pairs(options) do
    local check = KEYS[k]
    if not check then raise(("unknown option '%s' to '%s'"):format(tostring(k), fname)) end
    checked[k] = check(k, v, fname)
  end
  if checked.origin then
    for name in pairs(ORIGINS) do config[name] = checked.origin end
    checked.origin = nil
  end
  for k, v in pairs(checked) do config[k] = v end
  -- the limits compiled for the libcurl transport (it reads them instead of five fields a request)
  config[core.LIMITS] = core.compileLimits(config)
  return config
end

--- A new configuration: the defaults, then the environment, then `options`.
function M.new(options, fname)
  local config = {}
  for k, v in pairs(M.DEFAULTS) do config[k] = v end
  for name, vars in pairs(ORIGINS) do
    for i = #vars, 1, -1 do
      local env = getenv(vars[i])
      if env and env ~= "" then config[name] = check_origin(vars[i], env, fname) end
    end
  end
  M.apply(config, options or {}, fname)
  return config
end

M.checkVersion = check_version

return M
