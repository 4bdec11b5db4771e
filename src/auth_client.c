/* The AuthClient userdata: application credentials, the Connect URL and
 * the token requests (built here, sent by the Lua layer's transport). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

typedef struct {
    char *client_id;
    char *redirect_uri; /* may be NULL */
    char *mode;
    char *basic;        /* "Basic base64(id:secret)": a secret */
} sc_auth;

static const char sc_key_warned = 0; /* registry flag: testMode deprecation already printed */

static const char *const auth_options[] = {"clientId", "clientSecret", "redirectUri", "mode", "testMode", NULL};
static const char *const url_options[] = {"forcePrompt", "state", "makeBypass", "singleSelect", "flags", "user", NULL};
static const char *const token_options[] = {"flags", NULL};

static void auth_release(sc_auth *a)
{
    free(a->client_id);
    free(a->redirect_uri);
    free(a->mode);
    sc_free_secret(a->basic);
    memset(a, 0, sizeof *a);
}

static int auth_gc(lua_State *L)
{
    auth_release(luaL_checkudata(L, 1, SC_AUTH_MT));
    return 0;
}

/* An option, else the environment variable, else raise naming both. */
static const char *option_or_env(lua_State *L, const char *key, const char *env, int required)
{
    static const char fname[] = "AuthClient.new";
    const char *s = sc_opt_string(L, 1, key, fname);
    if (s == NULL)
        s = getenv(env);
    if (s != NULL && *s == '\0')
        s = NULL;
    if (s == NULL && required)
        luaL_error(L, "%s: missing '%s' (pass options.%s or set %s)", fname, key, key, env);
    return s;
}

static char *dup(lua_State *L, const char *s)
{
    return s ? sc_strdup(L, s, strlen(s)) : NULL;
}

/* AuthClient.new{clientId=, clientSecret=, redirectUri=, mode=} */
static int auth_new(lua_State *L)
{
    static const char fname[] = "AuthClient.new";
    const char *id, *secret, *redirect, *mode = "live";
    sc_auth *a;

    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    sc_check_arg_options(L, 1, fname);
    sc_check_options(L, 1, fname, auth_options);
    id = option_or_env(L, "clientId", "SMARTCAR_CLIENT_ID", 1);
    secret = option_or_env(L, "clientSecret", "SMARTCAR_CLIENT_SECRET", 1);
    redirect = option_or_env(L, "redirectUri", "SMARTCAR_REDIRECT_URI", 0);
    lua_getfield(L, 1, "testMode");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            return luaL_error(L, "bad option 'testMode' to '%s' (boolean expected, got %s)", fname,
                              luaL_typename(L, -1));
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
        const char *m = sc_opt_string(L, 1, "mode", fname);
        if (m != NULL)
            mode = m;
    }
    if (strcmp(mode, "test") != 0 && strcmp(mode, "live") != 0 && strcmp(mode, "simulated") != 0)
        return luaL_error(L, "The \"mode\" parameter MUST be one of the following: 'test', 'live', 'simulated'");
    if (strchr(id, ':') != NULL)
        return luaL_error(L, "%s: 'clientId' must not contain ':'", fname);

    lua_pushfstring(L, "%s:%s", id, secret);
    {
        size_t len;
        const char *pair = lua_tolstring(L, -1, &len);
        sc_push_base64(L, pair, len);
    }
    lua_pushfstring(L, "Basic %s", lua_tostring(L, -1));
    /* stack: ..., "id:secret", base64, "Basic ..." */

    a = sc_newuserdata(L, sizeof *a);
    memset(a, 0, sizeof *a);
    luaL_getmetatable(L, SC_AUTH_MT);
    lua_setmetatable(L, -2);
    a->client_id = dup(L, id);
    a->redirect_uri = dup(L, redirect);
    a->mode = dup(L, mode);
    a->basic = dup(L, lua_tostring(L, -2));
    return 1;
}

static sc_auth *check_auth(lua_State *L)
{
    sc_auth *a = luaL_checkudata(L, 1, SC_AUTH_MT);
    if (a->client_id == NULL)
        luaL_error(L, "attempt to use a released AuthClient");
    return a;
}

static void add_opt(lua_State *L, luaL_Buffer *b, int *first, int opts, const char *key, const char *param)
{
    const char *s = sc_opt_string(L, opts, key, "getAuthUrl");
    if (s != NULL)
        sc_add_param(b, first, param, s, strlen(s));
}

