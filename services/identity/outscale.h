/* OUTSCALE accounts as identity reaches them: cloud clients made from a customer's keys (used
 * once, to prove control: ORG-1, ORG-6) or from the platform's sealed key of an attached account,
 * the identification of an account from its keys (ReadAccounts), and the bootstrap of the
 * platform's footing whose new access key is sealed at once (vault) and never kept in clear.
 * Blocking (cloud calls): workers only. */
#ifndef IDENTITY_OUTSCALE_H
#define IDENTITY_OUTSCALE_H

#include "cloud.h"
#include "identity.h"
#include "store.h"

/* A client with a customer's keys in `region`; *out is owned (cloud_free wipes its copy). */
err_code outscale_customer_client(const struct identity *id, const char *region, const char *access_key,
                                  const char *secret_key, struct cloud **out, struct err *e) MKT_MUST_USE;
/* A client with the platform's key of an attached OUTSCALE account (its sealed secret opened for
 * the client's copy only). */
err_code outscale_platform_client(const struct identity *id, const struct store_outscale *o, struct cloud **out,
                                  struct err *e) MKT_MUST_USE;
/* ReadAccounts with the customer's keys: the account's id and e-mail (lower-cased). Keys the
 * cloud refuses are ERR_INVALID naming the fields. */
err_code outscale_identify(struct cloud *c, char account_id[16], char email[STORE_EMAIL], struct err *e) MKT_MUST_USE;
/* Bootstraps the platform's footing (eim_bootstrap) with the customer's client and fills the
 * key fields of `row` (whose id must be set): access_key_id and the sealed secret. */
err_code outscale_bootstrap(const struct identity *id, struct cloud *c, struct store_outscale *row,
                            struct err *e) MKT_MUST_USE;

#endif
