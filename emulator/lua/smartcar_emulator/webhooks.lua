-- Outgoing webhook calls (VERIFY challenge, signed deliveries) over a minimal HTTP/1.1 client on
-- ngx.socket.tcp, and the built-in echo receiver used by tests.
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"

local M = {}

local obj = json.object

M.USER_AGENT = "Smartcar-Emulator-Webhooks/1.0"

--- POST body to an http:// URL (User-Agent user_agent, default M.USER_AGENT). Returns { status, headers,
-- body } or nil, error.
function M.post(url, headers, body, timeout_ms, user_agent)
  local scheme, host, port, path = url:match("^(%a+)://([^/:?#]+):?(%d*)([^#]*)")
  if not scheme then return nil, "invalid URL" end
  if scheme:lower() ~= "http" then return nil, "only http:// callback URLs are supported by the emulator" end
  port = tonumber(port) or 80
  if path == "" then path = "/" elseif path:sub(1, 1) == "?" then path = "/" .. path end
  local addr = host == "localhost" and "127.0.0.1" or host
  local sock = ngx.socket.tcp()
  sock:settimeout(timeout_ms or 15000)
  local ok, err = sock:connect(addr, port)
  if not ok then return nil, "connect failed: " .. tostring(err) end
  local lines = { "POST " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port,
    "User-Agent: " .. (user_agent or M.USER_AGENT), "Content-Type: application/json",
    "Content-Length: " .. #body, "Connection: close" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  local bytes, serr = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  if not bytes then sock:close(); return nil, "send failed: " .. tostring(serr) end
  local line, rerr = sock:receive("*l")
  if not line then sock:close(); return nil, "no response: " .. tostring(rerr) end
  local status = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then sock:close(); return nil, "bad status line" end
  local rh = {}
  while true do
    local h = sock:receive("*l")
    if not h or h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    if k then rh[k:lower()] = v end
  end
  local rbody
  if rh["content-length"] then
    local n = tonumber(rh["content-length"]) or 0
    rbody = n > 0 and sock:receive(n) or ""
  elseif (rh["transfer-encoding"] or ""):lower():find("chunked", 1, true) then
    local parts = {}
    while true do
      local size_line = sock:receive("*l")
      local size = size_line and tonumber(size_line:match("^%x+"), 16)
      if not size or size == 0 then break end
      parts[#parts + 1] = sock:receive(size)
      sock:receive("*l")
    end
    rbody = table.concat(parts)
  else
    rbody = sock:receive("*a")
  end
  sock:close()
  return { status = status, headers = rh, body = rbody or "" }
end

--- POST the raw JSON body to url signed with SC-Signature = hex HMAC-SHA256(amt, raw) (v2 and V3
-- deliveries alike). Returns response or nil, error message, and the signature.
function M.signed_post(url, amt, raw, timeout_ms, user_agent)
  local signature = util.hmac_sha256_hex(amt, raw)
  local res, err = M.post(url, { ["SC-Signature"] = signature }, raw, timeout_ms, user_agent)
  return res, err, signature
end

local function amt_for(args)
  if type(args.amt) == "string" and args.amt ~= "" then return args.amt end
  local hook = args.webhookId and state.webhooks[args.webhookId]
  local app = state.apps[hook and hook.clientId or state.DEFAULT_APP.clientId]
  return app and app.amt or state.DEFAULT_APP.amt
end

local function meta(args)
  return obj({ "version", "webhookId", "webhookName", "deliveryId", "deliveredAt" }, {
    version = "4.0", webhookId = args.webhookId or state.DEFAULT_WEBHOOK,
    webhookName = "Emulator Webhook", deliveryId = util.random_uuid(), deliveredAt = util.iso(state.now()) })
end

-- VERIFY payload generations (smartcar-api.md §7.1): "4.0" `{eventId, eventType: "VERIFY", data: {challenge},
-- meta}` (the current docs), "2.0" `{version, webhookId, eventName: "verify", payload: {challenge}}` (the
-- older callback-verification page). Either way the callback answers 200 `{challenge: HMAC(amt, challenge)}`.
M.VERSIONS = { ["4.0"] = true, ["2.0"] = true }

--- The payload version for a call: its `version`, else the webhook's configured one, else "4.0".
local function version_for(args)
  if args.version ~= nil then return args.version end
  local hook = args.webhookId and state.webhooks[args.webhookId]
  return hook and hook.version or "4.0"
end

local function verify_payload(args, version, challenge)
  if version == "2.0" then
    return obj({ "version", "webhookId", "eventName", "payload" }, { version = "2.0",
      webhookId = args.webhookId or state.DEFAULT_WEBHOOK, eventName = "verify", payload = { challenge = challenge } })
  end
  return obj({ "eventId", "eventType", "data", "meta" }, { eventId = util.random_uuid(),
    eventType = "VERIFY", data = { challenge = challenge }, meta = meta(args) })
end

--- POST /_emulator/webhooks/verify
function M.verify(args)
  if type(args.url) ~= "string" then return 400, { error = "\"url\" is required" } end
  local version = version_for(args)
  if not M.VERSIONS[version] then return 400, { error = "\"version\" must be \"4.0\" or \"2.0\"" } end
  local amt = amt_for(args)
  local challenge = util.random_hex(32)
  local raw = json.encode(verify_payload(args, version, challenge))
  local res, err = M.signed_post(args.url, amt, raw, 15000)
  if not res then
    return 200, obj({ "verified", "status", "challenge", "version", "error" },
      { verified = false, status = json.null, challenge = challenge, version = version, error = err })
  end
  local expected = util.hmac_sha256_hex(amt, challenge)
  local answer = json.decode(res.body)
  local verified = res.status == 200 and type(answer) == "table" and answer.challenge == expected
  return 200, obj({ "verified", "status", "challenge", "version" }, { verified = verified, status = res.status,
    challenge = challenge, version = version })
end

local function vehicle_state_payload(args, v)
  local v3 = require "smartcar_emulator.v3"
  local signals = {}
  for _, s in ipairs(v3.signal_list(v)) do
    local full = v3.signal(v, s)
    signals[#signals + 1] = obj({ "code", "name", "group", "body", "meta" }, { code = s[1], name = s[2],
      group = s[3], body = full.attributes.body, meta = full.meta })
  end
  local m = meta(args)
  m.deliveredAt = math.floor(state.now() * 1000)
  m.signalCount = #signals
  m.mode = "TEST"
  setmetatable(m, { __order = { "version", "deliveryId", "deliveredAt", "webhookId", "webhookName",
    "signalCount", "mode" } })
  local event = args.eventType or "VEHICLE_STATE"
  local vehicle = obj({ "id", "make", "model", "year", "vin" }, { id = v.id, make = v.make, model = v.model,
    year = v.year, vin = v.vin })
  if event == "VEHICLE_ERROR" then
    return obj({ "eventId", "eventType", "vehicleId", "data", "meta" }, { eventId = util.random_uuid(),
      eventType = event, vehicleId = v.id, data = obj({ "user", "vehicle", "errors" }, {
        user = { id = v.userId }, vehicle = vehicle,
        errors = { obj({ "type", "code", "state", "description", "suggestedUserMessage", "docURL", "resolution",
          "signals" }, { type = "COMPATIBILITY", code = "VEHICLE_NOT_CAPABLE", state = "ERROR",
          description = "The vehicle is incapable of performing your request.",
          suggestedUserMessage = "Your car is unable to perform this request.",
          docURL = "https://smartcar.com/docs/errors/api-errors/compatibility-errors#vehicle-not-capable",
          resolution = { type = "CONTACT_SUPPORT" },
          signals = { obj({ "code", "name", "group" }, { code = "location-preciselocation",
            name = "PreciseLocation", group = "Location" }) } }) } }), meta = m })
  end
  return obj({ "eventId", "eventType", "data", "triggers", "meta" }, { eventId = util.random_uuid(),
    eventType = event,
    data = obj({ "vehicle", "signals", "user" }, { vehicle = vehicle, signals = signals, user = { id = v.userId } }),
    triggers = { obj({ "type", "signal" }, { type = "SIGNAL_UPDATED",
      signal = { code = signals[1] and signals[1].code or "odometer-traveleddistance" } }) },
    meta = m })
end

--- POST /_emulator/webhooks/deliver
function M.deliver(args)
  if type(args.url) ~= "string" then return 400, { error = "\"url\" is required" } end
  local amt = amt_for(args)
  local raw
  if type(args.payload) == "table" then
    raw = json.encode(args.payload)
  else
    local v
    if args.vehicleId then
      v = state.vehicles[args.vehicleId]
      if not v then return 400, { error = "unknown vehicleId" } end
    else
      v = state.account("demo@example.com").vehicles[1]
    end
    raw = json.encode(vehicle_state_payload(args, v))
  end
  local res, err, signature = M.signed_post(args.url, amt, raw, 15000)
  if not res then
    return 200, obj({ "status", "body", "signature", "error" }, { status = json.null, body = raw,
      signature = signature, error = err })
  end
  return 200, obj({ "status", "body", "signature", "response" }, { status = res.status, body = raw,
    signature = signature, response = res.body })
end

--- /_emulator/echo-webhook?amt=…: answers VERIFY challenges and checks SC-Signature.
M.received = {}
function M.echo(ctx)
  if ctx.method == "GET" then return 200, { received = M.received } end
  if ctx.method == "DELETE" then M.received = {}; return 200, { ok = true } end
  local amt = ctx.args.amt or state.DEFAULT_APP.amt
  local body = ctx.body or ""
  local sig = ctx.headers["sc-signature"]
  local valid = sig ~= nil and util.equal(sig, util.hmac_sha256_hex(amt, body))
  local payload = json.decode(body)
  local list = M.received
  list[#list + 1] = { body = body, signature = sig or json.null, signatureValid = valid }
  if #list > 100 then table.remove(list, 1) end
  if type(payload) == "table" then
    local challenge = (payload.eventType == "VERIFY" and type(payload.data) == "table" and payload.data.challenge) or
      (payload.eventName == "verify" and type(payload.payload) == "table" and payload.payload.challenge)
    if challenge then
      return 200, { challenge = util.hmac_sha256_hex(amt, challenge) }
    end
  end
  if not valid then return 401, { received = true, signatureValid = false } end
  return 200, { received = true, signatureValid = true }
end

return M
