-- The rock installs what the checkout has: every Lua module under lua/ and every C
-- source under src/ (a file left out builds and passes here, and breaks the install).
-- One version number everywhere: the release rockspecs, _VERSION, the User-Agent and
-- the changelog; a release rockspec is its scm rockspec with a version and a tag.
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

local function without_release(spec)
  local copy = {}
  for k, v in pairs(spec) do copy[k] = v end
  copy.version = nil
  copy.source = {}
  for k, v in pairs(spec.source) do if k ~= "tag" then copy.source[k] = v end end
  return copy
end

describe("the release", function()
  local smartcar = require "smartcar"
  local version = smartcar._VERSION

  for _, dir in ipairs { { "rockspec", "smartcar" }, { "emulator", "smartcar-emulator" } } do
    local folder, package = dir[1], dir[2]
    it("of " .. package .. " is its scm rockspec with the version and its tag", function()
      local path = ("%s/%s-%s-1.rockspec"):format(folder, package, version)
      local release = rockspec(path)
      local scm = rockspec(("%s/%s-scm-1.rockspec"):format(folder, package))
      assert.are.equal(version .. "-1", release.version)
      assert.are.equal("v" .. version, release.source.tag)
      assert.matches("^git%+https://", release.source.url)
      assert.are.same(without_release(scm), without_release(release))
      local p = assert(io.popen("ls " .. folder .. "/*.rockspec"))
      local listed = {}
      for line in p:lines() do listed[#listed + 1] = line end
      p:close()
      assert.are.same({ path, ("%s/%s-scm-1.rockspec"):format(folder, package) }, listed)
    end)
  end

  it("names its version in the User-Agent and in the changelog", function()
    assert.matches("^%d+%.%d+%.%d+$", version)
    assert.are.equal("Smartcar/" .. version .. " ", smartcar.userAgent:sub(1, #version + 10))
    local changelog = assert(io.open("CHANGELOG.md")):read("*a")
    assert.truthy(changelog:find("\n## %[" .. version:gsub("%.", "%%.") .. "%] %- %d%d%d%d%-%d%d%-%d%d\n"))
    assert.truthy(changelog:find("\n%[" .. version:gsub("%.", "%%.") .. "%]: https://"))
  end)
end)
