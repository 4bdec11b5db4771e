--- A minimal scripted browser for the emulator's Connect pages.
-- It does what a user does: opens the authorize (or re-authentication) URL, presses Continue, picks the
-- brand, signs in, then allows (or denies) access, by reading each page's forms
-- and submitting them, until the redirect back to the application. Runs in plain
-- Lua through the SDK (not inside nginx): every HTTP request goes through `fetch` below.
-- @module smartcar_emulator.browser

local smartcar = require "smartcar"
local core = require "smartcar.core"
local Client = require "smartcar.client"

local browser = {}

-- The browser's own SDK instance: its requests take the SDK's one road (build, Client:send,
-- the transport, parse) with a timeout of their own, whatever the module is configured to.
local client = Client.of(smartcar.new { timeout = 10000 })

-- The one place where the browser talks HTTP. Returns `status, headers, body` (headers a table
-- with lower-case names) or `nil, code, message`. Redirects are not followed.
local function fetch(method, url, headers, body)
  local res, err = client:send(core.HTTP, core.httpRequest(method, url, headers, body))
  if not res then return nil, err.code, err.description end
  return res.status, res.headers, res.body
end

local ENTITIES = { amp = "&", quot = '"', lt = "<", gt = ">", ["#39"] = "'" }

local function unescape(s)
  return (s:gsub("&(#?%w+);", function(e) return ENTITIES[e] or ("&" .. e .. ";") end))
end

local function attr(tag, name)
  local v = tag:match("%s" .. name .. '="([^"]*)"')
  return v and unescape(v)
end

-- The form holding the element with this id, as {method=, action=, fields={{name, value}...}}.
local function form_with(html, id)
  for open, inner in html:gmatch("(<form[^>]*>)(.-)</form>") do
    local button
    for tag in inner:gmatch("<%a+[^>]*>") do
      if attr(tag, "id") == id then button = tag end
    end
    if button then
      local fields = {}
      for tag in inner:gmatch("<input[^>]*>") do
        if attr(tag, "type") == "hidden" then fields[#fields + 1] = { attr(tag, "name"), attr(tag, "value") or "" } end
      end
      if attr(button, "name") then fields[#fields + 1] = { attr(button, "name"), attr(button, "value") or "" } end
      return { method = (attr(open, "method") or "GET"):upper(), action = attr(open, "action"), fields = fields }
    end
  end
end

local function encode(fields)
  local out = {}
  for i, f in ipairs(fields) do out[i] = core.escape(f[1]) .. "=" .. core.escape(f[2]) end
  return table.concat(out, "&")
end

local function absolute(origin, url)
  if url:match("^https?://") then return url end
  return origin .. url
end

--- Complete Connect for the authorize URL as a user would.
-- @tparam string url the URL from `client:getAuthUrl(...)`, or a re-authentication URL
-- @tparam table user `{email=, password=, approve=true|false, make=}`; `log` (a function) sees each step
-- @treturn[1] string the redirect URL back to the application (with `code` or, after re-authentication,
-- `vehicle_id`, and `state`; or `error`)
-- @treturn[2] nil
-- @treturn[2] string what went wrong
function browser.connect(url, user)
  local origin = url:match("^(https?://[^/]+)")
  local log = user.log or function() end
  local method, body = "GET", nil
  for _ = 1, 12 do
    local headers = { ["user-agent"] = "smartcar-emulator-browser" }
    if body then headers["content-type"] = "application/x-www-form-urlencoded" end
    local status, h, html = fetch(method, url, headers, body)
    if not status then return nil, h .. ": " .. tostring(html) end
    if status == 302 or status == 303 then
      local location = absolute(origin, h.location)
      if location:sub(1, #origin) ~= origin or not location:find("/oauth/", #origin + 1, true) then
        return location
      end
      url, method, body = location, "GET", nil
    elseif status ~= 200 then
      return nil, ("HTTP %d on %s"):format(status, url:match("^[^?]*"))
    else
      local step, form = nil, nil
      local steps = {
        { "continue-button", "Continue" },
        { user.make or "TESLA", "Choose brand " .. (user.make or "TESLA") },
        { "sign-in-button", "Sign in as " .. user.email },
        { "approval-button", "Allow access" },
      }
      -- a user who declines does so on the first page that offers it (consent, or re-authentication)
      if user.approve == false then table.insert(steps, 1, { "deny-button", "Deny access" }) end
      for _, try in ipairs(steps) do
        form = form_with(html, try[1])
        if form then step = try[2] break end
      end
      if not form then return nil, "no form to submit on " .. url:match("^[^?]*") end
      log(step)
      if step:find("^Sign in") then
        form.fields[#form.fields + 1] = { "username", user.email }
        form.fields[#form.fields + 1] = { "password", user.password or "password" }
      end
      url = absolute(origin, form.action)
      if form.method == "GET" then
        url, method, body = url .. "?" .. encode(form.fields), "GET", nil
      else
        method, body = "POST", encode(form.fields)
      end
    end
  end
  return nil, "too many pages"
end

return browser
