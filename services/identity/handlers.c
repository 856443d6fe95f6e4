/* The method table of identity and the helpers every handler file shares: re-reading the caller
 * from the database and checking its access (one table), ending a transaction, protobuf views of
 * rows and the replies made of them, single-use links with their mail, events, throttling and
 * TOTP. The methods themselves live in handlers_auth.c, handlers_me.c, handlers_org.c,
 * handlers_accounts.c and handlers_operators.c. */
#include "handlers.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "id.h"
#include "mail.pb-c.h"
#include "outbox.h"
#include "log.h"
#include "rules.h"
#include "otp.h"

/* Input types of each method; replies are named in proto/identity.proto and docs/IDENTITY.md. */
const struct bus_method handlers_methods[] = {
    /* public */
    {"signup", &mkt__identity__signup_request__descriptor, handlers_signup},
    {"set_password", &mkt__identity__token_password__descriptor, handlers_set_password},
    {"forgot_password", &mkt__identity__forgot_password__descriptor, handlers_forgot_password},
    {"reset_password", &mkt__identity__token_password__descriptor, handlers_reset_password},
    {"login", &mkt__identity__login_request__descriptor, handlers_login},
    {"resolve", &mkt__identity__token_request__descriptor, handlers_resolve},
    {"logout", &mkt__identity__token_request__descriptor, handlers_logout},
    /* the logged-in account */
    {"me", &mkt__identity__empty__descriptor, handlers_me},
    {"change_password", &mkt__identity__change_password__descriptor, handlers_change_password},
    {"enroll_2fa", &mkt__identity__empty__descriptor, handlers_enroll_2fa},
    {"confirm_2fa", &mkt__identity__otp_code__descriptor, handlers_confirm_2fa},
    {"disable_2fa", &mkt__identity__disable2fa__descriptor, handlers_disable_2fa},
    {"enroll_certificate", &mkt__identity__empty__descriptor, handlers_enroll_certificate},
    /* the organization */
    {"get_organization", &mkt__identity__id_request__descriptor, handlers_get_organization},
    {"update_organization", &mkt__identity__update_organization__descriptor, handlers_update_organization},
    {"list_accounts", &mkt__identity__list_page__descriptor, handlers_list_accounts},
    {"create_account", &mkt__identity__create_account__descriptor, handlers_create_account},
    {"update_account", &mkt__identity__update_account__descriptor, handlers_update_account},
    {"delete_account", &mkt__identity__id_request__descriptor, handlers_delete_account},
    {"list_outscale_accounts", &mkt__identity__list_page__descriptor, handlers_list_outscale_accounts},
    {"attach_outscale_account", &mkt__identity__attach_outscale_account__descriptor,
     handlers_attach_outscale_account},
    {"detach_outscale_account", &mkt__identity__id_request__descriptor, handlers_detach_outscale_account},
    {"test_outscale_account", &mkt__identity__id_request__descriptor, handlers_test_outscale_account},
    /* operators */
    {"list_organizations", &mkt__identity__list_organizations__descriptor, handlers_list_organizations},
    {"validate_organization", &mkt__identity__validate_organization__descriptor, handlers_validate_organization},
    {"set_ugap", &mkt__identity__set_ugap__descriptor, handlers_set_ugap},
    /* the platform's services */
    {"organization_admins", &mkt__identity__id_request__descriptor, handlers_organization_admins},
    {"source_images", &mkt__identity__source_images_request__descriptor, handlers_source_images},
};
const size_t handlers_methods_count = sizeof handlers_methods / sizeof handlers_methods[0];

/* ---- the caller ------------------------------------------------------------------------------------ */

/* What each access level asks of the caller, and the refusal when it is not met. */
struct access_rule {
    bool member;         /* in an organization */
    unsigned roles;      /* ROLE_* bits it must hold */
    bool operator;
    const char *refusal;
};
static const struct access_rule access_rules[] = {
    [HANDLERS_ACCOUNT] = {false, 0, false, ""},
    [HANDLERS_MEMBER] = {true, 0, false, "only members of an organization can do this"},
    [HANDLERS_ADMIN] = {true, ROLE_ADMIN, false, "only the organization's administrators can do this (ACC-2)"},
    [HANDLERS_OPERATOR] = {false, 0, true, "only operators can do this"},
};

