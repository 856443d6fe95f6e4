/* Reading the SMTP sink's Maildir for the integration tests: finding the mail a service sent to
 * an address, undoing its quoted-printable and picking the token out of the link it carries, the
 * way a person clicking the link would. Used by the identity and gateway tests for set-password
 * and reset-password links. */
#include "maildir.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

#define TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static int hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

void th_maildir_qp_decode(char *s) {
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '=' && r[1] == '\r' && r[2] == '\n')
            r += 3;
        else if (r[0] == '=' && r[1] == '\n')
            r += 2;
        else if (r[0] == '=' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
            *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
            r += 3;
        } else
            *w++ = *r++;
    }
    *w = '\0';
}

/* Whether the mail in `path` is for w->rcpt and holds w->marker; fills w->token when it does. */
static bool matches(const char *path, struct th_maildir_wait *w) {
    char *raw = th_read_file(path);
    if (!raw)
        return false;
    char rcpt[300];
    th_header(raw, "X-RcptTo", rcpt, sizeof rcpt);
    bool found = false;
    if (strcasecmp(rcpt, w->rcpt) == 0) {
        th_maildir_qp_decode(raw);
        const char *p = strstr(raw, w->marker);
        if (p) {
            p += strlen(w->marker);
            snprintf(w->token, sizeof w->token, "%.*s", (int)strspn(p, TOKEN_CHARS), p);
            found = true;
        }
    }
    free(raw);
    return found;
}

bool th_maildir_find(void *arg) {
    struct th_maildir_wait *w = arg;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/new", th_env("MKT_TEST_MAILDIR"));
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *de; !found && (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        found = matches(path, w);
        if (found && !w->keep) /* used: later waits for the same address find the next mail */
            remove(path);
    }
    closedir(d);
    return found;
}

void th_maildir_token(const char *rcpt, const char *link, char out[TH_MAILDIR_TOKEN_MAX]) {
    char marker[64];
    snprintf(marker, sizeof marker, "%s?token=", link);
    struct th_maildir_wait w = {.rcpt = rcpt, .marker = marker};
    cr_assert(th_eventually(th_maildir_find, &w, 30000), "no %s mail for %s within 30 s", link, rcpt);
    cr_assert(w.token[0], "the %s link mailed to %s has no token", link, rcpt);
    snprintf(out, TH_MAILDIR_TOKEN_MAX, "%s", w.token);
}
