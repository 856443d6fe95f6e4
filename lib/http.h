/* A thin HTTP/1.1 server over libmicrohttpd (internal epoll thread pool) for the gateway and the
 * cloud emulator. The handler runs on one of the server's threads, once per complete request
 * (the body is fully read, within `max_body`), and fills a response; it may block (the gateway
 * makes NATS calls from it), so size `threads` for the expected concurrency: a blocked thread
 * also delays the other connections it polls.
 * Keep-alive is preserved; bodies over the limit get 413 without calling the handler (body
 * {"error":{"code":"too_large",...,"request_id"}} and an X-Request-Id header: the request's own
 * when it is a sane token, else a fresh UUID). Streaming responses (Server-Sent Events) use a
 * reader callback. All functions are thread-safe. */
#ifndef MKT_HTTP_H
#define MKT_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct http_request {
    const char *method;      /* "GET", "POST", ... */
    const char *path;        /* URL path without the query string */
    const char *body;        /* NUL-terminated copy of the body ("" when none) */
    size_t body_len;
    const char *client_addr; /* "127.0.0.1" */
    void *conn__;            /* internal: the MHD connection */
};

/* Header and query lookups; borrowed strings valid during the handler call, NULL when absent. */
const char *http_header(const struct http_request *req, const char *name);
const char *http_query(const struct http_request *req, const char *name);

/* Streaming body reader: fill up to max bytes at `pos`; return bytes written, 0 when nothing is
 * ready (the connection is then parked and the reader called again about 50 ms later, so it
 * should not block), or -1 to end the stream. Called on a server thread, one call at a time per
 * stream. A parked client that went away is only noticed on the next write: send something
 * (an SSE comment) every few seconds. Streams end when the server is quiesced or freed. */
typedef ssize_t (*http_stream_fn)(void *ctx, uint64_t pos, char *buf, size_t max);

#define HTTP_MAX_HEADERS 8
struct http_response {
    int status;                 /* default 200 */
    char *body;                 /* owned: malloc'd, freed by the server */
    size_t body_len;
    const char *content_type;   /* static string; default "application/json" */
    struct { char name[48]; char value[208]; } headers[HTTP_MAX_HEADERS];
    int n_headers;
    http_stream_fn stream;      /* when set, the body is streamed instead */
    void *stream_ctx;
    void (*stream_free)(void *ctx); /* called once when the stream ends or the client leaves */
};

/* Serialises `body` (taken: decref'd here) as the response body with the given status. */
void http_response_json(struct http_response *res, int status, json_t *body);
/* Copies text as the body. */
void http_response_text(struct http_response *res, int status, const char *content_type, const char *text);
/* Adds a header (copied; silently ignored past HTTP_MAX_HEADERS or when too long). */
void http_response_header(struct http_response *res, const char *name, const char *value);

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req, struct http_response *res);

struct http_server_config {
    const char *addr;        /* "127.0.0.1" */
    int port;                /* 0 picks a free port (see http_server_port) */
    int threads;             /* server threads (>= 1) */
    size_t max_body;         /* bytes; larger bodies get 413 */
    int timeout_s;           /* idle connection timeout */
};

struct http_server;
err_code http_server_start(const struct http_server_config *cfg, http_handler_fn fn, void *ctx,
                           struct http_server **out, struct err *e) MKT_MUST_USE;
int http_server_port(const struct http_server *s);
/* Stops accepting new connections (in-flight requests finish; streams end at their next read).
 * Idempotent. */
void http_server_quiesce(struct http_server *s);
/* Waits until no request is in flight (idle keep-alive connections do not count), up to
 * deadline_ms; true when idle. For the drain: quiesce, wait, free. */
bool http_server_wait_idle(struct http_server *s, int deadline_ms);
/* Stops the server (open connections are closed) and frees it; NULL is a no-op. */
void http_server_stop(struct http_server *s);

#endif
