local S = require "spec.support"

describe("emulator basics", function()
  setup(function() S.reset() end)

  it("answers the health check", function()
    local body, status = S.admin("GET", "/_emulator/health")
    assert.are.equal(200, status)
    assert.are.same({ ok = true }, body)
  end)

  it("sends Content-Type and a UUID v4 SC-Request-Id on successes and errors", function()
    local t = S.token()
    for _, res in ipairs({
      S.get("/v2.0/user", t.access_token),
      S.get("/v2.0/user", "nope"),
      S.get("/v2.0/nothing-here"),
      S.get("/v9.9/user"),
    }) do
      assert.truthy(res.headers["content-type"]:find("application/json", 1, true))
      assert.matches(S.UUID, res.headers["sc-request-id"])
    end
  end)

  it("treats trailing slashes as insignificant", function()
    local t = S.token()
    local a = S.get("/v2.0/vehicles/", t.access_token)
    local b = S.get("/v2.0/vehicles", t.access_token)
    assert.are.equal(200, a.status)
    assert.are.same(a.json, b.json)
    local c = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/", t.access_token)
    assert.are.equal(200, c.status)
    assert.are.equal(t.vehicles[1], c.json.id)
    assert.are.equal(200, S.get("/v2.0/user/", t.access_token).status)
  end)

  it("answers unknown paths with RESOURCE_NOT_FOUND/PATH and unknown versions with VERSION", function()
    local t = S.token()
    S.assert_v2_error(S.get("/v2.0/nowhere", t.access_token), 404, "RESOURCE_NOT_FOUND", "PATH")
    S.assert_v2_error(S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/flux-capacitor", t.access_token), 404,
      "RESOURCE_NOT_FOUND", "PATH")
    -- a well-formed "4.2" is served as the latest version (fidelity_vehicle_spec); "4" is not a version
    local b = S.assert_v2_error(S.get("/v4/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token), 404,
      "RESOURCE_NOT_FOUND", "VERSION")
    assert.are.equal("The requested resource does not exist. Please check your specified version number and try again.",
      b.description)
    assert.are.equal("https://smartcar.com/docs/errors/api-errors/resource-errors#version", b.docURL)
  end)

  describe("request recording", function()
    it("records every non-admin request with raw path, query, headers, body and connection", function()
      S.admin("DELETE", "/_emulator/requests")
      local t = S.token()
      local path = "/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer"
      S.get(path .. "?flags=country%3ADE", t.access_token, { ["sc-unit-system"] = "imperial", ["X-Multi"] = "one" })
      S.post("/v2.0/vehicles/" .. t.vehicles[1] .. "/security", { action = "LOCK" }, t.access_token)
      local log = S.admin("GET", "/_emulator/requests").requests
      assert.are.equal(2, #log)
      local r = log[1]
      assert.are.equal("GET", r.method)
      assert.are.equal(path, r.path)
      assert.are.equal("flags=country%3ADE", r.query)
      assert.are.equal("Bearer " .. t.access_token, r.headers.authorization)
      assert.are.equal("imperial", r.headers["sc-unit-system"])
      assert.are.equal("one", r.headers["x-multi"])
      assert.are.equal("", r.body)
      assert.is_string(r.connection)
      assert.are.equal("POST", log[2].method)
      assert.are.equal('{"action":"LOCK"}', log[2].body)
      assert.are.equal("", log[2].query)
      assert.is_true(log[2].seq > r.seq)
    end)

    it("filters with since and keeps seq increasing after a clear", function()
      S.get("/v2.0/user")
      local log = S.admin("GET", "/_emulator/requests").requests
      local last = log[#log].seq
      S.admin("DELETE", "/_emulator/requests")
      assert.are.equal(0, #S.admin("GET", "/_emulator/requests").requests)
      S.get("/v2.0/user")
      S.get("/v2.0/vehicles")
      local after = S.admin("GET", "/_emulator/requests").requests
      assert.are.equal(2, #after)
      assert.is_true(after[1].seq > last)
      local since = S.admin("GET", "/_emulator/requests?since=" .. after[1].seq).requests
      assert.are.equal(1, #since)
      assert.are.equal("/v2.0/vehicles", since[1].path)
    end)

    it("does not record admin calls", function()
      S.admin("DELETE", "/_emulator/requests")
      S.admin("GET", "/_emulator/health")
      S.token()
      assert.are.equal(0, #S.admin("GET", "/_emulator/requests").requests)
    end)
  end)

  describe("reset", function()
    it("invalidates tokens and restores vehicle state, deterministically", function()
      S.reset()
      local t = S.token(nil, nil, { mode = "simulated" }) -- UNLOCK changes state: the simulation
      local v = t.vehicles[1]
      assert.are.equal(200, S.post("/v2.0/vehicles/" .. v .. "/security", { action = "UNLOCK" }, t.access_token).status)
      assert.is_false(S.get("/v2.0/vehicles/" .. v .. "/security", t.access_token).json.isLocked)
      S.reset()
      S.assert_v2_error(S.get("/v2.0/vehicles/" .. v .. "/security", t.access_token), 401, "AUTHENTICATION", nil)
      local t2 = S.token(nil, nil, { mode = "simulated" })
      assert.are.same(t.vehicles, t2.vehicles)
      assert.are.same(t.user_id, t2.user_id)
      assert.are.equal(t.access_token, t2.access_token) -- ids are reproducible per seed
      assert.is_true(S.get("/v2.0/vehicles/" .. v .. "/security", t2.access_token).json.isLocked)
    end)

    it("changes ids and data with another seed", function()
      local t1 = S.token()
      local d1 = S.get("/v2.0/vehicles/" .. t1.vehicles[1] .. "/odometer", t1.access_token).json.distance
      S.reset(42)
      local t2 = S.token()
      assert.are_not.equal(t1.vehicles[1], t2.vehicles[1])
      local d2 = S.get("/v2.0/vehicles/" .. t2.vehicles[1] .. "/odometer", t2.access_token).json.distance
      assert.are_not.equal(d1, d2)
      S.reset()
      local t3 = S.token()
      assert.are.equal(t1.vehicles[1], t3.vehicles[1])
    end)
  end)

  it("rejects unknown admin routes and bad admin bodies", function()
    local _, status = S.admin("POST", "/_emulator/nothing", {})
    assert.are.equal(404, status)
    local res = S.request("POST", "/_emulator/tokens", { body = "{oops" })
    assert.are.equal(400, res.status)
  end)

  it("registers extra apps usable for tokens", function()
    local body, status = S.admin("POST", "/_emulator/apps", { clientId = "11111111-2222-4333-8444-555555555555",
      clientSecret = "s3", redirectUris = { "http://localhost:9/cb" }, amt = "amt-2", name = "Second" })
    assert.are.equal(200, status, S.encode(body))
    local t = S.token(nil, "read_odometer", { clientId = "11111111-2222-4333-8444-555555555555" })
    local res = S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/location", t.access_token)
    local b = S.assert_v2_error(res, 403, "PERMISSION", nil)
    assert.are.equal("REAUTHENTICATE", b.resolution.type)
    S.reset()
    local _, after = S.admin("POST", "/_emulator/tokens", { clientId = "11111111-2222-4333-8444-555555555555" })
    assert.are.equal(400, after)
  end)
end)
