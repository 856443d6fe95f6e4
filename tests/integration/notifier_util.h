#define _GNU_SOURCE /* memmem */
/* Shared by the notifier's integration tests (tests/integration/notifier_*.c), included once per
 * test binary: a private SMTP sink per test (tests/programs/mail_sink/mkt_sink.py on a free port,
 * its own Maildir), a notifier on its own schema and its own MAIL subjects and consumer names (so
 * tests never share a durable consumer), publishing commands and events from the test process,
 * and reading the Maildir back (headers, decoded parts). */
#ifndef NOTIFIER_IT_UTIL_H
#define NOTIFIER_IT_UTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "bus.h"
#include "crypto.h"
#include "events.h"
#include "harness.h"
#include "mail.pb-c.h"

/* ---- the SMTP sink ------------------------------------------------------------------------------ */

struct nt_sink {
    pid_t pid;
    int port;
    char maildir[512];
    char url[64];
};

__attribute__((unused)) static bool nt_port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

extern char **environ;

/* Starts (or restarts, same port and Maildir) the sink, with posix_spawn: Criterion's fork
 * handlers must not run in a child (with --full-stats it would report to the runner). */
__attribute__((unused)) static void nt_sink_run(struct nt_sink *s) {
    char listen[64], pythonpath[1100], log[600];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
    snprintf(pythonpath, sizeof pythonpath, "PYTHONPATH=%s/tests/programs/mail_sink", th_env("MKT_TEST_ROOT"));
    snprintf(log, sizeof log, "%s.log", s->maildir);
    int n_env = 0;
    while (environ[n_env])
        n_env++;
    char **envp = calloc((size_t)n_env + 2, sizeof *envp);
    cr_assert(envp);
    int k = 0;
    envp[k++] = pythonpath;
    for (int i = 0; i < n_env; i++)
        if (strncmp(environ[i], "PYTHONPATH=", 11) != 0)
            envp[k++] = environ[i];
    char *argv[] = {"python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c", "mkt_sink.Sink", s->maildir, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, "/usr/bin/python3", &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    cr_assert(rc == 0, "spawn the SMTP sink: %s", strerror(rc));
    s->pid = pid;
    for (int i = 0; i < 400 && !nt_port_open(s->port); i++)
        th_sleep_ms(25);
    cr_assert(nt_port_open(s->port), "the SMTP sink did not start (see %s)", log);
}

__attribute__((unused)) static void nt_sink_start(struct nt_sink *s, const char *name) {
    memset(s, 0, sizeof *s);
    s->port = th_free_port();
    snprintf(s->maildir, sizeof s->maildir, "%s/%s-maildir", th_env("MKT_TEST_TMP"), name);
    snprintf(s->url, sizeof s->url, "smtp://127.0.0.1:%d", s->port);
    nt_sink_run(s);
}

__attribute__((unused)) static void nt_sink_stop(struct nt_sink *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    for (int i = 0; i < 200 && nt_port_open(s->port); i++)
        th_sleep_ms(25);
}

/* ---- reading the Maildir ------------------------------------------------------------------------ */

struct nt_mail {
    char *raw;
    char file[256];
    char message_id[160];
    char rcpt[256];
    char subject[512];     /* decoded */
    char to[512];          /* decoded */
    char language[16];
    char content_type[128];
    char *text;            /* decoded parts (malloc'd), NULL when absent */
    char *html;
};

__attribute__((unused)) static int nt_hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

__attribute__((unused)) static char *nt_qp_decode(const char *s, size_t n) {
    char *out = malloc(n + 1), *o = out;
    for (size_t i = 0; i < n;) {
        if (s[i] == '=' && i + 1 < n && s[i + 1] == '\n')
            i += 2;
        else if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
            i += 3;
        else if (s[i] == '=' && i + 2 < n && nt_hexval(s[i + 1]) >= 0 && nt_hexval(s[i + 2]) >= 0) {
            *o++ = (char)(nt_hexval(s[i + 1]) * 16 + nt_hexval(s[i + 2]));
            i += 3;
        } else if (s[i] == '\r')
            i++;
        else
            *o++ = s[i++];
    }
    *o = '\0';
    return out;
}

/* A header's value, unfolded, with RFC 2047 B-words decoded. */
__attribute__((unused)) static void nt_header(const char *raw, const char *name, char *out, size_t n) {
    out[0] = '\0';
    size_t len = strlen(name);
    const char *end = strstr(raw, "\n\n");
    for (const char *p = raw; p && (!end || p < end); p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncasecmp(p, name, len) != 0 || p[len] != ':')
            continue;
        const char *v = p + len + 1;
        size_t o = 0;
        while (*v && o + 1 < n) {
            if (*v == '\n' && (v[1] == ' ' || v[1] == '\t')) {
                v++;
                continue;
            }
            if (*v == '\n')
                break;
            if (strncmp(v, "=?UTF-8?B?", 10) == 0) {
                const char *q = strstr(v + 10, "?=");
                size_t bin = 0;
                sodium_base642bin((unsigned char *)out + o, n - o - 1, v + 10, (size_t)(q - v - 10), NULL, &bin, NULL,
                                  sodium_base64_VARIANT_ORIGINAL);
                o += bin;
                v = q + 2;
                const char *w = v;
                while (*w == '\n' || *w == ' ')
                    w++;
                if (strncmp(w, "=?UTF-8?B?", 10) == 0)
                    v = w;
                continue;
            }
            out[o++] = *v++;
        }
        out[o] = '\0';
        char *t = out;
        while (*t == ' ')
            t++;
        memmove(out, t, strlen(t) + 1);
        return;
    }
}

