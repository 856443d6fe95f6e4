/* Every request body schema with good and bad bodies: the right code, and a message that names
 * the field. Query parameter checks too. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../services/gateway/gateway.h"

#define SIGNUP_OK                                                                                                   \
    "{\"organization\":{\"name\":\"Acme\",\"types\":[\"buyer\"],\"region\":\"cloudgouv-eu-west-1\"},"               \
    "\"outscale\":{\"access_key\":\"AKAKAKAKAKAKAKAKAKAK\",\"secret_key\":\"SKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSK\"}," \
    "\"admin\":{\"name\":\"Ada\",\"language\":\"fr\"}}"
#define LINK_TOKEN "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234"

struct body_case {
    const struct jsonv_schema *schema;
    const char *body;
    err_code want;
    const char *mentions; /* a substring of the message (the field), or NULL */
};

static const struct body_case cases[] = {
    /* signup */
    {&gateway_schema_signup, SIGNUP_OK, ERR_OK, NULL},
    {&gateway_schema_signup,
     "{\"organization\":{\"name\":\"Acme\",\"types\":[\"buyer\",\"seller\"]},\"outscale\":{\"access_key\":"
     "\"AKAKAKAKAKAKAKAKAKAK\",\"secret_key\":\"SKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSK\"},\"admin\":{\"name\":\"A\"}}",
     ERR_OK, NULL},
    {&gateway_schema_signup, "{}", ERR_INVALID, "organization"},
    {&gateway_schema_signup, "", ERR_INVALID, "organization"},
    {&gateway_schema_signup, "[]", ERR_INVALID, "body"},
    {&gateway_schema_signup, "{\"organization\":", ERR_INVALID, "JSON"},
    {&gateway_schema_signup,
     "{\"organization\":{\"name\":\"Acme\",\"types\":[\"broker\"]},\"outscale\":{},\"admin\":{}}", ERR_INVALID,
     "organization.types[0]"},
    {&gateway_schema_signup, "{\"organization\":{\"name\":\"Acme\",\"types\":[]},\"outscale\":{},\"admin\":{}}",
     ERR_INVALID, "organization.types"},
    {&gateway_schema_signup,
     "{\"organization\":{\"name\":\"Acme\",\"types\":[\"buyer\",\"buyer\"]},\"outscale\":{},\"admin\":{}}",
     ERR_INVALID, "organization.types[1]"},
    {&gateway_schema_signup, "{\"organization\":{\"name\":42,\"types\":[\"buyer\"]},\"outscale\":{},\"admin\":{}}",
     ERR_INVALID, "organization.name"},
    {&gateway_schema_signup,
     "{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\"],\"region\":\"us-east-1\"},\"outscale\":{},\"admin\":{}}",
     ERR_INVALID, "organization.region"},
    {&gateway_schema_signup,
     "{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\"],\"vat\":\"FR1\"},\"outscale\":{},\"admin\":{}}",
     ERR_INVALID, "organization.vat"},
    {&gateway_schema_signup,
     "{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\"]},\"outscale\":{\"access_key\":\"short\",\"secret_key\":"
     "\"SKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSK\"},\"admin\":{\"name\":\"A\"}}",
     ERR_INVALID, "outscale.access_key"},
    {&gateway_schema_signup,
     "{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\"]},\"outscale\":{\"access_key\":\"AKAKAKAKAKAKAKAKAKAK\","
     "\"secret_key\":\"SKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSK\"},\"admin\":{\"name\":\"A\",\"language\":\"de\"}}",
     ERR_INVALID, "admin.language"},
    {&gateway_schema_signup, SIGNUP_OK "x", ERR_INVALID, "JSON"},
    {&gateway_schema_signup,
     "{\"organization\":{\"name\":\"A\",\"name\":\"B\",\"types\":[\"buyer\"]},\"outscale\":{},\"admin\":{}}",
     ERR_INVALID, "JSON"}, /* duplicate keys */
    {&gateway_schema_signup, "{\"organization\":{\"name\":\"\",\"types\":[\"buyer\"]},\"outscale\":{},\"admin\":{}}",
     ERR_INVALID, "organization.name"},
    /* link tokens */
    {&gateway_schema_token_password, "{\"token\":\"" LINK_TOKEN "\",\"password\":\"Str0ng!Passw0rd\"}", ERR_OK, NULL},
    {&gateway_schema_token_password, "{\"token\":\"abc def ghi jkl mno\",\"password\":\"x\"}", ERR_INVALID, "token"},
    {&gateway_schema_token_password, "{\"token\":\"short\",\"password\":\"x\"}", ERR_INVALID, "token"},
    {&gateway_schema_token_password, "{\"token\":\"" LINK_TOKEN "\"}", ERR_INVALID, "password"},
    {&gateway_schema_token_password, "{\"token\":\"" LINK_TOKEN "\",\"password\":\"\"}", ERR_INVALID, "password"},
    {&gateway_schema_token_password, "{\"token\":\"" LINK_TOKEN "\",\"password\":true}", ERR_INVALID, "password"},
    /* forgot */
    {&gateway_schema_forgot, "{\"email\":\"jane@example.com\"}", ERR_OK, NULL},
    {&gateway_schema_forgot, "{\"email\":\"jane@example\"}", ERR_INVALID, "email"},
    {&gateway_schema_forgot, "{\"email\":\"jane example.com\"}", ERR_INVALID, "email"},
    {&gateway_schema_forgot, "{\"email\":\"<jane@example.com>\"}", ERR_INVALID, "email"},
    {&gateway_schema_forgot, "{\"mail\":\"jane@example.com\"}", ERR_INVALID, "mail"},
    /* login */
    {&gateway_schema_login, "{\"email\":\"jane@example.com\",\"password\":\"p\"}", ERR_OK, NULL},
    {&gateway_schema_login, "{\"email\":\"jane@example.com\",\"password\":\"p\",\"otp\":\"012345\"}", ERR_OK, NULL},
    {&gateway_schema_login, "{\"email\":\"jane@example.com\",\"password\":\"p\",\"method\":\"password\"}", ERR_OK, NULL},
    {&gateway_schema_login, "{\"email\":\"jane@example.com\",\"password\":\"p\",\"otp\":\"01234a\"}", ERR_INVALID, "otp"},
    {&gateway_schema_login, "{\"email\":\"jane@example.com\",\"password\":\"p\",\"otp\":\"1234567\"}", ERR_INVALID, "otp"},
    {&gateway_schema_login, "{\"email\":\"jane@example.com\",\"password\":\"p\",\"otp\":123456}", ERR_INVALID, "otp"},
    {&gateway_schema_login, "{\"email\":\"jane@example.com\",\"password\":\"p\",\"method\":\"sms\"}", ERR_INVALID, "method"},
    {&gateway_schema_login, "{\"method\":\"certificate\"}", ERR_UNSUPPORTED, "certificate"},
    {&gateway_schema_login, "{\"email\":\"jane@example.com\",\"method\":\"certificate\",\"x\":1}", ERR_UNSUPPORTED,
     "not supported"},
    {&gateway_schema_login, "{\"email\":\"jane@example.com\"}", ERR_INVALID, "password"},
    /* the account */
    {&gateway_schema_change_password, "{\"old_password\":\"a\",\"new_password\":\"b\"}", ERR_OK, NULL},
    {&gateway_schema_change_password, "{\"old_password\":\"a\"}", ERR_INVALID, "new_password"},
    {&gateway_schema_otp_code, "{\"code\":\"123456\"}", ERR_OK, NULL},
    {&gateway_schema_otp_code, "{\"code\":\"12345\"}", ERR_INVALID, "code"},
    {&gateway_schema_otp_code, "{\"code\":\"abcdef\"}", ERR_INVALID, "code"},
    {&gateway_schema_disable_2fa, "{\"code\":\"123456\"}", ERR_OK, NULL},
    {&gateway_schema_disable_2fa, "{\"password\":\"secret\"}", ERR_OK, NULL},
    {&gateway_schema_disable_2fa, "{}", ERR_INVALID, "code"},
    {&gateway_schema_disable_2fa, "{\"code\":\"123456\",\"password\":\"secret\"}", ERR_INVALID, "password"},
    {&gateway_schema_disable_2fa, "{\"code\":\"12x456\"}", ERR_INVALID, "code"},
    /* the organization */
    {&gateway_schema_update_organization, "{\"name\":\"New name\"}", ERR_OK, NULL},
    {&gateway_schema_update_organization, "{}", ERR_INVALID, "nothing to change"},
    {&gateway_schema_update_organization, "{\"name\":null}", ERR_INVALID, "nothing to change"},
    {&gateway_schema_update_organization, "{\"types\":[\"seller\"]}", ERR_INVALID, "types"},
    {&gateway_schema_create_account, "{\"name\":\"Bob\",\"email\":\"bob@example.com\",\"roles\":[\"user\"]}", ERR_OK,
     NULL},
    {&gateway_schema_create_account,
     "{\"name\":\"Bob\",\"email\":\"bob@example.com\",\"roles\":[\"admin\",\"user\"],\"language\":\"fr\"}", ERR_OK, NULL},
    {&gateway_schema_create_account, "{\"name\":\"Bob\",\"email\":\"bob@example.com\",\"roles\":[\"owner\"]}",
     ERR_INVALID, "roles[0]"},
    {&gateway_schema_create_account, "{\"name\":\"Bob\",\"email\":\"bob@example.com\",\"roles\":\"user\"}", ERR_INVALID,
     "roles"},
    {&gateway_schema_create_account, "{\"name\":\"Bob\",\"email\":\"bob\",\"roles\":[\"user\"]}", ERR_INVALID, "email"},
    {&gateway_schema_create_account, "{\"email\":\"bob@example.com\",\"roles\":[\"user\"]}", ERR_INVALID, "name"},
    {&gateway_schema_update_account, "{\"roles\":[\"admin\"]}", ERR_OK, NULL},
    {&gateway_schema_update_account, "{}", ERR_INVALID, "nothing to change"},
    {&gateway_schema_update_account, "{\"roles\":[]}", ERR_INVALID, "roles"},
    {&gateway_schema_update_account, "{\"password\":\"x\"}", ERR_INVALID, "password"},
    {&gateway_schema_attach_outscale,
     "{\"access_key\":\"AKAKAKAKAKAKAKAKAKAK\",\"secret_key\":\"SKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSK\"}", ERR_OK, NULL},
    {&gateway_schema_attach_outscale, "{\"access_key\":\"AKAKAKAKAKAKAKAKAKAK\"}", ERR_INVALID, "secret_key"},
    {&gateway_schema_ugap, "{\"ugap\":true}", ERR_OK, NULL},
    {&gateway_schema_ugap, "{\"ugap\":\"yes\"}", ERR_INVALID, "ugap"},
    {&gateway_schema_ugap, "{\"ugap\":1}", ERR_INVALID, "ugap"},
    /* no body expected */
    {&gateway_schema_empty, "", ERR_OK, NULL},
    {&gateway_schema_empty, "  \r\n", ERR_OK, NULL},
    {&gateway_schema_empty, "{}", ERR_OK, NULL},
    {&gateway_schema_empty, "{\"force\":true}", ERR_INVALID, "force"},
    {&gateway_schema_empty, "null", ERR_INVALID, "body"},
};

