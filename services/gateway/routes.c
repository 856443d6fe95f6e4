/* How the gateway turns an HTTP request into a handler call: the route table, path matching with
 * {name} parameters, the single err_code -> HTTP status mapping, request ids, the error body,
 * and the dispatch function that lib/http calls for every request (which also writes the one
 * access-log line). Everything but gateway_dispatch is pure. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "gateway.h"
#include "id.h"
#include "log.h"

/* Columns after the handler: who may call (see gateway.h, struct gateway_route). */
#define PUBLIC GATEWAY_PUBLIC
#define SESSION GATEWAY_SESSION
#define OPERATOR GATEWAY_OPERATOR
#define NO_ORG 0u                 /* no organization needed */
#define ORG GATEWAY_ORG_ANY       /* a member of an organization of any type */
#define ANY_ROLE 0u
#define ADMIN GATEWAY_ROLE_ADMIN
#define PENDING_OK false          /* ORG-3: pending organizations may call it */
#define VALIDATED true
#define SELLER GATEWAY_ORG_SELLER

/* A generic route's call (rpc.c): service, method, request and reply messages, success status. */
#define CALL(svc, method, in, out, status)                                                                             \
    (&(const struct gateway_rpc){svc, method, &mkt__catalog__##in##__descriptor, &mkt__catalog__##out##__descriptor,  \
                                 status, NULL})
