/* The catalog service: showcases, products, offers, versions, terms of use. This file only
 * wires the process together: configuration, then the skeleton (lib/svc.h) with the method
 * table of handlers.c. */
#include <stddef.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "handlers.h"
#include "log.h"
#include "svc.h"

static const struct config_field catalog_fields[] = {
    {"MKT_CATALOG_REVIEW", CONFIG_STRING, "none", 4, 8, false, offsetof(struct catalog_config, review),
     "listing review before publication (PUB-4): none or required"},
    {"MKT_CURSOR_KEY", CONFIG_STRING, "", 0, 256, true, offsetof(struct catalog_config, cursor_key),
     "MAC key of list cursors (the same on every replica; empty = development key)"},
};

int main(void) {
    struct catalog app = {0};
    struct svc s;
    struct err e = {0};
    int rc = 1;
    if (config_load(catalog_fields, CONFIG_COUNT(catalog_fields), &app.cfg, &e) != ERR_OK) {
        log_error("config: %s", e.msg);
        return 1;
    }
    if (strcmp(app.cfg.review, "none") != 0 && strcmp(app.cfg.review, "required") != 0) {
        log_error("config: MKT_CATALOG_REVIEW: must be none or required");
        return 1;
    }
    app.review_required = strcmp(app.cfg.review, "required") == 0;
    cursor_key_init(&app.cursor_key, app.cfg.cursor_key);
    if (svc_init(&s, "catalog", &app, true, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK ||
        svc_connect(&s, &e) != ERR_OK) {
        log_error("start: %s: %s", err_code_name(e.code), e.msg);
        goto done;
    }
    app.bus = s.bus; /* before serving: handlers call other services */
    if (svc_serve(&s, catalog_methods, catalog_methods_count, &e) != ERR_OK) {
        log_error("start: %s: %s", err_code_name(e.code), e.msg);
        goto done;
    }
    config_log(catalog_fields, CONFIG_COUNT(catalog_fields), &app.cfg);
    rc = svc_run(&s);
done:
    svc_cleanup(&s);
    return rc;
}
