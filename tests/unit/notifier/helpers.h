/* Helpers shared by the notifier's unit tests: finding the source tree (the shipped templates,
 * the SMTP sink), decoding what the MIME builder encodes, and running a throw-away SMTP sink. */
#ifndef NOTIFIER_TEST_HELPERS_H
#define NOTIFIER_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Absolute path of the repository root (found from the working directory or the executable). */
const char *th_repo_root(void);
/* "<repo>/services/notifier/templates". */
const char *th_templates_dir(void);

/* Decodes quoted-printable text (CRLF line ends, soft breaks) into a malloc'd string. */
char *th_qp_decode(const char *s, size_t n);
/* Decodes a header value made of RFC 2047 "B" encoded-words (and folding) into a malloc'd string. */
char *th_header_decode(const char *s);

/* A private aiosmtpd sink (tests/programs/mail_sink/mkt_sink.py) on a free port. */
struct th_sink {
    pid_t pid;
    int port;
    char maildir[256];
    char url[64];
};
bool th_sink_start(struct th_sink *s);
void th_sink_stop(struct th_sink *s);
/* Number of mails in the sink's Maildir (new/). */
int th_sink_count(const struct th_sink *s);
/* Contents of the only / first mail in new/ (malloc'd), NULL when none. */
char *th_sink_first(const struct th_sink *s);

#endif
