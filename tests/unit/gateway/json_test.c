/* The protobuf -> JSON mappers: exact shapes (the frontends depend on them), ISO 8601 UTC times,
 * nulls for empty values, and no secret ever shown (mail variables that look like links or
 * tokens are dropped even when the notifier sends them). */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../services/gateway/gateway.h"

static char *dump(json_t *j) {
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    return s;
}

#define T0 1795821657123456LL /* 2026-11-27T23:20:57.123456Z */

Test(gateway_json, times_and_strings) {
    char *s = dump(gateway_time_json(T0));
    cr_expect_str_eq(s, "\"2026-11-27T23:20:57.123456Z\"");
    free(s);
    s = dump(gateway_time_json(0));
    cr_expect_str_eq(s, "null");
    free(s);
    s = dump(gateway_str_json(""));
    cr_expect_str_eq(s, "null");
    free(s);
    s = dump(gateway_str_json(NULL));
    cr_expect_str_eq(s, "null");
    free(s);
}

Test(gateway_json, account_shape) {
    char *roles[] = {"admin", "user"};
    Mkt__Identity__Account a = MKT__IDENTITY__ACCOUNT__INIT;
    a.id = "0190a0a0-0000-7000-8000-000000000001";
    a.organization_id = "0190a0a0-0000-7000-8000-0000000000aa";
    a.name = "Ada";
    a.email = "ada@example.com";
    a.n_roles = 2, a.roles = roles;
    a.language = "fr";
    a.password_set = true;
    a.eim_state = "ready";
    a.eim_user_name = "marketplace_ada";
    a.created_us = T0;
    char *s = dump(gateway_account_json(&a));
    cr_expect_str_eq(s, "{\"created_at\":\"2026-11-27T23:20:57.123456Z\",\"eim\":{\"state\":\"ready\",\"user_name\":"
                        "\"marketplace_ada\"},\"email\":\"ada@example.com\",\"id\":\"0190a0a0-0000-7000-8000-000000000001\","
                        "\"language\":\"fr\",\"name\":\"Ada\",\"operator\":false,\"organization_id\":"
                        "\"0190a0a0-0000-7000-8000-0000000000aa\",\"otp_enabled\":false,\"password_set\":true,"
                        "\"roles\":[\"admin\",\"user\"]}");
    free(s);
    /* An operator outside any organization, fields left empty: nulls, never missing keys. */
    Mkt__Identity__Account op = MKT__IDENTITY__ACCOUNT__INIT;
    op.id = "x";
    op.operator_ = true;
    json_t *j = gateway_account_json(&op);
    cr_expect(json_is_null(json_object_get(j, "organization_id")));
    cr_expect(json_is_null(json_object_get(json_object_get(j, "eim"), "state")));
    cr_expect(json_is_null(json_object_get(j, "created_at")));
    cr_expect(json_is_true(json_object_get(j, "operator")));
    cr_expect_eq(json_array_size(json_object_get(j, "roles")), 0);
    cr_expect_eq(json_object_size(j), 11);
    json_decref(j);
}

Test(gateway_json, organization_and_outscale_account_shapes) {
    char *types[] = {"buyer", "seller"};
    Mkt__Identity__Organization o = MKT__IDENTITY__ORGANIZATION__INIT;
    o.id = "o1";
    o.name = "Acme";
    o.n_types = 2, o.types = types;
    o.region = "cloudgouv-eu-west-1";
    o.status = "pending";
    o.outscale_account_id = "123456789012";
    o.created_us = T0;
    char *s = dump(gateway_organization_json(&o));
    cr_expect_str_eq(s, "{\"created_at\":\"2026-11-27T23:20:57.123456Z\",\"id\":\"o1\",\"name\":\"Acme\","
                        "\"outscale_account_id\":\"123456789012\","
                        "\"partner_programme\":{\"number\":null,\"reason\":null,\"status\":null},"
                        "\"region\":\"cloudgouv-eu-west-1\",\"status\":"
                        "\"pending\",\"types\":[\"buyer\",\"seller\"],\"ugap\":false,\"validated_at\":null}");
    free(s);

    Mkt__Identity__OutscaleAccount oa = MKT__IDENTITY__OUTSCALE_ACCOUNT__INIT;
    oa.id = "x1";
    oa.account_id = "123456789012";
    oa.email = "cloud@example.com";
    oa.primary = true;
    oa.eim_state = "ready";
    oa.attached_us = T0;
    s = dump(gateway_outscale_account_json(&oa));
    cr_expect_str_eq(s, "{\"account_id\":\"123456789012\",\"attached_at\":\"2026-11-27T23:20:57.123456Z\",\"eim_state\":"
                        "\"ready\",\"email\":\"cloud@example.com\",\"id\":\"x1\",\"primary\":true}");
    free(s);
}

Test(gateway_json, mails_never_show_secrets) {
    Mkt__Mail__MailEntry__VarsEntry v1 = MKT__MAIL__MAIL_ENTRY__VARS_ENTRY__INIT, v2 = v1, v3 = v1, v4 = v1, v5 = v1;
    v1.key = "organization_name", v1.value = "Acme";
    v2.key = "link", v2.value = "https://mkt/set?token=SECRET1";
    v3.key = "set_password_url", v3.value = "https://mkt/set?token=SECRET2";
    v4.key = "Token", v4.value = "SECRET3";
    v5.key = "product_name", v5.value = "Db";
    Mkt__Mail__MailEntry__VarsEntry *vars[] = {&v1, &v2, &v3, &v4, &v5};
    Mkt__Mail__MailEntry m = MKT__MAIL__MAIL_ENTRY__INIT;
    m.id = "m1";
    m.event_key = "set_password:t1";
    m.template_ = "set_password";
    m.recipient = "ada@example.com";
    m.language = "fr";
    m.state = "sent";
    m.attempts = 1;
    m.created_us = T0;
    m.updated_us = T0;
    m.sent_us = T0;
    m.message_id = "<abc@notifier.mkt>";
    m.n_vars = 5, m.vars = vars;
    Mkt__Mail__MailEntry *mails[] = {&m};
    Mkt__Mail__ListMailsReply l = MKT__MAIL__LIST_MAILS_REPLY__INIT;
    l.n_mails = 1, l.mails = mails;
    l.sent = 1;
    l.pending = 2;
    char *s = dump(gateway_mails_json(&l));
    cr_expect_null(strstr(s, "SECRET"), "%s", s);
    cr_expect_not_null(strstr(s, "\"organization_name\":\"Acme\""), "%s", s);
    cr_expect_not_null(strstr(s, "\"product_name\":\"Db\""), "%s", s);
    cr_expect_not_null(strstr(s, "\"totals\":{\"failed\":0,\"pending\":2,\"sent\":1}"), "%s", s);
    cr_expect_not_null(strstr(s, "\"next_cursor\":null"), "%s", s);
    cr_expect_not_null(strstr(s, "\"sent_at\":\"2026-11-27T23:20:57.123456Z\""), "%s", s);
    cr_expect_not_null(strstr(s, "\"next_attempt_at\":null"), "%s", s);
    cr_expect_not_null(strstr(s, "\"last_error\":null"), "%s", s);
    free(s);
    cr_expect(gateway_secret_var("reset_link"));
    cr_expect(gateway_secret_var("OTP_SECRET"));
    cr_expect(!gateway_secret_var("recipient_name"));
}
