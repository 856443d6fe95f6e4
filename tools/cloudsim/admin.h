/* The emulator's admin API under /_sim/ (loopback callers only, no signature) and the fault
 * rules it manages:
 *   GET    /_sim/healthz   {"status":"ok"}
 *   GET    /_sim/state     the whole state (state file format) plus "now"
 *   POST   /_sim/accounts  one seed entry -> a new account with its root key
 *   GET    /_sim/clock     {"now","offset_s"}
 *   POST   /_sim/clock     {"advance_s":N} or {"offset_s":N}: shifts the emulator clock
 *   POST   /_sim/images    {"image_id","state"}: forces an image's state (e.g. "failed")
 *   GET    /_sim/faults    the active rules
 *   POST   /_sim/faults    {"operations":["ReadVms"]|["*"], "status":429|500|503, "ratio":0.5 |
 *                           "count":3, "latency_ms":N}: adds a rule (status and latency each
 *                           optional; without ratio or count a status applies to every call)
 *   DELETE /_sim/faults    removes every rule
 * Admin errors answer {"error":"..."}. */
#ifndef CLOUDSIM_ADMIN_H
#define CLOUDSIM_ADMIN_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "err.h"
#include "state.h"

struct admin_fault {
    int id;
    struct state_strs operations; /* "*" = all */
    int status;                   /* 0 = latency only */
    double ratio;                 /* used when count < 0 */
    int count;                    /* remaining forced failures; -1 = use ratio */
    int latency_ms;
};

/* Fault rules; thread-safe through their own mutex (never held while sleeping). */
struct admin_faults {
    pthread_mutex_t mu;
    struct admin_fault *v;
    size_t n;
    int next_id;
};

void admin_faults_init(struct admin_faults *f);
void admin_faults_cleanup(struct admin_faults *f);
/* Validates and adds a rule from its JSON form; returns its id, or -1 with the reason in e. */
int admin_faults_add(struct admin_faults *f, const json_t *rule, struct err *e);
void admin_faults_clear(struct admin_faults *f);
/* Decides the fate of one call of `operation`: sleeps the largest matching latency, then
 * returns the status to fail with (429, 500, 503) or 0. */
int admin_faults_apply(struct admin_faults *f, const char *operation);
json_t *admin_faults_json(struct admin_faults *f); /* new reference */

struct server;
struct server_call;
/* Answers one /_sim/ request: the HTTP status and *body (new reference). */
int admin_handle(struct server *s, const struct server_call *call, json_t **body);

#endif
