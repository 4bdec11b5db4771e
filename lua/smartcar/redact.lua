--- Secrets never leave in an error: whatever a server echoes back (the bearer token,
-- API V3's application token among them, the Basic credential and the client secret in
-- it, an authorization code, refresh token or client secret from a form or JSON body),
-- raw, percent-encoded or base64, is replaced in every string of the error. The one
-- place for it: `Client:send` calls it on every failure.
-- @module smartcar.redact

local core = require "smartcar.core"
core.own()

local type, pairs, ipairs, find, sub = type, pairs, ipairs, string.find, string.sub
local escape, base64, unbase64 = core.escape, core.base64, core.unbase64

local REDACTED = "[REDACTED]"
local MIN = 4 -- shorter values would redact ordinary words
local FORM_SECRETS = { code = true, refresh_token = true, client_secret = true, client_assertion = true }

-- A secret and the forms a server may echo it in: percent-encoded as the SDK sends it,
-- percent-encoded in full (RFC 3986), either in upper- or lower-case hex.
local function add(list, s)
  if type(s) ~= "string" or #s < MIN then return end
  local seen = {}
  local function put(v)
    if not seen[v] then seen[v] = true; list[#list + 1] = v end
  end
  put(s)
  local strict = s:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end)
  for _, e in ipairs { escape(s), strict } do
    put(e)
    put((e:gsub("%%%x%x", string.lower)))
  end
end

local unescape = core.unescape

-- The secrets carried by a request: its Authorization value and what it holds, and
-- the secret fields of a form body; and the strings of `extra`.
local function secrets_of(headers, body, extra)
  local list = {}
  for _, s in ipairs(extra or {}) do add(list, s) end
  local auth = type(headers) == "table" and (headers.authorization or headers.Authorization)
  if type(auth) == "string" then
    add(list, auth)
    local scheme, value = auth:match("^(%a+)%s+(.+)$")
    if scheme then
      add(list, value)
      if scheme:lower() == "basic" then
        local pair = unbase64(value)
        if pair then
          add(list, pair)
          add(list, pair:match("^[^:]*:(.*)$"))
          add(list, base64(pair))
        end
      end
    end
  end
  if type(body) == "string" and not body:find("^%s*[%[{]") then
    for k, v in body:gmatch("([^&=]+)=([^&]*)") do
      if FORM_SECRETS[unescape(k)] then
        add(list, v)
        add(list, unescape(v))
      end
    end
  elseif type(body) == "string" then -- a JSON body with the same fields (a token request sent as JSON)
    for k, v in body:gmatch('"([%w_]+)"%s*:%s*"([^"\\]*)"') do
      if FORM_SECRETS[k] then add(list, v) end
    end
  end
  table.sort(list, function(a, b) return #a > #b end) -- the longest first: "Bearer x" before x
  return list
end

local function scrub(s, secrets)
  for i = 1, #secrets do
    local secret = secrets[i]
    local a, b = find(s, secret, 1, true)
    while a do
      s = sub(s, 1, a - 1) .. REDACTED .. sub(s, b + 1)
      a, b = find(s, secret, a + #REDACTED, true)
    end
    -- a text cut short (a body excerpt) may end in the start of a secret
    for k = math.min(#secret - 1, #s, 256), MIN, -1 do
      if sub(s, -k) == sub(secret, 1, k) then
        s = sub(s, 1, #s - k) .. REDACTED
        break
      end
    end
  end
  return s
end

local function walk(t, secrets, seen)
  if seen[t] then return end
  seen[t] = true
  local rekeyed
  for k, v in pairs(t) do
    if type(v) == "string" then
      t[k] = scrub(v, secrets)
    elseif type(v) == "table" then
      walk(v, secrets, seen)
    end
    if type(k) == "string" then -- a secret as a key (a JSON object's name) goes too
      local clean = scrub(k, secrets)
      if clean ~= k then
        rekeyed = rekeyed or {}
        rekeyed[k] = clean
      end
    end
  end
  for k, clean in pairs(rekeyed or {}) do -- not while pairs walks t
    t[clean], t[k] = t[k], nil
  end
end

--- Remove from every string of `err` (keys and nested tables included) the secrets of the
-- request `headers`, `body`, and the strings of the list `extra` (secrets the server may know
-- without this request carrying them: an Application's client secret). Returns `err`.
return function(err, headers, body, extra)
  local secrets = secrets_of(headers, body, extra)
  if #secrets > 0 then walk(err, secrets, {}) end
  return err
end
