/* Every request the SDK makes, built as method, url, headers, body:
 * vehicle endpoints (v1/v2/v3, batch, request), token exchanges and the Connect
 * URL, module functions (user, vehicles, compatibility, management) and plain
 * HTTP. Pure functions of their arguments: the Lua layer passes the origins and
 * the API version of its instance, sends the result and parses the answer. */
#include <stdlib.h>
#include <string.h>
#include "core.h"

static const char sc_key_names = 0;  /* registry: interned header names, see header_names */
static const char sc_key_frozen = 0; /* registry: the set of headers tables that never change */

int sc_is_frozen(lua_State *L, int idx)
{
    return sc_set_has(L, &sc_key_frozen, idx);
}

/* Mark the table on top as never changing (a weak set: it goes when it is garbage). */
static void freeze(lua_State *L)
{
    sc_set_add(L, &sc_key_frozen, -1, "k");
}

enum { H_AUTHORIZATION = 1, H_UNIT, H_AGENT, H_CONTENT_TYPE, H_COUNT = H_CONTENT_TYPE };

/* The hot path sets the same four header names on every request: keep them as
 * Lua strings in one table instead of hashing C literals each time. */
static void push_header_names(lua_State *L)
{
    static const char *const names[] = {"authorization", "sc-unit-system", "user-agent", "content-type"};
    int i;
    sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_names);
    if (lua_istable(L, -1))
        return;
    lua_pop(L, 1);
    lua_createtable(L, H_COUNT, 0);
    for (i = 0; i < H_COUNT; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushvalue(L, -1);
    sc_rawsetp(L, LUA_REGISTRYINDEX, &sc_key_names);
}

/* headers[names[which]] = value on top (popped); headers at h, names at n. */
static void set_header(lua_State *L, int h, int n, int which)
{
    lua_rawgeti(L, n, which);
    lua_insert(L, -2);
    lua_rawset(L, h);
}

static int is_token_char(unsigned char c)
{
    return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* Copy the extra headers at idx into headers at h (names lower-cased, replacing). */
static void merge_headers(lua_State *L, int h, int idx, int arg, const char *fname)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t nlen, vlen, i;
        const char *name, *value;
        luaL_Buffer b;
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            sc_arg_error(L, arg, fname, "headers must map names to strings");
        name = lua_tolstring(L, -2, &nlen);
        value = lua_tolstring(L, -1, &vlen);
        for (i = 0; i < nlen; i++)
            if (!is_token_char((unsigned char)name[i]))
                sc_arg_error(L, arg, fname, "header name %s is not a token", sc_shown(L, name, nlen));
        if (nlen == 0)
            sc_arg_error(L, arg, fname, "header name is empty");
        if (memchr(value, '\0', vlen) || memchr(value, '\r', vlen) || memchr(value, '\n', vlen))
            sc_arg_error(L, arg, fname, "header %s contains a line break or NUL byte", sc_shown(L, name, nlen));
        luaL_buffinit(L, &b);
        for (i = 0; i < nlen; i++)
            luaL_addchar(&b, (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]));
        luaL_pushresult(&b);
        lua_pushvalue(L, -2);
        lua_rawset(L, h);
        lua_pop(L, 1);
    }
}

/* origin/v<version>/vehicles/<id><path>[?query][&flags=...] */
static void push_url(lua_State *L, const sc_vehicle *v, const char *origin, size_t olen, const char *version,
                     const char *path, size_t plen, const char *query, size_t qlen)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, origin, olen);
    luaL_addstring(&b, "/v");
    luaL_addstring(&b, version);
    luaL_addstring(&b, "/vehicles/");
    luaL_addstring(&b, v->segment);
    luaL_addlstring(&b, path, plen);
    if (qlen > 0) {
        luaL_addchar(&b, '?');
        luaL_addlstring(&b, query, qlen);
    }
    if (v->flags) {
        luaL_addstring(&b, qlen > 0 ? "&flags=" : "?flags=");
        luaL_addstring(&b, v->flags);
    }
    luaL_pushresult(&b);
}

#define SC_URL_CACHE 32 /* paths remembered per vehicle: the endpoints, not every raw path */

/* The URL of a path (string at pidx) with the vehicle's version and no query: built
 * once per vehicle and origin, since the same few are asked for again and again. */
