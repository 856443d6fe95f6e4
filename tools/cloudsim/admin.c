/* The /_sim/ admin API (see admin.h for the routes) and the fault rules behind POST
 * /_sim/faults. Tests use it to inspect the state, shift the emulator's clock (which drives
 * copy completion, VM transitions and the signature window), add accounts and force throttling,
 * server errors and latency on chosen operations. Only loopback clients are served. */
#include "admin.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "jsonv.h"
#include "log.h"
#include "server.h"

/* ---- fault rules ------------------------------------------------------------------------------ */

void admin_faults_init(struct admin_faults *f) {
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->next_id = 1;
}

static void rules_clear(struct admin_faults *f) {
    for (size_t i = 0; i < f->n; i++)
        state_strs_clear(&f->v[i].operations);
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

void admin_faults_cleanup(struct admin_faults *f) {
    rules_clear(f);
    pthread_mutex_destroy(&f->mu);
}

void admin_faults_clear(struct admin_faults *f) {
    pthread_mutex_lock(&f->mu);
    rules_clear(f);
    pthread_mutex_unlock(&f->mu);
}

static const struct jsonv_field fault_fields[] = {
    {.name = "operations", .type = JSONV_ARRAY, .required = true, .min = 1, .max = 100, .items = JSONV_STRING},
    {.name = "status", .type = JSONV_INT},
    {.name = "ratio", .type = JSONV_NUMBER},
    {.name = "count", .type = JSONV_INT, .min = 1, .max = 1000000},
    {.name = "latency_ms", .type = JSONV_INT, .min = 0, .max = 600000},
};
static const struct jsonv_schema fault_schema = JSONV_SCHEMA(fault_fields);

int admin_faults_add(struct admin_faults *f, const json_t *rule, struct err *e) {
    if (jsonv_check(rule, &fault_schema, e) != ERR_OK)
        return -1;
    const json_t *status = json_object_get(rule, "status"), *ratio = json_object_get(rule, "ratio");
    const json_t *count = json_object_get(rule, "count"), *latency = json_object_get(rule, "latency_ms");
    struct admin_fault r = {.count = -1, .ratio = 1.0};
    if (status) {
        r.status = (int)json_integer_value(status);
        if (r.status != 429 && r.status != 500 && r.status != 503) {
            err_set(e, ERR_INVALID, "field 'status': must be 429, 500 or 503");
            return -1;
        }
    }
    if (ratio && count) {
        err_set(e, ERR_INVALID, "give either 'ratio' or 'count'");
        return -1;
    }
    if (ratio) {
        r.ratio = json_number_value(ratio);
        if (r.ratio < 0 || r.ratio > 1) {
            err_set(e, ERR_INVALID, "field 'ratio': must be from 0 to 1");
            return -1;
        }
    }
    if (count)
        r.count = (int)json_integer_value(count);
    if (!status && !latency) {
        err_set(e, ERR_INVALID, "a rule needs 'status' or 'latency_ms'");
        return -1;
    }
    r.latency_ms = latency ? (int)json_integer_value(latency) : 0;
    size_t i;
    const json_t *op;
    json_array_foreach(json_object_get(rule, "operations"), i, op) state_strs_add(&r.operations, json_string_value(op));

    pthread_mutex_lock(&f->mu);
    struct admin_fault *v = realloc(f->v, (f->n + 1) * sizeof *v);
    if (!v)
        abort();
    f->v = v;
    r.id = f->next_id++;
    f->v[f->n++] = r;
    pthread_mutex_unlock(&f->mu);
    return r.id;
}

static double random_unit(void) {
    uint32_t x;
    crypto_random(&x, sizeof x);
    return (double)x / 4294967296.0;
}

int admin_faults_apply(struct admin_faults *f, const char *operation) {
    int status = 0, latency = 0;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n;) {
        struct admin_fault *r = &f->v[i];
        if (!state_strs_has(&r->operations, "*") && !state_strs_has(&r->operations, operation)) {
            i++;
            continue;
        }
        if (r->latency_ms > latency)
            latency = r->latency_ms;
        if (r->status && !status) {
            if (r->count > 0) {
                status = r->status;
                if (--r->count == 0 && r->latency_ms == 0) {
                    /* spent: drop the rule */
                    state_strs_clear(&r->operations);
                    memmove(r, r + 1, (f->n - i - 1) * sizeof *r);
                    f->n--;
                    continue;
                }
            } else if (r->count < 0 && random_unit() < r->ratio) {
                status = r->status;
            }
        }
        i++;
    }
    pthread_mutex_unlock(&f->mu);
    if (latency > 0) {
        struct timespec ts = {latency / 1000, (long)(latency % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    return status;
}

json_t *admin_faults_json(struct admin_faults *f) {
    json_t *arr = json_array();
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n; i++) {
        const struct admin_fault *r = &f->v[i];
        json_t *o = json_pack("{s:i, s:o, s:i, s:i}", "id", r->id, "operations", state_strs_json(&r->operations),
                              "status", r->status, "latency_ms", r->latency_ms);
        if (r->count >= 0)
            json_object_set_new(o, "count", json_integer(r->count));
        else
            json_object_set_new(o, "ratio", json_real(r->ratio));
        json_array_append_new(arr, o);
    }
    pthread_mutex_unlock(&f->mu);
    return arr;
}

/* ---- routes ----------------------------------------------------------------------------------- */

static json_t *error_json(const char *msg) { return json_pack("{s:s}", "error", msg); }

static bool loopback(const char *addr) {
    return addr && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
                    strncmp(addr, "::ffff:127.", 11) == 0);
}

static json_t *clock_json(void) {
    char now[40];
    clock_format(clock_now(), now, sizeof now);
    return json_pack("{s:s, s:f}", "now", now, "offset_s", (double)clock_offset() / 1e6);
}

static int post_clock(const json_t *body, json_t **out) {
    const json_t *adv = json_object_get(body, "advance_s"), *off = json_object_get(body, "offset_s");
    if ((!adv == !off) || (adv && !json_is_number(adv)) || (off && !json_is_number(off)) ||
        json_object_size(body) != 1) {
        *out = error_json("give exactly one of advance_s or offset_s (seconds)");
        return 400;
    }
    if (adv)
        clock_set_offset(clock_offset() + (mkt_time)(json_number_value(adv) * 1e6));
    else
        clock_set_offset((mkt_time)(json_number_value(off) * 1e6));
    log_info("admin: clock offset now %.3f s", (double)clock_offset() / 1e6);
    *out = clock_json();
    return 200;
}

static int save_locked(struct server *s, json_t **out) {
    struct err e;
    if (state_save(s->st, &e) != ERR_OK) {
        log_error("admin: %s", e.msg);
        *out = error_json(e.msg);
        return 500;
    }
    return 0;
}

static int post_account(struct server *s, const json_t *body, json_t **out) {
    struct err e;
    int status = 200;
    pthread_mutex_lock(&s->mu);
    if (state_seed_account(s->st, body, false, &e) != ERR_OK) {
        status = e.code == ERR_CONFLICT ? 409 : 400;
        *out = error_json(e.msg);
    } else if ((status = save_locked(s, out)) == 0) {
        status = 200;
        *out = json_pack("{s:O}", "account_id", json_object_get(body, "account_id"));
        log_info("admin: account %s created", json_string_value(json_object_get(body, "account_id")));
    }
    pthread_mutex_unlock(&s->mu);
    return status;
}

static int post_image_state(struct server *s, const json_t *body, json_t **out) {
    const char *id = json_string_value(json_object_get(body, "image_id"));
    const char *state = json_string_value(json_object_get(body, "state"));
    const json_t *jcomment = json_object_get(body, "comment");
    const char *comment = json_string_value(jcomment);
    int status = 200;
    enum state_image_state to;
    if (!id || !state || json_object_size(body) != 2 + (jcomment != NULL) || (jcomment && !comment)) {
        *out = error_json("give image_id, state and optionally comment");
        return 400;
    }
    if (strcmp(state, "pending") == 0)
        to = STATE_IMAGE_PENDING;
    else if (strcmp(state, "available") == 0)
        to = STATE_IMAGE_AVAILABLE;
    else if (strcmp(state, "failed") == 0)
        to = STATE_IMAGE_FAILED;
    else {
        *out = error_json("state must be pending, available or failed");
        return 400;
    }
    pthread_mutex_lock(&s->mu);
    struct state_image *im = state_image_find(s->st, id);
    if (!im) {
        status = 404;
        *out = error_json("no such image");
    } else {
        im->state = to;
        /* a failed copy says why in its StateComment */
        state_set_str(&im->state_message,
                      to != STATE_IMAGE_FAILED ? "" : comment ? comment : "the copy failed (forced by /_sim/images)");
        /* a forced pending image stays pending until forced again */
        im->ready_at = to == STATE_IMAGE_PENDING ? INT64_MAX : clock_now();
        if ((status = save_locked(s, out)) == 0) {
            status = 200;
            *out = json_pack("{s:s, s:s}", "image_id", id, "state", state);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return status;
}

int admin_handle(struct server *s, const struct server_call *call, json_t **out) {
    const char *route = call->path + strlen("/_sim/");
    const char *m = call->method;
    json_t *body = NULL;
    int status;
    if (!loopback(call->client_addr)) {
        *out = error_json("the admin API only answers loopback clients");
        return 403;
    }
    if (strcmp(m, "POST") == 0) {
        json_error_t je;
        body = json_loadb(call->body_len ? call->body : "{}", call->body_len ? call->body_len : 2, 0, &je);
        if (!json_is_object(body)) {
            json_decref(body);
            *out = error_json("body must be a JSON object");
            return 400;
        }
    }
    if (strcmp(route, "healthz") == 0 && strcmp(m, "GET") == 0) {
        *out = json_pack("{s:s}", "status", "ok");
        status = 200;
    } else if (strcmp(route, "state") == 0 && strcmp(m, "GET") == 0) {
        pthread_mutex_lock(&s->mu);
        state_tick(s->st, clock_now());
        *out = state_to_json(s->st);
        pthread_mutex_unlock(&s->mu);
        json_object_set_new(*out, "clock", clock_json());
        status = 200;
    } else if (strcmp(route, "accounts") == 0 && body) {
        status = post_account(s, body, out);
    } else if (strcmp(route, "clock") == 0 && strcmp(m, "GET") == 0) {
        *out = clock_json();
        status = 200;
    } else if (strcmp(route, "clock") == 0 && body) {
        status = post_clock(body, out);
    } else if (strcmp(route, "images") == 0 && body) {
        status = post_image_state(s, body, out);
    } else if (strcmp(route, "faults") == 0 && strcmp(m, "GET") == 0) {
        *out = json_pack("{s:o}", "faults", admin_faults_json(&s->faults));
        status = 200;
    } else if (strcmp(route, "faults") == 0 && body) {
        struct err e;
        int id = admin_faults_add(&s->faults, body, &e);
        if (id < 0) {
            *out = error_json(e.msg);
            status = 400;
        } else {
            log_info("admin: fault rule %d added", id);
            *out = json_pack("{s:i, s:o}", "id", id, "faults", admin_faults_json(&s->faults));
            status = 200;
        }
    } else if (strcmp(route, "faults") == 0 && strcmp(m, "DELETE") == 0) {
        admin_faults_clear(&s->faults);
        log_info("admin: fault rules cleared");
        *out = json_pack("{s:[]}", "faults");
        status = 200;
    } else {
        *out = error_json("unknown admin route or method");
        status = 404;
    }
    json_decref(body);
    return status;
}
