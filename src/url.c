/* URL pieces.  Percent-encoding uses the set of Node's querystring.escape
 * (unreserved: A-Z a-z 0-9 - _ . ! ~ * ' ( )), so auth URLs come out byte for
 * byte as the official Node SDK builds them; curl_easy_escape also encodes
 * ! * ' ( ), which would differ. */
#include <string.h>
#include <openssl/evp.h>
#include "core.h"

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-_.!~*'()", c) != NULL;
}

void sc_add_escaped(luaL_Buffer *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\0' && unreserved(c)) {
            luaL_addchar(b, (char)c);
        } else {
            luaL_addchar(b, '%');
            luaL_addchar(b, hex[c >> 4]);
            luaL_addchar(b, hex[c & 15]);
        }
    }
}

void sc_add_param(luaL_Buffer *b, int *first, const char *name, const char *value, size_t len)
{
    if (!*first)
        luaL_addchar(b, '&');
    *first = 0;
    luaL_addstring(b, name);
    luaL_addchar(b, '=');
    sc_add_escaped(b, value, len);
}

/* Flags are "name:value" pairs joined by spaces.  Lua tables have no order,
 * so names are sorted: the same flags always give the same URL. */
void sc_push_flags(lua_State *L, int idx, const char *fname)
{
    int n = 0, i, keys;
    idx = sc_absindex(L, idx);
    if (lua_isnoneornil(L, idx)) {
        lua_pushnil(L);
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_error(L, "bad option 'flags' to '%s' (table expected, got %s)", fname, luaL_typename(L, idx));
    lua_newtable(L);
    keys = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int vt = lua_type(L, -1);
        if (lua_type(L, -2) != LUA_TSTRING ||
            (vt != LUA_TSTRING && vt != LUA_TNUMBER && vt != LUA_TBOOLEAN))
            luaL_error(L, "bad option 'flags' to '%s' (names must be strings, values strings, numbers or booleans)",
                       fname);
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++n);
    }
    if (n == 0) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    /* table.sort(keys) */
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_remove(L, -2);
    lua_pushvalue(L, keys);
    lua_call(L, 1, 0);
    {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, keys, i);
            if (i > 1)
                luaL_addchar(&b, ' ');
            luaL_addvalue(&b);
            luaL_addchar(&b, ':');
            lua_rawgeti(L, keys, i);
            lua_rawget(L, idx);
            if (lua_type(L, -1) == LUA_TBOOLEAN) {
                const char *v = lua_toboolean(L, -1) ? "true" : "false";
                lua_pop(L, 1);
                lua_pushstring(L, v);
            } else {
                lua_tostring(L, -1); /* numbers become strings in place */
            }
            luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
    }
    lua_remove(L, keys);
}

void sc_push_base64(lua_State *L, const char *s, size_t len)
{
    size_t out = 4 * ((len + 2) / 3);
    /* scratch space owned by Lua, so an error cannot leak it */
    unsigned char *p = sc_newuserdata(L, out + 1);
    EVP_EncodeBlock(p, (const unsigned char *)s, (int)len);
    lua_pushlstring(L, (const char *)p, out);
    lua_remove(L, -2);
}

/* core.escape(s) --> s percent-encoded (for a path segment or a query value) */
static int l_escape(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    sc_push_escaped(L, s, len);
    return 1;
}

void sc_push_escaped(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    sc_add_escaped(&b, s, len);
    luaL_pushresult(&b);
}

/* core.query(params, names) --> "a=1&b=2" for the names present in params,
 * in the order of names ("" when none); booleans as true/false. */
static int l_query(lua_State *L)
{
    int i, n, pieces = 0;
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    n = (int)sc_rawlen(L, 2);
    lua_pushliteral(L, "");
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *value;
        luaL_checkstack(L, 4, "too many query parameters");
        lua_rawgeti(L, 2, i); /* name */
        lua_pushvalue(L, -1);
        lua_rawget(L, 1);     /* value */
        if (lua_isnil(L, -1)) {
            lua_pop(L, 2);
            continue;
        }
        if (lua_type(L, -1) == LUA_TBOOLEAN) {
            int v = lua_toboolean(L, -1);
            lua_pop(L, 1);
            lua_pushstring(L, v ? "true" : "false");
        } else if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
            return luaL_error(L, "query parameter '%s' must be a string, number or boolean", lua_tostring(L, -2));
        }
        value = lua_tolstring(L, -1, &len);
        sc_push_escaped(L, value, len);
        lua_remove(L, -2);                       /* name, escaped */
        lua_pushstring(L, pieces ? "&" : "");
        lua_insert(L, -3);                       /* sep, name, escaped */
        lua_pushliteral(L, "=");
        lua_insert(L, -2);                       /* sep, name, "=", escaped */
        lua_concat(L, 5);                        /* acc .. sep .. name .. "=" .. escaped */
        pieces++;
    }
    return 1;
}

/* core.flags(t) --> "k:v k:v" (sorted names) or nil */
static int l_flags(lua_State *L)
{
    sc_push_flags(L, 1, "flags");
    return 1;
}

/* core.base64(s) */
static int l_base64(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    sc_push_base64(L, s, len);
    return 1;
}

const luaL_Reg sc_url_functions[] = {
    {"escape", l_escape}, {"query", l_query}, {"flags", l_flags}, {"base64", l_base64}, {NULL, NULL}
};
