/* The transactional outbox and its relay. outbox_add inserts the packed envelope and notifies the
 * relay in one statement inside the caller's transaction. The relay thread, on its own
 * connection, locks a batch of unsent rows in order, publishes them asynchronously with
 * Nats-Msg-Id = event id, waits for every ack, and only then marks them sent and commits; any
 * failure rolls back and the batch is published again later (JetStream drops the duplicates). */
#include "outbox.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "backoff.h"
#include "db.h"
#include "events.h"
#include "log.h"

#define RELAY_BATCH 512
#define RELAY_POLL_MS 1000          /* polling fallback when no NOTIFY arrives */
#define RELAY_KEEP_SENT_US (3600LL * 1000000) /* sent rows are kept an hour for inspection */
/* After a failed batch: 200 ms, doubling (with jitter), up to 5 s. */
static const struct backoff relay_backoff = {.base = 200, .cap = 5000};

err_code outbox_add(PGconn *tx, const char *subject, const Mkt__Event *ev, struct err *e) {
    size_t len = mkt__event__get_packed_size(ev);
    uint8_t *data = malloc(len ? len : 1);
    if (!data)
        return err_set(e, ERR_INTERNAL, "outbox: out of memory");
    mkt__event__pack(ev, data);
    const char *values[] = {ev->id, subject, (const char *)data};
    int lengths[] = {0, 0, (int)len};
    int formats[] = {0, 0, 1};
    PGresult *r = PQexecParams(tx,
                               "WITH ins AS (INSERT INTO outbox(event_id, subject, data) VALUES ($1, $2, $3) RETURNING 1)"
                               " SELECT pg_notify('mkt_outbox_' || current_schema(), '') FROM ins",
                               3, NULL, values, lengths, formats, 0);
    free(data);
    err_code code = ERR_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        code = db_error(tx, r, e, "outbox insert");
    PQclear(r);
    return code;
}

static err_code emit(PGconn *tx, const char *prefix, const char *type, const char *organization_id,
                     const char *actor_id, const char *correlation_id, const ProtobufCMessage *payload, struct err *e) {
    Mkt__Event ev;
    struct event_storage st;
    events_envelope(&ev, &st, type, organization_id, actor_id, correlation_id, payload);
    char subject[160];
    snprintf(subject, sizeof subject, "%s%s", prefix, type);
    err_code code = outbox_add(tx, subject, &ev, e);
    events_storage_cleanup(&st);
    return code;
}

err_code outbox_emit(PGconn *tx, const char *type, const char *organization_id, const char *actor_id,
                     const char *correlation_id, const ProtobufCMessage *payload, struct err *e) {
    return emit(tx, EVENTS_SUBJECT_PREFIX, type, organization_id, actor_id, correlation_id, payload, e);
}

err_code outbox_mail(PGconn *tx, const char *kind, const char *organization_id, const char *correlation_id,
                     const ProtobufCMessage *payload, struct err *e) {
    return emit(tx, MAIL_SUBJECT_PREFIX, kind, organization_id, NULL, correlation_id, payload, e);
}

/* ---- relay --------------------------------------------------------------------------------------- */

struct outbox_relay {
    char *dsn;
    struct bus *bus;
    jsCtx *js;              /* own context: its async error handler counts this relay's failures */
    PGconn *db;
    pthread_t thread;
    int wake_fd;            /* eventfd: stop requests */
    atomic_bool stop;
    atomic_int publish_errors;
    atomic_long published;
    int64_t drain_deadline; /* monotonic us; set by outbox_relay_stop */
};

static void on_async_error(jsCtx *js, jsPubAckErr *pae, void *closure) {
    (void)js;
    struct outbox_relay *r = closure;
    atomic_fetch_add(&r->publish_errors, 1);
    log_warn("outbox relay: publish failed: %s", natsStatus_GetText(pae->Err));
}

