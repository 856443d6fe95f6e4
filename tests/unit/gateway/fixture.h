/* The gateway's route table behind a real lib/http server, without NATS: shared by the unit tests
 * that send real HTTP requests (gateway_test.c, dispatch_test.c). Requests go through the
 * tests/support libcurl client (th_http_full). */
#ifndef GATEWAY_TEST_FIXTURE_H
#define GATEWAY_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "../../../services/gateway/gateway.h"

/* The gateway under test (started by gw_fixture_start, one per test process). */
extern struct gateway gw;

/* Starts gateway_dispatch on 127.0.0.1 (free port, 2 threads, 5 s timeout) with a request body
 * limit of max_body. With caches, also a token cache (long TTL: tests plant sessions once) and a
 * rate limiter of rate_per_s/burst (0/0: unlimited). */
void gw_fixture_start(size_t max_body, bool caches, long long rate_per_s, long long burst);
/* Frees what gw_fixture_start made. */
void gw_fixture_stop(void);

/* Sends a request to the gateway's `path` with the NULL-terminated "Name: value" `headers` (may be
 * NULL) and `body` (may be NULL); asserts the exchange happened and returns the status. *out and
 * *head (each may be NULL) receive the malloc'd body and header block. */
long gw_request(const char *method, const char *path, const char *const *headers, const char *body, char **out,
                char **head);

/* The value of header `name` in the block `head` copied to out, or NULL when there is none. */
const char *gw_header(const char *head, const char *name, char *out, size_t n);

#endif
