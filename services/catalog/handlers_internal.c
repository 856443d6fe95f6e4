/* The catalog's internal methods, for the platform's services (no actor): product_codes (the
 * organization's OMI product codes, for identity's test of an OUTSCALE account, PUB-5) and
 * catalog.mail_recipients: who the notifier writes to about a catalog event, with the template's
 * variables (MAIL-1: each recipient in their own language). Review outcomes go to the seller's
 * administrators (PUB-4), asked of identity; version and product mails go to subscribers and
 * their organizations' administrators (VER-5, VER-9, PROD-8), which come with subscriptions (the
 * buyer side): until then there is nobody to tell (NOT_FOUND, which the notifier acks). Called by
 * the notifier outside any transaction; this handler opens none either. */
#include <string.h>

#include "handlers.h"
#include "id.h"
#include "identity.pb-c.h"
#include "mail.pb-c.h"
#include "store.h"

#define IDENTITY_TIMEOUT_MS 5000

static const char *text_of(const Mkt__Catalog__Text *t) {
    if (t && t->en && *t->en)
        return t->en;
    return t && t->fr ? t->fr : "";
}

static err_code review_recipients(struct bus_call *call, const Mkt__Event *ev, struct err *e) {
    Mkt__Catalog__ReviewEvent *r =
        mkt__catalog__review_event__unpack(NULL, ev->payload.len, ev->payload.data);
    Mkt__Catalog__Product *product = NULL;
    ProtobufCMessage *admins = NULL;
    err_code code = ERR_OK;
    if (!r) {
        code = err_set(e, ERR_INVALID, "event %s: not a catalog.ReviewEvent", ev->id);
        goto done;
    }
    if ((code = store_product_get_any(call->worker->db, r->product_id, false, &product, e)) != ERR_OK)
        goto done;
    Mkt__Identity__IdRequest req = MKT__IDENTITY__ID_REQUEST__INIT;
    req.id = r->organization_id;
    struct bus_ctx ctx = {.request_id = call->req->request_id}; /* a service call: no actor */
    if ((code = bus_call(handlers_app(call)->svc->bus, "identity", "organization_admins", &ctx, &req.base,
                         &mkt__mail__recipients_reply__descriptor, &admins, IDENTITY_TIMEOUT_MS, e)) != ERR_OK)
        goto done;
    Mkt__Mail__RecipientsReply *rep = (Mkt__Mail__RecipientsReply *)admins;
    Mkt__Mail__RecipientsReply__VarsEntry v[3] = {MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT,
                                                  MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT,
                                                  MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT};
    v[0].key = "product_name", v[0].value = (char *)text_of(product->name);
    v[1].key = "product_id", v[1].value = product->id;
    v[2].key = "comment", v[2].value = r->comment && *r->comment ? r->comment : "-";
    Mkt__Mail__RecipientsReply__VarsEntry *vars[] = {&v[0], &v[1], &v[2]};
    rep->n_vars = 3;
    rep->vars = vars;
    bus_reply(call, &rep->base);
    rep->n_vars = 0; /* the entries are on this stack */
    rep->vars = NULL;
done:
    handlers_free(admins);
    handlers_free(product);
    if (r)
        mkt__catalog__review_event__free_unpacked(r, NULL);
    return code;
}

err_code handlers_product_codes(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    if (call->req->actor)
        return err_set(e, ERR_FORBIDDEN, "product_codes is for the platform's services");
    if (!id_is_uuid(in->id))
        return err_set(e, ERR_INVALID, "field 'id': must be an organization id");
    Mkt__Catalog__ProductCode **rows = NULL;
    size_t n = 0;
    err_code code = store_product_codes(call->worker->db, in->id, &rows, &n, e);
    if (code == ERR_OK) {
        Mkt__Catalog__ProductCodeList rep = MKT__CATALOG__PRODUCT_CODE_LIST__INIT;
        rep.n_products = n;
        rep.products = rows;
        bus_reply(call, &rep.base);
    }
    store_messages_free((ProtobufCMessage **)rows, n);
    return code;
}

err_code handlers_mail_recipients(struct bus_call *call, struct err *e) {
    const Mkt__Mail__RecipientsRequest *in = (const Mkt__Mail__RecipientsRequest *)call->in;
    if (call->req->actor)
        return err_set(e, ERR_FORBIDDEN, "mail_recipients is for the notifier");
    if (!in->event || !in->template_)
        return err_set(e, ERR_INVALID, "mail_recipients: event and template required");
    if (strcmp(in->template_, "review_approved") == 0 || strcmp(in->template_, "review_rejected") == 0)
        return review_recipients(call, in->event, e);
    return err_set(e, ERR_NOT_FOUND, "%s: no subscribers to tell yet (subscriptions are the buyer side)",
                   in->template_);
}
