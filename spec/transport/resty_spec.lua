-- The SDK inside nginx: examples/nginx runs in a real nginx worker with the resty
-- (cosocket) transport, talking to the emulator; we drive it over HTTP.
local smartcar = require "smartcar"
local browser = require "smartcar_emulator.browser"
local H = require "helper"
local nginx = require "support.nginx"

describe("the OpenResty transport in a real nginx", function()
  local server, origin
  setup(function()
    H.reset()
    H.configure()
    local example = assert(io.open("examples/nginx/nginx.conf")):read("*a")
    local env = ("SMARTCAR_API_ORIGIN=%s SMARTCAR_AUTH_ORIGIN=%s SMARTCAR_CONNECT_ORIGIN=%s " ..
      "SMARTCAR_CLIENT_ID=%s SMARTCAR_CLIENT_SECRET=%s SMARTCAR_REDIRECT_URI=%s SMARTCAR_MANAGEMENT_TOKEN=%s")
      :format(H.origin, H.origin, H.origin, H.CLIENT_ID, H.CLIENT_SECRET, H.REDIRECT_URI, H.AMT)
    server = nginx.start(function(port, prefix, root)
      return (example:gsub("daemon off;", "daemon on;")
        :gsub("error_log stderr notice;", "error_log " .. prefix .. "/error.log notice;")
        :gsub("pid [^;]+;", "pid " .. prefix .. "/nginx.pid;")
        :gsub('"lua/', '"' .. root .. "/lua/"):gsub(";lua/", ";" .. root .. "/lua/")
        :gsub(";examples/", ";" .. root .. "/examples/"):gsub('"build/', '"' .. root .. "/build/")
        :gsub("_temp_path /tmp", "_temp_path " .. prefix)
        :gsub("listen 127%.0%.0%.1:8000;", "listen 127.0.0.1:" .. port .. ";"))
    end, env)
    origin = server.origin
  end)

  teardown(function() server.stop() end)

  it("runs Connect, the token exchange and vehicle reads from inside nginx", function()
    local connect = assert(H.http("GET", origin .. "/connect?state=ngx-1"))
    local status, headers = connect.status, connect.headers
    assert.are.equal(302, status)
    local authorize = headers.location
    assert.are.equal(H.origin .. "/oauth/authorize?", authorize:sub(1, #H.origin + 17))
    local location = assert(browser.connect(authorize, { email = "driver@example.com" }))
    local query = location:match("%?(.*)$")
    H.clear()
    local callback = assert(H.http("GET", origin .. "/callback?" .. query))
    local s, body = callback.status, callback.body
    assert.are.equal(200, s, body)
    local res = require("smartcar.core").decode(body)
    assert.are.equal("ngx-1", res.state)
    assert.is_number(res.distance)
    assert.is_string(res.requestId)
    local reqs = H.requests()
    assert.are.equal("/oauth/token", reqs[1].path)
    assert.matches("LuaJIT", reqs[1].headers["user-agent"])
    assert.are.equal(reqs[2].connection, reqs[#reqs].connection) -- the cosocket pool keeps the connection
  end)

  it("receives webhooks: answers the challenge and checks signatures on the raw body", function()
    local verify = H.admin("POST", "/_emulator/webhooks/verify", { url = origin .. "/webhook" })
    assert.is_true(verify.verified)
    assert.are.equal(200, verify.status)
    local delivery = H.admin("POST", "/_emulator/webhooks/deliver", { url = origin .. "/webhook" })
    assert.are.equal(200, delivery.status)
    assert.are.equal('{"received":"VEHICLE_STATE"}', (delivery.response:gsub("%s+$", "")))
    assert.is_true(smartcar.verifyPayload(H.AMT, delivery.signature, delivery.body))
    local forged = H.admin("POST", "/_emulator/webhooks/deliver", { url = origin .. "/webhook", amt = "not-the-amt" })
    assert.are.equal(401, forged.status)
    local wrong = H.admin("POST", "/_emulator/webhooks/verify", { url = origin .. "/webhook", amt = "not-the-amt" })
    assert.is_false(wrong.verified)
  end)
end)
