/* The maintenance hook of identity (lib/svc runs it on a worker every MKT_MAINTENANCE_MS, never
 * two at once). Its duties, in order:
 *   1. EIM jobs (ACC-4): create or remove the EIM users the consumer planned, with the platform's
 *      key, retried with backoff (MKT_EIM_BACKOFF_MAX_S) up to MKT_EIM_MAX_ATTEMPTS, then
 *      "failed" (event eim.failed) until the next reconciliation; events eim.user_ready and
 *      eim.user_deleted on success. Claimed rows carry a lease (MKT_EIM_LEASE_S): after a crash
 *      they are due again, and the cloud calls converge because they look before they create.
 *   2. Detach teardown (ORG-6): once a detaching OUTSCALE account has no EIM user left, remove the
 *      platform's group and deactivate its key, then forget the sealed secret.
 *   3. Reconciliation every MKT_EIM_RECONCILE_S (one replica runs it: a shared schedule row):
 *      repair drift of the platform's EIM resources in every active OUTSCALE account, restart
 *      failed jobs, and report what was fixed (event eim.repaired).
 *   4. Pruning, every 10 minutes: old login failures, sessions and link tokens.
 * It uses its own database connection (the hook has no worker of its own) and stops between two
 * cloud operations as soon as the drain begins. */
#ifndef IDENTITY_MAINTENANCE_H
#define IDENTITY_MAINTENANCE_H

#include "identity.h"

void maintenance_run(struct identity *id);
/* Closes the hook's connection; call after the pool has stopped. */
void maintenance_cleanup(struct identity *id);

#endif
