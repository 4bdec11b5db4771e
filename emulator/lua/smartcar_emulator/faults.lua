-- Fault injection (only when the emulator runs with --faults):
-- latency:<ms>, slow-headers:<ms>, reset, truncate, html502, html503, oversize:<bytes>.
local json = require "smartcar_emulator.json"
local state = require "smartcar_emulator.state"

local M = {}

--- Parse a fault spec: { name, arg } or nil when unknown.
function M.parse(spec)
  if type(spec) ~= "string" then return nil end
  local name, arg = spec:match("^%s*([%w%-]+):?(%d*)%s*$")
  if not name then return nil end
  name = name:lower()
  arg = tonumber(arg)
  if name == "latency" or name == "slow-headers" or name == "oversize" then
    if not arg then return nil end
  elseif not (name == "reset" or name == "truncate" or name == "html502" or name == "html503") then
    return nil
  end
  return { name = name, arg = arg }
end

--- The fault for this request (per-request header/query first, then the global one).
function M.pick(ctx)
  local spec = ctx.headers["sc-emulator-fault"] or ctx.args.sc_emulator_fault
  if spec then return M.parse(spec) end
  local g = state.fault
  if g and g.count > 0 then
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

function M.before(_, f)
  if f.name == "latency" or f.name == "slow-headers" then
    if f.arg > 0 then ngx.sleep(f.arg / 1000) end
  elseif f.name == "html502" then
    return gateway(502)
  elseif f.name == "html503" then
    return gateway(503)
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