__attribute__((unused)) static char *nt_part(const char *raw, const char *type) {
    char marker[64];
    snprintf(marker, sizeof marker, "Content-Type: %s; charset=UTF-8", type);
    const char *p = strstr(raw, marker);
    if (!p || !(p = strstr(p, "\n\n")))
        return NULL;
    p += 2;
    const char *end = strstr(p, "\n--=_mkt_");
    return nt_qp_decode(p, end ? (size_t)(end - p) : strlen(p));
}

__attribute__((unused)) static bool nt_parse(const char *path, struct nt_mail *m) {
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    m->raw = calloc(1, (size_t)len + 1);
    size_t got = fread(m->raw, 1, (size_t)len, f);
    fclose(f);
    m->raw[got] = '\0';
    nt_header(m->raw, "Message-ID", m->message_id, sizeof m->message_id);
    nt_header(m->raw, "X-RcptTo", m->rcpt, sizeof m->rcpt);
    nt_header(m->raw, "Subject", m->subject, sizeof m->subject);
    nt_header(m->raw, "To", m->to, sizeof m->to);
    nt_header(m->raw, "Content-Language", m->language, sizeof m->language);
    nt_header(m->raw, "Content-Type", m->content_type, sizeof m->content_type);
    m->text = nt_part(m->raw, "text/plain");
    m->html = nt_part(m->raw, "text/html");
    return true;
}

__attribute__((unused)) static void nt_mail_free(struct nt_mail *m) {
    free(m->raw);
    free(m->text);
    free(m->html);
    memset(m, 0, sizeof *m);
}

/* Every mail of the sink; *n gets the count. Free with nt_mails_free. */
__attribute__((unused)) static struct nt_mail *nt_mails(const struct nt_sink *s, size_t *n) {
    char dir[600], path[900];
    snprintf(dir, sizeof dir, "%s/new", s->maildir);
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return calloc(1, sizeof(struct nt_mail));
    size_t cap = 64;
    struct nt_mail *all = calloc(cap, sizeof *all);
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap *= 2;
            all = realloc(all, cap * sizeof *all);
        }
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (nt_parse(path, &all[*n])) {
            snprintf(all[*n].file, sizeof all[*n].file, "%s", de->d_name);
            (*n)++;
        }
    }
    closedir(d);
    return all;
}

__attribute__((unused)) static void nt_mails_free(struct nt_mail *m, size_t n) {
    for (size_t i = 0; i < n; i++)
        nt_mail_free(&m[i]);
    free(m);
}

__attribute__((unused)) static size_t nt_count(const struct nt_sink *s) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/new", s->maildir);
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

struct nt_count_arg {
    const struct nt_sink *sink;
    size_t at_least;
};
__attribute__((unused)) static bool nt_count_reached(void *arg) {
    struct nt_count_arg *a = arg;
    return nt_count(a->sink) >= a->at_least;
}
/* Waits until the sink holds at least n mails. */
__attribute__((unused)) static bool nt_wait_mails(const struct nt_sink *s, size_t n, int timeout_ms) {
    struct nt_count_arg a = {s, n};
    return th_eventually(nt_count_reached, &a, timeout_ms);
}

/* The Message-ID the notifier derives for (event key, normalized recipient). */
__attribute__((unused)) static void nt_message_id(const char *key, const char *rcpt, char out[160]) {
    char buf[600], hex[65];
    int n = snprintf(buf, sizeof buf, "%s|%s", key, rcpt);
    crypto_sha256_hex(buf, (size_t)n, hex);
    snprintf(out, 160, "<%s@notifier.mkt>", hex);
}

/* ---- the notifier under test -------------------------------------------------------------------- */

