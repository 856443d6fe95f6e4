/* All SQL of identity (migrations/001_identity.sql), split by domain: store_orgs.c
 * (organizations, OUTSCALE accounts), store_accounts.c (accounts, callers, credentials, 2FA),
 * store_auth.c (link tokens, sessions, login failures), store_eim.c (EIM work, schedules,
 * pruning). Functions take a connection owned by the calling thread; those documented "tx" expect
 * the caller's open transaction. Results are copied into caller-owned fixed-size structs (or
 * lists the caller cleans up), so nothing points into a PGresult after return. Times come from
 * lib/clock as parameters: never now() in SQL. A missing row is ERR_NOT_FOUND. */
#ifndef IDENTITY_STORE_H
#define IDENTITY_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "cursor.h"
#include "err.h"
#include "job.h"
#include "password.h"
#include "validation.h"
#include "vault.h"

#define STORE_ID 37                                  /* UUID + NUL */
#define STORE_NAME (4 * VALIDATION_NAME_MAX + 1)
#define STORE_EMAIL (VALIDATION_EMAIL_MAX + 1)
#define STORE_HASH 65                                /* SHA-256 hex + NUL */

/* ---- organizations and OUTSCALE accounts (store_orgs.c) ---------------------------------------- */

struct store_org {
    char id[STORE_ID];
    char name[STORE_NAME];
    unsigned types;                  /* TYPE_* bits */
    char region[32];
    char status[16];                 /* "pending", "validated" */
    bool ugap;
    char outscale_account_id[16];    /* the primary OUTSCALE account (12 digits), "" when none */
    mkt_time created_at, validated_at;
    char partner_number[40];         /* PUB-1: "" when none */
    char partner_status[16];         /* "", "pending", "validated", "refused" */
    char partner_reason[404];
};

struct store_org_list {
    struct store_org *v;             /* owned */
    size_t n;
};
void store_org_list_cleanup(struct store_org_list *l);

/* tx. Inserts a new organization (status "pending", created_at). */
err_code store_org_insert(PGconn *tx, const struct store_org *o, struct err *e) MKT_MUST_USE;
/* PUB-1: a new partner-programme number, pending until an operator decides. */
err_code store_org_set_partner(PGconn *c, const char *id, const char *number, struct err *e) MKT_MUST_USE;
/* PUB-1: the operator's decision on a pending number ("validated" or "refused", with a reason). */
err_code store_org_decide_partner(PGconn *tx, const char *id, const char *decision, const char *reason,
                                  struct err *e) MKT_MUST_USE;
err_code store_org_get(PGconn *c, const char *id, struct store_org *out, struct err *e) MKT_MUST_USE;
err_code store_org_set_name(PGconn *c, const char *id, const char *name, struct err *e) MKT_MUST_USE;
/* tx. pending -> validated at `now`; *changed false when it already was validated. */
err_code store_org_validate(PGconn *tx, const char *id, mkt_time now, bool *changed, struct err *e) MKT_MUST_USE;
/* tx. *changed false when the flag already had that value. */
err_code store_org_set_ugap(PGconn *tx, const char *id, bool ugap, bool *changed, struct err *e) MKT_MUST_USE;
/* A page of organizations (lib/cursor, kind CURSOR_ID) by id (UUIDv7: creation order) with
 * `status` ("" = any): cursor_page_fetch(page) rows at most, after page->after when set. */
err_code store_org_list(PGconn *c, const char *status, const struct cursor_page *page, struct store_org_list *out,
                        struct err *e) MKT_MUST_USE;

struct store_outscale {
    char id[STORE_ID];
    char organization_id[STORE_ID];
    char account_id[16];             /* 12 digits */
    char email[STORE_EMAIL];
    char region[32];
    bool primary;
    char access_key_id[64];          /* the platform's key (EIM user marketplace_platform) */
    char secret_sealed[VAULT_SEALED_MAX]; /* vault-sealed secret key; "" once detached */
    char state[16];                  /* "active", "detaching", "detached" */
    char eim_state[16];              /* "ready", "failed" */
    char eim_detail[256];
    mkt_time attached_at;
};

