/* Field validation, table-driven: each row is an input and the expected outcome (the normalized
 * value, or the error naming the field and the rule). AUTH-1 names every unmet rule. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../services/identity/eim.h"
#include "../../../services/identity/store.h"
#include "../../../services/identity/validation.h"

Test(validation, names) {
    static const struct {
        const char *in, *out, *err;
    } rows[] = {
        {"Acme", "Acme", NULL},
        {"  Acme Corp  ", "Acme Corp", NULL},
        {"Société Générale", "Société Générale", NULL},
        {"", NULL, "field 'name': required"},
        {"   ", NULL, "field 'name': required"},
        {"a\tb", NULL, "without control characters"},
        {"bad \xff utf8", NULL, "must be UTF-8"},
        {"\xc2\x85", NULL, "without control characters"}, /* C1 control (NEL) */
        {"\xe2\x82", NULL, "must be UTF-8"},              /* truncated sequence */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[STORE_NAME];
        struct err e = {0};
        err_code code = validation_name("name", rows[i].in, out, sizeof out, &e);
        if (rows[i].out) {
            cr_expect_eq(code, ERR_OK, "row %zu: %s", i, e.msg);
            cr_expect_str_eq(out, rows[i].out, "row %zu", i);
        } else {
            cr_expect_eq(code, ERR_INVALID, "row %zu", i);
            cr_expect(strstr(e.msg, rows[i].err), "row %zu: %s", i, e.msg);
        }
    }
    char longest[VALIDATION_NAME_MAX * 2 + 2], out[STORE_NAME];
    memset(longest, 'x', VALIDATION_NAME_MAX);
    longest[VALIDATION_NAME_MAX] = '\0';
    struct err e = {0};
    cr_expect_eq(validation_name("name", longest, out, sizeof out, &e), ERR_OK);
    for (int i = 0; i < VALIDATION_NAME_MAX; i++) /* 100 two-byte characters are 100 characters */
        memcpy(longest + 2 * i, "\xc3\xa9", 2);
    longest[2 * VALIDATION_NAME_MAX] = '\0';
    cr_expect_eq(validation_name("name", longest, out, sizeof out, &e), ERR_OK, "%s", e.msg);
    strcat(longest, "x");
    cr_expect_eq(validation_name("name", longest, out, sizeof out, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "at most 100 characters"), "%s", e.msg);
}

Test(validation, emails) {
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"Jane.Doe@Example.COM", "jane.doe@example.com"},
        {" jane@example.fr ", "jane@example.fr"},
        {"a+tag@sub.example.org", "a+tag@sub.example.org"},
        {"", NULL},
        {"jane", NULL},
        {"jane@", NULL},
        {"@example.com", NULL},
        {"jane@example", NULL},
        {"jane@@example.com", NULL},
        {"ja ne@example.com", NULL},
        {"jane@example..com", NULL},
        {"jane@.example.com", NULL},
        {"<jane@example.com>", NULL},
        {"jané@example.com", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[STORE_EMAIL];
        struct err e = {0};
        err_code code = validation_email("email", rows[i].in, out, sizeof out, &e);
        if (rows[i].out) {
            cr_expect_eq(code, ERR_OK, "row %zu: %s", i, e.msg);
            cr_expect_str_eq(out, rows[i].out);
        } else {
            cr_expect_eq(code, ERR_INVALID, "row %zu (%s) accepted", i, rows[i].in);
            cr_expect(strncmp(e.msg, "field 'email': ", 15) == 0, "%s", e.msg);
        }
    }
}

