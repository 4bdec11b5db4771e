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
local redact = require "smartcar.redact"
core.own()

local parse, ipairs, setmetatable = core.parse, ipairs, setmetatable

local Client = {}
Client.__index = Client

local clients = setmetatable({}, { __mode = "k" }) -- SDK instance -> its Client
local default_transport = libcurl.default()        -- unless an instance is given its own

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

--- Send one built request and parse the answer into `shape` (core.DATA, ...). The
-- secrets of the request never come back in an error, whatever the server echoed.
-- @return result | nil, SmartcarError
function Client:send(shape, method, url, headers, body)
  local cfg = self.config
  local transport = cfg.transport or default_transport
  local res, err = parse(shape, transport:request(method, url, headers, body, cfg))
  if err then redact(err, headers, body) end
  return res, err
end

--- Send many built requests (`{method, url, headers, body}` each) at once through
-- the transport's `many` when it has one, else one after the other.
-- @return results, errors (both indexed like `requests`)
function Client:sendMany(shape, requests, concurrency)
  local cfg = self.config
  local transport = cfg.transport or default_transport
  local answers
  if transport.many then
    answers = transport:many(requests, cfg, concurrency or cfg.concurrency)
  else
    answers = {}
    for i, r in ipairs(requests) do
      answers[i] = { transport:request(r[1], r[2], r[3], r[4], cfg) }
    end
  end
  local results, errors = {}, {}
  for i = 1, #requests do
    local a, r = answers[i] or {}, requests[i]
    results[i], errors[i] = parse(shape, a[1], a[2], a[3])
    if errors[i] then redact(errors[i], r[3], r[4]) end
  end
  return results, errors
end

--- Change this client's configuration (validated first; unknown keys raise).
function Client:configure(options, fname)
  config.apply(self.config, options, fname or "configure")
end

return Client
