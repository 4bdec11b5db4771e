local S = require "spec.support"

-- One raw exchange on a fresh connection: status line's code (nil when the peer closed without
-- answering), and the error of the first receive.
local function raw_status(path, headers)
  local c = S.raw_get(path, headers)
  local line, err, partial = c:receive("*l")
  c:close()
  return line and tonumber(line:match("^HTTP/1%.1 (%d+)")) or nil, err, partial
end

local function set_fault(body) return S.admin_ok("POST", "/_emulator/faults", body) end

local function token_post(body)
  return assert(S.request("POST", "/oauth/token", { body = body, headers = {
    authorization = S.basic(S.CLIENT_ID, S.CLIENT_SECRET),
    ["content-type"] = "application/x-www-form-urlencoded" } }))
end

describe("faults for retries", function()
  local t, path
  before_each(function()
    S.reset()
    t = S.token()
    path = "/v2.0/vehicles/" .. t.vehicles[1] .. "/odometer"
  end)
  after_each(function() S.admin("POST", "/_emulator/faults", { fault = S.null }) end)

  it("html503 twice, then the third request succeeds", function()
    local b = set_fault({ fault = "html503", count = 2 })
    assert.are.same({ ok = true, fault = "html503", count = 2, path = S.null }, b)
    assert.are.equal(503, S.get(path, t.access_token).status)
    assert.are.same({ enabled = true, fault = "html503", count = 1, path = S.null },
      (S.admin("GET", "/_emulator/faults")))
    assert.are.equal(503, S.get(path, t.access_token).status)
    local ok = S.get(path, t.access_token)
    assert.are.equal(200, ok.status)
    assert.is_number(ok.json.distance)
    assert.are.same({ enabled = true, fault = S.null, count = 0, path = S.null },
      (S.admin("GET", "/_emulator/faults")))
  end)

  it("status:<code> answers a Smartcar JSON error of that status with sc-request-id", function()
    local expect = {
      [500] = { "SERVER", "INTERNAL" }, [502] = { "UPSTREAM", "UNKNOWN_ISSUE" },
      [503] = { "SERVER", "INTERNAL" }, [504] = { "UPSTREAM", "NO_RESPONSE" },
      [429] = { "RATE_LIMIT", "SMARTCAR_API" }, [401] = { "AUTHENTICATION" }, [409] = { "VEHICLE_STATE", "UNKNOWN" },
      [404] = { "RESOURCE_NOT_FOUND", "PATH" }, [430] = { "BILLING", "VEHICLE_REQUEST_LIMIT" },
      [418] = { "VALIDATION" }, [599] = { "SERVER", "INTERNAL" },
    }
    for code, e in pairs(expect) do
      local res = S.get(path, t.access_token, { ["sc-emulator-fault"] = "status:" .. code })
      local b = S.assert_v2_error(res, code, e[1], e[2])
      if code == 500 then
        assert.are.equal("RETRY_LATER", b.resolution.type)
        assert.truthy(b.suggestedUserMessage:find("Emulator Demo", 1, true))
      end
    end
    local res = S.get(path, t.access_token, { ["sc-emulator-fault"] = "status:429" })
    assert.are.equal("60", res.headers["retry-after"])
  end)

  it("status:<code> follows the path's version (v1.0 legacy, v3 JSON:API) and the token endpoint gets v2", function()
    local v1 = S.get("/v1.0/vehicles/" .. t.vehicles[1] .. "/odometer", t.access_token,
      { ["sc-emulator-fault"] = "status:500" })
    assert.are.equal(500, v1.status)
    assert.are.equal("server_error", v1.json.error)
    local v3 = S.get("/v3/vehicles/" .. t.vehicles[1] .. "/signals", t.access_token,
      { ["sc-emulator-fault"] = "status:502" })
    assert.are.equal(502, v3.status)
    assert.are.equal("502", v3.json.errors[1].status)
    assert.are.equal("UPSTREAM", v3.json.errors[1].type)
    set_fault({ fault = "status:500", path = "^/oauth/token$" })
    S.assert_v2_error(token_post("grant_type=refresh_token&refresh_token=" .. t.refresh_token), 500, "SERVER",
      "INTERNAL")
    -- nothing happened: the refresh token was not used
    S.admin("POST", "/_emulator/config", { refreshGrace = 0 })
    assert.are.equal(200, token_post("grant_type=refresh_token&refresh_token=" .. t.refresh_token).status)
  end)

  it("rate-limit:<seconds> answers 429 RATE_LIMIT/VEHICLE with that retry-after", function()
    local res = S.get(path, t.access_token, { ["sc-emulator-fault"] = "rate-limit:7" })
    local b = S.assert_v2_error(res, 429, "RATE_LIMIT", "VEHICLE")
    assert.are.equal("7", res.headers["retry-after"])
    assert.are.equal("RETRY_LATER", b.resolution.type)
    set_fault({ fault = "rate-limit:0", count = 1 })
    res = S.get(path, t.access_token)
    assert.are.equal(429, res.status)
    assert.are.equal("0", res.headers["retry-after"])
    assert.are.equal(200, S.get(path, t.access_token).status)
  end)

  it("close closes the connection without any answer", function()
    local status, err, partial = raw_status(path, { Authorization = "Bearer " .. t.access_token,
      ["sc-emulator-fault"] = "close" })
    assert.is_nil(status)
    assert.are.equal("closed", err)
    assert.are.equal("", partial)
    set_fault({ fault = "close", count = 1 })
    local res, herr = S.request("GET", path, { headers = { authorization = "Bearer " .. t.access_token } })
    assert.is_nil(res)
    assert.is_string(herr)
    assert.are.equal(200, S.get(path, t.access_token).status)
  end)

  it("applies the admin fault only to paths matching its pattern; others do not consume it", function()
    set_fault({ fault = "status:500", count = 2, path = "/odometer$" })
    assert.are.equal(200, token_post("grant_type=refresh_token&refresh_token=" .. t.refresh_token).status)
    assert.are.equal(200, S.get("/v2.0/user", t.access_token).status)
    assert.are.equal(200, S.get("/v2.0/vehicles/" .. t.vehicles[1] .. "/location", t.access_token).status)
    assert.are.equal(2, S.admin("GET", "/_emulator/faults").count)
    S.assert_v2_error(S.get(path, t.access_token), 500, "SERVER", "INTERNAL")
    -- the query is not part of the path; a trailing slash is ignored
    S.assert_v2_error(S.get(path .. "/?x=1", t.access_token), 500, "SERVER", "INTERNAL")
    assert.are.equal(200, S.get(path, t.access_token).status)
    -- a request's own fault (header/query) still applies anywhere
    set_fault({ fault = "html502", count = 1, path = "^/v3/" })
    assert.are.equal(503, S.get("/v2.0/user", t.access_token, { ["sc-emulator-fault"] = "html503" }).status)
    assert.are.equal(502, S.get("/v3/vehicles/" .. t.vehicles[1], t.access_token).status)
  end)

  it("rejects bad specs, counts and patterns", function()
    for _, body in ipairs({ { fault = "status:200" }, { fault = "status:" }, { fault = "status:600" },
        { fault = "rate-limit" }, { fault = "close:x" }, { fault = "html503", count = 0 },
        { fault = "html503", count = 1.5 }, { fault = "html503", path = "[" }, { fault = "html503", path = 5 } }) do
      local b, status = S.admin("POST", "/_emulator/faults", body)
      assert.are.equal(400, status, S.encode(body))
      assert.is_string(b.error)
    end
  end)
end)
