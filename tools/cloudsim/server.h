/* The emulator process: the state behind one mutex, the fault rules, and the HTTP front that
 * routes POST /api/v1/<Op> and /api/latest/<Op> through one generic dispatcher (lookup in the
 * operation tables, faults, signature, schema, EIM policy, handler, state file) and /_sim/ to
 * the admin API. server_call is the whole pipeline without the network, for unit tests. */
#ifndef CLOUDSIM_SERVER_H
#define CLOUDSIM_SERVER_H

#include <jansson.h>
#include <pthread.h>

#include "admin.h"
#include "auth.h"
#include "err.h"
#include "oscsig.h"
#include "state.h"

struct server_config {
    const char *addr;       /* "127.0.0.1" */
    int port;               /* 0 = any free port */
    const char *seed_path;  /* may be NULL */
    const char *state_path; /* may be NULL: nothing persisted */
    int copy_delay_ms;      /* image copies: pending -> available */
    int vm_delay_ms;        /* VM transient states */
    int threads;
    enum auth_window sig_window; /* clock of the 5-minute signature window */
    int conflict_status;         /* HTTP status of the conflict errors (6003, 9011, 9029): 409 (0 =
                                    default) or 400, the cloud's (see api.h) */
};

struct http_server;

struct server {
    pthread_mutex_t mu; /* guards st */
    struct state *st;
    struct admin_faults faults;
    struct http_server *http;
    enum auth_window sig_window;
    int conflict_status; /* 409 or 400 */
};

/* One request as the pipeline sees it; everything borrowed for the call. */
struct server_call {
    const char *method, *path;
    const char *body;
    size_t body_len;
    const char *client_addr;
    oscsig_header_fn header;
    void *header_ctx;
};

/* Loads the state file (when it exists) and the seed; does not listen yet. Owned: server_free. */
err_code server_new(const struct server_config *cfg, struct server **out, struct err *e) MKT_MUST_USE;
/* Starts listening (cfg->addr, cfg->port). */
err_code server_start(struct server *s, const struct server_config *cfg, struct err *e) MKT_MUST_USE;
int server_port(const struct server *s);
/* Stops listening, lets in-flight calls finish, and frees everything; NULL is a no-op. */
void server_free(struct server *s);

/* Runs one request through the pipeline; returns the HTTP status and *body (new reference). */
int server_call(struct server *s, const struct server_call *call, json_t **body);

#endif
