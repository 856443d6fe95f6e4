/* Test program: a service-shaped probe of the skeleton (lib/svc), for tests/integration/
 * svc_skeleton.c. It serves, as service MKT_PROBE_SERVICE:
 *   echo      (mkt.testing.Echo): sleeps sleep_ms, answers the text;
 *   leak_tx   (Echo): opens a transaction, inserts `text` into leaks, and "forgets" to commit;
 *   tx_state  (Echo): answers "<transaction status> <rows of leaks with this text>", seen from
 *             the worker's connection ("idle 0" when the skeleton rolled the leak back);
 * and consumes "testing.<MKT_EVT_ENTITY>.tick" events (durable MKT_EVT_DURABLE, inbox, route
 * table with a computed filter), sleeping MKT_PROBE_SLOW_MS in each before recording the tick in
 * `effects`. Every other setting is the skeleton's (MKT_WORKERS, MKT_DRAIN_MS, ...). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "svc.h"
#include "testing.pb-c.h"

static long slow_ms;

static err_code reply_text(struct bus_call *call, const char *text) {
    Mkt__Testing__Echo out = MKT__TESTING__ECHO__INIT;
    out.text = (char *)text;
    bus_reply(call, &out.base);
    return ERR_OK;
}

static err_code echo(struct bus_call *call, struct err *e) {
    (void)e;
    const Mkt__Testing__Echo *in = (const Mkt__Testing__Echo *)call->in;
    if (in->sleep_ms > 0)
        usleep((useconds_t)in->sleep_ms * 1000);
    return reply_text(call, in->text);
}

static err_code leak_tx(struct bus_call *call, struct err *e) {
    const Mkt__Testing__Echo *in = (const Mkt__Testing__Echo *)call->in;
    PGconn *db = call->worker->db;
    if (!db)
        return err_set(e, ERR_UNAVAILABLE, "no database connection");
    err_code code = db_begin(db, e);
    if (code == ERR_OK)
        code = db_exec(db, e, NULL, "INSERT INTO leaks(note) VALUES ($1)", DB_PARAMS(in->text));
    return code == ERR_OK ? reply_text(call, in->text) : code; /* no commit, on purpose */
}

static err_code tx_state(struct bus_call *call, struct err *e) {
    const Mkt__Testing__Echo *in = (const Mkt__Testing__Echo *)call->in;
    PGconn *db = call->worker->db;
    if (!db)
        return err_set(e, ERR_UNAVAILABLE, "no database connection");
    PGTransactionStatusType st = PQtransactionStatus(db);
    const char *params[] = {in->text};
    PGresult *r = PQexecParams(db, "SELECT count(*) FROM leaks WHERE note = $1", 1, NULL, params, NULL, NULL, 0);
    char text[64];
    snprintf(text, sizeof text, "%s %s", st == PQTRANS_IDLE ? "idle" : "in-transaction",
             PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?");
    PQclear(r);
    return reply_text(call, text);
}

static const struct bus_method methods[] = {
    {"echo", &mkt__testing__echo__descriptor, echo},
    {"leak_tx", &mkt__testing__echo__descriptor, leak_tx},
    {"tx_state", &mkt__testing__echo__descriptor, tx_state},
};

static err_code on_tick(const struct events_msg *m, struct err *e) {
    Mkt__Testing__Tick *t = mkt__testing__tick__unpack(NULL, m->event->payload.len, m->event->payload.data);
    if (!t)
        return err_set(e, ERR_INVALID, "tick: undecodable payload");
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", (long long)t->seq);
    mkt__testing__tick__free_unpacked(t, NULL);
    log_info("tick %s started (delivery %d)", seq, m->delivery);
    if (slow_ms > 0)
        usleep((useconds_t)slow_ms * 1000);
    return db_exec(m->tx, e, NULL, "INSERT INTO effects(seq, event_id) VALUES ($1, $2)", DB_PARAMS(seq, m->event->id));
}

int main(void) {
    struct svc s;
    struct err e = {0};
    int rc = 1;
    char type[128], durable[96], service[64];
    const char *entity = getenv("MKT_EVT_ENTITY"), *name = getenv("MKT_EVT_DURABLE"),
               *svc_name = getenv("MKT_PROBE_SERVICE"), *slow = getenv("MKT_PROBE_SLOW_MS");
    snprintf(type, sizeof type, "testing.%s.tick", entity ? entity : "probe");
    snprintf(durable, sizeof durable, "%s", name ? name : "svc-probe");
    snprintf(service, sizeof service, "%s", svc_name ? svc_name : "probe");
    slow_ms = slow ? atol(slow) : 0;
    const struct events_route routes[] = {{type, on_tick}};
    struct events_consumer_spec spec = {.stream = "EVENTS", .durable = durable, .routes = routes, .n_routes = 1,
                                 .inbox = true, .ack_wait_ms = 30000};
    if (svc_init(&s, service, NULL, true, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK ||
        svc_connect(&s, &e) != ERR_OK || svc_serve(&s, methods, sizeof methods / sizeof methods[0], &e) != ERR_OK ||
        svc_consume(&s, &spec, &e) != ERR_OK) {
        log_error("start: %s", e.msg);
        goto done;
    }
    rc = svc_run(&s);
done:
    svc_cleanup(&s);
    return rc;
}
