/* libFuzzer target: the core's JSON decoder (core.decode) against lua-cjson, and
 * the core's encoder (core.encode) on every value the decoder gives.
 *
 * Input: the bytes are a JSON text (or not).
 *
 * Contract checked, with both decoders under lua_pcall:
 *   - core.decode never raises; it returns the value (nil for null), or nil and
 *     "invalid JSON";
 *   - what the core accepts, cjson.safe (decode_max_depth 200, invalid numbers off)
 *     accepts too, and the two values are equal once cjson's is put in the API's
 *     conventions (cjson.null removed, whole numbers within 2^53 made integers): same
 *     keys, same types, same number kinds, same bytes in every string;
 *   - the core may refuse what cjson accepts only where RFC 8259 does: raw control
 *     characters in a string, and numbers such as ".5", "1." or "01";
 *   - every value the core decodes, core.encode encodes, and core.decode (and cjson)
 *     read that back as the same value; except exactly the values the encoder must
 *     refuse: a string that is not UTF-8 (utf8.len is the reference), an array with a
 *     hole (from a null in it), an infinity (from "1e400"), with those messages;
 *   - every float is written as the rule says (string.format is the reference): the
 *     shortest of %.15g, %.16g, %.17g that reads back, without fraction when whole.
 * The core does not load cjson: this harness requires it for the comparison. */
#include "common.h"

static int COMPARE; /* registry ref of the comparing function */

