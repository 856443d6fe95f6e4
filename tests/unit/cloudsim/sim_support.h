/* Helpers for the emulator's pipeline tests: an in-process server (no network) with three test
 * accounts, and calls signed like libcurl signs them (OSC4 or AWS4, at a chosen time). */
#ifndef CLOUDSIM_TEST_SUPPORT_H
#define CLOUDSIM_TEST_SUPPORT_H

#include <jansson.h>

#include "../../../tools/cloudsim/server.h"
#include "oscsig.h"

struct sim_key {
    const char *ak, *sk, *region;
};

/* Accounts A (111111111111), B (222222222222) and C (333333333333); A and B have eu-west-2 and
 * cloudgouv-eu-west-1, C only eu-west-2. */
extern const struct sim_key SIM_A, SIM_B, SIM_C, SIM_A_GOUV;
#define SIM_A_ID "111111111111"
#define SIM_B_ID "222222222222"
#define SIM_C_ID "333333333333"

/* A server with the test accounts; state_path may be NULL. Free with server_free. */
struct server *sim_new(const char *state_path, int copy_delay_ms);
/* The same with a whole configuration (addr, port and threads are ignored). */
struct server *sim_new_cfg(const struct server_config *cfg);

/* How a call is signed, for the tools that sign differently from lib/cloud. */
struct sim_sig {
    enum oscsig_scheme scheme;
    const char *host;        /* Host header; NULL = "127.0.0.1:18777" */
    const char *service;     /* credential scope's service; NULL = the scheme's default */
    const char *date_header; /* NULL = the scheme's (X-Osc-Date, X-Amz-Date) */
    const char *region;      /* credential scope's Region; NULL = the key's */
};
/* A call signed (now) as `sig` says. */
int sim_call_sig(struct server *s, const struct sim_key *k, const struct sim_sig *sig, const char *op,
                 const char *body, json_t **out);
/* Signed (OSC4, now) call; body is JSON text. Returns the status, *out owned by the caller. */
int sim_call(struct server *s, const struct sim_key *k, const char *op, const char *body, json_t **out);
/* The same, signed at `when` with `scheme`; k NULL sends no Authorization header. */
int sim_call_at(struct server *s, const struct sim_key *k, enum oscsig_scheme scheme, mkt_time when, const char *op,
                const char *body, json_t **out);
/* An OSC4-dated call (now) carrying `authorization` as given: for malformed headers. */
int sim_call_with(struct server *s, const char *authorization, const char *op, const char *body, json_t **out);
/* A raw request (any method and path, no signature). */
int sim_raw(struct server *s, const char *method, const char *path, const char *client, const char *body,
            json_t **out);
/* Errors[0].Code of an error body ("" when none). */
const char *sim_code(const json_t *body);
/* Shortcut: a signed call that must answer `status`; returns the body (owned). */
json_t *sim_ok(struct server *s, const struct sim_key *k, const char *op, const char *body);

/* A signed call (sim_call) that must answer `want` and, when `code` is not NULL, that error code;
 * asserts with the operation, body and answer. For files that include criterion. */
#define SIM_STATUS(s, k, op, body, want, code)                                                                    \
    do {                                                                                                          \
        json_t *out_ = NULL;                                                                                      \
        int st_ = sim_call((s), (k), (op), (body), &out_);                                                        \
        char *txt_ = json_dumps(out_, 0);                                                                         \
        cr_assert_eq(st_, (want), "%s %s -> %d %s", (op), (body), st_, txt_);                                     \
        if ((code) != NULL)                                                                                       \
            cr_assert_str_eq(sim_code(out_), (const char *)(code), "%s -> %s", (op), txt_);                       \
        free(txt_);                                                                                               \
        json_decref(out_);                                                                                        \
    } while (0)

#endif
