/* The seller side of the catalog, end to end over HTTP: gateway -> NATS -> catalog -> PostgreSQL,
 * with identity (sign-up, sessions, validation by the operator), the notifier and the emulator
 * behind it. Each test signs up its own organizations.
 *   - showcase: drafts, every missing field per language at once (SHOW-1), dry run, publication,
 *     stays complete after publication (SHOW-2);
 *   - products: creation with EN/FR fields, every problem at once, PROD-4 Regions, outsourced
 *     publication, only drafts deleted (PROD-6), a pending organization told why it cannot
 *     publish (ORG-3), another organization's product is 404;
 *   - offers of each kind, UGAP offers for UGAP members only (ORG-5), revisions (PROD-7);
 *   - versions: none before the product code (PROD-3), pre-filled from the last (VER-2), OMI of a
 *     published version fixed (VER-8), publication to `publishing` with its checklist;
 *   - terms of use: copy of the active version, drafts only edited, one active (PUB-3);
 *   - listing review with its mails (PUB-4), partner-programme numbers (PUB-1), the test of a
 *     linked account (PUB-5), the publisher's product-code report consumed (PROD-3);
 *   - the authorization matrix of every route, end to end. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "cloud.h"
#include "events.h"
#include "publisher.pb-c.h"
#include "identity_support.h"

struct cat {
    struct idt idt;
    struct th_proc catalog, gateway;
    char schema[40];
    char url[64];
    char env[2][8][400];
};

static bool catalog_ready(void *arg) {
    struct cat *c = arg;
    struct err e = {0};
    Mkt__PingRequest req = MKT__PING_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    err_code code = bus_call(c->idt.bus, "catalog", "ping", NULL, &req.base, &mkt__ping_reply__descriptor, &rep, 500, &e);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return code == ERR_OK;
}

static bool gateway_ready(void *arg) {
    struct cat *c = arg;
    char u[128];
    snprintf(u, sizeof u, "%s/healthz", c->url);
    return th_http("GET", u, NULL, NULL, NULL) == 200;
}

static void cat_start(struct cat *c, const char *review) {
    memset(c, 0, sizeof *c);
    idt_start(&c->idt, NULL, true);
    snprintf(c->schema, sizeof c->schema, "cat_%s", c->idt.run);
    char *dsn = th_service_dsn(c->schema);
    snprintf(c->env[0][0], 400, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    snprintf(c->env[0][1], 400, "MKT_PG_DSN=%s", dsn);
    snprintf(c->env[0][2], 400, "MKT_CATALOG_REVIEW=%s", review);
    snprintf(c->env[0][3], 400, "MKT_DRAIN_MS=5000");
    snprintf(c->env[0][4], 400, "MKT_CATALOG_CONSUMER=cat-%s", c->idt.run); /* a durable of its own */
    free(dsn);
    const char *ce[] = {c->env[0][0], c->env[0][1], c->env[0][2], c->env[0][3], c->env[0][4], NULL};
    c->catalog = th_spawn("catalog", NULL, ce);
    int port = th_free_port();
    snprintf(c->url, sizeof c->url, "http://127.0.0.1:%d", port);
    snprintf(c->env[1][0], 400, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    snprintf(c->env[1][1], 400, "MKT_HTTP_ADDR=127.0.0.1:%d", port);
    snprintf(c->env[1][2], 400, "MKT_RATE_PER_S=0");
    snprintf(c->env[1][3], 400, "MKT_RPC_TIMEOUT_MS=20000");
    const char *ge[] = {c->env[1][0], c->env[1][1], c->env[1][2], c->env[1][3], NULL};
    c->gateway = th_spawn("gateway", NULL, ge);
    if (!th_eventually(catalog_ready, c, 60000) || !th_eventually(gateway_ready, c, 30000)) {
        th_dump_log(&c->catalog);
        th_dump_log(&c->gateway);
        cr_assert_fail("catalog or gateway not up (logs above)");
    }
}

static void cat_stop(struct cat *c) {
    cr_expect_eq(th_stop(&c->gateway, SIGTERM, 20000), 0, "gateway did not exit 0 after SIGTERM");
    cr_expect_eq(th_stop(&c->catalog, SIGTERM, 20000), 0, "catalog did not exit 0 after SIGTERM");
    idt_stop(&c->idt);
}

static struct th_api api(struct cat *c, const char *method, const char *path, const struct idt_who *w,
                         const char *body) {
    return th_api_call(c->url, method, path, w ? w->token : NULL, body);
}

/* The operator of this test's identity, logged in. */
static void operator_login(struct cat *c, struct idt_who *op) {
    memset(op, 0, sizeof *op);
    snprintf(op->email, sizeof op->email, "operator-%s@marketplace.example", c->idt.run);
    snprintf(op->password, sizeof op->password, "%s", IDT_PASSWORD);
    idt_login(&c->idt, op);
}

static void validate(struct cat *c, struct idt_who *op, const char *org_id) {
    Mkt__Identity__IdRequest req = MKT__IDENTITY__ID_REQUEST__INIT;
    req.id = (char *)org_id;
    struct err e = {0};
    cr_assert_eq(idt_call(&c->idt, "validate_organization", idt_actor(op), &req.base, NULL, NULL, &e), ERR_OK, "%s",
                 e.msg);
}

#define EXPECT_STATUS(r, want) cr_expect_eq((r).status, (want), "status %ld, body %s", (r).status, (r).body)

static const char *complete_showcase =
    "{\"name\":{\"en\":\"Acme Data\",\"fr\":\"Acme Données\"},"
    "\"short_description\":{\"en\":\"Databases, managed\",\"fr\":\"Bases de données gérées\"},"
    "\"description\":{\"en\":\"We run databases.\",\"fr\":\"Nous exploitons des bases.\"},"
    "\"logo_url\":\"https://acme.example/logo.png\","
    "\"links\":[{\"label\":{\"en\":\"Site\",\"fr\":\"Site\"},\"url\":\"https://acme.example\"}]}";

