/* JSON through lua-cjson (a private cjson.safe instance, so a user's cjson
 * settings never change ours), plus the two conventions of the API:
 * JSON null becomes nil, whole numbers become integers on Lua 5.3+. */
#include <math.h>
#include <string.h>
#include "core.h"

#define SC_JSON_DEPTH 200 /* deeper bodies are refused, never walked */

static const char sc_key_decode = 0;
static const char sc_key_encode = 0;
static const char sc_key_null = 0;

/* cjson.safe is taken from the loaded-modules table (the registry's _LOADED,
 * which require fills): no call into Lua globals. The Lua layer requires it first. */
void sc_json_open(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
    lua_getfield(L, -1, "cjson.safe");
    if (!lua_istable(L, -1) && !lua_isuserdata(L, -1))
        luaL_error(L, "smartcar.core needs lua-cjson: require \"cjson.safe\" first (require \"smartcar\" does)");
    lua_getfield(L, -1, "new");
    lua_call(L, 0, 1);
    lua_getfield(L, -1, "decode_max_depth");
    if (lua_isfunction(L, -1)) {
        lua_pushinteger(L, SC_JSON_DEPTH);
        lua_call(L, 1, 0);
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "decode_invalid_numbers"); /* NaN, Infinity, 0x1F are not JSON */
    if (lua_isfunction(L, -1)) {
        lua_pushboolean(L, 0);
        lua_call(L, 1, 0);
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "decode");
    sc_rawsetp(L, LUA_REGISTRYINDEX, &sc_key_decode);
    lua_getfield(L, -1, "encode");
    sc_rawsetp(L, LUA_REGISTRYINDEX, &sc_key_encode);
    lua_getfield(L, -1, "null");
    sc_rawsetp(L, LUA_REGISTRYINDEX, &sc_key_null);
    lua_pop(L, 3);
}

#if SC_HAS_INTEGERS
/* Replace the number on top by an integer when it is a whole number within 2^53. */
static void integral(lua_State *L)
{
    if (!lua_isinteger(L, -1)) {
        lua_Number n = lua_tonumber(L, -1);
        if (n == floor(n) && fabs(n) <= 9007199254740992.0) {
            lua_pop(L, 1);
            lua_pushinteger(L, (lua_Integer)n);
        }
    }
}
#endif

/* Walk the decoded table on top of the stack; `null` is at index nidx.
 * Returns 0 when the Lua stack cannot grow (the body is then refused). */
static int normalise(lua_State *L, int nidx, int depth)
{
    int t = lua_gettop(L);
    if (depth > SC_JSON_DEPTH || !lua_checkstack(L, 4))
        return 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        int type = lua_type(L, -1);
        if (type == LUA_TTABLE) {
            if (!normalise(L, nidx, depth + 1)) {
                lua_settop(L, t);
                return 0;
            }
        } else if (type == LUA_TLIGHTUSERDATA && lua_rawequal(L, -1, nidx)) {
            lua_pushvalue(L, -2);
            lua_pushnil(L);
            lua_rawset(L, t); /* clearing an existing field during lua_next is allowed */
        }
#if SC_HAS_INTEGERS
        else if (type == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            integral(L);
            lua_rawset(L, t); /* assigning an existing field during lua_next is allowed */
        }
#endif
        lua_pop(L, 1);
    }
    return 1;
}

int sc_json_decode(lua_State *L, int idx)
{
    int top = lua_gettop(L);
    idx = sc_absindex(L, idx);
    sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_null);
    sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_decode);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1) || (lua_istable(L, -1) && !normalise(L, top + 1, 0))) {
        lua_settop(L, top);
        return 0;
    }
    if (lua_rawequal(L, -1, top + 1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
#if SC_HAS_INTEGERS
    else if (lua_type(L, -1) == LUA_TNUMBER) {
        integral(L);
    }
#endif
    lua_remove(L, top + 1);
    return 1;
}

int sc_json_try_encode(lua_State *L, int idx)
{
    size_t len, i;
    const char *s;
    luaL_Buffer b;
    idx = sc_absindex(L, idx);
    sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_encode);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2)) {
        lua_remove(L, -2); /* leaves cjson's message */
        return 0;
    }
    lua_pop(L, 1);
    s = lua_tolstring(L, -1, &len);
    if (memchr(s, '/', len) == NULL)
        return 1;
    /* cjson 2.1.0 escapes '/' as "\/": drop that escape so the wire matches
     * what the other SDKs send.  Walk escape pairs so "\\" is never split. */
    luaL_buffinit(L, &b);
    for (i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len) {
            if (s[i + 1] != '/')
                luaL_addchar(&b, s[i]);
            luaL_addchar(&b, s[i + 1]);
            i++;
        } else {
            luaL_addchar(&b, s[i]);
        }
    }
    luaL_pushresult(&b);
    lua_remove(L, -2);
    return 1;
}

/* core.decode(s) --> value | nil, message */
static int l_decode(lua_State *L)
{
    luaL_checkstring(L, 1);
    if (sc_json_decode(L, 1))
        return 1;
    lua_pushnil(L);
    lua_pushliteral(L, "invalid JSON");
    return 2;
}

/* core.encode(value) --> compact JSON string */
static int l_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    if (!sc_json_try_encode(L, 1))
        return sc_arg_error(L, 1, "encode", "cannot be encoded as JSON: %s", lua_tostring(L, -1));
    return 1;
}

const luaL_Reg sc_json_functions[] = {{"decode", l_decode}, {"encode", l_encode}, {NULL, NULL}};
