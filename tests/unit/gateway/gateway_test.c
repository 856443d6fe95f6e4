/* The gateway's pure parts (status mapping, routing, request ids, listen address) table-driven,
 * then the dispatch through a real lib/http server with no NATS connection: probes, 404/405,
 * X-Request-Id on every answer, and the error body of a failed bus call. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

Test(gateway_status, every_code_has_its_status) {
    static const struct {
        err_code code;
        int status;
    } table[] = {
        {ERR_OK, 200},           {ERR_INVALID, 400},        {ERR_UNAUTHENTICATED, 401}, {ERR_OTP_REQUIRED, 401},
        {ERR_FORBIDDEN, 403},    {ERR_NOT_FOUND, 404},      {ERR_CONFLICT, 409},        {ERR_TOO_LARGE, 413},
        {ERR_THROTTLED, 429},    {ERR_INTERNAL, 500},       {ERR_UNSUPPORTED, 501},     {ERR_UNAVAILABLE, 503},
        {ERR_NO_RESPONDERS, 503}, {ERR_TIMEOUT, 504},       {ERR__COUNT, 500},          {(err_code)999, 500},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        cr_expect_eq(gateway_http_status(table[i].code), table[i].status, "code %d", (int)table[i].code);
    /* Every real code is covered by the table above. */
    cr_expect_eq(ERR__COUNT, 14);
}

static void h_a(struct gateway *g, const struct gateway_req *r, struct http_response *res) { (void)g, (void)r, (void)res; }
static void h_b(struct gateway *g, const struct gateway_req *r, struct http_response *res) { (void)g, (void)r, (void)res; }
static void h_c(struct gateway *g, const struct gateway_req *r, struct http_response *res) { (void)g, (void)r, (void)res; }
static void h_d(struct gateway *g, const struct gateway_req *r, struct http_response *res) { (void)g, (void)r, (void)res; }

