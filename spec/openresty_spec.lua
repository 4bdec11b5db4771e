-- The demo app of examples/openresty, started by its own run script in a real nginx against the
-- emulator, and used with a real browser: spec/browser/connect.js drives headless Chromium (Debian's
-- /usr/bin/chromium, through playwright-core from npm in build/npm) through /login, the emulator's
-- Connect pages and back to /callback, once allowing and once denying. The rest (state, escaping,
-- stored and refreshed tokens, webhooks) is checked over plain HTTP.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local H = require "helper"
local shell = require "support.shell"

local PLAYWRIGHT = "1.65.1"
local CHROMIUM = os.getenv("CHROMIUM") or "/usr/bin/chromium"
-- An emulator app of its own, registered with this nginx's callback.
local APP = { clientId = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f", clientSecret = "openresty-demo-secret",
  amt = "openresty-demo-amt", name = "OpenResty demo" }
-- The first vehicle of 3-vehicles@smartcar.com, the account spec/browser/connect.js signs in with.
local TESLA = { id = "0cca8a88-aed3-423b-9363-e3d72349260d", make = "TESLA", model = "Model 3", year = "2021" }

local read, sh = shell.read, shell.sh

local function installed_playwright()
  local json = read("build/npm/node_modules/playwright-core/package.json")
  return json and core.decode(json).version
end

