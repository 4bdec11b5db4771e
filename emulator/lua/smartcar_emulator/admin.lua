-- Admin API under /_emulator (never recorded, never rate limited).
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local connect = require "smartcar_emulator.connect"
local fixtures = require "smartcar_emulator.fixtures"
local faults = require "smartcar_emulator.faults"
local webhooks = require "smartcar_emulator.webhooks"
local stats = require "smartcar_emulator.stats"

local M = {}

local obj, arr, null = json.object, json.array, json.null

local function reply(status, body)
  return { status = status, json = body }
end

local function bad(message, status)
  return reply(status or 400, { error = message })
end

local function body_of(ctx)
  if ctx.body == nil or ctx.body == "" then return {} end
  local v = json.decode(ctx.body)
  if type(v) ~= "table" then return nil end
  return v
end

local function requests(ctx)
  if ctx.method == "DELETE" then
    state.log = {}
    return reply(200, { ok = true })
  end
  local since = tonumber(ctx.args.since or "") or 0
  local log = state.log
  local first = math.max(1, #log - state.LOG_MAX + 1)
  local out = arr()
  for i = first, #log do
    local e = log[i]
    if e.seq > since then
      out[#out + 1] = obj({ "seq", "method", "path", "query", "headers", "body", "connection" }, {
        seq = e.seq, method = e.method, path = e.path, query = e.query, headers = e.headers, body = e.body,
        connection = e.connection })
    end
  end
  return reply(200, { requests = out })
end

local function scope_list(scope)
  if scope == nil or scope == null then
    local all = {}
    for i, p in ipairs(fixtures.PERMISSIONS) do all[i] = p end
    return all
  end
  local list = util.words(scope)
  for _, p in ipairs(list) do
    if not p:find("^[%w_:%-%.]+$") then return nil, "bad permission name: " .. p end
  end
  return list
end

local MODES = { live = true, test = true, simulated = true }

-- A whole number in [lo, hi], or nil.
local function whole(v, lo, hi)
  local n = tonumber(v)
  if type(v) == "boolean" or not n or n ~= math.floor(n) or n < lo or n > hi then return nil end
  return n
end

local function tokens(args)
  local app = state.apps[args.clientId or state.DEFAULT_APP.clientId]
  if not app then return bad("unknown clientId") end
  local scope, serr = scope_list(args.scope)
  if not scope then return bad(serr) end
  local mode = args.mode or "test"
  if not MODES[mode] then return bad("mode must be live|test|simulated") end
  local count
  if args.vehicles ~= nil and args.vehicles ~= null then
    count = whole(args.vehicles, 1, 999)
    if not count then return bad("vehicles must be a whole number from 1 to 999") end
  end
  local acct = state.account(args.email, count)
  if acct.connectError then
    return reply(400, { error = acct.connectError.error, error_description = acct.connectError.description })
  end
  local grant = state.new_grant(app.clientId, acct, acct.vehicles, scope, mode)
  state.connect(grant)
  local t = state.issue(grant)
  local vehicles = arr()
  for i, id in ipairs(grant.vehicleList) do vehicles[i] = id end
  return reply(200, obj({ "access_token", "refresh_token", "expires_in", "token_type", "user_id", "vehicles" }, {
    access_token = t.access_token, refresh_token = t.refresh_token, expires_in = t.expires_in,
    token_type = t.token_type, user_id = grant.userId, vehicles = vehicles }))
end

local function authorize(args)
  if type(args.url) ~= "string" then return bad("\"url\" is required") end
  local query = args.url:match("%?([^#]*)") or ""
  local p, perr, loc = connect.parse_authorize(util.decode_args(query))
  if loc then return reply(200, { location = loc }) end
  if not p then return bad(perr.message) end
  local vehicles, eloc, acct = connect.login(p, args.email)
  if not vehicles then return reply(200, { location = eloc }) end
  if args.approve == false then return reply(200, { location = connect.deny_location(p) }) end
  return reply(200, { location = connect.approve(p, acct, vehicles) })
end

-- Config keys: true = a positive number, false = a non-negative one.
local CONFIG_KEYS = { rateLimit = false, rateWindow = false, latency = false, accessTokenLifetime = true,
  refreshTokenLifetime = true, refreshGrace = false }
local CONFIG_ORDER = { "rateLimit", "rateWindow", "latency", "accessTokenLifetime", "refreshTokenLifetime",
  "refreshGrace", "faults" }

