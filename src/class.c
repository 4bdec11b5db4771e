/* The one userdata helper: Vehicle, AuthClient and Session are built from a
 * description (sc_class). An object's user value is its class table, so each SDK
 * instance gives its objects methods bound to its own configuration. */
#include <string.h>
#include "core.h"

/* __index: upvalue 1 is the metatable, upvalue 2 the description. */
static int class_index(lua_State *L)
{
    const sc_class *c = lua_touserdata(L, lua_upvalueindex(2));
    void *self = lua_touserdata(L, 1);
    const char *key;
    int i;
    if (self == NULL || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, lua_upvalueindex(1)))
        return luaL_argerror(L, 1, c->name);
    lua_pop(L, 1);
    sc_getuservalue(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1) || lua_type(L, 2) != LUA_TSTRING || c->fields == NULL)
        return 1;
    key = lua_tostring(L, 2);
    for (i = 0; c->fields[i] != NULL; i++) {
        if (strcmp(key, c->fields[i]) == 0) {
            lua_pushstring(L, c->field(self, i)); /* NULL pushes nil */
            return 1;
        }
    }
    /* a computed field (a table, say): getters[key](self), see sc_add_getter */
    lua_pushliteral(L, "__getters");
    lua_rawget(L, lua_upvalueindex(1));
    if (lua_istable(L, -1)) {
        lua_pushvalue(L, 2);
        lua_rawget(L, -2);
        if (lua_iscfunction(L, -1)) {
            lua_pushvalue(L, 1);
            lua_call(L, 1, 1);
            return 1;
        }
    }
    lua_pushnil(L);
    return 1;
}

void sc_merge(lua_State *L, int from, int to)
{
    from = sc_absindex(L, from);
    to = sc_absindex(L, to);
    lua_pushnil(L);
    while (lua_next(L, from)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, to);
    }
}

void sc_add_getter(lua_State *L, const sc_class *c, const char *key, lua_CFunction getter)
{
    sc_rawgetp(L, LUA_REGISTRYINDEX, c); /* the metatable */
    lua_pushliteral(L, "__getters");
    lua_rawget(L, -2);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushliteral(L, "__getters");
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
    }
    lua_pushcfunction(L, getter);
    lua_setfield(L, -2, key);
    lua_pop(L, 2);
}

void sc_new_class(lua_State *L, const sc_class *c)
{
    lua_newtable(L);
    if (c->methods)
        sc_setfuncs(L, c->methods, 0);
    luaL_newmetatable(L, c->mt);
    lua_pushvalue(L, -1); /* also under the description's address: found without hashing a name */
    sc_rawsetp(L, LUA_REGISTRYINDEX, c);
    if (c->fields == NULL) {
        lua_pushvalue(L, -2); /* no readable fields, no instances: the methods table itself */
    } else {
        lua_pushvalue(L, -1);
        lua_pushlightuserdata(L, (void *)c);
        lua_pushcclosure(L, class_index, 2);
    }
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, c->gc);
    lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
    lua_pushcfunction(L, c->gc);
    lua_setfield(L, -2, "__close");
#endif
    lua_pushcfunction(L, c->tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, c->name);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1); /* the default class table stays on top */
}

void *sc_check_object(lua_State *L, int idx, const sc_class *c, const char *method)
{
    void *p = lua_touserdata(L, idx);
    if (p != NULL && lua_getmetatable(L, idx)) {
        sc_rawgetp(L, LUA_REGISTRYINDEX, c);
        if (!lua_rawequal(L, -1, -2))
            p = NULL;
        lua_pop(L, 2);
    } else {
        p = NULL;
    }
    if (p == NULL) {
        lua_Debug ar; /* the SDK method that was called: Lua's own "bad self" wording */
        if (method == NULL && lua_getstack(L, 1, &ar) && lua_getinfo(L, "n", &ar))
            method = ar.name;
        if (method != NULL)
            sc_raise(L, "calling '%s' on bad self (%s expected, got %s)", method, c->name, luaL_typename(L, idx));
        sc_raise(L, "calling %s %s method on bad self (%s expected, got %s)", strchr("AEIOU", c->name[0]) ? "an" : "a",
                 c->name, c->name, luaL_typename(L, idx));
    }
    return p;
}

void *sc_new_object(lua_State *L, const sc_class *c, size_t size, int cls)
{
    void *p;
    cls = sc_absindex(L, cls);
    p = sc_newuserdata(L, size);
    memset(p, 0, size); /* __gc is safe on the zeroed struct */
    sc_rawgetp(L, LUA_REGISTRYINDEX, c);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, cls); /* always set: on 5.1 the default environment is not ours */
    sc_setuservalue(L, -2);
    return p;
}