err_code handlers_caller(struct bus_call *call, enum handlers_access need, struct store_caller *out, struct err *e) {
    struct identity *id = handlers_app(call);
    const Mkt__Actor *a = call->req ? call->req->actor : NULL;
    if (!a || !a->account_id || !id_is_uuid(a->account_id))
        return err_set(e, ERR_UNAUTHENTICATED, "this method needs a logged-in account");
    const char *session = a->session_id && *a->session_id ? a->session_id : "";
    if (*session && !id_is_uuid(session))
        return err_set(e, ERR_UNAUTHENTICATED, "malformed session id");
    err_code code = store_account_caller(call->worker->db, a->account_id, session, out, e);
    if (code == ERR_NOT_FOUND)
        return err_set(e, ERR_UNAUTHENTICATED, "the session has ended or the account no longer exists");
    if (code != ERR_OK)
        return code;
    if (*session && !rules_session_alive(clock_now(), out->last_seen_at, id->cfg.session_idle_s * CLOCK_SECOND))
        return err_set(e, ERR_UNAUTHENTICATED, "the session has expired");
    const struct access_rule *r = &access_rules[need];
    if ((r->member && !out->organization_id[0]) || (out->roles & r->roles) != r->roles ||
        (r->operator && !out->operator))
        return err_set(e, ERR_FORBIDDEN, "%s", r->refusal);
    return ERR_OK;
}

err_code handlers_caller_id(struct bus_call *call, enum handlers_access need, const char *id,
                            struct store_caller *out, struct err *e) {
    err_code code = handlers_caller(call, need, out, e);
    return code == ERR_OK ? validation_uuid("id", id, e) : code;
}

err_code handlers_commit(PGconn *tx, err_code code, struct err *e) {
    if (code == ERR_OK)
        code = db_commit(tx, e);
    if (code != ERR_OK)
        db_rollback(tx);
    return code;
}

/* ---- protobuf views and replies ------------------------------------------------------------------- */

void handlers_account_pb(const struct store_account *a, Mkt__Identity__Account *pb, const char *names[2]) {
    mkt__identity__account__init(pb);
    pb->id = (char *)a->id;
    pb->organization_id = (char *)a->organization_id;
    pb->name = (char *)a->name;
    pb->email = (char *)a->email;
    pb->n_roles = validation_role_names(a->roles, names);
    pb->roles = (char **)names;
    pb->language = (char *)a->language;
    pb->password_set = a->password_set;
    pb->otp_enabled = a->otp_enabled;
    pb->eim_state = (char *)a->eim_state;
    pb->eim_user_name = (char *)a->eim_user_name;
    pb->created_us = a->created_at;
    pb->operator_ = a->operator;
}

void handlers_org_pb(const struct store_org *o, Mkt__Identity__Organization *pb, const char *names[2]) {
    mkt__identity__organization__init(pb);
    pb->id = (char *)o->id;
    pb->name = (char *)o->name;
    pb->n_types = validation_type_names(o->types, names);
    pb->types = (char **)names;
    pb->region = (char *)o->region;
    pb->status = (char *)o->status;
    pb->ugap = o->ugap;
    pb->outscale_account_id = (char *)o->outscale_account_id;
    pb->created_us = o->created_at;
    pb->validated_us = o->validated_at;
    pb->partner_number = (char *)o->partner_number;
    pb->partner_status = (char *)o->partner_status;
    pb->partner_reason = (char *)o->partner_reason;
}

void handlers_outscale_pb(const struct store_outscale *o, Mkt__Identity__OutscaleAccount *pb) {
    mkt__identity__outscale_account__init(pb);
    pb->id = (char *)o->id;
    pb->account_id = (char *)o->account_id;
    pb->email = (char *)o->email;
    pb->primary = o->primary;
    pb->eim_state = (char *)o->eim_state;
    pb->attached_us = o->attached_at;
}

err_code handlers_reply_account(struct bus_call *call, const char *id, const char *organization_id, struct err *e) {
    struct store_account a;
    err_code code = store_account_get(call->worker->db, id, organization_id, &a, e);
    if (code != ERR_OK)
        return code;
    const char *names[2];
    Mkt__Identity__Account rep;
    handlers_account_pb(&a, &rep, names);
    bus_reply(call, &rep.base);
    return ERR_OK;
}

err_code handlers_reply_org(struct bus_call *call, const struct store_org *o) {
    const char *names[2];
    Mkt__Identity__Organization rep;
    handlers_org_pb(o, &rep, names);
    bus_reply(call, &rep.base);
    return ERR_OK;
}

err_code handlers_reply_empty(struct bus_call *call) {
    Mkt__Identity__Empty rep = MKT__IDENTITY__EMPTY__INIT;
    bus_reply(call, &rep.base);
    return ERR_OK;
}