struct store_outscale_list {
    struct store_outscale *v;        /* owned */
    size_t n;
};
void store_outscale_list_cleanup(struct store_outscale_list *l);

/* The vault context of a row's sealed secret: binds the ciphertext to the row. */
void store_outscale_secret_context(const char *row_id, char out[64]);

/* tx. */
err_code store_outscale_insert(PGconn *tx, const struct store_outscale *o, struct err *e) MKT_MUST_USE;
/* Whether this OUTSCALE account (12 digits) is attached to any organization (active or detaching). */
err_code store_outscale_taken(PGconn *c, const char *account_id, bool *taken, struct err *e) MKT_MUST_USE;
/* The organization's active (and, with `with_detaching`, detaching) OUTSCALE accounts, primary first. */
err_code store_outscale_list(PGconn *c, const char *organization_id, bool with_detaching,
                             struct store_outscale_list *out, struct err *e) MKT_MUST_USE;
/* A page of the organization's active OUTSCALE accounts (lib/cursor, kind CURSOR_TIME) by
 * (attached_at, id), so the primary (attached at sign-up) comes first: cursor_page_fetch(page)
 * rows at most, after page->after when set. */
err_code store_outscale_page(PGconn *c, const char *organization_id, const struct cursor_page *page,
                             struct store_outscale_list *out, struct err *e) MKT_MUST_USE;
/* One active OUTSCALE account of the organization by row id or by 12-digit account id. */
err_code store_outscale_find(PGconn *c, const char *organization_id, const char *id_or_account,
                             struct store_outscale *out, struct err *e) MKT_MUST_USE;
err_code store_outscale_get(PGconn *c, const char *id, struct store_outscale *out, struct err *e) MKT_MUST_USE;
/* tx. active -> detaching (next_attempt_at = now); ERR_CONFLICT for the primary account. */
err_code store_outscale_start_detach(PGconn *tx, const char *id, mkt_time now, struct err *e) MKT_MUST_USE;
/* Every active OUTSCALE account (reconciliation). */
err_code store_outscale_all_active(PGconn *c, struct store_outscale_list *out, struct err *e) MKT_MUST_USE;
/* The detach teardowns as lib/job jobs on outscale_accounts: due while 'detaching' once every
 * EIM user of the account is gone; done = 'detached' with the sealed secret forgotten; a failure
 * is retried every `retry_every` (the error in eim_detail), never given up. */
void store_detach_jobs(struct job_table *t, mkt_time retry_every);
/* Claims detaching accounts whose EIM users are all gone and whose retry time has come, under a
 * lease held by `owner` until lease_until. */
err_code store_outscale_claim_detach(PGconn *c, const struct job_table *t, const char *owner, mkt_time now,
                                     mkt_time lease_until, int limit, struct store_outscale_list *out,
                                     struct err *e) MKT_MUST_USE;
/* Records the outcome of a reconciliation pass (eim_state "ready" or "failed" with a detail). */
err_code store_outscale_reconciled(PGconn *c, const char *id, const char *eim_state, const char *detail,
                                   mkt_time now, struct err *e) MKT_MUST_USE;

/* ---- accounts, callers, credentials (store_accounts.c) ----------------------------------------- */

struct store_account {
    char id[STORE_ID];
    char organization_id[STORE_ID];  /* "" for operators */
    char name[STORE_NAME];
    char email[STORE_EMAIL];
    unsigned roles;                  /* ROLE_* bits */
    char language[3];
    bool operator;
    bool password_set;
    bool otp_enabled;
    char eim_state[16];              /* of the EIM user in the primary OUTSCALE account; "" when none */
    char eim_user_name[64];
    mkt_time created_at;
};

struct store_account_list {
    struct store_account *v;         /* owned */
    size_t n;
};
void store_account_list_cleanup(struct store_account_list *l);

