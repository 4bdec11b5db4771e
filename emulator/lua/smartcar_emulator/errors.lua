-- The Smartcar v2.0 error catalog (type, code, status, texts) and the legacy v1.0 shape (the V3 shape, built
-- from the same catalog, is in v3_common).
local json = require "smartcar_emulator.json"

local M = {}

local null = json.null

local WAIT = "Your car is temporarily unable to connect to <app name>. Please be patient while we’re " ..
  "working to resolve this issue."
local VWAIT = "Your vehicle is temporarily unable to connect to <app name>. Please be patient while we’re " ..
  "working to resolve this issue."
local RECONNECT = "Your car got disconnected from <app name>. Please use this link to re-connect your car: " ..
  "<link to Smartcar Connect>."
local SUBSCRIPTION_MSG = "Your car’s connected services subscription has either expired or it doesn’t " ..
  "support the necessary features to connect to <app name>. Please activate your subscription or contact " ..
  "us to upgrade your subscription."

M.STATUS = {
  AUTHENTICATION = 401, BILLING = 430, COMPATIBILITY = 501, CONNECTED_SERVICES_ACCOUNT = 400,
  PERMISSION = 403, RATE_LIMIT = 429, RESOURCE_NOT_FOUND = 404, SERVER = 500, UPSTREAM = 502,
  VALIDATION = 400, VEHICLE_STATE = 409,
}

M.PAGE = {
  AUTHENTICATION = "authentication-errors", BILLING = "billing-errors", COMPATIBILITY = "compatibility-errors",
  CONNECTED_SERVICES_ACCOUNT = "connected-services-account-errors", PERMISSION = "permission-errors",
  RATE_LIMIT = "rate-limit-errors", RESOURCE_NOT_FOUND = "resource-errors", SERVER = "server-errors",
  UPSTREAM = "upstream-errors", VALIDATION = "validation-errors", VEHICLE_STATE = "vehicle-state-errors",
}