Test(catalog_seller, showcase_lists_every_missing_field_and_stays_complete, .timeout = 180, .fini = idt_fini) {
    struct cat c;
    cat_start(&c, "none");
    struct th_cloudsim_account cloud;
    struct idt_who seller;
    idt_signup(&c.idt, "seller", "seller", &cloud, &seller);

    struct th_api r = api(&c, "GET", "/v1/showcase", &seller, NULL);
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(r.json, "state"), "draft");
    th_api_free(&r);

    /* SHOW-1: every required field, per language, at once. */
    r = api(&c, "POST", "/v1/showcase/publish", &seller, "{}");
    EXPECT_STATUS(r, 400);
    const char *required[] = {"name.en", "name.fr", "short_description.en", "short_description.fr", "description.en",
                              "description.fr"};
    for (size_t i = 0; i < 6; i++)
        cr_expect(th_api_problem(&r, required[i], "required"), "%s missing from %s", required[i], r.body);
    cr_expect_eq(th_api_problems(&r), 6, "%s", r.body);
    th_api_free(&r);

    r = api(&c, "POST", "/v1/showcase/publish?dry_run=true", &seller, NULL);
    EXPECT_STATUS(r, 200);
    cr_expect(json_is_false(json_object_get(r.json, "ready")), "%s", r.body);
    cr_expect_eq(json_array_size(json_object_get(r.json, "problems")), 6);
    th_api_free(&r);

    /* A draft may miss a language; what is there must be well-formed (all problems at once). */
    r = api(&c, "PUT", "/v1/showcase", &seller,
            "{\"name\":{\"en\":\"Acme\"},\"logo_url\":\"http://acme.example/logo.png\","
            "\"links\":[{\"url\":\"javascript:alert(1)\"}],\"colour\":\"red\"}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "colour", "unknown_field"), "%s", r.body);
    th_api_free(&r);
    r = api(&c, "PUT", "/v1/showcase", &seller,
            "{\"name\":{\"en\":\"Acme\"},\"logo_url\":\"http://acme.example/logo.png\","
            "\"links\":[{\"url\":\"javascript:alert(1)\"}]}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "logo_url", "not_https"), "%s", r.body);
    cr_expect(th_api_problem(&r, "links[0].url", "not_https"), "%s", r.body);
    th_api_free(&r);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.showcases", c.schema);
    char *n = th_sql(sql);
    cr_expect_str_eq(n, "0", "a refusal writes nothing");
    free(n);

    r = api(&c, "PUT", "/v1/showcase", &seller, "{\"name\":{\"en\":\"Acme\"}}");
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "name"), "en"), "Acme");
    cr_expect(json_is_null(json_object_get(json_object_get(r.json, "name"), "fr")), "absent text is null: %s", r.body);
    th_api_free(&r);

    r = api(&c, "PUT", "/v1/showcase", &seller, complete_showcase);
    EXPECT_STATUS(r, 200);
    th_api_free(&r);
    r = api(&c, "POST", "/v1/showcase/publish", &seller, NULL);
    EXPECT_STATUS(r, 200);
    cr_expect(json_is_true(json_object_get(r.json, "ready")), "%s", r.body);
    cr_expect_str_eq(th_jstr(r.json, "state"), "published");
    th_api_free(&r);

    /* SHOW-2: editable after publication, but not emptied. */
    r = api(&c, "PUT", "/v1/showcase", &seller,
            "{\"name\":{\"en\":\"Acme Data\"},\"short_description\":{\"en\":\"x\",\"fr\":\"y\"},"
            "\"description\":{\"en\":\"x\",\"fr\":\"y\"}}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "name.fr", "required"), "%s", r.body);
    th_api_free(&r);
    r = api(&c, "GET", "/v1/showcase", &seller, NULL);
    cr_expect_str_eq(th_jstr(r.json, "state"), "published");
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "name"), "fr"), "Acme Données");
    th_api_free(&r);

    /* Buyers have no showcase; visitors no session. */
    struct th_cloudsim_account bcloud;
    struct idt_who buyer;
    idt_signup(&c.idt, "buyer", "buyer", &bcloud, &buyer);
    r = api(&c, "GET", "/v1/showcase", &buyer, NULL);
    EXPECT_STATUS(r, 403);
    th_api_free(&r);
    r = api(&c, "GET", "/v1/showcase", NULL, NULL);
    EXPECT_STATUS(r, 401);
    th_api_free(&r);
    idt_who_cleanup(&buyer);
    idt_who_cleanup(&seller);
    cat_stop(&c);
}

static const char *outsourced_product =
    "{\"kind\":\"outsourced\",\"delivery\":\"saas\",\"name\":{\"en\":\"Acme Cloud DB\",\"fr\":\"Acme BD Cloud\"},"
    "\"short_description\":{\"en\":\"Hosted Postgres\",\"fr\":\"Postgres hébergé\"},"
    "\"description\":{\"en\":\"A managed database.\",\"fr\":\"Une base gérée.\"},"
    "\"instructions\":{\"en\":\"Sign in at acme.example\",\"fr\":\"Connectez-vous sur acme.example\"},"
    "\"categories\":[\"databases\"],"
    "\"documentation_links\":[{\"label\":{\"en\":\"Docs\",\"fr\":\"Docs\"},\"url\":\"https://docs.acme.example\"}]}";

static char *created_id(struct th_api *r) {
    char *id = strdup(th_jstr(r->json, "id"));
    th_api_free(r);
    return id;
}

