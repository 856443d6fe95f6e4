/* The publisher service's state: one struct, created by main, passed to everything (as the svc's
 * `app`, so workers reach it through w->app). The domain (OMI copies, shares and deletions when versions are published or unpublished) lands with its own issue;
 * until then the struct holds only the skeleton, so that the service starts from the same layout
 * as the others: main.c, publisher.h, handlers.c, consumers.c, store.c, migrations/. */
#ifndef PUBLISHER_PUBLISHER_H
#define PUBLISHER_PUBLISHER_H

#include "svc.h"

struct publisher {
    struct svc *svc; /* borrowed: bus and pools */
};

#endif
