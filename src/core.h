/* Internal interface between the C files of smartcar.core, one section per file.
 * The seam (DESIGN.md): C builds every request as method, url, headers, body and
 * parses every answer; Lua owns configuration, the transport and scheduling. */
#ifndef SMARTCAR_CORE_H
#define SMARTCAR_CORE_H

#include <stddef.h>
#include "compat.h"

#define SC_VERSION "0.2.0"

#define SC_VEHICLE_MT "smartcar.Vehicle"
#define SC_AUTH_MT "smartcar.AuthClient"
#define SC_SESSION_MT "smartcar.Session"
#define SC_ERROR_MT "smartcar.SmartcarError"

/* The result shapes of core.parse (exported as core.DATA, core.BODY, ...). */
enum sc_shape {
    SC_DATA = 1, /* v1/v2 result + meta; a JSON array becomes {data=, meta=} */
    SC_BODY,     /* {body=, meta=} (vehicle:request) */
    SC_V3,       /* {body=, headers=} */
    SC_JSON,     /* the decoded body */
    SC_BATCH,    /* a list of {path=, result=} | {path=, error=} */
    SC_HTTP      /* {status=, headers=, body=} for any status, body undecoded */
};

/* class.c: a userdata type with a class table of methods. Objects carry their
 * class table as their user value (one per SDK instance), so methods are found
 * there; readable fields come next. */
typedef struct {
    const char *name;                        /* "Vehicle": the module field and __name */
    const char *mt;                          /* registry name of the metatable */
    const luaL_Reg *methods;                 /* the default class table's C methods */
    const char *const *fields;               /* readable string fields, NULL-terminated */
    const char *(*field)(void *self, int i); /* value of fields[i]; NULL reads as nil */
    lua_CFunction gc, tostring;
} sc_class;
/* Create the metatable; push a default class table holding c->methods. */
void sc_new_class(lua_State *L, const sc_class *c);
/* The object of the class at idx, else raise "calling 'm' on bad self (...)"; method
 * may be NULL: then it is the name the calling Lua function was called by. */
void *sc_check_object(lua_State *L, int idx, const sc_class *c, const char *method);
/* Push a new zeroed userdata of the class, its user value the class table at cls. */
void *sc_new_object(lua_State *L, const sc_class *c, size_t size, int cls);
/* A readable field computed by getter(self) (one value), for what a string field cannot
 * hold; looked up only after the methods and the string fields. */
/* Copy every field of the table at `from` into the table at `to` (raw). */
void sc_merge(lua_State *L, int from, int to);
void sc_add_getter(lua_State *L, const sc_class *c, const char *key, lua_CFunction getter);

/* check.c: argument checks and the one message style. Every error raised for a
 * programmer mistake points at the first caller outside the SDK. */
int sc_raise(lua_State *L, const char *fmt, ...);
int sc_arg_error(lua_State *L, int arg, const char *fname, const char *fmt, ...);
int sc_option_error(lua_State *L, const char *key, const char *fname, const char *fmt, ...);
/* A string argument: non-empty, no NUL byte; also no CR/LF when `line` is set. */
const char *sc_check_string(lua_State *L, int idx, int arg, const char *fname, int line, size_t *len);
/* Push and return `s` quoted for a message: at most 40 bytes, control characters as '?'. */
const char *sc_shown(lua_State *L, const char *s, size_t len);
/* nil or a table, else raise "bad argument #arg". */
int sc_check_table(lua_State *L, int idx, int arg, const char *fname);
/* Raise "unknown option 'x' to 'fname'" for keys not in `keys` (NULL-terminated). */
void sc_check_keys(lua_State *L, int idx, const char *fname, const char *const keys[]);
/* Push t[key] of the table at idx without metamethods: options are read raw, so a string
 * read stays alive in the table (a proxy could hand out strings nothing else holds). */
void sc_rawfield(lua_State *L, int idx, const char *key);
/* Optional string field of an options table (NULL when absent); raises on another type. */
const char *sc_opt_string(lua_State *L, int idx, const char *key, const char *fname);
/* An option, else the environment variable, else (when required) raise naming both. */
const char *sc_option_or_env(lua_State *L, int idx, const char *key, const char *env, const char *fname,
                             int required);
/* Sets kept in the registry under a static's address: value -> true (mode: a __mode, or NULL). */
int sc_set_has(lua_State *L, const void *key, int idx);
void sc_set_add(lua_State *L, const void *key, int idx, const char *mode);
/* Copy into malloc'd memory (raises on allocation failure); overwrite then free a secret. */
char *sc_strdup(lua_State *L, const char *s, size_t len);
void sc_free_secret(char *s);
extern const luaL_Reg sc_check_functions[];

