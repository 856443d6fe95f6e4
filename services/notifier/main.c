/* The notifier: every e-mail the platform sends. It consumes mail commands (MAIL) and the events
 * that call for a mail (EVENTS), records one ledger row per (event, recipient), and delivers
 * them over SMTP exactly once in practice (MAIL-1..3). This file is the boot script: the
 * settings table and the wiring; notifier.c holds the start-up logic and the svc hooks. */
#include <curl/curl.h>
#include <stddef.h>

#include "handlers.h"
#include "log.h"
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
    {"MKT_CURSOR_KEY", CONFIG_STRING, "", 0, 256, true, offsetof(struct notifier_config, cursor_key),
     "MAC key of list cursors (the same on every replica; empty = development key)"},
    {"MKT_MAIL_EVENTS", CONFIG_BOOL, "true", 0, 0, false, offsetof(struct notifier_config, consume_events),
     "consume the EVENTS that call for mails (false: mail commands only)"},
};

int main(void) {
    static struct notifier n;
    struct svc s;
    struct err e = {0};
    int rc = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    n.svc = &s;
    if (svc_init(&s, "notifier", &n, true, &e) != ERR_OK ||
        config_load(notifier_fields, CONFIG_COUNT(notifier_fields), &n.cfg, &e) != ERR_OK ||
        notifier_check_config(&n, &e) != ERR_OK)
        goto fail;
    config_log(notifier_fields, CONFIG_COUNT(notifier_fields), &n.cfg);
    if (notifier_prepare(&n, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK || svc_connect(&s, &e) != ERR_OK ||
        svc_serve(&s, handlers_methods, handlers_methods_count, &e) != ERR_OK || notifier_start(&n, &e) != ERR_OK)
        goto fail;
    s.maintenance = notifier_maintenance;
    s.on_drain = notifier_on_drain;
    s.on_drain_wait = notifier_drain_wait;
    rc = svc_run(&s);
    goto done;
fail:
    log_error("start: %s: %s", err_code_name(e.code), e.msg);
done:
    svc_cleanup(&s); /* consumers first: they use the templates */
    notifier_cleanup(&n);
    curl_global_cleanup();
    return rc;
}
