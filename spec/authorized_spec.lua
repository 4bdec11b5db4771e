-- Vehicles that keep themselves authorized (API.md 0.2): proactive refresh, one refresh
-- after a 401 then one repeat, single-flight per access table, onRefresh once, no loop
-- when the refresh token is dead. Against the emulator's token endpoint.
local smartcar = require "smartcar"
local H = require "helper"
local socket = require "socket"

local client
local function access_for(email)
  local url = client:getAuthUrl({ "read_odometer", "read_vehicle_info" }, { state = "s" })
  local res = H.admin("POST", "/_emulator/authorize", { url = url, email = email or "driver@example.com" })
  local code = smartcar.parseCallback(res.location).code
  local access = assert(client:exchangeCode(code))
  local vehicles = assert(smartcar.getVehicles(access.accessToken)).vehicles
  return access, vehicles
end

local function token_requests() return H.stats().tokenRequests.refresh_token end
local function odometer_auths()
  local list = {}
  for _, r in ipairs(H.requests()) do
    if r.path:match("/odometer$") then list[#list + 1] = r.headers.authorization end
  end
  return list
end

describe("a vehicle that keeps itself authorized", function()
  before_each(function()
    H.reset()
    client = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
      redirectUri = H.REDIRECT_URI, mode = "test" }
  end)

  it("refreshes before the call when the token is within refreshMargin of its expiration", function()
    local access, ids = access_for()
    local old, refreshed = access.accessToken, {}
    access.expiration = os.time() + 30
    local v = smartcar.Vehicle.new(ids[1], access, { authClient = client, refreshMargin = 60,
      onRefresh = function(a) refreshed[#refreshed + 1] = a end })
    H.admin("DELETE", "/_emulator/stats")
    H.clear()
    local res, err = v:odometer()
    assert.is_nil(err)
    assert.is_number(res.distance)
    assert.are.equal(1, token_requests())
    assert.are.equal(1, #refreshed)
    assert.are.equal(access, refreshed[1]) -- updated in place
    assert.are_not.equal(old, access.accessToken)
    assert.is_true(access.expiration > os.time() + 60)
    assert.are.same({ "Bearer " .. access.accessToken }, odometer_auths())
    v:odometer() -- fresh now: no second refresh
    assert.are.equal(1, token_requests())
  end)

  it("after a 401, refreshes once and repeats the call; a vehicle sharing the access follows", function()
    local access, ids = access_for()
    local old = access.accessToken
    local n = 0
    local v1 = smartcar.Vehicle.new(ids[1], access, { authClient = client, onRefresh = function() n = n + 1 end })
    local v2 = smartcar.Vehicle.new(ids[1], access, { authClient = client })
    assert(v2:odometer())
    H.admin("POST", "/_emulator/tokens/revoke", { accessToken = old })
    H.admin("DELETE", "/_emulator/stats")
    H.clear()
    local res, err = v1:odometer()
    assert.is_nil(err)
    assert.is_number(res.distance)
    assert.are.same({ "Bearer " .. old, "Bearer " .. access.accessToken }, odometer_auths())
    assert.are.equal(1, n)
    assert(v2:odometer()) -- uses the new token at once
    assert.are.equal(1, token_requests())
    assert.are.equal("Bearer " .. access.accessToken, odometer_auths()[3])
  end)

  it("lets a plain call wait for a loop task's refresh by stepping that loop, not by blocking it", function()
    local access, ids = access_for()
    access.expiration = os.time() - 1
    H.admin("DELETE", "/_emulator/stats")
    H.fault("latency:500", 1, "^/oauth/token$")
    local loop = smartcar.loop()
    local task = loop:run(function()
      return smartcar.Vehicle.new(ids[1], access, { authClient = client }):odometer()
    end)
    loop:step(0) -- the task's refresh is at the token endpoint now
    local t0 = socket.gettime()
    local res = assert(smartcar.Vehicle.new(ids[1], access, { authClient = client }):odometer())
    local waited = socket.gettime() - t0
    assert.is_number(res.distance)
    -- not the refresh's deadline (timeout + 1 s); the bound stretches under the memory checks
    assert.is_true(waited < 3 * H.TIME_SCALE, ("the plain call took %.2f s"):format(waited))
    while loop:pending() > 0 do loop:step(10) end
    assert.is_number(assert(task:result()).distance)
    assert.are.equal(1, token_requests()) -- the refresh token used once
  end)

  it("refreshes once for 50 concurrent tasks sharing the access table (single-flight)", function()
    local access, ids = access_for()
    access.expiration = os.time() - 1
    local calls = 0
    local hook = function() calls = calls + 1 end
    local tasks = {}
    for i = 1, 50 do
      local v = smartcar.Vehicle.new(ids[1], access, { authClient = client, onRefresh = hook })
      tasks[i] = function() return v:odometer() end
    end
    H.admin("POST", "/_emulator/config", { latency = 50 })
    finally(function() H.admin("POST", "/_emulator/config", { latency = 0 }) end)
    H.admin("DELETE", "/_emulator/stats")
    local values, errors = smartcar.all(tasks, { concurrency = 50 })
    for i = 1, 50 do
      assert.is_nil(errors[i])
      assert.is_number(values[i].distance)
    end
    assert.are.equal(1, token_requests())
    assert.are.equal(1, calls)
  end)

  it("returns the AUTHENTICATION error when the refresh token is dead too, without a loop", function()
    local access, ids = access_for()
    local v = smartcar.Vehicle.new(ids[1], access, { authClient = client })
    H.admin("POST", "/_emulator/tokens/revoke", { accessToken = access.accessToken, refreshToken = access.refreshToken })
    H.admin("DELETE", "/_emulator/stats")
    H.clear()
    local res, err = v:odometer()
    assert.is_nil(res)
    assert.are.equal(401, err.statusCode)
    assert.are.equal("AUTHENTICATION", err.type)
    assert.are.equal(400, err.refreshError.statusCode)
    assert.are.equal(1, token_requests())
    assert.are.equal(1, #odometer_auths())
    -- the refused refresh token is not sent again: the same refreshError, no token request
    res, err = v:odometer()
    assert.is_nil(res)
    assert.are.equal(400, err.refreshError.statusCode)
    assert.are.equal(1, token_requests())
    assert.are.equal(2, #odometer_auths())
    -- a new refresh token (from the caller or a store) is tried
    local fresh = access_for()
    access.refreshToken = fresh.refreshToken
    res = assert(v:odometer())
    assert.is_number(res.distance)
    assert.are.equal(2, token_requests())
  end)

  it("without an authClient just uses the access table's token", function()
    local access, ids = access_for()
    local v = smartcar.Vehicle.new(ids[1], access)
    H.admin("POST", "/_emulator/tokens/revoke", { accessToken = access.accessToken })
    local _, err = v:odometer()
    assert.are.equal(401, err.statusCode)
    assert.is_nil(err.refreshError)
  end)

  it("checks its arguments", function()
    assert.has_error(function() smartcar.Vehicle.new("id", {}) end,
      "bad argument #2 to 'Vehicle.new' (an access table with an accessToken string expected)")
    assert.has_error(function() smartcar.Vehicle.new("id", { accessToken = "t" }, { authClient = {} }) end,
      "bad option 'authClient' to 'Vehicle.new' (an AuthClient expected, got table)")
    assert.has_error(function() smartcar.Vehicle.new("id", { accessToken = "t" }, { onRefresh = 1 }) end,
      "bad option 'onRefresh' to 'Vehicle.new' (a function expected, got number)")
    assert.has_error(function() smartcar.Vehicle.new("id", { accessToken = "t" }, { refreshMargin = -1 }) end,
      "bad option 'refreshMargin' to 'Vehicle.new' (a number of seconds (>= 0) expected)")
    assert.has_error(function() smartcar.Vehicle.new("id", { accessToken = "t" }, { refresh = true }) end,
      "unknown option 'refresh' to 'Vehicle.new'")
  end)
end)