/* url.c: percent-encoding with Node's querystring set, query strings, flags. */
void sc_add_escaped(luaL_Buffer *b, const char *s, size_t len);
/* Append "name=value" (value escaped), preceded by '&' unless *first. */
void sc_add_param(luaL_Buffer *b, int *first, const char *name, const char *value, size_t len);
/* Push the query string of the parameters at params named by the list at order, in that order. */
void sc_push_query(lua_State *L, int params, int order, const char *fname);
/* Push the "k:v k:v" string of a flags table (names sorted), or nil when idx is nil. */
void sc_push_flags(lua_State *L, int idx, const char *fname);
void sc_push_escaped(lua_State *L, const char *s, size_t len);
extern const luaL_Reg sc_url_functions[];
/* clock.c: core.now (monotonic ms) and core.sleep(ms) */
extern const luaL_Reg sc_clock_functions[];

/* crypto.c */
void sc_push_base64(lua_State *L, const char *s, size_t len);
extern const luaL_Reg sc_crypto_functions[];

/* json.c: the core's own JSON; JSON null becomes nil, whole numbers integers. */
/* Decode the string at idx: push the value and return 1, or push nothing and return 0. */
int sc_json_decode(lua_State *L, int idx);
/* Push the encoding of the value at idx and return 1, or push why it cannot be and return 0. */
int sc_json_try_encode(lua_State *L, int idx);
extern const luaL_Reg sc_json_functions[];

/* core.c */
void sc_push_user_agent(lua_State *L);

/* error.c: the SmartcarError type. */
void sc_error_open(lua_State *L);
int sc_new_error(lua_State *L, int status);
void sc_set_message(lua_State *L, int err);
void sc_push_sdk_error(lua_State *L, const char *code, const char *description, int status);
/* The error of an API answer whose body decoded to the table at bidx (headers at hidx). */
void sc_push_api_error(lua_State *L, int status, int hidx, int bidx, const char *raw, size_t rawlen);
/* An answer that cannot be read: keeps the status and the start of the body. */
void sc_push_invalid_response(lua_State *L, int status, int hidx, const char *body, size_t len);

/* headers.c: response headers, a table or the raw header block (a string). */
/* Push the value of header `name` (lower case), or nil; hidx may be 0 for none. */
void sc_get_header(lua_State *L, int hidx, const char *name);
/* t[fields[i]] = the value of header names[i], for the n (at most 8) names found, in
 * one pass over a raw block; the table is at tidx, hidx may be 0 for none. */
void sc_copy_headers(lua_State *L, int hidx, const char *const names[], const char *const fields[], int n,
                     int tidx);
/* Push the headers at hidx as a table {lower-cased name = value} (a table as it is). */
void sc_push_header_table(lua_State *L, int hidx);

/* response.c */
extern const luaL_Reg sc_response_functions[];
void sc_response_open(lua_State *L);

/* vehicle.c and auth_client.c: the userdata. request.c reads them. */
typedef struct {
    char *id;      /* as given */
    char *segment; /* id percent-encoded for the path */
    char *bearer;  /* "Bearer <token>": a secret */
    char *unit;    /* "metric" | "imperial" */
    char *version; /* "2.0" */
    char *flags;   /* "k:v k:v" percent-encoded, or NULL */
    int flags_ref; /* registry ref of a private copy of the flags table (0: none given) */
    int headers;   /* registry ref of the headers of a request without a body (0: not yet) */
    int urls;      /* registry ref of {path = url} for urls_origin (0: none yet) */
    int nurls;     /* entries in it, bounded */
    char *urls_origin;
} sc_vehicle;
typedef struct {
    char *client_id;
    char *redirect_uri; /* may be NULL */
    char *mode;
    char *basic;        /* "Basic base64(id:secret)": a secret */
} sc_auth;
sc_vehicle *sc_check_vehicle(lua_State *L, int idx);
sc_auth *sc_check_auth(lua_State *L, int idx, const char *method);
extern const luaL_Reg sc_vehicle_functions[];
extern const luaL_Reg sc_auth_functions[];
void sc_vehicle_open(lua_State *L);
void sc_auth_open(lua_State *L);

/* request.c: every request's method, url, headers, body. */
/* Whether the table at idx is one of the SDK's headers tables that never change. */
int sc_is_frozen(lua_State *L, int idx);
extern const luaL_Reg sc_request_functions[];

/* http.c: the libcurl engine (Session). */
void sc_http_open(lua_State *L);

#endif
