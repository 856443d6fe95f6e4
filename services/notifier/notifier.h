/* The notifier's state: one struct, created by main, passed to everything (as the svc's `app`,
 * so workers reach it through w->app). Read-only after start except for the delivery module's
 * own synchronized state. */
#ifndef NOTIFIER_NOTIFIER_H
#define NOTIFIER_NOTIFIER_H

#include <limits.h>
#include <stdbool.h>

#include "svc.h"
#include "templates.h"

struct delivery;

#define NOTIFIER_MAX_ROUTES 16 /* event types the EVENTS consumer may route (consumers.c) */

/* The notifier's own settings (main.c declares the table). */
struct notifier_config {
    const char *smtp_url;          /* MKT_SMTP_URL */
    const char *smtp_user;         /* MKT_SMTP_USER */
    const char *smtp_password;     /* MKT_SMTP_PASSWORD (secret) */
    bool smtp_starttls;            /* MKT_SMTP_STARTTLS */
    long long smtp_timeout_ms;     /* MKT_SMTP_TIMEOUT_MS */
    const char *mail_from;         /* MKT_MAIL_FROM */
    const char *platform_name;     /* MKT_PLATFORM_NAME */
    const char *public_url;        /* MKT_PUBLIC_URL, without trailing slash */
    long long concurrency;         /* MKT_MAIL_CONCURRENCY */
    long long batch;               /* MKT_MAIL_BATCH */
    long long retry_for_s;         /* MKT_MAIL_RETRY_FOR_S */
    long long backoff_max_s;       /* MKT_MAIL_BACKOFF_MAX_S */
    long long lease_s;             /* MKT_MAIL_LEASE_S */
    long long keep_days;           /* MKT_MAIL_KEEP_DAYS */
    const char *templates_dir;     /* MKT_TEMPLATES_DIR */
    const char *mail_subjects;     /* MKT_MAIL_SUBJECTS: filter of the MAIL consumer */
    const char *consumer_name;     /* MKT_NOTIFIER_CONSUMER: prefix of the durable consumers */
    bool consume_events;           /* MKT_MAIL_EVENTS: also consume EVENTS (else commands only) */
    const char *cursor_key;        /* MKT_CURSOR_KEY (secret): list_mails' cursor MAC key; NULL/"" = dev key */
};

struct notifier {
    struct notifier_config cfg;
    struct svc *svc;               /* borrowed: bus and pool */
    struct tmpl_set *templates;    /* owned */
    struct delivery *delivery;     /* owned */
    /* consumer names and filters: the consumer specs point at them for the process's life */
    char durables[SVC_MAX_CONSUMERS][96];
    char filters[SVC_MAX_CONSUMERS][128];
    struct events_route event_routes[NOTIFIER_MAX_ROUTES]; /* the EVENTS consumer's table */
    /* storage of settings rewritten at start (notifier.c) */
    char public_url_buf[512];
    char templates_dir_buf[PATH_MAX + 64];
};

/* Checks the settings across fields (addresses, URLs, lease vs SMTP time limit) and fills the
 * defaults that need looking up (the templates folder); every setting is already loaded. */
err_code notifier_check_config(struct notifier *n, struct err *e) MKT_MUST_USE;
/* Loads the templates and creates the delivery module (before svc_open_db). */
err_code notifier_prepare(struct notifier *n, struct err *e) MKT_MUST_USE;
/* After svc_serve: the consumers and the delivery loop. */
err_code notifier_start(struct notifier *n, struct err *e) MKT_MUST_USE;
/* The svc hooks: maintenance (delivery kicks, stats, pruning), on_drain (no new deliveries),
 * on_drain_wait (the deliveries in hand, until the drain deadline). */
void notifier_maintenance(struct svc *s, struct pool_worker *w);
void notifier_on_drain(struct svc *s);
bool notifier_drain_wait(struct svc *s, int64_t until_mono_us);
/* Frees what notifier_prepare and notifier_start made; safe after a failed start. */
void notifier_cleanup(struct notifier *n);

#endif
