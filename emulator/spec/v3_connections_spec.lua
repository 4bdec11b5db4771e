-- V3 connections: GET /v3/connections (filters, page[number]/page[size]), GET/DELETE /v3/connections/{id},
-- DELETE /v3/users/{id}; from the same grants Connect creates.
local S = require "spec.support"
local V = require "spec.v3_support"

local SIM = "?filter%5Bvehicle.mode%5D=simulated"

-- A live connection made through Connect (the authorize shortcut): the v2 token response.
local function connect_live(email, scope)
  local url = S.authorize_path({ response_type = "code", client_id = S.CLIENT_ID, redirect_uri = S.REDIRECT_URI,
    scope = scope, state = "s" })
  local loc = S.admin_ok("POST", "/_emulator/authorize", { url = url, email = email }).location
  local code = S.parse_query(loc:match("%?(.*)$")).code
  local res = assert(S.request("POST", "/oauth/token", { body = "grant_type=authorization_code&code=" .. code ..
    "&redirect_uri=" .. S.escape(S.REDIRECT_URI), headers = { authorization = S.basic(S.CLIENT_ID, S.CLIENT_SECRET),
    ["content-type"] = "application/x-www-form-urlencoded" } }))
  assert.are.equal(200, res.status, res.body)
  local t = res.json
  local user = S.get("/v2.0/user", t.access_token).json.id
  local vehicles = S.get("/v2.0/vehicles", t.access_token).json.vehicles
  return { access_token = t.access_token, user_id = user, vehicles = vehicles }
end

