-- Shared pieces of the V3 services (IAM, Vehicle API v3, Management API v3): their store (reset with
-- the emulator's state), V3 error bodies, JSON:API page-number paging and application-token auth. The
-- modules every V3 service uses come with it (C.json, C.util, C.state, C.obj, C.arr, C.null).
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local errors = require "smartcar_emulator.errors"

local obj, arr, null = json.object, json.array, json.null
local M = { json = json, util = util, state = state, obj = obj, arr = arr, null = null }

-- The demo application's V3 API credentials (Dashboard → API Credentials): used only at the token
-- endpoint; the Application ID stays the v2 client id (state.DEFAULT_APP.clientId).
M.DEMO_API_CLIENT_ID = "client_emulator_demo"
M.DEMO_API_SECRET = "emulator-api-secret"
M.MAX_SECRETS = 3

M.DEFAULT_CONFIG = {
  appTokenLifetime = 3600,       -- seconds (expires_in)
  commandDelay = 0,              -- seconds a command takes at the vehicle (all vehicles)
  longRunningThreshold = 175,    -- a command slower than this answers 202 and streams its outcome
  appRateLimit = false,          -- the application-wide bucket (off by default)
  appRateCapacity = 120,         -- requests in the bucket
  appRateRefillPerMinute = 2,    -- requests added back per minute
  retryScale = 1,                -- factor on the 25/50/100 s delivery retry delays
  deliveryTimeout = 15,          -- seconds a callback may take
}
M.CONFIG_ORDER = { "appTokenLifetime", "commandDelay", "longRunningThreshold", "appRateLimit", "appRateCapacity",
  "appRateRefillPerMinute", "retryScale", "deliveryTimeout" }

local store

--- The V3 store; a fresh one after every emulator reset (state.reset replaces state.apps).
function M.store()
  if store and store.ref == state.apps then return store end
  local cfg = {}
  for k, v in pairs(M.DEFAULT_CONFIG) do cfg[k] = v end
  store = {
    ref = state.apps,
    gen = (store and store.gen or 0) + 1,
    config = cfg,
    creds = {},          -- API client id → { appId, secrets = { … } }
    tokens = {},         -- app token → { appId, apiClientId, expiresAt }
    tokenSeq = 0,
    webhooks = {},       -- id → webhook record
    webhookSeq = 0,
    subs = {},           -- id → subscription record
    subSeq = 0,
    deliveries = {},     -- delivery attempts, oldest first
    execSeq = 0,
    vehicleDelay = {},   -- vehicle id → seconds
    buckets = {},        -- app id → { level, at }
  }
  store.creds[M.DEMO_API_CLIENT_ID] = { appId = state.DEFAULT_APP.clientId, secrets = { M.DEMO_API_SECRET } }
  require("smartcar_emulator.v3_management").seed(store)
  return store
end

-- V3 error bodies ----------------------------------------------------------------------------------

local TITLES = {
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found", [409] = "Conflict",
  [429] = "Too Many Requests", [430] = "Billing", [500] = "Internal Server Error", [501] = "Not Implemented",
  [502] = "Bad Gateway", [504] = "Gateway Timeout",
}
local ORDER = { "status", "type", "code", "title", "detail", "resolution", "suggestedUserMessage", "links", "meta" }

-- The V3-only codes (reference §6.2; the rest comes from the v2 catalog): [code] = { status, title, detail,
-- resolution type }.
local V3_CODES = {
  UNAUTHORIZED = { 401, "Unauthorized", "The Authorization token is missing or invalid." },
  ACCESS_DENIED = { 403, "Access Denied", "The given token does not provide access to the requested resource." },
  INSUFFICIENT_PERMISSIONS = { 403, nil, "Your application has insufficient permissions to access the requested " ..
    "resource.", "REAUTHENTICATE" },
}

-- The V3 code of an error the shared (v2) handlers raise with a v2 code (faults, internal errors).
local FROM_V2 = { AUTHENTICATION = "UNAUTHORIZED", PERMISSION = "INSUFFICIENT_PERMISSIONS",
  ["RESOURCE_NOT_FOUND.PATH"] = "INVALID_PATH", ["RESOURCE_NOT_FOUND.VERSION"] = "INVALID_PATH",
  VALIDATION = "INVALID_INPUT_FORMAT", ["VALIDATION.PARAMETER"] = "INVALID_INPUT_FORMAT" }

local function page_of(etype)
  return (etype:lower():gsub("_", "-")) .. "-errors"
end

--- One V3 error item (reference §6.1). opts: status, detail, resolution (type string), resolutionUrl,
-- reauthUrl (replaces the Connect link of the suggested message), appName.
function M.error_item(ctx, etype, code, opts)
  opts = opts or {}
  local v3code = V3_CODES[code]
  local entry = errors.CATALOG[etype] and errors.CATALOG[etype][code or "null"]
  local status = opts.status or (v3code and v3code[1]) or errors.STATUS[etype] or 400
  local resolution = obj({ "type", "url" }, { type = opts.resolution or (v3code and v3code[4]) or
    (entry and entry[2]) or null, url = opts.resolutionUrl })
  local item = obj(ORDER, {
    status = tostring(status), type = etype, code = code or null,
    title = (v3code and v3code[2]) or TITLES[status] or "Error",
    detail = opts.detail or (v3code and v3code[3]) or (entry and entry[1]) or TITLES[status] or "Error",
    resolution = resolution,
    links = { about = "https://smartcar.com/docs/errors/api-errors/v3/" .. page_of(etype) },
    meta = { debug = { requestId = ctx.request_id } },
  })
  if entry and entry[3] then
    local app = ctx.app and state.apps[ctx.app.appId]
    local msg = entry[3]:gsub("<app name>", app and app.name or opts.appName or "<app name>")
    if opts.reauthUrl then msg = msg:gsub("<link to Smartcar Connect>", opts.reauthUrl) end
    item.suggestedUserMessage = msg
  end
  return item, status
end

--- A V3 error response: {"errors": [ … ]} with the HTTP status of the first item.
function M.err(ctx, etype, code, opts)
  local item, status = M.error_item(ctx, etype, code, opts)
  local headers
  if etype == "RATE_LIMIT" then headers = { ["Retry-After"] = tostring(opts and opts.retryAfter or 60) } end
  return { status = status, json = { errors = { item } }, headers = headers, error = true }
end

--- The V3 answer to an error raised with a v2 (type, code) and v2 options (description as the detail).
function M.from_v2(ctx, etype, code, opts)
  opts = opts or {}
  if code == "null" then code = nil end
  local o = { detail = opts.description, retryAfter = opts.retryAfter, resolutionUrl = opts.resolutionUrl,
    reauthUrl = opts.reauthUrl, appName = opts.appName }
  return M.err(ctx, etype, FROM_V2[etype .. "." .. tostring(code)] or (code == nil and FROM_V2[etype]) or code, o)
end

--- The error of a failing vehicle (the test-mode error emails): what v2 answers for it, in the V3 shape.
-- nil when the vehicle does not fail.
function M.vehicle_error(ctx, v)
  local etype, code
  if v.fail then
    etype, code = v.fail[1], v.fail[2]
  elseif v.v1fail then
    local c = errors.V1_CODES[v.v1fail]
    etype, code = c[4], c[5]
  else
    return nil
  end
  local opts = { retryAfter = 30 }
  if etype == "CONNECTED_SERVICES_ACCOUNT" and code == "AUTHENTICATION_FAILED" then
    local appId = ctx.app and ctx.app.appId or (ctx.grant and ctx.grant.clientId) or state.DEFAULT_APP.clientId
    opts.resolutionUrl = ctx.origin .. "/oauth/reauthenticate?response_type=vehicle_id&application_id=" ..
      appId .. "&vehicle_id=" .. v.id
    opts.reauthUrl = opts.resolutionUrl
  end
  return M.from_v2(ctx, etype, code, opts)
end

--- Several validation errors at once (one per bad field).
function M.validation(ctx, list)
  local items = {}
  for i, e in ipairs(list) do items[i] = M.error_item(ctx, "VALIDATION", e[1], { detail = e[2] }) end
  return { status = 400, json = { errors = items }, error = true }
end

function M.unauthorized(ctx)
  return M.err(ctx, "AUTHENTICATION", "UNAUTHORIZED")
end

function M.access_denied(ctx)
  return M.err(ctx, "AUTHENTICATION", "ACCESS_DENIED")
end

function M.not_found(ctx, code, detail)
  return M.err(ctx, "RESOURCE_NOT_FOUND", code, { detail = detail })
end

function M.invalid_path(ctx)
  return M.not_found(ctx, "INVALID_PATH", "The requested path " .. ctx.path .. " does not exist.")
end

function M.insufficient_permissions(ctx, permission)
  return M.err(ctx, "PERMISSION", "INSUFFICIENT_PERMISSIONS", { detail = "Your application has insufficient " ..
    "permissions to access the requested resource: " .. permission .. " was not granted." })
end

--- Route rest among a collection path base and its members base/{id}: collection[method]() or
-- member[method](id); 404 INVALID_PATH for a method neither serves; nil when rest is not under base.
function M.dispatch(ctx, rest, base, collection, member)
  local methods, id
  if rest == base then
    methods = collection
  else
    id = rest:sub(1, #base + 1) == base .. "/" and rest:sub(#base + 2):match("^[^/]+$")
    if not id then return nil end
    methods = member
  end
  local f = methods and methods[ctx.method]
  if not f then return M.invalid_path(ctx) end
  return f(id)
end

function M.ok(body, status, headers)
  return { status = status or 200, json = body, headers = headers }
end

function M.no_content()
  return { status = 204, body = "", ctype = "application/json" }
end

-- Application tokens -------------------------------------------------------------------------------

local function bearer(ctx)
  local h = ctx.headers.authorization
  if type(h) == "table" then h = h[1] end
  return h and h:match("^%s*[Bb]earer%s+(%S+)%s*$")
end
M.bearer = bearer

--- The application token record of the request (valid and not expired), or nil.
function M.app_token(ctx)
  local t = bearer(ctx)
  local rec = t and M.store().tokens[t]
  if not rec then return nil, t ~= nil end
  if rec.expiresAt <= state.now() then return nil, true end
  return rec
end

--- The sc-user-id header (nil when absent or empty).
function M.user_id(ctx)
  local u = ctx.headers["sc-user-id"]
  if type(u) == "table" then u = u[1] end
  if u == nil or u == "" then return nil end
  return u
end

function M.missing_user(ctx)
  return M.err(ctx, "VALIDATION", "MISSING_PARAMETER", { detail = "missing userId" })
end

--- The application-wide bucket: nil when allowed, else seconds to wait.
function M.app_rate(appId)
  local s = M.store()
  local cfg = s.config
  if not cfg.appRateLimit then return nil end
  local now = state.now()
  local cap, per_s = cfg.appRateCapacity, cfg.appRateRefillPerMinute / 60
  local b = s.buckets[appId]
  if not b then b = { level = cap, at = now }; s.buckets[appId] = b end
  if per_s > 0 then b.level = math.min(cap, b.level + (now - b.at) * per_s) end
  b.at = now
  if b.level >= 1 then
    b.level = b.level - 1
    return nil
  end
  if per_s <= 0 then return 60 end
  return math.max(1, math.ceil((1 - b.level) / per_s))
end

-- Paging (page[number] / page[size]) -------------------------------------------------------------

--- Page arguments: number, size or nil, error response.
function M.page_args(ctx, default, max)
  local a = ctx.args
  local function int(name, v, lo, hi)
    if v == nil or v == "" then return true end
    local n = tonumber(v)
    if not n or n ~= math.floor(n) or n < lo or (hi and n > hi) or not tostring(v):find("^%d+$") then
      return nil, { "INVALID_INPUT_FORMAT", ("Invalid %s. It must be an integer %s."):format(name,
        hi and ("from " .. lo .. " to " .. hi) or ("of at least " .. lo)) }
    end
    return n
  end
  local number, e1 = int("page[number]", a["page[number]"], 1)
  local size, e2 = int("page[size]", a["page[size]"], 1, max)
  if not number or not size then
    local list = {}
    if e1 then list[#list + 1] = e1 end
    if e2 then list[#list + 1] = e2 end
    return nil, nil, M.validation(ctx, list)
  end
  return number == true and 1 or number, size == true and default or size
end

local function enc(s) return ngx.escape_uri(s) end

--- A page of list (already filtered and ordered) as {data, meta, links}; item(x) builds a resource.
-- filters: ordered { {name, value} } echoed in the links.
function M.page(ctx, base, list, number, size, item, filters, extra_meta)
  local total = #list
  local last = math.max(1, math.ceil(total / size))
  local data = arr()
  for i = (number - 1) * size + 1, math.min(total, number * size) do data[#data + 1] = item(list[i]) end
  local fq = {}
  for _, kv in ipairs(filters or {}) do
    if kv[2] ~= nil then fq[#fq + 1] = enc(kv[1]) .. "=" .. enc(tostring(kv[2])) end
  end
  local prefix = ctx.origin .. "/v3" .. base .. "?" .. table.concat(fq, "&") .. (#fq > 0 and "&" or "")
  local function link(p) return prefix .. "page%5Bnumber%5D=" .. p .. "&page%5Bsize%5D=" .. size end
  local meta = obj({ "pageNumber", "pageSize", "totalCount", "orderBy", "orderDirection" },
    { pageNumber = number, pageSize = size, totalCount = total })
  for k, v in pairs(extra_meta or {}) do meta[k] = v end
  return obj({ "data", "meta", "links" }, {
    data = data, meta = meta,
    links = obj({ "self", "first", "last", "prev", "next" }, { self = link(number), first = link(1),
      last = link(last), prev = number > 1 and link(math.min(number - 1, last)) or null,
      next = number < last and link(number + 1) or null }),
  })
end

--- The body's data.attributes (JSON:API request body): table or nil, error response.
function M.attributes(ctx, required)
  local body = ctx.body
  if body == nil or body == "" then
    if required then
      return nil, M.err(ctx, "VALIDATION", "BAD_REQUEST", { detail = "The request body must be a JSON object " ..
        "{\"data\": {\"attributes\": {...}}}." })
    end
    return {}
  end
  local v = json.decode(body)
  if type(v) ~= "table" then
    return nil, M.err(ctx, "VALIDATION", "BAD_REQUEST",
      { detail = "The request could not be understood by the server due to malformed syntax." })
  end
  local data = v.data
  local attrs = type(data) == "table" and data.attributes
  if type(attrs) ~= "table" then
    if required then
      return nil, M.err(ctx, "VALIDATION", "MISSING_PARAMETER", { detail = "missing data.attributes" })
    end
    return {}
  end
  return attrs
end

--- ISO-8601 UTC with milliseconds.
M.iso = util.iso

--- Mode of a connection as V3 names it: live or simulated (the emulator's test mode is simulated).
function M.mode(m)
  if m == "live" then return "live" end
  return "simulated"
end

return M
