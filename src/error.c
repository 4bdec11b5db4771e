/* The SmartcarError type (API.md "SmartcarError") and its constructors. */
#include <ctype.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "core.h"

#define SC_BODY_EXCERPT 200
#define SC_MAX_RETRY_AFTER 31536000.0 /* a year: longer waits are not believable */

/* err[to] = src[from] when it is a string */
static void copy_string(lua_State *L, int err, int src, const char *from, const char *to)
{
    lua_getfield(L, src, from);
    if (lua_type(L, -1) == LUA_TSTRING)
        lua_setfield(L, err, to);
    else
        lua_pop(L, 1);
}

static int is_string_field(lua_State *L, int idx, const char *key)
{
    int ok;
    lua_getfield(L, idx, key);
    ok = lua_type(L, -1) == LUA_TSTRING;
    lua_pop(L, 1);
    return ok;
}

/* Seconds to wait from a Retry-After value: delta-seconds or an HTTP date. */
static void set_retry_after(lua_State *L, int err, int hidx)
{
    const char *v;
    double n = -1;
    sc_get_header(L, hidx, "retry-after");
    v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (v != NULL && isdigit((unsigned char)*v)) {
        const char *p = v;
        n = 0;
        while (isdigit((unsigned char)*p) && n <= SC_MAX_RETRY_AFTER)
            n = n * 10 + (*p++ - '0');
        while (isdigit((unsigned char)*p))
            p++;
        if (*p != '\0' && *p != ',') /* a repeated header was joined: its first value counts */
            n = -1;
    } else if (v != NULL) {
        time_t when = curl_getdate(v, NULL), now = time(NULL);
        if (when != (time_t)-1)
            n = when > now ? difftime(when, now) : 0.0;
    }
    lua_pop(L, 1);
    if (n >= 0) {
        sc_pushint(L, n > SC_MAX_RETRY_AFTER ? SC_MAX_RETRY_AFTER : n);
        lua_setfield(L, err, "retryAfter");
    }
}

/* message = "<type>:<code> - <description>" or "<type> - <description>" */
void sc_set_message(lua_State *L, int err)
{
    lua_getfield(L, err, "type");
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "SmartcarError");
    }
    lua_getfield(L, err, "code");
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, " - ");
    } else {
        lua_pushliteral(L, ":");
        lua_insert(L, -2);
        lua_pushliteral(L, " - ");
        lua_concat(L, 3);
    }
    lua_getfield(L, err, "description");
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "(no description)");
    }
    lua_concat(L, 3);
    lua_setfield(L, err, "message");
}

int sc_new_error(lua_State *L, int status)
{
    lua_createtable(L, 0, 12);
    luaL_getmetatable(L, SC_ERROR_MT);
    lua_setmetatable(L, -2);
    lua_pushliteral(L, "SmartcarError");
    lua_setfield(L, -2, "name");
    if (status > 0) {
        sc_pushint(L, status);
        lua_setfield(L, -2, "statusCode");
    }
    return lua_gettop(L);
}

void sc_push_sdk_error(lua_State *L, const char *code, const char *description, int status)
{
    int err = sc_new_error(L, status);
    lua_pushliteral(L, "SDK_ERROR");
    lua_setfield(L, err, "type");
    lua_pushstring(L, code);
    lua_setfield(L, err, "code");
    lua_pushstring(L, description);
    lua_setfield(L, err, "description");
    sc_set_message(L, err);
}

void sc_push_invalid_response(lua_State *L, int status, int hidx, const char *body, size_t len)
{
    int err;
    if (len == 0)
        lua_pushfstring(L, "Unexpected empty response (HTTP %d)", status);
    else
        lua_pushlstring(L, body, len > SC_BODY_EXCERPT ? SC_BODY_EXCERPT : len);
    sc_push_sdk_error(L, "INVALID_RESPONSE", lua_tostring(L, -1), status);
    err = lua_gettop(L);
    sc_get_header(L, hidx, "sc-request-id");
    lua_setfield(L, err, "requestId");
    set_retry_after(L, err, hidx); /* a 429 with an HTML body still says when to come back */
    lua_remove(L, -2);
}

/* A v3 JSON:API errors[1] entry that says something. */
static int v3_entry(lua_State *L, int bidx)
{
    lua_getfield(L, bidx, "errors");
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
        if (lua_type(L, -1) == LUA_TTABLE &&
            (is_string_field(L, -1, "type") || is_string_field(L, -1, "title") || is_string_field(L, -1, "code")))
            return lua_gettop(L);
    }
    lua_pop(L, 1);
    return 0;
}

