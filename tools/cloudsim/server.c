/* The emulator's front: HTTP routing of /api/v1/<Op>, /api/latest/<Op> and /_sim/, and the one
 * generic dispatcher every operation goes through: table lookup (404), method (405), injected
 * faults, signature (401), request schema (400), EIM policy (401 code 5), DryRun, the handler,
 * then the state file for mutating calls. Every answer carries ResponseContext.RequestId. One
 * mutex serialises access to the state; fault latency is slept outside it. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "http.h"
#include "id.h"
#include "log.h"

#define SERVER_DRAIN_MS 5000

err_code server_new(const struct server_config *cfg, struct server **out, struct err *e) {
    err_code rc = ERR_OK;
    struct server *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_INTERNAL, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    admin_faults_init(&s->faults);
    s->sig_window = cfg->sig_window;
    s->conflict_status = cfg->conflict_status ? cfg->conflict_status : 400; /* as the cloud */
    s->st = state_new(cfg->state_path, (mkt_time)cfg->copy_delay_ms * 1000, (mkt_time)cfg->vm_delay_ms * 1000);
    if (cfg->state_path) {
        rc = state_load(s->st, cfg->state_path, e);
        if (rc == ERR_NOT_FOUND)
            rc = ERR_OK;
        else if (rc == ERR_OK)
            log_info("state loaded from %s", cfg->state_path);
        if (rc != ERR_OK)
            goto done;
    }
    if (cfg->seed_path && (rc = state_seed_file(s->st, cfg->seed_path, e)) != ERR_OK)
        goto done;
    if ((rc = state_save(s->st, e)) != ERR_OK)
        goto done;
    *out = s;
    s = NULL;
done:
    server_free(s);
    return rc;
}

static void handle_http(void *ctx, const struct http_request *req, struct http_response *res);

err_code server_start(struct server *s, const struct server_config *cfg, struct err *e) {
    struct http_server_config hc = {
        .addr = cfg->addr,
        .port = cfg->port,
        .threads = cfg->threads > 0 ? cfg->threads : 4,
        .max_body = 1024 * 1024,
        .timeout_s = 60,
    };
    return http_server_start(&hc, handle_http, s, &s->http, e);
}

int server_port(const struct server *s) { return s->http ? http_server_port(s->http) : 0; }

void server_free(struct server *s) {
    if (!s)
        return;
    if (s->http) {
        /* the drain: no new connections, in-flight calls finish (they hold the state mutex
         * only briefly), then the server goes */
        http_server_quiesce(s->http);
        if (!http_server_wait_idle(s->http, SERVER_DRAIN_MS))
            log_warn("calls still in flight after %d ms: closing anyway", SERVER_DRAIN_MS);
        http_server_stop(s->http);
    }
    state_free(s->st);
    admin_faults_cleanup(&s->faults);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- the dispatcher --------------------------------------------------------------------------- */

static int fail(enum api_error id, const char *details, const char *rid, json_t **body) {
    *body = api_error_body(id, details, rid);
    return api_error_status(id);
}

/* The operation name after /api/v1/ or /api/latest/, or NULL when the path is not an API path. */
static const char *operation_of(const char *path) {
    static const char *const prefixes[] = {"/api/v1/", "/api/latest/"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(path, prefixes[i], n) == 0)
            return path + n;
    }
    return NULL;
}