/* tx. `password_hash` may be NULL (set later through a link). */
err_code store_account_insert(PGconn *tx, const struct store_account *a, const char *password_hash, mkt_time now,
                              struct err *e) MKT_MUST_USE;
/* An account by id; with organization_id not NULL, only inside that organization. */
err_code store_account_get(PGconn *c, const char *id, const char *organization_id, struct store_account *out,
                           struct err *e) MKT_MUST_USE;
/* A page of the organization's accounts (lib/cursor, kind CURSOR_TIME) by (created_at, id):
 * cursor_page_fetch(page) rows at most, after page->after when set. */
err_code store_account_list(PGconn *c, const char *organization_id, const struct cursor_page *page,
                            struct store_account_list *out, struct err *e) MKT_MUST_USE;
/* Whether an account uses this (lower-case) e-mail, other than `except_id` (may be NULL). */
err_code store_email_taken(PGconn *c, const char *email, const char *except_id, bool *taken,
                           struct err *e) MKT_MUST_USE;
/* tx. Writes name, email, roles and language of `a` (by a->id). */
err_code store_account_update(PGconn *tx, const struct store_account *a, struct err *e) MKT_MUST_USE;
/* tx. Deletes the account (its sessions and tokens go with it). */
err_code store_account_delete(PGconn *tx, const char *id, struct err *e) MKT_MUST_USE;
/* tx. Locks the organization's admin accounts (ACC-5: the last admin stays) and counts them. */
err_code store_admins_lock(PGconn *tx, const char *organization_id, int *count, struct err *e) MKT_MUST_USE;
/* The organization's administrators (mail recipients). */
err_code store_admins(PGconn *c, const char *organization_id, struct store_account_list *out,
                      struct err *e) MKT_MUST_USE;

/* Who is calling (the actor of a request, or the owner of a session), read fresh from the
 * database: roles, organization type and status as they are now. */
struct store_caller {
    char session_id[STORE_ID];
    char account_id[STORE_ID];
    char organization_id[STORE_ID];  /* "" for operators */
    char email[STORE_EMAIL];
    char name[STORE_NAME];
    char language[3];
    unsigned roles, types;
    char org_status[16];
    bool ugap;
    bool operator;
    mkt_time last_seen_at;           /* of the session */
};
/* The live session with this token hash (not ended; the idle rule is the caller's) and its
 * account. ERR_NOT_FOUND when there is none. */
err_code store_session_caller(PGconn *c, const char *token_hash, struct store_caller *out,
                              struct err *e) MKT_MUST_USE;
/* The account `account_id`; with session_id not "" that session must be live (not ended) and
 * belong to it. ERR_NOT_FOUND otherwise. */
err_code store_account_caller(PGconn *c, const char *account_id, const char *session_id, struct store_caller *out,
                              struct err *e) MKT_MUST_USE;

/* What login and password changes need: secrets included, never sent out. */
struct store_credentials {
    char id[STORE_ID];
    char organization_id[STORE_ID];
    char email[STORE_EMAIL];
    char name[STORE_NAME];
    char language[3];
    bool operator;
    char password_hash[PASSWORD_HASH_MAX];     /* "" when not set */
    char otp_secret[VAULT_SEALED_MAX];         /* sealed, "" when 2FA is off */
    char otp_pending[VAULT_SEALED_MAX];        /* sealed, "" when no enrolment is pending */
    int64_t otp_last_step;                     /* -1 when none */
};
err_code store_credentials_by_email(PGconn *c, const char *email, struct store_credentials *out,
                                    struct err *e) MKT_MUST_USE;
err_code store_credentials_by_id(PGconn *c, const char *id, struct store_credentials *out,
                                 struct err *e) MKT_MUST_USE;
/* Replaces the password hash (AUTH-2). */
err_code store_set_password(PGconn *c, const char *account_id, const char *hash, mkt_time now,
                            struct err *e) MKT_MUST_USE;
/* Creates or updates the operator account with this e-mail; ERR_CONFLICT when the e-mail belongs
 * to an organization's account. `hash` NULL keeps the current one. */
