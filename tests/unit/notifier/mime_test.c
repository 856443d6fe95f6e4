/* The MIME builder: quoted-printable and RFC 2047 encodings round-trip and respect line limits;
 * a complete message has the headers, both parts and CRLF line ends, and is byte-identical when
 * built twice from the same inputs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "../../../services/notifier/mime.h"

static void expect_lines_within(const char *s, size_t max) {
    size_t col = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\n') {
            cr_expect(p > s && p[-1] == '\r', "bare LF at offset %ld", (long)(p - s));
            col = 0;
            continue;
        }
        if (*p != '\r')
            col++;
        cr_expect_leq(col, max, "line too long at offset %ld", (long)(p - s));
        if (col > max)
            return;
    }
}

static void qp_roundtrip(const char *in, const char *expect_decoded) {
    struct sbuf b;
    sbuf_init(&b);
    mime_qp_encode(&b, in);
    char *enc = sbuf_take(&b);
    expect_lines_within(enc, 76);
    char *dec = th_qp_decode(enc, strlen(enc));
    cr_expect_str_eq(dec, expect_decoded, "encoded: %s", enc);
    free(dec);
    free(enc);
}

Test(mime, qp_roundtrips) {
    qp_roundtrip("plain text", "plain text\n");
    qp_roundtrip("a=b\n", "a=b\n");
    qp_roundtrip("trailing spaces   \nnext\t\n", "trailing spaces   \nnext\t\n");
    qp_roundtrip("-- \nsig\n", "-- \nsig\n");
    qp_roundtrip("crlf\r\nlines\r\n", "crlf\nlines\n");
    qp_roundtrip("Définissez votre mot de passe — ça marche\n", "Définissez votre mot de passe — ça marche\n");
    char long_line[1000];
    memset(long_line, 'x', sizeof long_line - 1);
    long_line[sizeof long_line - 1] = '\0';
    char want[1002];
    snprintf(want, sizeof want, "%s\n", long_line);
    qp_roundtrip(long_line, want);
    char link[600];
    snprintf(link, sizeof link, "https://marketplace.example/set-password?token=%0400d&x=y\n", 7);
    qp_roundtrip(link, link);
    char accents[800] = "";
    for (int i = 0; i < 100; i++)
        strcat(accents, "é=");
    strcat(accents, "\n");
    qp_roundtrip(accents, accents);
}

Test(mime, qp_encodes_what_it_must) {
    struct sbuf b;
    sbuf_init(&b);
    mime_qp_encode(&b, "x=1 é \n");
    char *enc = sbuf_take(&b);
    cr_expect_str_eq(enc, "x=3D1 =C3=A9=20\r\n");
    free(enc);
}

static void header_roundtrip(const char *in, bool expect_encoded) {
    struct sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "Subject: ");
    mime_header_value(&b, in, 9);
    char *h = sbuf_take(&b);
    expect_lines_within(h, 78);
    cr_expect_eq(strstr(h, "=?UTF-8?B?") != NULL, expect_encoded, "%s", h);
    char *dec = th_header_decode(h + 9);
    cr_expect_str_eq(dec, in, "header: %s", h);
    free(dec);
    free(h);
}

Test(mime, header_values) {
    header_roundtrip("Set your password for OUTSCALE Marketplace", false);
    header_roundtrip("Définissez votre mot de passe OUTSCALE Marketplace", true);
    header_roundtrip("A rather long subject line that goes on and on past the seventy-eight column limit of "
                     "header lines and must be folded",
                     false);
    header_roundtrip("Réinitialisez votre mot de passe — un sujet français assez long pour tenir sur plusieurs "
                     "mots encodés, sans couper un caractère",
                     true);
    header_roundtrip("日本語の件名は三バイトの文字でできています。分割しても壊れないこと。", true);
}

Test(mime, date_format) {
    char d[40];
    mime_date(1795302378LL * CLOCK_SECOND + 123, d, sizeof d);
    cr_expect_str_eq(d, "Sat, 21 Nov 2026 23:06:18 +0000");
    mime_date(0, d, sizeof d);
    cr_expect_str_eq(d, "Thu, 01 Jan 1970 00:00:00 +0000");
}

static const struct mime_mail sample = {
    .from_name = "OUTSCALE Marketplace",
    .from_address = "noreply@marketplace.example",
    .to_name = "Jérôme \"JD\" Dupont",
    .to_address = "jerome@example.fr",
    .subject = "Définissez votre mot de passe",
    .text = "Bonjour,\n\nhttps://marketplace.example/set-password?token=abc\n",
    .html = "<p>Bonjour,</p>\n<a href=\"https://marketplace.example/set-password?token=abc\">lien</a>\n",
    .message_id = "<0123abcd@notifier.mkt>",
    .date = 1795302378LL * CLOCK_SECOND,
    .language = "fr",
    .template_name = "set_password",
};

Test(mime, complete_message) {
    char *msg = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    struct err e = {0};
    cr_assert_eq(mime_build(&sample, &msg, &len, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(strlen(msg), len);
    expect_lines_within(msg, 78);
    cr_expect(strncmp(msg, "Date: Sat, 21 Nov 2026 23:06:18 +0000\r\n", 39) == 0, "%.60s", msg);
    cr_expect(strstr(msg, "\r\nFrom: \"OUTSCALE Marketplace\" <noreply@marketplace.example>\r\n") != NULL);
    cr_expect(strstr(msg, "\r\nTo: =?UTF-8?B?") != NULL, "non-ASCII display name encoded");
    cr_expect(strstr(msg, " <jerome@example.fr>\r\n") != NULL);
    cr_expect(strstr(msg, "\r\nMessage-ID: <0123abcd@notifier.mkt>\r\n") != NULL);
    cr_expect(strstr(msg, "\r\nMIME-Version: 1.0\r\n") != NULL);
    cr_expect(strstr(msg, "\r\nContent-Language: fr\r\n") != NULL);
    cr_expect(strstr(msg, "\r\nX-Mkt-Template: set_password\r\n") != NULL);
    cr_expect(strstr(msg, "\r\nContent-Type: multipart/alternative;\r\n boundary=\"=_mkt_") != NULL);
    const char *text = strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: "
                                   "quoted-printable\r\n\r\n");
    const char *html = strstr(msg, "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: "
                                   "quoted-printable\r\n\r\n");
    cr_assert(text && html && text < html, "text part then html part");
    cr_expect(strstr(msg, "token=3Dabc") != NULL, "link inside the QP parts");
    /* the closing boundary ends the message */
    const char *b = strstr(msg, "boundary=\"") + 10;
    char closing[64];
    snprintf(closing, sizeof closing, "--%.38s--\r\n", b);
    cr_expect_str_eq(msg + len - strlen(closing), closing);
    /* identical when built again: a re-sent copy is byte-identical */
    cr_assert_eq(mime_build(&sample, &again, &len2, &e), ERR_OK);
    cr_expect_eq(len, len2);
    cr_expect_str_eq(msg, again);
    free(msg);
    free(again);
}

