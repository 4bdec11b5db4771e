-- A Smartcar app inside nginx (OpenResty-style): the SDK's C core builds requests and
-- parses responses, the resty transport does the I/O on cosockets, so a worker never blocks.
--   /connect   -> redirect to Smartcar Connect
--   /callback  -> exchange the code, then show the first vehicle and its odometer (JSON)
--   /webhook   -> a webhook receiver: answers the VERIFY challenge, checks SC-Signature on the raw body
local smartcar = require "smartcar"
local json = require "cjson.safe" -- built into OpenResty; Debian: lua-cjson
local requestBody = require("smartcar.transport.resty").requestBody

-- Loaded once per worker (require caches it): configure and build the client once.
smartcar.configure { timeout = 10000 } -- inside nginx the cosocket transport is the default
local client = smartcar.AuthClient.new { mode = "test" } -- credentials from SMARTCAR_* (nginx `env`)

local AMT = os.getenv("SMARTCAR_MANAGEMENT_TOKEN") -- the application management token

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(body))
end

local routes = {}

function routes.connect()
  return ngx.redirect(client:getAuthUrl({ "read_vehicle_info", "read_odometer" }, { state = ngx.var.arg_state }))
end

function routes.callback()
  local args = ngx.req.get_uri_args()
  if args.error then return reply(403, { error = args.error }) end
  local access, err = client:exchangeCode(args.code or "")
  if not access then return reply(502, { error = err.message }) end
  local list = assert(smartcar.getVehicles(access.accessToken))
  local vehicle = smartcar.Vehicle.new(list.vehicles[1], access.accessToken)
  local attributes, aerr = vehicle:attributes()
  if not attributes then return reply(502, { error = aerr.message }) end
  local odometer = assert(vehicle:odometer())
  return reply(200, {
    state = args.state, vehicle = attributes.id, make = attributes.make, model = attributes.model,
    distance = odometer.distance, requestId = odometer.meta.requestId,
  })
end

function routes.webhook()
  local raw = assert(requestBody()) -- byte for byte, however large
  local event = json.decode(raw)
  if type(event) ~= "table" then return reply(400, { error = "not JSON" }) end
  if event.eventType == "VERIFY" then -- prove we hold the AMT
    return reply(200, { challenge = smartcar.hashChallenge(AMT, event.data.challenge) })
  end
  -- Verify the raw bytes as received, before trusting anything in them.
  if not smartcar.verifyPayload(AMT, ngx.var.http_sc_signature or "", raw) then
    return reply(401, { error = "invalid signature" })
  end
  ngx.log(ngx.INFO, "webhook event ", event.eventType, " ", event.eventId)
  return reply(200, { received = event.eventType })
end

local app = {}

function app.handle()
  local handler = routes[ngx.var.uri:match("^/(%w+)")]
  if handler then return handler() end
  return reply(404, { error = "not found" })
end

return app
