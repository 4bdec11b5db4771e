/* The Vehicle userdata: an immutable description of one vehicle and its
 * credentials, and the builder of its requests (the hot path). */
#include <stdlib.h>
#include <string.h>
#include "core.h"

typedef struct {
    char *id;       /* as given */
    char *segment;  /* id percent-encoded for the path */
    char *bearer;   /* "Bearer <token>": a secret */
    char *unit;     /* "metric" | "imperial" */
    char *version;  /* "2.0" */
    char *flags;    /* "k:v k:v" percent-encoded, or NULL */
} sc_vehicle;

static const char *const vehicle_options[] = {"unitSystem", "version", "flags", NULL};

static void vehicle_release(sc_vehicle *v)
{
    free(v->id);
    free(v->segment);
    sc_free_secret(v->bearer);
    free(v->unit);
    free(v->version);
    free(v->flags);
    memset(v, 0, sizeof *v);
}

static int vehicle_gc(lua_State *L)
{
    vehicle_release(luaL_checkudata(L, 1, SC_VEHICLE_MT));
    return 0;
}

static char *dup_top(lua_State *L)
{
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    char *p = sc_strdup(L, s, len);
    lua_pop(L, 1);
    return p;
}

static int valid_version(const char *s)
{
    int dots = 0, digits = 0;
    for (; *s; s++) {
        if (*s == '.')
            dots++;
        else if (*s >= '0' && *s <= '9')
            digits++;
        else
            return 0;
    }
    return digits > 0 && dots <= 1;
}

/* Vehicle.new(id, accessToken[, options], defaultVersion) -- the Lua layer passes the default version */
static int vehicle_new(lua_State *L)
{
    static const char fname[] = "Vehicle.new";
    const char *unit = "metric", *version;
    sc_vehicle *v;
    size_t idlen;

    sc_check_arg_string(L, 1, fname);
    sc_check_arg_string(L, 2, fname);
    sc_check_arg_options(L, 3, fname);
    if (lua_tolstring(L, 1, &idlen), idlen == 0)
        return luaL_error(L, "bad argument #1 to '%s' (vehicle id must not be empty)", fname);
    if (sc_rawlen(L, 2) == 0)
        return luaL_error(L, "bad argument #2 to '%s' (access token must not be empty)", fname);
    if (strpbrk(lua_tostring(L, 2), "\r\n"))
        return luaL_error(L, "bad argument #2 to '%s' (access token must not contain line breaks)", fname);
    version = luaL_optstring(L, 4, "2.0");
    if (lua_istable(L, 3)) {
        const char *s;
        sc_check_options(L, 3, fname, vehicle_options);
        if ((s = sc_opt_string(L, 3, "unitSystem", fname)) != NULL) {
            if (strcmp(s, "metric") != 0 && strcmp(s, "imperial") != 0)
                return luaL_error(L, "bad option 'unitSystem' to '%s' (expected 'metric' or 'imperial', got '%s')",
                                  fname, s);
            unit = s;
        }
        if ((s = sc_opt_string(L, 3, "version", fname)) != NULL)
            version = s;
    }
    if (!valid_version(version))
        return luaL_error(L, "bad option 'version' to '%s' (expected a version such as '2.0', got '%s')",
                          fname, version);
    /* Everything that can raise on bad input is checked before allocating. */
    lua_settop(L, 4);
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "flags");
        sc_push_flags(L, -1, fname);
        lua_remove(L, -2);
    } else {
        lua_pushnil(L);
    }                                                      /* 5: flags string or nil */
    if (!lua_isnil(L, 5)) {
        size_t len;
        const char *f = lua_tolstring(L, 5, &len);
        sc_push_escaped(L, f, len);
        lua_replace(L, 5);
    }
    sc_push_escaped(L, lua_tostring(L, 1), idlen);         /* 6 */
    lua_pushfstring(L, "Bearer %s", lua_tostring(L, 2));   /* 7 */
    lua_pushstring(L, unit);                               /* 8 */
    lua_pushstring(L, version);                            /* 9 */

    v = sc_newuserdata(L, sizeof *v);
    memset(v, 0, sizeof *v);
    luaL_getmetatable(L, SC_VEHICLE_MT);
    lua_setmetatable(L, -2); /* __gc is safe on a partly filled struct */
    lua_pushvalue(L, 1);
    v->id = dup_top(L);
    lua_pushvalue(L, 6);
    v->segment = dup_top(L);
    lua_pushvalue(L, 7);
    v->bearer = dup_top(L);
    lua_pushvalue(L, 8);
    v->unit = dup_top(L);
    lua_pushvalue(L, 9);
    v->version = dup_top(L);
    if (!lua_isnil(L, 5)) {
        lua_pushvalue(L, 5);
        v->flags = dup_top(L);
    }
    return 1;
}

static sc_vehicle *check_vehicle(lua_State *L)
{
    sc_vehicle *v = luaL_checkudata(L, 1, SC_VEHICLE_MT);
    if (v->id == NULL)
        luaL_error(L, "attempt to use a released Vehicle");
    return v;
}

/* vehicle:_build(origin, path[, body[, query[, version]]])
 *   --> url, headers, body
 * url = origin/v<version>/vehicles/<id><path>[?query][&flags=...]; body tables are JSON-encoded. */
static int vehicle_build(lua_State *L)
{
    sc_vehicle *v = check_vehicle(L);
    size_t olen, plen, qlen = 0;
    const char *origin = luaL_checklstring(L, 2, &olen);
    const char *path = luaL_checklstring(L, 3, &plen);
    const char *query = luaL_optlstring(L, 5, NULL, &qlen);
    const char *version = luaL_optstring(L, 6, v->version);
    luaL_Buffer b;
    int has_body = !lua_isnoneornil(L, 4);

    lua_settop(L, 6);
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
    luaL_pushresult(&b);                 /* 7: url */

    lua_createtable(L, 0, 4);            /* 8: headers */
    lua_pushstring(L, v->bearer);
    lua_setfield(L, 8, "authorization");
    lua_pushstring(L, v->unit);
    lua_setfield(L, 8, "sc-unit-system");
    sc_push_user_agent(L);
    lua_setfield(L, 8, "user-agent");
    if (has_body) {
        lua_pushliteral(L, "application/json");
        lua_setfield(L, 8, "content-type");
        if (lua_type(L, 4) == LUA_TSTRING)
            lua_pushvalue(L, 4);
        else
            sc_json_encode(L, 4);
    } else {
        lua_pushnil(L);
    }
    return 3;
}

static const char *const vehicle_fields[] = {"id", "unitSystem", "version", NULL};

static const char *vehicle_field(void *self, int i)
{
    const sc_vehicle *v = self;
    return i == 0 ? v->id : i == 1 ? v->unit : v->version;
}

static int vehicle_tostring(lua_State *L)
{
    sc_vehicle *v = luaL_checkudata(L, 1, SC_VEHICLE_MT);
    lua_pushfstring(L, "Vehicle (%s)", v->id ? v->id : "released");
    return 1;
}

void sc_vehicle_open(lua_State *L)
{
    static const luaL_Reg methods[] = {{"new", vehicle_new}, {"_build", vehicle_build}, {NULL, NULL}};
    /* the Lua layer adds the endpoint methods to the class table */
    static const sc_class vehicle_class = {
        "Vehicle", SC_VEHICLE_MT, methods, vehicle_fields, vehicle_field, vehicle_gc, vehicle_tostring
    };
    sc_new_class(L, &vehicle_class);
}
