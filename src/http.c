/* The libcurl engine: a Session is the libcurl transport object. One easy
 * handle serves sequential requests, a multi handle with a pool of transfers
 * serves concurrent ones, and a share handle gives both one connection cache,
 * so single calls and fan-outs reuse each other's keep-alive connections. */
#include <stdlib.h>
#include <string.h>
#include "transfer.h"

typedef struct {
    sc_transfer main;
    CURLSH *share;
    CURLM *multi;
    sc_transfer **pool;
    int npool;
    sc_limits defaults; /* used when a request passes no limits */
} sc_session;

/* Idempotent: __gc, __close and close() all end here. Easy handles go before
 * the share handle they use. */
static void session_release(lua_State *L, sc_session *s)
{
    int i;
    for (i = 0; i < s->npool; i++) {
        if (s->pool[i]->added)
            curl_multi_remove_handle(s->multi, s->pool[i]->easy);
        sc_transfer_release(L, s->pool[i]);
        free(s->pool[i]);
    }
    free(s->pool);
    s->pool = NULL;
    s->npool = 0;
    if (s->multi) {
        curl_multi_cleanup(s->multi);
        s->multi = NULL;
    }
    sc_transfer_release(L, &s->main);
    if (s->share) {
        curl_share_cleanup(s->share);
        s->share = NULL;
    }
}

static const sc_class session_class;

static sc_session *check_session(lua_State *L, const char *method)
{
    sc_session *s = sc_check_object(L, 1, &session_class, method);
    if (s->main.easy == NULL)
        sc_raise(L, "attempt to use a closed Session");
    return s;
}

static int session_close(lua_State *L);
static int session_tostring(lua_State *L);
static int session_request(lua_State *L);
static int session_many(lua_State *L);
static const luaL_Reg session_methods[] = {
    {"request", session_request}, {"many", session_many}, {"close", session_close}, {NULL, NULL}
};
static const sc_class session_class = {
    "Session", SC_SESSION_MT, session_methods, NULL, NULL, session_close, session_tostring
};

/* core.newSession(limits): {timeout=, connectTimeout=, maxResponseSize=}, the
 * defaults (from the Lua configuration) for requests that pass no limits. */
static int session_new(lua_State *L)
{
    static const sc_limits none = {0, 0, 0, NULL, NULL};
    sc_session *s;
    sc_limits defaults = sc_read_limits(L, 1, none);
    if (defaults.timeout == 0 || defaults.connect_timeout == 0 || defaults.max_body == 0)
        return sc_arg_error(L, 1, "newSession", "{timeout=, connectTimeout=, maxResponseSize=} expected");
    s = sc_new_object(L, &session_class, sizeof *s, lua_upvalueindex(1));
    s->defaults = defaults;
    s->share = curl_share_init();
    if (s->share == NULL)
        return luaL_error(L, "curl_share_init failed");
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (!sc_transfer_init(&s->main, s->share))
        return luaL_error(L, "curl_easy_init failed");
    return 1;
}

static int session_close(lua_State *L)
{
    session_release(L, luaL_checkudata(L, 1, SC_SESSION_MT));
    return 0;
}

/* session:request(method, url, headers, body[, limits])
 *   --> status, headers, body  |  nil, "TIMEOUT"|"NETWORK"|"INVALID_RESPONSE", message
 * headers: the raw header block, a string (core.parse reads it). */
static int session_request(lua_State *L)
{
    sc_session *s = check_session(L, "request");
    sc_limits limits = sc_read_limits(L, 6, s->defaults);
    lua_settop(L, 5);
    sc_prepare(L, &s->main, 2, limits, 0);
    sc_push_outcome(L, &s->main, curl_easy_perform(s->main.easy));
    return 3;
}

/* Take request i of the list at index 2 ({method, url, headers, body}) onto transfer t. */
static void start_request(lua_State *L, sc_session *s, sc_transfer *t, int i, sc_limits limits)
{
    int top = lua_gettop(L), j;
    lua_rawgeti(L, 2, i);
    if (!lua_istable(L, -1))
        sc_bad_request(L, i, 1, "a table {method, url, headers, body} expected");
    for (j = 1; j <= 4; j++)
        lua_rawgeti(L, top + 1, j);
    sc_prepare(L, t, top + 2, limits, i);
    lua_settop(L, top); /* the body stays alive in the request table */
    t->index = i;
    if (curl_multi_add_handle(s->multi, t->easy) != CURLM_OK)
        luaL_error(L, "curl_multi_add_handle failed");
    t->added = 1;
}

