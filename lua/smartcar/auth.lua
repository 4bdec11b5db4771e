--- AuthClient: Smartcar Connect, the OAuth client of an application.
-- @submodule smartcar

local core = require "smartcar.core"
core.own()

local os_time, type, tonumber = os.time, type, tonumber
local new_auth_client, auth_url, token_request = core.newAuthClient, core.authUrl, core.tokenRequest
local unescape = core.unescape

local REFRESH_LIFETIME = 60 * 24 * 3600 -- when the server does not say: 60 days

-- The parameters of Connect's redirect that parseCallback returns, by the name it returns them under.
local CALLBACK_NAMES = {
  code = "code", state = "state", error = "error", error_description = "errorDescription",
  vin = "vin", make = "make", model = "model", year = "year", user_id = "userId",
}

-- The query of a redirect URL, or the string itself when it is a query already ("?" optional).
local function callback_query(s)
  local query = s:match("^[^?#]*%?([^#]*)")
  if query then return query end
  if s:find("^%a[%w+.-]*://") or s:sub(1, 1) == "/" then return "" end -- a URL without a query
  return s:match("^[^#]*")
end

return function(smartcar, client)
  --- Smartcar Connect: the OAuth client of an application.
  -- `AuthClient.new{clientId=, clientSecret=, redirectUri=, mode=}`; `clientId`, `clientSecret` and
  -- `redirectUri` fall back to `SMARTCAR_CLIENT_ID`, `SMARTCAR_CLIENT_SECRET`, `SMARTCAR_REDIRECT_URI`.
  -- `mode` is `"live"` (default), `"test"` or `"simulated"`. Readable fields: `clientId`, `redirectUri`, `mode`
  -- (never the secret).
  -- @type AuthClient
  local AuthClient = {}
  local cfg = client.config

  --- A new AuthClient: the application's credentials, from the Smartcar Dashboard.
  -- A missing `clientId` or `clientSecret` (option and environment) raises.
  -- @function AuthClient.new
  -- @tparam[opt] table options
  -- @tparam[opt] string options.clientId the application id, else env `SMARTCAR_CLIENT_ID`
  -- @tparam[opt] string options.clientSecret else env `SMARTCAR_CLIENT_SECRET`; never readable afterwards
  -- @tparam[opt] string options.redirectUri where Connect sends the user back, else env
  -- `SMARTCAR_REDIRECT_URI`; sent only when set
  -- @tparam[opt] string options.mode `"live"` (default), `"test"` or `"simulated"`
  -- @tparam[opt] boolean options.testMode deprecated: `true` is `mode = "test"`
  -- @treturn AuthClient
  -- @tfield[AuthClient] string clientId readable
  -- @tfield[AuthClient] string redirectUri readable (nil when not set)
  -- @tfield[AuthClient] string mode readable
  -- @usage local client = smartcar.AuthClient.new { redirectUri = "https://example.com/callback", mode = "test" }
  function AuthClient.new(options)
    return new_auth_client(options, AuthClient)
  end

  --- The Connect URL to send the user to. The scope may be omitted: `getAuthUrl(options)`.
  -- @function AuthClient:getAuthUrl
  -- @tparam[opt] {string,...} scope permissions, e.g. `{"read_odometer", "required:read_location"}`
  -- @tparam[opt] table options
  -- @tparam[opt] boolean options.forcePrompt always show the consent page (`approval_prompt=force`)
  -- @tparam[opt] string options.state echoed back in the redirect: check it there
  -- @tparam[opt] string options.makeBypass a make (`TESLA`) to skip the brand list
  -- @tparam[opt] table options.singleSelect `{enabled = true}` (one vehicle), or `{vin = "..."}`
  -- @tparam[opt] table options.flags `{name = value}`, sent as `name:value` pairs
  -- @tparam[opt] string options.user your id of the user, for Smartcar's analytics
  -- @tparam[opt] string options.externalId API V3: your own id of the vehicle owner, sent as `external_id`
  -- (stored with the Smartcar user, echoed back in the redirect)
  -- @treturn string the URL
  -- @usage local url = client:getAuthUrl({"read_odometer"}, {state = "0facda3319"})
  function AuthClient:getAuthUrl(scope, options)
    return auth_url(self, scope, options, cfg.connectOrigin)
  end

  local function exchange(self, value, options, grant)
    local method, url, headers, body = token_request(self, value, options, grant, cfg.authOrigin)
    local now = os_time()
    local res, err = client:token(method, url, headers, body)
    if not res then return nil, err end
    local refresh_in = tonumber(res.refresh_expires_in)
    return {
      accessToken = res.access_token,
      refreshToken = type(res.refresh_token) == "string" and res.refresh_token or nil,
      expiration = now + res.expires_in,
      refreshExpiration = now + (refresh_in and refresh_in == refresh_in and refresh_in or REFRESH_LIFETIME),
    }
  end

  --- Exchange an authorization code for an access object.
  -- @function AuthClient:exchangeCode
  -- @tparam string code the `code` of the redirect
  -- @tparam[opt] table options `flags`
  -- @treturn[1] table access, for `Vehicle.new` and the module functions
  -- @tfield[table] string accessToken the bearer token (2 hours)
  -- @tfield[table] string refreshToken for `exchangeRefreshToken` (60 days; each use gives a new one)
  -- @tfield[table] number expiration when `accessToken` expires, epoch seconds (see `isExpired`)
  -- @tfield[table] number refreshExpiration when `refreshToken` expires, epoch seconds
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  -- @usage local access, err = client:exchangeCode(code)
  function AuthClient:exchangeCode(code, options)
    return exchange(self, code, options, "authorization_code")
  end

  --- Exchange a refresh token for a new access object (the refresh token rotates).
  -- @function AuthClient:exchangeRefreshToken
  -- @tparam string token
  -- @tparam[opt] table options `flags`
  -- @treturn[1] table a new access, as `exchangeCode` returns it
  -- @tfield[table] string accessToken the new bearer token
  -- @tfield[table] string refreshToken the new refresh token (the old one stops working)
  -- @tfield[table] number expiration epoch seconds
  -- @tfield[table] number refreshExpiration epoch seconds
  -- @treturn[2] nil
  -- @treturn[2] SmartcarError
  -- @usage access = assert(client:exchangeRefreshToken(access.refreshToken))
  function AuthClient:exchangeRefreshToken(token, options)
    return exchange(self, token, options, "refresh_token")
  end

  smartcar.AuthClient = AuthClient

  --- Token expiry.
  -- @section expiry

  --- Whether an expiration (epoch seconds) has passed.
  -- @tparam number expiration
  -- @treturn boolean
  -- @usage if smartcar.isExpired(access.expiration) then ... end
  function smartcar.isExpired(expiration)
    if type(expiration) ~= "number" then core.argError(1, "isExpired", "number expected, got " .. type(expiration)) end
    return os_time() >= expiration
  end

  --- The redirect back from Connect.
  -- @section callback

  --- Decode the redirect back from Connect: a full URL or just its query string (the part after `?`).
  -- Only the parameters present are set, percent- and plus-decoded. Other parameters are left out;
  -- of a repeated one, the first counts.
  -- @tparam string urlOrQuery e.g. `"https://example.com/callback?code=...&state=..."` or `"code=...&state=..."`
  -- @treturn table the parameters
  -- @tfield[table] string code the authorization code, for `exchangeCode`
  -- @tfield[table] string state the `state` given to `getAuthUrl`
  -- @tfield[table] string error e.g. `access_denied`, `vehicle_incompatible`
  -- @tfield[table] string errorDescription `error_description`
  -- @tfield[table] string vin with `vehicle_incompatible`: the vehicle, also `make` and `model`
  -- @tfield[table] string make
  -- @tfield[table] string model
  -- @tfield[table] integer year a number when it is a whole number
  -- @tfield[table] string userId `user_id`: API V3's Smartcar user id (send it as `sc-user-id`, see
  -- `Application:vehicle`)
  -- @usage local cb = smartcar.parseCallback(ngx.var.request_uri)
  -- if cb.error then return deny(cb.error, cb.errorDescription) end
  -- local access = assert(client:exchangeCode(cb.code))
  function smartcar.parseCallback(urlOrQuery)
    if type(urlOrQuery) ~= "string" then
      core.argError(1, "parseCallback", "string expected, got " .. type(urlOrQuery))
    end
    local out = {}
    for pair in callback_query(urlOrQuery):gmatch("[^&]+") do
      local key, value = pair:match("^([^=]*)=?(.*)$")
      local name = CALLBACK_NAMES[unescape(key)]
      if name and out[name] == nil then
        value = unescape(value)
        if name == "year" and #value <= 15 and value:find("^%d+$") then value = tonumber(value) end
        out[name] = value
      end
    end
    return out
  end
end
