-- Shared by the SDK specs: the emulator's origin, its admin API over real
-- HTTP (through the SDK's own libcurl session), and the default app.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local Client = require "smartcar.client"
local v3_cases = require "support.v3_cases"

local H = {
  CLIENT_ID = "8229df9f-91a0-4ff0-a1ae-a1f38ee24d07",
  CLIENT_SECRET = "emulator-client-secret",
  REDIRECT_URI = "http://localhost:8000/callback",
  AMT = "emulator-amt",
  WEBHOOK_ID = "4bd5a6e8-1c2e-4d4b-9a8b-5b1f0c8a9d01",
  -- API V3: the demo application's API credentials (the token endpoint's client id and secret)
  API_CLIENT_ID = "client_emulator_demo",
  API_CLIENT_SECRET = "emulator-api-secret",
}

-- `make test` starts one emulator for the whole run and exports its origin; a bare
-- `busted` starts one here, with a watcher that stops it once this process is gone
-- (os.exit does not close the Lua state on 5.1/LuaJIT, so a finalizer would not do).
H.origin = os.getenv("SMARTCAR_EMULATOR_ORIGIN")

-- luv cannot be loaded twice into one Lua state (the first one's collected loop crashes the
-- second in uv_walk), and busted gives each spec file a fresh package.loaded: every file gets
-- the luv loaded first (the specs, the README's blocks and the SDK's driver all require it).
do
  local registry = debug.getregistry()
  if registry["spec.luv"] == nil then
    local ok, uv = pcall(require, "luv")
    registry["spec.luv"] = ok and uv or false
  end
  package.loaded.luv = registry["spec.luv"] or nil
end

-- How much slower than usual this run is (10 under valgrind): the factor for the loose
-- timing bounds that prove concurrency or a host loop never blocked.
H.TIME_SCALE = tonumber(os.getenv("SMARTCAR_TIME_SCALE")) or 1
if not H.origin then
  local out = assert(io.popen("bin/smartcar-emulator --daemon --faults")):read("*a")
  H.origin = out:match("SMARTCAR_EMULATOR_ORIGIN=(%S+)")
  local prefix = out:match("SMARTCAR_EMULATOR_PREFIX=(%S+)")
  assert(H.origin and prefix, "could not start the emulator: " .. out)
  local pid = assert(io.popen("echo $PPID")):read("*l")
  os.execute(("(while kill -0 %s 2>/dev/null; do sleep 0.2; done; bin/smartcar-emulator --stop '%s') " ..
    ">/dev/null 2>&1 &"):format(pid, prefix))
end

function H.configure(extra)
  local options = {
    apiOrigin = H.origin, authOrigin = H.origin, connectOrigin = H.origin,
    vehicleOrigin = H.origin, managementOrigin = H.origin, iamOrigin = H.origin, managementApiOrigin = H.origin,
    timeout = 10000,
    transport = smartcar.transports.libcurl,
    retry = false, -- one attempt per call: the retry specs turn retries on where they test them
  }
  for k, v in pairs(extra or {}) do options[k] = v end
  smartcar.configure(options)
end
H.configure()

-- The admin API goes through an SDK instance of its own (the same pipeline as
-- every request), so reconfiguring the module never changes it.
local admin = Client.of(smartcar.new { timeout = 10000 })

--- Any HTTP request through the admin instance: {status=, headers=, body=} | nil, err.
function H.http(method, url, headers, body)
  return admin:send(core.HTTP, core.httpRequest(method, url, headers, body))
end

--- Call the emulator's admin API: returns the decoded body and the status.
function H.admin(method, path, body)
  local res = assert(H.http(method, H.origin .. path, { ["content-type"] = "application/json" },
    body and core.encode(body)))
  return core.decode(res.body), res.status
end

--- Reset the emulator (fresh state, default seed) and forget recorded requests.
function H.reset()
  local _, status = H.admin("POST", "/_emulator/reset", {})
  assert(status == 200, "reset failed")
end

--- The requests the emulator recorded since the last reset/mark, oldest first.
function H.requests()
  return H.admin("GET", "/_emulator/requests").requests
end

function H.last()
  local list = H.requests()
  return list[#list]
end

function H.clear()
  H.admin("DELETE", "/_emulator/requests")
end

--- An access token for a test-mode email (every permission unless scope is given; mode: the
-- shortcut's default "test", or "simulated" for the emulator's stateful vehicles).
function H.token(email, scope, mode)
  local res, status = H.admin("POST", "/_emulator/tokens", { email = email, scope = scope, mode = mode })
  assert(status == 200, "token shortcut failed")
  return res
end

--- A Vehicle for a fresh token of `email`.
function H.vehicle(email, options, scope, mode)
  local t = H.token(email or "driver@example.com", scope, mode)
  return smartcar.Vehicle.new(t.vehicles[1], t.access_token, options), t
end

--- Inject a fault into the next `count` requests (whose path matches the Lua pattern `path`).
function H.fault(spec, count, path)
  local _, status = H.admin("POST", "/_emulator/faults", { fault = spec, count = count or 1, path = path })
  assert(status == 200, "faults are not enabled on the emulator")
end

--- The emulator's counters since the last reset: tokenRequests, requests, inFlight, maxInFlight.
function H.stats()
  return (H.admin("GET", "/_emulator/stats"))
end

--- API V3: an Application for the demo application's API credentials, with the options `extra`.
function H.application(extra)
  return v3_cases.application(smartcar, { clientId = H.API_CLIENT_ID, clientSecret = H.API_CLIENT_SECRET }, extra)
end

-- A request's header (the first of a repeated one); the items an iterator gives, as a list (its
-- failure: nil and the error). Shared with the V3 cases, which run inside nginx too.
H.header, H.collect = v3_cases.header, v3_cases.collect

--- The interpreter running this suite, as a command (arg's lowest index), for the specs that run a
-- Lua program in a child process.
function H.interpreter()
  local i = -1
  while arg[i - 1] do i = i - 1 end
  return arg[i]
end

--- Decode a form or query string into a table.
function H.form(s)
  local t = {}
  for k, v in (s or ""):gmatch("([^&=]+)=([^&]*)") do
    t[k] = v:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return t
end

return H
