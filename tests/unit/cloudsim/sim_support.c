/* In-process emulator and request signing for the pipeline tests (see sim_support.h). */
#include "sim_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
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
    struct err e = {0};
    cr_assert_eq(state_seed_account(s->st, entry, true, &e), ERR_OK, "%s", e.msg);
    json_decref(entry);
}

struct server *sim_new(const char *state_path, int copy_delay_ms) {
    struct server_config cfg = {.addr = "127.0.0.1", .state_path = state_path, .copy_delay_ms = copy_delay_ms};
    return sim_new_cfg(&cfg);
}

struct server *sim_new_cfg(const struct server_config *cfg) {
    struct server *s = NULL;
    struct err e = {0};
    log_init("cloudsim-test", "warn"); /* refusals are the point of many tests: keep them quiet */
    cr_assert_eq(server_new(cfg, &s, &e), ERR_OK, "%s", e.msg);
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

/* POST /api/v1/<op> with Host, Content-Type, the date header at `when` and, unless NULL, the
 * given Authorization (or, when `k` is set, one signed with k as libcurl signs, as `sig` says). */
static int call(struct server *s, const struct sim_key *k, const char *authorization, const struct sim_sig *sig,
                mkt_time when, const char *op, const char *body, json_t **out) {
    char path[128], stamp[OSCSIG_STAMP_LEN + 1];
    char *signed_auth = NULL;
    enum oscsig_scheme scheme = sig->scheme;
    snprintf(path, sizeof path, "/api/v1/%s", op);
    oscsig_format_stamp(when, stamp);
    struct headers h = {{"Host", "Content-Type", sig->date_header ? sig->date_header : oscsig_date_header(scheme),
                         "Authorization"},
                        {sig->host ? sig->host : "127.0.0.1:18777", "application/json", stamp, authorization}};
    if (k) {
        /* what libcurl signs: content-type, host and the date header */
        const struct oscsig_header signed_h[] = {{h.names[0], h.values[0]}, {h.names[1], h.values[1]},
                                                 {h.names[2], h.values[2]}};
        struct oscsig_request r = {.scheme = scheme, .method = "POST", .path = path, .headers = signed_h,
                                   .n_headers = 3, .body = body, .body_len = strlen(body), .stamp = stamp,
                                   .region = sig->region ? sig->region : k->region, .service = sig->service};
        struct err e = {0};
        cr_assert_eq(oscsig_authorization(&r, k->ak, k->sk, &signed_auth, &e), ERR_OK, "%s", e.msg);
        h.values[3] = signed_auth;
    }
    if (!h.values[3])
        h.names[3] = NULL;
    struct server_call c = {.method = "POST", .path = path, .body = body, .body_len = strlen(body),
                            .client_addr = "127.0.0.1", .header = lookup, .header_ctx = &h};
    int status = server_call(s, &c, out);
    free(signed_auth);
    return status;
}

int sim_call_at(struct server *s, const struct sim_key *k, enum oscsig_scheme scheme, mkt_time when, const char *op,
                const char *body, json_t **out) {
    const struct sim_sig sig = {.scheme = scheme};
    return call(s, k, NULL, &sig, when, op, body, out);
}

int sim_call_sig(struct server *s, const struct sim_key *k, const struct sim_sig *sig, const char *op,
                 const char *body, json_t **out) {
    return call(s, k, NULL, sig, clock_now(), op, body, out);
}

int sim_call_with(struct server *s, const char *authorization, const char *op, const char *body, json_t **out) {
    const struct sim_sig sig = {.scheme = OSCSIG_OSC4};
    return call(s, NULL, authorization, &sig, clock_now(), op, body, out);
}

int sim_call(struct server *s, const struct sim_key *k, const char *op, const char *body, json_t **out) {
    return sim_call_at(s, k, OSCSIG_OSC4, clock_now(), op, body, out);
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
