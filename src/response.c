/* Responses to results, failures to SmartcarErrors (API.md "SmartcarError"). */
#include <ctype.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "core.h"

#define SC_BODY_EXCERPT 200

static const char *const meta_keys[][2] = {
    {"sc-request-id", "requestId"},
    {"sc-data-age", "dataAge"},
    {"sc-fetched-at", "fetchedAt"},
    {"sc-unit-system", "unitSystem"},
};

/* Push a header's value (or nil); headers table at hidx, which may be 0 for none. */
static void get_header(lua_State *L, int hidx, const char *name)
{
    if (hidx == 0 || lua_type(L, hidx) != LUA_TTABLE)
        lua_pushnil(L);
    else
        lua_getfield(L, hidx, name);
}

static void push_meta(lua_State *L, int hidx)
{
    size_t i;
    lua_createtable(L, 0, 4);
    for (i = 0; i < sizeof meta_keys / sizeof meta_keys[0]; i++) {
        get_header(L, hidx, meta_keys[i][0]);
        if (lua_isnil(L, -1))
            lua_pop(L, 1);
        else
            lua_setfield(L, -2, meta_keys[i][1]);
    }
}

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
    get_header(L, hidx, "retry-after");
    v = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (v == NULL)
        return;
    if (isdigit((unsigned char)*v)) {
        const char *p = v;
        double n = 0;
        while (isdigit((unsigned char)*p))
            n = n * 10 + (*p++ - '0');
        if (*p == '\0') {
            sc_pushint(L, n);
            lua_setfield(L, err, "retryAfter");
        }
    } else {
        time_t when = curl_getdate(v, NULL), now = time(NULL);
        if (when != (time_t)-1) {
            sc_pushint(L, when > now ? (double)(when - now) : 0.0);
            lua_setfield(L, err, "retryAfter");
        }
    }
}

/* message = "<type>:<code> - <description>" or "<type> - <description>" */
static void set_message(lua_State *L, int err)
{
    lua_getfield(L, err, "type");
    lua_getfield(L, err, "code");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, " - ");
    } else {
        lua_pushliteral(L, ":");
        lua_insert(L, -2);
        lua_pushliteral(L, " - ");
        lua_concat(L, 3);
    }
    lua_getfield(L, err, "description");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "(no description)");
    }
    lua_concat(L, 3);
    lua_setfield(L, err, "message");
}

static int new_error(lua_State *L, int status)
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
    int err = new_error(L, status);
    lua_pushliteral(L, "SDK_ERROR");
    lua_setfield(L, err, "type");
    lua_pushstring(L, code);
    lua_setfield(L, err, "code");
    lua_pushstring(L, description);
    lua_setfield(L, err, "description");
    set_message(L, err);
}

/* An answer we cannot read: keep the status and the start of the body. */
static void push_invalid_response(lua_State *L, int status, int hidx, const char *body, size_t len)
{
    int err;
    if (len == 0) {
        lua_pushfstring(L, "Unexpected empty response (HTTP %d)", status);
    } else {
        lua_pushlstring(L, body, len > SC_BODY_EXCERPT ? SC_BODY_EXCERPT : len);
    }
    sc_push_sdk_error(L, "INVALID_RESPONSE", lua_tostring(L, -1), status);
    err = lua_gettop(L);
    get_header(L, hidx, "sc-request-id");
    lua_setfield(L, err, "requestId");
    lua_remove(L, -2);
}

/* Build the error of an API answer; body (decoded table) at bidx. */
static void push_api_error(lua_State *L, int status, int hidx, int bidx, const char *raw, size_t rawlen)
{
    int err, src = bidx;
    lua_getfield(L, bidx, "errors");
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
    }
    if (lua_type(L, -1) == LUA_TTABLE) {
        src = lua_gettop(L); /* v3: JSON:API errors[1] */
    } else {
        lua_pop(L, 1);
        if (!is_string_field(L, bidx, "type") && !is_string_field(L, bidx, "error")) {
            push_invalid_response(L, status, hidx, raw, rawlen);
            return;
        }
    }
    err = new_error(L, status);
    if (src != bidx) {
        copy_string(L, err, src, is_string_field(L, src, "type") ? "type" : "title", "type");
        copy_string(L, err, src, "code", "code");
        copy_string(L, err, src, is_string_field(L, src, "detail") ? "detail" : "title", "description");
        lua_getfield(L, src, "links");
        if (lua_type(L, -1) == LUA_TTABLE)
            copy_string(L, err, lua_gettop(L), "about", "docURL");
        lua_pop(L, 1);
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
        get_header(L, hidx, "sc-request-id");
        lua_setfield(L, err, "requestId");
    }
    lua_pop(L, 1);
    set_retry_after(L, err, hidx);
    set_message(L, err);
    if (src != bidx)
        lua_remove(L, src);
}

