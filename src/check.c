/* Argument checks and the one message style:
 *   bad argument #2 to 'Vehicle.new' (string expected, got nil)
 *   bad option 'unitSystem' to 'Vehicle.new' (expected 'metric' or 'imperial', got 'x')
 *   unknown option 'units' to 'Vehicle.new'
 * A programmer error is blamed on the first stack frame outside the SDK: the
 * SDK's Lua files register themselves (core.own()), so however deep inside the
 * SDK a check runs, the message points at the caller's file and line. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

static const char sc_key_own = 0; /* registry: set of the SDK's own chunk sources */

int sc_set_has(lua_State *L, const void *key, int idx)
{
    int has;
    idx = sc_absindex(L, idx);
    sc_rawgetp(L, LUA_REGISTRYINDEX, key);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    has = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return has;
}

void sc_set_add(lua_State *L, const void *key, int idx, const char *mode)
{
    idx = sc_absindex(L, idx);
    sc_rawgetp(L, LUA_REGISTRYINDEX, key);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        if (mode != NULL) {
            lua_createtable(L, 0, 1);
            lua_pushstring(L, mode);
            lua_setfield(L, -2, "__mode");
            lua_setmetatable(L, -2);
        }
        lua_pushvalue(L, -1);
        sc_rawsetp(L, LUA_REGISTRYINDEX, key);
    }
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static int is_own(lua_State *L, const char *source)
{
    int own;
    lua_pushstring(L, source);
    own = sc_set_has(L, &sc_key_own, -1);
    lua_pop(L, 1);
    return own;
}

/* Push "file:line: " of the first Lua frame outside the SDK ("" when none). */
static void push_where(lua_State *L)
{
    lua_Debug ar;
    int level;
    for (level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0 && !is_own(L, ar.source)) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

static int raise_v(lua_State *L, const char *prefix, const char *fmt, va_list ap)
{
    push_where(L);
    lua_pushstring(L, prefix);
    lua_pushvfstring(L, fmt, ap);
    lua_concat(L, 3);
    return lua_error(L);
}

int sc_raise(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    return raise_v(L, "", fmt, ap);
}

/* The names go in as arguments, never into the format: a '%' in them is just a '%'. */
static int raise_in(lua_State *L, const char *prefix, const char *fmt, va_list ap)
{
    push_where(L);
    lua_pushstring(L, prefix);
    lua_pushvfstring(L, fmt, ap);
    lua_pushliteral(L, ")");
    lua_concat(L, 4);
    return lua_error(L);
}

int sc_arg_error(lua_State *L, int arg, const char *fname, const char *fmt, ...)
{
    va_list ap;
    const char *prefix = lua_pushfstring(L, "bad argument #%d to '%s' (", arg, fname);
    va_start(ap, fmt);
    return raise_in(L, prefix, fmt, ap);
}

int sc_option_error(lua_State *L, const char *key, const char *fname, const char *fmt, ...)
{
    va_list ap;
    const char *prefix = lua_pushfstring(L, "bad option '%s' to '%s' (", key, fname);
    va_start(ap, fmt);
    return raise_in(L, prefix, fmt, ap);
}

#define SC_MAX_STRING 16384 /* longest string argument that goes on the wire */
#define SC_SHOWN 40 /* bytes of a wrong value that a message repeats */

const char *sc_shown(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    size_t i, n = len > SC_SHOWN ? SC_SHOWN : len;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '\'');
    for (i = 0; i < n; i++)
        luaL_addchar(&b, (unsigned char)s[i] < ' ' || s[i] == 127 ? '?' : s[i]);
    luaL_addchar(&b, '\'');
    luaL_pushresult(&b);
    if (len > n)
        lua_pushfstring(L, "%s... (%d bytes)", lua_tostring(L, -1), (int)(len > 2147483647u ? 2147483647u : len));
    return lua_tostring(L, -1);
}

/* core.shown(s) --> s quoted for a message: at most 40 bytes, control characters as '?' */
static int l_shown(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    sc_shown(L, s, len);
    return 1;
}

static const char *type_of(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TSTRING && sc_rawlen(L, idx) == 0)
        return "empty string";
    return luaL_typename(L, idx);
}

const char *sc_check_string(lua_State *L, int idx, int arg, const char *fname, int line, size_t *len)
{
    size_t n;
    const char *s;
    if (lua_type(L, idx) != LUA_TSTRING || sc_rawlen(L, idx) == 0)
        sc_arg_error(L, arg, fname, "string expected, got %s", type_of(L, idx));
    s = lua_tolstring(L, idx, &n);
    if (memchr(s, '\0', n) != NULL)
        sc_arg_error(L, arg, fname, "string contains a NUL byte");
    if (line && (memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL))
        sc_arg_error(L, arg, fname, "string contains a line break");
    if (n > SC_MAX_STRING)
        sc_arg_error(L, arg, fname, "string too long (%d bytes, at most %d)", (int)(n > 2147483647u ? 2147483647u : n),
                     SC_MAX_STRING);
    if (len)
        *len = n;
    return s;
}

