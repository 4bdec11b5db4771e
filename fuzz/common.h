/* Shared by the libFuzzer targets: one Lua 5.4 state per process with smartcar.core
 * opened in it, a reader that turns the fuzzer's bytes into Lua values, and the
 * checks every target makes. A finding is an abort() with a message on stderr
 * (libFuzzer then saves the input), or whatever ASan/UBSan report on the way. */
#ifndef SMARTCAR_FUZZ_COMMON_H
#define SMARTCAR_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_smartcar_core(lua_State *L);

/* Lua memory is capped, so an input cannot make the process run out of memory:
 * Lua raises "not enough memory" instead, which is an ordinary (caught) error. */
#define FZ_MEMORY_LIMIT (256u << 20)
static size_t fz_in_use;

static inline void *fz_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        fz_in_use -= osize;
        free(ptr);
        return NULL;
    }
    if (nsize > osize && nsize - osize > FZ_MEMORY_LIMIT - fz_in_use)
        return NULL;
    ptr = realloc(ptr, nsize);
    if (ptr != NULL)
        fz_in_use = fz_in_use - osize + nsize;
    return ptr;
}

static inline void fz_die(lua_State *L, const char *what)
{
    const char *msg = L && lua_gettop(L) > 0 ? lua_tostring(L, -1) : NULL;
    fprintf(stderr, "\n==FINDING== %s%s%s\n", what, msg ? ": " : "", msg ? msg : "");
    abort();
}

static inline int fz_panic(lua_State *L)
{
    fz_die(L, "Lua panic (an error outside any pcall)");
    return 0;
}

static lua_State *FZ_L;
static int FZ_CORE; /* registry ref of the module table */

/* The state, the module (core at FZ_CORE). Called once from LLVMFuzzerInitialize. */
static inline void fz_open(void)
{
    lua_State *L = lua_newstate(fz_alloc, NULL);
    if (L == NULL)
        fz_die(NULL, "lua_newstate failed");
    lua_atpanic(L, fz_panic);
    luaL_openlibs(L);
    /* The SDK reads credentials from the environment: the targets never do. */
    unsetenv("SMARTCAR_CLIENT_ID");
    unsetenv("SMARTCAR_CLIENT_SECRET");
    unsetenv("SMARTCAR_REDIRECT_URI");
    lua_pushcfunction(L, luaopen_smartcar_core);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK)
        fz_die(L, "luaopen_smartcar_core failed");
    FZ_CORE = luaL_ref(L, LUA_REGISTRYINDEX);
    FZ_L = L;
}

/* Push core[name]. */
static inline void fz_core(lua_State *L, const char *name)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, FZ_CORE);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

/* After every input: nothing stays on the stack, every object made is collected
 * (so finalizers run on what the input created, deterministically per input). */
static inline void fz_reset(lua_State *L)
{
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT, 0);
}

