-- Run a real nginx (one worker, the Lua module) for a spec: `start(conf)` writes the
-- configuration `conf(port, prefix, root)` returns into a fresh prefix, starts nginx
-- on a free port (tried again on another if it is taken) and waits until it answers.
-- The handle has `origin`, `prefix`, `log()` (the error log) and `stop()`.
local socket = require "socket"
local http = require "socket.http"
local ltn12 = require "ltn12"
local serialize = require "support.serialize"

local M = {}

--- A port nobody listens on (at the time of asking).
function M.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The lines every configuration of the suite starts with: the Lua module, one
-- worker in the background, logs and temporary files under the prefix.
function M.preamble(prefix)
  return table.concat({
    "load_module /usr/lib/nginx/modules/ndk_http_module.so;",
    "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;",
    "daemon on; worker_processes 1;",
    ("error_log %s/error.log notice; pid %s/nginx.pid;"):format(prefix, prefix),
  }, "\n") .. "\n"
end

function M.temp_paths(prefix)
  local lines = {}
  for _, what in ipairs { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" } do
    lines[#lines + 1] = ("%s_temp_path %s;"):format(what, prefix)
  end
  return table.concat(lines, " ")
end

function M.start(conf, env)
  local prefix = assert(io.popen("mktemp -d")):read("*l")
  local root = assert(io.popen("pwd")):read("*l")
  local port
  for _ = 1, 20 do
    port = M.free_port()
    local f = assert(io.open(prefix .. "/nginx.conf", "w"))
    f:write(conf(port, prefix, root))
    f:close()
    os.execute(("env -u LUA_PATH -u LUA_CPATH %s nginx -p %s -c %s/nginx.conf -e %s/error.log 2>/dev/null")
      :format(env or "", root, prefix, prefix))
    if read(prefix .. "/nginx.pid") then break end
  end
  local handle = { prefix = prefix, port = port, origin = "http://127.0.0.1:" .. port }
  function handle.log() return read(prefix .. "/error.log") or "" end
  function handle.stop()
    local pid = read(prefix .. "/nginx.pid")
    if pid then os.execute("kill " .. pid:match("%d+") .. " 2>/dev/null; sleep 0.3") end
    os.execute("rm -rf " .. prefix)
  end
  for _ = 1, 50 do
    local s = socket.connect("127.0.0.1", port)
    if s then s:close() return handle end
    socket.sleep(0.1)
  end
  local log = handle.log()
  handle.stop()
  error("nginx did not start: " .. log)
end

--- An nginx that runs SDK calls on the cosocket transport (spec/support/nginx_faults.lua):
-- `run(job)` sends a job `{origin=, options=, calls={...}, resty=<resty.new options>}` and
-- returns the answer `{outcomes=, userAgent=}`; `stop()`. `handler`: another module whose
-- `serve()` answers the jobs (spec/support/nginx_v3.lua: the API V3 wire cases).
function M.runner(handler)
  local server = M.start(function(port, prefix, root)
    return M.preamble(prefix) .. ([[
events { worker_connections 256; }
http {
  lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/?.lua;;";
  lua_package_cpath "%s/build/luajit/?.so;;";
  lua_socket_log_errors off;
  access_log off; %s
  server {
    listen 127.0.0.1:%d;
    location = /run { content_by_lua_block { require("%s").serve() } }
  }
}
]]):format(root, root, root, root, M.temp_paths(prefix), port, handler or "support.nginx_faults")
  end)
  local handle = { stop = server.stop, log = server.log }
  function handle.run(job)
    local body, out = serialize.dump(job), {}
    local _, status = http.request {
      url = server.origin .. "/run", method = "POST", source = ltn12.source.string(body),
      headers = { ["content-type"] = "text/plain", ["content-length"] = #body }, sink = ltn12.sink.table(out),
    }
    assert(status == 200, ("the nginx runner answered %s: %s\n%s"):format(tostring(status), table.concat(out),
      server.log():sub(-2000)))
    return serialize.load(table.concat(out))
  end
  return handle
end

return M
