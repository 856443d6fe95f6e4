/* The catalog service: showcases, products, offers, versions, terms of use, listing review (and,
 * to come, the public catalog and subscriptions). This file is the boot script; see handlers.c
 * (methods), store.c (SQL), catalog.c (start-up checks) and catalog.h (state). */
#include <stddef.h>

#include "catalog.h"
#include "config.h"
#include "consumers.h"
#include "handlers.h"
#include "log.h"
#include "svc.h"

static const struct config_field catalog_fields[] = {
    {"MKT_CATALOG_REVIEW", CONFIG_STRING, "none", 4, 8, false, offsetof(struct catalog_config, review),
     "listing review before publication (PUB-4): none or required"},
    {"MKT_CURSOR_KEY", CONFIG_STRING, "", 0, 256, true, offsetof(struct catalog_config, cursor_key),
     "MAC key of list cursors (the same on every replica; empty = development key)"},
    {"MKT_CATALOG_CONSUMER", CONFIG_STRING, "catalog", 1, 48, false, offsetof(struct catalog_config, consumer_name),
     "durable name of the consumer of the publisher's reports"},
};

int main(void) {
    static struct catalog cat;
    struct svc s;
    struct err e = {0};
    int rc = 1;
    cat.svc = &s;
    if (svc_init(&s, "catalog", &cat, true, &e) != ERR_OK ||
        config_load(catalog_fields, CONFIG_COUNT(catalog_fields), &cat.cfg, &e) != ERR_OK ||
        catalog_check_config(&cat, &e) != ERR_OK)
        goto fail;
    config_log(catalog_fields, CONFIG_COUNT(catalog_fields), &cat.cfg);
    if (svc_open_db(&s, &e) != ERR_OK || svc_connect(&s, &e) != ERR_OK ||
        svc_serve(&s, catalog_methods, catalog_methods_count, &e) != ERR_OK || consumers_start(&cat, &s, &e) != ERR_OK)
        goto fail;
    rc = svc_run(&s);
    goto done;
fail:
    log_error("start: %s: %s", err_code_name(e.code), e.msg);
done:
    svc_cleanup(&s);
    return rc;
}
