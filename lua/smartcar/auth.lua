--- AuthClient: Smartcar Connect, the OAuth client of an application.
-- @submodule smartcar

local core = require "smartcar.core"
core.own()

local os_time, type, tonumber = os.time, type, tonumber
local JSON = core.JSON
local new_auth_client, auth_url, token_request = core.newAuthClient, core.authUrl, core.tokenRequest

local REFRESH_LIFETIME = 60 * 24 * 3600 -- when the server does not say: 60 days

return function(smartcar, client)
  --- Smartcar Connect: the OAuth client of an application.
  -- `AuthClient.new{clientId=, clientSecret=, redirectUri=, mode=}`; `clientId`, `clientSecret` and
  -- `redirectUri` fall back to `SMARTCAR_CLIENT_ID`, `SMARTCAR_CLIENT_SECRET`, `SMARTCAR_REDIRECT_URI`.
  -- `mode` is `"live"` (default), `"test"` or `"simulated"`. Readable fields: `clientId`, `redirectUri`, `mode`.
  -- @type AuthClient
  local AuthClient = {}
  local cfg = client.config

  --- A new AuthClient.
  -- @function AuthClient.new
  -- @tparam[opt] table options `clientId`, `clientSecret`, `redirectUri`, `mode`
  -- @treturn AuthClient
  function AuthClient.new(options)
    return new_auth_client(options, AuthClient)
  end

  --- The Connect URL to send the user to.
  -- @function AuthClient:getAuthUrl
  -- @tparam[opt] {string,...} scope permissions, e.g. `{"read_odometer", "required:read_location"}`
  -- @tparam[opt] table options `forcePrompt`, `state`, `makeBypass`, `singleSelect` (`{enabled=}` or `{vin=}`),
  -- `flags`, `user`
  -- @treturn string
  -- @usage local url = client:getAuthUrl({"read_odometer"}, {state = "0facda3319"})
  function AuthClient:getAuthUrl(scope, options)
    return auth_url(self, scope, options, cfg.connectOrigin)
  end

  local function exchange(self, value, options, grant)
    local method, url, headers, body = token_request(self, value, options, grant, cfg.authOrigin)
    local now = os_time()
    local res, err = client:send(JSON, method, url, headers, body)
    if err then return nil, err end
    if type(res) ~= "table" or type(res.access_token) ~= "string" or type(res.expires_in) ~= "number"
      or res.expires_in ~= res.expires_in then
      return nil, core.sdkError("INVALID_RESPONSE", "The token response has no access_token or expires_in", 200)
    end
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
  -- @treturn[1] table `{accessToken, refreshToken, expiration, refreshExpiration}` (epoch seconds)
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
  -- @treturn[1] table access
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
end
