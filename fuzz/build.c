/* libFuzzer target: the request builders of smartcar.core.
 *
 * Each input is a program: one byte picks an operation, the bytes after it its
 * arguments (see fz_push_value), until the input runs out (at most 12 operations):
 *   escape, query, flags, a Vehicle (core.newVehicle) and requests on it
 *   (core.vehicleRequest, also after the Vehicle was released), an AuthClient
 *   (core.newAuthClient) with core.authUrl and core.tokenRequest, core.apiRequest
 *   with the SDK's own request descriptions, core.httpRequest.
 *
 * What the Lua layer checks before it calls a builder is given as it would be:
 * origins are valid http(s) origins, methods, paths, versions and the query of
 * vehicleRequest hold no NUL, CR or LF, query parameter names are the SDK's. All
 * the rest (ids, tokens, options, credentials, scopes, flags, header tables,
 * parameter values, bodies, everything of httpRequest) is arbitrary.
 *
 * Contract checked: a builder may raise a string error, never crash; a returned
 * url or header (name or value) holds no NUL, CR or LF; neither does a body the
 * builder made (JSON from a table, a form); a string body is returned as given.
 *
 * SMARTCAR_FUZZ_SKIP (comma-separated) steers around known findings while they are
 * open, so the rest can still be fuzzed: "flags-fname" never passes core.flags its
 * second (message) argument; "flags-nul" keeps NUL bytes out of table keys (flag names); "query-long"
 * cuts query parameter values (core.query, core.apiRequest) to 40 bytes. */
#include "common.h"

static int skip_flags_fname, skip_query_long;

/* With "query-long" skipped: a string value on top is cut to 40 bytes, so a whole
 * query (at most 7 values, escaped) stays within a luaL_Buffer's first block. */
static void query_value(lua_State *L)
{
    if (skip_query_long && lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 40) {
        size_t len;
        const char *v = lua_tolstring(L, -1, &len);
        lua_pushlstring(L, v, 40);
        lua_remove(L, -2);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *skip = getenv("SMARTCAR_FUZZ_SKIP");
    (void)argc;
    (void)argv;
    skip_flags_fname = skip && strstr(skip, "flags-fname") != NULL;
    fz_no_nul_keys = skip && strstr(skip, "flags-nul") != NULL;
    skip_query_long = skip && strstr(skip, "query-long") != NULL;
    fz_open();
    fz_reset(FZ_L);
    return 0;
}

/* Origins as config.lua accepts them (trailing slashes already dropped). */
static const char *const origins[] = {
    "http://127.0.0.1:8000", "https://api.smartcar.com", "http://[::1]:9", "https://h.example/base/p%20q",
    "http://a-b.c", "https://x",
};

static void push_origin(lua_State *L, fz_in *in)
{
    lua_pushstring(L, origins[fz_byte(in) % (sizeof origins / sizeof origins[0])]);
}

/* A string the Lua layer checked, or sometimes a word (words may hold NUL/CR/LF:
 * only the clean ones are used here). */
static void push_checked(lua_State *L, fz_in *in, size_t max)
{
    if (fz_byte(in) & 1) {
        fz_push_word(L, in);
        if (lua_rawlen(L, -1) == 0 || strpbrk(lua_tostring(L, -1), "\r\n") != NULL ||
            strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "GET");
        }
    } else {
        fz_push_clean(L, in, max);
    }
}

/* A string: mostly raw bytes or a word, sometimes any value. */
static void push_stringish(lua_State *L, fz_in *in)
{
    unsigned k = fz_byte(in) % 16;
    if (k < 8)
        fz_push_raw(L, in, 48);
    else if (k < 13)
        fz_push_word(L, in);
    else if (k < 15)
        fz_push_value(L, in, 1);
    else
        fz_push_long(L, in);
}

