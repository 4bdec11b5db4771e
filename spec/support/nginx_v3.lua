-- Inside nginx: the runner of the API V3 wire cases (spec/support/v3_cases.lua). A POST carries a job
-- (serialized: the origin, the SDK options, the case's name and its ctx); the case runs on an SDK
-- instance whose transport is the cosocket one; the answer is its outcome, serialized.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local resty = require "smartcar.transport.resty"
local serialize = require "support.serialize"
local cases = require "support.v3_cases"

local ngx = rawget(_G, "ngx")
local M = {}

local LIMITS = { timeout = 10000, connectTimeout = 2000, maxResponseSize = 1024 * 1024 }

function M.serve()
  ngx.req.read_body()
  local job = serialize.load(ngx.req.get_body_data())
  local transport = resty.new()
  local options = { origin = job.origin, transport = transport }
  for k, v in pairs(job.options or {}) do options[k] = v end
  local sc = smartcar.new(options)
  local env = {
    clock = function() ngx.update_time() return ngx.now() end,
    -- the emulator's admin API, over the same cosocket transport
    admin = function(method, path, body)
      local status, _, b = transport:request(method, job.origin .. path, { ["content-type"] = "application/json" },
        body and core.encode(body) or nil, LIMITS)
      return b and core.decode(b), status
    end,
  }
  local ok, out = pcall(cases.run, job.case, sc, job.ctx, env)
  ngx.print(serialize.dump(ok and { outcome = out } or { raised = tostring(out) }))
end

return M
