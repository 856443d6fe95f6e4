/* In-process emulator and request signing for the pipeline tests (see sim_support.h). */
#include "sim_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

const struct sim_key SIM_A = {"AAAAAAAAAAAAAAAAAAA1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", "eu-west-2"};
const struct sim_key SIM_A_GOUV = {"AAAAAAAAAAAAAAAAAAA1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1",
                                   "cloudgouv-eu-west-1"};
const struct sim_key SIM_B = {"BBBBBBBBBBBBBBBBBBB2", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB2", "eu-west-2"};
const struct sim_key SIM_C = {"CCCCCCCCCCCCCCCCCCC3", "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC3", "eu-west-2"};

static void seed(struct server *s, const char *id, const struct sim_key *k, bool gouv) {
    json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "account_id", id, "email", "owner@example.com",
                              "access_key", k->ak, "secret_key", k->sk, "regions", "eu-west-2");
    if (gouv)
        json_array_append_new(json_object_get(entry, "regions"), json_string("cloudgouv-eu-west-1"));
    struct err e;
    cr_assert_eq(state_seed_account(s->st, entry, true, &e), ERR_OK, "%s", e.msg);
    json_decref(entry);
}

struct server *sim_new(const char *state_path, int copy_delay_ms) {
    struct server_config cfg = {.addr = "127.0.0.1", .state_path = state_path, .copy_delay_ms = copy_delay_ms};
    struct server *s = NULL;
    struct err e;
    log_init("cloudsim-test", "warn"); /* refusals are the point of many tests: keep them quiet */
    cr_assert_eq(server_new(&cfg, &s, &e), ERR_OK, "%s", e.msg);
    seed(s, SIM_A_ID, &SIM_A, true);
    seed(s, SIM_B_ID, &SIM_B, true);
    seed(s, SIM_C_ID, &SIM_C, false);
    return s;
}

struct headers {
    const char *names[8];
    const char *values[8];
};

static const char *lookup(void *ctx, const char *name) {
    const struct headers *h = ctx;
    for (int i = 0; i < 8 && h->names[i]; i++)
        if (strcasecmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

int sim_call_at(struct server *s, const struct sim_key *k, enum sigv4_scheme scheme, mkt_time when, const char *op,
                const char *body, json_t **out) {
    char path[128], stamp[32], iso[40], auth[512];
    snprintf(path, sizeof path, "/api/v1/%s", op);
    clock_format(when, iso, sizeof iso); /* 2026-11-21T22:20:57.123456Z */
    snprintf(stamp, sizeof stamp, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", iso, iso + 5, iso + 8, iso + 11, iso + 14, iso + 17);
    const char *date_header = scheme == SIGV4_OSC4 ? "X-Osc-Date" : "X-Amz-Date";
    struct headers h = {{"Host", "Content-Type", date_header, "Authorization"},
                        {"127.0.0.1:18777", "application/json", stamp, NULL}};
    if (k) {
        struct sigv4_auth a = {.scheme = scheme};
        snprintf(a.access_key, sizeof a.access_key, "%s", k->ak);
        snprintf(a.date, sizeof a.date, "%.8s", stamp);
        snprintf(a.region, sizeof a.region, "%s", k->region);
        snprintf(a.service, sizeof a.service, "%s", scheme == SIGV4_OSC4 ? "api" : "oapi");
        snprintf(a.terminator, sizeof a.terminator, "%s", scheme == SIGV4_OSC4 ? "osc4_request" : "aws4_request");
        snprintf(a.signed_headers, sizeof a.signed_headers, "content-type;host;%s",
                 scheme == SIGV4_OSC4 ? "x-osc-date" : "x-amz-date");
        struct sigv4_request r = {.method = "POST", .path = path, .query = "", .header = lookup, .header_ctx = &h,
                                  .body = body, .body_len = strlen(body)};
        char sig[65];
        struct err e;
        cr_assert_eq(sigv4_expected(&a, k->sk, &r, sig, &e), ERR_OK, "%s", e.msg);
        snprintf(auth, sizeof auth, "%s Credential=%s/%s/%s/%s/%s, SignedHeaders=%s, Signature=%s",
                 scheme == SIGV4_OSC4 ? "OSC4-HMAC-SHA256" : "AWS4-HMAC-SHA256", a.access_key, a.date, a.region,
                 a.service, a.terminator, a.signed_headers, sig);
        h.values[3] = auth;
    } else {
        h.names[3] = NULL;
    }
    struct server_call call = {.method = "POST", .path = path, .body = body, .body_len = strlen(body),
                               .client_addr = "127.0.0.1", .header = lookup, .header_ctx = &h};
    return server_call(s, &call, out);
}

int sim_call(struct server *s, const struct sim_key *k, const char *op, const char *body, json_t **out) {
    return sim_call_at(s, k, SIGV4_OSC4, clock_now(), op, body, out);
}

int sim_raw(struct server *s, const char *method, const char *path, const char *client, const char *body,
            json_t **out) {
    struct headers h = {{NULL}, {NULL}};
    struct server_call call = {.method = method, .path = path, .body = body ? body : "",
                               .body_len = body ? strlen(body) : 0, .client_addr = client, .header = lookup,
                               .header_ctx = &h};
    return server_call(s, &call, out);
}

const char *sim_code(const json_t *body) {
    const char *c = json_string_value(json_object_get(json_array_get(json_object_get(body, "Errors"), 0), "Code"));
    return c ? c : "";
}

json_t *sim_ok(struct server *s, const struct sim_key *k, const char *op, const char *body) {
    json_t *out = NULL;
    int status = sim_call(s, k, op, body, &out);
    if (status != 200) {
        char *text = json_dumps(out, 0);
        cr_assert_fail("%s %s -> %d %s", op, body, status, text);
    }
    return out;
}
