/* One libcurl transfer: an easy handle, what it writes into, and how a request
 * {method, url, headers, body} is set on it. Shared by the Session's sequential
 * handle and its pool of concurrent ones (http.c). */
#ifndef SMARTCAR_TRANSFER_H
#define SMARTCAR_TRANSFER_H

#include <curl/curl.h>
#include "core.h"

typedef struct {
    char *data;
    size_t len, cap;
} sc_buf;

/* Per-request limits, from the Lua configuration (ms and bytes). */
typedef struct {
    long timeout, connect_timeout;
    size_t max_body;
    const char *ca_file, *ca_path; /* valid during the call only (strings of the limits table) */
} sc_limits;

/* One transfer: an easy handle and everything it writes into. */
typedef struct {
    CURL *easy;
    struct curl_slist *headers; /* the list libcurl holds */
    struct curl_slist *pending; /* a list being built: owned here so a raise cannot leak it */
    char *url;                  /* the URL last set: an unchanged URL is not parsed again */
    sc_buf body, head;
    sc_limits limits;
    char *ca[2];                /* the caFile and caPath set (copies), NULL: libcurl's defaults */
    char *default_ca[2];        /* libcurl's defaults, to go back to */
    int overflow;
    int index;                  /* start: the id of the request this transfer carries */
    int added;                  /* busy: added to the multi handle */
    int plain_get;              /* the method last set was a GET without a body */
    int command;                /* not GET or HEAD: never sent twice behind the caller's back */
    int last_headers;           /* registry ref of the frozen headers table the list was made from */
    const char *last_suffix;    /* and the line that ended the list then (see set_headers) */
    const char *send;           /* the body being sent (a Lua string kept alive by the caller) */
    size_t send_len, send_pos;
    char errbuf[CURL_ERROR_SIZE];
} sc_transfer;

/* Make a transfer (0 when libcurl cannot), its connections in `share`. */
int sc_transfer_init(sc_transfer *t, CURLSH *share);
void sc_transfer_release(lua_State *L, sc_transfer *t);
/* The limits of the table at idx (compiled or plain fields) over `base`. */
sc_limits sc_read_limits(lua_State *L, int idx, sc_limits base);
/* Set request {method, url, headers, body} at stack indices m..m+3 on t; `fname`
 * (request, start) names the method in the messages of a bad request. */
void sc_prepare(lua_State *L, sc_transfer *t, int m, sc_limits limits, const char *fname);
/* Push status, headers, body  |  nil, "TIMEOUT"|"NETWORK"|"INVALID_RESPONSE", message, unsent;
 * returns how many values it pushed (3 or 4). */
int sc_push_outcome(lua_State *L, sc_transfer *t, CURLcode rc);
/* Raise for a bad request: argument `arg` of method `fname`. */
void sc_bad_request(lua_State *L, const char *fname, int arg, const char *what);
/* core.LIMITS and core.compileLimits, into the module table on top. */
void sc_limits_open(lua_State *L);

#endif