static void push_cached_url(lua_State *L, sc_vehicle *v, const char *origin, size_t olen, int pidx)
{
    size_t plen;
    const char *path = lua_tolstring(L, pidx, &plen);
    if (v->urls > 0 && strcmp(v->urls_origin, origin) == 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, v->urls);
        lua_pushvalue(L, pidx);
        lua_rawget(L, -2);
        if (!lua_isnil(L, -1)) {
            lua_remove(L, -2);
            return;
        }
        lua_pop(L, 2);
    } else {
        char *copy = sc_strdup(L, origin, olen);
        free(v->urls_origin);
        v->urls_origin = copy;
        if (v->urls > 0)
            luaL_unref(L, LUA_REGISTRYINDEX, v->urls);
        lua_newtable(L);
        v->urls = luaL_ref(L, LUA_REGISTRYINDEX);
        v->nurls = 0;
    }
    push_url(L, v, origin, olen, v->version, path, plen, NULL, 0);
    if (v->nurls < SC_URL_CACHE) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, v->urls);
        lua_pushvalue(L, pidx);
        lua_pushvalue(L, -3);
        lua_rawset(L, -3);
        lua_pop(L, 1);
        v->nurls++;
    }
}

/* core.vehicleRequest(vehicle, origin, version, method, path[, body[, query[, headers]]])
 *   --> method, url, headers, body
 * url = origin/v<version>/vehicles/<id><path>[?query][&flags=...] (version nil: the
 * vehicle's); body: nil, a JSON string, or a table to encode; headers: extra
 * headers (any case) replacing the built ones. */
