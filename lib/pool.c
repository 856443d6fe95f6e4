/* The worker pool: N threads popping jobs from one FIFO queue guarded by a mutex and a condition
 * variable. Each worker lazily opens its own PostgreSQL connection and checks it before each job,
 * so a database restart costs failed jobs, not a dead service. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"

struct job {
    struct job *next;
    pool_job_fn fn;
    void *arg;
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work;  /* a job was queued, or stopping */
    pthread_cond_t idle;  /* a job finished */
    struct job *head, *tail;
    size_t queued, running;
    bool draining, stopping;
    char *dsn;
    int n;
    pthread_t *threads;
    struct worker *workers;
};

/* What a starting thread needs: its pool and its worker slot. */
struct worker_boot {
    struct pool *pool;
    struct worker *w;
};

static void ensure_db(struct pool *p, struct worker *w) {
    if (!p->dsn)
        return;
    struct err e;
    if (!w->db) {
        if (db_connect(p->dsn, &w->db, &e) != ERR_OK)
            log_warn("worker %d: %s", w->index, e.msg);
        return;
    }
    if (db_ensure(w->db, &e) != ERR_OK)
        log_warn("worker %d: %s", w->index, e.msg);
}

static void *worker_run(void *arg) {
    struct worker_boot boot = *(struct worker_boot *)arg;
    free(arg);
    struct pool *p = boot.pool;
    struct worker *w = boot.w;
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
        ensure_db(p, w);
        j->fn(w, j->arg);
        free(j);
        log_set_context(NULL, NULL);
        pthread_mutex_lock(&p->mu);
        p->running--;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

err_code pool_new(int n, const char *dsn, void *app, struct pool **out, struct err *e) {
    if (n < 1)
        return err_set(e, ERR_INVALID, "pool: need at least one worker");
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return err_set(e, ERR_INTERNAL, "pool: out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->n = n;
    p->dsn = dsn ? strdup(dsn) : NULL;
    p->threads = calloc((size_t)n, sizeof *p->threads);
    p->workers = calloc((size_t)n, sizeof *p->workers);
    if (!p->threads || !p->workers || (dsn && !p->dsn)) {
        pool_free(p);
        return err_set(e, ERR_INTERNAL, "pool: out of memory");
    }
    for (int i = 0; i < n; i++) {
        p->workers[i].index = i;
        p->workers[i].app = app;
        struct worker_boot *b = malloc(sizeof *b);
        if (b) {
            b->pool = p;
            b->w = &p->workers[i];
        }
        if (!b || pthread_create(&p->threads[i], NULL, worker_run, b) != 0) {
            free(b);
            p->n = i;
            pool_free(p);
            return err_set(e, ERR_INTERNAL, "pool: cannot start worker %d", i);
        }
    }
    *out = p;
    return ERR_OK;
}

bool pool_submit(struct pool *p, pool_job_fn fn, void *arg) {
    struct job *j = malloc(sizeof *j);
    if (!j)
        return false;
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->draining) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return false;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return true;
}

size_t pool_pending(struct pool *p) {
    pthread_mutex_lock(&p->mu);
    size_t n = p->queued + p->running;
    pthread_mutex_unlock(&p->mu);
    return n;
}

bool pool_drain(struct pool *p, int deadline_ms) {
    int64_t until = clock_mono_us() + (int64_t)deadline_ms * 1000;
    pthread_mutex_lock(&p->mu);
    p->draining = true;
    while (p->queued + p->running > 0) {
        int64_t left = until - clock_mono_us();
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

void pool_free(struct pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->draining = p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    while (p->head) {
        struct job *j = p->head;
        p->head = j->next;
        free(j);
    }
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
