-- Write the LDoc reference of the Vehicle methods that take no argument: they are
-- data (lua/smartcar/endpoints.lua), so their docs come from the same table: `doc`
-- is the summary, `returns` (field name -> "type: meaning") the fields of the result.
-- `lua scripts/endpoint-docs.lua` prints the text; called with "text" (loadfile) it
-- returns it.
local endpoints = dofile("lua/smartcar/endpoints.lua")
local META = "`{requestId, dataAge, fetchedAt, unitSystem}`, from the response headers (see `meta` in the smartcar module)"

local out

-- The result's fields (`returns`: name -> "type: meaning"), sorted, then its `meta`.
local function result_fields(returns, meta)
  out[#out + 1] = "-- @treturn[1] table the result"
  local names = {}
  for name in pairs(returns) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local kind, meaning = returns[name]:match("^([^:]+):?%s*(.*)$")
    out[#out + 1] = ("-- @tfield[table] %s %s %s"):format(kind, name, meaning)
  end
  out[#out + 1] = "-- @tfield[table] table meta " .. meta
end

out = {
  "--- The Vehicle methods without arguments, generated from the endpoint table.",
  "-- Each returns the decoded response, its fields listed under Returns, with `meta`;",
  "-- or `nil, err` (a SmartcarError). Numbers follow the vehicle's unit system where a",
  "-- field says so. `vehicle:batch` reads the GET ones in one request.",
  "-- @module smartcar.VehicleEndpoints", "",
}
for _, e in ipairs(endpoints) do
  local body = e.body and (' with body `{"action":"%s"}`'):format(e.body.action) or ""
  out[#out + 1] = ("--- %s Sends `%s %s`%s."):format(e.doc, e.method, e.path, body)
  out[#out + 1] = "-- @function Vehicle:" .. e.name
  result_fields(e.returns, META)
  out[#out + 1] = "-- @treturn[2] nil"
  out[#out + 1] = "-- @treturn[2] SmartcarError"
  out[#out + 1] = ("-- @usage local res, err = vehicle:%s()"):format(e.name)
  out[#out + 1] = ""
end
-- API V3: the methods of an application's vehicle (`app:vehicle(id, userId)`), from lua/smartcar/v3.lua.
local v3 = dofile("lua/smartcar/v3.lua")
local V3_META = "`{requestId}`, the `sc-request-id` header (a list's also the API's `totalCount`)"
for _, e in ipairs(v3.vehicle) do
  local headers = e.headers and " with `sc-user-id`" or ""
  local deadline = e.command and " A long-running (202) answer is read to its end, within the Application's " ..
    "`commandTimeout`, and judged by its body; a command is never sent twice." or ""
  out[#out + 1] = ("--- API V3. %s Sends `%s {vehicleOrigin}/v3%s`%s.%s"):format(e.doc, e.method, e.path, headers, deadline)
  out[#out + 1] = "-- @function V3Vehicle:" .. e.name
  local args = {}
  for _, p in ipairs(e.params or {}) do
    out[#out + 1] = ("-- @tparam %s %s %s"):format(p[2], p[1], p[3])
    args[#args + 1] = p[1]
  end
  if e.returns == "signal" then
    out[#out + 1] = "-- @treturn[1] table the signal, `{code, name, group, status, error, body, value, unit, " ..
      "retrievedAt, oemUpdatedAt}` (see `smartcar.V3Signal`), with `meta` " .. V3_META
  else
    result_fields(e.returns, V3_META)
  end
  out[#out + 1] = "-- @treturn[2] nil"
  out[#out + 1] = "-- @treturn[2] SmartcarError"
  out[#out + 1] = ("-- @usage local res, err = vehicle:%s(%s)"):format(e.name, table.concat(args, ", "))
  out[#out + 1] = ""
end
local text = table.concat(out, "\n")
if ... == "text" then return text end
io.write(text)
