-- Every public function blames a programmer error on its caller: the message starts
-- with this file and the line of the wrong call, in one style. The table below must
-- name every public function, so a new one cannot be added without its check.
local smartcar = require "smartcar"
local resty = require "smartcar.transport.resty"

local v = smartcar.Vehicle.new("v", "t")
local c = smartcar.AuthClient.new { clientId = "id", clientSecret = "secret" }
local app = smartcar.Application.new { clientId = "client_id", clientSecret = "secret" }

-- name -> a wrong call, each on one line (false: the function takes no argument to get wrong)
local CALLS = {
  new = function() smartcar.new { colour = 1 } end,
  configure = function() smartcar.configure(5) end,
  getConfig = false,
  setApiVersion = function() smartcar.setApiVersion(2) end,
  getApiVersion = false,
  isExpired = function() smartcar.isExpired("soon") end,
  getUser = function() smartcar.getUser(nil) end,
  getVehicles = function() smartcar.getVehicles("t", { size = 1 }) end,
  getVehicle = function() smartcar.getVehicle("t", nil) end,
  getCompatibility = function() smartcar.getCompatibility(nil, {}) end,
  getCompatibilityMatrix = function() smartcar.getCompatibilityMatrix(nil) end,
  getConnections = function() smartcar.getConnections(nil) end,
  deleteConnections = function() smartcar.deleteConnections("amt", {}) end,
  hashChallenge = function() smartcar.hashChallenge("amt", nil) end,
  verifyPayload = function() smartcar.verifyPayload("amt", "sig", 5) end,
  fanOut = function() smartcar.fanOut({ v }, "nope") end,
  all = function() smartcar.all { 42 } end,
  eachVehicleId = function() smartcar.eachVehicleId("t", { pageSize = 0 }) end,
  eachConnection = function() smartcar.eachConnection(nil) end,
  loop = function() smartcar.loop { concurrency = 0 } end,
  parseCallback = function() smartcar.parseCallback(nil) end,
  parseWebhook = function() smartcar.parseWebhook("amt", nil, "{}") end,
  webhookChallenge = function() smartcar.webhookChallenge("amt", { type = "VEHICLE_STATE" }) end,
  ["Application.new"] = function() smartcar.Application.new { clientId = "client_x" } end,
  ["Application:token"] = function() smartcar.Application.token(42) end,
  ["Application:eachConnection"] = function() app:eachConnection { mode = "test" } end,
  ["Application:eachSubscription"] = function() app:eachSubscription { pageSize = 0 } end,
  ["Application:getConnection"] = function() app:getConnection(nil) end,
  ["Application:deleteConnection"] = function() app:deleteConnection("a\nb") end,
  ["Application:deleteUser"] = function() app:deleteUser(5) end,
  ["Application:getSubscription"] = function() app:getSubscription(false) end,
  ["Application:webhooks"] = function() smartcar.Application.webhooks("x") end,
  ["Application:getWebhook"] = function() app:getWebhook("") end,
  ["Application:subscribe"] = function() app:subscribe("w", nil) end,
  ["Application:unsubscribe"] = function() app:unsubscribe({}) end,
  ["Application:vehicle"] = function() app:vehicle("v") end,
  ["Application:applications"] = function() smartcar.Application.applications(42) end,
  ["Application:getApplication"] = function() app:getApplication(nil) end,
  ["Application:applicationSecrets"] = function() app:applicationSecrets("a\nb") end,
  ["V3Vehicle:setChargeLimit"] = function() app:vehicle("v", "u"):setChargeLimit(0.8) end,
  ["V3Vehicle:setDestination"] = function() app:vehicle("v", "u"):setDestination(0, 181) end,
  ["V3Vehicle:signal"] = function() app:vehicle("v", "u"):signal(nil) end,
  ["AuthClient.new"] = function() smartcar.AuthClient.new("x") end,
  ["AuthClient:getAuthUrl"] = function() c:getAuthUrl("read_vin") end,
  ["AuthClient:exchangeCode"] = function() c:exchangeCode(nil) end,
  ["AuthClient:exchangeRefreshToken"] = function() c:exchangeRefreshToken(42) end,
  ["Vehicle.new"] = function() smartcar.Vehicle.new("id", nil) end,
  ["Vehicle:permissions"] = function() v:permissions { page = 1 } end,
  ["Vehicle:serviceHistory"] = function() v:serviceHistory(5) end,
  ["Vehicle:setChargeLimit"] = function() v:setChargeLimit("0.8") end,
  ["Vehicle:sendDestination"] = function() v:sendDestination(91, 0) end,
  ["Vehicle:subscribe"] = function() v:subscribe("a\r\nb") end,
  ["Vehicle:unsubscribe"] = function() v:unsubscribe("a\r\nb", "w") end,
  ["Vehicle:batch"] = function() v:batch {} end,
  ["Vehicle:request"] = function() v:request("GET", "/x", { a = 1 }) end,
  ["Vehicle:getSignal"] = function() v:getSignal(nil) end,
  ["Vehicle:setUnitSystem"] = function() v:setUnitSystem("kelvin") end,
  ["Vehicle:eachPermission"] = function() v:eachPermission { pageSize = "many" } end,
  ["resty.new"] = function() resty.new() end,
}
-- the methods without arguments: called on a bad self
for name, f in pairs(smartcar.Vehicle) do
  if CALLS["Vehicle:" .. name] == nil and name ~= "new" then
    CALLS["Vehicle:" .. name] = function() f(42) end
  end
end
for name in pairs(require("smartcar.v3").vehicle) do
  if type(name) == "string" and CALLS["V3Vehicle:" .. name] == nil then
    CALLS["V3Vehicle:" .. name] = function() local m = app:vehicle("v", "u")[name] m(42) end
  end
end

local function public_functions()
  local names = {}
  for k, f in pairs(smartcar) do
    if type(f) == "function" then names[#names + 1] = k end
  end
  for _, class in ipairs { "AuthClient", "Vehicle", "Application" } do
    for k, f in pairs(smartcar[class]) do
      if type(f) == "function" then names[#names + 1] = class .. (k == "new" and "." or ":") .. k end
    end
  end
  return names
end

describe("programmer errors", function()
  it("are listed for every public function", function()
    for _, name in ipairs(public_functions()) do
      assert.is_not_nil(CALLS[name], "no wrong call listed for " .. name)
    end
  end)

  for name, call in pairs(CALLS) do
    if call then
      it("of " .. name .. " point at the caller's line", function()
        local ok, err = pcall(call)
        assert.is_false(ok)
        assert.are.equal("string", type(err))
        local line = debug.getinfo(call, "S").linedefined
        assert.matches("^[^:]*check_spec%.lua:" .. line .. ": ", err)
        local message = err:gsub("^[^:]*:%d+: ", "")
        assert.is_truthy(message:match("^bad argument #%d to '[%w.:]+' %(.+%)$")
          or message:match("^bad option '%w+' to '[%w.:]+' %(.+%)$")
          or message:match("^unknown option '%w+' to '[%w.:]+'$")
          or message:match("^calling '%w+' on bad self %(%w+ expected, got %w+%)$")
          or message:match("^the resty transport runs only inside nginx"), message)
      end)
    end
  end
end)
