-- V3 webhook deliveries (payload version "4.0"): VERIFY, VEHICLE_STATE (FIRST_DELIVERY after a
-- subscription, SIGNAL_UPDATED when a trigger signal changes), VEHICLE_ERROR. Compact JSON signed with
-- SC-Signature = hex HMAC-SHA256(application management token, raw body); retries at 25/50/100 s
-- (times the configured scale) with the same eventId and a new deliveryId; every attempt is recorded.
local v3 = require "smartcar_emulator.v3"
local C = require "smartcar_emulator.v3_common"
local conns = require "smartcar_emulator.v3_connections"
local mgmt = require "smartcar_emulator.v3_management"
local webhooks = require "smartcar_emulator.webhooks"
local json, util, state, obj, arr, null = C.json, C.util, C.state, C.obj, C.arr, C.null

local M = {}

M.USER_AGENT = "Smartcar/4.0 (emulator)"
M.RETRY_DELAYS = { 25, 50, 100 }
M.LOG_MAX = 500

local function amt_of(appId)
  local app = state.apps[appId]
  return app and app.amt or state.DEFAULT_APP.amt
end

local function record(entry)
  local s = C.store()
  s.deliverySeq = (s.deliverySeq or 0) + 1
  entry.seq = s.deliverySeq
  local log = s.deliveries
  log[#log + 1] = entry
  if #log > M.LOG_MAX then table.remove(log, 1) end
  return entry
end

-- One attempt of event ev (its payload built per attempt by ev.build(meta)). Returns the log entry.
local function attempt(ev, n)
  local s = C.store()
  local w = ev.webhook
  local deliveredAt = state.now()
  local meta = obj({ "version", "webhookId", "webhookName", "deliveryId", "deliveredAt", "signalCount", "mode" }, {
    version = "4.0", webhookId = w.id, webhookName = w.name, deliveryId = util.random_uuid(),
    deliveredAt = ev.type == "VERIFY" and C.iso(deliveredAt) or math.floor(deliveredAt * 1000),
    signalCount = ev.signalCount, mode = ev.mode })
  local raw = json.encode(ev.build(meta))
  local res, err, signature = webhooks.signed_post(ev.url, amt_of(w.appId), raw, s.config.deliveryTimeout * 1000,
    M.USER_AGENT)
  local ok = res ~= nil and res.status >= 200 and res.status < 300
  local entry = obj({ "seq", "eventId", "deliveryId", "eventType", "webhookId", "vehicleId", "userId", "url",
    "attempt", "status", "ok", "error", "signature", "body", "response", "deliveredAt" }, {
    eventId = ev.eventId, deliveryId = meta.deliveryId, eventType = ev.type, webhookId = w.id,
    vehicleId = ev.vehicleId or null, userId = ev.userId or null, url = ev.url, attempt = n,
    status = res and res.status or null, ok = ok, error = err or null, signature = signature, body = raw,
    response = res and res.body or null, deliveredAt = C.iso(deliveredAt) })
  if ev.check then ev.check(entry, res) end
  record(entry)
  if not ok and n <= #M.RETRY_DELAYS and (s.config.retryScale or 0) > 0 and not ev.noRetry then
    local gen = s.gen
    ngx.timer.at(M.RETRY_DELAYS[n] * s.config.retryScale, function(premature)
      if premature or C.store().gen ~= gen then return end
      attempt(ev, n + 1)
    end)
  end
  return entry
end

--- Send ev now (first attempt in this request) or from a timer (async).
local function send(ev, async)
  if async then
    local gen = C.store().gen
    ngx.timer.at(0, function(premature)
      if premature or C.store().gen ~= gen then return end
      attempt(ev, 1)
    end)
    return nil
  end
  return attempt(ev, 1)
end

-- VERIFY ----------------------------------------------------------------------------------------------

--- Send the VERIFY challenge to webhook w's callback; marks it verified on the right answer.
function M.verify(w)
  local challenge = util.random_hex(32)
  local amt = amt_of(w.appId)
  local ev = { type = "VERIFY", webhook = w, url = w.callbackUri, eventId = util.random_uuid(), noRetry = true }
  ev.build = function(meta)
    meta.signalCount, meta.mode = nil, nil
    return obj({ "eventId", "eventType", "data", "meta" }, { eventId = ev.eventId, eventType = "VERIFY",
      data = { challenge = challenge }, meta = meta })
  end
  ev.check = function(entry, res)
    local answer = res and res.status == 200 and json.decode(res.body)
    local verified = type(answer) == "table" and util.equal(answer.challenge, util.hmac_sha256_hex(amt, challenge))
    entry.challenge = challenge
    entry.verified = verified
    w.verified = verified
  end
  return send(ev, false)
end

-- VEHICLE_STATE / VEHICLE_ERROR -------------------------------------------------------------------

local function vehicle_of(v, c)
  return obj({ "id", "make", "model", "year", "vin", "mode", "powertrainType" }, { id = v.id, make = v.make,
    model = v.model, year = v.year, vin = v.vin, mode = C.mode(c and c.mode), powertrainType = v.type })
end

local function applicable(v)
  local set = {}
  for _, s in ipairs(v3.signal_list(v)) do set[s[1]] = true end
  return set
end

--- The webhook's data signals for vehicle v as user c sees them (SUCCESS, or ERROR without a body).
local function signals_of(w, v, c)
  local ok = applicable(v)
  local scope = c and conns.scope(c) or {}
  local out = arr()
  for _, code in ipairs(w.data) do
    local s = v3.BY_CODE[code]
    local d = mgmt.descriptor(code) or { code = code }
    if s and ok[code] and (s[6] == nil or scope[s[6]]) then
      local full = v3.signal(v, s)
      out[#out + 1] = obj({ "code", "name", "group", "body", "status", "meta" }, { code = code, name = d.name,
        group = d.group, body = full.attributes.body, status = { value = "SUCCESS" }, meta = full.meta })
    else
      local etype, ecode = "COMPATIBILITY", "VEHICLE_NOT_CAPABLE"
      if s and ok[code] then etype, ecode = "PERMISSION", null end
      out[#out + 1] = obj({ "code", "name", "group", "status" }, { code = code, name = d.name, group = d.group,
        status = { value = "ERROR", error = obj({ "type", "code" }, { type = etype, code = ecode }) } })
    end
  end
  return out
