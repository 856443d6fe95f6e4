/* The service skeleton: common configuration, the boot steps every main.c calls, the three
 * worker pools, and the libuv loop that owns signals and the maintenance timer. Draining runs on
 * its own thread so that the loop can still see a second signal and exit at once. */
#include "svc.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

#define C(field) offsetof(struct svc_config, field)
static const struct config_field common_fields[] = {
    {"MKT_NATS_URL", CONFIG_STRING, "nats://127.0.0.1:4222", 1, 2048, false, C(nats_url),
     "comma-separated NATS server URLs"},
    {"MKT_PG_DSN", CONFIG_STRING, NULL, 1, 2048, true, C(pg_dsn), "libpq connection string of the service's own role"},
    {"MKT_WORKERS", CONFIG_INT, "4", 1, 256, false, C(workers), "RPC worker threads (one database connection each)"},
    {"MKT_RPC_QUEUE_MAX", CONFIG_INT, "256", 1, 1000000, false, C(rpc_queue_max),
     "calls waiting for an RPC worker; beyond, a call is answered unavailable (retry in 1 s) at once"},
    {"MKT_RPC_PENDING_MAX", CONFIG_INT, "65536", 16, 10000000, false, C(rpc_pending_max),
     "calls the NATS client may hold before handing them over; beyond, they are dropped and counted"},
    {"MKT_CONSUMER_WORKERS", CONFIG_INT, "2", 1, 256, false, C(consumer_workers),
     "event consumer worker threads (one database connection each)"},
    {"MKT_CONSUMER_QUEUE_MAX", CONFIG_INT, "1024", 1, 1000000, false, C(consumer_queue_max),
     "consumer messages waiting for a worker; beyond, they are handed back for redelivery"},
    {"MKT_JOB_WORKERS", CONFIG_INT, "1", 1, 64, false, C(job_workers),
     "maintenance and cloud job threads (one database connection each)"},
    {"MKT_JOB_QUEUE_MAX", CONFIG_INT, "64", 1, 100000, false, C(job_queue_max), "jobs waiting for a job thread"},
    {"MKT_LOG_LEVEL", CONFIG_LOG_LEVEL, "info", 0, 0, false, C(log_level), "debug, info, warn or error"},
    {"MKT_DRAIN_MS", CONFIG_INT, "10000", 0, 600000, false, C(drain_ms),
     "how long SIGTERM waits for in-flight work before abandoning it (exit status 2)"},
    {"MKT_MAINTENANCE_MS", CONFIG_INT, "5000", 10, 3600000, false, C(maintenance_ms), "period of the maintenance timer"},
    {"MKT_STREAM_REPLICAS", CONFIG_INT, "1", 1, 5, false, C(stream_replicas),
     "copies of each JetStream stream (3 on deploy/'s three-node cluster)"},
};
#undef C

err_code svc_init(struct svc *s, const char *name, void *app, bool needs_db, struct err *e) {
    memset(s, 0, sizeof *s);
    s->name = name;
    s->app = app;
    log_init(name, NULL);
    clock_init_from_env();
    s->started_at = clock_now();
    size_t n = CONFIG_COUNT(common_fields);
    struct config_field fields[CONFIG_COUNT(common_fields)];
    memcpy(fields, common_fields, sizeof fields);
    if (!needs_db)
        fields[1].def = "", fields[1].min = 0; /* optional: empty means no database */
    err_code code = config_load(fields, n, &s->cfg, e);
    if (code != ERR_OK)
        return err_wrap(e, "configuration");
    if (!needs_db && s->cfg.pg_dsn && !*s->cfg.pg_dsn)
        s->cfg.pg_dsn = NULL;
    log_set_level(s->cfg.log_level);
    config_log(fields, n, &s->cfg);
    if (uv_loop_init(&s->loop) != 0)
        return err_set(e, ERR_INTERNAL, "libuv loop init failed");
    s->loop_ready__ = true;
    return ERR_OK;
}

/* Retries a start-up step while its dependency comes up (containers start in any order). */
static err_code with_retries(err_code (*step)(struct svc *, struct err *), struct svc *s, const char *what,
                             struct err *e) {
    for (int attempt = 1;; attempt++) {
        err_code code = step(s, e);
        if (code != ERR_UNAVAILABLE || attempt >= 60)
            return code;
        log_warn("%s: %s (attempt %d, retrying)", what, e->msg, attempt);
        usleep(500 * 1000);
    }
}

static err_code open_db_once(struct svc *s, struct err *e) {
    PGconn *c = NULL;
    err_code code = db_connect(s->cfg.pg_dsn, &c, e);
    if (code == ERR_OK)
        code = db_migrate(c, mkt_migrations, mkt_migrations_count, e);
    db_close(c);
    return code;
}

err_code svc_open_db(struct svc *s, struct err *e) {
    if (!s->cfg.pg_dsn)
        return ERR_OK;
    return with_retries(open_db_once, s, "database", e);
}

