/* lib/http against a real libcurl client: each test starts a server on a free port inside the
 * test process and checks what a client sees (keep-alive reuse, 413, headers, query, bodies,
 * streaming, quiesce). */
#define _GNU_SOURCE /* strcasestr */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "http.h"

static atomic_int handler_calls;
static atomic_int streams_freed;

/* ---- the handler under test: behaviour chosen by path ---- */

struct counter_stream {
    int i, polls;
};

static ssize_t count_read(void *ctx, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    struct counter_stream *c = ctx;
    if (c->i >= 3)
        return -1;
    if (c->polls++ % 2 == 0)
        return 0; /* nothing yet: parked, then asked again */
    int n = snprintf(buf, max, "data: %d\n\n", c->i++);
    return n;
}

static void count_free(void *ctx) {
    free(ctx);
    atomic_fetch_add(&streams_freed, 1);
}

static void handler(void *ctx, const struct http_request *req, struct http_response *res) {
    (void)ctx;
    atomic_fetch_add(&handler_calls, 1);
    if (strcmp(req->path, "/echo") == 0) {
        const char *a = http_query(req, "a"), *b = http_query(req, "b"), *h = http_header(req, "x-test");
        http_response_json(res, 201,
                           json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s%,s:s}", "method", req->method, "path", req->path,
                                     "a", a, "b", b, "x_test", h, "body", req->body, req->body_len, "client",
                                     req->client_addr));
        http_response_header(res, "X-Reply", "yes");
    } else if (strcmp(req->path, "/stream") == 0) {
        res->stream = count_read;
        res->stream_ctx = calloc(1, sizeof(struct counter_stream));
        res->stream_free = count_free;
        res->content_type = "text/event-stream";
    } else if (strcmp(req->path, "/text") == 0) {
        http_response_text(res, 200, "text/plain", "hello");
    } else if (strcmp(req->path, "/empty") == 0) {
        res->status = 204;
    } else {
        http_response_json(res, 404, json_pack("{s:s}", "error", "nope"));
    }
}

static struct http_server *start(size_t max_body) {
    struct http_server_config cfg = {.addr = "127.0.0.1", .port = 0, .threads = 2, .max_body = max_body,
                                     .timeout_s = 5};
    struct http_server *s = NULL;
    struct err e = {0};
    cr_assert_eq(http_server_start(&cfg, handler, NULL, &s, &e), ERR_OK, "%s", e.msg);
    cr_assert_gt(http_server_port(s), 0);
    return s;
}

static void url(char *out, size_t n, struct http_server *s, const char *path) {
    snprintf(out, n, "http://127.0.0.1:%d%s", http_server_port(s), path);
}

/* One request on an existing handle; returns the status, fills body and headers. */
static long perform(CURL *c, const char *u, const char *post, size_t post_len, struct curl_slist *hdrs, struct th_body *body,
                    struct th_body *head) {
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, th_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, th_body_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, head);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)post_len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(c);
    cr_assert_eq(rc, CURLE_OK, "curl: %s", curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static json_t *parse(const struct th_body *b) {
    json_error_t je;
    json_t *j = json_loadb(b->data ? b->data : "", b->len, 0, &je);
    cr_assert_not_null(j, "not JSON: %s", b->data ? b->data : "(empty)");
    return j;
}

static void reset(struct th_body *a, struct th_body *b) {
    free(a->data);
    free(b->data);
    *a = (struct th_body){0};
    *b = (struct th_body){0};
}

Test(http, keep_alive_reused_across_two_requests) {
    struct http_server *s = start(1024);
    char u[128];
    url(u, sizeof u, s, "/echo");
    CURL *c = curl_easy_init();
    struct th_body body = {0}, head = {0};
    cr_assert_eq(perform(c, u, NULL, 0, NULL, &body, &head), 201);
    cr_assert_null(strcasestr(head.data, "connection: close"), "%s", head.data);
    long port1 = 0, port2 = 0, connects = -1;
    curl_easy_getinfo(c, CURLINFO_LOCAL_PORT, &port1);
    reset(&body, &head);
    cr_assert_eq(perform(c, u, "x", 1, NULL, &body, &head), 201);
    curl_easy_getinfo(c, CURLINFO_LOCAL_PORT, &port2);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
    cr_expect_eq(connects, 0, "second request opened a new connection");
    cr_expect_eq(port1, port2);
    cr_expect_eq(atomic_load(&handler_calls), 2);
    reset(&body, &head);
    curl_easy_cleanup(c);
    http_server_stop(s);
}

Test(http, body_over_limit_is_413_without_handler) {
    struct http_server *s = start(1000);
    char u[128];
    url(u, sizeof u, s, "/echo");
    char *big = malloc(5000);
    memset(big, 'a', 5000);
    CURL *c = curl_easy_init();
    struct th_body body = {0}, head = {0};
    struct curl_slist *h = curl_slist_append(NULL, "X-Request-Id: abc-123_x");
    cr_assert_eq(perform(c, u, big, 5000, h, &body, &head), 413);
    json_t *j = parse(&body);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "too_large");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "request_id")), "abc-123_x");
    cr_expect_not_null(json_string_value(json_object_get(json_object_get(j, "error"), "message")));
    cr_expect_not_null(strcasestr(head.data, "x-request-id: abc-123_x"), "%s", head.data);
    cr_expect_not_null(strcasestr(head.data, "content-type: application/json"), "%s", head.data);
    json_decref(j);
    cr_expect_eq(atomic_load(&handler_calls), 0);

    /* Exactly at the limit is fine, and the server still answers on a fresh connection. */
    reset(&body, &head);
    cr_assert_eq(perform(c, u, big, 1000, NULL, &body, &head), 201);
    j = parse(&body);
    cr_expect_eq(strlen(json_string_value(json_object_get(j, "body"))), 1000);
    json_decref(j);
    reset(&body, &head);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(big);
    http_server_stop(s);
}

