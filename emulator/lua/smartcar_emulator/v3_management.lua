-- Management API v3 on the emulator's origin: GET /v3/webhooks (filters, paging), GET /v3/webhooks/{id}
-- (webhooks are created in the Dashboard: here by the admin call POST /_emulator/v3/webhooks), and
-- subscriptions: POST /v3/subscriptions (202, FIRST_DELIVERY follows), GET /v3/subscriptions (filters,
-- paging), GET and DELETE /v3/subscriptions/{id}; GET /v3/applications, /v3/applications/{id} and
-- /v3/applications/{id}/secrets (reference §3.13, community only: the bodies are this emulator's proposal).
local v3 = require "smartcar_emulator.v3"
local C = require "smartcar_emulator.v3_common"
local conns = require "smartcar_emulator.v3_connections"
local util, state, obj, arr, null = C.util, C.state, C.obj, C.arr, C.null

local M = {}

--- {group, name, code} of a signal code known to the emulator, or nil.
function M.descriptor(code)
  local s = v3.BY_CODE[code]
  if not s then return nil end
  return obj({ "group", "name", "code" }, { group = s[3], name = s[2], code = code })
end

M.DEFAULT_TRIGGERS = { "tractionbattery-stateofcharge", "charge-ischarging", "closure-islocked" }
M.DEFAULT_DATA = { "tractionbattery-stateofcharge", "charge-ischarging", "closure-islocked",
  "odometer-traveleddistance" }

--- Create (or replace) a webhook record in store s.
function M.put_webhook(s, w)
  if not w.id then
    s.webhookSeq = s.webhookSeq + 1
    w.id = util.uuid(state.seed, "v3-webhook:" .. s.gen .. ":" .. s.webhookSeq)
  end
  w.createdAt = w.createdAt or state.now()
  s.webhooks[w.id] = w
  return w
end

-- The default webhook of the demo app (same id as the v2 default), verified, calling the built-in
-- echo receiver.
function M.seed(s)
  local o = state.options
  M.put_webhook(s, { id = state.DEFAULT_WEBHOOK, appId = state.DEFAULT_APP.clientId, name = "Emulator Webhook",
    callbackUri = "http://" .. (o.host or "127.0.0.1") .. ":" .. tostring(o.port) .. "/_emulator/echo-webhook",
    errorCallbackUri = nil, triggers = M.DEFAULT_TRIGGERS, data = M.DEFAULT_DATA, isEnabled = true,
    autoSubscribe = false, verified = true })
end

local function descriptors(codes)
  local out = arr()
  for _, c in ipairs(codes) do out[#out + 1] = M.descriptor(c) end
  return out
end

function M.webhook_resource(w)
  return obj({ "id", "type", "attributes", "links", "meta" }, { id = w.id, type = "webhook",
    attributes = obj({ "name", "callbackUri", "isEnabled", "triggers", "data", "errorCallbackUri", "autoSubscribe" }, {
      name = w.name, callbackUri = w.callbackUri, isEnabled = w.isEnabled, triggers = descriptors(w.triggers),
      data = descriptors(w.data), errorCallbackUri = w.errorCallbackUri or null, autoSubscribe = w.autoSubscribe }),
    links = { self = "/webhooks/" .. w.id },
    meta = obj({ "createdAt", "verified" }, { createdAt = C.iso(w.createdAt), verified = w.verified }) })
end

local function bool_filter(v)
  if v == nil or v == "" then return nil end
  if v == "true" then return true end
  if v == "false" then return false end
  return "bad"
end

local function list_webhooks(ctx, tok)
  local s = C.store()
  local a = ctx.args
  local number, size, e = C.page_args(ctx, 50, 100)
  if not number then return e end
  local name, uri = a["filter[name]"], a["filter[callbackUri]"]
  local enabled, auto = bool_filter(a["filter[isEnabled]"]), bool_filter(a["filter[autoSubscribe]"])
  if enabled == "bad" or auto == "bad" then
    return C.validation(ctx, { { "INVALID_INPUT_FORMAT", "Boolean filters must be true or false." } })
  end
  local list = {}
  for _, w in pairs(s.webhooks) do
    if w.appId == tok.appId and (not name or name == "" or w.name == name) and
        (not uri or uri == "" or (w.callbackUri or ""):lower():find(uri:lower(), 1, true)) and
        (enabled == nil or w.isEnabled == enabled) and (auto == nil or w.autoSubscribe == auto) then
      list[#list + 1] = w
    end
  end
  table.sort(list, function(x, y)
    if x.createdAt ~= y.createdAt then return x.createdAt > y.createdAt end
    return x.id < y.id
  end)
  return C.ok(C.page(ctx, "/webhooks", list, number, size, M.webhook_resource, {
    { "filter[name]", name }, { "filter[callbackUri]", uri }, { "filter[isEnabled]", a["filter[isEnabled]"] },
    { "filter[autoSubscribe]", a["filter[autoSubscribe]"] } }))
end

-- Subscriptions ------------------------------------------------------------------------------------

--- Subscribe every connected vehicle of the app to its autoSubscribe webhooks (no FIRST_DELIVERY).
function M.ensure_auto(s, appId)
  local any = false
  for _, w in pairs(s.webhooks) do
    if w.appId == appId and w.autoSubscribe and w.isEnabled then any = true end
  end
  if not any then return end
  for _, w in pairs(s.webhooks) do
    if w.appId == appId and w.autoSubscribe and w.isEnabled then
      for _, c in ipairs(state.connections) do
        if c.clientId == appId then
          local id = M.subscription_id(w.id, c.userId, c.vehicleId)
          if not s.subs[id] then
            s.subSeq = s.subSeq + 1
            s.subs[id] = { id = id, appId = appId, webhookId = w.id, userId = c.userId, vehicleId = c.vehicleId,
              createdAt = state.now(), seq = s.subSeq, auto = true }
          end
        end
      end
    end
  end
end

function M.subscription_id(wid, uid, vid)
  return util.uuid(state.seed, "subscription:" .. wid .. ":" .. uid .. ":" .. vid)
end

local function sub_resource(sub)
  local c = conns.find(sub.appId, sub.userId, sub.vehicleId)
  local v = state.vehicles[sub.vehicleId]
  local t = C.iso(sub.createdAt)
  return obj({ "type", "id", "attributes", "meta", "relationships", "links" }, { type = "subscription", id = sub.id,
    attributes = { vehicle = v and conns.vehicle_attributes(v, C.mode(c and c.mode or "live")) or null },
    meta = obj({ "createdAt", "updatedAt" }, { createdAt = t, updatedAt = t }),
    relationships = obj({ "webhook", "user", "vehicle" }, {
      webhook = obj({ "data", "links" }, { data = obj({ "type", "id" }, { type = "webhook", id = sub.webhookId }),
        links = { related = "/webhooks/" .. sub.webhookId } }),
      user = obj({ "data", "links" }, { data = obj({ "type", "id" }, { type = "user", id = sub.userId }),
        links = { related = "/connections?filter%5BuserId%5D=" .. sub.userId } }),
      vehicle = obj({ "data", "links" }, { data = obj({ "type", "id" }, { type = "vehicle", id = sub.vehicleId }),
        links = { related = "/vehicles/" .. sub.vehicleId } }),
    }),
    links = { self = "/subscriptions/" .. sub.id } })
end

local function create_subscription(ctx, tok)
  local s = C.store()
  local attrs, e = C.attributes(ctx, true)
  if not attrs then return e end
  local missing = {}
  for _, k in ipairs({ "webhookId", "userId", "vehicleId" }) do
    if type(attrs[k]) ~= "string" or attrs[k] == "" then missing[#missing + 1] = { "MISSING_PARAMETER", "missing " .. k } end
  end
  if #missing > 0 then return C.validation(ctx, missing) end
  local w = s.webhooks[attrs.webhookId]
  if not w or w.appId ~= tok.appId then
    return C.not_found(ctx, "WEBHOOK_NOT_FOUND", "Webhook with ID " .. attrs.webhookId .. " not found")
  end
  local c = conns.find(tok.appId, attrs.userId, attrs.vehicleId)
  if not c then
    return C.not_found(ctx, "CONNECTION_NOT_FOUND", "No connection of user " .. attrs.userId ..
      " to vehicle " .. attrs.vehicleId)
  end
  local id = M.subscription_id(w.id, c.userId, c.vehicleId)
  if s.subs[id] then
    return C.err(ctx, "VALIDATION", "ALREADY_EXISTS", { status = 409,
      detail = "The vehicle is already subscribed to this webhook." })
  end
  s.subSeq = s.subSeq + 1
  local sub = { id = id, appId = tok.appId, webhookId = w.id, userId = c.userId, vehicleId = c.vehicleId,
    createdAt = state.now(), seq = s.subSeq }
  s.subs[id] = sub
  require("smartcar_emulator.v3_deliveries").first_delivery(sub)
  return C.ok({ meta = { message = "subscription creation in progress" } }, 202)
end

local function list_subscriptions(ctx, tok)
  local s = C.store()
  M.ensure_auto(s, tok.appId)
  local a = ctx.args
  local number, size, e = C.page_args(ctx, 25, 100)
  if not number then return e end
  local uid, wid, vid, mode = a["filter[userId]"], a["filter[webhookId]"], a["filter[vehicleId]"],
    a["filter[vehicle.mode]"]
  if mode ~= nil and mode ~= "" and mode ~= "live" and mode ~= "simulated" then
    return C.validation(ctx, { { "INVALID_INPUT_FORMAT",
      "Invalid filter[vehicle.mode]. It must be one of live, simulated." } })
  end
  local list = {}
  for _, sub in pairs(s.subs) do
    local c = conns.find(sub.appId, sub.userId, sub.vehicleId)
    if sub.appId == tok.appId and (not uid or uid == "" or sub.userId == uid) and
        (not wid or wid == "" or sub.webhookId == wid) and (not vid or vid == "" or sub.vehicleId == vid) and
        (not mode or mode == "" or C.mode(c and c.mode) == mode) then
      list[#list + 1] = sub
    end
  end
  table.sort(list, function(x, y) return x.seq > y.seq end)
  return C.ok(C.page(ctx, "/subscriptions", list, number, size, sub_resource, {
    { "filter[userId]", uid }, { "filter[webhookId]", wid }, { "filter[vehicleId]", vid },
    { "filter[vehicle.mode]", mode } }))
end

-- Applications (reference §3.13: paths from community clients, bodies [UNCONFIRMED], chosen here) ------------
-- An application token sees its own application only: the one its API credentials belong to (the demo app's,
-- or the application the admin call POST /_emulator/v3/credentials named); any other id is 404
-- APPLICATION_NOT_FOUND, as another application's webhooks are. A resource is {id (the Application ID), type
-- "application", attributes {name}, links {self}}; a list is {data, meta {totalCount}, links {self}}, unpaged.
-- The secrets are listed as {id, type "secret", attributes {clientId}}: never a secret's value, nor a part of it.

local function application_resource(app)
  return obj({ "id", "type", "attributes", "links" }, { id = app.clientId, type = "application",
    attributes = obj({ "name" }, { name = app.name }), links = { self = "/applications/" .. app.clientId } })
end

-- The API client secrets of an application: one resource per secret of each of its API client ids (sorted),
-- the id derived from the client id and the secret's position only.
local function secret_resources(s, appId)
  local ids = {}
  for cid, cred in pairs(s.creds) do
    if cred.appId == appId then ids[#ids + 1] = cid end
  end
  table.sort(ids)
  local out = arr()
  for _, cid in ipairs(ids) do
    for i = 1, #s.creds[cid].secrets do
      out[#out + 1] = obj({ "id", "type", "attributes" }, { id = util.uuid(state.seed, "v3-secret:" .. cid .. ":" .. i),
        type = "secret", attributes = obj({ "clientId" }, { clientId = cid }) })
    end
  end
  return out
end

local function collection(list, self)
  return obj({ "data", "meta", "links" }, { data = list, meta = { totalCount = #list }, links = { self = self } })
end

local function applications(ctx, rest, tok)
  local s = C.store()
  local function application(aid, f)
    local app = state.apps[aid]
    if aid ~= tok.appId or not app then
      return C.not_found(ctx, "APPLICATION_NOT_FOUND", "Application with ID " .. aid .. " not found")
    end
    return f(app)
  end
  local aid = rest:match("^/applications/([^/]+)/secrets$")
  if aid then
    if ctx.method ~= "GET" then return C.invalid_path(ctx) end
    return application(aid, function(app)
      return C.ok(collection(secret_resources(s, app.clientId), "/applications/" .. app.clientId .. "/secrets"))
    end)
  end
  return C.dispatch(ctx, rest, "/applications", {
    GET = function()
      local list = arr()
      if state.apps[tok.appId] then list[1] = application_resource(state.apps[tok.appId]) end
      return C.ok(collection(list, "/applications"))
    end,
  }, {
    GET = function(id) return application(id, function(app) return C.ok({ data = application_resource(app) }) end) end,
  })
end

--- /v3/webhooks…, /v3/subscriptions…, /v3/applications…; nil when the path is not a management path.
function M.handle(ctx, rest, tok)
  local s = C.store()
  local function subscription(sid, f)
    M.ensure_auto(s, tok.appId)
    local sub = s.subs[sid]
    if not sub or sub.appId ~= tok.appId then
      return C.not_found(ctx, "SUBSCRIPTION_NOT_FOUND", "Subscription with ID " .. sid .. " not found")
    end
    return f(sub)
  end
  return C.dispatch(ctx, rest, "/webhooks", { GET = function() return list_webhooks(ctx, tok) end }, {
    GET = function(wid)
      local w = s.webhooks[wid]
      if not w or w.appId ~= tok.appId then
        return C.not_found(ctx, "WEBHOOK_NOT_FOUND", "Webhook with ID " .. wid .. " not found")
      end
      return C.ok({ data = M.webhook_resource(w) })
    end,
  }) or C.dispatch(ctx, rest, "/subscriptions", {
    POST = function() return create_subscription(ctx, tok) end,
    GET = function() return list_subscriptions(ctx, tok) end,
  }, {
    GET = function(sid) return subscription(sid, function(sub) return C.ok({ data = sub_resource(sub) }) end) end,
    DELETE = function(sid)
      return subscription(sid, function(sub)
        s.subs[sub.id] = nil
        return C.no_content()
      end)
    end,
  }) or applications(ctx, rest, tok)
end

return M
