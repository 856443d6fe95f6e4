/* The notifier's pure rules (mail.c): address checks, Message-ID, language and the
 * classification of SMTP outcomes, table-driven. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <string.h>

#include "../../../services/notifier/mail.h"

struct addr_case {
    const char *in;
    const char *normalized; /* NULL: refused */
};

static const struct addr_case addr_cases[] = {
    {"jane@example.com", "jane@example.com"},
    {"Jane.Doe+mkt@Example.COM", "jane.doe+mkt@example.com"},
    {"a@b.co", "a@b.co"},
    {"o'brien@xn--exmple-cua.fr", "o'brien@xn--exmple-cua.fr"},
    {"", NULL},
    {"jane", NULL},
    {"jane@", NULL},
    {"@example.com", NULL},
    {"jane@example", NULL},
    {"jane@@example.com", NULL},
    {"jane doe@example.com", NULL},
    {"jane@exa mple.com", NULL},
    {"<jane@example.com>", NULL},
    {"jane@example.com\r\nRCPT TO:<x@y.z>", NULL},
    {"jane\"@example.com", NULL},
    {".jane@example.com", NULL},
    {"jane.@example.com", NULL},
    {"ja..ne@example.com", NULL},
    {"jane@-example.com", NULL},
    {"jane@example-.com", NULL},
    {"jane@example..com", NULL},
    {"jane@example.com.", NULL},
    {"jané@example.com", NULL},
    {"jane@exämple.com", NULL},
    {"jane@[127.0.0.1]", NULL},
    {"a,b@example.com", NULL},
};

Test(mail, normalize_address_table) {
    for (size_t i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
        char out[MAIL_ADDRESS_MAX + 1] = "";
        struct err e = {0};
        err_code c = mail_normalize_address(addr_cases[i].in, out, &e);
        if (addr_cases[i].normalized) {
            cr_expect_eq(c, ERR_OK, "'%s' should be accepted: %s", addr_cases[i].in, e.msg);
            cr_expect_str_eq(out, addr_cases[i].normalized);
        } else {
            cr_expect_eq(c, ERR_INVALID, "'%s' should be refused", addr_cases[i].in);
            cr_expect(strstr(e.msg, "recipient address") != NULL, "reason names the field: %s", e.msg);
        }
    }
}

Test(mail, address_length_limits) {
    char local[80], addr[400], out[MAIL_ADDRESS_MAX + 1];
    struct err e = {0};
    memset(local, 'a', 65);
    local[65] = '\0';
    snprintf(addr, sizeof addr, "%s@example.com", local);
    cr_expect_eq(mail_normalize_address(addr, out, &e), ERR_INVALID, "65-byte local part");
    memset(addr, 'b', 300);
    memcpy(addr, "x@", 2);
    strcpy(addr + 290, ".com");
    cr_expect_eq(mail_normalize_address(addr, out, &e), ERR_INVALID, "over 254 bytes");
}

Test(mail, names_and_values) {
    struct err e = {0};
    cr_expect_eq(mail_check_name("Jérôme Dupont", &e), ERR_OK);
    cr_expect_eq(mail_check_name(NULL, &e), ERR_OK);
    cr_expect_eq(mail_check_name("Evil\r\nBcc: x@y.z", &e), ERR_INVALID);
    cr_expect_eq(mail_check_name("\xff\xfe", &e), ERR_INVALID);
    cr_expect_eq(mail_check_value("v", "line 1\nline\t2", &e), ERR_OK);
    cr_expect_eq(mail_check_value("v", "bell\a", &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "'v'") != NULL);
    cr_expect_eq(mail_check_value("v", "\xc3\x28", &e), ERR_INVALID);
}

