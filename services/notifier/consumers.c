/* The MAIL and EVENTS consumers: decode, resolve recipients (events ask the owning service),
 * check and insert ledger rows through plan_init, inside the inbox transaction. SMTP never runs
 * here: the delivery listener is notified when the transaction commits.
 *
 * No RPC runs inside a transaction: a MAIL command carries its recipients and uses the lib's
 * inbox consumer (transaction opened by lib/events); an event's recipients come from its owning
 * service, so the EVENTS consumers are plain (non-inbox) consumers whose function calls the owner
 * with no transaction open, then claims the inbox row and inserts the ledger rows in its own
 * transaction. A redelivery stays idempotent: a processed event is seen in the inbox before the
 * call (no second call), and when two deliveries race, the inbox claim conflicts for the second
 * (rolled back, acked). */
#include "consumers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "inbox.h"
#include "log.h"
#include "mail.pb-c.h"
#include "plan.h"
#include "store.h"

#define RECIPIENTS_TIMEOUT_MS 5000
#define MAX_DELIVER 100 /* with the lib's backoff (0.5 s doubling to 30 s): about 50 minutes */

/* Events that call for a mail. The recipients and variables come from the owning service.
 * (ORG-3's org_validated mail arrives as a command: identity knows the administrators.) */
const struct consumers_route consumers_routes[] = {
    {"catalog.version.published", "version_published"},     /* VER-5, VER-9 */
    {"catalog.version.unpublished", "version_unpublished"}, /* VER-9 */
    {"catalog.product.unpublished", "product_unpublished"}, /* PROD-8 */
    {"catalog.review.approved", "review_approved"},         /* PUB-4 */
    {"catalog.review.rejected", "review_rejected"},         /* PUB-4 */
};
const size_t consumers_routes_count = sizeof consumers_routes / sizeof consumers_routes[0];

/* Checks the request and inserts its rows in the consumer's transaction. */
static err_code enqueue(struct notifier *n, PGconn *tx, const struct plan_request *r, struct err *e) {
    struct plan p;
    err_code code = plan_init(n->templates, r, clock_now(), n->cfg.retry_for_s * CLOCK_SECOND, &p, e);
    if (code != ERR_OK)
        return code;
    size_t inserted = 0;
    for (size_t i = 0; i < p.n && code == ERR_OK; i++) {
        bool fresh = false;
        code = store_insert_mail(tx, &p.mails[i].row, &fresh, e);
        inserted += fresh;
    }
    if (code == ERR_OK && inserted == p.n)
        log_info("%s: %zu mail(s) queued for %s", r->template_name, inserted, r->event_key);
    else if (code == ERR_OK)
        log_info("%s: %zu mail(s) queued for %s, %zu already in the ledger (not sent again)", r->template_name,
                 inserted, r->event_key, p.n - inserted);
    plan_cleanup(&p);
    return code;
}

err_code consumers_on_command(const struct events_msg *m, struct err *e) {
    struct notifier *n = m->worker->app;
    const Mkt__Event *ev = m->event;
    err_code code = ERR_OK;
    struct plan_recipient *rcpts = NULL;
    const char **names = NULL, **values = NULL;
    Mkt__Mail__Command *cmd = mkt__mail__command__unpack(NULL, ev->payload.len, ev->payload.data);
    if (!cmd) {
        code = err_set(e, ERR_INVALID, "mail command %s: undecodable payload", ev->id);
        goto done;
    }
    rcpts = calloc(cmd->n_recipients ? cmd->n_recipients : 1, sizeof *rcpts);
    names = calloc(cmd->n_vars ? cmd->n_vars : 1, sizeof *names);
    values = calloc(cmd->n_vars ? cmd->n_vars : 1, sizeof *values);
    if (!rcpts || !names || !values) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < cmd->n_recipients; i++)
        rcpts[i] = (struct plan_recipient){cmd->recipients[i]->address, cmd->recipients[i]->name,
                                           cmd->recipients[i]->language};
    for (size_t i = 0; i < cmd->n_vars; i++) {
        names[i] = cmd->vars[i]->key;
        values[i] = cmd->vars[i]->value;
    }
    struct plan_request r = {
        .template_name = cmd->template_,
        .recipients = rcpts,
        .n_recipients = cmd->n_recipients,
        .var_names = names,
        .var_values = values,
        .n_vars = cmd->n_vars,
        .event_key = cmd->idempotency_key && *cmd->idempotency_key ? cmd->idempotency_key : ev->id,
        .event_id = ev->id,
        .event_type = ev->type,
        .organization_id = ev->organization_id,
        .correlation_id = ev->correlation_id,
        .skip_bad_recipients = false,
    };
    code = enqueue(n, m->tx, &r, e);
    if (code == ERR_INVALID)
        err_wrap(e, "mail command %s on %s", ev->id, m->subject);
done:
    free(rcpts);
    free(names);
    free(values);
    if (cmd)
        mkt__mail__command__free_unpacked(cmd, NULL);
    return code;
}

static const struct consumers_route *route_of(const char *type) {
    for (size_t i = 0; type && i < consumers_routes_count; i++)
        if (strcmp(consumers_routes[i].event_type, type) == 0)
            return &consumers_routes[i];
    return NULL;
}

/* The inbox claim and the ledger rows, in one transaction of our own (the RPC is over). */
static err_code enqueue_once(struct notifier *n, PGconn *db, const char *durable, const char *event_id,
                             const struct plan_request *r, struct err *e) {
    err_code code = db_begin(db, e);
    if (code != ERR_OK)
        return code;
    code = inbox_claim(db, durable, event_id, e);
    if (code == ERR_CONFLICT) { /* already processed: a redelivery */
        db_rollback(db);
        return ERR_OK;
    }
    if (code == ERR_OK)
        code = enqueue(n, db, r, e);
    if (code == ERR_OK)
        code = db_commit(db, e);
    if (code != ERR_OK)
        db_rollback(db);
    return code;
}

