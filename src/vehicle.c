/* The Vehicle userdata: one vehicle and its credentials; only its unit system changes. */
#include <stdlib.h>
#include <string.h>
#include "core.h"

static const char *const vehicle_options[] = {"unitSystem", "version", "flags", NULL};
static const char *const vehicle_fields[] = {"id", "unitSystem", "version", NULL};

static const char *vehicle_field(void *self, int i)
{
    const sc_vehicle *v = self;
    return i == 0 ? v->id : i == 1 ? v->unit : v->version;
}

static int vehicle_gc(lua_State *L)
{
    sc_vehicle *v = luaL_checkudata(L, 1, SC_VEHICLE_MT);
    free(v->id);
    free(v->segment);
    sc_free_secret(v->bearer);
    free(v->unit);
    free(v->version);
    free(v->flags);
    if (v->flags_ref > 0)
        luaL_unref(L, LUA_REGISTRYINDEX, v->flags_ref);
    if (v->headers > 0)
        luaL_unref(L, LUA_REGISTRYINDEX, v->headers);
    if (v->urls > 0)
        luaL_unref(L, LUA_REGISTRYINDEX, v->urls);
    free(v->urls_origin);
    memset(v, 0, sizeof *v);
    return 0;
}

static int vehicle_tostring(lua_State *L)
{
    sc_vehicle *v = luaL_checkudata(L, 1, SC_VEHICLE_MT);
    lua_pushfstring(L, "Vehicle (%s)", v->id ? v->id : "released");
    return 1;
}

static const sc_class vehicle_class = {
    "Vehicle", SC_VEHICLE_MT, NULL, vehicle_fields, vehicle_field, vehicle_gc, vehicle_tostring
};

sc_vehicle *sc_check_vehicle(lua_State *L, int idx)
{
    sc_vehicle *v = sc_check_object(L, idx, &vehicle_class, NULL);
    if (v->id == NULL)
        sc_raise(L, "attempt to use a released Vehicle");
    return v;
}

/* The unit systems Smartcar speaks: the string itself when it is one, else NULL. */
static const char *unit_system(const char *s)
{
    return strcmp(s, "metric") == 0 || strcmp(s, "imperial") == 0 ? s : NULL;
}

#define SC_UNIT_EXPECTED "expected 'metric' or 'imperial', got %s"

/* vehicle.flags: a new copy of the flags given to Vehicle.new ({} when none), so that
 * changing it changes nothing. */
static int vehicle_flags(lua_State *L)
{
    sc_vehicle *v = luaL_checkudata(L, 1, SC_VEHICLE_MT);
    if (v->id == NULL)
        return 0; /* released: nil, like the other fields */
    lua_newtable(L);
    if (v->flags_ref > 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, v->flags_ref);
        sc_merge(L, -1, -2);
        lua_pop(L, 1);
    }
    return 1;
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

static char *dup_at(lua_State *L, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return s ? sc_strdup(L, s, len) : NULL;
}

/* core.newVehicle(id, accessToken, options, class, defaultVersion): the
 * instance's Vehicle.new passes its class table and its API version. */
