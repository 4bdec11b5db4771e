rockspec_format = "3.0"
package = "smartcar-emulator"
version = "0.2.0-1"
-- Paths are relative to this folder, the rock's own source root: run `luarocks make` here (from the
-- checkout's root, the builtin backend would also copy the SDK's lua/ folder into this rock).
source = {
  url = "git+https://github.com/smartcar-lua/smartcar-lua.git",
  tag = "v0.2.0",
  dir = "smartcar-lua/emulator",
}
description = {
  summary = "A local Smartcar API emulator (Connect, auth, vehicles, webhooks, v3) on nginx + ngx_lua",
  detailed = [[
    smartcar-emulator starts a faithful local stand-in for Smartcar's Connect pages, token endpoint,
    v1.0/v2.0 and v3 vehicle APIs, management API and webhooks on a loopback port, with test-mode
    emails, rate limits and fault injection, for developing and testing Smartcar clients offline.
    The server runs in nginx with the Lua module (LuaJIT): install this rock for Lua 5.1
    (luarocks --lua-version=5.1). smartcar_emulator.browser, a scripted user for the Connect
    pages, runs in plain Lua on the smartcar rock.
  ]],
  license = "MIT",
  homepage = "https://github.com/smartcar-lua/smartcar-lua",
  labels = { "smartcar", "emulator", "testing", "nginx", "openresty" },
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson",   -- the server (inside nginx)
  "smartcar",    -- smartcar_emulator.browser only
}
build = {
  type = "builtin",
  modules = {
    ["smartcar_emulator"] = "lua/smartcar_emulator/init.lua",
    ["smartcar_emulator.admin"] = "lua/smartcar_emulator/admin.lua",
    ["smartcar_emulator.api"] = "lua/smartcar_emulator/api.lua",
    ["smartcar_emulator.browser"] = "lua/smartcar_emulator/browser.lua",
    ["smartcar_emulator.connect"] = "lua/smartcar_emulator/connect.lua",
    ["smartcar_emulator.errors"] = "lua/smartcar_emulator/errors.lua",
    ["smartcar_emulator.faults"] = "lua/smartcar_emulator/faults.lua",
    ["smartcar_emulator.fixtures"] = "lua/smartcar_emulator/fixtures.lua",
    ["smartcar_emulator.http"] = "lua/smartcar_emulator/http.lua",
    ["smartcar_emulator.iam"] = "lua/smartcar_emulator/iam.lua",
    ["smartcar_emulator.json"] = "lua/smartcar_emulator/json.lua",
    ["smartcar_emulator.state"] = "lua/smartcar_emulator/state.lua",
    ["smartcar_emulator.stats"] = "lua/smartcar_emulator/stats.lua",
    ["smartcar_emulator.util"] = "lua/smartcar_emulator/util.lua",
    ["smartcar_emulator.v3"] = "lua/smartcar_emulator/v3.lua",
    ["smartcar_emulator.v3_admin"] = "lua/smartcar_emulator/v3_admin.lua",
    ["smartcar_emulator.v3_commands"] = "lua/smartcar_emulator/v3_commands.lua",
    ["smartcar_emulator.v3_common"] = "lua/smartcar_emulator/v3_common.lua",
    ["smartcar_emulator.v3_connections"] = "lua/smartcar_emulator/v3_connections.lua",
    ["smartcar_emulator.v3_deliveries"] = "lua/smartcar_emulator/v3_deliveries.lua",
    ["smartcar_emulator.v3_management"] = "lua/smartcar_emulator/v3_management.lua",
    ["smartcar_emulator.v3_routes"] = "lua/smartcar_emulator/v3_routes.lua",
    ["smartcar_emulator.vehicle"] = "lua/smartcar_emulator/vehicle.lua",
    ["smartcar_emulator.webhooks"] = "lua/smartcar_emulator/webhooks.lua",
  },
  install = {
    bin = { ["smartcar-emulator"] = "bin/smartcar-emulator" },
  },
}
-- the launcher is a bash script: install it as it is, never as a Lua wrapper
deploy = { wrap_bin_scripts = false }
test = { type = "busted" }  -- emulator/.busted: the specs start their own emulator
