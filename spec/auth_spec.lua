-- AuthClient: the Connect URL, byte for byte as the official Node SDK builds it,
-- and the token exchange against the emulator's token endpoint.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local H = require "helper"

local ID = H.CLIENT_ID
local BASE = "https://connect.smartcar.com/oauth/authorize?response_type=code&client_id=" .. ID

describe("AuthClient.new", function()
  it("validates its options", function()
    assert.has_error(function() smartcar.AuthClient.new { clientId = "a", clientSecret = "b", mode = "prod" } end,
      "bad option 'mode' to 'AuthClient.new' (expected 'test', 'live' or 'simulated', got 'prod')")
    assert.has_error(function() smartcar.AuthClient.new { clientId = "a", clientSecret = "b", colour = 1 } end,
      "unknown option 'colour' to 'AuthClient.new'")
    assert.has_error(function() smartcar.AuthClient.new("a") end,
      "bad argument #1 to 'AuthClient.new' (table expected, got string)")
    assert.has_error(function() smartcar.AuthClient.new { clientId = "a", clientSecret = 5 } end,
      "bad option 'clientSecret' to 'AuthClient.new' (string expected, got number)")
    if not os.getenv("SMARTCAR_CLIENT_SECRET") then
      assert.has_error(function() smartcar.AuthClient.new { clientId = "a" } end,
        "bad option 'clientSecret' to 'AuthClient.new' (missing: pass options.clientSecret or set SMARTCAR_CLIENT_SECRET)")
    end
  end)

  it("defaults to live mode and exposes only public fields", function()
    local c = smartcar.AuthClient.new { clientId = "a", clientSecret = "b", redirectUri = "https://x/cb" }
    assert.are.equal("live", c.mode)
    assert.are.equal("a", c.clientId)
    assert.are.equal("https://x/cb", c.redirectUri)
    assert.is_nil(c.clientSecret)
    assert.are.equal("simulated", smartcar.AuthClient.new { clientId = "a", clientSecret = "b", mode = "simulated" }.mode)
  end)

  -- In a child process, so the environment can be set: credentials fall back to
  -- SMARTCAR_CLIENT_ID / SMARTCAR_CLIENT_SECRET / SMARTCAR_REDIRECT_URI.
  local function child(env, code)
    local lua = arg and arg[-1] or "lua"
    local cpath = package.cpath:match("^[^;]+")
    local cmd = ("env -u SMARTCAR_CLIENT_ID -u SMARTCAR_CLIENT_SECRET -u SMARTCAR_REDIRECT_URI %s %s -e %q 2>&1")
      :format(env, lua, ("package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path; " ..
        "package.cpath = '%s;' .. package.cpath; local smartcar = require 'smartcar'; %s"):format(cpath, code))
    local p = assert(io.popen(cmd))
    local out = p:read("*a")
    p:close()
    return out
  end

  it("falls back to the environment for credentials", function()
    assert.are.equal("env-id http://localhost/cb live\n", child(
      "SMARTCAR_CLIENT_ID=env-id SMARTCAR_CLIENT_SECRET=env-secret SMARTCAR_REDIRECT_URI=http://localhost/cb",
      "local c = smartcar.AuthClient.new(); print(c.clientId, c.redirectUri, c.mode)"):gsub("\t", " "))
    assert.matches("bad option 'clientId' to 'AuthClient.new' %(missing: pass options.clientId or set SMARTCAR_CLIENT_ID%)",
      child("", "smartcar.AuthClient.new{ clientSecret = 's' }"))
    assert.matches("bad option 'clientSecret' to 'AuthClient.new' %(missing: pass options.clientSecret or set " ..
      "SMARTCAR_CLIENT_SECRET%)",
      child("SMARTCAR_CLIENT_ID=x", "smartcar.AuthClient.new()"))
  end)

  it("warns once on stderr about testMode", function()
    local out = child("", "for _ = 1, 3 do smartcar.AuthClient.new{ clientId = 'a', clientSecret = 'b', testMode = true } end")
    local _, n = out:gsub("deprecated", "")
    assert.are.equal(1, n)
  end)

  it("maps the deprecated testMode to mode", function()
    assert.are.equal("test", smartcar.AuthClient.new { clientId = "a", clientSecret = "b", testMode = true }.mode)
    assert.are.equal("live", smartcar.AuthClient.new { clientId = "a", clientSecret = "b", testMode = false }.mode)
  end)
end)

