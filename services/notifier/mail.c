/* The notifier's pure rules: address checks and normalization, Message-ID derivation, language
 * choice and the classification of SMTP outcomes (the retry schedule is lib/backoff's). Nothing
 * here touches the network, the database or the clock, so the unit tests pin every rule down. */
#include "mail.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "jsonv.h"

static bool is_atext(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

static bool is_ldh(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

err_code mail_normalize_address(const char *address, char out[MAIL_ADDRESS_MAX + 1], struct err *e) {
    if (!address || !*address)
        return err_set(e, ERR_INVALID, "recipient address: missing");
    size_t len = strlen(address);
    if (len > MAIL_ADDRESS_MAX)
        return err_set(e, ERR_INVALID, "recipient address: longer than %d bytes", MAIL_ADDRESS_MAX);
    const char *at = strrchr(address, '@');
    if (!at || at == address || at[1] == '\0')
        return err_set(e, ERR_INVALID, "recipient address '%.80s': must be local@domain", address);
    if (at - address > 64)
        return err_set(e, ERR_INVALID, "recipient address '%.80s': local part longer than 64 bytes", address);
    /* Local part: RFC 5322 dot-atom (no quoted strings: nobody needs them and they invite trouble). */
    for (const char *p = address; p < at; p++) {
        bool dot_ok = *p == '.' && p != address && p + 1 != at && p[1] != '.';
        if (!is_atext((unsigned char)*p) && !dot_ok)
            return err_set(e, ERR_INVALID, "recipient address '%.80s': bad character or dot in the local part",
                           address);
    }
    /* Domain: LDH labels separated by single dots, at least two labels, no leading or trailing
     * hyphen (internationalized domains arrive in their ASCII "xn--" form). */
    int labels = 0;
    for (const char *p = at + 1; *p;) {
        const char *q = p;
        while (is_ldh((unsigned char)*q))
            q++;
        if (q == p || q - p > 63 || *p == '-' || q[-1] == '-' || (*q && *q != '.') || (*q == '.' && !q[1]))
            return err_set(e, ERR_INVALID, "recipient address '%.80s': malformed domain", address);
        labels++;
        p = *q ? q + 1 : q;
    }
    if (labels < 2)
        return err_set(e, ERR_INVALID, "recipient address '%.80s': domain needs a dot", address);
    for (size_t i = 0; i <= len; i++) {
        char c = address[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    return ERR_OK;
}

err_code mail_check_name(const char *name, struct err *e) {
    if (!name)
        return ERR_OK;
    if (strlen(name) > MAIL_NAME_MAX)
        return err_set(e, ERR_INVALID, "recipient name: longer than %d bytes", MAIL_NAME_MAX);
    if (jsonv_utf8_len(name) < 0)
        return err_set(e, ERR_INVALID, "recipient name: not valid UTF-8");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return err_set(e, ERR_INVALID, "recipient name: control character");
    return ERR_OK;
}

err_code mail_check_value(const char *name, const char *value, struct err *e) {
    if (strlen(value) > MAIL_VALUE_MAX)
        return err_set(e, ERR_INVALID, "variable '%s': longer than %d bytes", name, MAIL_VALUE_MAX);
    if (jsonv_utf8_len(value) < 0)
        return err_set(e, ERR_INVALID, "variable '%s': not valid UTF-8", name);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return err_set(e, ERR_INVALID, "variable '%s': control character", name);
    return ERR_OK;
}

void mail_message_id(const char *event_key, const char *recipient, char out[MAIL_MESSAGE_ID_MAX]) {
    char key[MAIL_KEY_MAX + MAIL_ADDRESS_MAX + 64];
    int n = snprintf(key, sizeof key, "%s|%s", event_key, recipient);
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    crypto_sha256_hex(key, n < (int)sizeof key ? (size_t)n : sizeof key - 1, hex);
    snprintf(out, MAIL_MESSAGE_ID_MAX, "<%s@%s>", hex, MAIL_MESSAGE_ID_DOMAIN);
}

const char *mail_language(const char *requested) {
    if (requested && (requested[0] == 'f' || requested[0] == 'F') && (requested[1] == 'r' || requested[1] == 'R') &&
        (requested[2] == '\0' || requested[2] == '-' || requested[2] == '_'))
        return "fr";
    return "en";
}

static bool starts_with(const char *s, const char *prefix) { return s && strncmp(s, prefix, strlen(prefix)) == 0; }

enum mail_outcome mail_classify(int curl_code, long smtp_code, const char *errbuf) {
    if (curl_code == CURLE_OK)
        return MAIL_SENT;
    if (curl_code == CURLE_LOGIN_DENIED || smtp_code == 421)
        return MAIL_SERVER_DOWN; /* our credentials, or the server closing: not the mail's fault */
    if (smtp_code >= 400 && smtp_code < 500)
        return MAIL_RETRY;
    if (smtp_code >= 500 && smtp_code < 600) {
        /* A 5xx about this transaction rejects the mail; a 5xx to the greeting, EHLO, AUTH or
         * STARTTLS is about the server (or our configuration) and must not fail mails. libcurl
         * names the failing step in its error buffer; the reply after the data has no text. */
        if (starts_with(errbuf, "MAIL failed") || starts_with(errbuf, "RCPT failed") ||
            starts_with(errbuf, "DATA failed") || (curl_code == CURLE_WEIRD_SERVER_REPLY && (!errbuf || !*errbuf)))
            return MAIL_REJECTED;
        return MAIL_SERVER_DOWN;
    }
    return MAIL_SERVER_DOWN; /* no reply: refused, unreachable, timeout, TLS, connection lost */
}

const char *mail_outcome_name(enum mail_outcome o) {
    switch (o) {
    case MAIL_SENT:
        return "sent";
    case MAIL_RETRY:
        return "retry";
    case MAIL_SERVER_DOWN:
        return "server_down";
    case MAIL_REJECTED:
        return "rejected";
    }
    return "?";
}
