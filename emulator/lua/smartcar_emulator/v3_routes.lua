-- Routing of /v3/... (Vehicle API v3 and Management API v3 on one origin). Application tokens (from
-- POST /oauth2/token) reach every V3 route; v2 per-vehicle tokens keep reaching GET /v3/vehicles/{id}
-- and the signal reads through smartcar_emulator.v3 (the coexistence the V3 reference describes).
local state = require "smartcar_emulator.state"
local v3 = require "smartcar_emulator.v3"
local C = require "smartcar_emulator.v3_common"
local conns = require "smartcar_emulator.v3_connections"
local cmds = require "smartcar_emulator.v3_commands"
local mgmt = require "smartcar_emulator.v3_management"

local M = {}

local function legacy_path(rest)
  local vid, sub = rest:match("^/vehicles/([^/]+)(.*)$")
  return vid ~= nil and (sub == "" or sub == "/signals" or sub:match("^/signals/[^/]+$") ~= nil)
end

local function app_only_path(rest)
  return rest == "/connections" or rest:find("^/connections/") ~= nil or rest:find("^/users/") ~= nil or
    rest == "/webhooks" or rest:find("^/webhooks/") ~= nil or rest == "/subscriptions" or
    rest:find("^/subscriptions/") ~= nil or rest == "/applications" or rest:find("^/applications/") ~= nil or
    rest:find("^/vehicles/[^/]+/commands/") ~= nil or
    rest:find("^/vehicles/[^/]+/charge%-schedules") ~= nil
end

local function is_management(rest)
  return rest:find("^/webhooks") ~= nil or rest:find("^/subscriptions") ~= nil or rest:find("^/applications") ~= nil
end

--- /v3 + rest
function M.handle(ctx, rest)
  local bearer = C.bearer(ctx)
  local s = C.store()
  local known = bearer and s.tokens[bearer]
  if not known then
    -- not an application token: v2 tokens on the legacy reads, 401 on application-only routes
    if app_only_path(rest) then return C.unauthorized(ctx) end
    return v3.handle(ctx, rest)
  end
  local tok = C.app_token(ctx)
  if not tok or not state.apps[tok.appId] then return C.unauthorized(ctx) end
  ctx.app = tok
  if not is_management(rest) then
    local wait = C.app_rate(tok.appId)
    if wait then return C.err(ctx, "RATE_LIMIT", "SMARTCAR_API", { retryAfter = wait }) end
  end
  local res = conns.handle(ctx, rest, tok) or mgmt.handle(ctx, rest, tok)
  if res then return res end
  local vid, sub = rest:match("^/vehicles/([^/]+)(.*)$")
  if not vid then return C.invalid_path(ctx) end
  local path = sub:match("^/commands/(.+)$")
  if path then return cmds.command(ctx, tok, vid, path) end
  local sched = sub:match("^/charge%-schedules/(.+)$")
  if sched then return cmds.schedule(ctx, tok, vid, sched) end
  if ctx.method ~= "GET" then return C.invalid_path(ctx) end
  if sub == "" then return cmds.get_vehicle(ctx, tok, vid) end
  if legacy_path(rest) then
    local v, grant = cmds.authorize(ctx, tok, vid, true)
    if not v then return grant end
    ctx.appGrant = grant
    return v3.handle(ctx, rest)
  end
  return C.invalid_path(ctx)
end

return M
