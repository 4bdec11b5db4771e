/* The libcurl engine: one reusable easy handle per Session, so that
 * sequential requests share the keep-alive connection.  Callbacks only
 * append to buffers owned by the session: no Lua runs while libcurl is on
 * the C stack, so nothing can longjmp through it. */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <curl/curl.h>
#include "core.h"

#define SC_DEFAULT_MAX_BODY (8u * 1024u * 1024u)

typedef struct {
    char *data;
    size_t len, cap;
} sc_buf;

/* One transfer: an easy handle and everything it writes into. */
typedef struct {
    CURL *easy;
    struct curl_slist *headers; /* owned here so a Lua error while building it cannot leak it */
    sc_buf body, head;
    size_t max_body;
    int overflow;
    int index;                  /* performMany: the request this transfer carries */
    int added;                  /* performMany: currently added to the multi handle */
    char errbuf[CURL_ERROR_SIZE];
} sc_transfer;

/* A session: one transfer for sequential requests (keep-alive), and a multi
 * handle with a pool of transfers for concurrent ones. */
typedef struct {
    sc_transfer main;
    CURLM *multi;
    sc_transfer **pool;
    int npool;
} sc_session;

static int buf_append(sc_buf *b, const char *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *data;
        while (cap < b->len + n)
            cap *= 2;
        data = realloc(b->data, cap);
        if (data == NULL)
            return 0;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 1;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sc_transfer *s = ud;
    size_t bytes = size * n;
    if (s->body.len + bytes > s->max_body) {
        s->overflow = 1;
        return 0;
    }
    return buf_append(&s->body, p, bytes) ? bytes : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    sc_transfer *s = ud;
    size_t bytes = size * n;
    if (bytes >= 5 && memcmp(p, "HTTP/", 5) == 0)
        s->head.len = 0; /* a new response (after 100 Continue): forget the previous one's headers */
    return buf_append(&s->head, p, bytes) ? bytes : 0;
}

static void transfer_release(sc_transfer *t)
{
    if (t->easy) {
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    free(t->body.data);
    free(t->head.data);
    memset(&t->body, 0, sizeof t->body);
    memset(&t->head, 0, sizeof t->head);
}

static int transfer_init(sc_transfer *t)
{
    memset(t, 0, sizeof *t);
    t->easy = curl_easy_init();
    if (t->easy == NULL)
        return 0;
    t->max_body = SC_DEFAULT_MAX_BODY;
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (void *)t);
    return 1;
}

/* Idempotent: __gc, __close and close() all end here. */
static void session_release(sc_session *s)
{
    int i;
    for (i = 0; i < s->npool; i++) {
        if (s->pool[i]->added)
            curl_multi_remove_handle(s->multi, s->pool[i]->easy);
        transfer_release(s->pool[i]);
        free(s->pool[i]);
    }
    free(s->pool);
    s->pool = NULL;
    s->npool = 0;
    if (s->multi) {
        curl_multi_cleanup(s->multi);
        s->multi = NULL;
    }
    transfer_release(&s->main);
}

static sc_session *check_session(lua_State *L)
{
    sc_session *s = luaL_checkudata(L, 1, SC_SESSION_MT);
    if (s->main.easy == NULL)
        luaL_error(L, "attempt to use a closed Session");
    return s;
}

/* core.newSession() */
static int session_new(lua_State *L)
{
    sc_session *s = sc_newuserdata(L, sizeof *s);
    memset(s, 0, sizeof *s);
    luaL_getmetatable(L, SC_SESSION_MT);
    lua_setmetatable(L, -2); /* __gc is safe on the zeroed struct */
    if (!transfer_init(&s->main))
        return luaL_error(L, "curl_easy_init failed");
    return 1;
}

static int session_close(lua_State *L)
{
    session_release(luaL_checkudata(L, 1, SC_SESSION_MT));
    return 0;
}

