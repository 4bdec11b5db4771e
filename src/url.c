/* URL pieces.  Percent-encoding uses the set of Node's querystring.escape
 * (unreserved: A-Z a-z 0-9 - _ . ! ~ * ' ( )), so URLs come out byte for byte
 * as the official Node SDK builds them; curl_easy_escape also encodes ! * ' ( ). */
#include <stdlib.h>
#include <string.h>
#include "core.h"

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-_.!~*'()", c) != NULL);
}

void sc_add_escaped(luaL_Buffer *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
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

/* The text of a scalar parameter value (booleans as true/false), or NULL. */
static const char *scalar(lua_State *L, int idx, size_t *len)
{
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        *len = lua_toboolean(L, idx) ? 4 : 5;
        return lua_toboolean(L, idx) ? "true" : "false";
    case LUA_TNUMBER: {
        lua_Number n = lua_tonumber(L, idx);
        if (n != n || n - n != 0) /* NaN, inf */
            return NULL;
        return lua_tolstring(L, idx, len); /* converts in place: only on stack copies */
    }
    case LUA_TSTRING:
        return lua_tolstring(L, idx, len);
    default:
        return NULL;
    }
}

/* Push "a=1&b=2" for the names listed at order that params holds, in that order
 * ("" when none). Every value is read and popped before it is added: while a
 * luaL_Buffer grows it keeps a box on top of the stack, so nothing else may sit there. */
void sc_push_query(lua_State *L, int params, int order, const char *fname)
{
    luaL_Buffer b;
    int i, n, first = 1;
    params = sc_absindex(L, params);
    order = sc_absindex(L, order);
    n = (int)sc_rawlen(L, order);
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        char number[64];
        const char *name, *value;
        size_t len;
        lua_rawgeti(L, order, i);
        name = lua_tostring(L, -1); /* kept alive by the order table */
        lua_pushvalue(L, -1);
        lua_rawget(L, params);
        if (lua_isnil(L, -1) || name == NULL) {
            lua_pop(L, 2);
            continue;
        }
        if ((value = scalar(L, -1, &len)) == NULL)
            sc_option_error(L, name, fname, "a finite number, a string or a boolean expected, got %s",
                            luaL_typename(L, -1));
        if (lua_type(L, -1) == LUA_TNUMBER) { /* the converted text lives on the stack: copy it */
            if (len >= sizeof number)
                len = sizeof number - 1;
            memcpy(number, value, len);
            value = number;
        }
        lua_pop(L, 2); /* a string value stays alive in the params table */
        sc_add_param(&b, &first, name, value, len);
    }
    luaL_pushresult(&b);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Flags are "name:value" pairs joined by spaces.  Lua tables have no order,
 * so names are sorted (in C: no call into Lua's table library). */
void sc_push_flags(lua_State *L, int idx, const char *fname)
{
    const char **names;
    size_t n = 0, i;
    luaL_Buffer b;
    idx = sc_absindex(L, idx);
    if (lua_isnoneornil(L, idx)) {
        lua_pushnil(L);
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        sc_option_error(L, "flags", fname, "table expected, got %s", luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t len;
        if (lua_type(L, -2) != LUA_TSTRING || scalar(L, -1, &len) == NULL ||
            strpbrk(lua_tostring(L, -2), ": ") != NULL || strlen(lua_tostring(L, -2)) != sc_rawlen(L, -2) ||
            (lua_type(L, -1) == LUA_TSTRING && strlen(lua_tostring(L, -1)) != len))
            sc_option_error(L, "flags", fname, "names must be strings, values strings, numbers or booleans");
        lua_pop(L, 1);
        n++;
    }
    if (n == 0) {
        lua_pushnil(L);
        return;
    }
    /* scratch owned by Lua so a raise cannot leak it; the names stay alive in the table */
    names = sc_newuserdata(L, n * sizeof *names);
    i = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        names[i++] = lua_tostring(L, -1);
    }
    qsort(names, n, sizeof *names, compare_names);
    luaL_buffinit(L, &b);
    for (i = 0; i < n; i++) {
        const char *v;
        size_t len;
        if (i > 0)
            luaL_addchar(&b, ' ');
        luaL_addstring(&b, names[i]);
        luaL_addchar(&b, ':');
        lua_pushstring(L, names[i]);
        lua_rawget(L, idx);
        v = scalar(L, -1, &len);
        lua_pushlstring(L, v, len);
        lua_remove(L, -2);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lua_remove(L, -2); /* the scratch */
}

void sc_push_escaped(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    sc_add_escaped(&b, s, len);
    luaL_pushresult(&b);
}

/* core.escape(s) --> s percent-encoded (a path segment or a query value) */
static int l_escape(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    sc_push_escaped(L, s, len);
    return 1;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)(c | 0x20); /* lower case */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* core.unescape(s) --> s form-decoded (a query or form value): '+' is a space, %XX
 * the byte XX; a '%' without two hex digits after it stays as it is. */
static int l_unescape(lua_State *L)
{
    size_t len, i;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    if (memchr(s, '%', len) == NULL && memchr(s, '+', len) == NULL) {
        lua_settop(L, 1);
        return 1;
    }
    luaL_buffinit(L, &b);
    for (i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '+') {
            luaL_addchar(&b, ' ');
        } else if (s[i] == '%' && i + 2 < len && (hi = hex_value((unsigned char)s[i + 1])) >= 0 &&
                   (lo = hex_value((unsigned char)s[i + 2])) >= 0) {
            luaL_addchar(&b, (char)(hi * 16 + lo));
            i += 2;
        } else {
            luaL_addchar(&b, s[i]);
        }
    }
    luaL_pushresult(&b);
    return 1;
}

/* core.query(params, names[, fname]) --> "a=1&b=2" for the names present in params,
 * in the order of names ("" when none); booleans as true/false. */
static int l_query(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    sc_push_query(L, 1, 2, luaL_optstring(L, 3, "query"));
    return 1;
}

/* core.flags(t) --> "k:v k:v" (sorted names) or nil */
static int l_flags(lua_State *L)
{
    sc_push_flags(L, 1, luaL_optstring(L, 2, "flags"));
    return 1;
}

const luaL_Reg sc_url_functions[] = {
    {"escape", l_escape}, {"unescape", l_unescape}, {"query", l_query}, {"flags", l_flags}, {NULL, NULL}
};