Test(validation, languages_roles_types_regions) {
    char lang[3];
    struct err e = {0};
    cr_expect_eq(validation_language("language", "", lang, &e), ERR_OK);
    cr_expect_str_eq(lang, "en");
    cr_expect_eq(validation_language("language", "fr-FR", lang, &e), ERR_OK);
    cr_expect_str_eq(lang, "fr");
    cr_expect_eq(validation_language("language", "de", lang, &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, "field 'language': must be \"en\" or \"fr\"");
    cr_expect_eq(validation_language("language", "french", lang, &e), ERR_INVALID);

    unsigned mask = 0;
    char *both[] = {"user", "admin"}, *dup[] = {"admin", "admin"}, *owner[] = {"owner"};
    cr_expect_eq(validation_roles("roles", both, 2, &mask, &e), ERR_OK);
    cr_expect_eq(mask, (unsigned)(ROLE_ADMIN | ROLE_USER));
    const char *names[2];
    cr_expect_eq(validation_role_names(mask, names), 2);
    cr_expect_str_eq(names[0], "admin");
    cr_expect_eq(validation_roles("roles", dup, 2, &mask, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "listed twice"), "%s", e.msg);
    cr_expect_eq(validation_roles("roles", owner, 1, &mask, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "unknown value \"owner\""), "%s", e.msg);
    cr_expect_eq(validation_roles("roles", NULL, 0, &mask, &e), ERR_INVALID);
    char *seller[] = {"seller"}, *broker[] = {"broker"};
    cr_expect_eq(validation_types("types", seller, 1, &mask, &e), ERR_OK);
    cr_expect_eq(mask, (unsigned)TYPE_SELLER);
    cr_expect_eq(validation_types("types", broker, 1, &mask, &e), ERR_INVALID);
    cr_expect(strncmp(e.msg, "field 'types': ", 15) == 0, "%s", e.msg);

    const char *r = NULL;
    cr_expect_eq(validation_region("region", "", "cloudgouv-eu-west-1", &r, &e), ERR_OK);
    cr_expect_str_eq(r, "cloudgouv-eu-west-1", "ORG-1: the default Region");
    cr_expect_eq(validation_region("region", "eu-west-2", "cloudgouv-eu-west-1", &r, &e), ERR_OK);
    cr_expect_eq(validation_region("region", "us-east-1", "cloudgouv-eu-west-1", &r, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "field 'region': unknown Region"), "%s", e.msg);
}

Test(validation, outscale_keys_codes_ids_tokens) {
    struct err e = {0};
    cr_expect_eq(validation_access_key("access_key", "AKAKAKAKAKAKAKAKAKAK", &e), ERR_OK);
    cr_expect_eq(validation_access_key("access_key", "AKAK", &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "field 'access_key': an OUTSCALE access key is 20"), "%s", e.msg);
    cr_expect_eq(validation_access_key("access_key", "AKAKAKAKAKAKAKAKAK-K", &e), ERR_INVALID);
    cr_expect_eq(validation_secret_key("secret_key", "SKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSK", &e), ERR_OK);
    cr_expect_eq(validation_secret_key("secret_key", "", &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, "field 'secret_key': required");
    cr_expect_eq(validation_otp_code("code", "012345", &e), ERR_OK);
    cr_expect_eq(validation_otp_code("code", "12345", &e), ERR_INVALID);
    cr_expect_eq(validation_otp_code("code", "12345a", &e), ERR_INVALID);
    cr_expect_eq(validation_uuid("id", "0190a0a0-0000-7000-8000-000000000000", &e), ERR_OK);
    cr_expect_eq(validation_uuid("id", "123456789012", &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, "field 'id': not an id");
    cr_expect_eq(validation_token("token", "abcdefghijklmnop-_AB", &e), ERR_OK);
    cr_expect_eq(validation_token("token", "short", &e), ERR_INVALID);
    cr_expect_eq(validation_token("token", "a b c d e f g h i j k", &e), ERR_INVALID);
}

/* AUTH-1: at least 12 characters, lower, upper, digit, special; every unmet rule named. */
Test(validation, password_policy_table) {
    static const struct {
        const char *pw;
        const char *msg; /* NULL = accepted */
    } rows[] = {
        {"Correct-Horse-9", NULL},
        {"Aa1!Aa1!Aa1!", NULL},                 /* exactly 12 */
        {"Aa1!Aa1!Aa1", "field 'password': needs at least 12 characters"},
        {"correct-horse-9", "field 'password': needs one upper-case letter"},
        {"CORRECT-HORSE-9", "field 'password': needs one lower-case letter"},
        {"Correct-Horse-", "field 'password': needs one digit"},
        {"CorrectHorse99", "field 'password': needs one special character"},
        {"Correct Horse 9", NULL},              /* a space is special */
        {"ÉtoileFilante9", NULL},               /* non-ASCII letters count as special */
        {"abcdefghijkL1", "field 'password': needs one special character"},
        {"abc", "field 'password': needs at least 12 characters, one upper-case letter, one digit, one special character"},
        {"", "field 'password': needs at least 12 characters, one lower-case letter, one upper-case letter, one digit, "
             "one special character"},
        {"Correct-Horse-9\n", "field 'password': must be UTF-8 text without control characters"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct err e = {0};
        err_code code = validation_password("password", rows[i].pw, &e);
        if (!rows[i].msg) {
            cr_expect_eq(code, ERR_OK, "row %zu: %s", i, e.msg);
        } else {
            cr_expect_eq(code, ERR_INVALID, "row %zu accepted", i);
            cr_expect_str_eq(e.msg, rows[i].msg, "row %zu", i);
        }
    }
    char longest[300];
    memset(longest, 'a', sizeof longest);
    memcpy(longest, "A1!", 3);
    longest[257] = '\0';
    struct err e = {0};
    cr_expect_eq(validation_password("password", longest, &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, "field 'password': at most 256 characters");
}

/* ACC-4: deterministic EIM names, and the policy the platform's users get. */
Test(eim, names_and_policy) {
    char name[64];
    store_eim_user_name("01a20074-22d3-7150-8704-241c4c1b0f1b", name);
    cr_expect_str_eq(name, "marketplace_8704241c4c1b0f1b");
    cr_expect(strlen(name) <= 64);
    const char *doc = eim_policy_document();
    cr_expect(strstr(doc, "\"api:ReadVms\"") && strstr(doc, "\"api:ReadImages\"") && strstr(doc, "\"api:CreateUser\"") &&
                  strstr(doc, "\"api:DeleteAccessKey\""),
              "%s", doc);
    cr_expect(strlen(doc) < 5120, "the cloud's limit of a policy document");
}