end

--- The trigger signals' current values of vehicle v (code → encoded body).
local function snapshot(w, v)
  local out = {}
  local ok = applicable(v)
  for _, code in ipairs(w.triggers) do
    local s = v3.BY_CODE[code]
    if s and ok[code] then out[code] = json.encode(v3.signal(v, s).attributes.body) end
  end
  return out
end

--- A VEHICLE_STATE event of subscription-like (w, user, vehicle) with the given triggers.
function M.vehicle_state(w, userId, v, triggers, async)
  local c = conns.find(w.appId, userId, v.id)
  local signals = signals_of(w, v, c)
  local ev = { type = "VEHICLE_STATE", webhook = w, url = w.callbackUri, eventId = util.random_uuid(),
    vehicleId = v.id, userId = userId, signalCount = #signals, mode = C.mode(c and c.mode) == "live" and "LIVE" or
      "TEST" }
  ev.build = function(meta)
    return obj({ "eventId", "eventType", "vehicleId", "data", "triggers", "meta" }, { eventId = ev.eventId,
      eventType = "VEHICLE_STATE", vehicleId = v.id,
      data = obj({ "user", "vehicle", "signals" }, { user = { id = userId }, vehicle = vehicle_of(v, c),
        signals = signals }),
      triggers = triggers, meta = meta })
  end
  return send(ev, async)
end

