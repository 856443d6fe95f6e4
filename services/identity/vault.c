/* Sealing and opening secrets at rest with XChaCha20-Poly1305 (see vault.h for the format and
 * the rotation scheme). Keys live in sodium_malloc'd memory (guarded, locked, wiped on free);
 * nothing here logs a secret or puts one in an error reason. */
#include "vault.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

struct vault_key {
    uint8_t key[VAULT_KEY_LEN];
    char id[VAULT_KEY_ID_LEN + 1];
};

struct vault {
    struct vault_key *keys; /* sodium_malloc'd; keys[0] is the current one */
    size_t n;
};

static err_code decode_key(const char *b64, size_t len, struct vault_key *k, struct err *e) {
    const int variants[] = {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                            sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    bool decoded = false;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0] && !decoded; i++) {
        size_t got = 0;
        decoded = sodium_base642bin(k->key, sizeof k->key, b64, len, " \n", &got, NULL, variants[i]) == 0 &&
                  got == VAULT_KEY_LEN;
    }
    if (!decoded)
        return err_set(e, ERR_INVALID, "must be the base64 of exactly %d random bytes", VAULT_KEY_LEN);
    /* The id identifies the key without revealing it: a hash of a fixed label and the key. */
    uint8_t d[CRYPTO_SHA256_LEN];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)"mkt-vault-key-id", 16);
    crypto_hash_sha256_update(&st, k->key, sizeof k->key);
    crypto_hash_sha256_final(&st, d);
    crypto_hex(d, VAULT_KEY_ID_LEN / 2, k->id);
    sodium_memzero(d, sizeof d);
    return ERR_OK;
}

err_code vault_new(const char *key_b64, const char *previous, struct vault **out, struct err *e) {
    crypto_init();
    err_code code = ERR_OK;
    struct vault *v = calloc(1, sizeof *v);
    if (!v)
        return err_set(e, ERR_INTERNAL, "out of memory");
    v->keys = sodium_malloc(VAULT_MAX_KEYS * sizeof *v->keys);
    if (!v->keys) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (!key_b64 || !*key_b64) {
        code = err_set(e, ERR_INVALID, "MKT_VAULT_KEY: required");
        goto done;
    }
    if (decode_key(key_b64, strlen(key_b64), &v->keys[0], e) != ERR_OK) {
        code = err_wrap(e, "MKT_VAULT_KEY");
        goto done;
    }
    v->n = 1;
    for (const char *p = previous; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            if (v->n >= VAULT_MAX_KEYS) {
                code = err_set(e, ERR_INVALID, "MKT_VAULT_PREVIOUS_KEYS: at most %d keys", VAULT_MAX_KEYS - 1);
                goto done;
            }
            if (decode_key(p, len, &v->keys[v->n], e) != ERR_OK) {
                code = err_wrap(e, "MKT_VAULT_PREVIOUS_KEYS");
                goto done;
            }
            v->n++;
        }
        p += len + (p[len] == ',');
    }
    *out = v;
    v = NULL;
done:
    vault_free(v);
    return code;
}

void vault_free(struct vault *v) {
    if (!v)
        return;
    if (v->keys)
        sodium_free(v->keys); /* wipes */
    free(v);
}

const char *vault_key_id(const struct vault *v) { return v->keys[0].id; }

err_code vault_seal(const struct vault *v, const char *context, const void *plain, size_t n, char *out,
                    size_t out_size, struct err *e) {
    uint8_t buf[NONCE_LEN + VAULT_PLAIN_MAX + TAG_LEN];
    if (n > VAULT_PLAIN_MAX)
        return err_set(e, ERR_INTERNAL, "vault: value too long");
    size_t raw = NONCE_LEN + n + TAG_LEN;
    if (out_size < VAULT_KEY_ID_LEN + 1 + sodium_base64_ENCODED_LEN(raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return err_set(e, ERR_INTERNAL, "vault: output buffer too small");
    const struct vault_key *k = &v->keys[0];
    crypto_random(buf, NONCE_LEN);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE_LEN, &clen, plain, n, (const uint8_t *)context,
                                               strlen(context), NULL, buf, k->key);
    memcpy(out, k->id, VAULT_KEY_ID_LEN);
    out[VAULT_KEY_ID_LEN] = '.';
    sodium_bin2base64(out + VAULT_KEY_ID_LEN + 1, out_size - VAULT_KEY_ID_LEN - 1, buf, NONCE_LEN + clen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(buf, sizeof buf);
    return ERR_OK;
}

err_code vault_open(const struct vault *v, const char *context, const char *sealed, uint8_t *out, size_t out_size,
                    size_t *n, struct err *e) {
    uint8_t buf[NONCE_LEN + VAULT_PLAIN_MAX + TAG_LEN];
    size_t len = 0;
    const struct vault_key *k = NULL;
    if (!sealed || strlen(sealed) <= VAULT_KEY_ID_LEN + 1 || sealed[VAULT_KEY_ID_LEN] != '.')
        return err_set(e, ERR_INTERNAL, "vault: sealed value malformed");
    for (size_t i = 0; i < v->n && !k; i++)
        if (memcmp(v->keys[i].id, sealed, VAULT_KEY_ID_LEN) == 0)
            k = &v->keys[i];
    if (!k)
        return err_set(e, ERR_INTERNAL, "vault: sealed with key %.*s, which is not configured", VAULT_KEY_ID_LEN,
                       sealed);
    const char *b64 = sealed + VAULT_KEY_ID_LEN + 1;
    if (sodium_base642bin(buf, sizeof buf, b64, strlen(b64), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len < NONCE_LEN + TAG_LEN || len - NONCE_LEN - TAG_LEN > out_size)
        return err_set(e, ERR_INTERNAL, "vault: sealed value malformed");
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen, NULL, buf + NONCE_LEN, len - NONCE_LEN,
                                                   (const uint8_t *)context, strlen(context), buf, k->key) != 0) {
        sodium_memzero(buf, sizeof buf);
        return err_set(e, ERR_INTERNAL, "vault: sealed value cannot be opened (tampered, or another context)");
    }
    sodium_memzero(buf, sizeof buf);
    *n = (size_t)plen;
    return ERR_OK;
}
