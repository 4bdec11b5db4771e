/* OpenSSL libcrypto: base64, HMAC-SHA256, constant-time comparison. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "core.h"

void sc_push_base64(lua_State *L, const char *s, size_t len)
{
    size_t out = 4 * ((len + 2) / 3);
    /* scratch space owned by Lua, so an error cannot leak it */
    unsigned char *p = sc_newuserdata(L, out + 1);
    EVP_EncodeBlock(p, (const unsigned char *)s, (int)len);
    lua_pushlstring(L, (const char *)p, out);
    lua_remove(L, -2);
}

/* core.base64(s) */
static int l_base64(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    sc_push_base64(L, s, len);
    return 1;
}

/* core.unbase64(s) --> the decoded bytes, or nil when s is not base64 */
static int l_unbase64(lua_State *L)
{
    size_t len, out;
    const char *s = luaL_checklstring(L, 1, &len);
    unsigned char *p;
    int n;
    if (len % 4 != 0 || len > 65536) {
        lua_pushnil(L);
        return 1;
    }
    out = len / 4 * 3;
    p = sc_newuserdata(L, out + 1);
    n = EVP_DecodeBlock(p, (const unsigned char *)s, (int)len);
    if (n < 0) {
        lua_pushnil(L);
        return 1;
    }
    while (len > 0 && s[len - 1] == '=' && n > 0) { /* EVP_DecodeBlock counts the padding as zero bytes */
        len--;
        n--;
    }
    lua_pushlstring(L, (const char *)p, (size_t)n);
    return 1;
}

/* core.hmacSha256Hex(key, message) --> lowercase hex */
static int l_hmac(lua_State *L)
{
    static const char hex[] = "0123456789abcdef";
    size_t klen, mlen;
    const char *key = luaL_checklstring(L, 1, &klen);
    const char *msg = luaL_checklstring(L, 2, &mlen);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char out[2 * EVP_MAX_MD_SIZE];
    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, md, &n) == NULL)
        return luaL_error(L, "HMAC-SHA256 failed");
    for (i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    lua_pushlstring(L, out, 2 * (size_t)n);
    return 1;
}

/* core.equals(a, b) --> boolean, in time independent of where they differ */
static int l_equals(lua_State *L)
{
    size_t alen, blen;
    const char *a = luaL_checklstring(L, 1, &alen);
    const char *b = luaL_checklstring(L, 2, &blen);
    lua_pushboolean(L, alen == blen && CRYPTO_memcmp(a, b, alen) == 0);
    return 1;
}

const luaL_Reg sc_crypto_functions[] = {
    {"base64", l_base64}, {"unbase64", l_unbase64}, {"hmacSha256Hex", l_hmac}, {"equals", l_equals},
    {NULL, NULL}
};
