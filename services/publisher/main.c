/* The publisher service: the marketplace's side of the cloud (product codes now; OMI copies,
 * shares and deletions of versions next, issue 12). This file is the boot script: the settings
 * table and the wiring (database, NATS, the built-in ping, the catalog consumer, the maintenance
 * hook that runs the cloud jobs); see publisher.h (state), consumers.c (events -> jobs), codes.c
 * (product codes and the hooks), store.c (tables). */
#include <curl/curl.h>
#include <stddef.h>

#include "config.h"
#include "consumers.h"
#include "handlers.h"
#include "log.h"
#include "publisher.h"
#include "svc.h"

#define C(field) offsetof(struct publisher_config, field)
static const struct config_field publisher_fields[] = {
    {"MKT_DISTRIBUTION_ACCESS_KEY", CONFIG_STRING, "", 0, 128, false, C(distribution_access_key),
     "access key of the marketplace's distribution account; empty: no cloud work (jobs wait)"},
    {"MKT_DISTRIBUTION_SECRET_KEY", CONFIG_STRING, "", 0, 256, true, C(distribution_secret_key),
     "secret key of the distribution account"},
    {"MKT_DISTRIBUTION_REGION", CONFIG_STRING, "cloudgouv-eu-west-1", 1, 64, false, C(distribution_region),
     "Region of the distribution account's calls that are not per Region (product types)"},
    {"OSC_ENDPOINT_API", CONFIG_STRING, "", 0, 512, false, C(cloud_endpoint),
     "OUTSCALE API endpoint; empty: https://api.<region>.outscale.com"},
    {"MKT_CLOUD_MAX_TRIES", CONFIG_INT, "3", 1, 10, false, C(cloud_max_tries), "attempts per cloud call"},
    {"MKT_CLOUD_TIMEOUT_MS", CONFIG_INT, "15000", 100, 120000, false, C(cloud_timeout_ms),
     "time limit of one cloud call attempt"},
    {"MKT_PUBLISHER_LEASE_S", CONFIG_INT, "120", 1, 3600, false, C(job_lease_s),
     "a claimed job whose outcome is not recorded (crash) is due again after this"},
    {"MKT_PUBLISHER_MAX_ATTEMPTS", CONFIG_INT, "10", 1, 1000, false, C(job_max_attempts),
     "attempts of a job before it is marked failed"},
    {"MKT_PUBLISHER_BACKOFF_MAX_S", CONFIG_INT, "300", 1, 86400, false, C(job_backoff_max_s),
     "longest wait between two attempts of a job"},
    {"MKT_PUBLISHER_CONSUMER", CONFIG_STRING, "publisher-catalog", 1, 64, false, C(consumer_name),
     "durable name of the catalog consumer"},
};
#undef C

int main(void) {
    static struct publisher app;
    struct svc s;
    struct err e = {0};
    int rc = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    app.svc = &s;
    if (svc_init(&s, "publisher", &app, true, &e) != ERR_OK ||
        config_load(publisher_fields, CONFIG_COUNT(publisher_fields), &app.cfg, &e) != ERR_OK) {
        err_wrap(&e, "configuration");
        goto fail;
    }
    config_log(publisher_fields, CONFIG_COUNT(publisher_fields), &app.cfg);
    if (!app.cfg.distribution_access_key[0])
        log_warn("MKT_DISTRIBUTION_ACCESS_KEY is not set: product codes wait until it is");
    if (svc_open_db(&s, &e) != ERR_OK || svc_connect(&s, &e) != ERR_OK ||
        svc_serve(&s, handlers_methods, handlers_methods_count, &e) != ERR_OK || consumers_start(&app, &s, &e) != ERR_OK)
        goto fail;
    s.maintenance = publisher_maintenance;
    s.on_drain = publisher_on_drain;
    rc = svc_run(&s);
    goto done;
fail:
    log_error("start: %s: %s", err_code_name(e.code), e.msg);
done:
    svc_cleanup(&s);
    publisher_cleanup(&app);
    curl_global_cleanup();
    return rc;
}