/* An options table with keys mostly from `keys` (NULL-terminated). */
static void push_options(lua_State *L, fz_in *in, const char *const keys[])
{
    unsigned n = fz_byte(in) % 5, i, nkeys = 0;
    unsigned kind = fz_byte(in) % 16;
    if (kind == 0) {
        lua_pushnil(L);
        return;
    }
    if (kind == 1) {
        fz_push_value(L, in, 1);
        return;
    }
    while (keys[nkeys])
        nkeys++;
    lua_newtable(L);
    for (i = 0; i < n && in->n > 0; i++) {
        unsigned k = fz_byte(in);
        if (k % 16 == 0)
            fz_push_raw(L, in, 12);
        else
            lua_pushstring(L, keys[k % nkeys]);
        if (lua_rawlen(L, -1) == 0) {
            lua_pop(L, 1);
            continue;
        }
        if (strcmp(lua_tostring(L, -1), "flags") == 0 && (fz_byte(in) & 3) != 0)
            fz_push_table(L, in, 1);
        else
            push_stringish(L, in);
        lua_rawset(L, -3);
    }
}

/* A flags table: names raw or words, values scalars mostly. */
static void push_flags_table(lua_State *L, fz_in *in)
{
    unsigned n = fz_byte(in) % 5, i;
    lua_newtable(L);
    for (i = 0; i < n && in->n > 0; i++) {
        if (fz_byte(in) & 1)
            fz_push_raw(L, in, 12);
        else
            fz_push_word(L, in);
        fz_clean_key(L);
        fz_push_value(L, in, 2);
        lua_rawset(L, -3);
    }
}

static void push_headers(lua_State *L, fz_in *in)
{
    unsigned n = fz_byte(in) % 4, i;
    if (fz_byte(in) % 8 == 0) {
        fz_push_value(L, in, 1);
        return;
    }
    lua_newtable(L);
    for (i = 0; i < n && in->n > 0; i++) {
        push_stringish(L, in);
        if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) != lua_tonumber(L, -1))) {
            lua_pop(L, 1);
            continue;
        }
        push_stringish(L, in);
        lua_rawset(L, -3);
    }
}

/* The results method, url, headers, body at base+1..base+4 (n of them). */
static void check_request(lua_State *L, int base, int n, int body_kind, int body_arg, const char *name)
{
    if (n != 4) {
        fprintf(stderr, "\n%s returned %d values\n", name, n);
        fz_die(NULL, "a request builder returns method, url, headers, body");
    }
    if (lua_type(L, base + 1) != LUA_TSTRING || lua_type(L, base + 2) != LUA_TSTRING)
        fz_die(L, "method and url must be strings");
    fz_no_breaks(L, base + 1, "the method");
    fz_no_breaks(L, base + 2, "the url");
    fz_check_headers(L, base + 3);
    /* body_kind: 0 none expected, 1 made by the builder, 2 the string at body_arg as given */
    if (body_kind == 0 && !lua_isnil(L, base + 4))
        fz_die(L, "a body out of nothing");
    if (body_kind == 1) {
        if (lua_type(L, base + 4) != LUA_TSTRING)
            fz_die(L, "the body is not a string");
        fz_no_breaks(L, base + 4, "a body the builder made");
    }
    if (body_kind == 2 && !lua_rawequal(L, base + 4, body_arg))
        fz_die(L, "a string body was changed");
}

static void op_escape(lua_State *L, fz_in *in)
{
    int base = lua_gettop(L), n;
    fz_core(L, "escape");
    if (fz_byte(in) % 8)
        fz_push_raw(L, in, 64);
    else
        fz_push_value(L, in, 1);
    n = fz_call(L, 1, "escape");
    if (n == 1 && lua_type(L, -1) == LUA_TSTRING) {
        size_t len, i;
        const char *s = lua_tolstring(L, -1, &len);
        for (i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '%') {
                if (i + 2 >= len)
                    fz_die(L, "escape: a cut %XX");
                if (s[i + 1] == '\0' || s[i + 2] == '\0' || !strchr("0123456789ABCDEF", s[i + 1]) ||
                    !strchr("0123456789ABCDEF", s[i + 2]))
                    fz_die(L, "escape: a bad %XX");
                i += 2;
            } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         (c != 0 && strchr("-_.!~*'()", c)))) {
                fz_die(L, "escape: a reserved byte left as it is");
            }
        }
    }
    lua_settop(L, base);
}

