--- Webhooks: the VERIFY challenge and payload signatures.
-- @submodule smartcar

local core = require "smartcar.core"
core.own()

local type = type
local hmac, equals, check_string, arg_error = core.hmacSha256Hex, core.equals, core.checkString, core.argError

return function(smartcar)
  --- The answer to a webhook VERIFY challenge: lowercase hex HMAC-SHA256 of the challenge keyed by the AMT.
  -- @tparam string amt
  -- @tparam string challenge
  -- @treturn string
  function smartcar.hashChallenge(amt, challenge)
    check_string(amt, 1, "hashChallenge")
    if type(challenge) ~= "string" then arg_error(2, "hashChallenge", "string expected, got " .. type(challenge)) end
    return hmac(amt, challenge)
  end

  --- Whether a webhook delivery is authentic: compares (in constant time) the `SC-Signature` header with
  -- the HMAC-SHA256 of the raw request body. A table body is encoded as compact JSON first.
  -- @tparam string amt
  -- @tparam string signature the `SC-Signature` header
  -- @tparam string|table body the raw request body
  -- @treturn boolean
  function smartcar.verifyPayload(amt, signature, body)
    check_string(amt, 1, "verifyPayload")
    if type(signature) ~= "string" then return false end
    if type(body) == "table" then body = core.encode(body) end
    if type(body) ~= "string" then arg_error(3, "verifyPayload", "string expected, got " .. type(body)) end
    return equals(hmac(amt, body), signature:lower())
  end
end
