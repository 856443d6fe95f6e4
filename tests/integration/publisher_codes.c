/* The publisher's product codes (PROD-3) against real PostgreSQL, JetStream and the emulator: an
 * OMI product's catalog.product.created makes exactly one product type in a fresh distribution
 * account and publisher.product_code.created carries its id; an outsourced product makes none; a
 * redelivered event and a kill -9 right after CreateProductType was sent (held by an emulator
 * latency fault) still leave exactly one; the publisher exits 0 after SIGTERM. */
#include <criterion/criterion.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catalog.pb-c.h"
#include "cloud.h"
#include "cloudsim.h"
#include "envelope.pb-c.h"
#include "events.h"
#include "harness.h"
#include "id.h"
#include "publisher.pb-c.h"

struct pc {
    char id[32], schema[40];
    char *dsn;
    struct th_cloudsim_account acct;
    char env[12][512];
    const char *envp[13];
    struct bus *bus;
    natsSubscription *sub;
    struct th_proc proc;
};

static void pc_fini(void) { th_cloudsim_faults(NULL); }
TestSuite(publisher_codes, .fini = pc_fini);

static void pc_init(struct pc *t) {
    memset(t, 0, sizeof *t);
    th_unique("p", t->id, sizeof t->id);
    snprintf(t->schema, sizeof t->schema, "pc_%s", t->id);
    t->dsn = th_service_dsn(t->schema);
    t->acct = th_cloudsim_account_new("distribution", t->id);
    int n = 0;
    snprintf(t->env[n++], 512, "MKT_PG_DSN=%s", t->dsn);
    snprintf(t->env[n++], 512, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    snprintf(t->env[n++], 512, "OSC_ENDPOINT_API=%s", th_env("MKT_TEST_CLOUD_URL"));
    snprintf(t->env[n++], 512, "MKT_DISTRIBUTION_ACCESS_KEY=%s", t->acct.access_key);
    snprintf(t->env[n++], 512, "MKT_DISTRIBUTION_SECRET_KEY=%s", t->acct.secret_key);
    snprintf(t->env[n++], 512, "MKT_PUBLISHER_CONSUMER=%s", t->id);
    snprintf(t->env[n++], 512, "MKT_MAINTENANCE_MS=200");
    snprintf(t->env[n++], 512, "MKT_DRAIN_MS=5000");
    snprintf(t->env[n++], 512, "MKT_PUBLISHER_LEASE_S=2");
    for (int i = 0; i < n; i++)
        t->envp[i] = t->env[i];
    t->envp[n] = NULL;
    struct err e = {0};
    cr_assert_eq(bus_new(th_env("MKT_TEST_NATS_URL"), "publisher-test", &t->bus, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(events_setup_streams(t->bus, 1, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(natsConnection_SubscribeSync(&t->sub, bus_nats(t->bus), "mkt.evt.publisher.>"), NATS_OK);
    natsConnection_Flush(bus_nats(t->bus));
}

static void pc_cleanup(struct pc *t) {
    if (t->proc.pid > 0 && th_alive(&t->proc))
        th_stop(&t->proc, SIGTERM, 20000);
    natsSubscription_Destroy(t->sub);
    jsErrCode jerr = 0;
    js_DeleteConsumer(bus_js(t->bus), "EVENTS", t->id, NULL, &jerr);
    bus_free(t->bus);
    free(t->dsn);
}

static void pc_start(struct pc *t) { t->proc = th_spawn("publisher", NULL, t->envp); }

/* Publishes catalog.product.created; env_id (may be "") reuses an envelope id (a redelivery). */
static void publish_product(struct pc *t, const char *product, const char *org, const char *kind, char env_id[40]) {
    Mkt__Catalog__ProductEvent p = MKT__CATALOG__PRODUCT_EVENT__INIT;
    p.product_id = (char *)product;
    p.organization_id = (char *)org;
    p.kind = (char *)kind;
    p.state = "draft";
    Mkt__Event ev;
    struct event_storage st;
    events_envelope(&ev, &st, "catalog.product.created", org, NULL, product, &p.base);
    if (env_id[0])
        ev.id = env_id;
    else
        snprintf(env_id, 40, "%s", ev.id);
    size_t len = mkt__event__get_packed_size(&ev);
    uint8_t *data = malloc(len);
    mkt__event__pack(&ev, data);
    char msg_id[64];
    snprintf(msg_id, sizeof msg_id, "%s-%d", ev.id, rand());
    struct err e = {0};
    cr_assert_eq(events_publish(t->bus, "mkt.evt.catalog.product.created", data, len, msg_id, 5000, &e), ERR_OK,
                 "%s", e.msg);
    free(data);
    events_storage_cleanup(&st);
}

/* Product types of the emulator whose Description names the product; *code gets the last. */
static int types_of(struct pc *t, const char *product, char code[64]) {
    struct cloud *c = th_cloudsim_client(&t->acct);
    struct cloud_product_types *l = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_read_product_types(c, NULL, &l, &e), ERR_OK, "%s", e.msg);
    char marker[96];
    snprintf(marker, sizeof marker, "marketplace product %s", product);
    int n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].description && strstr(l->items[i].description, marker)) {
            n++;
            if (code)
                snprintf(code, 64, "%s", l->items[i].product_type_id);
        }
    cloud_product_types_free(l);
    cloud_free(c);
    return n;
}

/* Waits for publisher.product_code.created of `product`; its code into code. */
static bool wait_code_event(struct pc *t, const char *product, char code[64], int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 200) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, t->sub, 200) != NATS_OK)
            continue;
        Mkt__Event *ev = mkt__event__unpack(NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
        bool hit = false;
        if (ev && strcmp(ev->type, "publisher.product_code.created") == 0) {
            Mkt__Publisher__ProductCodeEvent *p =
                mkt__publisher__product_code_event__unpack(NULL, ev->payload.len, ev->payload.data);
            if (p && strcmp(p->product_id, product) == 0) {
                snprintf(code, 64, "%s", p->product_code);
                hit = true;
            }
            if (p)
                mkt__publisher__product_code_event__free_unpacked(p, NULL);
        }
        if (ev)
            mkt__event__free_unpacked(ev, NULL);
        natsMsg_Destroy(m);
        if (hit)
            return true;
    }
    return false;
}