-- [type][code or "null"] = { description, resolution type (nil → null), suggestedUserMessage (nil → absent) }
M.CATALOG = {
  AUTHENTICATION = {
    null = { "The authorization header is missing or malformed, or it contains invalid or expired " ..
      "authentication credentials. Please check for missing parameters, spelling and casing mistakes, " ..
      "and other syntax issues." },
  },
  PERMISSION = {
    null = { "Your application has insufficient permissions to access the requested resource. Please prompt " ..
      "the user to re-authenticate using Smartcar Connect.", "REAUTHENTICATE" },
  },
  VALIDATION = {
    null = { "Request invalid or malformed. Please check for missing parameters, spelling and casing " ..
      "mistakes, and other syntax issues.", nil, WAIT },
    PARAMETER = { "Your request is formatted correctly, but one or more of the provided parameters is " ..
      "incorrect.", nil, WAIT },
  },
  RESOURCE_NOT_FOUND = {
    PATH = { "The requested resource does not exist. Please check the URL and try again.", nil, VWAIT },
    VERSION = { "The requested resource does not exist. Please check your specified version number and try " ..
      "again.", nil, VWAIT },
  },
  RATE_LIMIT = {
    SMARTCAR_API = { "Your application has exceeded its rate limit. Please retry your request in a few minutes.",
      "RETRY_LATER", VWAIT },
    VEHICLE = { "You have reached the throttling rate limit for this vehicle. Please see the retry-after " ..
      "header for when to retry the request.", "RETRY_LATER", VWAIT },
  },
  BILLING = {
    VEHICLE_LIMIT = { "You’ve reached the limit of vehicles in your plan. Please upgrade to unlock access to " ..
      "more vehicles.", "CONTACT_SUPPORT" },
    INVALID_PLAN = { "The feature you are trying to use is not included in your current pricing plan. Please " ..
      "visit our pricing page to learn more about our plans and features.", "CONTACT_SUPPORT" },
    VEHICLE_REQUEST_LIMIT = { "You have exceeded the number of API requests that are allowed for this vehicle " ..
      "in the current billing period. Please log into the Smartcar dashboard and visit the Billing tab to " ..
      "learn more.", "CONTACT_SUPPORT" },
    ACCOUNT_SUSPENDED = { "Your Smartcar account is past due and has been suspended. Please reach out to our " ..
      "finance team to resolve this issue.", "FINANCE" },
  },
  COMPATIBILITY = {
    MAKE_NOT_COMPATIBLE = { "Smartcar is not yet compatible with this vehicle’s make in the country you " ..
      "specified.", nil, "Your car is not yet compatible with <app name>." },
    SMARTCAR_NOT_CAPABLE = { "Smartcar does not yet support this feature for this vehicle.", nil,
      "Your car is unable to perform this request." },
    VEHICLE_NOT_CAPABLE = { "The vehicle is incapable of performing your request.", nil,
      "Your car is unable to perform this request." },
    PLATFORM_NOT_CAPABLE = { "You're connected to the vehicle using an OEM integration that does not support " ..
      "this endpoint.", "REAUTHENTICATE", "Your car is unable to perform this request." },
  },
  CONNECTED_SERVICES_ACCOUNT = {
    ACCOUNT_ISSUE = { "Action needed in the user’s connected services account. Please prompt the user to log " ..
      "into their connected services account and complete any outstanding tasks.", nil,
      "Action required in your connected services account. Please log into your connected services app or " ..
      "web portal and complete any outstanding tasks (e.g. finish activating your account or accept the " ..
      "Terms of Service)." },
    AUTHENTICATION_FAILED = { "Smartcar was unable to authenticate with the user’s connected services " ..
      "account. Please prompt the user to re-authenticate using Smartcar Connect.", "REAUTHENTICATE", RECONNECT },
    NO_VEHICLES = { "No vehicles found in the user’s connected services account. Please prompt the user to " ..
      "add their vehicle to their connected services account and re-authenticate using Smartcar Connect.",
      nil, RECONNECT },
    PERMISSION = { "The vehicle owner has revoked Smartcar’s access to their OEM account.", "REAUTHENTICATE" },
    SUBSCRIPTION = { "The vehicle’s connected services subscription is inactive or does not support the " ..
      "requested API endpoint.", nil, SUBSCRIPTION_MSG },
    -- the straight apostrophe of the official Node e2e (test/end-to-end/util.js, written against the live API)
    VEHICLE_MISSING = { "This vehicle is no longer associated with the user's connected services account. " ..
      "Please prompt the user to re-add the vehicle to their account.", nil, SUBSCRIPTION_MSG },
    VIRTUAL_KEY_REQUIRED = { "The vehicle owner needs to grant additional access to Smartcar in order to " ..
      "perform this request.", "ACTION_REQUIRED",
      "In order to perform this request you’ll need to add a Third-Party Virtual key to your vehicle." },
  },
  SERVER = {
    INTERNAL = { "An internal Smartcar error has occurred. Our team has been notified and is working to " ..
      "resolve this issue.", "RETRY_LATER", WAIT },
    RECORD_NOT_FOUND = { "Smartcar was unable to locate a battery capacity record for this vehicle.",
      "CONTACT_SUPPORT", WAIT },
    MULTIPLE_RECORDS_FOUND = { "Smartcar found multiple battery capacity records for this vehicle.",
      "CONTACT_SUPPORT", WAIT },
  },
  UPSTREAM = {
    INVALID_DATA = { "Smartcar received invalid data from an upstream source. Please retry your request at " ..
      "a later time.", "RETRY_LATER", WAIT },
    KNOWN_ISSUE = { "Smartcar received an error from an upstream source. Please retry your request at a " ..
      "later time.", "RETRY_LATER", WAIT },
    NO_RESPONSE = { "One of Smartcar’s upstream sources failed to respond. Please retry your request at a " ..
      "later time.", "RETRY_LATER", WAIT },
    RATE_LIMIT = { "Your application’s requests have exceeded this vehicle’s rate limit.", "RETRY_LATER", WAIT },
    UNKNOWN_ISSUE = { "Smartcar received an unknown error from an upstream source. Please retry your request " ..
      "at a later time and contact us if the issue persists.", "RETRY_LATER", WAIT },
  },
  VEHICLE_STATE = {
    ASLEEP = { "The vehicle is in a sleep state and temporarily unable to perform your request.", nil,
      "Your vehicle is in a sleep state. This request was not sent to preserve battery life." },
    CHARGING_IN_PROGRESS = { "The vehicle is currently charging and unable to perform your request.", nil,
      "Your vehicle is already charging." },
    CHARGING_PLUG_CONNECTED = { "The vehicle is connected to an EV charger and unable to perform your " ..
      "request.", nil, "We’re unable to issue the command because the vehicle is currently plugged in." },
    CHARGING_PLUG_NOT_CONNECTED = { "The vehicle is not connected to an EV charger and unable to perform your " ..
      "request.", nil, "Your vehicle is not plugged in." },
    DOOR_OPEN = { "The vehicle could not perform your request because one or more of its doors are open.", nil,
      "Your vehicle was unable to lock. Please ensure that all doors and the trunk are fully closed." },
    FULLY_CHARGED = { "The vehicle is unable to perform your request because its EV battery is fully charged.",
      nil, "Your vehicle is already fully charged." },
    NOT_CHARGING = { "The vehicle is unable to perform your request because it is not currently charging.", nil,
      "Please ensure that you have plugged an EV charger into your car’s charge port and the vehicle is " ..
      "charging." },
    CHARGE_FAULT = { "The vehicle is connected to an EV charger but cannot perform the request because 1) the " ..
      "charger is not providing any current, or 2) there is a conflict with another charging schedule.", nil,
      "Your vehicle is unable to start or stop charging because of a conflict with the vehicle's charging " ..
      "schedule." },
    HOOD_OPEN = { "The vehicle is unable to perform your request because its hood is open.", nil,
      "Your vehicle was unable to lock. Please ensure that the vehicle's hood is fully closed." },
    IGNITION_ON = { "The vehicle was unable to perform your request because its engine is running.", nil,
      "Your vehicle is currently running." },
    IN_MOTION = { "The vehicle is currently in motion and unable to perform your request.", nil,
      "Your vehicle is unable to perform the request while in motion." },
    REMOTE_ACCESS_DISABLED = { "The vehicle is unable to perform your request because the user has disabled " ..
      "remote access for connected services.", nil,
      "Your vehicle is unable to perform the request as remote access is disabled or unavailable." },
    TRUNK_OPEN = { "The vehicle is unable to perform your request because its trunk is open.", nil,
      "Your vehicle was unable to open the trunk because it is already open." },
    UNKNOWN = { "The vehicle was unable to perform your request due to an unknown issue.", "RETRY_LATER",
      "Your vehicle is temporarily unable to connect due to an unknown issue. Please be patient while we’re " ..
      "working to resolve this issue." },
    UNREACHABLE = { "The vehicle was unable to perform your request because it is currently unreachable.", nil,
      "Your vehicle is currently unreachable. Ensure the vehicle has adequate mobile coverage." },
    VEHICLE_OFFLINE_FOR_SERVICE = { "The vehicle was unable to perform your request because it is currently in " ..
      "service mode.", nil, "Your vehicle is in service mode and temporarily unable to perform this task." },
    LOW_BATTERY = { "The vehicle was unable to perform your request because the 12v or high voltage battery is " ..
      "too low.", "RETRY_LATER", "Your vehicle battery is too low to perform this task." },
  },
}

