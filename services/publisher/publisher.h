/* The publisher service's state: one struct, created by main, passed to everything (as the svc's
 * `app`, so workers reach it through w->app). Read-only after start, except `stopping` (set when
 * the drain begins) and the maintenance hook's own connection, which only the hook touches (the
 * skeleton never runs two maintenance jobs at once).
 *
 * Capabilities so far: product codes (PROD-3): catalog.product.created for an OMI product ->
 * a product_codes row (consumers.c, store.c) -> a product type in the marketplace's distribution
 * account, found or created outside any transaction by the maintenance hook (codes.c) ->
 * publisher.product_code.created (or .failed) through the outbox. The OMI copies, shares and
 * deletions of versions come next (issue 12). */
#ifndef PUBLISHER_PUBLISHER_H
#define PUBLISHER_PUBLISHER_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "svc.h"

/* The publisher's own settings (main.c declares the table). */
struct publisher_config {
    const char *distribution_access_key; /* MKT_DISTRIBUTION_ACCESS_KEY: "" = not configured (no cloud work) */
    const char *distribution_secret_key; /* MKT_DISTRIBUTION_SECRET_KEY (secret) */
    const char *distribution_region;     /* MKT_DISTRIBUTION_REGION: where product types are made */
    const char *cloud_endpoint;          /* OSC_ENDPOINT_API: "" = https://api.<region>.outscale.com */
    long long cloud_max_tries;           /* MKT_CLOUD_MAX_TRIES: attempts per cloud call */
    long long cloud_timeout_ms;          /* MKT_CLOUD_TIMEOUT_MS: one attempt */
    long long job_lease_s;               /* MKT_PUBLISHER_LEASE_S: a claimed job is due again after this */
    long long job_max_attempts;          /* MKT_PUBLISHER_MAX_ATTEMPTS: then the job is failed */
    long long job_backoff_max_s;         /* MKT_PUBLISHER_BACKOFF_MAX_S */
    const char *consumer_name;           /* MKT_PUBLISHER_CONSUMER: durable name of the catalog consumer */
};

struct publisher {
    struct publisher_config cfg;
    struct svc *svc;          /* borrowed: bus and pools */
    atomic_bool stopping;     /* set when the drain begins */
    /* maintenance hook only */
    PGconn *maint_db;         /* owned; opened lazily */
    struct cloud *cloud;      /* owned; the distribution account's client, made lazily */
};

static inline bool publisher_stopping(const struct publisher *p) { return atomic_load(&p->stopping); }

/* The svc hooks: maintenance (product-code jobs) and on_drain (the job loop stops early). */
void publisher_maintenance(struct svc *s, struct pool_worker *w);
void publisher_on_drain(struct svc *s);
/* Frees what the maintenance hook made; safe after a failed start. */
void publisher_cleanup(struct publisher *p);

#endif