struct nt {
    char id[32];            /* unique: schema, subjects and consumer names */
    char schema[40];
    char *dsn;
    struct nt_sink sink;
    struct th_proc proc;
    char env[24][512];
    const char *envp[25];
    int n_env;
    struct bus *bus;
};

__attribute__((unused)) static void nt_setenv(struct nt *t, const char *fmt, const char *value) {
    cr_assert(t->n_env < 24);
    snprintf(t->env[t->n_env], sizeof t->env[0], fmt, value);
    t->envp[t->n_env] = t->env[t->n_env];
    t->n_env++;
    t->envp[t->n_env] = NULL;
}

/* Durable consumers on MAIL (a work-queue stream) must not overlap: a test's own must go when it
 * ends, and a platform-named one left by another test binary (th_spawn_notifier) must go before
 * this test creates its own. */
static const char *const nt_event_durables[] = {"events", "catalog-version-published", "catalog-version-unpublished",
                                                "catalog-product-unpublished"};

__attribute__((unused)) static void nt_delete_consumer(struct bus *b, const char *stream, const char *name) {
    jsErrCode jerr = 0;
    js_DeleteConsumer(bus_js(b), stream, name, NULL, &jerr); /* absent is fine */
}

__attribute__((unused)) static void nt_delete_consumers(struct bus *b, const char *id) {
    char name[128];
    snprintf(name, sizeof name, "%s-mail", id);
    nt_delete_consumer(b, "MAIL", name);
    for (size_t i = 0; i < sizeof nt_event_durables / sizeof nt_event_durables[0]; i++) {
        snprintf(name, sizeof name, "%s-%s", id, nt_event_durables[i]);
        nt_delete_consumer(b, "EVENTS", name);
    }
}

/* The test's notifier, for the suite's fini: a failed assertion skips the test's own cleanup. */
static struct nt *nt_current;

