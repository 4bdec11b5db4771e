/* core.parse: every answer becomes a result of the shape asked for, or nil, SmartcarError. */
#include <ctype.h>
#include <string.h>
#include "core.h"

#define SC_META 4
static const char *const meta_headers[SC_META] = {"sc-request-id", "sc-data-age", "sc-fetched-at", "sc-unit-system"};
static const char *const meta_fields[SC_META] = {"requestId", "dataAge", "fetchedAt", "unitSystem"};

/* Push meta from the headers at hidx, overridden (when over != 0) by those at over. */
static void push_meta(lua_State *L, int hidx, int over)
{
    lua_createtable(L, 0, SC_META);
    sc_copy_headers(L, hidx, meta_headers, meta_fields, SC_META, -1);
    if (over) {
        lua_createtable(L, 0, SC_META); /* the item's own headers win, even over a repeated one */
        sc_copy_headers(L, over, meta_headers, meta_fields, SC_META, -1);
        sc_merge(L, -1, -2);
        lua_pop(L, 1);
    }
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

/* A copy of the table at idx (if it is one) with lower-cased string keys: a batch
 * item's headers. They come as JSON, so a number (`"Retry-After": 999`) is taken as
 * its text; other values are dropped. */
static void push_lower_keys(lua_State *L, int idx)
{
    lua_newtable(L);
    if (lua_type(L, idx) != LUA_TTABLE)
        return;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING && (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
            luaL_Buffer b;
            size_t n, i;
            const char *k;
            lua_tolstring(L, -1, NULL); /* the value (a copy on the stack, never the key) as text */
            k = lua_tolstring(L, -2, &n);
            luaL_buffinit(L, &b);
            for (i = 0; i < n; i++)
                luaL_addchar(&b, (char)tolower((unsigned char)k[i]));
            luaL_pushresult(&b);
            lua_insert(L, -2);
            lua_rawset(L, -4);
        } else {
            lua_pop(L, 1);
        }
    }
}

/* Whether the table at idx has a non-empty `errors` list of objects (API V3). */
static int has_errors(lua_State *L, int idx)
{
    int yes = 0;
    lua_getfield(L, idx, "errors");
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        yes = lua_type(L, -1) == LUA_TTABLE;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return yes;
}

/* The items of a batch response body (table at bidx; batch headers at hidx):
 * a list of {path=, result=} | {path=, error=}. */
static int push_batch(lua_State *L, int status, int hidx, int bidx, const char *raw, size_t len)
{
    int i, n, out;
    lua_getfield(L, bidx, "responses");
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pushnil(L);
        sc_push_invalid_response(L, status, hidx, raw, len);
        return 2;
    }
    n = (int)sc_rawlen(L, -1);
    lua_createtable(L, n, 0);
    out = lua_gettop(L);
    for (i = 1; i <= n; i++) {
        int item, headers;
        lua_Number code;
        lua_rawgeti(L, out - 1, i);
        item = lua_gettop(L);
        lua_createtable(L, 0, 2);
        if (lua_type(L, item) != LUA_TTABLE) {
            sc_push_invalid_response(L, status, hidx, "a batch item is not an object", 29);
            lua_setfield(L, -2, "error");
            lua_rawseti(L, out, i);
            lua_pop(L, 1);
            continue;
        }
        lua_getfield(L, item, "path");
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            lua_pushliteral(L, "/");
        }
        lua_setfield(L, -2, "path");
        lua_getfield(L, item, "headers");
        push_lower_keys(L, lua_gettop(L));
        lua_remove(L, -2);
        headers = lua_gettop(L);
        lua_getfield(L, item, "code");
        code = lua_tonumber(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, item, "body");
        if (code == 200 || code == 204) {
            if (lua_type(L, -1) != LUA_TTABLE) {
                lua_pop(L, 1);
                lua_newtable(L);
            }
            push_meta(L, hidx, headers);
            lua_setfield(L, -2, "meta");
            lua_setfield(L, -3, "result");
        } else {
            int st = code >= 100 && code <= 999 ? (int)code : 0;
            if (lua_type(L, -1) == LUA_TTABLE) {
                sc_push_api_error(L, st, headers, lua_gettop(L), "", 0);
            } else {
                size_t blen = 0;
                const char *b = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &blen) : "";
                sc_push_invalid_response(L, st, headers, b, blen);
            }
            lua_getfield(L, -1, "requestId"); /* none of the item's own: the batch's, as its meta has */
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                sc_get_header(L, hidx, "sc-request-id");
                lua_setfield(L, -2, "requestId");
            } else {
                lua_pop(L, 1);
            }
            lua_setfield(L, -4, "error");
            lua_pop(L, 1);
        }
        lua_pop(L, 1); /* headers */
        lua_rawseti(L, out, i);
        lua_pop(L, 1); /* item */
    }
    return 1;
}

