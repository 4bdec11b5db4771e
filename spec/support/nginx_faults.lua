-- Inside nginx: the runner of the fault matrix and the TLS spec. A POST carries a job
-- (serialized: the origin, the SDK options, the calls to make, the options of the
-- cosocket transport); the SDK instance it makes uses that transport; the answer is
-- the calls' outcomes, serialized.
local smartcar = require "smartcar"
local resty = require "smartcar.transport.resty"
local serialize = require "support.serialize"
local fault_calls = require "support.fault_calls"

local ngx = rawget(_G, "ngx")
local M = {}

local function clock()
  ngx.update_time()
  return ngx.now()
end

function M.serve()
  ngx.req.read_body()
  local job = serialize.load(ngx.req.get_body_data())
  local options = { origin = job.origin, transport = resty.new(job.resty) }
  for k, v in pairs(job.options) do options[k] = v end
  local sc = smartcar.new(options)
  local outcomes = fault_calls.run(smartcar, sc, job.calls, clock)
  ngx.print(serialize.dump { outcomes = outcomes, userAgent = sc.userAgent })
end

return M
