-- Shell and file helpers of the SDK specs that drive commands: read a file, run a command (its exit
-- status and output, the same on every Lua: no os.execute results), and start or stop an example's
-- nginx with its own run script (examples/NAME/run PREFIX PORT, examples/NAME/run --stop PREFIX).
local nginx = require "support.nginx"

local M = {}

--- A file's bytes, or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- Run a shell command: its exit status, stdout and stderr.
function M.sh(command)
  local out, err = os.tmpname(), os.tmpname()
  local p = assert(io.popen(("%s >%s 2>%s; echo $?"):format(command, out, err)))
  local status = tonumber(p:read("*l"))
  p:close()
  local stdout, stderr = M.read(out), M.read(err)
  os.remove(out)
  os.remove(err)
  return status, stdout, stderr
end

--- Start examples/`name` in a fresh prefix on a free port, on another one if that was taken meanwhile.
-- `env(origin)`: what goes before the run script (variables, an `env` command). Returns the origin and
-- the prefix; raises "`what` did not start: " and the last run's stderr when no attempt succeeded.
function M.start_example(name, env, what)
  local prefix = assert(io.popen("mktemp -d")):read("*l")
  local log
  for _ = 1, 10 do
    local port = nginx.free_port()
    local origin = "http://127.0.0.1:" .. port
    local status
    status, _, log = M.sh(("%s examples/%s/run %s %d"):format(env(origin), name, prefix, port))
    if status == 0 then return origin, prefix end
  end
  os.execute("rm -rf " .. prefix)
  error(what .. " did not start: " .. tostring(log), 0)
end

--- Stop what start_example started and remove its prefix (nil: nothing was started).
function M.stop_example(name, prefix)
  if not prefix then return end
  M.sh(("examples/%s/run --stop %s"):format(name, prefix))
  os.execute("rm -rf " .. prefix)
end

return M
