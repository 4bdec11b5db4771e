/* One libcurl transfer (transfer.h). Callbacks only append to buffers the
 * transfer owns: no Lua runs while libcurl is on the C stack, so nothing can
 * longjmp through it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "transfer.h"

static int buf_append(sc_buf *b, const char *p, size_t n)
{
    if (n > ((size_t)-1) / 2 - b->len)
        return 0;
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
    sc_transfer *t = ud;
    size_t bytes = size * n;
    if (bytes > t->limits.max_body - t->body.len) {
        t->overflow = 1;
        return 0;
    }
    return buf_append(&t->body, p, bytes) ? bytes : 0;
}

/* The body goes out through a read callback, not CURLOPT_POSTFIELDS: libcurl can
 * then not rewind it, so a request whose reused connection died is never sent again
 * silently (libcurl fails with CURLE_SEND_FAIL_REWIND instead). */
static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
    sc_transfer *t = ud;
    size_t room = size * n, left = t->send_len - t->send_pos;
    if (left < room)
        room = left;
    memcpy(p, t->send + t->send_pos, room);
    t->send_pos += room;
    return room;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    sc_transfer *t = ud;
    size_t bytes = size * n;
    if (bytes >= 5 && memcmp(p, "HTTP/", 5) == 0)
        t->head.len = 0; /* a new response (after 100 Continue): forget the previous one's headers */
    if (bytes > t->limits.max_body - t->head.len) {
        t->overflow = 1;
        return 0;
    }
    return buf_append(&t->head, p, bytes) ? bytes : 0;
}

void sc_transfer_release(lua_State *L, sc_transfer *t)
{
    if (t->last_headers > 0)
        luaL_unref(L, LUA_REGISTRYINDEX, t->last_headers);
    t->last_headers = 0;
    if (t->easy) {
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->pending);
    t->headers = t->pending = NULL;
    free(t->url);
    t->url = NULL;
    free(t->ca[0]);
    free(t->ca[1]);
    free(t->default_ca[0]);
    free(t->default_ca[1]);
    t->ca[0] = t->ca[1] = t->default_ca[0] = t->default_ca[1] = NULL;
    free(t->body.data);
    free(t->head.data);
    memset(&t->body, 0, sizeof t->body);
    memset(&t->head, 0, sizeof t->head);
}

/* Whether any of libcurl's proxy variables is set (read when a transfer is made:
 * a proxy set later in the process's environment applies to new transports). */
static int proxy_in_environment(void)
{
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                       "ALL_PROXY", NULL};
    int i;
    for (i = 0; vars[i] != NULL; i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && *v != '\0')
            return 1;
    }
    return 0;
}

int sc_transfer_init(sc_transfer *t, CURLSH *share)
{
    memset(t, 0, sizeof *t);
    t->easy = curl_easy_init();
    if (t->easy == NULL)
        return 0;
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
    /* a transfer ended at its deadline while its name was being resolved: do not wait for the
     * resolver thread (a lookup that hangs would hold the caller, a game's frame, past the deadline) */
    curl_easy_setopt(t->easy, CURLOPT_QUICK_EXIT, 1L);
#endif
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(t->easy, CURLOPT_READDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (void *)t);
    if (share)
        curl_easy_setopt(t->easy, CURLOPT_SHARE, share);
    {
        char *file = NULL, *path = NULL;
        curl_easy_getinfo(t->easy, CURLINFO_CAINFO, &file);
        curl_easy_getinfo(t->easy, CURLINFO_CAPATH, &path);
        t->default_ca[0] = file ? strdup(file) : NULL;
        t->default_ca[1] = path ? strdup(path) : NULL;
    }
    if (!proxy_in_environment()) {
        /* libcurl would look the proxy variables up again on every request */
        curl_easy_setopt(t->easy, CURLOPT_PROXY, "");
        curl_easy_setopt(t->easy, CURLOPT_NOPROXY, "");
    }
    return 1;
}

