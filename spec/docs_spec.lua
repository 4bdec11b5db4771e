-- The reference (LDoc, doc/) documents every public function, and every field of every
-- result: each data-returning call is made against the emulator and its result walked
-- (object keys; for a list, the keys of its elements), each field name looked up in the
-- section of the function that returned it. What "documented" means is in
-- scripts/doc-coverage.lua, shared with `make test`.
local smartcar = require "smartcar"
local endpoints = require "smartcar.endpoints"
local H = require "helper"

local coverage = assert(loadfile("scripts/doc-coverage.lua"))("library")

-- doc/ as `make docs` writes it; built here when it is missing.
local function reference()
  local docs = coverage.load()
  if docs then return docs end
  os.execute("mkdir -p build/ldoc")
  local f = assert(io.open("build/ldoc/vehicle_endpoints.lua", "w"))
  f:write(assert(loadfile("scripts/endpoint-docs.lua"))("text"))
  f:close()
  os.execute("ldoc -c config.ld . > build/ldoc/log 2>&1")
  return assert(coverage.load())
end

local CREDS = { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET }

-- camelCase of a path, as batch names its results (lua/smartcar/vehicle.lua)
local function camel_case(path)
  local out = {}
  for word in path:gmatch("%w+") do
    word = word:lower()
    out[#out + 1] = #out == 0 and word or word:sub(1, 1):upper() .. word:sub(2)
  end
  return table.concat(out)
end

-- The fields of a result as {path, name}. `rules.keyed[path]`: the keys there are data (a make,
-- a header name), not fields; `rules.opaque[path]`: what is below is not the SDK's (a raw body).
local function fields(value, rules, path, out)
  out = out or {}
  path = path or ""
  if type(value) ~= "table" then return out end
  local keyed = rules.keyed and rules.keyed[path]
  for k, v in pairs(value) do
    if type(k) == "string" then
      local p
      if keyed then
        p = path == "" and "*" or path .. ".*"
      else
        p = path == "" and k or path .. "." .. k
        out[#out + 1] = { p, k }
      end
      if not (rules.opaque and rules.opaque[p]) then fields(v, rules, p, out) end
    else
      fields(v, rules, path, out) -- a list: the keys of its elements
    end
  end
  return out
end

-- The items an iterator gives, as a list (its failure, if any, as the second result).
local collect = H.collect

-- A fresh emulator and a token for the default account: a BEV, a PHEV and an ICE car.
local function fresh()
  H.reset()
  local t = H.token("driver@example.com")
  local vehicles = {}
  for i, id in ipairs(t.vehicles) do vehicles[i] = smartcar.Vehicle.new(id, t.access_token) end
  return t, vehicles
end

-- The vehicles to try an endpoint on, most capable first (the PHEV has every read).
local function candidates(vehicles) return { vehicles[2], vehicles[1], vehicles[3] } end

-- Every data-returning call: `run(check)` calls `check(entry, rules, result, err)` for each result.
local CALLS = {}
local function call(name, run) CALLS[#CALLS + 1] = { name, run } end

call("module functions", function(check)
  local t = fresh()
  check("getUser", nil, smartcar.getUser(t.access_token))
  check("getVehicles", nil, smartcar.getVehicles(t.access_token, { limit = 2 }))
  check("eachVehicleId", nil, collect(smartcar.eachVehicleId(t.access_token)))
  check("getVehicle", { keyed = { headers = true } }, smartcar.getVehicle(t.access_token, t.vehicles[1]))
  local scope = { "read_odometer", "read_battery", "read_fuel", "read_location" }
  check("getCompatibility", nil, smartcar.getCompatibility("5YJ3E1EA7KF000001", scope, CREDS))
  check("getCompatibility", nil, smartcar.getCompatibility("0SCAUDI037A5ADB1C", scope, "DE", CREDS))
  check("getCompatibilityMatrix", { keyed = { [""] = true } }, smartcar.getCompatibilityMatrix("US", CREDS))
  check("getConnections", nil, smartcar.getConnections(H.AMT, nil, { limit = 1 }))
  check("eachConnection", nil, collect(smartcar.eachConnection(H.AMT, { userId = t.user_id }, { pageSize = 2 })))
  check("deleteConnections", nil, smartcar.deleteConnections(H.AMT, { vehicleId = t.vehicles[3] }))
  check("parseCallback", nil, smartcar.parseCallback("https://example.com/cb?code=c&state=s&error=vehicle_incompatible" ..
    "&error_description=d&vin=0SCAUDI012FE3B132&make=AUDI&model=A4&year=2015&user_id=u"))
  local sc = smartcar.new { retry = { attempts = 2 }, onResponse = function() end, caFile = "ca.pem", caPath = "certs" }
  check("getConfig", nil, sc.getConfig())
end)

call("AuthClient", function(check)
  H.reset()
  local client = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
    redirectUri = H.REDIRECT_URI, mode = "test" }
  local res = H.admin("POST", "/_emulator/authorize", { url = client:getAuthUrl({ "read_odometer" }),
    email = "driver@example.com", approve = true })
  local access, err = client:exchangeCode(H.form(res.location:match("%?(.*)$")).code)
  check("AuthClient:exchangeCode", nil, access, err)
  if access then check("AuthClient:exchangeRefreshToken", nil, client:exchangeRefreshToken(access.refreshToken)) end
end)

-- A method without arguments on one vehicle; a command may need its sibling first (the row
-- with the same method and path: stopCharge after startCharge).
local function answer(v, e)
  local res, err = v[e.name](v)
  if res then return res end
  for _, o in ipairs(endpoints) do
    if o ~= e and o.method == e.method and o.path == e.path and v[o.name](v) then return v[e.name](v) end
  end
  return nil, err
end

-- The methods without arguments (the endpoint table), each on the first vehicle that answers it.
for _, e in ipairs(endpoints) do
  call("Vehicle:" .. e.name, function(check)
    local _, vehicles = fresh()
    local res, err
    for _, v in ipairs(candidates(vehicles)) do
      res, err = answer(v, e)
      if res then break end
    end
    check("Vehicle:" .. e.name, nil, res, err)
  end)
end

call("other Vehicle methods", function(check)
  local _, vehicles = fresh()
  local v = vehicles[2]
  check("Vehicle:permissions", nil, v:permissions { limit = 2 })
  check("Vehicle:eachPermission", nil, collect(v:eachPermission { pageSize = 10 }))
  check("Vehicle:serviceHistory", nil, v:serviceHistory())
  check("Vehicle:setChargeLimit", nil, v:setChargeLimit(0.8))
  check("Vehicle:sendDestination", nil, v:sendDestination(37.4, -122.1))
  check("Vehicle:subscribe", nil, v:subscribe(H.WEBHOOK_ID))
  check("Vehicle:unsubscribe", nil, v:unsubscribe(H.AMT, H.WEBHOOK_ID))
  check("Vehicle:request", { opaque = { body = true } }, v:request("GET", "/odometer"))
  check("Vehicle:request", { opaque = { body = true }, keyed = { headers = true } },
    v:request("GET", "/signals", nil, nil, "3"))
  local signals, err = v:getSignals()
  check("Vehicle:getSignals", { keyed = { headers = true } }, signals, err)
  for _, s in ipairs(signals and signals.body.data or {}) do
    check("Vehicle:getSignal", { keyed = { headers = true } }, v:getSignal(s.id))
  end
  -- batch: its keys are path names; each item's result is documented by the method of its name
  local paths, names = {}, {}
  for _, e in ipairs(endpoints) do
    if e.method == "GET" then
      paths[#paths + 1] = e.path
      names[e.batch and e.name or camel_case(e.path)] = e.name
    end
  end
  local items
  items, err = v:batch(paths)
  check("Vehicle:batch", { keyed = { [""] = true } }, items, err)
  for key, method in pairs(names) do
    local item = items and items[key]
    if item then check("Vehicle:" .. method, nil, item()) else check("Vehicle:batch", nil, nil, "no result for " .. key) end
  end
  -- fanOut: each result is documented by the method called
  local results, errors = smartcar.fanOut({ vehicles[1], vehicles[2] }, "odometer")
  for i = 1, 2 do check("Vehicle:odometer", nil, results[i], errors[i]) end
end)

call("Application (API V3)", function(check)
  local t = fresh()
  local app = H.application()
  check("Application:token", nil, app:token())
  local connections, err = collect(app:eachConnection { userId = t.user_id, mode = "simulated" })
  check("V3Connection", nil, connections and connections[1], err)
  if connections and connections[1] then check("Application:getConnection", nil, app:getConnection(connections[1].id)) end
  local hooks
  hooks, err = app:webhooks()
  check("Application:webhooks", nil, hooks, err)
  for _, w in ipairs(hooks and hooks.webhooks or {}) do check("V3Webhook", nil, w) end
  local v = app:vehicle(t.vehicles[1], t.user_id)
  check("V3Vehicle:attributes", nil, v:attributes())
  local all
  all, err = v:signals()
  check("V3Vehicle:signals", { keyed = { signals = true }, opaque = { ["signals.*.body"] = true } }, all, err)
  for _, s in pairs(all and all.signals or {}) do check("V3Signal", { opaque = { body = true } }, s) end
  check("V3Vehicle:signal", { opaque = { body = true } }, v:signal("odometer-traveleddistance"))
  for _, name in ipairs { "lock", "unlock", "setChargeLimit" } do
    check("V3Vehicle:" .. name, nil, v[name](v, name == "setChargeLimit" and 80 or nil))
  end
  -- charge schedules
  local schedule, serr = v:createDailyChargeSchedule { location = { latitude = 37.4292, longitude = -122.1382 },
    startTime = "08:00", stopTime = "10:00" }
  check("V3Vehicle:createDailyChargeSchedule", nil, schedule, serr)
  local deleted, derr
  if schedule then deleted, derr = v:deleteChargeSchedule(schedule.scheduleId) end
  check("V3Vehicle:deleteChargeSchedule", nil, deleted, derr)
  if hooks and hooks.webhooks[1] then
    check("Application:subscribe", nil, app:subscribe(hooks.webhooks[1].id, v))
    local subs
    subs, err = collect(app:eachSubscription { webhookId = hooks.webhooks[1].id })
    check("V3Subscription", nil, subs and subs[1], err)
    if subs and subs[1] then check("Application:getSubscription", nil, app:getSubscription(subs[1].id)) end
    if subs and subs[1] then check("Application:unsubscribe", nil, app:unsubscribe(subs[1].id)) end
  end
  check("Application:deleteUser", nil, app:deleteUser(t.user_id))
end)

call("SmartcarError", function(check)
  local _, err = smartcar.getUser("not-a-token")
  check("SmartcarError", nil, err)
  local _, vehicles = fresh()
  _, err = vehicles[2]:serviceHistory("2024-13-40")
  check("SmartcarError", { opaque = { detail = true } }, err)
  local asleep = H.vehicle("VEHICLE_STATE.ASLEEP@smartcar.com")
  _, err = asleep:odometer()
  check("SmartcarError", { opaque = { detail = true } }, err)
end)

describe("the reference (doc/)", function()
  local docs
  setup(function()
    docs = reference()
    H.configure()
  end)

  it("has an entry for every public function, class method and member of API.md", function()
    local missing = docs:missing(smartcar)
    assert(#missing == 0, "undocumented: " .. table.concat(missing, ", "))
  end)

  for _, name in ipairs(coverage.PLANNED) do
    if smartcar[name] == nil then pending(name .. " (API.md, V3) is not in the SDK yet") end
  end

  it("documents every field of every result, in the section of the function that returns it", function()
    local undocumented, failed, seen, checked = {}, {}, {}, 0
    local function check(entry, rules, result, err)
      if result == nil then
        failed[#failed + 1] = ("%s: the call failed (%s)"):format(entry, tostring(err and err.message or err))
        return
      end
      if not docs:section(entry) then failed[#failed + 1] = entry .. ": no entry" return end
      for _, f in ipairs(fields(result, rules or {})) do
        checked = checked + 1
        local pair = entry .. ": " .. f[1]
        if not seen[pair] and not docs:documents(entry, f[2]) then
          seen[pair] = true
          undocumented[#undocumented + 1] = pair
        end
      end
    end
    for _, c in ipairs(CALLS) do
      local ok, raised = pcall(c[2], check)
      if not ok then failed[#failed + 1] = c[1] .. ": raised " .. tostring(raised) end
    end
    table.sort(undocumented)
    local report = {}
    if #undocumented > 0 then
      report[#report + 1] = ("%d undocumented fields (function: field):\n  %s"):format(#undocumented,
        table.concat(undocumented, "\n  "))
    end
    if #failed > 0 then report[#report + 1] = "could not check:\n  " .. table.concat(failed, "\n  ") end
    assert(#report == 0, table.concat(report, "\n"))
    assert(checked > 300, "too few fields checked: " .. checked)
  end)
end)