/* Build the slist from a {name = value} table. */
static void set_headers(lua_State *L, sc_transfer *s, int idx)
{
    curl_slist_free_all(s->headers);
    s->headers = curl_slist_append(NULL, "Expect:");
    if (!lua_isnil(L, idx)) {
        luaL_checktype(L, idx, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            struct curl_slist *next;
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "headers must map names to strings");
            if (strpbrk(lua_tostring(L, -2), "\r\n:") || strpbrk(lua_tostring(L, -1), "\r\n"))
                luaL_error(L, "header names and values must not contain line breaks");
            lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), lua_tostring(L, -1));
            next = curl_slist_append(s->headers, lua_tostring(L, -1));
            if (next == NULL)
                luaL_error(L, "not enough memory");
            s->headers = next;
            lua_pop(L, 2);
        }
    }
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
}

static void set_method(CURL *e, const char *method, const char *body, size_t len, int has_body)
{
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return;
    }
    if (has_body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, has_body ? body : "");
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

/* Push the response headers as {lower-cased name = value}, repeated names joined by ", ". */
static void push_headers(lua_State *L, const sc_buf *head)
{
    const char *p = head->data, *end = head->data + head->len;
    char name[256];
    lua_newtable(L);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *colon, *v, *ve;
        size_t n, i;
        if (eol == NULL)
            eol = end;
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL && (n = (size_t)(colon - p)) > 0 && n < sizeof name) {
            for (i = 0; i < n; i++)
                name[i] = (char)tolower((unsigned char)p[i]);
            v = colon + 1;
            ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            lua_pushlstring(L, name, n);
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(ve - v));
            } else {
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(ve - v));
                lua_concat(L, 3);
            }
            lua_rawset(L, -3);
        }
        p = eol + 1;
    }
}

/* Set a transfer up for one request; the headers table is at hidx, the body
 * string must stay alive until the transfer ends. */
static void prepare(lua_State *L, sc_transfer *t, const char *method, const char *url, int hidx,
                    const char *body, size_t blen, long timeout, size_t max_body)
{
    set_headers(L, t, hidx);
    set_method(t->easy, method, body, blen, body != NULL);
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    t->body.len = t->head.len = 0;
    t->overflow = 0;
    t->errbuf[0] = '\0';
    t->max_body = max_body;
}

/* Push status, headers, body  |  nil, "TIMEOUT"|"NETWORK"|"INVALID_RESPONSE", message */
static void push_outcome(lua_State *L, sc_transfer *t, CURLcode rc, long timeout)
{
    long status = 0;
    if (rc != CURLE_OK) {
        lua_pushnil(L);
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            lua_pushliteral(L, "TIMEOUT");
            lua_pushfstring(L, "Request timed out after %d ms", (int)timeout);
        } else if (t->overflow) {
            lua_pushliteral(L, "INVALID_RESPONSE");
            lua_pushfstring(L, "Response body exceeds the limit of %d bytes", (int)t->max_body);
        } else {
            lua_pushliteral(L, "NETWORK");
            lua_pushfstring(L, "%s%s%s", curl_easy_strerror(rc), t->errbuf[0] ? ": " : "", t->errbuf);
        }
        return;
    }
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    sc_pushint(L, status);
    push_headers(L, &t->head);
    lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
}

static long check_limits(lua_State *L, int targ, int marg, size_t *max_body)
{
    lua_Number timeout = luaL_optnumber(L, targ, 310000);
    lua_Number max = luaL_optnumber(L, marg, SC_DEFAULT_MAX_BODY);
    luaL_argcheck(L, timeout > 0, targ, "timeout must be positive");
    luaL_argcheck(L, max > 0, marg, "maximum body size must be positive");
    *max_body = (size_t)max;
    return (long)timeout;
}

/* session:perform(method, url, headers, body, timeoutMs[, maxBodyBytes])
 *   --> status, headers, body  |  nil, "TIMEOUT"|"NETWORK"|"INVALID_RESPONSE", message */
