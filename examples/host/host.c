/* A host that embeds Lua 5.4 the way a game does: its own 60 Hz frame loop, one lua_State,
 * a script run once at start, then its global `frame(t)` called once per frame (t: ms since the
 * host started). The host measures each frame (the Lua call plus the frame's own work, not the
 * sleep to the next frame) and prints a histogram of the frame times when the script says it is
 * done (`frame` returns false) or after a frame limit.
 *
 *   host [--root DIR] [--frames N] SCRIPT
 *
 * --root DIR   load the SDK from a checkout: DIR/lua/ and DIR/build/5.4/ go first on
 *              package.path and package.cpath (LUA_PATH and LUA_CPATH work as usual besides)
 * --frames N   stop after N frames (default 600, ten seconds), exit status 2
 * A Lua error is printed with its traceback and makes the exit status 1.
 * See README.md next to this file for the build command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#define HZ 60
#define FRAME_NS (1000000000L / HZ)

static const double bucket_limits[] = {1, 2, 5, 10, 20}; /* ms: <1, 1-2, 2-5, 5-10, 10-20, >20 */
static const char *const bucket_names[] = {"<1", "1-2", "2-5", "5-10", "10-20", ">20"};
#define NBUCKETS 6

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
    struct timespec ts;
    if (!(ms > 0))
        return;
    ts.tv_sec = (time_t)(ms / 1000.0);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000.0) * 1e6);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Call the function under the arguments on the stack with a traceback; print an error. */
static int call(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs, status;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (status != LUA_OK) {
        fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return status == LUA_OK;
}

/* Put DIR/lua/ and DIR/build/5.4/ first on package.path and package.cpath. */
static void add_root(lua_State *L, const char *dir)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 1);
    lua_getfield(L, -1, "cpath");
    lua_pushfstring(L, "%s/build/5.4/?.so;%s", dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "cpath");
    lua_pop(L, 2);
}

static void usage(void)
{
    fprintf(stderr, "usage: host [--root DIR] [--frames N] SCRIPT\n");
    exit(64);
}

int main(int argc, char **argv)
{
    const char *root = NULL, *script = NULL;
    long limit = 600, frames = 0, counts[NBUCKETS] = {0};
    double start, next, max = 0, total = 0;
    int i, status = 0;
    lua_State *L;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
            root = argv[++i];
        else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
            limit = strtol(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' || script != NULL)
            usage();
        else
            script = argv[i];
    }
    if (script == NULL || limit < 1)
        usage();

    start = now_ms();
    L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "host: cannot create a Lua state\n");
        return 1;
    }
    luaL_openlibs(L);
    if (root != NULL)
        add_root(L, root);

    /* The script, once: its setup, and the global frame function. */
    if (luaL_loadfile(L, script) != LUA_OK) {
        fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    if (!call(L, 0, 0)) {
        lua_close(L);
        return 1;
    }

    next = now_ms();
    for (;;) {
        double t0 = now_ms(), ms;
        int more, b;
        if (frames >= limit) {
            fprintf(stderr, "host: stopped after the frame limit (%ld frames)\n", limit);
            status = 2;
            break;
        }
        /* The frame: the script's part, then the host's own work (the bookkeeping). */
        if (lua_getglobal(L, "frame") != LUA_TFUNCTION) {
            fprintf(stderr, "host: the script defines no global function frame\n");
            status = 1;
            break;
        }
        lua_pushnumber(L, t0 - start);
        if (!call(L, 1, 1)) {
            status = 1;
            break;
        }
        more = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
        lua_pop(L, 1);
        frames++;
        ms = now_ms() - t0;
        for (b = 0; b < NBUCKETS - 1 && ms >= bucket_limits[b]; b++)
            ;
        counts[b]++;
        total += ms;
        if (ms > max)
            max = ms;
        if (!more)
            break;
        /* Sleep to the next frame; a late frame starts the schedule again, never catches up. */
        next += FRAME_NS / 1e6;
        if (next < now_ms())
            next = now_ms();
        sleep_ms(next - now_ms());
    }

    printf("histogram");
    for (i = 0; i < NBUCKETS; i++)
        printf(" %s:%ld", bucket_names[i], counts[i]);
    printf("\nframes %ld max_ms %.3f mean_ms %.3f total_ms %.0f\n", frames, max,
           frames > 0 ? total / (double)frames : 0.0, now_ms() - start);
    lua_close(L);
    return status;
}
