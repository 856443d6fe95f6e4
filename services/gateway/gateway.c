/* The gateway's start-up steps and svc hooks, out of main.c so that main stays a boot script:
 * the listen address, the token cache and the rate limiter, the HTTP server, and the drain (stop
 * accepting when SIGTERM comes, then let the requests in flight finish before the bus closes,
 * within the skeleton's one deadline). */
#include <string.h>

#include "gateway.h"
#include "log.h"

err_code gateway_check_config(struct gateway *g, struct err *e) {
    if (gateway_parse_addr(g->cfg.http_addr, g->http_host, sizeof g->http_host, &g->http_port, e) != ERR_OK)
        return err_wrap(e, "configuration");
    return ERR_OK;
}

err_code gateway_start(struct gateway *g, struct svc *s, struct err *e) {
    const char *host = g->http_host;
    int port = g->http_port;
    err_code code;
    g->tokens = gateway_token_cache_new((size_t)g->cfg.auth_cache_size, (int)g->cfg.auth_cache_ms);
    g->rate = gateway_rate_new((size_t)g->cfg.rate_clients, (double)g->cfg.rate_per_s, (double)g->cfg.rate_burst);
    if ((g->cfg.auth_cache_ms > 0 && !g->tokens) || (g->cfg.rate_per_s > 0 && !g->rate))
        return err_set(e, ERR_INTERNAL, "out of memory for the token cache or the rate limiter");
    g->bus = s->bus;
    struct http_server_config hc = {.addr = host, .port = port, .threads = (int)g->cfg.http_threads,
                                    .max_body = (size_t)g->cfg.http_max_body, .timeout_s = (int)g->cfg.http_idle_s};
    code = http_server_start(&hc, gateway_dispatch, g, &g->http, e);
    if (code != ERR_OK)
        return code;
    bool v6 = strchr(host, ':') != NULL;
    log_info("listening on http://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", http_server_port(g->http));
    return ERR_OK;
}

void gateway_on_drain(struct svc *s) {
    struct gateway *g = s->app;
    atomic_store(&g->draining, true);
    http_server_quiesce(g->http);
}

bool gateway_drain_wait(struct svc *s, int64_t until_mono_us) {
    struct gateway *g = s->app;
    int64_t left_ms = (until_mono_us - clock_mono_us()) / 1000;
    return http_server_wait_idle(g->http, left_ms > 0 ? (int)left_ms : 0);
}

void gateway_cleanup(struct gateway *g) {
    http_server_stop(g->http);
    g->http = NULL;
    gateway_token_cache_free(g->tokens);
    g->tokens = NULL;
    gateway_rate_free(g->rate);
    g->rate = NULL;
}
