local S = require "spec.support"

local function mgmt(path)
  return assert(S.request("GET", path, { headers = { authorization = S.basic("default", S.AMT) } }))
end

describe("paging over large sets", function()
  before_each(function() S.reset() end)
  after_each(function() S.reset() end)

  it("POST /_emulator/tokens {vehicles: 120} gives 120 vehicles, stable per seed", function()
    local t = S.token("fleet@example.com", nil, { vehicles = 120 })
    assert.are.equal(120, #t.vehicles)
    local seen = {}
    for _, id in ipairs(t.vehicles) do
      assert.matches(S.UUID, id)
      assert.is_nil(seen[id])
      seen[id] = true
    end
    local again = S.token("fleet@example.com", nil, { vehicles = 120 })
    assert.are.same(t.vehicles, again.vehicles)
    -- the account keeps them for a plain tokens call (and for Connect logins)
    assert.are.same(t.vehicles, S.token("fleet@example.com").vehicles)
    S.reset()
    assert.are.same(t.vehicles, S.token("fleet@example.com", nil, { vehicles = 120 }).vehicles)
    S.reset(2)
    assert.are_not.equal(t.vehicles[1], S.token("fleet@example.com", nil, { vehicles = 120 }).vehicles[1])
  end)

  it("keeps an account's first vehicles when it grows or shrinks", function()
    local three = S.token("demo@example.com")
    local many = S.token("demo@example.com", nil, { vehicles = 14 })
    for i = 1, 3 do assert.are.equal(three.vehicles[i], many.vehicles[i]) end
    local v = S.get("/v2.0/vehicles/" .. many.vehicles[14], many.access_token)
    assert.are.equal(200, v.status)
    assert.are.equal("TOYOTA", v.json.make)   -- the 14th cycles back to the second model
    local two = S.token("demo@example.com", nil, { vehicles = 2 })
    assert.are.same({ three.vehicles[1], three.vehicles[2] }, two.vehicles)
    for _, bad in ipairs({ 0, 1000, 2.5, "many" }) do
      local _, status = S.admin("POST", "/_emulator/tokens", { vehicles = bad })
      assert.are.equal(400, status)
    end
  end)

  it("pages GET /v2.0/vehicles with limit (default 10, max 50) and offset", function()
    local t = S.token("fleet@example.com", nil, { vehicles = 120 })
    local first = S.get("/v2.0/vehicles", t.access_token)
    assert.are.equal(10, #first.json.vehicles)
    assert.are.same({ count = 120, offset = 0 }, first.json.paging)
    local all, offset = {}, 0
    while true do
      local res = S.get("/v2.0/vehicles?limit=50&offset=" .. offset, t.access_token)
      assert.are.equal(200, res.status)
      assert.are.same({ count = 120, offset = offset }, res.json.paging)
      for _, id in ipairs(res.json.vehicles) do all[#all + 1] = id end
      if #res.json.vehicles < 50 then
        assert.are.equal(20, #res.json.vehicles)
        break
      end
      offset = offset + 50
    end
    assert.are.same(t.vehicles, all)
    local past = S.get("/v2.0/vehicles?limit=50&offset=120", t.access_token)
    assert.are.same({}, past.json.vehicles)
    assert.are.same({ count = 120, offset = 120 }, past.json.paging)
    S.assert_v2_error(S.get("/v2.0/vehicles?limit=51", t.access_token), 400, "VALIDATION", "PARAMETER")
    S.assert_v2_error(S.get("/v2.0/vehicles?limit=0", t.access_token), 400, "VALIDATION", "PARAMETER")
  end)

  it("pages GET /permissions over 60 made-up permission names (limit default 25)", function()
    local scope = { "read_odometer" }
    for i = 1, 59 do scope[#scope + 1] = "read_x_" .. i end
    local t = S.token("perms@example.com", table.concat(scope, " "))
    local base = "/v2.0/vehicles/" .. t.vehicles[1] .. "/permissions"
    local all, offset = {}, 0
    repeat
      local res = S.get(base .. "?offset=" .. offset, t.access_token)
      assert.are.equal(200, res.status)
      assert.are.same({ count = 60, offset = offset }, res.json.paging)
      assert.is_true(#res.json.permissions <= 25)
      for _, p in ipairs(res.json.permissions) do all[#all + 1] = p end
      offset = offset + 25
    until #res.json.permissions < 25
    assert.are.same(scope, all)
    local big = S.get(base .. "?limit=100", t.access_token)
    assert.are.same(scope, big.json.permissions)
    -- the made-up names grant nothing, the real one still works
    assert.are.equal(200, S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token).status)
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/location", t.access_token), 403,
      "PERMISSION", nil)
    -- a list works as well as a string
    local t2 = S.token("perms2@example.com", scope)
    local res = S.get("/v2.0/vehicles/" .. t2.vehicles[1] .. "/permissions", t2.access_token)
    assert.are.same({ count = 60, offset = 0 }, res.json.paging)
  end)

  it("POST /_emulator/connections makes 250 connections that management pages with a cursor", function()
    local b, status = S.admin("POST", "/_emulator/connections", { count = 250 })
    assert.are.equal(200, status, S.encode(b))
    assert.are.equal(250, b.count)
    assert.are.equal(250, #b.connections)
    local c1 = b.connections[1]
    assert.matches(S.UUID, c1.userId)
    assert.matches(S.UUID, c1.vehicleId)
    assert.are.equal("live", c1.mode)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", c1.connectedAt)
    local default = mgmt("/v2.0/management/connections")
    assert.are.equal(10, #default.json.connections)
    local got, cursor, pages = {}, nil, 0
    repeat
      local res = mgmt("/v2.0/management/connections?limit=100" .. (cursor and ("&cursor=" .. S.escape(cursor)) or ""))
      assert.are.equal(200, res.status)
      pages = pages + 1
      for _, c in ipairs(res.json.connections) do got[#got + 1] = c end
      cursor = res.json.paging.cursor
      if pages < 3 then
        assert.are.equal(100, #res.json.connections)
        assert.is_string(cursor)
      end
    until cursor == S.null
    assert.are.equal(3, pages)
    assert.are.equal(250, #got)
    -- newest first: the reverse of the creation order
    for i = 1, 250 do
      assert.are.equal(b.connections[251 - i].vehicleId, got[i].vehicleId)
      assert.are.equal(b.connections[251 - i].userId, got[i].userId)
    end
    S.assert_v2_error(mgmt("/v2.0/management/connections?limit=101"), 400, "VALIDATION", "PARAMETER")
  end)

  it("makes connections for one user and mode, after the existing ones", function()
    local t = S.token("alice@example.com")
    local uid = "0b1e6b52-4c3b-4d6a-9f0e-1c2d3e4f5a6b"
    local b = S.admin("POST", "/_emulator/connections", { count = 120, userId = uid, mode = "simulated" })
    assert.are.equal(120, #b.connections)
    local res = mgmt("/v2.0/management/connections?limit=100&user_id=" .. uid)
    assert.are.equal(100, #res.json.connections)
    assert.are.equal("simulated", res.json.connections[1].mode)
    local rest = mgmt("/v2.0/management/connections?limit=100&user_id=" .. uid .. "&cursor=" ..
      S.escape(res.json.paging.cursor))
    assert.are.equal(20, #rest.json.connections)
    assert.are.equal(S.null, rest.json.paging.cursor)
    assert.are.equal(100, #mgmt("/v2.0/management/connections?limit=100&mode=simulated").json.connections)
    assert.are.equal(3, #mgmt("/v2.0/management/connections?limit=100&mode=test").json.connections)
    -- the tokens shortcut's connections come last (oldest)
    local all, cursor = {}, nil
    repeat
      local page = mgmt("/v2.0/management/connections?limit=100" .. (cursor and ("&cursor=" .. S.escape(cursor)) or ""))
      for _, c in ipairs(page.json.connections) do all[#all + 1] = c end
      cursor = page.json.paging.cursor
    until cursor == S.null
    assert.are.equal(123, #all)
    assert.are.equal(t.user_id, all[123].userId)
    -- a second batch gets new vehicle ids
    local again = S.admin("POST", "/_emulator/connections", { count = 1, userId = uid })
    assert.are_not.equal(b.connections[1].vehicleId, again.connections[1].vehicleId)
    for _, bad in ipairs({ {}, { count = 0 }, { count = 10001 }, { count = 2, mode = "fast" },
        { count = 2, userId = 7 }, { count = 2, clientId = "nope" } }) do
      local _, status = S.admin("POST", "/_emulator/connections", bad)
      assert.are.equal(400, status, S.encode(bad))
    end
  end)
end)
