-- Write the LDoc reference of the Vehicle methods that take no argument: they are
-- data (lua/smartcar/endpoints.lua), so their docs come from the same table.
local endpoints = dofile("lua/smartcar/endpoints.lua")
local out = {
  "--- The Vehicle methods without arguments, generated from the endpoint table.",
  "-- Each returns the decoded response with `meta`, or `nil, err` (a SmartcarError).",
  "-- @module smartcar.VehicleEndpoints", "",
}
for _, e in ipairs(endpoints) do
  local body = e.body and (' with body `{"action":"%s"}`'):format(e.body.action) or ""
  out[#out + 1] = ("--- Sends `%s %s`%s."):format(e.method, e.path, body)
  out[#out + 1] = "-- @function Vehicle:" .. e.name
  out[#out + 1] = "-- @treturn[1] table the result, with `meta`"
  out[#out + 1] = "-- @treturn[2] nil"
  out[#out + 1] = "-- @treturn[2] SmartcarError"
  out[#out + 1] = ("-- @usage local res, err = vehicle:%s()"):format(e.name)
  out[#out + 1] = ""
end
io.write(table.concat(out, "\n"))
