/* The catalog's consumer (durable MKT_CATALOG_CONSUMER, inbox: exactly-once effects; a type ->
 * handler table): the publisher's reports about the cloud side of the catalog. Today
 * publisher.product_code.created records an OMI product's code (PROD-3), after which versions
 * can be created; the copies' reports (VER-4, VER-6) come with the publisher's next steps. Each
 * handler writes in the inbox transaction and emits its own event there. */
#ifndef CATALOG_CONSUMERS_H
#define CATALOG_CONSUMERS_H

#include "catalog.h"
#include "events.h"

/* Starts the consumer on `s` (its durable name is borrowed from c's configuration). */
err_code consumers_start(struct catalog *c, struct svc *s, struct err *e) MKT_MUST_USE;
/* The route table's dispatch as one function, exposed for tests (unrouted types: ERR_OK). */
err_code consumers_on_event(const struct events_msg *m, struct err *e);

#endif
