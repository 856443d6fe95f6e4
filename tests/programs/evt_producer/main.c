/* Test program: a service-shaped producer for the outbox -> JetStream chain. It commits events
 * numbered 1..N (type "testing.<MKT_EVT_ENTITY>.tick"), each in the same transaction as a row of
 * its `produced` table, resuming after the last committed number when restarted; its outbox
 * relay publishes them. It then keeps running (relaying) until SIGTERM. Settings: MKT_PG_DSN,
 * MKT_NATS_URL, MKT_EVT_COUNT, MKT_EVT_ENTITY, MKT_EVT_PER_TX (default 20). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "svc.h"
#include "testing.pb-c.h"

struct producer {
    const char *dsn;
    long count, per_tx;
    char type[96];
};

static err_code produce_batch(PGconn *c, struct producer *p, long from, long to, struct err *e) {
    err_code code = db_begin(c, e);
    for (long seq = from; code == ERR_OK && seq <= to; seq++) {
        char s[24];
        snprintf(s, sizeof s, "%ld", seq);
        code = db_exec(c, e, NULL, "INSERT INTO produced(seq) VALUES ($1)", DB_PARAMS(s));
        Mkt__Testing__Tick tick = MKT__TESTING__TICK__INIT;
        tick.seq = seq;
        tick.note = "tick";
        if (code == ERR_OK)
            code = outbox_emit(c, p->type, NULL, NULL, NULL, &tick.base, e);
    }
    if (code == ERR_OK)
        code = db_commit(c, e);
    if (code != ERR_OK)
        db_rollback(c);
    return code;
}

static void *produce(void *arg) {
    struct producer *p = arg;
    struct err e = {0};
    PGconn *c = NULL;
    PGresult *r = NULL;
    if (db_connect(p->dsn, &c, &e) != ERR_OK ||
        db_query(c, &r, &e, "SELECT coalesce(max(seq), 0) FROM produced", DB_NO_PARAMS) != ERR_OK) {
        log_error("producer: %s", e.msg);
        goto done;
    }
    long next = atol(PQgetvalue(r, 0, 0)) + 1;
    log_info("producer: resuming at %ld of %ld", next, p->count);
    while (next <= p->count) {
        long to = next + p->per_tx - 1 > p->count ? p->count : next + p->per_tx - 1;
        if (produce_batch(c, p, next, to, &e) != ERR_OK) {
            log_error("producer: %s", e.msg);
            goto done;
        }
        next = to + 1;
    }
    log_info("producer: all %ld committed", p->count);
done:
    PQclear(r);
    db_close(c);
    return NULL;
}

int main(void) {
    struct svc s;
    struct err e = {0};
    int rc = 1;
    pthread_t thread;
    bool started = false;
    struct producer p = {0};
    const char *count = getenv("MKT_EVT_COUNT"), *per_tx = getenv("MKT_EVT_PER_TX"), *entity = getenv("MKT_EVT_ENTITY");
    p.count = count ? atol(count) : 1000;
    p.per_tx = per_tx ? atol(per_tx) : 20;
    snprintf(p.type, sizeof p.type, "testing.%s.tick", entity ? entity : "chain");
    if (svc_init(&s, "evt_producer", &p, true, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK ||
        svc_connect(&s, &e) != ERR_OK) {
        log_error("start: %s", e.msg);
        goto done;
    }
    p.dsn = s.cfg.pg_dsn;
    started = pthread_create(&thread, NULL, produce, &p) == 0;
    rc = svc_run(&s);
done:
    if (started)
        pthread_join(thread, NULL);
    svc_cleanup(&s);
    return rc;
}