describe("V3 connections", function()
  local token
  before_each(V.fresh(function(tok) token = tok end))
  after_each(V.reset)

  it("lists a vehicle connected through Connect (live by default) with its permissions", function()
    local t = connect_live("conn@example.com", "read_odometer control_security")
    local res = V.call("GET", "/v3/connections", token)
    assert.are.equal(200, res.status)
    local b = res.json
    assert.are.equal(#t.vehicles, #b.data)
    assert.are.same({ pageNumber = 1, pageSize = 10, totalCount = #t.vehicles, orderBy = "createdAt",
      orderDirection = "DESC" }, b.meta)
    local c = b.data[#b.data] -- newest first: the account's first vehicle is last
    assert.are.equal("connection", c.type)
    assert.matches(S.UUID, c.id)
    assert.are.same({ "read_odometer", "control_security" }, c.attributes.permissions)
    assert.are.equal("live", c.attributes.vehicle.mode)
    assert.are.equal("TESLA", c.attributes.vehicle.make)
    assert.are.equal("BEV", c.attributes.vehicle.powertrainType)
    assert.is_number(c.attributes.vehicle.year)
    assert.are.equal(t.user_id, c.relationships.user.data.id)
    assert.are.equal("user", c.relationships.user.data.type)
    assert.are.equal("vehicle", c.relationships.vehicle.data.type)
    assert.truthy(c.relationships.vehicle.links.related:find("/v3/vehicles/" .. c.relationships.vehicle.data.id, 1,
      true))
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", c.meta.createdAt)
    assert.truthy(c.links.self:find("/v3/connections/" .. c.id, 1, true))
    assert.are.equal(S.null, b.links.prev)
    assert.are.equal(S.null, b.links.next)
    assert.truthy(b.links.self:find("page%5Bnumber%5D=1&page%5Bsize%5D=10", 1, true))
    -- test-mode (simulated) connections only when asked for
    local sim = S.token("sim@example.com")
    assert.are.equal(#t.vehicles, V.call("GET", "/v3/connections", token).json.meta.totalCount)
    local sres = V.call("GET", "/v3/connections" .. SIM, token).json
    assert.are.equal(#sim.vehicles, sres.meta.totalCount)
    assert.are.equal("simulated", sres.data[1].attributes.vehicle.mode)
  end)

  it("filters by userId, vehicleId and the sc-user-id header", function()
    local a = S.token("one@example.com")
    local b = S.token("two@example.com")
    local res = V.call("GET", "/v3/connections" .. SIM .. "&filter%5BuserId%5D=" .. a.user_id, token)
    assert.are.equal(#a.vehicles, res.json.meta.totalCount)
    for _, c in ipairs(res.json.data) do assert.are.equal(a.user_id, c.relationships.user.data.id) end
    -- raw brackets work too
    res = V.call("GET", "/v3/connections?filter[vehicle.mode]=simulated&filter[vehicleId]=" .. b.vehicles[2], token)
    assert.are.equal(1, res.json.meta.totalCount)
    assert.are.equal(b.vehicles[2], res.json.data[1].relationships.vehicle.data.id)
    res = V.call("GET", "/v3/connections" .. SIM, token, b.user_id)
    assert.are.equal(#b.vehicles, res.json.meta.totalCount)
    V.assert_error(V.call("GET", "/v3/connections?filter%5Bvehicle.mode%5D=test", token), 400, "VALIDATION",
      "INVALID_INPUT_FORMAT")
  end)

  it("pages with page[number] and page[size]", function()
    local uid = "11111111-2222-4333-8444-555555555555"
    S.admin_ok("POST", "/_emulator/connections", { count = 25, userId = uid, mode = "live" })
    local seen = {}
    local res = V.call("GET", "/v3/connections?page%5Bsize%5D=10", token).json
    assert.are.same({ pageNumber = 1, pageSize = 10, totalCount = 25, orderBy = "createdAt", orderDirection = "DESC" },
      res.meta)
    assert.are.equal(10, #res.data)
    assert.truthy(res.links.last:find("page%5Bnumber%5D=3&page%5Bsize%5D=10", 1, true))
    local pages = 0
    local next_link = res.links.self
    while next_link ~= S.null do
      local page = V.call("GET", next_link:sub(#S.origin + 1), token).json
      pages = pages + 1
      for _, c in ipairs(page.data) do
        assert.is_nil(seen[c.id])
        seen[c.id] = true
      end
      if pages > 1 then assert.are_not.equal(S.null, page.links.prev) end
      next_link = page.links.next
    end
    assert.are.equal(3, pages)
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.are.equal(25, n)
    res = V.call("GET", "/v3/connections?page[number]=3&page[size]=10", token).json
    assert.are.equal(5, #res.data)
    assert.are.equal(0, #V.call("GET", "/v3/connections?page[number]=4&page[size]=10", token).json.data)
    V.assert_error(V.call("GET", "/v3/connections?page%5Bsize%5D=0", token), 400, "VALIDATION", "INVALID_INPUT_FORMAT")
    V.assert_error(V.call("GET", "/v3/connections?page%5Bsize%5D=101", token), 400, "VALIDATION",
      "INVALID_INPUT_FORMAT")
    V.assert_error(V.call("GET", "/v3/connections?page%5Bnumber%5D=x", token), 400, "VALIDATION",
      "INVALID_INPUT_FORMAT")
  end)

  it("gets one connection by its id (or by its vehicle id) and 404s unknown ones", function()
    local t = S.token("get@example.com")
    local c = V.call("GET", "/v3/connections" .. SIM .. "&filter%5BvehicleId%5D=" .. t.vehicles[1], token).json.data[1]
    local res = V.call("GET", "/v3/connections/" .. c.id, token)
    assert.are.equal(200, res.status)
    assert.are.same(c, res.json.data)
    assert.are.same(c, V.call("GET", "/v3/connections/" .. t.vehicles[1], token).json.data)
    V.assert_error(V.call("GET", "/v3/connections/00000000-0000-4000-8000-000000000000", token), 404,
      "RESOURCE_NOT_FOUND", "CONNECTION_NOT_FOUND")
  end)

  it("deletes a connection (204): gone from the list, its v2 token no longer reaches the vehicle", function()
    local t = S.token("del@example.com")
    local c = V.call("GET", "/v3/connections" .. SIM .. "&filter%5BvehicleId%5D=" .. t.vehicles[1], token).json.data[1]
    local res = V.call("DELETE", "/v3/connections/" .. c.id, token)
    assert.are.equal(204, res.status)
    assert.are.equal("", res.body)
    V.assert_error(V.call("GET", "/v3/connections/" .. c.id, token), 404, "RESOURCE_NOT_FOUND", "CONNECTION_NOT_FOUND")
    assert.are.equal(#t.vehicles - 1, V.call("GET", "/v3/connections" .. SIM, token).json.meta.totalCount)
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token), 401,
      "AUTHENTICATION", nil)
    assert.are.equal(200, S.get("/v2.0/vehicles/" .. t.vehicles[2] .. "/odometer", t.access_token).status)
  end)

  it("deletes a user (204) with all the user's connections; an unknown user is 404", function()
    local a = S.token("gone@example.com")
    local b = S.token("stays@example.com")
    assert.are.equal(204, V.call("DELETE", "/v3/users/" .. a.user_id, token).status)
    local list = V.call("GET", "/v3/connections" .. SIM, token).json
    assert.are.equal(#b.vehicles, list.meta.totalCount)
    for _, c in ipairs(list.data) do assert.are.equal(b.user_id, c.relationships.user.data.id) end
    V.assert_error(V.call("DELETE", "/v3/users/" .. a.user_id, token), 404, "RESOURCE_NOT_FOUND", "USER_NOT_FOUND")
  end)
end)
