-- The rock installs what the checkout has: every Lua module under lua/ and every C
-- source under src/ (a file left out builds and passes here, and breaks the install).
local function rockspec(path)
  local env = {}
  local chunk
  if rawget(_G, "setfenv") then
    chunk = assert(loadfile(path))
    setfenv(chunk, env)
  else
    chunk = assert(loadfile(path, "t", env))
  end
  chunk()
  return env
end

local function files(pattern)
  local list = {}
  local p = assert(io.popen("find lua src -type f | sort"))
  for line in p:lines() do
    if line:match(pattern) then list[#list + 1] = line end
  end
  p:close()
  return list
end

describe("the SDK's rockspec", function()
  local spec = rockspec("rockspec/smartcar-scm-1.rockspec")
  local modules = spec.build.modules

  it("lists every Lua module of lua/ under its module name", function()
    local missing = {}
    for _, path in ipairs(files("%.lua$")) do
      local name = path:gsub("^lua/", ""):gsub("/init%.lua$", ""):gsub("%.lua$", ""):gsub("/", ".")
      if modules[name] ~= path then missing[#missing + 1] = name .. " = " .. path end
    end
    assert.are.same({}, missing)
  end)

  it("builds smartcar.core from every C source of src/", function()
    local listed = {}
    for _, s in ipairs(modules["smartcar.core"].sources) do listed[s] = true end
    local missing = {}
    for _, path in ipairs(files("%.c$")) do
      if not listed[path] then missing[#missing + 1] = path end
    end
    assert.are.same({}, missing)
  end)
end)
