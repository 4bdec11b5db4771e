-- What "documented" means for the LDoc reference in doc/, in one place.
--
-- An entry is an anchor `<a name = "NAME">` on one of PAGES; its section runs from the
-- anchor to the end of its `<dd>`. A name (a result's field, an option, a readable
-- field) is documented in a section when the section, or a section it links to under
-- "See also", names it as a parameter or field entry (`meta` and `requestId` both count
-- for `meta.requestId`) or as a word inside a code span (`{requestId, dataAge}`).
--
-- As a script (`make test` runs it after `make docs`): fail when a public function or
-- class method of the SDK, or a member that API.md lists (MEMBERS), is undocumented.
-- spec/docs_spec.lua loads it, `loadfile("scripts/doc-coverage.lua")("library")`, for
-- the same checks and for the fields of every result it gets from the emulator.
local M = {}

M.PAGES = { "doc/modules/smartcar.html", "doc/modules/smartcar.VehicleEndpoints.html" }

-- API.md 0.2 names that the SDK does not have yet: documented once they exist.
M.PLANNED = { "Application", "parseWebhook", "webhookChallenge" }

-- The members API.md lists, by the entry that must name them (options, readable fields, object methods).
function M.members(smartcar)
  local config = require "smartcar.config"
  local options = { "origin", "transport", "onResponse", "caFile", "caPath" }
  for k in pairs(config.DEFAULTS) do options[#options + 1] = k end
  for k in pairs(config.ORIGINS) do options[#options + 1] = k end
  local transports = {}
  for k in pairs(smartcar.transports) do transports[#transports + 1] = k end
  local compat = { "clientId", "clientSecret", "mode", "testMode", "testModeCompatibilityLevel", "flags", "version" }
  return {
    { "new", options }, { "configure", options }, { "transports", transports },
    { "SmartcarError", { "is", "name", "statusCode", "type", "code", "description", "docURL", "detail",
      "suggestedUserMessage", "resolution", "requestId", "retryAfter", "message", "attempts" } },
    { "meta", { "requestId", "dataAge", "fetchedAt", "unitSystem" } },
    { "AuthClient.new", { "clientId", "clientSecret", "redirectUri", "mode", "testMode" } },
    { "AuthClient:getAuthUrl", { "forcePrompt", "state", "makeBypass", "singleSelect", "flags", "user", "externalId" } },
    { "parseCallback", { "code", "state", "error", "errorDescription", "vin", "make", "model", "year", "userId" } },
    { "Application.new", { "clientId", "clientSecret", "commandTimeout" } },
    { "Application:eachConnection", { "userId", "vehicleId", "mode", "pageSize" } },
    { "Application:eachSubscription", { "webhookId", "userId", "vehicleId", "mode", "pageSize" } },
    { "Application:vehicle", { "id", "userId" } },
    { "V3Event", { "type", "id", "vehicleId", "challenge", "user", "vehicle", "signals", "triggers", "errors", "meta",
      "raw" } },
    { "V3Signal", { "code", "name", "group", "status", "value", "unit", "body", "retrievedAt", "oemUpdatedAt" } },
    { "AuthClient:exchangeCode", { "flags" } }, { "AuthClient:exchangeRefreshToken", { "flags" } },
    { "Vehicle.new", { "id", "unitSystem", "version", "flags", "authClient", "onRefresh", "refreshMargin", "store" } },
    { "Vehicle:permissions", { "limit", "offset" } }, { "getVehicles", { "limit", "offset" } },
    { "getConnections", { "userId", "vehicleId", "limit", "cursor" } }, { "deleteConnections", { "userId", "vehicleId" } },
    { "eachVehicleId", { "pageSize" } }, { "Vehicle:eachPermission", { "pageSize" } },
    { "eachConnection", { "userId", "vehicleId", "pageSize" } },
    { "getCompatibility", compat },
    { "getCompatibilityMatrix", { "scope", "make", "type", "mode", "testMode", "testModeCompatibilityLevel",
      "clientId", "clientSecret", "version" } },
    { "all", { "concurrency" } }, { "fanOut", { "concurrency" } },
    { "loop", { "concurrency", "driver", "run", "step", "pending", "done", "result" } },
  }
end

-- The entries the SDK's public functions need: every function of the module, and every
-- method of its classes (the tables with a `new`) as `Class.new` / `Class:method`; names
-- starting with `_` are private.
function M.entries(smartcar)
  local out = {}
  for k, v in pairs(smartcar) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then
      if type(v) == "table" and type(rawget(v, "new")) == "function" then
        for name, f in pairs(v) do
          if type(f) == "function" and name:sub(1, 1) ~= "_" then
            out[#out + 1] = k .. (name == "new" and "." or ":") .. name
          end
        end
      else
        out[#out + 1] = k
      end
    end
  end
  table.sort(out)
  return out
end

local Docs = {}
Docs.__index = Docs

--- The reference as generated in doc/ (nil and a message when it is not there).
function M.load(pages)
  local html = {}
  for i, page in ipairs(pages or M.PAGES) do
    local f = io.open(page)
    if not f then return nil, "no " .. page .. ": run make docs first" end
    html[i] = f:read("*a")
    f:close()
  end
  return setmetatable({ html = html, cache = {} }, Docs)
end

--- The HTML of an entry's section, or nil.
function Docs:section(name)
  local anchor = '<a name = "' .. name .. '"></a>'
  for _, html in ipairs(self.html) do
    local i = html:find(anchor, 1, true)
    if i then
      local j = html:find("</dd>", i, true) or #html
      return html:sub(i, j)
    end
  end
end

local function add_words(set, text)
  for word in text:gmatch("[%a_][%w_]*") do set[word] = true end
end

--- The set of names a section documents (nil when there is no such entry).
function Docs:names(name, seen)
  if self.cache[name] then return self.cache[name] end
  local section = self:section(name)
  if not section then return nil end
  local set = {}
  for entry in section:gmatch('<span class="parameter">(.-)</span>') do add_words(set, entry) end
  local text = section:gsub("<pre.-</pre>", "")
  for code in text:gmatch("`([^`]*)`") do add_words(set, code) end
  for code in text:gmatch("<code>(.-)</code>") do add_words(set, code) end
  local also = section:match("<h3>See also:</h3>(.*)$")
  if also then
    seen = seen or { [name] = true }
    for target in also:gmatch('href="[^"]*#([^"]+)"') do
      if not seen[target] then
        seen[target] = true
        for word in pairs(self:names(target, seen) or {}) do set[word] = true end
      end
    end
  end
  self.cache[name] = set
  return set
end

--- Whether the entry `name` documents `field`.
function Docs:documents(name, field)
  local set = self:names(name)
  return set ~= nil and set[field] == true
end

--- The undocumented public functions and members, sorted ("name" or "entry: member").
function Docs:missing(smartcar)
  local missing = {}
  local entries = M.entries(smartcar)
  for _, name in ipairs(entries) do
    if not self:section(name) then missing[#missing + 1] = name end
  end
  local count = #entries
  for _, m in ipairs(M.members(smartcar)) do
    for _, member in ipairs(m[2]) do
      count = count + 1
      if not self:documents(m[1], member) then missing[#missing + 1] = m[1] .. ": " .. member end
    end
  end
  table.sort(missing)
  return missing, count
end

if ... == "library" then return M end

local docs = assert(M.load())
local smartcar = require "smartcar"
local missing, count = docs:missing(smartcar)
for _, name in ipairs(M.PLANNED) do
  if smartcar[name] == nil then print("docs: not in the SDK yet: " .. name) end
end
if #missing > 0 then
  io.stderr:write("undocumented: " .. table.concat(missing, ", ") .. "\n")
  os.exit(1)
end
print(("docs: all %d public functions and members documented"):format(count))
