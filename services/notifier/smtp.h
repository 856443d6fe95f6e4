/* SMTP delivery with libcurl. A sender is one libcurl handle, so consecutive mails reuse its
 * connection (MAIL FROM on the open session instead of a new TCP + TLS + EHLO + AUTH); the
 * notifier keeps MKT_MAIL_CONCURRENCY of them, which bounds concurrent deliveries. A sender is
 * used by one thread at a time. curl_global_init must have run (main does it). */
#ifndef NOTIFIER_SMTP_H
#define NOTIFIER_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "mail.h"

struct smtp_config {
    const char *url;       /* "smtp://host:port" or "smtps://host:port" (implicit TLS) */
    const char *user;      /* "" or NULL: no AUTH */
    const char *password;
    bool starttls;         /* smtp:// only: require STARTTLS before anything is sent */
    const char *from;      /* envelope sender (MAIL FROM) */
    long timeout_ms;       /* whole transaction, connection included */
    long connect_timeout_ms;
};

struct smtp_result {
    enum mail_outcome outcome;
    long code;             /* last SMTP reply code, 0 when none */
    char reason[200];      /* for the ledger and logs; never contains the message */
};

struct smtp_sender;

/* The strings of cfg are copied. *out is owned (smtp_sender_free). */
err_code smtp_sender_new(const struct smtp_config *cfg, struct smtp_sender **out, struct err *e) MKT_MUST_USE;
void smtp_sender_free(struct smtp_sender *s); /* NULL is a no-op */

/* Sends one message (CRLF line ends, as mime_build makes it) to one recipient and classifies the
 * outcome. Blocks up to cfg->timeout_ms. */
void smtp_send(struct smtp_sender *s, const char *rcpt, const char *data, size_t len, struct smtp_result *out);

#endif