Test(catalog_seller, products_offers_and_publication, .timeout = 240, .fini = idt_fini) {
    struct cat c;
    cat_start(&c, "none");
    struct th_cloudsim_account cloud, cloud2;
    struct idt_who seller, other, op;
    idt_signup(&c.idt, "seller", "seller", &cloud, &seller);
    idt_signup(&c.idt, "other", "seller", &cloud2, &other);
    operator_login(&c, &op);

    /* Every problem at once, nothing written. */
    struct th_api r = api(&c, "POST", "/v1/products", &seller,
                          "{\"kind\":\"appliance\",\"regions\":[\"us-east-2\"],\"categories\":[\"gaming\"],"
                          "\"documentation_links\":[{\"url\":\"http://docs.example\"}],\"name\":{\"en\":5}}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "name.en", "must_be_string"), "%s", r.body);
    th_api_free(&r);
    r = api(&c, "POST", "/v1/products", &seller,
            "{\"kind\":\"appliance\",\"regions\":[\"us-east-2\"],\"categories\":[\"gaming\"],"
            "\"documentation_links\":[{\"url\":\"http://docs.example\"}]}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "kind", "unknown_kind"), "%s", r.body);
    cr_expect(th_api_problem(&r, "regions[0]", "unknown_region"), "%s", r.body);
    cr_expect(th_api_problem(&r, "categories[0]", "unknown_category"), "%s", r.body);
    cr_expect(th_api_problem(&r, "documentation_links[0].url", "not_https"), "%s", r.body);
    cr_expect(th_api_problem(&r, "name", "required"), "%s", r.body);
    th_api_free(&r);

    /* An outsourced product, published at once once everything is there. */
    r = api(&c, "POST", "/v1/products", &seller, outsourced_product);
    EXPECT_STATUS(r, 201);
    cr_expect_str_eq(th_jstr(r.json, "state"), "draft");
    cr_expect(json_is_null(json_object_get(r.json, "product_code")), "%s", r.body);
    cr_expect_eq(json_array_size(json_object_get(r.json, "regions")), 1, "PROD-4: cloudgouv-eu-west-1 always");
    char *saas = created_id(&r);
    char path[256], path2[256];
    snprintf(path, sizeof path, "/v1/products/%s/publish", saas);
    r = api(&c, "POST", path, &seller, NULL);
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "organization", "pending"), "ORG-3: %s", r.body);
    cr_expect(th_api_problem(&r, "showcase", "not_published"), "SHOW-2: %s", r.body);
    cr_expect(th_api_problem(&r, "offers", "required"), "%s", r.body);
    cr_expect_eq(th_api_problems(&r), 3, "%s", r.body);
    th_api_free(&r);

    /* Offers: outsourced products are billed by their seller (BILL-4). */
    snprintf(path, sizeof path, "/v1/products/%s/offers", saas);
    r = api(&c, "POST", path, &seller, "{\"kind\":\"hourly\",\"prices\":[{\"vm_type\":\"tinav5.c2r4p2\",\"cents_per_hour\":12}]}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "kind", "not_allowed_for_product_kind"), "%s", r.body);
    th_api_free(&r);
    r = api(&c, "POST", path, &seller, "{\"kind\":\"subscription\",\"period\":\"month\",\"price_cents\":9900,\"ugap\":true}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "ugap", "ugap_members_only"), "ORG-5: %s", r.body);
    th_api_free(&r);
    r = api(&c, "POST", path, &seller, "{\"kind\":\"subscription\",\"period\":\"month\",\"price_cents\":9900}");
    EXPECT_STATUS(r, 201);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")), 1);
    cr_expect_str_eq(th_jstr(r.json, "currency"), "EUR");
    char *sub_offer = created_id(&r);

    /* A draft's offer is edited in place. */
    snprintf(path2, sizeof path2, "/v1/products/%s/offers/%s", saas, sub_offer);
    r = api(&c, "PATCH", path2, &seller, "{\"price_cents\":8900}");
    EXPECT_STATUS(r, 200);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")), 1, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "price_cents")), 8900);
    th_api_free(&r);

    validate(&c, &op, seller.org_id);
    r = api(&c, "PUT", "/v1/showcase", &seller, complete_showcase);
    th_api_free(&r);
    r = api(&c, "POST", "/v1/showcase/publish", &seller, NULL);
    EXPECT_STATUS(r, 200);
    th_api_free(&r);
    th_sleep_ms(1100); /* the gateway trusts a resolved session for 1 s: let it see the validation */
    snprintf(path, sizeof path, "/v1/products/%s/publish?dry_run=true", saas);
    r = api(&c, "POST", path, &seller, NULL);
    EXPECT_STATUS(r, 202);
    cr_expect(json_is_true(json_object_get(r.json, "ready")), "%s", r.body);
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/products/%s", saas);
    r = api(&c, "GET", path, &seller, NULL);
    cr_expect_str_eq(th_jstr(r.json, "state"), "draft", "a dry run changes nothing");
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/products/%s/publish", saas);
    r = api(&c, "POST", path, &seller, NULL);
    EXPECT_STATUS(r, 202);
    cr_expect_str_eq(th_jstr(r.json, "state"), "published", "%s", r.body);
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/products/%s", saas);
    r = api(&c, "GET", path, &seller, NULL);
    cr_expect_str_eq(th_jstr(r.json, "state"), "published");
    cr_expect_neq(th_jstr(r.json, "published_at")[0], '\0');
    th_api_free(&r);

    /* PROD-7: once buyers could see it, an offer's edit is a new revision. */
    r = api(&c, "PATCH", path2, &seller, "{\"price_cents\":10900}");
    EXPECT_STATUS(r, 200);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")), 2, "%s", r.body);
    th_api_free(&r);
    r = api(&c, "PATCH", path2, &seller, "{\"kind\":\"free\"}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "kind", "read_only"), "%s", r.body);
    th_api_free(&r);
    r = api(&c, "DELETE", path2, &seller, NULL);
    EXPECT_STATUS(r, 409);
    cr_expect(strstr(r.body, "PROD-5") != NULL, "the last offer of a published product stays: %s", r.body);
    th_api_free(&r);

    /* PROD-6: only drafts are deleted; another organization's product is not found. */
    r = api(&c, "DELETE", path, &seller, NULL);
    EXPECT_STATUS(r, 409);
    th_api_free(&r);
    r = api(&c, "GET", path, &other, NULL);
    EXPECT_STATUS(r, 404);
    th_api_free(&r);
    r = api(&c, "PATCH", path, &other, "{\"name\":{\"en\":\"Stolen\"}}");
    EXPECT_STATUS(r, 404);
    th_api_free(&r);

    /* PROD-2: a published product stays complete; PROD-4: Regions are fixed. */
    r = api(&c, "PATCH", path, &seller, "{\"description\":{\"en\":\"Only English now\"}}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "description.fr", "required"), "%s", r.body);
    th_api_free(&r);
    r = api(&c, "PATCH", path, &seller, "{\"regions\":[\"cloudgouv-eu-west-1\",\"eu-west-2\"]}");
    EXPECT_STATUS(r, 409);
    cr_expect(strstr(r.body, "PROD-4") != NULL, "%s", r.body);
    th_api_free(&r);
    r = api(&c, "PATCH", path, &seller, "{\"name\":{\"en\":\"Acme Cloud DB 2\",\"fr\":\"Acme BD Cloud 2\"}}");
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "name"), "en"), "Acme Cloud DB 2");
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "short_description"), "fr"), "Postgres hébergé",
                     "fields not sent are kept");
    th_api_free(&r);

    /* PROD-8: an outsourced product is only hidden. */
    snprintf(path, sizeof path, "/v1/products/%s/unpublish", saas);
    r = api(&c, "POST", path, &seller, NULL);
    EXPECT_STATUS(r, 202);
    cr_expect_str_eq(th_jstr(r.json, "state"), "unpublished");
    th_api_free(&r);

    /* A draft is deleted, then gone. */
    r = api(&c, "POST", "/v1/products", &seller, "{\"kind\":\"llm\",\"name\":{\"en\":\"Mistral 7B\"}}");
    EXPECT_STATUS(r, 201);
    char *llm = created_id(&r);
    snprintf(path, sizeof path, "/v1/products/%s", llm);
    r = api(&c, "DELETE", path, &seller, NULL);
    EXPECT_STATUS(r, 204);
    th_api_free(&r);
    r = api(&c, "GET", path, &seller, NULL);
    EXPECT_STATUS(r, 404);
    th_api_free(&r);

    r = api(&c, "GET", "/v1/products?limit=1", &seller, NULL);
    EXPECT_STATUS(r, 200);
    cr_expect_eq(json_array_size(json_object_get(r.json, "products")), 1, "%s", r.body);
    th_api_free(&r);
    r = api(&c, "GET", "/v1/products?limit=1000", &seller, NULL);
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "limit", "out_of_range"), "%s", r.body);
    th_api_free(&r);

    free(saas), free(sub_offer), free(llm);
    idt_who_cleanup(&op), idt_who_cleanup(&other), idt_who_cleanup(&seller);
    cat_stop(&c);
}

