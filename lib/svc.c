/* The service skeleton: common configuration, the boot steps every main.c calls, and the libuv
 * loop that owns signals and the maintenance timer. Draining runs on its own thread so that the
 * loop can still see a second signal and exit at once. */
#include "svc.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

static const struct config_field common_fields[] = {
    {"MKT_NATS_URL", CONFIG_STRING, "nats://127.0.0.1:4222", 1, 2048, false, offsetof(struct svc_config, nats_url),
     "comma-separated NATS server URLs"},
    {"MKT_PG_DSN", CONFIG_STRING, NULL, 1, 2048, true, offsetof(struct svc_config, pg_dsn),
     "libpq connection string of the service's own role"},
    {"MKT_WORKERS", CONFIG_INT, "4", 1, 256, false, offsetof(struct svc_config, workers), "worker threads"},
    {"MKT_LOG_LEVEL", CONFIG_STRING, "info", 1, 8, false, offsetof(struct svc_config, log_level),
     "debug, info, warn or error"},
    {"MKT_DRAIN_MS", CONFIG_INT, "10000", 0, 600000, false, offsetof(struct svc_config, drain_ms),
     "how long SIGTERM waits for in-flight work"},
    {"MKT_MAINTENANCE_MS", CONFIG_INT, "5000", 10, 3600000, false, offsetof(struct svc_config, maintenance_ms),
     "period of the maintenance timer"},
    {"MKT_STREAM_REPLICAS", CONFIG_INT, "1", 1, 5, false, offsetof(struct svc_config, stream_replicas),
     "copies of each JetStream stream (3 on a cluster)"},
};

err_code svc_init(struct svc *s, const char *name, void *app, bool needs_db, struct err *e) {
    memset(s, 0, sizeof *s);
    s->name = name;
    s->app = app;
    log_init(name, getenv("MKT_LOG_LEVEL"));
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
        err_code code = bus_connect(s->cfg.nats_url, s->name, &s->bus, e);
        if (code != ERR_OK)
            return code;
    }
    return events_setup_streams(s->bus, (int)s->cfg.stream_replicas, e);
}

err_code svc_connect(struct svc *s, struct err *e) {
    err_code code = with_retries(connect_once, s, "nats", e);
    if (code == ERR_OK)
        code = pool_new((int)s->cfg.workers, s->cfg.pg_dsn, s->app, &s->pool, e);
    if (code == ERR_OK && s->cfg.pg_dsn)
        code = relay_start(s->cfg.pg_dsn, s->bus, &s->relay, e);
    return code;
}

err_code svc_serve(struct svc *s, const struct bus_method *methods, size_t n, struct err *e) {
    return bus_serve(s->bus, s->name, methods, n, s->pool, e);
}

err_code svc_consume(struct svc *s, const struct consumer_spec *spec, struct err *e) {
    if (s->n_consumers >= SVC_MAX_CONSUMERS)
        return err_set(e, ERR_INTERNAL, "too many consumers");
    err_code code = consumer_start(s->bus, spec, s->pool, &s->consumers[s->n_consumers], e);
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

static void maintenance_job(struct worker *w, void *arg) {
    (void)w;
    struct svc *s = arg;
    s->maintenance(s);
    __atomic_store_n(&s->maintenance_busy__, 0, __ATOMIC_RELEASE);
}

/* Duties of the one maintenance timer: run the service's maintenance hook (retries, expiry,
 * reconciliation, stats) on a worker, never two at once. */
static void on_timer(uv_timer_t *t) {
    struct svc *s = t->data;
    if (!s->maintenance || __atomic_load_n(&s->maintenance_busy__, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&s->maintenance_busy__, 1, __ATOMIC_RELEASE);
    if (!pool_submit(s->pool, maintenance_job, s))
        __atomic_store_n(&s->maintenance_busy__, 0, __ATOMIC_RELEASE);
}

/* Stop intake, finish in-flight work, flush the outbox: in this order, so that nothing accepted is
 * dropped and everything committed is published. */
static void drain_thread(void *arg) {
    struct drain_ctx *d = arg;
    struct svc *s = d->s;
    int64_t t0 = clock_mono_us();
    bus_stop_serving(s->bus);
    for (int i = 0; i < s->n_consumers; i++) {
        consumer_free(s->consumers[i]);
        s->consumers[i] = NULL;
    }
    s->n_consumers = 0;
    int left = (int)s->cfg.drain_ms - (int)((clock_mono_us() - t0) / 1000);
    if (s->pool && !pool_drain(s->pool, left > 0 ? left : 0))
        log_warn("drain: deadline reached with %zu jobs pending", pool_pending(s->pool));
    left = (int)s->cfg.drain_ms - (int)((clock_mono_us() - t0) / 1000);
    relay_free(s->relay, left > 1000 ? left : 1000);
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
        consumer_free(s->consumers[i]);
    relay_free(s->relay, 0);
    pool_free(s->pool);
    bus_free(s->bus);
    free(s->drain__);
    if (s->loop_ready__)
        uv_loop_close(&s->loop);
    nats_CloseAndWait(2000);
}
