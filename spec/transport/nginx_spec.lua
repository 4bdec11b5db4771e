-- Inside nginx with no transport configured: a handler that only requires the SDK and
-- reads an odometer does not block its worker (the cosocket transport is chosen for
-- the phase), fanOut runs on light threads, and a phase without cosockets gets a
-- clear SmartcarError instead of a blocked worker or an nginx internal error.
local smartcar = require "smartcar"
local socket = require "socket"
local H = require "helper"
local nginx = require "support.nginx"

local CONF = [[
env SMARTCAR_API_ORIGIN;
events { worker_connections 1024; }
http {
  lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;;";
  lua_package_cpath "%s/build/luajit/?.so;;";
  access_log off; %s
  init_by_lua_block { require "smartcar" }
  init_worker_by_lua_block {
    -- no request is being served: libcurl, blocking harmlessly
    local smartcar = require "smartcar"
    local _, err = smartcar.getUser("not-a-token")
    ngx.log(ngx.ERR, "SMARTCAR-IN-INIT-WORKER ", err.type, " ", err.statusCode, "|")
    -- no coroutine may be made here: smartcar.all runs its tasks one after the other
    local values, errors = smartcar.all { function() return smartcar.getUser("not-a-token") end }
    ngx.log(ngx.ERR, "SMARTCAR-ALL-IN-INIT-WORKER ", tostring(values[1]), " ", errors[1].statusCode, "|")
    -- the cosocket transport, set explicitly, answers that it cannot run here (it does not raise)
    local sc = smartcar.new { transport = require("smartcar.transport.resty").new() }
    local _, rerr = sc.getUser("not-a-token")
    ngx.log(ngx.ERR, "SMARTCAR-RESTY-IN-INIT-WORKER ", rerr.code, "|")
  }
  server {
    listen 127.0.0.1:%d;
    location = /odometer { content_by_lua_block {
      local smartcar = require "smartcar"
      local res, err = smartcar.Vehicle.new(ngx.var.arg_id, ngx.var.arg_token):odometer()
      ngx.say(res and res.distance or err.message)
    } }
    location = /ping { content_by_lua_block { ngx.say("pong") } }
    location = /v3token { content_by_lua_block {
      -- API V3: eight light threads ask one Application for its token at once
      local sc = require("smartcar").new { origin = ngx.var.arg_origin }
      local app = sc.Application.new { clientId = ngx.var.arg_id, clientSecret = ngx.var.arg_secret }
      local threads, seen, n = {}, {}, 0
      for i = 1, 8 do threads[i] = ngx.thread.spawn(function() return app:token() end) end
      for i = 1, 8 do
        local _, tok = ngx.thread.wait(threads[i])
        if tok and not seen[tok] then seen[tok], n = true, n + 1 end
      end
      ngx.say(n)
    } }
    location = /retrying { content_by_lua_block {
      local sc = require("smartcar").new { retry = { attempts = 2, baseDelay = 500, maxDelay = 500 } }
      local res, err = sc.Vehicle.new(ngx.var.arg_id, ngx.var.arg_token):odometer()
      ngx.say(res and res.distance or err.message)
    } }
    location = /fanout { content_by_lua_block {
      local smartcar = require "smartcar"
      local vehicles = {}
      for id in ngx.var.arg_ids:gmatch("[^,]+") do vehicles[#vehicles + 1] = smartcar.Vehicle.new(id, ngx.var.arg_token) end
      ngx.update_time()
      local t0 = ngx.now()
      local results = smartcar.fanOut(vehicles, "odometer", { concurrency = 64 })
      ngx.update_time()
      local ok = 0
      for i = 1, #vehicles do if results[i] then ok = ok + 1 end end
      ngx.say(ok, " ", ngx.now() - t0)
    } }
    location = /filtered {
      content_by_lua_block { ngx.say("ok") }
      header_filter_by_lua_block {
        local _, err = require("smartcar").getUser("t")
        ngx.log(ngx.ERR, "SMARTCAR-IN-HEADER-FILTER ", err.code, "|")
      }
    }
    location = /logged {
      content_by_lua_block { ngx.say("ok") }
      log_by_lua_block {
        local smartcar = require "smartcar"
        local _, err = smartcar.getUser("t")
        ngx.log(ngx.ERR, "SMARTCAR-IN-LOG ", err.type, " ", err.code, " ", err.description, "|")
        local values, errors = smartcar.all { function() return smartcar.getUser("t") end }
        ngx.log(ngx.ERR, "SMARTCAR-ALL-IN-LOG ", tostring(values[1]), " ", errors[1].code, "|")
      }
    }
    location = /apptoken { content_by_lua_block {
      -- one Application for the worker, its token fetched slowly (the spec delays the token endpoint)
      local app = package.loaded["nginx_spec.app"]
      if not app then
        app = require("smartcar").new({ origin = ngx.var.arg_origin }).Application.new {
          clientId = ngx.var.arg_id, clientSecret = ngx.var.arg_secret }
        package.loaded["nginx_spec.app"] = app
      end
      local tok, err = app:token()
      ngx.say(tok and "a token" or err.message)
    } }
    location = /apptoken-in-log {
      content_by_lua_block { ngx.say("ok") }
      header_filter_by_lua_block {
        -- coroutines are allowed here, waits are not: a task of smartcar.all does not wait either
        ngx.update_time()
        local t0 = ngx.now()
        local app = package.loaded["nginx_spec.app"]
        local _, errors = require("smartcar").all { function() return app:token() end }
        ngx.update_time()
        ngx.log(ngx.ERR, "SMARTCAR-ALL-TOKEN-IN-HEADER-FILTER ", errors[1] and errors[1].code, " ",
          ("%%.3f"):format(ngx.now() - t0), "|")
      }
      log_by_lua_block {
        -- the token is being fetched by another request: waiting here would hold the worker
        ngx.update_time()
        local t0 = ngx.now()
        local tok, err = package.loaded["nginx_spec.app"]:token()
        ngx.update_time()
        ngx.log(ngx.ERR, "SMARTCAR-TOKEN-IN-LOG ", tok and "a token" or err.code, " ",
          ("%%.3f"):format(ngx.now() - t0), "|")
      }
    }
  }
}
]]

describe("the SDK inside nginx, with no transport configured", function()
  local server, token, ids

  -- The first line of the error log matching `pattern`, once the worker has written it.
  local function logged(pattern)
    for _ = 1, 20 do
      local line = server.log():match(pattern)
      if line then return line end
      socket.sleep(0.05)
    end
  end
  setup(function()
    H.reset()
    server = nginx.start(function(port, prefix, root)
      return nginx.preamble(prefix) .. CONF:format(root, root, root, nginx.temp_paths(prefix), port)
    end, "SMARTCAR_API_ORIGIN=" .. H.origin)
    local t = H.admin("POST", "/_emulator/tokens", { email = "fleet@example.com", vehicles = 50 })
    token, ids = t.access_token, t.vehicles
  end)
  teardown(function()
    H.admin("POST", "/_emulator/config", { latency = 0 })
    if server then server.stop() end
  end)

  it("serves 20 concurrent odometer reads of 200 ms in under 1 s, and a ping meanwhile in under 50 ms", function()
    H.admin("POST", "/_emulator/config", { latency = 200 })
    local loop = smartcar.loop { concurrency = 20 }
    local jobs = {}
    local t0 = socket.gettime()
    for i = 1, 20 do
      jobs[i] = loop:run(function()
        return H.http("GET", ("%s/odometer?id=%s&token=%s"):format(server.origin, ids[i], token))
      end)
    end
    for _ = 1, 5 do loop:step(10) end -- the 20 requests are in nginx now
    local p0 = socket.gettime()
    local ping = assert(H.http("GET", server.origin .. "/ping"))
    local ping_time = socket.gettime() - p0
    while loop:pending() > 0 do loop:step(50) end
    local elapsed = socket.gettime() - t0
    assert.are.equal("pong\n", ping.body)
    for i = 1, 20 do
      local res = assert(jobs[i]:result())
      assert.are.equal(200, res.status)
      assert.is_number(tonumber(res.body), res.body)
    end
    assert.is_true(ping_time < 0.05, ("the ping took %.3f s"):format(ping_time))
    assert.is_true(elapsed < 1, ("20 reads took %.2f s"):format(elapsed))
  end)

  it("fetches an Application's token once for eight light threads (single flight)", function()
    H.clear()
    local res = assert(H.http("GET", ("%s/v3token?origin=%s&id=%s&secret=%s"):format(server.origin, H.origin,
      H.API_CLIENT_ID, H.API_CLIENT_SECRET)))
    local fetched = 0
    for _, r in ipairs(H.requests()) do if r.path == "/oauth2/token" then fetched = fetched + 1 end end
    assert.are.same({ "1\n", 1 }, { res.body, fetched })
  end)

  it("waits out a retry's backoff without holding the worker", function()
    H.fault("html503", 1, "/odometer$")
    local loop = smartcar.loop()
    local t0 = socket.gettime()
    local job = loop:run(function()
      return H.http("GET", ("%s/retrying?id=%s&token=%s"):format(server.origin, ids[1], token))
    end)
    for _ = 1, 10 do loop:step(10) end -- the 503 came back; nginx is in the backoff now
    local p0 = socket.gettime()
    assert(H.http("GET", server.origin .. "/ping"))
    local ping_time = socket.gettime() - p0
    while not job:done() do loop:step(50) end
    local res = assert(job:result())
    assert.is_number(tonumber(res.body), res.body)
    assert.is_true(socket.gettime() - t0 >= 0.5, "no backoff")
    assert.is_true(ping_time < 0.05, ("the ping took %.3f s"):format(ping_time))
  end)

  it("runs fanOut over 50 vehicles on light threads: under 1 s at 200 ms each", function()
    H.admin("POST", "/_emulator/config", { latency = 200 })
    local res = assert(H.http("GET", ("%s/fanout?ids=%s&token=%s"):format(server.origin, table.concat(ids, ","), token)))
    local ok, secs = res.body:match("^(%d+) ([%d.]+)")
    assert.are.equal("50", ok, res.body)
    assert.is_true(tonumber(secs) < 1, secs .. " s")
  end)

  it("calls through libcurl from init_worker_by_lua, and refuses cleanly in a header filter", function()
    assert.matches("SMARTCAR%-IN%-INIT%-WORKER AUTHENTICATION 401|", server.log())
    assert(H.http("GET", server.origin .. "/filtered"))
    local line = logged("SMARTCAR%-IN%-HEADER%-FILTER [^|]*")
    assert.are.equal("SMARTCAR-IN-HEADER-FILTER UNSUPPORTED_PHASE", line)
  end)

  it("runs smartcar.all where nginx allows no coroutine: one task after the other (init_worker), or refused "
    .. "(log); the cosocket transport, set explicitly, refuses init_worker without raising", function()
    assert.matches("SMARTCAR%-ALL%-IN%-INIT%-WORKER nil 401|", server.log())
    assert.matches("SMARTCAR%-RESTY%-IN%-INIT%-WORKER UNSUPPORTED_PHASE|", server.log())
    assert(H.http("GET", server.origin .. "/logged"))
    local line = logged("SMARTCAR%-ALL%-IN%-LOG [^|]*")
    assert.are.equal("SMARTCAR-ALL-IN-LOG nil UNSUPPORTED_PHASE", line)
  end)

  it("answers at once, in the log phase, a token fetch another request has in flight (no wait there)", function()
    H.fault("latency:1000", 1, "^/oauth2/token$")
    local loop = smartcar.loop()
    local fetching = loop:run(function()
      return H.http("GET", ("%s/apptoken?origin=%s&id=%s&secret=%s"):format(server.origin, H.origin,
        H.API_CLIENT_ID, H.API_CLIENT_SECRET))
    end)
    for _ = 1, 20 do loop:step(10) end -- the token request is at the emulator, for a second
    assert(H.http("GET", server.origin .. "/apptoken-in-log"))
    local p0 = socket.gettime()
    assert(H.http("GET", server.origin .. "/ping"))
    local ping_time = socket.gettime() - p0
    while not fetching:done() do loop:step(50) end
    assert.are.equal("a token\n", assert(fetching:result()).body)
    local code, secs = server.log():match("SMARTCAR%-TOKEN%-IN%-LOG (%S+) ([%d.]+)|")
    assert.are.equal("UNSUPPORTED_PHASE", code, server.log())
    assert.is_true(tonumber(secs) < 0.05, secs .. " s in the log phase")
    code, secs = server.log():match("SMARTCAR%-ALL%-TOKEN%-IN%-HEADER%-FILTER (%S+) ([%d.]+)|")
    assert.are.equal("UNSUPPORTED_PHASE", code, server.log())
    assert.is_true(tonumber(secs) < 0.05, secs .. " s in the header filter")
    assert.is_true(ping_time < 0.2, ("the ping took %.3f s"):format(ping_time))
  end)

  it("answers a call from the log phase with a SmartcarError naming the phase and the remedy", function()
    assert(H.http("GET", server.origin .. "/logged"))
    local line = logged("SMARTCAR%-IN%-LOG [^|]*")
    assert.are.equal("SMARTCAR-IN-LOG SDK_ERROR UNSUPPORTED_PHASE nginx's log phase has no cosockets and must not " ..
      "block: make the call from ngx.timer.at(0, function() ... end)", line)
  end)
end)
