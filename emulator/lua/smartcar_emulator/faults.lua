-- Fault injection (only when the emulator runs with --faults):
-- latency:<ms>, slow-headers:<ms>, reset, truncate, html502, html503, oversize:<bytes>,
-- status:<code>, rate-limit:<seconds>, close.
local json = require "smartcar_emulator.json"
local state = require "smartcar_emulator.state"
local http = require "smartcar_emulator.http"

local M = {}

-- status:<code> → the Smartcar error (type, code) answered with that status; other codes of the
-- range: VALIDATION (4xx) or SERVER/INTERNAL (5xx). 503 and 504 are not in the catalog.
M.STATUS_ERRORS = {
  [400] = { "VALIDATION" }, [401] = { "AUTHENTICATION" }, [403] = { "PERMISSION" },
  [404] = { "RESOURCE_NOT_FOUND", "PATH" }, [409] = { "VEHICLE_STATE", "UNKNOWN" },
  [429] = { "RATE_LIMIT", "SMARTCAR_API" }, [430] = { "BILLING", "VEHICLE_REQUEST_LIMIT" },
  [500] = { "SERVER", "INTERNAL" }, [501] = { "COMPATIBILITY", "SMARTCAR_NOT_CAPABLE" },
  [502] = { "UPSTREAM", "UNKNOWN_ISSUE" }, [503] = { "SERVER", "INTERNAL" }, [504] = { "UPSTREAM", "NO_RESPONSE" },
}

--- Parse a fault spec: { name, arg } or nil when unknown.
function M.parse(spec)
  if type(spec) ~= "string" then return nil end
  local name, arg = spec:match("^%s*([%w%-]+):?(%d*)%s*$")
  if not name then return nil end
  name = name:lower()
  arg = tonumber(arg)
  if name == "latency" or name == "slow-headers" or name == "oversize" or name == "rate-limit" then
    if not arg then return nil end
  elseif name == "status" then
    if not arg or arg < 400 or arg > 599 then return nil end
  elseif not (name == "reset" or name == "truncate" or name == "html502" or name == "html503" or
      name == "close") then
    return nil
  end
  return { name = name, arg = arg }
end

--- The fault for this request (per-request header/query first, then the global one, which only
-- requests whose path matches its pattern see and consume).
function M.pick(ctx)
  local spec = ctx.headers["sc-emulator-fault"] or ctx.args.sc_emulator_fault
  if spec then return M.parse(spec) end
  local g = state.fault
  if g and g.count > 0 and (not g.path or ctx.path:find(g.path)) then
    g.count = g.count - 1
    if g.count <= 0 then state.fault = nil end
    return M.parse(g.spec)
  end
  return nil
end

local function gateway(status)
  local text = status == 502 and "502 Bad Gateway" or "503 Service Temporarily Unavailable"
  return { status = status, ctype = "text/html", noRequestId = true,
    body = "<html>\r\n<head><title>" .. text .. "</title></head>\r\n<body>\r\n<center><h1>" .. text ..
      "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" }
end

-- A Smartcar error in the shape of the request's version, before any routing (nothing happens).
local function api_error(ctx, status, etype, code, opts)
  local path = ctx.path
  ctx.version = path:find("^/v1%.0/") and "1.0" or path:find("^/v3/") and "3" or "2.0"
  ctx.grant = state.grant_for(http.bearer(ctx))
  local res = http.err(ctx, etype, code, opts)
  res.status = status
  local b = res.json
  if b.statusCode then b.statusCode = status end
  if b.errors then b.errors[1].status = tostring(status) end
  return res
end

function M.before(ctx, f)
  local name = f.name
  if name == "latency" or name == "slow-headers" then
    if f.arg > 0 then ngx.sleep(f.arg / 1000) end
  elseif name == "html502" then
    return gateway(502)
  elseif name == "html503" then
    return gateway(503)
  elseif name == "status" then
    local e = M.STATUS_ERRORS[f.arg] or (f.arg < 500 and { "VALIDATION" } or { "SERVER", "INTERNAL" })
    return api_error(ctx, f.arg, e[1], e[2])
  elseif name == "rate-limit" then
    return api_error(ctx, 429, "RATE_LIMIT", "VEHICLE", { retryAfter = f.arg })
  elseif name == "close" then
    return ngx.exit(444)
  end
  return nil
end

function M.after(ctx, f, res, write)
  local body = res.body or json.encode(res.json)
  if f.name == "truncate" then
    res.status = 200
    res.body = body:sub(1, math.floor(#body / 2))
    return write(ctx, res)
  elseif f.name == "oversize" then
    local n = f.arg
    local pad = string.rep("x", n)
    if body:sub(1, 1) == "{" and body ~= "{}" then
      body = '{"_padding":"' .. pad .. '",' .. body:sub(2)
    elseif body == "{}" then
      body = '{"_padding":"' .. pad .. '"}'
    else
      body = '{"_padding":"' .. pad .. '","data":' .. body .. "}"
    end
    res.status, res.body, res.ctype = 200, body, "application/json"
    return write(ctx, res)
  elseif f.name == "reset" then
    ngx.status = res.status or 200
    local h = ngx.header
    h["Content-Type"] = res.ctype or "application/json"
    h["SC-Request-Id"] = ctx.request_id
    h["Content-Length"] = #body
    local part = body:sub(1, math.max(1, math.floor(#body / 2)))
    ngx.print(part)
    ngx.flush(true)
    return ngx.exit(ngx.ERROR)
  end
  return write(ctx, res)
end

return M
