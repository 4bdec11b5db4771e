--- Vehicles that keep themselves authorized (API.md 0.2):
-- `Vehicle.new(id, access, {authClient=, onRefresh=, refreshMargin=})`.
--
-- Such a vehicle is made with a class table of its own whose methods wrap the
-- Vehicle's: before a call, the token is refreshed when `os.time() >=
-- access.expiration - refreshMargin`; after a 401 AUTHENTICATION answer it is
-- refreshed once and the call repeated. The `access` table is updated in place, so
-- every vehicle sharing it follows. A refresh is single-flight per `access` table:
-- whoever finds one running (a task of `smartcar.all`, a light thread of nginx)
-- waits for it and uses its tokens. With a `store` (`smartcar.store`), tokens are
-- shared with other processes too (nginx workers): a call takes the store's newer
-- tokens, a refresh holds the store's lock and saves what it got. Plain vehicles
-- (a token string) pay nothing.
-- @submodule smartcar

local core = require "smartcar.core"
local loops = require "smartcar.loop"
local auto = require "smartcar.transport.auto"
core.own()

local type, pairs, next, rawget, os_time, now = type, pairs, next, rawget, os.time, core.now
local set_token, arg_error, option_error = core.setVehicleToken, core.argError, core.optionError

local M = {}

local OWN = { authClient = true, onRefresh = true, refreshMargin = true, store = true } -- the rest: Vehicle.new's
local state = setmetatable({}, { __mode = "k" })      -- vehicle -> {access, client, onRefresh, margin, token}
local refreshing = setmetatable({}, { __mode = "k" }) -- access table -> until when (ms) its refresh may run
-- access table -> {token =, err =}: a refresh token the token endpoint refused (400, 401), and how;
-- never sent again (a new one, from a store or the caller, is tried)
local refused = setmetatable({}, { __mode = "k" })

-- Let work that runs elsewhere go on: `flight` ({until =, by = loops.mark()}) a refresh or fetch of
-- this process (see loops.waitFor), or nil for the store's lock (another process may hold it: a
-- task yields to its loop, a light thread sleeps, anything else sleeps). True after the turn;
-- false when the work waited for cannot still run; false and the error where nothing may wait
-- (nginx's log or header_filter phase: a wait would block the worker, and what it waits for with it).
local function wait_turn(flight)
  local why = auto.refused() -- a loop's task there too: its loop could only block
  if why then return false, core.sdkError("UNSUPPORTED_PHASE", why) end
  if flight then
    local going, message = loops.waitFor(flight.by)
    if message then return false, core.sdkError("UNSUPPORTED_PHASE", "A refresh is in flight, and " .. message) end
    return going
  end
  local job = loops.current()
  if job then job:sleep(10) else loops.pause(10) end
  return true
end

-- Wait for the work of `flight` while it runs (its deadline at most): true once it is over, or
-- false and the error.
local function await(get)
  local flight = get()
  while flight and now() < flight.deadline do
    local going, err = wait_turn(flight)
    if err then return false, err end
    if not going then return true end -- it cannot run any more: the caller takes it over
    flight = get()
  end
  return true
end
M.await = await -- the Application token's single flight waits the same way

-- Put new tokens into the access table, in place (every vehicle sharing it follows).
local function take(access, tokens)
  for k, v in pairs(tokens) do access[k] = v end
end

-- With a store (other processes' tokens): take its tokens when they are not ours.
local function adopt(st)
  local latest = st.store and st.store:load()
  if type(latest) == "table" and type(latest.accessToken) == "string" and latest.accessToken ~= st.access.accessToken then
    take(st.access, latest)
  end
end

-- The store's lock (other processes' refreshes), waited for until `deadline`; true when held.
local function lock_store(store, deadline)
  if not (store and store.tryLock) then return false end
  -- held for as long as the refresh may take (a shorter lock would let another process in with the
  -- same refresh token), whole seconds
  local seconds = math.ceil((deadline - now()) / 1000)
  while not store:tryLock(seconds) do
    if now() >= deadline then return false end
    local ok, err = wait_turn()
    if not ok then return false, err end
  end
  return true
end

-- Refresh st.access unless someone already replaced the token `stale`: true, or false and the error.
local function refresh(st, stale, timeout)
  local access = st.access
  local ok, wait_err = await(function() return refreshing[access] end)
  if not ok then return false, wait_err end
  if access.accessToken ~= stale then return true end
  refreshing[access] = { deadline = now() + timeout, by = loops.mark() } -- a refresher that raised: until then
  local store = st.store
  local locked, lock_err = lock_store(store, refreshing[access].deadline)
  if lock_err then
    refreshing[access] = nil
    return false, lock_err
  end
  adopt(st)
  local dead = refused[access]
  dead = dead and dead.token == access.refreshToken and dead.err
  if access.accessToken ~= stale or type(access.refreshToken) ~= "string" or dead then -- done elsewhere, or impossible
    if locked then store:unlock() end
    refreshing[access] = nil
    if access.accessToken ~= stale then return true end
    return false, dead or nil
  end
  local used = access.refreshToken
  local new, err = st.client:exchangeRefreshToken(used)
  if new then
    take(access, new)
    if store then store:save(access) end
  elseif err.statusCode == 400 or err.statusCode == 401 then
    refused[access] = { token = used, err = err }
  end
  if locked then store:unlock() end
  refreshing[access] = nil
  if not new then return false, err end
  if st.onRefresh then st.onRefresh(access) end
  return true
end

-- The C vehicle carries the token of the access table.
local function sync(vehicle, st)
  local token = st.access.accessToken
  if token ~= st.token then
    set_token(vehicle, token)
    st.token = token
  end
end

local function is_auth_failure(err)
  return type(err) == "table" and err.statusCode == 401 and err.type == "AUTHENTICATION"
end

-- Call `method` on an authorized vehicle.
local function call(vehicle, method, timeout, ...)
  local st = state[vehicle]
  adopt(st)
  if st.client then
    local access, tried, refresh_err = st.access, false, nil
    if type(access.expiration) == "number" and os_time() >= access.expiration - st.margin then
      local _
      tried = true
      _, refresh_err = refresh(st, access.accessToken, timeout)
    end
    sync(vehicle, st)
    local used = st.token
    local res, err = method(vehicle, ...)
    if is_auth_failure(err) and not tried then
      local ok
      ok, refresh_err = refresh(st, used, timeout)
      if ok then
        sync(vehicle, st)
        return method(vehicle, ...)
      end
    end
    if err and refresh_err then err.refreshError = refresh_err end
    return res, err
  end
  sync(vehicle, st)
  return method(vehicle, ...)
end

--- The constructor of authorized vehicles for one instance's Vehicle class.
-- @return function(id, access, options, newVehicle) -> Vehicle
function M.install(Vehicle, cfg)
  local Authorized = {}
  for name, f in pairs(Vehicle) do
    if name == "setUnitSystem" then
      Authorized[name] = f
    elseif type(f) == "function" and name ~= "new" then
      Authorized[name] = function(self, ...) return call(self, f, cfg.timeout + 1000, ...) end
    end
  end

  return function(id, access, options, new_vehicle)
    local token = rawget(access, "accessToken") -- read raw, as every option table
    if type(token) ~= "string" then
      arg_error(2, "Vehicle.new", "an access table with an accessToken string expected")
    end
    local own, rest = {}, nil
    if options ~= nil then
      if type(options) ~= "table" then arg_error(3, "Vehicle.new", "table expected, got " .. type(options)) end
      rest = {}
      for k, v in next, options do
        if OWN[k] then own[k] = v else rest[k] = v end
      end
    end
    local client, hook, margin = own.authClient, own.onRefresh, own.refreshMargin
    if client ~= nil and not (type(client) == "userdata" and type(client.exchangeRefreshToken) == "function") then
      option_error("authClient", "Vehicle.new", "an AuthClient expected, got " .. type(client))
    end
    if hook ~= nil and type(hook) ~= "function" then
      option_error("onRefresh", "Vehicle.new", "a function expected, got " .. type(hook))
    end
    if margin ~= nil and (type(margin) ~= "number" or not (margin >= 0 and margin < 2 ^ 31)) then
      option_error("refreshMargin", "Vehicle.new", "a number of seconds (>= 0) expected")
    end
    local store = own.store
    if store ~= nil and not (type(store) == "table" and type(store.load) == "function" and
        type(store.save) == "function") then
      option_error("store", "Vehicle.new", "a token store {load=, save=[, tryLock=, unlock=]} expected, got " ..
        type(store))
    end
    local vehicle = new_vehicle(id, token, rest, Authorized)
    state[vehicle] = { access = access, client = client, onRefresh = hook, margin = margin or 60, token = token,
      store = store }
    return vehicle
  end
end

return M
