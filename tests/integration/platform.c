/* The platform as a whole: every service and the gateway against real PostgreSQL and NATS.
 * Readiness reflects the services actually answering `ping`; GET /v1/regions travels HTTP ->
 * gateway -> NATS -> catalog -> PostgreSQL and back; errors have the JSON shape and a request id;
 * a missing service turns into 503, not a hang, and probes are answered from a one-second cache;
 * every process exits 0 on SIGTERM (the drain). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"

static const char *const services[] = {"identity", "catalog", "publisher", "billing", "notifier"};
#define N_SERVICES (sizeof services / sizeof services[0])

struct platform {
    struct th_proc procs[N_SERVICES];
    struct th_proc gateway;
    char url[64];
    char env[N_SERVICES + 1][8][320];
};

static void start_service(struct platform *p, size_t i) {
    const char *nats = th_env("MKT_TEST_NATS_URL");
    char(*env)[320] = p->env[i];
    char *dsn = th_service_dsn(services[i]); /* the service's own role and schema, as in production */
    snprintf(env[0], 320, "MKT_NATS_URL=%s", nats);
    snprintf(env[1], 320, "MKT_PG_DSN=%s", dsn);
    snprintf(env[2], 320, "MKT_SMTP_URL=%s", th_env("MKT_TEST_SMTP_URL"));
    snprintf(env[3], 320, "MKT_TEMPLATES_DIR=%s/services/notifier/templates", th_env("MKT_TEST_ROOT"));
    snprintf(env[4], 320, "MKT_DRAIN_MS=5000");
    /* identity: a test vault key (32 zero bytes, base64) and the emulator as the cloud */
    snprintf(env[5], 320, "MKT_VAULT_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    snprintf(env[6], 320, "OSC_ENDPOINT_API=%s", getenv("MKT_TEST_CLOUD_URL") ? getenv("MKT_TEST_CLOUD_URL") : "");
    const char *e[] = {env[0], env[1], env[2], env[3], env[4], env[5], env[6], NULL};
    p->procs[i] = th_spawn(services[i], NULL, e);
    free(dsn);
}

static int get(const char *url, const char *path, char **body) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", url, path);
    return th_http("GET", full, NULL, NULL, body);
}

static bool ready(void *arg) {
    struct platform *p = arg;
    return get(p->url, "/readyz", NULL) == 200;
}

static bool not_ready(void *arg) {
    struct platform *p = arg;
    return get(p->url, "/readyz", NULL) == 503;
}

static void platform_start(struct platform *p) {
    for (size_t i = 0; i < N_SERVICES; i++)
        start_service(p, i);
    int port = th_free_port();
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", port);
    char(*env)[320] = p->env[N_SERVICES];
    snprintf(env[0], 320, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    snprintf(env[1], 320, "MKT_HTTP_ADDR=127.0.0.1:%d", port);
    const char *e[] = {env[0], env[1], NULL};
    p->gateway = th_spawn("gateway", NULL, e);
    cr_assert(th_eventually(ready, p, 60000), "platform not ready within 60 s");
}

static void platform_stop(struct platform *p) {
    cr_expect_eq(th_stop(&p->gateway, SIGTERM, 20000), 0, "gateway did not exit 0 after SIGTERM");
    for (size_t i = 0; i < N_SERVICES; i++)
        if (p->procs[i].pid > 0)
            cr_expect_eq(th_stop(&p->procs[i], SIGTERM, 20000), 0, "%s did not exit 0 after SIGTERM", services[i]);
}

Test(platform, regions_readiness_errors_and_drain, .timeout = 180) {
    struct platform p = {0};
    platform_start(&p);
    char *body = NULL;

    /* readiness lists every service as up */
    cr_assert_eq(get(p.url, "/readyz", &body), 200);
    json_t *j = json_loads(body, 0, NULL);
    cr_assert(j, "readyz body is not JSON: %s", body);
    for (size_t i = 0; i < N_SERVICES; i++) {
        json_t *st = json_object_get(json_object_get(json_object_get(j, "services"), services[i]), "state");
        cr_expect_str_eq(json_string_value(st) ? json_string_value(st) : "", "up", "%s not up", services[i]);
    }
    json_decref(j);
    free(body);

    /* the first request path: both Regions, from the catalog's database */
    cr_assert_eq(get(p.url, "/v1/regions", &body), 200);
    j = json_loads(body, 0, NULL);
    json_t *regions = json_object_get(j, "regions");
    cr_assert_eq(json_array_size(regions), 2, "regions: %s", body);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(regions, 0), "name")), "cloudgouv-eu-west-1");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(regions, 1), "name")), "eu-west-2");
    cr_expect(json_string_value(json_object_get(json_object_get(json_array_get(regions, 1), "display_name"), "fr")));
    json_decref(j);
    free(body);

    /* errors: JSON shape with a request id; unknown path, wrong method, oversized body */
    cr_expect_eq(get(p.url, "/v1/nope", &body), 404);
    j = json_loads(body, 0, NULL);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "not_found");
    cr_expect(json_string_length(json_object_get(json_object_get(j, "error"), "request_id")) > 0);
    json_decref(j);
    free(body);
    char url[128];
    snprintf(url, sizeof url, "%s/v1/regions", p.url);
    cr_expect_eq(th_http("DELETE", url, NULL, NULL, NULL), 405);
    size_t big_len = 2u << 20;
    char *big = malloc(big_len + 1);
    memset(big, 'x', big_len);
    big[big_len] = '\0';
    cr_expect_eq(th_http("POST", url, big, NULL, NULL), 413);
    free(big);

    /* a stopped catalog: readiness 503 and the regions call fails fast with 503, no hang */
    cr_assert_eq(th_stop(&p.procs[1], SIGTERM, 20000), 0, "catalog did not exit 0 after SIGTERM");
    /* the answer is cached for a second (GATEWAY_READYZ_CACHE_MS): 503 within two */
    cr_expect(th_eventually(not_ready, &p, 2500), "readyz still 200 without the catalog");
    /* a probe flood costs one round of pings per second: without the cache each of these would
     * wait the 1 s ping timeout of the missing catalog */
    int64_t t0 = clock_mono_us();
    for (int i = 0; i < 10; i++)
        cr_expect_eq(get(p.url, "/readyz", NULL), 503);
    long ms = (long)((clock_mono_us() - t0) / 1000);
    cr_expect_lt(ms, 4000, "10 probes took %ld ms: the readyz answer is not cached", ms);
    cr_expect_eq(get(p.url, "/v1/regions", &body), 503, "regions without catalog: %s", body);
    free(body);
    /* and back */
    start_service(&p, 1);
    cr_assert(th_eventually(ready, &p, 60000), "not ready again after the catalog restarted");
    cr_expect_eq(get(p.url, "/v1/regions", NULL), 200);

    platform_stop(&p);
}
