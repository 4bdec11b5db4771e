/* The libcurl engine: a Session is the libcurl transport object. One easy
 * handle serves sequential requests (request); a multi handle with a pool of
 * transfers serves concurrent ones (start, then poll for the outcomes: a loop's
 * tasks, smartcar.all); a share handle gives both one connection cache, so single
 * calls and concurrent ones reuse each other's keep-alive connections. */
#include <stdlib.h>
#include <string.h>
#include "transfer.h"

typedef struct {
    sc_transfer main;
    CURLSH *share;
    CURLM *multi;
    sc_transfer **pool; /* the transfers of the multi handle, busy while `added` */
    int npool;
    int anchors;        /* registry ref: id -> the body of a started request, alive while in flight */
    int next_id;
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
    if (s->anchors != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, s->anchors);
        s->anchors = LUA_NOREF;
    }
    sc_transfer_release(L, &s->main);
    if (s->share) {
        curl_share_cleanup(s->share);
        s->share = NULL;
    }
}

/* A transfer of the multi handle that is not busy (the handle and the pool grow as needed). */
static sc_transfer *idle_transfer(lua_State *L, sc_session *s)
{
    sc_transfer **pool, *t;
    int i;
    for (i = 0; i < s->npool; i++)
        if (!s->pool[i]->added)
            return s->pool[i];
    if (s->multi == NULL && (s->multi = curl_multi_init()) == NULL)
        luaL_error(L, "curl_multi_init failed");
    pool = realloc(s->pool, (size_t)(s->npool + 1) * sizeof *pool);
    if (pool == NULL)
        luaL_error(L, "not enough memory");
    s->pool = pool;
    t = malloc(sizeof *t);
    if (t == NULL || !sc_transfer_init(t, s->share)) {
        free(t);
        luaL_error(L, "cannot create a transfer");
    }
    s->pool[s->npool++] = t;
    return t;
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
static int session_start(lua_State *L);
static int session_poll(lua_State *L);
static const luaL_Reg session_methods[] = {
    {"request", session_request}, {"start", session_start}, {"poll", session_poll}, {"close", session_close},
    {NULL, NULL}
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
    s->anchors = LUA_NOREF;
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
 *   --> status, headers, body  |  nil, "TIMEOUT"|"NETWORK"|"INVALID_RESPONSE", message, unsent
 * headers: the raw header block, a string (core.parse reads it). */
static int session_request(lua_State *L)
{
    sc_session *s = check_session(L, "request");
    sc_limits limits = sc_read_limits(L, 6, s->defaults);
    lua_settop(L, 5);
    sc_prepare(L, &s->main, 2, limits, "request");
    return sc_push_outcome(L, &s->main, curl_easy_perform(s->main.easy));
}

/* session:start(method, url, headers, body[, limits]) --> id
 * Start a request on the multi handle; session:poll hands its outcome over. */
static int session_start(lua_State *L)
{
    sc_session *s = check_session(L, "start");
    sc_limits limits = sc_read_limits(L, 6, s->defaults);
    sc_transfer *t;
    lua_settop(L, 5);
    t = idle_transfer(L, s);
    sc_prepare(L, t, 2, limits, "start");
    if (s->anchors == LUA_NOREF) {
        lua_newtable(L);
        s->anchors = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    t->index = ++s->next_id;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->anchors);
    lua_pushvalue(L, 5);
    lua_rawseti(L, -2, t->index); /* the body stays alive while libcurl reads it */
    if (curl_multi_add_handle(s->multi, t->easy) != CURLM_OK)
        return luaL_error(L, "curl_multi_add_handle failed");
    t->added = 1;
    lua_pushinteger(L, t->index);
    return 1;
}

/* Move what finished into the list at index `list`; how many. */
static int collect(lua_State *L, sc_session *s, int list)
{
    CURLMsg *msg;
    int left, n = 0, running;
    if (curl_multi_perform(s->multi, &running) != CURLM_OK)
        luaL_error(L, "curl_multi_perform failed");
    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        sc_transfer *t;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(s->multi, t->easy);
        t->added = 0;
        {   /* {id, status, headers, body} | {id, nil, code, message, unsent} */
            int k, j;
            lua_createtable(L, 5, 0);
            lua_pushinteger(L, t->index);
            lua_rawseti(L, -2, 1);
            k = sc_push_outcome(L, t, msg->data.result);
            for (j = k; j >= 1; j--)
                lua_rawseti(L, -1 - j, j + 1);
        }
        lua_rawseti(L, list, (int)sc_rawlen(L, list) + 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->anchors);
        lua_pushnil(L);
        lua_rawseti(L, -2, t->index);
        lua_pop(L, 1);
        n++;
    }
    return n;
}

/* session:poll([ms]) --> { {id, status, headers, body} | {id, nil, code, message, unsent}, ... }
 * The requests started that finished, in no particular order; when none has, waits up
 * to ms (default 0, at most 60000) for one to. */
static int session_poll(lua_State *L)
{
    sc_session *s = check_session(L, "poll");
    lua_Number ms = luaL_optnumber(L, 2, 0);
    int pending = 0, i;
    lua_settop(L, 2);
    lua_newtable(L);
    if (s->multi == NULL || collect(L, s, 3) > 0 || !(ms > 0))
        return 1;
    for (i = 0; i < s->npool; i++)
        pending += s->pool[i]->added;
    if (pending == 0)
        return 1;
    if (curl_multi_poll(s->multi, NULL, 0, ms > 60000 ? 60000 : (int)ms, NULL) != CURLM_OK)
        return luaL_error(L, "curl_multi_poll failed");
    collect(L, s, 3);
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