Test(mime, boundary_differs_per_message) {
    struct mime_mail other = sample;
    other.message_id = "<fedc@notifier.mkt>";
    char *a = NULL, *b = NULL;
    size_t la, lb;
    struct err e = {0};
    cr_assert_eq(mime_build(&sample, &a, &la, &e), ERR_OK);
    cr_assert_eq(mime_build(&other, &b, &lb, &e), ERR_OK);
    cr_expect(strncmp(strstr(a, "boundary="), strstr(b, "boundary="), 48) != 0);
    free(a);
    free(b);
}

Test(mime, ascii_names_are_quoted) {
    struct mime_mail m = sample;
    m.to_name = "Jane \"JD\" Doe";
    m.subject = "Hello";
    char *msg = NULL;
    size_t len;
    struct err e = {0};
    cr_assert_eq(mime_build(&m, &msg, &len, &e), ERR_OK);
    cr_expect(strstr(msg, "\r\nTo: \"Jane \\\"JD\\\" Doe\" <jerome@example.fr>\r\n") != NULL, "%s", msg);
    cr_expect(strstr(msg, "\r\nSubject: Hello\r\n") != NULL);
    free(msg);
    m.to_name = "";
    cr_assert_eq(mime_build(&m, &msg, &len, &e), ERR_OK);
    cr_expect(strstr(msg, "\r\nTo: <jerome@example.fr>\r\n") != NULL);
    free(msg);
}
