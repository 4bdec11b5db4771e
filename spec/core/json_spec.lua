-- The core's JSON (src/json.c). The decoder: RFC 8259 exactly, straight into the API's
-- conventions (null is nil, whole numbers within 2^53 are integers on Lua 5.3+). The
-- encoder: compact, object keys sorted, "/" not escaped, UTF-8 checked.
-- fuzz/json.c checks the decoder against lua-cjson and the round trip on arbitrary input.
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

describe("core.encode", function()
  local function encodes(value, expected)
    assert.are.equal(expected, core.encode(value))
  end

  local function refuses(value, why)
    assert.has_error(function() core.encode(value) end,
      "bad argument #1 to 'encode' (cannot be encoded as JSON: " .. why .. ")")
  end

  -- what decoding the encoding gives back
  local function round_trip(value)
    local text = core.encode(value)
    assert.are.equal(1, select("#", core.decode(text)), text .. " does not decode")
    return (core.decode(text)), text
  end

  -- the rule for floats: whole ones within 2^53 as integers, else the shortest of
  -- %.15g, %.16g, %.17g that reads back (in the C locale the suite runs in)
  local function expected_number(x)
    if x == math.floor(x) and math.abs(x) < 2 ^ 53 then return string.format("%d", x) end
    for p = 15, 16 do
      local s = string.format("%." .. p .. "g", x)
      if tonumber(s) == x then return s end
    end
    return string.format("%.17g", x)
  end

  -- significant digits of a number's text
  local function digits(s)
    return #(s:gsub("e.*", ""):gsub("[^%d]", ""):gsub("^0+", ""))
  end

  it("writes the scalars, nil and the null sentinels as null", function()
    encodes(nil, "null")
    encodes(require("cjson").null, "null")
    encodes(true, "true")
    encodes(false, "false")
    encodes("", '""')
    encodes("s", '"s"')
    encodes({ a = require("cjson").null, b = { false, require("cjson").null } }, '{"a":null,"b":[false,null]}')
  end)

  it("escapes the quote, the backslash and every byte below 0x20; not '/' nor DEL", function()
    local named = { [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r" }
    for b = 0, 31 do
      encodes(string.char(b), '"' .. (named[b] or string.format("\\u%04x", b)) .. '"')
    end
    encodes('"', [["\""]])
    encodes("\\", [["\\"]])
    encodes("/", '"/"')
    encodes("http://h/p?a=/b", '"http://h/p?a=/b"')
    encodes("\127", '"\127"')
    encodes('a"b\\c\n\0d', [["a\"b\\c\n\u0000d"]])
    local all = {}
    for b = 0, 127 do all[#all + 1] = string.char(b) end
    all = table.concat(all)
    assert.are.equal(all, (round_trip(all)))
    local long = ("x\n/\"y"):rep(5000) -- longer than a buffer's first block
    assert.are.equal(long, (round_trip(long)))
    assert.are.equal(#long + 2 * 5000 + 2, #core.encode(long))
  end)

  it("passes valid UTF-8 through, boundaries included", function()
    for _, s in ipairs {
      "\194\128", "\223\191", "\224\160\128", "\237\159\191", "\238\128\128", "\239\191\191",
      "\240\144\128\128", "\244\143\191\191", "é", "€", "😀", "aé€😀z",
    } do
      encodes(s, '"' .. s .. '"')
      encodes({ [s] = s }, '{"' .. s .. '":"' .. s .. '"}')
      assert.are.equal(s, (round_trip(s)))
    end
  end)

  it("refuses bytes that are not UTF-8: stray, overlong, surrogate, too large, cut short", function()
    for _, s in ipairs {
      "\128", "\191", "\192\128", "\193\191", "\224\128\128", "\224\159\191", "\237\160\128", "\237\191\191",
      "\240\128\128\128", "\240\143\191\191", "\244\144\128\128", "\245\128\128\128", "\248\136\128\128\128",
      "\254", "\255", "\195", "\226\130", "\240\159\152", "\195(", "\226(\172", "\240\159(\128", "ab\255cd",
      "é\128",
    } do
      refuses(s, "invalid UTF-8 in a string")
      refuses({ s }, "invalid UTF-8 in a string")
      refuses({ [s] = 1 }, "invalid UTF-8 in a string")
    end
  end)

  it("writes whole numbers as integers, other floats as the shortest that reads back", function()
    local cases = {
      { 0, "0" }, { -7, "-7" }, { 42, "42" }, { 3.0, "3" }, { -0.0, "0" }, { 1e15, "1000000000000000" },
      { 2 ^ 53 - 1, "9007199254740991" }, { -(2 ^ 53 - 1), "-9007199254740991" }, { 2 ^ 53, "9007199254740992" },
      { -(2 ^ 53), "-9007199254740992" }, { 2 ^ 53 + 2, "9007199254740994" }, { 2 ^ 63, "9.223372036854776e+18" },
      { 0.1, "0.1" }, { -1.5, "-1.5" }, { 1 / 3, "0.3333333333333333" }, { 2 / 3, "0.6666666666666666" },
      { 261422.92, "261422.92" }, { 1e300, "1e+300" }, { -1e300, "-1e+300" }, { 1e21, "1e+21" },
      { 5e-324, "4.94065645841247e-324" }, { 2.2250738585072014e-308, "2.2250738585072014e-308" },
      { 1.7976931348623157e308, "1.7976931348623157e+308" }, { 0.1 + 0.2, "0.30000000000000004" },
      { 2.5e-10, "2.5e-10" },
    }
    for _, c in ipairs(cases) do
      encodes(c[1], c[2])
      assert.are.equal(c[1], (round_trip(c[1])), c[2])
    end
    if integers then
      encodes(math.maxinteger, "9223372036854775807")
      encodes(math.mininteger, "-9223372036854775808")
      encodes(math.tointeger(2 ^ 53) + 1, "9007199254740993") -- exact as an integer (the decoder reads it as a double)
      assert.are.equal("float", math.type(core.decode(core.encode(2 ^ 53 + 2))))
      assert.are.equal("integer", math.type(core.decode(core.encode(3.0))))
    end
  end)

  it("writes random doubles so that they read back exactly", function()
    math.randomseed(11)
    for i = 1, 4000 do
      local mantissa = math.random(0, 2 ^ 26 - 1) * 2 ^ 27 + math.random(0, 2 ^ 27 - 1)
      local x = mantissa * 2 ^ (i % 4 == 0 and math.random(-60, 10) or math.random(-1074, 970))
      if math.random(2) == 1 then x = -x end
      local text, want = core.encode(x), expected_number(x)
      if text ~= want then -- LuaJIT's string.format may round a tie in the last digit the other way
        assert.are.equal(digits(want), digits(text), want .. " written " .. text)
      end
      assert.are.equal(x, core.decode(text), text)
    end
  end)

  it("writes short decimals as they are written", function()
    math.randomseed(5)
    for _ = 1, 4000 do
      local figures = tostring(math.random(1, 999999999)) .. tostring(math.random(0, 999999))
      figures = figures:sub(1, math.random(1, 15))
      local cut = math.random(0, #figures)
      local text = (math.random(2) == 1 and "-" or "") .. figures:sub(1, cut) .. "." .. figures:sub(cut + 1) .. "e"
        .. math.random(-8, 8)
      local x = tonumber(text)
      assert.are.equal(expected_number(x), core.encode(x), text)
      assert.are.equal(x, core.decode(core.encode(x)), text)
    end
    encodes(0.0001, "0.0001")
    encodes(0.00012, "0.00012")
    encodes(0.00009, "9e-05")
    encodes(123456789012345.6, "123456789012345.6")
    encodes(-80.25, "-80.25")
    encodes(0.000123456789012345, "0.000123456789012345")
  end)

  it("refuses NaN and the infinities", function()
    refuses(0 / 0, "cannot encode NaN")
    refuses(math.huge, "cannot encode inf")
    refuses(-math.huge, "cannot encode -inf")
    refuses({ a = { 1, 0 / 0 } }, "cannot encode NaN")
  end)

  it("writes arrays for keys 1..n, objects with their keys sorted bytewise, {} when empty", function()
    encodes({}, "{}")
    encodes({ 1, "a", true, {}, { 2 } }, '[1,"a",true,{},[2]]')
    encodes({ b = 1, a = 2, c = { z = 1, y = { 3 } } }, '{"a":2,"b":1,"c":{"y":[3],"z":1}}')
    encodes({ aa = 1, a = 2, [""] = 3, B = 4, ["\0"] = 5, ["é"] = 6, z = 7, ["a\0"] = 8 },
      '{"":3,"\\u0000":5,"B":4,"a":2,"a\\u0000":8,"aa":1,"z":7,"é":6}')
    encodes({ ["1"] = 1, ["2"] = 2 }, '{"1":1,"2":2}')
    local t, keys, parts = {}, {}, {}
    math.randomseed(3)
    for i = 1, 300 do
      local k = ("%x"):format(math.random(0, 2 ^ 30)) .. i
      t[k] = i
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = ('"%s":%d'):format(k, t[k]) end
    encodes(t, "{" .. table.concat(parts, ",") .. "}")
    for n = 2, 70 do -- both sorts (few keys, many), every order
      t, keys, parts = {}, {}, {}
      for i = 1, n do keys[i] = ("k%03d"):format(i) end
      for i = n, 2, -1 do
        local j = math.random(1, i)
        keys[i], keys[j] = keys[j], keys[i]
      end
      for i, k in ipairs(keys) do t[k] = i end
      table.sort(keys)
      for _, k in ipairs(keys) do parts[#parts + 1] = ('"%s":%d'):format(k, t[k]) end
      encodes(t, "{" .. table.concat(parts, ",") .. "}")
    end
    local list = {}
    for i = 1, 10000 do list[i] = i end
    assert.are.same(list, (round_trip(list)))
  end)

  it("refuses sparse or mixed keys and keys of other types", function()
    for _, t in ipairs {
      { [2] = 1 }, { [0] = 1 }, { [-1] = 1 }, { [1.5] = 1 }, { [1] = 1, [3] = 3 }, { 1, 2, [4] = 4 },
      { [math.huge] = 1 }, { 1, a = 2 }, { [1] = 1, ["1"] = 2 }, { x = { [2] = 1 } },
    } do
      refuses(t, "sparse or mixed table keys")
    end
    refuses({ [true] = 1 }, "cannot encode a table key of type boolean")
    refuses({ [{}] = 1 }, "cannot encode a table key of type table")
    refuses({ [print] = 1 }, "cannot encode a table key of type function")
  end)

  it("refuses functions, userdata and threads", function()
    refuses(print, "cannot encode a function")
    refuses(function() end, "cannot encode a function")
    refuses(io.stdout, "cannot encode a userdata")
    refuses(coroutine.create(function() end), "cannot encode a thread")
    refuses({ a = { b = print } }, "cannot encode a function")
  end)

  it("reads tables raw: no metamethod runs", function()
    local boom = function() error("a metamethod ran") end
    local mt = { __index = boom, __newindex = boom, __pairs = boom, __ipairs = boom, __len = boom, __tostring = boom }
    encodes(setmetatable({}, mt), "{}")
    encodes(setmetatable({ 1, 2 }, mt), "[1,2]")
    encodes(setmetatable({ b = 1, a = 2 }, mt), '{"a":2,"b":1}')
    encodes(setmetatable({}, { __index = { a = 1 } }), "{}")
  end)

  it("nests 200 deep, not 201; a cycle is refused", function()
    local function nest(n, leaf, key)
      local t = leaf
      for _ = 1, n do
        if key then t = { [key] = t } else t = { t } end
      end
      return t
    end
    encodes(nest(199, {}), ("["):rep(199) .. "{}" .. ("]"):rep(199)) -- 200 tables
    encodes(nest(200, 1), ("["):rep(200) .. "1" .. ("]"):rep(200))
    encodes(nest(199, {}, "a"), ('{"a":'):rep(199) .. "{}" .. ("}"):rep(199))
    refuses(nest(200, {}), "nested too deep") -- 201
    refuses(nest(201, 1), "nested too deep")
    refuses(nest(200, {}, "a"), "nested too deep")
    refuses(nest(100000, 1), "nested too deep")
    local cycle = {}
    cycle[1] = cycle
    refuses(cycle, "nested too deep")
    cycle = { a = {} }
    cycle.a.b = cycle
    refuses(cycle, "nested too deep")
    local shared = { 1 } -- the same table twice is no cycle
    encodes({ shared, shared }, "[[1],[1]]")
  end)

  it("writes what the decoder reads back as the same value", function()
    local value = {
      name = "Tesla \"Model\" 3/Y", unicode = "é€😀", control = "\1\31\n", n = { 0, -1, 0.5, 1e-7, 123456.789 },
      nested = { { a = { true, false } }, {}, { [""] = "" } }, big = 2 ^ 60, tiny = -5e-324,
    }
    assert.are.same(value, (round_trip(value)))
    assert.are.same(core.decode('{"a":[1,{"b":null}],"c":"\\/"}'), (round_trip(core.decode('{"a":[1,{"b":null}],"c":"\\/"}'))))
  end)

  it("writes '.' whatever the locale's decimal point", function()
    local saved = os.setlocale(nil, "numeric")
    local found = false
    for _, name in ipairs { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ps_AF.UTF-8", "C" } do
      if os.setlocale(name, "numeric") then
        found = true
        local ok, text = pcall(core.encode, { 0.5, 1 / 3, -2.5e-10, 1e300, 5e-324 })
        os.setlocale(saved, "numeric")
        assert.is_true(ok, text)
        assert.are.equal("[0.5,0.3333333333333333,-2.5e-10,1e+300,4.94065645841247e-324]", text, name)
      end
    end
    assert.is_true(found)
  end)

  -- Pashto's decimal point is two bytes ("٫"): decoding's slow path (long or exponent-heavy
  -- numbers go to strtod) and encoding both translate it. The locale is compiled for a child
  -- process, as one is rarely installed.
  it("reads and writes numbers in a locale whose decimal point is several bytes", function()
    local dir = os.tmpname()
    os.remove(dir)
    local built = os.execute(("mkdir -p %s && localedef -i ps_AF -f UTF-8 %s/ps_AF.UTF-8 >/dev/null 2>&1")
      :format(dir, dir))
    if built ~= true and built ~= 0 then
      os.execute("rm -rf " .. dir)
      return pending("localedef cannot build ps_AF.UTF-8 here")
    end
    local code = "assert(os.setlocale('ps_AF.UTF-8', 'numeric')); local c = require 'smartcar.core'; " ..
      "io.write(tostring(c.decode('1.2345678901234567e-5') == 1.2345678901234567e-5), ' ', " ..
      "tostring(c.decode('[0.1234567890123456789]')[1] == 0.1234567890123456789), ' ', c.encode { 0.1, 1 / 3, 1e-300 })"
    local p = assert(io.popen(("LOCPATH=%s %s -e %q 2>&1"):format(dir, arg and arg[-1] or "lua",
      ("package.cpath = %q .. ';' .. package.cpath; %s"):format(package.cpath:match("^[^;]+"), code))))
    local out = p:read("*a")
    p:close()
    os.execute("rm -rf " .. dir)
    assert.are.equal("true true [0.1,0.3333333333333333,1e-300]", out)
  end)

  it("survives finalizers that change the table while it is written", function()
    local target = {}
    local function finalized()
      target["k" .. math.random(1, 60)] = math.random(2) == 1 and { 1, 2 } or nil
    end
    local function garbage()
      if newproxy then -- 5.1, LuaJIT: only userdata have finalizers
        local p = newproxy(true)
        getmetatable(p).__gc = finalized
      else
        setmetatable({}, { __gc = finalized })
      end
    end
    for i = 1, 40 do target["k" .. i] = { ("v"):rep(i * 30), i + 0.5 } end
    for _ = 1, 300 do
      for _ = 1, 20 do garbage() end
      local ok, text = pcall(core.encode, target)
      if ok then
        assert.are.equal("table", type(core.decode(text)))
      else
        assert.truthy(text:find("cannot be encoded as JSON: sparse or mixed table keys", 1, true), text)
      end
    end
    collectgarbage()
  end)

  it("raises only an argument error, and keeps working after one", function()
    assert.has_error(function() core.encode() end, "bad argument #1 to 'encode' (value expected)")
    for _ = 1, 100 do
      pcall(core.encode, { a = { 1, 2, { print } } })
      pcall(core.encode, { ("x"):rep(10000) .. "\255" })
    end
    encodes({ a = { 1, 2, { 3 } } }, '{"a":[1,2,[3]]}')
  end)
end)
