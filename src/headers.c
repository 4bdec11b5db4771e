/* Response headers. The libcurl transport hands over the raw header block (one
 * string: creating a Lua string per header name and value costs more than the
 * rest of a request's parsing), so parse reads the few headers it needs straight
 * from the block, and builds the {lower-cased name = value} table only for the
 * shapes that return every header. A transport may also give that table itself. */
#include <ctype.h>
#include <string.h>
#include "core.h"

typedef struct {
    const char *name, *value;
    size_t nlen, vlen;
} sc_line;

/* The next "name: value" line of the block [*p, end), trimmed; 0 at the end. */
static int next_line(const char **p, const char *end, sc_line *h)
{
    while (*p < end) {
        const char *s = *p, *eol = memchr(s, '\n', (size_t)(end - s)), *colon, *v, *ve;
        if (eol == NULL)
            eol = end;
        *p = eol + 1;
        colon = memchr(s, ':', (size_t)(eol - s));
        if (colon == NULL || colon == s)
            continue; /* the status line, the blank line */
        v = colon + 1;
        ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        h->name = s;
        h->nlen = (size_t)(colon - s);
        h->value = v;
        h->vlen = (size_t)(ve - v);
        return 1;
    }
    return 0;
}

static int same_name(const sc_line *h, const char *lower, size_t len)
{
    size_t i;
    if (h->nlen != len || tolower((unsigned char)h->name[0]) != lower[0])
        return 0;
    for (i = 0; i < len; i++)
        if (tolower((unsigned char)h->name[i]) != lower[i])
            return 0;
    return 1;
}

void sc_get_headers(lua_State *L, int hidx, const char *const names[], int n)
{
    size_t len, lens[8];
    const char *p, *end;
    unsigned char first[256] = {0}; /* lines can only match when their first letter does */
    int i, base = lua_gettop(L) + 1, type = hidx ? lua_type(L, hidx) : LUA_TNIL;
    luaL_checkstack(L, n + 3, "too many headers");
    for (i = 0; i < n; i++) {
        if (type == LUA_TTABLE)
            lua_getfield(L, hidx, names[i]);
        else
            lua_pushnil(L);
        lens[i] = strlen(names[i]);
        first[(unsigned char)names[i][0]] = 1;
        first[(unsigned char)toupper((unsigned char)names[i][0])] = 1;
    }
    if (type != LUA_TSTRING)
        return;
    p = lua_tolstring(L, hidx, &len);
    end = p + len;
    while (p < end) { /* one pass over the block for all the names */
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        sc_line h;
        const char *line = p;
        if (eol == NULL)
            eol = end;
        p = eol + 1;
        if (!first[(unsigned char)*line] || !next_line(&line, eol, &h))
            continue;
        for (i = 0; i < n; i++) {
            if (!same_name(&h, names[i], lens[i]))
                continue;
            if (lua_isnil(L, base + i)) {
                lua_pushlstring(L, h.value, h.vlen);
            } else { /* repeated: joined, as in the table */
                lua_pushvalue(L, base + i);
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, h.value, h.vlen);
                lua_concat(L, 3);
            }
            lua_replace(L, base + i);
            break;
        }
    }
}

void sc_get_header(lua_State *L, int hidx, const char *name)
{
    sc_get_headers(L, hidx, &name, 1);
}

void sc_push_header_table(lua_State *L, int hidx)
{
    const char *p, *end;
    size_t len;
    sc_line h;
    char name[256];
    if (lua_type(L, hidx) != LUA_TSTRING) {
        lua_pushvalue(L, hidx);
        return;
    }
    p = lua_tolstring(L, hidx, &len);
    end = p + len;
    lua_createtable(L, 0, 16);
    while (next_line(&p, end, &h)) {
        size_t i;
        if (h.nlen >= sizeof name)
            continue;
        for (i = 0; i < h.nlen; i++)
            name[i] = (char)tolower((unsigned char)h.name[i]);
        lua_pushlstring(L, name, h.nlen);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, h.value, h.vlen);
        } else {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, h.value, h.vlen);
            lua_concat(L, 3);
        }
        lua_rawset(L, -3);
    }
}