/* The same for an identity method. */
#define ICALL(method, in, out, status)                                                                                 \
    (&(const struct gateway_rpc){"identity", method, &mkt__identity__##in##__descriptor,                            \
                                 &mkt__identity__##out##__descriptor, status, NULL})
#define RPC gateway_rpc_route

/* clang-format off */
const struct gateway_route gateway_routes[] = {
    {"GET",    "/healthz",                                 gateway_get_healthz,                PUBLIC,   NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"GET",    "/readyz",                                  gateway_get_readyz,                 PUBLIC,   NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"GET",    "/v1/regions",                              gateway_get_regions,                PUBLIC,   NO_ORG, ANY_ROLE, PENDING_OK, NULL},

    /* signup, passwords, sessions */
    {"POST",   "/v1/signup",                               gateway_post_signup,                PUBLIC,   NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/password/set",                         gateway_post_password_set,          PUBLIC,   NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/password/reset",                       gateway_post_password_reset,        PUBLIC,   NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/password/forgot",                      gateway_post_password_forgot,       PUBLIC,   NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/sessions",                             gateway_post_sessions,              PUBLIC,   NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"DELETE", "/v1/sessions/current",                     gateway_delete_session,             SESSION,  NO_ORG, ANY_ROLE, PENDING_OK, NULL},

    /* the logged-in account (operators included) */
    {"GET",    "/v1/me",                                   gateway_get_me,                     SESSION,  NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"PUT",    "/v1/me/password",                          gateway_put_me_password,            SESSION,  NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/me/2fa",                               gateway_post_me_2fa,                SESSION,  NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/me/2fa/confirm",                       gateway_post_me_2fa_confirm,        SESSION,  NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"DELETE", "/v1/me/2fa",                               gateway_delete_me_2fa,              SESSION,  NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/me/certificate",                       gateway_post_me_certificate,        SESSION,  NO_ORG, ANY_ROLE, PENDING_OK, NULL},

    /* the caller's organization */
    {"GET",    "/v1/organization",                         gateway_get_organization,           SESSION,  ORG,    ANY_ROLE, PENDING_OK, NULL},
    {"PATCH",  "/v1/organization",                         gateway_patch_organization,         SESSION,  ORG,    ADMIN,    PENDING_OK, NULL},
    {"GET",    "/v1/organization/accounts",                gateway_get_accounts,               SESSION,  ORG,    ADMIN,    PENDING_OK, NULL},
    {"POST",   "/v1/organization/accounts",                gateway_post_accounts,              SESSION,  ORG,    ADMIN,    PENDING_OK, NULL},
    {"PATCH",  "/v1/organization/accounts/{id}",           gateway_patch_account,              SESSION,  ORG,    ADMIN,    PENDING_OK, NULL},
    {"DELETE", "/v1/organization/accounts/{id}",           gateway_delete_account,             SESSION,  ORG,    ADMIN,    PENDING_OK, NULL},
    {"GET",    "/v1/organization/outscale-accounts",       gateway_get_outscale_accounts,      SESSION,  ORG,    ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/organization/outscale-accounts",       gateway_post_outscale_accounts,     SESSION,  ORG,    ADMIN,    PENDING_OK, NULL},
    {"POST",   "/v1/organization/outscale-accounts/{id}/test", RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, ICALL("test_outscale_account", id_request, account_test, 200)},
    {"DELETE", "/v1/organization/outscale-accounts/{id}",  gateway_delete_outscale_account,    SESSION,  ORG,    ADMIN,    PENDING_OK, NULL},

    /* the public catalog's reference data */
    {"GET",    "/v1/categories",                           RPC, PUBLIC,  NO_ORG, ANY_ROLE, PENDING_OK, CALL("catalog", "list_categories", empty, category_list, 200)},

    /* sellers: showcase (SHOW-1, SHOW-2) */
    {"GET",    "/v1/showcase",                             RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "get_showcase", empty, showcase, 200)},
    {"PUT",    "/v1/showcase",                             RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "put_showcase", put_showcase, showcase, 200)},
    {"POST",   "/v1/showcase/publish",                     RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "publish_showcase", publish_request, checklist, 200)},

    /* sellers: products and offers (PROD-1..9); pending organizations prepare (ORG-3) and are told why they cannot publish */
    {"GET",    "/v1/products",                             RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "list_products", list_request, product_list, 200)},
    {"POST",   "/v1/products",                             RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "create_product", product_request, product, 201)},
    {"GET",    "/v1/products/{id}",                        RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "get_product", id_request, product, 200)},
    {"PATCH",  "/v1/products/{id}",                        RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "update_product", product_request, product, 200)},
    {"DELETE", "/v1/products/{id}",                        RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "delete_product", id_request, empty, 204)},
    {"POST",   "/v1/products/{id}/publish",                RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "publish_product", publish_request, checklist, 202)},
    {"POST",   "/v1/products/{id}/unpublish",              RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "unpublish_product", id_request, product, 202)},
    {"GET",    "/v1/products/{id}/offers",                 RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "list_offers", id_request, offer_list, 200)},
    {"POST",   "/v1/products/{id}/offers",                 RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "create_offer", offer_request, offer, 201)},
    {"PATCH",  "/v1/products/{id}/offers/{offer_id}",      RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "update_offer", offer_request, offer, 200)},
    {"DELETE", "/v1/products/{id}/offers/{offer_id}",      RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "delete_offer", id_request, empty, 204)},

    /* sellers: versions (VER-1..9) */
    {"GET",    "/v1/products/{id}/versions",               RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "list_versions", list_request, version_list, 200)},
    {"POST",   "/v1/products/{id}/versions",               RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "create_version", version_request, version, 201)},
    {"GET",    "/v1/products/{id}/source-omis",            RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "list_source_omis", id_request, source_omi_list, 200)},
    {"GET",    "/v1/products/{id}/versions/{version_id}",  RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "get_version", id_request, version, 200)},
    {"PATCH",  "/v1/products/{id}/versions/{version_id}",  RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "update_version", version_request, version, 200)},
    {"POST",   "/v1/products/{id}/versions/{version_id}/publish",   RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "publish_version", publish_request, checklist, 202)},
    {"POST",   "/v1/products/{id}/versions/{version_id}/unpublish", RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "unpublish_version", id_request, version, 202)},

    /* sellers: terms of use (PUB-3) */
    {"GET",    "/v1/terms",                                RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "list_terms", empty, terms_list, 200)},
    {"POST",   "/v1/terms",                                RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "create_terms", terms_request, terms, 201)},
    {"PATCH",  "/v1/terms/{id}",                           RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "update_terms", terms_request, terms, 200)},
    {"POST",   "/v1/terms/{id}/activate",                  RPC, SESSION, SELLER, ANY_ROLE, PENDING_OK, CALL("catalog", "activate_terms", id_request, terms, 200)},

    /* marketplace operators */
    {"GET",    "/v1/operator/organizations",               gateway_get_operator_organizations, OPERATOR, NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"GET",    "/v1/operator/organizations/{id}",          gateway_get_operator_organization,  OPERATOR, NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"POST",   "/v1/operator/organizations/{id}/validate", gateway_post_operator_validate,     OPERATOR, NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"PUT",    "/v1/operator/organizations/{id}/ugap",     gateway_put_operator_ugap,          OPERATOR, NO_ORG, ANY_ROLE, PENDING_OK, NULL},
    {"GET",    "/v1/operator/reviews",                     RPC, OPERATOR, NO_ORG, ANY_ROLE, PENDING_OK, CALL("catalog", "list_reviews", list_request, review_list, 200)},
    {"POST",   "/v1/operator/reviews/{id}/approve",        RPC, OPERATOR, NO_ORG, ANY_ROLE, PENDING_OK, CALL("catalog", "approve_review", review_decision, review, 200)},
    {"POST",   "/v1/operator/reviews/{id}/reject",         RPC, OPERATOR, NO_ORG, ANY_ROLE, PENDING_OK, CALL("catalog", "reject_review", review_decision, review, 200)},
    {"GET",    "/v1/operator/mails",                       gateway_get_operator_mails,         OPERATOR, NO_ORG, ANY_ROLE, PENDING_OK, NULL},
};
/* clang-format on */
const size_t gateway_routes_count = sizeof gateway_routes / sizeof gateway_routes[0];