static err_code connect_once(struct svc *s, struct err *e) {
    if (!s->bus) {
        err_code code = bus_new(s->cfg.nats_url, s->name, &s->bus, e);
        if (code != ERR_OK)
            return code;
        bus_set_pending_limits(s->bus, (int)s->cfg.rpc_pending_max, 64 << 20);
    }
    return events_setup_streams(s->bus, (int)s->cfg.stream_replicas, e);
}

err_code svc_connect(struct svc *s, struct err *e) {
    err_code code = with_retries(connect_once, s, "nats", e);
    if (code == ERR_OK && s->cfg.pg_dsn)
        code = outbox_relay_start(s->cfg.pg_dsn, s->bus, &s->relay, e);
    return code;
}

static err_code ensure_pool(struct svc *s, struct pool **p, const char *name, long long workers, long long queue_max,
                            struct err *e) {
    if (*p)
        return ERR_OK;
    struct pool_config pc = {.name = name, .workers = (int)workers, .queue_max = (int)queue_max,
                             .dsn = s->cfg.pg_dsn, .app = s->app};
    return pool_new(&pc, p, e);
}

err_code svc_serve(struct svc *s, const struct bus_method *methods, size_t n, struct err *e) {
    err_code code = ensure_pool(s, &s->rpc_pool, "rpc", s->cfg.workers, s->cfg.rpc_queue_max, e);
    if (code == ERR_OK)
        code = bus_serve(s->bus, s->name, methods, n, s->rpc_pool, e);
    return code;
}

err_code svc_consume(struct svc *s, const struct events_consumer_spec *spec, struct err *e) {
    if (s->n_consumers >= SVC_MAX_CONSUMERS)
        return err_set(e, ERR_INTERNAL, "consumer %s: more than %d consumers (SVC_MAX_CONSUMERS): use a route table",
                       spec->durable, SVC_MAX_CONSUMERS);
    err_code code = ensure_pool(s, &s->consumer_pool, "consumer", s->cfg.consumer_workers, s->cfg.consumer_queue_max, e);
    if (code == ERR_OK)
        code = events_consumer_start(s->bus, spec, s->consumer_pool, &s->consumers[s->n_consumers], e);
    if (code == ERR_OK)
        s->n_consumers++;
    return code;
}

/* ---- the loop ---------------------------------------------------------------------------------- */

struct drain_ctx {
    struct svc *s;
    uv_thread_t thread;
    uv_async_t finished;
};

static void maintenance_job(struct pool_worker *w, void *arg) {
    struct svc *s = arg;
    s->maintenance(s, w);
    atomic_store(&s->maintenance_busy__, false);
}

static void maintenance_cancel(void *arg) {
    struct svc *s = arg;
    atomic_store(&s->maintenance_busy__, false);
}

/* Duties of the one maintenance timer: run the service's maintenance hook (retries, expiry,
 * reconciliation, stats) on a job worker, never two at once. */
static void on_timer(uv_timer_t *t) {
    struct svc *s = t->data;
    if (!s->maintenance || !s->job_pool || atomic_exchange(&s->maintenance_busy__, true))
        return;
    struct pool_job job = {.name = "maintenance", .fn = maintenance_job, .cancel = maintenance_cancel, .arg = s};
    if (pool_submit_job(s->job_pool, &job) != POOL_QUEUED)
        atomic_store(&s->maintenance_busy__, false);
}

static int ms_until(int64_t until_mono_us) {
    int64_t left = (until_mono_us - clock_mono_us()) / 1000;
    return left > 0 ? (int)left : 0;
}

/* The deadline passed with work in hand: hand everything back (answers for queued calls, naks for
 * consumer messages), say what was abandoned, and end the process: the workers still run the
 * jobs they hold, so nothing they use may be freed. */
static void abandon(struct svc *s, int64_t t0) {
    size_t rpc_queued = 0, rpc_running = 0, msg_queued = 0, msg_running = 0, job_queued = 0, job_running = 0;
    if (s->rpc_pool) {
        pool_counts(s->rpc_pool, NULL, &rpc_running);
        rpc_queued = pool_cancel_queued(s->rpc_pool); /* answered "unavailable" */
    }
    /* events_consumer_abandon first: it waits for the fetches in progress to end, so that the naks
     * (its own and those of the cancelled jobs) find no pull request of this process open. */
    int naked = 0;
    for (int i = 0; i < s->n_consumers; i++)
        naked += events_consumer_abandon(s->consumers[i]);
    if (s->consumer_pool) {
        pool_counts(s->consumer_pool, NULL, &msg_running);
        msg_queued = pool_cancel_queued(s->consumer_pool); /* already nak'ed by events_consumer_abandon */
    }
    if (s->job_pool) {
        pool_counts(s->job_pool, NULL, &job_running);
        job_queued = pool_cancel_queued(s->job_pool);
    }
    log_error("drain: deadline of %lld ms reached after %ld ms: abandoned %zu RPC call(s) (%zu queued, answered "
              "unavailable; %zu running), %zu consumer message(s) (%zu queued, %zu running; %d nak'ed for "
              "redelivery), %zu job(s) (%zu queued, %zu running); exiting with status %d",
              s->cfg.drain_ms, (long)((clock_mono_us() - t0) / 1000), rpc_queued + rpc_running, rpc_queued,
              rpc_running, msg_queued + msg_running, msg_queued, msg_running, naked,
              job_queued + job_running, job_queued, job_running, SVC_EXIT_DRAIN_TIMEOUT);
    if (s->bus)
        natsConnection_FlushTimeout(bus_nats(s->bus), 1000); /* the answers and naks leave now */
    _exit(SVC_EXIT_DRAIN_TIMEOUT);
}

