/* The identity service's state: one struct, created by main, passed to everything (as the svc's
 * `app`, so workers reach it through w->app). Read-only after start, except `stopping` (set when
 * the drain begins) and the maintenance hook's own connection and timers, which only the hook
 * touches (the skeleton never runs two maintenance jobs at once). */
#ifndef IDENTITY_IDENTITY_H
#define IDENTITY_IDENTITY_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "clock.h"
#include "password.h"
#include "svc.h"
#include "vault.h"

/* Identity's own settings (main.c declares the table; docs/IDENTITY.md lists them). */
struct identity_config {
    const char *vault_key;           /* MKT_VAULT_KEY (secret): base64 of 32 bytes */
    const char *vault_previous_keys; /* MKT_VAULT_PREVIOUS_KEYS (secret): older keys, comma-separated */
    const char *cloud_endpoint;      /* OSC_ENDPOINT_API: "" = https://api.<region>.outscale.com */
    long long cloud_max_tries;       /* MKT_CLOUD_MAX_TRIES: attempts per cloud call */
    long long cloud_timeout_ms;      /* MKT_CLOUD_TIMEOUT_MS: one attempt */
    const char *default_region;      /* MKT_DEFAULT_REGION (ORG-1) */
    long long session_idle_s;        /* MKT_SESSION_IDLE_S (AUTH-5) */
    long long session_touch_s;       /* MKT_SESSION_TOUCH_S: last activity recorded at most this often */
    long long set_password_ttl_s;    /* MKT_SET_PASSWORD_TTL_S (ORG-2, ACC-3) */
    long long reset_ttl_s;           /* MKT_RESET_TTL_S (AUTH-4) */
    long long login_max_failures;    /* MKT_LOGIN_MAX_FAILURES (AUTH-8): per account */
    long long login_addr_max_failures; /* MKT_LOGIN_ADDR_MAX_FAILURES (AUTH-8): per client address */
    long long login_window_s;        /* MKT_LOGIN_WINDOW_S (AUTH-8) */
    long long argon2_ops;            /* MKT_ARGON2_OPS (AUTH-2) */
    long long argon2_mem_kib;        /* MKT_ARGON2_MEM_KIB (AUTH-2) */
    const char *operator_email;      /* MKT_OPERATOR_EMAIL: ensured at start when set */
    const char *operator_password;   /* MKT_OPERATOR_PASSWORD (secret) */
    const char *operator_name;       /* MKT_OPERATOR_NAME */
    long long eim_reconcile_s;       /* MKT_EIM_RECONCILE_S (ACC-4 drift repair) */
    long long eim_lease_s;           /* MKT_EIM_LEASE_S: a claimed EIM job is due again after this */
    long long eim_max_attempts;      /* MKT_EIM_MAX_ATTEMPTS: then the job is "failed" until reconciliation */
    long long eim_backoff_max_s;     /* MKT_EIM_BACKOFF_MAX_S */
    const char *otp_issuer;          /* MKT_OTP_ISSUER: shown by authenticator apps */
    const char *consumer_name;       /* MKT_IDENTITY_CONSUMER: durable name of the EIM consumer */
    const char *cursor_key;          /* MKT_CURSOR_KEY (secret): lists' cursor MAC key; NULL/"" = dev key */
};

struct identity {
    struct identity_config cfg;
    struct svc *svc;                      /* borrowed */
    struct vault *vault;                  /* owned */
    struct password_params argon2;
    char dummy_hash[PASSWORD_HASH_MAX];   /* verified when the e-mail is unknown: same work either way */
    atomic_bool stopping;                 /* set when the drain begins */
    /* maintenance hook only */
    PGconn *maint_db;                     /* owned; opened lazily */
    mkt_time next_prune_at;
};

static inline bool identity_stopping(const struct identity *id) {
    return atomic_load(&id->stopping);
}

/* identity.c: what the loaded settings imply (Region check, argon2id parameters and the dummy
 * hash, the vault); before svc_open_db. */
err_code identity_prepare(struct identity *id, struct err *e) MKT_MUST_USE;
/* The svc hooks: maintenance (EIM jobs, detachments, reconciliation, pruning) and on_drain (the
 * maintenance loops stop early). */
void identity_maintenance(struct svc *s, struct pool_worker *w);
void identity_on_drain(struct svc *s);
/* Frees what identity_prepare and the maintenance hook made; safe after a failed start. */
void identity_cleanup(struct identity *id);

#endif