static int l_vehicle_request(lua_State *L)
{
    sc_vehicle *v = sc_check_vehicle(L, 1);
    size_t olen, plen, qlen = 0;
    const char *origin = luaL_checklstring(L, 2, &olen);
    const char *version = luaL_optstring(L, 3, v->version);
    const char *path = luaL_checklstring(L, 5, &plen);
    const char *query = luaL_optlstring(L, 7, NULL, &qlen);
    int has_body = !lua_isnoneornil(L, 6), names;

    luaL_checkstring(L, 4);
    lua_settop(L, 8);
    lua_pushvalue(L, 4); /* 9: method */
    if (lua_isnil(L, 3) && qlen == 0)
        push_cached_url(L, v, origin, olen, 5); /* 10: url */
    else
        push_url(L, v, origin, olen, version, path, plen, query, qlen);
    if (!has_body && lua_isnil(L, 8) && v->headers > 0) {
        /* the same every time: built once per vehicle (transports only read headers) */
        lua_rawgeti(L, LUA_REGISTRYINDEX, v->headers);
        lua_pushnil(L);
        return 4;
    }
    push_header_names(L); /* 11 */
    names = 11;
    lua_createtable(L, 0, 4); /* 12: headers */
    lua_pushstring(L, v->bearer);
    set_header(L, 12, names, H_AUTHORIZATION);
    lua_pushstring(L, v->unit);
    set_header(L, 12, names, H_UNIT);
    sc_push_user_agent(L);
    set_header(L, 12, names, H_AGENT);
    if (has_body) {
        lua_pushliteral(L, "application/json");
        set_header(L, 12, names, H_CONTENT_TYPE);
    }
    if (lua_istable(L, 8))
        merge_headers(L, 12, 8, 4, "request");
    lua_remove(L, names);
    if (!has_body && lua_isnil(L, 8) && v->headers == 0) {
        freeze(L); /* transports only read the headers they are given */
        lua_pushvalue(L, -1);
        v->headers = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (!has_body)
        lua_pushnil(L);
    else if (lua_type(L, 6) == LUA_TSTRING)
        lua_pushvalue(L, 6);
    else if (!sc_json_try_encode(L, 6))
        return sc_arg_error(L, 3, "request", "the body cannot be encoded as JSON: %s", lua_tostring(L, -1));
    return 4;
}

static void add_opt(lua_State *L, luaL_Buffer *b, int *first, int opts, const char *key, const char *param,
                    const char *fname)
{
    const char *s = sc_opt_string(L, opts, key, fname);
    if (s != NULL && *s != '\0') /* an empty one says nothing: left out, as the Node SDK does */
        sc_add_param(b, first, param, s, strlen(s));
}

/* A sequence of strings at idx joined by spaces, pushed (nil when empty). */
static void push_scope(lua_State *L, int idx, int arg, const char *fname)
{
    int i, n = (int)sc_rawlen(L, idx);
    luaL_Buffer b;
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            sc_arg_error(L, arg, fname, "scope entry %d must be a string, got %s", i, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    if (n == 0) {
        lua_pushnil(L);
        return;
    }
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, ' ');
        lua_rawgeti(L, idx, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
}

/* core.authUrl(client[, scope][, options], connectOrigin) --> the Connect URL,
 * parameters in the Node SDK's order (then API V3's external_id, before mode). getAuthUrl(options) is accepted too: a
 * table with string keys and no array part is the options. */
static int l_auth_url(lua_State *L)
{
    static const char fname[] = "getAuthUrl";
    static const char *const url_options[] = {"forcePrompt", "state", "makeBypass", "singleSelect", "flags",
                                              "user", "externalId", NULL};
    static const char *const ss_keys[] = {"enabled", "vin", NULL};
    sc_auth *a = sc_check_auth(L, 1, fname);
    int first = 1, force;
    const char *single = NULL, *vin = NULL;
    luaL_Buffer b;

    luaL_checkstring(L, 4);
    lua_settop(L, 4);
    if (lua_istable(L, 2) && lua_isnil(L, 3) && sc_rawlen(L, 2) == 0) {
        lua_pushnil(L);
        if (lua_next(L, 2)) {
            lua_pop(L, 2);
            lua_pushvalue(L, 2);
            lua_replace(L, 3);
            lua_pushnil(L);
            lua_replace(L, 2);
        }
    }
    if (!lua_isnil(L, 2) && !lua_istable(L, 2))
        return sc_arg_error(L, 1, fname, "table expected, got %s", luaL_typename(L, 2));
    if (!sc_check_table(L, 3, 2, fname)) {
        lua_newtable(L);
        lua_replace(L, 3);
    }
    sc_check_keys(L, 3, fname, url_options);
    if (lua_istable(L, 2))
        push_scope(L, 2, 1, fname);
    else
        lua_pushnil(L); /* 5: scope */
    sc_rawfield(L, 3, "singleSelect");
    if (!lua_isnil(L, -1)) {
        int ss = lua_gettop(L);
        if (!lua_istable(L, ss))
            return sc_option_error(L, "singleSelect", fname, "table expected, got %s", luaL_typename(L, ss));
        sc_check_keys(L, ss, fname, ss_keys);
        vin = sc_opt_string(L, ss, "vin", fname);
        sc_rawfield(L, ss, "enabled");
        if (vin != NULL)
            single = "true";
        else if (lua_type(L, -1) == LUA_TBOOLEAN)
            single = lua_toboolean(L, -1) ? "true" : "false";
        lua_pop(L, 1);
    }
    lua_settop(L, 5);
    sc_rawfield(L, 3, "flags");
    sc_push_flags(L, -1, fname);
    lua_replace(L, 6); /* 6: flags */
    sc_rawfield(L, 3, "forcePrompt");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN)
        return sc_option_error(L, "forcePrompt", fname, "boolean expected, got %s", luaL_typename(L, -1));
    force = lua_toboolean(L, -1);
    lua_pop(L, 1);
    /* validate the string options before the buffer is open */
    sc_opt_string(L, 3, "state", fname);
    sc_opt_string(L, 3, "makeBypass", fname);
    sc_opt_string(L, 3, "user", fname);
    sc_opt_string(L, 3, "externalId", fname);

    luaL_buffinit(L, &b);
    luaL_addstring(&b, lua_tostring(L, 4));
    luaL_addstring(&b, "/oauth/authorize?");
    sc_add_param(&b, &first, "response_type", "code", 4);
    sc_add_param(&b, &first, "client_id", a->client_id, strlen(a->client_id));
    sc_add_param(&b, &first, "approval_prompt", force ? "force" : "auto", force ? 5 : 4);
    if (a->redirect_uri)
        sc_add_param(&b, &first, "redirect_uri", a->redirect_uri, strlen(a->redirect_uri));
    if (!lua_isnil(L, 5))
        sc_add_param(&b, &first, "scope", lua_tostring(L, 5), sc_rawlen(L, 5));
    add_opt(L, &b, &first, 3, "state", "state", fname);
    if (single)
        sc_add_param(&b, &first, "single_select", single, strlen(single));
    if (vin)
        sc_add_param(&b, &first, "single_select_vin", vin, strlen(vin));
    add_opt(L, &b, &first, 3, "makeBypass", "make", fname);
    if (!lua_isnil(L, 6))
        sc_add_param(&b, &first, "flags", lua_tostring(L, 6), sc_rawlen(L, 6));
    add_opt(L, &b, &first, 3, "user", "user", fname);
    add_opt(L, &b, &first, 3, "externalId", "external_id", fname); /* API V3: the developer's id of the user */
    sc_add_param(&b, &first, "mode", a->mode, strlen(a->mode));
    luaL_pushresult(&b);
    return 1;
}

/* core.tokenRequest(client, value, options, grant, authOrigin) --> "POST", url, headers, body
 * grant: "authorization_code" (value = code) or "refresh_token" (value = token).
 * Form fields in the Node SDK's order; redirect_uri only when configured. */
static int l_token_request(lua_State *L)
{
    static const char *const token_options[] = {"flags", NULL};
    const char *grant = luaL_checkstring(L, 4);
    int is_code = strcmp(grant, "authorization_code") == 0;
    const char *fname = is_code ? "exchangeCode" : "exchangeRefreshToken";
    sc_auth *a = sc_check_auth(L, 1, fname);
    size_t vlen;
    const char *value;
    int first = 1;
    luaL_Buffer b;

    luaL_checkstring(L, 5);
    lua_settop(L, 5);
    value = sc_check_string(L, 2, 1, fname, 0, &vlen);
    if (sc_check_table(L, 3, 2, fname)) {
        sc_check_keys(L, 3, fname, token_options);
        sc_rawfield(L, 3, "flags");
        sc_push_flags(L, -1, fname);
        lua_remove(L, -2);
    } else {
        lua_pushnil(L);
    } /* 6: flags or nil */

    lua_pushliteral(L, "POST"); /* 7 */
    luaL_buffinit(L, &b);
    luaL_addstring(&b, lua_tostring(L, 5));
    luaL_addstring(&b, "/oauth/token");
    if (!lua_isnil(L, 6)) {
        luaL_addstring(&b, "?");
        sc_add_param(&b, &first, "flags", lua_tostring(L, 6), sc_rawlen(L, 6));
    }
    luaL_pushresult(&b); /* 8: url */

    lua_createtable(L, 0, 3); /* 9: headers */
    lua_pushstring(L, a->basic);
    lua_setfield(L, 9, "authorization");
    lua_pushliteral(L, "application/x-www-form-urlencoded");
    lua_setfield(L, 9, "content-type");
    sc_push_user_agent(L);
    lua_setfield(L, 9, "user-agent");

    first = 1;
    luaL_buffinit(L, &b); /* 10: body */
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
    return 4;
}

/* A string field of a table, or raise (the spec tables are the SDK's own data). */
static const char *field(lua_State *L, int idx, const char *key)
{
    const char *s;
    lua_getfield(L, idx, key);
    s = lua_tostring(L, -1);
    lua_pop(L, 1); /* kept alive by the table */
    return s;
}

/* Push the Authorization value for a module function: `kind` "bearer" (credential:
 * a token), "amt" (Basic default:<amt>), "client" (credential: an options table
 * with clientId/clientSecret, else the environment) or "none" (pushes nil: the
 * credentials travel in a form body, as the client-credentials grant sends them). */
static void push_authorization(lua_State *L, const char *kind, int cred, const char *fname)
{
    if (strcmp(kind, "none") == 0) {
        lua_pushnil(L);
        return;
    }
    if (strcmp(kind, "client") == 0) {
        int opts = lua_istable(L, cred) ? cred : 0;
        const char *id = sc_option_or_env(L, opts, "clientId", "SMARTCAR_CLIENT_ID", fname, 1);
        const char *secret = sc_option_or_env(L, opts, "clientSecret", "SMARTCAR_CLIENT_SECRET", fname, 1);
        lua_pushfstring(L, "%s:%s", id, secret);
    } else {
        const char *s = sc_check_string(L, cred, 1, fname, 1, NULL);
        if (strcmp(kind, "bearer") == 0) {
            lua_pushfstring(L, "Bearer %s", s);
            return;
        }
        lua_pushfstring(L, "default:%s", s);
    }
    sc_push_base64(L, lua_tostring(L, -1), sc_rawlen(L, -1));
    lua_pushfstring(L, "Basic %s", lua_tostring(L, -1));
    lua_replace(L, -3);
    lua_pop(L, 1);
}

/* Push the path of a request description: each `{name}` in it replaced by
 * params[name] percent-encoded (a non-empty string: the Lua layer checked it and
 * blamed the caller; this is the last guard). */
static void push_path(lua_State *L, const char *path, int params, const char *fname)
{
    int n = 0;
    const char *p = path;
    while (*p) {
        const char *open = strchr(p, '{'), *close, *s;
        size_t len;
        if (open == NULL) {
            lua_pushstring(L, p);
            n++;
            break;
        }
        close = strchr(open, '}');
        if (close == NULL)
            luaL_error(L, "apiRequest: unclosed placeholder in %s", path);
        lua_pushlstring(L, p, (size_t)(open - p));
        lua_pushlstring(L, open + 1, (size_t)(close - open - 1));
        lua_rawget(L, params);
        if (lua_type(L, -1) != LUA_TSTRING || sc_rawlen(L, -1) == 0)
            sc_raise(L, "bad argument to '%s' (%s: a non-empty string expected, got %s)", fname,
                     lua_tostring(L, -2), luaL_typename(L, -1));
        s = lua_tolstring(L, -1, &len);
        sc_push_escaped(L, s, len);
        lua_remove(L, -2);
        n += 2;
        p = close + 1;
        if (n >= 32) {
            lua_concat(L, n);
            n = 1;
        }
    }
    if (n == 0)
        lua_pushliteral(L, "");
    else
        lua_concat(L, n);
}

/* headers[name] = params[param] for each name = param of the table at map (absent
 * params are left out; a value with a NUL, CR or LF raises). */
static void add_param_headers(lua_State *L, int h, int map, int params, const char *fname)
{
    lua_pushnil(L);
    while (lua_next(L, map)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
            lua_rawget(L, params); /* the value of the param the header carries */
            if (lua_type(L, -1) == LUA_TSTRING) {
                size_t len;
                const char *v = lua_tolstring(L, -1, &len);
                if (len == 0 || memchr(v, '\0', len) || memchr(v, '\r', len) || memchr(v, '\n', len))
                    sc_raise(L, "bad argument to '%s' (header %s: a string without a line break or NUL expected)",
                             fname, lua_tostring(L, -2));
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, h);
            } else {
                lua_pop(L, 1);
            }
        } else {
            lua_pop(L, 1);
        }
    }
}