Test(http, chunked_body_over_limit_is_413) {
    struct http_server *s = start(100);
    char u[128];
    url(u, sizeof u, s, "/echo");
    char big[300];
    memset(big, 'b', sizeof big);
    CURL *c = curl_easy_init();
    struct th_body body = {0}, head = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    cr_assert_eq(perform(c, u, big, sizeof big, h, &body, &head), 413);
    cr_expect_not_null(strcasestr(head.data, "x-request-id: "), "%s", head.data);
    cr_expect_eq(atomic_load(&handler_calls), 0);
    reset(&body, &head);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    http_server_stop(s);
}

Test(http, headers_query_and_body_reach_the_handler) {
    struct http_server *s = start(1024);
    char u[128];
    url(u, sizeof u, s, "/echo?a=1&b=x%20y");
    CURL *c = curl_easy_init();
    struct th_body body = {0}, head = {0};
    struct curl_slist *h = curl_slist_append(NULL, "X-Test: hello");
    cr_assert_eq(perform(c, u, "{\"k\":1}", 7, h, &body, &head), 201);
    json_t *j = parse(&body);
    cr_expect_str_eq(json_string_value(json_object_get(j, "method")), "POST");
    cr_expect_str_eq(json_string_value(json_object_get(j, "path")), "/echo");
    cr_expect_str_eq(json_string_value(json_object_get(j, "a")), "1");
    cr_expect_str_eq(json_string_value(json_object_get(j, "b")), "x y");
    cr_expect_str_eq(json_string_value(json_object_get(j, "x_test")), "hello");
    cr_expect_str_eq(json_string_value(json_object_get(j, "body")), "{\"k\":1}");
    cr_expect_str_eq(json_string_value(json_object_get(j, "client")), "127.0.0.1");
    cr_expect_not_null(strcasestr(head.data, "x-reply: yes"), "%s", head.data);
    cr_expect_not_null(strcasestr(head.data, "content-type: application/json"), "%s", head.data);
    json_decref(j);

    /* Absent query and header arrive as NULL. */
    reset(&body, &head);
    url(u, sizeof u, s, "/echo");
    cr_assert_eq(perform(c, u, NULL, 0, NULL, &body, &head), 201);
    j = parse(&body);
    cr_expect(json_is_null(json_object_get(j, "a")));
    cr_expect(json_is_null(json_object_get(j, "x_test")));
    cr_expect_str_eq(json_string_value(json_object_get(j, "body")), "");
    json_decref(j);
    reset(&body, &head);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    http_server_stop(s);
}

Test(http, text_empty_and_content_types) {
    struct http_server *s = start(1024);
    char u[128];
    CURL *c = curl_easy_init();
    struct th_body body = {0}, head = {0};
    url(u, sizeof u, s, "/text");
    cr_assert_eq(perform(c, u, NULL, 0, NULL, &body, &head), 200);
    cr_expect_str_eq(body.data, "hello");
    cr_expect_not_null(strcasestr(head.data, "content-type: text/plain"), "%s", head.data);
    reset(&body, &head);
    url(u, sizeof u, s, "/empty");
    cr_assert_eq(perform(c, u, NULL, 0, NULL, &body, &head), 204);
    cr_expect_eq(body.len, 0);
    reset(&body, &head);
    url(u, sizeof u, s, "/nothing");
    cr_assert_eq(perform(c, u, NULL, 0, NULL, &body, &head), 404);
    reset(&body, &head);
    curl_easy_cleanup(c);
    http_server_stop(s);
}

