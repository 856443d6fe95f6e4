/* Identity's request/reply methods (mkt.rpc.identity.<method>, proto/identity.proto), split by
 * domain: handlers_auth.c (links, login, tokens, logout: AUTH-1..5, AUTH-8), handlers_me.c (the
 * logged-in account, password change, 2FA: AUTH-3, AUTH-6, AUTH-7), handlers_org.c (sign-up,
 * organizations, OUTSCALE accounts: ORG-1, ORG-2, ORG-4, ORG-6), handlers_operators.c (ORG-3,
 * ORG-5), handlers_accounts.c (account administration: ACC-1..5). This header holds the method
 * table and the helpers they share (handlers.c):
 * the caller re-read from the database (every handler re-checks authorization from it: the
 * gateway checks too, this is defense in depth), protobuf views of rows, link tokens with their
 * mail, and events. All run on workers with the worker's connection. */
#ifndef IDENTITY_HANDLERS_H
#define IDENTITY_HANDLERS_H

#include "bus.h"
#include "identity.h"
#include "identity.pb-c.h"
#include "store.h"

extern const struct bus_method handlers_methods[];
extern const size_t handlers_methods_count;

/* ---- methods (one function each; the table in handlers.c names them) ---- */
err_code handlers_signup(struct bus_call *call, struct err *e);
err_code handlers_set_password(struct bus_call *call, struct err *e);
err_code handlers_forgot_password(struct bus_call *call, struct err *e);
err_code handlers_reset_password(struct bus_call *call, struct err *e);
err_code handlers_login(struct bus_call *call, struct err *e);
err_code handlers_resolve(struct bus_call *call, struct err *e);
err_code handlers_logout(struct bus_call *call, struct err *e);
err_code handlers_me(struct bus_call *call, struct err *e);
err_code handlers_change_password(struct bus_call *call, struct err *e);
err_code handlers_enroll_2fa(struct bus_call *call, struct err *e);
err_code handlers_confirm_2fa(struct bus_call *call, struct err *e);
err_code handlers_disable_2fa(struct bus_call *call, struct err *e);
err_code handlers_enroll_certificate(struct bus_call *call, struct err *e);
err_code handlers_get_organization(struct bus_call *call, struct err *e);
err_code handlers_update_organization(struct bus_call *call, struct err *e);
err_code handlers_list_accounts(struct bus_call *call, struct err *e);
err_code handlers_create_account(struct bus_call *call, struct err *e);
err_code handlers_update_account(struct bus_call *call, struct err *e);
err_code handlers_delete_account(struct bus_call *call, struct err *e);
err_code handlers_list_outscale_accounts(struct bus_call *call, struct err *e);
err_code handlers_attach_outscale_account(struct bus_call *call, struct err *e);
err_code handlers_detach_outscale_account(struct bus_call *call, struct err *e);
err_code handlers_list_organizations(struct bus_call *call, struct err *e);
err_code handlers_validate_organization(struct bus_call *call, struct err *e);
err_code handlers_set_ugap(struct bus_call *call, struct err *e);

/* ---- shared helpers ---- */

static inline struct identity *handlers_app(const struct bus_call *call) { return call->worker->app; }
static inline const char *handlers_request_id(const struct bus_call *call) {
    return call->req && call->req->request_id ? call->req->request_id : "";
}

/* The caller of an authenticated method, from the request's actor, re-read from the database
 * (account, roles, organization type and status as they are now; the session, when the actor
 * names one, must still be live). ERR_UNAUTHENTICATED without an actor or when either is gone. */
err_code handlers_caller(struct bus_call *call, struct store_caller *out, struct err *e) MKT_MUST_USE;
/* Authorization checks on a caller: ERR_FORBIDDEN with the reason. */
err_code handlers_require_member(const struct store_caller *c, struct err *e) MKT_MUST_USE;   /* in an organization */
err_code handlers_require_admin(const struct store_caller *c, struct err *e) MKT_MUST_USE;    /* ACC-2 */
err_code handlers_require_operator(const struct store_caller *c, struct err *e) MKT_MUST_USE; /* ORG-3, ORG-5 */

/* Protobuf views of rows: the message points into the row (and `names`), which must outlive it. */
void handlers_account_pb(const struct store_account *a, Mkt__Identity__Account *pb, const char *names[2]);
void handlers_org_pb(const struct store_org *o, Mkt__Identity__Organization *pb, const char *names[2]);
void handlers_outscale_pb(const struct store_outscale *o, Mkt__Identity__OutscaleAccount *pb);

/* tx. Issues a single-use link (`kind`: "set_password" or "reset_password", valid `ttl`) for the
 * account and commands its mail (MAIL stream only: the token never goes on EVENTS, MAIL-3). */
struct handlers_link {
    const char *kind;
    const char *account_id;
    const char *organization_id;   /* "" for operators */
    const char *organization_name; /* for set_password; may be NULL */
    const char *email, *name, *language;
    mkt_time ttl;
};
err_code handlers_issue_link(PGconn *tx, const struct handlers_link *l, const char *correlation,
                             struct err *e) MKT_MUST_USE;

/* tx. Events on EVENTS (ids only, never secrets). */
err_code handlers_emit_org(PGconn *tx, const char *type, const struct store_org *o, const char *actor,
                           const char *correlation, struct err *e) MKT_MUST_USE;
err_code handlers_emit_account(PGconn *tx, const char *type, const struct store_account *a, const char *actor,
                               const char *correlation, struct err *e) MKT_MUST_USE;
err_code handlers_emit_outscale(PGconn *tx, const char *type, const struct store_outscale *o, const char *actor,
                                const char *correlation, struct err *e) MKT_MUST_USE;

/* ---- throttling (AUTH-8) ---- */
struct handlers_throttle_keys {
    char account[STORE_EMAIL + 16]; /* "account:<lower-case e-mail>" */
    char addr[80];                  /* "addr:<client address>", "" when unknown */
};
void handlers_throttle_keys(const char *email, const char *client_addr, struct handlers_throttle_keys *k);
/* ERR_THROTTLED (with e->retry_after_s) when either key has too many recent failures: per account
 * MKT_LOGIN_MAX_FAILURES, per address MKT_LOGIN_ADDR_MAX_FAILURES, within MKT_LOGIN_WINDOW_S. */
err_code handlers_throttle_check(struct identity *id, PGconn *db, const struct handlers_throttle_keys *k,
                                 mkt_time now, struct err *e) MKT_MUST_USE;
/* Records one failure for both keys (a failure to record is logged, not returned). */
void handlers_throttle_fail(PGconn *db, const struct handlers_throttle_keys *k, mkt_time now);
/* The client's address: `given` when set, else the actor's (borrowed; "" when unknown). */
const char *handlers_client_addr(const struct bus_call *call, const char *given);

/* ---- TOTP (AUTH-6) ---- */
/* Opens an account's sealed TOTP secret into out (>= VAULT_PLAIN_MAX bytes); the caller wipes it. */
err_code handlers_open_otp(struct identity *id, const char *account_id, const char *sealed, uint8_t *out, size_t *n,
                           struct err *e) MKT_MUST_USE;
/* Checks a code against the sealed secret and records its step, so that it works once; *ok
 * false for a wrong or reused code. */
err_code handlers_check_otp(struct identity *id, PGconn *db, const struct store_credentials *cred, const char *sealed,
                            const char *code, bool *ok, struct err *e) MKT_MUST_USE;

#endif