static int session_perform(lua_State *L)
{
    sc_session *s = check_session(L);
    const char *method = luaL_checkstring(L, 2);
    const char *url = luaL_checkstring(L, 3);
    size_t blen = 0, max_body;
    const char *body = luaL_optlstring(L, 5, NULL, &blen);
    long timeout = check_limits(L, 6, 7, &max_body);
    prepare(L, &s->main, method, url, 4, body, blen, timeout, max_body);
    push_outcome(L, &s->main, curl_easy_perform(s->main.easy), timeout);
    return 3;
}

/* Take request i of the list at index 2 ({method, url, headers, body}) onto transfer t. */
static void start_request(lua_State *L, sc_session *s, sc_transfer *t, int i, long timeout, size_t max_body)
{
    size_t blen = 0;
    const char *method, *url, *body;
    lua_rawgeti(L, 2, i);
    if (!lua_istable(L, -1))
        luaL_error(L, "request %d must be a table {method, url, headers, body}", i);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    lua_rawgeti(L, -3, 3);
    lua_rawgeti(L, -4, 4);
    method = lua_tostring(L, -4);
    url = lua_tostring(L, -3);
    body = lua_tolstring(L, -1, &blen); /* kept alive by the request table */
    if (method == NULL || url == NULL) {
        luaL_error(L, "request %d needs a method and a url", i); /* does not return */
        return;
    }
    prepare(L, t, method, url, sc_absindex(L, -2), body, blen, timeout, max_body);
    lua_pop(L, 5);
    t->index = i;
    if (curl_multi_add_handle(s->multi, t->easy) != CURLM_OK)
        luaL_error(L, "curl_multi_add_handle failed");
    t->added = 1;
}

/* session:performMany(requests, timeoutMs[, maxBodyBytes[, concurrency]])
 *   requests: a list of {method, url, headers, body}
 *   --> a list of {status, headers, body} | {nil, code, message}, in request order.
 * Transfers run concurrently (at most `concurrency` at once, default 16) on a
 * multi handle whose connections are kept for the next call. */
static int session_perform_many(lua_State *L)
{
    sc_session *s = check_session(L);
    size_t max_body;
    long timeout;
    int n, conc, i, next = 1, running = 0, done = 0;

    luaL_checktype(L, 2, LUA_TTABLE);
    timeout = check_limits(L, 3, 4, &max_body);
    conc = (int)luaL_optinteger(L, 5, 16);
    luaL_argcheck(L, conc > 0, 5, "concurrency must be positive");
    n = (int)sc_rawlen(L, 2);
    if (conc > n)
        conc = n;
    lua_settop(L, 5);
    lua_createtable(L, n, 0); /* 6: results */
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
            if (t == NULL || !transfer_init(t)) {
                free(t);
                return luaL_error(L, "cannot create a transfer");
            }
            s->pool[s->npool++] = t;
        }
    }
    for (i = 0; i < conc; i++)
        start_request(L, s, s->pool[i], next++, timeout, max_body);

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
            push_outcome(L, t, msg->data.result, timeout);
            lua_rawseti(L, -4, 3);
            lua_rawseti(L, -3, 2);
            lua_rawseti(L, -2, 1);
            lua_rawseti(L, 6, t->index);
            done++;
            if (next <= n)
                start_request(L, s, t, next++, timeout, max_body);
        }
        if (done < n && curl_multi_poll(s->multi, NULL, 0, 1000, NULL) != CURLM_OK)
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

static const luaL_Reg session_methods[] = {
    {"perform", session_perform},
    {"performMany", session_perform_many},
    {"close", session_close},
    {NULL, NULL}
};

void sc_http_open(lua_State *L)
{
    if (luaL_newmetatable(L, SC_SESSION_MT)) {
        lua_newtable(L);
        sc_setfuncs(L, session_methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, session_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, session_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, session_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, session_new);
    lua_setfield(L, -2, "newSession");
}
