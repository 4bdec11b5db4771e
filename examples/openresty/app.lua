-- The official Smartcar SDKs' demo app (Connect, then the vehicle's attributes), in nginx.
--   /          a "Connect your vehicle" link
--   /login     redirect to Smartcar Connect, with a random `state` kept against the session cookie
--   /callback  Connect's redirect: the error page, or check `state`, exchange the code, keep the
--              tokens server-side (lua_shared_dict "sessions") and show every vehicle's attributes
--   /vehicle   the same page again from the stored tokens (refreshed and saved when they expire)
--   /webhook   answers the VERIFY challenge, checks SC-Signature on the raw body (any size)
-- The browser only ever holds an opaque session id; tokens never leave the server.
-- luacheck: globals ngx
local smartcar = require "smartcar"
local json = require "cjson.safe" -- built into OpenResty; Debian: lua-cjson
local requestBody = require("smartcar.transport.resty").requestBody

-- Loaded once per worker (require caches it). Inside nginx the SDK talks over cosockets by itself.
smartcar.configure { timeout = 30000 }
-- Credentials from SMARTCAR_CLIENT_ID / _SECRET / _REDIRECT_URI (see the `env` lines of nginx.conf).
local client = smartcar.AuthClient.new { mode = os.getenv("SMARTCAR_MODE") or "test" }
local AMT = os.getenv("SMARTCAR_MANAGEMENT_TOKEN") -- the application management token (webhooks)

local sessions = ngx.shared.sessions
local token_store = require "smartcar.store"
local COOKIE = "sc_demo_session"
local SCOPE = { "required:read_vehicle_info" }

-- HTML ---------------------------------------------------------------------------------------------

local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
local function esc(s) return (tostring(s):gsub("[&<>\"']", ESCAPES)) end