/* core.parse(shape, status, headers, body) --> result | nil, SmartcarError
 *   shape: core.DATA, core.BODY, core.V3, core.JSON, core.BATCH or core.HTTP
 *   status, headers, body: what a transport returned (headers: a table or the raw
 *   header block); status nil means the
 *   transport failed, and then headers is the SDK error code, body the message. */
static int l_parse(lua_State *L)
{
    int shape = (int)luaL_checkinteger(L, 1);
    size_t len;
    const char *body;
    lua_Number st;
    int status;

    luaL_argcheck(L, shape >= SC_DATA && shape <= SC_HTTP, 1, "not a result shape");
    if (lua_isnil(L, 2)) {
        const char *code = lua_type(L, 3) == LUA_TSTRING ? lua_tostring(L, 3) : "NETWORK";
        const char *message = lua_type(L, 4) == LUA_TSTRING ? lua_tostring(L, 4) : "Request failed";
        lua_pushnil(L);
        sc_push_sdk_error(L, code, message, strcmp(code, "TIMEOUT") == 0 ? 408 : 0);
        return 2;
    }
    st = lua_tonumber(L, 2);
    if (lua_type(L, 2) != LUA_TNUMBER || !(st >= 100 && st <= 999) ||
        (lua_type(L, 3) != LUA_TTABLE && lua_type(L, 3) != LUA_TSTRING) ||
        (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TSTRING)) {
        lua_pushnil(L);
        sc_push_sdk_error(L, "INVALID_RESPONSE", "The transport returned no status, headers and body", 0);
        return 2;
    }
    status = (int)st;
    body = lua_isnil(L, 4) ? "" : lua_tolstring(L, 4, &len);
    if (lua_isnil(L, 4))
        len = 0;
    lua_settop(L, 4);
    if (shape == SC_HTTP) {
        lua_createtable(L, 0, 3);
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "status");
        sc_push_header_table(L, 3);
        lua_setfield(L, -2, "headers");
        lua_pushlstring(L, body, len);
        lua_setfield(L, -2, "body");
        return 1;
    }
    if (status < 200 || status > 299) {
        lua_pushnil(L);
        if (len > 0 && sc_json_decode(L, 4) && lua_type(L, 6) == LUA_TTABLE) {
            sc_push_api_error(L, status, 3, 6, body, len);
            lua_remove(L, 6);
        } else {
            lua_settop(L, 5);
            sc_push_invalid_response(L, status, 3, body, len);
        }
        return 2;
    }
    if (len == 0) {
        lua_newtable(L);
    } else if (!sc_json_decode(L, 4)) {
        static const char token_text[] = "The token response is not JSON (its text is not shown: it may hold a token)";
        lua_pushnil(L);
        if (shape == SC_JSON) /* a token answer: no excerpt, its text may be the new token itself */
            sc_push_invalid_response(L, status, 3, token_text, sizeof token_text - 1);
        else
            sc_push_invalid_response(L, status, 3, body, len);
        return 2;
    }
    switch (shape) {
    case SC_JSON:
        return 1;
    case SC_V3:
        /* a 2xx whose body is a V3 error list (a long-running command that failed): an error */
        if (lua_type(L, -1) == LUA_TTABLE && has_errors(L, lua_gettop(L))) {
            int bidx = lua_gettop(L);
            lua_pushnil(L);
            sc_push_api_error(L, status, 3, bidx, body, len);
            return 2;
        }
        wrap(L, "body");
        sc_push_header_table(L, 3);
        lua_setfield(L, -2, "headers");
        return 1;
    case SC_BATCH:
        if (lua_type(L, -1) != LUA_TTABLE)
            break;
        return push_batch(L, status, 3, lua_gettop(L), body, len);
    case SC_BODY:
        wrap(L, "body");
        push_meta(L, 3, 0);
        lua_setfield(L, -2, "meta");
        return 1;
    default:
        if (lua_type(L, -1) != LUA_TTABLE)
            break;
        if (len > 0 && is_array_text(body, len))
            wrap(L, "data");
        push_meta(L, 3, 0);
        lua_setfield(L, -2, "meta");
        return 1;
    }
    lua_pushnil(L);
    sc_push_invalid_response(L, status, 3, body, len);
    return 2;
}

/* core.header(headers, name) --> the value of response header `name` (lower-case), or nil;
 * headers as a transport gives them (a raw block or a table) */
static int l_header(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    sc_get_header(L, 1, name);
    return 1;
}

const luaL_Reg sc_response_functions[] = {{"parse", l_parse}, {"header", l_header}, {NULL, NULL}};

void sc_response_open(lua_State *L)
{
    static const char *const names[] = {"DATA", "BODY", "V3", "JSON", "BATCH", "HTTP"};
    int i;
    for (i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
        lua_pushinteger(L, SC_DATA + i);
        lua_setfield(L, -2, names[i]);
    }
    sc_setfuncs(L, sc_response_functions, 0);
}
