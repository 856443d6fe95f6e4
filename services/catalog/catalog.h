/* The catalog service's state, shared by its handlers (borrowed by every worker as w->app). */
#ifndef CATALOG_CATALOG_H
#define CATALOG_CATALOG_H

#include <stdbool.h>

struct catalog_config {
    const char *review; /* MKT_CATALOG_REVIEW: "none" (publish at once, OUTSCALE's way) or "required" (PUB-4) */
};

struct catalog {
    struct catalog_config cfg;
    bool review_required;
};

#endif
