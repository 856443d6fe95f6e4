/* The catalog service's state: one struct, created by main, passed to everything (as the svc's
 * `app`, so workers reach it through w->app). Read-only after start. */
#ifndef CATALOG_CATALOG_H
#define CATALOG_CATALOG_H

#include <stdbool.h>

#include "cursor.h"
#include "err.h"
#include "svc.h"

struct catalog_config {
    const char *review;     /* MKT_CATALOG_REVIEW: "none" (publish at once, OUTSCALE's way) or "required" (PUB-4) */
    const char *cursor_key; /* MKT_CURSOR_KEY: MAC key of list cursors, the same on every replica */
    const char *consumer_name; /* MKT_CATALOG_CONSUMER: durable name of the publisher-reports consumer */
};

struct catalog {
    struct catalog_config cfg;
    struct svc *svc;              /* borrowed: bus (calls to other services, no transaction open) and pools */
    bool review_required;         /* from cfg.review */
    struct cursor_key cursor_key; /* from cfg.cursor_key */
};

/* Checks the settings across fields and derives what the handlers read (every setting loaded). */
err_code catalog_check_config(struct catalog *c, struct err *e) MKT_MUST_USE;

#endif
