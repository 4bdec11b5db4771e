-- Admin calls of the V3 services under /_emulator/v3 (never recorded, never rate limited).
local C = require "smartcar_emulator.v3_common"
local iam = require "smartcar_emulator.iam"
local conns = require "smartcar_emulator.v3_connections"
local mgmt = require "smartcar_emulator.v3_management"
local deliveries = require "smartcar_emulator.v3_deliveries"

local json, state, obj, arr, null = C.json, C.state, C.obj, C.arr, C.null

local M = {}

local function reply(status, body) return { status = status, json = body } end
local function bad(message, status) return reply(status or 400, { error = message }) end

local NUMBERS = { appTokenLifetime = "positive", commandDelay = "nonneg", longRunningThreshold = "nonneg",
  appRateCapacity = "positive", appRateRefillPerMinute = "nonneg", retryScale = "nonneg", deliveryTimeout = "positive" }

local function config(ctx, args)
  local cfg = C.store().config
  if ctx.method == "POST" then
    local new = {}
    for k, kind in pairs(NUMBERS) do
      local v = args[k]
      if v ~= nil then
        if type(v) ~= "number" or v ~= v or v == math.huge or v < 0 or (kind == "positive" and v == 0) then
          return bad(k .. " must be a " .. (kind == "positive" and "positive" or "non-negative") .. " number")
        end
        new[k] = v
      end
    end
    if args.appRateLimit ~= nil then
      if type(args.appRateLimit) ~= "boolean" then return bad("appRateLimit must be true or false") end
      new.appRateLimit = args.appRateLimit
    end
    for k, v in pairs(new) do cfg[k] = v end
    if new.appRateLimit ~= nil or new.appRateCapacity or new.appRateRefillPerMinute then C.store().buckets = {} end
  end
  local out = obj(C.CONFIG_ORDER, {})
  for k, v in pairs(cfg) do out[k] = v end
  return reply(200, out)
end

local function strings(list, what)
  if list == nil then return nil end
  if type(list) ~= "table" then return nil, what .. " must be an array of signal codes" end
  local out = {}
  for i, c in ipairs(list) do
    if type(c) ~= "string" or not mgmt.descriptor(c) then return nil, "unknown signal code in " .. what .. ": " ..
      tostring(c) end
    out[i] = c
  end
  return out
end

-- POST /_emulator/v3/webhooks {id?, name, callbackUri, errorCallbackUri?, triggers?, data?, isEnabled?,
-- autoSubscribe?, applicationId?}: the Dashboard's "create webhook", then its VERIFY challenge.
local function create_webhook(args)
  local s = C.store()
  local appId = args.applicationId or state.DEFAULT_APP.clientId
  if not state.apps[appId] then return bad("unknown applicationId") end
  if type(args.callbackUri) ~= "string" or not args.callbackUri:find("^https?://") then
    return bad("\"callbackUri\" must be an http(s) URL")
  end
  if args.errorCallbackUri ~= nil and args.errorCallbackUri ~= null and (type(args.errorCallbackUri) ~= "string" or
      not args.errorCallbackUri:find("^https?://")) then
    return bad("\"errorCallbackUri\" must be an http(s) URL")
  end
  if args.id ~= nil and (type(args.id) ~= "string" or args.id == "") then return bad("\"id\" must be a string") end
  local triggers, e1 = strings(args.triggers, "triggers")
  if e1 then return bad(e1) end
  local data, e2 = strings(args.data, "data")
  if e2 then return bad(e2) end
  local w = mgmt.put_webhook(s, { id = args.id, appId = appId,
    name = type(args.name) == "string" and args.name or "Emulator Webhook",
    callbackUri = args.callbackUri, errorCallbackUri = args.errorCallbackUri ~= null and args.errorCallbackUri or nil,
    triggers = triggers or mgmt.DEFAULT_TRIGGERS, data = data or mgmt.DEFAULT_DATA,
    isEnabled = args.isEnabled ~= false, autoSubscribe = args.autoSubscribe == true, verified = false })
  local v = args.verify ~= false and deliveries.verify(w) or null
  return reply(200, obj({ "webhook", "verify" }, { webhook = mgmt.webhook_resource(w), verify = v }))
end

local function webhook_admin(ctx, wid, action, args)
  local s = C.store()
  local w = s.webhooks[wid]
  if not w then return bad("unknown webhook", 404) end
  if action == "/verify" and ctx.method == "POST" then
    return reply(200, deliveries.verify(w))
  end
  if action == "" and ctx.method == "POST" then
    -- update: isEnabled, autoSubscribe, name, callbackUri (a new callbackUri is verified again)
    if args.isEnabled ~= nil then w.isEnabled = args.isEnabled == true end
    if args.autoSubscribe ~= nil then w.autoSubscribe = args.autoSubscribe == true end
    if type(args.name) == "string" then w.name = args.name end
    local out = obj({ "webhook", "verify" }, { verify = null })
    if type(args.callbackUri) == "string" and args.callbackUri ~= w.callbackUri then
      w.callbackUri, w.verified = args.callbackUri, false
      out.verify = deliveries.verify(w)
    end
    out.webhook = mgmt.webhook_resource(w)
    return reply(200, out)
  end
  if action == "" and ctx.method == "DELETE" then
    s.webhooks[wid] = nil
    for id, sub in pairs(s.subs) do if sub.webhookId == wid then s.subs[id] = nil end end
    return reply(200, { ok = true })
  end
  return bad("unknown admin route", 404)
end