err_code consumers_on_event(const struct events_msg *m, struct err *e) {
    struct notifier *n = m->worker->app;
    const Mkt__Event *ev = m->event;
    const char *type = ev->type && *ev->type ? ev->type : m->subject + strlen(EVENTS_SUBJECT_PREFIX);
    const struct consumers_route *route = route_of(type);
    err_code code = ERR_OK;
    Mkt__Mail__RecipientsReply *reply = NULL;
    struct plan_recipient *rcpts = NULL;
    const char **names = NULL, **values = NULL;
    if (!route) {
        log_warn("event %s of type %s: no mail for it (not routed)", ev->id, type);
        goto done;
    }
    /* durables[0] is the MAIL consumer, durables[1] the EVENTS one (consumers_start). */
    const char *durable = n->durables[1];
    bool seen = false;
    if ((code = inbox_seen(m->worker->db, durable, ev->id, &seen, e)) != ERR_OK)
        goto done;
    if (seen) /* a redelivery of a processed event: no need to ask the owner again */
        goto done;
    char owner[32];
    snprintf(owner, sizeof owner, "%.*s", (int)strcspn(type, "."), type);
    Mkt__Mail__RecipientsRequest req = MKT__MAIL__RECIPIENTS_REQUEST__INIT;
    req.event = (Mkt__Event *)ev;
    req.template_ = (char *)route->template_name;
    struct bus_ctx ctx = {.request_id = ev->correlation_id};
    code = bus_call(n->svc->bus, owner, "mail_recipients", &ctx, &req.base, &mkt__mail__recipients_reply__descriptor,
                    (ProtobufCMessage **)&reply, RECIPIENTS_TIMEOUT_MS, e);
    if (code == ERR_NOT_FOUND) {
        log_warn("event %s (%s): %s.mail_recipients found nothing to notify: %s", ev->id, type, owner, e->msg);
        code = ERR_OK;
        goto done;
    }
    if (code != ERR_OK) {
        err_wrap(e, "recipients of %s %s", type, ev->id);
        goto done;
    }
    rcpts = calloc(reply->n_recipients ? reply->n_recipients : 1, sizeof *rcpts);
    names = calloc(reply->n_vars ? reply->n_vars : 1, sizeof *names);
    values = calloc(reply->n_vars ? reply->n_vars : 1, sizeof *values);
    if (!rcpts || !names || !values) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < reply->n_recipients; i++)
        rcpts[i] = (struct plan_recipient){reply->recipients[i]->address, reply->recipients[i]->name,
                                           reply->recipients[i]->language};
    for (size_t i = 0; i < reply->n_vars; i++) {
        names[i] = reply->vars[i]->key;
        values[i] = reply->vars[i]->value;
    }
    struct plan_request r = {
        .template_name = route->template_name,
        .recipients = rcpts,
        .n_recipients = reply->n_recipients,
        .var_names = names,
        .var_values = values,
        .n_vars = reply->n_vars,
        .event_key = ev->id,
        .event_id = ev->id,
        .event_type = type,
        .organization_id = ev->organization_id,
        .correlation_id = ev->correlation_id,
        .skip_bad_recipients = true, /* one bad address in the owner's data must not block the others */
    };
    code = enqueue_once(n, m->worker->db, durable, ev->id, &r, e);
    if (code == ERR_INVALID)
        err_wrap(e, "event %s (%s)", ev->id, type);
done:
    free(rcpts);
    free(names);
    free(values);
    if (reply)
        mkt__mail__recipients_reply__free_unpacked(reply, NULL);
    return code;
}

err_code consumers_start(struct notifier *n, struct err *e) {
    snprintf(n->durables[0], sizeof n->durables[0], "%s-mail", n->cfg.consumer_name);
    snprintf(n->filters[0], sizeof n->filters[0], "%s", n->cfg.mail_subjects);
    struct events_consumer_spec mail = {
        .stream = "MAIL",
        .durable = n->durables[0],
        .filter = n->filters[0],
        .fn = consumers_on_command,
        .inbox = true,
        .max_deliver = MAX_DELIVER,
    };
    err_code code = svc_consume(n->svc, &mail, e);
    if (code != ERR_OK || !n->cfg.consume_events)
        return code;
    /* One durable for every routed event type: its filter is the narrowest subject covering the
     * routes (mkt.evt.catalog.>); other types under it are acknowledged without effect. */
    if (consumers_routes_count > NOTIFIER_MAX_ROUTES)
        return err_set(e, ERR_INTERNAL, "notifier: %zu event routes, at most %d", consumers_routes_count,
                       NOTIFIER_MAX_ROUTES);
    for (size_t i = 0; i < consumers_routes_count; i++)
        n->event_routes[i] = (struct events_route){consumers_routes[i].event_type, consumers_on_event};
    snprintf(n->durables[1], sizeof n->durables[1], "%s-events", n->cfg.consumer_name);
    struct events_consumer_spec events = {
        .stream = "EVENTS",
        .durable = n->durables[1],
        .routes = n->event_routes,
        .n_routes = consumers_routes_count,
        .inbox = false, /* the function claims the inbox itself, after the RPC */
        .max_deliver = MAX_DELIVER,
    };
    return svc_consume(n->svc, &events, e);
}
