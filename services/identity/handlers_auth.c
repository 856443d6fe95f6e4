/* Passwords and sessions: set and reset through single-use links (ORG-2, ACC-3, AUTH-4), login
 * with throttling (AUTH-8) and the second factor (AUTH-6), the resolution of bearer tokens for the
 * gateway (AUTH-5), and logout. Secrets are hashed before they touch the database (tokens:
 * SHA-256; passwords: argon2id, AUTH-2) and wiped from memory after use. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "handlers.h"
#include "id.h"
#include "log.h"
#include "rules.h"

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
    code = handlers_commit(db, code, e);
    if (code != ERR_OK)
        goto done;
    handlers_throttle_clear(db, cred.email); /* a new password lifts the account's throttling */
    log_info("%s: password set for account %s", kind, tok.account_id);
    code = handlers_reply_empty(call);
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
        code = handlers_commit(db, code, e);
        if (code == ERR_OK)
            log_info("forgot_password: reset link sent to account %s", cred.id);
    } else if (code == ERR_NOT_FOUND) {
        /* Unknown address: comparable work (a token and its hash), and the same answer. */
        char token[64], hash[STORE_HASH];
        crypto_token(token, sizeof token, 32);
        crypto_sha256_hex(token, strlen(token), hash);
        code = ERR_OK;
    }
    sodium_memzero(&cred, sizeof cred);
    return code == ERR_OK ? handlers_reply_empty(call) : code;
}

/* ---- login, resolve, logout ------------------------------------------------------------------------ */

err_code handlers_login(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__LoginRequest *in = (const Mkt__Identity__LoginRequest *)call->in;
    char email[STORE_EMAIL], token[64], hash[STORE_HASH], session_id[ID_UUID_LEN + 1];
    char new_hash[PASSWORD_HASH_MAX] = "";
    struct store_credentials cred;
    struct handlers_throttle_keys k;
    memset(&cred, 0, sizeof cred);
    err_code code = validation_email("email", in->email, email, sizeof email, e);
    if (code == ERR_OK && (!in->password || !*in->password))
        code = err_set(e, ERR_INVALID, "field 'password': required");
    if (code == ERR_OK && in->otp && *in->otp)
        code = validation_otp_code("otp", in->otp, e);
    if (code != ERR_OK)
        return code;
    mkt_time now = clock_now();
    code = handlers_throttle_check(call, email, in->client_addr, now, &k, e);
    if (code != ERR_OK)
        return code;
    code = store_credentials_by_email(db, email, &cred, e);
    if (code != ERR_OK && code != ERR_NOT_FOUND)
        goto done;
    bool known = code == ERR_OK;
    /* An unknown address costs the same argon2id verification as a known one (no enumeration). */
    bool good = password_verify(known && cred.password_hash[0] ? cred.password_hash : id->dummy_hash, in->password);
    if (!known || !cred.password_hash[0] || !good) {
        handlers_throttle_fail(db, &k, now);
        code = err_set(e, ERR_UNAUTHENTICATED, "wrong e-mail or password");
        goto done;
    }
    if (cred.otp_secret[0]) {
        bool ok = false;
        if (!in->otp || !*in->otp) {
            code = err_set(e, ERR_OTP_REQUIRED, "field 'otp': a code from the authenticator app is required");
            goto done;
        }
        code = handlers_check_otp(id, db, &cred, cred.otp_secret, in->otp, &ok, e);
        if (code != ERR_OK)
            goto done;
        if (!ok) {
            handlers_throttle_fail(db, &k, now);
            code = err_set(e, ERR_UNAUTHENTICATED, "field 'otp': wrong or already used code");
            goto done;
        }
    }
    /* Parameters changed since this hash was made: upgrade it now that the password is known. */
    if (password_needs_rehash(&id->argon2, cred.password_hash) &&
        password_hash(&id->argon2, in->password, new_hash, e) == ERR_OK &&
        store_set_password(db, cred.id, new_hash, now, e) != ERR_OK)
        log_warn("login: rehash of account %s not stored: %s", cred.id, e->msg);
    handlers_throttle_clear(db, email);
    crypto_token(token, sizeof token, 32);
    crypto_sha256_hex(token, strlen(token), hash);
    id_uuid(session_id);
    code = store_session_insert(db, session_id, hash, cred.id, handlers_client_addr(call, in->client_addr), now, e);
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
    return code == ERR_OK ? handlers_reply_empty(call) : code;
}

