/* Ensures the configured operator account exists with the configured password (see operator.h):
 * the password is re-hashed only when the stored hash does not verify it. */
#include "operator.h"

#include <sodium.h>
#include <string.h>

#include "db.h"
#include "id.h"
#include "log.h"
#include "store.h"

err_code operator_ensure(const struct identity *id, const char *dsn, struct err *e) {
    const struct identity_config *cfg = &id->cfg;
    char email[STORE_EMAIL], name[STORE_NAME], hash[PASSWORD_HASH_MAX] = "", account_id[ID_UUID_LEN + 1];
    struct store_credentials cred;
    PGconn *db = NULL;
    memset(&cred, 0, sizeof cred);
    if (!cfg->operator_email || !*cfg->operator_email)
        return ERR_OK;
    err_code code = validation_email("MKT_OPERATOR_EMAIL", cfg->operator_email, email, sizeof email, e);
    if (code == ERR_OK)
        code = validation_name("MKT_OPERATOR_NAME", cfg->operator_name, name, sizeof name, e);
    if (code == ERR_OK)
        code = validation_password("MKT_OPERATOR_PASSWORD", cfg->operator_password, e);
    if (code == ERR_OK)
        code = db_connect(dsn, &db, e);
    if (code != ERR_OK)
        goto done;
    code = store_credentials_by_email(db, email, &cred, e);
    bool same = code == ERR_OK && cred.operator && password_verify(cred.password_hash, cfg->operator_password);
    if (code != ERR_OK && code != ERR_NOT_FOUND)
        goto done;
    if (same) {
        log_info("operator %s: present", email);
        code = ERR_OK;
        goto done;
    }
    code = password_hash(&id->argon2, cfg->operator_password, hash, e);
    id_uuid(account_id);
    if (code == ERR_OK)
        code = store_operator_upsert(db, account_id, email, name, hash, clock_now(), e);
    if (code == ERR_OK)
        log_info("operator %s: password set from the configuration", email);
done:
    db_close(db);
    sodium_memzero(hash, sizeof hash);
    sodium_memzero(&cred, sizeof cred);
    return code;
}
