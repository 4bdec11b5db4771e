rockspec_format = "3.0"
package = "smartcar"
version = "0.2.0-1"
source = {
  url = "git+https://github.com/smartcar-lua/smartcar-lua.git",
  tag = "v0.2.0",
}
description = {
  summary = "The Smartcar SDK for Lua: Connect OAuth, every vehicle endpoint, webhooks, on a libcurl C core",
  detailed = [[
    require "smartcar" gives Lua 5.1-5.4, LuaJIT and OpenResty programs the Smartcar Connect flow,
    every vehicle endpoint, batch, v3 signals, compatibility, management and webhook helpers.
  ]],
  license = "MIT",
  homepage = "https://github.com/smartcar-lua/smartcar-lua",
  labels = { "smartcar", "vehicles", "oauth", "http", "libcurl", "openresty" },
}
dependencies = {
  "lua >= 5.1",
}
-- Found by their libraries: Debian keeps curl.h in a multiarch include directory the
-- compiler searches anyway, where a header lookup would not find it.
external_dependencies = {
  CURL = { library = "curl" },
  CRYPTO = { library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    ["smartcar"] = "lua/smartcar/init.lua",
    ["smartcar.config"] = "lua/smartcar/config.lua",
    ["smartcar.client"] = "lua/smartcar/client.lua",
    ["smartcar.redact"] = "lua/smartcar/redact.lua",
    ["smartcar.auth"] = "lua/smartcar/auth.lua",
    ["smartcar.vehicle"] = "lua/smartcar/vehicle.lua",
    ["smartcar.endpoints"] = "lua/smartcar/endpoints.lua",
    ["smartcar.api"] = "lua/smartcar/api.lua",
    ["smartcar.webhooks"] = "lua/smartcar/webhooks.lua",
    ["smartcar.application"] = "lua/smartcar/application.lua",
    ["smartcar.v3"] = "lua/smartcar/v3.lua",
    ["smartcar.fleet"] = "lua/smartcar/fleet.lua",
    ["smartcar.loop"] = "lua/smartcar/loop.lua",
    ["smartcar.driver.luv"] = "lua/smartcar/driver/luv.lua",
    ["smartcar.authorized"] = "lua/smartcar/authorized.lua",
    ["smartcar.paging"] = "lua/smartcar/paging.lua",
    ["smartcar.store"] = "lua/smartcar/store.lua",
    ["smartcar.transport.libcurl"] = "lua/smartcar/transport/libcurl.lua",
    ["smartcar.transport.resty"] = "lua/smartcar/transport/resty.lua",
    ["smartcar.transport.auto"] = "lua/smartcar/transport/auto.lua",
    ["smartcar.core"] = {
      sources = {
        "src/auth_client.c", "src/check.c", "src/class.c", "src/clock.c", "src/core.c", "src/crypto.c", "src/error.c",
        "src/headers.c", "src/http.c", "src/json.c", "src/request.c", "src/response.c", "src/transfer.c", "src/url.c",
        "src/vehicle.c",
      },
      defines = { "_POSIX_C_SOURCE=200809L" },
      libraries = { "curl", "crypto" },
      incdirs = { "$(CURL_INCDIR)", "$(CRYPTO_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(CRYPTO_LIBDIR)" },
    },
  },
}
test = { type = "command", script = "scripts/rock-test.lua" }