/* Everything after routing, under the state mutex. */
static int dispatch_locked(struct server *s, const struct api_op *op, const struct server_call *call, const char *rid,
                           json_t **body) {
    int status = 200;
    json_t *req = NULL;
    struct err e;
    struct auth_caller caller = {0};
    struct api_ctx c = {.st = s->st, .now = clock_now()};
    state_tick(s->st, c.now);
    if (op->needs_auth) {
        struct auth_request sr = {
            .method = call->method,
            .path = call->path,
            .query = "",
            .header = call->header,
            .header_ctx = call->header_ctx,
            .body = call->body,
            .body_len = call->body_len,
            .host = call->header(call->header_ctx, "host"),
        };
        enum api_error why;
        if (auth_authenticate(s->st, call->header(call->header_ctx, "authorization"), &sr, c.now,
                              c.now - clock_offset(), s->sig_window, &caller, &why, &e) != ERR_OK) {
            status = fail(why, e.msg, rid, body);
            goto done;
        }
        c.account = caller.account;
        c.user = caller.user;
        c.region = caller.region;
    }
    /* an empty body counts as {} */
    if (jsonv_parse(call->body_len ? call->body : "{}", call->body_len ? call->body_len : 2, op->schema, &req, &e) !=
        ERR_OK) {
        status = fail(api_error_from_validation(e.msg), e.msg, rid, body);
        goto done;
    }
    if (op->needs_auth && !auth_allowed(s->st, &caller, op->name)) {
        char why[ERR_MSG_MAX];
        snprintf(why, sizeof why, "the user '%s' is not allowed api:%s", caller.user, op->name);
        status = fail(API_E_NOT_AUTHORIZED, why, rid, body);
        goto done;
    }
    c.req = req;
    c.res = json_object();
    /* DryRun: authenticated, validated and authorised, then nothing happens */
    if (!json_is_true(json_object_get(req, "DryRun"))) {
        if (op->handler(&c) != ERR_OK) {
            json_decref(c.res);
            c.res = NULL;
            status = fail(c.error, c.details, rid, body);
            goto done;
        }
        if (op->mutates && state_save(s->st, &e) != ERR_OK) {
            log_error("%s", e.msg);
            json_decref(c.res);
            c.res = NULL;
            status = fail(API_E_INTERNAL, "the emulator could not write its state file", rid, body);
            goto done;
        }
    }
    json_object_set_new(c.res, "ResponseContext", json_pack("{s:s}", "RequestId", rid));
    *body = c.res;
    c.res = NULL;
done:
    if (status != 200)
        log_info("%s account=%s user=%s -> %d %s", op->name, caller.account ? caller.account->id : "-",
                 caller.user ? caller.user : "-", status, json_string_value(json_object_get(
                                                              json_array_get(json_object_get(*body, "Errors"), 0),
                                                              "Details")));
    else
        log_debug("%s account=%s -> 200", op->name, caller.account ? caller.account->id : "-");
    json_decref(req);
    return status;
}

int server_call(struct server *s, const struct server_call *call, json_t **body) {
    char rid[ID_UUID_LEN + 1];
    if (strncmp(call->path, "/_sim/", 6) == 0)
        return admin_handle(s, call, body);
    id_uuid(rid);
    const char *name = operation_of(call->path);
    const struct api_op *op = name ? api_find_op(name) : NULL;
    if (!op) {
        char details[ERR_MSG_MAX];
        snprintf(details, sizeof details, "unknown operation '%.200s'", name ? name : call->path);
        return fail(API_E_NO_OPERATION, details, rid, body);
    }
    if (strcmp(call->method, "POST") != 0)
        return fail(API_E_METHOD, "the OUTSCALE API only accepts POST", rid, body);
    switch (admin_faults_apply(&s->faults, op->name)) {
    case 429:
        return fail(API_E_THROTTLED, "ErrorOperationThrottledPerAccount: Request rate exceeded.", rid, body);
    case 500: return fail(API_E_INTERNAL, "injected fault", rid, body);
    case 503: return fail(API_E_UNAVAILABLE, "injected fault", rid, body);
    default: break;
    }
    pthread_mutex_lock(&s->mu);
    int status = dispatch_locked(s, op, call, rid, body);
    pthread_mutex_unlock(&s->mu);
    /* the conflict errors are the only 409s; answered 400 as the cloud does (--conflict-status 409 keeps 409) */
    return status == 409 ? s->conflict_status : status;
}

/* ---- HTTP adapter ----------------------------------------------------------------------------- */

static const char *request_header(void *ctx, const char *name) { return http_header(ctx, name); }

static void handle_http(void *ctx, const struct http_request *req, struct http_response *res) {
    struct server_call call = {
        .method = req->method,
        .path = req->path,
        .body = req->body,
        .body_len = req->body_len,
        .client_addr = req->client_addr,
        .header = request_header,
        .header_ctx = (void *)req,
    };
    json_t *body = NULL;
    int status = server_call(ctx, &call, &body);
    http_response_json(res, status, body);
}
