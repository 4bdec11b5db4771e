/* The libcurl engine: a Session is the libcurl transport object. One easy
 * handle serves sequential requests (request); a multi handle with a pool of
 * transfers serves concurrent ones (start, then poll for the outcomes: a loop's
 * tasks, smartcar.all); a share handle gives both one connection cache, so single
 * calls and concurrent ones reuse each other's keep-alive connections.
 *
 * A host with its own event loop (the luv driver of smartcar.loop) drives the
 * multi handle through libcurl's socket API instead: session:watch(on_socket,
 * on_timer) installs CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION callbacks that only
 * record what libcurl asks (which socket to wait on, when to time out) into a
 * queue of the Session; once libcurl has returned, the queue is handed to the
 * two Lua functions (never Lua from inside libcurl). The host then reports
 * readiness with session:socketAction(fd, events) or session:timeout(), which
 * return what finished, in poll's shape.
 *
 * A Session belongs to the process that opened its handles. After a fork (nginx's
 * master runs init_by_lua, then forks its workers), the child's first use opens new
 * handles: the connections it inherited share their sockets and TLS state with the
 * parent and the siblings, and two processes talking on one would read each other's
 * answers. */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include "transfer.h"

/* What libcurl asked of the event loop, recorded until it is handed to Lua. */
typedef struct {
    curl_socket_t fd;
    int what; /* CURL_POLL_IN, _OUT, _INOUT, _REMOVE */
} sc_socket_change;

typedef struct {
    sc_transfer main;
    CURLSH *share;
    CURLM *multi;
    sc_transfer **pool; /* the transfers of the multi handle, busy while `added` */
    int npool;
    int anchors;        /* registry ref: id -> the body of a started request, alive while in flight */
    int next_id;
    sc_limits defaults; /* used when a request passes no limits */
    /* watch(): the multi handle driven by a host's event loop */
    int on_socket, on_timer;   /* registry refs of the two Lua functions, LUA_NOREF when not watched */
    sc_socket_change *changes; /* recorded socket changes, changes[0..nchanges) */
    int nchanges, capchanges;
    int timer_set;             /* libcurl asked for a new timeout since the last hand-over */
    long timer_ms;             /* and that timeout: ms, -1 for none */
    int failed;                /* a change could not be recorded (no memory) */
    pid_t pid;                 /* the process that opened the handles */
} sc_session;

static void unwatch(lua_State *L, sc_session *s);

/* Idempotent: __gc, __close and close() all end here. Easy handles go before
 * the share handle they use. */
static void session_release(lua_State *L, sc_session *s)
{
    int i;
    unwatch(L, s);
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

/* CURLMOPT_SOCKETFUNCTION: record only (no Lua from inside libcurl). */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *ud, void *socketp)
{
    sc_session *s = ud;
    (void)easy;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) { /* what was asked of this socket and not handed over yet is stale: */
        int i, j = 0;                /* it may be closed by the time Lua sees it */
        for (i = 0; i < s->nchanges; i++)
            if (s->changes[i].fd != fd)
                s->changes[j++] = s->changes[i];
        s->nchanges = j;
    }
    if (s->nchanges == s->capchanges) {
        int cap = s->capchanges ? 2 * s->capchanges : 16;
        sc_socket_change *c = realloc(s->changes, (size_t)cap * sizeof *c);
        if (c == NULL) {
            s->failed = 1;
            return -1;
        }
        s->changes = c;
        s->capchanges = cap;
    }
    s->changes[s->nchanges].fd = fd;
    s->changes[s->nchanges].what = what;
    s->nchanges++;
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: record only; the last request wins. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *ud)
{
    sc_session *s = ud;
    (void)multi;
    s->timer_set = 1;
    s->timer_ms = timeout_ms;
    return 0;
}

static void unwatch(lua_State *L, sc_session *s)
{
    if (s->multi) {
        curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, (curl_socket_callback)NULL);
        curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, (void *)NULL);
        curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, (curl_multi_timer_callback)NULL);
        curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, (void *)NULL);
    }
    if (s->on_socket != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, s->on_socket);
        s->on_socket = LUA_NOREF;
    }
    if (s->on_timer != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, s->on_timer);
        s->on_timer = LUA_NOREF;
    }
    free(s->changes);
    s->changes = NULL;
    s->nchanges = s->capchanges = 0;
    s->timer_set = 0;
    s->failed = 0;
}