describe("the OpenResty demo app in a browser", function()
  local origin, prefix, browse

  setup(function()
    assert(io.open(CHROMIUM), "no " .. CHROMIUM .. ": scripts/deps installs Debian's chromium"):close()
    if installed_playwright() ~= PLAYWRIGHT then -- the library only: it never downloads a browser
      local status, _, err = sh("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix build/npm --no-save " ..
        "--no-audit --no-fund --silent playwright-core@" .. PLAYWRIGHT)
      assert(status == 0 and installed_playwright() == PLAYWRIGHT, "npm install playwright-core failed: " .. err)
    end
    H.reset()
    origin, prefix = shell.start_example("openresty", function(at)
      return ("env -u SMARTCAR_API_ORIGIN -u SMARTCAR_AUTH_ORIGIN -u SMARTCAR_CONNECT_ORIGIN " ..
        "-u SMARTCAR_API_V3_ORIGIN -u SMARTCAR_MANAGEMENT_API_ORIGIN SMARTCAR_EMULATOR_ORIGIN=%s " ..
        "SMARTCAR_CLIENT_ID=%s SMARTCAR_CLIENT_SECRET=%s SMARTCAR_REDIRECT_URI=%s/callback " ..
        "SMARTCAR_MANAGEMENT_TOKEN=%s"):format(H.origin, APP.clientId, APP.clientSecret, at, APP.amt)
    end, "the demo app")
    local _, registered = H.admin("POST", "/_emulator/apps", { clientId = APP.clientId,
      clientSecret = APP.clientSecret, redirectUris = { origin .. "/callback" }, amt = APP.amt, name = APP.name })
    assert.are.equal(200, registered)

    -- The browser runs once (both flows, one Chromium); the tests below read its report.
    local results
    browse = function()
      if not results then
        local status, out, err = sh(("node spec/browser/connect.js %s build"):format(origin))
        results = { status = status, report = core.decode(out or "") or {}, stderr = err, stdout = out }
      end
      return results
    end
  end)

  teardown(function()
    shell.stop_example("openresty", prefix)
    H.reset() -- the clock moved, an app was added: the next spec starts from a fresh emulator
  end)

  local function app_log() return read(prefix .. "/logs/error.log") or "" end

  local function report(decision)
    local r = browse()
    return assert(r.report[decision], ("connect.js (exit %s) reported no %s flow: %s%s")
      :format(tostring(r.status), decision, tostring(r.stderr), tostring(r.stdout)))
  end

  it("runs the browser through Connect and both flows pass", function()
    local r = browse()
    assert.are.equal(0, r.status, "connect.js: " .. tostring(r.stderr) .. tostring(r.stdout) .. app_log())
    assert.are.same({}, report("approve").problems)
    assert.are.same({}, report("deny").problems)
  end)

  it("lands on /callback and shows every vehicle's attributes, then the same from the stored tokens", function()
    local approve = report("approve")
    assert.are.equal(200, approve.status)
    assert.matches("^" .. origin:gsub("%p", "%%%0") .. "/callback%?code=", approve.url)
    assert.are.equal("Your vehicles", approve.title)
    assert.are.equal(3, #approve.vehicles)
    assert.are.same(TESLA, approve.vehicles[1])
    assert.are.same({ make = "FORD", model = "F-150", year = "2020", id = approve.offered[3].id }, approve.vehicles[3])
    assert.are.same(approve.vehicles, approve.reloaded)
    assert.are.equal(200, approve.reloadStatus)
    assert.are.equal("\137PNG", read("build/openresty-vehicle.png"):sub(1, 4))
  end)

  it("keeps the tokens server-side: the browser holds only an opaque HttpOnly session id", function()
    local approve = report("approve")
    assert.are.equal(1, #approve.cookies)
    assert.are.equal("sc_demo_session", approve.cookies[1].name)
    assert.matches("^%x+$", approve.cookies[1].value)
    assert.is_true(approve.cookies[1].httpOnly)
    local token -- the access token the app used, as the emulator saw it
    for _, req in ipairs(H.requests()) do
      if req.path == "/v2.0/vehicles" then token = req.headers.authorization:match("^Bearer (.+)$") end
    end
    assert.is_string(token)
    assert.is_nil(approve.html:find(token, 1, true))
    assert.are_not.equal(token, approve.cookies[1].value)
  end)

  it("shows Connect's error and its description when the user denies access", function()
    local deny = report("deny")
    assert.are.equal(200, deny.status)
    assert.are.equal("Connect did not finish", deny.title)
    assert.are.equal("access_denied", deny.error)
    assert.are.equal("User denied access to application.", deny.description)
    assert.are.equal("\137PNG", read("build/openresty-denied.png"):sub(1, 4))
  end)

  it("refreshes expired stored tokens on /vehicle and saves the rotated ones", function()
    local cookie = { cookie = "sc_demo_session=" .. report("approve").cookies[1].value }
    H.admin("POST", "/_emulator/clock", { advance = 7201 }) -- the stored access token is dead now
    H.admin("DELETE", "/_emulator/stats")
    for round = 1, 2 do
      local res = assert(H.http("GET", origin .. "/vehicle", cookie))
      assert.are.equal(200, res.status, res.body)
      assert.matches('<td class="make">TESLA</td><td class="model">Model 3</td><td class="year">2021</td>', res.body,
        1, true)
      assert.is_nil(res.body:find("vehicle-error", 1, true))
      -- one refresh for the three concurrent reads, and none the second time: the new tokens were saved
      assert.are.equal(1, H.stats().tokenRequests.refresh_token, "round " .. round)
    end
    local none = assert(H.http("GET", origin .. "/vehicle"))
    assert.are.equal(401, none.status)
  end)

  it("checks state against the session, once, and escapes what Connect sends back", function()
    local login = assert(H.http("GET", origin .. "/login"))
    assert.are.equal(302, login.status)
    local sid = login.headers["set-cookie"]:match("^sc_demo_session=(%x+);")
    local state = login.headers.location:match("[?&]state=(%x+)")
    assert.is_string(sid)
    assert.is_string(state)
    assert.are.equal(H.origin .. "/oauth/authorize?", login.headers.location:sub(1, #H.origin + 17))
    local cookie = { cookie = "sc_demo_session=" .. sid }
    local function callback(query, headers) return assert(H.http("GET", origin .. "/callback?" .. query, headers)) end

    local forged = callback("code=abc&state=not-" .. state, cookie)
    assert.are.equal(400, forged.status)
    assert.matches("invalid_state", forged.body, 1, true)
    assert.are.equal(400, callback("code=abc&state=" .. state).status) -- no session cookie

    local hostile = callback("error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=%22%3E%3Cimg%20src%3Dx%3E" ..
      "&state=" .. state, cookie)
    assert.are.equal(200, hostile.status)
    assert.matches("&lt;script&gt;alert(1)&lt;/script&gt;", hostile.body, 1, true)
    assert.matches("&quot;&gt;&lt;img src=x&gt;", hostile.body, 1, true)
    assert.is_nil(hostile.body:find("<script", 1, true))
    assert.is_nil(hostile.body:find("<img", 1, true))
    assert.are.equal(400, callback("code=abc&state=" .. state, cookie).status) -- a state is good once
  end)

  it("is documented with its nginx.conf as it is, in its README and the project's", function()
    for _, path in ipairs { "examples/openresty/README.md", "README.md" } do
      assert.are.equal(read("examples/openresty/nginx.conf"), read(path):match("\n```nginx\n(.-)```"), path)
    end
  end)

  it("receives webhooks of any size: the challenge, and SC-Signature on the raw body", function()
    local url = origin .. "/webhook"
    local verify = H.admin("POST", "/_emulator/webhooks/verify", { url = url, amt = APP.amt })
    assert.is_true(verify.verified)
    local small = H.admin("POST", "/_emulator/webhooks/deliver", { url = url, amt = APP.amt })
    assert.are.equal(200, small.status)
    assert.are.equal('{"received":"VEHICLE_STATE"}', (small.response:gsub("%s+$", "")))
    -- past client_body_buffer_size (128k): nginx writes the body to a file, the app reads it there
    local big = H.admin("POST", "/_emulator/webhooks/deliver", { url = url, amt = APP.amt, payload = {
      eventId = "e-big", eventType = "VEHICLE_STATE", data = { padding = ("x"):rep(300000) } } })
    assert.are.equal(200, big.status, big.response .. app_log())
    assert.is_true(smartcar.verifyPayload(APP.amt, big.signature, big.body))
    assert.matches("buffered to a temporary file", app_log(), 1, true)
    assert.matches("webhook VEHICLE_STATE e-big, " .. #big.body .. " bytes", app_log(), 1, true)
    local forged = H.admin("POST", "/_emulator/webhooks/deliver", { url = url, amt = "not-the-amt" })
    assert.are.equal(401, forged.status)
    local wrong = H.admin("POST", "/_emulator/webhooks/verify", { url = url, amt = "not-the-amt" })
    assert.is_false(wrong.verified)
  end)
end)
