/* The catalog service's state, shared by its handlers (borrowed by every worker as w->app). */
#ifndef CATALOG_CATALOG_H
#define CATALOG_CATALOG_H

#include <stdbool.h>

#include "bus.h"
#include "cursor.h"

struct catalog_config {
    const char *review;     /* MKT_CATALOG_REVIEW: "none" (publish at once, OUTSCALE's way) or "required" (PUB-4) */
    const char *cursor_key; /* MKT_CURSOR_KEY: MAC key of list cursors, the same on every replica */
};

struct catalog {
    struct catalog_config cfg;
    bool review_required;
    struct cursor_key cursor_key;
    struct bus *bus; /* borrowed from the skeleton, for calls to other services (no transaction open) */
};

#endif