describe("AuthClient:getAuthUrl", function()
  local client, bare
  setup(function()
    smartcar.configure { connectOrigin = "https://connect.smartcar.com" }
    client = smartcar.AuthClient.new { clientId = ID, clientSecret = "s", redirectUri = "https://example.com/callback",
      mode = "test" }
    bare = smartcar.AuthClient.new { clientId = ID, clientSecret = "s" }
  end)
  teardown(function() H.configure() end)

  -- Expected URLs are the output of the official Node SDK 10.4 for the same inputs.
  local R = "&redirect_uri=https%3A%2F%2Fexample.com%2Fcallback"
  local cases = {
    { nil, nil, "&approval_prompt=auto" .. R .. "&mode=test" },
    { { "read_odometer", "required:read_location" }, nil,
      "&approval_prompt=auto" .. R .. "&scope=read_odometer%20required%3Aread_location&mode=test" },
    { { "read_odometer", "read_vehicle_info" },
      { forcePrompt = true, state = "0facda3319", makeBypass = "TESLA", flags = { country = "DE", flag = "suboption" } },
      "&approval_prompt=force" .. R .. "&scope=read_odometer%20read_vehicle_info&state=0facda3319&make=TESLA" ..
      "&flags=country%3ADE%20flag%3Asuboption&mode=test" },
    { { "read_vin" }, { singleSelect = { enabled = true }, user = "user 42/\195\188" },
      "&approval_prompt=auto" .. R .. "&scope=read_vin&single_select=true&user=user%2042%2F%C3%BC&mode=test" },
    { { "read_vin" }, { singleSelect = { enabled = false } },
      "&approval_prompt=auto" .. R .. "&scope=read_vin&single_select=false&mode=test" },
    { { "read_vin" }, { singleSelect = { vin = "0SCAUDI037A5ADB1C" }, state = "a b&c=d!*'()~" },
      "&approval_prompt=auto" .. R .. "&scope=read_vin&state=a%20b%26c%3Dd!*'()~&single_select=true" ..
      "&single_select_vin=0SCAUDI037A5ADB1C&mode=test" },
    -- empty strings say nothing: left out, as Node leaves out what is falsy
    { { "read_vin" }, { state = "", makeBypass = "", user = "", externalId = "" },
      "&approval_prompt=auto" .. R .. "&scope=read_vin&mode=test" },
  }
  for i, case in ipairs(cases) do
    it("builds case " .. i .. " exactly", function()
      assert.are.equal(BASE .. case[3], client:getAuthUrl(case[1], case[2]))
    end)
  end

  it("takes the options as the only argument, and omits an unset redirect URI", function()
    assert.are.equal(BASE .. "&approval_prompt=auto&state=x&mode=live", bare:getAuthUrl { forcePrompt = false, state = "x" })
  end)

  it("raises on bad arguments", function()
    assert.has_error(function() client:getAuthUrl { "read_vin", 5 } end,
      "bad argument #1 to 'getAuthUrl' (scope entry 2 must be a string, got number)")
    assert.has_error(function() client:getAuthUrl("read_vin") end,
      "bad argument #1 to 'getAuthUrl' (table expected, got string)")
    assert.has_error(function() client:getAuthUrl({ "read_vin" }, "x") end,
      "bad argument #2 to 'getAuthUrl' (table expected, got string)")
    assert.has_error(function() client:getAuthUrl({ "read_vin" }, { forcePromt = true }) end,
      "unknown option 'forcePromt' to 'getAuthUrl'")
    assert.has_error(function() client:getAuthUrl({ "read_vin" }, { forcePrompt = "yes" }) end,
      "bad option 'forcePrompt' to 'getAuthUrl' (boolean expected, got string)")
  end)
end)