err_code handlers_pb_array_init(struct handlers_pb_array *a, size_t n, size_t size, struct err *e) {
    /* One block, so one free: the pointers, the names, then the messages at an offset aligned for
     * any type. */
    size_t align = _Alignof(max_align_t), head = n * (sizeof *a->ptrs + sizeof *a->names);
    head = (head + align - 1) / align * align;
    char *block = calloc(1, head + n * size + 1);
    memset(a, 0, sizeof *a);
    if (!block)
        return err_set(e, ERR_INTERNAL, "out of memory");
    a->ptrs = (void **)block;
    a->names = (const char *(*)[2])(block + n * sizeof *a->ptrs);
    for (size_t i = 0; i < n; i++)
        a->ptrs[i] = block + head + i * size;
    return ERR_OK;
}

void handlers_pb_array_cleanup(struct handlers_pb_array *a) {
    free(a->ptrs); /* the whole block */
    memset(a, 0, sizeof *a);
}

/* ---- links and their mail ------------------------------------------------------------------------- */

err_code handlers_issue_link(PGconn *tx, const struct handlers_link *l, const char *correlation, struct err *e) {
    char token[64], hash[STORE_HASH], token_id[ID_UUID_LEN + 1], key[64];
    mkt_time now = clock_now();
    crypto_token(token, sizeof token, 32);
    crypto_sha256_hex(token, strlen(token), hash);
    id_uuid(token_id);
    err_code code = store_token_insert(tx, token_id, hash, l->kind, l->account_id, now, now + l->ttl, e);
    if (code == ERR_OK) {
        Mkt__Mail__Recipient rcpt = MKT__MAIL__RECIPIENT__INIT;
        rcpt.address = (char *)l->email;
        rcpt.name = (char *)(l->name ? l->name : "");
        rcpt.language = (char *)(l->language ? l->language : "en");
        Mkt__Mail__Recipient *rcpts[] = {&rcpt};
        Mkt__Mail__Command__VarsEntry v_token = MKT__MAIL__COMMAND__VARS_ENTRY__INIT;
        Mkt__Mail__Command__VarsEntry v_org = MKT__MAIL__COMMAND__VARS_ENTRY__INIT;
        v_token.key = "token";
        v_token.value = token;
        v_org.key = "organization_name";
        v_org.value = (char *)(l->organization_name ? l->organization_name : "");
        Mkt__Mail__Command__VarsEntry *vars[] = {&v_token, &v_org};
        Mkt__Mail__Command cmd = MKT__MAIL__COMMAND__INIT;
        cmd.template_ = (char *)l->kind; /* the template has the link's kind as name */
        cmd.recipients = rcpts;
        cmd.n_recipients = 1;
        cmd.vars = vars;
        cmd.n_vars = strcmp(l->kind, "set_password") == 0 ? 2 : 1;
        snprintf(key, sizeof key, "%s:%s", l->kind, token_id); /* one mail per link (MAIL-2) */
        cmd.idempotency_key = key;
        code = outbox_mail(tx, l->kind, l->organization_id, correlation, &cmd.base, e);
    }
    crypto_random(token, sizeof token); /* overwrite the only plaintext copy */
    return code;
}

err_code handlers_issue_set_password(PGconn *tx, const struct identity *id, const struct store_account *a,
                                     const struct store_org *o, const char *correlation, struct err *e) {
    struct handlers_link link = {
        .kind = "set_password",
        .account_id = a->id,
        .organization_id = o->id,
        .organization_name = o->name,
        .email = a->email,
        .name = a->name,
        .language = a->language,
        .ttl = id->cfg.set_password_ttl_s * CLOCK_SECOND,
    };
    return handlers_issue_link(tx, &link, correlation, e);
}

/* ---- events ----------------------------------------------------------------------------------------- */

err_code handlers_emit_org(PGconn *tx, const char *type, const struct store_org *o, const char *actor,
                           const char *correlation, struct err *e) {
    const char *names[2];
    Mkt__Identity__OrganizationEvent ev = MKT__IDENTITY__ORGANIZATION_EVENT__INIT;
    ev.organization_id = (char *)o->id;
    ev.name = (char *)o->name;
    ev.n_types = validation_type_names(o->types, names);
    ev.types = (char **)names;
    ev.region = (char *)o->region;
    ev.status = (char *)o->status;
    ev.ugap = o->ugap;
    return outbox_emit(tx, type, o->id, actor, correlation, &ev.base, e);
}

err_code handlers_emit_account(PGconn *tx, const char *type, const struct store_account *a, const char *actor,
                               const char *correlation, struct err *e) {
    const char *names[2];
    Mkt__Identity__AccountEvent ev = MKT__IDENTITY__ACCOUNT_EVENT__INIT;
    ev.account_id = (char *)a->id;
    ev.organization_id = (char *)a->organization_id;
    ev.n_roles = validation_role_names(a->roles, names);
    ev.roles = (char **)names;
    ev.language = (char *)a->language;
    return outbox_emit(tx, type, a->organization_id, actor, correlation, &ev.base, e);
}

