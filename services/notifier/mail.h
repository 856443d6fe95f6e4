/* The notifier's domain rules, pure and thread-safe: which addresses we accept and how they are
 * keyed, the deterministic Message-ID of a (event, recipient) pair, the language a recipient
 * gets (MAIL-1), and how an SMTP outcome is classified (sent, retry this mail, the server is
 * down, rejected for good). */
#ifndef NOTIFIER_MAIL_H
#define NOTIFIER_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "err.h"

#define MAIL_ADDRESS_MAX 254
#define MAIL_NAME_MAX 200          /* bytes of a display name */
#define MAIL_KEY_MAX 200           /* bytes of an idempotency key */
#define MAIL_VALUE_MAX 4096        /* bytes of one template variable */
#define MAIL_MESSAGE_ID_DOMAIN "notifier.mkt"
#define MAIL_MESSAGE_ID_MAX 96     /* "<" + 64 hex + "@notifier.mkt>" + NUL fits */

/* Checks an envelope address (ASCII local@domain.tld, no spaces, quotes or angle brackets, at
 * most 254 bytes) and writes its ledger form into out[MAIL_ADDRESS_MAX + 1]: lower-cased, so
 * that "Jane@Example.com" and "jane@example.com" are one recipient. ERR_INVALID names the rule. */
err_code mail_normalize_address(const char *address, char out[MAIL_ADDRESS_MAX + 1], struct err *e) MKT_MUST_USE;

/* A display name is UTF-8 without control characters, at most MAIL_NAME_MAX bytes. */
err_code mail_check_name(const char *name, struct err *e) MKT_MUST_USE;

/* A template variable's value: UTF-8, at most MAIL_VALUE_MAX bytes, no control characters other
 * than newline and tab. `name` is only used in the reason. */
err_code mail_check_value(const char *name, const char *value, struct err *e) MKT_MUST_USE;

/* "<sha256(event_key|recipient) in hex@notifier.mkt>": the same pair always gives the same id, so
 * a mail sent again after a crash is an identical copy receivers can discard. `recipient` is the
 * normalized address. */
void mail_message_id(const char *event_key, const char *recipient, char out[MAIL_MESSAGE_ID_MAX]);

/* The supported language for a requested one: "fr" for "fr", "FR", "fr-CA", "fr_FR"; "en" for
 * anything else, including NULL and "". Returns a static string. */
const char *mail_language(const char *requested);

/* What an SMTP attempt means for the mail. */
enum mail_outcome {
    MAIL_SENT,        /* the server accepted it (250 after DATA) */
    MAIL_RETRY,       /* temporary for this mail (4xx): try again after the backoff (2 s doubling, lib/backoff) */
    MAIL_SERVER_DOWN, /* no usable server (connection refused, timeout, TLS, login, 421): retry, and
                         pause every delivery for a moment rather than hammer it */
    MAIL_REJECTED,    /* permanent (5xx on MAIL FROM, RCPT TO or the data): never retried */
};

/* Classifies a libcurl result: `curl_code` is the CURLcode, `smtp_code` the last SMTP reply code
 * (CURLINFO_RESPONSE_CODE, 0 when none), `errbuf` libcurl's error buffer (may be ""). */
enum mail_outcome mail_classify(int curl_code, long smtp_code, const char *errbuf);
const char *mail_outcome_name(enum mail_outcome o);

#endif
