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

typedef struct {
    CURL *easy;
    struct curl_slist *headers; /* owned here so a Lua error while building it cannot leak it */
    sc_buf body, head;
    size_t max_body;
    int overflow;
    char errbuf[CURL_ERROR_SIZE];
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
    sc_session *s = ud;
    size_t bytes = size * n;
    if (s->body.len + bytes > s->max_body) {
        s->overflow = 1;
        return 0;
    }
    return buf_append(&s->body, p, bytes) ? bytes : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    sc_session *s = ud;
    size_t bytes = size * n;
    if (bytes >= 5 && memcmp(p, "HTTP/", 5) == 0)
        s->head.len = 0; /* a new response (after 100 Continue): forget the previous one's headers */
    return buf_append(&s->head, p, bytes) ? bytes : 0;
}

static void session_release(sc_session *s)
{
    if (s->easy) {
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    free(s->body.data);
    free(s->head.data);
    memset(&s->body, 0, sizeof s->body);
    memset(&s->head, 0, sizeof s->head);
}

static sc_session *check_session(lua_State *L)
{
    sc_session *s = luaL_checkudata(L, 1, SC_SESSION_MT);
    if (s->easy == NULL)
        luaL_error(L, "attempt to use a closed Session");
    return s;
}

/* Session.new([userAgent]) */
static int session_new(lua_State *L)
{
    const char *ua = luaL_optstring(L, 1, NULL);
    sc_session *s = sc_newuserdata(L, sizeof *s);
    memset(s, 0, sizeof *s);
    luaL_getmetatable(L, SC_SESSION_MT);
    lua_setmetatable(L, -2);
    s->easy = curl_easy_init();
    if (s->easy == NULL)
        return luaL_error(L, "curl_easy_init failed");
    s->max_body = SC_DEFAULT_MAX_BODY;
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(s->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
    if (ua)
        curl_easy_setopt(s->easy, CURLOPT_USERAGENT, ua); /* libcurl copies it */
    return 1;
}

static int session_close(lua_State *L)
{
    session_release(luaL_checkudata(L, 1, SC_SESSION_MT));
    return 0;
}

/* Build the slist from a {name = value} table. */
static void set_headers(lua_State *L, sc_session *s, int idx)
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

/* session:perform(method, url, headers, body, timeoutMs[, maxBodyBytes])
 *   --> status, headers, body  |  nil, "TIMEOUT"|"NETWORK"|"INVALID_RESPONSE", message */
static int session_perform(lua_State *L)
{
    sc_session *s = check_session(L);
    const char *method = luaL_checkstring(L, 2);
    const char *url = luaL_checkstring(L, 3);
    size_t blen = 0;
    const char *body = luaL_optlstring(L, 5, NULL, &blen);
    lua_Number timeout = luaL_optnumber(L, 6, 310000);
    lua_Number max_body = luaL_optnumber(L, 7, SC_DEFAULT_MAX_BODY);
    CURLcode rc;
    long status = 0;

    luaL_argcheck(L, timeout > 0, 6, "timeout must be positive");
    luaL_argcheck(L, max_body > 0, 7, "maximum body size must be positive");
    set_headers(L, s, 4);
    set_method(s->easy, method, body, blen, body != NULL);
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    s->body.len = s->head.len = 0;
    s->overflow = 0;
    s->errbuf[0] = '\0';
    s->max_body = (size_t)max_body;

    rc = curl_easy_perform(s->easy);

    if (rc != CURLE_OK) {
        lua_pushnil(L);
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            lua_pushliteral(L, "TIMEOUT");
            lua_pushfstring(L, "Request timed out after %d ms", (int)timeout);
        } else if (s->overflow) {
            lua_pushliteral(L, "INVALID_RESPONSE");
            lua_pushfstring(L, "Response body exceeds the limit of %d bytes", (int)max_body);
        } else {
            lua_pushliteral(L, "NETWORK");
            lua_pushfstring(L, "%s%s%s", curl_easy_strerror(rc), s->errbuf[0] ? ": " : "", s->errbuf);
        }
        return 3;
    }
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    sc_pushint(L, status);
    push_headers(L, &s->head);
    lua_pushlstring(L, s->body.data ? s->body.data : "", s->body.len);
    return 3;
}

static int session_tostring(lua_State *L)
{
    sc_session *s = luaL_checkudata(L, 1, SC_SESSION_MT);
    lua_pushfstring(L, "Session (%s)", s->easy ? "open" : "closed");
    return 1;
}

static const luaL_Reg session_methods[] = {
    {"perform", session_perform},
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
