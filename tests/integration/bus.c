/* lib/bus against a real nats-server: a call's answer, the client's distinct errors (timeout,
 * no responders, unknown method, undecodable payload), a handler's error code, message and
 * retry-after reaching the caller, the actor and request id reaching the handler, and replicas
 * in one queue group sharing the calls. Servers and clients run in this process. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "harness.h"
#include "testing.pb-c.h"

static atomic_int served[2];
static char last_actor[64], last_request_id[64];

static err_code echo(struct bus_call *call, struct err *e) {
    const Mkt__Testing__Echo *in = (const Mkt__Testing__Echo *)call->in;
    if (in->sleep_ms > 0)
        usleep((useconds_t)in->sleep_ms * 1000);
    if (strcmp(in->text, "throttle me") == 0) {
        err_set(e, ERR_THROTTLED, "field 'text': too many echoes");
        e->retry_after_s = 42;
        return ERR_THROTTLED;
    }
    snprintf(last_actor, sizeof last_actor, "%s", call->req->actor ? call->req->actor->account_id : "");
    snprintf(last_request_id, sizeof last_request_id, "%s", call->req->request_id);
    atomic_fetch_add(&served[*(int *)call->worker->app], 1);
    Mkt__Testing__Echo out = MKT__TESTING__ECHO__INIT;
    out.text = in->text;
    bus_reply(call, &out.base);
    return ERR_OK;
}

static const struct bus_method methods[] = {{"echo", &mkt__testing__echo__descriptor, echo}};

struct server {
    struct bus *bus;
    struct pool *pool;
    int id;
};

static void server_start(struct server *s, const char *service, int id) {
    struct err e = {0};
    s->id = id;
    cr_assert_eq(bus_new(th_env("MKT_TEST_NATS_URL"), service, &s->bus, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(pool_new(&(struct pool_config){.name = "rpc", .workers = 2, .app = &s->id}, &s->pool, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(bus_serve(s->bus, service, methods, 1, s->pool, &e), ERR_OK, "%s", e.msg);
}

static void server_stop(struct server *s) {
    bus_stop_serving(s->bus, 5000);
    pool_drain(s->pool, 5000);
    pool_free(s->pool);
    bus_free(s->bus);
}

static err_code call_echo(struct bus *client, const char *service, const char *method, const char *text, int sleep_ms,
                          int timeout_ms, struct err *e) {
    Mkt__Testing__Echo req = MKT__TESTING__ECHO__INIT;
    req.text = (char *)text;
    req.sleep_ms = sleep_ms;
    Mkt__Actor actor = MKT__ACTOR__INIT;
    actor.account_id = "acc-42";
    struct bus_ctx ctx = {.request_id = "req-7", .actor = &actor};
    ProtobufCMessage *reply = NULL;
    err_code code = bus_call(client, service, method, &ctx, &req.base, &mkt__testing__echo__descriptor, &reply, timeout_ms, e);
    if (code == ERR_OK) {
        cr_expect_str_eq(((Mkt__Testing__Echo *)reply)->text, text);
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    return code;
}

Test(bus, calls_errors_and_queue_group, .timeout = 60) {
    char service[32];
    th_unique("svc", service, sizeof service);
    struct server a, b;
    server_start(&a, service, 0);
    struct bus *client = NULL;
    struct err e = {0};
    cr_assert_eq(bus_new(th_env("MKT_TEST_NATS_URL"), "client", &client, &e), ERR_OK);

    cr_expect_eq(call_echo(client, service, "echo", "hello", 0, 2000, &e), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(last_actor, "acc-42", "the actor travels in the envelope");
    cr_expect_str_eq(last_request_id, "req-7", "the request id travels in the envelope");

    cr_expect_eq(call_echo(client, service, "echo", "slow", 1500, 300, &e), ERR_TIMEOUT, "%s", e.msg);
    cr_expect_eq(call_echo(client, "nobody-serves-this", "echo", "x", 0, 2000, &e), ERR_NO_RESPONDERS, "%s", e.msg);
    cr_expect_eq(call_echo(client, service, "nope", "x", 0, 2000, &e), ERR_NOT_FOUND, "%s", e.msg);
    cr_expect(strstr(e.msg, "unknown method nope"), "%s", e.msg);

    cr_expect_eq(call_echo(client, service, "echo", "throttle me", 0, 2000, &e), ERR_THROTTLED);
    cr_expect_str_eq(e.msg, "field 'text': too many echoes", "the handler's reason reaches the caller");
    cr_expect_eq(e.retry_after_s, 42);

    /* the built-in ping */
    ProtobufCMessage *pong = NULL;
    cr_expect_eq(bus_call(client, service, "ping", NULL, NULL, &mkt__ping_reply__descriptor, &pong, 2000, &e), ERR_OK);
    cr_expect_str_eq(((Mkt__PingReply *)pong)->service, service);
    protobuf_c_message_free_unpacked(pong, NULL);

    /* a second replica in the same queue group takes a share of the calls */
    server_start(&b, service, 1);
    atomic_store(&served[0], 0);
    atomic_store(&served[1], 0);
    for (int i = 0; i < 200; i++)
        cr_assert_eq(call_echo(client, service, "echo", "shared", 0, 2000, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(atomic_load(&served[0]) + atomic_load(&served[1]), 200);
    cr_expect(atomic_load(&served[0]) > 20 && atomic_load(&served[1]) > 20, "shares: %d / %d", atomic_load(&served[0]),
              atomic_load(&served[1]));

    /* once a replica stops serving, the other answers everything */
    server_stop(&a);
    for (int i = 0; i < 20; i++)
        cr_expect_eq(call_echo(client, service, "echo", "after", 0, 2000, &e), ERR_OK, "%s", e.msg);
    server_stop(&b);
    cr_expect_eq(call_echo(client, service, "echo", "gone", 0, 1000, &e), ERR_NO_RESPONDERS, "%s", e.msg);
    bus_free(client);
}
