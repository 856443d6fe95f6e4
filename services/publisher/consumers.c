/* The publisher-catalog consumer (see consumers.h): turns catalog events into publisher jobs, in
 * the inbox transaction, so a redelivered event plans nothing twice. */
#include "consumers.h"

#include <string.h>

#include "catalog.pb-c.h"
#include "id.h"
#include "log.h"
#include "store.h"

static err_code on_product_created(const struct events_msg *m, struct err *e) {
    Mkt__Catalog__ProductEvent *ev =
        mkt__catalog__product_event__unpack(NULL, m->event->payload.len, m->event->payload.data);
    err_code code = ERR_OK;
    if (!ev || !id_is_uuid(ev->product_id) || !id_is_uuid(ev->organization_id)) {
        code = err_set(e, ERR_INVALID, "product event %s: undecodable payload", m->event->id);
        goto done;
    }
    if (strcmp(ev->kind, "omi") != 0)
        goto done; /* only OMI products carry a product code (PROD-3) */
    bool planned = false;
    code = store_code_plan(m->tx, ev->product_id, ev->organization_id, clock_now(), &planned, e);
    if (code == ERR_OK && planned)
        log_info("product code of product %s planned", ev->product_id);
done:
    if (ev)
        mkt__catalog__product_event__free_unpacked(ev, NULL);
    return code;
}

static const struct events_route routes[] = {
    {"catalog.product.created", on_product_created},
};

err_code consumers_start(struct publisher *p, struct svc *s, struct err *e) {
    /* The filter is catalog.> rather than the narrowest cover of today's one route, so that the
     * versions' and subscriptions' routes join this durable without changing its configuration. */
    struct events_consumer_spec spec = {
        .stream = "EVENTS",
        .durable = p->cfg.consumer_name,
        .filter = EVENTS_SUBJECT_PREFIX "catalog.>",
        .routes = routes,
        .n_routes = sizeof routes / sizeof routes[0],
        .inbox = true,
    };
    return svc_consume(s, &spec, e);
}
