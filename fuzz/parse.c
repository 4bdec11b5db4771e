/* libFuzzer target: core.parse(shape, status, headers, body) for every shape.
 *
 * Input layout (fuzz/seeds.lua writes the seed corpus in it):
 *   2 bytes  status, big-endian: below 60000 the status is 100 + value % 900; from
 *            60000 a special case (see push_status): nil (a transport failure),
 *            99, 1000, 200.5, the string "200", a boolean, NaN, or the raw value
 *   2 bytes  header block length, big-endian; bit 15: pass the headers as a Lua
 *            table built from the block (names as written) instead of the raw
 *            string; bit 14: the body is nil; the low 14 bits are the length
 *   n bytes  the header block ("Name: value\r\n" lines, as libcurl hands them over)
 *   rest     the body
 *
 * Contract checked for each shape, with the call under lua_pcall:
 *   - parse never raises;
 *   - it returns a table, or nil and a table whose metatable is smartcar.SmartcarError
 *     (with a string message; statusCode and retryAfter, when present, integers in range);
 *     JSON alone may return the decoded scalar of a 2xx body (a number, string, boolean
 *     or nil for null): it is "the decoded body", and its caller checks the type;
 *   - HTTP: {status=<the status>, headers=<table>, body=<the body, byte for byte>};
 *   - BATCH: a list of {path=<string>, result=<table with meta>} | {path=, error=<SmartcarError>}.
 * SMARTCAR_FUZZ_SKIP=batch-path lets a batch item lack its path (a known finding). */
#include "common.h"

static int SHAPES[6];
/* A batch item that is not an object has no path of its own (the Lua layer names it by the
 * request at the same position); any other item carries one. */
static const char *const SHAPE_NAMES[6] = {"DATA", "BODY", "V3", "JSON", "BATCH", "HTTP"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int i;
    (void)argc;
    (void)argv;
    fz_open();
    for (i = 0; i < 6; i++) {
        fz_core(FZ_L, SHAPE_NAMES[i]);
        if (!lua_isinteger(FZ_L, -1))
            fz_die(FZ_L, "core has no shape constants");
        SHAPES[i] = (int)lua_tointeger(FZ_L, -1);
        lua_pop(FZ_L, 1);
    }
    fz_reset(FZ_L);
    return 0;
}

/* Push the status; returns the integer status when it is one parse accepts, else 0. */
static int push_status(lua_State *L, unsigned v)
{
    if (v < 60000) {
        lua_pushinteger(L, 100 + v % 900);
        return 100 + (int)(v % 900);
    }
    switch ((v - 60000) % 8) {
    case 0:
        lua_pushnil(L);
        return 0;
    case 1:
        lua_pushinteger(L, 99);
        return 0;
    case 2:
        lua_pushinteger(L, 1000);
        return 0;
    case 3:
        lua_pushnumber(L, 200.5); /* parse reads it as 200 */
        return 200;
    case 4:
        lua_pushliteral(L, "200");
        return 0;
    case 5:
        lua_pushboolean(L, 1);
        return 0;
    case 6:
        lua_pushnumber(L, 0.0 / 0.0);
        return 0;
    default:
        lua_pushinteger(L, (lua_Integer)v - 60000 - 7);
        return 0;
    }
}

/* A table from a header block, the way a custom transport could give one. */
static void push_header_table(lua_State *L, const char *s, size_t len)
{
    const char *end = s + len;
    lua_newtable(L);
    while (s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s)), *colon;
        if (eol == NULL)
            eol = end;
        colon = memchr(s, ':', (size_t)(eol - s));
        if (colon != NULL && colon > s) {
            const char *v = colon + 1, *ve = eol;
            while (v < ve && *v == ' ')
                v++;
            if (ve > v && ve[-1] == '\r')
                ve--;
            lua_pushlstring(L, s, (size_t)(colon - s));
            lua_pushlstring(L, v, (size_t)(ve - v));
            lua_rawset(L, -3);
        }
        s = eol + 1;
    }
}

static int is_error(lua_State *L, int idx)
{
    int ok;
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
        return 0;
    luaL_getmetatable(L, "smartcar.SmartcarError");
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!ok)
        return 0;
    lua_getfield(L, idx, "message");
    ok = lua_type(L, -1) == LUA_TSTRING;
    lua_pop(L, 1);
    if (!ok)
        fz_die(L, "a SmartcarError without a message");
    lua_getfield(L, idx, "statusCode");
    if (!lua_isnil(L, -1) && !(lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 100 && lua_tointeger(L, -1) <= 999))
        fz_die(L, "a SmartcarError with a statusCode that is not an HTTP status");
    lua_pop(L, 1);
    lua_getfield(L, idx, "retryAfter");
    if (!lua_isnil(L, -1) &&
        !(lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 && lua_tointeger(L, -1) <= 31536000))
        fz_die(L, "a SmartcarError with a retryAfter out of range");
    lua_pop(L, 1);
    return 1;
}

