/* luaopen_smartcar_core: the native half of `require "smartcar"`. */
#include <ctype.h>
#include <string.h>
#include <sys/utsname.h>
#include <curl/curl.h>
#include "core.h"
#if defined(LUA_JITLIBNAME)
#include <luajit.h>
#define SC_LUA_RELEASE LUAJIT_VERSION
#elif defined(LUA_RELEASE)
#define SC_LUA_RELEASE LUA_RELEASE
#else
#define SC_LUA_RELEASE LUA_VERSION
#endif

static const char sc_key_ua = 0;

/* The one C global the design allows: libcurl's process-wide init, done once. */
static int curl_ready = 0;

void sc_push_user_agent(lua_State *L)
{
    sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_ua);
}

/* "Smartcar/<version> (<os>; <arch>) Lua 5.4.6" (or "LuaJIT 2.1...") */
static void set_user_agent(lua_State *L)
{
    struct utsname u;
    size_t i;
    if (uname(&u) != 0) {
        strcpy(u.sysname, "unknown");
        strcpy(u.machine, "unknown");
    }
    for (i = 0; u.sysname[i]; i++)
        u.sysname[i] = (char)tolower((unsigned char)u.sysname[i]);
    lua_pushfstring(L, "Smartcar/%s (%s; %s) %s", SC_VERSION, u.sysname, u.machine, SC_LUA_RELEASE);
    lua_pushvalue(L, -1);
    sc_rawsetp(L, LUA_REGISTRYINDEX, &sc_key_ua);
    lua_setfield(L, -2, "userAgent");
}

int luaopen_smartcar_core(lua_State *L)
{
    static const luaL_Reg *const parts[] = {
        sc_check_functions, sc_url_functions, sc_clock_functions, sc_crypto_functions, sc_json_functions, sc_request_functions,
        sc_vehicle_functions, sc_auth_functions, NULL
    };
    int i;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return luaL_error(L, "curl_global_init failed");
        curl_ready = 1;
    }
    lua_newtable(L);
    lua_pushliteral(L, SC_VERSION);
    lua_setfield(L, -2, "_VERSION");
    set_user_agent(L);
    for (i = 0; parts[i] != NULL; i++)
        sc_setfuncs(L, parts[i], 0);
    sc_error_open(L);
    sc_response_open(L);
    sc_vehicle_open(L);
    sc_auth_open(L);
    sc_http_open(L);
    return 1;
}