static err_code relay_connect(struct outbox_relay *r, struct err *e) {
    if (r->db && PQstatus(r->db) == CONNECTION_OK)
        return ERR_OK;
    db_close(r->db);
    r->db = NULL;
    /* The channel outbox_add notifies: one per schema, i.e. per service. */
    char channel[160];
    err_code code = db_connect(r->dsn, &r->db, e);
    if (code == ERR_OK)
        code = db_channel(r->db, "mkt_outbox_", channel, sizeof channel, e);
    if (code == ERR_OK)
        code = db_listen(r->db, channel, e);
    return code;
}

/* Publishes one batch; *count gets the number of rows sent. */
static err_code relay_batch(struct outbox_relay *r, int *count, struct err *e) {
    PGresult *res = NULL;
    err_code code;
    *count = 0;
    if ((code = db_begin(r->db, e)) != ERR_OK)
        return code;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", RELAY_BATCH);
    const char *params[] = {limit};
    res = PQexecParams(r->db,
                       "SELECT event_id::text, subject, data, seq::text FROM outbox WHERE sent_at IS NULL"
                       " ORDER BY seq LIMIT $1::int FOR UPDATE SKIP LOCKED",
                       1, NULL, params, NULL, NULL, 1 /* binary: data as raw bytes */);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        code = db_error(r->db, res, e, "outbox select");
        goto done;
    }
    int n = PQntuples(res);
    if (n == 0)
        goto done;
    atomic_store(&r->publish_errors, 0);
    for (int i = 0; i < n; i++) {
        natsMsg *m = NULL;
        natsStatus s = natsMsg_Create(&m, PQgetvalue(res, i, 1), NULL, PQgetvalue(res, i, 2), PQgetlength(res, i, 2));
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Nats-Msg-Id", PQgetvalue(res, i, 0));
        if (s == NATS_OK)
            s = js_PublishMsgAsync(r->js, &m, NULL);
        natsMsg_Destroy(m); /* NULL after a successful async publish took it */
        if (s != NATS_OK) {
            code = err_set(e, ERR_UNAVAILABLE, "outbox publish: %s", natsStatus_GetText(s));
            goto done;
        }
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 10000;
    natsStatus s = js_PublishAsyncComplete(r->js, &po);
    if (s != NATS_OK || atomic_load(&r->publish_errors) > 0) {
        code = err_set(e, ERR_UNAVAILABLE, "outbox publish: %s, %d failed acks", natsStatus_GetText(s),
                       atomic_load(&r->publish_errors));
        goto done;
    }
    /* Every row of the batch is acked: mark exactly the rows we hold locked. */
    size_t cap = (size_t)n * 21 + 3, used = 0;
    char *seqs = malloc(cap), now[40];
    if (!seqs) {
        code = err_set(e, ERR_INTERNAL, "outbox: out of memory");
        goto done;
    }
    seqs[used++] = '{';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(seqs + used, cap - used, "%s%s", i ? "," : "", PQgetvalue(res, i, 3));
    snprintf(seqs + used, cap - used, "}");
    db_time_param(clock_now(), now, sizeof now);
    code = db_exec(r->db, e, NULL, "UPDATE outbox SET sent_at = $1 WHERE seq = ANY($2::bigint[])", DB_PARAMS(now, seqs));
    free(seqs);
    if (code == ERR_OK)
        code = db_commit(r->db, e);
    if (code == ERR_OK) {
        *count = n;
        atomic_fetch_add(&r->published, n);
    }
done:
    PQclear(res);
    if (code != ERR_OK || PQtransactionStatus(r->db) != PQTRANS_IDLE)
        db_rollback(r->db);
    return code;
}

static void relay_cleanup_sent(struct outbox_relay *r) {
    char before[40];
    struct err e;
    db_time_param(clock_now() - RELAY_KEEP_SENT_US, before, sizeof before);
    if (db_exec(r->db, &e, NULL, "DELETE FROM outbox WHERE sent_at < $1", DB_PARAMS(before)) != ERR_OK)
        log_warn("outbox cleanup: %s", e.msg);
}

