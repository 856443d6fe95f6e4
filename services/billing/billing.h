/* The billing service's state: one struct, created by main, passed to everything (as the svc's
 * `app`, so workers reach it through w->app). The domain (hourly usage metering by product code and statements) lands with its own issue;
 * until then the struct holds only the skeleton, so that the service starts from the same layout
 * as the others: main.c, billing.h, handlers.c, consumers.c, store.c, migrations/. */
#ifndef BILLING_BILLING_H
#define BILLING_BILLING_H

#include "svc.h"

struct billing {
    struct svc *svc; /* borrowed: bus and pools */
};

#endif