/* A bad request handed to the transport: argument `arg` of method `fname` (request, start). */
void sc_bad_request(lua_State *L, const char *fname, int arg, const char *what)
{
    sc_arg_error(L, arg, fname, "%s", what);
}

/* A configuration's limits, compiled once (core.compileLimits): the libcurl
 * transport finds them under the key core.LIMITS of the limits table it is given
 * instead of reading five fields on every request. */
typedef struct {
    sc_limits limits;
    char *ca_file, *ca_path;
} sc_compiled;

static const char sc_key_compiled = 0; /* registry: the metatable of compiled limits; also the key */

static sc_limits read_fields(lua_State *L, int idx, sc_limits base)
{
    static const char *const keys[] = {"timeout", "connectTimeout", "maxResponseSize"};
    int i;
    lua_getfield(L, idx, "caFile");
    base.ca_file = lua_tostring(L, -1); /* the table keeps it alive */
    lua_getfield(L, idx, "caPath");
    base.ca_path = lua_tostring(L, -1);
    lua_pop(L, 2);
    for (i = 0; i < 3; i++) {
        lua_Number n;
        lua_getfield(L, idx, keys[i]);
        n = lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (!(n >= 1))
            continue; /* absent, NaN or not positive: keep the base value */
        if (i < 2) {
            long ms = n >= 2147483647.0 ? 2147483647L : (long)(n + 0.999);
            if (i == 0)
                base.timeout = ms;
            else
                base.connect_timeout = ms;
        } else {
            base.max_body = n >= 1073741824.0 ? (size_t)1073741824 : (size_t)n;
        }
    }
    return base;
}

sc_limits sc_read_limits(lua_State *L, int idx, sc_limits base)
{
    sc_compiled *c;
    if (!lua_istable(L, idx))
        return base;
    sc_rawgetp(L, idx, &sc_key_compiled);
    c = lua_touserdata(L, -1);
    if (c != NULL && lua_getmetatable(L, -1)) {
        sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_compiled);
        if (!lua_rawequal(L, -1, -2))
            c = NULL;
        lua_pop(L, 2);
    } else {
        c = NULL;
    }
    lua_pop(L, 1);
    if (c != NULL) {
        base = c->limits;
        base.ca_file = c->ca_file;
        base.ca_path = c->ca_path;
        return base;
    }
    return read_fields(L, idx, base);
}

static int compiled_gc(lua_State *L)
{
    sc_compiled *c = lua_touserdata(L, 1);
    free(c->ca_file);
    free(c->ca_path);
    c->ca_file = c->ca_path = NULL;
    return 0;
}

/* core.compileLimits(config) --> an opaque value to store at config[core.LIMITS];
 * the config must not change afterwards without compiling again. */
static int l_compile_limits(lua_State *L)
{
    static const sc_limits none = {0, 0, 0, NULL, NULL};
    sc_limits l;
    sc_compiled *c;
    luaL_checktype(L, 1, LUA_TTABLE);
    l = read_fields(L, 1, none);
    c = sc_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_compiled);
    lua_setmetatable(L, -2);
    c->limits = l;
    c->limits.ca_file = c->limits.ca_path = NULL;
    c->ca_file = l.ca_file ? sc_strdup(L, l.ca_file, strlen(l.ca_file)) : NULL;
    c->ca_path = l.ca_path ? sc_strdup(L, l.ca_path, strlen(l.ca_path)) : NULL;
    return 1;
}

/* The line that may end a header list, after the table's pairs: */
static const char SC_NO_EXPECT[] = "Expect:";    /* a request with a body never waits for 100 Continue */
static const char SC_NO_FORM[] = "Content-Type:"; /* a POST without a body gets no form Content-Type */

/* Whether the list ends as `suffix` says (NULL: no extra line). */
static int ends_with(const struct curl_slist *n, const char *suffix)
{
    return suffix ? n != NULL && n->next == NULL && strcmp(n->data, suffix) == 0 : n == NULL;
}

/* Whether the list holds exactly the pairs of the headers table at idx, in its
 * iteration order, then `suffix`: then it is reused as it is. */
