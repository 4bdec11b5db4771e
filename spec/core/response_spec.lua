-- Response and error mapping, pure (no network): core.parse is what every call ends with.
local smartcar = require "smartcar"
local core = require "smartcar.core"

local JSON = { ["content-type"] = "application/json", ["sc-request-id"] = "req-header" }

local function fail(status, body, headers)
  local res, err = core.parse(core.DATA, status, headers or JSON, body)
  assert.is_nil(res)
  assert.is_true(smartcar.SmartcarError.is(err))
  return err
end

describe("SmartcarError from a response", function()
  it("maps every field of a v2 body", function()
    local err = fail(429, core.encode {
      type = "RATE_LIMIT", code = "VEHICLE", description = "Slow down.",
      docURL = "https://smartcar.com/docs/errors/api-errors/rate-limit-errors#vehicle", statusCode = 429,
      requestId = "req-body", resolution = { type = "RETRY_LATER" }, suggestedUserMessage = "Wait.",
      detail = { { field = { "x" }, message = "bad" } },
    }, { ["retry-after"] = "12345", ["sc-request-id"] = "req-header" })
    assert.are.same({
      name = "SmartcarError", statusCode = 429, type = "RATE_LIMIT", code = "VEHICLE", description = "Slow down.",
      docURL = "https://smartcar.com/docs/errors/api-errors/rate-limit-errors#vehicle", requestId = "req-body",
      resolution = { type = "RETRY_LATER" }, suggestedUserMessage = "Wait.", retryAfter = 12345,
      detail = { { field = { "x" }, message = "bad" } },
      message = "RATE_LIMIT:VEHICLE - Slow down.",
    }, setmetatable(err, nil))
  end)

  it("prints no code when the code is null, and takes requestId from the header", function()
    local err = fail(401, '{"type":"AUTHENTICATION","code":null,"description":"Bad token.","resolution":{"type":null}}')
    assert.are.equal("AUTHENTICATION - Bad token.", err.message)
    assert.is_nil(err.code)
    assert.are.same({}, err.resolution)
    assert.are.equal("req-header", err.requestId)
  end)

  it("turns a bare-string resolution into {type=}", function()
    local err = fail(403, '{"type":"PERMISSION","description":"No.","resolution":"REAUTHENTICATE"}')
    assert.are.same({ type = "REAUTHENTICATE" }, err.resolution)
  end)

  it("maps v1.0 bodies", function()
    local err = fail(409, '{"error":"vehicle_state_error","message":"Vehicle state cannot be determined.","code":"VS_000"}')
    assert.are.equal("vehicle_state_error", err.type)
    assert.are.equal("VS_000", err.code)
    assert.are.equal("vehicle_state_error:VS_000 - Vehicle state cannot be determined.", err.message)
  end)

  it("maps OAuth bodies without printing a missing code", function()
    local err = fail(400, '{"error":"invalid_grant","error_description":"Invalid or expired code"}')
    assert.are.equal("invalid_grant - Invalid or expired code", err.message)
    assert.are.equal(400, err.statusCode)
  end)

  it("maps v3 errors[] bodies, typed and generic", function()
    local err = fail(502, core.encode { errors = { {
      status = "502", type = "UPSTREAM", code = "INVALID_DATA", title = "Bad Gateway", detail = "Invalid data.",
      links = { about = "https://smartcar.com/docs/x" }, resolution = { type = "RETRY_LATER" },
      suggestedUserMessage = "Later.",
    } } })
    assert.are.equal("UPSTREAM", err.type)
    assert.are.equal("INVALID_DATA", err.code)
    assert.are.equal("Invalid data.", err.description)
    assert.are.equal("https://smartcar.com/docs/x", err.docURL)
    assert.are.same({ type = "RETRY_LATER" }, err.resolution)
    assert.are.equal(502, err.statusCode)
    local generic = fail(401, '{"errors":[{"status":"401","code":"unauthorized","title":"Unauthorized",' ..
      '"detail":"The Authorization token is missing or invalid."}]}')
    assert.are.equal("Unauthorized:unauthorized - The Authorization token is missing or invalid.", generic.message)
  end)

  it("gives INVALID_RESPONSE for JSON without a type and for non-JSON bodies", function()
    local err = fail(500, '{"hello":"world"}')
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("INVALID_RESPONSE", err.code)
    assert.are.equal(500, err.statusCode)
    assert.are.equal('{"hello":"world"}', err.description)
    local html = fail(503, ("<html>" .. ("x"):rep(500)), { ["content-type"] = "text/html" })
    assert.are.equal("INVALID_RESPONSE", html.code)
    assert.are.equal(200, #html.description)
  end)

  it("reads retry-after as an HTTP date too", function()
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 120)
    local err = fail(429, '{"type":"RATE_LIMIT","code":"SMARTCAR_API","description":"x"}', { ["retry-after"] = date })
    assert.is_true(err.retryAfter >= 115 and err.retryAfter <= 121)
  end)

  it("maps transport failures", function()
    local res, err = core.parse(core.DATA, nil, "TIMEOUT", "Request timed out after 5 ms")
    assert.is_nil(res)
    assert.are.equal(408, err.statusCode)
    assert.are.equal("SDK_ERROR:TIMEOUT - Request timed out after 5 ms", err.message)
  end)
end)

describe("results", function()
  it("carry meta from the sc-* headers, absent headers giving absent keys", function()
    local res = core.parse(core.DATA, 200, { ["sc-request-id"] = "r", ["sc-unit-system"] = "imperial" }, '{"distance":1.5}')
    assert.are.same({ distance = 1.5, meta = { requestId = "r", unitSystem = "imperial" } }, res)
  end)

  it("wrap a JSON array as {data=, meta=}", function()
    local res = core.parse(core.DATA, 200, {}, ' [{"a":1},{"a":null}]')
    assert.are.same({ data = { { a = 1 }, {} }, meta = {} }, res)
  end)

  it("turn whole numbers into integers on Lua 5.3+", function()
    local res = core.parse(core.DATA, 200, {}, '{"year":2014,"big":1752104218549,"f":0.5}')
    if math.type then
      assert.are.equal("integer", math.type(res.year))
      assert.are.equal("integer", math.type(res.big))
      assert.are.equal("float", math.type(res.f))
    end
    assert.are.equal(2014, res.year)
  end)

  it("tolerate an empty success body", function()
    assert.are.same({ meta = {} }, core.parse(core.DATA, 204, {}, ""))
  end)
end)
