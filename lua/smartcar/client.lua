--- The request pipeline: every request the SDK makes goes through `Client:send`.
--
-- `public function -> build (C: method, url, headers, body) -> Client:send ->
-- transport object -> core.parse (C: result or SmartcarError)`. One place for
-- what every request needs: the instance's limits, the transport, and the
-- scrubbing of secrets a server echoes back.
-- @module smartcar.client

local core = require "smartcar.core"
local config = require "smartcar.config"
local libcurl = require "smartcar.transport.libcurl"
local auto = require "smartcar.transport.auto"
local redact = require "smartcar.redact"
core.own()

local loops = require "smartcar.loop"
local parse, setmetatable, type, random, min = core.parse, setmetatable, type, math.random, math.min
local now, header, BATCH, JSON = core.now, core.header, core.BATCH, core.JSON

local Client = {}
Client.__index = Client

local clients = setmetatable({}, { __mode = "k" }) -- SDK instance -> its Client
-- unless an instance is given its own; inside nginx it depends on the phase (auto.get)
local default_transport = not auto.inNginx and libcurl.default() or nil

--- A client for a configuration table (from `config.new`).
function Client.new(cfg)
  return setmetatable({ config = cfg }, Client)
end

--- The client of an SDK instance (`require "smartcar"` or `smartcar.new{...}`).
function Client.of(sdk)
  return clients[sdk]
end

function Client.bind(sdk, client)
  clients[sdk] = client
end

local RETRYABLE = { [500] = true, [502] = true, [503] = true, [504] = true }

-- How long to wait before attempt `attempt + 1` (ms), or nil when the error is final
-- (API.md, Retries): a request that never left may always go again; otherwise only
-- an idempotent one (GET, HEAD, batch), on a network failure, a 500/502/503/504, or a
-- 429 whose retry-after is within maxDelay (waited as asked). The backoff is
-- exponential with full jitter, from baseDelay up to maxDelay.
local function retry_wait(policy, attempt, err, method, shape, unsent)
  if not policy or attempt >= policy.attempts then return nil end
  if not unsent then
    if not (method == "GET" or method == "HEAD" or shape == BATCH) then return nil end
    local status = err.statusCode
    if status == 429 and err.retryAfter then
      local ms = err.retryAfter * 1000
      return ms <= policy.maxDelay and ms or nil
    end
    if not (status == 429 or RETRYABLE[status] or err.code == "NETWORK" and err.type == "SDK_ERROR") then
      return nil
    end
  end
  local base = policy.baseDelay
  return base + random() * (min(policy.maxDelay, base * 2 ^ (attempt - 1)) - base)
end

-- Tell the onResponse hook about one attempt: never a header value, a body or a secret
-- (the URL without its query, the error already redacted).
local function observe(hook, method, url, status, headers, res, err, ms, attempt)
  local meta = type(res) == "table" and res.meta
  hook {
    method = method, url = url:match("^[^?#]*"), status = type(status) == "number" and status or nil,
    ms = ms, attempt = attempt, error = err,
    requestId = (type(meta) == "table" and meta.requestId) or (err and err.requestId) or header(headers, "sc-request-id"),
  }
end

-- The general road: every attempt observed, retried as the policy says, carried by
-- the task's loop when there is one. `err` and `unsent` are those of a first attempt
-- already made (the lean road of Client:send), if any.
local function attempts(cfg, shape, method, url, headers, body, err, unsent, limits, secrets)
  local transport = cfg.transport or default_transport or auto.get()
  local job = loops.active > 0 and loops.current() or nil
  local attempt = err and 1 or 0
  while true do
    if err then
      local wait = retry_wait(cfg.retry, attempt, err, method, shape, unsent)
      if not wait then
        err.attempts = attempt
        return nil, err
      end
      if job then job:sleep(wait) else loops.pause(wait) end
    end
    attempt = attempt + 1
    local hook, started = cfg.onResponse, nil
    if hook then started = now() end
    local status, h, b
    if job then
      status, h, b, unsent = job:request(transport, method, url, headers, body, limits or cfg)
    else
      status, h, b, unsent = transport:request(method, url, headers, body, limits or cfg)
    end
    local res
    res, err = parse(shape, status, h, b)
    if err then redact(err, headers, body, secrets) end
    if hook then observe(hook, method, url, status, h, res, err, now() - started, attempt) end
    if not err then return res end
  end
end

--- Send one built request and parse the answer into `shape` (core.DATA, ...), with the
-- instance's retries; inside a task of `smartcar.all` or a loop, the loop carries it.
-- The secrets of the request never come back in an error, whatever the server echoed.
-- `limits` (optional) replaces the instance's limits for this request's attempts: a
-- deadline of its own (a long-running V3 command), built by `Client:limits`. `secrets`
-- (optional): strings redacted from errors besides the request's own (see `smartcar.redact`).
-- @return result | nil, SmartcarError (with `attempts`)
function Client:send(shape, method, url, headers, body, limits, secrets)
  local cfg = self.config
  if loops.active > 0 or cfg.onResponse then
    return attempts(cfg, shape, method, url, headers, body, nil, nil, limits, secrets)
  end
  -- the lean road of a plain call: one attempt, and the general road only after a failure
  local status, h, b, unsent = (cfg.transport or default_transport or auto.get()):request(method, url, headers, body,
    limits or cfg)
  local res, err = parse(shape, status, h, b)
  if not err then return res end
  redact(err, headers, body, secrets)
  return attempts(cfg, shape, method, url, headers, body, err, unsent, limits, secrets)
end

-- A token's value as it will go in an Authorization header or a form: visible ASCII only, no longer
-- than a string the SDK sends (a server's CR, LF, NUL or space never reaches the wire).
local function sendable(s)
  return type(s) == "string" and #s <= 16384 and s:find("^[!-~]+$") ~= nil
end

--- Send a token request (v2's code and refresh grants, V3's client credentials) and check the
-- answer: an object with an `access_token` that can be sent, a lifetime `expires_in` (s, > 0) and,
-- when it has a string `refresh_token`, one that can be sent too.
-- @return the decoded answer | nil, SmartcarError
function Client:token(method, url, headers, body)
  local res, err = self:send(JSON, method, url, headers, body)
  if err then return nil, err end
  local lifetime = type(res) == "table" and res.expires_in
  if not (type(lifetime) == "number" and lifetime > 0 and lifetime < 2 ^ 31 and sendable(res.access_token)
    and (type(res.refresh_token) ~= "string" or sendable(res.refresh_token))) then
    return nil, core.sdkError("INVALID_RESPONSE", "The token response has no usable access_token or expires_in", 200)
  end
  return res
end

--- The instance's limits with another deadline of one attempt (ms): `timeout` is the larger of
-- the instance's and `atLeast`. A fresh table each call (the configuration may have changed).
function Client:limits(atLeast)
  local cfg = self.config
  return { timeout = math.max(cfg.timeout, atLeast), connectTimeout = cfg.connectTimeout,
    maxResponseSize = cfg.maxResponseSize, caFile = cfg.caFile, caPath = cfg.caPath }
end

--- Change this client's configuration (validated first; unknown keys raise).
function Client:configure(options, fname)
  config.apply(self.config, options, fname or "configure")
end

return Client