Test(http, streaming_response_parks_and_resumes) {
    struct http_server *s = start(1024);
    char u[128];
    url(u, sizeof u, s, "/stream");
    CURL *c = curl_easy_init();
    struct th_body body = {0}, head = {0};
    cr_assert_eq(perform(c, u, NULL, 0, NULL, &body, &head), 200);
    cr_expect_str_eq(body.data, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    cr_expect_not_null(strcasestr(head.data, "content-type: text/event-stream"), "%s", head.data);
    cr_expect_not_null(strcasestr(head.data, "transfer-encoding: chunked"), "%s", head.data);
    /* The connection survives a finished chunked stream. */
    reset(&body, &head);
    url(u, sizeof u, s, "/text");
    cr_assert_eq(perform(c, u, NULL, 0, NULL, &body, &head), 200);
    long connects = -1;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
    cr_expect_eq(connects, 0);
    reset(&body, &head);
    curl_easy_cleanup(c);
    http_server_stop(s);
    cr_expect_eq(atomic_load(&streams_freed), 1);
}

/* A stream that never has anything: the server must still stop cleanly and free it. */
static ssize_t never_read(void *ctx, uint64_t pos, char *buf, size_t max) {
    (void)ctx, (void)pos, (void)buf, (void)max;
    return 0;
}

static void never_handler(void *ctx, const struct http_request *req, struct http_response *res) {
    (void)ctx, (void)req;
    res->stream = never_read;
    res->stream_ctx = calloc(1, 8);
    res->stream_free = count_free;
}

struct client_arg {
    int port;
    long status;
};

static size_t ignore(char *d, size_t s, size_t n, void *u) {
    (void)d, (void)u;
    return s * n;
}

static void *client_thread(void *arg) {
    struct client_arg *a = arg;
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", a->port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(c);
    return NULL;
}

Test(http, quiesce_ends_parked_streams_and_refuses_new_connections) {
    struct http_server_config cfg = {.addr = "127.0.0.1", .threads = 2, .max_body = 10, .timeout_s = 5};
    struct http_server *s = NULL;
    struct err e = {0};
    cr_assert_eq(http_server_start(&cfg, never_handler, NULL, &s, &e), ERR_OK, "%s", e.msg);
    struct client_arg a = {.port = http_server_port(s)};
    pthread_t t;
    pthread_create(&t, NULL, client_thread, &a);
    usleep(200 * 1000);
    cr_expect_eq(http_server_wait_idle(s, 50), false, "a stream is in flight");
    http_server_quiesce(s);
    cr_expect(http_server_wait_idle(s, 2000));
    pthread_join(t, NULL);
    cr_expect_eq(a.status, 200);
    cr_expect_eq(atomic_load(&streams_freed), 1);

    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", a.port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    /* Refused at once, not left hanging in the listen backlog. */
    cr_expect_eq(curl_easy_perform(c), CURLE_COULDNT_CONNECT, "quiesced server took a connection");
    curl_easy_cleanup(c);
    http_server_stop(s);
}

Test(http, free_with_parked_stream) {
    struct http_server_config cfg = {.addr = "127.0.0.1", .threads = 1, .max_body = 10, .timeout_s = 5};
    struct http_server *s = NULL;
    struct err e = {0};
    cr_assert_eq(http_server_start(&cfg, never_handler, NULL, &s, &e), ERR_OK, "%s", e.msg);
    struct client_arg a = {.port = http_server_port(s)};
    pthread_t t;
    pthread_create(&t, NULL, client_thread, &a);
    usleep(200 * 1000);
    http_server_stop(s);
    pthread_join(t, NULL);
    cr_expect_eq(atomic_load(&streams_freed), 1);
}

Test(http, bad_config_and_busy_port) {
    struct http_server *s = NULL, *s2 = NULL;
    struct err e = {0};
    struct http_server_config bad = {.addr = "localhost", .threads = 1, .max_body = 10};
    cr_expect_eq(http_server_start(&bad, handler, NULL, &s, &e), ERR_INVALID);
    cr_expect_null(s);
    bad.addr = "127.0.0.1";
    bad.threads = 0;
    cr_expect_eq(http_server_start(&bad, handler, NULL, &s, &e), ERR_INVALID);
    s = start(10);
    struct http_server_config same = {.addr = "127.0.0.1", .port = http_server_port(s), .threads = 1, .max_body = 10};
    cr_expect_eq(http_server_start(&same, handler, NULL, &s2, &e), ERR_UNAVAILABLE);
    http_server_stop(s);
    http_server_stop(NULL);
}

Test(http, ipv6_loopback) {
    struct http_server_config cfg = {.addr = "::1", .threads = 1, .max_body = 10, .timeout_s = 5};
    struct http_server *s = NULL;
    struct err e = {0};
    if (http_server_start(&cfg, handler, NULL, &s, &e) != ERR_OK)
        cr_skip_test("no IPv6 loopback here: %s", e.msg);
    char u[128];
    snprintf(u, sizeof u, "http://[::1]:%d/text", http_server_port(s));
    CURL *c = curl_easy_init();
    struct th_body body = {0}, head = {0};
    cr_expect_eq(perform(c, u, NULL, 0, NULL, &body, &head), 200);
    reset(&body, &head);
    curl_easy_cleanup(c);
    http_server_stop(s);
}
