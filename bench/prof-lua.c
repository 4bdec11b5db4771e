/* A minimal Lua 5.4 interpreter for profiling only (bench/instructions with BENCH_PROFILE=1):
 * `prof-lua SCRIPT [ARGS]`, set up like lua.c (arg table, generational GC), linked statically
 * with liblua5.4.a and libcurl.a, whose symbol tables Debian keeps, and exporting both (-E) so
 * that smartcar/core.so binds to these copies: callgrind can then name the static functions
 * of the Lua VM and of libcurl that the stripped lua5.4 and libcurl.so.4 leave as addresses. */
#include <stdio.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static int msgh(lua_State *L)
{
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

int main(int argc, char **argv)
{
    lua_State *L;
    int i, status;
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPT [ARGS]\n", argv[0]);
        return 2;
    }
    L = luaL_newstate();
    lua_gc(L, LUA_GCSTOP);
    luaL_openlibs(L);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0); /* as lua.c does */
    lua_createtable(L, argc - 2, 2);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, msgh);
    status = luaL_loadfile(L, argv[1]);
    if (status == LUA_OK) {
        for (i = 2; i < argc; i++)
            lua_pushstring(L, argv[i]);
        status = lua_pcall(L, argc - 2, 0, 1);
    }
    if (status != LUA_OK)
        fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
