/* Benchmark: events through JetStream, raw against the platform's outbox chain.
 *
 *   raw JetStream   js_PublishMsgAsync of N small messages (the size of a packed event envelope)
 *                   to a dedicated stream, then js_PublishAsyncComplete: what the server and cnats
 *                   allow, with no database and nobody consuming. The baseline.
 *   chain, live     N events committed through the outbox in the producer schema by PRODUCERS
 *                   threads (each transaction: PER_TX times a row of `produced` plus outbox_emit),
 *                   published by the outbox relay, fetched by a durable inbox consumer on a pool of
 *                   WORKERS workers connected to the consumer schema, each event one transaction
 *                   (inbox claim + a row of `effects`). Timed from the first BEGIN to the moment
 *                   `effects` holds N rows (polled every 20 ms on a connection of its own).
 *   chain, backlog  the same N events committed first with no relay running, then the relay is
 *                   started: timed from its start, what relay + JetStream + consumer sustain alone,
 *                   which tells whether the live figure is bound by the producers or downstream.
 *
 * Producers and consumer run in this one process but, as two services would, on separate NATS
 * connections and database roles. Settings (environment): MKT_NATS_URL, BENCH_PRODUCER_DSN,
 * BENCH_CONSUMER_DSN (each a role whose search_path is its own, fresh, schema), BENCH_CHAIN_N
 * (20000), BENCH_CHAIN_PER_TX (20), BENCH_CHAIN_PRODUCERS (4), BENCH_CHAIN_WORKERS (4),
 * BENCH_CHAIN_TIMEOUT_S (150, per run). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "events.h"
#include "log.h"
#include "outbox.h"
#include "pool.h"
#include "testing.pb-c.h"

#define RAW_STREAM "BENCHRAW"
#define RAW_SUBJECT "bench.raw.tick"

struct settings {
    const char *nats_url, *producer_dsn, *consumer_dsn;
    long n, per_tx, producers, workers, timeout_s;
};

static long env_long(const char *name, long def) {
    const char *v = getenv(name);
    return v && *v ? atol(v) : def;
}

/* ---- raw JetStream ---------------------------------------------------------------------------- */

static atomic_long raw_errors;

static void on_raw_error(jsCtx *js, jsPubAckErr *pae, void *closure) {
    (void)js, (void)pae, (void)closure;
    atomic_fetch_add(&raw_errors, 1);
}