static int same_headers(lua_State *L, const struct curl_slist *n, int idx, const char *suffix)
{
    if (lua_isnil(L, idx))
        return ends_with(n, suffix);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t kl, vl;
        const char *k, *v;
        if (n == NULL || lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 2);
            return 0;
        }
        k = lua_tolstring(L, -2, &kl);
        v = lua_tolstring(L, -1, &vl);
        /* names and values with a NUL byte never match: the list is rebuilt, and refused */
        if (strlen(k) != kl || strlen(v) != vl || strncmp(n->data, k, kl) != 0 || n->data[kl] != ':' ||
            n->data[kl + 1] != ' ' || strcmp(n->data + kl + 2, v) != 0) {
            lua_pop(L, 2);
            return 0;
        }
        n = n->next;
        lua_pop(L, 1);
    }
    return ends_with(n, suffix);
}

/* Whether the headers table at idx (or nil) names a Content-Type, in any case. */
static int has_content_type(lua_State *L, int idx)
{
    if (lua_isnil(L, idx))
        return 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING && strcasecmp(lua_tostring(L, -2), "content-type") == 0) {
            lua_pop(L, 2);
            return 1;
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* The line that ends the header list of a request: see SC_NO_EXPECT, SC_NO_FORM. */
static const char *list_suffix(lua_State *L, const char *method, const char *body, int idx)
{
    if (body != NULL)
        return SC_NO_EXPECT;
    if (strcmp(method, "POST") == 0 && !has_content_type(L, idx))
        return SC_NO_FORM;
    return NULL;
}

static void append_header(lua_State *L, sc_transfer *t, const char *line)
{
    struct curl_slist *next = curl_slist_append(t->pending, line);
    if (next == NULL)
        luaL_error(L, "not enough memory");
    t->pending = next;
}

/* Build the slist from a {name = value} table (nil: no headers), unless the one
 * already set says the same. */
/* Raise unless the table at idx maps header names to values that can go on the wire. */
static void check_headers(lua_State *L, int idx, const char *fname)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t kl, vl;
        const char *k, *v;
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            sc_bad_request(L, fname, 3, "headers must map names to strings");
        k = lua_tolstring(L, -2, &kl);
        v = lua_tolstring(L, -1, &vl);
        if (kl == 0 || strpbrk(k, "\r\n: ") || strlen(k) != kl || strpbrk(v, "\r\n") || strlen(v) != vl)
            sc_bad_request(L, fname, 3, "header names and values must not contain line breaks or NUL bytes");
        lua_pop(L, 1);
    }
}

/* Set the header list from a {name = value} table (nil: no headers), unless the
 * one set says the same. The list libcurl holds and t->headers are always the
 * same list: a new one is built apart (t->pending, owned in case of a raise) and
 * swapped in once complete. */
static void set_headers(lua_State *L, sc_transfer *t, int idx, const char *suffix, const char *fname)
{
    int same, frozen;
    if (!lua_isnil(L, idx) && !lua_istable(L, idx))
        sc_bad_request(L, fname, 3, "headers must be a table or nil");
    if (t->last_headers > 0 && suffix == t->last_suffix && !lua_isnil(L, idx)) {
        /* a frozen table cannot change: the list made from it still holds */
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->last_headers);
        same = lua_rawequal(L, -1, idx);
        lua_pop(L, 1);
        if (same)
            return;
    }
    if (t->last_headers > 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, t->last_headers);
        t->last_headers = 0;
    }
    frozen = !lua_isnil(L, idx) && suffix != SC_NO_EXPECT && sc_is_frozen(L, idx);
    if (!same_headers(L, t->headers, idx, suffix)) {
        if (!lua_isnil(L, idx))
            check_headers(L, idx, fname);
        curl_slist_free_all(t->pending);
        t->pending = NULL;
        if (!lua_isnil(L, idx)) {
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), lua_tostring(L, -1));
                append_header(L, t, lua_tostring(L, -1));
                lua_pop(L, 2);
            }
        }
        if (suffix)
            append_header(L, t, suffix);
        curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->pending);
        curl_slist_free_all(t->headers);
        t->headers = t->pending;
        t->pending = NULL;
    }
    if (frozen) {
        lua_pushvalue(L, idx);
        t->last_headers = luaL_ref(L, LUA_REGISTRYINDEX);
        t->last_suffix = suffix;
    }
}

