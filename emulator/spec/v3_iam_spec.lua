-- V3 client-credentials tokens: POST /oauth2/token (form, JSON, Basic), expiry on the emulator clock,
-- OAuth-style errors.
local S = require "spec.support"
local V = require "spec.v3_support"

local function assert_oauth(res, status, err)
  assert.are.equal(status, res.status, res.body)
  assert.are.equal(err, res.json.error)
  assert.is_string(res.json.error_description)
end

describe("V3 token endpoint", function()
  before_each(function() S.reset() end)
  after_each(function() S.reset() end)

  it("issues an application token for the demo app's API credentials (form body)", function()
    local res = V.token_request({ grant_type = "client_credentials", client_id = V.API_CLIENT_ID,
      client_secret = V.API_SECRET })
    assert.are.equal(200, res.status)
    assert.truthy(res.headers["content-type"]:find("application/json", 1, true))
    assert.are.equal("Bearer", res.json.token_type)
    assert.are.equal(3600, res.json.expires_in)
    assert.is_string(res.json.access_token)
    assert.is_nil(res.json.refresh_token)
    assert.are.equal("no-store", res.headers["cache-control"])
    local list = V.call("GET", "/v3/connections", res.json.access_token)
    assert.are.equal(200, list.status)
  end)

  it("accepts a JSON body and HTTP Basic credentials", function()
    local res = assert(S.request("POST", "/oauth2/token", { body = { grant_type = "client_credentials",
      client_id = V.API_CLIENT_ID, client_secret = V.API_SECRET } }))
    assert.are.equal(200, res.status, res.body)
    assert.are.equal(3600, res.json.expires_in)
    res = V.token_request({ grant_type = "client_credentials" },
      { authorization = S.basic(V.API_CLIENT_ID, V.API_SECRET) })
    assert.are.equal(200, res.status, res.body)
    assert.are_not.equal(res.json.access_token, V.app_token())
  end)

  it("answers invalid_client (401) for a wrong secret, an unknown id or the v2 credentials", function()
    assert_oauth(V.token_request({ grant_type = "client_credentials", client_id = V.API_CLIENT_ID,
      client_secret = "wrong" }), 401, "invalid_client")
    assert_oauth(V.token_request({ grant_type = "client_credentials", client_id = "client_nobody",
      client_secret = V.API_SECRET }), 401, "invalid_client")
    assert_oauth(V.token_request({ grant_type = "client_credentials", client_id = S.CLIENT_ID,
      client_secret = S.CLIENT_SECRET }), 401, "invalid_client")
    assert_oauth(V.token_request({ grant_type = "client_credentials" }), 401, "invalid_client")
    local res = V.token_request({ grant_type = "client_credentials" }, { authorization = S.basic(V.API_CLIENT_ID, "x") })
    assert_oauth(res, 401, "invalid_client")
    assert.matches("^Basic", res.headers["www-authenticate"])
  end)

  it("answers invalid_request without grant_type and unsupported_grant_type for other grants", function()
    assert_oauth(V.token_request({ client_id = V.API_CLIENT_ID, client_secret = V.API_SECRET }), 400,
      "invalid_request")
    assert_oauth(V.token_request({ grant_type = "authorization_code", client_id = V.API_CLIENT_ID,
      client_secret = V.API_SECRET }), 400, "unsupported_grant_type")
    local res = assert(S.request("POST", "/oauth2/token", { body = "{not json",
      headers = { ["content-type"] = "application/json" } }))
    assert_oauth(res, 400, "invalid_request")
    assert_oauth(assert(S.request("GET", "/oauth2/token")), 405, "invalid_request")
  end)

  it("expires tokens after an hour of the emulator clock (401 AUTHENTICATION/UNAUTHORIZED)", function()
    local token = V.app_token()
    S.admin_ok("POST", "/_emulator/clock", { advance = 3599 })
    assert.are.equal(200, V.call("GET", "/v3/connections", token).status)
    S.admin_ok("POST", "/_emulator/clock", { advance = 2 })
    local res = V.call("GET", "/v3/connections", token)
    local e = V.assert_error(res, 401, "AUTHENTICATION", "UNAUTHORIZED", "The Authorization token is missing or invalid.")
    assert.are.equal("Unauthorized", e.title)
    -- a new token works again
    assert.are.equal(200, V.call("GET", "/v3/connections", V.app_token()).status)
  end)

  it("applies a configured lifetime and revokes tokens on request", function()
    local cfg = S.admin_ok("POST", "/_emulator/v3/config", { appTokenLifetime = 60 })
    assert.are.equal(60, cfg.appTokenLifetime)
    local res = V.token_request({ grant_type = "client_credentials", client_id = V.API_CLIENT_ID,
      client_secret = V.API_SECRET })
    assert.are.equal(60, res.json.expires_in)
    S.admin_ok("POST", "/_emulator/v3/tokens/revoke", { accessToken = res.json.access_token })
    V.assert_error(V.call("GET", "/v3/connections", res.json.access_token), 401, "AUTHENTICATION", "UNAUTHORIZED")
  end)

  it("holds up to three secrets per API client id (rotation)", function()
    S.admin_ok("POST", "/_emulator/v3/credentials", { clientId = V.API_CLIENT_ID, clientSecret = "second" })
    S.admin_ok("POST", "/_emulator/v3/credentials", { clientId = V.API_CLIENT_ID, clientSecret = "third" })
    local _, status = S.admin("POST", "/_emulator/v3/credentials", { clientId = V.API_CLIENT_ID, clientSecret = "4th" })
    assert.are.equal(409, status)
    for _, secret in ipairs({ V.API_SECRET, "second", "third" }) do
      assert.are.equal(200, V.token_request({ grant_type = "client_credentials", client_id = V.API_CLIENT_ID,
        client_secret = secret }).status)
    end
    assert_oauth(V.token_request({ grant_type = "client_credentials", client_id = V.API_CLIENT_ID,
      client_secret = "4th" }), 401, "invalid_client")
  end)

  it("rejects missing, unknown and v2 tokens on application-only routes", function()
    V.assert_error(V.call("GET", "/v3/connections"), 401, "AUTHENTICATION", "UNAUTHORIZED")
    V.assert_error(V.call("GET", "/v3/connections", "nope"), 401, "AUTHENTICATION", "UNAUTHORIZED")
    local t = S.token("v2@example.com")
    V.assert_error(V.call("GET", "/v3/webhooks", t.access_token), 401, "AUTHENTICATION", "UNAUTHORIZED")
    V.assert_error(V.call("POST", "/v3/vehicles/" .. t.vehicles[1] .. "/commands/security/lock", t.access_token,
      t.user_id), 401, "AUTHENTICATION", "UNAUTHORIZED")
  end)
end)