static const char *const what_names[] = {"none", "in", "out", "inout", "remove"};

/* Hand the recorded changes to the Lua functions, in the order libcurl made them:
 * on_socket(fd, "in"|"out"|"inout"|"remove"), then on_timer(ms) (-1: no timeout).
 * Each entry leaves the queue before its call, so a raising callback loses nothing
 * else (the rest goes at the next hand-over). */
static void dispatch(lua_State *L, sc_session *s)
{
    while (s->on_socket != LUA_NOREF && s->nchanges > 0) {
        sc_socket_change c = s->changes[0];
        s->nchanges--;
        memmove(s->changes, s->changes + 1, (size_t)s->nchanges * sizeof *s->changes);
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->on_socket);
        lua_pushinteger(L, (lua_Integer)c.fd);
        lua_pushstring(L, what_names[c.what >= 0 && c.what <= CURL_POLL_REMOVE ? c.what : 0]);
        lua_call(L, 2, 0);
    }
    if (s->on_timer != LUA_NOREF && s->timer_set) {
        s->timer_set = 0;
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->on_timer);
        lua_pushinteger(L, (lua_Integer)s->timer_ms);
        lua_call(L, 1, 0);
    }
    if (s->failed) {
        s->failed = 0;
        luaL_error(L, "Session: not enough memory to record libcurl's sockets");
    }
}

/* The share handle (one connection and TLS session cache) and the easy handle of
 * sequential requests, for this process; the multi handle comes with the first start. */
static void open_handles(lua_State *L, sc_session *s)
{
    s->pid = getpid();
    s->share = curl_share_init();
    if (s->share == NULL)
        luaL_error(L, "curl_share_init failed");
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (!sc_transfer_init(&s->main, s->share))
        luaL_error(L, "curl_easy_init failed");
}

static const sc_class session_class;

static sc_session *check_session(lua_State *L, const char *method)
{
    sc_session *s = sc_check_object(L, 1, &session_class, method);
    if (s->main.easy == NULL)
        sc_raise(L, "attempt to use a closed Session");
    if (s->pid != getpid()) { /* a forked child: handles of its own (see the top of this file) */
        session_release(L, s);
        open_handles(L, s);
    }
    return s;
}

static int session_close(lua_State *L);
static int session_tostring(lua_State *L);
static int session_request(lua_State *L);
static int session_start(lua_State *L);
static int session_poll(lua_State *L);
static int session_watch(lua_State *L);
static int session_socket_action(lua_State *L);
static int session_timeout(lua_State *L);
static int session_watched(lua_State *L);
static const luaL_Reg session_methods[] = {
    {"request", session_request}, {"start", session_start}, {"poll", session_poll}, {"close", session_close},
    {"watch", session_watch}, {"socketAction", session_socket_action}, {"timeout", session_timeout},
    {"watched", session_watched}, {NULL, NULL}
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
    s->on_socket = s->on_timer = LUA_NOREF;
    open_handles(L, s);
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
    dispatch(L, s); /* adding a handle asks for a timeout at once */
    return 1;
}

/* Move what finished into the list at index `list` (libcurl has run); how many. */
static int finished(lua_State *L, sc_session *s, int list)
{
    CURLMsg *msg;
    int left, n = 0;
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

/* Run libcurl (multi_perform), then move what finished into the list at `list`; while
 * nothing has finished and a socket is ready at once (a connect done, a request sent and
 * its answer there), a few rounds more: a transfer goes through connect, send and receive
 * in one poll(0) when the server is quick, not one stage per poll of a host that steps
 * seldom. */
static int collect(lua_State *L, sc_session *s, int list)
{
    int running, n = 0, round, ready;
    for (round = 0; round < 4; round++) {
        if (curl_multi_perform(s->multi, &running) != CURLM_OK)
            luaL_error(L, "curl_multi_perform failed");
        n += finished(L, s, list);
        ready = 0;
        if (n > 0 || running == 0 || curl_multi_wait(s->multi, NULL, 0, 0, &ready) != CURLM_OK || ready == 0)
            break;
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
    if (s->on_socket != LUA_NOREF)
        return sc_raise(L, "Session:poll: this Session is driven by an event loop (watch); "
                           "its requests finish through socketAction and timeout");
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

/* session:watch(on_socket, on_timer): drive the multi handle from a host's event loop.
 * on_socket(fd, what): wait on socket fd for what = "in" | "out" | "inout", or stop
 * ("remove"); on_timer(ms): call session:timeout() in ms (0: soon), or never (-1).
 * Both are called after libcurl has returned (from start, socketAction, timeout and
 * watch itself), never from inside it. session:watch() (no functions) goes back to
 * poll and drops the two functions. Either way only with no request in flight. */
static int session_watch(lua_State *L)
{
    sc_session *s = check_session(L, "watch");
    int i;
    for (i = 0; i < s->npool; i++)
        if (s->pool[i]->added)
            return sc_raise(L, "Session:watch: requests are in flight (%s)",
                            s->on_socket != LUA_NOREF ? "they finish through socketAction and timeout"
                                                      : "started to be polled");
    if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3)) {
        unwatch(L, s);
        return 0;
    }
    luaL_checktype(L, 2, LUA_TFUNCTION);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    if (s->on_socket != LUA_NOREF)
        return sc_raise(L, "Session:watch: already watched; call watch() first");
    if (s->multi == NULL && (s->multi = curl_multi_init()) == NULL)
        return luaL_error(L, "curl_multi_init failed");
    lua_settop(L, 3);
    s->on_timer = luaL_ref(L, LUA_REGISTRYINDEX);
    s->on_socket = luaL_ref(L, LUA_REGISTRYINDEX);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, (void *)s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, (void *)s);
    return 0;
}

