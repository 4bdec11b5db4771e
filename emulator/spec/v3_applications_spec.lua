-- Management API v3 applications (reference §3.13, community only; the bodies are the emulator's proposal):
-- GET /v3/applications, /v3/applications/{id}, /v3/applications/{id}/secrets. An application token sees its
-- own application (the one its API credentials belong to); a secret is listed, never its value.
local S = require "spec.support"
local V = require "spec.v3_support"

local OTHER = "6f1c2b7e-0d3a-4c5b-9e8f-1a2b3c4d5e6f"

-- A second application with API credentials of its own: a token of them.
local function other_app_token()
  S.admin_ok("POST", "/_emulator/apps", { clientId = OTHER, clientSecret = "v2-secret", name = "Fleet Two" })
  S.admin_ok("POST", "/_emulator/v3/credentials", { applicationId = OTHER, clientId = "client_fleet_two",
    clientSecret = "fleet-two-secret" })
  local res = V.token_request({ grant_type = "client_credentials", client_id = "client_fleet_two",
    client_secret = "fleet-two-secret" })
  assert.are.equal(200, res.status, res.body)
  return res.json.access_token
end

local function demo_resource()
  return { id = S.CLIENT_ID, type = "application", attributes = { name = "Emulator Demo" },
    links = { self = "/applications/" .. S.CLIENT_ID } }
end

describe("V3 applications (Management API)", function()
  local token
  before_each(function()
    S.reset()
    token = V.app_token()
  end)
  after_each(function() S.reset() end)

  it("lists the token's own application and gets it by its Application ID", function()
    local res = V.call("GET", "/v3/applications", token)
    assert.are.equal(200, res.status, res.body)
    assert.truthy(res.headers["content-type"]:find("application/json", 1, true))
    assert.are.same({ data = { demo_resource() }, meta = { totalCount = 1 }, links = { self = "/applications" } },
      res.json)
    res = V.call("GET", "/v3/applications/" .. S.CLIENT_ID, token)
    assert.are.equal(200, res.status, res.body)
    assert.are.same({ data = demo_resource() }, res.json)
    -- a trailing slash is insignificant
    assert.are.same({ data = demo_resource() }, V.call("GET", "/v3/applications/" .. S.CLIENT_ID .. "/", token).json)
  end)

  it("lists the secrets of every API client id of the application, never a value", function()
    S.admin_ok("POST", "/_emulator/v3/credentials", { clientId = V.API_CLIENT_ID, clientSecret = "rotated-secret" })
    S.admin_ok("POST", "/_emulator/v3/credentials", { clientId = "client_extra_one", clientSecret = "extra-secret" })
    local res = V.call("GET", "/v3/applications/" .. S.CLIENT_ID .. "/secrets", token)
    assert.are.equal(200, res.status, res.body)
    for _, secret in ipairs { V.API_SECRET, "rotated-secret", "extra-secret" } do
      assert.is_nil(res.body:find(secret, 1, true), secret)
    end
    local b = res.json
    assert.are.same({ totalCount = 3 }, b.meta)
    assert.are.same({ self = "/applications/" .. S.CLIENT_ID .. "/secrets" }, b.links)
    local clients, ids = {}, {}
    for i, s in ipairs(b.data) do
      assert.are.equal("secret", s.type)
      assert.matches(S.UUID, s.id)
      assert.are.same({ clientId = s.attributes.clientId }, s.attributes)
      clients[i], ids[s.id] = s.attributes.clientId, true
    end
    assert.are.same({ V.API_CLIENT_ID, V.API_CLIENT_ID, "client_extra_one" }, clients)
    local n = 0
    for _ in pairs(ids) do n = n + 1 end
    assert.are.equal(3, n, "distinct ids")
    -- the same ids on every read
    assert.are.same(b.data, V.call("GET", "/v3/applications/" .. S.CLIENT_ID .. "/secrets", token).json.data)
  end)

  it("answers another application's id, or an unknown one, with 404 APPLICATION_NOT_FOUND", function()
    local other = other_app_token()
    local res = V.call("GET", "/v3/applications", other)
    assert.are.same({ { id = OTHER, type = "application", attributes = { name = "Fleet Two" },
      links = { self = "/applications/" .. OTHER } } }, res.json.data)
    local secrets = V.call("GET", "/v3/applications/" .. OTHER .. "/secrets", other).json
    assert.are.equal(1, #secrets.data)
    assert.are.equal("client_fleet_two", secrets.data[1].attributes.clientId)
    for _, c in ipairs { { token, OTHER }, { other, S.CLIENT_ID }, { token, "nope" }, { token, V.API_CLIENT_ID } } do
      V.assert_error(V.call("GET", "/v3/applications/" .. c[2], c[1]), 404, "RESOURCE_NOT_FOUND",
        "APPLICATION_NOT_FOUND", "Application with ID " .. c[2] .. " not found")
      V.assert_error(V.call("GET", "/v3/applications/" .. c[2] .. "/secrets", c[1]), 404, "RESOURCE_NOT_FOUND",
        "APPLICATION_NOT_FOUND")
    end
    assert.are.same({ demo_resource() }, V.call("GET", "/v3/applications", token).json.data)
  end)

  it("wants an application token and serves GET only", function()
    V.assert_error(V.call("GET", "/v3/applications"), 401, "AUTHENTICATION", "UNAUTHORIZED")
    V.assert_error(V.call("GET", "/v3/applications/" .. S.CLIENT_ID, "not-a-token"), 401, "AUTHENTICATION",
      "UNAUTHORIZED")
    local v2 = S.token("apps3@example.com").access_token
    V.assert_error(V.call("GET", "/v3/applications/" .. S.CLIENT_ID .. "/secrets", v2), 401, "AUTHENTICATION",
      "UNAUTHORIZED")
    for _, m in ipairs { "POST", "DELETE" } do
      V.assert_error(V.call(m, "/v3/applications", token), 404, "RESOURCE_NOT_FOUND", "INVALID_PATH")
      V.assert_error(V.call(m, "/v3/applications/" .. S.CLIENT_ID .. "/secrets", token), 404, "RESOURCE_NOT_FOUND",
        "INVALID_PATH")
    end
    V.assert_error(V.call("GET", "/v3/applications/" .. S.CLIENT_ID .. "/secrets/x", token), 404,
      "RESOURCE_NOT_FOUND", "INVALID_PATH")
  end)

  it("is not counted against the application-wide rate limit", function()
    S.admin_ok("POST", "/_emulator/v3/config", { appRateLimit = true, appRateCapacity = 1, appRateRefillPerMinute = 0 })
    for _ = 1, 3 do assert.are.equal(200, V.call("GET", "/v3/applications", token).status) end
  end)
end)