/* Publishes n messages of `len` bytes; *rate gets messages per second. */
static err_code bench_raw(struct bus *b, long n, const void *data, size_t len, double *rate, struct err *e) {
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    err_code code = ERR_OK;
    natsStatus s;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.ErrHandler = on_raw_error;
    jo.PublishAsync.MaxPending = 4096;
    if ((s = natsConnection_JetStream(&js, bus_nats(b), &jo)) != NATS_OK) {
        code = err_set(e, ERR_INTERNAL, "jetstream: %s", natsStatus_GetText(s));
        goto done;
    }
    /* Same storage and replicas as EVENTS (lib/events.c). */
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {"bench.raw.>"};
    cfg.Name = RAW_STREAM;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = 1;
    js_DeleteStream(js, RAW_STREAM, NULL, NULL); /* left over by an interrupted run */
    if ((s = js_AddStream(&si, js, &cfg, NULL, &jerr)) != NATS_OK) {
        code = err_set(e, ERR_UNAVAILABLE, "stream %s: %s (%d)", RAW_STREAM, natsStatus_GetText(s), (int)jerr);
        goto done;
    }
    jsStreamInfo_Destroy(si);
    si = NULL;
    int64_t t0 = clock_mono_us();
    for (long i = 0; i < n; i++) {
        natsMsg *m = NULL;
        s = natsMsg_Create(&m, RAW_SUBJECT, NULL, data, (int)len);
        if (s == NATS_OK)
            s = js_PublishMsgAsync(js, &m, NULL);
        natsMsg_Destroy(m);
        if (s != NATS_OK) {
            code = err_set(e, ERR_UNAVAILABLE, "publish %ld: %s", i, natsStatus_GetText(s));
            goto done;
        }
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    s = js_PublishAsyncComplete(js, &po);
    int64_t us = clock_mono_us() - t0;
    if (s != NATS_OK || atomic_load(&raw_errors) > 0) {
        code = err_set(e, ERR_UNAVAILABLE, "publish complete: %s, %ld failed", natsStatus_GetText(s),
                       atomic_load(&raw_errors));
        goto done;
    }
    if ((s = js_GetStreamInfo(&si, js, RAW_STREAM, NULL, &jerr)) != NATS_OK || si->State.Msgs != (uint64_t)n) {
        code = err_set(e, ERR_INTERNAL, "stream %s holds %llu messages, not %ld", RAW_STREAM,
                       si ? (unsigned long long)si->State.Msgs : 0ULL, n);
        goto done;
    }
    *rate = (double)n * 1e6 / (double)us;
done:
    jsStreamInfo_Destroy(si);
    if (js)
        js_DeleteStream(js, RAW_STREAM, NULL, NULL);
    jsCtx_Destroy(js);
    return code;
}

/* ---- outbox chain ----------------------------------------------------------------------------- */

static err_code on_tick(const struct events_msg *m, struct err *e) {
    Mkt__Testing__Tick *t = mkt__testing__tick__unpack(NULL, m->event->payload.len, m->event->payload.data);
    if (!t)
        return err_set(e, ERR_INVALID, "tick: undecodable payload");
    char seq[24], lag[24];
    snprintf(seq, sizeof seq, "%lld", (long long)t->seq);
    snprintf(lag, sizeof lag, "%lld", (long long)(clock_now() - m->event->time_us));
    mkt__testing__tick__free_unpacked(t, NULL);
    return db_exec(m->tx, e, NULL, "INSERT INTO effects(seq, event_id, lag_us) VALUES ($1, $2, $3)",
                   DB_PARAMS(seq, m->event->id, lag));
}

#define MAX_PRODUCERS 16

/* One producer thread, as one worker of a service: its own connection; it commits the blocks of
 * PER_TX event numbers k, k + PRODUCERS, k + 2 * PRODUCERS, ... */
struct producer {
    const struct settings *cfg;
    const char *type;
    int k;
    PGconn *db;
    int64_t first_begin_us, last_commit_us;
    atomic_bool finished, failed;
    struct err e;
};

static void *produce(void *arg) {
    struct producer *p = arg;
    err_code code = ERR_OK;
    long stride = p->cfg->per_tx * p->cfg->producers;
    p->first_begin_us = clock_mono_us();
    for (long next = 1 + p->k * p->cfg->per_tx; code == ERR_OK && next <= p->cfg->n; next += stride) {
        long to = next + p->cfg->per_tx - 1 > p->cfg->n ? p->cfg->n : next + p->cfg->per_tx - 1;
        code = db_begin(p->db, &p->e);
        for (long seq = next; code == ERR_OK && seq <= to; seq++) {
            char s[24];
            snprintf(s, sizeof s, "%ld", seq);
            code = db_exec(p->db, &p->e, NULL, "INSERT INTO produced(seq) VALUES ($1)", DB_PARAMS(s));
            Mkt__Testing__Tick tick = MKT__TESTING__TICK__INIT;
            tick.seq = seq;
            tick.note = "tick";
            if (code == ERR_OK)
                code = outbox_emit(p->db, p->type, NULL, NULL, NULL, &tick.base, &p->e);
        }
        if (code == ERR_OK)
            code = db_commit(p->db, &p->e);
        if (code != ERR_OK)
            db_rollback(p->db);
    }
    p->last_commit_us = clock_mono_us();
    atomic_store(&p->failed, code != ERR_OK);
    atomic_store(&p->finished, true);
    return NULL;
}

static long query_long(PGconn *c, const char *sql) {
    PGresult *r = NULL;
    struct err e;
    long v = -1;
    if (db_query(c, &r, &e, sql, DB_NO_PARAMS) == ERR_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* Connects to dsn and applies the migrations (lib's outbox and inbox, then ours). */
static err_code migrate(const char *dsn, PGconn **out, struct err *e) {
    PGconn *c = NULL;
    err_code code = db_connect(dsn, &c, e);
    if (code == ERR_OK)
        code = db_migrate(c, mkt_migrations, mkt_migrations_count, e);
    if (code == ERR_OK)
        *out = c;
    else
        db_close(c);
    return code;
}

struct chain_result {
    double rate;        /* events/s from the first BEGIN (live) or the relay's start (backlog) to the last processed */
    double commit_rate; /* events/s committed by the producers, first BEGIN to last commit */
    double at_commit_relayed, at_commit_processed; /* fractions of N when the last commit returned (live) */
    long lag_p50_ms, lag_p99_ms;                   /* event time to processing */
};

/* Starts `n` producer threads on fresh connections; false (and none running) on failure. */
static err_code start_producers(const struct settings *cfg, struct producer *p, pthread_t *th, const char *type,
                                struct err *e) {
    err_code code = ERR_OK;
    int started = 0;
    for (int k = 0; k < cfg->producers; k++) {
        p[k] = (struct producer){.cfg = cfg, .type = type, .k = k};
        if ((code = db_connect(cfg->producer_dsn, &p[k].db, e)) != ERR_OK)
            break;
    }
    for (int k = 0; code == ERR_OK && k < cfg->producers; k++, started++)
        if (pthread_create(&th[k], NULL, produce, &p[k]) != 0)
            code = err_set(e, ERR_INTERNAL, "cannot start producer thread %d", k);
    if (code != ERR_OK) {
        for (int k = 0; k < started; k++)
            pthread_join(th[k], NULL);
        for (int k = 0; k < cfg->producers; k++) {
            db_close(p[k].db);
            p[k].db = NULL;
        }
    }
    return code;
}

/* Joins the producers; ERR_OK when every one committed all its events. */
static err_code join_producers(const struct settings *cfg, struct producer *p, pthread_t *th, int64_t *first_begin,
                               int64_t *last_commit, struct err *e) {
    err_code code = ERR_OK;
    for (int k = 0; k < cfg->producers; k++) {
        pthread_join(th[k], NULL);
        if (atomic_load(&p[k].failed) && code == ERR_OK)
            code = err_set(e, p[k].e.code, "producer %d: %s", k, p[k].e.msg);
        if (k == 0 || p[k].first_begin_us < *first_begin)
            *first_begin = p[k].first_begin_us;
        if (k == 0 || p[k].last_commit_us > *last_commit)
            *last_commit = p[k].last_commit_us;
        db_close(p[k].db);
        p[k].db = NULL;
    }
    return code;
}

static bool producers_finished(const struct settings *cfg, struct producer *p) {
    for (int k = 0; k < cfg->producers; k++)
        if (!atomic_load(&p[k].finished))
            return false;
    return true;
}

static bool producers_failed(const struct settings *cfg, struct producer *p) {
    for (int k = 0; k < cfg->producers; k++)
        if (atomic_load(&p[k].failed))
            return true;
    return false;
}

/* One run of N events through the chain. live: the relay and the consumer run while the
 * producers commit (timed from the first BEGIN). backlog: the producers commit everything first,
 * then the relay starts (timed from its start): what the relay, JetStream and the consumer alone
 * sustain. The schemas' tables are emptied first, so the counts are this run's. */
static err_code chain_run(const struct settings *cfg, struct bus *pbus, struct bus *cbus, PGconn *padmin,
                          PGconn *watch, bool backlog, struct chain_result *out, struct err *e) {
    struct producer p[MAX_PRODUCERS];
    pthread_t th[MAX_PRODUCERS];
    bool producing = false;
    struct pool *pool = NULL;
    struct events_consumer *cons = NULL;
    struct outbox_relay *relay = NULL;
    char type[96], filter[128], durable[64];
    int64_t first_begin = 0, last_commit = 0, t0 = 0, end = 0;
    err_code code;
    snprintf(type, sizeof type, "testing.bench%d%s.tick", (int)getpid(), backlog ? "b" : "l");
    snprintf(filter, sizeof filter, EVENTS_SUBJECT_PREFIX "%s", type);
    snprintf(durable, sizeof durable, "bench-chain-%d-%s", (int)getpid(), backlog ? "backlog" : "live");

    if ((code = db_exec(padmin, e, NULL, "TRUNCATE produced", DB_NO_PARAMS)) != ERR_OK ||
        (code = db_exec(watch, e, NULL, "TRUNCATE effects, inbox", DB_NO_PARAMS)) != ERR_OK)
        goto done;
    if (query_long(padmin, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") != 0) {
        code = err_set(e, ERR_CONFLICT, "the producer schema's outbox has unsent rows: use a fresh schema");
        goto done;
    }
    /* The consumer first, idle on its durable; then (live) the relay, idle on LISTEN; then produce. */
    struct events_consumer_spec spec = {.stream = "EVENTS", .durable = durable, .filter = filter, .fn = on_tick, .inbox = true,
                                 .batch = 128, .ack_wait_ms = 30000};
    if ((code = pool_new(&(struct pool_config){.name = "consumer", .workers = (int)cfg->workers, .dsn = cfg->consumer_dsn}, &pool, e)) != ERR_OK ||
        (code = events_consumer_start(cbus, &spec, pool, &cons, e)) != ERR_OK)
        goto done;
    if (!backlog && (code = outbox_relay_start(cfg->producer_dsn, pbus, &relay, e)) != ERR_OK)
        goto done;
    if ((code = start_producers(cfg, p, th, type, e)) != ERR_OK)
        goto done;
    producing = true;
    if (backlog) {
        producing = false;
        if ((code = join_producers(cfg, p, th, &first_begin, &last_commit, e)) != ERR_OK)
            goto done;
        t0 = clock_mono_us();
        if ((code = outbox_relay_start(cfg->producer_dsn, pbus, &relay, e)) != ERR_OK)
            goto done;
    }
    int64_t deadline = clock_mono_us() + cfg->timeout_s * 1000000LL;
    bool commit_seen = backlog;
    for (;;) {
        long done_n = query_long(watch, "SELECT count(*) FROM effects");
        int64_t now = clock_mono_us();
        if (!commit_seen && producers_finished(cfg, p)) {
            commit_seen = true;
            out->at_commit_relayed = (double)outbox_relay_published(relay) / (double)cfg->n;
            out->at_commit_processed = (double)done_n / (double)cfg->n;
        }
        if (done_n >= cfg->n) {
            end = now;
            break;
        }
        if (producing && producers_failed(cfg, p))
            break; /* join_producers reports it */
        if (now > deadline) {
            code = err_set(e, ERR_TIMEOUT, "only %ld of %ld events processed after %ld s", done_n, cfg->n, cfg->timeout_s);
            goto done;
        }
        usleep(20 * 1000);
    }
    if (producing) {
        producing = false;
        if ((code = join_producers(cfg, p, th, &first_begin, &last_commit, e)) != ERR_OK)
            goto done;
        t0 = first_begin;
        if (!commit_seen) /* the last commit and the last processing fell within one poll */
            out->at_commit_relayed = out->at_commit_processed = 1.0;
    }
    out->rate = (double)cfg->n * 1e6 / (double)(end - t0);
    out->commit_rate = (double)cfg->n * 1e6 / (double)(last_commit - first_begin);
    long distinct = query_long(watch, "SELECT count(DISTINCT seq) FROM effects");
    long rows = query_long(watch, "SELECT count(*) FROM effects");
    if (distinct != cfg->n || rows != cfg->n) {
        code = err_set(e, ERR_INTERNAL, "effects: %ld rows, %ld distinct events, for %ld events", rows, distinct, cfg->n);
        goto done;
    }
    out->lag_p50_ms = query_long(watch, "SELECT (percentile_disc(0.5) WITHIN GROUP (ORDER BY lag_us)) / 1000 FROM effects");
    out->lag_p99_ms = query_long(watch, "SELECT (percentile_disc(0.99) WITHIN GROUP (ORDER BY lag_us)) / 1000 FROM effects");
done:
    if (producing) {
        struct err ignored;
        (void)join_producers(cfg, p, th, &first_begin, &last_commit, &ignored);
    }
    events_consumer_free(cons);
    if (pool) {
        pool_drain(pool, 5000);
        pool_free(pool);
    }
    outbox_relay_stop(relay, 2000);
    if (cons)
        js_DeleteConsumer(bus_js(cbus), "EVENTS", durable, NULL, NULL);
    return code;
}

int main(void) {
    struct settings cfg = {
        .nats_url = getenv("MKT_NATS_URL"),
        .producer_dsn = getenv("BENCH_PRODUCER_DSN"),
        .consumer_dsn = getenv("BENCH_CONSUMER_DSN"),
        .n = env_long("BENCH_CHAIN_N", 20000),
        .per_tx = env_long("BENCH_CHAIN_PER_TX", 20),
        .producers = env_long("BENCH_CHAIN_PRODUCERS", 4),
        .workers = env_long("BENCH_CHAIN_WORKERS", 4),
        .timeout_s = env_long("BENCH_CHAIN_TIMEOUT_S", 150),
    };
    if (!cfg.nats_url || !cfg.producer_dsn || !cfg.consumer_dsn || cfg.n < 1 || cfg.per_tx < 1 || cfg.producers < 1 ||
        cfg.producers > MAX_PRODUCERS || cfg.workers < 1 || cfg.workers > 64 || cfg.timeout_s < 1) {
        fprintf(stderr, "usage: MKT_NATS_URL=... BENCH_PRODUCER_DSN=... BENCH_CONSUMER_DSN=... bench_chain\n"
                        "       [BENCH_CHAIN_N=20000 BENCH_CHAIN_PER_TX=20 BENCH_CHAIN_PRODUCERS=4 (max %d)\n"
                        "        BENCH_CHAIN_WORKERS=4 BENCH_CHAIN_TIMEOUT_S=150]\n",
                MAX_PRODUCERS);
        return 2;
    }
    log_init("bench_chain", "error"); /* bus_free reports its own close as a disconnection */
    struct bus *pbus = NULL, *cbus = NULL;
    PGconn *padmin = NULL, *watch = NULL;
    struct err e = {0};
    int rc = 1;
    if (bus_new(cfg.nats_url, "bench_chain-producer", &pbus, &e) != ERR_OK ||
        bus_new(cfg.nats_url, "bench_chain-consumer", &cbus, &e) != ERR_OK ||
        events_setup_streams(pbus, 1, &e) != ERR_OK || migrate(cfg.producer_dsn, &padmin, &e) != ERR_OK ||
        migrate(cfg.consumer_dsn, &watch, &e) != ERR_OK) {
        fprintf(stderr, "bench_chain: set-up: %s\n", e.msg);
        goto done;
    }
    /* The raw messages have the size of the chain's packed envelopes. */
    Mkt__Testing__Tick tick = MKT__TESTING__TICK__INIT;
    tick.seq = cfg.n;
    tick.note = "tick";
    Mkt__Event ev;
    struct event_storage st;
    char type[96];
    snprintf(type, sizeof type, "testing.bench%dl.tick", (int)getpid());
    events_envelope(&ev, &st, type, NULL, NULL, NULL, &tick.base);
    size_t len = mkt__event__get_packed_size(&ev);
    uint8_t data[512];
    mkt__event__pack(&ev, data);
    events_storage_cleanup(&st);

    double raw = 0;
    struct chain_result live = {0}, backlog = {0};
    if (bench_raw(pbus, cfg.n, data, len, &raw, &e) != ERR_OK) {
        fprintf(stderr, "bench_chain: raw JetStream: %s\n", e.msg);
        goto done;
    }
    if (chain_run(&cfg, pbus, cbus, padmin, watch, false, &live, &e) != ERR_OK) {
        fprintf(stderr, "bench_chain: outbox chain (live): %s\n", e.msg);
        goto done;
    }
    if (chain_run(&cfg, pbus, cbus, padmin, watch, true, &backlog, &e) != ERR_OK) {
        fprintf(stderr, "bench_chain: outbox chain (backlog): %s\n", e.msg);
        goto done;
    }
    printf("bench_chain: %ld events of %zu bytes; %ld producer threads committing %ld events per transaction; "
           "consumer: %ld workers, one transaction per event\n",
           cfg.n, len, cfg.producers, cfg.per_tx, cfg.workers);
    printf("%-52s %10s\n", "measure", "events/s");
    printf("%-52s %10.0f\n", "raw JetStream async publish (baseline)", raw);
    printf("%-52s %10.0f\n", "outbox chain, live: first commit -> last processed", live.rate);
    printf("%-52s %10.0f\n", "  producers' commits alone (same run)", live.commit_rate);
    printf("%-52s %10.0f\n", "outbox chain, backlog: relay start -> last processed", backlog.rate);
    printf("live: at the last commit %.0f%% relayed, %.0f%% processed; event-to-processed lag p50 %ld ms, p99 %ld ms\n",
           100 * live.at_commit_relayed, 100 * live.at_commit_processed, live.lag_p50_ms, live.lag_p99_ms);
    printf("ratio chain/raw: %.3f\n", live.rate / raw);
    printf("ratio chain backlog/raw: %.3f\n", backlog.rate / raw);
    rc = 0;
done:
    db_close(watch);
    db_close(padmin);
    bus_free(cbus);
    bus_free(pbus);
    nats_Close();
    return rc;
}