/* --- the reader: bytes to values; an exhausted reader yields zeros. --- */
typedef struct {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline unsigned fz_byte(fz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline unsigned fz_u16(fz_in *in)
{
    unsigned hi = fz_byte(in);
    return hi << 8 | fz_byte(in);
}

static inline void fz_bytes(fz_in *in, void *out, size_t n)
{
    size_t k = n < in->n ? n : in->n;
    memset(out, 0, n);
    memcpy(out, in->p, k);
    in->p += k;
    in->n -= k;
}

/* A string of at most max bytes: a length byte, then that many bytes. */
static inline void fz_push_raw(lua_State *L, fz_in *in, size_t max)
{
    size_t len = fz_byte(in) % (max + 1);
    if (len > in->n)
        len = in->n;
    lua_pushlstring(L, (const char *)in->p, len);
    in->p += len;
    in->n -= len;
}

/* A string the Lua layer has already checked (core.checkString(s, i, f, true)):
 * no NUL, CR or LF. Those bytes become '_' so the rest of the input still counts. */
static inline void fz_push_clean(lua_State *L, fz_in *in, size_t max)
{
    size_t len = fz_byte(in) % (max + 1), i;
    char buf[256];
    if (len > in->n)
        len = in->n;
    if (len > sizeof buf)
        len = sizeof buf;
    for (i = 0; i < len; i++) {
        char c = (char)in->p[i];
        buf[i] = c == '\0' || c == '\r' || c == '\n' ? '_' : c;
    }
    in->p += len;
    in->n -= len;
    lua_pushlstring(L, buf, len);
}

/* Words the SDK looks for: option names, enum values, header names, JSON keys. */
static const char *const fz_words[] = {
    "", "metric", "imperial", "2.0", "1.0", "3", "flags", "unitSystem", "version", "clientId", "clientSecret",
    "redirectUri", "mode", "testMode", "test", "live", "simulated", "forcePrompt", "state", "makeBypass",
    "singleSelect", "user", "enabled", "vin", "authorization", "Authorization", "content-type", "user-agent",
    "sc-unit-system", "Bearer x", "authorization_code", "refresh_token", "segment", "limit", "offset", "cursor",
    "a:b", "a b", "%s%s%s%n", "%d", "%", "\r\n", "x\0y", "\xff\xfe", "GET", "POST", "http://h", "https://h:1/p",
    "country", "scope", "read_odometer", "true", "false", "0", "-1", "1e308", "nan", "\t",
};
#define FZ_NWORDS (sizeof fz_words / sizeof fz_words[0])

static inline void fz_push_word(lua_State *L, fz_in *in)
{
    unsigned i = fz_byte(in) % FZ_NWORDS;
    /* "x\0y" has an embedded NUL: push it with its real length */
    lua_pushlstring(L, fz_words[i], strcmp(fz_words[i], "x") == 0 ? 3 : strlen(fz_words[i]));
}

static inline void fz_push_value(lua_State *L, fz_in *in, int depth);

/* A long string (up to 6000 bytes of one byte value): longer than a luaL_Buffer's
 * first block (LUAL_BUFFERSIZE), so buffers have to grow. */
static inline void fz_push_long(lua_State *L, fz_in *in)
{
    size_t len = fz_u16(in) % 6001;
    char c = (char)fz_byte(in);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, len);
    memset(p, c, len);
    luaL_pushresultsize(&b, len);
}

/* Set by a target: table keys get no NUL byte (steering around a known finding). */
static int fz_no_nul_keys;

static inline void fz_clean_key(lua_State *L)
{
    size_t len, j;
    const char *s;
    char buf[64];
    if (!fz_no_nul_keys || lua_type(L, -1) != LUA_TSTRING)
        return;
    s = lua_tolstring(L, -1, &len);
    if (len > sizeof buf || memchr(s, '\0', len) == NULL)
        return;
    for (j = 0; j < len; j++)
        buf[j] = s[j] == '\0' ? '_' : s[j];
    lua_pop(L, 1);
    lua_pushlstring(L, buf, len);
}

/* A table of at most 6 entries; keys mostly strings (words or raw), values any. */
static inline void fz_push_table(lua_State *L, fz_in *in, int depth)
{
    unsigned n = fz_byte(in) % 7, i;
    lua_createtable(L, 0, (int)n);
    for (i = 0; i < n && in->n > 0; i++) {
        unsigned k = fz_byte(in) % 8;
        if (k < 4)
            fz_push_word(L, in);
        else if (k < 6)
            fz_push_raw(L, in, 16);
        else
            lua_pushinteger(L, (lua_Integer)(fz_byte(in) % 8) + (k == 7 ? 0 : 1));
        fz_clean_key(L);
        fz_push_value(L, in, depth + 1);
        if (lua_isnil(L, -2) || (lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) != lua_tonumber(L, -2))) {
            lua_pop(L, 2); /* a nil or NaN key cannot be set */
            continue;
        }
        lua_rawset(L, -3);
    }
}