--- Is (type, code) in the catalog? code may be nil/"null" for the null-code types.
function M.exists(etype, code)
  local t = M.CATALOG[etype]
  return t ~= nil and t[code or "null"] ~= nil
end

local ORDER = { "type", "code", "description", "docURL", "statusCode", "requestId", "resolution",
  "suggestedUserMessage", "detail" }

--- Build a v2 error: returns status, body table, extra headers.
-- opts: detail (array), retryAfter (seconds), resolutionUrl, appName, reauthUrl, description
function M.v2(etype, code, request_id, opts)
  opts = opts or {}
  if code == "null" then code = nil end
  local entry = M.CATALOG[etype][code or "null"]
  local status = M.STATUS[etype]
  local resolution = json.object({ "type", "url" }, { type = entry[2] or null })
  if opts.resolutionUrl then
    resolution.url = opts.resolutionUrl
  elseif etype == "CONNECTED_SERVICES_ACCOUNT" and code == "VIRTUAL_KEY_REQUIRED" then
    resolution.url = "https://www.tesla.com/_ak/smartcar.com"
  end
  local anchor = code and code:lower():gsub("_", "-") or "null"
  local body = json.object(ORDER, {
    type = etype,
    code = code or null,
    description = opts.description or entry[1],
    docURL = "https://smartcar.com/docs/errors/api-errors/" .. M.PAGE[etype] .. "#" .. anchor,
    statusCode = status,
    requestId = request_id,
    resolution = resolution,
  })
  if entry[3] then
    local msg = entry[3]:gsub("<app name>", opts.appName or "<app name>")
    if opts.reauthUrl then
      msg = msg:gsub("<link to Smartcar Connect>", opts.reauthUrl)
    end
    body.suggestedUserMessage = msg
  end
  if opts.detail then body.detail = opts.detail end
  local headers
  if etype == "RATE_LIMIT" then
    headers = { ["Retry-After"] = tostring(opts.retryAfter or 60) }
  end
  return status, body, headers
