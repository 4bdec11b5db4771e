--- The libcurl transport: a keep-alive Session of the C core.
--
-- A transport is an object with `request` and, where it can run requests
-- concurrently, `start` and `poll` (what `smartcar.all` and loops use):
--
--    transport:request(method, url, headers, body, limits)
--      --> status, headers, body  |  nil, code, message, unsent
--    transport:start(method, url, headers, body, limits) --> id
--    transport:poll(ms)
--      --> { {id, status, headers, body} | {id, nil, code, message, unsent}, ... }
--          (what finished since the last poll; waits up to ms when nothing has)
--
-- `headers` map lower-case names to strings (response header names lower-cased,
-- repeated ones joined by ", "), or are the raw header block; `limits` is
-- `{timeout=, connectTimeout=, maxResponseSize=}` (ms, ms, bytes); `code` is
-- `TIMEOUT`, `NETWORK` or `INVALID_RESPONSE`; `unsent` is true when no byte of the
-- request left (a refused connection: even a command may then be retried). The
-- libcurl Session implements all three in C, its sequential and concurrent
-- requests on one connection cache.
-- @module smartcar.transport.libcurl

local core = require "smartcar.core"
local config = require "smartcar.config"
core.own()

local M = {}

local LIMITS = { timeout = true, connectTimeout = true, maxResponseSize = true }

--- A new libcurl transport (its own connections).
-- @tparam[opt] table limits defaults for requests that pass none: `timeout`, `connectTimeout`,
-- `maxResponseSize` (the SDK's defaults otherwise)
-- @return a transport object with `request`, `start`, `poll` and `close`
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