/* Stop intake, finish in-flight work, flush the outbox: in this order, so that nothing accepted is
 * dropped and everything committed is published. One deadline for all of it. */
static void drain_thread(void *arg) {
    struct drain_ctx *d = arg;
    struct svc *s = d->s;
    int64_t t0 = clock_mono_us(), until = t0 + s->cfg.drain_ms * 1000;
    bus_stop_serving(s->bus, ms_until(until));
    for (int i = 0; i < s->n_consumers; i++)
        events_consumer_stop(s->consumers[i]);
    bool idle = true;
    if (s->rpc_pool)
        idle = pool_drain_until(s->rpc_pool, until) && idle;
    if (s->consumer_pool)
        idle = pool_drain_until(s->consumer_pool, until) && idle;
    if (s->job_pool)
        idle = pool_drain_until(s->job_pool, until) && idle;
    if (s->on_drain_wait)
        idle = s->on_drain_wait(s, until) && idle;
    if (!idle)
        abandon(s, t0);
    for (int i = 0; i < s->n_consumers; i++) {
        events_consumer_free(s->consumers[i]);
        s->consumers[i] = NULL;
    }
    s->n_consumers = 0;
    int left = ms_until(until);
    outbox_relay_stop(s->relay, left > 1000 ? left : 1000);
    s->relay = NULL;
    log_info("drained in %ld ms", (long)((clock_mono_us() - t0) / 1000));
    uv_async_send(&d->finished);
}

static void close_handle(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_drained(uv_async_t *a) {
    struct drain_ctx *d = a->data;
    uv_thread_join(&d->thread);
    uv_walk(a->loop, close_handle, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
    struct svc *s = h->data;
    if (++s->signals__ > 1) {
        log_warn("second signal %d: exiting now", signum);
        _exit(1);
    }
    log_info("signal %d: draining (deadline %lld ms)", signum, s->cfg.drain_ms);
    uv_timer_stop(&s->timer__);
    if (s->on_drain)
        s->on_drain(s);
    struct drain_ctx *d = calloc(1, sizeof *d);
    if (!d || uv_async_init(&s->loop, &d->finished, on_drained) != 0) {
        free(d);
        _exit(1);
    }
    d->s = s;
    d->finished.data = d;
    s->drain__ = d;
    if (uv_thread_create(&d->thread, drain_thread, d) != 0)
        _exit(1);
}

int svc_run(struct svc *s) {
    struct err e = {0};
    if (s->maintenance &&
        ensure_pool(s, &s->job_pool, "jobs", s->cfg.job_workers, s->cfg.job_queue_max, &e) != ERR_OK) {
        log_error("start: %s", e.msg);
        return 1;
    }
    uv_signal_init(&s->loop, &s->sigterm__);
    uv_signal_init(&s->loop, &s->sigint__);
    s->sigterm__.data = s->sigint__.data = s;
    uv_signal_start(&s->sigterm__, on_signal, SIGTERM);
    uv_signal_start(&s->sigint__, on_signal, SIGINT);
    uv_timer_init(&s->loop, &s->timer__);
    s->timer__.data = s;
    uv_timer_start(&s->timer__, on_timer, (uint64_t)s->cfg.maintenance_ms, (uint64_t)s->cfg.maintenance_ms);
    log_info("%s %s ready", s->name, MKT_VERSION);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return 0;
}

void svc_cleanup(struct svc *s) {
    for (int i = 0; i < s->n_consumers; i++)
        events_consumer_free(s->consumers[i]);
    s->n_consumers = 0;
    outbox_relay_stop(s->relay, 0);
    s->relay = NULL;
    pool_free(s->rpc_pool);
    pool_free(s->consumer_pool);
    pool_free(s->job_pool);
    s->rpc_pool = s->consumer_pool = s->job_pool = NULL;
    bus_free(s->bus);
    s->bus = NULL;
    free(s->drain__);
    s->drain__ = NULL;
    if (s->loop_ready__)
        uv_loop_close(&s->loop);
    s->loop_ready__ = false;
    nats_CloseAndWait(2000);
}
