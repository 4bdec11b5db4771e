-- Helpers for the emulator specs: plain HTTP with luasocket, JSON with cjson.
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"
local mime = require "mime"
local assert = require "luassert"

local S = {}

S.CLIENT_ID = "8229df9f-91a0-4ff0-a1ae-a1f38ee24d07"
S.CLIENT_SECRET = "emulator-client-secret"
S.REDIRECT_URI = "https://example.com/callback"
S.AMT = "emulator-amt"
S.WEBHOOK_ID = "4bd5a6e8-1c2e-4d4b-9a8b-5b1f0c8a9d01"
S.null = cjson.null
S.UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- The emulator's own launcher (emulator/bin/smartcar-emulator), found from this file's path.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
S.LAUNCHER = here .. "/../bin/smartcar-emulator"

-- The emulator under test: the one whose origin is exported (`eval "$(smartcar-emulator --daemon --faults)"`),
-- else one started here with --faults, with a watcher that stops it once this process is gone
-- (os.exit does not close the Lua state on 5.1/LuaJIT, so a finalizer would not do).
S.origin = os.getenv("SMARTCAR_EMULATOR_ORIGIN")
if not S.origin then
  local out = assert(io.popen(S.LAUNCHER .. " --daemon --faults")):read("*a")
  S.origin = out:match("SMARTCAR_EMULATOR_ORIGIN=(%S+)")
  local prefix = out:match("SMARTCAR_EMULATOR_PREFIX=(%S+)")
  if not (S.origin and prefix) then error("could not start the emulator: " .. out) end
  local pid = assert(io.popen("echo $PPID")):read("*l")
  os.execute(("(while kill -0 %s 2>/dev/null; do sleep 0.2; done; '%s' --stop '%s') >/dev/null 2>&1 &")
    :format(pid, S.LAUNCHER, prefix))
end

function S.base64(s)
  return (mime.b64(s))
end

function S.basic(user, pass)
  return "Basic " .. S.base64(user .. ":" .. pass)
end

function S.encode(v) return cjson.encode(v) end

--- A file's bytes, or nil when it cannot be opened.
function S.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function S.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if ok then return v end
  return nil
end