static void set_url(lua_State *L, sc_transfer *t, const char *url, size_t len, const char *fname)
{
    size_t i;
    if (t->url != NULL && strcmp(t->url, url) == 0 && strlen(url) == len)
        return;
    for (i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ')
            sc_bad_request(L, fname, 2, "the URL must not contain a space, NUL, CR or LF");
    free(t->url);
    t->url = NULL;
    t->url = sc_strdup(L, url, len);
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
}

/* The method sent is exactly `method`: libcurl's own choice (POST with a body,
 * GET without) is overridden whenever it differs. An empty POST still sends
 * Content-Length: 0. A body-less GET after another changes nothing. A command
 * (not GET or HEAD) without a body, which libcurl would resend on a fresh
 * connection if a reused one died, gets a fresh connection to begin with. */
static void set_method(sc_transfer *t, const char *method, const char *body, size_t len)
{
    CURL *e = t->easy;
    int get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
    t->send = body;
    t->send_len = body != NULL ? len : 0;
    t->send_pos = 0;
    if (get && body == NULL && t->plain_get)
        return;
    t->plain_get = get && body == NULL;
    t->command = !get && !head;
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, (long)(t->command && (body == NULL || len == 0)));
    if (head) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return;
    }
    if (body != NULL || strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->send_len);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        if (!get)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
}

/* Trust the CA bundle (which = 0) or directory (1) given, or libcurl's default again. */
static void set_ca(lua_State *L, sc_transfer *t, int which, const char *value)
{
    static const CURLoption options[] = {CURLOPT_CAINFO, CURLOPT_CAPATH};
    if (value == NULL ? t->ca[which] == NULL : t->ca[which] != NULL && strcmp(t->ca[which], value) == 0)
        return;
    free(t->ca[which]);
    t->ca[which] = value ? sc_strdup(L, value, strlen(value)) : NULL;
    curl_easy_setopt(t->easy, options[which], value ? value : t->default_ca[which]);
}

/* Set a transfer up for request {method, url, headers, body} at stack indices
 * m, m+1, m+2, m+3; the body string must stay alive until the transfer ends. */
void sc_prepare(lua_State *L, sc_transfer *t, int m, sc_limits limits, const char *fname)
{
    size_t ulen, mlen, blen = 0, i;
    const char *method, *url, *body = NULL;
    if (lua_type(L, m) != LUA_TSTRING)
        sc_bad_request(L, fname, 1, "the method must be a string");
    method = lua_tolstring(L, m, &mlen);
    for (i = 0; i < mlen; i++)
        if (method[i] < 'A' || method[i] > 'Z')
            sc_bad_request(L, fname, 1, "the method must be upper-case letters");
    if (mlen == 0)
        sc_bad_request(L, fname, 1, "the method must not be empty");
    if (lua_type(L, m + 1) != LUA_TSTRING)
        sc_bad_request(L, fname, 2, "the URL must be a string");
    url = lua_tolstring(L, m + 1, &ulen);
    if (!lua_isnil(L, m + 3)) {
        if (lua_type(L, m + 3) != LUA_TSTRING)
            sc_bad_request(L, fname, 4, "the body must be a string or nil");
        body = lua_tolstring(L, m + 3, &blen);
    }
    set_headers(L, t, m + 2, list_suffix(L, method, body, m + 2), fname);
    set_url(L, t, url, ulen, fname);
    set_method(t, method, body, blen);
    if (t->limits.timeout != limits.timeout)
        curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, limits.timeout);
    if (t->limits.connect_timeout != limits.connect_timeout)
        curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, limits.connect_timeout);
    set_ca(L, t, 0, limits.ca_file);
    set_ca(L, t, 1, limits.ca_path);
    t->limits = limits;
    t->limits.ca_file = t->limits.ca_path = NULL; /* only valid during the call */
    t->body.len = t->head.len = 0;
    t->overflow = 0;
    t->errbuf[0] = '\0';
}