/* A validated seller organization with a published showcase, and the operator, logged in. */
static void ready_seller(struct cat *c, const char *who, struct idt_who *seller, struct idt_who *op,
                         struct th_cloudsim_account *cloud_out) {
    struct th_cloudsim_account cloud;
    idt_signup(&c->idt, who, "seller", &cloud, seller);
    if (cloud_out)
        *cloud_out = cloud;
    operator_login(c, op);
    validate(c, op, seller->org_id);
    th_sleep_ms(1100); /* the gateway trusts a resolved session for 1 s: let it see the validation */
    struct th_api r = api(c, "PUT", "/v1/showcase", seller, complete_showcase);
    cr_assert_eq(r.status, 200, "%s", r.body);
    th_api_free(&r);
    r = api(c, "POST", "/v1/showcase/publish", seller, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    th_api_free(&r);
}

/* PROD-3: the publisher's report that the product type exists, as it publishes it on EVENTS
 * (publisher.product_code.created); the catalog's consumer records the code. (With the
 * publisher service running, its own report does this.) */
static void report_code(struct cat *c, struct idt_who *seller, const char *product_id, const char *code) {
    Mkt__Publisher__ProductCodeEvent pc = MKT__PUBLISHER__PRODUCT_CODE_EVENT__INIT;
    pc.product_id = (char *)product_id;
    pc.organization_id = seller->org_id;
    pc.product_code = (char *)code;
    Mkt__Event ev;
    struct event_storage st;
    events_envelope(&ev, &st, "publisher.product_code.created", seller->org_id, "", "", &pc.base);
    size_t len = mkt__event__get_packed_size(&ev);
    uint8_t *buf = malloc(len);
    mkt__event__pack(&ev, buf);
    struct err e = {0};
    for (int i = 0; i < 2; i++) /* twice: a repeat changes nothing */
        cr_assert_eq(events_publish(c->idt.bus, "mkt.evt.publisher.product_code.created", buf, len, ev.id, 5000, &e),
                     ERR_OK, "%s", e.msg);
    free(buf);
    events_storage_cleanup(&st);
    char path[200];
    snprintf(path, sizeof path, "/v1/products/%s", product_id);
    for (int i = 0; i < 100; i++) {
        struct th_api r = api(c, "GET", path, seller, NULL);
        bool done = strcmp(th_jstr(r.json, "product_code"), code) == 0;
        th_api_free(&r);
        if (done)
            return;
        th_sleep_ms(100);
    }
    cr_assert_fail("product %s did not get its code %s", product_id, code);
}

Test(catalog_seller, versions_and_terms, .timeout = 240, .fini = idt_fini) {
    struct cat c;
    cat_start(&c, "none");
    struct idt_who seller, op;
    struct th_cloudsim_account cloud;
    ready_seller(&c, "seller", &seller, &op, &cloud);
    struct th_api r;

    r = api(&c, "POST", "/v1/products", &seller,
            "{\"kind\":\"omi\",\"name\":{\"en\":\"Acme Postgres\",\"fr\":\"Acme Postgres\"},"
            "\"short_description\":{\"en\":\"Postgres OMI\",\"fr\":\"OMI Postgres\"},"
            "\"description\":{\"en\":\"Tuned.\",\"fr\":\"Optimisée.\"},\"categories\":[\"databases\"],"
            "\"regions\":[\"cloudgouv-eu-west-1\",\"eu-west-2\"]}");
    EXPECT_STATUS(r, 201);
    cr_expect_eq(json_array_size(json_object_get(r.json, "regions")), 2);
    char *omi = created_id(&r);
    char path[256], vpath[300];

    /* PROD-3: no version before the product code. */
    snprintf(path, sizeof path, "/v1/products/%s/versions", omi);
    r = api(&c, "POST", path, &seller, "{\"software_version\":\"1.0\"}");
    EXPECT_STATUS(r, 409);
    cr_expect(strstr(r.body, "PROD-3") != NULL, "%s", r.body);
    th_api_free(&r);
    /* The seller's own product type stands for the distribution account's (the publisher's). */
    struct cloud *sc = th_cloudsim_client(&cloud);
    struct cloud_product_types *pt = NULL;
    struct err ce = {0};
    cr_assert_eq(cloud_create_product_type(sc, "marketplace test", "seller", &pt, &ce), ERR_OK, "%s", ce.msg);
    char pcode[40];
    snprintf(pcode, sizeof pcode, "%s", pt->items[0].product_type_id);
    cloud_product_types_free(pt);
    report_code(&c, &seller, omi, pcode);

    /* PUB-5: the linked account is tested: the platform acts there; no OMI carries the code yet. */
    r = api(&c, "GET", "/v1/organization/outscale-accounts", &seller, NULL);
    char acc[64];
    snprintf(acc, sizeof acc, "%s", th_jstr(json_array_get(json_object_get(r.json, "outscale_accounts"), 0), "id"));
    th_api_free(&r);
    char tpath[160], tpath2[200];
    snprintf(tpath, sizeof tpath, "/v1/organization/outscale-accounts/%s/test", acc);
    r = api(&c, "POST", tpath, &seller, NULL);
    EXPECT_STATUS(r, 200);
    cr_expect(json_is_true(json_object_get(r.json, "platform_can_act")), "%s", r.body);
    json_t *reach = json_array_get(json_object_get(r.json, "products"), 0);
    cr_expect_str_eq(th_jstr(reach, "product_code"), pcode, "%s", r.body);
    cr_expect(json_is_false(json_object_get(reach, "reachable")), "%s", r.body);
    th_api_free(&r);
    /* Once the seller's OMI carries the code (a copy of a public base image, with the code),
     * the test says it is reachable. */
    const char *provider[] = {"999999999999", NULL};
    struct cloud_image_filters pf = {.account_ids = provider};
    struct cloud_images *base = NULL, *made = NULL;
    cr_assert_eq(cloud_read_images(sc, &pf, &base, &ce), ERR_OK, "%s", ce.msg);
    cr_assert_gt(base->n, 0, "no public base image in the emulator");
    const char *codes[] = {pcode, NULL};
    struct cloud_image_copy copy = {.source_image_id = base->items[0].image_id, .image_name = "seller-omi-1",
                                    .product_codes = codes};
    cr_assert_eq(cloud_create_image(sc, &copy, &made, &ce), ERR_OK, "%s", ce.msg);
    char img_gouv[32], img_west2[32];
    snprintf(img_gouv, sizeof img_gouv, "%s", made->items[0].image_id);
    cloud_images_free(made);
    cloud_images_free(base);
    cloud_free(sc);
    /* ...and one in eu-west-2, the product's other Region. */
    sc = th_cloudsim_client_in(&cloud, "eu-west-2");
    cr_assert_eq(cloud_read_images(sc, &pf, &base, &ce), ERR_OK, "%s", ce.msg);
    cr_assert_gt(base->n, 0, "no public base image in eu-west-2");
    copy.source_image_id = base->items[0].image_id;
    copy.image_name = "seller-omi-west";
    cr_assert_eq(cloud_create_image(sc, &copy, &made, &ce), ERR_OK, "%s", ce.msg);
    snprintf(img_west2, sizeof img_west2, "%s", made->items[0].image_id);
    cloud_images_free(made);
    cloud_images_free(base);
    cloud_free(sc);
    /* VER-3: the OMIs a version may be made from, per Region of the product. */
    snprintf(tpath2, sizeof tpath2, "/v1/products/%s/source-omis?region=cloudgouv-eu-west-1", omi);
    r = api(&c, "GET", tpath2, &seller, NULL);
    EXPECT_STATUS(r, 200);
    json_t *so = json_object_get(r.json, "source_omis");
    cr_expect_eq(json_array_size(so), 1, "%s", r.body);
    cr_expect_str_eq(th_jstr(json_array_get(so, 0), "name"), "seller-omi-1", "%s", r.body);
    th_api_free(&r);
    snprintf(tpath2, sizeof tpath2, "/v1/products/%s/source-omis?region=us-east-2", omi);
    r = api(&c, "GET", tpath2, &seller, NULL);
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "region", "not_a_region_of_the_product"), "%s", r.body);
    th_api_free(&r);
    r = api(&c, "POST", tpath, &seller, NULL);
    EXPECT_STATUS(r, 200);
    reach = json_array_get(json_object_get(r.json, "products"), 0);
    cr_expect(json_is_true(json_object_get(reach, "reachable")), "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(reach, "images")), 1, "%s", r.body);
    th_api_free(&r);

    /* Offers of each kind an OMI product takes. */
    const char *offers[] = {
        "{\"kind\":\"hourly\",\"prices\":[{\"vm_type\":\"tinav5.c2r4p2\",\"cents_per_hour\":12},"
        "{\"vm_type\":\"tinav5.c4r8p1\",\"cents_per_hour\":30}]}",
        "{\"kind\":\"free\"}",
        "{\"kind\":\"byol\",\"licence_url\":\"https://acme.example/licence\"}",
        "{\"kind\":\"subscription\",\"period\":\"year\",\"price_cents\":99000}",
    };
    char opath[256];
    snprintf(opath, sizeof opath, "/v1/products/%s/offers", omi);
    for (size_t i = 0; i < 4; i++) {
        r = api(&c, "POST", opath, &seller, offers[i]);
        EXPECT_STATUS(r, 201);
        th_api_free(&r);
    }
    r = api(&c, "GET", opath, &seller, NULL);
    cr_expect_eq(json_array_size(json_object_get(r.json, "offers")), 4, "%s", r.body);
    th_api_free(&r);

    r = api(&c, "POST", path, &seller,
            "{\"software_version\":\"16.1\",\"operating_system\":\"Ubuntu 22.04\","
            "\"software_base\":[{\"name\":\"postgresql\",\"version\":\"16\"}],"
            "\"release_note\":{\"en\":\"First\",\"fr\":\"Première\"},\"instructions\":{\"en\":\"ssh in\",\"fr\":\"ssh\"},"
            "\"source_omis\":{\"cloudgouv-eu-west-1\":\"ami-0a0a0a0a\",\"eu-west-2\":\"ami-0b0b0b0b\",\"us-east-2\":\"ami-0c0c0c0c\"}}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "source_omis.us-east-2", "not_a_region_of_the_product"), "%s", r.body);
    th_api_free(&r);
    r = api(&c, "POST", path, &seller,
            "{\"software_version\":\"16.1\",\"operating_system\":\"Ubuntu 22.04\","
            "\"software_base\":[{\"name\":\"postgresql\",\"version\":\"16\"}],"
            "\"release_note\":{\"en\":\"First\",\"fr\":\"Première\"},\"instructions\":{\"en\":\"ssh in\",\"fr\":\"ssh\"},"
            "\"source_omis\":{\"cloudgouv-eu-west-1\":\"ami-0a0a0a0a\",\"eu-west-2\":\"ami-0b0b0b0b\"}}");
    EXPECT_STATUS(r, 201);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "number")), 1);
    char *v1 = created_id(&r);

    /* VER-2: a new version is pre-filled from the last one. */
    r = api(&c, "POST", path, &seller, "{\"release_note\":{\"en\":\"Second\",\"fr\":\"Deuxième\"}}");
    EXPECT_STATUS(r, 201);
    cr_expect_str_eq(th_jstr(r.json, "software_version"), "16.1", "%s", r.body);
    cr_expect_str_eq(th_jstr(r.json, "operating_system"), "Ubuntu 22.04");
    cr_expect_eq(json_array_size(json_object_get(r.json, "software_base")), 1);
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "instructions"), "fr"), "ssh");
    cr_expect_eq(json_integer_value(json_object_get(r.json, "number")), 2);
    char *v2 = created_id(&r);

    /* Publication with the product: the checklist names the missing OMI of v2 per Region. */
    snprintf(vpath, sizeof vpath, "/v1/products/%s/publish", omi);
    char body[200];
    snprintf(body, sizeof body, "{\"version_id\":\"%s\"}", v2);
    r = api(&c, "POST", vpath, &seller, body);
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "version.source_omis.cloudgouv-eu-west-1", "required"), "%s", r.body);
    cr_expect(th_api_problem(&r, "version.source_omis.eu-west-2", "required"), "%s", r.body);
    th_api_free(&r);
    /* VER-3: v1's OMIs are well formed but not the seller's images with the code. */
    snprintf(body, sizeof body, "{\"version_id\":\"%s\"}", v1);
    r = api(&c, "POST", vpath, &seller, body);
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "version.source_omis.cloudgouv-eu-west-1", "not_found"), "%s", r.body);
    cr_expect(th_api_problem(&r, "version.source_omis.eu-west-2", "not_found"), "%s", r.body);
    th_api_free(&r);
    char v1path[200], omis[200];
    snprintf(v1path, sizeof v1path, "/v1/products/%s/versions/%s", omi, v1);
    snprintf(omis, sizeof omis, "{\"source_omis\":{\"cloudgouv-eu-west-1\":\"%s\",\"eu-west-2\":\"%s\"}}", img_gouv,
             img_west2);
    r = api(&c, "PATCH", v1path, &seller, omis);
    EXPECT_STATUS(r, 200);
    th_api_free(&r);
    r = api(&c, "POST", vpath, &seller, body);
    EXPECT_STATUS(r, 202);
    cr_expect_str_eq(th_jstr(r.json, "state"), "publishing", "%s", r.body);
    th_api_free(&r);
    snprintf(vpath, sizeof vpath, "/v1/products/%s/versions/%s", omi, v1);
    r = api(&c, "GET", vpath, &seller, NULL);
    cr_expect_str_eq(th_jstr(r.json, "state"), "publishing");
    th_api_free(&r);
    /* In flight: the version waits for the publisher's copies (VER-4) and does not change. */
    r = api(&c, "PATCH", vpath, &seller, "{\"operating_system\":\"Debian 12\"}");
    EXPECT_STATUS(r, 409);
    th_api_free(&r);
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.outbox WHERE subject = 'mkt.evt.catalog.version.publishing'",
             c.schema);
    char *n = th_sql(sql);
    cr_expect_str_eq(n, "1", "the publisher's event is in the outbox");
    free(n);

    /* Drafts change freely, the OMI included. */
    snprintf(vpath, sizeof vpath, "/v1/products/%s/versions/%s", omi, v2);
    r = api(&c, "PATCH", vpath, &seller, "{\"source_omis\":{\"eu-west-2\":\"ami-0d0d0d0d\"},\"operating_system\":\"Debian 12\"}");
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(r.json, "operating_system"), "Debian 12");
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/products/%s/versions?limit=1", omi);
    r = api(&c, "GET", path, &seller, NULL);
    EXPECT_STATUS(r, 200);
    cr_expect_eq(json_array_size(json_object_get(r.json, "versions")), 1);
    cr_expect_str_eq(th_jstr(json_array_get(json_object_get(r.json, "versions"), 0), "id"), v2, "newest first");
    char next[900];
    snprintf(next, sizeof next, "%s", th_jstr(r.json, "next_cursor"));
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/products/%s/versions?limit=1&cursor=%s", omi, next);
    r = api(&c, "GET", path, &seller, NULL);
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(json_array_get(json_object_get(r.json, "versions"), 0), "id"), v1, "the next page");
    cr_expect(json_is_null(json_object_get(r.json, "next_cursor")), "the last page: %s", r.body);
    th_api_free(&r);
    next[5] = next[5] == 'A' ? 'B' : 'A';
    snprintf(path, sizeof path, "/v1/products/%s/versions?limit=1&cursor=%s", omi, next);
    r = api(&c, "GET", path, &seller, NULL);
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "cursor", "not_a_cursor"), "a tampered cursor: %s", r.body);
    th_api_free(&r);

    /* PUB-3: terms of use. */
    r = api(&c, "POST", "/v1/terms", &seller, "{\"title\":{\"en\":\"Terms\",\"fr\":\"Conditions\"},\"body\":{\"en\":\"Be nice.\"}}");
    EXPECT_STATUS(r, 201);
    cr_expect_str_eq(th_jstr(r.json, "state"), "draft");
    char *t1 = created_id(&r);
    snprintf(path, sizeof path, "/v1/terms/%s/activate", t1);
    r = api(&c, "POST", path, &seller, NULL);
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "body.fr", "required"), "active terms exist in both languages: %s", r.body);
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/terms/%s", t1);
    r = api(&c, "PATCH", path, &seller, "{\"body\":{\"en\":\"Be nice.\",\"fr\":\"Soyez aimable.\"}}");
    EXPECT_STATUS(r, 200);
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/terms/%s/activate", t1);
    r = api(&c, "POST", path, &seller, NULL);
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(r.json, "state"), "active");
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/terms/%s", t1);
    r = api(&c, "PATCH", path, &seller, "{\"title\":{\"en\":\"Changed\",\"fr\":\"Changé\"}}");
    EXPECT_STATUS(r, 409);
    th_api_free(&r);
    r = api(&c, "POST", "/v1/terms", &seller, "{}");
    EXPECT_STATUS(r, 201);
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "body"), "fr"), "Soyez aimable.", "a copy of the active version");
    cr_expect_eq(json_integer_value(json_object_get(r.json, "number")), 2);
    char *t2 = created_id(&r);
    snprintf(path, sizeof path, "/v1/terms/%s/activate", t2);
    r = api(&c, "POST", path, &seller, NULL);
    EXPECT_STATUS(r, 200);
    th_api_free(&r);
    r = api(&c, "GET", "/v1/terms", &seller, NULL);
    json_t *list = json_object_get(r.json, "terms");
    cr_expect_eq(json_array_size(list), 2);
    cr_expect_str_eq(th_jstr(json_array_get(list, 0), "state"), "active");
    cr_expect_str_eq(th_jstr(json_array_get(list, 1), "state"), "archived", "exactly one active");
    th_api_free(&r);

    free(omi), free(v1), free(v2), free(t1), free(t2);
    idt_who_cleanup(&op), idt_who_cleanup(&seller);
    cat_stop(&c);
}

