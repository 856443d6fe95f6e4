/* The service skeleton (lib/svc) under stress, with the svc_probe program against real
 * PostgreSQL and nats-server:
 *   - a drain that hits MKT_DRAIN_MS exits 2, logs what it abandoned, and nak's the consumer
 *     messages it held: the next consumer of the durable processes every one, once;
 *   - a flood of calls beyond the RPC queue bound: the excess is answered "unavailable" at once,
 *     the rest succeed; a consumer backlog does not delay RPC replies (separate pools);
 *   - a handler that "forgets" to commit: the worker rolls back, logs the job by name, and the
 *     next job on that worker sees a clean connection. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "harness.h"
#include "testing.pb-c.h"

struct probe {
    char id[32], schema[40], durable[48], service[48], pschema[40];
    char *dsn, *pdsn;
    char env[12][256];
    const char *envp[13];
    int n;
};

static void add_env(struct probe *p, const char *fmt, const char *v) {
    char line[256];
    snprintf(line, sizeof line, fmt, v); /* v may point into p */
    memcpy(p->env[p->n], line, sizeof line);
    p->envp[p->n] = p->env[p->n];
    p->envp[++p->n] = NULL;
}

/* The probe's environment; `extra` ("K=V" strings, NULL-terminated) come first (the first wins). */
static void probe_env(struct probe *p, const char *const *extra) {
    p->n = 0;
    p->envp[0] = NULL;
    for (int i = 0; extra && extra[i]; i++)
        add_env(p, "%s", extra[i]);
    add_env(p, "MKT_PG_DSN=%s", p->dsn);
    add_env(p, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    add_env(p, "MKT_EVT_ENTITY=%s", p->id);
    add_env(p, "MKT_EVT_DURABLE=%s", p->durable);
    add_env(p, "MKT_PROBE_SERVICE=%s", p->service);
}

static void probe_init(struct probe *p, const char *const *extra) {
    memset(p, 0, sizeof *p);
    th_unique("k", p->id, sizeof p->id);
    snprintf(p->schema, sizeof p->schema, "c_%s", p->id);
    snprintf(p->pschema, sizeof p->pschema, "p_%s", p->id);
    snprintf(p->durable, sizeof p->durable, "probe-%s", p->id);
    snprintf(p->service, sizeof p->service, "probe_%s", p->id);
    p->dsn = th_service_dsn(p->schema);
    p->pdsn = th_service_dsn(p->pschema);
    probe_env(p, extra);
}

static void probe_cleanup(struct probe *p) {
    free(p->dsn);
    free(p->pdsn);
}

/* The producer of `count` ticks of the probe's entity (tests/programs/evt_producer). */
static struct th_proc spawn_producer(struct probe *p, long count) {
    static char env[4][256];
    char n[24];
    snprintf(n, sizeof n, "%ld", count);
    snprintf(env[0], sizeof env[0], "MKT_PG_DSN=%s", p->pdsn);
    snprintf(env[1], sizeof env[1], "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    snprintf(env[2], sizeof env[2], "MKT_EVT_COUNT=%s", n);
    snprintf(env[3], sizeof env[3], "MKT_EVT_ENTITY=%s", p->id);
    const char *envp[] = {env[0], env[1], env[2], env[3], "MKT_LOG_LEVEL=warn", NULL};
    return th_spawn("evt_producer", NULL, envp);
}

static long count_sql(const char *fmt, const char *schema) {
    char sql[256];
    snprintf(sql, sizeof sql, fmt, schema);
    char *v = th_sql_try(sql); /* NULL until the program has run its migrations */
    long n = v ? atol(v) : 0;
    free(v);
    return n;
}

static bool log_has(const struct th_proc *p, const char *needle) {
    char *text = th_read_file(p->log_path);
    bool found = text && strstr(text, needle);
    free(text);
    return found;
}

struct log_wait {
    const struct th_proc *p;
    const char *needle;
};
static bool log_reached(void *arg) {
    struct log_wait *w = arg;
    return log_has(w->p, w->needle);
}

struct count_wait {
    const char *fmt, *schema;
    long at_least;
};
static bool count_reached(void *arg) {
    struct count_wait *w = arg;
    return count_sql(w->fmt, w->schema) >= w->at_least;
}

static struct bus *client(void) {
    struct bus *b = NULL;
    struct err e = {0};
    cr_assert_eq(bus_new(th_env("MKT_TEST_NATS_URL"), "svc-skeleton-test", &b, &e), ERR_OK, "%s", e.msg);
    return b;
}

/* One call of the probe; *text (may be NULL) gets the answer (malloc'd). */
static err_code call(struct bus *b, const struct probe *p, const char *method, const char *text, int sleep_ms,
                     char **answer, struct err *e) {
    Mkt__Testing__Echo in = MKT__TESTING__ECHO__INIT;
    in.text = (char *)text;
    in.sleep_ms = sleep_ms;
    ProtobufCMessage *out = NULL;
    err_code code = bus_call(b, p->service, method, NULL, &in.base, &mkt__testing__echo__descriptor, &out, 10000, e);
    if (code == ERR_OK && answer)
        *answer = strdup(((Mkt__Testing__Echo *)out)->text);
    if (out)
        protobuf_c_message_free_unpacked(out, NULL);
    return code;
}

static bool probe_answers(void *arg) {
    void **a = arg;
    struct err e = {0};
    return call(a[0], a[1], "echo", "up?", 0, NULL, &e) == ERR_OK;
}

static void wait_ready(struct bus *b, struct probe *p, struct th_proc *proc) {
    void *arg[] = {b, p};
    if (!th_eventually(probe_answers, arg, 30000)) {
        th_dump_log(proc);
        cr_assert_fail("the probe did not come up");
    }
}

Test(svc_skeleton, drain_deadline_exits_2_and_naks_for_the_next_consumer, .timeout = 120) {
    const long N = 3;
    struct probe p;
    const char *slow[] = {"MKT_PROBE_SLOW_MS=4000", "MKT_DRAIN_MS=300", "MKT_CONSUMER_WORKERS=1", NULL};
    probe_init(&p, slow);
    struct th_proc a = th_spawn("svc_probe", NULL, p.envp);
    struct th_proc prod = spawn_producer(&p, N);
    struct log_wait started = {&a, "tick 1 started"};
    cr_assert(th_eventually(log_reached, &started, 30000), "the slow consumer never started a tick");
    th_sleep_ms(500); /* ticks 2 and 3 fetched too */

    /* SIGTERM while tick 1 runs (4 s) and ticks 2, 3 wait in the consumer pool's queue. */
    int64_t t0 = clock_mono_us();
    int rc = th_stop(&a, SIGTERM, 10000);
    long ms = (long)((clock_mono_us() - t0) / 1000);
    cr_expect_eq(rc, 2, "a drain past its deadline exits 2 (got %d)", rc);
    cr_expect_lt(ms, 3000, "the drain took %ld ms for a 300 ms deadline", ms);
    cr_expect(log_has(&a, "drain: deadline of 300 ms reached"), "the abandon is logged");
    cr_expect(log_has(&a, "3 consumer message(s) (2 queued, 1 running; 3 nak'ed for redelivery)"),
              "the log counts what was abandoned per kind");
    if (rc != 2)
        th_dump_log(&a);
    cr_expect_eq(count_sql("SELECT count(*) FROM %s.effects", p.schema), 0, "nothing committed by the abandoned run");

    /* The next consumer of the durable gets every message at once (nak'ed, not waiting for
     * AckWait, 30 s here), and processes each exactly once. */
    const char *fast[] = {"MKT_PROBE_SLOW_MS=0", "MKT_DRAIN_MS=5000", NULL};
    probe_env(&p, fast);
    struct th_proc b = th_spawn("svc_probe", NULL, p.envp);
    struct count_wait all = {"SELECT count(DISTINCT seq) FROM %s.effects", p.schema, N};
    bool done = th_eventually(count_reached, &all, 15000);
    if (!done)
        th_dump_log(&b);
    cr_expect(done, "the messages abandoned by the first consumer were not all redelivered within 15 s");
    th_sleep_ms(500);
    cr_expect_eq(count_sql("SELECT count(*) FROM %s.effects", p.schema), N, "each message processed once");
    cr_expect_eq(th_stop(&b, SIGTERM, 20000), 0, "a drain that finishes exits 0");
    cr_expect_eq(th_stop(&prod, SIGTERM, 20000), 0);
    probe_cleanup(&p);
}

/* Sends `n` echo calls at once without waiting (one inbox), then collects the answers. */
struct flood {
    int ok, unavailable, other, missing;
    long first_unavailable_ms, last_ok_ms;
};

static void flood(struct bus *b, const struct probe *p, int n, int sleep_ms, struct flood *f) {
    memset(f, 0, sizeof *f);
    natsConnection *nc = bus_nats(b);
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    char subject[160], reply[200];
    cr_assert_eq(natsInbox_Create(&inbox), NATS_OK);
    snprintf(subject, sizeof subject, "%s.*", (const char *)inbox);
    cr_assert_eq(natsConnection_SubscribeSync(&sub, nc, subject), NATS_OK);
    natsSubscription_SetPendingLimits(sub, -1, -1);
    Mkt__Testing__Echo in = MKT__TESTING__ECHO__INIT;
    in.text = "flood";
    in.sleep_ms = sleep_ms;
    uint8_t payload[64], packed[256];
    size_t plen = mkt__testing__echo__pack(&in, payload);
    Mkt__Request r = MKT__REQUEST__INIT;
    r.request_id = "flood";
    r.payload.data = payload;
    r.payload.len = plen;
    size_t len = mkt__request__pack(&r, packed);
    snprintf(subject, sizeof subject, "mkt.rpc.%s.echo", p->service);
    int64_t t0 = clock_mono_us();
    for (int i = 0; i < n; i++) {
        snprintf(reply, sizeof reply, "%s.%d", (const char *)inbox, i);
        cr_assert_eq(natsConnection_PublishRequest(nc, subject, reply, packed, (int)len), NATS_OK);
    }
    natsConnection_Flush(nc);
    f->first_unavailable_ms = -1;
    for (int got = 0; got < n; got++) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, 20000) != NATS_OK) {
            f->missing = n - got;
            break;
        }
        long ms = (long)((clock_mono_us() - t0) / 1000);
        Mkt__Reply *rep = mkt__reply__unpack(NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
        if (rep && rep->code == ERR_OK) {
            f->ok++;
            f->last_ok_ms = ms;
        } else if (rep && rep->code == ERR_UNAVAILABLE && rep->retry_after_s > 0) {
            f->unavailable++;
            if (f->first_unavailable_ms < 0)
                f->first_unavailable_ms = ms;
        } else {
            f->other++;
        }
        if (rep)
            mkt__reply__free_unpacked(rep, NULL);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    natsInbox_Destroy(inbox);
}

Test(svc_skeleton, rpc_flood_beyond_the_queue_is_refused_at_once_and_backlog_does_not_delay, .timeout = 120) {
    struct probe p;
    const char *env[] = {"MKT_WORKERS=1", "MKT_RPC_QUEUE_MAX=4", "MKT_CONSUMER_WORKERS=1", "MKT_PROBE_SLOW_MS=100",
                         "MKT_DRAIN_MS=30000", NULL};
    probe_init(&p, env);
    struct th_proc a = th_spawn("svc_probe", NULL, p.envp);
    struct bus *b = client();
    wait_ready(b, &p, &a);

    /* 40 calls of 200 ms on one worker with 4 queue places: about 5 run, the rest is refused. */
    struct flood f;
    flood(b, &p, 40, 200, &f);
    cr_expect_eq(f.missing, 0, "%d calls got no answer", f.missing);
    cr_expect_eq(f.other, 0, "%d calls got another answer than ok or unavailable-with-retry-after", f.other);
    cr_expect_eq(f.ok + f.unavailable, 40);
    cr_expect_geq(f.ok, 5, "the queued calls succeed (%d ok)", f.ok);
    cr_expect_leq(f.ok, 8, "no more than the queue bound plus the running ones succeed (%d ok)", f.ok);
    cr_expect_geq(f.unavailable, 32, "the excess is refused (%d unavailable)", f.unavailable);
    cr_expect_lt(f.first_unavailable_ms, 500, "a refusal comes at once (first after %ld ms)", f.first_unavailable_ms);
    cr_expect(log_has(&a, "rpc: worker queue full"), "the refusals are logged");

    /* A backlog of slow consumer messages (60 x 100 ms on one consumer worker) must not delay
     * calls: they run on their own pool. */
    struct th_proc prod = spawn_producer(&p, 60);
    struct count_wait some = {"SELECT count(*) FROM %s.effects", p.schema, 3};
    cr_assert(th_eventually(count_reached, &some, 30000), "the consumer never started");
    int64_t worst = 0;
    for (int i = 0; i < 10; i++) {
        struct err e = {0};
        int64_t t0 = clock_mono_us();
        cr_expect_eq(call(b, &p, "echo", "quick", 0, NULL, &e), ERR_OK, "%s", e.msg);
        int64_t us = clock_mono_us() - t0;
        worst = us > worst ? us : worst;
    }
    long backlog = 60 - count_sql("SELECT count(*) FROM %s.effects", p.schema);
    cr_expect_gt(backlog, 10, "the consumer still had a backlog during the calls (%ld left)", backlog);
    cr_expect_lt(worst, 1000000, "a call took %ld ms behind the consumer backlog", (long)(worst / 1000));

    bus_free(b);
    cr_expect_eq(th_stop(&a, SIGTERM, 40000), 0, "the drain finishes the backlog in hand and exits 0");
    cr_expect_eq(th_stop(&prod, SIGTERM, 20000), 0);
    probe_cleanup(&p);
}

Test(svc_skeleton, forgotten_commit_is_rolled_back_and_the_next_job_is_clean, .timeout = 60) {
    struct probe p;
    const char *env[] = {"MKT_WORKERS=1", NULL};
    probe_init(&p, env);
    struct th_proc a = th_spawn("svc_probe", NULL, p.envp);
    struct bus *b = client();
    wait_ready(b, &p, &a);
    struct err e = {0};
    char *answer = NULL;
    cr_assert_eq(call(b, &p, "leak_tx", "leaked-row", 0, NULL, &e), ERR_OK, "%s", e.msg);
    /* One worker: the next call runs on the same connection. */
    cr_assert_eq(call(b, &p, "tx_state", "leaked-row", 0, &answer, &e), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(answer, "idle 0", "the next job starts outside any transaction and the row is gone");
    free(answer);
    cr_expect(log_has(&a, "ERROR"), "the leak is logged at error level");
    char needle[160];
    snprintf(needle, sizeof needle, "job rpc mkt.rpc.%s.leak_tx left a transaction open: rolled back", p.service);
    cr_expect(log_has(&a, needle), "the log names the job");
    cr_expect_eq(count_sql("SELECT count(*) FROM %s.leaks", p.schema), 0);
    bus_free(b);
    cr_expect_eq(th_stop(&a, SIGTERM, 20000), 0);
    probe_cleanup(&p);
}