static void check_batch(lua_State *L, int idx)
{
    lua_Integer i, n = (lua_Integer)lua_rawlen(L, idx);
    for (i = 1; i <= n; i++) {
        int item;
        lua_rawgeti(L, idx, i);
        item = lua_gettop(L);
        if (lua_type(L, item) != LUA_TTABLE)
            fz_die(L, "a batch item is not a table");
        lua_getfield(L, item, "path");
        if (lua_type(L, -1) != LUA_TSTRING && !lua_isnil(L, -1))
            fz_die(L, "a batch item without a path");
        lua_getfield(L, item, "result");
        lua_getfield(L, item, "error");
        if (lua_isnil(L, -2) == lua_isnil(L, -1))
            fz_die(L, "a batch item needs exactly one of result and error");
        if (!lua_isnil(L, -1) && !is_error(L, -1))
            fz_die(L, "a batch item's error is not a SmartcarError");
        if (!lua_isnil(L, -2)) {
            if (lua_type(L, -2) != LUA_TTABLE)
                fz_die(L, "a batch item's result is not a table");
            lua_getfield(L, -2, "meta");
            if (lua_type(L, -1) != LUA_TTABLE)
                fz_die(L, "a batch item's result has no meta table");
            lua_pop(L, 1);
        }
        lua_settop(L, item - 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = FZ_L;
    fz_in in = {data, size};
    unsigned sv = fz_u16(&in), hv = fz_u16(&in);
    size_t hlen = hv & 0x3fff;
    const char *hdr, *body;
    size_t blen;
    int s, status, table_headers = (hv & 0x8000) != 0, nil_body = (hv & 0x4000) != 0;

    if (hlen > in.n)
        hlen = in.n;
    hdr = (const char *)in.p;
    body = hdr + hlen;
    blen = in.n - hlen;

    for (s = 0; s < 6; s++) {
        int n, top = lua_gettop(L);
        fz_core(L, "parse");
        lua_pushinteger(L, SHAPES[s]);
        status = push_status(L, sv);
        if (table_headers)
            push_header_table(L, hdr, hlen);
        else
            lua_pushlstring(L, hdr, hlen);
        if (nil_body)
            lua_pushnil(L);
        else
            lua_pushlstring(L, body, blen);
        if (lua_pcall(L, 4, LUA_MULTRET, 0) != LUA_OK) {
            fprintf(stderr, "\ncore.parse(core.%s, ...) raised\n", SHAPE_NAMES[s]);
            fz_die(L, "parse must not raise");
        }
        n = lua_gettop(L) - top;
        if (n >= 1 && lua_type(L, top + 1) == LUA_TTABLE) {
            if (n != 1)
                fz_die(L, "a result comes alone");
            if (SHAPES[s] == SHAPES[5]) {
                size_t len;
                const char *b;
                lua_getfield(L, -1, "status");
                if (status != 0 && !(lua_type(L, -1) == LUA_TNUMBER && (int)lua_tonumber(L, -1) == status))
                    fz_die(L, "HTTP: status changed");
                lua_getfield(L, -2, "headers");
                if (lua_type(L, -1) != LUA_TTABLE)
                    fz_die(L, "HTTP: headers are not a table");
                lua_getfield(L, -3, "body");
                b = lua_tolstring(L, -1, &len);
                if (b == NULL || (nil_body ? len != 0 : (len != blen || memcmp(b, body, blen) != 0)))
                    fz_die(L, "HTTP: body changed");
                lua_pop(L, 3);
            } else if (SHAPES[s] == SHAPES[4]) {
                check_batch(L, top + 1);
            } else if (SHAPES[s] != SHAPES[3]) {
                lua_getfield(L, -1, SHAPES[s] == SHAPES[2] ? "headers" : "meta");
                if (lua_type(L, -1) != LUA_TTABLE)
                    fz_die(L, SHAPES[s] == SHAPES[2] ? "V3: no headers table" : "no meta table");
                lua_pop(L, 1);
            }
        } else if (SHAPES[s] == SHAPES[3] && status >= 200 && status <= 299 && n == 1 &&
                   (lua_isnil(L, -1) || lua_type(L, -1) == LUA_TNUMBER || lua_type(L, -1) == LUA_TSTRING ||
                    lua_type(L, -1) == LUA_TBOOLEAN)) {
            /* JSON is the decoded body as it is: a 2xx scalar (or null) body gives that value
             * (its one caller, auth.lua's token exchange, refuses anything but a table) */
        } else if (n == 2 && lua_isnil(L, top + 1) && is_error(L, top + 2)) {
            /* the error value: its __tostring must work too */
            if (luaL_tolstring(L, top + 2, NULL) == NULL)
                fz_die(L, "tostring(err) failed");
        } else {
            fprintf(stderr, "\ncore.parse(core.%s, ...) returned %d values, the first a %s\n", SHAPE_NAMES[s], n,
                    n > 0 ? luaL_typename(L, top + 1) : "none");
            fz_die(NULL, "parse must return a table, or nil and a SmartcarError");
        }
        lua_settop(L, top);
    }
    fz_reset(L);
    return 0;
}