/* curl_multi_socket_action on a watched Session, then the hand-over and what finished. */
static int socket_action(lua_State *L, sc_session *s, curl_socket_t fd, int events, const char *fname)
{
    int running;
    CURLMcode rc;
    if (s->on_socket == LUA_NOREF)
        return sc_raise(L, "Session:%s: not watched (call watch first)", fname);
    lua_settop(L, 1);
    lua_newtable(L);
    rc = curl_multi_socket_action(s->multi, fd, events, &running);
    if (rc != CURLM_OK && !(rc == CURLM_ABORTED_BY_CALLBACK && s->failed))
        return luaL_error(L, "curl_multi_socket_action failed: %s", curl_multi_strerror(rc));
    dispatch(L, s); /* a raise here leaves the finished ones to the next action */
    finished(L, s, 2);
    dispatch(L, s); /* removing a finished handle may drop its socket or the timeout */
    return 1;
}

/* session:socketAction(fd, events) --> what finished, as poll returns it
 * events: "r", "w", "rw" (what the socket is ready for), or "error"; fd a socket
 * on_socket was told about. */
static int session_socket_action(lua_State *L)
{
    sc_session *s = check_session(L, "socketAction");
    lua_Number n = luaL_checknumber(L, 2);
    const char *ev = luaL_optstring(L, 3, "");
    int events = 0, fd;
    if (!(n >= 0 && n <= 2147483647.0) || (lua_Number)(int)n != n)
        return sc_arg_error(L, 1, "socketAction", "a socket (a descriptor >= 0) expected");
    fd = (int)n;
    if (strchr(ev, 'r'))
        events |= CURL_CSELECT_IN;
    if (strchr(ev, 'w'))
        events |= CURL_CSELECT_OUT;
    if (strstr(ev, "error"))
        events = CURL_CSELECT_ERR;
    return socket_action(L, s, (curl_socket_t)fd, events, "socketAction");
}

/* session:timeout() --> what finished, as poll returns it: the timeout on_timer asked for. */
static int session_timeout(lua_State *L)
{
    sc_session *s = check_session(L, "timeout");
    return socket_action(L, s, CURL_SOCKET_TIMEOUT, 0, "timeout");
}

/* session:watched() --> whether an event loop drives it (watch): then it cannot be polled. */
static int session_watched(lua_State *L)
{
    sc_session *s = sc_check_object(L, 1, &session_class, "watched");
    lua_pushboolean(L, s->on_socket != LUA_NOREF);
    return 1;
}

static int session_tostring(lua_State *L)
{
    sc_session *s = luaL_checkudata(L, 1, SC_SESSION_MT);
    lua_pushfstring(L, "Session (%s%s)", s->main.easy ? "open" : "closed",
                    s->on_socket != LUA_NOREF ? ", watched" : ""); /* watched: see watch */
    return 1;
}

void sc_http_open(lua_State *L)
{
    sc_limits_open(L);
    sc_new_class(L, &session_class);
    lua_pushcclosure(L, session_new, 1);
    lua_setfield(L, -2, "newSession");
}
