-- Lua values as Lua source and back, for the suite's helper processes (the hostile
-- server's recordings, the nginx runner's outcomes): tables, strings (every byte
-- kept), booleans and numbers (infinities, NaN and all 17 digits kept).
local M = {}

local function write(v, out, seen)
  local t = type(v)
  if t == "table" then
    if seen[v] then error("a cycle cannot be serialized", 0) end
    seen[v] = true
    out[#out + 1] = "{"
    for k, x in pairs(v) do
      out[#out + 1] = "["
      write(k, out, seen)
      out[#out + 1] = "]="
      write(x, out, seen)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
    seen[v] = nil
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\\128-\255]', function(c) return ("\\%03d"):format(c:byte()) end) .. '"'
  elseif t == "number" then
    if v ~= v then
      out[#out + 1] = "(0/0)"
    elseif v == math.huge or v == -math.huge then
      out[#out + 1] = v > 0 and "(1/0)" or "(-1/0)"
    elseif math.type and math.type(v) == "integer" then
      out[#out + 1] = ("%d"):format(v)
    else
      out[#out + 1] = ("%.17g"):format(v)
    end
  elseif t == "boolean" or t == "nil" then
    out[#out + 1] = tostring(v)
  else
    out[#out + 1] = ("%q"):format(tostring(v)) -- a function or userdata: its name only
  end
end

--- `v` as the source of a chunk returning it.
function M.dump(v)
  local out = { "return " }
  write(v, out, {})
  return table.concat(out)
end

--- The value a `dump` describes (loaded with no environment at all).
function M.load(src)
  local chunk, err
  if rawget(_G, "setfenv") then
    chunk, err = loadstring(src, "=serialized")
    if chunk then setfenv(chunk, {}) end
  else
    chunk, err = load(src, "=serialized", "t", {})
  end
  assert(chunk, err)
  return chunk()
end

return M
