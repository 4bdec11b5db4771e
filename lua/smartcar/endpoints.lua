--- The vehicle endpoints as data: one row per method that takes no argument.
-- Each row drives a `Vehicle` method and, for GET rows, the name a `batch`
-- result is read under. `batch = true` marks the paths whose batch name is the
-- method name; every other path's batch name is the camelCase of the path
-- (as the official SDKs do: `/battery/nominal_capacity` -> `batteryNominalCapacity`).
-- `doc` and `returns` (field name -> "type: meaning") are the method's reference
-- (scripts/endpoint-docs.lua writes it; every result also has `meta`).
-- @module smartcar.endpoints

local DISTANCE = "number: km (metric) or miles (imperial)"
local STATUSES = " `{type, status}`, `status` one of `OPEN`, `CLOSED`, `UNKNOWN`"
local COMMAND = { status = "string: `success`", message = "string: e.g. `Successfully sent request to vehicle`" }

return {
  { name = "attributes", method = "GET", path = "/", batch = true, doc = "The vehicle's id, make, model and year.",
    returns = { id = "string: the vehicle id", make = "string: upper case, e.g. `TESLA`", model = "string: e.g. `Model 3`",
      year = "integer: the model year" } },
  { name = "vin", method = "GET", path = "/vin", doc = "The vehicle identification number.",
    returns = { vin = "string: 17 characters" } },
  { name = "odometer", method = "GET", path = "/odometer", doc = "The total distance traveled.",
    returns = { distance = DISTANCE } },
  { name = "location", method = "GET", path = "/location", doc = "The last known location.",
    returns = { latitude = "number: degrees, -90..90", longitude = "number: degrees, -180..180" } },
  { name = "fuel", method = "GET", path = "/fuel", doc = "The fuel tank (any field may be nil).",
    returns = { amountRemaining = "number: liters (metric) or US gallons (imperial)",
      percentRemaining = "number: a fraction of the tank, 0..1", range = DISTANCE } },
  { name = "battery", method = "GET", path = "/battery", doc = "The EV battery's state of charge.",
    returns = { percentRemaining = "number: a fraction of a full charge, 0..1", range = DISTANCE } },
  { name = "batteryCapacity", method = "GET", path = "/battery/capacity", doc = "The EV battery's capacity.",
    returns = { capacity = "number: kWh" } },
  { name = "nominalCapacity", method = "GET", path = "/battery/nominal_capacity",
    doc = "The EV battery's nominal capacity, and the capacities the model comes with.",
    returns = { availableCapacities = "{table,...}: each `{capacity, description}` (kWh; a string or nil)",
      capacity = "table: `{nominal, source}` (kWh; `SMARTCAR` or `USER_SELECTED`), nil when not determined",
      url = "string: the Connect page where the user picks the capacity when `capacity` is nil, else nil" } },
  { name = "charge", method = "GET", path = "/charge", doc = "Whether the vehicle is plugged in and charging.",
    returns = { isPluggedIn = "boolean", state = "string: `CHARGING`, `FULLY_CHARGED` or `NOT_CHARGING`" } },
  { name = "getChargeLimit", method = "GET", path = "/charge/limit", doc = "The charge limit.",
    returns = { limit = "number: the fraction of a full charge where charging stops, 0.5..1" } },
  { name = "engineOil", method = "GET", path = "/engine/oil", doc = "The engine oil's remaining life.",
    returns = { lifeRemaining = "number: 0..1 (1: just changed, 0: change now)" } },
  { name = "tirePressure", method = "GET", path = "/tires/pressure", batch = true, doc = "The tire pressures.",
    returns = { frontLeft = "number: kPa (metric) or psi (imperial)", frontRight = "number: as `frontLeft`",
      backLeft = "number: as `frontLeft`", backRight = "number: as `frontLeft`" } },
  { name = "lockStatus", method = "GET", path = "/security", batch = true,
    doc = "Whether the vehicle is locked, and its openings (a list is empty when the vehicle does not report it).",
    returns = { isLocked = "boolean",
      doors = "{table,...}:" .. STATUSES .. "; `type` `frontLeft`, `frontRight`, `backLeft` or `backRight`",
      windows = "{table,...}: as `doors`", sunroof = "{table,...}:" .. STATUSES,
      storage = "{table,...}:" .. STATUSES .. "; `type` `front` or `rear`", chargingPort = "{table,...}:" .. STATUSES } },
  { name = "diagnosticSystemStatus", method = "GET", path = "/diagnostics/system_status", batch = true,
    doc = "The state of the vehicle's systems.",
    returns = { systems = "{table,...}: each `{systemId, status, description}`: `systemId` e.g. `SYSTEM_TPMS`, " ..
      "`status` `OK` or `ALERT`, `description` a string or nil" } },
  { name = "diagnosticTroubleCodes", method = "GET", path = "/diagnostics/dtcs", batch = true,
    doc = "The active diagnostic trouble codes.",
    returns = { activeCodes = "{table,...}: each `{code, timestamp}`: `code` e.g. `P0420`, `timestamp` ISO-8601 or nil" } },
  { name = "lock", method = "POST", path = "/security", body = { action = "LOCK" }, doc = "Locks the vehicle.",
    returns = COMMAND },
  { name = "unlock", method = "POST", path = "/security", body = { action = "UNLOCK" }, doc = "Unlocks the vehicle.",
    returns = COMMAND },
  { name = "startCharge", method = "POST", path = "/charge", body = { action = "START" }, doc = "Starts charging.",
    returns = COMMAND },
  { name = "stopCharge", method = "POST", path = "/charge", body = { action = "STOP" }, doc = "Stops charging.",
    returns = COMMAND },
  { name = "disconnect", method = "DELETE", path = "/application",
    doc = "Revokes the application's access to the vehicle (the token no longer covers it).",
    returns = { status = "string: `success`" } },
}