err_code store_operator_upsert(PGconn *c, const char *id, const char *email, const char *name, const char *hash,
                               mkt_time now, struct err *e) MKT_MUST_USE;
/* 2FA (AUTH-6). */
err_code store_otp_set_pending(PGconn *c, const char *account_id, const char *sealed, struct err *e) MKT_MUST_USE;
/* Pending secret -> enabled, remembering the step of the confirming code. */
err_code store_otp_enable(PGconn *c, const char *account_id, const char *sealed, int64_t step,
                          struct err *e) MKT_MUST_USE;
err_code store_otp_disable(PGconn *c, const char *account_id, struct err *e) MKT_MUST_USE;
/* Records `step` as used unless it (or a later one) was: *fresh false means the code was reused. */
err_code store_otp_use_step(PGconn *c, const char *account_id, int64_t step, bool *fresh,
                            struct err *e) MKT_MUST_USE;

/* ---- link tokens, sessions, login failures (store_auth.c) -------------------------------------- */

struct store_token {
    char id[STORE_ID];
    char account_id[STORE_ID];
    mkt_time expires_at, used_at;    /* used_at 0 = unused */
};
/* tx. Stores a single-use link token by its hash. */
err_code store_token_insert(PGconn *tx, const char *id, const char *hash, const char *kind, const char *account_id,
                            mkt_time now, mkt_time expires_at, struct err *e) MKT_MUST_USE;
/* The token of this hash and kind; with `lock` (in a transaction) the row is locked. */
err_code store_token_find(PGconn *c, const char *hash, const char *kind, bool lock, struct store_token *out,
                          struct err *e) MKT_MUST_USE;
/* tx. Marks the token used. */
err_code store_token_use(PGconn *tx, const char *id, mkt_time now, struct err *e) MKT_MUST_USE;
/* tx. Ends the account's unused tokens of `kind` (a new link supersedes the older ones). */
err_code store_tokens_supersede(PGconn *tx, const char *account_id, const char *kind, mkt_time now,
                                struct err *e) MKT_MUST_USE;

err_code store_session_insert(PGconn *c, const char *id, const char *hash, const char *account_id,
                              const char *client_addr, mkt_time now, struct err *e) MKT_MUST_USE;
/* Records activity (AUTH-5). */
err_code store_session_touch(PGconn *c, const char *id, mkt_time now, struct err *e) MKT_MUST_USE;
/* Ends one session by id or by token hash (*ended false when it was already over or unknown). */
err_code store_session_end(PGconn *c, const char *id, const char *hash, mkt_time now, bool *ended,
                           struct err *e) MKT_MUST_USE;
/* tx. Ends every live session of the account except `keep_id` (NULL or "" = all). */
err_code store_sessions_end_all(PGconn *tx, const char *account_id, const char *keep_id, mkt_time now,
                                struct err *e) MKT_MUST_USE;

#define STORE_FAILURES_MAX 64
/* The most recent failures of `key` after `since`, newest first, at most `max` (<= STORE_FAILURES_MAX). */
err_code store_failures_recent(PGconn *c, const char *key, mkt_time since, int max, mkt_time *out, size_t *n,
                               struct err *e) MKT_MUST_USE;
/* Records one failure for each non-NULL key. */
err_code store_failure_add(PGconn *c, const char *key1, const char *key2, mkt_time now, struct err *e) MKT_MUST_USE;
err_code store_failures_clear(PGconn *c, const char *key, struct err *e) MKT_MUST_USE;

/* ---- EIM work, schedules, pruning (store_eim.c) ------------------------------------------------ */

/* tx. Plans the EIM user of a new account in each of its organization's active OUTSCALE accounts
 * (nothing when the account no longer exists). *planned counts new rows. */
err_code store_eim_plan_account(PGconn *tx, const char *account_id, mkt_time now, int *planned,
                                struct err *e) MKT_MUST_USE;
/* tx. Plans the EIM users of every account of the organization in a newly attached OUTSCALE
 * account (row id). */
err_code store_eim_plan_outscale(PGconn *tx, const char *outscale_row_id, mkt_time now, int *planned,
                                 struct err *e) MKT_MUST_USE;