/* The review's id for the product, from the operators' list. */
static char *review_of(struct cat *c, struct idt_who *op, const char *product_id) {
    struct th_api r = api(c, "GET", "/v1/operator/reviews", op, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char *id = NULL;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r.json, "reviews"), i, it) {
        if (strcmp(th_jstr(it, "product_id"), product_id) == 0)
            id = strdup(th_jstr(it, "id"));
    }
    th_api_free(&r);
    cr_assert(id, "no pending review for %s", product_id);
    return id;
}

Test(catalog_seller, listing_review, .timeout = 240, .fini = idt_fini) {
    struct cat c;
    cat_start(&c, "required");
    struct idt_who seller, op;
    ready_seller(&c, "seller", &seller, &op, NULL);
    struct th_api r;
    r = api(&c, "POST", "/v1/products", &seller, outsourced_product);
    char *id = created_id(&r);
    char path[300];
    snprintf(path, sizeof path, "/v1/products/%s/offers", id);
    r = api(&c, "POST", path, &seller, "{\"kind\":\"free\"}");
    EXPECT_STATUS(r, 201);
    th_api_free(&r);

    /* PUB-4: publishing submits; the seller asks for automatic publication. */
    snprintf(path, sizeof path, "/v1/products/%s/publish", id);
    r = api(&c, "POST", path, &seller, "{\"auto_publish\":true}");
    EXPECT_STATUS(r, 202);
    cr_expect_str_eq(th_jstr(r.json, "state"), "in_review", "%s", r.body);
    th_api_free(&r);
    r = api(&c, "GET", "/v1/operator/reviews", &seller, NULL);
    EXPECT_STATUS(r, 403);
    th_api_free(&r);
    char *rev = review_of(&c, &op, id);
    char rpath[300];
    snprintf(rpath, sizeof rpath, "/v1/operator/reviews/%s/reject", rev);
    r = api(&c, "POST", rpath, &op, "{}");
    EXPECT_STATUS(r, 400);
    cr_expect(th_api_problem(&r, "comment", "required"), "a rejection says why: %s", r.body);
    th_api_free(&r);
    r = api(&c, "POST", rpath, &op, "{\"comment\":\"The French description is machine-translated.\"}");
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(r.json, "state"), "rejected");
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/products/%s", id);
    r = api(&c, "GET", path, &seller, NULL);
    cr_expect_str_eq(th_jstr(r.json, "state"), "draft", "a rejected listing goes back to draft");
    th_api_free(&r);
    r = api(&c, "POST", rpath, &op, "{\"comment\":\"again\"}");
    EXPECT_STATUS(r, 409);
    th_api_free(&r);
    free(rev);
    /* The seller's administrators are told why (notifier, recipients from catalog and identity). */
    struct th_maildir_wait rejected = {.rcpt = seller.email, .marker = "Reason: The French description is machine"};
    cr_expect(th_eventually(th_maildir_find, &rejected, 30000), "no rejection mail to %s", seller.email);

    /* Resubmitted without automatic publication: approval leaves it to the seller. */
    snprintf(path, sizeof path, "/v1/products/%s/publish", id);
    r = api(&c, "POST", path, &seller, "{}");
    EXPECT_STATUS(r, 202);
    th_api_free(&r);
    rev = review_of(&c, &op, id);
    snprintf(rpath, sizeof rpath, "/v1/operator/reviews/%s/approve", rev);
    r = api(&c, "POST", rpath, &op, "{}");
    EXPECT_STATUS(r, 200);
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/products/%s", id);
    r = api(&c, "GET", path, &seller, NULL);
    cr_expect_str_eq(th_jstr(r.json, "state"), "approved");
    th_api_free(&r);
    struct th_maildir_wait approved = {.rcpt = seller.email, .marker = "approved your listing Acme Cloud DB"};
    cr_expect(th_eventually(th_maildir_find, &approved, 30000), "no approval mail to %s", seller.email);
    snprintf(path, sizeof path, "/v1/products/%s/publish", id);
    r = api(&c, "POST", path, &seller, "{}");
    EXPECT_STATUS(r, 202);
    cr_expect_str_eq(th_jstr(r.json, "state"), "published", "an approved listing is published at once: %s", r.body);
    th_api_free(&r);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT string_agg(subject, ',' ORDER BY seq) FROM %s.outbox WHERE subject LIKE 'mkt.evt.catalog.review.%%'",
             c.schema);
    char *subjects = th_sql(sql);
    cr_expect_str_eq(subjects,
                     "mkt.evt.catalog.review.submitted,mkt.evt.catalog.review.rejected,"
                     "mkt.evt.catalog.review.submitted,mkt.evt.catalog.review.approved");
    free(subjects);
    free(rev), free(id);
    idt_who_cleanup(&op), idt_who_cleanup(&seller);
    cat_stop(&c);
}

