-- Smartcar Connect (HTML pages: preamble → brand → login → consent → redirect), re-authentication
-- (sign-in page → redirect with vehicle_id) and the token endpoint.
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local http = require "smartcar_emulator.http"
local fixtures = require "smartcar_emulator.fixtures"

local M = {}

local esc = util.html

local MODES = { live = true, test = true, simulated = true }

-- The brand of the test-mode vehicle when none was chosen (the admin /_emulator/authorize shortcut
-- without `make`): the emulator's choice.
M.DEFAULT_MAKE = "TESLA"

-- The app `id` names and the redirect URI given (nil when none was), registered for it; or nil and
-- { status, message } (no redirect possible).
-- The app a Connect or re-authentication URL names, and its redirect URI when one was given.
-- V3's pages name the app `application_id`; older pages and every SDK send `client_id`.
local function registered(args)
  args.client_id = args.client_id or args.application_id
  local id, redirect_uri = args.client_id, args.redirect_uri
  local app = id and state.apps[id]
  if not app then return nil, { status = 400, message = "Invalid client_id: the application does not exist." } end
  if redirect_uri == nil or redirect_uri == "" then return app, nil end
  for _, u in ipairs(app.redirectUris) do
    if u == redirect_uri then return app, redirect_uri end
  end
  return nil, { status = 400, message = "Invalid redirect_uri: it is not registered for this application." }
end

