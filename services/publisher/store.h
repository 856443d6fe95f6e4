/* The publisher's tables (services/publisher/migrations). product_codes: one row per OMI product
 * (PROD-3), a lib/job job table whose `id` is the product id; states 'pending' -> 'done' (with
 * product_code) or 'failed' (with last_error). */
#ifndef PUBLISHER_STORE_H
#define PUBLISHER_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "err.h"
#include "job.h"

#define STORE_ID 40
#define STORE_CODE 64

/* tx. Plans the product's code: a pending row due now; an existing row (a redelivery, a replayed
 * stream) is left as it is. *planned says whether a row was inserted. */
err_code store_code_plan(PGconn *tx, const char *product_id, const char *organization_id, mkt_time now,
                         bool *planned, struct err *e) MKT_MUST_USE;

/* The lib/job description of product_codes with these retry settings. */
void store_code_jobs_table(struct job_table *t, int max_attempts, mkt_time backoff_max);

struct store_code_job {
    char product_id[STORE_ID];
    char organization_id[STORE_ID];
    int attempts;
};
struct store_code_jobs {
    struct store_code_job *v;
    size_t n;
};
/* Claims up to `limit` due rows (job_claim). */
err_code store_code_claim(PGconn *c, const struct job_table *t, const char *owner, mkt_time now,
                          mkt_time lease_until, int limit, struct store_code_jobs *out, struct err *e) MKT_MUST_USE;
void store_code_jobs_cleanup(struct store_code_jobs *l);

/* tx (job_done's hook). Records the code on the row. */
err_code store_code_set(PGconn *tx, const char *product_id, const char *product_code, struct err *e) MKT_MUST_USE;

#endif
