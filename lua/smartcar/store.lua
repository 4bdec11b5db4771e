--- Token stores for vehicles that keep themselves authorized, shared between
-- processes: `Vehicle.new(id, access, {authClient=, store=})`. A store has
-- `load()` (the latest access table, or nil), `save(access)`, and optionally
-- `tryLock(seconds)` / `unlock()` (one refresh at a time across processes; `seconds`: how long
-- the refresh may take, after which the lock may go by itself).
-- @module smartcar.store

local core = require "smartcar.core"
core.own()

local type = type

local M = {}

--- A store in an nginx `lua_shared_dict`, under `key`: every worker of the server sees the
-- tokens any of them refreshed. The lock expires by itself, should its holder die, once the
-- refresh it was taken for has run out of time (`tryLock(seconds)`), or after `lockSeconds`
-- (default 30) when it is taken without a time.
-- @param dict a `lua_shared_dict`: `ngx.shared.tokens`, say
-- @tparam string key
-- @tparam[opt] number lockSeconds
-- @return a store
-- @usage local store = require("smartcar.store").sharedDict(ngx.shared.tokens, "user:" .. id)
function M.sharedDict(dict, key, lockSeconds)
  local ok, complete = pcall(function() return dict.get and dict.set and dict.add and dict.delete and true end)
  if not (ok and complete) then
    core.argError(1, "sharedDict", "a lua_shared_dict expected, got " .. type(dict))
  end
  core.checkString(key, 2, "sharedDict", true)
  if lockSeconds ~= nil and (type(lockSeconds) ~= "number" or lockSeconds ~= lockSeconds or lockSeconds <= 0) then
    core.argError(3, "sharedDict", "a number of seconds expected")
  end
  local lock_key = key .. ":lock"
  return {
    load = function()
      local text = dict:get(key)
      return type(text) == "string" and core.decode(text) or nil
    end,
    save = function(_, access) dict:set(key, core.encode(access)) end,
    tryLock = function(_, seconds)
      return dict:add(lock_key, true, type(seconds) == "number" and seconds > 0 and seconds or lockSeconds or 30) == true
    end,
    unlock = function() dict:delete(lock_key) end,
  }
end

return M
