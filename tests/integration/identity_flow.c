/* Identity end to end over NATS, as the gateway calls it: sign-up with a fresh emulator account
 * (ORG-1, ORG-2: the link goes to the OUTSCALE account's e-mail), the platform's EIM footing,
 * set-password link used once, login, 2FA (AUTH-6), accounts and roles (ACC-1..5) with their EIM
 * users appearing and disappearing in the emulator (ACC-4), other organizations' resources
 * invisible, operators validating (ORG-3, with its mail) and flagging UGAP (ORG-5), OUTSCALE
 * accounts attached and detached (ORG-6), AUTH-7, and bad input refused with nothing written. */
#include "cursor.h"
#include "identity_support.h"

TestSuite(identity_flow, .fini = idt_fini);

struct eim_wait {
    const struct th_cloudsim_account *cloud;
    const char *present[4];    /* names that must be in the group */
    const char *absent[4];     /* names that must not exist */
    int min_users;
};

static bool eim_converged(void *arg) {
    struct eim_wait *w = arg;
    struct idt_eim_view v = idt_eim_view(w->cloud);
    if (!v.group || !v.group_has_policy || !v.platform_has_policy || v.users < w->min_users)
        return false;
    for (int i = 0; i < 4 && w->present[i]; i++)
        if (!idt_has_name(v.members, w->present[i]) || !idt_has_name(v.names, w->present[i]))
            return false;
    for (int i = 0; i < 4 && w->absent[i]; i++)
        if (idt_has_name(v.names, w->absent[i]))
            return false;
    return true;
}

static Mkt__Identity__Account *me(struct idt *t, struct idt_who *w) {
    ProtobufCMessage *rep = NULL;
    struct err e = {0};
    Mkt__Identity__Empty req = MKT__IDENTITY__EMPTY__INIT;
    cr_assert_eq(idt_call(t, "me", idt_actor(w), &req.base, &mkt__identity__account__descriptor, &rep, &e), ERR_OK,
                 "me: %s", e.msg);
    return (Mkt__Identity__Account *)rep;
}

struct eim_ready_wait {
    struct idt *t;
    struct idt_who *who;
};

static bool eim_ready(void *arg) {
    struct eim_ready_wait *w = arg;
    Mkt__Identity__Account *acc = me(w->t, w->who);
    bool ready = strcmp(acc->eim_state, "ready") == 0;
    protobuf_c_message_free_unpacked(&acc->base, NULL);
    return ready;
}

