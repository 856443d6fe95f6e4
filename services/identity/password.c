/* argon2id password hashes through libsodium (see password.h). The only place that touches
 * crypto_pwhash, so a change of algorithm or parameters happens here. */
#include "password.h"

#include <sodium.h>
#include <string.h>

#include "crypto.h"

err_code password_params_check(const struct password_params *p, struct err *e) {
    if (p->ops < crypto_pwhash_argon2id_OPSLIMIT_MIN || p->ops > crypto_pwhash_argon2id_OPSLIMIT_MAX)
        return err_set(e, ERR_INVALID, "MKT_ARGON2_OPS: must be at least %u", crypto_pwhash_argon2id_OPSLIMIT_MIN);
    if (p->mem_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN)
        return err_set(e, ERR_INVALID, "MKT_ARGON2_MEM_KIB: must be at least %u",
                       crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024);
    return ERR_OK;
}

err_code password_hash(const struct password_params *p, const char *password, char out[PASSWORD_HASH_MAX],
                       struct err *e) {
    crypto_init();
    if (crypto_pwhash_str_alg(out, password, strlen(password), p->ops, p->mem_bytes, crypto_pwhash_ALG_ARGON2ID13) !=
        0)
        return err_set(e, ERR_INTERNAL, "argon2id: out of memory");
    return ERR_OK;
}

bool password_verify(const char *hash, const char *password) {
    crypto_init();
    if (!hash || !*hash || !password)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

bool password_needs_rehash(const struct password_params *p, const char *hash) {
    return crypto_pwhash_str_needs_rehash(hash, p->ops, p->mem_bytes) != 0;
}
