/* JSON, both ways, the core's own: decoding is strict RFC 8259, straight into the
 * API's conventions (JSON null becomes nil, whole numbers within 2^53 become
 * integers on Lua 5.3+); encoding is compact and deterministic (object keys sorted),
 * so a body is the same bytes on every run and every Lua. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

#define SC_JSON_DEPTH 200 /* deeper bodies are refused, never walked */

/* --- the decoder ------------------------------------------------------------
 * A recursive descent over [p, end) that pushes Lua values as it goes. Nothing
 * is allocated outside Lua, so a memory error raised inside it leaks nothing.
 * Stricter than lua-cjson where RFC 8259 is: no raw control characters in
 * strings, no ".5", "1." or "01" numbers; what it accepts, cjson decodes to the
 * same value (fuzz/json.c checks this). */
typedef struct {
    lua_State *L;
    const char *p, *end;
    int depth;
} sc_reader;

static void skip_space(sc_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static int hex4(const char *p)
{
    int i, v = 0;
    for (i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A \uXXXX escape at p (surrogate pairs joined) appended as UTF-8; the escape's
 * length, or 0 when it is not a valid one. */
static int unicode_escape(const char *p, const char *end, luaL_Buffer *b)
{
    int len = 6;
    long cp;
    if (end - p < 6 || (cp = hex4(p + 2)) < 0)
        return 0;
    if ((cp & 0xF800) == 0xD800) { /* a surrogate: a high one, then a low one */
        int low;
        if ((cp & 0x400) || end - p < 12 || p[6] != '\\' || p[7] != 'u' || (low = hex4(p + 8)) < 0 ||
            (low & 0xFC00) != 0xDC00)
            return 0;
        cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
        len = 12;
    }
    if (cp < 0x80) {
        luaL_addchar(b, (char)cp);
    } else if (cp < 0x800) {
        luaL_addchar(b, (char)(0xC0 | (cp >> 6)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        luaL_addchar(b, (char)(0xE0 | (cp >> 12)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        luaL_addchar(b, (char)(0xF0 | (cp >> 18)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    }
    return len;
}

/* The string whose opening quote is at r->p. */
static int read_string(sc_reader *r)
{
    const char *p = ++r->p, *end = r->end;
    luaL_Buffer b;
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    if (p < end && *p == '"') { /* the common case: nothing to unescape */
        lua_pushlstring(r->L, r->p, (size_t)(p - r->p));
        r->p = p + 1;
        return 1;
    }
    if (!lua_checkstack(r->L, LUA_MINSTACK))
        return 0;
    luaL_buffinit(r->L, &b);
    luaL_addlstring(&b, r->p, (size_t)(p - r->p));
    while (p < end && *p != '"') {
        if ((unsigned char)*p < 0x20)
            return 0;
        if (*p != '\\') {
            luaL_addchar(&b, *p++);
            continue;
        }
        if (end - p < 2)
            return 0;
        switch (p[1]) {
        case '"': case '\\': case '/': luaL_addchar(&b, p[1]); break;
        case 'b': luaL_addchar(&b, '\b'); break;
        case 'f': luaL_addchar(&b, '\f'); break;
        case 'n': luaL_addchar(&b, '\n'); break;
        case 'r': luaL_addchar(&b, '\r'); break;
        case 't': luaL_addchar(&b, '\t'); break;
        case 'u': {
            int n = unicode_escape(p, end, &b);
            if (n == 0)
                return 0;
            p += n;
            continue;
        }
        default: return 0;
        }
        p += 2;
    }
    if (p >= end)
        return 0;
    luaL_pushresult(&b);
    r->p = p + 1;
    return 1;
}

static int is_digit(const char *p, const char *end) { return p < end && *p >= '0' && *p <= '9'; }

/* A number (RFC 8259's grammar exactly). When its digits fit in 15 (so in a
 * double exactly) and its power of ten is within 10^22 (exact as well), one IEEE
 * multiplication or division gives the correctly rounded value, as strtod would
 * (Clinger's fast path); the rest go to strtod, with the locale's decimal point (a
 * host may have changed LC_NUMERIC). */
static int read_number(sc_reader *r)
{
    static const double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *start = r->p, *p = r->p, *end = r->end;
    int negative = *p == '-', digits = 0, scale = 0, exponent = 0, exponent_sign = 1, exponent_digits = 0;
    long long mantissa = 0;
    lua_Number n;
    p += negative;
    if (!is_digit(p, end))
        return 0;
    if (*p == '0') {
        p++;
    } else {
        for (; is_digit(p, end); p++, digits++)
            mantissa = digits < 18 ? mantissa * 10 + (*p - '0') : mantissa;
    }
    if (p < end && *p == '.') {
        if (!is_digit(++p, end))
            return 0;
        for (; is_digit(p, end); p++, digits++, scale++)
            mantissa = digits < 18 ? mantissa * 10 + (*p - '0') : mantissa;
    }
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            exponent_sign = *p++ == '-' ? -1 : 1;
        if (!is_digit(p, end))
            return 0;
        for (; is_digit(p, end); p++, exponent_digits++)
            exponent = exponent_digits < 6 ? exponent * 10 + (*p - '0') : exponent;
    }
    r->p = p;
    scale -= exponent_sign * exponent;
    if (digits <= 15 && exponent_digits < 6 && scale >= -22 && scale <= 22) {
        if (scale == 0) {
            sc_pushint(r->L, negative ? -mantissa : mantissa); /* a whole number, exactly */
            return 1;
        }
        n = scale > 0 ? (double)mantissa / powers[scale] : (double)mantissa * powers[-scale];
    } else {
        /* strtod reads the locale's decimal point, which may be several bytes */
        const char *point = localeconv()->decimal_point;
        size_t len = (size_t)(p - start), plen = point[0] != '\0' ? strlen(point) : 1, i, j;
        char small[64], *text = small;
        if (point[0] == '\0')
            point = ".";
        if (len + plen > sizeof small) /* a JSON number has one point at most */
            text = (char *)sc_newuserdata(r->L, len + plen); /* scratch space owned by Lua */
        for (i = j = 0; i < len; i++) {
            if (start[i] == '.') {
                memcpy(text + j, point, plen);
                j += plen;
            } else {
                text[j++] = start[i];
            }
        }
        text[j] = '\0';
        n = (lua_Number)strtod(text, NULL);
        if (text != small)
            lua_pop(r->L, 1);
        negative = 0;
    }
    if (negative)
        n = -n;
#if SC_HAS_INTEGERS
    if (n == floor(n) && fabs(n) <= 9007199254740992.0) {
        lua_pushinteger(r->L, (lua_Integer)n);
        return 1;
    }
#endif
    lua_pushnumber(r->L, n);
    return 1;
}

static int read_literal(sc_reader *r, const char *word, size_t len)
{
    if ((size_t)(r->end - r->p) < len || memcmp(r->p, word, len) != 0)
        return 0;
    r->p += len;
    return 1;
}

static int read_value(sc_reader *r);

/* An array or object whose opening bracket is at r->p; `object` says which. */
static int read_container(sc_reader *r, int object)
{
    lua_State *L = r->L;
    char close = object ? '}' : ']';
    lua_Integer n = 0;
    if (++r->depth > SC_JSON_DEPTH || !lua_checkstack(L, 4))
        return 0;
    /* room for a few keys at once (a typical answer, and the meta the SDK adds to it),
     * instead of growing the table key by key */
    if (object)
        lua_createtable(L, 0, 4);
    else
        lua_newtable(L);
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 1;
    }
    for (;;) {
        if (object) {
            if (r->p >= r->end || *r->p != '"' || !read_string(r))
                return 0;
            skip_space(r);
            if (r->p >= r->end || *r->p != ':')
                return 0;
            r->p++;
            skip_space(r);
            if (!read_value(r))
                return 0;
            lua_rawset(L, -3); /* a null value leaves (or makes) the key absent */
        } else {
            if (!read_value(r))
                return 0;
            lua_rawseti(L, -2, (int)++n); /* a null leaves a hole */
        }
        skip_space(r);
        if (r->p >= r->end)
            return 0;
        if (*r->p == close) {
            r->p++;
            r->depth--;
            return 1;
        }
        if (*r->p != ',')
            return 0;
        r->p++;
        skip_space(r);
    }
}

/* Push the value at r->p (nil for null): 1, or 0 when it is not JSON. */
static int read_value(sc_reader *r)
{
    if (r->p >= r->end)
        return 0;
    switch (*r->p) {
    case '{': return read_container(r, 1);
    case '[': return read_container(r, 0);
    case '"': return read_string(r);
    case 't': lua_pushboolean(r->L, 1); return read_literal(r, "true", 4);
    case 'f': lua_pushboolean(r->L, 0); return read_literal(r, "false", 5);
    case 'n': lua_pushnil(r->L); return read_literal(r, "null", 4);
    default: return read_number(r);
    }
}

/* Push the JSON text at idx decoded (nil for null) and return 1, or push nothing
 * and return 0 when it is not JSON (or nests deeper than SC_JSON_DEPTH). */
int sc_json_decode(lua_State *L, int idx)
{
    int top = lua_gettop(L);
    size_t len;
    sc_reader r;
    r.L = L;
    r.p = lua_tolstring(L, idx, &len);
    r.end = r.p + len;
    r.depth = 0;
    skip_space(&r);
    if (read_value(&r)) {
        skip_space(&r);
        if (r.p == r.end)
            return 1;
    }
    lua_settop(L, top);
    return 0;
}

/* --- the encoder ------------------------------------------------------------
 * One luaL_Buffer. A buffer keeps its pieces on the stack (5.1, LuaJIT) or in a box
 * at the top (5.2+), so every buffer call must find the stack as the previous one
 * left it: nothing stays pushed across one. What the walk keeps lives below the
 * buffer instead: `work` (work[2d-1] the table at depth d, work[2d] its keys sorted, or
 * its one key) and `hold` (the string being copied, anchored meanwhile). So the stack use is the
 * same at any depth, and all memory is Lua's: an error, a memory error too, leaves
 * nothing to free. Tables are read raw: no metamethod runs. */
typedef struct {
    lua_State *L;
    luaL_Buffer b;
    int work, hold;
    const char *err, *what; /* the message: err followed by what (a type name) or nothing */
} sc_writer;

static int fail(sc_writer *w, const char *err, const char *what)
{
    w->err = err;
    w->what = what;
    return 0;
}

static void put_integer(sc_writer *w, long long v)
{
    char text[24], *p = text + sizeof text;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    luaL_addlstring(&w->b, p, (size_t)(text + sizeof text - p));
}

/* The common short decimals (80.5, 0.25, 12.3456) without printf: the fewest decimals
 * k such that x is m / 10^k exactly, m a whole number of at most 15 digits, written as
 * %.15g would (within [1e-4, 1e15) %g writes no exponent). Both m and 10^k are exact,
 * so the division is rounded once, as strtod rounds that decimal: equal means it reads
 * back. */
static int put_short(sc_writer *w, double x)
{
    static const double tens[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
    double a = fabs(x), m = 0;
    char text[48], *p = text + sizeof text;
    unsigned long long digits;
    int k, i;
    if (!(a >= 1e-4 && a < 1e15))
        return 0;
    for (k = 1; k < (int)(sizeof tens / sizeof tens[0]); k++) {
        m = floor(a * tens[k] + 0.5); /* the nearest whole number, exactly (below 2^52) */
        if (m >= 1e15)
            return 0;
        if (m / tens[k] == a)
            break;
    }
    if (k == (int)(sizeof tens / sizeof tens[0]))
        return 0;
    digits = (unsigned long long)m;
    for (i = 0; i < k; i++, digits /= 10)
        *--p = (char)('0' + digits % 10);
    *--p = '.';
    do
        *--p = (char)('0' + digits % 10);
    while ((digits /= 10) != 0);
    if (x < 0)
        *--p = '-';
    luaL_addlstring(&w->b, p, (size_t)(text + sizeof text - p));
    return 1;
}

/* Whole values within 2^53 as integers ("-0" too: "0"); others as the shortest of
 * %.15g, %.16g, %.17g that reads back as the same double (%.17g always does). */
static int put_double(sc_writer *w, double x)
{
    char text[40];
    int prec, len = 0, i, j;
    if (isnan(x))
        return fail(w, "cannot encode NaN", NULL);
    if (isinf(x))
        return fail(w, x > 0 ? "cannot encode inf" : "cannot encode -inf", NULL);
    if (x == floor(x) && fabs(x) < 9007199254740992.0) {
        put_integer(w, (long long)x);
        return 1;
    }
    if (put_short(w, x))
        return 1;
    for (prec = 15; prec <= 17; prec++) {
        len = snprintf(text, sizeof text, "%.*g", prec, x);
        if (prec == 17 || strtod(text, NULL) == x) /* strtod reads what printf wrote, in the same locale */
            break;
    }
    /* %g writes digits, signs, 'e' and the locale's decimal point (LC_NUMERIC may be
     * anything, even several bytes): that point becomes '.' */
    for (i = j = 0; i < len; i++) {
        char c = text[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e')
            text[j++] = c;
        else if (j == 0 || text[j - 1] != '.')
            text[j++] = '.';
    }
    luaL_addlstring(&w->b, text, (size_t)j);
    return 1;
}

/* The length of the UTF-8 sequence at p (2 to 4), or 0 when it is not one: a stray
 * continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or cut short. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n, i;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0) {
        n = 2;
    } else if (c < 0xF0) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : lo; /* below: overlong */
        hi = c == 0xED ? 0x9F : hi; /* above: surrogates */
    } else {
        n = 4;
        lo = c == 0xF0 ? 0x90 : lo; /* below: overlong */
        hi = c == 0xF4 ? 0x8F : hi; /* above: beyond U+10FFFF */
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* A string, quoted: '"', '\\' and the bytes below 0x20 escaped ('/' is not, as in the
 * other SDKs), UTF-8 passed through once checked. */
static int put_string(sc_writer *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    luaL_addchar(&w->b, '"');
    while (p < end) {
        unsigned c = *p;
        if (c >= 0x20 && c != '"' && c != '\\') {
            size_t n = c < 0x80 ? 1 : utf8_length(p, end);
            if (n == 0)
                return fail(w, "invalid UTF-8 in a string", NULL);
            p += n;
            continue;
        }
        luaL_addlstring(&w->b, (const char *)run, (size_t)(p - run));
        luaL_addchar(&w->b, '\\');
        switch (c) {
        case '"': case '\\': luaL_addchar(&w->b, (char)c); break;
        case '\b': luaL_addchar(&w->b, 'b'); break;
        case '\f': luaL_addchar(&w->b, 'f'); break;
        case '\n': luaL_addchar(&w->b, 'n'); break;
        case '\r': luaL_addchar(&w->b, 'r'); break;
        case '\t': luaL_addchar(&w->b, 't'); break;
        default:
            luaL_addlstring(&w->b, "u00", 3);
            luaL_addchar(&w->b, hex[c >> 4]);
            luaL_addchar(&w->b, hex[c & 15]);
        }
        run = ++p;
    }
    luaL_addlstring(&w->b, (const char *)run, (size_t)(p - run));
    luaL_addchar(&w->b, '"');
    return 1;
}

typedef struct {
    const char *s;
    size_t len;
    int i; /* its index in the keys table */
} sc_key;

static int key_order(const void *a, const void *b)
{
    const sc_key *x = (const sc_key *)a, *y = (const sc_key *)b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Below the table on top, which has n > 1 keys, all strings: push them as a sequence,
 * sorted bytewise; *n becomes their number. The sequence anchors the strings the sort
 * reads through pointers; once it exists nothing allocates until they are sorted, so
 * no collection (no finalizer) runs meanwhile. */
static int push_sorted_keys(sc_writer *w, int *n)
{
    lua_State *L = w->L;
    sc_key small[32], *keys = small;
    int i = 0, j;
    lua_createtable(L, *n, 0);
    if ((size_t)*n > sizeof small / sizeof small[0])
        keys = (sc_key *)sc_newuserdata(L, (size_t)*n * sizeof *keys); /* owned by Lua */
    else
        lua_pushnil(L);
    lua_pushnil(L);
    while (lua_next(L, -4)) {
        lua_pop(L, 1);
        if (i == *n || lua_type(L, -1) != LUA_TSTRING) /* changed since counted (a finalizer) */
            return fail(w, "sparse or mixed table keys", NULL);
        keys[i].s = lua_tolstring(L, -1, &keys[i].len);
        keys[i].i = i + 1;
        lua_pushvalue(L, -1);
        lua_rawseti(L, -4, ++i);
    }
    if (keys == small) { /* insertion sort: few keys, often already in order */
        for (j = 1; j < i; j++) {
            sc_key k = keys[j];
            int at = j;
            for (; at > 0 && key_order(&keys[at - 1], &k) > 0; at--)
                keys[at] = keys[at - 1];
            keys[at] = k;
        }
    } else {
        qsort(keys, (size_t)i, sizeof *keys, key_order);
    }
    /* Put the sequence in that order in place, one cycle of the permutation at a time
     * (keys[at].i: where the key for position at is now; 0: placed). */
    for (j = 0; j < i; j++) {
        int at = j, from;
        if (keys[j].i == 0 || keys[j].i == j + 1)
            continue;
        lua_rawgeti(L, -2, j + 1);
        while ((from = keys[at].i) != j + 1) {
            lua_rawgeti(L, -3, from);
            lua_rawseti(L, -4, at + 1);
            keys[at].i = 0;
            at = from - 1;
        }
        lua_rawseti(L, -3, at + 1);
        keys[at].i = 0;
    }
    lua_pop(L, 1);
    *n = i;
    return 1;
}

static int put_value(sc_writer *w, int depth);

/* The table on top, at `depth`: keys 1..n an array, all strings an object (keys
 * sorted), none "{}". */
static int put_table(sc_writer *w, int depth)
{
    lua_State *L = w->L;
    int count = 0, strings = 0, whole = 1, i;
    lua_Number max = 0;
    if (depth > SC_JSON_DEPTH)
        return fail(w, "nested too deep", NULL); /* cycles end here too */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        count++;
        if (lua_type(L, -1) == LUA_TSTRING) {
            strings++;
        } else if (lua_type(L, -1) == LUA_TNUMBER) {
            lua_Number k = lua_tonumber(L, -1);
            if (k >= 1 && k == floor(k))
                max = k > max ? k : max;
            else
                whole = 0;
        } else {
            return fail(w, "cannot encode a table key of type ", luaL_typename(L, -1));
        }
    }
    if (strings == count) { /* an object, or empty */
        if (count == 0) {
            lua_pop(L, 1);
            luaL_addlstring(&w->b, "{}", 2);
            return 1;
        }
        if (count == 1) { /* its one key stands for the sequence */
            lua_pushnil(L);
            lua_next(L, -2); /* nothing allocated since it was counted: the key is there */
            lua_pop(L, 1);
        } else if (!push_sorted_keys(w, &count)) {
            return 0;
        }
        lua_rawseti(L, w->work, 2 * depth);
        lua_rawseti(L, w->work, 2 * depth - 1);
        luaL_addchar(&w->b, '{');
        for (i = 1; i <= count; i++) {
            size_t len;
            const char *s;
            if (i > 1)
                luaL_addchar(&w->b, ',');
            lua_rawgeti(L, w->work, 2 * depth);
            if (count > 1) {
                lua_rawgeti(L, -1, i);
                lua_remove(L, -2);
            }
            lua_replace(L, w->hold);
            s = lua_tolstring(L, w->hold, &len);
            if (!put_string(w, s, len))
                return 0;
            luaL_addchar(&w->b, ':');
            lua_rawgeti(L, w->work, 2 * depth - 1);
            lua_pushvalue(L, w->hold);
            lua_rawget(L, -2);
            lua_remove(L, -2);
            if (!put_value(w, depth + 1))
                return 0;
        }
        luaL_addchar(&w->b, '}');
        return 1;
    }
    /* n distinct whole keys, all within 1..n: exactly 1..n */
    if (strings > 0 || !whole || max != (lua_Number)count)
        return fail(w, "sparse or mixed table keys", NULL);
    lua_rawseti(L, w->work, 2 * depth - 1);
    luaL_addchar(&w->b, '[');
    for (i = 1; i <= count; i++) {
        if (i > 1)
            luaL_addchar(&w->b, ',');
        lua_rawgeti(L, w->work, 2 * depth - 1);
        lua_rawgeti(L, -1, i);
        lua_remove(L, -2);
        if (!put_value(w, depth + 1))
            return 0;
    }
    luaL_addchar(&w->b, ']');
    return 1;
}

/* The value on top, popped before anything is written. */
static int put_value(sc_writer *w, int depth)
{
    lua_State *L = w->L;
    int type = lua_type(L, -1);
    if (type == LUA_TSTRING) {
        size_t len;
        const char *s;
        lua_replace(L, w->hold);
        s = lua_tolstring(L, w->hold, &len);
        return put_string(w, s, len);
    }
    if (type == LUA_TTABLE)
        return put_table(w, depth);
    if (type == LUA_TNUMBER) {
        double x;
#if SC_HAS_INTEGERS
        if (lua_isinteger(L, -1)) {
            long long v = (long long)lua_tointeger(L, -1);
            lua_pop(L, 1);
            put_integer(w, v);
            return 1;
        }
#endif
        x = (double)lua_tonumber(L, -1);
        lua_pop(L, 1);
        return put_double(w, x);
    }
    if (type == LUA_TBOOLEAN) {
        int v = lua_toboolean(L, -1);
        lua_pop(L, 1);
        luaL_addstring(&w->b, v ? "true" : "false");
        return 1;
    }
    /* nil, and the NULL light userdata that stands for null (cjson.null, ngx.null) */
    if (type == LUA_TNIL || (type == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL)) {
        lua_pop(L, 1);
        luaL_addlstring(&w->b, "null", 4);
        return 1;
    }
    return fail(w, "cannot encode a ", luaL_typename(L, -1));
}

int sc_json_try_encode(lua_State *L, int idx)
{
    int top = lua_gettop(L);
    sc_writer w;
    idx = sc_absindex(L, idx);
    /* work, hold, the walk's few pushes and a 5.1 buffer's pieces: the same at any depth */
    luaL_checkstack(L, 2 * LUA_MINSTACK, "JSON encoding");
    w.L = L;
    w.err = w.what = NULL;
    if (lua_type(L, idx) == LUA_TTABLE)
        lua_createtable(L, 8, 0);
    else
        lua_pushnil(L);
    w.work = top + 1;
    lua_pushnil(L);
    w.hold = top + 2;
    luaL_buffinit(L, &w.b);
    lua_pushvalue(L, idx);
    if (!put_value(&w, 1)) {
        lua_settop(L, top); /* the buffer with the rest */
        lua_pushfstring(L, "%s%s", w.err, w.what != NULL ? w.what : "");
        return 0;
    }
    luaL_pushresult(&w.b);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
}

/* core.decode(s) --> value | nil, message */
static int l_decode(lua_State *L)
{
    luaL_checkstring(L, 1);
    if (sc_json_decode(L, 1))
        return 1;
    lua_pushnil(L);
    lua_pushliteral(L, "invalid JSON");
    return 2;
}

/* core.encode(value) --> compact JSON string */
static int l_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    if (!sc_json_try_encode(L, 1))
        return sc_arg_error(L, 1, "encode", "cannot be encoded as JSON: %s", lua_tostring(L, -1));
    return 1;
}

const luaL_Reg sc_json_functions[] = {{"decode", l_decode}, {"encode", l_encode}, {NULL, NULL}};