-- POST /_emulator/v3/events {eventType, vehicleId, webhookId?, userId?, error?, state?, signals?}
local function events(args)
  local s = C.store()
  local et = args.eventType or "VEHICLE_STATE"
  if et ~= "VEHICLE_STATE" and et ~= "VEHICLE_ERROR" then return bad("eventType must be VEHICLE_STATE|VEHICLE_ERROR") end
  local v = type(args.vehicleId) == "string" and state.vehicles[args.vehicleId]
  if not v then return bad("unknown vehicleId") end
  -- targets: the given webhook (user from the args or the vehicle's first connection), else every
  -- subscription of the vehicle
  local targets = {}
  if args.webhookId then
    local w = s.webhooks[args.webhookId]
    if not w then return bad("unknown webhookId") end
    local uid = args.userId
    if not uid then
      for _, c in ipairs(state.connections) do
        if c.clientId == w.appId and c.vehicleId == v.id then uid = c.userId; break end
      end
    end
    targets[1] = { w, uid or v.userId }
  else
    for _, sub in pairs(s.subs) do
      local w = s.webhooks[sub.webhookId]
      if sub.vehicleId == v.id and w and w.isEnabled and (args.userId == nil or args.userId == sub.userId) then
        targets[#targets + 1] = { w, sub.userId }
      end
    end
    table.sort(targets, function(a, b) return a[1].id < b[1].id end)
  end
  local out = arr()
  for _, t in ipairs(targets) do
    local e
    if et == "VEHICLE_ERROR" then
      local err = type(args.error) == "table" and args.error or {}
      e = deliveries.vehicle_error(t[1], t[2], v, { type = err.type, code = err.code,
        state = args.state or err.state, signals = args.signals }, false)
    else
      local trig
      if type(args.signals) == "table" and args.signals[1] then
        trig = arr()
        for _, code in ipairs(args.signals) do
          trig[#trig + 1] = obj({ "type", "signal" }, { type = "SIGNAL_UPDATED",
            signal = mgmt.descriptor(code) or { code = code } })
        end
      else
        trig = { { type = "FIRST_DELIVERY" } }
      end
      e = deliveries.vehicle_state(t[1], t[2], v, trig, false)
    end
    out[#out + 1] = e
  end
  return reply(200, { deliveries = out })
end

-- POST /_emulator/v3/vehicles/{id}: per-vehicle command delay and the vehicle's values (the same record
-- v2 reads); a changed trigger signal sends VEHICLE_STATE to the subscribed webhooks.
local function vehicle_admin(vid, args)
  local s = C.store()
  local v = state.vehicles[vid]
  if not v then
    for _, c in ipairs(state.connections) do
      if c.vehicleId == vid then v = conns.vehicle_of(c); break end
    end
  end
  if not v then return bad("unknown vehicle", 404) end
  if args.commandDelay ~= nil then
    if args.commandDelay == null then s.vehicleDelay[vid] = nil
    elseif type(args.commandDelay) ~= "number" or args.commandDelay < 0 then
      return bad("commandDelay must be a non-negative number of seconds")
    else s.vehicleDelay[vid] = args.commandDelay end
  end
  for _, k in ipairs({ "isLocked", "isPluggedIn", "chargePortOpen" }) do
    if args[k] ~= nil then v[k] = args[k] == true end
  end
  if args.chargeState ~= nil then
    local ok = { CHARGING = true, FULLY_CHARGED = true, NOT_CHARGING = true }
    if not ok[args.chargeState] then return bad("chargeState must be CHARGING|FULLY_CHARGED|NOT_CHARGING") end
    v.chargeState = args.chargeState
  end
  for _, k in ipairs({ "chargeLimit", "batteryPercent", "odometer" }) do
    if args[k] ~= nil then
      if type(args[k]) ~= "number" then return bad(k .. " must be a number") end
      v[k] = args[k]
    end
  end
  deliveries.check(v)
  return reply(200, obj({ "id", "commandDelay", "isLocked", "isPluggedIn", "chargePortOpen", "chargeState",
    "chargeLimit", "batteryPercent", "odometer", "destination" }, { id = v.id,
    commandDelay = s.vehicleDelay[vid] or null, isLocked = v.isLocked, isPluggedIn = v.isPluggedIn,
    chargePortOpen = v.chargePortOpen == true, chargeState = v.chargeState, chargeLimit = v.chargeLimit,
    batteryPercent = v.batteryPercent or null, odometer = v.odometer, destination = v.destination or null }))
end

function M.handle(ctx)
  local path, method = ctx.path, ctx.method
  local args = {}
  if ctx.body and ctx.body ~= "" then
    args = json.decode(ctx.body)
    if type(args) ~= "table" then return bad("request body must be a JSON object") end
  end
  if path == "/_emulator/v3/config" then return config(ctx, args) end
  if path == "/_emulator/v3/deliveries" then
    if method == "DELETE" then deliveries.clear(); return reply(200, { ok = true }) end
    return reply(200, { deliveries = deliveries.list(ctx.args) })
  end
  local wid, action = path:match("^/_emulator/v3/webhooks/([^/]+)(.*)$")
  if wid then return webhook_admin(ctx, wid, action, args) end
  local vid = path:match("^/_emulator/v3/vehicles/([^/]+)$")
  if vid and method == "POST" then return vehicle_admin(vid, args) end
  if method ~= "POST" then return bad("unknown admin route", 404) end
  if path == "/_emulator/v3/credentials" then return reply(iam.add_credentials(args)) end
  if path == "/_emulator/v3/tokens/revoke" then return reply(iam.revoke(args)) end
  if path == "/_emulator/v3/webhooks" then return create_webhook(args) end
  if path == "/_emulator/v3/events" then return events(args) end
  return bad("unknown admin route", 404)
end

return M
