/* The mails the SMTP sink of tests/harness/run.sh received: one file per mail in
 * MKT_TEST_MAILDIR/new, with the envelope recipient in an X-RcptTo header and the body in
 * quoted-printable. Tests wait for a mail to an address holding a marker (a link such as
 * "set-password?token=", or any text) and read the token that follows it. A matched mail is
 * removed unless asked to keep it, so that a later wait for the same address finds another mail;
 * tests use addresses of their own, so parallel tests do not take each other's mails. */
#ifndef MKT_TEST_MAILDIR_H
#define MKT_TEST_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>

#define TH_MAILDIR_TOKEN_MAX 128

/* What th_maildir_find looks for (caller-owned; the strings are borrowed) and what it found. */
struct th_maildir_wait {
    const char *rcpt;                 /* the recipient, compared without case */
    const char *marker;               /* a text of the decoded mail, such as "reset-password?token=" */
    bool keep;                        /* leave the mail in the folder (else it is removed once matched) */
    char token[TH_MAILDIR_TOKEN_MAX]; /* out: the [A-Za-z0-9_-] run right after the marker, or "" */
};

/* One look through the folder (a th_eventually check, arg: struct th_maildir_wait *): true when a mail
 * to w->rcpt holds w->marker; w->token is then filled. */
bool th_maildir_find(void *arg);
/* The token of the `link` ("set-password", "reset-password") in the next mail to rcpt, waiting up
 * to 30 s; fails the test (cr_assert) when none came or the link has no token. */
void th_maildir_token(const char *rcpt, const char *link, char out[TH_MAILDIR_TOKEN_MAX]);
/* Undoes quoted-printable in place: soft line breaks and =XX escapes (headers pass unchanged). */
void th_maildir_qp_decode(char *s);

#endif
