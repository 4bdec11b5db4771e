local S = require "spec.support"

-- POST /oauth/token with the default app's Basic credentials: response.
local function token_request(form)
  local parts = {}
  for k, v in pairs(form) do parts[#parts + 1] = S.escape(k) .. "=" .. S.escape(v) end
  table.sort(parts)
  return assert(S.request("POST", "/oauth/token", { body = table.concat(parts, "&"), headers = {
    authorization = S.basic(S.CLIENT_ID, S.CLIENT_SECRET),
    ["content-type"] = "application/x-www-form-urlencoded" } }))
end

local function refresh(rt) return token_request({ grant_type = "refresh_token", refresh_token = rt }) end

-- A code from the Connect shortcut, exchanged: the token response.
local function exchange_code()
  local url = S.authorize_path({ response_type = "code", client_id = S.CLIENT_ID, redirect_uri = S.REDIRECT_URI,
    scope = "read_odometer", state = "s" })
  local loc = assert(S.admin("POST", "/_emulator/authorize", { url = url })).location
  local code = S.parse_query(loc:match("%?(.*)$")).code
  local res = token_request({ grant_type = "authorization_code", code = code, redirect_uri = S.REDIRECT_URI })
  assert.are.equal(200, res.status, res.body)
  return res.json
end

local function assert_oauth_error(res, err)
  assert.are.equal(400, res.status)
  assert.are.equal(err, res.json.error)
  assert.is_string(res.json.error_description)
end

local function config(body) return S.admin_ok("POST", "/_emulator/config", body) end

-- The lifetimes in force are the defaults: 2 h access, 60 d refresh, 60 s grace after a refresh.
local function assert_defaults()
  local c = S.admin("GET", "/_emulator/config")
  assert.are.equal(7200, c.accessTokenLifetime)
  assert.are.equal(60 * 86400, c.refreshTokenLifetime)
  assert.are.equal(60, c.refreshGrace)
  assert.are.equal(7200, S.token().expires_in)
end

describe("token lifetimes", function()
  before_each(function() S.reset() end)
  after_each(function() S.reset() end)

  it("defaults to 2 h access and 60 d refresh tokens, with a 60 s grace after a refresh", function()
    assert_defaults()
  end)

  it("applies configured lifetimes to every token issued afterwards", function()
    local before = S.token()
    local c = config({ accessTokenLifetime = 30, refreshTokenLifetime = 100 })
    assert.are.equal(30, c.accessTokenLifetime)
    assert.are.equal(100, c.refreshTokenLifetime)
    local t = S.token()
    assert.are.equal(30, t.expires_in)
    local coded = exchange_code()
    assert.are.equal(30, coded.expires_in)
    local renewed = refresh(t.refresh_token)
    assert.are.equal(200, renewed.status)
    assert.are.equal(30, renewed.json.expires_in)
    assert.are.equal(200, S.get("/v2.0/user", t.access_token).status)
    S.admin("POST", "/_emulator/clock", { advance = 29 })
    assert.are.equal(200, S.get("/v2.0/user", coded.access_token).status)
    S.admin("POST", "/_emulator/clock", { advance = 1 })
    -- expired: the API's invalid-token error, on every API family
    S.assert_v2_error(S.get("/v2.0/user", t.access_token), 401, "AUTHENTICATION", nil)
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token), 401,
      "AUTHENTICATION", nil)
    S.assert_v2_error(S.get("/v2.0/vehicles", coded.access_token), 401, "AUTHENTICATION", nil)
    assert.are.equal(401, S.get("/v3/vehicles/" .. t.vehicles[1], t.access_token).status)
    -- a token issued before the change keeps its lifetime
    assert.are.equal(200, S.get("/v2.0/user", before.access_token).status)
  end)

  it("expires refresh tokens (invalid_request, as an unknown one), counting the emulator's clock", function()
    config({ refreshTokenLifetime = 100 })
    local t = S.token()
    S.admin("POST", "/_emulator/clock", { advance = 99 })
    local renewed = refresh(t.refresh_token)
    assert.are.equal(200, renewed.status)
    S.admin("POST", "/_emulator/clock", { advance = 100 })
    local res = refresh(renewed.json.refresh_token)
    assert_oauth_error(res, "invalid_request")
    assert.are.equal("Invalid refresh_token: " .. renewed.json.refresh_token .. ".", res.json.error_description)
    -- an unknown token too
    res = refresh("THIS_SHOULD_NOT_WORK")
    assert_oauth_error(res, "invalid_request")
    assert.are.equal("Invalid refresh_token: THIS_SHOULD_NOT_WORK.", res.json.error_description)
  end)

  it("accepts fractional lifetimes and rejects bad values without applying any", function()
    assert.are.equal(0.5, config({ accessTokenLifetime = 0.5 }).accessTokenLifetime)
    assert.are.equal(0.5, S.token().expires_in)
    for _, bad in ipairs({ { accessTokenLifetime = 0 }, { refreshTokenLifetime = -1 },
        { accessTokenLifetime = "soon" }, { refreshTokenLifetime = true }, { refreshGrace = -1 },
        { accessTokenLifetime = 10, latency = -5 } }) do
      local b, status = S.admin("POST", "/_emulator/config", bad)
      assert.are.equal(400, status)
      assert.is_string(b.error)
    end
    assert.are.equal(0.5, S.admin("GET", "/_emulator/config").accessTokenLifetime)
  end)

  it("restores the defaults on reset", function()
    config({ accessTokenLifetime = 5, refreshTokenLifetime = 10, refreshGrace = 0 })
    S.reset()
    assert_defaults()
  end)