local function page(status, title, body)
  ngx.status = status
  ngx.header["Content-Type"] = "text/html; charset=utf-8"
  ngx.header["Cache-Control"] = "no-store"
  ngx.header["Referrer-Policy"] = "no-referrer" -- the callback's URL holds the code
  ngx.header["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
  ngx.say("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", esc(title),
    "</title><style>body{font-family:sans-serif;max-width:44em;margin:2em auto}",
    "td,th{padding:.3em .8em;text-align:left}</style></head>\n<body>\n<h1>", esc(title), "</h1>\n",
    body, "\n</body></html>")
end

local function error_page(status, title, err, description)
  return page(status, title, '<p>Error: <code id="error">' .. esc(err) .. '</code></p>\n' ..
    '<p id="error-description">' .. esc(description or "") .. '</p>\n<p><a href="/login">Try again</a></p>')
end

local function vehicles_page(rows)
  local html = {}
  for i, row in ipairs(rows) do
    local a = row.attributes
    html[i] = a and ('<tr class="vehicle"><td class="make">%s</td><td class="model">%s</td>' ..
      '<td class="year">%s</td><td class="id"><code>%s</code></td></tr>')
      :format(esc(a.make), esc(a.model), esc(a.year), esc(a.id))
      or ('<tr class="vehicle-error"><td colspan="3">%s</td><td class="id"><code>%s</code></td></tr>')
      :format(esc(row.error), esc(row.id))
  end
  return page(200, "Your vehicles", '<table id="vehicles">\n<tr><th>Make</th><th>Model</th><th>Year</th>' ..
    "<th>Id</th></tr>\n" .. table.concat(html, "\n") .. "\n</table>\n" ..
    '<p><a href="/vehicle">Reload from the stored tokens</a> · <a href="/login">Connect another</a></p>')
end

-- Sessions: an opaque random id in an HttpOnly cookie; everything else in the shared dict. ----------

local function random_id()
  local f = assert(io.open("/dev/urandom", "rb"))
  local bytes = f:read(16)
  f:close()
  return (bytes:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function session_id()
  local sid = ngx.var["cookie_" .. COOKIE]
  return sid and sid:match("^%x+$") and #sid == 32 and sid or nil
end

local function load_session(sid) -- {access = {...}, vehicles = {id, ...}} or nil
  local text = sid and sessions:get("session:" .. sid)
  return text and json.decode(text)
end

local function save_session(sid, session)
  local ttl = math.max(1, session.access.refreshExpiration - os.time()) -- as long as the refresh token
  assert(sessions:set("session:" .. sid, json.encode(session), ttl))
end

-- Each vehicle's attributes, concurrently (light threads), through vehicles that refresh the shared
-- `access` before it expires (or after a 401) and save the rotated tokens once per refresh. The
-- store makes that refresh single-flight across this server's workers too.
local function show(sid, session)
  local tasks = {}
  local store = token_store.sharedDict(sessions, "tokens:" .. sid)
  for i, id in ipairs(session.vehicles) do
    tasks[i] = function()
      local vehicle = smartcar.Vehicle.new(id, session.access, { authClient = client, store = store,
        onRefresh = function(access) session.access = access; save_session(sid, session) end })
      return vehicle:attributes()
    end
  end
  local values, errors = smartcar.all(tasks)
  local rows = {}
  for i, id in ipairs(session.vehicles) do
    rows[i] = { id = id, attributes = values[i], error = errors[i] and tostring(errors[i]) }
  end
  return vehicles_page(rows)
end

-- Routes -------------------------------------------------------------------------------------------

local routes = {}

routes["/"] = function()
  return page(200, "Smartcar demo", '<p><a id="connect" href="/login">Connect your vehicle</a></p>')
end

routes["/login"] = function()
  local old = session_id()
  if old then sessions:delete("session:" .. old); sessions:delete("state:" .. old) end
  local sid, state = random_id(), random_id() -- a fresh session at every login
  assert(sessions:set("state:" .. sid, state, 600))
  ngx.header["Set-Cookie"] = ("%s=%s; Path=/; HttpOnly; SameSite=Lax%s")
    :format(COOKIE, sid, ngx.var.https == "on" and "; Secure" or "")
  return ngx.redirect(client:getAuthUrl(SCOPE, { state = state }))
end

routes["/callback"] = function()
  local args = ngx.req.get_uri_args()
  local sid = session_id()
  local expected = sid and sessions:get("state:" .. sid)
  if not expected or type(args.state) ~= "string" or args.state ~= expected then
    return error_page(400, "Invalid state", "invalid_state",
      "This answer from Connect does not belong to your session: please start again.")
  end
  sessions:delete("state:" .. sid) -- one use
  if args.error then
    return error_page(200, "Connect did not finish", args.error, args.error_description)
  end
  local access, err = client:exchangeCode(type(args.code) == "string" and args.code or "")
  if not access then return error_page(502, "Token exchange failed", err.type, err.message) end
  local list, lerr = smartcar.getVehicles(access.accessToken)
  if not list then return error_page(502, "Could not list the vehicles", lerr.type, lerr.message) end
  local session = { access = access, vehicles = list.vehicles }
  save_session(sid, session)
  return show(sid, session)
end

routes["/vehicle"] = function()
  local sid = session_id()
  local session = load_session(sid)
  if not session then
    return page(401, "Not connected", '<p><a href="/login">Connect your vehicle</a> first.</p>')
  end
  return show(sid, session)
end

local app = {}

function app.handle()
  local route = routes[ngx.var.uri]
  if not route then return page(404, "Not found", '<p><a href="/">Home</a></p>') end
  if ngx.req.get_method() ~= "GET" and ngx.req.get_method() ~= "HEAD" then
    return page(405, "Method not allowed", "")
  end
  return route()
end

-- Webhooks -----------------------------------------------------------------------------------------

local function json_reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(body))
end


function app.webhook()
  if ngx.req.get_method() ~= "POST" then return json_reply(405, { error = "POST only" }) end
  if not AMT then return json_reply(503, { error = "SMARTCAR_MANAGEMENT_TOKEN is not set" }) end
  local raw = assert(requestBody()) -- byte for byte, also when nginx wrote it to a file
  local event = json.decode(raw)
  if type(event) ~= "table" then return json_reply(400, { error = "not JSON" }) end
  if event.eventType == "VERIFY" and type(event.data) == "table" then -- prove we hold the AMT
    return json_reply(200, { challenge = smartcar.hashChallenge(AMT, tostring(event.data.challenge)) })
  end
  -- Check the bytes as received, before trusting anything in them.
  if not smartcar.verifyPayload(AMT, ngx.var.http_sc_signature or "", raw) then
    return json_reply(401, { error = "invalid signature" })
  end
  ngx.log(ngx.NOTICE, "webhook ", tostring(event.eventType), " ", tostring(event.eventId), ", ", #raw, " bytes")
  return json_reply(200, { received = event.eventType })
end

return app