Test(identity_flow, signup_accounts_2fa_eim_operator, .timeout = 240) {
    struct idt t;
    idt_start(&t, NULL, true);
    struct th_cloudsim_account cloud;
    struct idt_who admin, user, other_admin, op = {0};
    struct err e = {0};
    ProtobufCMessage *rep = NULL;

    /* ORG-1/ORG-2: sign-up, link mailed to the OUTSCALE account's address, password set, login. */
    idt_signup(&t, "alice", "seller", &cloud, &admin);
    const Mkt__Actor *a = idt_actor(&admin);
    cr_expect_str_eq(a->org_status, "pending");                     /* ORG-3 */
    cr_expect(a->n_roles == 2, "ACC-1: the first administrator holds admin and user");
    cr_expect(a->n_org_types == 1 && strcmp(a->org_types[0], "seller") == 0);
    cr_expect(strlen(a->session_id) == 36);
    Mkt__Identity__Account *acc = me(&t, &admin);
    cr_expect_str_eq(acc->email, cloud.email);
    cr_expect(acc->password_set && !acc->otp_enabled && !acc->operator_);
    protobuf_c_message_free_unpacked(&acc->base, NULL);
    /* The customer's keys are stored nowhere; the platform's key is sealed. */
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.outscale_accounts WHERE secret_sealed LIKE '%%%s%%' "
             "OR access_key_id = '%s'", t.schema, cloud.secret_key, cloud.access_key);
    char *v = th_sql(sql);
    cr_expect_str_eq(v, "0", "the customer's keys were stored");
    free(v);

    /* ACC-4 via the platform's footing: group with the policy, marketplace_platform, and the admin's user. */
    char admin_eim[64], user_eim[64];
    idt_eim_name(admin.account_id, admin_eim);
    struct eim_wait w = {.cloud = &cloud, .present = {"marketplace_platform", admin_eim}, .min_users = 2};
    cr_assert(th_eventually(eim_converged, &w, IDT_WAIT_MS), "admin's EIM user not ready");
    cr_expect_eq(idt_eim_view(&cloud).active_platform_keys, 1);

    /* 2FA (AUTH-6): enrol, confirm with a first code, then login needs a code, used once. */
    idt_clock_mid_step(&t);
    Mkt__Identity__Empty empty = MKT__IDENTITY__EMPTY__INIT;
    cr_assert_eq(idt_call(&t, "enroll_2fa", idt_actor(&admin), &empty.base, &mkt__identity__enroll2fa_reply__descriptor,
                          &rep, &e), ERR_OK, "%s", e.msg);
    Mkt__Identity__Enroll2faReply *enr = (Mkt__Identity__Enroll2faReply *)rep;
    char secret[80];
    snprintf(secret, sizeof secret, "%s", enr->secret);
    cr_expect(strncmp(enr->otpauth_uri, "otpauth://totp/", 15) == 0 && strstr(enr->otpauth_uri, secret),
              "%s", enr->otpauth_uri);
    protobuf_c_message_free_unpacked(rep, NULL);
    Mkt__Identity__OtpCode oc = MKT__IDENTITY__OTP_CODE__INIT;
    oc.code = "000000";
    cr_expect_eq(idt_call(&t, "confirm_2fa", idt_actor(&admin), &oc.base, NULL, NULL, &e), ERR_INVALID);
    char code[7];
    idt_totp(&t, secret, 0, code);
    oc.code = code;
    cr_assert_eq(idt_call(&t, "confirm_2fa", idt_actor(&admin), &oc.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);
    struct idt_who second = admin;
    second.resolved = NULL;
    cr_expect_eq(idt_login_otp(&t, &second, NULL, &e), ERR_OTP_REQUIRED, "%s", e.msg);
    cr_expect_eq(idt_login_otp(&t, &second, code, &e), ERR_UNAUTHENTICATED,
                 "AUTH-6: the code that confirmed enrolment was accepted again");
    idt_totp(&t, secret, 1, code);
    cr_assert_eq(idt_login_otp(&t, &second, code, &e), ERR_OK, "login with the next code: %s", e.msg);
    idt_who_cleanup(&second);
    cr_expect_eq(idt_login_otp(&t, &second, code, &e), ERR_UNAUTHENTICATED, "AUTH-6: a TOTP code worked twice");
    Mkt__Identity__Disable2fa dis = MKT__IDENTITY__DISABLE2FA__INIT;
    dis.password = "Wrong-Password-1";
    cr_expect_eq(idt_call(&t, "disable_2fa", idt_actor(&admin), &dis.base, NULL, NULL, &e), ERR_INVALID);
    dis.password = admin.password;
    cr_expect_eq(idt_call(&t, "disable_2fa", idt_actor(&admin), &dis.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(idt_call(&t, "enroll_certificate", idt_actor(&admin), &empty.base, NULL, NULL, &e), ERR_UNSUPPORTED);
    cr_expect(strstr(e.msg, "not supported"), "AUTH-7: %s", e.msg);

    /* ACC-2/ACC-3: the admin creates a user (its own set-password mail); users manage no accounts. */
    idt_add_account(&t, &admin, "bob", "user", &user);
    cr_expect(idt_actor(&user)->n_roles == 1 && strcmp(idt_actor(&user)->roles[0], "user") == 0);
    cr_expect_eq(idt_call(&t, "list_accounts", idt_actor(&user), &empty.base, NULL, NULL, &e), ERR_FORBIDDEN);
    Mkt__Identity__CreateAccount ca = MKT__IDENTITY__CREATE_ACCOUNT__INIT;
    char *user_role[] = {"user"};
    ca.name = "Eve";
    ca.email = "eve@example.com";
    ca.roles = user_role;
    ca.n_roles = 1;
    cr_expect_eq(idt_call(&t, "create_account", idt_actor(&user), &ca.base, NULL, NULL, &e), ERR_FORBIDDEN);
    cr_assert_eq(idt_call(&t, "list_accounts", idt_actor(&admin), &empty.base, &mkt__identity__account_list__descriptor,
                          &rep, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(((Mkt__Identity__AccountList *)rep)->n_accounts, 2);
    protobuf_c_message_free_unpacked(rep, NULL);
    idt_eim_name(user.account_id, user_eim);
    w = (struct eim_wait){.cloud = &cloud, .present = {"marketplace_platform", admin_eim, user_eim}, .min_users = 3};
    cr_assert(th_eventually(eim_converged, &w, IDT_WAIT_MS), "ACC-4: the new account's EIM user did not appear");
    /* The job records "ready" once all its cloud calls are done, a moment after the user appears. */
    struct eim_ready_wait rw = {&t, &user};
    cr_expect(th_eventually(eim_ready, &rw, IDT_WAIT_MS), "ACC-4: the account's EIM state never became ready");
    acc = me(&t, &user);
    cr_expect_str_eq(acc->eim_state, "ready");
    cr_expect_str_eq(acc->eim_user_name, user_eim);
    protobuf_c_message_free_unpacked(&acc->base, NULL);

    /* ACC-5: the last admin can be neither demoted nor deleted. */
    Mkt__Identity__UpdateAccount ua = MKT__IDENTITY__UPDATE_ACCOUNT__INIT;
    ua.id = admin.account_id;
    ua.roles = user_role;
    ua.n_roles = 1;
    ua.set_roles = true;
    cr_expect_eq(idt_call(&t, "update_account", idt_actor(&admin), &ua.base, NULL, NULL, &e), ERR_CONFLICT);
    cr_expect(strstr(e.msg, "last administrator"), "%s", e.msg);
    Mkt__Identity__IdRequest idr = MKT__IDENTITY__ID_REQUEST__INIT;
    idr.id = admin.account_id;
    cr_expect_eq(idt_call(&t, "delete_account", idt_actor(&admin), &idr.base, NULL, NULL, &e), ERR_CONFLICT);
    /* ... but once bob is admin too, alice may step down. */
    char *admin_role[] = {"admin"};
    ua.id = user.account_id;
    ua.roles = admin_role;
    ua.name = "Bob B.";
    ua.set_name = true;
    cr_assert_eq(idt_call(&t, "update_account", idt_actor(&admin), &ua.base, &mkt__identity__account__descriptor, &rep,
                          &e), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(((Mkt__Identity__Account *)rep)->name, "Bob B.");
    protobuf_c_message_free_unpacked(rep, NULL);
    ua = (Mkt__Identity__UpdateAccount)MKT__IDENTITY__UPDATE_ACCOUNT__INIT;
    ua.id = user.account_id;
    ua.roles = user_role;
    ua.n_roles = 1;
    ua.set_roles = true;
    cr_expect_eq(idt_call(&t, "update_account", idt_actor(&admin), &ua.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);

    /* Other organizations' resources do not exist for this admin. */
    struct th_cloudsim_account other_cloud;
    idt_signup(&t, "olga", "buyer", &other_cloud, &other_admin);
    idr.id = user.account_id;
    cr_expect_eq(idt_call(&t, "delete_account", idt_actor(&other_admin), &idr.base, NULL, NULL, &e), ERR_NOT_FOUND);
    ua.id = user.account_id;
    cr_expect_eq(idt_call(&t, "update_account", idt_actor(&other_admin), &ua.base, NULL, NULL, &e), ERR_NOT_FOUND);
    idr.id = admin.org_id;
    cr_expect_eq(idt_call(&t, "get_organization", idt_actor(&other_admin), &idr.base, NULL, NULL, &e), ERR_NOT_FOUND);

    /* ACC-4: deleting bob removes his EIM user (keys, group, user: the cloud's order). */
    idr.id = user.account_id;
    cr_assert_eq(idt_call(&t, "delete_account", idt_actor(&admin), &idr.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(idt_resolve(&t, &user, &e), ERR_UNAUTHENTICATED, "a deleted account's session resolved");
    w = (struct eim_wait){.cloud = &cloud, .present = {"marketplace_platform", admin_eim}, .absent = {user_eim},
                          .min_users = 2};
    cr_assert(th_eventually(eim_converged, &w, IDT_WAIT_MS), "ACC-4: the deleted account's EIM user remains");

    /* ORG-6: attach another OUTSCALE account (proof by its keys): the footing and every account's
     * EIM user appear there; detach removes them. */
    struct th_cloudsim_account extra = th_cloudsim_account_new("extra", t.run);
    Mkt__Identity__AttachOutscaleAccount at = MKT__IDENTITY__ATTACH_OUTSCALE_ACCOUNT__INIT;
    at.access_key = extra.access_key;
    at.secret_key = "0000000000000000000000000000000000000000";
    cr_expect_eq(idt_call(&t, "attach_outscale_account", idt_actor(&admin), &at.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "secret_key"), "%s", e.msg);
    at.secret_key = extra.secret_key;
    cr_assert_eq(idt_call(&t, "attach_outscale_account", idt_actor(&admin), &at.base,
                          &mkt__identity__outscale_account__descriptor, &rep, &e), ERR_OK, "%s", e.msg);
    Mkt__Identity__OutscaleAccount *oa = (Mkt__Identity__OutscaleAccount *)rep;
    cr_expect_str_eq(oa->account_id, extra.account_id);
    cr_expect(!oa->primary);
    char attached_id[40];
    snprintf(attached_id, sizeof attached_id, "%s", oa->id);
    protobuf_c_message_free_unpacked(rep, NULL);
    at.secret_key = extra.secret_key;
    cr_expect_eq(idt_call(&t, "attach_outscale_account", idt_actor(&other_admin), &at.base, NULL, NULL, &e),
                 ERR_CONFLICT, "an OUTSCALE account attached to two organizations");
    w = (struct eim_wait){.cloud = &extra, .present = {"marketplace_platform", admin_eim}, .min_users = 2};
    cr_assert(th_eventually(eim_converged, &w, IDT_WAIT_MS), "ORG-6: EIM users missing in the attached account");
    cr_assert_eq(idt_call(&t, "list_outscale_accounts", idt_actor(&admin), &empty.base,
                          &mkt__identity__outscale_account_list__descriptor, &rep, &e), ERR_OK, "%s", e.msg);
    Mkt__Identity__OutscaleAccountList *ol = (Mkt__Identity__OutscaleAccountList *)rep;
    cr_expect_eq(ol->n_accounts, 2);
    cr_expect(ol->n_accounts > 0 && ol->accounts[0]->primary && strcmp(ol->accounts[0]->account_id, cloud.account_id) == 0);
    char primary_id[40];
    snprintf(primary_id, sizeof primary_id, "%s", ol->accounts[0]->id);
    protobuf_c_message_free_unpacked(rep, NULL);
    snprintf(sql, sizeof sql, "outbox WHERE subject = 'mkt.evt.identity.outscale_account.attached'");
    cr_expect_eq(idt_count(&t, sql), 3, "outscale_account.attached: two sign-ups and one attach");
    idr.id = primary_id;
    cr_expect_eq(idt_call(&t, "detach_outscale_account", idt_actor(&admin), &idr.base, NULL, NULL, &e), ERR_CONFLICT);
    idr.id = attached_id;
    cr_expect_eq(idt_call(&t, "detach_outscale_account", idt_actor(&other_admin), &idr.base, NULL, NULL, &e),
                 ERR_NOT_FOUND);
    cr_assert_eq(idt_call(&t, "detach_outscale_account", idt_actor(&admin), &idr.base, NULL, NULL, &e), ERR_OK, "%s",
                 e.msg);
    bool released = false;
    for (int i = 0; i < IDT_WAIT_MS / 100 && !released; i++) {
        struct idt_eim_view ev = idt_eim_view(&extra);
        released = !ev.group && ev.active_platform_keys == 0 && !idt_has_name(ev.names, admin_eim);
        if (!released)
            th_sleep_ms(100);
    }
    cr_expect(released, "ORG-6: the detached account still holds the platform's users, group or active key");
    snprintf(sql, sizeof sql, "outscale_accounts WHERE state = 'detached' AND secret_sealed IS NULL");
    cr_expect_eq(idt_count(&t, sql), 1, "the detached account's sealed key is not forgotten");

    /* Operators (ORG-3, ORG-5): list pending, validate (the admins get a mail), UGAP. */
    snprintf(op.email, sizeof op.email, "operator-%s@marketplace.example", t.run);
    snprintf(op.password, sizeof op.password, "%s", IDT_PASSWORD);
    idt_login(&t, &op);
    cr_expect(idt_actor(&op)->operator_);
    Mkt__Identity__ListOrganizations lo = MKT__IDENTITY__LIST_ORGANIZATIONS__INIT;
    lo.status = "pending";
    lo.limit = 1;
    cr_expect_eq(idt_call(&t, "list_organizations", idt_actor(&admin), &lo.base, NULL, NULL, &e), ERR_FORBIDDEN);
    cr_assert_eq(idt_call(&t, "list_organizations", idt_actor(&op), &lo.base,
                          &mkt__identity__organization_list__descriptor, &rep, &e), ERR_OK, "%s", e.msg);
    Mkt__Identity__OrganizationList *orgs = (Mkt__Identity__OrganizationList *)rep;
    cr_expect_eq(orgs->n_organizations, 1);
    cr_expect(strlen(orgs->next_cursor) > 0, "two pending organizations, one per page");
    char cursor[CURSOR_TEXT_MAX];
    snprintf(cursor, sizeof cursor, "%s", orgs->next_cursor);
    protobuf_c_message_free_unpacked(rep, NULL);
    lo.cursor = cursor;
    cr_assert_eq(idt_call(&t, "list_organizations", idt_actor(&op), &lo.base,
                          &mkt__identity__organization_list__descriptor, &rep, &e), ERR_OK, "%s", e.msg);
    orgs = (Mkt__Identity__OrganizationList *)rep;
    cr_expect_eq(orgs->n_organizations, 1);
    cr_expect_str_eq(orgs->next_cursor, "");
    protobuf_c_message_free_unpacked(rep, NULL);
    /* The cursor belongs to the "pending" list: another filter, or a bare id, is refused. */
    lo.status = "validated";
    cr_expect_eq(idt_call(&t, "list_organizations", idt_actor(&op), &lo.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, CURSOR_REFUSED);
    lo.status = "pending";
    lo.cursor = admin.org_id;
    cr_expect_eq(idt_call(&t, "list_organizations", idt_actor(&op), &lo.base, NULL, NULL, &e), ERR_INVALID);
    lo.cursor = "";
    idr.id = admin.org_id;
    cr_expect_eq(idt_call(&t, "validate_organization", idt_actor(&admin), &idr.base, NULL, NULL, &e), ERR_FORBIDDEN);
    cr_assert_eq(idt_call(&t, "validate_organization", idt_actor(&op), &idr.base, &mkt__identity__organization__descriptor,
                          &rep, &e), ERR_OK, "%s", e.msg);
    Mkt__Identity__Organization *org = (Mkt__Identity__Organization *)rep;
    cr_expect_str_eq(org->status, "validated");
    cr_expect(org->validated_us > 0);
    protobuf_c_message_free_unpacked(rep, NULL);
    struct th_maildir_wait mw = {.rcpt = admin.email, .marker = "Subject:"};
    cr_expect(th_eventually(th_maildir_find, &mw, IDT_WAIT_MS), "ORG-3: the administrator got no mail on validation");
    cr_expect_eq(idt_resolve(&t, &admin, &e), ERR_OK);
    cr_expect_str_eq(idt_actor(&admin)->org_status, "validated");
    Mkt__Identity__SetUgap su = MKT__IDENTITY__SET_UGAP__INIT;
    su.id = admin.org_id;
    su.ugap = true;
    cr_expect_eq(idt_call(&t, "set_ugap", idt_actor(&admin), &su.base, NULL, NULL, &e), ERR_FORBIDDEN);
    cr_assert_eq(idt_call(&t, "set_ugap", idt_actor(&op), &su.base, &mkt__identity__organization__descriptor, &rep, &e),
                 ERR_OK, "%s", e.msg);
    cr_expect(((Mkt__Identity__Organization *)rep)->ugap);
    protobuf_c_message_free_unpacked(rep, NULL);
    cr_expect_eq(idt_resolve(&t, &admin, &e), ERR_OK);
    cr_expect(idt_actor(&admin)->ugap);
    cr_expect_eq(idt_count(&t, "outbox WHERE subject = 'mkt.evt.identity.organization.validated'"), 1);
    cr_expect_eq(idt_count(&t, "outbox WHERE subject = 'mkt.evt.identity.organization.ugap_changed'"), 1);
    /* No secret on EVENTS (MAIL-3): the mail commands go to mkt.mail.* only. */
    cr_expect_eq(idt_count(&t, "outbox WHERE subject LIKE 'mkt.evt.%' AND position('token' in encode(data, 'escape')) > 0"),
                 0);

    /* Logout ends the session at once. */
    Mkt__Identity__TokenRequest tr = MKT__IDENTITY__TOKEN_REQUEST__INIT;
    cr_expect_eq(idt_call(&t, "logout", idt_actor(&admin), &tr.base, NULL, NULL, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(idt_resolve(&t, &admin, &e), ERR_UNAUTHENTICATED);

    idt_who_cleanup(&admin);
    idt_who_cleanup(&user);
    idt_who_cleanup(&other_admin);
    idt_who_cleanup(&op);
    idt_stop(&t);
}

Test(identity_flow, bad_input_is_refused_and_writes_nothing, .timeout = 120) {
    struct idt t;
    idt_start(&t, NULL, true);
    struct th_cloudsim_account cloud;
    struct idt_who admin;
    struct err e = {0};
    idt_signup(&t, "bad", "buyer", &cloud, &admin);
    long orgs = idt_count(&t, "organizations"), accounts = idt_count(&t, "accounts");
    long osc = idt_count(&t, "outscale_accounts");
    /* EIM outcomes of the sign-up may still land (maintenance); requests emit anything else. */
    const char *requests_outbox = "outbox WHERE subject NOT LIKE 'mkt.evt.identity.eim.%'";
    long outbox = idt_count(&t, requests_outbox);

    struct th_cloudsim_account fresh = th_cloudsim_account_new("fresh", t.run);
    char *buyer[] = {"buyer"}, *broker[] = {"broker"}, *dup[] = {"buyer", "buyer"};
    struct {
        const char *name;
        char **types;
        size_t n_types;
        const char *region, *ak, *sk, *admin_name, *lang;
        err_code code;
        const char *mentions;
    } signups[] = {
        {"", buyer, 1, "", fresh.access_key, fresh.secret_key, "A", "en", ERR_INVALID, "'organization_name': required"},
        {"X", broker, 1, "", fresh.access_key, fresh.secret_key, "A", "en", ERR_INVALID, "'types'"},
        {"X", dup, 2, "", fresh.access_key, fresh.secret_key, "A", "en", ERR_INVALID, "listed twice"},
        {"X", buyer, 0, "", fresh.access_key, fresh.secret_key, "A", "en", ERR_INVALID, "'types'"},
        {"X", buyer, 1, "us-east-1", fresh.access_key, fresh.secret_key, "A", "en", ERR_INVALID, "'region'"},
        {"X", buyer, 1, "", "SHORT", fresh.secret_key, "A", "en", ERR_INVALID, "'access_key'"},
        {"X", buyer, 1, "", fresh.access_key, "", "A", "en", ERR_INVALID, "'secret_key': required"},
        {"X", buyer, 1, "", fresh.access_key, fresh.secret_key, "", "en", ERR_INVALID, "'admin_name'"},
        {"X", buyer, 1, "", fresh.access_key, fresh.secret_key, "A", "de", ERR_INVALID, "'admin_language'"},
        /* the cloud refuses these keys: nothing written, no organization */
        {"X", buyer, 1, "", fresh.access_key, "Wrong0Wrong0Wrong0Wrong0Wrong0Wrong0Wron", "A", "en", ERR_INVALID,
         "refused these keys"},
        /* the OUTSCALE account of an existing organization */
        {"X", buyer, 1, "", cloud.access_key, cloud.secret_key, "A", "en", ERR_CONFLICT, "already belongs"},
    };
    for (size_t i = 0; i < sizeof signups / sizeof signups[0]; i++) {
        Mkt__Identity__SignupRequest req = MKT__IDENTITY__SIGNUP_REQUEST__INIT;
        req.organization_name = (char *)signups[i].name;
        req.types = signups[i].types;
        req.n_types = signups[i].n_types;
        req.region = (char *)signups[i].region;
        req.access_key = (char *)signups[i].ak;
        req.secret_key = (char *)signups[i].sk;
        req.admin_name = (char *)signups[i].admin_name;
        req.admin_language = (char *)signups[i].lang;
        cr_expect_eq(idt_call(&t, "signup", NULL, &req.base, NULL, NULL, &e), signups[i].code, "signup case %zu: %s: %s",
                     i, err_code_name(e.code), e.msg);
        cr_expect(strstr(e.msg, signups[i].mentions), "signup case %zu: '%s' lacks '%s'", i, e.msg,
                  signups[i].mentions);
    }
    /* the fresh account was never touched: no platform user in it */
    cr_expect_eq(idt_eim_view(&fresh).users, 0, "refused sign-ups bootstrapped EIM resources");

    /* accounts: bad e-mail, unknown role, weak password through a link, unknown id */
    Mkt__Identity__CreateAccount ca = MKT__IDENTITY__CREATE_ACCOUNT__INIT;
    char *owner[] = {"owner"}, *user[] = {"user"};
    ca.name = "X";
    ca.email = "x@";
    ca.roles = user;
    ca.n_roles = 1;
    cr_expect_eq(idt_call(&t, "create_account", idt_actor(&admin), &ca.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "field 'email'"), "%s", e.msg);
    ca.email = "x@example.com";
    ca.roles = owner;
    cr_expect_eq(idt_call(&t, "create_account", idt_actor(&admin), &ca.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "field 'roles'"), "%s", e.msg);
    ca.roles = user;
    ca.email = admin.email; /* taken */
    cr_expect_eq(idt_call(&t, "create_account", idt_actor(&admin), &ca.base, NULL, NULL, &e), ERR_CONFLICT);
    Mkt__Identity__IdRequest idr = MKT__IDENTITY__ID_REQUEST__INIT;
    idr.id = "not-a-uuid";
    cr_expect_eq(idt_call(&t, "delete_account", idt_actor(&admin), &idr.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "field 'id'"), "%s", e.msg);
    idr.id = "0190a0a0-0000-7000-8000-000000000000";
    cr_expect_eq(idt_call(&t, "delete_account", idt_actor(&admin), &idr.base, NULL, NULL, &e), ERR_NOT_FOUND);
    /* AUTH-1: each unmet rule named */
    Mkt__Identity__ChangePassword cp = MKT__IDENTITY__CHANGE_PASSWORD__INIT;
    cp.old_password = admin.password;
    cp.new_password = "short";
    cr_expect_eq(idt_call(&t, "change_password", idt_actor(&admin), &cp.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "field 'new_password': needs at least 12 characters") &&
                  strstr(e.msg, "one upper-case letter") && strstr(e.msg, "one digit") &&
                  strstr(e.msg, "one special character"),
              "%s", e.msg);
    cp.new_password = "abcdefghijkL1";
    cr_expect_eq(idt_call(&t, "change_password", idt_actor(&admin), &cp.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, "field 'new_password': needs one special character");
    cp.old_password = "Not-The-Password-1";
    cp.new_password = IDT_PASSWORD2;
    cr_expect_eq(idt_call(&t, "change_password", idt_actor(&admin), &cp.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "old_password"), "%s", e.msg);
    Mkt__Identity__TokenPassword tp = MKT__IDENTITY__TOKEN_PASSWORD__INIT;
    tp.token = "a b c";
    tp.password = IDT_PASSWORD;
    cr_expect_eq(idt_call(&t, "set_password", NULL, &tp.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "field 'token'"), "%s", e.msg);
    tp.token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    cr_expect_eq(idt_call(&t, "set_password", NULL, &tp.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "unknown link"), "%s", e.msg);
    Mkt__Identity__LoginRequest lr = MKT__IDENTITY__LOGIN_REQUEST__INIT;
    lr.email = "x@example.com";
    lr.password = "p";
    lr.otp = "12";
    cr_expect_eq(idt_call(&t, "login", NULL, &lr.base, NULL, NULL, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "field 'otp'"), "%s", e.msg);
    /* no actor, or an actor whose account does not exist */
    Mkt__Identity__Empty empty = MKT__IDENTITY__EMPTY__INIT;
    cr_expect_eq(idt_call(&t, "me", NULL, &empty.base, NULL, NULL, &e), ERR_UNAUTHENTICATED);
    Mkt__Actor ghost = MKT__ACTOR__INIT;
    ghost.account_id = "0190a0a0-0000-7000-8000-000000000001";
    cr_expect_eq(idt_call(&t, "me", &ghost, &empty.base, NULL, NULL, &e), ERR_UNAUTHENTICATED);
    /* an actor claiming roles it does not have: identity reads them from its database */
    Mkt__Actor forged = *idt_actor(&admin);
    forged.operator_ = true;
    Mkt__Identity__ListOrganizations lo = MKT__IDENTITY__LIST_ORGANIZATIONS__INIT;
    cr_expect_eq(idt_call(&t, "list_organizations", &forged, &lo.base, NULL, NULL, &e), ERR_FORBIDDEN);

    cr_expect_eq(idt_count(&t, "organizations"), orgs, "a refused request wrote an organization");
    cr_expect_eq(idt_count(&t, "accounts"), accounts, "a refused request wrote an account");
    cr_expect_eq(idt_count(&t, "outscale_accounts"), osc, "a refused request wrote an OUTSCALE account");
    cr_expect_eq(idt_count(&t, requests_outbox), outbox, "a refused request emitted an event or a mail");
    idt_who_cleanup(&admin);
    idt_stop(&t);
}