Test(mail, message_id_is_derived_from_event_and_recipient) {
    char a[MAIL_MESSAGE_ID_MAX], b[MAIL_MESSAGE_ID_MAX], c[MAIL_MESSAGE_ID_MAX], d[MAIL_MESSAGE_ID_MAX];
    mail_message_id("0190c2f1-0000-7000-8000-000000000001", "jane@example.com", a);
    mail_message_id("0190c2f1-0000-7000-8000-000000000001", "jane@example.com", b);
    mail_message_id("0190c2f1-0000-7000-8000-000000000001", "john@example.com", c);
    mail_message_id("0190c2f1-0000-7000-8000-000000000002", "jane@example.com", d);
    cr_expect_str_eq(a, b, "same pair, same id");
    cr_expect_str_neq(a, c);
    cr_expect_str_neq(a, d);
    cr_expect_eq(strlen(a), 1 + 64 + 1 + strlen(MAIL_MESSAGE_ID_DOMAIN) + 1);
    cr_expect_eq(a[0], '<');
    cr_expect(strstr(a, "@notifier.mkt>") == a + 65);
    /* the hash is SHA-256 of "event|recipient" (printf 'e|r' | sha256sum) */
    mail_message_id("e", "r", a);
    cr_expect_str_eq(a, "<ca2c70fb9df30022643c9c237a85d46190686587388098d5ab5c07d0780071bd@notifier.mkt>");
}

Test(mail, language_choice) {
    cr_expect_str_eq(mail_language("fr"), "fr");
    cr_expect_str_eq(mail_language("FR"), "fr");
    cr_expect_str_eq(mail_language("fr-CA"), "fr");
    cr_expect_str_eq(mail_language("fr_FR"), "fr");
    cr_expect_str_eq(mail_language("en"), "en");
    cr_expect_str_eq(mail_language("de"), "en");
    cr_expect_str_eq(mail_language("fra"), "en");
    cr_expect_str_eq(mail_language(""), "en");
    cr_expect_str_eq(mail_language(NULL), "en");
}

struct classify_case {
    int curl;
    long smtp;
    const char *errbuf;
    enum mail_outcome want;
};

static const struct classify_case classify_cases[] = {
    {CURLE_OK, 250, "", MAIL_SENT},
    {CURLE_SEND_ERROR, 550, "RCPT failed: 550", MAIL_REJECTED},
    {CURLE_SEND_ERROR, 553, "MAIL failed: 553", MAIL_REJECTED},
    {CURLE_SEND_ERROR, 554, "DATA failed: 554", MAIL_REJECTED},
    {CURLE_WEIRD_SERVER_REPLY, 554, "", MAIL_REJECTED},                      /* refused after the data */
    {CURLE_SEND_ERROR, 451, "RCPT failed: 451", MAIL_RETRY},
    {CURLE_SEND_ERROR, 452, "MAIL failed: 452", MAIL_RETRY},
    {CURLE_WEIRD_SERVER_REPLY, 450, "", MAIL_RETRY},
    {CURLE_WEIRD_SERVER_REPLY, 421, "Got unexpected smtp-server response: 421", MAIL_SERVER_DOWN},
    {CURLE_SEND_ERROR, 421, "RCPT failed: 421", MAIL_SERVER_DOWN},
    {CURLE_WEIRD_SERVER_REPLY, 554, "Got unexpected smtp-server response: 554", MAIL_SERVER_DOWN}, /* greeting */
    {CURLE_LOGIN_DENIED, 535, "Authentication failed: 535", MAIL_SERVER_DOWN},
    {CURLE_USE_SSL_FAILED, 502, "STARTTLS not supported.", MAIL_SERVER_DOWN},
    {CURLE_COULDNT_CONNECT, 0, "Failed to connect to 127.0.0.1 port 1: Connection refused", MAIL_SERVER_DOWN},
    {CURLE_COULDNT_RESOLVE_HOST, 0, "Could not resolve host: nowhere", MAIL_SERVER_DOWN},
    {CURLE_OPERATION_TIMEDOUT, 0, "Operation timed out", MAIL_SERVER_DOWN},
    {CURLE_OPERATION_TIMEDOUT, 250, "Operation timed out after 30000 milliseconds", MAIL_SERVER_DOWN},
    {CURLE_RECV_ERROR, 354, "Connection reset by peer", MAIL_SERVER_DOWN},
};

Test(mail, classify_table) {
    for (size_t i = 0; i < sizeof classify_cases / sizeof classify_cases[0]; i++) {
        const struct classify_case *c = &classify_cases[i];
        enum mail_outcome got = mail_classify(c->curl, c->smtp, c->errbuf);
        cr_expect_eq(got, c->want, "case %zu (curl %d, smtp %ld, '%s'): got %s, want %s", i, c->curl, c->smtp,
                     c->errbuf, mail_outcome_name(got), mail_outcome_name(c->want));
    }
}
