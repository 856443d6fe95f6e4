/* Identity's own events, consumed back (durable MKT_IDENTITY_CONSUMER, inbox: exactly-once
 * effects; one durable with a type -> handler table) to plan EIM work (ACC-4, ORG-6): account.created and outscale_account.attached plan
 * EIM users, account.deleted and outscale_account.detached plan their removal. The consumer only
 * writes rows in eim_users inside the inbox transaction; the maintenance loop makes the cloud
 * calls, with retries. Events may arrive in any order: each handler reads the current state of
 * the database (a deleted account gets no EIM user). */
#ifndef IDENTITY_CONSUMERS_H
#define IDENTITY_CONSUMERS_H

#include "events.h"
#include "identity.h"

/* Starts the consumer on `s` (its durable name is borrowed from id's configuration). */
err_code consumers_start(struct identity *id, struct svc *s, struct err *e) MKT_MUST_USE;
/* The route table's dispatch as one function, exposed for tests (unrouted types: ERR_OK). */
err_code consumers_on_event(const struct events_msg *m, struct err *e);

#endif