local function config(ctx, args)
  local c = state.config
  if ctx.method == "POST" then
    local new = {}
    for k, positive in pairs(CONFIG_KEYS) do
      if args[k] ~= nil then
        local n = type(args[k]) ~= "boolean" and tonumber(args[k])
        if not n or n ~= n or n == math.huge or n < 0 or (positive and n == 0) then
          return bad(k .. (positive and " must be a positive number" or " must be a non-negative number"))
        end
        new[k] = n
      end
    end
    for k, n in pairs(new) do c[k] = n end
    if c.rateWindow == 0 then c.rateWindow = 60 end
    if new.rateLimit or new.rateWindow then state.rate = {} end
  end
  return reply(200, obj(CONFIG_ORDER, { rateLimit = c.rateLimit, rateWindow = c.rateWindow, latency = c.latency,
    accessTokenLifetime = c.accessTokenLifetime, refreshTokenLifetime = c.refreshTokenLifetime,
    refreshGrace = c.refreshGrace, faults = state.options.faults }))
end

-- POST /_emulator/tokens/revoke {refreshToken?, accessToken?}: invalid at once.
local function revoke(args)
  local r, a = args.refreshToken, args.accessToken
  if r == nil and a == nil then return bad("\"refreshToken\" or \"accessToken\" is required") end
  if r ~= nil and not (type(r) == "string" and state.refresh[r]) then return bad("unknown refreshToken", 404) end
  if a ~= nil and not (type(a) == "string" and state.tokens[a]) then return bad("unknown accessToken", 404) end
  if r then state.refresh[r].revoked = true end
  if a then state.tokens[a] = nil end
  return reply(200, { ok = true })
end

-- POST /_emulator/connections {count, userId?, mode?, clientId?}
local function connections(args)
  local count = whole(args.count, 1, 10000)
  if not count then return bad("count must be a whole number from 1 to 10000") end
  local app = state.apps[args.clientId or state.DEFAULT_APP.clientId]
  if not app then return bad("unknown clientId") end
  local uid = args.userId
  if uid == null then uid = nil end
  if uid ~= nil and (type(uid) ~= "string" or uid == "") then return bad("userId must be a string") end
  local mode = args.mode or "live"
  if not MODES[mode] then return bad("mode must be live|test|simulated") end
  local out = arr()
  for i, c in ipairs(state.add_connections(app.clientId, count, uid, mode)) do
    out[i] = obj({ "userId", "vehicleId", "connectedAt", "mode" }, { userId = c.userId, vehicleId = c.vehicleId,
      connectedAt = util.iso(c.connectedAt), mode = c.mode })
  end
  return reply(200, obj({ "count", "connections" }, { count = count, connections = out }))
end

local function stats_admin(ctx)
  if ctx.method == "DELETE" then
    stats.reset()
    return reply(200, { ok = true })
  elseif ctx.method ~= "GET" then
    return bad("unknown admin route", 404)
  end
  local t = stats.tokenRequests
  return reply(200, obj({ "tokenRequests", "maxInFlight", "inFlight", "requests" }, {
    tokenRequests = obj({ "authorization_code", "refresh_token", "client_credentials", "total" }, {
      authorization_code = t.authorization_code, refresh_token = t.refresh_token,
      client_credentials = t.client_credentials, total = t.total }),
    maxInFlight = stats.maxInFlight, inFlight = stats.inFlight, requests = stats.requests }))
end

local function fault_state()
  local f = state.fault
  return obj({ "enabled", "fault", "count", "path" }, { enabled = state.options.faults,
    fault = f and f.spec or null, count = f and f.count or 0, path = f and f.path or null })
end

local function faults_admin(ctx, args)
  if ctx.method == "GET" then return reply(200, fault_state()) end
  if ctx.method ~= "POST" then return bad("unknown admin route", 404) end
  if not state.options.faults then
    return bad("faults are disabled; start the emulator with --faults", 403)
  end
  if args.fault == nil or args.fault == null then
    state.fault = nil
    return reply(200, { ok = true, fault = null })
  end
  if not faults.parse(args.fault) then return bad("unknown fault spec: " .. tostring(args.fault)) end
  local count = 1
  if args.count ~= nil and args.count ~= null then
    count = whole(args.count, 1, 1e9)
    if not count then return bad("count must be a positive whole number") end
  end
  local path = args.path
  if path == null then path = nil end
  if path ~= nil and (type(path) ~= "string" or not pcall(string.find, "", path)) then
    return bad("path must be a Lua pattern")
  end
  state.fault = { spec = args.fault, count = count, path = path }
  return reply(200, obj({ "ok", "fault", "count", "path" }, { ok = true, fault = args.fault, count = count,
    path = path or null }))
end