static void op_query(lua_State *L, fz_in *in)
{
    int base = lua_gettop(L), n, i, count = (int)(fz_byte(in) % 6);
    fz_core(L, "query");
    lua_newtable(L); /* params */
    lua_newtable(L); /* names */
    for (i = 1; i <= count; i++) {
        push_checked(L, in, 12);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, i);
        if (fz_byte(in) % 4) {
            fz_push_value(L, in, 2);
            query_value(L);
            lua_rawset(L, -4);
        } else {
            lua_pop(L, 1);
        }
    }
    if (fz_byte(in) % 16 == 0) { /* a bad argument now and then */
        lua_pop(L, 1);
        fz_push_value(L, in, 1);
    }
    n = fz_call(L, 2, "query");
    if (n == 1)
        fz_no_breaks(L, -1, "a query");
    lua_settop(L, base);
}

/* Whether the string at sidx holds `name:` for every string key of the table at tidx
 * (the whole name, an embedded NUL and what follows it included). */
static int has_every_name(lua_State *L, int sidx, int tidx)
{
    size_t slen;
    const char *s = lua_tolstring(L, sidx, &slen);
    int ok = 1;
    lua_pushnil(L);
    while (ok && lua_next(L, tidx)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            size_t nlen, i;
            const char *name = lua_tolstring(L, -2, &nlen);
            ok = 0;
            for (i = 0; !ok && i + nlen < slen; i++)
                ok = memcmp(s + i, name, nlen) == 0 && s[i + nlen] == ':';
        }
        lua_pop(L, 1);
    }
    if (!ok)
        lua_pop(L, 1);
    return ok;
}

static void op_flags(lua_State *L, fz_in *in)
{
    int base = lua_gettop(L), nargs = 1;
    /* base + 1: a copy of the flags argument, base + 2: of the name (they are echoed) */
    if (fz_byte(in) % 8)
        push_flags_table(L, in);
    else
        fz_push_value(L, in, 1);
    lua_pushnil(L);
    fz_core(L, "flags");
    lua_pushvalue(L, base + 1);
    if (!skip_flags_fname && fz_byte(in) % 4 == 0) {
        push_stringish(L, in);
        lua_pushvalue(L, -1);
        lua_replace(L, base + 2);
        nargs = 2;
    }
    if (lua_pcall(L, nargs, LUA_MULTRET, 0) != LUA_OK) {
        if (lua_type(L, -1) != LUA_TSTRING)
            fz_die(L, "flags raised a non-string");
        if (fz_is_oom(lua_tostring(L, -1)))
            fz_die(L, "flags of a few bytes ran out of memory");
        if (lua_type(L, base + 2) == LUA_TSTRING && strstr(lua_tostring(L, -1), "bad option") &&
            strstr(lua_tostring(L, -1), lua_tostring(L, base + 2)) == NULL) {
            fprintf(stderr, "\ncore.flags(t, fname): the message does not hold fname as given\n");
            fz_die(L, "fname was read as a format string");
        }
    } else {
        int n = lua_gettop(L) - base - 2;
        if (n != 1 || (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING))
            fz_die(L, "flags returns a string or nil");
        if (lua_type(L, -1) == LUA_TSTRING && lua_istable(L, base + 1) && !has_every_name(L, -1, base + 1)) {
            fprintf(stderr, "\ncore.flags(t): a name is missing or cut in the result\n");
            fz_no_breaks(L, -1, "the flags string"); /* prints it when it has a NUL */
            fz_die(L, "a flag name lost");
        }
    }
    lua_settop(L, base);
}

static const char *const vehicle_keys[] = {"unitSystem", "version", "flags", NULL};