int gateway_http_status(err_code code) {
    switch (code) {
    case ERR_OK: return 200;
    case ERR_INVALID: return 400;
    case ERR_UNAUTHENTICATED: return 401;
    case ERR_OTP_REQUIRED: return 401;
    case ERR_FORBIDDEN: return 403;
    case ERR_NOT_FOUND: return 404;
    case ERR_CONFLICT: return 409;
    case ERR_TOO_LARGE: return 413;
    case ERR_THROTTLED: return 429;
    case ERR_UNSUPPORTED: return 501;
    case ERR_UNAVAILABLE: return 503;
    case ERR_NO_RESPONDERS: return 503;
    case ERR_TIMEOUT: return 504;
    case ERR_INTERNAL: return 500;
    case ERR__COUNT: break;
    }
    return 500;
}

/* Matches one pattern against a path segment by segment; fills params on success. */
static bool pattern_match(const char *pattern, const char *path, struct gateway_params *params) {
    struct gateway_params got = {0};
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++, s++;
        size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (slen == 0 || got.n >= GATEWAY_MAX_PARAMS || plen - 2 >= sizeof got.p[0].name ||
                slen >= sizeof got.p[0].value)
                return false;
            snprintf(got.p[got.n].name, sizeof got.p[0].name, "%.*s", (int)(plen - 2), p + 1);
            snprintf(got.p[got.n].value, sizeof got.p[0].value, "%.*s", (int)slen, s);
            got.n++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return false;
        }
        p += plen, s += slen;
    }
    if (*p || *s)
        return false;
    if (params)
        *params = got;
    return true;
}

enum gateway_match gateway_route_match(const struct gateway_route *routes, size_t n, const char *method,
                                       const char *path, const struct gateway_route **route,
                                       struct gateway_params *params, char *allow, size_t allow_size) {
    bool path_known = false;
    size_t used = 0;
    if (allow && allow_size)
        allow[0] = '\0';
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; i < n; i++) {
        if (!pattern_match(routes[i].pattern, path, NULL))
            continue;
        if (strcmp(routes[i].method, want) == 0) {
            pattern_match(routes[i].pattern, path, params);
            *route = &routes[i];
            if (allow && allow_size)
                allow[0] = '\0';
            return GATEWAY_MATCHED;
        }
        path_known = true;
        if (allow && used < allow_size && !strstr(allow, routes[i].method)) {
            /* HEAD is answered wherever GET is (RFC 9110), so Allow says so. */
            bool get = strcmp(routes[i].method, "GET") == 0;
            int w = snprintf(allow + used, allow_size - used, "%s%s%s", used ? ", " : "", routes[i].method,
                             get ? ", HEAD" : "");
            used += w > 0 ? (size_t)w : 0;
        }
    }
    return path_known ? GATEWAY_NO_METHOD : GATEWAY_NO_PATH;
}

const char *gateway_param(const struct gateway_params *params, const char *name) {
    for (int i = 0; i < params->n; i++)
        if (strcmp(params->p[i].name, name) == 0)
            return params->p[i].value;
    return NULL;
}

