-- The core's JSON decoder (src/json.c): RFC 8259 exactly, straight into the API's
-- conventions (null is nil, whole numbers within 2^53 are integers on Lua 5.3+).
-- fuzz/json.c checks it against lua-cjson on arbitrary input.
require "smartcar"
local core = require "smartcar.core"

local function decodes(text, expected)
  local n = select("#", core.decode(text))
  local value = core.decode(text)
  assert.are.equal(1, n, text .. " was refused")
  assert.are.same(expected, value)
  return value
end

local function refused(text)
  local value, err = core.decode(text)
  assert.is_nil(value, text .. " was accepted")
  assert.are.equal("invalid JSON", err, text)
end

local integers = math.type ~= nil

describe("core.decode", function()
  it("decodes every kind of value, at the top too", function()
    decodes('{"a":1,"b":[true,false,"x"],"c":{"d":{}}}', { a = 1, b = { true, false, "x" }, c = { d = {} } })
    decodes("[]", {})
    decodes(" \t\r\n42 \n", 42)
    decodes('"s"', "s")
    decodes("true", true)
    decodes("false", false)
    assert.are.equal(1, select("#", core.decode("null")))
    assert.is_nil(core.decode(" null "))
  end)

  it("drops nulls: an object's key is absent, an array keeps its positions", function()
    local v = decodes('{"a":null,"b":1}', { b = 1 })
    assert.is_nil(next(v, next(v)))
    v = decodes("[1,null,3]", { [1] = 1, [3] = 3 })
    assert.is_nil(v[2])
    decodes('{"a":1,"a":null}', {}) -- a later key wins, null too
  end)

  it("unescapes strings: the short escapes, \\u, surrogate pairs; bytes kept as sent", function()
    decodes([["\"\\\/\b\f\n\r\t"]], '"\\/\b\f\n\r\t')
    decodes([["\u0041\u00e9\u20ac\ud83d\ude00\u0000"]], "Aé€😀\0")
    decodes('"\255\254 raw \192\175"', "\255\254 raw \192\175")
    decodes('"' .. ("x"):rep(10000) .. '\\n"', ("x"):rep(10000) .. "\n")
  end)

  it("refuses broken strings: lone surrogates, unknown escapes, raw control characters, no end", function()
    for _, text in ipairs { [["\ud800"]], [["\udc00"]], [["\ud800\u0041"]], [["\u12"]], [["\x"]], '"a\tb"',
      '"a\nb"', '"a\0b"', '"abc', '"abc\\"' } do
      refused(text)
    end
  end)

  it("reads numbers as JSON writes them, whole ones as integers", function()
    local cases = {
      { "0", 0 }, { "-0", 0 }, { "12", 12 }, { "-7", -7 }, { "12.5", 12.5 }, { "261422.92", 261422.92 },
      { "1e3", 1000 }, { "1E+3", 1000 }, { "25e-1", 2.5 }, { "0.000123", 0.000123 }, { "-1.5e-3", -0.0015 },
      { "123456789012345", 123456789012345 }, { "1e400", math.huge }, { "-1e400", -math.huge },
      { "123456789012345678901234567890", 1.2345678901234568e29 }, { "4.35e-320", 4.35e-320 },
      { "9007199254740993", 9007199254740992 }, { "0.1e1", 1 }, { "1" .. ("0"):rep(300), 1e300 },
    }
    for _, c in ipairs(cases) do
      local v = decodes(c[1], c[2])
      if integers then
        local whole = c[2] == math.floor(c[2]) and math.abs(c[2]) <= 2 ^ 53
        assert.are.equal(whole and "integer" or "float", math.type(v), c[1])
      end
    end
  end)

  it("gives the value strtod gives (sampled over the fast path's whole range)", function()
    math.randomseed(7)
    for _ = 1, 20000 do
      local digits = tostring(math.random(1, 999999999)) .. tostring(math.random(0, 999999))
      local cut = math.random(1, #digits)
      local text = digits:sub(1, cut) .. "." .. digits:sub(cut + 1) .. "0e" .. math.random(-30, 30)
      assert.are.equal(tonumber(text), core.decode(text), text)
    end
  end)

  it("refuses what is not JSON", function()
    for _, text in ipairs { "", " ", ".5", "1.", "01", "-", "+1", "1e", "1e+", "0x1F", "NaN", "Infinity", "-Infinity",
      "tru", "nul", "[1,]", "[1 2]", '{"a":1,}', '{"a" 1}', "{a:1}", "{'a':1}", "[", "]", "{", '{"a":1}}', "[1]x",
      "\239\187\191{}", "1 2" } do
      refused(text)
    end
  end)

  it("nests 200 deep, not 201", function()
    decodes(("["):rep(200) .. ("]"):rep(200), (function()
      local t = {}
      for _ = 2, 200 do t = { t } end
      return t
    end)())
    refused(("["):rep(201) .. ("]"):rep(201))
    refused(('{"a":'):rep(100000) .. "1" .. ("}"):rep(100000))
  end)
end)
