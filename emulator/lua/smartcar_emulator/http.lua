-- Response helpers shared by every handler. A response is a table:
-- { status, json = <table> | body = <string>, ctype = <content type>, headers = { name = value } }
local json = require "smartcar_emulator.json"
local errors = require "smartcar_emulator.errors"
local state = require "smartcar_emulator.state"

local M = {}

function M.ok(body, headers, status)
  return { status = status or 200, json = body, headers = headers }
end

local function app_name(ctx)
  local grant = ctx.grant
  local app = grant and state.apps[grant.clientId] or (ctx.app)
  return app and app.name or nil
end

local V1_ORDER = { "error", "message", "code", "statusCode", "requestId" }

--- An API error in the shape of the request's version ("1.0" legacy, "3" the V3 errors[], else v2).
function M.err(ctx, etype, code, opts)
  opts = opts or {}
  if not opts.appName then opts.appName = app_name(ctx) end
  local status, body, headers
  if ctx.version == "1.0" then
    if ctx.vehicle and ctx.vehicle.v1fail and opts.v1code then
      status, body = errors.v1_code(opts.v1code)
    else
      status, body, headers = errors.v1(etype, code, ctx.request_id, opts)
    end
    -- v1.0 bodies carry statusCode and requestId too: the python SDK reads both from the body
    -- (smartcar/exception.py) and its v1.0 e2e asserts the status (tests/e2e/test_exception.py).
    body = json.object(V1_ORDER, { error = body.error, message = body.message, code = body.code,
      statusCode = status, requestId = ctx.request_id })
  elseif ctx.version == "3" then
    -- one V3 error shape for every /v3 request, whatever its token (reference §6.1)
    return require("smartcar_emulator.v3_common").from_v2(ctx, etype, code, opts)
  else
    status, body, headers = errors.v2(etype, code, ctx.request_id, opts)
  end
  return { status = status, json = body, headers = headers, error = true }
end

--- A VALIDATION error with a detail entry.
function M.validation(ctx, code, field, message)
  local fieldv
  if type(field) == "table" then fieldv = field
  elseif field then fieldv = { field }
  else fieldv = json.array() end
  return M.err(ctx, "VALIDATION", code, { detail = { json.object({ "field", "message" },
    { field = fieldv, message = message }) } })
end

--- OAuth-style error of the token endpoint.
function M.oauth(status, err, description)
  return { status = status, json = json.object({ "error", "error_description" },
    { error = err, error_description = description }) }
end

function M.html(status, body)
  return { status = status, body = body, ctype = "text/html; charset=utf-8" }
end

function M.redirect(location)
  return { status = 302, body = "", ctype = "text/html; charset=utf-8", headers = { Location = location } }
end

--- Bearer token from the Authorization header (nil when absent or not Bearer).
function M.bearer(ctx)
  local h = ctx.headers.authorization
  if type(h) == "table" then h = h[1] end
  if not h then return nil end
  return h:match("^%s*[Bb]earer%s+(%S+)%s*$")
end

--- Basic credentials: user, password (nil when absent/malformed).
function M.basic(ctx)
  local h = ctx.headers.authorization
  if type(h) == "table" then h = h[1] end
  if not h then return nil end
  local b64 = h:match("^%s*[Bb]asic%s+(%S+)%s*$")
  if not b64 then return nil end
  local raw = ngx.decode_base64(b64)
  if not raw then return nil end
  local user, pass = raw:match("^([^:]*):(.*)$")
  return user, pass
end

--- Parse the request body as JSON: value or nil, error response.
function M.json_body(ctx, required)
  local body = ctx.body
  if body == nil or body == "" then
    if required then
      return nil, M.validation(ctx, nil, json.array(), "Request body must be a JSON object.")
    end
    return {}
  end
  local v, e = json.decode(body)
  if v == nil or type(v) ~= "table" then
    return nil, M.validation(ctx, nil, json.array(), "Request body is not valid JSON: " .. tostring(e or "not an object"))
  end
  return v
end

return M
