-- The vehicles the host examples read (game.lua, luv.lua): `dofile(".../account.lua")()` points the SDK
-- at SMARTCAR_EMULATOR_ORIGIN when it is set and returns a Vehicle for each vehicle of the access
-- token SMARTCAR_ACCESS_TOKEN, or else of a token the emulator issues for its demo account.
-- Setup is ordinary blocking code, like loading a level.
local smartcar = require "smartcar"

local function env(name)
  local value = os.getenv(name)
  return value ~= "" and value or nil
end

return function()
  local origin = env("SMARTCAR_EMULATOR_ORIGIN")
  if origin then smartcar.configure { origin = origin } end

  -- The access token and the ids of its vehicles.
  local token, ids = env("SMARTCAR_ACCESS_TOKEN"), {}
  if not token then
    assert(origin, "set SMARTCAR_ACCESS_TOKEN, or SMARTCAR_EMULATOR_ORIGIN to use the emulator's demo account")
    -- The emulator's admin shortcut (no Connect flow), through the SDK's own transport object.
    local status, _, body = smartcar.transports.libcurl:request("POST", origin .. "/_emulator/tokens",
      { ["content-type"] = "application/json" }, '{"email":"demo@example.com"}')
    assert(status == 200, "the emulator issued no token: " .. tostring(body))
    token = assert(body:match('"access_token":"([^"]+)"'), "no access_token in " .. body)
    for id in (body:match('"vehicles":%[([^%]]*)%]') or ""):gmatch('"([^"]+)"') do ids[#ids + 1] = id end
  end
  if #ids == 0 then ids = assert(smartcar.getVehicles(token)).vehicles end
  assert(#ids > 0, "the account has no vehicles")
  local vehicles = {}
  for i, id in ipairs(ids) do vehicles[i] = smartcar.Vehicle.new(id, token) end
  return vehicles
end
