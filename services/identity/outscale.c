/* Cloud clients and the proof of control of an OUTSCALE account (see outscale.h). The customer's
 * keys live only in the request and in the client's own copy (wiped by cloud_free); the platform's
 * secret key is sealed the moment the cloud returns it. */
#include "outscale.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "eim.h"

static err_code client(const struct identity *id, const char *region, const char *ak, const char *sk,
                       struct cloud **out, struct err *e) {
    struct cloud_config cfg = {
        .endpoint = id->cfg.cloud_endpoint,
        .region = region,
        .access_key = ak,
        .secret_key = sk,
        .timeout_ms = (int)id->cfg.cloud_timeout_ms,
        .max_tries = (int)id->cfg.cloud_max_tries,
    };
    return cloud_new(&cfg, out, e);
}

err_code outscale_customer_client(const struct identity *id, const char *region, const char *access_key,
                                  const char *secret_key, struct cloud **out, struct err *e) {
    return client(id, region, access_key, secret_key, out, e);
}

err_code outscale_platform_client(const struct identity *id, const struct store_outscale *o, struct cloud **out,
                                  struct err *e) {
    char context[64], secret[VAULT_PLAIN_MAX + 1];
    size_t n = 0;
    if (!o->secret_sealed[0])
        return err_set(e, ERR_CONFLICT, "OUTSCALE account %s has no platform key (detached)", o->account_id);
    store_outscale_secret_context(o->id, context);
    err_code code = vault_open(id->vault, context, o->secret_sealed, (uint8_t *)secret, VAULT_PLAIN_MAX, &n, e);
    if (code == ERR_OK) {
        secret[n] = '\0';
        code = client(id, o->region, o->access_key_id, secret, out, e);
    }
    sodium_memzero(secret, sizeof secret);
    return code;
}

err_code outscale_identify(struct cloud *c, char account_id[16], char email[STORE_EMAIL], struct err *e) {
    struct cloud_accounts *l = NULL;
    err_code code = cloud_read_accounts(c, &l, e);
    if (code == ERR_UNAUTHENTICATED)
        code = err_set(e, ERR_INVALID, "fields 'access_key', 'secret_key': the OUTSCALE API refused these keys");
    else if (code == ERR_FORBIDDEN)
        code = err_set(e, ERR_INVALID,
                       "fields 'access_key', 'secret_key': these keys may not read their OUTSCALE account");
    if (code != ERR_OK)
        goto done;
    if (l->n < 1 || !l->items[0].account_id || strlen(l->items[0].account_id) != 12) {
        code = err_set(e, ERR_UNAVAILABLE, "ReadAccounts: no account in the answer");
        goto done;
    }
    snprintf(account_id, 16, "%s", l->items[0].account_id);
    struct err bad;
    if (validation_email("email", l->items[0].email, email, STORE_EMAIL, &bad) != ERR_OK)
        code = err_set(e, ERR_INVALID, "the OUTSCALE account %s has no usable e-mail address", account_id);
done:
    cloud_accounts_free(l);
    return code;
}

err_code outscale_bootstrap(const struct identity *id, struct cloud *c, struct store_outscale *row, struct err *e) {
    struct eim_key key;
    char context[64];
    memset(&key, 0, sizeof key);
    err_code code = eim_bootstrap(c, &key, e);
    if (code == ERR_UNAUTHENTICATED || code == ERR_FORBIDDEN)
        code = err_set(e, ERR_INVALID,
                       "fields 'access_key', 'secret_key': these keys may not manage the account's EIM users "
                       "(give the account's own keys)");
    if (code == ERR_OK) {
        snprintf(row->access_key_id, sizeof row->access_key_id, "%s", key.access_key_id);
        store_outscale_secret_context(row->id, context);
        code = vault_seal(id->vault, context, key.secret_key, strlen(key.secret_key), row->secret_sealed,
                          sizeof row->secret_sealed, e);
    }
    eim_key_wipe(&key);
    return code;
}
