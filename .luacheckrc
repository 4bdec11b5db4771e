std = "max"
codes = true
max_line_length = 130
files["spec"] = { std = "+busted" }
files["emulator/spec"] = { std = "+busted" }
files["emulator/lua/smartcar_emulator"] = { globals = { "ngx" } }
files["lua/smartcar/transport/resty.lua"] = { read_globals = { "ngx" } }
files["examples/nginx"] = { globals = { "ngx" } }
exclude_files = { "luarocks-tree", "build" }
