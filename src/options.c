/* Small helpers shared by the constructors: option tables and owned strings. */
#include <stdlib.h>
#include <string.h>
#include "core.h"

void sc_check_options(lua_State *L, int idx, const char *fname, const char *const keys[])
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
            luaL_error(L, "unknown option '%s' to '%s'",
                       lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2), fname);
        }
        lua_pop(L, 1);
    }
}

const char *sc_opt_string(lua_State *L, int idx, const char *key, const char *fname)
{
    const char *s;
    lua_getfield(L, idx, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "bad option '%s' to '%s' (string expected, got %s)", key, fname, luaL_typename(L, -1));
    s = lua_tostring(L, -1);
    lua_pop(L, 1); /* still referenced by the options table */
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

/* __index: upvalue 1 is the class table, upvalue 2 the class description. */
static int class_index(lua_State *L)
{
    const sc_class *c = lua_touserdata(L, lua_upvalueindex(2));
    void *self = luaL_checkudata(L, 1, c->mt);
    const char *key;
    int i;
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1) || lua_type(L, 2) != LUA_TSTRING)
        return 1;
    key = lua_tostring(L, 2);
    for (i = 0; c->fields[i] != NULL; i++) {
        if (strcmp(key, c->fields[i]) == 0) {
            lua_pushstring(L, c->field(self, i)); /* NULL pushes nil */
            return 1;
        }
    }
    lua_pushnil(L);
    return 1;
}

void sc_new_class(lua_State *L, const sc_class *c)
{
    lua_newtable(L);
    sc_setfuncs(L, c->methods, 0);
    luaL_newmetatable(L, c->mt);
    lua_pushvalue(L, -2);
    lua_pushlightuserdata(L, (void *)c);
    lua_pushcclosure(L, class_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, c->gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, c->tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, c->name);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    lua_setfield(L, -2, c->name);
}

void sc_check_arg_string(lua_State *L, int arg, const char *fname)
{
    if (lua_type(L, arg) != LUA_TSTRING)
        luaL_error(L, "bad argument #%d to '%s' (string expected, got %s)", arg, fname, luaL_typename(L, arg));
}

void sc_check_arg_options(lua_State *L, int arg, const char *fname)
{
    if (!lua_isnoneornil(L, arg) && lua_type(L, arg) != LUA_TTABLE)
        luaL_error(L, "bad argument #%d to '%s' (table expected, got %s)", arg, fname, luaL_typename(L, arg));
}
