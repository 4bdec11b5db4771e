--- API V3 as data: every request of an `Application` and of its vehicles, one row each.
-- A row is what the one C builder (`core.apiRequest`) needs: `method`, `origin` (a
-- configuration key), `version` (the path's `/v3`; `""` for none), `path` (its `{name}`
-- placeholders are filled from the call's arguments, percent-encoded), `auth`, `query`
-- (parameter names on the wire, in order; brackets already encoded, as the links the API
-- sends back are), `headers` (`sc-user-id` from the `userId` argument) and `form`. The rows
-- of `vehicle` also drive the methods of an application's vehicle and their reference
-- (scripts/endpoint-docs.lua): `doc`, `params`, `returns` (field -> "type: meaning").
-- The wire choices the reference marks unconfirmed are kept here, in one place.
-- @module smartcar.v3

local USER = { ["sc-user-id"] = "userId" }

local M = {}

-- The client-credentials grant (reference 2.1): the credentials in a form body, no Authorization.
M.token = { name = "token", method = "POST", origin = "iamOrigin", version = "", path = "/oauth2/token",
  auth = "none", form = { "grant_type", "client_id", "client_secret" } }

local function row(r)
  r.version = r.version or "3"
  r.auth = r.auth or "bearer"
  return r
end

-- The Application's own requests (Vehicle API: connections, users; Management API: webhooks,
-- subscriptions). `args`: the placeholders, in argument order.
M.application = {
  getConnection = row { method = "GET", origin = "vehicleOrigin", path = "/connections/{connectionId}",
    args = { "connectionId" } },
  deleteConnection = row { method = "DELETE", origin = "vehicleOrigin", path = "/connections/{connectionId}",
    args = { "connectionId" } },
  deleteUser = row { method = "DELETE", origin = "vehicleOrigin", path = "/users/{userId}", args = { "userId" } },
  getWebhook = row { method = "GET", origin = "managementApiOrigin", path = "/webhooks/{webhookId}",
    args = { "webhookId" } },
  unsubscribe = row { method = "DELETE", origin = "managementApiOrigin", path = "/subscriptions/{subscriptionId}",
    args = { "subscriptionId" } },
  subscribe = row { method = "POST", origin = "managementApiOrigin", path = "/subscriptions" },
  getSubscription = row { method = "GET", origin = "managementApiOrigin", path = "/subscriptions/{subscriptionId}",
    args = { "subscriptionId" } },
  -- Applications (reference 3.13): listed by community clients only, their bodies unconfirmed; the SDK reads
  -- JSON:API `application` resources (`attributes.name`) and `secret` resources without a value (the
  -- emulator's proposal). No `sc-user-id` (not documented for the Management API), no paging (none known).
  applications = row { method = "GET", origin = "managementApiOrigin", path = "/applications" },
  getApplication = row { method = "GET", origin = "managementApiOrigin", path = "/applications/{applicationId}",
    args = { "applicationId" } },
  applicationSecrets = row { method = "GET", origin = "managementApiOrigin",
    path = "/applications/{applicationId}/secrets", args = { "applicationId" } },
}

-- The lists, paged by `page[number]`/`page[size]` (reference 1.3, 3.1, 3.11, 3.12). `filters`: the
-- iterator's option -> its query parameter; `size`: the default page size; `max`: the largest.
local NUMBER, SIZE = "page%5Bnumber%5D", "page%5Bsize%5D"
M.NUMBER, M.SIZE = NUMBER, SIZE
M.lists = {
  connections = row { method = "GET", origin = "vehicleOrigin", path = "/connections",
    query = { "filter%5BuserId%5D", "filter%5BvehicleId%5D", "filter%5Bvehicle.mode%5D", NUMBER, SIZE },
    filters = { userId = "filter%5BuserId%5D", vehicleId = "filter%5BvehicleId%5D", mode = "filter%5Bvehicle.mode%5D" },
    size = 10, max = 100 },
  subscriptions = row { method = "GET", origin = "managementApiOrigin", path = "/subscriptions",
    query = { "filter%5BwebhookId%5D", "filter%5BuserId%5D", "filter%5BvehicleId%5D", "filter%5Bvehicle.mode%5D",
      NUMBER, SIZE },
    filters = { webhookId = "filter%5BwebhookId%5D", userId = "filter%5BuserId%5D", vehicleId = "filter%5BvehicleId%5D",
      mode = "filter%5Bvehicle.mode%5D" },
    size = 25, max = 100 },
  webhooks = row { method = "GET", origin = "managementApiOrigin", path = "/webhooks", query = { NUMBER, SIZE },
    filters = {}, size = 100, max = 100 },
}

local SIGNAL = "table: `{code, name, group, status, value, unit, body, retrievedAt, oemUpdatedAt}` (see `V3Signal`)"
local COMMAND = {
  id = "string: the execution id, e.g. `exec_...`",
  commandType = "string: `<family>-<action>`, e.g. `security-lock`",
  status = "string: `SUCCESS` (an `ERROR` outcome is returned as `nil, err`)",
  executionMode = "string: e.g. `sync`",
  executedAt = "string: ISO-8601", completedAt = "string: ISO-8601",
  durationInSeconds = "integer: how long the vehicle took",
}
-- A charge schedule's execution (reference 3.9): the command's fields and the schedule's.
local SCHEDULE = {
  id = COMMAND.id, status = COMMAND.status, executionMode = COMMAND.executionMode,
  executedAt = COMMAND.executedAt, completedAt = COMMAND.completedAt, durationInSeconds = COMMAND.durationInSeconds,
  action = "string: `create` or `delete`",
  scheduleType = "string: `daily`, `weekly` or `workweek` (as the API sends it)",
  scheduleId = "string: the schedule's id, e.g. `sched_...` (pass it to `deleteChargeSchedule`)",
  parameters = "table: the schedule as the API echoes it: `location` `{latitude, longitude}`, `startTime`, " ..
    "`stopTime` (`HH:mm`), `days` (weekday name -> `{startTime, stopTime}`), `weekdays`, `weekends`",
  schedule = "string: the schedule's path, the API's `links.schedule` (nil when not sent)",
}
local LOCATION = "`location` `{latitude = -90..90, longitude = -180..180}`"
local WINDOW = "`{startTime, stopTime}`, each `HH:mm` (00:00..23:59)"

local function command(name, path, doc, extra)
  local r = row { name = name, method = "POST", origin = "vehicleOrigin", path = "/vehicles/{vehicleId}/commands/" .. path,
    headers = USER, command = true, doc = doc, returns = COMMAND }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

-- The methods of an application's vehicle (`app:vehicle(vehicleId, userId)`).
M.vehicle = {
  row { name = "attributes", method = "GET", origin = "vehicleOrigin", path = "/vehicles/{vehicleId}",
    headers = USER, doc = "The vehicle's make, model, year and the like.",
    returns = { id = "string: the vehicle id", make = "string: upper case, e.g. `TESLA`", model = "string: e.g. `Model 3`",
      year = "integer: the model year", powertrainType = "string: e.g. `BEV`, `ICE` (nil when not sent)",
      mode = "string: `live` or `simulated` (nil when not sent)" } },
  row { name = "signals", method = "GET", origin = "vehicleOrigin", path = "/vehicles/{vehicleId}/signals",
    headers = USER, query = { "page", "pageSize" }, pages = true,
    doc = "Every signal Smartcar holds for the vehicle, every page fetched (by the `links.next` the API sends). " ..
      "A signal that failed (one the app was not granted, say) is there too, its `status` `ERROR` and its `error` set.",
    returns = { signals = "table: signal code -> " .. SIGNAL } },
  row { name = "signal", method = "GET", origin = "vehicleOrigin", path = "/vehicles/{vehicleId}/signals/{code}",
    headers = USER, params = { { "code", "string", "a signal code, e.g. `odometer-traveleddistance`" } },
    doc = "One signal, by its code.", returns = "signal" },
  command("lock", "security/lock", "Locks the doors."),
  command("unlock", "security/unlock", "Unlocks the doors."),
  command("startCharge", "charge/start", "Starts charging."),
  command("stopCharge", "charge/stop", "Stops charging."),
  command("openChargePort", "charge-port/open", "Opens the charge port."),
  command("closeChargePort", "charge-port/close", "Closes the charge port."),
  command("setChargeLimit", "charge/set-limit", "Sets the charge limit, in percent (V3 speaks percent, not a fraction).",
    { attributes = { "percent" }, params = { { "percent", "integer", "50..100 (raises outside)" } } }),
  command("setDestination", "navigation/set-destination", "Sends a destination to the vehicle's navigation.",
    { attributes = { "latitude", "longitude" }, params = { { "latitude", "number", "-90..90 (raises outside)" },
      { "longitude", "number", "-180..180 (raises outside)" } } }),
  -- Charge schedules (reference 3.9): recurring charge windows at a location; read back from the
  -- `charge-chargetimers` signal. The bodies of weekly and workweek are the reference's proposal.
  command("createDailyChargeSchedule", "daily", "Creates a daily charge schedule (a window every day at a location).",
    { path = "/vehicles/{vehicleId}/charge-schedules/daily", schedule = "daily", returns = SCHEDULE,
      fields = { location = true, startTime = true, stopTime = true },
      params = { { "schedule", "table", "`{location =, startTime =, stopTime =}`: " .. LOCATION ..
        "; `startTime`, `stopTime` `HH:mm` (00:00..23:59); raises on anything else" } } }),
  command("createWeeklyChargeSchedule", "weekly", "Creates a weekly charge schedule (a window per weekday).",
    { path = "/vehicles/{vehicleId}/charge-schedules/weekly", schedule = "weekly", returns = SCHEDULE,
      fields = { location = true, days = true },
      params = { { "schedule", "table", "`{location =, days =}`: " .. LOCATION .. "; `days` weekday name " ..
        "(`monday`..`sunday`, at least one) -> " .. WINDOW .. "; raises on anything else" } } }),
  command("createWorkweekChargeSchedule", "workweek",
    "Creates a workweek charge schedule (one window Monday to Friday, one at weekends).",
    { path = "/vehicles/{vehicleId}/charge-schedules/workweek", schedule = "workweek", returns = SCHEDULE,
      fields = { location = true, weekdays = true, weekends = true },
      params = { { "schedule", "table", "`{location =, weekdays =, weekends =}`: " .. LOCATION .. "; `weekdays` " ..
        "and `weekends` each " .. WINDOW .. " (at least one of them); raises on anything else" } } }),
  command("deleteChargeSchedule", "delete", "Deletes a charge schedule, by the `scheduleId` its creation returned.",
    { method = "DELETE", path = "/vehicles/{vehicleId}/charge-schedules/{scheduleId}", returns = SCHEDULE,
      params = { { "scheduleId", "string", "the schedule's id, e.g. `sched_...`" } } }),
  -- The schedule itself (reference 3.9/3.10: the path is the executions' `links.schedule`, "retrieve" is in the
  -- spec's tags; its body is unconfirmed: a `charge-schedule` resource, the emulator's proposal). A read, not a
  -- command: `sc-user-id` as on every charge-schedule path (reference 2.2).
  row { name = "getChargeSchedule", method = "GET", origin = "vehicleOrigin",
    path = "/vehicles/{vehicleId}/charge-schedules/{scheduleId}", headers = USER,
    params = { { "scheduleId", "string", "the schedule's id, e.g. `sched_...` (a creation's `scheduleId`)" } },
    doc = "One charge schedule, by the `scheduleId` its creation returned (Smartcar does not document this " ..
      "body: the fields below are what the SDK reads).",
    returns = { id = "string: the schedule's id, e.g. `sched_...`",
      scheduleType = "string: `daily`, `weekly` or `workweek` (as the API sends it)",
      parameters = SCHEDULE.parameters,
      createdAt = "string: ISO-8601, when the schedule was created (nil when not sent)" } },
}
--- A V3 time stamp as the SDK gives it: a number becomes epoch seconds (milliseconds when it is
-- past 10^11: the reference sees both), a string (ISO-8601) is kept as sent; anything else, nil.
function M.timestamp(v)
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return nil end
    return v > 1e11 and v / 1000 or v
  end
  return type(v) == "string" and v or nil
end

for _, r in ipairs(M.vehicle) do M.vehicle[r.name] = r end
for name, r in pairs(M.application) do r.name = name end
for name, r in pairs(M.lists) do r.name = name end

return M
