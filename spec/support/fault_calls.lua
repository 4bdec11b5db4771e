-- The calls the fault matrix makes and the secrets they carry, shared by the spec
-- (spec/faults_spec.lua) and its runner inside nginx (spec/support/nginx_faults.lua).
local M = {
  TOKEN = "tK9vQz.T0ken/x+y=z~",
  CLIENT_ID = "client-id-0f3e",
  CLIENT_SECRET = "sEcR3t!client/S+v=1",
  CODE = "cD7xWq/auth+code=1",
  REFRESH = "rF5yZp/refresh+tok=2",
}

local function vehicle(sc) return sc.Vehicle.new("vid", M.TOKEN) end
local function auth_client(sc)
  return sc.AuthClient.new { clientId = M.CLIENT_ID, clientSecret = M.CLIENT_SECRET,
    redirectUri = "https://example.com/callback", mode = "test" }
end

-- Each returns the call's results.
M.CALLS = {
  odometer = function(sc) return vehicle(sc):odometer() end,
  lock = function(sc) return vehicle(sc):lock() end,
  disconnect = function(sc) return vehicle(sc):disconnect() end,
  request = function(sc) return vehicle(sc):request("POST", "/custom", { note = "hello" }) end,
  getUser = function(sc) return sc.getUser(M.TOKEN) end,
  exchangeCode = function(sc) return auth_client(sc):exchangeCode(M.CODE) end,
  exchangeRefreshToken = function(sc) return auth_client(sc):exchangeRefreshToken(M.REFRESH) end,
  -- a batch's items as plain data (the outcome comes back serialized from nginx)
  batch = function(sc)
    local b, err = vehicle(sc):batch { "/odometer", "/battery", "/fuel" }
    if not b then return nil, err end
    local out = {}
    for _, name in ipairs { "odometer", "battery", "fuel" } do
      local res, item_err = b[name]()
      out[name] = res or { error = item_err }
    end
    return out
  end,
  v3lock = function(sc)
    return sc.Application.new({ clientId = M.CLIENT_ID, clientSecret = M.CLIENT_SECRET }):vehicle("vid", "uid"):lock()
  end,
  v3attributes = function(sc)
    return sc.Application.new({ clientId = M.CLIENT_ID, clientSecret = M.CLIENT_SECRET }):vehicle("vid", "uid")
      :attributes()
  end,
  appToken = function(sc)
    return sc.Application.new({ clientId = M.CLIENT_ID, clientSecret = M.CLIENT_SECRET }):token()
  end,
}

-- The method and path (under the origin) each call sends.
M.WIRE = {
  odometer = { "GET", "/v2.0/vehicles/vid/odometer" },
  lock = { "POST", "/v2.0/vehicles/vid/security" },
  disconnect = { "DELETE", "/v2.0/vehicles/vid/application" },
  request = { "POST", "/v2.0/vehicles/vid/custom" },
  getUser = { "GET", "/v2.0/user" },
  exchangeCode = { "POST", "/oauth/token" },
  exchangeRefreshToken = { "POST", "/oauth/token" },
  batch = { "POST", "/v2.0/vehicles/vid/batch" },
  appToken = { "POST", "/oauth2/token" },
  v3lock = { "POST", "/v3/vehicles/vid/commands/security/lock" },
  v3attributes = { "GET", "/v3/vehicles/vid" },
}

--- Make the calls named in `list` one after the other on the SDK instance `sc`;
-- `clock()` gives seconds. Each outcome: what the call returned or raised, whether
-- its error is a SmartcarError, tostring(err), the time it took.
function M.run(smartcar, sc, list, clock)
  local outcomes = {}
  for i, how in ipairs(list) do
    local t0 = clock()
    local ok, res, err = pcall(M.CALLS[how], sc)
    local o = { elapsed = clock() - t0 }
    if not ok then
      o.raised = tostring(res)
    else
      o.res, o.err = res, err
      if err ~= nil then o.isError, o.shown = smartcar.SmartcarError.is(err), tostring(err) end
    end
    outcomes[i] = o
  end
  return outcomes
end

return M