bool gateway_request_id_ok(const char *given) {
    if (!given || !*given)
        return false;
    for (size_t i = 0; given[i]; i++) {
        char c = given[i];
        if (i >= GATEWAY_REQUEST_ID_MAX)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

void gateway_request_id(const char *given, char out[GATEWAY_REQUEST_ID_MAX + 1]) {
    if (gateway_request_id_ok(given))
        snprintf(out, GATEWAY_REQUEST_ID_MAX + 1, "%s", given);
    else
        id_uuid(out);
}

err_code gateway_parse_addr(const char *addr, char *host, size_t host_size, int *port, struct err *e) {
    const char *colon = NULL, *h = addr;
    size_t hlen;
    if (!addr)
        return err_set(e, ERR_INVALID, "address: missing");
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return err_set(e, ERR_INVALID, "address '%s': expected [v6]:port", addr);
        h = addr + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return err_set(e, ERR_INVALID, "address '%s': expected host:port", addr);
        hlen = (size_t)(colon - addr);
    }
    if (hlen == 0 || hlen >= host_size)
        return err_set(e, ERR_INVALID, "address '%s': bad host", addr);
    const char *p = colon + 1;
    long v = 0;
    if (!*p)
        return err_set(e, ERR_INVALID, "address '%s': missing port", addr);
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || (v = v * 10 + (*p - '0')) > 65535)
            return err_set(e, ERR_INVALID, "address '%s': port must be 0..65535", addr);
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)v;
    return ERR_OK;
}

void gateway_error_status(struct http_response *res, const struct gateway_req *r, int status, const char *code,
                          const char *message) {
    http_response_json(res, status,
                       json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "message", message ? message : "",
                                 "request_id", r ? r->request_id : ""));
}

void gateway_error_problems(struct http_response *res, const struct gateway_req *r, err_code code,
                            const char *message, const struct problems *p) {
    if (code == ERR_OK || code >= ERR__COUNT)
        code = ERR_INTERNAL;
    /* Internal reasons stay in the log: they may name tables, hosts or bugs. */
    if (code == ERR_INTERNAL)
        message = "internal error";
    json_t *body = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", err_code_name(code), "message",
                             message ? message : "", "request_id", r ? r->request_id : "");
    if (body && p && problems_any(p)) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < p->n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s}", "field", p->items[i].field, "rule", p->items[i].rule));
        json_object_set_new(json_object_get(body, "error"), "problems", arr);
    }
    http_response_json(res, gateway_http_status(code), body);
}

void gateway_error(struct http_response *res, const struct gateway_req *r, err_code code, const char *message) {
    gateway_error_problems(res, r, code, message, NULL);
}

err_code gateway_check_param(const char *name, const char *value, struct err *e) {
    size_t n = strlen(name);
    if (strcmp(name, "id") == 0 || (n > 3 && strcmp(name + n - 3, "_id") == 0)) {
        if (!id_is_uuid(value))
            return err_set(e, ERR_INVALID, "path parameter '%s': must be a UUID", name);
        return ERR_OK;
    }
    return err_set(e, ERR_INTERNAL, "path parameter '%s': no rule for it", name);
}

void gateway_fail(struct http_response *res, const struct gateway_req *r, const char *what, err_code code,
                  const struct err *e) {
    gateway_fail_problems(res, r, what, code, e, NULL);
}

void gateway_fail_problems(struct http_response *res, const struct gateway_req *r, const char *what, err_code code,
                           const struct err *e, const struct problems *p) {
    /* The platform's failures are worth a line; 501 is an answer, not a failure. */
    if (gateway_http_status(code) >= 500 && code != ERR_UNSUPPORTED)
        log_warn("%s: %s: %s", what, err_code_name(code), e->msg);
    int after = e->retry_after_s;
    bool down = code == ERR_UNAVAILABLE || code == ERR_NO_RESPONDERS || code == ERR_TIMEOUT;
    if ((code == ERR_THROTTLED || down) && after <= 0)
        after = 1;
    if (code == ERR_THROTTLED || down) {
        char v[16];
        snprintf(v, sizeof v, "%d", after);
        http_response_header(res, "Retry-After", v);
    }
    /* A dependency's trouble is told without its internals (subjects, hosts): the service's name
     * and when to come back; the log line above has the details. */
    char message[ERR_MSG_MAX];
    if (down) {
        snprintf(message, sizeof message, "the %.*s service is %s: retry in %d s", (int)strcspn(what, "."), what,
                 code == ERR_TIMEOUT ? "not answering in time" : "unavailable", after);
    }
    gateway_error_problems(res, r, code, down ? message : e->msg, p);
}

