-- Token stores: vehicles in different processes (here: separate access tables, as two
-- nginx workers would hold) share refreshed tokens through smartcar.store.sharedDict.
-- The dict is a stand-in with lua_shared_dict's methods and return values.
local smartcar = require "smartcar"
local store = require "smartcar.store"
local H = require "helper"

local function fake_dict(exptimes)
  local data = {}
  return {
    get = function(_, k) return data[k] end,
    set = function(_, k, v) data[k] = v return true end,
    add = function(_, k, v, exptime)
      if data[k] ~= nil then return false, "exists" end
      data[k] = v
      if exptimes then exptimes[#exptimes + 1] = exptime end
      return true
    end,
    delete = function(_, k) data[k] = nil end,
  }
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

describe("a shared token store", function()
  local client, access, id
  before_each(function()
    H.reset()
    client = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
      redirectUri = H.REDIRECT_URI, mode = "test" }
    local url = client:getAuthUrl({ "read_odometer" }, { state = "s" })
    local res = H.admin("POST", "/_emulator/authorize", { url = url, email = "driver@example.com" })
    access = assert(client:exchangeCode(smartcar.parseCallback(res.location).code))
    id = assert(smartcar.getVehicles(access.accessToken)).vehicles[1]
    access.expiration = os.time() - 1
    H.admin("DELETE", "/_emulator/stats")
  end)

  local function worker(shared)
    return smartcar.Vehicle.new(id, copy(access), { authClient = client, store = shared })
  end

  it("lets a second process take the tokens the first refreshed, with no refresh of its own", function()
    local shared = store.sharedDict(fake_dict(), "user-1")
    local a, b = worker(shared), worker(shared)
    assert(a:odometer())
    assert.are.equal(1, H.stats().tokenRequests.refresh_token)
    H.clear()
    assert(b:odometer())
    assert.are.equal(1, H.stats().tokenRequests.refresh_token)
    local saved = shared:load()
    assert.are.equal("Bearer " .. saved.accessToken, H.last().headers.authorization)
    assert.are_not.equal(access.accessToken, saved.accessToken)
  end)

  it("refreshes once when processes find the token expired at the same time (the store's lock)", function()
    local shared = store.sharedDict(fake_dict(), "user-1")
    H.admin("POST", "/_emulator/config", { latency = 100 })
    finally(function() H.admin("POST", "/_emulator/config", { latency = 0 }) end)
    local tasks = {}
    for i = 1, 6 do
      local v = worker(shared)
      tasks[i] = function() return v:odometer() end
    end
    local values, errors = smartcar.all(tasks)
    for i = 1, 6 do
      assert.is_nil(errors[i])
      assert.is_number(values[i].distance)
    end
    assert.are.equal(1, H.stats().tokenRequests.refresh_token)
  end)

  it("holds its lock for as long as the refresh may take, not a fixed 30 s (or lockSeconds)", function()
    local exptimes = {}
    local shared = store.sharedDict(fake_dict(exptimes), "user-1", 1)
    local sc = smartcar.new { origin = H.origin, timeout = 45000 }
    local v = sc.Vehicle.new(id, access, { authClient = client, store = shared })
    assert.is_number(assert(v:odometer()).distance)
    assert.are.same({ 46 }, exptimes) -- the refresh's deadline: the instance's timeout and a second
    exptimes[1] = nil
    assert(shared:tryLock()) -- taken by hand, without a time: lockSeconds
    assert.are.same({ 1 }, exptimes)
  end)

  it("checks its arguments", function()
    assert.has_error(function() store.sharedDict({}, "k") end,
      "bad argument #1 to 'sharedDict' (a lua_shared_dict expected, got table)")
    assert.has_error(function() store.sharedDict(fake_dict(), nil) end,
      "bad argument #2 to 'sharedDict' (string expected, got nil)")
    assert.has_error(function() smartcar.Vehicle.new("v", { accessToken = "t" }, { store = 5 }) end,
      "bad option 'store' to 'Vehicle.new' (a token store {load=, save=[, tryLock=, unlock=]} expected, got number)")
  end)
end)
