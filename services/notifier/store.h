/* All SQL of the notifier: the sent-mail ledger (migrations/001_ledger.sql), whose pending rows
 * are lib/job jobs (claim with a lease, outcomes by the lease holder: job_done, job_fail,
 * job_retry, job_release on the table store_mail_jobs describes). Functions take a connection
 * owned by the calling thread (a worker's, or the listener's); those named "tx" expect the
 * caller's open transaction. Times come from lib/clock as parameters. */
#ifndef NOTIFIER_STORE_H
#define NOTIFIER_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "err.h"
#include "job.h"

/* A ledger row to insert; every string borrowed. */
struct store_new_mail {
    const char *id;               /* UUIDv7 */
    const char *event_key;
    const char *event_id;
    const char *event_type;
    const char *recipient;        /* normalized */
    const char *recipient_name;
    const char *language;
    const char *template_name;
    const char *organization_id;
    const char *correlation_id;
    const char *vars_json;        /* JSON object of the public variables */
    const char *secret_vars_json; /* JSON object, or NULL when the template has no secret */
    const char *message_id;
    mkt_time created_at;
    mkt_time give_up_at;
};

/* The channel prefix of the delivery listeners: db_channel(c, STORE_MAIL_CHANNEL, ...). */
#define STORE_MAIL_CHANNEL "mkt_mail_"

/* Inserts a pending row unless (event_key, recipient) exists; *inserted says which. Notifies the
 * delivery listeners (channel mkt_mail_<schema>) when the transaction commits. */
err_code store_insert_mail(PGconn *tx, const struct store_new_mail *m, bool *inserted, struct err *e) MKT_MUST_USE;

/* A claimed row. Strings point into the batch's result. */
struct store_mail {
    const char *id, *event_key, *event_id, *recipient, *recipient_name, *language, *template_name;
    const char *organization_id, *correlation_id, *message_id;
    const char *vars_json;
    const char *secret_vars_json; /* NULL when none */
    int attempts;                 /* including this one (a claim counts an attempt) */
    mkt_time created_at, give_up_at;
};

struct store_batch {
    PGresult *result;
    struct store_mail *rows;
    size_t n;
};

/* The ledger as a lib/job table: due while 'pending'; done = 'sent' (sent_at); failed = 'failed';
 * both final states erase the secret variables. Retries wait 2 s doubling (with jitter) up to
 * backoff_max; there is no attempt bound: the delivery gives up at the row's give_up_at. */
void store_mail_jobs(struct job_table *t, mkt_time backoff_max);

/* Claims up to `limit` due pending rows (oldest first, skipping rows locked by other replicas)
 * under a lease held by `owner` until lease_until, in one autocommitted statement. A claimed row
 * is due again at lease_until unless its outcome is recorded before. */
err_code store_claim(PGconn *c, const struct job_table *t, const char *owner, mkt_time now, mkt_time lease_until,
                     int limit, struct store_batch *out, struct err *e) MKT_MUST_USE;
void store_batch_cleanup(struct store_batch *b);

/* Deletes up to `limit` sent or failed rows created before `before`; *deleted gets the count. */
err_code store_prune(PGconn *c, mkt_time before, int limit, long *deleted, struct err *e) MKT_MUST_USE;

/* ---- operators' view ---- */
struct store_list_filter {
    const char *state;          /* NULL or "" for any */
    const char *recipient;      /* normalized, NULL or "" for any */
    const char *template_name;  /* NULL or "" for any */
    const char *before;         /* rows with a smaller id only (keyset: the last id of the previous page,
                                   from the handler's lib/cursor), NULL or "" for the newest */
    int limit;                  /* rows at most (the handler asks for its page size + 1) */
};

struct store_entry {
    const char *id, *event_key, *template_name, *recipient, *language, *state, *last_error, *message_id;
    const char *organization_id;
    const char *vars_json;      /* public variables only: the secret column is never read here */
    int attempts;
    mkt_time created_at, updated_at, sent_at, next_attempt_at;
};

struct store_list {
    PGresult *result;
    struct store_entry *rows;
    size_t n;
    long long pending, sent, failed; /* totals by state */
};

err_code store_list_mails(PGconn *c, const struct store_list_filter *f, struct store_list *out,
                          struct err *e) MKT_MUST_USE;
void store_list_cleanup(struct store_list *l);

#endif
