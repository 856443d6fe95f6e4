/* A thin HTTP/1.1 server over libmicrohttpd (internal epoll thread pool) for the gateway and the
 * cloud emulator. The handler runs on one of the server's threads, once per complete request
 * (the body is fully read, within `max_body`), and fills a response; it may block (the gateway
 * makes NATS calls from it), so size `threads` for the expected concurrency.
 * Keep-alive is preserved; bodies over the limit get 413 without calling the handler.
 * Streaming responses (Server-Sent Events) use a reader callback. */
#ifndef MKT_HTTP_H
#define MKT_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
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

/* Streaming body reader: fill up to max bytes at `pos`; return bytes written, 0 to wait and be
 * called again (it may block briefly), or -1 to end the stream. Called on a server thread. */
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
/* Stops accepting new connections (in-flight requests finish). */
void http_server_quiesce(struct http_server *s);
/* Stops the server and frees it; NULL is a no-op. */
void http_server_free(struct http_server *s);

#endif
