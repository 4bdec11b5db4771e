-- An API V3 webhook receiver in nginx (OpenResty-style), on the SDK:
--   POST /webhook  a delivery: the SC-Signature is checked over the raw body (smartcar.parseWebhook)
--                  before anything in it is trusted, 401 when it does not match; VERIFY is answered
--                  with smartcar.webhookChallenge; VEHICLE_STATE and VEHICLE_ERROR are logged and
--                  stored (once per eventId: a retried delivery is acknowledged, not stored again)
--   GET  /events   what was received: {"events":[...], "rejected":N}, oldest first
-- The AMT (Application Management Token) comes from SMARTCAR_MANAGEMENT_TOKEN (nginx `env`).
-- luacheck: globals ngx
local smartcar = require "smartcar"
local json = require "cjson.safe" -- built into OpenResty; Debian: lua-cjson
local requestBody = require("smartcar.transport.resty").requestBody

local AMT = os.getenv("SMARTCAR_MANAGEMENT_TOKEN")
local store = ngx.shared.events -- every worker's deliveries in one place (a real app: its database)

local app = {}

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Cache-Control"] = "no-store"
  ngx.say(type(body) == "string" and body or json.encode(body))
  return ngx.exit(status)
end


-- What the app keeps of an event: who, which vehicle, and the signal values or the errors.
local function summary(event)
  local meta = event.meta or {}
  local out = { type = event.type, id = event.id, vehicleId = event.vehicleId,
    userId = event.user and event.user.id, webhookId = meta.webhookId, deliveryId = meta.deliveryId,
    mode = meta.mode, receivedAt = ngx.now() }
  if event.vehicle then
    out.vehicle = { make = event.vehicle.make, model = event.vehicle.model, year = event.vehicle.year }
  end
  if event.signals then
    out.signals = {}
    for code, s in pairs(event.signals) do -- the value (or the whole body), else the status and error
      if s.status ~= "SUCCESS" then out.signals[code] = { status = s.status, error = s.error }
      elseif s.value ~= nil then out.signals[code] = s.value
      else out.signals[code] = s.body end
    end
  end
  if event.triggers then
    out.triggers = {}
    for i, t in ipairs(event.triggers) do out.triggers[i] = t.code or t.type end
  end
  if event.errors then
    out.errors = {}
    for i, e in ipairs(event.errors) do
      out.errors[i] = { type = e.type, code = e.code, state = e.state, description = e.description }
    end
  end
  return out
end

-- Keep an event once (retries carry the same eventId). Returns false for one seen before.
local function keep(record)
  if record.id and not store:add("id:" .. record.id, true) then return false end
  local n = store:incr("count", 1, 0)
  store:set("event:" .. n, json.encode(record))
  return true
end

function app.webhook()
  if ngx.req.get_method() ~= "POST" then return reply(405, { error = "POST only" }) end
  if not AMT then return reply(503, { error = "SMARTCAR_MANAGEMENT_TOKEN is not set" }) end
  local event, err = smartcar.parseWebhook(AMT, ngx.req.get_headers(), assert(requestBody()))
  if not event then -- a missing or wrong SC-Signature (401), or a signed body that is not a JSON object (400)
    store:incr("rejected", 1, 0)
    ngx.log(ngx.WARN, "webhook rejected: ", err.code)
    return reply(err.statusCode or 401, { error = err.code })
  end
  if event.type == "VERIFY" then -- proves to Smartcar that this endpoint holds the AMT
    keep { type = "VERIFY", id = event.id, webhookId = event.meta and event.meta.webhookId, receivedAt = ngx.now() }
    ngx.log(ngx.NOTICE, "webhook VERIFY answered")
    return reply(200, smartcar.webhookChallenge(AMT, event))
  end
  if event.type ~= "VEHICLE_STATE" and event.type ~= "VEHICLE_ERROR" then -- a newer type: acknowledged
    ngx.log(ngx.NOTICE, "webhook ", tostring(event.type), " ignored")
    return reply(200, { received = event.type, stored = false })
  end
  local record = summary(event)
  local new = keep(record)
  if event.type == "VEHICLE_ERROR" then
    for _, e in ipairs(record.errors or {}) do
      ngx.log(ngx.NOTICE, "webhook VEHICLE_ERROR ", tostring(e.type), ":", tostring(e.code), " (", tostring(e.state),
        ") vehicle ", tostring(record.vehicleId))
    end
  else
    ngx.log(ngx.NOTICE, "webhook VEHICLE_STATE vehicle ", tostring(record.vehicleId), ", triggers ",
      table.concat(record.triggers or {}, ","))
  end
  -- Answer at once (Smartcar retries a delivery that is not acknowledged with a 2xx in time).
  return reply(200, { received = event.type, stored = new })
end

function app.events()
  if ngx.req.get_method() ~= "GET" then return reply(405, { error = "GET only" }) end
  local list = {} -- the stored JSON texts, joined as they are (an empty list stays an array)
  for n = 1, store:get("count") or 0 do list[#list + 1] = store:get("event:" .. n) end
  return reply(200, ('{"events":[%s],"rejected":%d}'):format(table.concat(list, ","), store:get("rejected") or 0))
end

return app
