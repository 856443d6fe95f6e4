/* Identity's start-up logic and svc hooks, out of main.c so that main stays a boot script: what
 * the settings imply once loaded (the known default Region, the argon2id parameters and the dummy
 * hash unknown e-mails are verified against, the vault), and the maintenance and drain hooks. */
#include "identity.h"

#include <sodium.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "maintenance.h"
#include "validation.h"

err_code identity_prepare(struct identity *id, struct err *e) {
    if (!validation_region_known(id->cfg.default_region))
        return err_set(e, ERR_INVALID, "configuration: MKT_DEFAULT_REGION: unknown Region %s", id->cfg.default_region);
    id->argon2.ops = (unsigned long long)id->cfg.argon2_ops;
    id->argon2.mem_bytes = (size_t)id->cfg.argon2_mem_kib * 1024;
    if (password_params_check(&id->argon2, e) != ERR_OK)
        return err_wrap(e, "configuration");
    if (vault_new(id->cfg.vault_key, id->cfg.vault_previous_keys, &id->vault, e) != ERR_OK)
        return err_wrap(e, "configuration");
    char random_password[48];
    crypto_token(random_password, sizeof random_password, 24);
    err_code code = password_hash(&id->argon2, random_password, id->dummy_hash, e);
    sodium_memzero(random_password, sizeof random_password);
    log_info("vault key %s; argon2id t=%lld m=%lld KiB", vault_key_id(id->vault), id->cfg.argon2_ops,
             id->cfg.argon2_mem_kib);
    return code;
}

void identity_maintenance(struct svc *s, struct pool_worker *w) {
    (void)w; /* maintenance_run keeps its own connection (id->maint_db) */
    maintenance_run(s->app);
}

void identity_on_drain(struct svc *s) {
    struct identity *id = s->app;
    atomic_store(&id->stopping, true);
}

void identity_cleanup(struct identity *id) {
    maintenance_cleanup(id);
    vault_free(id->vault);
    id->vault = NULL;
    sodium_memzero(id->dummy_hash, sizeof id->dummy_hash);
}