--- Validate authorize parameters. Returns params, or nil + { status, message } (no redirect possible),
-- or nil + nil + location (error redirect).
function M.parse_authorize(args)
  local app, target = registered(args)
  if not app then return nil, target end
  if not target then
    target = app.redirectUris[1]
    if not target then return nil, { status = 400, message = "The application has no redirect URI." } end
    args.redirect_uri = nil
  end
  local p = {
    app = app, clientId = app.clientId, redirectUri = args.redirect_uri, target = target,
    -- `make` skips the brand page; a make that is not on the brand page is ignored (the emulator's choice)
    state = args.state, make = fixtures.normalize_make(args.make),
    singleSelect = args.single_select == "true", singleSelectVin = args.single_select_vin,
    -- `mode` (live by default); the SDKs' deprecated test_mode=true means mode=test
    mode = args.mode or (args.test_mode == "true" and "test") or "live",
    approvalPrompt = args.approval_prompt or "auto", flags = args.flags, user = args.user,
    externalId = args.external_id,
  }
  if p.singleSelectVin == "" then p.singleSelectVin = nil end
  local function config_error(msg)
    return nil, nil, M.error_location(p, "configuration_error",
      "There has been an error in the configuration of your application.",
      { { "status_code", "400" }, { "error_message", msg } })
  end
  if args.response_type ~= "code" then
    return config_error("The response_type parameter must be \"code\".")
  end
  if not MODES[p.mode] then
    return config_error("The \"mode\" parameter MUST be one of the following: 'test', 'live', 'simulated'")
  end
  local scope = util.words(args.scope)
  if #scope == 0 then
    for i, perm in ipairs(fixtures.PERMISSIONS) do scope[i] = perm end
  end
  local required = {}
  for i, s in ipairs(scope) do
    local name = s:gsub("^required:", "")
    if not fixtures.PERMISSION_SET[name] then
      return config_error("Invalid permission: " .. name)
    end
    if name ~= s then required[name] = true end
    scope[i] = name
  end
  p.scope, p.required = scope, required
  if p.singleSelectVin and not p.singleSelectVin:find("^%w+$") then
    return config_error("Invalid single_select_vin.")
  end
  return p
end

function M.error_location(p, err, description, extra)
  local q = { { "error", err }, { "error_description", description } }
  for _, kv in ipairs(extra or {}) do q[#q + 1] = kv end
  q[#q + 1] = { "state", p.state }
  return util.append_query(p.target, util.query(q))
end

--- Log a user in (brand: the one chosen on the brand page, else `make`): returns vehicles (list) or nil,
-- error location.
function M.login(p, email, brand)
  local acct = state.account(email)
  if acct.connectError then
    local ce = acct.connectError
    return nil, M.error_location(p, ce.error, ce.description, ce.extra), acct
  end
  local vehicles = {}
  if p.singleSelectVin then
    vehicles[1] = state.vehicle_for_vin(acct, p.singleSelectVin:upper())
  elseif p.mode == "test" and acct.default then
    -- Smartcar's test mode: one vehicle of the chosen brand
    vehicles[1] = state.vehicle_for_make(acct, brand or p.make or M.DEFAULT_MAKE)
  elseif p.singleSelect then
    vehicles[1] = acct.vehicles[1]
  else
    for i, v in ipairs(acct.vehicles) do vehicles[i] = v end
  end
  return vehicles, nil, acct
end

--- Approve: create the code, record the connections; returns the redirect location.
function M.approve(p, acct, vehicles)
  local grant = state.new_grant(p.clientId, acct, vehicles, p.scope, p.mode)
  state.connect(grant)
  local code = state.next_id("code")
  state.codes[code] = { clientId = p.clientId, redirectUri = p.redirectUri, grant = grant,
    expiresAt = state.now() + state.CODE_TTL }
  -- V3: the user's id (sent as sc-user-id) and the developer's external_id come back too
  return util.append_query(p.target, util.query({ { "code", code }, { "state", p.state },
    { "user_id", grant.userId }, { "external_id", p.externalId } }))
end

function M.deny_location(p)
  return M.error_location(p, "access_denied", "User denied access to application.")
end

-- HTML ---------------------------------------------------------------------------------------------

local function page(title, inner)
  return table.concat({
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", esc(title),
    " | Smartcar Connect (emulator)</title>",
    "<style>body{font-family:sans-serif;max-width:32em;margin:2em auto}",
    "button{display:block;margin:.4em 0;padding:.5em 1em}</style></head>\n<body>\n",
    -- .page-content: what the official SDKs' e2e suites wait for on the permissions page
    '<div class="page-content">\n<h1>', esc(title), "</h1>\n", inner, "\n</div>\n</body></html>\n" })
end

local function hidden(name, value)
  if value == nil then return "" end
  return '<input type="hidden" name="' .. esc(name) .. '" value="' .. esc(value) .. '">'
end

local function error_page(status, message)
  return http.html(status, page("Error", '<p id="error-message">' .. esc(message) .. "</p>"))
end

local function preamble(session, p)
  local next_action = (p.make or p.singleSelectVin) and "/oauth/connect/login" or "/oauth/connect/brands"
  return http.html(200, page("Connect your vehicle",
    "<p>" .. esc(p.app.name) .. " wants to connect to your vehicle.</p>\n" ..
    '<form method="GET" action="' .. next_action .. '">' .. hidden("session", session) ..
    '<button id="continue-button" type="submit">Continue</button></form>'))
end

local function brands(session, q)
  local list = {}
  q = q and q:upper() or ""
  for _, b in ipairs(fixtures.BRANDS) do
    if q == "" or b:find(q, 1, true) then
      list[#list + 1] = '<button id="' .. b .. '" class="brand-list-item" type="submit" name="make" value="' ..
        b .. '">' .. esc(b:gsub("_", " ")) .. "</button>"
    end
  end
  return http.html(200, page("Select your brand",
    '<form method="GET" action="/oauth/connect/brands">' .. hidden("session", session) ..
    '<input id="brand-search" type="search" name="q" value="' .. esc(q) .. '" placeholder="Search brands">' ..
    '<button id="brand-search-button" type="submit">Search</button></form>\n' ..
    '<form method="POST" action="/oauth/connect/login">' .. hidden("session", session) ..
    table.concat(list, "\n") .. "</form>"))
end

local function login_page(session, make, message)
  return http.html(200, page("Sign in to " .. (make or "your connected services account"),
    (message and ('<p id="error-message">' .. esc(message) .. "</p>") or "") ..
    '<form method="POST" action="/oauth/connect/signin">' .. hidden("session", session) ..
    '<label>Email <input id="username" type="email" name="username"></label>' ..
    '<label>Password <input id="password" type="password" name="password"></label>' ..
    '<button id="sign-in-button" type="submit">Sign in</button></form>'))
end

local function consent_page(session, p, vehicles)
  local perms, vs = {}, {}
  for _, name in ipairs(p.scope) do
    perms[#perms + 1] = '<li class="permission" data-permission="' .. esc(name) .. '">' ..
      esc(fixtures.PERMISSION_TEXT[name] or name) .. (p.required[name] and " (required)" or "") .. "</li>"
  end
  for _, v in ipairs(vehicles) do
    vs[#vs + 1] = '<li class="vehicle" data-vehicle-id="' .. esc(v.id) .. '">' .. esc(v.year .. " " .. v.make ..
      " " .. v.model) .. "</li>"
  end
  return http.html(200, page(p.app.name .. " would like to",
    '<ul id="permissions">' .. table.concat(perms) .. "</ul>\n<h2>Vehicles</h2>\n<ul id=\"vehicles\">" ..
    table.concat(vs) .. "</ul>\n" ..
    '<form method="POST" action="/oauth/connect/decision">' .. hidden("session", session) ..
    '<button id="approval-button" type="submit" name="decision" value="approve">Allow</button>' ..
    '<button id="deny-button" type="submit" name="decision" value="deny">Deny access</button></form>'))
end

-- Re-authentication ----------------------------------------------------------------------------------

--- Validate re-authentication parameters (https://smartcar.com/docs/connect/re-auth/redirect-to-connect).
-- Returns r, or nil + { status, message } (no redirect possible), or nil + nil + location.
function M.parse_reauth(args)
  local app, target = registered(args)
  if not app then return nil, target end
  local r = { app = app, clientId = app.clientId, state = args.state, vehicleId = args.vehicle_id,
    responseType = args.response_type, user = args.user, externalId = args.external_id }
  -- response_type=none may end on the completion page; vehicle_id needs a redirect URI (the default one)
  r.target = target or (r.responseType ~= "none" and app.redirectUris[1]) or nil
  if r.responseType ~= "vehicle_id" and r.responseType ~= "none" then
    if not r.target then return nil, { status = 400, message = "The application has no redirect URI." } end
    return nil, nil, M.error_location(r, "configuration_error",
      "There has been an error in the configuration of your application.",
      { { "status_code", "400" }, { "error_message", "The response_type parameter must be \"vehicle_id\"." } })
  end
  if r.responseType == "vehicle_id" and not r.target then
    return nil, { status = 400, message = "The application has no redirect URI." }
  end
  if type(r.vehicleId) ~= "string" or not r.vehicleId:find("^[%w%-]+$") or #r.vehicleId > 64 then
    return nil, { status = 400, message = "Invalid vehicle_id." }
  end
  return r
end

local function reauth_page(session, r, message)
  return http.html(200, page("Reconnect your vehicle",
    "<p>Sign in again to keep " .. esc(r.app.name) .. " connected to your vehicle.</p>\n" ..
    (message and ('<p id="error-message">' .. esc(message) .. "</p>") or "") ..
    '<form method="POST" action="/oauth/connect/reauth">' .. hidden("session", session) ..
    '<label>Email <input id="username" type="email" name="username"></label>' ..
    '<label>Password <input id="password" type="password" name="password"></label>' ..
    '<button id="sign-in-button" type="submit" name="decision" value="approve">Sign in</button></form>\n' ..
    '<form method="POST" action="/oauth/connect/reauth">' .. hidden("session", session) ..
    '<button id="deny-button" type="submit" name="decision" value="deny">Cancel</button></form>'))
end

local function reauth_done(r, args)
  if args.decision == "deny" then
    if not r.target then return http.html(200, page("Cancelled", "<p>You can close this window.</p>")) end
    return http.redirect(M.deny_location(r))
  end
  if not r.target then
    return http.html(200, page("Vehicle reconnected", '<p id="vehicle-id">' .. esc(r.vehicleId) .. "</p>"))
  end
  return http.redirect(util.append_query(r.target, util.query({ { "vehicle_id", r.vehicleId },
    { "state", r.state }, { "external_id", r.externalId } })))
end

local function form_args(ctx)
  local args = {}
  for k, v in pairs(ctx.args) do args[k] = v end
  local ct = ctx.headers["content-type"] or ""
  if ctx.method == "POST" and (ct == "" or ct:find("x-www-form-urlencoded", 1, true)) then
    for k, v in pairs(util.decode_args(ctx.body)) do args[k] = v end
  end
  return args
end

local function session_of(args)
  local id = args.session
  local s = id and state.sessions[id]
  if not s or s.expiresAt < state.now() then return nil end
  return id, s
end

--- Every /oauth/* path except /oauth/token.
function M.page(ctx)
  local path = ctx.path
  local args = form_args(ctx)
  if path == "/oauth/authorize" then
    local p, perr, loc = M.parse_authorize(args)
    if loc then return http.redirect(loc) end
    if not p then return error_page(perr.status, perr.message) end
    local session = state.next_id("session")
    state.sessions[session] = { p = p, expiresAt = state.now() + 3600 }
    return preamble(session, p)
  elseif path == "/oauth/reauthenticate" then
    -- a streamlined Connect flow: the user signs in again, then back with vehicle_id (no code)
    local r, perr, loc = M.parse_reauth(args)
    if loc then return http.redirect(loc) end
    if not r then return error_page(perr.status, perr.message) end
    local session = state.next_id("session")
    state.sessions[session] = { reauth = r, expiresAt = state.now() + 3600 }
    return reauth_page(session, r)
  end
  local session, s = session_of(args)
  if not session then
    if path:sub(1, 15) == "/oauth/connect/" then
      return error_page(400, "Your Connect session has expired. Please start again.")
    end
    return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH")
  end
  if s.reauth then
    if path ~= "/oauth/connect/reauth" then return error_page(400, "Please sign in first.") end
    if args.decision ~= "deny" then
      local email = args.username
      if not email or not email:find("^[^@%s]+@[^@%s]+$") then
        return reauth_page(session, s.reauth, "Please enter a valid email address.")
      end
      if not args.password or args.password == "" then
        return reauth_page(session, s.reauth, "Please enter your password.")
      end
    end
    state.sessions[session] = nil
    return reauth_done(s.reauth, args)
  end
  local p = s.p
  if path == "/oauth/connect/brands" then
    return brands(session, args.q)
  elseif path == "/oauth/connect/login" then
    s.brand = fixtures.normalize_make(args.make) or s.brand
    if not (s.brand or p.make or p.singleSelectVin) then return brands(session) end
    return login_page(session, s.brand or p.make)
  elseif path == "/oauth/connect/signin" then
    local email = args.username
    if not email or not email:find("^[^@%s]+@[^@%s]+$") then
      return login_page(session, s.brand or p.make, "Please enter a valid email address.")
    end
    if not args.password or args.password == "" then
      return login_page(session, s.brand or p.make, "Please enter your password.")
    end
    local vehicles, loc, acct = M.login(p, email, s.brand)
    if not vehicles then
      state.sessions[session] = nil
      return http.redirect(loc)
    end
    s.vehicles, s.acct = vehicles, acct
    return consent_page(session, p, vehicles)
  elseif path == "/oauth/connect/decision" then
    if not s.vehicles then return error_page(400, "Please sign in first.") end
    state.sessions[session] = nil
    if args.decision == "approve" then
      return http.redirect(M.approve(p, s.acct, s.vehicles))
    end
    return http.redirect(M.deny_location(p))
  end
  return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH")
end

-- Token endpoint ------------------------------------------------------------------------------------

function M.token(ctx)
  if ctx.method ~= "POST" then
    return http.oauth(405, "invalid_request", "The token endpoint only accepts POST.")
  end
  local form = util.decode_args(ctx.body)
  local id, secret = http.basic(ctx)
  if not id then id, secret = form.client_id, form.client_secret end
  local app = id and state.apps[id]
  if not app or not util.equal(secret or "", app.clientSecret or "") then
    return http.oauth(401, "invalid_client", "Invalid client credentials.")
  end
  local grant_type = form.grant_type
  local now = state.now()
  if grant_type == "authorization_code" then
    local code = form.code or ""
    local c = state.codes[code]
    if not c or c.used or c.expiresAt <= now or c.clientId ~= app.clientId then
      return http.oauth(400, "invalid_request", "Invalid code: " .. code .. ".")
    end
    if c.redirectUri and form.redirect_uri ~= c.redirectUri then
      return http.oauth(400, "invalid_grant", "Unauthorized redirect_uri")
    end
    c.used = true
    return http.ok(state.issue(c.grant))
  elseif grant_type == "refresh_token" then
    -- unknown, revoked, past its lifetime, or used more than refreshGrace seconds ago (rotated
    -- out): the reference's "Invalid refresh_token" (its contract for an expired code too)
    local token = form.refresh_token or ""
    local r = state.refresh[token]
    if not r or r.revoked or r.grant.clientId ~= app.clientId or r.expiresAt <= now or
        (r.usedAt and now >= r.usedAt + state.config.refreshGrace) then
      return http.oauth(400, "invalid_request", "Invalid refresh_token: " .. token .. ".")
    end
    r.usedAt = r.usedAt or now
    return http.ok(state.issue(r.grant))
  elseif grant_type == nil or grant_type == "" then
    return http.oauth(400, "invalid_request", "Missing required parameter: grant_type.")
  end
  return http.oauth(400, "unsupported_grant_type", "Unsupported grant_type: " .. grant_type .. ".")
end

return M
