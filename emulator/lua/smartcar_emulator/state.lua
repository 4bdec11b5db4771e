-- All mutable emulator state, kept in this module's tables (one nginx worker).
local util = require "smartcar_emulator.util"
local fixtures = require "smartcar_emulator.fixtures"
local json = require "smartcar_emulator.json"

local M = {}

M.DEFAULT_APP = {
  clientId = "8229df9f-91a0-4ff0-a1ae-a1f38ee24d07",
  clientSecret = "emulator-client-secret",
  name = "Emulator Demo",
  redirectUris = { "http://localhost:8000/callback", "https://example.com/callback" },
  amt = "emulator-amt",
}
M.DEFAULT_WEBHOOK = "4bd5a6e8-1c2e-4d4b-9a8b-5b1f0c8a9d01"

M.ACCESS_TTL = 7200
M.REFRESH_TTL = 60 * 86400
M.CODE_TTL = 600
M.REFRESH_GRACE = 60

-- launch options (set by init, survive resets)
M.options = { seed = 1, latency = 0, faults = false, rateLimit = 0, rateWindow = 60 }

function M.now()
  return ngx.now() + M.clockOffset
end

local function copy_app(a)
  local uris = {}
  for i, u in ipairs(a.redirectUris or {}) do uris[i] = u end
  return { clientId = a.clientId, clientSecret = a.clientSecret, name = a.name or "Emulator App",
    redirectUris = uris, amt = a.amt }
end

function M.reset(seed)
  M.seed = tostring(seed or M.options.seed)
  M.clockOffset = 0
  M.counter = 0
  M.apps = {}
  M.appsByAmt = {}
  M.webhooks = {}
  M.subscriptions = {}
  M.tokens = {}        -- access token → { grant, expiresAt }
  M.refresh = {}       -- refresh token → { grant, expiresAt, usedAt }
  M.codes = {}         -- code → { clientId, redirectUri, grant data, expiresAt, used }
  M.sessions = {}      -- Connect page sessions
  M.accounts = {}      -- email → account
  M.vehicles = {}      -- id → vehicle
  M.connections = {}   -- list of { clientId, userId, vehicleId, connectedAt, mode, seq }
  M.connSeq = 0
  M.bulkSeq = 0        -- connections made by POST /_emulator/connections
  M.rate = {}          -- vehicle id → { start, count }
  M.fault = nil        -- { spec, count, path? }
  M.config = { latency = M.options.latency, rateLimit = M.options.rateLimit, rateWindow = M.options.rateWindow,
    accessTokenLifetime = M.ACCESS_TTL, refreshTokenLifetime = M.REFRESH_TTL, refreshGrace = M.REFRESH_GRACE }
  M.register_app(M.DEFAULT_APP)
  M.webhooks[M.DEFAULT_WEBHOOK] = { clientId = M.DEFAULT_APP.clientId, name = "Emulator Webhook" }
end

function M.register_app(a)
  local app = copy_app(a)
  local old = M.apps[app.clientId]
  if old and old.amt then M.appsByAmt[old.amt] = nil end
  M.apps[app.clientId] = app
  if app.amt then M.appsByAmt[app.amt] = app end
  return app
end

--- A fresh deterministic id (tokens, codes, sessions): reproducible per seed and reset.
function M.next_id(kind)
  M.counter = M.counter + 1
  return util.uuid(M.seed, kind .. ":" .. M.counter)
end

-- The i-th vehicle of an account (id from the seed, the email and i).
local function materialise(acct, i, spec)
  local id = util.uuid(M.seed, "vehicle:" .. acct.email .. ":" .. i)
  local v = M.vehicles[id] or fixtures.build_vehicle(M.seed, id, spec)
  v.userId = acct.userId
  M.vehicles[id] = v
  acct.vehicles[i] = v
end

