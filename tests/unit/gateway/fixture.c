/* The gateway test fixture (see fixture.h). */
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>

#include "../../support/harness.h"

struct gateway gw;

void gw_fixture_start(size_t max_body, bool caches, long long rate_per_s, long long burst) {
    gw = (struct gateway){.cfg = {.rpc_timeout_ms = 200}};
    if (caches) {
        gw.tokens = gateway_token_cache_new(256, 600000);
        gw.rate = gateway_rate_new(64, (double)rate_per_s, (double)burst);
    }
    struct http_server_config cfg = {.addr = "127.0.0.1", .threads = 2, .max_body = max_body, .timeout_s = 5};
    struct err e = {0};
    cr_assert_eq(http_server_start(&cfg, gateway_dispatch, &gw, &gw.http, &e), ERR_OK, "%s", e.msg);
}

void gw_fixture_stop(void) {
    http_server_stop(gw.http);
    if (gw.tokens)
        gateway_token_cache_free(gw.tokens);
    if (gw.rate)
        gateway_rate_free(gw.rate);
}

long gw_request(const char *method, const char *path, const char *const *headers, const char *body, char **out,
                char **head) {
    char u[2048]; /* room for the longest cursor in a query */
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", http_server_port(gw.http), path);
    int status = th_http_full(method, u, body, headers, out, head);
    cr_assert_neq(status, 0, "%s %s: transport error", method, path);
    return status;
}

const char *gw_header(const char *head, const char *name, char *out, size_t n) {
    th_header(head, name, out, n);
    return out[0] ? out : NULL;
}
