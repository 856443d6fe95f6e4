/* The identity-eim consumer (see consumers.h): turns identity's account and OUTSCALE-account
 * events into EIM work rows, in the inbox transaction. Other identity events are acknowledged
 * without effect. */
#include "consumers.h"

#include <stdio.h>
#include <string.h>

#include "identity.pb-c.h"
#include "id.h"
#include "log.h"
#include "store.h"

#define EVENT_PREFIX "identity."

static err_code on_account(const struct events_msg *m, bool created, struct err *e) {
    Mkt__Identity__AccountEvent *ev = mkt__identity__account_event__unpack(NULL, m->event->payload.len,
                                                                           m->event->payload.data);
    if (!ev || !id_is_uuid(ev->account_id)) {
        if (ev)
            mkt__identity__account_event__free_unpacked(ev, NULL);
        return err_set(e, ERR_INVALID, "account event %s: undecodable payload", m->event->id);
    }
    int n = 0;
    err_code code = created ? store_eim_plan_account(m->tx, ev->account_id, clock_now(), &n, e)
                            : store_eim_unplan_account(m->tx, ev->account_id, clock_now(), &n, e);
    if (code == ERR_OK && n > 0)
        log_info("EIM: %d user(s) of account %s to %s", n, ev->account_id, created ? "create" : "delete");
    mkt__identity__account_event__free_unpacked(ev, NULL);
    return code;
}

static err_code on_outscale(const struct events_msg *m, bool attached, struct err *e) {
    Mkt__Identity__OutscaleAccountEvent *ev = mkt__identity__outscale_account_event__unpack(
        NULL, m->event->payload.len, m->event->payload.data);
    struct store_outscale_list l = {0};
    err_code code = ERR_OK;
    if (!ev || !id_is_uuid(ev->organization_id)) {
        code = err_set(e, ERR_INVALID, "OUTSCALE account event %s: undecodable payload", m->event->id);
        goto done;
    }
    /* The event names the 12-digit account; find its row in the organization (active when
     * attached, detaching when detached). */
    code = store_outscale_list(m->tx, ev->organization_id, true, &l, e);
    for (size_t i = 0; code == ERR_OK && i < l.n; i++) {
        const struct store_outscale *o = &l.v[i];
        if (strcmp(o->account_id, ev->outscale_account_id) != 0)
            continue;
        int n = 0;
        if (attached && strcmp(o->state, "active") == 0)
            code = store_eim_plan_outscale(m->tx, o->id, clock_now(), &n, e);
        else if (!attached && strcmp(o->state, "detaching") == 0)
            code = store_eim_unplan_outscale(m->tx, o->id, clock_now(), &n, e);
        if (code == ERR_OK && n > 0)
            log_info("EIM: %d user(s) to %s in OUTSCALE account %s", n, attached ? "create" : "delete", o->account_id);
    }
done:
    store_outscale_list_cleanup(&l);
    if (ev)
        mkt__identity__outscale_account_event__free_unpacked(ev, NULL);
    return code;
}

static err_code on_account_created(const struct events_msg *m, struct err *e) { return on_account(m, true, e); }
static err_code on_account_deleted(const struct events_msg *m, struct err *e) { return on_account(m, false, e); }
static err_code on_outscale_attached(const struct events_msg *m, struct err *e) { return on_outscale(m, true, e); }
static err_code on_outscale_detached(const struct events_msg *m, struct err *e) { return on_outscale(m, false, e); }

/* The events that plan EIM work; organization.*, account.updated, eim.*: nothing to plan (the
 * consumer acknowledges them without effect). */
static const struct events_route routes[] = {
    {EVENT_PREFIX "account.created", on_account_created},
    {EVENT_PREFIX "account.deleted", on_account_deleted},
    {EVENT_PREFIX "outscale_account.attached", on_outscale_attached},
    {EVENT_PREFIX "outscale_account.detached", on_outscale_detached},
};

err_code consumers_on_event(const struct events_msg *m, struct err *e) {
    const char *type = m->event->type ? m->event->type : "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (events_type_matches(routes[i].type, type))
            return routes[i].fn(m, e);
    return ERR_OK;
}

err_code consumers_start(struct identity *id, struct svc *s, struct err *e) {
    /* Copied by events_consumer_start; the durable name lives in `id`, the table is static. The filter
     * stays identity.> (not the narrowest cover of the routes, which is the same here) so that
     * the durable keeps its existing server-side configuration. */
    struct events_consumer_spec spec = {
        .stream = "EVENTS",
        .durable = id->cfg.consumer_name,
        .filter = EVENTS_SUBJECT_PREFIX "identity.>",
        .routes = routes,
        .n_routes = sizeof routes / sizeof routes[0],
        .inbox = true,
    };
    return svc_consume(s, &spec, e);
}