static const char COMPARE_SOURCE[] =
    "local decode, encode, cjson = ...\n"
    "local c = cjson.new()\n"
    "c.decode_max_depth(200)\n"
    "c.decode_invalid_numbers(false)\n"
    "local null, mtype, floor, abs = c.null, math.type, math.floor, math.abs\n"
    "local function norm(v)\n"
    "  if v == null then return nil end\n"
    "  if mtype(v) == 'float' and v == floor(v) and abs(v) <= 2^53 then return math.tointeger(v) end\n"
    "  if type(v) == 'table' then\n"
    "    local t = {}\n"
    "    for k, x in pairs(v) do t[k] = norm(x) end\n"
    "    return t\n"
    "  end\n"
    "  return v\n"
    "end\n"
    "local function same(a, b, path)\n"
    "  if type(a) ~= type(b) then return path .. ': ' .. type(a) .. ' against ' .. type(b) end\n"
    "  if type(a) == 'table' then\n"
    "    for k, x in pairs(a) do\n"
    "      local diff = same(x, b[k], path .. '.' .. tostring(k))\n"
    "      if diff then return diff end\n"
    "    end\n"
    "    for k in pairs(b) do if a[k] == nil then return path .. '.' .. tostring(k) .. ': missing' end end\n"
    "    return nil\n"
    "  end\n"
    "  if mtype(a) ~= mtype(b) then return path .. ': ' .. mtype(a) .. ' against ' .. mtype(b) end\n"
    "  if a ~= b then return path .. ': ' .. tostring(a) .. ' against ' .. tostring(b) end\n"
    "end\n"
    "local function refusable(s)\n" /* where RFC 8259 is stricter than cjson */
    "  return s:find('[%z\\1-\\31]') or s:find('%f[%w.]%.%d') or s:find('%d%.[^%d]') or s:find('%d%.$')\n"
    "    or s:find('%f[%d]0%d') or s:find('%-[^%d]') or s:find('%-$')\n"
    "end\n"
    /* what the encoder must refuse: a string that is not UTF-8, an array with a hole, inf */
    "local function unencodable(v)\n"
    "  if type(v) == 'string' then return utf8.len(v) == nil end\n"
    "  if v == math.huge or v == -math.huge then return true end\n"
    "  if type(v) ~= 'table' then return false end\n"
    "  local n, max = 0, 0\n"
    "  for k, x in pairs(v) do\n"
    "    if unencodable(k) or unencodable(x) then return true end\n"
    "    if type(k) == 'number' then n, max = n + 1, math.max(max, k) end\n"
    "  end\n"
    "  return n ~= max\n"
    "end\n"
    "local function written(x)\n" /* the rule for a float, after printf */
    "  if x == floor(x) and abs(x) < 2^53 then return string.format('%d', x) end\n"
    "  for p = 15, 16 do\n"
    "    local s = string.format('%.' .. p .. 'g', x)\n"
    "    if tonumber(s) == x then return s end\n"
    "  end\n"
    "  return string.format('%.17g', x)\n"
    "end\n"
    "local function floats(v)\n"
    "  if mtype(v) == 'float' and abs(v) ~= math.huge then\n"
    "    local text, want = encode(v), written(v)\n"
    "    if text ~= want then return 'core.encode writes ' .. text .. ', not ' .. want end\n"
    "  elseif type(v) == 'table' then\n"
    "    for _, x in pairs(v) do\n"
    "      local diff = floats(x)\n"
    "      if diff then return diff end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local function round_trip(v)\n"
    "  local wrong = floats(v)\n"
    "  if wrong then return wrong end\n"
    "  local ok, text = pcall(encode, v)\n"
    "  if not ok then\n"
    "    if text:find('not enough memory', 1, true) then error(text, 0) end\n"
    "    if not unencodable(v) then return 'core.encode refuses a decoded value: ' .. text end\n"
    "    if not (text:find('(cannot be encoded as JSON: invalid UTF-8 in a string)', 1, true)\n"
    "      or text:find('(cannot be encoded as JSON: sparse or mixed table keys)', 1, true)\n"
    "      or text:find('%(cannot be encoded as JSON: cannot encode %-?inf%)$')) then\n"
    "      return 'core.encode refuses with ' .. text\n"
    "    end\n"
    "    return nil\n"
    "  end\n"
    "  if unencodable(v) then return 'core.encode accepts what it must refuse: ' .. text end\n"
    "  if select('#', decode(text)) ~= 1 then return 'core.decode refuses core.encode: ' .. text end\n"
    "  local diff = same(v, decode(text), 'round trip')\n"
    "  if diff then return diff end\n"
    "  local theirs, err = c.decode(text)\n"
    "  if theirs == nil then return 'cjson refuses core.encode: ' .. tostring(err) end\n"
    "  return same(v, norm(theirs), 'cjson round trip')\n"
    "end\n"
    "return function(s)\n"
    "  local n = select('#', decode(s))\n"
    "  local mine, why = decode(s)\n"
    "  local theirs, err = c.decode(s)\n"
    "  if n == 2 then\n"
    "    if why ~= 'invalid JSON' then return 'core.decode failed with ' .. tostring(why) end\n"
    "    if theirs ~= nil and not refusable(s) then return 'the core refuses what cjson accepts' end\n"
    "    return nil\n"
    "  end\n"
    "  if theirs == nil then return 'cjson refuses what the core accepts: ' .. tostring(err) end\n"
    "  return same(mine, norm(theirs), 'value') or round_trip(mine)\n"
    "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    lua_State *L;
    (void)argc;
    (void)argv;
    fz_open();
    L = FZ_L;
    if (luaL_loadbuffer(L, COMPARE_SOURCE, sizeof COMPARE_SOURCE - 1, "=compare") != LUA_OK)
        fz_die(L, "the comparing chunk does not load");
    fz_core(L, "decode");
    fz_core(L, "encode");
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK)
        fz_die(L, "the comparing chunk failed");
    COMPARE = luaL_ref(L, LUA_REGISTRYINDEX);
    fz_reset(L);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = FZ_L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, COMPARE);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        /* a memory limit reached is an ordinary error; anything else is a finding */
        if (msg == NULL || strstr(msg, "not enough memory") == NULL)
            fz_die(L, "a decoder raised");
    } else if (!lua_isnil(L, -1)) {
        fz_die(L, "the decoders disagree");
    }
    fz_reset(L);
    return 0;
}
