local S = require "spec.support"

local DEFAULTS = { response_type = "code", client_id = S.CLIENT_ID, approval_prompt = "auto",
  redirect_uri = S.REDIRECT_URI, scope = "read_odometer required:read_vehicle_info read_location",
  state = "st-123", mode = "test" }
local function authorize(extra) return S.authorize_with(DEFAULTS, extra) end
local query_of = S.query_of

local to_consent = S.to_consent

local function exchange(code, redirect)
  local body = "grant_type=authorization_code&code=" .. S.escape(code)
  if redirect then body = body .. "&redirect_uri=" .. S.escape(redirect) end
  return assert(S.request("POST", "/oauth/token", { body = body, headers = {
    authorization = S.basic(S.CLIENT_ID, S.CLIENT_SECRET), ["content-type"] = "application/x-www-form-urlencoded" } }))
end

local function refresh(token)
  return assert(S.request("POST", "/oauth/token?flags=a%3Ab", { body = "grant_type=refresh_token&refresh_token=" ..
    S.escape(token), headers = { authorization = S.basic(S.CLIENT_ID, S.CLIENT_SECRET),
    ["content-type"] = "application/x-www-form-urlencoded" } }))
end

describe("Connect pages", function()
  setup(function() S.reset() end)

  it("runs preamble → brand → login → consent → redirect with code and state", function()
    local res = to_consent(authorize(), "someone@example.com", "TESLA")
    assert.are.equal(200, res.status)
    assert.truthy(res.body:find('data-permission="read_odometer"', 1, true))
    assert.truthy(res.body:find('data-permission="read_vehicle_info"', 1, true))
    assert.is_table(S.form_with(res.body, "deny-button"))
    local f, b = S.form_with(res.body, "approval-button")
    res = S.submit(f, b)
    assert.are.equal(302, res.status)
    local loc = res.headers.location
    assert.matches("^https://example%.com/callback%?", loc)
    local q = query_of(loc)
    assert.matches(S.UUID, q.code)
    assert.are.equal("st-123", q.state)
    local tok = exchange(q.code, S.REDIRECT_URI)
    assert.are.equal(200, tok.status)
    assert.are.equal("Bearer", tok.json.token_type)
    assert.are.equal(7200, tok.json.expires_in)
    assert.matches(S.UUID, tok.json.access_token)
    assert.matches(S.UUID, tok.json.refresh_token)
    assert.is_nil(tok.json.refresh_expires_in)
    -- test mode: the token covers one vehicle of the chosen brand, with the granted permissions only
    local vs = S.get("/v2.0/vehicles", tok.json.access_token).json
    assert.are.equal(1, vs.paging.count)
    local perms = S.get("/v2.0/vehicles/" .. vs.vehicles[1] .. "/permissions", tok.json.access_token).json
    table.sort(perms.permissions)
    assert.are.same({ "read_location", "read_odometer", "read_vehicle_info" }, perms.permissions)
  end)

  it("skips the brand page when make is given and accepts '+' in scope", function()
    local path = authorize({ make = "FORD", scope = false }) .. "&scope=read_odometer+read_vin"
    local res = to_consent(path, "plus@example.com")
    assert.are.equal(200, res.status)
    assert.truthy(res.body:find('data-permission="read_vin"', 1, true))
    local f, b = S.form_with(res.body, "approval-button")
    assert.are.equal(302, S.submit(f, b).status)
  end)

  it("answers deny with access_denied and the state", function()
    local res = to_consent(authorize(), "denier@example.com", "CHEVROLET")
    local f, b = S.form_with(res.body, "deny-button")
    res = S.submit(f, b)
    assert.are.equal(302, res.status)
    local q = query_of(res.headers.location)
    assert.are.equal("access_denied", q.error)
    assert.are.equal("User denied access to application.", q.error_description)
    assert.are.equal("st-123", q.state)
    assert.is_nil(q.code)
  end)

  it("redirects Connect errors for the special emails", function()
    local res = to_consent(authorize({ make = "AUDI" }), "smartcar@invalid-subscription.com")
    assert.are.equal(302, res.status)
    assert.are.equal("invalid_subscription", query_of(res.headers.location).error)
    res = to_consent(authorize({ make = "AUDI" }), "smartcar@vehicle-incompatible.com")
    local q = query_of(res.headers.location)
    assert.are.equal("vehicle_incompatible", q.error)
    assert.are.equal("0SCAUDI012FE3B132", q.vin)
    assert.are.equal("AUDI", q.make)
    res = to_consent(authorize({ make = "AUDI" }), "0-vehicles@smartcar.com")
    assert.are.equal("no_vehicles", query_of(res.headers.location).error)
  end)

  it("shows an HTML 400 page for an unknown client_id or redirect_uri", function()
    local res = S.get(authorize({ client_id = "00000000-0000-4000-8000-000000000000" }))
    assert.are.equal(400, res.status)
    assert.truthy(res.headers["content-type"]:find("text/html", 1, true))
    assert.is_nil(res.headers.location)
    res = S.get(authorize({ redirect_uri = "https://evil.example/cb" }))
    assert.are.equal(400, res.status)
    assert.is_nil(res.headers.location)
  end)

  it("redirects configuration errors for a bad mode or response_type", function()
    local res = S.get(authorize({ mode = "bogus" }))
    assert.are.equal(302, res.status)
    local q = query_of(res.headers.location)
    assert.are.equal("configuration_error", q.error)
    assert.are.equal("400", q.status_code)
    res = S.get(authorize({ response_type = "token" }))
    assert.are.equal("configuration_error", query_of(res.headers.location).error)
  end)

  it("single_select_vin authorises exactly the vehicle with that VIN", function()
    local vin = "5YJ3E1EA7KF317000"
    local loc = S.admin("POST", "/_emulator/authorize", { url = S.origin .. authorize({ single_select = "true",
      single_select_vin = vin }), email = "vin-user@example.com" }).location
    local tok = exchange(query_of(loc).code, S.REDIRECT_URI).json
    local vs = S.get("/v2.0/vehicles", tok.access_token).json
    assert.are.equal(1, #vs.vehicles)
    local t = S.token(nil, nil) -- unrelated token must not see it
    assert.are_not.same(t.vehicles[1], vs.vehicles[1])
  end)
end)

describe("POST /_emulator/authorize", function()
  setup(function() S.reset() end)

  it("returns the code redirect, or access_denied when approve is false", function()
    local body, status = S.admin("POST", "/_emulator/authorize", { url = S.origin .. authorize(),
      email = "x@example.com", approve = true })
    assert.are.equal(200, status)
    local q = query_of(body.location)
    assert.matches(S.UUID, q.code)
    assert.are.equal("st-123", q.state)
    body = S.admin("POST", "/_emulator/authorize", { url = S.origin .. authorize(), email = "x@example.com",
      approve = false })
    assert.are.equal("access_denied", query_of(body.location).error)
  end)

  it("gives a 400 JSON error for an invalid URL", function()
    local body, status = S.admin("POST", "/_emulator/authorize", { url = S.origin .. authorize({ client_id = "x" }) })
    assert.are.equal(400, status)
    assert.is_string(body.error)
  end)

  it("gives the same user and vehicles to the same email", function()
    local a = query_of(S.admin("POST", "/_emulator/authorize", { url = S.origin .. authorize(),
      email = "same@example.com" }).location).code
    local b = query_of(S.admin("POST", "/_emulator/authorize", { url = S.origin .. authorize(),
      email = "same@example.com" }).location).code
    local ta, tb = exchange(a, S.REDIRECT_URI).json, exchange(b, S.REDIRECT_URI).json
    assert.are.same(S.get("/v2.0/user", ta.access_token).json, S.get("/v2.0/user", tb.access_token).json)
    assert.are.same(S.get("/v2.0/vehicles", ta.access_token).json, S.get("/v2.0/vehicles", tb.access_token).json)
  end)
end)

describe("token endpoint", function()
  before_each(function() S.reset() end)

  local function code_for(extra)
    local loc = S.admin("POST", "/_emulator/authorize", { url = S.origin .. authorize(extra),
      email = "tok@example.com" }).location
    return query_of(loc).code
  end

  it("makes codes single-use", function()
    local code = code_for()
    assert.are.equal(200, exchange(code, S.REDIRECT_URI).status)
    local res = exchange(code, S.REDIRECT_URI)
    assert.are.equal(400, res.status)
    assert.are.same({ error = "invalid_request", error_description = "Invalid code: " .. code .. "." }, res.json)
  end)

  it("rejects an unknown code with the documented text", function()
    local res = exchange("bad code here", S.REDIRECT_URI)
    assert.are.equal(400, res.status)
    assert.are.equal("Invalid code: bad code here.", res.json.error_description)
    assert.matches(S.UUID, res.headers["sc-request-id"])
  end)

  it("expires codes after 10 minutes", function()
    local code = code_for()
    S.admin("POST", "/_emulator/clock", { advance = 601 })
    assert.are.equal("invalid_request", exchange(code, S.REDIRECT_URI).json.error)
  end)

  it("requires the same redirect_uri when the authorize request had one", function()
    local code = code_for()
    local res = exchange(code, "http://localhost:8000/callback")
    assert.are.equal(400, res.status)
    assert.are.same({ error = "invalid_grant", error_description = "Unauthorized redirect_uri" }, res.json)
    -- without redirect_uri in the authorize step, none is needed
    local code2 = code_for({ redirect_uri = false })
    assert.are.equal(200, exchange(code2).status)
  end)

  it("answers invalid_client (401) for bad credentials", function()
    local res = assert(S.request("POST", "/oauth/token", { body = "grant_type=authorization_code&code=x",
      headers = { authorization = S.basic(S.CLIENT_ID, "wrong"), ["content-type"] = "application/x-www-form-urlencoded" } }))
    assert.are.equal(401, res.status)
    assert.are.same({ error = "invalid_client", error_description = "Invalid client credentials." }, res.json)
    res = assert(S.request("POST", "/oauth/token", { body = "grant_type=authorization_code&code=x",
      headers = { ["content-type"] = "application/x-www-form-urlencoded" } }))
    assert.are.equal(401, res.status)
  end)

  it("answers unsupported_grant_type", function()
    local res = assert(S.request("POST", "/oauth/token", { body = "grant_type=password",
      headers = { authorization = S.basic(S.CLIENT_ID, S.CLIENT_SECRET),
        ["content-type"] = "application/x-www-form-urlencoded" } }))
    assert.are.equal(400, res.status)
    assert.are.equal("unsupported_grant_type", res.json.error)
  end)

  it("rotates refresh tokens (60 s grace) and expires access tokens after 7200 s", function()
    local first = exchange(code_for(), S.REDIRECT_URI).json
    local second = refresh(first.refresh_token)
    assert.are.equal(200, second.status)
    assert.are_not.equal(first.refresh_token, second.json.refresh_token)
    assert.are_not.equal(first.access_token, second.json.access_token)
    assert.are.equal(7200, second.json.expires_in)
    -- old refresh token: still accepted within the grace period, refused after it
    assert.are.equal(200, refresh(first.refresh_token).status)
    S.admin("POST", "/_emulator/clock", { advance = 61 })
    local res = refresh(first.refresh_token)
    assert.are.equal(400, res.status)
    assert.are.same({ error = "invalid_request",
      error_description = "Invalid refresh_token: " .. first.refresh_token .. "." }, res.json)
    -- access tokens expire
    local t = second.json.access_token
    assert.are.equal(200, S.get("/v2.0/user", t).status)
    S.admin("POST", "/_emulator/clock", { advance = 7200 })
    S.assert_v2_error(S.get("/v2.0/user", t), 401, "AUTHENTICATION", nil)
    -- the newest refresh token still works
    assert.are.equal(200, refresh(second.json.refresh_token).status)
  end)

  it("expires refresh tokens after 60 days", function()
    local first = exchange(code_for(), S.REDIRECT_URI).json
    S.admin("POST", "/_emulator/clock", { advance = 60 * 86400 + 1 })
    assert.are.equal(400, refresh(first.refresh_token).status)
  end)

  it("rejects an unknown refresh token with the documented text", function()
    local res = refresh("THIS_SHOULD_NOT_WORK")
    assert.are.equal(400, res.status)
    assert.are.equal("Invalid refresh_token: THIS_SHOULD_NOT_WORK.", res.json.error_description)
  end)
end)