/* A Vehicle, then requests on it. */
static void op_vehicle(lua_State *L, fz_in *in)
{
    int base = lua_gettop(L), v, n, r, requests = 1 + (int)(fz_byte(in) % 4);
    fz_core(L, "newVehicle");
    push_stringish(L, in); /* id */
    push_stringish(L, in); /* access token */
    push_options(L, in, vehicle_keys);
    lua_newtable(L); /* the class table */
    lua_pushliteral(L, "2.0");
    n = fz_call(L, 5, "newVehicle");
    if (n < 1 || lua_type(L, -1) != LUA_TUSERDATA) {
        lua_settop(L, base);
        return;
    }
    v = lua_gettop(L);
    lua_getfield(L, v, "id"); /* the readable fields */
    lua_getfield(L, v, "unitSystem");
    lua_getfield(L, v, "version");
    lua_settop(L, v);
    for (r = 0; r < requests && in->n > 0; r++) {
        int top = lua_gettop(L), body_kind;
        unsigned what = fz_byte(in);
        if (what % 16 == 15) { /* release it (its __close / __gc), then it must refuse, not crash */
            lua_getmetatable(L, v);
            lua_getfield(L, -1, (what & 16) ? "__gc" : "__close");
            lua_pushvalue(L, v);
            fz_call(L, 1, "Vehicle.__gc");
            lua_settop(L, top);
        }
        lua_pushnil(L); /* top + 1: a copy of the body argument */
        fz_core(L, "vehicleRequest");
        lua_pushvalue(L, v);
        push_origin(L, in);
        if (fz_byte(in) % 4 == 0)
            push_checked(L, in, 8); /* version */
        else
            lua_pushnil(L);
        push_checked(L, in, 8); /* method */
        push_checked(L, in, 32); /* path */
        switch (fz_byte(in) % 4) { /* body */
        case 0:
        case 1:
            lua_pushnil(L);
            body_kind = 0;
            break;
        case 2:
            fz_push_raw(L, in, 48);
            body_kind = 2;
            break;
        default:
            fz_push_table(L, in, 1);
            body_kind = 1;
            break;
        }
        lua_pushvalue(L, -1);
        lua_replace(L, top + 1);
        if (fz_byte(in) % 4 == 0)
            push_checked(L, in, 24); /* query */
        else
            lua_pushnil(L);
        if (fz_byte(in) % 4 == 0)
            push_headers(L, in);
        else
            lua_pushnil(L);
        n = fz_call(L, 8, "vehicleRequest");
        if (n >= 0)
            check_request(L, top + 1, n, body_kind, top + 1, "vehicleRequest");
        lua_settop(L, top);
    }
    /* tostring and the fields of a (maybe released) Vehicle */
    luaL_tolstring(L, v, NULL);
    lua_getfield(L, v, "id");
    lua_settop(L, base);
}

static const char *const auth_keys[] = {"clientId", "clientSecret", "redirectUri", "mode", "testMode", NULL};
static const char *const url_keys[] = {"forcePrompt", "state", "makeBypass", "singleSelect", "flags", "user", NULL};
static const char *const ss_keys[] = {"enabled", "vin", NULL};
static const char *const token_keys[] = {"flags", NULL};

static void push_scope(lua_State *L, fz_in *in)
{
    unsigned k = fz_byte(in) % 8, n, i;
    if (k == 0) {
        lua_pushnil(L);
        return;
    }
    if (k == 1) {
        fz_push_value(L, in, 1);
        return;
    }
    n = fz_byte(in) % 4;
    lua_newtable(L);
    for (i = 1; i <= n; i++) {
        if (fz_byte(in) % 8)
            fz_push_raw(L, in, 24);
        else
            fz_push_value(L, in, 2);
        lua_rawseti(L, -2, (lua_Integer)i);
    }
}

