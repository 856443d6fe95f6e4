/* The skeleton every service shares, so that main.c reads as a boot script:
 *
 *   svc_init -> svc_open_db (connect, migrate, start the outbox relay) -> svc_connect (NATS,
 *   streams, worker pool) -> svc_serve / svc_consume -> svc_run (loop until SIGTERM, drain) ->
 *   svc_cleanup
 *
 * One libuv loop owns the process: signals (the first SIGTERM or SIGINT stops intake and drains
 * in-flight work before MKT_DRAIN_MS, then svc_run returns 0; a second one exits at once) and
 * the maintenance timer. Handlers and consumers run on the worker pool, never on the loop.
 *
 * Common settings (environment): MKT_NATS_URL, MKT_PG_DSN, MKT_WORKERS, MKT_LOG_LEVEL,
 * MKT_DRAIN_MS, MKT_MAINTENANCE_MS, MKT_CLOCK_FILE (tests). */
#ifndef MKT_SVC_H
#define MKT_SVC_H

#include <uv.h>

#include "bus.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "events.h"
#include "outbox.h"
#include "pool.h"

struct svc_config {
    const char *nats_url;
    const char *pg_dsn;
    long long workers;
    const char *log_level;
    long long drain_ms;
    long long maintenance_ms;
    long long stream_replicas;
};

#define SVC_MAX_CONSUMERS 8

struct svc;
typedef void (*svc_hook_fn)(struct svc *s);

struct svc {
    const char *name;
    struct svc_config cfg;
    void *app;                      /* the service's own state (borrowed) */
    uv_loop_t loop;
    struct bus *bus;
    struct pool *pool;
    struct relay *relay;
    struct consumer *consumers[SVC_MAX_CONSUMERS];
    int n_consumers;
    mkt_time started_at;
    svc_hook_fn maintenance;        /* run on a worker every MKT_MAINTENANCE_MS (optional) */
    svc_hook_fn on_drain;           /* run on the loop when draining starts (optional) */
    /* internal */
    uv_signal_t sigterm__, sigint__;
    uv_timer_t timer__;
    int signals__;
    int maintenance_busy__;
    void *drain__;
    bool loop_ready__;
};

/* Sets up logging and the clock and loads the common settings (`needs_db`: MKT_PG_DSN required). */
err_code svc_init(struct svc *s, const char *name, void *app, bool needs_db, struct err *e) MKT_MUST_USE;
/* Connects to PostgreSQL once to apply the embedded migrations; starts the outbox relay. */
err_code svc_open_db(struct svc *s, struct err *e) MKT_MUST_USE;
/* Connects to NATS, sets up the streams and starts the worker pool (with a connection each when
 * the service has a database). */
err_code svc_connect(struct svc *s, struct err *e) MKT_MUST_USE;
err_code svc_serve(struct svc *s, const struct bus_method *methods, size_t n, struct err *e) MKT_MUST_USE;
err_code svc_consume(struct svc *s, const struct consumer_spec *spec, struct err *e) MKT_MUST_USE;
/* Runs the loop until a signal and the drain; returns the process exit code. */
int svc_run(struct svc *s);
void svc_cleanup(struct svc *s);

#endif
