/* The libcurl sender against a real SMTP server (a private aiosmtpd with scripted refusals):
 * acceptance, connection reuse, permanent and temporary refusals, refused connections, and that a
 * refused recipient does not poison the next mail on the same sender. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "../../../services/notifier/mime.h"
#include "../../../services/notifier/smtp.h"

static struct th_sink sink;

static void start(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cr_assert(th_sink_start(&sink), "aiosmtpd did not start (is python3-aiosmtpd installed?)");
}
static void stop(void) {
    th_sink_stop(&sink);
    curl_global_cleanup();
}

TestSuite(smtp, .init = start, .fini = stop, .timeout = 60);

static struct smtp_sender *sender(const char *url) {
    struct smtp_config c = {.url = url, .from = "noreply@marketplace.example", .timeout_ms = 10000,
                            .connect_timeout_ms = 2000};
    struct smtp_sender *s = NULL;
    struct err e = {0};
    cr_assert_eq(smtp_sender_new(&c, &s, &e), ERR_OK, "%s", e.msg);
    return s;
}

static char *message(const char *to, size_t *len) {
    struct mime_mail m = {.from_name = "Marketplace", .from_address = "noreply@marketplace.example",
                          .to_name = "", .to_address = to, .subject = "Test", .text = "hello\n.\nworld\n",
                          .html = "<p>hello</p>\n", .message_id = "<abc@notifier.mkt>", .date = 0, .language = "en",
                          .template_name = "t"};
    char *msg = NULL;
    struct err e = {0};
    cr_assert_eq(mime_build(&m, &msg, len, &e), ERR_OK);
    return msg;
}

Test(smtp, accepted_and_delivered) {
    struct smtp_sender *s = sender(sink.url);
    size_t len;
    char *msg = message("jane@example.com", &len);
    struct smtp_result r;
    smtp_send(s, "jane@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_SENT, "%s", r.reason);
    cr_expect_eq(r.code, 250);
    cr_expect_eq(th_sink_count(&sink), 1);
    char *got = th_sink_first(&sink);
    cr_assert_not_null(got);
    cr_expect(strstr(got, "X-RcptTo: jane@example.com") != NULL);
    cr_expect(strstr(got, "Message-ID: <abc@notifier.mkt>") != NULL);
    cr_expect(strstr(got, "\n.\n") != NULL || strstr(got, "\r\n.\r\n") != NULL, "a lone dot survives");
    free(got);
    free(msg);
    smtp_sender_free(s);
}

Test(smtp, many_mails_on_one_sender) {
    struct smtp_sender *s = sender(sink.url);
    size_t len;
    char *msg = message("jane@example.com", &len);
    for (int i = 0; i < 20; i++) {
        struct smtp_result r;
        smtp_send(s, "jane@example.com", msg, len, &r);
        cr_assert_eq(r.outcome, MAIL_SENT, "mail %d: %s", i, r.reason);
    }
    cr_expect_eq(th_sink_count(&sink), 20);
    free(msg);
    smtp_sender_free(s);
}

Test(smtp, refused_recipient_is_permanent_and_does_not_block_the_next) {
    struct smtp_sender *s = sender(sink.url);
    size_t len;
    char *msg = message("x@example.com", &len);
    struct smtp_result r;
    smtp_send(s, "ok1@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_SENT, "%s", r.reason);
    smtp_send(s, "reject-me@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_REJECTED, "%s", r.reason);
    cr_expect_eq(r.code, 550);
    cr_expect(strstr(r.reason, "550") != NULL, "%s", r.reason);
    smtp_send(s, "ok2@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_SENT, "the next mail on the same sender: %s", r.reason);
    smtp_send(s, "baddata-x@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_REJECTED, "refused after DATA: %s", r.reason);
    cr_expect_eq(r.code, 554);
    smtp_send(s, "ok3@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_SENT, "%s", r.reason);
    cr_expect_eq(th_sink_count(&sink), 3);
    free(msg);
    smtp_sender_free(s);
}

Test(smtp, temporary_refusal) {
    struct smtp_sender *s = sender(sink.url);
    size_t len;
    char *msg = message("x@example.com", &len);
    struct smtp_result r;
    smtp_send(s, "tempfail-1@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_RETRY, "%s", r.reason);
    cr_expect_eq(r.code, 451);
    smtp_send(s, "flaky-1@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_RETRY);
    smtp_send(s, "flaky-1@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_RETRY);
    smtp_send(s, "flaky-1@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_SENT, "third time lucky: %s", r.reason);
    free(msg);
    smtp_sender_free(s);
}

Test(smtp, server_down_then_back) {
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", sink.port);
    th_sink_stop(&sink);
    struct smtp_sender *s = sender(url);
    size_t len;
    char *msg = message("x@example.com", &len);
    struct smtp_result r;
    smtp_send(s, "jane@example.com", msg, len, &r);
    cr_expect_eq(r.outcome, MAIL_SERVER_DOWN, "%s", r.reason);
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.reason, "onnect") != NULL, "%s", r.reason);
    smtp_sender_free(s);
    free(msg);
}

Test(smtp, bad_url) {
    struct smtp_config c = {.url = "http://x", .from = "a@b.cd", .timeout_ms = 1000, .connect_timeout_ms = 1000};
    struct smtp_sender *s = NULL;
    struct err e = {0};
    cr_expect_eq(smtp_sender_new(&c, &s, &e), ERR_INVALID);
    cr_expect_null(s);
}
