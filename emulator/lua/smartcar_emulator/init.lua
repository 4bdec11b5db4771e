-- The local Smartcar API emulator, served by nginx + ngx_lua (one worker; state in module tables).
local json = require "smartcar_emulator.json"
local util = require "smartcar_emulator.util"
local state = require "smartcar_emulator.state"
local http = require "smartcar_emulator.http"
local vehicle = require "smartcar_emulator.vehicle"
local connect = require "smartcar_emulator.connect"
local admin = require "smartcar_emulator.admin"
local api = require "smartcar_emulator.api"
local faults = require "smartcar_emulator.faults"
local stats = require "smartcar_emulator.stats"

local M = {}

local ngx = ngx
local req = ngx.req
local type, pairs, concat = type, pairs, table.concat

--- Called from init_by_lua with the launcher's options.
function M.init(opts)
  opts = opts or {}
  local o = state.options
  o.seed = opts.seed or 1
  o.latency = opts.latency or 0
  o.faults = opts.faults and true or false
  o.rateLimit = opts.rateLimit or 0
  o.rateWindow = opts.rateWindow or 60
  o.host = opts.host or "127.0.0.1"
  o.port = opts.port
  state.reset(o.seed)
end

local function read_body()
  req.read_body()
  local body = req.get_body_data()
  if body then return body end
  local file = req.get_body_file()
  if file then
    local f = io.open(file, "rb")
    if f then
      body = f:read("*a")
      f:close()
      return body
    end
  end
  return ""
end

local function header_table(raw)
  local out = {}
  for k, v in pairs(raw) do
    if type(v) == "table" then v = concat(v, ", ") end
    out[k] = v
  end
  return out
end

local function write(ctx, res)
  if res.sent then return end -- streamed by its handler (a V3 long-running command)
  local status = res.status or 200
  ngx.status = status
  local h = ngx.header
  h["Content-Type"] = res.ctype or "application/json"
  if not res.noRequestId then h["SC-Request-Id"] = ctx.request_id end
  if res.headers then
    for k, v in pairs(res.headers) do h[k] = v end
  end
  local body = res.body
  if body == nil then body = json.encode(res.json) end
  h["Content-Length"] = #body
  if ctx.method ~= "HEAD" and #body > 0 then ngx.print(body) end
end
M.write = write

local function route(ctx)
  local path = ctx.path
  if path == "/oauth/token" then return connect.token(ctx) end
  if path == "/oauth2/token" then return require("smartcar_emulator.iam").token(ctx) end
  if path:sub(1, 7) == "/oauth/" then return connect.page(ctx) end
  local version, rest = path:match("^/v(%d[^/]*)(.*)$")
  if not version then
    ctx.version = "2.0"
    return http.err(ctx, "RESOURCE_NOT_FOUND", "PATH")
  end
  if version == "3" then
    ctx.version = "3"
    return require("smartcar_emulator.v3_routes").handle(ctx, rest)
  end
  if version ~= "1.0" and version ~= "2.0" then
    ctx.version = "2.0"
    -- Smartcar serves any other well-formed "<digits>.<digits>" as its latest version
    -- (python-sdk tests/e2e/test_exception.py test_vehicle_bad_api_version); anything else is 404.
    if not version:find("^%d+%.%d+$") then return http.err(ctx, "RESOURCE_NOT_FOUND", "VERSION") end
    version = "2.0"
  end
  ctx.version = version
  local vid, sub = rest:match("^/vehicles/([^/]+)(.*)$")
  if vid then return vehicle.handle(ctx, vid, sub) end
  return api.handle(ctx, rest)
end

--- content_by_lua entry point.
function M.handle()
  local var = ngx.var
  local method = req.get_method()
  local raw_uri = var.request_uri or "/"
  local raw_path = raw_uri:match("^[^?]*")
  local path = var.uri or raw_path
  if #path > 1 then path = path:gsub("/+$", "") end
  if path == "" then path = "/" end
  local ctx = {
    method = method,
    path = path,
    query = var.args or "",
    request_id = util.random_uuid(),
    origin = "http://" .. (var.http_host or (state.options.host .. ":" .. tostring(state.options.port))),
  }
  ctx.headers = header_table(req.get_headers(200))
  ctx.args = util.decode_args(ctx.query)
  ctx.body = read_body()

  if path:sub(1, 14) == "/_emulator/v3/" then return write(ctx, require("smartcar_emulator.v3_admin").handle(ctx)) end
  if path:sub(1, 10) == "/_emulator" then
    return write(ctx, admin.handle(ctx))
  end

  state.record({
    method = method, path = raw_path, query = ctx.query, headers = ctx.headers, body = ctx.body,
    connection = var.connection,
  })
  if path == "/oauth/token" or path == "/oauth2/token" then
    stats.token_request(ctx)
  elseif path:sub(1, 7) ~= "/oauth/" then
    stats.begin()
  end

  local fault = state.options.faults and faults.pick(ctx) or nil
  if fault then
    local res = faults.before(ctx, fault)
    if res then
      write(ctx, res)
      return stats.finish()
    end
  end
  local ok, res = pcall(route, ctx)
  if ok then pcall(require("smartcar_emulator.v3_deliveries").after, ctx) end
  if not ok then
    ngx.log(ngx.ERR, "emulator handler failed: ", tostring(res))
    ctx.version = ctx.version == "3" and "3" or ctx.version
    res = http.err(ctx, "SERVER", "INTERNAL")
  end
  if fault then
    faults.after(ctx, fault, res, write)
  else
    write(ctx, res)
  end
  return stats.finish()
end

--- log_by_lua entry point: ends the request's count however the request ended (fault, error, abort).
M.log = stats.finish

return M
