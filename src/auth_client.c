/* The AuthClient userdata: an application's credentials (the secret only as the
 * Basic credential, never readable from Lua). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

static const char sc_key_warned = 0; /* registry flag: testMode deprecation already printed */

static const char *const auth_options[] = {"clientId", "clientSecret", "redirectUri", "mode", "testMode", NULL};
static const char *const auth_fields[] = {"clientId", "redirectUri", "mode", NULL};

static const char *auth_field(void *self, int i)
{
    const sc_auth *a = self;
    return i == 0 ? a->client_id : i == 1 ? a->redirect_uri : a->mode;
}

static int auth_gc(lua_State *L)
{
    sc_auth *a = luaL_checkudata(L, 1, SC_AUTH_MT);
    free(a->client_id);
    free(a->redirect_uri);
    free(a->mode);
    sc_free_secret(a->basic);
    memset(a, 0, sizeof *a);
    return 0;
}

static int auth_tostring(lua_State *L)
{
    sc_auth *a = luaL_checkudata(L, 1, SC_AUTH_MT);
    lua_pushfstring(L, "AuthClient (%s, %s)", a->client_id ? a->client_id : "released", a->mode ? a->mode : "-");
    return 1;
}

static const sc_class auth_class = {
    "AuthClient", SC_AUTH_MT, NULL, auth_fields, auth_field, auth_gc, auth_tostring
};

sc_auth *sc_check_auth(lua_State *L, int idx, const char *method)
{
    sc_auth *a = sc_check_object(L, idx, &auth_class, method);
    if (a->client_id == NULL)
        sc_raise(L, "attempt to use a released AuthClient");
    return a;
}

static char *dup(lua_State *L, const char *s)
{
    return s ? sc_strdup(L, s, strlen(s)) : NULL;
}

/* The mode of an options table at idx ("live" when absent); testMode = true is the
 * deprecated spelling of mode = "test" (warned about once per Lua state). */
static const char *check_mode(lua_State *L, int idx, const char *fname)
{
    const char *mode = "live";
    sc_rawfield(L, idx, "testMode");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            sc_option_error(L, "testMode", fname, "boolean expected, got %s", luaL_typename(L, -1));
        mode = lua_toboolean(L, -1) ? "test" : "live";
        sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_warned);
        if (lua_isnil(L, -1)) {
            fputs("smartcar: the \"testMode\" option is deprecated, use mode = \"test\" instead\n", stderr);
            lua_pushboolean(L, 1);
            sc_rawsetp(L, LUA_REGISTRYINDEX, &sc_key_warned);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    {
        const char *m = sc_opt_string(L, idx, "mode", fname);
        if (m != NULL)
            mode = m;
    }
    if (strcmp(mode, "test") != 0 && strcmp(mode, "live") != 0 && strcmp(mode, "simulated") != 0)
        sc_option_error(L, "mode", fname, "expected 'test', 'live' or 'simulated', got %s",
                        sc_shown(L, mode, strlen(mode)));
    return mode;
}

/* core.checkMode(options, fname) --> "live" | "test" | "simulated" */
static int l_check_mode(lua_State *L)
{
    const char *fname = luaL_checkstring(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushstring(L, check_mode(L, 1, fname));
    return 1;
}

/* core.newAuthClient(options, class) */
static int auth_new(lua_State *L)
{
    static const char fname[] = "AuthClient.new";
    const char *id, *secret, *redirect, *mode;
    sc_auth *a;

    if (lua_isnil(L, 1)) {
        lua_newtable(L);
        lua_replace(L, 1);
    }
    sc_check_table(L, 1, 1, fname);
    sc_check_keys(L, 1, fname, auth_options);
    id = sc_option_or_env(L, 1, "clientId", "SMARTCAR_CLIENT_ID", fname, 1);
    secret = sc_option_or_env(L, 1, "clientSecret", "SMARTCAR_CLIENT_SECRET", fname, 1);
    redirect = sc_option_or_env(L, 1, "redirectUri", "SMARTCAR_REDIRECT_URI", fname, 0);
    mode = check_mode(L, 1, fname);
    if (strchr(id, ':') != NULL)
        return sc_option_error(L, "clientId", fname, "must not contain ':'");

    lua_settop(L, 2);
    lua_pushfstring(L, "%s:%s", id, secret);
    sc_push_base64(L, lua_tostring(L, 3), sc_rawlen(L, 3));
    lua_pushfstring(L, "Basic %s", lua_tostring(L, -1)); /* 5 */

    a = sc_new_object(L, &auth_class, sizeof *a, 2);
    a->client_id = dup(L, id);
    a->redirect_uri = dup(L, redirect);
    a->mode = dup(L, mode);
    a->basic = dup(L, lua_tostring(L, 5));
    return 1;
}

const luaL_Reg sc_auth_functions[] = {{"newAuthClient", auth_new}, {"checkMode", l_check_mode}, {NULL, NULL}};

void sc_auth_open(lua_State *L)
{
    sc_new_class(L, &auth_class);
    lua_pop(L, 1); /* each SDK instance makes its own class table */
}
