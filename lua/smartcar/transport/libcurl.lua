--- The libcurl transport: a keep-alive Session of the C core.
--
-- A transport is an object with `request` and, where it can run requests
-- concurrently, `many`:
--
--    transport:request(method, url, headers, body, limits)
--      --> status, headers, body  |  nil, code, message
--    transport:many(requests, limits, concurrency)
--      --> { {status, headers, body} | {nil, code, message}, ... }   (in request order)
--
-- `headers` map lower-case names to strings (response header names lower-cased,
-- repeated ones joined by ", "); `limits` is `{timeout=, connectTimeout=,
-- maxResponseSize=}` (ms, ms, bytes); `code` is `TIMEOUT`, `NETWORK` or
-- `INVALID_RESPONSE`. The libcurl Session implements both methods in C, on one
-- connection cache shared by its sequential and concurrent requests.
-- @module smartcar.transport.libcurl

local core = require "smartcar.core"
local config = require "smartcar.config"
core.own()

local M = {}

local LIMITS = { timeout = true, connectTimeout = true, maxResponseSize = true }

--- A new libcurl transport (its own connections).
-- @tparam[opt] table limits defaults for requests that pass none: `timeout`, `connectTimeout`,
-- `maxResponseSize` (the SDK's defaults otherwise)
-- @return a transport object with `request`, `many` and `close`
function M.new(limits)
  limits = core.checkOptions(limits, 1, "libcurl.new", LIMITS)
  local c = config.new(limits, "libcurl.new") -- validated as configure validates them, defaults filled in
  return core.newSession { timeout = c.timeout, connectTimeout = c.connectTimeout, maxResponseSize = c.maxResponseSize }
end

local shared
--- The transport every SDK instance uses unless told otherwise (one per Lua state).
function M.default()
  shared = shared or M.new()
  return shared
end

return M