function S.escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function S.unescape(s)
  s = s:gsub("%+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- Parse a query string into a table.
function S.parse_query(q)
  local out = {}
  for pair in (q or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[S.unescape(k)] = S.unescape(v)
  end
  return out
end

--- Perform a request. opts: headers, body (string or table → JSON), origin.
-- Returns a response { status, headers (lower-cased), body, json } or nil, error.
function S.request(method, path, opts)
  opts = opts or {}
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k:lower()] = v end
  local body = opts.body
  if type(body) == "table" then
    body = cjson.encode(body)
    headers["content-type"] = headers["content-type"] or "application/json"
  end
  if body then headers["content-length"] = tostring(#body) end
  local chunks = {}
  local ok, status, rh = http.request({
    url = (opts.origin or S.origin) .. path,
    method = method,
    headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
    redirect = false,
  })
  if not ok then return nil, status end
  local raw = table.concat(chunks)
  local res = { status = status, headers = rh or {}, body = raw }
  if (res.headers["content-type"] or ""):find("json", 1, true) then res.json = S.decode(raw) end
  return res
end

function S.get(path, token, headers)
  headers = headers or {}
  if token then headers.authorization = "Bearer " .. token end
  return assert(S.request("GET", path, { headers = headers }))
end

function S.post(path, body, token, headers)
  headers = headers or {}
  if token then headers.authorization = "Bearer " .. token end
  return assert(S.request("POST", path, { headers = headers, body = body }))
end

--- Admin call: decoded body, status.
function S.admin(method, path, body, origin)
  local res = assert(S.request(method, path, { body = body or (method == "POST" and {} or nil), origin = origin }))
  return res.json, res.status
end

--- Admin call that must succeed (200): the decoded body.
function S.admin_ok(method, path, body)
  local b, status = S.admin(method, path, body)
  assert(status == 200, ("%s %s answered %s: %s"):format(method, path, tostring(status), S.encode(b)))
  return b
end

--- A GET sent by hand on a fresh connection (no client library in between): the socket,
-- its request written, for the caller to read the answer from (and close).
function S.raw_get(path, headers)
  local socket = require "socket"
  local host, port = S.origin:match("^http://([^:/]+):(%d+)")
  local c = assert(socket.connect(host, tonumber(port)))
  c:settimeout(10)
  local lines = { "GET " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  assert(c:send(table.concat(lines, "\r\n") .. "\r\n\r\n"))
  return c
end

function S.reset(seed, origin)
  local _, status = S.admin("POST", "/_emulator/reset", { seed = seed }, origin)
  assert(status == 200, "reset failed")
end

--- Tokens shortcut: { access_token, refresh_token, user_id, vehicles }.
function S.token(email, scope, extra)
  local body = { email = email, scope = scope }
  for k, v in pairs(extra or {}) do body[k] = v end
  local t, status = S.admin("POST", "/_emulator/tokens", body)
  assert(status == 200, "tokens shortcut failed: " .. tostring(status) .. " " .. cjson.encode(t))
  return t
end

--- GET a vehicle path with a fresh token for an email: response.
function S.vehicle_get(email, sub, version, headers)
  local t = S.token(email)
  return S.get("/v" .. (version or "2.0") .. "/vehicles/" .. t.vehicles[1] .. sub, t.access_token, headers), t
end

--- Assert a v2 error body.
function S.assert_v2_error(res, status, etype, code)
  assert.are.equal(status, res.status)
  assert.truthy((res.headers["content-type"] or ""):find("application/json", 1, true))
  local b = res.json
  assert.is_table(b)
  assert.are.equal(etype, b.type)
  if code == nil then assert.are.equal(cjson.null, b.code) else assert.are.equal(code, b.code) end
  assert.are.equal(status, b.statusCode)
  assert.are.equal(res.headers["sc-request-id"], b.requestId)
  assert.matches(S.UUID, b.requestId)
  assert.is_string(b.description)
  assert.matches("^https://smartcar.com/docs/errors/api%-errors/", b.docURL)
  assert.is_table(b.resolution)
  return b
end

-- Minimal HTML form handling for the Connect pages --------------------------------------------------

local function attrs(tag)
  local a = {}
  for k, v in tag:gmatch('([%w%-_]+)="([^"]*)"') do
    a[k:lower()] = v:gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&amp;", "&")
  end
  return a
end

--- Forms of a page: list of { method, action, fields = {name=value}, buttons = { {id, class, name, value} },
-- inputs = { {id, name, type, value} } }.
function S.forms(html)
  local out = {}
  for ftag, inner in html:gmatch("(<form[^>]*>)(.-)</form>") do
    local fa = attrs(ftag)
    local f = { method = (fa.method or "GET"):upper(), action = fa.action, fields = {}, buttons = {}, inputs = {} }
    for itag in inner:gmatch("<input[^>]*>") do
      local ia = attrs(itag)
      f.inputs[#f.inputs + 1] = ia
      if ia.type == "hidden" and ia.name then f.fields[ia.name] = ia.value or "" end
    end
    for btag in inner:gmatch("<button[^>]*>") do
      f.buttons[#f.buttons + 1] = attrs(btag)
    end
    out[#out + 1] = f
  end
  return out
end

--- Find the form holding an element with the given id; returns form, element.
function S.form_with(html, id)
  for _, f in ipairs(S.forms(html)) do
    for _, b in ipairs(f.buttons) do if b.id == id then return f, b end end
    for _, i in ipairs(f.inputs) do if i.id == id then return f, i end end
  end
  return nil
end

--- Submit a form by clicking button `button` (with its name/value), plus extra field values by input id.
function S.submit(form, button, values)
  local fields = {}
  for k, v in pairs(form.fields) do fields[k] = v end
  for id, v in pairs(values or {}) do
    for _, i in ipairs(form.inputs) do if i.id == id then fields[i.name] = v end end
  end
  if button and button.name then fields[button.name] = button.value or "" end
  local parts = {}
  for k, v in pairs(fields) do parts[#parts + 1] = S.escape(k) .. "=" .. S.escape(v) end
  table.sort(parts)
  local q = table.concat(parts, "&")
  if form.method == "POST" then
    return assert(S.request("POST", form.action, { body = q,
      headers = { ["content-type"] = "application/x-www-form-urlencoded" } }))
  end
  return assert(S.request("GET", form.action .. (q ~= "" and ("?" .. q) or "")))
end

--- Build an authorize URL path (Node SDK parameter order).
function S.authorize_path(params)
  local order = { "response_type", "client_id", "approval_prompt", "redirect_uri", "scope", "state",
    "single_select", "single_select_vin", "make", "flags", "user", "mode" }
  local parts = {}
  for _, k in ipairs(order) do
    if params[k] ~= nil then parts[#parts + 1] = k .. "=" .. S.escape(params[k]) end
  end
  return "/oauth/authorize?" .. table.concat(parts, "&")
end

--- An authorize path from a spec's default parameters and extra ones (false removes a default).
function S.authorize_with(defaults, extra)
  local p = {}
  for k, v in pairs(defaults) do p[k] = v end
  for k, v in pairs(extra or {}) do
    if v == false then p[k] = nil else p[k] = v end
  end
  return S.authorize_path(p)
end

--- Connect through the HTML pages, as a user (and the official e2e suites) go: preamble → (the brand
-- button `brand`) → login as `email` → the consent page, whose response it returns.
function S.to_consent(path, email, brand)
  local res = S.get(path)
  assert.are.equal(200, res.status)
  assert.truthy(res.headers["content-type"]:find("text/html", 1, true))
  local form, button = S.form_with(res.body, "continue-button")
  assert.is_table(form)
  res = S.submit(form, button)
  assert.are.equal(200, res.status)
  if brand then
    assert.is_table(S.form_with(res.body, "brand-search"))
    local f, b = S.form_with(res.body, brand)
    assert.is_table(f, "brand button " .. brand)
    assert.are.equal("brand-list-item", b.class)
    res = S.submit(f, b)
    assert.are.equal(200, res.status)
  end
  local f, b = S.form_with(res.body, "sign-in-button")
  assert.is_table(f, "login form")
  return S.submit(f, b, { username = email, password = "any-password" })
end

--- Whether something listens at `origin` (http://host:port).
function S.port_open(origin)
  local host, port = origin:match("^http://([^:/]+):(%d+)")
  local c = require("socket").connect(host, tonumber(port))
  if c then c:close(); return true end
  return false
end

--- The query parameters of a redirect Location.
function S.query_of(location)
  return S.parse_query(location:match("%?(.*)$") or "")
end

return S