int sc_check_table(lua_State *L, int idx, int arg, const char *fname)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_istable(L, idx))
        sc_arg_error(L, arg, fname, "table expected, got %s", luaL_typename(L, idx));
    return 1;
}

void sc_check_keys(lua_State *L, int idx, const char *fname, const char *const keys[])
{
    idx = sc_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int i, known = 0;
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -2);
            for (i = 0; keys[i] != NULL && !known; i++)
                known = strcmp(k, keys[i]) == 0;
        }
        if (!known) {
            lua_pop(L, 1);
            sc_raise(L, "unknown option '%s' to '%s'",
                     lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1), fname);
        }
        lua_pop(L, 1);
    }
}

void sc_rawfield(lua_State *L, int idx, const char *key)
{
    idx = sc_absindex(L, idx);
    lua_pushstring(L, key);
    lua_rawget(L, idx);
}

const char *sc_opt_string(lua_State *L, int idx, const char *key, const char *fname)
{
    const char *s;
    size_t len;
    sc_rawfield(L, idx, key); /* raw: the string stays alive in the table once popped */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        sc_option_error(L, key, fname, "string expected, got %s", luaL_typename(L, -1));
    s = lua_tolstring(L, -1, &len);
    if (memchr(s, '\0', len) != NULL)
        sc_option_error(L, key, fname, "string contains a NUL byte");
    lua_pop(L, 1); /* still referenced by the options table */
    return s;
}

const char *sc_option_or_env(lua_State *L, int idx, const char *key, const char *env, const char *fname,
                             int required)
{
    const char *s = idx ? sc_opt_string(L, idx, key, fname) : NULL;
    if (s == NULL)
        s = getenv(env);
    if (s != NULL && *s == '\0')
        s = NULL;
    if (s == NULL && required)
        sc_option_error(L, key, fname, "missing: pass options.%s or set %s", key, env);
    if (s != NULL && strpbrk(s, "\r\n") != NULL)
        sc_option_error(L, key, fname, "string contains a line break");
    return s;
}

char *sc_strdup(lua_State *L, const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p == NULL) {
        luaL_error(L, "not enough memory"); /* does not return */
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void sc_free_secret(char *s)
{
    if (s != NULL) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
        free(s);
    }
}

/* core.own(): the calling chunk is part of the SDK (errors skip its frames). */
static int l_own(lua_State *L)
{
    lua_Debug ar;
    if (!lua_getstack(L, 1, &ar))
        return 0;
    lua_getinfo(L, "S", &ar);
    lua_pushstring(L, ar.source);
    sc_set_add(L, &sc_key_own, -1, NULL);
    return 0;
}

/* core.raise(message): raise blamed on the caller outside the SDK. */
static int l_raise(lua_State *L)
{
    return sc_raise(L, "%s", luaL_checkstring(L, 1));
}

/* core.argError(arg, fname, message) */
static int l_arg_error(lua_State *L)
{
    return sc_arg_error(L, (int)luaL_checkinteger(L, 1), luaL_checkstring(L, 2), "%s", luaL_checkstring(L, 3));
}

/* core.optionError(key, fname, message) */
static int l_option_error(lua_State *L)
{
    return sc_option_error(L, luaL_checkstring(L, 1), luaL_checkstring(L, 2), "%s", luaL_checkstring(L, 3));
}

/* core.checkString(value, arg, fname[, noLineBreaks]) --> value */
static int l_check_string(lua_State *L)
{
    int arg = (int)luaL_checkinteger(L, 2);
    const char *fname = luaL_checkstring(L, 3);
    sc_check_string(L, 1, arg, fname, lua_toboolean(L, 4), NULL);
    lua_settop(L, 1);
    return 1;
}

/* core.checkOptions(value, arg, fname, allowed) --> value or a new empty table when nil;
 * allowed is a set {key = true}. */
static int l_check_options(lua_State *L)
{
    int arg = (int)luaL_checkinteger(L, 2);
    const char *fname = luaL_checkstring(L, 3);
    luaL_checktype(L, 4, LUA_TTABLE);
    if (!sc_check_table(L, 1, arg, fname)) {
        lua_newtable(L);
        return 1;
    }
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawget(L, 4);
        if (lua_isnil(L, -1) || lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 1);
            return sc_raise(L, "unknown option '%s' to '%s'",
                            lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1), fname);
        }
        lua_pop(L, 1);
    }
    lua_settop(L, 1);
    return 1;
}

const luaL_Reg sc_check_functions[] = {
    {"own", l_own}, {"raise", l_raise}, {"argError", l_arg_error}, {"optionError", l_option_error},
    {"checkString", l_check_string}, {"checkOptions", l_check_options}, {"shown", l_shown}, {NULL, NULL}
};
