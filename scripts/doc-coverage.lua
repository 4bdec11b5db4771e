-- Fail when a public function of the SDK has no entry in the LDoc reference (doc/).
local smartcar = require "smartcar"

local html = {}
for _, page in ipairs { "doc/modules/smartcar.html", "doc/modules/smartcar.VehicleEndpoints.html" } do
  local f = assert(io.open(page), "run ldoc first: " .. page)
  html[#html + 1] = f:read("*a")
  f:close()
end
html = table.concat(html)

local function documented(name)
  return html:find('name = "' .. name .. '"', 1, true) ~= nil
end

local missing, count = {}, 0
local function check(name)
  count = count + 1
  if not documented(name) then missing[#missing + 1] = name end
end

for k, v in pairs(smartcar) do
  if type(v) == "function" and k:sub(1, 1) ~= "_" then check(k) end
end
check("transports")
for k in pairs(smartcar.transports) do
  count = count + 1
  if not html:find('<span class="parameter">' .. k .. '</span>', 1, true) then missing[#missing + 1] = "transports." .. k end
end
for _, class in ipairs { "AuthClient", "Vehicle" } do
  for k, v in pairs(smartcar[class]) do
    -- `new` is documented with the type itself; names starting with _ are private.
    if type(v) == "function" and k ~= "new" and k:sub(1, 1) ~= "_" then check(class .. ":" .. k) end
  end
end

table.sort(missing)
if #missing > 0 then
  io.stderr:write("undocumented public functions: " .. table.concat(missing, ", ") .. "\n")
  os.exit(1)
end
print(("docs: all %d public functions documented"):format(count))
