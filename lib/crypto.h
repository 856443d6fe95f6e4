/* Crypto helpers over libsodium: random bytes and tokens, SHA-256, HMAC-SHA256, hex, base64url,
 * constant-time comparison. All functions are thread-safe once crypto_init has run (it is
 * idempotent and also called lazily by crypto_random). */
#ifndef MKT_CRYPTO_H
#define MKT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

void crypto_init(void);
void crypto_random(void *buf, size_t n);
/* A random token of `nbytes` random bytes, base64url without padding, into out (size >=
 * 4*nbytes/3 + 2). Used for session tokens and single-use links. */
void crypto_token(char *out, size_t out_size, size_t nbytes);
void crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);
/* Lower-case hex of SHA-256(data) into out[65]. */
void crypto_sha256_hex(const void *data, size_t n, char out[2 * CRYPTO_SHA256_LEN + 1]);
void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n,
                        uint8_t out[CRYPTO_SHA256_LEN]);
/* Lower-case hex of n bytes into out (size >= 2n+1). */
void crypto_hex(const uint8_t *bytes, size_t n, char *out);
/* Constant-time equality of two equal-length buffers. */
bool crypto_equal(const void *a, const void *b, size_t n);

#endif
