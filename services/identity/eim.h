/* The platform's EIM resources in an organization's OUTSCALE account (ORG-1, ORG-6, ACC-4), made
 * with look-before-create and deterministic names so that every function can be re-run after a
 * crash or a failure and converges:
 *   policy  marketplace_policy    the EIM calls the platform needs, plus api:ReadVms, api:ReadImages
 *   group   marketplace_group     with the policy linked
 *   user    marketplace_platform  in the group, with the policy also linked to it directly (so it
 *                                 keeps its rights, and can repair, if the group is deleted), and
 *                                 the platform's own access key
 *   users   marketplace_<16 hex>  one per marketplace account, in the group
 * Deletion follows the order the cloud requires: deactivate and delete access keys, leave the
 * group, unlink policies, delete the user.
 *
 * Every function takes a cloud client (lib/cloud.h) owned by the calling thread and blocks on the
 * network: workers only. Errors keep the cloud's reason; no secret is ever logged or put in a
 * reason. */
#ifndef IDENTITY_EIM_H
#define IDENTITY_EIM_H

#include <stdbool.h>
#include <stddef.h>

#include "cloud.h"
#include "err.h"

#define EIM_POLICY_NAME "marketplace_policy"
#define EIM_GROUP_NAME "marketplace_group"
#define EIM_PLATFORM_USER "marketplace_platform"
#define EIM_USER_PREFIX "marketplace_"

/* The platform's access key in an OUTSCALE account. The secret is shown once by the cloud: the
 * caller seals it (vault) and wipes this struct (eim_key_wipe). */
struct eim_key {
    char access_key_id[64];
    char secret_key[128];
};
void eim_key_wipe(struct eim_key *k);

/* The policy document (a JSON string), for tests and documentation. */
const char *eim_policy_document(void);

/* With the customer's keys (signup, attach): makes sure the policy, the group and the platform
 * user exist and are linked, then replaces the platform user's access keys by a fresh one
 * (*key). Old keys of the platform user are from an earlier, unfinished attempt: the database
 * holds no record of them, so they are deactivated and deleted. */
err_code eim_bootstrap(struct cloud *c, struct eim_key *key, struct err *e) MKT_MUST_USE;

/* With the platform's key: the EIM user `user_name` exists and is in the group (ACC-4). Repairs
 * a missing group on the way. */
err_code eim_ensure_user(struct cloud *c, const char *user_name, struct err *e) MKT_MUST_USE;
/* With the platform's key: removes `user_name` in the cloud's order; absent is success. */
err_code eim_remove_user(struct cloud *c, const char *user_name, struct err *e) MKT_MUST_USE;

/* What a reconciliation pass repaired, as one line for the eim.repaired event and the log. */
struct eim_report {
    int fixes;
    char text[480];
};
/* With the platform's key: repairs drift of the platform's resources (ACC-4): the group, the
 * policy links, the platform user's membership, and each of `users` (exists, in the group). */
err_code eim_reconcile(struct cloud *c, const char *const *users, size_t n_users, struct eim_report *report,
                       struct err *e) MKT_MUST_USE;

/* With the platform's key, after every per-account user is gone (ORG-6 detach): deletes the group
 * and, as the very last call, deactivates the platform's own key (the key cannot delete itself;
 * the inert user marketplace_platform and the policy stay for the customer to remove). */
err_code eim_teardown(struct cloud *c, const char *own_access_key_id, struct err *e) MKT_MUST_USE;

#endif
