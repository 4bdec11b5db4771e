-- API V3 on every transport: each case of spec/support/v3_cases.lua (every endpoint of the V3
-- reference's index the SDK calls, the application token's single flight, expiry and refresh, the
-- long-running command, a command never sent twice, secrets never printed) runs through the libcurl
-- transport, the suite's own transport object (spec/support/socket_transport.lua) and the cosocket
-- transport inside a real nginx (spec/support/nginx_v3.lua, the outcome sent back serialized). The
-- request on the wire is read from the emulator's request log; the same `check` judges every transport.
local smartcar = require "smartcar"
local socket = require "socket"
local H = require "helper"
local nginx = require "support.nginx"
local serialize = require "support.serialize"
local socket_transport = require "support.socket_transport"
local cases = require "support.v3_cases"
cases.bind(assert)

local OPTIONS = { timeout = 10000, retry = false }

local function options(case, transport)
  local o = { origin = H.origin, transport = transport }
  for k, v in pairs(OPTIONS) do o[k] = v end
  for k, v in pairs(case.options or {}) do o[k] = v end
  return o
end

-- Runs in the spec's process, on a transport object.
local function local_runner(make_transport)
  return function(case, ctx)
    local sc = smartcar.new(options(case, make_transport()))
    local env = { admin = H.admin, clock = socket.gettime }
    -- the same road as nginx's outcomes: plain data only
    return serialize.load(serialize.dump(case.run(sc, ctx, env)))
  end
end

local server -- the nginx runner, started when its first case runs
local TRANSPORTS = {
  { name = "libcurl", run = local_runner(function() return smartcar.transports.libcurl end) },
  { name = "the suite's own transport", run = local_runner(socket_transport.new) },
  { name = "the cosocket transport inside nginx", run = function(case, ctx)
    server = server or nginx.runner("support.nginx_v3")
    local o = options(case, nil)
    o.transport, o.origin = nil, nil
    local answer = server.run { origin = H.origin, options = o, case = case.name, ctx = ctx }
    assert(answer.outcome, answer.raised)
    return answer.outcome
  end },
}

local function clear_faults()
  H.http("POST", H.origin .. "/_emulator/faults", { ["content-type"] = "application/json" }, '{"fault":null}')
end

describe("API V3 on every transport", function()
  teardown(function()
    clear_faults()
    if server then server.stop() end
  end)

  for _, transport in ipairs(TRANSPORTS) do
    describe("via " .. transport.name, function()
      for _, case in ipairs(cases.CASES) do
        it(case.name, function()
          H.reset()
          clear_faults()
          local ctx = case.prepare(H, smartcar)
          H.clear()
          finally(clear_faults)
          local outcome = transport.run(case, ctx)
          case.check(outcome, ctx, H.requests(), H)
        end)
      end
    end)
  end
end)
