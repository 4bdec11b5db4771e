/* Internal interface between the C files of smartcar.core. */
#ifndef SMARTCAR_CORE_H
#define SMARTCAR_CORE_H

#include <stddef.h>
#include "compat.h"

#define SC_VERSION "0.1.0"

#define SC_VEHICLE_MT "smartcar.Vehicle"
#define SC_AUTH_MT "smartcar.AuthClient"
#define SC_SESSION_MT "smartcar.Session"
#define SC_ERROR_MT "smartcar.SmartcarError"

/* Registry keys (addresses of these statics are unique per process; the
 * values they index live in each lua_State's own registry). */
extern const char sc_key_decode;
extern const char sc_key_encode;
extern const char sc_key_null;

/* options.c: raise "unknown option 'x' to 'fname'" for keys not in `keys`. */
void sc_check_options(lua_State *L, int idx, const char *fname, const char *const keys[]);
/* Optional string field of an options table (nil when absent); raises on a wrong type. */
const char *sc_opt_string(lua_State *L, int idx, const char *key, const char *fname);
/* Raise "bad argument #n to 'fname' (string expected, got x)" unless a string. */
void sc_check_arg_string(lua_State *L, int arg, const char *fname);
/* Same for an optional options table. */
void sc_check_arg_options(lua_State *L, int arg, const char *fname);
/* Copy a Lua string into malloc'd memory; raises on allocation failure. */
char *sc_strdup(lua_State *L, const char *s, size_t len);
/* Overwrite then free a secret. */
void sc_free_secret(char *s);

/* url.c */
void sc_add_escaped(luaL_Buffer *b, const char *s, size_t len);
/* Append "&name=value" (escaped value; no '&' when first). */
void sc_add_param(luaL_Buffer *b, int *first, const char *name, const char *value, size_t len);
/* Push the "k:v k:v" string of a flags table (keys sorted), or nil when idx is nil. */
void sc_push_flags(lua_State *L, int idx, const char *fname);
void sc_push_escaped(lua_State *L, const char *s, size_t len);
/* The User-Agent string, pushed. */
void sc_push_user_agent(lua_State *L);
extern const luaL_Reg sc_url_functions[];     /* escape, query, flags, base64 */
/* Push base64(s). */
void sc_push_base64(lua_State *L, const char *s, size_t len);

/* json.c */
void sc_json_open(lua_State *L);
/* Decode s; on success push the value (nulls removed, whole numbers as
 * integers on 5.3+) and return 1; on failure push nothing and return 0. */
int sc_json_decode(lua_State *L, const char *s, size_t len);
/* Push the compact JSON encoding of the value at idx. */
void sc_json_encode(lua_State *L, int idx);
extern const luaL_Reg sc_json_functions[];    /* decode, encode */

/* response.c */
void sc_response_open(lua_State *L);
/* Push a SmartcarError for an SDK failure. */
void sc_push_sdk_error(lua_State *L, const char *code, const char *description, int status);

/* http.c, vehicle.c, auth_client.c, webhook.c, response.c register into the module table on top. */
void sc_http_open(lua_State *L);
void sc_vehicle_open(lua_State *L);
void sc_auth_open(lua_State *L);
extern const luaL_Reg sc_webhook_functions[]; /* hmacSha256Hex, equals */

/* A userdata type exposed to Lua: a class table (its methods; the Lua layer adds
 * more) and a metatable whose __index finds methods first, then readable fields. */
typedef struct {
    const char *name;                     /* "Vehicle": the module field and __name */
    const char *mt;                       /* registry name of the metatable */
    const luaL_Reg *methods;
    const char *const *fields;            /* readable string fields, NULL-terminated */
    const char *(*field)(void *self, int i); /* value of fields[i]; NULL reads as nil */
    lua_CFunction gc, tostring;
} sc_class;

/* Create the class and store its class table in the module table on top. */
void sc_new_class(lua_State *L, const sc_class *c);

#endif
