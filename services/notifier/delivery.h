/* The delivery loop: pending ledger rows become SMTP transactions. Work runs as short jobs on the
 * svc worker pool (at most MKT_MAIL_CONCURRENCY at once, each holding one SMTP sender): a job
 * claims a batch of due rows, sends them one by one, records each outcome (with its mail.sent or
 * mail.failed outbox event) and resubmits itself while work remains, so consumers and requests
 * interleave with deliveries.
 *
 * Jobs are started by delivery_kick: from the listener thread when a consumer's insert commits
 * (LISTEN/NOTIFY), when a scheduled retry or a pause ends, and from the maintenance timer. When
 * the SMTP server is unreachable, deliveries pause (growing up to MKT_MAIL_BACKOFF_MAX_S) and
 * only one mail probes it per pause: mails wait, nothing is dropped. */
#ifndef NOTIFIER_DELIVERY_H
#define NOTIFIER_DELIVERY_H

#include "err.h"
#include "notifier.h"
#include "pool.h"

struct delivery;

/* Creates the senders (no connection yet). *out is owned (delivery_free). */
err_code delivery_new(struct notifier *n, struct delivery **out, struct err *e) MKT_MUST_USE;
/* Starts the listener thread (its own connection to dsn) and a first kick for rows left from a
 * previous run. Jobs go to `pool`, which must outlive delivery_stop. */
err_code delivery_start(struct delivery *d, struct pool *pool, const char *dsn, struct err *e) MKT_MUST_USE;
/* Asks for deliveries now. Thread-safe, cheap, never blocks. */
void delivery_kick(struct delivery *d);
/* Maintenance duty (any thread): kick for due retries and expired leases, prune the ledger once
 * an hour, log counters once a minute. */
void delivery_maintenance(struct delivery *d);
/* Stops intake: jobs finish the mail in hand and give their other claimed rows back. Safe from
 * the loop thread (does not block). */
void delivery_drain(struct delivery *d);
/* Joins the listener; call after svc_run returned and before the pool is freed. */
void delivery_stop(struct delivery *d);
/* Frees the senders; call after the pool is freed (no job can run). NULL is a no-op. */
void delivery_free(struct delivery *d);

#endif
