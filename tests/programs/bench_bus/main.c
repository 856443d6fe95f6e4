/* Benchmark: request/reply over NATS, bare cnats against lib/bus, on one nats-server.
 *
 *   bare cnats      a responder that echoes from its cnats callback (natsConnection_Publish on the
 *                   reply subject) and a natsConnection_Request loop; "send ASAP" on both sides.
 *   bare + pool     the same responder, but the callback hands the message to a lib/pool of 2
 *                   workers which replies: isolates the cost of the thread hand-off lib/bus makes.
 *   lib/bus         bus_serve of a trivial echo method on a pool of 2 workers (no database) and a
 *                   bus_call loop with a small mkt.testing.Echo payload (envelopes, ids, protobuf).
 *
 * Each variant runs with 1 and with 2 client threads sharing one client connection (as services
 * share their bus), in ROUNDS interleaved rounds; the round with the median rate is printed, so
 * bursts of load from other programs on the machine move nothing unless they spoil half the rounds.
 *
 *   MKT_NATS_URL=nats://127.0.0.1:4222 bench_bus [N [ROUNDS]]     N round trips per run (2000), ROUNDS (7)
 *   BENCH_NATS_LOCK_SPIN=K   calls nats_Open(K) first (cnats' mutex spin count; default 2000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "pool.h"
#include "testing.pb-c.h"

#define MAX_THREADS 2
#define MAX_ROUNDS 9
#define TIMEOUT_MS 5000

enum variant { V_BARE, V_BARE_POOL, V_BUS, V__COUNT };
static const char *const variant_names[V__COUNT] = {"bare cnats", "bare cnats + pool hand-off", "lib/bus"};

struct bench {
    const char *url;
    char bare_subject[64], pool_subject[64];
    natsConnection *responder, *client; /* bare variants */
    natsSubscription *bare_sub, *pool_sub;
    struct pool *bare_pool;             /* bare + pool */
    struct bus *server, *caller;        /* lib/bus */
    struct pool *bus_pool;
    uint8_t payload[64];                /* packed Echo, sent as is by the bare variants */
    size_t payload_len;
};

struct result {
    double rate;       /* round trips per second */
    double p50_us, p99_us;
    long failures;
};

