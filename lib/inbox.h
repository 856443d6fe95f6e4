/* The consumer inbox: which events a consumer has already processed, recorded in the same
 * transaction as the consumer's own changes, so that a redelivered event changes nothing.
 * Table: `inbox` in the service's schema (lib/migrations/002_inbox.sql). */
#ifndef MKT_INBOX_H
#define MKT_INBOX_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "err.h"

/* Records (consumer, event_id) in the caller's transaction. ERR_OK when new; ERR_CONFLICT when
 * the event was already processed (the caller rolls back and acks). */
err_code inbox_claim(PGconn *tx, const char *consumer, const char *event_id, struct err *e) MKT_MUST_USE;

/* Whether (consumer, event_id) is recorded, read without a transaction: lets a consumer skip work
 * it must do before its transaction (an RPC) on a redelivery. Only a hint: inbox_claim decides. */
err_code inbox_seen(PGconn *c, const char *consumer, const char *event_id, bool *seen, struct err *e) MKT_MUST_USE;

#endif
