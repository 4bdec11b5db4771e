--- The vehicle endpoints as data: one row per method that takes no argument.
-- Each row drives a `Vehicle` method and, for GET rows, the name a `batch`
-- result is read under. `batch = true` marks the paths whose batch name is the
-- method name; every other path's batch name is the camelCase of the path
-- (as the official SDKs do: `/battery/nominal_capacity` -> `batteryNominalCapacity`).
-- @module smartcar.endpoints

return {
  { name = "attributes", method = "GET", path = "/", batch = true },
  { name = "vin", method = "GET", path = "/vin" },
  { name = "odometer", method = "GET", path = "/odometer" },
  { name = "location", method = "GET", path = "/location" },
  { name = "fuel", method = "GET", path = "/fuel" },
  { name = "battery", method = "GET", path = "/battery" },
  { name = "batteryCapacity", method = "GET", path = "/battery/capacity" },
  { name = "nominalCapacity", method = "GET", path = "/battery/nominal_capacity" },
  { name = "charge", method = "GET", path = "/charge" },
  { name = "getChargeLimit", method = "GET", path = "/charge/limit" },
  { name = "engineOil", method = "GET", path = "/engine/oil" },
  { name = "tirePressure", method = "GET", path = "/tires/pressure", batch = true },
  { name = "lockStatus", method = "GET", path = "/security", batch = true },
  { name = "diagnosticSystemStatus", method = "GET", path = "/diagnostics/system_status", batch = true },
  { name = "diagnosticTroubleCodes", method = "GET", path = "/diagnostics/dtcs", batch = true },
  { name = "lock", method = "POST", path = "/security", body = { action = "LOCK" } },
  { name = "unlock", method = "POST", path = "/security", body = { action = "UNLOCK" } },
  { name = "startCharge", method = "POST", path = "/charge", body = { action = "START" } },
  { name = "stopCharge", method = "POST", path = "/charge", body = { action = "STOP" } },
  { name = "disconnect", method = "DELETE", path = "/application" },
}
