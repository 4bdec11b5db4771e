--- Webhooks: the VERIFY challenge and payload signatures; API V3's deliveries (payload
-- version "4.0"), verified and decoded.
-- @submodule smartcar

local core = require "smartcar.core"
core.own()

local type, pairs, ipairs = type, pairs, ipairs
local hmac, equals, check_string, arg_error = core.hmacSha256Hex, core.equals, core.checkString, core.argError

-- The SC-Signature header of a delivery's headers (any case; a repeated one: its first value).
-- The SC-Signature header (a list value: its first), in any case; nil when there is none, or when
-- several spellings of it disagree (which one counted would depend on the table's order).
local function signature_of(headers)
  local found
  for k, v in pairs(headers) do
    if type(k) == "string" and k:lower() == "sc-signature" then
      if type(v) == "table" then v = v[1] end
      if type(v) ~= "string" or (found and found ~= v) then return nil end
      found = v
    end
  end
  return found
end

local timestamp = require("smartcar.v3").timestamp -- (see `V3Signal`)

-- A delivered signal, flattened as `V3Vehicle:signal` gives one.
local function signal_of(s)
  local out = {}
  for k, v in pairs(s) do if type(k) == "string" then out[k] = v end end
  local status = out.status
  if type(status) == "table" then out.status, out.error = status.value, status.error end
  if type(out.body) == "table" then out.value, out.unit = out.body.value, out.body.unit end
  local meta = type(s.meta) == "table" and s.meta or {}
  out.meta = nil
  out.retrievedAt = timestamp(meta.retrievedAt or meta.fetchedAt)
  out.oemUpdatedAt = timestamp(meta.oemUpdatedAt)
  return out
end

-- The triggers of a VEHICLE_STATE event, in one form (reference 4.5: both shapes, both places).
local function triggers_of(list)
  local out = {}
  for _, t in ipairs(type(list) == "table" and list or {}) do
    if type(t) == "table" then
      local signal = type(t.signal) == "table" and t.signal or nil
      local first = t.type == "FIRST_DELIVERY" or t.code == "FIRST_DELIVERY"
      out[#out + 1] = {
        type = first and "FIRST_DELIVERY" or (type(t.type) == "string" and t.type or "SIGNAL_UPDATED"),
        code = not first and (signal and signal.code or t.code) or nil,
        name = signal and signal.name or t.name, group = signal and signal.group or t.group,
      }
    end
  end
  return out
end

-- A decoded delivery as an event (API.md V3; unknown event types pass through with `raw`).
local function event_of(body)
  if type(body.eventName) == "string" then -- a v2 ("2.0") payload: the VERIFY challenge, or raw
    local payload = type(body.payload) == "table" and body.payload or {}
    return { type = body.eventName:upper(), challenge = payload.challenge, webhookId = body.webhookId,
      meta = { version = body.version, webhookId = body.webhookId }, raw = body }
  end
  local data = type(body.data) == "table" and body.data or {}
  local meta = {}
  for k, v in pairs(type(body.meta) == "table" and body.meta or {}) do if type(k) == "string" then meta[k] = v end end
  meta.deliveredAt = timestamp(meta.deliveredAt)
  local event = { type = body.eventType, id = body.eventId, vehicleId = body.vehicleId, meta = meta, raw = body,
    user = type(data.user) == "table" and data.user or nil, vehicle = type(data.vehicle) == "table" and data.vehicle or nil,
    challenge = type(data.challenge) == "string" and data.challenge or nil }
  if type(data.signals) == "table" then
    event.signals = {}
    for _, s in ipairs(data.signals) do
      if type(s) == "table" and type(s.code) == "string" then event.signals[s.code] = signal_of(s) end
    end
  end
  local triggers = body.triggers ~= nil and body.triggers or data.triggers
  if triggers ~= nil then
    event.triggers = triggers_of(triggers)
    for _, t in ipairs(event.triggers) do
      if t.type == "FIRST_DELIVERY" then event.firstDelivery = true end
    end
  end
  if type(data.errors) == "table" then event.errors = data.errors end
  return event
end

return function(smartcar)
  --- The answer to a webhook VERIFY challenge: lowercase hex HMAC-SHA256 of the challenge keyed by the AMT.
  -- @tparam string amt
  -- @tparam string challenge
  -- @treturn string
  function smartcar.hashChallenge(amt, challenge)
    check_string(amt, 1, "hashChallenge")
    if type(challenge) ~= "string" then arg_error(2, "hashChallenge", "string expected, got " .. type(challenge)) end
    return hmac(amt, challenge)
  end

  --- Whether a webhook delivery is authentic: compares (in constant time) the `SC-Signature` header with
  -- the HMAC-SHA256 of the raw request body. A table body is encoded as compact JSON first.
  -- @tparam string amt
  -- @tparam string signature the `SC-Signature` header
  -- @tparam string|table body the raw request body
  -- @treturn boolean
  function smartcar.verifyPayload(amt, signature, body)
    check_string(amt, 1, "verifyPayload")
    if type(signature) ~= "string" then return false end
    if type(body) == "table" then body = core.encode(body) end
    if type(body) ~= "string" then arg_error(3, "verifyPayload", "string expected, got " .. type(body)) end
    return equals(hmac(amt, body), signature:lower())
  end

  --- A V3 webhook delivery, verified and decoded. The `SC-Signature` header must be the HMAC-SHA256 of
  -- the raw body keyed by the AMT (compared in constant time), VERIFY included: answering an unsigned
  -- challenge would sign any text for whoever sent it. Answer a failure with 401.
  -- @tparam string amt the Application Management Token
  -- @tparam table headers the request headers, by name (any case; a list value: its first)
  -- @tparam string rawBody the request body exactly as received
  -- @treturn[1] table the event (see `V3Event`)
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError `SDK_ERROR` with code `INVALID_SIGNATURE` (statusCode 401; no or a wrong
  -- signature) or `INVALID_PAYLOAD` (statusCode 400; not a JSON object)
  -- @usage local event, err = smartcar.parseWebhook(amt, ngx.req.get_headers(), body)
  -- if not event then return ngx.exit(err.statusCode) end
  -- if event.type == "VERIFY" then ngx.say(smartcar.webhookChallenge(amt, event)) end
  -- @see V3Event
  function smartcar.parseWebhook(amt, headers, rawBody)
    check_string(amt, 1, "parseWebhook")
    if type(headers) ~= "table" then arg_error(2, "parseWebhook", "table expected, got " .. type(headers)) end
    if type(rawBody) ~= "string" then arg_error(3, "parseWebhook", "string expected, got " .. type(rawBody)) end
    local signature = signature_of(headers)
    if not signature or not equals(hmac(amt, rawBody), signature:lower()) then
      return nil, core.sdkError("INVALID_SIGNATURE", signature and "The SC-Signature header does not match the body"
        or "The delivery has no SC-Signature header", 401)
    end
    local body = rawBody:find("^%s*{") and core.decode(rawBody) -- an object, not `[]` (which decodes alike)
    if type(body) ~= "table" or body[1] ~= nil then
      return nil, core.sdkError("INVALID_PAYLOAD", "The delivery's body is not a JSON object", 400)
    end
    local event = event_of(body)
    if event.type == "VERIFY" and (type(event.challenge) ~= "string" or event.challenge == "") then
      return nil, core.sdkError("INVALID_PAYLOAD", "The VERIFY delivery has no challenge", 400)
    end
    return event
  end

  --- A V3 webhook event, as `parseWebhook` gives it (absent keys absent).
  -- @table V3Event
  -- @tfield string type `eventType`: `VERIFY`, `VEHICLE_STATE`, `VEHICLE_ERROR`, or another, passed through
  -- @tfield string id `eventId`: the same on every retry of a delivery (dedupe on it)
  -- @tfield string vehicleId absent in `VERIFY`
  -- @tfield string challenge `VERIFY`: the challenge (answer with `webhookChallenge`)
  -- @tfield table user `{id}` (and `externalId` when sent): `id` is the `sc-user-id`
  -- @tfield table vehicle `{id, make, model, year}` (and `vin`, `mode`, `powertrainType` when sent)
  -- @tfield table signals `VEHICLE_STATE`: signal code -> signal (see `V3Signal`)
  -- @tfield {table,...} triggers `VEHICLE_STATE`: each `{type, code, name, group}`, `type` `SIGNAL_UPDATED` or
  -- `FIRST_DELIVERY` (then no `code`)
  -- @tfield boolean firstDelivery true when a trigger is `FIRST_DELIVERY`
  -- @tfield {table,...} errors `VEHICLE_ERROR`: each `{type, code, state, description, suggestedUserMessage, docURL,
  -- resolution, signals}`, `state` `ERROR` or `RESOLVED`
  -- @tfield table meta `{version, webhookId, webhookName, deliveryId, deliveredAt, signalCount, mode}`:
  -- `deliveredAt` epoch seconds (or the ISO-8601 string sent), `mode` `LIVE` or `TEST`
  -- @tfield table raw the decoded body, as sent
  -- @see V3Signal

  --- The JSON body that answers a `VERIFY` event: `{"challenge":"<hex HMAC-SHA256 of the challenge>"}`,
  -- keyed by the AMT. Send it with status 200 and `Content-Type: application/json`.
  -- @tparam string amt the Application Management Token
  -- @tparam table|string event the `VERIFY` event of `parseWebhook` (or its challenge string)
  -- @treturn string the JSON body
  function smartcar.webhookChallenge(amt, event)
    check_string(amt, 1, "webhookChallenge")
    local challenge = event
    if type(event) == "table" then
      if event.type ~= "VERIFY" then
        arg_error(2, "webhookChallenge", "a VERIFY event expected, got " .. (type(event.type) == "string" and
          core.shown(event.type) or "an event without a type"))
      end
      challenge = event.challenge
    end
    if type(challenge) ~= "string" or challenge == "" then
      arg_error(2, "webhookChallenge", "a VERIFY event with a challenge expected, got " .. type(challenge))
    end
    return core.encode({ challenge = hmac(amt, challenge) })
  end
end