/* core.apiRequest(spec, credential, params, config[, order]) --> method, url, headers, body
 *   spec: {name=, method=, origin=<config key>, version=?, path=, auth="bearer"|"amt"|"client"|"none",
 *          query={names...}, segment=<argument number>?, headers={[header]=<param>}?, form={names...}?}
 *   params: query values by name; `segment` (escaped onto the path), `version` (overrides), the
 *   values of the path's `{name}` placeholders (escaped), of the headers and of the form fields;
 *   `body`, a table sent as JSON.
 *   url = config[origin][/v<version>]<path>[/<segment>][?query]
 *   body: the `form` fields form-encoded in that order, else params.body as JSON, else nil */
static int l_api_request(lua_State *L)
{
    const char *fname, *method, *origin, *version, *path, *auth;
    luaL_Buffer b;

    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_settop(L, 5);
    fname = field(L, 1, "name");
    method = field(L, 1, "method");
    path = field(L, 1, "path");
    auth = field(L, 1, "auth");
    lua_getfield(L, 1, "origin");
    lua_gettable(L, 4);
    origin = lua_tostring(L, 6); /* 6: the origin, kept alive on the stack */
    if (!fname || !method || !path || !auth || !origin)
        return luaL_error(L, "apiRequest: incomplete request description");
    if ((version = field(L, 3, "version")) == NULL && (version = field(L, 1, "version")) == NULL)
        version = field(L, 4, "apiVersion");
    lua_getfield(L, 1, "segment");
    if (!lua_isnil(L, -1)) {
        int arg = (int)lua_tointeger(L, -1);
        lua_getfield(L, 3, "segment");
        sc_check_string(L, lua_gettop(L), arg, fname, 0, NULL);
        lua_replace(L, -2);
    } /* 7: the segment (or nil) */
    push_authorization(L, auth, 2, fname); /* 8 (nil: none) */
    if (lua_isnil(L, 5))
        lua_getfield(L, 1, "query");
    else
        lua_pushvalue(L, 5); /* 9: order */
    push_path(L, path, 3, fname); /* 10: the path, placeholders filled */

    lua_pushstring(L, method); /* 11 */
    luaL_buffinit(L, &b);
    luaL_addstring(&b, origin);
    if (version && *version) {
        luaL_addstring(&b, "/v");
        luaL_addstring(&b, version);
    }
    luaL_addstring(&b, lua_tostring(L, 10));
    if (!lua_isnil(L, 7)) {
        luaL_addchar(&b, '/');
        sc_add_escaped(&b, lua_tostring(L, 7), sc_rawlen(L, 7));
    }
    if (lua_istable(L, 9)) {
        luaL_pushresult(&b); /* the query is built apart so its parameters can be checked */
        sc_push_query(L, 3, 9, fname);
        if (sc_rawlen(L, -1) > 0) {
            lua_pushliteral(L, "?");
            lua_insert(L, -2);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
        }
    } else {
        luaL_pushresult(&b);
    } /* 12: url */
    lua_createtable(L, 0, 4); /* 13: headers */
    if (!lua_isnil(L, 8)) {
        lua_pushvalue(L, 8);
        lua_setfield(L, 13, "authorization");
    }
    sc_push_user_agent(L);
    lua_setfield(L, 13, "user-agent");
    lua_getfield(L, 1, "headers");
    if (lua_istable(L, -1))
        add_param_headers(L, 13, lua_gettop(L), 3, fname);
    lua_pop(L, 1);
    lua_getfield(L, 1, "form");
    if (lua_istable(L, -1)) {
        sc_push_query(L, 3, lua_gettop(L), fname);
        lua_remove(L, -2);
        lua_pushliteral(L, "application/x-www-form-urlencoded");
        lua_setfield(L, 13, "content-type");
        return 4;
    }
    lua_pop(L, 1);
    lua_getfield(L, 3, "body");
    if (lua_isnil(L, -1))
        return 4;
    if (!lua_istable(L, -1))
        return luaL_error(L, "apiRequest: params.body must be a table");
    if (!sc_json_try_encode(L, lua_gettop(L)))
        return sc_raise(L, "bad argument to '%s' (the body cannot be encoded as JSON: %s)", fname, lua_tostring(L, -1));
    lua_remove(L, -2);
    lua_pushliteral(L, "application/json");
    lua_setfield(L, 13, "content-type");
    return 4;
}