local function apps(args)
  if type(args.clientId) ~= "string" or args.clientId == "" then return bad("\"clientId\" is required") end
  if type(args.clientSecret) ~= "string" then return bad("\"clientSecret\" is required") end
  local uris = args.redirectUris or {}
  if type(uris) ~= "table" then return bad("\"redirectUris\" must be an array") end
  for _, u in ipairs(uris) do if type(u) ~= "string" then return bad("\"redirectUris\" must hold strings") end end
  local app = state.register_app({ clientId = args.clientId, clientSecret = args.clientSecret, redirectUris = uris,
    amt = type(args.amt) == "string" and args.amt or nil, name = type(args.name) == "string" and args.name or nil })
  return reply(200, { ok = true, clientId = app.clientId })
end

local function vehicle_admin(ctx, id, args)
  local v = state.vehicles[id]
  if not v then return bad("unknown vehicle", 404) end
  if ctx.method == "POST" then
    if args.isPluggedIn ~= nil then v.isPluggedIn = args.isPluggedIn == true end
    if args.isLocked ~= nil then v.isLocked = args.isLocked == true end
    if args.chargeState ~= nil then
      local ok = { CHARGING = true, FULLY_CHARGED = true, NOT_CHARGING = true }
      if not ok[args.chargeState] then return bad("chargeState must be CHARGING|FULLY_CHARGED|NOT_CHARGING") end
      v.chargeState = args.chargeState
    end
    if args.chargeLimit ~= nil then v.chargeLimit = tonumber(args.chargeLimit) or v.chargeLimit end
  end
  return reply(200, obj({ "id", "make", "model", "year", "type", "vin", "userId", "isLocked", "isPluggedIn",
    "chargeState", "chargeLimit", "destination" }, {
    id = v.id, make = v.make, model = v.model, year = v.year, type = v.type, vin = v.vin, userId = v.userId,
    isLocked = v.isLocked, isPluggedIn = v.isPluggedIn, chargeState = v.chargeState, chargeLimit = v.chargeLimit,
    destination = v.destination or null }))
end

function M.handle(ctx)
  local path, method = ctx.path, ctx.method
  if path == "/_emulator/health" then return reply(200, { ok = true }) end
  if path == "/_emulator/requests" then return requests(ctx) end
  if path == "/_emulator/echo-webhook" then
    local status, body = webhooks.echo(ctx)
    return reply(status, body)
  end
  local args = body_of(ctx)
  if not args then return bad("request body must be a JSON object") end
  if path == "/_emulator/config" then return config(ctx, args) end
  if path == "/_emulator/stats" then return stats_admin(ctx) end
  if path == "/_emulator/faults" then return faults_admin(ctx, args) end
  local vid = path:match("^/_emulator/vehicles/([^/]+)$")
  if vid then return vehicle_admin(ctx, vid, args) end
  if method ~= "POST" then return bad("unknown admin route", 404) end
  if path == "/_emulator/reset" then
    local seed = args.seed
    if seed ~= nil and seed ~= null and not tonumber(seed) then return bad("seed must be a number") end
    state.reset(seed ~= nil and seed ~= null and tostring(seed) or nil)
    webhooks.received = {}
    stats.reset()
    return reply(200, { ok = true, seed = tonumber(state.seed) or state.seed })
  elseif path == "/_emulator/tokens" then
    return tokens(args)
  elseif path == "/_emulator/tokens/revoke" then
    return revoke(args)
  elseif path == "/_emulator/connections" then
    return connections(args)
  elseif path == "/_emulator/authorize" then
    return authorize(args)
  elseif path == "/_emulator/clock" then
    local adv = tonumber(args.advance or 0)
    if not adv then return bad("advance must be a number of seconds") end
    state.clockOffset = state.clockOffset + adv
    return reply(200, { offset = state.clockOffset, now = util.iso(state.now()) })
  elseif path == "/_emulator/apps" then
    return apps(args)
  elseif path == "/_emulator/webhooks" then
    if type(args.webhookId) ~= "string" or args.webhookId == "" then return bad("\"webhookId\" is required") end
    local cid = args.clientId or state.DEFAULT_APP.clientId
    if not state.apps[cid] then return bad("unknown clientId") end
    if args.version ~= nil and not webhooks.VERSIONS[args.version] then return bad("unknown payload version") end
    state.webhooks[args.webhookId] = { clientId = cid, name = args.name or "Emulator Webhook", version = args.version }
    return reply(200, { ok = true, webhookId = args.webhookId })
  elseif path == "/_emulator/webhooks/verify" then
    return reply(webhooks.verify(args))
  elseif path == "/_emulator/webhooks/deliver" then
    return reply(webhooks.deliver(args))
  end
  return bad("unknown admin route", 404)
end

return M
