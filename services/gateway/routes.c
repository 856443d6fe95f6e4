/* How the gateway turns an HTTP request into a handler call: the route table, path matching with
 * {name} parameters, the single err_code -> HTTP status mapping, request ids, the error body,
 * and the dispatch function that lib/http calls for every request (which also writes the one
 * access-log line). Everything but gateway_dispatch is pure. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "gateway.h"
#include "id.h"
#include "log.h"

const struct gateway_route gateway_routes[] = {
    {"GET", "/healthz", gateway_get_healthz},
    {"GET", "/readyz", gateway_get_readyz},
    {"GET", "/v1/regions", gateway_get_regions},
};
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
            int w = snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", routes[i].method);
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

void gateway_error(struct http_response *res, const struct gateway_req *r, err_code code, const char *message) {
    if (code == ERR_OK || code >= ERR__COUNT)
        code = ERR_INTERNAL;
    /* Internal reasons stay in the log: they may name tables, hosts or bugs. */
    if (code == ERR_INTERNAL)
        message = "internal error";
    gateway_error_status(res, r, gateway_http_status(code), err_code_name(code), message);
}

void gateway_dispatch(void *ctx, const struct http_request *req, struct http_response *res) {
    struct gateway *g = ctx;
    int64_t t0 = clock_mono_us();
    struct gateway_req r = {.http = req};
    gateway_request_id(http_header(req, "X-Request-Id"), r.request_id);
    log_set_context(r.request_id, NULL);
    /* First, so that a handler filling every header slot cannot push it out. */
    http_response_header(res, "X-Request-Id", r.request_id);

    const struct gateway_route *route = NULL;
    char allow[64];
    switch (gateway_route_match(gateway_routes, gateway_routes_count, req->method, req->path, &route, &r.params, allow,
                                sizeof allow)) {
    case GATEWAY_MATCHED:
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
    /* The request id is on the line through the log context. */
    if (res->stream)
        log_info("http %s %s %d stream %ldus", req->method, req->path, status, us);
    else
        log_info("http %s %s %d %zuB %ldus", req->method, req->path, status, res->body_len, us);
    log_set_context(NULL, NULL);
}
