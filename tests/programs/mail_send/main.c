/* mail_send: publishes mail commands on the MAIL stream, as identity's outbox relay would, for
 * tests, the benchmark and trying the notifier by hand. Each command is an mkt.Event around an
 * mkt.mail.Command with one recipient; "%d" in the recipient pattern, names, values and keys is
 * replaced by the command's index.
 *
 *   MKT_NATS_URL=nats://... mail_send [-n COUNT] [-t TEMPLATE] [-s SUBJECT] [-r ADDRESS_PATTERN]
 *       [-N NAME_PATTERN] [-l LANG] [-v NAME=VALUE]... [-k KEY_PATTERN] [-d COPIES] [-o ORG] [-q]
 *
 * -d publishes every envelope COPIES times under distinct Nats-Msg-Ids (so JetStream keeps them
 * all): a redelivery the notifier's inbox must absorb. Prints each event id unless -q. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "events.h"
#include "log.h"
#include "mail.pb-c.h"

#define MAX_VARS 16

static void expand(char *out, size_t n, const char *pattern, long i) {
    const char *p = strstr(pattern, "%d");
    if (!p) {
        snprintf(out, n, "%s", pattern);
        return;
    }
    snprintf(out, n, "%.*s%ld%s", (int)(p - pattern), pattern, i, p + 2);
}

int main(int argc, char **argv) {
    long count = 1, copies = 1;
    const char *tmpl = "set_password", *subject = NULL, *rcpt = "user%d@example.com", *name = "User %d", *lang = "en";
    const char *key = NULL, *org = "";
    const char *var_names[MAX_VARS], *var_patterns[MAX_VARS];
    int n_vars = 0;
    bool quiet = false;
    for (int c; (c = getopt(argc, argv, "n:t:s:r:N:l:v:k:d:o:q")) != -1;) {
        switch (c) {
        case 'n': count = atol(optarg); break;
        case 't': tmpl = optarg; break;
        case 's': subject = optarg; break;
        case 'r': rcpt = optarg; break;
        case 'N': name = optarg; break;
        case 'l': lang = optarg; break;
        case 'k': key = optarg; break;
        case 'd': copies = atol(optarg); break;
        case 'o': org = optarg; break;
        case 'q': quiet = true; break;
        case 'v': {
            char *eq = strchr(optarg, '=');
            if (!eq || n_vars == MAX_VARS) {
                fprintf(stderr, "mail_send: -v NAME=VALUE (at most %d)\n", MAX_VARS);
                return 2;
            }
            *eq = '\0';
            var_names[n_vars] = optarg;
            var_patterns[n_vars++] = eq + 1;
            break;
        }
        default:
            fprintf(stderr, "usage: see the comment at the top of tests/programs/mail_send/main.c\n");
            return 2;
        }
    }
    log_init("mail_send", "warn");
    const char *url = getenv("MKT_NATS_URL");
    char subj[160];
    if (subject)
        snprintf(subj, sizeof subj, "%s", subject);
    else
        snprintf(subj, sizeof subj, MAIL_SUBJECT_PREFIX "%s", tmpl);
    struct bus *b = NULL;
    struct err e = {0};
    if (bus_new(url ? url : "nats://127.0.0.1:4222", "mail_send", &b, &e) != ERR_OK ||
        events_setup_streams(b, 1, &e) != ERR_OK) {
        fprintf(stderr, "mail_send: %s\n", e.msg);
        bus_free(b);
        return 1;
    }
    int rc = 0;
    for (long i = 0; i < count && rc == 0; i++) {
        char address[256], display[256], keybuf[256], values[MAX_VARS][512];
        expand(address, sizeof address, rcpt, i);
        expand(display, sizeof display, name, i);
        Mkt__Mail__Recipient r = MKT__MAIL__RECIPIENT__INIT;
        r.address = address;
        r.name = display;
        r.language = (char *)lang;
        Mkt__Mail__Recipient *rs[] = {&r};
        Mkt__Mail__Command__VarsEntry entries[MAX_VARS], *eps[MAX_VARS];
        for (int v = 0; v < n_vars; v++) {
            mkt__mail__command__vars_entry__init(&entries[v]);
            expand(values[v], sizeof values[v], var_patterns[v], i);
            entries[v].key = (char *)var_names[v];
            entries[v].value = values[v];
            eps[v] = &entries[v];
        }
        Mkt__Mail__Command cmd = MKT__MAIL__COMMAND__INIT;
        cmd.template_ = (char *)tmpl;
        cmd.recipients = rs;
        cmd.n_recipients = 1;
        cmd.vars = eps;
        cmd.n_vars = (size_t)n_vars;
        if (key) {
            expand(keybuf, sizeof keybuf, key, i);
            cmd.idempotency_key = keybuf;
        }
        Mkt__Event ev;
        struct event_storage st;
        events_envelope(&ev, &st, tmpl, org, NULL, NULL, &cmd.base);
        size_t len = mkt__event__get_packed_size(&ev);
        uint8_t *data = malloc(len ? len : 1);
        mkt__event__pack(&ev, data);
        for (long c = 0; c < copies && rc == 0; c++) {
            char msg_id[64];
            snprintf(msg_id, sizeof msg_id, c ? "%s-copy%ld" : "%s", ev.id, c);
            if (events_publish(b, subj, data, len, msg_id, 5000, &e) != ERR_OK) {
                fprintf(stderr, "mail_send: %s\n", e.msg);
                rc = 1;
            }
        }
        if (!quiet && rc == 0)
            printf("%s\n", ev.id);
        free(data);
        events_storage_cleanup(&st);
    }
    bus_free(b);
    nats_Close();
    return rc;
}
