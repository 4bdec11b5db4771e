-- Counters for GET /_emulator/stats: token requests by grant type, and the API requests being served
-- (one nginx worker; requests overlap only while one sleeps, so plain counters do).
local util = require "smartcar_emulator.util"

local M = {}

local GRANTS = { authorization_code = true, refresh_token = true, client_credentials = true }

--- Zero every counter. Requests begun before keep running but no longer count when they end.
function M.reset()
  M.generation = (M.generation or 0) + 1
  M.tokenRequests = { authorization_code = 0, refresh_token = 0, client_credentials = 0, total = 0 }
  M.requests, M.inFlight, M.maxInFlight = 0, 0, 0
end
M.reset()

--- A request to /oauth/token (counted by the form's grant_type, before any fault or check).
function M.token_request(ctx)
  local t = M.tokenRequests
  t.total = t.total + 1
  local grant = ctx.method == "POST" and util.decode_args(ctx.body).grant_type
  if grant and GRANTS[grant] then t[grant] = t[grant] + 1 end
end

--- An API request starts (ends with finish, called at the end of the handler and in the log phase).
function M.begin()
  M.requests = M.requests + 1
  local n = M.inFlight + 1
  M.inFlight = n
  if n > M.maxInFlight then M.maxInFlight = n end
  ngx.ctx.emulatorStats = M.generation
end

--- The request started by begin ends (idempotent; no-op for requests that were not counted).
function M.finish()
  local c = ngx.ctx
  local g = c.emulatorStats
  if g == nil then return end
  c.emulatorStats = nil
  if g == M.generation then M.inFlight = M.inFlight - 1 end
end

return M
