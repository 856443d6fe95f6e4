/* The gateway's boot script: the settings table and the wiring (NATS, the HTTP listener, the
 * drain hooks of gateway.c: stop accepting on SIGTERM, let in-flight requests finish within the
 * skeleton's one deadline, then close). The gateway has no database and serves no bus methods of
 * its own; its work happens on the HTTP server's threads (routes.c, handlers.c). */
#include <stddef.h>

#include "config.h"
#include "gateway.h"
#include "log.h"
#include "svc.h"

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

int main(void) {
    static struct gateway g;
    struct svc s;
    struct err e = {0};
    int rc = 1;
    if (svc_init(&s, "gateway", &g, false, &e) != ERR_OK ||
        config_load(gateway_fields, CONFIG_COUNT(gateway_fields), &g.cfg, &e) != ERR_OK ||
        gateway_check_config(&g, &e) != ERR_OK) {
        log_error("start: %s: %s", err_code_name(e.code), e.msg);
        goto done;
    }
    config_log(gateway_fields, CONFIG_COUNT(gateway_fields), &g.cfg);
    if (svc_connect(&s, &e) != ERR_OK || gateway_start(&g, &s, &e) != ERR_OK) {
        log_error("start: %s: %s", err_code_name(e.code), e.msg);
        goto done;
    }
    s.on_drain = gateway_on_drain;
    s.on_drain_wait = gateway_drain_wait; /* requests in flight need the bus: before it closes */
    rc = svc_run(&s);
done:
    gateway_cleanup(&g);
    svc_cleanup(&s);
    return rc;
}