/* client:_authUrl(connectOrigin[, scope][, options]) --> URL, parameters in the Node SDK's order. */
static int auth_url(lua_State *L)
{
    static const char fname[] = "getAuthUrl";
    sc_auth *a = check_auth(L);
    int first = 1, opts, scope = 0, n, i, flags, force;
    const char *single = NULL, *vin = NULL;
    luaL_Buffer b;

    luaL_checkstring(L, 2);
    lua_settop(L, 4);
    /* getAuthUrl(options): a table with string keys and no array part is the options */
    if (lua_istable(L, 3) && lua_isnil(L, 4) && sc_rawlen(L, 3) == 0) {
        lua_pushnil(L);
        if (lua_next(L, 3)) {
            lua_pop(L, 2);
            lua_pushvalue(L, 3);
            lua_replace(L, 4);
            lua_pushnil(L);
            lua_replace(L, 3);
        }
    }
    if (!lua_isnil(L, 3)) {
        if (!lua_istable(L, 3))
            return luaL_error(L, "bad argument #1 to '%s' (table expected, got %s)", fname, luaL_typename(L, 3));
        scope = 3;
    }
    if (!lua_isnil(L, 4) && !lua_istable(L, 4))
        return luaL_error(L, "bad argument #2 to '%s' (table expected, got %s)", fname, luaL_typename(L, 4));
    if (lua_isnil(L, 4)) {
        lua_newtable(L);
        lua_replace(L, 4);
    }
    opts = 4;
    sc_check_options(L, opts, fname, url_options);

    /* scope: a sequence of strings, joined by spaces */
    if (scope) {
        n = (int)sc_rawlen(L, scope);
        lua_pushliteral(L, "");
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, scope, i);
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "bad argument #1 to '%s' (scope entry %d must be a string, got %s)", fname, i,
                                  luaL_typename(L, -1));
            if (i > 1) {
                lua_pushliteral(L, " ");
                lua_insert(L, -2);
                lua_concat(L, 3);
            } else {
                lua_concat(L, 2);
            }
        }
        if (n == 0) {
            lua_pop(L, 1);
            scope = 0;
        } else {
            scope = lua_gettop(L); /* the joined scope string */
        }
    }
    /* singleSelect = {enabled = bool} | {vin = "..."} */
    lua_getfield(L, opts, "singleSelect");
    if (!lua_isnil(L, -1)) {
        int ss = lua_gettop(L);
        static const char *const ss_keys[] = {"enabled", "vin", NULL};
        if (!lua_istable(L, ss))
            return luaL_error(L, "bad option 'singleSelect' to '%s' (table expected, got %s)", fname,
                              luaL_typename(L, ss));
        sc_check_options(L, ss, "getAuthUrl singleSelect", ss_keys);
        vin = sc_opt_string(L, ss, "vin", fname);
        lua_getfield(L, ss, "enabled");
        if (vin != NULL)
            single = "true";
        else if (lua_type(L, -1) == LUA_TBOOLEAN)
            single = lua_toboolean(L, -1) ? "true" : "false";
        lua_pop(L, 1);
    }
    lua_getfield(L, opts, "flags");
    sc_push_flags(L, -1, fname);
    lua_remove(L, -2);
    flags = lua_gettop(L);
    lua_getfield(L, opts, "forcePrompt");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN)
        return luaL_error(L, "bad option 'forcePrompt' to '%s' (boolean expected, got %s)", fname,
                          luaL_typename(L, -1));
    force = lua_toboolean(L, -1);
    lua_pop(L, 1);

    /* While the buffer is open, only balanced push/pop pairs (sc_opt_string) touch the stack. */
    luaL_buffinit(L, &b);
    luaL_addstring(&b, lua_tostring(L, 2));
    luaL_addstring(&b, "/oauth/authorize?");
    sc_add_param(&b, &first, "response_type", "code", 4);
    sc_add_param(&b, &first, "client_id", a->client_id, strlen(a->client_id));
    sc_add_param(&b, &first, "approval_prompt", force ? "force" : "auto", force ? 5 : 4);
    if (a->redirect_uri)
        sc_add_param(&b, &first, "redirect_uri", a->redirect_uri, strlen(a->redirect_uri));
    if (scope)
        sc_add_param(&b, &first, "scope", lua_tostring(L, scope), sc_rawlen(L, scope));
    add_opt(L, &b, &first, opts, "state", "state");
    if (single)
        sc_add_param(&b, &first, "single_select", single, strlen(single));
    if (vin)
        sc_add_param(&b, &first, "single_select_vin", vin, strlen(vin));
    add_opt(L, &b, &first, opts, "makeBypass", "make");
    if (!lua_isnil(L, flags))
        sc_add_param(&b, &first, "flags", lua_tostring(L, flags), sc_rawlen(L, flags));
    add_opt(L, &b, &first, opts, "user", "user");
    sc_add_param(&b, &first, "mode", a->mode, strlen(a->mode));
    luaL_pushresult(&b);
    return 1;
}