describe("smartcar.parseCallback", function()
  it("decodes every parameter of the redirect from a full URL", function()
    local cb = smartcar.parseCallback("https://example.com/callback?code=90abecb6-e7ab-4b85-864a-e1c8bf67f2ad" ..
      "&state=a%20b%26c%3Dd%2F%C3%A9+%2B&error=vehicle_incompatible&error_description=User+denied+access." ..
      "&vin=0SCAUDI012FE3B132&make=AUDI&model=A4%20Avant&year=2015&user_id=u-1&status_code=400#section")
    assert.are.same({ code = "90abecb6-e7ab-4b85-864a-e1c8bf67f2ad", state = "a b&c=d/é +", error = "vehicle_incompatible",
      errorDescription = "User denied access.", vin = "0SCAUDI012FE3B132", make = "AUDI", model = "A4 Avant",
      year = 2015, userId = "u-1" }, cb)
    if math.type then assert.are.equal("integer", math.type(cb.year)) end
  end)

  it("takes just the query string, with or without its ?", function()
    assert.are.same({ code = "c1", state = "s" }, smartcar.parseCallback("code=c1&state=s"))
    assert.are.same({ code = "c1", state = "s" }, smartcar.parseCallback("?code=c1&state=s"))
    assert.are.same({ error = "access_denied", errorDescription = "User denied access to application.", state = "0f" },
      smartcar.parseCallback("error=access_denied&error_description=User+denied+access+to+application.&state=0f"))
  end)

  it("leaves absent keys absent", function()
    assert.are.same({}, smartcar.parseCallback("https://example.com/callback"))
    assert.are.same({}, smartcar.parseCallback("/callback"))
    assert.are.same({}, smartcar.parseCallback(""))
    assert.are.same({}, smartcar.parseCallback("https://example.com/callback?"))
    assert.are.same({}, smartcar.parseCallback("https://example.com/callback#code=not-a-query"))
    assert.are.same({ code = "x" }, smartcar.parseCallback("foo=1&code=x&&bar"))
  end)

  it("keeps odd values as they are", function()
    local cb = smartcar.parseCallback("code=x&code=y&year=20x1&state=&vin=%4&make=%zz%41")
    assert.are.same({ code = "x", year = "20x1", state = "", vin = "%4", make = "%zzA" }, cb) -- the first of a repeat
    assert.are.equal(2015, smartcar.parseCallback("year=02015").year)
    assert.are.equal("99999999999999999999", smartcar.parseCallback("year=99999999999999999999").year)
  end)

  it("raises on a bad argument type, blaming the caller", function()
    assert.has_error(function() smartcar.parseCallback(nil) end,
      "bad argument #1 to 'parseCallback' (string expected, got nil)")
    assert.has_error(function() smartcar.parseCallback({ code = "x" }) end,
      "bad argument #1 to 'parseCallback' (string expected, got table)")
    local ok, err = pcall(function() smartcar.parseCallback(42) end)
    assert.is_false(ok)
    assert.matches("^[^:]*auth_spec%.lua:%d+: bad argument #1 to 'parseCallback' %(string expected, got number%)$", err)
  end)
end)