/* Any value a caller could pass: nil, booleans, integers, floats (NaN and the
 * infinities too), strings (words, raw bytes, long runs), tables (nested up to
 * depth 3), a function or a light userdata. */
static inline void fz_push_value(lua_State *L, fz_in *in, int depth)
{
    switch (fz_byte(in) % 12) {
    case 0:
        lua_pushnil(L);
        break;
    case 1:
        lua_pushboolean(L, fz_byte(in) & 1);
        break;
    case 2: {
        int64_t v;
        fz_bytes(in, &v, sizeof v);
        lua_pushinteger(L, (lua_Integer)v);
        break;
    }
    case 3: {
        double d;
        fz_bytes(in, &d, sizeof d);
        lua_pushnumber(L, d);
        break;
    }
    case 4:
        lua_pushinteger(L, (lua_Integer)fz_byte(in) - 16);
        break;
    case 5:
    case 6:
        fz_push_word(L, in);
        break;
    case 7:
    case 8:
        fz_push_raw(L, in, 64);
        break;
    case 9:
    case 10:
        if (depth < 3)
            fz_push_table(L, in, depth);
        else
            lua_pushnil(L);
        break;
    default:
        switch (fz_byte(in) % 4) {
        case 0:
            lua_pushcfunction(L, fz_panic);
            break;
        case 1:
            lua_pushlightuserdata(L, (void *)in);
            break;
        default:
            fz_push_long(L, in);
            break;
        }
        break;
    }
}

/* --- checks --- */

/* abort when the string at idx (if a string) holds NUL, CR or LF. */
static inline void fz_no_breaks(lua_State *L, int idx, const char *what)
{
    size_t len;
    const char *s;
    if (lua_type(L, idx) != LUA_TSTRING)
        return;
    s = lua_tolstring(L, idx, &len);
    if (memchr(s, '\0', len) || memchr(s, '\r', len) || memchr(s, '\n', len)) {
        size_t i;
        fprintf(stderr, "\n%s contains NUL, CR or LF: \"", what);
        for (i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c >= 32 && c < 127 && c != '\\' && c != '"')
                fputc(c, stderr);
            else
                fprintf(stderr, "\\x%02x", c);
        }
        fputs("\"", stderr);
        fz_die(NULL, "a built request would inject a line");
    }
}

/* The headers table at idx: string names and values, no NUL/CR/LF in either. */
static inline void fz_check_headers(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        fz_die(L, "headers are not a table");
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            fz_die(L, "a header name or value is not a string");
        fz_no_breaks(L, -2, "a header name");
        fz_no_breaks(L, -1, "a header value");
        lua_pop(L, 1);
    }
}

/* Call the function below its nargs arguments; a raised error must be a string.
 * Returns the number of results (left on the stack), or -1 when it raised. */
/* A memory error, not a message that merely repeats those words from the input. */
static inline int fz_is_oom(const char *m)
{
    size_t n = strlen(m), k = sizeof "not enough memory" - 1;
    return n >= k && strcmp(m + n - k, "not enough memory") == 0;
}

static inline int fz_call(lua_State *L, int nargs, const char *name)
{
    int base = lua_gettop(L) - nargs - 1, rc;
    if ((rc = lua_pcall(L, nargs, LUA_MULTRET, 0)) != LUA_OK) {
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pushfstring(L, "%s raised a %s, not a message", name, luaL_typename(L, -1));
            fz_die(L, "bad error value");
        }
        if (rc == LUA_ERRMEM || fz_is_oom(lua_tostring(L, -1))) {
            fprintf(stderr, "\n%s ran out of memory (256 MB) on an input of a few bytes\n", name);
            fz_die(L, "out of memory");
        }
        lua_pop(L, 1);
        return -1;
    }
    return lua_gettop(L) - base;
}

#endif