static void op_auth(lua_State *L, fz_in *in)
{
    int base = lua_gettop(L), a, n, k, calls = 1 + (int)(fz_byte(in) % 3);
    fz_core(L, "newAuthClient");
    push_options(L, in, auth_keys);
    if (lua_istable(L, -1) && (fz_byte(in) & 3)) { /* credentials are required: mostly give them */
        lua_getfield(L, -1, "clientId");
        if (lua_isnil(L, -1)) {
            fz_push_raw(L, in, 16);
            lua_setfield(L, -3, "clientId");
        }
        lua_getfield(L, -2, "clientSecret");
        if (lua_isnil(L, -1)) {
            fz_push_raw(L, in, 16);
            lua_setfield(L, -4, "clientSecret");
        }
        lua_pop(L, 2);
    }
    lua_newtable(L);
    n = fz_call(L, 2, "newAuthClient");
    if (n < 1 || lua_type(L, -1) != LUA_TUSERDATA) {
        lua_settop(L, base);
        return;
    }
    a = lua_gettop(L);
    lua_getfield(L, a, "clientId");
    lua_getfield(L, a, "redirectUri");
    lua_getfield(L, a, "mode");
    lua_settop(L, a);
    for (k = 0; k < calls && in->n > 0; k++) {
        int top = lua_gettop(L);
        unsigned what = fz_byte(in);
        if (what % 16 == 15) {
            lua_getmetatable(L, a);
            lua_getfield(L, -1, (what & 16) ? "__gc" : "__close");
            lua_pushvalue(L, a);
            fz_call(L, 1, "AuthClient.__gc");
            lua_settop(L, top);
        }
        if (what & 1) {
            fz_core(L, "authUrl");
            lua_pushvalue(L, a);
            push_scope(L, in);
            push_options(L, in, url_keys);
            if (lua_istable(L, -1) && fz_byte(in) % 2) {
                push_options(L, in, ss_keys);
                if (lua_istable(L, -1) && fz_byte(in) % 2) {
                    lua_pushboolean(L, fz_byte(in) & 1);
                    lua_setfield(L, -2, "enabled");
                }
                lua_setfield(L, -2, "singleSelect");
            }
            push_origin(L, in);
            n = fz_call(L, 4, "authUrl");
            if (n >= 0) {
                if (n != 1 || lua_type(L, -1) != LUA_TSTRING)
                    fz_die(L, "authUrl returns a string");
                fz_no_breaks(L, -1, "the Connect url");
            }
        } else {
            fz_core(L, "tokenRequest");
            lua_pushvalue(L, a);
            push_stringish(L, in); /* the code or refresh token */
            push_options(L, in, token_keys);
            if (fz_byte(in) % 8 == 0)
                push_checked(L, in, 20);
            else if (fz_byte(in) & 1)
                lua_pushliteral(L, "authorization_code");
            else
                lua_pushliteral(L, "refresh_token");
            push_origin(L, in);
            n = fz_call(L, 5, "tokenRequest");
            if (n >= 0)
                check_request(L, top, n, 1, 0, "tokenRequest");
        }
        lua_settop(L, top);
    }
    lua_settop(L, base);
}

/* The SDK's request descriptions (lua/smartcar/api.lua REQUESTS). */
typedef struct {
    const char *name, *method, *origin, *version, *path, *auth;
    int segment;
    const char *const *query;
} api_spec;
static const char *const q_vehicles[] = {"limit", "offset", NULL};
static const char *const q_compat[] = {"flags", "test_mode_compatibility_level", "mode", "scope", "country", "vin",
                                       NULL};
static const char *const q_matrix[] = {"flags", "mode", "test_mode_compatibility_level", "region", "scope", "make",
                                       "type", NULL};
static const char *const q_connections[] = {"user_id", "vehicle_id", "limit", "cursor", NULL};
static const char *const q_delete[] = {"user_id", "vehicle_id", NULL};
static const api_spec specs[] = {
    {"getUser", "GET", "apiOrigin", NULL, "/user", "bearer", 0, NULL},
    {"getVehicles", "GET", "apiOrigin", NULL, "/vehicles", "bearer", 0, q_vehicles},
    {"getVehicle", "GET", "vehicleOrigin", "3", "/vehicles", "bearer", 2, NULL},
    {"getCompatibility", "GET", "apiOrigin", NULL, "/compatibility", "client", 0, q_compat},
    {"getCompatibilityMatrix", "GET", "apiOrigin", NULL, "/compatibility/matrix", "client", 0, q_matrix},
    {"getConnections", "GET", "managementOrigin", "2.0", "/management/connections", "amt", 0, q_connections},
    {"deleteConnections", "DELETE", "managementOrigin", "2.0", "/management/connections", "amt", 0, q_delete},
};

