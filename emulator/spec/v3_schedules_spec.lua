-- V3 charge schedules (reference §3.9): POST /v3/vehicles/{id}/charge-schedules/{daily,weekly,workweek},
-- GET and DELETE /v3/vehicles/{id}/charge-schedules/{scheduleId}, on the vehicle record the signals read
-- (charge-chargetimers carries scheduleType and scheduleId); makes, permissions, validation, sc-user-id.
local S = require "spec.support"
local V = require "spec.v3_support"

local LOCATION = { latitude = 37.4292, longitude = -122.1382 }

describe("V3 charge schedules", function()
  local token, t, vid, uid
  before_each(function()
    S.reset()
    token = V.app_token()
    t = S.token("sched@example.com", nil, { mode = "simulated" })
    vid, uid = t.vehicles[1], t.user_id -- a Tesla Model 3
  end)
  after_each(function() S.reset() end)

  local function post(kind, attrs, user, vehicle)
    return V.call("POST", "/v3/vehicles/" .. (vehicle or vid) .. "/charge-schedules/" .. kind, token, user or uid,
      attrs and { data = { attributes = attrs } } or nil)
  end
  local function timers(user, vehicle)
    local res = V.call("GET", "/v3/vehicles/" .. (vehicle or vid) .. "/signals/charge-chargetimers", token,
      user or uid)
    assert.are.equal(200, res.status, res.body)
    return res.json.attributes.body.values
  end
  local function assert_schedule_execution(res, action, kind, parameters)
    assert.are.equal(200, res.status, res.body)
    local d = res.json.data
    assert.are.equal("charge-schedule-execution", d.type)
    assert.matches("^exec_%x+$", d.id)
    local a = d.attributes
    assert.are.same({ action, kind, { value = "SUCCESS" }, "sync" },
      { a.action, a.scheduleType, a.status, a.executionMode })
    assert.matches("^sched_%x+$", a.scheduleId)
    if parameters then assert.are.same(parameters, a.parameters) end
    assert.are.equal("/vehicles/" .. vid .. "/charge-schedules/" .. a.scheduleId, d.links.schedule)
    assert.matches("Z$", d.meta.executedAt)
    assert.matches("Z$", d.meta.completedAt)
    assert.is_number(d.meta.durationInSeconds)
    return a.scheduleId
  end

  it("creates a daily schedule (the documented body and answer), read back by the signal and by id", function()
    local body = { location = LOCATION, startTime = "08:00", stopTime = "10:00" }
    assert.are.same({}, timers())
    local id = assert_schedule_execution(post("daily", body), "create", "daily", body)
    local values = timers()
    assert.are.same({ { type = "LOCATION", condition = LOCATION,
      schedules = { { start = "08:00", ["end"] = "10:00", days = { "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY",
        "FRIDAY", "SATURDAY", "SUNDAY" } } }, departureTimers = {}, isOEMOptimizationEnabled = false,
      scheduleType = "DAILY", scheduleId = id } }, values)
    local res = V.call("GET", "/v3/vehicles/" .. vid .. "/charge-schedules/" .. id, token, uid)
    assert.are.equal(200, res.status, res.body)
    local d = res.json.data
    assert.are.same({ id, "charge-schedule", "daily", body, "/vehicles/" .. vid .. "/charge-schedules/" .. id },
      { d.id, d.type, d.attributes.scheduleType, d.attributes.parameters, d.links.self })
    assert.matches("Z$", d.meta.createdAt)
  end)

  it("creates weekly and workweek schedules beside it and deletes one by its scheduleId", function()
    local weekly = { location = LOCATION, days = { monday = { startTime = "01:00", stopTime = "05:00" },
      saturday = { startTime = "22:00", stopTime = "23:59" } } }
    local w = assert_schedule_execution(post("weekly", weekly), "create", "weekly", weekly)
    local workweek = { location = LOCATION, weekdays = { startTime = "00:30", stopTime = "06:00" },
      weekends = { startTime = "10:00", stopTime = "14:00" } }
    local ww = assert_schedule_execution(post("workweek", workweek), "create", "workweek", workweek)
    local values = timers()
    assert.are.equal(2, #values)
    assert.are.same({ "WEEKLY", w, { { start = "01:00", ["end"] = "05:00", days = { "MONDAY" } },
      { start = "22:00", ["end"] = "23:59", days = { "SATURDAY" } } } },
      { values[1].scheduleType, values[1].scheduleId, values[1].schedules })
    assert.are.same({ "WORKWEEK", ww, { { start = "00:30", ["end"] = "06:00",
      days = { "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY" } },
      { start = "10:00", ["end"] = "14:00", days = { "SATURDAY", "SUNDAY" } } } },
      { values[2].scheduleType, values[2].scheduleId, values[2].schedules })
    local res = V.call("DELETE", "/v3/vehicles/" .. vid .. "/charge-schedules/" .. w, token, uid)
    assert_schedule_execution(res, "delete", "weekly", weekly)
    values = timers()
    assert.are.same({ ww }, { values[1].scheduleId, values[2] })
    V.assert_error(V.call("DELETE", "/v3/vehicles/" .. vid .. "/charge-schedules/" .. w, token, uid), 404,
      "RESOURCE_NOT_FOUND", "SCHEDULE_NOT_FOUND", "Charge schedule with ID " .. w .. " not found for vehicle with ID " ..
      vid)
    V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/charge-schedules/" .. w, token, uid), 404,
      "RESOURCE_NOT_FOUND", "SCHEDULE_NOT_FOUND")
  end)

  it("validates the body: one error per bad field", function()
    local res = post("daily", { location = { latitude = 91, longitude = -122 }, startTime = "8:00", stopTime = "24:00" })
    assert.are.equal(400, res.status)
    local details = {}
    for i, e in ipairs(res.json.errors) do
      assert.are.same({ "400", "VALIDATION", "INVALID_INPUT_FORMAT" }, { e.status, e.type, e.code })
      details[i] = e.detail
    end
    assert.are.same({ "Invalid latitude. Latitude must be a number between -90 and 90.",
      "Invalid startTime. It must be a time HH:mm from 00:00 to 23:59.",
      "Invalid stopTime. It must be a time HH:mm from 00:00 to 23:59." }, details)
    V.assert_error(post("daily", { startTime = "08:00", stopTime = "10:00" }), 400, "VALIDATION", "MISSING_PARAMETER",
      "missing location")
    V.assert_error(post("daily"), 400, "VALIDATION", "BAD_REQUEST")
    V.assert_error(post("weekly", { location = LOCATION }), 400, "VALIDATION", "MISSING_PARAMETER", "missing days")
    V.assert_error(post("weekly", { location = LOCATION, days = { someday = { startTime = "01:00",
      stopTime = "02:00" } } }), 400, "VALIDATION", "INVALID_INPUT_FORMAT",
      "Invalid days.someday. Days are monday to sunday.")
    V.assert_error(post("weekly", { location = LOCATION, days = { friday = { startTime = "01:00" } } }), 400,
      "VALIDATION", "MISSING_PARAMETER", "missing days.friday.stopTime")
    res = post("workweek", { location = LOCATION, weekdays = { startTime = "01:00", stopTime = "02:00" } })
    V.assert_error(res, 400, "VALIDATION", "MISSING_PARAMETER", "missing weekends")
    assert.are.equal(1, #res.json.errors)
    assert.are.same({}, timers())
  end)

  it("needs sc-user-id, the user's connection, control_charge (read_charge to read) and a capable make", function()
    local body = { location = LOCATION, startTime = "08:00", stopTime = "10:00" }
    V.assert_error(V.call("POST", "/v3/vehicles/" .. vid .. "/charge-schedules/daily", token, nil,
      { data = { attributes = body } }), 400, "VALIDATION", "MISSING_PARAMETER", "missing userId")
    local other = S.token("other-sched@example.com")
    V.assert_error(post("daily", body, other.user_id), 403, "AUTHENTICATION", "ACCESS_DENIED")
    local ro = S.token("ro-sched@example.com", "read_charge read_vehicle_info", { mode = "simulated" })
    V.assert_error(post("daily", body, ro.user_id, ro.vehicles[1]), 403, "PERMISSION", "INSUFFICIENT_PERMISSIONS",
      "Your application has insufficient permissions to access the requested resource: control_charge was not " ..
      "granted.")
    local wo = S.token("wo-sched@example.com", "control_charge", { mode = "simulated" })
    V.assert_error(V.call("GET", "/v3/vehicles/" .. wo.vehicles[1] .. "/charge-schedules/sched_1", token,
      wo.user_id), 403, "PERMISSION", "INSUFFICIENT_PERMISSIONS")
    -- the Toyota and the Ford of the account: not Tesla or Volvo
    V.assert_error(post("daily", body, nil, t.vehicles[2]), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    V.assert_error(post("workweek", { location = LOCATION, weekdays = body, weekends = body }, nil, t.vehicles[3]),
      501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    -- other methods and paths
    V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/charge-schedules/daily", token, uid), 404,
      "RESOURCE_NOT_FOUND", "INVALID_PATH")
    V.assert_error(V.call("POST", "/v3/vehicles/" .. vid .. "/charge-schedules/sched_1", token, uid), 404,
      "RESOURCE_NOT_FOUND", "INVALID_PATH")
    V.assert_error(V.call("GET", "/v3/vehicles/" .. vid .. "/charge-schedules", token, uid), 404,
      "RESOURCE_NOT_FOUND", "INVALID_PATH")
    -- a v2 token does not reach them
    V.assert_error(V.call("POST", "/v3/vehicles/" .. vid .. "/charge-schedules/daily", t.access_token, uid,
      { data = { attributes = body } }), 401, "AUTHENTICATION", "UNAUTHORIZED")
  end)

  it("gives a Volvo daily schedules only; a test-mode connection succeeds and stores nothing", function()
    S.admin_ok("POST", "/_emulator/authorize", { email = "volvo-sched@example.com",
      url = S.authorize_path({ response_type = "code", client_id = S.CLIENT_ID, redirect_uri = S.REDIRECT_URI,
        scope = "read_vehicle_info read_charge control_charge", make = "VOLVO", mode = "test" }) })
    local conn
    for _, c in ipairs(V.call("GET", "/v3/connections?filter%5Bvehicle.mode%5D=simulated&page%5Bsize%5D=100",
      token).json.data) do
      if c.attributes.vehicle.make == "VOLVO" then conn = c end
    end
    assert.is_table(conn, "the Volvo's connection")
    local volvo_user = conn.relationships.user.data.id
    local volvo = conn.relationships.vehicle.data.id
    local body = { location = LOCATION, startTime = "23:00", stopTime = "06:00" }
    local res = V.call("POST", "/v3/vehicles/" .. volvo .. "/charge-schedules/daily", token, volvo_user,
      { data = { attributes = body } })
    assert.are.equal(200, res.status, res.body)
    assert.are.equal("daily", res.json.data.attributes.scheduleType)
    assert.are.same({}, timers(volvo_user, volvo))
    V.assert_error(V.call("POST", "/v3/vehicles/" .. volvo .. "/charge-schedules/weekly", token, volvo_user,
      { data = { attributes = { location = LOCATION, days = { monday = { startTime = "01:00", stopTime = "02:00" } } } } }),
      501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
  end)

  it("answers 202 past the long-running threshold and finishes in the same body; a failing vehicle fails", function()
    S.admin_ok("POST", "/_emulator/v3/config", { longRunningThreshold = 0.3 })
    S.admin_ok("POST", "/_emulator/v3/vehicles/" .. vid, { commandDelay = 0.5 })
    local res = post("daily", { location = LOCATION, startTime = "08:00", stopTime = "10:00" })
    assert.are.equal(202, res.status)
    assert.are.equal("chunked", res.headers["transfer-encoding"])
    assert.are.same({ "create", "async", "SUCCESS" }, { res.json.data.attributes.action,
      res.json.data.attributes.executionMode, res.json.data.attributes.status.value })
    assert.are.equal(1, #timers())
    local asleep = S.token("VEHICLE_STATE.ASLEEP@smartcar.com")
    res = post("daily", { location = LOCATION, startTime = "08:00", stopTime = "10:00" }, asleep.user_id,
      asleep.vehicles[1])
    V.assert_error(res, 409, "VEHICLE_STATE", "ASLEEP")
  end)
end)
