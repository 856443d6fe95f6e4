/* The gateway's boot script: load the settings, connect to NATS, open the HTTP listener, run
 * until SIGTERM, then drain (stop accepting, let in-flight requests finish) and close. The
 * gateway has no database and serves no bus methods of its own; its work happens on the HTTP
 * server's threads (routes.c, handlers.c). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gateway.h"
#include "log.h"
#include "svc.h"

#define HOST_MAX 256

static const struct config_field gateway_fields[] = {
    {"MKT_HTTP_ADDR", CONFIG_STRING, "127.0.0.1:8080", 3, 300, false, offsetof(struct gateway_config, http_addr),
     "listen address, host:port (numeric host; port 0 picks a free one)"},
    {"MKT_HTTP_THREADS", CONFIG_INT, "8", 1, 256, false, offsetof(struct gateway_config, http_threads),
     "HTTP server threads (each may wait on a NATS call)"},
    {"MKT_HTTP_MAX_BODY", CONFIG_INT, "1048576", 1, 64LL << 20, false, offsetof(struct gateway_config, http_max_body),
     "largest request body in bytes (413 beyond)"},
    {"MKT_HTTP_IDLE_S", CONFIG_INT, "60", 1, 3600, false, offsetof(struct gateway_config, http_idle_s),
     "idle keep-alive connection timeout in seconds"},
    {"MKT_RPC_TIMEOUT_MS", CONFIG_INT, "5000", 10, 120000, false, offsetof(struct gateway_config, rpc_timeout_ms),
     "timeout of each NATS call made for a request"},
    {"MKT_AUTH_CACHE_MS", CONFIG_INT, "1000", 0, 1000, false, offsetof(struct gateway_config, auth_cache_ms),
     "how long a resolved session token is trusted without asking identity (0 = always ask)"},
    {"MKT_AUTH_CACHE_SIZE", CONFIG_INT, "8192", 8, 1 << 22, false, offsetof(struct gateway_config, auth_cache_size),
     "resolved session tokens kept"},
    {"MKT_RATE_PER_S", CONFIG_INT, "50", 0, 1000000, false, offsetof(struct gateway_config, rate_per_s),
     "requests per second allowed per client address on /v1 (0 = no limit)"},
    {"MKT_RATE_BURST", CONFIG_INT, "100", 1, 1000000, false, offsetof(struct gateway_config, rate_burst),
     "requests a client address may send at once before the rate applies"},
    {"MKT_RATE_CLIENTS", CONFIG_INT, "16384", 8, 1 << 22, false, offsetof(struct gateway_config, rate_clients),
     "client addresses tracked by the rate limiter"},
};

/* On the loop, when the first SIGTERM arrives: no new connections, /readyz says not ready. */
static void on_drain(struct svc *s) {
    struct gateway *g = s->app;
    atomic_store(&g->draining, true);
    http_server_quiesce(g->http);
}

int main(void) {
    static struct gateway g;
    struct svc s;
    struct err e = {0};
    char host[HOST_MAX];
    int port = 0, rc = 1;

    if (svc_init(&s, "gateway", &g, false, &e) != ERR_OK) {
        log_error("%s", e.msg);
        goto done;
    }
    if (config_load(gateway_fields, CONFIG_COUNT(gateway_fields), &g.cfg, &e) != ERR_OK ||
        gateway_parse_addr(g.cfg.http_addr, host, sizeof host, &port, &e) != ERR_OK) {
        log_error("configuration: %s", e.msg);
        goto done;
    }
    config_log(gateway_fields, CONFIG_COUNT(gateway_fields), &g.cfg);
    g.tokens = gateway_token_cache_new((size_t)g.cfg.auth_cache_size, (int)g.cfg.auth_cache_ms);
    g.rate = gateway_rate_new((size_t)g.cfg.rate_clients, (double)g.cfg.rate_per_s, (double)g.cfg.rate_burst);
    if ((g.cfg.auth_cache_ms > 0 && !g.tokens) || (g.cfg.rate_per_s > 0 && !g.rate)) {
        log_error("out of memory for the token cache or the rate limiter");
        goto done;
    }
    if (svc_connect(&s, &e) != ERR_OK) {
        log_error("nats: %s", e.msg);
        goto done;
    }
    g.bus = s.bus;
    s.on_drain = on_drain;

    struct http_server_config hc = {.addr = host, .port = port, .threads = (int)g.cfg.http_threads,
                                    .max_body = (size_t)g.cfg.http_max_body, .timeout_s = (int)g.cfg.http_idle_s};
    if (http_server_start(&hc, gateway_dispatch, &g, &g.http, &e) != ERR_OK) {
        log_error("%s", e.msg);
        goto done;
    }
    bool v6 = strchr(host, ':') != NULL;
    log_info("listening on http://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", http_server_port(g.http));

    rc = svc_run(&s);
    /* svc_run returns after the bus drain; requests already inside the HTTP server may still be
     * waiting on NATS calls, which need the bus: let them finish before closing it. */
    if (!http_server_wait_idle(g.http, (int)s.cfg.drain_ms))
        log_warn("drain: HTTP requests still in flight at the deadline");
done:
    http_server_free(g.http);
    g.http = NULL;
    svc_cleanup(&s);
    gateway_token_cache_free(g.tokens);
    gateway_rate_free(g.rate);
    return rc;
}
