/* A fixed pool of worker threads. Each worker owns one PostgreSQL connection (when the pool has
 * a DSN) that only it uses, so handlers run straight-line code against `w->db`. Jobs are run in
 * submission order by whichever worker is free. Thread-safe. */
#ifndef MKT_POOL_H
#define MKT_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct worker {
    int index;
    PGconn *db;   /* NULL when the pool has no DSN; reconnected with db_ensure before each job */
    void *app;    /* the service's state, as given to pool_new */
};

typedef void (*pool_job_fn)(struct worker *w, void *arg);

struct pool;
/* Starts `n` workers; `dsn` may be NULL for a pool without database. Connections are opened
 * lazily so that a service starts while PostgreSQL is still coming up. */
err_code pool_new(int n, const char *dsn, void *app, struct pool **out, struct err *e) MKT_MUST_USE;
/* Queues a job; false once the pool is draining (the job is then not run). */
bool pool_submit(struct pool *p, pool_job_fn fn, void *arg);
/* Number of jobs queued or running. */
size_t pool_pending(struct pool *p);
/* Stops intake and waits up to deadline_ms for queued and running jobs; true when all finished. */
bool pool_drain(struct pool *p, int deadline_ms);
/* Joins the workers (after drain) and frees the pool; NULL is a no-op. Jobs still queued are
 * dropped without running. */
void pool_free(struct pool *p);

#endif
