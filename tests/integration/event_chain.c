/* The first event path end to end: outbox -> relay -> JetStream -> durable consumer -> inbox,
 * with real PostgreSQL and nats-server. The producer and the consumer are killed with SIGKILL
 * in the middle of 10,000 events and restarted; afterwards every committed event has been
 * processed exactly once. Also: a poison event is dead-lettered without blocking the others, and
 * the dead letter is read back from stream DLQ with its reason and origin headers. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "crypto.h"
#include "envelope.pb-c.h"
#include "harness.h"
#include "testing.pb-c.h"

struct chain {
    char entity[32], durable[48], producer_schema[40], consumer_schema[40];
    char *producer_dsn, *consumer_dsn;
    char env_p[6][256], env_c[6][256];
    const char *penv[7], *cenv[7];
};

static long count_sql(const char *fmt, const char *schema) {
    char sql[256];
    snprintf(sql, sizeof sql, fmt, schema);
    char *v = th_sql_try(sql); /* NULL until the program has run its migrations */
    long n = v ? atol(v) : 0;
    free(v);
    return n;
}

static void chain_init(struct chain *c, long count, const char *extra_consumer_env) {
    th_unique("t", c->entity, sizeof c->entity);
    snprintf(c->durable, sizeof c->durable, "chain-%s", c->entity);
    snprintf(c->producer_schema, sizeof c->producer_schema, "p_%s", c->entity);
    snprintf(c->consumer_schema, sizeof c->consumer_schema, "c_%s", c->entity);
    c->producer_dsn = th_service_dsn(c->producer_schema);
    c->consumer_dsn = th_service_dsn(c->consumer_schema);
    const char *nats = th_env("MKT_TEST_NATS_URL");
    snprintf(c->env_p[0], 256, "MKT_PG_DSN=%s", c->producer_dsn);
    snprintf(c->env_p[1], 256, "MKT_NATS_URL=%s", nats);
    snprintf(c->env_p[2], 256, "MKT_EVT_COUNT=%ld", count);
    snprintf(c->env_p[3], 256, "MKT_EVT_ENTITY=%s", c->entity);
    snprintf(c->env_p[4], 256, "MKT_LOG_LEVEL=warn");
    snprintf(c->env_c[0], 256, "MKT_PG_DSN=%s", c->consumer_dsn);
    snprintf(c->env_c[1], 256, "MKT_NATS_URL=%s", nats);
    snprintf(c->env_c[2], 256, "MKT_EVT_DURABLE=%s", c->durable);
    snprintf(c->env_c[3], 256, "MKT_EVT_ENTITY=%s", c->entity);
    snprintf(c->env_c[4], 256, "%s", extra_consumer_env ? extra_consumer_env : "MKT_LOG_LEVEL=warn");
    for (int i = 0; i < 5; i++) {
        c->penv[i] = c->env_p[i];
        c->cenv[i] = c->env_c[i];
    }
    c->penv[5] = c->cenv[5] = NULL;
}

static void chain_cleanup(struct chain *c) {
    free(c->producer_dsn);
    free(c->consumer_dsn);
}

struct wait_arg {
    const char *sql_fmt;
    const char *schema;
    long at_least;
};

static bool reached(void *arg) {
    struct wait_arg *w = arg;
    return count_sql(w->sql_fmt, w->schema) >= w->at_least;
}

Test(event_chain, kill9_producer_and_consumer_midway_exactly_once, .timeout = 240) {
    const long N = 10000;
    struct chain c;
    chain_init(&c, N, NULL);
    struct th_proc prod = th_spawn("evt_producer", NULL, c.penv);
    struct th_proc cons = th_spawn("evt_consumer", NULL, c.cenv);

    /* Kill the producer (and its relay) once a third is committed, mid-stream. */
    struct wait_arg w = {"SELECT count(*) FROM %s.produced", c.producer_schema, N / 3};
    cr_assert(th_eventually(reached, &w, 60000), "producer made no progress");
    th_kill9(&prod);
    /* Kill the consumer once it has processed some events. */
    struct wait_arg wc = {"SELECT count(*) FROM %s.effects", c.consumer_schema, N / 5};
    cr_assert(th_eventually(reached, &wc, 60000), "consumer made no progress");
    th_kill9(&cons);

    /* Restart both: the producer resumes after its last committed event, the relay republishes
     * whatever was not marked sent, the consumer continues its durable. */
    prod = th_spawn("evt_producer", NULL, c.penv);
    w.at_least = N;
    cr_assert(th_eventually(reached, &w, 120000), "producer did not finish");
    th_kill9(&prod); /* once more, after the last commit and possibly before the relay is done */
    cons = th_spawn("evt_consumer", NULL, c.cenv);
    prod = th_spawn("evt_producer", NULL, c.penv);

    wc.sql_fmt = "SELECT count(DISTINCT seq) FROM %s.effects";
    wc.at_least = N;
    bool all = th_eventually(reached, &wc, 120000);
    th_sleep_ms(1500); /* let any late redelivery show up as a duplicate if dedup were broken */
    long distinct = count_sql("SELECT count(DISTINCT seq) FROM %s.effects", c.consumer_schema);
    long rows = count_sql("SELECT count(*) FROM %s.effects", c.consumer_schema);
    long unsent = count_sql("SELECT count(*) FROM %s.outbox WHERE sent_at IS NULL", c.producer_schema);
    cr_expect(all, "only %ld of %ld events processed", distinct, N);
    cr_expect_eq(distinct, N, "distinct events processed: %ld", distinct);
    cr_expect_eq(rows, N, "side effects: %ld rows for %ld events (duplicates!)", rows, N);
    cr_expect_eq(unsent, 0, "outbox rows never marked sent: %ld", unsent);

    /* A graceful stop exits 0 (the drain works; under ASan, no leaks). */
    cr_expect_eq(th_stop(&cons, SIGTERM, 20000), 0, "consumer did not exit cleanly");
    cr_expect_eq(th_stop(&prod, SIGTERM, 20000), 0, "producer did not exit cleanly");
    chain_cleanup(&c);
}