end)

describe("refresh token rotation", function()
  before_each(function() S.reset() end)
  after_each(function() S.reset() end)

  it("returns a new refresh token; the used one works for refreshGrace seconds, then not", function()
    local t = S.token()
    local r1 = refresh(t.refresh_token)
    assert.are.equal(200, r1.status)
    assert.are_not.equal(t.refresh_token, r1.json.refresh_token)
    assert.are_not.equal(t.access_token, r1.json.access_token)
    S.admin("POST", "/_emulator/clock", { advance = 59 })
    local again = refresh(t.refresh_token)   -- within the grace: another new pair
    assert.are.equal(200, again.status)
    assert.are_not.equal(r1.json.refresh_token, again.json.refresh_token)
    S.admin("POST", "/_emulator/clock", { advance = 1 })
    local res = refresh(t.refresh_token)
    assert_oauth_error(res, "invalid_request")
    assert.are.equal("Invalid refresh_token: " .. t.refresh_token .. ".", res.json.error_description)
    assert.are.equal(200, refresh(r1.json.refresh_token).status)
    -- access tokens are not touched by a refresh
    assert.are.equal(200, S.get("/v2.0/user", t.access_token).status)
  end)

  it("with refreshGrace 0 the used refresh token stops working at once", function()
    config({ refreshGrace = 0 })
    local t = S.token()
    local r1 = refresh(t.refresh_token)
    assert.are.equal(200, r1.status)
    assert_oauth_error(refresh(t.refresh_token), "invalid_request")
    local r2 = refresh(r1.json.refresh_token)
    assert.are.equal(200, r2.status)
    assert_oauth_error(refresh(r1.json.refresh_token), "invalid_request")
    assert.are.equal(200, S.get("/v2.0/user", r2.json.access_token).status)
  end)
end)

describe("POST /_emulator/tokens/revoke", function()
  before_each(function() S.reset() end)

  it("makes a refresh token invalid at once", function()
    local t = S.token()
    local b, status = S.admin("POST", "/_emulator/tokens/revoke", { refreshToken = t.refresh_token })
    assert.are.equal(200, status)
    assert.are.same({ ok = true }, b)
    local res = refresh(t.refresh_token)
    assert_oauth_error(res, "invalid_request")
    assert.are.equal("Invalid refresh_token: " .. t.refresh_token .. ".", res.json.error_description)
    assert.are.equal(200, S.get("/v2.0/user", t.access_token).status)
  end)

  it("makes an access token invalid at once", function()
    local t = S.token()
    local _, status = S.admin("POST", "/_emulator/tokens/revoke", { accessToken = t.access_token })
    assert.are.equal(200, status)
    S.assert_v2_error(S.get("/v2.0/user", t.access_token), 401, "AUTHENTICATION", nil)
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token), 401,
      "AUTHENTICATION", nil)
    local renewed = refresh(t.refresh_token)
    assert.are.equal(200, renewed.status)
    assert.are.equal(200, S.get("/v2.0/user", renewed.json.access_token).status)
  end)

  it("revokes both at once, and rejects unknown tokens and empty bodies", function()
    local t = S.token()
    local _, status = S.admin("POST", "/_emulator/tokens/revoke",
      { accessToken = t.access_token, refreshToken = t.refresh_token })
    assert.are.equal(200, status)
    assert.are.equal(401, S.get("/v2.0/user", t.access_token).status)
    assert.are.equal(400, refresh(t.refresh_token).status)
    local b
    b, status = S.admin("POST", "/_emulator/tokens/revoke", { accessToken = "nope" })
    assert.are.equal(404, status)
    assert.are.equal("unknown accessToken", b.error)
    b, status = S.admin("POST", "/_emulator/tokens/revoke", { refreshToken = "nope" })
    assert.are.equal(404, status)
    assert.are.equal("unknown refreshToken", b.error)
    _, status = S.admin("POST", "/_emulator/tokens/revoke", {})
    assert.are.equal(400, status)
  end)
end)
