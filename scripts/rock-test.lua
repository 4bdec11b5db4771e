-- `luarocks test [rockspec] [busted arguments]`: the suite (or the specs named) under
-- the Lua that LuaRocks runs this script with; scripts/suite starts and stops the emulator.
local version = rawget(_G, "jit") and "luajit" or _VERSION:match("%d+%.%d+")
local command = { "scripts/suite", version, "--" }
for _, a in ipairs(arg) do command[#command + 1] = "'" .. a:gsub("'", "'\\''") .. "'" end
local ok, how, code = os.execute(table.concat(command, " "))
if type(ok) == "number" then code = ok elseif how ~= "exit" then code = 1 end
os.exit(code == 0 and 0 or 1)