static const struct gateway_route routes[] = {
    {"GET", "/v1/products", h_a, GATEWAY_PUBLIC, 0, 0, false, NULL},
    {"POST", "/v1/products", h_b, GATEWAY_PUBLIC, 0, 0, false, NULL},
    {"GET", "/v1/products/{id}", h_c, GATEWAY_PUBLIC, 0, 0, false, NULL},
    {"DELETE", "/v1/products/{id}/versions/{version}", h_d, GATEWAY_PUBLIC, 0, 0, false, NULL},
    {"GET", "/", h_a, GATEWAY_PUBLIC, 0, 0, false, NULL},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

Test(gateway_routes, table_driven_matching) {
    static const struct {
        const char *method, *path;
        enum gateway_match want;
        gateway_handler_fn fn;
        const char *allow;
    } cases[] = {
        {"GET", "/v1/products", GATEWAY_MATCHED, h_a, ""},
        {"HEAD", "/v1/products", GATEWAY_MATCHED, h_a, ""},
        {"POST", "/v1/products", GATEWAY_MATCHED, h_b, ""},
        {"PUT", "/v1/products", GATEWAY_NO_METHOD, NULL, "GET, HEAD, POST"},
        {"GET", "/v1/products/abc", GATEWAY_MATCHED, h_c, ""},
        {"POST", "/v1/products/abc", GATEWAY_NO_METHOD, NULL, "GET, HEAD"},
        {"GET", "/v1/products/", GATEWAY_NO_PATH, NULL, ""},
        {"GET", "/v1/products/abc/", GATEWAY_NO_PATH, NULL, ""},
        {"GET", "/v1/products/a/b", GATEWAY_NO_PATH, NULL, ""},
        {"GET", "/v1/product", GATEWAY_NO_PATH, NULL, ""},
        {"GET", "/v1/productsx", GATEWAY_NO_PATH, NULL, ""},
        {"GET", "/v1", GATEWAY_NO_PATH, NULL, ""},
        {"DELETE", "/v1/products/p1/versions/3", GATEWAY_MATCHED, h_d, ""},
        {"GET", "/v1/products/p1/versions/3", GATEWAY_NO_METHOD, NULL, "DELETE"},
        {"GET", "/", GATEWAY_MATCHED, h_a, ""},
        {"GET", "", GATEWAY_NO_PATH, NULL, ""},
        {"GET", "//", GATEWAY_NO_PATH, NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct gateway_route *route = NULL;
        struct gateway_params params = {0};
        char allow[64] = "junk";
        enum gateway_match m = gateway_route_match(routes, N_ROUTES, cases[i].method, cases[i].path, &route, &params,
                                                   allow, sizeof allow);
        cr_expect_eq(m, cases[i].want, "%s %s: got %d", cases[i].method, cases[i].path, m);
        if (m == GATEWAY_MATCHED)
            cr_expect_eq(route->fn, cases[i].fn, "%s %s: wrong handler", cases[i].method, cases[i].path);
        cr_expect_str_eq(allow, cases[i].allow, "%s %s", cases[i].method, cases[i].path);
    }
}

Test(gateway_routes, parameters_are_captured) {
    const struct gateway_route *route = NULL;
    struct gateway_params params = {0};
    cr_assert_eq(gateway_route_match(routes, N_ROUTES, "DELETE", "/v1/products/p-1/versions/2.0", &route, &params,
                                     NULL, 0),
                 GATEWAY_MATCHED);
    cr_expect_eq(params.n, 2);
    cr_expect_str_eq(gateway_param(&params, "id"), "p-1");
    cr_expect_str_eq(gateway_param(&params, "version"), "2.0");
    cr_expect_null(gateway_param(&params, "other"));
    /* A segment too long for the parameter buffer does not match rather than truncate. */
    char path[300] = "/v1/products/";
    memset(path + strlen(path), 'x', 200);
    cr_expect_eq(gateway_route_match(routes, N_ROUTES, "GET", path, &route, &params, NULL, 0), GATEWAY_NO_PATH);
}

Test(gateway_routes, the_real_table_is_sane) {
    const struct gateway_route *route = NULL;
    struct gateway_params params;
    char allow[64];
    cr_expect_eq(gateway_route_match(gateway_routes, gateway_routes_count, "GET", "/healthz", &route, &params, allow,
                                     sizeof allow),
                 GATEWAY_MATCHED);
    cr_expect_eq(route->fn, gateway_get_healthz);
    cr_expect_eq(gateway_route_match(gateway_routes, gateway_routes_count, "GET", "/v1/regions", &route, &params,
                                     allow, sizeof allow),
                 GATEWAY_MATCHED);
    cr_expect_eq(route->fn, gateway_get_regions);
    cr_expect_eq(gateway_route_match(gateway_routes, gateway_routes_count, "POST", "/readyz", &route, &params, allow,
                                     sizeof allow),
                 GATEWAY_NO_METHOD);
    cr_expect_str_eq(allow, "GET, HEAD");
    /* No two routes share method and pattern. */
    for (size_t i = 0; i < gateway_routes_count; i++)
        for (size_t j = i + 1; j < gateway_routes_count; j++)
            cr_expect(strcmp(gateway_routes[i].method, gateway_routes[j].method) ||
                          strcmp(gateway_routes[i].pattern, gateway_routes[j].pattern),
                      "duplicate route %s %s", gateway_routes[i].method, gateway_routes[i].pattern);
}

Test(gateway_request_id, sane_tokens_are_kept_others_replaced) {
    static const struct {
        const char *given;
        bool ok;
    } cases[] = {
        {"abc", true},
        {"A-b_9", true},
        {"0123456789012345678901234567890123456789012345678901234567890123", true}, /* 64 */
        {"01234567890123456789012345678901234567890123456789012345678901234", false}, /* 65 */
        {"", false},
        {NULL, false},
        {"a b", false},
        {"a\nb", false},
        {"a;b", false},
        {"é", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_expect_eq(gateway_request_id_ok(cases[i].given), cases[i].ok, "'%s'", cases[i].given ? cases[i].given : "NULL");
        char out[GATEWAY_REQUEST_ID_MAX + 1];
        gateway_request_id(cases[i].given, out);
        if (cases[i].ok)
            cr_expect_str_eq(out, cases[i].given);
        else
            cr_expect_eq(strlen(out), 36, "fresh UUID expected for '%s', got '%s'", cases[i].given, out);
    }
}

Test(gateway_addr, host_port_parsing) {
    static const struct {
        const char *addr;
        bool ok;
        const char *host;
        int port;
    } cases[] = {
        {"127.0.0.1:8080", true, "127.0.0.1", 8080},
        {"0.0.0.0:0", true, "0.0.0.0", 0},
        {"[::1]:443", true, "::1", 443},
        {"127.0.0.1:65535", true, "127.0.0.1", 65535},
        {"127.0.0.1:65536", false, NULL, 0},
        {"127.0.0.1:", false, NULL, 0},
        {"127.0.0.1", false, NULL, 0},
        {":8080", false, NULL, 0},
        {"127.0.0.1:80a", false, NULL, 0},
        {"[::1]443", false, NULL, 0},
        {"[::1", false, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char host[64] = "";
        int port = -1;
        struct err e = {0};
        err_code rc = gateway_parse_addr(cases[i].addr, host, sizeof host, &port, &e);
        cr_expect_eq(rc == ERR_OK, cases[i].ok, "%s: %s", cases[i].addr, e.msg);
        if (cases[i].ok) {
            cr_expect_str_eq(host, cases[i].host);
            cr_expect_eq(port, cases[i].port);
        } else {
            cr_expect_eq(rc, ERR_INVALID);
            cr_expect_eq(port, -1, "out-parameter written on failure");
        }
    }
}

/* ---- dispatch through a real server, without NATS ---- */

static void start(void) {
    gw_fixture_start(64, false, 0, 0);
}

static void stop(void) {
    gw_fixture_stop();
}

/* Returns the status; *body and *head are malloc'd (caller frees). */
static long call(const char *method, const char *path, const char *rid, char **body, char **head) {
    char line[128] = "";
    if (rid)
        snprintf(line, sizeof line, "X-Request-Id: %s", rid);
    const char *hdrs[] = {rid ? line : NULL, NULL};
    return gw_request(method, path, hdrs, NULL, body, head);
}

static json_t *error_of(const char *body) {
    json_t *j = json_loads(body, 0, NULL);
    cr_assert_not_null(j, "not JSON: %s", body);
    json_t *err = json_object_get(j, "error");
    cr_assert(json_is_object(err), "%s", body);
    json_incref(err);
    json_decref(j);
    return err;
}

Test(gateway_dispatch, healthz_and_request_ids, .init = start, .fini = stop) {
    char *body, *head, v[128];
    cr_assert_eq(call("GET", "/healthz", "given-id_1", &body, &head), 200);
    cr_expect_str_eq(body, "{\"status\":\"ok\"}");
    cr_expect_str_eq(gw_header(head, "X-Request-Id", v, sizeof v), "given-id_1");
    cr_expect_str_eq(gw_header(head, "Content-Type", v, sizeof v), "application/json");
    free(body), free(head);

    cr_assert_eq(call("GET", "/healthz", "bad id!", &body, &head), 200);
    cr_expect_eq(strlen(gw_header(head, "X-Request-Id", v, sizeof v)), 36, "%s", v);
    free(body), free(head);

    cr_assert_eq(call("HEAD", "/healthz", NULL, &body, &head), 200);
    cr_expect_eq(strlen(gw_header(head, "X-Request-Id", v, sizeof v)), 36, "%s", v);
    free(body), free(head);
}

Test(gateway_dispatch, unknown_path_404_and_wrong_method_405, .init = start, .fini = stop) {
    char *body, *head, v[128];
    cr_assert_eq(call("GET", "/nowhere", "r404", &body, &head), 404);
    json_t *e = error_of(body);
    cr_expect_str_eq(json_string_value(json_object_get(e, "code")), "not_found");
    cr_expect_str_eq(json_string_value(json_object_get(e, "request_id")), "r404");
    cr_expect(json_is_string(json_object_get(e, "message")));
    cr_expect_str_eq(gw_header(head, "X-Request-Id", v, sizeof v), "r404");
    json_decref(e);
    free(body), free(head);

    cr_assert_eq(call("DELETE", "/v1/regions", "r405", &body, &head), 405);
    e = error_of(body);
    cr_expect_str_eq(json_string_value(json_object_get(e, "code")), "method_not_allowed");
    cr_expect_str_eq(json_string_value(json_object_get(e, "request_id")), "r405");
    cr_expect_str_eq(gw_header(head, "Allow", v, sizeof v), "GET, HEAD");
    json_decref(e);
    free(body), free(head);
}

Test(gateway_dispatch, without_nats_readyz_is_503_and_regions_unavailable, .init = start, .fini = stop) {
    char *body, *head, v[128];
    cr_assert_eq(call("GET", "/readyz", NULL, &body, &head), 503);
    json_t *j = json_loads(body, 0, NULL);
    cr_assert_not_null(j, "%s", body);
    cr_expect_str_eq(json_string_value(json_object_get(j, "status")), "not_ready");
    cr_expect_str_eq(json_string_value(json_object_get(j, "nats")), "disconnected");
    json_t *svcs = json_object_get(j, "services");
    cr_expect_eq(json_object_size(svcs), 5);
    const char *names[] = {"identity", "catalog", "publisher", "billing", "notifier"};
    for (int i = 0; i < 5; i++) {
        json_t *s = json_object_get(svcs, names[i]);
        cr_expect_str_eq(json_string_value(json_object_get(s, "state")), "down", "%s", names[i]);
        cr_expect_str_eq(json_string_value(json_object_get(s, "error")), "unavailable", "%s", names[i]);
    }
    cr_expect_str_eq(gw_header(head, "Cache-Control", v, sizeof v), "no-store");
    json_decref(j);
    free(body), free(head);

    cr_assert_eq(call("GET", "/v1/regions", "rr", &body, &head), 503);
    json_t *e = error_of(body);
    cr_expect_str_eq(json_string_value(json_object_get(e, "code")), "unavailable");
    cr_expect_str_eq(json_string_value(json_object_get(e, "request_id")), "rr");
    cr_expect_null(gw_header(head, "Cache-Control", v, sizeof v), "errors must not be cached publicly");
    json_decref(e);
    free(body), free(head);
}

Test(gateway_errors, internal_reasons_are_not_leaked) {
    struct http_response res = {0};
    struct gateway_req r = {.request_id = "x1"};
    gateway_error(&res, &r, ERR_INTERNAL, "pq: relation catalog.secret does not exist");
    cr_expect_eq(res.status, 500);
    cr_expect_null(strstr(res.body, "secret"), "%s", res.body);
    cr_expect_not_null(strstr(res.body, "\"request_id\":\"x1\""), "%s", res.body);
    free(res.body);
    res = (struct http_response){0};
    gateway_error(&res, &r, ERR_INVALID, "name: required");
    cr_expect_eq(res.status, 400);
    cr_expect_str_eq(res.body, "{\"error\":{\"code\":\"invalid\",\"message\":\"name: required\",\"request_id\":\"x1\"}}");
    free(res.body);
}