static void push_names(lua_State *L, const char *const *names)
{
    int i;
    lua_newtable(L);
    for (i = 0; names && names[i]; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

static void op_api(lua_State *L, fz_in *in)
{
    const api_spec *s = &specs[fz_byte(in) % (sizeof specs / sizeof specs[0])];
    int base = lua_gettop(L), n, i, nq = 0;
    fz_core(L, "apiRequest");
    lua_newtable(L); /* 1: the description */
    lua_pushstring(L, s->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, s->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, s->origin);
    lua_setfield(L, -2, "origin");
    if (s->version) {
        lua_pushstring(L, s->version);
        lua_setfield(L, -2, "version");
    }
    lua_pushstring(L, s->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, s->auth);
    lua_setfield(L, -2, "auth");
    if (s->segment) {
        lua_pushinteger(L, s->segment);
        lua_setfield(L, -2, "segment");
    }
    if (s->query) {
        push_names(L, s->query);
        lua_setfield(L, -2, "query");
        while (s->query[nq])
            nq++;
    }
    /* 2: the credential: a token, or options with the client credentials */
    if (strcmp(s->auth, "client") == 0 && fz_byte(in) % 4) {
        push_options(L, in, auth_keys);
    } else {
        push_stringish(L, in);
    }
    lua_newtable(L); /* 3: params */
    if (s->segment) {
        push_stringish(L, in);
        lua_setfield(L, -2, "segment");
    }
    if (fz_byte(in) % 8 == 0) {
        const char *const versions[] = {"2.0", "1.0", "10.25"};
        lua_pushstring(L, versions[fz_byte(in) % 3]);
        lua_setfield(L, -2, "version");
    }
    for (i = 0; i < nq; i++) {
        if (fz_byte(in) % 2) {
            fz_push_value(L, in, 2);
            query_value(L);
            lua_setfield(L, -2, s->query[i]);
        }
    }
    lua_newtable(L); /* 4: config */
    push_origin(L, in);
    lua_setfield(L, -2, "apiOrigin");
    push_origin(L, in);
    lua_setfield(L, -2, "vehicleOrigin");
    push_origin(L, in);
    lua_setfield(L, -2, "managementOrigin");
    lua_pushliteral(L, "2.0");
    lua_setfield(L, -2, "apiVersion");
    if (s->query && fz_byte(in) % 4 == 0) { /* 5: another order of the same names */
        int j;
        lua_newtable(L);
        for (j = 1; j <= nq; j++) {
            lua_pushstring(L, s->query[(j + (int)fz_byte(in)) % nq]);
            lua_rawseti(L, -2, j);
        }
    } else {
        lua_pushnil(L);
    }
    n = fz_call(L, 5, "apiRequest");
    if (n >= 0)
        check_request(L, base, n, 0, 0, "apiRequest");
    lua_settop(L, base);
}

static void op_http(lua_State *L, fz_in *in)
{
    int base = lua_gettop(L), n, body_kind = 0;
    lua_pushnil(L); /* base + 1: a copy of the body argument */
    fz_core(L, "httpRequest");
    push_stringish(L, in); /* method */
    if (fz_byte(in) % 4) { /* url: mostly an origin and raw bytes */
        push_origin(L, in);
        fz_push_raw(L, in, 32);
        lua_concat(L, 2);
    } else {
        push_stringish(L, in);
    }
    push_headers(L, in);
    if (fz_byte(in) % 2) {
        fz_push_raw(L, in, 48);
        lua_pushvalue(L, -1);
        lua_replace(L, base + 1);
        body_kind = 2;
    } else {
        lua_pushnil(L);
    }
    n = fz_call(L, 4, "httpRequest");
    if (n >= 0)
        check_request(L, base + 1, n, body_kind, base + 1, "httpRequest");
    lua_settop(L, base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void (*const ops[])(lua_State *, fz_in *) = {op_escape, op_query, op_flags, op_vehicle,
                                                        op_auth,   op_api,   op_http};
    lua_State *L = FZ_L;
    fz_in in = {data, size};
    int k;
    for (k = 0; k < 12 && in.n > 0; k++)
        ops[fz_byte(&in) % (sizeof ops / sizeof ops[0])](L, &in);
    fz_reset(L);
    return 0;
}