--- The account behind an email, with its vehicles materialised. With count, the account has exactly
-- count vehicles from now on: its first ones kept, more cycling through the model catalog.
function M.account(email, count)
  email = fixtures.normalize_email(email):lower()
  local acct = M.accounts[email]
  if not acct then
    acct = fixtures.account(M.seed, email)
    acct.vehicles = {}
    for i, spec in ipairs(acct.specs) do materialise(acct, i, spec) end
    M.accounts[email] = acct
  end
  if count and not acct.connectError then
    local models = fixtures.MODELS
    for i = #acct.vehicles + 1, count do
      materialise(acct, i, acct.specs[i] or { model = models[(i - 1) % #models + 1] })
    end
    for i = #acct.vehicles, count + 1, -1 do acct.vehicles[i] = nil end
  end
  return acct
end

--- A vehicle with a given VIN in an account (single_select_vin); created when missing.
function M.vehicle_for_vin(acct, vin)
  for _, v in ipairs(acct.vehicles) do
    if v.vin == vin then return v end
  end
  local id = util.uuid(M.seed, "vehicle:" .. acct.email .. ":vin:" .. vin)
  local v = M.vehicles[id]
  if not v then
    local model = fixtures.model_for_vin(vin) or fixtures.MODELS[1]
    v = fixtures.build_vehicle(M.seed, id, { model = model, vin = vin })
    v.userId = acct.userId
    M.vehicles[id] = v
  end
  return v
end

--- The test-mode vehicle of an account for a make (Smartcar's test mode: one vehicle of the brand chosen
-- in Connect); the same vehicle for the same email and make.
function M.vehicle_for_make(acct, make)
  local model = fixtures.brand_model(make) or fixtures.MODELS[1]
  local id = util.uuid(M.seed, "vehicle:" .. acct.email .. ":make:" .. model.make)
  local v = M.vehicles[id]
  if not v then
    v = fixtures.build_vehicle(M.seed, id, { model = model })
    v.userId = acct.userId
    M.vehicles[id] = v
  end
  return v
end

--- Make a grant (what one consent authorises).
function M.new_grant(clientId, acct, vehicles, scope, mode)
  local set, list = {}, {}
  for _, v in ipairs(vehicles) do
    if not set[v.id] then set[v.id] = true; list[#list + 1] = v.id end
  end
  local scopeSet, scopeList = {}, {}
  for _, p in ipairs(scope) do
    p = p:gsub("^required:", "")
    if not scopeSet[p] then scopeSet[p] = true; scopeList[#scopeList + 1] = p end
  end
  return { clientId = clientId, userId = acct.userId, email = acct.email, vehicles = set, vehicleList = list,
    scope = scopeSet, scopeList = scopeList, mode = mode or "live" }
end

--- Record connections for a grant (newest first on listing).
function M.connect(grant)
  local now = M.now()
  for _, vid in ipairs(grant.vehicleList) do
    local found
    for _, c in ipairs(M.connections) do
      if c.clientId == grant.clientId and c.userId == grant.userId and c.vehicleId == vid then found = c end
    end
    M.connSeq = M.connSeq + 1
    if found then
      found.connectedAt, found.seq, found.mode = now, M.connSeq, grant.mode
    else
      M.connections[#M.connections + 1] = { clientId = grant.clientId, userId = grant.userId, vehicleId = vid,
        connectedAt = now, mode = grant.mode, seq = M.connSeq }
    end
  end
end

--- Bulk connections for an app (admin): count new vehicle ids, for userId or each for a new user.
-- Returns the new connection records, oldest first.
function M.add_connections(clientId, count, userId, mode)
  local now, out = M.now(), {}
  for i = 1, count do
    M.bulkSeq = M.bulkSeq + 1
    M.connSeq = M.connSeq + 1
    local c = { clientId = clientId, userId = userId or util.uuid(M.seed, "bulk-user:" .. M.bulkSeq),
      vehicleId = util.uuid(M.seed, "bulk-vehicle:" .. M.bulkSeq), connectedAt = now, mode = mode, seq = M.connSeq }
    M.connections[#M.connections + 1] = c
    out[i] = c
  end
  return out
end

--- Issue an access/refresh token pair for a grant, with the lifetimes configured now.
function M.issue(grant)
  local now, cfg = M.now(), M.config
  local access, refresh = M.next_id("access"), M.next_id("refresh")
  M.tokens[access] = { grant = grant, expiresAt = now + cfg.accessTokenLifetime }
  M.refresh[refresh] = { grant = grant, expiresAt = now + cfg.refreshTokenLifetime }
  return json.object({ "access_token", "token_type", "expires_in", "refresh_token" },
    { access_token = access, token_type = "Bearer", expires_in = cfg.accessTokenLifetime, refresh_token = refresh })
end

--- Remove a vehicle from every grant of (clientId, userId) and drop the connection.
function M.revoke(clientId, userId, vehicleId)
  local removed = {}
  local keep = {}
  for _, c in ipairs(M.connections) do
    if c.clientId == clientId and (userId == nil or c.userId == userId) and
        (vehicleId == nil or c.vehicleId == vehicleId) then
      removed[#removed + 1] = c
    else
      keep[#keep + 1] = c
    end
  end
  M.connections = keep
  local function strip(grant)
    if grant.clientId ~= clientId then return end
    for _, c in ipairs(removed) do
      if grant.userId == c.userId and grant.vehicles[c.vehicleId] then
        grant.vehicles[c.vehicleId] = nil
        for i = #grant.vehicleList, 1, -1 do
          if grant.vehicleList[i] == c.vehicleId then table.remove(grant.vehicleList, i) end
        end
      end
    end
  end
  if #removed > 0 then
    local seen = {}
    for _, t in pairs(M.tokens) do
      if not seen[t.grant] then seen[t.grant] = true; strip(t.grant) end
    end
    for _, t in pairs(M.refresh) do
      if not seen[t.grant] then seen[t.grant] = true; strip(t.grant) end
    end
  end
  return removed
end

--- Look up a bearer access token: grant or nil.
function M.grant_for(token)
  local t = token and M.tokens[token]
  if not t then return nil end
  if t.expiresAt <= M.now() then return nil end
  return t.grant
end

-- Request log (admin /_emulator/requests).
M.log = {}
M.logSeq = 0
M.LOG_MAX = 1000

function M.record(entry)
  M.logSeq = M.logSeq + 1
  entry.seq = M.logSeq
  local log = M.log
  log[#log + 1] = entry
  if #log > M.LOG_MAX * 2 then
    local keep = {}
    for i = #log - M.LOG_MAX + 1, #log do keep[#keep + 1] = log[i] end
    M.log = keep
  end
end

return M
