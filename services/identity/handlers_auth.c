/* Passwords, sessions and second factor: set and reset through single-use links (ORG-2, ACC-3,
 * AUTH-4), login with throttling (AUTH-8) and TOTP (AUTH-6), the resolution of bearer tokens for
 * the gateway (AUTH-5), logout, password change (AUTH-3) and 2FA enrolment. Secrets are hashed
 * (tokens: SHA-256; passwords: argon2id, AUTH-2) or sealed (TOTP secrets) before they touch the
 * database, and wiped from memory after use. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "handlers.h"
#include "id.h"
#include "log.h"
#include "rules.h"
#include "totp.h"

/* ---- throttling (AUTH-8) ------------------------------------------------------------------------------ */

struct throttle_keys {
    char account[STORE_EMAIL + 16]; /* "account:<lower-case e-mail>" */
    char addr[80];                  /* "addr:<client address>", "" when unknown */
};

static void throttle_keys(const char *email, const char *client_addr, struct throttle_keys *k) {
    snprintf(k->account, sizeof k->account, "account:%s", email);
    if (client_addr && *client_addr)
        snprintf(k->addr, sizeof k->addr, "addr:%.64s", client_addr);
    else
        k->addr[0] = '\0';
}

/* ERR_THROTTLED (with e->retry_after_s) when either key has too many recent failures. */
static err_code throttle_check(struct identity *id, PGconn *db, const struct throttle_keys *k, mkt_time now,
                               struct err *e) {
    const char *keys[] = {k->account, k->addr};
    const int max[] = {(int)id->cfg.login_max_failures, (int)id->cfg.login_addr_max_failures};
    mkt_time window = id->cfg.login_window_s * CLOCK_SECOND;
    int wait = 0;
    for (size_t i = 0; i < 2; i++) {
        if (!keys[i][0])
            continue;
        mkt_time t[STORE_FAILURES_MAX];
        size_t n = 0;
        err_code code = store_failures_recent(db, keys[i], now - window, max[i], t, &n, e);
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

static void throttle_fail(PGconn *db, const struct throttle_keys *k, mkt_time now) {
    struct err ignored;
    if (store_failure_add(db, k->account, k->addr[0] ? k->addr : NULL, now, &ignored) != ERR_OK)
        log_warn("login failure not recorded: %s", ignored.msg);
}

static const char *client_addr_of(const struct bus_call *call, const char *given) {
    if (given && *given)
        return given;
    const Mkt__Actor *a = call->req ? call->req->actor : NULL;
    return a && a->client_addr ? a->client_addr : "";
}

/* ---- links: set and reset the password ----------------------------------------------------------- */

/* Uses a single-use link of `kind` to set the password (ORG-2, ACC-3: 24 h; AUTH-4: 5 min). The
 * password is checked first so that a refused password does not burn the link; every session of
 * the account ends (AUTH-5). */
static err_code use_link(struct bus_call *call, const char *kind, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__TokenPassword *in = (const Mkt__Identity__TokenPassword *)call->in;
    char hash[STORE_HASH], pw_hash[PASSWORD_HASH_MAX];
    struct store_token tok;
    struct store_credentials cred;
    err_code code = validation_token("token", in->token, e);
    if (code == ERR_OK)
        code = validation_password("password", in->password, e);
    if (code != ERR_OK)
        return code;
    crypto_sha256_hex(in->token, strlen(in->token), hash);
    code = store_token_find(db, hash, kind, false, &tok, e);
    if (code == ERR_NOT_FOUND)
        return err_set(e, ERR_INVALID, "field 'token': unknown link");
    if (code != ERR_OK)
        return code;
    switch (rules_link_check(clock_now(), tok.expires_at, tok.used_at)) {
    case RULES_LINK_EXPIRED:
        return err_set(e, ERR_INVALID, "field 'token': this link has expired; ask for a new one");
    case RULES_LINK_USED:
        return err_set(e, ERR_INVALID, "field 'token': this link has already been used");
    case RULES_LINK_OK: break;
    }
    code = store_credentials_by_id(db, tok.account_id, &cred, e);
    if (code == ERR_OK)
        code = password_hash(&id->argon2, in->password, pw_hash, e); /* slow: outside the transaction */
    if (code != ERR_OK)
        goto done;
    /* In the transaction, the token row is locked and checked again: of two concurrent uses of one
     * link, the second sees it used. */
    mkt_time now = clock_now();
    code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_token_find(db, hash, kind, true, &tok, e);
    if (code == ERR_OK && rules_link_check(now, tok.expires_at, tok.used_at) != RULES_LINK_OK)
        code = err_set(e, ERR_INVALID, "field 'token': this link has expired or has already been used");
    if (code == ERR_OK)
        code = store_token_use(db, tok.id, now, e);
    if (code == ERR_OK)
        code = store_set_password(db, tok.account_id, pw_hash, now, e);
    if (code == ERR_OK)
        code = store_sessions_end_all(db, tok.account_id, NULL, now, e);
    if (code == ERR_OK)
        code = db_commit(db, e);
    if (code != ERR_OK) {
        db_rollback(db);
        goto done;
    }
    /* A new password lifts the account's throttling. */
    struct throttle_keys k;
    struct err ignored;
    throttle_keys(cred.email, NULL, &k);
    if (store_failures_clear(db, k.account, &ignored) != ERR_OK)
        log_warn("failures not cleared: %s", ignored.msg);
    log_info("%s: password set for account %s", kind, tok.account_id);
    Mkt__Identity__Empty rep = MKT__IDENTITY__EMPTY__INIT;
    bus_reply(call, &rep.base);
done:
    sodium_memzero(pw_hash, sizeof pw_hash);
    sodium_memzero(&cred, sizeof cred);
    return code;
}

err_code handlers_set_password(struct bus_call *call, struct err *e) { return use_link(call, "set_password", e); }
err_code handlers_reset_password(struct bus_call *call, struct err *e) { return use_link(call, "reset_password", e); }

/* AUTH-4: a reset link valid 5 minutes when the address is known; the same answer either way. */
err_code handlers_forgot_password(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__ForgotPassword *in = (const Mkt__Identity__ForgotPassword *)call->in;
    char email[STORE_EMAIL];
    struct store_credentials cred;
    err_code code = validation_email("email", in->email, email, sizeof email, e);
    if (code != ERR_OK)
        return code;
    code = store_credentials_by_email(db, email, &cred, e);
    if (code == ERR_OK) {
        struct handlers_link link = {
            .kind = "reset_password",
            .account_id = cred.id,
            .organization_id = cred.organization_id,
            .email = cred.email,
            .name = cred.name,
            .language = cred.language,
            .ttl = id->cfg.reset_ttl_s * CLOCK_SECOND,
        };
        code = db_begin(db, e);
        if (code == ERR_OK) /* the newest link replaces older unused ones */
            code = store_tokens_supersede(db, cred.id, "reset_password", clock_now(), e);
        if (code == ERR_OK)
            code = handlers_issue_link(db, &link, handlers_request_id(call), e);
        if (code == ERR_OK)
            code = db_commit(db, e);
        if (code != ERR_OK)
            db_rollback(db);
        else
            log_info("forgot_password: reset link sent to account %s", cred.id);
    } else if (code == ERR_NOT_FOUND) {
        /* Unknown address: comparable work (a token and its hash), and the same answer. */
        char token[64], hash[STORE_HASH];
        crypto_token(token, sizeof token, 32);
        crypto_sha256_hex(token, strlen(token), hash);
        code = ERR_OK;
    }
    sodium_memzero(&cred, sizeof cred);
    if (code != ERR_OK)
        return code;
    Mkt__Identity__Empty rep = MKT__IDENTITY__EMPTY__INIT;
    bus_reply(call, &rep.base);
    return ERR_OK;
}

/* ---- login, resolve, logout ------------------------------------------------------------------------ */

/* Opens the sealed TOTP secret of an account into out[TOTP_SECRET_LEN..]; *n its length. */
static err_code open_otp(struct identity *id, const char *account_id, const char *sealed, uint8_t *out, size_t *n,
                         struct err *e) {
    char context[80];
    snprintf(context, sizeof context, "accounts.otp:%s", account_id);
    return vault_open(id->vault, context, sealed, out, VAULT_PLAIN_MAX, n, e);
}

/* AUTH-6: checks a code against the account's secret and records its step (used once). */
static err_code check_otp(struct identity *id, PGconn *db, const struct store_credentials *cred, const char *sealed,
                          const char *code_in, bool *ok, struct err *e) {
    uint8_t secret[VAULT_PLAIN_MAX];
    size_t n = 0;
    int64_t step = 0;
    *ok = false;
    err_code code = open_otp(id, cred->id, sealed, secret, &n, e);
    if (code == ERR_OK && totp_verify(secret, n, code_in, clock_now(), cred->otp_last_step, &step))
        code = store_otp_use_step(db, cred->id, step, ok, e);
    sodium_memzero(secret, sizeof secret);
    return code;
}

err_code handlers_login(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__LoginRequest *in = (const Mkt__Identity__LoginRequest *)call->in;
    char email[STORE_EMAIL], token[64], hash[STORE_HASH], session_id[ID_UUID_LEN + 1];
    char new_hash[PASSWORD_HASH_MAX] = "";
    struct store_credentials cred;
    struct throttle_keys k;
    memset(&cred, 0, sizeof cred);
    err_code code = validation_email("email", in->email, email, sizeof email, e);
    if (code == ERR_OK && (!in->password || !*in->password))
        code = err_set(e, ERR_INVALID, "field 'password': required");
    if (code == ERR_OK && in->otp && *in->otp)
        code = validation_otp_code("otp", in->otp, e);
    if (code != ERR_OK)
        return code;
    mkt_time now = clock_now();
    const char *addr = client_addr_of(call, in->client_addr);
    throttle_keys(email, addr, &k);
    code = throttle_check(id, db, &k, now, e);
    if (code != ERR_OK)
        return code;
    code = store_credentials_by_email(db, email, &cred, e);
    if (code != ERR_OK && code != ERR_NOT_FOUND)
        goto done;
    bool known = code == ERR_OK;
    /* An unknown address costs the same argon2id verification as a known one (no enumeration). */
    bool good = password_verify(known && cred.password_hash[0] ? cred.password_hash : id->dummy_hash, in->password);
    if (!known || !cred.password_hash[0] || !good) {
        throttle_fail(db, &k, now);
        code = err_set(e, ERR_UNAUTHENTICATED, "wrong e-mail or password");
        goto done;
    }
    if (cred.otp_secret[0]) {
        bool ok = false;
        if (!in->otp || !*in->otp) {
            code = err_set(e, ERR_OTP_REQUIRED, "field 'otp': a code from the authenticator app is required");
            goto done;
        }
        code = check_otp(id, db, &cred, cred.otp_secret, in->otp, &ok, e);
        if (code != ERR_OK)
            goto done;
        if (!ok) {
            throttle_fail(db, &k, now);
            code = err_set(e, ERR_UNAUTHENTICATED, "field 'otp': wrong or already used code");
            goto done;
        }
    }
    /* Parameters changed since this hash was made: upgrade it now that the password is known. */
    if (password_needs_rehash(&id->argon2, cred.password_hash) &&
        password_hash(&id->argon2, in->password, new_hash, e) == ERR_OK &&
        store_set_password(db, cred.id, new_hash, now, e) != ERR_OK)
        log_warn("login: rehash of account %s not stored: %s", cred.id, e->msg);
    struct err ignored;
    if (store_failures_clear(db, k.account, &ignored) != ERR_OK)
        log_warn("login: failures not cleared: %s", ignored.msg);
    crypto_token(token, sizeof token, 32);
    crypto_sha256_hex(token, strlen(token), hash);
    id_uuid(session_id);
    code = store_session_insert(db, session_id, hash, cred.id, addr, now, e);
    if (code != ERR_OK)
        goto done;
    Mkt__Identity__LoginReply rep = MKT__IDENTITY__LOGIN_REPLY__INIT;
    rep.token = token;
    rep.expires_at_us = now + id->cfg.session_idle_s * CLOCK_SECOND;
    bus_reply(call, &rep.base);
    log_info("login: account %s, session %s", cred.id, session_id);
done:
    sodium_memzero(token, sizeof token);
    sodium_memzero(new_hash, sizeof new_hash);
    sodium_memzero(&cred, sizeof cred);
    return code;
}

/* The gateway's question for every authenticated request (AUTH-5): one indexed read, plus a write
 * at most every MKT_SESSION_TOUCH_S per session to extend it. No cache here: a logout or a deleted
 * account is refused by the very next resolve (the gateway caches answers for at most 1 s). */
err_code handlers_resolve(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__TokenRequest *in = (const Mkt__Identity__TokenRequest *)call->in;
    char hash[STORE_HASH];
    struct store_caller c;
    if (validation_token("token", in->token, NULL) != ERR_OK)
        return err_set(e, ERR_UNAUTHENTICATED, "invalid or expired session");
    crypto_sha256_hex(in->token, strlen(in->token), hash);
    err_code code = store_session_caller(db, hash, &c, e);
    if (code == ERR_NOT_FOUND)
        return err_set(e, ERR_UNAUTHENTICATED, "invalid or expired session");
    if (code != ERR_OK)
        return code;
    mkt_time now = clock_now(), idle = id->cfg.session_idle_s * CLOCK_SECOND;
    if (!rules_session_alive(now, c.last_seen_at, idle))
        return err_set(e, ERR_UNAUTHENTICATED, "the session expired after %lld s without activity",
                       id->cfg.session_idle_s);
    if (rules_session_touch_due(now, c.last_seen_at, id->cfg.session_touch_s * CLOCK_SECOND)) {
        code = store_session_touch(db, c.session_id, now, e);
        if (code != ERR_OK)
            return code;
        c.last_seen_at = now;
    }
    const char *roles[2], *types[2];
    Mkt__Actor actor = MKT__ACTOR__INIT;
    actor.account_id = c.account_id;
    actor.organization_id = c.organization_id;
    actor.n_org_types = validation_type_names(c.types, types);
    actor.org_types = (char **)types;
    actor.n_roles = validation_role_names(c.roles, roles);
    actor.roles = (char **)roles;
    actor.org_status = c.org_status;
    actor.operator_ = c.operator;
    actor.language = c.language;
    actor.session_id = c.session_id;
    actor.ugap = c.ugap;
    Mkt__Identity__ResolveReply rep = MKT__IDENTITY__RESOLVE_REPLY__INIT;
    rep.actor = &actor;
    rep.expires_at_us = c.last_seen_at + idle;
    bus_reply(call, &rep.base);
    return ERR_OK;
}

/* AUTH-5: logout ends the session at once: the one of the token given, else the actor's. */
err_code handlers_logout(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__TokenRequest *in = (const Mkt__Identity__TokenRequest *)call->in;
    const Mkt__Actor *a = call->req ? call->req->actor : NULL;
    char hash[STORE_HASH] = "";
    const char *session = a && a->session_id && id_is_uuid(a->session_id) ? a->session_id : "";
    if (in->token && *in->token) {
        if (validation_token("token", in->token, e) != ERR_OK)
            return ERR_INVALID;
        crypto_sha256_hex(in->token, strlen(in->token), hash);
        session = "";
    } else if (!*session) {
        return err_set(e, ERR_UNAUTHENTICATED, "logout needs a session");
    }
    bool ended = false;
    err_code code = store_session_end(db, session, hash, clock_now(), &ended, e);
    if (code != ERR_OK)
        return code;
    Mkt__Identity__Empty rep = MKT__IDENTITY__EMPTY__INIT;
    bus_reply(call, &rep.base);
    return ERR_OK;
}

/* ---- the logged-in account ---------------------------------------------------------------------------- */

err_code handlers_me(struct bus_call *call, struct err *e) {
    struct store_caller c;
    struct store_account a;
    err_code code = handlers_caller(call, &c, e);
    if (code == ERR_OK)
        code = store_account_get(call->worker->db, c.account_id, NULL, &a, e);
    if (code != ERR_OK)
        return code;
    const char *names[2];
    Mkt__Identity__Account rep;
    handlers_account_pb(&a, &rep, names);
    bus_reply(call, &rep.base);
    return ERR_OK;
}

/* AUTH-3: the old password is required; the account's other sessions end (AUTH-5). */
err_code handlers_change_password(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__ChangePassword *in = (const Mkt__Identity__ChangePassword *)call->in;
    struct store_caller c;
    struct store_credentials cred;
    struct throttle_keys k;
    char pw_hash[PASSWORD_HASH_MAX] = "";
    memset(&cred, 0, sizeof cred);
    err_code code = handlers_caller(call, &c, e);
    if (code != ERR_OK)
        return code;
    if (!in->old_password || !*in->old_password)
        return err_set(e, ERR_INVALID, "field 'old_password': required");
    code = validation_password("new_password", in->new_password, e);
    if (code != ERR_OK)
        return code;
    mkt_time now = clock_now();
    throttle_keys(c.email, client_addr_of(call, NULL), &k);
    code = throttle_check(id, db, &k, now, e);
    if (code == ERR_OK)
        code = store_credentials_by_id(db, c.account_id, &cred, e);
    if (code != ERR_OK)
        goto done;
    if (!password_verify(cred.password_hash, in->old_password)) {
        throttle_fail(db, &k, now);
        code = err_set(e, ERR_INVALID, "field 'old_password': does not match the current password");
        goto done;
    }
    code = password_hash(&id->argon2, in->new_password, pw_hash, e);
    if (code == ERR_OK)
        code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_set_password(db, c.account_id, pw_hash, now, e);
    if (code == ERR_OK)
        code = store_sessions_end_all(db, c.account_id, c.session_id, now, e);
    if (code == ERR_OK)
        code = db_commit(db, e);
    if (code != ERR_OK) {
        db_rollback(db);
        goto done;
    }
    log_info("change_password: account %s; other sessions ended", c.account_id);
    Mkt__Identity__Empty rep = MKT__IDENTITY__EMPTY__INIT;
    bus_reply(call, &rep.base);
done:
    sodium_memzero(pw_hash, sizeof pw_hash);
    sodium_memzero(&cred, sizeof cred);
    return code;
}

/* AUTH-6: a fresh secret, shown once; 2FA is on only after confirm_2fa with a first good code. */
err_code handlers_enroll_2fa(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    struct store_caller c;
    struct store_credentials cred;
    uint8_t secret[TOTP_SECRET_LEN];
    char b32[TOTP_SECRET_B32_MAX], sealed[VAULT_SEALED_MAX], context[80], uri[1024];
    memset(&cred, 0, sizeof cred);
    err_code code = handlers_caller(call, &c, e);
    if (code == ERR_OK)
        code = store_credentials_by_id(db, c.account_id, &cred, e);
    if (code != ERR_OK)
        return code;
    if (cred.otp_secret[0]) {
        code = err_set(e, ERR_CONFLICT, "two-factor authentication is already on: disable it first");
        goto done;
    }
    crypto_random(secret, sizeof secret);
    base32_encode(secret, sizeof secret, b32, sizeof b32);
    snprintf(context, sizeof context, "accounts.otp:%s", c.account_id);
    code = vault_seal(id->vault, context, secret, sizeof secret, sealed, sizeof sealed, e);
    if (code == ERR_OK)
        code = store_otp_set_pending(db, c.account_id, sealed, e);
    if (code != ERR_OK)
        goto done;
    if (!totp_uri(id->cfg.otp_issuer, c.email, b32, uri, sizeof uri)) {
        code = err_set(e, ERR_INTERNAL, "otpauth URI too long");
        goto done;
    }
    Mkt__Identity__Enroll2faReply rep = MKT__IDENTITY__ENROLL2FA_REPLY__INIT;
    rep.secret = b32;
    rep.otpauth_uri = uri;
    bus_reply(call, &rep.base);
done:
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(b32, sizeof b32);
    sodium_memzero(uri, sizeof uri);
    sodium_memzero(&cred, sizeof cred);
    return code;
}

err_code handlers_confirm_2fa(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__OtpCode *in = (const Mkt__Identity__OtpCode *)call->in;
    struct store_caller c;
    struct store_credentials cred;
    uint8_t secret[VAULT_PLAIN_MAX];
    size_t n = 0;
    int64_t step = 0;
    memset(&cred, 0, sizeof cred);
    err_code code = handlers_caller(call, &c, e);
    if (code == ERR_OK)
        code = validation_otp_code("code", in->code, e);
    if (code == ERR_OK)
        code = store_credentials_by_id(db, c.account_id, &cred, e);
    if (code != ERR_OK)
        return code;
    if (!cred.otp_pending[0]) {
        code = err_set(e, ERR_CONFLICT, "no enrolment is pending: call enroll_2fa first");
        goto done;
    }
    code = open_otp(id, c.account_id, cred.otp_pending, secret, &n, e);
    if (code != ERR_OK)
        goto done;
    if (!totp_verify(secret, n, in->code, clock_now(), -1, &step)) {
        code = err_set(e, ERR_INVALID, "field 'code': wrong code (check the authenticator app's clock)");
        goto done;
    }
    code = store_otp_enable(db, c.account_id, cred.otp_pending, step, e);
    if (code != ERR_OK)
        goto done;
    log_info("2FA enabled for account %s", c.account_id);
    Mkt__Identity__Empty rep = MKT__IDENTITY__EMPTY__INIT;
    bus_reply(call, &rep.base);
done:
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(&cred, sizeof cred);
    return code;
}

/* AUTH-6: disabling needs a valid (unused) code or the password. */
err_code handlers_disable_2fa(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__Disable2fa *in = (const Mkt__Identity__Disable2fa *)call->in;
    struct store_caller c;
    struct store_credentials cred;
    struct throttle_keys k;
    memset(&cred, 0, sizeof cred);
    err_code code = handlers_caller(call, &c, e);
    if (code == ERR_OK)
        code = store_credentials_by_id(db, c.account_id, &cred, e);
    if (code != ERR_OK)
        return code;
    bool has_code = in->code && *in->code, has_password = in->password && *in->password;
    if (!cred.otp_secret[0]) {
        code = err_set(e, ERR_CONFLICT, "two-factor authentication is not on");
        goto done;
    }
    if (!has_code && !has_password) {
        code = err_set(e, ERR_INVALID, "field 'code': a code or the password is required");
        goto done;
    }
    if (has_code && (code = validation_otp_code("code", in->code, e)) != ERR_OK)
        goto done;
    mkt_time now = clock_now();
    throttle_keys(c.email, client_addr_of(call, NULL), &k);
    code = throttle_check(id, db, &k, now, e);
    if (code != ERR_OK)
        goto done;
    bool ok = false;
    if (has_code) {
        code = check_otp(id, db, &cred, cred.otp_secret, in->code, &ok, e);
        if (code != ERR_OK)
            goto done;
    } else {
        ok = password_verify(cred.password_hash, in->password);
    }
    if (!ok) {
        throttle_fail(db, &k, now);
        code = has_code ? err_set(e, ERR_INVALID, "field 'code': wrong or already used code")
                        : err_set(e, ERR_INVALID, "field 'password': does not match the current password");
        goto done;
    }
    code = store_otp_disable(db, c.account_id, e);
    if (code != ERR_OK)
        goto done;
    log_info("2FA disabled for account %s", c.account_id);
    Mkt__Identity__Empty rep = MKT__IDENTITY__EMPTY__INIT;
    bus_reply(call, &rep.base);
done:
    sodium_memzero(&cred, sizeof cred);
    return code;
}

/* AUTH-7: said clearly, with the alternative. */
err_code handlers_enroll_certificate(struct bus_call *call, struct err *e) {
    (void)call;
    return err_set(e, ERR_UNSUPPORTED,
                   "client-certificate multi-factor authentication is not supported; use an authenticator app "
                   "(TOTP) instead");
}
