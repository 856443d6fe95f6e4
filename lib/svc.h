/* The skeleton every service shares, so that main.c reads as a boot script:
 *
 *   svc_init (logging, clock, the common settings) -> svc_open_db (connect once, migrate) ->
 *   svc_connect (NATS, streams, the outbox relay when the service has a database) ->
 *   svc_serve / svc_consume -> svc_run (loop until SIGTERM, drain) -> svc_cleanup
 *
 * Work runs on three bounded worker pools, one per kind, so that no kind queues behind another:
 * RPC handlers (MKT_WORKERS, queue MKT_RPC_QUEUE_MAX), event consumers (MKT_CONSUMER_WORKERS,
 * MKT_CONSUMER_QUEUE_MAX) and the maintenance hook with the jobs it runs (MKT_JOB_WORKERS,
 * MKT_JOB_QUEUE_MAX). Each worker has its own PostgreSQL connection when the service has a
 * database. A pool is created when first needed (svc_serve, svc_consume, svc_run with a
 * maintenance hook), so the gateway, which has none of these, starts no worker.
 *
 * One libuv loop owns the process: signals and the maintenance timer. The first SIGTERM or SIGINT
 * stops intake (the RPC subscription, the consumers' fetches, and whatever on_drain stops: the
 * gateway's HTTP accept), then waits for in-flight RPCs, consumer jobs, maintenance and the
 * service's own work (on_drain_wait) until ONE deadline, MKT_DRAIN_MS after the signal:
 *   - all finished: the outbox relay is flushed and svc_run returns 0;
 *   - deadline reached: queued RPCs are answered "unavailable", consumer messages still queued
 *     or running are nak'ed for redelivery (nothing is lost: another consumer takes them), the
 *     counts per kind are logged at error level, NATS is flushed and the process exits with
 *     status 2 at once (SVC_EXIT_DRAIN_TIMEOUT): workers still run the abandoned jobs, so nothing
 *     can be freed safely.
 * A second signal exits at once with status 1.
 *
 * Common settings (the table in svc.c): MKT_NATS_URL, MKT_PG_DSN, MKT_WORKERS, MKT_RPC_QUEUE_MAX,
 * MKT_RPC_PENDING_MAX, MKT_CONSUMER_WORKERS, MKT_CONSUMER_QUEUE_MAX, MKT_JOB_WORKERS,
 * MKT_JOB_QUEUE_MAX, MKT_LOG_LEVEL, MKT_DRAIN_MS, MKT_MAINTENANCE_MS, MKT_STREAM_REPLICAS; and
 * MKT_CLOCK_FILE (tests), which lib/clock reads itself (clock_init_from_env, the one exception to
 * "only the configuration table reads the environment"). */
#ifndef MKT_SVC_H
#define MKT_SVC_H

#include <stdatomic.h>
#include <uv.h>

#include "bus.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "events.h"
#include "log.h"
#include "outbox.h"
#include "pool.h"

#define SVC_EXIT_DRAIN_TIMEOUT 2

struct svc_config {
    const char *nats_url;
    const char *pg_dsn;
    long long workers;            /* RPC handlers */
    long long rpc_queue_max;
    long long rpc_pending_max;    /* messages waiting in the RPC subscription (cnats) */
    long long consumer_workers;
    long long consumer_queue_max;
    long long job_workers;
    long long job_queue_max;
    enum log_level log_level;
    long long drain_ms;
    long long maintenance_ms;
    long long stream_replicas;
};

#define SVC_MAX_CONSUMERS 8

struct svc;
typedef void (*svc_hook_fn)(struct svc *s);
/* The maintenance hook, on a job worker: `w->db` is that worker's own connection (NULL without
 * database), `w->app` the service's state. */
typedef void (*svc_maintenance_fn)(struct svc *s, struct pool_worker *w);
/* Waits for the service's own in-flight work until `until_mono_us` (clock_mono_us); false when
 * some is left at the deadline. */
typedef bool (*svc_wait_fn)(struct svc *s, int64_t until_mono_us);

struct svc {
    const char *name;
    struct svc_config cfg;
    void *app;                      /* the service's own state (borrowed) */
    uv_loop_t loop;
    struct bus *bus;
    struct pool *rpc_pool;          /* RPC handlers (svc_serve) */
    struct pool *consumer_pool;     /* consumer jobs (svc_consume) */
    struct pool *job_pool;          /* the maintenance hook and its jobs (svc_run) */
    struct outbox_relay *relay;
    struct events_consumer *consumers[SVC_MAX_CONSUMERS];
    int n_consumers;
    mkt_time started_at;
    /* Hooks, all optional; set before svc_run. */
    svc_maintenance_fn maintenance; /* run on a job worker every MKT_MAINTENANCE_MS, never two at once */
    svc_hook_fn on_drain;           /* run on the loop when draining starts: stop the service's intake */
    svc_wait_fn on_drain_wait;      /* run on the drain thread after the pools drained */
    /* internal */
    uv_signal_t sigterm__, sigint__;
    uv_timer_t timer__;
    int signals__;
    atomic_bool maintenance_busy__;
    void *drain__;
    bool loop_ready__;
};

/* Sets up logging and the clock and loads the common settings (`needs_db`: MKT_PG_DSN required);
 * a bad setting (MKT_LOG_LEVEL included) is reported with every other one. */
err_code svc_init(struct svc *s, const char *name, void *app, bool needs_db, struct err *e) MKT_MUST_USE;
/* Connects to PostgreSQL once to apply the embedded migrations (retrying while it comes up). */
err_code svc_open_db(struct svc *s, struct err *e) MKT_MUST_USE;
/* Connects to NATS, sets up the streams, and starts the outbox relay when the service has a
 * database. */
err_code svc_connect(struct svc *s, struct err *e) MKT_MUST_USE;
/* Serves `methods` on the RPC pool (created here). */
err_code svc_serve(struct svc *s, const struct bus_method *methods, size_t n, struct err *e) MKT_MUST_USE;
/* Starts a durable consumer on the consumer pool (created by the first call); at most
 * SVC_MAX_CONSUMERS (ERR_INTERNAL beyond). */
err_code svc_consume(struct svc *s, const struct events_consumer_spec *spec, struct err *e) MKT_MUST_USE;
/* Runs the loop until a signal and the drain; returns the process exit code (0), or does not
 * return when the drain hits its deadline (exit status SVC_EXIT_DRAIN_TIMEOUT). */
int svc_run(struct svc *s);
void svc_cleanup(struct svc *s);

#endif
