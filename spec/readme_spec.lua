-- The README's Lua code blocks run, in order, as one program against the emulator.
-- Placeholders are replaced by the emulator's demo app, and `code` is a real
-- authorization code obtained by completing Connect on the emulator's pages. Blocks
-- fenced as "lua nginx" only run inside nginx and are left out.
local smartcar = require "smartcar"
local browser = require "smartcar_emulator.browser"
local H = require "helper"

-- The code blocks fenced as ```<language> (exactly) in a Markdown file, in order.
local function code_blocks(path, language)
  local text = assert(io.open(path)):read("*a")
  local blocks = {}
  for block in text:gmatch("```" .. language .. "\n(.-)```") do blocks[#blocks + 1] = block end
  return blocks
end

describe("README.md", function()
  it("has code blocks that run against the emulator", function()
    H.reset()
    H.configure()
    local blocks = code_blocks("README.md", "lua")
    assert.is_true(#blocks >= 2)
    local program = table.concat(blocks, "\n")
      :gsub('"<client id>"', '"' .. H.CLIENT_ID .. '"')
      :gsub('"<client secret>"', '"' .. H.CLIENT_SECRET .. '"')
      :gsub('"<redirect uri>"', '"' .. H.REDIRECT_URI .. '"')
      :gsub('"<api client id>"', '"' .. H.API_CLIENT_ID .. '"')
      :gsub('"<api client secret>"', '"' .. H.API_CLIENT_SECRET .. '"')
    local client = smartcar.AuthClient.new { clientId = H.CLIENT_ID, clientSecret = H.CLIENT_SECRET,
      redirectUri = H.REDIRECT_URI, mode = "test" }
    local location = assert(browser.connect(client:getAuthUrl({ "read_odometer", "read_vehicle_info" }),
      { email = "driver@example.com" }))
    local printed = {}
    local env = setmetatable({
      code = H.form(location:match("%?(.*)$")).code,
      print = function(...) printed[#printed + 1] = table.concat({ tostring((...)) }, " ") end,
    }, { __index = _G })
    local chunk
    if setfenv then
      chunk = assert(loadstring(program, "=README.md"))
      setfenv(chunk, env)
    else
      chunk = assert(load(program, "=README.md", "t", env))
    end
    chunk()
    assert.is_true(#printed >= 1)
    H.clear()
  end)
end)

-- The README's shell recipes run as written, in bash, in a copy of the checkout (so
-- nothing they build lands in it) with a home of their own (for `luarocks --local`). The
-- block of the two commands is what CI runs: it is checked against .ci/run instead.
local function shell(command)
  local p = assert(io.popen(command .. " 2>&1; echo \"exit $?\""))
  local out = p:read("*a")
  p:close()
  local body, status = out:match("^(.-)exit (%d+)\n$")
  return tonumber(status), body
end

describe("README.md's shell recipes", function()
  local blocks = code_blocks("README.md", "sh")

  it("start with the two commands, which CI runs", function()
    local commands = {}
    for line in blocks[1]:gmatch("[^\n]+") do commands[#commands + 1] = line:match("^(.-)%s*#") or line end
    assert.are.same({ "make demo", "make test" }, commands)
    local ci = assert(io.open(".ci/run")):read("*a")
    for _, c in ipairs(commands) do assert.truthy(ci:find("\n" .. c .. "\n", 1, true), c) end
  end)

  -- the last line each recipe promises to print, found by a word of the recipe
  local promises = { luarocks = smartcar._VERSION, ["smartcar%-emulator"] = "401" }

  for i = 2, #blocks do
    local block = blocks[i]
    it(("run as written: " .. block:match("^[^\n]*")), function()
      local _, dir = shell("mktemp -d")
      dir = dir:gsub("\n$", "")
      local f = assert(io.open(dir .. "/recipe.sh", "w"))
      f:write("set -euo pipefail\n", block)
      f:close()
      local copied = shell(("mkdir %s/home %s/checkout && git ls-files -co --exclude-standard -z | " ..
        "xargs -0 cp --parents -t %s/checkout"):format(dir, dir, dir))
      -- a user's shell: a user's PATH (no wrapper a memory check puts first), no Lua paths, and
      -- none of the suite's emulator variables (a recipe that stops "its" emulator stops only its own)
      local status, out = shell(("cd %s/checkout && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 " ..
        "-u SMARTCAR_EMULATOR_ORIGIN -u SMARTCAR_EMULATOR_PREFIX -u SMARTCAR_EMULATOR_PID " ..
        "PATH=/usr/local/bin:/usr/bin:/bin HOME=%s/home bash %s/recipe.sh"):format(dir, dir, dir))
      assert.are.equal(0, shell("rm -rf " .. dir))
      assert.are.equal(0, copied)
      assert.are.equal(0, status, out)
      local promised = false
      for word, last in pairs(promises) do
        if block:find(word) then
          promised = true
          assert.are.equal(last, out:match("([^\n]*)\n$"), out)
        end
      end
      assert.is_true(promised, "say what the recipe prints: " .. block)
    end)
  end
end)
