/* JSON: decoding is the core's own (strict RFC 8259, straight into the API's
 * conventions: JSON null becomes nil, whole numbers within 2^53 become integers on
 * Lua 5.3+); encoding goes through lua-cjson (a private cjson.safe instance, so a
 * user's cjson settings never change ours). */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

#define SC_JSON_DEPTH 200 /* deeper bodies are refused, never walked */

static const char sc_key_encode = 0;

/* cjson.safe is taken from the loaded-modules table (the registry's _LOADED,
 * which require fills): no call into Lua globals. The Lua layer requires it first. */
void sc_json_open(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
    lua_getfield(L, -1, "cjson.safe");
    if (!lua_istable(L, -1) && !lua_isuserdata(L, -1))
        luaL_error(L, "smartcar.core needs lua-cjson: require \"cjson.safe\" first (require \"smartcar\" does)");
    lua_getfield(L, -1, "new");
    lua_call(L, 0, 1);
    lua_getfield(L, -1, "encode");
    sc_rawsetp(L, LUA_REGISTRYINDEX, &sc_key_encode);
    lua_pop(L, 3);
}

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
        size_t len = (size_t)(p - start), i;
        char small[64], *text = small, point = localeconv()->decimal_point[0];
        if (len >= sizeof small)
            text = (char *)sc_newuserdata(r->L, len + 1); /* scratch space owned by Lua */
        memcpy(text, start, len);
        text[len] = '\0';
        if (point != '.')
            for (i = 0; i < len; i++)
                if (text[i] == '.')
                    text[i] = point;
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

int sc_json_try_encode(lua_State *L, int idx)
{
    size_t len, i;
    const char *s;
    luaL_Buffer b;
    idx = sc_absindex(L, idx);
    sc_rawgetp(L, LUA_REGISTRYINDEX, &sc_key_encode);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2)) {
        lua_remove(L, -2); /* leaves cjson's message */
        return 0;
    }
    lua_pop(L, 1);
    s = lua_tolstring(L, -1, &len);
    if (memchr(s, '/', len) == NULL)
        return 1;
    /* cjson 2.1.0 escapes '/' as "\/": drop that escape so the wire matches
     * what the other SDKs send.  Walk escape pairs so "\\" is never split. */
    luaL_buffinit(L, &b);
    for (i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len) {
            if (s[i + 1] != '/')
                luaL_addchar(&b, s[i]);
            luaL_addchar(&b, s[i + 1]);
            i++;
        } else {
            luaL_addchar(&b, s[i]);
        }
    }
    luaL_pushresult(&b);
    lua_remove(L, -2);
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
