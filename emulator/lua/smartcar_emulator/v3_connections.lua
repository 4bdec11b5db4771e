-- Vehicle API v3 connections: GET /v3/connections (filters, page[number]/page[size]), GET and DELETE
-- /v3/connections/{id}, DELETE /v3/users/{userId}. Built from the emulator's connections list (the
-- grants Connect and the admin shortcuts create), so a vehicle connected through Connect is listed.
local fixtures = require "smartcar_emulator.fixtures"
local C = require "smartcar_emulator.v3_common"
local util, state, obj, arr = C.util, C.state, C.obj, C.arr

local M = {}

--- The id of a connection: a UUID of its (application, user, vehicle), stable across reconnects.
function M.id_of(c)
  return util.uuid(state.seed, "connection:" .. c.clientId .. ":" .. c.userId .. ":" .. c.vehicleId)
end

--- The vehicle record of a connection (bulk connections get one materialised on first use).
function M.vehicle_of(c)
  local v = state.vehicles[c.vehicleId]
  if not v then
    local models = fixtures.MODELS
    local i = util.int(state.seed, "bulk-model:" .. c.vehicleId, 1, #models)
    v = fixtures.build_vehicle(state.seed, c.vehicleId, { model = models[i] })
    v.userId = c.userId
    state.vehicles[c.vehicleId] = v
  end
  return v
end

--- The permissions granted to (app, user, vehicle): the union of the grants that cover it (Connect
-- codes, tokens, refresh tokens); a bulk connection without a grant has every permission.
function M.permissions(c)
  local seen, list, found = {}, arr(), false
  local function add(grant)
    if grant.clientId == c.clientId and grant.userId == c.userId and grant.vehicles[c.vehicleId] then
      found = true
      for _, p in ipairs(grant.scopeList) do
        if not seen[p] then seen[p] = true; list[#list + 1] = p end
      end
    end
  end
  for _, t in pairs(state.tokens) do add(t.grant) end
  for _, t in pairs(state.refresh) do add(t.grant) end
  for _, t in pairs(state.codes) do if t.grant then add(t.grant) end end
  if not found then
    for _, p in ipairs(fixtures.PERMISSIONS) do list[#list + 1] = p end
  end
  return list, seen
end

--- The permission set of a connection (for checks).
function M.scope(c)
  local list = M.permissions(c)
  local set = {}
  for _, p in ipairs(list) do set[p] = true end
  return set, list
end

function M.vehicle_attributes(v, mode)
  return obj({ "make", "model", "year", "mode", "powertrainType" }, { make = v.make, model = v.model, year = v.year,
    mode = mode, powertrainType = v.type })
end

local function resource(ctx, c)
  local id = M.id_of(c)
  local v = M.vehicle_of(c)
  local t = C.iso(c.connectedAt)
  return obj({ "id", "type", "attributes", "relationships", "meta", "links" }, {
    id = id, type = "connection",
    attributes = obj({ "permissions", "vehicle" }, { permissions = (M.permissions(c)),
      vehicle = M.vehicle_attributes(v, C.mode(c.mode)) }),
    relationships = obj({ "vehicle", "user" }, {
      vehicle = obj({ "data", "links" }, { data = obj({ "id", "type" }, { id = c.vehicleId, type = "vehicle" }),
        links = { related = ctx.origin .. "/v3/vehicles/" .. c.vehicleId } }),
      user = { data = obj({ "id", "type" }, { id = c.userId, type = "user" }) },
    }),
    meta = obj({ "createdAt", "updatedAt" }, { createdAt = t, updatedAt = t }),
    links = { self = ctx.origin .. "/v3/connections/" .. id },
  })
end

--- The application's connections, newest first.
function M.of_app(appId)
  local list = {}
  for _, c in ipairs(state.connections) do
    if c.clientId == appId then list[#list + 1] = c end
  end
  table.sort(list, function(x, y) return x.seq > y.seq end)
  return list
end

--- The connection of (app, user, vehicle), or nil.
function M.find(appId, userId, vehicleId)
  for _, c in ipairs(state.connections) do
    if c.clientId == appId and c.userId == userId and c.vehicleId == vehicleId then return c end
  end
  return nil
end

--- A connection by its id, or by a vehicle id that exactly one connection has (the blog's form).
local function by_id(appId, id)
  local match, n = nil, 0
  for _, c in ipairs(state.connections) do
    if c.clientId == appId then
      if M.id_of(c) == id then return c end
      if c.vehicleId == id then match, n = c, n + 1 end
    end
  end
  if n == 1 then return match end
  return nil
end

local MODES = { live = true, simulated = true }

local function list(ctx, tok)
  local a = ctx.args
  local number, size, e = C.page_args(ctx, 10, 100)
  if not number then return e end
  local uid = a["filter[userId]"] or C.user_id(ctx)
  local vid = a["filter[vehicleId]"]
  local ext = a["filter[user.externalId]"]
  local mode = a["filter[vehicle.mode]"]
  if mode == nil or mode == "" then mode = "live" end
  if not MODES[mode] then
    return C.validation(ctx, { { "INVALID_INPUT_FORMAT",
      "Invalid filter[vehicle.mode]. It must be one of live, simulated." } })
  end
  local out = {}
  for _, c in ipairs(M.of_app(tok.appId)) do
    if (not uid or uid == "" or c.userId == uid) and (not vid or vid == "" or c.vehicleId == vid) and
        C.mode(c.mode) == mode and (not ext or ext == "" or c.externalId == ext) then
      out[#out + 1] = c
    end
  end
  local filters = {
    { "filter[userId]", a["filter[userId]"] }, { "filter[vehicleId]", vid },
    { "filter[vehicle.mode]", a["filter[vehicle.mode]"] }, { "filter[user.externalId]", ext },
  }
  return C.ok(C.page(ctx, "/connections", out, number, size, function(c) return resource(ctx, c) end, filters,
    { orderBy = "createdAt", orderDirection = "DESC" }))
end

--- Drop the subscriptions of (app, user[, vehicle]) (a removed connection is no longer subscribed).
local function drop_subscriptions(appId, userId, vehicleId)
  local s = C.store()
  for id, sub in pairs(s.subs) do
    if sub.appId == appId and sub.userId == userId and (vehicleId == nil or sub.vehicleId == vehicleId) then
      s.subs[id] = nil
    end
  end
end
M.drop_subscriptions = drop_subscriptions

--- /v3/connections…, /v3/users/{id}; tok is the request's application token record.
function M.handle(ctx, rest, tok)
  local function connection(cid, f)
    local c = by_id(tok.appId, cid)
    if not c then return C.not_found(ctx, "CONNECTION_NOT_FOUND", "Connection with ID " .. cid .. " not found") end
    return f(c)
  end
  return C.dispatch(ctx, rest, "/connections", { GET = function() return list(ctx, tok) end }, {
    GET = function(cid) return connection(cid, function(c) return C.ok({ data = resource(ctx, c) }) end) end,
    DELETE = function(cid)
      return connection(cid, function(c)
        state.revoke(tok.appId, c.userId, c.vehicleId)
        drop_subscriptions(tok.appId, c.userId, c.vehicleId)
        return C.no_content()
      end)
    end,
  }) or C.dispatch(ctx, rest, "/users", nil, { DELETE = function(uid)
    local any = false
    for _, c in ipairs(state.connections) do
      if c.clientId == tok.appId and c.userId == uid then any = true end
    end
    if not any then return C.not_found(ctx, "USER_NOT_FOUND", "User with ID " .. uid .. " not found") end
    state.revoke(tok.appId, uid, nil)
    drop_subscriptions(tok.appId, uid, nil)
    return C.no_content()
  end })
end

return M