struct client {
    struct bench *b;
    enum variant v;
    long n;
    int64_t *lat_ns;   /* n entries */
    long failures;
    pthread_barrier_t *start;
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- responders ---------------------------------------------------------------------------------- */

static void on_bare(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)sub, (void)closure;
    natsConnection_Publish(nc, natsMsg_GetReply(msg), natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

static void pool_reply(struct pool_worker *w, void *arg) {
    natsConnection *nc = w->app;
    natsMsg *msg = arg;
    natsConnection_Publish(nc, natsMsg_GetReply(msg), natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

static void on_bare_pool(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc, (void)sub;
    if (!pool_submit(closure, pool_reply, msg))
        natsMsg_Destroy(msg);
}

static err_code echo(struct bus_call *call, struct err *e) {
    (void)e;
    bus_reply(call, call->in);
    return ERR_OK;
}

static const struct bus_method methods[] = {{"echo", &mkt__testing__echo__descriptor, echo}};

/* ---- clients ------------------------------------------------------------------------------------- */

static bool one_call(struct bench *b, enum variant v) {
    if (v == V_BUS) {
        Mkt__Testing__Echo req = MKT__TESTING__ECHO__INIT;
        req.text = "hello, marketplace";
        ProtobufCMessage *reply = NULL;
        struct err e = {0};
        err_code code = bus_call(b->caller, "benchbus", "echo", NULL, &req.base, &mkt__testing__echo__descriptor,
                                 &reply, TIMEOUT_MS, &e);
        if (reply)
            protobuf_c_message_free_unpacked(reply, NULL);
        return code == ERR_OK;
    }
    natsMsg *reply = NULL;
    natsStatus s = natsConnection_Request(&reply, b->client, v == V_BARE ? b->bare_subject : b->pool_subject,
                                          b->payload, (int)b->payload_len, TIMEOUT_MS);
    bool ok = s == NATS_OK && natsMsg_GetDataLength(reply) == (int)b->payload_len;
    natsMsg_Destroy(reply);
    return ok;
}

static void *client_run(void *arg) {
    struct client *c = arg;
    pthread_barrier_wait(c->start);
    for (long i = 0; i < c->n; i++) {
        int64_t t0 = now_ns();
        if (!one_call(c->b, c->v))
            c->failures++;
        c->lat_ns[i] = now_ns() - t0;
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* n round trips split over `threads` client threads. */
static struct result run_once(struct bench *b, enum variant v, int threads, long n) {
    struct result r = {0};
    struct client cl[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    pthread_barrier_t start;
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    if (!lat) {
        r.failures = n;
        return r;
    }
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    long per = n / threads;
    for (int i = 0; i < threads; i++) {
        cl[i] = (struct client){.b = b, .v = v, .n = i == threads - 1 ? n - per * i : per, .lat_ns = lat + per * i,
                                .start = &start};
        pthread_create(&th[i], NULL, client_run, &cl[i]);
    }
    pthread_barrier_wait(&start);
    int64_t t0 = now_ns();
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        r.failures += cl[i].failures;
    }
    int64_t elapsed = now_ns() - t0;
    pthread_barrier_destroy(&start);
    qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
    r.rate = (double)n * 1e9 / (double)elapsed;
    r.p50_us = (double)lat[n / 2] / 1000.0;
    r.p99_us = (double)lat[(n * 99) / 100] / 1000.0;
    free(lat);
    return r;
}

static int cmp_rate(const void *a, const void *b) {
    double x = ((const struct result *)a)->rate, y = ((const struct result *)b)->rate;
    return (x > y) - (x < y);
}

/* ---- set-up -------------------------------------------------------------------------------------- */

static natsStatus connect_asap(const char *url, const char *name, natsConnection **out) {
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, url);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, name);
    if (s == NATS_OK)
        s = natsOptions_SetSendAsap(o, true);
    if (s == NATS_OK)
        s = natsConnection_Connect(out, o);
    natsOptions_Destroy(o);
    return s;
}

static err_code bench_setup(struct bench *b, struct err *e) {
    natsStatus s;
    snprintf(b->bare_subject, sizeof b->bare_subject, "bench.bare.%d", (int)getpid());
    snprintf(b->pool_subject, sizeof b->pool_subject, "bench.pool.%d", (int)getpid());
    Mkt__Testing__Echo req = MKT__TESTING__ECHO__INIT;
    req.text = "hello, marketplace";
    b->payload_len = mkt__testing__echo__pack(&req, b->payload);
    if ((s = connect_asap(b->url, "bench_bus-responder", &b->responder)) != NATS_OK ||
        (s = connect_asap(b->url, "bench_bus-client", &b->client)) != NATS_OK)
        return err_set(e, ERR_UNAVAILABLE, "connect %s: %s", b->url, natsStatus_GetText(s));
    err_code code = pool_new(&(struct pool_config){.name = "bare", .workers = 2, .app = b->responder}, &b->bare_pool, e);
    if (code != ERR_OK)
        return code;
    if ((s = natsConnection_Subscribe(&b->bare_sub, b->responder, b->bare_subject, on_bare, NULL)) != NATS_OK ||
        (s = natsConnection_Subscribe(&b->pool_sub, b->responder, b->pool_subject, on_bare_pool, b->bare_pool)) != NATS_OK ||
        (s = natsConnection_FlushTimeout(b->responder, 5000)) != NATS_OK)
        return err_set(e, ERR_UNAVAILABLE, "subscribe: %s", natsStatus_GetText(s));
    if ((code = bus_new(b->url, "bench_bus-server", &b->server, e)) != ERR_OK ||
        (code = bus_new(b->url, "bench_bus-caller", &b->caller, e)) != ERR_OK ||
        (code = pool_new(&(struct pool_config){.name = "bus", .workers = 2}, &b->bus_pool, e)) != ERR_OK)
        return code;
    return bus_serve(b->server, "benchbus", methods, sizeof methods / sizeof methods[0], b->bus_pool, e);
}

static void bench_cleanup(struct bench *b) {
    if (b->server)
        bus_stop_serving(b->server, 5000);
    if (b->bus_pool) {
        pool_drain(b->bus_pool, 2000);
        pool_free(b->bus_pool);
    }
    bus_free(b->caller);
    bus_free(b->server);
    if (b->bare_sub)
        natsSubscription_Unsubscribe(b->bare_sub);
    if (b->pool_sub)
        natsSubscription_Unsubscribe(b->pool_sub);
    natsSubscription_Destroy(b->bare_sub);
    natsSubscription_Destroy(b->pool_sub);
    if (b->bare_pool) {
        pool_drain(b->bare_pool, 2000);
        pool_free(b->bare_pool);
    }
    natsConnection_Destroy(b->client);
    natsConnection_Destroy(b->responder);
}

int main(int argc, char **argv) {
    struct bench b = {0};
    struct err e = {0};
    int rc = 1;
    long n = argc > 1 ? atol(argv[1]) : 2000;
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    b.url = getenv("MKT_NATS_URL");
    if (!b.url || n < 100 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: MKT_NATS_URL=nats://... bench_bus [N>=100 [ROUNDS 1..%d]]\n", MAX_ROUNDS);
        return 2;
    }
    log_init("bench_bus", "error"); /* bus_free reports its own close as a disconnection */
    /* cnats spins up to 2000 times on a busy mutex before sleeping (nats_Open's default): a knob
     * to see what that spinning costs on a machine with few cores. */
    const char *spin = getenv("BENCH_NATS_LOCK_SPIN");
    if (spin && *spin && nats_Open(atoll(spin)) != NATS_OK) {
        fprintf(stderr, "bench_bus: nats_Open(%s) failed\n", spin);
        return 1;
    }
    if (bench_setup(&b, &e) != ERR_OK) {
        fprintf(stderr, "bench_bus: %s\n", e.msg);
        goto done;
    }
    /* Warm-up: connections, subscriptions, cnats' response multiplexer, the pools' threads. */
    for (int v = 0; v < V__COUNT; v++)
        run_once(&b, (enum variant)v, 1, 500);

    struct result res[V__COUNT][MAX_THREADS][MAX_ROUNDS];
    long failures = 0;
    for (int round = 0; round < rounds; round++)
        for (int t = 1; t <= MAX_THREADS; t++)
            for (int v = 0; v < V__COUNT; v++) {
                res[v][t - 1][round] = run_once(&b, (enum variant)v, t, n);
                failures += res[v][t - 1][round].failures;
            }
    printf("bench_bus: %ld round trips per run, %d rounds (median shown), payload mkt.testing.Echo (%zu bytes)\n", n,
           rounds, b.payload_len);
    printf("%-28s %7s %14s %9s %9s\n", "variant", "threads", "round trips/s", "p50 us", "p99 us");
    struct result med[V__COUNT][MAX_THREADS];
    for (int t = 1; t <= MAX_THREADS; t++)
        for (int v = 0; v < V__COUNT; v++) {
            qsort(res[v][t - 1], (size_t)rounds, sizeof(struct result), cmp_rate);
            med[v][t - 1] = res[v][t - 1][rounds / 2];
            struct result *r = &med[v][t - 1];
            printf("%-28s %7d %14.0f %9.1f %9.1f\n", variant_names[v], t, r->rate, r->p50_us, r->p99_us);
        }
    for (int t = 1; t <= MAX_THREADS; t++) {
        struct result *bare = &med[V_BARE][t - 1], *pooled = &med[V_BARE_POOL][t - 1], *bus = &med[V_BUS][t - 1];
        printf("ratio bus/bare (%d client thread%s): round trips/s %.3f, p50 %.2fx, p99 %.2fx; pool hand-off alone: %.3f\n",
               t, t > 1 ? "s" : "", bus->rate / bare->rate, bus->p50_us / bare->p50_us, bus->p99_us / bare->p99_us,
               pooled->rate / bare->rate);
    }
    if (failures) {
        fprintf(stderr, "bench_bus: %ld calls failed\n", failures);
        goto done;
    }
    rc = 0;
done:
    bench_cleanup(&b);
    nats_Close();
    return rc;
}
