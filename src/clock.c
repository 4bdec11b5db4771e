/* Time for the Lua layer: a monotonic clock for elapsed times and deadlines (the
 * wall clock can jump), and a blocking sleep for a plain sequential caller's
 * retry waits (tasks of a loop and nginx light threads wait without blocking). */
#include <errno.h>
#include <time.h>
#include "core.h"

/* core.now() --> milliseconds on a monotonic clock (a float, microsecond steps) */
static int l_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec * 1000.0 + (lua_Number)(ts.tv_nsec / 1000) / 1000.0);
    return 1;
}

/* core.sleep(ms): block this thread for ms milliseconds (at most a day) */
static int l_sleep(lua_State *L)
{
    lua_Number ms = luaL_checknumber(L, 1);
    struct timespec ts;
    if (!(ms > 0))
        return 0;
    if (ms > 86400000.0)
        ms = 86400000.0;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)((ms - (lua_Number)ts.tv_sec * 1000) * 1e6);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

const luaL_Reg sc_clock_functions[] = {{"now", l_now}, {"sleep", l_sleep}, {NULL, NULL}};
