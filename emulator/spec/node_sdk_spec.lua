-- The official Node SDK (npm package `smartcar`, 10.4.x) against the emulator: spec/node/calls.js
-- makes every call the package has (AuthClient, the module functions, every Vehicle method, v3
-- signals, management, webhooks, errors) with every origin pointed at the emulator, and checks each
-- answer for what the Node SDK's own tests (its test/end-to-end and test/unit files) expect of it;
-- it prints one JSON line per call. This spec runs it once per run (the Node part does not depend on
-- the Lua running busted) and turns each line into a test, listing what failed: the call, the
-- check, what the Node SDK expects (and which of its tests says so), what the emulator answered.
--
-- The package is installed into build/node of the checkout (never into the source tree) when it is
-- missing or not 10.4.x, with `npm install --prefix build/node smartcar@10.4.0`, as bench/run does.
-- Pending, with the reason, only when node (or npm, needed for the install) is missing.
local S = require "spec.support"

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local ROOT = here .. "/../.."
local SCRIPT = here .. "/node/calls.js"
local PREFIX = ROOT .. "/build/node"
local WANT = "10.4.0"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function has(cmd)
  local r = os.execute("command -v " .. cmd .. " >/dev/null 2>&1")
  return r == true or r == 0
end

local read = S.read

local function installed_version()
  local pkg = read(PREFIX .. "/node_modules/smartcar/package.json")
  return pkg and pkg:match('"version"%s*:%s*"([^"]+)"')
end

--- Run a shell command: its stdout, its exit status, its stderr (the status from the shell itself,
-- the same under every Lua).
local function run(cmd)
  local err = os.tmpname()
  local p = assert(io.popen("( " .. cmd .. " ) 2>" .. quote(err) .. '; echo "__rc=$?"'))
  local out = p:read("*a")
  p:close()
  local stderr = read(err) or ""
  os.remove(err)
  local body, code = out:match("^(.-)__rc=(%d+)%s*$")
  return body or out, tonumber(code) or -1, stderr
end

-- Why the Node part cannot run here, or nil.
local function unavailable()
  if not has("node") then return "node is not installed" end
  local v = installed_version()
  if v and v:match("^10%.4%.") then return nil end
  if not has("npm") then return "npm is not installed (needed to install smartcar@" .. WANT .. ")" end
  return nil
end

-- Installs the package when needed; returns nil or what went wrong.
local function install()
  local v = installed_version()
  if v and v:match("^10%.4%.") then return nil end
  local out, code, err = run("npm install --silent --no-audit --no-fund --prefix " .. quote(PREFIX) ..
    " smartcar@" .. WANT)
  v = installed_version()
  if code ~= 0 or not (v and v:match("^10%.4%.")) then
    return ("npm install --prefix build/node smartcar@%s failed (exit %s, installed %s): %s%s")
      :format(WANT, tostring(code), tostring(v), out, err)
  end
  return nil
end

local function show(v)
  if v == nil or v == S.null then return "null" end
  if type(v) == "table" then return S.encode(v) end
  if type(v) == "number" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then return ("%d"):format(v) end
  return tostring(v)
end

--- One call's report: what threw, and every failed check (hard ones, then Smartcar-only data).
local function describe_failure(r)
  local lines = { ("%s  [%s]"):format(r.call, r.source or "?") }
  if r.error and r.error ~= S.null then
    local e = r.error
    lines[#lines + 1] = ("  threw %s: %s (type %s, code %s, statusCode %s)"):format(show(e.name), show(e.message),
      show(e.type), show(e.code), show(e.statusCode))
  end
  for _, c in ipairs(r.checks or {}) do
    if not c.pass then
      lines[#lines + 1] = ("  %s%s: expected %s, got %s  (%s)"):format(
        c.kind == "smartcar-data" and "[Smartcar's data, not a failure] " or "", show(c.what), show(c.expected),
        show(c.got), show(c.source))
    end
  end
  return table.concat(lines, "\n")
end

describe("official Node SDK 10.4 against the emulator", function()
  local why = unavailable()
  if why then
    pending("Node SDK calls: " .. why)
    return
  end

  -- The Node SDK runs once, from the first test that needs it (never while busted collects the
  -- tests: `busted --list` must not touch the network).
  local problem, results
  local function run_calls()
    if results then return end
    results = {}
    problem = install()
    if problem then return end
    S.reset() -- whatever an earlier spec left (rate limits, lifetimes, faults) does not apply
    local out, code, stderr = run("NODE_PATH=" .. quote(PREFIX .. "/node_modules") .. " node " .. quote(SCRIPT) .. " " ..
      quote(S.origin))
    for line in out:gmatch("[^\n]+") do
      local r = S.decode(line)
      if type(r) == "table" and r.call then results[#results + 1] = r end
    end
    if code ~= 0 or #results == 0 then
      problem = ("node %s exited %s after %d calls:\n%s"):format(SCRIPT, tostring(code), #results, stderr)
    end
  end

  it("runs the Node SDK's calls", function()
    run_calls()
    assert(not problem, problem)
    assert.is_true(#results > 50, ("only %d calls reported"):format(#results))
  end)

  it("answers every call as the Node SDK's tests expect", function()
    run_calls()
    assert(not problem, problem)
    local failed, notes = {}, {}
    for _, r in ipairs(results) do
      if r.ok ~= true then failed[#failed + 1] = describe_failure(r) end
      for _, c in ipairs(r.checks or {}) do
        if c.kind == "smartcar-data" and not c.pass then
          notes[#notes + 1] = ("%s: %s: Smartcar's %s, emulator %s (%s)"):format(r.call, show(c.what),
            show(c.expected), show(c.got), show(c.source))
        end
      end
    end
    if #notes > 0 then
      io.stderr:write("\nNode SDK: Smartcar-only test data the emulator does not have (not failures):\n  ",
        table.concat(notes, "\n  "), "\n")
    end
    assert(#failed == 0, ("\n%d of %d Node SDK calls not answered as its tests expect:\n%s"):format(#failed,
      #results, table.concat(failed, "\n")))
  end)
end)
