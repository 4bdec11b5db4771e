/* Webhook helpers: HMAC-SHA256 through OpenSSL libcrypto, constant-time comparison. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "core.h"

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

const luaL_Reg sc_webhook_functions[] = {{"hmacSha256Hex", l_hmac}, {"equals", l_equals}, {NULL, NULL}};