static int vehicle_new(lua_State *L)
{
    static const char fname[] = "Vehicle.new";
    const char *unit = "metric", *version, *s;
    size_t idlen;
    sc_vehicle *v;

    sc_check_string(L, 1, 1, fname, 1, &idlen);
    sc_check_string(L, 2, 2, fname, 1, NULL);
    version = luaL_checkstring(L, 5);
    if (sc_check_table(L, 3, 3, fname)) {
        sc_check_keys(L, 3, fname, vehicle_options);
        if ((s = sc_opt_string(L, 3, "unitSystem", fname)) != NULL) {
            if ((unit = unit_system(s)) == NULL)
                return sc_option_error(L, "unitSystem", fname, SC_UNIT_EXPECTED, sc_shown(L, s, strlen(s)));
        }
        if ((s = sc_opt_string(L, 3, "version", fname)) != NULL)
            version = s;
    }
    if (!valid_version(version))
        return sc_option_error(L, "version", fname, "expected a version such as '2.0', got %s",
                               sc_shown(L, version, strlen(version)));
    /* Everything that can raise on bad input is checked before allocating. */
    lua_settop(L, 5);
    if (lua_istable(L, 3)) {
        sc_rawfield(L, 3, "flags");
        sc_push_flags(L, -1, fname);
        lua_remove(L, -2);
    } else {
        lua_pushnil(L);
    } /* 6: flags string or nil */
    if (!lua_isnil(L, 6)) {
        size_t len;
        const char *f = lua_tolstring(L, 6, &len);
        sc_push_escaped(L, f, len);
        lua_replace(L, 6);
    }
    sc_push_escaped(L, lua_tostring(L, 1), idlen);       /* 7 */
    lua_pushfstring(L, "Bearer %s", lua_tostring(L, 2)); /* 8 */
    lua_pushstring(L, unit);                             /* 9 */
    lua_pushstring(L, version);                          /* 10 */
    lua_newtable(L);                                     /* 11: the flags kept for vehicle.flags */
    if (!lua_isnil(L, 6)) {
        sc_rawfield(L, 3, "flags"); /* checked by sc_push_flags: string names, scalar values */
        sc_merge(L, -1, 11);
        lua_pop(L, 1);
    }

    v = sc_new_object(L, &vehicle_class, sizeof *v, 4);
    v->id = dup_at(L, 1);
    v->segment = dup_at(L, 7);
    v->bearer = dup_at(L, 8);
    v->unit = dup_at(L, 9);
    v->version = dup_at(L, 10);
    v->flags = dup_at(L, 6);
    if (v->flags != NULL) {
        lua_pushvalue(L, 11);
        v->flags_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 1;
}

/* The headers cached for body-less requests are built again at the next request
 * (the URLs depend on neither the token nor the unit system). */
static void drop_headers(lua_State *L, sc_vehicle *v)
{
    if (v->headers > 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, v->headers);
        v->headers = 0;
    }
}

/* core.setVehicleToken(vehicle, token): later requests carry the new access token
 * (a vehicle that keeps itself authorized, after a refresh). */
static int vehicle_set_token(lua_State *L)
{
    static const char fname[] = "setVehicleToken";
    sc_vehicle *v = sc_check_vehicle(L, 1);
    char *bearer;
    sc_check_string(L, 2, 1, fname, 1, NULL);
    lua_pushliteral(L, "Bearer ");
    lua_pushvalue(L, 2);
    lua_concat(L, 2);
    bearer = dup_at(L, 3);
    sc_free_secret(v->bearer);
    v->bearer = bearer;
    drop_headers(L, v);
    return 0;
}

/* core.checkVehicle(self, method): raise in the SDK's style unless self is a live Vehicle
 * (for the methods written in Lua that reach C only later, such as eachPermission). */
static int vehicle_check(lua_State *L)
{
    sc_vehicle *v = sc_check_object(L, 1, &vehicle_class, luaL_checkstring(L, 2));
    if (v->id == NULL)
        sc_raise(L, "attempt to use a released Vehicle");
    return 0;
}

/* core.setUnitSystem(vehicle, unit): later requests send the new sc-unit-system. */
static int vehicle_set_unit(lua_State *L)
{
    static const char fname[] = "setUnitSystem";
    sc_vehicle *v = sc_check_vehicle(L, 1);
    size_t len;
    const char *s = sc_check_string(L, 2, 1, fname, 1, &len);
    char *unit;
    if (unit_system(s) == NULL)
        return sc_arg_error(L, 1, fname, SC_UNIT_EXPECTED, sc_shown(L, s, len));
    unit = sc_strdup(L, s, len);
    free(v->unit);
    v->unit = unit;
    drop_headers(L, v);
    return 0;
}

const luaL_Reg sc_vehicle_functions[] = {
    {"newVehicle", vehicle_new}, {"setUnitSystem", vehicle_set_unit}, {"setVehicleToken", vehicle_set_token},
    {"checkVehicle", vehicle_check}, {NULL, NULL}
};

void sc_vehicle_open(lua_State *L)
{
    sc_new_class(L, &vehicle_class);
    lua_pop(L, 1); /* each SDK instance makes its own class table */
    sc_add_getter(L, &vehicle_class, "flags", vehicle_flags);
}
