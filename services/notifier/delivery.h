/* The delivery loop: pending ledger rows become SMTP transactions. Work runs as short jobs on a
 * worker pool of its own (MKT_MAIL_CONCURRENCY workers, each with its database connection and
 * its SMTP sender, so at most that many deliveries at once and none starving the consumers): a job
 * claims a batch of due rows, sends them one by one, records each outcome (with its mail.sent or
 * mail.failed outbox event) and resubmits itself while work remains.
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
/* Starts the delivery pool and the listener thread (connections to dsn) and kicks once for rows
 * left from a previous run. */
err_code delivery_start(struct delivery *d, const char *dsn, struct err *e) MKT_MUST_USE;
/* Asks for deliveries now. Thread-safe, cheap, never blocks. */
void delivery_kick(struct delivery *d);
/* Maintenance duty (any thread): kick for due retries and expired leases, prune the ledger once
 * an hour, log counters once a minute. */
void delivery_maintenance(struct delivery *d);
/* Stops intake: jobs finish the mail in hand and give their other claimed rows back. Safe from
 * the loop thread (does not block). */
void delivery_drain(struct delivery *d);
/* Stops the listener, waits up to deadline_ms for the jobs (each finishes and records its mail in
 * hand) and frees the delivery pool. NULL is a no-op. */
void delivery_stop(struct delivery *d, int deadline_ms);
/* Stops (without waiting) if needed and frees everything. NULL is a no-op. */
void delivery_free(struct delivery *d);

#endif