/* core.httpRequest(method, url[, headers[, body]]) --> method, url, headers, body
 * Any HTTP request (the Connect pages, an emulator's admin API), checked so that
 * nothing but what was asked reaches the wire. */
static int l_http_request(lua_State *L)
{
    static const char fname[] = "http";
    size_t len, i;
    const char *method = sc_check_string(L, 1, 1, fname, 1, &len);
    const char *url;
    for (i = 0; i < len; i++)
        if (method[i] < 'A' || method[i] > 'Z')
            return sc_arg_error(L, 1, fname, "method must be upper-case letters, got %s", sc_shown(L, method, len));
    url = sc_check_string(L, 2, 2, fname, 1, &len);
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return sc_arg_error(L, 2, fname, "an http(s) URL expected");
    for (i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ')
            return sc_arg_error(L, 2, fname, "URL contains a space or control character");
    if (!lua_isnoneornil(L, 4))
        luaL_checkstring(L, 4);
    lua_settop(L, 4);
    lua_newtable(L);
    if (sc_check_table(L, 3, 3, fname))
        merge_headers(L, 5, 3, 3, fname);
    lua_replace(L, 3);
    sc_push_user_agent(L);
    lua_getfield(L, 3, "user-agent");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_setfield(L, 3, "user-agent");
    } else {
        lua_pop(L, 2);
    }
    return 4;
}

const luaL_Reg sc_request_functions[] = {
    {"vehicleRequest", l_vehicle_request}, {"authUrl", l_auth_url}, {"tokenRequest", l_token_request},
    {"apiRequest", l_api_request}, {"httpRequest", l_http_request}, {NULL, NULL}
};