/* PUB-1: the partner-programme number, set by an administrator, decided by the operator with the
 * organization's validation (identity, through the gateway). */
Test(catalog_seller, partner_programme_number, .timeout = 180, .fini = idt_fini) {
    struct cat c;
    cat_start(&c, "none");
    struct th_cloudsim_account cloud, bcloud;
    struct idt_who seller, buyer, op;
    idt_signup(&c.idt, "seller", "seller", &cloud, &seller);
    idt_signup(&c.idt, "buyer", "buyer", &bcloud, &buyer);
    operator_login(&c, &op);

    struct th_api r = api(&c, "PATCH", "/v1/organization", &buyer, "{\"partner_number\":\"OPN-123456\"}");
    EXPECT_STATUS(r, 400);
    cr_expect(strstr(r.body, "seller organizations only") != NULL, "%s", r.body);
    th_api_free(&r);
    r = api(&c, "PATCH", "/v1/organization", &seller, "{\"partner_number\":\"OPN 123456!\"}");
    EXPECT_STATUS(r, 400);
    th_api_free(&r);
    r = api(&c, "PATCH", "/v1/organization", &seller, "{\"partner_number\":\"OPN-123456\"}");
    EXPECT_STATUS(r, 200);
    json_t *pp = json_object_get(r.json, "partner_programme");
    cr_expect_str_eq(th_jstr(pp, "number"), "OPN-123456");
    cr_expect_str_eq(th_jstr(pp, "status"), "pending");
    th_api_free(&r);

    char path[200];
    snprintf(path, sizeof path, "/v1/operator/organizations/%s/validate", seller.org_id);
    r = api(&c, "POST", path, &op, "{}");
    EXPECT_STATUS(r, 400);
    cr_expect(strstr(r.body, "partner_decision") != NULL, "a pending number is decided with the organization: %s", r.body);
    th_api_free(&r);
    r = api(&c, "POST", path, &op, "{\"partner_decision\":\"refused\"}");
    EXPECT_STATUS(r, 400);
    cr_expect(strstr(r.body, "partner_reason") != NULL, "%s", r.body);
    th_api_free(&r);
    r = api(&c, "POST", path, &op, "{\"partner_decision\":\"refused\",\"partner_reason\":\"Unknown number in the programme\"}");
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(r.json, "status"), "validated");
    pp = json_object_get(r.json, "partner_programme");
    cr_expect_str_eq(th_jstr(pp, "status"), "refused");
    cr_expect_str_eq(th_jstr(pp, "reason"), "Unknown number in the programme");
    th_api_free(&r);

    /* A corrected number waits again, and is validated on its own. */
    r = api(&c, "PATCH", "/v1/organization", &seller, "{\"partner_number\":\"OPN-654321\"}");
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "partner_programme"), "status"), "pending");
    th_api_free(&r);
    r = api(&c, "POST", path, &op, "{\"partner_decision\":\"validated\"}");
    EXPECT_STATUS(r, 200);
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "partner_programme"), "status"), "validated", "%s", r.body);
    cr_expect(json_is_null(json_object_get(json_object_get(r.json, "partner_programme"), "reason")));
    th_api_free(&r);
    r = api(&c, "GET", "/v1/organization", &seller, NULL);
    cr_expect_str_eq(th_jstr(json_object_get(r.json, "partner_programme"), "number"), "OPN-654321");
    th_api_free(&r);
    idt_who_cleanup(&op), idt_who_cleanup(&buyer), idt_who_cleanup(&seller);
    cat_stop(&c);
}