void sc_push_api_error(lua_State *L, int status, int hidx, int bidx, const char *raw, size_t rawlen)
{
    int err, src = v3_entry(L, bidx);
    if (src == 0) {
        if (!is_string_field(L, bidx, "type") && !is_string_field(L, bidx, "error")) {
            sc_push_invalid_response(L, status, hidx, raw, rawlen);
            return;
        }
        src = bidx;
    }
    err = sc_new_error(L, status);
    if (src != bidx) { /* API V3 (reference/smartcar-api-v3.md 6.1): errors[1], and the whole list */
        lua_Number code;
        copy_string(L, err, src, is_string_field(L, src, "type") ? "type" : "title", "type");
        copy_string(L, err, src, "code", "code");
        copy_string(L, err, src, "title", "title");
        copy_string(L, err, src, is_string_field(L, src, "detail") ? "detail" : "title", "description");
        lua_getfield(L, src, "links");
        if (lua_type(L, -1) == LUA_TTABLE)
            copy_string(L, err, lua_gettop(L), "about", "docURL");
        lua_pop(L, 1);
        lua_getfield(L, src, "meta"); /* meta.debug.requestId */
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_getfield(L, -1, "debug");
            if (lua_type(L, -1) == LUA_TTABLE)
                copy_string(L, err, lua_gettop(L), "requestId", "requestId");
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        /* the entry's status (a string) is the error's: a long-running command's body may say
         * otherwise than its 202 */
        lua_getfield(L, src, "status");
        code = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
        lua_pop(L, 1);
        if (code >= 100 && code <= 999 && code == (lua_Number)(int)code) {
            sc_pushint(L, (int)code);
            lua_setfield(L, err, "statusCode");
        }
        lua_getfield(L, bidx, "errors");
        lua_setfield(L, err, "errors");
    } else if (is_string_field(L, src, "type")) {
        copy_string(L, err, src, "type", "type");
        copy_string(L, err, src, "code", "code");
        copy_string(L, err, src, "description", "description");
        copy_string(L, err, src, "docURL", "docURL");
        lua_getfield(L, src, "detail");
        lua_setfield(L, err, "detail");
    } else { /* v1.0 and OAuth: {error, message | error_description, code?} */
        copy_string(L, err, src, "error", "type");
        copy_string(L, err, src, "code", "code");
        copy_string(L, err, src, is_string_field(L, src, "error_description") ? "error_description" : "message",
                    "description");
    }
    copy_string(L, err, src, "suggestedUserMessage", "suggestedUserMessage");
    lua_getfield(L, src, "resolution");
    if (lua_type(L, -1) == LUA_TSTRING) { /* older API: a bare string */
        lua_createtable(L, 0, 1);
        lua_insert(L, -2);
        lua_setfield(L, -2, "type");
    }
    if (lua_type(L, -1) == LUA_TTABLE)
        lua_setfield(L, err, "resolution");
    else
        lua_pop(L, 1);
    copy_string(L, err, bidx, "requestId", "requestId");
    lua_getfield(L, err, "requestId");
    if (lua_isnil(L, -1)) {
        sc_get_header(L, hidx, "sc-request-id");
        if (lua_type(L, -1) == LUA_TSTRING)
            lua_setfield(L, err, "requestId");
        else
            lua_pop(L, 1);
    }
    lua_pop(L, 1);
    set_retry_after(L, err, hidx);
    sc_set_message(L, err);
    if (src != bidx)
        lua_remove(L, src);
}

/* core.sdkError(code, description[, statusCode]) */
static int l_sdk_error(lua_State *L)
{
    lua_Number status = luaL_optnumber(L, 3, 0);
    sc_push_sdk_error(L, luaL_checkstring(L, 1), luaL_checkstring(L, 2),
                      status >= 100 && status <= 999 ? (int)status : 0);
    return 1;
}

static int error_tostring(lua_State *L)
{
    lua_getfield(L, 1, "message");
    if (!lua_isstring(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "SmartcarError");
    }
    return 1;
}

static int error_is(lua_State *L)
{
    int is = 0;
    if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, SC_ERROR_MT);
        is = lua_rawequal(L, -1, -2);
    }
    lua_pushboolean(L, is);
    return 1;
}

/* module.SmartcarError = the metatable; module.sdkError */
void sc_error_open(lua_State *L)
{
    luaL_newmetatable(L, SC_ERROR_MT);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, error_is);
    lua_setfield(L, -2, "is");
    lua_pushliteral(L, "SmartcarError");
    lua_setfield(L, -2, "__name");
    lua_setfield(L, -2, "SmartcarError");
    lua_pushcfunction(L, l_sdk_error);
    lua_setfield(L, -2, "sdkError");
}