err_code handlers_emit_outscale(PGconn *tx, const char *type, const struct store_outscale *o, const char *actor,
                                const char *correlation, struct err *e) {
    Mkt__Identity__OutscaleAccountEvent ev = MKT__IDENTITY__OUTSCALE_ACCOUNT_EVENT__INIT;
    ev.organization_id = (char *)o->organization_id;
    ev.outscale_account_id = (char *)o->account_id;
    ev.region = (char *)o->region;
    return outbox_emit(tx, type, o->organization_id, actor, correlation, &ev.base, e);
}

/* ---- throttling (AUTH-8) ------------------------------------------------------------------------------ */

static void throttle_keys(const char *email, const char *client_addr, struct handlers_throttle_keys *k) {
    snprintf(k->account, sizeof k->account, "account:%s", email);
    if (client_addr && *client_addr)
        snprintf(k->addr, sizeof k->addr, "addr:%.64s", client_addr);
    else
        k->addr[0] = '\0';
}

err_code handlers_throttle_check(struct bus_call *call, const char *email, const char *given_addr, mkt_time now,
                                 struct handlers_throttle_keys *k, struct err *e) {
    struct identity *id = handlers_app(call);
    throttle_keys(email, handlers_client_addr(call, given_addr), k);
    const char *keys[] = {k->account, k->addr};
    const int max[] = {(int)id->cfg.login_max_failures, (int)id->cfg.login_addr_max_failures};
    mkt_time window = id->cfg.login_window_s * CLOCK_SECOND;
    int wait = 0;
    for (size_t i = 0; i < 2; i++) {
        if (!keys[i][0])
            continue;
        mkt_time t[STORE_FAILURES_MAX];
        size_t n = 0;
        err_code code = store_failures_recent(call->worker->db, keys[i], now - window, max[i], t, &n, e);
        if (code != ERR_OK)
            return code;
        int w = rules_throttle_wait_s(t, n, max[i], window, now); /* max <= STORE_FAILURES_MAX (config bounds) */
        if (w > wait)
            wait = w;
    }
    if (wait == 0)
        return ERR_OK;
    err_set(e, ERR_THROTTLED, "too many failed attempts: try again in %d s", wait);
    e->retry_after_s = wait;
    return ERR_THROTTLED;
}

void handlers_throttle_fail(PGconn *db, const struct handlers_throttle_keys *k, mkt_time now) {
    struct err ignored;
    if (store_failure_add(db, k->account, k->addr[0] ? k->addr : NULL, now, &ignored) != ERR_OK)
        log_warn("login failure not recorded: %s", ignored.msg);
}

void handlers_throttle_clear(PGconn *db, const char *email) {
    struct handlers_throttle_keys k;
    struct err ignored;
    throttle_keys(email, NULL, &k);
    if (store_failures_clear(db, k.account, &ignored) != ERR_OK)
        log_warn("login failures not cleared: %s", ignored.msg);
}

const char *handlers_client_addr(const struct bus_call *call, const char *given) {
    if (given && *given)
        return given;
    const Mkt__Actor *a = call->req ? call->req->actor : NULL;
    return a && a->client_addr ? a->client_addr : "";
}

/* ---- TOTP (AUTH-6) ------------------------------------------------------------------------------------- */

/* Opens the sealed TOTP secret of an account into out[OTP_SECRET_LEN..]; *n its length. */
err_code handlers_open_otp(struct identity *id, const char *account_id, const char *sealed, uint8_t *out, size_t *n,
                         struct err *e) {
    char context[80];
    snprintf(context, sizeof context, "accounts.otp:%s", account_id);
    return vault_open(id->vault, context, sealed, out, VAULT_PLAIN_MAX, n, e);
}

/* AUTH-6: checks a code against the account's secret and records its step (used once). */
err_code handlers_check_otp(struct identity *id, PGconn *db, const struct store_credentials *cred, const char *sealed,
                          const char *code_in, bool *ok, struct err *e) {
    uint8_t secret[VAULT_PLAIN_MAX];
    size_t n = 0;
    int64_t step = 0;
    *ok = false;
    err_code code = handlers_open_otp(id, cred->id, sealed, secret, &n, e);
    if (code == ERR_OK && otp_verify(secret, n, code_in, clock_now(), cred->otp_last_step, &step))
        code = store_otp_use_step(db, cred->id, step, ok, e);
    sodium_memzero(secret, sizeof secret);
    return code;
}
