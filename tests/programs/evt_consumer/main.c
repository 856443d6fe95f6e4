/* Test program: a service-shaped durable consumer for the outbox -> JetStream chain. For every
 * "testing.<MKT_EVT_ENTITY>.tick" event it records a row in `effects`, inside the inbox
 * transaction, so that a redelivery must not produce a second row. Settings: MKT_PG_DSN,
 * MKT_NATS_URL, MKT_EVT_ENTITY, MKT_EVT_DURABLE, MKT_EVT_FAIL_SEQ (a sequence number whose
 * handler fails with ERR_INVALID, to exercise dead-lettering). */
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "svc.h"
#include "testing.pb-c.h"

static long fail_seq = -1;

static err_code on_tick(const struct events_msg *m, struct err *e) {
    Mkt__Testing__Tick *t = mkt__testing__tick__unpack(NULL, m->event->payload.len, m->event->payload.data);
    if (!t)
        return err_set(e, ERR_INVALID, "tick: undecodable payload");
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", (long long)t->seq);
    bool poison = t->seq == fail_seq;
    mkt__testing__tick__free_unpacked(t, NULL);
    if (poison)
        return err_set(e, ERR_INVALID, "tick %s: refused on purpose", seq);
    return db_exec(m->tx, e, NULL, "INSERT INTO effects(seq, event_id) VALUES ($1, $2)", DB_PARAMS(seq, m->event->id));
}

int main(void) {
    struct svc s;
    struct err e = {0};
    int rc = 1;
    char filter[128], durable[96];
    const char *entity = getenv("MKT_EVT_ENTITY"), *name = getenv("MKT_EVT_DURABLE"), *fail = getenv("MKT_EVT_FAIL_SEQ");
    snprintf(filter, sizeof filter, EVENTS_SUBJECT_PREFIX "testing.%s.tick", entity ? entity : "chain");
    snprintf(durable, sizeof durable, "%s", name ? name : "evt-consumer");
    if (fail)
        fail_seq = atol(fail);
    struct events_consumer_spec spec = {.stream = "EVENTS", .durable = durable, .filter = filter, .fn = on_tick, .inbox = true,
                                 .batch = 128, .ack_wait_ms = 5000};
    if (svc_init(&s, "evt_consumer", NULL, true, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK ||
        svc_connect(&s, &e) != ERR_OK || svc_consume(&s, &spec, &e) != ERR_OK) {
        log_error("start: %s", e.msg);
        goto done;
    }
    rc = svc_run(&s);
done:
    svc_cleanup(&s);
    return rc;
}