describe("the Connect flow against the emulator", function()
  local client
  before_each(function()
    H.reset()
    H.configure()
    client = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
      redirectUri = H.REDIRECT_URI, mode = "test" }
  end)

  local function consent(email, approve, state)
    local url = client:getAuthUrl({ "read_odometer", "read_vehicle_info", "required:read_location" },
      { state = state or "st-1" })
    local res = H.admin("POST", "/_emulator/authorize", { url = url, email = email or "driver@example.com",
      approve = approve ~= false })
    local base, query = res.location:match("^([^?]*)%?(.*)$")
    assert.are.equal(H.REDIRECT_URI, base)
    return H.form(query)
  end

  it("completes consent by following the Connect pages, as a browser would", function()
    local browser = require "smartcar_emulator.browser"
    local steps = {}
    local url = client:getAuthUrl({ "read_odometer", "read_vehicle_info" }, { state = "s-42" })
    local location = assert(browser.connect(url, { email = "driver@example.com", make = "TESLA",
      log = function(step) steps[#steps + 1] = step end }))
    assert.are.same({ "Continue", "Choose brand TESLA", "Sign in as driver@example.com", "Allow access" }, steps)
    local redirect = H.form(location:match("%?(.*)$"))
    assert.are.equal("s-42", redirect.state)
    local access = assert(client:exchangeCode(redirect.code))
    assert(smartcar.getUser(access.accessToken))
    local denied = assert(browser.connect(url, { email = "driver@example.com", approve = false }))
    assert.are.equal("access_denied", H.form(denied:match("%?(.*)$")).error)
  end)

  it("exchanges a code, sending exactly the token request of the official SDKs", function()
    local redirect = consent()
    assert.are.equal("st-1", redirect.state)
    H.clear()
    local before = os.time()
    local access = assert(client:exchangeCode(redirect.code))
    local r = H.last()
    assert.are.equal("POST", r.method)
    assert.are.equal("/oauth/token", r.path)
    assert.are.equal("", r.query)
    assert.are.equal("Basic " .. core.base64(H.CLIENT_ID .. ":" .. H.CLIENT_SECRET), r.headers.authorization)
    assert.are.equal("application/x-www-form-urlencoded", r.headers["content-type"])
    assert.are.equal("code=" .. redirect.code .. "&grant_type=authorization_code" ..
      "&redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fcallback", r.body)
    assert.are.equal("string", type(access.accessToken))
    assert.are.equal("string", type(access.refreshToken))
    assert.is_true(access.expiration >= before + 7200 and access.expiration <= os.time() + 7200)
    assert.is_true(access.refreshExpiration >= before + 60 * 86400)
    assert.is_false(smartcar.isExpired(access.expiration))
    assert.is_true(smartcar.isExpired(os.time() - 1))
    local vehicles = assert(smartcar.getVehicles(access.accessToken))
    assert.is_true(#vehicles.vehicles >= 1)
  end)

  it("sends flags on the token request's query", function()
    local redirect = consent()
    H.clear()
    assert(client:exchangeCode(redirect.code, { flags = { country = "DE" } }))
    assert.are.equal("flags=country%3ADE", H.last().query)
  end)

  it("refreshes, rotating the refresh token", function()
    local access = assert(client:exchangeCode(consent().code))
    H.clear()
    local renewed = assert(client:exchangeRefreshToken(access.refreshToken))
    assert.are.equal("grant_type=refresh_token&refresh_token=" .. access.refreshToken, H.last().body)
    assert.are_not.equal(access.refreshToken, renewed.refreshToken)
    assert.are_not.equal(access.accessToken, renewed.accessToken)
    assert(smartcar.getUser(renewed.accessToken))
    H.admin("POST", "/_emulator/clock", { advance = 600 })
    local res, err = client:exchangeRefreshToken(access.refreshToken)
    assert.is_nil(res)
    assert.are.equal(400, err.statusCode)
    assert.are.equal("invalid_request", err.type)
  end)

  it("rejects a reused code", function()
    local code = consent().code
    assert(client:exchangeCode(code))
    local res, err = client:exchangeCode(code)
    assert.is_nil(res)
    assert.are.equal(400, err.statusCode)
    assert.are.equal("invalid_request", err.type)
    assert.are.equal("invalid_request - Invalid code: [REDACTED].", err.message)
  end)

  it("rejects a wrong client secret", function()
    local code = consent().code
    local wrong = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = "nope", redirectUri = H.REDIRECT_URI }
    local res, err = wrong:exchangeCode(code)
    assert.is_nil(res)
    assert.are.equal(401, err.statusCode)
    assert.are.equal("invalid_client", err.type)
  end)

  it("rejects a redirect URI that differs from the authorize request's", function()
    local code = consent().code
    local other = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
      redirectUri = "https://example.com/callback" }
    local res, err = other:exchangeCode(code)
    assert.is_nil(res)
    assert.are.equal(400, err.statusCode)
    assert.are.equal("invalid_grant", err.type)
  end)

  it("rejects an expired refresh token and an expired code", function()
    local code = consent().code
    local access = assert(client:exchangeCode(code))
    local late = consent().code
    H.admin("POST", "/_emulator/clock", { advance = 61 * 86400 })
    local _, err = client:exchangeRefreshToken(access.refreshToken)
    assert.are.equal("invalid_request", err.type)
    local _, err2 = client:exchangeCode(late)
    assert.are.equal("invalid_request", err2.type)
  end)

  it("parseCallback() reads the emulator's redirects: a code to exchange, or an error with the vehicle", function()
    local state = "a b&c=d/é"
    local url = client:getAuthUrl({ "read_odometer" }, { state = state })
    local ok = H.admin("POST", "/_emulator/authorize", { url = url, email = "driver@example.com", approve = true })
    local cb = smartcar.parseCallback(ok.location)
    assert.are.equal(state, cb.state)
    assert.is_string(cb.code)
    assert.is_nil(cb.error)
    assert(client:exchangeCode(cb.code))
    local bad = H.admin("POST", "/_emulator/authorize", { url = url, email = "smartcar@vehicle-incompatible.com",
      approve = true })
    assert.are.same({ error = "vehicle_incompatible", errorDescription = "The user’s vehicle is not compatible.",
      vin = "0SCAUDI012FE3B132", make = "AUDI", model = "A4", year = 2015, state = state },
      smartcar.parseCallback(bad.location))
    local denied = H.admin("POST", "/_emulator/authorize", { url = url, email = "driver@example.com", approve = false })
    local no = smartcar.parseCallback(denied.location:match("%?.*$"))
    assert.are.same({ "access_denied", state }, { no.error, no.state })
    assert.is_nil(no.code)
  end)

  it("returns access_denied when the user denies", function()
    local redirect = consent("driver@example.com", false)
    assert.are.equal("access_denied", redirect.error)
    assert.are.equal("st-1", redirect.state)
    assert.is_nil(redirect.code)
  end)

  it("raises on bad arguments before any request", function()
    H.clear()
    assert.has_error(function() client:exchangeCode(nil) end,
      "bad argument #1 to 'exchangeCode' (string expected, got nil)")
    assert.has_error(function() client:exchangeRefreshToken(42) end,
      "bad argument #1 to 'exchangeRefreshToken' (string expected, got number)")
    assert.has_error(function() client:exchangeCode("c", 5) end,
      "bad argument #2 to 'exchangeCode' (table expected, got number)")
    assert.has_error(function() client:exchangeCode("c", { flag = {} }) end,
      "unknown option 'flag' to 'exchangeCode'")
    assert.are.equal(0, #H.requests())
  end)
end)
