/* The logged-in account's own methods: its profile, a password change (AUTH-3, ending the other
 * sessions, AUTH-5), two-factor authentication (AUTH-6: enrol with a secret shown once, confirm
 * with a first code, disable with a code or the password) and the clear refusal of client
 * certificates (AUTH-7). TOTP secrets are sealed by the vault before they are stored. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "otp.h"

/* The caller (any account) and its credentials. `cred` is zeroed first: the caller wipes it
 * whatever the outcome. */
static err_code caller_credentials(struct bus_call *call, struct store_caller *c, struct store_credentials *cred,
                                   struct err *e) {
    memset(cred, 0, sizeof *cred);
    err_code code = handlers_caller(call, HANDLERS_ACCOUNT, c, e);
    if (code == ERR_OK)
        code = store_credentials_by_id(call->worker->db, c->account_id, cred, e);
    return code;
}

err_code handlers_me(struct bus_call *call, struct err *e) {
    struct store_caller c;
    err_code code = handlers_caller(call, HANDLERS_ACCOUNT, &c, e);
    return code == ERR_OK ? handlers_reply_account(call, c.account_id, NULL, e) : code;
}

/* AUTH-3: the old password is required; the account's other sessions end (AUTH-5). */
err_code handlers_change_password(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__ChangePassword *in = (const Mkt__Identity__ChangePassword *)call->in;
    struct store_caller c;
    struct store_credentials cred;
    struct handlers_throttle_keys k;
    char pw_hash[PASSWORD_HASH_MAX] = "";
    memset(&cred, 0, sizeof cred);
    err_code code = handlers_caller(call, HANDLERS_ACCOUNT, &c, e);
    if (code != ERR_OK)
        return code;
    if (!in->old_password || !*in->old_password)
        return err_set(e, ERR_INVALID, "field 'old_password': required");
    code = validation_password("new_password", in->new_password, e);
    if (code != ERR_OK)
        return code;
    mkt_time now = clock_now();
    code = handlers_throttle_check(call, c.email, NULL, now, &k, e);
    if (code == ERR_OK)
        code = store_credentials_by_id(db, c.account_id, &cred, e);
    if (code != ERR_OK)
        goto done;
    if (!password_verify(cred.password_hash, in->old_password)) {
        handlers_throttle_fail(db, &k, now);
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
    code = handlers_commit(db, code, e);
    if (code != ERR_OK)
        goto done;
    log_info("change_password: account %s; other sessions ended", c.account_id);
    code = handlers_reply_empty(call);
done:
    sodium_memzero(pw_hash, sizeof pw_hash);
    sodium_memzero(&cred, sizeof cred);
    return code;
}

/* AUTH-6: a fresh secret, shown once; 2FA is on only after confirm_2fa with a first good code. */
err_code handlers_enroll_2fa(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    struct store_caller c;
    struct store_credentials cred;
    uint8_t secret[OTP_SECRET_LEN];
    char b32[OTP_SECRET_B32_MAX], sealed[VAULT_SEALED_MAX], context[80], uri[1024];
    err_code code = caller_credentials(call, &c, &cred, e);
    if (code != ERR_OK)
        goto done;
    if (cred.otp_secret[0]) {
        code = err_set(e, ERR_CONFLICT, "two-factor authentication is already on: disable it first");
        goto done;
    }
    crypto_random(secret, sizeof secret);
    otp_base32_encode(secret, sizeof secret, b32, sizeof b32);
    snprintf(context, sizeof context, "accounts.otp:%s", c.account_id);
    code = vault_seal(id->vault, context, secret, sizeof secret, sealed, sizeof sealed, e);
    if (code == ERR_OK)
        code = store_otp_set_pending(call->worker->db, c.account_id, sealed, e);
    if (code != ERR_OK)
        goto done;
    if (!otp_uri(id->cfg.otp_issuer, c.email, b32, uri, sizeof uri)) {
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
    const Mkt__Identity__OtpCode *in = (const Mkt__Identity__OtpCode *)call->in;
    struct store_caller c;
    struct store_credentials cred;
    uint8_t secret[VAULT_PLAIN_MAX];
    size_t n = 0;
    int64_t step = 0;
    err_code code = caller_credentials(call, &c, &cred, e);
    if (code == ERR_OK)
        code = validation_otp_code("code", in->code, e);
    if (code == ERR_OK && !cred.otp_pending[0])
        code = err_set(e, ERR_CONFLICT, "no enrolment is pending: call enroll_2fa first");
    if (code == ERR_OK)
        code = handlers_open_otp(id, c.account_id, cred.otp_pending, secret, &n, e);
    if (code == ERR_OK && !otp_verify(secret, n, in->code, clock_now(), -1, &step))
        code = err_set(e, ERR_INVALID, "field 'code': wrong code (check the authenticator app's clock)");
    if (code == ERR_OK)
        code = store_otp_enable(call->worker->db, c.account_id, cred.otp_pending, step, e);
    if (code == ERR_OK) {
        log_info("2FA enabled for account %s", c.account_id);
        handlers_reply_empty(call);
    }
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
    struct handlers_throttle_keys k;
    bool has_code = in->code && *in->code, has_password = in->password && *in->password, ok = false;
    err_code code = caller_credentials(call, &c, &cred, e);
    mkt_time now = clock_now();
    if (code == ERR_OK && !cred.otp_secret[0])
        code = err_set(e, ERR_CONFLICT, "two-factor authentication is not on");
    if (code == ERR_OK && !has_code && !has_password)
        code = err_set(e, ERR_INVALID, "field 'code': a code or the password is required");
    if (code == ERR_OK && has_code)
        code = validation_otp_code("code", in->code, e);
    if (code == ERR_OK)
        code = handlers_throttle_check(call, c.email, NULL, now, &k, e);
    if (code == ERR_OK && has_code)
        code = handlers_check_otp(id, db, &cred, cred.otp_secret, in->code, &ok, e);
    if (code == ERR_OK && !has_code)
        ok = password_verify(cred.password_hash, in->password);
    if (code == ERR_OK && !ok) {
        handlers_throttle_fail(db, &k, now);
        code = has_code ? err_set(e, ERR_INVALID, "field 'code': wrong or already used code")
                        : err_set(e, ERR_INVALID, "field 'password': does not match the current password");
    }
    if (code == ERR_OK)
        code = store_otp_disable(db, c.account_id, e);
    if (code == ERR_OK) {
        log_info("2FA disabled for account %s", c.account_id);
        handlers_reply_empty(call);
    }
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
