/* Unit tests of the core modules every service stands on: errors, configuration tables, the
 * shiftable clock, UUIDv7 ids, crypto helpers and JSON request validation. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "crypto.h"
#include "err.h"
#include "id.h"
#include "jsonv.h"
#include "log.h"

/* ---- err ---------------------------------------------------------------------------------------- */

Test(err, set_wrap_and_names_round_trip) {
    struct err e = {0};
    cr_expect_eq(err_set(&e, ERR_NOT_FOUND, "product %s", "p-1"), ERR_NOT_FOUND);
    cr_expect_str_eq(e.msg, "product p-1");
    err_wrap(&e, "publish %d", 7);
    cr_expect_str_eq(e.msg, "publish 7: product p-1");
    cr_expect_eq(e.code, ERR_NOT_FOUND);
    for (int c = 0; c < ERR__COUNT; c++)
        cr_expect_eq(err_code_from_name(err_code_name((err_code)c)), (err_code)c, "code %d", c);
    cr_expect_eq(err_code_from_name("nonsense"), ERR__COUNT);
    cr_expect_eq(err_set(NULL, ERR_CONFLICT, "x"), ERR_CONFLICT, "NULL err is allowed");
    char longer[600];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    err_set(&e, ERR_INVALID, "%s", longer);
    cr_expect_eq(strlen(e.msg), ERR_MSG_MAX - 1, "reasons are truncated, never overflow");
}

/* ---- config ------------------------------------------------------------------------------------- */

struct cfg {
    const char *url;
    long long workers;
    bool flag;
    const char *secret;
};

static const struct config_field fields[] = {
    {"T_URL", CONFIG_STRING, NULL, 1, 100, false, offsetof(struct cfg, url), "required"},
    {"T_WORKERS", CONFIG_INT, "4", 1, 64, false, offsetof(struct cfg, workers), ""},
    {"T_FLAG", CONFIG_BOOL, "false", 0, 0, false, offsetof(struct cfg, flag), ""},
    {"T_SECRET", CONFIG_STRING, "s3cret", 0, 0, true, offsetof(struct cfg, secret), ""},
};