/* Everything between "the route matched" and the handler: rate limit, authentication,
 * authorization, path parameters. Returns false after writing the refusal. */
static bool admit(struct gateway *g, struct gateway_req *r, const struct gateway_route *route,
                  struct gateway_actor *actor, struct http_response *res) {
    struct err e = {0};
    int after = 0;
    /* /healthz stays outside the limit (a load balancer polls it from one address, and it costs
     * nothing); /readyz, which asks every service (its answer cached for a second), is limited
     * like every /v1 route. */
    if ((strncmp(route->pattern, "/v1/", 4) == 0 || strcmp(route->pattern, "/readyz") == 0) &&
        !gateway_rate_take(g->rate, r->http->client_addr, clock_mono_us(), &after)) {
        e.retry_after_s = after;
        snprintf(e.msg, sizeof e.msg, "too many requests from this address: retry in %d s", after);
        gateway_fail(res, r, "rate limit", ERR_THROTTLED, &e);
        return false;
    }
    if (route->access != GATEWAY_PUBLIC) {
        err_code code = gateway_authenticate(g, r, actor, &e);
        if (code != ERR_OK) {
            gateway_fail(res, r, "identity.resolve", code, &e);
            if (code == ERR_UNAUTHENTICATED)
                http_response_header(res, "WWW-Authenticate", "Bearer");
            return false;
        }
        r->actor = actor;
        gateway_actor_to_pb(r, r->http->client_addr);
    }
    err_code code = gateway_authorize(route, r->actor, &e);
    if (code != ERR_OK) {
        gateway_error(res, r, code, e.msg);
        return false;
    }
    for (int i = 0; i < r->params.n; i++) {
        code = gateway_check_param(r->params.p[i].name, r->params.p[i].value, &e);
        if (code != ERR_OK) {
            gateway_error(res, r, code, e.msg);
            return false;
        }
    }
    return true;
}

void gateway_dispatch(void *ctx, const struct http_request *req, struct http_response *res) {
    struct gateway *g = ctx;
    int64_t t0 = clock_mono_us();
    struct gateway_req r = {.http = req};
    struct gateway_actor actor;
    gateway_request_id(http_header(req, "X-Request-Id"), r.request_id);
    log_set_context(r.request_id, NULL);
    /* First, so that a handler filling every header slot cannot push it out. */
    http_response_header(res, "X-Request-Id", r.request_id);

    const struct gateway_route *route = NULL;
    char allow[64];
    switch (gateway_route_match(gateway_routes, gateway_routes_count, req->method, req->path, &route, &r.params, allow,
                                sizeof allow)) {
    case GATEWAY_MATCHED:
        r.route = route;
        if (admit(g, &r, route, &actor, res))
            route->fn(g, &r, res);
        break;
    case GATEWAY_NO_METHOD:
        http_response_header(res, "Allow", allow);
        gateway_error_status(res, &r, 405, "method_not_allowed", "method not allowed on this path");
        break;
    case GATEWAY_NO_PATH:
        gateway_error_status(res, &r, 404, "not_found", "no such path");
        break;
    }
    int status = res->status ? res->status : 200;
    long us = (long)(clock_mono_us() - t0);
    /* The request id is on the line through the log context; the account too when known (never
     * the token). */
    const char *who = r.actor ? r.actor->account_id : "-";
    if (res->stream)
        log_info("http %.16s %.256s %d stream %ldus %s %s", req->method, req->path, status, us, req->client_addr,
                 who); /* method and path capped: they are the client's */
    else
        log_info("http %.16s %.256s %d %zuB %ldus %s %s", req->method, req->path, status, res->body_len, us,
                 req->client_addr, who);
    log_set_context(NULL, NULL);
    /* The token must not outlive the request on this stack. */
    sodium_memzero(r.token, sizeof r.token);
}