end

-- Legacy v1.0 shapes.
local V1 = {
  AUTHENTICATION = { "authentication_error", "Invalid or expired token provided." },
  PERMISSION = { "permission_error", "Insufficient permissions to access requested resource." },
  VALIDATION = { "validation_error", "Request invalid or malformed." },
  RESOURCE_NOT_FOUND = { "resource_not_found_error", "The requested resource was not found." },
  RATE_LIMIT = { "rate_limiting_error", "Vehicle rate limit exceeded. Please retry after the time in the " ..
    "retry-after header." },
  COMPATIBILITY = { "vehicle_not_capable_error", "Vehicle is not capable of performing request." },
  VEHICLE_STATE = { "vehicle_state_error", "Vehicle state cannot be determined." },
  CONNECTED_SERVICES_ACCOUNT = { "vehicle_owner_action_required", "Vehicle authentication failed. Please " ..
    "prompt the vehicle owner to log in again using Connect." },
  BILLING = { "monthly_limit_exceeded", "Monthly request limit for this vehicle has been exceeded." },
  SERVER = { "server_error", "Unexpected server error. Please try again." },
  UPSTREAM = { "gateway_timeout_error", "Vehicle did not respond in time. Please try again." },
}

M.V1_CODES = {
  VS_000 = { 409, "vehicle_state_error", "Vehicle state cannot be determined.", "VEHICLE_STATE", "UNKNOWN" },
  VS_001 = { 409, "vehicle_state_error", "Some of the vehicle's doors are open.", "VEHICLE_STATE", "DOOR_OPEN" },
  VS_002 = { 409, "vehicle_state_error", "Some of the vehicle's trunks are open.", "VEHICLE_STATE", "TRUNK_OPEN" },
  VS_003 = { 409, "vehicle_state_error", "The vehicle's hood is open.", "VEHICLE_STATE", "HOOD_OPEN" },
  VS_004 = { 409, "vehicle_state_error", "The vehicle is not plugged in.", "VEHICLE_STATE",
    "CHARGING_PLUG_NOT_CONNECTED" },
  VOA_000 = { 400, "vehicle_owner_action_required", "Vehicle authentication failed. Please prompt the vehicle " ..
    "owner to log in again using Connect.", "CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED" },
  VOA_001 = { 400, "vehicle_owner_action_required", "Connected services subscription invalid or expired. " ..
    "Please prompt the vehicle owner to reactivate their subscription.", "CONNECTED_SERVICES_ACCOUNT",
    "SUBSCRIPTION" },
}

local V1_ORDER = { "error", "message", "code" }

--- Legacy body for a v2 (type, code): status, body, headers.
function M.v1(etype, code, request_id, opts)
  local status, _, headers = M.v2(etype, code, request_id, opts)
  local e = V1[etype]
  local body = json.object(V1_ORDER, { error = e[1], message = e[2] })
  if etype == "VEHICLE_STATE" then
    body.code = "VS_000"
    for k, v in pairs(M.V1_CODES) do
      if v[5] == code and k:sub(1, 2) == "VS" then body.code = k end
    end
  end
  return status, body, headers
end

--- Legacy body for a v1 code (VS_000, VOA_001…): status, body.
function M.v1_code(v1code)
  local e = M.V1_CODES[v1code]
  return e[1], json.object(V1_ORDER, { error = e[2], message = e[3], code = v1code })
end

return M