/* Prepares everything but does not start the notifier; extra env ("K=V", NULL-terminated). */
__attribute__((unused)) static void nt_init(struct nt *t, const char *const *extra) {
    memset(t, 0, sizeof *t);
    nt_current = t;
    th_unique("n", t->id, sizeof t->id);
    snprintf(t->schema, sizeof t->schema, "nt_%s", t->id);
    t->dsn = th_service_dsn(t->schema);
    nt_sink_start(&t->sink, t->id);
    char buf[512];
    /* the test's own settings first: the first of two equal names wins */
    for (int i = 0; extra && extra[i]; i++)
        nt_setenv(t, "%s", extra[i]);
    nt_setenv(t, "MKT_PG_DSN=%s", t->dsn);
    nt_setenv(t, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    nt_setenv(t, "MKT_SMTP_URL=%s", t->sink.url);
    snprintf(buf, sizeof buf, "mkt.mail.%s.>", t->id);
    nt_setenv(t, "MKT_MAIL_SUBJECTS=%s", buf);
    nt_setenv(t, "MKT_NOTIFIER_CONSUMER=%s", t->id);
    snprintf(buf, sizeof buf, "%s/services/notifier/templates", th_env("MKT_TEST_ROOT"));
    nt_setenv(t, "MKT_TEMPLATES_DIR=%s", buf);
    nt_setenv(t, "MKT_PUBLIC_URL=%s", "https://marketplace.test/");
    nt_setenv(t, "MKT_MAIL_FROM=%s", "noreply@marketplace.test");
    nt_setenv(t, "MKT_MAINTENANCE_MS=%s", "200");
    nt_setenv(t, "MKT_DRAIN_MS=%s", "5000");
    /* EVENTS consumers see every test's events (new durables start at the stream's beginning):
     * only the test about events turns them on */
    nt_setenv(t, "MKT_MAIL_EVENTS=%s", "false");
    struct err e = {0};
    cr_assert_eq(bus_new(th_env("MKT_TEST_NATS_URL"), "notifier-test", &t->bus, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(events_setup_streams(t->bus, 1, &e), ERR_OK, "%s", e.msg);
    nt_delete_consumer(t->bus, "MAIL", "notifier-mail");
}

__attribute__((unused)) static bool nt_log_has(const struct th_proc *p, const char *needle) {
    FILE *f = fopen(p->log_path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

__attribute__((unused)) static size_t nt_log_count(const struct th_proc *p, const char *needle) {
    FILE *f = fopen(p->log_path, "r");
    if (!f)
        return 0;
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

struct nt_ready_arg {
    struct th_proc *p;
};
__attribute__((unused)) static bool nt_ready(void *arg) {
    struct nt_ready_arg *a = arg;
    return nt_log_has(a->p, " ready") || !th_alive(a->p);
}

__attribute__((unused)) static void nt_start(struct nt *t) {
    t->proc = th_spawn("notifier", NULL, t->envp);
    struct nt_ready_arg a = {&t->proc};
    bool ok = th_eventually(nt_ready, &a, 30000);
    if (!ok || !th_alive(&t->proc))
        th_dump_log(&t->proc);
    cr_assert(ok && th_alive(&t->proc), "the notifier did not start");
}

/* SIGTERM; a stopped service must exit 0 (the drain). */
__attribute__((unused)) static void nt_stop(struct nt *t) {
    cr_expect_eq(th_stop(&t->proc, SIGTERM, 20000), 0, "the notifier must exit 0 after SIGTERM");
}

__attribute__((unused)) static void nt_cleanup(struct nt *t) {
    if (t->proc.pid > 0)
        th_stop(&t->proc, SIGTERM, 20000);
    nt_sink_stop(&t->sink);
    nt_delete_consumers(t->bus, t->id);
    bus_free(t->bus);
    free(t->dsn);
    nt_current = NULL;
}

/* Suite fini: stops what a failed test left running. */
__attribute__((unused)) static void nt_fini(void) {
    if (!nt_current)
        return;
    th_kill9(&nt_current->proc);
    nt_sink_stop(&nt_current->sink);
    if (nt_current->bus)
        nt_delete_consumers(nt_current->bus, nt_current->id);
    nt_current = NULL;
}

/* One value of the notifier's schema (first column of the first row), as a number. */
__attribute__((unused)) static long nt_sql_long(const struct nt *t, const char *fmt) {
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, t->schema);
    char *v = th_sql(sql);
    long n = v ? atol(v) : -1;
    free(v);
    return n;
}

/* ---- publishing --------------------------------------------------------------------------------- */

struct nt_rcpt {
    const char *address, *name, *language;
};

/* Builds a packed envelope around a mail command; *event_id gets the envelope id. */
static uint8_t *nt_command(const char *tmpl, const struct nt_rcpt *r, size_t nr, const char *const *vars, size_t nv,
                           const char *key, const char *org, char event_id[40], size_t *len) {
    Mkt__Mail__Recipient rs[8], *rp[8];
    cr_assert(nr <= 8 && nv <= 8);
    for (size_t i = 0; i < nr; i++) {
        mkt__mail__recipient__init(&rs[i]);
        rs[i].address = (char *)r[i].address;
        rs[i].name = (char *)(r[i].name ? r[i].name : "");
        rs[i].language = (char *)(r[i].language ? r[i].language : "");
        rp[i] = &rs[i];
    }
    Mkt__Mail__Command__VarsEntry ve[8], *vp[8];
    for (size_t i = 0; i < nv; i++) {
        mkt__mail__command__vars_entry__init(&ve[i]);
        ve[i].key = (char *)vars[2 * i];
        ve[i].value = (char *)vars[2 * i + 1];
        vp[i] = &ve[i];
    }
    Mkt__Mail__Command cmd = MKT__MAIL__COMMAND__INIT;
    cmd.template_ = (char *)tmpl;
    cmd.recipients = rp;
    cmd.n_recipients = nr;
    cmd.vars = vp;
    cmd.n_vars = nv;
    cmd.idempotency_key = (char *)(key ? key : "");
    Mkt__Event ev;
    struct event_storage st;
    events_envelope(&ev, &st, tmpl, org, NULL, "corr-test", &cmd.base);
    snprintf(event_id, 40, "%s", ev.id);
    *len = mkt__event__get_packed_size(&ev);
    uint8_t *data = malloc(*len ? *len : 1);
    mkt__event__pack(&ev, data);
    events_storage_cleanup(&st);
    return data;
}

__attribute__((unused)) static void nt_publish(struct nt *t, const char *kind, const uint8_t *data, size_t len,
                                               const char *msg_id) {
    char subject[160];
    snprintf(subject, sizeof subject, "mkt.mail.%s.%s", t->id, kind);
    struct err e = {0};
    cr_assert_eq(events_publish(t->bus, subject, data, len, msg_id, 5000, &e), ERR_OK, "%s", e.msg);
}

/* Publishes one set_password command; returns the event id in event_id. */
__attribute__((unused)) static void nt_set_password(struct nt *t, const char *address, const char *language,
                                                    const char *token,
                            char event_id[40]) {
    struct nt_rcpt r = {address, "Jane Doe", language};
    const char *vars[] = {"organization_name", "ACME", "token", token};
    size_t len;
    uint8_t *data = nt_command("set_password", &r, 1, vars, 2, NULL, "org-test", event_id, &len);
    nt_publish(t, "set_password", data, len, event_id);
    free(data);
}

#endif
