/* libsodium-backed primitives shared by identity (tokens, hashes), the cloud client and the
 * emulator (HMAC for request signatures). Thin wrappers: hashing, MACs, hex, base64url and the
 * constant-time comparison are all libsodium's own. */
#include "crypto.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void do_init(void) {
    if (sodium_init() < 0)
        abort(); /* no entropy source: nothing safe can be done */
}
void crypto_init(void) { pthread_once(&once, do_init); }

void crypto_random(void *buf, size_t n) {
    crypto_init();
    randombytes_buf(buf, n);
}

void crypto_token(char *out, size_t out_size, size_t nbytes) {
    unsigned char raw[128];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    crypto_random(raw, nbytes);
    sodium_bin2base64(out, out_size, raw, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN]) {
    crypto_init();
    crypto_hash_sha256(out, data, n);
}

void crypto_hex(const uint8_t *bytes, size_t n, char *out) { sodium_bin2hex(out, 2 * n + 1, bytes, n); }

void crypto_sha256_hex(const void *data, size_t n, char out[2 * CRYPTO_SHA256_LEN + 1]) {
    uint8_t d[CRYPTO_SHA256_LEN];
    crypto_sha256(data, n, d);
    crypto_hex(d, sizeof d, out);
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n,
                        uint8_t out[CRYPTO_SHA256_LEN]) {
    crypto_init();
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, data, n);
    crypto_auth_hmacsha256_final(&st, out);
}

bool crypto_equal(const void *a, const void *b, size_t n) { return sodium_memcmp(a, b, n) == 0; }
