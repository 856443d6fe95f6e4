/* The notifier: every e-mail the platform sends. It consumes mail commands (MAIL) and the events
 * that call for a mail (EVENTS), records one ledger row per (event, recipient), and delivers
 * them over SMTP exactly once in practice (MAIL-1..3). This file only wires the process
 * together: configuration, templates, database, NATS, consumers, the delivery loop. */
#include <curl/curl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consumers.h"
#include "delivery.h"
#include "handlers.h"
#include "log.h"
#include "mail.h"
#include "notifier.h"
#include "svc.h"

static const struct config_field notifier_fields[] = {
    {"MKT_SMTP_URL", CONFIG_STRING, "smtp://127.0.0.1:25", 8, 512, false, offsetof(struct notifier_config, smtp_url),
     "SMTP server: smtp://host:port (STARTTLS optional) or smtps://host:port (implicit TLS)"},
    {"MKT_SMTP_USER", CONFIG_STRING, "", 0, 256, false, offsetof(struct notifier_config, smtp_user),
     "SMTP login; empty: no authentication"},
    {"MKT_SMTP_PASSWORD", CONFIG_STRING, "", 0, 256, true, offsetof(struct notifier_config, smtp_password),
     "SMTP password"},
    {"MKT_SMTP_STARTTLS", CONFIG_BOOL, "false", 0, 0, false, offsetof(struct notifier_config, smtp_starttls),
     "require STARTTLS on smtp://"},
    {"MKT_SMTP_TIMEOUT_MS", CONFIG_INT, "30000", 1000, 600000, false,
     offsetof(struct notifier_config, smtp_timeout_ms), "time limit of one SMTP transaction"},
    {"MKT_MAIL_FROM", CONFIG_STRING, "noreply@marketplace.local", 3, 254, false,
     offsetof(struct notifier_config, mail_from), "sender address (envelope and From)"},
    {"MKT_PLATFORM_NAME", CONFIG_STRING, "OUTSCALE Marketplace", 1, 100, false,
     offsetof(struct notifier_config, platform_name), "name shown in mails and as the From name"},
    {"MKT_PUBLIC_URL", CONFIG_STRING, "http://127.0.0.1:8080", 8, 400, false,
     offsetof(struct notifier_config, public_url), "base of every link in mails"},
    {"MKT_MAIL_CONCURRENCY", CONFIG_INT, "4", 1, 64, false, offsetof(struct notifier_config, concurrency),
     "SMTP deliveries at once (one connection each)"},
    {"MKT_MAIL_BATCH", CONFIG_INT, "16", 1, 500, false, offsetof(struct notifier_config, batch),
     "mails claimed per delivery job"},
    {"MKT_MAIL_RETRY_FOR_S", CONFIG_INT, "172800", 0, 30LL * 24 * 3600, false,
     offsetof(struct notifier_config, retry_for_s), "how long temporary failures are retried"},
    {"MKT_MAIL_BACKOFF_MAX_S", CONFIG_INT, "300", 1, 86400, false, offsetof(struct notifier_config, backoff_max_s),
     "longest wait between attempts (and longest pause while the server is down)"},
    {"MKT_MAIL_LEASE_S", CONFIG_INT, "120", 5, 3600, false, offsetof(struct notifier_config, lease_s),
     "a claimed mail whose outcome is not recorded (crash) is due again after this"},
    {"MKT_MAIL_KEEP_DAYS", CONFIG_INT, "90", 1, 3650, false, offsetof(struct notifier_config, keep_days),
     "sent and failed ledger rows are pruned after this"},
    {"MKT_TEMPLATES_DIR", CONFIG_STRING, "", 0, 1024, false, offsetof(struct notifier_config, templates_dir),
     "template folder; empty: the source tree's services/notifier/templates"},
    {"MKT_MAIL_SUBJECTS", CONFIG_STRING, MAIL_SUBJECT_PREFIX ">", 3, 120, false,
     offsetof(struct notifier_config, mail_subjects), "subjects of the MAIL consumer (another notifier on a "
                                                      "shared NATS uses its own)"},
    {"MKT_NOTIFIER_CONSUMER", CONFIG_STRING, "notifier", 1, 48, false,
     offsetof(struct notifier_config, consumer_name), "prefix of the durable consumers' names"},
    {"MKT_MAIL_EVENTS", CONFIG_BOOL, "true", 0, 0, false, offsetof(struct notifier_config, consume_events),
     "consume the EVENTS that call for mails (false: mail commands only)"},
};

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The templates folder when MKT_TEMPLATES_DIR is not set: next to this source file, relative to
 * the working directory (make and the platform scripts run from the repository root), else
 * found by walking up from the executable (build/bin/notifier, build/asan/bin/notifier). */
