/* Identity's request/reply methods (mkt.rpc.identity.<method>, proto/identity.proto), split by
 * domain: handlers_auth.c (links, login, tokens, logout: AUTH-1..5, AUTH-8), handlers_me.c (the
 * logged-in account, password change, 2FA: AUTH-3, AUTH-6, AUTH-7), handlers_org.c (sign-up,
 * organizations, OUTSCALE accounts: ORG-1, ORG-2, ORG-4, ORG-6), handlers_operators.c (ORG-3,
 * ORG-5), handlers_accounts.c (account administration: ACC-1..5). This header holds the method
 * table and the helpers they share (handlers.c):
 * the caller re-read from the database with its access checked (every handler re-checks
 * authorization from it: the gateway checks too, this is defense in depth), the end of a
 * transaction, protobuf views of rows and replies, link tokens with their mail, events,
 * throttling and TOTP. All run on workers with the worker's connection. */
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
err_code handlers_organization_admins(struct bus_call *call, struct err *e);
err_code handlers_test_outscale_account(struct bus_call *call, struct err *e);
err_code handlers_source_images(struct bus_call *call, struct err *e);

/* ---- shared helpers ---- */

static inline struct identity *handlers_app(const struct bus_call *call) { return call->worker->app; }
static inline const char *handlers_request_id(const struct bus_call *call) {
    return call->req && call->req->request_id ? call->req->request_id : "";
}

/* Who may call a method, checked on the caller as the database has it now (access table in
 * handlers.c). */
enum handlers_access {
    HANDLERS_ACCOUNT,  /* any logged-in account */
    HANDLERS_MEMBER,   /* a member of an organization */
    HANDLERS_ADMIN,    /* an administrator of an organization (ACC-2) */
    HANDLERS_OPERATOR, /* an operator (ORG-3, ORG-5) */
};
/* The caller of an authenticated method, from the request's actor, re-read from the database
 * (account, roles, organization type and status as they are now; the session, when the actor
 * names one, must still be live), then checked against `need`. ERR_UNAUTHENTICATED without an
 * actor or when either is gone; ERR_FORBIDDEN with the reason when `need` is not met. */
err_code handlers_caller(struct bus_call *call, enum handlers_access need, struct store_caller *out,
                         struct err *e) MKT_MUST_USE;
/* handlers_caller for a method about one row: then `id` (the request's field "id") must be an id. */
err_code handlers_caller_id(struct bus_call *call, enum handlers_access need, const char *id,
                            struct store_caller *out, struct err *e) MKT_MUST_USE;

/* Ends the transaction the handler began with db_begin: commits when `code` (the outcome so far)
 * is ERR_OK, else (and when the commit fails) rolls back. Returns the outcome; the reason is in e. */
err_code handlers_commit(PGconn *tx, err_code code, struct err *e) MKT_MUST_USE;

/* Protobuf views of rows: the message points into the row (and `names`), which must outlive it. */
void handlers_account_pb(const struct store_account *a, Mkt__Identity__Account *pb, const char *names[2]);
void handlers_org_pb(const struct store_org *o, Mkt__Identity__Organization *pb, const char *names[2]);
void handlers_outscale_pb(const struct store_outscale *o, Mkt__Identity__OutscaleAccount *pb);

/* Replies, so that a handler can end with `return handlers_reply_...`: the account `id` read now
 * (only inside organization_id when not NULL: others' do not exist for the caller); an
 * organization's row; Empty. The last two return ERR_OK. */
err_code handlers_reply_account(struct bus_call *call, const char *id, const char *organization_id,
                                struct err *e) MKT_MUST_USE;
err_code handlers_reply_org(struct bus_call *call, const struct store_org *o);
err_code handlers_reply_empty(struct bus_call *call);

/* The messages of a repeated field: `n` zeroed messages of `size` bytes, reached through the
 * array of pointers protobuf-c wants (ptrs[i] is message i), and room for two names per message
 * (the views' `names`). Owned: handlers_pb_array_cleanup frees it (also after a failed init). */
struct handlers_pb_array {
    void **ptrs;
    const char *(*names)[2];
};
err_code handlers_pb_array_init(struct handlers_pb_array *a, size_t n, size_t size, struct err *e) MKT_MUST_USE;
void handlers_pb_array_cleanup(struct handlers_pb_array *a);

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
/* tx. The set-password link of a new account of organization `o` (ORG-2, ACC-3). */
err_code handlers_issue_set_password(PGconn *tx, const struct identity *id, const struct store_account *a,
                                     const struct store_org *o, const char *correlation, struct err *e) MKT_MUST_USE;

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
/* Fills k for the e-mail and the client address (`given` when set, else the actor's), then:
 * ERR_THROTTLED (with e->retry_after_s) when either key has too many recent failures: per account
 * MKT_LOGIN_MAX_FAILURES, per address MKT_LOGIN_ADDR_MAX_FAILURES, within MKT_LOGIN_WINDOW_S. */
err_code handlers_throttle_check(struct bus_call *call, const char *email, const char *given_addr, mkt_time now,
                                 struct handlers_throttle_keys *k, struct err *e) MKT_MUST_USE;
/* Records one failure for both keys (a failure to record is logged, not returned). */
void handlers_throttle_fail(PGconn *db, const struct handlers_throttle_keys *k, mkt_time now);
/* Forgets the account's failures: a success lifts its throttling (a failure to forget is logged). */
void handlers_throttle_clear(PGconn *db, const char *email);
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