local function signal_triggers(codes)
  local out = arr()
  for _, code in ipairs(codes) do
    out[#out + 1] = obj({ "type", "signal" }, { type = "SIGNAL_UPDATED", signal = mgmt.descriptor(code) })
  end
  return out
end

--- A VEHICLE_ERROR event. err: { type, code, state, signals = { codes } }.
function M.vehicle_error(w, userId, v, err, async)
  local c = conns.find(w.appId, userId, v.id)
  local errors = require "smartcar_emulator.errors"
  local etype, code = err.type or "COMPATIBILITY", err.code
  if code == nil and etype == "COMPATIBILITY" then code = "VEHICLE_NOT_CAPABLE" end
  local entry = errors.CATALOG[etype] and errors.CATALOG[etype][code or "null"]
  local sigs = arr()
  for _, sc in ipairs(err.signals or { "location-preciselocation" }) do
    sigs[#sigs + 1] = mgmt.descriptor(sc) or { code = sc }
  end
  local app = state.apps[w.appId]
  local item = obj({ "type", "code", "state", "description", "suggestedUserMessage", "docURL", "resolution",
    "signals" }, { type = etype, code = code or null, state = err.state or "ERROR",
    description = entry and entry[1] or "An error occurred while retrieving vehicle data.",
    suggestedUserMessage = entry and entry[3] and (entry[3]:gsub("<app name>", app and app.name or "<app name>")) or
      nil,
    docURL = "https://smartcar.com/docs/errors/api-errors/" .. (etype:lower():gsub("_", "-")) .. "-errors#" ..
      (code and code:lower():gsub("_", "-") or "null"),
    resolution = { type = entry and entry[2] or null }, signals = sigs })
  local ev = { type = "VEHICLE_ERROR", webhook = w, url = w.errorCallbackUri or w.callbackUri,
    eventId = util.random_uuid(), vehicleId = v.id, userId = userId,
    mode = C.mode(c and c.mode) == "live" and "LIVE" or "TEST" }
  ev.build = function(meta)
    return obj({ "eventId", "eventType", "vehicleId", "data", "meta" }, { eventId = ev.eventId,
      eventType = "VEHICLE_ERROR", vehicleId = v.id,
      data = obj({ "user", "vehicle", "errors" }, { user = { id = userId }, vehicle = vehicle_of(v, c),
        errors = { item } }), meta = meta })
  end
  return send(ev, async)
end

--- After POST /v3/subscriptions: the FIRST_DELIVERY (async; only to a verified, enabled webhook).
function M.first_delivery(sub)
  local s = C.store()
  local w = s.webhooks[sub.webhookId]
  local v = state.vehicles[sub.vehicleId]
  if not (w and v) then return end
  sub.snapshot = snapshot(w, v)
  if not (w.isEnabled and w.verified) then return end
  M.vehicle_state(w, sub.userId, v, { { type = "FIRST_DELIVERY" } }, true)
end

--- A vehicle may have changed: VEHICLE_STATE (async) to every subscription whose trigger signals changed.
function M.check(v)
  local s = C.store()
  if next(s.subs) == nil then return end
  local apps = {}
  for _, c in ipairs(state.connections) do
    if c.vehicleId == v.id and not apps[c.clientId] then apps[c.clientId] = true; mgmt.ensure_auto(s, c.clientId) end
  end
  for _, sub in pairs(s.subs) do
    local w = sub.vehicleId == v.id and s.webhooks[sub.webhookId]
    if w then
      local now = snapshot(w, v)
      local before = sub.snapshot
      sub.snapshot = now
      if before and w.isEnabled and w.verified then
        local changed = {}
        for _, code in ipairs(w.triggers) do
          if now[code] ~= before[code] then changed[#changed + 1] = code end
        end
        if #changed > 0 then M.vehicle_state(w, sub.userId, v, signal_triggers(changed), true) end
      end
    end
  end
end

--- After any API request: a v2 (or v3) command may have changed ctx.vehicle.
function M.after(ctx)
  if ctx.vehicle and ctx.method ~= "GET" and ctx.method ~= "HEAD" then M.check(ctx.vehicle) end
end

--- Admin: the recorded attempts, oldest first (filters: webhookId, eventType, vehicleId, eventId, since).
function M.list(args)
  local out = arr()
  local since = tonumber(args.since or "") or 0
  for _, e in ipairs(C.store().deliveries) do
    if e.seq > since and (not args.webhookId or e.webhookId == args.webhookId) and
        (not args.eventType or e.eventType == args.eventType) and
        (not args.vehicleId or e.vehicleId == args.vehicleId) and (not args.eventId or e.eventId == args.eventId) then
      out[#out + 1] = e
    end
  end
  return out
end

function M.clear()
  C.store().deliveries = {}
end

return M
