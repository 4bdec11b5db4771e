-- The README's Lua code blocks run, in order, as one program against the emulator.
-- Placeholders are replaced by the emulator's demo app, and `code` is a real
-- authorization code obtained by completing Connect on the emulator's pages. Blocks
-- fenced as "lua nginx" only run inside nginx and are left out.
local smartcar = require "smartcar"
local browser = require "smartcar_emulator.browser"
local H = require "helper"

local function lua_blocks(path)
  local text = assert(io.open(path)):read("*a")
  local blocks = {}
  for block in text:gmatch("```lua\n(.-)```") do blocks[#blocks + 1] = block end
  return blocks
end

describe("README.md", function()
  it("has code blocks that run against the emulator", function()
    H.reset()
    H.configure()
    local blocks = lua_blocks("README.md")
    assert.is_true(#blocks >= 2)
    local program = table.concat(blocks, "\n")
      :gsub('"<client id>"', '"' .. H.CLIENT_ID .. '"')
      :gsub('"<client secret>"', '"' .. H.CLIENT_SECRET .. '"')
      :gsub('"<redirect uri>"', '"' .. H.REDIRECT_URI .. '"')
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
