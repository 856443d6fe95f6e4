/* The catalog service's state: one struct, created by main, passed to everything (as the svc's
 * `app`, so workers reach it through w->app). Nothing in it yet but the skeleton: the catalog's
 * settings and caches land here as its domain grows (showcases, products, offers, versions,
 * subscriptions). Read-only after start. */
#ifndef CATALOG_CATALOG_H
#define CATALOG_CATALOG_H

#include "svc.h"

struct catalog {
    struct svc *svc; /* borrowed: bus and pools */
};

#endif
