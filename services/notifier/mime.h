/* Building the RFC 5322 / MIME message of one mail: headers (RFC 2047 encoded when not ASCII),
 * a multipart/alternative body with a quoted-printable text part and HTML part, CRLF line ends.
 * The output depends only on the inputs (the boundary is derived from the Message-ID and the
 * Date comes from the ledger), so sending the same ledger row twice gives byte-identical mails.
 * Pure and thread-safe. */
#ifndef NOTIFIER_MIME_H
#define NOTIFIER_MIME_H

#include <stddef.h>

#include "clock.h"
#include "err.h"
#include "sbuf.h"

/* Everything borrowed for the call. Names may be "" (the address alone is shown). */
struct mime_mail {
    const char *from_name;
    const char *from_address;
    const char *to_name;
    const char *to_address;
    const char *subject;       /* UTF-8, one line */
    const char *text;          /* UTF-8, LF or CRLF line ends */
    const char *html;
    const char *message_id;    /* "<...@...>" */
    mkt_time date;
    const char *language;      /* Content-Language, e.g. "fr" */
    const char *template_name; /* X-Mkt-Template, for operators reading a mail's source */
};

/* The complete message into *out (owned, NUL-terminated) and its length into *len. */
err_code mime_build(const struct mime_mail *m, char **out, size_t *len, struct err *e) MKT_MUST_USE;

/* The pieces, exposed for the unit tests. */
/* Quoted-printable (RFC 2045): lines of at most 76 characters, soft breaks, CRLF line ends. */
void mime_qp_encode(struct sbuf *b, const char *text);
/* A header value: as is when printable ASCII (folded at spaces), else RFC 2047 "B" encoded-words
 * of at most 75 characters that never split a UTF-8 sequence. `used` is the length of the line
 * already written ("Subject: " = 9). */
void mime_header_value(struct sbuf *b, const char *value, size_t used);
/* "Sat, 21 Nov 2026 22:20:57 +0000" into out (>= 40 bytes). */
void mime_date(mkt_time t, char *out, size_t n);

#endif
