/* The publisher's consumer of the catalog's events (durable MKT_PUBLISHER_CONSUMER, default
 * "publisher-catalog", on mkt.evt.catalog.>, with an inbox): catalog.product.created of an OMI
 * product plans its product code (PROD-3) in the inbox transaction; other kinds and other
 * catalog events are acknowledged without effect. */
#ifndef PUBLISHER_CONSUMERS_H
#define PUBLISHER_CONSUMERS_H

#include "err.h"
#include "publisher.h"
#include "svc.h"

err_code consumers_start(struct publisher *p, struct svc *s, struct err *e) MKT_MUST_USE;

#endif
