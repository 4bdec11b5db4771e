-- emulator/README.md's recipes, run as written: every ```sh block with bash from the checkout's root
-- (a block that works elsewhere, `cd emulator`, goes there itself), every ```lua block as the program
-- the text before it describes; and what the README promises of them: the foreground launcher's
-- "listening" line and Ctrl-C, --daemon's three export lines (exported, undone by --stop), the
-- installed rock's layout, the emulator specs' runs (every spec but this one), install-check serving
-- the Connect page, the browser's redirect with ?code=.
--
-- Each block runs in a fresh bash without the caller's SMARTCAR_EMULATOR_* variables, with TMPDIR a
-- private temp directory: the emulator prefixes and trees a recipe makes go there, and whatever is
-- left (an emulator a failing block did not stop) is stopped and removed at the end.
-- Tag `readme`: the recipes that run the emulator specs leave this spec out (--exclude-tags=readme);
-- run by one of them anyway, it fails at once instead of running the recipes again.
-- The shell recipes do not depend on the Lua that runs busted: they run once, under Lua 5.4
-- (the suite runs every Lua); the Lua blocks run under each.
local S = require "spec.support"
local socket = require "socket"

local GUARD = "SMARTCAR_EMULATOR_README_SPEC"

if os.getenv(GUARD) then
  describe("emulator README #readme", function()
    it("is left out of the spec runs its recipes start", function()
      error("a README recipe ran emulator/spec/readme_spec.lua itself: it must pass --exclude-tags=readme")
    end)
  end)
  return
end

local BLOCK_TIMEOUT = 120 -- seconds, for one block

local function q(s) return "'" .. (tostring(s):gsub("'", "'\\''")) .. "'" end

-- Runs a shell command: exit status, output (stdout and stderr).
local function run(cmd)
  local p = assert(io.popen("( " .. cmd .. " ) 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc, (out:gsub("__rc=%d+%s*$", ""))
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local read = S.read

local function exists(path) return run("test -e " .. q(path)) == 0 end

-- A signal to a whole process group (bash's kill: not every sh takes a negative pid).
local function kill_group(sig, pgid) return run("exec bash -c " .. q("kill -" .. sig .. " -- -" .. pgid)) end

local function tail(text, n)
  n = n or 4000
  return #text > n and ("…" .. text:sub(-n)) or text
end

local function plain(text) return (text:gsub("\27%[[%d;]*m", "")) end

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local ROOT = select(2, run("cd " .. q(here .. "/../..") .. " && pwd")):match("[^\n]+")
local LAUNCHER = ROOT .. "/emulator/bin/smartcar-emulator"

-- The README's fenced blocks: { lang, line, text, prose (the text since the previous block) }.
local function fenced(path)
  local out, prose, cur, n = {}, {}, nil, 0
  for line in assert(io.open(path)):lines() do
    n = n + 1
    if cur then
      if line:match("^```%s*$") then
        if cur.lang == "sh" or cur.lang == "lua" then
          cur.text = table.concat(cur.lines, "\n") .. "\n"
          out[#out + 1] = cur
        end
        cur, prose = nil, {}
      else
        cur.lines[#cur.lines + 1] = line
      end
    elseif line:match("^```") then
      cur = { lang = line:match("^```(%w*)"), line = n, lines = {}, prose = table.concat(prose, "\n") }
    else
      prose[#prose + 1] = line
    end
  end
  return out
end

local BLOCKS = fenced(ROOT .. "/emulator/README.md")

local tmp -- the private TMPDIR of the recipes
local before -- the checkout's untracked and ignored files before the recipes ran

local function env_prefix()
  return "env -u SMARTCAR_EMULATOR_ORIGIN -u SMARTCAR_EMULATOR_PREFIX -u SMARTCAR_EMULATOR_PID " ..
    GUARD .. "=1 TMPDIR=" .. q(tmp) .. " "
end

-- The emulator prefixes (temp directories of running or unstopped emulators) under tmp.
local function prefixes()
  local _, out = run("for d in " .. q(tmp) .. "/smartcar-emulator.*/; do " ..
    "[ -f \"$d.smartcar-emulator\" ] && echo \"${d%/}\"; done; true")
  local list = {}
  for p in out:gmatch("[^\n]+") do list[#list + 1] = p end
  return list
end

-- Waits until no emulator prefix is left under tmp (a spec run's watcher stops its emulator just
-- after the run): those left after `seconds`.
local function left_after(seconds)
  local t0 = socket.gettime()
  local list = prefixes()
  while #list > 0 and socket.gettime() - t0 < seconds do
    socket.sleep(0.2)
    list = prefixes()
  end
  return list
end

local function stop_all()
  for _, p in ipairs(prefixes()) do run(q(LAUNCHER) .. " --stop " .. q(p)) end
end

local port_open = S.port_open

-- The checkout's untracked and ignored files (build/ aside: the Makefile's output), or nil outside git.
local function untracked()
  local rc, out = run("git -C " .. q(ROOT) .. " status --porcelain --untracked-files=all --ignored")
  if rc ~= 0 then return nil end
  local set = {}
  for line in out:gmatch("[^\n]+") do
    local st, path = line:match("^(..) (.+)$")
    if (st == "??" or st == "!!") and not path:find("^build/") then set[path] = true end
  end
  return set
end

-- The Lua running this spec, for the README's Lua programs.
local function interpreter()
  local i = -1
  while arg[i - 1] do i = i - 1 end
  return arg[i]
end

-- A shell block, run as written by `bash` from the checkout's root, stopping at the first failing
-- command. Returns its status, its output, and what it leaves in the shell: the SMARTCAR_EMULATOR_*
-- variables a child process sees (exported) and `tree`.
local function run_sh(block, name)
  local file = tmp .. "/" .. name .. ".sh"
  write(file, table.concat({
    "set -e",
    "trap 'echo \"README block failed (status $?): $BASH_COMMAND\" >&2' ERR",
    "cd " .. q(ROOT),
    block.text .. "trap - ERR; set +e",
    "echo __after",
    "env | grep '^SMARTCAR_EMULATOR_[A-Z]*=' | sed 's/^/__exported /'",
    "printf '__tree %s\\n' \"${tree-}\"",
  }, "\n") .. "\n")
  local rc, out = run(env_prefix() .. "timeout -k 5 " .. BLOCK_TIMEOUT .. " bash " .. q(file))
  local body, after = out:match("^(.*)__after\n(.*)$")
  local state = { exported = {} }
  for k, v in (after or ""):gmatch("__exported SMARTCAR_EMULATOR_(%u+)=([^\n]*)") do state.exported[k] = v end
  state.tree = (after or ""):match("__tree ([^\n]*)")
  return rc, body or out, state
end

-- A foreground block (the launcher serving until Ctrl-C): run in the background in a session of
-- its own with SIGINT at its default (as in a terminal), its "listening" line awaited, then Ctrl-C
-- (SIGINT to its process group) must stop it, with status 0, the port closed and the prefix removed.
local function run_foreground(block, name)
  assert.truthy(block.text:find("listening on http://127.0.0.1:PORT", 1, true),
    "the foreground recipe should say what it prints")
  local file, log, pidfile, rcfile = tmp .. "/" .. name .. ".sh", tmp .. "/" .. name .. ".log",
    tmp .. "/" .. name .. ".pid", tmp .. "/" .. name .. ".rc"
  write(file, block.text)
  write(tmp .. "/" .. name .. ".driver", table.concat({
    "cd " .. q(ROOT),
    "setsid env --default-signal=INT bash " .. q(file) .. " > " .. q(log) .. " 2>&1 < /dev/null &",
    "echo $! > " .. q(pidfile),
    "wait $!",
    "echo $? > " .. q(rcfile),
  }, "\n") .. "\n")
  os.execute(env_prefix() .. "bash " .. q(tmp .. "/" .. name .. ".driver") .. " >/dev/null 2>&1 &")
  local pid, origin
  local t0 = socket.gettime()
  repeat
    socket.sleep(0.05)
    pid = pid or (read(pidfile) or ""):match("%d+")
    origin = (read(log) or ""):match("Smartcar emulator listening on (http://127%.0%.0%.1:%d+)\n")
  until (pid and origin) or read(rcfile) or socket.gettime() - t0 > 15
  assert.is_string(pid, "the foreground recipe did not start")
  finally(function()
    if not read(rcfile) then kill_group("KILL", pid) end
    stop_all()
  end)
  assert.is_string(origin, "no listening line: " .. (read(log) or ""))
  local _, status = S.admin("GET", "/_emulator/health", nil, origin)
  assert.are.equal(200, status)
  assert.are.equal(1, #prefixes())
  kill_group("INT", pid) -- Ctrl-C
  t0 = socket.gettime()
  while not read(rcfile) and socket.gettime() - t0 < 10 do socket.sleep(0.05) end
  assert.are.equal("0", (read(rcfile) or "still running"):match("%S+"), "Ctrl-C: " .. (read(log) or ""))
  assert.is_false(port_open(origin))
  assert.are.same({}, prefixes())
end

-- Tests each spec file of emulator/spec would run, this one's aside: how many, from `busted --list`.
local expected_specs
local function emulator_spec_count()
  if expected_specs then return expected_specs end
  local rc, out = run("cd " .. q(ROOT .. "/emulator") .. " && " .. env_prefix() ..
    "SMARTCAR_EMULATOR_ORIGIN=http://127.0.0.1:9 busted --list")
  assert.are.equal(0, rc, out)
  local per_file = {}
  for file in out:gmatch("([%w_./-]+_spec%.lua):%d+: ") do
    file = file:match("[^/]*$")
    per_file[file] = (per_file[file] or 0) + 1
  end
  local _, files = run("cd " .. q(ROOT .. "/emulator/spec") .. " && ls *_spec.lua")
  local n, count = 0, 0
  for file in files:gmatch("%S+") do
    if file ~= "readme_spec.lua" then
      assert.is_number(per_file[file], "busted --list shows no test of " .. file)
      n, count = n + 1, count + per_file[file]
    end
  end
  assert.is_true(n >= 1)
  expected_specs = count
  return count
end

-- What a recipe promises, by what it does.
local function check_daemon_output(block)
  -- each `eval "$(… --daemon …)"`: the command alone prints exactly the three export lines
  for cmd in block.text:gmatch('eval "%$%(([^)]*%-%-daemon[^)]*)%)"') do
    local rc, out = run("cd " .. q(ROOT) .. " && " .. env_prefix() .. cmd)
    assert.are.equal(0, rc, out)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    local prefix = (lines[2] or ""):match("^export SMARTCAR_EMULATOR_PREFIX=(.+)$")
    if prefix then run(q(LAUNCHER) .. " --stop " .. q(prefix)) end
    assert.are.equal(3, #lines, out)
    assert.matches("^export SMARTCAR_EMULATOR_ORIGIN=http://127%.0%.0%.1:%d+$", lines[1])
    assert.are.equal(tmp .. "/", prefix and prefix:sub(1, #tmp + 1))
    assert.matches("^export SMARTCAR_EMULATOR_PID=%d+$", lines[3])
    assert.is_false(exists(prefix))
  end
end

local function check_daemon_state(block, state)
  local e = state.exported
  assert.matches("^http://127%.0%.0%.1:%d+$", e.ORIGIN or "(not exported)")
  assert.are.equal(tmp .. "/", (e.PREFIX or "(not exported)"):sub(1, #tmp + 1))
  assert.matches("^%d+$", e.PID or "(not exported)")
  if block.text:find("--stop", 1, true) then
    assert.are_not.equal(0, (run("kill -0 " .. e.PID)), "nginx still runs after --stop")
    assert.is_false(exists(e.PREFIX))
    assert.is_false(port_open(e.ORIGIN))
    assert.are.equal(0, (run(q(LAUNCHER) .. " --stop " .. q(e.PREFIX)))) -- twice is harmless
  end
end

local function check_busted_run(out)
  local s, f, e, p = plain(out):match("(%d+) successe?s? / (%d+) failures? / (%d+) errors? / (%d+) pending")
  assert.is_string(s, "no busted summary: " .. tail(out))
  assert.are.equal("0", f, tail(out))
  assert.are.equal("0", e, tail(out))
  assert.are.equal(emulator_spec_count(), tonumber(s) + tonumber(p), "not every other emulator spec ran")
end

local function check_tree(state)
  local tree = state.tree or ""
  assert.are.equal(tmp .. "/", tree:sub(1, #tmp + 1))
  assert.is_true(exists(tree .. "/share/lua/5.1/smartcar_emulator/init.lua"))
  local launcher = read(tree .. "/bin/smartcar-emulator") or ""
  assert.are.equal("#!/usr/bin/env bash\n", launcher:match("^[^\n]*\n"), "the installed command is not the launcher")
end

local function run_lua(block, name)
  -- the setup the text before the block gives: LUA_PATH as written, the SDK's C core for this Lua
  local lua_path = block.prose:match("LUA_PATH='([^']+)'")
  assert.is_string(lua_path, "the text before the Lua block should say how to run it")
  local cpath = package.cpath:match("([^;]*build/[^;]*)") or "build/5.4/?.so"
  local file = tmp .. "/" .. name .. "-" .. (block.prose:match("saved%s+as%s+`([%w_.-]+)`") or "program.lua")
  write(file, block.text)
  local rc, out = run("cd " .. q(ROOT) .. " && SMARTCAR_EMULATOR_ORIGIN=" .. q(S.origin) .. " LUA_PATH=" ..
    q(lua_path) .. " LUA_CPATH=" .. q(cpath .. ";;") .. " TMPDIR=" .. q(tmp) .. " " .. interpreter() .. " " .. q(file))
  assert.are.equal(0, rc, out)
  -- what `print(…)  -- <promise>` promises, … standing for any value
  for promise in block.text:gmatch("print%b()%s*%-%-%s*(%S+)") do
    local pattern = "^" .. promise:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"):gsub("…", "[^&]+") .. "\n"
    assert.matches(pattern, out)
  end
  if block.text:find("browser.connect", 1, true) then assert.matches("%?code=[%w%-]+", out) end
end

describe("emulator README #readme", function()
  setup(function()
    before = untracked()
    local rc, out = run("mktemp -d")
    assert.are.equal(0, rc, out)
    tmp = out:match("[^\n]+")
  end)

  teardown(function()
    if tmp then
      stop_all()
      run("rm -rf " .. q(tmp))
    end
  end)

  it("has shell and Lua recipes", function()
    local langs = {}
    for _, b in ipairs(BLOCKS) do langs[b.lang] = (langs[b.lang] or 0) + 1 end
    assert.is_true((langs.sh or 0) >= 1 and (langs.lua or 0) >= 1)
  end)

  local shell_here = _VERSION == "Lua 5.4" and not rawget(_G, "jit")
  for i, block in ipairs(BLOCKS) do
    local name = ("block%02d"):format(i)
    local first = block.text:match("[^\n]*"):gsub("%s+#.*$", "")
    local title = ("runs the %s block at line %d: %s"):format(block.lang, block.line, first)
    if block.lang == "lua" or shell_here then it(title, function()
      if block.lang == "lua" then return run_lua(block, name) end
      if block.text:find("Ctrl-C", 1, true) then return run_foreground(block, name) end
      finally(stop_all) -- what a failing recipe did not stop
      check_daemon_output(block)
      local rc, out, state = run_sh(block, name)
      assert.are.equal(0, rc, tail(out))
      if block.text:find("eval \"$(", 1, true) and block.text:find("--daemon", 1, true) then
        check_daemon_state(block, state)
      end
      if block.text:find("/_emulator/health", 1, true) then assert.truthy(out:find('{"ok":true}', 1, true), out) end
      if block.text:find("luarocks", 1, true) then check_tree(state) end
      if block.text:find("smartcar%-emulator\"? %-%-help") then
        assert.truthy(out:find("smartcar-emulator: run the local Smartcar API emulator", 1, true), out)
      end
      if block.text:find("busted", 1, true) then check_busted_run(out) end
      if block.text:find("install-check", 1, true) then
        assert.truthy(out:find("serves the Connect page", 1, true), out)
      end
      assert.are.same({}, left_after(10), "a recipe left an emulator running")
    end) end
  end

  it("leaves nothing new in the checkout", function()
    local now = untracked()
    if not (before and now) then return end
    local new = {}
    for path in pairs(now) do
      if not before[path] then new[#new + 1] = path end
    end
    table.sort(new)
    assert.are.same({}, new, "new untracked files in the checkout (made by a recipe, or by someone else meanwhile)")
  end)
end)
