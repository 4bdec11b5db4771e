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

/* The value after the colon of a line ending at eol, without surrounding blanks. */
static const char *trim_value(const char *colon, const char *eol, size_t *len)
{
    const char *v = colon + 1, *ve = eol;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    *len = (size_t)(ve - v);
    return v;
}

/* The next "name: value" line of the block [*p, end), trimmed; 0 at the end. */
static int next_line(const char **p, const char *end, sc_line *h)
{
    while (*p < end) {
        const char *s = *p, *eol = memchr(s, '\n', (size_t)(end - s)), *colon;
        if (eol == NULL)
            eol = end;
        *p = eol + 1;
        colon = memchr(s, ':', (size_t)(eol - s));
        if (colon == NULL || colon == s)
            continue; /* the status line, the blank line */
        h->name = s;
        h->nlen = (size_t)(colon - s);
        h->value = trim_value(colon, eol, &h->vlen);
        return 1;
    }
    return 0;
}

/* The next line of the block [*p, end) whose lower-cased name is one of names[0..n):
 * returns its index and sets the trimmed value, or -1 at the end. `first` holds the
 * names' first letters, so most lines are skipped without being read. */
static int next_match(const char **p, const char *end, const char *const names[], const size_t lens[], int n,
                      unsigned long first, const char **value, size_t *vlen)
{
    while (*p < end) {
        const char *line = *p, *eol = memchr(line, '\n', (size_t)(end - line)), *colon;
        size_t nlen, k;
        int i;
        if (eol == NULL)
            eol = end;
        *p = eol + 1;
        if (!(first & (1UL << (*line & 31))) || (colon = memchr(line, ':', (size_t)(eol - line))) == NULL)
            continue;
        nlen = (size_t)(colon - line);
        for (i = 0; i < n; i++) {
            if (lens[i] != nlen)
                continue;
            for (k = 0; k < nlen; k++) { /* names[i] is lower case; the line's name any case */
                char c = line[k];
                if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != names[i][k])
                    break;
            }
            if (k < nlen)
                continue;
            *value = trim_value(colon, eol, vlen);
            return i;
        }
    }
    return -1;
}

void sc_copy_headers(lua_State *L, int hidx, const char *const names[], const char *const fields[], int n,
                     int tidx)
{
    size_t len, lens[8], vlen;
    const char *p, *end, *value;
    unsigned long first = 0, found = 0;
    int i;
    tidx = sc_absindex(L, tidx);
    if (hidx == 0)
        return;
    if (lua_type(L, hidx) == LUA_TTABLE) {
        for (i = 0; i < n; i++) {
            lua_getfield(L, hidx, names[i]);
            if (lua_type(L, -1) == LUA_TSTRING && sc_rawlen(L, -1) > 0) /* an empty header says nothing */
                lua_setfield(L, tidx, fields[i]);
            else
                lua_pop(L, 1);
        }
        return;
    }
    if (lua_type(L, hidx) != LUA_TSTRING)
        return;
    for (i = 0; i < n; i++) {
        lens[i] = strlen(names[i]);
        first |= 1UL << (names[i][0] & 31);
    }
    p = lua_tolstring(L, hidx, &len);
    end = p + len;
    while ((i = next_match(&p, end, names, lens, n, first, &value, &vlen)) >= 0) {
        if (vlen == 0)
            continue;
        lua_pushlstring(L, value, vlen);
        if (found & (1UL << i)) { /* repeated in this block: joined, as in the table */
            lua_getfield(L, tidx, fields[i]);
            lua_insert(L, -2);
            lua_pushliteral(L, ", ");
            lua_insert(L, -2);
            lua_concat(L, 3);
        }
        found |= 1UL << i;
        lua_setfield(L, tidx, fields[i]);
    }
}

void sc_get_header(lua_State *L, int hidx, const char *name)
{
    lua_createtable(L, 0, 1);
    sc_copy_headers(L, hidx, &name, &name, 1, -1);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
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