/* The authorization matrix of every catalog route, end to end (gateway table, then the catalog's
 * own checks): visitor, buyer, the seller's admin and user (ACC-2: alike), a pending seller
 * (ORG-3: prepares, sees only its own), another seller (another organization's resources are
 * 404), operator. 0 = not asked (a call that would change the owner's data for later rows). */
enum { V, B, S, U, P, O, OP, N_ACTORS };

struct ids {
    char product[40], offer[40], offer2[40], version[40], terms[40];
};

static void expand(const char *tmpl, const struct ids *ids, char *out, size_t n) {
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {{"{pid}", offsetof(struct ids, product)}, {"{oid}", offsetof(struct ids, offer)},
                {"{oid2}", offsetof(struct ids, offer2)}, {"{vid}", offsetof(struct ids, version)},
                {"{tid}", offsetof(struct ids, terms)}};
    size_t used = 0;
    for (const char *p = tmpl; *p && used + 1 < n;) {
        bool replaced = false;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !replaced; k++) {
            size_t kl = strlen(keys[k].key);
            if (strncmp(p, keys[k].key, kl) == 0) {
                used += (size_t)snprintf(out + used, n - used, "%s", (const char *)ids + keys[k].off);
                p += kl;
                replaced = true;
            }
        }
        if (!replaced)
            out[used++] = *p++;
    }
    out[used < n ? used : n - 1] = '\0';
}

#define UUID0 "0190a0a0-0000-7000-8000-0000000000ff"

