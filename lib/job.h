/* Jobs: rows of a service table that a worker must act on (call a cloud, send a mail), claimed
 * with a lease so that replicas share them and a crashed worker's rows become due again, retried
 * with lib/backoff, and given up after a bound with an outbox event in the same transaction.
 *
 * Design: the helper works on ANY table that carries the standard job columns, described by a
 * `struct job_table`; there is no shared "job" table. Identity's EIM users and detaching
 * OUTSCALE accounts and the notifier's mail ledger are business rows with their own data, their
 * own state vocabulary ('ready'/'deleted', 'sent') and their own operators' views and indexes;
 * a generic (kind, key, payload) table would have split each of them in two, with a join or a
 * copy on every claim and two rows to keep consistent. The next services do the same: the
 * publisher's copy/share/delete steps and billing's metering passes add the columns to their
 * step or pass table. The standard columns, which each service adds in its own migration
 * (services/identity/migrations/002_job_lease.sql is an example):
 *
 *   id              any type with a text form (uuid)
 *   attempts        int NOT NULL DEFAULT 0      claims so far (a crash counts as an attempt)
 *   next_attempt_at timestamptz                 due time; while claimed, the end of the lease
 *   lease_owner     text                        who holds the lease; NULL when not claimed
 *   <error column>  text                        the last failure (named in job_table)
 *   a state column  whose values the job_table's SQL fragments name
 *
 * The four states map onto the table's own vocabulary:
 *   pending  `due` is true and lease_owner IS NULL (or the lease has ended): claimable once
 *            next_attempt_at <= now;
 *   running  lease_owner = <owner> and next_attempt_at (the lease end) > now;
 *   done     `done_set` was applied (by job_done);
 *   failed   `failed_set` was applied (by job_fail, or job_retry after max_attempts).
 * Every outcome is recorded only by the lease holder (WHERE lease_owner = $owner): a worker whose
 * lease ended and whose row another worker claimed records nothing (*recorded false). Service
 * code that re-plans a job (requeue, a changed want) must set lease_owner = NULL, which voids a
 * running worker's outcome the same way.
 *
 * Times are lib/clock values passed as parameters; no SQL here calls now(). The claim and the
 * outcomes are prepared once per connection (db_prepared). Functions take a connection owned by
 * the calling thread; the outcome functions run their own short transaction (the connection must
 * be idle) and call the hook inside it, so a job's state and its event commit together. */
#ifndef MKT_JOB_H
#define MKT_JOB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "backoff.h"
#include "clock.h"
#include "err.h"

/* Describes a job table. All strings are trusted SQL from the code, borrowed for the process's
 * life. In the SET fragments, $3 is the current time (timestamptz). */
struct job_table {
    const char *name;         /* short, unique per process: names the prepared statements ("mail") */
    const char *table;        /* "mail_ledger" */
    const char *id_type;      /* SQL type of the id column; NULL for "uuid" */
    const char *due;          /* condition on the table's columns for a row waiting for work:
                                 "state = 'pending'" (next_attempt_at <= now is added) */
    const char *done_set;     /* SET list on success: "state = 'sent', sent_at = $3" */
    const char *failed_set;   /* SET list on giving up: "state = 'failed'" */
    const char *touch;        /* NULL, or a SET list for every outcome: "updated_at = $3" */
    const char *error_column; /* "last_error" */
    const char *select;       /* NULL for "SELECT * FROM claimed", or the query over the CTE
                                 `claimed` (the claimed rows, all columns) that job_claim returns */
    int max_attempts;         /* job_retry gives up once attempts >= this; 0 = never */
    struct backoff backoff;   /* retry delays, in microseconds (lib/clock units) */
};

/* A lease owner name unique to this process and `worker` ("<prefix>-<pid>-<worker>-<random>"). */
void job_owner(const char *prefix, int worker, char out[64]);

/* Claims up to `limit` due rows, oldest due first, skipping rows other workers hold locked
 * (FOR UPDATE SKIP LOCKED), in one autocommitted statement: attempts + 1, lease_owner = owner,
 * next_attempt_at = lease_until. *out (PQclear it) holds what `select` returns. */
err_code job_claim(PGconn *c, const struct job_table *t, const char *owner, mkt_time now, mkt_time lease_until,
                   int limit, PGresult **out, struct err *e) MKT_MUST_USE;

/* Called inside an outcome's transaction, after the row changed: emit the event (outbox_emit),
 * write what else belongs with it. An error rolls the whole outcome back. */
struct job_hook {
    err_code (*fn)(PGconn *tx, void *arg, struct err *e);
    void *arg;
};

/* Success: done_set (+ touch), lease released, then the hook (may be NULL). */
err_code job_done(PGconn *c, const struct job_table *t, const char *id, const char *owner, mkt_time now,
                  const struct job_hook *hook, bool *recorded, struct err *e) MKT_MUST_USE;

/* Giving up now (a permanent failure): failed_set, the error, lease released, then the hook. */
err_code job_fail(PGconn *c, const struct job_table *t, const char *id, const char *owner, mkt_time now,
                  const char *error, const struct job_hook *hook, bool *recorded, struct err *e) MKT_MUST_USE;

/* A failed attempt. When attempts >= max_attempts (max_attempts > 0) or give_up is set, this is
 * job_fail with `on_give_up`; else the row is due again at now + backoff(attempts) with the
 * error recorded and the lease released. */
struct job_retry_result {
    bool recorded;  /* false: the lease was lost, nothing changed */
    bool gave_up;
    mkt_time next;  /* when it is due again (not gave_up) */
};
err_code job_retry(PGconn *c, const struct job_table *t, const char *id, const char *owner, int attempts,
                   mkt_time now, const char *error, bool give_up, const struct job_hook *on_give_up,
                   struct job_retry_result *out, struct err *e) MKT_MUST_USE;

/* Gives claimed rows back without counting an attempt (draining, a paused dependency): due at
 * `due`, attempts - 1, lease released. Autocommitted. */
err_code job_release(PGconn *c, const struct job_table *t, const char *const *ids, size_t n, const char *owner,
                     mkt_time due, struct err *e) MKT_MUST_USE;

#endif
