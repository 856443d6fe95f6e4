/* SHA-1 (RFC 3174) and HMAC-SHA1 (RFC 2104), only for TOTP (RFC 6238 uses HMAC-SHA1 by default
 * and authenticator apps expect it). libsodium has no SHA-1 and the build links no OpenSSL, so
 * this small pure implementation lives here. Not for anything else: SHA-1 is broken for
 * collision resistance (HMAC-SHA1 is still sound as a MAC). Pure and thread-safe. */
#ifndef IDENTITY_SHA1_H
#define IDENTITY_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

struct sha1_ctx {
    uint32_t h[5];
    uint64_t length;   /* bytes hashed so far */
    uint8_t block[64];
    size_t used;       /* bytes in block */
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t n);
void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_LEN]);
void sha1(const void *data, size_t n, uint8_t out[SHA1_LEN]);
void hmac_sha1(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[SHA1_LEN]);

#endif
