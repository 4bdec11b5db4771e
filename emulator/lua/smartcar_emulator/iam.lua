-- IAM: the client-credentials token endpoint of API V3 (POST /oauth2/token on the emulator's origin).
-- Credentials in the form or JSON body, or HTTP Basic; opaque application tokens, expires_in 3600 by
-- default (emulator clock); OAuth-style errors.
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local http = require "smartcar_emulator.http"
local C = require "smartcar_emulator.v3_common"

local M = {}

local function oauth(status, err, description, headers)
  return { status = status, headers = headers, json = json.object({ "error", "error_description" },
    { error = err, error_description = description }) }
end

local function params(ctx)
  local ctype = ctx.headers["content-type"] or ""
  if type(ctype) == "table" then ctype = ctype[1] end
  if ctype:lower():find("json", 1, true) then
    local v = json.decode(ctx.body or "")
    if type(v) ~= "table" then return nil end
    local out = {}
    for k, val in pairs(v) do
      if type(val) == "string" then out[k] = val elseif type(val) == "number" then out[k] = tostring(val) end
    end
    return out
  end
  return util.decode_args(ctx.body or "")
end

--- POST /oauth2/token
function M.token(ctx)
  if ctx.method ~= "POST" then
    return oauth(405, "invalid_request", "The token endpoint only accepts POST.", { Allow = "POST" })
  end
  local p = params(ctx)
  if not p then return oauth(400, "invalid_request", "The request body is not valid JSON.") end
  local grant_type = p.grant_type
  if grant_type == nil or grant_type == "" then
    return oauth(400, "invalid_request", "Missing required parameter: grant_type.")
  end
  if grant_type ~= "client_credentials" then
    return oauth(400, "unsupported_grant_type", "Unsupported grant_type: " .. grant_type .. ".")
  end
  local id, secret = http.basic(ctx)
  local basic = id ~= nil
  if not basic then id, secret = p.client_id, p.client_secret end
  local s = C.store()
  local cred = id and s.creds[id]
  local good = false
  if cred and type(secret) == "string" then
    for _, known in ipairs(cred.secrets) do
      if util.equal(secret, known) then good = true end
    end
  end
  if not good or not state.apps[cred.appId] then
    return oauth(401, "invalid_client", "Client authentication failed: unknown client_id or wrong client_secret.",
      basic and { ["WWW-Authenticate"] = 'Basic realm="smartcar"' } or nil)
  end
  s.tokenSeq = s.tokenSeq + 1
  local token = "sc_" .. util.uuid(state.seed, "app-token:" .. s.gen .. ":" .. s.tokenSeq):gsub("%-", "")
  local ttl = s.config.appTokenLifetime
  s.tokens[token] = { appId = cred.appId, apiClientId = id, expiresAt = state.now() + ttl }
  return { status = 200, headers = { ["Cache-Control"] = "no-store", Pragma = "no-cache" },
    json = json.object({ "access_token", "token_type", "expires_in" },
      { access_token = token, token_type = "Bearer", expires_in = ttl }) }
end

--- Admin: add API credentials (a client id with up to three secrets) for an application.
function M.add_credentials(args)
  local s = C.store()
  local appId = args.applicationId or state.DEFAULT_APP.clientId
  if not state.apps[appId] then return 400, { error = "unknown applicationId" } end
  if type(args.clientId) ~= "string" or not args.clientId:find("^client_[%w_%-]+$") then
    return 400, { error = "\"clientId\" must be a string starting with client_" }
  end
  if type(args.clientSecret) ~= "string" or args.clientSecret == "" then
    return 400, { error = "\"clientSecret\" is required" }
  end
  local cred = s.creds[args.clientId]
  if cred and cred.appId ~= appId then return 409, { error = "clientId belongs to another application" } end
  if not cred then
    cred = { appId = appId, secrets = {} }
    s.creds[args.clientId] = cred
  end
  local known = false
  for _, x in ipairs(cred.secrets) do if x == args.clientSecret then known = true end end
  if not known then
    if #cred.secrets >= C.MAX_SECRETS then
      return 409, { error = "an API credential holds at most " .. C.MAX_SECRETS .. " secrets" }
    end
    cred.secrets[#cred.secrets + 1] = args.clientSecret
  end
  return 200, json.object({ "ok", "clientId", "applicationId", "secrets" },
    { ok = true, clientId = args.clientId, applicationId = appId, secrets = #cred.secrets })
end

--- Admin: revoke an application token at once.
function M.revoke(args)
  local s = C.store()
  if type(args.accessToken) ~= "string" or not s.tokens[args.accessToken] then
    return 404, { error = "unknown accessToken" }
  end
  s.tokens[args.accessToken] = nil
  return 200, { ok = true }
end

return M