Test(config, defaults_and_values) {
    setenv("T_URL", "nats://x", 1);
    setenv("T_FLAG", "yes", 1);
    unsetenv("T_WORKERS");
    struct cfg c = {0};
    struct err e = {0};
    cr_assert_eq(config_load(fields, CONFIG_COUNT(fields), &c, &e), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(c.url, "nats://x");
    cr_expect_eq(c.workers, 4);
    cr_expect(c.flag);
    cr_expect_str_eq(c.secret, "s3cret");
}

Test(config, every_problem_is_reported_at_once) {
    unsetenv("T_URL");
    setenv("T_WORKERS", "500", 1);
    setenv("T_FLAG", "maybe", 1);
    struct cfg c = {0};
    struct err e = {0};
    cr_assert_eq(config_load(fields, CONFIG_COUNT(fields), &c, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "T_URL: required"), "%s", e.msg);
    cr_expect(strstr(e.msg, "T_WORKERS: must be an integer from 1 to 64"), "%s", e.msg);
    cr_expect(strstr(e.msg, "T_FLAG: must be true or false"), "%s", e.msg);
    setenv("T_WORKERS", "12abc", 1);
    cr_expect_eq(config_load(fields, CONFIG_COUNT(fields), &c, &e), ERR_INVALID, "trailing junk refused");
}

/* ---- clock -------------------------------------------------------------------------------------- */

Test(clock, format_and_parse_round_trip) {
    mkt_time t;
    cr_assert_eq(clock_parse("2026-11-21T22:20:57Z", &t), 0);
    char buf[40];
    clock_format(t, buf, sizeof buf);
    cr_expect_str_eq(buf, "2026-11-21T22:20:57.000000Z");
    mkt_time t2;
    cr_assert_eq(clock_parse("2026-11-21T23:20:57.5+0100", &t2), 0, "the cloud's +0000 style offsets");
    cr_expect_eq(t2, t + 500000);
    cr_assert_eq(clock_parse("2026-11-21T22:20:57.123456+00:00", &t2), 0);
    cr_expect_eq(t2, t + 123456);
    static const char *const bad[] = {"", "2026-11-21", "2026-13-01T00:00:00Z", "2026-11-21T22:20:57", "2026-11-21T22:20:57Zjunk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_neq(clock_parse(bad[i], &t2), 0, "accepted '%s'", bad[i]);
}

Test(clock, offset_shifts_time) {
    mkt_time before = clock_now();
    clock_set_offset(24 * CLOCK_HOUR);
    mkt_time after = clock_now();
    clock_set_offset(0);
    cr_expect(after - before >= 24 * CLOCK_HOUR && after - before < 24 * CLOCK_HOUR + CLOCK_MINUTE);
}

Test(clock, offset_file_is_read_by_running_processes) {
    char path[] = "/tmp/mkt-clock-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "3600\n", 5), 5);
    close(fd);
    setenv("MKT_CLOCK_FILE", path, 1);
    clock_init_from_env();
    mkt_time now = clock_now(), real = clock_now() - clock_offset();
    cr_expect(now - real >= CLOCK_HOUR - CLOCK_SECOND, "offset from the file applies");
    unlink(path);
}

/* ---- id ----------------------------------------------------------------------------------------- */

Test(id, uuid_v7_shape_uniqueness_and_order) {
    char a[ID_UUID_LEN + 1], b[ID_UUID_LEN + 1];
    id_uuid(a);
    usleep(2000);
    id_uuid(b);
    cr_expect(id_is_uuid(a) && id_is_uuid(b));
    cr_expect_eq(a[14], '7', "version 7: %s", a);
    cr_expect(strchr("89ab", a[19]), "RFC 4122 variant: %s", a);
    cr_expect(strcmp(a, b) < 0, "time-ordered: %s then %s", a, b);
    cr_expect(!id_is_uuid("01a2-not-a-uuid"));
    cr_expect(!id_is_uuid("01a20081-3233-75fd-8e5b-7c5065a50e8z"));
}

/* ---- crypto ------------------------------------------------------------------------------------- */

Test(crypto, sha256_and_hmac_vectors) {
    char hex[65];
    crypto_sha256_hex("abc", 3, hex);
    cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    uint8_t mac[32];
    crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac); /* RFC 4231 case 2 */
    crypto_hex(mac, sizeof mac, hex);
    cr_expect_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    cr_expect(crypto_equal("abc", "abc", 3) && !crypto_equal("abc", "abd", 3));
}

Test(crypto, hex_is_lower_case_and_ends_with_nul) {
    const uint8_t b[] = {0x00, 0x09, 0x0a, 0x7f, 0x80, 0xab, 0xff};
    char hex[2 * sizeof b + 1];
    memset(hex, 'X', sizeof hex);
    crypto_hex(b, sizeof b, hex);
    cr_expect_str_eq(hex, "00090a7f80abff");
    char empty[1] = {'X'};
    crypto_hex(b, 0, empty);
    cr_expect_str_eq(empty, "");
}

Test(crypto, tokens_are_random_base64url) {
    char a[64], b[64];
    crypto_token(a, sizeof a, 32);
    crypto_token(b, sizeof b, 32);
    cr_expect_eq(strlen(a), 43);
    cr_expect(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
    cr_expect_str_neq(a, b);
}

/* ---- jsonv -------------------------------------------------------------------------------------- */

static const char *const kinds[] = {"buyer", "seller", NULL};
static const struct jsonv_field org_fields[] = {
    {.name = "name", .type = JSONV_STRING, .required = true, .min = 1, .max = 10},
    {.name = "types", .type = JSONV_ARRAY, .required = true, .min = 1, .max = 2, .items = JSONV_STRING, .one_of = kinds,
     .unique = true},
};
static const struct jsonv_schema org_schema = JSONV_SCHEMA(org_fields);
static const struct jsonv_field body_fields[] = {
    {.name = "organization", .type = JSONV_OBJECT, .required = true, .object = &org_schema},
    {.name = "email", .type = JSONV_STRING, .format = JSONV_EMAIL, .min = 3, .max = 254},
    {.name = "count", .type = JSONV_INT, .min = 1, .max = 5},
};
static const struct jsonv_schema body_schema = JSONV_SCHEMA(body_fields);

Test(jsonv, table_of_bodies_and_their_errors) {
    static const struct {
        const char *body;
        const char *error; /* NULL: accepted */
    } cases[] = {
        {"{\"organization\":{\"name\":\"Acme\",\"types\":[\"buyer\"]}}", NULL},
        {"{\"organization\":{\"name\":\"Été\",\"types\":[\"buyer\",\"seller\"]},\"email\":\"a@b.fr\",\"count\":5}", NULL},
        {"[]", "body: must be a JSON object"},
        {"{", "body: not valid JSON"},
        {"{}", "field 'organization': required"},
        {"{\"organization\":{\"types\":[\"buyer\"]}}", "field 'organization.name': required"},
        {"{\"organization\":{\"name\":7,\"types\":[\"buyer\"]}}", "field 'organization.name': must be a string"},
        {"{\"organization\":{\"name\":\"abcdefghijk\",\"types\":[\"buyer\"]}}", "field 'organization.name': must be 1 to 10 characters long"},
        {"{\"organization\":{\"name\":\"A\",\"types\":[\"admin\"]}}", "field 'organization.types[0]': must be one of buyer, seller"},
        {"{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\",\"buyer\"]}}", "field 'organization.types[1]': duplicate item"},
        {"{\"organization\":{\"name\":\"A\",\"types\":[]}}", "field 'organization.types': must have 1 to 2 items"},
        {"{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\"],\"x\":1}}", "field 'organization.x': unknown field"},
        {"{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\"]},\"email\":\"nope\"}", "field 'email': must be an e-mail address"},
        {"{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\"]},\"count\":6}", "field 'count': must be from 1 to 5"},
        {"{\"organization\":{\"name\":\"A\",\"types\":[\"buyer\"]},\"count\":\"1\"}", "field 'count': must be an integer"},
        {"{\"a\":1,\"a\":2}", "body: not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = NULL;
        struct err e = {0};
        err_code code = jsonv_parse(cases[i].body, strlen(cases[i].body), &body_schema, &v, &e);
        if (!cases[i].error) {
            cr_expect_eq(code, ERR_OK, "case %zu refused: %s", i, e.msg);
        } else {
            cr_expect_eq(code, ERR_INVALID, "case %zu accepted", i);
            cr_expect(strncmp(e.msg, cases[i].error, strlen(cases[i].error)) == 0, "case %zu: got '%s'", i, e.msg);
        }
        json_decref(v);
    }
}

Test(jsonv, emails_and_utf8) {
    static const char *const good[] = {"a@b.fr", "first.last+tag@sub.example.com"};
    static const char *const bad[] = {"", "a@", "@b.fr", "a@b", "a b@c.fr", "a@b..fr", "a@@b.fr", "a@.b.fr", "<a@b.fr>"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_expect(jsonv_is_email(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(!jsonv_is_email(bad[i]), "%s", bad[i]);
    cr_expect_eq(jsonv_utf8_len("Été"), 3);
    cr_expect_eq(jsonv_utf8_len("\xff"), -1);
}

/* ---- log ---------------------------------------------------------------------------------------- */

Test(log, one_line_without_control_characters) {
    char path[] = "/tmp/mkt-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    log_init("test", "info");
    log_msg(LOG_INFO, "path /a\x1b[31mred\r\nX-Injected: 1\tb\x7f\x01" "end");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[512] = "";
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    cr_expect(strstr(buf, "path /a?[31mred  X-Injected: 1 b??end\n") != NULL, "%s", buf);
    cr_expect_eq(strchr(buf, '\n'), buf + n - 1, "one line");
}