static char *row_sql(struct pc *t, const char *what, const char *product) {
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s.product_codes WHERE product_id = '%s'", what, t->schema, product);
    return th_sql_try(sql);
}

struct row_arg {
    struct pc *t;
    const char *product, *what, *want;
};
static bool row_is(void *arg) {
    struct row_arg *a = arg;
    char *v = row_sql(a->t, a->what, a->product);
    bool ok = v && strcmp(v, a->want) == 0;
    free(v);
    return ok;
}

Test(publisher_codes, omi_product_gets_one_code_outsourced_none, .timeout = 120) {
    struct pc t;
    pc_init(&t);
    pc_start(&t);
    char omi[40], other[40], org[40], env_omi[40] = "", env_other[40] = "";
    id_uuid(omi);
    id_uuid(other);
    id_uuid(org);
    publish_product(&t, omi, org, "omi", env_omi);
    publish_product(&t, other, org, "outsourced", env_other);
    char code[64] = "", cloud_code[64] = "";
    cr_assert(wait_code_event(&t, omi, code, 30000), "publisher.product_code.created for the OMI product");
    cr_expect_eq(types_of(&t, omi, cloud_code), 1, "exactly one product type");
    cr_expect_str_eq(code, cloud_code, "the event carries the type's id");
    cr_expect(strncmp(code, "pty-", 4) == 0, "%s", code);
    struct row_arg a = {&t, omi, "state || ' ' || product_code", NULL};
    char want[96];
    snprintf(want, sizeof want, "done %s", code);
    a.want = want;
    cr_expect(th_eventually(row_is, &a, 5000), "the row is done with its code");
    cr_expect_eq(types_of(&t, other, NULL), 0, "no product type for an outsourced product");
    char *n = row_sql(&t, "count(*)", other);
    cr_expect_str_eq(n, "0");
    free(n);
    /* the same event again (a redelivery) and a new event for the same product (a replay) */
    publish_product(&t, omi, org, "omi", env_omi);
    char fresh[40] = "";
    publish_product(&t, omi, org, "omi", fresh);
    th_sleep_ms(2000);
    cr_expect_eq(types_of(&t, omi, NULL), 1, "still one product type");
    char again[64];
    cr_expect_not(wait_code_event(&t, omi, again, 1000), "no second event");
    cr_expect_eq(th_stop(&t.proc, SIGTERM, 20000), 0, "the publisher exits 0 after SIGTERM");
    pc_cleanup(&t);
}
