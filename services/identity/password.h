/* Password hashing (AUTH-2): argon2id through libsodium's crypto_pwhash_str, which embeds the
 * algorithm, its parameters and a random salt in the stored string ("$argon2id$v=19$m=...").
 * Parameters come from configuration (MKT_ARGON2_OPS, MKT_ARGON2_MEM_KIB; production defaults in
 * docs/IDENTITY.md) so tests can use cheap ones; a hash made with other parameters still
 * verifies, and password_needs_rehash tells the caller to upgrade it at the next login.
 * Thread-safe. The policy on what a password must contain (AUTH-1) is in validation.h. */
#ifndef IDENTITY_PASSWORD_H
#define IDENTITY_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */

struct password_params {
    unsigned long long ops; /* argon2id passes (t) */
    size_t mem_bytes;       /* argon2id memory (m) */
};

/* Checks the parameters against libsodium's bounds; ERR_INVALID names the setting. */
err_code password_params_check(const struct password_params *p, struct err *e) MKT_MUST_USE;
/* Hashes `password` into out (owned by the caller, PASSWORD_HASH_MAX bytes). ERR_INTERNAL when
 * memory for argon2 cannot be had. */
err_code password_hash(const struct password_params *p, const char *password, char out[PASSWORD_HASH_MAX],
                       struct err *e) MKT_MUST_USE;
/* True when `password` matches `hash` (constant time in the password). False for NULL/"" hashes. */
bool password_verify(const char *hash, const char *password);
/* True when `hash` was made with other parameters (or another algorithm). */
bool password_needs_rehash(const struct password_params *p, const char *hash);

#endif