/* The dead letter as JetStream keeps it: the last message on mkt.dlq.<durable> in stream DLQ. */
struct dlq_wait {
    jsCtx *js;
    const char *subject;
    natsMsg *msg; /* owned once found */
};

static bool dead_lettered(void *arg) {
    struct dlq_wait *w = arg;
    jsErrCode jerr = 0;
    return js_GetLastMsg(&w->msg, w->js, "DLQ", w->subject, NULL, &jerr) == NATS_OK;
}

/* How many messages stream DLQ holds on `subject`. */
static uint64_t dlq_count(jsCtx *js, const char *subject) {
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = subject;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    uint64_t n = 0;
    if (js_GetStreamInfo(&si, js, "DLQ", &o, &jerr) == NATS_OK && si->State.Subjects)
        for (int i = 0; i < si->State.Subjects->Count; i++)
            if (strcmp(si->State.Subjects->List[i].Subject, subject) == 0)
                n += si->State.Subjects->List[i].Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

Test(event_chain, poison_event_is_dead_lettered_others_processed, .timeout = 120) {
    const long N = 50;
    struct chain c;
    chain_init(&c, N, "MKT_EVT_FAIL_SEQ=7");
    struct bus *bus = NULL;
    struct err e = {0};
    cr_assert_eq(bus_new(th_env("MKT_TEST_NATS_URL"), "it-event_chain", &bus, &e), ERR_OK, "%s", e.msg);
    struct th_proc prod = th_spawn("evt_producer", NULL, c.penv);
    struct th_proc cons = th_spawn("evt_consumer", NULL, c.cenv);
    struct wait_arg wc = {"SELECT count(*) FROM %s.effects", c.consumer_schema, N - 1};
    cr_assert(th_eventually(reached, &wc, 60000), "consumer did not process the good events");
    th_sleep_ms(500);
    cr_expect_eq(count_sql("SELECT count(*) FROM %s.effects", c.consumer_schema), N - 1);
    cr_expect_eq(count_sql("SELECT count(*) FROM %s.effects WHERE seq = 7", c.consumer_schema), 0);
    /* The poison event's id is not in the inbox: its transaction rolled back. */
    cr_expect_eq(count_sql("SELECT count(*) FROM %s.inbox", c.consumer_schema), N - 1);

    /* The poison event is in the DLQ stream, on the consumer's dead-letter subject, unchanged,
     * with the reason and the subject it came from; it was dead-lettered once, at the first
     * delivery, since ERR_INVALID is not retried. */
    char dlq_subject[96], evt_subject[96];
    snprintf(dlq_subject, sizeof dlq_subject, "mkt.dlq.%s", c.durable);
    snprintf(evt_subject, sizeof evt_subject, "mkt.evt.testing.%s.tick", c.entity);
    struct dlq_wait w = {.js = bus_js(bus), .subject = dlq_subject};
    cr_assert(th_eventually(dead_lettered, &w, 10000), "nothing in stream DLQ on %s", dlq_subject);
    const char *reason = NULL, *from = NULL;
    cr_expect_eq(natsMsgHeader_Get(w.msg, "Mkt-Dlq-Reason", &reason), NATS_OK, "no Mkt-Dlq-Reason header");
    cr_expect_eq(natsMsgHeader_Get(w.msg, "Mkt-Dlq-Subject", &from), NATS_OK, "no Mkt-Dlq-Subject header");
    cr_expect_str_eq(reason ? reason : "", "invalid after 1 deliveries: tick 7: refused on purpose");
    cr_expect_str_eq(from ? from : "", evt_subject);
    Mkt__Event *ev =
        mkt__event__unpack(NULL, (size_t)natsMsg_GetDataLength(w.msg), (const uint8_t *)natsMsg_GetData(w.msg));
    cr_assert(ev, "the dead letter is not an event envelope");
    cr_expect_str_eq(ev->type, evt_subject + strlen("mkt.evt."));
    Mkt__Testing__Tick *tick = mkt__testing__tick__unpack(NULL, ev->payload.len, ev->payload.data);
    cr_assert(tick, "undecodable tick payload");
    cr_expect_eq(tick->seq, 7, "dead-lettered tick %lld, not the poison one", (long long)tick->seq);
    /* byte for byte what the producer's outbox published */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT encode(data, 'hex') FROM %s.outbox WHERE event_id = '%s'", c.producer_schema,
             ev->id);
    char *published = th_sql_try(sql);
    size_t n = (size_t)natsMsg_GetDataLength(w.msg);
    char *got = malloc(2 * n + 1);
    cr_assert(got);
    crypto_hex((const uint8_t *)natsMsg_GetData(w.msg), n, got);
    cr_expect_str_eq(got, published ? published : "(no outbox row)", "the dead letter is the event unchanged");
    free(got);
    free(published);
    mkt__testing__tick__free_unpacked(tick, NULL);
    mkt__event__free_unpacked(ev, NULL);
    natsMsg_Destroy(w.msg);
    cr_expect_eq(dlq_count(bus_js(bus), dlq_subject), 1, "the poison event is dead-lettered exactly once");

    cr_expect_eq(th_stop(&cons, SIGTERM, 20000), 0);
    cr_expect_eq(th_stop(&prod, SIGTERM, 20000), 0);
    bus_free(bus);
    chain_cleanup(&c);
}
