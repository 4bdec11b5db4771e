--- The transport of an instance that was given none.
--
-- Outside nginx: libcurl (`smartcar.transport.libcurl`). Inside nginx, by phase:
-- where cosockets run (rewrite, access, content, timers, ...) the cosocket transport,
-- so a worker never blocks; in `init`, `init_worker` and `exit_worker`, where no
-- request is being served and blocking is harmless, libcurl; elsewhere (`set`,
-- `header_filter`, `body_filter`, `log`, `balancer`, ...), which can neither yield nor
-- block, a call returns SmartcarError `SDK_ERROR`/`UNSUPPORTED_PHASE` naming the phase
-- and the remedy: make the call from `ngx.timer.at(0, function() ... end)`.
-- @module smartcar.transport.auto

local core = require "smartcar.core"
local libcurl = require "smartcar.transport.libcurl"
core.own()

local M = {}

local ngx = rawget(_G, "ngx")
--- Whether this Lua runs inside nginx (ngx_lua).
M.inNginx = type(ngx) == "table" and type(ngx.get_phase) == "function"

local COSOCKETS = { rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true }
local BLOCKING_IS_HARMLESS = { init = true, init_worker = true, exit_worker = true }

local cosockets        -- the cosocket transport of this worker, made on first use
local refusals = {}    -- phase -> a transport that explains why not

local function refusal_message(phase)
  return ("nginx's %s phase has no cosockets and must not block: make the call from " ..
    "ngx.timer.at(0, function() ... end)"):format(phase)
end

local function refusal(phase)
  local message = refusal_message(phase)
  return { request = function() return nil, "UNSUPPORTED_PHASE", message end }
end

--- Whether the code runs inside nginx in a phase with cosockets (and light threads).
function M.cosocketPhase()
  return M.inNginx and COSOCKETS[ngx.get_phase()] == true
end

--- Inside nginx, in a phase that can neither yield nor block (`log`, `header_filter`, ...): why
-- nothing may wait there, the message of `UNSUPPORTED_PHASE`; nil anywhere else.
function M.refused()
  if not M.inNginx then return nil end
  local phase = ngx.get_phase()
  if COSOCKETS[phase] or BLOCKING_IS_HARMLESS[phase] then return nil end
  return refusal_message(phase)
end

--- Inside nginx, in a phase without cosockets: why the cosocket transport cannot run there (the
-- message of `UNSUPPORTED_PHASE`); nil in a phase with cosockets.
function M.noCosockets()
  local phase = ngx.get_phase()
  if COSOCKETS[phase] then return nil end
  if BLOCKING_IS_HARMLESS[phase] then
    return ("nginx's %s phase has no cosockets: leave the transport unset (libcurl is used here) or make " ..
      "the call from ngx.timer.at(0, function() ... end)"):format(phase)
  end
  return refusal_message(phase)
end

--- The transport to use now.
function M.get()
  if not M.inNginx then return libcurl.default() end
  local phase = ngx.get_phase()
  if COSOCKETS[phase] then
    cosockets = cosockets or require("smartcar.transport.resty").new()
    return cosockets
  end
  if BLOCKING_IS_HARMLESS[phase] then return libcurl.default() end
  refusals[phase] = refusals[phase] or refusal(phase)
  return refusals[phase]
end

return M
