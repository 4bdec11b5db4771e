/* One compatibility layer for Lua 5.1/LuaJIT, 5.2, 5.3 and 5.4.
 * The code is written against the 5.3/5.4 API; every shim carries the
 * private sc_ prefix so it can never collide with what LuaJIT 2.1 defines. */
#ifndef SMARTCAR_COMPAT_H
#define SMARTCAR_COMPAT_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#if LUA_VERSION_NUM >= 502
#define sc_rawlen(L, i) lua_rawlen((L), (i))
#define sc_setfuncs(L, l, nup) luaL_setfuncs((L), (l), (nup))
#define sc_rawgetp(L, i, p) lua_rawgetp((L), (i), (p))
#define sc_rawsetp(L, i, p) lua_rawsetp((L), (i), (p))
#else
#define sc_rawlen(L, i) lua_objlen((L), (i))
static inline void sc_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}
/* Only used with the registry (a pseudo-index), so no index adjustment is needed. */
#define sc_rawgetp(L, i, p) (lua_pushlightuserdata((L), (void *)(p)), lua_rawget((L), (i)))
#define sc_rawsetp(L, i, p) (lua_pushlightuserdata((L), (void *)(p)), lua_insert((L), -2), lua_rawset((L), (i)))
#endif

/* Userdata with one Lua value attached (a class table): 5.4 user values,
 * 5.2/5.3 the uservalue, 5.1/LuaJIT the environment table. */
#if LUA_VERSION_NUM >= 504
#define sc_newuserdata(L, size) lua_newuserdatauv((L), (size), 1)
#define sc_getuservalue(L, i) ((void)lua_getiuservalue((L), (i), 1))
#define sc_setuservalue(L, i) ((void)lua_setiuservalue((L), (i), 1))
#elif LUA_VERSION_NUM >= 502
#define sc_newuserdata(L, size) lua_newuserdata((L), (size))
#define sc_getuservalue(L, i) ((void)lua_getuservalue((L), (i)))
#define sc_setuservalue(L, i) lua_setuservalue((L), (i))
#else
#define sc_newuserdata(L, size) lua_newuserdata((L), (size))
#define sc_getuservalue(L, i) lua_getfenv((L), (i))
#define sc_setuservalue(L, i) ((void)lua_setfenv((L), (i)))
#endif

/* Whole numbers become integers on 5.3+; 5.1, 5.2 and LuaJIT have only doubles. */
#if LUA_VERSION_NUM >= 503
#define SC_HAS_INTEGERS 1
#define sc_pushint(L, n) lua_pushinteger((L), (lua_Integer)(n))
#else
#define SC_HAS_INTEGERS 0
#define sc_pushint(L, n) lua_pushnumber((L), (lua_Number)(n))
#endif

static inline int sc_absindex(lua_State *L, int idx)
{
    return (idx > 0 || idx <= LUA_REGISTRYINDEX) ? idx : lua_gettop(L) + idx + 1;
}

#endif
