-- A libcurl Session across fork(): nginx's master runs init_by_lua, where the SDK uses libcurl
-- (blocking is harmless there) and keeps the connection alive; then it forks its workers, which
-- inherit that Session with its connection cache. A process must never talk on a connection it
-- inherited: the socket and its TLS state are shared with the parent and the siblings, and two
-- workers writing on one connection would read each other's answers. Each worker's first request
-- (init_worker_by_lua, libcurl again) must go out on a connection of its own.
local H = require "helper"
local core = require "smartcar.core"
local socket = require "socket"
local nginx = require "support.nginx"

local CONF = [[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
daemon on; worker_processes 3;
error_log %s/error.log notice; pid %s/nginx.pid;
env SMARTCAR_API_ORIGIN;
events { worker_connections 64; }
http {
  lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;;";
  lua_package_cpath "%s/build/luajit/?.so;;";
  access_log off; %s
  init_by_lua_block {
    local _, err = require("smartcar").getUser("fork-master")
    ngx.log(ngx.ERR, "SMARTCAR-IN-INIT ", err and err.statusCode, "|")
  }
  init_worker_by_lua_block {
    local _, err = require("smartcar").getUser("fork-worker-" .. ngx.worker.pid())
    ngx.log(ngx.ERR, "SMARTCAR-IN-WORKER ", err and err.statusCode, "|")
  }
  server { listen 127.0.0.1:%d; location / { return 204; } }
}
]]

describe("a libcurl Session inherited through fork (nginx's master and its workers)", function()
  it("never sends a worker's request on a connection the master opened, nor two workers' on one", function()
    local origin = assert(os.getenv("SMARTCAR_EMULATOR_ORIGIN"), "the suite runs against the emulator")
    assert(H.http("DELETE", origin .. "/_emulator/requests"))
    local server = nginx.start(function(port, prefix, root)
      return CONF:format(prefix, prefix, root, root, root, nginx.temp_paths(prefix), port)
    end, "SMARTCAR_API_ORIGIN=" .. origin)
    finally(server.stop)
    local requests
    for _ = 1, 50 do -- the workers start their requests as they come up
      local res = assert(H.http("GET", origin .. "/_emulator/requests"))
      requests = {}
      for _, r in ipairs(core.decode(res.body).requests) do
        local who = (r.headers.authorization or ""):match("^Bearer (fork%-%S+)$")
        if who then requests[#requests + 1] = { who = who, connection = r.connection } end
      end
      if #requests >= 4 then break end
      socket.sleep(0.1)
    end
    assert.are.equal(4, #requests, server.log())
    local _, masters = server.log():gsub("SMARTCAR%-IN%-INIT 401|", "")
    local _, workers = server.log():gsub("SMARTCAR%-IN%-WORKER 401|", "")
    assert.are.same({ 1, 3 }, { masters, workers }, server.log())
    local seen = {}
    for _, r in ipairs(requests) do
      assert.is_nil(seen[r.connection], ("%s went out on the connection of %s"):format(r.who, tostring(seen[r.connection])))
      seen[r.connection] = r.who
    end
  end)
end)
