/* The HTTP edge: shared declarations of the gateway's files.
 *
 *   main.c      wiring: configuration, NATS, the HTTP server, drain
 *   routes.c    the route table, path matching, err_code -> HTTP status, request ids, dispatch
 *   handlers.c  one function per route: HTTP request in, bus calls, JSON response out
 *
 * Threads: gateway_dispatch and every handler run on the HTTP server's threads (lib/http.h),
 * several at once; they only read `struct gateway` (draining is atomic). */
#ifndef MKT_GATEWAY_H
#define MKT_GATEWAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "bus.h"
#include "err.h"
#include "http.h"

struct gateway_config {
    const char *http_addr;     /* "host:port" */
    long long http_threads;
    long long http_max_body;
    long long http_idle_s;
    long long rpc_timeout_ms;
};

/* The process state, owned by main.c. */
struct gateway {
    struct gateway_config cfg;
    struct bus *bus;            /* borrowed from the svc; NULL means "not connected" */
    struct http_server *http;   /* owned */
    atomic_bool draining;       /* set when SIGTERM starts the drain: /readyz turns 503 */
};

/* ---- requests as the handlers see them ---- */
#define GATEWAY_MAX_PARAMS 4
#define GATEWAY_REQUEST_ID_MAX 64

struct gateway_params {
    int n;
    struct { char name[32]; char value[128]; } p[GATEWAY_MAX_PARAMS];
};

struct gateway_req {
    const struct http_request *http;          /* borrowed */
    char request_id[GATEWAY_REQUEST_ID_MAX + 1];
    struct gateway_params params;             /* values of the pattern's {name} segments */
};

typedef void (*gateway_handler_fn)(struct gateway *g, const struct gateway_req *r, struct http_response *res);

struct gateway_route {
    const char *method;         /* "GET" */
    const char *pattern;        /* "/v1/regions", "/v1/products/{id}" ({x} = one non-empty segment) */
    gateway_handler_fn fn;
};

/* The table, in routes.c. */
extern const struct gateway_route gateway_routes[];
extern const size_t gateway_routes_count;

/* ---- pure functions (unit-tested) ---- */

/* The one mapping from error codes to HTTP statuses (500 for anything unknown). */
int gateway_http_status(err_code code);

enum gateway_match { GATEWAY_MATCHED, GATEWAY_NO_PATH, GATEWAY_NO_METHOD };
/* Looks `method path` up in `routes`. GATEWAY_MATCHED sets *route and fills params;
 * GATEWAY_NO_METHOD (the path exists under other methods) writes "GET, POST" into allow.
 * HEAD matches GET routes. */
enum gateway_match gateway_route_match(const struct gateway_route *routes, size_t n, const char *method,
                                       const char *path, const struct gateway_route **route,
                                       struct gateway_params *params, char *allow, size_t allow_size);
/* The value of a {name} parameter, or NULL. Borrowed from params. */
const char *gateway_param(const struct gateway_params *params, const char *name);

/* True when `given` is a usable request id: 1..64 characters of [A-Za-z0-9_-]. */
bool gateway_request_id_ok(const char *given);
/* `given` when it is usable, else a fresh UUID, into out. */
void gateway_request_id(const char *given, char out[GATEWAY_REQUEST_ID_MAX + 1]);

/* Splits "host:port" or "[v6]:port" (port 0..65535; the host is required). */
err_code gateway_parse_addr(const char *addr, char *host, size_t host_size, int *port, struct err *e) MKT_MUST_USE;

/* ---- responses ---- */

/* {"error":{"code","message","request_id"}} with the status gateway_http_status(code). */
void gateway_error(struct http_response *res, const struct gateway_req *r, err_code code, const char *message);
/* The same body with an explicit status and code name (edge-only cases: 404 path, 405). */
void gateway_error_status(struct http_response *res, const struct gateway_req *r, int status, const char *code,
                          const char *message);

/* The lib/http handler: request id, routing, the handler, the access-log line. ctx is the gateway. */
void gateway_dispatch(void *ctx, const struct http_request *req, struct http_response *res);

/* ---- handlers (handlers.c) ---- */
void gateway_get_healthz(struct gateway *g, const struct gateway_req *r, struct http_response *res);
void gateway_get_readyz(struct gateway *g, const struct gateway_req *r, struct http_response *res);
void gateway_get_regions(struct gateway *g, const struct gateway_req *r, struct http_response *res);

#endif