static const char *default_templates_dir(char *buf, size_t n) {
    const char *slash = strrchr(__FILE__, '/');
    if (slash)
        snprintf(buf, n, "%.*s/templates", (int)(slash - __FILE__), __FILE__);
    else
        snprintf(buf, n, "templates");
    if (is_dir(buf))
        return buf;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return buf;
    exe[len] = '\0';
    for (char *cut = strrchr(exe, '/'); cut; cut = strrchr(exe, '/')) {
        *cut = '\0';
        snprintf(buf, n, "%s/services/notifier/templates", exe);
        if (is_dir(buf))
            return buf;
    }
    return "services/notifier/templates";
}

/* Loads and checks the notifier's settings; every problem is reported at once. */
static err_code load_config(struct notifier_config *cfg, char *url_buf, size_t url_n, char *dir_buf, size_t dir_n,
                            struct err *e) {
    err_code code = config_load(notifier_fields, CONFIG_COUNT(notifier_fields), cfg, e);
    if (code != ERR_OK)
        return err_wrap(e, "configuration");
    char from[MAIL_ADDRESS_MAX + 1];
    struct err bad = {0};
    if (mail_normalize_address(cfg->mail_from, from, &bad) != ERR_OK)
        return err_set(e, ERR_INVALID, "configuration: MKT_MAIL_FROM: %s", bad.msg);
    if (strncmp(cfg->public_url, "http://", 7) != 0 && strncmp(cfg->public_url, "https://", 8) != 0)
        return err_set(e, ERR_INVALID, "configuration: MKT_PUBLIC_URL: must start with http:// or https://");
    snprintf(url_buf, url_n, "%s", cfg->public_url);
    for (size_t len = strlen(url_buf); len > 0 && url_buf[len - 1] == '/'; len--)
        url_buf[len - 1] = '\0';
    cfg->public_url = url_buf;
    if (!*cfg->templates_dir)
        cfg->templates_dir = default_templates_dir(dir_buf, dir_n);
    if (strncmp(cfg->smtp_url, "smtp://", 7) != 0 && strncmp(cfg->smtp_url, "smtps://", 8) != 0)
        return err_set(e, ERR_INVALID, "configuration: MKT_SMTP_URL: must start with smtp:// or smtps://");
    /* A delivery starts a mail only while its lease outlasts the SMTP time limit, so that no
     * other replica can claim the mail while it is being sent. */
    if (cfg->lease_s * 1000 < cfg->smtp_timeout_ms + 3000)
        return err_set(e, ERR_INVALID, "configuration: MKT_MAIL_LEASE_S (%lld s) must exceed MKT_SMTP_TIMEOUT_MS "
                                       "(%lld ms) by at least 3 s", cfg->lease_s, cfg->smtp_timeout_ms);
    config_log(notifier_fields, CONFIG_COUNT(notifier_fields), cfg);
    return ERR_OK;
}

static void on_maintenance(struct svc *s) {
    struct notifier *n = s->app;
    delivery_maintenance(n->delivery);
}

static void on_drain(struct svc *s) {
    struct notifier *n = s->app;
    delivery_drain(n->delivery);
}

int main(void) {
    struct notifier n = {0};
    struct svc s;
    struct err e = {0};
    char public_url[512], templates_dir[PATH_MAX + 64];
    int rc = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    n.svc = &s;
    if (svc_init(&s, "notifier", &n, true, &e) != ERR_OK ||
        load_config(&n.cfg, public_url, sizeof public_url, templates_dir, sizeof templates_dir, &e) != ERR_OK)
        goto fail;
    if (tmpl_set_new(n.cfg.templates_dir, &n.templates, &e) != ERR_OK)
        goto fail;
    log_info("templates: %zu loaded from %s", tmpl_set_count(n.templates), n.cfg.templates_dir);
    if (delivery_new(&n, &n.delivery, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK || svc_connect(&s, &e) != ERR_OK ||
        svc_serve(&s, handlers_methods, handlers_methods_count, &e) != ERR_OK || consumers_start(&n, &e) != ERR_OK ||
        delivery_start(n.delivery, s.cfg.pg_dsn, &e) != ERR_OK)
        goto fail;
    s.maintenance = on_maintenance;
    s.on_drain = on_drain;
    rc = svc_run(&s);
    goto done;
fail:
    log_error("start: %s: %s", err_code_name(e.code), e.msg);
done:
    delivery_stop(n.delivery, (int)s.cfg.drain_ms);
    svc_cleanup(&s);
    delivery_free(n.delivery);
    tmpl_set_free(n.templates);
    curl_global_cleanup();
    return rc;
}