/* tx. Wants the account's EIM users gone (account deleted). */
err_code store_eim_unplan_account(PGconn *tx, const char *account_id, mkt_time now, int *changed,
                                  struct err *e) MKT_MUST_USE;
/* tx. Wants every EIM user of an OUTSCALE account (row id) gone (account detached). */
err_code store_eim_unplan_outscale(PGconn *tx, const char *outscale_row_id, mkt_time now, int *changed,
                                   struct err *e) MKT_MUST_USE;

/* The deterministic EIM user name of a marketplace account: "marketplace_" + 16 hex digits. */
void store_eim_user_name(const char *account_id, char out[64]);

struct store_eim_job {
    char id[STORE_ID];
    char account_id[STORE_ID];
    char organization_id[STORE_ID];
    char user_name[64];
    char want[16];                   /* "present" or "absent" */
    int attempts;                    /* including this one */
    struct store_outscale outscale;  /* where the user lives, with the platform's sealed key */
};
struct store_eim_jobs {
    struct store_eim_job *v;         /* owned */
    size_t n;
};
void store_eim_jobs_cleanup(struct store_eim_jobs *l);
/* The EIM jobs as lib/job jobs on eim_users: due while 'pending' or 'deleting'; done = 'ready'
 * (present) or 'deleted' (absent); retried with lib/backoff from 1 s up to backoff_max, 'failed'
 * after max_attempts (until reconciliation restarts it). Outcomes are recorded with job_done /
 * job_retry on this table; the lease holder alone records one, and re-planning a row (unplan,
 * requeue, restart) clears the lease: *recorded false means the row's wish changed meanwhile
 * (the account was deleted while its user was being created). */
void store_eim_jobs_table(struct job_table *t, int max_attempts, mkt_time backoff_max);
/* Claims up to `limit` due jobs, skipping rows other replicas hold, under a lease held by `owner`
 * until lease_until (a crash makes them due again then). */
err_code store_eim_claim(PGconn *c, const struct job_table *t, const char *owner, mkt_time now, mkt_time lease_until,
                         int limit, struct store_eim_jobs *out, struct err *e) MKT_MUST_USE;
/* A user was created for a row that meanwhile wants it absent: delete it again (even when the
 * deletion already ran, it may have run before the creation). */
err_code store_eim_redo_delete(PGconn *c, const char *id, mkt_time now, struct err *e) MKT_MUST_USE;
/* The EIM users wanted in an OUTSCALE account (row id), with their state. */
struct store_eim_user {
    char id[STORE_ID];
    char account_id[STORE_ID];
    char user_name[64];
    char state[16];
};
struct store_eim_users {
    struct store_eim_user *v;        /* owned */
    size_t n;
};
void store_eim_users_cleanup(struct store_eim_users *l);
err_code store_eim_wanted(PGconn *c, const char *outscale_row_id, struct store_eim_users *out,
                          struct err *e) MKT_MUST_USE;
/* Makes a wanted user due again (reconciliation found it missing); failed rows restart. */
err_code store_eim_requeue(PGconn *c, const char *id, mkt_time now, struct err *e) MKT_MUST_USE;
/* Restarts every failed row (reconciliation gives them another round). *n counts them. */
err_code store_eim_restart_failed(PGconn *c, mkt_time now, long *n, struct err *e) MKT_MUST_USE;

/* Claims a periodic duty shared by replicas: true in *due when its time has come, and its next
 * run is then moved to `next`. */
err_code store_schedule_claim(PGconn *c, const char *name, mkt_time now, mkt_time next, bool *due,
                              struct err *e) MKT_MUST_USE;
/* Deletes what can no longer matter: failures older than `failures_before`, sessions ended or idle
 * before `sessions_before`, tokens expired before `tokens_before`. */
err_code store_prune(PGconn *c, mkt_time failures_before, mkt_time sessions_before, mkt_time tokens_before,
                     struct err *e) MKT_MUST_USE;

#endif
