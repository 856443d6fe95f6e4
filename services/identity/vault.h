/* The vault: authenticated encryption at rest for the few secrets identity must keep in a usable
 * form (the platform's EIM secret keys, TOTP secrets). XChaCha20-Poly1305 (libsodium) with a
 * random 192-bit nonce per seal and an "associated data" context naming the row and column the
 * value belongs to, so a sealed value copied elsewhere does not open.
 *
 * Sealed text: "<key id>.<base64url(nonce || ciphertext || tag)>", where the key id is 8 hex
 * digits derived from the key. The master key comes from configuration (MKT_VAULT_KEY, base64 of
 * 32 bytes); previous keys (MKT_VAULT_PREVIOUS_KEYS) still open what they sealed, which is how a
 * key is rotated: new seals use the current key, old values open until re-sealed.
 * Thread-safe after vault_new (read-only). */
#ifndef IDENTITY_VAULT_H
#define IDENTITY_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define VAULT_KEY_LEN 32
#define VAULT_KEY_ID_LEN 8
#define VAULT_MAX_KEYS 4
#define VAULT_PLAIN_MAX 256
/* Room for a sealed value of VAULT_PLAIN_MAX bytes. */
#define VAULT_SEALED_MAX 512

struct vault;

/* key_b64: base64 (standard or URL-safe, padding optional) of 32 bytes; previous: comma-separated
 * list of such keys, or NULL/"". *out is owned (vault_free wipes the keys). ERR_INVALID names
 * the bad setting. */
err_code vault_new(const char *key_b64, const char *previous, struct vault **out, struct err *e) MKT_MUST_USE;
void vault_free(struct vault *v);
/* Borrowed: the current key's id (VAULT_KEY_ID_LEN hex digits). */
const char *vault_key_id(const struct vault *v);

/* Seals n bytes (n <= VAULT_PLAIN_MAX) under `context` into out (size >= VAULT_SEALED_MAX). */
err_code vault_seal(const struct vault *v, const char *context, const void *plain, size_t n, char *out,
                    size_t out_size, struct err *e) MKT_MUST_USE;
/* Opens a sealed value into out (size >= VAULT_PLAIN_MAX) and sets *n. A wrong context, an unknown
 * key id or any tampering is ERR_INTERNAL ("cannot be opened"). The caller wipes out after use. */
err_code vault_open(const struct vault *v, const char *context, const char *sealed, uint8_t *out, size_t out_size,
                    size_t *n, struct err *e) MKT_MUST_USE;

#endif
