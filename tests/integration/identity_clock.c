/* The time rules of identity at their boundaries, with identity's clock shifted through
 * MKT_CLOCK_FILE (no sleeping): set-password links (ORG-2, ACC-3) work at 23 h 59 and not at
 * 24 h 01, reset links (AUTH-4) at 4:59 and not 5:01, a session idle 23:59 lives and 24:01 does
 * not (AUTH-5), every link works once, a TOTP code works once (AUTH-6), failed logins are
 * throttled with a Retry-After that the clock ends (AUTH-8), and a password change or reset ends
 * the other sessions (AUTH-5). */
#include "identity_support.h"

TestSuite(identity_clock, .fini = idt_fini);

#define H 3600.0
#define M 60.0

static err_code use_link(struct idt *t, const char *method, const char *token, const char *password, struct err *e) {
    Mkt__Identity__TokenPassword tp = MKT__IDENTITY__TOKEN_PASSWORD__INIT;
    tp.token = (char *)token;
    tp.password = (char *)password;
    return idt_call(t, method, NULL, &tp.base, NULL, NULL, e);
}

static void create_account(struct idt *t, struct idt_who *admin, const char *email) {
    char *roles[] = {"user"};
    Mkt__Identity__CreateAccount req = MKT__IDENTITY__CREATE_ACCOUNT__INIT;
    req.name = "Someone";
    req.email = (char *)email;
    req.roles = roles;
    req.n_roles = 1;
    struct err e = {0};
    cr_assert_eq(idt_call(t, "create_account", idt_actor(admin), &req.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);
}

static void forgot(struct idt *t, const char *email) {
    Mkt__Identity__ForgotPassword req = MKT__IDENTITY__FORGOT_PASSWORD__INIT;
    req.email = (char *)email;
    struct err e = {0};
    cr_assert_eq(idt_call(t, "forgot_password", NULL, &req.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);
}

Test(identity_clock, links_sessions_totp_and_throttling_at_their_boundaries, .timeout = 180) {
    static const char *const env[] = {"MKT_LOGIN_MAX_FAILURES=4", "MKT_LOGIN_WINDOW_S=600", NULL};
    struct idt t;
    idt_start(&t, env, true);
    struct th_cloudsim_account cloud;
    struct idt_who admin;
    struct err e = {0};
    idt_signup(&t, "clock", "buyer", &cloud, &admin);

    /* ORG-2/ACC-3: two accounts created at T; one link used at T+23:59 works, the other at T+24:01 does not. */
    char early[128], late[128], tok_a[TH_MAILDIR_TOKEN_MAX], tok_b[TH_MAILDIR_TOKEN_MAX];
    snprintf(early, sizeof early, "early-%s@example.com", t.run);
    snprintf(late, sizeof late, "late-%s@example.com", t.run);
    create_account(&t, &admin, early);
    create_account(&t, &admin, late);
    th_maildir_token(early, "set-password", tok_a);
    th_maildir_token(late, "set-password", tok_b);
    idt_clock_set(&t, 23 * H + 59 * M);
    cr_expect_eq(use_link(&t, "set_password", tok_a, IDT_PASSWORD, &e), ERR_OK, "link at 23 h 59: %s", e.msg);
    cr_expect_eq(use_link(&t, "set_password", tok_a, IDT_PASSWORD, &e), ERR_INVALID, "a link used twice");
    cr_expect(strstr(e.msg, "already been used"), "%s", e.msg);
    idt_clock_set(&t, 24 * H + 1 * M);
    cr_expect_eq(use_link(&t, "set_password", tok_b, IDT_PASSWORD, &e), ERR_INVALID, "link at 24 h 01 accepted");
    cr_expect(strstr(e.msg, "expired"), "%s", e.msg);
    /* a set-password link is no reset link */
    cr_expect_eq(use_link(&t, "reset_password", tok_b, IDT_PASSWORD, &e), ERR_INVALID);

    /* AUTH-4: reset link at 4:59 works (and only once), another at 5:01 does not; unknown
     * addresses get the same answer and no mail. */
    double base = 30 * H;
    idt_clock_set(&t, base);
    forgot(&t, "nobody-at-all@example.com");
    forgot(&t, early);
    char reset1[TH_MAILDIR_TOKEN_MAX], reset2[TH_MAILDIR_TOKEN_MAX];
    th_maildir_token(early, "reset-password", reset1);
    idt_clock_set(&t, base + 4 * M + 59);
    cr_expect_eq(use_link(&t, "reset_password", reset1, IDT_PASSWORD2, &e), ERR_OK, "reset at 4:59: %s", e.msg);
    cr_expect_eq(use_link(&t, "reset_password", reset1, IDT_PASSWORD, &e), ERR_INVALID, "reset link used twice");
    base += 10 * M;
    idt_clock_set(&t, base);
    forgot(&t, early);
    th_maildir_token(early, "reset-password", reset2);
    idt_clock_set(&t, base + 5 * M + 1);
    cr_expect_eq(use_link(&t, "reset_password", reset2, IDT_PASSWORD, &e), ERR_INVALID, "reset at 5:01 accepted");
    cr_expect(strstr(e.msg, "expired"), "%s", e.msg);
    struct th_maildir_wait nobody = {.rcpt = "nobody-at-all@example.com", .marker = "token=", .keep = true};
    cr_expect(!th_maildir_find(&nobody), "a reset mail went to an unknown address");

    /* AUTH-5: two sessions opened at S; at S+23:59 the first is used (and extended); at S+24:01 the
     * second (idle 24:01) is refused, the first (idle 2 min) lives. */
    struct idt_who s1 = {0}, s2 = {0};
    snprintf(s1.email, sizeof s1.email, "%s", early);
    snprintf(s1.password, sizeof s1.password, "%s", IDT_PASSWORD2);
    s2 = s1;
    base += 1 * H;
    idt_clock_set(&t, base);
    idt_login(&t, &s1);
    idt_login(&t, &s2);
    idt_clock_set(&t, base + 23 * H + 59 * M);
    cr_expect_eq(idt_resolve(&t, &s1, &e), ERR_OK, "session idle 23:59 refused: %s", e.msg);
    cr_expect(s1.resolved && s1.resolved->expires_at_us > idt_now(&t) + 23 * 3600 * CLOCK_SECOND,
              "activity did not extend the session");
    idt_clock_set(&t, base + 24 * H + 1 * M);
    cr_expect_eq(idt_resolve(&t, &s2, &e), ERR_UNAUTHENTICATED, "session idle 24:01 accepted");
    cr_expect_eq(idt_resolve(&t, &s1, &e), ERR_OK, "the extended session ended: %s", e.msg);
    /* the actor of an idle session is refused by every method too */
    Mkt__Identity__Empty empty = MKT__IDENTITY__EMPTY__INIT;
    cr_expect_eq(idt_call(&t, "me", idt_actor(&s2), &empty.base, NULL, NULL, &e), ERR_UNAUTHENTICATED);

    /* AUTH-5: a password change ends the other sessions, not the one that made it. */
    idt_login(&t, &s2);
    Mkt__Identity__ChangePassword cp = MKT__IDENTITY__CHANGE_PASSWORD__INIT;
    cp.old_password = IDT_PASSWORD2;
    cp.new_password = IDT_PASSWORD;
    cr_assert_eq(idt_call(&t, "change_password", idt_actor(&s1), &cp.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(idt_resolve(&t, &s2, &e), ERR_UNAUTHENTICATED, "the other session survived a password change");
    cr_expect_eq(idt_resolve(&t, &s1, &e), ERR_OK, "the changing session ended: %s", e.msg);
    /* ... and a reset ends them all. */
    forgot(&t, early);
    char reset3[TH_MAILDIR_TOKEN_MAX];
    th_maildir_token(early, "reset-password", reset3);
    cr_expect_eq(use_link(&t, "reset_password", reset3, IDT_PASSWORD2, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(idt_resolve(&t, &s1, &e), ERR_UNAUTHENTICATED, "a session survived a reset");
    snprintf(s1.password, sizeof s1.password, "%s", IDT_PASSWORD2);
    idt_login(&t, &s1);

    /* AUTH-6: a code is used once, even within its 30 s; the next step's code works. */
    idt_clock_mid_step(&t);
    ProtobufCMessage *rep = NULL;
    cr_assert_eq(idt_call(&t, "enroll_2fa", idt_actor(&s1), &empty.base, &mkt__identity__enroll2fa_reply__descriptor,
                          &rep, &e), ERR_OK, "%s", e.msg);
    char secret[80], code[7];
    snprintf(secret, sizeof secret, "%s", ((Mkt__Identity__Enroll2faReply *)rep)->secret);
    protobuf_c_message_free_unpacked(rep, NULL);
    idt_totp(&t, secret, -1, code); /* one step late: still accepted (clock drift) */
    Mkt__Identity__OtpCode oc = MKT__IDENTITY__OTP_CODE__INIT;
    oc.code = code;
    cr_assert_eq(idt_call(&t, "confirm_2fa", idt_actor(&s1), &oc.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);
    idt_totp(&t, secret, 0, code);
    cr_expect_eq(idt_login_otp(&t, &s2, code, &e), ERR_OK, "login with the current code: %s", e.msg);
    cr_expect_eq(idt_login_otp(&t, &s2, code, &e), ERR_UNAUTHENTICATED, "AUTH-6: a TOTP code reused");
    idt_totp(&t, secret, -1, code); /* older than the last used one: refused too */
    cr_expect_eq(idt_login_otp(&t, &s2, code, &e), ERR_UNAUTHENTICATED, "an older code after a newer one");
    idt_totp(&t, secret, 2, code); /* two steps ahead: outside the window */
    cr_expect_eq(idt_login_otp(&t, &s2, code, &e), ERR_UNAUTHENTICATED, "a code two steps ahead");
    idt_clock_set(&t, t.clock_offset_s + 30);
    idt_totp(&t, secret, 0, code);
    cr_expect_eq(idt_login_otp(&t, &s2, code, &e), ERR_OK, "the next step's code: %s", e.msg);

    /* AUTH-8: 4 failures in the window throttle the account (even the right password) with a
     * Retry-After; once the window has passed, login works again. */
    struct idt_who wrong = s1;
    wrong.resolved = NULL;
    snprintf(wrong.password, sizeof wrong.password, "Wrong-Password-99");
    idt_clock_set(&t, t.clock_offset_s + 60); /* past the 2FA failures above */
    idt_clock_mid_step(&t);
    idt_totp(&t, secret, 0, code);
    err_code last = ERR_OK;
    int attempts = 0;
    for (; attempts < 6 && last != ERR_THROTTLED; attempts++)
        last = idt_login_otp(&t, &wrong, code, &e);
    cr_expect_eq(last, ERR_THROTTLED, "never throttled");
    cr_expect_leq(attempts, 5, "throttled only after %d attempts", attempts);
    cr_expect(e.retry_after_s >= 1 && e.retry_after_s <= 600, "retry_after_s = %d", e.retry_after_s);
    int retry = e.retry_after_s;
    idt_clock_set(&t, t.clock_offset_s + 30);
    idt_totp(&t, secret, 0, code);
    cr_expect_eq(idt_login_otp(&t, &s1, code, &e), ERR_THROTTLED, "the right password got through the throttle");
    cr_expect(e.retry_after_s <= retry - 29 && e.retry_after_s >= retry - 31, "Retry-After did not count down: %d then %d",
              retry, e.retry_after_s);
    idt_clock_set(&t, t.clock_offset_s + e.retry_after_s + 1);
    idt_clock_mid_step(&t);
    idt_totp(&t, secret, 0, code);
    cr_expect_eq(idt_login_otp(&t, &s1, code, &e), ERR_OK, "still throttled after Retry-After: %s", e.msg);

    idt_who_cleanup(&admin);
    idt_who_cleanup(&s1);
    idt_who_cleanup(&s2);
    idt_stop(&t);
}