static const struct {
    const char *method, *path, *body;
    int want[N_ACTORS]; /* V, B, S, U, P, O, OP */
} matrix[] = {
    {"GET", "/v1/categories", NULL, {200, 200, 200, 200, 200, 200, 200}},
    {"GET", "/v1/showcase", NULL, {401, 403, 200, 200, 200, 200, 403}},
    {"POST", "/v1/showcase/publish?dry_run=true", NULL, {401, 403, 200, 200, 200, 200, 403}},
    {"GET", "/v1/products", NULL, {401, 403, 200, 200, 200, 200, 403}},
    {"POST", "/v1/products", "{\"kind\":\"llm\",\"name\":{\"en\":\"M\"}}", {401, 403, 201, 201, 201, 201, 403}},
    {"GET", "/v1/products/{pid}", NULL, {401, 403, 200, 200, 404, 404, 403}},
    {"PATCH", "/v1/products/{pid}", "{\"name\":{\"en\":\"P\",\"fr\":\"P\"}}", {401, 403, 200, 200, 404, 404, 403}},
    {"POST", "/v1/products/{pid}/publish?dry_run=true", NULL, {401, 403, 202, 202, 404, 404, 403}},
    {"POST", "/v1/products/{pid}/unpublish", NULL, {401, 403, 409, 409, 404, 404, 403}},
    {"GET", "/v1/products/{pid}/offers", NULL, {401, 403, 200, 200, 404, 404, 403}},
    {"POST", "/v1/products/{pid}/offers", "{\"kind\":\"free\"}", {401, 403, 201, 201, 404, 404, 403}},
    {"PATCH", "/v1/products/{pid}/offers/{oid}", "{}", {401, 403, 200, 200, 404, 404, 403}},
    {"DELETE", "/v1/products/{pid}/offers/{oid2}", NULL, {401, 403, 0, 0, 404, 404, 403}},
    {"GET", "/v1/products/{pid}/versions", NULL, {401, 403, 200, 200, 404, 404, 403}},
    {"POST", "/v1/products/{pid}/versions", "{\"software_version\":\"2\"}", {401, 403, 201, 201, 404, 404, 403}},
    {"GET", "/v1/products/{pid}/versions/{vid}", NULL, {401, 403, 200, 200, 404, 404, 403}},
    {"PATCH", "/v1/products/{pid}/versions/{vid}", "{\"operating_system\":\"Debian 12\"}", {401, 403, 200, 200, 404, 404, 403}},
    {"POST", "/v1/products/{pid}/versions/{vid}/publish?dry_run=true", NULL, {401, 403, 409, 409, 404, 404, 403}},
    {"POST", "/v1/products/{pid}/versions/{vid}/unpublish", NULL, {401, 403, 409, 409, 404, 404, 403}},
    {"DELETE", "/v1/products/{pid}", NULL, {401, 403, 0, 0, 404, 404, 403}},
    {"GET", "/v1/terms", NULL, {401, 403, 200, 200, 200, 200, 403}},
    {"POST", "/v1/terms", "{}", {401, 403, 201, 201, 201, 201, 403}},
    {"PATCH", "/v1/terms/{tid}", "{\"title\":{\"en\":\"T\"}}", {401, 403, 200, 200, 404, 404, 403}},
    {"POST", "/v1/terms/{tid}/activate", NULL, {401, 403, 400, 400, 404, 404, 403}},
    {"GET", "/v1/operator/reviews", NULL, {401, 403, 403, 403, 403, 403, 200}},
    {"POST", "/v1/operator/reviews/" UUID0 "/approve", "{}", {401, 403, 403, 403, 403, 403, 404}},
    {"POST", "/v1/operator/reviews/" UUID0 "/reject", "{\"comment\":\"no\"}", {401, 403, 403, 403, 403, 403, 404}},
    /* a draft showcase takes a partial edit; a published one stays complete (SHOW-2) */
    {"PUT", "/v1/showcase", "{\"name\":{\"en\":\"N\"}}", {401, 403, 0, 0, 200, 400, 403}},
};

static char *id_of(struct th_api *r) {
    cr_assert(r->status >= 200 && r->status < 300, "setup: %ld %s", r->status, r->body);
    return created_id(r);
}

Test(catalog_seller, authorization_matrix_of_every_route, .timeout = 300, .fini = idt_fini) {
    struct cat c;
    cat_start(&c, "none");
    struct idt_who who[N_ACTORS], op2;
    memset(who, 0, sizeof who);
    struct th_cloudsim_account cloud;
    ready_seller(&c, "owner", &who[S], &who[OP], NULL);
    idt_add_account(&c.idt, &who[S], "member", "user", &who[U]);
    idt_signup(&c.idt, "pending", "seller", &cloud, &who[P]);
    ready_seller(&c, "other", &who[O], &op2, NULL);
    idt_signup(&c.idt, "buyer", "buyer", &cloud, &who[B]);

    struct ids ids;
    struct th_api r = api(&c, "POST", "/v1/products", &who[S],
                          "{\"kind\":\"omi\",\"name\":{\"en\":\"Owned\"},\"categories\":[\"databases\"]}");
    char *id = id_of(&r);
    snprintf(ids.product, sizeof ids.product, "%s", id);
    free(id);
    report_code(&c, &who[S], ids.product, "pty-0c0c0c0c");
    char path[300];
    snprintf(path, sizeof path, "/v1/products/%s/offers", ids.product);
    r = api(&c, "POST", path, &who[S], "{\"kind\":\"free\"}");
    id = id_of(&r);
    snprintf(ids.offer, sizeof ids.offer, "%s", id);
    free(id);
    r = api(&c, "POST", path, &who[S], "{\"kind\":\"byol\",\"licence_url\":\"https://x.example/l\"}");
    id = id_of(&r);
    snprintf(ids.offer2, sizeof ids.offer2, "%s", id);
    free(id);
    snprintf(path, sizeof path, "/v1/products/%s/versions", ids.product);
    r = api(&c, "POST", path, &who[S], "{\"software_version\":\"1\"}");
    id = id_of(&r);
    snprintf(ids.version, sizeof ids.version, "%s", id);
    free(id);
    r = api(&c, "POST", "/v1/terms", &who[S], "{\"title\":{\"en\":\"Terms\"}}");
    id = id_of(&r);
    snprintf(ids.terms, sizeof ids.terms, "%s", id);
    free(id);

    static const char *const names[] = {"visitor", "buyer", "seller admin", "seller user", "pending seller",
                                        "other seller", "operator"};
    for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
        char p[400];
        expand(matrix[i].path, &ids, p, sizeof p);
        for (int a = 0; a < N_ACTORS; a++) {
            if (!matrix[i].want[a])
                continue;
            r = api(&c, matrix[i].method, p, a == V ? NULL : &who[a], matrix[i].body);
            cr_expect_eq(r.status, matrix[i].want[a], "%s %s as %s: %ld %s", matrix[i].method, matrix[i].path,
                         names[a], r.status, r.body);
            th_api_free(&r);
        }
    }
    /* The owner's own deletions, last. */
    snprintf(path, sizeof path, "/v1/products/%s/offers/%s", ids.product, ids.offer2);
    r = api(&c, "DELETE", path, &who[U], NULL);
    EXPECT_STATUS(r, 204);
    th_api_free(&r);
    snprintf(path, sizeof path, "/v1/products/%s", ids.product);
    r = api(&c, "DELETE", path, &who[U], NULL);
    EXPECT_STATUS(r, 204);
    th_api_free(&r);
    for (int a = 0; a < N_ACTORS; a++)
        idt_who_cleanup(&who[a]);
    idt_who_cleanup(&op2);
    cat_stop(&c);
}
