/* The catalog's consumer of the publisher's reports (see consumers.h). */
#include "consumers.h"

#include "handlers.h"
#include "id.h"
#include "log.h"
#include "outbox.h"
#include "publisher.pb-c.h"
#include "store.h"

/* PROD-3: the product type exists in the distribution account; the product carries its code from
 * now on (a repeat, or a second report for the same product, changes nothing). */
static err_code on_product_code(const struct events_msg *m, struct err *e) {
    Mkt__Publisher__ProductCodeEvent *ev =
        mkt__publisher__product_code_event__unpack(NULL, m->event->payload.len, m->event->payload.data);
    Mkt__Catalog__Product *p = NULL;
    err_code code = ERR_OK;
    bool changed = false;
    if (!ev || !id_is_uuid(ev->product_id) || !ev->product_code || !*ev->product_code) {
        code = err_set(e, ERR_INVALID, "product code event %s: undecodable payload", m->event->id);
        goto done;
    }
    if ((code = store_product_set_code(m->tx, ev->product_id, ev->product_code, clock_now(), &changed, e)) != ERR_OK ||
        !changed)
        goto done;
    if ((code = store_product_get_any(m->tx, ev->product_id, false, &p, e)) != ERR_OK)
        goto done;
    Mkt__Catalog__ProductEvent out;
    handlers_product_event(p, &out);
    code = outbox_emit(m->tx, "catalog.product.updated", p->organization_id, m->event->actor_id,
                       m->event->correlation_id, &out.base, e);
    if (code == ERR_OK)
        log_info("product %s: product code %s", p->id, p->product_code);
done:
    if (p)
        protobuf_c_message_free_unpacked(&p->base, NULL);
    if (ev)
        mkt__publisher__product_code_event__free_unpacked(ev, NULL);
    return code;
}

static const struct events_route routes[] = {
    {"publisher.product_code.created", on_product_code},
};

err_code consumers_on_event(const struct events_msg *m, struct err *e) {
    const char *type = m->event ? m->event->type : NULL;
    for (size_t i = 0; type && i < sizeof routes / sizeof routes[0]; i++)
        if (events_type_matches(routes[i].type, type))
            return routes[i].fn(m, e);
    return ERR_OK;
}

err_code consumers_start(struct catalog *c, struct svc *s, struct err *e) {
    struct events_consumer_spec spec = {
        .stream = "EVENTS",
        .durable = c->cfg.consumer_name,
        .routes = routes,
        .n_routes = sizeof routes / sizeof routes[0],
        .inbox = true,
    };
    return svc_consume(s, &spec, e);
}
