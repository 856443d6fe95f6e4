/* A fixed pool of worker threads with a bounded queue. Each worker owns one PostgreSQL connection
 * (when the pool has a DSN) that only it uses, so handlers run straight-line code against `w->db`.
 * Jobs are run in submission order by whichever worker is free. Thread-safe.
 *
 * A service runs one pool per kind of work (RPC handlers, event consumers, maintenance and
 * cloud jobs: lib/svc.h), so that one kind never queues behind another. Each queue is bounded:
 * a submission beyond `queue_max` is refused at once, and the caller answers "unavailable"
 * (RPC) or hands the message back for redelivery (consumers) instead of buffering without limit.
 *
 * After every job the worker checks that the job left its connection idle (no transaction
 * open or aborted): if not, it rolls back and logs an error naming the job, so the next job on
 * that worker starts clean.
 *
 * A job's owner may give a cancel callback: jobs still queued when the pool gives up on them
 * (pool_cancel_queued after a drain deadline, or pool_free) are cancelled instead of silently
 * dropped, so the owner can nak, answer or free what the job carried. */
#ifndef MKT_POOL_H
#define MKT_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define POOL_JOB_NAME_MAX 96

struct pool_worker {
    int index;
    PGconn *db;   /* NULL when the pool has no DSN; reconnected with db_ensure before each job */
    void *app;    /* the service's state, as given to the pool */
    /* The running job's name as shown by the transaction check ("rpc mkt.rpc.catalog.get",
     * "consumer notifier-mail"); set by the pool from the submission, a job may refine it. */
    char job[POOL_JOB_NAME_MAX];
};

typedef void (*pool_job_fn)(struct pool_worker *w, void *arg);
/* Called instead of the job when the pool gives up on a queued job, on the thread that called
 * pool_cancel_queued or pool_free. Owns `arg` as the job would have. */
typedef void (*pool_cancel_fn)(void *arg);

struct pool_config {
    const char *name;   /* "rpc", "consumer", "jobs": shown in logs */
    int workers;        /* >= 1 */
    int queue_max;      /* jobs waiting for a worker at most; 0 = unbounded */
    const char *dsn;    /* NULL: no database connection per worker (copied) */
    void *app;          /* w->app of every worker (borrowed) */
};

struct pool_job {
    const char *name;       /* copied into w->job; NULL: the pool's name */
    pool_job_fn fn;
    pool_cancel_fn cancel;  /* NULL: the job is dropped when cancelled (nothing to release) */
    void *arg;
};

struct pool;
/* Starts the workers. Connections are opened lazily so that a service starts while PostgreSQL is
 * still coming up. *out is owned (pool_free). */
err_code pool_new(const struct pool_config *cfg, struct pool **out, struct err *e) MKT_MUST_USE;

enum pool_refusal { POOL_QUEUED = 0, POOL_FULL, POOL_DRAINING };
/* Queues a job. POOL_FULL (queue at queue_max) or POOL_DRAINING: the job is not queued and the
 * caller keeps what `arg` owns (the cancel callback is not called). */
enum pool_refusal pool_submit_job(struct pool *p, const struct pool_job *job);
/* pool_submit_job without name or cancel callback; false when refused. */
bool pool_submit(struct pool *p, pool_job_fn fn, void *arg);
/* Number of jobs queued or running. */
size_t pool_pending(struct pool *p);
/* Jobs queued and jobs running, separately (either may be NULL). */
void pool_counts(struct pool *p, size_t *queued, size_t *running);
/* Stops intake (every later submission is POOL_DRAINING) and waits until `until_mono_us`
 * (lib/clock's clock_mono_us) for queued and running jobs; true when all finished. */
bool pool_drain_until(struct pool *p, int64_t until_mono_us);
/* pool_drain_until with a relative deadline in milliseconds. */
bool pool_drain(struct pool *p, int deadline_ms);
/* Removes every queued job and calls its cancel callback (in queue order, on this thread);
 * returns how many. Running jobs are not touched. */
size_t pool_cancel_queued(struct pool *p);
/* Stops intake, cancels the jobs still queued (as pool_cancel_queued), joins the workers (a
 * running job is waited for) and frees the pool; NULL is a no-op. */
void pool_free(struct pool *p);

#endif