#define SC_KEEP_BUFFER (64u * 1024u) /* larger response buffers go back to the allocator */

/* After a response reached Lua: nothing of it stays in the transport (token
 * responses included), and a large buffer is returned. */
static void forget(sc_buf *b)
{
    if (b->cap > SC_KEEP_BUFFER) {
        free(b->data);
        memset(b, 0, sizeof *b);
    } else if (b->len > 0) {
        memset(b->data, 0, b->len);
        b->len = 0;
    }
}

/* Push status, headers, body  |  nil, "TIMEOUT"|"NETWORK"|"INVALID_RESPONSE", message, unsent
 * (unsent: no byte of the request left, so even a command may be sent again); returns
 * the number of values pushed. */
int sc_push_outcome(lua_State *L, sc_transfer *t, CURLcode rc)
{
    long status = 0;
    if (rc != CURLE_OK) {
        long sent = 0;
        /* the server answered, with something libcurl will not take: a header line beyond
         * its limit, an HTTP/0.9 reply, a malformed status line or chunk */
        int answered = t->head.len > 0 || strstr(t->errbuf, "HTTP/0.9") != NULL;
        curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &sent);
        forget(&t->head);
        forget(&t->body);
        lua_pushnil(L);
        if (answered &&
            (rc == CURLE_OUT_OF_MEMORY || rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_WEIRD_SERVER_REPLY)) {
            lua_pushliteral(L, "INVALID_RESPONSE");
            lua_pushfstring(L, "The server's answer cannot be read: %s%s%s", curl_easy_strerror(rc),
                            t->errbuf[0] ? ": " : "", t->errbuf);
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            double total = 0;
            curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &total);
            lua_pushliteral(L, "TIMEOUT");
            if (sent == 0 && t->limits.connect_timeout < t->limits.timeout && total * 1000 < t->limits.timeout)
                /* before the request's deadline: the connection's own one */
                lua_pushfstring(L, "Connection timed out after %d ms", (int)t->limits.connect_timeout);
            else
                lua_pushfstring(L, "Request timed out after %d ms", (int)t->limits.timeout);
        } else if (t->overflow) {
            lua_pushliteral(L, "INVALID_RESPONSE");
            lua_pushfstring(L, "Response exceeds the limit of %d bytes", (int)t->limits.max_body);
        } else {
            lua_pushliteral(L, "NETWORK");
            if (rc == CURLE_SEND_FAIL_REWIND)
                lua_pushliteral(L, "The connection closed before any answer: the request may have reached the "
                                   "server and was not sent again");
            else
                lua_pushfstring(L, "%s%s%s%s", curl_easy_strerror(rc), t->errbuf[0] ? ": " : "", t->errbuf,
                                t->command && sent > 0 ? " (the request may have reached the server)" : "");
        }
        lua_pushboolean(L, sent == 0 && !answered && rc != CURLE_SEND_FAIL_REWIND);
        return 4;
    }
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    sc_pushint(L, status);
    lua_pushlstring(L, t->head.data ? t->head.data : "", t->head.len); /* parsed by core.parse */
    lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
    forget(&t->head);
    forget(&t->body);
    return 3;
}


void sc_limits_open(lua_State *L)
{
    lua_newtable(L); /* the metatable of compiled limits */
    lua_pushcfunction(L, compiled_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, "it is not for you");
    lua_setfield(L, -2, "__metatable");
    sc_rawsetp(L, LUA_REGISTRYINDEX, &sc_key_compiled);
    lua_pushlightuserdata(L, (void *)&sc_key_compiled);
    lua_setfield(L, -2, "LIMITS");
    lua_pushcfunction(L, l_compile_limits);
    lua_setfield(L, -2, "compileLimits");
}