Test(gateway_schemas, good_and_bad_bodies) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *out = NULL;
        struct err e = {0};
        err_code got = gateway_parse_body(cases[i].body, strlen(cases[i].body), cases[i].schema, &out, &e);
        cr_expect_eq(got, cases[i].want, "case %zu %s: got %s (%s)", i, cases[i].body, err_code_name(got), e.msg);
        if (got == ERR_OK) {
            cr_expect(json_is_object(out), "case %zu", i);
            json_decref(out);
        } else {
            cr_expect_null(out, "case %zu: out written on failure", i);
            if (cases[i].mentions)
                cr_expect(strstr(e.msg, cases[i].mentions), "case %zu: '%s' does not mention '%s'", i, e.msg,
                          cases[i].mentions);
        }
    }
}

Test(gateway_schemas, oversized_strings_are_refused_by_length) {
    char body[3000];
    char name[300];
    memset(name, 'n', 201);
    name[201] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    json_t *out = NULL;
    struct err e = {0};
    cr_expect_eq(gateway_parse_body(body, strlen(body), &gateway_schema_update_organization, &out, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "'name'") && strstr(e.msg, "200"), "%s", e.msg);
    name[200] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    cr_expect_eq(gateway_parse_body(body, strlen(body), &gateway_schema_update_organization, &out, &e), ERR_OK);
    json_decref(out);
    /* Lengths count characters, not bytes: 200 "é" pass. */
    char wide[1000] = "{\"name\":\"";
    for (int i = 0; i < 200; i++)
        strcat(wide, "\xc3\xa9");
    strcat(wide, "\"}");
    cr_expect_eq(gateway_parse_body(wide, strlen(wide), &gateway_schema_update_organization, &out, &e), ERR_OK, "%s",
                 e.msg);
    json_decref(out);
    /* An e-mail over 254 characters. */
    char mail[400];
    memset(mail, 'a', 250);
    strcpy(mail + 250, "@example.com");
    snprintf(body, sizeof body, "{\"email\":\"%s\"}", mail);
    cr_expect_eq(gateway_parse_body(body, strlen(body), &gateway_schema_forgot, &out, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "email"), "%s", e.msg);
}