/* Sleeps until a NOTIFY, a stop request, or the polling interval. A lost connection is noticed
 * by relay_connect on the next turn. */
static void relay_wait(struct outbox_relay *r, int ms) {
    struct err e;
    enum db_wake why;
    if (!r->db || PQstatus(r->db) != CONNECTION_OK) {
        struct pollfd p = {.fd = r->wake_fd, .events = POLLIN};
        poll(&p, 1, ms);
        return;
    }
    if (db_wait_notify(r->db, ms, r->wake_fd, &why, &e) != ERR_OK)
        log_debug("outbox relay: %s", e.msg);
}

static void *relay_run(void *arg) {
    struct outbox_relay *r = arg;
    struct err e = {0};
    int64_t last_cleanup = 0;
    int failures = 0;
    for (;;) {
        bool stopping = atomic_load(&r->stop);
        if (stopping && clock_mono_us() > r->drain_deadline)
            break;
        if (relay_connect(r, &e) != ERR_OK) {
            if (stopping)
                break;
            log_warn("outbox relay: %s", e.msg);
            relay_wait(r, 500);
            continue;
        }
        int sent = 0;
        err_code code = relay_batch(r, &sent, &e);
        if (code != ERR_OK) {
            failures++;
            log_warn("outbox relay: %s", e.msg);
            if (stopping && failures > 3)
                break;
            relay_wait(r, (int)backoff_next(&relay_backoff, failures));
            continue;
        }
        failures = 0;
        if (sent == RELAY_BATCH)
            continue; /* more waiting */
        if (stopping)
            break;    /* everything committed so far is out */
        if (clock_mono_us() - last_cleanup > 60LL * 1000000) {
            relay_cleanup_sent(r);
            last_cleanup = clock_mono_us();
        }
        relay_wait(r, RELAY_POLL_MS);
    }
    return NULL;
}

err_code outbox_relay_start(const char *dsn, struct bus *b, struct outbox_relay **out, struct err *e) {
    struct outbox_relay *r = calloc(1, sizeof *r);
    if (!r || !(r->dsn = strdup(dsn))) {
        free(r);
        return err_set(e, ERR_INTERNAL, "relay: out of memory");
    }
    r->bus = b;
    r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.ErrHandler = on_async_error;
    jo.PublishAsync.ErrHandlerClosure = r;
    jo.PublishAsync.MaxPending = 4 * RELAY_BATCH;
    natsStatus s = natsConnection_JetStream(&r->js, bus_nats(b), &jo);
    if (s != NATS_OK || r->wake_fd < 0) {
        outbox_relay_stop(r, 0);
        return err_set(e, ERR_INTERNAL, "relay: %s", natsStatus_GetText(s));
    }
    /* Connect once up front so a bad DSN fails the start; later losses are retried. */
    err_code code = relay_connect(r, e);
    if (code == ERR_OK && pthread_create(&r->thread, NULL, relay_run, r) != 0)
        code = err_set(e, ERR_INTERNAL, "relay: cannot start thread");
    if (code != ERR_OK) {
        jsCtx_Destroy(r->js);
        r->js = NULL;
        outbox_relay_stop(r, 0);
        return code;
    }
    *out = r;
    return ERR_OK;
}

void outbox_relay_stop(struct outbox_relay *r, int deadline_ms) {
    if (!r)
        return;
    if (r->thread) {
        r->drain_deadline = clock_mono_us() + (int64_t)deadline_ms * 1000;
        atomic_store(&r->stop, true);
        uint64_t one = 1;
        ssize_t w = write(r->wake_fd, &one, sizeof one);
        (void)w;
        pthread_join(r->thread, NULL);
    }
    jsCtx_Destroy(r->js);
    db_close(r->db);
    if (r->wake_fd >= 0)
        close(r->wake_fd);
    free(r->dsn);
    free(r);
}

long outbox_relay_published(struct outbox_relay *r) { return atomic_load(&r->published); }