/* session:many(requests[, limits[, concurrency]])
 *   requests: a list of {method, url, headers, body}
 *   --> a list of {status, headers, body} | {nil, code, message}, in request order.
 * Transfers run concurrently (at most `concurrency` at once, default all) on the
 * multi handle, whose connections are shared with sequential requests. */
static int session_many(lua_State *L)
{
    sc_session *s = check_session(L, "many");
    sc_limits limits;
    int n, conc, i, next = 1, running = 0, done = 0;

    if (!lua_istable(L, 2))
        sc_arg_error(L, 1, "many", "a list of requests expected, got %s", luaL_typename(L, 2));
    limits = sc_read_limits(L, 3, s->defaults);
    n = (int)sc_rawlen(L, 2);
    if (!lua_isnoneornil(L, 4) && lua_type(L, 4) != LUA_TNUMBER)
        sc_arg_error(L, 3, "many", "a number of requests in flight expected, got %s", luaL_typename(L, 4));
    {
        lua_Number c = lua_isnoneornil(L, 4) ? n : lua_tonumber(L, 4);
        conc = c >= n ? n : c >= 1 ? (int)c : 1;
    }
    if (conc > n)
        conc = n;
    if (conc < 1)
        conc = 1;
    lua_settop(L, 4);
    lua_createtable(L, n, 0); /* 5: results */
    if (n == 0)
        return 1;
    if (s->multi == NULL && (s->multi = curl_multi_init()) == NULL)
        return luaL_error(L, "curl_multi_init failed");
    /* A previous call that raised may have left transfers attached. */
    for (i = 0; i < s->npool; i++) {
        if (s->pool[i]->added) {
            curl_multi_remove_handle(s->multi, s->pool[i]->easy);
            s->pool[i]->added = 0;
        }
    }
    if (s->npool < conc) {
        sc_transfer **pool = realloc(s->pool, (size_t)conc * sizeof *pool);
        if (pool == NULL)
            return luaL_error(L, "not enough memory");
        s->pool = pool;
        while (s->npool < conc) {
            sc_transfer *t = malloc(sizeof *t);
            if (t == NULL || !sc_transfer_init(t, s->share)) {
                free(t);
                return luaL_error(L, "cannot create a transfer");
            }
            s->pool[s->npool++] = t;
        }
    }
    for (i = 0; i < conc; i++)
        start_request(L, s, s->pool[i], next++, limits);

    while (done < n) {
        CURLMsg *msg;
        int left;
        if (curl_multi_perform(s->multi, &running) != CURLM_OK)
            return luaL_error(L, "curl_multi_perform failed");
        while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
            sc_transfer *t;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            curl_multi_remove_handle(s->multi, t->easy);
            t->added = 0;
            lua_createtable(L, 3, 0);
            sc_push_outcome(L, t, msg->data.result);
            lua_rawseti(L, -4, 3);
            lua_rawseti(L, -3, 2);
            lua_rawseti(L, -2, 1);
            lua_rawseti(L, 5, t->index);
            done++;
            if (next <= n)
                start_request(L, s, t, next++, limits);
        }
        if (done < n && curl_multi_poll(s->multi, NULL, 0, 100, NULL) != CURLM_OK)
            return luaL_error(L, "curl_multi_poll failed");
    }
    return 1;
}

static int session_tostring(lua_State *L)
{
    sc_session *s = luaL_checkudata(L, 1, SC_SESSION_MT);
    lua_pushfstring(L, "Session (%s)", s->main.easy ? "open" : "closed");
    return 1;
}

void sc_http_open(lua_State *L)
{
    sc_limits_open(L);
    sc_new_class(L, &session_class);
    lua_pushcclosure(L, session_new, 1);
    lua_setfield(L, -2, "newSession");
}
