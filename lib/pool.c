/* The worker pool: N threads popping jobs from one bounded FIFO queue guarded by a mutex and a
 * condition variable. Each worker lazily opens its own PostgreSQL connection and checks it before
 * each job, so a database restart costs failed jobs, not a dead service; after each job it checks
 * that the job did not leave a transaction open. */
#include "pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"

struct job {
    struct job *next;
    pool_job_fn fn;
    pool_cancel_fn cancel;
    void *arg;
    char name[POOL_JOB_NAME_MAX];
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work;  /* a job was queued, or stopping */
    pthread_cond_t idle;  /* a job finished */
    struct job *head, *tail;
    size_t queued, running, queue_max;
    bool draining, stopping;
    char name[32];
    char *dsn;
    int n;
    pthread_t *threads;
    struct pool_worker *workers;
};

/* What a starting thread needs: its pool and its worker slot. */
struct worker_boot {
    struct pool *pool;
    struct pool_worker *w;
};

static void ensure_db(struct pool *p, struct pool_worker *w) {
    if (!p->dsn)
        return;
    struct err e;
    if (!w->db) {
        if (db_connect(p->dsn, &w->db, &e) != ERR_OK)
            log_warn("%s worker %d: %s", p->name, w->index, e.msg);
        return;
    }
    if (db_ensure(w->db, &e) != ERR_OK)
        log_warn("%s worker %d: %s", p->name, w->index, e.msg);
}

/* A job must leave its connection as it found it: a transaction left open (or aborted) would
 * hold locks and leak into the next job on this worker. Roll back and say so loudly: it is a bug
 * in the job. */
static void check_idle(struct pool *p, struct pool_worker *w) {
    if (!w->db)
        return;
    PGTransactionStatusType st = PQtransactionStatus(w->db);
    if (st == PQTRANS_IDLE || st == PQTRANS_UNKNOWN) /* unknown: a bad connection, db_ensure's job */
        return;
    log_error("%s worker %d: job %s left a transaction %s: rolled back", p->name, w->index, w->job,
              st == PQTRANS_INERROR ? "aborted" : st == PQTRANS_ACTIVE ? "with a query running" : "open");
    if (st == PQTRANS_ACTIVE) {
        /* Results not read: drain them before the rollback can be sent. */
        PGresult *r;
        while ((r = PQgetResult(w->db)) != NULL)
            PQclear(r);
    }
    db_rollback(w->db);
}

static void *worker_run(void *arg) {
    struct worker_boot boot = *(struct worker_boot *)arg;
    free(arg);
    struct pool *p = boot.pool;
    struct pool_worker *w = boot.w;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stopping)
            break;
        struct job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        memcpy(w->job, j->name, sizeof w->job);
        ensure_db(p, w);
        j->fn(w, j->arg);
        free(j);
        check_idle(p, w);
        log_set_context(NULL, NULL);
        pthread_mutex_lock(&p->mu);
        p->running--;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

err_code pool_new(const struct pool_config *cfg, struct pool **out, struct err *e) {
    if (cfg->workers < 1)
        return err_set(e, ERR_INVALID, "pool %s: need at least one worker", cfg->name ? cfg->name : "");
    if (cfg->queue_max < 0)
        return err_set(e, ERR_INVALID, "pool %s: negative queue bound", cfg->name ? cfg->name : "");
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return err_set(e, ERR_INTERNAL, "pool: out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    snprintf(p->name, sizeof p->name, "%s", cfg->name ? cfg->name : "pool");
    p->queue_max = (size_t)cfg->queue_max;
    p->dsn = cfg->dsn ? strdup(cfg->dsn) : NULL;
    p->threads = calloc((size_t)cfg->workers, sizeof *p->threads);
    p->workers = calloc((size_t)cfg->workers, sizeof *p->workers);
    if (!p->threads || !p->workers || (cfg->dsn && !p->dsn)) {
        pool_free(p);
        return err_set(e, ERR_INTERNAL, "pool %s: out of memory", cfg->name ? cfg->name : "");
    }
    for (int i = 0; i < cfg->workers; i++) {
        p->workers[i].index = i;
        p->workers[i].app = cfg->app;
        struct worker_boot *b = malloc(sizeof *b);
        if (b) {
            b->pool = p;
            b->w = &p->workers[i];
        }
        if (!b || pthread_create(&p->threads[i], NULL, worker_run, b) != 0) {
            free(b);
            pool_free(p);
            return err_set(e, ERR_INTERNAL, "pool %s: cannot start worker %d", p->name, i);
        }
        p->n = i + 1; /* pool_free joins the threads started so far */
    }
    *out = p;
    return ERR_OK;
}

enum pool_refusal pool_submit_job(struct pool *p, const struct pool_job *job) {
    struct job *j = malloc(sizeof *j);
    if (!j)
        return POOL_FULL;
    j->fn = job->fn;
    j->cancel = job->cancel;
    j->arg = job->arg;
    j->next = NULL;
    snprintf(j->name, sizeof j->name, "%s", job->name ? job->name : p->name);
    pthread_mutex_lock(&p->mu);
    enum pool_refusal r = p->draining ? POOL_DRAINING
                        : (p->queue_max && p->queued >= p->queue_max) ? POOL_FULL
                                                                      : POOL_QUEUED;
    if (r != POOL_QUEUED) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return r;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return POOL_QUEUED;
}

bool pool_submit(struct pool *p, pool_job_fn fn, void *arg) {
    struct pool_job job = {.fn = fn, .arg = arg};
    return pool_submit_job(p, &job) == POOL_QUEUED;
}

size_t pool_pending(struct pool *p) {
    size_t q, r;
    pool_counts(p, &q, &r);
    return q + r;
}

void pool_counts(struct pool *p, size_t *queued, size_t *running) {
    pthread_mutex_lock(&p->mu);
    if (queued)
        *queued = p->queued;
    if (running)
        *running = p->running;
    pthread_mutex_unlock(&p->mu);
}

bool pool_drain_until(struct pool *p, int64_t until_mono_us) {
    pthread_mutex_lock(&p->mu);
    p->draining = true;
    while (p->queued + p->running > 0) {
        int64_t left = until_mono_us - clock_mono_us();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (left < 50000 ? left : 50000) * 1000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&p->idle, &p->mu, &ts);
    }
    bool done = p->queued + p->running == 0;
    pthread_mutex_unlock(&p->mu);
    return done;
}

bool pool_drain(struct pool *p, int deadline_ms) {
    return pool_drain_until(p, clock_mono_us() + (int64_t)deadline_ms * 1000);
}

size_t pool_cancel_queued(struct pool *p) {
    pthread_mutex_lock(&p->mu);
    struct job *list = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->mu);
    size_t n = 0;
    while (list) {
        struct job *j = list;
        list = j->next;
        if (j->cancel)
            j->cancel(j->arg);
        free(j);
        n++;
    }
    return n;
}

void pool_free(struct pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->draining = true;
    pthread_mutex_unlock(&p->mu);
    size_t cancelled = pool_cancel_queued(p);
    if (cancelled)
        log_warn("pool %s: %zu queued job(s) cancelled", p->name, cancelled);
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    for (int i = 0; p->workers && i < p->n; i++)
        db_close(p->workers[i].db);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    free(p->threads);
    free(p->workers);
    free(p->dsn);
    free(p);
}