Test(gateway_schemas, query_parameters) {
    static const char *const states[] = {"pending", "sent", "failed", NULL};
    const struct jsonv_field rule = {.type = JSONV_STRING, .one_of = states};
    struct err e = {0};
    cr_expect_eq(gateway_check_query("state", NULL, &rule, &e), ERR_OK);
    cr_expect_eq(gateway_check_query("state", "", &rule, &e), ERR_OK, "an empty value is no filter");
    cr_expect_eq(gateway_check_query("state", "sent", &rule, &e), ERR_OK);
    cr_expect_eq(gateway_check_query("state", "lost", &rule, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "query parameter 'state'") && strstr(e.msg, "pending"), "%s", e.msg);
    cr_expect_eq(gateway_check_query("state", "\xff\xfe", &rule, &e), ERR_INVALID);
    long long v = -1;
    cr_expect_eq(gateway_query_int("limit", NULL, 1, 200, 50, &v, &e), ERR_OK);
    cr_expect_eq(v, 50);
    cr_expect_eq(gateway_query_int("limit", "200", 1, 200, 50, &v, &e), ERR_OK);
    cr_expect_eq(v, 200);
    static const char *const bad[] = {"0", "201", "-1", "1e2", "ten", " 5", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        cr_expect_eq(gateway_query_int("limit", bad[i], 1, 200, 50, &v, &e), ERR_INVALID, "%s", bad[i]);
        cr_expect(strstr(e.msg, "'limit'"), "%s", e.msg);
        cr_expect_eq(v, 7, "out written on failure");
    }
}