/* client:_tokenRequest(authOrigin, grant, value[, options]) --> url, headers, body
 * grant: "authorization_code" (value = code) or "refresh_token" (value = token).
 * Form fields in the Node SDK's order; redirect_uri only when configured. */
static int auth_token_request(lua_State *L)
{
    sc_auth *a = check_auth(L);
    const char *grant = luaL_checkstring(L, 3);
    int is_code = strcmp(grant, "authorization_code") == 0;
    const char *fname = is_code ? "exchangeCode" : "exchangeRefreshToken";
    size_t vlen;
    const char *value;
    int first = 1;
    luaL_Buffer b;

    luaL_checkstring(L, 2);
    lua_settop(L, 5);
    if (lua_type(L, 4) != LUA_TSTRING)
        return luaL_error(L, "bad argument #1 to '%s' (string expected, got %s)", fname, luaL_typename(L, 4));
    value = lua_tolstring(L, 4, &vlen);
    if (vlen == 0)
        return luaL_error(L, "bad argument #1 to '%s' (%s must not be empty)", fname, is_code ? "code" : "token");
    if (!lua_isnil(L, 5) && !lua_istable(L, 5))
        return luaL_error(L, "bad argument #2 to '%s' (table expected, got %s)", fname, luaL_typename(L, 5));
    if (lua_istable(L, 5)) {
        sc_check_options(L, 5, fname, token_options);
        lua_getfield(L, 5, "flags");
        sc_push_flags(L, -1, fname);
        lua_remove(L, -2);
    } else {
        lua_pushnil(L);
    }                                           /* 6: flags or nil */

    luaL_buffinit(L, &b);
    luaL_addstring(&b, lua_tostring(L, 2));
    luaL_addstring(&b, "/oauth/token");
    if (!lua_isnil(L, 6)) {
        luaL_addstring(&b, "?");
        sc_add_param(&b, &first, "flags", lua_tostring(L, 6), sc_rawlen(L, 6));
    }
    luaL_pushresult(&b);                        /* 7: url */

    lua_createtable(L, 0, 3);                   /* 8: headers */
    lua_pushstring(L, a->basic);
    lua_setfield(L, 8, "authorization");
    lua_pushliteral(L, "application/x-www-form-urlencoded");
    lua_setfield(L, 8, "content-type");
    sc_push_user_agent(L);
    lua_setfield(L, 8, "user-agent");

    first = 1;
    luaL_buffinit(L, &b);                       /* 9: body */
    if (is_code) {
        sc_add_param(&b, &first, "code", value, vlen);
        sc_add_param(&b, &first, "grant_type", "authorization_code", 18);
        if (a->redirect_uri)
            sc_add_param(&b, &first, "redirect_uri", a->redirect_uri, strlen(a->redirect_uri));
    } else {
        sc_add_param(&b, &first, "grant_type", "refresh_token", 13);
        sc_add_param(&b, &first, "refresh_token", value, vlen);
    }
    luaL_pushresult(&b);
    return 3;
}

static const char *const auth_fields[] = {"clientId", "redirectUri", "mode", NULL};

static const char *auth_field(void *self, int i)
{
    const sc_auth *a = self;
    return i == 0 ? a->client_id : i == 1 ? a->redirect_uri : a->mode;
}

static int auth_tostring(lua_State *L)
{
    sc_auth *a = luaL_checkudata(L, 1, SC_AUTH_MT);
    lua_pushfstring(L, "AuthClient (%s, %s)", a->client_id ? a->client_id : "released", a->mode ? a->mode : "-");
    return 1;
}

void sc_auth_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"new", auth_new}, {"_authUrl", auth_url}, {"_tokenRequest", auth_token_request}, {NULL, NULL}
    };
    static const sc_class auth_class = {
        "AuthClient", SC_AUTH_MT, methods, auth_fields, auth_field, auth_gc, auth_tostring
    };
    sc_new_class(L, &auth_class);
}