/* Replace the value on top with {key = value}. */
static void wrap(lua_State *L, const char *key)
{
    lua_createtable(L, 0, 2);
    lua_insert(L, -2);
    lua_setfield(L, -2, key);
}

static int is_array_text(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    return i < len && s[i] == '[';
}

/* core.parse(shape, status, headers, body)
 *   shape: "data" (v1/v2 result with meta; a JSON array becomes {data=, meta=}),
 *          "raw" ({body=, meta=}), "v3" ({body=, headers=}), "json" (the decoded body)
 *   status nil: the transport failed, headers is the SDK error code and body the message.
 * --> result | nil, SmartcarError */
static int l_parse(lua_State *L)
{
    const char *shape = luaL_checkstring(L, 1);
    size_t len;
    const char *body;
    int status;

    if (lua_isnil(L, 2)) {
        const char *code = luaL_optstring(L, 3, "NETWORK");
        lua_pushnil(L);
        sc_push_sdk_error(L, code, luaL_optstring(L, 4, "Request failed"), strcmp(code, "TIMEOUT") == 0 ? 408 : 0);
        return 2;
    }
    status = (int)luaL_checknumber(L, 2);
    body = luaL_optlstring(L, 4, "", &len);
    lua_settop(L, 4);
    if (status < 200 || status > 299) {
        lua_pushnil(L);
        if (len > 0 && sc_json_decode(L, body, len) && lua_type(L, 6) == LUA_TTABLE) {
            push_api_error(L, status, 3, 6, body, len);
            lua_remove(L, 6);
        } else {
            lua_settop(L, 5);
            push_invalid_response(L, status, 3, body, len);
        }
        return 2;
    }
    if (len == 0) {
        lua_newtable(L);
    } else if (!sc_json_decode(L, body, len)) {
        lua_pushnil(L);
        push_invalid_response(L, status, 3, body, len);
        return 2;
    }
    switch (shape[0]) {
    case 'j':
        return 1;
    case 'v':
        wrap(L, "body");
        lua_pushvalue(L, 3);
        lua_setfield(L, -2, "headers");
        return 1;
    case 'r':
        wrap(L, "body");
        break;
    default:
        if (lua_type(L, -1) != LUA_TTABLE) {
            lua_pushnil(L);
            push_invalid_response(L, status, 3, body, len);
            return 2;
        }
        if (len > 0 && is_array_text(body, len))
            wrap(L, "data");
    }
    push_meta(L, 3);
    lua_setfield(L, -2, "meta");
    return 1;
}

/* core.apiError(status, headers, body) --> SmartcarError from an already decoded
 * body (a batch item), or from a raw string body. */
static int l_api_error(lua_State *L)
{
    int status = (int)luaL_checknumber(L, 1);
    lua_settop(L, 3);
    if (lua_type(L, 3) == LUA_TTABLE) {
        push_api_error(L, status, 2, 3, "", 0);
    } else {
        size_t len = 0;
        const char *raw = lua_isnil(L, 3) ? "" : luaL_checklstring(L, 3, &len);
        push_invalid_response(L, status, 2, raw, len);
    }
    return 1;
}

/* core.sdkError(code, description[, statusCode]) */
static int l_sdk_error(lua_State *L)
{
    sc_push_sdk_error(L, luaL_checkstring(L, 1), luaL_checkstring(L, 2), (int)luaL_optnumber(L, 3, 0));
    return 1;
}

/* core.meta(headers) */
static int l_meta(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    push_meta(L, 1);
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

void sc_response_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"parse", l_parse}, {"apiError", l_api_error}, {"sdkError", l_sdk_error}, {"meta", l_meta}, {NULL, NULL}
    };
    sc_setfuncs(L, fns, 0);
    luaL_newmetatable(L, SC_ERROR_MT);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, error_is);
    lua_setfield(L, -2, "is");
    lua_pushliteral(L, "SmartcarError");
    lua_setfield(L, -2, "__name");
    lua_setfield(L, -2, "SmartcarError");
}
